/* output.h - print a segd response for the command that asked. */
#ifndef SEGCTL_OUTPUT_H
#define SEGCTL_OUTPUT_H

#include <stdio.h>
#include <yaml.h>
#include "args.h"

/* Print the result (or the error, on err) and return the exit code. */
int segctl_print(const struct segctl_cmd *cmd, yaml_document_t *resp, FILE *out,
		 FILE *err);

/* SEGCTL_OK with *res the answer's result, or the answer's exit code with
 * its error printed on err (segd refused). */
int segctl_answer(yaml_document_t *resp, yaml_node_t **res, FILE *err);

/* A record streamed by `flows --follow` (one JSON line). */
void segctl_print_flow_record(const struct segctl_cmd *cmd, const char *line, size_t len,
			      FILE *out);

/* `recommend`'s documents (output_learn.c). */
int segctl_print_recommend(const struct segctl_cmd *cmd, yaml_document_t *resp,
			   yaml_node_t *res, FILE *out, FILE *err);
/* nrows rows of ncols cells each (row-major; the first row is the
 * header) as a table whose columns line up. */
void segctl_table(FILE *f, int ncols, const char *const *cells, size_t nrows);

#endif /* SEGCTL_OUTPUT_H */
