/* wire.h - framing on segd's control socket.
 *
 * Request:  "segd-request <N> <P>\n", then a YAML header document of N
 *           bytes, then the payload of P bytes: the raw bytes of the files
 *           the header lists (files[i].size each, back to back). Files
 *           travel as they are, so a large one costs no YAML escaping, and
 *           segd can reserve one buffer for the whole request up front.
 * Response: one YAML document; the daemon closes the connection after it.
 */
#ifndef SEGD_WIRE_H
#define SEGD_WIRE_H

#include <stddef.h>

#define SEGD_WIRE_MAGIC "segd-request "

/* where segd listens unless told otherwise (segd, segctl, segd-cni) */
#define SEGD_DEFAULT_SOCKET "/run/segd/segd.sock"

/* Write the first line; returns its length. */
int seg_wire_prefix(char *out, size_t out_len, size_t hdr_len, size_t payload_len);
/* Parse the first line (buf need not hold more): 0 with the lengths and
 * the line's length, -EAGAIN when the line is not complete yet, -EINVAL. */
int seg_wire_first_line(const char *buf, size_t len, size_t *line_len,
			size_t *hdr_len, size_t *payload_len);

/* Split a whole request. 0, or -EINVAL when the framing is wrong. */
int seg_wire_split(const char *buf, size_t len, const char **hdr, size_t *hdr_len,
		   const char **payload, size_t *payload_len);

#endif /* SEGD_WIRE_H */
