/* test_datapath.c - the BPF programs on crafted packets (run as root).
 *
 * Table-driven: a scenario is a seeded state plus rows run in order (rows
 * may depend on conntrack state left by earlier rows). Each row: packet
 * spec, program, expected verdict, expected reason counter delta (exactly
 * that reason +1 packet, every other reason unchanged; NOR = no reason
 * counted at all). A failing row prints its name and the packet.
 * The "endpoint interface" is ifindex 1 (lo): test_run needs a real device.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "datapath.h"
#include "dp_state.h"
#include "pktbuild.h"

/* identities and addresses of the test world */
#define ID_A   256u        /* enforced both ways, ifindex 1 */
#define ID_B   257u        /* not enforced, ifindex 1 */
#define ID_C   258u        /* lives on ifindex 7 */
#define ID_R   0x01000001u /* 203.0.113.0/24 */
#define ID_R6  0x01000002u /* 2001:db8::/32 */
#define ID_S   0x01000003u /* 198.51.100.0/24 */
#define A4 "10.200.0.10"
#define B4 "10.200.0.11"
#define C4 "10.200.0.12"
#define A6 "fd00:200::10"
#define R4 "203.0.113.5"
#define R6 "2001:db8::1"
#define S4 "198.51.100.7"
#define EP_IF 1u

#define FROM SEG_PROG_TC_FROM_EP
#define TO   SEG_PROG_TC_TO_EP
#define XDP  SEG_PROG_XDP_UPLINK
#define NOR  (-1)          /* no reason counter may move */
#define FWD  SEGD_REASON_FORWARDED

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define SYN 0x02
#define ACK 0x10
#define SYNACK 0x12

#define EG SEGD_DIR_EGRESS
#define IN SEGD_DIR_INGRESS
#define ALLOW SEGD_VERDICT_ALLOW
#define DENY SEGD_VERDICT_DENY

struct row {
	const char *name;
	enum seg_prog prog;
	struct pkt_spec pkt;
	int verdict;
	int reason;
};

static struct seg_datapath *dp;

static void setup(void)
{
	int err = seg_dp_open(NULL, &dp);

	cr_assert_eq(err, 0, "seg_dp_open: %s", strerror(-err));
}

static void teardown(void)
{
	seg_dp_close(dp);
}

TestSuite(datapath, .init = setup, .fini = teardown);

/* The seeded world. variant 0: full policy; 1: rule 1 renumbered to 21;
 * 2: rule 1 (A egress TCP 80 to R) removed. */
static void world(struct seg_compiled *c, int variant)
{
	uint32_t fa = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
		      SEGD_EPF_ENFORCE_EGRESS | SEGD_EPF_HINT_BLOCK(EG) |
		      SEGD_EPF_HINT_ANYREM(EG);
	uint32_t fc = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
		      SEGD_EPF_ENFORCE_EGRESS;

	st_init(c);
	cr_assert_eq(st_exact(c, A4, ID_A, EP_IF, fa, 1), 0);
	cr_assert_eq(st_exact(c, A6, ID_A, EP_IF, fa, 1), 0);
	cr_assert_eq(st_exact(c, B4, ID_B, EP_IF, SEGD_EPF_LOCAL, 2), 0);
	cr_assert_eq(st_exact(c, C4, ID_C, 7, fc, 3), 0);
	cr_assert_eq(st_world(c), 0);
	cr_assert_eq(st_prefix(c, "203.0.113.0/24", ID_R), 0);
	cr_assert_eq(st_prefix(c, "2001:db8::/32", ID_R6), 0);
	cr_assert_eq(st_prefix(c, "198.51.100.0/24", ID_S), 0);

	if (variant != 2)
		st_rule(c, ID_A, ID_R, EG, TCP, SEGD_PORT_EXACT, 80, ALLOW,
			variant == 1 ? 21 : 1);
	st_rule(c, ID_A, SEGD_ID_ANY, EG, UDP, SEGD_PORT_EXACT, 53, ALLOW, 2);
	st_rule(c, ID_A, ID_R, EG, TCP, SEGD_PORT_EXACT, 8080, DENY, 3);
	st_rule(c, ID_A, ID_R, EG, TCP, SEGD_PORT_BLOCK, 0x1f00, ALLOW, 4);
	st_rule(c, ID_A, ID_R, IN, TCP, SEGD_PORT_EXACT, 22, ALLOW, 5);
	st_rule(c, ID_A, ID_R, IN, IPPROTO_ICMP, SEGD_PORT_ANY, 0, ALLOW, 6);
	st_rule(c, ID_A, ID_S, EG, SEGD_PROTO_ANY, SEGD_PORT_ANY, 0, ALLOW, 7);
	st_rule(c, ID_A, ID_R6, EG, TCP, SEGD_PORT_EXACT, 443, ALLOW, 8);
	st_rule(c, ID_A, ID_R6, IN, IPPROTO_ICMPV6, SEGD_PORT_ANY, 0, ALLOW, 9);
	st_rule(c, ID_A, ID_R, EG, IPPROTO_ICMP, SEGD_PORT_ANY, 0, ALLOW, 10);
	st_rule(c, ID_A, ID_R, EG, UDP, SEGD_PORT_EXACT, 5000, ALLOW, 11);
	st_rule(c, ID_A, ID_R6, EG, UDP, SEGD_PORT_EXACT, 5000, ALLOW, 12);
}

