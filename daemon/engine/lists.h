/* lists.h - segd's indicator lists: their persistence under the state
 * dir, expiry, and writing the merged lists into the datapath (the
 * `blocklist` requests are control/control_blocklist.c). The parsing and merging themselves are pure
 * (blocklist.h). */
#ifndef SEGD_LISTS_H
#define SEGD_LISTS_H

#include <netinet/in.h>
#include <yaml.h>
#include "blocklist.h"
#include "segd.h"

#define SEGD_MAX_ALLOW 16

/* One loaded list. Its id (1..SEGD_MAX_BLOCKLISTS-1) is stable while it
 * exists: the datapath counts per id. */
/* One address a list's domain resolved to. */
struct segd_resolved {
	struct in6_addr addr;
	uint32_t domain;          /* index into the list's bl.domains */
	int64_t last_seen;        /* unix seconds of the last answer with it */
};

struct segd_list {
	uint16_t id;
	bool exception;              /* overrides every blocklist */
	struct seg_blocklist bl;     /* parsed, safety applied */
	char *file;                  /* where it was loaded from */
	int64_t loaded_at;           /* unix seconds */
	struct seg_cidr allow[SEGD_MAX_ALLOW]; /* --allow: reserved ranges it may cover */
	size_t n_allow;
	/* domain lists: what the names resolve to (resolver.h), and per
	 * domain when to ask next and how many queries are in flight */
	bool from_dir;               /* loaded from feeds_dir (feeds_dir.c) */
	int64_t feed_mtime, feed_size; /* of that file when loaded */
	struct segd_resolved *resolved;
	size_t n_resolved;
	int64_t *next_query;
	uint8_t *pending;
};


/* The loaded lists as seg_blocklists_test() takes them: every list (domain
 * lists with what their names resolved to), which of them are exception
 * lists, and the exception prefixes. Shared by `blocklist test` and
 * `explain`. 0 or -ENOMEM; free with segd_lists_view_free. */
struct segd_lists_view {
	struct seg_blocklist *lists;    /* shallow copies of d->lists[i].bl */
	bool *exception;
	size_t n_lists;
	struct seg_cidr *exceptions;
	size_t n_exceptions;
	struct seg_bl_entry **merged;   /* owned entry arrays of domain lists */
};
int segd_lists_view(struct segd *d, struct segd_lists_view *v);
void segd_lists_view_free(struct segd_lists_view *v);

/* At start: the lists saved under the state dir, parsed again and written
 * to the maps. A list that no longer loads is logged and skipped. */
int segd_blocklists_restore(struct segd *d, struct seg_error *err);
/* Drop lists whose expiry has passed (called from a timer). */
int segd_blocklists_expire(struct segd *d, int64_t now);
void segd_blocklists_free(struct segd *d);

/* Write the current lists (with their resolved addresses) again. */
int segd_blocklists_rewrite(struct segd *d, struct seg_error *err);
/* May list l block address a (the safety check for resolved addresses)? */
bool segd_list_address_allowed(struct segd *d, const struct segd_list *l,
			       const struct in6_addr *a);

#endif /* SEGD_LISTS_H */
