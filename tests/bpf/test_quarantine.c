/* test_quarantine.c - quarantine in the BPF programs on crafted packets
 * (run as root): a quarantined endpoint loses its traffic both ways and at
 * both hooks, established flows included, whatever policy and blocklist
 * exceptions say; its forensic peers pass; with the config flag off the map
 * is not asked. The map content comes from the pure quarantine module and
 * is written by seg_dp_quarantine_write, as segd does it.
 *
 * Rows run in order (conntrack carries over); each names the verdict and
 * the one reason counter that must move (NOR: none).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "blocklist.h"
#include "detect_harness.h"
#include "quarantine.h"

/* the test world of dp_harness.h (variant 0): A enforced both ways, policy
 * allows A -> R tcp/80, R -> A tcp/22, A6 -> R6 tcp/443, udp/53 out; B not
 * enforced. S4 is the forensic peer: policy does not let it reach A. */
#define FOR S4
#define QRN SEGD_REASON_QUARANTINED
#define DDN SEGD_REASON_DEFAULT_DENIED

TestSuite(quarantine, .init = dp_suite_init, .fini = dp_suite_fini);

/* R4 on a drop list and on the exception list: the exception wins for
 * blocklists, but must not for a quarantine */
static void listed_and_excepted(void)
{
	struct seg_bl_compiled l = { 0 };

	l.exact = calloc(1, sizeof(*l.exact));
	l.except = calloc(1, sizeof(*l.except));
	cr_assert(l.exact && l.except);
	cr_assert_eq(st_addr(R4, &l.exact[0].addr), 0);
	l.exact[0].value.list_id = 1;
	l.exact[0].value.action = SEGD_BL_DROP;
	l.exact[0].value.category = SEGD_BL_C2;
	l.n_exact = 1;
	l.except[0].prefixlen = 96 + 24;
	memcpy(l.except[0].addr, l.exact[0].addr.b, 16);
	l.except[0].addr[15] = 0;
	l.n_except = 1;
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &l), 0);
	free(l.exact);
	free(l.except);
}

/* the quarantine of endpoint A (both addresses), forensic peer FOR tcp/22 */
static void quarantine_a(struct seg_quar_entry **e, size_t *n)
{
	struct seg_quarantines qs = { 0 };
	struct seg_quarantine q = { .kind = SEG_QUAR_ENDPOINT };
	struct seg_endpoint ep = { .name = "a", .ns = "default", .n_ips = 2 };
	struct seg_world w = { .endpoints = &ep, .n_endpoints = 1 };
	char why[128];
	bool replaced, trunc;
	uint32_t id;

	cr_assert_eq(seg_addr_parse(A4, &ep.ips[0]), 0);
	cr_assert_eq(seg_addr_parse(A6, &ep.ips[1]), 0);
	q.ns = strdup("default");
	q.name = strdup("a");
	cr_assert_eq(seg_quar_allow_parse(FOR ":22/tcp", &q.allow[0], why, sizeof(why)), 0, "%s", why);
	q.n_allow = 1;
	cr_assert_eq(seg_quarantines_put(&qs, &q, &id, &replaced), 0);
	cr_assert_eq(seg_quar_entries(&qs, &w, e, n, &trunc), 0);
	cr_assert_eq(*n, 2);
	seg_quarantines_free(&qs);
}

#define PKT(s_, d_, pr, sp, dp_, fl) { .src = s_, .dst = d_, .proto = pr, \
	.sport = sp, .dport = dp_, .tcp_flags = fl }

