/* conf_cases.h - the conformance case files (the YAML files of
 * tests/conformance/cases) read in C, for the BPF rows of test_conformance.c.
 * The format and the truth-table rules are tests/conformance/README.md's;
 * model.py and cases.py are the real-traffic runner's reading of the same
 * files.
 *
 * The model: namespaces x, y, z (labels ns=<name>), pods a, b, c in each
 * (labels pod=<name>), pod i = namespace i / 3, name i % 3, address
 * 10.200.<ns+1>.<name+11>.
 */
#ifndef SEGD_TEST_CONF_CASES_H
#define SEGD_TEST_CONF_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONF_NS 3
#define CONF_PODS 9
#define CONF_COMBOS 6           /* 80 and 81 over TCP, UDP, SCTP */

struct conf_combo {
	uint16_t port;
	uint8_t proto;              /* IPPROTO_* */
};

/* the probes a case file may name, in this order */
extern const struct conf_combo conf_combos[CONF_COMBOS];

struct conf_step {
	char *name;                 /* "" when unnamed */
	bool delete_all;
	char **deletes;             /* "ns/name" */
	size_t n_deletes;
	char *refused;              /* YAML the parser must refuse, or NULL */
	char *apply;                /* YAML, ${pod} substituted, or NULL */
	char *pod_labels[CONF_PODS];/* a pod's new label set, or NULL */
	char *ns_labels[CONF_NS];
	bool has[CONF_COMBOS];      /* which probes the step expects */
	/* [combo][from][to]: true = allowed; the diagonal is unused */
	bool allowed[CONF_COMBOS][CONF_PODS][CONF_PODS];
};

struct conf_case {
	char *title;                /* "[tag] it" */
	char *tag;
	struct conf_step *steps;
	size_t n_steps;
};

/* Every case of every *.yaml in dir, in file name order. 0 or -errno
 * with err (a file and what is wrong in it). */
int conf_load_dir(const char *dir, struct conf_case **out, size_t *n,
		  char *err, size_t errlen);
void conf_cases_free(struct conf_case *c, size_t n);

const char *conf_ns_name(int ns);           /* "x" */
const char *conf_pod_name(int pod);         /* "x/a" */
void conf_pod_addr(int pod, char *buf, size_t len);

/* The rows of a 9x9 truth table (rows = from, columns = to) into buf:
 * cell(from, to, arg) gives the character, '-' on the diagonal. */
void conf_render(char *buf, size_t len, char (*cell)(int, int, const void *),
		 const void *arg);

#endif
