/* hostport.c - split "HOST:PORT" / "[IPv6]:PORT" (hostport.h). */
#include <errno.h>
#include <string.h>
#include "hostport.h"

int seg_split_host_port(const char *text, char *host, size_t host_len,
			const char **port)
{
	const char *colon, *h = text;
	size_t hlen;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = text + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || strchr(text, ':') != colon)
			return -EINVAL;   /* bare IPv6 needs brackets */
		hlen = (size_t)(colon - text);
	}
	if (!hlen || hlen >= host_len || !colon[1])
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = colon + 1;
	return 0;
}
