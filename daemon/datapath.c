/* datapath.c - load/adopt the pinned BPF state, write compiled policy
 * atomically, attach programs, read counters. See datapath.h.
 *
 * Both BPF objects (tc, xdp) declare the same maps (bpf/maps.h). The tc
 * object is loaded first and creates (or, with a bpffs dir, adopts) them;
 * the xdp object reuses its fds, so there is exactly one set of maps.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "datapath.h"
#include "segd_tc.skel.h"
#include "segd_xdp.skel.h"

/* tc filter identity: a restarted segd replaces exactly these */
#define SEG_TC_HANDLE   0x5e9du
#define SEG_TC_PRIORITY 0x5e9du

enum { IN_POLICY, IN_EXACT, IN_LPM, IN_COUNT };

static const char *const outer_names[IN_COUNT] = {
	SEGD_MAP_POLICY, SEGD_MAP_IPC_EXACT, SEGD_MAP_IPC_LPM,
};

struct inner_tmpl {
	enum bpf_map_type type;
	uint32_t key_size, value_size, max_entries, flags;
};

/* n (key, value) records, sorted by key bytes, unique keys: exactly what
 * one inner map holds */
struct tbl {
	uint8_t *rec;
	size_t n, cap;          /* records, bytes allocated */
};

/* what user space knows about one policy slot's inner maps */
struct seg_slot {
	int state;                 /* SLOT_UNKNOWN / SLOT_KNOWN */
	uint32_t id[IN_COUNT];     /* inner map ids the content belongs to */
	struct tbl t[IN_COUNT];
};

struct seg_datapath {
	struct segd_tc_bpf *tc;
	struct segd_xdp_bpf *xdp;
	struct inner_tmpl tmpl[IN_COUNT];
	int ncpus;
	struct seg_slot slot[SEGD_POLICY_SLOTS];
	/* the buffers of the content an apply replaced, reused by the next
	 * one: touching 11 MB of fresh pages costs more than filling them */
	struct tbl spare[IN_COUNT];
	/* grace periods (see "applying compiled state") */
	int gp_outer, gp_inner;
	bool gp_init, gp_thread_ok, gp_stop, gp_pending, gp_busy;
	bool gp_done_valid;
	uint32_t gp_req_gen, gp_done_gen;
	pthread_t gp_tid;
	pthread_mutex_t gp_mu;
	pthread_cond_t gp_cv;
};

static int gp_init(struct seg_datapath *dp);
static void gp_request(struct seg_datapath *dp, uint32_t gen);
static void gp_fini(struct seg_datapath *dp);
static void slot_forget(struct seg_slot *s);
static void tbl_free(struct tbl *t);

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	(void)level;
	if (!getenv("SEGD_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int quiet_xdp_print(enum libxdp_print_level level, const char *fmt,
			   va_list ap)
{
	(void)level;
	if (!getenv("SEGD_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int mkdir_p(const char *dir)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return -EINVAL;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static void unpin_all(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		bpf_map__set_pin_path(m, NULL);
}

int seg_dp_open(const char *bpffs_dir, struct seg_datapath **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = bpffs_dir);
	struct seg_datapath *dp;
	struct bpf_map *m;
	int err;

	libbpf_set_print(quiet_print);
	libxdp_set_print(quiet_xdp_print);
	*out = NULL;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->gp_outer = dp->gp_inner = -1;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp->ncpus ? dp->ncpus : -EINVAL;
		goto fail;
	}
	if (bpffs_dir) {
		err = mkdir_p(bpffs_dir);
		if (err) {
			fprintf(stderr, "segd: mkdir %s: %s\n", bpffs_dir,
				strerror(-err));
			goto fail;
		}
	}

	dp->tc = segd_tc_bpf__open_opts(&oo);
	if (!dp->tc) {
		err = -errno;
		fprintf(stderr, "segd: open tc object: %s\n", strerror(-err));
		goto fail;
	}
	if (!bpffs_dir)
		unpin_all(dp->tc->obj);
	for (int i = 0; i < IN_COUNT; i++) {
		struct bpf_map *outer, *in;

		outer = bpf_object__find_map_by_name(dp->tc->obj,
						     outer_names[i]);
		in = outer ? bpf_map__inner_map(outer) : NULL;
		if (!in) {
			err = -ENOENT;
			fprintf(stderr, "segd: %s has no inner map template\n",
				outer_names[i]);
			goto fail;
		}
		dp->tmpl[i].type = bpf_map__type(in);
		dp->tmpl[i].key_size = bpf_map__key_size(in);
		dp->tmpl[i].value_size = bpf_map__value_size(in);
		dp->tmpl[i].max_entries = bpf_map__max_entries(in);
		dp->tmpl[i].flags = bpf_map__map_flags(in);
	}
	err = segd_tc_bpf__load(dp->tc);
	if (err) {
		fprintf(stderr, "segd: load tc object%s%s: %s (an incompatible "
			"pinned map must be removed by hand)\n",
			bpffs_dir ? " with maps pinned under " : "",
			bpffs_dir ? bpffs_dir : "", strerror(-err));
		goto fail;
	}

	dp->xdp = segd_xdp_bpf__open_opts(&oo);
	if (!dp->xdp) {
		err = -errno;
		fprintf(stderr, "segd: open xdp object: %s\n", strerror(-err));
		goto fail;
	}
	unpin_all(dp->xdp->obj);
	bpf_object__for_each_map(m, dp->xdp->obj) {
		struct bpf_map *src;

		src = bpf_object__find_map_by_name(dp->tc->obj,
						   bpf_map__name(m));
		if (!src) {
			err = -ENOENT;
			fprintf(stderr, "segd: xdp map %s missing in tc object\n",
				bpf_map__name(m));
			goto fail;
		}
		err = bpf_map__reuse_fd(m, bpf_map__fd(src));
		if (err) {
			fprintf(stderr, "segd: share map %s: %s\n",
				bpf_map__name(m), strerror(-err));
			goto fail;
		}
	}
	err = segd_xdp_bpf__load(dp->xdp);
	if (err) {
		fprintf(stderr, "segd: load xdp object: %s\n", strerror(-err));
		goto fail;
	}
	err = gp_init(dp);
	if (err) {
		fprintf(stderr, "segd: grace-period map: %s\n", strerror(-err));
		goto fail;
	}
	/* adopted state: both slots unknown; start the grace period the first
	 * apply needs before it may touch the inactive slot */
	gp_request(dp, seg_dp_generation(dp));
	*out = dp;
	return 0;
fail:
	seg_dp_close(dp);
	return err;
}

void seg_dp_close(struct seg_datapath *dp)
{
	if (!dp)
		return;
	gp_fini(dp);
	if (dp->gp_outer >= 0)
		close(dp->gp_outer);
	if (dp->gp_inner >= 0)
		close(dp->gp_inner);
	for (int i = 0; i < SEGD_POLICY_SLOTS; i++)
		slot_forget(&dp->slot[i]);
	for (int i = 0; i < IN_COUNT; i++)
		tbl_free(&dp->spare[i]);
	segd_xdp_bpf__destroy(dp->xdp);
	segd_tc_bpf__destroy(dp->tc);
	free(dp);
}

static int outer_fd(struct seg_datapath *dp, int which)
{
	return seg_dp_map_fd(dp, outer_names[which]);
}

static int read_gen(struct seg_datapath *dp, uint32_t *gen)
{
	struct segd_config cfg;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->tc->maps.segd_config), &zero,
				&cfg))
		return -errno;
	*gen = cfg.policy_gen;
	return 0;
}

