/* lists.c - the life of an indicator list: names, merging
 * every list into the maps, persistence, building from a feed, expiry and
 * restore. The requests that drive it are in control_blocklist.c.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "timetext.h"
#include "engine.h"
#include "lists_int.h"
#include "log.h"
#include "state.h"
#include "yaml_util.h"

#define LIST_DIR "blocklists"

/* ---- names and paths ------------------------------------------------------- */

bool segd_list_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static void list_path(char *buf, size_t len, const char *dir, const char *name,
		      const char *ext)
{
	snprintf(buf, len, "%s/" LIST_DIR "/%s.%s", dir, name, ext);
}

struct segd_list *segd_list_find(struct segd *d, const char *name)
{
	for (size_t i = 0; i < d->n_lists; i++)
		if (!strcmp(d->lists[i].bl.name, name))
			return &d->lists[i];
	return NULL;
}

uint16_t segd_list_free_id(const struct segd *d)
{
	for (uint16_t id = 1; id < SEGD_MAX_BLOCKLISTS; id++) {
		bool used = false;

		for (size_t i = 0; i < d->n_lists && !used; i++)
			used = d->lists[i].id == id;
		if (!used)
			return id;
	}
	return 0;
}

void segd_list_free(struct segd_list *l)
{
	seg_blocklist_free(&l->bl);
	free(l->file);
	free(l->resolved);
	free(l->next_query);
	free(l->pending);
	memset(l, 0, sizeof(*l));
}

/* ---- merge and write --------------------------------------------------------- */

/* Compile `lists` (some may be the candidate replacing a current one):
 * blocklists by id (list id i+1 sits at index i), exceptions apart. */
/* A list's entries plus what its domains resolved to, in entry order. */
struct seg_bl_entry *segd_list_with_resolved(const struct segd_list *l, size_t *n_out)
{
	size_t n = l->bl.n_entries, k = 0;
	struct seg_bl_entry *v = malloc((n + l->n_resolved + 1) * sizeof(*v));

	if (!v)
		return NULL;
	memcpy(v, l->bl.entries, n * sizeof(*v));
	for (size_t i = 0; i < l->n_resolved; i++)
		v[n + i] = (struct seg_bl_entry){ { l->resolved[i].addr, 128 }, 0 };
	n += l->n_resolved;
	qsort(v, n, sizeof(*v), seg_bl_entry_cmp);
	for (size_t i = 0; i < n; i++) /* two names may share an address */
		if (!k || seg_bl_entry_cmp(&v[k - 1], &v[i]))
			v[k++] = v[i];
	*n_out = k;
	return v;
}

static int compile_lists(const struct segd_list *lists, size_t n,
			 struct seg_bl_compiled *out, struct seg_error *err)
{
	struct seg_blocklist *by_id = calloc(SEGD_MAX_BLOCKLISTS - 1, sizeof(*by_id));
	struct seg_bl_entry **merged = calloc(n + 1, sizeof(*merged));
	struct seg_cidr *exc = NULL;
	size_t n_exc = 0, cap = 0, top = 0;
	int ret = -ENOMEM;

	if (!by_id || !merged)
		goto out;
	/* ids freed by deleted lists stay as empty lists: ids are stable */
	for (size_t i = 0; i < SEGD_MAX_BLOCKLISTS - 1; i++)
		by_id[i] = (struct seg_blocklist){ .name = "", .category = SEGD_BL_CUSTOM,
						   .action = SEGD_BL_DROP };
	for (size_t i = 0; i < n; i++) {
		const struct segd_list *l = &lists[i];

		if (!l->exception) {
			by_id[l->id - 1] = l->bl; /* shallow: compile only reads */
			if (l->n_resolved) {
				merged[i] = segd_list_with_resolved(l, &by_id[l->id - 1].n_entries);
				if (!merged[i])
					goto out;
				by_id[l->id - 1].entries = merged[i];
			}
			if (l->id > top)
				top = l->id;
			continue;
		}
		for (size_t k = 0; k < l->bl.n_entries; k++) {
			if (n_exc == cap) {
				struct seg_cidr *g = realloc(exc, (cap = cap * 2 + 64) * sizeof(*g));

				if (!g)
					goto out;
				exc = g;
			}
			exc[n_exc++] = l->bl.entries[k].cidr;
		}
	}
	memset(out, 0, sizeof(*out));
	ret = seg_blocklists_compile(by_id, top, exc, n_exc, out, err);
out:
	for (size_t i = 0; merged && i < n; i++)
		free(merged[i]);
	free(merged);
	free(by_id);
	free(exc);
	return ret;
}

