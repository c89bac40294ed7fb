/* common/json.h: JSON in and out through yajl. Readers take the JSON path of
 * the value so that a type error reads `process.args[0]: expected a string`. */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "error.h"

/* Parse a whole document; errors carry yajl's position message. */
int json_parse(const char *text, const char *what, yajl_val *out, berr_t *e);
void json_freep(yajl_val *v);
#define _cleanup_json_ __attribute__((cleanup(json_freep)))

/* A member of an object; NULL when v is not an object, the key is absent
 * or its value is JSON null (the spec treats null like an absent field). */
yajl_val json_get(yajl_val obj, const char *key);

/* "parent.key" and "parent[i]"; malloc'd. An empty parent gives "key". */
char *json_path_key(const char *parent, const char *key);
char *json_path_index(const char *parent, size_t i);

/* Type checks of v, whose path is `path`. Fail with "PATH: expected ...". */
int json_expect_object(yajl_val v, const char *path, berr_t *e);
int json_expect_array(yajl_val v, const char *path, berr_t *e);
int json_as_str(yajl_val v, const char *path, char **out, berr_t *e);
int json_as_bool(yajl_val v, const char *path, bool *out, berr_t *e);
int json_as_i64(yajl_val v, const char *path, int64_t *out, berr_t *e);
int json_as_u64(yajl_val v, const char *path, uint64_t *out, berr_t *e);
int json_as_u32(yajl_val v, const char *path, uint32_t *out, berr_t *e);
int json_as_i32(yajl_val v, const char *path, int32_t *out, berr_t *e);
/* An array of strings into a NULL-terminated vector. */
int json_as_strv(yajl_val v, const char *path, char ***out, berr_t *e);
/* An object of string values into parallel NULL-terminated vectors. */
int json_as_str_map(yajl_val v, const char *path, char ***keys, char ***vals,
		    berr_t *e);

/* Field readers: obj is the object at `path`; a missing optional field
 * leaves *out untouched and returns 0, a missing required one fails with
 * "PATH.KEY: missing required field". `*present` (may be NULL) says which. */
int json_field_str(yajl_val obj, const char *path, const char *key, bool required,
		   char **out, berr_t *e);
int json_field_bool(yajl_val obj, const char *path, const char *key, bool *out,
		    bool *present, berr_t *e);
int json_field_i64(yajl_val obj, const char *path, const char *key, bool required,
		   int64_t *out, bool *present, berr_t *e);
int json_field_u64(yajl_val obj, const char *path, const char *key, bool required,
		   uint64_t *out, bool *present, berr_t *e);
int json_field_u32(yajl_val obj, const char *path, const char *key, bool required,
		   uint32_t *out, bool *present, berr_t *e);
int json_field_i32(yajl_val obj, const char *path, const char *key, bool required,
		   int32_t *out, bool *present, berr_t *e);
int json_field_strv(yajl_val obj, const char *path, const char *key,
		    char ***out, berr_t *e);

/* Output. Compact unless pretty; '/' is never escaped; key order is the
 * order of the calls. */
struct json_writer;
struct json_writer *json_writer_new(void);
struct json_writer *json_writer_new_pretty(void);
void json_writer_free(struct json_writer *w);
/* The text so far, NUL-terminated, owned by the writer. */
const char *json_writer_str(struct json_writer *w);
size_t json_writer_len(struct json_writer *w);

void json_begin_map(struct json_writer *w);
void json_end_map(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
void json_str(struct json_writer *w, const char *s);
void json_i64(struct json_writer *w, int64_t v);
void json_u64(struct json_writer *w, uint64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* Re-emit a parsed value (used to pass annotations and unknown data on). */
void json_value(struct json_writer *w, yajl_val v);

void json_kv_str(struct json_writer *w, const char *k, const char *v);
void json_kv_i64(struct json_writer *w, const char *k, int64_t v);
void json_kv_u64(struct json_writer *w, const char *k, uint64_t v);
void json_kv_bool(struct json_writer *w, const char *k, bool v);
void json_kv_strv(struct json_writer *w, const char *k, char *const *v);
#define json_key json_str

#endif
