/* edges.h - what segd saw, kept: the flows of the node's workloads
 * aggregated into edges, the raw material of `segctl recommend`.
 *
 * An edge is (local workload, direction, remote, protocol, port) with when
 * it was first and last seen and how many flows, packets and bytes it
 * carried. The local workload is named by its namespace and identity
 * labels (the labels minus the ones that change with every rollout, such
 * as pod-template-hash), never by its name or address, so the replicas of
 * a Deployment share their edges. The remote is a workload (namespace and
 * identity labels, local or of another node), the node itself (host), or
 * an outside address (with the domain name the resolver knows for it).
 * The port is the one the flow was opened to: conntrack knows who opened a
 * flow, so replies and ephemeral ports never become edges. ICMP is one
 * edge per direction and peer (no type).
 *
 * Pure: records come in from the flow table (flow_record.h), text goes out
 * for the state dir and comes back at start. Memory is bounded: at most
 * max_edges edges (new ones past it are counted, not kept) and the strings
 * they share.
 */
#ifndef SEGD_EDGES_H
#define SEGD_EDGES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "flow_record.h"

enum seg_edge_remote {
	SEG_EDGE_WORKLOAD = 1,  /* remote: "ns k=v,k=v" */
	SEG_EDGE_HOST = 2,      /* the node itself */
	SEG_EDGE_OUTSIDE = 3,   /* addr, and name when the resolver knew one */
};

struct seg_edge {
	/* key */
	uint32_t local;         /* string id: "ns k=v,k=v" (identity labels) */
	uint32_t remote;        /* SEG_EDGE_WORKLOAD: string id, else 0 */
	struct in6_addr addr;   /* SEG_EDGE_OUTSIDE: the address (IPv4 mapped) */
	uint16_t port;          /* the port the flow was opened to; 0 for ICMP */
	uint8_t proto;          /* IPPROTO_* */
	uint8_t dir;            /* enum segd_dir, seen from the local workload */
	uint8_t remote_kind;    /* enum seg_edge_remote */
	uint8_t pad[3];
	/* what was seen */
	uint32_t name;          /* SEG_EDGE_OUTSIDE: string id of the domain
				 * name the address had when first seen, 0 */
	int64_t first_seen, last_seen;  /* unix seconds */
	uint64_t flows, packets, bytes; /* both directions */
};

struct seg_edges;

#define SEG_EDGES_DEFAULT_MAX 200000

int seg_edges_new(size_t max_edges, struct seg_edges **out);
void seg_edges_free(struct seg_edges *e);

/* Who names an outside address (the resolver's answers): writes the name
 * into buf and returns true, else false. */
typedef bool (*seg_edge_namer_fn)(void *ctx, const struct in6_addr *addr,
				  char *buf, size_t len);
void seg_edges_set_namer(struct seg_edges *e, seg_edge_namer_fn fn, void *ctx);

/* One flow record (a flow table sink: seg_flow_sink_fn). Dropped flows,
 * flows whose local side is not a known endpoint, TCP flows whose SYN was
 * not seen (picked up mid-flow: who opened them is unknown), UDP and SCTP
 * flows first seen going from a port below 32768 to one at or above it
 * (a server's reply picked up mid-flow: the client's port is no edge)
 * and port-0 flows of TCP, UDP or SCTP teach nothing. */
void seg_edges_sink(void *ctx, const struct seg_flow_record *r);
/* The same, with the outcome: 0 (kept or nothing to learn), -ENOSPC (a
 * new edge past max_edges: counted), -ENOMEM. */
int seg_edges_observe(struct seg_edges *e, const struct seg_flow_record *r);

/* Novelty (detection's new-destination): fn is called when a record
 * makes an egress edge to an outside address that its workload never
 * reached before, by address or by the domain name the namer gave, once
 * the workload's first edge is after_s seconds older than the record.
 * name: that domain name, or NULL. fn NULL: off. */
typedef void (*seg_edge_novel_fn)(void *ctx, const struct seg_flow_record *r,
				  const char *name);
void seg_edges_set_novelty(struct seg_edges *e, int64_t after_s, seg_edge_novel_fn fn,
			   void *ctx);

size_t seg_edges_count(const struct seg_edges *e);
const struct seg_edge *seg_edges_at(const struct seg_edges *e, size_t i);
const char *seg_edges_string(const struct seg_edges *e, uint32_t id);
/* New edges refused because the store was full (or their labels beyond
 * 2 KB), since it was made. */
uint64_t seg_edges_refused(const struct seg_edges *e);
/* TCP records skipped because the flow's SYN was never seen. */
uint64_t seg_edges_midflow(const struct seg_edges *e);
/* UDP/SCTP records skipped because the flow's first packet seen went
 * from a service port to a client's ephemeral port (a reply). */
uint64_t seg_edges_reply_first(const struct seg_edges *e);
/* Bytes the store holds on the heap (arrays, index, strings). */
size_t seg_edges_memory(const struct seg_edges *e);
/* Changed since the last seg_edges_save (or load). */
bool seg_edges_dirty(const struct seg_edges *e);

/* Forget the edges of the local workloads of namespace ns (NULL: all).
 * Returns how many went. */
size_t seg_edges_reset(struct seg_edges *e, const char *ns);

/* The namespace of a "ns labels" string into buf (for filters). */
void seg_edge_ns(const char *workload, char *buf, size_t len);

/* Text for the state dir (malloc'd, NUL-terminated) and back. Load merges
 * into e up to the first bad line, which is an error with its line number
 * (what came before it is kept; segd then rewrites the file at its next
 * save). */
int seg_edges_save(struct seg_edges *e, char **text, size_t *len);
int seg_edges_load(struct seg_edges *e, const char *text, size_t len,
		   struct seg_error *err);

/* "k=v,k2=v2" of l's identity labels (the labels minus the ones that
 * change with each rollout or pod: pod-template-hash, controller-uid, ...),
 * sorted by key. Returns the length it needs (as snprintf). */
int seg_identity_labels(const struct seg_labels *l, char *buf, size_t len);
bool seg_identity_label_key(const char *key);

#endif /* SEGD_EDGES_H */