/* Make the kernel hold `next` and re-check established flows. */
static int write_lists(struct segd *d, struct seg_bl_compiled *next, struct seg_error *err)
{
	int ret;

	if (!d->dp)
		return 0;
	ret = seg_dp_blocklists_write(d->dp, d->bl_written, next);
	if (!ret)
		ret = seg_dp_apply(d->dp, &d->compiled); /* new generation */
	if (ret)
		return seg_errorf(err, NULL, 0, 0, ret, "writing the blocklist maps failed "
				  "(%s); the previous lists stay in force", strerror(-ret));
	return 0;
}

static void install_written(struct segd *d, struct seg_bl_compiled *next)
{
	if (!d->bl_written && !(d->bl_written = calloc(1, sizeof(*d->bl_written)))) {
		seg_bl_compiled_free(next);
		return; /* unknown from now on: the next write scans the maps */
	}
	seg_bl_compiled_free(d->bl_written);
	*d->bl_written = *next;
	memset(next, 0, sizeof(*next));
}

/* Compile the candidate set, write it, and install it as the written one. */
int segd_lists_enforce(struct segd *d, const struct segd_list *lists, size_t n,
			 struct seg_error *err)
{
	struct seg_bl_compiled next;
	int ret = compile_lists(lists, n, &next, err);

	if (ret)
		return ret;
	ret = write_lists(d, &next, err);
	if (ret) {
		seg_bl_compiled_free(&next);
		return ret;
	}
	install_written(d, &next);
	return 0;
}

/* ---- persistence --------------------------------------------------------------- */

static int save_meta(const struct segd *d, const struct segd_list *l)
{
	char path[4096], cidr[64], *text = NULL;
	yaml_document_t doc;
	int root = yu_doc_init_map(&doc), allow, ret = -ENOMEM;

	if (root < 0)
		return root;
	if (yu_set_str(&doc, root, "name", l->bl.name) ||
	    yu_set_uint(&doc, root, "id", l->id) ||
	    yu_set_str(&doc, root, "category", l->exception ? "exception" :
			seg_bl_category_name(l->bl.category)) ||
	    yu_set_str(&doc, root, "action", seg_bl_action_name(l->bl.action)) ||
	    yu_set_str(&doc, root, "format", seg_bl_format_name(l->bl.format)) ||
	    yu_set_int(&doc, root, "expires", l->bl.expires) ||
	    yu_set_int(&doc, root, "loaded_at", l->loaded_at) ||
	    yu_set_str(&doc, root, "file", l->file ? l->file : "") ||
	    yu_set_bool(&doc, root, "from_feeds_dir", l->from_dir) ||
	    yu_set_int(&doc, root, "feed_mtime", l->feed_mtime) ||
	    yu_set_int(&doc, root, "feed_size", l->feed_size) ||
	    (allow = yu_add_seq(&doc)) < 0 || yu_set(&doc, root, "allow", allow))
		goto out;
	for (size_t i = 0; i < l->n_allow; i++) {
		seg_cidr_format(&l->allow[i], cidr, sizeof(cidr));
		if (yu_append(&doc, allow, yu_add_str(&doc, cidr)))
			goto out;
	}
	ret = yu_dump(&doc, &text, NULL);
	if (ret)
		goto out;
	list_path(path, sizeof(path), d->cfg.state_dir, l->bl.name, "yaml");
	ret = seg_write_file_atomic(path, text, strlen(text), 0600);
out:
	free(text);
	yaml_document_delete(&doc);
	return ret;
}

/* The feed as received goes next to its meta file: a restart parses it
 * again (so a better parser improves old lists too). */
