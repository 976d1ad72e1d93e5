/* json_escape.h - how a byte of a string is written inside a JSON string,
 * for every JSON writer segd has (flow log lines, the audit log, JSON
 * output of YAML documents). Inline: the flow log calls it per byte. */
#ifndef SEGD_JSON_ESCAPE_H
#define SEGD_JSON_ESCAPE_H

#include <stddef.h>

/* The escape of byte c into out: its length (2 or 6), 0 when c goes as
 * it is. */
static inline size_t seg_json_escape(unsigned char c, char out[6])
{
	static const char hex[] = "0123456789abcdef";
	char e;

	switch (c) {
	case '"': e = '"'; break;
	case '\\': e = '\\'; break;
	case '\n': e = 'n'; break;
	case '\r': e = 'r'; break;
	case '\t': e = 't'; break;
	default:
		if (c >= 0x20)
			return 0;
		out[0] = '\\';
		out[1] = 'u';
		out[2] = '0';
		out[3] = '0';
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
	out[0] = '\\';
	out[1] = e;
	return 2;
}

#endif /* SEGD_JSON_ESCAPE_H */
