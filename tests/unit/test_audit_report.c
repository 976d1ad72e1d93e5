/* test_audit_report.c - the audit-report aggregator: audit records
 * grouped by policy and rule, a flow counted once over its delta records,
 * the distinct flows within their caps, --namespace and --since. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include "audit_report.h"
#include "yaml_util.h"

#define SEC 1000000000ull

/* rule 1 = shop/web#1 "no-admin", rule 2 = admin guard (cluster-scoped) */
static struct seg_rule_ref rules[2] = {
	{ .rule_id = 1, .policy_ns = "shop", .policy_name = "web", .rule_index = 0,
	  .rule_name = "no-admin" },
	{ .rule_id = 2, .policy_ns = "", .policy_name = "guard", .rule_index = 0,
	  .kind = SEG_KIND_CNP, .tier = SEG_TIER_ADMIN, .rule_name = "" },
};
static struct seg_compiled compiled = { .rules = rules, .n_rules = 2 };
static const struct seg_view view = { NULL, &compiled, NULL };

/* Tables hold arrays, not pointers: Criterion runs each case in a new
 * process. One record: the flow's identity, its delta and totals, its times. */
struct rec {
	uint8_t verdict;
	uint32_t rule_id;       /* 0: default deny (policy NULL) */
	char observer[16];
	char src[16], dst[16];
	uint16_t port;
	uint64_t pkts, reply, total, total_reply;
	uint64_t t;             /* start and end, seconds */
};

struct want_group {
	char rule[16], ns[8];
	uint64_t flows, packets, omitted;
	size_t listed;
};

struct report_case {
	char name[96];
	size_t per_rule, total;       /* caps (0: defaults) */
	struct rec recs[8];
	size_t n_recs;
	char ns[8];                   /* filter, "" = any */
	uint64_t since;               /* seconds, 0 = any */
	struct want_group want[4];
	size_t n_want;
};

static void make(const struct rec *x, struct seg_flow_record *r)
{
	memset(r, 0, sizeof(*r));
	r->verdict = x->verdict;
	r->rule_id = x->rule_id;
	r->policy = x->rule_id == 1 ? "shop/web#1" : x->rule_id == 2 ? "admin/guard#1" : NULL;
	r->rule_name = x->rule_id == 1 ? "no-admin" : NULL;
	r->observer = x->observer;
	r->source.identity = x->src;
	r->destination.identity = x->dst;
	r->proto = 6;
	r->dport = x->port;
	r->packets = x->pkts;
	r->reply_packets = x->reply;
	r->bytes = 100 * x->pkts;
	r->reply_bytes = 100 * x->reply;
	r->total_packets = x->total;
	r->total_reply_packets = x->total_reply;
	r->start_ns = r->end_ns = r->time_ns = x->t * SEC;
}

