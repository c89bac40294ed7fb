/* runtime/cmd_kill.c: `berth kill [--all] ID [SIGNAL]`: signal the init (or
 * every process of the container); names and numbers, default SIGTERM. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"

int cmd_kill(struct global_opts *g, int argc, char **argv)
{
	bool all = false;
	const struct cli_opt opts[] = {
		{"all", 'a', CLI_BOOL, &all},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos, signo = SIGTERM;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "kill");
	if (npos < 1 || npos > 2) {
		cli_usage(&e, "kill", "[--all] ID [SIGNAL]");
		return cli_fail(&e, NULL);
	}
	if (npos == 2 && (signo = signal_parse(pos[1])) < 0) {
		berr_set(&e, EINVAL, "unknown signal \"%s\"", pos[1]);
		return cli_fail(&e, "kill %s", pos[0]);
	}
	if (container_kill(g->root, pos[0], signo, all, &e) < 0)
		return cli_fail(&e, "kill %s", pos[0]);
	return 0;
}
