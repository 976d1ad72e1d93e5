/* lint.c - `segctl lint` (lint.h): ingress open to the world, allow-all
 * egress, namespaces without a default deny, endpoints no policy
 * selects, selectors that match nothing now, allows to blocklisted
 * addresses; the dead rules are lint_cover.c's. Pure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "blocklist.h"
#include "lint.h"

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

/* ports where an open door to the world is an incident, not a smell */
static const uint16_t admin_ports[] = { 22, 3389, 2379, 5432, 3306, 6379, 9200,
					10250, 27017 };

/* ---- what a rule opens ---------------------------------------------------------------- */

/* Does peer pe take addresses of the outside world? A CIDR does when it
 * is as large as a /8 and holds public addresses (lint.h). */
static bool peer_world(const struct seg_peer *pe)
{
	switch (pe->kind) {
	case SEG_PEER_WORLD:
	case SEG_PEER_ALL:
		return true;
	case SEG_PEER_CIDR:
		return seg_lint_cidr_wide(&pe->cidr) &&
		       seg_lint_cidr_public(&pe->cidr, pe->except, pe->n_except);
	default:
		return false;
	}
}

/* The peer of rule ru that opens it to the world, into what; false when none. */
static bool rule_world(const struct seg_rule *ru, char *what, size_t len)
{
	if (ru->all_peers) {
		snprintf(what, len, "every peer (no from/to)");
		return true;
	}
	for (size_t i = 0; i < ru->n_peers; i++) {
		const struct seg_peer *pe = &ru->peers[i];
		char c[64];

		if (!peer_world(pe))
			continue;
		if (pe->kind == SEG_PEER_CIDR) {
			seg_cidr_format(&pe->cidr, c, sizeof(c));
			snprintf(what, len, "%s", c);
		} else {
			snprintf(what, len, "entity %s", pe->kind == SEG_PEER_ALL ?
				 "all" : "world");
		}
		return true;
	}
	return false;
}

static bool every_port(const struct seg_rule *ru)
{
	if (ru->all_ports)
		return true;
	for (size_t i = 0; i < ru->n_ports; i++)
		if (!ru->ports[i].proto && !ru->ports[i].port_lo && !ru->ports[i].name[0])
			return true;
	return false;
}

/* The administrative ports among what ru allows on TCP, as "22, 5432" */
static void admin_ports_of(const struct seg_rule *ru, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < sizeof(admin_ports) / sizeof(admin_ports[0]); k++) {
		uint16_t port = admin_ports[k];
		bool hit = every_port(ru);

		for (size_t i = 0; !hit && i < ru->n_ports; i++) {
			const struct seg_port *p = &ru->ports[i];

			hit = !p->name[0] && (p->proto == IPPROTO_TCP || !p->proto) &&
			      (!p->port_lo || (p->port_lo <= port && port <= p->port_hi));
		}
		if (hit && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%u", n ? ", " : "", port);
	}
}

static int check_open(const struct seg_lint_input *in, struct seg_lint_report *r,
		      const struct seg_policy *p, size_t ri)
{
	const struct seg_rule *ru = &p->rules[ri];
	char what[96], admin[96];

	if (ru->action != SEG_ACTION_ALLOW || !rule_world(ru, what, sizeof(what)))
		return 0;
	if (ru->dir == SEGD_DIR_EGRESS)
		return every_port(ru) ?
		       seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_ALLOW_ALL_EGRESS, p,
				    (int)ri, NULL, "allows egress to %s on every port: a "
				    "compromised workload can reach anything; list the "
				    "destinations and ports it needs", what) : 0;
	admin_ports_of(ru, admin, sizeof(admin));
	if (admin[0])
		return seg_lint_add(r, in, SEG_LINT_ERROR, SEG_LINT_WORLD_INGRESS_ADMIN, p,
				    (int)ri, NULL, "allows ingress from %s to administrative "
				    "port%s %s; allow only the networks that administer it "
				    "(a cidr), or reach it through a bastion", what,
				    strchr(admin, ',') ? "s" : "", admin);
	return seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_WORLD_INGRESS, p, (int)ri,
			    NULL, "allows ingress from %s; if this is not a public "
			    "service, allow only the networks that need it", what);
}

/* ---- namespaces and endpoints ---------------------------------------------------------- */

/* The labels of namespace ns: the world's, else just its name label. */
static struct seg_labels ns_labels(const struct seg_lint_input *in, const char *ns,
				   struct seg_label *one)
{
	const struct seg_world *w = in->world;

