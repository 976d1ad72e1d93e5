/* pktbuild.h - craft test packets (Ethernet .. L4) from a small spec. */
#ifndef SEGD_TEST_PKTBUILD_H
#define SEGD_TEST_PKTBUILD_H

#include <stddef.h>
#include <stdint.h>

enum { PB_FRAG_NONE, PB_FRAG_FIRST, PB_FRAG_LATER };

struct pkt_spec {
	const char *src, *dst;      /* IPv4 or IPv6 text; family follows */
	uint16_t ethertype;         /* 0: from the address family */
	int vlans;                  /* 0..3 802.1Q tags */
	uint8_t proto;              /* IPPROTO_* */
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	int sctp_chunk;             /* SCTP: 1 an INIT chunk after the common
				     * header, 2 its INIT ACK (0: none) */
	int payload;                /* L4 payload bytes (0x5a filler) */
	const char *data;           /* L4 payload text (overrides payload) */
	int frag;                   /* PB_FRAG_* */
	uint32_t frag_id;
	int v6_ext;                 /* extra IPv6 dest-opts headers */
	int v6_ext_len;             /* bytes each (multiple of 8; 0 = 8) */
	const struct pkt_spec *inner; /* ICMP error: the packet it quotes */
	/* malformation knobs */
	int ihl;                    /* IPv4 IHL override (0 = 5) */
	int tot_len;                /* IPv4 tot_len / IPv6 payload_len override */
	int tcp_doff;               /* override (0 = 5) */
	int truncate;               /* cut the frame to this many bytes */
	int l4_len;                 /* override L4 header bytes written */
	/* how the hook receives it (dp_run_shaped) */
	int linear;                 /* XDP: bytes in the first buffer, the
				     * rest in fragments (0 = all linear) */
	int gso_segs;               /* tc: a GSO packet of this many segments */
};

/* the largest frame the tests build (a jumbo frame and then some) */
#define PKT_MAX 9200

/* Build into buf (cap bytes). Returns frame length or -1. */
int pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);
/* The IP datagram length (what conntrack counts as bytes). */
int pkt_ip_len(const struct pkt_spec *s);
void pkt_hexdump(const uint8_t *buf, size_t len, char *out, size_t cap);

#endif
