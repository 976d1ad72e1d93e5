/* detect.c - what segd does with the datapath's alerts (segd_alerts):
 * name the workload, drop what is exempt, contain per the configured
 * action, and report (d->alerts for `segctl alerts`, segd's log, the JSON
 * flow log, /metrics). The counting is in the kernel (bpf/lib/detect.h);
 * the records and their text are pure (core/detect).
 *
 * Containment is a quarantine of the one endpoint that sent the traffic,
 * put in force the way `segctl quarantine` does it (engine/quarantine_sync.c)
 * with the actor segd:detect, so it cuts established flows, keeps the
 * configured forensic peers, persists and is released only by an
 * operator. An address that is not a local endpoint of this node (the
 * node itself, a remote pod) is never quarantined: the kernel counts only
 * what local endpoints send, and this checks it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include "engine.h"
#include "datapath.h"
#include "flowlog.h"
#include "flow_names.h"
#include "edges.h"
#include "lists.h"
#include "log.h"

#define ACTOR "segd:detect"

struct segd_detect {
	struct segd *d;
	struct seg_flowlog *log;         /* NULL: no JSON flow log */
	struct seg_dp_events *ring;
	struct event *ring_ev;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const struct seg_namespace *namespace_of(const struct segd *d, const char *ns)
{
	for (size_t i = 0; i < d->state.world.n_namespaces; i++)
		if (!strcmp(d->state.world.namespaces[i].name, ns))
			return &d->state.world.namespaces[i];
	return NULL;
}

/* Does the exempt selector "k=v,..." hold for labels l? */
static bool exempt_matches(const char *sel, const struct seg_labels *l)
{
	struct seg_labels want = { 0 };
	struct seg_error err = { 0 };
	bool all;

	if (seg_labels_parse(sel, &want, &err))
		return false;   /* checked when the config was read */
	all = want.n > 0;
	for (size_t i = 0; i < want.n && all; i++) {
		const char *v = seg_labels_get(l, want.v[i].key);

		all = v && !strcmp(v, want.v[i].value);
	}
	seg_labels_free(&want);
	return all;
}

/* What the alert's kind does for endpoint e: the namespace's --on-detect
 * over the config's per-kind action; SEG_DETECT_OFF when exempt. */
static enum seg_detect_action action_for(const struct segd *d, const struct seg_endpoint *e,
					 enum segd_alert_kind kind)
{
	const struct seg_detect_settings *s = &d->cfg.detect;
	const struct seg_namespace *ns = namespace_of(d, e->ns);

	for (size_t i = 0; i < s->n_exempt; i++)
		if (exempt_matches(s->exempt[i], &e->labels))
			return SEG_DETECT_OFF;
	if (ns && ns->on_detect_set)
		return ns->on_detect;
	return kind < SEGD_ALERT_KIND_MAX ? s->action[kind] : SEG_DETECT_ALERT;
}

static const struct seg_quarantine *quarantine_covering(struct segd *d,
							 const struct seg_endpoint *e)
{
	for (size_t i = 0; i < d->quarantines.n; i++)
		if (seg_quar_matches(&d->quarantines.v[i], e))
			return &d->quarantines.v[i];
	return NULL;
}

/* Quarantine endpoint e for alert a raised by the packet of kernel time
 * raised_ns: 0 with a->quarantine_id and a->contain_us set, or -errno. */
