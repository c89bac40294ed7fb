/* runtime/cmd_image.c: `berth image unpack|inspect|ls`: an image (OCI layout,
 * oci-archive, docker-archive) into a bundle, its summary, its tags. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/json.h"
#include "common/util.h"
#include "image/image.h"
#include "image_run.h"

/* "64M", "2G", "1000": binary multiples. */
static int parse_size(const char *s, const char *opt, uint64_t *out, berr_t *e)
{
	static const char units[] = "KMGT";
	_cleanup_free_ char *num = NULL;
	size_t len;
	const char *u;
	uint64_t v;

	if (!s)
		return 0;
	len = strlen(s);
	u = len ? strchr(units, s[len - 1]) : NULL;
	num = xstrndup(s, u && *u ? len - 1 : len);
	if (!parse_uint64(num, &v) || v == 0)
		return berr_set(e, EINVAL, "%s: expected a size such as 512M, got \"%s\"", opt, s);
	for (int shift = u && *u ? (int)(u - units + 1) * 10 : 0; shift > 0; shift -= 10) {
		if (v > UINT64_MAX >> 10)
			return berr_set(e, EINVAL, "%s: \"%s\" is too large", opt, s);
		v <<= 10;
	}
	*out = v;
	return 0;
}

struct unpack_config {
	bool rootless;
	berr_t *e;
};

static char *make_config(const struct image_runtime *rt, void *arg)
{
	struct unpack_config *uc = arg;
	struct id_maps self;
	char *json;

	if (!uc->rootless)
		return image_config_json(rt, NULL, NULL, false, uc->e);
	/* The unpacked files belong to the caller: only it can be mapped. */
	idmap_self(&self);
	json = image_config_json(rt, &self, NULL, false, uc->e);
	id_maps_free(&self);
	return json;
}

static int image_unpack(struct global_opts *g, int argc, char **argv)
{
	const char *max_bytes = NULL, *max_entries = NULL;
	struct image_opts io = {.rootless = geteuid() != 0};
	const struct cli_opt opts[] = {
		{"quiet", 'q', CLI_BOOL, &io.quiet},
		{"max-bytes", 0, CLI_STRING, &max_bytes},
		{"max-entries", 0, CLI_STRING, &max_entries},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT, cfg_err = BERR_INIT;
	struct unpack_config uc = {.rootless = g->rootless_on, .e = &cfg_err};
	struct image *img = NULL;
	int npos, ret;

	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0 ||
	    parse_size(max_bytes, "--max-bytes", &io.max_bytes, &e) < 0 ||
	    parse_size(max_entries, "--max-entries", &io.max_entries, &e) < 0)
		return cli_fail(&e, "image unpack");
	if (npos != 2) {
		cli_usage(&e, "image unpack", "[--quiet] [--max-bytes SIZE] [--max-entries N] REF BUNDLE");
		return cli_fail(&e, NULL);
	}
	if (image_open(pos[0], &img, &e) < 0)
		return cli_fail(&e, "image unpack %s", pos[0]);
	ret = image_unpack_bundle(img, pos[1], &io, make_config, &uc, &e);
	image_free(img);
	if (ret < 0) {
		if (cfg_err.msg)
			berr_move(&e, &cfg_err);
		berr_free(&cfg_err);
		return cli_fail(&e, "image unpack %s", pos[0]);
	}
	return 0;
}

static int image_inspect(struct global_opts *g, int argc, char **argv)
{
	_cleanup_free_ char **pos = NULL;
	_cleanup_free_ char *json = NULL;
	berr_t e = BERR_INIT;
	struct image *img = NULL;
	int npos;

	(void)g;
	if (cli_parse(argc, argv, NULL, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "image inspect");
	if (npos != 1) {
		cli_usage(&e, "image inspect", "REF");
		return cli_fail(&e, NULL);
	}
	if (image_open(pos[0], &img, &e) < 0 || image_inspect_json(img, &json, &e) < 0) {
		image_free(img);
		return cli_fail(&e, "image inspect %s", pos[0]);
	}
	image_free(img);
	fputs(json, stdout);
	return 0;
}

static void print_tags_json(const struct image_tag *tags, size_t n)
{
	struct json_writer *w = json_writer_new_pretty();

	json_begin_array(w);
	for (size_t i = 0; i < n; i++) {
		json_begin_map(w);
		if (tags[i].name)
			json_kv_str(w, "name", tags[i].name);
		if (tags[i].digest)
			json_kv_str(w, "digest", tags[i].digest);
		if (tags[i].media_type)
			json_kv_str(w, "mediaType", tags[i].media_type);
		if (tags[i].size)
			json_kv_u64(w, "size", tags[i].size);
		json_end_map(w);
	}
	json_end_array(w);
	printf("%s\n", json_writer_str(w));
	json_writer_free(w);
}

static int image_ls(struct global_opts *g, int argc, char **argv)
{
	const char *format = "table";
	const struct cli_opt opts[] = {
		{"format", 'f', CLI_STRING, &format},
		{0},
	};
	_cleanup_free_ char **pos = NULL;
	berr_t e = BERR_INIT;
	struct image_tag *tags = NULL;
	size_t n = 0;
	int npos;

	(void)g;
	if (cli_parse(argc, argv, opts, 0, &pos, &npos, &e) < 0)
		return cli_fail(&e, "image ls");
	if (npos != 1 || (strcmp(format, "table") && strcmp(format, "json"))) {
		cli_usage(&e, "image ls", "[--format table|json] PATH");
		return cli_fail(&e, NULL);
	}
	if (image_list(pos[0], &tags, &n, &e) < 0)
		return cli_fail(&e, "image ls %s", pos[0]);
	if (!strcmp(format, "json")) {
		print_tags_json(tags, n);
	} else {
		printf("%-32s %s\n", "TAG", "DIGEST");
		for (size_t i = 0; i < n; i++)
			printf("%-32s %s\n", tags[i].name ? tags[i].name : "<none>",
			       tags[i].digest ? tags[i].digest : "-");
	}
	image_tags_free(tags, n);
	return 0;
}

static const struct {
	const char *name;
	cmd_fn fn;
} subcommands[] = {
	{"unpack", image_unpack},
	{"inspect", image_inspect},
	{"ls", image_ls},
	{"list", image_ls},
};

int cmd_image(struct global_opts *g, int argc, char **argv)
{
	berr_t e = BERR_INIT;

	if (argc >= 2) {
		for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++)
			if (!strcmp(argv[1], subcommands[i].name))
				return subcommands[i].fn(g, argc - 1, argv + 1);
	}
	berr_set(&e, EINVAL,
		 "image: usage: berth image unpack REF BUNDLE | inspect REF | ls PATH "
		 "(REF: PATH[:TAG] or PATH@sha256:DIGEST)");
	return cli_fail(&e, NULL);
}
