/* control_blocklist.c - the `blocklist` requests: load (parse, safety,
 * merge, write maps, re-check flows, persist), list, show, del, test. The
 * list machinery they drive is in engine/lists.c.
 *
 * A change is all-or-nothing like a policy change: the merged content of
 * every list is compiled first, the maps are written (new keys before
 * stale ones go), the generation is bumped so established flows are
 * re-checked, and only then does the new list replace the old one in
 * memory and on disk.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "control_blocklist.h"
#include "lists_int.h"
#include "control_int.h"
#include "log.h"
#include "yaml_util.h"

/* ---- requests -------------------------------------------------------------------------- */

static int need_list(struct segd *d, struct segd_req *r, struct segd_list **out)
{
	const char *name;
	int ret = segd_arg_need(r, "name", &name);

	if (ret)
		return ret;
	*out = segd_list_find(d, name);
	if (!*out)
		return seg_errorf(r->err, NULL, 0, 0, -ENOENT,
				  "no list '%s'; see `segctl blocklist list`", name);
	return 0;
}

static int load_args(struct segd_req *r, struct segd_list *l, enum seg_bl_format *fmt,
		     enum segd_bl_category *cat, enum segd_bl_action *act,
		     int64_t *expires, int64_t now)
{
	const char *name, *c = segd_arg_str(r, "category"), *f = segd_arg_str(r, "format");
	const char *a = segd_arg_str(r, "action"), *e = segd_arg_str(r, "expires");
	yaml_node_t *allow = yu_map_get(r->doc, r->args, "allow");
	int ret;

	if ((ret = segd_arg_need(r, "name", &name)))
		return ret;
	if (!segd_list_name_valid(name))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "list name '%s': use 1-63 "
				  "lowercase letters, digits, '-', '_' or '.'", name);
	if (!c)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "say what the list is: --category miner, c2, custom or exception");
	l->exception = !strcmp(c, "exception");
	*cat = SEGD_BL_CUSTOM;
	if (!l->exception && seg_bl_category_parse(c, cat))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "unknown category '%s'; use "
				  "miner, c2, custom or exception", c);
	*fmt = SEG_BL_FMT_AUTO;
	if (f && seg_bl_format_parse(f, fmt))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "unknown format '%s'; use auto, "
				  "plain, spamhaus-drop, spamhaus-json, feodo-csv, hosts, "
				  "domains or falco-yaml", f);
	*act = SEGD_BL_DROP;
	if (a && seg_bl_action_parse(a, act))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "unknown action '%s'; use drop or audit", a);
	if (segd_list_parse_expiry(e, now, expires))
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "expiry '%s': use a duration "
				  "(3600, 30m, 12h, 7d), a time (2026-12-01T00:00:00Z) or never", e);
	if (yu_seq_len(allow) > SEGD_MAX_ALLOW)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "at most %d --allow", SEGD_MAX_ALLOW);
	for (size_t i = 0; i < yu_seq_len(allow); i++) {
		const char *s = yu_scalar(yu_seq_at(r->doc, allow, i));

		if (!s || seg_cidr_parse(s, &l->allow[l->n_allow++], r->err))
			return -EINVAL;
	}
	l->bl.name = strdup(name);
	return l->bl.name ? 0 : -ENOMEM;
}

static void report_problems(yaml_document_t *out, int m, const struct seg_blocklist *bl)
{
	int seq = yu_add_seq(out);

	yu_set(out, m, "problems", seq);
	for (size_t i = 0; i < bl->n_problems; i++) {
		int p = yu_add_map(out);

		yu_append(out, seq, p);
		yu_set_uint(out, p, "line", bl->problems[i].line);
		yu_set_str(out, p, "text", bl->problems[i].text);
		yu_set_str(out, p, "why", bl->problems[i].why);
	}
	yu_set_uint(out, m, "problems_total", bl->n_problems_total);
}

static void describe(yaml_document_t *out, int m, const struct segd_list *l,
		     const struct segd_counter *ctr)
{
	yu_set_str(out, m, "name", l->bl.name);
	yu_set_uint(out, m, "id", l->id);
	yu_set_str(out, m, "category", l->exception ? "exception" :
		   seg_bl_category_name(l->bl.category));
	yu_set_str(out, m, "action", l->exception ? "except" : seg_bl_action_name(l->bl.action));
	yu_set_str(out, m, "format", seg_bl_format_name(l->bl.format));
	yu_set_uint(out, m, "entries", l->bl.n_entries);
	yu_set_uint(out, m, "domains", l->bl.n_domains);
	yu_set_uint(out, m, "resolved", l->n_resolved);
	yu_set_uint(out, m, "problems_total", l->bl.n_problems_total);
	yu_set_int(out, m, "expires", l->bl.expires);
	yu_set_str(out, m, "file", l->file ? l->file : "");
	yu_set_uint(out, m, "packets", ctr && !l->exception ? ctr[l->id].packets : 0);
	yu_set_uint(out, m, "bytes", ctr && !l->exception ? ctr[l->id].bytes : 0);
}