#define A SEG_FLOW_AUDIT
static struct report_case cases[] = {
	{ "one flow over three delta records counts once",
	  0, 0, { { A, 1, "shop/web", "shop/cli", "shop/web", 22, 2, 1, 2, 1, 10 },
		  { A, 1, "shop/web", "shop/cli", "shop/web", 22, 3, 0, 5, 1, 11 },
		  { A, 1, "shop/web", "shop/cli", "shop/web", 22, 1, 1, 6, 2, 12 } }, 3,
	  "", 0, { { "shop/web#1", "shop", 1, 8, 0, 1 } }, 1 },
	{ "two flows of one peer: one distinct flow with 2 flows",
	  0, 0, { { A, 1, "shop/web", "shop/cli", "shop/web", 22, 1, 1, 1, 1, 10 },
		  { A, 1, "shop/web", "shop/cli", "shop/web", 22, 1, 0, 1, 0, 11 } }, 2,
	  "", 0, { { "shop/web#1", "shop", 2, 3, 0, 1 } }, 1 },
	{ "other verdicts are not kept",
	  0, 0, { { SEG_FLOW_FORWARDED, 1, "shop/web", "a", "b", 1, 1, 0, 1, 0, 1 },
		  { SEG_FLOW_DROPPED, 1, "shop/web", "a", "b", 1, 1, 0, 1, 0, 1 } }, 2,
	  "", 0, { { "", "", 0, 0, 0, 0 } }, 0 },
	{ "rules and the default deny are groups; cluster policy under the observer's ns",
	  0, 0, { { A, 2, "shop/web", "world", "shop/web", 80, 1, 0, 1, 0, 10 },
		  { A, 0, "bank/db", "bank/app", "bank/db", 5432, 1, 0, 1, 0, 10 },
		  { A, 1, "shop/web", "shop/cli", "shop/web", 22, 1, 0, 1, 0, 10 } }, 3,
	  "", 0, { { "", "bank", 1, 1, 0, 1 }, { "admin/guard#1", "shop", 1, 1, 0, 1 },
		     { "shop/web#1", "shop", 1, 1, 0, 1 } }, 3 },
	{ "--namespace keeps the policy's namespace",
	  0, 0, { { A, 0, "bank/db", "bank/app", "bank/db", 5432, 1, 0, 1, 0, 10 },
		  { A, 1, "bank/x", "shop/cli", "bank/x", 22, 1, 0, 1, 0, 10 } }, 2,
	  "shop", 0, { { "shop/web#1", "shop", 1, 1, 0, 1 } }, 1 },
	{ "per-rule cap: the third distinct flow is counted as omitted",
	  2, 0, { { A, 1, "shop/web", "shop/a", "shop/web", 22, 1, 0, 1, 0, 10 },
		  { A, 1, "shop/web", "shop/b", "shop/web", 22, 1, 0, 1, 0, 10 },
		  { A, 1, "shop/web", "shop/c", "shop/web", 22, 1, 0, 1, 0, 10 },
		  { A, 1, "shop/web", "shop/c", "shop/web", 22, 4, 0, 5, 0, 11 } }, 4,
	  "", 0, { { "shop/web#1", "shop", 3, 7, 1, 2 } }, 1 },
	{ "total cap across rules",
	  0, 1, { { A, 1, "shop/web", "shop/a", "shop/web", 22, 1, 0, 1, 0, 10 },
		  { A, 0, "shop/web", "shop/b", "shop/web", 23, 1, 0, 1, 0, 10 } }, 2,
	  "", 0, { { "", "shop", 1, 1, 1, 0 }, { "shop/web#1", "shop", 1, 1, 0, 1 } }, 2 },
	{ "--since drops what was last seen before",
	  0, 0, { { A, 1, "shop/web", "shop/a", "shop/web", 22, 1, 0, 1, 0, 10 },
		  { A, 1, "shop/web", "shop/b", "shop/web", 22, 1, 0, 1, 0, 50 },
		  { A, 0, "shop/web", "shop/c", "shop/web", 23, 1, 0, 1, 0, 20 } }, 3,
	  "", 40, { { "shop/web#1", "shop", 2, 2, 0, 1 } }, 1 },
};

static uint64_t num(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	const char *s = yu_scalar(yu_map_get(d, m, key));

	cr_assert_not_null(s, "no %s", key);
	return strtoull(s, NULL, 10);
}

