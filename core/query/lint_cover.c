/* lint_cover.c - rules that can never match (lint.h): a rule whose every
 * peer and port another rule that decides first already matches
 * (shadowed), and selectors that contradict themselves. Plus what counts
 * as public address space.
 *
 * "Covers" is decided on the rules' text, soundly: when in doubt a rule
 * does not cover another, so a shadowed-rule finding is never wrong,
 * while some shadowed rules (covered only by several rules together, or
 * by selectors that happen to match the same endpoints) go unreported.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "blocklist.h"
#include "lint.h"

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

/* ---- selectors ------------------------------------------------------------------- */

static bool values_in(char *const *v, size_t n, char *const *w, size_t m)
{
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t j = 0; j < m && !found; j++)
			found = !strcmp(v[i], w[j]);
		if (!found)
			return false;
	}
	return true;
}

static bool values_disjoint(char *const *v, size_t n, char *const *w, size_t m)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++)
			if (!strcmp(v[i], w[j]))
				return false;
	return true;
}

/* Does requirement b (on the same key) imply requirement a? */
static bool req_implies(const struct seg_sel_req *b, const struct seg_sel_req *a)
{
	switch (a->op) {
	case SEG_SEL_IN:
		return b->op == SEG_SEL_IN &&
		       values_in(b->values, b->n_values, a->values, a->n_values);
	case SEG_SEL_NOT_IN:
		if (b->op == SEG_SEL_DOES_NOT_EXIST)
			return true;
		if (b->op == SEG_SEL_NOT_IN)
			return values_in(a->values, a->n_values, b->values, b->n_values);
		return b->op == SEG_SEL_IN &&
		       values_disjoint(a->values, a->n_values, b->values, b->n_values);
	case SEG_SEL_EXISTS:
		return b->op == SEG_SEL_IN || b->op == SEG_SEL_EXISTS;
	case SEG_SEL_DOES_NOT_EXIST:
		return b->op == SEG_SEL_DOES_NOT_EXIST;
	}
	return false;
}

/* Whatever b matches, a matches: every requirement of a follows from one
 * of b's. */
static bool sel_covers(const struct seg_selector *a, const struct seg_selector *b)
{
	for (size_t i = 0; i < a->n_reqs; i++) {
		bool implied = false;

		for (size_t j = 0; j < b->n_reqs && !implied; j++)
			implied = !strcmp(a->reqs[i].key, b->reqs[j].key) &&
				  req_implies(&b->reqs[j], &a->reqs[i]);
		if (!implied)
			return false;
	}
	return true;
}

/* Two requirements on one key that no label set meets together. */
static bool reqs_clash(const struct seg_sel_req *a, const struct seg_sel_req *b)
{
	bool a_has = a->op == SEG_SEL_IN || a->op == SEG_SEL_EXISTS;
	bool b_has = b->op == SEG_SEL_IN || b->op == SEG_SEL_EXISTS;

	if ((a_has && b->op == SEG_SEL_DOES_NOT_EXIST) ||
	    (b_has && a->op == SEG_SEL_DOES_NOT_EXIST))
		return true;
	if (a->op == SEG_SEL_IN && b->op == SEG_SEL_IN)
		return values_disjoint(a->values, a->n_values, b->values, b->n_values);
	if (a->op == SEG_SEL_IN && b->op == SEG_SEL_NOT_IN)
		return values_in(a->values, a->n_values, b->values, b->n_values);
	if (b->op == SEG_SEL_IN && a->op == SEG_SEL_NOT_IN)
		return values_in(b->values, b->n_values, a->values, a->n_values);
	return false;
}

/* The key on which s contradicts itself, or NULL when it can match. */
static const char *sel_clash(const struct seg_selector *s)
{
	for (size_t i = 0; i < s->n_reqs; i++)
		for (size_t j = i + 1; j < s->n_reqs; j++)
			if (!strcmp(s->reqs[i].key, s->reqs[j].key) &&
			    reqs_clash(&s->reqs[i], &s->reqs[j]))
				return s->reqs[i].key;
	return NULL;
}

/* Does sel match namespace ns whatever its other labels are? Only
 * requirements on kubernetes.io/metadata.name, which never changes. */