int segd_list_save(const struct segd *d, const struct segd_list *l,
		     const char *feed, size_t len)
{
	char path[4096];
	int ret;

	if (!d->cfg.state_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/" LIST_DIR, d->cfg.state_dir);
	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	list_path(path, sizeof(path), d->cfg.state_dir, l->bl.name, "feed");
	ret = seg_write_file_atomic(path, feed, len, 0600);
	return ret ? ret : save_meta(d, l);
}

void segd_list_remove_files(const struct segd *d, const char *name)
{
	char path[4096];

	if (!d->cfg.state_dir)
		return;
	list_path(path, sizeof(path), d->cfg.state_dir, name, "yaml");
	unlink(path);
	list_path(path, sizeof(path), d->cfg.state_dir, name, "feed");
	unlink(path);
}

/* ---- building a list ---------------------------------------------------------------- */

int segd_list_parse_expiry(const char *s, int64_t now, int64_t *out)
{
	char *end;
	int64_t secs;
	struct tm tm = { 0 };

	if (!s || !*s || !strcmp(s, "never")) {
		*out = 0;
		return 0;
	}
	if (!seg_duration_parse(s, &secs)) {
		*out = now + secs;
		return 0;
	}
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (end && !*end) {
		*out = (int64_t)timegm(&tm);
		return 0;
	}
	return -EINVAL;
}

/* Gather every address the safety check must keep reachable. */
static int safety_of(struct segd *d, const struct segd_list *l,
		     struct seg_bl_safety *s, struct in6_addr **eps)
{
	size_t n = 0;

	for (size_t i = 0; i < d->state.world.n_endpoints; i++)
		n += d->state.world.endpoints[i].n_ips;
	*eps = calloc(n + 1, sizeof(**eps));
	if (!*eps)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < d->state.world.n_endpoints; i++)
		for (size_t k = 0; k < d->state.world.endpoints[i].n_ips; k++)
			(*eps)[n++] = d->state.world.endpoints[i].ips[k];
	*s = (struct seg_bl_safety){
		.node_addrs = d->cfg.node_addrs, .n_node_addrs = d->cfg.n_node_addrs,
		.ep_addrs = *eps, .n_ep_addrs = n,
		.allowed = l->allow, .n_allowed = l->n_allow,
	};
	return 0;
}

/* Parse feed into l (whose name, id, flags and allow are set). */
int segd_list_build(struct segd *d, struct segd_list *l, const char *feed, size_t len,
		      const char *file, enum seg_bl_format fmt, enum segd_bl_category cat,
		      enum segd_bl_action act, int64_t expires, struct seg_error *err)
{
	struct seg_bl_safety safety;
	struct in6_addr *eps = NULL;
	char *name = l->bl.name;
	int ret;

	l->bl.name = NULL;
	ret = seg_blocklist_parse(feed, len, file, fmt, &l->bl, err);
	l->bl.name = name;
	if (ret)
		return ret;
	l->bl.category = cat;
	l->bl.action = act;
	l->bl.expires = expires;
	l->next_query = calloc(l->bl.n_domains + 1, sizeof(*l->next_query));
	l->pending = calloc(l->bl.n_domains + 1, sizeof(*l->pending));
	if (!l->next_query || !l->pending)
		return -ENOMEM;
	/* an exception list says what must stay reachable: no safety there */
	if (!l->exception) {
		ret = safety_of(d, l, &safety, &eps);
		if (ret)
			return ret;
		seg_blocklist_apply_safety(&l->bl, &safety);
		free(eps);
	}
	return 0;
}

static int cmp_domain(const void *key, const void *elem)
{
	return strcmp(key, *(char *const *)elem);
}

int segd_list_carry_resolved(const struct segd_list *old, struct segd_list *l)
{
	size_t n = 0;

	l->resolved = calloc(old->n_resolved + 1, sizeof(*l->resolved));
	if (!l->resolved)
		return -ENOMEM;
	for (size_t i = 0; i < old->n_resolved; i++) {
		const char *dom = old->bl.domains[old->resolved[i].domain];
		char **hit = bsearch(dom, l->bl.domains, l->bl.n_domains, sizeof(char *),
				     cmp_domain);

		if (!hit)
			continue;
		l->resolved[n] = old->resolved[i];
		l->resolved[n++].domain = (uint32_t)(hit - l->bl.domains);
	}
	l->n_resolved = n;
	return 0;
}


/* Give a list its entries back from its saved feed (after a failed reload
 * that had dropped them). */
