/* test_blocklist_compile.c - the safety check, merging lists into map
 * content, and `blocklist test IP`. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blocklist.h"

static void parse(const char *text, enum segd_bl_action action,
		  struct seg_blocklist *bl)
{
	struct seg_error err = { 0 };

	memset(bl, 0, sizeof(*bl));
	cr_assert_eq(seg_blocklist_parse(text, strlen(text), NULL,
					 SEG_BL_FMT_PLAIN, bl, &err), 0, "%s",
		     err.msg);
	cr_assert_eq(bl->n_problems_total, 0, "'%s': %s", text,
		     bl->n_problems ? bl->problems[0].why : "");
	bl->action = action;
	bl->category = SEGD_BL_C2;
}

static size_t addrs(const char (*text)[40], size_t max, struct in6_addr *out)
{
	size_t n = 0;

	for (size_t i = 0; i < max && text[i][0]; i++, n++)
		cr_assert_eq(seg_addr_parse(text[i], &out[n]), 0, "%s", text[i]);
	return n;
}

static size_t cidrs(const char (*text)[40], size_t max, struct seg_cidr *out)
{
	size_t n = 0;

	for (size_t i = 0; i < max && text[i][0]; i++, n++)
		cr_assert_eq(seg_cidr_parse(text[i], &out[n], NULL), 0, "%s", text[i]);
	return n;
}

/* ---- safety ---------------------------------------------------------------- */

struct safety_case {
	char name[40];
	char text[160];
	char node[2][40];
	char eps[2][40];
	char allowed[2][40];
	size_t kept;
	char why[40];          /* in the first refusal's message */
};

static const struct safety_case safeties[] = {
	{ "public and private", "8.8.8.8\n10.0.0.0/8\n", {""}, {""}, {""}, 1, "RFC 1918" },
	{ "everything", "0.0.0.0/0\n", {""}, {""}, {""}, 0, "'this network'" },
	{ "all of IPv6", "::/0\n", {""}, {""}, {""}, 0, "" },
	{ "IPv4 reserved", "172.16.5.0/24\n192.168.1.1\n127.0.0.1\n169.254.1.1\n"
	  "224.0.0.1\n100.64.1.1\n0.1.2.3\n255.255.255.255\n", {""}, {""}, {""}, 0,
	  "" },
	{ "IPv6 reserved", "fc00::/7\nfd12::1\nfe80::1\nff02::1\n::1\n::\n"
	  "2001:db8::1\n", {""}, {""}, {""}, 1, "" },
	{ "mapped IPv4 spelling", "::ffff:10.0.0.1\n", {""}, {""}, {""}, 0, "RFC 1918" },
	{ "adjacent is fine", "8.0.0.0/7\n11.0.0.0/8\n172.32.0.0/11\n", {""},
	  {""}, {""}, 3, "" },
	{ "covering a range", "10.0.0.0/7\n", {""}, {""}, {""}, 0, "RFC 1918" },
	{ "allowed inside", "10.1.2.3\n10.1.0.0/16\n10.0.0.0/8\n", {""}, {""},
	  { "10.1.0.0/16" }, 2, "RFC 1918" },
	{ "allowed v6", "fd00:1::/32\nfd00:2::1\n", {""}, {""}, { "fd00:1::/32" },
	  1, "RFC 4193" },
	{ "node address", "198.51.100.0/24\n198.51.100.8\n", { "198.51.100.7" },
	  {""}, {""}, 1, "this node's address 198.51.100.7" },
	{ "allowed never covers the node", "198.51.100.0/24\n", { "198.51.100.7" },
	  {""}, { "198.51.100.0/24" }, 0, "node" },
	{ "endpoint v6", "2001:db8::/32\n2001:db9::/48\n", {""}, { "2001:db8::5" },
	  {""}, 1, "an endpoint's address 2001:db8::5" },
	{ "endpoint exact", "203.0.113.9\n203.0.113.10\n", {""},
	  { "203.0.113.1", "203.0.113.9" }, {""}, 1, "endpoint" },
	{ "global unicast ok", "2000::/3\n1.0.0.0/8\n", {""}, {""}, {""}, 2, "" },
};

