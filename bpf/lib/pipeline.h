/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* pipeline.h - the per-packet decision shared by every hook.
 *
 * Input: a parsed packet, its direction relative to the local endpoint and
 * the hook. Output: a segd_reason (FORWARDED = pass) or SEGD_R_UNCOUNTED
 * (pass, not counted here: XDP leaves accounting to the endpoint's tc hook).
 *
 * tc:  local endpoint check (anti-spoofing / not-endpoint), fragments,
 *      ICMP errors of tracked flows, conntrack (with generation re-check),
 *      policy on a miss, CT creation and rule counters on a new flow.
 *
 * Hot path (established flow, same generation): config (inlined array),
 * the interface's segd_ifc entry (inlined array + a 16-byte compare per
 * local address: anti-spoofing without a hash; the slot's exact ipcache
 * only when the interface has no valid entry), one 40-byte CT hash, plain
 * counter adds. The policy and LPM maps of the slot
 * are only looked up when a decision is needed (view_full). Hash probes
 * are what costs here (jhash rounds are latency-bound), so every lookup
 * that cannot change the outcome is skipped: by the ipcache flags, and for
 * the remote-specific probes by the local endpoint's segd_lhints entry
 * (lhint_kinds: an inlined array lookup, no hash).
 * xdp: a CT hit or an allowed new flow passes untouched (the tc hook
 *      creates CT and counts), a deny drops early. Conntrack is asked
 *      first, before the ipcache (unless somebody is quarantined): an
 *      established packet costs one hash probe here.
 *      SEGD_HOOK_TC_UPLINK is the same early drop run at the uplink's tc
 *      ingress (uplink.h); "early" below stands for both. The one
 *      difference: on tc, an established packet of a live entry of the
 *      current generation is accounted in it here (SEGD_R_HANDOFF) and
 *      handed to the endpoint's hook, which then skips it, and a plainly
 *      allowed new flow's decision is handed to it (SEGD_R_HANDOFF_NEW),
 *      which then creates the entry without deciding again (handoff.h).
 *      XDP hands on such a decision too, through segd_xdp_decided (it has
 *      no skb to tag, so it hands on no established packet).
 *      Neither creates, revokes nor deletes an entry.
 *
 * Quarantine (quarantine_check.h) comes first of all once the local address is
 * known, at every hook: a quarantined endpoint's packet is dropped unless
 * its peer is on the forensic allow list (then it passes at once, without
 * conntrack, blocklists or policy), whatever conntrack, blocklist
 * exceptions or policy would say. One flag test when nobody is quarantined.
 * Blocklists (blocklist_check.h) are asked on every decision (new flow, and a
 * re-validation after a generation change), before policy, for the remote
 * address; never on an established packet of the current generation.
 * Stratum (stratum.h): the first egress payload of a flow the endpoint
 * opened is flagged in p->scan for the tc hook, which has the skb to read
 * it; the CT entry remembers that it was looked at (SEGD_CTF_PAYLOAD_SEEN).
 * Detection (detect.h): a packet decided afresh is marked p->new_flow, with
 * the blocklist's category when the remote is listed, for the tc hook to
 * count, and so is every packet a quarantine drops; the established path
 * is not touched.
 */
#ifndef SEGD_BPF_PIPELINE_H
#define SEGD_BPF_PIPELINE_H

#include "parse.h"
#include "policy.h"
#include "conntrack.h"
#include "counters.h"
#include "blocklist_check.h"
#include "quarantine_check.h"
#include "handoff.h"

/* hooks: enum segd_hook (segd_abi.h) */

/* A TCP packet the endpoint sends with payload: the scan it needs under
 * the local endpoint's Stratum mode, if this is the first payload of a
 * flow the endpoint opened (caller checked dir, hook, proto). */
static __always_inline __u8 stratum_mode(const struct segd_pkt *p,
					 __u32 lflags)
{
	if (lflags & SEGD_EPF_STRATUM_OFF)
		return SEGD_SCAN_NONE;
	return lflags & SEGD_EPF_STRATUM_AUDIT ? SEGD_SCAN_AUDIT :
						 SEGD_SCAN_DROP;
}

/* handed: at the endpoint's SEGD_HOOK_TC, the new flow's decision the
 * tc uplink handed on (handoff.h), NULL when there is none (a packet
 * coming in then looks for the XDP uplink's decision). The tc uplink
 * writes a plain allow into its own segd_handoff_flow slot and returns
 * SEGD_R_HANDOFF_NEW; XDP writes it into segd_xdp_decided. */