static void apply_world(int variant)
{
	struct seg_compiled c;
	int err;

	world(&c, variant);
	err = seg_dp_apply(dp, &c);
	st_free(&c);
	cr_assert_eq(err, 0, "seg_dp_apply: %s", strerror(-err));
}

static int run_prog(enum seg_prog prog, const uint8_t *pkt, int len,
		    uint32_t ifindex, uint32_t *retval)
{
	struct __sk_buff skb;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = (uint32_t)len, .repeat = 1);
	int err;

	if (prog != XDP) {
		memset(&skb, 0, sizeof(skb));
		skb.ifindex = ifindex;
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	}
	err = bpf_prog_test_run_opts(seg_dp_prog_fd(dp, prog), &o);
	*retval = o.retval;
	return err;
}

static const char *verdict_name(enum seg_prog prog, int v)
{
	if (prog == XDP)
		return v == XDP_PASS ? "XDP_PASS" : v == XDP_DROP ? "XDP_DROP" :
								      "XDP_?";
	return v == TC_ACT_OK ? "TC_ACT_OK" : v == TC_ACT_SHOT ? "TC_ACT_SHOT" :
								 "TC_?";
}

/* Run one row; returns 1 when it behaved as expected. */
static int run_row(const char *scenario, const struct row *r)
{
	struct segd_counter before[SEGD_REASON_MAX], after[SEGD_REASON_MAX];
	uint8_t pkt[2048];
	char dump[8192], why[256] = "";
	uint32_t retval = 0;
	int len, err, ok = 1;

	len = pkt_build(&r->pkt, pkt, sizeof(pkt));
	cr_assert_gt(len, 0, "[%s] %s: cannot build packet", scenario,
		     r->name);
	cr_assert_eq(seg_dp_reason_counters(dp, before), 0);
	err = run_prog(r->prog, pkt, len, EP_IF, &retval);
	cr_assert_eq(err, 0, "[%s] %s: test_run: %s", scenario, r->name,
		     strerror(-err));
	cr_assert_eq(seg_dp_reason_counters(dp, after), 0);

	if ((int)retval != r->verdict) {
		snprintf(why, sizeof(why), "verdict %s, want %s",
			 verdict_name(r->prog, (int)retval),
			 verdict_name(r->prog, r->verdict));
		ok = 0;
	}
	for (int k = 0; k < SEGD_REASON_MAX && ok; k++) {
		uint64_t d = after[k].packets - before[k].packets;
		uint64_t want = k == r->reason ? 1 : 0;

		if (d != want) {
			snprintf(why, sizeof(why),
				 "reason %d moved by %llu, want %llu "
				 "(expected reason %d)", k,
				 (unsigned long long)d,
				 (unsigned long long)want, r->reason);
			ok = 0;
		}
	}
	if (!ok) {
		pkt_hexdump(pkt, (size_t)len, dump, sizeof(dump));
		cr_log_error("[%s] row \"%s\": %s\n  packet (%d bytes):\n%s",
			     scenario, r->name, why, len, dump);
	}
	return ok;
}

static void run_rows(const char *scenario, const struct row *rows, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += !run_row(scenario, &rows[i]);
	cr_expect_eq(failed, 0, "[%s] %d of %zu rows failed (see above)",
		     scenario, failed, n);
}

#define RUN(name, rows) run_rows(name, rows, sizeof(rows) / sizeof(rows[0]))

static int ct_get(const char *local, const char *remote, uint16_t lport,
		  uint16_t rport, uint8_t proto, struct segd_ct_value *v)
{
	struct segd_ct_key k;

	memset(&k, 0, sizeof(k));
	st_addr(local, &k.local);
	st_addr(remote, &k.remote);
	k.lport = lport;
	k.rport = rport;
	k.proto = proto;
	return bpf_map_lookup_elem(seg_dp_map_fd(dp, SEGD_MAP_CT), &k, v);
}

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

