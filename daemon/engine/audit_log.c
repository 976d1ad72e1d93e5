/* audit_log.c - append-only audit logs in the state dir: one JSON line per
 * action (quarantine-audit.log, policy-audit.log; docs/operations.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "engine.h"
#include "policy_stage.h"

int segd_audit_append(struct segd *d, const char *file, const char *line,
		      struct seg_error *err)
{
	char path[4096];
	size_t len = strlen(line);
	ssize_t w;
	int fd, ret = 0;

	if (!d->cfg.state_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", d->cfg.state_dir, file);
	/* append-only: one write(2) per record, so records never interleave */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		ret = -errno;
	else {
		w = write(fd, line, len);
		if (w < 0 || (size_t)w != len || fdatasync(fd))
			ret = w < 0 ? -errno : -EIO;
		close(fd);
	}
	if (ret)
		return seg_errorf(err, path, 0, 0, ret, "in force, but the audit record "
				  "could not be written (%s); fix the state dir",
				  strerror(-ret));
	return 0;
}

int segd_policy_audit(struct segd *d, const char *action, const struct seg_policy *p,
		      const struct segd_peer *peer, struct seg_error *err)
{
	char *line = NULL;
	int ret = seg_policy_audit_line(action, p, (int64_t)time(NULL),
					peer ? (uint32_t)peer->uid : 0,
					peer ? (uint32_t)peer->pid : 0, &line);

	if (!ret)
		ret = segd_audit_append(d, SEGD_POLICY_AUDIT_FILE, line, err);
	free(line);
	return ret;
}
