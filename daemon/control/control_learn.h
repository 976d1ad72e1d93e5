/* control_learn.h - the requests over the learned edges: `recommend`
 * (policies allowing what was seen) and `learn.reset`. */
#ifndef SEGD_CONTROL_LEARN_H
#define SEGD_CONTROL_LEARN_H

#include <yaml.h>
#include "segd.h"

int segd_h_recommend(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_learn_reset(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
/* `status`: the edges held, their memory, the ones refused when full. */
void segd_status_learn(struct segd *d, yaml_document_t *out, int res);

#endif /* SEGD_CONTROL_LEARN_H */