Test(datapath, xdp_uplink)
{
	static const struct row rows[] = {
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
	    .tcp_flags = SYNACK }, XDP_PASS, NOR },
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
	struct segd_ct_value v;
	struct segd_rule_counter rc;

	apply_world(0);
	RUN("xdp", rows);
	/* XDP never creates CT nor counts allowed flows */
	cr_expect_neq(ct_get(A4, R4, 22, 5555, TCP, &v), 0,
		      "XDP created a CT entry");
	cr_assert_eq(seg_dp_rule_counter(dp, 5, &rc), 0);
	cr_expect_eq(rc.flows, 0, "XDP counted an allowed flow on rule 5");
	cr_assert_eq(seg_dp_rule_counter(dp, 0, &rc), 0);
	cr_expect_eq(rc.flows, 3, "default-deny rule 0 flows %llu, want 3",
		     (unsigned long long)rc.flows);
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

Test(datapath, policy_change_revokes_established)
{
	static const struct row open_rows[] = {
	{ "open tcp 80", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "reply", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = SYNACK }, TC_ACT_OK, FWD },
	{ "open udp 53 (stays allowed)", FROM,
	  { .src = A4, .dst = R4, .proto = UDP, .sport = 40000, .dport = 53 },
	  TC_ACT_OK, FWD },
	};
	static const struct row renumbered[] = {
	{ "reply after an apply that still allows: refreshed", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = ACK }, TC_ACT_OK, FWD },
	};
	static const struct row cut[] = {
	{ "established flow cut by the new policy", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = ACK }, TC_ACT_SHOT, SEGD_REASON_CT_REVOKED },
	{ "next packet: a new flow, denied", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 40000, .dport = 80,
	    .tcp_flags = ACK }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "reply side denied too", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 40000,
	    .tcp_flags = ACK }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "still-allowed flow survives (reply direction)", TO,
	  { .src = R4, .dst = A4, .proto = UDP, .sport = 53, .dport = 40000 },
	  TC_ACT_OK, FWD },
	};
	struct segd_ct_value v;

	apply_world(0);
	cr_expect_eq(seg_dp_generation(dp), 1);
	RUN("revoke/open", open_rows);
	cr_assert_eq(ct_get(A4, R4, 40000, 80, TCP, &v), 0);
	cr_expect_eq(v.policy_gen, 1);
	cr_expect_eq(v.rule_id, 1);
	cr_expect_eq(v.origin_dir, EG);

	apply_world(1);
	cr_expect_eq(seg_dp_generation(dp), 2);
	RUN("revoke/renumbered", renumbered);
	cr_assert_eq(ct_get(A4, R4, 40000, 80, TCP, &v), 0);
	cr_expect_eq(v.policy_gen, 2, "gen %u", v.policy_gen);
	cr_expect_eq(v.rule_id, 21, "rule %u", v.rule_id);

	apply_world(2);
	cr_expect_eq(seg_dp_generation(dp), 3);
	RUN("revoke/cut", cut);
	cr_expect_neq(ct_get(A4, R4, 40000, 80, TCP, &v), 0,
		      "revoked entry still present");
	cr_assert_eq(ct_get(A4, R4, 40000, 53, UDP, &v), 0);
	cr_expect_eq(v.policy_gen, 3);
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

/* ---- remote-specific probe hints (segd_lhints) --------------------------- */

#define ID_E   259u        /* remote endpoints (exact ipcache, not local) */
#define ID_E2  260u
#define ID_F   261u        /* local, endpoint id outside segd_lhints */
#define E4  "10.200.0.20"
#define E24 "10.200.0.21"
#define F4  "10.200.0.22"
#define F_EPID 70000u

/* A's remote-specific keys spread over every remote class (endpoint,
 * CIDR, world) and probe kind, so each skip decision is exercised: a probe
 * is skipped only when no key of its kind exists for the remote's bucket.
 * F has the same egress keys as A but no segd_lhints entry. */
static void world_lh(struct seg_compiled *c)
{
	uint32_t f = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
		     SEGD_EPF_ENFORCE_EGRESS | SEGD_EPF_HINT_BLOCK(EG) |
		     SEGD_EPF_HINT_ANYREM(EG);
	const uint32_t locals[2] = { ID_A, ID_F };

	st_init(c);
	cr_assert_eq(st_exact(c, A4, ID_A, EP_IF, f, 1), 0);
	cr_assert_eq(st_exact(c, A6, ID_A, EP_IF, f, 1), 0);
	cr_assert_eq(st_exact(c, F4, ID_F, EP_IF, f, F_EPID), 0);
	cr_assert_eq(st_exact(c, E4, ID_E, 0, 0, 0), 0);
	cr_assert_eq(st_exact(c, E24, ID_E2, 0, 0, 0), 0);
	cr_assert_eq(st_world(c), 0);
	cr_assert_eq(st_prefix(c, "203.0.113.0/24", ID_R), 0);
	cr_assert_eq(st_prefix(c, "198.51.100.0/24", ID_S), 0);
	for (int i = 0; i < 2; i++) {
		uint32_t l = locals[i], r = 100 * (i + 1);
		const uint8_t pany = SEGD_PROTO_ANY;

		st_rule(c, l, ID_E, EG, TCP, SEGD_PORT_EXACT, 8001, ALLOW,
			r + 1);
		st_rule(c, l, ID_E2, EG, TCP, SEGD_PORT_BLOCK, 0x2000, ALLOW,
			r + 2);
		st_rule(c, l, ID_R, EG, TCP, SEGD_PORT_EXACT, 443, ALLOW,
			r + 3);
		st_rule(c, l, SEGD_ID_WORLD, EG, TCP, SEGD_PORT_EXACT, 25,
			ALLOW, r + 4);
		st_rule(c, l, SEGD_ID_WORLD_V6, EG, pany, SEGD_PORT_ANY, 0,
			ALLOW, r + 5);
		st_rule(c, l, ID_S, EG, UDP, SEGD_PORT_ANY, 0, ALLOW, r + 6);
		st_rule(c, l, ID_E, EG, TCP, SEGD_PORT_EXACT, 8080, DENY,
			r + 7);
		st_rule(c, l, SEGD_ID_ANY, EG, UDP, SEGD_PORT_EXACT, 53,
			ALLOW, r + 8);
		st_rule(c, l, ID_E, IN, pany, SEGD_PORT_ANY, 0, ALLOW, r + 9);
	}
}

