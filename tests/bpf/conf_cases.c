/* conf_cases.c - see conf_cases.h */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_cases.h"
#include "state.h"
#include "yaml_util.h"

const struct conf_combo conf_combos[CONF_COMBOS] = {
	{ 80, IPPROTO_TCP }, { 81, IPPROTO_TCP }, { 80, IPPROTO_UDP },
	{ 81, IPPROTO_UDP }, { 80, IPPROTO_SCTP }, { 81, IPPROTO_SCTP },
};

static const char *const ns_names[CONF_NS] = { "x", "y", "z" };
static const char *const pod_names[CONF_PODS] = {
	"x/a", "x/b", "x/c", "y/a", "y/b", "y/c", "z/a", "z/b", "z/c",
};

const char *conf_ns_name(int ns)
{
	return ns_names[ns];
}

const char *conf_pod_name(int pod)
{
	return pod_names[pod];
}

void conf_pod_addr(int pod, char *buf, size_t len)
{
	snprintf(buf, len, "10.200.%d.%d", pod / 3 + 1, pod % 3 + 11);
}

void conf_render(char *buf, size_t len, char (*cell)(int, int, const void *),
		 const void *arg)
{
	size_t n = (size_t)snprintf(buf, len, "-    ");

	for (int t = 0; t < CONF_PODS && n < len; t++)
		n += (size_t)snprintf(buf + n, len - n, t ? " %s" : "%s", pod_names[t]);
	for (int f = 0; f < CONF_PODS && n < len; f++) {
		n += (size_t)snprintf(buf + n, len - n, "\n%s  ", pod_names[f]);
		for (int t = 0; t < CONF_PODS && n < len; t++)
			n += (size_t)snprintf(buf + n, len - n, "%c   ",
					      f == t ? '-' : cell(f, t, arg));
		while (n > 0 && n < len && buf[n - 1] == ' ')
			buf[--n] = '\0';
	}
}

/* ---- reading ------------------------------------------------------------- */

