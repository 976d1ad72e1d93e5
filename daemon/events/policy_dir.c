/* policy_dir.c - the policy directory: every *.yaml, *.yml or *.json file
 * in it (hidden names skipped) is applied together, exactly like `segctl
 * apply FILE...` (the caller's ops: segd_apply), whenever the directory
 * changes. The directory owns the policies it defined: a policy whose
 * source file lies in the directory and that no file defines any more is
 * deleted (segd_policy_delete). A bad file rejects the whole round: it is
 * logged with file:line:col and the policies in force stay as they were.
 *
 * A mounted ConfigMap is written by the kubelet's atomic writer: the data
 * lives in a timestamped directory "..2026_11_21_..."; "..data" is a
 * symlink to it, renamed over in one step on an update; every key is a
 * symlink "KEY -> ..data/KEY". The directory is watched with inotify
 * (not recursively: the rename of ..data and the key links are events of
 * the directory itself), and a round runs a short while after the last
 * event, so one update with its several steps is applied once, as a
 * whole. Files are read through their key links, so a round sees either
 * the old data or the new, never a mix.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "policy_dir.h"
#include "state.h"
#include "yaml_util.h"

#define DEBOUNCE_MS 150

struct segd_policy_dir {
	struct segd *d;
	struct segd_policy_dir_ops ops;
	char *dir;              /* without a trailing '/' */
	int ifd;
	struct event *ev_notify;
	struct event *ev_round;
};

struct dir_files {
	struct segd_apply_file *v;   /* names and texts owned */
	size_t n;
};

static void dir_files_free(struct dir_files *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free((char *)f->v[i].name);
		free((char *)f->v[i].text);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static bool policy_file_name(const char *name)
{
	const char *dot = strrchr(name, '.');

	return name[0] != '.' && dot &&
	       (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") || !strcmp(dot, ".json"));
}

/* The files as they are now, sorted by name. */
static int read_dir(const char *dir, struct dir_files *out)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), ret = 0;

	memset(out, 0, sizeof(*out));
	if (n < 0)
		return -errno;
	out->v = calloc((size_t)n + 1, sizeof(*out->v));
	if (!out->v)
		ret = -ENOMEM;
	for (int i = 0; i < n; i++) {
		char path[4096], *text = NULL, *name;
		struct stat st;
		size_t len;

		if (!ret && policy_file_name(names[i]->d_name)) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			/* stat follows the key link: a dangling one is a key
			 * that is going away */
			if (!stat(path, &st) && S_ISREG(st.st_mode) &&
			    !seg_read_file(path, &text, &len)) {
				if (!(name = strdup(path))) {
					free(text);
					ret = -ENOMEM;
				} else {
					out->v[out->n++] = (struct segd_apply_file){ name, text, len };
				}
			}
		}
		free(names[i]);
	}
	free(names);
	if (ret)
		dir_files_free(out);
	return ret;
}

static bool owned(const struct segd_policy_dir *pd, const struct seg_policy *p)
{
	size_t n = strlen(pd->dir);

	return p->source_file && !strncmp(p->source_file, pd->dir, n) &&
	       p->source_file[n] == '/' && !strchr(p->source_file + n + 1, '/');
}

/* Was ns/name among the policies the apply reported? A cluster-scoped
 * policy (ClusterNetworkPolicy) is reported without a namespace: its ns
 * is "". */
static bool reported(yaml_document_t *out, int res, const char *ns, const char *name)
{
	yaml_node_t *seq = yu_map_get(out, yu_node(out, res), "policies");

	for (size_t i = 0; i < yu_seq_len(seq); i++) {
		yaml_node_t *m = yu_seq_at(out, seq, i);
		const char *pns = yu_scalar(yu_map_get(out, m, "namespace"));
		const char *pname = yu_scalar(yu_map_get(out, m, "name"));

		if (!pns)
			pns = "";
		if (pname && !strcmp(pns, ns) && !strcmp(pname, name))
			return true;
	}
	return false;
}

/* Delete the directory's policies that no file defines now. */
static size_t delete_gone(struct segd_policy_dir *pd, yaml_document_t *out, int res)
{
	struct segd *d = pd->d;
	size_t removed = 0;

	for (size_t i = 0; i < d->state.world.n_policies;) {
		struct seg_policy *p = &d->state.world.policies[i];
		struct seg_error err = { 0 };
		yaml_document_t scratch;
		char ns[256], name[256];
		int ret;

		if (!owned(pd, p) || (res >= 0 && reported(out, res, p->ns, p->name))) {
			i++;
			continue;
		}
		snprintf(ns, sizeof(ns), "%s", p->ns);
		snprintf(name, sizeof(name), "%s", p->name);
		if (yu_doc_init_map(&scratch) < 0)
			break;
		ret = pd->ops.remove(d, ns, name, &scratch, yu_add_map(&scratch), &err);
		yaml_document_delete(&scratch);
		if (ret) {
			seg_log(SEG_LOG_ERROR, "policy_dir: removing policy %s/%s failed: %s",
				*ns ? ns : "(cluster)", name, err.msg);
			i++;
			continue;
		}
		seg_log(SEG_LOG_INFO, "policy_dir: policy %s/%s removed: no file in %s "
			"defines it any more", *ns ? ns : "(cluster)", name, pd->dir);
		removed++;
		/* the array shifted: look at index i again */
	}
	return removed;
}