static int contain(struct segd *d, const struct seg_endpoint *e, struct seg_alert *a,
		   uint64_t raised_ns)
{
	const struct seg_detect_settings *s = &d->cfg.detect;
	struct seg_quarantine q = { .kind = SEG_QUAR_ENDPOINT }, *cur = NULL;
	struct seg_error err = { 0 };
	uint64_t in_force = 0;
	char reason[1024];
	bool replaced;
	int ret;

	seg_alert_summary(a, reason, sizeof(reason));
	q.ns = strdup(e->ns);
	q.name = strdup(e->name);
	q.reason = strdup(reason);
	q.since = (int64_t)time(NULL);
	q.n_allow = s->n_quarantine_allow;
	memcpy(q.allow, s->quarantine_allow, q.n_allow * sizeof(q.allow[0]));
	ret = !q.ns || !q.name || !q.reason ? -ENOMEM :
	      segd_quarantine_put(d, &q, &cur, &replaced, &in_force, &err);
	if (cur) {   /* in force in the kernel since in_force */
		uint64_t took = in_force > raised_ns ? in_force - raised_ns : 0;

		a->quarantine_id = cur->id;
		a->contain_us = took / 1000 ? (uint32_t)(took / 1000) : 1;
		segd_quarantine_record(d, false, cur, ACTOR, 0, (uint32_t)getpid(), &err);
	}
	if (ret)
		seg_log(SEG_LOG_ERROR, "detect: quarantine of %s/%s: %s", e->ns, e->name,
			err.msg[0] ? err.msg : strerror(-ret));
	seg_quarantine_free(&q);
	return cur ? 0 : ret;
}

static void name_list(struct segd *d, uint16_t list_id, struct seg_alert *a)
{
	for (size_t i = 0; list_id && i < d->n_lists; i++)
		if (d->lists[i].id == list_id) {
			snprintf(a->list, sizeof(a->list), "%s", d->lists[i].bl.name);
			return;
		}
}

/* Report a stored alert: segd's log, the JSON flow log. */
static void report(struct segd_detect *x, const struct seg_alert *a)
{
	char summary[1024], *json = NULL, *line;
	size_t len = 0;

	seg_alert_summary(a, summary, sizeof(summary));
	seg_log(SEG_LOG_WARN, "alert %llu: %s", (unsigned long long)a->id, summary);
	if (!x->log || seg_alert_json(a, &json, &len))
		return;
	line = realloc(json, len + 1);
	if (line) {
		line[len] = '\n';
		seg_flowlog_write_line(x->log, line, len + 1);
		json = line;
	}
	free(json);
}

/* Act on alert a (kernel fields filled) of endpoint e, raised by the
 * packet of kernel time raised_ns: name the workload, contain per the
 * action, keep and report it. */
static void handle(struct segd_detect *x, const struct seg_endpoint *e,
		   struct seg_alert *a, uint64_t raised_ns)
{
	struct segd *d = x->d;
	enum seg_detect_action act = action_for(d, e, a->kind);
	struct seg_alert *stored = NULL;
	bool merged = false;

	if (act == SEG_DETECT_OFF) {
		d->detect_stats.exempt++;
		return;
	}
	snprintf(a->ns, sizeof(a->ns), "%s", e->ns);
	snprintf(a->name, sizeof(a->name), "%s", e->name);
	seg_labels_format(&e->labels, a->labels, sizeof(a->labels));
	snprintf(a->action, sizeof(a->action), "%s", seg_detect_action_name(act));
	if (act == SEG_DETECT_QUARANTINE) {
		const struct seg_quarantine *q = quarantine_covering(d, e);

		if (q)
			a->quarantine_id = q->id;   /* already contained */
		else if (contain(d, e, a, raised_ns))
			snprintf(a->action, sizeof(a->action), "quarantine-failed");
	}
	if (seg_alerts_add(&d->alerts, a, (int64_t)d->cfg.detect.window_s * 1000,
			   &stored, &merged))
		return;
	/* a scan goes on for epochs: one record per episode, not per epoch;
	 * but a containment that came with a later epoch is news */
	if (merged && a->quarantine_id && !stored->quarantine_id) {
		stored->quarantine_id = a->quarantine_id;
		stored->contain_us = a->contain_us;
		snprintf(stored->action, sizeof(stored->action), "%s", a->action);
		merged = false;
	}
	if (!merged)
		report(x, stored);
}

/* The local endpoint with address addr, or NULL (never the node, never a
 * pod of another node). */
