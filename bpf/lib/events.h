/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* events.h - drop and audit events to segd through the ring buffer.
 *
 * Every dropped packet (and every flow an audit decision let through) asks
 * for an event. A flood from one endpoint must not starve segd or crowd
 * out the others, so each endpoint (its interface when the endpoint is not
 * known) gets SEGD_EV_PER_SEC events per CPU per one-second window; the
 * rest are counted as rate-limited, and events that find the ring full as
 * ring-full (segd_ev_stats), so every loss is visible. Per-CPU state needs
 * no atomics. The counters in counters.h stay exact either way.
 */
#ifndef SEGD_BPF_EVENTS_H
#define SEGD_BPF_EVENTS_H

#include "maps.h"
#include "parse.h"

#define SEGD_NS_PER_SEC 1000000000ull

static __always_inline void ev_stat(__u32 which)
{
	__u64 *n = bpf_map_lookup_elem(&segd_ev_stats, &which);

	if (n)
		(*n)++;
}

/* 1: this endpoint may send another event in the current window. */
static __always_inline int ev_admit(__u32 bucket, __u64 now)
{
	struct segd_ev_rate *r;

	bucket &= SEGD_EV_BUCKETS - 1;
	r = bpf_map_lookup_elem(&segd_ev_rate, &bucket);
	if (!r)
		return 0;
	if (now - r->window_ns >= SEGD_NS_PER_SEC) {
		r->window_ns = now;
		r->sent = 0;
	}
	if (r->sent >= SEGD_EV_PER_SEC)
		return 0;
	r->sent++;
	return 1;
}

static __always_inline void ev_report(const struct segd_pkt *p, __u8 type,
				      __u32 reason, __u8 dir, __u8 hook,
				      __u32 ifindex)
{
	struct segd_event *e;
	__u64 now = bpf_ktime_get_coarse_ns();

	if (!ev_admit(p->ev_endpoint ? p->ev_endpoint : ifindex, now)) {
		ev_stat(SEGD_EVS_RATE_LIMITED);
		return;
	}
	e = bpf_ringbuf_reserve(&segd_events, sizeof(*e), 0);
	if (!e) {
		ev_stat(SEGD_EVS_RING_FULL);
		return;
	}
	e->ts_ns = now;
	e->saddr = p->saddr;
	e->daddr = p->daddr;
	/* ports, or for ICMP type << 8 | code in dport (as IPFIX has it) */
	e->sport = p->has_ports ? p->sport : 0;
	e->dport = p->has_ports ? p->dport :
		   (p->proto == IPPROTO_ICMP_ || p->proto == IPPROTO_ICMPV6_) ?
		   (__u16)((__u16)p->icmp_type << 8 | p->icmp_code) : 0;
	e->proto = p->proto;
	e->type = type;
	e->reason = (__u8)reason;
	e->dir = dir;
	e->hook = hook;
	e->tcp_flags = p->tcp_flags;
	e->pad16 = 0;
	e->ifindex = ifindex;
	e->endpoint_id = p->ev_endpoint;
	e->rule_id = p->ev_rule;
	e->remote_id = p->ev_remote;
	e->bytes = p->wire_len;
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
	ev_stat(SEGD_EVS_SENT);
}

#endif /* SEGD_BPF_EVENTS_H */
