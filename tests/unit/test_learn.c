/* test_learn.c - learned edges (core/learn/edges.c) and the policies
 * recommended from them (core/learn/recommend.c): what becomes an edge,
 * what is kept across a restart, and that a recommendation parses, is
 * stable, selects by labels and aggregates outside addresses only when
 * enough of a prefix was seen. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include "edges.h"
#include "policy_parse.h"
#include "recommend.h"

static struct in6_addr addr(const char *s)
{
	struct in6_addr a = { 0 };

	cr_assert_eq(seg_addr_parse(s, &a), 0, "address %s", s);
	return a;
}

struct side {
	const char *ns, *labels;        /* NULL: not a workload */
	const char *identity;           /* "world", "host", ... when not */
	const char *ip;
};

struct flow {
	struct side src, dst;
	int dir;                        /* of the observing (local) side */
	uint8_t proto;
	uint16_t sport, dport;
	uint64_t packets, total;        /* delta and total: first record when equal */
	int verdict;
	int64_t t;
	bool midflow;                   /* TCP: segd never saw the SYN */
};

static struct seg_labels parsed(const char *text)
{
	struct seg_labels l = { 0 };

	cr_assert_eq(seg_labels_parse(text, &l, NULL), 0, "labels %s", text);
	return l;
}

/* Feed one record of f into e. */
static int observe(struct seg_edges *e, const struct flow *f)
{
	struct seg_labels sl = { 0 }, dl = { 0 };
	struct seg_flow_record r = { 0 };
	int ret;

	if (f->src.labels)
		sl = parsed(f->src.labels);
	if (f->dst.labels)
		dl = parsed(f->dst.labels);
	r.verdict = (uint8_t)f->verdict;
	r.proto = f->proto;
	r.tcp_flags = f->proto == IPPROTO_TCP ? (f->midflow ? 0x18 : 0x1b) : 0;
	r.direction = (uint8_t)f->dir;
	r.src = addr(f->src.ip);
	r.dst = addr(f->dst.ip);
	r.sport = f->sport;
	r.dport = f->dport;
	r.packets = f->packets;
	r.total_packets = f->total;
	r.bytes = 100 * f->packets;
	r.start_ns = (uint64_t)(f->t ? f->t : 1000) * 1000000000ull;
	r.end_ns = r.start_ns + 5000000000ull;
	r.source = (struct seg_flow_peer){ f->src.ns, "pod", f->src.labels ? &sl : NULL,
					   f->src.identity ? f->src.identity : "x" };
	r.destination = (struct seg_flow_peer){ f->dst.ns, "pod", f->dst.labels ? &dl : NULL,
						f->dst.identity ? f->dst.identity : "x" };
	ret = seg_edges_observe(e, &r);
	seg_labels_free(&sl);
	seg_labels_free(&dl);
	return ret;
}

#define WEB(ip) { "shop", "app=web,pod-template-hash=5d4f", NULL, ip }
#define API(ip) { "shop", "app=api,pod-template-hash=77aa", NULL, ip }
#define DB      { "shop", "app=db,statefulset.kubernetes.io/pod-name=db-0", NULL, "10.200.0.4" }
#define DNS     { "kube-system", "k8s-app=kube-dns", NULL, "10.200.0.53" }
#define OUT(ip) { NULL, NULL, "world", ip }
#define HOST    { NULL, NULL, "host", "169.254.1.1" }

