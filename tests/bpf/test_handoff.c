/* test_handoff.c - an uplink's handoff of a new flow's decision to the
 * endpoint's hook (bpf/lib/handoff.h).
 * The tc uplink: through the test program tests/bpf/way_in.bpf.c, the
 * uplink's tc ingress and the pod's tc egress on one skb, sharing the
 * maps of the datapath under test. The program can tamper with the
 * handed-on decision between the two, which tells a decision the endpoint
 * took from the handoff from one it took again.
 * The XDP uplink: its program and then the endpoint's, run one after the
 * other on one CPU, the test tampering with segd_xdp_decided in between.
 * Table-driven: (source, ports, tampering) -> verdict, the conntrack
 * entry's rule and remote identity.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include "dp_harness.h"
#include "pktbuild.h"
#include "way_in.skel.h"

#define WAY_IN_GEN   (1u << 16)   /* as in way_in.bpf.c */
#define WAY_IN_KEY   (1u << 17)
#define WAY_IN_REMOTE (1u << 18)
#define MARKER_RULE  0xbeefu      /* no rule of the world has this id */
#define MARKER_REMOTE 0xbeefu     /* nor identity */
#define RULE_TAKEN   0xffffffffu  /* want: the rule the endpoint decides */

/* the test program, its maps replaced by the datapath's */
static struct way_in_bpf *open_way_in(void)
{
	struct way_in_bpf *s = way_in_bpf__open();
	uint32_t zero = 0;
	int next;

	cr_assert_not_null(s, "open way_in: %s", strerror(errno));
	dp_share_maps(s->obj);
	cr_assert_eq(way_in_bpf__load(s), 0, "load way_in");
	next = bpf_program__fd(s->progs.to_endpoint);

	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(s->maps.way_in_next),
					 &zero, &next, BPF_ANY), 0,
		     "way_in_next: %s", strerror(errno));
	return s;
}

/* one packet on its way in; the program's return value */
static uint32_t way_in_run(struct way_in_bpf *s, const struct pkt_spec *ps,
			   uint32_t mark)
{
	static uint8_t pkt[PKT_MAX];
	struct __sk_buff skb = { .ifindex = EP_IF, .ingress_ifindex = EP_IF,
				 .mark = mark };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .ctx_in = &skb,
		    .ctx_size_in = sizeof(skb), .repeat = 1);
	int len = pkt_build(ps, pkt, sizeof(pkt));

	cr_assert_gt(len, 0, "cannot build packet");
	o.data_size_in = (uint32_t)len;
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(s->progs.way_in), &o),
		     0, "test_run: %s", strerror(errno));
	return o.retval;
}

struct hcase {
	const char *name;
	const char *src;
	uint16_t sport, dport;
	uint32_t mark;       /* tampering, as in way_in.bpf.c */
	uint32_t verdict;    /* what way_in returns */
	uint32_t rule;       /* the entry's rule: MARKER_RULE, RULE_TAKEN, or
			      * 0 = no entry */
	uint32_t remote;     /* the entry's remote identity */
};

/* the conntrack entry case c left: its remote identity, and its rule as
 * the case wants it (*taken: the rule the world's policy gives, learnt
 * from the first case that decides it) */
static void expect_entry(const struct hcase *c, uint32_t *taken)
{
	struct segd_ct_value v;

	cr_assert_eq(ct_get(A4, c->src, c->dport, c->sport, TCP, &v), 0,
		     "%s: no conntrack entry", c->name);
	cr_expect_eq(v.remote_id, c->remote, "%s: remote %u, want %u",
		     c->name, v.remote_id, c->remote);
	if (c->rule == MARKER_RULE) {
		cr_expect_eq(v.rule_id, MARKER_RULE,
			     "%s: rule %u, the endpoint decided again",
			     c->name, v.rule_id);
		return;
	}
	/* the rule the world's policy gives, whoever decided it */
	if (!*taken)
		*taken = v.rule_id;
	cr_expect_neq(v.rule_id, MARKER_RULE, "%s: the tampered decision "
		      "was used", c->name);
	cr_expect_eq(v.rule_id, *taken, "%s: rule %u, want %u", c->name,
		     v.rule_id, *taken);
}

