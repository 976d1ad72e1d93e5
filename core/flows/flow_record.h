/* flow_record.h - one flow record, as every exporter sees it.
 *
 * The flow table (flowtab.c) turns conntrack entries (forwarded and audit
 * flows, with exact counters) and drop events from the ring buffer into
 * records; the exporters (JSON flow log, IPFIX, /metrics, `segctl flows`)
 * only read them. Counters are deltas since the previous record of the
 * same flow, so summing a flow's records gives its exact totals. A flow
 * that ends or idles out gets one more record with final = true.
 *
 * Orientation: src is the side that opened the flow (the first packet
 * segd saw), so `packets`/`bytes` are the original direction and
 * `reply_*` the other. A flow between two endpoints of this node is seen
 * by both endpoints' hooks and reported once per endpoint (observer says
 * which). All strings are borrowed: valid only during the call.
 */
#ifndef SEGD_FLOW_RECORD_H
#define SEGD_FLOW_RECORD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include "model.h"

enum seg_flow_verdict {
	SEG_FLOW_FORWARDED = 0,
	SEG_FLOW_DROPPED = 1,
	SEG_FLOW_AUDIT = 2,     /* a policy in audit mode would have dropped it */
};

/* One side of a flow: a local endpoint, or whatever else the address is. */
struct seg_flow_peer {
	const char *ns;                 /* endpoint's namespace, else NULL */
	const char *name;               /* endpoint's name, else NULL */
	const struct seg_labels *labels; /* endpoint's labels, else NULL */
	const char *identity;           /* "world", "host", "cidr:10.0.0.0/8",
					 * an endpoint's "ns/name"; never NULL */
};

struct seg_flow_record {
	uint64_t time_ns;       /* when the record was made, CLOCK_REALTIME */
	uint64_t start_ns;      /* first packet, CLOCK_REALTIME */
	uint64_t end_ns;        /* last packet, CLOCK_REALTIME */
	bool final;             /* last record of this flow (ended or idle) */
	uint8_t verdict;        /* enum seg_flow_verdict */
	uint8_t proto;          /* IPPROTO_* */
	uint8_t direction;      /* enum segd_dir of the first packet, seen from
				 * the observing endpoint */
	uint8_t tcp_flags;      /* OR of the flags seen, both directions */
	struct in6_addr src;    /* IPv4 mapped */
	struct in6_addr dst;
	uint16_t sport, dport;  /* host order; 0 for protocols without ports;
				 * ICMP: sport 0, dport type << 8 | code (as
				 * IPFIX does); conntrack tracks echo flows,
				 * so those are echo requests */
	uint64_t packets, bytes;             /* original direction, delta */
	uint64_t reply_packets, reply_bytes; /* reply direction, delta */
	/* since the flow started: what a final record reports as the flow's
	 * final counts (and `segctl flows` shows) */
	uint64_t total_packets, total_bytes, total_reply_packets, total_reply_bytes;
	struct seg_flow_peer source, destination;
	const char *observer;   /* "ns/name" of the endpoint whose hook saw it */
	uint32_t ifindex;       /* that endpoint's host interface */
	uint32_t rule_id;       /* 0: default verdict, or not enforced */
	const char *policy;     /* "ns/name#N" of the deciding rule
				 * ("admin/name#N", "baseline/name#N" for a
				 * ClusterNetworkPolicy), or NULL */
	const char *rule_name;  /* that rule's own `name:`, NULL when unnamed */
	const char *drop_reason; /* segd reason name ("policy-denied", ...) for
				  * drops and audits, else NULL */
	const char *blocklist;  /* list that matched, else NULL */
	/* Records of one nonzero epoch were named from one unchanged world:
	 * there, equal borrowed pointers (labels, ns) are the same endpoint,
	 * so a sink may keep what it made of them until the epoch moves.
	 * 0: unknown (records made elsewhere), nothing to share. */
	uint64_t names_epoch;
};

/* Counters the flow table keeps for /metrics and `segctl status`. */
struct seg_flow_stats {
	uint64_t events_sent;          /* kernel: reached the ring */
	uint64_t events_rate_limited;  /* kernel: suppressed per endpoint */
	uint64_t events_ring_full;     /* kernel: no room in the ring */
	uint64_t events_read;          /* segd: consumed from the ring */
	uint64_t records;              /* records handed to the exporters */
	uint64_t flows_active;         /* flows the table tracks now */
	uint64_t ct_scans;             /* conntrack passes */
	double   last_scan_ms;         /* how long the last pass took */
};

#endif /* SEGD_FLOW_RECORD_H */
