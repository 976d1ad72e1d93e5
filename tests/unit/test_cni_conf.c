/* test_cni_conf.c - segd-cni's network config and CNI_ARGS, table-driven. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cni_conf.h"

#define PREV_BRIDGE                                                             \
	"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"cni0\",\"mac\":\"aa\"}," \
	"{\"name\":\"veth1234\"},{\"name\":\"eth0\",\"sandbox\":\"/run/netns/p\"}],"  \
	"\"ips\":[{\"address\":\"10.22.0.5/16\",\"gateway\":\"10.22.0.1\",\"interface\":2}]}"

struct conf_case {
	char text[700];
	int ret;            /* 0 or -EINVAL */
	char err[48];       /* substring of the message when ret != 0 */
	char socket[40];
	bool fail_open;
	char labels[64];    /* as "k=v,..." */
	char ips[64];       /* the pod's addresses, space separated */
	int pod_iface;
	char prev[300];     /* prevResult's text as passed on ("" = none) */
};

static const struct conf_case conf_cases[] = {
	{ "{\"cniVersion\":\"1.0.0\",\"name\":\"k8s\",\"type\":\"segd-cni\",\"prevResult\":"
	  PREV_BRIDGE "}", 0, "", "/run/segd/segd.sock", false, "", "10.22.0.5", 2,
	  PREV_BRIDGE },
	{ "{\"cniVersion\":\"1.0.0\",\"socket\":\"/tmp/s.sock\",\"failOpen\":true,"
	  "\"runtimeConfig\":{\"labels\":{\"app\":\"web\",\"tier\":\"front\"}}}", 0, "",
	  "/tmp/s.sock", true, "app=web,tier=front", "", -1, "" },
	{ "{\"cniVersion\":\"1.0.0\",\"args\":{\"cni\":{\"labels\":[{\"key\":\"app\","
	  "\"value\":\"db\"}]}}}", 0, "", "/run/segd/segd.sock", false, "app=db", "", -1, "" },
	/* runtimeConfig wins over args for the same key */
	{ "{\"cniVersion\":\"1.0.0\",\"args\":{\"cni\":{\"labels\":[{\"key\":\"app\","
	  "\"value\":\"db\"},{\"key\":\"x\",\"value\":\"1\"}]}},\"runtimeConfig\":{\"labels\":"
	  "[{\"key\":\"app\",\"value\":\"web\"}]}}", 0, "", "/run/segd/segd.sock", false,
	  "app=web,x=1", "", -1, "" },
	/* pretty-printed JSON with non-ASCII text before prevResult */
	{ "{\n  \"cniVersion\": \"1.0.0\",\n  \"name\": \"r\\u00e9seau \xc3\xa9t\xc3\xa9\",\n"
	  "  \"prevResult\": {\"ips\": [{\"address\": \"fd00::5/64\"}, "
	  "{\"address\": \"10.0.0.5/24\"}], \"dns\": {\"search\": [\"\xe2\x82\xac\"]}}\n}\n", 0, "",
	  "/run/segd/segd.sock", false, "", "fd00::5 10.0.0.5", -1,
	  "{\"ips\": [{\"address\": \"fd00::5/64\"}, {\"address\": \"10.0.0.5/24\"}], "
	  "\"dns\": {\"search\": [\"\xe2\x82\xac\"]}}" },
	/* an address of another interface (a second network) is not the pod's */
	{ "{\"cniVersion\":\"1.0.0\",\"prevResult\":{\"interfaces\":[{\"name\":\"vethA\"},"
	  "{\"name\":\"eth0\",\"sandbox\":\"/x\"},{\"name\":\"net1\",\"sandbox\":\"/x\"}],"
	  "\"ips\":[{\"address\":\"10.1.0.2/24\",\"interface\":2},{\"address\":\"10.0.0.2/24\","
	  "\"interface\":1}]}}", 0, "", "/run/segd/segd.sock", false, "", "10.0.0.2", 1,
	  "{\"interfaces\":[{\"name\":\"vethA\"},{\"name\":\"eth0\",\"sandbox\":\"/x\"},"
	  "{\"name\":\"net1\",\"sandbox\":\"/x\"}],\"ips\":[{\"address\":\"10.1.0.2/24\","
	  "\"interface\":2},{\"address\":\"10.0.0.2/24\",\"interface\":1}]}" },
	{ "{\"cniVersion\":\"1.0.0\",\"prevResult\":{\"interfaces\":[{\"name\":\"eth0\"}],"
	  "\"ips\":[{\"address\":\"10.0.0.2/24\",\"interface\":3}]}}", -EINVAL,
	  "not an index of interfaces", "", false, "", "", -1, "" },
	{ "{\"prevResult\":{\"ips\":[{\"address\":\"1.0.0.1\"},{\"address\":\"1.0.0.2\"},"
	  "{\"address\":\"1.0.0.3\"},{\"address\":\"1.0.0.4\"},{\"address\":\"1.0.0.5\"},"
	  "{\"address\":\"1.0.0.6\"},{\"address\":\"1.0.0.7\"},{\"address\":\"1.0.0.8\"},"
	  "{\"address\":\"1.0.0.9\"}]}}", -EINVAL, "more than 8 pod addresses", "", false, "",
	  "", -1, "" },
	{ "{\"prevResult\":{\"interfaces\":[{\"name\":\"averyveryverylongname\"}]}}", -EINVAL,
	  "longer than 15", "", false, "", "", -1, "" },
	{ "{\"prevResult\":{\"interfaces\":[{\"mac\":\"aa\"}]}}", -EINVAL, "needs a name", "",
	  false, "", "", -1, "" },
	{ "{\"prevResult\":[1,2]}", -EINVAL, "must be an object", "", false, "", "", -1, "" },
	{ "{\"runtimeConfig\":{\"labels\":{\"app\":\"a b\"}}}", -EINVAL, "label app=a b", "",
	  false, "", "", -1, "" },
	{ "{\"runtimeConfig\":{\"labels\":{\"-bad\":\"x\"}}}", -EINVAL, "label -bad=x", "",
	  false, "", "", -1, "" },
	{ "{\"runtimeConfig\":{\"labels\":\"app=web\"}}", -EINVAL, "list of {key, value}", "",
	  false, "", "", -1, "" },
	{ "{\"failOpen\":\"sometimes\"}", -EINVAL, "true or false", "", false, "", "", -1, "" },
	{ "{\"socket\":\"\"}", -EINVAL, "may not be empty", "", false, "", "", -1, "" },
	{ "{\"socket\":{\"path\":\"/x\"}}", -EINVAL, "must be a string", "", false, "", "", -1,
	  "" },
	{ "[1, 2]", -EINVAL, "must be a JSON object", "", false, "", "", -1, "" },
	{ "{\"cniVersion\": \"1.0.0\",\n \"name\": ", -EINVAL, "network config:", "", false, "",
	  "", -1, "" },
	{ "\xEF\xBB\xBF{}", -EINVAL, "byte order mark", "", false, "", "", -1, "" },
};

