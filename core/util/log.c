/* log.c - stderr logging with a level and a UTC timestamp. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include "log.h"

static enum seg_log_level max_level = SEG_LOG_INFO;

void seg_log_set_level(enum seg_log_level level)
{
	max_level = level;
}

bool seg_log_enabled(enum seg_log_level level)
{
	return level <= max_level;
}

void seg_log(enum seg_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > max_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ segd %s: ", stamp, ts.tv_nsec / 1000000,
		names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
