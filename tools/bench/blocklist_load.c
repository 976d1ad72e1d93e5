/* bench_blocklist_load - loading a blocklist: parse, safety, compile.
 *
 * Large case: 1,000,000 lines generated in memory (no file I/O, so the
 * numbers are the loader's): 90% single public IPv4 addresses, 10% /16-/24
 * prefixes, in random order (the worst case for sorting; real feeds are
 * often sorted, which skips the sort), auto-detected as a plain list.
 * Safety runs with 2 node addresses and 1,000 endpoint addresses (pod
 * space 10.0.0.0/16 plus one public endpoint); compile with 2 exceptions.
 * Small case: the same with 10 lines. Prints the best of 3 runs per step,
 * side by side, then the process's max RSS (getrusage), which bounds what
 * the loader adds to segd: the text, the parsed list and the compiled
 * maps' content are all alive at the peak. Not a pass/fail test; exits 1
 * only when a step fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "blocklist.h"

#define N_LARGE 1000000
#define N_SMALL 10
#define N_EPS 1000
#define RUNS 3

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* A public unicast first octet (no 0, 10, 100, 127, 169, 172, 192, 224+). */
static unsigned public_octet(void)
{
	for (;;) {
		unsigned o = 1 + rnd() % 223;

		if (o != 10 && o != 100 && o != 127 && o != 169 && o != 172 &&
		    o != 192)
			return o;
	}
}

static char *gen(size_t n, size_t *len)
{
	size_t cap = n * 20 + 64, o = 0;
	char *buf = malloc(cap);

	if (!buf) {
		perror("malloc");
		exit(1);
	}
	o += (size_t)snprintf(buf, cap, "# generated: %zu entries\n", n);
	for (size_t i = 0; i < n; i++) {
		unsigned a = public_octet(), b = rnd() % 256, c = rnd() % 256,
			 d = rnd() % 256;

		if (rnd() % 10) {
			o += (size_t)snprintf(buf + o, cap - o, "%u.%u.%u.%u\n",
					      a, b, c, d);
		} else {
			unsigned plen = 16 + rnd() % 9;
			uint32_t v = a << 24 | b << 16 | c << 8 | d;

			v &= plen ? 0xffffffffu << (32 - plen) : 0;
			o += (size_t)snprintf(buf + o, cap - o, "%u.%u.%u.%u/%u\n",
					      v >> 24, (v >> 16) & 255,
					      (v >> 8) & 255, v & 255, plen);
		}
	}
	*len = o;
	return buf;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct result {
	double parse, safety, compile;
	size_t lines, entries, refused, exact, prefixes;
};

static int run(const char *text, size_t len, size_t lines, struct result *best)
{
	struct in6_addr node[2], eps[N_EPS];
	struct seg_cidr exc[2];
	struct seg_bl_safety sf = {
		.node_addrs = node, .n_node_addrs = 2,
		.ep_addrs = eps, .n_ep_addrs = N_EPS,
	};
	char a[64];

	seg_addr_parse("192.0.2.1", &node[0]);
	seg_addr_parse("2001:db8::1", &node[1]);
	for (int i = 0; i < N_EPS - 1; i++) {
		snprintf(a, sizeof(a), "10.0.%d.%d", i / 250, 1 + i % 250);
		seg_addr_parse(a, &eps[i]);
	}
	seg_addr_parse("198.51.100.77", &eps[N_EPS - 1]);
	seg_cidr_parse("198.51.100.0/24", &exc[0], NULL);
	seg_cidr_parse("203.0.113.0/24", &exc[1], NULL);
	memset(best, 0, sizeof(*best));
	best->lines = lines;
	for (int r = 0; r < RUNS; r++) {
		struct seg_blocklist bl = { .category = SEGD_BL_C2,
					    .action = SEGD_BL_DROP };
		struct seg_bl_compiled out;
		struct seg_error err = { 0 };
		double t0, t1, t2, t3;
		size_t before;

		t0 = now();
		if (seg_blocklist_parse(text, len, "bench.netset", SEG_BL_FMT_AUTO,
					&bl, &err)) {
			fprintf(stderr, "parse: %s\n", err.msg);
			return -1;
		}
		t1 = now();
		before = bl.n_entries;
		seg_blocklist_apply_safety(&bl, &sf);
		t2 = now();
		if (seg_blocklists_compile(&bl, 1, exc, 2, &out, &err)) {
			fprintf(stderr, "compile: %s\n", err.msg);
			seg_blocklist_free(&bl);
			return -1;
		}
		t3 = now();
		if (!r || t1 - t0 < best->parse)
			best->parse = t1 - t0;
		if (!r || t2 - t1 < best->safety)
			best->safety = t2 - t1;
		if (!r || t3 - t2 < best->compile)
			best->compile = t3 - t2;
		best->entries = before;
		best->refused = before - bl.n_entries;
		best->exact = out.n_exact;
		best->prefixes = out.n_prefixes;
		seg_bl_compiled_free(&out);
		seg_blocklist_free(&bl);
	}
	return 0;
}

static void ms(const char *what, double large, double small)
{
	printf("  %-26s %12.1f ms %12.3f ms %10.0fx\n", what, large * 1e3,
	       small * 1e3, small > 0 ? large / small : 0);
}

int main(void)
{
	struct result L, S;
	struct rusage ru;
	size_t llen, slen;
	char *large = gen(N_LARGE, &llen);
	char *small = gen(N_SMALL, &slen);

	if (run(large, llen, N_LARGE, &L) || run(small, slen, N_SMALL, &S))
		return 1;
	printf("blocklist load (best of %d)       %12s    %12s    %10s\n", RUNS,
	       "1M lines", "10 lines", "ratio");
	printf("  %-26s %12.1f MB %12zu B\n", "feed text", (double)llen / 1e6, slen);
	printf("  %-26s %12zu    %12zu\n", "entries parsed (unique)", L.entries,
	       S.entries);
	printf("  %-26s %12zu    %12zu\n", "refused by safety", L.refused,
	       S.refused);
	printf("  %-26s %12zu    %12zu\n", "exact map entries", L.exact, S.exact);
	printf("  %-26s %12zu    %12zu\n", "LPM map entries", L.prefixes,
	       S.prefixes);
	ms("parse (auto-detect)", L.parse, S.parse);
	ms("safety", L.safety, S.safety);
	ms("compile", L.compile, S.compile);
	ms("total", L.parse + L.safety + L.compile,
	   S.parse + S.safety + S.compile);
	getrusage(RUSAGE_SELF, &ru);
	printf("  max RSS of this process: %.1f MB (target for segd with 1M "
	       "entries: < 100 MB)\n", (double)ru.ru_maxrss / 1024);
	printf("  per-entry memory: parsed %zu B, exact map content %zu B, LPM "
	       "map content %zu B\n", sizeof(struct seg_bl_entry),
	       sizeof(struct seg_bl_exact_entry),
	       sizeof(struct seg_bl_prefix_entry));
	free(large);
	free(small);
	return 0;
}
