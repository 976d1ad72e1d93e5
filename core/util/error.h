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
	/* what kind of problem, for tools that sort them (`segctl lint`):
	 * a stable short id ("port-out-of-range"), or NULL for any other */
	const char *kind;
};
/* Fill err (may be NULL) and return -code. printf-style message. */
int seg_errorf(struct seg_error *err, const char *file, int line, int col,
	       int code, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* err->kind of a port number outside its protocol's range (0, above
 * 65535, a range that ends below its start, a port on ICMP) */
#define SEG_ERR_PORT_RANGE "port-out-of-range"

/* Set err->kind (err may be NULL) and return ret: `return
 * seg_error_kind(err, "port-out-of-range", seg_errorf(...))`. */
int seg_error_kind(struct seg_error *err, const char *kind, int ret);
/* "file:line:col: msg" or just "msg" */
void seg_error_format(const struct seg_error *err, char *buf, size_t len);

#endif /* SEGD_ERROR_H */
