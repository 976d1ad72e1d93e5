/* bench_datapath - ns per packet of the segd BPF programs, and the cost of
 * seg_dp_apply (run as root).  Usage: bench_datapath [all|packets|apply|tiers]
 *
 * Two states compiled by seg_compile(): 10 rules (1 policy, 10 endpoints)
 * and 10,000 rules (1,000 policies x 10 rules over 1,000 endpoints, with
 * endpoint peers, CIDRs, port ranges, all-peer rules and denies). The same
 * packets run against both; the ratio column is 10k / 10. Every endpoint
 * has an interface of its own (the measured one is lo: test_run needs a
 * real device), as pods have their veths on a node.
 *
 * Per packet: BPF_PROG_TEST_RUN with repeat = 1,000,000 (kernel-reported
 * mean ns per run). The VM is noisy, so each case runs SEGD_BENCH_ROUNDS
 * (default 7) rounds with A and B alternating (A B, then B A, ...) and the
 * median is reported, with the minimum alongside. A tc program creates a CT
 * entry on the first allowed packet, so repeating an allowed new flow would
 * measure the established path from run 2 on. "new flow allowed" is
 * therefore measured on the XDP uplink, which runs the identical parse +
 * ipcache + CT miss + policy chain without creating state. The cost of a CT
 * insert on top is measured separately on tc with 20,000 distinct flows at
 * repeat = 1 each, minus the per-call timer overhead (calibrated as the
 * difference between the established path at repeat 1 and at 1M).
 *
 * tiers: state B against state C = B plus 100 ClusterNetworkPolicies of 25
 * rules (gen_cnps), the same packet cases; the ratio column is C / B.
 *
 * Apply: seg_dp_apply wall clock for the first apply of the 10k-rule state
 * (and the second, which fills the other slot), the same state again, a
 * one-rule change (spaced 100 ms, and straight back right after it), and a
 * switch to the 10-rule state; median of 7, minimum in parentheses. One
 * RCU grace period (membarrier GLOBAL) is printed for scale.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "compiler.h"
#include "datapath.h"
#include "bench_util.h"

#define REPEAT     1000000u
#define ROUNDS     7
#define MAXROUNDS  64
#define CTROUNDS   3
#define NEWFLOWS   20000
#define EP_IF      1u            /* lo: test_run needs a real device */

/* ---- world generation ------------------------------------------------------ */

static int ep_addr(int i, struct in6_addr *a)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "10.201.%d.%d", i / 250, 1 + i % 250);
	return seg_addr_parse(buf, a);
}

static int sel_eq(struct seg_selector *s, const char *k, const char *v)
{
	s->reqs = calloc(1, sizeof(*s->reqs));
	if (!s->reqs)
		return -ENOMEM;
	s->n_reqs = 1;
	s->reqs[0].key = strdup(k);
	s->reqs[0].op = SEG_SEL_IN;
	s->reqs[0].values = calloc(1, sizeof(char *));
	if (!s->reqs[0].key || !s->reqs[0].values)
		return -ENOMEM;
	s->reqs[0].values[0] = strdup(v);
	s->reqs[0].n_values = 1;
	return s->reqs[0].values[0] ? 0 : -ENOMEM;
}

/* rule helpers: one peer, one port (proto 0 = all ports) */
static int mk_rule(struct seg_rule *r, int dir, enum seg_action act,
		   enum seg_peer_kind pk, const char *app, const char *cidr,
		   uint8_t proto, uint16_t lo, uint16_t hi)
{
	r->action = act;
	r->dir = dir;
	r->name = strdup("");
	r->peers = calloc(1, sizeof(*r->peers));
	if (!r->name || !r->peers)
		return -ENOMEM;
	r->n_peers = 1;
	r->peers[0].kind = pk;
	if (pk == SEG_PEER_ENDPOINTS && sel_eq(&r->peers[0].pods, "app", app))
		return -ENOMEM;
	if (pk == SEG_PEER_CIDR && seg_cidr_parse(cidr, &r->peers[0].cidr, NULL))
		return -EINVAL;
	if (!proto) {
		r->all_ports = true;
		return 0;
	}
	r->ports = calloc(1, sizeof(*r->ports));
	if (!r->ports)
		return -ENOMEM;
	r->n_ports = 1;
	r->ports[0] = (struct seg_port){ .proto = proto, .port_lo = lo, .port_hi = hi };
	return 0;
}