	for (size_t i = 0; w && i < w->n_namespaces; i++)
		if (w->namespaces[i].name && !strcmp(w->namespaces[i].name, ns))
			return w->namespaces[i].labels;
	*one = (struct seg_label){ NS_NAME_LABEL, (char *)ns };
	return (struct seg_labels){ one, 1 };
}

static bool ns_matches(const struct seg_lint_input *in, const struct seg_selector *s,
		       const char *ns)
{
	struct seg_label one;
	struct seg_labels l = ns_labels(in, ns, &one);

	return seg_selector_matches(s, &l);
}

/* Does p's subject take endpoints of namespace ns (labels aside)? */
static bool subject_in_ns(const struct seg_lint_input *in, const struct seg_policy *p,
			  const char *ns)
{
	return p->has_subject_ns ? ns_matches(in, &p->subject_namespaces, ns) :
	       !strcmp(p->ns, ns);
}

static bool selects(const struct seg_lint_input *in, const struct seg_policy *p,
		    const struct seg_endpoint *e)
{
	return (p->enforce[0] || p->enforce[1]) && subject_in_ns(in, p, e->ns) &&
	       seg_selector_matches(&p->subject, &e->labels);
}

/* Does p deny dir by default for every endpoint of ns? A NetworkPolicy
 * tier policy that selects all of them and enforces dir; a
 * ClusterNetworkPolicy that selects all of them with a rule denying
 * every peer and port in dir. Audit-mode policies drop nothing. */
static bool default_deny(const struct seg_lint_input *in, const struct seg_policy *p,
			 const char *ns, int dir)
{
	if (!p->enforce[dir] || p->subject.n_reqs || seg_lint_audit(in, p) ||
	    !subject_in_ns(in, p, ns))
		return false;
	if (p->kind != SEG_KIND_CNP) {
		/* an allow-all rule in dir makes it enforce nothing */
		for (size_t i = 0; i < p->n_rules; i++)
			if (p->rules[i].dir == dir && p->rules[i].action == SEG_ACTION_ALLOW &&
			    p->rules[i].all_peers && p->rules[i].all_ports)
				return false;
		return true;
	}
	for (size_t i = 0; i < p->n_rules; i++) {
		const struct seg_rule *ru = &p->rules[i];

		if (ru->dir == dir && ru->action == SEG_ACTION_DENY && ru->all_peers &&
		    ru->all_ports)
			return true;
	}
	return false;
}

static const char *const dir_names[2] = { "ingress", "egress" };

static int check_ns(const struct seg_lint_input *in, struct seg_lint_report *r,
		    const char *ns, const struct seg_policy *at)
{
	char subject[300];
	int ret = 0;

	snprintf(subject, sizeof(subject), "namespace %s", ns);
	for (int dir = 0; !ret && dir < 2; dir++) {
		bool found = false;

		for (size_t k = 0; k < in->n_policies && !found; k++)
			found = default_deny(in, &in->policies[k], ns, dir);
		if (found)
			continue;
		ret = seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_NO_DEFAULT_DENY,
				   in->positions ? at : NULL, -1, subject,
				   "namespace %s has no default deny for %s: an endpoint "
				   "no policy selects for %s %s anything; add a policy "
				   "selecting every endpoint of %s that enforces %s "
				   "(NetworkPolicy podSelector: {}, policyTypes: [%s])",
				   ns, dir_names[dir], dir_names[dir],
				   dir ? "may reach" : "accepts", ns, dir_names[dir],
				   dir ? "Egress" : "Ingress");
		/* `at` only places it in the files: it is about the namespace */
		if (!ret)
			r->v[r->n - 1].policy[0] = '\0';
	}
	return ret;
}

/* Namespaces to check: in applied state those with local endpoints, in
 * file mode those the files' policies live in (at: the first of them). */
static int check_namespaces(const struct seg_lint_input *in, struct seg_lint_report *r)
{
	const struct seg_world *w = in->world;
	int ret = 0;

	if (w) {   /* an endpoint's namespace is always a known one */
		for (size_t i = 0; !ret && i < w->n_namespaces; i++) {
			const char *ns = w->namespaces[i].name;
			bool local = false;

			for (size_t j = 0; ns && j < w->n_endpoints && !local; j++)
				local = !w->endpoints[j].remote &&
					!strcmp(w->endpoints[j].ns, ns);
			if (local)
				ret = check_ns(in, r, ns, NULL);
		}
		return ret;
	}
	for (size_t k = 0; !ret && k < in->n_policies; k++) {
		const struct seg_policy *p = &in->policies[k];
		bool seen = false;

		for (size_t j = 0; j < k && !seen; j++)
			seen = in->policies[j].kind != SEG_KIND_CNP &&
			       !strcmp(in->policies[j].ns, p->ns);
		if (p->kind != SEG_KIND_CNP && !seen)
			ret = check_ns(in, r, p->ns, p);
	}
	return ret;
}

