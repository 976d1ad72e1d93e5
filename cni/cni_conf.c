/* cni_conf.c - segd-cni's network configuration and CNI_ARGS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cni_conf.h"
#include "yaml_util.h"

#define WHERE "network config"

static int node_err(struct seg_error *err, const yaml_node_t *n, const char *fmt,
		    const char *what)
{
	return seg_errorf(err, WHERE, n ? yu_line(n) : 0, n ? yu_col(n) : 0, -EINVAL, fmt,
			  what);
}

/* A string field into a fixed buffer; absent leaves out untouched. */
static int get_str(yaml_document_t *d, yaml_node_t *map, const char *key, char *out,
		   size_t out_len, struct seg_error *err)
{
	yaml_node_t *n = yu_map_get(d, map, key);
	const char *s;

	if (!n)
		return 0;
	s = yu_scalar(n);
	if (!s)
		return node_err(err, n, "\"%s\" must be a string", key);
	if (strlen(s) >= out_len)
		return seg_errorf(err, WHERE, yu_line(n), yu_col(n), -EINVAL,
				  "\"%s\" is longer than %zu characters", key, out_len - 1);
	snprintf(out, out_len, "%s", s);
	return 0;
}

static int add_label(struct segd_cni_conf *c, const yaml_node_t *at, const char *key,
		     const char *value, struct seg_error *err)
{
	const char *why;

	if (!key || !value)
		return node_err(err, at, "%s: a label needs a string key and value",
				"labels");
	why = seg_label_key_problem(key, strlen(key), NULL);
	if (!why)
		why = seg_label_value_problem(value, strlen(value));
	if (why)
		return seg_errorf(err, WHERE, yu_line(at), yu_col(at), -EINVAL,
				  "label %s=%s: %s", key, value, why);
	return seg_labels_set(&c->labels, key, value);
}

/* labels as {"k": "v", ...} or [{"key": "k", "value": "v"}, ...] */
static int parse_labels(yaml_document_t *d, yaml_node_t *n, struct segd_cni_conf *c,
			struct seg_error *err)
{
	int ret = 0;

	if (!n || yu_is_null(n))
		return 0;
	if (yu_is_map(n)) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     !ret && p < n->data.mapping.pairs.top; p++)
			ret = add_label(c, yu_node(d, p->key), yu_scalar(yu_node(d, p->key)),
					yu_scalar(yu_node(d, p->value)), err);
		return ret;
	}
	if (!yu_is_seq(n))
		return node_err(err, n, "%s must be an object or a list of {key, value}",
				"labels");
	for (size_t i = 0; !ret && i < yu_seq_len(n); i++) {
		yaml_node_t *e = yu_seq_at(d, n, i);

		ret = add_label(c, e, yu_scalar(yu_map_get(d, e, "key")),
				yu_scalar(yu_map_get(d, e, "value")), err);
	}
	return ret;
}

/* ports as the pod spec's container ports, [{"name", "containerPort",
 * "protocol"}, ...]; ports without a name are skipped (only names matter
 * to policies) */
static int parse_ports(yaml_document_t *d, yaml_node_t *n, struct segd_cni_conf *c,
		       struct seg_error *err)
{
	if (!n || yu_is_null(n))
		return 0;
	if (!yu_is_seq(n))
		return node_err(err, n, "%s must be a list of {name, containerPort, "
				"protocol}", "ports");
	for (size_t i = 0; i < yu_seq_len(n); i++) {
		yaml_node_t *e = yu_seq_at(d, n, i);
		const char *name = yu_scalar(yu_map_get(d, e, "name"));
		const char *proto = yu_scalar(yu_map_get(d, e, "protocol"));
		struct seg_named_port np;
		const char *why;
		int64_t num;
		char text[64];

		if (!name || !*name)
			continue;
		if (yu_int(yu_map_get(d, e, "containerPort"), 1, 65535, &num))
			return node_err(err, e, "%s: containerPort must be 1-65535",
					"ports");
		snprintf(text, sizeof(text), "%.20s=%d/%.8s", name, (int)num,
			 proto && *proto ? proto : "TCP");
		if (seg_named_port_parse(text, &np, &why))
			return seg_errorf(err, WHERE, yu_line(e), yu_col(e), -EINVAL,
					  "port %s: %s", text, why);
		if (c->n_ports == SEG_MAX_EP_PORTS)
			return node_err(err, e, "%s: more than 32 named ports", "ports");
		seg_named_port_format(&np, c->ports[c->n_ports++], sizeof(c->ports[0]));
	}
	return 0;
}

