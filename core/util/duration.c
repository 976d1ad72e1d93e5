/* duration.c - seg_duration_parse (duration.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "duration.h"

int seg_duration_parse(const char *s, int64_t *secs)
{
	char *end;
	long long v, unit;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	unit = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 :
	       !strcmp(end, "h") ? 3600 : !strcmp(end, "d") ? 86400 : 0;
	if (errno || v <= 0 || !unit || v > INT64_MAX / unit)
		return -EINVAL;
	*secs = v * unit;
	return 0;
}
