/* quarantine_sync.c - the quarantine file and audit log, and keeping
 * segd_quarantine in step with the endpoints (segd_quarantine_sync). The
 * requests that change quarantines are control/control_quarantine.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "engine.h"
#include "log.h"
#include "yaml_util.h"

#define QUAR_FILE "quarantines.yaml"
#define QUAR_AUDIT_FILE "quarantine-audit.log"

/* ---- the kernel map ------------------------------------------------------------ */

/* next = prev plus what adds brings (adds wins on an address both hold). */
static int entries_union(const struct seg_quar_entry *prev, size_t n_prev,
			 const struct seg_quar_entry *add, size_t n_add,
			 struct seg_quar_entry **out, size_t *n_out)
{
	struct seg_quar_entry *v = malloc((n_prev + n_add + 1) * sizeof(*v));
	size_t i = 0, j = 0, n = 0;

	if (!v)
		return -ENOMEM;
	while (i < n_prev || j < n_add) {
		int c = i == n_prev ? 1 : j == n_add ? -1 :
			memcmp(&prev[i].addr, &add[j].addr, sizeof(prev[i].addr));

		if (c < 0)
			v[n++] = prev[i++];
		else {
			i += c == 0;
			v[n++] = add[j++];
		}
	}
	*out = v;
	*n_out = n;
	return 0;
}

int segd_quarantine_write(struct segd *d, const struct seg_quarantines *qs,
			 const struct seg_world *w, bool add_only, struct seg_error *err)
{
	struct seg_quar_entry *next = NULL, *u = NULL;
	size_t n = 0, nu = 0;
	bool truncated;
	int ret;

	ret = seg_quar_entries(qs, w, &next, &n, &truncated);
	if (ret)
		return seg_errorf(err, NULL, 0, 0, ret, "out of memory");
	if (n > SEGD_MAX_QUARANTINED) {
		free(next);
		return seg_errorf(err, NULL, 0, 0, -ENOSPC,
				  "%zu quarantined addresses, the kernel map holds %d; "
				  "release some quarantines first", n, SEGD_MAX_QUARANTINED);
	}
	if (truncated)
		seg_log(SEG_LOG_WARN, "quarantine: an address covered by several "
			"quarantines has more than %d allow rules together; the "
			"extra ones are not applied", SEGD_QUAR_ALLOW);
	if (add_only && d->quar_written_known) {
		ret = entries_union(d->quar_written, d->n_quar_written, next, n, &u, &nu);
		free(next);
		if (ret)
			return seg_errorf(err, NULL, 0, 0, ret, "out of memory");
		next = u;
		n = nu;
	}
	if (!d->dp) {
		ret = 0;
	} else {
		ret = seg_dp_quarantine_write(d->dp, d->quar_written, d->n_quar_written,
					      d->quar_written_known, next, n);
	}
	if (ret) {
		free(next);
		/* partly written: read the map back next time */
		d->quar_written_known = false;
		return seg_errorf(err, NULL, 0, 0, ret, "writing %s failed: %s; the "
				  "quarantine is not in force, check `segctl status` and "
				  "segd's log", SEGD_MAP_QUARANTINE, strerror(-ret));
	}
	free(d->quar_written);
	d->quar_written = next;
	d->n_quar_written = n;
	d->quar_written_known = true;
	return 0;
}

int segd_quarantine_sync(struct segd *d, const struct seg_world *w, bool add_only,
			 struct seg_error *err)
{
	if (!d->quarantines.n && d->quar_written_known && !d->n_quar_written)
		return 0;   /* nothing quarantined, nothing written */
	return segd_quarantine_write(d, &d->quarantines, w ? w : &d->state.world, add_only, err);
}

/* ---- files --------------------------------------------------------------------- */

int segd_quarantine_persist(struct segd *d, struct seg_error *err)
{
	char path[4096], *text = NULL;
	int ret;

	if (!d->cfg.state_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, QUAR_FILE);
	ret = seg_quarantines_to_yaml(&d->quarantines, &text);
	if (!ret)
		ret = seg_write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	if (ret)
		return seg_errorf(err, path, 0, 0, ret, "in force in the kernel, but "
				  "saving it failed (%s): it is lost when the node "
				  "reboots; fix the state dir and repeat the command",
				  strerror(-ret));
	return 0;
}

int segd_quarantine_audit(struct segd *d, const char *line, struct seg_error *err)
{
	int ret = segd_audit_append(d, QUAR_AUDIT_FILE, line, err);

	if (!ret)
		d->quar_audit_records++;
	return ret;
}

static uint64_t count_lines(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	uint64_t n = 0;

	if (seg_read_file(path, &text, &len))
		return 0;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	free(text);
	return n;
}

int segd_quarantine_load(struct segd *d, struct seg_error *err)
{
	char path[4096], *text = NULL;
	size_t len;
	int ret;

	if (!d->cfg.state_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, QUAR_AUDIT_FILE);
	d->quar_audit_records = count_lines(path);
	snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, QUAR_FILE);
	ret = seg_read_file(path, &text, &len);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		return seg_errorf(err, path, 0, 0, ret, "cannot read quarantines: %s",
				  strerror(-ret));
	ret = seg_quarantines_from_yaml(text, len, path, &d->quarantines, err);
	free(text);
	return ret;
}
