/* test_datapath_shapes.c - packets shaped the way real stacks hand them
 * over, not the way a short probe looks:
 *
 *  - XDP multi-buffer frames (the uplink program is xdp.frags): jumbo
 *    frames, and frames whose first buffer ends inside a header, so the
 *    header must be read from a fragment;
 *  - IP total lengths far beyond what is in the first buffer (checked
 *    against the whole packet, not the linear part);
 *  - IPv6 extension headers reaching past what the old parser pulled;
 *  - tc GSO packets, one policy decision that counts as the segments it
 *    carries.
 *
 * tc's BPF_PROG_TEST_RUN always builds a linear skb on this kernel (a
 * ctx data_end is refused), so the non-linear tc case is covered end to
 * end (tests/e2e/test_traffic.sh) with real traffic.
 */
#include "dp_harness.h"

#define ICMP6 IPPROTO_ICMPV6

/* an established A4:41000 -> R4:80 flow (rule 1) for the rows below */
#define ESTABLISH_A_TO_R                                                     \
	{ "syn", FROM, { .src = A4, .dst = R4, .proto = TCP, .sport = 41000, \
	  .dport = 80, .tcp_flags = SYN }, TC_ACT_OK, FWD },                 \
	{ "syn-ack", TO, { .src = R4, .dst = A4, .proto = TCP, .sport = 80,  \
	  .dport = 41000, .tcp_flags = SYNACK }, TC_ACT_OK, FWD }

Test(datapath, xdp_multi_buffer_frames)
{
	static const struct row rows[] = {
	ESTABLISH_A_TO_R,
	/* a 9000-byte jumbo reply, first buffer 1500 bytes */
	{ "jumbo reply of a tracked flow passes", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 41000,
	    .tcp_flags = ACK, .payload = 8946, .linear = 1500 },
	  XDP_PASS, NOR },
	{ "jumbo new flow, denied, dropped early", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 23,
	    .tcp_flags = SYN, .payload = 8946, .linear = 1500 },
	  XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	/* the first buffer ends inside a header: ports and lengths are
	 * read from the fragment; allowed (22) vs denied (23) needs them */
	{ "only Ethernet linear: allowed ssh from R", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22,
	    .tcp_flags = SYN, .payload = 2000, .linear = 14 },
	  XDP_PASS, NOR },
	{ "only Ethernet linear: telnet from R denied", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 23,
	    .tcp_flags = SYN, .payload = 2000, .linear = 14 },
	  XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	{ "IPv4 header split: allowed ssh", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22,
	    .tcp_flags = SYN, .payload = 2000, .linear = 25 },
	  XDP_PASS, NOR },
	{ "TCP header split: allowed ssh", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22,
	    .tcp_flags = SYN, .payload = 2000, .linear = 36 },
	  XDP_PASS, NOR },
	{ "TCP header split: telnet denied", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 23,
	    .tcp_flags = SYN, .payload = 2000, .linear = 36 },
	  XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	{ "VLAN tag split", XDP,
	  { .src = R4, .dst = A4, .vlans = 1, .proto = TCP, .sport = 5555,
	    .dport = 23, .tcp_flags = SYN, .payload = 100, .linear = 16 },
	  XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	/* IPv6 with extension headers, all of them in the fragment: the
	 * protocol behind them decides (ICMPv6 allowed in, TCP not) */
	{ "v6 ext headers in the fragment: ICMPv6 echo allowed", XDP,
	  { .src = R6, .dst = A6, .proto = ICMP6, .icmp_type = 128,
	    .icmp_id = 7, .v6_ext = 4, .v6_ext_len = 64, .payload = 3000,
	    .linear = 60 }, XDP_PASS, NOR },
	{ "v6 ext headers in the fragment: TCP denied", XDP,
	  { .src = R6, .dst = A6, .proto = TCP, .sport = 5555, .dport = 443,
	    .tcp_flags = SYN, .v6_ext = 4, .v6_ext_len = 64, .payload = 3000,
	    .linear = 60 }, XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	/* lengths: against the whole frame, both ways */
	{ "IP total length beyond the whole frame", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22,
	    .tcp_flags = SYN, .payload = 3000, .tot_len = 5000,
	    .linear = 1500 }, XDP_DROP, SEGD_REASON_MALFORMED_L3 },
	{ "frame cut inside the TCP header (fragment)", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22,
	    .tcp_flags = SYN, .l4_len = 10, .truncate = 44, .linear = 20 },
	  XDP_DROP, SEGD_REASON_MALFORMED_L4 },
	};

	apply_world(0);
	RUN("xdp multi-buffer", rows);
}

