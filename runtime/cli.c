/* runtime/cli.c: a small option parser that takes runc's (Go) and crun's
 * (GNU) spellings alike, so that engines and scripts written for either work. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common/log.h"
#include "common/util.h"

static const struct cli_opt *find_long(const struct cli_opt *opts, const char *name, size_t len)
{
	for (const struct cli_opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
			return o;
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *opts, char c)
{
	for (const struct cli_opt *o = opts; o && o->name; o++)
		if (o->short_name && o->short_name == c)
			return o;
	return NULL;
}

static int set_value(const struct cli_opt *o, const char *value, const char *spelled, berr_t *e)
{
	int64_t n;

	switch (o->type) {
	case CLI_BOOL:
		if (!value || !strcmp(value, "true") || !strcmp(value, "1"))
			*(bool *)o->target = true;
		else if (!strcmp(value, "false") || !strcmp(value, "0"))
			*(bool *)o->target = false;
		else
			return berr_set(e, EINVAL, "option %s: expected true or false, got \"%s\"", spelled,
					value);
		return 0;
	case CLI_STRING:
		*(const char **)o->target = value;
		return 0;
	case CLI_INT:
		if (!parse_int64(value, &n) || n < 0 || n > 1 << 30)
			return berr_set(e, EINVAL, "option %s: expected a number, got \"%s\"", spelled, value);
		*(int *)o->target = n;
		return 0;
	case CLI_STRV: {
		char ***v = o->target;
		size_t len = strv_len(*v);

		strv_append(v, &len, xstrdup(value));
		return 0;
	}
	}
	return 0;
}

/* Options that take a value consume the next argument when not given
 * inline. Booleans take a value only inline (--detach=false). */
static int take_option(const struct cli_opt *o, const char *inline_value, int argc, char **argv,
		       int *i, const char *spelled, berr_t *e)
{
	const char *value = inline_value;

	if (o->type != CLI_BOOL && !value) {
		if (*i + 1 >= argc)
			return berr_set(e, EINVAL, "option %s needs a value", spelled);
		value = argv[++*i];
	}
	return set_value(o, value, spelled, e);
}

static int parse_one(const struct cli_opt *opts, int argc, char **argv, int *i, berr_t *e)
{
	const char *arg = argv[*i];
	const char *body = arg[1] == '-' ? arg + 2 : arg + 1;
	const char *eq = strchr(body, '=');
	size_t len = eq ? (size_t)(eq - body) : strlen(body);
	const struct cli_opt *o = find_long(opts, body, len);

	/* --name, --name=v, and Go's -name, -name=v */
	if (o && (arg[1] == '-' || len > 1))
		return take_option(o, eq ? eq + 1 : NULL, argc, argv, i, arg, e);
	if (arg[1] == '-')
		return berr_set(e, EINVAL, "unknown option \"%s\"", arg);
	/* short options, possibly bundled (-af) or with a value (-bDIR, -b=DIR) */
	for (const char *p = body; *p; p++) {
		char spelled[3] = {'-', *p, 0};

		o = find_short(opts, *p);
		if (!o)
			return berr_set(e, EINVAL, "unknown option \"-%c\"", *p);
		if (o->type != CLI_BOOL) {
			const char *v = p[1] ? (p[1] == '=' ? p + 2 : p + 1) : NULL;

			return take_option(o, v, argc, argv, i, spelled, e);
		}
		if (set_value(o, NULL, spelled, e) < 0)
			return -1;
	}
	return 0;
}

int cli_parse(int argc, char **argv, const struct cli_opt *opts, int stop_after,
	      char ***pos, int *npos, berr_t *e)
{
	char **out = xcalloc(argc + 1, sizeof(char *));
	int n = 0;
	bool options_done = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (!options_done && arg[0] == '-' && arg[1]) {
			if (parse_one(opts, argc, argv, &i, e) < 0) {
				free(out);
				return -1;
			}
			continue;
		}
		out[n++] = argv[i];
		if (stop_after > 0 && n == stop_after)
			options_done = true;
	}
	*pos = out;
	*npos = n;
	return 0;
}

int cli_usage(berr_t *e, const char *cmd, const char *usage)
{
	return berr_set(e, EINVAL, "%s: usage: berth %s %s", cmd, cmd, usage);
}

int cli_fail(berr_t *e, const char *fmt, ...)
{
	if (fmt) {
		char *ctx = NULL;
		va_list ap;

		va_start(ap, fmt);
		if (vasprintf(&ctx, fmt, ap) < 0)
			oom();
		va_end(ap);
		berr_wrap(e, "%s", ctx);
		free(ctx);
	}
	log_berr(LOG_ERROR, e);
	berr_free(e);
	return 1;
}

int exec_failure_status(const berr_t *e)
{
	/* Only the executable lookup speaks of "exec: \"": a missing rootfs
	 * or mount source is ENOENT too, but not 127. */
	if (!e->msg || !strstr(e->msg, "exec: \""))
		return 1;
	return e->errnum == ENOENT ? 127 : e->errnum == EACCES ? 126 : 1;
}
