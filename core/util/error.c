/* error.c - seg_error (error.h). */
#include <stdarg.h>
#include <stdio.h>
#include "error.h"

int seg_errorf(struct seg_error *err, const char *file, int line, int col,
	       int code, const char *fmt, ...)
{
	if (code < 0)
		code = -code;
	if (err) {
		va_list ap;

		snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
		err->line = line;
		err->col = col;
		err->kind = NULL;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

int seg_error_kind(struct seg_error *err, const char *kind, int ret)
{
	if (err)
		err->kind = kind;
	return ret;
}

void seg_error_format(const struct seg_error *err, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	if (!err) {
		snprintf(buf, len, "unknown error");
		return;
	}
	if (err->file[0] && err->line > 0 && err->col > 0)
		snprintf(buf, len, "%s:%d:%d: %s", err->file, err->line,
			 err->col, err->msg);
	else if (err->file[0] && err->line > 0)
		snprintf(buf, len, "%s:%d: %s", err->file, err->line, err->msg);
	else if (err->file[0])
		snprintf(buf, len, "%s: %s", err->file, err->msg);
	else
		snprintf(buf, len, "%s", err->msg);
}
