/* runtime/cmd_exec.c: `berth exec [options] ID [COMMAND...]`: run a process
 * in a container, in the foreground (its exit status) or --detach. */
#include <stdlib.h>

#include "cli.h"
#include "common/util.h"
#include "exec.h"

int cmd_exec(struct global_opts *g, int argc, char **argv)
{
	struct exec_opts o = {.root = g->root, .rootless = g->rootless_on};
	_cleanup_strv_ char **env = NULL, **gids = NULL, **caps = NULL;
	const struct cli_opt opts[] = {
		{"process", 'p', CLI_STRING, &o.process_file},
		{"tty", 't', CLI_BOOL, &o.tty},
		{"console-socket", 0, CLI_STRING, &o.console_socket},
		{"detach", 'd', CLI_BOOL, &o.detach},
		{"pid-file", 0, CLI_STRING, &o.pid_file},
		{"cwd", 0, CLI_STRING, &o.cwd},
		{"env", 'e', CLI_STRV, &env},
		{"user", 'u', CLI_STRING, &o.user},
		{"additional-gids", 'g', CLI_STRV, &gids},
		{"cap", 'c', CLI_STRV, &caps},
		{"no-new-privs", 0, CLI_BOOL, &o.no_new_privs},
		{"preserve-fds", 0, CLI_INT, &o.preserve_fds},
		{"process-label", 0, CLI_STRING, &o.process_label},
		{"apparmor", 0, CLI_STRING, &o.apparmor},
		{"cgroup", 0, CLI_STRING, &o.cgroup},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos, status = 0;

	/* Options end at the container id: what follows is the command's. */
	if (cli_parse(argc, argv, opts, 1, &pos, &npos, &e) < 0)
		return cli_fail(&e, "exec");
	if (npos < 1 || (npos == 1 && !o.process_file)) {
		cli_usage(&e, "exec", "[options] ID COMMAND [ARG...] | [options] --process FILE ID");
		return cli_fail(&e, NULL);
	}
	o.id = pos[0];
	o.args = pos + 1;
	o.env = env;
	o.additional_gids = gids;
	o.caps = caps;
	if (container_exec(&o, &status, &e) < 0) {
		int code = exec_failure_status(&e);

		cli_fail(&e, "exec %s", o.id);
		return code;
	}
	return status;
}