void segd_list_reread_saved(struct segd *d, struct segd_list *l)
{
	struct segd_list fresh = { .id = l->id, .exception = l->exception,
				   .n_allow = l->n_allow };
	struct seg_error err = { 0 };
	char path[4096], *feed = NULL;
	size_t len;

	memcpy(fresh.allow, l->allow, sizeof(l->allow));
	fresh.bl.name = strdup(l->bl.name);
	list_path(path, sizeof(path), d->cfg.state_dir, l->bl.name, "feed");
	if (!fresh.bl.name || seg_read_file(path, &feed, &len) ||
	    segd_list_build(d, &fresh, feed, len, l->file, l->bl.format, l->bl.category,
		       l->bl.action, l->bl.expires, &err)) {
		seg_log(SEG_LOG_ERROR, "blocklist %s: reload failed and its saved feed "
			"could not be read back (%s); the kernel still holds its "
			"entries, `segctl blocklist load` it again", l->bl.name, err.msg);
		free(feed);
		segd_list_free(&fresh);
		return;
	}
	free(feed);
	seg_blocklist_free(&l->bl);
	l->bl = fresh.bl;
	free(l->next_query);
	free(l->pending);
	l->next_query = fresh.next_query;
	l->pending = fresh.pending;
	free(fresh.file);
}

int segd_list_install(struct segd *d, struct segd_list *cand, const char *feed, size_t len,
		      enum seg_bl_format fmt, enum segd_bl_category cat,
		      enum segd_bl_action act, int64_t expires, struct segd_list **out,
		      struct seg_error *err)
{
	struct segd_list *old = segd_list_find(d, cand->bl.name), *arr = NULL;
	bool dropped_old = false;
	size_t n;
	int ret;

	cand->id = old ? old->id : segd_list_free_id(d);
	if (!cand->id)
		return seg_errorf(err, NULL, 0, 0, -ENOSPC, "at most %d lists; delete one "
				  "first", SEGD_MAX_BLOCKLISTS - 1);
	cand->loaded_at = (int64_t)time(NULL);
	/* a big reload would hold the old and the new entries at once; the
	 * old ones only serve a rollback (the kernel enforces them until the
	 * write), and the saved feed gives them back. Dropped before parsing,
	 * where the new list is biggest. */
	if (old && d->cfg.state_dir && old->bl.n_entries >= BIG_LIST) {
		free(old->bl.entries);
		old->bl.entries = NULL;
		old->bl.n_entries = 0;
		dropped_old = true;
		malloc_trim(0);
	}
	ret = segd_list_build(d, cand, feed, len, cand->file, fmt, cat, act, expires, err);
	/* a reloaded domain list keeps what its names resolved to, so the
	 * reload opens no gap while they are asked again */
	if (!ret && old)
		ret = segd_list_carry_resolved(old, cand);
	/* candidate set: the current lists with this one put in */
	n = d->n_lists;
	if (!ret && !(arr = calloc(n + 1, sizeof(*arr))))
		ret = -ENOMEM;
	if (!ret) {
		memcpy(arr, d->lists, n * sizeof(*arr));
		arr[old ? (size_t)(old - d->lists) : n++] = *cand;
		ret = segd_lists_enforce(d, arr, n, err);
	}
	if (ret) {
		if (dropped_old)
			segd_list_reread_saved(d, old);
		free(arr);
		return ret;
	}
	/* commit: the candidate moves into the set */
	if (!old && d->dp)
		seg_dp_blocklist_counter_reset(d->dp, cand->id);
	if (old)
		segd_list_free(old);
	free(d->lists);
	d->lists = arr;
	d->n_lists = n;
	*out = segd_list_find(d, cand->bl.name);
	memset(cand, 0, sizeof(*cand));
	if (d->lists_changed)   /* the resolver: new names to ask */
		d->lists_changed(d->lists_changed_ctx);
	malloc_trim(0); /* hand the replaced list's memory back */
	ret = segd_list_save(d, *out, feed, len);
	if (ret)
		return seg_errorf(err, d->cfg.state_dir, 0, 0, ret, "loaded, but saving "
				  "it failed (%s): it is lost on restart", strerror(-ret));
	return 0;
}

int segd_list_delete(struct segd *d, struct segd_list *l, struct seg_error *err)
{
	size_t idx = (size_t)(l - d->lists), n = d->n_lists;
	struct segd_list *arr = calloc(n, sizeof(*arr));
	int ret;

	if (!arr)
		return -ENOMEM;
	memcpy(arr, d->lists, idx * sizeof(*arr));
	memcpy(arr + idx, l + 1, (n - idx - 1) * sizeof(*arr));
	ret = segd_lists_enforce(d, arr, n - 1, err);
	if (ret) {
		free(arr);
		return ret;
	}
	segd_list_remove_files(d, l->bl.name);
	segd_list_free(l);
	free(d->lists);
	d->lists = arr;
	d->n_lists = n - 1;
	malloc_trim(0);
	return 0;
}

int segd_blocklists_rewrite(struct segd *d, struct seg_error *err)
{
	return segd_lists_enforce(d, d->lists, d->n_lists, err);
}

