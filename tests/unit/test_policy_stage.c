/* test_policy_stage.c - staging: the source rewrite of `apply --mode
 * audit` and `promote` (core/parse/policy_stage.c), the annotation
 * segd.io/staged, and the requests apply --mode audit, promote and their
 * audit log on a daemon without a kernel, across a reload of its state. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "control.h"
#include "fileio.h"
#include "policy_parse.h"
#include "policy_stage.h"
#include "state.h"
#include "yaml_util.h"

/* ---- the rewrite ---------------------------------------------------------------- */

struct stage_case {
	char name[64];
	char doc[400];
	int op;                 /* enum seg_stage_op */
	bool audit, staged;     /* the rewritten policy */
	char has[48], lacks[48];/* in the rewritten source ("" = no check) */
};

#define SP "apiVersion: segd.io/v1\nkind: SegmentPolicy\n"
#define NP "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
#define CNP "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\n"
#define SP_SPEC "spec:\n  ingress: [{ports: [{protocol: TCP, port: 80}]}]\n"
#define NP_SPEC "spec:\n  podSelector: {}\n  policyTypes: [Ingress]\n"
#define CNP_SPEC "spec:\n  tier: Admin\n  priority: 5\n  subject: {namespaces: {}}\n" \
	"  ingress: [{name: x, action: Deny, from: [{namespaces: {}}]}]\n"

static const struct stage_case stage_cases[] = {
	{ "SegmentPolicy staged", SP "metadata: {name: a}\n" SP_SPEC,
	  SEG_STAGE_AUDIT, true, true, "segd.io/staged", "" },
	{ "spec.mode enforce gives way when staged",
	  SP "metadata: {name: a}\nspec:\n  mode: enforce\n"
	  "  ingress: [{}]\n", SEG_STAGE_AUDIT, true, true, "segd.io/mode", "mode: enforce" },
	{ "spec.audit true is removed on promote",
	  SP "metadata: {name: a}\nspec:\n  audit: true\n  ingress: [{}]\n",
	  SEG_STAGE_ENFORCE, false, false, "", "audit" },
	{ "NetworkPolicy keeps its other annotations",
	  NP "metadata: {name: n, annotations: {team: blue}}\n" NP_SPEC,
	  SEG_STAGE_AUDIT, true, true, "team: blue", "" },
	{ "promote drops the annotations map it emptied",
	  NP "metadata:\n  name: n\n  annotations: {segd.io/mode: audit, segd.io/staged: "
	  "\"true\"}\n" NP_SPEC, SEG_STAGE_ENFORCE, false, false, "", "annotations" },
	{ "promote keeps other annotations",
	  NP "metadata:\n  name: n\n  annotations: {segd.io/mode: audit, team: blue}\n"
	  NP_SPEC, SEG_STAGE_ENFORCE, false, false, "team: blue", "segd.io" },
	{ "null annotations", NP "metadata: {name: n, annotations: null}\n" NP_SPEC,
	  SEG_STAGE_AUDIT, true, true, "segd.io/staged", "" },
	{ "ClusterNetworkPolicy staged", CNP "metadata: {name: c}\n" CNP_SPEC,
	  SEG_STAGE_AUDIT, true, true, "segd.io/staged", "" },
	{ "staging twice is staging once",
	  NP "metadata:\n  name: n\n  annotations: {segd.io/mode: audit, segd.io/staged: "
	  "\"true\"}\n" NP_SPEC, SEG_STAGE_AUDIT, true, true, "segd.io/staged", "" },
};

ParameterizedTestParameters(policy_stage, restage)
{
	return cr_make_param_array(struct stage_case, stage_cases,
				   sizeof(stage_cases) / sizeof(stage_cases[0]));
}

ParameterizedTest(const struct stage_case *c, policy_stage, restage)
{
	struct seg_error err = { 0 };
	struct seg_policy *p = NULL, out, *again = NULL;
	size_t n = 0, n2 = 0;

	cr_assert_eq(seg_policy_parse(c->doc, strlen(c->doc), "t.yaml", NULL, &p, &n, &err),
		     0, "%s: %s", c->name, err.msg);
	cr_assert_eq(seg_policy_restage(p, c->op, &out, &err), 0, "%s: %s", c->name, err.msg);
	cr_expect_eq(out.audit, c->audit, "%s: audit", c->name);
	cr_expect_eq(out.staged, c->staged, "%s: staged", c->name);
	cr_expect_str_eq(out.name, p->name);
	cr_expect_str_eq(out.ns, p->ns);
	cr_expect_eq(out.n_rules, p->n_rules);
	cr_expect_eq(out.line, p->line, "%s: the file's positions stay", c->name);
	if (*c->has)
		cr_expect(strstr(out.source, c->has), "%s: source lacks %s:\n%s", c->name,
			  c->has, out.source);
	if (*c->lacks)
		cr_expect(!strstr(out.source, c->lacks), "%s: source has %s:\n%s", c->name,
			  c->lacks, out.source);
	/* the stored source parses back to the same mode: a restart keeps it */
	cr_assert_eq(seg_policy_parse(out.source, strlen(out.source), "state", NULL, &again,
				      &n2, &err), 0, "%s: %s", c->name, err.msg);
	cr_expect_eq(again[0].audit, c->audit);
	cr_expect_eq(again[0].staged, c->staged);
	seg_policies_free(again, n2);
	seg_policy_free(&out);
	seg_policies_free(p, n);
}

