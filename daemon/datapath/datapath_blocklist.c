/* datapath_blocklist.c - the blocklist maps (segd_bl_exact, segd_bl_lpm,
 * segd_bl_except, segd_bl_net24) written in place, the SEGD_CFG_BL_* flags,
 * per-list counters. The reader side is bpf/lib/blocklist_check.h.
 *
 * A write never leaves a window in which an entry that both the old and the
 * new content hold is missing, and an entry only the old content holds
 * disappears last:
 *
 *   1. flags |= the maps `next` fills (a flag on an empty map only costs a
 *      lookup; a missing flag would hide entries); prefix gate bits of
 *      `next` set (the gate is the union of old and new)
 *   2. upserts of every map (keys new in `next`, or with a changed value),
 *      in batches of SEG_BL_CHUNK
 *   3. deletes of the keys `next` no longer holds
 *   4. prefix gate = exactly the bits of `next`; flags = exactly the maps
 *      `next` fills, plus SEGD_CFG_BL_PFXGATE
 *
 * The prefix gate (segd_bl_pfx16, segd_abi.h) lets the datapath skip the
 * LPM trie for an address no prefix can cover, or whose covering prefixes
 * are all IPv4 ones up to /24: those are also written to the IPv4 views,
 * segd_bl_net24 (/17../24 by /24) and segd_bl_net16 (/0../16 by /16)
 * (SEGD_CFG_BL_NET24, set in step 1 and kept until the gate leaves them
 * out in step 4; a /16 slot is filled in step 2 and emptied in step 3 like
 * a hash key). It only ever narrows after
 * the prefixes that needed its bits are gone; a word is written whole
 * (bytes are old or new, and new is a superset of old in step 1 and of
 * what the trie holds in step 4). Its content is only trusted while this
 * process wrote it: seg_dp_open clears SEGD_CFG_BL_PFXGATE of an adopted
 * state, and a failed write clears it too (the trie is then asked always),
 * so the first write after that fills the gate whole before setting it.
 *
 * What is stale comes from one merge pass over the sorted arrays of `prev`
 * and `next` (struct seg_bl_compiled: sorted by the memcmp order of the map
 * key, unique), and for segd_bl_net24 over their /24 views, produced in key
 * order and never stored (blocklist_net24.c); without `prev` (after a
 * restart) the map's keys are read back and looked up in `next` by binary
 * search (the /24 hash: read back, sorted and merged). The caller bumps the
 * generation afterwards (seg_dp_apply) so established flows re-check.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "blocklist.h"
#include "datapath_int.h"

/* records per batch syscall: bounds the staging buffers (<= 1.5 MB a map) */
#define SEG_BL_CHUNK 65536

/* BL_COUNT maps come from compiled arrays; the IPv4 views after them */
enum { BL_EXACT, BL_LPM, BL_EXCEPT, BL_COUNT, BL_NET24 = BL_COUNT, BL_NET16,
       BL_MAPS };

static const char *const bl_map_names[BL_MAPS] = {
	SEGD_MAP_BL_EXACT, SEGD_MAP_BL_LPM, SEGD_MAP_BL_EXCEPT,
	SEGD_MAP_BL_NET24, SEGD_MAP_BL_NET16,
};
static const uint32_t bl_cfg_bits[BL_COUNT] = {
	SEGD_CFG_BL_EXACT, SEGD_CFG_BL_PREFIXES, SEGD_CFG_BL_EXCEPT,
};
#define SEGD_CFG_BL_ALL (SEGD_CFG_BL_EXACT | SEGD_CFG_BL_PREFIXES | \
			 SEGD_CFG_BL_EXCEPT | SEGD_CFG_BL_NET24)

/* one compiled array seen as records: key at 0, value at voff (an except
 * record has no value: the map value is the constant 1) */
struct bl_view {
	const uint8_t *rec;
	size_t n, stride, ks, vs, voff;
};

static const uint32_t except_one = 1;

