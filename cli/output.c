/* output.c - print segd's answers for people (tables) or machines. */
#include <stdlib.h>
#include <string.h>
#include "args.h"
#include "output.h"
#include "yaml_util.h"

#define MAX_COLS 12

struct table {
	int ncols;
	size_t nrows, cap;
	char **cells;          /* nrows x ncols, row-major, owned */
	size_t width[MAX_COLS];
};

static void table_row(struct table *t, const char *const *vals)
{
	if (t->nrows == t->cap) {
		char **c = realloc(t->cells, (t->cap = t->cap * 2 + 16) * MAX_COLS * sizeof(*c));

		if (!c)
			return;
		t->cells = c;
	}
	for (int i = 0; i < t->ncols; i++) {
		char *v = strdup(vals[i] ? vals[i] : "");
		size_t w = v ? strlen(v) : 0;

		t->cells[t->nrows * MAX_COLS + i] = v;
		if (w > t->width[i])
			t->width[i] = w;
	}
	t->nrows++;
}

static void table_free(struct table *t);

static void table_print(struct table *t, FILE *f)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (int i = 0; i < t->ncols; i++) {
			const char *v = t->cells[r * MAX_COLS + i];

			if (i + 1 < t->ncols)
				fprintf(f, "%-*s   ", (int)t->width[i], v ? v : "");
			else
				fprintf(f, "%s", v ? v : "");
		}
		fputc('\n', f);
	}
	table_free(t);
}

static void table_free(struct table *t)
{
	for (size_t k = 0; k < t->nrows * MAX_COLS; k++)
		if (k % MAX_COLS < (size_t)t->ncols)
			free(t->cells[k]);
	free(t->cells);
}

void segctl_table(FILE *f, int ncols, const char *const *cells, size_t nrows)
{
	struct table t = { .ncols = ncols < MAX_COLS ? ncols : MAX_COLS };

	for (size_t r = 0; r < nrows; r++)
		table_row(&t, cells + r * (size_t)ncols);
	table_print(&t, f);
}

static const char *str(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	const char *s = yu_scalar(yu_map_get(d, m, key));

	return s ? s : "";
}

/* "a=b,c=d" or "a, b" from a mapping or a sequence of scalars. */
static void join(yaml_document_t *d, yaml_node_t *n, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	if (yu_is_map(n)) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top && off < len; p++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s=%s",
						off ? "," : "",
						yu_scalar(yu_node(d, p->key)),
						yu_scalar(yu_node(d, p->value)));
	} else {
		for (size_t i = 0; i < yu_seq_len(n) && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						off ? "," : "",
						yu_scalar(yu_seq_at(d, n, i)));
	}
}

