/* test_ifc.c - segd_ifc (the local addresses of each endpoint interface,
 * what the tc hooks check anti-spoofing and not-endpoint against) and the
 * blocklist prefix gate (segd_bl_pfx16), on crafted packets (run as root).
 *
 * The entries must be exactly what the exact ipcache says, honoured only
 * when valid, of the running generation and of the packet's interface;
 * everything else falls back to the exact ipcache with the same verdicts.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "blocklist.h"
#include "dp_core.h"

#define ID_A   256u        /* enforced, ifindex 1 (two addresses) */
#define ID_B   257u        /* not enforced, ifindex 1 */
#define ID_C   258u        /* ifindex 7 */
#define ID_D   259u        /* ifindex 4097: the bucket of ifindex 1 */
#define ID_R   0x01000001u /* 203.0.113.0/24 */
#define A4 "10.200.0.10"
#define A6 "fd00:200::10"
#define B4 "10.200.0.11"
#define C4 "10.200.0.12"
#define D4 "10.200.0.13"
#define R4 "203.0.113.5"
#define EP_IF 1u

#define FROM SEG_PROG_TC_FROM_EP
#define TO   SEG_PROG_TC_TO_EP
#define XDP  SEG_PROG_XDP_UPLINK
#define FWD  SEGD_REASON_FORWARDED
#define SPF  SEGD_REASON_SPOOFED
#define NEP  SEGD_REASON_NOT_ENDPOINT
#define BLK  SEGD_REASON_BLOCKLISTED
#define NOR  (-1)
#define TCP  IPPROTO_TCP
#define EG   SEGD_DIR_EGRESS
#define IN   SEGD_DIR_INGRESS

struct row {
	const char *name;
	enum seg_prog prog;
	const char *src, *dst;
	uint16_t sport, dport;
	int verdict, reason;
};

TestSuite(ifc, .init = dp_suite_init, .fini = dp_suite_fini);

/* n_extra more addresses of B on ifindex 1 (more than SEGD_IFC_ADDRS in
 * all: no entry for the interface); with_c: C on ifindex 7 */
static void world(struct seg_compiled *c, int n_extra, int with_c)
{
	uint32_t fa = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
		      SEGD_EPF_ENFORCE_EGRESS;
	char a[32];

	st_init(c);
	cr_assert_eq(st_exact(c, A4, ID_A, EP_IF, fa, 1), 0);
	cr_assert_eq(st_exact(c, A6, ID_A, EP_IF, fa, 1), 0);
	cr_assert_eq(st_exact(c, B4, ID_B, EP_IF, SEGD_EPF_LOCAL, 2), 0);
	for (int i = 0; i < n_extra; i++) {
		snprintf(a, sizeof(a), "10.200.1.%d", i + 1);
		cr_assert_eq(st_exact(c, a, ID_B, EP_IF, SEGD_EPF_LOCAL, 2), 0);
	}
	if (with_c)
		cr_assert_eq(st_exact(c, C4, ID_C, 7, fa, 3), 0);
	cr_assert_eq(st_exact(c, D4, ID_D, 4097, fa, 4), 0);
	/* a remote endpoint (not local): never in an entry */
	cr_assert_eq(st_exact(c, "10.200.9.9", 300, 0, 0, 0), 0);
	cr_assert_eq(st_world(c), 0);
	cr_assert_eq(st_prefix(c, "203.0.113.0/24", ID_R), 0);
	st_rule(c, ID_A, ID_R, EG, TCP, SEGD_PORT_EXACT, 80, SEGD_VERDICT_ALLOW,
		1);
	st_rule(c, ID_A, SEGD_ID_WORLD, IN, TCP, SEGD_PORT_EXACT, 22,
		SEGD_VERDICT_ALLOW, 2);
}

static void apply(int n_extra, int with_c)
{
	struct seg_compiled c;

	world(&c, n_extra, with_c);
	dp_apply(&c);
}

static int ifc_fd(void)
{
	return seg_dp_map_fd(dp, SEGD_MAP_IFC);
}

