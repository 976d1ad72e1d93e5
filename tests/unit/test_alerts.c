/* test_alerts.c - `segctl alerts` (daemon/control/control_alerts.c and
 * cli/output_alerts.c) over hand-made alert records, and `namespace set
 * --on-detect`, through the request handler as segctl sends them. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "alerts_cli.h"
#include "control.h"
#include "model.h"
#include "state.h"
#include "yaml_util.h"

static void fill(struct seg_alert *a, uint64_t id, enum segd_alert_kind kind,
		 const char *ns, const char *name, const char *addr)
{
	memset(a, 0, sizeof(*a));
	a->id = id;
	a->kind = kind;
	snprintf(a->ns, sizeof(a->ns), "%s", ns);
	snprintf(a->name, sizeof(a->name), "%s", name);
	cr_assert_eq(seg_addr_parse(addr, &a->addr), 0);
	a->first_ms = 1795306200042;
	a->last_ms = 1795306201500;
	a->raised = 1;
	snprintf(a->action, sizeof(a->action), "alert");
}

static void target(struct seg_alert *a, const char *addr, uint16_t port, uint8_t proto,
		   bool denied)
{
	struct segd_detect_target *t = &a->sample[a->n_sample++];
	struct in6_addr x;

	cr_assert_eq(seg_addr_parse(addr, &x), 0);
	memcpy(t->addr.b, &x, sizeof(t->addr.b));
	t->port = port;
	t->proto = proto;
	t->denied = denied;
}

/* three alerts: shop/web scans, default/miner mines (quarantined), shop/api
 * is denied laterally */
static void alerts_of(struct segd *d)
{
	struct seg_alert *v = calloc(SEG_ALERTS_KEEP, sizeof(*v));

	cr_assert_not_null(v);
	fill(&v[0], 1, SEGD_ALERT_SCAN, "shop", "web", "10.200.1.10");
	snprintf(v[0].shape, sizeof(v[0].shape), "vertical");
	snprintf(v[0].labels, sizeof(v[0].labels), "app=web,tier=front");
	v[0].flows = 40;
	v[0].denied = 12;
	v[0].ports = 31;
	v[0].hosts = 1;
	target(&v[0], "10.200.1.20", 22, IPPROTO_TCP, true);
	target(&v[0], "10.200.1.20", 23, IPPROTO_TCP, false);
	target(&v[0], "fd00:200::20", 53, IPPROTO_UDP, false);
	target(&v[0], "10.200.1.20", 8 << 8, IPPROTO_ICMP, false);
	fill(&v[1], 2, SEGD_ALERT_MINER, "default", "miner", "10.200.2.10");
	snprintf(v[1].shape, sizeof(v[1].shape), "list");
	snprintf(v[1].list, sizeof(v[1].list), "pools");
	snprintf(v[1].action, sizeof(v[1].action), "quarantine");
	v[1].quarantine_id = 3;
	fill(&v[2], 3, SEGD_ALERT_LATERAL, "shop", "api", "10.200.1.11");
	v[2].denied_targets = 9;
	d->alerts.v = v;
	d->alerts.n = 3;
	d->alerts.head = 0;
	d->alerts.next_id = 4;
}

/* One request as segctl sends it (YAML text); the answer in *resp, as
 * segctl reads it: serialised and parsed again. */
static int ask(struct segd *d, const char *text, yaml_document_t *resp)
{
	static const struct segd_peer peer = { .pid = 4242, .uid = 1001 };
	struct seg_error err = { 0 };
	yaml_document_t req, built;
	char *wire;
	size_t len;

	cr_assert_eq(yu_load_one(text, strlen(text), "req", &req, &err), 0, "%s", err.msg);
	cr_assert_eq(segd_handle(d, &req, NULL, 0, &peer, &built), 0);
	cr_assert_eq(yu_dump(&built, &wire, &len), 0);
	cr_assert_eq(yu_load_one(wire, len, "answer", resp, &err), 0, "%s", err.msg);
	free(wire);
	yaml_document_delete(&built);
	yaml_document_delete(&req);
	return atoi(yu_scalar(yu_map_get(resp, yu_root(resp), "exit")));
}

