/* fuzz_blocklist.c - libFuzzer target for feed parsing, the safety check,
 * compiling and `blocklist test`. A first byte 0..7 picks the format (0 =
 * auto) and the rest is the feed; any other first byte: auto over it all
 * (so the fixtures are seeds as they are). Never crash or
 * leak; entries sorted and unique; problem lines within the input; no
 * reserved range survives the safety check; compiled arrays sorted and
 * unique; every entry found by the lookup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "blocklist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count_hit(void *ctx, size_t list_index, const struct seg_bl_entry *e,
		      bool excepted)
{
	(void)list_index;
	(void)e;
	(void)excepted;
	(*(size_t *)ctx)++;
}

static void check_parsed(const struct seg_blocklist *bl, size_t lines)
{
	for (size_t i = 1; i < bl->n_entries; i++) {
		const struct seg_cidr *a = &bl->entries[i - 1].cidr,
				      *b = &bl->entries[i].cidr;
		int d = memcmp(&a->addr, &b->addr, 16);

		if (d > 0 || (!d && a->plen >= b->plen))
			abort();
	}
	for (size_t i = 0; i < bl->n_entries; i++)
		if (bl->entries[i].cidr.plen > 128 || !bl->entries[i].line ||
		    bl->entries[i].line > lines)
			abort();
	for (size_t i = 1; i < bl->n_domains; i++)
		if (strcmp(bl->domains[i - 1], bl->domains[i]) >= 0)
			abort();
	if (bl->n_problems > SEG_BL_MAX_PROBLEMS ||
	    bl->n_problems > bl->n_problems_total)
		abort();
	for (size_t i = 0; i < bl->n_problems; i++)
		if (!bl->problems[i].line || bl->problems[i].line > lines ||
		    !bl->problems[i].why[0])
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_blocklist lists[2];
	struct seg_bl_compiled out;
	struct seg_bl_safety sf = { 0 };
	struct in6_addr node;
	struct seg_cidr allowed, exc;
	enum seg_bl_format f = SEG_BL_FMT_AUTO;
	const char *text = (const char *)data;
	size_t len = size, lines = 1, hits;

	if (size && data[0] <= SEG_BL_FMT_FALCO_YAML) {
		f = (enum seg_bl_format)data[0];
		text++;
		len--;
	}
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	memset(lists, 0, sizeof(lists));
	if (seg_blocklist_parse(text, len, "fuzz", f, &lists[0], NULL))
		return 0;
	check_parsed(&lists[0], lines);
	seg_addr_parse("198.51.100.7", &node);
	seg_cidr_parse("10.1.0.0/16", &allowed, NULL);
	seg_cidr_parse("203.0.113.0/25", &exc, NULL);
	sf.node_addrs = &node;
	sf.n_node_addrs = 1;
	sf.allowed = &allowed;
	sf.n_allowed = 1;
	seg_blocklist_apply_safety(&lists[0], &sf);
	check_parsed(&lists[0], lines);
	for (size_t i = 0; i < seg_bl_reserved_count(); i++) {
		struct seg_cidr r;

		seg_bl_reserved(i, &r, NULL);
		for (size_t k = 0; k < lists[0].n_entries; k++) {
			const struct seg_cidr *e = &lists[0].entries[k].cidr;

			if ((seg_cidr_contains(&r, e) || seg_cidr_contains(e, &r)) &&
			    !seg_cidr_contains(&allowed, e))
				abort();
		}
	}
	lists[0].action = SEGD_BL_AUDIT;
	lists[0].category = SEGD_BL_CUSTOM;
	/* the same feed again as a drop list: every key collides */
	if (seg_blocklist_parse(text, len, "fuzz", f, &lists[1], NULL))
		abort();
	seg_blocklist_apply_safety(&lists[1], &sf);
	lists[1].action = SEGD_BL_DROP;
	lists[1].category = SEGD_BL_C2;
	if (seg_blocklists_compile(lists, 2, &exc, 1, &out, NULL))
		abort();
	for (size_t i = 1; i < out.n_exact; i++)
		if (memcmp(&out.exact[i - 1].addr, &out.exact[i].addr, 16) >= 0)
			abort();
	for (size_t i = 1; i < out.n_prefixes; i++)
		if (memcmp(&out.prefixes[i - 1].key, &out.prefixes[i].key,
			   sizeof(struct segd_lpm_key)) >= 0)
			abort();
	for (size_t i = 0; i < out.n_exact; i++)
		if (out.exact[i].value.action != SEGD_BL_DROP)
			abort();        /* drop beats audit */
	for (size_t k = 0; k < lists[0].n_entries && k < 64; k++) {
		hits = 0;
		seg_blocklists_test(lists, 2, &exc, 1, &lists[0].entries[k].cidr.addr,
				    count_hit, &hits);
		if (hits != 2)
			abort();
	}
	seg_bl_compiled_free(&out);
	seg_blocklist_free(&lists[0]);
	seg_blocklist_free(&lists[1]);
	return 0;
}