Test(datapath, lengths_against_the_packet)
{
	static const struct row rows[] = {
	ESTABLISH_A_TO_R,
	/* what the 256-byte pull broke: payload longer than any pull */
	{ "3000-byte segment of an allowed flow", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 41000, .dport = 80,
	    .tcp_flags = ACK, .payload = 3000 }, TC_ACT_OK, FWD },
	{ "3000-byte reply", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 41000,
	    .tcp_flags = ACK, .payload = 3000 }, TC_ACT_OK, FWD },
	{ "Ethernet padding after the datagram is fine", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 41000, .dport = 80,
	    .tcp_flags = ACK, .payload = 60, .tot_len = 40 },
	  TC_ACT_OK, FWD },
	{ "IP total length beyond the packet", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 41000, .dport = 80,
	    .tcp_flags = ACK, .payload = 100, .tot_len = 3000 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L3 },
	{ "IPv6 payload length beyond the packet", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 41000, .dport = 443,
	    .tcp_flags = SYN, .payload = 100, .tot_len = 3000 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L3 },
	/* 6 x 64 bytes of extension headers: L4 at offset 438, well past
	 * the 256 bytes the old parser pulled */
	{ "v6 six 64-byte ext headers, allowed 443", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 41001, .dport = 443,
	    .tcp_flags = SYN, .v6_ext = 6, .v6_ext_len = 64 },
	  TC_ACT_OK, FWD },
	{ "v6 six 64-byte ext headers, denied 444", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 41001, .dport = 444,
	    .tcp_flags = SYN, .v6_ext = 6, .v6_ext_len = 64 },
	  TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "v6 ext header longer than the packet", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 41001, .dport = 443,
	    .tcp_flags = SYN, .v6_ext = 1, .v6_ext_len = 256,
	    .truncate = 14 + 40 + 100 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L3 },
	};

	apply_world(0);
	RUN("lengths", rows);
}

/* A GSO packet is one decision; every counter counts the segments and
 * the bytes a capture on the wire would show (headers once per segment). */
Test(datapath, gso_counts_segments)
{
	const struct pkt_spec syn = { .src = A4, .dst = R4, .proto = TCP,
		.sport = 41000, .dport = 80, .tcp_flags = SYN };
	/* 4 segments of 700 bytes, handed over as one 2800-byte packet */
	const struct pkt_spec gso = { .src = A4, .dst = R4, .proto = TCP,
		.sport = 41000, .dport = 80, .tcp_flags = ACK,
		.payload = 2800, .gso_segs = 4 };
	const struct pkt_spec denied = { .src = A4, .dst = R4, .proto = TCP,
		.sport = 41001, .dport = 81, .tcp_flags = ACK,
		.payload = 2800, .gso_segs = 4 };
	const struct row rows[] = {
		{ "syn", FROM, syn, TC_ACT_OK, FWD },
		{ "GSO data: 4 segments", FROM, gso, TC_ACT_OK, FWD },
		{ "GSO new flow denied: 4 segments dropped", FROM, denied,
		  TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	};
	uint64_t syn_len = (uint64_t)pkt_ip_len(&syn);
	uint64_t gso_len = (uint64_t)pkt_ip_len(&gso);
	uint64_t wire = gso_len + 3 * 40;   /* IP + TCP headers per segment */
	struct segd_counter reasons[SEGD_REASON_MAX];
	struct segd_ct_value v;

	apply_world(0);
	RUN("gso", rows);
	cr_assert_eq(ct_get(A4, R4, 41000, 80, TCP, &v), 0);
	cr_expect_eq(v.packets[SEGD_CT_ORIG], 1 + 4, "orig packets %llu",
		     (unsigned long long)v.packets[SEGD_CT_ORIG]);
	cr_expect_eq(v.bytes[SEGD_CT_ORIG], syn_len + wire,
		     "orig bytes %llu, want %llu",
		     (unsigned long long)v.bytes[SEGD_CT_ORIG],
		     (unsigned long long)(syn_len + wire));
	cr_assert_eq(seg_dp_reason_counters(dp, reasons), 0);
	cr_expect_eq(reasons[FWD].packets, 5);
	cr_expect_eq(reasons[FWD].bytes, 14 + syn_len + 4 * 14 + wire,
		     "forwarded bytes %llu",
		     (unsigned long long)reasons[FWD].bytes);
	cr_expect_eq(reasons[SEGD_REASON_DEFAULT_DENIED].packets, 4);
}
