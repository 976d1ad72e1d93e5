/* flows.h - the `flows` request: conntrack entries as flows. */
#ifndef SEGD_FLOWS_H
#define SEGD_FLOWS_H

#include <yaml.h>
#include "control.h"

/* "forwarded", "dropped", "audit" */
const char *seg_flow_verdict_name(uint8_t verdict);
/* allow|forwarded, deny|dropped, audit -> enum seg_flow_verdict, or -EINVAL */
int seg_flow_verdict_parse(const char *s);
int segd_h_flows(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

#endif /* SEGD_FLOWS_H */
