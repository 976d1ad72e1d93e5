/* policy_stage.c - rewrite a policy's source to stage or enforce it
 * (policy_stage.h), and the policy audit log's lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy_parse.h"
#include "policy_parse_int.h"
#include "policy_stage.h"
#include "timetext.h"
#include "yaml_util.h"

static int node_id(yaml_document_t *d, const yaml_node_t *n)
{
	return (int)(n - d->nodes.start) + 1;
}

/* Remove the pairs of map whose key is a or b; true if any was there. */
static bool drop_keys(yaml_document_t *d, yaml_node_t *map, const char *a, const char *b)
{
	yaml_node_pair_t *w;
	bool dropped = false;

	if (!yu_is_map(map))
		return false;
	w = map->data.mapping.pairs.start;
	for (yaml_node_pair_t *r = w; r < map->data.mapping.pairs.top; r++) {
		const char *k = yu_scalar(yu_node(d, r->key));

		if (k && (!strcmp(k, a) || (b && !strcmp(k, b)))) {
			dropped = true;
			continue;
		}
		*w++ = *r;
	}
	map->data.mapping.pairs.top = w;
	return dropped;
}

static bool map_empty(const yaml_node_t *map)
{
	return map->data.mapping.pairs.top == map->data.mapping.pairs.start;
}

/* Edit the document: mode settings out, and for op AUDIT the two
 * annotations in. */
static int edit(yaml_document_t *d, const struct seg_policy *p, enum seg_stage_op op)
{
	yaml_node_t *root = yu_root(d), *md = yu_map_get(d, root, "metadata"), *ann;
	int md_id, ann_id;

	if (!yu_is_map(md))
		return -EINVAL;
	md_id = node_id(d, md);
	if (p->kind == SEG_KIND_SEGMENT)
		drop_keys(d, yu_map_get(d, root, "spec"), "mode", "audit");
	ann = yu_map_get(d, md, "annotations");
	if (yu_is_map(ann)) {
		drop_keys(d, ann, PP_MODE_ANNOTATION, PP_STAGED_ANNOTATION);
		ann_id = node_id(d, ann);
		if (map_empty(ann) && op == SEG_STAGE_ENFORCE)
			drop_keys(d, md, "annotations", NULL);
	} else {
		drop_keys(d, md, "annotations", NULL);   /* `annotations:` null */
		if (op == SEG_STAGE_ENFORCE)
			return 0;
		ann_id = yu_add_map(d);
		if (ann_id < 0 || yu_set(d, md_id, "annotations", ann_id))
			return -ENOMEM;
	}
	if (op == SEG_STAGE_ENFORCE)
		return 0;
	return yu_set_str(d, ann_id, PP_MODE_ANNOTATION, "audit") ||
	       yu_set_str(d, ann_id, PP_STAGED_ANNOTATION, "true") ? -ENOMEM : 0;
}

int seg_policy_restage(const struct seg_policy *p, enum seg_stage_op op,
		       struct seg_policy *out, struct seg_error *err)
{
	const char *what = op == SEG_STAGE_AUDIT ? "stage" : "enforce";
	struct seg_policy *v = NULL;
	yaml_document_t d;
	char *text = NULL;
	size_t len = 0, n = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!p->source)
		return seg_errorf(err, p->source_file, p->line, p->col, -EINVAL,
				  "cannot %s policy %s/%s: segd holds no source for it; "
				  "apply it again", what, p->ns, p->name);
	ret = yu_load_one(p->source, strlen(p->source), p->source_file, &d, err);
	if (ret)
		return ret;
	ret = edit(&d, p, op);
	if (!ret)
		ret = yu_dump(&d, &text, &len);
	yaml_document_delete(&d);
	if (ret)
		return seg_errorf(err, p->source_file, p->line, p->col, ret,
				  "cannot %s policy %s/%s: its source has no metadata "
				  "mapping", what, p->ns, p->name);
	ret = seg_policy_parse(text, len, p->source_file, *p->ns ? p->ns : NULL, &v, &n,
			       err);
	free(text);
	if (!ret && (n != 1 || v[0].n_rules != p->n_rules))
		ret = seg_errorf(err, p->source_file, p->line, p->col, -EINVAL,
				 "cannot %s policy %s/%s: its source parses to "
				 "something else; apply it again", what, p->ns, p->name);
	if (ret) {
		seg_policies_free(v, n);
		return ret;
	}
	/* positions stay those of the file the user applied */
	v[0].line = p->line;
	v[0].col = p->col;
	for (size_t i = 0; i < p->n_rules; i++) {
		v[0].rules[i].line = p->rules[i].line;
		v[0].rules[i].col = p->rules[i].col;
	}
	*out = v[0];
	free(v);
	return 0;
}

int seg_policy_audit_line(const char *action, const struct seg_policy *p,
			  int64_t now, uint32_t uid, uint32_t pid, char **out)
{
	char *text = NULL, t[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	seg_rfc3339(now, t, sizeof(t));
	fputs("{\"time\":", f);
	yu_json_string(f, t);
	fputs(",\"action\":", f);
	yu_json_string(f, action);
	fputs(",\"kind\":", f);
	yu_json_string(f, seg_policy_kind_name(p->kind));
	fputs(",\"namespace\":", f);
	yu_json_string(f, p->ns);
	fputs(",\"name\":", f);
	yu_json_string(f, p->name);
	fputs(",\"mode\":", f);
	yu_json_string(f, seg_policy_mode_name(p->audit ? SEG_MODE_AUDIT : SEG_MODE_ENFORCE));
	fprintf(f, ",\"staged\":%s,\"uid\":%u,\"pid\":%u}\n", p->staged ? "true" : "false",
		uid, pid);
	if (fclose(f) || !text) {
		free(text);
		return -ENOMEM;
	}
	*out = text;
	return 0;
}