Test(quarantine, cuts_everything_but_the_forensic_peer)
{
	static const struct row open[] = {
	{ "open A -> R:80 (policy allows)", FROM, PKT(A4, R4, TCP, 40000, 80, SYN), TC_ACT_OK, FWD },
	{ "reply", TO, PKT(R4, A4, TCP, 80, 40000, SYN | ACK), TC_ACT_OK, FWD },
	{ "open R -> A:22 (policy allows)", TO, PKT(R4, A4, TCP, 5555, 22, SYN), TC_ACT_OK, FWD },
	{ "open A6 -> R6:443", FROM, PKT(A6, R6, TCP, 40001, 443, SYN), TC_ACT_OK, FWD },
	{ "forensic peer before: policy denies it", TO, PKT(FOR, A4, TCP, 6000, 22, SYN),
	  TC_ACT_SHOT, DDN },
	};
	static const struct row quarantined[] = {
	{ "established egress (live CT, exception list)", FROM,
	  PKT(A4, R4, TCP, 40000, 80, ACK), TC_ACT_SHOT, QRN },
	{ "established ingress reply", TO, PKT(R4, A4, TCP, 80, 40000, ACK), TC_ACT_SHOT, QRN },
	{ "established ingress reply at the uplink", XDP, PKT(R4, A4, TCP, 80, 40000, ACK),
	  XDP_DROP, QRN },
	{ "established flow the remote opened", TO, PKT(R4, A4, TCP, 5555, 22, ACK),
	  TC_ACT_SHOT, QRN },
	{ "established v6", FROM, PKT(A6, R6, TCP, 40001, 443, ACK), TC_ACT_SHOT, QRN },
	{ "new egress policy allows", FROM, PKT(A4, R4, TCP, 40002, 443, SYN), TC_ACT_SHOT, QRN },
	{ "new ingress policy allows", TO, PKT(R4, A4, TCP, 5556, 22, SYN), TC_ACT_SHOT, QRN },
	{ "new ingress at the uplink", XDP, PKT(R4, A4, TCP, 5557, 22, SYN), XDP_DROP, QRN },
	{ "udp out", FROM, PKT(A4, R4, UDP, 5353, 53, 0), TC_ACT_SHOT, QRN },
	{ "forensic peer in (tc)", TO, PKT(FOR, A4, TCP, 6000, 22, SYN), TC_ACT_OK, FWD },
	{ "forensic peer in (xdp)", XDP, PKT(FOR, A4, TCP, 6000, 22, SYN), XDP_PASS, NOR },
	{ "forensic reply out", FROM, PKT(A4, FOR, TCP, 22, 6000, SYN | ACK), TC_ACT_OK, FWD },
	{ "workload opens to the peer's port 22", FROM, PKT(A4, FOR, TCP, 41000, 22, SYN),
	  TC_ACT_OK, FWD },
	{ "forensic peer, other port", TO, PKT(FOR, A4, TCP, 6000, 23, SYN), TC_ACT_SHOT, QRN },
	{ "forensic peer, udp/22", TO, PKT(FOR, A4, UDP, 6000, 22, 0), TC_ACT_SHOT, QRN },
	{ "forensic net's neighbour", TO, PKT("198.51.100.8", A4, TCP, 6000, 22, SYN),
	  TC_ACT_SHOT, QRN },
	{ "other endpoint unaffected", FROM, PKT(B4, "203.0.113.9", TCP, 40000, 80, SYN),
	  TC_ACT_OK, FWD },
	};
	static const struct row flag_off[] = {
	{ "flag off: established egress passes", FROM, PKT(A4, R4, TCP, 40000, 80, ACK),
	  TC_ACT_OK, FWD },
	{ "flag off: new ingress policy allows", TO, PKT(R4, A4, TCP, 5558, 22, SYN),
	  TC_ACT_OK, FWD },
	};
	struct seg_quar_entry *e = NULL;
	struct segd_config cfg;
	uint32_t zero = 0;
	size_t n;
	int cfg_fd = seg_dp_map_fd(dp, SEGD_MAP_CONFIG);

	apply_world(0);
	listed_and_excepted();
	apply_world(0);
	RUN("before", open);
	quarantine_a(&e, &n);
	cr_assert_eq(seg_dp_quarantine_write(dp, NULL, 0, false, e, n), 0);
	cr_expect(dp_cfg_flags() & SEGD_CFG_QUARANTINE, "flag set");
	cr_expect(dp_cfg_flags() & SEGD_CFG_BL_EXCEPT, "blocklist bits kept");
	RUN("quarantined", quarantined);

	/* the entries stay, the flag goes: the map must not be asked */
	cr_assert_eq(bpf_map_lookup_elem(cfg_fd, &zero, &cfg), 0);
	cfg.flags &= ~SEGD_CFG_QUARANTINE;
	cr_assert_eq(bpf_map_update_elem(cfg_fd, &zero, &cfg, BPF_ANY), 0);
	RUN("flag off", flag_off);

	/* release: an empty write removes the entries and clears the flag */
	cr_assert_eq(seg_dp_quarantine_write(dp, NULL, 0, false, e, n), 0);
	cr_assert_eq(seg_dp_quarantine_write(dp, e, n, true, NULL, 0), 0);
	cr_expect_eq(dp_cfg_flags() & SEGD_CFG_QUARANTINE, 0, "flag cleared");
	{
		struct segd_quar_value v;

		cr_expect_eq(seg_dp_quarantine_lookup(dp, &e[0].addr, &v), -ENOENT);
	}
	free(e);
}

