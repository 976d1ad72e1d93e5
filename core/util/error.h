/* error.h - where a problem was found and what to do about it: every
 * fallible step of segd fills one. */
#ifndef SEGD_ERROR_H
#define SEGD_ERROR_H

#include <stddef.h>

/* Where a problem was found; msg says what and what to do. */
struct seg_error {
	char file[256];   /* "" when not from a file */
	int line, col;    /* 1-based; 0 when unknown */
	char msg[512];
};
/* Fill err (may be NULL) and return -code. printf-style message. */
int seg_errorf(struct seg_error *err, const char *file, int line, int col,
	       int code, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* "file:line:col: msg" or just "msg" */
void seg_error_format(const struct seg_error *err, char *buf, size_t len);

#endif /* SEGD_ERROR_H */
