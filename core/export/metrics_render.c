/* metrics_render.c - a metrics snapshot as Prometheus text format 0.0.4
 * (pure: no syscalls). Every family gets HELP and TYPE lines, also when it
 * has no samples, so dashboards find the names on a fresh node. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include "segd_abi.h"
#include "metrics_render.h"
#include "detect.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values: backslash, double quote and newline are escaped. */
static void label_chars(FILE *f, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void label_value(FILE *f, const char *v)
{
	fputc('"', f);
	label_chars(f, v);
	fputc('"', f);
}

static void value(FILE *f, uint64_t v)
{
	fprintf(f, "} %llu\n", (unsigned long long)v);
}

static bool is_audit(unsigned int reason)
{
	return reason == SEGD_REASON_POLICY_AUDIT || reason == SEGD_REASON_STRATUM_AUDIT;
}

/* The reason label; NULL for an unnamed reason that never counted. */
static const char *reason_label(const struct seg_metrics_snapshot *s,
				unsigned int i, char *buf, size_t len)
{
	const char *name = segd_reason_name(i);

	if (name)
		return name;
	if (i == SEGD_REASON_POLICY_AUDIT)
		return "policy-audit";
	if (!s->reasons[i].packets)
		return NULL;
	snprintf(buf, len, "reason-%u", i);
	return buf;
}

static void verdicts(FILE *f, const struct seg_metrics_snapshot *s)
{
	struct segd_counter sum[3] = { s->reasons[SEGD_REASON_FORWARDED] };
	static const char *const names[3] = { "forwarded", "dropped", "audit" };

	for (unsigned int i = 1; i < SEGD_REASON_MAX; i++) {
		struct segd_counter *to = &sum[is_audit(i) ? 2 : 1];

		to->packets += s->reasons[i].packets;
		to->bytes += s->reasons[i].bytes;
	}
	family(f, "segd_packets_total", "counter", "Packets judged by segd's hooks, by "
	       "verdict (audit packets are forwarded too, and counted there as well).");
	for (int v = 0; v < 3; v++)
		fprintf(f, "segd_packets_total{verdict=\"%s\"} %llu\n", names[v],
			(unsigned long long)sum[v].packets);
	family(f, "segd_bytes_total", "counter", "Bytes of those packets as the hook saw "
	       "them (Ethernet frame without FCS), by verdict.");
	for (int v = 0; v < 3; v++)
		fprintf(f, "segd_bytes_total{verdict=\"%s\"} %llu\n", names[v],
			(unsigned long long)sum[v].bytes);
}

static void reasons(FILE *f, const struct seg_metrics_snapshot *s, bool audit,
		    const char *name, const char *help, bool bytes)
{
	char buf[32];

	family(f, name, "counter", help);
	for (unsigned int i = 1; i < SEGD_REASON_MAX; i++) {
		const char *label = reason_label(s, i, buf, sizeof(buf));

		if (is_audit(i) != audit || !label)
			continue;
		fprintf(f, "%s{reason=", name);
		label_value(f, label);
		value(f, bytes ? s->reasons[i].bytes : s->reasons[i].packets);
	}
}

static void rule_family(FILE *f, const struct seg_metrics_snapshot *s,
			const char *name, const char *help, int which)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < s->n_rules; i++) {
		const struct seg_metrics_rule *r = &s->rules[i];
		uint64_t v = which == 0 ? r->c.flows : which == 1 ? r->c.packets : r->c.bytes;

		char policy[600];

		fprintf(f, "%s{policy=", name);
		if (r->policy_ns) {
			/* one name for a policy everywhere: admin/NAME for a
			 * ClusterNetworkPolicy of the Admin tier */
			seg_policy_label(r->kind, r->tier, r->policy_ns,
					 r->policy_name, policy, sizeof(policy));
			label_value(f, policy);
		} else {
			fputs("\"default\"", f);
		}
		fprintf(f, ",rule=\"%u\"", r->policy_ns ? r->rule : 0);
		if (r->policy_ns && r->rule_name && *r->rule_name) {
			fputs(",rule_name=", f);
			label_value(f, r->rule_name);
		}
		value(f, v);
	}
}

