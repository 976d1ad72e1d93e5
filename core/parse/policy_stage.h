/* policy_stage.h - staging a policy: `segctl apply --mode audit` puts the
 * documents of the call in audit mode, marked staged, without the user
 * editing them; `segctl promote` enforces a staged (or any audit-mode)
 * policy. Both rewrite the policy's stored source - the annotations
 * segd.io/mode and segd.io/staged, and a SegmentPolicy's spec.mode and
 * spec.audit - and parse it again, so the state dir keeps the mark across
 * restarts and the source still parses back to the policy.
 *
 * Also the lines of the policy audit log (<state-dir>/policy-audit.log).
 */
#ifndef SEGD_POLICY_STAGE_H
#define SEGD_POLICY_STAGE_H

#include <stdint.h>
#include "model.h"

enum seg_stage_op {
	SEG_STAGE_AUDIT,    /* audit mode, staged */
	SEG_STAGE_ENFORCE,  /* enforced: every mode setting of its own removed */
};

/* The policy p rewritten by op into *out (free with seg_policy_free);
 * name, namespace, rules and their positions are p's. 0 or -errno. */
int seg_policy_restage(const struct seg_policy *p, enum seg_stage_op op,
		       struct seg_policy *out, struct seg_error *err);

/* One line of the policy audit log (JSON, '\n'-terminated, malloc'd):
 * {"time", "action", "kind", "namespace", "name", "mode", "staged",
 * "uid", "pid"}; mode is the policy's own mode after the action (before
 * it for "delete"). */
int seg_policy_audit_line(const char *action, const struct seg_policy *p,
			  int64_t now, uint32_t uid, uint32_t pid, char **out);

#endif /* SEGD_POLICY_STAGE_H */