ParameterizedTestParameters(cni_conf, parse)
{
	return cr_make_param_array(struct conf_case, conf_cases,
				   sizeof(conf_cases) / sizeof(conf_cases[0]));
}

ParameterizedTest(const struct conf_case *tc, cni_conf, parse)
{
	struct segd_cni_conf c;
	struct seg_error err = { 0 };
	char msg[700], labels[256], ips[256] = "";
	int ret = segd_cni_conf_parse(tc->text, strlen(tc->text), "eth0", &c, &err);

	seg_error_format(&err, msg, sizeof(msg));
	cr_assert_eq(ret, tc->ret, "ret %d: %s", ret, msg);
	if (ret) {
		cr_assert(strstr(msg, tc->err), "message '%s' lacks '%s'", msg, tc->err);
		return;
	}
	cr_assert_str_eq(c.socket, tc->socket);
	cr_assert_eq(c.fail_open, tc->fail_open);
	cr_assert_eq(segd_cni_labels_text(&c.labels, labels, sizeof(labels)), 0);
	cr_assert_str_eq(labels, tc->labels);
	for (size_t i = 0; i < c.n_ips; i++)
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s", i ? " " : "",
			 c.ips[i]);
	cr_assert_str_eq(ips, tc->ips);
	cr_assert_eq(c.pod_iface, tc->pod_iface);
	cr_assert_eq(c.has_prev, tc->prev[0] != '\0');
	if (c.has_prev) {
		cr_assert_eq(c.prev_len, strlen(tc->prev), "span %zu+%zu", c.prev_off, c.prev_len);
		cr_assert(!memcmp(tc->text + c.prev_off, tc->prev, c.prev_len),
			  "prevResult span: %.*s", (int)c.prev_len, tc->text + c.prev_off);
	}
	segd_cni_conf_free(&c);
}

Test(cni_conf, nul_byte_refused)
{
	static const char text[] = "{\"a\":\"\0\"}";
	struct segd_cni_conf c;
	struct seg_error err = { 0 };

	cr_assert_eq(segd_cni_conf_parse(text, sizeof(text) - 1, "eth0", &c, &err), -EINVAL);
	cr_assert(strstr(err.msg, "NUL"));
}

struct arg_case {
	char args[96];
	char key[24];
	size_t out_len;
	int ret;
	char value[32];
};

