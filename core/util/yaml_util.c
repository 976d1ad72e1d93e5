/* yaml_util.c - helpers over libyaml's document API. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "json_escape.h"
#include "yaml_util.h"

/* ---- reading -------------------------------------------------------------- */

static int parser_error(yaml_parser_t *p, const char *file, struct seg_error *err)
{
	const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;
	return seg_errorf(err, file, (int)m->line + 1, (int)m->column + 1, -EINVAL,
			  "invalid YAML: %s%s%s; fix the syntax at this position",
			  p->problem ? p->problem : "parse error",
			  p->context ? " " : "", p->context ? p->context : "");
}

int yu_load_all(const char *buf, size_t len, const char *file,
		yu_doc_fn fn, void *ctx, struct seg_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int ret = 0;

	if (!yaml_parser_initialize(&parser))
		return seg_errorf(err, file, 0, 0, -ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			ret = parser_error(&parser, file, err);
			goto out;
		}
		if (!yaml_document_get_root_node(&doc)) { /* end of stream */
			yaml_document_delete(&doc);
			break;
		}
		ret = fn(&doc, ctx);
		yaml_document_delete(&doc);
		if (ret)
			goto out;
	}
out:
	yaml_parser_delete(&parser);
	return ret;
}

struct load_one_ctx {
	yaml_document_t *out;
	int count;
};

static int take_one(yaml_document_t *doc, void *p)
{
	struct load_one_ctx *c = p;

	if (c->count++ > 0)
		return -E2BIG;
	*c->out = *doc;
	/* ownership moves to the caller: leave an empty shell behind */
	memset(doc, 0, sizeof(*doc));
	return 0;
}

int yu_load_one(const char *buf, size_t len, const char *file,
		yaml_document_t *doc, struct seg_error *err)
{
	struct load_one_ctx c = { .out = doc };
	int ret = yu_load_all(buf, len, file, take_one, &c, err);

	if (ret == -E2BIG) {
		yaml_document_delete(doc);
		return seg_errorf(err, file, 0, 0, -EINVAL,
				  "expected one YAML document, found several");
	}
	if (ret) {
		/* a syntax error after the first document: it was handed over */
		if (c.count)
			yaml_document_delete(doc);
		return ret;
	}
	if (c.count == 0)
		return seg_errorf(err, file, 1, 1, -EINVAL, "empty document");
	return 0;
}

yaml_node_t *yu_root(yaml_document_t *d)
{
	return yaml_document_get_root_node(d);
}

yaml_node_t *yu_node(yaml_document_t *d, int id)
{
	return yaml_document_get_node(d, id);
}