bool segd_list_address_allowed(struct segd *d, const struct segd_list *l,
			       const struct in6_addr *a)
{
	struct seg_bl_entry e = { { *a, 128 }, 0 };
	struct seg_blocklist probe = { .entries = &e, .n_entries = 1 };
	struct seg_bl_safety safety;
	struct in6_addr *eps = NULL;
	bool ok;

	if (l->exception)
		return true;
	if (safety_of(d, l, &safety, &eps))
		return false;
	seg_blocklist_apply_safety(&probe, &safety);
	ok = probe.n_entries == 1;
	free(eps);
	free(probe.problems);
	return ok;
}

/* ---- expiry and restore ------------------------------------------------------------ */

int segd_blocklists_expire(struct segd *d, int64_t now)
{
	struct seg_error err = { 0 };
	struct segd_list *arr;
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < d->n_lists; i++)
		n += !(d->lists[i].bl.expires && d->lists[i].bl.expires <= now);
	if (n == d->n_lists)
		return 0;
	arr = calloc(n + 1, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	n = 0;
	for (size_t i = 0; i < d->n_lists; i++)
		if (!(d->lists[i].bl.expires && d->lists[i].bl.expires <= now))
			arr[n++] = d->lists[i];
	ret = segd_lists_enforce(d, arr, n, &err);
	if (ret) {
		seg_log(SEG_LOG_WARN, "expiring blocklists failed: %s; retrying later", err.msg);
		free(arr);
		return ret;
	}
	for (size_t i = 0; i < d->n_lists; i++) {
		struct segd_list *l = &d->lists[i];

		if (!(l->bl.expires && l->bl.expires <= now))
			continue;
		seg_log(SEG_LOG_INFO, "blocklist %s expired; removed", l->bl.name);
		segd_list_remove_files(d, l->bl.name);
		segd_list_free(l);
	}
	free(d->lists);
	d->lists = arr;
	d->n_lists = n;
	return 0;
}

static int restore_one(struct segd *d, const char *meta_path, struct seg_error *err)
{
	char *text = NULL, *feed = NULL, path[4096];
	yaml_document_t doc;
	yaml_node_t *root, *allow;
	struct segd_list l = { 0 }, *grown;
	enum seg_bl_format fmt = SEG_BL_FMT_AUTO;
	enum segd_bl_category cat = SEGD_BL_CUSTOM;
	enum segd_bl_action act = SEGD_BL_DROP;
	const char *name, *c, *file;
	int64_t id = 0, expires = 0, loaded = 0;
	size_t len, flen;
	int ret = seg_read_file(meta_path, &text, &len);

	if (ret)
		return seg_errorf(err, meta_path, 0, 0, ret, "%s", strerror(-ret));
	ret = yu_load_one(text, len, meta_path, &doc, err);
	free(text);
	if (ret)
		return ret;
	root = yu_root(&doc);
	name = yu_scalar(yu_map_get(&doc, root, "name"));
	c = yu_scalar(yu_map_get(&doc, root, "category"));
	file = yu_scalar(yu_map_get(&doc, root, "file"));
	if (!name || !segd_list_name_valid(name) || !c ||
	    yu_int(yu_map_get(&doc, root, "id"), 1, SEGD_MAX_BLOCKLISTS - 1, &id)) {
		ret = seg_errorf(err, meta_path, 1, 1, -EINVAL, "not a blocklist meta file");
		goto out;
	}
	yu_int(yu_map_get(&doc, root, "expires"), 0, INT64_MAX, &expires);
	yu_int(yu_map_get(&doc, root, "loaded_at"), 0, INT64_MAX, &loaded);
	seg_bl_format_parse(yu_scalar(yu_map_get(&doc, root, "format")), &fmt);
	seg_bl_action_parse(yu_scalar(yu_map_get(&doc, root, "action")), &act);
	l.exception = !strcmp(c, "exception");
	if (!l.exception)
		seg_bl_category_parse(c, &cat);
	allow = yu_map_get(&doc, root, "allow");
	for (size_t i = 0; i < yu_seq_len(allow) && l.n_allow < SEGD_MAX_ALLOW; i++) {
		const char *s = yu_scalar(yu_seq_at(&doc, allow, i));

		if (s && !seg_cidr_parse(s, &l.allow[l.n_allow], NULL))
			l.n_allow++;
	}
	l.id = (uint16_t)id;
	l.loaded_at = loaded;
	yu_bool(yu_map_get(&doc, root, "from_feeds_dir"), &l.from_dir);
	yu_int(yu_map_get(&doc, root, "feed_mtime"), 0, INT64_MAX, &l.feed_mtime);
	yu_int(yu_map_get(&doc, root, "feed_size"), 0, INT64_MAX, &l.feed_size);
	l.bl.name = strdup(name);
	l.file = strdup(file ? file : "");
	list_path(path, sizeof(path), d->cfg.state_dir, name, "feed");
	ret = seg_read_file(path, &feed, &flen);
	if (ret) {
		ret = seg_errorf(err, path, 0, 0, ret, "%s", strerror(-ret));
		goto out;
	}
	ret = segd_list_build(d, &l, feed, flen, l.file, fmt, cat, act, expires, err);
	free(feed);
	if (ret)
		goto out;
	grown = realloc(d->lists, (d->n_lists + 1) * sizeof(*grown));
	if (!grown) {
		ret = -ENOMEM;
		goto out;
	}
	d->lists = grown;
	d->lists[d->n_lists++] = l;
	memset(&l, 0, sizeof(l));
out:
	segd_list_free(&l);
	yaml_document_delete(&doc);
	return ret;
}

