/* test_conformance.c - the SCTP truth tables of the conformance suite as
 * BPF_PROG_TEST_RUN rows (run as root).
 *
 * This kernel has no SCTP sockets (EPROTONOSUPPORT), so the SCTP probes of
 * tests/conformance/cases - upstream's "using SCTP" context and the
 * SCTP matrices of other cases - run here: the same namespaces, pods,
 * labels and policy YAML, parsed by seg_policy_parse, compiled by
 * seg_compile and applied with seg_dp_apply, then an SCTP INIT per cell of
 * the 9x9 matrix goes through the source pod's from-endpoint hook and, if
 * it passes, the target pod's to-endpoint hook, each on the interface its
 * pod is on. A cell is allowed when both pass, and then its INIT ACK must
 * come back the same way (conntrack); a drop must be a policy verdict
 * (default or explicit deny), anything else is a broken row.
 * Each pod has its own veth in a network namespace private to the test.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "conf_cases.h"
#include "dp_core.h"
#include "policy_parse.h"

#define LOG_MAX 32768

static uint32_t pod_ifindex[CONF_PODS];
static uint16_t next_sport = 20000;

/* The pods' interfaces, in a network namespace of our own: test_run needs
 * real devices, and the root namespace is not ours to change. */
static void conf_suite_init(void)
{
	FILE *ip;

	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	ip = popen("ip -batch -", "w");
	cr_assert_not_null(ip);
	for (int i = 0; i < CONF_PODS; i++)
		fprintf(ip, "link add cf%d type veth peer name cp%d\n", i, i);
	cr_assert_eq(pclose(ip), 0, "ip link add failed");
	for (int i = 0; i < CONF_PODS; i++) {
		char name[IF_NAMESIZE];

		snprintf(name, sizeof(name), "cf%d", i);
		pod_ifindex[i] = if_nametoindex(name);
		cr_assert_neq(pod_ifindex[i], 0, "%s: %s", name, strerror(errno));
	}
	dp_suite_init();
}

TestSuite(conformance, .init = conf_suite_init, .fini = dp_suite_fini);

/* ---- the cluster as segd's model -------------------------------------- */

struct cluster {
	struct seg_namespace ns[CONF_NS];
	struct seg_endpoint ep[CONF_PODS];
	struct seg_policy *pol;
	size_t n_pol;
};

static void set_labels(struct seg_labels *l, const char *text)
{
	struct seg_labels nl = { 0 };
	struct seg_error err = { 0 };

	cr_assert_eq(seg_labels_parse(text, &nl, &err), 0, "labels '%s': %s",
		     text, err.msg);
	seg_labels_free(l);
	*l = nl;
}

static void cluster_init(struct cluster *cl)
{
	char text[64];

	memset(cl, 0, sizeof(*cl));
	for (int i = 0; i < CONF_NS; i++) {
		cl->ns[i].name = strdup(conf_ns_name(i));
		snprintf(text, sizeof(text), "ns=%s", conf_ns_name(i));
		set_labels(&cl->ns[i].labels, text);
	}
	for (int i = 0; i < CONF_PODS; i++) {
		struct seg_endpoint *e = &cl->ep[i];
		const char *pod = conf_pod_name(i);

		e->name = strdup(pod + 2);
		e->ns = strndup(pod, 1);
		snprintf(text, sizeof(text), "pod=%s", pod + 2);
		set_labels(&e->labels, text);
		conf_pod_addr(i, text, sizeof(text));
		cr_assert_eq(seg_addr_parse(text, &e->ips[0]), 0);
		e->n_ips = 1;
		snprintf(e->ifname, sizeof(e->ifname), "cf%d", i);
		e->ifindex = pod_ifindex[i];
		e->endpoint_id = (uint32_t)i + 1;
	}
}

static void cluster_free(struct cluster *cl)
{
	for (int i = 0; i < CONF_NS; i++)
		seg_namespace_free(&cl->ns[i]);
	for (int i = 0; i < CONF_PODS; i++)
		seg_endpoint_free(&cl->ep[i]);
	seg_policies_free(cl->pol, cl->n_pol);
}

