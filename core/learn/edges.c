/* edges.c - the learned edges (edges.h): a dense array with an open
 * addressing index, and the strings the edges share, interned. */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "edges.h"
#include "model.h"
#include "strbuf.h"
#include "text_memo.h"

#define EDGES_FILE_HEADER "# segd learned edges v1"

struct strtab {
	char **v;               /* id - 1 -> string */
	size_t n, cap;
	uint32_t *index;        /* open addressing: id, 0 = empty */
	size_t index_cap;       /* power of two */
	size_t bytes;           /* string bytes */
};

struct seg_edges {
	struct seg_edge *v;
	size_t n, cap, max;
	uint32_t *index;        /* open addressing: position + 1, 0 = empty */
	size_t index_cap;       /* power of two, >= 2 n */
	struct strtab strings;
	uint64_t refused;
	uint64_t midflow;       /* TCP flows picked up without their SYN */
	uint64_t reply_first;   /* UDP/SCTP flows first seen as a reply */
	bool dirty;
	seg_edge_namer_fn namer;
	void *namer_ctx;
	int64_t novel_after;    /* seg_edges_set_novelty: 0 = off */
	seg_edge_novel_fn novel;
	void *novel_ctx;
	/* workloads' texts by labels, for the records of one names_epoch
	 * (flow_record.h): a pass names thousands of flows after a few */
	struct seg_text_memo workloads;
	uint64_t workloads_epoch;
};

/* labels that change with every rollout, pod or run: never identity */
static const char *const volatile_keys[] = {
	"pod-template-hash", "controller-revision-hash", "pod-template-generation",
	"controller-uid", "job-name", "statefulset.kubernetes.io/pod-name",
	"apps.kubernetes.io/pod-index", "batch.kubernetes.io/controller-uid",
	"batch.kubernetes.io/job-name", "batch.kubernetes.io/job-completion-index",
};

bool seg_identity_label_key(const char *key)
{
	for (size_t i = 0; i < sizeof(volatile_keys) / sizeof(volatile_keys[0]); i++)
		if (!strcmp(key, volatile_keys[i]))
			return false;
	/* set by container runtimes, not by the workload's owner */
	return strncmp(key, "io.kubernetes.", 14) != 0;
}

int seg_identity_labels(const struct seg_labels *l, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	if (len)
		*buf = '\0';
	for (size_t i = 0; l && i < l->n; i++) {
		if (!seg_identity_label_key(l->v[i].key))
			continue;
		n = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0,
			     "%s%s=%s", off ? "," : "", l->v[i].key, l->v[i].value);
		if (n < 0)
			return n;
		off += (size_t)n;
	}
	return (int)off;
}

void seg_edge_ns(const char *workload, char *buf, size_t len)
{
	const char *sp = strchr(workload, ' ');
	size_t n = sp ? (size_t)(sp - workload) : strlen(workload);

	snprintf(buf, len, "%.*s", (int)n, workload);
}

/* ---- hashing ------------------------------------------------------------ */

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;        /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

/* the part of an edge that identifies it */
#define EDGE_KEY_LEN offsetof(struct seg_edge, name)
_Static_assert(EDGE_KEY_LEN == 32, "edge key: 4+4+16+2+1+1+1+3 bytes, no holes");

static uint64_t edge_hash(const struct seg_edge *k)
{
	return hash_bytes(k, EDGE_KEY_LEN);
}

/* ---- strings ------------------------------------------------------------ */

static int strtab_grow_index(struct strtab *t)
{
	size_t cap = t->index_cap ? t->index_cap * 2 : 64;
	uint32_t *ix = calloc(cap, sizeof(*ix));

	if (!ix)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t h = hash_bytes(t->v[i], strlen(t->v[i])) & (cap - 1);

		while (ix[h])
			h = (h + 1) & (cap - 1);
		ix[h] = (uint32_t)(i + 1);
	}
	free(t->index);
	t->index = ix;
	t->index_cap = cap;
	return 0;
}

/* The id of s if interned, else 0. */
static uint32_t strtab_find(const struct strtab *t, const char *s)
{
	if (!t->index_cap)
		return 0;
	for (size_t h = hash_bytes(s, strlen(s)) & (t->index_cap - 1); t->index[h];
	     h = (h + 1) & (t->index_cap - 1))
		if (!strcmp(t->v[t->index[h] - 1], s))
			return t->index[h];
	return 0;
}

