/* ifc_image.c - the image of segd_ifc: the local addresses of every endpoint
 * interface, per policy slot, so the tc hooks check anti-spoofing (the
 * source of a from-endpoint packet) and not-endpoint (the destination of a
 * to-endpoint packet) with an inlined array lookup instead of a hash probe
 * of the exact ipcache (bpf/lib/policy.h, ifc_local). See segd_abi.h.
 *
 * An entry is derived from the normalized exact ipcache table of the slot
 * (policy_image.c): every address whose value has SEGD_EPF_LOCAL and a
 * given ifindex, with that value. It must be the COMPLETE list: the
 * datapath treats an address missing from a valid entry as foreign. An
 * interface with more than SEGD_IFC_ADDRS addresses, or whose bucket
 * another interface (lower ifindex) already holds, gets no entry and is
 * checked against the exact ipcache as before.
 *
 * Entries carry the generation they belong to and are rewritten at every
 * apply of their slot, after the grace period that lets seg_dp_apply touch
 * the slot (like segd_lhints): a packet only honours an entry of the
 * generation it runs under. Buckets written before and not now are
 * cleared; a slot whose buckets are unknown (first apply after open, a
 * failed write) is written whole. The datapath writes the records built
 * here (datapath_apply.c). Pure: no syscalls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_image.h"

struct ifc_ref {
	uint32_t ifindex;
	uint32_t rec;           /* record index in the exact table */
};

static int cmp_ref(const void *a, const void *b)
{
	const struct ifc_ref *x = a, *y = b;

	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

void seg_img_ifc_free(struct seg_img_ifc *f)
{
	free(f->ent);
	free(f->bucket);
	memset(f, 0, sizeof(*f));
}

int seg_img_ifc_build(const struct seg_img_table *exact, struct seg_img_ifc *out)
{
	const size_t ks = seg_img_key_size[SEG_IMG_EXACT], rs = ks + seg_img_value_size[SEG_IMG_EXACT];
	uint64_t claimed[SEGD_IFC_BUCKETS / 64] = { 0 };
	struct ifc_ref *r;
	size_t m = 0;

	memset(out, 0, sizeof(*out));
	if (!exact->n)
		return 0;
	if (exact->n > UINT32_MAX)
		return -E2BIG;
	r = malloc(exact->n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < exact->n; i++) {
		const struct segd_ipcache_value *iv =
			(const void *)(exact->rec + i * rs + ks);

		if (!(iv->flags & SEGD_EPF_LOCAL) || !iv->ifindex)
			continue;
		r[m].ifindex = iv->ifindex;
		r[m++].rec = (uint32_t)i;
	}
	if (m)
		qsort(r, m, sizeof(*r), cmp_ref);
	out->ent = calloc(m ? m : 1, sizeof(*out->ent));
	out->bucket = calloc(m ? m : 1, sizeof(*out->bucket));
	if (!out->ent || !out->bucket) {
		free(r);
		seg_img_ifc_free(out);
		return -ENOMEM;
	}
	for (size_t i = 0, j; i < m; i = j) {
		uint32_t b = r[i].ifindex & (SEGD_IFC_BUCKETS - 1);
		struct segd_ifc *e = &out->ent[out->n];

		for (j = i; j < m && r[j].ifindex == r[i].ifindex; j++)
			;
		if (j - i > SEGD_IFC_ADDRS ||
		    (claimed[b / 64] >> (b % 64) & 1))
			continue;       /* the exact ipcache answers for it */
		claimed[b / 64] |= 1ull << (b % 64);
		e->ifindex = r[i].ifindex;
		e->n = (uint32_t)(j - i);
		for (size_t k = i; k < j; k++) {
			const uint8_t *rec = exact->rec + (size_t)r[k].rec * rs;

			memcpy(&e->a[k - i].addr, rec, ks);
			memcpy(&e->a[k - i].val, rec + ks, sizeof(e->a[0].val));
		}
		out->bucket[out->n++] = b;
	}
	free(r);
	return 0;
}

static bool used(const uint64_t *set, uint32_t b)
{
	return set[b / 64] >> (b % 64) & 1;
}

bool seg_img_ifc_pending(const struct seg_img_ifc *f,
			 const struct seg_img_ifc_used *prev)
{
	if (f->n || !prev->known)
		return true;
	for (size_t i = 0; i < SEGD_IFC_BUCKETS / 64; i++)
		if (prev->used[i])
			return true;
	return false;
}

size_t seg_img_ifc_records(const struct seg_img_ifc *f, uint32_t slot,
			   uint32_t gen, const struct seg_img_ifc_used *prev,
			   uint32_t *keys, struct segd_ifc *vals,
			   struct seg_img_ifc_used *now)
{
	uint64_t written[SEGD_IFC_BUCKETS / 64] = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++) {
		uint32_t b = f->bucket[i];

		keys[n] = slot * SEGD_IFC_BUCKETS + b;
		memset(&vals[n], 0, sizeof(vals[n]));
		if (gen) {
			vals[n] = f->ent[i];
			vals[n].gen = gen;
			vals[n].flags = SEGD_IFCF_VALID;
		}       /* else: cleared */
		n++;
		written[b / 64] |= 1ull << (b % 64);
	}
	/* what an earlier write left in the slot (all of it when unknown) */
	for (uint32_t b = 0; b < SEGD_IFC_BUCKETS; b++) {
		if (used(written, b) || (prev->known && !used(prev->used, b)))
			continue;
		keys[n] = slot * SEGD_IFC_BUCKETS + b;
		memset(&vals[n++], 0, sizeof(vals[0]));
	}
	now->known = true;
	if (gen)
		memcpy(now->used, written, sizeof(written));
	else
		memset(now->used, 0, sizeof(now->used));
	return n;
}
