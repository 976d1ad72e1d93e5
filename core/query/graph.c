/* graph.c - segment connectivity as Graphviz DOT, from the compiled policy
 * entries (what the kernel enforces) and the flows conntrack has seen.
 *
 * Every policy entry and every observed flow becomes a tuple keyed by
 * (opener, acceptor); the tuples are sorted once and each run of one key
 * is one edge, its port ranges merged. Pure: the text goes to a memory
 * stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "graph.h"
#include "flow_names.h"

#define MAX_LABEL_ITEMS 8
#define MAX_MEMBER_NAMES 4

enum tuple_kind { T_ALLOW = 0, T_DENY = 1, T_FLOW = 2 };

struct tuple {
	uint32_t o, a;          /* opener, acceptor; 0 = any peer */
	uint8_t kind;           /* enum tuple_kind */
	uint8_t side;           /* 1 << dir of the entry's local end */
	uint8_t proto;          /* 0 = every protocol */
	uint16_t lo, hi;        /* port range */
	uint64_t packets;       /* T_FLOW */
};

static int tuple_cmp(const void *pa, const void *pb)
{
	const struct tuple *a = pa, *b = pb;

	if (a->o != b->o)
		return a->o < b->o ? -1 : 1;
	if (a->a != b->a)
		return a->a < b->a ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind - b->kind;
	if (a->proto != b->proto)
		return a->proto - b->proto;
	return a->lo != b->lo ? (a->lo < b->lo ? -1 : 1) : (a->hi > b->hi) - (a->hi < b->hi);
}

/* Is id an endpoint identity of namespace ns ("ep:<ns>\n...")? */
static bool in_ns(const struct seg_compiled *c, uint32_t id, const char *ns)
{
	const struct seg_identity *i = seg_compiled_identity(c, id);
	size_t n = strlen(ns);

	return i && i->key && !strncmp(i->key, "ep:", 3) &&
	       !strncmp(i->key + 3, ns, n) && i->key[3 + n] == '\n';
}

bool seg_graph_flow_of(const struct seg_compiled *c, const struct segd_ct_key *k,
		       const struct segd_ct_value *v, struct seg_graph_flow *out)
{
	struct in6_addr local, remote;
	uint32_t lid, rid;

	memcpy(&local, &k->local, 16);
	memcpy(&remote, &k->remote, 16);
	lid = seg_compiled_identity_of(c, &local);
	rid = v->remote_id ? v->remote_id : seg_compiled_identity_of(c, &remote);
	if (v->origin_dir == SEGD_DIR_INGRESS && rid >= SEGD_ID_FIRST_ENDPOINT &&
	    rid <= SEGD_ID_LAST_ENDPOINT)
		return false; /* the opener, a local endpoint too, counts it */
	out->opener = v->origin_dir == SEGD_DIR_EGRESS ? lid : rid;
	out->acceptor = v->origin_dir == SEGD_DIR_EGRESS ? rid : lid;
	out->packets = v->packets[SEGD_CT_ORIG] + v->packets[SEGD_CT_REPLY];
	out->bytes = v->bytes[SEGD_CT_ORIG] + v->bytes[SEGD_CT_REPLY];
	return true;
}

/* ---- DOT text ----------------------------------------------------------------- */

/* s inside a DOT double-quoted string; '\n' becomes a line break */
static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
}

static void node_label(FILE *f, const struct seg_compiled *c, const struct seg_world *w,
		       const uint32_t *ep_ident, uint32_t id)
{
	const struct seg_identity *i = seg_compiled_identity(c, id);
	const char *key = i && i->key ? i->key : "";
	size_t shown = 0, members = 0;

	if (id == SEGD_ID_ANY) {
		fputs("\"any\" [shape=ellipse, style=dashed, label=\"any peer\"];\n", f);
		return;
	}
	fprintf(f, "\"id%u\" [", id);
	if (strncmp(key, "ep:", 3)) {
		fputs("shape=ellipse, label=\"", f);
		if (id == SEGD_ID_WORLD)
			fputs("world (IPv4)", f);
		else if (id == SEGD_ID_WORLD_V6)
			fputs("world (IPv6)", f);
		else if (id == SEGD_ID_HOST)
			fputs("host (this node)", f);
		else
			esc(f, !strncmp(key, "cidr:", 5) ? key + 5 : key);
		fprintf(f, "\\nidentity %u\"];\n", id);
		return;
	}
	fputs("shape=box, label=\"", f);
	esc(f, key + 3);   /* "<ns>\n<k>=<v>\n..." */
	for (size_t e = 0; e < w->n_endpoints; e++) {
		if (ep_ident[e] != id)
			continue;
		if (members++ < MAX_MEMBER_NAMES) {
			fputs(shown++ ? ", " : "(", f);
			esc(f, w->endpoints[e].name);
		}
	}
	if (members > MAX_MEMBER_NAMES)
		fprintf(f, ", +%zu", members - MAX_MEMBER_NAMES);
	fprintf(f, "%s\\nidentity %u", shown ? ")" : "", id);
	if (i->flags & (SEGD_EPF_ENFORCE_INGRESS | SEGD_EPF_ENFORCE_EGRESS))
		fprintf(f, ", enforced: %s%s%s", i->flags & SEGD_EPF_ENFORCE_INGRESS ? "in" : "",
			(i->flags & SEGD_EPF_ENFORCE_INGRESS) &&
			(i->flags & SEGD_EPF_ENFORCE_EGRESS) ? "+" : "",
			i->flags & SEGD_EPF_ENFORCE_EGRESS ? "out" : "");
	fputs("\"];\n", f);
}

