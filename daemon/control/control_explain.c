/* control_explain.c - the `explain` and `graph` requests: what the compiled
 * state the kernel holds does with a flow, and the segment graph. The
 * deciding and the DOT text are pure (explain.c, graph.c); this resolves
 * names, reads conntrack and reports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control_blocklist.h"
#include "control_explain.h"
#include "control_int.h"
#include "explain.h"
#include "flow_names.h"
#include "control_flows.h"
#include "graph.h"
#include "yaml_util.h"

/* One end of the flow as given: an address, NAME (in --namespace) or
 * NS/NAME. */
struct end {
	const char *text;
	const struct seg_endpoint *ep;  /* named, or owning the address */
	bool named;                     /* given as NAME or NS/NAME */
	struct in6_addr addr;
};

static const struct seg_endpoint *owner_of(struct segd *d, const struct in6_addr *a)
{
	for (size_t i = 0; i < d->state.world.n_endpoints; i++) {
		const struct seg_endpoint *e = &d->state.world.endpoints[i];

		for (size_t j = 0; j < e->n_ips; j++)
			if (!memcmp(&e->ips[j], a, sizeof(*a)))
				return e;
	}
	return NULL;
}

static int resolve(struct segd *d, struct segd_req *r, const char *key, struct end *e)
{
	char ns[254];
	const char *slash, *name;
	int ret = segd_arg_need(r, key, &e->text);

	if (ret)
		return ret;
	e->named = false;
	if (!seg_addr_parse(e->text, &e->addr)) {
		e->ep = owner_of(d, &e->addr);
		return 0;
	}
	e->named = true;
	slash = strchr(e->text, '/');
	snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - e->text) : 0, e->text);
	name = slash ? slash + 1 : e->text;
	e->ep = seg_state_find_ep(&d->state, slash ? ns : segd_arg_ns(r), name);
	if (!e->ep || !e->ep->n_ips)
		return seg_errorf(r->err, NULL, 0, 0, -ENOENT, "--%s '%s' is neither an "
				  "address nor an endpoint of namespace %s; see `segctl get "
				  "endpoints`", key, e->text, slash ? ns : segd_arg_ns(r));
	e->addr = e->ep->ips[0];
	return 0;
}

static bool is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

/* An endpoint end takes its address of the other end's family. */
static int same_family(struct segd_req *r, struct end *e, const struct end *other)
{
	if (!e->named || is_v4(&e->addr) == is_v4(&other->addr))
		return 0;
	for (size_t i = 0; i < e->ep->n_ips; i++)
		if (is_v4(&e->ep->ips[i]) == is_v4(&other->addr)) {
			e->addr = e->ep->ips[i];
			return 0;
		}
	return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "endpoint %s/%s has no IPv%c "
			  "address to talk to %s", e->ep->ns, e->ep->name,
			  is_v4(&other->addr) ? '4' : '6', other->text);
}

static void report_end(yaml_document_t *out, int m, const struct end *e,
		       const struct seg_compiled *c)
{
	char a[64], name[300];

	seg_addr_format(&e->addr, a, sizeof(a));
	yu_set_str(out, m, "address", a);
	if (e->ep)
		snprintf(name, sizeof(name), "%s/%s", e->ep->ns, e->ep->name);
	yu_set_str(out, m, "endpoint", e->ep ? name : "");
	yu_set_uint(out, m, "identity", seg_compiled_identity_of(c, &e->addr));
}

static void report_names(yaml_document_t *out, int m, const char *key,
			 const char (*names)[SEG_TRACE_NAME_LEN], size_t n)
{
	int seq = yu_add_seq(out);

	for (size_t i = 0; i < n; i++)
		yu_append(out, seq, yu_add_str(out, names[i]));
	yu_set(out, m, key, seq);
}

/* Which tier, policy and rule decided, and what was passed or isolates
 * the endpoint on the way (explain_tiers.h). */
static void report_trace(yaml_document_t *out, int m, const struct seg_tier_trace *t)
{
	yu_set_str(out, m, "tier", seg_trace_tier_name(t));
	yu_set_str(out, m, "action", seg_trace_action_name(t));
	yu_set_str(out, m, "decided_by", t->by == SEG_TRACE_RULE ? t->decided_by :
		   t->by == SEG_TRACE_ISOLATED ? "default deny" : "default allow");
	if (t->by == SEG_TRACE_RULE)
		yu_set_str(out, m, "policy", t->policy);
	if (t->rule_name[0])
		yu_set_str(out, m, "rule_name", t->rule_name);
	report_names(out, m, "passed_by", t->passed_by, t->n_passed);
	if (t->by == SEG_TRACE_ISOLATED) {
		report_names(out, m, "isolated_by", t->isolated_by, t->n_isolated);
		yu_set_uint(out, m, "isolated_by_total", t->n_isolated_total);
	}
}

