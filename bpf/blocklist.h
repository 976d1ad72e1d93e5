/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* blocklist.h - is the remote address of a flow decision on a blocklist?
 *
 * Asked on every flow DECISION only (conntrack miss, re-validation after a
 * generation change), never on an established packet, at every hook,
 * before policy. Single addresses (nearly all of a feed) are in a hash, so
 * a million of them cost what ten do; prefixes are in an LPM trie that is
 * only asked when the hash misses; the exception trie only when something
 * matched. segd_config.flags says which maps hold anything: an empty map
 * costs nothing, not even a lookup.
 */
#ifndef SEGD_BPF_BLOCKLIST_H
#define SEGD_BPF_BLOCKLIST_H

#include "maps.h"
#include "policy.h"

/* 1: drop the flow (SEGD_REASON_BLOCKLISTED). 0: not listed, excepted, or
 * on an audit list (counted when count_audit; the XDP hook leaves that to
 * tc, which sees the same packet next). Drops are counted per list here. */
static __always_inline int bl_check(const struct segd_view *v,
				    const struct segd_addr *raddr,
				    __u32 bytes, int count_audit)
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
		k.prefixlen = 128;
		__builtin_memcpy(k.addr, raddr->b, 16);
		bv = bpf_map_lookup_elem(&segd_bl_lpm, &k);
	}
	if (!bv)
		return 0;
	if (v->cfg_flags & SEGD_CFG_BL_EXCEPT) {
		k.prefixlen = 128;
		__builtin_memcpy(k.addr, raddr->b, 16);
		if (bpf_map_lookup_elem(&segd_bl_except, &k))
			return 0;
	}
	drop = bv->action != SEGD_BL_AUDIT;  /* unknown action: fail closed */
	if (!drop && !count_audit)
		return 0;
	id = bv->list_id;
	c = bpf_map_lookup_elem(&segd_bl_stats, &id);
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
	return drop;
}

#endif /* SEGD_BPF_BLOCKLIST_H */
