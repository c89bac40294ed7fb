/* image/layer.c: one layer from blob to files, in two threads like
 * `tar -xzf` (whose gzip runs beside tar): a decompressor that reads the
 * blob, hashes it and inflates it into a ring of buffers, and the caller's
 * thread that hashes the tar stream (diff_id), parses it and extracts. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "internal.h"
#include "lazylibs.h"

#define RING_SLOTS 8
#define SLOT_SIZE (512u << 10)

struct ring {
	pthread_mutex_t mu;
	pthread_cond_t filled, emptied;
	char *buf[RING_SLOTS];
	size_t len[RING_SLOTS];
	size_t head, count;         /* next slot to take, slots filled */
	bool eof, cancel;
	bool taking;                /* the consumer holds slot head-1 */
};

struct pipeline {
	const struct layer_job *job;
	struct ring ring;
	struct blob_stream *stream;
	struct hasher blob_hash;    /* of the blob as stored */
	struct hasher tar_hash;     /* of the uncompressed tar (diff_id) */
	bool hash_tar;              /* the consumer hashes the tar stream */
	uint64_t blob_bytes;        /* read so far (written by the producer) */
	berr_t perr;                /* the producer's error */
	bool pfailed;
	struct archive *tar;
};

/* ---- the ring ---- */

static void ring_init(struct ring *r)
{
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->filled, NULL);
	pthread_cond_init(&r->emptied, NULL);
	for (size_t i = 0; i < RING_SLOTS; i++)
		r->buf[i] = xmalloc(SLOT_SIZE);
}

static void ring_destroy(struct ring *r)
{
	for (size_t i = 0; i < RING_SLOTS; i++)
		free(r->buf[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->filled);
	pthread_cond_destroy(&r->emptied);
}

/* Producer: the slot to fill next, or NULL when the consumer gave up. */
static char *ring_slot_to_fill(struct ring *r, size_t *index)
{
	char *p = NULL;

	pthread_mutex_lock(&r->mu);
	/* One slot stays with the consumer while libarchive reads it. */
	while (!r->cancel && r->count + (r->taking ? 1 : 0) >= RING_SLOTS)
		pthread_cond_wait(&r->emptied, &r->mu);
	if (!r->cancel) {
		*index = (r->head + r->count) % RING_SLOTS;
		p = r->buf[*index];
	}
	pthread_mutex_unlock(&r->mu);
	return p;
}

static void ring_publish(struct ring *r, size_t index, size_t len)
{
	pthread_mutex_lock(&r->mu);
	r->len[index] = len;
	r->count++;
	pthread_cond_signal(&r->filled);
	pthread_mutex_unlock(&r->mu);
}

static void ring_finish(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->eof = true;
	pthread_cond_signal(&r->filled);
	pthread_mutex_unlock(&r->mu);
}

static void ring_cancel(struct ring *r)
{
	pthread_mutex_lock(&r->mu);
	r->cancel = true;
	pthread_cond_broadcast(&r->emptied);
	pthread_mutex_unlock(&r->mu);
}

/* Consumer: release the slot taken last, then wait for the next one.
 * Returns its length, 0 at the end. */
static size_t ring_take(struct ring *r, const void **buf)
{
	size_t len = 0;

	pthread_mutex_lock(&r->mu);
	if (r->taking) {
		r->taking = false;
		pthread_cond_signal(&r->emptied);
	}
	while (!r->count && !r->eof)
		pthread_cond_wait(&r->filled, &r->mu);
	if (r->count) {
		*buf = r->buf[r->head];
		len = r->len[r->head];
		r->head = (r->head + 1) % RING_SLOTS;
		r->count--;
		r->taking = true;
	}
	pthread_mutex_unlock(&r->mu);
	return len;
}

/* ---- the producer ---- */

static ssize_t blob_read(struct pipeline *p, const void **buf, berr_t *e)
{
	const struct layer_job *job = p->job;
	ssize_t n = p->stream->read(p->stream, buf, e);

	if (n <= 0)
		return n;
	if (job->size && p->blob_bytes + n > job->size)
		return berr_set(e, EILSEQ, "%s: size mismatch: the blob is larger than its %llu bytes",
				job->what, (unsigned long long)job->size);
	if (p->blob_hash.ctx)
		hasher_update(&p->blob_hash, *buf, n);
	__atomic_store_n(&p->blob_bytes, p->blob_bytes + n, __ATOMIC_RELAXED);
	return n;
}

static la_ssize_t archive_blob_read(struct archive *a, void *cd, const void **buf)
{
	struct pipeline *p = cd;
	ssize_t n = blob_read(p, buf, &p->perr);

	if (n < 0) {
		p->pfailed = true;
		sym_archive_set_error(a, p->perr.errnum ? p->perr.errnum : EIO, "%s", p->perr.msg);
	}
	return n;
}

/* Copy decompressed bytes into ring slots, filling each before it goes. */
struct filler {
	char *slot;
	size_t index, used;
};

static int fill(struct pipeline *p, struct filler *f, const char *data, size_t len)
{
	while (len) {
		size_t n;

		if (!f->slot && !(f->slot = ring_slot_to_fill(&p->ring, &f->index)))
			return -1;
		n = SLOT_SIZE - f->used < len ? SLOT_SIZE - f->used : len;
		memcpy(f->slot + f->used, data, n);
		f->used += n;
		data += n;
		len -= n;
		if (f->used == SLOT_SIZE) {
			ring_publish(&p->ring, f->index, f->used);
			f->slot = NULL;
			f->used = 0;
		}
	}
	return 0;
}

static int produce_plain(struct pipeline *p, struct filler *f)
{
	for (;;) {
		const void *buf;
		ssize_t n = blob_read(p, &buf, &p->perr);

		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (fill(p, f, buf, n) < 0)
			return -1;
	}
}

static void enable_filters(struct archive *a, enum layer_compression comp)
{
	if (comp == COMP_GZIP || comp == COMP_SNIFF)
		sym_archive_read_support_filter_gzip(a);
	if (comp == COMP_ZSTD || comp == COMP_SNIFF)
		sym_archive_read_support_filter_zstd(a);
	if (comp == COMP_SNIFF) {
		sym_archive_read_support_filter_xz(a);
		sym_archive_read_support_filter_bzip2(a);
	}
}

static int produce_inflated(struct pipeline *p, struct filler *f)
{
	struct archive *a = sym_archive_read_new();
	struct archive_entry *en;
	const char *what = p->job->what;
	int ret = -1, r;

	if (!a)
		oom();
	enable_filters(a, p->job->comp);
	sym_archive_read_support_format_raw(a);
	if (sym_archive_read_open2(a, p, NULL, archive_blob_read, NULL, NULL) != ARCHIVE_OK ||
	    (r = sym_archive_read_next_header(a, &en)) != ARCHIVE_OK) {
		if (!p->pfailed)
			berr_set(&p->perr, EINVAL, "%s: %s", what, sym_archive_error_string(a));
		goto out;
	}
	/* A media type that promises compression must keep the promise. */
	if (p->job->comp != COMP_SNIFF && sym_archive_filter_count(a) < 2) {
		berr_set(&p->perr, EINVAL, "%s: not %s-compressed as its media type says", what,
			 layer_compression_name(p->job->comp));
		goto out;
	}
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;

		r = sym_archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (!p->pfailed)
				berr_set(&p->perr, EIO, "%s: %s", what, sym_archive_error_string(a));
			goto out;
		}
		if (fill(p, f, buf, len) < 0)
			goto out;
	}
	ret = 0;
