/* test_detect.c - detection in the BPF programs on crafted packets (run as
 * root): scans and lateral attempts counted from an endpoint's new flows
 * raise exactly one alert when a count reaches its limit, with the
 * evidence; established packets, ingress and a detection that is off
 * count nothing. Blocklists, Stratum and epochs: test_detect_lists.c.
 *
 * The world is dp_harness.h's (A enforced: tcp/80 and udp/5000 to R,
 * anything to S, tcp/443 to R6, udp/53 anywhere; C a workload A may not
 * reach) plus workloads on other nodes (detect_harness.h). Limits are in
 * bits, written to segd_detect_cfg directly; a limit of 0 never fires.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "detect_harness.h"

/* steps leave list_id out: it is 0 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define ON_ALL (SEGD_DCF_ON | SEGD_DCF_MINER | SEGD_DCF_C2)
#define RVK    SEGD_REASON_CT_REVOKED

TestSuite(detect, .init = dp_suite_init, .fini = dp_suite_fini);

/* ---- scans and lateral attempts: one alert at the limit ------------------ */

enum { VARY_PORT, VARY_HOST };

struct scan_case {
	char name[64];
	char src[48];
	char dst[48];        /* the host, or the address before the first one */
	uint8_t proto, tcp_flags, icmp_type;
	int vary;            /* VARY_PORT: port, port + 1, ...; VARY_HOST */
	uint16_t port;
	int verdict, reason; /* of every probe */
	int to_workload;     /* the hosts are workloads */
	int sketch;          /* the one sketch with a limit */
	uint16_t limit;      /* bits */
	int kind;            /* the alert it raises; 0: none may come */
	int n;               /* distinct targets probed */
};

static struct scan_case scan_cases[] = {
	{ "vertical TCP SYN scan, allowed", A4, S4, TCP, SYN, 0, VARY_PORT, 1000,
	  TC_ACT_OK, FWD, 0, SEGD_SK_PORTS, 6, SEGD_ALERT_SCAN, 10 },
	{ "vertical half-open SYN scan, denied", A4, R4, TCP, SYN, 0, VARY_PORT,
	  2000, TC_ACT_SHOT, DDN, 0, SEGD_SK_PORTS, 6, SEGD_ALERT_SCAN, 10 },
	{ "vertical UDP probes, allowed", A4, S4, UDP, 0, 0, VARY_PORT, 3000,
	  TC_ACT_OK, FWD, 0, SEGD_SK_PORTS, 6, SEGD_ALERT_SCAN, 10 },
	{ "vertical v6 SYN scan, denied", A6, R6, TCP, SYN, 0, VARY_PORT, 4000,
	  TC_ACT_SHOT, DDN, 0, SEGD_SK_PORTS, 5, SEGD_ALERT_SCAN, 9 },
	{ "vertical scan, limit 1: the first flow", A4, S4, TCP, SYN, 0,
	  VARY_PORT, 1000, TC_ACT_OK, FWD, 0, SEGD_SK_PORTS, 1,
	  SEGD_ALERT_SCAN, 3 },
	{ "horizontal SYN sweep, allowed", A4, "198.51.100.9", TCP, SYN, 0,
	  VARY_HOST, 443, TC_ACT_OK, FWD, 0, SEGD_SK_HOSTS, 6, SEGD_ALERT_SCAN,
	  10 },
	{ "horizontal v6 SYN sweep, allowed", A6, "2001:db8::1:0", TCP, SYN, 0,
	  VARY_HOST, 443, TC_ACT_OK, FWD, 0, SEGD_SK_HOSTS, 6, SEGD_ALERT_SCAN,
	  10 },
	{ "ICMP echo sweep, allowed", A4, "203.0.113.99", ICMP, 0, 8, VARY_HOST,
	  0, TC_ACT_OK, FWD, 0, SEGD_SK_HOSTS, 6, SEGD_ALERT_SCAN, 10 },
	{ "horizontal UDP probes, denied", A4, "203.0.113.149", UDP, 0, 0,
	  VARY_HOST, 161, TC_ACT_SHOT, DDN, 0, SEGD_SK_HOSTS, 6,
	  SEGD_ALERT_SCAN, 10 },
	{ "lateral: one workload's ports", A4, C4, TCP, SYN, 0, VARY_PORT, 5000,
	  TC_ACT_SHOT, DDN, 1, SEGD_SK_DENIED, 5, SEGD_ALERT_LATERAL, 8 },
	{ "lateral: workloads on one port", A4, WL_BASE, TCP, SYN, 0, VARY_HOST,
	  22, TC_ACT_SHOT, DDN, 1, SEGD_SK_DENIED, 5, SEGD_ALERT_LATERAL, 8 },
	{ "lateral: UDP to workloads", A4, WL_BASE, UDP, 0, 0, VARY_HOST, 161,
	  TC_ACT_SHOT, DDN, 1, SEGD_SK_DENIED, 5, SEGD_ALERT_LATERAL, 8 },
	{ "denied outside hosts are not lateral", A4, "203.0.113.149", TCP, SYN,
	  0, VARY_HOST, 22, TC_ACT_SHOT, DDN, 0, SEGD_SK_DENIED, 3, 0, 10 },
	{ "allowed workload flows are not lateral", A4, WL_BASE, UDP, 0, 0,
	  VARY_HOST, 53, TC_ACT_OK, FWD, 1, SEGD_SK_DENIED, 3, 0, 10 },
};

