/* state_index.c - the state's endpoints by (namespace, name). A node
 * learns every pod of the cluster as a remote endpoint: a linear search
 * per registration made registering N of them (and loading them at start)
 * cost N x N. Pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "state.h"

static uint64_t key_hash(const char *ns, const char *name)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;   /* no label byte: ns|name stays apart */
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h ^ h >> 29;
}

static void insert(struct seg_ep_index *ix, const struct seg_endpoint *e, size_t i)
{
	size_t m = ix->cap - 1, k = key_hash(e->ns, e->name) & m;

	while (ix->slot[k])
		k = (k + 1) & m;
	ix->slot[k] = (uint32_t)i + 1;
	ix->n++;
}

static int rebuild(struct seg_state *s, size_t want)
{
	struct seg_ep_index *ix = &s->ep_index;
	size_t cap = 64;

	while (cap < 2 * want)
		cap *= 2;
	free(ix->slot);
	ix->n = 0;
	ix->slot = calloc(cap, sizeof(*ix->slot));
	ix->cap = ix->slot ? cap : 0;
	if (!ix->slot)
		return -ENOMEM;
	for (size_t i = 0; i < s->world.n_endpoints; i++)
		insert(ix, &s->world.endpoints[i], i);
	return 0;
}

struct seg_endpoint *seg_state_find_ep(struct seg_state *s, const char *ns,
				       const char *name)
{
	struct seg_ep_index *ix = &s->ep_index;
	struct seg_endpoint *v = s->world.endpoints;
	size_t m, k;

	if (ix->n != s->world.n_endpoints || !ix->cap) {
		if (rebuild(s, s->world.n_endpoints)) {
			for (size_t i = 0; i < s->world.n_endpoints; i++)
				if (!strcmp(v[i].ns, ns) && !strcmp(v[i].name, name))
					return &v[i];
			return NULL;
		}
	}
	m = ix->cap - 1;
	for (k = key_hash(ns, name) & m; ix->slot[k]; k = (k + 1) & m) {
		struct seg_endpoint *e = &v[ix->slot[k] - 1];

		if (!strcmp(e->ns, ns) && !strcmp(e->name, name))
			return e;
	}
	return NULL;
}

void seg_state_index_added(struct seg_state *s)
{
	struct seg_ep_index *ix = &s->ep_index;
	size_t i = s->world.n_endpoints - 1;

	/* not kept (never built, or dropped): the next lookup builds it */
	if (!ix->cap || ix->n != i)
		return;
	if (2 * (ix->n + 1) > ix->cap) {
		if (rebuild(s, ix->n + 1))
			ix->n = SIZE_MAX;   /* stale: built again at the next lookup */
		return;
	}
	insert(ix, &s->world.endpoints[i], i);
}

void seg_state_index_drop(struct seg_state *s)
{
	free(s->ep_index.slot);
	memset(&s->ep_index, 0, sizeof(s->ep_index));
}

int seg_state_free_endpoint_ids(const struct seg_state *s, uint32_t *out, size_t m)
{
	size_t n = s->world.n_endpoints, top = n + m, k = 0;
	uint8_t *used = calloc(top / 8 + 1, 1);

	/* the m lowest ids no endpoint holds: all within 1 .. n + m */
	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t e = s->world.endpoints[i].endpoint_id;

		if (e >= 1 && e <= top)
			used[(e - 1) / 8] |= (uint8_t)(1u << ((e - 1) % 8));
	}
	for (uint32_t id = 1; k < m && id <= top; id++)
		if (!(used[(id - 1) / 8] & (1u << ((id - 1) % 8))))
			out[k++] = id;
	free(used);
	return 0;
}