uint32_t seg_dp_generation(struct seg_datapath *dp)
{
	uint32_t gen = 0;

	if (read_gen(dp, &gen))
		return 0;
	return gen;
}

/* ---- applying compiled state ------------------------------------------------
 *
 * The BPF side reads segd_config.policy_gen first and then the inner maps of
 * slot gen & 1 (bpf/policy.h), so an apply prepares the inactive slot
 * T = (gen + 1) & 1 completely and only then writes gen + 1.
 *
 * Slot T is the slot generation gen - 1 used. Packets that read gen - 1
 * before the last flip may still be running and reading T's maps, so
 * nothing in T is touched (in place or by swapping a fresh inner map in)
 * until an RCU grace period has passed since that flip: every tc/xdp
 * program is one RCU read-side section. That is also what lets the programs
 * look the policy and LPM maps up lazily (view_full), later than the
 * generation.
 *
 * Cost model (2-vCPU VM, 457k policy entries): a grace period is 10-20 ms;
 * an ARRAY_OF_MAPS update waits for one (maybe_wait_bpf_programs), so the
 * old way - three fresh inner maps, filled, three outer updates - cost
 * 3 grace periods plus filling every entry, for any change. Now:
 *
 *  1. The datapath keeps what each slot's inner maps hold (normalized:
 *     sorted by key, unique, hints included). A slot's content is only
 *     trusted while the outer map still points at the inner maps we
 *     recorded; after a restart both slots are unknown.
 *  2. For a known slot, the new content is diffed against it and the
 *     delta is written IN PLACE (delete batch, then update batch): a one-
 *     rule change is a few dozen entries and no outer-map update at all.
 *     An unchanged table costs one memcmp.
 *  3. The grace period after a flip runs in the background (a helper
 *     thread updates a private 1-slot ARRAY_OF_MAPS: the kernel guarantees
 *     that when a map-in-map update returns, every program that could have
 *     been running has finished), so the next apply normally finds it done
 *     and does not wait. An outer-map update done by this apply after the
 *     flip counts as a grace period too.
 *  4. A slot that is unknown, empty, or whose delta is bigger than a fresh
 *     build gets fresh inner maps, filled with batch updates and swapped in
 *     (the swap's own wait is then the grace period for what follows).
 *
 * A failure after T was touched marks T unknown (its next apply rebuilds
 * it); the generation is not bumped, so packets never see it. */

enum { SLOT_UNKNOWN = 0, SLOT_KNOWN = 1 };

/* fresh build when the delta exceeds the new size by this many entries:
 * in-place deletes + updates cost about as much per entry as a fill, and
 * a fresh map costs one extra outer update (a grace period) */
#define SEG_FRESH_SLACK 16384

static const size_t tbl_ks[IN_COUNT] = {
	sizeof(struct segd_policy_key), sizeof(struct segd_addr),
	sizeof(struct segd_lpm_key),
};
static const size_t tbl_vs[IN_COUNT] = {
	sizeof(struct segd_policy_value), sizeof(struct segd_ipcache_value),
	sizeof(struct segd_ipcache_value),
};

/* compiled entries are (key, value) records without padding: the content
 * of a table is copied as a whole */
_Static_assert(sizeof(struct seg_policy_entry) ==
	       sizeof(struct segd_policy_key) + sizeof(struct segd_policy_value),
	       "policy entry is key + value");
_Static_assert(offsetof(struct seg_policy_entry, value) ==
	       sizeof(struct segd_policy_key), "policy entry layout");
_Static_assert(sizeof(struct seg_ipc_exact_entry) ==
	       sizeof(struct segd_addr) + sizeof(struct segd_ipcache_value),
	       "exact entry is key + value");
_Static_assert(offsetof(struct seg_ipc_exact_entry, value) ==
	       sizeof(struct segd_addr), "exact entry layout");
_Static_assert(sizeof(struct seg_ipc_prefix_entry) ==
	       sizeof(struct segd_lpm_key) + sizeof(struct segd_ipcache_value),
	       "prefix entry is key + value");
_Static_assert(offsetof(struct seg_ipc_prefix_entry, value) ==
	       sizeof(struct segd_lpm_key), "prefix entry layout");