static struct seg_policy *find_policy(struct cluster *cl, const char *ns,
				      const char *name)
{
	for (size_t i = 0; i < cl->n_pol; i++)
		if (!strcmp(cl->pol[i].ns, ns) && !strcmp(cl->pol[i].name, name))
			return &cl->pol[i];
	return NULL;
}

static void delete_policy(struct cluster *cl, struct seg_policy *p)
{
	size_t i = (size_t)(p - cl->pol);

	seg_policy_free(p);
	memmove(p, p + 1, (cl->n_pol - i - 1) * sizeof(*p));
	cl->n_pol--;
}

/* `segctl apply`: every policy of the text created or replaced */
static int apply_text(struct cluster *cl, const char *text, struct seg_error *err)
{
	struct seg_policy *p, *cur;
	size_t n;
	int ret = seg_policy_parse(text, strlen(text), "case", NULL, &p, &n, err);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		if ((cur = find_policy(cl, p[i].ns, p[i].name))) {
			seg_policy_free(cur);
			*cur = p[i];
			continue;
		}
		cur = realloc(cl->pol, (cl->n_pol + 1) * sizeof(*cur));
		cr_assert_not_null(cur);
		cl->pol = cur;
		cl->pol[cl->n_pol++] = p[i];
	}
	free(p);   /* the policies moved into the cluster */
	return 0;
}

/* what segd does after every change: compile, then the kernel */
static void enforce(struct cluster *cl)
{
	struct seg_world w = {
		.namespaces = cl->ns, .n_namespaces = CONF_NS,
		.endpoints = cl->ep, .n_endpoints = CONF_PODS,
		.policies = cl->pol, .n_policies = cl->n_pol,
	};
	struct seg_compiled c = { 0 };
	struct seg_error err = { 0 };
	int ret = seg_compile(&w, &c, &err);

	cr_assert_eq(ret, 0, "seg_compile: %s", err.msg);
	ret = seg_dp_apply(dp, &c);
	seg_compiled_free(&c);
	cr_assert_eq(ret, 0, "seg_dp_apply: %s", strerror(-ret));
}

/* ---- probing ------------------------------------------------------------ */

/* 1 passed, 0 dropped by policy, -1 anything else */
static int run_hook(enum seg_prog prog, const uint8_t *pkt, int len,
		    uint32_t ifindex)
{
	struct segd_counter before[SEGD_REASON_MAX], after[SEGD_REASON_MAX];
	uint32_t verdict = 0;
	int policy_drops = 0, other_drops = 0;

	cr_assert_eq(seg_dp_reason_counters(dp, before), 0);
	cr_assert_eq(dp_run_prog(prog, pkt, len, ifindex, &verdict), 0);
	cr_assert_eq(seg_dp_reason_counters(dp, after), 0);
	if (verdict == TC_ACT_OK)
		return 1;
	for (int k = 0; k < SEGD_REASON_MAX; k++) {
		uint64_t d = after[k].packets - before[k].packets;

		if (k == SEGD_REASON_DEFAULT_DENIED || k == SEGD_REASON_POLICY_DENIED)
			policy_drops += (int)d;
		else if (k != SEGD_REASON_FORWARDED)
			other_drops += (int)d;
	}
	return verdict == TC_ACT_SHOT && policy_drops == 1 && !other_drops ? 0 : -1;
}

/* An SCTP INIT from pod `from` to pod `to` (a new association each time)
 * and, when it gets through, the INIT ACK back: 1 both passed, 0 the INIT
 * was dropped by policy, -1 anything else (a dropped answer too). */
