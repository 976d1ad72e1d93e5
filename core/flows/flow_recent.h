/* flow_recent.h - the last flows that ended, with their final counts,
 * for `segctl flows` (like Hubble's ring of recent flows). A sink of the
 * flow table: keeps final records only, copies what it keeps. */
#ifndef SEGD_FLOW_RECENT_H
#define SEGD_FLOW_RECENT_H

#include <stddef.h>
#include "flowtab.h"

struct seg_flow_recent;

int seg_flow_recent_new(size_t capacity, struct seg_flow_recent **out);
void seg_flow_recent_free(struct seg_flow_recent *x);
/* seg_flow_sink_fn: keeps r when it is final */
void seg_flow_recent_sink(void *x, const struct seg_flow_record *r);
/* Oldest first. */
void seg_flow_recent_foreach(const struct seg_flow_recent *x, seg_flow_sink_fn fn,
			     void *ctx);

#endif /* SEGD_FLOW_RECENT_H */
