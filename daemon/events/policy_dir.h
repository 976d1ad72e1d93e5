/* policy_dir.h - policies from a directory (config key policy_dir, flag
 * --policy-dir), e.g. a mounted ConfigMap, kept applied. */
#ifndef SEGD_POLICY_DIR_H
#define SEGD_POLICY_DIR_H

#include <event2/event.h>
#include <stdbool.h>
#include <yaml.h>
#include "segd.h"

struct segd_policy_dir;

/* What a round does with the files it read: control's segd_apply and
 * segd_policy_delete (control/control.h), passed in by the caller so this
 * event source never calls into the control handlers. */
struct segd_policy_dir_ops {
	int (*apply)(struct segd *d, const struct segd_apply_file *files, size_t n_files,
		     const char *ns, bool dry, yaml_document_t *out, int res,
		     struct seg_error *err);
	int (*remove)(struct segd *d, const char *ns, const char *name,
		      yaml_document_t *out, int res, struct seg_error *err);
};

/* Watch d->cfg.policy_dir (nothing when unset) and apply it once now. */
int segd_policy_dir_new(struct event_base *base, struct segd *d,
			const struct segd_policy_dir_ops *ops,
			struct segd_policy_dir **out);
void segd_policy_dir_free(struct segd_policy_dir *pd);

#endif /* SEGD_POLICY_DIR_H */
