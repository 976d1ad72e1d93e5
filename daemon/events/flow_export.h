/* flow_export.h - the flow table on segd's loop: drop events from the
 * ring buffer as they come, a conntrack pass every flow_interval seconds,
 * records to the sinks (flow log, IPFIX, `segctl flows --follow`).
 * Kernel event counters land in d->flow_stats at every pass. */
#ifndef SEGD_FLOW_EXPORT_H
#define SEGD_FLOW_EXPORT_H

#include <event2/event.h>
#include "flowtab.h"

struct segd;
struct seg_error;
struct seg_flow_export;

/* Needs d->dp. Sinks are added before the first pass (it runs after one
 * interval). */
int seg_flow_export_start(struct event_base *base, struct segd *d,
			  struct seg_flow_export **out, struct seg_error *err);
int seg_flow_export_add_sink(struct seg_flow_export *x, seg_flow_sink_fn fn,
			     void *ctx);
/* fn(ctx, CLOCK_REALTIME ns) after every pass (up to 4 of them). */
typedef void (*seg_flow_pass_fn)(void *ctx, uint64_t real_ns);
int seg_flow_export_on_pass(struct seg_flow_export *x, seg_flow_pass_fn fn, void *ctx);
/* Run a pass now (tests, shutdown): final records for nothing, deltas
 * for everything that moved. */
int seg_flow_export_pass(struct seg_flow_export *x);
/* `segctl conntrack flush`: a pass that ends every flow now (final
 * records, entries deleted) but keeps revocation tombstones. */
struct seg_ct_flush_counts {
	size_t flushed;   /* entries deleted */
	size_t kept;      /* revocation tombstones kept */
};
int seg_flow_export_flush(struct seg_flow_export *x, struct seg_ct_flush_counts *counts);
struct seg_flowtab *seg_flow_export_table(struct seg_flow_export *x);
/* Stream every later record that matches filter to bev as a JSON line
 * (`segctl flows --follow`); takes bev, frees it when the client hangs
 * up. A client that does not keep up loses records, segd does not wait. */
struct bufferevent;
int seg_flow_export_follow(struct seg_flow_export *x, struct bufferevent *bev,
			   const struct seg_flow_filter *filter);
struct seg_flow_recent;
const struct seg_flow_recent *seg_flow_export_recent(struct seg_flow_export *x);
/* what audit-mode policies would have dropped (audit_report.h) */
struct seg_audit_report;
const struct seg_audit_report *seg_flow_export_audit(struct seg_flow_export *x);
void seg_flow_export_stop(struct seg_flow_export *x);

#endif /* SEGD_FLOW_EXPORT_H */
