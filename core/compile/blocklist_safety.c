/* blocklist_safety.c - what a feed must never blackhole: private, local
 * and multicast ranges, the node and the endpoints. Plus the range sets
 * the safety check and the compiler query. */
#include "blocklist_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- ranges ------------------------------------------------------------------ */

seg_u128 seg_bl_addr_num(const struct in6_addr *a)
{
	seg_u128 v = 0;

	for (int i = 0; i < 16; i++)
		v = v << 8 | a->s6_addr[i];
	return v;
}

void seg_bl_cidr_range(const struct seg_cidr *c, seg_u128 *lo, seg_u128 *hi)
{
	unsigned plen = c->plen > 128 ? 128 : c->plen;
	seg_u128 mask = plen ? ~(seg_u128)0 << (128 - plen) : 0;
	seg_u128 a = seg_bl_addr_num(&c->addr);

	*lo = a & mask;
	*hi = *lo | ~mask;
}

int seg_bl_rangeset_add(struct seg_bl_rangeset *s, const struct seg_cidr *c,
			size_t tag)
{
	struct seg_bl_range *r;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		void *p = realloc(s->v, nc * sizeof(*s->v));

		if (!p)
			return -ENOMEM;
		s->v = p;
		s->cap = nc;
	}
	r = &s->v[s->n++];
	seg_bl_cidr_range(c, &r->lo, &r->hi);
	r->max_hi = r->hi;
	r->tag = tag;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct seg_bl_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi > y->hi ? -1 : 1;
	return x->tag < y->tag ? -1 : x->tag > y->tag;
}

void seg_bl_rangeset_finish(struct seg_bl_rangeset *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), range_cmp);
	for (size_t i = 0; i < s->n; i++)
		s->v[i].max_hi = (i && s->v[i - 1].max_hi > s->v[i].hi)
			? s->v[i - 1].max_hi : s->v[i].hi;
}

void seg_bl_rangeset_free(struct seg_bl_rangeset *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* Number of ranges whose start is <= x. */
static size_t starts_upto(const struct seg_bl_rangeset *s, seg_u128 x)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid].lo <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool seg_bl_rangeset_overlaps(const struct seg_bl_rangeset *s, seg_u128 lo,
			      seg_u128 hi)
{
	size_t k = starts_upto(s, hi);

	return k && s->v[k - 1].max_hi >= lo;
}

bool seg_bl_rangeset_covers(const struct seg_bl_rangeset *s, seg_u128 lo,
			    seg_u128 hi)
{
	size_t k = starts_upto(s, lo);

	return k && s->v[k - 1].max_hi >= hi;
}

/* ---- the safety check ----------------------------------------------------------- */

static const struct {
	char cidr[20];
	char what[72];
} builtin[] = {
	{ "0.0.0.0/8", "'this network' 0.0.0.0/8" },
	{ "10.0.0.0/8", "private range 10.0.0.0/8 (RFC 1918)" },
	{ "100.64.0.0/10", "shared address space 100.64.0.0/10 (RFC 6598)" },
	{ "127.0.0.0/8", "loopback 127.0.0.0/8" },
	{ "169.254.0.0/16", "link-local 169.254.0.0/16" },
	{ "172.16.0.0/12", "private range 172.16.0.0/12 (RFC 1918)" },
	{ "192.168.0.0/16", "private range 192.168.0.0/16 (RFC 1918)" },
	{ "224.0.0.0/4", "multicast 224.0.0.0/4" },
	{ "255.255.255.255", "broadcast 255.255.255.255" },
	{ "::", "the unspecified address ::" },
	{ "::1", "loopback ::1" },
	{ "fc00::/7", "unique local fc00::/7 (RFC 4193)" },
	{ "fe80::/10", "link-local fe80::/10" },
	{ "ff00::/8", "multicast ff00::/8" },
};
#define N_BUILTIN (sizeof(builtin) / sizeof(builtin[0]))

size_t seg_bl_reserved_count(void)
{
	return N_BUILTIN;
}

int seg_bl_reserved(size_t i, struct seg_cidr *out, const char **what)
{
	if (i >= N_BUILTIN)
		return -ENOENT;
	if (what)
		*what = builtin[i].what;
	return seg_cidr_parse(builtin[i].cidr, out, NULL);
}

static int add_addr(struct seg_bl_rangeset *s, const struct in6_addr *a,
		    size_t tag)
{
	struct seg_cidr c = { .addr = *a, .plen = 128 };

	return seg_bl_rangeset_add(s, &c, tag);
}

