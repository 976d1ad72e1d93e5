/* policy_parse_cnp.c - policy.networking.k8s.io ClusterNetworkPolicy spec
 * (v1alpha2 and v1beta1), validated field by field as the upstream CRD
 * does (kubernetes-sigs/network-policy-api, clusternetworkpolicy_types.go
 * and the experimental channel's CRD; notes in docs/policy.md):
 *
 *   tier       Admin | Baseline                                  required
 *   priority   0..1000, lower goes first                         required
 *   subject    exactly one of  namespaces: SEL
 *                              pods: {namespaceSelector, podSelector}
 *   ingress, egress   at most 25 rules each; a direction without rules
 *              is not touched (enforce[dir] == it has rules)
 *   rule       name (<= 100 characters), action Accept|Deny|Pass
 *              (required), from|to: 1..25 peers (required),
 *              protocols: 1..25 entries (absent: every port)
 *   peer       ingress: exactly one of namespaces | pods
 *              egress:  one of namespaces | pods | nodes: SEL |
 *                       networks: 1..25 CIDRs | domainNames: 1..25 names
 *   protocol   exactly one of tcp|udp|sctp: {destinationPort: {number: N}
 *              or {range: {start: N, end: M}} (N < M)} or
 *              destinationNamedPort: NAME
 *
 * networks and domainNames are sets (a repeated entry is an error);
 * domainNames go only in Accept rules; an egress rule with networks,
 * nodes or domainNames peers takes no destinationNamedPort. v1beta1 also
 * rejects a network with host bits set (v1alpha2 means the network the
 * address is in) and spells the domain pattern's first character class
 * [a-zA-Z0-9] (v1alpha2's [a-zA-z0-9] also lets [\]^_` begin a label).
 * A null field is an unset field, as the API server prunes it; a peer
 * without any field fails closed (policy_parse.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "policy_parse_int.h"
#include "segd_abi.h"

#define CNP_MAX_RULES 25       /* per direction */
#define CNP_MAX_ITEMS 25       /* peers, protocols, networks, domainNames */
#define CNP_MAX_RULE_NAME 100  /* characters */
#define CNP_MAX_PRIORITY 1000
#define CNP_MAX_CIDR_LEN 43

struct cnp {
	const struct pp *c;
	bool beta;               /* v1beta1, else v1alpha2 */
};

/* what one rule's peers held, for the checks that span them */
struct rule_peers {
	size_t cap;              /* allocated r->peers */
	bool none;               /* a peer without any field */
	bool no_named_ports;     /* networks, nodes or domainNames */
};

/* ---- small helpers ---------------------------------------------------------- */

/* map[key], NULL when absent or null */
static yaml_node_t *field(const struct pp *c, yaml_node_t *map, const char *key)
{
	yaml_node_t *v = pp_get(c, map, key);

	return yu_is_null(v) ? NULL : v;
}

/* where to point at a missing field: its key when written as null */
static yaml_node_t *where(const struct pp *c, yaml_node_t *map, const char *key)
{
	yaml_node_t *k = pp_key_node(c, map, key);

	return k ? k : map;
}

/* Which of keys (NULL-terminated) mapping n sets, -1 for none; unknown
 * keys and two set fields are errors. */
static int one_of(const struct pp *c, yaml_node_t *n, const char *what,
		  const char *const *keys, const char *choices, int *which)
{
	int ret = pp_keys(c, n, what, keys);

	*which = -1;
	for (int i = 0; !ret && keys[i]; i++) {
		if (!field(c, n, keys[i]))
			continue;
		if (*which >= 0)
			return pp_err(c, pp_key_node(c, n, keys[i]), "%s takes "
				      "exactly one of %s, not both '%s' and '%s'; "
				      "write each as its own '-' item", what,
				      choices, keys[*which], keys[i]);
		*which = i;
	}
	return ret;
}

