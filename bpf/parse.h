/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* parse.h - bounded, verifier-friendly packet parsing shared by XDP and tc.
 *
 * parse_packet() works on [data, data_end) starting at the Ethernet header
 * and fills a struct segd_pkt. Every access is bounds-checked against
 * data_end (for the verifier) and against the IP length (for semantics).
 * Verdicts: PARSE_OK (policy applies), PARSE_PASS (ARP, ICMPv6 NDP/MLD: forward
 * without policy), PARSE_DROP (p->reason says why).
 */
#ifndef SEGD_BPF_PARSE_H
#define SEGD_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "segd_abi.h"

#define ETH_HLEN_          14
#define ETH_P_IP_          0x0800
#define ETH_P_ARP_         0x0806
#define ETH_P_IPV6_        0x86DD
#define ETH_P_8021Q_       0x8100
#define ETH_P_8021AD_      0x88A8

#define IPPROTO_HOPOPTS_   0
#define IPPROTO_ICMP_      1
#define IPPROTO_TCP_       6
#define IPPROTO_UDP_       17
#define IPPROTO_ROUTING_   43
#define IPPROTO_FRAGMENT_  44
#define IPPROTO_ICMPV6_    58
#define IPPROTO_DSTOPTS_   60
#define IPPROTO_SCTP_      132

#define TCPF_FIN_ 0x01
#define TCPF_SYN_ 0x02
#define TCPF_RST_ 0x04
#define TCPF_ACK_ 0x10

#define SEGD_MAX_VLAN      2
#define SEGD_IPV6_MAX_EXT  6
/* offsets past this are not parsed (keeps verifier ranges small) */
#define SEGD_MAX_HDR_OFF   1024

enum { PARSE_OK = 0, PARSE_PASS = 1, PARSE_DROP = 2 };
enum { SEGD_FRAG_NONE = 0, SEGD_FRAG_FIRST = 1, SEGD_FRAG_LATER = 2 };

struct segd_pkt {
	struct segd_addr saddr;   /* IPv4-mapped for IPv4 */
	struct segd_addr daddr;
	__u32 ip_len;             /* IP header + payload, what CT counts */
	__u32 frag_id;            /* IPv4 id or IPv6 fragment id (raw) */
	__u16 sport;              /* host order; ICMP echo: id in both */
	__u16 dport;
	__u16 l4_off;             /* L4 header offset from data */
	__u16 ip_end;             /* offset one past the IP datagram */
	__u8  proto;              /* final L4 protocol */
	__u8  has_ports;          /* TCP/UDP/SCTP: ports take part in policy */
	__u8  tcp_flags;
	__u8  icmp_type;
	__u8  icmp_code;
	__u8  icmp_err;           /* ICMP error carrying an embedded header */
	__u8  frag;               /* SEGD_FRAG_* */
	__u8  v6;
	__u8  reason;             /* on PARSE_DROP */
	__u8  scan;               /* out of the pipeline: SEGD_SCAN_* */
	__u16 pl_off;             /* TCP: payload offset from data */
	/* out of the pipeline, for events (events.h): what it knew */
	__u8  audit;              /* new flow let through by an audit entry */
	__u8  pad;
	__u32 ev_endpoint;        /* local endpoint id, 0 = not known */
	__u32 ev_rule;            /* rule that decided, 0 = default */
	__u32 ev_remote;          /* remote identity, 0 = not looked up */
};

/* what the tc hook must do with the payload (bpf/stratum.h) */
enum { SEGD_SCAN_NONE = 0, SEGD_SCAN_DROP = 1, SEGD_SCAN_AUDIT = 2 };

/* a TCP segment (parsed, not a later fragment) that carries payload */
static __always_inline int tcp_has_payload(const struct segd_pkt *p)
{
	return p->proto == IPPROTO_TCP_ && p->pl_off && p->pl_off < p->ip_end;
}

static __always_inline void addr_set_v4(struct segd_addr *a, __u32 be)
{
	__u32 *w = (__u32 *)a->b;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = be;
}

