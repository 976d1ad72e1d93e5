/* lint_report.c - the findings of `segctl lint` (lint.h): adding them,
 * their order, and the answer that carries them. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lint.h"
#include "yaml_util.h"

static const char *const severity_names[] = { "info", "warning", "error" };

const char *seg_lint_severity_name(enum seg_lint_severity s)
{
	return (unsigned)s < 3 ? severity_names[s] : "error";
}

int seg_lint_severity_parse(const char *s, enum seg_lint_severity *out)
{
	for (int i = 0; s && i < 3; i++)
		if (!strcmp(s, severity_names[i])) {
			*out = (enum seg_lint_severity)i;
			return 0;
		}
	return -EINVAL;
}

static struct seg_lint_finding *grow(struct seg_lint_report *r)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct seg_lint_finding *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	memset(&r->v[r->n], 0, sizeof(r->v[r->n]));
	r->v[r->n].rule = -1;
	return &r->v[r->n++];
}

bool seg_lint_audit(const struct seg_lint_input *in, const struct seg_policy *p)
{
	const struct seg_world *w = in->world;

	if (p->audit)
		return true;
	for (size_t i = 0; w && p->ns && i < w->n_namespaces; i++)
		if (w->namespaces[i].name && !strcmp(w->namespaces[i].name, p->ns))
			return w->namespaces[i].mode == SEG_MODE_AUDIT;
	return false;
}

int seg_lint_add(struct seg_lint_report *r, const struct seg_lint_input *in,
		 enum seg_lint_severity sev, const char *code,
		 const struct seg_policy *p, int rule, const char *subject,
		 const char *fmt, ...)
{
	struct seg_lint_finding *f = grow(r);
	va_list ap;

	if (!f)
		return -ENOMEM;
	f->severity = sev;
	f->code = code;
	snprintf(f->subject, sizeof(f->subject), "%s", subject ? subject : "");
	if (p) {
		const struct seg_rule *ru = rule >= 0 ? &p->rules[rule] : NULL;

		seg_policy_name_of(p, f->policy, sizeof(f->policy));
		f->rule = rule;
		if (ru)
			snprintf(f->rule_name, sizeof(f->rule_name), "%s",
				 ru->name ? ru->name : "");
		if (in && in->positions && p->source_file) {
			snprintf(f->file, sizeof(f->file), "%s", p->source_file);
			f->line = ru ? ru->line : p->line;
			f->col = ru ? ru->col : p->col;
		}
	}
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return 0;
}

int seg_lint_parse_error(struct seg_lint_report *r, const struct seg_error *err)
{
	struct seg_lint_finding *f = grow(r);

	if (!f)
		return -ENOMEM;
	f->severity = SEG_LINT_ERROR;
	f->code = err->kind && !strcmp(err->kind, SEG_ERR_PORT_RANGE) ?
		  SEG_LINT_PORT_RANGE : SEG_LINT_PARSE_ERROR;
	snprintf(f->file, sizeof(f->file), "%s", err->file);
	f->line = err->line;
	f->col = err->col;
	snprintf(f->message, sizeof(f->message), "%s", err->msg);
	return 0;
}

/* ---- order: by place (file, line, col; else policy, rule; else subject),
 * then code and message: the same findings always print the same way */

static int cmp_finding(const void *a, const void *b)
{
	const struct seg_lint_finding *x = a, *y = b;
	int c;

	if ((c = strcmp(x->file, y->file)))
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	/* findings about a namespace or endpoint after those about policies */
	if (!x->policy[0] != !y->policy[0])
		return x->policy[0] ? -1 : 1;
	if ((c = strcmp(x->policy, y->policy)))
		return c;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	if ((c = strcmp(x->subject, y->subject)))
		return c;
	if ((c = strcmp(x->code, y->code)))
		return c;
	return strcmp(x->message, y->message);
}

void seg_lint_sort(struct seg_lint_report *r)
{
	if (r->n > 1)
		qsort(r->v, r->n, sizeof(*r->v), cmp_finding);
}

void seg_lint_free(struct seg_lint_report *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* ---- the answer ---------------------------------------------------------------- */

void seg_lint_where(const struct seg_lint_finding *f, char *buf, size_t len)
{
	if (f->file[0] && f->line > 0)
		snprintf(buf, len, "%s:%d:%d", f->file, f->line, f->col);
	else if (f->file[0])
		snprintf(buf, len, "%s", f->file);
	else if (f->policy[0] && f->rule >= 0)
		snprintf(buf, len, "%s#%d", f->policy, f->rule + 1);
	else
		snprintf(buf, len, "%s", f->policy[0] ? f->policy : f->subject);
}

static int one(const struct seg_lint_finding *f, yaml_document_t *out, int m)
{
	char w[700];
	int ret;

	seg_lint_where(f, w, sizeof(w));
	ret = yu_set_str(out, m, "severity", seg_lint_severity_name(f->severity)) |
	      yu_set_str(out, m, "code", f->code) | yu_set_str(out, m, "where", w);
	if (f->file[0])
		ret |= yu_set_str(out, m, "file", f->file) |
		       yu_set_int(out, m, "line", f->line) |
		       yu_set_int(out, m, "col", f->col);
	if (f->policy[0])
		ret |= yu_set_str(out, m, "policy", f->policy);
	if (f->rule >= 0)
		ret |= yu_set_int(out, m, "rule", f->rule + 1);
	if (f->rule_name[0])
		ret |= yu_set_str(out, m, "rule_name", f->rule_name);
	if (f->subject[0])
		ret |= yu_set_str(out, m, "subject", f->subject);
	return ret | yu_set_str(out, m, "message", f->message);
}

int seg_lint_yaml(const struct seg_lint_report *r, yaml_document_t *out, int res)
{
	size_t count[3] = { 0 };
	int seq = yu_add_seq(out), ret = seq < 0;

	for (size_t i = 0; !ret && i < r->n; i++) {
		int m = yu_add_map(out);

		ret = m < 0 || one(&r->v[i], out, m) || yu_append(out, seq, m);
		count[r->v[i].severity < 3 ? r->v[i].severity : SEG_LINT_ERROR]++;
	}
	if (ret || yu_set(out, res, "findings", seq) ||
	    yu_set_uint(out, res, "errors", count[SEG_LINT_ERROR]) ||
	    yu_set_uint(out, res, "warnings", count[SEG_LINT_WARNING]) ||
	    yu_set_uint(out, res, "infos", count[SEG_LINT_INFO]))
		return -ENOMEM;
	return 0;
}
