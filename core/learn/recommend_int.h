/* recommend_int.h - the recommendation as a model, between building it
 * (recommend.c) and writing it out (recommend_yaml.c). */
#ifndef SEGD_RECOMMEND_INT_H
#define SEGD_RECOMMEND_INT_H

#include "recommend.h"

enum rec_peer_kind {
	REC_WORKLOAD = 0,       /* ns + selector */
	REC_HOST = 1,           /* the node */
	REC_CIDR = 2,           /* outside addresses */
	REC_WORLD = 3,          /* the outside world (clients seen from many
				 * networks) */
};

struct rec_port {
	uint8_t proto;
	uint16_t port;          /* 0: the whole protocol (ICMP) */
};

/* A label selector: matchLabels, and keys that must be absent (when the
 * workload's labels are a subset of another workload's). */
struct rec_sel {
	struct seg_labels labels;
	struct seg_labels absent;       /* keys only (values "") */
	char text[512];                 /* "k=v,...,!k2" (compare, name) */
};

struct rec_rule {
	enum rec_peer_kind kind;
	char ns[64];                    /* REC_WORKLOAD */
	struct rec_sel sel;             /* REC_WORKLOAD */
	struct seg_cidr cidr;           /* REC_CIDR */
	size_t n_addrs;                 /* REC_CIDR, REC_WORLD: addresses seen */
	size_t n_nets;                  /* REC_WORLD: their networks */
	char names[256];                /* REC_CIDR: domain names, ", " joined */
	struct rec_port *ports;
	size_t n_ports;
	uint64_t flows, bytes;
	int64_t first, last;
};

struct rec_policy {
	char ns[64];
	char name[128];
	struct rec_sel subject;         /* selects the workload */
	struct rec_rule *rules[2];      /* by enum segd_dir */
	size_t n_rules[2];
	uint64_t flows;
};

struct rec_ns {
	char name[64];
	struct rec_policy *pols;
	size_t n_pols;
	size_t unlabelled;              /* edges of workloads without labels */
	size_t endpoint_addrs;          /* edges to addresses endpoints hold now */
};

struct rec_model {
	struct rec_ns *nss;
	size_t n_nss;
	size_t n_edges;
};

/* Write m as YAML documents of kind o->kind; counts into sum. */
int rec_write_yaml(const struct rec_model *m, const struct seg_rec_opts *o,
		   char **text, size_t *len, struct seg_rec_summary *sum);

#endif /* SEGD_RECOMMEND_INT_H */
