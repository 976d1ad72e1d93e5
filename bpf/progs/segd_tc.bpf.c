// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* segd_tc.bpf.c - the endpoint hooks, on the host-side veth of each pod.
 *
 * from_endpoint: tc ingress of the host veth = what the pod SENDS.
 *                dir EGRESS, local = source (must be the pod's own).
 * to_endpoint:   tc egress of the host veth = what the pod RECEIVES.
 *                dir INGRESS, local = destination (must be the pod).
 * uplink_ingress: tc ingress of an uplink, the uplink's early drop
 *                (bpf/lib/uplink.h) where the config asks for tc instead
 *                of XDP (uplink_hook: tc, or auto on a veth); it hands
 *                established packets and new flows' decisions to
 *                to_endpoint (bpf/lib/handoff.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pipeline.h"
#include "stratum.h"
#include "detect.h"
#include "events.h"
#include "uplink.h"
#include "handoff.h"

#define TC_ACT_OK_   0
#define TC_ACT_SHOT_ 2

/* The skb as the parser reads it: nothing is pulled (headers in the
 * linear part are read in place, others copied out of the fragments), and
 * a GSO packet is one decision for all the segments it carries. */
static __always_inline void tc_buf(struct __sk_buff *skb, struct segd_buf *b,
				   __u8 hook)
{
	b->ctx = skb;
	b->data = (void *)(long)skb->data;
	b->data_end = (void *)(long)skb->data_end;
	b->len = skb->len;
	b->segs = skb->gso_size && skb->gso_segs ? skb->gso_segs : 1;
	b->hook = hook;
}

/* handed: the decision the tc uplink handed to to_endpoint (handoff.h),
 * NULL when there is none */
static __always_inline int tc_handle(struct __sk_buff *skb, __u8 dir,
				     const struct segd_handoff_flow *handed)
{
	struct segd_pkt p = {};
	struct segd_buf b;
	__u32 reason, bytes;
	int rc;

	tc_buf(skb, &b, SEGD_HOOK_TC);
	rc = parse_packet(&b, &p);
	if (rc == PARSE_PASS)
		reason = SEGD_REASON_FORWARDED;
	else if (rc == PARSE_DROP)
		reason = p.reason;
	else
		reason = segd_pipeline(&b, &p, dir, skb->ifindex,
				       SEGD_HOOK_TC, handed);
	bytes = pkt_wire_frame(&p, b.len);
	/* first payload of a flow the endpoint opened (egress only) */
	if (p.scan != SEGD_SCAN_NONE && reason == SEGD_REASON_FORWARDED &&
	    stratum_match(skb, p.pl_off, p.ip_end - p.pl_off)) {
		detect_stratum(&p, p.scan != SEGD_SCAN_AUDIT);
		if (p.scan == SEGD_SCAN_AUDIT) {
			count_reason(SEGD_REASON_STRATUM_AUDIT, p.segs, bytes);
			ev_report(&p, SEGD_EV_AUDIT, SEGD_REASON_STRATUM_AUDIT,
				  dir, SEGD_HOOK_TC, skb->ifindex);
		} else {
			struct segd_ct_key k;

			ct_key_build(&k, &p, dir);
			bpf_map_delete_elem(&segd_ct, &k);
			reason = SEGD_REASON_STRATUM;
		}
	}
	count_reason(reason, p.segs, bytes);
	/* what the endpoint's new flows reach (detect.h) */
	if (p.new_flow && dir == SEGD_DIR_EGRESS) {
		int what = detect_count(&p, reason);

		if (what)
			detect_alert(&p, p.ev_endpoint, reason, what);
	} else if (p.new_flow) {   /* ingress: a refused local sender */
		int what = detect_refused_in(&p, reason);

		if (what)
			detect_alert(&p, (__u32)what >> 16, reason, what & 0xffff);
	}
	if (reason != SEGD_REASON_FORWARDED) {
		ev_report(&p, SEGD_EV_DROP, reason, dir, SEGD_HOOK_TC,
			  skb->ifindex);
		return TC_ACT_SHOT_;
	}
	if (p.audit) {  /* a new flow an audit-mode policy would deny */
		count_reason(SEGD_REASON_POLICY_AUDIT, p.segs, bytes);
		ev_report(&p, SEGD_EV_AUDIT, SEGD_REASON_POLICY_AUDIT, dir,
			  SEGD_HOOK_TC, skb->ifindex);
	}
	return TC_ACT_OK_;
}

/* The uplink's body, inlined: the test program tests/bpf/way_in.bpf.c
 * runs it and then, by a tail call, to_endpoint on one skb, as the path
 * runs the two hooks. */
static __always_inline int tc_uplink(struct __sk_buff *skb)
{
	enum uplink_verdict verdict;
	struct segd_buf b;

	tc_buf(skb, &b, SEGD_HOOK_TC_UPLINK);
	verdict = uplink_pass(&b, skb->ifindex);
	handoff_arm(skb, verdict == UPLINK_HANDOFF ? HANDOFF_ESTABLISHED :
			 verdict == UPLINK_HANDOFF_NEW ? HANDOFF_NEW_FLOW :
							 HANDOFF_NONE);
	return verdict == UPLINK_DROP ? TC_ACT_SHOT_ : TC_ACT_OK_;
}

SEC("tc")
int from_endpoint(struct __sk_buff *skb)
{
	return tc_handle(skb, SEGD_DIR_EGRESS, NULL);
}

SEC("tc")
int to_endpoint(struct __sk_buff *skb)
{
	__u32 kind = handoff_take(skb);

	/* an established packet the uplink has judged and counted passes;
	 * a new flow it has decided is only created and counted here */
	if (kind == HANDOFF_ESTABLISHED)
		return TC_ACT_OK_;
	return tc_handle(skb, SEGD_DIR_INGRESS,
			 kind == HANDOFF_NEW_FLOW ? handoff_flow() : NULL);
}

SEC("tc")
int uplink_ingress(struct __sk_buff *skb)
{
	return tc_uplink(skb);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