static void ifc_get(uint32_t slot, uint32_t bucket, struct segd_ifc *e)
{
	uint32_t idx = slot * SEGD_IFC_BUCKETS + bucket;

	cr_assert_eq(bpf_map_lookup_elem(ifc_fd(), &idx, e), 0);
}

static void ifc_set(uint32_t slot, uint32_t bucket, const struct segd_ifc *e)
{
	uint32_t idx = slot * SEGD_IFC_BUCKETS + bucket;

	cr_assert_eq(bpf_map_update_elem(ifc_fd(), &idx, e, BPF_ANY), 0);
}

static int run_row(const char *scenario, const void *row)
{
	const struct row *r = row;
	struct segd_counter before[SEGD_REASON_MAX], after[SEGD_REASON_MAX];
	struct pkt_spec ps = { .src = r->src, .dst = r->dst, .proto = TCP,
			       .sport = r->sport, .dport = r->dport,
			       .tcp_flags = 0x02 };
	uint8_t pkt[256];
	uint32_t retval = 0;
	int len = pkt_build(&ps, pkt, sizeof(pkt)), ok = 1;

	cr_assert_gt(len, 0);
	cr_assert_eq(seg_dp_reason_counters(dp, before), 0);
	cr_assert_eq(dp_run_prog(r->prog, pkt, len, EP_IF, &retval), 0);
	cr_assert_eq(seg_dp_reason_counters(dp, after), 0);
	if ((int)retval != r->verdict)
		ok = 0;
	for (int k = 0; k < SEGD_REASON_MAX; k++)
		if (after[k].packets - before[k].packets !=
		    (uint64_t)(k == r->reason)) {
			if (k != r->reason)
				cr_log_error("[%s] %s: reason %d counted",
					     scenario, r->name, k);
			ok = 0;
		}
	if (!ok)
		cr_log_error("[%s] row \"%s\": verdict %u, want %d (reason %d)",
			     scenario, r->name, retval, r->verdict,
			     r->reason);
	return ok;
}

static void run_rows(const char *scenario, const struct row *rows, size_t n)
{
	int failed = dp_run_table(scenario, rows, n, sizeof(*rows), run_row);

	cr_expect_eq(failed, 0, "[%s] %d of %zu rows failed", scenario,
		     failed, n);
}

#define RUN(name, rows) run_rows(name, rows, sizeof(rows) / sizeof(rows[0]))

/* every row: what the exact ipcache alone decides (sports differ: each row
 * is a new flow) */
static const struct row base[] = {
	{ "A v4 allowed", FROM, A4, R4, 40000, 80, TC_ACT_OK, FWD },
	{ "A v4 default denied", FROM, A4, R4, 40001, 81, TC_ACT_SHOT,
	  SEGD_REASON_DEFAULT_DENIED },
	{ "B (not enforced, same interface)", FROM, B4, R4, 40002, 9,
	  TC_ACT_OK, FWD },
	{ "C lives on ifindex 7: spoofed here", FROM, C4, R4, 40003, 80,
	  TC_ACT_SHOT, SPF },
	{ "D lives on ifindex 4097 (same bucket): spoofed here", FROM, D4, R4,
	  40004, 80, TC_ACT_SHOT, SPF },
	{ "remote endpoint address: spoofed", FROM, "10.200.9.9", R4, 40005,
	  80, TC_ACT_SHOT, SPF },
	{ "unknown source: spoofed", FROM, "10.200.0.99", R4, 40006, 80,
	  TC_ACT_SHOT, SPF },
	{ "to A from the world (tcp 22)", TO, "192.0.2.1", A4, 40007, 22,
	  TC_ACT_OK, FWD },
	{ "to C on this interface: not an endpoint here", TO, "192.0.2.1", C4,
	  40008, 22, TC_ACT_SHOT, NEP },
	{ "to a foreign address", TO, "192.0.2.1", "10.200.0.99", 40009, 22,
	  TC_ACT_SHOT, NEP },
	{ "xdp towards A: allowed, left to tc", XDP, "192.0.2.1", A4, 40010,
	  22, XDP_PASS, NOR },
};

