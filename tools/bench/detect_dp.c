/* bench_detect_dp - what in-kernel detection costs per packet (root).
 *
 * Endpoint A's tc program (from_endpoint), the same datapath and packets
 * with detection off (segd_detect_cfg all zero, what segd writes for
 * `enabled: false`) and on (the default config's image, limits raised to
 * 0xffff bits: a sketch holds 256, so no alert fires and the measure is
 * the counting alone; the alerts ring is read at the end to show it).
 * Cases:
 *   established   an ACK of an open flow (CT hit): detection never runs,
 *                 repeat 1,000,000
 *   new allowed   a new TCP flow A -> outside, allowed (CT created)
 *                 - same service: a new source port each, one destination
 *                   (after the first, the sketches already hold its bits)
 *                 - new port each: a distinct destination port per flow,
 *                   A's sketches cleared every RESET flows (user space,
 *                   between runs) so nearly every flow sets new bits: the
 *                   dearest path short of an alert
 *   new denied    a new TCP flow A -> a remote workload, default-denied
 *                 (counted in all three sketches, lateral too)
 *                 - same target: no state is created on a deny, so the
 *                   packet repeats as a new flow, repeat 1,000,000; and the
 *                   same at repeat 1 (below), which shows what the repeat-1
 *                   method adds (cold caches each call) to the rows it
 *                   measures
 *                 - new port each: as for allowed
 * A new allowed flow creates a CT entry, so those cases (and "new port
 * each") run NEWFLOWS distinct packets at repeat 1 and subtract the
 * per-call overhead, calibrated each round as the established packet's
 * mean at repeat 1 minus its ns at repeat 1,000,000 (datapath.c's method);
 * the same overhead is subtracted from off and on, so on - off does not
 * depend on it. Conntrack is emptied at the start of each round.
 * A's segd_detect entry (LRU) is created by its first counted flow, before
 * the measure. Rounds alternate off/on (off on, on off, ...); median of
 * SEGD_BENCH_ROUNDS rounds (default 7), minimum in parentheses; on/off and
 * on - off are the medians of each round's ratio and difference, so drift
 * between rounds cancels.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf.h>

#include "bench_util.h"
#include "bench_tc.h"
#include "datapath.h"
#include "detect.h"
/* the hand-built compiled state and the packet builder of the BPF tests */
#include "bpf/dp_state.c"
#include "bpf/pktbuild.c"

#define REPEAT    1000000u
#define ROUNDS    7
#define MAXROUNDS 64
#define NEWFLOWS  10000
#define RESET     64          /* "new port each": flows between clears */
#define EP_IF     1u          /* lo: test_run needs a real device */
#define EP_A      1u          /* A's endpoint id */
#define ID_A      256u
#define ID_WL     300u        /* a workload on another node */
#define ID_OUT    0x01000001u /* 203.0.113.0/24 */
#define A4        "10.200.0.10"
#define WL4       "10.200.1.1"
#define EST4      "203.0.113.5"   /* the established flow's remote */
#define OUT4      "203.0.113.6"   /* new flows' remote */

enum { OFF, ON };
enum { C_EST, C_ALLOW_SAME, C_ALLOW_NEW, C_DENY_SAME, C_DENY_SAME1, C_DENY_NEW, C_COUNT };

static const struct bench_case {
	const char *name;
	const char *dst;
	int repeated;        /* one packet at REPEAT, else NEWFLOWS at 1 */
	int new_port;        /* a distinct destination port per flow */
	uint32_t verdict;
} cases[C_COUNT] = {
	{ "established (CT hit)", EST4, 1, 0, TC_ACT_OK },
	{ "new allowed, same service", OUT4, 0, 0, TC_ACT_OK },
	{ "new allowed, new port each", OUT4, 0, 1, TC_ACT_OK },
	{ "new denied (workload), same target", WL4, 1, 0, TC_ACT_SHOT },
	{ "  the same at repeat 1, as below", WL4, 0, 0, TC_ACT_SHOT },
	{ "new denied (workload), new port each", WL4, 0, 1, TC_ACT_SHOT },
};

struct bench {
	struct seg_datapath *dp;
	int prog, detect_fd;
	struct segd_detect_config cfg[2];
	unsigned int seq;            /* distinct source ports this round */
};

/* one TCP packet A -> dst; its verdict must be want */
static int send_one(const struct bench *b, const char *dst, uint16_t sport, uint16_t dport,
		    uint8_t flags, uint32_t repeat, uint32_t want, uint32_t *ns)
{
	struct pkt_spec ps = { .src = A4, .dst = dst, .proto = IPPROTO_TCP,
			       .sport = sport, .dport = dport, .tcp_flags = flags };
	uint8_t pkt[128];
	uint32_t rv = 0;
	int len = pkt_build(&ps, pkt, sizeof(pkt));

	if (len < 0 || tc_test_run(b->prog, EP_IF, pkt, len, repeat, ns, &rv))
		return -EIO;
	if (rv != want) {
		fprintf(stderr, "bench: A -> %s:%u: verdict %u, want %u\n", dst, dport, rv, want);
		return -EPROTO;
	}
	return 0;
}