static bool sel_takes_ns(const struct seg_selector *sel, const char *ns)
{
	struct seg_label l = { NS_NAME_LABEL, (char *)ns };
	struct seg_labels only = { &l, 1 };

	for (size_t i = 0; i < sel->n_reqs; i++)
		if (strcmp(sel->reqs[i].key, NS_NAME_LABEL))
			return false;
	return seg_selector_matches(sel, &only);
}

/* ---- peers, ports, rules ------------------------------------------------------------ */

/* Does the namespace scope of peer a (policy namespace a_ns) hold b's? */
static bool ns_scope_covers(const struct seg_peer *a, const char *a_ns,
			    const struct seg_peer *b, const char *b_ns)
{
	if (!a->has_namespaces)
		return !b->has_namespaces && !strcmp(a_ns, b_ns);
	if (b->has_namespaces)
		return sel_covers(&a->namespaces, &b->namespaces);
	return sel_takes_ns(&a->namespaces, b_ns);
}

static bool cidr_overlap(const struct seg_cidr *a, const struct seg_cidr *b)
{
	return seg_cidr_contains(a, b) || seg_cidr_contains(b, a);
}

static bool peer_covers(const struct seg_peer *a, const char *a_ns,
			const struct seg_peer *b, const char *b_ns)
{
	if (a->kind == SEG_PEER_ALL || b->kind == SEG_PEER_NONE)
		return true;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case SEG_PEER_ENDPOINTS:
		return ns_scope_covers(a, a_ns, b, b_ns) && sel_covers(&a->pods, &b->pods);
	case SEG_PEER_CIDR:
		if (!seg_cidr_contains(&a->cidr, &b->cidr))
			return false;
		/* what a leaves out must be left out by b too */
		for (size_t i = 0; i < a->n_except; i++) {
			bool out = !cidr_overlap(&a->except[i], &b->cidr);

			for (size_t j = 0; j < b->n_except && !out; j++)
				out = seg_cidr_contains(&b->except[j], &a->except[i]);
			if (!out)
				return false;
		}
		return true;
	case SEG_PEER_NODES:
		return sel_covers(&a->nodes, &b->nodes);
	case SEG_PEER_DOMAIN:
		return a->domain && b->domain && !strcmp(a->domain, b->domain);
	default:   /* world, host */
		return true;
	}
}

static bool has_all_peer(const struct seg_rule *r)
{
	for (size_t i = 0; i < r->n_peers; i++)
		if (r->peers[i].kind == SEG_PEER_ALL)
			return true;
	return false;
}

static bool peers_cover(const struct seg_rule *a, const char *a_ns,
			const struct seg_rule *b, const char *b_ns)
{
	if (a->all_peers || has_all_peer(a))
		return true;
	if (b->all_peers)
		return false;
	for (size_t i = 0; i < b->n_peers; i++) {
		bool covered = false;

		for (size_t j = 0; j < a->n_peers && !covered; j++)
			covered = peer_covers(&a->peers[j], a_ns, &b->peers[i], b_ns);
		if (!covered)
			return false;
	}
	return true;
}

static bool port_covers(const struct seg_port *a, const struct seg_port *b)
{
	if (a->proto == 0 && !a->name[0] && !a->port_lo)
		return true;                    /* every protocol and port */
	if (a->name[0])                         /* a named port: the same name */
		return !strcmp(a->name, b->name) &&
		       (a->proto == b->proto || a->proto == 0);
	if (a->proto != b->proto)
		return false;
	if (!a->port_lo)                        /* every port of the protocol */
		return true;
	return !b->name[0] && b->port_lo && b->port_lo >= a->port_lo &&
	       b->port_hi <= a->port_hi;
}

static bool ports_cover(const struct seg_rule *a, const struct seg_rule *b)
{
	static const struct seg_port every = { 0, 0, 0, "" };

	if (a->all_ports)
		return true;
	for (size_t i = 0; i < (b->all_ports ? 1 : b->n_ports); i++) {
		const struct seg_port *bp = b->all_ports ? &every : &b->ports[i];
		bool covered = false;

		for (size_t j = 0; j < a->n_ports && !covered; j++)
			covered = port_covers(&a->ports[j], bp);
		if (!covered)
			return false;
	}
	return true;
}

static bool rule_covers(const struct seg_rule *a, const char *a_ns,
			const struct seg_rule *b, const char *b_ns)
{
	return a->dir == b->dir && peers_cover(a, a_ns, b, b_ns) && ports_cover(a, b);
}