/* The id of s, interned on first sight. 0 on -ENOMEM. */
static uint32_t strtab_id(struct strtab *t, const char *s)
{
	size_t h, len = strlen(s);
	char *copy;

	if ((t->n + 1) * 2 > t->index_cap && strtab_grow_index(t))
		return 0;
	for (h = hash_bytes(s, len) & (t->index_cap - 1); t->index[h];
	     h = (h + 1) & (t->index_cap - 1))
		if (!strcmp(t->v[t->index[h] - 1], s))
			return t->index[h];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		char **v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return 0;
		t->v = v;
		t->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return 0;
	t->v[t->n++] = copy;
	t->bytes += len + 1;
	t->index[h] = (uint32_t)t->n;
	return (uint32_t)t->n;
}

static void strtab_free(struct strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->index);
	memset(t, 0, sizeof(*t));
}

/* ---- the store ------------------------------------------------------------ */

int seg_edges_new(size_t max_edges, struct seg_edges **out)
{
	struct seg_edges *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->max = max_edges ? max_edges : SEG_EDGES_DEFAULT_MAX;
	*out = e;
	return 0;
}

void seg_edges_free(struct seg_edges *e)
{
	if (!e)
		return;
	free(e->v);
	free(e->index);
	strtab_free(&e->strings);
	seg_text_memo_free(&e->workloads);
	free(e);
}

void seg_edges_set_namer(struct seg_edges *e, seg_edge_namer_fn fn, void *ctx)
{
	e->namer = fn;
	e->namer_ctx = ctx;
}

void seg_edges_set_novelty(struct seg_edges *e, int64_t after_s, seg_edge_novel_fn fn,
			   void *ctx)
{
	e->novel_after = fn ? after_s : 0;
	e->novel = fn;
	e->novel_ctx = ctx;
}

/* x, an outside egress edge just made: had its workload, learning for
 * novel_after seconds by now, never reached that address (nor the domain
 * name x got) before? One pass over the edges: new outside edges are rare
 * once a workload has been learned. */
static bool novel(const struct seg_edges *e, const struct seg_edge *x, int64_t now)
{
	int64_t since = 0;

	for (size_t i = 0; i < e->n; i++) {
		const struct seg_edge *y = &e->v[i];

		if (y == x || y->local != x->local)
			continue;
		if (y->first_seen && (!since || y->first_seen < since))
			since = y->first_seen;
		if (y->remote_kind == SEG_EDGE_OUTSIDE && y->dir == x->dir &&
		    (!memcmp(&y->addr, &x->addr, sizeof(x->addr)) ||
		     (x->name && y->name == x->name)))
			return false;
	}
	return since && now - since >= e->novel_after;
}

size_t seg_edges_count(const struct seg_edges *e) { return e->n; }
const struct seg_edge *seg_edges_at(const struct seg_edges *e, size_t i)
{
	return i < e->n ? &e->v[i] : NULL;
}
const char *seg_edges_string(const struct seg_edges *e, uint32_t id)
{
	return id && id <= e->strings.n ? e->strings.v[id - 1] : "";
}
uint64_t seg_edges_refused(const struct seg_edges *e) { return e->refused; }
uint64_t seg_edges_midflow(const struct seg_edges *e) { return e->midflow; }
uint64_t seg_edges_reply_first(const struct seg_edges *e) { return e->reply_first; }
bool seg_edges_dirty(const struct seg_edges *e) { return e->dirty; }

size_t seg_edges_memory(const struct seg_edges *e)
{
	return sizeof(*e) + e->cap * sizeof(*e->v) + e->index_cap * sizeof(*e->index) +
	       e->strings.cap * sizeof(char *) +
	       e->strings.index_cap * sizeof(uint32_t) + e->strings.bytes;
}

static int rebuild_index(struct seg_edges *e, size_t cap)
{
	uint32_t *ix = calloc(cap, sizeof(*ix));

	if (!ix)
		return -ENOMEM;
	for (size_t i = 0; i < e->n; i++) {
		size_t h = edge_hash(&e->v[i]) & (cap - 1);

		while (ix[h])
			h = (h + 1) & (cap - 1);
		ix[h] = (uint32_t)(i + 1);
	}
	free(e->index);
	e->index = ix;
	e->index_cap = cap;
	return 0;
}

/* The edge with k's key, made (counters zero) when new. *out NULL and
 * -ENOSPC when the store is full. */
