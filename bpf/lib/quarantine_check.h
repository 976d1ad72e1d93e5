/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* quarantine_check.h - is the local endpoint of this packet quarantined?
 *
 * Asked by the pipeline right after the local address is known, before
 * anything that could let a packet through (ICMP errors of tracked flows,
 * conntrack, blocklist exceptions, policy): a quarantined endpoint keeps
 * only the traffic its forensic allow rules name, in both directions,
 * established connections included. Only while segd_config.flags has
 * SEGD_CFG_QUARANTINE, so the map is not even looked up on a node where
 * nobody is quarantined.
 */
#ifndef SEGD_BPF_QUARANTINE_CHECK_H
#define SEGD_BPF_QUARANTINE_CHECK_H

#include "maps.h"
#include "parse.h"
#include "policy.h"

/* Does allow rule a let packet p with remote address raddr through? */
static __always_inline int quar_rule_match(const struct segd_quar_allow *a,
					   const __u64 *r,
					   const struct segd_pkt *p)
{
	const __u64 *net = (const __u64 *)a->net.b;
	const __u64 *mask = (const __u64 *)a->mask.b;

	if ((r[0] & mask[0]) != net[0] || (r[1] & mask[1]) != net[1])
		return 0;
	if (a->proto && a->proto != p->proto)
		return 0;
	if (a->port && !(p->has_ports &&
			 (p->sport == a->port || p->dport == a->port)))
		return 0;
	return 1;
}

enum quar_verdict {
	QUAR_NONE = 0,   /* not quarantined: the rest of the pipeline decides */
	QUAR_DROP,       /* SEGD_REASON_QUARANTINED */
	QUAR_PASS,       /* a forensic peer: passes, whatever conntrack,
			  * blocklists or policy would say (the operator named
			  * it; a policy edit must not be needed mid-incident) */
};

static __always_inline int quar_check(const struct segd_view *v,
				      const struct segd_addr *laddr,
				      const struct segd_addr *raddr,
				      const struct segd_pkt *p)
{
	const __u64 *r = (const __u64 *)raddr->b;
	struct segd_quar_value *q;
	__u32 n;

	if (!(v->cfg_flags & SEGD_CFG_QUARANTINE))
		return QUAR_NONE;
	q = bpf_map_lookup_elem(&segd_quarantine, laddr);
	if (!q)
		return QUAR_NONE;
	n = q->n_allow;
	/* a bounded loop (at most SEGD_QUAR_ALLOW turns): the verifier walks
	 * it, and only quarantined packets get here */
	for (__u32 i = 0; i < SEGD_QUAR_ALLOW && i < n; i++)
		if (quar_rule_match(&q->allow[i], r, p))
			return QUAR_PASS;
	return QUAR_DROP;
}

#endif /* SEGD_BPF_QUARANTINE_CHECK_H */
