/* common/json.c: typed, path-reporting access to yajl trees, and a small
 * writer over yajl_gen. Integers are read from yajl's raw text so that the
 * whole uint64 range survives. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "json.h"
#include "util.h"

/* yajl_tree_free recurses once per level, so a few MB of '[' in hostile
 * JSON (a config, an image manifest) would overflow the stack when the tree
 * is freed (found by fuzzing). No real document comes near this depth. */
#define JSON_MAX_DEPTH 1000

static bool nesting_within(const char *text, size_t max)
{
	bool in_string = false;
	size_t depth = 0;

	for (const char *p = text; *p; p++) {
		if (in_string) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_string = false;
		} else if (*p == '"') {
			in_string = true;
		} else if (*p == '[' || *p == '{') {
			if (++depth > max)
				return false;
		} else if ((*p == ']' || *p == '}') && depth > 0) {
			depth--;
		}
	}
	return true;
}

int json_parse(const char *text, const char *what, yajl_val *out, berr_t *e)
{
	char errbuf[512];
	yajl_val v;

	if (!nesting_within(text, JSON_MAX_DEPTH))
		return berr_set(e, EINVAL, "%s: invalid JSON: nested deeper than %d levels", what,
				JSON_MAX_DEPTH);
	errbuf[0] = '\0';
	v = yajl_tree_parse(text, errbuf, sizeof errbuf);
	if (!v) {
		/* yajl's message spans lines and pads them: keep the first
		 * line, which says what went wrong. */
		errbuf[strcspn(errbuf, "\r\n")] = '\0';
		return berr_set(e, EINVAL, "%s: invalid JSON: %s", what,
				errbuf[0] ? errbuf : "parse error");
	}
	*out = v;
	return 0;
}

void json_freep(yajl_val *v)
{
	if (*v)
		yajl_tree_free(*v);
	*v = NULL;
}

yajl_val json_get(yajl_val obj, const char *key)
{
	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	/* Last occurrence wins, as in most JSON decoders. */
	for (size_t i = obj->u.object.len; i-- > 0;) {
		if (strcmp(obj->u.object.keys[i], key) == 0) {
			yajl_val v = obj->u.object.values[i];

			return YAJL_IS_NULL(v) ? NULL : v;
		}
	}
	return NULL;
}

char *json_path_key(const char *parent, const char *key)
{
	if (!parent || !*parent)
		return xstrdup(key);
	return xasprintf("%s.%s", parent, key);
}

char *json_path_index(const char *parent, size_t i)
{
	return xasprintf("%s[%zu]", parent ? parent : "", i);
}

static int type_error(const char *path, const char *what, berr_t *e)
{
	return berr_set(e, EINVAL, "%s: expected %s", path, what);
}

int json_expect_object(yajl_val v, const char *path, berr_t *e)
{
	return YAJL_IS_OBJECT(v) ? 0 : type_error(path, "an object", e);
}

int json_expect_array(yajl_val v, const char *path, berr_t *e)
{
	return YAJL_IS_ARRAY(v) ? 0 : type_error(path, "an array", e);
}

int json_as_str(yajl_val v, const char *path, char **out, berr_t *e)
{
	if (!YAJL_IS_STRING(v))
		return type_error(path, "a string", e);
	free(*out);
	*out = xstrdup(v->u.string);
	return 0;
}

int json_as_bool(yajl_val v, const char *path, bool *out, berr_t *e)
{
	if (YAJL_IS_TRUE(v))
		*out = true;
	else if (YAJL_IS_FALSE(v))
		*out = false;
	else
		return type_error(path, "a boolean", e);
	return 0;
}

/* yajl keeps the literal text of every number in u.number.r. */
static const char *integer_text(yajl_val v)
{
	const char *r;

	if (!YAJL_IS_NUMBER(v))
		return NULL;
	r = v->u.number.r;
	if (!r || strpbrk(r, ".eE"))
		return NULL;
	return r;
}

int json_as_i64(yajl_val v, const char *path, int64_t *out, berr_t *e)
{
	const char *r = integer_text(v);

	if (!r || !parse_int64(r, out))
		return type_error(path, "an integer", e);
	return 0;
}

int json_as_u64(yajl_val v, const char *path, uint64_t *out, berr_t *e)
{
	const char *r = integer_text(v);

	if (!r || !parse_uint64(r, out))
		return type_error(path, "a non-negative integer", e);
	return 0;
}