/* n must be a list of min..max items */
static int list_of(const struct pp *c, yaml_node_t *n, const char *what,
		   size_t min, size_t max, size_t *len)
{
	int ret = pp_want_seq(c, n, what);

	if (ret)
		return ret;
	*len = yu_seq_len(n);
	if (*len < min)
		return pp_err(c, n, "%s is empty; it needs %zu to %zu items",
			      what, min, max);
	if (*len > max)
		return pp_err(c, yu_seq_at(c->doc, n, max), "%s has %zu items; "
			      "ClusterNetworkPolicy allows at most %zu", what,
			      *len, max);
	return 0;
}

/* item i of set n (x-kubernetes-list-type: set) as a string, unique */
static int set_item(const struct pp *c, yaml_node_t *n, size_t i,
		    const char *what, const char **out)
{
	yaml_node_t *e = yu_seq_at(c->doc, n, i);
	int ret = pp_want_str(c, e, what, out);

	for (size_t j = 0; !ret && j < i; j++) {
		const char *o = yu_scalar(yu_seq_at(c->doc, n, j));

		if (o && !strcmp(o, *out))
			return pp_err(c, e, "%s '%s' is listed twice (items %zu "
				      "and %zu); keep one", what, Q(*out), j + 1,
				      i + 1);
	}
	return ret;
}

