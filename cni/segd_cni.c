/* segd-cni - chained CNI plugin (spec 1.0.0) that registers a pod with
 * segd: ADD registers the endpoint (its host-side interface and addresses
 * from prevResult) and passes prevResult on; DEL forgets it; CHECK asks
 * segd whether it knows it. Talks to segd with segctl's client. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "args.h"
#include "client.h"
#include "cni_conf.h"
#include "version.h"
#include "yaml_util.h"

/* CNI spec error codes; 100 and up are the plugin's own */
enum cni_code {
	CNI_ERR_VERSION = 1,
	CNI_ERR_ENV = 4,
	CNI_ERR_DECODE = 6,
	CNI_ERR_CONFIG = 7,
	CNI_ERR_TRY_LATER = 11,
	CNI_ERR_SEGD_REFUSED = 100,
	CNI_ERR_NOT_REGISTERED = 101,
};

#define REQUEST_TIMEOUT_MS 10000

static const char *const supported_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0" };

struct cni_call {
	const char *command, *container_id, *ifname;
	char pod_ns[64], pod_name[254];
	struct segd_cni_conf conf;
	const char *input;
	size_t input_len;
};

static const char *reply_version(const struct cni_call *c)
{
	return c && c->conf.cni_version[0] ? c->conf.cni_version : "1.0.0";
}

static int cni_error(const struct cni_call *c, int code, const char *msg, const char *details)
{
	printf("{\"cniVersion\":");
	yu_json_string(stdout, reply_version(c));
	printf(",\"code\":%d,\"msg\":", code);
	yu_json_string(stdout, msg);
	if (details && *details) {
		printf(",\"details\":");
		yu_json_string(stdout, details);
	}
	printf("}\n");
	fflush(stdout);
	return 1;
}

static int read_stdin(char **out, size_t *len)
{
	size_t n = 0, cap = 8192;
	char *buf = malloc(cap + 1);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		size_t got;

		if (n == cap) {
			char *p = cap >= SEGD_CNI_MAX_CONF ? NULL : realloc(buf, cap * 2 + 1);

			if (!p) {
				free(buf);
				return -E2BIG;
			}
			buf = p;
			cap *= 2;
		}
		got = fread(buf + n, 1, cap - n, stdin);
		n += got;
		if (!got)
			break;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* The pod's interface on the host side: of prevResult's interfaces outside
 * the sandbox, the one that is a veth (the bridge plugin also lists its
 * bridge there); else the only one that exists. */
static const char *host_iface(const struct segd_cni_conf *conf)
{
	const char *other = NULL;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), others = 0;

	for (size_t i = 0; fd >= 0 && i < conf->n_ifaces; i++) {
		struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
		struct ifreq ifr = { .ifr_data = (char *)&info };

		if (conf->ifaces[i].sandbox || !if_nametoindex(conf->ifaces[i].name))
			continue;
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", conf->ifaces[i].name);
		if (!ioctl(fd, SIOCETHTOOL, &ifr) && !strcmp(info.driver, "veth")) {
			close(fd);
			return conf->ifaces[i].name;
		}
		if (ioctl(fd, SIOCETHTOOL, &ifr) || strcmp(info.driver, "bridge")) {
			other = conf->ifaces[i].name;
			others++;
		}
	}
	if (fd >= 0)
		close(fd);
	return others == 1 ? other : NULL;
}

/* Is name one of prevResult's host-side interfaces? (DEL and CHECK:
 * the interface may be gone already.) */
static bool host_iface_listed(const struct segd_cni_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->n_ifaces; i++)
		if (!conf->ifaces[i].sandbox && name && !strcmp(conf->ifaces[i].name, name))
			return true;
	return false;
}

/* One request to segd. Returns 0 with *resp loaded (ok or not), or
 * CNI_ERR_TRY_LATER when segd cannot be reached, with why in `why`. */
static int ask_segd(const struct cni_call *c, yaml_document_t *req, yaml_document_t *resp,
		    char *why, size_t why_len)
{
	char *msg = NULL;
	size_t msg_len = 0;
	FILE *err = open_memstream(&msg, &msg_len);
	int ret;

	if (!err)
		return -ENOMEM;
	ret = segctl_roundtrip(c->conf.socket, req, NULL, 0, resp, REQUEST_TIMEOUT_MS, err);
	fclose(err);
	snprintf(why, why_len, "%s", msg ? msg : "");
	why[strcspn(why, "\n")] = '\0';
	free(msg);
	return ret == SEGCTL_OK ? 0 : CNI_ERR_TRY_LATER;
}

