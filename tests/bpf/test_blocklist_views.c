/* test_blocklist_views.c - IPv4 blocklist prefixes in the BPF programs
 * (run as root): answered by the /24 hash and the /16 array where the
 * prefix gate is closed, by the trie where a prefix the views cannot
 * answer for opens it, the longest prefix winning across lists either way;
 * the flag bit off (an older segd's state) leaves them to the trie.
 */
#include <criterion/criterion.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>

#include "bl_harness.h"

/* rows leave reason2 and bl_list out when they are 0 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

TestSuite(blocklist_views, .init = dp_suite_init, .fini = dp_suite_fini);

/* IPv4 /16../24 prefixes come from the /24 hash where the gate is closed
 * and from the trie where a prefix it cannot answer for opens it; both
 * give the longest listed prefix. Egress from A to the whole world is
 * allowed here, so "passes" means "not listed". */
#define N24_EG(d_, v_, r_, l_) { "egress to " d_, FROM, \
	SYN_TO(A4, d_, 43000, 443), v_, r_, 0, l_ }

static void apply_world_egress_all(void)
{
	struct seg_compiled c;

	bl_world(&c);
	st_rule(&c, ID_A, SEGD_ID_WORLD, EG, SEGD_PROTO_ANY, SEGD_PORT_ANY, 0,
		ALLOW, 5);
	dp_apply(&c);
}