/* A's sketches and counts cleared, its epoch kept (no rotation follows) */
static int detect_clear(const struct bench *b)
{
	struct segd_detect_state st, blank;
	uint32_t key = EP_A;

	if (bpf_map_lookup_elem(b->detect_fd, &key, &st))
		return -errno;
	memset(&blank, 0, sizeof(blank));
	blank.epoch = st.epoch;
	blank.first_ns[0] = st.first_ns[0];
	return bpf_map_update_elem(b->detect_fd, &key, &blank, BPF_EXIST) ? -errno : 0;
}

static int ct_delete(void *ctx, const struct segd_ct_key *k, const struct segd_ct_value *v)
{
	(void)k, (void)v;
	++*(size_t *)ctx;
	return 1;
}

/* an empty conntrack, then the established flow opened again */
static int round_start(struct bench *b)
{
	uint32_t ns;
	size_t n = 1;
	int err = 0;

	for (int i = 0; i < 5 && n && !err; i++) {
		n = 0;
		err = seg_dp_ct_foreach(b->dp, ct_delete, &n);
	}
	b->seq = 0;
	return err ? err : send_one(b, EST4, 40000, 443, 0x02, 1, TC_ACT_OK, &ns);
}

/* ns per packet of case c with detection `on`; ovh: per-call overhead */
static int measure(struct bench *b, int c, int on, double ovh, double *out)
{
	const struct bench_case *k = &cases[c];
	uint8_t flags = c == C_EST ? 0x10 : 0x02;
	uint16_t port = k->verdict == TC_ACT_OK ? 443 : 22;
	double sum = 0;
	uint32_t ns;
	int err;

	if ((err = seg_dp_detect_configure(b->dp, &b->cfg[on])))
		return err;
	if (k->repeated) {
		err = send_one(b, k->dst, 40000, port, flags, REPEAT, k->verdict, &ns);
		*out = ns;
		return err;
	}
	for (int i = 0; i < NEWFLOWS && !err; i++) {
		if (on && k->new_port && i % RESET == 0)
			err = detect_clear(b);
		/* allowed flows stay in conntrack: distinct in the round */
		if (k->verdict == TC_ACT_OK && ++b->seq >= 64000)
			return -ERANGE;
		err = err ? err : send_one(b, k->dst, (uint16_t)(1024 + (k->verdict ==
					   TC_ACT_OK ? b->seq : (unsigned int)i)),
					   k->new_port ? (uint16_t)(1000 + i) : port, flags, 1,
					   k->verdict, &ns);
		sum += ns;
	}
	*out = sum / NEWFLOWS - ovh;
	return err;
}

/* mean ns of the established packet at repeat 1 minus at repeat REPEAT */
static int calibrate(struct bench *b, double *ovh)
{
	uint32_t ns, big;
	double sum = 0;
	int err = send_one(b, EST4, 40000, 443, 0x10, REPEAT, TC_ACT_OK, &big);

	for (int i = 0; i < NEWFLOWS && !err; i++) {
		err = send_one(b, EST4, 40000, 443, 0x10, 1, TC_ACT_OK, &ns);
		sum += ns;
	}
	*ovh = sum / NEWFLOWS - big;
	return err;
}

static int build_state(struct bench *b)
{
	uint32_t f = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS | SEGD_EPF_ENFORCE_EGRESS;
	struct seg_detect_settings s;
	struct seg_compiled c;
	int err;

	st_init(&c);
	err = st_exact(&c, A4, ID_A, EP_IF, f, EP_A) ||
	      st_exact(&c, WL4, ID_WL, 0, 0, 0) || st_world(&c) ||
	      st_prefix(&c, "203.0.113.0/24", ID_OUT) ||
	      st_rule(&c, ID_A, ID_OUT, SEGD_DIR_EGRESS, IPPROTO_TCP, SEGD_PORT_ANY, 0,
		      SEGD_VERDICT_ALLOW, 1) ? -ENOMEM : seg_dp_apply(b->dp, &c);
	st_free(&c);
	if (err)
		return err;
	seg_detect_defaults(&s);
	seg_detect_config_image(&s, &b->cfg[ON]);
	for (int i = 0; i < SEGD_SK_MAX; i++)
		b->cfg[ON].limit[i] = 0xffff;   /* > SEGD_DETECT_BITS: never */
	s.off = true;
	seg_detect_config_image(&s, &b->cfg[OFF]);
	b->prog = seg_dp_prog_fd(b->dp, SEG_PROG_TC_FROM_EP);
	b->detect_fd = seg_dp_map_fd(b->dp, SEGD_MAP_DETECT);
	return b->prog < 0 || b->detect_fd < 0 ? -ENOENT : 0;
}

