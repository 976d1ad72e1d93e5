/* control_apply.c - `apply` and `delete policy`.
 *
 * An apply is all-or-nothing: every document of every file is checked,
 * the candidate world is compiled and enforced, and only then committed.
 * Documents whose text was applied before in the same way are recognised
 * by a hash of that text and not parsed again (docsplit.h): re-applying a
 * large file with one changed rule parses one document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "control.h"
#include "control_int.h"
#include "control_report.h"
#include "docsplit.h"
#include "policy_parse.h"
#include "policy_stage.h"
#include "yaml_util.h"

/* One document of the call, in call order. */
struct applied_doc {
	bool kept;             /* unchanged: state policy `index` */
	size_t index;          /* into parsed[] or d->state.world.policies */
	const char *file;
	int line;
};

/* How a call applies its documents. */
struct apply_how {
	bool dry;
	bool audit;                    /* --mode audit: stage every document */
	bool log;                      /* to the policy audit log (requests) */
	const struct segd_peer *peer;  /* who asked, for the log */
};

struct apply_input {
	struct seg_policy *parsed;   /* new or changed policies */
	size_t n_parsed;
	struct applied_doc *docs;
	size_t n_docs;
};

static void apply_input_free(struct apply_input *in)
{
	seg_policies_free(in->parsed, in->n_parsed);
	free(in->docs);
	memset(in, 0, sizeof(*in));
}

struct hash_ref {
	uint64_t hash;
	size_t index;
};

static int hash_ref_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct hash_ref *)a)->hash, y = ((const struct hash_ref *)b)->hash;

	return x < y ? -1 : x > y;
}

