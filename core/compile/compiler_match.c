/* compiler_match.c - which policies and rules of a world match one flow,
 * answered by the compiler's own selectors, peers and ports
 * (segc_select_idents, segc_rule_matches) over the identities segc_prepare
 * derives, so explain names exactly what the compiled entries were made
 * from. Pure. */
#include "compiler_int.h"

#include <errno.h>
#include <stdlib.h>

static size_t ident_of(const struct ctx *x, uint32_t id)
{
	for (size_t i = 0; i < x->n_ids; i++)
		if (x->ids[i].id == id)
			return i;
	return SIZE_MAX;
}

/* every policy in precedence order: whether it selects ident, and which
 * of its rules match */
static int match_policies(struct ctx *x, size_t ident, uint32_t rank, int dir,
			  uint8_t proto, uint16_t port, struct seg_flow_match *m)
{
	const struct seg_world *w = x->w;
	uint32_t base = 0;
	int rc = 0;

	for (size_t oi = 0; !rc && oi < w->n_policies; oi++) {
		size_t pi = x->pol_order[oi], subj;
		const struct seg_policy *p = &w->policies[pi];
		struct seg_policy_match *pm = &m->policies[m->n_policies++];

		*pm = (struct seg_policy_match){ .policy = pi, .audit = x->pol_audit[pi],
						 .first_rule_id = base + 1 };
		rc = segc_select_idents(x, p->has_subject_ns, &p->subject_namespaces,
					pol_ns(p), &p->subject, &subj);
		if (!rc)
			pm->subject = segc_set_has(x, subj, ident);
		for (size_t ri = 0; !rc && pm->subject && ri < p->n_rules; ri++)
			if (p->rules[ri].dir == dir)
				rc = segc_rule_matches(x, p, &p->rules[ri], ident, rank,
						       proto, port,
						       &m->rule_matches[base + ri + 1]);
		base += (uint32_t)p->n_rules;
	}
	return rc;
}

int seg_flow_match(const struct seg_world *world, uint32_t local_id,
		   uint32_t remote_id, int dir, uint8_t proto, uint16_t port,
		   struct seg_flow_match *out, struct seg_error *err)
{
	struct ctx x;
	size_t ident;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = segc_prepare(&x, world, err);
	if (rc)
		goto out;
	for (size_t i = 0; i < world->n_policies; i++)
		out->n_rules += world->policies[i].n_rules;
	out->policies = calloc(world->n_policies + 1, sizeof(*out->policies));
	out->rule_matches = calloc(out->n_rules + 1, sizeof(*out->rule_matches));
	if (!out->policies || !out->rule_matches) {
		rc = -ENOMEM;
		goto out;
	}
	ident = ident_of(&x, local_id);
	rc = ident == SIZE_MAX ? -ENOENT :
	     match_policies(&x, ident, segc_rank_of(&x, remote_id), dir, proto,
			    port, out);
out:
	segc_ctx_free(&x);
	if (rc)
		seg_flow_match_free(out);
	return rc;
}

void seg_flow_match_free(struct seg_flow_match *m)
{
	free(m->policies);
	free(m->rule_matches);
	memset(m, 0, sizeof(*m));
}
