/* test_detect_lists.c - detection in the BPF programs (run as root), the
 * kinds that need no count: a new flow to a miner or C2 list and a Stratum
 * login raise their alert at once, once per epoch, when the config's flag
 * for it is set; and the epochs: a window is the current epoch and the one
 * before, an older one is forgotten. World and helpers: detect_harness.h.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocklist.h"
#include "detect_harness.h"

/* steps leave list_id out when it is 0 */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define ON_ALL (SEGD_DCF_ON | SEGD_DCF_MINER | SEGD_DCF_C2)

/* listed addresses, all inside R (policy allows tcp/80 there) */
#define MINER4 "203.0.113.50"
#define MINER6 "2001:db8::50"
#define C2_4   "203.0.113.60"
#define L_MINER 4
#define L_C2    5

TestSuite(detect_lists, .init = dp_suite_init, .fini = dp_suite_fini);

static int cmp_addr(const void *a, const void *b) { return memcmp(a, b, 16); }

static void listed(struct seg_bl_compiled *l, const char *addr, uint16_t list,
		   uint8_t category)
{
	struct seg_bl_exact_entry *e;

	l->exact = realloc(l->exact, (l->n_exact + 1) * sizeof(*e));
	cr_assert_not_null(l->exact);
	e = &l->exact[l->n_exact++];
	memset(e, 0, sizeof(*e));
	cr_assert_eq(st_addr(addr, &e->addr), 0);
	e->value.list_id = list;
	e->value.action = SEGD_BL_DROP;
	e->value.category = category;
}

/* the world, with the miner and C2 lists written as segd writes them */
static void world_with_lists(void)
{
	struct seg_bl_compiled l = { 0 };

	det_world(0);
	listed(&l, MINER4, L_MINER, SEGD_BL_MINER);
	listed(&l, MINER6, L_MINER, SEGD_BL_MINER);
	listed(&l, C2_4, L_C2, SEGD_BL_C2);
	qsort(l.exact, l.n_exact, sizeof(*l.exact), cmp_addr);
	cr_assert_eq(seg_dp_blocklists_write(dp, NULL, &l), 0);
	free(l.exact);
	det_world(0);
}

#define SYN_TO(s_, d_, sp, dp_) { .src = s_, .dst = d_, .proto = TCP, \
	.sport = sp, .dport = dp_, .tcp_flags = SYN }

/* ---- lists -------------------------------------------------------------- */

struct list_case {
	char name[64];
	uint16_t flags;
	char src[48], dst[48];
	uint16_t port;
	int kind;            /* 0: no alert may come */
	uint16_t list_id;
};

static struct list_case list_cases[] = {
	{ "miner list", ON_ALL, A4, MINER4, 3333, SEGD_ALERT_MINER, L_MINER },
	{ "miner list, v6", ON_ALL, A6, MINER6, 443, SEGD_ALERT_MINER, L_MINER },
	{ "c2 list", ON_ALL, A4, C2_4, 443, SEGD_ALERT_C2, L_C2 },
	{ "miner list, miner flag off", SEGD_DCF_ON | SEGD_DCF_C2, A4, MINER4,
	  3333, 0, 0 },
	{ "c2 list, c2 flag off", SEGD_DCF_ON | SEGD_DCF_MINER, A4, C2_4, 443,
	  0, 0 },
};

ParameterizedTestParameters(detect_lists, lists)
{
	return cr_make_param_array(struct list_case, list_cases,
				   sizeof(list_cases) / sizeof(list_cases[0]));
}

/* The first new flow to a listed address raises the alert (the flow was
 * dropped: its target says so), the next ones in the epoch do not; all
 * are counted. */
ParameterizedTest(struct list_case *c, detect_lists, lists)
{
	const struct step steps[] = {
	{ "first flow", SYN_TO(c->src, c->dst, 40000, c->port), TC_ACT_SHOT,
	  BLK, 0, c->kind, 0, c->list_id },
	{ "second flow", SYN_TO(c->src, c->dst, 40001, c->port), TC_ACT_SHOT,
	  BLK, 0, 0, 0, 0 },
	{ "third flow, another port", SYN_TO(c->src, c->dst, 40002, 8443),
	  TC_ACT_SHOT, BLK, 0, 0, 0, 0 },
	};
	struct segd_detect_state st;
	struct det_alerts al;
	struct det_model m = { 0 };

	world_with_lists();
	det_config(LONG_EPOCH, 0, 0, 0, c->flags);
	det_alerts_open(&al);
	det_run_steps(c->name, steps, sizeof(steps) / sizeof(steps[0]), &al, &m);
	cr_assert_eq(det_state(EP_A, &st), 0);
	det_expect_state(&st, &m, c->name);
	cr_expect_eq(st.fired, c->kind ? 1u << c->kind : 0, "[%s] fired %#x",
		     c->name, st.fired);
	det_alerts_close(&al);
}

