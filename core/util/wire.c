/* wire.c - control-socket framing (see wire.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

int seg_wire_prefix(char *out, size_t out_len, size_t hdr_len, size_t payload_len)
{
	return snprintf(out, out_len, SEGD_WIRE_MAGIC "%zu %zu\n", hdr_len, payload_len);
}

static size_t number(const char *buf, size_t len, size_t *i, bool *ok)
{
	size_t n = 0, start = *i;

	while (*i < len && *i < start + 19 && buf[*i] >= '0' && buf[*i] <= '9')
		n = n * 10 + (size_t)(buf[(*i)++] - '0');
	*ok = *i > start && (*i >= len || buf[*i] < '0' || buf[*i] > '9');
	return n;
}

int seg_wire_first_line(const char *buf, size_t len, size_t *line_len,
			size_t *hdr_len, size_t *payload_len)
{
	size_t magic = strlen(SEGD_WIRE_MAGIC), i = magic;
	bool ok;

	if (memcmp(buf, SEGD_WIRE_MAGIC, len < magic ? len : magic))
		return -EINVAL;
	if (!memchr(buf, '\n', len))
		return len > magic + 41 ? -EINVAL : -EAGAIN;
	*hdr_len = number(buf, len, &i, &ok);
	if (!ok || i >= len || buf[i++] != ' ')
		return -EINVAL;
	*payload_len = number(buf, len, &i, &ok);
	if (!ok || i >= len || buf[i] != '\n')
		return -EINVAL;
	*line_len = i + 1;
	return 0;
}

int seg_wire_split(const char *buf, size_t len, const char **hdr, size_t *hdr_len,
		   const char **payload, size_t *payload_len)
{
	size_t line, h, p;
	int ret = seg_wire_first_line(buf, len, &line, &h, &p);

	if (ret)
		return -EINVAL;
	if (h > len - line || p != len - line - h)
		return -EINVAL;
	*hdr = buf + line;
	*hdr_len = h;
	*payload = *hdr + h;
	*payload_len = p;
	return 0;
}
