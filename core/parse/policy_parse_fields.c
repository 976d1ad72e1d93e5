/* policy_parse_fields.c - pieces the policy kinds share: label keys and
 * values, label selectors, CIDR peers with except, port lists, the start
 * of a rule. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include "policy_parse_int.h"
#include "segd_abi.h"

/* ---- labels and selectors ---------------------------------------------------- */

int pp_label_key(const struct pp *c, yaml_node_t *n, const char *what,
		     const char **out)
{
	const char *why;
	int ret = pp_want_str(c, n, what, out);

	if (ret)
		return ret;
	why = seg_label_key_problem(*out, strlen(*out), NULL);
	if (why)
		return pp_err(c, n, "invalid label key '%s' in %s: %s", Q(*out),
			      what, why);
	return 0;
}

int pp_label_value(const struct pp *c, yaml_node_t *n, const char *what,
		       const char **out)
{
	const char *why;

	if (yu_is_null(n)) {
		*out = "";
		return 0;
	}
	if (!yu_scalar(n))
		return pp_err(c, n, "label value in %s must be a string, not %s",
			      what, pp_type_name(n));
	*out = yu_scalar(n);
	why = seg_label_value_problem(*out, strlen(*out));
	if (why)
		return pp_err(c, n, "invalid label value '%s' in %s: %s", Q(*out),
			      what, why);
	return 0;
}

static const struct {
	const char *name;
	enum seg_sel_op op;
} sel_ops[] = {
	{ "In", SEG_SEL_IN }, { "NotIn", SEG_SEL_NOT_IN },
	{ "Exists", SEG_SEL_EXISTS }, { "DoesNotExist", SEG_SEL_DOES_NOT_EXIST },
};

static int sel_expr(const struct pp *c, yaml_node_t *n, const char *what,
		    struct seg_sel_req *r)
{
	static const char *const keys[] = { "key", "operator", "values", NULL };
	yaml_node_t *op = pp_get(c, n, "operator"), *vals = pp_get(c, n, "values");
	const char *s;
	size_t i, nv;
	int ret;

	ret = pp_keys(c, n, "matchExpressions entry", keys);
	if (ret)
		return ret;
	if (!pp_key_node(c, n, "key"))
		return pp_err(c, n, "matchExpressions entry needs 'key'");
	ret = pp_label_key(c, pp_get(c, n, "key"), what, &s);
	if (ret)
		return ret;
	if (!(r->key = strdup(s)))
		return pp_nomem(c);
	if (!op)
		return pp_err(c, n, "matchExpressions entry needs 'operator' "
			      "(In, NotIn, Exists or DoesNotExist)");
	ret = pp_want_str(c, op, "operator", &s);
	if (ret)
		return ret;
	for (i = 0; i < sizeof(sel_ops) / sizeof(sel_ops[0]); i++)
		if (!strcmp(s, sel_ops[i].name))
			break;
	if (i == sizeof(sel_ops) / sizeof(sel_ops[0]))
		return pp_err(c, op, "unknown operator '%s'; use In, NotIn, "
			      "Exists or DoesNotExist (exactly so spelt)", Q(s));
	r->op = sel_ops[i].op;
	if (vals && !yu_is_null(vals)) {
		ret = pp_want_seq(c, vals, "values");
		if (ret)
			return ret;
	}
	nv = yu_seq_len(vals);
	if ((r->op == SEG_SEL_IN || r->op == SEG_SEL_NOT_IN) && nv == 0)
		return pp_err(c, vals ? vals : op, "operator %s needs a non-empty "
			      "'values' list", sel_ops[i].name);
	if ((r->op == SEG_SEL_EXISTS || r->op == SEG_SEL_DOES_NOT_EXIST) && nv)
		return pp_err(c, vals, "operator %s takes no 'values'; remove "
			      "them", sel_ops[i].name);
	if (!(r->values = pp_calloc(nv, sizeof(char *))))
		return pp_nomem(c);
	for (size_t j = 0; j < nv; j++) {
		ret = pp_label_value(c, yu_seq_at(c->doc, vals, j), what, &s);
		if (ret)
			return ret;
		if (!(r->values[j] = strdup(s)))
			return pp_nomem(c);
		r->n_values++;
	}
	return 0;
}

