/* test_policy_dir.c - rounds of the policy directory (daemon/events/policy_dir.c)
 * on a daemon without a kernel: each segd_policy_dir_new applies the
 * directory once, as segd does at start and after every change. The
 * directory is laid out as the kubelet lays out a ConfigMap volume. */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "control.h"
#include "policy_dir.h"
#include "state.h"
#include "yaml_util.h"

static char dir[64];

static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* The kubelet's atomic writer: KEYs' texts into a new timestamped dir,
 * ..data renamed over, a link per key, links of gone keys removed. */
static void publish(int version, const char *const *keys, const char *const *texts, int n)
{
	char ts[64], path[256], tmp[256], link[256];

	snprintf(ts, sizeof(ts), "..2026_11_21_10_00_0%d.1234", version);
	snprintf(path, sizeof(path), "%s/%s", dir, ts);
	cr_assert_eq(mkdir(path, 0755), 0);
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", ts, keys[i]);
		put(path, texts[i]);
	}
	snprintf(tmp, sizeof(tmp), "%s/..data_tmp", dir);
	snprintf(path, sizeof(path), "%s/..data", dir);
	cr_assert_eq(symlink(ts, tmp), 0);
	cr_assert_eq(rename(tmp, path), 0);
	for (int i = 0; i < n; i++) {
		char target[128];

		snprintf(link, sizeof(link), "%s/%s", dir, keys[i]);
		snprintf(target, sizeof(target), "..data/%s", keys[i]);
		unlink(link);
		cr_assert_eq(symlink(target, link), 0);
	}
}

static const char *policy(const char *name, int port, char *buf, size_t len)
{
	snprintf(buf, len,
		 "apiVersion: segd.io/v1\nkind: SegmentPolicy\nmetadata: {name: %s}\n"
		 "spec:\n  ingress:\n    - ports: [{protocol: TCP, port: %d}]\n", name, port);
	return buf;
}

static void round_of(struct segd *d)
{
	struct event_base *base = event_base_new();
	struct segd_policy_dir *pd = NULL;

	cr_assert_not_null(base);
	static const struct segd_policy_dir_ops ops = { segd_apply, segd_policy_delete };

	cr_assert_eq(segd_policy_dir_new(base, d, &ops, &pd), 0);
	segd_policy_dir_free(pd);
	event_base_free(base);
}

static const char *source_of(struct segd *d, const char *name)
{
	struct seg_policy *p = seg_state_find_policy(&d->state, "default", name);

	return p ? (p->source_file ? p->source_file : "") : NULL;
}

/* A daemon without a kernel whose policy directory is a new temporary
 * directory (dir), with the namespace default. */
