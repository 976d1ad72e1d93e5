/* test_state_config.c - segd's config file and its state dir round trip. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "policy_parse.h"
#include "state.h"

struct config_case {
	char text[192];
	int ret;
	int line, col;      /* of the error */
	char msg[48];
};

static const struct config_case config_cases[] = {
	{ "", 0, 0, 0, "" },
	{ "socket: /run/x.sock\nbpffs: /sys/fs/bpf/x\nstate_dir: /var/lib/x\n", 0, 0, 0, "" },
	{ "node_addresses: [10.0.0.1, fd00::1]\nlog_level: debug\n", 0, 0, 0, "" },
	{ "socket: /a\nsockt: /b\n", -EINVAL, 2, 1, "unknown setting 'sockt'" },
	{ "node_addresses: [10.0.0.300]\n", -EINVAL, 1, 18, "not an IPv4 or IPv6" },
	{ "node_addresses: 10.0.0.1\n", -EINVAL, 1, 17, "must be a list" },
	{ "log_level: loud\n", -EINVAL, 1, 12, "log_level must be" },
	{ "socket:\n", -EINVAL, 1, 8, "needs a path" },
	{ "- a\n- b\n", -EINVAL, 1, 1, "mapping of settings" },
	{ "socket: [\n", -EINVAL, 2, 1, "invalid YAML" },
	{ "flow_log: /var/log/f.json\nflow_interval: 5\nflow_log_keep: 3\n"
	  "ipfix_collectors: [\"127.0.0.1:4739\", \"[::1]:4739\"]\n"
	  "metrics_addr: off\n", 0, 0, 0, "" },
	{ "flow_interval: 0\n", -EINVAL, 1, 16, "flow_interval is seconds" },
	{ "flow_log_max_bytes: 10\n", -EINVAL, 1, 21, "flow_log_max_bytes is bytes" },
	{ "ipfix_collectors: [\"10.0.0.1\"]\n", -EINVAL, 1, 20, "HOST:PORT" },
	{ "ipfix_collectors: 10.0.0.1:1\n", -EINVAL, 1, 19, "must be a list" },
	{ "metrics_addr:\n", -EINVAL, 1, 14, "needs an ADDR:PORT" },
	{ "interface_patterns: [\"veth*\", \"cali*\"]\npolicy_dir: /etc/segd/p\n",
	  0, 0, 0, "" },
	{ "interface_patterns: []\n", 0, 0, 0, "" },
	{ "interface_patterns: veth*\n", -EINVAL, 1, 21, "must be a list" },
	{ "interface_patterns: [\"\"]\n", -EINVAL, 1, 22, "interface pattern" },
	{ "policy_dir:\n", -EINVAL, 1, 12, "needs a path" },
	{ "uplink_hook: tc\n", 0, 0, 0, "" },
	{ "uplink_hook: xdp\n", 0, 0, 0, "" },
	{ "uplink_hook: auto\n", 0, 0, 0, "" },
	{ "uplink_hook: ebpf\n", -EINVAL, 1, 14, "uplink_hook 'ebpf': use auto" },
	{ "uplink_hook:\n", -EINVAL, 1, 13, "uplink_hook '': use auto" },
	{ "max_rules: 1\n", 0, 0, 0, "" },
	{ "max_rules: 1048575\n", 0, 0, 0, "" },
	{ "max_rules: 0\n", -EINVAL, 1, 12, "max_rules is a rule count, 1 to 1048575" },
	{ "max_rules: 1048576\n", -EINVAL, 1, 12, "max_rules is a rule count" },
	/* detect: (config_detect.c) */
	{ "detect:\n", 0, 0, 0, "" },
	{ "detect:\n  enabled: false\n  window: 20s\n  scan_ports: 50\n  scan_hosts: 200\n"
	  "  lateral_targets: 1\n", 0, 0, 0, "" },
	{ "detect:\n  window: 3600\n  new_destination_after: 0\n"
	  "  actions: { scan: quarantine, new-destination: alert, c2: quarantine }\n",
	  0, 0, 0, "" },
	{ "detect:\n  new_destination_after: 7d\n  quarantine_allow: [\"10.0.0.5/32:22/tcp\", "
	  "\"[fd00::/64]:icmpv6\"]\n  exempt: [\"app=prometheus\", \"k8s-app=kube-dns,a=b\"]\n",
	  0, 0, 0, "" },
	{ "detect:\n  quarantine_allow: []\n  exempt: []\n", 0, 0, 0, "" },
	{ "detect: 5\n", -EINVAL, 1, 9, "detect is a mapping of settings" },
	{ "detect:\n  windw: 10s\n", -EINVAL, 2, 3, "unknown detect setting 'windw'" },
	{ "detect:\n  enabled: maybe\n", -EINVAL, 2, 12, "enabled is true or false" },
	{ "detect:\n  window: 1s\n", -EINVAL, 2, 11, "window is a duration" },
	{ "detect:\n  window: 2h\n", -EINVAL, 2, 11, "from 2s to 3600s" },
	{ "detect:\n  window: ten\n", -EINVAL, 2, 11, "window is a duration" },
	{ "detect:\n  scan_ports: 0\n", -EINVAL, 2, 15, "scan_ports is a count" },
	{ "detect:\n  scan_hosts: 201\n", -EINVAL, 2, 15, "scan_hosts is a count" },
	{ "detect:\n  lateral_targets: -1\n", -EINVAL, 2, 20, "1 to 200" },
	{ "detect:\n  new_destination_after: 0s\n", -EINVAL, 2, 26, "or 0 for no" },
	{ "detect:\n  new_destination_after: 400d\n", -EINVAL, 2, 26, "up to 365d" },
	{ "detect:\n  actions: { scan: block }\n", -EINVAL, 2, 20,
	  "scan takes alert or quarantine" },
	{ "detect:\n  actions: { miner: off }\n", -EINVAL, 2, 21,
	  "miner takes alert or quarantine" },
	{ "detect:\n  actions: { portscan: alert }\n", -EINVAL, 2, 14,
	  "unknown kind 'portscan'" },
	{ "detect:\n  actions: [scan]\n", -EINVAL, 2, 12, "actions is a mapping" },
	{ "detect:\n  quarantine_allow: [\"10.0.0.0/33\"]\n", -EINVAL, 2, 22,
	  "detect quarantine_allow: " },
	{ "detect:\n  quarantine_allow: 10.0.0.1\n", -EINVAL, 2, 21, "at most 8 forensic" },
	{ "detect:\n  exempt: [\"=x\"]\n", -EINVAL, 2, 12, "'=x' is not a label selector" },
	{ "detect:\n  exempt: [\"\"]\n", -EINVAL, 2, 12, "'' is not a label selector" },
	{ "detect:\n  exempt: [a=1, a=1, a=1, a=1, a=1, a=1, a=1, a=1, a=1, a=1, a=1, a=1, "
	  "a=1, a=1, a=1, a=1, a=1]\n", -EINVAL, 2, 11, "at most 16 label selectors" },
};

