/* common/log.h: berth's log: stderr for people, and the --log file in text or
 * JSON ({"level","msg","time"}) for engines such as conmon and podman. */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

#include <stdbool.h>

#include "error.h"

enum log_level { LOG_ERROR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

extern bool log_debug_enabled;

/* path may be NULL (stderr only). The log file is opened O_APPEND|O_CLOEXEC. */
int log_setup(const char *path, enum log_format format, bool debug, berr_t *e);
void log_close(void);
/* The fd of the --log file, or -1. */
int log_fd(void);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print an error chain as one line (and one JSON record). */
void log_berr(enum log_level level, const berr_t *e);

#define log_debug(...)                                  \
	do {                                            \
		if (log_debug_enabled)                  \
			log_msg(LOG_DEBUG, __VA_ARGS__); \
	} while (0)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