static int edge_get(struct seg_edges *e, const struct seg_edge *k, struct seg_edge **out)
{
	size_t h;
	int ret;

	*out = NULL;
	if ((e->n + 1) * 2 > e->index_cap) {
		size_t cap = e->index_cap ? e->index_cap : 256;

		while ((e->n + 1) * 2 > cap)
			cap *= 2;
		if ((ret = rebuild_index(e, cap)))
			return ret;
	}
	for (h = edge_hash(k) & (e->index_cap - 1); e->index[h];
	     h = (h + 1) & (e->index_cap - 1)) {
		struct seg_edge *x = &e->v[e->index[h] - 1];

		if (!memcmp(x, k, EDGE_KEY_LEN)) {
			*out = x;
			return 0;
		}
	}
	if (e->n >= e->max) {
		e->refused++;
		return -ENOSPC;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		struct seg_edge *v;

		if (cap > e->max)
			cap = e->max;
		v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	*out = &e->v[e->n];
	memset(*out, 0, sizeof(**out));
	memcpy(*out, k, EDGE_KEY_LEN);
	e->index[h] = (uint32_t)++e->n;
	return 0;
}

/* "ns k=v,..." of a peer that is a workload into buf; 1 when it is not one
 * (no labels), 0, or -ENAMETOOLONG */
static int workload_text(const struct seg_flow_peer *p, char *buf, size_t len)
{
	size_t off;

	if (!p->labels || !p->ns)
		return 1;
	off = (size_t)snprintf(buf, len, "%s ", p->ns);
	if (off >= len ||
	    (size_t)seg_identity_labels(p->labels, buf + off, len - off) >= len - off)
		return -ENAMETOOLONG;
	return 0;
}

/* The same, made once per workload while the records share their names
 * epoch (within it, one labels pointer is one workload): the text, in the
 * memo or in buf, or NULL with *ret 1 or -ENAMETOOLONG. */
static const char *workload_of(struct seg_edges *e, const struct seg_flow_record *r,
			       const struct seg_flow_peer *p, char *buf, size_t len,
			       int *ret)
{
	uint64_t key = (uint64_t)(uintptr_t)p->labels;
	const char *s;

	if (r->names_epoch != e->workloads_epoch) {
		seg_text_memo_clear(&e->workloads);
		e->workloads_epoch = r->names_epoch;
	}
	if (r->names_epoch && p->labels && (s = seg_text_memo_get(&e->workloads, 1, key)))
		return *ret = 0, s;
	if ((*ret = workload_text(p, buf, len)))
		return NULL;
	/* out of memory: this record still has its text, in buf */
	s = r->names_epoch ? seg_text_memo_put(&e->workloads, 1, key, buf) : NULL;
	return s ? s : buf;
}

#define TEXT_MAX 2048

/* The key of r's edge; its strings (local, remote) in text, made in
 * scratch when not memoised. The ids are those of strings already held, 0
 * for one not held yet (the edge is new then: it is interned only once the
 * edge is accepted). 1 when r teaches nothing (its local side is no
 * workload), 0, or -ENAMETOOLONG. */
static int edge_key_of(struct seg_edges *e, const struct seg_flow_record *r,
		       struct seg_edge *k, const char *text[2],
		       char scratch[2][TEXT_MAX])
{
	bool egress = r->direction == SEGD_DIR_EGRESS;
	const struct seg_flow_peer *local = egress ? &r->source : &r->destination;
	const struct seg_flow_peer *remote = egress ? &r->destination : &r->source;
	const struct in6_addr *raddr = egress ? &r->dst : &r->src;
	int ret;

	memset(k, 0, sizeof(*k));
	text[0] = workload_of(e, r, local, scratch[0], TEXT_MAX, &ret);
	if (ret)
		return ret;
	k->local = strtab_find(&e->strings, text[0]);
	k->dir = r->direction;
	k->proto = r->proto;
	/* ports only where there are ports: ICMP's type is not kept */
	k->port = r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP ||
		  r->proto == IPPROTO_SCTP ? r->dport : 0;
	text[1] = workload_of(e, r, remote, scratch[1], TEXT_MAX, &ret);
	if (!ret) {
		k->remote_kind = SEG_EDGE_WORKLOAD;
		k->remote = strtab_find(&e->strings, text[1]);
	} else if (ret < 0) {
		return ret;
	} else if (!strcmp(remote->identity, "host")) {
		k->remote_kind = SEG_EDGE_HOST;
	} else {
		k->remote_kind = SEG_EDGE_OUTSIDE;
		k->addr = *raddr;
	}
	return 0;
}

/* Where clients' ports start: Linux's ip_local_port_range (32768-60999);
 * Windows and macOS use 49152-65535 */
#define EPHEMERAL_PORT_MIN 32768

/* What a record cannot teach: a drop; a TCP flow whose SYN segd never
 * saw (picked up mid-flow, when segd starts beside live connections or
 * after an idle expiry: who opened it is unknown, and the orientation
 * may be the server's); a UDP or SCTP flow whose first packet seen went
 * from a service port to a client's (ephemeral) port: the server's reply
 * of a flow picked up mid-way (segd attached beside a running stream, or
 * the server spoke first after an idle expiry), which oriented by that
 * packet would make the client's port an edge, the wrong way round;
 * a port-0 flow of a protocol with ports (a port rule of 0 would mean
 * every port). */
static bool teaches(struct seg_edges *e, const struct seg_flow_record *r)
{
	bool ported = r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP ||
		      r->proto == IPPROTO_SCTP;

	if (r->verdict == SEG_FLOW_DROPPED || (ported && !r->dport))
		return false;
	if (r->proto == IPPROTO_TCP && !(r->tcp_flags & 0x02)) {     /* SYN */
		e->midflow++;
		return false;
	}
	if ((r->proto == IPPROTO_UDP || r->proto == IPPROTO_SCTP) &&
	    r->sport < EPHEMERAL_PORT_MIN && r->dport >= EPHEMERAL_PORT_MIN) {
		e->reply_first++;
		return false;
	}
	return true;
}

int seg_edges_observe(struct seg_edges *e, const struct seg_flow_record *r)
{
	char scratch[2][TEXT_MAX];
	const char *text[2];
	struct seg_edge k, *x;
	char name[256];
	int64_t first = (int64_t)(r->start_ns / 1000000000ull);
	int64_t last = (int64_t)(r->end_ns / 1000000000ull);
	int ret;

	if (!teaches(e, r))
		return 0;
	ret = edge_key_of(e, r, &k, text, scratch);
	if (ret == -ENAMETOOLONG) {
		e->refused++;   /* labels beyond any real workload's */
		return ret;
	}
	if (ret)
		return 0;
	/* a string not held yet: a new edge; past the limit nothing is kept,
	 * its strings neither (memory stays bounded by max_edges) */
	if (!k.local || (k.remote_kind == SEG_EDGE_WORKLOAD && !k.remote)) {
		if (e->n >= e->max) {
			e->refused++;
			return -ENOSPC;
		}
		if ((!k.local && !(k.local = strtab_id(&e->strings, text[0]))) ||
		    (k.remote_kind == SEG_EDGE_WORKLOAD && !k.remote &&
		     !(k.remote = strtab_id(&e->strings, text[1]))))
			return -ENOMEM;
	}
	ret = edge_get(e, &k, &x);
	if (ret)
		return ret;
	/* named once, when new: the namer is asked per edge, not per record */
	if (!x->flows && !x->packets && k.remote_kind == SEG_EDGE_OUTSIDE && e->namer &&
	    e->namer(e->namer_ctx, &k.addr, name, sizeof(name)) &&
	    !(x->name = strtab_id(&e->strings, name)))
		return -ENOMEM;
	if (!x->flows && !x->packets && e->novel && k.remote_kind == SEG_EDGE_OUTSIDE &&
	    k.dir == SEGD_DIR_EGRESS && novel(e, x, first))
		e->novel(e->novel_ctx, r, x->name ? seg_edges_string(e, x->name) : NULL);
	/* a flow's first record carries all it has counted so far */
	if (r->packets == r->total_packets && r->reply_packets == r->total_reply_packets)
		x->flows++;
	x->packets += r->packets + r->reply_packets;
	x->bytes += r->bytes + r->reply_bytes;
	if (!x->first_seen || first < x->first_seen)
		x->first_seen = first;
	if (last > x->last_seen)
		x->last_seen = last;
	e->dirty = true;
	return 0;
}

void seg_edges_sink(void *ctx, const struct seg_flow_record *r)
{
	seg_edges_observe(ctx, r);
}

static bool in_ns(const struct seg_edges *e, uint32_t workload, const char *ns)
{
	const char *s = seg_edges_string(e, workload);
	size_t n = strlen(ns);

	return !strncmp(s, ns, n) && s[n] == ' ';
}

/* Keep only the strings the edges use (after a reset), renumbered. On
 * -ENOMEM nothing changes: unused strings only cost memory. */
static void compact_strings(struct seg_edges *e)
{
	struct strtab fresh = { 0 };
	uint32_t *map = calloc(e->strings.n + 1, sizeof(*map));

	if (!map)
		return;
	for (size_t i = 0; i < e->n; i++) {
		uint32_t *ids[3] = { &e->v[i].local, &e->v[i].remote, &e->v[i].name };

		for (int j = 0; j < 3; j++)
			if (*ids[j] && !map[*ids[j]] &&
			    !(map[*ids[j]] = strtab_id(&fresh, seg_edges_string(e, *ids[j])))) {
				strtab_free(&fresh);
				free(map);
				return;
			}
	}
	for (size_t i = 0; i < e->n; i++) {
		e->v[i].local = map[e->v[i].local];
		e->v[i].remote = map[e->v[i].remote];
		e->v[i].name = map[e->v[i].name];
	}
	strtab_free(&e->strings);
	e->strings = fresh;
	free(map);
}

size_t seg_edges_reset(struct seg_edges *e, const char *ns)
{
	size_t kept = 0, gone;

	for (size_t i = 0; i < e->n; i++)
		if (ns && !in_ns(e, e->v[i].local, ns))
			e->v[kept++] = e->v[i];
	gone = e->n - kept;
	e->n = kept;
	if (gone)
		compact_strings(e);
	if (gone) {
		e->dirty = true;
		/* the index only shrinks: rebuilding at the same size cannot fail
		 * for lack of room, and a failed calloc leaves a stale index, so
		 * drop it and let the next insert build it */
		if (rebuild_index(e, e->index_cap ? e->index_cap : 256)) {
			free(e->index);
			e->index = NULL;
			e->index_cap = 0;
		}
	}
	return gone;
}

/* ---- text ------------------------------------------------------------------ */

/* Strings first (only those an edge uses, numbered afresh), then edges. */
int seg_edges_save(struct seg_edges *e, char **text, size_t *len)
{
	struct seg_strbuf t = { 0 };
	uint32_t *renum = calloc(e->strings.n + 1, sizeof(*renum)), next = 0;
	char addr[INET6_ADDRSTRLEN];
	int ret;

	if (!renum)
		return -ENOMEM;
	seg_strbuf_printf(&t, "%s\n", EDGES_FILE_HEADER);
	for (size_t i = 0; i < e->n; i++) {
		uint32_t ids[2] = { e->v[i].local, e->v[i].remote | e->v[i].name };

		for (int j = 0; j < 2; j++)
			if (ids[j] && !renum[ids[j]]) {
				renum[ids[j]] = ++next;
				seg_strbuf_printf(&t, "s\t%u\t%s\n", next, seg_edges_string(e, ids[j]));
			}
	}
	for (size_t i = 0; i < e->n; i++) {
		const struct seg_edge *x = &e->v[i];

		seg_addr_format(&x->addr, addr, sizeof(addr));
		seg_strbuf_printf(&t, "e\t%u\t%u\t%u\t%u\t%s\t%u\t%u\t%" PRId64 "\t%" PRId64
		    "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n",
		    renum[x->local], x->dir, x->remote_kind,
		    renum[x->remote | x->name], addr, x->proto, x->port,
		    x->first_seen, x->last_seen, x->flows, x->packets, x->bytes);
	}
	free(renum);
	ret = seg_strbuf_take(&t, text, len);
	if (!ret)
		e->dirty = false;
	return ret;
}

struct load_ids {
	uint32_t *v;            /* file id -> store id */
	size_t n;               /* allocated */
	size_t last;            /* the last id read: ids come 1, 2, 3, ... */
};

static int load_string(struct seg_edges *e, struct load_ids *ids, char *line)
{
	char *tab = strchr(line, '\t');
	unsigned long id;
	char *end;

	if (!tab)
		return -EINVAL;
	*tab = '\0';
	id = strtoul(line, &end, 10);
	if (*end || id != ids->last + 1 || !tab[1] || strchr(tab + 1, '\t'))
		return -EINVAL;
	ids->last = id;
	if (id >= ids->n) {
		size_t n = id + 1 > ids->n * 2 ? id + 1 : ids->n * 2;
		uint32_t *v = realloc(ids->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		memset(v + ids->n, 0, (n - ids->n) * sizeof(*v));
		ids->v = v;
		ids->n = n;
	}
	ids->v[id] = strtab_id(&e->strings, tab + 1);
	return ids->v[id] ? 0 : -ENOMEM;
}

/* What the file says must be what segd itself would have written: a
 * namespace (DNS label) and labels, or a domain name. */
static bool workload_valid(const char *s)
{
	const char *sp = strchr(s, ' ');
	struct seg_labels l = { 0 };
	char ns[64];
	bool ok = sp && sp - s < (ptrdiff_t)sizeof(ns);

	if (ok) {
		snprintf(ns, sizeof(ns), "%.*s", (int)(sp - s), s);
		ok = !seg_dns_name_problem(ns, true);
	}
	if (ok && sp[1])
		ok = !seg_labels_parse(sp + 1, &l, NULL);
	seg_labels_free(&l);
	return ok;
}

static bool name_valid(const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return n && n <= 253;
}

static int load_edge(struct seg_edges *e, const struct load_ids *ids, char *line)
{
	unsigned int local, dir, kind, remote, proto, port;
	int64_t first, last;
	uint64_t flows, packets, bytes;
	char addr[64], tail;
	struct seg_edge k = { 0 }, *x;
	int ret;

	if (sscanf(line, "%u\t%u\t%u\t%u\t%63[^\t]\t%u\t%u\t%" SCNd64 "\t%" SCNd64
		   "\t%" SCNu64 "\t%" SCNu64 "\t%" SCNu64 "%c", &local, &dir, &kind,
		   &remote, addr, &proto, &port, &first, &last, &flows, &packets, &bytes,
		   &tail) != 12)
		return -EINVAL;
	if (!local || local >= ids->n || !ids->v[local] || remote >= ids->n ||
	    (remote && !ids->v[remote]) || dir > SEGD_DIR_EGRESS ||
	    kind < SEG_EDGE_WORKLOAD || kind > SEG_EDGE_OUTSIDE || proto > 255 ||
	    port > 65535 || seg_addr_parse(addr, &k.addr) ||
	    !workload_valid(seg_edges_string(e, ids->v[local])) ||
	    (remote && !(kind == SEG_EDGE_WORKLOAD ? workload_valid : name_valid)
			 (seg_edges_string(e, ids->v[remote]))) ||
	    (kind == SEG_EDGE_HOST && remote) ||
	    /* only these have ports (ICMP's type is not kept) */
	    (port && proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_SCTP))
		return -EINVAL;
	k.local = ids->v[local];
	if (kind == SEG_EDGE_WORKLOAD)
		k.remote = remote ? ids->v[remote] : 0;
	k.dir = (uint8_t)dir;
	k.remote_kind = (uint8_t)kind;
	k.proto = (uint8_t)proto;
	k.port = (uint16_t)port;
	ret = edge_get(e, &k, &x);
	if (ret)
		return ret == -ENOSPC ? 0 : ret;   /* full: counted in refused */
	if (kind == SEG_EDGE_OUTSIDE && remote && !x->name)
		x->name = ids->v[remote];
	if (!x->first_seen || first < x->first_seen)
		x->first_seen = first;
	if (last > x->last_seen)
		x->last_seen = last;
	x->flows += flows;
	x->packets += packets;
	x->bytes += bytes;
	return 0;
}

int seg_edges_load(struct seg_edges *e, const char *text, size_t len,
		   struct seg_error *err)
{
	struct load_ids ids = { 0 };
	char *copy = malloc(len + 1), *line, *save = NULL;
	int ret = 0, lineno = 0;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (line = strtok_r(copy, "\n", &save); line && !ret;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1 && strcmp(line, EDGES_FILE_HEADER))
			ret = seg_errorf(err, NULL, 1, 1, -EINVAL, "not a learned-edges "
					 "file (first line is not '%s')", EDGES_FILE_HEADER);
		else if (lineno == 1 || *line == '#')
			continue;
		else if (!strncmp(line, "s\t", 2))
			ret = load_string(e, &ids, line + 2);
		else if (!strncmp(line, "e\t", 2))
			ret = load_edge(e, &ids, line + 2);
		else
			ret = -EINVAL;
		if (ret == -EINVAL && lineno > 1)
			seg_errorf(err, NULL, lineno, 1, ret, "malformed learned edge line");
	}
	free(ids.v);
	free(copy);
	return ret;
}
