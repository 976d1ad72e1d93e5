/* sort.c - an in-place introsort (sort.h). Pure code. */
#include "sort.h"

#include <stdlib.h>
#include <string.h>

#define SHORT_RUN 16            /* insertion sort below this */

struct sorter {
	unsigned char *b;
	size_t size;
	int (*cmp)(const void *, const void *);
};

static unsigned char *at(const struct sorter *s, size_t i)
{
	return s->b + i * s->size;
}

static void swap(const struct sorter *s, size_t i, size_t j)
{
	unsigned char t[SEG_SORT_ELEM_MAX];

	memcpy(t, at(s, i), s->size);
	memcpy(at(s, i), at(s, j), s->size);
	memcpy(at(s, j), t, s->size);
}

static int less(const struct sorter *s, size_t i, size_t j)
{
	return s->cmp(at(s, i), at(s, j)) < 0;
}

/* [lo, hi) */
static void insertion(const struct sorter *s, size_t lo, size_t hi)
{
	unsigned char t[SEG_SORT_ELEM_MAX];

	for (size_t i = lo + 1; i < hi; i++) {
		size_t j = i;

		if (!less(s, i, i - 1))
			continue;
		memcpy(t, at(s, i), s->size);
		for (; j > lo && s->cmp(at(s, j - 1), t) > 0; j--)
			memcpy(at(s, j), at(s, j - 1), s->size);
		memcpy(at(s, j), t, s->size);
	}
}

/* the max-heap of the n elements from lo, rooted at root */
static void sift(const struct sorter *s, size_t lo, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;

		if (child >= n)
			return;
		if (child + 1 < n && less(s, lo + child, lo + child + 1))
			child++;
		if (!less(s, lo + root, lo + child))
			return;
		swap(s, lo + root, lo + child);
		root = child;
	}
}

static void heap_sort(const struct sorter *s, size_t lo, size_t hi)
{
	size_t n = hi - lo;

	for (size_t i = n / 2; i-- > 0;)
		sift(s, lo, i, n);
	for (size_t i = n; i-- > 1;) {
		swap(s, lo, lo + i);
		sift(s, lo, 0, i);
	}
}

static void intro(const struct sorter *s, size_t lo, size_t hi, int depth)
{
	while (hi - lo > SHORT_RUN) {
		size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;

		if (depth-- == 0) {     /* bad pivots: no quadratic time */
			heap_sort(s, lo, hi);
			return;
		}
		/* median of three becomes the pivot, at lo */
		if (less(s, mid, lo))
			swap(s, mid, lo);
		if (less(s, hi - 1, lo))
			swap(s, hi - 1, lo);
		if (less(s, hi - 1, mid))
			swap(s, hi - 1, mid);
		swap(s, lo, mid);
		/* Hoare: stops on equal keys, so runs of them split evenly */
		for (;;) {
			do
				i++;
			while (i < hi && less(s, i, lo));
			do
				j--;
			while (less(s, lo, j));
			if (i >= j)
				break;
			swap(s, i, j);
		}
		swap(s, lo, j);
		/* recurse into the smaller side, loop on the larger */
		if (j - lo < hi - j - 1) {
			intro(s, lo, j, depth);
			lo = j + 1;
		} else {
			intro(s, j + 1, hi, depth);
			hi = j;
		}
	}
	insertion(s, lo, hi);
}

void seg_sort_inplace(void *base, size_t n, size_t size,
		      int (*cmp)(const void *, const void *))
{
	struct sorter s = { base, size, cmp };
	int depth = 0;

	if (n < 2)
		return;
	if (size > SEG_SORT_ELEM_MAX) {
		qsort(base, n, size, cmp);
		return;
	}
	for (size_t m = n; m > 1; m >>= 1)
		depth += 2;
	intro(&s, 0, n, depth);
}
