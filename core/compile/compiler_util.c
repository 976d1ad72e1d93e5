/* compiler_util.c - containers and prefix helpers of the compiler. */
#include "compiler_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small utilities ------------------------------------------------------ */

int segc_grow(void *pp, size_t *cap, size_t need, size_t esz)
{
	void **p = pp;
	size_t nc;
	void *np;

	if (need <= *cap)
		return 0;
	nc = *cap ? *cap : 16;
	while (nc < need)
		nc *= 2;
	np = realloc(*p, nc * esz);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = nc;
	return 0;
}

/* qsort/bsearch that accept empty (possibly NULL) arrays */
void segc_sort(void *base, size_t n, size_t size,
		  int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

void *segc_find(const void *key, const void *base, size_t n, size_t size,
		   int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, base, n, size, cmp) : NULL;
}

uint32_t segc_fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 16777619u;
	}
	return h;
}

uint64_t segc_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static size_t smap_slot(const struct smap *m, const char *k)
{
	size_t i = segc_mix64(segc_fnv1a(k)) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], k))
		i = (i + 1) & (m->cap - 1);
	return i;
}

const uint32_t *segc_smap_get(const struct smap *m, const char *k)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = smap_slot(m, k);
	return m->keys[i] ? &m->vals[i] : NULL;
}

int segc_smap_put(struct smap *m, const char *k, uint32_t v)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct smap nm = { 0 };

		nm.cap = m->cap ? m->cap * 2 : 64;
		nm.keys = calloc(nm.cap, sizeof(*nm.keys));
		nm.vals = calloc(nm.cap, sizeof(*nm.vals));
		if (!nm.keys || !nm.vals) {
			free(nm.keys);
			free(nm.vals);
			return -ENOMEM;
		}
		for (size_t j = 0; j < m->cap; j++) {
			if (!m->keys[j])
				continue;
			i = smap_slot(&nm, m->keys[j]);
			nm.keys[i] = m->keys[j];
			nm.vals[i] = m->vals[j];
		}
		nm.n = m->n;
		free(m->keys);
		free(m->vals);
		*m = nm;
	}
	i = smap_slot(m, k);
	if (!m->keys[i]) {
		m->keys[i] = strdup(k);
		if (!m->keys[i])
			return -ENOMEM;
		m->n++;
	}
	m->vals[i] = v;
	return 0;
}

void segc_smap_free(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- addresses ------------------------------------------------------------- */

const struct seg_cidr segc_world4 = {
	.addr = { .s6_addr = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff } },
	.plen = 96,
};
const struct seg_cidr segc_world6 = { .plen = 0 };

bool segc_cidr_is_v4(const struct seg_cidr *c)
{
	return c->plen >= 96 && !memcmp(c->addr.s6_addr, segc_world4.addr.s6_addr, 12);
}

bool segc_cidr_eq(const struct seg_cidr *a, const struct seg_cidr *b)
{
	return a->plen == b->plen && !memcmp(&a->addr, &b->addr, 16);
}

/* IPv4 and IPv6 are disjoint: an IPv6 prefix (e.g. ::/0 or ::/80) never
 * contains IPv4-mapped prefixes, matching how the datapath resolves an IPv4
 * address (the ::ffff:0:0/96 WORLD entry is always more specific). */
bool segc_cidr_within(const struct seg_cidr *outer, const struct seg_cidr *in)
{
	return segc_cidr_is_v4(outer) == segc_cidr_is_v4(in) && seg_cidr_contains(outer, in);
}

struct seg_cidr segc_cidr_masked(const struct seg_cidr *c)
{
	struct seg_cidr m = *c;

	if (m.plen > 128)
		m.plen = 128;
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = m.plen > i * 8 ? m.plen - i * 8 : 0;

		if (bits < 8)
			m.addr.s6_addr[i] &= (uint8_t)(0xff00 >> bits);
	}
	return m;
}

int segc_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int segc_cmp_entry(const void *a, const void *b)
{
	return memcmp(&((const struct seg_policy_entry *)a)->key,
		      &((const struct seg_policy_entry *)b)->key,
		      sizeof(struct segd_policy_key));
}

