/* quar_allow.c - a quarantine's forensic peer rules as text: parsed where
 * they come in (segctl, the config's detect: quarantine_allow, the state
 * dir) and formatted back (model.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "model.h"

int seg_quar_allow_parse(const char *text, struct seg_quar_allow *out,
			 char *why, size_t why_len)
{
	char addr[128];
	const char *svc = NULL, *end;
	struct seg_error err = { 0 };
	size_t n;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {          /* [IPv6 CIDR]:SERVICE */
		end = strchr(text, ']');
		if (!end || (end[1] && end[1] != ':')) {
			snprintf(why, why_len, "'%s': a bracketed address must end "
				 "with ']' or ']:PORT/PROTO'", text);
			return -EINVAL;
		}
		n = (size_t)(end - text - 1);
		svc = end[1] ? end + 2 : NULL;
		text++;
	} else if ((end = strchr(text, ':')) && !strchr(end + 1, ':')) {
		n = (size_t)(end - text);      /* one colon: IPv4:SERVICE */
		svc = end + 1;
	} else {
		n = strlen(text);              /* no colon, or bare IPv6 */
	}
	if (n == 0 || n >= sizeof(addr)) {
		snprintf(why, why_len, "'%s' is not CIDR[:PORT/PROTO]", text);
		return -EINVAL;
	}
	memcpy(addr, text, n);
	addr[n] = '\0';
	if (seg_cidr_parse(addr, &out->cidr, &err)) {
		snprintf(why, why_len, "%s", err.msg);
		return -EINVAL;
	}
	if (svc && seg_explain_port_parse(svc, &out->proto, &out->port, why, why_len))
		return -EINVAL;
	return 0;
}

void seg_quar_allow_format(const struct seg_quar_allow *a, char *buf, size_t len)
{
	char c[INET6_ADDRSTRLEN + 8], p[8];
	bool v6 = strchr((seg_cidr_format(&a->cidr, c, sizeof(c)), c), ':') != NULL;

	if (!a->proto && !a->port)
		snprintf(buf, len, "%s", c);
	else if (!a->port)
		snprintf(buf, len, v6 ? "[%s]:%s" : "%s:%s", c,
			 seg_proto_name(a->proto, p, sizeof(p)));
	else
		snprintf(buf, len, v6 ? "[%s]:%u/%s" : "%s:%u/%s", c, a->port,
			 a->proto ? seg_proto_name(a->proto, p, sizeof(p)) : "any");
}
