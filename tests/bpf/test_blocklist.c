/* test_blocklist.c - blocklists and Stratum detection in the BPF programs
 * on crafted packets (run as root), plus the blocklist map writer. Rows,
 * world and hand-built lists: bl_harness.h; the IPv4 views of prefixes:
 * test_blocklist_views.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "metrics_render.h"
#include "bl_harness.h"

/* rows leave reason2 and bl_list out when they are 0 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const char xmrig[] =
	"{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":"
	"{\"login\":\"4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeYTRj5U"
	"zqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge\",\"pass\":\"x\",\"agent\":"
	"\"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0\",\"algo\":"
	"[\"rx/0\"]}}\n";
static const char subscribe_spaced[] =
	"{\"id\": 1, \"method\": \"mining.subscribe\", \"params\": "
	"[\"bitaxe/2.0\"]}\n";
static const char authorize_reordered[] =
	"{\"params\": [\"user.worker\", \"x\"], \"id\": 2, \"method\": "
	"\"mining.authorize\"}\n";
static const char extranonce_lead[] =
	"  \r\n{\"id\":3,\"method\" :  \"mining.extranonce.subscribe\","
	"\"params\":[]}\n";
static const char getblock[] = "{\"id\":1,\"method\":\"getblock\"}\n";
static const char html[] =
	"<html><head><title>{\"method\":\"login\"}</title></head></html>\n";
static const char method_as_value[] =
	"{\"params\":[\"method\"],\"id\":4,\"method\":\"keepalived\"}\n";

TestSuite(blocklist, .init = dp_suite_init, .fini = dp_suite_fini);

/* ---- compiled blocklists by hand (sorted as seg_blocklists_compile) ---- */

static void the_lists(struct seg_bl_compiled *c)
{
	memset(c, 0, sizeof(*c));
	bl_exact(c, L_EX, 1, SEGD_BL_DROP);
	bl_exact(c, L_EX6, 1, SEGD_BL_DROP);
	bl_exact(c, L_AUD, 3, SEGD_BL_AUDIT);
	bl_prefix(c, "198.51.100.0", 24, 2, SEGD_BL_DROP);
	bl_prefix(c, "2001:db8:bad::", 48, 2, SEGD_BL_DROP);
	bl_except(c, L_EXC, 32);
}

/* ------------------------------------------------------------------------ */

Test(blocklist, hits_misses_exceptions_audit_v6_both_directions)
{
	static const struct row rows[] = {
	{ "egress to a listed address that policy allows", FROM,
	  SYN_TO(A4, L_EX, 40000, 80), TC_ACT_SHOT, BLK, 0, 1 },
	{ "egress to an unlisted neighbour", FROM,
	  SYN_TO(A4, CLEAN, 40000, 80), TC_ACT_OK, FWD, 0, 0 },
	{ "egress into a listed prefix", FROM,
	  SYN_TO(A4, L_PFX, 40000, 443), TC_ACT_SHOT, BLK, 0, 2 },
	{ "exception inside the listed prefix", FROM,
	  SYN_TO(A4, L_EXC, 40000, 443), TC_ACT_OK, FWD, 0, 0 },
	{ "audit list: passes, counted", FROM,
	  SYN_TO(A4, L_AUD, 40000, 80), TC_ACT_OK, FWD, 0, 3 },
	{ "v6 exact", FROM,
	  SYN_TO(A6, L_EX6, 40000, 443), TC_ACT_SHOT, BLK, 0, 1 },
	{ "v6 prefix", FROM,
	  SYN_TO(A6, L_PFX6, 40000, 443), TC_ACT_SHOT, BLK, 0, 2 },
	{ "v6 unlisted", FROM,
	  SYN_TO(A6, CLEAN6, 40000, 443), TC_ACT_OK, FWD, 0, 0 },
	{ "ingress from a listed source (tc)", TO,
	  SYN_TO(L_EX, A4, 5555, 22), TC_ACT_SHOT, BLK, 0, 1 },
	{ "ingress from an unlisted source (tc)", TO,
	  SYN_TO(CLEAN, A4, 5555, 22), TC_ACT_OK, FWD, 0, 0 },
	{ "uplink from a listed source (xdp)", XDP,
	  SYN_TO(L_EX, A4, 5556, 22), XDP_DROP, BLK, 0, 1 },
	{ "uplink from a listed prefix (xdp)", XDP,
	  SYN_TO(L_PFX, A4, 5556, 22), XDP_DROP, BLK, 0, 2 },
	{ "uplink from an audit-listed source: tc counts it", XDP,
	  SYN_TO(L_AUD, A4, 5556, 22), XDP_PASS, NOR, 0, 0 },
	{ "uplink from an unlisted source", XDP,
	  SYN_TO(CLEAN, A4, 5556, 22), XDP_PASS, NOR, 0, 0 },
	{ "not-enforced endpoint: the list still applies", FROM,
	  SYN_TO(B4, L_EX, 40001, 80), TC_ACT_SHOT, BLK, 0, 1 },
	};
	struct seg_bl_compiled l;
	struct segd_ct_value v;

	bl_apply_world();
	the_lists(&l);
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &l), 0);
	cr_expect_eq(dp_cfg_flags(), SEGD_CFG_BL_EXACT | SEGD_CFG_BL_PREFIXES |
		     SEGD_CFG_BL_EXCEPT | SEGD_CFG_BL_PFXGATE |
		     SEGD_CFG_BL_NET24);
	bl_apply_world();
	RUN("blocklist", rows);
	cr_expect_neq(ct_get(A4, L_EX, 40000, 80, TCP, &v), 0, "CT for a drop");
	cr_expect_eq(ct_get(A4, L_AUD, 40000, 80, TCP, &v), 0, "CT for audit");
	bl_free(&l);
}

