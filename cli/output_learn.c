/* output_learn.c - how segctl prints `recommend`: the YAML documents as
 * segd wrote them (comments included, ready for `> policy.yaml`), or
 * with -o json the same documents as JSON beside the summary. */
#include <string.h>
#include "output.h"
#include "yaml_util.h"

struct docs_ctx {
	yaml_document_t *out;
	int seq;
};

static int copy_doc(yaml_document_t *doc, void *p)
{
	struct docs_ctx *x = p;
	int id = yu_root(doc) ? yu_copy(x->out, doc, 1) : -1;

	return id < 0 ? 0 : yu_append(x->out, x->seq, id);
}

int segctl_print_recommend(const struct segctl_cmd *cmd, yaml_document_t *resp,
			   yaml_node_t *res, FILE *out, FILE *err)
{
	const char *text = yu_scalar(yu_map_get(resp, res, "documents"));
	static const char *const counts[] = { "edges", "workloads", "rules",
					      "not_expressible" };
	struct seg_error perr = { 0 };
	yaml_document_t j;
	struct docs_ctx x = { &j, 0 };
	int top, ret;

	if (!text)
		text = "";
	if (cmd->format != SEGCTL_JSON) {
		fputs(text, out);
		return SEGCTL_OK;
	}
	if (!yaml_document_initialize(&j, NULL, NULL, NULL, 1, 1))
		return SEGCTL_FAILED;
	top = yu_add_map(&j);
	x.seq = yu_add_seq(&j);
	ret = top < 0 || x.seq < 0 ||
	      yu_set_str(&j, top, "kind", yu_scalar(yu_map_get(resp, res, "kind")));
	for (size_t i = 0; !ret && i < sizeof(counts) / sizeof(counts[0]); i++)
		ret = yu_set_str(&j, top, counts[i],
				 yu_scalar(yu_map_get(resp, res, counts[i])));
	if (!ret)
		ret = yu_set(&j, top, "documents", x.seq) ||
		      yu_load_all(text, strlen(text), "recommendation", copy_doc, &x, &perr);
	if (ret)
		fprintf(err, "segctl: cannot turn the recommendation into JSON: %s\n",
			*perr.msg ? perr.msg : "out of memory");
	else
		yu_write_json(out, &j);
	yaml_document_delete(&j);
	return ret ? SEGCTL_FAILED : SEGCTL_OK;
}
