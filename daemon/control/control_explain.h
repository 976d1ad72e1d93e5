/* control_explain.h - the `explain` and `graph` requests. */
#ifndef SEGD_CONTROL_EXPLAIN_H
#define SEGD_CONTROL_EXPLAIN_H

#include <yaml.h>
#include "segd.h"

/* args: from, to (ADDRESS, NAME or NS/NAME), port (N/PROTO), namespace */
int segd_h_explain(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
/* args: namespace (optional filter); result: dot (text), observed_flows */
int segd_h_graph(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

#endif /* SEGD_CONTROL_EXPLAIN_H */