Test(blocklist, established_flow_cut_after_list_change)
{
	static const struct row open[] = {
	{ "open", FROM, SYN_TO(A4, "203.0.113.30", 41000, 80), TC_ACT_OK, FWD,
	  0, 0 },
	{ "reply", TO, { .src = "203.0.113.30", .dst = A4, .proto = TCP,
	  .sport = 80, .dport = 41000, .tcp_flags = SYN | ACK }, TC_ACT_OK,
	  FWD, 0, 0 },
	};
	static const struct row before_bump[] = {
	{ "listed, same generation: established path untouched", FROM,
	  { .src = A4, .dst = "203.0.113.30", .proto = TCP, .sport = 41000,
	    .dport = 80, .tcp_flags = ACK }, TC_ACT_OK, FWD, 0, 0 },
	};
	static const struct row after_bump[] = {
	{ "re-validated: dropped", TO,
	  { .src = "203.0.113.30", .dst = A4, .proto = TCP, .sport = 80,
	    .dport = 41000, .tcp_flags = ACK }, TC_ACT_SHOT, BLK, 0, 7 },
	{ "next packet: a new flow, dropped again", FROM,
	  { .src = A4, .dst = "203.0.113.30", .proto = TCP, .sport = 41000,
	    .dport = 80, .tcp_flags = ACK }, TC_ACT_SHOT, BLK, 0, 7 },
	};
	struct seg_bl_compiled l1 = { 0 }, l2 = { 0 };
	struct segd_ct_value v;

	bl_apply_world();
	bl_exact(&l1, L_EX, 1, SEGD_BL_DROP);
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &l1), 0);
	bl_apply_world();
	RUN("established/open", open);
	bl_exact(&l2, L_EX, 1, SEGD_BL_DROP);
	bl_exact(&l2, "203.0.113.30", 7, SEGD_BL_DROP);
	cr_assert_eq(seg_dp_blocklists_write(dp, &l1, &l2), 0);
	RUN("established/before bump", before_bump);
	bl_apply_world();
	RUN("established/after bump", after_bump);
	cr_expect_neq(ct_get(A4, "203.0.113.30", 41000, 80, TCP, &v), 0,
		      "CT entry of the cut flow still there");
	bl_free(&l1);
	bl_free(&l2);
}

/* ---- the writer --------------------------------------------------------- */

static void gen_lists(struct seg_bl_compiled *c, int variant)
{
	char a[64];

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 300; i++) {
		/* variants overlap on half of their keys; list ids differ on
		 * a few of the shared ones (a changed value) */
		snprintf(a, sizeof(a), "203.0.%d.%d", 113 + variant,
			 i % 200 + 1);
		if (i >= 200)
			snprintf(a, sizeof(a), "192.0.2.%d", i - 200 + variant * 50);
		bl_exact(c, a, (uint16_t)(i % 7 == 0 ? 1 + variant : 1),
			 SEGD_BL_DROP);
	}
	for (int i = 0; i < 20; i++) {
		snprintf(a, sizeof(a), "100.%d.0.0", i + variant * 10);
		bl_prefix(c, a, 16, 2, SEGD_BL_DROP);
		/* nested ones: a /20 of another list (its /24s change value
		 * between variants), and a /26 that opens the gate */
		snprintf(a, sizeof(a), "100.%d.32.0", i + variant * 5);
		if (i % 4 == 0)
			bl_prefix(c, a, 20, (uint16_t)(3 + variant), SEGD_BL_DROP);
		snprintf(a, sizeof(a), "100.%d.7.64", i + variant * 3);
		if (i % 9 == 0)
			bl_prefix(c, a, 26, 4, SEGD_BL_DROP);
	}
	if (variant == 2)
		bl_prefix(c, "45.0.0.0", 12, 5, SEGD_BL_DROP);
	if (variant != 1)
		bl_except(c, "192.0.2.77", 32);
}

