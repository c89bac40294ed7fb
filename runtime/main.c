/* runtime/main.c: berth's entry point: global options (runc's and crun's
 * spellings), logging set-up, and dispatch to runtime/cmd_<command>.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"
#include "state.h"

#define BERTH_SPEC_VERSION "1.2.0"

static const struct {
	const char *name;
	cmd_fn fn;
	const char *summary;
} commands[] = {
	{"create", cmd_create, "create a container from a bundle, ready to start"},
	{"start", cmd_start, "start the user process of a created container"},
	{"run", cmd_run, "create and start a container (and wait for it unless -d)"},
	{"state", cmd_state, "print the OCI state of a container"},
	{"kill", cmd_kill, "send a signal to a container's process (or all with --all)"},
	{"delete", cmd_delete, "delete a stopped container (--force: any container)"},
	{"list", cmd_list, "list containers"},
	{"ps", cmd_ps, "list the processes of a container"},
	{"exec", cmd_exec, "run a new process inside a running container"},
	{"update", cmd_update, "change the resources of a running container"},
	{"events", cmd_events, "print a container's resource usage and OOM events"},
	{"net", cmd_net, "berth's bridge networks: create, ls (with leases), rm"},
	{"pause", cmd_pause, "freeze every process of a container"},
	{"resume", cmd_pause, "thaw a paused container"},
	{"spec", cmd_spec, "write a default config.json"},
	{"features", cmd_features, "print the OCI features document"},
	{"image", cmd_image, "unpack, inspect or list OCI images (layouts and archives)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: berth [global options] COMMAND [options] [ID] ...\n\n"
		     "global options:\n"
		     "  --root DIR            state directory (default /run/berth, or\n"
		     "                        $XDG_RUNTIME_DIR/berth when rootless)\n"
		     "  --log FILE            also log to FILE\n"
		     "  --log-format text|json\n"
		     "  --debug               log debug messages\n"
		     "  --systemd-cgroup      use the systemd cgroup driver (needs systemd)\n"
		     "  --cgroup-manager cgroupfs|systemd|disabled\n"
		     "  --rootless true|false|auto\n"
		     "  --version, --help\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

static int resolve_globals(struct global_opts *g, char **root_alloc, berr_t *e)
{
	enum log_format fmt = LOG_FORMAT_TEXT;

	if (g->log_format && strcmp(g->log_format, "json") == 0)
		fmt = LOG_FORMAT_JSON;
	else if (g->log_format && strcmp(g->log_format, "text") != 0)
		return berr_set(e, EINVAL, "--log-format: expected text or json, got \"%s\"",
				g->log_format);
	if (log_setup(g->log, fmt, g->debug, e) < 0)
		return -1;
	if (g->cgroup_manager) {
		if (!strcmp(g->cgroup_manager, "systemd"))
			g->systemd_cgroup = true;
		else if (strcmp(g->cgroup_manager, "cgroupfs") && strcmp(g->cgroup_manager, "disabled"))
			return berr_set(e, EINVAL,
					"--cgroup-manager: expected cgroupfs, systemd or disabled, got \"%s\"",
					g->cgroup_manager);
	}
	if (!g->rootless || !strcmp(g->rootless, "auto"))
		g->rootless_on = geteuid() != 0 || idmap_in_userns();
	else if (!strcmp(g->rootless, "true"))
		g->rootless_on = true;
	else if (!strcmp(g->rootless, "false"))
		g->rootless_on = false;
	else
		return berr_set(e, EINVAL, "--rootless: expected true, false or auto, got \"%s\"",
				g->rootless);
	if (!g->root)
		g->root = *root_alloc = state_default_root();
	return 0;
}

int main(int argc, char **argv)
{
	struct global_opts g = {0};
	bool version = false, help = false;
	const char *criu = NULL;
	const struct cli_opt opts[] = {
		{"root", 0, CLI_STRING, &g.root},
		{"log", 0, CLI_STRING, &g.log},
		{"log-format", 0, CLI_STRING, &g.log_format},
		{"debug", 0, CLI_BOOL, &g.debug},
		{"systemd-cgroup", 0, CLI_BOOL, &g.systemd_cgroup},
		{"cgroup-manager", 0, CLI_STRING, &g.cgroup_manager},
		{"rootless", 0, CLI_STRING, &g.rootless},
		{"criu", 0, CLI_STRING, &criu}, /* runc's; accepted and unused */
		{"version", 'v', CLI_BOOL, &version},
		{"help", 'h', CLI_BOOL, &help},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	_cleanup_free_ char *root_alloc = NULL;
	berr_t e = BERR_INIT;
	int npos, cmd_index, status;

	/* A closed reader (a hook that ignores stdin, a closed pipe) must
	 * give EPIPE, not kill berth. Children reset this. */
	signal(SIGPIPE, SIG_IGN);
	if (cli_parse(argc, argv, opts, 1, &pos, &npos, &e) < 0)
		return cli_fail(&e, NULL);
	if (version) {
		printf("berth version %s\ncommit: %s\nspec: %s\n", BERTH_VERSION, BERTH_COMMIT,
		       BERTH_SPEC_VERSION);
		return 0;
	}
	if (help || npos == 0) {
		usage(help ? stdout : stderr);
		return help ? 0 : 1;
	}
	if (resolve_globals(&g, &root_alloc, &e) < 0)
		return cli_fail(&e, NULL);
	/* The command and everything after it, as the command's own argv. */
	for (cmd_index = 1; cmd_index < argc && argv[cmd_index] != pos[0]; cmd_index++)
		;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, pos[0]) == 0) {
			status = commands[i].fn(&g, argc - cmd_index, argv + cmd_index);
			log_close();
			return status;
		}
	}
	berr_set(&e, EINVAL, "unknown command \"%s\" (see berth --help)", pos[0]);
	return cli_fail(&e, NULL);
}
