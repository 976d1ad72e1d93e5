/* datapath_quarantine.c - segd_quarantine and its config flag.
 *
 * Written in place, not per policy generation: a quarantine must cut the
 * workload off at its next packet, with no compile and no slot flip. The
 * order never opens a gap: the flag goes on before the first entry is
 * written, new and changed entries are written before stale ones are
 * deleted, and the flag goes off only after the last entry is gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "datapath_int.h"
#include "quarantine.h"

static int set_flag(struct seg_datapath *dp, bool on)
{
	struct segd_config cfg;
	int err = dp_config_read(dp, &cfg);

	if (err)
		return err;
	if (!!(cfg.flags & SEGD_CFG_QUARANTINE) == on)
		return 0;
	/* read-modify-write: policy_gen and the other bits are not ours */
	cfg.flags = on ? cfg.flags | SEGD_CFG_QUARANTINE : cfg.flags & ~SEGD_CFG_QUARANTINE;
	return dp_config_write(dp, &cfg);
}

static const struct seg_quar_entry *find(const struct seg_quar_entry *v, size_t n,
					 const struct segd_addr *a)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = memcmp(&v[mid].addr, a, sizeof(*a));

		if (!c)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Delete every key of the map that next does not hold. */
static int delete_stale(int fd, const struct seg_quar_entry *next, size_t n_next,
			const struct seg_quar_entry *prev, size_t n_prev, bool prev_known)
{
	struct segd_addr k, nk;
	int err;

	if (prev_known) {
		for (size_t i = 0; i < n_prev; i++)
			if (!find(next, n_next, &prev[i].addr) &&
			    bpf_map_delete_elem(fd, &prev[i].addr) && errno != ENOENT)
				return -errno;
		return 0;
	}
	/* unknown (after a restart): the map's own keys; restart the walk
	 * after a delete, as the deleted key cannot lead to its successor */
	err = bpf_map_get_next_key(fd, NULL, &k);
	while (!err) {
		if (!find(next, n_next, &k)) {
			if (bpf_map_delete_elem(fd, &k) && errno != ENOENT)
				return -errno;
			err = bpf_map_get_next_key(fd, NULL, &k);
			continue;
		}
		err = bpf_map_get_next_key(fd, &k, &nk);
		k = nk;
	}
	return errno == ENOENT ? 0 : -errno;
}

int seg_dp_quarantine_write(struct seg_datapath *dp, const struct seg_quar_entry *prev,
			    size_t n_prev, bool prev_known,
			    const struct seg_quar_entry *next, size_t n_next)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_QUARANTINE), err;

	if (fd < 0)
		return fd;
	if (n_next && (err = set_flag(dp, true)))
		return err;
	for (size_t i = 0; i < n_next; i++) {
		const struct seg_quar_entry *old =
			prev_known ? find(prev, n_prev, &next[i].addr) : NULL;

		if (old && !memcmp(&old->value, &next[i].value, sizeof(old->value)))
			continue;
		if (bpf_map_update_elem(fd, &next[i].addr, &next[i].value, BPF_ANY))
			return -errno;
	}
	err = delete_stale(fd, next, n_next, prev, n_prev, prev_known);
	if (!err && !n_next)
		err = set_flag(dp, false);
	return err;
}

int seg_dp_quarantine_lookup(struct seg_datapath *dp, const struct segd_addr *a,
			     struct segd_quar_value *out)
{
	int fd = seg_dp_map_fd(dp, SEGD_MAP_QUARANTINE);

	if (fd < 0)
		return fd;
	return bpf_map_lookup_elem(fd, a, out) ? -errno : 0;
}
