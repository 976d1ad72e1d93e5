/* datapath.c - load/adopt the pinned BPF state, program pins, the
 * counters and map usage. See datapath.h;
 * datapath_int.h lists the other parts and their call order.
 *
 * Both BPF objects (tc, xdp) declare the same maps (bpf/lib/maps.h). The tc
 * object is loaded first and creates (or, with a bpffs dir, adopts) them;
 * the xdp object reuses its fds, so there is exactly one set of maps.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "metrics_render.h"
#include "datapath_int.h"
#include "fileio.h"

/* libbpf's and libxdp's messages go to segd's log at debug level
 * (SEGD_DEBUG in the environment shows them at any level, as before). */
static int lib_print(const char *lib, const char *fmt, va_list ap)
{
	enum seg_log_level level = getenv("SEGD_DEBUG") ? SEG_LOG_ERROR : SEG_LOG_DEBUG;
	char msg[1024];
	size_t n;

	if (!seg_log_enabled(level))
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	seg_log(level, "%s: %s", lib, msg);
	return (int)n;
}

static int quiet_print(enum libbpf_print_level level, const char *fmt,
		       va_list ap)
{
	(void)level;
	return lib_print("libbpf", fmt, ap);
}

static int quiet_xdp_print(enum libxdp_print_level level, const char *fmt,
			   va_list ap)
{
	(void)level;
	return lib_print("libxdp", fmt, ap);
}

static void unpin_all(struct bpf_object *obj)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj)
		bpf_map__set_pin_path(m, NULL);
}

/* <bpffs>/progs/<name> for each program, replacing what a previous segd
 * pinned there (unlink, then pin: the old program stays loaded as long as
 * it is attached somewhere). */
static int pin_progs(struct seg_datapath *dp, const char *bpffs_dir)
{
	char dir[4096], path[4096];
	int err, n;

	n = snprintf(dir, sizeof(dir), "%s/%s", bpffs_dir, SEGD_PIN_PROGS_DIR);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -ENAMETOOLONG;
	err = seg_mkdir_p(dir, 0700);
	if (err) {
		seg_log(SEG_LOG_ERROR, "mkdir %s: %s", dir, strerror(-err));
		return err;
	}
	for (int i = 0; i < SEG_PROG_COUNT; i++) {
		struct bpf_program *p = dp_prog_of(dp, (enum seg_prog)i);

		n = snprintf(path, sizeof(path), "%s/%s", dir,
			     bpf_program__name(p));
		if (n < 0 || (size_t)n >= sizeof(path))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT) {
			err = -errno;
			seg_log(SEG_LOG_WARN, "unpin %s: %s", path,
				strerror(-err));
			return err;
		}
		if (bpf_obj_pin(bpf_program__fd(p), path)) {
			err = -errno;
			seg_log(SEG_LOG_ERROR, "pin %s: %s", path,
				strerror(-err));
			return err;
		}
	}
	return 0;
}

/* segd_rules is sized by segd's config: a pinned one of another size
 * cannot be adopted (libbpf refuses it), so it is unpinned and a fresh one
 * made. Only counters are lost; programs still attached keep counting into
 * the old one until the new programs replace them. */
static int rules_pin_fit(const char *bpffs_dir, uint32_t slots)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	char path[4096];
	int fd, n, err = 0;

	n = snprintf(path, sizeof(path), "%s/%s", bpffs_dir, SEGD_MAP_RULES);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	else if (info.max_entries != slots) {
		seg_log(SEG_LOG_INFO, "%s holds %u rule ids, max_rules asks for "
			"%u: replacing it (rule counters start from zero)",
			path, info.max_entries, slots);
		if (unlink(path))
			err = -errno;
	}
	close(fd);
	return err;
}

int seg_dp_open(const char *bpffs_dir, struct seg_datapath **out)
{
	return seg_dp_open_sized(bpffs_dir, SEGD_DEFAULT_MAX_RULES, out);
}

uint32_t seg_dp_rule_slots(const struct seg_datapath *dp)
{
	return dp->rule_slots;
}

