/* config_detect.h - the config file's `detect:` section (config_detect.c),
 * for config.c. */
#ifndef SEGD_CONFIG_DETECT_H
#define SEGD_CONFIG_DETECT_H

#include <yaml.h>
#include "detect.h"
#include "error.h"

/* Parse the section n into s, which holds the defaults or an earlier
 * section: the keys given replace its fields, the lists are replaced whole.
 * Errors carry file:line:col. */
int segd_config_parse_detect(yaml_document_t *d, yaml_node_t *n,
			     struct seg_detect_settings *s, const char *file,
			     struct seg_error *err);

#endif /* SEGD_CONFIG_DETECT_H */