static void app_name(char *buf, size_t len, int i, int n)
{
	snprintf(buf, len, "app%d", ((i % n) + n) % n);
}

/* n_eps endpoints app0..; policies for endpoints [first, first+n_pols).
 * change >= 0: policy `change` (absolute index) moves its first rule from
 * tcp 8001 to tcp 8201 - a one-rule change of the same world. */
static int gen_world(struct seg_world *w, int n_eps, int first, int n_pols,
		     int change)
{
	char a[32];
	int err;

	memset(w, 0, sizeof(*w));
	w->namespaces = calloc(1, sizeof(*w->namespaces));
	w->endpoints = calloc((size_t)n_eps, sizeof(*w->endpoints));
	w->policies = calloc((size_t)n_pols, sizeof(*w->policies));
	if (!w->namespaces || !w->endpoints || !w->policies)
		return -ENOMEM;
	w->n_namespaces = 1;
	w->namespaces[0].name = strdup("bench");
	err = seg_labels_set(&w->namespaces[0].labels,
			     "kubernetes.io/metadata.name", "bench");
	if (err)
		return err;
	for (int i = 0; i < n_eps; i++) {
		struct seg_endpoint *e = &w->endpoints[w->n_endpoints++];

		snprintf(a, sizeof(a), "ep%d", i);
		e->name = strdup(a);
		e->ns = strdup("bench");
		app_name(a, sizeof(a), i, n_eps);
		err = seg_labels_set(&e->labels, "app", a);
		if (err || ep_addr(i, &e->ips[0]))
			return err ? err : -EINVAL;
		e->n_ips = 1;
		/* one interface per endpoint, as on a node (a veth per
		 * pod); the measured endpoint `first` is on lo, the only
		 * device test_run can use, the others on ifindexes that are
		 * never run */
		e->ifindex = i == first ? EP_IF : 1000u + (uint32_t)i;
		e->endpoint_id = (uint32_t)i + 1;
		snprintf(e->ifname, sizeof(e->ifname), "veth%d", i);
	}
	for (int j = 0; j < n_pols; j++) {
		struct seg_policy *p = &w->policies[w->n_policies++];
		int s = first + j, k = 0;
		struct seg_rule *r;

		snprintf(a, sizeof(a), "pol%d", s);
		p->kind = SEG_KIND_SEGMENT;
		p->name = strdup(a);
		p->ns = strdup("bench");
		app_name(a, sizeof(a), s, n_eps);
		if (sel_eq(&p->subject, "app", a))
			return -ENOMEM;
		p->enforce[SEGD_DIR_INGRESS] = true;
		p->enforce[SEGD_DIR_EGRESS] = true;
		p->rules = calloc(10, sizeof(*p->rules));
		if (!p->rules)
			return -ENOMEM;
		r = p->rules;
		err = 0;
		/* egress to the next four endpoints, tcp 8000+i */
		for (int i = 1; i <= 4 && !err; i++) {
			app_name(a, sizeof(a), s + i, n_eps);
			uint16_t port = (uint16_t)(8000 + i +
					(s == change && i == 1 ? 200 : 0));

			err = mk_rule(&r[k++], SEGD_DIR_EGRESS, SEG_ACTION_ALLOW,
				      SEG_PEER_ENDPOINTS, a, NULL, IPPROTO_TCP,
				      port, port);
		}
		err = err ? err : mk_rule(&r[k++], SEGD_DIR_EGRESS,
			SEG_ACTION_ALLOW, SEG_PEER_CIDR, NULL, "203.0.113.0/24",
			IPPROTO_TCP, 443, 443);
		err = err ? err : mk_rule(&r[k++], SEGD_DIR_EGRESS,
			SEG_ACTION_DENY, SEG_PEER_CIDR, NULL, "203.0.113.128/25",
			IPPROTO_TCP, 400, 999);
		err = err ? err : mk_rule(&r[k++], SEGD_DIR_EGRESS,
			SEG_ACTION_ALLOW, SEG_PEER_ALL, NULL, NULL,
			IPPROTO_UDP, 53, 53);
		app_name(a, sizeof(a), s - 1, n_eps);
		err = err ? err : mk_rule(&r[k++], SEGD_DIR_INGRESS,
			SEG_ACTION_ALLOW, SEG_PEER_ENDPOINTS, a, NULL,
			IPPROTO_TCP, 8000, 8100);
		err = err ? err : mk_rule(&r[k++], SEGD_DIR_INGRESS,
			SEG_ACTION_ALLOW, SEG_PEER_WORLD, NULL, NULL,
			IPPROTO_ICMP, 0, 0);
		app_name(a, sizeof(a), s + 7, n_eps);
		err = err ? err : mk_rule(&r[k++], SEGD_DIR_INGRESS,
			SEG_ACTION_DENY, SEG_PEER_ENDPOINTS, a, NULL,
			IPPROTO_TCP, 22, 22);
		p->n_rules = (size_t)k;
		if (err)
			return err;
	}
	return 0;
}

