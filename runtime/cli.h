/* runtime/cli.h: command-line parsing shared by the cmd_*.c front ends, and
 * the global options every command sees. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include <stdbool.h>

#include "common/error.h"

struct global_opts {
	const char *root;
	const char *log;
	const char *log_format;
	bool debug;
	bool systemd_cgroup;
	const char *cgroup_manager;
	const char *rootless; /* "true", "false", "auto" */
	bool rootless_on;     /* the resolved value */
};

enum cli_type { CLI_BOOL, CLI_STRING, CLI_INT, CLI_STRV };

struct cli_opt {
	const char *name;  /* long name, without dashes */
	char short_name;   /* 0 if none */
	enum cli_type type;
	void *target;      /* bool*, const char**, int*, or char*** (appended) */
};

/* The options `create` and `run` share, over a struct create_opts `o` and a
 * char **`publish` (one entry per -p). */
#define CREATE_CLI_OPTS(o, publish)                                        \
	{"bundle", 'b', CLI_STRING, &(o).bundle},                          \
	{"pid-file", 0, CLI_STRING, &(o).pid_file},                        \
	{"console-socket", 0, CLI_STRING, &(o).console_socket},            \
	{"preserve-fds", 0, CLI_INT, &(o).preserve_fds},                   \
	{"no-pivot", 0, CLI_BOOL, &(o).no_pivot},                          \
	{"no-new-keyring", 0, CLI_BOOL, &(o).no_new_keyring},              \
	{"vm", 0, CLI_BOOL, &(o).vm},                                      \
	{"vm-accel", 0, CLI_STRING, &(o).vm_accel},                        \
	{"vm-kernel", 0, CLI_STRING, &(o).vm_kernel},                      \
	{"vm-memory", 0, CLI_STRING, &(o).vm_memory},                      \
	{"vm-cpus", 0, CLI_INT, &(o).vm_cpus},                             \
	{"net", 0, CLI_STRING, &(o).net},                                  \
	{"publish", 'p', CLI_STRV, &(publish)}

/* Parse argv[1..]: options (anywhere before "--", or before the positional
 * that makes `stop_after` positionals) and positionals. Accepts --name v,
 * --name=v, -n v, -n=v, -nv, and Go's single-dash -name. *pos and *npos
 * receive the positional arguments (pointers into argv, vector malloc'd). */
int cli_parse(int argc, char **argv, const struct cli_opt *opts, int stop_after,
	      char ***pos, int *npos, berr_t *e);

/* Usage errors say what was expected: "kill: expected ID [SIGNAL]". */
int cli_usage(berr_t *e, const char *cmd, const char *usage);

/* One function per command, in runtime/cmd_<name>.c; argv[0] is the
 * command's name. Return the process exit status. */
typedef int (*cmd_fn)(struct global_opts *g, int argc, char **argv);
int cmd_create(struct global_opts *g, int argc, char **argv);
int cmd_start(struct global_opts *g, int argc, char **argv);
int cmd_run(struct global_opts *g, int argc, char **argv);
int cmd_state(struct global_opts *g, int argc, char **argv);
int cmd_kill(struct global_opts *g, int argc, char **argv);
int cmd_delete(struct global_opts *g, int argc, char **argv);
int cmd_list(struct global_opts *g, int argc, char **argv);
int cmd_spec(struct global_opts *g, int argc, char **argv);
int cmd_features(struct global_opts *g, int argc, char **argv);
int cmd_pause(struct global_opts *g, int argc, char **argv);
int cmd_ps(struct global_opts *g, int argc, char **argv);
int cmd_image(struct global_opts *g, int argc, char **argv);
int cmd_exec(struct global_opts *g, int argc, char **argv);
int cmd_update(struct global_opts *g, int argc, char **argv);
int cmd_events(struct global_opts *g, int argc, char **argv);
int cmd_net(struct global_opts *g, int argc, char **argv);

/* The exit status for a failure: 127 when the command was not found, 126
 * when it was not executable (as a shell reports them), 1 otherwise. */
int exec_failure_status(const berr_t *e);

/* Print e (wrapped with `context` when given) and return exit status 1. */
int cli_fail(berr_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