static int add_doc(struct apply_input *in, bool kept, size_t index,
		   const char *file, int line)
{
	struct applied_doc *v = realloc(in->docs, (in->n_docs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	in->docs = v;
	v[in->n_docs++] = (struct applied_doc){ kept, index, file, line };
	return 0;
}

/* Parse text (a whole file, or one document of it starting at first_line)
 * and append its policies; positions stay relative to the file. */
static int parse_part(struct apply_input *in, const char *text, size_t len,
		      const char *file, const char *ns, int first_line,
		      uint64_t raw_hash, struct seg_error *err)
{
	struct seg_policy *p = NULL, *grown;
	size_t np = 0;
	int ret, shift = first_line - 1;

	ret = seg_policy_parse(text, len, file, ns, &p, &np, err);
	if (ret) {
		if (err->line > 0)
			err->line += shift;
		return ret;
	}
	grown = realloc(in->parsed, (in->n_parsed + np) * sizeof(*grown));
	if (!grown && np) {
		seg_policies_free(p, np);
		return -ENOMEM;
	}
	in->parsed = grown;
	for (size_t i = 0; i < np; i++) {
		p[i].line += shift;
		for (size_t j = 0; j < p[i].n_rules; j++)
			p[i].rules[j].line += shift;
		p[i].raw_hash = raw_hash;
		in->parsed[in->n_parsed] = p[i];
		ret = add_doc(in, false, in->n_parsed++, p[i].source_file, p[i].line);
		if (ret)
			break;
	}
	free(p);
	return ret;
}

/* The hash a document is known by: the same text staged is another
 * document than applied as written, so that applying the file again
 * without --mode enforces it. */
static uint64_t doc_key(const char *ns, const char *doc, size_t len, bool audit)
{
	uint64_t h = seg_doc_hash(ns, doc, len);

	return audit ? h ^ 0x9e3779b97f4a7c15ull : h;
}

static int parse_file(struct segd *d, struct apply_input *in, const struct hash_ref *known,
		      size_t n_known, const char *text, size_t len, const char *file,
		      const char *ns, bool audit, struct seg_error *err)
{
	struct seg_doc_span *spans = NULL;
	size_t n_spans = 0;
	int ret = seg_split_documents(text, len, &spans, &n_spans);

	if (ret == -EINVAL) /* a layout only libyaml can split */
		return parse_part(in, text, len, file, ns, 1, 0, err);
	for (size_t i = 0; !ret && i < n_spans; i++) {
		const char *doc = text + spans[i].off;
		struct hash_ref key = { doc_key(ns, doc, spans[i].len, audit), 0 };
		const struct hash_ref *hit = bsearch(&key, known, n_known, sizeof(key),
						     hash_ref_cmp);

		if (hit && d->state.world.policies[hit->index].raw_hash == key.hash)
			ret = add_doc(in, true, hit->index, file, spans[i].first_line);
		else
			ret = parse_part(in, doc, spans[i].len, file, ns,
					 spans[i].first_line, key.hash, err);
	}
	free(spans);
	return ret;
}

static const struct seg_policy *doc_policy(struct segd *d, const struct apply_input *in,
					   const struct applied_doc *doc)
{
	return doc->kept ? &d->state.world.policies[doc->index] : &in->parsed[doc->index];
}

struct named_doc {
	const struct seg_policy *p;
	const struct applied_doc *doc;
};

static int named_cmp(const void *a, const void *b)
{
	const struct named_doc *x = a, *y = b;
	int c = strcmp(x->p->ns, y->p->ns);

	if (c)
		return c;
	c = strcmp(x->p->name, y->p->name);
	return c ? c : (x->doc < y->doc ? -1 : x->doc > y->doc);
}

/* The same policy twice in one call is ambiguous. */
static int check_duplicates(struct segd *d, const struct apply_input *in,
			    struct seg_error *err)
{
	struct named_doc *v = calloc(in->n_docs + 1, sizeof(*v));
	int ret = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < in->n_docs; i++)
		v[i] = (struct named_doc){ doc_policy(d, in, &in->docs[i]), &in->docs[i] };
	qsort(v, in->n_docs, sizeof(*v), named_cmp);
	for (size_t i = 1; i < in->n_docs && !ret; i++) {
		if (strcmp(v[i].p->ns, v[i - 1].p->ns) || strcmp(v[i].p->name, v[i - 1].p->name))
			continue;
		ret = seg_errorf(err, v[i].doc->file, v[i].doc->line, 1, -EINVAL,
				 "policy %s/%s is defined twice in this call (also at "
				 "%s:%d); keep one", v[i].p->ns, v[i].p->name,
				 v[i - 1].doc->file, v[i - 1].doc->line);
	}
	free(v);
	return ret;
}

/* --mode audit: each parsed document rewritten to audit mode, staged
 * (policy_stage.h); what came in by hash is staged already. */
static int stage_parsed(struct apply_input *in, struct seg_error *err)
{
	for (size_t i = 0; i < in->n_parsed; i++) {
		struct seg_policy *p = &in->parsed[i], staged;
		int ret = seg_policy_restage(p, SEG_STAGE_AUDIT, &staged, err);

		if (ret)
			return ret;
		staged.raw_hash = p->raw_hash;
		seg_policy_free(p);
		*p = staged;
	}
	return 0;
}

static int parse_files(struct segd *d, const struct segd_apply_file *files, size_t n,
		       const char *ns, bool audit, struct apply_input *in,
		       struct seg_error *err)
{
	size_t n_known = d->state.world.n_policies;
	struct hash_ref *known = calloc(n_known + 1, sizeof(*known));
	int ret = 0;

	if (!known)
		return -ENOMEM;
	for (size_t i = 0; i < n_known; i++)
		known[i] = (struct hash_ref){ d->state.world.policies[i].raw_hash, i };
	qsort(known, n_known, sizeof(*known), hash_ref_cmp);
	if (n == 0)
		ret = seg_errorf(err, NULL, 0, 0, -EINVAL, "no files to apply");
	for (size_t i = 0; !ret && i < n; i++)
		ret = parse_file(d, in, known, n_known, files[i].text, files[i].len,
				 files[i].name, ns, audit, err);
	if (!ret)
		ret = check_duplicates(d, in, err);
	if (!ret && audit)
		ret = stage_parsed(in, err);
	free(known);
	return ret;
}

static const char *kind_name(const struct seg_policy *p)
{
	return p->kind == SEG_KIND_K8S ? "networkpolicy.networking.k8s.io" :
	       p->kind == SEG_KIND_CNP ?
	       "clusternetworkpolicy.policy.networking.k8s.io" :
	       "segmentpolicy.segd.io";
}

/* "created", "configured" or "unchanged" (before the commit) */
static const char *parsed_action(struct segd *d, const struct seg_policy *p)
{
	const struct seg_policy *old = seg_state_find_policy(&d->state, p->ns, p->name);

	return !old ? "created" :
	       (old->source && p->source && !strcmp(old->source, p->source)) ?
	       "unchanged" : "configured";
}

static void report_docs(struct segd *d, const struct apply_input *in,
			yaml_document_t *out, int res)
{
	int seq = yu_add_seq(out);

	yu_set(out, res, "policies", seq);
	for (size_t i = 0; i < in->n_docs; i++) {
		const struct seg_policy *p = doc_policy(d, in, &in->docs[i]);
		const char *action = in->docs[i].kept ? "unchanged" : parsed_action(d, p);
		int m = yu_add_map(out);

		yu_append(out, seq, m);
		yu_set_str(out, m, "kind", kind_name(p));
		if (*p->ns)
			yu_set_str(out, m, "namespace", p->ns);
		yu_set_str(out, m, "name", p->name);
		yu_set_str(out, m, "action", action);
		yu_set_str(out, m, "mode", seg_policy_mode_name(p->audit ? SEG_MODE_AUDIT :
								 SEG_MODE_ENFORCE));
		yu_set_bool(out, m, "staged", p->staged);
	}
}

static void report_times(yaml_document_t *out, int res, const struct segd_phase_times *t)
{
	int tm = yu_add_map(out);

	yu_set(out, res, "timing_us", tm);
	yu_set_uint(out, tm, "parse", (uint64_t)(t->parse * 1000));
	yu_set_uint(out, tm, "compile", (uint64_t)(t->compile * 1000));
	yu_set_uint(out, tm, "kernel", (uint64_t)(t->kernel * 1000));
	yu_set_uint(out, tm, "report", (uint64_t)(t->report * 1000));
	yu_set_uint(out, tm, "persist", (uint64_t)(t->persist * 1000));
}

static int apply_files(struct segd *d, const struct segd_apply_file *files,
		       size_t n_files, const char *ns, const struct apply_how *how,
		       yaml_document_t *out, int res, struct seg_error *err);

int segd_h_apply(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const char *mode = segd_arg_str(r, "mode");
	struct apply_how how = { .dry = segd_arg_bool(r, "dry_run"), .log = true,
				 .peer = r->peer };
	struct segd_apply_file *files = NULL;
	size_t n = 0;
	int ret;

	if (mode && strcmp(mode, "audit"))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "--mode takes audit, not '%s'; without --mode the "
				  "documents apply as written", mode);
	how.audit = mode != NULL;
	ret = segd_request_files(r, &files, &n);
	if (!ret)
		ret = apply_files(d, files, n, segd_arg_ns(r), &how, out, res, r->err);
	free(files);
	return ret;
}

