/* recommend.h - a least-privilege policy from the learned edges
 * (`segctl recommend`).
 *
 * For each namespace: a default deny of both directions, and per local
 * workload one policy that allows exactly the edges seen, nothing else.
 * Workloads and peers are selected by labels (the fewest identity labels
 * that tell the workload apart from the others of its namespace: app,
 * app.kubernetes.io/name, ..., else all of them), never by address. The
 * node is `entity: host`. Outside peers are the addresses seen, merged
 * into a prefix only when at least `aggregate_share` of the prefix was
 * seen; the domain names the resolver knew for them are written beside
 * them. Ingress from clients in many networks is ingress from the world.
 * Addresses an endpoint holds now are left out (never a pod address). Every rule carries a comment with what it was learned from
 * (flows, bytes, first and last seen), so a reviewer can judge it.
 *
 * Pure and deterministic: the same edges and world give the same bytes.
 */
#ifndef SEGD_RECOMMEND_H
#define SEGD_RECOMMEND_H

#include <stddef.h>
#include <stdint.h>
#include "edges.h"
#include "error.h"
#include "model.h"

enum seg_rec_kind {
	SEG_REC_SEGMENTPOLICY = 0,
	SEG_REC_NETWORKPOLICY = 1,
};

#define SEG_REC_DEFAULT_SHARE 0.5
/* ingress from this many outside addresses in this many networks (/16,
 * IPv6 /32) is ingress from the world */
#define SEG_REC_DEFAULT_WORLD_ADDRS 16
#define SEG_REC_DEFAULT_WORLD_NETS 4

struct seg_rec_opts {
	const char *const *namespaces;  /* local workloads of these; none: all */
	size_t n_namespaces;
	int64_t since;                  /* edges last seen at or after (unix s); 0 all */
	enum seg_rec_kind kind;
	double aggregate_share;         /* (0, 1]; 0: SEG_REC_DEFAULT_SHARE */
	size_t world_min_addrs;         /* 0: SEG_REC_DEFAULT_WORLD_ADDRS */
	size_t world_min_nets;          /* 0: SEG_REC_DEFAULT_WORLD_NETS */
};

/* What the recommendation holds, for the caller's summary. */
struct seg_rec_summary {
	size_t edges;           /* edges used */
	size_t workloads;       /* policies for workloads */
	size_t rules;           /* rules in them */
	size_t skipped;         /* edges that could not be expressed (commented) */
};

/* YAML documents (malloc'd text, '\n'-terminated) for the edges of e
 * against world w (its endpoints tell workloads apart). An empty result
 * (no edges) is a comment saying so. 0, -EINVAL (bad options, err says
 * which) or -ENOMEM. */
int seg_recommend(const struct seg_edges *e, const struct seg_world *w,
		  const struct seg_rec_opts *o, char **text, size_t *len,
		  struct seg_rec_summary *sum, struct seg_error *err);

/* "SegmentPolicy" / "NetworkPolicy" (case-insensitive). */
int seg_rec_kind_parse(const char *s, enum seg_rec_kind *out);

#endif /* SEGD_RECOMMEND_H */
