/* control_report.c - get, status and the apply change report. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics_render.h"
#include "control_int.h"
#include "control_learn.h"
#include "control_report.h"
#include "yaml_util.h"

/* ---- get --------------------------------------------------------------------- */

static int labels_map(yaml_document_t *out, const struct seg_labels *l)
{
	int m = yu_add_map(out);

	for (size_t i = 0; m > 0 && i < l->n; i++)
		yu_set_str(out, m, l->v[i].key, l->v[i].value);
	return m;
}

static int get_namespaces(struct segd *d, yaml_document_t *out, int items)
{
	for (size_t i = 0; i < d->state.world.n_namespaces; i++) {
		const struct seg_namespace *ns = &d->state.world.namespaces[i];
		int m = yu_add_map(out);

		yu_append(out, items, m);
		yu_set_str(out, m, "name", ns->name);
		yu_set(out, m, "labels", labels_map(out, &ns->labels));
		yu_set_str(out, m, "stratum", seg_stratum_mode_name(ns->stratum));
		yu_set_str(out, m, "mode", seg_policy_mode_name(ns->mode));
		yu_set_str(out, m, "on_detect", segd_ns_on_detect_name(ns));
	}
	return 0;
}

static uint32_t identity_flags(const struct seg_compiled *c, uint32_t id)
{
	const struct seg_identity *i = seg_compiled_identity(c, id);

	return i ? i->flags : 0;
}

static int get_endpoints(struct segd *d, yaml_document_t *out, int items)
{
	char addr[64];

	for (size_t i = 0; i < d->state.world.n_endpoints; i++) {
		const struct seg_endpoint *e = &d->state.world.endpoints[i];
		uint32_t id = e->n_ips ? seg_compiled_identity_of(&d->compiled, &e->ips[0]) : 0;
		uint32_t fl = e->remote ? 0 : identity_flags(&d->compiled, id);
		int m = yu_add_map(out), ips = yu_add_seq(out), enf = yu_add_map(out);

		yu_append(out, items, m);
		yu_set_str(out, m, "namespace", e->ns);
		yu_set_str(out, m, "name", e->name);
		yu_set_uint(out, m, "id", e->endpoint_id);
		yu_set_uint(out, m, "identity", id);
		yu_set_str(out, m, "interface", e->ifname);
		yu_set_uint(out, m, "ifindex", e->ifindex);
		yu_set_bool(out, m, "remote", e->remote);
		for (size_t j = 0; j < e->n_ips; j++) {
			seg_addr_format(&e->ips[j], addr, sizeof(addr));
			yu_append(out, ips, yu_add_str(out, addr));
		}
		yu_set(out, m, "ips", ips);
		ips = yu_add_seq(out);
		for (size_t j = 0; j < e->n_ports; j++) {
			seg_named_port_format(&e->ports[j], addr, sizeof(addr));
			yu_append(out, ips, yu_add_str(out, addr));
		}
		yu_set(out, m, "ports", ips);
		yu_set(out, m, "labels", labels_map(out, &e->labels));
		yu_set_bool(out, enf, "ingress", fl & SEGD_EPF_ENFORCE_INGRESS);
		yu_set_bool(out, enf, "egress", fl & SEGD_EPF_ENFORCE_EGRESS);
		yu_set(out, m, "enforcing", enf);
	}
	return 0;
}

