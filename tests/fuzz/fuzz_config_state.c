/* fuzz_config_state.c - libFuzzer target for segd's own YAML inputs: the
 * config file, state.yaml, quarantines.yaml and `segctl endpoint load`
 * files. Never crash or leak; a failure always says where. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "endpoint_file.h"
#include "quarantine.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct segd_settings cfg = { 0 };
	struct seg_error err = { 0 };
	struct seg_state s;

	if (segd_config_parse((const char *)data, size, "fuzz.yaml", &cfg, NULL, &err) &&
	    !err.msg[0])
		abort();
	segd_config_free(&cfg);
	memset(&err, 0, sizeof(err));
	if (seg_state_init(&s))
		return 0;
	seg_state_from_yaml((const char *)data, size, "state.yaml", &s, &err);
	seg_state_free(&s);
	{
		struct seg_quarantines qs = { 0 };
		char *text = NULL;

		memset(&err, 0, sizeof(err));
		if (seg_quarantines_from_yaml((const char *)data, size, "quarantines.yaml",
					      &qs, &err)) {
			if (!err.msg[0] || qs.n)
				abort();   /* a failure says why and keeps nothing */
		} else if (seg_quarantines_to_yaml(&qs, &text)) {
			abort();
		}
		free(text);
		seg_quarantines_free(&qs);
	}
	{
		struct seg_endpoint *eps = NULL;
		size_t n = 0;

		memset(&err, 0, sizeof(err));
		if (seg_endpoints_parse((const char *)data, size, "eps.yaml", &eps, &n, &err) &&
		    (!err.msg[0] || n || eps))
			abort();   /* a failure says why and keeps nothing */
		seg_endpoints_free(eps, n);
	}
	return 0;
}