/* ClusterNetworkPolicies on top of gen_world's policies (the `tiers`
 * bench): one Admin guardrail for every endpoint (25 egress rules: the
 * metadata service denied, DNS passed to the NetworkPolicy tier, 23
 * single addresses denied on one port each), and n_cnp - 1 policies of
 * 25 rules, Admin and Baseline alternating, each selecting five apps from
 * `first` on (the measured endpoint is in the first): Accept, Deny and
 * Pass on ports 6000-7999 of app and CIDR peers. None changes the
 * verdicts the packet cases expect (they use ports 9, 8001, 8050). */
static int gen_cnps(struct seg_world *w, int n_eps, int first, int n_cnp)
{
	static const enum seg_action acts[] = { SEG_ACTION_ALLOW, SEG_ACTION_DENY,
						SEG_ACTION_PASS };
	struct seg_policy *np = realloc(w->policies, (w->n_policies + (size_t)n_cnp) *
					sizeof(*w->policies));
	char a[48];
	int err = 0;

	if (!np)
		return -ENOMEM;
	w->policies = np;
	for (int k = 0; k < n_cnp && !err; k++) {
		struct seg_policy *p = &w->policies[w->n_policies++];

		memset(p, 0, sizeof(*p));
		snprintf(a, sizeof(a), "cnp%d", k);
		p->kind = SEG_KIND_CNP;
		p->name = strdup(a);
		p->ns = strdup("");
		p->tier = k % 2 ? SEG_TIER_BASELINE : SEG_TIER_ADMIN;
		p->priority = k;
		p->has_subject_ns = true;
		p->rules = calloc(25, sizeof(*p->rules));
		if (!p->name || !p->ns || !p->rules)
			return -ENOMEM;
		if (k) {
			/* app in (five apps) */
			struct seg_sel_req *q = calloc(1, sizeof(*q));

			p->subject.reqs = q;
			p->subject.n_reqs = 1;
			if (!q || !(q->key = strdup("app")) ||
			    !(q->values = calloc(5, sizeof(char *))))
				return -ENOMEM;
			q->op = SEG_SEL_IN;
			for (int j = 0; j < 5; j++) {
				app_name(a, sizeof(a), first + 5 * (k - 1) + j, n_eps);
				if (!(q->values[q->n_values++] = strdup(a)))
					return -ENOMEM;
			}
		}
		for (int r = 0; r < 25 && !err; r++) {
			struct seg_rule *ru = &p->rules[p->n_rules++];
			int dir = k && r % 2 ? SEGD_DIR_INGRESS : SEGD_DIR_EGRESS;
			uint16_t port = (uint16_t)((k ? 7000 : 6000) + r);

			p->enforce[dir] = true;
			if (!k && r == 0) {
				err = mk_rule(ru, dir, SEG_ACTION_DENY, SEG_PEER_CIDR,
					      NULL, "169.254.169.254/32", 0, 0, 0);
			} else if (!k && r == 1) {
				app_name(a, sizeof(a), 0, n_eps);
				err = mk_rule(ru, dir, SEG_ACTION_PASS,
					      SEG_PEER_ENDPOINTS, a, NULL,
					      IPPROTO_UDP, 53, 53);
			} else if (r % 3 == 0) {
				/* the same nine addresses in every policy: each
				 * distinct CIDR is an identity every world peer
				 * (gen_world's ICMP rule) meets */
				snprintf(a, sizeof(a), "198.51.100.%d/32", r);
				err = mk_rule(ru, dir, k ? acts[r % 3] : SEG_ACTION_DENY,
					      SEG_PEER_CIDR, NULL, a, IPPROTO_TCP,
					      port, port);
			} else {
				app_name(a, sizeof(a), first + k + r, n_eps);
				err = mk_rule(ru, dir, k ? acts[r % 3] : SEG_ACTION_DENY,
					      SEG_PEER_ENDPOINTS, a, NULL,
					      r % 2 ? IPPROTO_UDP : IPPROTO_TCP,
					      port, port);
			}
			if (!err && ru->peers[0].kind == SEG_PEER_ENDPOINTS)
				ru->peers[0].has_namespaces = true;   /* every namespace */
		}
	}
	return err;
}