Test(ifc, entries_mirror_the_exact_ipcache)
{
	struct segd_ifc e;
	struct segd_addr a4, a6, b4;
	uint32_t gen, slot;

	apply(0, 1);
	gen = seg_dp_generation(dp);
	slot = gen & 1;
	ifc_get(slot, EP_IF, &e);
	cr_expect_eq(e.flags, SEGD_IFCF_VALID);
	cr_expect_eq(e.gen, gen);
	cr_expect_eq(e.ifindex, EP_IF, "bucket 1 belongs to ifindex %u",
		     e.ifindex);
	cr_assert_eq(e.n, 3);
	st_addr(A4, &a4);
	st_addr(A6, &a6);
	st_addr(B4, &b4);
	/* in address order, values as in the exact ipcache */
	cr_expect_eq(memcmp(&e.a[0].addr, &a4, 16), 0);
	cr_expect_eq(memcmp(&e.a[1].addr, &b4, 16), 0);
	cr_expect_eq(memcmp(&e.a[2].addr, &a6, 16), 0);
	cr_expect_eq(e.a[0].val.identity, ID_A);
	cr_expect_eq(e.a[0].val.endpoint_id, 1);
	cr_expect_eq(e.a[0].val.ifindex, EP_IF);
	cr_expect(e.a[0].val.flags & SEGD_EPF_PROBES_VALID, "hints included");
	cr_expect_eq(e.a[1].val.identity, ID_B);
	ifc_get(slot, 7, &e);
	cr_expect_eq(e.flags, SEGD_IFCF_VALID);
	cr_expect_eq(e.ifindex, 7);
	cr_expect_eq(e.n, 1);
	cr_expect_eq(e.a[0].val.identity, ID_C);
	RUN("ifc", base);

	/* C leaves: its bucket is cleared in the slot the apply filled */
	apply(0, 0);
	ifc_get(seg_dp_generation(dp) & 1, 7, &e);
	cr_expect_eq(e.flags, 0, "stale entry of ifindex 7 left behind");
	ifc_get(seg_dp_generation(dp) & 1, EP_IF, &e);
	cr_expect_eq(e.gen, gen + 1);
	/* and the other slot's, at the next apply */
	apply(0, 0);
	ifc_get(seg_dp_generation(dp) & 1, 7, &e);
	cr_expect_eq(e.flags, 0);
	RUN("ifc/after two applies", base);
}

Test(ifc, entry_is_what_the_tc_hooks_go_by)
{
	static const struct row forged_rows[] = {
	{ "B missing from a valid entry: spoofed", FROM, B4, R4, 41000, 9,
	  TC_ACT_SHOT, SPF },
	{ "A still listed: allowed", FROM, A4, R4, 41001, 80, TC_ACT_OK,
	  FWD },
	{ "to B: not an endpoint", TO, "192.0.2.1", B4, 41002, 22,
	  TC_ACT_SHOT, NEP },
	};
	static const struct row fallback_rows[] = {
	{ "B, entry ignored: the exact ipcache says ours", FROM, B4, R4, 41010,
	  9, TC_ACT_OK, FWD },
	};
	struct segd_ifc e, f;
	uint32_t gen, slot;

	apply(0, 1);
	gen = seg_dp_generation(dp);
	slot = gen & 1;
	ifc_get(slot, EP_IF, &e);
	/* drop B from the list (B is the second address) */
	f = e;
	f.a[1] = f.a[2];
	f.n = 2;
	ifc_set(slot, EP_IF, &f);
	RUN("ifc/forged", forged_rows);
	f.gen = gen + 2;
	ifc_set(slot, EP_IF, &f);
	RUN("ifc/other generation", fallback_rows);
	f.gen = gen;
	f.flags = 0;
	ifc_set(slot, EP_IF, &f);
	RUN("ifc/not valid", fallback_rows);
	f.flags = SEGD_IFCF_VALID;
	f.ifindex = 4097;
	ifc_set(slot, EP_IF, &f);
	RUN("ifc/other interface", fallback_rows);
	ifc_set(slot, EP_IF, &e);
	RUN("ifc/restored", base);
}

