/* lint.h - `segctl lint`: what in a set of policies is risky or dead.
 *
 * Pure (no syscalls). Input: parsed policies (files, with their
 * file:line:col) or the daemon's applied state (policies plus the world
 * they act on: namespaces, endpoints, nodes, resolved names, loaded
 * blocklists). Output: findings, each with a severity, a stable code,
 * where (file:line:col, or the policy and rule as segd names them
 * everywhere: "shop/web#2") and a message that says what to do.
 * docs/policy.md ("Lint") lists every code with its severity and fix.
 *
 * Checks that need the world (endpoints selected by no policy, selectors
 * that match nothing now, allows to blocklisted addresses) run only when
 * a world is given; the others run on the policies alone.
 */
#ifndef SEGD_LINT_H
#define SEGD_LINT_H

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "error.h"
#include "explain.h"
#include "model.h"

enum seg_lint_severity {
	SEG_LINT_INFO = 0,
	SEG_LINT_WARNING,
	SEG_LINT_ERROR,
};

/* The stable codes (docs/policy.md, "Lint"). */
#define SEG_LINT_WORLD_INGRESS       "world-ingress"
#define SEG_LINT_WORLD_INGRESS_ADMIN "world-ingress-admin-port"
#define SEG_LINT_NO_DEFAULT_DENY     "no-default-deny"
#define SEG_LINT_UNSELECTED_EP       "unselected-endpoint"
#define SEG_LINT_SHADOWED            "shadowed-rule"
#define SEG_LINT_MATCHES_NOTHING     "selector-matches-nothing"
#define SEG_LINT_PORT_RANGE          "port-out-of-range"
#define SEG_LINT_ALLOW_ALL_EGRESS    "allow-all-egress"
#define SEG_LINT_BLOCKLISTED         "allow-to-blocklisted"
#define SEG_LINT_PARSE_ERROR         "parse-error"

struct seg_lint_finding {
	enum seg_lint_severity severity;
	const char *code;           /* one of SEG_LINT_*, static */
	char file[256];             /* file mode: where in the files; "" else */
	int line, col;
	char policy[300];           /* "shop/web", "admin/guard"; "" when none */
	int rule;                   /* index into the policy's rules; -1 none */
	char rule_name[129];        /* the rule's own name; "" */
	char subject[300];          /* "namespace shop", "endpoint shop/web" */
	char message[600];
};

struct seg_lint_report {
	struct seg_lint_finding *v;
	size_t n, cap;
};

struct seg_lint_input {
	const struct seg_policy *policies;
	size_t n_policies;
	/* applied state: namespaces (labels, mode), endpoints, nodes, names;
	 * NULL in file mode */
	const struct seg_world *world;
	/* loaded blocklists (applied state); NULL: none */
	const struct seg_explain_lists *lists;
	/* name places by file:line:col (file mode) besides policy and rule */
	bool positions;
};

/* Run every check over in and append the findings to r, sorted.
 * 0 or -ENOMEM. */
int seg_lint(const struct seg_lint_input *in, struct seg_lint_report *r);

/* A file that did not parse (seg_policy_parse's error): one finding,
 * code port-out-of-range when the parser says a port is out of its
 * protocol's range (err->kind), else parse-error; severity error.
 * 0 or -ENOMEM. */
int seg_lint_parse_error(struct seg_lint_report *r, const struct seg_error *err);

void seg_lint_sort(struct seg_lint_report *r);
void seg_lint_free(struct seg_lint_report *r);

const char *seg_lint_severity_name(enum seg_lint_severity s); /* info|warning|error */
int seg_lint_severity_parse(const char *s, enum seg_lint_severity *out);

/* Where f is: "file:line:col", else "ns/name#N" (the rule), else
 * "ns/name" (the policy), else its subject ("namespace shop"). */
void seg_lint_where(const struct seg_lint_finding *f, char *buf, size_t len);

/* The findings as the `lint` answer carries them: under map res,
 * findings (a list of maps: severity, code, where, file, line, col,
 * policy, rule, rule_name, subject, message; empty fields left out) and
 * the counts errors, warnings, infos. 0 or -ENOMEM. */
int seg_lint_yaml(const struct seg_lint_report *r, yaml_document_t *out, int res);

/* ---- internals shared by lint*.c -------------------------------------------- */
/* Append a finding about rule `rule` (-1: the policy; p NULL: subject). */
int seg_lint_add(struct seg_lint_report *r, const struct seg_lint_input *in,
		 enum seg_lint_severity sev, const char *code,
		 const struct seg_policy *p, int rule, const char *subject,
		 const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* Is p in audit mode (its own mode or, in applied state, its namespace's)? */
bool seg_lint_audit(const struct seg_lint_input *in, const struct seg_policy *p);
/* Rules that can never match (lint_cover.c): shadowed rules and
 * selectors that contradict themselves. 0 or -ENOMEM. */
int seg_lint_dead_rules(const struct seg_lint_input *in, struct seg_lint_report *r);
/* Does prefix c hold an address outside the private and reserved ranges
 * (seg_bl_reserved) and outside except? */
bool seg_lint_cidr_public(const struct seg_cidr *c, const struct seg_cidr *except,
			  size_t n_except);
/* Is c as large as a /8 of its family or larger? */
bool seg_lint_cidr_wide(const struct seg_cidr *c);

#endif /* SEGD_LINT_H */