static void free_world(struct seg_world *w)
{
	for (size_t i = 0; i < w->n_endpoints; i++)
		seg_endpoint_free(&w->endpoints[i]);
	for (size_t i = 0; i < w->n_policies; i++)
		seg_policy_free(&w->policies[i]);
	for (size_t i = 0; i < w->n_namespaces; i++)
		seg_namespace_free(&w->namespaces[i]);
	free(w->endpoints);
	free(w->policies);
	free(w->namespaces);
}

/* ---- packets ------------------------------------------------------------- */

static int tcp4(uint8_t *p, const char *src, const char *dst, uint16_t sport,
		uint16_t dport, uint8_t flags)
{
	memset(p, 0, 54);
	p[0] = 2; p[6] = 2; p[11] = 1;
	p[12] = 0x08;
	p[14] = 0x45;
	p[16] = 0; p[17] = 40;
	p[22] = 64;
	p[23] = IPPROTO_TCP;
	if (inet_pton(AF_INET, src, p + 26) != 1 ||
	    inet_pton(AF_INET, dst, p + 30) != 1)
		return -1;
	p[34] = sport >> 8; p[35] = sport & 0xff;
	p[36] = dport >> 8; p[37] = dport & 0xff;
	p[46] = 0x50;
	p[47] = flags;
	return 54;
}

static int run(int fd, int is_tc, const uint8_t *pkt, int len,
	       uint32_t repeat, uint32_t *duration, uint32_t *retval)
{
	struct __sk_buff skb = { .ifindex = EP_IF };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = (uint32_t)len, .repeat = repeat);

	if (is_tc) {
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	if (bpf_prog_test_run_opts(fd, &o))
		return -errno;
	*duration = o.duration;
	*retval = o.retval;
	return 0;
}

/* ---- one state: compiled + loaded ------------------------------------------ */

struct state {
	const char *name;
	int n_eps, first, n_pols, n_cnp;
	struct seg_world w;
	struct seg_compiled c;
	struct seg_datapath *dp;
	int from, to, xdp;
	char me[32], peer[32], prev[32];
	double compile_ms, apply_ms;
};

static int state_open(struct state *s)
{
	struct seg_error e = { 0 };
	struct in6_addr a;
	double t0;
	int err;

	err = gen_world(&s->w, s->n_eps, s->first, s->n_pols, -1);
	if (!err && s->n_cnp)
		err = gen_cnps(&s->w, s->n_eps, s->first, s->n_cnp);
	if (err)
		return err;
	t0 = now_ms();
	err = seg_compile(&s->w, &s->c, &e);
	s->compile_ms = now_ms() - t0;
	if (err) {
		fprintf(stderr, "bench: seg_compile: %s\n", e.msg);
		return err;
	}
	err = seg_dp_open(NULL, &s->dp);
	if (err)
		return err;
	t0 = now_ms();
	err = seg_dp_apply(s->dp, &s->c);
	s->apply_ms = now_ms() - t0;
	if (err)
		return err;
	s->from = seg_dp_prog_fd(s->dp, SEG_PROG_TC_FROM_EP);
	s->to = seg_dp_prog_fd(s->dp, SEG_PROG_TC_TO_EP);
	s->xdp = seg_dp_prog_fd(s->dp, SEG_PROG_XDP_UPLINK);
	ep_addr(s->first, &a);
	inet_ntop(AF_INET, &a.s6_addr[12], s->me, sizeof(s->me));
	ep_addr(s->first + 1, &a);
	inet_ntop(AF_INET, &a.s6_addr[12], s->peer, sizeof(s->peer));
	ep_addr(s->first - 1, &a);
	inet_ntop(AF_INET, &a.s6_addr[12], s->prev, sizeof(s->prev));
	return 0;
}

