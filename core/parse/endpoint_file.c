/* endpoint_file.c - endpoints from YAML: state.yaml's entries and the
 * files of `segctl endpoint load`, which registers many in one step (a
 * node learning every pod of a cluster: one compile and one save, not
 * one per pod). Pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "endpoint_file.h"
#include "yaml_util.h"

int seg_labels_from_yaml(yaml_document_t *d, yaml_node_t *n, struct seg_labels *l,
			 const char *file, struct seg_error *err)
{
	if (!n || yu_is_null(n))
		return 0;
	if (!yu_is_map(n))
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "labels must be a mapping");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		const char *k = yu_scalar(yu_node(d, p->key));
		const char *v = yu_scalar(yu_node(d, p->value));

		if (!k || !v)
			return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
					  "label keys and values must be strings");
		if (seg_labels_set(l, k, v))
			return -ENOMEM;
	}
	return 0;
}

int seg_addrs_from_yaml(yaml_document_t *d, yaml_node_t *ips, struct in6_addr *v,
			size_t max, size_t *n, const char *file, struct seg_error *err)
{
	for (size_t i = 0; i < yu_seq_len(ips) && i < max; i++) {
		yaml_node_t *a = yu_seq_at(d, ips, i);

		if (!yu_scalar(a) || seg_addr_parse(yu_scalar(a), &v[(*n)++]))
			return seg_errorf(err, file, yu_line(a), yu_col(a), -EINVAL,
					  "'%s' is not an address",
					  yu_scalar(a) ? yu_scalar(a) : "?");
	}
	return 0;
}

static int ports_from(yaml_document_t *d, yaml_node_t *ports, struct seg_endpoint *ep,
		      const char *file, struct seg_error *err)
{
	for (size_t i = 0; i < yu_seq_len(ports); i++) {
		yaml_node_t *a = yu_seq_at(d, ports, i);
		struct seg_named_port np;
		const char *why = "not a string";

		if (!yu_scalar(a) || seg_named_port_parse(yu_scalar(a), &np, &why) ||
		    seg_endpoint_add_port(ep, &np))
			return seg_errorf(err, file, yu_line(a), yu_col(a), -EINVAL,
					  "bad endpoint port '%s': %s",
					  yu_scalar(a) ? yu_scalar(a) : "?",
					  why ? why : "a repeated name, or too many");
	}
	return 0;
}

/* a load file's checks, as `endpoint add` makes them */
static int check_loaded(yaml_document_t *d, yaml_node_t *n, struct seg_endpoint *ep,
			const char *file, struct seg_error *err)
{
	yaml_node_t *ips = yu_map_get(d, n, "ips");
	yaml_node_t *remote = yu_map_get(d, n, "remote");

	if (remote && yu_bool(remote, &ep->remote))
		return seg_errorf(err, file, yu_line(remote), yu_col(remote), -EINVAL,
				  "remote must be true or false");
	if (!ep->remote && !ep->ifname[0])
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "endpoint %s/%s needs an interface (the host side of "
				  "its veth) or remote: true", ep->ns, ep->name);
	if (ep->remote)
		ep->ifname[0] = 0;   /* `get endpoints` prints interface "" */
	if (!yu_is_seq(ips) || yu_seq_len(ips) == 0)
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "endpoint %s/%s needs ips: a list of its addresses",
				  ep->ns, ep->name);
	if (yu_seq_len(ips) > SEG_MAX_EP_IPS)
		return seg_errorf(err, file, yu_line(ips), yu_col(ips), -EINVAL,
				  "at most %d addresses per endpoint", SEG_MAX_EP_IPS);
	return 0;
}

int seg_endpoint_from_yaml(yaml_document_t *d, yaml_node_t *n, bool from_state,
			   const char *file, struct seg_endpoint *ep,
			   struct seg_error *err)
{
	const char *name = yu_scalar(yu_map_get(d, n, "name"));
	const char *ns = yu_scalar(yu_map_get(d, n, "namespace"));
	const char *ifname = yu_scalar(yu_map_get(d, n, "ifname"));
	yaml_node_t *ips = yu_map_get(d, n, "ips");
	int64_t id = 0;
	int ret;

