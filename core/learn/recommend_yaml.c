/* recommend_yaml.c - the recommendation's model as YAML documents of
 * segd.io/v1 SegmentPolicy or networking.k8s.io/v1 NetworkPolicy, with
 * comments saying what each rule was learned from. */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "recommend_int.h"
#include "segd_abi.h"
#include "strbuf.h"
#include "timetext.h"

#define NS_LABEL "kubernetes.io/metadata.name"

struct out {
	struct seg_strbuf b;
	const struct seg_rec_opts *o;
	struct seg_rec_summary *sum;
	bool k8s;
};

/* unix seconds as RFC 3339 UTC; "?" for none */
static void when(int64_t t, char *buf, size_t len)
{
	if (t)
		seg_rfc3339(t, buf, len);
	else
		snprintf(buf, len, "?");
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	case IPPROTO_SCTP: return "SCTP";
	case IPPROTO_ICMP: return "ICMP";
	case IPPROTO_ICMPV6: return "ICMPv6";
	}
	return NULL;
}

/* Can a port entry of this kind say p? NetworkPolicy names TCP, UDP and
 * SCTP only; a SegmentPolicy also ICMP and ICMPv6, but no other protocol
 * by number (`any` would allow them all). */
static bool port_usable(const struct out *w, const struct rec_port *p)
{
	if (w->k8s)
		return p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP ||
		       p->proto == IPPROTO_SCTP;
	return proto_name(p->proto) != NULL;
}

/* A label key as YAML reads it back as the same string: plain unless a
 * YAML reader would take it for something else (null, a boolean of YAML
 * 1.1 as kubectl reads it, a number). Keys are label syntax: nothing in
 * them needs escaping inside quotes. */
static const char *key_quote(const char *k)
{
	static const char *const words[] = { "null", "true", "false", "yes", "no",
					     "on", "off", "y", "n" };

	if (!*k || strchr("0123456789+-.~", k[0]))
		return "\"";
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(k, words[i]))
			return "\"";
	return "";
}

/* {matchLabels: {k: "v", ...}, matchExpressions: [...]}: values quoted,
 * so "true" or "1" stay strings; keys when they would not */
static void match_labels(struct out *w, const struct rec_sel *sel)
{
	seg_strbuf_printf(&w->b, "{matchLabels: {");
	for (size_t i = 0; i < sel->labels.n; i++) {
		const char *k = sel->labels.v[i].key, *q = key_quote(k);

		seg_strbuf_printf(&w->b, "%s%s%s%s: \"%s\"", i ? ", " : "", q, k, q,
				  sel->labels.v[i].value);
	}
	seg_strbuf_printf(&w->b, "}");
	if (sel->absent.n) {
		seg_strbuf_printf(&w->b, ", matchExpressions: [");
		for (size_t i = 0; i < sel->absent.n; i++)
			seg_strbuf_printf(&w->b, "%s{key: %s%s%s, operator: DoesNotExist}",
					  i ? ", " : "", key_quote(sel->absent.v[i].key),
					  sel->absent.v[i].key,
					  key_quote(sel->absent.v[i].key));
		seg_strbuf_printf(&w->b, "]");
	}
	seg_strbuf_printf(&w->b, "}");
}

static void peer_name(const struct rec_policy *p, const struct rec_rule *r, char *buf,
		      size_t len)
{
	char cidr[64];

	switch (r->kind) {
	case REC_WORKLOAD:
		snprintf(buf, len, "%s%s%s", strcmp(r->ns, p->ns) ? r->ns : "",
			 strcmp(r->ns, p->ns) ? " " : "", r->sel.text);
		return;
	case REC_HOST:
		snprintf(buf, len, "the node (host)");
		return;
	case REC_CIDR:
		seg_cidr_format(&r->cidr, cidr, sizeof(cidr));
		snprintf(buf, len, "%s%s%s%s", cidr, *r->names ? " (" : "", r->names,
			 *r->names ? ")" : "");
		return;
	case REC_WORLD:
		snprintf(buf, len, "the world (%zu clients in %zu networks)", r->n_addrs,
			 r->n_nets);
		return;
	}
}

static void seen_comment(struct out *w, const struct rec_rule *r, const char *indent)
{
	char first[32], last[32];

	when(r->first, first, sizeof(first));
	when(r->last, last, sizeof(last));
	seg_strbuf_printf(&w->b, "%s# learned from %" PRIu64 " flow%s, %" PRIu64
			  " bytes, first seen %s, last seen %s", indent, r->flows,
			  r->flows == 1 ? "" : "s", r->bytes, first, last);
	if (r->kind == REC_CIDR && r->cidr.plen != 128)
		seg_strbuf_printf(&w->b, "; %zu addresses seen in the prefix", r->n_addrs);
	seg_strbuf_printf(&w->b, "\n");
}

