/* model_nodes.c - node names and the table of resolved domain names, as
 * ClusterNetworkPolicy `nodes` and `domainNames` peers see them
 * (seg_node_free is with the other *_free in model.c). */
#include "model.h"

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
