/* common/mountinfo.c: a parser of proc(5)'s mountinfo format, including the
 * octal escapes (\040 for a space) in paths. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mountinfo.h"
#include "util.h"

static char *unescape(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 3 < len &&
		    s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			out[n++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	return out;
}

/* Split a line into space-separated fields (at most max). */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(line, " ", &save); tok && n < max;
	     tok = strtok_r(NULL, " ", &save))
		fields[n++] = tok;
	return n;
}

static int parse_line(char *line, struct mountinfo_entry *me)
{
	char *f[64];
	size_t n = split_fields(line, f, ARRAY_SIZE(f));
	size_t sep = 0;
	_cleanup_free_ char *optional = NULL;

	/* id parent major:minor root mount_point opts [optional...] - type source super */
	for (size_t i = 6; i < n; i++) {
		if (strcmp(f[i], "-") == 0) {
			sep = i;
			break;
		}
	}
	if (sep == 0 || sep + 2 >= n)
		return -1;
	memset(me, 0, sizeof *me);
	me->id = atoi(f[0]);
	me->parent = atoi(f[1]);
	me->root = unescape(f[3], strlen(f[3]));
	me->mount_point = unescape(f[4], strlen(f[4]));
	me->mount_opts = xstrdup(f[5]);
	optional = xstrdup("");
	for (size_t i = 6; i < sep; i++) {
		char *next = xasprintf("%s%s%s", optional, *optional ? " " : "", f[i]);

		free(optional);
		optional = next;
	}
	me->optional = steal_ptr(optional);
	me->fstype = xstrdup(f[sep + 1]);
	me->source = unescape(f[sep + 2], strlen(f[sep + 2]));
	me->super_opts = xstrdup(sep + 3 < n ? f[sep + 3] : "");
	return 0;
}

int mountinfo_parse(const char *text, struct mountinfo *mi, berr_t *e)
{
	_cleanup_free_ char *copy = xstrdup(text);
	char *save = NULL;

	memset(mi, 0, sizeof *mi);
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mountinfo_entry me;

		if (parse_line(line, &me) < 0) {
			mountinfo_free(mi);
			return berr_set(e, EINVAL, "malformed mountinfo line");
		}
		mi->entries = xreallocarray(mi->entries, mi->n + 1, sizeof *mi->entries);
		mi->entries[mi->n++] = me;
	}
	return 0;
}

int mountinfo_read(const char *path, struct mountinfo *mi, berr_t *e)
{
	_cleanup_free_ char *text = NULL;

	if (read_file(path ? path : "/proc/self/mountinfo", &text, NULL, e) < 0)
		return -1;
	return mountinfo_parse(text, mi, e);
}

void mountinfo_free(struct mountinfo *mi)
{
	for (size_t i = 0; i < mi->n; i++) {
		struct mountinfo_entry *me = &mi->entries[i];

		free(me->root);
		free(me->mount_point);
		free(me->mount_opts);
		free(me->optional);
		free(me->fstype);
		free(me->source);
		free(me->super_opts);
	}
	free(mi->entries);
	memset(mi, 0, sizeof *mi);
}

const struct mountinfo_entry *mountinfo_find(const struct mountinfo *mi,
					     const char *mount_point)
{
	for (size_t i = mi->n; i-- > 0;)
		if (strcmp(mi->entries[i].mount_point, mount_point) == 0)
			return &mi->entries[i];
	return NULL;
}