static void list_family(FILE *f, const struct seg_metrics_snapshot *s,
			const char *name, const char *help, bool bytes)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < s->n_lists; i++) {
		const struct seg_metrics_list *l = &s->lists[i];

		fprintf(f, "%s{list=", name);
		label_value(f, l->name);
		fputs(",category=", f);
		label_value(f, l->category);
		fputs(",action=", f);
		label_value(f, l->action);
		value(f, bytes ? l->c.bytes : l->c.packets);
	}
}

static void map_family(FILE *f, const struct seg_metrics_snapshot *s,
		       const char *name, const char *help, bool capacity)
{
	family(f, name, "gauge", help);
	for (size_t i = 0; i < s->n_maps; i++) {
		fprintf(f, "%s{map=", name);
		label_value(f, s->maps[i].name);
		value(f, capacity ? s->maps[i].capacity : s->maps[i].entries);
	}
}

struct scalar_row {
	const char *name, *type, *help;
	uint64_t v;
};

/* Families of one sample without labels: flow table, flow log, state. */
static void scalars(FILE *f, const struct seg_metrics_snapshot *s)
{
	const struct seg_flow_stats *fs = &s->flows;
	const struct seg_flowlog_stats *fl = &s->flowlog;
	const struct scalar_row rows[] = {
		{ "segd_events_sent_total", "counter",
		  "Drop and audit events the kernel put into the ring buffer.",
		  fs->events_sent },
		{ "segd_events_rate_limited_total", "counter",
		  "Events the kernel suppressed by the per-endpoint rate limit.",
		  fs->events_rate_limited },
		{ "segd_events_ring_full_total", "counter",
		  "Events lost because the ring buffer was full.", fs->events_ring_full },
		{ "segd_events_lost_total", "counter", "Events that never reached segd "
		  "(rate limited + ring full); packet counters stay exact.",
		  fs->events_rate_limited + fs->events_ring_full },
		{ "segd_events_read_total", "counter",
		  "Events segd consumed from the ring buffer.", fs->events_read },
		{ "segd_flow_records_total", "counter",
		  "Flow records handed to the exporters.", fs->records },
		{ "segd_flows_active", "gauge", "Flows the flow table tracks now.",
		  fs->flows_active },
		{ "segd_flow_conntrack_scans_total", "counter",
		  "Passes of the flow table over the conntrack map.", fs->ct_scans },
		{ "segd_flow_log_lines_total", "counter",
		  "Flow records written to the JSON flow log.", fl->lines },
		{ "segd_flow_log_bytes_total", "counter",
		  "Bytes written to the JSON flow log.", fl->bytes },
		{ "segd_flow_log_rotations_total", "counter",
		  "Size rotations of the JSON flow log.", fl->rotations },
		{ "segd_flow_log_write_errors_total", "counter",
		  "Flow records lost to write or rotation errors.", fl->write_errors },
		{ "segd_ipfix_messages_total", "counter",
		  "IPFIX messages sent (each to every collector).", s->ipfix.messages },
		{ "segd_ipfix_records_total", "counter",
		  "Flow records exported as IPFIX data records.", s->ipfix.records },
		{ "segd_ipfix_send_errors_total", "counter",
		  "IPFIX sends that failed, summed over collectors.", s->ipfix.send_errors },
		{ "segd_endpoints", "gauge", "Endpoints segd knows.", s->n_endpoints },
		{ "segd_policies", "gauge", "Policies in the desired state.", s->n_policies },
		{ "segd_namespaces", "gauge", "Namespaces segd knows.", s->n_namespaces },
		{ "segd_quarantines", "gauge", "Quarantines in force (segctl get "
		  "quarantines).", s->n_quarantines },
		{ "segd_learn_edges", "gauge", "Learned edges held (segctl recommend).",
		  s->learn_edges },
		{ "segd_learn_edges_refused_total", "counter", "New edges refused because "
		  "learn_max_edges were held.", s->learn_refused },
		{ "segd_learn_memory_bytes", "gauge", "Memory the learned edges take.",
		  s->learn_memory_bytes },
		{ "segd_policy_generation", "gauge",
		  "Generation of the policy the kernel enforces.", s->generation },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		family(f, rows[i].name, rows[i].type, rows[i].help);
		fprintf(f, "%s %llu\n", rows[i].name, (unsigned long long)rows[i].v);
	}
	family(f, "segd_flow_conntrack_scan_seconds", "gauge",
	       "How long the last conntrack pass took.");
	fprintf(f, "segd_flow_conntrack_scan_seconds %.6f\n", fs->last_scan_ms / 1000.0);
}

