/* quarantine_sync.c - the quarantine file and audit log, putting a
 * quarantine in force (kernel, then state dir, then audit log: the time
 * to the first dropped packet is a few map writes), and keeping
 * segd_quarantine in step with the endpoints (segd_quarantine_sync). The
 * operator's requests are control/control_quarantine.c; detection's are
 * engine/detect.c.
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

/* ---- putting one in force ------------------------------------------------------ */

size_t segd_quarantine_covered(struct segd *d, const struct seg_quarantine *q, char ***out)
{
	size_t n = 0;

	*out = calloc(d->state.world.n_endpoints + 1, sizeof(char *));
	for (size_t i = 0; *out && i < d->state.world.n_endpoints; i++) {
		const struct seg_endpoint *e = &d->state.world.endpoints[i];

		if (seg_quar_matches(q, e) && asprintf(&(*out)[n], "%s/%s", e->ns, e->name) > 0)
			n++;
	}
	return n;
}

void segd_quarantine_names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int segd_quarantine_put(struct segd *d, struct seg_quarantine *q,
			struct seg_quarantine **stored, bool *replaced,
			uint64_t *in_force_ns, struct seg_error *err)
{
	struct seg_quarantines cand = d->quarantines;
	struct seg_quarantine *cur;
	uint32_t id;
	int ret;

	/* candidate list: the current one with q replacing its target's
	 * record or appended; committed only once the kernel holds it */
	cand.v = calloc(d->quarantines.n + 1, sizeof(*cand.v));
	if (!cand.v)
		return -ENOMEM;
	memcpy(cand.v, d->quarantines.v, d->quarantines.n * sizeof(*cand.v));
	cur = seg_quarantines_find(&d->quarantines, q);
	q->id = cur ? cur->id : (d->quarantines.next_id ? d->quarantines.next_id : 1);
	cand.v[cur ? (size_t)(cur - d->quarantines.v) : cand.n++] = *q;
	ret = segd_quarantine_write(d, &cand, &d->state.world, false, err);
	free(cand.v);
	if (ret)
		return ret;
	if (in_force_ns) {   /* the kernel drops the next packet: time it here */
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		*in_force_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	}
	if ((ret = seg_quarantines_put(&d->quarantines, q, &id, replaced)))
		return ret;
	for (size_t i = 0; i < d->quarantines.n; i++)
		if (d->quarantines.v[i].id == id)
			*stored = &d->quarantines.v[i];
	return segd_quarantine_persist(d, err);
}

int segd_quarantine_record(struct segd *d, bool release, const struct seg_quarantine *q,
			   const char *actor, uint32_t uid, uint32_t pid,
			   struct seg_error *err)
{
	const char *action = release ? "release" : "quarantine";
	char **eps = NULL, target[1200], *line = NULL, who[64];
	size_t n_eps = segd_quarantine_covered(d, q, &eps);
	int ret;

	seg_quar_target_format(q, target, sizeof(target));
	d->quar_actions[release]++;
	/* an operator is who the control socket says; segd names itself */
	if (!strcmp(actor, "operator"))
		snprintf(who, sizeof(who), "uid %u pid %u", uid, pid);
	else
		snprintf(who, sizeof(who), "%s", actor);
	seg_log(SEG_LOG_INFO, "quarantine: %s %s (id %u) by %s: %zu endpoints, %zu "
		"allow rules, reason \"%s\"", action, target, q->id, who, n_eps,
		q->n_allow, q->reason ? q->reason : "");
	ret = seg_quar_audit_line(action, q, (int64_t)time(NULL), actor, uid, pid,
				  (const char *const *)eps, n_eps, &line);
	if (!ret)
		ret = segd_quarantine_audit(d, line, err);
	free(line);
	segd_quarantine_names_free(eps, n_eps);
	return ret;
}
