/* compiler_prefix.c - CIDR peers by address order. The known prefixes and
 * the identities' addresses are sorted once, so a CIDR peer costs a binary
 * search plus what it holds, and an endpoint's policy prefixes a binary
 * search per distinct prefix length, instead of a pass over every prefix
 * or identity each (which made 100,000 ipBlock rules quadratic). */
#include "compiler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct addr_ident {                   /* one address of an identity */
	struct in6_addr a;
	uint32_t ident;
};

static int cmp_addr_len(const struct seg_cidr *a, const struct seg_cidr *b)
{
	int d = memcmp(&a->addr, &b->addr, 16);

	return d ? d : (int)a->plen - (int)b->plen;
}

/* address a inside c's prefix bits (either family; c masked) */
static bool addr_in(const struct seg_cidr *c, const struct in6_addr *a)
{
	struct seg_cidr one = { .addr = *a, .plen = 128 };

	return seg_cidr_contains(c, &one);
}

static int cmp_cidr_ord(const void *a, const void *b, void *arg)
{
	const struct cidr_ident *v = arg;

	return cmp_addr_len(&v[*(const uint32_t *)a].c, &v[*(const uint32_t *)b].c);
}

static int cmp_addr_ident(const void *a, const void *b)
{
	const struct addr_ident *x = a, *y = b;
	int d = memcmp(&x->a, &y->a, 16);

	return d ? d : (x->ident > y->ident) - (x->ident < y->ident);
}

/* x->cidr_ord and x->ep_addrs, once per compile */
static int build_index(struct ctx *x)
{
	size_t n = 0;

	x->cidr_ord = malloc((x->n_cidrs + 1) * sizeof(*x->cidr_ord));
	x->ident_mark = calloc(x->n_ids + 1, sizeof(*x->ident_mark));
	for (size_t i = 0; i < x->n_ids; i++)
		n += x->ids[i].first_ep->n_ips;
	x->ep_addrs = malloc((n + 1) * sizeof(*x->ep_addrs));
	if (!x->cidr_ord || !x->ident_mark || !x->ep_addrs)
		return -ENOMEM;
	for (size_t i = 0; i < x->n_cidrs; i++)
		x->cidr_ord[i] = (uint32_t)i;
	qsort_r(x->cidr_ord, x->n_cidrs, sizeof(*x->cidr_ord), cmp_cidr_ord,
		x->cidrs);
	for (size_t i = 0; i < x->n_ids; i++) {
		const struct seg_endpoint *e = x->ids[i].first_ep;

		for (size_t a = 0; a < e->n_ips; a++)
			x->ep_addrs[x->n_ep_addrs++] = (struct addr_ident){
				.a = e->ips[a], .ident = (uint32_t)i };
	}
	segc_sort(x->ep_addrs, x->n_ep_addrs, sizeof(*x->ep_addrs),
		  cmp_addr_ident);
	x->indexed = true;
	return 0;
}

/* is P selected by c (masked; v6: c is shorter than /96) minus except? */
static bool cidr_takes(const struct seg_cidr *c, bool v6,
		       const struct seg_peer *p, const struct seg_cidr *pc)
{
	if (!segc_cidr_within(c, pc) || (v6 && segc_cidr_within(&segc_world4, pc)))
		return false;
	for (size_t e = 0; e < p->n_except; e++) {
		struct seg_cidr ex = segc_cidr_masked(&p->except[e]);

		if (segc_cidr_within(&ex, pc))
			return false;
	}
	return true;
}

/* The remote ranks CIDR peer p selects, pushed with push(): the known
 * prefixes within it, then (x->n_pfx: CIDRs select endpoints) the
 * identities with an address in it. Every prefix within c, and every
 * address in it, sorts at or after (c.addr, c.plen) and before the first
 * one outside c's prefix bits. */