static void state_close(struct state *s)
{
	seg_dp_close(s->dp);
	seg_compiled_free(&s->c);
	free_world(&s->w);
}

/* ---- per-packet cases ------------------------------------------------------ */

enum { C_EST, C_DENY_EP, C_DENY_WORLD, C_ALLOW_XDP, C_COUNT };

static const char *const case_names[C_COUNT] = {
	"established flow (tc, CT hit)",
	"new flow denied, remote endpoint (tc)",
	"new flow denied, remote world/LPM (tc)",
	"new flow allowed, decision (xdp uplink)",
};

/* the packet of case `c` for state s; returns length, sets prog + verdict */
static int case_pkt(const struct state *s, int c, uint8_t *pkt, int *fd,
		    int *is_tc, uint32_t *want)
{
	*fd = s->from;
	*is_tc = 1;
	*want = 0;
	switch (c) {
	case C_EST:        /* egress to the next endpoint, tcp 8001 (rule) */
		return tcp4(pkt, s->me, s->peer, 40000, 8001, 0x10);
	case C_DENY_EP:    /* remote is an endpoint (exact ipcache hit) */
		*want = 2;
		return tcp4(pkt, s->me, s->peer, 40001, 9, 0x02);
	case C_DENY_WORLD: /* remote is the world (exact miss + LPM) */
		*want = 2;
		return tcp4(pkt, s->me, "192.0.2.77", 40001, 9, 0x02);
	default:           /* uplink towards the endpoint, ingress tcp 8050
			    * from the previous endpoint (port range: block) */
		*fd = s->xdp;
		*is_tc = 0;
		*want = XDP_PASS;
		return tcp4(pkt, s->prev, s->me, 40002, 8050, 0x02);
	}
}

static int one_run(const struct state *s, int c, double *ns)
{
	uint8_t pkt[64];
	uint32_t d, rv, want;
	int fd, is_tc, len = case_pkt(s, c, pkt, &fd, &is_tc, &want);

	if (len < 0 || run(fd, is_tc, pkt, len, REPEAT, &d, &rv))
		return -1;
	if (rv != want) {
		fprintf(stderr, "bench: %s / %s: verdict %u, want %u\n",
			s->name, case_names[c], rv, want);
		return -1;
	}
	*ns = d;
	return 0;
}

/* new flows allowed with CT insert: distinct flows at repeat 1, minus the
 * per-call overhead (established@repeat1 - established@repeatREPEAT) */
static int ct_insert(const struct state *s, double est, double *overhead,
		     double *allow_ct, uint16_t base)
{
	uint8_t pkt[64];
	uint32_t d, rv;
	double sum = 0;
	int len = tcp4(pkt, s->me, s->peer, 40000, 8001, 0x10);

	for (int i = 0; i < NEWFLOWS; i++) {
		if (run(s->from, 1, pkt, len, 1, &d, &rv))
			return -1;
		sum += d;
	}
	*overhead = sum / NEWFLOWS - est;
	sum = 0;
	for (int i = 0; i < NEWFLOWS; i++) {
		tcp4(pkt, s->me, s->peer, (uint16_t)(base + i), 8001, 0x02);
		if (run(s->from, 1, pkt, len, 1, &d, &rv) || rv != 0)
			return -1;
		sum += d;
	}
	*allow_ct = sum / NEWFLOWS - *overhead;
	return 0;
}

/* as ct_insert, incoming (prev -> me, TCP 8050 + mode) through
 * to_endpoint: alone, or after the XDP uplink on the same CPU with its
 * decision cleared from segd_xdp_decided (decided again) or kept */
enum { IN_ALONE, IN_XDP_AGAIN, IN_XDP_TAKEN, IN_MODES };

