/* docsplit.h - find the documents of a YAML stream without parsing it.
 *
 * `segctl apply` of a large file usually changes one document of many;
 * libyaml needs ~60 ms per MB, so segd recognises unchanged documents by a
 * hash of their text and parses only the others. The split is textual: a
 * line starting with "---" at column 0 starts a document. Streams whose
 * layout a textual split could misread (directives, "..." end markers) are
 * refused, and the caller parses them whole.
 */
#ifndef SEGD_DOCSPLIT_H
#define SEGD_DOCSPLIT_H

#include <stddef.h>
#include <stdint.h>

struct seg_doc_span {
	size_t off, len;     /* bytes of the document, marker line included */
	int first_line;      /* 1-based line of its first byte in the stream */
};

/* 0 and a malloc'ed array (free it), or -EINVAL when the stream must be
 * parsed whole, or -ENOMEM. */
int seg_split_documents(const char *buf, size_t len, struct seg_doc_span **out,
			size_t *n_out);

/* FNV-1a 64 over the namespace default and the text: equal hashes mean the
 * same document applied the same way. */
uint64_t seg_doc_hash(const char *default_ns, const char *text, size_t len);

#endif /* SEGD_DOCSPLIT_H */
