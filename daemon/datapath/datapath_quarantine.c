/* datapath_quarantine.c - segd_quarantine and its config flag.
 *
 * Written in place, not per policy generation: a quarantine must cut the
 * workload off at its next packet, with no compile and no slot flip. The
 * order never opens a gap: the flag goes on before the first entry is
 * written, new and changed entries are written before stale ones are
 * deleted, and the flag goes off only after the last entry is gone.
 * Which entries to write and which to delete: core/image/quarantine_image.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "datapath_int.h"
#include "quarantine_image.h"

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

/* After a restart the map's own keys are all there is to go by: delete
 * those next does not hold. The walk restarts after a delete, as the
 * deleted key cannot lead to its successor. */
static int delete_unknown_stale(int fd, const struct seg_quar_entry *next,
				size_t n_next)
{
	struct segd_addr k, nk;
	int err;

	err = bpf_map_get_next_key(fd, NULL, &k);
	while (!err) {
		if (!seg_quar_image_find(next, n_next, &k)) {
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
	size_t *up = NULL, *stale = NULL, n_up = n_next, n_stale = 0;

	if (fd < 0)
		return fd;
	up = malloc((n_next ? n_next : 1) * sizeof(*up));
	stale = malloc((n_prev ? n_prev : 1) * sizeof(*stale));
	if (!up || !stale) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (prev_known) {
		seg_quar_image_delta(prev, n_prev, next, n_next, up, &n_up,
				     stale, &n_stale);
	} else {
		for (size_t i = 0; i < n_next; i++)
			up[i] = i;      /* unknown content: write it all */
	}
	if (n_next && (err = set_flag(dp, true)))
		goto cleanup;
	for (size_t i = 0; i < n_up; i++) {
		if (bpf_map_update_elem(fd, &next[up[i]].addr,
					&next[up[i]].value, BPF_ANY)) {
			err = -errno;
			goto cleanup;
		}
	}
	err = 0;
	for (size_t i = 0; i < n_stale && !err; i++)
		if (bpf_map_delete_elem(fd, &prev[stale[i]].addr) &&
		    errno != ENOENT)
			err = -errno;
	if (!err && !prev_known)
		err = delete_unknown_stale(fd, next, n_next);
	if (!err && !n_next)
		err = set_flag(dp, false);
cleanup:
	free(up);
	free(stale);
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
