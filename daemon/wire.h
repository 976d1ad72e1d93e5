/* wire.h - framing on segd's control socket.
 *
 * Request:  "segd-request <N>\n", then a YAML header document of N bytes,
 *           then the payload: the raw bytes of the files the header lists
 *           (files[i].size each, back to back). Policy files travel as they
 *           are, so a large file costs no YAML escaping on either side.
 * Response: one YAML document; the daemon closes the connection after it.
 */
#ifndef SEGD_WIRE_H
#define SEGD_WIRE_H

#include <stddef.h>

#define SEGD_WIRE_MAGIC "segd-request "

/* Write the first line for a header of hdr_len bytes; returns its length. */
int seg_wire_prefix(char *out, size_t out_len, size_t hdr_len);

/* Split a whole request. 0, or -EINVAL when the framing is wrong. */
int seg_wire_split(const char *buf, size_t len, const char **hdr, size_t *hdr_len,
		   const char **payload, size_t *payload_len);

#endif /* SEGD_WIRE_H */