static void print_get(yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	const char *kind = str(d, res, "kind");
	yaml_node_t *items = yu_map_get(d, res, "items");
	struct table t = { 0 };
	char a[1024], b[1024], c[64];

	if (!strcmp(kind, "namespaces")) {
		t.ncols = 5;
		table_row(&t, (const char *[]){ "NAME", "STRATUM", "MODE", "ON-DETECT",
						"LABELS" });
	} else if (!strcmp(kind, "endpoints")) {
		t.ncols = 7;
		table_row(&t, (const char *[]){ "NAMESPACE", "NAME", "IPS", "INTERFACE",
						"IDENTITY", "ENFORCING", "LABELS" });
	} else if (!strcmp(kind, "nodes")) {
		t.ncols = 3;
		table_row(&t, (const char *[]){ "NAME", "IPS", "LABELS" });
	} else if (!strcmp(kind, "quarantines")) {
		t.ncols = 7;
		table_row(&t, (const char *[]){ "ID", "TARGET", "ENDPOINTS", "ALLOW",
						"SINCE", "BY-UID", "REASON" });
	} else {
		t.ncols = 9;
		table_row(&t, (const char *[]){ "NAMESPACE", "NAME", "KIND", "TIER",
						"PRIORITY", "TYPES", "RULES", "MODE",
						"FILE" });
	}
	for (size_t i = 0; i < yu_seq_len(items); i++) {
		yaml_node_t *it = yu_seq_at(d, items, i);

		if (!strcmp(kind, "namespaces")) {
			join(d, yu_map_get(d, it, "labels"), a, sizeof(a));
			table_row(&t, (const char *[]){ str(d, it, "name"), str(d, it, "stratum"),
							str(d, it, "mode"),
							str(d, it, "on_detect"), a });
		} else if (!strcmp(kind, "nodes")) {
			join(d, yu_map_get(d, it, "ips"), a, sizeof(a));
			join(d, yu_map_get(d, it, "labels"), b, sizeof(b));
			table_row(&t, (const char *[]){ str(d, it, "name"), a, *b ? b : "-" });
		} else if (!strcmp(kind, "quarantines")) {
			join(d, yu_map_get(d, it, "endpoints"), a, sizeof(a));
			join(d, yu_map_get(d, it, "allow"), b, sizeof(b));
			table_row(&t, (const char *[]){ str(d, it, "id"), str(d, it, "target"),
				  *a ? a : "-", *b ? b : "-", str(d, it, "since"),
				  str(d, it, "uid"), str(d, it, "reason") });
		} else if (!strcmp(kind, "endpoints")) {
			yaml_node_t *e = yu_map_get(d, it, "enforcing");
			bool in = false, out = false;

			yu_bool(yu_map_get(d, e, "ingress"), &in);
			yu_bool(yu_map_get(d, e, "egress"), &out);
			snprintf(c, sizeof(c), "%s", in && out ? "ingress,egress" :
				 in ? "ingress" : out ? "egress" : "none");
			join(d, yu_map_get(d, it, "ips"), a, sizeof(a));
			join(d, yu_map_get(d, it, "labels"), b, sizeof(b));
			table_row(&t, (const char *[]){ str(d, it, "namespace"),
				  str(d, it, "name"), a,
				  !strcmp(str(d, it, "remote"), "true") ? "(remote)" :
				  str(d, it, "interface"),
				  str(d, it, "identity"), c, b });
		} else {
			bool in = false, out = false;
			const char *tier;

			yu_bool(yu_map_get(d, it, "ingress"), &in);
			yu_bool(yu_map_get(d, it, "egress"), &out);
			snprintf(c, sizeof(c), "%s", in && out ? "Ingress,Egress" :
				 in ? "Ingress" : out ? "Egress" : "-");
			/* "audit(ns)": the namespace's mode, not the policy's;
			 * "audit(staged)": `apply --mode audit`, to promote */
			snprintf(b, sizeof(b), "%s%s", str(d, it, "mode"),
				 !strcmp(str(d, it, "staged"), "true") ? "(staged)" :
				 !strcmp(str(d, it, "mode_from"), "namespace") ?
				 "(ns)" : "");
			/* a priority orders ClusterNetworkPolicies only */
			tier = str(d, it, "tier");
			table_row(&t, (const char *[]){ str(d, it, "namespace"),
				  str(d, it, "name"), str(d, it, "kind"),
				  *tier ? tier : "NetworkPolicy",
				  !strcmp(str(d, it, "kind"), "ClusterNetworkPolicy") ?
				  str(d, it, "priority") : "-", c,
				  str(d, it, "rules"), b, str(d, it, "file") });
		}
	}
	if (yu_seq_len(items) == 0) {
		fprintf(f, "No %s.\n", kind);
		t.nrows = 1; /* keep the header for freeing, print nothing */
		table_free(&t);
		return;
	}
	table_print(&t, f);
}

/* ClusterNetworkPolicy domainNames and their addresses, when any. */
static void print_domain_names(yaml_document_t *d, yaml_node_t *names, FILE *f)
{
	struct table t = { .ncols = 2 };

	if (!yu_seq_len(names))
		return;
	fprintf(f, "\nDOMAIN NAMES\n");
	table_row(&t, (const char *[]){ "NAME", "ADDRESSES" });
	for (size_t i = 0; i < yu_seq_len(names); i++) {
		yaml_node_t *n = yu_seq_at(d, names, i), *as = yu_map_get(d, n, "addresses");
		char addrs[512];
		size_t off = 0;

		addrs[0] = '\0';
		for (size_t j = 0; j < yu_seq_len(as) && off < sizeof(addrs); j++)
			off += (size_t)snprintf(addrs + off, sizeof(addrs) - off, "%s%s",
						j ? "," : "",
						yu_scalar(yu_seq_at(d, as, j)));
		table_row(&t, (const char *[]){ str(d, n, "name"),
						*addrs ? addrs : "(not resolved)" });
	}
	table_print(&t, f);
}

