/* test_sort.c - seg_sort_inplace against qsort on inputs that break naive
 * quicksorts: sorted, reversed, all equal, few distinct keys, organ pipe,
 * random; and element sizes of the blocklist arrays. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sort.h"

struct sort_case {
	char name[32];
	size_t n;
	size_t size;            /* bytes per element: the key is the first 4 */
	int shape;
};

enum { RANDOM, SORTED, REVERSED, EQUAL, FEW, ORGAN };

static const struct sort_case sorts[] = {
	{ "empty", 0, 24, RANDOM },
	{ "one", 1, 24, RANDOM },
	{ "short run", 15, 20, RANDOM },
	{ "random 24 B", 100000, 24, RANDOM },
	{ "random 20 B", 100001, 20, RANDOM },
	{ "random 12 B", 4097, 12, RANDOM },
	{ "sorted", 50000, 24, SORTED },
	{ "reversed", 50000, 24, REVERSED },
	{ "all equal", 50000, 24, EQUAL },
	{ "few distinct", 50000, 24, FEW },
	{ "organ pipe", 50000, 24, ORGAN },
	{ "bigger than the limit", 1000, 80, RANDOM },
};

ParameterizedTestParameters(sort, table)
{
	return cr_make_param_array(struct sort_case, sorts,
				   sizeof(sorts) / sizeof(sorts[0]));
}

static int key_cmp(const void *a, const void *b)
{
	uint32_t x, y;

	memcpy(&x, a, 4);
	memcpy(&y, b, 4);
	return x < y ? -1 : x > y;
}

/* the whole element, so equal keys with different payloads compare */
static size_t elem_size;
static int full_cmp(const void *a, const void *b)
{
	int c = key_cmp(a, b);

	return c ? c : memcmp(a, b, elem_size);
}

ParameterizedTest(struct sort_case *c, sort, table)
{
	unsigned char *a = malloc(c->n * c->size + 1), *b = malloc(c->n * c->size + 1);
	uint64_t r = 0x9e3779b97f4a7c15ull;

	cr_assert(a && b);
	for (size_t i = 0; i < c->n; i++) {
		uint32_t k;

		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		k = c->shape == SORTED ? (uint32_t)i : c->shape == REVERSED ?
		    (uint32_t)(c->n - i) : c->shape == EQUAL ? 7 :
		    c->shape == FEW ? (uint32_t)(r % 5) : c->shape == ORGAN ?
		    (uint32_t)(i < c->n / 2 ? i : c->n - i) : (uint32_t)r;
		for (size_t j = 0; j < c->size; j++)
			a[i * c->size + j] = (unsigned char)(r >> (j % 8 * 8));
		memcpy(a + i * c->size, &k, 4);
	}
	memcpy(b, a, c->n * c->size);
	elem_size = c->size;
	seg_sort_inplace(a, c->n, c->size, key_cmp);
	qsort(b, c->n, c->size, key_cmp);
	for (size_t i = 1; i < c->n; i++)
		cr_assert_leq(key_cmp(a + (i - 1) * c->size, a + i * c->size), 0,
			      "%s: out of order at %zu", c->name, i);
	/* the same elements: sort both by the whole element and compare */
	seg_sort_inplace(a, c->n, c->size, full_cmp);
	qsort(b, c->n, c->size, full_cmp);
	cr_assert(!c->n || !memcmp(a, b, c->n * c->size), "%s: elements lost",
		  c->name);
	free(a);
	free(b);
}
