/* flowlog.c - the JSON flow log file: append, rotate by size, reopen. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"
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
	/* seg_flowlog_buffer: whole lines gathered here, written at
	 * seg_flowlog_flush or when full, so a pass of 100,000 records costs
	 * a few hundred writes instead of 100,000 */
	char *buf;
	size_t used, buf_lines;
};

#define FLOWLOG_BUF (256u << 10)

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

int seg_flowlog_buffer(struct seg_flowlog *fl)
{
	if (!fl->buf && !(fl->buf = malloc(FLOWLOG_BUF)))
		return -ENOMEM;
	return 0;
}

static void count_error(struct seg_flowlog *fl, int err, uint64_t lost)
{
	uint64_t before = fl->st.write_errors;

	fl->st.write_errors += lost;
	/* one warning per hundred losses: a full disk must not flood */
	if (before / 100 != fl->st.write_errors / 100 || !before)
		seg_log(SEG_LOG_WARN, "flow log %s: %s (%llu records lost so far)",
			fl->path ? fl->path : "stdout", strerror(-err),
			(unsigned long long)fl->st.write_errors);
}

int seg_flowlog_flush(struct seg_flowlog *fl)
{
	int ret = 0;

	if (!fl || !fl->used)
		return 0;
	if (fl->fd < 0 && fl->path)     /* a failed rotation or reopen */
		ret = open_file(fl);
	if (!ret)
		ret = seg_write_all(fl->fd, fl->buf, fl->used);
	if (ret) {
		/* the file's size counted them: take them back */
		fl->size -= fl->used < fl->size ? fl->used : fl->size;
		fl->st.lines -= fl->buf_lines;
		fl->st.bytes -= fl->used;
		count_error(fl, ret, fl->buf_lines);
	}
	fl->used = fl->buf_lines = 0;
	return ret;
}

void seg_flowlog_on_pass(void *ctx, uint64_t now_ns)
{
	(void)now_ns;
	seg_flowlog_flush(ctx);
}

void seg_flowlog_sink(void *ctx, const struct seg_flow_record *r)
{
	seg_flowlog_write(ctx, r);   /* errors are counted in the log's stats */
}

int seg_flowlog_write_line(struct seg_flowlog *fl, const char *line, size_t n)
{
	int ret = 0;

	if (fl->path && fl->max_bytes && fl->size && fl->size + n > fl->max_bytes) {
		seg_flowlog_flush(fl);   /* its lines belong to this file */
		ret = rotate(fl);
	}
	if (!ret && fl->buf && fl->used + n > FLOWLOG_BUF)
		seg_flowlog_flush(fl);
	if (!ret && fl->buf && n <= FLOWLOG_BUF) {
		memcpy(fl->buf + fl->used, line, n);
		fl->used += n;
		fl->buf_lines++;
	} else if (!ret) {
		if (fl->fd < 0 && fl->path)     /* a failed rotation or reopen */
			ret = open_file(fl);
		if (!ret)
			ret = seg_write_all(fl->fd, line, n);
	}
	if (!ret) {
		fl->size += n;
		fl->st.lines++;
		fl->st.bytes += n;
	} else {
		count_error(fl, ret, 1);
	}
	return ret;
}

int seg_flowlog_write(struct seg_flowlog *fl, const struct seg_flow_record *r)
{
	char stack[LINE_STACK], *line = stack, *big = NULL;
	int n = seg_flow_record_json(r, stack, sizeof(stack));
	int ret;

	if (n == -ENOSPC) {
		big = malloc(LINE_MAX_BYTES);
		n = big ? seg_flow_record_json(r, big, LINE_MAX_BYTES) : -ENOMEM;
		line = big;
	}
	if (n < 0)
		count_error(fl, n, 1);
	ret = n < 0 ? n : seg_flowlog_write_line(fl, line, (size_t)n);
	free(big);
	return ret;
}

int seg_flowlog_reopen(struct seg_flowlog *fl)
{
	if (!fl || !fl->path)
		return 0;
	seg_flowlog_flush(fl);
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
	seg_flowlog_flush(fl);
	if (fl->path && fl->fd >= 0)
		close(fl->fd);
	free(fl->buf);
	free(fl->path);
	free(fl);
}