static void count_actions(yaml_document_t *out, int res, size_t counts[3])
{
	static const char *const names[] = { "created", "configured", "unchanged" };
	yaml_node_t *seq = yu_map_get(out, yu_node(out, res), "policies");

	for (size_t i = 0; i < yu_seq_len(seq); i++) {
		const char *a = yu_scalar(yu_map_get(out, yu_seq_at(out, seq, i), "action"));

		for (int k = 0; a && k < 3; k++)
			counts[k] += !strcmp(a, names[k]);
	}
}

static void apply_round(struct segd_policy_dir *pd)
{
	struct dir_files files;
	struct seg_error err = { 0 };
	yaml_document_t out;
	size_t counts[3] = { 0 }, removed;
	int res = -1, ret;

	ret = read_dir(pd->dir, &files);
	if (ret) {
		seg_log(SEG_LOG_ERROR, "policy_dir: cannot read %s: %s; the policies in "
			"force stay", pd->dir, strerror(-ret));
		return;
	}
	if (yu_doc_init_map(&out) < 0) {
		dir_files_free(&files);
		return;
	}
	if (files.n) {
		res = yu_add_map(&out);
		ret = pd->ops.apply(pd->d, files.v, files.n, "default", false, &out, res, &err);
		if (ret) {
			char msg[1024];

			seg_error_format(&err, msg, sizeof(msg));
			seg_log(SEG_LOG_ERROR, "policy_dir: %s; nothing applied, the "
				"policies in force stay until the files are fixed", msg);
			goto out;
		}
		count_actions(&out, res, counts);
	}
	removed = delete_gone(pd, &out, res);
	seg_log(SEG_LOG_INFO, "policy_dir: %s: %zu files, policies %zu created, %zu "
		"configured, %zu unchanged, %zu removed", pd->dir, files.n, counts[0],
		counts[1], counts[2], removed);
out:
	yaml_document_delete(&out);
	dir_files_free(&files);
}

static void on_round(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	apply_round(arg);
}

static void on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct segd_policy_dir *pd = arg;
	struct timeval later = { .tv_usec = DEBOUNCE_MS * 1000 };
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;  /* which file changed does not matter: a round reads all */
	event_add(pd->ev_round, &later);   /* re-arms: the last event counts */
}

int segd_policy_dir_new(struct event_base *base, struct segd *d,
			const struct segd_policy_dir_ops *ops,
			struct segd_policy_dir **out)
{
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM |
			      IN_CLOSE_WRITE | IN_ATTRIB;
	struct segd_policy_dir *pd;
	size_t len;
	int ret;

	*out = NULL;
	if (!d->cfg.policy_dir)
		return 0;
	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return -ENOMEM;
	pd->d = d;
	pd->ops = *ops;
	pd->ifd = -1;
	pd->dir = strdup(d->cfg.policy_dir);
	if (!pd->dir) {
		ret = -ENOMEM;
		goto fail;
	}
	len = strlen(pd->dir);
	while (len > 1 && pd->dir[len - 1] == '/')
		pd->dir[--len] = '\0';
	pd->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pd->ifd < 0 || inotify_add_watch(pd->ifd, pd->dir, mask) < 0) {
		ret = -errno;
		goto fail;
	}
	pd->ev_notify = event_new(base, pd->ifd, EV_READ | EV_PERSIST, on_notify, pd);
	pd->ev_round = event_new(base, -1, 0, on_round, pd);
	if (!pd->ev_notify || !pd->ev_round || event_add(pd->ev_notify, NULL)) {
		ret = -ENOMEM;
		goto fail;
	}
	apply_round(pd);
	*out = pd;
	return 0;
fail:
	segd_policy_dir_free(pd);
	return ret;
}

void segd_policy_dir_free(struct segd_policy_dir *pd)
{
	if (!pd)
		return;
	if (pd->ev_notify)
		event_free(pd->ev_notify);
	if (pd->ev_round)
		event_free(pd->ev_round);
	if (pd->ifd >= 0)
		close(pd->ifd);
	free(pd->dir);
	free(pd);
}