int pp_selector(const struct pp *c, yaml_node_t *n, const char *what,
		struct seg_selector *out)
{
	static const char *const keys[] = { "matchLabels", "matchExpressions",
					    NULL };
	yaml_node_t *ml, *me;
	struct seg_selector s = { 0 };
	size_t n_ml = 0, n_me;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!n || yu_is_null(n))
		return 0;
	ret = pp_keys(c, n, what, keys);
	if (ret)
		return ret;
	ml = pp_get(c, n, "matchLabels");
	me = pp_get(c, n, "matchExpressions");
	if (ml && !yu_is_null(ml)) {
		ret = pp_want_map(c, ml, "matchLabels");
		if (ret)
			return ret;
		n_ml = (size_t)(ml->data.mapping.pairs.top -
				ml->data.mapping.pairs.start);
	}
	if (me && !yu_is_null(me)) {
		ret = pp_want_seq(c, me, "matchExpressions");
		if (ret)
			return ret;
	}
	n_me = yu_seq_len(me);
	if (!(s.reqs = pp_calloc(n_ml + n_me, sizeof(*s.reqs))))
		return pp_nomem(c);
	for (size_t i = 0; i < n_ml; i++) {
		yaml_node_pair_t *p = &ml->data.mapping.pairs.start[i];
		struct seg_sel_req *r = &s.reqs[s.n_reqs];
		const char *k, *v;

		ret = pp_label_key(c, yu_node(c->doc, p->key), "matchLabels", &k);
		if (ret)
			goto fail;
		for (size_t j = 0; j < s.n_reqs; j++)
			if (!strcmp(s.reqs[j].key, k)) {
				ret = pp_err(c, yu_node(c->doc, p->key),
					     "duplicate label key '%s' in "
					     "matchLabels; keep only one", Q(k));
				goto fail;
			}
		ret = pp_label_value(c, yu_node(c->doc, p->value), "matchLabels", &v);
		if (ret)
			goto fail;
		s.n_reqs++;
		r->op = SEG_SEL_IN;
		r->key = strdup(k);
		r->values = calloc(1, sizeof(char *));
		if (!r->key || !r->values || !(r->values[0] = strdup(v))) {
			ret = pp_nomem(c);
			goto fail;
		}
		r->n_values = 1;
	}
	for (size_t i = 0; i < n_me; i++) {
		yaml_node_t *e = yu_seq_at(c->doc, me, i);

		s.n_reqs++;
		ret = sel_expr(c, e, "matchExpressions", &s.reqs[s.n_reqs - 1]);
		if (ret)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	seg_selector_free(&s);
	return ret;
}

/* ---- CIDRs ------------------------------------------------------------------- */

static int cidr_one(const struct pp *c, yaml_node_t *n, const char *what,
		    enum pp_flavor fl, struct seg_cidr *out, int *fam)
{
	struct seg_error e = { 0 };
	const char *s;
	int ret = pp_want_str(c, n, what, &s);

	if (ret)
		return ret;
	if (fl == PP_K8S && !strchr(s, '/'))
		return pp_err(c, n, "%s '%s' needs a prefix length; write e.g. "
			      "%s/%d", what, Q(s), Q(s), strchr(s, ':') ? 128 : 32);
	if (seg_cidr_parse(s, out, &e))
		return pp_err(c, n, "%s: %s", what, e.msg);
	*fam = strchr(s, ':') ? 6 : 4;
	return 0;
}

int pp_cidr_peer(const struct pp *c, yaml_node_t *cidr, yaml_node_t *except,
		 enum pp_flavor fl, struct seg_peer *out)
{
	struct seg_cidr ex;
	char a[64], b[64];
	size_t n;
	int fam, efam, ret;

	memset(out, 0, sizeof(*out));
	out->kind = SEG_PEER_CIDR;
	ret = cidr_one(c, cidr, "cidr", fl, &out->cidr, &fam);
	if (ret)
		return ret;
	if (!except || yu_is_null(except))
		return 0;
	ret = pp_want_seq(c, except, "except");
	if (ret)
		return ret;
	n = yu_seq_len(except);
	if (!(out->except = pp_calloc(n, sizeof(*out->except))))
		return pp_nomem(c);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *en = yu_seq_at(c->doc, except, i);