static __always_inline void addr_copy(struct segd_addr *dst, const void *src)
{
	__builtin_memcpy(dst->b, src, 16);
}

static __always_inline int addr_eq(const struct segd_addr *a,
				   const struct segd_addr *b)
{
	const __u64 *x = (const __u64 *)a->b, *y = (const __u64 *)b->b;

	return x[0] == y[0] && x[1] == y[1];
}

static __always_inline int addr_is_v4(const struct segd_addr *a)
{
	const __u32 *w = (const __u32 *)a->b;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

static __always_inline int parse_drop(struct segd_pkt *p, __u8 reason)
{
	p->reason = reason;
	return PARSE_DROP;
}

static __always_inline int icmp_is_error(__u8 v6, __u8 type)
{
	if (v6)
		return type >= 1 && type <= 4;
	return type == 3 || type == 11 || type == 12;
}

/* L4 header at p->l4_off; non-first fragments never get here. */
static __always_inline int parse_l4(void *data, void *data_end,
				    struct segd_pkt *p)
{
	__u32 off = p->l4_off;
	__u8 *l4;

	if (off > SEGD_MAX_HDR_OFF)
		return parse_drop(p, SEGD_REASON_MALFORMED_L4);
	l4 = data + off;

	switch (p->proto) {
	case IPPROTO_TCP_: {
		__u32 doff;

		if ((void *)(l4 + 20) > data_end || off + 20 > p->ip_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L4);
		doff = (l4[12] >> 4) * 4;
		if (doff < 20 || off + doff > p->ip_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L4);
		p->sport = (l4[0] << 8) | l4[1];
		p->dport = (l4[2] << 8) | l4[3];
		p->tcp_flags = l4[13];
		p->has_ports = 1;
		p->pl_off = off + doff;
		break;
	}
	case IPPROTO_UDP_:
	case IPPROTO_SCTP_: {
		__u32 min = p->proto == IPPROTO_UDP_ ? 8 : 12;

		if (off + min > p->ip_end || (void *)(l4 + 8) > data_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L4);
		p->sport = (l4[0] << 8) | l4[1];
		p->dport = (l4[2] << 8) | l4[3];
		p->has_ports = 1;
		break;
	}
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_: {
		__u8 type;

		/* the ICMP family must match the IP family */
		if ((p->proto == IPPROTO_ICMPV6_) != (p->v6 != 0))
			break;
		if ((void *)(l4 + 8) > data_end || off + 8 > p->ip_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L4);
		type = l4[0];
		p->icmp_type = type;
		p->icmp_code = l4[1];
		if ((!p->v6 && (type == 0 || type == 8)) ||
		    (p->v6 && (type == 128 || type == 129))) {
			p->sport = (l4[4] << 8) | l4[5];
			p->dport = p->sport;
		}
		/* link-scope control: NDP (133-137) so neighbours resolve,
		 * MLD (130-132, 143) so multicast listeners work; neither is
		 * ever forwarded off the link */
		if (p->v6 && ((type >= 133 && type <= 137) ||
			      (type >= 130 && type <= 132) || type == 143))
			return PARSE_PASS;
		p->icmp_err = p->frag == SEGD_FRAG_NONE &&
			      icmp_is_error(p->v6, type);
		break;
	}
	default:
		break;
	}
	return PARSE_OK;
}

static __always_inline int parse_ipv4(void *data, void *data_end, __u32 l3,
				      struct segd_pkt *p)
{
	__u8 *ip = data + l3;
	__u32 ihl, tot, frag;

	if ((void *)(ip + 20) > data_end)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);
	ihl = (ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);
	tot = (ip[2] << 8) | ip[3];
	if (tot < ihl || l3 + tot > (__u32)(data_end - data))
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);

	addr_set_v4(&p->saddr, *(__u32 *)(ip + 12));
	addr_set_v4(&p->daddr, *(__u32 *)(ip + 16));
	p->proto = ip[9];
	p->ip_len = tot;
	p->ip_end = l3 + tot;
	p->l4_off = l3 + ihl;

	frag = (ip[6] << 8) | ip[7];
	if (frag & 0x1fff)
		p->frag = SEGD_FRAG_LATER;
	else if (frag & 0x2000)
		p->frag = SEGD_FRAG_FIRST;
	p->frag_id = (ip[4] << 8) | ip[5];
	return PARSE_OK;
}

