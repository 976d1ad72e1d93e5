/* feeds_dir.c - lists from a directory a feed updater writes (config key
 * feeds_dir). A file NAME.CATEGORY[.anything] (category miner, c2, custom
 * or exception; e.g. feodo.c2.csv) is list NAME, format detected from its
 * content. segd looks every few seconds: a new or changed file (size or
 * mtime) is loaded like `segctl blocklist load`, a file that went away
 * removes its list. Updaters should write a temp file and rename it, so a
 * half-written file is never seen.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "lists_int.h"
#include "feeds_dir.h"
#include "log.h"
#include "state.h"

#define SCAN_SECONDS 5

struct segd_feeds {
	struct segd *d;
	struct event *tick;
};

/* "NAME.CATEGORY..." -> name, category; false when it does not fit. */
static bool split_name(const char *file, char *name, size_t nlen, char *cat, size_t clen)
{
	const char *dot = strchr(file, '.'), *dot2;

	if (!dot || dot == file || (size_t)(dot - file) >= nlen)
		return false;
	dot2 = strchr(dot + 1, '.');
	if (!dot2)
		dot2 = dot + strlen(dot);
	if (dot2 == dot + 1 || (size_t)(dot2 - dot - 1) >= clen)
		return false;
	snprintf(name, nlen, "%.*s", (int)(dot - file), file);
	snprintf(cat, clen, "%.*s", (int)(dot2 - dot - 1), dot + 1);
	return segd_list_name_valid(name);
}

static void load_file(struct segd *d, const char *dir, const char *file,
		      const struct stat *st)
{
	char name[64], cat[32], path[4096], *feed = NULL;
	struct segd_list cand = { 0 }, *l;
	enum segd_bl_category category = SEGD_BL_CUSTOM;
	struct seg_error err = { 0 };
	size_t len;

	if (!split_name(file, name, sizeof(name), cat, sizeof(cat)))
		return;
	cand.exception = !strcmp(cat, "exception");
	if (!cand.exception && seg_bl_category_parse(cat, &category))
		return; /* not a list file */
	l = segd_list_find(d, name);
	if (l && l->feed_mtime == (int64_t)st->st_mtime && l->feed_size == (int64_t)st->st_size)
		return; /* unchanged */
	if (l && !l->from_dir) {
		seg_log(SEG_LOG_WARN, "feeds_dir: %s would replace list %s loaded with "
			"segctl; rename one of them", file, name);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (seg_read_file(path, &feed, &len)) {
		seg_log(SEG_LOG_WARN, "feeds_dir: cannot read %s", path);
		return;
	}
	cand.bl.name = strdup(name);
	cand.file = strdup(path);
	cand.from_dir = true;
	cand.feed_mtime = (int64_t)st->st_mtime;
	cand.feed_size = (int64_t)st->st_size;
	if (!cand.bl.name || !cand.file ||
	    segd_list_install(d, &cand, feed, len, SEG_BL_FMT_AUTO, category, SEGD_BL_DROP,
			      0, &l, &err)) {
		char msg[1024];

		seg_error_format(&err, msg, sizeof(msg));
		seg_log(SEG_LOG_WARN, "feeds_dir: %s not loaded: %s", path, msg);
	} else {
		seg_log(SEG_LOG_INFO, "feeds_dir: loaded %s as %s (%zu entries, %zu domains, "
			"%zu lines not loaded)", path, name, l->bl.n_entries, l->bl.n_domains,
			l->bl.n_problems_total);
	}
	segd_list_free(&cand);
	free(feed);
}

/* Lists that came from the directory and whose file is gone. */
static void drop_missing(struct segd *d, const char *dir)
{
	for (size_t i = 0; i < d->n_lists; i++) {
		struct segd_list *l = &d->lists[i];
		struct stat st;
		struct seg_error err = { 0 };

		if (!l->from_dir || !l->file || !stat(l->file, &st) ||
		    strncmp(l->file, dir, strlen(dir)))
			continue;
		seg_log(SEG_LOG_INFO, "feeds_dir: %s is gone; removing list %s", l->file,
			l->bl.name);
		if (segd_list_delete(d, l, &err))
			seg_log(SEG_LOG_WARN, "feeds_dir: removing %s failed: %s",
				l->bl.name, err.msg);
		return; /* the array changed: the next scan goes on */
	}
}

static void scan(struct segd_feeds *f)
{
	const char *dir = f->d->cfg.feeds_dir;
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode))
			load_file(f->d, dir, names[i]->d_name, &st);
		free(names[i]);
	}
	free(names);
	drop_missing(f->d, dir);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	scan(arg);
}

int segd_feeds_new(struct event_base *base, struct segd *d, struct segd_feeds **out)
{
	struct segd_feeds *f;
	struct timeval every = { .tv_sec = SCAN_SECONDS };

	*out = NULL;
	if (!d->cfg.feeds_dir)
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->d = d;
	f->tick = event_new(base, -1, EV_PERSIST, on_tick, f);
	if (!f->tick || event_add(f->tick, &every)) {
		segd_feeds_free(f);
		return -ENOMEM;
	}
	scan(f);
	*out = f;
	return 0;
}

void segd_feeds_free(struct segd_feeds *f)
{
	if (!f)
		return;
	if (f->tick)
		event_free(f->tick);
	free(f);
}
