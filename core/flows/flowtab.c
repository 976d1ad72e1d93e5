/* flowtab.c - conntrack entries and drop events become flow records
 * (flowtab.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "segd_abi.h"
#include "flow_names.h"
#include "flowtab.h"
#include "name_index.h"
#include "text_memo.h"

#define NS_PER_SEC 1000000000ull
#define MAX_SINKS 8
/* flows freed by a pass are kept for the next one's new flows, up to
 * this many beyond the live ones (a flood replaces the whole table) */
#define SPARE_SLACK 4096

/* What the memo names (text_memo.h): the pass's world names thousands of
 * records after the same endpoints, identities and rules. */
enum memo_kind { MEMO_ENDPOINT = 1, MEMO_IDENTITY, MEMO_RULE, MEMO_IFINDEX };

enum flow_kind { FLOW_CT = 0, FLOW_DROP = 1 };

/* Conntrack flows are keyed by their conntrack key; drop flows by the
 * same 5-tuple seen from the local endpoint, as their own kind (a denied
 * flow has no conntrack entry, and a revoked one is a new drop flow). */
struct flow_key {
	struct segd_ct_key ct;
	uint8_t kind;
	uint8_t pad[3];
};

struct flow {
	struct flow *next;          /* hash chain, or the spare list */
	uint64_t hash;              /* key_hash(&key) */
	struct flow_key key;
	uint64_t sent_packets[2];   /* what records have reported so far */
	uint64_t sent_bytes[2];
	uint64_t packets[2];        /* drop flows: summed from events */
	uint64_t bytes[2];
	uint64_t start_mono, last_mono;
	uint64_t last_event_mono;   /* drop flows: newest event */
	uint64_t pass;              /* last pass that saw it (conntrack) */
	uint32_t rule_id, remote_id, ifindex, endpoint_id;
	uint8_t origin_dir;         /* enum segd_dir of the first packet */
	uint8_t reason;             /* drop flows */
	uint8_t tcp_flags;
	uint8_t audit;
	char *blocklist;            /* drop flows: the list that blocked it */
};

struct sink {
	seg_flow_sink_fn fn;
	void *ctx;
};

struct seg_flowtab {
	struct seg_view v;
	struct flow **buckets;
	size_t n_buckets, n;
	struct flow *spare;          /* freed flows, for reuse */
	size_t n_spare;
	struct seg_text_memo memo;   /* names made since the last change */
	uint64_t names_epoch;        /* counts the changes, from 1 */
	struct sink sinks[MAX_SINKS];
	size_t n_sinks;
	seg_flow_list_fn list_namer;
	void *list_namer_ctx;
	uint64_t pass, mono, real;   /* the current pass */
	uint64_t interval_ns;        /* between the last two passes */
	uint64_t idle_ns;            /* a drop flow's end; 0: interval_ns */
	bool incomplete;             /* this pass missed entries */
};

