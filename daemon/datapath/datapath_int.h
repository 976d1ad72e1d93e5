/* datapath_int.h - private to daemon/datapath/: the datapath object and
 * what its parts share. Nothing outside the datapath includes this.
 *
 * Call order, one way: a file calls only the files below it, never one
 * above or beside it.
 *   datapath.c         open/adopt, close, program pins, counters, map usage
 *   datapath_apply.c   seg_dp_apply: writes the slot's image (inner maps,
 *                      in-place deltas, segd_lhints, segd_ifc), grace periods
 *   datapath_attach.c  tc and XDP attach, detach, query
 *   datapath_blocklist.c  blocklist maps: in-place writes, the prefix
 *                      gate, counters
 *   datapath_quarantine.c  segd_quarantine: in-place writes
 *   datapath_ct.c      the conntrack walker, the event ring
 *   datapath_maps.c    the bottom: map and program fds, segd_config and
 *                      the generation, key counts, n-record writes
 * What is written is built without syscalls in core/image: policy_image.h
 * (tables, hints, deltas, segd_lhints and segd_ifc records),
 * quarantine_image.h (what to write and delete) and blocklist.h (the
 * blocklist views and the prefix gate).
 */
#ifndef SEGD_DATAPATH_INT_H
#define SEGD_DATAPATH_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>

#include "datapath.h"
#include "log.h"
#include "policy_image.h"
#include "segd_tc.skel.h"
#include "segd_xdp.skel.h"

/* the three two-slot map-in-maps, in the order of their images */
enum {
	IN_POLICY = SEG_IMG_POLICY,
	IN_EXACT = SEG_IMG_EXACT,
	IN_LPM = SEG_IMG_LPM,
	IN_COUNT = SEG_IMG_INNER_COUNT,
};

extern const char *const dp_outer_names[IN_COUNT];

struct inner_tmpl {
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, flags;
};

enum { SLOT_UNKNOWN = 0, SLOT_KNOWN = 1 };

/* what user space knows about one policy slot's inner maps */
struct seg_slot {
	int state;                 /* SLOT_UNKNOWN / SLOT_KNOWN */
	uint32_t id[IN_COUNT];     /* inner map ids the content belongs to */
	struct seg_img_table t[IN_COUNT];
};

struct seg_datapath {
	struct segd_tc_bpf *tc;
	struct segd_xdp_bpf *xdp;
	struct inner_tmpl tmpl[IN_COUNT];
	uint32_t rule_slots;       /* segd_rules' size: rule ids below it */
	int ncpus;
	struct seg_slot slot[SEGD_POLICY_SLOTS];
	/* the buffers of the content an apply replaced, reused by the next
	 * one: touching 11 MB of fresh pages costs more than filling them */
	struct seg_img_table spare[IN_COUNT];
	/* grace periods (datapath_apply.c) */
	int gp_outer, gp_inner;
	bool gp_init, gp_thread_ok, gp_stop, gp_pending, gp_busy;
	bool gp_done_valid;
	uint32_t gp_req_gen, gp_done_gen;
	pthread_t gp_tid;
	pthread_mutex_t gp_mu;
	pthread_cond_t gp_cv;
	/* entries in segd_bl_exact / _lpm / _except / _net24 after our last write;
	 * bl_known is false until then (map usage counts the keys) */
	bool bl_known;
	uint32_t bl_n[4];  /* exact, lpm, except, net24 */
	/* the prefix gate (segd_bl_pfx16) as last written; valid while
	 * SEGD_CFG_BL_PFXGATE is set by this process */
	bool gate_known;
	uint64_t gate[SEGD_BL_GATE_WORDS];
	/* segd_ifc buckets of each slot that hold something (ifc_image.c);
	 * unknown slots are written whole */
	struct seg_img_ifc_used ifc[SEGD_POLICY_SLOTS];
};

/* ---- datapath_maps.c (the bottom) ---------------------------------------- */
struct bpf_program *dp_prog_of(struct seg_datapath *dp, enum seg_prog prog);
int dp_outer_fd(struct seg_datapath *dp, int which);
int dp_read_gen(struct seg_datapath *dp, uint32_t *gen);
/* segd_config as a whole. segd is single-threaded for config writes, so a
 * writer reads, changes its own field and writes back: policy_gen belongs
 * to seg_dp_apply, flags to seg_dp_blocklists_write. */
int dp_config_read(struct seg_datapath *dp, struct segd_config *cfg);
int dp_config_write(struct seg_datapath *dp, const struct segd_config *cfg);
/* number of keys of a map, by get_next_key */
int dp_count_keys(int fd, uint32_t *entries, uint32_t *capacity);
/* n records in one batch syscall where the map supports it, else one by
 * one; keys (and values) packed with stride ks (vs). */
int dp_map_update_n(int fd, const void *keys, size_t ks, const void *vals,
		    size_t vs, size_t n);
int dp_map_delete_n(int fd, const void *keys, size_t ks, size_t n);

/* ---- datapath_apply.c ---------------------------------------------------- */
/* Grace-period machinery, and the first grace period an adopted state
 * needs before an apply may touch the inactive slot. */
int dp_apply_init(struct seg_datapath *dp);
/* Stops the helper thread, frees what the slots and spares hold. */
void dp_apply_fini(struct seg_datapath *dp);

#endif /* SEGD_DATAPATH_INT_H */
