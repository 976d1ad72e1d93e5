/* bl_harness.h - what the blocklist suites share (defined in
 * bl_harness.c): their policy world, row tables that also check the
 * per-list counters, compiled lists built by hand (sorted as
 * seg_blocklists_compile sorts them), and a check that the maps hold
 * exactly a compiled content.
 *
 * Rows run in order (conntrack state carries over); each names the
 * verdict, the one reason counter that must move (NOR: none) and optionally
 * a second one (audit slots move in addition to FORWARDED), and which
 * blocklist counter row must move.
 */
#ifndef SEGD_TEST_BL_HARNESS_H
#define SEGD_TEST_BL_HARNESS_H

#include <netinet/in.h>
#include "blocklist.h"
#include "dp_core.h"

#define ID_A   256u        /* enforced both ways; Stratum: drop */
#define ID_B   257u        /* not enforced; Stratum: audit */
#define ID_C   258u        /* not enforced; Stratum: off */
#define ID_R   0x01000001u /* 203.0.113.0/24 */
#define ID_R6  0x01000002u /* 2001:db8::/32 */
#define ID_S   0x01000003u /* 198.51.100.0/24 */
#define A4 "10.200.0.10"
#define B4 "10.200.0.11"
#define C4 "10.200.0.13"
#define A6 "fd00:200::10"
#define EP_IF 1u

#define FROM SEG_PROG_TC_FROM_EP
#define TO   SEG_PROG_TC_TO_EP
#define XDP  SEG_PROG_XDP_UPLINK
#define NOR  (-1)
#define FWD  SEGD_REASON_FORWARDED
#define BLK  SEGD_REASON_BLOCKLISTED
#define STR  SEGD_REASON_STRATUM
#define STA  SEGD_REASON_STRATUM_AUDIT
#define TCP IPPROTO_TCP
#define SYN 0x02
#define ACK 0x10
#define PSHACK 0x18
#define EG SEGD_DIR_EGRESS
#define IN SEGD_DIR_INGRESS
#define ALLOW SEGD_VERDICT_ALLOW

/* the lists: 1 drop, 2 drop, 3 audit */
#define L_EX   "203.0.113.5"     /* list 1, exact; policy allows tcp to R */
#define L_AUD  "203.0.113.9"     /* list 3 (audit), exact */
#define L_PFX  "198.51.100.8"    /* inside list 2's 198.51.100.0/24 */
#define L_EXC  "198.51.100.7"    /* inside it, but an exception */
#define L_EX6  "2001:db8::66"    /* list 1, exact */
#define L_PFX6 "2001:db8:bad::1" /* inside list 2's 2001:db8:bad::/48 */
#define CLEAN  "203.0.113.6"
#define CLEAN6 "2001:db8::1"

struct row {
	DP_ROW_HEAD;
	int reason2;          /* 0: none (FORWARDED is never a second one) */
	int bl_list;          /* 0: no blocklist row may move */
};

/* A (enforced), B (Stratum audit), C (Stratum off) and the outside
 * prefixes R, R6, S with their rules; applied with a new generation */
void bl_world(struct seg_compiled *c);
void bl_apply_world(void);
void bl_run_rows(const char *scenario, const struct row *rows, size_t n);
#define RUN(name, rows) bl_run_rows(name, rows, sizeof(rows) / sizeof(rows[0]))

#define SYN_TO(s_, d_, sp, dp_) { .src = s_, .dst = d_, .proto = TCP, \
	.sport = sp, .dport = dp_, .tcp_flags = SYN }
#define DATA_TO(s_, d_, sp, dp_, text) { .src = s_, .dst = d_, \
	.proto = TCP, .sport = sp, .dport = dp_, .tcp_flags = PSHACK, \
	.data = text }

void bl_exact(struct seg_bl_compiled *c, const char *addr, uint16_t list,
	      uint8_t action);
void bl_prefix(struct seg_bl_compiled *c, const char *addr, int plen,
	       uint16_t list, uint8_t action);
void bl_except(struct seg_bl_compiled *c, const char *addr, int plen);
void bl_free(struct seg_bl_compiled *c);

/* the /24 view of c, worked out the slow way; the number of /24 keys */
struct n24 { uint32_t key, plen; struct segd_bl_value v; };
size_t bl_want_net24(const struct seg_bl_compiled *c, struct n24 **out);
/* every blocklist map, the prefix gate and the flags hold exactly c */
void bl_expect_maps(const struct seg_bl_compiled *c, const char *step);

#endif /* SEGD_TEST_BL_HARNESS_H */