static int ct_insert_in(const struct state *s, double overhead, int mode,
			uint16_t base, double *ns)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = seg_dp_map_fd(s->dp, SEGD_MAP_XDP_DECIDED);
	struct segd_handoff_flow zero[ncpu > 0 ? ncpu : 1];
	uint16_t dport = (uint16_t)(8050 + mode);
	struct in_addr prev;
	uint8_t pkt[64];
	uint32_t d, rv;
	double sum = 0;

	if (fd < 0 || inet_pton(AF_INET, s->prev, &prev) != 1)
		return -1;
	memset(zero, 0, sizeof(zero));
	for (int i = 0; i < NEWFLOWS; i++) {
		uint16_t sport = (uint16_t)(base + i);
		int len = tcp4(pkt, s->prev, s->me, sport, dport, 0x02);
		uint32_t slot = segd_xdp_decided_slot(dport, sport,
						      htonl(0x0000ffff),
						      prev.s_addr);

		if (mode != IN_ALONE &&
		    (run(s->xdp, 0, pkt, len, 1, &d, &rv) || rv != XDP_PASS))
			return -1;
		if (mode == IN_XDP_AGAIN &&
		    bpf_map_update_elem(fd, &slot, zero, BPF_ANY))
			return -1;
		if (run(s->to, 1, pkt, len, 1, &d, &rv) || rv != 0)
			return -1;
		sum += d;
	}
	*ns = sum / NEWFLOWS - overhead;
	return 0;
}

static void line(const char *what, double a, double b, double amin,
		 double bmin)
{
	printf("  %-42s %7.1f %7.1f %6.2fx   (min %5.1f %5.1f)\n", what, a, b,
	       a > 0 ? b / a : 0, amin, bmin);
}

static int bench_packets(struct state *st, int rounds)
{
	double v[2][C_COUNT][MAXROUNDS], med[2][C_COUNT], mn[2][C_COUNT];
	double est1[2], ovh[2][MAXROUNDS], act[2][MAXROUNDS];
	double in[2][IN_MODES][MAXROUNDS];   /* [state][mode][round] */
	uint8_t pkt[64];
	uint32_t d, rv;

	if (pin_cpu(0))   /* segd_xdp_decided is per CPU */
		return -1;

	/* open the established flow once per state */
	for (int k = 0; k < 2; k++) {
		int len = tcp4(pkt, st[k].me, st[k].peer, 40000, 8001, 0x02);

		if (len < 0 || run(st[k].from, 1, pkt, len, 1, &d, &rv) ||
		    rv != 0) {
			fprintf(stderr, "bench: first packet of %s -> %s not "
				"allowed\n", st[k].me, st[k].peer);
			return -1;
		}
	}
	/* rounds x cases, A and B alternating (ABBA..) so drift and noise
	 * hit both states alike; report medians */
	for (int r = 0; r < rounds; r++)
		for (int c = 0; c < C_COUNT; c++)
			for (int j = 0; j < 2; j++) {
				int k = (r + c) % 2 ? 1 - j : j;

				if (one_run(&st[k], c, &v[k][c][r]))
					return -1;
			}
	for (int k = 0; k < 2; k++)
		for (int c = 0; c < C_COUNT; c++) {
			mn[k][c] = v[k][c][0];
			for (int r = 1; r < rounds; r++)
				if (v[k][c][r] < mn[k][c])
					mn[k][c] = v[k][c][r];
			med[k][c] = median(v[k][c], rounds);
		}
	/* CT insert: fewer, longer rounds (each 2 x NEWFLOWS syscalls) */
	for (int r = 0; r < CTROUNDS; r++)
		for (int j = 0; j < 2; j++) {
			int k = r % 2 ? 1 - j : j;

			/* flows never seen before: a source port range of
			 * its own per round */
			uint16_t base = (uint16_t)(2000 + r * NEWFLOWS);

			if (ct_insert(&st[k], med[k][C_EST], &ovh[k][r],
				      &act[k][r], base)) {
				fprintf(stderr, "bench: CT insert failed\n");
				return -1;
			}
			/* the modes in a rotated order each round */
			for (int m = 0; m < IN_MODES; m++) {
				int mode = (m + r) % IN_MODES;

				if (ct_insert_in(&st[k], ovh[k][r], mode, base,
						 &in[k][mode][r])) {
					fprintf(stderr, "bench: incoming CT "
						"insert failed\n");
					return -1;
				}
			}
		}
	for (int k = 0; k < 2; k++)
		est1[k] = median(ovh[k], CTROUNDS);

	printf("segd datapath: ns per packet, BPF_PROG_TEST_RUN, repeat %u; "
	       "median of %d rounds,\nA and B alternating\n", REPEAT, rounds);
	for (int k = 0; k < 2; k++)
		printf("  state %s: %zu rules (%d ClusterNetworkPolicies), %d "
		       "endpoints, %zu policy entries (compile %.1f ms, apply "
		       "%.1f ms)\n", st[k].name, st[k].c.n_rules, st[k].n_cnp,
		       st[k].n_eps, st[k].c.n_entries, st[k].compile_ms,
		       st[k].apply_ms);
	printf("  %-42s %7s %7s %5s/%s\n", "case", st[0].name, st[1].name,
	       st[1].name, st[0].name);
	for (int c = 0; c < C_COUNT; c++)
		line(case_names[c], med[0][c], med[1][c], mn[0][c], mn[1][c]);
	{
		double a = median(act[0], CTROUNDS), b = median(act[1], CTROUNDS);

		printf("  %-42s %7.1f %7.1f %6.2fx\n",
		       "new flow allowed + CT insert (tc, see below)", a, b,
		       a > 0 ? b / a : 0);
	}
	for (int m = 0; m < IN_MODES; m++) {
		static const char *const what[IN_MODES] = {
			"incoming new flow + CT insert (tc)",
			"  after XDP, decided again",
			"  after XDP, its decision taken",
		};
		double a[MAXROUNDS], b[MAXROUNDS], ma, mb;

		for (int r = 0; r < CTROUNDS; r++) {
			a[r] = in[0][m][r];
			b[r] = in[1][m][r];
		}
		ma = median(a, CTROUNDS);
		mb = median(b, CTROUNDS);
		printf("  %-42s %7.1f %7.1f %6.2fx\n", what[m], ma, mb,
		       ma > 0 ? mb / ma : 0);
	}
	printf("method: the tc program creates CT on the first allowed packet, "
	       "so a repeated\n  allowed packet would measure the established "
	       "path. 'decision (xdp uplink)'\n  runs the same parse + "
	       "ipcache + CT miss + policy chain without creating state\n  "
	       "(repeat %u). '+ CT insert' runs %d distinct new flows through "
	       "tc at repeat 1\n  and subtracts the per-call timer overhead "
	       "(%.1f / %.1f ns, measured as\n  established@repeat1 - "
	       "established@repeat%u); it includes the LRU insert;\n  median "
	       "of %d rounds. 'incoming': to_endpoint on flows from another "
	       "endpoint (see ct_insert_in).\n", REPEAT,
	       NEWFLOWS, est1[0], est1[1], REPEAT, CTROUNDS);
	return 0;
}

