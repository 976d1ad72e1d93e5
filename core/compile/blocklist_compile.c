/* blocklist_compile.c - all lists and the exceptions merged into the
 * content of the datapath's blocklist maps, and `blocklist test IP`. */
#include "blocklist_int.h"
#include "sort.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void seg_bl_compiled_free(struct seg_bl_compiled *c)
{
	if (!c)
		return;
	free(c->exact);
	free(c->prefixes);
	free(c->except);
	memset(c, 0, sizeof(*c));
}

/* drop before audit, then the lower list id */
static int rank_cmp(const struct segd_bl_value *x, const struct segd_bl_value *y)
{
	if (x->action != y->action)
		return x->action < y->action ? -1 : 1;
	return x->list_id < y->list_id ? -1 : x->list_id > y->list_id;
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct seg_bl_prefix_entry *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	return c ? c : rank_cmp(&x->value, &y->value);
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct segd_lpm_key));
}

static struct segd_lpm_key lpm_key(const struct seg_cidr *c)
{
	struct segd_lpm_key k;
	seg_u128 lo, hi;

	memset(&k, 0, sizeof(k));
	k.prefixlen = c->plen > 128 ? 128 : c->plen;
	seg_bl_cidr_range(c, &lo, &hi);
	for (int i = 15; i >= 0; i--, lo >>= 8)
		k.addr[i] = (uint8_t)lo;
	return k;
}

static int check_list(const struct seg_blocklist *l, size_t i,
		      struct seg_error *err)
{
	const char *name = l->name ? l->name : "";

	if (l->action != SEGD_BL_DROP && l->action != SEGD_BL_AUDIT)
		return seg_errorf(err, NULL, 0, 0, EINVAL, "list %zu ('%s'): "
				  "action must be drop or audit", i + 1, name);
	if (l->category < SEGD_BL_MINER || l->category > SEGD_BL_CUSTOM)
		return seg_errorf(err, NULL, 0, 0, EINVAL, "list %zu ('%s'): "
				  "category must be miner, c2 or custom", i + 1,
				  name);
	if (l->n_entries && !l->entries)
		return seg_errorf(err, NULL, 0, 0, EINVAL, "list %zu ('%s'): "
				  "no entries array", i + 1, name);
	return 0;
}

static int compile_except(const struct seg_cidr *exc, size_t n,
			  struct seg_bl_compiled *out, struct seg_bl_rangeset *set,
			  struct seg_error *err)
{
	size_t o = 0;

	if (!n)
		return 0;
	out->except = malloc(n * sizeof(*out->except));
	if (!out->except)
		return seg_errorf(err, NULL, 0, 0, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		out->except[i] = lpm_key(&exc[i]);
		if (seg_bl_rangeset_add(set, &exc[i], i))
			return seg_errorf(err, NULL, 0, 0, ENOMEM, "out of memory");
	}
	seg_bl_rangeset_finish(set);
	qsort(out->except, n, sizeof(*out->except), key_cmp);
	for (size_t i = 0; i < n; i++)
		if (!o || key_cmp(&out->except[o - 1], &out->except[i]))
			out->except[o++] = out->except[i];
	out->n_except = o;
	if (o > SEGD_MAX_BL_EXCEPT)
		return seg_errorf(err, NULL, 0, 0, E2BIG, "%zu exceptions; the "
				  "datapath holds at most %u (%s)", o,
				  (unsigned)SEGD_MAX_BL_EXCEPT,
				  SEGD_MAP_BL_EXCEPT);
	return 0;
}

/* Prefixes of drop lists: an audit entry inside one never decides. */
static int drop_prefixes(const struct seg_blocklist *lists, size_t n_lists,
			 struct seg_bl_rangeset *set)
{
	for (size_t i = 0; i < n_lists; i++) {
		if (lists[i].action != SEGD_BL_DROP)
			continue;
		for (size_t j = 0; j < lists[i].n_entries; j++)
			if (lists[i].entries[j].cidr.plen < 128 &&
			    seg_bl_rangeset_add(set, &lists[i].entries[j].cidr, i))
				return -ENOMEM;
	}
	seg_bl_rangeset_finish(set);
	return 0;
}

/* the entry can never decide: wholly excepted, or an audit entry inside a
 * drop prefix (which wins anyway) */
static bool never_decides(const struct seg_cidr *c, uint8_t action,
			  const struct seg_bl_rangeset *exc,
			  const struct seg_bl_rangeset *drops)
{
	seg_u128 lo, hi;

	if (!exc->n && !(drops->n && action == SEGD_BL_AUDIT))
		return false;
	seg_bl_cidr_range(c, &lo, &hi);
	return seg_bl_rangeset_covers(exc, lo, hi) ||
	       (action == SEGD_BL_AUDIT && seg_bl_rangeset_covers(drops, lo, hi));
}

