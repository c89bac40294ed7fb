/* tests/unit/tap.h: the TAP output every unit test prints: "ok N - name",
 * "not ok N - name" with the failing line, and the plan at the end. */
#ifndef BERTH_TEST_TAP_H
#define BERTH_TEST_TAP_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int n_tests, n_failed;

static inline bool tap_check(const char *name, bool ok, int line)
{
	printf("%sok %d - %s\n", ok ? "" : "not ", ++n_tests, name);
	fflush(stdout); /* a test that hangs later still shows what passed */
	if (!ok) {
		n_failed++;
		printf("#   failed at line %d\n", line);
	}
	return ok;
}

#define CHECK(name, cond) tap_check(name, (cond), __LINE__)

static inline bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The plan, a summary of failures, and the exit status. */
static inline int tap_done(void)
{
	printf("1..%d\n", n_tests);
	if (n_failed)
		printf("# %d of %d failed\n", n_failed, n_tests);
	return n_failed ? 1 : 0;
}

#endif