static int get_policies(struct segd *d, yaml_document_t *out, int items)
{
	for (size_t i = 0; i < d->state.world.n_policies; i++) {
		const struct seg_policy *p = &d->state.world.policies[i];
		const struct seg_namespace *ns = seg_state_find_ns(&d->state, p->ns);
		bool ns_audit = ns && ns->mode == SEG_MODE_AUDIT;
		int m = yu_add_map(out);

		yu_append(out, items, m);
		yu_set_str(out, m, "namespace", p->ns);
		yu_set_str(out, m, "name", p->name);
		yu_set_str(out, m, "kind", seg_policy_kind_name(p->kind));
		/* where it sits in the evaluation order (docs/policy.md) */
		yu_set_str(out, m, "tier", seg_tier_name(p->kind, p->tier));
		yu_set_uint(out, m, "priority", (unsigned)p->priority);
		yu_set_bool(out, m, "ingress", p->enforce[SEGD_DIR_INGRESS]);
		yu_set_bool(out, m, "egress", p->enforce[SEGD_DIR_EGRESS]);
		yu_set_uint(out, m, "rules", p->n_rules);
		/* the effective mode, and who set it */
		yu_set_str(out, m, "mode", seg_policy_mode_name(p->audit || ns_audit ?
								 SEG_MODE_AUDIT :
								 SEG_MODE_ENFORCE));
		yu_set_str(out, m, "mode_from", p->audit ? "policy" :
				   ns_audit ? "namespace" : "default");
		/* put in audit mode by `apply --mode audit`; `promote` enforces it */
		yu_set_bool(out, m, "staged", p->staged);
		yu_set_str(out, m, "file", p->source_file ? p->source_file : "");
		yu_set_str(out, m, "document", p->source ? p->source : "");
	}
	return 0;
}

int segd_h_get(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *what = segd_arg_str(r, "what");
	int items = yu_add_seq(out);

	if (items < 0)
		return items;
	yu_set_str(out, res, "kind", what ? what : "");
	yu_set(out, res, "items", items);
	if (what && !strcmp(what, "namespaces"))
		return get_namespaces(d, out, items);
	if (what && !strcmp(what, "endpoints"))
		return get_endpoints(d, out, items);
	if (what && !strcmp(what, "policies"))
		return get_policies(d, out, items);
	if (what && !strcmp(what, "quarantines"))
		return segd_get_quarantines(d, out, items);
	if (what && !strcmp(what, "nodes"))
		return segd_get_nodes(d, out, items);
	return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
			  "cannot get '%s'; use policies, endpoints, nodes, namespaces "
			  "or quarantines", what ? what : "");
}

/* ---- status ------------------------------------------------------------------ */

static void status_iface(struct segd *d, yaml_document_t *out, int seq,
			 const char *ifname, const char *role, const char *owner)
{
	struct seg_dp_attachment att[4];
	unsigned int idx = if_nametoindex(ifname);
	int m = yu_add_map(out), progs = yu_add_seq(out), n = 0;

	yu_append(out, seq, m);
	yu_set_str(out, m, "interface", ifname);
	yu_set_str(out, m, "role", role);
	if (owner)
		yu_set_str(out, m, "endpoint", owner);
	yu_set_uint(out, m, "ifindex", idx);
	if (d->dp && idx)
		n = seg_dp_query(d->dp, idx, att, 4);
	for (int i = 0; i < n; i++) {
		int p = yu_add_map(out);

		yu_append(out, progs, p);
		yu_set_str(out, p, "hook", seg_dp_prog_hook_name(att[i].prog));
		yu_set_uint(out, p, "prog_id", att[i].prog_id);
	}
	yu_set(out, m, "programs", progs);
}

/* The names of domainNames peers and what they resolve to now. */
static void status_domain_names(const struct segd *d, yaml_document_t *out, int res)
{
	int seq = yu_add_seq(out);

	yu_set(out, res, "domain_names", seq);
	for (size_t i = 0; i < d->domains.n; i++) {
		const struct segd_domain *dn = &d->domains.v[i];
		int m = yu_add_map(out), addrs = yu_add_seq(out);

		yu_append(out, seq, m);
		yu_set_str(out, m, "name", dn->name);
		yu_set(out, m, "addresses", addrs);
		for (size_t k = 0; k < dn->n_addrs; k++) {
			char text[64];

			seg_addr_format(&dn->addrs[k].addr, text, sizeof(text));
			yu_append(out, addrs, yu_add_str(out, text));
		}
	}
}