		ret = cidr_one(c, en, "except entry", fl, &ex, &efam);
		if (ret)
			return ret;
		seg_cidr_format(&out->cidr, a, sizeof(a));
		seg_cidr_format(&ex, b, sizeof(b));
		if (efam != fam)
			return pp_err(c, en, "except %s is IPv%d but cidr %s is "
				      "IPv%d; except entries must be of the "
				      "cidr's family", b, efam, a, fam);
		if (ex.plen <= out->cidr.plen ||
		    !seg_cidr_contains(&out->cidr, &ex))
			return pp_err(c, en, "except %s is not a strict subset "
				      "of cidr %s; except entries must be "
				      "smaller blocks inside cidr", b, a);
		out->except[out->n_except++] = ex;
	}
	return 0;
}

/* ---- ports ------------------------------------------------------------------- */

/* A port number, or into name (when not NULL) a port name. */
static int port_num(const struct pp *c, yaml_node_t *n, const char *what,
		    uint16_t *out, char *name)
{
	const char *s = yu_scalar(n), *p, *why;
	int64_t v;

	if (!s || yu_is_null(n))
		return pp_err(c, n, "%s must be a port number (1-65535), not %s",
			      what, pp_type_name(n));
	if (yu_int(n, 1, 65535, &v) == 0) {
		*out = (uint16_t)v;
		return 0;
	}
	for (p = s; *p && !isalpha((unsigned char)*p); p++)
		;
	if (*p && !name)
		return pp_err(c, n, "%s '%s' is a port name; %s must be a "
			      "number", what, Q(s), what);
	if (*p) {
		if ((why = seg_port_name_problem(s)))
			return pp_err(c, n, "port name '%s': %s", Q(s), why);
		strcpy(name, s);   /* checked: at most SEG_PORT_NAME_MAX */
		*out = 0;
		return 0;
	}
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return pp_err(c, n, "%s '%s' is quoted, which makes it a port "
			      "name; write the number without quotes", what,
			      Q(s));
	p = s + (*s == '-' || *s == '+');
	if (*p && strspn(p, "0123456789") == strlen(p))
		return seg_error_kind(c->err, SEG_ERR_PORT_RANGE,
				      pp_err(c, n, "%s %s is out of range; use a "
					     "number from 1 to 65535", what, Q(s)));
	return pp_err(c, n, "%s '%s' is not a port number; use a number from 1 "
		      "to 65535", what, Q(s));
}

struct proto_name {
	const char *name;
	uint8_t proto;
	bool ports;          /* has port numbers */
};

static const struct proto_name k8s_protos[] = {
	{ "TCP", IPPROTO_TCP, true }, { "UDP", IPPROTO_UDP, true },
	{ "SCTP", IPPROTO_SCTP, true }, { NULL, 0, false },
};
static const struct proto_name seg_protos[] = {
	{ "TCP", IPPROTO_TCP, true }, { "UDP", IPPROTO_UDP, true },
	{ "SCTP", IPPROTO_SCTP, true }, { "ICMP", IPPROTO_ICMP, false },
	{ "ICMPv6", IPPROTO_ICMPV6, false }, { "any", 0, true },
	{ NULL, 0, false },
};

static int port_entry(const struct pp *c, yaml_node_t *n, enum pp_flavor fl,
		      struct seg_rule *r)
{
	static const char *const keys[] = { "protocol", "port", "endPort", NULL };
	const struct proto_name *pn = fl == PP_K8S ? k8s_protos : seg_protos;
	yaml_node_t *pr, *po, *ep;
	uint16_t lo = 0, hi = 0;
	char name[SEG_PORT_NAME_MAX + 1] = "";
	const char *s;
	int ret;

