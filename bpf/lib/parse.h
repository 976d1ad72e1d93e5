/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* parse.h - bounded, verifier-friendly packet parsing shared by XDP and tc.
 *
 * parse_packet() reads a struct segd_buf (the packet as either hook has it)
 * starting at the Ethernet header and fills a struct segd_pkt.
 *
 * Two different bounds, never confused:
 *  - what the packet declares (IP total length, IPv6 payload length, L4
 *    header lengths) is checked against b->len, the WHOLE packet
 *    (skb->len, bpf_xdp_get_buff_len): real stacks put payload in page
 *    fragments, so the linear part is usually much shorter than the
 *    datagram (a 64 KB GSO packet has ~100 linear bytes);
 *  - each header is read through hdr_at(): in place when its bytes are in
 *    the linear part [data, data_end) (the verifier's bound), otherwise
 *    copied out with bpf_skb_load_bytes / bpf_xdp_load_bytes (headers in a
 *    fragment: an XDP multi-buffer frame, a tc skb nobody linearised).
 *    Nothing is pulled, so a cloned skb (every TCP transmit) is never
 *    copied to make it writable.
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

/* The packet as a hook has it. hook is a constant at every call site
 * (SEGD_HOOK_TC or SEGD_HOOK_XDP), so each program keeps only its own load
 * helper. */
struct segd_buf {
	void *ctx;                /* struct __sk_buff * or struct xdp_md * */
	void *data;               /* linear part: read in place */
	void *data_end;
	__u32 len;                /* the whole packet, fragments included */
	__u32 segs;               /* GSO segments it stands for, >= 1 */
	__u8  hook;
};

/* scratch for a header that is not in the linear part: the largest one
 * read at once is the IPv6 header; 8-byte aligned (stack reads must be) */
#define SEGD_HDR_TMP 40
struct segd_hdr_tmp {
	__u64 w[SEGD_HDR_TMP / 8];
};

struct segd_pkt {
	struct segd_addr saddr;   /* IPv4-mapped for IPv4 */
	struct segd_addr daddr;
	__u32 ip_len;             /* IP header + payload of this skb/frame */
	__u32 wire_len;           /* IP bytes on the wire: a GSO packet's
				   * segments each repeat the headers */
	__u32 segs;               /* packets on the wire (GSO segments) */
	__u32 ip_end;             /* offset one past the IP datagram */
	__u32 frag_id;            /* IPv4 id or IPv6 fragment id (raw) */
	__u16 sport;              /* host order; ICMP echo: id in both */
	__u16 dport;
	__u16 l3_off;             /* IP header offset from the frame start */
	__u16 l4_off;             /* L4 header offset */
	__u16 pl_off;             /* TCP: payload offset */
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
	/* out of the pipeline, for events (events.h): what it knew */
	__u8  audit;              /* new flow let through by an audit entry */
	__u8  new_flow;           /* decided afresh: no conntrack entry */
	__u8  bl_category;        /* remote on a blocklist: its category */
	__u8  pad;
	__u16 bl_list;            /* and its list id */
	__u16 pad16;
	__u32 ev_endpoint;        /* local endpoint id, 0 = not known */
	__u32 ev_rule;            /* rule that decided, 0 = default */
	__u32 ev_remote;          /* remote identity, 0 = not looked up */
};

/* what the tc hook must do with the payload (bpf/lib/stratum.h) */
enum { SEGD_SCAN_NONE = 0, SEGD_SCAN_DROP = 1, SEGD_SCAN_AUDIT = 2 };

/* n bytes of header at offset off (n a constant <= SEGD_HDR_TMP): a
 * pointer into the linear part when they are there, else into tmp, filled
 * from the fragments. NULL when the packet is shorter. */
static __always_inline const __u8 *hdr_at(const struct segd_buf *b,
					  __u32 off, __u32 n,
					  struct segd_hdr_tmp *tmp)
{
	__u8 *h;
	long err;

	if (off > SEGD_MAX_HDR_OFF || off + n > b->len)
		return NULL;
	h = b->data + off;
	if ((void *)(h + n) <= b->data_end)
		return h;
	if (b->hook == SEGD_HOOK_XDP)
		err = bpf_xdp_load_bytes(b->ctx, off, tmp, n);
	else
		err = bpf_skb_load_bytes(b->ctx, off, tmp, n);
	return err ? NULL : (const __u8 *)tmp;
}

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
static __always_inline int parse_l4(const struct segd_buf *b,
				    struct segd_pkt *p,
				    struct segd_hdr_tmp *tmp)
{
	__u32 off = p->l4_off;
	const __u8 *l4;

	switch (p->proto) {
	case IPPROTO_TCP_: {
		__u32 doff;

		if (off + 20 > p->ip_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L4);
		l4 = hdr_at(b, off, 20, tmp);
		if (!l4)
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

		if (off + min > p->ip_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L4);
		l4 = hdr_at(b, off, 8, tmp);
		if (!l4)
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
		if (off + 8 > p->ip_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L4);
		l4 = hdr_at(b, off, 8, tmp);
		if (!l4)
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

/* BIG TCP: a GSO packet over 64 KB cannot state its length in 16 bits and
 * carries 0 instead (IPv4 tot_len, IPv6 payload_len); its length is the
 * packet's. Only then, so a 0 on an ordinary packet stays malformed. */
static __always_inline __u32 ip_len_or_big(const struct segd_buf *b,
					   __u32 stated, __u32 rest)
{
	return stated == 0 && rest > 0xffff ? rest : stated;
}

static __always_inline int parse_ipv4(const struct segd_buf *b, __u32 l3,
				      struct segd_pkt *p,
				      struct segd_hdr_tmp *tmp)
{
	const __u8 *ip = hdr_at(b, l3, 20, tmp);
	__u32 ihl, tot, frag;

	if (!ip)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);
	ihl = (ip[0] & 0x0f) * 4;
	if ((ip[0] >> 4) != 4 || ihl < 20)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);
	tot = ip_len_or_big(b, (ip[2] << 8) | ip[3], b->len - l3);
	if (tot < ihl || l3 + tot > b->len)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);

	addr_set_v4(&p->saddr, *(__u32 *)(ip + 12));
	addr_set_v4(&p->daddr, *(__u32 *)(ip + 16));
	p->proto = ip[9];
	p->ip_len = tot;
	p->ip_end = l3 + tot;
	p->l3_off = l3;
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

static __always_inline int parse_ipv6(const struct segd_buf *b, __u32 l3,
				      struct segd_pkt *p,
				      struct segd_hdr_tmp *tmp)
{
	const __u8 *ip = hdr_at(b, l3, 40, tmp);
	__u32 plen, off;
	__u8 nh;

	if (!ip || (ip[0] >> 4) != 6)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);
	nh = ip[6];
	plen = (ip[4] << 8) | ip[5];
	if (nh != IPPROTO_HOPOPTS_)  /* a jumbogram says 0 and has a HBH option */
		plen = ip_len_or_big(b, plen, b->len - l3 - 40);
	if (l3 + 40 + plen > b->len)
		return parse_drop(p, SEGD_REASON_MALFORMED_L3);

	addr_copy(&p->saddr, ip + 8);
	addr_copy(&p->daddr, ip + 24);
	p->v6 = 1;
	p->ip_len = 40 + plen;
	p->ip_end = l3 + 40 + plen;
	p->l3_off = l3;
	off = l3 + 40;

	/* each extension header is read where it is (in place or copied
	 * out of a fragment), however far the previous one pushed it */
	for (int i = 0; i < SEGD_IPV6_MAX_EXT; i++) {
		const __u8 *h;

		if (!ipv6_is_ext(nh))
			break;
		if (off + 8 > p->ip_end)
			return parse_drop(p, SEGD_REASON_MALFORMED_L3);
		h = hdr_at(b, off, 8, tmp);
		if (!h)
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

/* What the wire carries for this packet: a GSO packet leaves as segs
 * packets, each with its own copy of the IP and L4 headers. */
static __always_inline void pkt_set_wire(struct segd_pkt *p, __u32 segs)
{
	__u32 hdr = 0;

	p->segs = segs;
	p->wire_len = p->ip_len;
	if (segs <= 1)
		return;
	if (p->proto == IPPROTO_TCP_ && p->pl_off)
		hdr = p->pl_off - p->l3_off;
	else if (p->proto == IPPROTO_UDP_ && p->has_ports)
		hdr = p->l4_off + 8 - p->l3_off;
	p->wire_len += (segs - 1) * hdr;
}

/* Frame bytes on the wire (reason counters count frames, L2 included). */
static __always_inline __u32 pkt_wire_frame(const struct segd_pkt *p,
					    __u32 frame_len)
{
	if (p->segs <= 1 || p->wire_len <= p->ip_len)
		return frame_len;  /* not GSO, or not parsed far enough */
	return frame_len + (p->wire_len - p->ip_len) +
	       (p->segs - 1) * p->l3_off;
}

static __always_inline int parse_packet(const struct segd_buf *b,
					struct segd_pkt *p)
{
	struct segd_hdr_tmp tmp;
	const __u8 *eth;
	__u32 off = ETH_HLEN_;
	__u16 proto;
	int rc;

	p->segs = b->segs;
	eth = hdr_at(b, 0, ETH_HLEN_, &tmp);
	if (!eth)
		return parse_drop(p, SEGD_REASON_MALFORMED_L2);
	proto = (eth[12] << 8) | eth[13];

	for (int i = 0; i < SEGD_MAX_VLAN; i++) {
		const __u8 *tag;

		if (proto != ETH_P_8021Q_ && proto != ETH_P_8021AD_)
			break;
		tag = hdr_at(b, off, 4, &tmp);
		if (!tag)
			return parse_drop(p, SEGD_REASON_MALFORMED_L2);
		proto = (tag[2] << 8) | tag[3];
		off += 4;
	}

	switch (proto) {
	case ETH_P_ARP_:
		return PARSE_PASS;
	case ETH_P_IP_:
		rc = parse_ipv4(b, off, p, &tmp);
		break;
	case ETH_P_IPV6_:
		rc = parse_ipv6(b, off, p, &tmp);
		break;
	default:
		return parse_drop(p, SEGD_REASON_UNSUPPORTED_L3);
	}
	if (rc == PARSE_OK && p->frag != SEGD_FRAG_LATER)
		rc = parse_l4(b, p, &tmp);
	if (rc == PARSE_OK)
		pkt_set_wire(p, b->segs);
	return rc;
}

#endif /* SEGD_BPF_PARSE_H */