static int check_endpoints(const struct seg_lint_input *in, struct seg_lint_report *r)
{
	const struct seg_world *w = in->world;
	char subject[300];
	int ret = 0;

	for (size_t i = 0; !ret && w && i < w->n_endpoints; i++) {
		const struct seg_endpoint *e = &w->endpoints[i];
		bool found = false;

		for (size_t k = 0; k < in->n_policies && !found; k++)
			found = selects(in, &in->policies[k], e);
		if (found || e->remote)
			continue;
		snprintf(subject, sizeof(subject), "endpoint %s/%s", e->ns, e->name);
		ret = seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_UNSELECTED_EP, NULL, -1,
				   subject, "endpoint %s/%s is selected by no policy: "
				   "nothing filters its traffic in either direction; "
				   "add a policy that selects it (a default deny for "
				   "namespace %s covers it)", e->ns, e->name, e->ns);
	}
	return ret;
}

/* ---- selectors that match nothing now (applied state) -------------------------------- */

static bool peer_matches_now(const struct seg_lint_input *in, const struct seg_policy *p,
			     const struct seg_peer *pe)
{
	const struct seg_world *w = in->world;

	if (pe->kind == SEG_PEER_NODES) {
		for (size_t i = 0; i < w->n_nodes; i++)
			if (seg_selector_matches(&pe->nodes, &w->nodes[i].labels))
				return true;
		return false;
	}
	if (pe->kind != SEG_PEER_ENDPOINTS)
		return true;
	for (size_t i = 0; i < w->n_endpoints; i++) {
		const struct seg_endpoint *e = &w->endpoints[i];

		if ((pe->has_namespaces ? ns_matches(in, &pe->namespaces, e->ns) :
		     !strcmp(e->ns, p->ns)) && seg_selector_matches(&pe->pods, &e->labels))
			return true;
	}
	return false;
}

static int check_now(const struct seg_lint_input *in, struct seg_lint_report *r,
		     const struct seg_policy *p)
{
	bool any = false;
	int ret = 0;

	for (size_t i = 0; i < in->world->n_endpoints && !any; i++)
		any = selects(in, p, &in->world->endpoints[i]);
	if (!any && (p->enforce[0] || p->enforce[1]))
		ret = seg_lint_add(r, in, SEG_LINT_INFO, SEG_LINT_MATCHES_NOTHING, p, -1,
				   NULL, "selects no endpoint now: the policy does "
				   "nothing until one with matching labels registers; "
				   "check its subject's labels");
	for (size_t ri = 0; !ret && ri < p->n_rules; ri++) {
		const struct seg_rule *ru = &p->rules[ri];
		size_t dead = 0;

		for (size_t i = 0; i < ru->n_peers; i++)
			dead += (ru->peers[i].kind == SEG_PEER_ENDPOINTS ||
				 ru->peers[i].kind == SEG_PEER_NODES) &&
				!peer_matches_now(in, p, &ru->peers[i]);
		if (!ru->all_peers && ru->n_peers && dead == ru->n_peers)
			ret = seg_lint_add(r, in, SEG_LINT_WARNING, SEG_LINT_MATCHES_NOTHING,
					   p, (int)ri, NULL, "matches nothing now: no "
					   "registered %s matches its peers' selectors; check "
					   "their labels (segctl get endpoints, get nodes)",
					   ru->peers[0].kind == SEG_PEER_NODES ? "node" :
					   "endpoint");
	}
	return ret;
}

/* ---- allows to blocklisted addresses (applied state) --------------------------------- */

/* The first entry of a drop list that blocks addresses pe names (entries
 * an exception or pe's except leaves out do not count), into list/entry. */
static bool cidr_blocked(const struct seg_explain_lists *l, const struct seg_peer *pe,
			 const char **list, const struct seg_bl_entry **entry)
{
	for (size_t i = 0; i < l->n_lists; i++) {
		const struct seg_blocklist *bl = &l->lists[i];

		if ((l->exception && l->exception[i]) || bl->action == SEGD_BL_AUDIT)
			continue;
		for (size_t j = 0; j < bl->n_entries; j++) {
			const struct seg_cidr *c = &bl->entries[j].cidr;
			bool out = !seg_cidr_contains(c, &pe->cidr) &&
				   !seg_cidr_contains(&pe->cidr, c);

			for (size_t x = 0; !out && x < pe->n_except; x++)
				out = seg_cidr_contains(&pe->except[x], c);
			for (size_t x = 0; !out && x < l->n_exceptions; x++)
				out = seg_cidr_contains(&l->exceptions[x], c);
			if (!out) {
				*list = bl->name;
				*entry = &bl->entries[j];
				return true;
			}
		}
	}
	return false;
}