static void print_status(yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	yaml_node_t *ifs = yu_map_get(d, res, "interfaces");
	yaml_node_t *maps = yu_map_get(d, res, "maps");
	yaml_node_t *ctr = yu_map_get(d, res, "counters");
	struct table t = { .ncols = 5 };
	char progs[512];

	fprintf(f, "policy generation: %s\n", str(d, res, "generation"));
	fprintf(f, "namespaces: %s   endpoints: %s (%s remote)   policies: %s   "
		"identities: %s   policy entries: %s\n", str(d, res, "namespaces"),
		str(d, res, "endpoints"), str(d, res, "remote_endpoints"),
		str(d, res, "policies"), str(d, res, "identities"),
		str(d, res, "policy_entries"));
	fprintf(f, "quarantines: %s (%s addresses)   quarantine audit records: %s\n",
		str(d, res, "quarantines"), str(d, res, "quarantined_addresses"),
		str(d, res, "quarantine_audit_records"));
	{
		yaml_node_t *l = yu_map_get(d, res, "learn");

		if (!strcmp(str(d, l, "enabled"), "true"))
			fprintf(f, "learned edges: %s of %s (%s bytes; %s refused when full)\n",
				str(d, l, "edges"), str(d, l, "max_edges"),
				str(d, l, "memory_bytes"), str(d, l, "refused"));
		else
			fprintf(f, "learned edges: off (learn: false)\n");
	}
	fprintf(f, "\nINTERFACES\n");
	table_row(&t, (const char *[]){ "INTERFACE", "IFINDEX", "ROLE", "ENDPOINT",
					"PROGRAMS" });
	for (size_t i = 0; i < yu_seq_len(ifs); i++) {
		yaml_node_t *it = yu_seq_at(d, ifs, i), *ps = yu_map_get(d, it, "programs");
		size_t off = 0;

		progs[0] = '\0';
		for (size_t j = 0; j < yu_seq_len(ps) && off < sizeof(progs); j++) {
			yaml_node_t *p = yu_seq_at(d, ps, j);

			off += (size_t)snprintf(progs + off, sizeof(progs) - off, "%s%s id %s",
						j ? ", " : "", str(d, p, "hook"),
						str(d, p, "prog_id"));
		}
		table_row(&t, (const char *[]){ str(d, it, "interface"),
			  str(d, it, "ifindex"), str(d, it, "role"),
			  *str(d, it, "endpoint") ? str(d, it, "endpoint") : "-",
			  *progs ? progs : "NOT ATTACHED" });
	}
	table_print(&t, f);
	fprintf(f, "\nMAPS\n");
	t = (struct table){ .ncols = 4 };
	table_row(&t, (const char *[]){ "MAP", "ENTRIES", "CAPACITY", "USE" });
	for (size_t i = 0; i < yu_seq_len(maps); i++) {
		yaml_node_t *m = yu_seq_at(d, maps, i);
		double e = atof(str(d, m, "entries")), c = atof(str(d, m, "capacity"));
		char use[16];

		snprintf(use, sizeof(use), "%.1f%%", c > 0 ? 100.0 * e / c : 0.0);
		table_row(&t, (const char *[]){ str(d, m, "name"), str(d, m, "entries"),
						str(d, m, "capacity"), use });
	}
	table_print(&t, f);
	print_domain_names(d, yu_map_get(d, res, "domain_names"), f);
	fprintf(f, "\nCOUNTERS\n");
	t = (struct table){ .ncols = 3 };
	table_row(&t, (const char *[]){ "VERDICT/REASON", "PACKETS", "BYTES" });
	if (yu_is_map(ctr)) {
		for (yaml_node_pair_t *p = ctr->data.mapping.pairs.start;
		     p < ctr->data.mapping.pairs.top; p++) {
			yaml_node_t *v = yu_node(d, p->value);

			table_row(&t, (const char *[]){ yu_scalar(yu_node(d, p->key)),
				  str(d, v, "packets"), str(d, v, "bytes") });
		}
	}
	table_print(&t, f);
}