static uint64_t key_hash(const struct flow_key *k)
{
	/* 8 bytes a step, mixed like splitmix64: a pass hashes every flow */
	const unsigned char *p = (const unsigned char *)k;
	uint64_t h = 0x9e3779b97f4a7c15ull, w;
	size_t i = 0;

	for (; i + 8 <= sizeof(*k); i += 8) {
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	for (; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 0x94d049bb133111ebull;
	return h ^ (h >> 29);
}

static int grow(struct seg_flowtab *t)
{
	size_t nb = t->n_buckets ? t->n_buckets * 2 : 1024;
	struct flow **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct flow *f = t->buckets[i], *next; f; f = next) {
			size_t h = f->hash & (nb - 1);

			next = f->next;
			f->next = b[h];
			b[h] = f;
		}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = nb;
	return 0;
}

/* The flow with key k, whose key_hash is h, or NULL. */
static struct flow *find(struct seg_flowtab *t, const struct flow_key *k, uint64_t h)
{
	if (!t->n_buckets)
		return NULL;
	for (struct flow *f = t->buckets[h & (t->n_buckets - 1)]; f; f = f->next)
		if (f->hash == h && !memcmp(&f->key, k, sizeof(*k)))
			return f;
	return NULL;
}

static struct flow *insert(struct seg_flowtab *t, const struct flow_key *k, uint64_t h)
{
	struct flow *f = t->spare;

	if (t->n >= t->n_buckets && grow(t))
		return NULL;
	if (f) {
		t->spare = f->next;
		t->n_spare--;
		memset(f, 0, sizeof(*f));
	} else if (!(f = calloc(1, sizeof(*f)))) {
		return NULL;
	}
	f->key = *k;
	f->hash = h;
	f->next = t->buckets[h & (t->n_buckets - 1)];
	t->buckets[h & (t->n_buckets - 1)] = f;
	t->n++;
	return f;
}

static void unlink_free(struct seg_flowtab *t, struct flow *f)
{
	for (struct flow **pp = &t->buckets[f->hash & (t->n_buckets - 1)]; *pp;
	     pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			t->n--;
			free(f->blocklist);
			f->blocklist = NULL;
			f->next = t->spare;
			t->spare = f;
			t->n_spare++;
			return;
		}
}

/* Spares beyond what the next pass can use go back to the allocator. */
static void trim_spares(struct seg_flowtab *t)
{
	while (t->n_spare > t->n + SPARE_SLACK) {
		struct flow *f = t->spare;

		t->spare = f->next;
		t->n_spare--;
		free(f);
	}
}

int seg_flowtab_new(const struct seg_view *v, struct seg_flowtab **out)
{
	struct seg_flowtab *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->v = *v;
	seg_text_memo_init(&t->memo);
	t->names_epoch = 1;
	*out = t;
	return 0;
}

void seg_flowtab_free(struct seg_flowtab *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct flow *f = t->buckets[i], *next; f; f = next) {
			next = f->next;
			free(f->blocklist);
			free(f);
		}
	while (t->spare) {
		struct flow *f = t->spare;

		t->spare = f->next;
		free(f);
	}
	free(t->buckets);
	seg_text_memo_free(&t->memo);
	free(t);
}

void seg_flowtab_names_changed(struct seg_flowtab *t)
{
	seg_text_memo_clear(&t->memo);
	t->names_epoch++;
	if (t->v.index)
		seg_name_index_invalidate(t->v.index);
}

void seg_flowtab_set_list_namer(struct seg_flowtab *t, seg_flow_list_fn fn, void *ctx)
{
	t->list_namer = fn;
	t->list_namer_ctx = ctx;
}

int seg_flowtab_add_sink(struct seg_flowtab *t, seg_flow_sink_fn fn, void *ctx)
{
	if (t->n_sinks >= MAX_SINKS)
		return -E2BIG;
	t->sinks[t->n_sinks++] = (struct sink){ fn, ctx };
	return 0;
}

size_t seg_flowtab_size(const struct seg_flowtab *t)
{
	return t->n;
}

static uint64_t to_real(const struct seg_flowtab *t, uint64_t mono)
{
	return mono > t->mono ? t->real + (mono - t->mono) :
				t->real - (t->mono - mono);
}

/* The name of (kind, key): kept in the memo the first time it is made
 * (into buf) since the names last changed. NULL for an unknown rule. */
static const char *name_of(struct seg_flowtab *t, enum memo_kind kind, uint64_t key,
			   const struct seg_endpoint *ep, char *buf, size_t len)
{
	const char *s = seg_text_memo_get(&t->memo, kind, key);

	if (s)
		return s;
	switch (kind) {
	case MEMO_ENDPOINT:
		snprintf(buf, len, "%s/%s", ep->ns, ep->name);
		break;
	case MEMO_IDENTITY:
		seg_identity_name(&t->v, (uint32_t)key, buf, len);
		break;
	case MEMO_RULE:
		if (!seg_rule_name(t->v.compiled, (uint32_t)key, buf, len))
			return NULL;
		break;
	case MEMO_IFINDEX:
		snprintf(buf, len, "ifindex:%u", (unsigned)key);
		break;
	}
	/* out of memory: this record still has its name, in buf */
	s = seg_text_memo_put(&t->memo, kind, key, buf);
	return s ? s : buf;
}

static const char *endpoint_name(struct seg_flowtab *t, const struct seg_endpoint *ep,
				 char *buf, size_t len)
{
	return name_of(t, MEMO_ENDPOINT, (uint64_t)(uintptr_t)ep, ep, buf, len);
}

