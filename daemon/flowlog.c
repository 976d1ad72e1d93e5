/* flowlog.c - the JSON flow log file: append, rotate by size, reopen. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "flowlog.h"
#include "log.h"

#define LINE_STACK 4096
#define LINE_MAX_BYTES (1u << 20)  /* a record with huge label sets */

struct seg_flowlog {
	char *path;              /* NULL: stdout */
	int fd;
	uint64_t size;           /* of the current file */
	uint64_t max_bytes;
	unsigned int keep;
	struct seg_flowlog_stats st;
};

static int open_file(struct seg_flowlog *fl)
{
	struct stat sb;
	int fd = open(fl->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	fl->fd = fd;
	fl->size = (uint64_t)sb.st_size;
	return 0;
}

int seg_flowlog_open(const char *path, uint64_t max_bytes, unsigned int keep,
		     struct seg_flowlog **out, struct seg_error *err)
{
	struct seg_flowlog *fl = calloc(1, sizeof(*fl));
	int ret = 0;

	*out = NULL;
	if (!fl)
		return -ENOMEM;
	fl->fd = STDOUT_FILENO;
	fl->max_bytes = max_bytes;
	fl->keep = keep;
	if (strcmp(path, "-")) {
		fl->path = strdup(path);
		ret = fl->path ? open_file(fl) : -ENOMEM;
		if (ret) {
			seg_errorf(err, "flow_log", 0, 0, ret, "cannot open %s: %s; "
				   "does its directory exist and may segd write there?",
				   path, strerror(-ret));
			goto fail;
		}
	}
	*out = fl;
	return 0;
fail:
	free(fl->path);
	free(fl);
	return ret;
}

/* FILE.(keep-1) -> FILE.keep ... FILE -> FILE.1, then a new FILE. */
static int rotate(struct seg_flowlog *fl)
{
	size_t n = strlen(fl->path) + 16;
	char *from = malloc(n), *to = malloc(n);
	int ret = 0;

	if (!from || !to) {
		ret = -ENOMEM;
		goto out;
	}
	for (unsigned int i = fl->keep; i > 1; i--) {
		snprintf(from, n, "%s.%u", fl->path, i - 1);
		snprintf(to, n, "%s.%u", fl->path, i);
		if (rename(from, to) && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
	}
	snprintf(to, n, "%s.1", fl->path);
	if (fl->keep ? rename(fl->path, to) : unlink(fl->path)) {
		if (errno != ENOENT) {
			ret = -errno;
			goto out;
		}
	}
	close(fl->fd);
	fl->fd = -1;
	ret = open_file(fl);
	if (!ret)
		fl->st.rotations++;
out:
	free(from);
	free(to);
	return ret;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

void seg_flowlog_sink(void *ctx, const struct seg_flow_record *r)
{
	seg_flowlog_write(ctx, r);   /* errors are counted in the log's stats */
}

int seg_flowlog_write(struct seg_flowlog *fl, const struct seg_flow_record *r)
{
	char stack[LINE_STACK], *line = stack, *big = NULL;
	int n = seg_flow_record_json(r, stack, sizeof(stack));
	int ret = 0;

	if (n == -ENOSPC) {
		big = malloc(LINE_MAX_BYTES);
		n = big ? seg_flow_record_json(r, big, LINE_MAX_BYTES) : -ENOMEM;
		line = big;
	}
	if (n < 0) {
		ret = n;
		goto out;
	}
	if (fl->fd < 0 && fl->path)     /* a failed rotation or reopen */
		ret = open_file(fl);
	if (!ret && fl->path && fl->max_bytes && fl->size &&
	    fl->size + (uint64_t)n > fl->max_bytes)
		ret = rotate(fl);
	if (!ret)
		ret = write_all(fl->fd, line, (size_t)n);
	if (!ret) {
		fl->size += (uint64_t)n;
		fl->st.lines++;
		fl->st.bytes += (uint64_t)n;
	}
out:
	if (ret) {
		/* one warning per hundred losses: a full disk must not flood */
		if (fl->st.write_errors++ % 100 == 0)
			seg_log(SEG_LOG_WARN, "flow log %s: %s (%llu records lost so far)",
				fl->path ? fl->path : "stdout", strerror(-ret),
				(unsigned long long)fl->st.write_errors);
	}
	free(big);
	return ret;
}

int seg_flowlog_reopen(struct seg_flowlog *fl)
{
	if (!fl || !fl->path)
		return 0;
	if (fl->fd >= 0)
		close(fl->fd);
	fl->fd = -1;
	return open_file(fl);
}

void seg_flowlog_stats(const struct seg_flowlog *fl, struct seg_flowlog_stats *out)
{
	if (fl)
		*out = fl->st;
	else
		memset(out, 0, sizeof(*out));
}

void seg_flowlog_close(struct seg_flowlog *fl)
{
	if (!fl)
		return;
	if (fl->path && fl->fd >= 0)
		close(fl->fd);
	free(fl->path);
	free(fl);
}
