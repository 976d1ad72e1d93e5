/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* counters.h - per-CPU reason and rule counters (user space sums CPUs). */
#ifndef SEGD_BPF_COUNTERS_H
#define SEGD_BPF_COUNTERS_H

#include "maps.h"

/* Pseudo reason: the packet is not ours to judge (XDP: destination is not
 * a local endpoint, or the tc hook will count it). Never stored. */
#define SEGD_R_UNCOUNTED 0xff
/* Pseudo reason, the tc uplink only: an established packet accounted in
 * its conntrack entry, to be handed to the endpoint's hook (handoff.h).
 * Counted as FORWARDED there. Never stored. */
#define SEGD_R_HANDOFF   0xfe
/* Pseudo reason, the tc uplink only: an allowed new flow whose decision is
 * in segd_handoff_flow, for the endpoint's hook, which creates the entry
 * and counts it (handoff.h). Not counted at the uplink. Never stored. */
#define SEGD_R_HANDOFF_NEW 0xfd

/* packets: what the wire carries (a GSO packet counts its segments) */
static __always_inline void count_reason(__u32 reason, __u32 packets,
					 __u32 bytes)
{
	struct segd_counter *c;

	if (reason >= SEGD_REASON_MAX)
		return;
	c = bpf_map_lookup_elem(&segd_reasons, &reason);
	if (c) {
		c->packets += packets;
		c->bytes += bytes;
	}
}

/* A new-flow decision taken by rule_id (0 = default / not enforced). */
static __always_inline void count_rule(__u32 rule_id, __u32 packets,
				       __u32 bytes)
{
	struct segd_rule_counter *c;

	c = bpf_map_lookup_elem(&segd_rules, &rule_id);
	if (c) {
		c->flows++;
		c->packets += packets;
		c->bytes += bytes;
	}
}

#endif /* SEGD_BPF_COUNTERS_H */
