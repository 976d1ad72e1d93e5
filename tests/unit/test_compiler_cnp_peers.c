/* test_compiler_cnp_peers.c - ClusterNetworkPolicy `nodes` and
 * `domainNames` peers: node addresses and resolved names as exact-prefix
 * CIDR identities, this node's own addresses as the host identity, pods
 * never selected by either; decided by tier with seg_compiled_decide. */
#include "compiler_fixtures.h"
#include "policy_parse.h"

static struct seg_name_addrs NAMES[4];
static size_t N_NAMES;

static void node(const char *name, const char *labels, const char *ip1,
		 const char *ip2)
{
	struct seg_node *n;

	if (!W.nodes)
		W.nodes = calloc(8, sizeof(*W.nodes));
	n = &W.nodes[W.n_nodes++];
	n->name = strdup(name);
	cr_assert_eq(seg_labels_parse(labels, &n->labels, NULL), 0);
	n->ips[n->n_ips++] = ip(ip1);
	if (ip2)
		n->ips[n->n_ips++] = ip(ip2);
}

/* names must be added in sorted order */
static void resolved(const char *name, const char *ip1, const char *ip2)
{
	struct seg_name_addrs *na = &NAMES[N_NAMES++];

	na->name = strdup(name);
	na->ips = calloc(2, sizeof(*na->ips));
	na->ips[na->n_ips++] = ip(ip1);
	if (ip2)
		na->ips[na->n_ips++] = ip(ip2);
	W.names = NAMES;
	W.n_names = N_NAMES;
}

/* parse ClusterNetworkPolicy documents into W */
static void cnp(const char *yaml)
{
	struct seg_error err = { 0 };
	struct seg_policy *p = NULL;
	size_t n = 0;

	cr_assert_eq(seg_policy_parse(yaml, strlen(yaml), "t.yaml", "default", &p,
				      &n, &err), 0, "%s", err.msg);
	for (size_t i = 0; i < n; i++) {
		W.policies[W.n_policies++] = p[i];
		memset(&p[i], 0, sizeof(p[i]));
	}
	seg_policies_free(p, n);
}

static void names_fini(void)
{
	fini();
	for (size_t i = 0; i < N_NAMES; i++) {
		free(NAMES[i].name);
		free(NAMES[i].ips);
	}
	memset(NAMES, 0, sizeof(NAMES));
	N_NAMES = 0;
}

/* shop/web 10.200.0.10 and shop/db 10.200.0.20 are pods; this node is
 * 10.200.0.1 (node_addresses) */
static void world(void)
{
	w_init();
	ns("shop", "team=shop");
	ep("shop", "web", "app=web", "10.200.0.10", "fd00:200::10");
	ep("shop", "db", "app=db", "10.200.0.20", NULL);
	W.host_ips[W.n_host_ips++] = ip("10.200.0.1");
	node("self", "role=worker", "10.200.0.1", "198.51.100.1");
	node("node-a", "role=worker", "198.51.100.2", "2001:db8::2");
	node("node-b", "role=control", "198.51.100.3", NULL);
	/* an address both a node's and a pod's: the pod wins */
	node("node-c", "role=worker", "10.200.0.20", NULL);
}

static const char baseline[] =
	"apiVersion: policy.networking.k8s.io/v1beta1\n"
	"kind: ClusterNetworkPolicy\n"
	"metadata: {name: egress-baseline}\n"
	"spec:\n"
	"  tier: Baseline\n"
	"  priority: 10\n"
	"  subject: {namespaces: {}}\n"
	"  egress:\n"
	"  - name: to-workers\n"
	"    action: Accept\n"
	"    to: [{nodes: {matchLabels: {role: worker}}}]\n"
	"  - name: to-names\n"
	"    action: Accept\n"
	"    to: [{domainNames: [api.example.com, '*.wild.test']}]\n"
	"    protocols: [{tcp: {destinationPort: {number: 443}}}]\n"
	"  - name: rest\n"
	"    action: Deny\n"
	"    to: [{networks: [0.0.0.0/0, '::/0']}]\n";