int seg_dp_open_sized(const char *bpffs_dir, uint32_t max_rules,
		      struct seg_datapath **out)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = bpffs_dir);
	struct seg_datapath *dp;
	struct bpf_map *m;
	int err;

	libbpf_set_print(quiet_print);
	libxdp_set_print(quiet_xdp_print);
	*out = NULL;
	if (!max_rules || max_rules >= SEGD_MAX_RULES)
		return -EINVAL;
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
		err = seg_mkdir_p(bpffs_dir, 0700);
		if (err) {
			seg_log(SEG_LOG_ERROR, "mkdir %s: %s", bpffs_dir,
				strerror(-err));
			goto fail;
		}
	}

	dp->tc = segd_tc_bpf__open_opts(&oo);
	if (!dp->tc) {
		err = -errno;
		seg_log(SEG_LOG_ERROR, "open tc object: %s", strerror(-err));
		goto fail;
	}
	if (!bpffs_dir)
		unpin_all(dp->tc->obj);
	else if ((err = rules_pin_fit(bpffs_dir, max_rules + 1))) {
		seg_log(SEG_LOG_ERROR, "pinned %s: %s", SEGD_MAP_RULES,
			strerror(-err));
		goto fail;
	}
	dp->rule_slots = max_rules + 1;
	err = bpf_map__set_max_entries(dp->tc->maps.segd_rules, dp->rule_slots);
	if (err)
		goto fail;
	for (int i = 0; i < IN_COUNT; i++) {
		struct bpf_map *outer, *in;

		outer = bpf_object__find_map_by_name(dp->tc->obj,
						     dp_outer_names[i]);
		in = outer ? bpf_map__inner_map(outer) : NULL;
		if (!in) {
			err = -ENOENT;
			seg_log(SEG_LOG_ERROR, "%s has no inner map template",
				dp_outer_names[i]);
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
		seg_log(SEG_LOG_ERROR, "load tc object%s%s: %s (an incompatible "
			"pinned map must be removed by hand)",
			bpffs_dir ? " with maps pinned under " : "",
			bpffs_dir ? bpffs_dir : "", strerror(-err));
		goto fail;
	}

	dp->xdp = segd_xdp_bpf__open_opts(&oo);
	if (!dp->xdp) {
		err = -errno;
		seg_log(SEG_LOG_ERROR, "open xdp object: %s", strerror(-err));
		goto fail;
	}
	unpin_all(dp->xdp->obj);
	bpf_object__for_each_map(m, dp->xdp->obj) {
		struct bpf_map *src;

		src = bpf_object__find_map_by_name(dp->tc->obj,
						   bpf_map__name(m));
		if (!src) {
			err = -ENOENT;
			seg_log(SEG_LOG_ERROR, "xdp map %s missing in tc object",
				bpf_map__name(m));
			goto fail;
		}
		err = bpf_map__reuse_fd(m, bpf_map__fd(src));
		if (err) {
			seg_log(SEG_LOG_ERROR, "share map %s: %s",
				bpf_map__name(m), strerror(-err));
			goto fail;
		}
	}
	err = segd_xdp_bpf__load(dp->xdp);
	if (err) {
		seg_log(SEG_LOG_ERROR, "load xdp object: %s", strerror(-err));
		goto fail;
	}
	if (bpffs_dir) {
		err = pin_progs(dp, bpffs_dir);
		if (err)
			goto fail;
	}
	err = dp_apply_init(dp);
	if (err) {
		seg_log(SEG_LOG_ERROR, "grace-period map: %s", strerror(-err));
		goto fail;
	}
	/* an adopted blocklist prefix gate may be stale (an older segd wrote
	 * the trie without it): ask the trie until our first blocklist write
	 * (datapath_blocklist.c) */
	{
		struct segd_config cfg;

		err = dp_config_read(dp, &cfg);
		if (!err && (cfg.flags & SEGD_CFG_BL_PFXGATE)) {
			cfg.flags &= ~SEGD_CFG_BL_PFXGATE;
			err = dp_config_write(dp, &cfg);
		}
		if (err) {
			seg_log(SEG_LOG_ERROR, "%s: %s", SEGD_MAP_CONFIG,
				strerror(-err));
			goto fail;
		}
	}
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
	dp_apply_fini(dp);
	segd_xdp_bpf__destroy(dp->xdp);
	segd_tc_bpf__destroy(dp->tc);
	free(dp);
}

/* ---- introspection -------------------------------------------------------- */