ParameterizedTestParameters(blocklist_safety, table)
{
	return cr_make_param_array(struct safety_case, safeties,
				   sizeof(safeties) / sizeof(safeties[0]));
}

ParameterizedTest(struct safety_case *c, blocklist_safety, table)
{
	struct in6_addr node[2], eps[2];
	struct seg_cidr allowed[2];
	struct seg_bl_safety sf = { 0 };
	struct seg_blocklist bl;
	size_t before;

	sf.node_addrs = node;
	sf.n_node_addrs = addrs(c->node, 2, node);
	sf.ep_addrs = eps;
	sf.n_ep_addrs = addrs(c->eps, 2, eps);
	sf.allowed = allowed;
	sf.n_allowed = cidrs(c->allowed, 2, allowed);
	parse(c->text, SEGD_BL_DROP, &bl);
	before = bl.n_entries;
	seg_blocklist_apply_safety(&bl, &sf);
	cr_assert_eq(bl.n_entries, c->kept, "%s: %zu kept", c->name, bl.n_entries);
	cr_assert_eq(bl.n_problems_total, before - c->kept, "%s", c->name);
	for (size_t i = 1; i < bl.n_problems; i++)
		cr_assert_leq(bl.problems[i - 1].line, bl.problems[i].line);
	if (c->why[0])
		cr_assert(strstr(bl.problems[0].why, c->why), "%s: %s", c->name,
			  bl.problems[0].why);
	seg_blocklist_free(&bl);
}

Test(blocklist_safety, reserved_table_parses)
{
	struct seg_cidr c;
	const char *what;

	cr_assert_geq(seg_bl_reserved_count(), 13);
	for (size_t i = 0; i < seg_bl_reserved_count(); i++) {
		cr_assert_eq(seg_bl_reserved(i, &c, &what), 0);
		cr_assert(what[0]);
	}
	cr_assert_eq(seg_bl_reserved(seg_bl_reserved_count(), &c, &what), -ENOENT);
}

/* ---- compile ---------------------------------------------------------------- */

struct compile_case {
	char name[40];
	char lists[3][96];
	int actions[3];         /* SEGD_BL_DROP / SEGD_BL_AUDIT */
	char exc[2][40];
	size_t n_exact, n_prefixes, n_except;
	char probe[40];         /* a key to look up in the result: an address
				 * (exact) or a CIDR (prefix) */
	int list_id;            /* 0 = must be absent */
	int action;
};

#define D SEGD_BL_DROP
#define A SEGD_BL_AUDIT

