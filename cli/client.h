/* client.h - one request/response round trip over segd's control socket. */
#ifndef SEGCTL_CLIENT_H
#define SEGCTL_CLIENT_H

#include <stdio.h>
#include <yaml.h>

/* how long segctl waits for an answer */
#define SEGCTL_REQUEST_TIMEOUT_MS 60000

/* Send req (and payload, raw, after it; see core/util/wire.h), wait for the answer (timeout_ms, 0 = none), parse it into
 * *resp. Returns 0, or SEGCTL_UNREACHABLE / SEGCTL_FAILED with the reason
 * on err. */
int segctl_roundtrip(const char *socket_path, yaml_document_t *req,
		     const char *payload, size_t payload_len,
		     yaml_document_t *resp, int timeout_ms, FILE *err);

/* A streaming request (flows --follow): the answer, a YAML document that
 * segd ends with "...", goes to on_answer (its return value stops the
 * stream when not 0); then every line segd sends to on_line, until segd
 * closes the connection. Returns 0 or a SEGCTL_* code. */
typedef int (*segctl_answer_fn)(void *ctx, yaml_document_t *resp);
typedef void (*segctl_line_fn)(void *ctx, const char *line, size_t len);
int segctl_stream(const char *socket_path, yaml_document_t *req,
		  segctl_answer_fn on_answer, segctl_line_fn on_line, void *ctx,
		  FILE *err);

#endif /* SEGCTL_CLIENT_H */