static int int_in(const struct pp *c, yaml_node_t *n, const char *what,
		  int64_t min, int64_t max, int64_t *out)
{
	const char *s = yu_scalar(n);
	int ret = yu_int(n, min, max, out);

	if (!ret)
		return 0;
	if (ret == -ERANGE)
		return pp_err(c, n, "%s %s is out of range; use a number from "
			      "%lld to %lld", what, Q(s), (long long)min,
			      (long long)max);
	if (s && n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return pp_err(c, n, "%s '%s' is quoted, which makes it a string; "
			      "write the number without quotes", what, Q(s));
	if (s)
		return pp_err(c, n, "%s must be a number from %lld to %lld, not "
			      "'%s'", what, (long long)min, (long long)max, Q(s));
	return pp_err(c, n, "%s must be a number from %lld to %lld, not %s",
		      what, (long long)min, (long long)max, pp_type_name(n));
}

static int selector(const struct pp *c, yaml_node_t *n, const char *what,
		    struct seg_selector *out)
{
	int ret = pp_want_map(c, n, what);

	return ret ? ret : pp_selector(c, n, what, out);
}

/* {namespaceSelector (optional: every namespace), podSelector (required)} */
static int ns_pods(const struct pp *c, yaml_node_t *n, const char *what,
		   struct seg_selector *pods, struct seg_selector *ns)
{
	static const char *const keys[] = { "namespaceSelector", "podSelector",
					    NULL };
	yaml_node_t *nss, *ps;
	int ret = pp_keys(c, n, what, keys);

	if (ret)
		return ret;
	ps = field(c, n, "podSelector");
	if (!ps)
		return pp_err(c, where(c, n, "podSelector"), "%s needs "
			      "podSelector; use podSelector: {} for every pod of "
			      "the selected namespaces", what);
	nss = field(c, n, "namespaceSelector");
	if (nss && (ret = selector(c, nss, "namespaceSelector", ns)))
		return ret;
	return selector(c, ps, "podSelector", pods);
}

/* ---- subject ------------------------------------------------------------------ */

static int subject(const struct pp *c, yaml_node_t *spec, struct seg_policy *p)
{
	static const char *const keys[] = { "namespaces", "pods", NULL };
	yaml_node_t *n = field(c, spec, "subject");
	int which, ret;

	if (!n)
		return pp_err(c, where(c, spec, "subject"), "ClusterNetworkPolicy "
			      "spec needs subject: {namespaces: SELECTOR} or "
			      "{pods: {namespaceSelector, podSelector}}");
	ret = one_of(c, n, "subject", keys, "namespaces or pods", &which);
	if (ret)
		return ret;
	if (which < 0)
		return pp_err(c, n, "subject needs namespaces or pods; use "
			      "namespaces: {} for every pod of every namespace");
	p->has_subject_ns = true;
	if (which == 0)
		return selector(c, field(c, n, "namespaces"), "subject.namespaces",
				&p->subject_namespaces);
	return ns_pods(c, field(c, n, "pods"), "subject.pods", &p->subject,
		       &p->subject_namespaces);
}

/* ---- peers --------------------------------------------------------------------- */

static struct seg_peer *add_peer(struct seg_rule *r, struct rule_peers *rp)
{
	if (r->n_peers == rp->cap) {
		size_t cap = rp->cap ? rp->cap * 2 : 4;
		struct seg_peer *v = realloc(r->peers, cap * sizeof(*v));

		if (!v)
			return NULL;
		r->peers = v;
		rp->cap = cap;
	}
	memset(&r->peers[r->n_peers], 0, sizeof(r->peers[0]));
	return &r->peers[r->n_peers++];
}

/* A networks entry: netip.ParsePrefix as the CRD's isCIDR() uses it (a
 * prefix length without leading zeros, no IPv4-mapped IPv6), at most 43
 * characters; host bits per version. */
static int network(const struct cnp *x, yaml_node_t *n, const char *s,
		   struct seg_cidr *out)
{
	const struct pp *c = x->c;
	const char *slash = strchr(s, '/'), *bits;
	char addr[64], want[64];
	struct seg_cidr m;
	unsigned plen = 0, max;
	size_t alen;
	bool v6;

	if (strlen(s) > CNP_MAX_CIDR_LEN)
		return pp_err(c, n, "networks entry '%s' is longer than %d "
			      "characters; write a CIDR such as 10.0.0.0/8 or "
			      "fd00::/8", Q(s), CNP_MAX_CIDR_LEN);
	if (!slash)
		return pp_err(c, n, "networks entry '%s' needs a prefix length; "
			      "write e.g. %s/%d", Q(s), Q(s),
			      strchr(s, ':') ? 128 : 32);
	alen = (size_t)(slash - s);
	v6 = memchr(s, ':', alen) != NULL;
	max = v6 ? 128 : 32;
	bits = slash + 1;
	if (alen >= sizeof(addr))
		alen = sizeof(addr) - 1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (seg_addr_parse(addr, &out->addr))
		return pp_err(c, n, "networks entry '%s' is not a CIDR: '%s' is "
			      "not an IPv4 or IPv6 address", Q(s), Q(addr));
	for (const char *d = bits; *d >= '0' && *d <= '9'; d++)
		plen = plen * 10 + (unsigned)(*d - '0');
	if (!*bits || strspn(bits, "0123456789") != strlen(bits) ||
	    strlen(bits) > 3 || (bits[0] == '0' && bits[1]) || plen > max)
		return pp_err(c, n, "networks entry '%s': the prefix length must "
			      "be a number from 0 to %u, without leading zeros",
			      Q(s), max);
	if (v6 && IN6_IS_ADDR_V4MAPPED(&out->addr))
		return pp_err(c, n, "networks entry '%s' is an IPv4-mapped IPv6 "
			      "prefix, which ClusterNetworkPolicy does not take; "
			      "write the IPv4 CIDR", Q(s));
	out->plen = (uint8_t)(v6 ? plen : 96 + plen);
	m = *out;
	seg_cidr_mask(&m);
	if (!memcmp(&m.addr, &out->addr, sizeof(m.addr)))
		return 0;
	seg_cidr_format(&m, want, sizeof(want));
	if (x->beta)
		return pp_err(c, n, "networks entry '%s' has host bits set; "
			      "v1beta1 takes the network address: did you mean "
			      "%s?", Q(s), want);
	*out = m;   /* v1alpha2 admits it: the network the address is in */
	return 0;
}

static int networks(const struct cnp *x, yaml_node_t *n, struct seg_rule *r,
		    struct rule_peers *rp)
{
	const struct pp *c = x->c;
	struct seg_peer *pe;
	const char *s;
	size_t len;
	int ret = list_of(c, n, "networks", 1, CNP_MAX_ITEMS, &len);

	for (size_t i = 0; !ret && i < len; i++) {
		ret = set_item(c, n, i, "networks entry", &s);
		if (ret)
			break;
		if (!(pe = add_peer(r, rp)))
			return pp_nomem(c);
		pe->kind = SEG_PEER_CIDR;
		ret = network(x, yu_seq_at(c->doc, n, i), s, &pe->cidr);
	}
	return ret;
}

static bool alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9');
}

