/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* handoff.h - an established packet judged once on its way in (tc only).
 *
 * A packet from outside to a local pod meets two segd hooks: the uplink's
 * tc ingress and the pod's veth tc egress. For an established flow both
 * would look up the same conntrack entry. The uplink, which looks first,
 * accounts the packet in the entry (pipeline.h, SEGD_R_HANDOFF) and arms
 * this CPU's segd_handoff slot with a random tag that the skb carries in
 * skb->tc_index; the endpoint's hook runs next on the same CPU, within
 * the same softirq, and passes the packet at once when skb->tc_index and
 * the receiving interface match the slot.
 *
 * Why it cannot be forged: the slot only matches a packet received on the
 * uplink that armed it (skb->ingress_ifindex), and the uplink disarms it
 * for every packet it does not hand off, so a tc_index that arrived with
 * a packet never survives the uplink's own pass. A packet that waits on
 * its way (neighbour resolution, a qdisc on the pod's veth) finds the slot
 * re-armed for another one and is decided again by the endpoint's hook:
 * the same verdict, counted twice. The tag takes tc_index over for the
 * packet's way from the uplink to the pod, whatever it held (a cls_bpf
 * classifier's verdict sets it from the class id anyway), and the pod's
 * hook leaves it 0.
 */
#ifndef SEGD_BPF_HANDOFF_H
#define SEGD_BPF_HANDOFF_H

#include "maps.h"

/* at the uplink, after every packet: handed is 1 when uplink_pass
 * accounted an established packet */
static __always_inline void handoff_arm(struct __sk_buff *skb, int handed)
{
	__u32 zero = 0;
	struct segd_handoff *h = bpf_map_lookup_elem(&segd_handoff, &zero);

	if (!h)
		return;
	if (!handed) {
		if (h->tag)   /* the line stays clean when nothing is armed */
			h->tag = 0;
		return;
	}
	h->tag = (bpf_get_prandom_u32() & 0xffff) | 1;
	h->ifindex = skb->ingress_ifindex;
	/* A cls_bpf classifier that returns TC_ACT_OK has the kernel set
	 * tc_index to the minor of its class id, which the program's
	 * tc_classid gives (tc_run in net/core/dev.c); under tcx, tc_index
	 * keeps what the program wrote. */
	skb->tc_classid = h->tag;
	skb->tc_index = h->tag;
}

/* at the endpoint's tc egress: 1 when the uplink has done its work */
static __always_inline int handoff_take(struct __sk_buff *skb)
{
	__u32 zero = 0;
	struct segd_handoff *h;

	if (!skb->tc_index)
		return 0;
	h = bpf_map_lookup_elem(&segd_handoff, &zero);
	if (!h || !h->tag || h->tag != skb->tc_index ||
	    h->ifindex != skb->ingress_ifindex)
		return 0;
	h->tag = 0;
	skb->tc_index = 0;
	return 1;
}

#endif /* SEGD_BPF_HANDOFF_H */