static void write_all(FILE *f, const struct seg_metrics_snapshot *s)
{
	family(f, "segd_build_info", "gauge", "segd's version; the value is always 1.");
	fputs("segd_build_info{version=", f);
	label_value(f, s->version);
	value(f, 1);
	verdicts(f, s);
	reasons(f, s, false, "segd_dropped_packets_total",
		"Dropped packets by reason.", false);
	reasons(f, s, false, "segd_dropped_bytes_total",
		"Bytes of dropped packets (as the hook saw them) by reason.", true);
	reasons(f, s, true, "segd_audited_packets_total",
		"Packets an audit mode let through that would have been dropped, by "
		"reason (policy-audit counts once per flow).", false);
	reasons(f, s, true, "segd_audited_bytes_total",
		"Bytes of those packets, by reason.", true);
	rule_family(f, s, "segd_rule_flows_total", "New flows decided by a policy rule "
		    "(policy=\"default\" rule=\"0\": no rule matched).", 0);
	rule_family(f, s, "segd_rule_packets_total",
		    "Packets of those decisions (first packets of the flows).", 1);
	rule_family(f, s, "segd_rule_bytes_total",
		    "IP bytes of those packets.", 2);
	list_family(f, s, "segd_blocklist_packets_total",
		    "Packets that hit a blocklist (dropped, or counted only in audit).", false);
	list_family(f, s, "segd_blocklist_bytes_total",
		    "IP bytes of those packets.", true);
	map_family(f, s, "segd_map_entries", "Entries in a BPF map (the active slot "
		   "of a double-buffered one).", false);
	map_family(f, s, "segd_map_capacity", "Maximum entries of a BPF map.", true);
	scalars(f, s);
	family(f, "segd_quarantine_actions_total", "counter", "Quarantines and releases "
	       "since segd started (each one is also in the audit log).");
	fprintf(f, "segd_quarantine_actions_total{action=\"quarantine\"} %llu\n",
		(unsigned long long)s->quarantine_actions[0]);
	fprintf(f, "segd_quarantine_actions_total{action=\"release\"} %llu\n",
		(unsigned long long)s->quarantine_actions[1]);
	family(f, "segd_alerts_total", "counter", "Detections raised since segd "
	       "started, by kind and MITRE ATT&CK technique (segctl alerts).");
	for (int k = 1; k < SEGD_ALERT_KIND_MAX; k++)
		if (segd_alert_kind_name((__u32)k))
			fprintf(f, "segd_alerts_total{kind=\"%s\",technique=\"%s\"} %llu\n",
				segd_alert_kind_name((__u32)k),
				seg_detect_technique((enum segd_alert_kind)k),
				(unsigned long long)s->alerts[k]);
}

int seg_metrics_render(const struct seg_metrics_snapshot *s, char **out, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	*out = NULL;
	if (!f)
		return -ENOMEM;
	write_all(f, s);
	if (fclose(f) || !text) {
		free(text);
		return -ENOMEM;
	}
	*out = text;
	if (len)
		*len = n;
	return 0;
}
