/* timetext.c - times as text (timetext.h). */
#include <errno.h>
#include <stdio.h>
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

void seg_rfc3339_ms(uint64_t ns, char *buf, size_t len)
{
	/* a record has three times (now, start, end) and a pass's records
	 * share few seconds: format each second once, keep the last four */
	static _Thread_local struct { time_t secs; char day[24]; } cache[4] = {
		{ -1, "" }, { -1, "" }, { -1, "" }, { -1, "" } };
	static _Thread_local unsigned int next;
	time_t secs = (time_t)(ns / 1000000000ull);
	unsigned int ms = (unsigned int)(ns % 1000000000ull / 1000000u), i;
	struct tm tm;

	for (i = 0; i < 4 && cache[i].secs != secs; i++)
		;
	if (i == 4) {
		i = next++ % 4;
		if (!gmtime_r(&secs, &tm) ||
		    !strftime(cache[i].day, sizeof(cache[i].day), "%Y-%m-%dT%H:%M:%S", &tm))
			snprintf(cache[i].day, sizeof(cache[i].day), "1970-01-01T00:00:00");
		cache[i].secs = secs;
	}
	if (len < 25) {   /* 19 + ".mmmZ" + NUL */
		snprintf(buf, len, "%s.%03uZ", cache[i].day, ms);
		return;
	}
	memcpy(buf, cache[i].day, 19);
	buf[19] = '.';
	buf[20] = (char)('0' + ms / 100);
	buf[21] = (char)('0' + ms / 10 % 10);
	buf[22] = (char)('0' + ms % 10);
	buf[23] = 'Z';
	buf[24] = '\0';
}
