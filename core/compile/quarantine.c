/* quarantine.c - quarantine records, their allow rules, the map content
 * they produce, their file and their audit lines (pure; see quarantine.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "model.h"
#include "quarantine.h"
#include "timetext.h"
#include "yaml_util.h"

void seg_quarantine_free(struct seg_quarantine *q)
{
	free(q->ns);
	free(q->name);
	free(q->reason);
	seg_labels_free(&q->selector);
	memset(q, 0, sizeof(*q));
}

void seg_quarantines_free(struct seg_quarantines *qs)
{
	for (size_t i = 0; i < qs->n; i++)
		seg_quarantine_free(&qs->v[i]);
	free(qs->v);
	memset(qs, 0, sizeof(*qs));
}

/* ---- targets ------------------------------------------------------------------ */

void seg_quar_target_format(const struct seg_quarantine *q, char *buf, size_t len)
{
	char t[1024];

	switch (q->kind) {
	case SEG_QUAR_ENDPOINT:
		snprintf(buf, len, "endpoint %s/%s", q->ns, q->name);
		break;
	case SEG_QUAR_IP:
		seg_addr_format(&q->ip, t, sizeof(t));
		snprintf(buf, len, "ip %s", t);
		break;
	case SEG_QUAR_SELECTOR:
		seg_labels_format(&q->selector, t, sizeof(t));
		snprintf(buf, len, "selector %s/%s", q->ns, t);
		break;
	}
}

static bool labels_equal(const struct seg_labels *a, const struct seg_labels *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)   /* both sorted by key */
		if (strcmp(a->v[i].key, b->v[i].key) || strcmp(a->v[i].value, b->v[i].value))
			return false;
	return true;
}

bool seg_quar_same_target(const struct seg_quarantine *a, const struct seg_quarantine *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case SEG_QUAR_ENDPOINT:
		return !strcmp(a->ns, b->ns) && !strcmp(a->name, b->name);
	case SEG_QUAR_IP:
		return !memcmp(&a->ip, &b->ip, sizeof(a->ip));
	case SEG_QUAR_SELECTOR:
		return !strcmp(a->ns, b->ns) && labels_equal(&a->selector, &b->selector);
	}
	return false;
}

bool seg_quar_matches(const struct seg_quarantine *q, const struct seg_endpoint *e)
{
	switch (q->kind) {
	case SEG_QUAR_ENDPOINT:
		return !strcmp(q->ns, e->ns) && !strcmp(q->name, e->name);
	case SEG_QUAR_IP:
		for (size_t i = 0; i < e->n_ips; i++)
			if (!memcmp(&e->ips[i], &q->ip, sizeof(q->ip)))
				return true;
		return false;
	case SEG_QUAR_SELECTOR:
		if (strcmp(q->ns, e->ns) || !q->selector.n)
			return false;   /* an empty selector is refused, never "all" */
		for (size_t i = 0; i < q->selector.n; i++) {
			const char *v = seg_labels_get(&e->labels, q->selector.v[i].key);

			if (!v || strcmp(v, q->selector.v[i].value))
				return false;
		}
		return true;
	}
	return false;
}

struct seg_quarantine *seg_quarantines_find(struct seg_quarantines *qs,
					    const struct seg_quarantine *q)
{
	for (size_t i = 0; i < qs->n; i++)
		if (seg_quar_same_target(&qs->v[i], q))
			return &qs->v[i];
	return NULL;
}

int seg_quarantines_put(struct seg_quarantines *qs, struct seg_quarantine *q,
			uint32_t *id, bool *replaced)
{
	struct seg_quarantine *cur = seg_quarantines_find(qs, q);

	*replaced = cur != NULL;
	if (cur) {
		q->id = cur->id;
		seg_quarantine_free(cur);
		*cur = *q;
	} else {
		struct seg_quarantine *v = realloc(qs->v, (qs->n + 1) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		qs->v = v;
		if (!qs->next_id)
			qs->next_id = 1;
		q->id = qs->next_id++;
		qs->v[qs->n++] = *q;
	}
	*id = q->id;
	memset(q, 0, sizeof(*q));
	return 0;
}

void seg_quarantines_remove(struct seg_quarantines *qs, size_t i)
{
	seg_quarantine_free(&qs->v[i]);
	memmove(&qs->v[i], &qs->v[i + 1], (qs->n - i - 1) * sizeof(qs->v[0]));
	qs->n--;
}

/* ---- map content ---------------------------------------------------------------- */

static void rule_fill(const struct seg_quar_allow *a, struct segd_quar_allow *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned int bit = 0; bit < a->cidr.plen && bit < 128; bit++)
		r->mask.b[bit / 8] |= (uint8_t)(0x80u >> (bit % 8));
	for (int i = 0; i < 16; i++)
		r->net.b[i] = a->cidr.addr.s6_addr[i] & r->mask.b[i];
	r->port = a->port;
	r->proto = a->proto;
}

