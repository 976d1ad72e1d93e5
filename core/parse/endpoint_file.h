/* endpoint_file.h - endpoints (and the labels and addresses of nodes)
 * from YAML: state.yaml's entries and `segctl endpoint load` files. */
#ifndef SEGD_ENDPOINT_FILE_H
#define SEGD_ENDPOINT_FILE_H

#include <stdbool.h>
#include <yaml.h>
#include "error.h"
#include "model.h"

/* a mapping of strings (absent or null: none) added to l */
int seg_labels_from_yaml(yaml_document_t *d, yaml_node_t *n, struct seg_labels *l,
			 const char *file, struct seg_error *err);
/* a list of addresses (at most max; more are ignored) appended to v */
int seg_addrs_from_yaml(yaml_document_t *d, yaml_node_t *ips, struct in6_addr *v,
			size_t max, size_t *n, const char *file, struct seg_error *err);
/* One endpoint mapping {name, namespace, ips, labels, ifname | remote,
 * ports: [NAME=NUMBER[/PROTO]]} into *ep (zeroed first; free it either
 * way). from_state: state.yaml's form (id, namespace and ifname present);
 * else a load file's (namespace default "default", no id). */
int seg_endpoint_from_yaml(yaml_document_t *d, yaml_node_t *n, bool from_state,
			   const char *file, struct seg_endpoint *ep,
			   struct seg_error *err);
/* Every endpoint of a load file: a list of endpoint mappings, or a mapping
 * whose `endpoints:` is that list (the form `segctl get endpoints -o yaml`
 * prints). A (namespace, name) given twice is an error at its line. */
int seg_endpoints_parse(const char *text, size_t len, const char *file,
			struct seg_endpoint **out, size_t *n, struct seg_error *err);
void seg_endpoints_free(struct seg_endpoint *v, size_t n);

#endif