int json_as_u32(yajl_val v, const char *path, uint32_t *out, berr_t *e)
{
	uint64_t x;

	if (json_as_u64(v, path, &x, e) < 0 || x > UINT32_MAX)
		return berr_set(e, EINVAL, "%s: expected an integer between 0 and %u",
				path, UINT32_MAX);
	*out = x;
	return 0;
}

int json_as_i32(yajl_val v, const char *path, int32_t *out, berr_t *e)
{
	int64_t x;

	if (json_as_i64(v, path, &x, e) < 0 || x < INT32_MIN || x > INT32_MAX)
		return berr_set(e, EINVAL, "%s: expected a 32-bit integer", path);
	*out = x;
	return 0;
}

int json_as_strv(yajl_val v, const char *path, char ***out, berr_t *e)
{
	_cleanup_strv_ char **vec = NULL;
	size_t n;

	if (json_expect_array(v, path, e) < 0)
		return -1;
	n = v->u.array.len;
	vec = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		yajl_val item = v->u.array.values[i];

		if (!YAJL_IS_STRING(item)) {
			_cleanup_free_ char *p = json_path_index(path, i);

			return type_error(p, "a string", e);
		}
		vec[i] = xstrdup(item->u.string);
	}
	strv_free(*out);
	*out = steal_ptr(vec);
	return 0;
}

int json_as_str_map(yajl_val v, const char *path, char ***keys, char ***vals,
		    berr_t *e)
{
	_cleanup_strv_ char **k = NULL;
	_cleanup_strv_ char **val = NULL;
	size_t n;

	if (json_expect_object(v, path, e) < 0)
		return -1;
	n = v->u.object.len;
	k = xcalloc(n + 1, sizeof(char *));
	val = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		yajl_val item = v->u.object.values[i];

		if (!YAJL_IS_STRING(item)) {
			_cleanup_free_ char *p = json_path_key(path, v->u.object.keys[i]);

			return type_error(p, "a string", e);
		}
		k[i] = xstrdup(v->u.object.keys[i]);
		val[i] = xstrdup(item->u.string);
	}
	strv_free(*keys);
	strv_free(*vals);
	*keys = steal_ptr(k);
	*vals = steal_ptr(val);
	return 0;
}

/* Look up a field; returns 1 when present, 0 when absent (an error when
 * required), -1 on error. *fpath is set to the field's path when present. */
static int field(yajl_val obj, const char *path, const char *key, bool required,
		 yajl_val *out, char **fpath, berr_t *e)
{
	*out = json_get(obj, key);
	if (!*out) {
		if (required) {
			_cleanup_free_ char *p = json_path_key(path, key);

			return berr_set(e, EINVAL, "%s: missing required field", p);
		}
		return 0;
	}
	*fpath = json_path_key(path, key);
	return 1;
}

#define DEFINE_FIELD_READER(name, type, conv)                                     \
	int name(yajl_val obj, const char *path, const char *key, bool required,  \
		 type *out, bool *present, berr_t *e)                              \
	{                                                                         \
		_cleanup_free_ char *fp = NULL;                                   \
		yajl_val v;                                                       \
		int r = field(obj, path, key, required, &v, &fp, e);              \
                                                                                  \
		if (present)                                                      \
			*present = r > 0;                                         \
		if (r <= 0)                                                       \
			return r;                                                 \
		return conv(v, fp, out, e);                                       \
	}

DEFINE_FIELD_READER(json_field_i64, int64_t, json_as_i64)
DEFINE_FIELD_READER(json_field_u64, uint64_t, json_as_u64)
DEFINE_FIELD_READER(json_field_u32, uint32_t, json_as_u32)
DEFINE_FIELD_READER(json_field_i32, int32_t, json_as_i32)

int json_field_str(yajl_val obj, const char *path, const char *key, bool required,
		   char **out, berr_t *e)
{
	_cleanup_free_ char *fp = NULL;
	yajl_val v;
	int r = field(obj, path, key, required, &v, &fp, e);

	if (r <= 0)
		return r;
	return json_as_str(v, fp, out, e);
}

int json_field_bool(yajl_val obj, const char *path, const char *key, bool *out,
		    bool *present, berr_t *e)
{
	_cleanup_free_ char *fp = NULL;
	yajl_val v;
	int r = field(obj, path, key, false, &v, &fp, e);

	if (present)
		*present = r > 0;
	if (r <= 0)
		return r;
	return json_as_bool(v, fp, out, e);
}