ParameterizedTestParameters(detect, scans)
{
	return cr_make_param_array(struct scan_case, scan_cases,
				   sizeof(scan_cases) / sizeof(scan_cases[0]));
}

/* probe i of c */
static void probe(const struct scan_case *c, int i, char *dst, size_t len,
		  struct pkt_spec *ps)
{
	if (c->vary == VARY_HOST)
		det_addr_plus(c->dst, i + 1, dst, len);
	else
		snprintf(dst, len, "%s", c->dst);
	memset(ps, 0, sizeof(*ps));
	ps->src = c->src;
	ps->dst = dst;
	ps->proto = c->proto;
	ps->sport = 40000;
	ps->dport = (uint16_t)(c->vary == VARY_PORT ? c->port + i : c->port);
	ps->tcp_flags = c->tcp_flags;
	ps->icmp_type = c->icmp_type;
	ps->icmp_id = 77;
}

ParameterizedTest(struct scan_case *c, detect, scans)
{
	uint16_t lim[SEGD_SK_MAX] = { 0 };
	struct det_alerts al;
	struct det_model m = { 0 };
	struct segd_detect_state st;
	int denied = c->verdict != TC_ACT_OK, crossed = 0;

	lim[c->sketch] = c->limit;
	det_world(0);
	det_config(LONG_EPOCH, lim[0], lim[1], lim[2], ON_ALL);
	det_alerts_open(&al);
	for (int i = 0; i < c->n; i++) {
		char dst[64], where[224];
		struct pkt_spec ps;
		size_t got;

		probe(c, i, dst, sizeof(dst), &ps);
		snprintf(where, sizeof(where), "%s: probe %d (%s:%u)", c->name,
			 i + 1, dst, ps.dport);
		det_send(c->name, where, FROM, &ps, c->verdict, c->reason);
		model_flow(&m, &ps, denied, c->to_workload);
		got = det_alerts_take(&al);
		if (c->kind && !crossed && m.count[c->sketch] >= c->limit) {
			crossed = 1;
			/* the limit-th distinct target crosses it */
			cr_assert_eq(m.flows, c->limit, "[%s] the inputs collide "
				     "in the sketch: choose others", where);
			cr_expect_eq(got, 1, "[%s] %zu alerts at the limit, "
				     "want 1", where, got);
			if (got)
				det_expect_alert(&al.got[al.n - got], &m, &ps,
						 denied, c->kind, c->sketch, 0,
						 where);
		} else {
			cr_expect_eq(got, 0, "[%s] %zu alerts, want none (%s)",
				     where, got, crossed ? "already raised" :
				     "below the limit");
		}
	}
	cr_expect_eq(crossed, c->kind != 0, "[%s] the limit was never reached",
		     c->name);
	cr_assert_eq(det_state(EP_A, &st), 0);
	det_expect_state(&st, &m, c->name);
	cr_expect_eq(st.fired, c->kind ? 1u << c->kind : 0, "[%s] fired %#x",
		     c->name, st.fired);
	det_alerts_close(&al);
}

/* ---- two kinds ------------------------------------------------------------ */

#define SYN_TO(s_, d_, sp, dp_) { .src = s_, .dst = d_, \
	.proto = TCP, .sport = sp, .dport = dp_, .tcp_flags = SYN }

/* A kind that fired does not hide another: once the scan alert is out,
 * denied attempts on yet more new ports (each one crossing the port limit
 * again) still raise the lateral alert at its own limit. */