/* Does every endpoint p selects fall under q's subject? */
static bool subject_covers(const struct seg_policy *q, const struct seg_policy *p)
{
	if (q == p)
		return true;
	if (!sel_covers(&q->subject, &p->subject))
		return false;
	if (!q->has_subject_ns)
		return !p->has_subject_ns && !strcmp(q->ns, p->ns);
	if (p->has_subject_ns)
		return sel_covers(&q->subject_namespaces, &p->subject_namespaces);
	return sel_takes_ns(&q->subject_namespaces, p->ns);
}

/* ---- shadowed rules ----------------------------------------------------------------- */

/* Does CNP q decide before CNP p (same tier: lower priority, then name)? */
static bool cnp_before(const struct seg_policy *q, const struct seg_policy *p)
{
	if (q->tier != p->tier || q == p)
		return false;
	if (q->priority != p->priority)
		return q->priority < p->priority;
	return strcmp(q->name, p->name) < 0;
}

/* A rule of q that decides before rule b of p wherever b could match:
 *   NetworkPolicy tier: a deny rule (deny beats allow, in any order) of a
 *   policy selecting every endpoint p selects, enforced unless p is in
 *   audit mode too; b an allow;
 *   ClusterNetworkPolicy: an earlier rule of p, or any rule of a policy
 *   of the same tier that goes first and selects every pod p selects
 *   (the first matching rule decides, Pass included).
 * has_deny[k]: policy k has a deny rule (a NetworkPolicy tier policy
 * without one shadows nothing: not asked rule by rule, which made a
 * policy of N allow rules cost N^2). */
static int shadower(const struct seg_lint_input *in, const bool *has_deny,
		    const struct seg_policy *p, size_t bi,
		    const struct seg_policy **qp)
{
	const struct seg_rule *b = &p->rules[bi];

	for (size_t k = 0; k < in->n_policies; k++) {
		const struct seg_policy *q = &in->policies[k];
		bool cnp = p->kind == SEG_KIND_CNP;

		if ((q->kind == SEG_KIND_CNP) != cnp || (!cnp && !has_deny[k]))
			continue;
		if (cnp ? q != p && !cnp_before(q, p) :
		    b->action != SEG_ACTION_ALLOW ||
		    (seg_lint_audit(in, q) && !seg_lint_audit(in, p)))
			continue;
		if (!subject_covers(q, p))
			continue;
		for (size_t ai = 0; ai < q->n_rules; ai++) {
			const struct seg_rule *a = &q->rules[ai];

			if (cnp && q == p && ai >= bi)
				break;
			if (!cnp && a->action != SEG_ACTION_DENY)
				continue;
			if ((q != p || ai != bi) && rule_covers(a, q->ns, b, p->ns)) {
				*qp = q;
				return (int)ai;
			}
		}
	}
	return -1;
}

static int report_shadowed(const struct seg_lint_input *in, const bool *has_deny,
			   struct seg_lint_report *r, const struct seg_policy *p,
			   size_t bi)
{
	const struct seg_policy *q = NULL;
	char by[320];
	int ai = shadower(in, has_deny, p, bi, &q);

	if (ai < 0)
		return 0;
	seg_rule_label(q->kind, q->tier, q->ns, q->name, (uint32_t)ai, by, sizeof(by));
	if (p->kind == SEG_KIND_CNP)
		return seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_SHADOWED, p, (int)bi,
				    NULL, "can never match: %s (%s) matches every peer and "
				    "port it does and decides first; remove this rule or "
				    "move it above %s", by,
				    seg_action_name(q->kind, q->rules[ai].action), by);
	return seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_SHADOWED, p, (int)bi, NULL,
			    "can never allow anything: deny rule %s matches every peer "
			    "and port it does for the same endpoints, and deny beats "
			    "allow; remove one of them or narrow the deny", by);
}

/* ---- selectors that can never match ------------------------------------------------- */

static int report_clash(const struct seg_lint_input *in, struct seg_lint_report *r,
			const struct seg_policy *p, int rule, const char *what,
			const struct seg_selector *s)
{
	const char *key = sel_clash(s);

	if (!key)
		return 0;
	return seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_MATCHES_NOTHING, p, rule,
			    NULL, "%s can never match: its requirements on label '%s' "
			    "contradict each other; fix the selector", what, key);
}