struct rd {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(const struct rd *r, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(const struct rd *r, const yaml_node_t *n, const char *fmt, ...)
{
	size_t k = (size_t)snprintf(r->err, r->errlen, "%s:%d: ", r->file,
				    n ? yu_line(n) : 0);
	va_list ap;

	va_start(ap, fmt);
	if (k < r->errlen)
		vsnprintf(r->err + k, r->errlen - k, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int pattern_matches(const char *pat, int pod)
{
	if (!strcmp(pat, "all"))
		return 1;
	if (strchr(pat, '/'))
		return !strcmp(pat, pod_names[pod]);
	return !strcmp(pat, ns_names[pod / 3]);
}

static int pattern_ok(const char *pat)
{
	if (!strcmp(pat, "all"))
		return 1;
	for (int i = 0; i < CONF_PODS; i++)
		if (!strcmp(pat, pod_names[i]) ||
		    (i < CONF_NS && !strcmp(pat, ns_names[i])))
			return 1;
	return 0;
}

/* rules applied in order to an all-allowed table */
static int truth_table(const struct rd *r, yaml_node_t *rules,
		       bool t[CONF_PODS][CONF_PODS])
{
	memset(t, 1, sizeof(bool) * CONF_PODS * CONF_PODS);
	for (size_t i = 0; i < yu_seq_len(rules); i++) {
		yaml_node_t *n = yu_seq_at(r->doc, rules, i);
		const char *s = yu_scalar(n);
		char from[16], to[16], verdict[8], tail;

		if (!s || sscanf(s, "%15s -> %15s %7s %c", from, to, verdict,
				 &tail) != 3 || !pattern_ok(from) ||
		    !pattern_ok(to) || (strcmp(verdict, "allow") &&
					strcmp(verdict, "deny")))
			return fail(r, n, "rule '%s' is not 'FROM -> TO allow|deny'",
				    s ? s : "?");
		for (int f = 0; f < CONF_PODS; f++)
			for (int g = 0; g < CONF_PODS; g++)
				if (pattern_matches(from, f) &&
				    pattern_matches(to, g))
					t[f][g] = verdict[0] == 'a';
	}
	return 0;
}

/* "all" | TCP | UDP | SCTP | 80/TCP ..., space separated -> combos */
static int expand_combos(const struct rd *r, const yaml_node_t *key,
			 bool want[CONF_COMBOS])
{
	static const char *const protos[] = { "TCP", "UDP", "SCTP" };
	char buf[128], *save = NULL, *tok;
	const char *s = yu_scalar(key);

	memset(want, 0, sizeof(bool) * CONF_COMBOS);
	snprintf(buf, sizeof(buf), "%s", s ? s : "");
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		int hit = 0;

		for (int c = 0; c < CONF_COMBOS; c++) {
			char name[16];
			const char *pr = protos[c / 2];

			snprintf(name, sizeof(name), "%u/%s", conf_combos[c].port, pr);
			if (!strcmp(tok, name) || !strcmp(tok, pr) ||
			    (!strcmp(tok, "all") && c < 4)) {
				want[c] = true;
				hit = 1;
			}
		}
		if (!hit)
			return fail(r, key, "unknown probe '%s'", tok);
	}
	return 0;
}

/* text with ${ns/pod} replaced by the pod's address; NULL on error */
static char *substitute(const char *s)
{
	size_t cap = strlen(s) + 1, n = 0;
	char *out = malloc(cap);

	while (out && *s) {
		const char *end;
		char addr[32] = "";
		size_t add;

		if (s[0] == '$' && s[1] == '{' && (end = strchr(s, '}'))) {
			for (int i = 0; i < CONF_PODS; i++)
				if ((size_t)(end - s - 2) == strlen(pod_names[i]) &&
				    !strncmp(s + 2, pod_names[i], strlen(pod_names[i])))
					conf_pod_addr(i, addr, sizeof(addr));
			if (!*addr) {
				free(out);
				return NULL;
			}
			add = strlen(addr);
			s = end + 1;
		} else {
			addr[0] = *s++;
			add = 1;
		}
		if (n + add + 1 > cap) {
			char *bigger = realloc(out, cap = 2 * (n + add + 1));

			if (!bigger) {
				free(out);
				return NULL;
			}
			out = bigger;
		}
		memcpy(out + n, addr, add);
		n += add;
	}
	if (out)
		out[n] = '\0';
	return out;
}

static int text_field(const struct rd *r, yaml_node_t *map, const char *key,
		      char **out)
{
	yaml_node_t *n = yu_map_get(r->doc, map, key);

	if (!n || yu_is_null(n))
		return 0;
	if (!yu_scalar(n))
		return fail(r, n, "%s must be text", key);
	*out = substitute(yu_scalar(n));
	return *out ? 0 : fail(r, n, "%s: ${...} names no pod", key);
}

static int label_map(const struct rd *r, yaml_node_t *map, const char *key,
		     char **slots, const char *const *names, int n_names)
{
	yaml_node_t *m = yu_map_get(r->doc, map, key);

	if (!m || yu_is_null(m))
		return 0;
	if (!yu_is_map(m))
		return fail(r, m, "%s must be a mapping", key);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const char *k = yu_scalar(yu_node(r->doc, p->key));
		const char *v = yu_scalar(yu_node(r->doc, p->value));
		int i;

		for (i = 0; i < n_names && (!k || strcmp(k, names[i])); i++)
			;
		if (i == n_names || !v)
			return fail(r, m, "%s: '%s' is not one of ours", key,
				    k ? k : "?");
		if (!(slots[i] = strdup(v)))
			return -ENOMEM;
	}
	return 0;
}

static int read_expect(const struct rd *r, yaml_node_t *step,
		       struct conf_step *s)
{
	yaml_node_t *m = yu_map_get(r->doc, step, "expect");

	if (!yu_is_map(m))
		return fail(r, step, "a step needs expect");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		bool want[CONF_COMBOS], t[CONF_PODS][CONF_PODS];
		yaml_node_t *key = yu_node(r->doc, p->key);
		int ret = expand_combos(r, key, want);

		if (!ret)
			ret = truth_table(r, yu_node(r->doc, p->value), t);
		for (int c = 0; !ret && c < CONF_COMBOS; c++) {
			if (!want[c])
				continue;
			if (s->has[c])
				return fail(r, key, "a probe is expected twice");
			s->has[c] = true;
			memcpy(s->allowed[c], t, sizeof(t));
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int read_step(const struct rd *r, yaml_node_t *n, struct conf_step *s)
{
	yaml_node_t *v = yu_map_get(r->doc, n, "delete_all");
	yaml_node_t *del = yu_map_get(r->doc, n, "delete");
	const char *name = yu_scalar(yu_map_get(r->doc, n, "name"));
	int ret;

	if (!(s->name = strdup(name ? name : "")))
		return -ENOMEM;
	if (v && yu_bool(v, &s->delete_all))
		return fail(r, v, "delete_all must be true or false");
	if (yu_seq_len(del) && !(s->deletes = calloc(yu_seq_len(del), sizeof(char *))))
		return -ENOMEM;
	for (size_t i = 0; i < yu_seq_len(del); i++) {
		const char *ref = yu_scalar(yu_seq_at(r->doc, del, i));

		if (!ref || !strchr(ref, '/'))
			return fail(r, del, "delete takes ns/name");
		if (!(s->deletes[s->n_deletes++] = strdup(ref)))
			return -ENOMEM;
	}
	if ((ret = text_field(r, n, "refused", &s->refused)) ||
	    (ret = text_field(r, n, "apply", &s->apply)) ||
	    (ret = label_map(r, n, "pod_labels", s->pod_labels, pod_names,
			     CONF_PODS)) ||
	    (ret = label_map(r, n, "ns_labels", s->ns_labels, ns_names, CONF_NS)))
		return ret;
	return read_expect(r, n, s);
}

static int read_case(const struct rd *r, const char *tag, yaml_node_t *n,
		     struct conf_case *c)
{
	const char *it = yu_scalar(yu_map_get(r->doc, n, "it"));
	yaml_node_t *steps = yu_map_get(r->doc, n, "steps");
	size_t len;
	int ret;

	if (!it || !yu_seq_len(steps))
		return fail(r, n, "a case needs it and steps");
	len = strlen(tag) + strlen(it) + 4;
	if (!(c->title = malloc(len)) || !(c->tag = strdup(tag)) ||
	    !(c->steps = calloc(yu_seq_len(steps), sizeof(*c->steps))))
		return -ENOMEM;
	snprintf(c->title, len, "[%s] %s", tag, it);
	for (size_t i = 0; i < yu_seq_len(steps); i++) {
		c->n_steps++;
		ret = read_step(r, yu_seq_at(r->doc, steps, i), &c->steps[i]);
		if (ret)
			return ret;
	}
	return 0;
}

static int load_file(const char *path, struct conf_case **all, size_t *n,
		     char *err, size_t errlen)
{
	struct rd r = { .file = path, .err = err, .errlen = errlen };
	struct seg_error e = { 0 };
	yaml_document_t doc;
	yaml_node_t *cases;
	const char *tag;
	char *buf;
	size_t len;
	int ret = seg_read_file(path, &buf, &len);

	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = yu_load_one(buf, len, path, &doc, &e);
	free(buf);
	if (ret) {
		seg_error_format(&e, err, errlen);
		return ret;
	}
	r.doc = &doc;
	tag = yu_scalar(yu_map_get(&doc, yu_root(&doc), "tag"));
	cases = yu_map_get(&doc, yu_root(&doc), "cases");
	if (!tag || !yu_is_seq(cases))
		ret = fail(&r, yu_root(&doc), "a case file needs tag and cases");
	for (size_t i = 0; !ret && i < yu_seq_len(cases); i++) {
		struct conf_case *more = realloc(*all, (*n + 1) * sizeof(**all));

		if (!more) {
			ret = -ENOMEM;
			break;
		}
		*all = more;
		memset(&more[*n], 0, sizeof(**all));
		(*n)++;
		ret = read_case(&r, tag, yu_seq_at(&doc, cases, i), &more[*n - 1]);
	}
	yaml_document_delete(&doc);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int conf_load_dir(const char *dir, struct conf_case **out, size_t *n,
		  char *err, size_t errlen)
{
	char *names[64], path[512];
	size_t k = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	int ret = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) && k < 64) {
		size_t l = strlen(de->d_name);

		if (l > 5 && !strcmp(de->d_name + l - 5, ".yaml") &&
		    !(names[k++] = strdup(de->d_name)))
			ret = -ENOMEM;
	}
	closedir(d);
	qsort(names, k, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < k; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!ret)
			ret = load_file(path, out, n, err, errlen);
		free(names[i]);
	}
	if (ret) {
		conf_cases_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return ret;
}

void conf_cases_free(struct conf_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < c[i].n_steps; j++) {
			struct conf_step *s = &c[i].steps[j];

			free(s->name);
			for (size_t k = 0; k < s->n_deletes; k++)
				free(s->deletes[k]);
			free(s->deletes);
			free(s->refused);
			free(s->apply);
			for (int k = 0; k < CONF_PODS; k++)
				free(s->pod_labels[k]);
			for (int k = 0; k < CONF_NS; k++)
				free(s->ns_labels[k]);
		}
		free(c[i].steps);
		free(c[i].title);
		free(c[i].tag);
	}
	free(c);
}