/* The CRD's DomainName pattern: an optional "*." then two or more labels
 * of letters, digits, '-' and '_' that begin and end with a letter or
 * digit, and an optional final dot. */
static const char *domain_problem(const char *s, bool beta)
{
	size_t labels = 0;

	if (!strncmp(s, "*.", 2))
		s += 2;
	if (strchr(s, '*'))
		return "the wildcard '*' may only be the first label, as '*.'";
	while (*s) {
		const char *e = s + strcspn(s, ".");
		size_t len = (size_t)(e - s);

		if (!len)
			return "it has an empty label (a leading dot or two dots "
			       "in a row)";
		if (!alnum(s[0]) && (beta || s[0] < 'A' || s[0] > 'z'))
			return "each label must begin with a letter or digit";
		if (len > 1 && !alnum(e[-1]))
			return "each label must end with a letter or digit";
		for (const char *q = s + 1; q + 1 < e; q++)
			if (!alnum(*q) && *q != '-' && *q != '_')
				return "a label may hold only letters, digits, "
				       "'-' and '_'";
		labels++;
		s = *e ? e + 1 : e;
	}
	return labels < 2 ? "it needs at least two labels, such as example.com"
			  : NULL;
}

static int domain_names(const struct cnp *x, yaml_node_t *key, yaml_node_t *n,
			struct seg_rule *r, struct rule_peers *rp)
{
	const struct pp *c = x->c;
	struct seg_peer *pe;
	const char *s, *why;
	size_t len;
	int ret;

	if (r->action != SEG_ACTION_ALLOW)
		return pp_err(c, key, "domainNames peers go only in Accept rules "
			      "(ClusterNetworkPolicy); allow the names, then deny "
			      "the rest in a later rule");
	ret = list_of(c, n, "domainNames", 1, CNP_MAX_ITEMS, &len);
	for (size_t i = 0; !ret && i < len; i++) {
		ret = set_item(c, n, i, "domainNames entry", &s);
		if (ret)
			break;
		if ((why = domain_problem(s, x->beta)))
			return pp_err(c, yu_seq_at(c->doc, n, i), "domain name "
				      "'%s': %s", Q(s), why);
		if (!(pe = add_peer(r, rp)) || !(pe->domain = strdup(s)))
			return pp_nomem(c);
		pe->kind = SEG_PEER_DOMAIN;
		/* the model's spelling: lower case, no final dot */
		for (char *q = pe->domain; *q; q++) {
			if (*q >= 'A' && *q <= 'Z')
				*q = (char)(*q - 'A' + 'a');
			if (*q == '.' && !q[1])
				*q = '\0';
		}
	}
	return ret;
}

/* One peer of rule r (its action known), appended to r->peers. */
static int peer(const struct cnp *x, yaml_node_t *n, struct seg_rule *r,
		struct rule_peers *rp)
{
	static const char *const keys[] = { "namespaces", "pods", "nodes",
					    "networks", "domainNames", NULL };
	static const char *const in_keys[] = { "namespaces", "pods", NULL };
	const struct pp *c = x->c;
	bool in = r->dir == SEGD_DIR_INGRESS;
	struct seg_peer *pe;
	yaml_node_t *v;
	int which, ret;