ParameterizedTestParameters(config, parse)
{
	return cr_make_param_array(struct config_case, (void *)config_cases,
				   sizeof(config_cases) / sizeof(config_cases[0]));
}

ParameterizedTest(struct config_case *c, config, parse)
{
	struct segd_settings cfg = { 0 };
	enum seg_log_level level = SEG_LOG_INFO;
	struct seg_error err = { 0 };
	int ret = segd_config_parse(c->text, strlen(c->text), "segd.yaml", &cfg, &level, &err);

	cr_assert_eq(ret, c->ret, "'%s': ret %d (%s)", c->text, ret, err.msg);
	if (ret) {
		cr_assert_eq(err.line, c->line, "'%s': line %d", c->text, err.line);
		cr_assert_eq(err.col, c->col, "'%s': col %d", c->text, err.col);
		cr_assert(strstr(err.msg, c->msg), "'%s' lacks '%s'", err.msg, c->msg);
	}
	segd_config_free(&cfg);
}

Test(config, uplink_hook_defaults_to_auto)
{
	struct segd_settings cfg = { 0 };
	struct seg_error err = { 0 };
	const char *t = "uplink_hook: tc\n", *x = "uplink_hook: xdp\n";

	cr_assert_eq(segd_config_defaults(&cfg), 0);
	cr_assert_eq(cfg.uplink_hook, SEGD_UPLINK_AUTO);
	cr_assert_eq(segd_config_parse(t, strlen(t), "x", &cfg, NULL, &err), 0);
	cr_assert_eq(cfg.uplink_hook, SEGD_UPLINK_TC);
	cr_assert_eq(segd_config_parse(x, strlen(x), "x", &cfg, NULL, &err), 0);
	cr_assert_eq(cfg.uplink_hook, SEGD_UPLINK_XDP);
	segd_config_free(&cfg);
}