Test(datapath, tc_uplink_hands_on_a_new_flow)
{
	static const struct hcase cases[] = {
	/* the first sets the baseline: the rule the world's policy gives */
	{ "allowed, untouched (the baseline)", R4, 5610, 22, 0, TC_ACT_OK,
	  RULE_TAKEN, ID_R },
	{ "allowed, the handed rule is the one used", R4, 5611, 22,
	  MARKER_RULE, TC_ACT_OK, MARKER_RULE, ID_R },
	{ "allowed, the handed identity is the one used", R4, 5612, 22,
	  MARKER_RULE | WAY_IN_REMOTE, TC_ACT_OK, MARKER_RULE,
	  MARKER_REMOTE },
	{ "another generation: decided again", R4, 5613, 22,
	  MARKER_RULE | WAY_IN_GEN, TC_ACT_OK, RULE_TAKEN, ID_R },
	{ "another tuple (rewritten on the way): decided again", R4, 5614,
	  22, MARKER_RULE | WAY_IN_KEY, TC_ACT_OK, RULE_TAKEN, ID_R },
	{ "denied: dropped at the uplink, nothing handed", "192.0.2.1", 5615,
	  22, MARKER_RULE, 0x100 | TC_ACT_SHOT, 0, 0 },
	};
	struct way_in_bpf *s;
	uint32_t taken = 0;

	apply_world(0);
	s = open_way_in();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hcase *c = &cases[i];
		const struct pkt_spec ps = { .src = c->src, .dst = A4,
			.proto = TCP, .sport = c->sport, .dport = c->dport,
			.tcp_flags = SYN };
		struct segd_ct_value v;
		uint32_t rc = way_in_run(s, &ps, c->mark);
		int found = ct_get(A4, c->src, c->dport, c->sport, TCP, &v) == 0;

		cr_expect_eq(rc, c->verdict, "%s: returned %#x, want %#x",
			     c->name, rc, c->verdict);
		if (!c->rule) {
			cr_expect_not(found, "%s: an entry was made", c->name);
			continue;
		}
		expect_entry(c, &taken);
	}
	way_in_bpf__destroy(s);
}

/* the XDP uplink's decision for conntrack key k, wherever segd_xdp_decided
 * holds it, tampered with as way_in.bpf.c does with the tc uplink's */
static void xdp_decided_tamper(const struct segd_ct_key *k, uint32_t mark)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = seg_dp_map_fd(dp, SEGD_MAP_XDP_DECIDED);
	struct segd_handoff_flow f[ncpu > 0 ? ncpu : 1];

	cr_assert_geq(fd, 0, "no %s map", SEGD_MAP_XDP_DECIDED);
	for (uint32_t i = 0; i < SEGD_XDP_DECIDED_SLOTS; i++) {
		int hit = 0;

		cr_assert_eq(bpf_map_lookup_elem(fd, &i, f), 0);
		for (int c = 0; c < ncpu; c++) {
			if (memcmp(&f[c].key, k, sizeof(*k)))
				continue;
			hit = 1;
			if (mark & 0xffff)
				f[c].rule_id = mark & 0xffff;
			if (mark & WAY_IN_GEN)
				f[c].policy_gen ^= 1;
			if (mark & WAY_IN_KEY)
				f[c].key.lport ^= 1;
			if (mark & WAY_IN_REMOTE)
				f[c].remote_id = MARKER_REMOTE;
		}
		if (hit)
			cr_assert_eq(bpf_map_update_elem(fd, &i, f, BPF_ANY), 0);
	}
}

/* The XDP uplink hands a plain allow on through segd_xdp_decided: the
 * endpoint's hook creates the entry with its rule and identity when the
 * tuple and the generation match, and decides again otherwise. */
Test(datapath, xdp_uplink_hands_on_a_new_flow)
{
	static const struct hcase cases[] = {
	{ "allowed, untouched (the baseline)", R4, 5630, 22, 0, TC_ACT_OK,
	  RULE_TAKEN, ID_R },
	{ "allowed, the handed rule is the one used", R4, 5631, 22,
	  MARKER_RULE, TC_ACT_OK, MARKER_RULE, ID_R },
	{ "allowed, the handed identity is the one used", R4, 5632, 22,
	  MARKER_RULE | WAY_IN_REMOTE, TC_ACT_OK, MARKER_RULE,
	  MARKER_REMOTE },
	{ "another generation: decided again", R4, 5633, 22,
	  MARKER_RULE | WAY_IN_GEN, TC_ACT_OK, RULE_TAKEN, ID_R },
	{ "another tuple (rewritten on the way): decided again", R4, 5634,
	  22, MARKER_RULE | WAY_IN_KEY, TC_ACT_OK, RULE_TAKEN, ID_R },
	{ "denied: dropped by XDP, nothing handed", "192.0.2.1", 5635, 22,
	  MARKER_RULE, XDP_DROP, 0, 0 },
	};
	static uint8_t pkt[PKT_MAX];
	uint32_t taken = 0;

	/* the cache is per CPU: both programs run on one */
	dp_pin_cpu0();
	apply_world(0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hcase *c = &cases[i];
		const struct pkt_spec ps = { .src = c->src, .dst = A4,
			.proto = TCP, .sport = c->sport, .dport = c->dport,
			.tcp_flags = SYN };
		struct segd_ct_key k = { .lport = c->dport, .rport = c->sport,
					 .proto = TCP };
		struct segd_ct_value v;
		int len = pkt_build(&ps, pkt, sizeof(pkt));
		uint32_t rc;

		cr_assert_gt(len, 0, "cannot build packet");
		cr_assert_eq(dp_run_prog(XDP, pkt, len, EP_IF, &rc), 0);
		if (rc != XDP_PASS) {
			cr_expect_eq(rc, c->verdict, "%s: XDP returned %u",
				     c->name, rc);
			cr_expect_neq(ct_get(A4, c->src, c->dport, c->sport, TCP,
					     &v), 0, "%s: an entry was made",
				      c->name);
			continue;
		}
		st_addr(A4, &k.local);
		st_addr(c->src, &k.remote);
		xdp_decided_tamper(&k, c->mark);
		cr_assert_eq(dp_run_prog(TO, pkt, len, EP_IF, &rc), 0);
		cr_expect_eq(rc, c->verdict, "%s: returned %u, want %u",
			     c->name, rc, c->verdict);
		expect_entry(c, &taken);
	}
}