out:
	sym_archive_read_free(a);
	return ret;
}

/* Whatever follows the compressed stream is part of the blob: hash it. */
static int drain_blob(struct pipeline *p)
{
	const void *buf;
	ssize_t n;

	while ((n = blob_read(p, &buf, &p->perr)) > 0)
		;
	return n < 0 ? -1 : 0;
}

static int check_blob(struct pipeline *p)
{
	const struct layer_job *job = p->job;
	struct digest got;

	if (job->size && p->blob_bytes != job->size)
		return berr_set(&p->perr, EILSEQ,
				"%s: size mismatch: expected %llu bytes, the blob has %llu (truncated?)",
				job->what, (unsigned long long)job->size,
				(unsigned long long)p->blob_bytes);
	if (!p->blob_hash.ctx)
		return 0;
	hasher_final(&p->blob_hash, &got);
	if (job->digest && digest_check(job->digest, &got, job->what, &p->perr) < 0)
		return -1;
	/* Uncompressed: the blob is the tar, its digest the diff_id. */
	if (!p->hash_tar && job->diff_id && digest_check(job->diff_id, &got, job->what, &p->perr) < 0)
		return berr_wrap(&p->perr, "diff_id");
	return 0;
}

static void *producer(void *arg)
{
	struct pipeline *p = arg;
	struct filler f = {0};
	int r;

	r = p->job->comp == COMP_NONE ? produce_plain(p, &f) : produce_inflated(p, &f);
	if (r == 0 && f.slot)
		ring_publish(&p->ring, f.index, f.used);
	if (r == 0)
		r = drain_blob(p);
	if (r == 0)
		r = check_blob(p);
	if (r < 0)
		p->pfailed = true;
	ring_finish(&p->ring);
	return NULL;
}