	memset(ep, 0, sizeof(*ep));
	if (!yu_is_map(n))
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "an endpoint is a mapping (name, namespace, ips, ...)");
	if (from_state) {
		yu_bool(yu_map_get(d, n, "remote"), &ep->remote);
		if (!name || !ns || !ifname || !yu_is_seq(ips) ||
		    yu_int(yu_map_get(d, n, "id"), 1, UINT32_MAX, &id))
			return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
					  "endpoint needs name, namespace, id, ifname and ips");
	} else {
		if (!name || !*name)
			return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
					  "endpoint without a name");
		ns = ns && *ns ? ns : "default";
		/* `get endpoints -o yaml` calls it interface */
		if (!ifname)
			ifname = yu_scalar(yu_map_get(d, n, "interface"));
		ifname = ifname ? ifname : "";
		if (strlen(ifname) >= sizeof(ep->ifname))
			return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
					  "interface name '%s' is longer than %zu characters",
					  ifname, sizeof(ep->ifname) - 1);
	}
	ep->name = strdup(name);
	ep->ns = strdup(ns);
	ep->endpoint_id = (uint32_t)id;
	snprintf(ep->ifname, sizeof(ep->ifname), "%s", ifname);
	if (!ep->name || !ep->ns)
		return -ENOMEM;
	if (!from_state && (ret = check_loaded(d, n, ep, file, err)))
		return ret;
	ret = seg_addrs_from_yaml(d, ips, ep->ips, SEG_MAX_EP_IPS, &ep->n_ips, file, err);
	if (!ret)
		ret = seg_labels_from_yaml(d, yu_map_get(d, n, "labels"), &ep->labels,
					   file, err);
	if (!ret)
		ret = ports_from(d, yu_map_get(d, n, "ports"), ep, file, err);
	return ret;
}

struct load {
	struct seg_endpoint *v;
	int *line, *col;          /* where each one starts */
	size_t n;
	const char *file;
	struct seg_error *err;
};

static int cmp_key(const void *a, const void *b)
{
	const struct seg_endpoint *x = *(const struct seg_endpoint *const *)a;
	const struct seg_endpoint *y = *(const struct seg_endpoint *const *)b;
	int c = strcmp(x->ns, y->ns);

	c = c ? c : strcmp(x->name, y->name);
	return c ? c : (x > y) - (x < y);   /* the first listed first */
}

/* a (namespace, name) twice: named where the second one starts */
static int check_unique(struct load *l)
{
	const struct seg_endpoint **by = calloc(l->n + 1, sizeof(*by));
	int ret = 0;

	if (!by)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		by[i] = &l->v[i];
	qsort(by, l->n, sizeof(*by), cmp_key);
	for (size_t i = 1; !ret && i < l->n; i++) {
		const struct seg_endpoint *a = by[i - 1], *b = by[i];
		size_t at = (size_t)(b - l->v);

		if (strcmp(a->ns, b->ns) || strcmp(a->name, b->name))
			continue;
		ret = seg_errorf(l->err, l->file, l->line[at], l->col[at], -EINVAL,
				 "endpoint %s/%s is listed twice", b->ns, b->name);
	}
	free(by);
	return ret;
}

static int grow(void **p, size_t n, size_t esz)
{
	void *q = realloc(*p, n * esz);

	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

static int load_doc(yaml_document_t *d, void *p)
{
	struct load *l = p;
	yaml_node_t *root = yu_root(d), *seq = root;
	size_t want;
	int ret = 0;

	if (!root || yu_is_null(root))
		return 0;
	if (yu_is_map(root)) {
		seq = yu_map_get(d, root, "endpoints");
		if (!seq)
			seq = yu_map_get(d, root, "items");
	}
	if (!yu_is_seq(seq))
		return seg_errorf(l->err, l->file, yu_line(root), yu_col(root), -EINVAL,
				  "expected a list of endpoints (or a mapping with "
				  "`endpoints:` or `items:` holding one)");
	want = l->n + yu_seq_len(seq) + 1;
	if (grow((void **)&l->v, want, sizeof(*l->v)) ||
	    grow((void **)&l->line, want, sizeof(*l->line)) ||
	    grow((void **)&l->col, want, sizeof(*l->col)))
		return -ENOMEM;
	for (size_t i = 0; !ret && i < yu_seq_len(seq); i++) {
		yaml_node_t *n = yu_seq_at(d, seq, i);

		l->line[l->n] = yu_line(n);
		l->col[l->n] = yu_col(n);
		ret = seg_endpoint_from_yaml(d, n, false, l->file, &l->v[l->n], l->err);
		l->n++;   /* freed by the caller even when it failed */
	}
	return ret;
}

int seg_endpoints_parse(const char *text, size_t len, const char *file,
			struct seg_endpoint **out, size_t *n, struct seg_error *err)
{
	struct load l = { .file = file, .err = err };
	int ret = yu_load_all(text, len, file, load_doc, &l, err);

	if (!ret)
		ret = check_unique(&l);
	free(l.line);
	free(l.col);
	if (ret) {
		seg_endpoints_free(l.v, l.n);
		l.v = NULL;
		l.n = 0;
	}
	*out = l.v;
	*n = l.n;
	return ret;
}

void seg_endpoints_free(struct seg_endpoint *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		seg_endpoint_free(&v[i]);
	free(v);
}