static void print_apply(yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	yaml_node_t *pols = yu_map_get(d, res, "policies");
	yaml_node_t *rules = yu_map_get(d, res, "rules");
	yaml_node_t *eps = yu_map_get(d, res, "endpoints_affected");
	bool dry = false;

	yu_bool(yu_map_get(d, res, "dry_run"), &dry);
	for (size_t i = 0; i < yu_seq_len(pols); i++) {
		yaml_node_t *p = yu_seq_at(d, pols, i);

		fprintf(f, "%s/%s %s%s%s\n", str(d, p, "kind"), str(d, p, "name"),
			str(d, p, "action"), dry ? " (dry run)" : "",
			!strcmp(str(d, p, "staged"), "true") ? " [audit, staged]" :
			!strcmp(str(d, p, "mode"), "audit") ? " [audit]" : "");
	}
	if (!dry)
		return;
	fprintf(f, "\npolicy map entries: +%s -%s\n", str(d, res, "entries_added"),
		str(d, res, "entries_removed"));
	for (size_t i = 0; i < yu_seq_len(rules); i++) {
		yaml_node_t *r = yu_seq_at(d, rules, i);

		fprintf(f, "  %s %s: %s entries\n",
			!strcmp(str(d, r, "change"), "added") ? "+" : "-",
			str(d, r, "rule"), str(d, r, "entries"));
	}
	fprintf(f, "endpoints affected: %s\n", str(d, res, "endpoints_affected_count"));
	for (size_t i = 0; i < yu_seq_len(eps); i++)
		fprintf(f, "  %s\n", yu_scalar(yu_seq_at(d, eps, i)));
	fprintf(f, "nothing was changed (dry run)\n");
}

/* audit-report: per policy and rule a line of totals, then its flows */
static void print_audit_report(yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	yaml_node_t *groups = yu_map_get(d, res, "groups");
	char a[512], b[64], c[64];

	if (!yu_seq_len(groups))
		fprintf(f, "No flows that audit-mode policies would drop (flow records "
			"come every %ss).\n", str(d, res, "flow_interval"));
	for (size_t i = 0; i < yu_seq_len(groups); i++) {
		yaml_node_t *g = yu_seq_at(d, groups, i), *fl = yu_map_get(d, g, "distinct_flows");
		struct table t = { .ncols = 7 };
		const char *rn = str(d, g, "rule_name");

		if (*str(d, g, "rule"))
			snprintf(a, sizeof(a), "%s%s%s%s", str(d, g, "rule"), *rn ? " \"" : "",
				 rn, *rn ? "\"" : "");
		else if (*str(d, g, "policy"))
			snprintf(a, sizeof(a), "%s (default deny)", str(d, g, "policy"));
		else
			snprintf(a, sizeof(a), "default deny");
		fprintf(f, "%s%s (namespace %s): %s flows, %s packets, %s bytes, "
			"first %s, last %s\n", i ? "\n" : "", a, str(d, g, "namespace"),
			str(d, g, "flows"), str(d, g, "packets"), str(d, g, "bytes"),
			str(d, g, "first_seen"), str(d, g, "last_seen"));
		table_row(&t, (const char *[]){ "  SOURCE", "DESTINATION", "PORT", "FLOWS",
						"PACKETS", "BYTES", "LAST SEEN" });
		for (size_t j = 0; j < yu_seq_len(fl); j++) {
			yaml_node_t *x = yu_seq_at(d, fl, j);
			const char *l = str(d, x, "source_labels");

			snprintf(a, sizeof(a), "  %s%s%s%s", str(d, x, "source"), *l ? " (" : "",
				 l, *l ? ")" : "");
			snprintf(b, sizeof(b), "%s/%s", str(d, x, "protocol"), str(d, x, "port"));
			snprintf(c, sizeof(c), "%s", str(d, x, "last_seen"));
			table_row(&t, (const char *[]){ a, str(d, x, "destination"), b,
				  str(d, x, "flows"), str(d, x, "packets"), str(d, x, "bytes"),
				  c });
		}
		table_print(&t, f);
		if (strcmp(str(d, g, "flows_omitted"), "0"))
			fprintf(f, "  (%s more flows not listed: the report keeps a bounded "
				"number per rule)\n", str(d, g, "flows_omitted"));
	}
	if (strcmp(str(d, res, "records_omitted"), "0"))
		fprintf(f, "\n%s audit records of further rules not kept (too many rules)\n",
			str(d, res, "records_omitted"));
}