int segd_blocklists_restore(struct segd *d, struct seg_error *err)
{
	char path[4096];
	struct dirent **names = NULL;
	int n;

	if (!d->cfg.state_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/" LIST_DIR, d->cfg.state_dir);
	n = scandir(path, &names, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		const char *f = names[i]->d_name;
		size_t fl = strlen(f);
		struct seg_error e = { 0 };

		if (fl > 5 && !strcmp(f + fl - 5, ".yaml")) {
			snprintf(path, sizeof(path), "%s/" LIST_DIR "/%s", d->cfg.state_dir, f);
			if (restore_one(d, path, &e)) {
				char msg[1024];

				seg_error_format(&e, msg, sizeof(msg));
				seg_log(SEG_LOG_ERROR, "blocklist not restored: %s", msg);
			}
		}
		free(names[i]);
	}
	free(names);
	/* the maps may hold anything a previous segd wrote: written = unknown */
	return d->n_lists || d->dp ? segd_lists_enforce(d, d->lists, d->n_lists, err) : 0;
}

void segd_blocklists_free(struct segd *d)
{
	for (size_t i = 0; i < d->n_lists; i++)
		segd_list_free(&d->lists[i]);
	free(d->lists);
	d->lists = NULL;
	d->n_lists = 0;
	if (d->bl_written)
		seg_bl_compiled_free(d->bl_written);
	free(d->bl_written);
	d->bl_written = NULL;
}

int segd_lists_view(struct segd *d, struct segd_lists_view *v)
{
	size_t cap = 0;

	memset(v, 0, sizeof(*v));
	v->lists = calloc(d->n_lists + 1, sizeof(*v->lists));
	v->exception = calloc(d->n_lists + 1, sizeof(*v->exception));
	v->merged = calloc(d->n_lists + 1, sizeof(*v->merged));
	if (!v->lists || !v->exception || !v->merged)
		goto nomem;
	v->n_lists = d->n_lists;
	for (size_t i = 0; i < d->n_lists; i++) {
		v->lists[i] = d->lists[i].bl;
		v->exception[i] = d->lists[i].exception;
		if (d->lists[i].n_resolved) {
			v->merged[i] = segd_list_with_resolved(&d->lists[i], &v->lists[i].n_entries);
			if (!v->merged[i])
				goto nomem;
			v->lists[i].entries = v->merged[i];
		}
		for (size_t k = 0; d->lists[i].exception && k < v->lists[i].n_entries; k++) {
			if (v->n_exceptions == cap) {
				struct seg_cidr *g = realloc(v->exceptions,
							     (cap = cap * 2 + 64) * sizeof(*g));

				if (!g)
					goto nomem;
				v->exceptions = g;
			}
			v->exceptions[v->n_exceptions++] = v->lists[i].entries[k].cidr;
		}
	}
	return 0;
nomem:
	segd_lists_view_free(v);
	return -ENOMEM;
}

void segd_lists_view_free(struct segd_lists_view *v)
{
	for (size_t i = 0; v->merged && i < v->n_lists; i++)
		free(v->merged[i]);
	free(v->merged);
	free(v->lists);
	free(v->exception);
	free(v->exceptions);
	memset(v, 0, sizeof(*v));
}