static const struct compile_case compiles[] = {
	{ "one list", { "1.2.3.4\n1.2.0.0/16\n" }, { D }, {""}, 1, 1, 0,
	  "1.2.3.4", 1, D },
	{ "prefix key", { "1.2.3.4\n1.2.0.0/16\n" }, { D }, {""}, 1, 1, 0,
	  "1.2.0.0/16", 1, D },
	{ "same key, lower id", { "1.2.3.4\n", "1.2.3.4\n" }, { D, D }, {""},
	  1, 0, 0, "1.2.3.4", 1, D },
	{ "drop beats audit", { "1.2.3.4\n", "1.2.3.4\n" }, { A, D }, {""},
	  1, 0, 0, "1.2.3.4", 2, D },
	{ "drop beats audit, prefix", { "1.2.0.0/16\n", "5.0.0.0/8\n1.2.0.0/16\n" },
	  { A, D }, {""}, 0, 2, 0, "1.2.0.0/16", 2, D },
	{ "audit exact under drop prefix", { "1.2.3.4\n", "1.2.0.0/16\n" },
	  { A, D }, {""}, 0, 1, 0, "1.2.3.4", 0, 0 },
	{ "audit prefix under drop prefix", { "1.2.3.0/24\n", "1.2.0.0/16\n" },
	  { A, D }, {""}, 0, 1, 0, "1.2.3.0/24", 0, 0 },
	{ "drop under audit stays", { "1.2.3.0/24\n", "1.2.0.0/16\n" },
	  { D, A }, {""}, 0, 2, 0, "1.2.3.0/24", 1, D },
	{ "audit alone", { "1.2.3.4\n" }, { A }, {""}, 1, 0, 0, "1.2.3.4", 1, A },
	{ "excepted entries left out", { "1.2.3.4\n1.2.0.0/16\n1.2.3.0/25\n" },
	  { D }, { "1.2.3.0/24" }, 0, 1, 1, "1.2.3.4", 0, 0 },
	{ "exception partly inside", { "1.2.0.0/16\n" }, { D }, { "1.2.3.0/24" },
	  0, 1, 1, "1.2.0.0/16", 1, D },
	{ "duplicate exceptions", { "8.8.8.8\n" }, { D },
	  { "1.2.3.0/24", "1.2.3.0/24" }, 1, 0, 1, "8.8.8.8", 1, D },
	{ "IPv6", { "2001:db8::1\n2001:db8::/32\n" }, { D }, {""}, 1, 1, 0,
	  "2001:db8::1", 1, D },
	{ "IPv6 prefix", { "2001:db8::1\n2001:db8::/32\n" }, { D }, {""}, 1, 1, 0,
	  "2001:db8::/32", 1, D },
	{ "third list", { "9.9.9.9\n", "8.8.8.8\n", "7.7.7.0/24\n" }, { D, A, D },
	  {""}, 2, 1, 0, "7.7.7.0/24", 3, D },
	{ "empty", { "" }, { D }, {""}, 0, 0, 0, "1.2.3.4", 0, 0 },
};

ParameterizedTestParameters(blocklist_compile, table)
{
	return cr_make_param_array(struct compile_case, compiles,
				   sizeof(compiles) / sizeof(compiles[0]));
}

static const struct segd_bl_value *probe(const struct seg_bl_compiled *out,
					 const char *what)
{
	struct seg_cidr c;

	cr_assert_eq(seg_cidr_parse(what, &c, NULL), 0);
	if (!strchr(what, '/')) {
		for (size_t i = 0; i < out->n_exact; i++)
			if (!memcmp(out->exact[i].addr.b, c.addr.s6_addr, 16))
				return &out->exact[i].value;
		return NULL;
	}
	for (size_t i = 0; i < out->n_prefixes; i++)
		if (out->prefixes[i].key.prefixlen == c.plen &&
		    !memcmp(out->prefixes[i].key.addr, c.addr.s6_addr, 16))
			return &out->prefixes[i].value;
	return NULL;
}

static void check_sorted(const struct seg_bl_compiled *o)
{
	for (size_t i = 1; i < o->n_exact; i++)
		cr_assert_lt(memcmp(&o->exact[i - 1].addr, &o->exact[i].addr, 16), 0);
	for (size_t i = 1; i < o->n_prefixes; i++)
		cr_assert_lt(memcmp(&o->prefixes[i - 1].key, &o->prefixes[i].key,
				    sizeof(struct segd_lpm_key)), 0);
	for (size_t i = 1; i < o->n_except; i++)
		cr_assert_lt(memcmp(&o->except[i - 1], &o->except[i],
				    sizeof(struct segd_lpm_key)), 0);
}