int segc_cidr_ranks(struct ctx *x, const struct seg_peer *p,
		    int (*push)(struct ctx *, uint32_t))
{
	struct seg_cidr c = segc_cidr_masked(&p->cidr);
	/* an IPv6 prefix shorter than /96 (::/0) holds the mapped IPv4 space
	 * in this model, but matches IPv6 only, as in Kubernetes */
	bool v6 = c.plen < 96;
	size_t lo = 0, hi = x->n_cidrs;
	int rc = 0;

	if (!x->indexed && (rc = build_index(x)))
		return rc;
	if (cidr_takes(&c, v6, p, &segc_world4))
		rc = push(x, x->rank_world);
	if (!rc && cidr_takes(&c, v6, p, &segc_world6))
		rc = push(x, x->rank_world6);
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;

		if (cmp_addr_len(&x->cidrs[x->cidr_ord[m]].c, &c) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	for (; !rc && lo < x->n_cidrs; lo++) {
		const struct cidr_ident *ci = &x->cidrs[x->cidr_ord[lo]];

		if (!addr_in(&c, &ci->c.addr))
			break;
		if (cidr_takes(&c, v6, p, &ci->c))
			rc = push(x, ci->rank);
	}
	if (rc || !x->n_pfx)
		return rc;
	/* endpoints: decided on one member, as members of an identity hold
	 * the same policy prefixes (identity_key) */
	x->mark++;
	for (lo = 0, hi = x->n_ep_addrs; lo < hi;) {
		size_t m = lo + (hi - lo) / 2;

		if (memcmp(&x->ep_addrs[m].a, &c.addr, 16) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	for (; !rc && lo < x->n_ep_addrs; lo++) {
		const struct addr_ident *ai = &x->ep_addrs[lo];
		struct seg_cidr one = { .addr = ai->a, .plen = 128 };

		if (!addr_in(&c, &ai->a))
			break;
		if (x->ident_mark[ai->ident] == x->mark ||
		    !cidr_takes(&c, v6, p, &one))
			continue;
		x->ident_mark[ai->ident] = x->mark;
		rc = push(x, x->ids[ai->ident].rank);
	}
	return rc;
}

/* ---- an endpoint's policy prefixes (identity keys) -------------------------- */

void segc_pfx_lengths(struct ctx *x)
{
	bool seen[129] = { false };

	for (size_t k = 0; k < x->n_pfx; k++)
		seen[x->pfx[k].plen] = true;
	x->n_pfx_lens = 0;
	for (unsigned l = 0; l <= 128; l++)
		if (seen[l])
			x->pfx_lens[x->n_pfx_lens++] = (uint8_t)l;
}

void segc_pfx_key(const struct ctx *x, struct seg_strbuf *sb,
		  const struct seg_endpoint *e)
{
	uint32_t hit[SEG_MAX_EP_IPS * 129];
	size_t n = 0;
	char buf[64];

	for (size_t a = 0; a < e->n_ips; a++) {
		struct seg_cidr one = { .addr = e->ips[a], .plen = 128 };

		for (size_t l = 0; l < x->n_pfx_lens; l++) {
			struct seg_cidr q = { .addr = e->ips[a],
					      .plen = x->pfx_lens[l] };
			size_t lo = 0, hi = x->n_pfx;

			q = segc_cidr_masked(&q);
			while (lo < hi) {
				size_t m = lo + (hi - lo) / 2;
				int d = cmp_addr_len(&x->pfx[m], &q);

				if (!d) {
					lo = m;
					break;
				}
				if (d < 0)
					lo = m + 1;
				else
					hi = m;
			}
			if (lo < x->n_pfx && !cmp_addr_len(&x->pfx[lo], &q) &&
			    segc_cidr_within(&x->pfx[lo], &one))
				hit[n++] = (uint32_t)lo;
		}
	}
	/* in x->pfx's order, each once, as a pass over x->pfx gives them */
	segc_sort_u32(hit, n);
	n = segc_uniq_u32(hit, n);
	for (size_t i = 0; i < n; i++) {
		seg_cidr_format(&x->pfx[hit[i]], buf, sizeof(buf));
		seg_strbuf_str(sb, "@cidr ");
		seg_strbuf_str(sb, buf);
		seg_strbuf_str(sb, "\n");
	}
}
