/* control_endpoint_load.c - `segctl endpoint load FILE...`: every endpoint
 * the files list registered in one step, all or none: one compile, one
 * write of the maps, one save of the state. A node that learns the pods
 * of a large cluster one `endpoint add` at a time pays a compile and a
 * save per pod. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include "control_int.h"
#include "endpoint_file.h"
#include "yaml_util.h"

/* the files' endpoints, each file's errors at file:line:col */
static int parse_files(struct segd_req *r, struct seg_endpoint **out, size_t *n_out)
{
	struct segd_apply_file *files = NULL;
	struct seg_endpoint *all = NULL;
	size_t n_files = 0, n = 0;
	int ret = segd_request_files(r, &files, &n_files);

	if (!ret && !n_files)
		ret = seg_errorf(r->err, NULL, 0, 0, -EINVAL,
				 "no file: `segctl endpoint load FILE...`");
	for (size_t f = 0; !ret && f < n_files; f++) {
		struct seg_endpoint *v, *grown;
		size_t k;

		ret = seg_endpoints_parse(files[f].text, files[f].len, files[f].name,
					  &v, &k, r->err);
		if (ret)
			break;
		grown = realloc(all, (n + k + 1) * sizeof(*all));
		if (!grown) {
			seg_endpoints_free(v, k);
			ret = -ENOMEM;
			break;
		}
		all = grown;
		memcpy(all + n, v, k * sizeof(*v));
		n += k;
		free(v);
	}
	free(files);
	*out = all;
	*n_out = n;
	return ret;
}

/* The candidate endpoint list: today's with eps added or replaced (ids
 * kept for replaced ones, the lowest free ones for new ones). */
static int candidate(struct segd *d, struct seg_endpoint *eps, size_t m,
		     struct seg_endpoint **out, size_t *n_out, size_t *replaced)
{
	size_t n = d->state.world.n_endpoints, k = n, fresh = 0;
	struct seg_endpoint *arr = calloc(n + m + 1, sizeof(*arr));
	uint32_t *ids = calloc(m + 1, sizeof(*ids));
	int ret = 0;

	*out = arr;
	if (!arr || !ids) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(arr, d->state.world.endpoints, n * sizeof(*arr));
	if ((ret = seg_state_free_endpoint_ids(&d->state, ids, m)))
		goto out;
	*replaced = 0;
	for (size_t i = 0; i < m; i++) {
		struct seg_endpoint *cur = seg_state_find_ep(&d->state, eps[i].ns,
							     eps[i].name);

		if (cur) {
			eps[i].endpoint_id = cur->endpoint_id;
			arr[cur - d->state.world.endpoints] = eps[i];
			(*replaced)++;
		} else {
			eps[i].endpoint_id = ids[fresh++];
			arr[k++] = eps[i];
		}
	}
	*n_out = k;
out:
	free(ids);
	return ret;
}

int segd_endpoints_register(struct segd *d, struct seg_endpoint *eps, size_t m,
			    struct segd_register_counts *counts, struct seg_error *err)
{
	struct seg_endpoint *arr = NULL;
	size_t n = 0;
	struct seg_compiled c;
	struct seg_world w;
	int ret, first_err = 0;

	*counts = (struct segd_register_counts){ 0 };
	for (size_t i = 0; i < m; i++) {
		eps[i].ifindex = eps[i].remote ? 0 : if_nametoindex(eps[i].ifname);
		if (!seg_state_find_ns(&d->state, eps[i].ns) &&
		    (ret = seg_state_set_ns(&d->state, eps[i].ns, NULL)))
			goto out;
	}
	if ((ret = candidate(d, eps, m, &arr, &n, &counts->replaced)))
		goto out;
	w = segd_candidate_of(d);
	w.endpoints = arr;
	w.n_endpoints = n;
	/* quarantined names, addresses or label sets are cut off before the
	 * new registrations reach the kernel */
	if ((ret = segd_quarantine_sync(d, &w, true, err)) ||
	    (ret = segd_compile_and_enforce(d, &w, false, &c, err, NULL)))
		goto out;
	segd_install_compiled(d, &c);
	for (size_t i = 0; i < m; i++) {
		struct seg_endpoint *old = seg_state_find_ep(&d->state, eps[i].ns,
							     eps[i].name), *cur;
		/* an index: putting may move the array */
		size_t slot = old ? (size_t)(old - d->state.world.endpoints) :
				    d->state.world.n_endpoints;

		if ((ret = seg_state_put_ep(&d->state, &eps[i])))
			goto out;
		cur = &d->state.world.endpoints[slot];
		if (cur->ifindex) {
			/* one interface that fails does not undo the others */
			ret = segd_attach_endpoint(d, cur, err);
			first_err = first_err ? first_err : ret;
			counts->attached += !ret;
		}
	}
	/* saved even when an attach failed: the maps already hold them */
	ret = segd_persist_main(d, err);
	ret = first_err ? first_err : ret;
out:
	free(arr);
	return ret;
}

int segd_h_endpoint_load(struct segd *d, struct segd_req *r, yaml_document_t *out, int res)
{
	struct segd_register_counts counts;
	struct seg_endpoint *eps = NULL;
	size_t m = 0;
	int ret;

	if ((ret = parse_files(r, &eps, &m)))
		goto out;
	ret = segd_endpoints_register(d, eps, m, &counts, r->err);
	yu_set_uint(out, res, "endpoints", m);
	yu_set_uint(out, res, "added", m - counts.replaced);
	yu_set_uint(out, res, "replaced", counts.replaced);
	yu_set_uint(out, res, "attached", counts.attached);
	yu_set_uint(out, res, "total", d->state.world.n_endpoints);
out:
	seg_endpoints_free(eps, m);
	return ret;
}