	for (size_t i = 2; in && keys[i]; i++)
		if ((v = pp_key_node(c, n, keys[i])))
			return pp_err(c, v, "'%s' is an egress peer; ingress "
				      "peers take namespaces or pods", keys[i]);
	if (yu_is_null(n))
		which = -1;
	else if ((ret = one_of(c, n, in ? "ingress peer" : "egress peer",
			       in ? in_keys : keys, in ? "namespaces or pods" :
			       "namespaces, pods, nodes, networks or domainNames",
			       &which)))
		return ret;
	if (which < 0) {
		rp->none = true;  /* no field: fail closed */
		return 0;
	}
	v = field(c, n, keys[which]);
	rp->no_named_ports |= which >= 2;
	if (which == 3)
		return networks(x, v, r, rp);
	if (which == 4)
		return domain_names(x, pp_key_node(c, n, keys[which]), v, r, rp);
	if (!(pe = add_peer(r, rp)))
		return pp_nomem(c);
	if (which == 2) {
		pe->kind = SEG_PEER_NODES;
		return selector(c, v, "nodes", &pe->nodes);
	}
	pe->kind = SEG_PEER_ENDPOINTS;
	pe->has_namespaces = true;
	if (which == 0)
		return selector(c, v, "namespaces", &pe->namespaces);
	return ns_pods(c, v, "pods peer", &pe->pods, &pe->namespaces);
}

/* ---- protocols ----------------------------------------------------------------- */

/* a port number 1..65535; one out of that range is tagged for lint */
static int port_in(const struct pp *c, yaml_node_t *n, const char *what,
		   int64_t *out)
{
	int64_t v;
	int ret = int_in(c, n, what, 1, 65535, out);

	return seg_error_kind(c->err, ret && yu_int(n, 1, 65535, &v) == -ERANGE ?
			      SEG_ERR_PORT_RANGE : NULL, ret);
}

static int dest_port(const struct pp *c, yaml_node_t *n, const char *proto,
		     struct seg_port *sp)
{
	static const char *const keys[] = { "destinationPort", NULL };
	static const char *const port_keys[] = { "number", "range", NULL };
	static const char *const range_keys[] = { "start", "end", NULL };
	yaml_node_t *dp, *v, *s, *e;
	int64_t lo, hi;
	int which, ret;

	if ((ret = pp_keys(c, n, proto, keys)))
		return ret;
	if (!(dp = field(c, n, "destinationPort")))
		return pp_err(c, where(c, n, "destinationPort"), "%s needs "
			      "destinationPort: {number: N} or {range: {start: N, "
			      "end: M}}; for every %s port use range: {start: 1, "
			      "end: 65535}", proto, proto);
	ret = one_of(c, dp, "destinationPort", port_keys, "number or range",
		     &which);
	if (!ret && which < 0)
		ret = pp_err(c, dp, "destinationPort needs number or range");
	if (ret)
		return ret;
	if (which == 0) {
		v = field(c, dp, "number");
		ret = port_in(c, v, "destinationPort number", &lo);
		sp->port_lo = sp->port_hi = (uint16_t)lo;
		return ret;
	}
	v = field(c, dp, "range");
	if ((ret = pp_keys(c, v, "range", range_keys)))
		return ret;
	s = field(c, v, "start");
	e = field(c, v, "end");
	if (!s || !e)
		return pp_err(c, where(c, v, s ? "end" : "start"), "range needs "
			      "start and end (1-65535, start below end)");
	if ((ret = port_in(c, s, "range start", &lo)) ||
	    (ret = port_in(c, e, "range end", &hi)))
		return ret;
	if (lo >= hi)
		return seg_error_kind(c->err, lo > hi ? SEG_ERR_PORT_RANGE : NULL,
				      pp_err(c, e, "range end %lld must be greater "
					     "than start %lld; for one port write "
					     "number: %lld", (long long)hi,
					     (long long)lo, (long long)lo));
	sp->port_lo = (uint16_t)lo;
	sp->port_hi = (uint16_t)hi;
	return 0;
}

