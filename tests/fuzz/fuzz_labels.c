/* fuzz_labels.c - libFuzzer target for seg_labels_parse, seg_cidr_parse and
 * seg_named_port_parse.
 *
 * Properties checked beyond "no crash / no sanitizer report":
 *   labels: the result is sorted with unique keys, and formatting it back
 *           as "k=v,..." parses to the same set;
 *   CIDRs:  the prefix has no host bits, formats and re-parses to itself,
 *           and contains itself; errors always carry a message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static void check_labels(const char *text)
{
	struct seg_labels l = { 0 }, again = { 0 };
	struct seg_error err = { 0 };
	size_t cap = 1, off = 0;
	char *buf;

	if (seg_labels_parse(text, &l, &err)) {
		if (!err.msg[0])
			abort();
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (i && strcmp(l.v[i - 1].key, l.v[i].key) >= 0)
			abort();
		cap += strlen(l.v[i].key) + strlen(l.v[i].value) + 2;
	}
	buf = malloc(cap);
	if (!buf)
		abort();
	buf[0] = 0;
	for (size_t i = 0; i < l.n; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s=%s",
					i ? "," : "", l.v[i].key, l.v[i].value);
	if (seg_labels_parse(buf, &again, &err) || again.n != l.n)
		abort();
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(again.v[i].key, l.v[i].key) ||
		    strcmp(again.v[i].value, l.v[i].value))
			abort();
	free(buf);
	seg_labels_free(&again);
	seg_labels_free(&l);
}

static void check_cidr(const char *text)
{
	struct seg_cidr c, again;
	struct seg_error err = { 0 };
	char buf[64];

	if (seg_cidr_parse(text, &c, &err)) {
		if (!err.msg[0])
			abort();
		return;
	}
	if (c.plen > 128)
		abort();
	seg_cidr_format(&c, buf, sizeof(buf));
	if (seg_cidr_parse(buf, &again, &err))
		abort();
	if (again.plen != c.plen || memcmp(&again.addr, &c.addr, 16))
		abort();
	if (!seg_cidr_contains(&c, &again))
		abort();
}

/* a named port survives format and parse unchanged */
static void check_named_port(const char *text)
{
	struct seg_named_port p, again;
	const char *why;
	char buf[64];

	if (seg_named_port_parse(text, &p, &why)) {
		if (!why)
			abort();
		return;
	}
	if (seg_port_name_problem(p.name) || !p.port || !p.proto)
		abort();
	seg_named_port_format(&p, buf, sizeof(buf));
	if (seg_named_port_parse(buf, &again, &why) ||
	    memcmp(&p, &again, sizeof(p)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	check_labels(s);
	check_cidr(s);
	check_named_port(s);
	free(s);
	return 0;
}
