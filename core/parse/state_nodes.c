/* state_nodes.c - the cluster's nodes in the desired state (`segctl node
 * set|del`): lookup and edit. Persisted in state.yaml by state.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "state.h"

struct seg_node *seg_state_find_node(struct seg_state *s, const char *name)
{
	for (size_t i = 0; i < s->world.n_nodes; i++)
		if (!strcmp(s->world.nodes[i].name, name))
			return &s->world.nodes[i];
	return NULL;
}

static int cmp_node(const void *a, const void *b)
{
	return strcmp(((const struct seg_node *)a)->name,
		      ((const struct seg_node *)b)->name);
}

int seg_state_put_node(struct seg_state *s, struct seg_node *n)
{
	struct seg_world *w = &s->world;
	struct seg_node *old = seg_state_find_node(s, n->name), *v;

	if (old) {
		seg_node_free(old);
		*old = *n;
		memset(n, 0, sizeof(*n));
		return 0;
	}
	v = realloc(w->nodes, (w->n_nodes + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->nodes = v;
	w->nodes[w->n_nodes++] = *n;
	memset(n, 0, sizeof(*n));
	/* kept sorted by name: `get nodes` and the state file list them so */
	qsort(w->nodes, w->n_nodes, sizeof(*w->nodes), cmp_node);
	return 0;
}

int seg_state_del_node(struct seg_state *s, const char *name)
{
	struct seg_world *w = &s->world;
	struct seg_node *n = seg_state_find_node(s, name);

	if (!n)
		return -ENOENT;
	seg_node_free(n);
	memmove(n, n + 1, (size_t)(w->nodes + w->n_nodes - n - 1) * sizeof(*n));
	w->n_nodes--;
	return 0;
}
