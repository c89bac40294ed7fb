/* common/error.h: the error object every fallible berth function fills.
 * Functions return 0 or a negative value; the caller owns the berr_t. */
#ifndef BERTH_ERROR_H
#define BERTH_ERROR_H

#include <stdarg.h>
#include <stdbool.h>

typedef struct berr {
	int errnum; /* errno of the failed call, 0 when none applies */
	char *msg;  /* message chain, outermost context first */
	bool complete; /* msg already says what errnum means (no strerror) */
} berr_t;

#define BERR_INIT {0, NULL, false}

/* Replace any previous error. All return -1 so that callers can write
 * `return berr_set (e, ...)`.
 *
 * berr_set: the text says it all; errnum only classifies (exit codes,
 * ENOENT checks). Validation errors read "process.args[0]: expected a string".
 * berr_sys: a failed call; errnum = errno, and the text gains ": strerror".
 * berr_errno: the same with an explicit errno (libraries returning -errno). */
int berr_set(berr_t *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int berr_sys(berr_t *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int berr_errno(berr_t *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the message with a context, "ctx: msg". */
int berr_wrap(berr_t *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void berr_free(berr_t *e);
/* Move src into dst (dst's previous error is freed). */
void berr_move(berr_t *dst, berr_t *src);
/* The full line, "msg: strerror(errnum)"; malloc'd, never NULL. */
char *berr_text(const berr_t *e);

#define _cleanup_berr_ __attribute__((cleanup(berr_free)))

#endif