/* memcmp order of two keys, 8 bytes at a time (keys are 16 or 20 bytes) */
static inline __attribute__((always_inline))
int key_cmp(const uint8_t *a, const uint8_t *b, size_t ks)
{
	size_t i = 0;

	for (; i + 8 <= ks; i += 8) {
		uint64_t x, y;

		memcpy(&x, a + i, 8);
		memcpy(&y, b + i, 8);
		if (x != y) {
			x = __builtin_bswap64(x);
			y = __builtin_bswap64(y);
			return x < y ? -1 : 1;
		}
	}
	return ks > i ? memcmp(a + i, b + i, ks - i) : 0;
}

static void tbl_free(struct tbl *t)
{
	free(t->rec);
	t->rec = NULL;
	t->n = t->cap = 0;
}

/* room for bytes in t, from spare when it is big enough */
static int tbl_alloc(struct tbl *t, size_t bytes, struct tbl *spare)
{
	t->n = 0;
	if (spare && spare->rec && spare->cap >= bytes) {
		*t = *spare;
		memset(spare, 0, sizeof(*spare));
		t->n = 0;
		return 0;
	}
	t->rec = malloc(bytes ? bytes : 1);
	if (!t->rec)
		return -ENOMEM;
	t->cap = bytes;
	return 0;
}

struct sort_ctx {
	const uint8_t *base;
	size_t ks, rs;
};

static int cmp_rec_idx(const void *a, const void *b, void *arg)
{
	const struct sort_ctx *s = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = memcmp(s->base + x * s->rs, s->base + y * s->rs, s->ks);

	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* Called on each stretch of a table right after it was copied (still in
 * cache), in key order. */
typedef int (*tbl_visit_fn)(void *ctx, const uint8_t *rec, size_t n);

/* Copy n records into t: sorted by key bytes, one record per key (the last
 * one wins, as it would filling a map in order). The compiler already
 * emits sorted unique keys; then this is one pass, a chunk at a time so
 * the order check, the copy and visit() share the cache (the 457k-entry
 * table is 11 MB: memory bandwidth is what an apply costs here). */
static int tbl_from(struct tbl *t, const void *src, size_t n, size_t ks,
		    size_t vs, tbl_visit_fn visit, void *ctx, struct tbl *spare)
{
	const size_t rs = ks + vs, chunk = 2048;
	const uint8_t *s = src;
	size_t m = 0, done = 0;
	uint32_t *idx;
	int err;

	err = tbl_alloc(t, n * rs, spare);
	if (err)
		return err;
	while (done < n) {
		size_t end = n - done > chunk ? done + chunk : n;

		for (size_t i = done ? done : 1; i < end; i++)
			if (key_cmp(s + (i - 1) * rs, s + i * rs, ks) >= 0)
				goto unsorted;
		memcpy(t->rec + done * rs, s + done * rs, (end - done) * rs);
		if (visit) {
			err = visit(ctx, t->rec + done * rs, end - done);
			if (err)
				goto fail;
		}
		done = end;
	}
	t->n = n;
	return 0;

unsorted:
	/* hand-built states (tests): sort, keep the last of equal keys */
	if (n > UINT32_MAX) {
		err = -E2BIG;
		goto fail;
	}
	idx = malloc(n * sizeof(*idx));
	if (!idx) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	qsort_r(idx, n, sizeof(*idx), cmp_rec_idx,
		&(struct sort_ctx){ .base = s, .ks = ks, .rs = rs });
	for (size_t i = 0; i < n; i++) {
		/* equal keys are adjacent, in input order: keep the last */
		if (i + 1 < n && !memcmp(s + idx[i] * rs, s + idx[i + 1] * rs,
					 ks))
			continue;
		memcpy(t->rec + m * rs, s + idx[i] * rs, rs);
		m++;
	}
	free(idx);
	t->n = m;
	err = visit ? visit(ctx, t->rec, m) : 0;
	if (!err)
		return 0;
fail:
	tbl_free(t);
	return err;
}

/* ---- probe hints ------------------------------------------------------------
 * For each local identity: which probe kinds of the lookup chain have keys
 * (per direction and remote kind), and which protocol classes its
 * remote=ANY keys use. OR'd into the exact ipcache values so the datapath
 * skips probes that cannot hit (SEGD_EPF_PROBE, SEGD_EPF_ANYREM_PROTO).
 */
struct id_bits {
	uint32_t id, bits;
};

static int cmp_id_bits(const void *a, const void *b)
{
	const struct id_bits *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static uint32_t probe_bit(const struct segd_policy_key *k)
{
	uint32_t bits;
	int kind;

	if (k->dir > SEGD_DIR_EGRESS)
		return 0;
	switch (k->port_kind) {
	case SEGD_PORT_EXACT:
		kind = SEGD_PROBE_EXACT;
		break;
	case SEGD_PORT_BLOCK:
		kind = SEGD_PROBE_BLOCK;
		break;
	default:
		kind = k->proto ? SEGD_PROBE_PROTO : SEGD_PROBE_ALLPROTO;
		break;
	}
	bits = SEGD_EPF_PROBE(k->dir, k->remote_id == SEGD_ID_ANY, kind);
	if (k->remote_id == SEGD_ID_ANY && kind != SEGD_PROBE_ALLPROTO) {
		if (k->proto == IPPROTO_TCP)
			bits |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_TCP);
		else if (k->proto == IPPROTO_UDP)
			bits |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_UDP);
		else if (k->proto)
			bits |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_OTHER);
		else    /* a port key without a protocol: never skip */
			bits |= SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_TCP) |
				SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_UDP) |
				SEGD_EPF_ANYREM_PROTO(k->dir, SEGD_PCLASS_OTHER);
	}
	return bits;
}

