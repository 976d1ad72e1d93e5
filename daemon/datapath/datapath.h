/* datapath.h - everything that touches the kernel: loading and adopting the
 * pinned BPF objects, writing compiled state atomically, attaching programs
 * to interfaces, reading counters.
 */
#ifndef SEGD_DATAPATH_H
#define SEGD_DATAPATH_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"

struct seg_datapath;

enum seg_prog {
	SEG_PROG_TC_FROM_EP,   /* tc ingress of the host-side veth: pod egress */
	SEG_PROG_TC_TO_EP,     /* tc egress of the host-side veth: pod ingress */
	SEG_PROG_XDP_UPLINK,   /* xdp on an uplink */
	SEG_PROG_TC_UPLINK,    /* the same early drop at an uplink's tc ingress */
	SEG_PROG_COUNT,
};

/* Load the BPF objects, reusing maps pinned under bpffs_dir (created if
 * missing). An existing pinned state is adopted as is: nothing is cleared,
 * so enforcement continues across a segd restart. segd_rules gets
 * max_rules + 1 slots (rule ids 0..max_rules, 1..SEGD_MAX_RULES - 1 rules);
 * a pinned one of another size is replaced (its counters start again). */
int seg_dp_open_sized(const char *bpffs_dir, uint32_t max_rules,
		      struct seg_datapath **out);
/* the same with SEGD_DEFAULT_MAX_RULES */
int seg_dp_open(const char *bpffs_dir, struct seg_datapath **out);
/* the rule ids segd_rules counts: 0 .. this - 1 */
uint32_t seg_dp_rule_slots(const struct seg_datapath *dp);
void seg_dp_close(struct seg_datapath *dp);

/* Make the kernel enforce `c`: fill fresh inner maps for the inactive slot,
 * swap them in, then bump the generation. Atomic per packet; established
 * flows are re-checked against the new generation. */
int seg_dp_apply(struct seg_datapath *dp, const struct seg_compiled *c);
uint32_t seg_dp_generation(struct seg_datapath *dp);

/* tc clsact filters on an endpoint's host-side interface, both directions;
 * replaces whatever segd attached before, without a gap. */
int seg_dp_attach_endpoint(struct seg_datapath *dp, uint32_t ifindex);
int seg_dp_detach_endpoint(struct seg_datapath *dp, uint32_t ifindex);
/* Where the uplink's early drop goes (config uplink_hook). */
enum seg_dp_uplink_hook {
	SEG_DP_UPLINK_AUTO,   /* native XDP if the driver runs it, else tc */
	SEG_DP_UPLINK_XDP,    /* XDP: native on a NIC, generic on a veth */
	SEG_DP_UPLINK_TC,     /* tc ingress */
};
/* The uplink's early drop at the hook asked for (libxdp for XDP). Takes
 * the other one off first, so an uplink has exactly one. Detach removes
 * either. */
int seg_dp_attach_uplink(struct seg_datapath *dp, uint32_t ifindex,
			 enum seg_dp_uplink_hook hook);
int seg_dp_detach_uplink(struct seg_datapath *dp, uint32_t ifindex);

struct seg_dp_attachment {
	uint32_t ifindex;
	enum seg_prog prog;
	uint32_t prog_id;       /* kernel program id attached there, 0 = none */
};
/* Which of segd's programs are attached on ifindex (up to 3). */
int seg_dp_query(struct seg_datapath *dp, uint32_t ifindex,
		 struct seg_dp_attachment *out, int max);
/* "tc-ingress(from-endpoint)", "xdp(uplink)", ...: how status names a hook */
const char *seg_dp_prog_hook_name(enum seg_prog prog);
/* The hook holding the uplink program on ifindex ("xdp(uplink)" or
 * "tc-ingress(uplink)"), NULL when none does. */
const char *seg_dp_uplink_hook_name(struct seg_datapath *dp, uint32_t ifindex);

struct seg_dp_map_usage;   /* metrics_render.h */
/* Fill up to max rows; returns the number of rows or -errno. */
int seg_dp_map_usage(struct seg_datapath *dp, struct seg_dp_map_usage *out,
		     int max);