const char *yu_scalar(const yaml_node_t *n)
{
	if (!n || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

bool yu_is_map(const yaml_node_t *n)
{
	return n && n->type == YAML_MAPPING_NODE;
}

bool yu_is_seq(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE;
}

bool yu_is_null(const yaml_node_t *n)
{
	const char *s;

	if (!n)
		return true;
	s = yu_scalar(n);
	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

yaml_node_t *yu_map_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *p;

	if (!yu_is_map(map))
		return NULL;
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = yu_scalar(yu_node(d, p->key));

		if (k && !strcmp(k, key))
			return yu_node(d, p->value);
	}
	return NULL;
}

size_t yu_seq_len(const yaml_node_t *n)
{
	if (!yu_is_seq(n))
		return 0;
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

yaml_node_t *yu_seq_at(yaml_document_t *d, const yaml_node_t *seq, size_t i)
{
	if (i >= yu_seq_len(seq))
		return NULL;
	return yu_node(d, seq->data.sequence.items.start[i]);
}

int yu_line(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.line + 1 : 0;
}

int yu_col(const yaml_node_t *n)
{
	return n ? (int)n->start_mark.column + 1 : 0;
}

int yu_int(const yaml_node_t *n, int64_t min, int64_t max, int64_t *out)
{
	const char *s = yu_scalar(n);
	char *end;
	long long v;

	if (!s || !*s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int yu_bool(const yaml_node_t *n, bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "on" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "off" };
	const char *s = yu_scalar(n);

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- building ------------------------------------------------------------- */

int yu_doc_init_map(yaml_document_t *d)
{
	if (!yaml_document_initialize(d, NULL, NULL, NULL, 1, 1))
		return -ENOMEM;
	return yu_add_map(d);
}

int yu_add_map(yaml_document_t *d)
{
	int id = yaml_document_add_mapping(d, NULL, YAML_BLOCK_MAPPING_STYLE);

	return id ? id : -ENOMEM;
}

int yu_add_seq(yaml_document_t *d)
{
	int id = yaml_document_add_sequence(d, NULL, YAML_BLOCK_SEQUENCE_STYLE);

	return id ? id : -ENOMEM;
}

static int add_tagged(yaml_document_t *d, const char *tag, const char *s)
{
	int id = yaml_document_add_scalar(d, (yaml_char_t *)tag, (yaml_char_t *)s,
					  (int)strlen(s), YAML_ANY_SCALAR_STYLE);

	return id ? id : -ENOMEM;
}

int yu_add_str(yaml_document_t *d, const char *s)
{
	return add_tagged(d, NULL, s ? s : "");
}

int yu_add_int(yaml_document_t *d, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return add_tagged(d, YAML_INT_TAG, buf);
}

int yu_add_uint(yaml_document_t *d, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return add_tagged(d, YAML_INT_TAG, buf);
}

int yu_add_bool(yaml_document_t *d, bool v)
{
	return add_tagged(d, YAML_BOOL_TAG, v ? "true" : "false");
}

int yu_add_null(yaml_document_t *d)
{
	return add_tagged(d, YAML_NULL_TAG, "null");
}

int yu_set(yaml_document_t *d, int map, const char *key, int node)
{
	int k;

	if (node < 0)
		return node;
	k = yu_add_str(d, key);
	if (k < 0)
		return k;
	return yaml_document_append_mapping_pair(d, map, k, node) ? 0 : -ENOMEM;
}

int yu_set_str(yaml_document_t *d, int map, const char *key, const char *v)
{
	return yu_set(d, map, key, yu_add_str(d, v));
}

int yu_set_int(yaml_document_t *d, int map, const char *key, int64_t v)
{
	return yu_set(d, map, key, yu_add_int(d, v));
}

int yu_set_uint(yaml_document_t *d, int map, const char *key, uint64_t v)
{
	return yu_set(d, map, key, yu_add_uint(d, v));
}

int yu_set_bool(yaml_document_t *d, int map, const char *key, bool v)
{
	return yu_set(d, map, key, yu_add_bool(d, v));
}

int yu_append(yaml_document_t *d, int seq, int node)
{
	if (node < 0)
		return node;
	return yaml_document_append_sequence_item(d, seq, node) ? 0 : -ENOMEM;
}

/* Nodes of a loaded document refer to each other by index; copying walks the
 * tree and re-adds every node so indexes are valid in dst. Aliases are not
 * produced by our own documents; a repeated node is simply copied twice. */
static int copy_node(yaml_document_t *dst, yaml_document_t *src, int src_id, int depth)
{
	yaml_node_t *n = yu_node(src, src_id);
	int id, ret;

	if (!n || depth > 64)
		return -EINVAL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		id = yaml_document_add_scalar(dst, n->tag, n->data.scalar.value,
					      (int)n->data.scalar.length,
					      n->data.scalar.style);
		return id ? id : -ENOMEM;
	case YAML_SEQUENCE_NODE:
		id = yaml_document_add_sequence(dst, n->tag, n->data.sequence.style);
		if (!id)
			return -ENOMEM;
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			/* re-fetch: adding nodes may move src? no, but dst yes */
			ret = copy_node(dst, src, *it, depth + 1);
			if (ret < 0)
				return ret;
			if (!yaml_document_append_sequence_item(dst, id, ret))
				return -ENOMEM;
		}
		return id;
	case YAML_MAPPING_NODE:
		id = yaml_document_add_mapping(dst, n->tag, n->data.mapping.style);
		if (!id)
			return -ENOMEM;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			int k = copy_node(dst, src, p->key, depth + 1);
			int v = k < 0 ? k : copy_node(dst, src, p->value, depth + 1);

			if (v < 0)
				return v;
			if (!yaml_document_append_mapping_pair(dst, id, k, v))
				return -ENOMEM;
		}
		return id;
	default:
		return -EINVAL;
	}
}

int yu_copy(yaml_document_t *dst, yaml_document_t *src, int src_id)
{
	return copy_node(dst, src, src_id, 0);
}

/* ---- writing -------------------------------------------------------------- */

struct strbuf {
	char *p;
	size_t len, cap;
};

static int strbuf_write(void *data, unsigned char *buf, size_t size)
{
	struct strbuf *sb = data;

	if (sb->len + size + 1 > sb->cap) {
		size_t cap = (sb->cap ? sb->cap * 2 : 1024) + size;
		char *p = realloc(sb->p, cap);

		if (!p)
			return 0;
		sb->p = p;
		sb->cap = cap;
	}
	memcpy(sb->p + sb->len, buf, size);
	sb->len += size;
	sb->p[sb->len] = '\0';
	return 1;
}

/* An event the emitter takes over (and frees): the strings are copies,
 * not checked the way libyaml's event initializers check them, as its
 * dumper does not check them either. */
static int start_event(yaml_event_t *ev, yaml_event_type_t type, const char *tag,
		       bool implicit, int style)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	if (type == YAML_SEQUENCE_START_EVENT) {
		ev->data.sequence_start.tag = (yaml_char_t *)strdup(tag);
		ev->data.sequence_start.implicit = implicit;
		ev->data.sequence_start.style = (yaml_sequence_style_t)style;
		return ev->data.sequence_start.tag ? 0 : -ENOMEM;
	}
	ev->data.mapping_start.tag = (yaml_char_t *)strdup(tag);
	ev->data.mapping_start.implicit = implicit;
	ev->data.mapping_start.style = (yaml_mapping_style_t)style;
	return ev->data.mapping_start.tag ? 0 : -ENOMEM;
}

