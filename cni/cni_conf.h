/* cni_conf.h - what segd-cni reads: the network configuration on stdin
 * (JSON, parsed with libyaml: JSON is YAML flow style) and the CNI_ARGS
 * list. Pure: no syscalls, so it is unit-tested and fuzzed
 * (tests/fuzz/fuzz_cni_conf.c). */
#ifndef SEGD_CNI_CONF_H
#define SEGD_CNI_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include "model.h"
#include "wire.h"

#define SEGD_CNI_DEFAULT_SOCKET SEGD_DEFAULT_SOCKET
#define SEGD_CNI_MAX_CONF (1u << 20) /* a network config is a few KiB */
#define SEGD_CNI_MAX_IFACES 16

/* One entry of prevResult.interfaces. */
struct segd_cni_iface {
	char name[16];    /* IFNAMSIZ; longer names are refused */
	bool sandbox;     /* inside the pod (has a "sandbox" path) */
};

struct segd_cni_conf {
	char cni_version[16];
	char network[64];             /* "name" */
	char socket[108];             /* "socket", else the default */
	char ns[64];                  /* "namespace" for pods without K8S args */
	bool fail_open;               /* "failOpen" */
	struct seg_labels labels;     /* runtimeConfig.labels / args.cni.labels */
	/* runtimeConfig.ports / args.cni.ports: the pod's named container
	 * ports, as "NAME=NUMBER/PROTO" for endpoint.add */
	char ports[SEG_MAX_EP_PORTS][32];
	size_t n_ports;
	/* prevResult exactly as it came, a span of the input */
	size_t prev_off, prev_len;
	bool has_prev;
	struct segd_cni_iface ifaces[SEGD_CNI_MAX_IFACES];
	size_t n_ifaces;
	int pod_iface;                /* index of CNI_IFNAME in ifaces, or -1 */
	char ips[SEG_MAX_EP_IPS][46]; /* the pod's addresses, no prefix length */
	size_t n_ips;
};

/* Parse the config in buf (len bytes, need not be NUL-terminated).
 * ifname is CNI_IFNAME, to tell the pod's interface and its addresses.
 * 0, or -EINVAL with err set (file "network config", line:col). */
int segd_cni_conf_parse(const char *buf, size_t len, const char *ifname,
			struct segd_cni_conf *out, struct seg_error *err);
void segd_cni_conf_free(struct segd_cni_conf *c);

/* Value of key in CNI_ARGS ("K1=V1;K2=V2") into out. 0, -ENOENT when
 * absent, -E2BIG when it does not fit. */
int segd_cni_arg(const char *cni_args, const char *key, char *out, size_t out_len);

/* "k=v,k2=v2" (the control protocol's label form) into out. 0 or -E2BIG. */
int segd_cni_labels_text(const struct seg_labels *l, char *out, size_t out_len);

#endif /* SEGD_CNI_CONF_H */