Test(detect, lateral_after_a_scan)
{
	static const struct step steps[] = {
	{ "port 1000", SYN_TO(A4, S4, 40000, 1000), TC_ACT_OK, FWD, 0, 0, 0 },
	{ "port 1001", SYN_TO(A4, S4, 40000, 1001), TC_ACT_OK, FWD, 0, 0, 0 },
	{ "port 1002", SYN_TO(A4, S4, 40000, 1002), TC_ACT_OK, FWD, 0, 0, 0 },
	{ "port 1003: scan", SYN_TO(A4, S4, 40000, 1003), TC_ACT_OK, FWD, 0,
	  SEGD_ALERT_SCAN, SEGD_SK_PORTS },
	{ "C:6000 denied", SYN_TO(A4, C4, 40000, 6000), TC_ACT_SHOT, DDN, 1, 0, 0 },
	{ "C:6001 denied", SYN_TO(A4, C4, 40000, 6001), TC_ACT_SHOT, DDN, 1, 0, 0 },
	{ "C:6002 denied: lateral", SYN_TO(A4, C4, 40000, 6002), TC_ACT_SHOT,
	  DDN, 1, SEGD_ALERT_LATERAL, SEGD_SK_DENIED },
	{ "C:6003 denied", SYN_TO(A4, C4, 40000, 6003), TC_ACT_SHOT, DDN, 1, 0, 0 },
	};
	struct det_alerts al;
	struct det_model m = { 0 };

	det_world(0);
	det_config(LONG_EPOCH, 4, 0, 3, ON_ALL);
	det_alerts_open(&al);
	det_run_steps("lateral after scan", steps,
		      sizeof(steps) / sizeof(steps[0]), &al, &m);
	det_alerts_close(&al);
}

/* Two counts reaching their limits with one packet: one alert (the ports
 * sketch's, the earlier), the other with the endpoint's next new target. */
Test(detect, two_limits_on_one_packet)
{
	static const struct step steps[] = {
	{ "C:6000 denied", SYN_TO(A4, C4, 40000, 6000), TC_ACT_SHOT, DDN, 1, 0, 0 },
	{ "C:6001 denied", SYN_TO(A4, C4, 40000, 6001), TC_ACT_SHOT, DDN, 1, 0, 0 },
	{ "C:6002 denied: both, scan first", SYN_TO(A4, C4, 40000, 6002),
	  TC_ACT_SHOT, DDN, 1, SEGD_ALERT_SCAN, SEGD_SK_PORTS },
	{ "C:6003 denied: lateral", SYN_TO(A4, C4, 40000, 6003), TC_ACT_SHOT,
	  DDN, 1, SEGD_ALERT_LATERAL, SEGD_SK_DENIED },
	{ "C:6004 denied", SYN_TO(A4, C4, 40000, 6004), TC_ACT_SHOT, DDN, 1, 0, 0 },
	};
	struct det_alerts al;
	struct det_model m = { 0 };

	det_world(0);
	det_config(LONG_EPOCH, 3, 0, 3, ON_ALL);
	det_alerts_open(&al);
	det_run_steps("two limits", steps, sizeof(steps) / sizeof(steps[0]),
		      &al, &m);
	det_alerts_close(&al);
}

/* ---- what is never counted ------------------------------------------------ */

#define PKT(s_, d_, pr, sp, dp_, fl) { .src = s_, .dst = d_, \
	.proto = pr, .sport = sp, .dport = dp_, .tcp_flags = fl }

struct pkt_row {
	const char *name;
	enum seg_prog prog;
	struct pkt_spec pkt;
	int verdict, reason;
};

static void send_rows(const char *scenario, const struct pkt_row *r, size_t n,
		      const struct segd_detect_state *before)
{
	struct segd_detect_state st;

	for (size_t i = 0; i < n; i++) {
		det_send(scenario, r[i].name, r[i].prog, &r[i].pkt,
			 r[i].verdict, r[i].reason);
		if (!before)
			continue;
		cr_assert_eq(det_state(EP_A, &st), 0);
		cr_expect_eq(memcmp(&st, before, sizeof(st)), 0,
			     "[%s] %s: the endpoint's detection state changed "
			     "(flows %u -> %u)", scenario, r[i].name,
			     before->flows[0], st.flows[0]);
	}
}

/* After the first packet of a flow, nothing on the established path
 * touches the endpoint's state: not its packets either way, not a
 * re-decision after a policy change, not a revocation. */