static const struct seg_endpoint *local_endpoint(struct segd *d, const void *addr)
{
	const struct seg_view view = { &d->state.world, &d->compiled, NULL };
	const struct seg_endpoint *e = seg_endpoint_by_addr(&view, addr);

	if (!e || e->remote) {
		d->detect_stats.not_endpoint++;
		return NULL;
	}
	return e;
}

static void on_alert(void *ctx, const void *rec)
{
	struct segd_detect *x = ctx;
	const struct segd_alert *ev = rec;
	const struct seg_endpoint *e = local_endpoint(x->d, &ev->laddr);
	struct seg_alert *a;

	if (!e || !(a = calloc(1, sizeof(*a))))
		return;
	seg_alert_from_kernel(a, ev, &x->d->cfg.detect,
			      (int64_t)(clock_ns(CLOCK_REALTIME) / 1000000) -
			      (int64_t)(clock_ns(CLOCK_MONOTONIC) / 1000000));
	name_list(x->d, ev->list_id, a);
	handle(x, e, a, ev->ts_ns);
	free(a);
}

/* A flow record made an edge to an outside peer its workload never had,
 * past the learning period (core/learn/edges.h): new-destination. */
static void on_novel(void *ctx, const struct seg_flow_record *r, const char *name)
{
	struct segd_detect *x = ctx;
	const struct seg_endpoint *e = local_endpoint(x->d, &r->src);
	struct seg_alert *a;

	if (!e || !(a = calloc(1, sizeof(*a))))
		return;
	a->kind = SEGD_ALERT_NEW_DEST;
	a->addr = r->src;
	a->first_ms = (int64_t)(r->start_ns / 1000000);
	a->last_ms = (int64_t)(r->end_ns / 1000000);
	a->flows = 1;
	a->hosts = 1;
	a->ports = 1;
	memcpy(a->sample[0].addr.b, &r->dst, sizeof(a->sample[0].addr.b));
	a->sample[0].port = r->dport;
	a->sample[0].proto = r->proto;
	a->n_sample = 1;
	a->raised = 1;
	snprintf(a->domain, sizeof(a->domain), "%s", name ? name : "");
	/* seen at a flow pass, not in the packet's path: timed from here */
	handle(x, e, a, clock_ns(CLOCK_MONOTONIC));
	free(a);
}

static void on_ring_ready(evutil_socket_t fd, short what, void *arg)
{
	struct segd_detect *x = arg;

	(void)fd, (void)what;
	seg_dp_events_consume(x->ring);
}

int segd_detect_start(struct event_base *base, struct segd *d, struct seg_flowlog *log,
		      struct segd_detect **out)
{
	struct segd_detect_config kcfg;
	struct segd_detect *x;
	int ret;

	*out = NULL;
	seg_detect_config_image(&d->cfg.detect, &kcfg);
	ret = seg_dp_detect_configure(d->dp, &kcfg);
	if (ret || d->cfg.detect.off)
		return ret;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->d = d;
	x->log = log;
	if (d->edges && d->cfg.detect.new_dest_after_s)
		seg_edges_set_novelty(d->edges, d->cfg.detect.new_dest_after_s, on_novel, x);
	ret = seg_dp_events_open(d->dp, SEGD_MAP_ALERTS, sizeof(struct segd_alert),
				 on_alert, x, &x->ring);
	if (ret)
		goto fail;
	ret = -ENOMEM;
	x->ring_ev = event_new(base, seg_dp_events_fd(x->ring), EV_READ | EV_PERSIST,
			       on_ring_ready, x);
	if (!x->ring_ev || event_add(x->ring_ev, NULL))
		goto fail;
	*out = x;
	return 0;
fail:
	segd_detect_stop(x);
	return ret;
}

void segd_detect_stop(struct segd_detect *x)
{
	if (!x)
		return;
	if (x->d->edges)
		seg_edges_set_novelty(x->d->edges, 0, NULL, NULL);
	if (x->ring_ev)
		event_free(x->ring_ev);
	seg_dp_events_close(x->ring);
	free(x);
}