/* Hints per local identity, accumulated while the policy table is copied
 * (sorted by key bytes, so the keys of one local identity - the first key
 * field - are adjacent), then sorted by id for bsearch. */
struct hint_acc {
	struct id_bits *t;
	size_t n, cap;
	uint64_t last;          /* signature of the last record seen */
};

/* also validates rule ids, while the record is in cache */
static int hints_visit(void *ctx, const uint8_t *rec, size_t n)
{
	const size_t rs = tbl_ks[IN_POLICY] + tbl_vs[IN_POLICY];
	struct hint_acc *h = ctx;

	for (size_t i = 0; i < n; i++) {
		const struct segd_policy_key *k = (const void *)(rec + i * rs);
		/* what probe_bit() looks at; neighbours mostly differ in
		 * the port or the remote only */
		uint64_t sig = (uint64_t)k->local_id << 32 |
			       (uint64_t)(k->remote_id == SEGD_ID_ANY) << 24 |
			       (uint64_t)k->proto << 16 | (uint64_t)k->dir << 8 |
			       k->port_kind;

		const struct segd_policy_value *v = (const void *)(k + 1);

		if (v->rule_id >= SEGD_MAX_RULES)
			return -EINVAL;   /* outside segd_rules */
		if (h->n && sig == h->last)
			continue;
		h->last = sig;
		if (h->n && h->t[h->n - 1].id == k->local_id) {
			h->t[h->n - 1].bits |= probe_bit(k);
			continue;
		}
		if (h->n == h->cap) {
			size_t cap = h->cap ? 2 * h->cap : 256;
			struct id_bits *t = realloc(h->t, cap * sizeof(*t));

			if (!t)
				return -ENOMEM;
			h->t = t;
			h->cap = cap;
		}
		h->t[h->n].id = k->local_id;
		h->t[h->n].bits = probe_bit(k);
		h->n++;
	}
	return 0;
}

static uint32_t hints_of(const struct id_bits *t, size_t n, uint32_t id)
{
	const uint32_t valid = SEGD_EPF_PROBES_VALID |
			       SEGD_EPF_ANYREM_PROTO_VALID;
	struct id_bits key = { .id = id }, *hit;

	if (!n)
		return valid;
	hit = bsearch(&key, t, n, sizeof(*t), cmp_id_bits);
	return valid | (hit ? hit->bits : 0);
}

/* The three tables exactly as the inner maps must hold them. */
static int normalize(struct seg_datapath *dp, const struct seg_compiled *c,
		     struct tbl out[IN_COUNT])
{
	const size_t ers = tbl_ks[IN_EXACT] + tbl_vs[IN_EXACT];
	struct hint_acc h = { 0 };
	int err;

	memset(out, 0, IN_COUNT * sizeof(*out));
	if (c->n_entries > dp->tmpl[IN_POLICY].max_entries ||
	    c->n_exact > dp->tmpl[IN_EXACT].max_entries ||
	    c->n_prefixes > dp->tmpl[IN_LPM].max_entries)
		return -E2BIG;
	for (size_t i = 0; i < c->n_prefixes; i++)
		if (c->prefixes[i].key.prefixlen > 128)
			return -EINVAL;
	err = tbl_from(&out[IN_POLICY], c->entries, c->n_entries,
		       tbl_ks[IN_POLICY], tbl_vs[IN_POLICY], hints_visit, &h,
		       &dp->spare[IN_POLICY]);
	err = err ? err : tbl_from(&out[IN_EXACT], c->exact, c->n_exact,
				   tbl_ks[IN_EXACT], tbl_vs[IN_EXACT], NULL,
				   NULL, &dp->spare[IN_EXACT]);
	err = err ? err : tbl_from(&out[IN_LPM], c->prefixes, c->n_prefixes,
				   tbl_ks[IN_LPM], tbl_vs[IN_LPM], NULL, NULL,
				   &dp->spare[IN_LPM]);
	if (err)
		goto fail;
	if (h.n)
		qsort(h.t, h.n, sizeof(*h.t), cmp_id_bits);
	for (size_t i = 0; i < out[IN_EXACT].n; i++) {
		struct segd_ipcache_value *iv = (void *)(out[IN_EXACT].rec +
			i * ers + tbl_ks[IN_EXACT]);

		iv->flags |= hints_of(h.t, h.n, iv->identity);
	}
	free(h.t);
	return 0;
fail:
	free(h.t);
	for (int i = 0; i < IN_COUNT; i++)
		tbl_free(&out[i]);
	return err;
}

/* ---- delta ------------------------------------------------------------------- */

struct delta {
	uint8_t *del;          /* keys to delete */
	size_t n_del;
	uint8_t *up_k, *up_v;  /* keys and values to add or change */
	size_t n_up;
};

static void delta_free(struct delta *d)
{
	free(d->del);
	free(d->up_k);
	free(d->up_v);
	memset(d, 0, sizeof(*d));
}

/* Merge two normalized tables. Long equal runs (the common case: a small
 * change in a big table) are skipped a chunk at a time with memcmp. */
