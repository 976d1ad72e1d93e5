/* control_int.h - what the request handlers share (control/ only): argument
 * access and the handlers the dispatch table names. */
#ifndef SEGD_CONTROL_INT_H
#define SEGD_CONTROL_INT_H

#include "engine.h"

bool segd_arg_bool(struct segd_req *r, const char *key);
const char *segd_arg_ns(struct segd_req *r);   /* --namespace or default */
int segd_arg_need(struct segd_req *r, const char *key, const char **out);
/* The request's file entries {name, size}, their bytes in the payload
 * (*out: n + 1 entries, free it). */
int segd_request_files(struct segd_req *r, struct segd_apply_file **out, size_t *n_out);

/* control_endpoints.c */
int segd_h_namespace_set(struct segd *d, struct segd_req *r, yaml_document_t *out,
			 int res);
int segd_h_endpoint_add(struct segd *d, struct segd_req *r, yaml_document_t *out,
			int res);
int segd_h_endpoint_del(struct segd *d, struct segd_req *r, yaml_document_t *out,
			int res);
int segd_h_attach(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
/* control_endpoint_load.c: `endpoint load FILE...`, many in one step */
int segd_h_endpoint_load(struct segd *d, struct segd_req *r, yaml_document_t *out,
			 int res);
struct segd_register_counts {
	size_t replaced; /* names already registered, their ids kept */
	size_t attached; /* local interfaces the programs now hold */
};
/* Registers eps[0..m) (names unique) in one step, for `endpoint add` (m = 1)
 * and `endpoint load`: one candidate world, quarantine sync, one compile
 * and write of the maps, the state updated, local interfaces attached, one
 * save. Nothing changes unless the compile passes; an attach that fails
 * does not undo the others and is the error returned. The state takes
 * the contents of the eps it keeps (they are left zeroed); the caller
 * frees eps. */
int segd_endpoints_register(struct segd *d, struct seg_endpoint *eps, size_t m,
			    struct segd_register_counts *counts, struct seg_error *err);
/* a namespace's --on-detect: "alert", "quarantine", "off", or "default"
 * (the config's per-kind actions) */
const char *segd_ns_on_detect_name(const struct seg_namespace *ns);

/* control_nodes.c: the cluster's nodes; `get nodes` rows */
int segd_h_node_set(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_node_del(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_get_nodes(struct segd *d, yaml_document_t *out, int items);

/* control_apply.c */
int segd_h_apply(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_policy_delete(struct segd *d, struct segd_req *r, yaml_document_t *out,
			 int res);
/* the namespace of policy NAME in a request: --namespace, else "" for a
 * cluster-scoped policy NAME, else "default" */
const char *segd_policy_ns_arg(struct segd *d, struct segd_req *r, const char *name);

/* control_stage.c: `promote`, `audit-report` */
int segd_h_promote(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_audit_report(struct segd *d, struct segd_req *r, yaml_document_t *out,
			int res);

/* control_quarantine.c */
int segd_h_quarantine(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_release(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
/* `get quarantines` rows; `status` fields */
int segd_get_quarantines(struct segd *d, yaml_document_t *out, int items);
void segd_status_quarantines(struct segd *d, yaml_document_t *out, int res);

/* control_alerts.c: `segctl alerts`, the recent alerts (d->alerts) */
int segd_h_alerts(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
void segd_status_detect(struct segd *d, yaml_document_t *out, int res);

/* control_lint.c: findings over the applied state (core/query/lint.h) */
int segd_h_lint(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);

#endif /* SEGD_CONTROL_INT_H */
