/* test_lint.c - `segctl lint` (core/query/lint.c, cli/lint_cli.c): one row
 * per finding over a small policy snippet, parsed by segd's parser, in
 * file mode or against a small applied world (endpoints, blocklists);
 * rows that must not find anything; and segctl's exit codes. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "args.h"
#include "blocklist.h"
#include "lint.h"
#include "lint_cli.h"
#include "policy_parse.h"

#define NP "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
#define SP "apiVersion: segd.io/v1\nkind: SegmentPolicy\n"
#define CNP "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\n"
/* shop's default deny, both directions (so a row sees only its finding) */
#define SHOP_DENY "---\n" NP "metadata: {name: dd, namespace: shop}\n" \
	"spec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"

struct lint_case {
	char name[56];
	bool applied;      /* against the world below, else file mode (t.yaml) */
	char yaml[720];
	char code[32];     /* the code looked at */
	int count;         /* findings of that code wanted (0: none) */
	char severity[8];  /* of the first of them */
	char where[40];    /* its place: "t.yaml:L:C", "shop/p#N", "namespace lab" */
};

static struct lint_case cases[] = {
	/* ---- ingress open to the world ---- */
	{ "entity world, port 80", false, SP "metadata: {name: p, namespace: shop}\n"
	  "spec:\n  ingress:\n  - {from: [{entity: world}], ports: [{port: 80}]}\n" SHOP_DENY,
	  "world-ingress", 1, "warning", "t.yaml:6:5" },
	{ "NetworkPolicy rule without from, port 22", false, NP
	  "metadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n"
	  "  - ports: [{port: 22}]\n" SHOP_DENY,
	  "world-ingress-admin-port", 1, "error", "t.yaml:7:5" },
	{ "ipBlock 0.0.0.0/0 to postgres", false, NP
	  "metadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n"
	  "  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]\n    ports: [{port: 5432}]\n" SHOP_DENY,
	  "world-ingress-admin-port", 1, "error", "t.yaml:7:5" },
	{ "a port range holding 3389", false, SP "metadata: {name: p, namespace: shop}\n"
	  "spec:\n  ingress:\n  - {from: [{entity: world}], ports: [{port: 3000, endPort: 4000}]}\n"
	  SHOP_DENY, "world-ingress-admin-port", 1, "error", "t.yaml:6:5" },
	{ "every port from the world is admin too", false, SP
	  "metadata: {name: p, namespace: shop}\nspec:\n  ingress:\n  - {}\n" SHOP_DENY,
	  "world-ingress-admin-port", 1, "error", "t.yaml:6:5" },
	{ "0.0.0.0/0 except 10/8, https", false, NP
	  "metadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n"
	  "  - from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]\n"
	  "    ports: [{port: 443}]\n" SHOP_DENY, "world-ingress", 1, "warning", "t.yaml:7:5" },
	{ "::/0, https", false, SP "metadata: {name: p, namespace: shop}\nspec:\n"
	  "  ingress:\n  - {from: [{cidr: '::/0'}], ports: [{port: 443}]}\n" SHOP_DENY,
	  "world-ingress", 1, "warning", "t.yaml:6:5" },
	{ "UDP 22 is not the ssh port", false, SP "metadata: {name: p, namespace: shop}\n"
	  "spec:\n  ingress:\n  - {from: [{entity: world}], ports: [{protocol: UDP, port: 22}]}\n"
	  SHOP_DENY, "world-ingress-admin-port", 0, "", "" },
	{ "a partner's /24 is not the world", false, SP "metadata: {name: p, namespace: shop}\n"
	  "spec:\n  ingress:\n  - {from: [{cidr: 203.0.113.0/24}], ports: [{port: 22}]}\n"
	  SHOP_DENY, "world-ingress-admin-port", 0, "", "" },
	{ "10.0.0.0/8 is private", false, SP "metadata: {name: p, namespace: shop}\n"
	  "spec:\n  ingress:\n  - {from: [{cidr: 10.0.0.0/8}]}\n" SHOP_DENY,
	  "world-ingress-admin-port", 0, "", "" },
	{ "a deny from the world opens nothing", false, SP
	  "metadata: {name: p, namespace: shop}\nspec:\n  ingress:\n"
	  "  - {action: deny, from: [{entity: world}]}\n" SHOP_DENY, "world-ingress-admin-port",
	  0, "", "" },
	{ "pods of every namespace are not the world", false, NP
	  "metadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n"
	  "  - from: [{namespaceSelector: {}}]\n" SHOP_DENY, "world-ingress-admin-port", 0, "", "" },
	/* ---- allow-all egress ---- */
	{ "NetworkPolicy egress {}", false, NP "metadata: {name: p, namespace: shop}\nspec:\n"
	  "  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - {}\n" SHOP_DENY,
	  "allow-all-egress", 1, "warning", "t.yaml:8:5" },
	{ "egress to the world on 443 only", false, SP "metadata: {name: p, namespace: shop}\n"
	  "spec:\n  egress:\n  - {to: [{entity: world}], ports: [{port: 443}]}\n" SHOP_DENY,
	  "allow-all-egress", 0, "", "" },
	/* ---- default deny per namespace ---- */
	{ "no default deny in either direction", false, NP
	  "metadata: {name: web, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n"
	  "  ingress: [{from: [{podSelector: {}}]}]\n",
	  "no-default-deny", 2, "warning", "t.yaml:1:1" },
	{ "a default deny of both directions", false, NP
	  "metadata: {name: web, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n"
	  "  ingress: [{from: [{podSelector: {}}]}]\n" SHOP_DENY, "no-default-deny", 0, "", "" },
	{ "SegmentPolicy without appliesTo denies by default", false, SP
	  "metadata: {name: dd, namespace: shop}\nspec: {ingress: [], egress: []}\n",
	  "no-default-deny", 0, "", "" },
	{ "a default deny in audit mode denies nothing", false, SP
	  "metadata: {name: dd, namespace: shop}\nspec: {mode: audit, ingress: [], egress: []}\n",
	  "no-default-deny", 2, "warning", "t.yaml:1:1" },
	{ "ingress only", false, SP "metadata: {name: dd, namespace: shop}\nspec: {ingress: []}\n",
	  "no-default-deny", 1, "warning", "t.yaml:1:1" },
	{ "podSelector {} with an allow-all ingress denies nothing", false, NP
	  "metadata: {name: open, namespace: shop}\nspec:\n  podSelector: {}\n"
	  "  policyTypes: [Ingress, Egress]\n  ingress: [{}]\n",
	  "no-default-deny", 1, "warning", "t.yaml:1:1" },
	/* ---- shadowed rules ---- */
	{ "an allow inside a deny of the same policy", false, SP
	  "metadata: {name: p, namespace: shop}\nspec:\n  ingress:\n"
	  "  - {action: deny, from: [{cidr: 198.51.100.0/24}]}\n"
	  "  - {from: [{cidr: 198.51.100.0/25}], ports: [{port: 80}]}\n" SHOP_DENY,
	  "shadowed-rule", 1, "warning", "t.yaml:7:5" },
	{ "an allow wider than the deny", false, SP "metadata: {name: p, namespace: shop}\n"
	  "spec:\n  ingress:\n  - {action: deny, from: [{cidr: 198.51.100.0/25}]}\n"
	  "  - {from: [{cidr: 198.51.100.0/24}]}\n" SHOP_DENY, "shadowed-rule", 0, "", "" },
	{ "the deny's except lets part of the allow through", false, SP
	  "metadata: {name: p, namespace: shop}\nspec:\n  ingress:\n"
	  "  - {action: deny, from: [{cidr: 198.51.100.0/24, except: [198.51.100.0/26]}]}\n"
	  "  - {from: [{cidr: 198.51.100.0/25}]}\n" SHOP_DENY, "shadowed-rule", 0, "", "" },
	{ "a deny of port 80 and an allow of 80-90", false, SP
	  "metadata: {name: p, namespace: shop}\nspec:\n  ingress:\n"
	  "  - {action: deny, ports: [{port: 80}]}\n"
	  "  - {ports: [{port: 80, endPort: 90}]}\n" SHOP_DENY, "shadowed-rule", 0, "", "" },
	{ "a namespace-wide deny shadows another policy's allow", false, SP
	  "metadata: {name: guard, namespace: shop}\nspec:\n  ingress:\n"
	  "  - {action: deny, from: [{selector: {matchLabels: {app: bad}}}]}\n"
	  "---\n" SP "metadata: {name: web, namespace: shop}\nspec:\n"
	  "  appliesTo: {selector: {matchLabels: {app: web}}}\n  ingress:\n"
	  "  - from: [{selector: {matchLabels: {app: bad, tier: x}}}]\n"
	  "    ports: [{port: 8080}]\n" SHOP_DENY, "shadowed-rule", 1, "warning", "t.yaml:14:5" },
	{ "a deny of a narrower subject does not", false, SP
	  "metadata: {name: guard, namespace: shop}\nspec:\n"
	  "  appliesTo: {selector: {matchLabels: {app: web, tier: x}}}\n  ingress:\n"
	  "  - {action: deny, from: [{selector: {matchLabels: {app: bad}}}]}\n"
	  "---\n" SP "metadata: {name: web, namespace: shop}\nspec:\n"
	  "  appliesTo: {selector: {matchLabels: {app: web}}}\n  ingress:\n"
	  "  - from: [{selector: {matchLabels: {app: bad}}}]\n" SHOP_DENY,
	  "shadowed-rule", 0, "", "" },
	{ "ClusterNetworkPolicy: an earlier Deny", false, CNP
	  "metadata: {name: guard}\nspec:\n  tier: Admin\n  priority: 10\n"
	  "  subject: {namespaces: {}}\n  ingress:\n"
	  "  - {action: Deny, from: [{namespaces: {}}]}\n"
	  "  - {action: Accept, from: [{namespaces: {matchLabels: {team: a}}}]}\n",
	  "shadowed-rule", 1, "warning", "t.yaml:10:5" },
	{ "ClusterNetworkPolicy: a Pass goes first too", false, CNP
	  "metadata: {name: guard}\nspec:\n  tier: Admin\n  priority: 10\n"
	  "  subject: {namespaces: {}}\n  egress:\n"
	  "  - {action: Pass, to: [{networks: [10.0.0.0/8]}]}\n"
	  "  - {action: Deny, to: [{networks: [10.1.0.0/16]}]}\n",
	  "shadowed-rule", 1, "warning", "t.yaml:10:5" },
	{ "ClusterNetworkPolicy: a later Deny does not", false, CNP
	  "metadata: {name: guard}\nspec:\n  tier: Admin\n  priority: 10\n"
	  "  subject: {namespaces: {}}\n  ingress:\n"
	  "  - {action: Accept, from: [{namespaces: {matchLabels: {team: a}}}]}\n"
	  "  - {action: Deny, from: [{namespaces: {}}]}\n", "shadowed-rule", 0, "", "" },
	{ "ClusterNetworkPolicy: a policy of lower priority number", false, CNP
	  "metadata: {name: second}\nspec:\n  tier: Admin\n  priority: 20\n"
	  "  subject: {namespaces: {}}\n  ingress:\n"
	  "  - {action: Accept, from: [{namespaces: {matchLabels: {team: a}}}]}\n"
	  "---\n" CNP "metadata: {name: first}\nspec:\n  tier: Admin\n  priority: 10\n"
	  "  subject: {namespaces: {}}\n  ingress:\n"
	  "  - {action: Deny, from: [{namespaces: {}}]}\n",
	  "shadowed-rule", 1, "warning", "t.yaml:9:5" },
	/* ---- selectors that can never match ---- */
	{ "a selector that contradicts itself", false, NP
	  "metadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  ingress:\n"
	  "  - from:\n    - podSelector:\n        matchLabels: {app: a}\n"
	  "        matchExpressions: [{key: app, operator: NotIn, values: [a]}]\n" SHOP_DENY,
	  "selector-matches-nothing", 1, "warning", "t.yaml:7:5" },
	{ "Exists and DoesNotExist on one key", false, SP
	  "metadata: {name: p, namespace: shop}\nspec:\n  appliesTo:\n    selector:\n"
	  "      matchExpressions: [{key: a, operator: Exists}, {key: a, operator: DoesNotExist}]\n"
	  "  ingress: []\n" SHOP_DENY, "selector-matches-nothing", 1, "warning", "t.yaml:1:1" },
	{ "In [a, b] and NotIn [a] can match b", false, NP
	  "metadata: {name: p, namespace: shop}\nspec:\n  podSelector:\n"
	  "    matchExpressions: [{key: x, operator: In, values: [a, b]},\n"
	  "                       {key: x, operator: NotIn, values: [a]}]\n" SHOP_DENY,
	  "selector-matches-nothing", 0, "", "" },
	{ "a ClusterNetworkPolicy Accept with an empty peer", false, CNP
	  "metadata: {name: c}\nspec:\n  tier: Baseline\n  priority: 1\n"
	  "  subject: {namespaces: {}}\n  ingress:\n  - {action: Accept, from: [{}]}\n",
	  "selector-matches-nothing", 1, "warning", "t.yaml:9:5" },
	/* ---- ports outside the protocol's range (the parser refuses them) ---- */
	{ "port 70000", false, NP "metadata: {name: p, namespace: shop}\nspec:\n"
	  "  podSelector: {}\n  ingress:\n  - ports: [{port: 70000}]\n",
	  "port-out-of-range", 1, "error", "t.yaml:7:20" },
	{ "endPort below port", false, SP "metadata: {name: p, namespace: shop}\nspec:\n"
	  "  ingress:\n  - ports: [{port: 90, endPort: 80}]\n",
	  "port-out-of-range", 1, "error", "t.yaml:6:33" },
	{ "a port on ICMP", false, SP "metadata: {name: p, namespace: shop}\nspec:\n"
	  "  ingress:\n  - ports: [{protocol: ICMP, port: 8}]\n",
	  "port-out-of-range", 1, "error", "t.yaml:6:36" },
	{ "ClusterNetworkPolicy range ending below its start", false, CNP
	  "metadata: {name: c}\nspec:\n  tier: Admin\n  priority: 1\n"
	  "  subject: {namespaces: {}}\n  ingress:\n  - action: Accept\n"
	  "    from: [{namespaces: {}}]\n"
	  "    protocols: [{tcp: {destinationPort: {range: {start: 100, end: 50}}}}]\n",
	  "port-out-of-range", 1, "error", "t.yaml:11:67" },
	{ "other mistakes are parse errors", false, SP "metadata: {name: p, namespace: shop}\n"
	  "spec:\n  ingress:\n  - {prots: []}\n", "parse-error", 1, "error", "t.yaml:6:6" },
	/* ---- the applied state (world below) ---- */
	{ "endpoints no policy selects", true, SP "metadata: {name: web, namespace: shop}\n"
	  "spec:\n  appliesTo: {selector: {matchLabels: {app: web}}}\n  ingress: []\n",
	  "unselected-endpoint", 2, "warning", "endpoint lab/tool" },
	{ "applied: a namespace without default deny", true, SHOP_DENY,
	  "no-default-deny", 2, "warning", "namespace lab" },
	{ "applied: the subject matches no endpoint now", true, SP
	  "metadata: {name: ghost, namespace: shop}\nspec:\n"
	  "  appliesTo: {selector: {matchLabels: {app: ghost}}}\n  ingress: []\n" SHOP_DENY,
	  "selector-matches-nothing", 1, "info", "shop/ghost" },
	{ "applied: peers that match no endpoint now", true, SP
	  "metadata: {name: web, namespace: shop}\nspec:\n"
	  "  appliesTo: {selector: {matchLabels: {app: web}}}\n  ingress:\n"
	  "  - from: [{selector: {matchLabels: {app: ghost}}}]\n"
	  "  - from: [{selector: {matchLabels: {app: db}}}]\n" SHOP_DENY,
	  "selector-matches-nothing", 1, "warning", "shop/web#1" },
	{ "applied: egress into a blocklisted prefix", true, SP
	  "metadata: {name: web, namespace: shop}\nspec:\n  egress:\n"
	  "  - {to: [{cidr: 198.51.100.0/28}], ports: [{port: 443}]}\n" SHOP_DENY,
	  "allow-to-blocklisted", 1, "error", "shop/web#1" },
	{ "applied: an exception covers it", true, SP
	  "metadata: {name: web, namespace: shop}\nspec:\n  egress:\n"
	  "  - {to: [{cidr: 192.0.2.128/25}]}\n" SHOP_DENY, "allow-to-blocklisted", 0, "", "" },
	{ "applied: an audit list drops nothing", true, SP
	  "metadata: {name: web, namespace: shop}\nspec:\n  egress:\n"
	  "  - {to: [{cidr: 203.0.113.0/24}]}\n" SHOP_DENY, "allow-to-blocklisted", 0, "", "" },
	{ "applied: a domain on a domain list", true, CNP
	  "metadata: {name: out}\nspec:\n  tier: Admin\n  priority: 1\n"
	  "  subject: {namespaces: {}}\n  egress:\n"
	  "  - {action: Accept, to: [{domainNames: [pool.evil.example]}]}\n" SHOP_DENY,
	  "allow-to-blocklisted", 1, "error", "admin/out#1" },
};