Test(blocklist, write_sequence_reads_back)
{
	struct seg_bl_compiled v0, v1, v2, empty = { 0 };
	struct seg_dp_map_usage u[16];
	uint32_t gen;
	int n;

	gen_lists(&v0, 0);
	gen_lists(&v1, 1);
	gen_lists(&v2, 2);
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &v0), 0);
	bl_expect_maps(&v0, "v0 from scratch");
	cr_assert_eq(seg_dp_blocklists_write(dp, &v0, &v1), 0);
	bl_expect_maps(&v1, "v0 -> v1 by merge");
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &v2), 0);
	bl_expect_maps(&v2, "v1 -> v2 by scanning the maps");
	cr_assert_eq(seg_dp_blocklists_write(dp, &v2, &v1), 0);
	bl_expect_maps(&v1, "v2 -> v1 by merge");
	n = seg_dp_map_usage(dp, u, 16);
	cr_assert_eq(n, 10);   /* slot maps, ct, frag, quarantine, 4 blocklist maps */
	for (int i = 0; i < n; i++) {
		struct n24 *w = NULL;

		if (!strcmp(u[i].name, SEGD_MAP_BL_EXACT))
			cr_expect_eq(u[i].entries, v1.n_exact);
		if (!strcmp(u[i].name, SEGD_MAP_BL_NET24))
			cr_expect_eq(u[i].entries, bl_want_net24(&v1, &w));
		free(w);
	}

	/* flags survive seg_dp_apply; the generation moves */
	gen = seg_dp_generation(dp);
	bl_apply_world();
	cr_expect_eq(seg_dp_generation(dp), gen + 1);
	bl_expect_maps(&v1, "after seg_dp_apply");
	cr_assert_eq(seg_dp_blocklists_write(dp, &v1, &empty), 0);
	bl_expect_maps(&empty, "emptied");
	cr_expect_eq(seg_dp_generation(dp), gen + 1);
	bl_free(&v0);
	bl_free(&v1);
	bl_free(&v2);
}

/* While lists are rewritten back and forth, a packet from an address both
 * contents hold (under different list ids) is dropped every single time:
 * upserts come before deletes, and a changed key is never deleted. */
struct hammer {
	atomic_int stop;
	int passes, runs;
	uint8_t pkt[256];
	int len;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;

	while (!atomic_load(&h->stop)) {
		uint32_t rv = 0;

		if (dp_run_prog(XDP, h->pkt, h->len, EP_IF, &rv))
			break;
		h->runs++;
		h->passes += rv != XDP_DROP;
	}
	return NULL;
}

Test(blocklist, reload_has_no_window)
{
	const struct pkt_spec ps = SYN_TO("198.18.0.1", A4, 5000, 22);
	const struct pkt_spec pp = SYN_TO("198.19.1.1", A4, 5000, 22);
	struct seg_bl_compiled a = { 0 }, b = { 0 };
	struct hammer h = { 0 }, hp = { 0 };
	pthread_t t, tp;
	char ad[64];

	bl_apply_world();
	for (int i = 0; i < 2000; i++) {
		snprintf(ad, sizeof(ad), "198.18.%d.%d", i / 250, i % 250 + 1);
		bl_exact(&a, ad, 1, SEGD_BL_DROP);
		snprintf(ad, sizeof(ad), "198.18.%d.%d", i / 250 + 4,
			 i % 250 + 1);
		bl_exact(&b, ad, 2, SEGD_BL_DROP);
	}
	bl_exact(&b, "198.18.0.1", 2, SEGD_BL_DROP); /* shared, list changes */
	bl_prefix(&a, "198.19.0.0", 16, 1, SEGD_BL_DROP);
	bl_prefix(&b, "198.19.0.0", 16, 2, SEGD_BL_DROP);
	h.len = pkt_build(&ps, h.pkt, sizeof(h.pkt));
	hp.len = pkt_build(&pp, hp.pkt, sizeof(hp.pkt));
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &a), 0);
	pthread_create(&t, NULL, hammer_fn, &h);
	pthread_create(&tp, NULL, hammer_fn, &hp);
	for (int i = 0; i < 40; i++) {
		cr_assert_eq(seg_dp_blocklists_write(dp, &a, &b), 0);
		cr_assert_eq(seg_dp_blocklists_write(dp, &b, &a), 0);
		cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &b), 0);
		cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &a), 0);
	}
	atomic_store(&h.stop, 1);
	atomic_store(&hp.stop, 1);
	pthread_join(t, NULL);
	pthread_join(tp, NULL);
	cr_expect_gt(h.runs, 0);
	cr_expect_eq(h.passes, 0, "exact: %d of %d packets passed", h.passes,
		     h.runs);
	cr_expect_eq(hp.passes, 0, "prefix: %d of %d packets passed",
		     hp.passes, hp.runs);
	bl_free(&a);
	bl_free(&b);
}

