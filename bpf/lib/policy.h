/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* policy.h - an atomic view of one policy generation and the decision.
 *
 * User space fills the inactive slot (fresh inner maps swapped in, or the
 * slot's own maps edited in place once no packet can still be reading
 * them) and only then bumps segd_config.policy_gen. Reading the generation
 * FIRST and then the inner maps of slot gen&1 therefore never mixes
 * generations. A missing inner map fails closed (SEGD_REASON_NO_STATE).
 */
#ifndef SEGD_BPF_POLICY_H
#define SEGD_BPF_POLICY_H

#include "maps.h"
#include "parse.h"

struct segd_view {
	__u32 gen;
	__u32 cfg_flags;    /* segd_config.flags (SEGD_CFG_*) */
	__u32 slot;
	void *policy;   /* inner hash: segd_policy_key -> segd_policy_value */
	void *exact;    /* inner hash: segd_addr -> segd_ipcache_value */
	void *lpm;      /* inner lpm:  segd_lpm_key -> segd_ipcache_value */
};

/* The generation and the config flags: all an established flow on an
 * interface with a valid segd_ifc entry needs (ifc_local). The exact
 * ipcache of the slot is looked up when it is needed (view_exact), and
 * view_full() adds the policy and LPM maps of the SAME slot when a
 * decision is needed. Loading them later in the same program run is safe
 * because user space never touches a slot's maps (swap or in-place edit)
 * until a grace period has passed since the generation that last used it
 * was retired, and this whole program is one RCU read section (see
 * seg_dp_apply). */
static __always_inline int view_load(struct segd_view *v)
{
	__u32 zero = 0;
	struct segd_config *cfg;

	cfg = bpf_map_lookup_elem(&segd_config, &zero);
	if (!cfg)
		return -1;
	v->gen = *(volatile __u32 *)&cfg->policy_gen;
	v->cfg_flags = cfg->flags;
	v->slot = v->gen & 1;
	v->policy = NULL;
	v->lpm = NULL;
	v->exact = NULL;
	return 0;
}

/* The exact ipcache of the view's slot; a missing one fails closed. */
static __always_inline int view_exact(struct segd_view *v)
{
	if (!v->exact)
		v->exact = bpf_map_lookup_elem(&segd_ipc_exact, &v->slot);
	return v->exact ? 0 : -1;
}

/* A missing inner map fails closed (SEGD_REASON_NO_STATE). */
static __always_inline int view_full(struct segd_view *v)
{
	if (view_exact(v))
		return -1;
	v->policy = bpf_map_lookup_elem(&segd_policy, &v->slot);
	v->lpm = bpf_map_lookup_elem(&segd_ipc_lpm, &v->slot);
	if (!v->policy || !v->lpm)
		return -1;
	return 0;
}

/* caller did view_exact() */
static __always_inline struct segd_ipcache_value *
ipc_exact(struct segd_view *v, struct segd_addr *a)
{
	return bpf_map_lookup_elem(v->exact, a);
}

/* The local address check of a tc hook from segd_ifc. Returns -1 when
 * the interface has no entry valid for the view's generation (ask the
 * exact ipcache); 0 when a is not an address of an endpoint on this
 * interface; 1 with *out = a's exact ipcache value. One inlined array
 * lookup, no hash. The value is copied, not pointed to: eight pointers of
 * different offsets would multiply the verifier's states. */
static __always_inline int ifc_local(const struct segd_view *v, __u32 ifindex,
				     const struct segd_addr *a,
				     struct segd_ipcache_value *out)
{
	const __u64 *x = (const __u64 *)a->b;
	struct segd_ifc *e;
	__u32 idx, n;

