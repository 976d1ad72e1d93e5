/* commands.h - segctl's command table: the words, the control request
 * each becomes, its usage, help and accepted arguments (commands.c). */
#ifndef SEGCTL_COMMANDS_H
#define SEGCTL_COMMANDS_H

#include <stddef.h>

struct segctl_command {
	const char *words;      /* "endpoint add" */
	const char *request;    /* control command */
	const char *usage;
	const char *help;
	/* positional arguments after the words, by the args key they fill;
	 * "file" reads a file into the payload, "files..." takes one or more */
	const char *const *pos;
	const char *const *options; /* accepted long options taking a value */
	const char *const *flags;   /* accepted long options without a value */
};

extern const char segctl_top_help[];
extern const struct segctl_command segctl_commands[];
extern const size_t segctl_n_commands;

#endif /* SEGCTL_COMMANDS_H */