/* ---- apply (kernel step) ----------------------------------------------------- */

static int compile_world(int n_eps, int first, int n_pols, int change,
			 struct seg_compiled *c)
{
	struct seg_error e = { 0 };
	struct seg_world w;
	int err = gen_world(&w, n_eps, first, n_pols, change);

	if (!err)
		err = seg_compile(&w, c, &e);
	if (err)
		fprintf(stderr, "bench: compile: %s\n", e.msg);
	free_world(&w);
	return err;
}

static int timed_apply(struct seg_datapath *dp, const struct seg_compiled *c,
		       double *ms)
{
	double t0 = now_ms();
	int err = seg_dp_apply(dp, c);

	*ms = now_ms() - t0;
	if (err)
		fprintf(stderr, "bench: seg_dp_apply: %s\n", strerror(-err));
	return err;
}

#define APPLY_RUNS 7
#define SETTLE_US  100000   /* between spaced applies: > 1 grace period */

static int bench_apply(void)
{
	struct seg_compiled small = { 0 }, big = { 0 }, big1 = { 0 };
	double first[APPLY_RUNS], same[APPLY_RUNS], one[APPLY_RUNS];
	double b2b[APPLY_RUNS], tiny[APPLY_RUNS], gp_mb[APPLY_RUNS];
	double second[APPLY_RUNS];
	struct seg_datapath *dp = NULL;
	int err;

	err = compile_world(1000, 500, 1000, -1, &big);
	err = err ? err : compile_world(1000, 500, 1000, 700, &big1);
	err = err ? err : compile_world(1000, 500, 1, -1, &small);
	if (err)
		goto out;
	for (int r = 0; r < APPLY_RUNS; r++) {
		/* first apply of 10k rules into a fresh datapath */
		err = seg_dp_open(NULL, &dp);
		err = err ? err : timed_apply(dp, &big, &first[r]);
		usleep(SETTLE_US);
		/* the other slot is still unknown: built fresh as well */
		err = err ? err : timed_apply(dp, &big, &second[r]);
		usleep(SETTLE_US);
		/* steady state: the same state again */
		err = err ? err : timed_apply(dp, &big, &same[r]);
		usleep(SETTLE_US);
		/* one-rule change, spaced (the usual case: a human or a
		 * controller, far more than a grace period apart) */
		err = err ? err : timed_apply(dp, &big1, &one[r]);
		/* and straight back, without a pause: this one may wait for
		 * the rest of the previous flip's grace period */
		err = err ? err : timed_apply(dp, &big, &b2b[r]);
		usleep(SETTLE_US);
		/* a 10-rule state after the 10k one (everything changes) */
		err = err ? err : timed_apply(dp, &small, &tiny[r]);
		seg_dp_close(dp);
		dp = NULL;
		if (err)
			goto out;
		{
			double t0 = now_ms();

			if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
				gp_mb[r] = -1;
			else
				gp_mb[r] = now_ms() - t0;
		}
	}
	printf("\nseg_dp_apply (kernel step): ms, median of %d (min)\n",
	       APPLY_RUNS);
	printf("  10k-rule state: %zu policy entries, %zu exact, %zu prefixes\n",
	       big.n_entries, big.n_exact, big.n_prefixes);
#define ROW(what, v) do { double m_ = median(v, APPLY_RUNS); \
	printf("  %-52s %8.2f (%.2f)\n", what, m_, v[0]); } while (0)
	ROW("first apply of 10k rules (fresh maps)", first);
	ROW("second apply (other slot unknown: fresh maps)", second);
	ROW("no change (same 10k-rule state again)", same);
	ROW("one-rule change of the 10k-rule state", one);
	ROW("one-rule change back, right after the previous", b2b);
	ROW("10k rules -> 10 rules (everything changes)", tiny);
	ROW("for scale: one RCU grace period (membarrier GLOBAL)", gp_mb);