/* The shop's normal traffic, each flow as the observing endpoint sees it. */
static const struct flow shop[] = {
	/* client -> web:80, seen at web's ingress */
	{ OUT("203.0.113.10"), WEB("10.200.0.2"), SEGD_DIR_INGRESS, IPPROTO_TCP, 40001, 80, 5, 5, 0, 1000, false },
	/* a second replica of web, another client port: the same edge */
	{ OUT("203.0.113.10"), WEB("10.200.0.12"), SEGD_DIR_INGRESS, IPPROTO_TCP, 40002, 80, 4, 4, 0, 1001, false },
	/* web -> api:8080 at web's egress and at api's ingress */
	{ WEB("10.200.0.2"), API("10.200.0.3"), SEGD_DIR_EGRESS, IPPROTO_TCP, 50000, 8080, 3, 3, 0, 1002, false },
	{ WEB("10.200.0.2"), API("10.200.0.3"), SEGD_DIR_INGRESS, IPPROTO_TCP, 50000, 8080, 3, 3, 0, 1002, false },
	/* api -> db:5432 */
	{ API("10.200.0.3"), DB, SEGD_DIR_EGRESS, IPPROTO_TCP, 50001, 5432, 2, 2, 0, 1003, false },
	{ API("10.200.0.3"), DB, SEGD_DIR_INGRESS, IPPROTO_TCP, 50001, 5432, 2, 2, 0, 1003, false },
	/* api -> the outside API */
	{ API("10.200.0.3"), OUT("198.51.100.7"), SEGD_DIR_EGRESS, IPPROTO_TCP, 50002, 443, 6, 6, 0, 1004, false },
	/* every pod asks DNS */
	{ WEB("10.200.0.2"), DNS, SEGD_DIR_EGRESS, IPPROTO_UDP, 53001, 53, 1, 1, 0, 1005, false },
	{ API("10.200.0.3"), DNS, SEGD_DIR_EGRESS, IPPROTO_UDP, 53002, 53, 1, 1, 0, 1005, false },
	/* the kubelet probes web */
	{ HOST, WEB("10.200.0.2"), SEGD_DIR_INGRESS, IPPROTO_TCP, 33000, 8081, 1, 1, 0, 1006, false },
	/* ping from web to api */
	{ WEB("10.200.0.2"), API("10.200.0.3"), SEGD_DIR_EGRESS, IPPROTO_ICMP, 0, 8 << 8, 1, 1, 0, 1007, false },
	{ WEB("10.200.0.2"), API("10.200.0.3"), SEGD_DIR_INGRESS, IPPROTO_ICMP, 0, 8 << 8, 1, 1, 0, 1007, false },
	/* a later record of the web -> api flow: counts packets, not a flow */
	{ WEB("10.200.0.2"), API("10.200.0.3"), SEGD_DIR_EGRESS, IPPROTO_TCP, 50000, 8080, 2, 5, 0, 1010, false },
	/* dropped: never an edge */
	{ WEB("10.200.0.2"), DB, SEGD_DIR_EGRESS, IPPROTO_TCP, 50003, 5432, 1, 1, SEG_FLOW_DROPPED, 1011, false },
	/* picked up mid-flow (segd started beside it): oriented by its first
	 * packet seen, db's reply, it would read "db -> api:50001" */
	{ DB, API("10.200.0.3"), SEGD_DIR_EGRESS, IPPROTO_TCP, 5432, 50001, 3, 3, 0, 1012, true },
	/* a port-0 TCP packet (a scan): never "every port" */
	{ OUT("203.0.113.66"), WEB("10.200.0.2"), SEGD_DIR_INGRESS, IPPROTO_TCP, 1, 0, 1, 1, 0, 1013, false },
};

/* the resolver knows one name: the outside API's */
static bool name_of(void *ctx, const struct in6_addr *a, char *buf, size_t len)
{
	struct in6_addr api = addr("198.51.100.7");

	(*(int *)ctx)++;
	if (memcmp(a, &api, sizeof(api)))
		return false;
	snprintf(buf, len, "api.example.com");
	return true;
}

static int names_asked;

static struct seg_edges *shop_edges(void)
{
	struct seg_edges *e;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	seg_edges_set_namer(e, name_of, &names_asked);
	for (size_t i = 0; i < sizeof(shop) / sizeof(shop[0]); i++)
		cr_assert_eq(observe(e, &shop[i]), 0, "flow %zu", i);
	return e;
}

static const struct seg_edge *find(const struct seg_edges *e, const char *local, int dir,
				   uint8_t proto, uint16_t port)
{
	for (size_t i = 0; i < seg_edges_count(e); i++) {
		const struct seg_edge *x = seg_edges_at(e, i);

		if (!strcmp(seg_edges_string(e, x->local), local) && x->dir == dir &&
		    x->proto == proto && x->port == port)
			return x;
	}
	return NULL;
}

Test(learn_edges, one_edge_per_workload_direction_peer_and_server_port)
{
	struct seg_edges *e = shop_edges();
	const struct seg_edge *x;

	/* 14 records: 2 same edge (replicas), 1 later record, 1 drop */
	cr_expect_eq(seg_edges_count(e), 11);
	x = find(e, "shop app=web", SEGD_DIR_INGRESS, IPPROTO_TCP, 80);
	cr_assert(x, "replicas share the edge under their identity labels");
	cr_expect_eq(x->flows, 2);
	cr_expect_eq(x->first_seen, 1000);
	cr_expect_eq(x->last_seen, 1006);
	cr_expect_eq(x->remote_kind, SEG_EDGE_OUTSIDE);
	x = find(e, "shop app=web", SEGD_DIR_EGRESS, IPPROTO_TCP, 8080);
	cr_assert(x);
	cr_expect_eq(x->flows, 1, "a later record of a flow is not a new flow");
	cr_expect_eq(x->packets, 5);
	cr_expect_str_eq(seg_edges_string(e, x->remote), "shop app=api");
	cr_expect_null(find(e, "shop app=web", SEGD_DIR_EGRESS, IPPROTO_TCP, 50000),
		       "the client's port never becomes an edge");
	cr_expect_null(find(e, "shop app=web", SEGD_DIR_EGRESS, IPPROTO_TCP, 5432),
		       "a dropped flow teaches nothing");
	cr_expect_null(find(e, "shop app=db", SEGD_DIR_EGRESS, IPPROTO_TCP, 50001),
		       "a flow picked up without its SYN teaches nothing");
	cr_expect_eq(seg_edges_midflow(e), 1);
	cr_expect_null(find(e, "shop app=web", SEGD_DIR_INGRESS, IPPROTO_TCP, 0),
		       "a port-0 TCP flow is no rule for every port");
	cr_expect_not_null(find(e, "shop app=db", SEGD_DIR_INGRESS, IPPROTO_TCP, 5432),
			   "statefulset pod names are not identity");
	x = find(e, "shop app=web", SEGD_DIR_INGRESS, IPPROTO_TCP, 8081);
	cr_assert(x);
	cr_expect_eq(x->remote_kind, SEG_EDGE_HOST);
	cr_expect_not_null(find(e, "shop app=api", SEGD_DIR_INGRESS, IPPROTO_ICMP, 0));
	x = find(e, "shop app=api", SEGD_DIR_EGRESS, IPPROTO_TCP, 443);
	cr_assert(x);
	cr_expect_str_eq(seg_edges_string(e, x->name), "api.example.com");
	cr_expect_eq(names_asked, 2, "asked once per new outside edge, not per record");
	seg_edges_free(e);
}