ParameterizedTest(struct compile_case *c, blocklist_compile, table)
{
	struct seg_blocklist lists[3];
	struct seg_cidr exc[2];
	struct seg_bl_compiled out, again;
	struct seg_error err = { 0 };
	const struct segd_bl_value *v;
	size_t n = 0, ne;

	for (; n < 3 && c->actions[n]; n++)
		parse(c->lists[n], (enum segd_bl_action)c->actions[n], &lists[n]);
	ne = cidrs(c->exc, 2, exc);
	cr_assert_eq(seg_blocklists_compile(lists, n, exc, ne, &out, &err), 0,
		     "%s: %s", c->name, err.msg);
	cr_assert_eq(out.n_exact, c->n_exact, "%s: %zu exact", c->name, out.n_exact);
	cr_assert_eq(out.n_prefixes, c->n_prefixes, "%s: %zu prefixes", c->name,
		     out.n_prefixes);
	cr_assert_eq(out.n_except, c->n_except, "%s: %zu except", c->name,
		     out.n_except);
	check_sorted(&out);
	v = probe(&out, c->probe);
	if (!c->list_id) {
		cr_assert_null(v, "%s: %s absent", c->name, c->probe);
	} else {
		cr_assert_not_null(v, "%s: %s present", c->name, c->probe);
		cr_assert_eq(v->list_id, c->list_id, "%s: list %u", c->name,
			     v->list_id);
		cr_assert_eq(v->action, c->action, "%s", c->name);
		cr_assert_eq(v->category, SEGD_BL_C2);
	}
	/* deterministic */
	cr_assert_eq(seg_blocklists_compile(lists, n, exc, ne, &again, &err), 0);
	cr_assert_eq(again.n_exact, out.n_exact);
	cr_assert_eq(again.n_prefixes, out.n_prefixes);
	cr_assert(!out.n_exact || !memcmp(out.exact, again.exact,
					  out.n_exact * sizeof(*out.exact)));
	cr_assert(!out.n_prefixes || !memcmp(out.prefixes, again.prefixes,
					     out.n_prefixes * sizeof(*out.prefixes)));
	seg_bl_compiled_free(&again);
	seg_bl_compiled_free(&out);
	for (size_t i = 0; i < n; i++)
		seg_blocklist_free(&lists[i]);
}

Test(blocklist_compile, v4_exact_is_mapped_128)
{
	struct seg_blocklist bl;
	struct seg_bl_compiled out;
	const uint8_t want[16] = { [10] = 0xff, [11] = 0xff, 1, 2, 3, 4 };

	parse("1.2.3.4\n1.2.3.0/24\n", SEGD_BL_DROP, &bl);
	cr_assert_eq(seg_blocklists_compile(&bl, 1, NULL, 0, &out, NULL), 0);
	cr_assert_eq(out.n_exact, 1);
	cr_assert_eq(memcmp(out.exact[0].addr.b, want, 16), 0);
	cr_assert_eq(out.prefixes[0].key.prefixlen, 96 + 24);
	seg_bl_compiled_free(&out);
	seg_blocklist_free(&bl);
}