/* The merged port ranges of tuples t[0..n) of one kind: "tcp/80",
 * "tcp/1000-1999", "udp", "icmp", "any"; at most MAX_LABEL_ITEMS. */
static void ranges(FILE *f, const struct tuple *t, size_t n, const char *prefix)
{
	size_t items = 0, more = 0;
	char pb[8];

	for (size_t i = 0; i < n;) {
		uint8_t proto = t[i].proto;
		uint32_t lo = t[i].lo, hi = t[i].hi;

		for (i++; i < n && t[i].proto == proto && t[i].lo <= hi + 1; i++)
			if (t[i].hi > hi)
				hi = t[i].hi;
		if (items >= MAX_LABEL_ITEMS) {
			more++;
			continue;
		}
		fputs(items++ ? ", " : prefix, f);
		if (!proto)
			fputs("any", f);
		else
			fputs(seg_proto_name(proto, pb, sizeof(pb)), f);
		if (proto && (lo != 0 || hi != 65535))
			fprintf(f, lo == hi ? "/%u" : "/%u-%u", lo, hi);
	}
	if (more)
		fprintf(f, ", +%zu more", more);
}

/* Is there an allow tuple (o, a) from `side`? t is sorted. */
static bool allows(const struct tuple *t, size_t n, uint32_t o, uint32_t a, uint8_t side)
{
	struct tuple key = { .o = o, .a = a };
	size_t lo = 0, hi = n;

	while (lo < hi) {   /* first tuple >= (o, a) */
		size_t mid = lo + (hi - lo) / 2;

		if (tuple_cmp(&t[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && t[lo].o == o && t[lo].a == a && t[lo].kind == T_ALLOW; lo++)
		if (t[lo].side & side)
			return true;
	return false;
}

static uint32_t eflags(const struct seg_compiled *c, uint32_t id)
{
	const struct seg_identity *i = id >= SEGD_ID_FIRST_ENDPOINT &&
				       id <= SEGD_ID_LAST_ENDPOINT ? seg_compiled_identity(c, id) : NULL;

	return i ? i->flags : 0;
}

/* One edge from the tuples of one (opener, acceptor). */
static void edge(FILE *f, const struct seg_compiled *c, const struct tuple *all,
		 size_t n_all, const struct tuple *t, size_t n)
{
	size_t n_allow = 0, n_deny = 0;
	uint64_t flows = 0, packets = 0;
	uint8_t sides = 0;
	int pen = 1;
	const char *why = NULL;

	for (size_t i = 0; i < n; i++) {
		n_allow += t[i].kind == T_ALLOW;
		n_deny += t[i].kind == T_DENY;
		if (t[i].kind == T_ALLOW)
			sides |= t[i].side;
		if (t[i].kind == T_FLOW) {
			flows++;
			packets += t[i].packets;
		}
	}
	/* the other end of a flow between endpoints must allow it too */
	if (n_allow && (eflags(c, t->o) & SEGD_EPF_ENFORCE_EGRESS) &&
	    !(sides & (1u << SEGD_DIR_EGRESS)) &&
	    !allows(all, n_all, t->o, SEGD_ID_ANY, 1u << SEGD_DIR_EGRESS))
		why = "source egress does not allow";
	if (n_allow && (eflags(c, t->a) & SEGD_EPF_ENFORCE_INGRESS) &&
	    !(sides & (1u << SEGD_DIR_INGRESS)) &&
	    !allows(all, n_all, SEGD_ID_ANY, t->a, 1u << SEGD_DIR_INGRESS))
		why = "destination ingress does not allow";
	for (uint64_t x = flows; x > 1 && pen < 6; x >>= 2)
		pen++;
	if (t->o)
		fprintf(f, "\"id%u\" -> ", t->o);
	else
		fputs("\"any\" -> ", f);
	if (t->a)
		fprintf(f, "\"id%u\" [label=\"", t->a);
	else
		fputs("\"any\" [label=\"", f);
	ranges(f, t, n_allow, "");
	ranges(f, t + n_allow, n_deny, n_allow ? "\\nexcept " : "deny ");
	if (why)
		fprintf(f, "\\n(%s)", why);
	if (flows)
		fprintf(f, "%s%llu flow%s, %llu packets", n_allow + n_deny ? "\\n" : "observed: ",
			(unsigned long long)flows, flows == 1 ? "" : "s",
			(unsigned long long)packets);
	fprintf(f, "\", penwidth=%d", pen);
	if (!n_allow && !n_deny)
		fputs(", style=dotted, color=gray40", f);
	else if (!n_allow)
		fputs(", style=dashed, color=red, fontcolor=red", f);
	else if (why)
		fputs(", style=dashed, color=orange", f);
	fputs("];\n", f);
}

/* ---- collecting ------------------------------------------------------------------ */

static struct tuple entry_tuple(const struct seg_policy_entry *e)
{
	const struct segd_policy_key *k = &e->key;
	struct tuple t = {
		.o = k->dir == SEGD_DIR_EGRESS ? k->local_id : k->remote_id,
		.a = k->dir == SEGD_DIR_EGRESS ? k->remote_id : k->local_id,
		.kind = e->value.verdict == SEGD_VERDICT_ALLOW ? T_ALLOW : T_DENY,
		.side = (uint8_t)(1u << (k->dir & 1)), .proto = k->proto,
		.lo = k->port, .hi = k->port,
	};

	if (k->port_kind == SEGD_PORT_BLOCK)
		t.hi = (uint16_t)(k->port | 0xff);
	else if (k->port_kind == SEGD_PORT_ANY) {
		t.lo = 0;
		t.hi = 65535;
	}
	return t;
}

static int add_node(uint32_t **ids, size_t *n, size_t *cap, uint32_t id)
{
	if (*n == *cap) {
		uint32_t *g = realloc(*ids, (*cap = *cap * 2 + 64) * sizeof(*g));

		if (!g)
			return -ENOMEM;
		*ids = g;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

int seg_graph_dot(const struct seg_compiled *c, const struct seg_world *w,
		  const struct seg_graph_flow *flows, size_t n_flows,
		  const char *ns, char **out, size_t *len)
{
	struct tuple *t = calloc(c->n_entries + n_flows + 1, sizeof(*t));
	uint32_t *ep_ident = calloc(w->n_endpoints + 1, sizeof(*ep_ident));
	uint32_t *nodes = NULL;
	size_t n = 0, n_nodes = 0, cap_nodes = 0;
	bool all = !ns || !*ns;
	FILE *f = NULL;
	int ret = -ENOMEM;

	*out = NULL;
	if (!t || !ep_ident || !(f = open_memstream(out, len)))
		goto out;
	for (size_t i = 0; i < c->n_entries; i++)
		t[n++] = entry_tuple(&c->entries[i]);
	for (size_t i = 0; i < n_flows; i++)
		t[n++] = (struct tuple){ .o = flows[i].opener, .a = flows[i].acceptor,
					 .kind = T_FLOW, .packets = flows[i].packets };
	qsort(t, n, sizeof(*t), tuple_cmp);
	for (size_t i = 0; i < w->n_endpoints; i++) {
		const struct seg_endpoint *e = &w->endpoints[i];

		ep_ident[i] = e->n_ips ? seg_compiled_identity_of(c, &e->ips[0]) : 0;
		if (ep_ident[i] && (all || in_ns(c, ep_ident[i], ns)) &&
		    add_node(&nodes, &n_nodes, &cap_nodes, ep_ident[i]))
			goto out;
	}
	fputs("digraph segd {\n  rankdir=LR;\n"
	      "  node [fontname=\"Helvetica\", fontsize=10];\n"
	      "  edge [fontname=\"Helvetica\", fontsize=9];\n", f);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && t[j].o == t[i].o && t[j].a == t[i].a)
			j++;
		if (all || in_ns(c, t[i].o, ns) || in_ns(c, t[i].a, ns)) {
			fputs("  ", f);
			edge(f, c, t, n, t + i, j - i);
			if (add_node(&nodes, &n_nodes, &cap_nodes, t[i].o) ||
			    add_node(&nodes, &n_nodes, &cap_nodes, t[i].a))
				goto out;
		}
		i = j;
	}
	qsort(nodes, n_nodes, sizeof(*nodes), u32_cmp);
	for (size_t i = 0; i < n_nodes; i++) {
		if (i && nodes[i] == nodes[i - 1])
			continue;
		fputs("  ", f);
		node_label(f, c, w, ep_ident, nodes[i]);
	}
	fputs("}\n", f);
	ret = 0;
out:
	if (f && fclose(f))
		ret = -ENOMEM;
	if (ret) {
		free(*out);
		*out = NULL;
	}
	free(t);
	free(ep_ident);
	free(nodes);
	return ret;
}
