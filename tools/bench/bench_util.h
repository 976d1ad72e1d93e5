/* bench_util.h - timing and statistics helpers the tools/bench programs
 * share (static inline: each bench is its own binary).
 */
#ifndef SEGD_BENCH_UTIL_H
#define SEGD_BENCH_UTIL_H

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds */
static inline double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the median of v[0..n); sorts v in place (v[0] is then the minimum) */
static inline double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline double minimum(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

/* this thread on CPU cpu only: 0, or -errno */
static inline int pin_cpu(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one) ? -errno : 0;
}

#endif
