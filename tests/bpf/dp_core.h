/* dp_core.h - the datapath plumbing every tests/bpf suite shares (defined
 * in dp_harness.c): the open datapath, suite init/fini, applying a seeded
 * state, running a program on one packet, a row-table loop, the config
 * flags and CT lookups. Suites with their own test world include only
 * this; the test_datapath*.c files get it through dp_harness.h.
 */
#ifndef SEGD_TEST_DP_CORE_H
#define SEGD_TEST_DP_CORE_H

#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath.h"
#include "dp_state.h"
#include "pktbuild.h"

/* the leading fields of a packet row: name, program, packet spec, expected
 * verdict, expected reason counter (suites may add fields after these) */
#define DP_ROW_HEAD                                                          \
	const char *name;                                                    \
	enum seg_prog prog;                                                  \
	struct pkt_spec pkt;                                                 \
	int verdict;                                                         \
	int reason

/* the datapath of the running test: opened by a suite's init
 * (dp_suite_init), closed by its fini (dp_suite_fini) */
extern struct seg_datapath *dp;

void dp_suite_init(void);
void dp_suite_fini(void);

/* seg_dp_apply(dp, c), then st_free(c); asserts the apply worked */
void dp_apply(struct seg_compiled *c);

/* a test-only BPF object's maps, before its load: the datapath's maps of
 * the same name instead of its own, and nothing pinned */
void dp_share_maps(struct bpf_object *obj);

/* one test_run of prog on pkt (tc programs see ifindex); 0 or -errno */
int dp_run_prog(enum seg_prog prog, const uint8_t *pkt, int len,
		uint32_t ifindex, uint32_t *retval);
/* the same, shaped as a real stack hands packets over: XDP with only
 * `linear` bytes in the first buffer (the rest in fragments), tc as a GSO
 * packet of gso_segs segments (0: neither) */
int dp_run_shaped(enum seg_prog prog, const uint8_t *pkt, int len,
		  uint32_t ifindex, int linear, int gso_segs,
		  uint32_t *retval);

/* run_one on each of the n rows (each size bytes) in order; the number
 * that failed (run_one returns 1 when a row behaved as expected) */
int dp_run_table(const char *scenario, const void *rows, size_t n,
		 size_t size, int (*run_one)(const char *, const void *));

/* A bpffs of the test's own (a restarted segd adopts what is pinned
 * there): mounted on a fresh directory root (a "/tmp/segd-test-bpffs.XXXXXX"
 * buffer), pin its "segd" directory (64 bytes); skips the test when no
 * bpffs can be mounted. dp_bpffs_drop unmounts and removes it. */
void dp_bpffs_make(char *root, char *pin);
void dp_bpffs_drop(const char *root);

/* the flags of the config map */
uint32_t dp_cfg_flags(void);

/* the CT entry of (local, remote, lport, rport, proto) */
int ct_get(const char *local, const char *remote, uint16_t lport,
	   uint16_t rport, uint8_t proto, struct segd_ct_value *v);

#endif
