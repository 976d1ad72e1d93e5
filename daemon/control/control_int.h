/* control_int.h - steps the request handlers share (control*.c only). */
#ifndef SEGD_CONTROL_INT_H
#define SEGD_CONTROL_INT_H

#include "segd.h"

/* Where a change spends its time, reported back to segctl and the bench. */
struct segd_phase_times {
	double parse, compile, kernel, report, persist;
};

double segd_now_ms(void);


/* Compile `w` and, unless dry, make the kernel enforce it. On success the
 * new compilation is in *out: install it with segd_install_compiled or
 * free it. t (may be NULL) gets the compile and kernel times. */
int segd_compile_and_enforce(struct segd *d, const struct seg_world *w, bool dry,
			     struct seg_compiled *out, struct seg_error *err,
			     struct segd_phase_times *t);
void segd_install_compiled(struct segd *d, struct seg_compiled *c);

/* Save state.yaml (namespaces, endpoints, uplinks). */
int segd_persist_main(struct segd *d, struct seg_error *err);
/* Save policy p's file, or with p NULL remove the file of ns/name. */
int segd_persist_policy(struct segd *d, const struct seg_policy *p,
			const char *removed_ns, const char *removed_name,
			struct seg_error *err);

bool segd_arg_bool(struct segd_req *r, const char *key);
const char *segd_arg_ns(struct segd_req *r);   /* --namespace or default */
int segd_arg_need(struct segd_req *r, const char *key, const char **out);

/* control_apply.c */
int segd_h_apply(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_policy_delete(struct segd *d, struct segd_req *r, yaml_document_t *out,
			 int res);

/* control_quarantine.c */
int segd_h_quarantine(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
int segd_h_release(struct segd *d, struct segd_req *r, yaml_document_t *out, int res);
/* `get quarantines` rows; `status` fields */
int segd_get_quarantines(struct segd *d, yaml_document_t *out, int items);
void segd_status_quarantines(struct segd *d, yaml_document_t *out, int res);

#endif /* SEGD_CONTROL_INT_H */