/* One list's single addresses, in address order (a list is sorted by
 * address): the exact array is a k-way merge of these runs, so it comes out
 * sorted without a sort (and without qsort's scratch copy of it). */
struct run {
	const struct seg_bl_entry *e, *end;
	struct segd_bl_value v;
};

static void run_settle(struct run *r, const struct seg_bl_rangeset *exc,
		       const struct seg_bl_rangeset *drops)
{
	while (r->e < r->end && (r->e->cidr.plen < 128 ||
				 never_decides(&r->e->cidr, r->v.action, exc, drops)))
		r->e++;
}

/* address, then rank: the first of equal addresses is the one that wins */
static bool run_before(const struct run *x, const struct run *y)
{
	int c = memcmp(&x->e->cidr.addr, &y->e->cidr.addr, 16);

	return c ? c < 0 : rank_cmp(&x->v, &y->v) < 0;
}

static void heap_down(struct run *h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, l = 2 * i + 1, r = l + 1;
		struct run t;

		if (l < n && run_before(&h[l], &h[m]))
			m = l;
		if (r < n && run_before(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		t = h[i], h[i] = h[m], h[m] = t;
		i = m;
	}
}

static int merge_exact(const struct seg_blocklist *lists, size_t n_lists,
		       const struct seg_bl_rangeset *exc,
		       const struct seg_bl_rangeset *drops,
		       struct seg_bl_compiled *out)
{
	struct run *h = malloc((n_lists + 1) * sizeof(*h));
	size_t k = 0;

	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < n_lists; i++) {
		if (!lists[i].n_entries)
			continue;
		h[k] = (struct run){
			.e = lists[i].entries,
			.end = lists[i].entries + lists[i].n_entries,
			.v = { .list_id = (uint16_t)(i + 1),
			       .action = (uint8_t)lists[i].action,
			       .category = (uint8_t)lists[i].category },
		};
		run_settle(&h[k], exc, drops);
		k += h[k].e < h[k].end;
	}
	for (size_t i = k / 2; i-- > 0;)
		heap_down(h, k, i);
	while (k) {
		struct seg_bl_exact_entry *e = &out->exact[out->n_exact++];

		memcpy(e->addr.b, h[0].e->cidr.addr.s6_addr, 16);
		e->value = h[0].v;
		h[0].e++;
		run_settle(&h[0], exc, drops);
		if (h[0].e == h[0].end)
			h[0] = h[--k];
		heap_down(h, k, 0);
	}
	free(h);
	return 0;
}

int seg_blocklists_compile(const struct seg_blocklist *lists, size_t n_lists,
			   const struct seg_cidr *exceptions, size_t n_exceptions,
			   struct seg_bl_compiled *out, struct seg_error *err)
{
	struct seg_bl_rangeset exc = { 0 }, drops = { 0 };
	size_t n_exact = 0, n_pfx = 0, o;
	bool any_audit = false;
	int rc;

