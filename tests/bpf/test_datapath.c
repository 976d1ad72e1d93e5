/* test_datapath.c - the BPF programs on crafted packets (run as root).
 *
 * The packet verdict tables: policy, malformed packets, fragments, ICMP
 * errors, the XDP uplink program, the fail-closed start and the flow and
 * rule counters. The row format and the test world are in dp_harness.h;
 * apply sequences are in test_datapath_apply.c, probe hints in
 * test_datapath_hints.c.
 */
#include "dp_harness.h"
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* ------------------------------------------------------------------------ */

Test(datapath, policy_v4_v6_and_l2)
{
	static const struct row rows[] = {
	{ "v4 allowed new flow (tcp 80 to R)", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "v4 default denied (tcp 81)", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 81,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "explicit deny 8080 beats block allow 0x1f00", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40001, .dport = 8080,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_POLICY_DENIED },
	{ "block allow 8000", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40002, .dport = 8000,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "udp 53 to any remote (world)", FROM,
	  { .src = A4, .dst = "8.8.8.8", .proto = UDP, .sport = 5353,
	    .dport = 53 }, TC_ACT_OK, FWD },
	{ "reply of allowed flow passes", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = SYNACK }, TC_ACT_OK, FWD },
	{ "reverse-direction new flow denied", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "ingress ssh from R allowed", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "ingress ssh from world denied", TO,
	  { .src = "192.0.2.1", .dst = A4, .proto = TCP, .sport = 5555,
	    .dport = 22, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "v6 allowed new flow (tcp 443 to R6)", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 40000, .dport = 443,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "v6 default denied (tcp 444)", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 40000, .dport = 444,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "v6 reply passes", TO,
	  { .src = R6, .dst = A6, .proto = TCP, .sport = 443, .dport = 40000,
	    .tcp_flags = SYNACK }, TC_ACT_OK, FWD },
	{ "v6 reverse new flow denied", TO,
	  { .src = R6, .dst = A6, .proto = TCP, .sport = 40000, .dport = 443,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "v6 to world denied", FROM,
	  { .src = A6, .dst = "2a00::1", .proto = TCP, .sport = 1, .dport = 443,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "ARP passes (from)", FROM, { .ethertype = 0x0806 }, TC_ACT_OK, FWD },
	{ "ARP passes (to)", TO, { .ethertype = 0x0806 }, TC_ACT_OK, FWD },
	{ "unknown ethertype (LLDP) dropped", FROM, { .ethertype = 0x88cc },
	  TC_ACT_SHOT, SEGD_REASON_UNSUPPORTED_L3 },
	{ "unknown L4 (GRE) under proto-any rule", FROM,
	  { .src = A4, .dst = S4, .proto = 47, .payload = 16 }, TC_ACT_OK, FWD },
	{ "unknown L4 (GRE) under port rules only", FROM,
	  { .src = A4, .dst = R4, .proto = 47, .payload = 16 }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "spoofed source (unknown address)", FROM,
	  { .src = "10.200.0.99", .dst = R4, .proto = TCP, .sport = 1,
	    .dport = 80, .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_SPOOFED },
	{ "spoofed source (endpoint of another interface)", FROM,
	  { .src = C4, .dst = R4, .proto = TCP, .sport = 1, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_SPOOFED },
	{ "spoofed source (remote address)", FROM,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 1, .dport = 22,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_SPOOFED },
	{ "to a foreign address on the endpoint interface", TO,
	  { .src = R4, .dst = "10.200.0.99", .proto = TCP, .sport = 1,
	    .dport = 22, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_NOT_ENDPOINT },
	{ "not-enforced endpoint sends anything", FROM,
	  { .src = B4, .dst = R4, .proto = TCP, .sport = 1, .dport = 9999,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "not-enforced endpoint receives anything", TO,
	  { .src = "192.0.2.9", .dst = B4, .proto = UDP, .sport = 1,
	    .dport = 9999 }, TC_ACT_OK, FWD },
	{ "icmp echo request allowed", FROM,
	  { .src = A4, .dst = R4, .proto = IPPROTO_ICMP, .icmp_type = 8,
	    .icmp_id = 77 }, TC_ACT_OK, FWD },
	{ "icmp echo reply passes (CT)", TO,
	  { .src = R4, .dst = A4, .proto = IPPROTO_ICMP, .icmp_type = 0,
	    .icmp_id = 77 }, TC_ACT_OK, FWD },
	{ "icmp echo to world denied", FROM,
	  { .src = A4, .dst = "192.0.2.1", .proto = IPPROTO_ICMP,
	    .icmp_type = 8, .icmp_id = 78 }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "ICMPv6 NDP neighbour solicitation passes", FROM,
	  { .src = "fe80::1", .dst = "ff02::1:ff00:10",
	    .proto = IPPROTO_ICMPV6, .icmp_type = 135 }, TC_ACT_OK, FWD },
	{ "ICMPv6 MLDv2 report from link-local passes", FROM,
	  { .src = "fe80::1", .dst = "ff02::16",
	    .proto = IPPROTO_ICMPV6, .icmp_type = 143 }, TC_ACT_OK, FWD },
	{ "ICMPv6 echo from link-local is spoofed", FROM,
	  { .src = "fe80::1", .dst = R6, .proto = IPPROTO_ICMPV6,
	    .icmp_type = 128 }, TC_ACT_SHOT, SEGD_REASON_SPOOFED },
	{ "double VLAN tagged allowed flow", FROM,
	  { .vlans = 2, .src = A4, .dst = R4, .proto = TCP, .sport = 40100,
	    .dport = 80, .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "three VLAN tags: not parsed further", FROM,
	  { .vlans = 3, .src = A4, .dst = R4, .proto = TCP, .sport = 40100,
	    .dport = 80, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_UNSUPPORTED_L3 },
	{ "sctp ports (denied, no sctp rule)", FROM,
	  { .src = A4, .dst = R4, .proto = IPPROTO_SCTP, .sport = 1,
	    .dport = 80 }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	};

	apply_world(0);
	RUN("policy", rows);
}

Test(datapath, malformed)
{
	static const struct row rows[] = {
	{ "truncated VLAN tag", FROM,
	  { .vlans = 1, .src = A4, .dst = R4, .proto = TCP, .truncate = 15 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L2 },
	/* tc test_run itself refuses frames shorter than an IPv4 header
	 * (the XDP row below covers that); here the options are cut */
	{ "truncated IPv4 header (IHL 8, options cut)", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .ihl = 8, .truncate = 14 + 24 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L3 },
	{ "IHL < 5", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .dport = 80, .ihl = 4 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L3 },
	{ "tot_len > packet", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .dport = 80, .tot_len = 400 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L3 },
	{ "tot_len < IHL", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .dport = 80, .tot_len = 16 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L3 },
	{ "truncated TCP header", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .dport = 80,
	    .truncate = 14 + 20 + 10 }, TC_ACT_SHOT,
	  SEGD_REASON_MALFORMED_L3 /* tot_len now exceeds the frame */ },
	{ "TCP header beyond tot_len", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .dport = 80, .tot_len = 30 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L4 },
	{ "TCP doff < 5", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .dport = 80, .tcp_doff = 3 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L4 },
	{ "TCP doff past the datagram", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .dport = 80, .tcp_doff = 15 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L4 },
	{ "truncated UDP header", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .dport = 53, .l4_len = 4 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L4 },
	{ "truncated ICMP header", FROM,
	  { .src = A4, .dst = R4, .proto = IPPROTO_ICMP, .icmp_type = 8,
	    .l4_len = 4 }, TC_ACT_SHOT, SEGD_REASON_MALFORMED_L4 },
	{ "XDP: truncated IPv6 header", XDP,
	  { .src = R6, .dst = A6, .proto = TCP, .truncate = 14 + 30 },
	  XDP_DROP, SEGD_REASON_MALFORMED_L3 },
	{ "IPv6 payload_len > packet", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .dport = 443, .tot_len = 200 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L3 },
	{ "IPv6 payload_len cuts TCP", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .dport = 443, .tot_len = 10 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L4 },
	{ "IPv6 5 extension headers then allowed tcp 443", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 1, .dport = 443,
	    .v6_ext = 5, .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "IPv6 6 extension headers then tcp 443", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 2, .dport = 443,
	    .v6_ext = 6, .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "IPv6 7 extension headers", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 3, .dport = 443,
	    .v6_ext = 7 }, TC_ACT_SHOT, SEGD_REASON_IPV6_EXT_LIMIT },
	{ "IPv6 extension header past the datagram", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 3, .dport = 443,
	    .v6_ext = 2, .tot_len = 12 }, TC_ACT_SHOT,
	  SEGD_REASON_MALFORMED_L3 },
	{ "XDP: truncated IPv4 dropped", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .truncate = 14 + 12 },
	  XDP_DROP, SEGD_REASON_MALFORMED_L3 },
	{ "XDP: IHL < 5 dropped", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .ihl = 3 },
	  XDP_DROP, SEGD_REASON_MALFORMED_L3 },
	};

	apply_world(0);
	RUN("malformed", rows);
}

Test(datapath, fragments)
{
	static const struct row rows[] = {
	{ "v4 first fragment of allowed udp 5000", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .sport = 7000, .dport = 5000,
	    .frag = PB_FRAG_FIRST, .frag_id = 77, .payload = 64 },
	  TC_ACT_OK, FWD },
	{ "v4 later fragment uses the recorded ports", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .frag = PB_FRAG_LATER,
	    .frag_id = 77, .payload = 64 }, TC_ACT_OK, FWD },
	{ "v4 orphan later fragment", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .frag = PB_FRAG_LATER,
	    .frag_id = 78, .payload = 64 }, TC_ACT_SHOT,
	  SEGD_REASON_FRAG_UNTRACKED },
	{ "v4 first fragment of denied udp 5001", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .sport = 7000, .dport = 5001,
	    .frag = PB_FRAG_FIRST, .frag_id = 79, .payload = 64 },
	  TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "v4 later fragment of the denied port", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .frag = PB_FRAG_LATER,
	    .frag_id = 79, .payload = 64 }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "v4 first fragment too short for its L4 header", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .dport = 80,
	    .frag = PB_FRAG_FIRST, .frag_id = 80, .l4_len = 8 },
	  TC_ACT_SHOT, SEGD_REASON_MALFORMED_L4 },
	{ "v6 first fragment of allowed udp 5000", FROM,
	  { .src = A6, .dst = R6, .proto = UDP, .sport = 7000, .dport = 5000,
	    .frag = PB_FRAG_FIRST, .frag_id = 0x12345678, .payload = 64 },
	  TC_ACT_OK, FWD },
	{ "v6 later fragment uses the recorded ports", FROM,
	  { .src = A6, .dst = R6, .proto = UDP, .frag = PB_FRAG_LATER,
	    .frag_id = 0x12345678, .payload = 64 }, TC_ACT_OK, FWD },
	{ "v6 orphan later fragment", FROM,
	  { .src = A6, .dst = R6, .proto = UDP, .frag = PB_FRAG_LATER,
	    .frag_id = 0x9999, .payload = 64 }, TC_ACT_SHOT,
	  SEGD_REASON_FRAG_UNTRACKED },
	{ "v6 first fragment of denied udp 5001", FROM,
	  { .src = A6, .dst = R6, .proto = UDP, .sport = 7000, .dport = 5001,
	    .frag = PB_FRAG_FIRST, .frag_id = 0x4242, .payload = 64 },
	  TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "v6 later fragment of the denied port", FROM,
	  { .src = A6, .dst = R6, .proto = UDP, .frag = PB_FRAG_LATER,
	    .frag_id = 0x4242, .payload = 64 }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	};

	apply_world(0);
	RUN("fragments", rows);
}