/* Seen by iperf3 (`iperf3 -c web -u -R`, tests/e2e/test_learn_programs.sh):
 * segd attached beside the running stream first sees web's datagrams to
 * the client's port, and oriented by them the flow reads "web -> client
 * udp/40789". Without a handshake, the ports tell: a datagram from a
 * service port to an ephemeral one is a reply. */
Test(learn_edges, udp_reply_picked_up_mid_flow_teaches_nothing)
{
	static const struct flow skipped[] = {
		/* web's iperf3 server streams to the outside client's port */
		{ WEB("10.200.0.2"), OUT("203.0.113.10"), SEGD_DIR_EGRESS, IPPROTO_UDP, 5201, 40789, 9, 9, 0, 1000, false },
		/* DNS answers a pod's query */
		{ DNS, WEB("10.200.0.2"), SEGD_DIR_INGRESS, IPPROTO_UDP, 53, 53001, 1, 1, 0, 1001, false },
		/* SCTP: its INIT is not tracked either */
		{ API("10.200.0.3"), OUT("198.51.100.7"), SEGD_DIR_EGRESS, IPPROTO_SCTP, 3868, 49152, 2, 2, 0, 1002, false },
	};
	static const struct flow learned[] = {
		/* the same stream's next run, from its start: the client's hello */
		{ OUT("203.0.113.10"), WEB("10.200.0.2"), SEGD_DIR_INGRESS, IPPROTO_UDP, 40790, 5201, 1, 1, 0, 1003, false },
		/* NTP: service port to service port */
		{ API("10.200.0.3"), OUT("198.51.100.7"), SEGD_DIR_EGRESS, IPPROTO_UDP, 123, 123, 1, 1, 0, 1004, false },
		/* WireGuard-like: both ports high */
		{ WEB("10.200.0.2"), OUT("198.51.100.8"), SEGD_DIR_EGRESS, IPPROTO_UDP, 51820, 51820, 1, 1, 0, 1005, false },
		/* a client's port to a server on a high port */
		{ API("10.200.0.3"), OUT("198.51.100.9"), SEGD_DIR_EGRESS, IPPROTO_UDP, 40000, 45000, 1, 1, 0, 1006, false },
	};
	struct seg_edges *e;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		cr_expect_eq(observe(e, &skipped[i]), 0, "flow %zu", i);
	cr_expect_eq(seg_edges_count(e), 0, "a reply teaches nothing");
	cr_expect_eq(seg_edges_reply_first(e), 3);
	cr_expect_eq(seg_edges_midflow(e), 0, "counted apart from TCP's");
	for (size_t i = 0; i < sizeof(learned) / sizeof(learned[0]); i++)
		cr_expect_eq(observe(e, &learned[i]), 0, "flow %zu", i);
	cr_expect_eq(seg_edges_count(e), 4);
	cr_expect_not_null(find(e, "shop app=web", SEGD_DIR_INGRESS, IPPROTO_UDP, 5201),
			   "the client -> server edge, once the client opens a flow");
	cr_expect_null(find(e, "shop app=web", SEGD_DIR_EGRESS, IPPROTO_UDP, 40789));
	cr_expect_not_null(find(e, "shop app=api", SEGD_DIR_EGRESS, IPPROTO_UDP, 123));
	cr_expect_not_null(find(e, "shop app=web", SEGD_DIR_EGRESS, IPPROTO_UDP, 51820));
	cr_expect_not_null(find(e, "shop app=api", SEGD_DIR_EGRESS, IPPROTO_UDP, 45000));
	cr_expect_eq(seg_edges_reply_first(e), 3);
	seg_edges_free(e);
}

