/* args.h - segctl's command line -> one control request document.
 * Separate from the socket and the printing so it is unit-tested. */
#ifndef SEGCTL_ARGS_H
#define SEGCTL_ARGS_H

#include <stdbool.h>
#include <stdio.h>
#include <yaml.h>
#include "wire.h"

enum segctl_exit {
	SEGCTL_OK = 0,
	SEGCTL_FAILED = 1,      /* segd rejected it or it failed */
	SEGCTL_USAGE = 2,
	SEGCTL_UNREACHABLE = 3, /* no segd on the socket */
};

enum segctl_format { SEGCTL_TABLE, SEGCTL_JSON, SEGCTL_YAML, SEGCTL_DOT };

struct segctl_cmd {
	const char *socket;      /* --socket, else $SEGD_SOCKET, else default */
	const char *command;     /* request command, e.g. "endpoint.add" */
	const char *what;        /* for get: policies|endpoints|namespaces */
	enum segctl_format format;
	bool help;               /* --help given: text already printed */
	yaml_document_t req;     /* the request; valid when command != NULL */
	char *payload;           /* apply: the files' bytes, back to back */
	size_t payload_len;
};

#define SEGCTL_DEFAULT_SOCKET SEGD_DEFAULT_SOCKET

/* Parse argv. Returns SEGCTL_OK with cmd->req built (or cmd->help set and
 * the help printed to out), or SEGCTL_USAGE with the problem on err.
 * `apply` reads its files here (so a missing file is a usage error). */
int segctl_parse(int argc, char **argv, struct segctl_cmd *cmd, FILE *out,
		 FILE *err);
void segctl_cmd_free(struct segctl_cmd *cmd);

/* `segctl __complete WORD... CUR`: print the words that may stand where
 * CUR (the last argument, maybe "") is being typed, one a line, from the
 * same command table segctl_parse uses, so completion cannot drift from
 * the parser. "__files" means: complete a file name. Returns 0. */
int segctl_complete(int argc, char **argv, FILE *out);

#endif /* SEGCTL_ARGS_H */