/* the segd_lhints entry of endpoint id epid in the active slot */
static int lhint_get(uint32_t epid, struct segd_lhint *out)
{
	uint32_t idx = (seg_dp_generation(dp) & 1) * SEGD_LHINT_EPS + epid;

	return bpf_map_lookup_elem(seg_dp_map_fd(dp, SEGD_MAP_LHINTS), &idx,
				   out);
}

static int lhint_set(uint32_t epid, const struct segd_lhint *v)
{
	uint32_t idx = (seg_dp_generation(dp) & 1) * SEGD_LHINT_EPS + epid;

	return bpf_map_update_elem(seg_dp_map_fd(dp, SEGD_MAP_LHINTS), &idx, v,
				   BPF_ANY);
}

/* SEGD_LH_PROBE bits of local identity id, computed independently */
static uint64_t want_lh(const struct seg_compiled *c, uint32_t id)
{
	uint64_t b = 0;

	for (size_t i = 0; i < c->n_entries; i++) {
		const struct segd_policy_key *k = &c->entries[i].key;
		int kind;

		if (k->local_id != id || k->dir > EG ||
		    k->remote_id == SEGD_ID_ANY)
			continue;
		kind = k->port_kind == SEGD_PORT_EXACT ? SEGD_PROBE_EXACT :
		       k->port_kind == SEGD_PORT_BLOCK ? SEGD_PROBE_BLOCK :
		       k->proto ? SEGD_PROBE_PROTO : SEGD_PROBE_ALLPROTO;
		b |= SEGD_LH_PROBE(k->dir, kind, segd_lh_bucket(k->remote_id));
	}
	return b;
}

