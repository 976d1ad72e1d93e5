/* control_stage.c - the end of staging (docs/policy.md "Staging"):
 * `promote` enforces a staged (audit-mode) policy, `audit-report` lists
 * what the audit-mode policies would have dropped. `apply --mode audit`,
 * the start, is control_apply.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "audit_report.h"
#include "control_int.h"
#include "control_report.h"
#include "timetext.h"
#include "flow_export.h"
#include "policy_stage.h"
#include "yaml_util.h"

static int not_promotable(struct segd *d, const struct seg_policy *p, struct seg_error *err)
{
	const struct seg_namespace *ns = seg_state_find_ns(&d->state, p->ns);

	if (ns && ns->mode == SEG_MODE_AUDIT)
		return seg_errorf(err, NULL, 0, 0, -EINVAL,
				  "policy %s/%s has nothing to promote: its own mode is "
				  "enforce, it is in audit mode because namespace %s is; "
				  "`segctl namespace set %s --mode enforce` ends that",
				  p->ns, p->name, p->ns, p->ns);
	return seg_errorf(err, NULL, 0, 0, -EINVAL,
			  "policy %s/%s is enforced already; nothing to promote "
			  "(`segctl get policies` shows the modes)",
			  *p->ns ? p->ns : "(cluster)", p->name);
}

/* Compile the world with policy `idx` replaced by np and make the kernel
 * enforce it; on success commit np (taking it) and persist. */
static int replace_policy(struct segd *d, size_t idx, struct seg_policy *np,
			  yaml_document_t *out, int res, struct seg_error *err)
{
	size_t n = d->state.world.n_policies;
	struct seg_policy *arr = calloc(n, sizeof(*arr));
	struct seg_compiled c = { 0 };
	struct seg_world w;
	char *ns = NULL, *name = NULL;
	int ret;

	if (!arr)
		return -ENOMEM;
	memcpy(arr, d->state.world.policies, n * sizeof(*arr));
	arr[idx] = *np;
	w = segd_candidate_of(d);
	w.policies = arr;
	w.n_policies = n;
	ret = segd_compile_and_enforce(d, &w, false, &c, err, NULL);
	if (!ret) /* the kernel holds it now: a report short of memory is no failure */
		segd_report_diff(&d->compiled, &c, &w, out, res);
	free(arr);
	if (ret) {
		seg_compiled_free(&c);
		return ret;
	}
	segd_install_compiled(d, &c);
	ns = strdup(np->ns);
	name = strdup(np->name);
	if (!ns || !name || seg_state_put_policy(&d->state, np))
		ret = -ENOMEM;
	else
		memset(np, 0, sizeof(*np));
	segd_policies_changed(d);
	if (!ret)
		ret = segd_persist_policy(d, seg_state_find_policy(&d->state, ns, name),
					  NULL, NULL, err);
	free(ns);
	free(name);
	return ret;
}

int segd_h_promote(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_policy np = { 0 }, *p;
	const struct seg_namespace *nsp;
	const char *name, *ns;
	int ret = segd_arg_need(r, "name", &name);

	if (ret)
		return ret;
	ns = segd_policy_ns_arg(d, r, name);
	p = seg_state_find_policy(&d->state, ns, name);
	if (!p)
		return seg_errorf(r->err, NULL, 0, 0, -ENOENT,
				  "policy %s/%s not found; see `segctl get policies` "
				  "(a namespaced policy needs --namespace NS unless it "
				  "is in default)", *ns ? ns : "(cluster)", name);
	if (!p->audit)
		return not_promotable(d, p, r->err);
	yu_set_str(out, res, "kind", seg_policy_kind_name(p->kind));
	if (*ns)
		yu_set_str(out, res, "namespace", ns);
	yu_set_str(out, res, "name", name);
	yu_set_bool(out, res, "was_staged", p->staged);
	ret = seg_policy_restage(p, SEG_STAGE_ENFORCE, &np, r->err);
	if (ret)
		return ret;
	/* a later apply of any text parses it again */
	np.raw_hash = 0;
	ret = replace_policy(d, (size_t)(p - d->state.world.policies), &np, out, res,
			     r->err);
	seg_policy_free(&np);
	if (ret)
		return ret;
	p = seg_state_find_policy(&d->state, ns, name);
	yu_set_str(out, res, "action", "promoted");
	/* its own mode is enforce now; its namespace's may still be audit */
	nsp = seg_state_find_ns(&d->state, ns);
	yu_set_str(out, res, "mode", nsp && nsp->mode == SEG_MODE_AUDIT ? "audit" : "enforce");
	return p ? segd_policy_audit(d, "promote", p, r->peer, r->err) : 0;
}

int segd_h_audit_report(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *since = segd_arg_str(r, "since"), *ns = segd_arg_str(r, "namespace");
	uint64_t since_ns = 0;
	int64_t secs;

	if (!d->dp || !d->flow_export)
		return seg_errorf(r->err, NULL, 0, 0, -ENODEV,
				  "segd runs without the kernel datapath or flow export");
	if (since && *since) {
		if (seg_duration_parse(since, &secs))
			return seg_errorf(r->err, "--since", 0, 0, -EINVAL,
					  "'%s' is not a duration; use 90s, 30m, 12h or 7d",
					  since);
		since_ns = ((uint64_t)time(NULL) - (uint64_t)secs) * 1000000000ull;
		yu_set_uint(out, res, "since_seconds", (uint64_t)secs);
	}
	yu_set_uint(out, res, "flow_interval", d->cfg.flow_interval);
	return seg_audit_report_write(seg_flow_export_audit(d->flow_export), ns, since_ns,
				      out, res);
}
