/* wire.c - control-socket framing (see wire.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wire.h"

int seg_wire_prefix(char *out, size_t out_len, size_t hdr_len)
{
	return snprintf(out, out_len, SEGD_WIRE_MAGIC "%zu\n", hdr_len);
}

int seg_wire_split(const char *buf, size_t len, const char **hdr, size_t *hdr_len,
		   const char **payload, size_t *payload_len)
{
	size_t magic = strlen(SEGD_WIRE_MAGIC), n = 0, i;

	if (len < magic + 2 || memcmp(buf, SEGD_WIRE_MAGIC, magic))
		return -EINVAL;
	for (i = magic; i < len && i < magic + 20 && buf[i] >= '0' && buf[i] <= '9'; i++)
		n = n * 10 + (size_t)(buf[i] - '0');
	if (i == magic || i >= len || buf[i] != '\n' || n > len - i - 1)
		return -EINVAL;
	*hdr = buf + i + 1;
	*hdr_len = n;
	*payload = *hdr + n;
	*payload_len = len - i - 1 - n;
	return 0;
}
