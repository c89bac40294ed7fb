/* runtime/cmd_events.c: `berth events [--stats] [--interval 5s] ID`: JSON
 * lines of resource usage and OOM kills, as runc prints them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/util.h"
#include "container.h"

/* "5s", "500ms", "1m" or plain seconds -> milliseconds. */
static int parse_interval(const char *s, int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -1;
	if (!strcmp(end, "ms"))
		*ms = v;
	else if (!*end || !strcmp(end, "s"))
		*ms = v * 1000;
	else if (!strcmp(end, "m"))
		*ms = v * 60000;
	else
		return -1;
	return *ms > 0 ? 0 : -1;
}

int cmd_events(struct global_opts *g, int argc, char **argv)
{
	bool stats = false;
	const char *interval = "5s";
	const struct cli_opt opts[] = {
		{"stats", 0, CLI_BOOL, &stats},
		{"interval", 0, CLI_STRING, &interval},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	int npos, ms;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "events");
	if (npos != 1) {
		cli_usage(&e, "events", "[--stats] [--interval DURATION] ID");
		return cli_fail(&e, NULL);
	}
	if (parse_interval(interval, &ms) < 0) {
		berr_set(&e, EINVAL, "--interval: invalid duration \"%s\"", interval);
		return cli_fail(&e, "events");
	}
	if (container_events(g->root, pos[0], stats, ms, &e) < 0)
		return cli_fail(&e, "events %s", pos[0]);
	return 0;
}
