/* compiler_codes.c - buckets of entry codes (see compiler_int.h): radix
 * sort and merge per key. The bottom of the compiler's call order: the
 * entries and the tiers both build on it. */
#include "compiler_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- sorting ------------------------------------------------------------- */

static void isort_u64(uint64_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		size_t j = i;

		for (; j && SEGC_KEY(v[j - 1]) > SEGC_KEY(x); j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Sort codes by key (bits 17..63) only: LSD radix, 8-bit digits from bit
 * 17; digits equal in every code cost no pass. Returns the buffer holding
 * the result (v or tmp). */
#define NDIG 6
static uint64_t *radix_u64(uint64_t *v, size_t n, uint64_t *tmp)
{
	uint32_t cnt[NDIG][256];
	uint64_t diff = 0, *src = v, *dst = tmp;

	if (n <= 32) {
		isort_u64(v, n);
		return v;
	}
	memset(cnt, 0, sizeof(cnt));
	for (size_t i = 0; i < n; i++) {
		uint64_t c = SEGC_KEY(v[i]);

		diff |= c ^ SEGC_KEY(v[0]);
		for (int b = 0; b < NDIG; b++)
			cnt[b][(c >> (8 * b)) & 0xff]++;
	}
	for (int b = 0; b < NDIG; b++) {
		uint32_t *c = cnt[b], sum = 0;
		int sh = SEGC_KIND_SHIFT + 8 * b;

		if (!((diff >> (8 * b)) & 0xff))
			continue;
		for (int d = 0; d < 256; d++) {
			uint32_t t = c[d];

			c[d] = sum;
			sum += t;
		}
		for (size_t i = 0; i < n; i++)
			dst[c[(src[i] >> sh) & 0xff]++] = src[i];
		{
			uint64_t *t = src;

			src = dst;
			dst = t;
		}
	}
	return src;
}
_Static_assert(64 - SEGC_KIND_SHIFT <= 8 * NDIG, "digits cover the key");

static void isort_u32(uint32_t *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t x = v[i];
		size_t j = i;

		for (; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

void segc_sort_u32(uint32_t *v, size_t n)
{
	if (n <= 32)
		isort_u32(v, n);
	else
		qsort(v, n, sizeof(*v), segc_cmp_u32);
}

size_t segc_uniq_u32(uint32_t *v, size_t n)
{
	size_t u = n ? 1 : 0;

	for (size_t j = 1; j < n; j++)
		if (v[j] != v[u - 1])
			v[u++] = v[j];
	return u;
}

/* ---- buckets ---------------------------------------------------------------- */

int segc_bk_grow(struct bucket *b)
{
	return segc_grow(&b->v, &b->cap, b->n + 1, sizeof(*b->v));
}

void segc_buckets_free(struct bucket *bk, size_t n)
{
	for (size_t i = 0; bk && i < n; i++)
		free(bk[i].v);
	free(bk);
}

/* codes sorted by key -> one code per key, in place: the least, i.e.
 * the strongest verdict (DENY, AUDIT, ALLOW, default AUDIT), then the
 * lowest rule id */
static size_t dedupe(uint64_t *v, size_t n)
{
	size_t u = n ? 1 : 0;

	for (size_t i = 1; i < n; i++) {
		if (SEGC_KEY(v[i]) != SEGC_KEY(v[u - 1]))
			v[u++] = v[i];
		else if (v[i] < v[u - 1])
			v[u - 1] = v[i];
	}
	return u;
}

int segc_sort_codes(struct ctx *x, uint64_t *v, size_t *n)
{
	uint64_t *s;

	if (segc_grow(&x->tmp, &x->cap_tmp, *n, sizeof(*x->tmp)))
		return -ENOMEM;
	s = radix_u64(v, *n, x->tmp);
	if (s != v)
		memcpy(v, s, *n * sizeof(*v));
	*n = dedupe(v, *n);
	return 0;
}

int segc_bk_sort(struct ctx *x, struct bucket *b)
{
	int rc = 0;

	if (b->n_sorted != b->n)
		rc = segc_sort_codes(x, b->v, &b->n);
	b->n_sorted = b->n;
	return rc;
}

int segc_compact_all(struct ctx *x, struct bucket *bk)
{
	size_t total = 0;
	int rc = 0;

	for (size_t i = 0; i < x->n_ids && !rc; i++) {
		rc = segc_bk_sort(x, &bk[i]);
		total += bk[i].n;
	}
	x->raw = 0;
	if (!rc && total > SEGD_MAX_POLICY_ENTRIES)
		rc = -E2BIG;
	return rc;
}
