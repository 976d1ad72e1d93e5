/* hostport.h - "HOST:PORT" and "[IPv6]:PORT" as segd's settings write
 * addresses (metrics_addr, ipfix_collectors). */
#ifndef SEGD_HOSTPORT_H
#define SEGD_HOSTPORT_H

#include <stddef.h>

/* Copy the host (without brackets) into host and point *port at the text
 * after the colon. -EINVAL when the brackets are wrong, a bare IPv6
 * address has no brackets, the host or the port is empty, or the host
 * does not fit host_len. */
int seg_split_host_port(const char *text, char *host, size_t host_len,
			const char **port);

#endif /* SEGD_HOSTPORT_H */