Test(datapath, icmp_errors)
{
	static const struct pkt_spec q_udp = {
		.src = A4, .dst = R4, .proto = UDP, .sport = 40000, .dport = 53 };
	static const struct pkt_spec q_other = {
		.src = A4, .dst = R4, .proto = UDP, .sport = 40001, .dport = 53 };
	static const struct pkt_spec q_foreign = {
		.src = B4, .dst = R4, .proto = UDP, .sport = 40000, .dport = 53 };
	static const struct pkt_spec q_tcp6 = {
		.src = A6, .dst = R6, .proto = TCP, .sport = 40000, .dport = 443 };
	static const struct pkt_spec q_tcp6_other = {
		.src = A6, .dst = R6, .proto = TCP, .sport = 40009, .dport = 443 };
	static const struct pkt_spec q_in = {
		.src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22 };
	static const struct row rows[] = {
	{ "udp 53 flow", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .sport = 40000, .dport = 53 },
	  TC_ACT_OK, FWD },
	{ "port unreachable from a router, related", TO,
	  { .src = S4, .dst = A4, .proto = IPPROTO_ICMP, .icmp_type = 3,
	    .icmp_code = 3, .inner = &q_udp }, TC_ACT_OK, FWD },
	{ "port unreachable, unrelated flow", TO,
	  { .src = S4, .dst = A4, .proto = IPPROTO_ICMP, .icmp_type = 3,
	    .icmp_code = 3, .inner = &q_other }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "unreachable quoting another endpoint's flow", TO,
	  { .src = S4, .dst = A4, .proto = IPPROTO_ICMP, .icmp_type = 3,
	    .icmp_code = 3, .inner = &q_foreign }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "time exceeded, related", TO,
	  { .src = S4, .dst = A4, .proto = IPPROTO_ICMP, .icmp_type = 11,
	    .inner = &q_udp }, TC_ACT_OK, FWD },
	{ "v6 tcp 443 flow", FROM,
	  { .src = A6, .dst = R6, .proto = TCP, .sport = 40000, .dport = 443,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "v6 packet too big from a router, related", TO,
	  { .src = "fd00:300::1", .dst = A6, .proto = IPPROTO_ICMPV6,
	    .icmp_type = 2, .inner = &q_tcp6 }, TC_ACT_OK, FWD },
	{ "v6 packet too big, unrelated", TO,
	  { .src = "fd00:300::1", .dst = A6, .proto = IPPROTO_ICMPV6,
	    .icmp_type = 2, .inner = &q_tcp6_other }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "ssh from R (ingress flow)", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "endpoint sends unreachable about an ingress flow", FROM,
	  { .src = A4, .dst = "192.0.2.50", .proto = IPPROTO_ICMP,
	    .icmp_type = 3, .icmp_code = 1, .inner = &q_in }, TC_ACT_OK, FWD },
	{ "XDP: related error passes", XDP,
	  { .src = S4, .dst = A4, .proto = IPPROTO_ICMP, .icmp_type = 3,
	    .icmp_code = 3, .inner = &q_udp }, XDP_PASS, NOR },
	{ "XDP: unrelated error dropped early", XDP,
	  { .src = S4, .dst = A4, .proto = IPPROTO_ICMP, .icmp_type = 3,
	    .icmp_code = 3, .inner = &q_other }, XDP_DROP,
	  SEGD_REASON_DEFAULT_DENIED },
	};

	apply_world(0);
	RUN("icmp errors", rows);
}

