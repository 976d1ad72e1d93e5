/* name_index.c - endpoints by id and ifindex, prefixes by identity
 * (name_index.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "compiler.h"
#include "name_index.h"

enum { FOUND = 0, NONE = -1, STALE = -2 };

void seg_name_index_init(struct seg_name_index *x)
{
	memset(x, 0, sizeof(*x));
}

void seg_name_index_invalidate(struct seg_name_index *x)
{
	x->built = 0;
}

void seg_name_index_free(struct seg_name_index *x)
{
	free(x->id_slot);
	free(x->ids);
	free(x->ifindexes);
	free(x->identities);
	seg_name_index_init(x);
}

static int pair_cmp(const void *a, const void *b)
{
	const struct seg_name_pair *p = a, *q = b;

	if (p->key != q->key)
		return p->key < q->key ? -1 : 1;
	return (p->slot > q->slot) - (p->slot < q->slot);
}

/* The slot of the first pair with key (pairs sorted by key, then slot). */
static int pair_find(const struct seg_name_pair *v, size_t n, uint32_t key,
		     uint32_t *slot)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == n || v[lo].key != key)
		return NONE;
	*slot = v[lo].slot;
	return FOUND;
}

/* Pairs (key, slot), sorted. */
static int pairs_of(struct seg_name_pair **out, size_t *n_out, size_t n,
		    uint32_t (*key_of)(const void *base, size_t i), const void *base)
{
	struct seg_name_pair *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = (struct seg_name_pair){ key_of(base, i), (uint32_t)i };
	qsort(v, n, sizeof(*v), pair_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

static uint32_t ep_id(const void *base, size_t i)
{
	return ((const struct seg_endpoint *)base)[i].endpoint_id;
}

static uint32_t ep_ifindex(const void *base, size_t i)
{
	return ((const struct seg_endpoint *)base)[i].ifindex;
}

static uint32_t prefix_identity(const void *base, size_t i)
{
	return ((const struct seg_ipc_prefix_entry *)base)[i].value.identity;
}

/* Ids are handed out from 1 (seg_state_free_endpoint_id): a table by id
 * when they are that dense, sorted pairs when a state file chose others. */
static int build_ids(struct seg_name_index *x, const struct seg_world *w)
{
	uint32_t max = 0;

	for (size_t i = 0; i < w->n_endpoints; i++)
		max = w->endpoints[i].endpoint_id > max ? w->endpoints[i].endpoint_id : max;
	if (max > 4 * w->n_endpoints + 64)
		return pairs_of(&x->ids, &x->n_ids, w->n_endpoints, ep_id, w->endpoints);
	x->n_id_slot = (size_t)max + 1;
	x->id_slot = calloc(x->n_id_slot, sizeof(*x->id_slot));
	if (!x->id_slot)
		return -ENOMEM;
	for (size_t i = w->n_endpoints; i-- > 0;)   /* backwards: the first wins */
		if (w->endpoints[i].endpoint_id)
			x->id_slot[w->endpoints[i].endpoint_id] = (uint32_t)i + 1;
	return 0;
}

int seg_name_index_refresh(struct seg_name_index *x, const struct seg_world *w,
			   const struct seg_compiled *c)
{
	int ret;

	seg_name_index_free(x);
	ret = build_ids(x, w);
	if (!ret)
		ret = pairs_of(&x->ifindexes, &x->n_ifindexes, w->n_endpoints,
			       ep_ifindex, w->endpoints);
	if (!ret)
		ret = pairs_of(&x->identities, &x->n_identities, c->n_prefixes,
			       prefix_identity, c->prefixes);
	if (ret)
		goto err;
	x->world = w;
	x->compiled = c;
	x->endpoints = w->endpoints;
	x->n_endpoints = w->n_endpoints;
	x->prefixes = c->prefixes;
	x->n_prefixes = c->n_prefixes;
	x->built = 1;
	return 0;
err:
	seg_name_index_free(x);
	return ret;
}

static bool is_current(const struct seg_name_index *x, const struct seg_world *w,
		       const struct seg_compiled *c)
{
	return x->built && x->world == w && x->compiled == c &&
	       x->endpoints == w->endpoints && x->n_endpoints == w->n_endpoints &&
	       x->prefixes == c->prefixes && x->n_prefixes == c->n_prefixes;
}

typedef int (*find_fn)(const struct seg_name_index *x, const struct seg_world *w,
		       const struct seg_compiled *c, uint32_t key, uint32_t *slot);

static int find_id(const struct seg_name_index *x, const struct seg_world *w,
		   const struct seg_compiled *c, uint32_t id, uint32_t *slot)
{
	(void)c;
	if (!id)
		return NONE;   /* no endpoint has id 0 */
	if (x->id_slot) {
		if (id >= x->n_id_slot || !x->id_slot[id])
			return NONE;
		*slot = x->id_slot[id] - 1;
	} else if (pair_find(x->ids, x->n_ids, id, slot)) {
		return NONE;
	}
	return *slot < w->n_endpoints && w->endpoints[*slot].endpoint_id == id ?
	       FOUND : STALE;
}

static int find_ifindex(const struct seg_name_index *x, const struct seg_world *w,
			const struct seg_compiled *c, uint32_t ifindex, uint32_t *slot)
{
	(void)c;
	if (!ifindex)
		return NONE;   /* 0: no interface known */
	if (pair_find(x->ifindexes, x->n_ifindexes, ifindex, slot))
		return NONE;
	return *slot < w->n_endpoints && w->endpoints[*slot].ifindex == ifindex ?
	       FOUND : STALE;
}

static int find_identity(const struct seg_name_index *x, const struct seg_world *w,
			 const struct seg_compiled *c, uint32_t id, uint32_t *slot)
{
	(void)w;
	if (pair_find(x->identities, x->n_identities, id, slot))
		return NONE;
	return *slot < c->n_prefixes && c->prefixes[*slot].value.identity == id ?
	       FOUND : STALE;
}

/* The slot of key, rebuilding when the index is behind: 0, -ENOENT or
 * -ENOMEM (a rebuild failed). */
static int lookup(struct seg_name_index *x, const struct seg_world *w,
		  const struct seg_compiled *c, find_fn find, uint32_t key,
		  uint32_t *slot)
{
	int ret;

	if (!is_current(x, w, c) && (ret = seg_name_index_refresh(x, w, c)))
		return ret;
	ret = find(x, w, c, key, slot);
	if (ret == STALE) {
		/* the world changed in place since the build */
		if ((ret = seg_name_index_refresh(x, w, c)))
			return ret;
		ret = find(x, w, c, key, slot);
	}
	return ret == FOUND ? 0 : -ENOENT;
}

static int endpoint_lookup(struct seg_name_index *x, const struct seg_world *w,
			   const struct seg_compiled *c, find_fn find, uint32_t key,
			   const struct seg_endpoint **out)
{
	uint32_t slot;
	int ret = lookup(x, w, c, find, key, &slot);

	*out = ret ? NULL : &w->endpoints[slot];
	return ret;
}

int seg_name_index_endpoint_id(struct seg_name_index *x, const struct seg_world *w,
			       const struct seg_compiled *c, uint32_t id,
			       const struct seg_endpoint **out)
{
	return endpoint_lookup(x, w, c, find_id, id, out);
}

int seg_name_index_ifindex(struct seg_name_index *x, const struct seg_world *w,
			   const struct seg_compiled *c, uint32_t ifindex,
			   const struct seg_endpoint **out)
{
	return endpoint_lookup(x, w, c, find_ifindex, ifindex, out);
}

int seg_name_index_prefix(struct seg_name_index *x, const struct seg_world *w,
			  const struct seg_compiled *c, uint32_t id,
			  const struct seg_ipc_prefix_entry **out)
{
	uint32_t slot;
	int ret = lookup(x, w, c, find_identity, id, &slot);

	*out = ret ? NULL : &c->prefixes[slot];
	return ret;
}