static int request(yaml_document_t *req, const char *command, int *args)
{
	int root = yu_doc_init_map(req);

	*args = yu_add_map(req);
	if (root < 0 || *args < 0 || yu_set_str(req, root, "command", command) ||
	    yu_set(req, root, "args", *args))
		return -ENOMEM;
	return 0;
}

static bool resp_ok(yaml_document_t *resp, char *why, size_t why_len)
{
	yaml_node_t *root = yu_root(resp);
	bool ok = false;

	if (yu_bool(yu_map_get(resp, root, "ok"), &ok) || !ok) {
		const char *e = yu_scalar(yu_map_get(resp, root, "error"));

		snprintf(why, why_len, "%s", e ? e : "segd did not say ok");
		return false;
	}
	return true;
}

/* segd could not be reached: fail, or with failOpen say so and go on. */
static int unreachable(const struct cni_call *c, const char *why)
{
	if (!c->conf.fail_open)
		return cni_error(c, CNI_ERR_TRY_LATER, "segd is not reachable", why);
	fprintf(stderr, "segd-cni: %s; failOpen is set: pod %s/%s goes on unenforced by segd\n",
		why, c->pod_ns, c->pod_name);
	return 0;
}

static void pass_prev_result(const struct cni_call *c)
{
	fwrite(c->input + c->conf.prev_off, 1, c->conf.prev_len, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static int cmd_add(struct cni_call *c)
{
	yaml_document_t req, resp;
	char why[1024], labels[4096];
	const char *hif;
	int args, ips, ret;

	if (!c->conf.has_prev)
		return cni_error(c, CNI_ERR_CONFIG, "segd-cni must be chained after the "
				 "plugin that makes the pod's interface (no prevResult)", NULL);
	hif = host_iface(&c->conf);
	if (!hif || !c->conf.n_ips) {
		snprintf(why, sizeof(why), "prevResult lists %s", !hif ?
			 "no host-side veth of the pod" : "no address of the pod's interface");
		return cni_error(c, CNI_ERR_CONFIG, "cannot tell the pod's interface", why);
	}
	if (segd_cni_labels_text(&c->conf.labels, labels, sizeof(labels)))
		return cni_error(c, CNI_ERR_CONFIG, "labels are too long", NULL);
	ret = request(&req, "endpoint.add", &args);
	ips = ret ? -1 : yu_add_seq(&req);
	if (ret || ips < 0 || yu_set_str(&req, args, "name", c->pod_name) ||
	    yu_set_str(&req, args, "namespace", c->pod_ns) ||
	    yu_set_str(&req, args, "ifname", hif) || yu_set(&req, args, "ips", ips) ||
	    (labels[0] && yu_set_str(&req, args, "labels", labels)))
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < c->conf.n_ips; i++)
		ret = yu_append(&req, ips, yu_add_str(&req, c->conf.ips[i]));
	if (!ret && c->conf.n_ports) {
		int ports = yu_add_seq(&req);

		ret = ports < 0 || yu_set(&req, args, "ports", ports);
		for (size_t i = 0; !ret && i < c->conf.n_ports; i++)
			ret = yu_append(&req, ports, yu_add_str(&req, c->conf.ports[i]));
	}
	if (ret) {
		yaml_document_delete(&req);
		return cni_error(c, CNI_ERR_TRY_LATER, "out of memory", NULL);
	}
	ret = ask_segd(c, &req, &resp, why, sizeof(why));
	yaml_document_delete(&req);
	if (ret) {
		if (unreachable(c, why))
			return 1;
		pass_prev_result(c);
		return 0;
	}
	ret = !resp_ok(&resp, why, sizeof(why));
	yaml_document_delete(&resp);
	if (ret)
		return cni_error(c, CNI_ERR_SEGD_REFUSED, "segd refused the pod's endpoint", why);
	pass_prev_result(c);
	return 0;
}

/* segd's record of the pod: the endpoints item of ns/name, or NULL */
static yaml_node_t *find_endpoint(yaml_document_t *resp, const struct cni_call *c)
{
	yaml_node_t *items = yu_map_get(resp, yu_map_get(resp, yu_root(resp), "result"),
					"items");

	for (size_t i = 0; i < yu_seq_len(items); i++) {
		yaml_node_t *e = yu_seq_at(resp, items, i);
		const char *ns = yu_scalar(yu_map_get(resp, e, "namespace"));
		const char *name = yu_scalar(yu_map_get(resp, e, "name"));

		if (ns && name && !strcmp(ns, c->pod_ns) && !strcmp(name, c->pod_name))
			return e;
	}
	return NULL;
}

/* Fetch segd's endpoints: 0 with *resp, else -1 with the CNI answer
 * already printed and *exit_code (0 when failOpen excuses an absent segd). */
static int get_endpoints(const struct cni_call *c, yaml_document_t *resp, int *exit_code)
{
	yaml_document_t req;
	char why[1024];
	int args, ret = request(&req, "get", &args);

	if (ret || yu_set_str(&req, args, "what", "endpoints")) {
		yaml_document_delete(&req);
		*exit_code = cni_error(c, CNI_ERR_TRY_LATER, "out of memory", NULL);
		return -1;
	}
	ret = ask_segd(c, &req, resp, why, sizeof(why));
	yaml_document_delete(&req);
	if (ret) {
		*exit_code = unreachable(c, why);
		return -1;
	}
	if (!resp_ok(resp, why, sizeof(why))) {
		yaml_document_delete(resp);
		*exit_code = cni_error(c, CNI_ERR_SEGD_REFUSED, "segd did not list endpoints", why);
		return -1;
	}
	return 0;
}

static int cmd_del(struct cni_call *c)
{
	yaml_document_t resp, req;
	yaml_node_t *e;
	char why[1024];
	bool ours;
	int args, ret = 0;

	if (get_endpoints(c, &resp, &ret))
		return ret;
	e = find_endpoint(&resp, c);
	/* a pod re-created under the same name may own the endpoint now: only
	 * forget it when it is on this sandbox's interface (when we know it) */
	ours = e && (!c->conf.n_ifaces ||
		     host_iface_listed(&c->conf, yu_scalar(yu_map_get(&resp, e, "interface"))));
	yaml_document_delete(&resp);
	if (!ours)
		return 0; /* already gone: DEL succeeds */
	ret = request(&req, "endpoint.del", &args);
	if (ret || yu_set_str(&req, args, "name", c->pod_name) ||
	    yu_set_str(&req, args, "namespace", c->pod_ns)) {
		yaml_document_delete(&req);
		return cni_error(c, CNI_ERR_TRY_LATER, "out of memory", NULL);
	}
	ret = ask_segd(c, &req, &resp, why, sizeof(why));
	yaml_document_delete(&req);
	if (ret)
		return unreachable(c, why);
	ret = !resp_ok(&resp, why, sizeof(why));
	yaml_document_delete(&resp);
	/* gone between the two requests is gone all the same */
	if (ret && !strstr(why, "not found"))
		return cni_error(c, CNI_ERR_SEGD_REFUSED, "segd did not remove the endpoint", why);
	return 0;
}

/* Do the addresses segd holds equal the pod's? */
static bool same_ips(yaml_document_t *resp, yaml_node_t *ips, const struct segd_cni_conf *conf)
{
	if (yu_seq_len(ips) != conf->n_ips)
		return false;
	for (size_t i = 0; i < conf->n_ips; i++) {
		struct in6_addr want, have;
		bool found = false;

		if (seg_addr_parse(conf->ips[i], &want))
			return false;
		for (size_t j = 0; !found && j < yu_seq_len(ips); j++) {
			const char *s = yu_scalar(yu_seq_at(resp, ips, j));

			found = s && !seg_addr_parse(s, &have) && !memcmp(&want, &have, sizeof(want));
		}
		if (!found)
			return false;
	}
	return true;
}

static int cmd_check(struct cni_call *c)
{
	yaml_document_t resp;
	yaml_node_t *e;
	char why[1024] = "";
	int ret = 0;

	if (!c->conf.has_prev)
		return cni_error(c, CNI_ERR_CONFIG, "CHECK needs prevResult", NULL);
	if (get_endpoints(c, &resp, &ret))
		return ret;
	e = find_endpoint(&resp, c);
	if (!e)
		snprintf(why, sizeof(why), "segd has no endpoint %s/%s", c->pod_ns, c->pod_name);
	else if (!host_iface_listed(&c->conf, yu_scalar(yu_map_get(&resp, e, "interface"))))
		snprintf(why, sizeof(why), "segd has endpoint %s/%s on interface %s, which "
			 "prevResult does not list", c->pod_ns, c->pod_name,
			 yu_scalar(yu_map_get(&resp, e, "interface")));
	else if (!same_ips(&resp, yu_map_get(&resp, e, "ips"), &c->conf))
		snprintf(why, sizeof(why), "segd holds other addresses for %s/%s than prevResult",
			 c->pod_ns, c->pod_name);
	yaml_document_delete(&resp);
	return why[0] ? cni_error(c, CNI_ERR_NOT_REGISTERED,
				  "segd does not enforce this pod as set up", why) : 0;
}

static int cmd_version(const struct cni_call *c)
{
	printf("{\"cniVersion\":");
	yu_json_string(stdout, reply_version(c));
	printf(",\"supportedVersions\":[");
	for (size_t i = 0; i < sizeof(supported_versions) / sizeof(supported_versions[0]); i++)
		printf("%s\"%s\"", i ? "," : "", supported_versions[i]);
	printf("]}\n");
	return 0;
}

static bool version_supported(const char *v)
{
	for (size_t i = 0; i < sizeof(supported_versions) / sizeof(supported_versions[0]); i++)
		if (!strcmp(v, supported_versions[i]))
			return true;
	return false;
}

/* Which endpoint: the pod's name and namespace from CNI_ARGS, else the
 * container id in the config's "namespace". */
static int name_the_pod(struct cni_call *c)
{
	const char *args = getenv("CNI_ARGS");
	int a = segd_cni_arg(args, "K8S_POD_NAME", c->pod_name, sizeof(c->pod_name));
	int b = segd_cni_arg(args, "K8S_POD_NAMESPACE", c->pod_ns, sizeof(c->pod_ns));

	if (a == -E2BIG || b == -E2BIG)
		return -E2BIG;
	if (!a && !b && c->pod_name[0] && c->pod_ns[0])
		return 0;
	snprintf(c->pod_ns, sizeof(c->pod_ns), "%s", c->conf.ns);
	snprintf(c->pod_name, sizeof(c->pod_name), "%.63s", c->container_id);
	return 0;
}

int main(int argc, char **argv)
{
	struct cni_call c = { .command = getenv("CNI_COMMAND") };
	struct seg_error perr = { 0 };
	char *input = NULL, msg[1024];
	size_t len = 0;
	int ret;

	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("segd-cni %s (CNI spec 1.0.0)\n", SEGD_VERSION);
		return 0;
	}
	if (!c.command)
		return cni_error(NULL, CNI_ERR_ENV, "CNI_COMMAND is not set",
				 "segd-cni is a CNI plugin: the container runtime runs it");
	if (read_stdin(&input, &len))
		return cni_error(NULL, CNI_ERR_DECODE, "cannot read the network config", NULL);
	c.input = input;
	c.input_len = len;
	c.ifname = getenv("CNI_IFNAME");
	c.container_id = getenv("CNI_CONTAINERID");
	if (!strcmp(c.command, "VERSION")) {
		/* the config may be absent; answer anyway */
		if (segd_cni_conf_parse(input, len, NULL, &c.conf, &perr))
			memset(&c.conf, 0, sizeof(c.conf));
		ret = cmd_version(&c);
		goto out;
	}
	if (segd_cni_conf_parse(input, len, c.ifname, &c.conf, &perr)) {
		seg_error_format(&perr, msg, sizeof(msg));
		ret = cni_error(NULL, CNI_ERR_DECODE, "cannot read the network config", msg);
		free(input);
		return ret;
	}
	if (!version_supported(c.conf.cni_version)) {
		ret = cni_error(&c, CNI_ERR_VERSION, "unsupported cniVersion",
				"segd-cni supports 0.3.0, 0.3.1, 0.4.0 and 1.0.0");
		goto out;
	}
	if (!c.container_id || !*c.container_id || !c.ifname || !*c.ifname) {
		ret = cni_error(&c, CNI_ERR_ENV, "CNI_CONTAINERID and CNI_IFNAME must be set", NULL);
		goto out;
	}
	if (name_the_pod(&c)) {
		ret = cni_error(&c, CNI_ERR_ENV, "K8S_POD_NAME or K8S_POD_NAMESPACE too long", NULL);
		goto out;
	}
	if (!strcmp(c.command, "ADD"))
		ret = cmd_add(&c);
	else if (!strcmp(c.command, "DEL"))
		ret = cmd_del(&c);
	else if (!strcmp(c.command, "CHECK"))
		ret = cmd_check(&c);
	else
		ret = cni_error(&c, CNI_ERR_ENV, "unknown CNI_COMMAND",
				"segd-cni knows ADD, DEL, CHECK and VERSION");
out:
	segd_cni_conf_free(&c.conf);
	free(input);
	return ret;
}