/* ---- the consumer ---- */

static la_ssize_t archive_ring_read(struct archive *a, void *cd, const void **buf)
{
	struct pipeline *p = cd;
	size_t n = ring_take(&p->ring, buf);

	if (n && p->hash_tar)
		hasher_update(&p->tar_hash, *buf, n);
	if (!n && p->pfailed) {
		sym_archive_set_error(a, EIO, "the layer stream ended early");
		return -1;
	}
	return n;
}

static void drain_ring(struct pipeline *p)
{
	const void *buf;
	size_t n;

	while ((n = ring_take(&p->ring, &buf)) > 0)
		if (p->hash_tar)
			hasher_update(&p->tar_hash, buf, n);
}

static int consume(struct pipeline *p, struct extractor *x, berr_t *e)
{
	const struct extract_stats *st = extractor_stats(x);
	uint64_t bytes0 = st->bytes, entries0 = st->entries;
	struct archive_entry *en;
	int r;

	p->tar = sym_archive_read_new();
	if (!p->tar)
		oom();
	sym_archive_read_support_format_tar(p->tar);
	if (sym_archive_read_open2(p->tar, p, NULL, archive_ring_read, NULL, NULL) != ARCHIVE_OK)
		return berr_set(e, EINVAL, "%s: %s", p->job->what, sym_archive_error_string(p->tar));
	/* ARCHIVE_WARN: e.g. a UTF-8 name that the C locale cannot show;
	 * the raw bytes are still the name. */
	while ((r = sym_archive_read_next_header(p->tar, &en)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		if (extractor_entry(x, p->tar, en, e) < 0)
			return berr_wrap(e, "%s", p->job->what);
		progress_update(p->job->progress, __atomic_load_n(&p->blob_bytes, __ATOMIC_RELAXED),
				st->bytes - bytes0, st->entries - entries0);
	}
	if (r != ARCHIVE_EOF)
		return berr_set(e, EINVAL, "%s: %s", p->job->what, sym_archive_error_string(p->tar));
	/* The end-of-archive blocks and padding count for the diff_id. */
	drain_ring(p);
	return 0;
}

static int hashers_init(struct pipeline *p, berr_t *e)
{
	const struct layer_job *job = p->job;

	if ((job->digest || (job->comp == COMP_NONE && job->diff_id)) &&
	    hasher_init(&p->blob_hash, job->digest ? job->digest->alg : job->diff_id->alg, e) < 0)
		return -1;
	p->hash_tar = job->diff_id && job->comp != COMP_NONE;
	if (p->hash_tar && hasher_init(&p->tar_hash, job->diff_id->alg, e) < 0)
		return -1;
	return 0;
}

static int check_tar(struct pipeline *p, berr_t *e)
{
	struct digest got;

	if (!p->hash_tar)
		return 0;
	hasher_final(&p->tar_hash, &got);
	if (digest_check(p->job->diff_id, &got, p->job->what, e) < 0)
		return berr_wrap(e, "diff_id of the uncompressed layer");
	return 0;
}

int layer_apply(const struct layer_job *job, struct extractor *x, berr_t *e)
{
	struct pipeline p = {.job = job};
	pthread_t thread;
	int ret = -1, cret;

	if (lazy_archive_load(e) < 0 || hashers_init(&p, e) < 0)
		goto out_hash;
	if (source_open_stream(job->src, job->member, &p.stream, e) < 0)
		goto out_hash;
	ring_init(&p.ring);
	if ((errno = pthread_create(&thread, NULL, producer, &p)) != 0) {
		berr_sys(e, "start the decompression thread");
		goto out_ring;
	}
	cret = consume(&p, x, e);
	if (cret < 0)
		ring_cancel(&p.ring);
	pthread_join(thread, NULL);
	/* The producer's error is the cause when it has one (a truncated or
	 * corrupt blob makes the tar reader fail too). */
	if (p.pfailed && p.perr.msg) {
		berr_move(e, &p.perr);
		goto out_ring;
	}
	if (cret < 0 || check_tar(&p, e) < 0)
		goto out_ring;
	ret = 0;
out_ring:
	if (p.tar)
		sym_archive_read_free(p.tar);
	ring_destroy(&p.ring);
	p.stream->close(p.stream);
out_hash:
	hasher_free(&p.blob_hash);
	hasher_free(&p.tar_hash);
	berr_free(&p.perr);
	return ret;
}
