/* flows.h - the `flows` request: conntrack entries as flows. */
#ifndef SEGD_FLOWS_H
#define SEGD_FLOWS_H

#include <yaml.h>
#include "control.h"

int segd_h_flows(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

#endif /* SEGD_FLOWS_H */