Test(datapath, remote_probe_hints)
{
	/* every verdict here is what the full probe chain decides */
	static const struct row rows[] = {
	{ "endpoint remote, exact port allowed", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 1, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "endpoint remote, other port: default deny", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 1, .dport = 9,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "endpoint remote, explicit deny", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 1, .dport = 8080,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_POLICY_DENIED },
	{ "endpoint remote with a block key: block allowed", FROM,
	  { .src = A4, .dst = E24, .proto = TCP, .sport = 1, .dport = 0x2042,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "block port to the other endpoint: denied", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 2, .dport = 0x2042,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "CIDR remote, exact port allowed", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 1, .dport = 443,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "CIDR remote, block port: denied", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 1, .dport = 0x2042,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "CIDR remote, protocol key (udp any port) allowed", FROM,
	  { .src = A4, .dst = S4, .proto = UDP, .sport = 1, .dport = 7 },
	  TC_ACT_OK, FWD },
	{ "CIDR remote, tcp: denied", FROM,
	  { .src = A4, .dst = S4, .proto = TCP, .sport = 1, .dport = 7,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "world remote, exact port allowed", FROM,
	  { .src = A4, .dst = "192.0.2.1", .proto = TCP, .sport = 1,
	    .dport = 25, .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "world remote, other port: denied", FROM,
	  { .src = A4, .dst = "192.0.2.1", .proto = TCP, .sport = 1,
	    .dport = 443, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "world remote, udp 53 to any still allowed", FROM,
	  { .src = A4, .dst = "192.0.2.1", .proto = UDP, .sport = 1,
	    .dport = 53 }, TC_ACT_OK, FWD },
	{ "world-v6 remote, all-protocol key allowed", FROM,
	  { .src = A6, .dst = "2a00::1", .proto = TCP, .sport = 1,
	    .dport = 9, .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "ingress from the endpoint (all protocols) allowed", TO,
	  { .src = E4, .dst = A4, .proto = UDP, .sport = 1, .dport = 9 },
	  TC_ACT_OK, FWD },
	{ "ingress from the world denied", TO,
	  { .src = "192.0.2.1", .dst = A4, .proto = UDP, .sport = 1,
	    .dport = 9 }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	{ "XDP: ingress from the endpoint passes", XDP,
	  { .src = E4, .dst = A4, .proto = TCP, .sport = 3, .dport = 9,
	    .tcp_flags = SYN }, XDP_PASS, NOR },
	{ "XDP: ingress from a CIDR remote dropped", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 3, .dport = 9,
	    .tcp_flags = SYN }, XDP_DROP, SEGD_REASON_DEFAULT_DENIED },
	{ "no hints entry (endpoint id too big): exact allowed", FROM,
	  { .src = F4, .dst = E4, .proto = TCP, .sport = 1, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "no hints entry: block allowed", FROM,
	  { .src = F4, .dst = E24, .proto = TCP, .sport = 1, .dport = 0x2042,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	{ "no hints entry: world denied", FROM,
	  { .src = F4, .dst = "192.0.2.1", .proto = TCP, .sport = 1,
	    .dport = 443, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	};
	/* the hint really is what the datapath goes by, and only when valid
	 * and of the running generation (rows run after lhint_set) */
	static const struct row emptied[] = {
	{ "valid entry, no bits: the allowed exact port is not probed", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 10, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	};
	static const struct row ignored[] = {
	{ "entry of another generation is ignored", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 11, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};
	static const struct row invalid[] = {
	{ "entry without SEGD_LHF_VALID is ignored", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 12, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};
	static const struct row reapplied[] = {
	{ "after the next apply", FROM,
	  { .src = A4, .dst = E4, .proto = TCP, .sport = 13, .dport = 8001,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};
	struct segd_lhint h, forged;
	struct seg_compiled c;
	uint32_t gen;

	world_lh(&c);
	cr_assert_eq(seg_dp_apply(dp, &c), 0);
	gen = seg_dp_generation(dp);
	cr_assert_eq(lhint_get(1, &h), 0);
	cr_expect_eq(h.gen, gen, "lhint gen %u, want %u", h.gen, gen);
	cr_expect_eq(h.flags, SEGD_LHF_VALID);
	cr_expect_eq(h.probes, want_lh(&c, ID_A), "lhint probes %#llx, want "
		     "%#llx", (unsigned long long)h.probes,
		     (unsigned long long)want_lh(&c, ID_A));
	/* the world bucket holds A's world keys only */
	cr_expect_eq(h.probes & (SEGD_LH_PROBE(EG, SEGD_PROBE_EXACT, 0) |
				 SEGD_LH_PROBE(EG, SEGD_PROBE_ALLPROTO, 0)),
		     SEGD_LH_PROBE(EG, SEGD_PROBE_EXACT, 0) |
		     SEGD_LH_PROBE(EG, SEGD_PROBE_ALLPROTO, 0));
	RUN("lhints", rows);

	forged = (struct segd_lhint){ .gen = gen, .flags = SEGD_LHF_VALID };
	cr_assert_eq(lhint_set(1, &forged), 0);
	RUN("lhints/emptied", emptied);
	forged.gen = gen + 1;
	cr_assert_eq(lhint_set(1, &forged), 0);
	RUN("lhints/other generation", ignored);
	forged = (struct segd_lhint){ .gen = gen, .flags = 0 };
	cr_assert_eq(lhint_set(1, &forged), 0);
	RUN("lhints/invalid", invalid);

	cr_assert_eq(seg_dp_apply(dp, &c), 0);
	cr_assert_eq(lhint_get(1, &h), 0);
	cr_expect_eq(h.gen, gen + 1);
	cr_expect_eq(h.probes, want_lh(&c, ID_A));
	RUN("lhints/reapplied", reapplied);
	st_free(&c);
}

Test(datapath, map_usage_and_apply_limits)
{
	struct seg_dp_map_usage u[8];
	struct seg_compiled c;
	int n;

	apply_world(0);
	n = seg_dp_map_usage(dp, u, 8);
	cr_assert_eq(n, 8, "rows %d", n);
	for (int i = 0; i < n; i++) {
		if (!strcmp(u[i].name, SEGD_MAP_POLICY)) {
			cr_expect_eq(u[i].entries, 12);
			cr_expect_eq(u[i].capacity, SEGD_MAX_POLICY_ENTRIES);
		} else if (!strcmp(u[i].name, SEGD_MAP_IPC_EXACT)) {
			cr_expect_eq(u[i].entries, 4);
		} else if (!strcmp(u[i].name, SEGD_MAP_IPC_LPM)) {
			cr_expect_eq(u[i].entries, 5);
		} else if (!strcmp(u[i].name, SEGD_MAP_CT)) {
			cr_expect_eq(u[i].entries, 0);
			cr_expect_eq(u[i].capacity, SEGD_MAX_CT_ENTRIES);
		}
	}
	/* a rule id outside segd_rules is refused and changes nothing */
	world(&c, 0);
	c.entries[0].value.rule_id = SEGD_MAX_RULES;
	cr_expect_eq(seg_dp_apply(dp, &c), -EINVAL);
	st_free(&c);
	cr_expect_eq(seg_dp_generation(dp), 1);
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* The programs are pinned as <pin>/progs/<name> and are the very programs
 * seg_dp_prog_fd returns; ids[] gets their ids. */
static void expect_prog_pins(const char *pin, const char *step,
			     uint32_t ids[3])
{
	static const struct {
		enum seg_prog prog;
		const char *name;
	} progs[3] = {
		{ FROM, "from_endpoint" }, { TO, "to_endpoint" },
		{ XDP, "uplink" },
	};

	for (int i = 0; i < 3; i++) {
		uint32_t want = prog_id_of(seg_dp_prog_fd(dp, progs[i].prog));
		char path[256];
		int fd;

		snprintf(path, sizeof(path), "%s/%s/%s", pin, SEGD_PIN_PROGS_DIR,
			 progs[i].name);
		fd = bpf_obj_get(path);
		cr_assert_geq(fd, 0, "[%s] %s not pinned: %s", step, path,
			      strerror(errno));
		ids[i] = prog_id_of(fd);
		close(fd);
		cr_expect_neq(want, 0, "[%s] no id for %s", step,
			      progs[i].name);
		cr_expect_eq(ids[i], want, "[%s] %s is program %u, "
			     "seg_dp_prog_fd has %u", step, path, ids[i], want);
	}
}

/* A restarted segd adopts what is pinned: generation, policy and CT. Its
 * programs replace the previous process's program pins. */
Test(datapath, adopt_pinned_state)
{
	static const struct row before[] = {
	{ "open tcp 80 (first process)", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 42000, .dport = 80,
	    .tcp_flags = SYN }, TC_ACT_OK, FWD },
	};
	static const struct row after[] = {
	{ "established flow survives the restart", TO,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = 80, .dport = 42000,
	    .tcp_flags = SYNACK }, TC_ACT_OK, FWD },
	{ "policy survives the restart", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = 42001, .dport = 81,
	    .tcp_flags = SYN }, TC_ACT_SHOT, SEGD_REASON_DEFAULT_DENIED },
	};
	char root[] = "/tmp/segd-test-bpffs.XXXXXX", pin[64];
	uint32_t first[3], second[3];
	struct segd_ct_value v;

	cr_assert_not_null(mkdtemp(root));
	if (mount("bpf", root, "bpf", 0, NULL)) {
		rmdir(root);
		cr_skip_test("cannot mount a bpffs: %s", strerror(errno));
	}
	snprintf(pin, sizeof(pin), "%s/segd", root);
	seg_dp_close(dp);
	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	expect_prog_pins(pin, "adopt/first process", first);
	apply_world(0);
	RUN("adopt/before", before);
	seg_dp_close(dp);
	dp = NULL;

	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	/* the pins now name the new process's programs, not the old ones */
	expect_prog_pins(pin, "adopt/restarted", second);
	for (int i = 0; i < 3; i++)
		cr_expect_neq(second[i], first[i], "pin %d not replaced", i);
	cr_expect_eq(seg_dp_generation(dp), 1);
	RUN("adopt/after", after);
	cr_expect_eq(ct_get(A4, R4, 42000, 80, TCP, &v), 0);
	seg_dp_close(dp);
	dp = NULL;
	umount2(root, MNT_DETACH);
	rmdir(root);
	cr_assert_eq(seg_dp_open(NULL, &dp), 0); /* for teardown */
}

/* ---- apply sequences: the active slot holds exactly the compiled state --- */

/* The probe hints datapath_tables.c ORs into exact ipcache values, computed
 * here independently from the policy entries. */
static uint32_t want_hints(const struct seg_compiled *c, uint32_t id)
{
	uint32_t b = SEGD_EPF_PROBES_VALID | SEGD_EPF_ANYREM_PROTO_VALID;

	for (size_t i = 0; i < c->n_entries; i++) {
		const struct segd_policy_key *k = &c->entries[i].key;
		int anyrem = k->remote_id == SEGD_ID_ANY, kind;

		if (k->local_id != id || k->dir > EG)
			continue;
		kind = k->port_kind == SEGD_PORT_EXACT ? SEGD_PROBE_EXACT :
		       k->port_kind == SEGD_PORT_BLOCK ? SEGD_PROBE_BLOCK :
		       k->proto ? SEGD_PROBE_PROTO : SEGD_PROBE_ALLPROTO;
		b |= SEGD_EPF_PROBE(k->dir, anyrem, kind);
		if (!anyrem || kind == SEGD_PROBE_ALLPROTO)
			continue;
		if (k->proto == TCP)
			b |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_TCP);
		else if (k->proto == UDP)
			b |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_UDP);
		else
			b |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_OTHER);
	}
	return b;
}

/* every (key, value) of an inner map, by get_next_key + lookup */
static size_t dump_map(int fd, size_t ks, size_t vs, uint8_t **out)
{
	uint8_t *rec = NULL, key[64], next[64];
	size_t n = 0;
	int r;

	for (r = bpf_map_get_next_key(fd, NULL, next); !r;
	     r = bpf_map_get_next_key(fd, key, next)) {
		rec = realloc(rec, (n + 1) * (ks + vs));
		cr_assert_not_null(rec);
		memcpy(rec + n * (ks + vs), next, ks);
		cr_assert_eq(bpf_map_lookup_elem(fd, next,
						 rec + n * (ks + vs) + ks), 0);
		memcpy(key, next, ks);
		n++;
	}
	cr_assert_eq(errno, ENOENT, "dump: %s", strerror(errno));
	*out = rec;
	return n;
}

/* is (key, value) one of the n records? */
static int has_rec(const uint8_t *rec, size_t n, size_t ks, size_t vs,
		   const void *key, const void *val)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(rec + i * (ks + vs), key, ks))
			return !memcmp(rec + i * (ks + vs) + ks, val, vs);
	return 0;
}

/* Read the three inner maps of the active slot back and compare them with
 * c, entry by entry, in both directions (same count, every entry there). */
static void expect_active(const struct seg_compiled *c, const char *step)
{
	static const char *const outer[3] = {
		SEGD_MAP_POLICY, SEGD_MAP_IPC_EXACT, SEGD_MAP_IPC_LPM,
	};
	static const size_t ks[3] = { sizeof(struct segd_policy_key),
		sizeof(struct segd_addr), sizeof(struct segd_lpm_key) };
	static const size_t vs[3] = { sizeof(struct segd_policy_value),
		sizeof(struct segd_ipcache_value),
		sizeof(struct segd_ipcache_value) };
	const size_t want_n[3] = { c->n_entries, c->n_exact, c->n_prefixes };
	uint32_t slot = seg_dp_generation(dp) & 1;

	for (int t = 0; t < 3; t++) {
		uint32_t id = 0;
		uint8_t *rec;
		size_t n;
		int fd;

		cr_assert_eq(bpf_map_lookup_elem(seg_dp_map_fd(dp, outer[t]),
						 &slot, &id), 0);
		fd = bpf_map_get_fd_by_id(id);
		cr_assert_geq(fd, 0, "[%s] %s[%u]: no inner map", step,
			      outer[t], slot);
		n = dump_map(fd, ks[t], vs[t], &rec);
		close(fd);
		cr_expect_eq(n, want_n[t], "[%s] %s holds %zu entries, want %zu",
			     step, outer[t], n, want_n[t]);
		for (size_t i = 0; i < want_n[t]; i++) {
			const void *k, *v;
			struct segd_ipcache_value iv;

			if (t == 0) {
				k = &c->entries[i].key;
				v = &c->entries[i].value;
			} else if (t == 1) {
				iv = c->exact[i].value;
				iv.flags |= want_hints(c, iv.identity);
				k = &c->exact[i].addr;
				v = &iv;
			} else {
				k = &c->prefixes[i].key;
				v = &c->prefixes[i].value;
			}
			cr_expect(has_rec(rec, n, ks[t], vs[t], k, v),
				  "[%s] %s: entry %zu missing or different",
				  step, outer[t], i);
		}
		free(rec);
	}
}

#define D4 "10.200.0.13"   /* an endpoint that only some states have */

/* variant 0..2 as world(); 3: world(0) plus endpoint D (ipcache-only
 * change); 4: the ipcache of world(0) and no policy entries at all */
static void world2(struct seg_compiled *c, int variant)
{
	world(c, variant == 3 || variant == 4 ? 0 : variant);
	if (variant == 3)
		cr_assert_eq(st_exact(c, D4, ID_B, EP_IF, SEGD_EPF_LOCAL, 4), 0);
	if (variant == 4) {
		free(c->entries);
		c->entries = NULL;
		c->n_entries = 0;
	}
}

/* apply variant, check the maps, then what packets see */
static void step(int variant, const char *name, uint16_t sport)
{
	const struct row rows[] = {
	{ "tcp 80 to R (rule 1: variants 0, 1, 3)", FROM,
	  { .src = A4, .dst = R4, .proto = TCP, .sport = sport, .dport = 80,
	    .tcp_flags = SYN },
	  variant == 2 || variant == 4 ? TC_ACT_SHOT : TC_ACT_OK,
	  variant == 2 || variant == 4 ? SEGD_REASON_DEFAULT_DENIED : FWD },
	{ "udp 53 to any (rule 2: all but 4)", FROM,
	  { .src = A4, .dst = "8.8.8.8", .proto = UDP, .sport = sport,
	    .dport = 53 }, variant == 4 ? TC_ACT_SHOT : TC_ACT_OK,
	  variant == 4 ? SEGD_REASON_DEFAULT_DENIED : FWD },
	{ "tcp 53 to any: never (remote-ANY keys are udp)", FROM,
	  { .src = A4, .dst = "8.8.8.8", .proto = TCP, .sport = sport,
	    .dport = 53, .tcp_flags = SYN }, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "D sends (an endpoint in variant 3 only)", FROM,
	  { .src = D4, .dst = R4, .proto = TCP, .sport = sport, .dport = 9,
	    .tcp_flags = SYN }, variant == 3 ? TC_ACT_OK : TC_ACT_SHOT,
	  variant == 3 ? FWD : SEGD_REASON_SPOOFED },
	{ "XDP: ssh from R (rule 5: all but 4)", XDP,
	  { .src = R4, .dst = A4, .proto = TCP, .sport = sport, .dport = 22,
	    .tcp_flags = SYN }, variant == 4 ? XDP_DROP : XDP_PASS,
	  variant == 4 ? SEGD_REASON_DEFAULT_DENIED : NOR },
	};
	struct seg_compiled c;
	uint32_t gen = seg_dp_generation(dp);
	int err;

	world2(&c, variant);
	err = seg_dp_apply(dp, &c);
	cr_assert_eq(err, 0, "[%s] seg_dp_apply: %s", name, strerror(-err));
	cr_expect_eq(seg_dp_generation(dp), gen + 1, "[%s] generation", name);
	expect_active(&c, name);
	st_free(&c);
	RUN(name, rows);
}

Test(datapath, apply_sequence_in_place)
{
	struct seg_compiled bad;
	uint16_t sport = 30000;
	uint32_t gen;

	step(0, "first apply", sport++);
	step(0, "same state, other slot", sport++);
	step(2, "one-rule change (rule 1 removed)", sport++);
	step(0, "and back", sport++);
	step(2, "one-rule change again", sport++);
	step(3, "ipcache-only change (endpoint D added)", sport++);
	step(0, "ipcache back (D removed)", sport++);
	step(1, "rule renumbered", sport++);
	step(1, "no change", sport++);
	step(1, "no change again", sport++);
	step(4, "every policy entry removed", sport++);
	step(0, "every policy entry back", sport++);
	/* a refused apply changes nothing, and the next one still works */
	gen = seg_dp_generation(dp);
	world(&bad, 2);
	bad.entries[1].value.rule_id = SEGD_MAX_RULES;
	cr_expect_eq(seg_dp_apply(dp, &bad), -EINVAL);
	st_free(&bad);
	cr_expect_eq(seg_dp_generation(dp), gen);
	{
		struct seg_compiled c;

		world2(&c, 0);
		expect_active(&c, "after a refused apply");
		st_free(&c);
	}
	step(2, "after a refused apply: one-rule change", sport++);
	step(3, "two changes at once (rule 1 back, D added)", sport++);
	step(3, "no change", sport++);
}

/* A restarted segd knows nothing about what the slots hold: it adopts the
 * pinned maps, enforces them unchanged, and its applies stay exact. */
Test(datapath, apply_sequence_across_restart)
{
	char root[] = "/tmp/segd-test-bpffs.XXXXXX", pin[64];
	struct seg_compiled c;
	uint16_t sport = 31000;

	cr_assert_not_null(mkdtemp(root));
	if (mount("bpf", root, "bpf", 0, NULL)) {
		rmdir(root);
		cr_skip_test("cannot mount a bpffs: %s", strerror(errno));
	}
	snprintf(pin, sizeof(pin), "%s/segd", root);
	seg_dp_close(dp);
	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	step(0, "restart/first process: state 0", sport++);
	step(2, "restart/first process: one-rule change", sport++);
	step(3, "restart/first process: two changes", sport++);
	seg_dp_close(dp);
	dp = NULL;

	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	world2(&c, 3);
	expect_active(&c, "restart/adopted, before any apply");
	st_free(&c);
	step(3, "restart/same state re-applied", sport++);
	step(2, "restart/one-rule change", sport++);
	step(0, "restart/back to 0", sport++);
	step(2, "restart/one-rule change, in place", sport++);
	step(2, "restart/no change", sport++);
	seg_dp_close(dp);
	dp = NULL;

	/* and a restart right after an apply (grace period maybe pending) */
	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	step(0, "restart 2/state 0", sport++);
	seg_dp_close(dp);
	dp = NULL;
	cr_assert_eq(seg_dp_open(pin, &dp), 0);
	step(3, "restart 2/ipcache-only change", sport++);
	step(4, "restart 2/every policy entry removed", sport++);
	seg_dp_close(dp);
	dp = NULL;
	umount2(root, MNT_DETACH);
	rmdir(root);
	cr_assert_eq(seg_dp_open(NULL, &dp), 0); /* for teardown */
}