/* protocols of a rule; *named: the first destinationNamedPort, or NULL */
static int protocols(const struct pp *c, yaml_node_t *n, struct seg_rule *r,
		     yaml_node_t **named)
{
	static const char *const keys[] = { "tcp", "udp", "sctp",
					    "destinationNamedPort", NULL };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP,
					  IPPROTO_SCTP };
	size_t len;
	int which, ret;

	*named = NULL;
	if (!n) {
		r->all_ports = true;
		return 0;
	}
	ret = list_of(c, n, "protocols", 1, CNP_MAX_ITEMS, &len);
	if (!ret && !(r->ports = pp_calloc(len, sizeof(*r->ports))))
		return pp_nomem(c);
	for (size_t i = 0; !ret && i < len; i++) {
		yaml_node_t *e = yu_seq_at(c->doc, n, i), *v;
		struct seg_port *sp = &r->ports[r->n_ports++];
		const char *s, *why;

		which = -1;
		if (!yu_is_null(e) &&
		    (ret = one_of(c, e, "protocols entry", keys, "tcp, udp, "
				  "sctp or destinationNamedPort", &which)))
			break;
		if (which < 0)
			return pp_err(c, e, "protocols entry needs one of tcp, "
				      "udp, sctp or destinationNamedPort");
		v = field(c, e, keys[which]);
		if (which < 3) {
			sp->proto = protos[which];
			ret = dest_port(c, v, keys[which], sp);
			continue;
		}
		if ((ret = pp_want_str(c, v, "destinationNamedPort", &s)))
			break;
		if ((why = seg_port_name_problem(s)))
			return pp_err(c, v, "destinationNamedPort '%s': %s (it "
				      "names a container port)", Q(s), why);
		strcpy(sp->name, s);   /* checked: at most SEG_PORT_NAME_MAX */
		if (!*named)
			*named = v;
	}
	return ret;
}

/* ---- rules ---------------------------------------------------------------------- */

/* A peer without any field (the API's "fail closed"): an Accept rule
 * matches nothing, a Deny or Pass rule denies everything. */