static void bl_views(const struct seg_bl_compiled *c, struct bl_view v[BL_COUNT])
{
	v[BL_EXACT] = (struct bl_view){
		.rec = (const uint8_t *)c->exact, .n = c->n_exact,
		.stride = sizeof(*c->exact), .ks = sizeof(struct segd_addr),
		.vs = sizeof(struct segd_bl_value),
		.voff = offsetof(struct seg_bl_exact_entry, value),
	};
	v[BL_LPM] = (struct bl_view){
		.rec = (const uint8_t *)c->prefixes, .n = c->n_prefixes,
		.stride = sizeof(*c->prefixes), .ks = sizeof(struct segd_lpm_key),
		.vs = sizeof(struct segd_bl_value),
		.voff = offsetof(struct seg_bl_prefix_entry, value),
	};
	v[BL_EXCEPT] = (struct bl_view){
		.rec = (const uint8_t *)c->except, .n = c->n_except,
		.stride = sizeof(*c->except), .ks = sizeof(struct segd_lpm_key),
		.vs = sizeof(uint32_t), .voff = 0,
	};
}

static const void *bl_key(const struct bl_view *v, size_t i)
{
	return v->rec + i * v->stride;
}

static const void *bl_val(const struct bl_view *v, int which, size_t i)
{
	return which == BL_EXCEPT ? (const void *)&except_one :
				    v->rec + i * v->stride + v->voff;
}

static bool bl_sorted(const struct bl_view *v)
{
	for (size_t i = 1; i < v->n; i++)
		if (memcmp(bl_key(v, i - 1), bl_key(v, i), v->ks) >= 0)
			return false;
	return true;
}

static bool bl_holds(const struct bl_view *v, const void *key)
{
	size_t lo = 0, hi = v->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(bl_key(v, mid), key, v->ks);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* staged records of one map: upserts flushed per chunk, deletes kept until
 * every upsert of every map is in */
struct bl_stage {
	int fd;
	size_t ks, vs;
	uint8_t *up_k, *up_v;
	size_t n_up;
	uint8_t *del;
	size_t n_del, cap_del;
};

static int stage_flush(struct bl_stage *s)
{
	int err = dp_map_update_n(s->fd, s->up_k, s->ks, s->up_v, s->vs,
				  s->n_up);

	s->n_up = 0;
	return err;
}

static int stage_up(struct bl_stage *s, const void *k, const void *v)
{
	memcpy(s->up_k + s->n_up * s->ks, k, s->ks);
	memcpy(s->up_v + s->n_up * s->vs, v, s->vs);
	if (++s->n_up == SEG_BL_CHUNK)
		return stage_flush(s);
	return 0;
}

static int stage_del(struct bl_stage *s, const void *k)
{
	if (s->n_del == s->cap_del) {
		size_t cap = s->cap_del ? s->cap_del * 2 : 1024;
		uint8_t *d = realloc(s->del, cap * s->ks);

		if (!d)
			return -ENOMEM;
		s->del = d;
		s->cap_del = cap;
	}
	memcpy(s->del + s->n_del++ * s->ks, k, s->ks);
	return 0;
}

/* the staged deletes; a key that is already gone (prev was wrong about
 * it) is fine */
static int bl_delete_n(struct bl_stage *s)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	uint32_t count = (uint32_t)s->n_del;

	if (!s->n_del ||
	    !bpf_map_delete_batch(s->fd, s->del, &count, &bo))
		return 0;
	for (size_t i = 0; i < s->n_del; i++)
		if (bpf_map_delete_elem(s->fd, s->del + i * s->ks) &&
		    errno != ENOENT)
			return -errno;
	return 0;
}

