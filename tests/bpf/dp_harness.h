/* dp_harness.h - shared by the test_datapath*.c files: the test world
 * (identities, addresses, the seeded policy), the datapath under test and
 * the table-driven row runner.
 *
 * A scenario is a seeded state plus rows run in order (rows may depend on
 * conntrack state left by earlier rows). Each row: packet spec, program,
 * expected verdict, expected reason counter delta (exactly that reason +1
 * packet, every other reason unchanged; NOR = no reason counted at all).
 * The "endpoint interface" is ifindex 1 (lo): test_run needs a real device.
 */
#ifndef SEGD_TEST_DP_HARNESS_H
#define SEGD_TEST_DP_HARNESS_H

#include <criterion/criterion.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_core.h"

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
	DP_ROW_HEAD;
};

/* dp (dp_core.h): the "datapath" suite opens it in its init and closes it
 * in its fini (a test that reopens it leaves one open).
 *
 * The seeded world. variant 0: full policy; 1: rule 1 renumbered to 21;
 * 2: rule 1 (A egress TCP 80 to R) removed. */
void world(struct seg_compiled *c, int variant);
void apply_world(int variant);
/* The audit world (test_policy_decide.c): A enforced on ingress only, TCP
 * 22 from R allowed (rule 5), 23 allowed by an audit entry (rule 7), 24
 * denied (rule 8), anything else audited by the catch-all (rule 0). */
void apply_audit_world(void);
/* pin the test to CPU 0: per-CPU slots (handoff.h) written by one
 * program run must be the ones the next run reads */
void dp_pin_cpu0(void);
/* run the rows in order; a failing row prints its name and the packet */
void run_rows(const char *scenario, const struct row *rows, size_t n);

#define RUN(name, rows) run_rows(name, rows, sizeof(rows) / sizeof(rows[0]))

#endif
