/* datapath_int.h - private to daemon/datapath/: the datapath object and
 * what its parts share. Nothing outside the datapath includes this.
 *
 * Call order, one way: a file calls only the files below it, never one
 * above or beside it.
 *   datapath.c         open/adopt, close, program pins, counters, map usage
 *   datapath_apply.c   seg_dp_apply: inner maps, in-place deltas, grace
 *                      periods, segd_lhints
 *   datapath_ifc.c     writing segd_ifc
 *   datapath_tables.c  normalized tables (what one inner map holds), probe
 *                      hints, the delta between two tables (pure)
 *   datapath_attach.c  tc and XDP attach, detach, query
 *   datapath_blocklist.c  blocklist maps: in-place writes, the prefix
 *                      gate, counters
 *   datapath_quarantine.c  segd_quarantine: in-place writes
 *   datapath_ct.c      the conntrack walker, the event ring
 *   datapath_maps.c    the bottom: map and program fds, segd_config and
 *                      the generation, key counts, n-record writes
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
#include "segd_tc.skel.h"
#include "segd_xdp.skel.h"

/* the three two-slot map-in-maps, in this order everywhere */
enum { IN_POLICY, IN_EXACT, IN_LPM, IN_COUNT };

extern const char *const dp_outer_names[IN_COUNT];
/* key and value size of each inner map's records */
extern const size_t dp_tbl_ks[IN_COUNT];
extern const size_t dp_tbl_vs[IN_COUNT];

struct inner_tmpl {
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, flags;
};

/* n (key, value) records, sorted by key bytes, unique keys: exactly what
 * one inner map holds */
struct tbl {
	uint8_t *rec;
	size_t n, cap;          /* records, bytes allocated */
};

enum { SLOT_UNKNOWN = 0, SLOT_KNOWN = 1 };

/* what user space knows about one policy slot's inner maps */
struct seg_slot {
	int state;                 /* SLOT_UNKNOWN / SLOT_KNOWN */
	uint32_t id[IN_COUNT];     /* inner map ids the content belongs to */
	struct tbl t[IN_COUNT];
};

struct seg_datapath {
	struct segd_tc_bpf *tc;
	struct segd_xdp_bpf *xdp;
	struct inner_tmpl tmpl[IN_COUNT];
	int ncpus;
	struct seg_slot slot[SEGD_POLICY_SLOTS];
	/* the buffers of the content an apply replaced, reused by the next
	 * one: touching 11 MB of fresh pages costs more than filling them */
	struct tbl spare[IN_COUNT];
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
	/* segd_ifc buckets of each slot that hold something (datapath_ifc.c);
	 * unknown slots are written whole */
	bool ifc_known[SEGD_POLICY_SLOTS];
	uint64_t ifc_used[SEGD_POLICY_SLOTS][SEGD_IFC_BUCKETS / 64];
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

/* ---- datapath_tables.c --------------------------------------------------- */
void dp_tbl_free(struct tbl *t);

/* remote-specific probe hints (SEGD_LH_PROBE) per local endpoint id,
 * sorted by id, unique: what segd_lhints gets for a slot */
struct dp_lhints {
	uint32_t *epid;
	uint64_t *probes;
	size_t n;
};
void dp_lhints_free(struct dp_lhints *l);

/* The three tables exactly as the inner maps must hold them (sorted,
 * unique, probe hints OR'd into the exact ipcache values) and the
 * per-endpoint hints; rule ids are validated. Buffers come from dp->spare
 * when they are big enough. */
int dp_normalize(struct seg_datapath *dp, const struct seg_compiled *c,
		 struct tbl out[IN_COUNT], struct dp_lhints *lh);

struct delta {
	uint8_t *del;          /* keys to delete */
	size_t n_del;
	uint8_t *up_k, *up_v;  /* keys and values to add or change */
	size_t n_up;
};

/* What turns normalized table o into n. */
int dp_tbl_diff(const struct tbl *o, const struct tbl *n, size_t ks,
		size_t vs, struct delta *d);
void dp_delta_free(struct delta *d);

/* ---- datapath_ifc.c ------------------------------------------------------ */
/* the segd_ifc entries of one slot, one per endpoint interface that fits */
struct dp_ifc {
	struct segd_ifc *ent;   /* gen and flags are set when written */
	uint32_t *bucket;
	size_t n;
};
/* From a normalized exact ipcache table (hints included). */
int dp_ifc_build(const struct tbl *exact, struct dp_ifc *out);
void dp_ifc_free(struct dp_ifc *f);
/* Does writing f into slot change anything (it always does when f holds
 * entries: they carry the generation)? */
bool dp_ifc_pending(const struct seg_datapath *dp, uint32_t slot,
		    const struct dp_ifc *f);
/* f into slot, tagged gen (0: cleared instead); buckets written earlier
 * and not now are cleared. Only when no packet can read the slot. */
int dp_ifc_write(struct seg_datapath *dp, uint32_t slot, uint32_t gen,
		 const struct dp_ifc *f);

/* ---- datapath_apply.c ---------------------------------------------------- */
/* Grace-period machinery, and the first grace period an adopted state
 * needs before an apply may touch the inactive slot. */
int dp_apply_init(struct seg_datapath *dp);
/* Stops the helper thread, frees what the slots and spares hold. */
void dp_apply_fini(struct seg_datapath *dp);

#endif /* SEGD_DATAPATH_INT_H */