int segd_h_blocklist_load(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	yaml_node_t *files = yu_map_get(r->doc, r->args, "files");
	const char *file = yu_scalar(yu_map_get(r->doc, yu_seq_at(r->doc, files, 0), "name"));
	struct segd_list cand = { 0 }, *old = NULL;
	enum seg_bl_format fmt;
	enum segd_bl_category cat;
	enum segd_bl_action act;
	int64_t now = (int64_t)time(NULL), expires = 0, size = -1;
	int ret;

	if (yu_seq_len(files) != 1 ||
	    yu_int(yu_map_get(r->doc, yu_seq_at(r->doc, files, 0), "size"), 0, INT64_MAX, &size) ||
	    (uint64_t)size != r->payload_len)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL, "blocklist load takes one file");
	if ((ret = load_args(r, &cand, &fmt, &cat, &act, &expires, now)))
		goto out;
	cand.file = strdup(file ? file : "");
	ret = segd_list_install(d, &cand, r->payload, r->payload_len, fmt, cat, act,
				expires, &old, r->err);
	if (ret)
		goto out;
	describe(out, res, old, NULL);
	report_problems(out, res, &old->bl);
out:
	segd_list_free(&cand);
	return ret;
}

int segd_h_blocklist_del(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct segd_list *l;
	int ret = need_list(d, r, &l);

	if (ret)
		return ret;
	yu_set_str(out, res, "name", l->bl.name);
	yu_set_str(out, res, "action", "deleted");
	return segd_list_delete(d, l, r->err);
}

int segd_h_blocklist_list(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct segd_counter ctr[SEGD_MAX_BLOCKLISTS] = { 0 };
	int seq = yu_add_seq(out);
	bool have = d->dp && !seg_dp_blocklist_counters(d->dp, ctr);

	(void)r;
	yu_set(out, res, "items", seq);
	for (size_t i = 0; i < d->n_lists; i++) {
		int m = yu_add_map(out);

		yu_append(out, seq, m);
		describe(out, m, &d->lists[i], have ? ctr : NULL);
	}
	return 0;
}

int segd_h_blocklist_show(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct segd_counter ctr[SEGD_MAX_BLOCKLISTS] = { 0 };
	struct segd_list *l;
	char text[64];
	int ret = need_list(d, r, &l), seq;

	if (ret)
		return ret;
	describe(out, res, l, d->dp && !seg_dp_blocklist_counters(d->dp, ctr) ? ctr : NULL);
	report_problems(out, res, &l->bl);
	seq = yu_add_seq(out);
	yu_set(out, res, "first_entries", seq);
	for (size_t i = 0; i < l->bl.n_entries && i < 20; i++) {
		seg_cidr_format(&l->bl.entries[i].cidr, text, sizeof(text));
		yu_append(out, seq, yu_add_str(out, text));
	}
	return 0;
}

struct test_ctx {
	struct segd *d;
	yaml_document_t *out;
	int seq;
	const struct seg_blocklist *lists;
};

static void on_hit(void *p, size_t list_index, const struct seg_bl_entry *e, bool excepted)
{
	struct test_ctx *t = p;
	const struct segd_list *l = &t->d->lists[list_index];
	int m = yu_add_map(t->out);
	char cidr[64];

	seg_cidr_format(&e->cidr, cidr, sizeof(cidr));
	yu_append(t->out, t->seq, m);
	yu_set_str(t->out, m, "list", l->bl.name);
	yu_set_str(t->out, m, "category", l->exception ? "exception" :
		   seg_bl_category_name(l->bl.category));
	yu_set_str(t->out, m, "action", l->exception ? "except" : seg_bl_action_name(l->bl.action));
	yu_set_str(t->out, m, "entry", cidr);
	yu_set_uint(t->out, m, "line", e->line);
	yu_set_bool(t->out, m, "excepted", excepted && !l->exception);
}

int segd_h_blocklist_test(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct test_ctx t = { .d = d, .out = out, .seq = yu_add_seq(out) };
	struct segd_lists_view v;
	struct in6_addr addr;
	const char *a;
	int ret = segd_arg_need(r, "address", &a);

	if (!ret && seg_addr_parse(a, &addr))
		ret = seg_errorf(r->err, NULL, 0, 0, -EINVAL, "'%s' is not an IPv4 or IPv6 "
				 "address", a);
	if (ret || (ret = segd_lists_view(d, &v)))
		return ret;
	yu_set_str(out, res, "address", a);
	yu_set(out, res, "hits", t.seq);
	seg_blocklists_test(v.lists, v.n_lists, v.exceptions, v.n_exceptions, &addr,
			    on_hit, &t);
	segd_lists_view_free(&v);
	return 0;
}
