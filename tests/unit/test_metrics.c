/* test_metrics.c - the /metrics text (core/export/metrics_render.c), checked
 * line by line and by `promtool check metrics`, and metrics_addr parsing. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "segd.h"
#include "metrics.h"

struct rule_row {
	char ns[16], name[24];
	uint32_t rule;
	uint64_t flows, packets, bytes;
	enum seg_policy_kind kind;
	enum seg_tier tier;
	char rule_name[16];
};

struct list_row {
	char name[24], category[12], action[8];
	uint64_t packets, bytes;
};

struct map_row {
	char name[24];
	uint32_t entries, capacity;
};

struct render_case {
	char what[40];
	uint64_t reasons[SEGD_REASON_MAX][2];      /* packets, bytes */
	struct rule_row rules[3];  size_t n_rules;   /* ns "": rule id 0 */
	struct list_row lists[2];  size_t n_lists;
	struct map_row maps[2];    size_t n_maps;
	struct seg_flow_stats flows;
	struct seg_flowlog_stats flowlog;
	size_t n_endpoints, n_policies, n_namespaces;
	size_t n_quarantines;
	uint64_t quarantine_actions[2];
	char want[14][120];        /* whole lines that must be there */
	char absent[2][80];        /* line starts that must not */
};

static const struct render_case render_cases[] = {
	{ .what = "fresh node: every family, zeros",
	  .want = { "segd_build_info{version=\"0.1.0-test\"} 1",
		    "segd_packets_total{verdict=\"forwarded\"} 0",
		    "segd_packets_total{verdict=\"audit\"} 0",
		    "segd_dropped_packets_total{reason=\"policy-denied\"} 0",
		    "segd_audited_packets_total{reason=\"policy-audit\"} 0",
		    "# TYPE segd_rule_flows_total counter",
		    "# TYPE segd_map_entries gauge",
		    "segd_events_lost_total 0", "segd_flows_active 0",
		    "segd_flow_conntrack_scan_seconds 0.000000" },
	  .absent = { "segd_rule_flows_total{", "segd_dropped_packets_total{reason=\"forwarded\"" } },
	{ .what = "verdicts sum the reasons",
	  .reasons = { [SEGD_REASON_FORWARDED] = { 100, 10000 },
		       [SEGD_REASON_POLICY_DENIED] = { 3, 300 },
		       [SEGD_REASON_DEFAULT_DENIED] = { 4, 400 },
		       [SEGD_REASON_BLOCKLISTED] = { 5, 500 },
		       [25] = { 6, 600 },
		       [SEGD_REASON_QUARANTINED] = { 7, 700 },
		       [SEGD_REASON_POLICY_AUDIT] = { 2, 200 },
		       [SEGD_REASON_STRATUM_AUDIT] = { 1, 100 } },
	  .want = { "segd_packets_total{verdict=\"forwarded\"} 100",
		    "segd_bytes_total{verdict=\"forwarded\"} 10000",
		    "segd_packets_total{verdict=\"dropped\"} 25",
		    "segd_bytes_total{verdict=\"dropped\"} 2500",
		    "segd_packets_total{verdict=\"audit\"} 3",
		    "segd_bytes_total{verdict=\"audit\"} 300",
		    "segd_dropped_packets_total{reason=\"default-denied\"} 4",
		    "segd_dropped_bytes_total{reason=\"blocklisted\"} 500",
		    "segd_dropped_packets_total{reason=\"reason-25\"} 6",
		    "segd_dropped_packets_total{reason=\"quarantined\"} 7",
		    "segd_audited_bytes_total{reason=\"stratum-audit\"} 100" },
	  .absent = { "segd_dropped_packets_total{reason=\"reason-21\"",
		      "segd_dropped_packets_total{reason=\"stratum-audit\"" } },
	{ .what = "rules, lists, maps, escaping",
	  .rules = { { "", "", 0, 9, 9, 900 }, { "shop", "web", 2, 1, 1, 60 },
		     { "a\"b\\c", "n\nx", 1, 4, 4, 400 } }, .n_rules = 3,
	  .lists = { { "c2-test", "c2", "drop", 7, 700 },
		     { "odd\"name\\", "custom", "audit", 1, 2 } }, .n_lists = 2,
	  .maps = { { "segd_ct", 5, 262144 }, { "segd_policy", 12, 524288 } }, .n_maps = 2,
	  .want = { "segd_rule_flows_total{policy=\"default\",rule=\"0\"} 9",
		    "segd_rule_bytes_total{policy=\"shop/web\",rule=\"2\"} 60",
		    "segd_rule_packets_total{policy=\"a\\\"b\\\\c/n\\nx\",rule=\"1\"} 4",
		    "segd_blocklist_packets_total{list=\"c2-test\",category=\"c2\",action=\"drop\"} 7",
		    "segd_blocklist_bytes_total{list=\"odd\\\"name\\\\\",category=\"custom\",action=\"audit\"} 2",
		    "segd_map_entries{map=\"segd_ct\"} 5",
		    "segd_map_capacity{map=\"segd_policy\"} 524288" } },
	{ .what = "CNP rules: tier, rule names",
	  .rules = { { "", "guard", 1, 3, 3, 300, SEG_KIND_CNP, SEG_TIER_ADMIN, "no-db" },
		     { "", "floor", 2, 5, 5, 500, SEG_KIND_CNP, SEG_TIER_BASELINE, "" },
		     { "shop", "web", 1, 2, 2, 200, SEG_KIND_K8S, SEG_TIER_NETPOL, "from-api" } },
	  .n_rules = 3,
	  .want = { "segd_rule_flows_total{policy=\"admin/guard\",rule=\"1\",rule_name=\"no-db\"} 3",
		    "segd_rule_packets_total{policy=\"baseline/floor\",rule=\"2\"} 5",
		    "segd_rule_bytes_total{policy=\"shop/web\",rule=\"1\",rule_name=\"from-api\"} 200" },
	  .absent = { "segd_rule_flows_total{policy=\"/", "segd_rule_flows_total{policy=\"default\"" } },
	{ .what = "flow table, flow log, state",
	  .flows = { .events_sent = 10, .events_rate_limited = 3, .events_ring_full = 4,
		     .events_read = 9, .records = 8, .flows_active = 2, .ct_scans = 5,
		     .last_scan_ms = 1.5 },
	  .flowlog = { .lines = 7, .bytes = 700, .rotations = 1, .write_errors = 2 },
	  .n_endpoints = 3, .n_policies = 4, .n_namespaces = 2,
	  .n_quarantines = 2, .quarantine_actions = { 5, 3 },
	  .want = { "segd_quarantines 2",
		    "segd_quarantine_actions_total{action=\"quarantine\"} 5",
		    "segd_quarantine_actions_total{action=\"release\"} 3",
		    "segd_events_lost_total 7", "segd_events_rate_limited_total 3",
		    "segd_events_sent_total 10", "segd_flow_records_total 8",
		    "segd_flow_conntrack_scan_seconds 0.001500",
		    "segd_flow_log_rotations_total 1", "segd_flow_log_write_errors_total 2",
		    "segd_endpoints 3", "segd_policies 4", "segd_namespaces 2" } },
};