static void print_flows(yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	yaml_node_t *flows = yu_map_get(d, res, "flows");
	struct table t = { .ncols = 10 };
	char src[96], dst[96], fwd[64], rev[64];

	table_row(&t, (const char *[]){ "ENDPOINT", "DIR", "PROTO", "SOURCE", "DESTINATION",
					"PKTS/BYTES", "REPLY PKTS/BYTES", "VERDICT", "STATE",
					"RULE/REASON" });
	for (size_t i = 0; i < yu_seq_len(flows); i++) {
		yaml_node_t *x = yu_seq_at(d, flows, i);
		const char *sip = str(d, x, "src_ip"), *dip = str(d, x, "dst_ip");

		if (yu_map_get(d, x, "icmp_type")) {   /* no ports: the ICMP type */
			snprintf(src, sizeof(src), "%s", sip);
			snprintf(dst, sizeof(dst), "%s type %s", dip, str(d, x, "icmp_type"));
		} else {
			snprintf(src, sizeof(src), strchr(sip, ':') ? "[%s]:%s" : "%s:%s", sip,
				 str(d, x, "src_port"));
			snprintf(dst, sizeof(dst), strchr(dip, ':') ? "[%s]:%s" : "%s:%s", dip,
				 str(d, x, "dst_port"));
		}
		snprintf(fwd, sizeof(fwd), "%s/%s", str(d, x, "packets"), str(d, x, "bytes"));
		snprintf(rev, sizeof(rev), "%s/%s", str(d, x, "reply_packets"),
			 str(d, x, "reply_bytes"));
		table_row(&t, (const char *[]){ str(d, x, "endpoint"), str(d, x, "direction"),
			  str(d, x, "proto"), src, dst, fwd, rev, str(d, x, "verdict"),
			  str(d, x, "state"), yu_map_get(d, x, "drop_reason") ?
			  str(d, x, "drop_reason") : str(d, x, "rule") });
	}
	if (!yu_seq_len(flows)) {
		fprintf(f, "No flows.\n");
		t.nrows = 1;
		table_free(&t);
		return;
	}
	table_print(&t, f);
	if (!strcmp(str(d, res, "truncated"), "true"))
		fprintf(f, "(%s flows in all; the first %zu shown)\n", str(d, res, "total"),
			yu_seq_len(flows));
}

static void print_problems(yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	yaml_node_t *probs = yu_map_get(d, res, "problems");

	for (size_t i = 0; i < yu_seq_len(probs); i++) {
		yaml_node_t *p = yu_seq_at(d, probs, i);

		fprintf(f, "  line %s: %s: %s\n", str(d, p, "line"), str(d, p, "text"),
			str(d, p, "why"));
	}
	if (atol(str(d, res, "problems_total")) > (long)yu_seq_len(probs))
		fprintf(f, "  ... %s problems in all\n", str(d, res, "problems_total"));
}

static void print_blocklist(const char *c, yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	struct table t = { 0 };

	if (!strcmp(c, "blocklist.load") || !strcmp(c, "blocklist.show")) {
		fprintf(f, "blocklist/%s%s: %s (%s, %s format): %s entries, %s domains "
			"(%s addresses resolved), %s lines not loaded\n", str(d, res, "name"),
			!strcmp(c, "blocklist.load") ? " loaded" : "",
			str(d, res, "category"), str(d, res, "action"), str(d, res, "format"),
			str(d, res, "entries"), str(d, res, "domains"), str(d, res, "resolved"),
			str(d, res, "problems_total"));
		print_problems(d, res, f);
		if (!strcmp(c, "blocklist.show"))
			fprintf(f, "dropped or seen: %s packets, %s bytes\n",
				str(d, res, "packets"), str(d, res, "bytes"));
		return;
	}
	if (!strcmp(c, "blocklist.del")) {
		fprintf(f, "blocklist/%s deleted\n", str(d, res, "name"));
		return;
	}
	if (!strcmp(c, "blocklist.test")) {
		yaml_node_t *hits = yu_map_get(d, res, "hits");

		if (!yu_seq_len(hits)) {
			fprintf(f, "%s is on no list\n", str(d, res, "address"));
			return;
		}
		t.ncols = 5;
		table_row(&t, (const char *[]){ "LIST", "CATEGORY", "ACTION", "ENTRY", "LINE" });
		for (size_t i = 0; i < yu_seq_len(hits); i++) {
			yaml_node_t *h = yu_seq_at(d, hits, i);
			char action[32];

			snprintf(action, sizeof(action), "%s%s", str(d, h, "action"),
				 !strcmp(str(d, h, "excepted"), "true") ? " (excepted)" : "");
			table_row(&t, (const char *[]){ str(d, h, "list"), str(d, h, "category"),
				  action, str(d, h, "entry"), str(d, h, "line") });
		}
		table_print(&t, f);
		return;
	}
	t.ncols = 8;
	table_row(&t, (const char *[]){ "NAME", "CATEGORY", "ACTION", "ENTRIES", "DOMAINS",
					"RESOLVED", "PACKETS", "BYTES" });
	yaml_node_t *items = yu_map_get(d, res, "items");

	for (size_t i = 0; i < yu_seq_len(items); i++) {
		yaml_node_t *x = yu_seq_at(d, items, i);

		table_row(&t, (const char *[]){ str(d, x, "name"), str(d, x, "category"),
			  str(d, x, "action"), str(d, x, "entries"), str(d, x, "domains"),
			  str(d, x, "resolved"), str(d, x, "packets"), str(d, x, "bytes") });
	}
	if (!yu_seq_len(items)) {
		fprintf(f, "No blocklists.\n");
		t.nrows = 1;
		table_free(&t);
		return;
	}
	table_print(&t, f);
}