Test(learn_edges, full_store_refuses_and_counts)
{
	struct seg_edges *e;

	cr_assert_eq(seg_edges_new(3, &e), 0);
	for (size_t i = 0; i < 7; i++)
		observe(e, &shop[i]);
	cr_expect_eq(seg_edges_count(e), 3);
	cr_expect_gt(seg_edges_refused(e), 0);
	/* an edge it holds still counts */
	cr_expect_eq(observe(e, &shop[0]), 0);
	/* refused edges keep nothing: 500 new workloads do not grow it */
	size_t before = seg_edges_memory(e);

	for (int i = 0; i < 500; i++) {
		char labels[64];
		struct flow f = shop[0];

		snprintf(labels, sizeof(labels), "app=web-%d", i);
		f.dst.labels = labels;
		cr_expect_eq(observe(e, &f), -ENOSPC);
	}
	cr_expect_eq(seg_edges_memory(e), before);
	/* a reset gives the strings of the forgotten edges back */
	seg_edges_reset(e, "shop");
	cr_expect_lt(seg_edges_memory(e), before);
	seg_edges_free(e);
}

Test(learn_edges, text_round_trip_and_reset)
{
	struct seg_edges *e = shop_edges(), *back;
	struct seg_error err = { 0 };
	char *text, *again;
	size_t len, len2;

	cr_expect(seg_edges_dirty(e));
	cr_assert_eq(seg_edges_save(e, &text, &len), 0);
	cr_expect_not(seg_edges_dirty(e));
	cr_assert_eq(seg_edges_new(0, &back), 0);
	cr_assert_eq(seg_edges_load(back, text, len, &err), 0, "%s", err.msg);
	cr_assert_eq(seg_edges_save(back, &again, &len2), 0);
	cr_expect_str_eq(again, text, "what is loaded saves to the same text");
	cr_expect_not_null(strstr(text, "\tapi.example.com\n"));
	free(again);
	/* a second load adds the counts */
	cr_assert_eq(seg_edges_load(back, text, len, &err), 0);
	cr_expect_eq(find(back, "shop app=web", SEGD_DIR_INGRESS, IPPROTO_TCP, 80)->flows, 4);
	cr_expect_eq(seg_edges_reset(back, "kube-system"), 0, "kube-system has no local edges");
	cr_expect_eq(seg_edges_reset(back, "shop"), 11);
	cr_expect_eq(seg_edges_count(back), 0);
	/* the index works after a reset */
	cr_expect_eq(observe(back, &shop[0]), 0);
	cr_expect_eq(observe(back, &shop[1]), 0);
	cr_expect_eq(seg_edges_count(back), 1);
	seg_edges_free(back);
	free(text);
	seg_edges_free(e);
}

/* params travel to the test's process by value: arrays, not pointers */
struct bad_text {
	char text[160];
	int line;
};

ParameterizedTestParameters(learn_edges, bad_text_names_its_line)
{
	static struct bad_text t[] = {
		{ "not edges\n", 1 },
		{ "# segd learned edges v1\ns\t1\tshop app=web\nx\n", 3 },
		{ "# segd learned edges v1\ne\t1\t0\t3\t0\t::\t6\t80\t1\t2\t1\t1\t1\n", 2 },
		{ "# segd learned edges v1\ns\t1\tshop app=web\ne\t1\t7\t3\t0\t::\t6\t80\t1\t2\t1\t1\t1\n", 3 },
		{ "# segd learned edges v1\ns\t1\tshop app=web\ne\t1\t0\t3\t0\tnope\t6\t80\t1\t2\t1\t1\t1\n", 3 },
		{ "# segd learned edges v1\ns\t1\tshop app=web\ne\t1\t0\t3\t0\t::\t6\t70000\t1\t2\t1\t1\t1\n", 3 },
	};
	return cr_make_param_array(struct bad_text, t, sizeof(t) / sizeof(t[0]));
}

ParameterizedTest(struct bad_text *t, learn_edges, bad_text_names_its_line)
{
	struct seg_edges *e;
	struct seg_error err = { 0 };

	cr_assert_eq(seg_edges_new(0, &e), 0);
	cr_expect_neq(seg_edges_load(e, t->text, strlen(t->text), &err), 0);
	cr_expect_eq(err.line, t->line, "line %d, want %d (%s)", err.line, t->line, err.msg);
	seg_edges_free(e);
}

/* ---- recommend ---------------------------------------------------------- */

static char *recommend(const struct seg_edges *e, enum seg_rec_kind kind, double share,
		       struct seg_rec_summary *sum)
{
	struct seg_rec_opts o = { .kind = kind, .aggregate_share = share };
	struct seg_error err = { 0 };
	char *text;
	size_t len;

	cr_assert_eq(seg_recommend(e, NULL, &o, &text, &len, sum, &err), 0, "%s", err.msg);
	cr_assert_eq(strlen(text), len);
	return text;
}

static size_t parse_all(const char *text)
{
	struct seg_policy *p = NULL;
	struct seg_error err = { 0 };
	size_t n = 0;

	cr_assert_eq(seg_policy_parse(text, strlen(text), "rec.yaml", NULL, &p, &n, &err), 0,
		     "the recommendation does not parse: %s:%d:%d: %s\n%s", err.file, err.line,
		     err.col, err.msg, text);
	seg_policies_free(p, n);
	return n;
}