/* shop: web (app=web), db (app=db); lab: tool; blocklists: c2 (drop),
 * watch (audit), miners (domains), ok (exception 192.0.2.128/25) */
static struct seg_blocklist lists[4];
static bool exception_of[4] = { false, false, false, true };
static struct seg_cidr exceptions[1];

static void blocklist(size_t i, const char *name, const char *text,
		      enum segd_bl_action action)
{
	struct seg_error err = { 0 };

	cr_assert_eq(seg_blocklist_parse(text, strlen(text), name, SEG_BL_FMT_AUTO,
					 &lists[i], &err), 0, "%s", err.msg);
	lists[i].name = strdup(name);
	lists[i].action = action;
}

static void world(struct seg_world *w)
{
	static const char *const eps[][4] = { { "shop", "web", "app", "web" },
					      { "shop", "db", "app", "db" },
					      { "lab", "tool", "app", "tool" } };

	memset(w, 0, sizeof(*w));
	w->namespaces = calloc(2, sizeof(*w->namespaces));
	w->endpoints = calloc(3, sizeof(*w->endpoints));
	for (size_t i = 0; i < 2; i++) {
		w->namespaces[i].name = strdup(i ? "lab" : "shop");
		seg_labels_set(&w->namespaces[i].labels, "kubernetes.io/metadata.name",
			       w->namespaces[i].name);
	}
	w->n_namespaces = 2;
	for (size_t i = 0; i < 3; i++) {
		struct seg_endpoint *e = &w->endpoints[i];

		e->ns = strdup(eps[i][0]);
		e->name = strdup(eps[i][1]);
		seg_labels_set(&e->labels, eps[i][2], eps[i][3]);
		seg_addr_parse(i == 0 ? "10.1.0.1" : i == 1 ? "10.1.0.2" : "10.1.2.1",
			       &e->ips[e->n_ips++]);
	}
	w->n_endpoints = 3;
	blocklist(0, "c2", "# c2\n198.51.100.5\n192.0.2.130\n", SEGD_BL_DROP);
	blocklist(1, "watch", "203.0.113.0/24\n", SEGD_BL_AUDIT);
	blocklist(2, "miners", "pool.evil.example\nother.evil.example\n", SEGD_BL_DROP);
	blocklist(3, "ok", "192.0.2.128/25\n", SEGD_BL_DROP);
	exceptions[0] = lists[3].entries[0].cidr;
}