static __always_inline __u32 segd_pipeline(const struct segd_buf *b,
					   struct segd_pkt *p, __u8 dir,
					   __u32 ifindex, int hook,
					   const struct segd_handoff_flow *handed)
{
	struct segd_ipcache_value *lv, lval;
	struct segd_decision d;
	struct segd_ct_value *ct = NULL;
	struct segd_addr *laddr, *raddr;
	struct segd_ct_key k;
	struct segd_view v;
	__u32 local_id, lflags, remote_id;
	/* the uplink's early drop (XDP or its tc twin): read-only */
	int early = hook != SEGD_HOOK_TC, ct_looked = 0;
	__u64 now = 0;

	if (view_load(&v))
		return early ? SEGD_R_UNCOUNTED :
					       SEGD_REASON_NO_STATE;

	laddr = dir == SEGD_DIR_EGRESS ? &p->saddr : &p->daddr;
	raddr = dir == SEGD_DIR_EGRESS ? &p->daddr : &p->saddr;
	if (early && p->frag == SEGD_FRAG_NONE && !p->icmp_err &&
	    !(v.cfg_flags & SEGD_CFG_QUARANTINE)) {
		/* conntrack first: a live entry is only ever made for a local
		 * endpoint by its tc hook, which counts and re-checks it, so
		 * an established packet needs no ipcache probe here. The
		 * lookup pulls the entry into the cache for that hook. */
		ct_key_build(&k, p, dir);
		ct = bpf_map_lookup_elem(&segd_ct, &k);
		now = bpf_ktime_get_coarse_ns();
		if (ct && !ct_expired(ct, p->proto, now)) {
			/* on tc the skb goes on to the endpoint's hook: what
			 * that hook would do with a current, live entry is
			 * done here, and the hook is told (handoff.h) */
			if (hook == SEGD_HOOK_TC_UPLINK && ct->policy_gen == v.gen &&
			    !(ct->flags & SEGD_CTF_REVOKED)) {
				ct_account(ct, dir, p, now);
				return SEGD_R_HANDOFF;
			}
			return SEGD_R_UNCOUNTED;
		}
		ct_looked = 1;
	}
	if (early) {
		if (view_exact(&v))
			return SEGD_R_UNCOUNTED;
		lv = ipc_exact(&v, laddr);
		if (!lv || !(lv->flags & SEGD_EPF_LOCAL))
			return SEGD_R_UNCOUNTED;
		lval = *lv;
	} else {
		int own = ifc_local(&v, ifindex, laddr, &lval);

		if (own < 0) {  /* no entry for the interface: the ipcache */
			if (view_exact(&v))
				return SEGD_REASON_NO_STATE;
			lv = ipc_exact(&v, laddr);
			own = lv && (lv->flags & SEGD_EPF_LOCAL) &&
			      lv->ifindex == ifindex;
			if (own)
				lval = *lv;
		}
		if (!own)
			return dir == SEGD_DIR_EGRESS ? SEGD_REASON_SPOOFED :
							SEGD_REASON_NOT_ENDPOINT;
	}
	local_id = lval.identity;
	lflags = lval.flags;
	p->ev_endpoint = lval.endpoint_id;

	switch (quar_check(&v, laddr, raddr, p)) {
	case QUAR_DROP:
		/* counted as a new flow whatever conntrack holds: a contained
		 * workload that keeps probing still shows as a scan (the
		 * sketches count a target once, so its old flows add little) */
		p->new_flow = 1;
		return SEGD_REASON_QUARANTINED;
	case QUAR_PASS:
		return early ? SEGD_R_UNCOUNTED :
					       SEGD_REASON_FORWARDED;
	}

	if (p->frag != SEGD_FRAG_NONE && frag_track(p))
		return SEGD_REASON_FRAG_UNTRACKED;

	if (!ct_looked)   /* else read with the early conntrack lookup */
		now = bpf_ktime_get_coarse_ns();
	if (p->icmp_err &&
	    ct_icmp_related(b, p, dir, laddr, now))
		return early ? SEGD_R_UNCOUNTED :
					       SEGD_REASON_FORWARDED;

	if (!ct_looked) {
		ct_key_build(&k, p, dir);
		ct = bpf_map_lookup_elem(&segd_ct, &k);
	}
	if (ct && (ct->flags & SEGD_CTF_REVOKED) && hook == SEGD_HOOK_TC &&
	    p->proto == IPPROTO_TCP_ &&
	    (p->tcp_flags & (TCPF_SYN_ | TCPF_ACK_)) == TCPF_SYN_) {
		/* a new connection on a revoked flow's tuple: decided afresh */
		bpf_map_delete_elem(&segd_ct, &k);
		ct = NULL;
	}
	if (ct && !ct_expired(ct, p->proto, now)) {
		if (early)
			return SEGD_R_UNCOUNTED;
		if ((ct->flags & SEGD_CTF_REVOKED) && ct->policy_gen == v.gen)
			return SEGD_REASON_CT_REVOKED;
		if (ct->policy_gen != v.gen) {
			/* re-decide the flow as it was first seen */
			__u8 od = ct->origin_dir & 1;
			__u16 port = od == SEGD_DIR_EGRESS ? k.rport : k.lport;

			if (view_full(&v))
				return SEGD_REASON_NO_STATE;
			if (bl_check(&v, raddr, p, 1)) {
				bpf_map_delete_elem(&segd_ct, &k);
				return SEGD_REASON_BLOCKLISTED;
			}
			remote_id = identity_of(&v, raddr);
			policy_decide(&v, local_id, lflags, remote_id,
				      lhint_kinds(&v, lval.endpoint_id, od,
						  remote_id),
				      od, p->proto, p->has_ports, port, &d);
			p->ev_remote = remote_id;
			p->ev_rule = d.rule_id;
			if (d.verdict != SEGD_VERDICT_ALLOW) {
				/* a tombstone, not a deletion (SEGD_CTF_REVOKED) */
				ct->flags |= SEGD_CTF_REVOKED;
				ct->policy_gen = v.gen;
				return SEGD_REASON_CT_REVOKED;
			}
			/* allowed (again): a revoked flow resumes */
			ct->flags &= ~SEGD_CTF_REVOKED;
			ct->policy_gen = v.gen;
			ct->rule_id = d.rule_id;
			ct->remote_id = remote_id;
			/* audit or not is re-decided with the verdict */
			if (d.reason == SEGD_REASON_POLICY_AUDIT)
				ct->flags |= SEGD_CTF_AUDIT;
			else
				ct->flags &= ~SEGD_CTF_AUDIT;
		}
		if (dir == SEGD_DIR_EGRESS && !(ct->flags & SEGD_CTF_PAYLOAD_SEEN) &&
		    tcp_has_payload(p)) {
			ct->flags |= SEGD_CTF_PAYLOAD_SEEN;
			if (ct->origin_dir == SEGD_DIR_EGRESS)
				p->scan = stratum_mode(p, lflags);
		}
		ct_account(ct, dir, p, now);
		return SEGD_REASON_FORWARDED;
	}

	/* what the XDP uplink decided, when it did (handoff.h) */
	if (!handed && hook == SEGD_HOOK_TC && dir == SEGD_DIR_INGRESS)
		handed = xdp_decided_slot(&k);
	if (handed && handed->policy_gen == v.gen &&
	    p->frag == SEGD_FRAG_NONE && !p->icmp_err &&
	    ct_key_eq(&handed->key, &k)) {
		/* an uplink (tc or XDP) has decided this very tuple, on this
		 * CPU, under this generation: allowed, by no audit entry, the
		 * remote on no blocklist (handoff.h) */
		p->new_flow = 1;
		remote_id = handed->remote_id;
		d.verdict = SEGD_VERDICT_ALLOW;
		d.reason = SEGD_REASON_FORWARDED;
		d.rule_id = handed->rule_id;
	} else {
		/* new flow: the destination port is the one policy talks
		 * about */
		if (view_full(&v))
			return early ? SEGD_R_UNCOUNTED :
						       SEGD_REASON_NO_STATE;
		p->new_flow = 1;
		if (bl_check(&v, raddr, p, hook == SEGD_HOOK_TC))
			return SEGD_REASON_BLOCKLISTED;
		remote_id = identity_of(&v, raddr);
		policy_decide(&v, local_id, lflags, remote_id,
			      lhint_kinds(&v, lval.endpoint_id, dir, remote_id),
			      dir, p->proto, p->has_ports, p->dport, &d);
	}
	if (early && d.verdict == SEGD_VERDICT_ALLOW) {
		/* the plain case is handed on; an audit entry's flow, a
		 * listed remote (counted at the endpoint), fragments and ICMP
		 * errors are decided again there */
		struct segd_handoff_flow *flow;
		int plain = d.reason == SEGD_REASON_FORWARDED && !p->bl_list &&
			    p->frag == SEGD_FRAG_NONE && !p->icmp_err;

		if (plain && hook == SEGD_HOOK_XDP)
			xdp_decided_put(&k, v.gen, d.rule_id, remote_id);
		if (plain && hook == SEGD_HOOK_TC_UPLINK &&
		    (flow = handoff_flow())) {
			flow->key = k;
			flow->policy_gen = v.gen;
			flow->rule_id = d.rule_id;
			flow->remote_id = remote_id;
			return SEGD_R_HANDOFF_NEW;
		}
		return SEGD_R_UNCOUNTED;
	}
	p->ev_remote = remote_id;
	p->ev_rule = d.rule_id;
	count_rule(d.rule_id, p->segs, p->wire_len);
	if (d.verdict != SEGD_VERDICT_ALLOW)
		return d.reason;
	/* a flow whose first packet already carries payload (no SYN seen:
	 * picked up mid-way, or TCP fast open) */
	if (dir == SEGD_DIR_EGRESS && tcp_has_payload(p))
		p->scan = stratum_mode(p, lflags);
	p->audit = d.reason == SEGD_REASON_POLICY_AUDIT;
	ct_create(&k, p, dir, v.gen, d.rule_id, remote_id,
		  p->audit ? SEGD_CTF_AUDIT : 0, now);
	return SEGD_REASON_FORWARDED;
}

#endif /* SEGD_BPF_PIPELINE_H */
