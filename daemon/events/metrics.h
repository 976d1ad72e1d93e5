/* metrics.h - Prometheus /metrics (text format 0.0.4) over libevent's evhttp.
 *
 * A scrape gathers a snapshot (kernel counters through datapath.h, the
 * compiled rules, the lists, the flow table's counters) and renders it
 * (metrics_render.h, pure).
 */
#ifndef SEGD_METRICS_H
#define SEGD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "metrics_render.h"

struct event_base;
struct segd;
struct seg_metrics;

/* "127.0.0.1:9470", "[::1]:9470", "0.0.0.0:9470", "[::]:9470" -> host
 * literal and port. 0 or -EINVAL. */
int seg_metrics_parse_addr(const char *addr, char *host, size_t hostlen,
			   uint16_t *port);

/* Serve GET /metrics on addr ("off": *out = NULL, nothing served). Needs
 * d->dp (the counters are the kernel's). Everything but /metrics is 404. */
int seg_metrics_start(struct event_base *base, const char *addr, struct segd *d,
		      struct seg_metrics **out, struct seg_error *err);
/* The flow log whose counters to show (NULL: none; zeros are shown). */
void seg_metrics_set_flowlog(struct seg_metrics *m, const struct seg_flowlog *fl);
/* The IPFIX exporter whose counters /metrics shows (NULL: none). */
void seg_metrics_set_ipfix(struct seg_metrics *m, const struct seg_ipfix *x);
void seg_metrics_stop(struct seg_metrics *m);

#endif /* SEGD_METRICS_H */
