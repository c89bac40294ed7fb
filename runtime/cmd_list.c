/* runtime/cmd_list.c: `berth list [--format table|json] [--quiet]`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/json.h"
#include "common/util.h"
#include "container.h"

static void print_json(const struct container_summary *list, size_t n)
{
	struct json_writer *w = json_writer_new();

	json_begin_array(w);
	for (size_t i = 0; i < n; i++) {
		const struct container_state *st = &list[i].st;
		bool stopped = list[i].status == STATUS_STOPPED;

		json_begin_map(w);
		json_kv_str(w, "ociVersion", st->oci_version);
		json_kv_str(w, "id", st->id);
		json_kv_i64(w, "pid", stopped ? 0 : st->pid);
		json_kv_str(w, "status", state_status_name(list[i].status));
		json_kv_str(w, "bundle", st->bundle);
		json_kv_str(w, "rootfs", st->rootfs);
		json_kv_str(w, "created", st->created);
		json_kv_str(w, "owner", st->owner);
		json_key(w, "annotations");
		json_begin_map(w);
		for (size_t k = 0; st->annotation_keys && st->annotation_keys[k]; k++)
			json_kv_str(w, st->annotation_keys[k], st->annotation_values[k]);
		json_end_map(w);
		json_end_map(w);
	}
	json_end_array(w);
	puts(json_writer_str(w));
	json_writer_free(w);
}

static void print_table(const struct container_summary *list, size_t n)
{
	printf("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
	       "OWNER");
	for (size_t i = 0; i < n; i++) {
		const struct container_state *st = &list[i].st;
		bool stopped = list[i].status == STATUS_STOPPED;

		printf("%-20s %-8d %-10s %-40s %-32s %s\n", st->id, stopped ? 0 : (int)st->pid,
		       state_status_name(list[i].status), st->bundle, st->created ? st->created : "",
		       st->owner ? st->owner : "");
	}
}

int cmd_list(struct global_opts *g, int argc, char **argv)
{
	const char *format = "table";
	bool quiet = false;
	const struct cli_opt opts[] = {
		{"format", 'f', CLI_STRING, &format},
		{"quiet", 'q', CLI_BOOL, &quiet},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	struct container_summary *list = NULL;
	berr_t e = BERR_INIT;
	size_t n;
	int npos;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "list");
	if (npos != 0) {
		cli_usage(&e, "list", "[--format table|json] [--quiet]");
		return cli_fail(&e, NULL);
	}
	if (strcmp(format, "table") && strcmp(format, "json")) {
		berr_set(&e, EINVAL, "--format: expected table or json, got \"%s\"", format);
		return cli_fail(&e, "list");
	}
	if (container_list(g->root, &list, &n, &e) < 0)
		return cli_fail(&e, "list");
	if (quiet)
		for (size_t i = 0; i < n; i++)
			puts(list[i].st.id);
	else if (strcmp(format, "json") == 0)
		print_json(list, n);
	else
		print_table(list, n);
	container_list_free(list, n);
	return 0;
}
