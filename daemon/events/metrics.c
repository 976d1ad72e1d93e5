/* metrics.c - /metrics over evhttp: gather a snapshot from the kernel and
 * segd's state at each scrape, render it (metrics_render.c), reply. */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blocklist.h"
#include "segd.h"
#include "lists.h"
#include "log.h"
#include "hostport.h"
#include "edges.h"
#include "metrics.h"
#include "version.h"

#define METRICS_MAX_MAPS 32
#define METRICS_TIMEOUT_SECONDS 10

struct seg_metrics {
	struct evhttp *http;
	struct segd *d;
	const struct seg_flowlog *flowlog;
	const struct seg_ipfix *ipfix;
};

int seg_metrics_parse_addr(const char *addr, char *host, size_t hostlen,
			   uint16_t *port)
{
	const char *ptext;
	struct in6_addr a6;
	struct in_addr a4;
	char *end;
	unsigned long p;

	if (seg_split_host_port(addr, host, hostlen, &ptext))
		return -EINVAL;
	errno = 0;
	p = strtoul(ptext, &end, 10);
	if (*end || errno || p == 0 || p > 65535 || ptext[0] == '-' || ptext[0] == '+')
		return -EINVAL;
	if (addr[0] == '[' ? inet_pton(AF_INET6, host, &a6) != 1
			   : inet_pton(AF_INET, host, &a4) != 1)
		return -EINVAL;
	*port = (uint16_t)p;
	return 0;
}

/* Borrowed from d: valid until the loop handles the next event. */
struct gathered {
	struct seg_metrics_snapshot s;
	struct seg_metrics_rule *rules;
	struct seg_metrics_list *lists;
	struct seg_dp_map_usage maps[METRICS_MAX_MAPS];
	struct segd_counter bl[SEGD_MAX_BLOCKLISTS];
};

static int gather_rules(struct segd *d, struct gathered *g)
{
	const struct seg_compiled *c = &d->compiled;
	uint32_t slots = seg_dp_rule_slots(d->dp);
	struct segd_rule_counter *all = calloc(slots + 1, sizeof(*all));
	int ret;

	g->rules = calloc(c->n_rules + 1, sizeof(*g->rules));
	if (!g->rules || !all) {
		free(all);
		return -ENOMEM;
	}
	ret = seg_dp_rule_counters(d->dp, all);
	g->rules[0].c = all[0];
	for (size_t i = 0; !ret && i < c->n_rules; i++) {
		struct seg_metrics_rule *r = &g->rules[i + 1];

		r->policy_ns = c->rules[i].policy_ns;
		r->policy_name = c->rules[i].policy_name;
		r->rule = c->rules[i].rule_index + 1;
		r->kind = c->rules[i].kind;
		r->tier = c->rules[i].tier;
		r->rule_name = c->rules[i].rule_name;
		if (c->rules[i].rule_id < slots)
			r->c = all[c->rules[i].rule_id];
	}
	free(all);
	g->s.rules = g->rules;
	g->s.n_rules = c->n_rules + 1;
	return ret;
}

static int gather_lists(struct segd *d, struct gathered *g)
{
	int ret = seg_dp_blocklist_counters(d->dp, g->bl);

	if (ret)
		return ret;
	g->lists = calloc(d->n_lists + 1, sizeof(*g->lists));
	if (!g->lists)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_lists; i++) {
		const struct segd_list *l = &d->lists[i];
		struct seg_metrics_list *m = &g->lists[g->s.n_lists];

		if (l->exception || l->id >= SEGD_MAX_BLOCKLISTS)
			continue;   /* exceptions count nothing */
		m->name = l->bl.name;
		m->category = seg_bl_category_name(l->bl.category);
		m->action = seg_bl_action_name(l->bl.action);
		m->c = g->bl[l->id];
		g->s.n_lists++;
	}
	g->s.lists = g->lists;
	return 0;
}

