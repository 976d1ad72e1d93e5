/* audit_report.c - flows that audit-mode policies would have dropped,
 * grouped by policy and rule, within fixed limits (audit_report.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "audit_report.h"
#include "timetext.h"
#include "yaml_util.h"

void seg_audit_report_init(struct seg_audit_report *r, const struct seg_view *v,
			   size_t max_groups, size_t max_per_rule, size_t max_flows)
{
	memset(r, 0, sizeof(*r));
	r->view = *v;
	r->max_groups = max_groups ? max_groups : SEG_AUDIT_MAX_GROUPS;
	r->max_per_rule = max_per_rule ? max_per_rule : SEG_AUDIT_MAX_PER_RULE;
	r->max_flows = max_flows ? max_flows : SEG_AUDIT_MAX_FLOWS;
}

static void flow_free(struct seg_audit_flow *f)
{
	free(f->source);
	free(f->source_labels);
	free(f->destination);
}

static void group_free(struct seg_audit_group *g)
{
	for (size_t i = 0; i < g->n; i++)
		flow_free(&g->v[i]);
	free(g->v);
	free(g->rule);
	free(g->policy);
	free(g->rule_name);
	free(g->ns);
}

void seg_audit_report_free(struct seg_audit_report *r)
{
	for (size_t i = 0; i < r->n_groups; i++)
		group_free(&r->groups[i]);
	free(r->groups);
	r->groups = NULL;
	r->n_groups = r->n_flows = 0;
}

/* The namespace a group is filed under: the policy's, or for a
 * cluster-scoped one and the default deny the observing endpoint's. */
static void group_ns(const struct seg_audit_report *r, const struct seg_flow_record *rec,
		     char *buf, size_t len)
{
	const struct seg_rule_ref *ref = r->view.compiled && rec->policy ?
					 seg_rule_ref_of(r->view.compiled, rec->rule_id) : NULL;
	const char *obs = rec->observer ? rec->observer : "", *slash;

	if (ref && *ref->policy_ns) {
		snprintf(buf, len, "%s", ref->policy_ns);
		return;
	}
	slash = strchr(obs, '/');
	snprintf(buf, len, "%.*s", (int)(slash ? (size_t)(slash - obs) : 0), obs);
}

static const struct seg_namespace *find_ns(const struct seg_world *w, const char *name)
{
	for (size_t i = 0; i < w->n_namespaces; i++)
		if (!strcmp(w->namespaces[i].name, name))
			return &w->namespaces[i];
	return NULL;
}

static bool selects(const struct seg_world *w, const struct seg_policy *p,
		    const struct seg_endpoint *e)
{
	const struct seg_namespace *ns;

	if (!p->has_subject_ns)
		return !strcmp(p->ns, e->ns) && seg_selector_matches(&p->subject, &e->labels);
	ns = find_ns(w, e->ns);
	return ns && seg_selector_matches(&p->subject_namespaces, &ns->labels) &&
	       seg_selector_matches(&p->subject, &e->labels);
}

/* The policy of a record: the rule's ("ns/name" of "ns/name#N"); for the
 * default deny (no rule), the audit-mode policies that select the
 * observing endpoint and enforce the record's direction, comma-separated:
 * their default deny is what would have dropped it. */
static void policy_of(const struct seg_audit_report *r, const struct seg_flow_record *rec,
		      char *buf, size_t len)
{
	const struct seg_world *w = r->view.world;
	const char *obs = rec->observer ? rec->observer : "", *slash = strchr(obs, '/');
	const struct seg_endpoint *e = NULL;
	size_t off = 0;

	*buf = '\0';
	if (rec->policy) {
		const char *hash = strrchr(rec->policy, '#');

		snprintf(buf, len, "%.*s", (int)(hash ? (size_t)(hash - rec->policy) :
						 strlen(rec->policy)), rec->policy);
		return;
	}
	if (!w || !slash || rec->direction > 1)
		return;
	for (size_t i = 0; !e && i < w->n_endpoints; i++)
		if (!strncmp(w->endpoints[i].ns, obs, (size_t)(slash - obs)) &&
		    !w->endpoints[i].ns[slash - obs] && !strcmp(w->endpoints[i].name, slash + 1))
			e = &w->endpoints[i];
	for (size_t i = 0; e && i < w->n_policies && off < len; i++) {
		const struct seg_policy *p = &w->policies[i];
		const struct seg_namespace *ns = find_ns(w, p->ns);
		char name[300];

		if (!(p->audit || (ns && ns->mode == SEG_MODE_AUDIT)) ||
		    !p->enforce[rec->direction] || !selects(w, p, e))
			continue;
		seg_policy_name_of(p, name, sizeof(name));
		off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "", name);
	}
}