static void report_half(yaml_document_t *out, int m, const struct seg_explain_half *h)
{
	char pb[8];

	yu_set_str(out, m, "verdict", h->why == SEG_WHY_NO_HOOK ? "none" :
		   seg_explain_verdict_name(h->verdict));
	yu_set_str(out, m, "why", seg_explain_why_name(h->why));
	yu_set_str(out, m, "rule", h->rule);
	yu_set_uint(out, m, "local_identity", h->local_id);
	yu_set_uint(out, m, "remote_identity", h->remote_id);
	yu_set_bool(out, m, "enforced", h->lflags & SEGD_EPF_ENFORCE(h->dir));
	if (h->why == SEG_WHY_RULE) {
		int k = yu_add_map(out);

		yu_set_uint(out, m, "rule_id", h->rule_id);
		yu_set_uint(out, m, "probe", (uint64_t)h->probe);
		yu_set_uint(out, k, "local", h->key.local_id);
		if (h->key.remote_id)
			yu_set_uint(out, k, "remote", h->key.remote_id);
		else
			yu_set_str(out, k, "remote", "any");
		yu_set_str(out, k, "proto", h->key.proto ?
			   seg_proto_name(h->key.proto, pb, sizeof(pb)) : "any");
		yu_set_str(out, k, "port_kind", seg_explain_port_kind_name(&h->key));
		yu_set_uint(out, k, "port", h->key.port);
		yu_set(out, m, "key", k);
	}
	if (h->audit_list[0])
		yu_set_str(out, m, "audit_list", h->audit_list);
	if (h->traced)
		report_trace(out, m, &h->trace);
}

int segd_h_explain(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct end from, to;
	struct segd_lists_view v;
	struct seg_explain_lists lists;
	struct seg_explain x;
	struct seg_world world;
	const char *port_text;
	char why[200], pb[8];
	uint8_t proto;
	uint16_t port;
	int ret, m;

	if ((ret = resolve(d, r, "from", &from)) || (ret = resolve(d, r, "to", &to)))
		return ret;
	/* an endpoint end takes the family of the other end (to adapts first) */
	ret = to.named ? same_family(r, &to, &from) : same_family(r, &from, &to);
	if (ret)
		return ret;
	if (is_v4(&from.addr) != is_v4(&to.addr))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "%s and %s are of different "
				  "address families", from.text, to.text);
	if ((ret = segd_arg_need(r, "port", &port_text)))
		return ret;
	if (seg_explain_port_parse(port_text, &proto, &port, why, sizeof(why)))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "--port: %s", why);
	if ((ret = segd_lists_view(d, &v)))
		return ret;
	lists = (struct seg_explain_lists){ v.lists, v.exception, v.n_lists,
					    v.exceptions, v.n_exceptions };
	seg_explain_flow(&d->compiled, &lists, &from.addr, &to.addr, proto, port, &x);
	segd_lists_view_free(&v);
	world = segd_candidate_of(d);   /* the world d->compiled was made from */
	seg_explain_flow_tiers(&world, proto, port, &x);

	m = yu_add_map(out);
	report_end(out, m, &from, &d->compiled);
	yu_set(out, res, "from", m);
	m = yu_add_map(out);
	report_end(out, m, &to, &d->compiled);
	yu_set(out, res, "to", m);
	yu_set_str(out, res, "proto", seg_proto_name(proto, pb, sizeof(pb)));
	yu_set_uint(out, res, "port", port);
	yu_set_str(out, res, "verdict", seg_explain_verdict_name(x.verdict));
	m = yu_add_map(out);
	report_half(out, m, &x.half[SEGD_DIR_EGRESS]);
	yu_set(out, res, "egress", m);
	m = yu_add_map(out);
	report_half(out, m, &x.half[SEGD_DIR_INGRESS]);
	yu_set(out, res, "ingress", m);
	return 0;
}

struct graph_ctx {
	const struct seg_compiled *c;
	struct seg_graph_flow *flows;
	size_t n, cap;
	bool nomem;
};

static void graph_flow(void *p, const struct segd_ct_key *k, const struct segd_ct_value *v)
{
	struct graph_ctx *g = p;
	struct seg_graph_flow f;

	if (!seg_graph_flow_of(g->c, k, v, &f))
		return;
	if (g->n == g->cap) {
		struct seg_graph_flow *grown = realloc(g->flows, (g->cap = g->cap * 2 + 256) *
						       sizeof(*grown));

		if (!grown) {
			g->nomem = true;
			return;
		}
		g->flows = grown;
	}
	g->flows[g->n++] = f;
}

int segd_h_graph(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct graph_ctx g = { .c = &d->compiled };
	struct seg_world w = segd_candidate_of(d);
	const char *ns = segd_arg_str(r, "namespace");
	char *dot = NULL;
	size_t len = 0;
	int ret = 0;

	/* without a datapath (or its conntrack) the graph is policy only */
	if (d->dp && (ret = segd_ct_foreach(d, graph_flow, &g, r->err)))
		goto out;
	if (g.nomem) {
		ret = -ENOMEM;
		goto out;
	}
	ret = seg_graph_dot(&d->compiled, &w, g.flows, g.n, ns, &dot, &len);
	if (!ret) {
		yu_set_str(out, res, "dot", dot);
		yu_set_uint(out, res, "observed_flows", g.n);
	}
out:
	free(dot);
	free(g.flows);
	return ret;
}