void seg_quar_value_fill(const struct seg_quarantine *q, struct segd_quar_value *v)
{
	memset(v, 0, sizeof(*v));
	v->quarantine_id = q->id;
	for (size_t i = 0; i < q->n_allow && i < SEGD_QUAR_ALLOW; i++)
		rule_fill(&q->allow[i], &v->allow[v->n_allow++]);
}

/* Merge the rules of add into v (both entries of one address). */
static bool value_merge(struct segd_quar_value *v, const struct segd_quar_value *add)
{
	bool truncated = false;

	if (add->quarantine_id < v->quarantine_id)
		v->quarantine_id = add->quarantine_id;
	for (uint32_t i = 0; i < add->n_allow; i++) {
		bool have = false;

		for (uint32_t j = 0; j < v->n_allow && !have; j++)
			have = !memcmp(&v->allow[j], &add->allow[i], sizeof(add->allow[i]));
		if (have)
			continue;
		if (v->n_allow == SEGD_QUAR_ALLOW) {
			truncated = true;
			continue;
		}
		v->allow[v->n_allow++] = add->allow[i];
	}
	return truncated;
}

static int entry_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct segd_addr));
}

static int entries_add(struct seg_quar_entry **v, size_t *n, size_t *cap,
		       const struct in6_addr *a, const struct seg_quarantine *q)
{
	if (*n == *cap) {
		struct seg_quar_entry *g = realloc(*v, (*cap = *cap * 2 + 16) * sizeof(*g));

		if (!g)
			return -ENOMEM;
		*v = g;
	}
	memcpy((*v)[*n].addr.b, a->s6_addr, 16);
	seg_quar_value_fill(q, &(*v)[*n].value);
	(*n)++;
	return 0;
}

int seg_quar_entries(const struct seg_quarantines *qs, const struct seg_world *w,
		     struct seg_quar_entry **out, size_t *n_out, bool *truncated)
{
	struct seg_quar_entry *v = NULL;
	size_t n = 0, cap = 0, k = 0;
	int ret = 0;

	*truncated = false;
	for (size_t i = 0; !ret && i < qs->n; i++) {
		const struct seg_quarantine *q = &qs->v[i];

		if (q->kind == SEG_QUAR_IP) {
			ret = entries_add(&v, &n, &cap, &q->ip, q);
			continue;
		}
		for (size_t e = 0; !ret && e < w->n_endpoints; e++) {
			const struct seg_endpoint *ep = &w->endpoints[e];

			if (!seg_quar_matches(q, ep))
				continue;
			for (size_t a = 0; !ret && a < ep->n_ips; a++)
				ret = entries_add(&v, &n, &cap, &ep->ips[a], q);
		}
	}
	if (ret) {
		free(v);
		return ret;
	}
	/* sort, then fold duplicates of one address into its first entry */
	if (n)
		qsort(v, n, sizeof(*v), entry_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && !entry_cmp(&v[k - 1], &v[i])) {
			if (value_merge(&v[k - 1].value, &v[i].value))
				*truncated = true;
			continue;
		}
		v[k++] = v[i];
	}
	*out = v;
	*n_out = k;
	return 0;
}

/* ---- time ------------------------------------------------------------------------- */

