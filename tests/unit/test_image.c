/* tests/unit/test_image.c: unit tests of the image module's pure rules:
 * tar member names, whiteouts, references, platforms, User resolution, the
 * rootless owner xattr, digests and the documents; prints TAP. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"
#include "image/internal.h"
#include "tap.h"

/* ---- tar member names ---- */

static bool tar_path_is(const char *name, const char *want)
{
	_cleanup_free_ char *p = image_tar_path(name);

	if (!want)
		return p == NULL;
	if (!streq(p, want))
		printf("#   \"%s\" -> \"%s\", want \"%s\"\n", name, p ? p : "(null)", want);
	return streq(p, want);
}

static void test_tar_path(void)
{
	CHECK("plain name", tar_path_is("etc/passwd", "etc/passwd"));
	CHECK("leading ./", tar_path_is("./etc/passwd", "etc/passwd"));
	CHECK("absolute name is relative to the root", tar_path_is("/etc/passwd", "etc/passwd"));
	CHECK("trailing slash of a directory", tar_path_is("usr/bin/", "usr/bin"));
	CHECK("root as ./", tar_path_is("./", "."));
	CHECK("root as /", tar_path_is("/", "."));
	CHECK(".. cannot climb above the root", tar_path_is("../../etc/shadow", "etc/shadow"));
	CHECK(".. in the middle", tar_path_is("a/b/../../../x", "x"));
	CHECK("only ..", tar_path_is("..", "."));
	CHECK("doubled slashes", tar_path_is("a//b///c", "a/b/c"));
	CHECK("dots inside names stay", tar_path_is("a/..b/c..", "a/..b/c.."));
	CHECK("empty name", tar_path_is("", NULL));
}

/* ---- whiteouts ---- */

static bool whiteout_is(const char *path, enum whiteout_kind want, const char *target)
{
	_cleanup_free_ char *t = NULL;
	_cleanup_berr_ berr_t e = BERR_INIT;
	enum whiteout_kind k;

	if (image_whiteout_classify(path, &k, &t, &e) < 0)
		return false;
	return k == want && (target ? streq(t, target) : t == NULL);
}

static bool whiteout_fails(const char *path)
{
	_cleanup_free_ char *t = NULL;
	_cleanup_berr_ berr_t e = BERR_INIT;
	enum whiteout_kind k;

	return image_whiteout_classify(path, &k, &t, &e) < 0 && e.msg;
}

static void test_whiteouts(void)
{
	CHECK("not a whiteout", whiteout_is("etc/passwd", WHITEOUT_NONE, NULL));
	CHECK("a name merely containing .wh.", whiteout_is("etc/x.wh.y", WHITEOUT_NONE, NULL));
	CHECK("file whiteout", whiteout_is("etc/.wh.passwd", WHITEOUT_FILE, "etc/passwd"));
	CHECK("file whiteout at the root", whiteout_is(".wh.etc", WHITEOUT_FILE, "etc"));
	CHECK("opaque directory", whiteout_is("usr/share/.wh..wh..opq", WHITEOUT_OPAQUE, "usr/share"));
	CHECK("opaque root", whiteout_is(".wh..wh..opq", WHITEOUT_OPAQUE, "."));
	CHECK("aufs metadata is skipped", whiteout_is(".wh..wh.plnk/123", WHITEOUT_NONE, NULL) &&
					  whiteout_is("a/.wh..wh.aufs", WHITEOUT_META, NULL));
	CHECK(".wh. alone names nothing", whiteout_fails("a/.wh."));
	CHECK(".wh.. would hide the directory itself", whiteout_fails("a/.wh.."));
	CHECK(".wh... would hide the parent", whiteout_fails("a/.wh..."));
	CHECK("a whiteout of a dot name is fine", whiteout_is("a/.wh..profile", WHITEOUT_FILE, "a/.profile"));
}

/* ---- references ---- */

static bool fake_exists(const char *p)
{
	return !strcmp(p, "layout") || !strcmp(p, "dir/img.tar") || !strcmp(p, "odd:name");
}

static bool ref_is(const char *ref, const char *path, const char *tag, const char *digest)
{
	struct image_ref r;
	_cleanup_berr_ berr_t e = BERR_INIT;
	bool ok;

	if (image_ref_parse(ref, fake_exists, &r, &e) < 0) {
		printf("#   %s: %s\n", ref, e.msg);
		return false;
	}
	ok = streq(r.path, path) && (tag ? streq(r.tag, tag) : !r.tag) &&
	     (digest ? streq(r.digest, digest) : !r.digest);
	image_ref_free(&r);
	return ok;
}

static bool ref_error(const char *ref, const char *part)
{
	struct image_ref r;
	_cleanup_berr_ berr_t e = BERR_INIT;

	if (image_ref_parse(ref, fake_exists, &r, &e) == 0) {
		image_ref_free(&r);
		return false;
	}
	return e.msg && strstr(e.msg, part);
}

