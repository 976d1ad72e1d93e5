/* policy_parse.c - YAML policy documents -> struct seg_policy.
 *
 * This file: the stream, document envelope (apiVersion, kind, metadata)
 * and the re-serialised source. The specs live in policy_parse_k8s.c,
 * policy_parse_cnp.c and policy_parse_seg.c; the pieces the kinds share in
 * policy_parse_util.c (type checks, unknown-field detection, errors) and
 * policy_parse_fields.c (label selectors, CIDRs, ports, rule start).
 * docs/policy.md is the reference for what is accepted.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "policy_parse.h"
#include "policy_parse_int.h"

#define SUPPORTED_KINDS "SegmentPolicy (apiVersion segd.io/v1), " \
	"NetworkPolicy (apiVersion networking.k8s.io/v1) and " \
	"ClusterNetworkPolicy (apiVersion policy.networking.k8s.io/v1beta1 " \
	"or v1alpha2)"

/* The kinds: what each document's kind and apiVersion select. */
static const struct kind_def {
	const char *kind;
	const char *api[2];      /* accepted apiVersions, the first suggested */
	enum seg_policy_kind k;
	bool k8s_object;         /* a Kubernetes object: may carry status */
	bool cluster;            /* cluster-scoped: no metadata.namespace */
} kinds[] = {
	{ "SegmentPolicy", { "segd.io/v1", NULL }, SEG_KIND_SEGMENT, false,
	  false },
	{ "NetworkPolicy", { "networking.k8s.io/v1", NULL }, SEG_KIND_K8S, true,
	  false },
	{ "ClusterNetworkPolicy", { "policy.networking.k8s.io/v1beta1",
	  "policy.networking.k8s.io/v1alpha2" }, SEG_KIND_CNP, true, true },
};

/* ---- documents --------------------------------------------------------------- */

struct stream {
	const char *file;
	const char *default_ns;
	struct seg_error *err;
	struct seg_policy *v;
	size_t n, cap;
};

/* Our walkers follow the tree; an alias makes it a graph (and can make it
 * exponentially large), so every node must have exactly one parent. */
static int check_tree(const struct pp *c)
{
	yaml_document_t *d = c->doc;
	size_t n = (size_t)(d->nodes.top - d->nodes.start);
	unsigned char *seen = pp_calloc(n + 1, 1);
	int ret = 0;

	if (!seen)
		return pp_nomem(c);
	seen[1] = 1; /* the root */
	for (yaml_node_t *nd = d->nodes.start; nd < d->nodes.top && !ret; nd++) {
		int ids[2];
		size_t cnt = nd->type == YAML_SEQUENCE_NODE ?
			(size_t)(nd->data.sequence.items.top -
				 nd->data.sequence.items.start) :
			nd->type == YAML_MAPPING_NODE ?
			(size_t)(nd->data.mapping.pairs.top -
				 nd->data.mapping.pairs.start) : 0;

		for (size_t i = 0; i < cnt && !ret; i++) {
			size_t k = 1;

			if (nd->type == YAML_SEQUENCE_NODE) {
				ids[0] = nd->data.sequence.items.start[i];
			} else {
				ids[0] = nd->data.mapping.pairs.start[i].key;
				ids[1] = nd->data.mapping.pairs.start[i].value;
				k = 2;
			}
			for (size_t j = 0; j < k && !ret; j++) {
				if (ids[j] < 1 || (size_t)ids[j] > n)
					continue;
				if (seen[ids[j]]++)
					ret = pp_err(c, yu_node(d, ids[j]),
						     "this node is used again "
						     "through a YAML alias; "
						     "aliases are not supported "
						     "in policies, write the "
						     "value out in full");
			}
		}
	}
	free(seen);
	return ret;
}

/* annotation segd.io/mode: enforce or audit (any kind of policy) */
static int mode_annotation(struct pp *c, yaml_node_t *v, struct seg_policy *p)
{
	enum seg_policy_mode m;

	if (seg_policy_mode_parse(yu_scalar(v), &m))
		return pp_err(c, v, "annotation " PP_MODE_ANNOTATION " must be "
			      "enforce or audit, not '%s'", Q(yu_scalar(v)));
	c->mode_note = v;
	p->audit = m == SEG_MODE_AUDIT;
	return 0;
}

