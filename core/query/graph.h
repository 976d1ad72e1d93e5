/* graph.h - `segctl graph`: segment connectivity as Graphviz DOT.
 *
 * Pure (no syscalls). Nodes are identities: endpoint segments (endpoints
 * grouped by label set), and the world, host, CIDR identities and "any
 * peer" that policy entries name. An edge goes from the side that opens a
 * flow to the side that accepts it, labelled with the protocols and ports
 * the compiled policy entries allow, plus the flows conntrack has seen.
 */
#ifndef SEGD_GRAPH_H
#define SEGD_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

/* One observed flow, from the side that opened it. */
struct seg_graph_flow {
	uint32_t opener, acceptor;   /* identities */
	uint64_t packets, bytes;     /* both directions */
};

/* The flow a conntrack entry stands for. A flow between two local
 * endpoints has an entry at each end; only the opener's one counts, so
 * returns false for the acceptor's entry. */
bool seg_graph_flow_of(const struct seg_compiled *c, const struct segd_ct_key *k,
		       const struct segd_ct_value *v, struct seg_graph_flow *out);

/* The DOT text (malloc'd, NUL-terminated) for the compiled state c of
 * world w (for endpoint names), with the observed flows. ns (NULL or "" =
 * all) keeps the segments of one namespace and their peers. 0 or -ENOMEM. */
int seg_graph_dot(const struct seg_compiled *c, const struct seg_world *w,
		  const struct seg_graph_flow *flows, size_t n_flows,
		  const char *ns, char **out, size_t *len);

#endif /* SEGD_GRAPH_H */