static int tbl_diff(const struct tbl *o, const struct tbl *n, size_t ks,
		    size_t vs, struct delta *d)
{
	const size_t rs = ks + vs, chunk = 256;
	size_t i = 0, j = 0;

	memset(d, 0, sizeof(*d));
	if (o->n == n->n && (!n->n || !memcmp(o->rec, n->rec, n->n * rs)))
		return 0;
	d->del = malloc(o->n ? o->n * ks : 1);
	d->up_k = malloc(n->n ? n->n * ks : 1);
	d->up_v = malloc(n->n ? n->n * vs : 1);
	if (!d->del || !d->up_k || !d->up_v) {
		delta_free(d);
		return -ENOMEM;
	}
	while (i < o->n || j < n->n) {
		size_t run = o->n - i < n->n - j ? o->n - i : n->n - j;

		if (run > chunk)
			run = chunk;
		if (run && !memcmp(o->rec + i * rs, n->rec + j * rs,
				   run * rs)) {
			i += run;
			j += run;
			continue;
		}
		/* step record by record through (at least) one chunk */
		for (size_t s = 0; s < chunk && (i < o->n || j < n->n); s++) {
			const uint8_t *a = i < o->n ? o->rec + i * rs : NULL;
			const uint8_t *b = j < n->n ? n->rec + j * rs : NULL;
			int c = !a ? 1 : !b ? -1 : key_cmp(a, b, ks);

			if (c < 0) {            /* only in the old table */
				memcpy(d->del + d->n_del++ * ks, a, ks);
				i++;
			} else if (c > 0) {     /* only in the new table */
				memcpy(d->up_k + d->n_up * ks, b, ks);
				memcpy(d->up_v + d->n_up++ * vs, b + ks, vs);
				j++;
			} else {
				if (memcmp(a + ks, b + ks, vs)) {
					memcpy(d->up_k + d->n_up * ks, b, ks);
					memcpy(d->up_v + d->n_up++ * vs,
					       b + ks, vs);
				}
				i++;
				j++;
			}
		}
	}
	return 0;
}

static bool batch_unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUP ||
	       err == -524 /* ENOTSUPP */;
}

/* One batch syscall where the map type supports it (hash), element by
 * element otherwise (LPM trie). */
static int map_update_n(int fd, const void *keys, size_t ks, const void *vals,
			size_t vs, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
	uint32_t count = (uint32_t)n;
	size_t i = 0;
	int err;

	if (n == 0)
		return 0;
	err = bpf_map_update_batch(fd, keys, vals, &count, &bo);
	if (!err)
		return 0;
	if (!batch_unsupported(err))
		return err;
	if (count < n && err != -EINVAL)
		i = count;
	for (; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * ks,
					(const char *)vals + i * vs, BPF_ANY))
			return -errno;
	}
	return 0;
}

static int map_delete_n(int fd, const void *keys, size_t ks, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	uint32_t count = (uint32_t)n;
	size_t i = 0;
	int err;

	if (n == 0)
		return 0;
	err = bpf_map_delete_batch(fd, keys, &count, &bo);
	if (!err)
		return 0;
	if (!batch_unsupported(err))
		return err;
	if (count < n && err != -EINVAL)
		i = count;
	for (; i < n; i++) {
		if (bpf_map_delete_elem(fd, (const char *)keys + i * ks))
			return -errno;
	}
	return 0;
}

static const char *const inner_names[IN_COUNT] = {
	"segd_pol_in", "segd_exact_in", "segd_lpm_in",
};

/* A fresh inner map holding t. */
static int build_inner(struct seg_datapath *dp, int which, const struct tbl *t,
		       int *fd_out)
{
	const struct inner_tmpl *tm = &dp->tmpl[which];
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = tm->flags);
	size_t ks = tbl_ks[which], vs = tbl_vs[which], rs = ks + vs;
	uint8_t *keys, *vals;
	int fd, err;

	fd = bpf_map_create(tm->type, inner_names[which], tm->key_size,
			    tm->value_size, tm->max_entries, &mo);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "segd: create %s: %s\n", inner_names[which],
			strerror(-err));
		return err;
	}
	keys = malloc(t->n ? t->n * ks : 1);
	vals = malloc(t->n ? t->n * vs : 1);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < t->n; i++) {
		memcpy(keys + i * ks, t->rec + i * rs, ks);
		memcpy(vals + i * vs, t->rec + i * rs + ks, vs);
	}
	err = map_update_n(fd, keys, ks, vals, vs, t->n);
	if (err)
		fprintf(stderr, "segd: fill %s (%zu entries): %s\n",
			inner_names[which], t->n, strerror(-err));
out:
	free(keys);
	free(vals);
	if (err) {
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

static uint32_t map_id_of(int fd)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* ---- grace periods -------------------------------------------------------- */

/* One RCU grace period: update a private 1-slot ARRAY_OF_MAPS. When a
 * map-in-map update returns, the kernel has waited for every program that
 * could have been running (maybe_wait_bpf_programs -> synchronize_rcu), and
 * tc/xdp programs are non-sleepable RCU readers. Unlike
 * membarrier(MEMBARRIER_CMD_GLOBAL) this has no nohz_full or single-CPU
 * special cases. */
static int grace_period(struct seg_datapath *dp)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(dp->gp_outer, &zero, &dp->gp_inner, BPF_ANY))
		return -errno;
	return 0;
}

static void *gp_thread(void *arg)
{
	struct seg_datapath *dp = arg;

	pthread_mutex_lock(&dp->gp_mu);
	for (;;) {
		uint32_t gen;
		int err;

		while (!dp->gp_stop && !dp->gp_pending)
			pthread_cond_wait(&dp->gp_cv, &dp->gp_mu);
		if (dp->gp_stop)
			break;
		gen = dp->gp_req_gen;
		dp->gp_busy = true;
		dp->gp_pending = false;
		pthread_mutex_unlock(&dp->gp_mu);
		err = grace_period(dp);
		pthread_mutex_lock(&dp->gp_mu);
		dp->gp_busy = false;
		if (!err) {
			dp->gp_done_gen = gen;
			dp->gp_done_valid = true;
		}
		pthread_cond_broadcast(&dp->gp_cv);
	}
	pthread_mutex_unlock(&dp->gp_mu);
	return NULL;
}

static int gp_init(struct seg_datapath *dp)
{
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "segd_gp_in", 4, 4, 1, NULL);
	if (fd < 0)
		return -errno;
	dp->gp_inner = fd;
	LIBBPF_OPTS(bpf_map_create_opts, mo, .inner_map_fd = fd);
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "segd_gp", 4, 4, 1,
			    &mo);
	if (fd < 0)
		return -errno;
	dp->gp_outer = fd;
	pthread_mutex_init(&dp->gp_mu, NULL);
	pthread_cond_init(&dp->gp_cv, NULL);
	dp->gp_init = true;
	return 0;
}

