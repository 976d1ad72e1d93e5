/* policy_parse_k8s.c - networking.k8s.io/v1 NetworkPolicy spec, with
 * Kubernetes' semantics and the API server's validation:
 *
 *   - podSelector selects the subject pods in the policy's namespace;
 *   - policyTypes absent or []: Ingress, plus Egress iff spec.egress has at
 *     least one rule (SetDefaults_NetworkPolicy); otherwise exactly the
 *     listed types. A direction is enforced iff its type is listed;
 *   - rules of a direction whose type is not listed have no effect: they
 *     are validated and dropped;
 *   - a rule's from/to missing, null or [] matches every peer; ports
 *     missing, null or [] matches every port; every rule allows;
 *   - a peer holds podSelector and/or namespaceSelector (AND) or ipBlock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_parse_int.h"
#include "segd_abi.h"

static int k8s_peer(const struct pp *c, yaml_node_t *n, struct seg_peer *p)
{
	static const char *const keys[] = { "podSelector", "namespaceSelector",
					    "ipBlock", NULL };
	static const char *const ip_keys[] = { "cidr", "except", NULL };
	yaml_node_t *pod, *ns, *ip;
	int ret;

	memset(p, 0, sizeof(*p));
	if (yu_is_null(n))
		return pp_err(c, n, "empty peer; a peer needs podSelector, "
			      "namespaceSelector or ipBlock");
	ret = pp_keys(c, n, "NetworkPolicy peer", keys);
	if (ret)
		return ret;
	/* Like the API server: a null field is an unset field. */
	pod = pp_get(c, n, "podSelector");
	ns = pp_get(c, n, "namespaceSelector");
	ip = pp_get(c, n, "ipBlock");
	pod = yu_is_null(pod) ? NULL : pod;
	ns = yu_is_null(ns) ? NULL : ns;
	ip = yu_is_null(ip) ? NULL : ip;
	if (ip && (pod || ns))
		return pp_err(c, pp_key_node(c, n, "ipBlock"),
			      "ipBlock cannot be combined with podSelector or "
			      "namespaceSelector in one peer; make it a separate "
			      "'-' item (peers in a list are OR'ed)");
	if (!ip && !pod && !ns)
		return pp_err(c, n, "empty peer; a peer needs podSelector, "
			      "namespaceSelector or ipBlock");
	if (ip) {
		ret = pp_keys(c, ip, "ipBlock", ip_keys);
		if (ret)
			return ret;
		if (!pp_get(c, ip, "cidr"))
			return pp_err(c, ip, "ipBlock needs 'cidr'");
		return pp_cidr_peer(c, pp_get(c, ip, "cidr"),
				    pp_get(c, ip, "except"), PP_K8S, p);
	}
	p->kind = SEG_PEER_ENDPOINTS;
	if (pod) {
		ret = pp_want_map(c, pod, "podSelector");
		if (!ret)
			ret = pp_selector(c, pod, "podSelector", &p->pods);
		if (ret)
			return ret;
	}
	if (ns) {
		p->has_namespaces = true;
		ret = pp_want_map(c, ns, "namespaceSelector");
		if (!ret)
			ret = pp_selector(c, ns, "namespaceSelector",
					  &p->namespaces);
	}
	return ret;
}

static int k8s_rule(const struct pp *c, yaml_node_t *n, int dir,
		    struct seg_rule *r)
{
	static const char *const in_keys[] = { "from", "ports", NULL };
	static const char *const out_keys[] = { "to", "ports", NULL };
	const char *pk = dir == SEGD_DIR_INGRESS ? "from" : "to";
	yaml_node_t *peers;
	size_t np;
	int ret;

