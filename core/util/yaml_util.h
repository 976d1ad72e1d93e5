/* yaml_util.h - small helpers over libyaml's document API, shared by the
 * policy parser, the config and state files and the control protocol.
 *
 * Control messages and state are yaml_document_t trees. Non-string scalars
 * carry an explicit tag (!!int, !!bool, !!null) so that a reader - the CLI's
 * JSON printer - can tell 8080 from "8080".
 */
#ifndef SEGD_YAML_UTIL_H
#define SEGD_YAML_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>
#include "error.h"

/* ---- reading -------------------------------------------------------------- */
/* Called once per document of a stream; return 0 to go on, -errno to stop. */
typedef int (*yu_doc_fn)(yaml_document_t *doc, void *ctx);

/* Parse every document in buf. Syntax errors come back as
 * file:line:col with libyaml's problem text. */
int yu_load_all(const char *buf, size_t len, const char *file,
		yu_doc_fn fn, void *ctx, struct seg_error *err);
/* Load exactly one document (an empty stream is an error). The caller
 * deletes *doc with yaml_document_delete on success. */
int yu_load_one(const char *buf, size_t len, const char *file,
		yaml_document_t *doc, struct seg_error *err);

yaml_node_t *yu_root(yaml_document_t *d);
yaml_node_t *yu_node(yaml_document_t *d, int id);
/* Value node for key in a mapping, NULL if absent or `map` not a mapping. */
yaml_node_t *yu_map_get(yaml_document_t *d, yaml_node_t *map, const char *key);
/* Scalar text, NULL when n is not a scalar. */
const char *yu_scalar(const yaml_node_t *n);
bool yu_is_map(const yaml_node_t *n);
bool yu_is_seq(const yaml_node_t *n);
bool yu_is_null(const yaml_node_t *n);  /* "~", "null", "" plain, or NULL */
size_t yu_seq_len(const yaml_node_t *n);
yaml_node_t *yu_seq_at(yaml_document_t *d, const yaml_node_t *seq, size_t i);
/* 1-based position of a node, for messages. */
int yu_line(const yaml_node_t *n);
int yu_col(const yaml_node_t *n);
/* Parse an integer scalar into [min,max]; -EINVAL/-ERANGE otherwise. */
int yu_int(const yaml_node_t *n, int64_t min, int64_t max, int64_t *out);
/* "true"/"false" (also yes/no/on/off per YAML 1.1). */
int yu_bool(const yaml_node_t *n, bool *out);

/* ---- building ------------------------------------------------------------- */
/* Start a document whose root is a mapping; returns the root node id. */
int yu_doc_init_map(yaml_document_t *d);
int yu_add_map(yaml_document_t *d);
int yu_add_seq(yaml_document_t *d);
int yu_add_str(yaml_document_t *d, const char *s);
int yu_add_int(yaml_document_t *d, int64_t v);
int yu_add_uint(yaml_document_t *d, uint64_t v);
int yu_add_bool(yaml_document_t *d, bool v);
int yu_add_null(yaml_document_t *d);
/* map[key] = node; returns 0 or -ENOMEM. */
int yu_set(yaml_document_t *d, int map, const char *key, int node);
int yu_set_str(yaml_document_t *d, int map, const char *key, const char *v);
int yu_set_int(yaml_document_t *d, int map, const char *key, int64_t v);
int yu_set_uint(yaml_document_t *d, int map, const char *key, uint64_t v);
int yu_set_bool(yaml_document_t *d, int map, const char *key, bool v);
int yu_append(yaml_document_t *d, int seq, int node);
/* Deep-copy node `src_id` of src into dst; returns the new node id. */
int yu_copy(yaml_document_t *dst, yaml_document_t *src, int src_id);

/* ---- writing -------------------------------------------------------------- */
/* Serialise (tags kept, for machines). Does not consume doc. *out is
 * malloc'ed and NUL-terminated. */
int yu_dump(yaml_document_t *doc, char **out, size_t *len);
/* For people: YAML without type tags. */
int yu_write_yaml(FILE *f, yaml_document_t *doc);
/* Valid JSON, 2-space indented, tags decide number/bool/null. */
int yu_write_json(FILE *f, yaml_document_t *doc);
/* Node n of doc as JSON on one line (a JSON Lines record), newline ended. */
int yu_write_json_line(FILE *f, yaml_document_t *doc, yaml_node_t *n);
/* JSON string literal (quotes included) for s. */
void yu_json_string(FILE *f, const char *s);

#endif /* SEGD_YAML_UTIL_H */