/* The uplink's early drop, written for XDP; tc_uplink runs the same rows
 * through its tc ingress twin (uplink_hook: tc). */
/* an established packet at the uplink: not counted by XDP, counted as
 * forwarded by the tc uplink, which accounts it and hands it off */
#define CT_HIT (-2)

static const struct row uplink_rows[] = {
	{ "new allowed flow passes, untouched", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 22,
	    .tcp_flags = SYN }, XDP_PASS, NOR },
	{ "new denied flow dropped early", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 5555, .dport = 23,
	    .tcp_flags = SYN }, XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	{ "not a local endpoint: pass", XDP,
	  { .src = R4, .dst = "10.9.9.9", .proto = TCP, .sport = 1,
	    .dport = 23 }, XDP_PASS, NOR },
	{ "endpoint opens tcp 80", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "reply passes XDP (CT)", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = SYNACK }, XDP_PASS, CT_HIT },
	{ "same ports, no flow: dropped", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40002,
	    .tcp_flags = SYNACK }, XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	{ "v6 to endpoint denied", XDP,
	  { .src = R6, .dst = A6, .proto = TCP, .sport = 1, .dport = 22,
	    .tcp_flags = SYN }, XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	{ "v6 icmp from R6 allowed", XDP,
	  { .src = R6, .dst = A6, .proto = IPPROTO_ICMPV6, .icmp_type = 128,
	    .icmp_id = 5 }, XDP_PASS, NOR },
	{ "not-enforced endpoint: pass", XDP,
	  { .src = R4, .dst = B4, .proto = TCP, .sport = 1, .dport = 23 },
	  XDP_PASS, NOR },
	{ "ARP passes", XDP, { .ethertype = 0x0806 }, XDP_PASS, NOR },
	{ "LLDP belongs to the host", XDP, { .ethertype = 0x88cc }, XDP_PASS,
	  NOR },
};

