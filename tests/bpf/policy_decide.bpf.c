/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* policy_decide.bpf.c - test-only program: policy_decide() of bpf/lib/policy.h
 * on a query carried in the packet after the Ethernet header, against the
 * maps of the datapath under test (test_policy_decide.c reuses their fds).
 * Returns verdict | reason << 8 | (rule_id & 0xffff) << 16, or -1 when
 * the slot has no state. */
#include "policy.h"

struct decide_query {       /* also in test_policy_decide.c */
	__u32 local_id;
	__u32 lflags;
	__u32 remote_id;
	__u16 port;
	__u8 dir;
	__u8 proto;
	__u8 has_ports;
	__u8 pad[3];
};

SEC("tc")
int decide(struct __sk_buff *skb)
{
	struct decide_query q;
	struct segd_decision d = {};
	struct segd_view v;

	if (bpf_skb_load_bytes(skb, 14, &q, sizeof(q)) || view_load(&v) ||
	    view_full(&v))
		return -1;
	policy_decide(&v, q.local_id, q.lflags, q.remote_id, SEGD_RKINDS_ALL,
		      q.dir & 1, q.proto, q.has_ports, q.port, &d);
	return d.verdict | d.reason << 8 | (d.rule_id & 0xffff) << 16;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