Test(recommend, segmentpolicy_parses_selects_by_label_and_is_stable)
{
	struct seg_edges *e = shop_edges();
	struct seg_rec_summary sum;
	char *a = recommend(e, SEG_REC_SEGMENTPOLICY, 0, &sum), *b;

	/* default deny (shop, kube-system has no local edges) + web, api, db */
	cr_expect_eq(parse_all(a), 4, "%s", a);
	cr_expect_eq(sum.workloads, 3);
	cr_expect_null(strstr(a, "10.200."), "no pod address in:\n%s", a);
	cr_expect_null(strstr(a, "0.0.0.0/0"));
	cr_expect_null(strstr(a, "pod-template-hash"));
	cr_expect_not_null(strstr(a, "name: learned-web\n"));
	cr_expect_not_null(strstr(a, "- cidr: \"203.0.113.10/32\""));
	cr_expect_not_null(strstr(a, "- entity: host"));
	cr_expect_not_null(strstr(a, "- cidr: \"198.51.100.7/32\"   # api.example.com\n"), "%s", a);
	cr_expect_not_null(strstr(a, "{protocol: ICMP}"));
	cr_expect_not_null(strstr(a, "namespaceSelector: {matchLabels: "
				     "{kubernetes.io/metadata.name: \"kube-system\"}}"));
	cr_expect_not_null(strstr(a, "learned from 2 flows"), "%s", a);
	b = recommend(e, SEG_REC_SEGMENTPOLICY, 0, &sum);
	cr_expect_str_eq(a, b, "the same edges give the same bytes");
	free(a);
	free(b);
	seg_edges_free(e);
}

Test(recommend, networkpolicy_parses_and_says_what_it_cannot_express)
{
	struct seg_edges *e = shop_edges();
	struct seg_rec_summary sum;
	char *a = recommend(e, SEG_REC_NETWORKPOLICY, 0, &sum);

	cr_expect_eq(parse_all(a), 4, "%s", a);
	cr_expect_not_null(strstr(a, "kind: NetworkPolicy"));
	cr_expect_not_null(strstr(a, "- ipBlock: {cidr: \"198.51.100.7/32\"}"));
	cr_expect_not_null(strstr(a, "NOT ALLOWED, a NetworkPolicy cannot say it: from the node"));
	cr_expect_eq(sum.skipped, 3, "host probe, ICMP at web's egress and api's ingress");
	cr_expect_null(strstr(a, "10.200."));
	free(a);
	seg_edges_free(e);
}

Test(recommend, namespace_and_since_filters)
{
	struct seg_edges *e = shop_edges();
	const char *nss[] = { "kube-system" };
	struct seg_rec_opts o = { .namespaces = nss, .n_namespaces = 1 };
	struct seg_rec_summary sum;
	struct seg_error err = { 0 };
	char *text;
	size_t len;

	cr_assert_eq(seg_recommend(e, NULL, &o, &text, &len, &sum, &err), 0);
	cr_expect_eq(sum.edges, 0);
	cr_expect_eq(parse_all(text), 0);
	free(text);
	o = (struct seg_rec_opts){ .since = 1012 };
	cr_assert_eq(seg_recommend(e, NULL, &o, &text, &len, &sum, &err), 0);
	/* web -> api:8080 (its later record), the ping at both ends */
	cr_expect_eq(sum.edges, 3, "edges last seen at 1012 or later: %zu", sum.edges);
	free(text);
	o = (struct seg_rec_opts){ .aggregate_share = 1.5 };
	cr_expect_eq(seg_recommend(e, NULL, &o, &text, &len, &sum, &err), -EINVAL);
	seg_edges_free(e);
}

/* Two workloads of one namespace that share app= get told apart. */
Test(recommend, selector_tells_workloads_apart)
{
	static const struct flow f[] = {
		{ OUT("203.0.113.1"), { "ns", "app=shop,tier=front", NULL, "10.200.0.2" },
		  SEGD_DIR_INGRESS, IPPROTO_TCP, 1, 80, 1, 1, 0, 1, false },
		{ OUT("203.0.113.1"), { "ns", "app=shop,tier=back", NULL, "10.200.0.3" },
		  SEGD_DIR_INGRESS, IPPROTO_TCP, 1, 81, 1, 1, 0, 1, false },
	};
	struct seg_edges *e;
	struct seg_rec_summary sum;
	char *a;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(observe(e, &f[i]), 0);
	a = recommend(e, SEG_REC_SEGMENTPOLICY, 0, &sum);
	cr_expect_not_null(strstr(a, "{matchLabels: {app: \"shop\", tier: \"front\"}}"), "%s", a);
	cr_expect_not_null(strstr(a, "name: learned-shop-front\n"));
	cr_expect_not_null(strstr(a, "name: learned-shop-back\n"));
	free(a);
	seg_edges_free(e);
}

/* A workload whose labels are a subset of another's: its selector must
 * not match the other (B would inherit A's rules). */