static int scalar_event(yaml_event_t *ev, const char *tag, const yaml_node_t *n)
{
	size_t len = n->data.scalar.length;
	bool implicit = !strcmp(tag, YAML_DEFAULT_SCALAR_TAG);

	memset(ev, 0, sizeof(*ev));
	ev->type = YAML_SCALAR_EVENT;
	ev->data.scalar.tag = (yaml_char_t *)strdup(tag);
	ev->data.scalar.value = malloc(len + 1);
	if (!ev->data.scalar.tag || !ev->data.scalar.value) {
		yaml_event_delete(ev);
		return -ENOMEM;
	}
	memcpy(ev->data.scalar.value, n->data.scalar.value, len);
	ev->data.scalar.value[len] = 0;
	ev->data.scalar.length = len;
	ev->data.scalar.plain_implicit = implicit;
	ev->data.scalar.quoted_implicit = implicit;
	ev->data.scalar.style = n->data.scalar.style;
	return 0;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	return yaml_emitter_emit(em, ev) ? 0 : -EIO;
}

/* Node id of doc as emitter events, the events libyaml's dumper makes
 * (no anchors: a node referenced twice is written twice, as a copy of
 * the document would be). The dumper consumes the document; this reads
 * it, so dumping costs no copy of it (the tree of a 100,000-rule policy
 * is hundreds of MB). `plain` writes every scalar untagged. */
static int emit_node(yaml_emitter_t *em, yaml_document_t *doc, int id,
		     bool plain, int depth)
{
	yaml_node_t *n = yu_node(doc, id);
	yaml_event_t ev;
	const char *tag;
	int ret;

	if (!n || depth > 64)
		return -EINVAL;
	tag = (const char *)n->tag;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		ret = scalar_event(&ev, plain ? YAML_DEFAULT_SCALAR_TAG : tag, n);
		return ret ? ret : emit(em, &ev);
	case YAML_SEQUENCE_NODE:
	case YAML_MAPPING_NODE: {
		bool seq = n->type == YAML_SEQUENCE_NODE;

		ret = start_event(&ev, seq ? YAML_SEQUENCE_START_EVENT :
				  YAML_MAPPING_START_EVENT, tag,
				  !strcmp(tag, seq ? YAML_DEFAULT_SEQUENCE_TAG :
				  YAML_DEFAULT_MAPPING_TAG),
				  seq ? (int)n->data.sequence.style :
				  (int)n->data.mapping.style);
		ret = ret ? ret : emit(em, &ev);
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     seq && !ret && it < n->data.sequence.items.top; it++)
			ret = emit_node(em, doc, *it, plain, depth + 1);
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     !seq && !ret && p < n->data.mapping.pairs.top; p++) {
			ret = emit_node(em, doc, p->key, plain, depth + 1);
			if (!ret)
				ret = emit_node(em, doc, p->value, plain, depth + 1);
		}
		if (ret)
			return ret;
		if (seq)
			yaml_sequence_end_event_initialize(&ev);
		else
			yaml_mapping_end_event_initialize(&ev);
		return emit(em, &ev);
	}
	default:
		return -EINVAL;
	}
}

/* The document (implicit start and end, as a fresh document has them);
 * `plain` drops type tags (for people), otherwise they stay (for
 * machines). An empty document writes nothing. */