Test(config, interface_patterns_default_unless_the_file_names_them)
{
	struct segd_settings cfg = { 0 };
	struct seg_error err = { 0 };
	const char *t = "interface_patterns: [\"tap*\"]\n";

	cr_assert_eq(segd_config_defaults(&cfg), 0);
	cr_assert_eq(cfg.n_interface_patterns, 4);
	cr_assert_str_eq(cfg.interface_patterns[0], "veth*");
	segd_config_free(&cfg);
	cr_assert_eq(segd_config_parse(t, strlen(t), "x", &cfg, NULL, &err), 0);
	cr_assert_eq(segd_config_defaults(&cfg), 0);
	cr_assert_eq(cfg.n_interface_patterns, 1);
	cr_assert_str_eq(cfg.interface_patterns[0], "tap*");
	segd_config_free(&cfg);
	t = "interface_patterns: []\n";   /* none: nothing is logged */
	cr_assert_eq(segd_config_parse(t, strlen(t), "x", &cfg, NULL, &err), 0);
	cr_assert_eq(segd_config_defaults(&cfg), 0);
	cr_assert_eq(cfg.n_interface_patterns, 0);
	segd_config_free(&cfg);
}

Test(config, defaults_fill_only_what_is_unset)
{
	struct segd_settings cfg = { 0 };
	struct seg_error err = { 0 };
	const char *t = "socket: /tmp/s.sock\nnode_addresses: [169.254.1.1]\n";

	cr_assert_eq(segd_config_parse(t, strlen(t), "x", &cfg, NULL, &err), 0);
	cr_assert_eq(segd_config_defaults(&cfg), 0);
	cr_assert_str_eq(cfg.socket_path, "/tmp/s.sock");
	cr_assert_str_eq(cfg.bpffs, SEGD_DEFAULT_BPFFS);
	cr_assert_str_eq(cfg.state_dir, SEGD_DEFAULT_STATE_DIR);
	cr_assert_eq(cfg.n_node_addrs, 1);
	cr_assert_str_eq(cfg.metrics_addr, SEGD_DEFAULT_METRICS_ADDR);
	cr_assert_eq(cfg.flow_interval, SEGD_DEFAULT_FLOW_INTERVAL);
	cr_assert_eq(cfg.max_rules, SEGD_DEFAULT_MAX_RULES);
	cr_assert_null(cfg.flow_log);
	cr_assert_eq(cfg.n_ipfix_collectors, 0);
	segd_config_free(&cfg);
}

