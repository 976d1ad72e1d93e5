/* datapath_maps.c - the bottom of the datapath module: map and program fds
 * of the loaded object, segd_config and the generation, segd_detect_cfg,
 * key counts, and
 * writing or deleting n records at once. Calls no other datapath_*.c file;
 * every other one may call it (datapath_int.h gives the order).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath_int.h"

const char *const dp_outer_names[IN_COUNT] = {
	SEGD_MAP_POLICY, SEGD_MAP_IPC_EXACT, SEGD_MAP_IPC_LPM,
};

struct bpf_program *dp_prog_of(struct seg_datapath *dp, enum seg_prog prog)
{
	switch (prog) {
	case SEG_PROG_TC_FROM_EP:
		return dp->tc->progs.from_endpoint;
	case SEG_PROG_TC_TO_EP:
		return dp->tc->progs.to_endpoint;
	case SEG_PROG_XDP_UPLINK:
		return dp->xdp->progs.uplink;
	case SEG_PROG_TC_UPLINK:
		return dp->tc->progs.uplink_ingress;
	default:
		return NULL;
	}
}

int dp_outer_fd(struct seg_datapath *dp, int which)
{
	return seg_dp_map_fd(dp, dp_outer_names[which]);
}

int dp_config_read(struct seg_datapath *dp, struct segd_config *cfg)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->tc->maps.segd_config), &zero,
				cfg))
		return -errno;
	return 0;
}

int dp_config_write(struct seg_datapath *dp, const struct segd_config *cfg)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(dp->tc->maps.segd_config), &zero,
				cfg, BPF_ANY))
		return -errno;
	return 0;
}

int dp_read_gen(struct seg_datapath *dp, uint32_t *gen)
{
	struct segd_config cfg;
	int err = dp_config_read(dp, &cfg);

	if (err)
		return err;
	*gen = cfg.policy_gen;
	return 0;
}

uint32_t seg_dp_generation(struct seg_datapath *dp)
{
	uint32_t gen = 0;

	if (dp_read_gen(dp, &gen))
		return 0;
	return gen;
}

int dp_count_keys(int fd, uint32_t *entries, uint32_t *capacity)
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

int seg_dp_prog_fd(struct seg_datapath *dp, enum seg_prog prog)
{
	struct bpf_program *p = dp_prog_of(dp, prog);

	return p ? bpf_program__fd(p) : -EINVAL;
}

int seg_dp_map_fd(struct seg_datapath *dp, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(dp->tc->obj, name);

	return fd < 0 ? -ENOENT : fd;
}

/* ---- many records at once ------------------------------------------------ */

static bool batch_unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -ENOTSUP ||
	       err == -524 /* ENOTSUPP */;
}

/* After a batch call failed with err having done count of n records: 0 with
 * *from where the one-by-one fallback starts (past what the batch did,
 * unless it refused the whole call), or err when no fallback helps. */
static int batch_fallback(int err, uint32_t count, size_t n, size_t *from)
{
	if (!batch_unsupported(err))
		return err;
	*from = count < n && err != -EINVAL ? count : 0;
	return 0;
}

/* One batch syscall where the map type supports it (hash), element by
 * element otherwise (LPM trie). */
int dp_map_update_n(int fd, const void *keys, size_t ks, const void *vals,
		    size_t vs, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
	uint32_t count = (uint32_t)n;
	size_t i = 0;
	int err;

	if (n == 0)
		return 0;
	err = bpf_map_update_batch(fd, keys, vals, &count, &bo);
	if (!err || (err = batch_fallback(err, count, n, &i)))
		return err;
	for (; i < n; i++) {
		if (bpf_map_update_elem(fd, (const char *)keys + i * ks,
					(const char *)vals + i * vs, BPF_ANY))
			return -errno;
	}
	return 0;
}

int dp_map_delete_n(int fd, const void *keys, size_t ks, size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	uint32_t count = (uint32_t)n;
	size_t i = 0;
	int err;

	if (n == 0)
		return 0;
	err = bpf_map_delete_batch(fd, keys, &count, &bo);
	if (!err || (err = batch_fallback(err, count, n, &i)))
		return err;
	for (; i < n; i++) {
		if (bpf_map_delete_elem(fd, (const char *)keys + i * ks))
			return -errno;
	}
	return 0;
}

int seg_dp_detect_configure(struct seg_datapath *dp,
			    const struct segd_detect_config *cfg)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_DETECT_CFG);
	__u32 zero = 0;

	if (fd < 0)
		return -ENOENT;
	return bpf_map_update_elem(fd, &zero, cfg, BPF_ANY) ? -errno : 0;
}
