/* lint_cli.h - `segctl lint`: the files given, parsed here with segd's own
 * parser (no segd needed), or the applied state, asked of segd; the
 * findings printed, the exit code from --fail-on. */
#ifndef SEGCTL_LINT_CLI_H
#define SEGCTL_LINT_CLI_H

#include <stdio.h>
#include "args.h"

/* 0 when no finding is at or above --fail-on (default error), 1 when one
 * is (or a file does not parse), 3 when segd is not reachable. */
int segctl_lint(const struct segctl_cmd *cmd, FILE *out, FILE *err);

#endif /* SEGCTL_LINT_CLI_H */
