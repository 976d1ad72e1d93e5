/* test_explain.c - `explain` (core/query/explain.c) and `graph` (core/query/graph.c)
 * over a world compiled by the real compiler: a table of flows with the
 * verdict, and per hook what decided it; the DOT text of the same world,
 * and that Graphviz renders it.
 */
#include <sys/wait.h>
#include <unistd.h>
#include "compiler_fixtures.h"
#include <criterion/parameterized.h>
#include "explain.h"
#include "graph.h"

/* prod/web: ingress and egress enforced; prod/db: ingress; the rest open.
 * Rules are named "ns/policy#N", N counting the policy's rules from 1. */
static void explain_world(void)
{
	struct seg_policy *p;
	struct seg_rule *r;

	base_world();
	p = pol("prod", "web", "app=web", true, true);
	r = allow(p, ING);                          /* prod/web#1 */
	peer(r, SEG_PEER_WORLD);
	port(r, TCP, 80, 0);
	r = allow(p, EGR);                          /* #2 */
	pods(r, "app=db", NULL);
	port(r, TCP, 5432, 0);
	r = allow(p, EGR);                          /* #3: exact ends, 7 blocks */
	cidr(r, "198.51.100.0/24", NULL, NULL);
	port(r, TCP, 1000, 2999);
	r = deny(p, EGR);                           /* #4 */
	cidr(r, "198.51.100.0/24", NULL, NULL);
	port(r, TCP, 2000, 0);
	r = allow(p, EGR);                          /* #5 */
	peer(r, SEG_PEER_HOST);
	port(r, UDP, 53, 0);
	r = allow(p, EGR);                          /* #6: every protocol */
	pods(r, "app=cache", NULL);
	p = pol("prod", "db", "app=db", true, false);
	r = allow(p, ING);                          /* prod/db#1 */
	pods(r, "app=web", NULL);
	port(r, TCP, 5432, 0);
	compile();
}

/* blocklists: a drop list, an audit list, an exception list */
static struct seg_bl_entry bl_drop[2], bl_audit[1], bl_exc[1];
static struct seg_blocklist bl_lists[3];
static bool bl_is_exc[3] = { false, false, true };
static struct seg_cidr bl_exceptions[1];

static void entry(struct seg_bl_entry *e, const char *cidr)
{
	cr_assert_eq(seg_cidr_parse(cidr, &e->cidr, NULL), 0, "%s", cidr);
	e->line = 1;
}

static struct seg_explain_lists explain_lists(void)
{
	entry(&bl_drop[0], "198.51.100.7/32");
	entry(&bl_drop[1], "198.51.100.8/32");
	entry(&bl_audit[0], "198.51.100.0/28");
	entry(&bl_exc[0], "198.51.100.8/32");
	qsort(bl_drop, 2, sizeof(bl_drop[0]), seg_bl_entry_cmp);
	bl_lists[0] = (struct seg_blocklist){ .name = "miners", .category = SEGD_BL_MINER,
					      .action = SEGD_BL_DROP, .entries = bl_drop,
					      .n_entries = 2 };
	bl_lists[1] = (struct seg_blocklist){ .name = "watch", .category = SEGD_BL_CUSTOM,
					      .action = SEGD_BL_AUDIT, .entries = bl_audit,
					      .n_entries = 1 };
	bl_lists[2] = (struct seg_blocklist){ .name = "partners", .category = SEGD_BL_CUSTOM,
					      .action = SEGD_BL_DROP, .entries = bl_exc,
					      .n_entries = 1 };
	bl_exceptions[0] = bl_exc[0].cidr;
	return (struct seg_explain_lists){ bl_lists, bl_is_exc, 3, bl_exceptions, 1 };
}

struct explain_case {
	char name[48];
	char src[40], dst[40];
	uint8_t proto;
	uint16_t port;
	bool audit_flag;        /* mark web's egress entry to db tcp/5432 audit */
	char verdict[8];        /* allow | audit | deny */
	char egress[40];        /* rule text of each half */
	char ingress[40];
	int egress_probe;       /* 0: not checked */
};