/* One side of the flow: the local endpoint, or what the address is. */
static void peer_of(struct seg_flowtab *t, const struct segd_addr *a,
		    uint32_t remote_id, struct seg_flow_peer *p, char *idbuf,
		    size_t len)
{
	const struct seg_endpoint *ep = seg_endpoint_by_addr(&t->v, a);

	memset(p, 0, sizeof(*p));
	if (ep) {
		p->ns = ep->ns;
		p->name = ep->name;
		p->labels = &ep->labels;
		p->identity = endpoint_name(t, ep, idbuf, len);
	} else {
		p->identity = name_of(t, MEMO_IDENTITY, remote_id, NULL, idbuf, len);
	}
}

/* Make the record for f with counters pk/by (since the flow started) and
 * hand it to fn; the deltas are since f's last record. */
static void make_record(struct seg_flowtab *t, struct flow *f, const uint64_t pk[2],
			const uint64_t by[2], bool final, seg_flow_sink_fn fn,
			void *ctx)
{
	const struct segd_ct_key *k = &f->key.ct;
	bool egress = f->origin_dir == SEGD_DIR_EGRESS;
	const struct segd_addr *src = egress ? &k->local : &k->remote;
	const struct segd_addr *dst = egress ? &k->remote : &k->local;
	const struct seg_endpoint *obs = seg_endpoint_by_addr(&t->v, &k->local);
	char srcid[300], dstid[300], observer[300], rule[300];
	struct seg_flow_record r = { 0 };
	const struct seg_rule_ref *ref;

	if (!obs)
		obs = f->endpoint_id ? seg_endpoint_by_id(&t->v, f->endpoint_id) :
				       seg_endpoint_by_ifindex(&t->v, f->ifindex);
	r.time_ns = t->real;
	r.names_epoch = t->names_epoch;
	r.start_ns = to_real(t, f->start_mono);
	r.end_ns = to_real(t, f->last_mono);
	r.final = final;
	r.verdict = f->key.kind == FLOW_DROP ? SEG_FLOW_DROPPED :
		    f->audit ? SEG_FLOW_AUDIT : SEG_FLOW_FORWARDED;
	r.proto = k->proto;
	r.direction = f->origin_dir;
	r.tcp_flags = f->tcp_flags;
	memcpy(&r.src, src, sizeof(r.src));
	memcpy(&r.dst, dst, sizeof(r.dst));
	r.sport = egress ? k->lport : k->rport;
	r.dport = egress ? k->rport : k->lport;
	if (f->key.kind == FLOW_CT && (k->proto == IPPROTO_ICMP ||
				       k->proto == IPPROTO_ICMPV6)) {
		/* the conntrack key holds the echo id: an echo request */
		r.sport = 0;
		r.dport = (k->proto == IPPROTO_ICMP ? 8 : 128) << 8;
	}
	r.packets = pk[SEGD_CT_ORIG] - f->sent_packets[SEGD_CT_ORIG];
	r.bytes = by[SEGD_CT_ORIG] - f->sent_bytes[SEGD_CT_ORIG];
	r.reply_packets = pk[SEGD_CT_REPLY] - f->sent_packets[SEGD_CT_REPLY];
	r.reply_bytes = by[SEGD_CT_REPLY] - f->sent_bytes[SEGD_CT_REPLY];
	r.total_packets = pk[SEGD_CT_ORIG];
	r.total_bytes = by[SEGD_CT_ORIG];
	r.total_reply_packets = pk[SEGD_CT_REPLY];
	r.total_reply_bytes = by[SEGD_CT_REPLY];
	peer_of(t, src, f->remote_id, &r.source, srcid, sizeof(srcid));
	peer_of(t, dst, f->remote_id, &r.destination, dstid, sizeof(dstid));
	r.observer = obs ? endpoint_name(t, obs, observer, sizeof(observer)) :
		     name_of(t, MEMO_IFINDEX, f->ifindex, NULL, observer, sizeof(observer));
	r.ifindex = obs && obs->ifindex ? obs->ifindex : f->ifindex;
	r.rule_id = f->rule_id;
	r.policy = f->rule_id ? name_of(t, MEMO_RULE, f->rule_id, NULL, rule, sizeof(rule)) :
		   NULL;
	ref = seg_rule_ref_of(t->v.compiled, f->rule_id);
	r.rule_name = ref && ref->rule_name && *ref->rule_name ? ref->rule_name : NULL;
	r.blocklist = f->blocklist;
	if (f->key.kind == FLOW_DROP)
		r.drop_reason = segd_reason_name(f->reason);
	else if (f->audit)
		r.drop_reason = segd_reason_name(SEGD_REASON_POLICY_AUDIT);
	fn(ctx, &r);
}

