/* timetext.h - times as text: durations ("3600", "90s", "30m", "12h",
 * "7d": what `--since` and `--expires` take) and RFC 3339 UTC stamps
 * (the audit logs, reports, state files). */
#ifndef SEGD_TIMETEXT_H
#define SEGD_TIMETEXT_H

#include <stddef.h>
#include <stdint.h>

/* 0 and *secs > 0, or -EINVAL (empty, zero, negative, unknown unit). */
int seg_duration_parse(const char *s, int64_t *secs);

/* RFC 3339 UTC ("2026-11-22T00:10:00Z") of unix seconds t. */
void seg_rfc3339(int64_t t, char *buf, size_t len);
/* With milliseconds, "2026-11-21T23:59:01.123Z", for ns since the epoch;
 * buf >= 25 bytes (the flow log's and the alerts' times). */
void seg_rfc3339_ms(uint64_t ns, char *buf, size_t len);

#endif /* SEGD_TIMETEXT_H */
