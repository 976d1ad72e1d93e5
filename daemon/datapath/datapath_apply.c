/* datapath_apply.c - seg_dp_apply: make the kernel enforce a compiled
 * state. Inner-map building, batch writes, the grace-period helper thread.
 * What it writes - tables, deltas, segd_lhints and segd_ifc records - is
 * built in core/image (policy_image.h); this file only writes it.
 *
 * ---- applying compiled state ------------------------------------------------
 *
 * The BPF side reads segd_config.policy_gen first and then the inner maps of
 * slot gen & 1 (bpf/lib/policy.h), so an apply prepares the inactive slot
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
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath_int.h"

/* fresh build when the delta exceeds the new size by this many entries:
 * in-place deletes + updates cost about as much per entry as a fill, and
 * a fresh map costs one extra outer update (a grace period) */
#define SEG_FRESH_SLACK 16384

static const char *const inner_names[IN_COUNT] = {
	"segd_pol_in", "segd_exact_in", "segd_lpm_in",
};

/* A fresh inner map holding t. */
static int build_inner(struct seg_datapath *dp, int which,
		       const struct seg_img_table *t, int *fd_out)
{
	const struct inner_tmpl *tm = &dp->tmpl[which];
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = tm->flags);
	size_t ks = seg_img_key_size[which], vs = seg_img_value_size[which];
	size_t rs = ks + vs;
	uint8_t *keys, *vals;
	int fd, err;

	fd = bpf_map_create(tm->type, inner_names[which], tm->key_size,
			    tm->value_size, tm->max_entries, &mo);
	if (fd < 0) {
		err = -errno;
		seg_log(SEG_LOG_ERROR, "create %s: %s", inner_names[which],
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
	err = dp_map_update_n(fd, keys, ks, vals, vs, t->n);
	if (err)
		seg_log(SEG_LOG_ERROR, "fill %s (%zu entries): %s",
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
		seg_img_table_free(&s->t[i]);
		s->id[i] = 0;
	}
}

/* The segd_lhints entries of slot, tagged with generation gen (0: marked
 * invalid). Only called when no packet can be reading the slot: an entry
 * is two words and the datapath must never see half of one. */
static int lhints_write(struct seg_datapath *dp, uint32_t slot, uint32_t gen,
			const struct seg_img_lhints *lh)
{
	struct segd_lhint *vals;
	uint32_t *keys;
	int err;

	if (!lh->n)
		return 0;
	keys = malloc(lh->n * sizeof(*keys));
	vals = malloc(lh->n * sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	seg_img_lhints_records(lh, slot, gen, keys, vals);
	err = dp_map_update_n(bpf_map__fd(dp->tc->maps.segd_lhints), keys,
			   sizeof(*keys), vals, sizeof(*vals), lh->n);
	if (err)
		seg_log(SEG_LOG_ERROR, "write %s[%u]: %s", SEGD_MAP_LHINTS,
			slot, strerror(-err));
out:
	free(keys);
	free(vals);
	return err;
}

/* f into slot, tagged gen (0: cleared instead); buckets written earlier
 * and not now are cleared. Only when no packet can read the slot. */
static int ifc_write(struct seg_datapath *dp, uint32_t slot, uint32_t gen,
		     const struct seg_img_ifc *f)
{
	struct seg_img_ifc_used now;
	struct segd_ifc *vals;
	uint32_t *keys;
	size_t n;
	int err;

	keys = malloc(SEGD_IFC_BUCKETS * sizeof(*keys));
	vals = malloc(SEGD_IFC_BUCKETS * sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	n = seg_img_ifc_records(f, slot, gen, &dp->ifc[slot], keys, vals, &now);
	err = dp_map_update_n(bpf_map__fd(dp->tc->maps.segd_ifc), keys,
			      sizeof(*keys), vals, sizeof(*vals), n);
	if (err) {
		seg_log(SEG_LOG_ERROR, "write %s[%u]: %s", SEGD_MAP_IFC, slot,
			strerror(-err));
		dp->ifc[slot].known = false;
		goto out;
	}
	dp->ifc[slot] = now;
out:
	free(keys);
	free(vals);
	return err;
}

/* The image of c for the inner maps as the datapath declares them, table
 * buffers reused from the last apply. */
static int image_build(struct seg_datapath *dp, const struct seg_compiled *c,
		       struct seg_img_table nt[IN_COUNT],
		       struct seg_img_lhints *lh)
{
	struct seg_img_limits lim = { .rule_slots = dp->rule_slots };

	for (int i = 0; i < IN_COUNT; i++)
		lim.max_entries[i] = dp->tmpl[i].max_entries;
	return seg_img_policy_build(c, &lim, dp->spare, nt, lh);
}

int seg_dp_apply(struct seg_datapath *dp, const struct seg_compiled *c)
{
	int fds[IN_COUNT] = { -1, -1, -1 }, edit[IN_COUNT] = { -1, -1, -1 };
	struct seg_img_delta d[IN_COUNT] = { 0 };
	struct seg_img_table nt[IN_COUNT] = { 0 };
	struct seg_img_lhints lh = { 0 };
	struct seg_img_ifc ifc = { 0 };
	struct segd_config cfg = { 0 };
	uint32_t gen = 0, slot, cur_id[IN_COUNT];
	bool touched = false, changes = false, gp_done = false;
	struct seg_slot *s;
	int err;

	if (!dp || !c)
		return -EINVAL;
	err = dp_read_gen(dp, &gen);
	if (err)
		return err;
	slot = (gen + 1) & 1;   /* the slot no packet of gen is reading */
	s = &dp->slot[slot];
	err = image_build(dp, c, nt, &lh);
	if (err)
		return err;
	err = seg_img_ifc_build(&nt[IN_EXACT], &ifc);
	if (err)
		goto out;

	/* plan: per table, in place (known content) or a fresh map */
	for (int i = 0; i < IN_COUNT; i++) {
		bool fresh = true;

		if (bpf_map_lookup_elem(dp_outer_fd(dp, i), &slot, &cur_id[i]))
			cur_id[i] = 0;
		if (s->state == SLOT_KNOWN && cur_id[i] &&
		    cur_id[i] == s->id[i]) {
			err = seg_img_table_diff(&s->t[i], &nt[i], seg_img_key_size[i],
					  seg_img_value_size[i], &d[i]);
			if (err)
				goto out;
			fresh = d[i].n_del + d[i].n_up >
				nt[i].n + SEG_FRESH_SLACK;
			if (fresh)
				seg_img_delta_free(&d[i]);
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

	/* slot is about to change (its segd_lhints and segd_ifc entries at
	 * least, they carry the generation): no packet of gen - 1 may still
	 * read it */
	if (changes || lh.n || seg_img_ifc_pending(&ifc, &dp->ifc[slot])) {
		err = gp_wait(dp, gen);
		if (err)
			goto out;
	}
	for (int i = 0; i < IN_COUNT; i++) {
		if (edit[i] < 0)
			continue;
		touched = true;
		err = dp_map_delete_n(edit[i], d[i].del, seg_img_key_size[i], d[i].n_del);
		err = err ? err : dp_map_update_n(edit[i], d[i].up_k,
					       seg_img_key_size[i], d[i].up_v,
					       seg_img_value_size[i], d[i].n_up);
		if (err) {
			seg_log(SEG_LOG_ERROR, "update %s[%u] in place: %s",
				dp_outer_names[i], slot, strerror(-err));
			goto out;
		}
	}
	for (int i = 0; i < IN_COUNT; i++) {
		if (fds[i] < 0)
			continue;
		touched = true;
		if (bpf_map_update_elem(dp_outer_fd(dp, i), &slot, &fds[i],
					BPF_ANY)) {
			err = -errno;
			seg_log(SEG_LOG_ERROR, "install %s[%u]: %s",
				dp_outer_names[i], slot, strerror(-err));
			goto out;
		}
		cur_id[i] = map_id_of(fds[i]);
		gp_done = true;   /* the update waited for a grace period */
	}
	if (gp_done)
		gp_mark(dp, gen);
	err = lhints_write(dp, slot, gen + 1, &lh);
	if (!err) {
		err = ifc_write(dp, slot, gen + 1, &ifc);
		if (err)
			lhints_write(dp, slot, 0, &lh);
	}
	if (err)
		goto out;

	/* the slot now holds exactly nt */
	for (int i = 0; i < IN_COUNT; i++) {
		seg_img_table_free(&dp->spare[i]);
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

	/* only now do packets start reading the new slot; the flags (owned
	 * by the blocklist writer) are kept as they are */
	err = dp_config_read(dp, &cfg);
	if (!err) {
		cfg.policy_gen = gen + 1;
		err = dp_config_write(dp, &cfg);
	}
	if (err) {
		seg_log(SEG_LOG_ERROR, "bump generation: %s", strerror(-err));
		/* an entry tagged with a generation this slot's content
		 * never ran under must not outlive it */
		lhints_write(dp, slot, 0, &lh);
		ifc_write(dp, slot, 0, &ifc);
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
		seg_img_delta_free(&d[i]);
		seg_img_table_free(&nt[i]);
	}
	seg_img_lhints_free(&lh);
	seg_img_ifc_free(&ifc);
	return err;
}

/* ---- life cycle ------------------------------------------------------------- */

int dp_apply_init(struct seg_datapath *dp)
{
	int err = gp_init(dp);

	if (err)
		return err;
	/* adopted state: both slots unknown; start the grace period the first
	 * apply needs before it may touch the inactive slot */
	gp_request(dp, seg_dp_generation(dp));
	return 0;
}

void dp_apply_fini(struct seg_datapath *dp)
{
	gp_fini(dp);
	if (dp->gp_outer >= 0)
		close(dp->gp_outer);
	if (dp->gp_inner >= 0)
		close(dp->gp_inner);
	dp->gp_outer = dp->gp_inner = -1;
	for (int i = 0; i < SEGD_POLICY_SLOTS; i++)
		slot_forget(&dp->slot[i]);
	for (int i = 0; i < IN_COUNT; i++)
		seg_img_table_free(&dp->spare[i]);
}
