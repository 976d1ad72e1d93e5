/* fuzz_cni_conf.c - libFuzzer target for segd-cni's network config reader
 * (cni/cni_conf.c) and its CNI_ARGS lookup.
 *
 * Properties checked beyond "no crash / no sanitizer report":
 *   errors carry a message; the prevResult span lies inside the input and
 *   is one JSON object ({...}); the pod interface index is in range; the
 *   addresses carry no prefix length; the labels, written as "k=v,...",
 *   parse back to the same set; a CNI_ARGS value found fits its buffer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni_conf.h"

static void check_conf(const char *text, size_t len)
{
	struct segd_cni_conf c;
	struct seg_labels again = { 0 };
	struct seg_error err = { 0 };
	char labels[8192];

	if (segd_cni_conf_parse(text, len, "eth0", &c, &err)) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (c.has_prev && (c.prev_len < 2 || c.prev_off + c.prev_len > len ||
			   text[c.prev_off] != '{' || text[c.prev_off + c.prev_len - 1] != '}'))
		abort();
	if (c.n_ifaces > SEGD_CNI_MAX_IFACES || c.n_ips > SEG_MAX_EP_IPS ||
	    (c.pod_iface >= 0 && (size_t)c.pod_iface >= c.n_ifaces))
		abort();
	for (size_t i = 0; i < c.n_ips; i++)
		if (strchr(c.ips[i], '/'))
			abort();
	if (!segd_cni_labels_text(&c.labels, labels, sizeof(labels)) && labels[0]) {
		if (seg_labels_parse(labels, &again, &err) || again.n != c.labels.n)
			abort();
		for (size_t i = 0; i < again.n; i++)
			if (strcmp(again.v[i].key, c.labels.v[i].key) ||
			    strcmp(again.v[i].value, c.labels.v[i].value))
				abort();
		seg_labels_free(&again);
	}
	segd_cni_conf_free(&c);
}

static void check_args(const char *text)
{
	char out[16];
	int ret = segd_cni_arg(text, "K8S_POD_NAME", out, sizeof(out));

	if (ret && ret != -ENOENT && ret != -E2BIG)
		abort();
	if (!ret && (strlen(out) >= sizeof(out) || strchr(out, ';')))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the config reader takes a length (and must refuse NUL bytes); the
	 * CNI_ARGS lookup takes a C string */
	char *args = strndup((const char *)data, size);

	check_conf((const char *)data, size);
	if (args)
		check_args(args);
	free(args);
	return 0;
}