Test(blocklist_compile, capacities)
{
	struct seg_blocklist bl = { .action = SEGD_BL_DROP, .category = SEGD_BL_MINER };
	struct seg_blocklist many[SEGD_MAX_BLOCKLISTS];
	struct seg_bl_compiled out;
	struct seg_error err = { 0 };
	size_t n = SEGD_MAX_BL_PREFIXES + 1;

	bl.entries = calloc(n, sizeof(*bl.entries));
	cr_assert(bl.entries);
	for (size_t i = 0; i < n; i++) {       /* distinct /120s (v4 /24s) */
		bl.entries[i].cidr.addr.s6_addr[10] = 0xff;
		bl.entries[i].cidr.addr.s6_addr[11] = 0xff;
		bl.entries[i].cidr.addr.s6_addr[12] = (uint8_t)(1 + (i >> 16));
		bl.entries[i].cidr.addr.s6_addr[13] = (uint8_t)(i >> 8);
		bl.entries[i].cidr.addr.s6_addr[14] = (uint8_t)i;
		bl.entries[i].cidr.plen = 120;
	}
	bl.n_entries = n;
	cr_assert_eq(seg_blocklists_compile(&bl, 1, NULL, 0, &out, &err), -E2BIG);
	cr_assert(strstr(err.msg, "at most"), "%s", err.msg);
	cr_assert_null(out.prefixes);
	bl.n_entries = n - 1;
	cr_assert_eq(seg_blocklists_compile(&bl, 1, NULL, 0, &out, &err), 0);
	cr_assert_eq(out.n_prefixes, n - 1);
	seg_bl_compiled_free(&out);
	free(bl.entries);

	memset(many, 0, sizeof(many));
	for (size_t i = 0; i < SEGD_MAX_BLOCKLISTS; i++) {
		many[i].action = SEGD_BL_DROP;
		many[i].category = SEGD_BL_CUSTOM;
	}
	cr_assert_eq(seg_blocklists_compile(many, SEGD_MAX_BLOCKLISTS, NULL, 0,
					    &out, &err), -E2BIG);
	cr_assert_eq(seg_blocklists_compile(many, SEGD_MAX_BLOCKLISTS - 1, NULL, 0,
					    &out, &err), 0);
	seg_bl_compiled_free(&out);
	many[3].action = 0;
	cr_assert_eq(seg_blocklists_compile(many, 4, NULL, 0, &out, &err), -EINVAL);
	cr_assert(strstr(err.msg, "list 4"), "%s", err.msg);
}

/* ---- the IPv4 views (segd_bl_net24, segd_bl_net16) -------------------------- */

struct view_case {
	char name[40];
	char lists[3][64];      /* all drop lists, ids 1.. */
	size_t n24, n16;        /* /24 keys, filled /16 slots */
	char probe[3][20];      /* IPv4 addresses ... */
	int list_id[3];         /* ... and the list the views give (0: none) */
};

static const struct view_case views[] = {
	{ "/24", { "1.2.3.0/24\n" }, 1, 0, { "1.2.3.9", "1.2.4.9" }, { 1, 0 } },
	{ "/20", { "1.2.16.0/20\n" }, 16, 0, { "1.2.31.1", "1.2.32.1",
	  "1.2.15.255" }, { 1, 0, 0 } },
	{ "/17: the most a prefix takes", { "1.2.128.0/17\n" }, 128, 0,
	  { "1.2.255.1", "1.2.127.1" }, { 1, 0 } },
	{ "/16: the /16 view", { "1.2.0.0/16\n" }, 0, 1, { "1.2.200.1",
	  "1.3.0.1" }, { 1, 0 } },
	{ "/12", { "16.0.0.0/12\n" }, 0, 16, { "16.15.1.1", "16.16.1.1" },
	  { 1, 0 } },
	{ "/0 and a /24 in it", { "0.0.0.0/0\n", "9.9.9.0/24\n" }, 1, 65536,
	  { "8.8.8.8", "9.9.9.9" }, { 1, 2 } },
	{ "longest wins across lists", { "1.2.0.0/16\n", "1.2.16.0/20\n",
	  "1.2.17.0/24\n" }, 16, 1, { "1.2.17.5", "1.2.18.5", "1.2.99.5" },
	  { 3, 2, 1 } },
	{ "/20s nested in a /17", { "1.2.128.0/17\n", "1.2.144.0/20\n" }, 128,
	  0, { "1.2.150.1", "1.2.130.1", "1.2.160.1" }, { 2, 1, 1 } },
	{ "/25 and longer: the trie only", { "1.2.3.128/25\n1.2.4.0/30\n" }, 0,
	  0, { "1.2.3.200", "1.2.4.1" }, { 0, 0 } },
	{ "IPv6: the trie only", { "2001:db8::/32\n" }, 0, 0, { "1.2.3.4" },
	  { 0 } },
};

ParameterizedTestParameters(blocklist_views, table)
{
	return cr_make_param_array(struct view_case, views,
				   sizeof(views) / sizeof(views[0]));
}