/* libyaml marks count characters; the input is UTF-8 (checked first) */
static size_t byte_offset(const char *buf, size_t len, size_t chars)
{
	size_t off = 0;

	for (; off < len && chars; chars--) {
		off++;
		while (off < len && ((unsigned char)buf[off] & 0xC0) == 0x80)
			off++;
	}
	return off;
}

static int parse_prev_result(yaml_document_t *d, yaml_node_t *prev, const char *buf,
			     size_t len, const char *ifname, struct segd_cni_conf *c,
			     struct seg_error *err)
{
	yaml_node_t *ifs = yu_map_get(d, prev, "interfaces");
	yaml_node_t *ips = yu_map_get(d, prev, "ips");
	size_t start, end;

	if (!yu_is_map(prev))
		return node_err(err, prev, "\"%s\" must be an object", "prevResult");
	start = byte_offset(buf, len, prev->start_mark.index);
	end = byte_offset(buf, len, prev->end_mark.index);
	if (end <= start || buf[start] != '{' || buf[end - 1] != '}')
		return node_err(err, prev, "cannot find the text of \"%s\"", "prevResult");
	c->prev_off = start;
	c->prev_len = end - start;
	c->has_prev = true;
	if (ifs && !yu_is_seq(ifs))
		return node_err(err, ifs, "\"%s\" must be a list", "prevResult.interfaces");
	if (yu_seq_len(ifs) > SEGD_CNI_MAX_IFACES)
		return node_err(err, ifs, "more than 16 entries in \"%s\"",
				"prevResult.interfaces");
	for (size_t i = 0; i < yu_seq_len(ifs); i++) {
		yaml_node_t *e = yu_seq_at(d, ifs, i), *sb = yu_map_get(d, e, "sandbox");
		struct segd_cni_iface *f = &c->ifaces[c->n_ifaces++];
		int ret = get_str(d, e, "name", f->name, sizeof(f->name), err);

		if (ret)
			return ret;
		if (!yu_is_map(e) || !f->name[0])
			return node_err(err, e, "every entry of \"%s\" needs a name",
					"prevResult.interfaces");
		f->sandbox = sb && yu_scalar(sb) && *yu_scalar(sb);
		if (f->sandbox && c->pod_iface < 0 && ifname && !strcmp(f->name, ifname))
			c->pod_iface = (int)i;
	}
	if (ips && !yu_is_seq(ips))
		return node_err(err, ips, "\"%s\" must be a list", "prevResult.ips");
	for (size_t i = 0; i < yu_seq_len(ips); i++) {
		yaml_node_t *e = yu_seq_at(d, ips, i), *at = yu_map_get(d, e, "interface");
		const char *addr = yu_scalar(yu_map_get(d, e, "address"));
		int64_t idx = -1;
		size_t n;

		if (!addr)
			return node_err(err, e, "every entry of \"%s\" needs an address",
					"prevResult.ips");
		/* addresses of other interfaces (a second network) are not the pod's */
		if (at && (yu_int(at, 0, SEGD_CNI_MAX_IFACES - 1, &idx) ||
			   (size_t)idx >= c->n_ifaces))
			return node_err(err, at, "\"%s\" is not an index of interfaces",
					"interface");
		if (at && c->pod_iface >= 0 && idx != c->pod_iface)
			continue;
		if (c->n_ips == SEG_MAX_EP_IPS)
			return node_err(err, e, "more than 8 pod addresses in \"%s\"",
					"prevResult.ips");
		n = strcspn(addr, "/");
		if (n >= sizeof(c->ips[0]))
			return node_err(err, e, "\"%s\" is not an address", "address");
		memcpy(c->ips[c->n_ips], addr, n);
		c->ips[c->n_ips++][n] = '\0';
	}
	return 0;
}

int segd_cni_conf_parse(const char *buf, size_t len, const char *ifname,
			struct segd_cni_conf *out, struct seg_error *err)
{
	yaml_document_t doc;
	yaml_node_t *root, *n, *args;
	bool loaded = false;
	int ret;