static int fail_closed(const struct pp *c, struct seg_rule *r)
{
	for (size_t i = 0; i < r->n_peers; i++)
		seg_peer_free(&r->peers[i]);
	free(r->peers);
	r->peers = NULL;
	r->n_peers = 0;
	r->fail_closed = true;
	if (r->action == SEG_ACTION_ALLOW) {
		if (!(r->peers = calloc(1, sizeof(*r->peers))))
			return pp_nomem(c);
		r->peers[0].kind = SEG_PEER_NONE;
		r->n_peers = 1;
		return 0;
	}
	r->action = SEG_ACTION_DENY;
	r->all_peers = true;
	free(r->ports);
	r->ports = NULL;
	r->n_ports = 0;
	r->all_ports = true;
	return 0;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int rule_action(const struct pp *c, yaml_node_t *n, struct seg_rule *r)
{
	static const char *const names[] = { "Accept", "Deny", "Pass", NULL };
	static const enum seg_action actions[] = {
		SEG_ACTION_ALLOW, SEG_ACTION_DENY, SEG_ACTION_PASS,
	};
	yaml_node_t *v = field(c, n, "action");
	size_t i;
	int ret;

	if (!v)
		return pp_err(c, where(c, n, "action"), "rule needs action: "
			      "Accept, Deny or Pass");
	ret = pp_choice(c, v, "action", names, false, "Accept, Deny or Pass "
			"(exactly so spelt)", &i);
	if (!ret)
		r->action = actions[i];
	return ret;
}

static int rule(const struct cnp *x, yaml_node_t *n, int dir,
		struct seg_rule *r)
{
	const struct pp *c = x->c;
	bool in = dir == SEGD_DIR_INGRESS;
	const char *pk = in ? "from" : "to", *s = "";
	struct rule_peers rp = { 0 };
	yaml_node_t *v, *peers, *named;
	size_t np;
	int ret;

	if ((ret = pp_rule_start(c, n, dir, "protocols", r)))
		return ret;
	if (yu_is_null(n))
		return pp_err(c, n, "empty rule; a rule needs action and %s", pk);
	v = field(c, n, "name");
	if (v && (ret = pp_want_str(c, v, "rule name", &s)))
		return ret;
	if (utf8_chars(s) > CNP_MAX_RULE_NAME)
		return pp_err(c, v, "rule name has %zu characters; at most %d are "
			      "allowed", utf8_chars(s), CNP_MAX_RULE_NAME);
	if (!(r->name = strdup(s)))
		return pp_nomem(c);
	if ((ret = rule_action(c, n, r)))
		return ret;
	if (!(peers = field(c, n, pk)))
		return pp_err(c, where(c, n, pk), "%s rule needs '%s' with at "
			      "least one peer", in ? "ingress" : "egress", pk);
	ret = list_of(c, peers, pk, 1, CNP_MAX_ITEMS, &np);
	for (size_t i = 0; !ret && i < np; i++)
		ret = peer(x, yu_seq_at(c->doc, peers, i), r, &rp);
	if (!ret)
		ret = protocols(c, field(c, n, "protocols"), r, &named);
	if (ret)
		return ret;
	if (!in && named && rp.no_named_ports)
		return pp_err(c, named, "destinationNamedPort does not go with "
			      "networks, nodes or domainNames peers: they have no "
			      "named ports; give those peers a rule of their own");
	return rp.none ? fail_closed(c, r) : 0;
}

static int rules(const struct cnp *x, yaml_node_t *spec, struct seg_policy *p)
{
	static const char *const dname[2] = { "ingress", "egress" };
	const struct pp *c = x->c;
	yaml_node_t *l[2];
	size_t n[2] = { 0, 0 };
	int ret;

	for (int d = 0; d < 2; d++) {
		l[d] = field(c, spec, dname[d]);
		if (l[d] && (ret = list_of(c, l[d], dname[d], 0, CNP_MAX_RULES,
					   &n[d])))
			return ret;
		/* a ClusterNetworkPolicy without rules in a direction does not
		 * affect that direction */
		p->enforce[d] = n[d] > 0;
	}
	if (!(p->rules = pp_calloc(n[0] + n[1], sizeof(*p->rules))))
		return pp_nomem(c);
	for (int d = 0; d < 2; d++)
		for (size_t i = 0; i < n[d]; i++) {
			p->n_rules++;
			ret = rule(x, yu_seq_at(c->doc, l[d], i), d,
				   &p->rules[p->n_rules - 1]);
			if (ret)
				return ret;
		}
	return 0;
}

/* ---- spec ----------------------------------------------------------------------- */

int pp_cnp_spec(const struct pp *c, yaml_node_t *spec, bool v1beta1,
		struct seg_policy *p)
{
	static const char *const keys[] = { "tier", "priority", "subject",
					    "ingress", "egress", NULL };
	static const char *const tiers[] = { "Admin", "Baseline", NULL };
	static const enum seg_tier tier_of[] = { SEG_TIER_ADMIN,
						 SEG_TIER_BASELINE };
	struct cnp x = { .c = c, .beta = v1beta1 };
	yaml_node_t *v;
	int64_t prio;
	size_t i;
	int ret;

	if ((ret = pp_keys(c, spec, "ClusterNetworkPolicy spec", keys)))
		return ret;
	if (!(v = field(c, spec, "tier")))
		return pp_err(c, where(c, spec, "tier"), "ClusterNetworkPolicy "
			      "spec needs tier: Admin or Baseline");
	if ((ret = pp_choice(c, v, "tier", tiers, false, "Admin or Baseline "
			     "(exactly so spelt)", &i)))
		return ret;
	p->tier = tier_of[i];
	if (!(v = field(c, spec, "priority")))
		return pp_err(c, where(c, spec, "priority"), "ClusterNetworkPolicy "
			      "spec needs priority: a number from 0 to %d (lower "
			      "goes first)", CNP_MAX_PRIORITY);
	if ((ret = int_in(c, v, "priority", 0, CNP_MAX_PRIORITY, &prio)))
		return ret;
	p->priority = (int)prio;
	if ((ret = subject(c, spec, p)))
		return ret;
	return rules(&x, spec, p);
}
