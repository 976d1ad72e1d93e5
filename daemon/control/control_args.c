/* control_args.c - what a request's handler reads from its args map. */
#include <errno.h>
#include <stdbool.h>
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
