/* audit_report.h - what staged (audit-mode) policies would have dropped,
 * for `segctl audit-report`: a sink of the flow table that keeps the
 * records with verdict audit, grouped by policy and rule.
 *
 * Per group (the rule as flow records name it, "ns/name#N", or the audit
 * policy's default deny): flows, packets and bytes (both directions),
 * first and last seen, and the distinct flows (source identity and labels
 * -> destination identity, protocol, destination port) with their counts.
 * A flow is counted once although every flow_interval brings a delta
 * record of it: at its first record (totals equal to the deltas).
 *
 * Memory is bounded: at most max_groups groups, max_per_rule distinct
 * flows per group and max_flows in all; what a cap leaves out is counted
 * (flows_omitted per group, records_omitted for whole groups), never
 * silently lost. Pure: no syscalls; names come from the view at the time
 * of each record.
 */
#ifndef SEGD_AUDIT_REPORT_H
#define SEGD_AUDIT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>
#include "flow_names.h"
#include "flow_record.h"

#define SEG_AUDIT_MAX_GROUPS    1024
#define SEG_AUDIT_MAX_PER_RULE  64
#define SEG_AUDIT_MAX_FLOWS     8192

struct seg_audit_flow {
	char *source;           /* identity: "ns/name", "world", "cidr:..." */
	char *source_labels;    /* "k=v,..." of a local endpoint, else "" */
	char *destination;
	uint8_t proto;
	uint16_t port;          /* destination port (ICMP: type << 8 | code) */
	uint64_t flows, packets, bytes, first_ns, last_ns;
};

struct seg_audit_group {
	char *rule;             /* "ns/name#N" as in flow records; "" = the
				 * default deny of the audit-mode policies */
	char *policy;           /* "ns/name" ("admin/name"...); for the default
				 * deny the audit-mode policies selecting the
				 * observing endpoint in the record's direction
				 * ("ns/a,ns/b"), "" when none is known */
	char *rule_name;        /* the rule's `name:`, "" when unnamed */
	char *ns;               /* the policy's namespace; for a cluster-scoped
				 * policy and the default deny, the observing
				 * endpoint's */
	uint64_t flows, packets, bytes, first_ns, last_ns;
	uint64_t flows_omitted; /* flows not listed in v: a cap was reached */
	struct seg_audit_flow *v;
	size_t n;
};

struct seg_audit_report {
	struct seg_view view;
	struct seg_audit_group *groups;   /* sorted by (rule, policy, ns) */
	size_t n_groups;
	size_t n_flows;                   /* distinct flows kept, all groups */
	size_t max_groups, max_per_rule, max_flows;
	uint64_t records;                 /* audit records taken */
	uint64_t records_omitted;         /* of groups not kept (group cap) */
	int error;                        /* first -ENOMEM seen, else 0 */
};

/* Limits 0 take the SEG_AUDIT_MAX_* defaults. */
void seg_audit_report_init(struct seg_audit_report *r, const struct seg_view *v,
			   size_t max_groups, size_t max_per_rule, size_t max_flows);
void seg_audit_report_free(struct seg_audit_report *r);
/* Take one record (others than SEG_FLOW_AUDIT are ignored). 0 or -ENOMEM. */
int seg_audit_report_add(struct seg_audit_report *r, const struct seg_flow_record *rec);
/* seg_flow_sink_fn for seg_flowtab_add_sink (ctx: the report) */
void seg_audit_report_sink(void *ctx, const struct seg_flow_record *rec);

/* The groups of namespace ns ("" or NULL: all) last seen at or after
 * since_ns (0: any), and in them the distinct flows last seen then, into
 * map res of out (fields: docs/policy.md "Staging"). */
int seg_audit_report_write(const struct seg_audit_report *r, const char *ns,
			   uint64_t since_ns, yaml_document_t *out, int res);

#endif /* SEGD_AUDIT_REPORT_H */
