/* engine.h - the steps of a change, shared by the request handlers and
 * the event sources: compile a candidate world, make the kernel enforce
 * it, commit it, persist it (engine.c). struct segd and the engine's
 * public entry points are in segd.h. */
#ifndef SEGD_ENGINE_H
#define SEGD_ENGINE_H

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

/* Put the programs on endpoint e's interface (nothing without a datapath
 * or an ifindex). */
int segd_attach_endpoint(struct segd *d, struct seg_endpoint *e,
			 struct seg_error *err);

/* Put the uplink's early drop on ifname (ifindex idx) where the config
 * says (uplink_hook: XDP or tc ingress); nothing without a datapath. */
int segd_attach_uplink(struct segd *d, const char *ifname, unsigned int idx,
		       struct seg_error *err);

/* The policies changed: the resolver asks for new domainNames at once. */
void segd_policies_changed(struct segd *d);

/* Save state.yaml (namespaces, endpoints, uplinks). */
int segd_persist_main(struct segd *d, struct seg_error *err);
/* Save policy p's file, or with p NULL remove the file of ns/name. */
int segd_persist_policy(struct segd *d, const struct seg_policy *p,
			const char *removed_ns, const char *removed_name,
			struct seg_error *err);

/* Quarantines (quarantine_sync.c): make segd_quarantine hold what the
 * quarantines qs cover in world w (add_only: keep what is there too);
 * save quarantines.yaml; append one line to the audit log. */
int segd_quarantine_write(struct segd *d, const struct seg_quarantines *qs,
			  const struct seg_world *w, bool add_only,
			  struct seg_error *err);
int segd_quarantine_persist(struct segd *d, struct seg_error *err);
int segd_quarantine_audit(struct segd *d, const char *line, struct seg_error *err);
/* Put q in force (kernel, state dir): it replaces the record of its
 * target or is added (*stored, *replaced). Once the kernel holds it, q's
 * contents move into the list; free q after the call either way.
 * in_force_ns (may be NULL): CLOCK_MONOTONIC when the kernel held it,
 * before it was saved. */
int segd_quarantine_put(struct segd *d, struct seg_quarantine *q,
			struct seg_quarantine **stored, bool *replaced,
			uint64_t *in_force_ns, struct seg_error *err);
/* Log, count and audit one action on q by actor ("operator", "segd:detect"). */
int segd_quarantine_record(struct segd *d, bool release, const struct seg_quarantine *q,
			   const char *actor, uint32_t uid, uint32_t pid,
			   struct seg_error *err);
/* "ns/name" of every endpoint q covers now (malloc'd; free with
 * segd_quarantine_names_free). */
size_t segd_quarantine_covered(struct segd *d, const struct seg_quarantine *q, char ***out);
void segd_quarantine_names_free(char **v, size_t n);

/* Audit logs (audit_log.c): append one '\n'-terminated line to
 * <state-dir>/file in one write(2), synced (nothing without a state dir). */
int segd_audit_append(struct segd *d, const char *file, const char *line,
		      struct seg_error *err);
#define SEGD_POLICY_AUDIT_FILE "policy-audit.log"
/* One line about policy p to policy-audit.log: action ("apply", "stage",
 * "promote", "delete"), p's own mode, who asked (peer may be NULL). */
int segd_policy_audit(struct segd *d, const char *action, const struct seg_policy *p,
		      const struct segd_peer *peer, struct seg_error *err);

#endif /* SEGD_ENGINE_H */