/* Print an answer as `segctl alerts FORMAT` would; the text is malloc'd. */
static char *printed(yaml_document_t *resp, enum segctl_format format, bool as_lines,
		     uint64_t *last_id, int *code)
{
	struct segctl_cmd cmd = { .command = "alerts", .format = format };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len), *err = fopen("/dev/null", "w");

	cr_assert(out && err);
	*code = segctl_print_alerts(&cmd, resp, as_lines, last_id, out, err);
	fclose(out);
	fclose(err);
	return text;
}

static const char *ids(yaml_document_t *resp, char *buf, size_t len)
{
	yaml_node_t *res = yu_map_get(resp, yu_root(resp), "result");
	yaml_node_t *as = yu_map_get(resp, res, "alerts");
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < yu_seq_len(as) && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
					yu_scalar(yu_map_get(resp, yu_seq_at(resp, as, i), "id")));
	return buf;
}

Test(alerts, none_yet_and_an_error_answer)
{
	struct segd d = { 0 };
	yaml_document_t resp;
	uint64_t last = 0;
	char *text;
	int code;

	cr_assert_eq(ask(&d, "command: alerts\nargs: {}\n", &resp), 0);
	text = printed(&resp, SEGCTL_TABLE, false, &last, &code);
	cr_assert_eq(code, 0);
	cr_assert_str_eq(text, "No alerts.\n");
	free(text);
	text = printed(&resp, SEGCTL_JSON, false, &last, &code);
	cr_assert_str_eq(text, "", "no alert, no JSON line");
	cr_assert_eq(last, 0);
	free(text);
	yaml_document_delete(&resp);

	/* an error answer: its exit code, nothing on out */
	cr_assert_eq(ask(&d, "command: alerts\nargs: {after: -1}\n", &resp), 1);
	text = printed(&resp, SEGCTL_JSON, false, &last, &code);
	cr_assert_eq(code, 1);
	cr_assert_str_eq(text, "");
	free(text);
	yaml_document_delete(&resp);
}

Test(alerts, filtered_by_namespace_and_after)
{
	struct segd d = { 0 };
	yaml_document_t resp;
	char buf[64];

	alerts_of(&d);
	cr_assert_eq(ask(&d, "command: alerts\nargs: {}\n", &resp), 0);
	cr_assert_str_eq(ids(&resp, buf, sizeof(buf)), "1,2,3");
	yaml_document_delete(&resp);
	cr_assert_eq(ask(&d, "command: alerts\nargs: {namespace: shop}\n", &resp), 0);
	cr_assert_str_eq(ids(&resp, buf, sizeof(buf)), "1,3");
	yaml_document_delete(&resp);
	cr_assert_eq(ask(&d, "command: alerts\nargs: {namespace: shop, after: 1}\n", &resp), 0);
	cr_assert_str_eq(ids(&resp, buf, sizeof(buf)), "3");
	cr_assert_str_eq(yu_scalar(yu_map_get(&resp, yu_map_get(&resp, yu_root(&resp), "result"),
					      "last_id")), "3");
	yaml_document_delete(&resp);
	/* --follow asks after the newest id even when the filter hid it */
	cr_assert_eq(ask(&d, "command: alerts\nargs: {namespace: nosuch, after: 0}\n", &resp), 0);
	cr_assert_str_eq(ids(&resp, buf, sizeof(buf)), "");
	cr_assert_str_eq(yu_scalar(yu_map_get(&resp, yu_map_get(&resp, yu_root(&resp), "result"),
					      "last_id")), "3");
	yaml_document_delete(&resp);
	cr_assert_eq(ask(&d, "command: alerts\nargs: {after: soon}\n", &resp), 1);
	cr_assert(strstr(yu_scalar(yu_map_get(&resp, yu_root(&resp), "error")),
			 "after is an alert id"));
	yaml_document_delete(&resp);
	free(d.alerts.v);
}