static int dump_doc(yaml_document_t *doc, bool plain, yaml_write_handler_t *wr,
		    void *data)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int ret;

	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output(&em, wr, data);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	ret = yaml_emitter_open(&em) ? 0 : -EIO;
	if (!ret && yu_root(doc)) {
		ret = yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ?
		      emit(&em, &ev) : -ENOMEM;
		ret = ret ? ret : emit_node(&em, doc, 1, plain, 0);
		if (!ret) {
			yaml_document_end_event_initialize(&ev, 1);
			ret = emit(&em, &ev);
		}
	}
	if (!ret && !yaml_emitter_close(&em))
		ret = -EIO;
	yaml_emitter_delete(&em);
	return ret;
}

int yu_dump(yaml_document_t *doc, char **out, size_t *len)
{
	struct strbuf sb = { 0 };
	int ret = dump_doc(doc, false, strbuf_write, &sb);

	if (ret) {
		free(sb.p);
		return ret;
	}
	if (!sb.p && !(sb.p = calloc(1, 1)))
		return -ENOMEM;
	*out = sb.p;
	if (len)
		*len = sb.len;
	return 0;
}

static int file_write(void *data, unsigned char *buf, size_t size)
{
	return fwrite(buf, 1, size, data) == size;
}

int yu_write_yaml(FILE *f, yaml_document_t *doc)
{
	return dump_doc(doc, true, file_write, f);
}

void yu_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[6];
		size_t k = seg_json_escape(*p, esc);

		if (k)
			fwrite(esc, 1, k, f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static bool tag_is(const yaml_node_t *n, const char *tag)
{
	return n->tag && !strcmp((const char *)n->tag, tag);
}

/* A scalar is written bare only when its tag says so and its text is a
 * valid JSON literal of that type; anything else is a string. */
static bool json_bare(const yaml_node_t *n)
{
	const char *s = (const char *)n->data.scalar.value;
	char *end;

	if (tag_is(n, YAML_INT_TAG)) {
		errno = 0;
		(void)strtoll(s, &end, 10);
		if (*s == '+' || !*s || *end || errno)
			return false;
		return true;
	}
	if (tag_is(n, YAML_BOOL_TAG))
		return !strcmp(s, "true") || !strcmp(s, "false");
	if (tag_is(n, YAML_NULL_TAG))
		return !strcmp(s, "null");
	return false;
}

/* depth < 0: one line, no indentation */
static void indent(FILE *f, int depth)
{
	if (depth < 0)
		return;
	fputc('\n', f);
	for (int i = 0; i < depth; i++)
		fputs("  ", f);
}

/* the depth of a child: one line stays negative, counting down */
static int deeper(int depth)
{
	return depth < 0 ? depth - 1 : depth + 1;
}

static int write_json_node(FILE *f, yaml_document_t *d, yaml_node_t *n, int depth)
{
	int ret;

	if (!n || depth > 64 || depth < -64)
		return -EINVAL;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (json_bare(n))
			fputs((const char *)n->data.scalar.value, f);
		else
			yu_json_string(f, (const char *)n->data.scalar.value);
		return 0;
	case YAML_SEQUENCE_NODE:
		if (yu_seq_len(n) == 0) {
			fputs("[]", f);
			return 0;
		}
		fputc('[', f);
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++) {
			indent(f, deeper(depth));
			ret = write_json_node(f, d, yu_node(d, *it), deeper(depth));
			if (ret)
				return ret;
			if (it + 1 < n->data.sequence.items.top)
				fputc(',', f);
		}
		indent(f, depth);
		fputc(']', f);
		return 0;
	case YAML_MAPPING_NODE:
		if (n->data.mapping.pairs.top == n->data.mapping.pairs.start) {
			fputs("{}", f);
			return 0;
		}
		fputc('{', f);
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			const char *k = yu_scalar(yu_node(d, p->key));

			if (!k)
				return -EINVAL;
			indent(f, deeper(depth));
			yu_json_string(f, k);
			fputs(depth < 0 ? ":" : ": ", f);
			ret = write_json_node(f, d, yu_node(d, p->value), deeper(depth));
			if (ret)
				return ret;
			if (p + 1 < n->data.mapping.pairs.top)
				fputc(',', f);
		}
		indent(f, depth);
		fputc('}', f);
		return 0;
	default:
		return -EINVAL;
	}
}

int yu_write_json(FILE *f, yaml_document_t *doc)
{
	yaml_node_t *root = yu_root(doc);
	int ret;

	if (!root) {
		fputs("null\n", f);
		return 0;
	}
	ret = write_json_node(f, doc, root, 0);
	fputc('\n', f);
	return ret;
}

int yu_write_json_line(FILE *f, yaml_document_t *doc, yaml_node_t *n)
{
	/* -1: one line; each level below counts down, so the limit holds */
	int ret = write_json_node(f, doc, n, -1);

	fputc('\n', f);
	return ret;
}