static void ports(struct out *w, const struct rec_rule *r, const char *indent)
{
	seg_strbuf_printf(&w->b, "%sports:\n", indent);
	for (size_t i = 0; i < r->n_ports; i++) {
		const struct rec_port *p = &r->ports[i];
		const char *name = proto_name(p->proto);

		if (!port_usable(w, p))
			continue;
		if (p->port)
			seg_strbuf_printf(&w->b, "%s  - {protocol: %s, port: %u}\n", indent,
					  name, p->port);
		else
			seg_strbuf_printf(&w->b, "%s  - {protocol: %s}\n", indent, name);
	}
}

/* What the kind cannot say about r, as a comment; true when nothing of
 * r is left to write. */
static bool skipped(struct out *w, const struct rec_policy *p, const struct rec_rule *r,
		    int dir)
{
	bool host = w->k8s && r->kind == REC_HOST;
	size_t usable = 0;
	char peer[1024];

	for (size_t i = 0; i < r->n_ports; i++)
		usable += port_usable(w, &r->ports[i]);
	if (!host && usable == r->n_ports)
		return false;
	peer_name(p, r, peer, sizeof(peer));
	seg_strbuf_printf(&w->b, "    # NOT ALLOWED, a %s cannot say it: %s %s (%s)\n",
			  w->k8s ? "NetworkPolicy" : "SegmentPolicy", dir ? "to" : "from",
			  peer, host ? "the node has no pod labels; use --kind "
			  "SegmentPolicy (entity: host)" : w->k8s ? "ICMP and other "
			  "protocols without ports; use --kind SegmentPolicy" :
			  "an IP protocol other than TCP, UDP, SCTP, ICMP, ICMPv6");
	w->sum->skipped++;
	return host || !usable;
}

static void peer(struct out *w, const struct rec_policy *p, const struct rec_rule *r)
{
	char cidr[64];

	switch (r->kind) {
	case REC_WORKLOAD:
		seg_strbuf_printf(&w->b, "        - %s: ", w->k8s ? "podSelector" : "selector");
		match_labels(w, &r->sel);
		seg_strbuf_printf(&w->b, "\n");
		if (strcmp(r->ns, p->ns))
			seg_strbuf_printf(&w->b, "          namespaceSelector: {matchLabels: "
					  "{%s: \"%s\"}}\n", NS_LABEL, r->ns);
		return;
	case REC_HOST:          /* NetworkPolicy: skipped() said why not */
		seg_strbuf_printf(&w->b, "        - entity: host\n");
		return;
	case REC_CIDR:
		seg_cidr_format(&r->cidr, cidr, sizeof(cidr));
		seg_strbuf_printf(&w->b, w->k8s ? "        - ipBlock: {cidr: \"%s\"}%s%s\n" :
				  "        - cidr: \"%s\"%s%s\n", cidr, *r->names ? "   # " : "",
				  r->names);
		return;
	case REC_WORLD:         /* seen from many networks: open, and said so */
		seg_strbuf_printf(&w->b, w->k8s ?
				  "        - ipBlock: {cidr: \"0.0.0.0/0\"}   # WORLD-OPEN: "
				  "clients from %zu networks were seen\n"
				  "        - ipBlock: {cidr: \"::/0\"}\n" :
				  "        - entity: world   # WORLD-OPEN: clients from %zu "
				  "networks were seen\n", r->n_nets);
		return;
	}
}

static void rules(struct out *w, const struct rec_policy *p, int dir)
{
	const char *key = dir ? "to" : "from";
	char name[1024];

	seg_strbuf_printf(&w->b, "  %s:\n", dir ? "egress" : "ingress");
	for (size_t i = 0; i < p->n_rules[dir]; i++) {
		const struct rec_rule *r = &p->rules[dir][i];

		if (skipped(w, p, r, dir))
			continue;
		seen_comment(w, r, "    ");
		w->sum->rules++;
		if (w->k8s) {
			seg_strbuf_printf(&w->b, "    - %s:\n", key);
		} else {
			peer_name(p, r, name, sizeof(name));
			/* a rule name is at most 128 characters, "from " included */
			size_t room = 128 - strlen(key) - 1;

			if (strlen(name) > room)
				memcpy(name + room - 3, "...", 4);
			seg_strbuf_printf(&w->b, "    - name: \"%s %s\"\n      %s:\n",
					  key, name, key);
		}
		peer(w, p, r);
		ports(w, r, "      ");
	}
}