Test(alerts, json_lines_hold_every_field)
{
	struct segd d = { 0 };
	struct seg_error err = { 0 };
	yaml_document_t resp, rec;
	yaml_node_t *r, *t;
	uint64_t last = 0;
	char *text, *nl;
	int code;

	alerts_of(&d);
	cr_assert_eq(ask(&d, "command: alerts\nargs: {}\n", &resp), 0);
	text = printed(&resp, SEGCTL_JSON, false, &last, &code);
	cr_assert_eq(last, 3);
	nl = strchr(text, '\n');
	cr_assert(nl && strchr(nl + 1, '\n') && strchr(strchr(nl + 1, '\n') + 1, '\n'),
		  "three lines: %s", text);
	cr_assert_eq(yu_load_one(text, (size_t)(nl - text), "line", &rec, &err), 0, "%s",
		     err.msg);
	r = yu_root(&rec);
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "id")), "1");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "kind")), "scan");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "technique")), "T1046");
	cr_assert(*yu_scalar(yu_map_get(&rec, r, "technique_name")));
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "shape")), "vertical");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "namespace")), "shop");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "name")), "web");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, yu_map_get(&rec, r, "labels"), "tier")),
			 "front");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "address")), "10.200.1.10");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "list")), "");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "first")), "2026-11-22T00:10:00.042Z");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "last")), "2026-11-22T00:10:01.500Z");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "flows")), "40");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "denied")), "12");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "ports")), "31");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "hosts")), "1");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "denied_targets")), "0");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "raised")), "1");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "action")), "alert");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, r, "quarantine_id")), "0");
	t = yu_map_get(&rec, r, "targets");
	cr_assert_eq(yu_seq_len(t), 4);
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, yu_seq_at(&rec, t, 0), "target")),
			 "10.200.1.20:22/tcp");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, yu_seq_at(&rec, t, 0), "denied")), "true");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, yu_seq_at(&rec, t, 1), "denied")), "false");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, yu_seq_at(&rec, t, 2), "target")),
			 "[fd00:200::20]:53/udp");
	cr_assert_str_eq(yu_scalar(yu_map_get(&rec, yu_seq_at(&rec, t, 3), "target")),
			 "10.200.1.20/icmp");
	cr_assert(strstr(text, "\"flows\":40,"), "numbers stay numbers: %s", text);
	cr_assert(strstr(text, "\"denied\":true"), "booleans stay booleans: %s", text);
	yaml_document_delete(&rec);
	free(text);
	yaml_document_delete(&resp);
	free(d.alerts.v);
}

Test(alerts, table_and_follow_lines)
{
	struct segd d = { 0 };
	yaml_document_t resp;
	uint64_t last = 0;
	char *text;
	int code;

	alerts_of(&d);
	cr_assert_eq(ask(&d, "command: alerts\nargs: {}\n", &resp), 0);
	text = printed(&resp, SEGCTL_TABLE, false, &last, &code);
	cr_assert(strstr(text, "ID   KIND"), "%s", text);
	cr_assert(strstr(text, "TECHNIQUE"), "%s", text);
	cr_assert(strstr(text, "TARGETS\n"), "%s", text);
	cr_assert(strstr(text, "scan (vertical)   T1046       shop/web"), "%s", text);
	cr_assert(strstr(text, "10.200.1.20:22/tcp (denied), 10.200.1.20:23/tcp +2; 31 ports, "
			 "1 hosts, 0 denied targets"), "%s", text);
	cr_assert(strstr(text, "quarantine (#3)"), "%s", text);
	cr_assert(strstr(text, "; list pools"), "%s", text);
	cr_assert(strstr(text, "2026-11-22T00:10:00.042Z"), "%s", text);
	free(text);
	text = printed(&resp, SEGCTL_TABLE, true, &last, &code);
	cr_assert(strstr(text, "2026-11-22T00:10:01.500Z #3 lateral "), "%s", text);
	cr_assert(strstr(text, " shop/api (10.200.1.11): alert; 0 ports, 0 hosts, 9 denied "
			 "targets\n"), "%s", text);
	free(text);
	text = printed(&resp, SEGCTL_YAML, false, &last, &code);
	cr_assert(strstr(text, "---\n") && strstr(text, "technique: T1496"), "%s", text);
	free(text);
	yaml_document_delete(&resp);
	free(d.alerts.v);
}

