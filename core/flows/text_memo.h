/* text_memo.h - texts made once and then looked up by what they name,
 * until cleared.
 *
 * A flow pass names every record after a few endpoints, CIDR identities
 * and rules that thousands of flows share; formatting those names per
 * record with snprintf was a fifth of a pass over 262,144 flows. The flow
 * table keeps one memo and clears it whenever the names may have changed
 * (flowtab.h: at every pass and listing).
 *
 * Pure: no syscalls. Memory grows with the distinct names asked for
 * between two clears, not with the records.
 */
#ifndef SEGD_TEXT_MEMO_H
#define SEGD_TEXT_MEMO_H

#include <stddef.h>
#include <stdint.h>

struct seg_memo_slot;
struct seg_memo_chunk;

struct seg_text_memo {
	struct seg_memo_slot *slots;   /* open addressing, cap a power of 2 */
	size_t cap, n;
	struct seg_memo_chunk *chunks; /* where the texts are kept */
};

void seg_text_memo_init(struct seg_text_memo *m);
/* Forget every text (their pointers become invalid). */
void seg_text_memo_clear(struct seg_text_memo *m);
void seg_text_memo_free(struct seg_text_memo *m);

/* The text kept for (kind, key), or NULL. kind tells apart keys of
 * different things (nonzero). */
const char *seg_text_memo_get(const struct seg_text_memo *m, uint32_t kind, uint64_t key);
/* Keep a copy of text for (kind, key), which must not be kept yet:
 * the copy, or NULL when out of memory (nothing kept). */
const char *seg_text_memo_put(struct seg_text_memo *m, uint32_t kind, uint64_t key,
			      const char *text);

#endif /* SEGD_TEXT_MEMO_H */