Test(blocklist_views, longest_prefix_wins)
{
	static const struct row rows[] = {
	N24_EG("198.51.100.8", TC_ACT_SHOT, BLK, 1),      /* /24 */
	N24_EG("198.51.100.7", TC_ACT_OK, FWD, 0),        /* excepted */
	N24_EG("198.51.101.8", TC_ACT_OK, FWD, 0),        /* next /24 */
	N24_EG("198.18.20.1", TC_ACT_SHOT, BLK, 2),       /* /20 */
	N24_EG("198.18.20.5", TC_ACT_SHOT, BLK, 8),       /* exact in it */
	N24_EG("198.18.32.1", TC_ACT_OK, FWD, 0),         /* same /16 */
	N24_EG("45.10.33.1", TC_ACT_SHOT, BLK, 2),        /* /20 in a /16 */
	N24_EG("45.10.99.1", TC_ACT_OK, FWD, 3),          /* the audit /16 */
	N24_EG("192.0.2.20", TC_ACT_SHOT, BLK, 4),        /* /28 in a /24 */
	N24_EG("192.0.2.200", TC_ACT_OK, FWD, 3),         /* the audit /24 */
	N24_EG("23.20.17.1", TC_ACT_OK, FWD, 7),          /* /20 in a /12 */
	N24_EG("23.25.0.1", TC_ACT_SHOT, BLK, 6),         /* the /12 */
	N24_EG("23.32.0.1", TC_ACT_OK, FWD, 0),           /* next to it */
	{ "v6 prefix, unchanged", FROM, SYN_TO(A6, L_PFX6, 43000, 443),
	  TC_ACT_SHOT, BLK, 0, 2 },
	{ "v6 exact, unchanged", FROM, SYN_TO(A6, L_EX6, 43000, 443),
	  TC_ACT_SHOT, BLK, 0, 1 },
	{ "v6 unlisted", FROM, SYN_TO(A6, CLEAN6, 43000, 443), TC_ACT_OK,
	  FWD, 0, 0 },
	{ "uplink from a /20 (xdp)", XDP, SYN_TO("45.10.33.1", A4, 5557, 22),
	  XDP_DROP, BLK, 0, 2 },
	};
	static const struct row forged[] = {
	N24_EG("45.10.33.1", TC_ACT_SHOT, BLK, 9),   /* read from the hash */
	N24_EG("23.25.0.1", TC_ACT_SHOT, BLK, 9),    /* from the /16 array */
	N24_EG("45.10.34.1", TC_ACT_OK, FWD, 3),     /* hash miss: the /16 */
	};
	static const struct row flag_off[] = {
	N24_EG("45.10.33.1", TC_ACT_SHOT, BLK, 2),   /* the trie again */
	N24_EG("45.10.99.1", TC_ACT_OK, FWD, 3),
	N24_EG("192.0.2.20", TC_ACT_SHOT, BLK, 4),
	N24_EG("198.51.100.7", TC_ACT_OK, FWD, 0),
	N24_EG("45.10.34.1", TC_ACT_SHOT, BLK, 2),   /* gone from the hash */
	N24_EG("23.25.0.1", TC_ACT_SHOT, BLK, 6),
	};
	const struct segd_bl_value nine = { 9, SEGD_BL_DROP, SEGD_BL_C2 };
	const uint32_t k33 = 45 << 16 | 10 << 8 | 33, k34 = k33 + 1;
	const uint32_t s2325 = 23 << 8 | 25;
	int fd = seg_dp_map_fd(dp, SEGD_MAP_BL_NET24);
	struct seg_bl_compiled l = { 0 };
	uint32_t zero = 0;
	struct segd_config cfg;

	bl_prefix(&l, "198.51.100.0", 24, 1, SEGD_BL_DROP);
	bl_except(&l, "198.51.100.7", 32);
	bl_prefix(&l, "198.18.16.0", 20, 2, SEGD_BL_DROP);
	bl_exact(&l, "198.18.20.5", 8, SEGD_BL_DROP);
	bl_prefix(&l, "45.10.0.0", 16, 3, SEGD_BL_AUDIT);
	bl_prefix(&l, "45.10.32.0", 20, 2, SEGD_BL_DROP);
	bl_prefix(&l, "192.0.2.0", 24, 3, SEGD_BL_AUDIT);
	bl_prefix(&l, "192.0.2.16", 28, 4, SEGD_BL_DROP);
	bl_prefix(&l, "23.16.0.0", 12, 6, SEGD_BL_DROP);
	bl_prefix(&l, "23.20.16.0", 20, 7, SEGD_BL_AUDIT);
	bl_exact(&l, L_EX6, 1, SEGD_BL_DROP);
	bl_prefix(&l, "2001:db8:bad::", 48, 2, SEGD_BL_DROP);
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &l), 0);
	apply_world_egress_all();
	cr_expect(dp_cfg_flags() & SEGD_CFG_BL_NET24);
	bl_expect_maps(&l, "net24");
	RUN("net24", rows);

	/* the datapath really reads the hash, then the array, where the gate
	 * is closed */
	cr_assert_eq(bpf_map_update_elem(fd, &k33, &nine, BPF_EXIST), 0);
	cr_assert_eq(bpf_map_update_elem(seg_dp_map_fd(dp, SEGD_MAP_BL_NET16),
					 &s2325, &nine, BPF_ANY), 0);
	cr_assert_eq(bpf_map_delete_elem(fd, &k34), 0);
	RUN("net24/forged values", forged);

	/* without SEGD_CFG_BL_NET24 and a trusted gate (an adopted state of an
	 * older segd): the trie answers for everything, the views are ignored */
	cr_assert_eq(bpf_map_lookup_elem(seg_dp_map_fd(dp, SEGD_MAP_CONFIG),
					 &zero, &cfg), 0);
	cfg.flags &= ~(SEGD_CFG_BL_NET24 | SEGD_CFG_BL_PFXGATE);
	cr_assert_eq(bpf_map_update_elem(seg_dp_map_fd(dp, SEGD_MAP_CONFIG),
					 &zero, &cfg, BPF_ANY), 0);
	apply_world_egress_all();
	RUN("net24/flag off", flag_off);

	/* a write after that puts every map right again */
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &l), 0);
	apply_world_egress_all();
	bl_expect_maps(&l, "net24 rewritten");
	RUN("net24/rewritten", rows);
	bl_free(&l);
}
