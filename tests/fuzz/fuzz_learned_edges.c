/* fuzz_learned_edges.c - libFuzzer target for the learned-edges file and
 * what is recommended from it: never crash; what loads saves to a text
 * that loads back to the same text, and every recommendation (both kinds)
 * is policy the parser takes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "edges.h"
#include "policy_parse.h"
#include "recommend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_parse(const struct seg_edges *e, enum seg_rec_kind kind)
{
	struct seg_rec_opts o = { .kind = kind };
	struct seg_rec_summary sum;
	struct seg_policy *p = NULL;
	size_t len, n = 0;
	char *text;

	if (seg_recommend(e, NULL, &o, &text, &len, &sum, NULL))
		return;                 /* out of memory only */
	if (seg_policy_parse(text, len, "rec", NULL, &p, &n, NULL))
		abort();
	seg_policies_free(p, n);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_edges *e = NULL, *back = NULL;
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2;

	if (seg_edges_new(1000, &e) || seg_edges_new(1000, &back))
		goto out;
	if (seg_edges_load(e, (const char *)data, size, NULL))
		goto out;
	if (seg_edges_save(e, &t1, &l1))
		goto out;
	if (seg_edges_load(back, t1, l1, NULL) || seg_edges_save(back, &t2, &l2) ||
	    l1 != l2 || memcmp(t1, t2, l1))
		abort();
	must_parse(e, SEG_REC_SEGMENTPOLICY);
	must_parse(e, SEG_REC_NETWORKPOLICY);
out:
	free(t1);
	free(t2);
	seg_edges_free(back);
	seg_edges_free(e);
	return 0;
}