/* A flow an audit entry lets through is not handed on: the endpoint
 * decides it, marks its entry and reports the audit, once. */
Test(datapath, tc_uplink_hands_on_no_audit_decision)
{
	struct segd_counter before[SEGD_REASON_MAX], after[SEGD_REASON_MAX];
	const struct pkt_spec plain = { .src = R4, .dst = A4, .proto = TCP,
		.sport = 5620, .dport = 22, .tcp_flags = SYN };
	const struct pkt_spec audited = { .src = R4, .dst = A4, .proto = TCP,
		.sport = 5621, .dport = 23, .tcp_flags = SYN };
	struct segd_ct_value v;
	struct way_in_bpf *s;

	apply_audit_world();
	s = open_way_in();
	cr_expect_eq(way_in_run(s, &plain, MARKER_RULE), TC_ACT_OK);
	cr_assert_eq(ct_get(A4, R4, 22, 5620, TCP, &v), 0, "no entry");
	cr_expect_eq(v.rule_id, MARKER_RULE, "a plain allow was not handed on");
	cr_expect_not(v.flags & SEGD_CTF_AUDIT);

	cr_assert_eq(seg_dp_reason_counters(dp, before), 0);
	cr_expect_eq(way_in_run(s, &audited, MARKER_RULE), TC_ACT_OK);
	cr_assert_eq(seg_dp_reason_counters(dp, after), 0);
	cr_assert_eq(ct_get(A4, R4, 23, 5621, TCP, &v), 0, "no entry");
	cr_expect_eq(v.rule_id, 7, "rule %u: an audit decision was handed on",
		     v.rule_id);
	cr_expect(v.flags & SEGD_CTF_AUDIT, "the entry is not marked audit");
	cr_expect_eq(after[SEGD_REASON_POLICY_AUDIT].packets -
		     before[SEGD_REASON_POLICY_AUDIT].packets, 1,
		     "audit counted %llu times",
		     (unsigned long long)(after[SEGD_REASON_POLICY_AUDIT].packets -
					  before[SEGD_REASON_POLICY_AUDIT].packets));
	way_in_bpf__destroy(s);
}

/* Nor does the XDP uplink hand on an audit entry's flow: the endpoint
 * decides it and marks its entry. */
Test(datapath, xdp_uplink_hands_on_no_audit_decision)
{
	const struct pkt_spec audited = { .src = R4, .dst = A4, .proto = TCP,
		.sport = 5641, .dport = 23, .tcp_flags = SYN };
	struct segd_ct_key k = { .lport = 23, .rport = 5641, .proto = TCP };
	static uint8_t pkt[PKT_MAX];
	int len = pkt_build(&audited, pkt, sizeof(pkt));
	struct segd_ct_value v;
	uint32_t rc;

	dp_pin_cpu0();
	cr_assert_gt(len, 0, "cannot build packet");
	apply_audit_world();
	cr_assert_eq(dp_run_prog(XDP, pkt, len, EP_IF, &rc), 0);
	cr_expect_eq(rc, XDP_PASS, "XDP returned %u", rc);
	st_addr(A4, &k.local);
	st_addr(R4, &k.remote);
	xdp_decided_tamper(&k, MARKER_RULE);
	cr_assert_eq(dp_run_prog(TO, pkt, len, EP_IF, &rc), 0);
	cr_expect_eq(rc, TC_ACT_OK);
	cr_assert_eq(ct_get(A4, R4, 23, 5641, TCP, &v), 0, "no entry");
	cr_expect_eq(v.rule_id, 7, "rule %u: an audit decision was handed on",
		     v.rule_id);
	cr_expect(v.flags & SEGD_CTF_AUDIT, "the entry is not marked audit");
}
