/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* conntrack.h - connection tracking keyed from the local endpoint's point
 * of view (segd_abi.h), lifetimes, per-direction accounting, and the
 * lookup of the flow an ICMP/ICMPv6 error refers to.
 */
#ifndef SEGD_BPF_CONNTRACK_H
#define SEGD_BPF_CONNTRACK_H

#include "maps.h"
#include "parse.h"

#define SEGD_NSEC 1000000000ULL

static __always_inline void ct_key_build(struct segd_ct_key *k,
					 const struct segd_pkt *p, __u8 dir)
{
	if (dir == SEGD_DIR_EGRESS) {
		k->local = p->saddr;
		k->remote = p->daddr;
		k->lport = p->sport;
		k->rport = p->dport;
	} else {
		k->local = p->daddr;
		k->remote = p->saddr;
		k->lport = p->dport;
		k->rport = p->sport;
	}
	k->proto = p->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

static __always_inline int ct_key_eq(const struct segd_ct_key *a,
				     const struct segd_ct_key *b)
{
	return addr_eq(&a->local, &b->local) &&
	       addr_eq(&a->remote, &b->remote) && a->lport == b->lport &&
	       a->rport == b->rport && a->proto == b->proto;
}

static __always_inline __u64 ct_lifetime_ns(const struct segd_ct_value *v,
					    __u8 proto)
{
	return (__u64)segd_ct_lifetime_s(proto, v->tcp_flags[0] | v->tcp_flags[1]) *
	       SEGD_NSEC;
}

static __always_inline int ct_expired(const struct segd_ct_value *v,
				      __u8 proto, __u64 now)
{
	__u64 last = v->last_seen_ns;

	/* another CPU may have stamped a later time than ours */
	return now > last && now - last > ct_lifetime_ns(v, proto);
}

/* Count a packet travelling in dir on an existing entry.
 *
 * Plain adds, not atomics: a locked add is a full barrier (~20 cycles
 * each on x86) and this is the hottest write of the datapath. What it can
 * cost: an increment lost when two CPUs update the SAME direction of the
 * SAME flow at the same instant. One direction of a flow is normally
 * handled by one CPU at a time (a socket's transmit path, one veth
 * backlog, RSS on the uplink), and orig/reply live in separate words, so
 * collisions are rare and each loses one packet's worth. These counters are
 * observability only; no verdict, expiry or revocation reads them
 * (last_seen and tcp_flags were always plain stores). */
static __always_inline void ct_account(struct segd_ct_value *v, __u8 dir,
				       const struct segd_pkt *p, __u64 now)
{
	int idx = dir == v->origin_dir ? SEGD_CT_ORIG : SEGD_CT_REPLY;

	v->packets[idx] += p->segs;
	v->bytes[idx] += p->wire_len;
	v->last_seen_ns = now;
	if (p->tcp_flags & ~v->tcp_flags[idx])
		v->tcp_flags[idx] |= p->tcp_flags;
}

static __always_inline void ct_create(const struct segd_ct_key *k,
				      const struct segd_pkt *p, __u8 dir,
				      __u32 gen, __u32 rule_id,
				      __u32 remote_id, __u8 flags, __u64 now)
{
	struct segd_ct_value v = {};

	v.created_ns = now;
	v.last_seen_ns = now;
	v.packets[SEGD_CT_ORIG] = p->segs;
	v.bytes[SEGD_CT_ORIG] = p->wire_len;
	v.policy_gen = gen;
	v.rule_id = rule_id;
	v.remote_id = remote_id;
	v.origin_dir = dir;
	v.tcp_flags[SEGD_CT_ORIG] = p->tcp_flags;
	v.flags = flags;
	if (dir == SEGD_DIR_EGRESS && tcp_has_payload(p))
		v.flags |= SEGD_CTF_PAYLOAD_SEEN;
	bpf_map_update_elem(&segd_ct, k, &v, BPF_ANY);
}

/* An ICMP error carries the IP header + 8 bytes of L4 of the packet it
 * answers. That packet travelled the other way, so for an error going
 * towards the endpoint (INGRESS) the embedded source is the local side.
 * Returns 1 when the embedded flow has a live entry owned by `local`. */
static __always_inline int ct_icmp_related(const struct segd_buf *b,
					   const struct segd_pkt *p, __u8 dir,
					   const struct segd_addr *local,
					   __u64 now)
{
	struct segd_hdr_tmp tmp;
	struct segd_addr is, id;
	struct segd_ct_key k;
	struct segd_ct_value *v;
	__u32 off = p->l4_off + 8, l4;
	__u16 sp = 0, dp = 0;
	const __u8 *ip, *h;
	__u8 proto, t;

	if (!p->v6) {
		__u32 ihl;

		ip = hdr_at(b, off, 20, &tmp);
		if (!ip || (ip[0] >> 4) != 4)
			return 0;
		ihl = (ip[0] & 0x0f) * 4;
		if (ihl < 20 || (((ip[6] << 8) | ip[7]) & 0x1fff))
			return 0;
		addr_set_v4(&is, *(__u32 *)(ip + 12));
		addr_set_v4(&id, *(__u32 *)(ip + 16));
		proto = ip[9];
		l4 = off + ihl;
	} else {
		ip = hdr_at(b, off, 40, &tmp);
		if (!ip || (ip[0] >> 4) != 6)
			return 0;
		addr_copy(&is, ip + 8);
		addr_copy(&id, ip + 24);
		proto = ip[6];
		l4 = off + 40;
	}
	/* the quoted L4 header: 8 bytes is all an ICMP error must carry */
	h = hdr_at(b, l4, 8, &tmp);
	if (!h)
		return 0;
	switch (proto) {
	case IPPROTO_TCP_:
	case IPPROTO_UDP_:
	case IPPROTO_SCTP_:
		sp = (h[0] << 8) | h[1];
		dp = (h[2] << 8) | h[3];
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		t = h[0];
		if (t == 8 || t == 0 || t == 128 || t == 129) {
			sp = (h[4] << 8) | h[5];
			dp = sp;
		}
		break;
	default:
		break;
	}
	if (dir == SEGD_DIR_INGRESS) {
		k.local = is;
		k.remote = id;
		k.lport = sp;
		k.rport = dp;
	} else {
		k.local = id;
		k.remote = is;
		k.lport = dp;
		k.rport = sp;
	}
	if (!addr_eq(&k.local, local))
		return 0;
	k.proto = proto;
	k.pad[0] = k.pad[1] = k.pad[2] = 0;
	v = bpf_map_lookup_elem(&segd_ct, &k);
	return v && !ct_expired(v, proto, now);
}

/* Fragments: the first one records its ports, later ones borrow them.
 * Returns 0, or -1 for a later fragment nobody recorded. */
static __always_inline int frag_track(struct segd_pkt *p)
{
	struct segd_frag_key k;
	struct segd_frag_value *fv, nv = {};

	k.saddr = p->saddr;
	k.daddr = p->daddr;
	k.id = p->frag_id;
	k.proto = p->proto;
	k.pad[0] = k.pad[1] = k.pad[2] = 0;
	if (p->frag == SEGD_FRAG_FIRST) {
		nv.sport = p->sport;
		nv.dport = p->dport;
		bpf_map_update_elem(&segd_frag, &k, &nv, BPF_ANY);
		return 0;
	}
	fv = bpf_map_lookup_elem(&segd_frag, &k);
	if (!fv)
		return -1;
	p->sport = fv->sport;
	p->dport = fv->dport;
	p->has_ports = p->proto == IPPROTO_TCP_ || p->proto == IPPROTO_UDP_ ||
		       p->proto == IPPROTO_SCTP_;
	return 0;
}

#endif /* SEGD_BPF_CONNTRACK_H */
