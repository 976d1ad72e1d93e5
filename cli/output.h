/* output.h - print a segd response for the command that asked. */
#ifndef SEGCTL_OUTPUT_H
#define SEGCTL_OUTPUT_H

#include <stdio.h>
#include <yaml.h>
#include "args.h"

/* Print the result (or the error, on err) and return the exit code. */
int segctl_print(const struct segctl_cmd *cmd, yaml_document_t *resp, FILE *out,
		 FILE *err);

#endif /* SEGCTL_OUTPUT_H */