static int gather(struct seg_metrics *m, struct gathered *g)
{
	struct segd *d = m->d;
	int ret, n;

	g->s.version = SEGD_VERSION;
	g->s.generation = seg_dp_generation(d->dp);
	g->s.flows = d->flow_stats;
	seg_flowlog_stats(m->flowlog, &g->s.flowlog);
	if (m->ipfix)
		seg_ipfix_stats(m->ipfix, &g->s.ipfix);
	g->s.n_endpoints = d->state.world.n_endpoints;
	g->s.n_policies = d->state.world.n_policies;
	g->s.n_namespaces = d->state.world.n_namespaces;
	g->s.n_quarantines = d->quarantines.n;
	g->s.quarantine_actions[0] = d->quar_actions[0];
	g->s.quarantine_actions[1] = d->quar_actions[1];
	memcpy(g->s.alerts, d->alerts.total, sizeof(g->s.alerts));
	if (d->edges) {
		g->s.learn_edges = seg_edges_count(d->edges);
		g->s.learn_refused = seg_edges_refused(d->edges);
		g->s.learn_memory_bytes = seg_edges_memory(d->edges);
	}
	ret = seg_dp_reason_counters(d->dp, g->s.reasons);
	if (!ret)
		ret = gather_rules(d, g);
	if (!ret)
		ret = gather_lists(d, g);
	if (ret)
		return ret;
	n = seg_dp_map_usage(d->dp, g->maps, METRICS_MAX_MAPS);
	if (n < 0)
		return n;
	g->s.maps = g->maps;
	g->s.n_maps = (size_t)n;
	return 0;
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct seg_metrics *m = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct gathered *g = NULL;
	struct evbuffer *body = NULL;
	char *text = NULL;
	size_t len = 0;
	int ret;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_send_error(req, 405, "only GET");
		return;
	}
	g = calloc(1, sizeof(*g));
	ret = g ? gather(m, g) : -ENOMEM;
	if (!ret)
		ret = seg_metrics_render(&g->s, &text, &len);
	if (!ret && (!(body = evbuffer_new()) || evbuffer_add(body, text, len)))
		ret = -ENOMEM;
	if (ret) {
		seg_log(SEG_LOG_WARN, "/metrics: cannot read the counters: %s",
			strerror(-ret));
		evhttp_send_error(req, HTTP_INTERNAL, "cannot read the counters");
		goto out;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", body);
out:
	if (body)
		evbuffer_free(body);
	free(text);
	if (g) {
		free(g->rules);
		free(g->lists);
		free(g);
	}
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics is served here");
}

int seg_metrics_start(struct event_base *base, const char *addr, struct segd *d,
		      struct seg_metrics **out, struct seg_error *err)
{
	struct seg_metrics *m = NULL;
	char host[INET6_ADDRSTRLEN];
	uint16_t port;
	int ret;

	*out = NULL;
	if (!addr || !strcmp(addr, "off"))
		return 0;
	if (seg_metrics_parse_addr(addr, host, sizeof(host), &port))
		return seg_errorf(err, "metrics_addr", 0, 0, EINVAL, "'%s' is not "
				  "IPV4:PORT or [IPV6]:PORT; say e.g. 127.0.0.1:9470, "
				  "[::1]:9470, or off", addr);
	if (!d->dp)
		return seg_errorf(err, "metrics_addr", 0, 0, EINVAL,
				  "/metrics needs the datapath (its counters are the kernel's)");
	m = calloc(1, sizeof(*m));
	if (!m || !(m->http = evhttp_new(base))) {
		ret = seg_errorf(err, "metrics_addr", 0, 0, ENOMEM, "out of memory");
		goto fail;
	}
	m->d = d;
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_SECONDS);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 0);
	if (evhttp_set_cb(m->http, "/metrics", on_metrics, m)) {
		ret = seg_errorf(err, "metrics_addr", 0, 0, ENOMEM, "out of memory");
		goto fail;
	}
	evhttp_set_gencb(m->http, on_other, m);
	errno = 0;
	if (!evhttp_bind_socket_with_handle(m->http, host, port)) {
		int e = errno ? errno : EADDRNOTAVAIL;

		ret = seg_errorf(err, "metrics_addr", 0, 0, e, "cannot listen on %s: %s%s",
				 addr, strerror(e), e == EADDRINUSE ?
				 "; another program has that port: choose another "
				 "metrics_addr (--metrics-addr) or off" :
				 "; is that address one of this node's?");
		goto fail;
	}
	*out = m;
	return 0;
fail:
	seg_metrics_stop(m);
	return ret;
}

void seg_metrics_set_flowlog(struct seg_metrics *m, const struct seg_flowlog *fl)
{
	if (m)
		m->flowlog = fl;
}

void seg_metrics_set_ipfix(struct seg_metrics *m, const struct seg_ipfix *x)
{
	if (m)
		m->ipfix = x;
}

void seg_metrics_stop(struct seg_metrics *m)
{
	if (!m)
		return;
	if (m->http)
		evhttp_free(m->http);
	free(m);
}
