/* quarantine_image.h - what turns the content of segd_quarantine into
 * another: the entries to write and the keys to delete, from two sorted
 * arrays of seg_quar_entries (core/compile/quarantine.h). Pure: no
 * syscalls; daemon/datapath/datapath_quarantine.c writes them.
 */
#ifndef SEGD_QUARANTINE_IMAGE_H
#define SEGD_QUARANTINE_IMAGE_H

#include <stddef.h>
#include "quarantine.h"

/* The entry of address a in v (n entries sorted by address), or NULL. */
const struct seg_quar_entry *seg_quar_image_find(const struct seg_quar_entry *v,
						 size_t n,
						 const struct segd_addr *a);

/* What makes a map holding prev hold next (both sorted by address):
 * up[] gets the indexes into next of the entries that are new or whose
 * value changed, in order (room for n_next), stale[] the indexes into
 * prev of the addresses next does not hold (room for n_prev). */
void seg_quar_image_delta(const struct seg_quar_entry *prev, size_t n_prev,
			  const struct seg_quar_entry *next, size_t n_next,
			  size_t *up, size_t *n_up,
			  size_t *stale, size_t *n_stale);

#endif /* SEGD_QUARANTINE_IMAGE_H */
