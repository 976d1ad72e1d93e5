/* blocklist_int.h - what the blocklist_*.c files of core/compile share:
 * addresses as numbers and prefix range sets. Not an API.
 * Call order (one way): blocklist_compile.c -> blocklist_safety.c (range
 * sets, the safety check). The readers of core/parse have their own header
 * (blocklist_parse_int.h). */
#ifndef SEGD_BLOCKLIST_INT_H
#define SEGD_BLOCKLIST_INT_H

#include "blocklist.h"

/* An address as a 128-bit number (IPv4 in its mapped form). */
typedef unsigned __int128 seg_u128;

seg_u128 seg_bl_addr_num(const struct in6_addr *a);
/* First and last address of a prefix. */
void seg_bl_cidr_range(const struct seg_cidr *c, seg_u128 *lo, seg_u128 *hi);

/* A set of prefixes, as ranges sorted by start, for overlap and
 * containment queries in O(log n). Prefixes are either nested or disjoint,
 * which the queries rely on. */
struct seg_bl_range {
	seg_u128 lo, hi;
	seg_u128 max_hi;   /* max of hi over this and every earlier range */
	size_t tag;        /* caller's: index into its own table */
};
struct seg_bl_rangeset {
	struct seg_bl_range *v;
	size_t n, cap;
};
int seg_bl_rangeset_add(struct seg_bl_rangeset *s, const struct seg_cidr *c,
			size_t tag);
void seg_bl_rangeset_finish(struct seg_bl_rangeset *s);   /* sort, max_hi */
void seg_bl_rangeset_free(struct seg_bl_rangeset *s);
/* Does any range share an address with [lo, hi]? */
bool seg_bl_rangeset_overlaps(const struct seg_bl_rangeset *s, seg_u128 lo,
			      seg_u128 hi);
/* Does one range contain all of [lo, hi]? */
bool seg_bl_rangeset_covers(const struct seg_bl_rangeset *s, seg_u128 lo,
			    seg_u128 hi);

#endif /* SEGD_BLOCKLIST_INT_H */
