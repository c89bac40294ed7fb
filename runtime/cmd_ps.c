/* runtime/cmd_ps.c: `berth ps [--format table|json] ID [-- ps-options]`: the
 * container's processes from its cgroup (json: an array of pids, as runc). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/json.h"
#include "common/util.h"
#include "container.h"

static int print_table(pid_t *pids, size_t n, char **ps_args, int n_args, berr_t *e)
{
	_cleanup_free_ char *list = xstrdup("");
	size_t argc = 0;
	_cleanup_strv_ char **argv = NULL;

	for (size_t i = 0; i < n; i++) {
		char *next = xasprintf("%s%s%d", list, i ? "," : "", (int)pids[i]);

		free(list);
		list = next;
	}
	if (n == 0) {
		puts("PID TTY TIME CMD");
		return 0;
	}
	strv_append(&argv, &argc, xstrdup("ps"));
	for (int i = 0; i < n_args; i++)
		strv_append(&argv, &argc, xstrdup(ps_args[i]));
	if (n_args == 0)
		strv_append(&argv, &argc, xstrdup("-f"));
	strv_append(&argv, &argc, xstrdup("-p"));
	strv_append(&argv, &argc, xstrdup(list));
	fflush(stdout);
	execvp("ps", argv);
	return berr_sys(e, "exec ps");
}

int cmd_ps(struct global_opts *g, int argc, char **argv)
{
	const char *format = "table";
	const struct cli_opt opts[] = {
		{"format", 'f', CLI_STRING, &format},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	berr_t e = BERR_INIT;
	size_t n;
	int npos;

	if (cli_parse(argc, argv, opts, 1, &pos, &npos, &e) < 0)
		return cli_fail(&e, "ps");
	if (npos < 1) {
		cli_usage(&e, "ps", "[--format table|json] ID [-- ps options]");
		return cli_fail(&e, NULL);
	}
	if (strcmp(format, "table") && strcmp(format, "json")) {
		berr_set(&e, EINVAL, "--format: expected table or json, got \"%s\"", format);
		return cli_fail(&e, "ps");
	}
	if (container_pids(g->root, pos[0], &pids, &n, &e) < 0)
		return cli_fail(&e, "ps %s", pos[0]);
	if (strcmp(format, "json") == 0) {
		struct json_writer *w = json_writer_new();

		json_begin_array(w);
		for (size_t i = 0; i < n; i++)
			json_i64(w, pids[i]);
		json_end_array(w);
		puts(json_writer_str(w));
		json_writer_free(w);
		return 0;
	}
	if (print_table(pids, n, pos + 1, npos - 1, &e) < 0)
		return cli_fail(&e, "ps %s", pos[0]);
	return 0;
}