int segd_apply(struct segd *d, const struct segd_apply_file *files, size_t n_files,
	       const char *ns, bool dry, yaml_document_t *out, int res,
	       struct seg_error *err)
{
	const struct apply_how how = { .dry = dry };

	return apply_files(d, files, n_files, ns, &how, out, res, err);
}

/* One line per policy the call created or changed. */
static int log_applied(struct segd *d, const struct apply_how *how, char **names,
		       size_t n, struct seg_error *err)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < n; i += 2) {
		const struct seg_policy *p;

		if (!names[i] || !names[i + 1])
			continue;
		p = seg_state_find_policy(&d->state, names[i], names[i + 1]);
		if (p)
			ret = segd_policy_audit(d, how->audit ? "stage" : "apply", p,
						how->peer, err);
	}
	return ret;
}

static int apply_files(struct segd *d, const struct segd_apply_file *files,
		       size_t n_files, const char *ns, const struct apply_how *how,
		       yaml_document_t *out, int res, struct seg_error *err)
{
	bool dry = how->dry;
	char **logged = NULL;   /* ns, name of each changed policy, or NULLs */
	struct apply_input in = { 0 };
	struct seg_policy *arr = NULL;
	size_t n_old = d->state.world.n_policies, n_arr = n_old, n_new;
	struct seg_compiled c = { 0 };
	struct segd_phase_times t = { 0 };
	struct seg_world w;
	double t0 = segd_now_ms();
	int ret;

	if ((ret = parse_files(d, files, n_files, ns, how->audit, &in, err)))
		goto out;
	t.parse = segd_now_ms() - t0;
	/* candidate: the current policies with the parsed ones put in */
	arr = calloc(n_old + in.n_parsed + 1, sizeof(*arr));
	if (!arr) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(arr, d->state.world.policies, n_old * sizeof(*arr));
	for (size_t i = 0; i < in.n_parsed; i++) {
		struct seg_policy *old = seg_state_find_policy(&d->state, in.parsed[i].ns,
							       in.parsed[i].name);

		arr[old ? (size_t)(old - d->state.world.policies) : n_arr++] = in.parsed[i];
	}
	w = segd_candidate_of(d);
	w.policies = arr;
	w.n_policies = n_arr;
	ret = segd_compile_and_enforce(d, &w, dry, &c, err, &t);
	if (ret)
		goto out;

	t0 = segd_now_ms();
	report_docs(d, &in, out, res);
	yu_set_bool(out, res, "dry_run", dry);
	ret = segd_report_diff(&d->compiled, &c, &w, out, res);
	t.report = segd_now_ms() - t0;
	if (ret || dry) {
		seg_compiled_free(&c);
		goto times;
	}
	segd_install_compiled(d, &c);
	/* commit: the parsed policies move into the state, then to disk */
	t0 = segd_now_ms();
	n_new = in.n_parsed;
	logged = calloc(2 * n_new + 1, sizeof(*logged));
	for (size_t i = 0; logged && how->log && i < n_new; i++) {
		if (strcmp(parsed_action(d, &in.parsed[i]), "unchanged")) {
			logged[2 * i] = strdup(in.parsed[i].ns);
			logged[2 * i + 1] = strdup(in.parsed[i].name);
		}
	}
	for (size_t i = 0; i < n_new; i++) {
		struct seg_policy *p;
		char *ns = strdup(in.parsed[i].ns), *name = strdup(in.parsed[i].name);

		if (!ns || !name || seg_state_put_policy(&d->state, &in.parsed[i])) {
			free(ns);
			free(name);
			ret = -ENOMEM;
			break;
		}
		p = seg_state_find_policy(&d->state, ns, name);
		free(ns);
		free(name);
		if (!ret)
			ret = segd_persist_policy(d, p, NULL, NULL, err);
	}
	segd_policies_changed(d);
	if (!ret && logged)
		ret = log_applied(d, how, logged, 2 * n_new, err);
	t.persist = segd_now_ms() - t0;
times:
	report_times(out, res, &t);
out:
	for (size_t i = 0; logged && i < 2 * in.n_parsed; i++)
		free(logged[i]);
	free(logged);
	free(arr);
	apply_input_free(&in);
	return ret;
}

