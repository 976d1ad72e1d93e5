/* fuzz_docsplit.c - libFuzzer target for the textual document split and
 * the request framing: never crash; spans must tile the input exactly and
 * start at the lines they claim. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "docsplit.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data, *h, *p;
	struct seg_doc_span *s = NULL;
	size_t n = 0, off = 0, hl, pl;

	if (!seg_split_documents(buf, size, &s, &n)) {
		for (size_t i = 0; i < n; i++) {
			int line = 1;

			if (s[i].off != off)
				abort();
			for (size_t k = 0; k < s[i].off; k++)
				line += buf[k] == '\n';
			if (line != s[i].first_line)
				abort();
			off += s[i].len;
		}
		if (off != size)
			abort();
		free(s);
	}
	if (!seg_wire_split(buf, size, &h, &hl, &p, &pl) &&
	    (h < buf || p + pl != buf + size || h + hl != p))
		abort();
	return 0;
}
