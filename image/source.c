/* image/source.c: blobs from an OCI layout directory or from inside a
 * tarball (oci-archive, docker-archive), read whole (small documents, digest
 * checked first) or as streams (layers). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "common/util.h"
#include "internal.h"
#include "lazylibs.h"

#define STREAM_BLOCK (1u << 20)

const char *source_kind_name(enum source_kind k)
{
	static const char *const names[] = {"oci-layout", "oci-archive", "docker-archive"};

	return names[k];
}

char *blob_member_name(const struct digest *d)
{
	return xasprintf("blobs/%s/%s", digest_alg_name(d->alg), d->hex);
}

/* ---- tar members, through libarchive with pread callbacks (the skip
 * callback lets libarchive jump over members it does not need) ---- */

struct tar_file {
	int fd;
	off_t off, size;
	char *buf;
};

static la_ssize_t tar_file_read(struct archive *a, void *cd, const void **buf)
{
	struct tar_file *tf = cd;
	ssize_t n;

	do
		n = pread(tf->fd, tf->buf, STREAM_BLOCK, tf->off);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		sym_archive_set_error(a, errno, "read archive");
		return -1;
	}
	tf->off += n;
	*buf = tf->buf;
	return n;
}

static la_int64_t tar_file_skip(struct archive *a, void *cd, la_int64_t request)
{
	struct tar_file *tf = cd;
	off_t left = tf->size > tf->off ? tf->size - tf->off : 0;

	if (request > left)
		request = left;
	tf->off += request;
	return request;
}

struct tar_reader {
	struct archive *a;
	struct tar_file tf;
};

static void tar_reader_close(struct tar_reader *r)
{
	if (r->a)
		sym_archive_read_free(r->a);
	free(r->tf.buf);
	memset(r, 0, sizeof *r);
}

static int tar_reader_open(struct source *s, struct tar_reader *r, berr_t *e)
{
	struct stat st;

	memset(r, 0, sizeof *r);
	if (lazy_archive_load(e) < 0)
		return -1;
	if (fstat(s->fd, &st) < 0)
		return berr_sys(e, "stat \"%s\"", s->path);
	r->tf.fd = s->fd;
	r->tf.size = st.st_size;
	r->tf.buf = xmalloc(STREAM_BLOCK);
	r->a = sym_archive_read_new();
	if (!r->a)
		oom();
	sym_archive_read_support_format_tar(r->a);
	if (sym_archive_read_open2(r->a, &r->tf, NULL, tar_file_read, tar_file_skip, NULL) !=
	    ARCHIVE_OK) {
		berr_set(e, EINVAL, "%s: %s", s->path, sym_archive_error_string(r->a));
		tar_reader_close(r);
		return -1;
	}
	return 0;
}

/* Member names are compared cleaned: "./index.json" is "index.json". */
static bool member_is(const char *name, const char *want)
{
	_cleanup_free_ char *clean = image_tar_path(name);

	return clean && strcmp(clean, want) == 0;
}

/* Position the reader at the data of `member`; ENOENT when absent. */
static int tar_find(struct source *s, struct tar_reader *r, const char *member, berr_t *e)
{
	struct archive_entry *en;
	int ret;

	while ((ret = sym_archive_read_next_header(r->a, &en)) == ARCHIVE_OK ||
	       ret == ARCHIVE_WARN) {
		const char *name = sym_archive_entry_pathname(en);

		if (name && sym_archive_entry_filetype(en) == AE_IFREG && member_is(name, member))
			return 0;
	}
	if (ret == ARCHIVE_EOF)
		return berr_set(e, ENOENT, "%s: no member \"%s\"", s->path, member);
	return berr_set(e, EINVAL, "%s: %s", s->path, sym_archive_error_string(r->a));
}

