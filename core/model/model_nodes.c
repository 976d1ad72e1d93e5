/* model_nodes.c - node names and the table of resolved domain names, as
 * ClusterNetworkPolicy `nodes` and `domainNames` peers see them
 * (seg_node_free is with the other *_free in model.c). */
#include "model.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A Node's metadata.name: a DNS-1123 subdomain, as the API server checks
 * it (at most 253; lower-case letters, digits, '-' and '.'; labels begin
 * and end with a letter or digit). */
const char *seg_node_name_problem(const char *name)
{
	size_t n = strlen(name), start = 0;

	if (!n)
		return "must not be empty";
	if (n > 253)
		return "must be at most 253 characters";
	for (size_t i = 0; i <= n; i++) {
		char c = i < n ? name[i] : '.';

		if (c != '.') {
			if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
				return "must be lower-case letters, digits, '-' and '.'";
			continue;
		}
		if (i == start || name[start] == '-' || name[i - 1] == '-')
			return "each dot-separated part must begin and end with a "
			       "letter or digit";
		start = i + 1;
	}
	return NULL;
}

const struct seg_name_addrs *seg_names_find(const struct seg_name_addrs *v,
					    size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		int c = strcmp(v[m].name, name);

		if (!c)
			return &v[m];
		if (c < 0)
			lo = m + 1;
		else
			hi = m;
	}
	return NULL;
}

void seg_name_addrs_free(struct seg_name_addrs *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].ips);
	}
	free(v);
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int seg_world_domains(const struct seg_world *w, const char ***out, size_t *n_out)
{
	const char **v = NULL;
	size_t n = 0, cap = 0, kept = 0;

	for (size_t i = 0; i < w->n_policies; i++) {
		const struct seg_policy *p = &w->policies[i];

		for (size_t r = 0; r < p->n_rules; r++)
			for (size_t k = 0; k < p->rules[r].n_peers; k++) {
				const struct seg_peer *pe = &p->rules[r].peers[k];

				if (pe->kind != SEG_PEER_DOMAIN || !pe->domain ||
				    pe->domain[0] == '*')
					continue;
				if (n == cap) {
					const char **grown;

					cap = cap ? 2 * cap : 16;
					grown = realloc(v, cap * sizeof(*v));
					if (!grown) {
						free(v);
						return -ENOMEM;
					}
					v = grown;
				}
				v[n++] = pe->domain;
			}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_str_ptr);
	for (size_t i = 0; i < n; i++)
		if (!kept || strcmp(v[kept - 1], v[i]))
			v[kept++] = v[i];
	*out = v;
	*n_out = kept;
	return 0;
}