static const struct arg_case arg_cases[] = {
	{ "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0", "K8S_POD_NAME", 32, 0,
	  "web-0" },
	{ "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0", "K8S_POD_NAMESPACE", 32,
	  0, "shop" },
	{ "K8S_POD_NAMESPACE_X=a;K8S_POD_NAMESPACE=b", "K8S_POD_NAMESPACE", 32, 0, "b" },
	{ "K8S_POD_NAME=;x=1", "K8S_POD_NAME", 32, 0, "" },
	{ "IgnoreUnknown=1", "K8S_POD_NAME", 32, -ENOENT, "" },
	{ "", "K8S_POD_NAME", 32, -ENOENT, "" },
	{ ";;K8S_POD_NAME=a;", "K8S_POD_NAME", 32, 0, "a" },
	{ "K8S_POD_NAME=abcdef", "K8S_POD_NAME", 6, -E2BIG, "" },
	{ "K8S_POD_NAME=abcde", "K8S_POD_NAME", 6, 0, "abcde" },
};

ParameterizedTestParameters(cni_conf, cni_args)
{
	return cr_make_param_array(struct arg_case, arg_cases,
				   sizeof(arg_cases) / sizeof(arg_cases[0]));
}

ParameterizedTest(const struct arg_case *tc, cni_conf, cni_args)
{
	char out[64] = "";

	cr_assert_eq(segd_cni_arg(tc->args, tc->key, out, tc->out_len), tc->ret);
	if (!tc->ret)
		cr_assert_str_eq(out, tc->value);
}

Test(cni_conf, labels_text_too_long)
{
	struct seg_labels l = { 0 };
	char out[8];

	cr_assert_eq(seg_labels_set(&l, "app", "web"), 0);
	cr_assert_eq(segd_cni_labels_text(&l, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "app=web");
	cr_assert_eq(seg_labels_set(&l, "b", "c"), 0);
	cr_assert_eq(segd_cni_labels_text(&l, out, sizeof(out)), -E2BIG);
	seg_labels_free(&l);
}

/* the pod's named container ports: the runtime's list replaces the
 * config's; unnamed ports are skipped; bad ones are an error */
struct ports_case {
	char text[300];
	int ret;
	char want[96];      /* ports space separated, or the error's text */
};

static const struct ports_case ports_cases[] = {
	{ "{\"runtimeConfig\":{\"ports\":[{\"name\":\"http\",\"containerPort\":8080},"
	  "{\"containerPort\":22},{\"name\":\"dns\",\"containerPort\":53,\"protocol\":\"UDP\"}]}}",
	  0, "http=8080/TCP dns=53/UDP" },
	{ "{\"args\":{\"cni\":{\"ports\":[{\"name\":\"a\",\"containerPort\":1}]}},"
	  "\"runtimeConfig\":{\"ports\":[{\"name\":\"b\",\"containerPort\":2}]}}", 0, "b=2/TCP" },
	{ "{\"args\":{\"cni\":{\"ports\":[{\"name\":\"a\",\"containerPort\":1,"
	  "\"protocol\":\"SCTP\"}]}}}", 0, "a=1/SCTP" },
	{ "{\"runtimeConfig\":{\"ports\":[{\"name\":\"Web\",\"containerPort\":80}]}}", -EINVAL,
	  "lower-case" },
	{ "{\"runtimeConfig\":{\"ports\":[{\"name\":\"web\",\"containerPort\":0}]}}", -EINVAL,
	  "containerPort must be 1-65535" },
	{ "{\"runtimeConfig\":{\"ports\":{\"name\":\"web\"}}}", -EINVAL, "must be a list" },
};

ParameterizedTestParameters(cni_conf, ports)
{
	return cr_make_param_array(struct ports_case, (void *)ports_cases,
				   sizeof(ports_cases) / sizeof(ports_cases[0]));
}

ParameterizedTest(const struct ports_case *tc, cni_conf, ports)
{
	struct segd_cni_conf c;
	struct seg_error err = { 0 };
	char msg[700], got[256] = "";
	int ret = segd_cni_conf_parse(tc->text, strlen(tc->text), "eth0", &c, &err);

	seg_error_format(&err, msg, sizeof(msg));
	cr_assert_eq(ret, tc->ret, "ret %d: %s", ret, msg);
	if (ret) {
		cr_assert(strstr(msg, tc->want), "message '%s' lacks '%s'", msg, tc->want);
		return;
	}
	for (size_t i = 0; i < c.n_ports; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", i ? " " : "",
			 c.ports[i]);
	cr_assert_str_eq(got, tc->want);
	segd_cni_conf_free(&c);
}
