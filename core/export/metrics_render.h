/* metrics_render.h - a metrics snapshot (kernel counters, the compiled
 * rules, the lists, the flow table's counters) and its rendering as
 * Prometheus text format 0.0.4. Pure: tests feed it snapshots directly;
 * daemon/events/metrics.c gathers them on a scrape. */
#ifndef SEGD_METRICS_RENDER_H
#define SEGD_METRICS_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include "flow_record.h"
#include "flowlog.h"
#include "ipfix.h"
#include "segd_abi.h"

/* How full one map is (filled by the datapath, seg_dp_map_usage()). */
struct seg_dp_map_usage {
	const char *name;
	uint32_t entries;
	uint32_t capacity;
};

/* One policy rule's counters; policy_ns NULL = rule id 0, the default
 * verdict (policy="default", rule="0"). rule is 1-based, as in
 * `segctl flows` ("ns/name#N"); the policy label is seg_policy_label
 * (admin/NAME for an Admin ClusterNetworkPolicy); rule_name, the rule's
 * own name, becomes a rule_name label when not empty. */
struct seg_metrics_rule {
	const char *policy_ns, *policy_name;
	uint32_t rule;
	struct segd_rule_counter c;
	enum seg_policy_kind kind;
	enum seg_tier tier;
	const char *rule_name;
};

struct seg_metrics_list {
	const char *name, *category, *action;
	struct segd_counter c;
};

/* Everything one scrape shows. Strings and arrays are borrowed. */
struct seg_metrics_snapshot {
	const char *version;
	uint32_t generation;
	struct segd_counter reasons[SEGD_REASON_MAX];
	const struct seg_metrics_rule *rules;    size_t n_rules;
	const struct seg_metrics_list *lists;    size_t n_lists;
	const struct seg_dp_map_usage *maps;     size_t n_maps;
	struct seg_flow_stats flows;
	struct seg_flowlog_stats flowlog;
	struct seg_ipfix_stats ipfix;
	size_t n_endpoints, n_policies, n_namespaces;
	size_t n_quarantines;
	uint64_t quarantine_actions[2];   /* quarantine, release (since start) */
	/* alerts raised since start per enum segd_alert_kind (detect.h) */
	uint64_t alerts[SEGD_ALERT_KIND_MAX];
	/* learned edges (core/learn/edges.h); all 0 when learning is off */
	uint64_t learn_edges, learn_refused, learn_memory_bytes;
};

/* The exposition text of s in *out (malloc'd, NUL-terminated), its length
 * in *len. 0 or -ENOMEM. */
int seg_metrics_render(const struct seg_metrics_snapshot *s, char **out, size_t *len);

#endif /* SEGD_METRICS_RENDER_H */