static int tar_member_names(struct source *s, bool *oci, bool *docker, berr_t *e)
{
	struct tar_reader r;
	struct archive_entry *en;
	int ret;

	if (tar_reader_open(s, &r, e) < 0)
		return -1;
	*oci = *docker = false;
	while ((ret = sym_archive_read_next_header(r.a, &en)) == ARCHIVE_OK ||
	       ret == ARCHIVE_WARN) {
		const char *name = sym_archive_entry_pathname(en);

		if (name && member_is(name, "oci-layout"))
			*oci = true;
		else if (name && member_is(name, "manifest.json"))
			*docker = true;
	}
	if (ret != ARCHIVE_EOF)
		berr_set(e, EINVAL, "%s: not a tar archive: %s", s->path,
			 sym_archive_error_string(r.a));
	tar_reader_close(&r);
	return ret == ARCHIVE_EOF ? 0 : -1;
}

/* ---- opening ---- */

int source_open(const char *path, struct source *s, berr_t *e)
{
	struct stat st;
	bool oci, docker;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->path = xstrdup(path);
	if (stat(path, &st) < 0)
		return berr_sys(e, "image \"%s\"", path);
	if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int fd = -1;

		s->kind = SOURCE_LAYOUT;
		s->fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (s->fd < 0)
			return berr_sys(e, "open image layout \"%s\"", path);
		fd = root_open(s->fd, "oci-layout", O_RDONLY, 0, e);
		if (fd < 0)
			return berr_set(e, EINVAL,
					"\"%s\" is not an OCI image layout: no oci-layout file", path);
		return 0;
	}
	if (!S_ISREG(st.st_mode))
		return berr_set(e, EINVAL, "image \"%s\": not a directory or an archive", path);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return berr_sys(e, "open image archive \"%s\"", path);
	if (tar_member_names(s, &oci, &docker, e) < 0)
		return -1;
	if (oci)
		s->kind = SOURCE_OCI_ARCHIVE;
	else if (docker)
		s->kind = SOURCE_DOCKER_ARCHIVE;
	else
		return berr_set(e, EINVAL,
				"\"%s\": neither an oci-archive (oci-layout) nor a docker-archive (manifest.json)",
				path);
	return 0;
}

void source_close(struct source *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}

/* ---- whole members ---- */

static int tar_read_member(struct source *s, const char *name, size_t max, char **out,
			   size_t *len, berr_t *e)
{
	struct tar_reader r;
	_cleanup_free_ char *buf = NULL;
	size_t n = 0, cap = 0;
	int ret = -1;

	if (tar_reader_open(s, &r, e) < 0)
		return -1;
	if (tar_find(s, &r, name, e) < 0)
		goto out;
	for (;;) {
		la_ssize_t got;

		if (n + 65536 + 1 > cap) {
			cap = cap ? cap * 2 : 65536 * 2;
			buf = xrealloc(buf, cap);
		}
		got = sym_archive_read_data(r.a, buf + n, cap - n - 1);
		if (got < 0) {
			berr_set(e, EIO, "%s: member %s: %s", s->path, name,
				 sym_archive_error_string(r.a));
			goto out;
		}
		if (got == 0)
			break;
		n += got;
		if (n > max) {
			berr_set(e, EFBIG, "%s: member %s: larger than %zu bytes", s->path, name, max);
			goto out;
		}
	}
	if (!buf)
		buf = xmalloc(1);
	buf[n] = '\0';
	*out = steal_ptr(buf);
	*len = n;
	ret = 0;
out:
	tar_reader_close(&r);
	return ret;
}

int source_read_member(struct source *s, const char *name, size_t max, char **out,
		       size_t *len, berr_t *e)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *what = NULL;

	if (s->kind != SOURCE_LAYOUT)
		return tar_read_member(s, name, max, out, len, e);
	fd = root_open(s->fd, name, O_RDONLY, 0, e);
	if (fd < 0) {
		if (errno == ENOENT)
			return berr_set(e, ENOENT, "%s: no %s", s->path, name);
		return berr_wrap(e, "%s", s->path);
	}
	what = xasprintf("%s/%s", s->path, name);
	return read_fd(fd, max, what, out, len, e);
}

