/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* handoff.h - a packet judged once on its way in (tc only).
 *
 * A packet from outside to a local pod meets two segd hooks: the uplink's
 * tc ingress and the pod's veth tc egress. For an established flow both
 * would look up the same conntrack entry; for a new flow both would take
 * the same decision. The uplink, which looks first, arms this CPU's
 * segd_handoff slot with a random tag that the skb carries in
 * skb->tc_index; the endpoint's hook runs next on the same CPU, within
 * the same softirq, and takes what the slot holds when skb->tc_index and
 * the receiving interface match it:
 *  - an established packet: the uplink has accounted it in the entry
 *    (pipeline.h, SEGD_R_HANDOFF); the endpoint passes it at once;
 *  - a new flow's decision (SEGD_HANDOFF_NEW, the decision in
 *    segd_handoff_flow): allowed, by no audit entry, the remote on no
 *    blocklist, not a fragment or ICMP error. The endpoint still checks
 *    that the address is its own, quarantine and conntrack, and then
 *    creates the entry and counts the flow with the uplink's rule and
 *    remote identity instead of looking them up again, when the policy
 *    generation and the conntrack key match (pipeline.h): a packet
 *    rewritten on its way (a DNAT to another pod) is decided again.
 *
 * Why it cannot be forged: the slot only matches a packet received on the
 * uplink that armed it (skb->ingress_ifindex), and the uplink disarms it
 * for every packet it does not hand off, so a tc_index that arrived with
 * a packet never survives the uplink's own pass. A packet that waits on
 * its way (neighbour resolution) finds the slot re-armed for another one
 * and is decided again by the endpoint's hook: the same verdict, counted
 * twice. (With one chance in 2^14 the other packet drew the same tag; an
 * established one then passes unaccounted, a new flow is decided again
 * unless its conntrack key matches too.) The tag takes tc_index over for the
 * packet's way from the uplink to the pod, whatever it held (a cls_bpf
 * classifier's verdict sets it from the class id anyway), and the pod's
 * hook leaves it 0.
 *
 * The XDP uplink has no skb to tag. It hands on new flows' decisions
 * only, through a per-CPU cache of them (segd_xdp_decided, a slot per
 * hash of the conntrack key): a plain allow, as above, with its key and
 * generation. The endpoint's hook, on a conntrack miss of a packet coming
 * in, takes the slot's decision when the key and the generation match.
 * No tag is needed for that: a decision is a function of the key and the
 * generation (blocklist and ipcache changes bump it; quarantine is still
 * asked at the endpoint), so a slot written for the same tuple under the
 * same generation, by whichever packet, holds the decision the endpoint
 * would take. A slot, not one: the stack takes what XDP passed in
 * batches, so XDP has decided the next few flows by then. A packet that
 * XDP ran on another CPU (RPS) or whose slot a later flow took is decided
 * in full.
 */
#ifndef SEGD_BPF_HANDOFF_H
#define SEGD_BPF_HANDOFF_H

#include "maps.h"

/* what the uplink handed on for a packet */
enum { HANDOFF_NONE, HANDOFF_ESTABLISHED, HANDOFF_NEW_FLOW };

/* this CPU's slot for a new flow's decision */
static __always_inline struct segd_handoff_flow *handoff_flow(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&segd_handoff_flow, &zero);
}

/* the segd_xdp_decided slot of conntrack key k on this CPU */
static __always_inline struct segd_handoff_flow *
xdp_decided_slot(const struct segd_ct_key *k)
{
	const __u32 *r = (const __u32 *)k->remote.b;
	__u32 slot = segd_xdp_decided_slot(k->lport, k->rport, r[2], r[3]);

	return bpf_map_lookup_elem(&segd_xdp_decided, &slot);
}

/* at the XDP uplink: a plain allow of new flow k under generation gen */
static __always_inline void xdp_decided_put(const struct segd_ct_key *k,
					    __u32 gen, __u32 rule_id,
					    __u32 remote_id)
{
	struct segd_handoff_flow *f = xdp_decided_slot(k);

	if (!f)
		return;
	f->key = *k;
	f->policy_gen = gen;
	f->rule_id = rule_id;
	f->remote_id = remote_id;
}

/* at the uplink, after every packet: kind is what uplink_pass handed on
 * (HANDOFF_NEW_FLOW: its decision is in handoff_flow()) */
static __always_inline void handoff_arm(struct __sk_buff *skb, __u32 kind)
{
	struct segd_handoff *h;
	__u32 zero = 0, tag;

	h = bpf_map_lookup_elem(&segd_handoff, &zero);
	if (!h)
		return;
	if (kind != HANDOFF_ESTABLISHED && kind != HANDOFF_NEW_FLOW) {
		if (h->tag)   /* the line stays clean when nothing is armed */
			h->tag = 0;
		return;
	}
	/* the kind in the tag too: a packet held on its way never meets
	 * a slot re-armed for the other kind under the same tag */
	tag = (bpf_get_prandom_u32() & SEGD_HANDOFF_TAG_MASK &
	       ~SEGD_HANDOFF_TAG_NEW) | 1;
	if (kind == HANDOFF_NEW_FLOW)
		tag |= SEGD_HANDOFF_TAG_NEW;
	h->tag = kind == HANDOFF_NEW_FLOW ? tag | SEGD_HANDOFF_NEW : tag;
	h->ifindex = skb->ingress_ifindex;
	/* A cls_bpf classifier that returns TC_ACT_OK has the kernel set
	 * tc_index to the minor of its class id, which the program's
	 * tc_classid gives (tc_run in net/core/dev.c); under tcx, tc_index
	 * keeps what the program wrote. */
	skb->tc_classid = tag;
	skb->tc_index = tag;
}

/* at the endpoint's tc egress: what the uplink handed on for this packet
 * (HANDOFF_ESTABLISHED: done; HANDOFF_NEW_FLOW: the decision is in
 * handoff_flow()) */
static __always_inline __u32 handoff_take(struct __sk_buff *skb)
{
	struct segd_handoff *h;
	__u32 zero = 0, armed;

	if (!skb->tc_index)
		return HANDOFF_NONE;
	h = bpf_map_lookup_elem(&segd_handoff, &zero);
	if (!h || !h->tag ||
	    (h->tag & SEGD_HANDOFF_TAG_MASK) != skb->tc_index ||
	    h->ifindex != skb->ingress_ifindex)
		return HANDOFF_NONE;
	armed = h->tag;
	h->tag = 0;
	skb->tc_index = 0;
	/* both or neither; an older uplink program sets bit 1 of its tags
	 * at random and never SEGD_HANDOFF_NEW: such a packet is decided
	 * in full */
	if (!(armed & SEGD_HANDOFF_NEW) != !(armed & SEGD_HANDOFF_TAG_NEW))
		return HANDOFF_NONE;
	return armed & SEGD_HANDOFF_NEW ? HANDOFF_NEW_FLOW : HANDOFF_ESTABLISHED;
}

#endif /* SEGD_BPF_HANDOFF_H */
