/* state.c - desired state: lookup, edit, persist. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "detect.h"
#include "endpoint_file.h"
#include "policy_parse.h"
#include "fileio.h"
#include "state.h"
#include "yaml_util.h"

#define NS_NAME_LABEL "kubernetes.io/metadata.name"
#define STATE_FILE "state.yaml"
#define STATE_VERSION 1

void seg_state_free(struct seg_state *s)
{
	seg_state_index_drop(s);
	seg_world_free(&s->world);
	memset(s, 0, sizeof(*s));
}

int seg_state_init(struct seg_state *s)
{
	memset(s, 0, sizeof(*s));
	return seg_state_set_ns(s, "default", NULL);
}

struct seg_namespace *seg_state_find_ns(struct seg_state *s, const char *name)
{
	for (size_t i = 0; i < s->world.n_namespaces; i++)
		if (!strcmp(s->world.namespaces[i].name, name))
			return &s->world.namespaces[i];
	return NULL;
}

int seg_state_set_ns(struct seg_state *s, const char *name,
		     const struct seg_labels *labels)
{
	struct seg_world *w = &s->world;
	struct seg_namespace *ns = seg_state_find_ns(s, name);
	struct seg_labels fresh = { 0 };
	int ret;

	if (labels) {
		ret = seg_labels_copy(&fresh, labels);
		if (ret)
			return ret;
	}
	/* the name label is always there and always right */
	ret = seg_labels_set(&fresh, NS_NAME_LABEL, name);
	if (ret)
		goto err;
	if (ns) {
		if (!labels) { /* keep the labels it has */
			seg_labels_free(&fresh);
			return 0;
		}
		seg_labels_free(&ns->labels);
		ns->labels = fresh;
		return 0;
	}
	ns = realloc(w->namespaces, (w->n_namespaces + 1) * sizeof(*ns));
	if (!ns) {
		ret = -ENOMEM;
		goto err;
	}
	w->namespaces = ns;
	ns = &w->namespaces[w->n_namespaces];
	ns->name = strdup(name);
	if (!ns->name) {
		ret = -ENOMEM;
		goto err;
	}
	ns->labels = fresh;
	ns->stratum = SEG_STRATUM_DROP;
	ns->mode = SEG_MODE_ENFORCE;
	ns->on_detect = SEG_DETECT_ALERT;
	ns->on_detect_set = false;
	w->n_namespaces++;
	return 0;
err:
	seg_labels_free(&fresh);
	return ret;
}

uint32_t seg_state_free_endpoint_id(const struct seg_state *s)
{
	uint32_t id = 0;

	/* out of memory: past every id in use */
	if (seg_state_free_endpoint_ids(s, &id, 1))
		for (size_t i = 0; i < s->world.n_endpoints; i++)
			if (s->world.endpoints[i].endpoint_id >= id)
				id = s->world.endpoints[i].endpoint_id + 1;
	return id ? id : 1;
}

