/* duration.h - how long, as the user writes it: "90" or "90s", "30m",
 * "12h", "7d" (--since, --expires, ...). */
#ifndef SEGD_DURATION_H
#define SEGD_DURATION_H

#include <stdint.h>

/* A positive count of seconds, minutes, hours or days into *secs; 0 or
 * -EINVAL. */
int seg_duration_parse(const char *s, int64_t *secs);

#endif /* SEGD_DURATION_H */