ParameterizedTestParameters(audit_report, table)
{
	return cr_make_param_array(struct report_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct report_case *c, audit_report, table)
{
	struct seg_audit_report r;
	struct seg_flow_record rec;
	yaml_document_t out;
	yaml_node_t *groups;
	int res;

	seg_audit_report_init(&r, &view, 0, c->per_rule, c->total);
	for (size_t i = 0; i < c->n_recs; i++) {
		make(&c->recs[i], &rec);
		cr_assert_eq(seg_audit_report_add(&r, &rec), 0, "%s", c->name);
	}
	cr_assert_geq(res = yu_doc_init_map(&out), 0);
	cr_assert_eq(seg_audit_report_write(&r, c->ns, c->since * SEC, &out, res), 0);
	groups = yu_map_get(&out, yu_node(&out, res), "groups");
	cr_assert_eq(yu_seq_len(groups), c->n_want, "%s: %zu groups", c->name,
		     yu_seq_len(groups));
	for (size_t i = 0; i < c->n_want; i++) {
		yaml_node_t *g = yu_seq_at(&out, groups, i);
		const struct want_group *w = &c->want[i];
		uint64_t flows = num(&out, g, "flows"), packets = num(&out, g, "packets");
		uint64_t omitted = num(&out, g, "flows_omitted");

		cr_assert_str_eq(yu_scalar(yu_map_get(&out, g, "rule")), w->rule, "%s", c->name);
		cr_assert_str_eq(yu_scalar(yu_map_get(&out, g, "namespace")), w->ns, "%s",
				 c->name);
		cr_expect_eq(flows, w->flows, "%s: %s flows %lu", c->name, w->rule,
			     (unsigned long)flows);
		cr_expect_eq(packets, w->packets, "%s: %s packets %lu", c->name, w->rule,
			     (unsigned long)packets);
		cr_expect_eq(omitted, w->omitted, "%s: %s omitted", c->name, w->rule);
		cr_expect_eq(yu_seq_len(yu_map_get(&out, g, "distinct_flows")), w->listed,
			     "%s: %s listed", c->name, w->rule);
	}
	yaml_document_delete(&out);
	seg_audit_report_free(&r);
}

/* The group's name parts and a distinct flow's fields, by name. */
Test(audit_report, fields)
{
	struct seg_audit_report r;
	struct seg_flow_record rec;
	struct seg_label lv[] = { { "app", "cli" }, { "tier", "fe" } };
	struct seg_labels labels = { lv, 2 };
	const struct rec x = { A, 1, "shop/web", "shop/cli", "shop/web", 22, 2, 1, 2, 1, 10 };
	yaml_document_t out;
	yaml_node_t *g, *f;
	int res;

	seg_audit_report_init(&r, &view, 0, 0, 0);
	make(&x, &rec);
	rec.source.labels = &labels;
	cr_assert_eq(seg_audit_report_add(&r, &rec), 0);
	cr_assert_geq(res = yu_doc_init_map(&out), 0);
	cr_assert_eq(seg_audit_report_write(&r, "", 0, &out, res), 0);
	g = yu_seq_at(&out, yu_map_get(&out, yu_node(&out, res), "groups"), 0);
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, g, "policy")), "shop/web");
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, g, "rule_name")), "no-admin");
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, g, "bytes")), "300");
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, g, "first_seen")), "1970-01-01T00:00:10Z");
	f = yu_seq_at(&out, yu_map_get(&out, g, "distinct_flows"), 0);
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, f, "source")), "shop/cli");
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, f, "source_labels")), "app=cli,tier=fe");
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, f, "destination")), "shop/web");
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, f, "protocol")), "tcp");
	cr_assert_str_eq(yu_scalar(yu_map_get(&out, f, "port")), "22");
	yaml_document_delete(&out);
	seg_audit_report_free(&r);
}

/* Past the group cap whole records are counted, never kept. */
Test(audit_report, group_cap)
{
	struct seg_audit_report r;
	struct seg_flow_record rec;
	const struct rec a = { A, 1, "shop/web", "x", "y", 1, 1, 0, 1, 0, 1 };
	const struct rec b = { A, 0, "shop/web", "x", "y", 1, 1, 0, 1, 0, 1 };

	seg_audit_report_init(&r, &view, 1, 0, 0);
	make(&a, &rec);
	seg_audit_report_add(&r, &rec);
	make(&b, &rec);
	seg_audit_report_add(&r, &rec);
	seg_audit_report_add(&r, &rec);
	cr_assert_eq(r.n_groups, 1);
	cr_assert_eq(r.records, 3);
	cr_assert_eq(r.records_omitted, 2);
	seg_audit_report_free(&r);
}

/* A default deny (no rule) is filed under the audit-mode policies that
 * select the observing endpoint in the record's direction. */
Test(audit_report, default_deny_names_its_policies)
{
	struct seg_namespace ns[] = { { .name = "bank" } };
	struct seg_endpoint ep[] = { { .name = "db", .ns = "bank" } };
	struct seg_policy pol[] = {
		{ .name = "lock", .ns = "bank", .audit = true, .enforce = { true, false } },
		{ .name = "out", .ns = "bank", .audit = true, .enforce = { false, true } },
		{ .name = "old", .ns = "bank", .enforce = { true, false } },
		{ .name = "tight", .ns = "bank", .audit = true, .enforce = { true, true } },
	};
	struct seg_world w = { .namespaces = ns, .n_namespaces = 1, .endpoints = ep,
			       .n_endpoints = 1, .policies = pol, .n_policies = 4 };
	const struct seg_view v = { &w, &compiled, NULL };
	const struct rec x = { A, 0, "bank/db", "bank/app", "bank/db", 5432, 1, 0, 1, 0, 1 };
	struct seg_audit_report r;
	struct seg_flow_record rec;

	seg_audit_report_init(&r, &v, 0, 0, 0);
	make(&x, &rec);
	rec.direction = SEGD_DIR_INGRESS;
	cr_assert_eq(seg_audit_report_add(&r, &rec), 0);
	cr_assert_eq(r.n_groups, 1);
	cr_assert_str_eq(r.groups[0].policy, "bank/lock,bank/tight");
	cr_assert_str_eq(r.groups[0].rule, "");
	cr_assert_str_eq(r.groups[0].ns, "bank");
	seg_audit_report_free(&r);
}
