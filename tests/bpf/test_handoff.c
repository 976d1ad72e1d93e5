/* test_handoff.c - the tc uplink's handoff of a new flow's decision to the
 * endpoint's hook (bpf/lib/handoff.h), through the test program
 * tests/bpf/way_in.bpf.c: the uplink's tc ingress and the pod's tc egress
 * on one skb, sharing the maps of the datapath under test. The program
 * can tamper with the handed-on decision between the two, which tells a
 * decision the endpoint took from the handoff from one it took again.
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
		cr_assert(found, "%s: no conntrack entry", c->name);
		cr_expect_eq(v.remote_id, c->remote, "%s: remote %u, want %u",
			     c->name, v.remote_id, c->remote);
		if (c->rule == MARKER_RULE) {
			cr_expect_eq(v.rule_id, MARKER_RULE,
				     "%s: rule %u, the endpoint decided again",
				     c->name, v.rule_id);
			continue;
		}
		/* the rule the world's policy gives, whoever decided it */
		if (!taken)
			taken = v.rule_id;
		cr_expect_neq(v.rule_id, MARKER_RULE, "%s: the tampered "
			      "decision was used", c->name);
		cr_expect_eq(v.rule_id, taken, "%s: rule %u, want %u", c->name,
			     v.rule_id, taken);
	}
	way_in_bpf__destroy(s);
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