struct bad_case {
	char doc[300];
	char where[8], msg[64];
};

static const struct bad_case bad_cases[] = {
	{ NP "metadata: {name: n, annotations: {segd.io/staged: yes}}\n" NP_SPEC,
	  "3:51", "must be \"true\" or \"false\"" },
	{ NP "metadata: {name: n, annotations: {segd.io/staged: \"true\"}}\n" NP_SPEC,
	  "3:51", "this one is enforced" },
	{ SP "metadata: {name: a, annotations: {segd.io/staged: \"true\"}}\n"
	  "spec:\n  mode: enforce\n  ingress: [{}]\n",
	  "3:51", "this one is enforced" },
};

ParameterizedTestParameters(policy_stage, staged_annotation_errors)
{
	return cr_make_param_array(struct bad_case, bad_cases,
				   sizeof(bad_cases) / sizeof(bad_cases[0]));
}

ParameterizedTest(const struct bad_case *c, policy_stage, staged_annotation_errors)
{
	struct seg_error err = { 0 };
	struct seg_policy *p = NULL;
	size_t n = 0;
	char msg[512];

	int ret = seg_policy_parse(c->doc, strlen(c->doc), "t.yaml", NULL, &p, &n, &err);

	seg_error_format(&err, msg, sizeof(msg));
	cr_assert_eq(ret, -EINVAL, "%d %s", ret, msg);
	cr_expect(strstr(msg, c->where) && strstr(msg, c->msg), "%s", msg);
}

/* ---- the requests ---------------------------------------------------------------- */

static char dir[64];

