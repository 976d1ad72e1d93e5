/* flow_export.c - the flow table on segd's loop (flow_export.h). */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "segd.h"
#include "audit_report.h"
#include "flow_export.h"
#include "flow_names.h"
#include "flow_recent.h"
#include "lists.h"
#include "explain.h"
#include "flowlog.h"
#include "log.h"
#include "name_index.h"

#define RECENT_FLOWS 2048   /* ended flows `segctl flows` still shows */
/* a follower that reads slower than records come loses records beyond
 * this much unread output instead of growing segd without bound */
#define FOLLOW_BACKLOG (4u << 20)

struct follower {
	struct follower *next;
	struct seg_flow_export *x;
	struct bufferevent *bev;
	struct seg_flow_filter filter;
};
#define NS_PER_SEC 1000000000ull

struct seg_flow_export {
	struct segd *d;
	struct seg_flowtab *table;
	struct seg_name_index names;   /* the table's lookups */
	struct seg_flow_recent *recent;
	struct seg_dp_events *ring;
	struct event *ring_ev;
	struct event *timer;
	/* called after each pass's records, e.g. to send what is batched */
	seg_flow_pass_fn on_pass[4];
	void *on_pass_ctx[4];
	size_t n_on_pass;
	struct follower *followers;    /* `segctl flows --follow` */
	struct seg_audit_report audit; /* `segctl audit-report` */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void on_ring_event(void *ctx, const void *rec)
{
	struct seg_flow_export *x = ctx;
	const struct segd_event *ev = rec;

	x->d->flow_stats.events_read++;
	/* out of memory: the event is lost like a rate-limited one */
	seg_flowtab_event(x->table, ev);
}

static void on_ring_ready(evutil_socket_t fd, short what, void *arg)
{
	struct seg_flow_export *x = arg;

	(void)fd, (void)what;
	seg_dp_events_consume(x->ring);
}

/* The list a blocklisted flow hit, from the loaded lists (as `explain`). */
static bool name_list(void *ctx, const struct segd_addr *remote, char *buf, size_t len)
{
	struct seg_flow_export *x = ctx;
	struct segd_lists_view v = { 0 };
	struct in6_addr a;
	bool found;

	if (segd_lists_view(x->d, &v))
		return false;
	memcpy(&a, remote, sizeof(a));
	found = seg_explain_blocklist(&(struct seg_explain_lists){
			v.lists, v.exception, v.n_lists, v.exceptions, v.n_exceptions },
		&a, buf, len);
	segd_lists_view_free(&v);
	return found;
}

static void count_record(void *ctx, const struct seg_flow_record *r)
{
	struct segd *d = ctx;

	(void)r;
	d->flow_stats.records++;
}

static void follower_free(struct follower *f)
{
	struct follower **pp = &f->x->followers;

	while (*pp && *pp != f)
		pp = &(*pp)->next;
	if (*pp)
		*pp = f->next;
	bufferevent_free(f->bev);
	free(f);
}

static void on_follower_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		follower_free(arg);   /* EPIPE: the client went away */
}

/* A sink: each record as a JSON line to every follower that wants it. */
static void to_followers(void *ctx, const struct seg_flow_record *r)
{
	struct seg_flow_export *x = ctx;
	char line[4096];
	int n = 0;

	for (struct follower *f = x->followers; f; f = f->next) {
		if (!seg_flow_filter_match(&f->filter, r) ||
		    evbuffer_get_length(bufferevent_get_output(f->bev)) > FOLLOW_BACKLOG)
			continue;
		if (!n && (n = seg_flow_record_json(r, line, sizeof(line))) < 0)
			return;
		bufferevent_write(f->bev, line, (size_t)n);
	}
}

int seg_flow_export_follow(struct seg_flow_export *x, struct bufferevent *bev,
			   const struct seg_flow_filter *filter)
{
	struct follower *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->x = x;
	f->bev = bev;
	f->filter = *filter;
	f->next = x->followers;
	x->followers = f;
	bufferevent_set_timeouts(bev, NULL, NULL);
	/* the client shut its side down after the request: a hang-up shows
	 * as a write error at the next record, not as a read */
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, NULL, on_follower_event, f);
	return 0;
}

/* One conntrack entry to the table; an expired one (1) is deleted. */
static int feed(void *ctx, const struct segd_ct_key *k, const struct segd_ct_value *v)
{
	struct seg_flow_export *x = ctx;

	return seg_flowtab_ct(x->table, k, v);
}

struct flush {
	struct seg_flow_export *x;
	struct seg_ct_flush_counts *counts;
};

/* A flush ends every flow (1: deleted) but keeps revocation tombstones:
 * without one, a revoked flow's peer could open it again wherever that
 * direction is not enforced (segd_abi.h, SEGD_CTF_REVOKED). */
static int feed_flush(void *ctx, const struct segd_ct_key *k, const struct segd_ct_value *v)
{
	struct flush *f = ctx;
	int ret;

	if (v->flags & SEGD_CTF_REVOKED) {
		ret = seg_flowtab_ct(f->x->table, k, v);
		f->counts->kept += ret == 0;
		return ret;
	}
	ret = seg_flowtab_ct_end(f->x->table, k, v);
	f->counts->flushed += ret == 1;
	return ret;
}