/* /metrics reads every rule's counters in batches: the same numbers as
 * one read per rule id, over every id segd_rules has */
static void expect_batched_counters_equal_single_reads(void)
{
	uint32_t slots = seg_dp_rule_slots(dp);
	struct segd_rule_counter *all = calloc(slots, sizeof(*all)), one;
	uint64_t flows = 0;

	cr_assert_not_null(all);
	cr_assert_eq(seg_dp_rule_counters(dp, all), 0);
	for (uint32_t id = 0; id < slots; id++) {
		cr_assert_eq(seg_dp_rule_counter(dp, id, &one), 0);
		cr_expect(!memcmp(&one, &all[id], sizeof(one)), "rule %u differs", id);
		flows += all[id].flows;
	}
	cr_expect_gt(flows, 0, "no rule counted anything: the check proves nothing");
	free(all);
}

/* Run the uplink rows with the uplink program `prog`: its verdicts are
 * XDP's or tc's; the endpoint's rows stay as they are. */
static void run_uplink_rows(enum seg_prog prog)
{
	enum { N = sizeof(uplink_rows) / sizeof(uplink_rows[0]) };
	static struct row rows[N];
	struct segd_ct_value v;
	struct segd_rule_counter rc;

	for (int i = 0; i < N; i++) {
		rows[i] = uplink_rows[i];
		if (rows[i].prog != XDP)
			continue;
		rows[i].prog = prog;
		if (prog == SEG_PROG_TC_UPLINK)
			rows[i].verdict = rows[i].verdict == XDP_PASS ?
					  TC_ACT_OK : TC_ACT_SHOT;
		if (rows[i].reason == CT_HIT)
			rows[i].reason = prog == SEG_PROG_TC_UPLINK ? FWD : NOR;
	}
	apply_world(0);
	run_rows(prog == XDP ? "xdp" : "tc uplink", rows, N);
	/* the early drop never creates CT nor counts allowed flows */
	cr_expect_neq(ct_get(A4, R4, 22, 5555, TCP, &v), 0,
		      "the uplink created a CT entry");
	cr_assert_eq(seg_dp_rule_counter(dp, 5, &rc), 0);
	cr_expect_eq(rc.flows, 0, "the uplink counted an allowed flow on rule 5");
	cr_assert_eq(seg_dp_rule_counter(dp, 0, &rc), 0);
	cr_expect_eq(rc.flows, 3, "default-deny rule 0 flows %llu, want 3",
		     (unsigned long long)rc.flows);
	expect_batched_counters_equal_single_reads();
}