ParameterizedTest(struct view_case *c, blocklist_views, table)
{
	static struct segd_bl_value n16[SEGD_BL_NET16_SLOTS];
	static struct seg_bl_net24_plan plan;
	struct seg_blocklist lists[3];
	struct seg_bl_compiled out;
	struct seg_bl_net24_iter it;
	struct segd_bl_value v;
	size_t n = 0, n24 = 0, used = 0;
	uint32_t key, last = 0;

	for (; n < 3 && c->lists[n][0]; n++)
		parse(c->lists[n], SEGD_BL_DROP, &lists[n]);
	cr_assert_eq(seg_blocklists_compile(lists, n, NULL, 0, &out, NULL), 0);
	cr_assert_eq(seg_bl_net16_fill(out.prefixes, out.n_prefixes, n16), 0);
	for (size_t i = 0; i < SEGD_BL_NET16_SLOTS; i++)
		used += n16[i].list_id != 0;
	cr_expect_eq(used, c->n16, "%s: %zu /16 slots", c->name, used);
	cr_assert_eq(seg_bl_net24_plan(out.prefixes, out.n_prefixes,
				       SEGD_MAX_BL_NET24, &plan), 0);
	n24 = plan.n_keys;
	cr_expect_eq(n24, c->n24, "%s: %zu /24 keys", c->name, n24);
	cr_expect_eq(plan.n_left, 0);
	for (int p = 0; p < 3 && c->probe[p][0]; p++) {
		struct in6_addr a;
		uint32_t want;
		int got = 0;

		cr_assert_eq(seg_addr_parse(c->probe[p], &a), 0);
		want = segd_bl_net24_key(a.s6_addr + 12);
		cr_assert_eq(seg_bl_net24_init(&it, out.prefixes, out.n_prefixes,
					       &plan), 0);
		for (size_t k = 0; seg_bl_net24_next(&it, &key, &v); k++) {
			cr_assert(!k || key > last, "%s: keys out of order", c->name);
			last = key;
			if (key == want)
				got = v.list_id;
		}
		seg_bl_net24_free(&it);
		if (!got)
			got = n16[want >> 8].list_id;
		cr_expect_eq(got, c->list_id[p], "%s: %s gives list %d, want %d",
			     c->name, c->probe[p], got, c->list_id[p]);
	}
	seg_bl_compiled_free(&out);
	for (size_t i = 0; i < n; i++)
		seg_blocklist_free(&lists[i]);
}

/* Over the budget, the cheapest /16s go into the /24 view first and the
 * rest stay with the trie; nothing is refused. */
struct plan_case {
	char name[40];
	char list[96];
	size_t budget, n_keys, n_left;
	char in_view[3][20];    /* addresses whose /16 is in the view */
	char left[2][20];       /* ... and whose /16 is not */
};

static const struct plan_case plans[] = {
	{ "fits", "1.2.0.0/17\n1.3.0.0/24\n1.4.0.0/20\n", 1000, 145, 0,
	  { "1.2.0.1", "1.3.0.1", "1.4.0.1" }, { "" } },
	{ "cheapest first", "1.2.0.0/17\n1.3.0.0/24\n1.4.0.0/20\n", 20, 17, 1,
	  { "1.3.0.1", "1.4.0.1" }, { "1.2.0.1" } },
	{ "exactly full", "1.2.0.0/17\n1.3.0.0/24\n", 129, 129, 0,
	  { "1.2.0.1", "1.3.0.1" }, { "" } },
	{ "none fits", "1.2.0.0/17\n1.3.0.0/20\n", 8, 0, 2, { "" },
	  { "1.2.0.1", "1.3.0.1" } },
	{ "a /16 counts whole", "1.2.0.0/17\n1.2.128.0/24\n9.9.9.0/24\n", 128,
	  1, 1, { "9.9.9.9" }, { "1.2.128.1" } },
	{ "/16 and shorter cost nothing", "1.0.0.0/8\n1.2.0.0/16\n", 0, 0, 0,
	  { "" }, { "" } },
};