static void daemon_on_dir(struct segd *d)
{
	snprintf(dir, sizeof(dir), "/tmp/segd-pdir.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	d->cfg.policy_dir = dir;
	cr_assert_eq(seg_state_set_ns(&d->state, "default", NULL), 0);
}

static void daemon_done(struct segd *d)
{
	char cmd[128];

	d->cfg.policy_dir = NULL;
	seg_compiled_free(&d->compiled);
	seg_state_free(&d->state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(policy_dir, rounds_apply_keep_and_remove)
{
	struct segd d = { 0 };
	char a[256], b[256], b_bad[256], x[256], path[256];
	const char *keys[] = { "a.yaml", "b.yaml" };
	struct segd_apply_file other;
	struct seg_error err = { 0 };
	yaml_document_t out;

	daemon_on_dir(&d);

	/* a policy from elsewhere, as `segctl apply` would bring it */
	policy("x", 22, x, sizeof(x));
	other = (struct segd_apply_file){ "/elsewhere/x.yaml", x, strlen(x) };
	yu_doc_init_map(&out);
	cr_assert_eq(segd_apply(&d, &other, 1, "default", false, &out, yu_add_map(&out), &err),
		     0, "%s", err.msg);
	yaml_document_delete(&out);

	publish(1, keys, (const char *[]){ policy("a", 80, a, sizeof(a)),
					   policy("b", 81, b, sizeof(b)) }, 2);
	put(".hidden.yaml", "not: [a policy");   /* hidden: never read */
	put("notes.txt", "not a policy file");
	round_of(&d);
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	cr_assert_str_eq(source_of(&d, "a"), path, "a.yaml applied, through its key link");
	cr_assert_not_null(source_of(&d, "b"));
	cr_assert_eq(d.state.world.n_policies, 3);

	/* a bad b.yaml: nothing of the round applies, a's change neither */
	snprintf(b_bad, sizeof(b_bad), "%s", b);
	*strstr(b_bad, "81") = 'X';
	publish(2, keys, (const char *[]){ policy("a", 90, a, sizeof(a)), b_bad }, 2);
	round_of(&d);
	cr_assert_eq(d.state.world.n_policies, 3);
	cr_assert_eq(seg_state_find_policy(&d.state, "default", "a")->rules[0].ports[0].port_lo,
		     80, "the last good a stays");

	/* b's key goes: b goes, a is updated, x (not the directory's) stays */
	publish(3, keys, (const char *[]){ policy("a", 90, a, sizeof(a)) }, 1);
	snprintf(path, sizeof(path), "%s/b.yaml", dir);
	cr_assert_eq(unlink(path), 0);
	round_of(&d);
	cr_assert_null(source_of(&d, "b"), "b removed with its key");
	cr_assert_eq(seg_state_find_policy(&d.state, "default", "a")->rules[0].ports[0].port_lo, 90);
	cr_assert_str_eq(source_of(&d, "x"), "/elsewhere/x.yaml");

	/* every key gone: the directory's policies go, x stays */
	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	cr_assert_eq(unlink(path), 0);
	round_of(&d);
	cr_assert_null(source_of(&d, "a"));
	cr_assert_eq(d.state.world.n_policies, 1);

	daemon_done(&d);
}

static const char *cnp(const char *name, int priority, char *buf, size_t len)
{
	snprintf(buf, len,
		 "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy\n"
		 "metadata: {name: %s}\nspec:\n  tier: Admin\n  priority: %d\n"
		 "  subject: {namespaces: {}}\n  ingress:\n  - action: Deny\n"
		 "    from: [{namespaces: {}}]\n", name, priority);
	return buf;
}

/* A ClusterNetworkPolicy has no namespace: the apply reports it without
 * one, and the round must still count it as defined by its file. */
Test(policy_dir, cluster_scoped_policies)
{
	struct segd d = { 0 };
	char c[512], a[256], path[256];
	const char *keys[] = { "cnp.yaml", "a.yaml" };
	struct seg_policy *p;

	daemon_on_dir(&d);

	publish(1, keys, (const char *[]){ cnp("guard", 10, c, sizeof(c)),
					   policy("a", 80, a, sizeof(a)) }, 2);
	round_of(&d);
	p = seg_state_find_policy(&d.state, "", "guard");
	cr_assert_not_null(p, "the ClusterNetworkPolicy stays after its round");
	cr_assert_eq(p->kind, SEG_KIND_CNP);
	snprintf(path, sizeof(path), "%s/cnp.yaml", dir);
	cr_assert_str_eq(p->source_file, path);
	cr_assert_eq(d.state.world.n_policies, 2);

	/* changed: the new priority is in force */
	publish(2, keys, (const char *[]){ cnp("guard", 20, c, sizeof(c)), a }, 2);
	round_of(&d);
	p = seg_state_find_policy(&d.state, "", "guard");
	cr_assert_not_null(p);
	cr_assert_eq(p->priority, 20);

	/* its key goes: the cluster-scoped policy goes, a stays */
	publish(3, keys + 1, (const char *[]){ a }, 1);
	cr_assert_eq(unlink(path), 0);
	round_of(&d);
	cr_assert_null(seg_state_find_policy(&d.state, "", "guard"), "removed with its file");
	cr_assert_not_null(source_of(&d, "a"));
	cr_assert_eq(d.state.world.n_policies, 1);

	daemon_done(&d);
}