/* ---- namespace set --on-detect ------------------------------------------ */

Test(alerts, namespace_on_detect_is_set_kept_and_cleared)
{
	char dir[] = "/tmp/segd-ondetect.XXXXXX", cmd[64];
	struct segd d = { 0 };
	struct seg_state reloaded = { 0 };
	struct seg_error err = { 0 };
	yaml_document_t resp;
	yaml_node_t *res;

	cr_assert_not_null(mkdtemp(dir));
	d.cfg.state_dir = dir;
	cr_assert_eq(seg_state_set_ns(&d.state, "default", NULL), 0);
	cr_assert_eq(ask(&d, "command: namespace.set\nargs: {name: shop, on-detect: quarantine}\n",
			 &resp), 0);
	res = yu_map_get(&resp, yu_root(&resp), "result");
	cr_assert_str_eq(yu_scalar(yu_map_get(&resp, res, "on_detect")), "quarantine");
	yaml_document_delete(&resp);
	cr_assert(seg_state_find_ns(&d.state, "shop")->on_detect_set);
	cr_assert_eq(seg_state_find_ns(&d.state, "shop")->on_detect, SEG_DETECT_QUARANTINE);

	/* a restart reads it back */
	cr_assert_eq(seg_state_load(&reloaded, dir, &err), 0, "%s", err.msg);
	cr_assert(seg_state_find_ns(&reloaded, "shop")->on_detect_set);
	cr_assert_eq(seg_state_find_ns(&reloaded, "shop")->on_detect, SEG_DETECT_QUARANTINE);
	seg_state_free(&reloaded);

	/* other settings leave it alone; a bad value changes nothing */
	cr_assert_eq(ask(&d, "command: namespace.set\nargs: {name: shop, mode: audit}\n",
			 &resp), 0);
	yaml_document_delete(&resp);
	cr_assert_eq(seg_state_find_ns(&d.state, "shop")->on_detect, SEG_DETECT_QUARANTINE);
	cr_assert_eq(ask(&d, "command: namespace.set\nargs: {name: shop, on-detect: nuke}\n",
			 &resp), 1);
	cr_assert(strstr(yu_scalar(yu_map_get(&resp, yu_root(&resp), "error")),
			 "--on-detect takes alert, quarantine, off or default, not 'nuke'"));
	yaml_document_delete(&resp);
	cr_assert_eq(seg_state_find_ns(&d.state, "shop")->on_detect, SEG_DETECT_QUARANTINE);

	cr_assert_eq(ask(&d, "command: get\nargs: {what: namespaces}\n", &resp), 0);
	cr_assert_str_eq(yu_scalar(yu_map_get(&resp, yu_seq_at(&resp, yu_map_get(&resp,
			 yu_map_get(&resp, yu_root(&resp), "result"), "items"), 0), "on_detect")),
			 "default");
	yaml_document_delete(&resp);

	cr_assert_eq(ask(&d, "command: namespace.set\nargs: {name: shop, on-detect: default}\n",
			 &resp), 0);
	res = yu_map_get(&resp, yu_root(&resp), "result");
	cr_assert_str_eq(yu_scalar(yu_map_get(&resp, res, "on_detect")), "default");
	yaml_document_delete(&resp);
	cr_assert_not(seg_state_find_ns(&d.state, "shop")->on_detect_set);

	seg_compiled_free(&d.compiled);
	seg_state_free(&d.state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}
