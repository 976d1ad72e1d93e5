/* control_args.c - what a request's handler reads from its args map. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "control_int.h"
#include "yaml_util.h"

const char *segd_arg_str(struct segd_req *r, const char *key)
{
	return yu_scalar(yu_map_get(r->doc, r->args, key));
}

bool segd_arg_bool(struct segd_req *r, const char *key)
{
	bool v = false;

	yu_bool(yu_map_get(r->doc, r->args, key), &v);
	return v;
}

const char *segd_arg_ns(struct segd_req *r)
{
	const char *ns = segd_arg_str(r, "namespace");

	return ns && *ns ? ns : "default";
}

int segd_arg_need(struct segd_req *r, const char *key, const char **out)
{
	*out = segd_arg_str(r, key);
	if (!*out || !**out)
		return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				  "missing argument '%s'", key);
	return 0;
}

/* The request's file entries {name, size}, their bytes in the payload. */
int segd_request_files(struct segd_req *r, struct segd_apply_file **out, size_t *n_out)
{
	yaml_node_t *files = yu_map_get(r->doc, r->args, "files");
	size_t n = yu_seq_len(files), off = 0;
	struct segd_apply_file *v = calloc(n + 1, sizeof(*v));

	*out = v;
	*n_out = n;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *f = yu_seq_at(r->doc, files, i);
		const char *name = yu_scalar(yu_map_get(r->doc, f, "name"));
		int64_t size;

		if (!name || yu_int(yu_map_get(r->doc, f, "size"), 0, INT64_MAX, &size) ||
		    (uint64_t)size > r->payload_len - off)
			return seg_errorf(r->err, NULL, 0, 0, -EINVAL,
					  "file entry %zu needs a name and a size "
					  "within the request", i);
		v[i] = (struct segd_apply_file){ name, r->payload + off, (size_t)size };
		off += (size_t)size;
	}
	return 0;
}
