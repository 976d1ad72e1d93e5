/* alerts_cli.h - `segctl alerts [--follow]`: ask segd for the recent
 * alerts and print them (output_alerts.c); with --follow ask again every
 * 200 ms for the ones raised since, until interrupted. */
#ifndef SEGCTL_ALERTS_CLI_H
#define SEGCTL_ALERTS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>
#include "args.h"

#define SEGCTL_ALERTS_POLL_MS 200

/* The exit code: 0, 1 (segd refused), 3 (segd not reachable). */
int segctl_alerts(const struct segctl_cmd *cmd, FILE *out, FILE *err);

/* Print the alerts of one answer: with -o json one JSON object a line,
 * with -o yaml one document each; else a table (first) or one line each
 * (as_lines: the later answers of --follow). *last_id gets the answer's
 * last_id. Returns the exit code (an error answer goes to err). */
int segctl_print_alerts(const struct segctl_cmd *cmd, yaml_document_t *resp,
			bool as_lines, uint64_t *last_id, FILE *out, FILE *err);

#endif /* SEGCTL_ALERTS_CLI_H */