/* Ask for a grace period after generation gen became current, in the
 * background. Without a helper thread the next apply waits instead. */
static void gp_request(struct seg_datapath *dp, uint32_t gen)
{
	if (!dp->gp_init)
		return;
	pthread_mutex_lock(&dp->gp_mu);
	if (!dp->gp_thread_ok) {
		sigset_t all, old;

		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		dp->gp_thread_ok = !pthread_create(&dp->gp_tid, NULL,
						   gp_thread, dp);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	if (dp->gp_thread_ok) {
		dp->gp_req_gen = gen;
		dp->gp_pending = true;
		pthread_cond_broadcast(&dp->gp_cv);
	}
	pthread_mutex_unlock(&dp->gp_mu);
}

static void gp_mark(struct seg_datapath *dp, uint32_t gen)
{
	pthread_mutex_lock(&dp->gp_mu);
	dp->gp_done_gen = gen;
	dp->gp_done_valid = true;
	pthread_mutex_unlock(&dp->gp_mu);
}

/* Make sure a grace period has passed since generation gen became current,
 * i.e. no packet still reads the slot of gen - 1. */
static int gp_wait(struct seg_datapath *dp, uint32_t gen)
{
	bool need_own = true;

	if (!dp->gp_init)
		return -EINVAL;
	pthread_mutex_lock(&dp->gp_mu);
	for (;;) {
		if (dp->gp_done_valid && dp->gp_done_gen == gen) {
			need_own = false;
			break;
		}
		/* the helper is (about to be) working on exactly this one */
		if (!dp->gp_thread_ok || dp->gp_req_gen != gen ||
		    (!dp->gp_pending && !dp->gp_busy))
			break;
		pthread_cond_wait(&dp->gp_cv, &dp->gp_mu);
	}
	pthread_mutex_unlock(&dp->gp_mu);
	if (need_own) {
		int err = grace_period(dp);

		if (err)
			return err;
		gp_mark(dp, gen);
	}
	return 0;
}

static void gp_fini(struct seg_datapath *dp)
{
	if (!dp->gp_init)
		return;
	if (dp->gp_thread_ok) {
		pthread_mutex_lock(&dp->gp_mu);
		dp->gp_stop = true;
		pthread_cond_broadcast(&dp->gp_cv);
		pthread_mutex_unlock(&dp->gp_mu);
		pthread_join(dp->gp_tid, NULL);
	}
	pthread_cond_destroy(&dp->gp_cv);
	pthread_mutex_destroy(&dp->gp_mu);
}

/* ---- seg_dp_apply ------------------------------------------------------------ */

static void slot_forget(struct seg_slot *s)
{
	s->state = SLOT_UNKNOWN;
	for (int i = 0; i < IN_COUNT; i++) {
		tbl_free(&s->t[i]);
		s->id[i] = 0;
	}
}

int seg_dp_apply(struct seg_datapath *dp, const struct seg_compiled *c)
{
	int fds[IN_COUNT] = { -1, -1, -1 }, edit[IN_COUNT] = { -1, -1, -1 };
	struct delta d[IN_COUNT] = { 0 };
	struct tbl nt[IN_COUNT] = { 0 };
	struct segd_config cfg = { 0 };
	uint32_t gen = 0, slot, zero = 0, cur_id[IN_COUNT];
	bool touched = false, changes = false, gp_done = false;
	struct seg_slot *s;
	int err;

	if (!dp || !c)
		return -EINVAL;
	err = read_gen(dp, &gen);
	if (err)
		return err;
	slot = (gen + 1) & 1;   /* the slot no packet of gen is reading */
	s = &dp->slot[slot];
	err = normalize(dp, c, nt);
	if (err)
		return err;

	/* plan: per table, in place (known content) or a fresh map */
	for (int i = 0; i < IN_COUNT; i++) {
		bool fresh = true;

		if (bpf_map_lookup_elem(outer_fd(dp, i), &slot, &cur_id[i]))
			cur_id[i] = 0;
		if (s->state == SLOT_KNOWN && cur_id[i] && cur_id[i] == s->id[i]) {
			err = tbl_diff(&s->t[i], &nt[i], tbl_ks[i], tbl_vs[i],
				       &d[i]);
			if (err)
				goto out;
			fresh = d[i].n_del + d[i].n_up >
				nt[i].n + SEG_FRESH_SLACK;
			if (fresh)
				delta_free(&d[i]);
		}
		if (fresh) {
			/* fill it now: nobody sees it until the swap */
			err = build_inner(dp, i, &nt[i], &fds[i]);
			if (err)
				goto out;
			changes = true;
		} else if (d[i].n_del || d[i].n_up) {
			edit[i] = bpf_map_get_fd_by_id(cur_id[i]);
			if (edit[i] < 0) {
				err = -errno;
				goto out;
			}
			changes = true;
		}
	}

	/* slot is about to change: no packet of gen - 1 may still read it */
	if (changes) {
		err = gp_wait(dp, gen);
		if (err)
			goto out;
	}
	for (int i = 0; i < IN_COUNT; i++) {
		if (edit[i] < 0)
			continue;
		touched = true;
		err = map_delete_n(edit[i], d[i].del, tbl_ks[i], d[i].n_del);
		err = err ? err : map_update_n(edit[i], d[i].up_k, tbl_ks[i],
					       d[i].up_v, tbl_vs[i], d[i].n_up);
		if (err) {
			fprintf(stderr, "segd: update %s[%u] in place: %s\n",
				outer_names[i], slot, strerror(-err));
			goto out;
		}
	}
	for (int i = 0; i < IN_COUNT; i++) {
		if (fds[i] < 0)
			continue;
		touched = true;
		if (bpf_map_update_elem(outer_fd(dp, i), &slot, &fds[i],
					BPF_ANY)) {
			err = -errno;
			fprintf(stderr, "segd: install %s[%u]: %s\n",
				outer_names[i], slot, strerror(-err));
			goto out;
		}
		cur_id[i] = map_id_of(fds[i]);
		gp_done = true;   /* the update waited for a grace period */
	}
	if (gp_done)
		gp_mark(dp, gen);

	/* the slot now holds exactly nt */
	for (int i = 0; i < IN_COUNT; i++) {
		tbl_free(&dp->spare[i]);
		dp->spare[i] = s->t[i];
		s->t[i] = nt[i];
		memset(&nt[i], 0, sizeof(nt[i]));
		s->id[i] = cur_id[i];
	}
	s->state = SLOT_KNOWN;
	for (int i = 0; i < IN_COUNT; i++)
		if (!s->id[i])
			s->state = SLOT_UNKNOWN;
	touched = false;

	/* only now do packets start reading the new slot */
	cfg.policy_gen = gen + 1;
	if (bpf_map_update_elem(bpf_map__fd(dp->tc->maps.segd_config), &zero,
				&cfg, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "segd: bump generation: %s\n", strerror(-err));
		goto out;
	}
	gp_request(dp, gen + 1);
out:
	if (touched)
		slot_forget(s);
	for (int i = 0; i < IN_COUNT; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (edit[i] >= 0)
			close(edit[i]);
		delta_free(&d[i]);
		tbl_free(&nt[i]);
	}
	return err;
}

/* ---- attachment ---------------------------------------------------------- */

static int tc_attach_one(uint32_t ifindex, enum bpf_tc_attach_point ap,
			 int prog_fd)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SEG_TC_HANDLE,
		    .priority = SEG_TC_PRIORITY, .prog_fd = prog_fd,
		    .flags = BPF_TC_F_REPLACE);
	int err;

	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &o);
}