/* annotation segd.io/staged: "true" or "false" (what `apply --mode audit`
 * writes; checked against the mode once the spec is read) */
static int staged_annotation(struct pp *c, yaml_node_t *v, struct seg_policy *p)
{
	const char *s = yu_scalar(v);

	if (strcmp(s, "true") && strcmp(s, "false"))
		return pp_err(c, v, "annotation " PP_STAGED_ANNOTATION " must be "
			      "\"true\" or \"false\", not '%s'", Q(s));
	c->staged_note = v;
	p->staged = !strcmp(s, "true");
	return 0;
}

static int metadata(struct pp *c, yaml_node_t *root, const char *dflt,
		    const struct kind_def *kd, struct seg_policy *p)
{
	static const char *const keys[] = {
		"name", "namespace", "labels", "annotations", "generateName",
		"uid", "resourceVersion", "generation", "creationTimestamp",
		"deletionTimestamp", "deletionGracePeriodSeconds",
		"ownerReferences", "finalizers", "managedFields", "selfLink",
		NULL
	};
	yaml_node_t *md = pp_get(c, root, "metadata"), *n, *l;
	const char *s, *why;
	int ret;

	if (!md)
		return pp_err(c, root, "missing 'metadata'; add metadata: "
			      "{name: ...}");
	ret = pp_keys(c, md, "metadata", keys);
	if (ret)
		return ret;
	n = pp_get(c, md, "name");
	if (!n)
		return pp_err(c, md, "missing metadata.name; every policy needs "
			      "a name");
	ret = pp_want_str(c, n, "metadata.name", &s);
	if (ret)
		return ret;
	if ((why = seg_dns_name_problem(s, false)))
		return pp_err(c, n, "invalid metadata.name '%s': %s", Q(s), why);
	if (!(p->name = strdup(s)))
		return pp_nomem(c);
	n = pp_get(c, md, "namespace");
	if (kd->cluster) {
		if (n && !yu_is_null(n))
			return pp_err(c, n, "%s is cluster-scoped; remove "
				      "metadata.namespace", kd->kind);
		s = "";
	} else if (n && !yu_is_null(n)) {
		ret = pp_want_str(c, n, "metadata.namespace", &s);
		if (ret)
			return ret;
		if ((why = seg_dns_name_problem(s, true)))
			return pp_err(c, n, "invalid metadata.namespace '%s': %s",
				      Q(s), why);
	} else {
		s = dflt;
		if ((why = seg_dns_name_problem(s, true)))
			return pp_err(c, md, "invalid default namespace '%s': "
				      "%s", Q(s), why);
	}
	if (!(p->ns = strdup(s)))
		return pp_nomem(c);
	l = pp_get(c, md, "labels");
	if (l && !yu_is_null(l)) {
		ret = pp_want_map(c, l, "metadata.labels");
		for (size_t i = 0; !ret && i < (size_t)(l->data.mapping.pairs.top -
						       l->data.mapping.pairs.start); i++) {
			yaml_node_pair_t *pr = &l->data.mapping.pairs.start[i];

			ret = pp_label_key(c, yu_node(c->doc, pr->key),
					"metadata.labels", &s);
			if (!ret)
				ret = pp_label_value(c, yu_node(c->doc, pr->value),
						  "metadata.labels", &s);
		}
		if (ret)
			return ret;
	}
	l = pp_get(c, md, "annotations");
	if (!l || yu_is_null(l))
		return 0;
	ret = pp_want_map(c, l, "metadata.annotations");
	for (yaml_node_pair_t *pr = l->data.mapping.pairs.start;
	     !ret && pr < l->data.mapping.pairs.top; pr++) {
		yaml_node_t *v = yu_node(c->doc, pr->value);

		const char *key = yu_scalar(yu_node(c->doc, pr->key));

		if (!key || !yu_scalar(v))
			ret = pp_err(c, v, "metadata.annotations must map names "
				      "to strings; quote the value");
		else if (!strcmp(key, PP_MODE_ANNOTATION))
			ret = mode_annotation(c, v, p);
		else if (!strcmp(key, PP_STAGED_ANNOTATION))
			ret = staged_annotation(c, v, p);
	}
	return ret;
}

/* The document as YAML, namespace filled in, plain scalars that are
 * numbers/booleans/null tagged so JSON output keeps their type. Edits
 * c->doc in place: this is its last use, and a copy of the tree of a
 * 100,000-rule policy costs hundreds of MB. Adding the namespace may move
 * the nodes: root is not used after. */
