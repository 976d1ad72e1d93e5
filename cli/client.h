/* client.h - one request/response round trip over segd's control socket. */
#ifndef SEGCTL_CLIENT_H
#define SEGCTL_CLIENT_H

#include <stdio.h>
#include <yaml.h>

/* Send req (and payload, raw, after it; see daemon/wire.h), wait for the answer (timeout_ms, 0 = none), parse it into
 * *resp. Returns 0, or SEGCTL_UNREACHABLE / SEGCTL_FAILED with the reason
 * on err. */
int segctl_roundtrip(const char *socket_path, yaml_document_t *req,
		     const char *payload, size_t payload_len,
		     yaml_document_t *resp, int timeout_ms, FILE *err);

#endif /* SEGCTL_CLIENT_H */