int segd_h_status(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_dp_map_usage usage[16];
	struct segd_counter reasons[SEGD_REASON_MAX];
	int seq, n;
	size_t n_remote = 0;
	char owner[256];

	(void)r;
	yu_set_uint(out, res, "generation", d->dp ? seg_dp_generation(d->dp) : 0);
	yu_set_bool(out, res, "kernel", d->dp != NULL);
	yu_set_uint(out, res, "namespaces", d->state.world.n_namespaces);
	yu_set_uint(out, res, "endpoints", d->state.world.n_endpoints);
	for (size_t i = 0; i < d->state.world.n_endpoints; i++)
		n_remote += d->state.world.endpoints[i].remote;
	yu_set_uint(out, res, "remote_endpoints", n_remote);
	yu_set_uint(out, res, "policies", d->state.world.n_policies);
	yu_set_uint(out, res, "identities", d->compiled.n_identities);
	yu_set_uint(out, res, "policy_entries", d->compiled.n_entries);
	yu_set_bool(out, res, "state_saved", !d->dirty);
	segd_status_quarantines(d, out, res);
	status_domain_names(d, out, res);
	segd_status_learn(d, out, res);
	segd_status_detect(d, out, res);

	seq = yu_add_seq(out);
	yu_set(out, res, "interfaces", seq);
	for (size_t i = 0; i < d->state.n_uplinks; i++)
		status_iface(d, out, seq, d->state.uplinks[i], "uplink", NULL);
	for (size_t i = 0; i < d->state.world.n_endpoints; i++) {
		const struct seg_endpoint *e = &d->state.world.endpoints[i];

		if (e->remote)
			continue;  /* no interface on this node */
		snprintf(owner, sizeof(owner), "%s/%s", e->ns, e->name);
		status_iface(d, out, seq, e->ifname, "endpoint", owner);
	}

	seq = yu_add_seq(out);
	yu_set(out, res, "maps", seq);
	n = d->dp ? seg_dp_map_usage(d->dp, usage, 16) : 0;
	for (int i = 0; i < n; i++) {
		int m = yu_add_map(out);

		yu_append(out, seq, m);
		yu_set_str(out, m, "name", usage[i].name);
		yu_set_uint(out, m, "entries", usage[i].entries);
		yu_set_uint(out, m, "capacity", usage[i].capacity);
	}

	seq = yu_add_map(out);
	yu_set(out, res, "counters", seq);
	if (d->dp && !seg_dp_reason_counters(d->dp, reasons)) {
		for (unsigned int i = 0; i < SEGD_REASON_MAX; i++) {
			int m;

			if (!segd_reason_name(i))
				continue;
			m = yu_add_map(out);
			yu_set_uint(out, m, "packets", reasons[i].packets);
			yu_set_uint(out, m, "bytes", reasons[i].bytes);
			yu_set(out, seq, segd_reason_name(i), m);
		}
	}
	return 0;
}

/* ---- apply change report -------------------------------------------------------- */

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct segd_policy_key));
}

static const struct seg_rule_ref *rule_ref(const struct seg_compiled *c, uint32_t id)
{
	/* rule ids are dense from 1 in the compiler's output */
	if (id >= 1 && id <= c->n_rules && c->rules[id - 1].rule_id == id)
		return &c->rules[id - 1];
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].rule_id == id)
			return &c->rules[i];
	return NULL;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct id_set {
	uint32_t *v;
	size_t n, cap;
};

