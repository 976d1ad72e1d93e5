/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* uplink.h - the uplink's early drop, shared by its two attachments: XDP
 * (segd_xdp.bpf.c, the default) and tc ingress (segd_tc.bpf.c, config
 * uplink_hook: tc, for virtual uplinks where XDP on the skb copies every
 * non-linear packet; docs/performance.md).
 *
 * Only packets towards a local endpoint are judged: a live CT entry or an
 * allowed new flow passes untouched (the endpoint's tc hook creates the CT
 * entry and does all accounting, so nothing is counted twice; on tc an
 * established packet is accounted here instead, and both it and a new
 * flow's decision are handed to that hook, handoff.h; on XDP the
 * decision only); a denied new flow
 * is dropped here, counted by reason and rule. Everything else (host
 * traffic, non-IP) passes. Malformed IP is dropped.
 */
#ifndef SEGD_BPF_UPLINK_H
#define SEGD_BPF_UPLINK_H

#include "pipeline.h"
#include "events.h"

enum uplink_verdict {
	UPLINK_DROP,     /* counted and reported here */
	UPLINK_PASS,
	UPLINK_HANDOFF,  /* tc only: pass, accounted and counted here (handoff.h) */
	UPLINK_HANDOFF_NEW, /* tc only: pass, its decision in segd_handoff_flow */
};

static __always_inline enum uplink_verdict uplink_pass(const struct segd_buf *b,
						       __u32 ifindex)
{
	struct segd_pkt p = {};
	__u32 reason;
	int rc;

	rc = parse_packet(b, &p);
	if (rc == PARSE_PASS)
		return UPLINK_PASS;
	if (rc == PARSE_DROP) {
		if (p.reason == SEGD_REASON_UNSUPPORTED_L3)
			return UPLINK_PASS;   /* LLDP & co. belong to the host */
		reason = p.reason;
	} else {
		reason = segd_pipeline(b, &p, SEGD_DIR_INGRESS, ifindex,
				       b->hook, NULL);
	}
	if (reason == SEGD_R_HANDOFF) {
		count_reason(SEGD_REASON_FORWARDED, p.segs,
			     pkt_wire_frame(&p, b->len));
		return UPLINK_HANDOFF;
	}
	if (reason == SEGD_R_HANDOFF_NEW)
		return UPLINK_HANDOFF_NEW;
	if (reason == SEGD_R_UNCOUNTED || reason == SEGD_REASON_FORWARDED)
		return UPLINK_PASS;
	count_reason(reason, p.segs, pkt_wire_frame(&p, b->len));
	ev_report(&p, SEGD_EV_DROP, reason, SEGD_DIR_INGRESS, b->hook,
		  ifindex);
	return UPLINK_DROP;
}

#endif /* SEGD_BPF_UPLINK_H */
