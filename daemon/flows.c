/* flows.c - `segctl flows`: the conntrack table as flows with their
 * counters, named by endpoint, peer identity and the rule that allowed
 * them. Reads the pinned map; changes nothing. The conntrack walk and the
 * rule and protocol names serve `explain` and `graph` too (flows.h).
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "control_int.h"
#include "control_report.h"
#include "flows.h"
#include "yaml_util.h"

#define MAX_FLOWS_SHOWN 10000

const char *segd_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

static int addr_cmp(const void *key, const void *entry)
{
	return memcmp(key, &((const struct seg_ipc_exact_entry *)entry)->addr,
		      sizeof(struct segd_addr));
}

static const struct seg_endpoint *endpoint_of(struct segd *d, const struct segd_addr *a)
{
	const struct seg_ipc_exact_entry *e = bsearch(a, d->compiled.exact,
						      d->compiled.n_exact,
						      sizeof(*e), addr_cmp);

	if (!e || !e->value.endpoint_id)
		return NULL;
	for (size_t i = 0; i < d->state.world.n_endpoints; i++)
		if (d->state.world.endpoints[i].endpoint_id == e->value.endpoint_id)
			return &d->state.world.endpoints[i];
	return NULL;
}

void segd_rule_text(const struct seg_compiled *c, uint32_t rule_id, char *buf,
		    size_t len)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct seg_rule_ref *r = &c->rules[i];

		if (r->rule_id != rule_id)
			continue;
		snprintf(buf, len, "%s/%s#%u", r->policy_ns, r->policy_name,
			 r->rule_index + 1);
		return;
	}
	snprintf(buf, len, "%s", rule_id ? "?" : "not-enforced");
}

static void addr_text(const struct segd_addr *a, char *buf, size_t len)
{
	struct in6_addr in;

	memcpy(&in, a, sizeof(in));
	seg_addr_format(&in, buf, len);
}

static bool wanted(struct segd_req *r, const struct seg_endpoint *ep)
{
	const char *name = segd_arg_str(r, "endpoint");
	const char *ns = segd_arg_str(r, "namespace");

	if (name && *name && (!ep || strcmp(ep->name, name)))
		return false;
	if (ns && *ns && (!ep || strcmp(ep->ns, ns)))
		return false;
	return true;
}

static void add_flow(struct segd *d, yaml_document_t *out, int seq,
		     const struct segd_ct_key *k, const struct segd_ct_value *v,
		     const struct seg_endpoint *ep, uint64_t now)
{
	char a[64], b[64], rule[300], pbuf[8], epname[300];
	int m = yu_add_map(out);
	bool egress = v->origin_dir == SEGD_DIR_EGRESS;

	addr_text(&k->local, a, sizeof(a));
	addr_text(&k->remote, b, sizeof(b));
	segd_rule_text(&d->compiled, v->rule_id, rule, sizeof(rule));
	snprintf(epname, sizeof(epname), "%s/%s", ep ? ep->ns : "?", ep ? ep->name : "?");
	yu_append(out, seq, m);
	yu_set_str(out, m, "endpoint", epname);
	yu_set_str(out, m, "direction", egress ? "egress" : "ingress");
	yu_set_str(out, m, "proto", segd_proto_name(k->proto, pbuf, sizeof(pbuf)));
	/* shown as the flow's initiator -> responder */
	yu_set_str(out, m, "src_ip", egress ? a : b);
	yu_set_uint(out, m, "src_port", egress ? k->lport : k->rport);
	yu_set_str(out, m, "dst_ip", egress ? b : a);
	yu_set_uint(out, m, "dst_port", egress ? k->rport : k->lport);
	yu_set_uint(out, m, "remote_identity", v->remote_id);
	yu_set_str(out, m, "rule", rule);
	yu_set_uint(out, m, "packets", v->packets[SEGD_CT_ORIG]);
	yu_set_uint(out, m, "bytes", v->bytes[SEGD_CT_ORIG]);
	yu_set_uint(out, m, "reply_packets", v->packets[SEGD_CT_REPLY]);
	yu_set_uint(out, m, "reply_bytes", v->bytes[SEGD_CT_REPLY]);
	yu_set_uint(out, m, "idle_ms", now > v->last_seen_ns ?
				       (now - v->last_seen_ns) / 1000000 : 0);
	yu_set_uint(out, m, "generation", v->policy_gen);
}

int segd_ct_foreach(struct segd *d, segd_ct_fn fn, void *ctx, struct seg_error *err)
{
	struct segd_ct_key key, next;
	struct segd_ct_value v;
	void *prev = NULL;
	int fd, ret;

	if (!d->dp)
		return seg_errorf(err, NULL, 0, 0, -ENODEV,
				  "segd runs without the kernel datapath");
	fd = seg_dp_map_fd(d->dp, SEGD_MAP_CT);
	if (fd < 0)
		return seg_errorf(err, NULL, 0, 0, fd, "no conntrack map");
	while (!(ret = bpf_map_get_next_key(fd, prev, &next))) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &v))
			continue; /* evicted meanwhile */
		fn(ctx, &key, &v);
	}
	return ret == -ENOENT ? 0 : seg_errorf(err, NULL, 0, 0, ret,
					       "reading the conntrack map: %s",
					       strerror(-ret));
}

struct flows_ctx {
	struct segd *d;
	struct segd_req *r;
	yaml_document_t *out;
	int seq;
	size_t shown, total;
	uint64_t now;
};

static void flow_seen(void *p, const struct segd_ct_key *k, const struct segd_ct_value *v)
{
	struct flows_ctx *f = p;
	const struct seg_endpoint *ep = endpoint_of(f->d, &k->local);

	if (!wanted(f->r, ep))
		return;
	f->total++;
	if (f->shown < MAX_FLOWS_SHOWN) {
		add_flow(f->d, f->out, f->seq, k, v, ep, f->now);
		f->shown++;
	}
}

int segd_h_flows(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct flows_ctx f = { .d = d, .r = r, .out = out, .seq = yu_add_seq(out) };
	struct timespec ts;
	int ret;

	/* the datapath stamps flows with the coarse monotonic clock */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	f.now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	yu_set(out, res, "flows", f.seq);
	ret = segd_ct_foreach(d, flow_seen, &f, r->err);
	yu_set_uint(out, res, "total", f.total);
	yu_set_bool(out, res, "truncated", f.shown < f.total);
	return ret;
}