static struct explain_case explain_cases[] = {
	{ "allow by rule, both hooks", "10.200.0.1", "10.200.0.3", TCP, 5432, false, "allow",
	  "prod/web#2", "prod/db#1", 1 },
	{ "default deny, both hooks", "10.200.0.1", "10.200.0.3", TCP, 5433, false, "deny",
	  "default deny", "default deny", 0 },
	{ "not enforced egress, ingress denies", "10.200.0.4", "10.200.0.3", TCP, 5432, false,
	  "deny", "not enforced", "default deny", 0 },
	{ "world to web:80", "203.0.113.9", "10.200.0.1", TCP, 80, false, "allow",
	  "no local endpoint", "prod/web#1", 0 },
	{ "world to web:81", "203.0.113.9", "10.200.0.1", TCP, 81, false, "deny",
	  "no local endpoint", "default deny", 0 },
	{ "endpoint is not world", "10.200.0.4", "10.200.0.1", TCP, 80, false, "deny",
	  "not enforced", "default deny", 0 },
	{ "CIDR peer, ragged end: exact", "10.200.0.1", "198.51.100.20", TCP, 1000, false,
	  "allow", "prod/web#3", "no local endpoint", 1 },
	{ "CIDR peer, whole block", "10.200.0.1", "198.51.100.20", TCP, 1500, false,
	  "allow", "prod/web#3", "no local endpoint", 2 },
	{ "CIDR peer, last port", "10.200.0.1", "198.51.100.20", TCP, 2999, false,
	  "allow", "prod/web#3", "no local endpoint", 1 },
	{ "CIDR peer, past the range", "10.200.0.1", "198.51.100.20", TCP, 3000, false,
	  "deny", "default deny", "no local endpoint", 0 },
	{ "explicit deny beats allow", "10.200.0.1", "198.51.100.20", TCP, 2000, false,
	  "deny", "prod/web#4", "no local endpoint", 1 },
	{ "host udp/53", "10.200.0.1", "10.200.255.1", UDP, 53, false, "allow",
	  "prod/web#5", "no local endpoint", 1 },
	{ "host udp/54", "10.200.0.1", "10.200.255.1", UDP, 54, false, "deny",
	  "default deny", "no local endpoint", 0 },
	{ "every protocol: icmp", "10.200.0.1", "10.200.0.4", IPPROTO_ICMP, 0, false,
	  "allow", "prod/web#6", "not enforced", 4 },
	{ "nothing enforced", "10.200.1.2", "10.200.2.1", TCP, 1, false, "allow",
	  "not enforced", "not enforced", 0 },
	{ "blocklisted before policy", "10.200.0.1", "198.51.100.7", TCP, 1500, false,
	  "deny", "blocklisted by miners", "no local endpoint", 0 },
	{ "blocklisted at an open hook", "198.51.100.7", "10.200.0.4", TCP, 80, false,
	  "deny", "no local endpoint", "blocklisted by miners", 0 },
	{ "exception beats every list", "10.200.0.1", "198.51.100.8", TCP, 1500, false,
	  "allow", "prod/web#3", "no local endpoint", 2 },
	{ "audit list: passes, reported", "10.200.0.1", "198.51.100.9", TCP, 1500, false,
	  "audit", "prod/web#3", "no local endpoint", 2 },
	{ "audit flag on the entry", "10.200.0.1", "10.200.0.3", TCP, 5432, true, "audit",
	  "prod/web#2", "prod/db#1", 1 },
	{ "IPv6 world to db", "2001:db8::9", "fd00:200::3", TCP, 5432, false, "deny",
	  "no local endpoint", "default deny", 0 },
};

ParameterizedTestParameters(explain, flows)
{
	return cr_make_param_array(struct explain_case, explain_cases,
				   sizeof(explain_cases) / sizeof(explain_cases[0]));
}

static void mark_audit(const char *local, const char *remote, int dir, uint16_t port)
{
	struct segd_policy_key k = { .local_id = id_of(local), .remote_id = id_of(remote),
				     .port = port, .proto = TCP, .dir = (uint8_t)dir,
				     .port_kind = SEGD_PORT_EXACT };

	for (size_t i = 0; i < C.n_entries; i++)
		if (!memcmp(&C.entries[i].key, &k, sizeof(k))) {
			C.entries[i].value.flags |= SEGD_POLF_AUDIT;
			return;
		}
	cr_assert_fail("no entry %s -> %s port %u to mark", local, remote, port);
}