#define D64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void test_refs(void)
{
	CHECK("path alone", ref_is("layout", "layout", NULL, NULL));
	CHECK("path:tag", ref_is("layout:v1", "layout", "v1", NULL));
	CHECK("path@digest", ref_is("layout@sha256:" D64, "layout", NULL, "sha256:" D64));
	CHECK("archive:name:tag (docker)", ref_is("dir/img.tar:busybox:latest", "dir/img.tar",
						   "busybox:latest", NULL));
	CHECK("a path that has a colon itself", ref_is("odd:name", "odd:name", NULL, NULL));
	CHECK("missing path", ref_error("nothing:here", "no such layout"));
	CHECK("empty tag", ref_error("layout:", "empty tag"));
	CHECK("bad digest", ref_error("layout@sha256:abc", "64 hex digits"));
	CHECK("unsupported digest algorithm", ref_error("layout@md5:abc", "unsupported algorithm"));
	CHECK("empty reference", ref_error("", "empty"));
}

/* ---- platforms ---- */

static int score(const char *os, const char *arch, const char *variant, const char *hv)
{
	struct image_platform host = {"linux", "amd64", hv};
	struct image_platform cand = {os, arch, variant};

	return image_platform_score(&host, &cand);
}

static void test_platforms(void)
{
	struct image_platform host;

	image_host_platform(&host);
	CHECK("host platform is linux", streq(host.os, "linux") && host.architecture);
	CHECK("linux/amd64 runs here", score("linux", "amd64", NULL, "v3") > 0);
	CHECK("linux/arm64 does not", score("linux", "arm64", NULL, "v3") < 0);
	CHECK("windows/amd64 does not", score("windows", "amd64", NULL, "v3") < 0);
	CHECK("a newer amd64 level than the host does not", score("linux", "amd64", "v4", "v3") < 0);
	CHECK("the host's level beats an older one",
	      score("linux", "amd64", "v3", "v3") > score("linux", "amd64", "v2", "v3"));
	CHECK("v1 equals no variant", score("linux", "amd64", "v1", "v3") == score("linux", "amd64", NULL, "v3"));
	CHECK("no platform is a last resort", score(NULL, NULL, NULL, "v3") == 0);
	CHECK("an unorderable variant only matches exactly", score("linux", "amd64", "fancy", "v3") < 0);
	{
		struct image_platform arm = {"linux", "arm64", "v8"}, c1 = {"linux", "arm64", NULL},
				      c2 = {"linux", "arm64", "v8.2"};

		CHECK("arm64 without variant means v8", image_platform_score(&arm, &c1) > 0);
		CHECK("arm64 v8.2 needs a v8.2 host", image_platform_score(&arm, &c2) < 0);
	}
}

/* ---- users ---- */

static const char passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"# a comment\n"
	"+nis\n"
	"daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
	"berth:x:1000:1000:berth user:/home/berth:/bin/sh\n"
	"broken:x:notanumber:0::/:/bin/sh\n"
	"short:x:5\n";
static const char group[] =
	"root:x:0:\n"
	"wheel:x:10:root,berth\n"
	"users:x:100:berth\n"
	"berth:x:1000:\n"
	"audio:x:29:daemon,berth\n";

static bool user_is(const char *spec, uint32_t uid, uint32_t gid, const char *gids,
		    const char *home)
{
	struct image_user u;
	_cleanup_berr_ berr_t e = BERR_INIT;
	char buf[128] = "";
	size_t n = 0;
	bool ok;

	if (image_user_resolve(spec, passwd, group, &u, &e) < 0) {
		printf("#   %s: %s\n", spec, e.msg);
		return false;
	}
	for (size_t i = 0; i < u.n_additional_gids; i++)
		n += snprintf(buf + n, sizeof buf - n, "%s%u", i ? "," : "", u.additional_gids[i]);
	ok = u.uid == uid && u.gid == gid && streq(buf, gids) &&
	     (home ? streq(u.home, home) : u.home == NULL);
	if (!ok)
		printf("#   %s: %u:%u [%s] home %s\n", spec, u.uid, u.gid, buf, u.home ? u.home : "-");
	image_user_free(&u);
	return ok;
}

static bool user_error(const char *spec, const char *part)
{
	struct image_user u;
	_cleanup_berr_ berr_t e = BERR_INIT;

	if (image_user_resolve(spec, passwd, group, &u, &e) == 0) {
		image_user_free(&u);
		return false;
	}
	return e.msg && strstr(e.msg, part);
}

