/* datapath.c - load/adopt the pinned BPF state, write compiled policy
 * atomically, attach programs, read counters. See datapath.h.
 *
 * Both BPF objects (tc, xdp) declare the same maps (bpf/maps.h). The tc
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

struct seg_datapath {
	struct segd_tc_bpf *tc;
	struct segd_xdp_bpf *xdp;
	struct inner_tmpl tmpl[IN_COUNT];
	int ncpus;
};

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

/* Fill a fresh map: one batch syscall where the map type supports it
 * (hash), element by element otherwise (LPM trie). */
static int fill_map(int fd, const void *keys, size_t key_size,
		    const void *vals, size_t val_size, size_t n)
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
	if (err != -EINVAL && err != -EOPNOTSUPP && err != -ENOTSUP &&
	    err != -524 /* ENOTSUPP */)
		return err;
	if (count < n && err != -EINVAL)
		i = count;
	for (; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * key_size,
					(const char *)vals + i * val_size,
					BPF_ANY))
			return -errno;
	}
	return 0;
}

/* ---- probe hints ------------------------------------------------------------
 * For each local identity: which probe kinds of the lookup chain have keys
 * (per direction and remote kind). OR'd into the exact ipcache values so
 * the datapath skips probes that cannot hit (SEGD_EPF_PROBE in segd_abi.h).
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

/* sorted, one row per local identity that has policy entries */
static int probe_hints(const struct seg_compiled *c, struct id_bits **out,
		       size_t *n_out)
{
	struct id_bits *t;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (!c->n_entries)
		return 0;
	t = malloc(c->n_entries * sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_entries; i++) {
		t[i].id = c->entries[i].key.local_id;
		t[i].bits = probe_bit(&c->entries[i].key);
	}
	qsort(t, c->n_entries, sizeof(*t), cmp_id_bits);
	for (size_t i = 0; i < c->n_entries; i++) {
		if (n && t[n - 1].id == t[i].id)
			t[n - 1].bits |= t[i].bits;
		else
			t[n++] = t[i];
	}
	*out = t;
	*n_out = n;
	return 0;
}

static uint32_t hints_of(const struct id_bits *t, size_t n, uint32_t id)
{
	struct id_bits key = { .id = id }, *hit;

	if (!n)
		return SEGD_EPF_PROBES_VALID | SEGD_EPF_ANYREM_PROTO_VALID;
	hit = bsearch(&key, t, n, sizeof(*t), cmp_id_bits);
	return SEGD_EPF_PROBES_VALID | SEGD_EPF_ANYREM_PROTO_VALID |
	       (hit ? hit->bits : 0);
}

static int build_inner(struct seg_datapath *dp, int which,
		       const struct seg_compiled *c, int *fd_out)
{
	static const char *const names[IN_COUNT] = {
		"segd_pol_in", "segd_exact_in", "segd_lpm_in",
	};
	const struct inner_tmpl *t = &dp->tmpl[which];
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = t->flags);
	size_t n = 0, ks = t->key_size, vs = t->value_size;
	char *keys = NULL, *vals = NULL;
	struct id_bits *hints = NULL;
	size_t n_hints = 0;
	int fd, err = 0;

	switch (which) {
	case IN_POLICY: n = c->n_entries; break;
	case IN_EXACT:  n = c->n_exact; break;
	default:        n = c->n_prefixes; break;
	}
	if (n > t->max_entries)
		return -E2BIG;
	fd = bpf_map_create(t->type, names[which], t->key_size, t->value_size,
			    t->max_entries, &mo);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "segd: create %s: %s\n", names[which],
			strerror(-err));
		return err;
	}
	keys = malloc(n ? n * ks : 1);
	vals = malloc(n ? n * vs : 1);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	if (which == IN_EXACT) {
		err = probe_hints(c, &hints, &n_hints);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const void *k, *v;

		switch (which) {
		case IN_POLICY:
			if (c->entries[i].value.rule_id >= SEGD_MAX_RULES) {
				err = -EINVAL;
				goto out;
			}
			k = &c->entries[i].key;
			v = &c->entries[i].value;
			break;
		case IN_EXACT:
			k = &c->exact[i].addr;
			v = &c->exact[i].value;
			break;
		default:
			if (c->prefixes[i].key.prefixlen > 128) {
				err = -EINVAL;
				goto out;
			}
			k = &c->prefixes[i].key;
			v = &c->prefixes[i].value;
			break;
		}
		memcpy(keys + i * ks, k, ks);
		memcpy(vals + i * vs, v, vs);
		if (which == IN_EXACT) {
			struct segd_ipcache_value *iv;

			iv = (struct segd_ipcache_value *)(vals + i * vs);
			iv->flags |= hints_of(hints, n_hints, iv->identity);
		}
	}
	err = fill_map(fd, keys, ks, vals, vs, n);
	if (err)
		fprintf(stderr, "segd: fill %s (%zu entries): %s\n",
			names[which], n, strerror(-err));
out:
	free(hints);
	free(keys);
	free(vals);
	if (err) {
		close(fd);
		return err;
	}
	*fd_out = fd;
	return 0;
}

int seg_dp_apply(struct seg_datapath *dp, const struct seg_compiled *c)
{
	int fds[IN_COUNT] = { -1, -1, -1 };
	struct segd_config cfg = { 0 };
	uint32_t gen = 0, slot, zero = 0;
	int err;

	if (!dp || !c)
		return -EINVAL;
	err = read_gen(dp, &gen);
	if (err)
		return err;
	slot = (gen + 1) & 1;   /* the slot no packet is reading */
	for (int i = 0; i < IN_COUNT; i++) {
		err = build_inner(dp, i, c, &fds[i]);
		if (err)
			goto cleanup;
	}
	for (int i = 0; i < IN_COUNT; i++) {
		if (bpf_map_update_elem(outer_fd(dp, i), &slot, &fds[i],
					BPF_ANY)) {
			err = -errno;
			fprintf(stderr, "segd: install %s[%u]: %s\n",
				outer_names[i], slot, strerror(-err));
			goto cleanup;
		}
	}
	/* only now do packets start reading the new slot */
	cfg.policy_gen = gen + 1;
	if (bpf_map_update_elem(bpf_map__fd(dp->tc->maps.segd_config), &zero,
				&cfg, BPF_ANY)) {
		err = -errno;
		fprintf(stderr, "segd: bump generation: %s\n", strerror(-err));
	}
cleanup:
	for (int i = 0; i < IN_COUNT; i++)
		if (fds[i] >= 0)
			close(fds[i]);
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