Test(detect, established_path_untouched)
{
	static const struct pkt_row open[] = {
	{ "open A -> S:80", FROM, PKT(A4, S4, TCP, 40000, 80, SYN), TC_ACT_OK, FWD },
	{ "open A -> R:80", FROM, PKT(A4, R4, TCP, 41000, 80, SYN), TC_ACT_OK, FWD },
	{ "open A -> R:53/udp", FROM, PKT(A4, R4, UDP, 5353, 53, 0), TC_ACT_OK, FWD },
	};
	static const struct pkt_row established[] = {
	{ "S: syn-ack in", TO, PKT(S4, A4, TCP, 80, 40000, SYNACK), TC_ACT_OK, FWD },
	{ "S: ack out", FROM, PKT(A4, S4, TCP, 40000, 80, ACK), TC_ACT_OK, FWD },
	{ "S: data out", FROM, { .src = A4, .dst = S4, .proto = TCP,
	  .sport = 40000, .dport = 80, .tcp_flags = PSHACK, .payload = 200 },
	  TC_ACT_OK, FWD },
	{ "S: data in", TO, { .src = S4, .dst = A4, .proto = TCP, .sport = 80,
	  .dport = 40000, .tcp_flags = PSHACK, .payload = 1400 }, TC_ACT_OK, FWD },
	{ "R: ack out", FROM, PKT(A4, R4, TCP, 41000, 80, ACK), TC_ACT_OK, FWD },
	{ "udp again", FROM, PKT(A4, R4, UDP, 5353, 53, 0), TC_ACT_OK, FWD },
	{ "udp reply", TO, PKT(R4, A4, UDP, 53, 5353, 0), TC_ACT_OK, FWD },
	};
	static const struct pkt_row redecided[] = {
	{ "S: re-decided, allowed", FROM, PKT(A4, S4, TCP, 40000, 80, ACK),
	  TC_ACT_OK, FWD },
	{ "S: fin out", FROM, PKT(A4, S4, TCP, 40000, 80, 0x11), TC_ACT_OK, FWD },
	};
	static const struct pkt_row revoked[] = {
	{ "R:80 revoked (rule 1 gone)", FROM, PKT(A4, R4, TCP, 41000, 80, ACK),
	  TC_ACT_SHOT, RVK },
	{ "R:80 revoked, again", FROM, PKT(A4, R4, TCP, 41000, 80, ACK),
	  TC_ACT_SHOT, RVK },
	};
	struct segd_detect_state before, st;
	struct det_alerts al;

	det_world(0);
	det_config(LONG_EPOCH, 200, 200, 200, ON_ALL);
	det_alerts_open(&al);
	send_rows("open", open, sizeof(open) / sizeof(open[0]), NULL);
	cr_assert_eq(det_state(EP_A, &before), 0);
	cr_expect_eq(before.flows[0], 3, "the new flows were not counted");
	send_rows("established", established,
		  sizeof(established) / sizeof(established[0]), &before);
	det_world(0);   /* a new generation: the next packets are re-decided */
	send_rows("re-decided", redecided, sizeof(redecided) / sizeof(redecided[0]),
		  &before);
	det_world(2);
	send_rows("revoked", revoked, sizeof(revoked) / sizeof(revoked[0]),
		  &before);
	/* and counting still works: a new flow */
	det_send("after", "a new flow", FROM, &(struct pkt_spec)PKT(A4, S4, TCP, 40001, 80, SYN),
		 TC_ACT_OK, FWD);
	cr_assert_eq(det_state(EP_A, &st), 0);
	cr_expect_eq(st.flows[0], before.flows[0] + 1);
	cr_expect_eq(det_alerts_take(&al), 0);
	det_alerts_close(&al);
}

/* What an endpoint receives is not what it opens: new flows to it, at its
 * tc hook or the uplink, and its answers to them, count nothing. */