struct addr_hit {
	const struct seg_explain_lists *l;
	const char *list;
	uint32_t line;
};

static void addr_hit(void *p, size_t i, const struct seg_bl_entry *e, bool excepted)
{
	struct addr_hit *h = p;

	if (excepted || h->list || (h->l->exception && h->l->exception[i]) ||
	    h->l->lists[i].action == SEGD_BL_AUDIT)
		return;
	h->list = h->l->lists[i].name;
	h->line = e->line;
}

/* A domain peer: the name on a domain list, or an address it resolved to
 * on a drop list. */
static bool domain_blocked(const struct seg_lint_input *in, const char *name,
			   char *why, size_t len)
{
	const struct seg_explain_lists *l = in->lists;
	const struct seg_name_addrs *na = seg_names_find(in->world->names,
							 in->world->n_names, name);

	for (size_t i = 0; i < l->n_lists; i++) {
		const struct seg_blocklist *bl = &l->lists[i];

		if ((l->exception && l->exception[i]) || bl->action == SEGD_BL_AUDIT)
			continue;
		for (size_t j = 0; j < bl->n_domains; j++)
			if (!strcmp(bl->domains[j], name)) {
				snprintf(why, len, "%s is on blocklist %s", name, bl->name);
				return true;
			}
	}
	for (size_t k = 0; na && k < na->n_ips; k++) {
		struct addr_hit h = { l, NULL, 0 };
		char a[64];

		seg_blocklists_test(l->lists, l->n_lists, l->exceptions, l->n_exceptions,
				    &na->ips[k], addr_hit, &h);
		if (!h.list)
			continue;
		seg_addr_format(&na->ips[k], a, sizeof(a));
		snprintf(why, len, "%s resolves to %s, on blocklist %s (line %u)", name,
			 a, h.list, h.line);
		return true;
	}
	return false;
}

static int check_blocklisted(const struct seg_lint_input *in, struct seg_lint_report *r,
			     const struct seg_policy *p, size_t ri)
{
	const struct seg_rule *ru = &p->rules[ri];
	const struct seg_bl_entry *e;
	const char *list;
	char why[400], c[64], ec[64];

	if (ru->action != SEG_ACTION_ALLOW)
		return 0;
	for (size_t i = 0; i < ru->n_peers; i++) {
		const struct seg_peer *pe = &ru->peers[i];

		why[0] = '\0';
		/* a world-wide block is the world: blocklists carve out of it */
		if (pe->kind == SEG_PEER_CIDR && !seg_lint_cidr_wide(&pe->cidr) &&
		    cidr_blocked(in->lists, pe, &list, &e)) {
			seg_cidr_format(&pe->cidr, c, sizeof(c));
			seg_cidr_format(&e->cidr, ec, sizeof(ec));
			snprintf(why, sizeof(why), "%s overlaps %s, on blocklist %s (line %u)",
				 c, ec, list, e->line);
		} else if (pe->kind == SEG_PEER_DOMAIN && pe->domain) {
			domain_blocked(in, pe->domain, why, sizeof(why));
		}
		if (why[0])
			return seg_lint_add(r, in, SEG_LINT_ERROR, SEG_LINT_BLOCKLISTED, p,
					    (int)ri, NULL, "allows %s: %s, and blocklists "
					    "drop before policy; remove the peer, or if the "
					    "address is trusted, load an exception list for it",
					    dir_names[ru->dir ? 1 : 0], why);
	}
	return 0;
}

/* ---- all together ---------------------------------------------------------------------- */

int seg_lint(const struct seg_lint_input *in, struct seg_lint_report *r)
{
	int ret = 0;

	for (size_t k = 0; !ret && k < in->n_policies; k++) {
		const struct seg_policy *p = &in->policies[k];

		for (size_t i = 0; !ret && i < p->n_rules; i++) {
			ret = check_open(in, r, p, i);
			if (!ret && in->world && in->lists)
				ret = check_blocklisted(in, r, p, i);
		}
		if (!ret && in->world)
			ret = check_now(in, r, p);
	}
	if (!ret)
		ret = seg_lint_dead_rules(in, r);
	if (!ret)
		ret = check_namespaces(in, r);
	if (!ret)
		ret = check_endpoints(in, r);
	seg_lint_sort(r);
	return ret;
}