int source_read_blob(struct source *s, const struct descriptor *d, size_t max, char **out,
		     size_t *len, berr_t *e)
{
	_cleanup_free_ char *member = blob_member_name(&d->digest);
	_cleanup_free_ char *name = digest_string(&d->digest);
	_cleanup_free_ char *buf = NULL;
	struct digest got;
	size_t n;

	if (d->has_size && d->size > max)
		return berr_set(e, EFBIG, "blob %s: size %llu is above the limit of %zu bytes", name,
				(unsigned long long)d->size, max);
	if (source_read_member(s, member, max, &buf, &n, e) < 0) {
		if (e->errnum == ENOENT)
			return berr_set(e, ENOENT, "%s: blob %s is missing", s->path, name);
		return -1;
	}
	if (d->has_size && n != d->size)
		return berr_set(e, EILSEQ, "blob %s: size mismatch: expected %llu bytes, content has %zu",
				name, (unsigned long long)d->size, n);
	if (digest_buffer(d->digest.alg, buf, n, &got, e) < 0)
		return -1;
	if (digest_check(&d->digest, &got, name, e) < 0)
		return berr_wrap(e, "blob");
	*out = steal_ptr(buf);
	*len = n;
	return 0;
}

/* ---- streams ---- */

struct file_stream {
	struct blob_stream base;
	int fd;
	char *buf;
	char *what;
};

static ssize_t file_stream_read(struct blob_stream *bs, const void **buf, berr_t *e)
{
	struct file_stream *fs = (struct file_stream *)bs;
	ssize_t n;

	do
		n = read(fs->fd, fs->buf, STREAM_BLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return berr_sys(e, "read %s", fs->what);
	*buf = fs->buf;
	return n;
}

static void file_stream_close(struct blob_stream *bs)
{
	struct file_stream *fs = (struct file_stream *)bs;

	close(fs->fd);
	free(fs->buf);
	free(fs->what);
	free(fs);
}

struct member_stream {
	struct blob_stream base;
	struct tar_reader r;
	char *what;
	int64_t next_off;        /* sparse members are refused: data must be contiguous */
};

static ssize_t member_stream_read(struct blob_stream *bs, const void **buf, berr_t *e)
{
	struct member_stream *ms = (struct member_stream *)bs;
	size_t len;
	la_int64_t off;
	int r = sym_archive_read_data_block(ms->r.a, buf, &len, &off);

	if (r == ARCHIVE_EOF)
		return 0;
	if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
		return berr_set(e, EIO, "read %s: %s", ms->what, sym_archive_error_string(ms->r.a));
	if (off != ms->next_off)
		return berr_set(e, EINVAL, "read %s: sparse archive members are not supported",
				ms->what);
	ms->next_off += len;
	return len;
}

static void member_stream_close(struct blob_stream *bs)
{
	struct member_stream *ms = (struct member_stream *)bs;

	tar_reader_close(&ms->r);
	free(ms->what);
	free(ms);
}

int source_open_stream(struct source *s, const char *member, struct blob_stream **out,
		       berr_t *e)
{
	if (s->kind == SOURCE_LAYOUT) {
		struct file_stream *fs;
		int fd = root_open(s->fd, member, O_RDONLY, 0, e);

		if (fd < 0) {
			if (errno == ENOENT)
				return berr_set(e, ENOENT, "%s: %s is missing", s->path, member);
			return berr_wrap(e, "%s", s->path);
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		fs = xzalloc(sizeof *fs);
		fs->base.read = file_stream_read;
		fs->base.close = file_stream_close;
		fs->fd = fd;
		fs->buf = xmalloc(STREAM_BLOCK);
		fs->what = xasprintf("%s/%s", s->path, member);
		*out = &fs->base;
		return 0;
	}

	struct member_stream *ms = xzalloc(sizeof *ms);

	ms->base.read = member_stream_read;
	ms->base.close = member_stream_close;
	ms->what = xasprintf("%s: %s", s->path, member);
	if (tar_reader_open(s, &ms->r, e) < 0 || tar_find(s, &ms->r, member, e) < 0) {
		member_stream_close(&ms->base);
		return -1;
	}
	*out = &ms->base;
	return 0;
}