int json_field_strv(yajl_val obj, const char *path, const char *key,
		    char ***out, berr_t *e)
{
	_cleanup_free_ char *fp = NULL;
	yajl_val v;
	int r = field(obj, path, key, false, &v, &fp, e);

	if (r <= 0)
		return r;
	return json_as_strv(v, fp, out, e);
}

/* ---- writer ---- */

struct json_writer {
	yajl_gen g;
	char *text; /* last NUL-terminated copy handed out */
};

static struct json_writer *writer_new(bool pretty)
{
	struct json_writer *w = xzalloc(sizeof *w);

	w->g = yajl_gen_alloc(NULL);
	if (!w->g)
		oom();
	yajl_gen_config(w->g, yajl_gen_beautify, pretty ? 1 : 0);
	if (pretty)
		yajl_gen_config(w->g, yajl_gen_indent_string, "\t");
	yajl_gen_config(w->g, yajl_gen_escape_solidus, 0);
	yajl_gen_config(w->g, yajl_gen_validate_utf8, 0);
	return w;
}

struct json_writer *json_writer_new(void)
{
	return writer_new(false);
}

struct json_writer *json_writer_new_pretty(void)
{
	return writer_new(true);
}

void json_writer_free(struct json_writer *w)
{
	if (!w)
		return;
	yajl_gen_free(w->g);
	free(w->text);
	free(w);
}

const char *json_writer_str(struct json_writer *w)
{
	const unsigned char *buf;
	size_t len;

	yajl_gen_get_buf(w->g, &buf, &len);
	free(w->text);
	w->text = xstrndup((const char *)buf, len);
	return w->text;
}

size_t json_writer_len(struct json_writer *w)
{
	const unsigned char *buf;
	size_t len;

	yajl_gen_get_buf(w->g, &buf, &len);
	return len;
}

void json_begin_map(struct json_writer *w)
{
	yajl_gen_map_open(w->g);
}

void json_end_map(struct json_writer *w)
{
	yajl_gen_map_close(w->g);
}

void json_begin_array(struct json_writer *w)
{
	yajl_gen_array_open(w->g);
}

void json_end_array(struct json_writer *w)
{
	yajl_gen_array_close(w->g);
}

void json_str(struct json_writer *w, const char *s)
{
	s = s ? s : "";
	yajl_gen_string(w->g, (const unsigned char *)s, strlen(s));
}

void json_i64(struct json_writer *w, int64_t v)
{
	yajl_gen_integer(w->g, v);
}

void json_u64(struct json_writer *w, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%" PRIu64, v);

	yajl_gen_number(w->g, buf, n);
}

void json_bool(struct json_writer *w, bool v)
{
	yajl_gen_bool(w->g, v);
}

void json_null(struct json_writer *w)
{
	yajl_gen_null(w->g);
}

void json_value(struct json_writer *w, yajl_val v)
{
	if (!v || YAJL_IS_NULL(v)) {
		json_null(w);
	} else if (YAJL_IS_STRING(v)) {
		json_str(w, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		yajl_gen_number(w->g, v->u.number.r, strlen(v->u.number.r));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		json_bool(w, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_ARRAY(v)) {
		json_begin_array(w);
		for (size_t i = 0; i < v->u.array.len; i++)
			json_value(w, v->u.array.values[i]);
		json_end_array(w);
	} else if (YAJL_IS_OBJECT(v)) {
		json_begin_map(w);
		for (size_t i = 0; i < v->u.object.len; i++) {
			json_str(w, v->u.object.keys[i]);
			json_value(w, v->u.object.values[i]);
		}
		json_end_map(w);
	}
}

void json_kv_str(struct json_writer *w, const char *k, const char *v)
{
	json_str(w, k);
	json_str(w, v);
}

void json_kv_i64(struct json_writer *w, const char *k, int64_t v)
{
	json_str(w, k);
	json_i64(w, v);
}

void json_kv_u64(struct json_writer *w, const char *k, uint64_t v)
{
	json_str(w, k);
	json_u64(w, v);
}

void json_kv_bool(struct json_writer *w, const char *k, bool v)
{
	json_str(w, k);
	json_bool(w, v);
}

void json_kv_strv(struct json_writer *w, const char *k, char *const *v)
{
	json_str(w, k);
	json_begin_array(w);
	for (size_t i = 0; v && v[i]; i++)
		json_str(w, v[i]);
	json_end_array(w);
}