/* Index of group (rule, policy, ns), or where it would go (*found false). */
static size_t find_group(const struct seg_audit_report *r, const char *rule,
			 const char *policy, const char *ns, bool *found)
{
	size_t lo = 0, hi = r->n_groups;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->groups[mid].rule, rule);

		if (!c)
			c = strcmp(r->groups[mid].policy, policy);
		if (!c)
			c = strcmp(r->groups[mid].ns, ns);
		if (!c) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static struct seg_audit_group *add_group(struct seg_audit_report *r, size_t at,
					 const struct seg_flow_record *rec, const char *policy,
					 const char *ns)
{
	const char *rule = rec->policy ? rec->policy : "";
	struct seg_audit_group g = { 0 }, *v;

	v = realloc(r->groups, (r->n_groups + 1) * sizeof(*v));
	if (!v)
		return NULL;
	r->groups = v;
	g.rule = strdup(rule);
	g.policy = strdup(policy);
	g.rule_name = strdup(rec->rule_name ? rec->rule_name : "");
	g.ns = strdup(ns);
	if (!g.rule || !g.policy || !g.rule_name || !g.ns) {
		group_free(&g);
		return NULL;
	}
	memmove(v + at + 1, v + at, (r->n_groups - at) * sizeof(*v));
	v[at] = g;
	r->n_groups++;
	return &v[at];
}

static char *labels_text(const struct seg_labels *l)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; l && i < l->n; i++)
		fprintf(f, "%s%s=%s", i ? "," : "", l->v[i].key, l->v[i].value);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static struct seg_audit_flow *find_flow(struct seg_audit_group *g,
					const struct seg_flow_record *rec)
{
	for (size_t i = 0; i < g->n; i++) {
		struct seg_audit_flow *f = &g->v[i];

		if (f->proto == rec->proto && f->port == rec->dport &&
		    !strcmp(f->source, rec->source.identity) &&
		    !strcmp(f->destination, rec->destination.identity))
			return f;
	}
	return NULL;
}

