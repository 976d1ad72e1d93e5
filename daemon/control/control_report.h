/* control_report.h - the read-only side of the control protocol: get,
 * status and the change report of apply (also for --dry-run). */
#ifndef SEGD_CONTROL_REPORT_H
#define SEGD_CONTROL_REPORT_H

#include <yaml.h>
#include "segd.h"

int segd_h_get(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_status(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

/* Describe what going from `old` to `new` changes: policy-map entries added
 * and removed, grouped by the rule that produced them, and the endpoints
 * (of world `w`) whose enforcement changes. */
int segd_report_diff(const struct seg_compiled *old, const struct seg_compiled *new,
		     const struct seg_world *w, yaml_document_t *out, int res);

#endif /* SEGD_CONTROL_REPORT_H */