	r->action = SEG_ACTION_ALLOW;
	r->dir = dir;
	r->line = yu_line(n);
	r->col = yu_col(n);
	if (!(r->name = strdup("")))
		return pp_nomem(c);
	if (yu_is_null(n)) { /* `- ` alone is the zero rule: {} */
		r->all_peers = r->all_ports = true;
		return 0;
	}
	ret = pp_keys(c, n, dir == SEGD_DIR_INGRESS ? "ingress rule" :
		      "egress rule", dir == SEGD_DIR_INGRESS ? in_keys : out_keys);
	if (ret)
		return ret;
	peers = pp_get(c, n, pk);
	if (peers && !yu_is_null(peers)) {
		ret = pp_want_seq(c, peers, pk);
		if (ret)
			return ret;
	}
	np = yu_seq_len(peers);
	if (np == 0) {
		r->all_peers = true;
	} else {
		if (!(r->peers = pp_calloc(np, sizeof(*r->peers))))
			return pp_nomem(c);
		for (size_t i = 0; i < np; i++) {
			r->n_peers++;
			ret = k8s_peer(c, yu_seq_at(c->doc, peers, i),
				       &r->peers[i]);
			if (ret)
				return ret;
		}
	}
	return pp_ports(c, pp_get(c, n, "ports"), PP_K8S, r);
}

/* Parse the rules of one direction; keep them only when enforced. */
static int k8s_rules(const struct pp *c, yaml_node_t *list, int dir,
		     struct seg_policy *p)
{
	size_t n = yu_seq_len(list);
	struct seg_rule tmp;
	int ret;

	for (size_t i = 0; i < n; i++) {
		struct seg_rule *r = p->enforce[dir] ? &p->rules[p->n_rules] : &tmp;

		memset(r, 0, sizeof(*r));
		if (p->enforce[dir])
			p->n_rules++;
		ret = k8s_rule(c, yu_seq_at(c->doc, list, i), dir, r);
		if (r == &tmp)
			seg_rule_free(&tmp);
		if (ret)
			return ret;
	}
	return 0;
}

int pp_k8s_spec(const struct pp *c, yaml_node_t *spec, struct seg_policy *p)
{
	static const char *const keys[] = { "podSelector", "policyTypes",
					    "ingress", "egress", NULL };
	yaml_node_t *ps, *pt, *ing, *eg;
	size_t n;
	int ret;

	ret = pp_keys(c, spec, "NetworkPolicy spec", keys);
	if (ret)
		return ret;
	if (!pp_key_node(c, spec, "podSelector"))
		return pp_err(c, spec, "NetworkPolicy spec needs podSelector; "
			      "use podSelector: {} to select every pod in the "
			      "namespace");
	ps = pp_get(c, spec, "podSelector");
	ret = pp_selector(c, ps, "podSelector", &p->subject);
	if (ret)
		return ret;
	p->has_subject_ns = false;
	ing = pp_get(c, spec, "ingress");
	eg = pp_get(c, spec, "egress");
	if (ing && !yu_is_null(ing) && (ret = pp_want_seq(c, ing, "ingress")))
		return ret;
	if (eg && !yu_is_null(eg) && (ret = pp_want_seq(c, eg, "egress")))
		return ret;
	pt = pp_get(c, spec, "policyTypes");
	if (pt && !yu_is_null(pt) && (ret = pp_want_seq(c, pt, "policyTypes")))
		return ret;
	n = yu_seq_len(pt);
	if (n > 2)
		return pp_err(c, pt, "policyTypes may list at most two types "
			      "(Ingress, Egress)");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *t = yu_seq_at(c->doc, pt, i);
		const char *s;

		ret = pp_want_str(c, t, "policyTypes entry", &s);
		if (ret)
			return ret;
		if (!strcmp(s, "Ingress"))
			p->enforce[SEGD_DIR_INGRESS] = true;
		else if (!strcmp(s, "Egress"))
			p->enforce[SEGD_DIR_EGRESS] = true;
		else
			return pp_err(c, t, "unsupported policyType '%s'; use "
				      "Ingress or Egress (exactly so spelt)", Q(s));
	}
	if (n == 0) {
		p->enforce[SEGD_DIR_INGRESS] = true;
		p->enforce[SEGD_DIR_EGRESS] = yu_seq_len(eg) > 0;
	}
	n = (p->enforce[SEGD_DIR_INGRESS] ? yu_seq_len(ing) : 0) +
	    (p->enforce[SEGD_DIR_EGRESS] ? yu_seq_len(eg) : 0);
	if (!(p->rules = pp_calloc(n, sizeof(*p->rules))))
		return pp_nomem(c);
	ret = k8s_rules(c, ing, SEGD_DIR_INGRESS, p);
	if (!ret)
		ret = k8s_rules(c, eg, SEGD_DIR_EGRESS, p);
	return ret;
}