Test(datapath, xdp_uplink)
{
	run_uplink_rows(XDP);
}

Test(datapath, tc_uplink)
{
	run_uplink_rows(SEG_PROG_TC_UPLINK);
}

/* the armed tags of segd_handoff, one per CPU; *armed: how many CPUs,
 * *new_flows: how many of them hand on a new flow's decision, the last
 * of which lands in *flow */
static void handoff_slots(unsigned int *armed, unsigned int *new_flows,
			  struct segd_handoff_flow *flow)
{
	int ncpu = libbpf_num_possible_cpus(), fd = seg_dp_map_fd(dp, SEGD_MAP_HANDOFF);
	int ffd = seg_dp_map_fd(dp, SEGD_MAP_HANDOFF_FLOW);
	struct segd_handoff h[ncpu > 0 ? ncpu : 1];
	struct segd_handoff_flow f[ncpu > 0 ? ncpu : 1];
	uint32_t zero = 0;

	cr_assert_geq(fd, 0, "no %s map", SEGD_MAP_HANDOFF);
	cr_assert_geq(ffd, 0, "no %s map", SEGD_MAP_HANDOFF_FLOW);
	cr_assert_eq(bpf_map_lookup_elem(fd, &zero, h), 0);
	cr_assert_eq(bpf_map_lookup_elem(ffd, &zero, f), 0);
	*armed = *new_flows = 0;
	for (int c = 0; c < ncpu; c++) {
		*armed += h[c].tag != 0;
		if (h[c].tag & SEGD_HANDOFF_NEW) {
			++*new_flows;
			*flow = f[c];
		}
	}
}