/* upserts of one map by merging prev and next */
static int upserts_merge(struct bl_stage *s, int which, const struct bl_view *o,
			 const struct bl_view *n)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < o->n || j < n->n)) {
		int c = i == o->n ? 1 : j == n->n ? -1 :
			memcmp(bl_key(o, i), bl_key(n, j), s->ks);

		if (c < 0) {            /* only prev: stale */
			err = stage_del(s, bl_key(o, i++));
		} else if (c > 0) {     /* only next: new */
			err = stage_up(s, bl_key(n, j), bl_val(n, which, j));
			j++;
		} else {                /* both: changed value? */
			if (memcmp(bl_val(o, which, i), bl_val(n, which, j),
				   s->vs))
				err = stage_up(s, bl_key(n, j),
					       bl_val(n, which, j));
			i++, j++;
		}
	}
	return err ? err : stage_flush(s);
}

/* upserts of one map without knowing what it holds: every key of next is
 * written; the keys the map holds that next lacks are stale */
static int upserts_scan(struct bl_stage *s, int which, const struct bl_view *n)
{
	uint8_t a[32], b[32];
	void *cur = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(s->fd, cur, cur == a ? b : a)) {
		cur = cur == a ? b : a;
		if (!bl_holds(n, cur) && (err = stage_del(s, cur)))
			return err;
	}
	if (errno != ENOENT)
		return -errno;
	for (size_t j = 0; j < n->n && !err; j++)
		err = stage_up(s, bl_key(n, j), bl_val(n, which, j));
	return err ? err : stage_flush(s);
}

/* ---- the /24 hash ------------------------------------------------------- */

/* what segd_bl_net24 held before: prev's /24 view, or (prev unknown) the
 * map's keys read back and sorted, values unknown */
struct n24_old {
	bool known;
	struct seg_bl_net24_iter it;
	uint32_t *keys;
	size_t n, i;
};

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int n24_read_keys(int fd, struct n24_old *o)
{
	uint32_t k, nk, *cur = NULL;
	size_t cap = 0;

	while (!bpf_map_get_next_key(fd, cur, &nk)) {
		if (o->n == cap) {
			uint32_t *g = realloc(o->keys, (cap = cap * 2 + 4096) *
					      sizeof(*g));

			if (!g)
				return -ENOMEM;
			o->keys = g;
		}
		o->keys[o->n++] = k = nk;
		cur = &k;
	}
	if (errno != ENOENT)
		return -errno;
	qsort(o->keys, o->n, sizeof(*o->keys), u32_cmp);
	return 0;
}

static bool n24_old_next(struct n24_old *o, uint32_t *k, struct segd_bl_value *v)
{
	if (o->known)
		return seg_bl_net24_next(&o->it, k, v);
	if (o->i == o->n)
		return false;
	*k = o->keys[o->i++];
	return true;
}

/* upserts of segd_bl_net24 by merging the old content with next's view
 * (as planned); a key whose old value is unknown is written again */
static int upserts_net24(struct bl_stage *s, const struct seg_bl_compiled *prev,
			 const struct seg_bl_compiled *next,
			 const struct seg_bl_net24_plan *plan)
{
	struct n24_old o = { .known = prev != NULL };
	struct seg_bl_net24_plan *old_plan = NULL;
	struct seg_bl_net24_iter n;
	struct segd_bl_value ov = { 0 }, nv;
	uint32_t ok = 0, nk = 0;
	bool ho, hn;
	int err = seg_bl_net24_init(&n, next->prefixes, next->n_prefixes, plan);

	/* what prev's write put there: its view as it was planned then */
	if (!err && prev) {
		old_plan = malloc(sizeof(*old_plan));
		err = old_plan ? seg_bl_net24_plan(prev->prefixes, prev->n_prefixes,
						   SEGD_MAX_BL_NET24, old_plan) :
				 -ENOMEM;
	}
	if (!err)
		err = prev ? seg_bl_net24_init(&o.it, prev->prefixes,
					       prev->n_prefixes, old_plan) :
			     n24_read_keys(s->fd, &o);
	ho = !err && n24_old_next(&o, &ok, &ov);
	hn = !err && seg_bl_net24_next(&n, &nk, &nv);
	while (!err && (ho || hn)) {
		if (ho && (!hn || ok < nk)) {           /* only old: stale */
			err = stage_del(s, &ok);
			ho = n24_old_next(&o, &ok, &ov);
		} else if (!ho || nk < ok) {            /* only next: new */
			err = stage_up(s, &nk, &nv);
			hn = seg_bl_net24_next(&n, &nk, &nv);
		} else {                                /* both */
			if (!o.known || memcmp(&ov, &nv, sizeof(nv)))
				err = stage_up(s, &nk, &nv);
			ho = n24_old_next(&o, &ok, &ov);
			hn = seg_bl_net24_next(&n, &nk, &nv);
		}
	}
	if (!err)
		err = stage_flush(s);
	seg_bl_net24_free(&n);
	seg_bl_net24_free(&o.it);
	free(o.keys);
	free(old_plan);
	return err;
}