ParameterizedTestParameters(blocklist_views, plan)
{
	return cr_make_param_array(struct plan_case, plans,
				   sizeof(plans) / sizeof(plans[0]));
}

static struct segd_lpm_key key24(const char *addr)
{
	struct segd_lpm_key k = { .prefixlen = 96 + 24 };
	struct in6_addr a;

	cr_assert_eq(seg_addr_parse(addr, &a), 0);
	memcpy(k.addr, a.s6_addr, 16);
	return k;
}

ParameterizedTest(struct plan_case *c, blocklist_views, plan)
{
	static struct seg_bl_net24_plan plan;
	struct seg_blocklist bl;
	struct seg_bl_compiled out;
	struct seg_bl_net24_iter it;
	struct segd_bl_value v;
	size_t n = 0;
	uint32_t key;

	parse(c->list, SEGD_BL_DROP, &bl);
	cr_assert_eq(seg_blocklists_compile(&bl, 1, NULL, 0, &out, NULL), 0);
	cr_assert_eq(seg_bl_net24_plan(out.prefixes, out.n_prefixes, c->budget,
				       &plan), 0);
	cr_expect_eq(plan.n_keys, c->n_keys, "%s: %zu keys", c->name, plan.n_keys);
	cr_expect_eq(plan.n_left, c->n_left, "%s: %zu left", c->name, plan.n_left);
	for (int i = 0; i < 3 && c->in_view[i][0]; i++) {
		struct segd_lpm_key k = key24(c->in_view[i]);

		cr_expect(seg_bl_net24_planned(&plan, &k), "%s: %s", c->name,
			  c->in_view[i]);
	}
	for (int i = 0; i < 2 && c->left[i][0]; i++) {
		struct segd_lpm_key k = key24(c->left[i]);

		cr_expect(!seg_bl_net24_planned(&plan, &k), "%s: %s", c->name,
			  c->left[i]);
	}
	/* the planned view has exactly n_keys keys */
	cr_assert_eq(seg_bl_net24_init(&it, out.prefixes, out.n_prefixes, &plan), 0);
	while (seg_bl_net24_next(&it, &key, &v))
		n++;
	seg_bl_net24_free(&it);
	cr_expect_eq(n, c->n_keys, "%s: the view has %zu keys", c->name, n);
	seg_bl_compiled_free(&out);
	seg_blocklist_free(&bl);
}

/* 8,193 /17s: 4,096 full /16s and a half one; the datapath's budget takes
 * the half one and all but one of the full ones */
Test(blocklist_views, datapath_budget)
{
	struct seg_blocklist bl = { .action = SEGD_BL_DROP, .category = SEGD_BL_C2 };
	static struct seg_bl_net24_plan plan;
	struct seg_bl_compiled out;
	size_t n = SEGD_MAX_BL_NET24 / 128 + 1;

	bl.entries = calloc(n, sizeof(*bl.entries));
	cr_assert(bl.entries);
	for (size_t i = 0; i < n; i++) {
		uint8_t *b = bl.entries[i].cidr.addr.s6_addr;

		b[10] = b[11] = 0xff;
		b[12] = (uint8_t)(1 + (i >> 9));
		b[13] = (uint8_t)(i >> 1);
		b[14] = (uint8_t)((i & 1) << 7);
		bl.entries[i].cidr.plen = 96 + 17;
	}
	bl.n_entries = n;
	cr_assert_eq(seg_blocklists_compile(&bl, 1, NULL, 0, &out, NULL), 0);
	cr_assert_eq(seg_bl_net24_plan(out.prefixes, out.n_prefixes,
				       SEGD_MAX_BL_NET24, &plan), 0);
	cr_expect_eq(plan.n_keys, SEGD_MAX_BL_NET24 - 128);
	cr_expect_eq(plan.n_left, 1);
	cr_expect(seg_bl_net24_planned(&plan, &out.prefixes[0].key) ||
		  seg_bl_net24_planned(&plan, &out.prefixes[n - 1].key));
	seg_bl_compiled_free(&out);
	free(bl.entries);
}