ParameterizedTest(struct explain_case *c, explain, flows, .fini = fini)
{
	struct seg_explain_lists lists = explain_lists();
	struct in6_addr src = ip(c->src), dst = ip(c->dst);
	struct seg_explain x;

	explain_world();
	if (c->audit_flag)
		mark_audit("10.200.0.1", "10.200.0.3", EGR, 5432);
	seg_explain_flow(&C, &lists, &src, &dst, c->proto, c->port, &x);
	cr_expect_str_eq(seg_explain_verdict_name(x.verdict), c->verdict, "%s", c->name);
	cr_expect_str_eq(x.half[EGR].rule, c->egress, "%s: egress", c->name);
	cr_expect_str_eq(x.half[ING].rule, c->ingress, "%s: ingress", c->name);
	if (c->egress_probe)
		cr_expect_eq(x.half[EGR].probe, c->egress_probe, "%s: probe %d", c->name,
			     x.half[EGR].probe);
	/* the oracle the compiler tests trust agrees on every policy decision */
	for (int dir = 0; dir < 2; dir++) {
		const struct seg_explain_half *h = &x.half[dir];
		uint32_t rid;
		enum segd_verdict v;

		if (h->why == SEG_WHY_NO_HOOK || h->why == SEG_WHY_BLOCKLISTED)
			continue;
		v = seg_compiled_decide(&C, h->local_id, h->remote_id, dir, c->proto,
					c->port, &rid);
		cr_expect_eq(v == SEGD_VERDICT_DENY, h->verdict == SEG_EXPLAIN_DENY,
			     "%s: dir %d disagrees with seg_compiled_decide", c->name, dir);
		cr_expect_eq(rid, h->rule_id, "%s: dir %d rule", c->name, dir);
	}
}

/* ---- --port ------------------------------------------------------------------- */

struct port_case {
	char text[24];
	int ret;
	uint8_t proto;
	uint16_t port;
};

static struct port_case port_cases[] = {
	{ "80/tcp", 0, IPPROTO_TCP, 80 }, { "53/UDP", 0, IPPROTO_UDP, 53 },
	{ "3868/sctp", 0, IPPROTO_SCTP, 3868 }, { "icmp", 0, IPPROTO_ICMP, 0 },
	{ "0/icmpv6", 0, IPPROTO_ICMPV6, 0 }, { "65535/tcp", 0, IPPROTO_TCP, 65535 },
	{ "65536/tcp", -EINVAL, 0, 0 }, { "80/foo", -EINVAL, 0, 0 },
	{ "8/icmp", -EINVAL, 0, 0 }, { "/tcp", -EINVAL, 0, 0 }, { "x/tcp", -EINVAL, 0, 0 },
	{ "", -EINVAL, 0, 0 },
};

ParameterizedTestParameters(explain, port_parse)
{
	return cr_make_param_array(struct port_case, port_cases,
				   sizeof(port_cases) / sizeof(port_cases[0]));
}

ParameterizedTest(struct port_case *c, explain, port_parse)
{
	uint8_t proto = 0;
	uint16_t port = 0;
	char why[200] = "";

	cr_assert_eq(seg_explain_port_parse(c->text, &proto, &port, why, sizeof(why)),
		     c->ret, "%s: %s", c->text, why);
	if (c->ret) {
		cr_expect_neq(why[0], '\0', "%s: no message", c->text);
		return;
	}
	cr_expect_eq(proto, c->proto, "%s", c->text);
	cr_expect_eq(port, c->port, "%s", c->text);
}

/* ---- graph ---------------------------------------------------------------------- */

static char *graph_of(const struct seg_graph_flow *flows, size_t n, const char *ns)
{
	char *dot = NULL;
	size_t len = 0;

	cr_assert_eq(seg_graph_dot(&C, &W, flows, n, ns, &dot, &len), 0);
	cr_assert_eq(strlen(dot), len);
	return dot;
}

static bool has_edge(const char *dot, uint32_t from, uint32_t to, const char *label_part)
{
	char head[64];
	const char *p = dot;

	snprintf(head, sizeof(head), "\"id%u\" -> \"id%u\" [label=\"", from, to);
	while ((p = strstr(p, head))) {
		const char *end = strchr(p + strlen(head), '"');
		const char *hit = strstr(p, label_part);

		if (hit && end && hit < end)
			return true;
		p += strlen(head);
	}
	return false;
}