	if (!out || (n_lists && !lists) || (n_exceptions && !exceptions))
		return seg_errorf(err, NULL, 0, 0, EINVAL, "no input");
	memset(out, 0, sizeof(*out));
	if (n_lists >= SEGD_MAX_BLOCKLISTS)
		return seg_errorf(err, NULL, 0, 0, E2BIG, "%zu blocklists; at "
				  "most %u can be loaded", n_lists,
				  (unsigned)SEGD_MAX_BLOCKLISTS - 1);
	for (size_t i = 0; i < n_lists; i++) {
		rc = check_list(&lists[i], i, err);
		if (rc)
			return rc;
		for (size_t j = 0; j < lists[i].n_entries; j++) {
			if (lists[i].entries[j].cidr.plen >= 128)
				n_exact++;
			else
				n_pfx++;
		}
		any_audit |= lists[i].action == SEGD_BL_AUDIT;
	}
	rc = compile_except(exceptions, n_exceptions, out, &exc, err);
	if (rc)
		goto fail;
	if (any_audit && drop_prefixes(lists, n_lists, &drops)) {
		rc = seg_errorf(err, NULL, 0, 0, ENOMEM, "out of memory");
		goto fail;
	}
	out->exact = n_exact ? malloc(n_exact * sizeof(*out->exact)) : NULL;
	out->prefixes = n_pfx ? malloc(n_pfx * sizeof(*out->prefixes)) : NULL;
	if ((n_exact && !out->exact) || (n_pfx && !out->prefixes)) {
		rc = seg_errorf(err, NULL, 0, 0, ENOMEM, "out of memory for "
				"%zu blocklist entries", n_exact + n_pfx);
		goto fail;
	}
	for (size_t i = 0; i < n_lists; i++) {
		const struct seg_blocklist *l = &lists[i];
		struct segd_bl_value v = {
			.list_id = (uint16_t)(i + 1),
			.action = (uint8_t)l->action,
			.category = (uint8_t)l->category,
		};

		for (size_t j = 0; j < l->n_entries; j++) {
			const struct seg_cidr *c = &l->entries[j].cidr;
			struct seg_bl_prefix_entry *e;

			if (c->plen >= 128 || never_decides(c, v.action, &exc, &drops))
				continue;
			e = &out->prefixes[out->n_prefixes++];
			e->key = lpm_key(c);
			e->value = v;
		}
	}
	if (merge_exact(lists, n_lists, &exc, &drops, out)) {
		rc = seg_errorf(err, NULL, 0, 0, ENOMEM, "out of memory");
		goto fail;
	}
	/* prefixes (key = prefixlen first) need the sort; in place, as the
	 * arrays of a big feed are megabytes */
	if (out->n_prefixes > 1)
		seg_sort_inplace(out->prefixes, out->n_prefixes,
				 sizeof(*out->prefixes), prefix_cmp);
	for (size_t i = o = 0; i < out->n_exact; i++)
		if (!o || memcmp(&out->exact[o - 1].addr, &out->exact[i].addr,
				 sizeof(struct segd_addr)))
			out->exact[o++] = out->exact[i];
	out->n_exact = o;
	for (size_t i = o = 0; i < out->n_prefixes; i++)
		if (!o || key_cmp(&out->prefixes[o - 1].key, &out->prefixes[i].key))
			out->prefixes[o++] = out->prefixes[i];
	out->n_prefixes = o;
	if (out->n_exact > SEGD_MAX_BL_EXACT) {
		rc = seg_errorf(err, NULL, 0, 0, E2BIG, "%zu single addresses "
				"in all blocklists; the datapath holds at most %u "
				"(%s): drop a list or aggregate it into CIDRs",
				out->n_exact, (unsigned)SEGD_MAX_BL_EXACT,
				SEGD_MAP_BL_EXACT);
		goto fail;
	}
	if (out->n_prefixes > SEGD_MAX_BL_PREFIXES) {
		rc = seg_errorf(err, NULL, 0, 0, E2BIG, "%zu prefixes in all "
				"blocklists; the datapath holds at most %u (%s): "
				"drop a list", out->n_prefixes,
				(unsigned)SEGD_MAX_BL_PREFIXES, SEGD_MAP_BL_LPM);
		goto fail;
	}
	seg_bl_rangeset_free(&exc);
	seg_bl_rangeset_free(&drops);
	return 0;
fail:
	seg_bl_rangeset_free(&exc);
	seg_bl_rangeset_free(&drops);
	seg_bl_compiled_free(out);
	return rc;
}

/* ---- test ----------------------------------------------------------------- */

/* The entry with exactly this prefix, or NULL. */
static const struct seg_bl_entry *find(const struct seg_blocklist *l,
				       const struct seg_cidr *c)
{
	size_t lo = 0, hi = l->n_entries;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct seg_cidr *m = &l->entries[mid].cidr;
		int d = memcmp(&m->addr, &c->addr, sizeof(c->addr));

		if (!d)
			d = m->plen < c->plen ? -1 : m->plen > c->plen;
		if (!d)
			return &l->entries[mid];
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void seg_blocklists_test(const struct seg_blocklist *lists, size_t n_lists,
			 const struct seg_cidr *exceptions, size_t n_exceptions,
			 const struct in6_addr *addr, seg_bl_hit_fn fn, void *ctx)
{
	struct seg_cidr host = { .plen = 128 };
	bool excepted = false;

	if (!addr || !fn || (n_lists && !lists))
		return;
	host.addr = *addr;
	for (size_t i = 0; exceptions && i < n_exceptions; i++)
		excepted |= seg_cidr_contains(&exceptions[i], &host);
	for (size_t i = 0; i < n_lists; i++) {
		const struct seg_blocklist *l = &lists[i];

		if (!l->n_entries || !l->entries)
			continue;
		for (int plen = 128; plen >= 0; plen--) {
			struct seg_cidr c = { .plen = (uint8_t)plen };
			struct segd_lpm_key k;
			const struct seg_bl_entry *e;

			c.addr = *addr;
			k = lpm_key(&c);
			memcpy(c.addr.s6_addr, k.addr, 16);
			e = find(l, &c);
			if (e) {
				fn(ctx, i, e, excepted);
				break;
			}
		}
	}
}
