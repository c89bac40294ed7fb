/* common/error.c: building, wrapping and printing berr_t error chains.
 * Messages are lowercase, name the object, and never lose errno. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "util.h"

static void vset(berr_t *e, int errnum, bool complete, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		oom();
	free(e->msg);
	e->msg = msg;
	e->errnum = errnum;
	e->complete = complete;
}

int berr_set(berr_t *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, errnum, true, fmt, ap);
	va_end(ap);
	return -1;
}

int berr_errno(berr_t *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, errnum, false, fmt, ap);
	va_end(ap);
	return -1;
}

int berr_sys(berr_t *e, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(e, saved, false, fmt, ap);
	va_end(ap);
	errno = saved;
	return -1;
}

int berr_wrap(berr_t *e, const char *fmt, ...)
{
	char *ctx = NULL, *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		oom();
	va_end(ap);
	if (asprintf(&msg, "%s: %s", ctx, e->msg ? e->msg : "unknown error") < 0)
		oom();
	free(ctx);
	free(e->msg);
	e->msg = msg;
	return -1;
}

void berr_free(berr_t *e)
{
	free(e->msg);
	e->msg = NULL;
	e->errnum = 0;
	e->complete = false;
}

void berr_move(berr_t *dst, berr_t *src)
{
	free(dst->msg);
	*dst = *src;
	src->msg = NULL;
	src->errnum = 0;
	src->complete = false;
}

char *berr_text(const berr_t *e)
{
	const char *msg = e->msg ? e->msg : "unknown error";
	char *out = NULL;

	if (e->errnum && !e->complete) {
		if (asprintf(&out, "%s: %s", msg, strerror(e->errnum)) < 0)
			oom();
	} else {
		out = xstrdup(msg);
	}
	return out;
}
