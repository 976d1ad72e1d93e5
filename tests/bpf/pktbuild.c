/* pktbuild.c - see pktbuild.h. Checksums are left zero: no hook checks. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "pktbuild.h"

static int pb_build_ip(const struct pkt_spec *s, uint8_t *p, size_t cap);

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static int is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* L4 header + payload; returns bytes written. */
static int build_l4(const struct pkt_spec *s, uint8_t *p, size_t cap)
{
	int hl, n, pl = s->data ? (int)strlen(s->data) : s->payload;

	if (s->frag == PB_FRAG_LATER) {
		n = s->payload ? s->payload : 8;
		if ((size_t)n > cap)
			return -1;
		memset(p, 0xab, n);
		return n;
	}
	switch (s->proto) {
	case IPPROTO_TCP:
		hl = 20;
		break;
	case IPPROTO_UDP:
		hl = 8;
		break;
	case IPPROTO_SCTP:
		hl = s->sctp_chunk ? 12 + 20 : 12;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hl = 8;
		break;
	default:
		hl = 0;
		break;
	}
	if ((size_t)(hl + pl) > cap)
		return -1;
	memset(p, 0, hl);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP ||
	    s->proto == IPPROTO_SCTP) {
		put16(p, s->sport);
		put16(p + 2, s->dport);
	}
	if (s->proto == IPPROTO_TCP) {
		p[12] = (uint8_t)((s->tcp_doff ? s->tcp_doff : 5) << 4);
		p[13] = s->tcp_flags;
	}
	if (s->proto == IPPROTO_UDP)
		put16(p + 4, (uint16_t)(8 + pl));
	if (s->proto == IPPROTO_SCTP && s->sctp_chunk) {
		/* INIT (1) or INIT ACK (2): length 20, initiate tag, a_rwnd,
		 * 10 streams each way, initial TSN 1; an INIT goes with
		 * verification tag 0, the answer with the INIT's tag */
		static const uint8_t init[20] = { 1, 0, 0, 20, 0x5e, 0x6d, 0x00,
						  0x01, 0, 1, 0, 0, 0, 10, 0,
						  10, 0, 0, 0, 1 };

		memcpy(p + 12, init, sizeof(init));
		p[12] = (uint8_t)s->sctp_chunk;
		if (s->sctp_chunk != 1)
			memcpy(p + 4, init + 4, 4);
	}
	if (is_icmp(s->proto)) {
		p[0] = s->icmp_type;
		p[1] = s->icmp_code;
		put16(p + 4, s->icmp_id);
	}
	n = hl;
	if (s->inner) {
		/* quoted datagram: IP header + first 8 bytes of L4 */
		uint8_t q[512];
		int ql = 0, il;
		struct in6_addr tmp;

		il = inet_pton(AF_INET, s->inner->src, &tmp) == 1 ? 20 : 40;
		ql = pb_build_ip(s->inner, q, sizeof(q));
		if (ql < 0)
			return -1;
		if (ql > il + 8)
			ql = il + 8;
		if ((size_t)(n + ql) > cap)
			return -1;
		memcpy(p + n, q, ql);
		n += ql;
		return n;
	}
	if (s->data)
		memcpy(p + n, s->data, pl);
	else
		memset(p + n, 0x5a, pl);
	return n + pl;
}

