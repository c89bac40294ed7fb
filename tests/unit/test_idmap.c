/* tests/unit/test_idmap.c: unit tests of common/idmap.c: /etc/subuid
 * parsing, map queries and formats, and running a function as root of a
 * fresh user namespace (where the kernel lets this process make one);
 * prints TAP. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/util.h"
#include "tap.h"

static char *write_temp(const char *text)
{
	char *path = xstrdup("/tmp/berth-test-subid.XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write_all(fd, text, strlen(text)) < 0) {
		perror("temp file");
		exit(2);
	}
	close(fd);
	return path;
}

static void test_subordinate(void)
{
	_cleanup_free_ char *path = write_temp("# comment\n"
					      "alice:100000:65536\n"
					      "bob:165536:65536\n"
					      "1001:300000:10\n"
					      "alice:400000:5\n"
					      "broken:line\n"
					      "alice:1:0\n"
					      "alice:4294967290:10\n");
	struct id_mapping *m = NULL;
	size_t n = 0;
	uint32_t next = 1;
	berr_t e = BERR_INIT;
	int found;

	/* By name and by number; ranges laid out one after the other. */
	found = idmap_subordinate(path, "alice", 1001, &m, &n, &next, &e);
	CHECK("subuid: every range of the user, by name and by uid; comments, malformed, empty and overflowing lines skipped",
	      found == 3 && n == 3);
	CHECK("subuid: first range from container id 1",
	      n == 3 && m[0].container_id == 1 && m[0].host_id == 100000 && m[0].size == 65536);
	CHECK("subuid: the next ranges follow",
	      n == 3 && m[1].container_id == 65537 && m[1].host_id == 300000 && m[1].size == 10 &&
		      m[2].container_id == 65547 && m[2].host_id == 400000);
	CHECK("subuid: next is past them", next == 65552);
	free(m);
	m = NULL;
	n = 0;
	next = 1;
	CHECK("subuid: no range for an unknown user",
	      idmap_subordinate(path, "carol", 2000, &m, &n, &next, &e) == 0 && n == 0);
	CHECK("subuid: a missing file is no range",
	      idmap_subordinate("/nonexistent/subuid", "alice", 1001, &m, &n, &next, &e) == 0);
	unlink(path);
	free(m);
}

static void test_queries(void)
{
	struct id_mapping u[] = {{0, 1000, 1}, {1, 100000, 65536}};
	struct id_mapping g[] = {{0, 1000, 1}};
	struct id_maps sub = {u, g, 2, 1}, self = {u, g, 1, 1};
	_cleanup_free_ char *text = idmap_format(&sub);

	CHECK("contains: 0 and the range's ends", idmap_contains(u, 2, 0) && idmap_contains(u, 2, 1) &&
						  idmap_contains(u, 2, 65536));
	CHECK("contains: not past the range", !idmap_contains(u, 2, 65537));
	CHECK("span: container ids covered", idmap_span(u, 2) == 65537 && idmap_span(g, 1) == 1);
	CHECK("has_subordinate: more than the caller", idmap_has_subordinate(&sub));
	CHECK("has_subordinate: the caller alone", !idmap_has_subordinate(&self));
	CHECK("format: uids;gids", streq(text, "0:1000:1,1:100000:65536;0:1000:1"));
}

static int whoami(void *arg, berr_t *e)
{
	int *out = arg;

	(void)e;
	if (geteuid() != 0)
		return berr_set(e, EPERM, "not root in the namespace: uid %u", geteuid());
	*out = 1;
	return 0;
}

static int fails(void *arg, berr_t *e)
{
	(void)arg;
	return berr_set(e, ENOSPC, "the child's own message");
}

static void test_run_in_userns(void)
{
	struct id_maps self = {0};
	berr_t e = BERR_INIT;
	int seen = 0, r;

	idmap_self(&self);
	r = idmap_run_in_userns(&self, whoami, &seen, &e);
	if (r < 0 && (e.errnum == EPERM || e.errnum == EINVAL || e.errnum == ENOSPC) &&
	    e.msg && strstr(e.msg, "unshare")) {
		printf("ok %d - run_in_userns # SKIP no user namespaces here: %s\n", ++n_tests, e.msg);
		berr_free(&e);
		id_maps_free(&self);
		return;
	}
	/* The child's memory is its own: only its status comes back. */
	CHECK("run_in_userns: the function ran as root of the namespace", r == 0 && seen == 0);
	berr_free(&e);
	r = idmap_run_in_userns(&self, fails, NULL, &e);
	CHECK("run_in_userns: the child's error comes back whole",
	      r < 0 && e.errnum == ENOSPC && streq(e.msg, "the child's own message"));
	berr_free(&e);
	id_maps_free(&self);
}

int main(void)
{
	test_subordinate();
	test_queries();
	test_run_in_userns();
	return tap_done();
}
