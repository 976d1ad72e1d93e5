/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* blocklist_check.h - is the remote address of a flow decision on a blocklist?
 *
 * Asked on every flow DECISION only (conntrack miss, re-validation after a
 * generation change), never on an established packet, at every hook,
 * before policy. Single addresses (nearly all of a feed) are in a hash, so
 * a million of them cost what ten do. Prefixes are in an LPM trie, asked
 * only when the hash misses and the prefix gate (a /16 bitmap) says a
 * prefix the IPv4 views cannot answer for may cover the address; otherwise
 * IPv4 prefixes up to /24 come from a hash keyed by /24 (segd_bl_net24,
 * /17../24) and an array by /16 (segd_bl_net16, /0../16), so feed
 * prefixes cost a hash probe, not a trie walk. The exception trie only
 * when something matched. segd_config.flags says which maps hold anything: an empty map
 * costs nothing, not even a lookup.
 */
#ifndef SEGD_BPF_BLOCKLIST_CHECK_H
#define SEGD_BPF_BLOCKLIST_CHECK_H

#include "maps.h"
#include "policy.h"

/* May segd_bl_lpm hold a prefix covering a? One inlined array lookup and
 * a bit test (segd_abi.h, "prefix gate"); 1 when the gate is not valid. */
static __always_inline int bl_gate_open(const struct segd_view *v,
					const struct segd_addr *a)
{
	const __u32 *w = (const __u32 *)a->b;
	__u64 *word;
	__u32 bit, idx;

	if (!(v->cfg_flags & SEGD_CFG_BL_PFXGATE))
		return 1;
	if (addr_is_v4(a))
		bit = ((__u32)a->b[12] << 8) | a->b[13];
	else
		bit = segd_bl_gate6(w[0]);
	idx = bit >> 6;
	word = bpf_map_lookup_elem(&segd_bl_pfx16, &idx);
	if (!word)
		return 1;
	return (*word >> (bit & 63)) & 1;
}

/* 1: drop the flow (SEGD_REASON_BLOCKLISTED). 0: not listed, excepted, or
 * on an audit list (counted when count_audit; the XDP hook leaves that to
 * tc, which sees the same packet next). Drops are counted per list here.
 * A listed, not excepted remote leaves its list's category and id in p
 * (detection: a miner or C2 alert, even from an audit list). */
static __always_inline int bl_check(const struct segd_view *v,
				    const struct segd_addr *raddr,
				    struct segd_pkt *p, int count_audit)
{
	struct segd_bl_value *bv = NULL;
	struct segd_counter *c;
	struct segd_lpm_key k;
	__u32 id;
	int drop;

	if (!(v->cfg_flags & (SEGD_CFG_BL_EXACT | SEGD_CFG_BL_PREFIXES)))
		return 0;
	if (v->cfg_flags & SEGD_CFG_BL_EXACT)
		bv = bpf_map_lookup_elem(&segd_bl_exact, raddr);
	if (!bv && (v->cfg_flags & SEGD_CFG_BL_PREFIXES)) {
		if (bl_gate_open(v, raddr)) {       /* the exact answer */
			k.prefixlen = 128;
			__builtin_memcpy(k.addr, raddr->b, 16);
			bv = bpf_map_lookup_elem(&segd_bl_lpm, &k);
		} else if ((v->cfg_flags & SEGD_CFG_BL_NET24) &&
			   addr_is_v4(raddr)) {
			__u32 n24 = segd_bl_net24_key(raddr->b + 12);
			__u32 n16 = n24 >> 8;

			bv = bpf_map_lookup_elem(&segd_bl_net24, &n24);
			if (!bv)
				bv = bpf_map_lookup_elem(&segd_bl_net16, &n16);
			if (bv && !bv->list_id)     /* an empty /16 slot */
				bv = NULL;
		}
	}
	if (!bv)
		return 0;
	if (v->cfg_flags & SEGD_CFG_BL_EXCEPT) {
		k.prefixlen = 128;
		__builtin_memcpy(k.addr, raddr->b, 16);
		if (bpf_map_lookup_elem(&segd_bl_except, &k))
			return 0;
	}
	p->bl_category = bv->category;
	p->bl_list = bv->list_id;
	drop = bv->action != SEGD_BL_AUDIT;  /* unknown action: fail closed */
	if (!drop && !count_audit)
		return 0;
	id = bv->list_id;
	c = bpf_map_lookup_elem(&segd_bl_stats, &id);
	if (c) {
		c->packets += p->segs;
		c->bytes += p->wire_len;
	}
	return drop;
}

#endif /* SEGD_BPF_BLOCKLIST_CHECK_H */