static struct seg_audit_flow *add_flow(struct seg_audit_report *r, struct seg_audit_group *g,
				       const struct seg_flow_record *rec)
{
	struct seg_audit_flow f = { 0 }, *v = realloc(g->v, (g->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	g->v = v;
	f.source = strdup(rec->source.identity);
	f.source_labels = labels_text(rec->source.labels);
	f.destination = strdup(rec->destination.identity);
	f.proto = rec->proto;
	f.port = rec->dport;
	f.first_ns = rec->start_ns;
	if (!f.source || !f.source_labels || !f.destination) {
		flow_free(&f);
		return NULL;
	}
	v[g->n] = f;
	r->n_flows++;
	return &v[g->n++];
}

static void count(uint64_t *flows, uint64_t *packets, uint64_t *bytes, uint64_t *first,
		  uint64_t *last, const struct seg_flow_record *rec, bool is_new)
{
	uint64_t end = rec->end_ns ? rec->end_ns : rec->time_ns;

	*flows += is_new;
	*packets += rec->packets + rec->reply_packets;
	*bytes += rec->bytes + rec->reply_bytes;
	if (!*first || (rec->start_ns && rec->start_ns < *first))
		*first = rec->start_ns ? rec->start_ns : end;
	if (end > *last)
		*last = end;
}

int seg_audit_report_add(struct seg_audit_report *r, const struct seg_flow_record *rec)
{
	/* the first record of a flow carries all its counts so far */
	bool is_new = rec->total_packets == rec->packets &&
		      rec->total_reply_packets == rec->reply_packets, found;
	struct seg_audit_group *g;
	struct seg_audit_flow *f;
	char ns[256], policy[1024];
	size_t at;

	if (rec->verdict != SEG_FLOW_AUDIT)
		return 0;
	r->records++;
	group_ns(r, rec, ns, sizeof(ns));
	policy_of(r, rec, policy, sizeof(policy));
	at = find_group(r, rec->policy ? rec->policy : "", policy, ns, &found);
	if (found) {
		g = &r->groups[at];
	} else if (r->n_groups >= r->max_groups) {
		r->records_omitted++;
		return 0;
	} else if (!(g = add_group(r, at, rec, policy, ns))) {
		return r->error = -ENOMEM;
	}
	count(&g->flows, &g->packets, &g->bytes, &g->first_ns, &g->last_ns, rec, is_new);
	f = find_flow(g, rec);
	if (!f && (g->n >= r->max_per_rule || r->n_flows >= r->max_flows)) {
		g->flows_omitted += is_new;
		return 0;
	}
	if (!f && !(f = add_flow(r, g, rec)))
		return r->error = -ENOMEM;
	count(&f->flows, &f->packets, &f->bytes, &f->first_ns, &f->last_ns, rec, is_new);
	return 0;
}

void seg_audit_report_sink(void *ctx, const struct seg_flow_record *rec)
{
	seg_audit_report_add(ctx, rec);
}

/* ---- output -------------------------------------------------------------------- */

static void set_time(yaml_document_t *out, int m, const char *key, uint64_t ns)
{
	char buf[64];

	seg_rfc3339((int64_t)(ns / 1000000000u), buf, sizeof(buf));
	yu_set_str(out, m, key, buf);
}

static void set_counts(yaml_document_t *out, int m, uint64_t flows, uint64_t packets,
		       uint64_t bytes, uint64_t first, uint64_t last)
{
	yu_set_uint(out, m, "flows", flows);
	yu_set_uint(out, m, "packets", packets);
	yu_set_uint(out, m, "bytes", bytes);
	set_time(out, m, "first_seen", first);
	set_time(out, m, "last_seen", last);
}

static int write_flows(const struct seg_audit_group *g, uint64_t since_ns,
		       yaml_document_t *out)
{
	int seq = yu_add_seq(out);
	char proto[16];

	for (size_t i = 0; seq >= 0 && i < g->n; i++) {
		const struct seg_audit_flow *f = &g->v[i];
		int m;

		if (f->last_ns < since_ns)
			continue;
		m = yu_add_map(out);
		yu_append(out, seq, m);
		yu_set_str(out, m, "source", f->source);
		yu_set_str(out, m, "source_labels", f->source_labels);
		yu_set_str(out, m, "destination", f->destination);
		yu_set_str(out, m, "protocol", seg_proto_name(f->proto, proto, sizeof(proto)));
		yu_set_uint(out, m, "port", f->port);
		set_counts(out, m, f->flows, f->packets, f->bytes, f->first_ns, f->last_ns);
	}
	return seq;
}

int seg_audit_report_write(const struct seg_audit_report *r, const char *ns,
			   uint64_t since_ns, yaml_document_t *out, int res)
{
	int groups = yu_add_seq(out);

	if (groups < 0 || yu_set(out, res, "groups", groups))
		return -ENOMEM;
	yu_set_uint(out, res, "records", r->records);
	yu_set_uint(out, res, "records_omitted", r->records_omitted);
	for (size_t i = 0; i < r->n_groups; i++) {
		const struct seg_audit_group *g = &r->groups[i];
		int m, flows;

		if ((ns && *ns && strcmp(g->ns, ns)) || g->last_ns < since_ns)
			continue;
		m = yu_add_map(out);
		flows = write_flows(g, since_ns, out);
		if (m < 0 || flows < 0 || yu_append(out, groups, m))
			return -ENOMEM;
		yu_set_str(out, m, "namespace", g->ns);
		yu_set_str(out, m, "policy", g->policy);
		yu_set_str(out, m, "rule", g->rule);
		yu_set_str(out, m, "rule_name", g->rule_name);
		set_counts(out, m, g->flows, g->packets, g->bytes, g->first_ns, g->last_ns);
		yu_set_uint(out, m, "flows_omitted", g->flows_omitted);
		yu_set(out, m, "distinct_flows", flows);
	}
	return 0;
}