static int rule_selectors(const struct seg_lint_input *in, struct seg_lint_report *r,
			  const struct seg_policy *p, size_t ri)
{
	const struct seg_rule *ru = &p->rules[ri];
	int ret = 0;

	if (ru->fail_closed && ru->action == SEG_ACTION_ALLOW)
		return seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_MATCHES_NOTHING, p,
				    (int)ri, NULL, "can never match: a peer has no field "
				    "({}), so this Accept rule fails closed; name the "
				    "peers it is meant for");
	for (size_t i = 0; !ret && i < ru->n_peers; i++) {
		const struct seg_peer *pe = &ru->peers[i];

		if (pe->kind == SEG_PEER_ENDPOINTS) {
			ret = report_clash(in, r, p, (int)ri, "pod selector", &pe->pods);
			if (!ret && pe->has_namespaces)
				ret = report_clash(in, r, p, (int)ri, "namespace selector",
						   &pe->namespaces);
		} else if (pe->kind == SEG_PEER_NODES) {
			ret = report_clash(in, r, p, (int)ri, "node selector", &pe->nodes);
		}
	}
	return ret;
}

int seg_lint_dead_rules(const struct seg_lint_input *in, struct seg_lint_report *r)
{
	bool *has_deny = calloc(in->n_policies + 1, sizeof(*has_deny));
	int ret = 0;

	if (!has_deny)
		return -ENOMEM;
	for (size_t k = 0; k < in->n_policies; k++)
		for (size_t i = 0; i < in->policies[k].n_rules && !has_deny[k]; i++)
			has_deny[k] = in->policies[k].rules[i].action == SEG_ACTION_DENY;
	for (size_t k = 0; !ret && k < in->n_policies; k++) {
		const struct seg_policy *p = &in->policies[k];

		ret = report_clash(in, r, p, -1, "the subject's selector", &p->subject);
		if (!ret && p->has_subject_ns)
			ret = report_clash(in, r, p, -1, "the subject's namespace selector",
					   &p->subject_namespaces);
		for (size_t i = 0; !ret && i < p->n_rules; i++) {
			ret = rule_selectors(in, r, p, i);
			if (!ret && !p->rules[i].fail_closed)
				ret = report_shadowed(in, has_deny, r, p, i);
		}
	}
	free(has_deny);
	return ret;
}

/* ---- public address space ------------------------------------------------------------ */

static bool is_v4(const struct seg_cidr *c)
{
	return c->plen >= 96 && IN6_IS_ADDR_V4MAPPED(&c->addr);
}

bool seg_lint_cidr_wide(const struct seg_cidr *c)
{
	return (is_v4(c) ? c->plen - 96 : c->plen) <= 8;
}

static bool inside_any(const struct seg_cidr *c, const struct seg_cidr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seg_cidr_contains(&v[i], c))
			return true;
	return false;
}

static bool overlaps_any(const struct seg_cidr *c, const struct seg_cidr *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (seg_cidr_contains(c, &v[i]))
			return true;
	return false;
}

/* c minus the holes: not empty? Halves only where a hole lies inside. */
static bool leaves_some(const struct seg_cidr *c, const struct seg_cidr *holes,
			size_t n)
{
	struct seg_cidr half;

	if (inside_any(c, holes, n))
		return false;
	if (!overlaps_any(c, holes, n) || c->plen >= 128)
		return true;
	half = (struct seg_cidr){ c->addr, (uint8_t)(c->plen + 1) };
	if (leaves_some(&half, holes, n))
		return true;
	half.addr.s6_addr[c->plen / 8] |= (uint8_t)(0x80 >> (c->plen % 8));
	return leaves_some(&half, holes, n);
}

bool seg_lint_cidr_public(const struct seg_cidr *c, const struct seg_cidr *except,
			  size_t n_except)
{
	struct seg_cidr holes[64];
	size_t n = 0, n_res = seg_bl_reserved_count();

	for (size_t i = 0; i < n_res && n < 64; i++)
		if (!seg_bl_reserved(i, &holes[n], NULL))
			n++;
	for (size_t i = 0; i < n_except && n < 64; i++)
		holes[n++] = except[i];
	return leaves_some(c, holes, n);
}