	idx = v->slot * SEGD_IFC_BUCKETS + (ifindex & (SEGD_IFC_BUCKETS - 1));
	e = bpf_map_lookup_elem(&segd_ifc, &idx);
	if (!e || e->gen != v->gen || e->ifindex != ifindex ||
	    !(e->flags & SEGD_IFCF_VALID))
		return -1;
	n = e->n;
#pragma unroll
	for (int i = 0; i < SEGD_IFC_ADDRS; i++) {
		const __u64 *y = (const __u64 *)e->a[i].addr.b;

		if (i >= n)
			break;
		if (x[0] == y[0] && x[1] == y[1]) {
			*out = e->a[i].val;
			return 1;
		}
	}
	return 0;
}

/* Identity of any address: exact, else longest prefix, else WORLD. */
static __always_inline __u32 identity_of(struct segd_view *v,
					 struct segd_addr *a)
{
	struct segd_ipcache_value *iv;
	struct segd_lpm_key k;

	/* after view_full(): v->exact is loaded */
	iv = bpf_map_lookup_elem(v->exact, a);
	if (iv)
		return iv->identity;
	k.prefixlen = 128;
	__builtin_memcpy(k.addr, a->b, 16);
	iv = bpf_map_lookup_elem(v->lpm, &k);
	if (iv)
		return iv->identity;
	return addr_is_v4(a) ? SEGD_ID_WORLD : SEGD_ID_WORLD_V6;
}

struct segd_decision {
	__u8 verdict;   /* SEGD_VERDICT_ALLOW or DENY */
	__u8 reason;    /* FORWARDED, POLICY_AUDIT (allowed: a policy in
			 * audit mode would deny), POLICY_DENIED,
			 * DEFAULT_DENIED */
	__u32 rule_id;
};

static __always_inline int policy_probe(void *pol, struct segd_policy_key *k,
					struct segd_decision *d)
{
	struct segd_policy_value *pv = bpf_map_lookup_elem(pol, k);

	if (!pv)
		return 0;
	d->rule_id = pv->rule_id;
	if (pv->verdict == SEGD_VERDICT_ALLOW) {
		d->verdict = SEGD_VERDICT_ALLOW;
		d->reason = pv->flags & SEGD_POLF_AUDIT ?
			    SEGD_REASON_POLICY_AUDIT : SEGD_REASON_FORWARDED;
	} else {        /* DENY, or a corrupt NONE entry: fail closed */
		d->verdict = SEGD_VERDICT_DENY;
		d->reason = SEGD_REASON_POLICY_DENIED;
	}
	return 1;
}

/* May a probe of this kind hit? Hints are necessary conditions only:
 * skipping a probe that cannot hit never changes the first hit. */
static __always_inline int probe_may_hit(__u32 lflags, __u8 dir, int anyrem,
					 int kind)
{
	if (!(lflags & SEGD_EPF_PROBES_VALID))
		return 1;
	return (lflags & SEGD_EPF_PROBE(dir, anyrem, kind)) != 0;
}

static __always_inline __u32 proto_class(__u8 proto)
{
	return proto == IPPROTO_TCP_ ? SEGD_PCLASS_TCP :
	       proto == IPPROTO_UDP_ ? SEGD_PCLASS_UDP : SEGD_PCLASS_OTHER;
}

/* May a remote=ANY key with this (non-zero) proto exist? Necessary
 * condition only, like probe_may_hit. */
static __always_inline int anyrem_proto_may_hit(__u32 lflags, __u8 dir,
						__u8 proto)
{
	if (!(lflags & SEGD_EPF_ANYREM_PROTO_VALID))
		return 1;
	return (lflags & SEGD_EPF_ANYREM_PROTO(dir, proto_class(proto))) != 0;
}

#define SEGD_RKINDS_ALL 0xfu

/* Which remote-specific probe kinds (bit 1 << SEGD_PROBE_*) may hit for
 * this local endpoint and remote identity, from segd_lhints of the view's
 * slot; all of them when there is no valid entry of this generation. One
 * inlined array lookup, no hash. Necessary conditions only. */