Test(recommend, subset_labels_get_does_not_exist)
{
	static const struct flow f[] = {
		{ { "ns", "app=web", NULL, "10.200.0.2" }, DB, SEGD_DIR_EGRESS, IPPROTO_TCP, 1,
		  5432, 1, 1, 0, 1, false },
		{ { "ns", "app=web,track=canary", NULL, "10.200.0.3" }, OUT("203.0.113.1"),
		  SEGD_DIR_EGRESS, IPPROTO_TCP, 1, 443, 1, 1, 0, 1, false },
	};
	struct seg_edges *e;
	struct seg_rec_summary sum;
	char *a;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(observe(e, &f[i]), 0);
	a = recommend(e, SEG_REC_SEGMENTPOLICY, 0, &sum);
	cr_expect_not_null(strstr(a, "selector: {matchLabels: {app: \"web\"}, matchExpressions: "
				     "[{key: track, operator: DoesNotExist}]}\n"), "%s", a);
	cr_expect_not_null(strstr(a, "{matchLabels: {app: \"web\", track: \"canary\"}}"));
	parse_all(a);
	free(a);
	seg_edges_free(e);
}

/* Clients from many networks: the world, said loudly; from few: each. */
Test(recommend, ingress_from_many_networks_is_the_world)
{
	struct seg_edges *e;
	struct seg_rec_summary sum;
	char *a, *k8s;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	for (int i = 0; i < 16; i++) {
		char ip[32];
		struct flow f = { OUT(""), { "ns", "app=web", NULL, "10.200.0.2" },
				  SEGD_DIR_INGRESS, IPPROTO_TCP, 1, 443, 1, 1, 0, 1, false };

		/* 4 clients in each of 4 /16s */
		snprintf(ip, sizeof(ip), "%d.%d.7.%d", 100 + i / 4, 10 + i / 4, i);
		f.src.ip = ip;
		cr_assert_eq(observe(e, &f), 0);
	}
	a = recommend(e, SEG_REC_SEGMENTPOLICY, 0, &sum);
	cr_expect_not_null(strstr(a, "- entity: world   # WORLD-OPEN: clients from 4 networks"),
			   "%s", a);
	cr_expect_null(strstr(a, "- cidr:"));
	parse_all(a);
	k8s = recommend(e, SEG_REC_NETWORKPOLICY, 0, &sum);
	cr_expect_not_null(strstr(k8s, "- ipBlock: {cidr: \"0.0.0.0/0\"}"));
	parse_all(k8s);
	free(k8s);
	free(a);
	/* one network fewer: the clients one by one */
	struct seg_rec_opts o = { .world_min_nets = 5 };
	struct seg_error err = { 0 };
	size_t len;

	cr_assert_eq(seg_recommend(e, NULL, &o, &a, &len, &sum, &err), 0);
	cr_expect_null(strstr(a, "entity: world"));
	cr_expect_not_null(strstr(a, "- cidr: \"100.10.7.0/"), "%s", a);
	free(a);
	seg_edges_free(e);
}

/* An outside address that an endpoint holds now (a pod of another node
 * seen before its labels came) is never written as a CIDR. */
Test(recommend, endpoint_addresses_are_never_cidrs)
{
	static const struct flow f = { { "ns", "app=web", NULL, "10.200.0.2" },
				       OUT("10.200.9.9"), SEGD_DIR_EGRESS, IPPROTO_TCP, 1,
				       8080, 1, 1, 0, 1, false };
	struct seg_endpoint ep = { .name = "remote-api", .ns = "ns", .n_ips = 1 };
	struct seg_world w = { .endpoints = &ep, .n_endpoints = 1 };
	struct seg_rec_opts o = { 0 };
	struct seg_rec_summary sum;
	struct seg_error err = { 0 };
	struct seg_edges *e;
	size_t len;
	char *a;

	ep.ips[0] = addr("10.200.9.9");
	cr_assert_eq(seg_edges_new(0, &e), 0);
	cr_assert_eq(observe(e, &f), 0);
	cr_assert_eq(seg_recommend(e, &w, &o, &a, &len, &sum, &err), 0);
	cr_expect_null(strstr(a, "10.200.9.9"), "%s", a);
	cr_expect_not_null(strstr(a, "NOT ALLOWED: 1 edge to addresses that endpoints hold now"));
	cr_expect_eq(sum.skipped, 1);
	free(a);
	seg_edges_free(e);
}

Test(recommend, default_deny_comes_after_the_allows)
{
	struct seg_edges *e = shop_edges();
	struct seg_rec_summary sum;
	char *a = recommend(e, SEG_REC_SEGMENTPOLICY, 0, &sum);
	const char *deny = strstr(a, "name: learned-default-deny\n  namespace: shop");

	cr_assert_not_null(deny);
	cr_expect_null(strstr(deny, "name: learned-web"), "workload policies first:\n%s", a);
	free(a);
	seg_edges_free(e);
}

struct agg_case {
	char name[64];
	int n;                          /* addresses 203.0.113.<first + i * step> */
	int first, step;
	double share;
	char want[4][24];               /* cidrs in the output, in order */
	char absent[16];
};

