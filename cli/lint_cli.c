/* lint_cli.c - `segctl lint` (lint_cli.h). */
#include <stdlib.h>
#include <string.h>
#include "client.h"
#include "lint.h"
#include "lint_cli.h"
#include "output.h"
#include "policy_parse.h"
#include "yaml_util.h"

static yaml_node_t *arg_node(const struct segctl_cmd *cmd, const char *key)
{
	yaml_document_t *req = (yaml_document_t *)&cmd->req;

	return yu_map_get(req, yu_map_get(req, yu_root(req), "args"), key);
}

static const char *arg(const struct segctl_cmd *cmd, const char *key)
{
	return yu_scalar(arg_node(cmd, key));
}

/* Append the n policies of one file to the set (moved, not copied). */
static int take(struct seg_policy **all, size_t *n_all, struct seg_policy *p, size_t n)
{
	struct seg_policy *grown = realloc(*all, (*n_all + n + 1) * sizeof(*grown));

	if (!grown)
		return -1;
	memcpy(grown + *n_all, p, n * sizeof(*p));
	*all = grown;
	*n_all += n;
	free(p);
	return 0;
}

/* Parse every file of the request (their bytes lie back to back in the
 * payload) and lint them together into the answer's result map res. */
static int lint_files(const struct segctl_cmd *cmd, yaml_document_t *doc, int res)
{
	yaml_document_t *req = (yaml_document_t *)&cmd->req;
	yaml_node_t *files = arg_node(cmd, "files");
	struct seg_lint_report rep = { 0 };
	struct seg_policy *all = NULL;
	size_t n_all = 0, off = 0;
	int ret = 0;

	for (size_t i = 0; !ret && i < yu_seq_len(files); i++) {
		yaml_node_t *f = yu_seq_at(req, files, i);
		const char *name = yu_scalar(yu_map_get(req, f, "name"));
		struct seg_error perr = { 0 };
		const char *sz = yu_scalar(yu_map_get(req, f, "size"));
		/* built by args.c, not read back: a number in any style */
		size_t size = sz ? strtoull(sz, NULL, 10) : 0;
		struct seg_policy *p = NULL;
		size_t n = 0;

		if (off + size > cmd->payload_len) {
			ret = -1;
			break;
		}
		if (seg_policy_parse(cmd->payload + off, size, name, arg(cmd, "namespace"),
				     &p, &n, &perr))
			ret = seg_lint_parse_error(&rep, &perr);
		else
			ret = take(&all, &n_all, p, n);
		off += size;
	}
	if (!ret) {
		struct seg_lint_input in = { .policies = all, .n_policies = n_all,
					     .positions = true };

		ret = seg_lint(&in, &rep);
	}
	if (!ret)
		ret = seg_lint_yaml(&rep, doc, res);
	seg_lint_free(&rep);
	seg_policies_free(all, n_all);
	return ret;
}

static void print_table(yaml_document_t *d, yaml_node_t *res, FILE *out)
{
	yaml_node_t *fs = yu_map_get(d, res, "findings");
	size_t n = yu_seq_len(fs);
	const char **cells = calloc((n + 1) * 4, sizeof(*cells));
	char (*where)[800] = calloc(n + 1, sizeof(*where));

	if (!cells || !where) {
		free(cells);
		free(where);
		return;
	}
	cells[0] = "SEVERITY";
	cells[1] = "CODE";
	cells[2] = "WHERE";
	cells[3] = "MESSAGE";
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *f = yu_seq_at(d, fs, i);
		const char *rn = yu_scalar(yu_map_get(d, f, "rule_name"));
		const char **row = cells + (i + 1) * 4;

		snprintf(where[i], sizeof(where[i]), rn ? "%s (%s)" : "%s",
			 yu_scalar(yu_map_get(d, f, "where")), rn);
		row[0] = yu_scalar(yu_map_get(d, f, "severity"));
		row[1] = yu_scalar(yu_map_get(d, f, "code"));
		row[2] = where[i];
		row[3] = yu_scalar(yu_map_get(d, f, "message"));
	}
	if (n)
		segctl_table(out, 4, cells, n + 1);
	fprintf(out, "%s errors, %s warnings, %s info\n",
		yu_scalar(yu_map_get(d, res, "errors")),
		yu_scalar(yu_map_get(d, res, "warnings")),
		yu_scalar(yu_map_get(d, res, "infos")));
	free(cells);
	free(where);
}

/* 1 when a finding is at or above fail_on */
static int verdict(yaml_document_t *d, yaml_node_t *res, enum seg_lint_severity fail_on)
{
	yaml_node_t *fs = yu_map_get(d, res, "findings");

	for (size_t i = 0; i < yu_seq_len(fs); i++) {
		enum seg_lint_severity s = SEG_LINT_ERROR;

		seg_lint_severity_parse(yu_scalar(yu_map_get(d, yu_seq_at(d, fs, i),
							     "severity")), &s);
		if (s >= fail_on)
			return SEGCTL_FAILED;
	}
	return SEGCTL_OK;
}

int segctl_lint(const struct segctl_cmd *cmd, FILE *out, FILE *err)
{
	enum seg_lint_severity fail_on = SEG_LINT_ERROR;
	yaml_document_t doc;
	yaml_node_t *res;
	int ret, root;

	if (arg(cmd, "fail-on"))
		seg_lint_severity_parse(arg(cmd, "fail-on"), &fail_on); /* args.c checked it */
	if (!arg_node(cmd, "files")) {
		/* the applied state: segd lints it */
		ret = segctl_roundtrip(cmd->socket, (yaml_document_t *)&cmd->req, NULL, 0,
				       &doc, SEGCTL_REQUEST_TIMEOUT_MS, err);
		if (ret)
			return ret;
		ret = segctl_print(cmd, &doc, out, err);
		res = yu_map_get(&doc, yu_root(&doc), "result");
		if (!ret && cmd->format == SEGCTL_TABLE)
			print_table(&doc, res, out);
		if (!ret)
			ret = verdict(&doc, res, fail_on);
		yaml_document_delete(&doc);
		return ret;
	}
	if ((root = yu_doc_init_map(&doc)) < 0)
		return SEGCTL_FAILED;
	if (lint_files(cmd, &doc, root)) {
		fprintf(err, "segctl: lint: out of memory\n");
		yaml_document_delete(&doc);
		return SEGCTL_FAILED;
	}
	res = yu_root(&doc);
	if (cmd->format == SEGCTL_JSON)
		yu_write_json(out, &doc);
	else if (cmd->format == SEGCTL_YAML)
		yu_write_yaml(out, &doc);
	else
		print_table(&doc, res, out);
	ret = verdict(&doc, res, fail_on);
	yaml_document_delete(&doc);
	return ret;
}
