/* control_flows.c - `segctl flows`: the flows segd knows now, newest last: the
 * last flows that ended (with their final counts), the live conntrack
 * entries (forwarded and audit flows) and the drop flows of the flow
 * table, each with its counters since it started. Filters: --endpoint,
 * --namespace (the endpoint that observed it), --verdict. Changes nothing.
 * And `segctl conntrack flush`, which ends them all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "control_int.h"
#include "control_report.h"
#include "flow_export.h"
#include "flow_names.h"
#include "flow_recent.h"
#include "control_flows.h"
#include "yaml_util.h"

#define MAX_FLOWS_SHOWN 10000

struct listing {
	struct segd *d;
	yaml_document_t *out;
	int seq;
	const char *state;
	struct seg_flow_filter filter;
	size_t shown, total;
	uint64_t now_real;
};

static void add_row(void *ctx, const struct seg_flow_record *r)
{
	struct listing *l = ctx;
	char a[64], b[64], pbuf[8];
	int m;

	if (!seg_flow_filter_match(&l->filter, r))
		return;
	if (l->total++ >= MAX_FLOWS_SHOWN)
		return;
	l->shown++;
	m = yu_add_map(l->out);
	seg_addr_format(&r->src, a, sizeof(a));
	seg_addr_format(&r->dst, b, sizeof(b));
	yu_append(l->out, l->seq, m);
	yu_set_str(l->out, m, "endpoint", r->observer);
	yu_set_str(l->out, m, "direction",
		   r->direction == SEGD_DIR_EGRESS ? "egress" : "ingress");
	yu_set_str(l->out, m, "proto", seg_proto_name(r->proto, pbuf, sizeof(pbuf)));
	yu_set_str(l->out, m, "src_ip", a);
	yu_set_str(l->out, m, "dst_ip", b);
	if (r->proto == IPPROTO_ICMP || r->proto == IPPROTO_ICMPV6) {
		/* records carry ICMP as IPFIX does: dport = type << 8 | code */
		yu_set_uint(l->out, m, "icmp_type", r->dport >> 8);
		yu_set_uint(l->out, m, "icmp_code", r->dport & 0xff);
	} else {
		yu_set_uint(l->out, m, "src_port", r->sport);
		yu_set_uint(l->out, m, "dst_port", r->dport);
	}
	yu_set_str(l->out, m, "source", r->source.identity);
	yu_set_str(l->out, m, "destination", r->destination.identity);
	yu_set_str(l->out, m, "verdict", seg_flow_verdict_name(r->verdict));
	yu_set_str(l->out, m, "state", l->state);
	yu_set_str(l->out, m, "rule", r->policy ? r->policy :
		   r->verdict == SEG_FLOW_FORWARDED ? "not-enforced" : "default");
	if (r->rule_name)
		yu_set_str(l->out, m, "rule_name", r->rule_name);
	if (r->drop_reason)
		yu_set_str(l->out, m, "drop_reason", r->drop_reason);
	if (r->blocklist)
		yu_set_str(l->out, m, "blocklist", r->blocklist);
	yu_set_uint(l->out, m, "packets", r->total_packets);
	yu_set_uint(l->out, m, "bytes", r->total_bytes);
	yu_set_uint(l->out, m, "reply_packets", r->total_reply_packets);
	yu_set_uint(l->out, m, "reply_bytes", r->total_reply_bytes);
	yu_set_uint(l->out, m, "idle_ms", l->now_real > r->end_ns ?
					  (l->now_real - r->end_ns) / 1000000 : 0);
}

struct ct_each {
	segd_ct_fn fn;
	void *ctx;
};

static int ct_each(void *ctx, const struct segd_ct_key *k, const struct segd_ct_value *v)
{
	struct ct_each *e = ctx;

	e->fn(e->ctx, k, v);
	return 0;
}

int segd_ct_foreach(struct segd *d, segd_ct_fn fn, void *ctx, struct seg_error *err)
{
	struct ct_each e = { fn, ctx };
	int ret;

	if (!d->dp)
		return seg_errorf(err, NULL, 0, 0, -ENODEV,
				  "segd runs without the kernel datapath");
	ret = seg_dp_ct_foreach(d->dp, ct_each, &e);
	return ret ? seg_errorf(err, NULL, 0, 0, ret, "reading the conntrack map: %s",
				strerror(-ret)) : 0;
}