static char *render(const struct render_case *c, size_t *len)
{
	struct seg_metrics_snapshot s = { .version = "0.1.0-test" };
	struct seg_metrics_rule rules[3] = { 0 };
	struct seg_metrics_list lists[2] = { 0 };
	struct seg_dp_map_usage maps[2] = { 0 };
	char *text = NULL;

	for (int i = 0; i < SEGD_REASON_MAX; i++) {
		s.reasons[i].packets = c->reasons[i][0];
		s.reasons[i].bytes = c->reasons[i][1];
	}
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct rule_row *r = &c->rules[i];

		rules[i] = (struct seg_metrics_rule){
			.policy_ns = r->ns[0] || r->kind == SEG_KIND_CNP ? r->ns : NULL,
			.policy_name = r->name, .rule = r->rule,
			.c = { r->flows, r->packets, r->bytes },
			.kind = r->kind, .tier = r->tier, .rule_name = r->rule_name };
	}
	for (size_t i = 0; i < c->n_lists; i++) {
		const struct list_row *l = &c->lists[i];

		lists[i] = (struct seg_metrics_list){ l->name, l->category, l->action,
			{ l->packets, l->bytes } };
	}
	for (size_t i = 0; i < c->n_maps; i++)
		maps[i] = (struct seg_dp_map_usage){ c->maps[i].name, c->maps[i].entries,
			c->maps[i].capacity };
	s.rules = rules, s.n_rules = c->n_rules;
	s.lists = lists, s.n_lists = c->n_lists;
	s.maps = maps, s.n_maps = c->n_maps;
	s.flows = c->flows;
	s.flowlog = c->flowlog;
	s.n_endpoints = c->n_endpoints;
	s.n_quarantines = c->n_quarantines;
	s.quarantine_actions[0] = c->quarantine_actions[0];
	s.quarantine_actions[1] = c->quarantine_actions[1];
	s.n_policies = c->n_policies;
	s.n_namespaces = c->n_namespaces;
	cr_assert_eq(seg_metrics_render(&s, &text, len), 0);
	return text;
}

static bool has_line(const char *text, const char *line, bool prefix)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, line, n) && (prefix || p[n] == '\n'))
			return true;
	return false;
}

ParameterizedTestParameters(metrics, render)
{
	return cr_make_param_array(struct render_case, (void *)render_cases,
				   sizeof(render_cases) / sizeof(render_cases[0]));
}

