/* feeds_dir.h - indicator lists from a directory a feed updater writes. */
#ifndef SEGD_FEEDS_DIR_H
#define SEGD_FEEDS_DIR_H

#include <event2/event.h>
#include "segd.h"

struct segd_feeds;

/* Watch d->cfg.feeds_dir (nothing when unset); scans once right away. */
int segd_feeds_new(struct event_base *base, struct segd *d, struct segd_feeds **out);
void segd_feeds_free(struct segd_feeds *f);

#endif /* SEGD_FEEDS_DIR_H */