static void to_sinks(void *ctx, const struct seg_flow_record *r)
{
	struct seg_flowtab *t = ctx;

	for (size_t i = 0; i < t->n_sinks; i++)
		t->sinks[i].fn(t->sinks[i].ctx, r);
}

/* The record of f's deltas since its last one, to every sink. */
static void emit(struct seg_flowtab *t, struct flow *f, const uint64_t pk[2],
		 const uint64_t by[2], bool final)
{
	make_record(t, f, pk, by, final, to_sinks, t);
	memcpy(f->sent_packets, pk, sizeof(f->sent_packets));
	memcpy(f->sent_bytes, by, sizeof(f->sent_bytes));
}

void seg_flowtab_ct_record(struct seg_flowtab *t, const struct segd_ct_key *k,
			   const struct segd_ct_value *v, seg_flow_sink_fn fn, void *ctx)
{
	struct flow f = { .key = { .ct = *k, .kind = FLOW_CT } };
	uint64_t pk[2] = { v->packets[0], v->packets[1] };
	uint64_t by[2] = { v->bytes[0], v->bytes[1] };

	f.start_mono = v->created_ns;
	f.last_mono = v->last_seen_ns;
	f.origin_dir = v->origin_dir;
	f.rule_id = v->rule_id;
	f.remote_id = v->remote_id;
	f.tcp_flags = v->tcp_flags[0] | v->tcp_flags[1];
	f.audit = !!(v->flags & SEGD_CTF_AUDIT);
	make_record(t, &f, pk, by, false, fn, ctx);
}

void seg_flowtab_drops(struct seg_flowtab *t, seg_flow_sink_fn fn, void *ctx)
{
	seg_flowtab_names_changed(t);
	for (size_t i = 0; i < t->n_buckets; i++)
		for (struct flow *f = t->buckets[i]; f; f = f->next)
			if (f->key.kind == FLOW_DROP)
				make_record(t, f, f->packets, f->bytes, false, fn, ctx);
}

static bool moved(const struct flow *f, const uint64_t pk[2])
{
	return pk[0] != f->sent_packets[0] || pk[1] != f->sent_packets[1];
}

void seg_flowtab_pass_begin(struct seg_flowtab *t, uint64_t mono_ns, uint64_t real_ns)
{
	/* the world may have changed since the last pass */
	seg_flowtab_names_changed(t);
	t->interval_ns = t->mono && mono_ns > t->mono ? mono_ns - t->mono : 0;
	t->pass++;
	t->mono = mono_ns;
	t->real = real_ns;
	t->incomplete = false;
}

void seg_flowtab_set_idle(struct seg_flowtab *t, uint64_t idle_ns)
{
	t->idle_ns = idle_ns;
}

void seg_flowtab_pass_incomplete(struct seg_flowtab *t)
{
	t->incomplete = true;
}

/* One conntrack entry; end: it ends now, whatever its age (a flush). */
static int ct_entry(struct seg_flowtab *t, const struct segd_ct_key *k,
		    const struct segd_ct_value *v, bool end)
{
	struct flow_key key = { .ct = *k, .kind = FLOW_CT };
	uint64_t h = key_hash(&key);
	struct flow *f = find(t, &key, h);
	uint64_t life = (uint64_t)segd_ct_lifetime_s(k->proto, v->tcp_flags[0] |
						    v->tcp_flags[1]) * NS_PER_SEC;
	bool expired = end || (t->mono > v->last_seen_ns && t->mono - v->last_seen_ns > life);
	bool fresh = !f;

	if (f && v->created_ns != f->start_mono) {
		/* the datapath replaced the entry: the old flow ended unseen */
		emit(t, f, f->sent_packets, f->sent_bytes, true);
		unlink_free(t, f);
		f = NULL;
		fresh = true;
	}
	if (!f) {
		if (!(f = insert(t, &key, h)))
			return -ENOMEM;
		f->start_mono = v->created_ns;
		f->origin_dir = v->origin_dir;
	}
	f->pass = t->pass;
	f->last_mono = v->last_seen_ns;
	f->rule_id = v->rule_id;
	f->remote_id = v->remote_id;
	f->tcp_flags = v->tcp_flags[0] | v->tcp_flags[1];
	f->audit = !!(v->flags & SEGD_CTF_AUDIT);
	uint64_t pk[2] = { v->packets[0], v->packets[1] };
	uint64_t by[2] = { v->bytes[0], v->bytes[1] };

	if (fresh || moved(f, pk) || expired)
		emit(t, f, pk, by, expired);
	if (!expired)
		return 0;
	unlink_free(t, f);
	return 1;
}