ParameterizedTest(const struct render_case *c, metrics, render)
{
	size_t len;
	char *text = render(c, &len);

	cr_assert_eq(strlen(text), len);
	cr_assert_eq(text[len - 1], '\n');
	for (size_t i = 0; i < sizeof(c->want) / sizeof(c->want[0]) && c->want[i][0]; i++)
		cr_assert(has_line(text, c->want[i], false), "%s: no line '%s' in:\n%s",
			  c->what, c->want[i], text);
	for (size_t i = 0; i < sizeof(c->absent) / sizeof(c->absent[0]) && c->absent[i][0]; i++)
		cr_assert(!has_line(text, c->absent[i], true), "%s: '%s' should not be there",
			  c->what, c->absent[i]);
	/* every sample's family has HELP and TYPE; no series twice */
	for (const char *p = text; *p; p = strchr(p, '\n') + 1) {
		char name[96], help[112], type[112];
		size_t key = (size_t)(strrchr(p, ' ') - p);

		if (*p == '#')
			continue;
		for (const char *q = strchr(p, '\n') + 1; *q; q = strchr(q, '\n') + 1)
			cr_assert(strncmp(p, q, key + 1), "%s: series twice: %.*s",
				  c->what, (int)key, p);
		cr_assert_eq(sscanf(p, "%95[a-z_]", name), 1);
		snprintf(help, sizeof(help), "# HELP %s ", name);
		snprintf(type, sizeof(type), "# TYPE %s ", name);
		cr_assert(has_line(text, help, true) && has_line(text, type, true),
			  "%s: %s lacks HELP or TYPE", c->what, name);
	}
	free(text);
}

/* Prometheus' own checker accepts every case (syntax, HELP, naming lints). */
ParameterizedTestParameters(metrics, promtool)
{
	return cr_make_param_array(struct render_case, (void *)render_cases,
				   sizeof(render_cases) / sizeof(render_cases[0]));
}

ParameterizedTest(const struct render_case *c, metrics, promtool)
{
	char path[] = "/tmp/segd-metrics-test-XXXXXX", cmd[160];
	size_t len;
	char *text = render(c, &len);
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 1>&2", path);
	cr_assert_eq(system(cmd), 0, "%s: promtool check metrics failed", c->what);
	unlink(path);
	free(text);
}

struct addr_case {
	char addr[40];
	int ret;
	char host[40];
	uint16_t port;
};

ParameterizedTestParameters(metrics, parse_addr)
{
	static struct addr_case cases[] = {
		{ "127.0.0.1:9470", 0, "127.0.0.1", 9470 },
		{ "0.0.0.0:1", 0, "0.0.0.0", 1 },
		{ "[::1]:9471", 0, "::1", 9471 },
		{ "[::]:65535", 0, "::", 65535 },
		{ "[fd00:200::1]:80", 0, "fd00:200::1", 80 },
		{ "127.0.0.1", -EINVAL, "", 0 },
		{ "127.0.0.1:", -EINVAL, "", 0 },
		{ "127.0.0.1:0", -EINVAL, "", 0 },
		{ "127.0.0.1:65536", -EINVAL, "", 0 },
		{ "127.0.0.1:+80", -EINVAL, "", 0 },
		{ "127.0.0.1:80x", -EINVAL, "", 0 },
		{ "::1:9470", -EINVAL, "", 0 },
		{ "[::1]9470", -EINVAL, "", 0 },
		{ "[::1", -EINVAL, "", 0 },
		{ "[]:80", -EINVAL, "", 0 },
		{ "[127.0.0.1]:80", -EINVAL, "", 0 },
		{ "localhost:9470", -EINVAL, "", 0 },
		{ ":9470", -EINVAL, "", 0 },
		{ "300.0.0.1:80", -EINVAL, "", 0 },
	};
	return cr_make_param_array(struct addr_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(const struct addr_case *c, metrics, parse_addr)
{
	char host[46] = "";
	uint16_t port = 0;
	int ret = seg_metrics_parse_addr(c->addr, host, sizeof(host), &port);

	cr_assert_eq(ret, c->ret, "%s: %d", c->addr, ret);
	if (ret)
		return;
	cr_assert_str_eq(host, c->host);
	cr_assert_eq(port, c->port);
}

/* "off" serves nothing; without a datapath it is refused with the reason. */
Test(metrics, start_off_and_without_kernel)
{
	struct event_base *base = event_base_new();
	struct segd d = { 0 };
	struct seg_metrics *m = (void *)1;
	struct seg_error err = { 0 };

	cr_assert(base);
	cr_assert_eq(seg_metrics_start(base, "off", &d, &m, &err), 0);
	cr_assert_null(m);
	cr_assert_eq(seg_metrics_start(base, "localhost:1", &d, &m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "[IPV6]:PORT"), "%s", err.msg);
	cr_assert_eq(seg_metrics_start(base, "127.0.0.1:9470", &d, &m, &err), -EINVAL);
	cr_assert(strstr(err.msg, "needs the datapath"), "%s", err.msg);
	cr_assert_null(m);
	event_base_free(base);
}
