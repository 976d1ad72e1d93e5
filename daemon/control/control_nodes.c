/* control_nodes.c - the cluster's nodes, which ClusterNetworkPolicy
 * `nodes` peers select by their labels: node.set, node.del and the rows
 * of `get nodes`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control_int.h"
#include "yaml_util.h"

static int parse_node(struct segd_req *r, struct seg_node *n)
{
	const char *name, *labels = segd_arg_str(r, "labels"), *why;
	yaml_node_t *ips = yu_map_get(r->doc, r->args, "ips");
	int ret;

	if ((ret = segd_arg_need(r, "name", &name)))
		return ret;
	if ((why = seg_node_name_problem(name)))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "node name '%s' %s (a Node's metadata.name)", name, why);
	if (yu_seq_len(ips) == 0 || yu_seq_len(ips) > SEG_MAX_NODE_IPS)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "a node needs 1 to %d --ip addresses (its InternalIP "
				  "and ExternalIP addresses)", SEG_MAX_NODE_IPS);
	if (!(n->name = strdup(name)))
		return -ENOMEM;
	for (size_t i = 0; i < yu_seq_len(ips); i++) {
		const char *a = yu_scalar(yu_seq_at(r->doc, ips, i));

		if (!a || seg_addr_parse(a, &n->ips[n->n_ips]))
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
					  "--ip '%s' is not an IPv4 or IPv6 address",
					  a ? a : "?");
		n->n_ips++;
	}
	if (labels && (ret = seg_labels_parse(labels, &n->labels, r->err)))
		return ret;
	return 0;
}

/* Compile the world with nodes arr[0..n) and enforce it; the caller
 * commits the change to the state on success. */
static int enforce_nodes(struct segd *d, struct seg_node *arr, size_t n,
			 struct seg_error *err)
{
	struct seg_world w = segd_candidate_of(d);
	struct seg_compiled c;
	int ret;

	w.nodes = arr;
	w.n_nodes = n;
	ret = segd_compile_and_enforce(d, &w, false, &c, err, NULL);
	if (!ret)
		segd_install_compiled(d, &c);
	return ret;
}

int segd_h_node_set(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_node node = { 0 }, *cur, *arr = NULL;
	size_t n = d->state.world.n_nodes, slot;
	bool existed;
	int ret;

	if ((ret = parse_node(r, &node)))
		goto out;
	/* candidate node list: the current one with node added or replaced */
	if (!(arr = calloc(n + 1, sizeof(*arr)))) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(arr, d->state.world.nodes, n * sizeof(*arr));
	cur = seg_state_find_node(&d->state, node.name);
	existed = cur != NULL;
	slot = cur ? (size_t)(cur - d->state.world.nodes) : n;
	arr[slot] = node;
	if ((ret = enforce_nodes(d, arr, existed ? n : n + 1, r->err)))
		goto out;
	yu_set_str(out, res, "node", node.name);
	yu_set_str(out, res, "action", existed ? "configured" : "created");
	if ((ret = seg_state_put_node(&d->state, &node)))
		goto out;
	ret = segd_persist_main(d, r->err);
out:
	free(arr);
	seg_node_free(&node);
	return ret;
}

int segd_h_node_del(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_node *cur, *arr;
	const char *name;
	size_t n = d->state.world.n_nodes, idx;
	int ret;

	if ((ret = segd_arg_need(r, "name", &name)))
		return ret;
	cur = seg_state_find_node(&d->state, name);
	if (!cur)
		return seg_errorf(r->err, NULL, 0, 0, -ENOENT,
				  "node %s not found; see `segctl get nodes`", name);
	if (!(arr = calloc(n, sizeof(*arr))))
		return -ENOMEM;
	idx = (size_t)(cur - d->state.world.nodes);
	memcpy(arr, d->state.world.nodes, n * sizeof(*arr));
	arr[idx] = arr[n - 1];
	ret = enforce_nodes(d, arr, n - 1, r->err);
	free(arr);
	if (ret)
		return ret;
	yu_set_str(out, res, "node", name);
	yu_set_str(out, res, "action", "deleted");
	seg_state_del_node(&d->state, name);
	return segd_persist_main(d, r->err);
}

int segd_get_nodes(struct segd *d, yaml_document_t *out, int items)
{
	char addr[64];

	for (size_t i = 0; i < d->state.world.n_nodes; i++) {
		const struct seg_node *n = &d->state.world.nodes[i];
		int m = yu_add_map(out), ips = yu_add_seq(out), l = yu_add_map(out);

		if (m < 0 || ips < 0 || l < 0 || yu_append(out, items, m) ||
		    yu_set_str(out, m, "name", n->name))
			return -ENOMEM;
		for (size_t j = 0; j < n->n_ips; j++) {
			seg_addr_format(&n->ips[j], addr, sizeof(addr));
			if (yu_append(out, ips, yu_add_str(out, addr)))
				return -ENOMEM;
		}
		for (size_t j = 0; j < n->labels.n; j++)
			if (yu_set_str(out, l, n->labels.v[j].key, n->labels.v[j].value))
				return -ENOMEM;
		if (yu_set(out, m, "ips", ips) || yu_set(out, m, "labels", l))
			return -ENOMEM;
	}
	return 0;
}