static void test_users(void)
{
	CHECK("no user is root", user_is(NULL, 0, 0, "10", "/root"));
	CHECK("name", user_is("berth", 1000, 1000, "10,100,29", "/home/berth"));
	CHECK("uid of a known user", user_is("1000", 1000, 1000, "10,100,29", "/home/berth"));
	CHECK("uid unknown to passwd", user_is("4242", 4242, 0, "", NULL));
	CHECK("name:group", user_is("berth:users", 1000, 100, "10,29", "/home/berth"));
	CHECK("uid:gid", user_is("1000:29", 1000, 29, "10,100", "/home/berth"));
	CHECK("name:gid unknown to group", user_is("daemon:777", 1, 777, "29", "/usr/sbin"));
	CHECK("uid:group", user_is("4242:wheel", 4242, 10, "", NULL));
	CHECK("unknown name", user_error("nobody", "no such user"));
	CHECK("unknown group name", user_error("berth:nogroup", "no such group"));
	CHECK("malformed lines are skipped", user_error("broken", "no such user") &&
					       user_error("short", "no such user"));
	{
		struct image_user u;
		_cleanup_berr_ berr_t e = BERR_INIT;

		CHECK("no passwd or group at all: numeric ids still work",
		      image_user_resolve("7:8", NULL, NULL, &u, &e) == 0 && u.uid == 7 && u.gid == 8);
		image_user_free(&u);
	}
}

/* ---- rootless xattr (umoci's user.rootlesscontainers) ---- */

static bool xattr_is(uint32_t uid, uint32_t gid, const char *hex)
{
	unsigned char buf[16];
	char out[64] = "";
	size_t n = image_rootless_xattr(uid, gid, buf);

	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", buf[i]);
	return streq(out, hex);
}

static void test_rootless_xattr(void)
{
	CHECK("0:0 means no xattr", xattr_is(0, 0, ""));
	CHECK("uid only", xattr_is(1000, 0, "08e807"));
	CHECK("gid only", xattr_is(0, 5, "1005"));
	CHECK("both, multi-byte varints", xattr_is(65534, 100, "08feff031064"));
	CHECK("the largest id", xattr_is(4294967295u, 0, "08ffffffff0f"));
}

/* ---- digests and documents ---- */

static bool doc_error(const char *text, const char *part)
{
	_cleanup_berr_ berr_t e = BERR_INIT;

	if (image_parse_check(text, strlen(text), &e) == 0)
		return part == NULL;
	if (part && !(e.msg && strstr(e.msg, part)))
		printf("#   got: %s\n", e.msg ? e.msg : "(none)");
	return part && e.msg && strstr(e.msg, part);
}

static void test_documents(void)
{
	struct digest d;
	_cleanup_berr_ berr_t e = BERR_INIT;

	CHECK("digest parses", digest_parse("sha256:" D64, &d, &e) == 0 && d.alg == DIGEST_SHA256);
	CHECK("uppercase hex is refused", digest_parse("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
						       &d, &e) < 0);
	CHECK("a digest with a path in it is refused",
	      digest_parse("sha256:../../../../etc/passwd", &d, &e) < 0);
	CHECK("index", doc_error("{\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
				 "\"digest\":\"sha256:" D64 "\",\"size\":3}]}", NULL));
	CHECK("index entry without digest",
	      doc_error("{\"manifests\":[{\"size\":3}]}", "manifests[0].digest: missing required field"));
	CHECK("negative size", doc_error("{\"manifests\":[{\"digest\":\"sha256:" D64 "\",\"size\":-1}]}",
					 "must not be negative"));
	CHECK("manifest with an unknown layer type",
	      doc_error("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"digest\":\"sha256:" D64
			"\",\"size\":1},\"layers\":[{\"mediaType\":\"text/plain\",\"digest\":\"sha256:" D64 "\",\"size\":1}]}",
			"unsupported layer media type \"text/plain\""));
	CHECK("config without rootfs", doc_error("{\"architecture\":\"amd64\"}", "rootfs: missing required field"));
	CHECK("config with a relative WorkingDir",
	      doc_error("{\"config\":{\"WorkingDir\":\"w\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
			"not an absolute path"));
	CHECK("config Env without =",
	      doc_error("{\"config\":{\"Env\":[\"PATH\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
			"config.Env[0]"));
	CHECK("docker manifest.json", doc_error("[{\"Config\":\"a.json\",\"Layers\":[\"l.tar\"]}]", NULL));
	CHECK("docker manifest.json without Layers", doc_error("[{\"Config\":\"a.json\"}]", "Layers"));
	CHECK("NUL inside a document",
	      ({ _cleanup_berr_ berr_t e2 = BERR_INIT; image_parse_check("{}\0{}", 5, &e2) < 0; }));
}

int main(void)
{
	test_tar_path();
	test_whiteouts();
	test_refs();
	test_platforms();
	test_users();
	test_rootless_xattr();
	test_documents();
	return tap_done();
}