Test(compiler_cnp_peers, nodes_and_names_at_baseline, .fini = names_fini)
{
	uint32_t rid;

	world();
	resolved("a.wild.test", "203.0.113.9", NULL);   /* never asked for */
	resolved("api.example.com", "203.0.113.7", "2001:db8:1::7");
	cnp(baseline);
	compile();
	CHECK(
		{ "10.200.0.10", "198.51.100.2", TCP, 22, A },   /* worker node */
		{ "fd00:200::10", "2001:db8::2", UDP, 53, A },
		{ "10.200.0.10", "198.51.100.3", TCP, 22, D },   /* control node */
		{ "10.200.0.10", "10.200.0.1", TCP, 10250, A },  /* this node: host */
		{ "10.200.0.10", "198.51.100.1", TCP, 10250, A },/* its other address */
		{ "10.200.0.10", "10.200.0.20", TCP, 5432, D },  /* a pod, not a node */
		{ "10.200.0.10", "203.0.113.7", TCP, 443, A },   /* the name */
		{ "fd00:200::10", "2001:db8:1::7", TCP, 443, A },
		{ "10.200.0.10", "203.0.113.7", TCP, 80, D },    /* not its port */
		{ "10.200.0.10", "203.0.113.9", TCP, 443, D },   /* wildcard: nothing */
		{ "10.200.0.10", "203.0.113.8", TCP, 443, D },
	);
	/* exact-prefix CIDR identities, none for this node's own address */
	cr_expect_geq(id_of("198.51.100.2"), SEGD_ID_FIRST_CIDR);
	cr_expect_eq(id_of("198.51.100.3"), SEGD_ID_WORLD); /* no peer selects it */
	cr_expect_eq(id_of("10.200.0.1"), SEGD_ID_HOST);
	cr_expect_eq(id_of("198.51.100.4"), SEGD_ID_WORLD);
	cr_expect_eq(seg_compiled_decide(&C, exact_of("10.200.0.10")->value.identity,
					 id_of("198.51.100.2"), EGR, TCP, 22, &rid), A);
	cr_expect_str_eq(C.rules[rid - 1].rule_name, "to-workers");
	cr_expect_eq(seg_compiled_decide(&C, exact_of("10.200.0.10")->value.identity,
					 id_of("203.0.113.7"), EGR, TCP, 443, &rid), A);
	cr_expect_str_eq(C.rules[rid - 1].rule_name, "to-names");
}

Test(compiler_cnp_peers, admin_deny_nodes_beats_baseline, .fini = names_fini)
{
	static const char admin[] =
		"apiVersion: policy.networking.k8s.io/v1beta1\n"
		"kind: ClusterNetworkPolicy\n"
		"metadata: {name: no-control-plane}\n"
		"spec:\n"
		"  tier: Admin\n"
		"  priority: 5\n"
		"  subject: {pods: {podSelector: {matchLabels: {app: web}}}}\n"
		"  egress:\n"
		"  - action: Deny\n"
		"    to: [{nodes: {matchExpressions: [{key: role, operator: In, "
		"values: [control]}]}}]\n";

	world();
	resolved("api.example.com", "203.0.113.7", NULL);
	cnp(admin);
	cnp(baseline);
	compile();
	CHECK(
		{ "10.200.0.10", "198.51.100.3", TCP, 22, D },   /* Admin deny */
		{ "10.200.0.20", "198.51.100.3", TCP, 22, D },   /* db: Baseline */
		{ "10.200.0.10", "198.51.100.2", TCP, 22, A },   /* Baseline accept */
		{ "10.200.0.10", "203.0.113.7", TCP, 443, A },
	);
}

Test(compiler_cnp_peers, unresolved_name_and_no_nodes_match_nothing, .fini = names_fini)
{
	world();
	cnp(baseline);
	for (size_t i = 0; i < W.n_nodes; i++)  /* nothing is a worker */
		seg_labels_set(&W.nodes[i].labels, "role", "gone");
	compile();
	CHECK(
		{ "10.200.0.10", "198.51.100.2", TCP, 22, D },
		/* this node: no networks peer selects it, nothing denies */
		{ "10.200.0.10", "10.200.0.1", TCP, 22, A },
		{ "10.200.0.10", "203.0.113.7", TCP, 443, D },
	);
	cr_expect_eq(id_of("198.51.100.2"), SEGD_ID_WORLD);
}

/* the cache keeps up with nodes and names (worlds with a
 * ClusterNetworkPolicy compile whole, but the universe says so too) */
Test(compiler_cnp_peers, cache_follows_nodes_and_names, .fini = names_fini)
{
	struct seg_compile_cache *cache = NULL;
	struct seg_compiled a = { 0 }, b = { 0 };
	struct seg_error err = { 0 };

	world();
	resolved("api.example.com", "203.0.113.7", NULL);
	cnp(baseline);
	cr_assert_eq(seg_compile_cache_new(&cache), 0);
	for (int step = 0; step < 3; step++) {
		if (step == 1)
			W.nodes[2].ips[0] = ip("198.51.100.33");
		if (step == 2)
			NAMES[0].ips[0] = ip("203.0.113.77");
		cr_assert_eq(seg_compile_cached(&W, cache, &a, &err), 0, "%s", err.msg);
		cr_assert_eq(seg_compile(&W, &b, &err), 0, "%s", err.msg);
		cr_assert_eq(a.n_prefixes, b.n_prefixes, "step %d", step);
		cr_assert_eq(memcmp(a.prefixes, b.prefixes, a.n_prefixes * sizeof(*a.prefixes)), 0);
		cr_assert_eq(a.n_entries, b.n_entries, "step %d", step);
		cr_assert_eq(memcmp(a.entries, b.entries, a.n_entries * sizeof(*a.entries)), 0);
		seg_compiled_free(&a);
		seg_compiled_free(&b);
	}
	seg_compile_cache_free(cache);
}
