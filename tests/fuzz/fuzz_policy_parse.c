/* fuzz_policy_parse.c - libFuzzer target for seg_policy_parse.
 *
 * Every input must either parse (then each policy's `source` must parse
 * again to one policy of the same name) or fail with a positioned message;
 * never crash, leak or hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_parse.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seg_policy *p = NULL, *q = NULL;
	size_t n = 0, m = 0;
	struct seg_error err;

	if (size > 64 * 1024)
		return 0;
	if (seg_policy_parse((const char *)data, size, "fuzz.yaml", "fuzz", &p,
			     &n, &err) != 0) {
		if (p || n)
			abort(); /* all-or-nothing */
		if (!err.msg[0])
			abort(); /* every error says what is wrong */
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const char *src = p[i].source;

		if (!src || seg_policy_parse(src, strlen(src), NULL, "other", &q,
					     &m, &err) != 0 || m != 1 ||
		    strcmp(q[0].name, p[i].name) || strcmp(q[0].ns, p[i].ns) ||
		    q[0].n_rules != p[i].n_rules)
			abort(); /* source must round-trip */
		seg_policies_free(q, m);
		q = NULL;
	}
	seg_policies_free(p, n);
	return 0;
}
