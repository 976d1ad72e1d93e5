/* detect_harness.h - what the detection suites (test_detect*.c) share
 * (defined in detect_harness.c): the world of dp_harness.h plus workloads
 * on other nodes, the detection config written straight to its map, the
 * alerts read back from the segd_alerts ring, the endpoint's state, and a
 * model of the sketches.
 *
 * The model counts what a new egress flow adds to each sketch the way
 * segd_abi.h's "detection" section says (one bit per distinct target,
 * bpf/lib/detect.h's hash), so a test knows exactly which flow crosses a
 * limit and can check the kernel's bits word for word. Tests also use it
 * to refuse inputs whose targets collide before the crossing: a limit of
 * N bits is then reached by the N-th distinct target.
 */
#ifndef SEGD_TEST_DETECT_HARNESS_H
#define SEGD_TEST_DETECT_HARNESS_H

#include <bpf/libbpf.h>
#include "dp_harness.h"

#define EP_A   1u                 /* A's endpoint id in world() */
#define DDN    SEGD_REASON_DEFAULT_DENIED
#define BLK    SEGD_REASON_BLOCKLISTED
#define STR    SEGD_REASON_STRATUM
#define ICMP   IPPROTO_ICMP
#define PSHACK 0x18

/* workloads on other nodes: WL_BASE + i (i < N_WL), identity ID_WL + i;
 * A's policy says nothing about them, so A's attempts are default-denied */
#define WL_BASE "10.200.1.0"
#define N_WL    24
#define ID_WL   300u

#define SEC_NS 1000000000ull
#define LONG_EPOCH (60 * SEC_NS)   /* a test stays in one epoch */

/* world(variant) of dp_harness.h and the remote workloads, applied */
void det_world(int variant);

/* segd_detect_cfg[0] as segd would write it; with a long epoch, first
 * waits out an epoch boundary that is less than 2 s away */
void det_config(uint64_t epoch_ns, uint16_t lim_ports, uint16_t lim_hosts,
		uint16_t lim_denied, uint16_t flags);
/* wait until `need_ns` is left in the current epoch of epoch_ns (the
 * kernel's clock: CLOCK_MONOTONIC_COARSE); the epoch we are in */
uint64_t det_stay_in_epoch(uint64_t epoch_ns, uint64_t need_ns);
/* sleep to `margin_ns` past the start of epoch `ep` */
void det_sleep_to_epoch(uint64_t epoch_ns, uint64_t ep, uint64_t margin_ns);

/* the alerts ring: each det_alerts_take() consumes what waits and returns
 * how many alerts that was; got[] keeps them all in order */
struct det_alerts {
	struct ring_buffer *rb;
	struct segd_alert got[64];
	size_t n;
};
void det_alerts_open(struct det_alerts *al);
size_t det_alerts_take(struct det_alerts *al);
void det_alerts_close(struct det_alerts *al);

/* the endpoint's segd_detect entry: 0, or -ENOENT when it has none */
int det_state(uint32_t endpoint_id, struct segd_detect_state *st);

/* one packet through prog; its verdict and reason counter as expected */
void det_send(const char *scenario, const char *name, enum seg_prog prog,
	      const struct pkt_spec *ps, int verdict, int reason);

/* i-th address after base ("10.200.1.0" + 3 = "10.200.1.3"; v6: the last
 * 16 bits) into buf */
void det_addr_plus(const char *base, int i, char *buf, size_t len);

/* one step of a sequence (det_run_steps): a new egress flow of A, its
 * verdict, and the alert it raises (kind 0: none) */
struct step {
	const char *name;
	struct pkt_spec pkt;
	int verdict, reason, to_workload;
	int kind, sketch;
	uint16_t list_id;
};
struct det_model;
/* send each step, count it in m, and check the alert it raised */
void det_run_steps(const char *scenario, const struct step *s, size_t n,
		   struct det_alerts *al, struct det_model *m);

/* ---- the model of one endpoint's sketches within one epoch ------------- */
struct det_model {
	uint64_t bits[SEGD_SK_MAX][SEGD_DETECT_WORDS];
	uint32_t count[SEGD_SK_MAX];       /* bits set: what a limit is met by */
	uint32_t flows, denied, fresh;     /* fresh: targets new to a sketch */
	struct segd_detect_target sample[SEGD_DETECT_SAMPLES];
};

/* the new egress flow ps, dropped or not, to a workload or not; which
 * sketches it was new to (bit per enum segd_detect_sketch) */
unsigned int model_flow(struct det_model *m, const struct pkt_spec *ps,
			int denied, int to_workload);
/* the target a flow is counted as (segd_detect_target) */
void model_target(const struct pkt_spec *ps, int denied,
		  struct segd_detect_target *t);

/* the kernel's current epoch holds what m holds (single-epoch model) */
void det_expect_state(const struct segd_detect_state *st,
		      const struct det_model *m, const char *where);
/* a is the alert m predicts for flow ps: kind, sketch, endpoint A at
 * laddr, target, counts, bits and samples */
void det_expect_alert(const struct segd_alert *a, const struct det_model *m,
		      const struct pkt_spec *ps, int denied, int kind,
		      int sketch, uint16_t list_id, const char *where);

#endif /* SEGD_TEST_DETECT_HARNESS_H */