/* ---- test IP ---------------------------------------------------------------- */

struct hit_log {
	size_t n;
	size_t list[4];
	char entry[4][48];
	uint32_t line[4];
	bool excepted[4];
};

static void on_hit(void *ctx, size_t list_index, const struct seg_bl_entry *e,
		   bool excepted)
{
	struct hit_log *h = ctx;

	if (h->n >= 4)
		return;
	h->list[h->n] = list_index;
	seg_cidr_format(&e->cidr, h->entry[h->n], sizeof(h->entry[0]));
	h->line[h->n] = e->line;
	h->excepted[h->n] = excepted;
	h->n++;
}

struct lookup_case {
	char ip[40];
	size_t n;
	size_t list[2];
	char entry[2][48];
	uint32_t line[2];
	bool excepted;
};

static const struct lookup_case lookups[] = {
	{ "198.51.100.7", 2, { 0, 1 }, { "198.51.100.7/32", "198.51.0.0/16" },
	  { 2, 1 }, false },
	{ "198.51.100.200", 2, { 0, 1 }, { "198.51.100.0/24", "198.51.0.0/16" },
	  { 1, 1 }, true },
	{ "198.51.7.1", 1, { 1 }, { "198.51.0.0/16" }, { 1 }, false },
	{ "2001:db8::99", 1, { 1 }, { "2001:db8::/32" }, { 2 }, false },
	{ "2001:db8:1::5", 2, { 0, 1 }, { "2001:db8:1::/48", "2001:db8::/32" },
	  { 3, 2 }, false },
	{ "::ffff:198.51.100.7", 2, { 0, 1 }, { "198.51.100.7/32", "198.51.0.0/16" },
	  { 2, 1 }, false },
	{ "203.0.113.1", 0, { 0 }, { "" }, { 0 }, false },
	{ "2001:db9::1", 0, { 0 }, { "" }, { 0 }, false },
};

ParameterizedTestParameters(blocklist_test, table)
{
	return cr_make_param_array(struct lookup_case, lookups,
				   sizeof(lookups) / sizeof(lookups[0]));
}

ParameterizedTest(struct lookup_case *c, blocklist_test, table)
{
	struct seg_blocklist lists[2];
	struct seg_cidr exc;
	struct in6_addr a;
	struct hit_log h = { 0 };

	parse("198.51.100.0/24\n198.51.100.7\n2001:db8:1::/48\n", SEGD_BL_DROP,
	      &lists[0]);
	parse("198.51.0.0/16\n2001:db8::/32\n", SEGD_BL_AUDIT, &lists[1]);
	cr_assert_eq(seg_cidr_parse("198.51.100.128/25", &exc, NULL), 0);
	cr_assert_eq(seg_addr_parse(c->ip, &a), 0);
	seg_blocklists_test(lists, 2, &exc, 1, &a, on_hit, &h);
	cr_assert_eq(h.n, c->n, "%s: %zu hits", c->ip, h.n);
	for (size_t i = 0; i < c->n; i++) {
		cr_assert_eq(h.list[i], c->list[i], "%s", c->ip);
		cr_assert_str_eq(h.entry[i], c->entry[i], "%s: %s", c->ip, h.entry[i]);
		if (c->line[i])
			cr_assert_eq(h.line[i], c->line[i], "%s: line %u", c->ip,
				     h.line[i]);
		cr_assert_eq(h.excepted[i], c->excepted, "%s", c->ip);
	}
	seg_blocklist_free(&lists[0]);
	seg_blocklist_free(&lists[1]);
}
