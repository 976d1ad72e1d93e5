/* output_alerts.c - print `segctl alerts` answers (alerts_cli.h). */
#include <stdlib.h>
#include <string.h>
#include "alerts_cli.h"
#include "output.h"
#include "yaml_util.h"

static const char *str(yaml_document_t *d, yaml_node_t *m, const char *key)
{
	const char *s = yu_scalar(yu_map_get(d, m, key));

	return s ? s : "";
}

/* "scan (vertical)" */
static void kind_text(yaml_document_t *d, yaml_node_t *a, char *buf, size_t len)
{
	const char *shape = str(d, a, "shape");

	snprintf(buf, len, *shape ? "%s (%s)" : "%s", str(d, a, "kind"), shape);
}

/* "shop/web", or the address when no endpoint is known by it */
static void workload_text(yaml_document_t *d, yaml_node_t *a, char *buf, size_t len)
{
	const char *name = str(d, a, "name");

	if (*name)
		snprintf(buf, len, "%s/%s", str(d, a, "namespace"), name);
	else
		snprintf(buf, len, "%s", str(d, a, "address"));
}

/* "quarantine (#3)" */
static void action_text(yaml_document_t *d, yaml_node_t *a, char *buf, size_t len)
{
	const char *q = str(d, a, "quarantine_id");

	snprintf(buf, len, *q && strcmp(q, "0") ? "%s (#%s)" : "%s", str(d, a, "action"), q);
}

/* "10.0.0.2:22/tcp (denied), 10.0.0.2:23/tcp +6; 30 ports, 1 hosts, 8
 * denied targets[; list NAME]" */
static void targets_text(yaml_document_t *d, yaml_node_t *a, char *buf, size_t len)
{
	yaml_node_t *ts = yu_map_get(d, a, "targets");
	size_t n = yu_seq_len(ts), off = 0;
	const char *list = str(d, a, "list");

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < 2 && off < len; i++) {
		yaml_node_t *t = yu_seq_at(d, ts, i);

		off += (size_t)snprintf(buf + off, len - off, "%s%s%s", i ? ", " : "",
					str(d, t, "target"),
					!strcmp(str(d, t, "denied"), "true") ? " (denied)" : "");
	}
	if (n > 2 && off < len)
		off += (size_t)snprintf(buf + off, len - off, " +%zu", n - 2);
	if (off < len)
		off += (size_t)snprintf(buf + off, len - off, "%s%s ports, %s hosts, %s denied "
					"targets", off ? "; " : "", str(d, a, "ports"),
					str(d, a, "hosts"), str(d, a, "denied_targets"));
	if (*list && off < len)
		snprintf(buf + off, len - off, "; list %s", list);
}

static void print_table(yaml_document_t *d, yaml_node_t *alerts, FILE *f)
{
	static const char *const header[8] = { "ID", "KIND", "TECHNIQUE", "WORKLOAD",
					       "ACTION", "FIRST", "LAST", "TARGETS" };
	size_t n = yu_seq_len(alerts), k = 0;
	const char **cells;
	char (*text)[4][512];

	if (!n) {
		fprintf(f, "No alerts.\n");
		return;
	}
	cells = calloc((n + 1) * 8, sizeof(*cells));
	text = calloc(n, sizeof(*text));
	if (!cells || !text) {
		free(cells);
		free(text);
		return;
	}
	for (; k < 8; k++)
		cells[k] = header[k];
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *a = yu_seq_at(d, alerts, i);

		kind_text(d, a, text[i][0], sizeof(text[i][0]));
		workload_text(d, a, text[i][1], sizeof(text[i][1]));
		action_text(d, a, text[i][2], sizeof(text[i][2]));
		targets_text(d, a, text[i][3], sizeof(text[i][3]));
		cells[k++] = str(d, a, "id");
		cells[k++] = text[i][0];
		cells[k++] = str(d, a, "technique");
		cells[k++] = text[i][1];
		cells[k++] = text[i][2];
		cells[k++] = str(d, a, "first");
		cells[k++] = str(d, a, "last");
		cells[k++] = text[i][3];
	}
	segctl_table(f, 8, cells, n + 1);
	free(cells);
	free(text);
}

/* --follow, after the first answer: one line an alert, newest last */
static void print_line(yaml_document_t *d, yaml_node_t *a, FILE *f)
{
	char kind[96], who[600], action[64], targets[512];

	kind_text(d, a, kind, sizeof(kind));
	workload_text(d, a, who, sizeof(who));
	action_text(d, a, action, sizeof(action));
	targets_text(d, a, targets, sizeof(targets));
	fprintf(f, "%s #%s %s %s %s (%s): %s; %s\n", str(d, a, "last"), str(d, a, "id"),
		kind, str(d, a, "technique"), who, str(d, a, "address"), action, targets);
}

/* One alert as its own YAML document. */
static int print_yaml(yaml_document_t *d, yaml_node_t *a, FILE *f)
{
	yaml_document_t sub;
	int ret;

	if (!yaml_document_initialize(&sub, NULL, NULL, NULL, 1, 1))
		return -1;
	ret = yu_copy(&sub, d, (int)(a - d->nodes.start) + 1) < 0 ? -1 : 0;
	if (!ret) {
		fputs("---\n", f);
		ret = yu_write_yaml(f, &sub);
	}
	yaml_document_delete(&sub);
	return ret;
}

int segctl_print_alerts(const struct segctl_cmd *cmd, yaml_document_t *resp,
			bool as_lines, uint64_t *last_id, FILE *out, FILE *err)
{
	yaml_node_t *res = NULL, *alerts;
	int64_t last = 0;
	int code = segctl_answer(resp, &res, err);

	if (code != SEGCTL_OK)
		return code;
	alerts = yu_map_get(resp, res, "alerts");
	if (!yu_int(yu_map_get(resp, res, "last_id"), 0, INT64_MAX, &last) &&
	    (uint64_t)last > *last_id)
		*last_id = (uint64_t)last;
	if (cmd->format == SEGCTL_TABLE && !as_lines) {
		print_table(resp, alerts, out);
		return SEGCTL_OK;
	}
	for (size_t i = 0; i < yu_seq_len(alerts); i++) {
		yaml_node_t *a = yu_seq_at(resp, alerts, i);

		if (cmd->format == SEGCTL_JSON)
			yu_write_json_line(out, resp, a);
		else if (cmd->format == SEGCTL_YAML)
			print_yaml(resp, a, out);
		else
			print_line(resp, a, out);
	}
	return SEGCTL_OK;
}
