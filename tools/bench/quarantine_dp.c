/* bench_quarantine_dp - what the quarantine check costs per packet (root).
 *
 * One established TCP flow of endpoint A (tc from_endpoint, conntrack hit),
 * BPF_PROG_TEST_RUN with repeat = 1,000,000 (kernel-reported mean ns), in
 * three states side by side, rounds alternating so drift hits all alike:
 *   none     nobody quarantined: SEGD_CFG_QUARANTINE clear, the map is not
 *            asked (the common case; one bit test)
 *   other    another endpoint quarantined: the flag is set, A's address
 *            misses the quarantine hash before conntrack
 *   self     A quarantined with 8 forensic rules none of which match: the
 *            packet is dropped before conntrack (counted, event asked for)
 * Ratios are against "none". Median of SEGD_BENCH_ROUNDS rounds (default
 * 7), minimum in parentheses.
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
#include "quarantine.h"
/* the hand-built compiled state and the packet builder of the BPF tests */
#include "bpf/dp_state.c"
#include "bpf/pktbuild.c"

#define REPEAT 1000000u
#define MAXROUNDS 64
#define EP_IF 1u              /* lo: test_run needs a real device */
#define A4 "10.200.0.10"
#define B4 "10.200.0.11"
#define R4 "203.0.113.5"

enum { S_NONE, S_OTHER, S_SELF, S_COUNT };
static const char *const state_names[S_COUNT] = {
	"none (flag clear)", "other endpoint quarantined", "self quarantined (drop)",
};

/* map content for state s: nothing, B's entry, or A's entry */
static int set_state(struct seg_datapath *dp, int s, struct seg_quar_entry *cur,
		     size_t *n_cur)
{
	struct seg_quar_entry next = { 0 };
	int err;

	if (s != S_NONE) {
		st_addr(s == S_OTHER ? B4 : A4, &next.addr);
		next.value.quarantine_id = 1;
		next.value.n_allow = SEGD_QUAR_ALLOW;
		for (int i = 0; i < SEGD_QUAR_ALLOW; i++) {
			st_addr("198.51.100.0", &next.value.allow[i].net);
			next.value.allow[i].net.b[15] = (uint8_t)i;
			memset(next.value.allow[i].mask.b, 0xff, 16);
		}
	}
	err = seg_dp_quarantine_write(dp, cur, *n_cur, true, &next, s != S_NONE);
	*cur = next;
	*n_cur = s != S_NONE;
	return err;
}

int main(void)
{
	uint32_t f = SEGD_EPF_LOCAL | SEGD_EPF_ENFORCE_INGRESS | SEGD_EPF_ENFORCE_EGRESS;
	const char *env = getenv("SEGD_BENCH_ROUNDS");
	int rounds = env ? atoi(env) : 7, fd, len, err;
	double v[S_COUNT][MAXROUNDS], med[S_COUNT], mn[S_COUNT];
	struct seg_quar_entry cur = { 0 };
	struct seg_datapath *dp = NULL;
	struct seg_compiled c;
	struct pkt_spec syn = { .src = A4, .dst = R4, .proto = 6, .sport = 40000,
				.dport = 80, .tcp_flags = 0x02 }, ack = syn;
	uint8_t pkt[256];
	uint32_t ns, rv;
	size_t n_cur = 0;

	if (rounds < 1 || rounds > MAXROUNDS)
		rounds = 7;
	if ((err = seg_dp_open(NULL, &dp))) {
		fprintf(stderr, "bench: seg_dp_open: %s (root?)\n", strerror(-err));
		return 1;
	}
	st_init(&c);
	if (st_exact(&c, A4, 256, EP_IF, f, 1) || st_exact(&c, B4, 257, EP_IF, f, 2) ||
	    st_world(&c) || st_prefix(&c, "203.0.113.0/24", 0x01000001u) ||
	    st_rule(&c, 256, 0x01000001u, SEGD_DIR_EGRESS, 6, SEGD_PORT_EXACT, 80,
		    SEGD_VERDICT_ALLOW, 1) || seg_dp_apply(dp, &c)) {
		fprintf(stderr, "bench: cannot build the state\n");
		return 1;
	}
	st_free(&c);
	ack.tcp_flags = 0x10;
	fd = seg_dp_prog_fd(dp, SEG_PROG_TC_FROM_EP);
	/* open the flow: the SYN creates the CT entry every later ACK hits */
	len = pkt_build(&syn, pkt, sizeof(pkt));
	if (len < 0 || tc_test_run(fd, EP_IF, pkt, len, 1, &ns, &rv) || rv != TC_ACT_OK) {
		fprintf(stderr, "bench: the flow did not open\n");
		return 1;
	}
	len = pkt_build(&ack, pkt, sizeof(pkt));
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < S_COUNT; k++) {
			int s = r % 2 ? S_COUNT - 1 - k : k;
			uint32_t want = s == S_SELF ? TC_ACT_SHOT : TC_ACT_OK;

			if (set_state(dp, s, &cur, &n_cur) ||
			    tc_test_run(fd, EP_IF, pkt, len, REPEAT, &ns, &rv) || rv != want) {
				fprintf(stderr, "bench: %s: verdict %u, want %u\n",
					state_names[s], rv, want);
				return 1;
			}
			v[s][r] = ns;
		}
	}
	for (int s = 0; s < S_COUNT; s++) {
		mn[s] = minimum(v[s], rounds);
		med[s] = median(v[s], rounds);
	}
	printf("quarantine check: ns per packet of an established TCP flow (tc, CT hit),\n"
	       "BPF_PROG_TEST_RUN repeat %u, median of %d rounds (min)\n", REPEAT, rounds);
	for (int s = 0; s < S_COUNT; s++)
		printf("  %-30s %7.1f (%5.1f)   %5.2fx\n", state_names[s], med[s], mn[s],
		       med[s] / med[S_NONE]);
	seg_dp_close(dp);
	return 0;
}