/* Sum the per-CPU counters. reasons has SEGD_REASON_MAX rows. */
int seg_dp_reason_counters(struct seg_datapath *dp, struct segd_counter *reasons);
/* Event outcomes (enum segd_ev_stat), summed over CPUs. */
int seg_dp_event_counters(struct seg_datapath *dp, uint64_t out[SEGD_EVS_MAX]);
int seg_dp_rule_counter(struct seg_datapath *dp, uint32_t rule_id,
			struct segd_rule_counter *out);
/* Every rule id's counters at once, summed over CPUs: out has
 * seg_dp_rule_slots() rows. Batched reads (one syscall per 4,096 ids, not
 * one per rule: /metrics over 131,072 rules). */
int seg_dp_rule_counters(struct seg_datapath *dp, struct segd_rule_counter *out);

/* Blocklist maps (segd_bl_exact, segd_bl_lpm, segd_bl_except and the /24
 * view of the prefixes, segd_bl_net24): make them
 * hold `next`. Keys new or changed are written before stale keys are
 * deleted, so a reloaded list is never missing an old entry in between.
 * `prev` is what was written last (NULL when unknown, e.g. after a restart:
 * the maps are scanned). Sets the SEGD_CFG_BL_* flags for non-empty maps.
 * Established flows see the change once the caller bumps the generation
 * (seg_dp_apply). */
struct seg_bl_compiled;
int seg_dp_blocklists_write(struct seg_datapath *dp, const struct seg_bl_compiled *prev,
			    const struct seg_bl_compiled *next);
/* Per-list packets and bytes (drops, or audit hits), summed over CPUs;
 * out has SEGD_MAX_BLOCKLISTS rows indexed by list id. */
int seg_dp_blocklist_counters(struct seg_datapath *dp, struct segd_counter *out);
/* Zero one list's counters (a new list takes over a freed id). */
int seg_dp_blocklist_counter_reset(struct seg_datapath *dp, uint16_t list_id);

/* segd_quarantine (datapath_quarantine.c): make it hold next (sorted by
 * address, see seg_quar_entries), sets or clears SEGD_CFG_QUARANTINE. New
 * and changed entries go in before stale ones go out; the flag is on
 * before the first entry and off after the last. prev is what was written
 * last (prev_known false after a restart: the map's keys are read back). */
struct seg_quar_entry;
int seg_dp_quarantine_write(struct seg_datapath *dp, const struct seg_quar_entry *prev,
			    size_t n_prev, bool prev_known,
			    const struct seg_quar_entry *next, size_t n_next);
/* The entry of local address a: 0, -ENOENT or -errno. */
int seg_dp_quarantine_lookup(struct seg_datapath *dp, const struct segd_addr *a,
			     struct segd_quar_value *out);

/* The one conntrack walker (datapath_ct.c): fn for every entry of
 * segd_ct, read in batches; fn returns 0, 1 to have the entry deleted
 * (expired), or -errno to stop. 0 or -errno. */
typedef int (*seg_dp_ct_fn)(void *ctx, const struct segd_ct_key *k,
			    const struct segd_ct_value *v);
int seg_dp_ct_foreach(struct seg_datapath *dp, seg_dp_ct_fn fn, void *ctx);

/* A ring buffer map (segd_events, segd_alerts): fn for each record of at
 * least rec_size bytes, from seg_dp_events_consume(); seg_dp_events_fd()
 * becomes readable when some wait. */
struct seg_dp_events;
typedef void (*seg_dp_event_fn)(void *ctx, const void *rec);
int seg_dp_events_open(struct seg_datapath *dp, const char *map, size_t rec_size,
		       seg_dp_event_fn fn, void *ctx, struct seg_dp_events **out);
int seg_dp_events_fd(struct seg_dp_events *e);
void seg_dp_events_consume(struct seg_dp_events *e);
void seg_dp_events_close(struct seg_dp_events *e);

/* Detection (segd_abi.h "detection"): the config the hooks count with. */
int seg_dp_detect_configure(struct seg_datapath *dp,
			    const struct segd_detect_config *cfg);

/* For tests and benchmarks: program fds (for BPF_PROG_TEST_RUN) and map fds
 * by SEGD_MAP_* name. */
int seg_dp_prog_fd(struct seg_datapath *dp, enum seg_prog prog);
int seg_dp_map_fd(struct seg_datapath *dp, const char *name);

#endif /* SEGD_DATAPATH_H */