/* A's counted flows, 0 when it has no segd_detect entry */
static uint32_t counted(const struct bench *b)
{
	struct segd_detect_state st;
	uint32_t key = EP_A;

	return bpf_map_lookup_elem(b->detect_fd, &key, &st) ? 0 : st.flows[0] + st.flows[1];
}

/* A's detect entry exists (created on its first counted flow); counting
 * runs when on and not when off */
static int check_switch(struct bench *b, uint32_t got[3])
{
	uint32_t ns;
	int err = 0;

	for (int i = 0; i < 3 && !err; i++) {
		err = seg_dp_detect_configure(b->dp, &b->cfg[i == 1 ? OFF : ON]);
		err = err ? err : send_one(b, WL4, 50000, (uint16_t)(22 + i), 0x02, 1,
					   TC_ACT_SHOT, &ns);
		got[i] = counted(b);
	}
	return err ? err : got[0] && got[1] == got[0] && got[2] == got[0] + 1 ? 0 : -EPROTO;
}

static void on_alert(void *ctx, const void *rec)
{
	(void)rec;
	++*(size_t *)ctx;
}

static void report(double v[2][C_COUNT][MAXROUNDS], const double *ovh, int rounds,
		   size_t alerts, const uint32_t sw[3])
{
	printf("detection per packet: tc from_endpoint, BPF_PROG_TEST_RUN; median of %d "
	       "rounds,\noff and on alternating (min in parentheses)\n", rounds);
	printf("  %-38s %15s %15s %7s %8s\n", "case", "off ns", "on ns", "on/off", "on-off");
	for (int c = 0; c < C_COUNT; c++) {
		double mn[2], med[2], diff[MAXROUNDS], ratio[MAXROUNDS];

		/* paired: a round's on and off ran back to back */
		for (int r = 0; r < rounds; r++) {
			diff[r] = v[ON][c][r] - v[OFF][c][r];
			ratio[r] = v[OFF][c][r] > 0 ? v[ON][c][r] / v[OFF][c][r] : 0;
		}
		for (int k = 0; k < 2; k++) {
			mn[k] = minimum(v[k][c], rounds);
			med[k] = median(v[k][c], rounds);
		}
		printf("  %-38s %6.1f (%6.1f) %6.1f (%6.1f) %6.2fx %+7.1f\n", cases[c].name,
		       med[OFF], mn[OFF], med[ON], mn[ON], median(ratio, rounds),
		       median(diff, rounds));
	}
	printf("on/off, on-off: medians of each round's ratio and difference (off and on ran\n"
	       "  back to back in a round).\n"
	       "method: established and 'same target' denied: one packet at repeat %u;\n"
	       "  the others: %d distinct new flows at repeat 1 minus the per-call overhead\n"
	       "  (%.1f ns median: established@1 - established@%u), the same for off and on;\n"
	       "  'new port each' clears A's sketches every %d flows. Limits 0xffff bits: "
	       "alerts\n  raised during the measure: %zu. Check: A's counted flows %u -> %u "
	       "(off) -> %u (on).\n", REPEAT, NEWFLOWS, median((double *)ovh, rounds), REPEAT,
	       RESET, alerts, sw[0], sw[1], sw[2]);
}

int main(void)
{
	const char *env = getenv("SEGD_BENCH_ROUNDS");
	int rounds = env ? atoi(env) : ROUNDS, err;
	static double v[2][C_COUNT][MAXROUNDS];
	double ovh[MAXROUNDS];
	struct seg_dp_events *ring = NULL;
	struct bench b = { 0 };
	uint32_t sw[3] = { 0 };
	size_t alerts = 0;

	if (rounds < 1 || rounds > MAXROUNDS)
		rounds = ROUNDS;
	if ((err = seg_dp_open(NULL, &b.dp))) {
		fprintf(stderr, "bench: seg_dp_open: %s (root?)\n", strerror(-err));
		return 1;
	}
	err = build_state(&b);
	err = err ? err : seg_dp_events_open(b.dp, SEGD_MAP_ALERTS, sizeof(struct segd_alert),
					     on_alert, &alerts, &ring);
	err = err ? err : check_switch(&b, sw);
	for (int r = 0; r < rounds && !err; r++) {
		err = round_start(&b);
		err = err ? err : calibrate(&b, &ovh[r]);
		for (int c = 0; c < C_COUNT && !err; c++)
			for (int j = 0; j < 2 && !err; j++) {
				int on = (r + c) % 2 ? 1 - j : j;

				err = measure(&b, c, on, ovh[r], &v[on][c][r]);
			}
	}
	if (ring)
		seg_dp_events_consume(ring);
	if (!err)
		report(v, ovh, rounds, alerts, sw);
	else
		fprintf(stderr, "bench: %s (counted flows %u %u %u)\n", strerror(-err), sw[0],
			sw[1], sw[2]);
	seg_dp_events_close(ring);
	seg_dp_close(b.dp);
	return err || alerts ? 1 : 0;
}