/* The tc uplink accounts an established packet in its CT entry and arms
 * the handoff; XDP never does; an allowed new flow arms it with the
 * decision (rule, remote identity, generation, conntrack key); a denied one, an
 * audit entry's, or an entry of an older generation, is left to the
 * endpoint's hook with the slot disarmed. */
Test(datapath, tc_uplink_handoff)
{
	const struct pkt_spec syn = { .src = A4, .dst = R4, .proto = TCP,
		.sport = 40100, .dport = 80, .tcp_flags = SYN };
	const struct pkt_spec reply = { .src = R4, .dst = A4, .proto = TCP,
		.sport = 80, .dport = 40100, .tcp_flags = ACK, .payload = 200 };
	const struct pkt_spec fresh = { .src = R4, .dst = A4, .proto = TCP,
		.sport = 5600, .dport = 22, .tcp_flags = SYN };
	const struct row open[] = { { "open", FROM, syn, TC_ACT_OK, FWD } };
	const struct row xdp[] = { { "xdp: CT hit, untouched", XDP, reply,
				     XDP_PASS, NOR } };
	const struct row tc[] = { { "tc uplink: CT hit, handed off",
				    SEG_PROG_TC_UPLINK, reply, TC_ACT_OK, FWD } };
	const struct pkt_spec denied = { .src = "192.0.2.1", .dst = A4,
		.proto = TCP, .sport = 5600, .dport = 22, .tcp_flags = SYN };
	const struct row tc_new[] = { { "tc uplink: new flow, its decision handed on",
					SEG_PROG_TC_UPLINK, fresh, TC_ACT_OK, NOR } };
	const struct row tc_denied[] = { { "tc uplink: new flow denied, dropped here",
					   SEG_PROG_TC_UPLINK, denied, TC_ACT_SHOT,
					   SEGD_REASON_DEFAULT_DENIED } };
	const struct row tc_old[] = { { "tc uplink: older generation, left to the endpoint",
					SEG_PROG_TC_UPLINK, reply, TC_ACT_OK, NOR } };
	struct segd_handoff_flow flow = { 0 };
	struct segd_ct_value v;
	unsigned int armed, new_flows;

	/* the slots are per CPU: every run on one, or a run that moved to
	 * another CPU would leave the first one's slot armed */
	dp_pin_cpu0();
	apply_world(0);
	RUN("open", open);
	RUN("xdp", xdp);
	cr_assert_eq(ct_get(A4, R4, 40100, 80, TCP, &v), 0);
	cr_expect_eq(v.packets[SEGD_CT_REPLY], 0, "XDP accounted the reply");
	handoff_slots(&armed, &new_flows, &flow);
	cr_expect_eq(armed, 0, "XDP armed the handoff");

	RUN("tc", tc);
	cr_assert_eq(ct_get(A4, R4, 40100, 80, TCP, &v), 0);
	cr_expect_eq(v.packets[SEGD_CT_REPLY], 1, "reply packets %llu, want 1",
		     (unsigned long long)v.packets[SEGD_CT_REPLY]);
	cr_expect_eq(v.bytes[SEGD_CT_REPLY], (uint64_t)pkt_ip_len(&reply));
	cr_expect_eq(v.tcp_flags[SEGD_CT_REPLY], ACK);
	handoff_slots(&armed, &new_flows, &flow);
	cr_expect_eq(armed, 1, "CPUs armed %u, want 1", armed);
	cr_expect_eq(new_flows, 0, "an established packet handed on as a new flow");

	RUN("tc new", tc_new);
	handoff_slots(&armed, &new_flows, &flow);
	cr_expect_eq(armed, 1, "an allowed new flow left the slot disarmed");
	cr_expect_eq(new_flows, 1, "the new flow's slot does not say so");
	cr_expect(flow.key.lport == 22 && flow.key.rport == 5600 &&
		  flow.key.proto == TCP, "key %u/%u/%u", flow.key.lport,
		  flow.key.rport, flow.key.proto);
	cr_expect_neq(flow.rule_id, 0, "no rule handed on");
	cr_expect_eq(flow.remote_id, ID_R, "remote %u handed on, want %u",
		     flow.remote_id, ID_R);
	cr_expect_neq(ct_get(A4, R4, 22, 5600, TCP, &v), 0,
		     "the uplink created the new flow's entry");

	RUN("tc denied", tc_denied);
	handoff_slots(&armed, &new_flows, &flow);
	cr_expect_eq(armed, 0, "a dropped packet left the slot armed");

	RUN("tc new again", tc_new);
	apply_world(1);   /* a new generation: the entry is re-decided */
	RUN("tc old", tc_old);
	cr_assert_eq(ct_get(A4, R4, 40100, 80, TCP, &v), 0);
	cr_expect_eq(v.packets[SEGD_CT_REPLY], 1, "an old entry was accounted");
	handoff_slots(&armed, &new_flows, &flow);
	cr_expect_eq(armed, 0, "a packet not handed on left the slot armed");
}