/* "10.200.1.20 (shop/api)" */
static void end_text(yaml_document_t *d, yaml_node_t *e, char *buf, size_t len)
{
	const char *ep = str(d, e, "endpoint");

	snprintf(buf, len, *ep ? "%s (%s)" : "%s", str(d, e, "address"), ep);
}

/* "a, b, c" from a sequence of scalars */
static void join_list(yaml_document_t *d, yaml_node_t *seq, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < yu_seq_len(seq) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					yu_scalar(yu_seq_at(d, seq, i)));
}

/* The tiers' way to one half's decision:
 *   passed by admin/x#1, decided by shop/np#2 (rule "web"): NetworkPolicy tier, Allow
 *   decided by default deny: NetworkPolicy tier, Deny; isolated by shop/np */
static void print_trace(yaml_document_t *d, yaml_node_t *h, FILE *f)
{
	const char *tier = str(d, h, "tier"), *rule_name = str(d, h, "rule_name");
	char names[1024];

	fprintf(f, "           ");
	join_list(d, yu_map_get(d, h, "passed_by"), names, sizeof(names));
	if (*names)
		fprintf(f, "passed by %s, ", names);
	fprintf(f, "decided by %s", str(d, h, "decided_by"));
	if (*rule_name)
		fprintf(f, " (rule \"%s\")", rule_name);
	if (!strcmp(tier, "none"))
		fprintf(f, ": no tier decides, %s", str(d, h, "action"));
	else
		fprintf(f, ": %s tier, %s", tier, str(d, h, "action"));
	join_list(d, yu_map_get(d, h, "isolated_by"), names, sizeof(names));
	if (*names)
		fprintf(f, "; isolated by %s", names);
	if (atol(str(d, h, "isolated_by_total")) > (long)yu_seq_len(yu_map_get(d, h, "isolated_by")))
		fprintf(f, " (%s in all)", str(d, h, "isolated_by_total"));
	fputc('\n', f);
}

static void print_explain(yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	static const char *const dirs[2] = { "egress", "ingress" };
	char from[400], to[400], svc[32];
	const char *port = str(d, res, "port"), *proto = str(d, res, "proto");

	end_text(d, yu_map_get(d, res, "from"), from, sizeof(from));
	end_text(d, yu_map_get(d, res, "to"), to, sizeof(to));
	snprintf(svc, sizeof(svc), strcmp(port, "0") ? "%s/%s" : "%s", strcmp(port, "0") ?
		 port : proto, proto);
	fprintf(f, "%s: %s -> %s %s\n", str(d, res, "verdict"), from, to, svc);
	for (int i = 0; i < 2; i++) {
		yaml_node_t *h = yu_map_get(d, res, dirs[i]);
		yaml_node_t *k = yu_map_get(d, h, "key");
		const char *why = str(d, h, "why"), *al = str(d, h, "audit_list");

		fprintf(f, "  %-7s at %s: ", dirs[i], i ? to : from);
		if (!strcmp(why, "no-local-endpoint")) {
			fprintf(f, "no hook (not a local endpoint)\n");
			continue;
		}
		fprintf(f, "%s, %s", str(d, h, "verdict"), str(d, h, "rule"));
		if (k) {
			const char *kind = str(d, k, "port_kind");

			fprintf(f, " (rule id %s; entry: %s", str(d, h, "rule_id"),
				str(d, k, "proto"));
			if (!strcmp(kind, "exact"))
				fprintf(f, " port %s", str(d, k, "port"));
			else if (!strcmp(kind, "block"))
				fprintf(f, " ports %s+255", str(d, k, "port"));
			else if (!strcmp(kind, "any-port"))
				fprintf(f, " any port");
			fprintf(f, ", remote %s%s; probe %s of 8)",
				strcmp(str(d, k, "remote"), "any") ? "identity " : "",
				str(d, k, "remote"), str(d, h, "probe"));
		}
		if (*al)
			fprintf(f, "; on audit list %s", al);
		fputc('\n', f);
		if (yu_map_get(d, h, "tier"))
			print_trace(d, h, f);
	}
}