/* Which policy NAME means (`delete policy`, `promote`): with --namespace
 * NS, NS/NAME; without, the ClusterNetworkPolicy NAME when there is one
 * (it has no namespace), else default/NAME, as before cluster-scoped
 * policies. */
const char *segd_policy_ns_arg(struct segd *d, struct segd_req *r, const char *name)
{
	const char *ns = segd_arg_str(r, "namespace");

	if (!ns || !*ns)
		ns = seg_state_find_policy(&d->state, "", name) ? "" : "default";
	return ns;
}

int segd_h_policy_delete(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	const struct seg_policy *p;
	const char *name, *ns;
	char *line = NULL;
	int ret = segd_arg_need(r, "name", &name);

	if (ret)
		return ret;
	ns = segd_policy_ns_arg(d, r, name);
	/* the record is made while the policy is still there */
	p = seg_state_find_policy(&d->state, ns, name);
	if (p && (ret = seg_policy_audit_line("delete", p, (int64_t)time(NULL),
					      r->peer ? (uint32_t)r->peer->uid : 0,
					      r->peer ? (uint32_t)r->peer->pid : 0, &line)))
		return ret;
	ret = segd_policy_delete(d, ns, name, out, res, r->err);
	if (!ret && line)
		ret = segd_audit_append(d, SEGD_POLICY_AUDIT_FILE, line, r->err);
	free(line);
	return ret;
}

int segd_policy_delete(struct segd *d, const char *ns, const char *name,
		       yaml_document_t *out, int res, struct seg_error *err)
{
	struct seg_policy *p, *arr;
	struct seg_compiled c;
	struct seg_world w;
	size_t n, idx;
	int ret;

	p = seg_state_find_policy(&d->state, ns, name);
	if (!p)
		return seg_errorf(err, NULL, 0, 0, -ENOENT,
				  "policy %s/%s not found; see `segctl get policies`",
				  *ns ? ns : "(cluster)", name);
	n = d->state.world.n_policies;
	idx = (size_t)(p - d->state.world.policies);
	arr = calloc(n, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	memcpy(arr, d->state.world.policies, idx * sizeof(*arr));
	memcpy(arr + idx, p + 1, (n - idx - 1) * sizeof(*arr));
	w = segd_candidate_of(d);
	w.policies = arr;
	w.n_policies = n - 1;
	ret = segd_compile_and_enforce(d, &w, false, &c, err, NULL);
	free(arr);
	if (ret)
		return ret;
	segd_install_compiled(d, &c);
	yu_set_str(out, res, "kind", kind_name(p));
	if (*ns)
		yu_set_str(out, res, "namespace", ns);
	yu_set_str(out, res, "name", name);
	yu_set_str(out, res, "action", "deleted");
	seg_state_del_policy(&d->state, ns, name);
	segd_policies_changed(d);
	return segd_persist_policy(d, NULL, ns, name, err);
}
