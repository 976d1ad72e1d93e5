/* sort.h - an in-place sort for big arrays. */
#ifndef SEGD_SORT_H
#define SEGD_SORT_H

#include <stddef.h>

/* Sort like qsort(3), but without its scratch copy: glibc's qsort is a
 * merge sort that first mallocs a second array as big as the input (24 MB
 * for a 1,000,000-line feed). Introsort (quicksort, heapsort when a
 * partition goes bad, insertion sort for short runs): O(n log n) on any
 * input, not stable, O(log n) stack. Elements up to SEG_SORT_ELEM_MAX
 * bytes; bigger ones go to qsort. */
#define SEG_SORT_ELEM_MAX 64
void seg_sort_inplace(void *base, size_t n, size_t size,
		      int (*cmp)(const void *, const void *));

#endif /* SEGD_SORT_H */