	memset(out, 0, sizeof(*out));
	out->pod_iface = -1;
	snprintf(out->socket, sizeof(out->socket), "%s", SEGD_CNI_DEFAULT_SOCKET);
	snprintf(out->ns, sizeof(out->ns), "default");
	/* JSON is UTF-8; libyaml would also take UTF-16, whose marks do not
	 * map onto bytes the way byte_offset assumes */
	if (len > SEGD_CNI_MAX_CONF)
		return seg_errorf(err, WHERE, 0, 0, -EINVAL, "larger than %u bytes",
				  SEGD_CNI_MAX_CONF);
	if (memchr(buf, '\0', len) || (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)))
		return seg_errorf(err, WHERE, 0, 0, -EINVAL,
				  "not UTF-8 JSON text (NUL byte or byte order mark)");
	if ((ret = yu_load_one(buf, len, WHERE, &doc, err)))
		return ret;
	loaded = true;
	root = yu_root(&doc);
	if (!yu_is_map(root)) {
		ret = node_err(err, root, "the %s must be a JSON object", WHERE);
		goto out;
	}
	if ((ret = get_str(&doc, root, "cniVersion", out->cni_version,
			   sizeof(out->cni_version), err)) ||
	    (ret = get_str(&doc, root, "name", out->network, sizeof(out->network), err)) ||
	    (ret = get_str(&doc, root, "socket", out->socket, sizeof(out->socket), err)) ||
	    (ret = get_str(&doc, root, "namespace", out->ns, sizeof(out->ns), err)))
		goto out;
	if (!out->socket[0] || !out->ns[0]) {
		ret = seg_errorf(err, WHERE, 0, 0, -EINVAL,
				 "\"socket\" and \"namespace\" may not be empty");
		goto out;
	}
	if ((n = yu_map_get(&doc, root, "failOpen")) && yu_bool(n, &out->fail_open)) {
		ret = node_err(err, n, "\"%s\" must be true or false", "failOpen");
		goto out;
	}
	/* CNI conventions: "args": {"cni": {"labels": [{key, value}]}}; the
	 * runtime's capability args in runtimeConfig win over them */
	args = yu_map_get(&doc, yu_map_get(&doc, root, "args"), "cni");
	if ((ret = parse_labels(&doc, yu_map_get(&doc, args, "labels"), out, err)) ||
	    (ret = parse_labels(&doc, yu_map_get(&doc, yu_map_get(&doc, root, "runtimeConfig"),
						 "labels"), out, err)))
		goto out;
	/* ports: the runtime's list replaces the config's */
	n = yu_map_get(&doc, yu_map_get(&doc, root, "runtimeConfig"), "ports");
	if (!n || yu_is_null(n))
		n = yu_map_get(&doc, args, "ports");
	if ((ret = parse_ports(&doc, n, out, err)))
		goto out;
	if ((n = yu_map_get(&doc, root, "prevResult")) && !yu_is_null(n))
		ret = parse_prev_result(&doc, n, buf, len, ifname, out, err);
out:
	if (loaded)
		yaml_document_delete(&doc);
	if (ret)
		segd_cni_conf_free(out);
	return ret;
}

void segd_cni_conf_free(struct segd_cni_conf *c)
{
	seg_labels_free(&c->labels);
}

int segd_cni_arg(const char *cni_args, const char *key, char *out, size_t out_len)
{
	size_t klen = strlen(key);

	for (const char *p = cni_args; p && *p;) {
		size_t n = strcspn(p, ";");

		if (n > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			if (n - klen - 1 >= out_len)
				return -E2BIG;
			memcpy(out, p + klen + 1, n - klen - 1);
			out[n - klen - 1] = '\0';
			return 0;
		}
		p += n + (p[n] == ';');
	}
	return -ENOENT;
}

int segd_cni_labels_text(const struct seg_labels *l, char *out, size_t out_len)
{
	size_t off = 0;

	if (!out_len)
		return -E2BIG;
	out[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		int w = snprintf(out + off, out_len - off, "%s%s=%s", i ? "," : "",
				 l->v[i].key, l->v[i].value);

		if (w < 0 || (size_t)w >= out_len - off)
			return -E2BIG;
		off += (size_t)w;
	}
	return 0;
}
