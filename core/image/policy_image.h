/* policy_image.h - a compiled state as the policy slot's maps hold it:
 * the three inner maps (policy, exact ipcache, LPM ipcache) with the probe
 * hints OR'd in, the per-endpoint hints of segd_lhints and the interface
 * entries of segd_ifc, and the delta between two such images. Pure: no
 * syscalls; daemon/datapath only writes what these functions build.
 *
 * Call order inside core/image: policy_image.c (tables, hints, deltas,
 * segd_lhints records) <- ifc_image.c (segd_ifc entries, read from an
 * exact table), never the other way.
 */
#ifndef SEGD_POLICY_IMAGE_H
#define SEGD_POLICY_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "segd_abi.h"

/* the three two-slot map-in-maps, in this order everywhere */
enum seg_img_inner {
	SEG_IMG_POLICY,         /* segd_policy: segd_policy_key -> value */
	SEG_IMG_EXACT,          /* segd_ipc_exact: segd_addr -> ipcache value */
	SEG_IMG_LPM,            /* segd_ipc_lpm: segd_lpm_key -> ipcache value */
	SEG_IMG_INNER_COUNT,
};
/* key and value size of each inner map's records */
extern const size_t seg_img_key_size[SEG_IMG_INNER_COUNT];
extern const size_t seg_img_value_size[SEG_IMG_INNER_COUNT];

/* n (key, value) records, sorted by key bytes, unique keys: exactly what
 * one inner map holds */
struct seg_img_table {
	uint8_t *rec;
	size_t n, cap;          /* records, bytes allocated */
};
void seg_img_table_free(struct seg_img_table *t);

/* remote-specific probe hints (SEGD_LH_PROBE) per local endpoint id,
 * sorted by id, unique: what segd_lhints gets for a slot */
struct seg_img_lhints {
	uint32_t *epid;
	uint64_t *probes;
	size_t n;
};
void seg_img_lhints_free(struct seg_img_lhints *l);

/* What the maps of a slot can hold: the inner maps' max_entries and
 * segd_rules' slots (rule ids 0 .. rule_slots - 1). */
struct seg_img_limits {
	uint32_t max_entries[SEG_IMG_INNER_COUNT];
	uint32_t rule_slots;
};

/* The three tables of c exactly as the inner maps must hold them (sorted,
 * unique - the last of equal keys wins -, probe hints OR'd into the exact
 * ipcache values) and the per-endpoint hints. -E2BIG when a table holds
 * more than lim->max_entries[i], -EINVAL for a rule id outside segd_rules
 * or a prefix longer than 128; -ENOMEM. Table buffers are taken from
 * spare[i] when it is big enough (spare may be NULL). On failure out and
 * lh hold nothing. */
int seg_img_policy_build(const struct seg_compiled *c,
			 const struct seg_img_limits *lim,
			 struct seg_img_table spare[SEG_IMG_INNER_COUNT],
			 struct seg_img_table out[SEG_IMG_INNER_COUNT],
			 struct seg_img_lhints *lh);

/* What turns table o into table n: keys to delete, keys and values to add
 * or change (both in key order). */
struct seg_img_delta {
	uint8_t *del;          /* keys to delete */
	size_t n_del;
	uint8_t *up_k, *up_v;  /* keys and values to add or change */
	size_t n_up;
};
int seg_img_table_diff(const struct seg_img_table *o,
		       const struct seg_img_table *n, size_t ks, size_t vs,
		       struct seg_img_delta *d);
void seg_img_delta_free(struct seg_img_delta *d);

/* The lh->n segd_lhints records of slot: keys[i] (the array index) and
 * vals[i], tagged with generation gen; gen 0 gives entries marked invalid
 * (what clears them). */
void seg_img_lhints_records(const struct seg_img_lhints *lh, uint32_t slot,
			    uint32_t gen, uint32_t *keys,
			    struct segd_lhint *vals);

/* ---- segd_ifc (ifc_image.c) ----------------------------------------------- */

/* the segd_ifc entries of one slot, one per endpoint interface that fits */
struct seg_img_ifc {
	struct segd_ifc *ent;   /* gen and flags are set by the records */
	uint32_t *bucket;
	size_t n;
};
/* From a normalized exact ipcache table (hints included): every address
 * whose value has SEGD_EPF_LOCAL and an ifindex, grouped by ifindex. An
 * interface with more than SEGD_IFC_ADDRS addresses, or whose bucket a
 * lower ifindex already holds, gets no entry. 0, -E2BIG or -ENOMEM. */
int seg_img_ifc_build(const struct seg_img_table *exact,
		      struct seg_img_ifc *out);
void seg_img_ifc_free(struct seg_img_ifc *f);

/* The buckets of a slot written before: used[] is a bitmap of
 * SEGD_IFC_BUCKETS bits, valid when known (else every bucket may hold
 * something). */
struct seg_img_ifc_used {
	bool known;
	uint64_t used[SEGD_IFC_BUCKETS / 64];
};
/* Does writing f over what prev says is there change anything (it always
 * does when f holds entries: they carry the generation)? */
bool seg_img_ifc_pending(const struct seg_img_ifc *f,
			 const struct seg_img_ifc_used *prev);
/* The segd_ifc records that make slot hold f tagged gen (gen 0: f's
 * buckets cleared instead), and clear every bucket prev may hold that f
 * does not. keys and vals have room for SEGD_IFC_BUCKETS records; returns
 * how many were filled. now gets the buckets the slot then holds. */
size_t seg_img_ifc_records(const struct seg_img_ifc *f, uint32_t slot,
			   uint32_t gen, const struct seg_img_ifc_used *prev,
			   uint32_t *keys, struct segd_ifc *vals,
			   struct seg_img_ifc_used *now);

#endif /* SEGD_POLICY_IMAGE_H */