Test(config, detect_keys_left_out_keep_their_defaults)
{
	struct segd_settings cfg = { 0 };
	struct seg_error err = { 0 };
	const char *t = "detect:\n  window: 20s\n  actions: { scan: quarantine }\n"
			"  exempt: [\"app=prometheus\"]\n";

	cr_assert_eq(segd_config_parse(t, strlen(t), "x", &cfg, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(segd_config_defaults(&cfg), 0);
	cr_assert_eq(cfg.detect.window_s, 20);
	cr_assert_eq(cfg.detect.scan_ports, SEG_DETECT_DEFAULT_SCAN_PORTS);
	cr_assert_eq(cfg.detect.scan_hosts, SEG_DETECT_DEFAULT_SCAN_HOSTS);
	cr_assert_eq(cfg.detect.lateral_targets, SEG_DETECT_DEFAULT_LATERAL);
	cr_assert_eq(cfg.detect.new_dest_after_s, SEG_DETECT_DEFAULT_NEW_DEST_AFTER);
	cr_assert_eq(cfg.detect.action[SEGD_ALERT_SCAN], SEG_DETECT_QUARANTINE);
	cr_assert_eq(cfg.detect.action[SEGD_ALERT_MINER], SEG_DETECT_ALERT);
	cr_assert_eq(cfg.detect.n_exempt, 1);
	cr_assert_str_eq(cfg.detect.exempt[0], "app=prometheus");
	cr_assert_not(cfg.detect.off);
	segd_config_free(&cfg);

	cr_assert_eq(segd_config_defaults(&cfg), 0);   /* no file: all defaults */
	cr_assert_eq(cfg.detect.window_s, SEG_DETECT_DEFAULT_WINDOW_S);
	cr_assert_eq(cfg.detect.n_exempt, 0);
	t = "detect:\n  new_destination_after: 0\n  enabled: no\n";
	cr_assert_eq(segd_config_parse(t, strlen(t), "x", &cfg, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(cfg.detect.new_dest_after_s, 0);
	cr_assert(cfg.detect.off);
	cr_assert_eq(cfg.detect.window_s, SEG_DETECT_DEFAULT_WINDOW_S);
	segd_config_free(&cfg);
}

Test(config, detect_sections_differ)
{
	struct segd_settings a = { 0 }, b = { 0 };
	struct seg_error err = { 0 };
	const char *t = "detect:\n  exempt: [\"app=x\"]\n  quarantine_allow: [10.0.0.5]\n";
	const char *u = "detect:\n  exempt: [\"app=y\"]\n  quarantine_allow: [10.0.0.5]\n";

	cr_assert_eq(segd_config_parse(t, strlen(t), "x", &a, NULL, &err), 0, "%s", err.msg);
	cr_assert_eq(segd_config_parse(t, strlen(t), "x", &b, NULL, &err), 0, "%s", err.msg);
	cr_assert_not(segd_detect_settings_differ(&a.detect, &b.detect));
	segd_config_free(&b);
	cr_assert_eq(segd_config_parse(u, strlen(u), "x", &b, NULL, &err), 0, "%s", err.msg);
	cr_assert(segd_detect_settings_differ(&a.detect, &b.detect));
	segd_config_free(&a);
	segd_config_free(&b);
}

/* A removed policy's file goes, and a reload no longer sees it; then s
 * and the state dir go. */
static void remove_and_reload(struct seg_state *s, const char *dir,
			      const char *ns, const char *name)
{
	struct seg_state t;
	struct seg_error err = { 0 };
	char cmd[128];

	cr_assert_eq(seg_state_remove_policy(dir, ns, name), 0);
	cr_assert_eq(seg_state_load(&t, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(t.world.n_policies, 0);
	seg_state_free(&t);
	seg_state_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static const char policy_text[] =
	"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	"metadata: {name: db, namespace: shop}\n"
	"spec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: []\n";

Test(state, round_trip_through_the_state_dir)
{
	char dir[] = "/tmp/segd-state-test-XXXXXX";
	struct seg_state s, t;
	struct seg_labels l = { 0 };
	struct seg_endpoint ep = { 0 };
	struct seg_policy *p = NULL;
	struct seg_error err = { 0 };
	size_t np = 0;

	cr_assert(mkdtemp(dir));
	cr_assert_eq(seg_state_init(&s), 0);
	cr_assert_eq(seg_labels_parse("team=shop", &l, &err), 0);
	cr_assert_eq(seg_state_set_ns(&s, "shop", &l), 0);
	seg_labels_free(&l);
	cr_assert_eq(seg_state_find_ns(&s, "shop")->stratum, SEG_STRATUM_DROP);
	seg_state_find_ns(&s, "shop")->stratum = SEG_STRATUM_AUDIT;
	cr_assert_eq(seg_state_find_ns(&s, "shop")->mode, SEG_MODE_ENFORCE);
	seg_state_find_ns(&s, "shop")->mode = SEG_MODE_AUDIT;
	cr_assert_not(seg_state_find_ns(&s, "shop")->on_detect_set);
	seg_state_find_ns(&s, "shop")->on_detect = SEG_DETECT_QUARANTINE;
	seg_state_find_ns(&s, "shop")->on_detect_set = true;
	ep.name = strdup("web");
	ep.ns = strdup("shop");
	strcpy(ep.ifname, "veth-web");
	cr_assert_eq(seg_addr_parse("10.200.1.10", &ep.ips[ep.n_ips++]), 0);
	cr_assert_eq(seg_addr_parse("fd00:200::10", &ep.ips[ep.n_ips++]), 0);
	cr_assert_eq(seg_labels_parse("app=web", &ep.labels, &err), 0);
	cr_assert_eq(seg_state_put_ep(&s, &ep), 0);
	cr_assert_eq(seg_state_add_uplink(&s, "up0"), 0);
	cr_assert_eq(seg_policy_parse(policy_text, strlen(policy_text), "db.yaml", NULL,
				      &p, &np, &err), 0, "%s", err.msg);
	p[0].raw_hash = 0x1234abcd5678ef00ull;
	cr_assert_eq(seg_state_put_policy(&s, &p[0]), 0);
	seg_policies_free(p, np);
	cr_assert_eq(seg_state_save(&s, dir), 0);

	cr_assert_eq(seg_state_load(&t, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(t.world.n_namespaces, 2); /* default + shop */
	cr_assert_str_eq(seg_labels_get(&seg_state_find_ns(&t, "shop")->labels, "team"), "shop");
	cr_assert_str_eq(seg_labels_get(&seg_state_find_ns(&t, "shop")->labels,
					"kubernetes.io/metadata.name"), "shop");
	cr_assert_eq(seg_state_find_ns(&t, "shop")->stratum, SEG_STRATUM_AUDIT);
	cr_assert_eq(seg_state_find_ns(&t, "default")->stratum, SEG_STRATUM_DROP);
	cr_assert_eq(seg_state_find_ns(&t, "shop")->mode, SEG_MODE_AUDIT);
	cr_assert_eq(seg_state_find_ns(&t, "default")->mode, SEG_MODE_ENFORCE);
	cr_assert(seg_state_find_ns(&t, "shop")->on_detect_set);
	cr_assert_eq(seg_state_find_ns(&t, "shop")->on_detect, SEG_DETECT_QUARANTINE);
	cr_assert_not(seg_state_find_ns(&t, "default")->on_detect_set);
	cr_assert_eq(t.world.n_endpoints, 1);
	cr_assert_eq(t.world.endpoints[0].n_ips, 2);
	cr_assert_eq(t.world.endpoints[0].endpoint_id, 1);
	cr_assert_str_eq(t.world.endpoints[0].ifname, "veth-web");
	cr_assert_eq(memcmp(&t.world.endpoints[0].ips[1], &s.world.endpoints[0].ips[1], 16), 0);
	cr_assert_eq(t.n_uplinks, 1);
	cr_assert_eq(t.world.n_policies, 1);
	cr_assert_str_eq(t.world.policies[0].name, "db");
	cr_assert_eq(t.world.policies[0].raw_hash, 0x1234abcd5678ef00ull);
	cr_assert(t.world.policies[0].enforce[0] && !t.world.policies[0].enforce[1]);
	seg_state_free(&t);

	remove_and_reload(&s, dir, "shop", "db");
}

static const char cnp_text[] =
	"apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\n"
	"metadata: {name: guard}\nspec:\n  tier: Baseline\n  priority: 9\n"
	"  subject: {namespaces: {}}\n"
	"  egress: [{name: x, action: Deny, to: [{networks: [10.0.0.0/8]}]}]\n";

/* a cluster-scoped policy (namespace "") is kept as policies/_guard.yaml */
Test(state, cluster_scoped_policy_round_trip)
{
	char dir[] = "/tmp/segd-state-test-XXXXXX", path[128];
	struct seg_state s, t;
	struct seg_policy *p = NULL, *q;
	struct seg_error err = { 0 };
	size_t np = 0;

	cr_assert(mkdtemp(dir));
	cr_assert_eq(seg_state_init(&s), 0);
	cr_assert_eq(seg_policy_parse(cnp_text, strlen(cnp_text), "guard.yaml", NULL,
				      &p, &np, &err), 0, "%s", err.msg);
	cr_assert_eq(seg_state_put_policy(&s, &p[0]), 0);
	seg_policies_free(p, np);
	cr_assert_eq(seg_state_save(&s, dir), 0);
	snprintf(path, sizeof(path), "%s/policies/_guard.yaml", dir);
	cr_assert_eq(access(path, F_OK), 0, "%s", path);
	cr_assert_eq(seg_state_load(&t, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(t.world.n_policies, 1);
	q = seg_state_find_policy(&t, "", "guard");
	cr_assert_not_null(q);
	cr_assert_null(seg_state_find_policy(&t, "default", "guard"));
	cr_assert_eq(q->kind, SEG_KIND_CNP);
	cr_assert_eq(q->tier, SEG_TIER_BASELINE);
	cr_assert_eq(q->priority, 9);
	cr_assert_eq(q->n_rules, 1);
	cr_assert_str_eq(q->rules[0].name, "x");
	cr_assert_str_eq(q->source, s.world.policies[0].source);
	cr_assert_str_eq(q->source_file, "guard.yaml");
	seg_state_free(&t);
	remove_and_reload(&s, dir, "", "guard");
}

static void add_node(struct seg_state *s, const char *name, const char *labels,
		     const char *ip1, const char *ip2)
{
	struct seg_node n = { 0 };

	n.name = strdup(name);
	cr_assert_eq(seg_labels_parse(labels, &n.labels, NULL), 0);
	cr_assert_eq(seg_addr_parse(ip1, &n.ips[n.n_ips++]), 0);
	if (ip2)
		cr_assert_eq(seg_addr_parse(ip2, &n.ips[n.n_ips++]), 0);
	cr_assert_eq(seg_state_put_node(s, &n), 0);
	seg_node_free(&n);
}

/* nodes (`segctl node set`) are kept in state.yaml, sorted by name */
Test(state, nodes_round_trip)
{
	char dir[] = "/tmp/segd-state-test-XXXXXX", cmd[128];
	struct seg_state s, t;
	struct seg_error err = { 0 };
	struct seg_node *n;
	struct in6_addr a;

	cr_assert(mkdtemp(dir));
	cr_assert_eq(seg_state_init(&s), 0);
	add_node(&s, "worker-2", "role=worker,zone=b", "10.0.0.2", "fd00::2");
	add_node(&s, "cp-1", "node-role.kubernetes.io/control-plane=", "10.0.0.1", NULL);
	add_node(&s, "gone", "a=b", "10.0.0.9", NULL);
	add_node(&s, "worker-2", "role=worker,zone=c", "10.0.0.22", "fd00::2");
	cr_assert_eq(s.world.n_nodes, 3);
	cr_assert_eq(seg_state_del_node(&s, "gone"), 0);
	cr_assert_eq(seg_state_del_node(&s, "gone"), -ENOENT);
	cr_assert_eq(seg_state_save(&s, dir), 0);

	cr_assert_eq(seg_state_load(&t, dir, &err), 0, "%s", err.msg);
	cr_assert_eq(t.world.n_nodes, 2);
	cr_assert_str_eq(t.world.nodes[0].name, "cp-1");
	cr_assert_str_eq(seg_labels_get(&t.world.nodes[0].labels,
					"node-role.kubernetes.io/control-plane"), "");
	n = seg_state_find_node(&t, "worker-2");
	cr_assert_not_null(n);
	cr_assert_str_eq(seg_labels_get(&n->labels, "zone"), "c");
	cr_assert_eq(n->n_ips, 2);
	cr_assert_eq(seg_addr_parse("10.0.0.22", &a), 0);
	cr_assert_eq(memcmp(&n->ips[0], &a, 16), 0);
	cr_assert_eq(seg_addr_parse("fd00::2", &a), 0);
	cr_assert_eq(memcmp(&n->ips[1], &a, 16), 0);
	seg_state_free(&t);
	seg_state_free(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(state, missing_dir_is_a_fresh_state)
{
	struct seg_state s;
	struct seg_error err = { 0 };

	cr_assert_eq(seg_state_load(&s, "/nonexistent/segd-state", &err), 0);
	cr_assert_eq(s.world.n_namespaces, 1);
	cr_assert_str_eq(s.world.namespaces[0].name, "default");
	seg_state_free(&s);
}

/* Load a state dir holding one state.yaml of text; the error in *err. */
static int load_state_text(const char *text, struct seg_error *err)
{
	char dir[] = "/tmp/segd-state-test-XXXXXX", path[64], cmd[128];
	struct seg_state s;
	FILE *f;
	int ret;

	cr_assert(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.yaml", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	ret = seg_state_load(&s, dir, err);
	seg_state_free(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	return ret;
}

Test(state, corrupt_state_file_is_reported_with_position)
{
	struct seg_error err = { 0 };

	cr_assert_neq(load_state_text("version: 1\nendpoints:\n  - name: x\n", &err), 0);
	cr_assert_eq(err.line, 3, "line %d: %s", err.line, err.msg);
}

Test(state, bad_on_detect_is_reported_with_position)
{
	struct seg_error err = { 0 };

	cr_assert_neq(load_state_text("version: 1\nnamespaces:\n  - name: shop\n"
				      "    on_detect: nuke\n", &err), 0);
	cr_assert_eq(err.line, 4, "line %d: %s", err.line, err.msg);
	cr_assert_eq(err.col, 16, "col %d: %s", err.col, err.msg);
	cr_assert(strstr(err.msg, "on_detect must be alert, quarantine or off"), "%s", err.msg);
}