static int probe(int from, int to, uint16_t port)
{
	char a[32], b[32];
	uint16_t sport = next_sport++;
	struct pkt_spec init = { .src = a, .dst = b, .proto = IPPROTO_SCTP,
				 .sport = sport, .dport = port, .sctp_chunk = 1 };
	struct pkt_spec ack = { .src = b, .dst = a, .proto = IPPROTO_SCTP,
				.sport = port, .dport = sport, .sctp_chunk = 2 };
	static uint8_t pkt[PKT_MAX];
	int len, v;

	conf_pod_addr(from, a, sizeof(a));
	conf_pod_addr(to, b, sizeof(b));
	len = pkt_build(&init, pkt, sizeof(pkt));
	cr_assert_gt(len, 0);
	v = run_hook(SEG_PROG_TC_FROM_EP, pkt, len, pod_ifindex[from]);
	if (v == 1)
		v = run_hook(SEG_PROG_TC_TO_EP, pkt, len, pod_ifindex[to]);
	if (v != 1)
		return v;
	len = pkt_build(&ack, pkt, sizeof(pkt));
	cr_assert_gt(len, 0);
	if (run_hook(SEG_PROG_TC_FROM_EP, pkt, len, pod_ifindex[to]) != 1 ||
	    run_hook(SEG_PROG_TC_TO_EP, pkt, len, pod_ifindex[from]) != 1)
		return -1;
	return 1;
}

/* ---- cases ---------------------------------------------------------------- */

struct pair {
	const bool (*want)[CONF_PODS];
	const int (*seen)[CONF_PODS];
};

static char verdict_char(int v)
{
	return v == 1 ? '.' : v == 0 ? 'X' : '?';   /* upstream's '.' and 'X' */
}

static char cell_want(int f, int t, const void *a)
{
	return verdict_char(((const struct pair *)a)->want[f][t]);
}

static char cell_seen(int f, int t, const void *a)
{
	return verdict_char(((const struct pair *)a)->seen[f][t]);
}

static char cell_cmp(int f, int t, const void *a)
{
	const struct pair *p = a;

	return p->seen[f][t] == (int)p->want[f][t] ? '.' : 'X';
}

static size_t append(char *log, size_t n, const char *fmt, const char *s)
{
	return n < LOG_MAX ? n + (size_t)snprintf(log + n, LOG_MAX - n, fmt, s) : n;
}

/* Probe every SCTP matrix of the step; the tables of a wrong one go into
 * log. Returns the number of wrong cells. */
static int check_step(const struct conf_step *s, char *log, size_t *n)
{
	static int seen[CONF_PODS][CONF_PODS];
	char table[2048], head[64];
	int wrong_total = 0;

	for (int c = 0; c < CONF_COMBOS; c++) {
		struct pair p = { s->allowed[c], (const int (*)[CONF_PODS])seen };
		int wrong = 0;

		if (!s->has[c] || conf_combos[c].proto != IPPROTO_SCTP)
			continue;
		for (int f = 0; f < CONF_PODS; f++)
			for (int t = 0; t < CONF_PODS; t++) {
				seen[f][t] = f == t ? (int)s->allowed[c][f][t] :
					     probe(f, t, conf_combos[c].port);
				wrong += seen[f][t] != (int)s->allowed[c][f][t];
			}
		if (!wrong)
			continue;
		wrong_total += wrong;
		snprintf(head, sizeof(head), "%u/SCTP: %d wrong of 72\nexpected:\n",
			 conf_combos[c].port, wrong);
		*n = append(log, *n, "%s", head);
		conf_render(table, sizeof(table), cell_want, &p);
		*n = append(log, *n, "%s\nobserved:\n", table);
		conf_render(table, sizeof(table), cell_seen, &p);
		*n = append(log, *n, "%s\ncomparison ('.' agrees, 'X' wrong):\n", table);
		conf_render(table, sizeof(table), cell_cmp, &p);
		*n = append(log, *n, "%s\n", table);
	}
	return wrong_total;
}