#undef ROW
out:
	seg_dp_close(dp);
	seg_compiled_free(&small);
	seg_compiled_free(&big);
	seg_compiled_free(&big1);
	return err;
}

int main(int argc, char **argv)
{
	struct state st[2] = {
		{ .name = "A", .n_eps = 10, .first = 5, .n_pols = 1 },
		{ .name = "B", .n_eps = 1000, .first = 500, .n_pols = 1000 },
	};
	/* `tiers`: B against B plus 100 ClusterNetworkPolicies x 25 rules */
	struct state tiers[2] = {
		{ .name = "B", .n_eps = 1000, .first = 500, .n_pols = 1000 },
		{ .name = "C", .n_eps = 1000, .first = 500, .n_pols = 1000,
		  .n_cnp = 100 },
	};
	const char *what = argc > 1 ? argv[1] : "all";
	const char *env = getenv("SEGD_BENCH_ROUNDS");
	int rounds = env ? atoi(env) : ROUNDS, err = 0;

	if (rounds < 1 || rounds > MAXROUNDS)
		rounds = ROUNDS;
	if (strcmp(what, "all") && strcmp(what, "packets") &&
	    strcmp(what, "apply") && strcmp(what, "tiers")) {
		fprintf(stderr, "usage: %s [all|packets|apply|tiers]\n", argv[0]);
		return 2;
	}
	if (!strcmp(what, "tiers")) {
		err = state_open(&tiers[0]);
		err = err ? err : state_open(&tiers[1]);
		err = err ? err : bench_packets(tiers, rounds);
		state_close(&tiers[0]);
		state_close(&tiers[1]);
		return err ? 1 : 0;
	}
	if (strcmp(what, "apply")) {
		err = state_open(&st[0]);
		err = err ? err : state_open(&st[1]);
		err = err ? err : bench_packets(st, rounds);
		state_close(&st[0]);
		state_close(&st[1]);
	}
	if (!err && strcmp(what, "packets")) {
		err = bench_apply();
	}
	return err ? 1 : 0;
}