int seg_dp_attach_endpoint(struct seg_datapath *dp, uint32_t ifindex)
{
	int err;

	err = tc_attach_one(ifindex, BPF_TC_INGRESS,
			    seg_dp_prog_fd(dp, SEG_PROG_TC_FROM_EP));
	if (!err)
		err = tc_attach_one(ifindex, BPF_TC_EGRESS,
				    seg_dp_prog_fd(dp, SEG_PROG_TC_TO_EP));
	if (err)
		fprintf(stderr, "segd: tc attach on ifindex %u: %s\n", ifindex,
			strerror(-err));
	return err;
}

static int tc_detach_one(uint32_t ifindex, enum bpf_tc_attach_point ap)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SEG_TC_HANDLE,
		    .priority = SEG_TC_PRIORITY);
	int err = bpf_tc_detach(&hook, &o);

	return err == -ENOENT ? 0 : err;
}

int seg_dp_detach_endpoint(struct seg_datapath *dp, uint32_t ifindex)
{
	int e1, e2;

	(void)dp;
	e1 = tc_detach_one(ifindex, BPF_TC_INGRESS);
	e2 = tc_detach_one(ifindex, BPF_TC_EGRESS);
	return e1 ? e1 : e2;
}

static uint32_t tc_query_one(uint32_t ifindex, enum bpf_tc_attach_point ap)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
		    .attach_point = ap);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = SEG_TC_HANDLE,
		    .priority = SEG_TC_PRIORITY);

	if (bpf_tc_query(&hook, &o))
		return 0;
	return o.prog_id;
}

/* Our XDP program on ifindex (legacy single program or inside a libxdp
 * dispatcher). Returns it (caller closes mp) or NULL. */
static struct xdp_program *xdp_find_ours(struct seg_datapath *dp,
					 uint32_t ifindex,
					 struct xdp_multiprog **mp_out)
{
	const char *name = bpf_program__name(dp->xdp->progs.uplink);
	struct xdp_multiprog *mp;
	struct xdp_program *p;

	*mp_out = NULL;
	mp = xdp_multiprog__get_from_ifindex((int)ifindex);
	if (!mp || libxdp_get_error(mp))
		return NULL;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), name)) {
			*mp_out = mp;
			return p;
		}
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p;
		     p = xdp_multiprog__next_prog(p, mp)) {
			if (!strcmp(xdp_program__name(p), name)) {
				*mp_out = mp;
				return p;
			}
		}
	}
	xdp_multiprog__close(mp);
	return NULL;
}

int seg_dp_attach_uplink(struct seg_datapath *dp, uint32_t ifindex)
{
	int fd = seg_dp_prog_fd(dp, SEG_PROG_XDP_UPLINK);
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *old, *prog = NULL;
	int err, old_fd = -1;

	old = xdp_find_ours(dp, ifindex, &mp);
	if (old && xdp_multiprog__is_legacy(mp)) {
		/* a previous segd's program: swap atomically, no gap */
		enum xdp_attach_mode mode = xdp_multiprog__attach_mode(mp);
		LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
		__u32 flags = XDP_FLAGS_REPLACE |
			      (mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
						      XDP_FLAGS_DRV_MODE);

		old_fd = bpf_prog_get_fd_by_id(xdp_program__id(old));
		if (old_fd < 0) {
			err = -errno;
			goto cleanup;
		}
		ao.old_prog_fd = old_fd;
		err = bpf_xdp_attach((int)ifindex, fd, flags, &ao);
		goto cleanup;
	}
	if (old) {
		/* already in a dispatcher: detach the old copy first */
		err = xdp_program__detach(old, ifindex,
					  xdp_multiprog__attach_mode(mp), 0);
		if (err)
			goto cleanup;
	}
	prog = xdp_program__from_fd(fd);
	err = libxdp_get_error(prog);
	if (err) {
		prog = NULL;
		goto cleanup;
	}
	err = xdp_program__attach(prog, ifindex, XDP_MODE_NATIVE, 0);
	if (err)
		err = xdp_program__attach(prog, ifindex, XDP_MODE_SKB, 0);
cleanup:
	if (err)
		fprintf(stderr, "segd: xdp attach on ifindex %u: %s\n",
			ifindex, strerror(-err));
	if (old_fd >= 0)
		close(old_fd);
	xdp_program__close(prog);
	xdp_multiprog__close(mp);
	return err;
}

