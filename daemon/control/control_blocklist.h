/* control_blocklist.h - the blocklist requests (control_blocklist.c):
 * blocklist.load, .list, .show, .del, .test. The lists themselves are the
 * engine's (lists.h). */
#ifndef SEGD_CONTROL_BLOCKLIST_H
#define SEGD_CONTROL_BLOCKLIST_H

#include <yaml.h>
#include "lists.h"

int segd_h_blocklist_load(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_blocklist_list(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_blocklist_show(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_blocklist_del(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_blocklist_test(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

#endif /* SEGD_CONTROL_BLOCKLIST_H */