static void do_actions(struct cluster *cl, const struct conf_step *s,
		       const char *title, size_t step)
{
	struct seg_error err = { 0 };
	int ret;

	if (s->delete_all) {
		seg_policies_free(cl->pol, cl->n_pol);
		cl->pol = NULL;
		cl->n_pol = 0;
	}
	for (size_t i = 0; i < s->n_deletes; i++) {
		char ns[64];
		const char *slash = strchr(s->deletes[i], '/');
		struct seg_policy *p;

		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - s->deletes[i]),
			 s->deletes[i]);
		p = find_policy(cl, ns, slash + 1);
		cr_assert_not_null(p, "%s step %zu: no policy %s", title, step,
				   s->deletes[i]);
		delete_policy(cl, p);
	}
	if (s->refused) {
		struct seg_policy *p = NULL;
		size_t n = 0;

		ret = seg_policy_parse(s->refused, strlen(s->refused), "case",
				       NULL, &p, &n, &err);
		seg_policies_free(p, n);
		cr_expect_neq(ret, 0, "%s step %zu: a refused policy was taken",
			      title, step);
	}
	if (s->apply) {
		ret = apply_text(cl, s->apply, &err);
		cr_assert_eq(ret, 0, "%s step %zu: %s:%d:%d: %s", title, step,
			     err.file, err.line, err.col, err.msg);
	}
	for (int i = 0; i < CONF_PODS; i++)
		if (s->pod_labels[i])
			set_labels(&cl->ep[i].labels, s->pod_labels[i]);
	for (int i = 0; i < CONF_NS; i++)
		if (s->ns_labels[i])
			set_labels(&cl->ns[i].labels, s->ns_labels[i]);
	enforce(cl);
}

static bool has_sctp(const struct conf_case *c)
{
	for (size_t i = 0; i < c->n_steps; i++)
		for (int k = 0; k < CONF_COMBOS; k++)
			if (c->steps[i].has[k] && conf_combos[k].proto == IPPROTO_SCTP)
				return true;
	return false;
}

/* the case's steps from the bare cluster; wrong cells, tables in log */
static int run_case(const struct conf_case *c, char *log)
{
	struct cluster cl;
	size_t n = 0;
	int wrong = 0;

	log[0] = '\0';
	cluster_init(&cl);
	enforce(&cl);
	for (size_t i = 0; i < c->n_steps; i++) {
		char head[160];
		size_t mark = n;
		int w;

		do_actions(&cl, &c->steps[i], c->title, i + 1);
		snprintf(head, sizeof(head), "step %zu%s%s%s:\n", i + 1,
			 *c->steps[i].name ? " (" : "", c->steps[i].name,
			 *c->steps[i].name ? ")" : "");
		n = append(log, n, "%s", head);
		w = check_step(&c->steps[i], log, &n);
		if (!w)
			log[n = mark] = '\0';
		wrong += w;
	}
	cluster_free(&cl);
	return wrong;
}

static const char *cases_dir(void)
{
	const char *d = getenv("SEGD_CONFORMANCE_CASES");

	return d && *d ? d : "tests/conformance/cases";
}

Test(conformance, sctp_open_without_policies)
{
	struct conf_step open = { .has = { [4] = true, [5] = true } };
	static char log[LOG_MAX];
	struct cluster cl;
	size_t n = 0;

	memset(open.allowed, 1, sizeof(open.allowed));
	cluster_init(&cl);
	enforce(&cl);
	cr_expect_eq(check_step(&open, log, &n), 0, "%s", log);
	cluster_free(&cl);
}

Test(conformance, sctp_truth_tables)
{
	static char log[LOG_MAX];
	struct conf_case *cases;
	size_t n_cases;
	char err[512];
	int ret = conf_load_dir(cases_dir(), &cases, &n_cases, err, sizeof(err));
	int ran = 0, upstream_sctp = 0, failed = 0;

	cr_assert_eq(ret, 0, "case files (run from the source tree or set "
		     "SEGD_CONFORMANCE_CASES): %s", err);
	for (size_t i = 0; i < n_cases; i++) {
		if (!has_sctp(&cases[i]))
			continue;
		ran++;
		upstream_sctp += !strcmp(cases[i].tag, "sctp");
		if (run_case(&cases[i], log)) {
			failed++;
			cr_log_error("not ok - %s\n%s", cases[i].title, log);
		}
	}
	/* upstream's "using SCTP" context has three cases */
	cr_expect_eq(upstream_sctp, 3, "%d cases tagged sctp", upstream_sctp);
	cr_expect_eq(failed, 0, "%d of %d cases with SCTP probes failed", failed,
		     ran);
	conf_cases_free(cases, n_cases);
}