Test(ifc, too_many_addresses_fall_back)
{
	static const struct row rows[] = {
	{ "extra address of B", FROM, "10.200.1.6", R4, 42000, 9, TC_ACT_OK,
	  FWD },
	};
	struct segd_ifc e;

	/* 3 + 6 = 9 addresses on ifindex 1 */
	apply(SEGD_IFC_ADDRS - 2, 1);
	ifc_get(seg_dp_generation(dp) & 1, EP_IF, &e);
	cr_expect(!(e.flags & SEGD_IFCF_VALID) || e.ifindex != EP_IF,
		  "an entry for an interface with %d addresses (n %u)",
		  SEGD_IFC_ADDRS + 1, e.n);
	RUN("ifc/overflow", base);
	RUN("ifc/overflow extra", rows);
	/* exactly SEGD_IFC_ADDRS fit */
	apply(SEGD_IFC_ADDRS - 3, 1);
	ifc_get(seg_dp_generation(dp) & 1, EP_IF, &e);
	cr_expect_eq(e.flags, SEGD_IFCF_VALID);
	cr_expect_eq(e.n, SEGD_IFC_ADDRS);
	RUN("ifc/full", base);
}

/* ---- the blocklist prefix gate ------------------------------------------ */

static int cmp20(const void *a, const void *b) { return memcmp(a, b, 20); }

static void pfx(struct seg_bl_compiled *c, const char *addr, int plen)
{
	struct seg_bl_prefix_entry *e;
	struct segd_addr a;

	c->prefixes = realloc(c->prefixes, (c->n_prefixes + 1) * sizeof(*e));
	cr_assert(c->prefixes);
	e = &c->prefixes[c->n_prefixes++];
	memset(e, 0, sizeof(*e));
	cr_assert_eq(st_addr(addr, &a), 0);
	e->key.prefixlen = (uint32_t)(strchr(addr, ':') ? plen : 96 + plen);
	memcpy(e->key.addr, a.b, 16);
	e->value.list_id = 5;
	e->value.action = SEGD_BL_DROP;
	e->value.category = SEGD_BL_C2;
	qsort(c->prefixes, c->n_prefixes, sizeof(*e), cmp20);
}

static int gate_bit(uint32_t bit)
{
	uint32_t w = bit / 64;
	uint64_t v;

	cr_assert_eq(bpf_map_lookup_elem(seg_dp_map_fd(dp, SEGD_MAP_BL_GATE),
					 &w, &v), 0);
	return (int)(v >> (bit % 64) & 1);
}

