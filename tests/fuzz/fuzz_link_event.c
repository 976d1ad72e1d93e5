/* fuzz_link_event.c - libFuzzer target for the two parsers of outside
 * input that segd added for issue 6: rtnetlink link messages
 * (seg_link_event_parse, fed from the kernel) and `--port N/PROTO` of
 * explain (seg_explain_port_parse, typed by a user).
 *
 * Properties beyond "no crash / no sanitizer report":
 *   link:  a parsed interface name is NUL-terminated within IFNAMSIZ;
 *   port:  a parsed port formats back ("N/proto") and parses to the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "explain.h"
#include "link_event.h"
#include "flow_names.h"

static void check_link(const uint8_t *data, size_t size)
{
	/* netlink messages are 4-byte aligned in the kernel's buffer */
	void *msg = malloc(size ? size : 1);
	struct seg_link_event ev;

	if (!msg)
		abort();
	memcpy(msg, data, size);
	if (!seg_link_event_parse(msg, size, &ev) &&
	    strnlen(ev.ifname, sizeof(ev.ifname)) >= sizeof(ev.ifname))
		abort();
	free(msg);
}

static void check_port(const uint8_t *data, size_t size)
{
	char text[64], again[64], pbuf[8], err[256];
	uint8_t proto, proto2;
	uint16_t port, port2;
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;

	memcpy(text, data, n);
	text[n] = '\0';
	if (seg_explain_port_parse(text, &proto, &port, err, sizeof(err)))
		return;
	snprintf(again, sizeof(again), "%u/%s", port, seg_proto_name(proto, pbuf, sizeof(pbuf)));
	if (seg_explain_port_parse(again, &proto2, &port2, err, sizeof(err)) ||
	    proto2 != proto || port2 != port)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	/* the first byte picks the parser */
	if (data[0] & 1)
		check_link(data + 1, size - 1);
	else
		check_port(data + 1, size - 1);
	return 0;
}