static int make_source(const struct pp *c, yaml_node_t *root,
		       const struct kind_def *kd, struct seg_policy *p)
{
	yaml_document_t *d = c->doc;
	int line = yu_line(root), col = yu_col(root);
	yaml_node_t *md, *nsn;
	int ret = 0;

	md = yu_map_get(d, yu_root(d), "metadata");
	nsn = yu_map_get(d, md, "namespace");
	if (kd->cluster) {
		/* nothing to fill in: it has no namespace */
	} else if (md && !nsn) {
		ret = yu_set_str(d, (int)(md - d->nodes.start) + 1, "namespace",
				 p->ns);
		if (ret)
			goto out;
	} else if (yu_is_null(nsn)) { /* `namespace:` -> the default */
		free(nsn->data.scalar.value);
		nsn->data.scalar.value = (yaml_char_t *)strdup(p->ns);
		if (!nsn->data.scalar.value) {
			ret = -ENOMEM;
			goto out;
		}
		nsn->data.scalar.length = strlen(p->ns);
	}
	for (yaml_node_t *n = d->nodes.start; n < d->nodes.top; n++) {
		const char *s = yu_scalar(n), *t = NULL, *v;

		if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
			continue;
		v = s + (*s == '-');
		if (*v && strspn(v, "0123456789") == strlen(v) &&
		    (*v != '0' || !v[1]) && strlen(v) < 19)
			t = YAML_INT_TAG;
		else if (!strcmp(s, "true") || !strcmp(s, "false"))
			t = YAML_BOOL_TAG;
		else if (yu_is_null(n))
			t = YAML_NULL_TAG;
		if (!t)
			continue;
		free(n->tag);
		n->tag = (yaml_char_t *)strdup(t);
		if (!strcmp(t, YAML_NULL_TAG)) {
			free(n->data.scalar.value);
			n->data.scalar.value = (yaml_char_t *)strdup("null");
			n->data.scalar.length = 4;
			if (!n->data.scalar.value) {
				ret = -ENOMEM;
				goto out;
			}
		}
		if (!n->tag) {
			ret = -ENOMEM;
			goto out;
		}
	}
	ret = yu_dump(d, &p->source, NULL);
out:
	if (ret == -ENOMEM)
		return pp_nomem(c);
	if (ret)
		return seg_errorf(c->err, c->file, line, col,
				  -ret, "cannot re-serialise this document (%s); "
				  "is it nested too deeply?", strerror(-ret));
	return 0;
}

/* The kind of document root: kind and apiVersion checked. */
static int kind_of(const struct pp *c, yaml_node_t *root,
		   const struct kind_def **out, bool *v1beta1)
{
	yaml_node_t *av = pp_get(c, root, "apiVersion");
	yaml_node_t *kn = pp_get(c, root, "kind");
	const struct kind_def *kd = NULL;
	const char *a, *k;
	int ret;

	if (!kn)
		return pp_err(c, root, "missing 'kind'; supported kinds: "
			      SUPPORTED_KINDS);
	if ((ret = pp_want_str(c, kn, "kind", &k)))
		return ret;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(k, kinds[i].kind))
			kd = &kinds[i];
	if (!kd && strstr(k, "AdminNetworkPolicy"))
		return pp_err(c, kn, "unsupported kind '%s': AdminNetworkPolicy "
			      "and BaselineAdminNetworkPolicy were replaced by "
			      "ClusterNetworkPolicy (tier: Admin or Baseline); "
			      "supported kinds: " SUPPORTED_KINDS, Q(k));
	if (!kd)
		return pp_err(c, kn, "unsupported kind '%s'; supported kinds: "
			      SUPPORTED_KINDS, Q(k));
	if (!av)
		return pp_err(c, root, "missing 'apiVersion'; %s needs "
			      "apiVersion: %s", k, kd->api[0]);
	if ((ret = pp_want_str(c, av, "apiVersion", &a)))
		return ret;
	*out = kd;
	*v1beta1 = kd->k == SEG_KIND_CNP && !strcmp(a, kd->api[0]);
	for (size_t i = 0; i < 2 && kd->api[i]; i++)
		if (!strcmp(a, kd->api[i]))
			return 0;
	return pp_err(c, av, "unsupported apiVersion '%s' for kind %s; use %s%s%s "
		      "(supported kinds: " SUPPORTED_KINDS ")", Q(a), k,
		      kd->api[0], kd->api[1] ? " or " : "",
		      kd->api[1] ? kd->api[1] : "");
}

