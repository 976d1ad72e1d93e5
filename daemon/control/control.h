/* control.h - the control protocol's door: one YAML request document in,
 * one YAML response document out. The socket plumbing is in
 * events/server.c and reaches this only through segd_control_handler(),
 * so control depends on the event sources and never the other way; the
 * handlers decide, so tests can drive them directly.
 *
 * Request:  {command: NAME, args: {...}}
 * Response: {ok: bool, exit: 0|1|2, error: "what, where, what to do",
 *            result: {...}}
 */
#ifndef SEGD_CONTROL_H
#define SEGD_CONTROL_H

#include <stdbool.h>
#include <yaml.h>
#include "segd.h"
#include "server.h"

/* Handle one request; resp is initialised by the callee. */
int segd_handle(struct segd *d, yaml_document_t *req, const char *payload,
		size_t payload_len, const struct segd_peer *peer,
		yaml_document_t *resp);

/* `segctl apply` of files already in memory (control_apply.c): all or
 * nothing; the result (policies and their action, the diff) goes into
 * map `res` of `out`. ns is the default namespace of documents. */
int segd_apply(struct segd *d, const struct segd_apply_file *files, size_t n_files,
	       const char *ns, bool dry, yaml_document_t *out, int res,
	       struct seg_error *err);
/* `segctl delete policy`. */
int segd_policy_delete(struct segd *d, const char *ns, const char *name,
		       yaml_document_t *out, int res, struct seg_error *err);

/* The server's callbacks for d's requests (and `flows --follow`). */
struct seg_server_handler segd_control_handler(struct segd *d);

#endif /* SEGD_CONTROL_H */