/* ---- the /16 array --------------------------------------------------------- */

/* what segd_bl_net16 holds now (read back: 256 KB, one batch) */
static int n16_read(int fd, struct segd_bl_value *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	uint32_t *keys = malloc(SEGD_BL_NET16_SLOTS * sizeof(*keys));
	uint32_t count = SEGD_BL_NET16_SLOTS, batch;
	int err = 0;

	if (!keys)
		return -ENOMEM;
	if (bpf_map_lookup_batch(fd, NULL, &batch, keys, out, &count, &bo) ||
	    count != SEGD_BL_NET16_SLOTS) {
		for (uint32_t i = 0; i < SEGD_BL_NET16_SLOTS && !err; i++)
			if (bpf_map_lookup_elem(fd, &i, &out[i]))
				err = -errno;
	} else {        /* arrays come back in index order; be sure */
		for (uint32_t i = 0; i < count && !err; i++)
			err = keys[i] == i ? 0 : -EIO;
	}
	free(keys);
	return err;
}

/* the slots of want that are filled (fill) or emptied (!fill) and differ
 * from have */
static int n16_write(struct bl_stage *s, const struct segd_bl_value *have,
		     const struct segd_bl_value *want, bool fill)
{
	int err = 0;

	for (uint32_t i = 0; i < SEGD_BL_NET16_SLOTS && !err; i++)
		if (!!want[i].list_id == fill &&
		    memcmp(&have[i], &want[i], sizeof(want[i])))
			err = stage_up(s, &i, &want[i]);
	return err ? err : stage_flush(s);
}

/* ---- the prefix gate (its content: seg_bl_gate_fill, core/image) ---- */

/* the kernel's gate becomes want: the words that differ from dp->gate
 * (all of them when !all_known) */
static int gate_write(struct seg_datapath *dp, const uint64_t *want,
		      bool all_known)
{
	uint32_t keys[SEGD_BL_GATE_WORDS];
	uint64_t *vals = malloc(SEGD_BL_GATE_WORDS * sizeof(*vals));
	size_t n = 0;
	int fd = seg_dp_map_fd(dp, SEGD_MAP_BL_GATE), err;

	if (!vals)
		return -ENOMEM;
	for (uint32_t i = 0; i < SEGD_BL_GATE_WORDS; i++) {
		if (all_known && want[i] == dp->gate[i])
			continue;
		keys[n] = i;
		vals[n++] = want[i];
	}
	err = fd < 0 ? fd : dp_map_update_n(fd, keys, sizeof(*keys), vals,
					     sizeof(*vals), n);
	free(vals);
	if (!err)
		memcpy(dp->gate, want, sizeof(dp->gate));
	else
		seg_log(SEG_LOG_ERROR, "write %s: %s", SEGD_MAP_BL_GATE,
			strerror(-err));
	return err;
}

static uint32_t cfg_flags(struct seg_datapath *dp)
{
	struct segd_config cfg;

	return dp_config_read(dp, &cfg) ? 0 : cfg.flags;
}

