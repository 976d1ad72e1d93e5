/* log.h - segd's log: one line per event on stderr (journald adds time
 * when run as a service; a terminal gets it from us). */
#ifndef SEGD_LOG_H
#define SEGD_LOG_H

enum seg_log_level { SEG_LOG_ERROR, SEG_LOG_WARN, SEG_LOG_INFO, SEG_LOG_DEBUG };

#include <stdbool.h>

void seg_log_set_level(enum seg_log_level level);
/* Whether a line of this level would be written. */
bool seg_log_enabled(enum seg_log_level level);
void seg_log(enum seg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* SEGD_LOG_H */
