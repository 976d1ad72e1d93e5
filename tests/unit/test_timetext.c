/* test_timetext.c - durations (--since, --expires) and RFC 3339 stamps. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include "timetext.h"

struct dur_case {
	char text[24];
	int ret;
	int64_t secs;
};

static const struct dur_case dur_cases[] = {
	{ "3600", 0, 3600 }, { "90s", 0, 90 }, { "30m", 0, 1800 }, { "12h", 0, 43200 },
	{ "7d", 0, 604800 }, { "0", -EINVAL, 0 }, { "-5m", -EINVAL, 0 }, { "", -EINVAL, 0 },
	{ "5w", -EINVAL, 0 }, { "m", -EINVAL, 0 }, { " 5m", -EINVAL, 0 }, { "5mm", -EINVAL, 0 },
	{ "99999999999999999d", -EINVAL, 0 },
};

ParameterizedTestParameters(timetext, duration)
{
	return cr_make_param_array(struct dur_case, dur_cases,
				   sizeof(dur_cases) / sizeof(dur_cases[0]));
}

ParameterizedTest(const struct dur_case *c, timetext, duration)
{
	int64_t secs = -1;

	cr_assert_eq(seg_duration_parse(c->text, &secs), c->ret, "'%s'", c->text);
	if (!c->ret)
		cr_assert_eq(secs, c->secs, "'%s': %lld", c->text, (long long)secs);
}

Test(timetext, rfc3339)
{
	char buf[32];

	seg_rfc3339(1795306200, buf, sizeof(buf));
	cr_assert_str_eq(buf, "2026-11-22T00:10:00Z");
}