Test(graph, edges_of_a_small_world, .fini = fini)
{
	uint32_t web, db, cache, cidr;
	struct in6_addr a = ip("198.51.100.20");
	struct seg_graph_flow seen = { 0 };
	char *dot;

	explain_world();
	web = id_of("10.200.0.1");
	db = id_of("10.200.0.3");
	cache = id_of("10.200.0.4");
	cidr = seg_compiled_identity_of(&C, &a);
	seen = (struct seg_graph_flow){ web, db, 10, 840 };
	dot = graph_of(&seen, 1, NULL);
	cr_assert(!strncmp(dot, "digraph segd {", 14), "%s", dot);
	/* both hooks allow web -> db: one edge, with the observed flow */
	cr_expect(has_edge(dot, web, db, "tcp/5432\\n1 flow, 10 packets"), "%s", dot);
	cr_expect(has_edge(dot, SEGD_ID_WORLD, web, "tcp/80"), "%s", dot);
	cr_expect(has_edge(dot, web, cidr, "tcp/1000-2999\\nexcept tcp/2000"), "%s", dot);
	cr_expect(has_edge(dot, web, SEGD_ID_HOST, "udp/53"), "%s", dot);
	cr_expect(has_edge(dot, web, cache, "any"), "%s", dot);
	cr_expect(!has_edge(dot, db, web, ""), "no edge db -> web: %s", dot);
	cr_expect(strstr(dot, "label=\"prod\\napp=web\\n(web-1, web-2)") != NULL, "%s", dot);
	cr_expect(strstr(dot, "label=\"198.51.100.0/24\\nidentity") != NULL, "%s", dot);
	free(dot);

	/* dev holds no policy: its segments only, no prod edge */
	dot = graph_of(NULL, 0, "dev");
	cr_expect(strstr(dot, "->") == NULL, "%s", dot);
	cr_expect(strstr(dot, "dev\\napp=tool") != NULL, "%s", dot);
	cr_expect(strstr(dot, "prod\\n") == NULL, "%s", dot);
	free(dot);
}

Test(graph, observed_flow_without_policy_is_dotted, .fini = fini)
{
	struct seg_graph_flow seen;
	char *dot;

	explain_world();
	seen = (struct seg_graph_flow){ id_of("10.200.1.2"), id_of("10.200.2.1"), 4, 300 };
	dot = graph_of(&seen, 1, NULL);
	cr_expect(has_edge(dot, seen.opener, seen.acceptor, "observed: 1 flow, 4 packets"),
		  "%s", dot);
	cr_expect(strstr(dot, "style=dotted") != NULL, "%s", dot);
	free(dot);
}

Test(graph, conntrack_entries_count_once, .fini = fini)
{
	struct segd_ct_key k = { 0 };
	struct segd_ct_value v = { .packets = { 3, 2 }, .bytes = { 300, 200 } };
	struct seg_graph_flow f;
	struct in6_addr web = ip("10.200.0.1"), db = ip("10.200.0.3"), out = ip("203.0.113.9");

	explain_world();
	memcpy(&k.local, &web, 16);
	memcpy(&k.remote, &db, 16);
	v.origin_dir = SEGD_DIR_EGRESS;
	cr_assert(seg_graph_flow_of(&C, &k, &v, &f));
	cr_expect_eq(f.opener, id_of("10.200.0.1"));
	cr_expect_eq(f.acceptor, id_of("10.200.0.3"));
	cr_expect_eq(f.packets, 5);
	/* db's own entry for the same flow is not counted again */
	memcpy(&k.local, &db, 16);
	memcpy(&k.remote, &web, 16);
	v.origin_dir = SEGD_DIR_INGRESS;
	cr_expect(!seg_graph_flow_of(&C, &k, &v, &f));
	/* but a flow the world opened is */
	memcpy(&k.remote, &out, 16);
	cr_assert(seg_graph_flow_of(&C, &k, &v, &f));
	cr_expect_eq(f.opener, SEGD_ID_WORLD);
	cr_expect_eq(f.acceptor, id_of("10.200.0.3"));
}

Test(graph, graphviz_renders_it, .fini = fini)
{
	char path[] = "/tmp/segd-graph-XXXXXX", cmd[128];
	struct seg_graph_flow seen;
	char *dot;
	FILE *f;
	int fd, st;

	explain_world();
	seen = (struct seg_graph_flow){ id_of("10.200.0.1"), id_of("10.200.0.3"), 10, 840 };
	dot = graph_of(&seen, 1, NULL);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fputs(dot, f);
	fclose(f);
	free(dot);
	snprintf(cmd, sizeof(cmd), "dot -Tsvg %s -o /dev/null 2>&1", path);
	st = system(cmd);
	unlink(path);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "dot -Tsvg refused the graph (status %d; is graphviz installed?)", st);
}