static int rfc3339_parse(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;

	if (!end || *end)
		return -EINVAL;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* ---- quarantines.yaml ------------------------------------------------------------ */

static const char *const kind_names[] = {
	[SEG_QUAR_ENDPOINT] = "endpoint",
	[SEG_QUAR_IP] = "ip",
	[SEG_QUAR_SELECTOR] = "selector",
};

const char *seg_quar_kind_name(enum seg_quar_kind k)
{
	return k <= SEG_QUAR_SELECTOR ? kind_names[k] : "?";
}

int seg_quar_allow_node(yaml_document_t *d, const struct seg_quarantine *q)
{
	int seq = yu_add_seq(d);
	char buf[256];

	for (size_t i = 0; seq >= 0 && i < q->n_allow; i++) {
		seg_quar_allow_format(&q->allow[i], buf, sizeof(buf));
		yu_append(d, seq, yu_add_str(d, buf));
	}
	return seq;
}

int seg_quar_record_node(yaml_document_t *d, int seq, const struct seg_quarantine *q)
{
	int m = yu_add_map(d), allow = seg_quar_allow_node(d, q);
	char buf[1024];

	if (m < 0 || allow < 0 || yu_append(d, seq, m))
		return -ENOMEM;
	yu_set_uint(d, m, "id", q->id);
	yu_set_str(d, m, "kind", kind_names[q->kind]);
	if (q->kind == SEG_QUAR_IP) {
		seg_addr_format(&q->ip, buf, sizeof(buf));
		yu_set_str(d, m, "ip", buf);
	} else {
		yu_set_str(d, m, "namespace", q->ns);
	}
	if (q->kind == SEG_QUAR_ENDPOINT)
		yu_set_str(d, m, "name", q->name);
	if (q->kind == SEG_QUAR_SELECTOR) {
		seg_labels_format(&q->selector, buf, sizeof(buf));
		yu_set_str(d, m, "selector", buf);
	}
	yu_set(d, m, "allow", allow);
	yu_set_str(d, m, "reason", q->reason ? q->reason : "");
	seg_rfc3339(q->since, buf, sizeof(buf));
	yu_set_str(d, m, "since", buf);
	yu_set_uint(d, m, "uid", q->uid);
	return yu_set_uint(d, m, "pid", q->pid) ? -ENOMEM : m;
}

int seg_quarantines_to_yaml(const struct seg_quarantines *qs, char **out)
{
	yaml_document_t d;
	int root = yu_doc_init_map(&d), seq, ret = -ENOMEM;

	if (root < 0)
		return root;
	seq = yu_add_seq(&d);
	if (seq < 0 || yu_set_uint(&d, root, "next_id", qs->next_id) ||
	    yu_set(&d, root, "quarantines", seq))
		goto out;
	for (size_t i = 0; i < qs->n; i++)
		if ((ret = seg_quar_record_node(&d, seq, &qs->v[i])) < 0)
			goto out;
	ret = yu_dump(&d, out, NULL);
out:
	yaml_document_delete(&d);
	return ret;
}

struct load_ctx {
	struct seg_quarantines *qs;
	const char *file;
	struct seg_error *err;
};

static int bad(struct load_ctx *c, const yaml_node_t *n, const char *what)
{
	return seg_errorf(c->err, c->file, n ? yu_line(n) : 0, n ? yu_col(n) : 0,
			  -EINVAL, "%s; fix or remove the quarantine record "
			  "(segd will not start without it: a quarantine must "
			  "never be dropped silently)", what);
}

static int record_from(yaml_document_t *d, yaml_node_t *m, struct load_ctx *c,
		       struct seg_quarantine *q)
{
	const char *kind = yu_scalar(yu_map_get(d, m, "kind"));
	yaml_node_t *allow = yu_map_get(d, m, "allow");
	const char *s;
	char why[256];
	int64_t v;

	if (yu_int(yu_map_get(d, m, "id"), 1, UINT32_MAX, &v))
		return bad(c, m, "quarantine without a valid id");
	q->id = (uint32_t)v;
	if (!kind)
		return bad(c, m, "quarantine without a kind");
	for (q->kind = 0; q->kind <= SEG_QUAR_SELECTOR; q->kind++)
		if (!strcmp(kind, kind_names[q->kind]))
			break;
	if (q->kind > SEG_QUAR_SELECTOR)
		return bad(c, m, "kind is not endpoint, ip or selector");
	if (q->kind == SEG_QUAR_IP) {
		s = yu_scalar(yu_map_get(d, m, "ip"));
		if (!s || seg_addr_parse(s, &q->ip))
			return bad(c, m, "ip quarantine without a valid ip");
	} else if (!(s = yu_scalar(yu_map_get(d, m, "namespace"))) ||
		   !(q->ns = strdup(s))) {
		return bad(c, m, "quarantine without a namespace");
	}
	if (q->kind == SEG_QUAR_ENDPOINT &&
	    (!(s = yu_scalar(yu_map_get(d, m, "name"))) || !(q->name = strdup(s))))
		return bad(c, m, "endpoint quarantine without a name");
	if (q->kind == SEG_QUAR_SELECTOR &&
	    (!(s = yu_scalar(yu_map_get(d, m, "selector"))) ||
	     seg_labels_parse(s, &q->selector, NULL) || !q->selector.n))
		return bad(c, m, "selector quarantine without a valid selector");
	if (yu_seq_len(allow) > SEGD_QUAR_ALLOW)
		return bad(c, allow, "more than 8 allow rules");
	for (size_t i = 0; i < yu_seq_len(allow); i++) {
		yaml_node_t *a = yu_seq_at(d, allow, i);

		s = yu_scalar(a);
		if (!s || seg_quar_allow_parse(s, &q->allow[q->n_allow++], why, sizeof(why)))
			return bad(c, a, s ? why : "allow rule is not a string");
	}
	s = yu_scalar(yu_map_get(d, m, "reason"));
	if (!(q->reason = strdup(s ? s : "")))
		return -ENOMEM;
	if (rfc3339_parse(yu_scalar(yu_map_get(d, m, "since")), &q->since))
		q->since = 0;
	if (!yu_int(yu_map_get(d, m, "uid"), 0, UINT32_MAX, &v))
		q->uid = (uint32_t)v;
	if (!yu_int(yu_map_get(d, m, "pid"), 0, UINT32_MAX, &v))
		q->pid = (uint32_t)v;
	return 0;
}

static int quarantines_from_doc(yaml_document_t *d, void *p)
{
	struct load_ctx *c = p;
	yaml_node_t *root = yu_root(d), *seq = yu_map_get(d, root, "quarantines");
	int64_t next = 1;
	int ret;

	if (!yu_is_map(root))
		return bad(c, root, "not a quarantine file");
	if (yu_map_get(d, root, "next_id") &&
	    yu_int(yu_map_get(d, root, "next_id"), 1, UINT32_MAX, &next))
		return bad(c, root, "next_id is not a number");
	if (c->qs->next_id < next)
		c->qs->next_id = (uint32_t)next;
	for (size_t i = 0; i < yu_seq_len(seq); i++) {
		struct seg_quarantine q = { 0 };
		struct seg_quarantine *v;

		ret = record_from(d, yu_seq_at(d, seq, i), c, &q);
		if (!ret && seg_quarantines_find(c->qs, &q))
			ret = bad(c, yu_seq_at(d, seq, i), "two quarantines of one target");
		if (!ret && !(v = realloc(c->qs->v, (c->qs->n + 1) * sizeof(*v))))
			ret = -ENOMEM;
		if (ret) {
			seg_quarantine_free(&q);
			return ret;
		}
		c->qs->v = v;
		if (q.id >= c->qs->next_id)
			c->qs->next_id = q.id + 1;
		c->qs->v[c->qs->n++] = q;
	}
	return 0;
}

int seg_quarantines_from_yaml(const char *buf, size_t len, const char *file,
			      struct seg_quarantines *qs, struct seg_error *err)
{
	struct load_ctx c = { .qs = qs, .file = file, .err = err };
	int ret = yu_load_all(buf, len, file, quarantines_from_doc, &c, err);

	if (ret)
		seg_quarantines_free(qs);
	return ret;
}

/* ---- audit ---------------------------------------------------------------------- */

int seg_quar_audit_line(const char *action, const struct seg_quarantine *q,
			int64_t now, const char *actor, uint32_t uid, uint32_t pid,
			const char *const *endpoints, size_t n_endpoints, char **out)
{
	char *text = NULL, buf[1024];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return -ENOMEM;
	seg_rfc3339(now, buf, sizeof(buf));
	fputs("{\"time\":", f);
	yu_json_string(f, buf);
	fputs(",\"action\":", f);
	yu_json_string(f, action);
	fprintf(f, ",\"id\":%u,\"target\":", q->id);
	seg_quar_target_format(q, buf, sizeof(buf));
	yu_json_string(f, buf);
	fputs(",\"reason\":", f);
	yu_json_string(f, q->reason ? q->reason : "");
	fputs(",\"allow\":[", f);
	for (size_t i = 0; i < q->n_allow; i++) {
		seg_quar_allow_format(&q->allow[i], buf, sizeof(buf));
		if (i)
			fputc(',', f);
		yu_json_string(f, buf);
	}
	fputs("],\"endpoints\":[", f);
	for (size_t i = 0; i < n_endpoints; i++) {
		if (i)
			fputc(',', f);
		yu_json_string(f, endpoints[i]);
	}
	fputs("],\"actor\":", f);
	yu_json_string(f, actor);
	fprintf(f, ",\"uid\":%u,\"pid\":%u}\n", uid, pid);
	if (fclose(f) || !text) {
		free(text);
		return -ENOMEM;
	}
	*out = text;
	return 0;
}
