/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* way_in.bpf.c - test-only program: a packet's way in through a tc uplink,
 * the uplink's tc ingress and then the pod's tc egress on one skb, as on
 * the path (same CPU, same softirq), with the programs segd builds
 * (bpf/progs/segd_tc.bpf.c, included). test_handoff.c runs it with the
 * datapath's maps.
 *
 * Between the two, skb->mark (the test's only way in) tampers with the
 * handed-on decision of a new flow, so that the test can tell a decision
 * taken from the handoff from one taken again:
 *   bits 0-15  write this rule id into it (0: leave it)
 *   bit 16     change its policy generation
 *   bit 17     change its conntrack key (as a rewrite on the way would)
 *   bit 18     write remote identity 0xbeef into it
 * Returns the endpoint's verdict, or 0x100 | the uplink's when it drops.
 */
#include "../../bpf/progs/segd_tc.bpf.c"

#define WAY_IN_GEN   (1u << 16)
#define WAY_IN_KEY   (1u << 17)
#define WAY_IN_REMOTE (1u << 18)

/* [0]: this object's to_endpoint, set by the test. A tail call, not a
 * function call: the two programs' frames together would pass BPF's
 * 512 bytes of stack, which the path never stacks (two hooks, two runs). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} way_in_next SEC(".maps");

SEC("tc")
int way_in(struct __sk_buff *skb)
{
	struct segd_handoff_flow *f;
	__u32 mark = skb->mark;
	int rc;

	rc = tc_uplink(skb);
	if (rc != TC_ACT_OK_)
		return 0x100 | rc;
	f = handoff_flow();
	if (f && (mark & 0xffff))
		f->rule_id = mark & 0xffff;
	if (f && (mark & WAY_IN_GEN))
		f->policy_gen ^= 1;
	if (f && (mark & WAY_IN_KEY))
		f->key.lport ^= 1;
	if (f && (mark & WAY_IN_REMOTE))
		f->remote_id = 0xbeef;
	bpf_tail_call(skb, &way_in_next, 0);
	return 0x200;   /* no to_endpoint in way_in_next */
}