static int pb_build_ip(const struct pkt_spec *s, uint8_t *p, size_t cap)
{
	struct in_addr a4, b4;
	struct in6_addr a6, b6;
	int l4, hl;

	if (inet_pton(AF_INET, s->src, &a4) == 1) {
		if (inet_pton(AF_INET, s->dst, &b4) != 1 || cap < 60)
			return -1;
		hl = 20;
		memset(p, 0, hl);
		p[0] = (uint8_t)(0x40 | (s->ihl ? s->ihl : 5));
		put16(p + 4, (uint16_t)s->frag_id);
		if (s->frag == PB_FRAG_FIRST)
			put16(p + 6, 0x2000);
		else if (s->frag == PB_FRAG_LATER)
			put16(p + 6, 185);   /* offset 1480 */
		p[8] = 64;
		p[9] = s->proto;
		memcpy(p + 12, &a4, 4);
		memcpy(p + 16, &b4, 4);
		l4 = build_l4(s, p + hl, cap - hl);
		if (l4 < 0)
			return -1;
		if (s->l4_len)
			l4 = s->l4_len;
		put16(p + 2, (uint16_t)(s->tot_len ? s->tot_len : hl + l4));
		return hl + l4;
	}
	if (inet_pton(AF_INET6, s->src, &a6) != 1 ||
	    inet_pton(AF_INET6, s->dst, &b6) != 1 || cap < 40)
		return -1;
	memset(p, 0, 40);
	p[0] = 0x60;
	p[7] = 64;
	memcpy(p + 8, &a6, 16);
	memcpy(p + 24, &b6, 16);
	{
		uint8_t *nh = p + 6;
		size_t off = 40;

		int el = s->v6_ext_len ? s->v6_ext_len : 8;

		if (el % 8 || el > 2048)
			return -1;
		for (int i = 0; i < s->v6_ext; i++) {
			if (off + el > cap)
				return -1;
			*nh = 60; /* dest-opts: el bytes, one PadN option */
			memset(p + off, 0, el);
			p[off + 1] = (uint8_t)(el / 8 - 1);
			p[off + 2] = 1;
			p[off + 3] = (uint8_t)(el - 4);
			nh = p + off;
			off += el;
		}
		if (s->frag != PB_FRAG_NONE) {
			if (off + 8 > cap)
				return -1;
			*nh = 44;
			memset(p + off, 0, 8);
			if (s->frag == PB_FRAG_FIRST)
				put16(p + off + 2, 0x0001);
			else
				put16(p + off + 2, 1448 & 0xfff8);
			p[off + 4] = (uint8_t)(s->frag_id >> 24);
			p[off + 5] = (uint8_t)(s->frag_id >> 16);
			p[off + 6] = (uint8_t)(s->frag_id >> 8);
			p[off + 7] = (uint8_t)s->frag_id;
			nh = p + off;
			off += 8;
		}
		*nh = s->proto;
		l4 = build_l4(s, p + off, cap - off);
		if (l4 < 0)
			return -1;
		if (s->l4_len)
			l4 = s->l4_len;
		put16(p + 4, (uint16_t)(s->tot_len ? s->tot_len :
				       (int)(off - 40) + l4));
		return (int)off + l4;
	}
}

int pkt_ip_len(const struct pkt_spec *s)
{
	static uint8_t tmp[PKT_MAX];

	return pb_build_ip(s, tmp, sizeof(tmp));
}

int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
	struct in_addr tmp;
	size_t off = 12;
	uint16_t et;
	int n;

	if (cap < 64)
		return -1;
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (int i = 0; i < s->vlans; i++) {
		put16(buf + off, i == 0 && s->vlans > 1 ? 0x88a8 : 0x8100);
		put16(buf + off + 2, (uint16_t)(100 + i));
		off += 4;
	}
	et = s->ethertype;
	if (!et)
		et = s->src && inet_pton(AF_INET, s->src, &tmp) == 1 ? 0x0800 :
								      0x86dd;
	put16(buf + off, et);
	off += 2;
	if (et == 0x0800 || et == 0x86dd) {
		n = pb_build_ip(s, buf + off, cap - off);
		if (n < 0)
			return -1;
	} else {
		n = 46; /* ARP or anything else: opaque body */
		memset(buf + off, 0x11, n);
	}
	n += (int)off;
	if (s->truncate && s->truncate < n)
		n = s->truncate;
	return n;
}

void pkt_hexdump(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < len && o + 8 < cap; i++) {
		o += (size_t)snprintf(out + o, cap - o, "%s%02x",
				      i % 16 == 0 ? (i ? "\n    " : "    ") :
				      (i % 8 == 0 ? "  " : " "), buf[i]);
	}
}