static void print_quarantine(yaml_document_t *d, yaml_node_t *res, FILE *f)
{
	yaml_node_t *eps = yu_map_get(d, res, "endpoints");
	char a[1024], b[1024];

	join(d, eps, a, sizeof(a));
	join(d, yu_map_get(d, res, "allow"), b, sizeof(b));
	fprintf(f, "quarantine %s %s %s: endpoints %s; allowed peers %s\n",
		str(d, res, "id"), str(d, res, "target"), str(d, res, "action"),
		*a ? a : "none", *b ? b : "none");
	if (!yu_seq_len(eps) && strncmp(str(d, res, "target"), "ip ", 3))
		fprintf(f, "note: no registered endpoint matches now; one that "
			"registers under this target is quarantined at once\n");
}

static void print_simple(const struct segctl_cmd *cmd, yaml_document_t *d,
			 yaml_node_t *res, FILE *f)
{
	const char *c = cmd->command;

	if (!strcmp(c, "namespace.set"))
		fprintf(f, "namespace/%s %s (mode: %s, stratum: %s, on-detect: %s)\n",
			str(d, res, "namespace"), str(d, res, "action"),
			str(d, res, "mode"), str(d, res, "stratum"),
			str(d, res, "on_detect"));
	else if (!strcmp(c, "endpoint.add"))
		fprintf(f, "endpoint/%s/%s registered (id %s, identity %s, %s%s%s)\n",
			str(d, res, "namespace"), str(d, res, "endpoint"), str(d, res, "id"),
			str(d, res, "identity"),
			!strcmp(str(d, res, "remote"), "true") ? "remote" : "interface ",
			!strcmp(str(d, res, "remote"), "true") ? "" : str(d, res, "interface"),
			!strcmp(str(d, res, "remote"), "true") ? "" :
			!strcmp(str(d, res, "attached"), "true") ? ", programs attached" :
			": not present yet");
	else if (!strcmp(c, "endpoint.load"))
		fprintf(f, "%s endpoints loaded: %s added, %s replaced, %s attached "
			"(%s registered)\n", str(d, res, "endpoints"), str(d, res, "added"),
			str(d, res, "replaced"), str(d, res, "attached"), str(d, res, "total"));
	else if (!strcmp(c, "endpoint.del"))
		fprintf(f, "endpoint/%s/%s deleted\n", str(d, res, "namespace"),
			str(d, res, "endpoint"));
	else if (!strcmp(c, "node.set") || !strcmp(c, "node.del"))
		fprintf(f, "node/%s %s\n", str(d, res, "node"), str(d, res, "action"));
	else if (!strcmp(c, "attach"))
		fprintf(f, "uplink/%s attached (%s, ifindex %s)\n",
			str(d, res, "interface"), str(d, res, "hook"), str(d, res, "ifindex"));
	else if (!strcmp(c, "conntrack.flush"))
		fprintf(f, "conntrack flushed: %s flows ended (%s revoked flows kept until "
			"they expire)\n", str(d, res, "flushed"), str(d, res, "kept"));
	else if (!strcmp(c, "learn.reset"))
		fprintf(f, "learned edges%s%s forgotten: %s (%s kept)\n",
			yu_map_get(d, res, "namespace") ? " of namespace " : "",
			yu_map_get(d, res, "namespace") ? str(d, res, "namespace") : "",
			str(d, res, "forgotten"), str(d, res, "edges"));
	else if (!strcmp(c, "policy.delete"))
		fprintf(f, "%s/%s deleted\n", str(d, res, "kind"), str(d, res, "name"));
	else if (!strcmp(c, "promote"))
		fprintf(f, "%s/%s%s%s promoted: %s (%s policy map entries added, %s "
			"removed)\n", str(d, res, "kind"),
			*str(d, res, "namespace") ? str(d, res, "namespace") : "",
			*str(d, res, "namespace") ? "/" : "", str(d, res, "name"),
			strcmp(str(d, res, "mode"), "audit") ? "enforced now" :
			"still audit, as its namespace is (segctl namespace set NS "
			"--mode enforce)", str(d, res, "entries_added"),
			str(d, res, "entries_removed"));
	else if (!strcmp(c, "quarantine") || !strcmp(c, "release"))
		print_quarantine(d, res, f);
}

/* One streamed flow record (a JSON line, as in the flow log): as is with
 * -o json, else one line of text. */
