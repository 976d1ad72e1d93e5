/* duration.h - "3600", "90s", "30m", "12h", "7d" as seconds: what
 * `--since` and `--expires` take. */
#ifndef SEGD_DURATION_H
#define SEGD_DURATION_H

#include <stdint.h>

/* 0 and *secs > 0, or -EINVAL (empty, zero, negative, unknown unit). */
int seg_duration_parse(const char *s, int64_t *secs);

#endif /* SEGD_DURATION_H */