int seg_state_put_ep(struct seg_state *s, struct seg_endpoint *ep)
{
	struct seg_world *w = &s->world;
	struct seg_endpoint *old = seg_state_find_ep(s, ep->ns, ep->name), *v;

	if (old) {
		if (!ep->endpoint_id)
			ep->endpoint_id = old->endpoint_id;
		seg_endpoint_free(old);
		*old = *ep;
		memset(ep, 0, sizeof(*ep));
		return 0;
	}
	v = realloc(w->endpoints, (w->n_endpoints + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->endpoints = v;
	if (!ep->endpoint_id)
		ep->endpoint_id = seg_state_free_endpoint_id(s);
	w->endpoints[w->n_endpoints++] = *ep;
	memset(ep, 0, sizeof(*ep));
	seg_state_index_added(s);
	return 0;
}

int seg_state_del_ep(struct seg_state *s, const char *ns, const char *name)
{
	struct seg_world *w = &s->world;
	struct seg_endpoint *e = seg_state_find_ep(s, ns, name);

	if (!e)
		return -ENOENT;
	seg_endpoint_free(e);
	*e = w->endpoints[--w->n_endpoints];
	seg_state_index_drop(s);
	return 0;
}

struct seg_policy *seg_state_find_policy(struct seg_state *s, const char *ns,
					 const char *name)
{
	for (size_t i = 0; i < s->world.n_policies; i++) {
		struct seg_policy *p = &s->world.policies[i];

		if (!strcmp(p->ns, ns) && !strcmp(p->name, name))
			return p;
	}
	return NULL;
}

int seg_state_put_policy(struct seg_state *s, struct seg_policy *p)
{
	struct seg_world *w = &s->world;
	struct seg_policy *old = seg_state_find_policy(s, p->ns, p->name), *v;

	if (old) {
		seg_policy_free(old);
		*old = *p;
		memset(p, 0, sizeof(*p));
		return 0;
	}
	v = realloc(w->policies, (w->n_policies + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->policies = v;
	w->policies[w->n_policies++] = *p;
	memset(p, 0, sizeof(*p));
	return 0;
}

int seg_state_del_policy(struct seg_state *s, const char *ns, const char *name)
{
	struct seg_world *w = &s->world;
	struct seg_policy *p = seg_state_find_policy(s, ns, name);

	if (!p)
		return -ENOENT;
	seg_policy_free(p);
	/* keep document order: policies are listed as applied */
	memmove(p, p + 1, (size_t)(w->policies + w->n_policies - p - 1) * sizeof(*p));
	w->n_policies--;
	return 0;
}

int seg_state_add_uplink(struct seg_state *s, const char *ifname)
{
	for (size_t i = 0; i < s->n_uplinks; i++)
		if (!strcmp(s->uplinks[i], ifname))
			return 0;
	if (s->n_uplinks == SEG_MAX_UPLINKS)
		return -ENOSPC;
	if (strlen(ifname) >= sizeof(s->uplinks[0]))
		return -ENAMETOOLONG;
	strcpy(s->uplinks[s->n_uplinks++], ifname);
	return 0;
}

/* ---- YAML ------------------------------------------------------------------ */

static int labels_node(yaml_document_t *d, const struct seg_labels *l)
{
	int m = yu_add_map(d);

	for (size_t i = 0; m > 0 && i < l->n; i++)
		if (yu_set_str(d, m, l->v[i].key, l->v[i].value))
			return -ENOMEM;
	return m;
}

static int addrs_node(yaml_document_t *d, int seq, const struct in6_addr *v, size_t n)
{
	char addr[64];

	for (size_t j = 0; j < n; j++) {
		seg_addr_format(&v[j], addr, sizeof(addr));
		if (yu_append(d, seq, yu_add_str(d, addr)))
			return -ENOMEM;
	}
	return 0;
}

static int state_doc(const struct seg_state *s, yaml_document_t *d)
{
	const struct seg_world *w = &s->world;
	int root = yu_doc_init_map(d), seq, m, ips, ports;
	char addr[64];

	if (root < 0)
		return root;
	if (yu_set_int(d, root, "version", STATE_VERSION))
		return -ENOMEM;
	if ((seq = yu_add_seq(d)) < 0 || yu_set(d, root, "namespaces", seq))
		return -ENOMEM;
	for (size_t i = 0; i < w->n_namespaces; i++) {
		if ((m = yu_add_map(d)) < 0 || yu_append(d, seq, m) ||
		    yu_set_str(d, m, "name", w->namespaces[i].name) ||
		    yu_set(d, m, "labels", labels_node(d, &w->namespaces[i].labels)) ||
		    yu_set_str(d, m, "stratum", seg_stratum_mode_name(w->namespaces[i].stratum)) ||
		    yu_set_str(d, m, "mode", seg_policy_mode_name(w->namespaces[i].mode)) ||
		    (w->namespaces[i].on_detect_set &&
		     yu_set_str(d, m, "on_detect",
				seg_detect_action_name(w->namespaces[i].on_detect))))
			return -ENOMEM;
	}
	if ((seq = yu_add_seq(d)) < 0 || yu_set(d, root, "endpoints", seq))
		return -ENOMEM;
	for (size_t i = 0; i < w->n_endpoints; i++) {
		const struct seg_endpoint *e = &w->endpoints[i];

		if ((m = yu_add_map(d)) < 0 || yu_append(d, seq, m) ||
		    yu_set_str(d, m, "name", e->name) ||
		    yu_set_str(d, m, "namespace", e->ns) ||
		    yu_set_uint(d, m, "id", e->endpoint_id) ||
		    yu_set_str(d, m, "ifname", e->ifname) ||
		    (e->remote && yu_set_bool(d, m, "remote", true)) ||
		    (ips = yu_add_seq(d)) < 0 || yu_set(d, m, "ips", ips) ||
		    yu_set(d, m, "labels", labels_node(d, &e->labels)))
			return -ENOMEM;
		if (addrs_node(d, ips, e->ips, e->n_ips))
			return -ENOMEM;
		if (e->n_ports && ((ports = yu_add_seq(d)) < 0 ||
				   yu_set(d, m, "ports", ports)))
			return -ENOMEM;
		for (size_t j = 0; j < e->n_ports; j++) {
			seg_named_port_format(&e->ports[j], addr, sizeof(addr));
			if (yu_append(d, ports, yu_add_str(d, addr)))
				return -ENOMEM;
		}
	}
	if (w->n_nodes && ((seq = yu_add_seq(d)) < 0 || yu_set(d, root, "nodes", seq)))
		return -ENOMEM;
	for (size_t i = 0; i < w->n_nodes; i++) {
		const struct seg_node *n = &w->nodes[i];

		if ((m = yu_add_map(d)) < 0 || yu_append(d, seq, m) ||
		    yu_set_str(d, m, "name", n->name) ||
		    (ips = yu_add_seq(d)) < 0 || yu_set(d, m, "ips", ips) ||
		    yu_set(d, m, "labels", labels_node(d, &n->labels)))
			return -ENOMEM;
		if (addrs_node(d, ips, n->ips, n->n_ips))
			return -ENOMEM;
	}
	if ((seq = yu_add_seq(d)) < 0 || yu_set(d, root, "uplinks", seq))
		return -ENOMEM;
	for (size_t i = 0; i < s->n_uplinks; i++)
		if (yu_append(d, seq, yu_add_str(d, s->uplinks[i])))
			return -ENOMEM;
	return 0;
}

int seg_state_to_yaml(const struct seg_state *s, char **out)
{
	yaml_document_t d;
	int ret = state_doc(s, &d);

	if (!ret)
		ret = yu_dump(&d, out, NULL);
	yaml_document_delete(&d);
	return ret;
}

static int endpoint_from(yaml_document_t *d, yaml_node_t *n, struct seg_state *s,
			 const char *file, struct seg_error *err)
{
	struct seg_endpoint ep;
	int ret = seg_endpoint_from_yaml(d, n, true, file, &ep, err);

	if (!ret)
		ret = seg_state_put_ep(s, &ep);
	seg_endpoint_free(&ep);
	return ret;
}

static int node_from(yaml_document_t *d, yaml_node_t *n, struct seg_state *s,
		     const char *file, struct seg_error *err)
{
	struct seg_node node = { 0 };
	const char *name = yu_scalar(yu_map_get(d, n, "name"));
	yaml_node_t *ips = yu_map_get(d, n, "ips");
	int ret;

	if (!name || !yu_is_seq(ips) || yu_seq_len(ips) > SEG_MAX_NODE_IPS)
		return seg_errorf(err, file, yu_line(n), yu_col(n), -EINVAL,
				  "node needs a name and 0..%d ips", SEG_MAX_NODE_IPS);
	ret = (node.name = strdup(name)) ? 0 : -ENOMEM;
	if (!ret)
		ret = seg_addrs_from_yaml(d, ips, node.ips, SEG_MAX_NODE_IPS, &node.n_ips, file, err);
	if (!ret)
		ret = seg_labels_from_yaml(d, yu_map_get(d, n, "labels"), &node.labels, file, err);
	if (!ret)
		ret = seg_state_put_node(s, &node);
	seg_node_free(&node);
	return ret;
}

/* policies/<ns>_<name>.yaml: {namespace, name, file, raw_hash, source} */
static int policy_file_doc(const struct seg_policy *p, yaml_document_t *d)
{
	char hash[32];
	int root = yu_doc_init_map(d);

	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)p->raw_hash);
	if (root < 0 || yu_set_str(d, root, "namespace", p->ns) ||
	    yu_set_str(d, root, "name", p->name) ||
	    yu_set_str(d, root, "file", p->source_file ? p->source_file : "") ||
	    yu_set_str(d, root, "raw_hash", hash) ||
	    yu_set_str(d, root, "source", p->source ? p->source : ""))
		return -ENOMEM;
	return 0;
}

static int policy_from(const char *text, size_t len, const char *path,
		       struct seg_state *s, struct seg_error *err)
{
	yaml_document_t d;
	yaml_node_t *root;
	const char *src, *ns, *pfile, *hash;
	struct seg_policy *p = NULL;
	size_t np = 0;
	int ret = yu_load_one(text, len, path, &d, err);

	if (ret)
		return ret;
	root = yu_root(&d);
	src = yu_scalar(yu_map_get(&d, root, "source"));
	ns = yu_scalar(yu_map_get(&d, root, "namespace"));
	pfile = yu_scalar(yu_map_get(&d, root, "file"));
	hash = yu_scalar(yu_map_get(&d, root, "raw_hash"));
	if (!src || !ns) {
		ret = seg_errorf(err, path, 1, 1, -EINVAL,
				 "policy file needs namespace and source");
		goto out;
	}
	ret = seg_policy_parse(src, strlen(src), pfile && *pfile ? pfile : path,
			       ns, &p, &np, err);
	for (size_t i = 0; !ret && i < np; i++) {
		p[i].raw_hash = hash ? strtoull(hash, NULL, 16) : 0;
		ret = seg_state_put_policy(s, &p[i]);
	}
	seg_policies_free(p, np);
out:
	yaml_document_delete(&d);
	return ret;
}

struct load_ctx {
	struct seg_state *s;
	const char *file;
	struct seg_error *err;
};

/* a namespace's `on_detect` (absent: the config's detect actions) */
static int on_detect_from(yaml_document_t *d, yaml_node_t *n, struct seg_namespace *ns,
			  struct load_ctx *c)
{
	yaml_node_t *v = yu_map_get(d, n, "on_detect");
	enum seg_detect_action a;

	if (seg_detect_action_parse(yu_scalar(v), true, &a))
		return seg_errorf(c->err, c->file, yu_line(v), yu_col(v), -EINVAL,
				  "on_detect must be alert, quarantine or off");
	ns->on_detect = a;
	ns->on_detect_set = true;
	return 0;
}

static int state_from_doc(yaml_document_t *d, void *p)
{
	struct load_ctx *c = p;
	yaml_node_t *root = yu_root(d), *seq;
	int64_t version;
	int ret = 0;

	if (!yu_is_map(root) || yu_int(yu_map_get(d, root, "version"), 1, 1000, &version))
		return seg_errorf(c->err, c->file, 1, 1, -EINVAL,
				  "not a segd state file (no version)");
	if (version != STATE_VERSION)
		return seg_errorf(c->err, c->file, 1, 1, -EINVAL,
				  "state version %lld is not supported (want %d)",
				  (long long)version, STATE_VERSION);
	seq = yu_map_get(d, root, "namespaces");
	for (size_t i = 0; !ret && i < yu_seq_len(seq); i++) {
		yaml_node_t *n = yu_seq_at(d, seq, i);
		const char *name = yu_scalar(yu_map_get(d, n, "name"));
		struct seg_labels l = { 0 };

		if (!name)
			return seg_errorf(c->err, c->file, yu_line(n), yu_col(n),
					  -EINVAL, "namespace without a name");
		ret = seg_labels_from_yaml(d, yu_map_get(d, n, "labels"), &l, c->file, c->err);
		if (!ret)
			ret = seg_state_set_ns(c->s, name, &l);
		seg_labels_free(&l);
		if (!ret && yu_map_get(d, n, "stratum") &&
		    seg_stratum_mode_parse(yu_scalar(yu_map_get(d, n, "stratum")),
					   &seg_state_find_ns(c->s, name)->stratum))
			ret = seg_errorf(c->err, c->file, yu_line(n), yu_col(n), -EINVAL,
					 "stratum must be drop, audit or off");
		if (!ret && yu_map_get(d, n, "mode") &&
		    seg_policy_mode_parse(yu_scalar(yu_map_get(d, n, "mode")),
					  &seg_state_find_ns(c->s, name)->mode))
			ret = seg_errorf(c->err, c->file, yu_line(n), yu_col(n), -EINVAL,
					 "mode must be enforce or audit");
		if (!ret && yu_map_get(d, n, "on_detect"))
			ret = on_detect_from(d, n, seg_state_find_ns(c->s, name), c);
	}
	seq = yu_map_get(d, root, "endpoints");
	for (size_t i = 0; !ret && i < yu_seq_len(seq); i++)
		ret = endpoint_from(d, yu_seq_at(d, seq, i), c->s, c->file, c->err);
	seq = yu_map_get(d, root, "nodes");
	for (size_t i = 0; !ret && i < yu_seq_len(seq); i++)
		ret = node_from(d, yu_seq_at(d, seq, i), c->s, c->file, c->err);
	seq = yu_map_get(d, root, "uplinks");
	for (size_t i = 0; !ret && i < yu_seq_len(seq); i++) {
		const char *u = yu_scalar(yu_seq_at(d, seq, i));

		ret = u ? seg_state_add_uplink(c->s, u) : -EINVAL;
	}
	return ret;
}

int seg_state_from_yaml(const char *buf, size_t len, const char *file,
			struct seg_state *s, struct seg_error *err)
{
	struct load_ctx c = { .s = s, .file = file, .err = err };

	return yu_load_all(buf, len, file, state_from_doc, &c, err);
}

/* ---- files ------------------------------------------------------------------ */

int seg_read_file(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = cap * 2 + 8192);

			if (!p) {
				ret = -ENOMEM;
				goto out;
			}
			buf = p;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0) {
			if (ferror(f))
				ret = -EIO;
			break;
		}
	}