static int set_bl_flags(struct seg_datapath *dp, uint32_t set, uint32_t clear)
{
	struct segd_config cfg;
	int err = dp_config_read(dp, &cfg);

	if (err)
		return err;
	if (((cfg.flags | set) & ~clear) == cfg.flags)
		return 0;
	cfg.flags = (cfg.flags | set) & ~clear;
	return dp_config_write(dp, &cfg);
}

/* the staging buffers of map i for at most n upserts */
static int stage_open(struct seg_datapath *dp, struct bl_stage *s, int i,
		      size_t ks, size_t vs, size_t n)
{
	size_t cap = n < SEG_BL_CHUNK ? n + 1 : SEG_BL_CHUNK;

	s->fd = seg_dp_map_fd(dp, bl_map_names[i]);
	s->ks = ks;
	s->vs = vs;
	if (s->fd < 0)
		return s->fd;
	s->up_k = malloc(cap * ks);
	s->up_v = malloc(cap * vs);
	return s->up_k && s->up_v ? 0 : -ENOMEM;
}

int seg_dp_blocklists_write(struct seg_datapath *dp,
			    const struct seg_bl_compiled *prev,
			    const struct seg_bl_compiled *next)
{
	struct bl_view o[BL_COUNT], n[BL_COUNT];
	struct bl_stage st[BL_MAPS] = { 0 };
	struct segd_bl_value *n16_have = NULL, *n16_want = NULL;
	struct seg_bl_net24_plan *plan = NULL;
	uint32_t want = 0;
	bool use_prev = prev != NULL, gate_ok;
	size_t n_net24 = 0;
	uint64_t *ng = NULL;
	int err = 0;

	if (!dp || !next)
		return -EINVAL;
	bl_views(next, n);
	if (prev)
		bl_views(prev, o);
	for (int i = 0; i < BL_COUNT; i++) {
		if (!bl_sorted(&n[i]))
			return -EINVAL;
		if (n[i].n)
			want |= bl_cfg_bits[i];
		if (prev && !bl_sorted(&o[i]))
			use_prev = false;   /* not trusted: read the maps */
	}
	if (next->n_exact > SEGD_MAX_BL_EXACT ||
	    next->n_prefixes > SEGD_MAX_BL_PREFIXES ||
	    next->n_except > SEGD_MAX_BL_EXCEPT)
		return -E2BIG;

	ng = malloc(sizeof(dp->gate));
	plan = malloc(sizeof(*plan));
	n16_have = malloc(SEGD_BL_NET16_SLOTS * sizeof(*n16_have));
	n16_want = malloc(SEGD_BL_NET16_SLOTS * sizeof(*n16_want));
	if (!ng || !plan || !n16_have || !n16_want ||
	    seg_bl_net16_fill(next->prefixes, next->n_prefixes, n16_want) ||
	    seg_bl_net24_plan(next->prefixes, next->n_prefixes,
			      SEGD_MAX_BL_NET24, plan)) {
		err = -ENOMEM;
		goto out;
	}
	n_net24 = plan->n_keys;
	if (n_net24)
		want |= SEGD_CFG_BL_NET24;
	for (size_t i = 0; i < SEGD_BL_NET16_SLOTS; i++)
		if (n16_want[i].list_id)
			want |= SEGD_CFG_BL_NET24;
	seg_bl_gate_fill(next->prefixes, next->n_prefixes, plan, ng);
	dp->bl_known = false;
	gate_ok = dp->gate_known && (cfg_flags(dp) & SEGD_CFG_BL_PFXGATE);
	if (!gate_ok)   /* nothing to keep: filled whole after the deletes */
		err = set_bl_flags(dp, want, SEGD_CFG_BL_PFXGATE);
	else
		err = set_bl_flags(dp, want, 0);
	if (!err && gate_ok) {
		uint64_t *u = malloc(sizeof(dp->gate));

		err = u ? 0 : -ENOMEM;
		for (size_t i = 0; u && i < SEGD_BL_GATE_WORDS; i++)
			u[i] = dp->gate[i] | ng[i];
		err = err ? err : gate_write(dp, u, true);
		free(u);
	}
	for (int i = 0; i < BL_MAPS && !err; i++) {
		size_t up = i == BL_NET24 ? n_net24 : i == BL_NET16 ?
			    SEGD_BL_NET16_SLOTS : n[i].n;

		err = i < BL_COUNT ? stage_open(dp, &st[i], i, n[i].ks, n[i].vs, up) :
				     stage_open(dp, &st[i], i, sizeof(uint32_t),
						sizeof(struct segd_bl_value), up);
		if (!err && i == BL_NET16)
			err = n16_read(st[i].fd, n16_have);
		if (!err && i == BL_NET16)
			err = n16_write(&st[i], n16_have, n16_want, true);
		else if (!err && i == BL_NET24)
			err = upserts_net24(&st[i], use_prev ? prev : NULL, next,
					    plan);
		else if (!err)
			err = use_prev ? upserts_merge(&st[i], i, &o[i], &n[i]) :
					 upserts_scan(&st[i], i, &n[i]);
		if (err)
			seg_log(SEG_LOG_ERROR, "write %s: %s", bl_map_names[i],
				strerror(-err));
		if (i == BL_NET16)
			continue;       /* its buffers empty slots in step 3 */
		free(st[i].up_k);
		free(st[i].up_v);
		st[i].up_k = st[i].up_v = NULL;
	}
	for (int i = 0; i < BL_MAPS && !err; i++) {
		err = i == BL_NET16 ? n16_write(&st[i], n16_have, n16_want, false) :
				      bl_delete_n(&st[i]);
		if (err)
			seg_log(SEG_LOG_ERROR, "prune %s: %s", bl_map_names[i],
				strerror(-err));
	}
	if (!err)
		err = gate_write(dp, ng, gate_ok);
	if (!err)
		err = set_bl_flags(dp, want | SEGD_CFG_BL_PFXGATE,
				   SEGD_CFG_BL_ALL & ~want);
	dp->gate_known = !err;
	if (err)        /* what the gate holds is not known: ask the trie */
		set_bl_flags(dp, 0, SEGD_CFG_BL_PFXGATE);
	if (!err) {
		dp->bl_n[BL_EXACT] = (uint32_t)next->n_exact;
		dp->bl_n[BL_LPM] = (uint32_t)next->n_prefixes;
		dp->bl_n[BL_EXCEPT] = (uint32_t)next->n_except;
		dp->bl_n[BL_NET24] = (uint32_t)n_net24;
		dp->bl_known = true;
	}
out:
	for (int i = 0; i < BL_MAPS; i++) {
		free(st[i].up_k);
		free(st[i].up_v);
		free(st[i].del);
	}
	free(n16_have);
	free(n16_want);
	free(plan);
	free(ng);
	return err;
}

int seg_dp_blocklist_counters(struct seg_datapath *dp, struct segd_counter *out)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_BL_STATS), err = 0;
	struct segd_counter *v;

	if (fd < 0)
		return fd;
	v = calloc((size_t)dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t id = 0; id < SEGD_MAX_BLOCKLISTS; id++) {
		out[id].packets = out[id].bytes = 0;
		if (bpf_map_lookup_elem(fd, &id, v)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < dp->ncpus; c++) {
			out[id].packets += v[c].packets;
			out[id].bytes += v[c].bytes;
		}
	}
	free(v);
	return err;
}

int seg_dp_blocklist_counter_reset(struct seg_datapath *dp, uint16_t list_id)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_BL_STATS), err = 0;
	struct segd_counter *v;
	uint32_t id = list_id;

	if (fd < 0)
		return fd;
	if (id >= SEGD_MAX_BLOCKLISTS)
		return -EINVAL;
	v = calloc((size_t)dp->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, &id, v, BPF_ANY))
		err = -errno;
	free(v);
	return err;
}
