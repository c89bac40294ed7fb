/* runtime/seccomp_default.h: berth's default seccomp profile, as the
 * linux.seccomp object of a generated config. */
#ifndef BERTH_SECCOMP_DEFAULT_H
#define BERTH_SECCOMP_DEFAULT_H

struct json_writer;

/* Write "seccomp": {...} into an open linux object. */
void seccomp_default_write(struct json_writer *w);

#endif
