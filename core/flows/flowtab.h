/* flowtab.h - the flow table: conntrack entries and drop events become
 * flow records (flow_record.h) with exact delta counters.
 *
 * Pure: no syscalls. The caller (flow_export.c) reads the conntrack map
 * and the ring buffer and feeds them in; the table says which conntrack
 * entries have expired (so the caller deletes them) and hands every record
 * to its sinks.
 *
 * A pass:
 *   seg_flowtab_pass_begin(t, now)
 *   seg_flowtab_ct(t, key, value) for every conntrack entry
 *     (seg_flowtab_ct_end for one that a flush ends)
 *   seg_flowtab_pass_end(t)
 * Conntrack flows (forwarded, audit) get a record when their counters
 * moved since the last one; one that expired (the datapath's own lifetime,
 * segd_ct_lifetime_s) or vanished (LRU eviction, revocation, Stratum) gets
 * a final record. Drop events are summed per flow between passes; a drop
 * flow gets a record per pass with new drops and a final one once it has
 * been idle (seg_flowtab_set_idle) without any.
 */
#ifndef SEGD_FLOWTAB_H
#define SEGD_FLOWTAB_H

#include <stdbool.h>
#include <stdint.h>
#include "flow_record.h"
#include "segd_abi.h"

struct seg_view;
struct seg_flowtab;

typedef void (*seg_flow_sink_fn)(void *ctx, const struct seg_flow_record *r);

/* Names come from v's compiled state and world at the time of each record,
 * looked up through v's index (name_index.h; the caller owns it and frees
 * it after the table): rebuilt when the arrays or counts behind v move, at
 * every pass and by seg_flowtab_names_changed. Without one (NULL) every
 * record scans all endpoints and prefixes: for tests and the baseline of
 * tools/bench/flow_names.c. */
int seg_flowtab_new(const struct seg_view *v, struct seg_flowtab **out);
/* The world or compiled state may have changed in place (same arrays,
 * same counts): call before records made outside a pass
 * (seg_flowtab_ct_record); a pass and seg_flowtab_drops do it. */
void seg_flowtab_names_changed(struct seg_flowtab *t);
void seg_flowtab_free(struct seg_flowtab *t);
int seg_flowtab_add_sink(struct seg_flowtab *t, seg_flow_sink_fn fn, void *ctx);

/* Who names the list of a flow dropped as blocklisted (at its first
 * event): fn writes the list holding remote into buf, false if none. */
typedef bool (*seg_flow_list_fn)(void *ctx, const struct segd_addr *remote,
				 char *buf, size_t len);
void seg_flowtab_set_list_namer(struct seg_flowtab *t, seg_flow_list_fn fn, void *ctx);

/* How long a drop flow lasts without events: the caller's pass interval,
 * so that a pass out of turn (a flush) does not end drop flows that are
 * only between events. 0 (the default): the time between the last two
 * passes. */
void seg_flowtab_set_idle(struct seg_flowtab *t, uint64_t idle_ns);

/* mono_ns: CLOCK_MONOTONIC (the datapath's clock); real_ns: CLOCK_REALTIME
 * at the same instant, to stamp records. */
void seg_flowtab_pass_begin(struct seg_flowtab *t, uint64_t mono_ns, uint64_t real_ns);
/* Returns 1 when the entry has expired: the caller may delete it from the
 * map (its final record has been made), else 0, or -ENOMEM. */
int seg_flowtab_ct(struct seg_flowtab *t, const struct segd_ct_key *k,
		   const struct segd_ct_value *v);
/* The same for an entry that ends now, at any age (a conntrack flush):
 * its final record; returns 1 (delete it), or -ENOMEM. */
int seg_flowtab_ct_end(struct seg_flowtab *t, const struct segd_ct_key *k,
		       const struct segd_ct_value *v);
/* The pass did not see every entry (reading the map failed): its end
 * keeps the flows it did not see instead of ending them as gone. */
void seg_flowtab_pass_incomplete(struct seg_flowtab *t);
int seg_flowtab_pass_end(struct seg_flowtab *t);

/* One event from the ring buffer (any time between passes). */
int seg_flowtab_event(struct seg_flowtab *t, const struct segd_event *e);

/* The record of one conntrack entry as it is now (totals; no state
 * changes), for `segctl flows`. */
void seg_flowtab_ct_record(struct seg_flowtab *t, const struct segd_ct_key *k,
			   const struct segd_ct_value *v, seg_flow_sink_fn fn, void *ctx);
/* The drop flows tracked now, one record each (totals so far; the
 * deltas are since their last record), for `segctl flows`. */
void seg_flowtab_drops(struct seg_flowtab *t, seg_flow_sink_fn fn, void *ctx);

/* What `segctl flows` asks for: a verdict (-1 any), the observing
 * endpoint's name and namespace ("" any). */
struct seg_flow_filter {
	int verdict;
	char endpoint[254];
	char ns[64];
};
bool seg_flow_filter_match(const struct seg_flow_filter *f,
			   const struct seg_flow_record *r);

/* Flows tracked now. */
size_t seg_flowtab_size(const struct seg_flowtab *t);

#endif /* SEGD_FLOWTAB_H */