static __always_inline __u32 lhint_kinds(struct segd_view *v,
					 __u32 endpoint_id, __u8 dir,
					 __u32 remote_id)
{
	struct segd_lhint *h;
	__u32 idx;
	__u64 x;

	if (endpoint_id == 0 || endpoint_id >= SEGD_LHINT_EPS)
		return SEGD_RKINDS_ALL;
	idx = v->slot * SEGD_LHINT_EPS + endpoint_id;
	h = bpf_map_lookup_elem(&segd_lhints, &idx);
	if (!h || h->gen != v->gen || !(h->flags & SEGD_LHF_VALID))
		return SEGD_RKINDS_ALL;
	x = h->probes >> ((dir & 1) * 32 + segd_lh_bucket(remote_id));
	return (x & 1) | ((x >> 7) & 2) | ((x >> 14) & 4) | ((x >> 21) & 8);
}

/* probe_may_hit, narrowed by lhint_kinds() for the remote-specific pass */
static __always_inline int probe_ok(__u32 lflags, __u8 dir, int anyrem,
				    int kind, __u32 rkinds)
{
	if (!anyrem && !(rkinds & (1u << kind)))
		return 0;
	return probe_may_hit(lflags, dir, anyrem, kind);
}

/* The fixed lookup chain of segd_abi.h: at most 8 hash probes, the first
 * hit decides; cost does not depend on the number of rules. rkinds comes
 * from lhint_kinds() (SEGD_RKINDS_ALL: no such knowledge). */
static __always_inline void policy_decide(struct segd_view *v, __u32 local_id,
					  __u32 lflags, __u32 remote_id,
					  __u32 rkinds, __u8 dir, __u8 proto,
					  __u8 has_ports, __u16 port,
					  struct segd_decision *d)
{
	struct segd_policy_key k = {};
	int i, pmay = 1;

	d->rule_id = 0;
	if (!(lflags & SEGD_EPF_ENFORCE(dir))) {
		d->verdict = SEGD_VERDICT_ALLOW;
		d->reason = SEGD_REASON_FORWARDED;
		return;
	}
	k.local_id = local_id;
	k.dir = dir;
	for (i = 0; i < 2; i++) {
		if (i == 1) {
			if (!(lflags & SEGD_EPF_HINT_ANYREM(dir)))
				break;
			k.remote_id = SEGD_ID_ANY;
			pmay = anyrem_proto_may_hit(lflags, dir, proto);
		} else {
			k.remote_id = remote_id;
		}
		k.proto = proto;
		if (has_ports && pmay) {
			if (probe_ok(lflags, dir, i, SEGD_PROBE_EXACT,
				     rkinds)) {
				k.port_kind = SEGD_PORT_EXACT;
				k.port = port;
				if (policy_probe(v->policy, &k, d))
					return;
			}
			if ((lflags & SEGD_EPF_HINT_BLOCK(dir)) &&
			    probe_ok(lflags, dir, i, SEGD_PROBE_BLOCK,
				     rkinds)) {
				k.port_kind = SEGD_PORT_BLOCK;
				k.port = port & SEGD_PORT_BLOCK_MASK;
				if (policy_probe(v->policy, &k, d))
					return;
			}
		}
		k.port_kind = SEGD_PORT_ANY;
		k.port = 0;
		if (proto != SEGD_PROTO_ANY && pmay &&
		    probe_ok(lflags, dir, i, SEGD_PROBE_PROTO, rkinds)) {
			if (policy_probe(v->policy, &k, d))
				return;
		}
		if (probe_ok(lflags, dir, i, SEGD_PROBE_ALLPROTO, rkinds)) {
			k.proto = SEGD_PROTO_ANY;
			if (policy_probe(v->policy, &k, d))
				return;
		}
	}
	d->verdict = SEGD_VERDICT_DENY;
	d->reason = SEGD_REASON_DEFAULT_DENIED;
}

#endif /* SEGD_BPF_POLICY_H */
