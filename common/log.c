/* common/log.c: the log sink. Errors and warnings always reach stderr as one
 * text line; with --log they are also recorded in the log file's format. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "util.h"

bool log_debug_enabled;
static int log_file = -1;
static enum log_format log_fmt = LOG_FORMAT_TEXT;

static const char *const level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARNING] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

int log_setup(const char *path, enum log_format format, bool debug, berr_t *e)
{
	log_fmt = format;
	log_debug_enabled = debug;
	if (!path || !*path)
		return 0;
	log_file = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (log_file < 0)
		return berr_sys(e, "open log file \"%s\"", path);
	return 0;
}

void log_close(void)
{
	if (log_file >= 0)
		close(log_file);
	log_file = -1;
}

int log_fd(void)
{
	return log_file;
}

static void write_record(int fd, enum log_format fmt, enum log_level level,
			 const char *msg)
{
	char when[64];
	_cleanup_free_ char *line = NULL;

	format_rfc3339_now(when, sizeof when);
	if (fmt == LOG_FORMAT_JSON) {
		struct json_writer *w = json_writer_new();

		json_begin_map(w);
		json_kv_str(w, "level", level_names[level]);
		json_kv_str(w, "msg", msg);
		json_kv_str(w, "time", when);
		json_end_map(w);
		line = xasprintf("%s\n", json_writer_str(w));
		json_writer_free(w);
	} else {
		line = xasprintf("time=\"%s\" level=%s msg=\"%s\"\n", when,
				 level_names[level], msg);
	}
	(void)write_all(fd, line, strlen(line));
}

static void emit(enum log_level level, const char *msg)
{
	int saved = errno;

	if (log_file >= 0)
		write_record(log_file, log_fmt, level, msg);
	if (level <= LOG_WARNING || log_file < 0) {
		if (log_fmt == LOG_FORMAT_JSON && log_file < 0) {
			write_record(STDERR_FILENO, LOG_FORMAT_JSON, level, msg);
		} else {
			_cleanup_free_ char *line = xasprintf(
				"berth: %s%s\n", level == LOG_WARNING ? "warning: " : "", msg);
			(void)write_all(STDERR_FILENO, line, strlen(line));
		}
	}
	errno = saved;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	if (level == LOG_DEBUG && !log_debug_enabled)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		oom();
	va_end(ap);
	emit(level, msg);
}

void log_berr(enum log_level level, const berr_t *e)
{
	_cleanup_free_ char *msg = berr_text(e);

	emit(level, msg);
}