/* A listed flow that also takes the port count to its limit raises the
 * miner alert; the scan one comes with the endpoint's next new target. */
Test(detect_lists, miner_before_scan)
{
	static const struct step steps[] = {
	{ "S:1001", SYN_TO(A4, S4, 40000, 1001), TC_ACT_OK, FWD, 0, 0, 0 },
	{ "S:1002", SYN_TO(A4, S4, 40000, 1002), TC_ACT_OK, FWD, 0, 0, 0 },
	{ "miner:1003, third port", SYN_TO(A4, MINER4, 40000, 1003), TC_ACT_SHOT,
	  BLK, 0, SEGD_ALERT_MINER, 0, L_MINER },
	{ "S:1004: the scan", SYN_TO(A4, S4, 40000, 1004), TC_ACT_OK, FWD, 0,
	  SEGD_ALERT_SCAN, SEGD_SK_PORTS },
	{ "S:1005", SYN_TO(A4, S4, 40000, 1005), TC_ACT_OK, FWD, 0, 0, 0 },
	{ "C2 still raises its own", SYN_TO(A4, C2_4, 40000, 1006), TC_ACT_SHOT,
	  BLK, 0, SEGD_ALERT_C2, 0, L_C2 },
	};
	struct det_alerts al;
	struct det_model m = { 0 };

	world_with_lists();
	det_config(LONG_EPOCH, 3, 0, 0, ON_ALL);
	det_alerts_open(&al);
	det_run_steps("miner before scan", steps, sizeof(steps) / sizeof(steps[0]),
		      &al, &m);
	det_alerts_close(&al);
}

/* ---- Stratum -------------------------------------------------------------- */

static const char xmrig[] =
	"{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"login\",\"params\":"
	"{\"login\":\"4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfp\",\"pass\":\"x\","
	"\"agent\":\"XMRig/6.21.0 (Linux x86_64)\",\"algo\":[\"rx/0\"]}}\n";

#define LOGIN_TO(s_, d_, sp, dp_) { .src = s_, .dst = d_, .proto = TCP, \
	.sport = sp, .dport = dp_, .tcp_flags = PSHACK, .data = xmrig }

/* A Stratum login on a flow policy allowed: the flow is cut and, with the
 * miner flag, a miner alert with no list names it (dropped). The SYN was
 * the new flow; the login adds nothing to the counts. */
static void stratum(uint16_t flags, int want, int counts)
{
	const struct pkt_spec syn = SYN_TO(A4, S4, 42000, 3333);
	const struct pkt_spec login = LOGIN_TO(A4, S4, 42000, 3333);
	const struct pkt_spec syn2 = SYN_TO(A4, S4, 42001, 3333);
	const struct pkt_spec login2 = LOGIN_TO(A4, S4, 42001, 3333);
	struct segd_detect_state st;
	struct det_alerts al;
	struct det_model m = { 0 };

	det_world(0);
	det_config(LONG_EPOCH, 0, 0, 0, flags);
	det_alerts_open(&al);
	det_send("stratum", "syn", FROM, &syn, TC_ACT_OK, FWD);
	model_flow(&m, &syn, 0, 0);
	cr_expect_eq(det_alerts_take(&al), 0, "an alert for the syn");
	det_send("stratum", "login", FROM, &login, TC_ACT_SHOT, STR);
	cr_assert_eq(det_alerts_take(&al), (size_t)want, "alerts for the login");
	if (want)
		det_expect_alert(&al.got[0], &m, &login, 1, SEGD_ALERT_MINER,
				 0, 0, "stratum login");
	/* another miner flow in the epoch: counted, no second alert */
	det_send("stratum", "second syn", FROM, &syn2, TC_ACT_OK, FWD);
	model_flow(&m, &syn2, 0, 0);
	det_send("stratum", "second login", FROM, &login2, TC_ACT_SHOT, STR);
	cr_expect_eq(det_alerts_take(&al), 0, "a second miner alert");
	if (counts) {
		cr_assert_eq(det_state(EP_A, &st), 0);
		det_expect_state(&st, &m, "stratum");
	} else {
		cr_expect_eq(det_state(EP_A, &st), -ENOENT, "state kept");
	}
	det_alerts_close(&al);
}

Test(detect_lists, stratum_login) { stratum(ON_ALL, 1, 1); }
Test(detect_lists, stratum_login_miner_flag_off)
{
	stratum(SEGD_DCF_ON | SEGD_DCF_C2, 0, 1);
}
Test(detect_lists, stratum_login_detection_off) { stratum(SEGD_DCF_MINER, 0, 0); }

