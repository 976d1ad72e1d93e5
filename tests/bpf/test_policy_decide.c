/* test_policy_decide.c - policy_decide() (bpf/lib/policy.h) on entries with
 * SEGD_POLF_AUDIT, through the test program tests/bpf/policy_decide.bpf.c
 * sharing the maps of the datapath under test; and the tc program letting
 * such a flow through. Table-driven: (query) -> verdict, reason, rule id.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <string.h>

#include "dp_harness.h"
#include "policy_decide.skel.h"

struct decide_query {       /* as in policy_decide.bpf.c */
	uint32_t local_id;
	uint32_t lflags;
	uint32_t remote_id;
	uint16_t port;
	uint8_t dir;
	uint8_t proto;
	uint8_t has_ports;
	uint8_t pad[3];
};

/* apply_audit_world (dp_harness.h) */
#define LFLAGS (SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS | \
		SEGD_EPF_HINT_ANYREM(IN))

void apply_audit_world(void)
{
	struct seg_compiled c;

	st_init(&c);
	cr_assert_eq(st_exact(&c, A4, ID_A, EP_IF, LFLAGS, 1), 0);
	cr_assert_eq(st_world(&c), 0);
	cr_assert_eq(st_prefix(&c, "203.0.113.0/24", ID_R), 0);
	st_rule(&c, ID_A, ID_R, IN, TCP, SEGD_PORT_EXACT, 22, ALLOW, 5);
	st_rule(&c, ID_A, ID_R, IN, TCP, SEGD_PORT_EXACT, 23, ALLOW, 7);
	c.entries[c.n_entries - 1].value.flags = SEGD_POLF_AUDIT;
	st_rule(&c, ID_A, ID_R, IN, TCP, SEGD_PORT_EXACT, 24, DENY, 8);
	st_rule(&c, ID_A, SEGD_ID_ANY, IN, SEGD_PROTO_ANY, SEGD_PORT_ANY, 0,
		ALLOW, 0);
	c.entries[c.n_entries - 1].value.flags = SEGD_POLF_AUDIT;
	dp_apply(&c);
}

/* the test program, its maps replaced by the datapath's */
static struct policy_decide_bpf *open_decide(void)
{
	struct policy_decide_bpf *s = policy_decide_bpf__open();

	cr_assert_not_null(s, "open policy_decide: %s", strerror(errno));
	dp_share_maps(s->obj);
	cr_assert_eq(policy_decide_bpf__load(s), 0, "load policy_decide");
	return s;
}

struct dcase {
	char name[48];
	uint8_t dir, proto;
	uint16_t port;
	uint32_t remote_id;
	int verdict, reason;
	uint32_t rule_id;
};

Test(datapath, policy_decide_audit_entries)
{
	static const struct dcase t[] = {
		{ "plain allow", IN, TCP, 22, ID_R, ALLOW, FWD, 5 },
		{ "allow|audit entry", IN, TCP, 23, ID_R, ALLOW,
		  SEGD_REASON_POLICY_AUDIT, 7 },
		{ "deny entry", IN, TCP, 24, ID_R, DENY,
		  SEGD_REASON_POLICY_DENIED, 8 },
		{ "catch-all audit (other port)", IN, TCP, 80, ID_R, ALLOW,
		  SEGD_REASON_POLICY_AUDIT, 0 },
		{ "catch-all audit (world, udp)", IN, UDP, 53, SEGD_ID_WORLD,
		  ALLOW, SEGD_REASON_POLICY_AUDIT, 0 },
		{ "egress not enforced", EG, TCP, 23, ID_R, ALLOW, FWD, 0 },
	};
	struct policy_decide_bpf *s;
	int fd;

	apply_audit_world();
	s = open_decide();
	fd = bpf_program__fd(s->progs.decide);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t pkt[64] = { 0 };
		struct decide_query q = {
			.local_id = ID_A, .lflags = LFLAGS,
			.remote_id = t[i].remote_id, .port = t[i].port,
			.dir = t[i].dir, .proto = t[i].proto, .has_ports = 1,
		};
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
			    .data_size_in = sizeof(pkt), .repeat = 1);
		uint32_t r;

		memcpy(pkt + 14, &q, sizeof(q));
		cr_assert_eq(bpf_prog_test_run_opts(fd, &o), 0, "%s", t[i].name);
		r = o.retval;
		cr_expect_eq(r & 0xff, (uint32_t)t[i].verdict, "%s: verdict %u",
			     t[i].name, r & 0xff);
		cr_expect_eq((r >> 8) & 0xff, (uint32_t)t[i].reason,
			     "%s: reason %u", t[i].name, (r >> 8) & 0xff);
		cr_expect_eq(r >> 16, t[i].rule_id, "%s: rule %u", t[i].name,
			     r >> 16);
	}
	policy_decide_bpf__destroy(s);
}

/* the endpoint's tc hook lets an audited flow through and tracks it */
Test(datapath, audit_decision_passes)
{
	static const struct pkt_spec syn = { .src = R4, .dst = A4, .proto = TCP,
		.sport = 5555, .dport = 23, .tcp_flags = SYN };
	static const struct pkt_spec denied = { .src = R4, .dst = A4,
		.proto = TCP, .sport = 5556, .dport = 24, .tcp_flags = SYN };
	uint8_t buf[256];
	struct segd_ct_value v;
	uint32_t ret;
	int len;

	apply_audit_world();
	len = pkt_build(&syn, buf, sizeof(buf));
	cr_assert_gt(len, 0);
	cr_assert_eq(dp_run_prog(TO, buf, len, EP_IF, &ret), 0);
	cr_expect_eq(ret, TC_ACT_OK, "audited flow dropped");
	cr_assert_eq(ct_get(A4, R4, 23, 5555, TCP, &v), 0, "no CT entry");
	cr_expect_eq(v.rule_id, 7);
	len = pkt_build(&denied, buf, sizeof(buf));
	cr_assert_gt(len, 0);
	cr_assert_eq(dp_run_prog(TO, buf, len, EP_IF, &ret), 0);
	cr_expect_eq(ret, TC_ACT_SHOT, "denied flow passed");
}
