/* runtime/cmd_spec.c: `berth spec [--bundle DIR] [--rootless]`: write a
 * default config.json, refusing to overwrite one. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/util.h"
#include "spec_default.h"

int cmd_spec(struct global_opts *g, int argc, char **argv)
{
	const char *bundle = ".";
	bool rootless = false;
	const struct cli_opt opts[] = {
		{"bundle", 'b', CLI_STRING, &bundle},
		{"rootless", 0, CLI_BOOL, &rootless},
		{0},
	};
	struct spec_defaults d = {0};
	struct id_maps self;
	_cleanup_free_ char **pos = NULL;
	_cleanup_free_ char *json = NULL, *path = NULL;
	berr_t e = BERR_INIT;
	int npos;

	(void)g;
	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "spec");
	if (npos != 0) {
		cli_usage(&e, "spec", "[--bundle DIR] [--rootless]");
		return cli_fail(&e, NULL);
	}
	d.rootless = rootless;
	d.terminal = true;
	/* As runc's: the caller alone, which needs no helper. */
	idmap_self(&self);
	d.idmaps = &self;
	json = spec_default_json(&d);
	id_maps_free(&self);
	path = xasprintf("%s/config.json", bundle);
	if (write_file(path, json, strlen(json), O_CREAT | O_EXCL, 0644, &e) < 0) {
		if (e.errnum == EEXIST)
			berr_set(&e, EEXIST, "\"%s\" exists: remove it first", path);
		return cli_fail(&e, "spec");
	}
	return 0;
}