/* ---- Stratum ------------------------------------------------------------ */

Test(blocklist, stratum_first_payload)
{
	static const struct row rows[] = {
	{ "xmrig: syn", FROM, SYN_TO(A4, CLEAN, 42000, 3333), TC_ACT_OK, FWD },
	{ "xmrig: login (compact) cut", FROM,
	  DATA_TO(A4, CLEAN, 42000, 3333, xmrig), TC_ACT_SHOT, STR },
	{ "xmrig: retry syn re-decides", FROM,
	  SYN_TO(A4, CLEAN, 42000, 3333), TC_ACT_OK, FWD },
	{ "xmrig: retried login cut again", FROM,
	  DATA_TO(A4, CLEAN, 42000, 3333, xmrig), TC_ACT_SHOT, STR },
	{ "v1: syn", FROM, SYN_TO(A4, CLEAN, 42001, 3333), TC_ACT_OK, FWD },
	{ "v1: mining.subscribe, spaced", FROM,
	  DATA_TO(A4, CLEAN, 42001, 3333, subscribe_spaced), TC_ACT_SHOT, STR },
	{ "v1: syn", FROM, SYN_TO(A4, CLEAN, 42002, 3333), TC_ACT_OK, FWD },
	{ "v1: mining.authorize, keys reordered", FROM,
	  DATA_TO(A4, CLEAN, 42002, 3333, authorize_reordered), TC_ACT_SHOT,
	  STR },
	{ "v1: first packet already carries the payload (no syn seen)", FROM,
	  DATA_TO(A4, CLEAN, 42003, 3333, extranonce_lead), TC_ACT_SHOT, STR },
	{ "json-rpc: syn", FROM, SYN_TO(A4, CLEAN, 42004, 8332), TC_ACT_OK, FWD },
	{ "json-rpc: getblock passes", FROM,
	  DATA_TO(A4, CLEAN, 42004, 8332, getblock), TC_ACT_OK, FWD },
	{ "json-rpc: second payload is not scanned", FROM,
	  DATA_TO(A4, CLEAN, 42004, 8332, xmrig), TC_ACT_OK, FWD },
	{ "html: syn", FROM, SYN_TO(A4, CLEAN, 42005, 80), TC_ACT_OK, FWD },
	{ "html: passes", FROM, DATA_TO(A4, CLEAN, 42005, 80, html), TC_ACT_OK,
	  FWD },
	{ "\"method\" as a value, keepalived: passes", FROM,
	  DATA_TO(A4, CLEAN, 42006, 80, method_as_value), TC_ACT_OK, FWD },
	{ "v6: login cut", FROM, DATA_TO(A6, CLEAN6, 42007, 443, xmrig),
	  TC_ACT_SHOT, STR },
	{ "audit endpoint: syn", FROM, SYN_TO(B4, CLEAN, 42010, 3333),
	  TC_ACT_OK, FWD },
	{ "audit endpoint: login passes, counted", FROM,
	  DATA_TO(B4, CLEAN, 42010, 3333, xmrig), TC_ACT_OK, FWD, STA },
	{ "audit endpoint: next payload not scanned", FROM,
	  DATA_TO(B4, CLEAN, 42010, 3333, xmrig), TC_ACT_OK, FWD },
	{ "off endpoint: login passes, not counted", FROM,
	  DATA_TO(C4, CLEAN, 42011, 3333, xmrig), TC_ACT_OK, FWD },
	{ "server side: syn in", TO, SYN_TO(CLEAN, A4, 42012, 22), TC_ACT_OK,
	  FWD },
	{ "server side: the endpoint's answer is not scanned", FROM,
	  DATA_TO(A4, CLEAN, 22, 42012, xmrig), TC_ACT_OK, FWD },
	};
	struct segd_ct_value v;

	bl_apply_world();
	RUN("stratum", rows);
	cr_expect_neq(ct_get(A4, CLEAN, 42000, 3333, TCP, &v), 0,
		      "CT of a Stratum flow still there");
	cr_assert_eq(ct_get(A4, CLEAN, 42004, 8332, TCP, &v), 0);
	cr_expect(v.flags & SEGD_CTF_PAYLOAD_SEEN);
	cr_assert_eq(ct_get(B4, CLEAN, 42010, 3333, TCP, &v), 0, "audit keeps CT");
}
