/* name_index.h - what the flow namers (flow_names.h) look up, indexed:
 * endpoints by endpoint_id and by ifindex, CIDR prefixes by identity.
 * A flow pass names every conntrack flow; without it every record
 * scanned all endpoints and all prefixes.
 *
 * Pure: no syscalls. The index holds slots, not pointers, and is keyed on
 * the world's and the compiled state's pointers and counts: a lookup whose
 * key moved rebuilds it first, and a hit whose slot no longer holds what
 * was asked for rebuilds it and asks again. Changes that keep pointers and
 * counts (an endpoint replaced in place) are seen after
 * seg_name_index_invalidate, which the flow table calls at the start of
 * every pass and listing (segd changes its world only between them).
 */
#ifndef SEGD_NAME_INDEX_H
#define SEGD_NAME_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct seg_world;
struct seg_compiled;
struct seg_endpoint;
struct seg_ipc_prefix_entry;

struct seg_name_pair {
	uint32_t key;
	uint32_t slot;   /* index into the world's endpoints / the prefixes */
};

struct seg_name_index {
	/* what it was built from */
	const struct seg_world *world;
	const struct seg_compiled *compiled;
	const void *endpoints, *prefixes;
	size_t n_endpoints, n_prefixes;
	int built;
	/* endpoint_id -> slot + 1 (0: none) when ids are dense, else ids */
	uint32_t *id_slot;
	size_t n_id_slot;
	struct seg_name_pair *ids, *ifindexes, *identities;   /* sorted */
	size_t n_ids, n_ifindexes, n_identities;
};

/* Empty (the first lookup builds). */
void seg_name_index_init(struct seg_name_index *x);
/* The world or the compiled state may have changed in place: the next
 * lookup rebuilds. */
void seg_name_index_invalidate(struct seg_name_index *x);
void seg_name_index_free(struct seg_name_index *x);
/* Rebuild from w and c now: 0 or -ENOMEM (the index is then empty). */
int seg_name_index_refresh(struct seg_name_index *x, const struct seg_world *w,
			   const struct seg_compiled *c);

/* The first endpoint (in world order) with that id / ifindex into *out:
 * 0, -ENOENT (none; 0 finds none) or -ENOMEM (the caller may scan). */
int seg_name_index_endpoint_id(struct seg_name_index *x, const struct seg_world *w,
			       const struct seg_compiled *c, uint32_t id,
			       const struct seg_endpoint **out);
int seg_name_index_ifindex(struct seg_name_index *x, const struct seg_world *w,
			   const struct seg_compiled *c, uint32_t ifindex,
			   const struct seg_endpoint **out);
/* The first CIDR prefix (in compiled order) of identity id: the same. */
int seg_name_index_prefix(struct seg_name_index *x, const struct seg_world *w,
			  const struct seg_compiled *c, uint32_t id,
			  const struct seg_ipc_prefix_entry **out);

#endif /* SEGD_NAME_INDEX_H */