static void daemon_in_dir(struct segd *d)
{
	snprintf(dir, sizeof(dir), "/tmp/segd-stage.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	d->cfg.state_dir = dir;
	cr_assert_eq(seg_state_set_ns(&d->state, "default", NULL), 0);
}

static void daemon_done(struct segd *d)
{
	char cmd[128];

	seg_compiled_free(&d->compiled);
	seg_state_free(&d->state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

/* One request, as it arrives from segctl (YAML text); returns its exit
 * code, *msg its error text. */
static int request(struct segd *d, const char *command, const char *name, const char *mode,
		   const char *text, char *msg, size_t len)
{
	static const struct segd_peer peer = { .pid = 4242, .uid = 1001 };
	struct seg_error err = { 0 };
	yaml_document_t req, resp;
	char buf[512];
	const char *e;
	int code;

	snprintf(buf, sizeof(buf), "command: %s\nargs:\n  %s: %s\n  %s: %s\n"
		 "  files: [{name: p.yaml, size: %zu}]\n", command, name ? "name" : "x",
		 name ? name : "~", mode ? "mode" : "y", mode ? mode : "~",
		 text ? strlen(text) : 0);
	cr_assert_eq(yu_load_one(buf, strlen(buf), "req", &req, &err), 0, "%s", err.msg);
	cr_assert_eq(segd_handle(d, &req, text, text ? strlen(text) : 0, &peer, &resp), 0);
	code = atoi(yu_scalar(yu_map_get(&resp, yu_root(&resp), "exit")));
	e = yu_scalar(yu_map_get(&resp, yu_root(&resp), "error"));
	snprintf(msg, len, "%s", e ? e : "");
	yaml_document_delete(&req);
	yaml_document_delete(&resp);
	return code;
}

static const char *doc =
	SP "metadata: {name: web}\n" SP_SPEC;

static size_t log_lines(const char *action)
{
	char path[128], *text = NULL, want[64];
	size_t len = 0, n = 0;

	snprintf(path, sizeof(path), "%s/policy-audit.log", dir);
	if (seg_read_file(path, &text, &len))
		return 0;
	snprintf(want, sizeof(want), "\"action\":\"%s\"", action);
	for (char *p = text; (p = strstr(p, want)); p++)
		n++;
	cr_expect(strstr(text, "\"uid\":1001"), "the caller's uid is logged:\n%s", text);
	free(text);
	return n;
}

Test(policy_stage, stage_restart_promote)
{
	struct segd d = { 0 };
	struct seg_state reloaded = { 0 };
	struct seg_error err = { 0 };
	struct seg_policy *p;
	char msg[512];

	daemon_in_dir(&d);
	cr_assert_eq(request(&d, "apply", NULL, "enforce", doc, msg, sizeof(msg)), 1, "%s", msg);
	cr_expect(strstr(msg, "--mode takes audit"), "%s", msg);
	cr_assert_eq(request(&d, "apply", NULL, "audit", doc, msg, sizeof(msg)), 0, "%s", msg);
	p = seg_state_find_policy(&d.state, "default", "web");
	cr_assert(p && p->audit && p->staged);
	/* the same text staged again: recognised, unchanged, not logged */
	cr_assert_eq(request(&d, "apply", NULL, "audit", doc, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect_eq(log_lines("stage"), 1);

	/* a restart reads the state dir: still staged */
	cr_assert_eq(seg_state_load(&reloaded, dir, &err), 0, "%s", err.msg);
	p = seg_state_find_policy(&reloaded, "default", "web");
	cr_assert(p && p->audit && p->staged, "the staged mark survives a restart");
	seg_state_free(&reloaded);

	cr_assert_eq(request(&d, "promote", "web", NULL, NULL, msg, sizeof(msg)), 0, "%s", msg);
	p = seg_state_find_policy(&d.state, "default", "web");
	cr_assert(p && !p->audit && !p->staged);
	cr_expect_eq(log_lines("promote"), 1);
	cr_assert_eq(request(&d, "promote", "web", NULL, NULL, msg, sizeof(msg)), 1);
	cr_expect(strstr(msg, "enforced already"), "%s", msg);
	cr_assert_eq(request(&d, "promote", "nope", NULL, NULL, msg, sizeof(msg)), 1);
	cr_expect(strstr(msg, "not found"), "%s", msg);

	memset(&reloaded, 0, sizeof(reloaded));
	cr_assert_eq(seg_state_load(&reloaded, dir, &err), 0, "%s", err.msg);
	p = seg_state_find_policy(&reloaded, "default", "web");
	cr_assert(p && !p->audit && !p->staged, "promoted is what the state dir holds");
	seg_state_free(&reloaded);

	cr_assert_eq(request(&d, "policy.delete", "web", NULL, NULL, msg, sizeof(msg)), 0);
	cr_expect_eq(log_lines("delete"), 1);
	daemon_done(&d);
}

/* Applying the file again without --mode enforces it. */
Test(policy_stage, plain_apply_after_staging_enforces)
{
	struct segd d = { 0 };
	struct seg_policy *p;
	char msg[512];

	daemon_in_dir(&d);
	cr_assert_eq(request(&d, "apply", NULL, NULL, doc, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(request(&d, "apply", NULL, "audit", doc, msg, sizeof(msg)), 0, "%s", msg);
	p = seg_state_find_policy(&d.state, "default", "web");
	cr_assert(p && p->staged);
	cr_assert_eq(request(&d, "apply", NULL, NULL, doc, msg, sizeof(msg)), 0, "%s", msg);
	p = seg_state_find_policy(&d.state, "default", "web");
	cr_assert(p && !p->audit && !p->staged);
	cr_expect_eq(log_lines("apply"), 2);
	cr_expect_eq(log_lines("stage"), 1);
	daemon_done(&d);
}

/* A policy in audit mode only through its namespace is not promoted: the
 * error says which command ends that. */
Test(policy_stage, promote_of_a_namespace_audit_policy_says_what_to_do)
{
	struct segd d = { 0 };
	char msg[512];

	daemon_in_dir(&d);
	seg_state_find_ns(&d.state, "default")->mode = SEG_MODE_AUDIT;
	cr_assert_eq(request(&d, "apply", NULL, NULL, doc, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(request(&d, "promote", "web", NULL, NULL, msg, sizeof(msg)), 1);
	cr_expect(strstr(msg, "namespace set default --mode enforce"), "%s", msg);
	/* staged in that namespace: promoted, its own mode enforce */
	cr_assert_eq(request(&d, "apply", NULL, "audit", doc, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(request(&d, "promote", "web", NULL, NULL, msg, sizeof(msg)), 0, "%s", msg);
	cr_expect(!seg_state_find_policy(&d.state, "default", "web")->audit);
	daemon_done(&d);
}