/* A pass over conntrack with fn feeding each entry to the table. */
static int run_pass(struct seg_flow_export *x, seg_dp_ct_fn fn, void *ctx)
{
	struct seg_flow_stats *st = &x->d->flow_stats;
	uint64_t ev[SEGD_EVS_MAX] = { 0 };
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	int ret;

	/* events already in the ring belong to this pass */
	seg_dp_events_consume(x->ring);
	seg_flowtab_pass_begin(x->table, t0, clock_ns(CLOCK_REALTIME));
	ret = seg_dp_ct_foreach(x->d->dp, fn, ctx);
	if (ret) {
		seg_log(SEG_LOG_WARN, "flow export: reading conntrack: %s",
			strerror(-ret));
		/* the flows it did not reach are still there: no final record */
		seg_flowtab_pass_incomplete(x->table);
	}
	seg_flowtab_pass_end(x->table);
	for (size_t i = 0; i < x->n_on_pass; i++)
		x->on_pass[i](x->on_pass_ctx[i], clock_ns(CLOCK_REALTIME));
	if (!seg_dp_event_counters(x->d->dp, ev)) {
		st->events_sent = ev[SEGD_EVS_SENT];
		st->events_rate_limited = ev[SEGD_EVS_RATE_LIMITED];
		st->events_ring_full = ev[SEGD_EVS_RING_FULL];
	}
	st->flows_active = seg_flowtab_size(x->table);
	st->ct_scans++;
	st->last_scan_ms = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
	return ret;
}

int seg_flow_export_pass(struct seg_flow_export *x)
{
	return run_pass(x, feed, x);
}

int seg_flow_export_flush(struct seg_flow_export *x, struct seg_ct_flush_counts *counts)
{
	struct flush f = { x, counts };

	memset(counts, 0, sizeof(*counts));
	return run_pass(x, feed_flush, &f);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	seg_flow_export_pass(arg);
}

int seg_flow_export_start(struct event_base *base, struct segd *d,
			  struct seg_flow_export **out, struct seg_error *err)
{
	struct timeval every = { .tv_sec = d->cfg.flow_interval };
	struct seg_flow_export *x = calloc(1, sizeof(*x));
	int ret = -ENOMEM;

	if (!x)
		return seg_errorf(err, NULL, 0, 0, -ENOMEM, "flow export: out of memory");
	const struct seg_view view = { &d->state.world, &d->compiled, &x->names };

	x->d = d;
	seg_name_index_init(&x->names);
	seg_audit_report_init(&x->audit, &view, 0, 0, 0);
	if (seg_flowtab_new(&view, &x->table) || seg_flow_recent_new(RECENT_FLOWS, &x->recent) ||
	    seg_flowtab_add_sink(x->table, count_record, d) ||
	    seg_flowtab_add_sink(x->table, seg_flow_recent_sink, x->recent) ||
	    seg_flowtab_add_sink(x->table, seg_audit_report_sink, &x->audit) ||
	    seg_flowtab_add_sink(x->table, to_followers, x))
		goto fail;
	seg_flowtab_set_list_namer(x->table, name_list, x);
	seg_flowtab_set_idle(x->table, (uint64_t)d->cfg.flow_interval * 1000000000ull);
	if (seg_dp_map_fd(d->dp, SEGD_MAP_CT) < 0) {
		ret = -ENOENT;
		goto fail;
	}
	ret = seg_dp_events_open(d->dp, SEGD_MAP_EVENTS, sizeof(struct segd_event),
				 on_ring_event, x, &x->ring);
	if (ret)
		goto fail;
	ret = -ENOMEM;
	x->ring_ev = event_new(base, seg_dp_events_fd(x->ring),
			       EV_READ | EV_PERSIST, on_ring_ready, x);
	x->timer = event_new(base, -1, EV_PERSIST, on_timer, x);
	if (!x->ring_ev || !x->timer || event_add(x->ring_ev, NULL) ||
	    event_add(x->timer, &every))
		goto fail;
	*out = x;
	d->flow_export = x;
	return 0;
fail:
	seg_flow_export_stop(x);
	return seg_errorf(err, NULL, 0, 0, ret, "flow export: cannot start: %s",
			  strerror(-ret));
}

int seg_flow_export_add_sink(struct seg_flow_export *x, seg_flow_sink_fn fn,
			     void *ctx)
{
	return seg_flowtab_add_sink(x->table, fn, ctx);
}

int seg_flow_export_on_pass(struct seg_flow_export *x, seg_flow_pass_fn fn, void *ctx)
{
	if (x->n_on_pass >= sizeof(x->on_pass) / sizeof(x->on_pass[0]))
		return -E2BIG;
	x->on_pass[x->n_on_pass] = fn;
	x->on_pass_ctx[x->n_on_pass++] = ctx;
	return 0;
}

struct seg_flowtab *seg_flow_export_table(struct seg_flow_export *x)
{
	return x->table;
}

const struct seg_flow_recent *seg_flow_export_recent(struct seg_flow_export *x)
{
	return x->recent;
}

const struct seg_audit_report *seg_flow_export_audit(struct seg_flow_export *x)
{
	return &x->audit;
}

void seg_flow_export_stop(struct seg_flow_export *x)
{
	if (!x)
		return;
	if (x->d->flow_export == x)
		x->d->flow_export = NULL;
	while (x->followers)
		follower_free(x->followers);
	if (x->timer)
		event_free(x->timer);
	if (x->ring_ev)
		event_free(x->ring_ev);
	seg_dp_events_close(x->ring);
	seg_flowtab_free(x->table);
	seg_name_index_free(&x->names);
	seg_flow_recent_free(x->recent);
	seg_audit_report_free(&x->audit);
	free(x);
}
