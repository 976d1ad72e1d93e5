/* dp_harness.c - see dp_harness.h */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "dp_harness.h"

struct seg_datapath *dp;

/* ---- dp_core.h ---------------------------------------------------------- */

void dp_suite_init(void)
{
	int err = seg_dp_open(NULL, &dp);

	cr_assert_eq(err, 0, "seg_dp_open: %s", strerror(-err));
}

void dp_suite_fini(void)
{
	seg_dp_close(dp);
}

void dp_apply(struct seg_compiled *c)
{
	int err = seg_dp_apply(dp, c);

	st_free(c);
	cr_assert_eq(err, 0, "seg_dp_apply: %s", strerror(-err));
}

void dp_share_maps(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		int fd = seg_dp_map_fd(dp, bpf_map__name(m));

		cr_assert_eq(bpf_map__set_pin_path(m, NULL), 0);  /* no pins */
		if (fd >= 0)
			cr_assert_eq(bpf_map__reuse_fd(m, fd), 0, "%s",
				     bpf_map__name(m));
	}
}

int dp_run_prog(enum seg_prog prog, const uint8_t *pkt, int len,
		uint32_t ifindex, uint32_t *retval)
{
	return dp_run_shaped(prog, pkt, len, ifindex, 0, 0, retval);
}

int dp_run_shaped(enum seg_prog prog, const uint8_t *pkt, int len,
		  uint32_t ifindex, int linear, int gso_segs,
		  uint32_t *retval)
{
	struct __sk_buff skb;
	struct xdp_md md;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt,
		    .data_size_in = (uint32_t)len, .repeat = 1);
	int err;

	if (prog != SEG_PROG_XDP_UPLINK) {
		memset(&skb, 0, sizeof(skb));
		skb.ifindex = ifindex;
		if (gso_segs) {
			skb.gso_segs = (uint32_t)gso_segs;
			skb.gso_size = 1448;
		}
		o.ctx_in = &skb;
		o.ctx_size_in = sizeof(skb);
	} else if (linear) {
		/* the kernel puts data_end bytes in the first buffer and
		 * the rest in fragments (xdp.frags programs only) */
		memset(&md, 0, sizeof(md));
		md.data_end = (uint32_t)linear;
		o.ctx_in = &md;
		o.ctx_size_in = sizeof(md);
	}
	err = bpf_prog_test_run_opts(seg_dp_prog_fd(dp, prog), &o);
	*retval = o.retval;
	return err;
}

void dp_pin_cpu0(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	cr_assert_eq(sched_setaffinity(0, sizeof(one), &one), 0,
		     "pin to CPU 0: %s", strerror(errno));
}

int dp_run_table(const char *scenario, const void *rows, size_t n,
		 size_t size, int (*run_one)(const char *, const void *))
{
	int failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += !run_one(scenario, (const char *)rows + i * size);
	return failed;
}

void dp_bpffs_make(char *root, char *pin)
{
	cr_assert_not_null(mkdtemp(root));
	if (mount("bpf", root, "bpf", 0, NULL)) {
		rmdir(root);
		cr_skip_test("cannot mount a bpffs: %s", strerror(errno));
	}
	snprintf(pin, 64, "%s/segd", root);
}

void dp_bpffs_drop(const char *root)
{
	umount2(root, MNT_DETACH);
	rmdir(root);
}

uint32_t dp_cfg_flags(void)
{
	struct segd_config cfg;
	uint32_t zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(seg_dp_map_fd(dp, SEGD_MAP_CONFIG),
					 &zero, &cfg), 0);
	return cfg.flags;
}

int ct_get(const char *local, const char *remote, uint16_t lport,
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

/* ---- the test_datapath*.c world ----------------------------------------- */

TestSuite(datapath, .init = dp_suite_init, .fini = dp_suite_fini);

void world(struct seg_compiled *c, int variant)
{
	uint32_t fa = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
		      SEGD_EPF_ENFORCE_EGRESS | SEGD_EPF_HINT_BLOCK(EG) |
		      SEGD_EPF_HINT_ANYREM(EG);
	uint32_t fc = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS |
		      SEGD_EPF_ENFORCE_EGRESS;

	/* variant 3: as 2, and A does not enforce ingress */
	if (variant == 3)
		fa &= ~(uint32_t)SEGD_EPF_ENFORCE_INGRESS;
	st_init(c);
	cr_assert_eq(st_exact(c, A4, ID_A, EP_IF, fa, 1), 0);
	cr_assert_eq(st_exact(c, A6, ID_A, EP_IF, fa, 1), 0);
	cr_assert_eq(st_exact(c, B4, ID_B, EP_IF, SEGD_EPF_LOCAL, 2), 0);
	cr_assert_eq(st_exact(c, C4, ID_C, 7, fc, 3), 0);
	cr_assert_eq(st_world(c), 0);
	cr_assert_eq(st_prefix(c, "203.0.113.0/24", ID_R), 0);
	cr_assert_eq(st_prefix(c, "2001:db8::/32", ID_R6), 0);
	cr_assert_eq(st_prefix(c, "198.51.100.0/24", ID_S), 0);

	if (variant < 2)
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

void apply_world(int variant)
{
	struct seg_compiled c;

	world(&c, variant);
	dp_apply(&c);
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
static int run_row(const char *scenario, const void *row)
{
	const struct row *r = row;
	struct segd_counter before[SEGD_REASON_MAX], after[SEGD_REASON_MAX];
	static uint8_t pkt[PKT_MAX];
	char dump[8192];
	char why[256] = "";
	uint32_t retval = 0;
	int len, err, ok = 1;

	len = pkt_build(&r->pkt, pkt, sizeof(pkt));
	cr_assert_gt(len, 0, "[%s] %s: cannot build packet", scenario,
		     r->name);
	cr_assert_eq(seg_dp_reason_counters(dp, before), 0);
	err = dp_run_shaped(r->prog, pkt, len, EP_IF, r->pkt.linear,
			    r->pkt.gso_segs, &retval);
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
		/* a GSO packet counts the segments it carries */
		uint64_t want = k != r->reason ? 0 :
				r->pkt.gso_segs ? (uint64_t)r->pkt.gso_segs : 1;

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
		/* the headers are what matters: at most 512 bytes shown */
		pkt_hexdump(pkt, len > 512 ? 512 : (size_t)len, dump,
			    sizeof(dump));
		cr_log_error("[%s] row \"%s\": %s\n  packet (%d bytes):\n%s",
			     scenario, r->name, why, len, dump);
	}
	return ok;
}

void run_rows(const char *scenario, const struct row *rows, size_t n)
{
	int failed = dp_run_table(scenario, rows, n, sizeof(*rows), run_row);

	cr_expect_eq(failed, 0, "[%s] %d of %zu rows failed (see above)",
		     scenario, failed, n);
}

