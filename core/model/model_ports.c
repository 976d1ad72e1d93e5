/* model_ports.c - named ports: the names endpoints give their container
 * ports, which policies may use instead of numbers (`port: http`). */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Kubernetes' IsValidPortName: 1-15 characters of [a-z0-9-], at least
 * one letter, no '-' at either end, no "--". */
const char *seg_port_name_problem(const char *name)
{
	size_t n = strlen(name);
	bool letter = false;

	if (n == 0)
		return "a port name cannot be empty";
	if (n > SEG_PORT_NAME_MAX)
		return "a port name has at most 15 characters";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (islower(ch))
			letter = true;
		else if (!isdigit(ch) && ch != '-')
			return "a port name may hold only lower-case letters, "
			       "digits and '-'";
	}
	if (!letter)
		return "a port name needs at least one letter";
	if (name[0] == '-' || name[n - 1] == '-')
		return "a port name cannot begin or end with '-'";
	if (strstr(name, "--"))
		return "a port name cannot hold '--'";
	return NULL;
}

static const struct {
	const char *name;
	uint8_t proto;
} port_protos[] = {
	{ "TCP", IPPROTO_TCP }, { "UDP", IPPROTO_UDP }, { "SCTP", IPPROTO_SCTP },
};

int seg_named_port_parse(const char *text, struct seg_named_port *out,
			 const char **why)
{
	const char *eq = strchr(text, '='), *num, *slash;
	char *end;
	unsigned long v;
	size_t nlen;

	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (!eq) {
		*why = "expected NAME=NUMBER[/TCP|UDP|SCTP]";
		return -EINVAL;
	}
	nlen = (size_t)(eq - text);
	if (nlen > SEG_PORT_NAME_MAX) {
		*why = "a port name has at most 15 characters";
		return -EINVAL;
	}
	memcpy(out->name, text, nlen);
	out->name[nlen] = 0;
	if ((*why = seg_port_name_problem(out->name)))
		return -EINVAL;
	num = eq + 1;
	slash = strchr(num, '/');
	if (!isdigit((unsigned char)*num)) {
		*why = "the port number must be 1-65535";
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(num, &end, 10);
	if (errno || v < 1 || v > 65535 || (slash ? end != slash : *end)) {
		*why = "the port number must be 1-65535";
		return -EINVAL;
	}
	out->port = (uint16_t)v;
	out->proto = IPPROTO_TCP;
	if (!slash)
		return 0;
	for (size_t i = 0; i < sizeof(port_protos) / sizeof(port_protos[0]); i++)
		if (!strcmp(slash + 1, port_protos[i].name)) {
			out->proto = port_protos[i].proto;
			return 0;
		}
	*why = "the protocol must be TCP, UDP or SCTP";
	return -EINVAL;
}

void seg_named_port_format(const struct seg_named_port *p, char *buf,
			   size_t len)
{
	const char *proto = "?";

	for (size_t i = 0; i < sizeof(port_protos) / sizeof(port_protos[0]); i++)
		if (port_protos[i].proto == p->proto)
			proto = port_protos[i].name;
	snprintf(buf, len, "%s=%u/%s", p->name, p->port, proto);
}

int seg_endpoint_add_port(struct seg_endpoint *e,
			  const struct seg_named_port *p)
{
	size_t at = 0;

	while (at < e->n_ports && strcmp(e->ports[at].name, p->name) < 0)
		at++;
	if (at < e->n_ports && !strcmp(e->ports[at].name, p->name))
		return -EEXIST;
	if (e->n_ports == SEG_MAX_EP_PORTS)
		return -E2BIG;
	memmove(&e->ports[at + 1], &e->ports[at],
		(e->n_ports - at) * sizeof(e->ports[0]));
	e->ports[at] = *p;
	e->n_ports++;
	return 0;
}

const struct seg_named_port *seg_endpoint_port(const struct seg_endpoint *e,
					       const char *name, uint8_t proto)
{
	for (size_t i = 0; i < e->n_ports; i++)
		if (!strcmp(e->ports[i].name, name))
			return !proto || e->ports[i].proto == proto ?
			       &e->ports[i] : NULL;
	return NULL;
}

const char *seg_cidr_match_name(enum seg_cidr_match m)
{
	return m == SEG_CIDR_MATCH_OUTSIDE ? "outside" : "all";
}

int seg_cidr_match_parse(const char *s, enum seg_cidr_match *out)
{
	if (s && !strcmp(s, "all"))
		*out = SEG_CIDR_MATCH_ALL;
	else if (s && !strcmp(s, "outside"))
		*out = SEG_CIDR_MATCH_OUTSIDE;
	else
		return -EINVAL;
	return 0;
}

const char *seg_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

int seg_explain_port_parse(const char *text, uint8_t *proto, uint16_t *port,
			   char *why, size_t why_len)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP,
					  IPPROTO_ICMP, IPPROTO_ICMPV6 };
	const char *slash = strchr(text, '/'), *name = slash ? slash + 1 : text;
	char buf[8], sink[8];
	long n = 0;

	if (!why) {
		why = sink;
		why_len = sizeof(sink);
	}

	if (slash) {
		char *end;

		n = strtol(text, &end, 10);
		if (end != slash || slash == text || n < 0 || n > 65535) {
			snprintf(why, why_len,
				 "'%.*s' is not a port; use a number from 0 to 65535, "
				 "e.g. 443/tcp", (int)(slash - text), text);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < sizeof(protos); i++) {
		if (strcasecmp(name, seg_proto_name(protos[i], buf, sizeof(buf))))
			continue;
		if (n && (protos[i] == IPPROTO_ICMP || protos[i] == IPPROTO_ICMPV6)) {
			snprintf(why, why_len,
				 "%s has no ports; write '%s' or '0/%s'", name, name, name);
			return -EINVAL;
		}
		*proto = protos[i];
		*port = (uint16_t)n;
		return 0;
	}
	snprintf(why, why_len,
		 "unknown protocol '%s' in '%s'; use N/tcp, N/udp, N/sctp, icmp or "
		 "icmpv6", name, text);
	return -EINVAL;
}