static void head(struct out *w, const char *ns, const char *name)
{
	seg_strbuf_printf(&w->b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n"
			  "  namespace: %s\n  labels: {segd.io/recommended: \"true\"}\nspec:\n",
			  w->k8s ? "networking.k8s.io/v1" : "segd.io/v1",
			  w->k8s ? "NetworkPolicy" : "SegmentPolicy", name, ns);
}

static void default_deny(struct out *w, const struct rec_ns *n)
{
	seg_strbuf_printf(&w->b, "---\n# namespace %s: default deny both ways; only what "
			  "the policies above allow passes (promote it last)\n", n->name);
	if (n->endpoint_addrs)
		seg_strbuf_printf(&w->b, "# NOT ALLOWED: %zu edge%s to addresses that "
				  "endpoints hold now (learned before segd knew them; a "
				  "policy never names a pod by address); learn again\n",
				  n->endpoint_addrs, n->endpoint_addrs == 1 ? "" : "s");
	if (n->unlabelled)
		seg_strbuf_printf(&w->b, "# NOT ALLOWED: %zu edge%s of workloads or peers "
				  "without labels (a policy selects by label, never by "
				  "address); label them and learn again\n", n->unlabelled,
				  n->unlabelled == 1 ? "" : "s");
	head(w, n->name, "learned-default-deny");
	if (w->k8s)
		seg_strbuf_printf(&w->b, "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n");
	else
		seg_strbuf_printf(&w->b, "  ingress: []\n  egress: []\n");
}

static void workload(struct out *w, const struct rec_policy *p)
{
	seg_strbuf_printf(&w->b, "---\n# workload %s in %s: rules for %zu ingress and %zu "
			  "egress peers, learned from %" PRIu64 " flow%s\n", p->subject.text,
			  p->ns, p->n_rules[0], p->n_rules[1], p->flows, p->flows == 1 ? "" : "s");
	head(w, p->ns, p->name);
	if (w->k8s) {
		seg_strbuf_printf(&w->b, "  podSelector: ");
		match_labels(w, &p->subject);
		seg_strbuf_printf(&w->b, "\n  policyTypes: [%s%s%s]\n",
				  p->n_rules[0] ? "Ingress" : "",
				  p->n_rules[0] && p->n_rules[1] ? ", " : "",
				  p->n_rules[1] ? "Egress" : "");
	} else {
		seg_strbuf_printf(&w->b, "  appliesTo:\n    selector: ");
		match_labels(w, &p->subject);
		seg_strbuf_printf(&w->b, "\n");
	}
	for (int dir = 0; dir < 2; dir++)
		if (p->n_rules[dir])
			rules(w, p, dir);
}

int rec_write_yaml(const struct rec_model *m, const struct seg_rec_opts *o,
		   char **text, size_t *len, struct seg_rec_summary *sum)
{
	struct out w = { .o = o, .sum = sum, .k8s = o->kind == SEG_REC_NETWORKPOLICY };
	char since[32];

	when(o->since, since, sizeof(since));
	sum->edges = m->n_edges;
	seg_strbuf_printf(&w.b, "# segd recommend: %s documents that allow the traffic "
			  "segd saw%s%s and nothing else.\n# %zu learned edge%s in %zu "
			  "namespace%s%s. Review, then: segctl apply --dry-run FILE;\n"
			  "# segctl apply --mode audit FILE; segctl audit-report; then segctl "
			  "apply FILE (all at once),\n# or segctl promote NAME with each "
			  "namespace's learned-default-deny last.\n",
			  w.k8s ? "NetworkPolicy" : "SegmentPolicy", o->since ? " since " : "",
			  o->since ? since : "", m->n_edges, m->n_edges == 1 ? "" : "s",
			  m->n_nss, m->n_nss == 1 ? "" : "s", o->since ?
			  " (their counts below are since they were first seen)" : "");
	/* the default deny last: promoted before the allows, it would drop
	 * what the still-staged allows do not open (audit allows never do) */
	for (size_t i = 0; i < m->n_nss; i++) {
		for (size_t j = 0; j < m->nss[i].n_pols; j++) {
			workload(&w, &m->nss[i].pols[j]);
			sum->workloads++;
		}
		default_deny(&w, &m->nss[i]);
		sum->skipped += m->nss[i].unlabelled + m->nss[i].endpoint_addrs;
	}
	return seg_strbuf_take(&w.b, text, len);
}