	if (yu_is_null(n)) /* `- ` alone: all fields default */
		goto add;
	ret = pp_keys(c, n, "ports entry", keys);
	if (ret)
		return ret;
	pr = pp_get(c, n, "protocol");
	po = pp_get(c, n, "port");
	ep = pp_get(c, n, "endPort");
	if (pr && !yu_is_null(pr)) {
		ret = pp_want_str(c, pr, "protocol", &s);
		if (ret)
			return ret;
		for (; pn->name; pn++)
			if (fl == PP_K8S ? !strcmp(s, pn->name)
					 : !strcasecmp(s, pn->name))
				break;
		if (!pn->name)
			return pp_err(c, pr, "unsupported protocol '%s'; use %s",
				      Q(s), fl == PP_K8S ?
				      "TCP, UDP or SCTP (upper case)" :
				      "TCP, UDP, SCTP, ICMP, ICMPv6 or any");
	}
	if (po && !yu_is_null(po)) {
		if (!pn->ports)
			return seg_error_kind(c->err, SEG_ERR_PORT_RANGE,
					      pp_err(c, po, "%s has no ports; remove "
						     "'port' or use TCP, UDP or SCTP",
						     pn->name));
		ret = port_num(c, po, "port", &lo, name);
		if (ret)
			return ret;
		hi = lo;
	}
	if (ep && !yu_is_null(ep)) {
		if (*name)
			return pp_err(c, ep, "endPort needs a numeric 'port'; "
				      "a range cannot start at port name '%s'",
				      name);
		if (!lo)
			return pp_err(c, ep, "endPort needs 'port' (the start of "
				      "the range); add port");
		ret = port_num(c, ep, "endPort", &hi, NULL);
		if (ret)
			return ret;
		if (hi < lo)
			return seg_error_kind(c->err, SEG_ERR_PORT_RANGE,
					      pp_err(c, ep, "endPort %u is below port "
						     "%u; endPort must be >= port",
						     hi, lo));
	}
add:
	if (pn->name && !strcmp(pn->name, "any") && (lo || *name)) {
		static const uint8_t all[] = { IPPROTO_TCP, IPPROTO_UDP,
					       IPPROTO_SCTP };

		for (size_t i = 0; i < 3; i++) {
			struct seg_port *sp = &r->ports[r->n_ports++];

			*sp = (struct seg_port){ all[i], lo, hi, "" };
			memcpy(sp->name, name, sizeof(name));
		}
		return 0;
	}
	r->ports[r->n_ports] = (struct seg_port){ pn->proto, lo, hi, "" };
	memcpy(r->ports[r->n_ports++].name, name, sizeof(name));
	return 0;
}

int pp_ports(const struct pp *c, yaml_node_t *n, enum pp_flavor fl,
	     struct seg_rule *r)
{
	size_t len;
	int ret;

	if (!n || (fl == PP_K8S && yu_is_null(n))) {
		r->all_ports = true;
		return 0;
	}
	ret = pp_want_seq(c, n, "ports");
	if (ret)
		return ret;
	len = yu_seq_len(n);
	if (len == 0) {
		if (fl == PP_K8S) {
			r->all_ports = true;
			return 0;
		}
		return pp_err(c, n, "'ports: []' is ambiguous; omit 'ports' to "
			      "match every protocol and port, or list them");
	}
	if (len > SIZE_MAX / 3 || !(r->ports = pp_calloc(len * 3, sizeof(*r->ports))))
		return pp_nomem(c);
	for (size_t i = 0; i < len; i++) {
		ret = port_entry(c, yu_seq_at(c->doc, n, i), fl, r);
		if (ret)
			return ret;
	}
	return 0;
}


/* ---- rules ------------------------------------------------------------------- */

int pp_rule_start(const struct pp *c, yaml_node_t *n, int dir,
		  const char *ports_key, struct seg_rule *r)
{
	bool in = dir == SEGD_DIR_INGRESS;
	const char *pk = in ? "from" : "to", *other = in ? "to" : "from";
	const char *const keys[] = { "name", "action", pk, ports_key, NULL };
	yaml_node_t *v;

	r->dir = dir;
	r->line = yu_line(n);
	r->col = yu_col(n);
	if (yu_is_null(n))
		return 0;
	if ((v = pp_key_node(c, n, other)))
		return pp_err(c, v, "%s rules take '%s', not '%s'",
			      in ? "ingress" : "egress", pk, other);
	return pp_keys(c, n, in ? "ingress rule" : "egress rule", keys);
}