void segctl_print_flow_record(const struct segctl_cmd *cmd, const char *line, size_t len,
			      FILE *out)
{
	struct seg_error perr = { 0 };
	yaml_document_t d;
	yaml_node_t *r;
	char src[96], dst[96];
	const char *sip, *dip, *why;

	if (cmd->format == SEGCTL_JSON || yu_load_one(line, len, "record", &d, &perr)) {
		fwrite(line, 1, len, out);
		fflush(out);
		return;
	}
	r = yu_root(&d);
	sip = str(&d, r, "src_ip");
	dip = str(&d, r, "dst_ip");
	snprintf(src, sizeof(src), strchr(sip, ':') ? "[%s]:%s" : "%s:%s", sip,
		 yu_map_get(&d, r, "src_port") ? str(&d, r, "src_port") : "-");
	snprintf(dst, sizeof(dst), strchr(dip, ':') ? "[%s]:%s" : "%s:%s", dip,
		 yu_map_get(&d, r, "dst_port") ? str(&d, r, "dst_port") : "-");
	why = yu_map_get(&d, r, "drop_reason") ? str(&d, r, "drop_reason") :
	      yu_map_get(&d, r, "policy") ? str(&d, r, "policy") : "-";
	fprintf(out, "%s %-9s %s %s %s %s -> %s %s/%s %s/%s %s%s\n", str(&d, r, "time"),
		str(&d, r, "verdict"), str(&d, r, "observer"), str(&d, r, "direction"),
		str(&d, r, "proto"), src, dst, str(&d, r, "packets"), str(&d, r, "bytes"),
		str(&d, r, "reply_packets"), str(&d, r, "reply_bytes"), why,
		yu_map_get(&d, r, "final") ? " (ended)" : "");
	fflush(out);
	yaml_document_delete(&d);
}

int segctl_answer(yaml_document_t *resp, yaml_node_t **res, FILE *err)
{
	yaml_node_t *root = yu_root(resp);
	int64_t code = SEGCTL_FAILED;
	bool ok = false;

	yu_bool(yu_map_get(resp, root, "ok"), &ok);
	if (!ok) {
		yu_int(yu_map_get(resp, root, "exit"), 1, 3, &code);
		fprintf(err, "segctl: error: %s\n", str(resp, root, "error"));
		return (int)code;
	}
	*res = yu_map_get(resp, root, "result");
	return SEGCTL_OK;
}

int segctl_print(const struct segctl_cmd *cmd, yaml_document_t *resp, FILE *out,
		 FILE *err)
{
	yaml_node_t *res = NULL;
	yaml_document_t sub;
	int code = segctl_answer(resp, &res, err);

	if (code != SEGCTL_OK)
		return code;
	if (!strcmp(cmd->command, "recommend"))
		return segctl_print_recommend(cmd, resp, res, out, err);
	if (!strcmp(cmd->command, "graph") &&
	    (cmd->format == SEGCTL_TABLE || cmd->format == SEGCTL_DOT)) {
		fputs(str(resp, res, "dot"), out);
		return SEGCTL_OK;
	}
	if (cmd->format != SEGCTL_TABLE) {
		int id;

		if (!yaml_document_initialize(&sub, NULL, NULL, NULL, 1, 1))
			return SEGCTL_FAILED;
		id = res ? yu_copy(&sub, resp, (int)(res - resp->nodes.start) + 1) : yu_add_map(&sub);
		if (id < 0) {
			yaml_document_delete(&sub);
			return SEGCTL_FAILED;
		}
		if (cmd->format == SEGCTL_JSON)
			yu_write_json(out, &sub);
		else
			yu_write_yaml(out, &sub);
		yaml_document_delete(&sub);
		return SEGCTL_OK;
	}
	if (!strcmp(cmd->command, "get"))
		print_get(resp, res, out);
	else if (!strcmp(cmd->command, "status"))
		print_status(resp, res, out);
	else if (!strcmp(cmd->command, "apply"))
		print_apply(resp, res, out);
	else if (!strcmp(cmd->command, "flows"))
		print_flows(resp, res, out);
	else if (!strcmp(cmd->command, "audit-report"))
		print_audit_report(resp, res, out);
	else if (!strcmp(cmd->command, "explain"))
		print_explain(resp, res, out);
	else if (!strncmp(cmd->command, "blocklist.", 10))
		print_blocklist(cmd->command, resp, res, out);
	else
		print_simple(cmd, resp, res, out);
	return SEGCTL_OK;
}
