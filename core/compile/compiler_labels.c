/* compiler_labels.c - which identities hold a label (key, value): the
 * index that lets a pod selector look at the identities its matchLabels
 * name instead of at every identity. N label rules over N endpoints
 * (one selector per rule) cost N x N selector checks without it. Pure. */
#include "compiler_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int pair_key(struct seg_strbuf *sb, const char *k, const char *v)
{
	sb->n = 0;
	seg_strbuf_str(sb, k);
	seg_strbuf_str(sb, "\x1d");
	seg_strbuf_str(sb, v);
	return sb->err;
}

static int build(struct ctx *x, struct label_index *li)
{
	struct seg_strbuf sb = { 0 };
	uint32_t *count = NULL, n_pairs = 0;
	size_t cap_count = 0;
	int rc = 0;

	li->pos = calloc(x->n_ids + 1, sizeof(*li->pos));
	li->ns_ok = calloc(x->n_ns + 1, 1);
	if (!li->pos || !li->ns_ok) {
		rc = -ENOMEM;
		goto out;
	}
	/* pair numbers and how many identities hold each */
	for (size_t m = 0; m < x->n_ids; m++) {
		size_t id = x->ns_members[m];
		const struct seg_labels *l = x->ids[id].labels;

		li->pos[id] = (uint32_t)m;
		for (size_t j = 0; l && j < l->n; j++) {
			const uint32_t *p;

			if ((rc = pair_key(&sb, l->v[j].key, l->v[j].value)))
				goto out;
			p = segc_smap_get(&li->pairs, sb.p);
			if (p) {
				count[*p]++;
				continue;
			}
			if ((rc = segc_grow(&count, &cap_count, n_pairs + 1,
					    sizeof(*count))) ||
			    (rc = segc_smap_put(&li->pairs, sb.p, n_pairs)))
				goto out;
			count[n_pairs++] = 1;
		}
	}
	li->first = calloc(n_pairs + 1, sizeof(*li->first));
	if (!li->first) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n_pairs; i++)
		li->first[i + 1] = li->first[i] + count[i];
	li->idents = calloc(li->first[n_pairs] + 1, sizeof(*li->idents));
	if (!li->idents) {
		rc = -ENOMEM;
		goto out;
	}
	/* fill in ns_members order: each pair's identities come out sorted */
	for (uint32_t i = 0; i < n_pairs; i++)
		count[i] = li->first[i];
	for (size_t m = 0; m < x->n_ids; m++) {
		size_t id = x->ns_members[m];
		const struct seg_labels *l = x->ids[id].labels;

		for (size_t j = 0; l && j < l->n; j++) {
			if ((rc = pair_key(&sb, l->v[j].key, l->v[j].value)))
				goto out;
			li->idents[count[*segc_smap_get(&li->pairs, sb.p)]++] = (uint32_t)id;
		}
	}
	li->built = true;
out:
	free(count);
	seg_strbuf_free(&sb);
	return rc;
}

/* pair p's identities, or none when no identity holds it */
static size_t postings(struct ctx *x, const char *k, const char *v, const uint32_t **out)
{
	const uint32_t *p;

	/* not x->sb: it holds the caller's memo key */
	if (pair_key(&x->li.sb, k, v))
		return SIZE_MAX;
	p = segc_smap_get(&x->li.pairs, x->li.sb.p);
	if (!p) {
		*out = NULL;
		return 0;
	}
	*out = x->li.idents + x->li.first[*p];
	return x->li.first[*p + 1] - x->li.first[*p];
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int segc_label_candidates(struct ctx *x, const struct seg_selector *s,
			  const uint32_t **out, size_t *n)
{
	struct label_index *li = &x->li;
	const struct seg_sel_req *best = NULL;
	size_t best_n = SIZE_MAX, k = 0;
	const uint32_t *v;
	int rc;

	for (size_t i = 0; s && i < s->n_reqs; i++) {
		const struct seg_sel_req *r = &s->reqs[i];
		size_t total = 0;

		if (r->op != SEG_SEL_IN)
			continue;
		if (!li->built && (rc = build(x, li)))
			return rc;
		for (size_t j = 0; j < r->n_values; j++) {
			size_t c = postings(x, r->key, r->values[j], &v);

			if (c == SIZE_MAX)
				return -ENOMEM;
			total += c;
		}
		if (total < best_n) {
			best = r;
			best_n = total;
		}
	}
	if (!best)
		return -ENOENT;
	if (best->n_values == 1) {
		*n = postings(x, best->key, best->values[0], out);
		return 0;
	}
	/* several values: their identities merged back into ns_members order
	 * (an identity has one value per key: no repeats) */
	if ((rc = segc_grow(&li->scratch, &li->cap_scratch, best_n + 1,
			    sizeof(*li->scratch))) ||
	    (rc = segc_grow(&li->cand, &li->cap_cand, best_n + 1, sizeof(*li->cand))))
		return rc;
	for (size_t j = 0; j < best->n_values; j++) {
		size_t c = postings(x, best->key, best->values[j], &v);

		for (size_t i = 0; i < c; i++)
			li->scratch[k++] = (uint64_t)li->pos[v[i]] << 32 | v[i];
	}
	qsort(li->scratch, k, sizeof(*li->scratch), cmp_u64);
	for (size_t i = 0; i < k; i++)
		li->cand[i] = (uint32_t)li->scratch[i];
	*out = li->cand;
	*n = k;
	return 0;
}

void segc_label_index_free(struct label_index *li)
{
	segc_smap_free(&li->pairs);
	free(li->first);
	free(li->idents);
	free(li->pos);
	free(li->scratch);
	free(li->cand);
	free(li->ns_ok);
	seg_strbuf_free(&li->sb);
	memset(li, 0, sizeof(*li));
}
