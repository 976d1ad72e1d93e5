// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* segd_tc.bpf.c - the endpoint hooks, on the host-side veth of each pod.
 *
 * from_endpoint: tc ingress of the host veth = what the pod SENDS.
 *                dir EGRESS, local = source (must be the pod's own).
 * to_endpoint:   tc egress of the host veth = what the pod RECEIVES.
 *                dir INGRESS, local = destination (must be the pod).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pipeline.h"
#include "stratum.h"
#include "events.h"

#define TC_ACT_OK_   0
#define TC_ACT_SHOT_ 2
/* enough linear data for L2 + IPv6 + extension headers + L4 + ICMP error */
#define SEGD_TC_PULL 256

static __always_inline int tc_handle(struct __sk_buff *skb, __u8 dir)
{
	struct segd_pkt p = {};
	void *data, *data_end;
	__u32 len = skb->len, reason;
	int rc;

	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (data_end - data < len && data_end - data < SEGD_TC_PULL) {
		bpf_skb_pull_data(skb, len < SEGD_TC_PULL ? len : SEGD_TC_PULL);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}

	rc = parse_packet(data, data_end, &p);
	if (rc == PARSE_PASS)
		reason = SEGD_REASON_FORWARDED;
	else if (rc == PARSE_DROP)
		reason = p.reason;
	else
		reason = segd_pipeline(data, data_end, &p, dir, skb->ifindex,
				       SEGD_HOOK_TC);
	/* first payload of a flow the endpoint opened (egress only) */
	if (p.scan != SEGD_SCAN_NONE && reason == SEGD_REASON_FORWARDED &&
	    stratum_match(skb, p.pl_off, p.ip_end - p.pl_off)) {
		if (p.scan == SEGD_SCAN_AUDIT) {
			count_reason(SEGD_REASON_STRATUM_AUDIT, len);
			ev_report(&p, SEGD_EV_AUDIT, SEGD_REASON_STRATUM_AUDIT,
				  dir, SEGD_HOOK_TC, skb->ifindex);
		} else {
			struct segd_ct_key k;

			ct_key_build(&k, &p, dir);
			bpf_map_delete_elem(&segd_ct, &k);
			reason = SEGD_REASON_STRATUM;
		}
	}
	count_reason(reason, len);
	if (reason != SEGD_REASON_FORWARDED) {
		ev_report(&p, SEGD_EV_DROP, reason, dir, SEGD_HOOK_TC,
			  skb->ifindex);
		return TC_ACT_SHOT_;
	}
	if (p.audit) {  /* a new flow an audit-mode policy would deny */
		count_reason(SEGD_REASON_POLICY_AUDIT, len);
		ev_report(&p, SEGD_EV_AUDIT, SEGD_REASON_POLICY_AUDIT, dir,
			  SEGD_HOOK_TC, skb->ifindex);
	}
	return TC_ACT_OK_;
}

SEC("tc")
int from_endpoint(struct __sk_buff *skb)
{
	return tc_handle(skb, SEGD_DIR_EGRESS);
}

SEC("tc")
int to_endpoint(struct __sk_buff *skb)
{
	return tc_handle(skb, SEGD_DIR_INGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
