/* metrics.h - Prometheus /metrics (text format 0.0.4) over libevent's evhttp.
 *
 * A scrape gathers a snapshot (kernel counters through datapath.h, the
 * compiled rules, the lists, the flow table's counters) and renders it;
 * rendering is pure, so tests feed it snapshots directly.
 */
#ifndef SEGD_METRICS_H
#define SEGD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "datapath.h"
#include "flow_record.h"
#include "flowlog.h"
#include "ipfix.h"
#include "segd_abi.h"

struct event_base;
struct segd;
struct seg_metrics;

/* One policy rule's counters; policy_ns NULL = rule id 0, the default
 * verdict (policy="default", rule="0"). rule is 1-based, as in
 * `segctl flows` ("ns/name#N"). */
struct seg_metrics_rule {
	const char *policy_ns, *policy_name;
	uint32_t rule;
	struct segd_rule_counter c;
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
};

/* The exposition text of s in *out (malloc'd, NUL-terminated), its length
 * in *len. 0 or -ENOMEM. */
int seg_metrics_render(const struct seg_metrics_snapshot *s, char **out, size_t *len);

/* "127.0.0.1:9470", "[::1]:9470", "0.0.0.0:9470", "[::]:9470" -> host
 * literal and port. 0 or -EINVAL. */
int seg_metrics_parse_addr(const char *addr, char *host, size_t hostlen,
			   uint16_t *port);

/* Serve GET /metrics on addr ("off": *out = NULL, nothing served). Needs
 * d->dp (the counters are the kernel's). Everything but /metrics is 404. */
int seg_metrics_start(struct event_base *base, const char *addr, struct segd *d,
		      struct seg_metrics **out, struct seg_error *err);
/* The flow log whose counters to show (NULL: none; zeros are shown). */
void seg_metrics_set_flowlog(struct seg_metrics *m, const struct seg_flowlog *fl);
/* The IPFIX exporter whose counters /metrics shows (NULL: none). */
void seg_metrics_set_ipfix(struct seg_metrics *m, const struct seg_ipfix *x);
void seg_metrics_stop(struct seg_metrics *m);

#endif /* SEGD_METRICS_H */