Test(detect, ingress_never_counted)
{
	static const struct pkt_row rows[] = {
	{ "R -> A:22 allowed", TO, PKT(R4, A4, TCP, 5555, 22, SYN), TC_ACT_OK, FWD },
	{ "A's syn-ack out (established)", FROM, PKT(A4, R4, TCP, 22, 5555, SYNACK),
	  TC_ACT_OK, FWD },
	{ "R -> A:23 denied", TO, PKT(R4, A4, TCP, 5555, 23, SYN), TC_ACT_SHOT, DDN },
	{ "R -> A:24 denied", TO, PKT(R4, A4, TCP, 5555, 24, SYN), TC_ACT_SHOT, DDN },
	{ "R -> A:25 denied", TO, PKT(R4, A4, TCP, 5555, 25, SYN), TC_ACT_SHOT, DDN },
	{ "R -> A:161/udp denied", TO, PKT(R4, A4, UDP, 5555, 161, 0), TC_ACT_SHOT, DDN },
	{ "S -> A:80 denied", TO, PKT(S4, A4, TCP, 5555, 80, SYN), TC_ACT_SHOT, DDN },
	{ "R -> A:26 at the uplink", XDP, PKT(R4, A4, TCP, 5555, 26, SYN), XDP_DROP, DDN },
	{ "R -> A:27 at the uplink", XDP, PKT(R4, A4, TCP, 5555, 27, SYN), XDP_DROP, DDN },
	{ "R -> B:80 (not enforced)", TO, PKT(R4, B4, TCP, 5555, 80, SYN), TC_ACT_OK, FWD },
	{ "R -> B:81 (not enforced)", TO, PKT(R4, B4, TCP, 5555, 81, SYN), TC_ACT_OK, FWD },
	{ "v6 R6 -> A6:22", TO, PKT(R6, A6, TCP, 5555, 22, SYN), TC_ACT_SHOT, DDN },
	};
	struct segd_detect_state st;
	struct det_alerts al;

	det_world(0);
	det_config(LONG_EPOCH, 1, 1, 1, ON_ALL);
	det_alerts_open(&al);
	send_rows("ingress", rows, sizeof(rows) / sizeof(rows[0]), NULL);
	cr_expect_eq(det_state(EP_A, &st), -ENOENT, "A has detection state");
	cr_expect_eq(det_state(2, &st), -ENOENT, "B has detection state");
	cr_expect_eq(det_alerts_take(&al), 0, "an alert from ingress");
	/* detection was on: A's first new flow counts and crosses limit 1 */
	det_send("egress", "A -> S:80", FROM, &(struct pkt_spec)PKT(A4, S4, TCP, 40000, 80, SYN),
		 TC_ACT_OK, FWD);
	cr_assert_eq(det_state(EP_A, &st), 0);
	cr_expect_eq(st.flows[0], 1);
	cr_expect_eq(det_alerts_take(&al), 1);
	det_alerts_close(&al);
}

/* ---- detection off --------------------------------------------------------- */

struct off_case {
	char name[64];
	int written;         /* 0: segd_detect_cfg never written */
	uint64_t epoch_ns;
	uint16_t limit, flags;
	int counts;          /* the state counts (but nothing alerts) */
};

static struct off_case off_cases[] = {
	{ "config never written", 0, 0, 0, 0, 0 },
	{ "flags 0", 1, LONG_EPOCH, 2, 0, 0 },
	{ "miner and c2 without on", 1, LONG_EPOCH, 2,
	  SEGD_DCF_MINER | SEGD_DCF_C2, 0 },
	{ "on with epoch 0", 1, 0, 2, ON_ALL, 0 },
	{ "on with every limit 0: counts, never alerts", 1, LONG_EPOCH, 0,
	  ON_ALL, 1 },
};

ParameterizedTestParameters(detect, off)
{
	return cr_make_param_array(struct off_case, off_cases,
				   sizeof(off_cases) / sizeof(off_cases[0]));
}

ParameterizedTest(struct off_case *c, detect, off)
{
	struct segd_detect_state st;
	struct det_alerts al;
	struct det_model m = { 0 };
	char dst[64];

	det_world(0);
	if (c->written)
		det_config(c->epoch_ns, c->limit, c->limit, c->limit, c->flags);
	det_alerts_open(&al);
	for (int i = 0; i < 8; i++) {
		struct pkt_spec ps = PKT(A4, S4, TCP, 40000, (uint16_t)(1000 + i), SYN);
		struct pkt_spec pw;

		det_send(c->name, "A -> S, a new port", FROM, &ps, TC_ACT_OK, FWD);
		model_flow(&m, &ps, 0, 0);
		det_addr_plus(WL_BASE, i + 1, dst, sizeof(dst));
		pw = (struct pkt_spec)PKT(A4, dst, TCP, 40000, 22, SYN);
		det_send(c->name, "A -> a workload, denied", FROM, &pw,
			 TC_ACT_SHOT, DDN);
		model_flow(&m, &pw, 1, 1);
	}
	cr_expect_eq(det_alerts_take(&al), 0, "[%s] alerts", c->name);
	if (c->counts) {
		cr_assert_eq(det_state(EP_A, &st), 0, "[%s] no state", c->name);
		det_expect_state(&st, &m, c->name);
		cr_expect_eq(st.fired, 0);
	} else {
		cr_expect_eq(det_state(EP_A, &st), -ENOENT, "[%s] state kept",
			     c->name);
	}
	det_alerts_close(&al);
}
