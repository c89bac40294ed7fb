/* runtime/cmd_state.c: `berth state ID`: the container's OCI state JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"

int cmd_state(struct global_opts *g, int argc, char **argv)
{
	_cleanup_free_ char **pos = NULL;
	_cleanup_free_ char *json = NULL;
	berr_t e = BERR_INIT;
	int npos;

	if (cli_parse(argc, argv, NULL, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "state");
	if (npos != 1) {
		cli_usage(&e, "state", "ID");
		return cli_fail(&e, NULL);
	}
	if (container_state_json(g->root, pos[0], &json, &e) < 0)
		return cli_fail(&e, "state %s", pos[0]);
	puts(json);
	return 0;
}
