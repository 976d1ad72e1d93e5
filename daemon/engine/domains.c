/* domains.c - domainNames peers' names and addresses (domains.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "domains.h"
#include "engine.h"


static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct segd_domain *)elem)->name);
}

struct segd_domain *segd_domain_find(struct segd_domains *ds, const char *name)
{
	return ds->n ? bsearch(name, ds->v, ds->n, sizeof(*ds->v), cmp_name) : NULL;
}

static void domain_free(struct segd_domain *dn)
{
	free(dn->name);
	free(dn->addrs);
}

/* Forget a name; the table changes when it held addresses. */
static void domain_drop(struct segd_domains *ds, struct segd_domain *dn)
{
	ds->changed |= dn->n_addrs > 0;
	domain_free(dn);
}

/* Both lists are sorted: merge them, keeping the entries (and their
 * addresses) of names still used, new entries for new names. */
int segd_domains_track(struct segd *d)
{
	struct segd_domains *ds = &d->domains;
	struct segd_domain *v = NULL;
	const char **want = NULL;
	size_t n_want = 0, i = 0, j = 0, n = 0;
	int ret;

	if (ds->tracked)
		return 0;
	ret = seg_world_domains(&d->state.world, &want, &n_want);
	if (ret)
		return ret;
	ds->tracked = true;
	if (n_want == ds->n) {
		while (i < n_want && !strcmp(want[i], ds->v[i].name))
			i++;
		if (i == n_want)
			goto out; /* the same names: nothing to do */
		i = 0;
	}
	v = calloc(n_want ? n_want : 1, sizeof(*v));
	if (!v) {
		ds->tracked = false;
		ret = -ENOMEM;
		goto out;
	}
	for (; i < n_want; i++) {
		int c = 1;

		while (j < ds->n && (c = strcmp(ds->v[j].name, want[i])) < 0)
			domain_drop(ds, &ds->v[j++]); /* no policy uses it any more */
		if (j < ds->n && !c) {
			v[n++] = ds->v[j++];
			continue;
		}
		v[n].name = strdup(want[i]);
		if (!v[n].name) {
			/* keep what was merged so far: the rest is asked next tick */
			for (; j < ds->n; j++)
				domain_drop(ds, &ds->v[j]);
			ds->tracked = false;
			ret = -ENOMEM;
			break;
		}
		n++;
	}
	for (; j < ds->n; j++)
		domain_drop(ds, &ds->v[j]);
	free(ds->v);
	ds->v = v;
	ds->n = n;
out:
	free(want);
	return ret;
}

void segd_domain_answer(struct segd_domains *ds, struct segd_domain *dn, bool v4,
			const struct in6_addr *addrs, size_t n, int keep, int64_t now)
{
	size_t kept = 0;
	bool changed = false;

	for (size_t i = 0; i < n; i++) {
		struct segd_domain_addr *grown;
		size_t k = 0;
		int c = 1;

		/* kept sorted by address: status and the table read it so */
		while (k < dn->n_addrs && (c = memcmp(&dn->addrs[k].addr, &addrs[i], 16)) < 0)
			k++;
		if (k < dn->n_addrs && !c) {
			dn->addrs[k].expires = now + keep;
			continue;
		}
		grown = realloc(dn->addrs, (dn->n_addrs + 1) * sizeof(*grown));
		if (!grown)
			continue; /* asked again at the next TTL */
		dn->addrs = grown;
		memmove(&dn->addrs[k + 1], &dn->addrs[k], (dn->n_addrs - k) * sizeof(*grown));
		dn->addrs[k] = (struct segd_domain_addr){ addrs[i], now + keep };
		dn->n_addrs++;
		changed = true;
	}
	for (size_t k = 0; k < dn->n_addrs; k++) {
		bool is_v4 = IN6_IS_ADDR_V4MAPPED(&dn->addrs[k].addr);

		if (is_v4 == v4 && dn->addrs[k].expires < now) {
			changed = true;
			continue;
		}
		dn->addrs[kept++] = dn->addrs[k];
	}
	dn->n_addrs = kept;
	ds->changed |= changed;
}

/* The world's view of v: names with at least one address, sorted by
 * name, addresses sorted (v already is). */
static int table_build(const struct segd_domains *ds, struct seg_name_addrs **out,
		       size_t *n_out)
{
	struct seg_name_addrs *t = calloc(ds->n ? ds->n : 1, sizeof(*t));
	size_t n = 0;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < ds->n; i++) {
		const struct segd_domain *dn = &ds->v[i];

		if (!dn->n_addrs)
			continue;
		t[n].name = strdup(dn->name);
		t[n].ips = calloc(dn->n_addrs, sizeof(*t[n].ips));
		if (!t[n].name || !t[n].ips) {
			free(t[n].name);
			free(t[n].ips);
			seg_name_addrs_free(t, n);
			return -ENOMEM;
		}
		for (size_t k = 0; k < dn->n_addrs; k++)
			t[n].ips[k] = dn->addrs[k].addr;
		t[n].n_ips = dn->n_addrs; /* sorted and unique already */
		n++;
	}
	*out = t;
	*n_out = n;
	return 0;
}

int segd_domains_enforce(struct segd *d, struct seg_error *err)
{
	struct segd_domains *ds = &d->domains;
	struct seg_name_addrs *t = NULL;
	struct seg_compiled c;
	struct seg_world w;
	size_t n = 0;
	int ret;

	if (!ds->changed)
		return 0;
	ret = table_build(ds, &t, &n);
	if (ret)
		return seg_errorf(err, NULL, 0, 0, ret, "out of memory for resolved names");
	w = segd_candidate_of(d);
	w.names = t;
	w.n_names = n;
	ret = segd_compile_and_enforce(d, &w, false, &c, err, NULL);
	if (ret) {
		seg_name_addrs_free(t, n);
		return ret;
	}
	segd_install_compiled(d, &c);
	seg_name_addrs_free(ds->table, ds->n_table);
	ds->table = t;
	ds->n_table = n;
	ds->changed = false;
	return 0;
}

void segd_domains_free(struct segd_domains *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		domain_free(&ds->v[i]);
	free(ds->v);
	seg_name_addrs_free(ds->table, ds->n_table);
	memset(ds, 0, sizeof(*ds));
}