Test(datapath, no_state_fails_closed)
{
	static const struct row rows[] = {
	{ "tc before any apply", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 1, .dport = 80 },
	  TC_ACT_SHOT, SEGD_REASON_NO_STATE },
	{ "xdp before any apply leaves it to tc", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 1, .dport = 22 },
	  XDP_PASS, NOR },
	{ "ARP still passes", FROM, { .ethertype = 0x0806 }, TC_ACT_OK, FWD },
	};

	cr_expect_eq(seg_dp_generation(dp), 0);
	RUN("no state", rows);
}

Test(datapath, flow_and_rule_counters)
{
	const struct pkt_spec syn = { .src = A4, .dst = R4, .proto = TCP,
		.sport = 41000, .dport = 80, .tcp_flags = SYN };
	const struct pkt_spec data = { .src = A4, .dst = R4, .proto = TCP,
		.sport = 41000, .dport = 80, .tcp_flags = ACK, .payload = 100 };
	const struct pkt_spec reply = { .src = R4, .dst = A4, .proto = TCP,
		.sport = 80, .dport = 41000, .tcp_flags = ACK, .payload = 1000 };
	const struct pkt_spec denied = { .src = A4, .dst = R4, .proto = TCP,
		.sport = 41000, .dport = 8080, .tcp_flags = SYN, .payload = 10 };
	const struct row rows[] = {
		{ "syn", FROM, syn, TC_ACT_OK, FWD },
		{ "data 1", FROM, data, TC_ACT_OK, FWD },
		{ "data 2", FROM, data, TC_ACT_OK, FWD },
		{ "data 3", FROM, data, TC_ACT_OK, FWD },
		{ "reply 1", TO, reply, TC_ACT_OK, FWD },
		{ "reply 2", TO, reply, TC_ACT_OK, FWD },
		{ "denied 1", FROM, denied, TC_ACT_SHOT,
		  SEGD_REASON_POLICY_DENIED },
		{ "denied 2", FROM, denied, TC_ACT_SHOT,
		  SEGD_REASON_POLICY_DENIED },
	};
	uint64_t syn_len = (uint64_t)pkt_ip_len(&syn);
	uint64_t data_len = (uint64_t)pkt_ip_len(&data);
	uint64_t reply_len = (uint64_t)pkt_ip_len(&reply);
	struct segd_counter reasons[SEGD_REASON_MAX];
	struct segd_rule_counter rc;
	struct segd_ct_value v;

	apply_world(0);
	RUN("counters", rows);
	cr_assert_eq(ct_get(A4, R4, 41000, 80, TCP, &v), 0);
	cr_expect_eq(v.packets[SEGD_CT_ORIG], 4);
	cr_expect_eq(v.packets[SEGD_CT_REPLY], 2);
	cr_expect_eq(v.bytes[SEGD_CT_ORIG], syn_len + 3 * data_len,
		     "orig bytes %llu", (unsigned long long)v.bytes[0]);
	cr_expect_eq(v.bytes[SEGD_CT_REPLY], 2 * reply_len,
		     "reply bytes %llu", (unsigned long long)v.bytes[1]);
	cr_expect_eq(v.tcp_flags[SEGD_CT_ORIG], SYN | ACK);
	cr_expect_eq(v.tcp_flags[SEGD_CT_REPLY], ACK);
	cr_expect_eq(v.rule_id, 1);
	cr_expect_eq(v.remote_id, ID_R);
	cr_expect_geq(v.last_seen_ns, v.created_ns);

	cr_assert_eq(seg_dp_rule_counter(dp, 1, &rc), 0);
	cr_expect_eq(rc.flows, 1);
	cr_expect_eq(rc.packets, 1);
	cr_expect_eq(rc.bytes, syn_len);
	cr_assert_eq(seg_dp_rule_counter(dp, 3, &rc), 0);
	cr_expect_eq(rc.flows, 2, "deny rule 3 flows %llu",
		     (unsigned long long)rc.flows);
	cr_expect_eq(rc.bytes, 2 * (uint64_t)pkt_ip_len(&denied));

	cr_assert_eq(seg_dp_reason_counters(dp, reasons), 0);
	cr_expect_eq(reasons[FWD].packets, 6);
	cr_expect_eq(reasons[SEGD_REASON_POLICY_DENIED].packets, 2);
	cr_expect_eq(reasons[FWD].bytes,
		     14 * 6 + syn_len + 3 * data_len + 2 * reply_len,
		     "forwarded bytes %llu",
		     (unsigned long long)reasons[FWD].bytes);
}