/* ---- epochs ---------------------------------------------------------------- */

#define EPOCH (1 * SEC_NS)
#define MARGIN (50 * 1000000ull)

/* A count covers the current epoch and the one before: a scan still going
 * on in the next epoch raises again (once) with the evidence of both; an
 * epoch later than the next one starts from nothing. */
Test(detect_lists, epochs)
{
	struct segd_detect_state st, was;
	struct det_alerts al;
	struct det_model m = { 0 };
	struct pkt_spec ps;
	uint64_t ep;

	det_world(0);
	det_config(EPOCH, 4, 0, 0, ON_ALL);
	det_alerts_open(&al);
	ep = det_stay_in_epoch(EPOCH, EPOCH) + 1;
	det_sleep_to_epoch(EPOCH, ep, MARGIN);
	for (int i = 0; i < 5; i++) {
		ps = (struct pkt_spec)SYN_TO(A4, S4, 40000, (uint16_t)(1000 + i));
		det_send("epoch 1", "a new port", FROM, &ps, TC_ACT_OK, FWD);
		model_flow(&m, &ps, 0, 0);
		cr_expect_eq(det_alerts_take(&al), i == 3, "port %d", i);
	}
	cr_assert_eq(m.count[SEGD_SK_PORTS], 5, "the ports collide");
	cr_assert_eq(det_state(EP_A, &was), 0);
	cr_expect_eq(was.epoch, ep, "epoch %llu, want %llu",
		     (unsigned long long)was.epoch, (unsigned long long)ep);

	/* the next epoch: the count goes on from the last one */
	det_sleep_to_epoch(EPOCH, ep + 1, MARGIN);
	ps = (struct pkt_spec)SYN_TO(A4, S4, 40000, 1005);
	det_send("epoch 2", "a new port", FROM, &ps, TC_ACT_OK, FWD);
	model_flow(&m, &ps, 0, 0);
	cr_assert_eq(det_alerts_take(&al), 1, "no alert in the next epoch");
	det_expect_alert(&al.got[1], &m, &ps, 0, SEGD_ALERT_SCAN,
			 SEGD_SK_PORTS, 0, "epoch 2");
	cr_expect_eq(al.got[1].first_ns, al.got[0].first_ns,
		     "the window starts with the previous epoch");
	cr_assert_eq(det_state(EP_A, &st), 0);
	cr_expect_eq(st.epoch, ep + 1);
	cr_expect_eq(memcmp(st.prev, was.cur, sizeof(st.prev)), 0,
		     "prev is the last epoch's cur");
	cr_expect_eq(st.flows[1], 5);
	cr_expect_eq(st.flows[0], 1);
	cr_expect_eq(st.cur_bits[SEGD_SK_PORTS], 1);
	cr_expect_eq(st.union_bits[SEGD_SK_PORTS], 6);
	cr_expect_eq(st.fired, 1u << SEGD_ALERT_SCAN);

	/* a port of the last epoch: new to this one, not to the window */
	ps = (struct pkt_spec)SYN_TO(A4, S4, 40001, 1000);
	det_send("epoch 2", "an old port", FROM, &ps, TC_ACT_OK, FWD);
	cr_expect_eq(det_alerts_take(&al), 0, "a second alert in the epoch");
	cr_assert_eq(det_state(EP_A, &st), 0);
	cr_expect_eq(st.cur_bits[SEGD_SK_PORTS], 2);
	cr_expect_eq(st.union_bits[SEGD_SK_PORTS], 6);
	cr_expect_eq(st.flows[0], 2);

	/* an epoch skipped: everything before is forgotten */
	det_sleep_to_epoch(EPOCH, ep + 3, MARGIN);
	ps = (struct pkt_spec)SYN_TO(A4, S4, 40000, 2000);
	det_send("epoch 4", "a new port", FROM, &ps, TC_ACT_OK, FWD);
	cr_expect_eq(det_alerts_take(&al), 0, "an alert after a gap");
	cr_assert_eq(det_state(EP_A, &st), 0);
	cr_expect_eq(st.epoch, ep + 3);
	cr_expect_eq(st.flows[0], 1);
	cr_expect_eq(st.flows[1], 0);
	cr_expect_eq(st.union_bits[SEGD_SK_PORTS], 1);
	cr_expect_eq(st.union_bits[SEGD_SK_HOSTS], 1);
	cr_expect_eq(st.fired, 0);
	for (int sk = 0; sk < SEGD_SK_MAX; sk++)
		for (int w = 0; w < SEGD_DETECT_WORDS; w++)
			cr_expect_eq(st.prev[sk][w], 0, "prev[%d][%d]", sk, w);
	det_alerts_close(&al);
}