ParameterizedTestParameters(recommend, outside_addresses_aggregate_by_share)
{
	static struct agg_case t[] = {
		{ "one address stays a /32", 1, 10, 1, 0.5,
		  { "203.0.113.10/32" }, "203.0.113.0/" },
		{ "two neighbours are half of a /30", 2, 10, 1, 0.5,
		  { "203.0.113.8/30" }, "/32" },
		{ "half of the /24 seen", 128, 0, 2, 0.5, { "203.0.113.0/24" }, "/32" },
		{ "under half of the /24: smaller blocks", 100, 0, 2, 0.5,
		  { "203.0.113.0/25", "203.0.113.128/26", "203.0.113.192/29" }, "/24" },
		{ "share 1: only full blocks", 3, 8, 1, 1.0,
		  { "203.0.113.8/31", "203.0.113.10/32" }, "/30" },
	};
	return cr_make_param_array(struct agg_case, t, sizeof(t) / sizeof(t[0]));
}

ParameterizedTest(struct agg_case *t, recommend, outside_addresses_aggregate_by_share)
{
	struct seg_edges *e;
	struct seg_rec_summary sum;
	const char *at;
	char *a;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	for (int i = 0; i < t->n; i++) {
		char ip[32];
		struct flow f = { OUT(""), { "ns", "app=web", NULL, "10.200.0.2" },
				  SEGD_DIR_INGRESS, IPPROTO_TCP, 1, 80, 1, 1, 0, 1, false };

		snprintf(ip, sizeof(ip), "203.0.113.%d", t->first + i * t->step);
		f.src.ip = ip;
		cr_assert_eq(observe(e, &f), 0);
	}
	a = recommend(e, SEG_REC_SEGMENTPOLICY, t->share, &sum);
	at = a;
	for (int i = 0; i < 4 && *t->want[i]; i++) {
		char want[64];

		snprintf(want, sizeof(want), "- cidr: \"%s\"\n", t->want[i]);
		at = strstr(at, want);
		cr_assert_not_null(at, "%s: %s missing or out of order in\n%s", t->name,
				   t->want[i], a);
	}
	cr_expect_null(strstr(a, t->absent), "%s: %s in\n%s", t->name, t->absent, a);
	parse_all(a);
	free(a);
	seg_edges_free(e);
}

/* ---- novelty (detection's new-destination) ------------------------------ */

static int novel_calls;
static char novel_name[64];

static void on_novel(void *ctx, const struct seg_flow_record *r, const char *name)
{
	(void)ctx, (void)r;
	novel_calls++;
	snprintf(novel_name, sizeof(novel_name), "%s", name ? name : "");
}

/* the outside API answers at two addresses under one name */
static bool api_names(void *ctx, const struct in6_addr *a, char *buf, size_t len)
{
	struct in6_addr one = addr("198.51.100.7"), two = addr("198.51.100.8");

	(void)ctx;
	if (memcmp(a, &one, sizeof(*a)) && memcmp(a, &two, sizeof(*a)))
		return false;
	snprintf(buf, len, "api.example.com");
	return true;
}

#define NEW_OUT(src, ip, port, t, verdict) \
	{ src, OUT(ip), SEGD_DIR_EGRESS, IPPROTO_TCP, 51000, port, 1, 1, verdict, t, false }

Test(learn_edges, novelty_is_a_new_outside_peer_of_a_learned_identity)
{
	static const struct {
		const char *what;
		struct flow f;
		bool novel;
	} rows[] = {
		{ "in the learning period (50 s of 100)",
		  NEW_OUT(API("10.200.0.3"), "198.51.100.99", 443, 1050, 0), false },
		{ "a known address on a new port",
		  NEW_OUT(API("10.200.0.3"), "198.51.100.7", 8443, 2000, 0), false },
		{ "another address of a known name",
		  NEW_OUT(API("10.200.0.3"), "198.51.100.8", 443, 2000, 0), false },
		{ "dropped by policy: never an edge",
		  NEW_OUT(API("10.200.0.3"), "192.0.2.1", 443, 2000, SEG_FLOW_DROPPED), false },
		{ "an identity with no edge before",
		  NEW_OUT(((struct side){ "shop", "app=new", NULL, "10.200.0.9" }),
			  "192.0.2.2", 443, 2000, 0), false },
		{ "an outside client coming in",
		  { OUT("192.0.2.3"), WEB("10.200.0.2"), SEGD_DIR_INGRESS, IPPROTO_TCP,
		    40000, 80, 1, 1, 0, 2000, false }, false },
		{ "api, learned, to an address it never reached",
		  NEW_OUT(API("10.200.0.3"), "192.0.2.10", 443, 2000, 0), true },
		{ "the same again: known now",
		  NEW_OUT(API("10.200.0.3"), "192.0.2.10", 443, 2001, 0), false },
		{ "a replica of web (same identity), new address",
		  NEW_OUT(WEB("10.200.0.12"), "192.0.2.11", 80, 2000, 0), true },
	};
	struct seg_edges *e;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	seg_edges_set_namer(e, api_names, NULL);
	for (size_t i = 0; i < sizeof(shop) / sizeof(shop[0]); i++)
		cr_assert_eq(observe(e, &shop[i]), 0, "flow %zu", i);
	seg_edges_set_novelty(e, 100, on_novel, NULL);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int before = novel_calls;

		observe(e, &rows[i].f);
		cr_expect_eq(novel_calls - before, rows[i].novel ? 1 : 0, "%s", rows[i].what);
	}
	seg_edges_set_novelty(e, 0, NULL, NULL);
	observe(e, &(struct flow)NEW_OUT(API("10.200.0.3"), "192.0.2.12", 443, 3000, 0));
	cr_expect_eq(novel_calls, 2, "off: no call");
	seg_edges_free(e);
}

