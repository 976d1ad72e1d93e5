/* control_lint.c - the `lint` request: the pure checker (core/query/lint.c)
 * over the applied state: the policies, the namespaces, endpoints, nodes
 * and resolved names they act on, and the loaded blocklists. segctl
 * decides the exit code from the findings' severities (--fail-on). */
#include <errno.h>
#include "control_int.h"
#include "lint.h"
#include "lists.h"

int segd_h_lint(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct seg_world w = segd_candidate_of(d);
	struct segd_lists_view v;
	struct seg_explain_lists lists;
	struct seg_lint_report rep = { 0 };
	struct seg_lint_input in = { .policies = w.policies, .n_policies = w.n_policies,
				     .world = &w, .lists = &lists };
	int ret;

	if ((ret = segd_lists_view(d, &v)))
		return seg_errorf(r->err, NULL, 0, 0, ret, "lint: cannot read the "
				  "loaded blocklists: out of memory");
	lists = (struct seg_explain_lists){ v.lists, v.exception, v.n_lists,
					    v.exceptions, v.n_exceptions };
	ret = seg_lint(&in, &rep);
	if (!ret)
		ret = seg_lint_yaml(&rep, out, res);
	segd_lists_view_free(&v);
	seg_lint_free(&rep);
	if (ret)
		return seg_errorf(r->err, NULL, 0, 0, ret, "lint: out of memory");
	return 0;
}