/* The first range of s that overlaps [lo, hi] (for the message). */
static const struct seg_bl_range *culprit(const struct seg_bl_rangeset *s,
					  seg_u128 lo, seg_u128 hi)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].lo <= hi && s->v[i].hi >= lo)
			return &s->v[i];
	return NULL;
}

static int refuse(struct seg_blocklist *bl, const struct seg_bl_entry *e,
		  const struct seg_bl_safety *sf, const struct seg_bl_rangeset *res,
		  const struct seg_bl_rangeset *own, seg_u128 lo, seg_u128 hi)
{
	char text[64], a[64];
	const struct seg_bl_range *r;
	size_t n_node = sf ? sf->n_node_addrs : 0;

	seg_cidr_format(&e->cidr, text, sizeof(text));
	if (e->cidr.plen == 128 || (e->cidr.plen == 32 + 96 &&
				    IN6_IS_ADDR_V4MAPPED(&e->cidr.addr)))
		seg_addr_format(&e->cidr.addr, text, sizeof(text));
	if (bl->n_problems >= SEG_BL_MAX_PROBLEMS)   /* count only */
		return seg_bl_problem(bl, e->line, text, strlen(text), "refused");
	r = culprit(own, lo, hi);
	if (r) {
		bool node = r->tag < n_node;

		seg_addr_format(node ? &sf->node_addrs[r->tag]
			       : &sf->ep_addrs[r->tag - n_node], a, sizeof(a));
		return seg_bl_problem(bl, e->line, text, strlen(text),
				      "refused: covers %s address %s",
				      node ? "this node's" : "an endpoint's", a);
	}
	r = culprit(res, lo, hi);
	return seg_bl_problem(bl, e->line, text, strlen(text),
			      "refused: overlaps %s (to load it, allow it: "
			      "--allow %s)", r ? builtin[r->tag].what : "?", text);
}

void seg_blocklist_apply_safety(struct seg_blocklist *bl,
				const struct seg_bl_safety *sf)
{
	struct seg_bl_rangeset res = { 0 }, own = { 0 }, allow = { 0 };
	size_t o = 0, n_node = 0, n_ep = 0, n_allowed = 0;
	bool oom = false;

	if (!bl || !bl->n_entries)
		return;
	if (sf) {
		n_node = sf->node_addrs ? sf->n_node_addrs : 0;
		n_ep = sf->ep_addrs ? sf->n_ep_addrs : 0;
		n_allowed = sf->allowed ? sf->n_allowed : 0;
	}
	for (size_t i = 0; i < N_BUILTIN; i++) {
		struct seg_cidr c;

		if (!seg_bl_reserved(i, &c, NULL))
			oom |= seg_bl_rangeset_add(&res, &c, i) != 0;
	}
	for (size_t i = 0; i < n_node; i++)
		oom |= add_addr(&own, &sf->node_addrs[i], i) != 0;
	for (size_t i = 0; i < n_ep; i++)
		oom |= add_addr(&own, &sf->ep_addrs[i], n_node + i) != 0;
	for (size_t i = 0; i < n_allowed; i++)
		oom |= seg_bl_rangeset_add(&allow, &sf->allowed[i], i) != 0;
	seg_bl_rangeset_finish(&res);
	seg_bl_rangeset_finish(&own);
	seg_bl_rangeset_finish(&allow);
	for (size_t i = 0; i < bl->n_entries; i++) {
		const struct seg_bl_entry *e = &bl->entries[i];
		seg_u128 lo, hi;
		bool bad;

		seg_bl_cidr_range(&e->cidr, &lo, &hi);
		/* out of memory building the sets: refuse everything rather
		 * than let an unchecked entry through */
		bad = oom || seg_bl_rangeset_overlaps(&own, lo, hi) ||
		      (seg_bl_rangeset_overlaps(&res, lo, hi) &&
		       !seg_bl_rangeset_covers(&allow, lo, hi));
		if (!bad) {
			bl->entries[o++] = *e;
			continue;
		}
		if (oom)
			seg_bl_problem(bl, e->line, "", 0, "refused: out of "
				       "memory checking the entry");
		else
			refuse(bl, e, sf, &res, &own, lo, hi);
	}
	bl->n_entries = o;
	seg_bl_problems_sort(bl);
	seg_bl_rangeset_free(&res);
	seg_bl_rangeset_free(&own);
	seg_bl_rangeset_free(&allow);
}
