/* lists_int.h - what the blocklist requests (control_blocklist.c) and the
 * feeds dir (feeds_dir.c) use of the list machinery (lists.c). */
#ifndef SEGD_LISTS_INT_H
#define SEGD_LISTS_INT_H

#include "lists.h"

/* Lists at least this long are not kept twice during a reload. */
#define BIG_LIST 100000

bool segd_list_name_valid(const char *s);
struct segd_list *segd_list_find(struct segd *d, const char *name);
uint16_t segd_list_free_id(const struct segd *d);
void segd_list_free(struct segd_list *l);
/* A list's entries plus its resolved addresses, in entry order (malloc'ed). */
struct seg_bl_entry *segd_list_with_resolved(const struct segd_list *l, size_t *n_out);
/* Compile `lists` (the candidate set), write the maps, bump the generation. */
int segd_lists_enforce(struct segd *d, const struct segd_list *lists, size_t n,
		       struct seg_error *err);
int segd_list_save(const struct segd *d, const struct segd_list *l,
		   const char *feed, size_t len);
void segd_list_remove_files(const struct segd *d, const char *name);
int segd_list_parse_expiry(const char *s, int64_t now, int64_t *out);
/* Parse feed into l (name, id, flags and allow set) and apply safety. */
int segd_list_build(struct segd *d, struct segd_list *l, const char *feed, size_t len,
		    const char *file, enum seg_bl_format fmt, enum segd_bl_category cat,
		    enum segd_bl_action act, int64_t expires, struct seg_error *err);
/* Build *cand (name, file, exception and allow set) from feed and put it
 * into force, replacing a list of the same name; all-or-nothing. On
 * success *out is the installed list and *cand is emptied. */
int segd_list_install(struct segd *d, struct segd_list *cand, const char *feed, size_t len,
		      enum seg_bl_format fmt, enum segd_bl_category cat,
		      enum segd_bl_action act, int64_t expires, struct segd_list **out,
		      struct seg_error *err);
/* Remove list l (all-or-nothing; its files go from the state dir). */
int segd_list_delete(struct segd *d, struct segd_list *l, struct seg_error *err);
int segd_list_carry_resolved(const struct segd_list *old, struct segd_list *l);
void segd_list_reread_saved(struct segd *d, struct segd_list *l);

#endif /* SEGD_LISTS_INT_H */
