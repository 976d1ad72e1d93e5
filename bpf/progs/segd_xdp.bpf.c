// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* segd_xdp.bpf.c - early drop on the node's uplink.
 *
 * Only packets towards a local endpoint are judged: a live CT entry or an
 * allowed new flow passes untouched (the endpoint's tc hook creates the CT
 * entry and does all accounting, so nothing is counted twice); a denied
 * new flow is dropped here, counted by reason and rule. Everything else
 * (host traffic, non-IP) passes. Malformed IP is dropped.
 *
 * Loaded multi-buffer capable (xdp.frags: BPF_F_XDP_HAS_FRAGS), so an
 * uplink with segd takes jumbo frames: a frame may continue in fragments,
 * and parse.h reads any header that crosses into one with
 * bpf_xdp_load_bytes and checks lengths against the whole frame.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "pipeline.h"
#include "events.h"

SEC("xdp.frags")
int uplink(struct xdp_md *ctx)
{
	struct segd_buf b = {
		.ctx = ctx,
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
		.len = bpf_xdp_get_buff_len(ctx),
		.segs = 1,
		.hook = SEGD_HOOK_XDP,
	};
	struct segd_pkt p = {};
	__u32 reason;
	int rc;

	rc = parse_packet(&b, &p);
	if (rc == PARSE_PASS)
		return XDP_PASS;
	if (rc == PARSE_DROP) {
		if (p.reason == SEGD_REASON_UNSUPPORTED_L3)
			return XDP_PASS;   /* LLDP & co. belong to the host */
		reason = p.reason;
	} else {
		reason = segd_pipeline(&b, &p, SEGD_DIR_INGRESS,
				       ctx->ingress_ifindex, SEGD_HOOK_XDP);
	}
	if (reason == SEGD_R_UNCOUNTED || reason == SEGD_REASON_FORWARDED)
		return XDP_PASS;
	count_reason(reason, 1, b.len);
	ev_report(&p, SEGD_EV_DROP, reason, SEGD_DIR_INGRESS, SEGD_HOOK_XDP,
		  ctx->ingress_ifindex);
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
