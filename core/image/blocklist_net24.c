/* blocklist_net24.c - the IPv4 views of the blocklist prefixes (segd_abi.h):
 * segd_bl_net24, the prefixes /17../24 expanded to the /24 networks they
 * cover, and segd_bl_net16, the prefixes /0../16 painted onto the /16s,
 * each slot with the value of the longest prefix covering it. The /24 view
 * is produced in key order, one /24 at a time, so a reload diffs two of
 * them without materialising either. Pure code. */
#include "blocklist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool v4_prefix(const struct segd_lpm_key *k, uint32_t lo, uint32_t hi)
{
	static const uint8_t v4map[12] = { [10] = 0xff, [11] = 0xff };

	return k->prefixlen >= 96 + lo && k->prefixlen <= 96 + hi &&
	       !memcmp(k->addr, v4map, sizeof(v4map));
}

bool seg_bl_net24_prefix(const struct segd_lpm_key *k)
{
	return v4_prefix(k, 17, 24);
}

bool seg_bl_net16_prefix(const struct segd_lpm_key *k)
{
	return v4_prefix(k, 0, 16);
}

static int plen_cmp(const void *a, const void *b)
{
	const struct seg_bl_prefix_entry *x = *(const struct seg_bl_prefix_entry *const *)a;
	const struct seg_bl_prefix_entry *y = *(const struct seg_bl_prefix_entry *const *)b;

	return x->key.prefixlen < y->key.prefixlen ? -1 :
	       x->key.prefixlen > y->key.prefixlen;
}

int seg_bl_net16_fill(const struct seg_bl_prefix_entry *p, size_t n,
		      struct segd_bl_value *out)
{
	const struct seg_bl_prefix_entry **v;
	size_t k = 0;

	memset(out, 0, SEGD_BL_NET16_SLOTS * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		k += seg_bl_net16_prefix(&p[i].key);
	if (!k)
		return 0;
	v = malloc(k * sizeof(*v));
	if (!v)
		return -ENOMEM;
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (seg_bl_net16_prefix(&p[i].key))
			v[k++] = &p[i];
	/* shorter first: a longer prefix paints over the one around it */
	qsort(v, k, sizeof(*v), plen_cmp);
	for (size_t i = 0; i < k; i++) {
		uint32_t span = 1u << (16 - (v[i]->key.prefixlen - 96));
		uint32_t first = ((uint32_t)v[i]->key.addr[12] << 8 |
				  v[i]->key.addr[13]) & ~(span - 1);

		for (uint32_t j = first; j < first + span; j++)
			out[j] = v[i]->value;
	}
	free(v);
	return 0;
}

/* by first /24, the shorter prefix first (it encloses the longer one) */
static int n24_cmp(const void *a, const void *b)
{
	const struct seg_bl_n24_pfx *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->end > y->end ? -1 : x->end < y->end;
}

/* a /17../24 prefix lies in one /16 */
static uint32_t net16_of(const struct segd_lpm_key *k)
{
	return (uint32_t)k->addr[12] << 8 | k->addr[13];
}

static bool in_view(const struct seg_bl_net24_plan *plan,
		    const struct segd_lpm_key *k)
{
	uint32_t s = net16_of(k);

	return seg_bl_net24_prefix(k) &&
	       (!plan || (plan->in_view[s / 64] >> (s % 64) & 1));
}

bool seg_bl_net24_planned(const struct seg_bl_net24_plan *plan,
			  const struct segd_lpm_key *k)
{
	return in_view(plan, k);
}

int seg_bl_net24_init(struct seg_bl_net24_iter *it,
		      const struct seg_bl_prefix_entry *p, size_t n,
		      const struct seg_bl_net24_plan *plan)
{
	size_t k = 0;

	memset(it, 0, sizeof(*it));
	for (size_t i = 0; i < n; i++)
		k += in_view(plan, &p[i].key);
	if (!k)
		return 0;
	it->v = malloc(k * sizeof(*it->v));
	if (!it->v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t plen = p[i].key.prefixlen - 96;

		if (!in_view(plan, &p[i].key))
			continue;
		it->v[it->n].first = segd_bl_net24_key(p[i].key.addr + 12) &
				     ~((1u << (24 - plen)) - 1);
		it->v[it->n].end = it->v[it->n].first + (1u << (24 - plen));
		it->v[it->n++].value = p[i].value;
	}
	qsort(it->v, it->n, sizeof(*it->v), n24_cmp);
	return 0;
}

bool seg_bl_net24_next(struct seg_bl_net24_iter *it, uint32_t *key,
		       struct segd_bl_value *value)
{
	/* prefixes nest or are disjoint: the innermost one ends first */
	while (it->sp && it->stack[it->sp - 1].end <= it->cur)
		it->sp--;
	if (!it->sp) {
		if (it->i == it->n)
			return false;
		it->cur = it->v[it->i].first;
	}
	for (; it->i < it->n && it->v[it->i].first == it->cur; it->i++) {
		int top = it->sp < SEG_BL_NET24_DEPTH ? it->sp++ : it->sp - 1;

		it->stack[top] = it->v[it->i];
	}
	*key = it->cur++;
	*value = it->stack[it->sp - 1].value;
	return true;
}

void seg_bl_net24_free(struct seg_bl_net24_iter *it)
{
	free(it->v);
	memset(it, 0, sizeof(*it));
}

static const uint32_t *cost_base;

static int cost_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	if (cost_base[x] != cost_base[y])
		return cost_base[x] < cost_base[y] ? -1 : 1;
	return x < y ? -1 : x > y;
}

int seg_bl_net24_plan(const struct seg_bl_prefix_entry *p, size_t n,
		      size_t budget, struct seg_bl_net24_plan *plan)
{
	uint32_t *cost = calloc(SEGD_BL_NET16_SLOTS, sizeof(*cost));
	uint32_t *order = malloc(SEGD_BL_NET16_SLOTS * sizeof(*order));
	struct seg_bl_net24_iter it;
	struct segd_bl_value v;
	size_t total = 0, taken = 0;
	uint32_t key;
	int err = cost && order ? seg_bl_net24_init(&it, p, n, NULL) : -ENOMEM;

	memset(plan, 0, sizeof(*plan));
	if (err)
		goto out;
	while (seg_bl_net24_next(&it, &key, &v)) {
		cost[key >> 8]++;
		total++;
	}
	seg_bl_net24_free(&it);
	for (uint32_t i = 0; i < SEGD_BL_NET16_SLOTS; i++)
		order[i] = i;
	if (total > budget) {   /* cheapest first: most /16s off the trie */
		cost_base = cost;
		qsort(order, SEGD_BL_NET16_SLOTS, sizeof(*order), cost_cmp);
	}
	for (uint32_t i = 0; i < SEGD_BL_NET16_SLOTS; i++) {
		uint32_t s = order[i];

		if (!cost[s])
			continue;
		if (taken + cost[s] > budget) {
			plan->n_left++;
			continue;
		}
		taken += cost[s];
		plan->in_view[s / 64] |= 1ull << (s % 64);
	}
	plan->n_keys = taken;
out:
	free(cost);
	free(order);
	return err;
}