int seg_dp_detach_uplink(struct seg_datapath *dp, uint32_t ifindex)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *p;
	int err;

	p = xdp_find_ours(dp, ifindex, &mp);
	if (!p)
		return 0;
	err = xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp),
				  0);
	xdp_multiprog__close(mp);
	return err;
}

int seg_dp_query(struct seg_datapath *dp, uint32_t ifindex,
		 struct seg_dp_attachment *out, int max)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *p;
	uint32_t ids[SEG_PROG_COUNT];
	int n = 0;

	ids[SEG_PROG_TC_FROM_EP] = tc_query_one(ifindex, BPF_TC_INGRESS);
	ids[SEG_PROG_TC_TO_EP] = tc_query_one(ifindex, BPF_TC_EGRESS);
	p = xdp_find_ours(dp, ifindex, &mp);
	ids[SEG_PROG_XDP_UPLINK] = p ? xdp_program__id(p) : 0;
	xdp_multiprog__close(mp);
	for (int i = 0; i < SEG_PROG_COUNT && n < max; i++) {
		if (!ids[i])
			continue;
		out[n].ifindex = ifindex;
		out[n].prog = (enum seg_prog)i;
		out[n].prog_id = ids[i];
		n++;
	}
	return n;
}

/* ---- introspection -------------------------------------------------------- */

static int count_keys(int fd, uint32_t *entries, uint32_t *capacity)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info), n = 0;
	char *a, *b;
	int err = 0;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	a = malloc(info.key_size);
	b = malloc(info.key_size);
	if (!a || !b) {
		err = -ENOMEM;
		goto out;
	}
	if (!bpf_map_get_next_key(fd, NULL, a)) {
		n = 1;
		while (!bpf_map_get_next_key(fd, a, b)) {
			memcpy(a, b, info.key_size);
			n++;
		}
		if (errno != ENOENT)
			err = -errno;
	} else if (errno != ENOENT) {
		err = -errno;
	}
	*entries = n;
	*capacity = info.max_entries;
out:
	free(a);
	free(b);
	return err;
}

int seg_dp_map_usage(struct seg_datapath *dp, struct seg_dp_map_usage *out,
		     int max)
{
	static const char *const plain[] = { SEGD_MAP_CT, SEGD_MAP_FRAG };
	uint32_t gen = 0, slot;
	int n = 0, err;

	err = read_gen(dp, &gen);
	if (err)
		return err;
	slot = gen & 1;
	for (int i = 0; i < 2 && n < max; i++) {
		out[n].name = plain[i];
		err = count_keys(seg_dp_map_fd(dp, plain[i]), &out[n].entries,
				 &out[n].capacity);
		if (err)
			return err;
		n++;
	}
	for (int i = 0; i < IN_COUNT && n < max; i++) {
		uint32_t id;
		int fd;

		out[n].name = outer_names[i];
		out[n].entries = 0;
		out[n].capacity = dp->tmpl[i].max_entries;
		if (bpf_map_lookup_elem(outer_fd(dp, i), &slot, &id) == 0 &&
		    id) {
			fd = bpf_map_get_fd_by_id(id);
			if (fd < 0)
				return -errno;
			err = count_keys(fd, &out[n].entries,
					 &out[n].capacity);
			close(fd);
			if (err)
				return err;
		}
		n++;
	}
	return n;
}

int seg_dp_reason_counters(struct seg_datapath *dp, struct segd_counter *reasons)
{
	int fd = bpf_map__fd(dp->tc->maps.segd_reasons);
	struct segd_counter *v;

	v = calloc((size_t)dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t r = 0; r < SEGD_REASON_MAX; r++) {
		reasons[r].packets = reasons[r].bytes = 0;
		if (bpf_map_lookup_elem(fd, &r, v)) {
			int err = -errno;

			free(v);
			return err;
		}
		for (int c = 0; c < dp->ncpus; c++) {
			reasons[r].packets += v[c].packets;
			reasons[r].bytes += v[c].bytes;
		}
	}
	free(v);
	return 0;
}

int seg_dp_rule_counter(struct seg_datapath *dp, uint32_t rule_id,
			struct segd_rule_counter *out)
{
	int fd = bpf_map__fd(dp->tc->maps.segd_rules), err = 0;
	struct segd_rule_counter *v;

	if (rule_id >= SEGD_MAX_RULES)
		return -EINVAL;
	v = calloc((size_t)dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &rule_id, v)) {
		err = -errno;
		goto cleanup;
	}
	for (int c = 0; c < dp->ncpus; c++) {
		out->flows += v[c].flows;
		out->packets += v[c].packets;
		out->bytes += v[c].bytes;
	}
cleanup:
	free(v);
	return err;
}

int seg_dp_prog_fd(struct seg_datapath *dp, enum seg_prog prog)
{
	switch (prog) {
	case SEG_PROG_TC_FROM_EP:
		return bpf_program__fd(dp->tc->progs.from_endpoint);
	case SEG_PROG_TC_TO_EP:
		return bpf_program__fd(dp->tc->progs.to_endpoint);
	case SEG_PROG_XDP_UPLINK:
		return bpf_program__fd(dp->xdp->progs.uplink);
	default:
		return -EINVAL;
	}
}

int seg_dp_map_fd(struct seg_datapath *dp, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(dp->tc->obj, name);

	return fd < 0 ? -ENOENT : fd;
}
