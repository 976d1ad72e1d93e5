// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* segd_xdp.bpf.c - early drop on the node's uplink.
 *
 * Only packets towards a local endpoint are judged: a live CT entry or an
 * allowed new flow passes untouched (the endpoint's tc hook creates the CT
 * entry and does all accounting, so nothing is counted twice); a denied
 * new flow is dropped here, counted by reason and rule. Everything else
 * (host traffic, non-IP) passes. Malformed IP is dropped.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pipeline.h"
#include "events.h"

SEC("xdp")
int uplink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct segd_pkt p = {};
	__u32 reason;
	int rc;

	rc = parse_packet(data, data_end, &p);
	if (rc == PARSE_PASS)
		return XDP_PASS;
	if (rc == PARSE_DROP) {
		if (p.reason == SEGD_REASON_UNSUPPORTED_L3)
			return XDP_PASS;   /* LLDP & co. belong to the host */
		reason = p.reason;
	} else {
		reason = segd_pipeline(data, data_end, &p, SEGD_DIR_INGRESS,
				       ctx->ingress_ifindex, SEGD_HOOK_XDP);
	}
	if (reason == SEGD_R_UNCOUNTED || reason == SEGD_REASON_FORWARDED)
		return XDP_PASS;
	count_reason(reason, (__u32)(data_end - data));
	ev_report(&p, SEGD_EV_DROP, reason, SEGD_DIR_INGRESS, SEGD_HOOK_XDP,
		  ctx->ingress_ifindex);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