Test(ifc, blocklist_prefix_gate)
{
	/* uplink towards A, tcp 22 from the world is allowed by policy */
	static const struct row rows[] = {
	{ "inside a /12", XDP, "100.70.1.1", A4, 1, 22, XDP_DROP, BLK },
	{ "next to the /12", XDP, "100.80.1.1", A4, 1, 22, XDP_PASS, NOR },
	{ "inside a /20", XDP, "198.18.16.9", A4, 1, 22, XDP_DROP, BLK },
	{ "same /16, outside the /20", XDP, "198.18.32.9", A4, 1, 22,
	  XDP_PASS, NOR },
	{ "inside a /26", XDP, "192.0.2.70", A4, 1, 22, XDP_DROP, BLK },
	{ "same /24, outside the /26", XDP, "192.0.2.200", A4, 1, 22,
	  XDP_PASS, NOR },
	{ "other /16", XDP, "8.8.8.8", A4, 1, 22, XDP_PASS, NOR },
	{ "v6 inside a /20", XDP, "2001:db0:1::1", A6, 1, 22, XDP_DROP, BLK },
	{ "v6 inside a /48", XDP, "2a00:1450:4001::5", A6, 1, 22, XDP_DROP,
	  BLK },
	{ "v6 outside", XDP, "2a00:1450:4002::5", A6, 1, 22, XDP_PASS, NOR },
	};
	static const struct row v4all[] = {
	{ "::/80 covers every IPv4 address", XDP, "8.8.8.8", A4, 1,
	  22, XDP_DROP, BLK },
	{ "but no IPv6 address", XDP, "2a00:1450:4002::5", A6, 1, 22,
	  XDP_PASS, NOR },
	};
	struct seg_bl_compiled l = { 0 }, l2 = { 0 };
	struct seg_compiled c;
	struct segd_addr a;
	uint32_t w;

	world(&c, 0, 0);
	/* world: A accepts tcp 22 from the v6 world as well */
	st_rule(&c, ID_A, SEGD_ID_WORLD_V6, IN, TCP, SEGD_PORT_EXACT, 22,
		SEGD_VERDICT_ALLOW, 3);
	pfx(&l, "100.64.0.0", 12);
	pfx(&l, "198.18.16.0", 20);
	pfx(&l, "192.0.2.64", 26);
	pfx(&l, "2001:db0::", 20);
	pfx(&l, "2a00:1450:4001::", 48);
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &l), 0);
	cr_assert_eq(seg_dp_apply(dp, &c), 0);
	cr_expect(dp_cfg_flags() & SEGD_CFG_BL_PFXGATE);
	/* IPv4 prefixes up to /24 alone: segd_bl_net16 / _net24 answer, the
	 * gate stays shut */
	for (uint32_t b = 100 << 8 | 64; b < (100 << 8 | 80); b++)
		cr_expect(!gate_bit(b), "/12 opened the gate of /16 %u", b);
	cr_expect(!gate_bit(100 << 8 | 80));
	cr_expect(!gate_bit(198 << 8 | 18));
	cr_expect(dp_cfg_flags() & SEGD_CFG_BL_NET24);
	cr_expect(gate_bit(192 << 8 | 0));
	cr_expect(!gate_bit(8 << 8 | 8));
	st_addr("2001:db8::", &a);   /* inside the v6 /20 */
	memcpy(&w, a.b, 4);
	cr_expect(gate_bit(segd_bl_gate6(w)));
	RUN("gate", rows);

	/* the gate really is what the datapath goes by */
	{
		uint32_t idx = (192 << 8 | 0) / 64;
		uint64_t v = 0;
		static const struct row closed[] = {
		{ "gate bit cleared by hand: the trie is not asked", XDP,
		  "192.0.2.70", A4, 1, 22, XDP_PASS, NOR },
		};
		int fd = seg_dp_map_fd(dp, SEGD_MAP_BL_GATE);

		cr_assert_eq(bpf_map_lookup_elem(fd, &idx, &v), 0);
		v &= ~(1ull << ((192 << 8 | 0) % 64));
		cr_assert_eq(bpf_map_update_elem(fd, &idx, &v, BPF_ANY), 0);
		RUN("gate/closed", closed);
	}
	/* the next writes put the gate right again: widen to all IPv4,
	 * then back */
	pfx(&l2, "::", 80);     /* an IPv6 prefix around all IPv4-mapped space */
	cr_assert_eq(seg_dp_blocklists_write(dp, &l, &l2), 0);
	cr_assert_eq(seg_dp_apply(dp, &c), 0);
	cr_expect(gate_bit(8 << 8 | 8));
	cr_expect(gate_bit(100 << 8 | 80));
	RUN("gate/v4 all", v4all);
	cr_assert_eq(seg_dp_blocklists_write(dp, &l2, &l), 0);
	cr_assert_eq(seg_dp_apply(dp, &c), 0);
	cr_expect(!gate_bit(8 << 8 | 8), "bit of a deleted prefix kept");
	RUN("gate/back", rows);
	st_free(&c);
	free(l.prefixes);
	free(l2.prefixes);
}
