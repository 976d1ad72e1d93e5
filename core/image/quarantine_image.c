/* quarantine_image.c - the delta between two contents of segd_quarantine.
 * See quarantine_image.h. Pure code. */
#include "quarantine_image.h"

#include <stdlib.h>
#include <string.h>

static int cmp_addr_entry(const void *addr, const void *entry)
{
	const struct seg_quar_entry *e = entry;

	return memcmp(addr, &e->addr, sizeof(e->addr));
}

const struct seg_quar_entry *seg_quar_image_find(const struct seg_quar_entry *v,
						 size_t n,
						 const struct segd_addr *a)
{
	if (!n)         /* v may be NULL then */
		return NULL;
	return bsearch(a, v, n, sizeof(*v), cmp_addr_entry);
}

void seg_quar_image_delta(const struct seg_quar_entry *prev, size_t n_prev,
			  const struct seg_quar_entry *next, size_t n_next,
			  size_t *up, size_t *n_up,
			  size_t *stale, size_t *n_stale)
{
	*n_up = *n_stale = 0;
	for (size_t i = 0; i < n_next; i++) {
		const struct seg_quar_entry *old =
			seg_quar_image_find(prev, n_prev, &next[i].addr);

		if (old && !memcmp(&old->value, &next[i].value,
				   sizeof(old->value)))
			continue;       /* the map holds it already */
		up[(*n_up)++] = i;
	}
	for (size_t i = 0; i < n_prev; i++)
		if (!seg_quar_image_find(next, n_next, &prev[i].addr))
			stale[(*n_stale)++] = i;
}