static __always_inline int ipv6_is_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ ||
	       nh == IPPROTO_FRAGMENT_ || nh == IPPROTO_DSTOPTS_;
}

static __always_inline int parse_ipv6(void *data, void *data_end, __u32 l3,
				      struct segd_pkt *p)
{
	__u8 *ip = data + l3;
	__u32 plen, off;
	__u8 nh;

	if ((void *)(ip + 40) > data_end)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);
	if ((ip[0] >> 4) != 6)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);
	plen = (ip[4] << 8) | ip[5];
	if (l3 + 40 + plen > (__u32)(data_end - data))
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);

	addr_copy(&p->saddr, ip + 8);
	addr_copy(&p->daddr, ip + 24);
	p->v6 = 1;
	p->ip_len = 40 + plen;
	p->ip_end = l3 + 40 + plen;
	nh = ip[6];
	off = l3 + 40;

	for (int i = 0; i < SEGD_IPV6_MAX_EXT; i++) {
		__u8 *h;

		if (!ipv6_is_ext(nh))
			break;
		if (off > SEGD_MAX_HDR_OFF)
			return parse_drop(p, SEGD_REASON_MALFORMED_L3);
		h = data + off;
		if ((void *)(h + 8) > data_end || off + 8 > p->ip_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L3);
		if (nh == IPPROTO_FRAGMENT_) {
			__u16 fo = (h[2] << 8) | h[3];

			if (fo & 0xfff8)
				p->frag = SEGD_FRAG_LATER;
			else if (fo & 1)
				p->frag = SEGD_FRAG_FIRST;
			p->frag_id = *(__u32 *)(h + 4);
			off += 8;
		} else {
			off += (h[1] + 1) * 8;
		}
		nh = h[0];
		if (p->frag == SEGD_FRAG_LATER)
			break; /* the rest is payload of the datagram */
	}
	if (p->frag != SEGD_FRAG_LATER && ipv6_is_ext(nh))
		return parse_drop(p, SEGD_REASON_IPV6_EXT_LIMIT);
	if (off > p->ip_end)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);
	p->proto = nh;
	p->l4_off = off;
	return PARSE_OK;
}

static __always_inline int parse_packet(void *data, void *data_end,
					struct segd_pkt *p)
{
	__u8 *eth = data;
	__u32 off = ETH_HLEN_;
	__u16 proto;
	int rc;

	if ((void *)(eth + ETH_HLEN_) > data_end)
		return parse_drop(p, SEGD_REASON_MALFORMED_L2);
	proto = (eth[12] << 8) | eth[13];

	for (int i = 0; i < SEGD_MAX_VLAN; i++) {
		__u8 *tag;

		if (proto != ETH_P_8021Q_ && proto != ETH_P_8021AD_)
			break;
		tag = data + off;
		if ((void *)(tag + 4) > data_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L2);
		proto = (tag[2] << 8) | tag[3];
		off += 4;
	}

	switch (proto) {
	case ETH_P_ARP_:
		return PARSE_PASS;
	case ETH_P_IP_:
		rc = parse_ipv4(data, data_end, off, p);
		break;
	case ETH_P_IPV6_:
		rc = parse_ipv6(data, data_end, off, p);
		break;
	default:
		return parse_drop(p, SEGD_REASON_UNSUPPORTED_L3);
	}
	if (rc != PARSE_OK || p->frag == SEGD_FRAG_LATER)
		return rc;
	return parse_l4(data, data_end, p);
}

#endif /* SEGD_BPF_PARSE_H */