int seg_flowtab_ct(struct seg_flowtab *t, const struct segd_ct_key *k,
		   const struct segd_ct_value *v)
{
	return ct_entry(t, k, v, false);
}

int seg_flowtab_ct_end(struct seg_flowtab *t, const struct segd_ct_key *k,
		       const struct segd_ct_value *v)
{
	return ct_entry(t, k, v, true);
}

int seg_flowtab_pass_end(struct seg_flowtab *t)
{
	/* idle: a drop flow without events for a whole interval */
	uint64_t idle = t->idle_ns ? t->idle_ns :
			t->interval_ns ? t->interval_ns : NS_PER_SEC;

	for (size_t i = 0; i < t->n_buckets; i++) {
		for (struct flow *f = t->buckets[i], *next; f; f = next) {
			next = f->next;
			if (f->key.kind == FLOW_CT) {
				/* unseen by a pass that missed entries: not gone */
				if (f->pass == t->pass || t->incomplete)
					continue;
				/* gone from conntrack: evicted, revoked, cut */
				emit(t, f, f->sent_packets, f->sent_bytes, true);
				unlink_free(t, f);
				continue;
			}
			if (moved(f, f->packets)) {
				emit(t, f, f->packets, f->bytes, false);
			} else if (t->mono - f->last_event_mono >= idle) {
				emit(t, f, f->packets, f->bytes, true);
				unlink_free(t, f);
			}
		}
	}
	trim_spares(t);
	return 0;
}

int seg_flowtab_event(struct seg_flowtab *t, const struct segd_event *e)
{
	bool egress = e->dir == SEGD_DIR_EGRESS;
	struct flow_key key = { .kind = FLOW_DROP };
	struct flow *f;
	uint64_t h;
	int idx;

	if (e->type != SEGD_EV_DROP)
		return 0;   /* audit flows are reported from conntrack */
	key.ct.local = egress ? e->saddr : e->daddr;
	key.ct.remote = egress ? e->daddr : e->saddr;
	key.ct.lport = egress ? e->sport : e->dport;
	key.ct.rport = egress ? e->dport : e->sport;
	key.ct.proto = e->proto;
	h = key_hash(&key);
	f = find(t, &key, h);
	if (!f) {
		if (!(f = insert(t, &key, h)))
			return -ENOMEM;
		f->start_mono = e->ts_ns;
		f->origin_dir = e->dir;
		f->reason = e->reason;
		f->rule_id = e->rule_id;
		f->remote_id = e->remote_id;
		f->ifindex = e->ifindex;
		f->endpoint_id = e->endpoint_id;
		if (e->reason == SEGD_REASON_BLOCKLISTED && t->list_namer) {
			char list[128];

			if (t->list_namer(t->list_namer_ctx, &key.ct.remote, list, sizeof(list)))
				f->blocklist = strdup(list);   /* NULL: unnamed */
		}
	}
	idx = e->dir == f->origin_dir ? SEGD_CT_ORIG : SEGD_CT_REPLY;
	f->packets[idx]++;
	f->bytes[idx] += e->bytes;
	f->tcp_flags |= e->tcp_flags;
	f->last_mono = e->ts_ns;
	f->last_event_mono = e->ts_ns;
	return 0;
}

bool seg_flow_filter_match(const struct seg_flow_filter *f,
			   const struct seg_flow_record *r)
{
	/* the observer is "ns/name" of the endpoint whose hook saw the flow */
	const char *slash = strchr(r->observer, '/');
	size_t nslen = slash ? (size_t)(slash - r->observer) : 0;

	if (f->verdict >= 0 && r->verdict != f->verdict)
		return false;
	if (f->endpoint[0] && (!slash || strcmp(slash + 1, f->endpoint)))
		return false;
	if (f->ns[0] && (!slash || strlen(f->ns) != nslen ||
			 strncmp(r->observer, f->ns, nslen)))
		return false;
	return true;
}