int seg_dp_map_usage(struct seg_datapath *dp, struct seg_dp_map_usage *out,
		     int max)
{
	static const char *const plain[] = { SEGD_MAP_CT, SEGD_MAP_FRAG,
					     SEGD_MAP_QUARANTINE };
	uint32_t gen = 0, slot;
	int n = 0, err;

	err = dp_read_gen(dp, &gen);
	if (err)
		return err;
	slot = gen & 1;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && n < max; i++) {
		out[n].name = plain[i];
		err = dp_count_keys(seg_dp_map_fd(dp, plain[i]), &out[n].entries,
				 &out[n].capacity);
		if (err)
			return err;
		n++;
	}
	for (int i = 0; i < IN_COUNT && n < max; i++) {
		uint32_t id;
		int fd;

		out[n].name = dp_outer_names[i];
		out[n].entries = 0;
		out[n].capacity = dp->tmpl[i].max_entries;
		if (bpf_map_lookup_elem(dp_outer_fd(dp, i), &slot, &id) == 0 &&
		    id) {
			fd = bpf_map_get_fd_by_id(id);
			if (fd < 0)
				return -errno;
			err = dp_count_keys(fd, &out[n].entries,
					 &out[n].capacity);
			close(fd);
			if (err)
				return err;
		}
		n++;
	}
	for (int i = 0; i < 4 && n < max; i++) {
		static const char *const bl[] = {
			SEGD_MAP_BL_EXACT, SEGD_MAP_BL_LPM, SEGD_MAP_BL_EXCEPT,
			SEGD_MAP_BL_NET24,
		};
		int fd = seg_dp_map_fd(dp, bl[i]);
		struct bpf_map_info info = { 0 };
		uint32_t len = sizeof(info);

		out[n].name = bl[i];
		if (dp->bl_known) {
			/* up to millions of keys: what we wrote, not a scan */
			if (bpf_obj_get_info_by_fd(fd, &info, &len))
				return -errno;
			out[n].entries = dp->bl_n[i];
			out[n].capacity = info.max_entries;
		} else {
			err = dp_count_keys(fd, &out[n].entries,
					    &out[n].capacity);
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

int seg_dp_event_counters(struct seg_datapath *dp, uint64_t out[SEGD_EVS_MAX])
{
	int fd = bpf_map__fd(dp->tc->maps.segd_ev_stats), err = 0;
	uint64_t *v = calloc((size_t)dp->ncpus, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (uint32_t i = 0; !err && i < SEGD_EVS_MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, v)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < dp->ncpus; c++)
			out[i] += v[c];
	}
	free(v);
	return err;
}

int seg_dp_rule_counter(struct seg_datapath *dp, uint32_t rule_id,
			struct segd_rule_counter *out)
{
	int fd = bpf_map__fd(dp->tc->maps.segd_rules), err = 0;
	struct segd_rule_counter *v;

	if (rule_id >= dp->rule_slots)
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

#define RULE_BATCH 4096u

int seg_dp_rule_counters(struct seg_datapath *dp, struct segd_rule_counter *out)
{
	int fd = bpf_map__fd(dp->tc->maps.segd_rules), ncpus = dp->ncpus, err = 0;
	uint32_t *keys = calloc(RULE_BATCH, sizeof(*keys)), in = 0, next = 0;
	struct segd_rule_counter *v = calloc((size_t)RULE_BATCH * ncpus, sizeof(*v));
	bool first = true;

	memset(out, 0, dp->rule_slots * sizeof(*out));
	if (!keys || !v) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (;;) {
		uint32_t count = RULE_BATCH;
		int r = bpf_map_lookup_batch(fd, first ? NULL : &in, &next, keys, v,
					     &count, NULL);

		if (r < 0 && r != -ENOENT) {
			err = r;
			break;
		}
		for (uint32_t i = 0; i < count; i++) {
			struct segd_rule_counter *o = &out[keys[i]];

			if (keys[i] >= dp->rule_slots)
				continue;
			for (int c = 0; c < ncpus; c++) {
				o->flows += v[(size_t)i * ncpus + c].flows;
				o->packets += v[(size_t)i * ncpus + c].packets;
				o->bytes += v[(size_t)i * ncpus + c].bytes;
			}
		}
		if (r == -ENOENT)   /* past the last id */
			break;
		in = next;
		first = false;
	}
	/* a kernel without batched reads of this map type (EINVAL; the
	 * kernel's own ENOTSUPP, 524): one id at a time */
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -524) {
		err = 0;
		for (uint32_t id = 0; !err && id < dp->rule_slots; id++)
			err = seg_dp_rule_counter(dp, id, &out[id]);
	}
cleanup:
	free(keys);
	free(v);
	return err;
}