static int id_set_add(struct id_set *s, uint32_t id)
{
	if (s->n == s->cap) {
		uint32_t *v = realloc(s->v, (s->cap = s->cap * 2 + 64) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
	}
	s->v[s->n++] = id;
	return 0;
}

static void report_rules(yaml_document_t *out, int seq, const struct seg_compiled *c,
			 const uint32_t *counts, const char *change)
{
	char rule[512], label[300];

	for (size_t i = 0; i < c->n_rules; i++) {
		const struct seg_rule_ref *ref = &c->rules[i];
		int m;

		if (!counts[i])
			continue;
		/* the policy as flow records name it, the rule's own name too:
		 * what a reviewer finds in the file */
		seg_policy_label(ref->kind, ref->tier, ref->policy_ns, ref->policy_name,
				 label, sizeof(label));
		snprintf(rule, sizeof(rule), "%s rule %u%s%s%s (%s %s)", label,
			 ref->rule_index + 1, *ref->rule_name ? " \"" : "", ref->rule_name,
			 *ref->rule_name ? "\"" : "",
			 ref->dir == SEGD_DIR_INGRESS ? "ingress" : "egress",
			 ref->action == SEG_ACTION_DENY ? "deny" : "allow");
		m = yu_add_map(out);
		yu_append(out, seq, m);
		yu_set_str(out, m, "change", change);
		yu_set_str(out, m, "rule", rule);
		yu_set_uint(out, m, "entries", counts[i]);
	}
}

int segd_report_diff(const struct seg_compiled *old, const struct seg_compiled *new,
		     const struct seg_world *w, yaml_document_t *out, int res)
{
	uint32_t *removed = calloc(old->n_rules + 1, sizeof(*removed));
	uint32_t *added = calloc(new->n_rules + 1, sizeof(*added));
	struct id_set touched = { 0 };
	size_t i = 0, j = 0, n_add = 0, n_del = 0, shown = 0;
	int ret = -ENOMEM, seq;
	char name[512];

	if (!removed || !added)
		goto out;
	/* both entry arrays are sorted by key bytes: one merge walk */
	while (i < old->n_entries || j < new->n_entries) {
		const struct seg_policy_entry *a = i < old->n_entries ? &old->entries[i] : NULL;
		const struct seg_policy_entry *b = j < new->n_entries ? &new->entries[j] : NULL;
		int cmp = !a ? 1 : !b ? -1 : key_cmp(&a->key, &b->key);
		const struct seg_rule_ref *ref;

		if (cmp == 0 && a->value.verdict == b->value.verdict) {
			i++, j++;
			continue; /* same effect; a renumbered rule id is no change */
		}
		if (cmp <= 0) {
			ref = rule_ref(old, a->value.rule_id);
			if (ref)
				removed[ref - old->rules]++;
			n_del++;
			if (id_set_add(&touched, a->key.local_id))
				goto out;
			i++;
		}
		if (cmp >= 0) {
			ref = rule_ref(new, b->value.rule_id);
			if (ref)
				added[ref - new->rules]++;
			n_add++;
			if (id_set_add(&touched, b->key.local_id))
				goto out;
			j++;
		}
	}
	/* identities whose enforcement flags changed are touched too */
	for (size_t k = 0; k < new->n_identities; k++)
		if (identity_flags(old, new->identities[k].id) != new->identities[k].flags &&
		    id_set_add(&touched, new->identities[k].id))
			goto out;
	qsort(touched.v, touched.n, sizeof(uint32_t), u32_cmp);

	yu_set_uint(out, res, "entries_added", n_add);
	yu_set_uint(out, res, "entries_removed", n_del);
	seq = yu_add_seq(out);
	yu_set(out, res, "rules", seq);
	report_rules(out, seq, old, removed, "removed");
	report_rules(out, seq, new, added, "added");
	seq = yu_add_seq(out);
	yu_set(out, res, "endpoints_affected", seq);
	for (size_t k = 0; k < w->n_endpoints; k++) {
		const struct seg_endpoint *e = &w->endpoints[k];
		uint32_t id = e->n_ips ? seg_compiled_identity_of(new, &e->ips[0]) : 0;

		if (!touched.n || !bsearch(&id, touched.v, touched.n, sizeof(id), u32_cmp))
			continue;
		if (shown++ >= 200)
			continue; /* counted below */
		snprintf(name, sizeof(name), "%s/%s", e->ns, e->name);
		yu_append(out, seq, yu_add_str(out, name));
	}
	yu_set_uint(out, res, "endpoints_affected_count", shown);
	ret = 0;
out:
	free(removed);
	free(added);
	free(touched.v);
	return ret;
}