static void add_ct_row(void *ctx, const struct segd_ct_key *k,
		       const struct segd_ct_value *v)
{
	struct listing *l = ctx;

	seg_flowtab_ct_record(seg_flow_export_table(l->d->flow_export), k, v,
			      add_row, l);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int segd_h_flows(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct listing l = { .d = d, .out = out, .now_real = realtime_ns() };
	const char *verdict = segd_arg_str(r, "verdict");
	const char *endpoint = segd_arg_str(r, "endpoint");
	const char *ns = segd_arg_str(r, "namespace");
	int ret;

	if (!d->dp || !d->flow_export)
		return seg_errorf(r->err, NULL, 0, 0, -ENODEV,
				  "segd runs without the kernel datapath or flow export");
	l.filter.verdict = -1;
	if (verdict && *verdict && (l.filter.verdict = seg_flow_verdict_parse(verdict)) < 0)
		return seg_errorf(r->err, "--verdict", 0, 0, -EINVAL,
				  "'%s' is not a verdict; use allow, deny or audit", verdict);
	snprintf(l.filter.endpoint, sizeof(l.filter.endpoint), "%s", endpoint ? endpoint : "");
	snprintf(l.filter.ns, sizeof(l.filter.ns), "%s", ns ? ns : "");
	l.seq = yu_add_seq(out);
	yu_set(out, res, "flows", l.seq);
	l.state = "ended";
	seg_flow_recent_foreach(seg_flow_export_recent(d->flow_export), add_row, &l);
	l.state = "active";
	seg_flowtab_names_changed(seg_flow_export_table(d->flow_export));
	ret = segd_ct_foreach(d, add_ct_row, &l, r->err);
	seg_flowtab_drops(seg_flow_export_table(d->flow_export), add_row, &l);
	yu_set_uint(out, res, "total", l.total);
	yu_set_bool(out, res, "truncated", l.shown < l.total);
	if (!ret && segd_arg_bool(r, "follow")) {
		/* the server keeps the connection and streams new records */
		d->follow = malloc(sizeof(*d->follow));
		if (!d->follow)
			return seg_errorf(r->err, NULL, 0, 0, -ENOMEM, "out of memory");
		*d->follow = l.filter;
		yu_set_bool(out, res, "follow", true);
	}
	return ret;
}

bool segd_flows_take_follower(struct segd *d, struct bufferevent *bev)
{
	struct seg_flow_filter *f = d->follow;
	bool taken = false;

	if (!f)
		return false;
	d->follow = NULL;
	bufferevent_write(bev, "...\n", 4);   /* YAML end marker, then records */
	if (d->flow_export)
		taken = !seg_flow_export_follow(d->flow_export, bev, f);
	free(f);
	return taken;
}

/* Without flow export: delete the entries, keep the tombstones. */
static int flush_entry(void *ctx, const struct segd_ct_key *k, const struct segd_ct_value *v)
{
	struct seg_ct_flush_counts *c = ctx;

	(void)k;
	if (v->flags & SEGD_CTF_REVOKED) {
		c->kept++;
		return 0;
	}
	c->flushed++;
	return 1;
}

/* `segctl conntrack flush`: every flow ends now, with its final record;
 * its next packet is decided again as a new flow. */
int segd_h_conntrack_flush(struct segd *d, struct segd_req *r, yaml_document_t *out,
			   int res)
{
	struct seg_ct_flush_counts c = { 0 };
	int ret;

	if (!d->dp)
		return seg_errorf(r->err, NULL, 0, 0, -ENODEV,
				  "segd runs without the kernel datapath");
	ret = d->flow_export ? seg_flow_export_flush(d->flow_export, &c) :
			       seg_dp_ct_foreach(d->dp, flush_entry, &c);
	if (ret)
		return seg_errorf(r->err, NULL, 0, 0, ret, "conntrack flush: %s after %zu "
				  "entries; run it again", strerror(-ret), c.flushed);
	seg_log(SEG_LOG_INFO, "conntrack flush: %zu flows ended, %zu revocation "
		"tombstones kept", c.flushed, c.kept);
	yu_set_uint(out, res, "flushed", c.flushed);
	yu_set_uint(out, res, "kept", c.kept);
	return 0;
}