static int on_doc(yaml_document_t *doc, void *arg)
{
	struct stream *st = arg;
	struct pp c = { .doc = doc, .file = st->file, .err = st->err };
	static const char *const keys_k8s[] = { "apiVersion", "kind", "metadata",
						"spec", "status", NULL };
	static const char *const keys_seg[] = { "apiVersion", "kind", "metadata",
						"spec", NULL };
	yaml_node_t *root = yu_root(doc), *spec;
	const struct kind_def *kd = NULL;
	struct seg_policy p = { 0 };
	bool v1beta1 = false;
	int ret;

	if (yu_is_null(root))
		return 0;
	ret = check_tree(&c);
	if (ret)
		return ret;
	if (!yu_is_map(root))
		return pp_err(&c, root, "a policy document must be a mapping with "
			      "apiVersion, kind, metadata and spec, not %s",
			      pp_type_name(root));
	if ((ret = kind_of(&c, root, &kd, &v1beta1)))
		return ret;
	ret = pp_keys(&c, root, kd->kind, kd->k8s_object ? keys_k8s : keys_seg);
	if (ret)
		return ret;
	p.kind = kd->k;
	p.line = yu_line(root);
	p.col = yu_col(root);
	ret = metadata(&c, root, st->default_ns, kd, &p);
	if (ret)
		goto fail;
	c.ns = p.ns;
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->v[i].ns, p.ns) || strcmp(st->v[i].name, p.name))
			continue;
		ret = pp_err(&c, pp_get(&c, pp_get(&c, root, "metadata"), "name"),
			     "duplicate policy %s%s%s: already defined by the "
			     "document at line %d:%d; give each policy a unique "
			     "name", *p.ns ? Q(p.ns) : kd->kind, *p.ns ? "/" : " ",
			     Q(p.name), st->v[i].line, st->v[i].col);
		goto fail;
	}
	spec = pp_get(&c, root, "spec");
	if (!spec) {
		ret = pp_err(&c, root, "missing 'spec'");
		goto fail;
	}
	switch (p.kind) {
	case SEG_KIND_K8S:
		ret = pp_k8s_spec(&c, spec, &p);
		break;
	case SEG_KIND_CNP:
		ret = pp_cnp_spec(&c, spec, v1beta1, &p);
		break;
	default:
		ret = pp_seg_spec(&c, spec, &p);
		break;
	}
	if (!ret && p.staged && !p.audit)
		ret = pp_err(&c, c.staged_note, "annotation " PP_STAGED_ANNOTATION
			     " marks a policy staged in audit mode, but this one is "
			     "enforced; remove the annotation (or use `segctl apply "
			     "--mode audit`)");
	if (ret)
		goto fail;
	if (st->file && !(p.source_file = strdup(st->file))) {
		ret = pp_nomem(&c);
		goto fail;
	}
	ret = make_source(&c, root, kd, &p);
	if (ret)
		goto fail;
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 8;
		struct seg_policy *v = realloc(st->v, cap * sizeof(*v));

		if (!v) {
			ret = pp_nomem(&c);
			goto fail;
		}
		st->v = v;
		st->cap = cap;
	}
	st->v[st->n++] = p;
	return 0;
fail:
	seg_policy_free(&p);
	return ret;
}

int seg_policy_parse(const char *buf, size_t len, const char *file,
		     const char *default_ns, struct seg_policy **out,
		     size_t *n_out, struct seg_error *err)
{
	struct stream st = {
		.file = file, .err = err,
		.default_ns = default_ns ? default_ns : "default",
	};
	int ret;

	*out = NULL;
	*n_out = 0;
	if (err)
		memset(err, 0, sizeof(*err));
	ret = yu_load_all(buf ? buf : "", buf ? len : 0, file, on_doc, &st, err);
	if (ret) {
		seg_policies_free(st.v, st.n);
		return ret < 0 ? ret : -EINVAL;
	}
	*out = st.v;
	*n_out = st.n;
	return 0;
}

void seg_policies_free(struct seg_policy *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		seg_policy_free(&p[i]);
	free(p);
}