Test(learn_edges, novelty_names_the_domain)
{
	struct seg_edges *e;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	seg_edges_set_namer(e, api_names, NULL);
	cr_assert_eq(observe(e, &shop[2]), 0);   /* web's first edge, t = 1002 */
	seg_edges_set_novelty(e, 10, on_novel, NULL);
	novel_calls = 0;
	observe(e, &(struct flow)NEW_OUT(WEB("10.200.0.2"), "198.51.100.8", 443, 2000, 0));
	cr_expect_eq(novel_calls, 1);
	cr_expect_str_eq(novel_name, "api.example.com");
	seg_edges_free(e);
}

/* Label keys YAML would read as something else (null, a YAML 1.1
 * boolean, a number) are quoted, so the recommendation parses back with
 * the same selector (the fuzzer found "NULL": tests/fixtures/learn). */
Test(recommend, label_keys_yaml_would_misread_are_quoted)
{
	static const struct flow odd[] = {
		{ { "shop", "NULL=api,on=x,1tier=a,plain=b", NULL, "10.200.0.7" },
		  { "shop", "yes=db", NULL, "10.200.0.8" }, SEGD_DIR_EGRESS, IPPROTO_TCP,
		  50000, 5432, 1, 1, 0, 1000, false },
	};
	struct seg_rec_summary sum;
	struct seg_edges *e;
	char *a, *k;

	cr_assert_eq(seg_edges_new(0, &e), 0);
	cr_assert_eq(observe(e, &odd[0]), 0);
	a = recommend(e, SEG_REC_SEGMENTPOLICY, 0, &sum);
	k = recommend(e, SEG_REC_NETWORKPOLICY, 0, &sum);
	cr_expect_eq(parse_all(a), 2, "%s", a);
	cr_expect_eq(parse_all(k), 2, "%s", k);
	cr_expect_not_null(strstr(a, "\"yes\": \"db\""), "%s", a);
	cr_expect_not_null(strstr(a, "\"1tier\": \"a\""), "%s", a);
	cr_expect_not_null(strstr(a, "\"NULL\": \"api\""), "%s", a);
	cr_expect_not_null(strstr(a, "plain: \"b\""), "%s", a);
	free(a);
	free(k);
	seg_edges_free(e);
}

/* A pass names thousands of records after a few workloads: the store
 * keeps a workload's text while the records share a names epoch, and
 * makes it again once the epoch moves (the world may have changed in
 * place) or when the record has none (0). */
Test(learn_edges, workload_texts_follow_the_names_epoch)
{
	struct seg_labels web = parsed("app=web");
	struct seg_flow_record r = { 0 };
	struct seg_edges *e;
	const struct { uint64_t epoch; const char *labels, *want; } steps[] = {
		{ 1, NULL, "shop app=web" },
		{ 2, "app=web-v2", "shop app=web-v2" },   /* relabelled in place */
		{ 0, "app=web-v3", "shop app=web-v3" },   /* no epoch: made again */
		{ 0, "app=web-v4", "shop app=web-v4" },
	};

	cr_assert_eq(seg_edges_new(0, &e), 0);
	r.proto = IPPROTO_TCP;
	r.tcp_flags = 0x1b;
	r.direction = SEGD_DIR_EGRESS;
	r.src = addr("10.200.0.2");
	r.dst = addr("203.0.113.10");
	r.sport = 40000;
	r.packets = r.total_packets = 1;
	r.source = (struct seg_flow_peer){ "shop", "web", &web, "shop/web" };
	r.destination = (struct seg_flow_peer){ NULL, NULL, NULL, "world" };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct seg_edge *x;

		if (steps[i].labels) {
			seg_labels_free(&web);
			web = parsed(steps[i].labels);   /* the same struct */
		}
		r.names_epoch = steps[i].epoch;
		r.dport = (uint16_t)(443 + i);       /* one edge per step */
		cr_assert_eq(seg_edges_observe(e, &r), 0);
		cr_assert_eq(seg_edges_count(e), i + 1);
		x = seg_edges_at(e, i);
		cr_assert_str_eq(seg_edges_string(e, x->local), steps[i].want, "step %zu", i);
	}
	seg_labels_free(&web);
	seg_edges_free(e);
}