ParameterizedTestParameters(lint, findings)
{
	return cr_make_param_array(struct lint_case, cases, sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct lint_case *c, lint, findings)
{
	struct seg_explain_lists l = { lists, exception_of, 4, exceptions, 1 };
	struct seg_lint_report rep = { 0 };
	struct seg_error err = { 0 };
	struct seg_policy *p = NULL;
	struct seg_world w;
	size_t n = 0, got = 0;
	char where[700] = "";
	const struct seg_lint_finding *first = NULL;

	if (seg_policy_parse(c->yaml, strlen(c->yaml), "t.yaml", NULL, &p, &n, &err)) {
		cr_assert(!c->applied, "%s: %s", c->name, err.msg);
		cr_assert_eq(seg_lint_parse_error(&rep, &err), 0);
	} else {
		struct seg_lint_input in = { .policies = p, .n_policies = n,
					     .positions = !c->applied };

		if (c->applied) {
			world(&w);
			w.policies = p;
			w.n_policies = n;
			in.world = &w;
			in.lists = &l;
		}
		cr_assert_eq(seg_lint(&in, &rep), 0);
		if (c->applied) {
			w.policies = NULL;
			w.n_policies = 0;
			seg_world_free(&w);
			for (size_t i = 0; i < 4; i++)
				seg_blocklist_free(&lists[i]);
		}
	}
	for (size_t i = 0; i < rep.n; i++) {
		if (strcmp(rep.v[i].code, c->code))
			continue;
		if (!got++)
			first = &rep.v[i];
	}
	if (first)
		seg_lint_where(first, where, sizeof(where));
	cr_expect_eq(got, (size_t)c->count, "%s: %zu %s findings, wanted %d (first at %s)",
		     c->name, got, c->code, c->count, where);
	if (first && c->count) {
		cr_expect_str_eq(seg_lint_severity_name(first->severity), c->severity,
				 "%s: severity", c->name);
		cr_expect_str_eq(where, c->where, "%s: at %s, wanted %s (%s)", c->name, where,
				 c->where, first->message);
	}
	seg_lint_free(&rep);
	seg_policies_free(p, n);
}

/* ---- segctl lint: exit codes ------------------------------------------------------- */

struct exit_case {
	char name[48];
	char yaml[300];        /* "" = no FILE (asks segd, here: none) */
	char args[3][24];      /* more arguments ("" ends) */
	int exit;
};

static struct exit_case exit_cases[] = {
	{ "clean", SP "metadata: {name: dd, namespace: shop}\nspec: {ingress: [], egress: []}\n",
	  { "" }, 0 },
	{ "a warning, --fail-on error", SP "metadata: {name: dd, namespace: shop}\n"
	  "spec: {ingress: []}\n", { "" }, 0 },
	{ "a warning, --fail-on warning", SP "metadata: {name: dd, namespace: shop}\n"
	  "spec: {ingress: []}\n", { "--fail-on", "warning" }, 1 },
	{ "an error", SP "metadata: {name: dd, namespace: shop}\n"
	  "spec: {ingress: [{ports: [{port: 22}]}], egress: []}\n", { "" }, 1 },
	{ "a file that does not parse", SP "metadata: {name: dd}\nspec: {bogus: 1}\n",
	  { "" }, 1 },
	{ "--fail-on info is no choice", SP "metadata: {name: dd}\nspec: {}\n",
	  { "--fail-on", "info" }, 2 },
	{ "--namespace without FILE", "", { "--namespace", "shop" }, 2 },
	{ "no FILE and no segd", "", { "" }, 3 },
};

ParameterizedTestParameters(lint, exit_codes)
{
	return cr_make_param_array(struct exit_case, exit_cases,
				   sizeof(exit_cases) / sizeof(exit_cases[0]));
}

ParameterizedTest(struct exit_case *c, lint, exit_codes)
{
	char path[] = "/tmp/segd-lint-XXXXXX";
	char *argv[10] = { "segctl", "--socket", "/nonexistent/segd.sock", "lint" };
	int argc = 4, fd = -1, ret;
	struct segctl_cmd cmd;
	FILE *null = fopen("/dev/null", "w");

	cr_assert(null);
	if (c->yaml[0]) {
		fd = mkstemp(path);
		cr_assert(fd >= 0);
		cr_assert_eq(write(fd, c->yaml, strlen(c->yaml)), (ssize_t)strlen(c->yaml));
		close(fd);
		argv[argc++] = path;
	}
	for (int i = 0; i < 3 && c->args[i][0]; i++)
		argv[argc++] = c->args[i];
	ret = segctl_parse(argc, argv, &cmd, null, null);
	if (ret == SEGCTL_OK)
		ret = segctl_lint(&cmd, null, null);
	segctl_cmd_free(&cmd);
	if (fd >= 0)
		unlink(path);
	fclose(null);
	cr_expect_eq(ret, c->exit, "%s: exit %d, wanted %d", c->name, ret, c->exit);
}
