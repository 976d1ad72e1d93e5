/* state.h - segd's desired state: what the operator asked for, persisted
 * under --state-dir so a restarted segd (or a rebooted node) enforces the
 * same thing. The kernel is made to match it by compile + datapath apply.
 */
#ifndef SEGD_STATE_H
#define SEGD_STATE_H

#include "model.h"

#define SEG_MAX_UPLINKS 16

/* world.endpoints by (namespace, name) (state_index.c): open addressing
 * over their indices + 1; built at the first lookup, kept by put, dropped
 * by del (built again at the next lookup) */
struct seg_ep_index {
	uint32_t *slot;
	size_t cap, n;
};

struct seg_state {
	/* namespaces, endpoints, policies; world.host_ips is not owned here:
	 * the node's addresses come from the config file */
	struct seg_world world;
	char uplinks[SEG_MAX_UPLINKS][16];
	size_t n_uplinks;
	struct seg_ep_index ep_index;
};

void seg_state_free(struct seg_state *s);
/* state_index.c: the index after an endpoint was appended; dropped */
void seg_state_index_added(struct seg_state *s);
void seg_state_index_drop(struct seg_state *s);

/* A new state holds namespace `default`. */
int seg_state_init(struct seg_state *s);

struct seg_namespace *seg_state_find_ns(struct seg_state *s, const char *name);
/* Create the namespace if missing (with its kubernetes.io/metadata.name
 * label); replace its labels when `labels` is non-NULL. */
int seg_state_set_ns(struct seg_state *s, const char *name,
		     const struct seg_labels *labels);
struct seg_endpoint *seg_state_find_ep(struct seg_state *s, const char *ns,
				       const char *name);
/* Add or replace (same ns/name) an endpoint; takes ownership of *ep's
 * contents on success. Keeps a replaced endpoint's id. */
int seg_state_put_ep(struct seg_state *s, struct seg_endpoint *ep);
/* Lowest endpoint id not in use. */
uint32_t seg_state_free_endpoint_id(const struct seg_state *s);
/* the m lowest free ids into out (state_index.c) */
int seg_state_free_endpoint_ids(const struct seg_state *s, uint32_t *out, size_t m);
int seg_state_del_ep(struct seg_state *s, const char *ns, const char *name);
struct seg_policy *seg_state_find_policy(struct seg_state *s, const char *ns,
					 const char *name);
/* Add or replace (same ns/name); takes ownership of *p's contents. */
int seg_state_put_policy(struct seg_state *s, struct seg_policy *p);
int seg_state_del_policy(struct seg_state *s, const char *ns, const char *name);
int seg_state_add_uplink(struct seg_state *s, const char *ifname);
/* Nodes (state_nodes.c), kept sorted by name. put adds or replaces (same
 * name) and takes ownership of *n's contents on success. */
struct seg_node *seg_state_find_node(struct seg_state *s, const char *name);
int seg_state_put_node(struct seg_state *s, struct seg_node *n);
int seg_state_del_node(struct seg_state *s, const char *name);

/* Serialise to / restore from YAML text: state.yaml, without policies. */
int seg_state_to_yaml(const struct seg_state *s, char **out);
int seg_state_from_yaml(const char *buf, size_t len, const char *file,
			struct seg_state *s, struct seg_error *err);

/* The state dir holds state.yaml (namespaces, endpoints, nodes, uplinks) and
 * policies/<ns>_<name>.yaml, one file per policy, so a policy change
 * rewrites one small file. Every write is atomic (temp file, fsync,
 * rename, fsync of the directory). A missing dir loads as a fresh state. */
int seg_state_save(const struct seg_state *s, const char *dir);
int seg_state_save_main(const struct seg_state *s, const char *dir);
int seg_state_save_policy(const struct seg_policy *p, const char *dir);
int seg_state_remove_policy(const char *dir, const char *ns, const char *name);
int seg_state_load(struct seg_state *s, const char *dir, struct seg_error *err);

/* Write `data` to path atomically with mode. */
int seg_write_file_atomic(const char *path, const char *data, size_t len,
			  int mode);
/* Read a whole file (NUL-terminated). */
int seg_read_file(const char *path, char **out, size_t *len);

#endif /* SEGD_STATE_H */
