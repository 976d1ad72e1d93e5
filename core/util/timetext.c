/* timetext.c - times as text (timetext.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "timetext.h"

int seg_duration_parse(const char *s, int64_t *secs)
{
	static const struct { const char *unit; long long mul; } units[] = {
		{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	};
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			if (v > INT64_MAX / units[i].mul)
				return -EINVAL;
			*secs = v * units[i].mul;
			return 0;
		}
	return -EINVAL;
}

void seg_rfc3339(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