Test(quarantine, rewrite_from_unknown_deletes_stale_keys)
{
	struct seg_quar_entry *e = NULL, one;
	struct segd_quar_value v;
	size_t n;

	apply_world(0);
	quarantine_a(&e, &n);
	cr_assert_eq(seg_dp_quarantine_write(dp, NULL, 0, false, e, n), 0);
	/* a restarted segd knows nothing: it must read the map back */
	one = e[1];
	cr_assert_eq(seg_dp_quarantine_write(dp, NULL, 0, false, &one, 1), 0);
	cr_expect_eq(seg_dp_quarantine_lookup(dp, &e[0].addr, &v), -ENOENT);
	cr_expect_eq(seg_dp_quarantine_lookup(dp, &e[1].addr, &v), 0);
	cr_expect_eq(v.n_allow, 1);
	cr_assert_eq(seg_dp_quarantine_write(dp, NULL, 0, false, NULL, 0), 0);
	cr_expect_eq(seg_dp_quarantine_lookup(dp, &e[1].addr, &v), -ENOENT);
	cr_expect_eq(dp_cfg_flags() & SEGD_CFG_QUARANTINE, 0);
	free(e);
}

/* A quarantined endpoint that keeps probing is still counted (its dropped
 * packets are new flows to detection): a scan that goes on after a
 * containment, whatever raised it, is reported as a scan. */
Test(quarantine, contained_scanner_still_counted)
{
	struct seg_quar_entry *e = NULL;
	struct segd_detect_state st;
	struct det_alerts al;
	size_t n;

	det_world(0);
	det_config(LONG_EPOCH, 4, 0, 0, SEGD_DCF_ON);
	quarantine_a(&e, &n);
	cr_assert_eq(seg_dp_quarantine_write(dp, NULL, 0, false, e, n), 0);
	det_alerts_open(&al);
	for (int i = 0; i < 12; i++) {
		struct pkt_spec p = PKT(A4, R4, TCP, 40000, (uint16_t)(1000 + i), SYN);
		char name[32];

		snprintf(name, sizeof(name), "SYN to port %d", 1000 + i);
		det_send("contained scanner", name, FROM, &p, TC_ACT_SHOT, QRN);
	}
	det_alerts_take(&al);
	cr_assert_eq(det_state(EP_A, &st), 0, "the quarantined endpoint has state");
	cr_expect_eq(st.flows[0], 12, "12 probes counted, not %u", st.flows[0]);
	cr_expect_eq(st.denied[0], 12, "all of them dropped");
	cr_expect_eq(st.union_bits[SEGD_SK_DENIED], 0,
		     "a quarantine's drop is no policy refusal: not lateral");
	cr_assert_geq(al.n, 1, "a scan alert");
	cr_expect_eq(al.got[0].kind, SEGD_ALERT_SCAN);
	cr_expect_eq(al.got[0].sketch, SEGD_SK_PORTS);
	det_alerts_close(&al);
	cr_assert_eq(seg_dp_quarantine_write(dp, e, n, true, NULL, 0), 0);
	free(e);
}