out:
	fclose(f);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

int seg_write_file_atomic(const char *path, const char *data, size_t len, int mode)
{
	char tmp[4096], dir[4096];
	char *slash;
	int fd, dfd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0) {
			ret = -errno;
			goto err;
		}
		off += (size_t)w;
	}
	if (fsync(fd) || close(fd)) {
		ret = -errno;
		fd = -1;
		goto err;
	}
	fd = -1;
	if (rename(tmp, path)) {
		ret = -errno;
		goto err;
	}
	/* make the rename itself durable */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
err:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return ret;
}

static int policy_path(char *buf, size_t len, const char *dir, const char *ns,
		       const char *name)
{
	/* names are DNS labels/subdomains: no '_' or '/', so this is 1:1 */
	if (snprintf(buf, len, "%s/policies/%s_%s.yaml", dir, ns, name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int seg_state_save_main(const struct seg_state *s, const char *dir)
{
	char path[4096], *text = NULL;
	int ret = seg_mkdir_p(dir, 0700);

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	ret = seg_state_to_yaml(s, &text);
	if (!ret)
		ret = seg_write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	return ret;
}

int seg_state_save_policy(const struct seg_policy *p, const char *dir)
{
	char path[4096], *text = NULL;
	yaml_document_t d;
	int ret;

	snprintf(path, sizeof(path), "%s/policies", dir);
	if ((ret = seg_mkdir_p(path, 0700)) ||
	    (ret = policy_path(path, sizeof(path), dir, p->ns, p->name)))
		return ret;
	ret = policy_file_doc(p, &d);
	if (!ret)
		ret = yu_dump(&d, &text, NULL);
	yaml_document_delete(&d);
	if (!ret)
		ret = seg_write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	return ret;
}

int seg_state_remove_policy(const char *dir, const char *ns, const char *name)
{
	char path[4096];
	int ret = policy_path(path, sizeof(path), dir, ns, name);

	if (ret)
		return ret;
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int seg_state_save(const struct seg_state *s, const char *dir)
{
	int ret = seg_state_save_main(s, dir);

	for (size_t i = 0; !ret && i < s->world.n_policies; i++)
		ret = seg_state_save_policy(&s->world.policies[i], dir);
	return ret;
}

static int load_policies(struct seg_state *s, const char *dir, struct seg_error *err)
{
	char path[4096], *text;
	struct dirent **names = NULL;
	size_t len;
	int n, ret = 0;

	snprintf(path, sizeof(path), "%s/policies", dir);
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		const char *f = names[i]->d_name;
		size_t fl = strlen(f);

		if (!ret && fl > 5 && !strcmp(f + fl - 5, ".yaml")) {
			snprintf(path, sizeof(path), "%s/policies/%s", dir, f);
			ret = seg_read_file(path, &text, &len);
			if (ret)
				seg_errorf(err, path, 0, 0, ret, "cannot read: %s",
					   strerror(-ret));
			else {
				ret = policy_from(text, len, path, s, err);
				free(text);
			}
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int seg_state_load(struct seg_state *s, const char *dir, struct seg_error *err)
{
	char path[4096], *text = NULL;
	size_t len;
	int ret;

	ret = seg_state_init(s);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	ret = seg_read_file(path, &text, &len);
	if (ret && ret != -ENOENT)
		return seg_errorf(err, path, 0, 0, ret, "cannot read state: %s",
				  strerror(-ret));
	if (!ret) {
		ret = seg_state_from_yaml(text, len, path, s, err);
		free(text);
		if (ret)
			return ret;
	}
	return load_policies(s, dir, err);
}
