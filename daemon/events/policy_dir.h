/* policy_dir.h - policies from a directory (config key policy_dir, flag
 * --policy-dir), e.g. a mounted ConfigMap, kept applied. */
#ifndef SEGD_POLICY_DIR_H
#define SEGD_POLICY_DIR_H

#include <event2/event.h>
#include "segd.h"

struct segd_policy_dir;

/* Watch d->cfg.policy_dir (nothing when unset) and apply it once now. */
int segd_policy_dir_new(struct event_base *base, struct segd *d,
			struct segd_policy_dir **out);
void segd_policy_dir_free(struct segd_policy_dir *pd);

#endif /* SEGD_POLICY_DIR_H */
