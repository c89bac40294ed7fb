/* image/progress.c: a progress bar per layer on a terminal (bytes of the
 * blob read, bytes and files written); silent with --quiet or without one.
 * Layers unpacked in parallel share the line, each redrawing its own. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "internal.h"

#define REDRAW_NS (100ull * 1000 * 1000)
#define BAR_WIDTH 24

struct progress {
	pthread_mutex_t mu;
	size_t n_layers;
	uint64_t last_draw;
};

struct progress_bar {
	struct progress *p;
	size_t index;
	char what[24];
	uint64_t size, read, bytes, files;
};

struct progress *progress_new(bool quiet, size_t n_layers)
{
	struct progress *p;

	if (quiet || !isatty(STDERR_FILENO))
		return NULL;
	p = xzalloc(sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	p->n_layers = n_layers;
	return p;
}

static void human(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = n;
	size_t u = 0;

	while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* Called with the lock held. */
static void draw(struct progress_bar *b, bool final)
{
	char bar[BAR_WIDTH + 1], rd[16], size[16], bytes[16];
	uint64_t read = final ? b->size : b->read > b->size ? b->size : b->read;
	size_t fill = b->size ? (size_t)(BAR_WIDTH * read / b->size) : final ? BAR_WIDTH : 0;

	memset(bar, '=', fill);
	memset(bar + fill, ' ', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	human(read, rd, sizeof rd);
	human(b->size, size, sizeof size);
	human(b->bytes, bytes, sizeof bytes);
	fprintf(stderr, "\r\033[Klayer %zu/%zu %s [%s] %s/%s, %s in %llu files%s", b->index + 1,
		b->p->n_layers, b->what, bar, rd, size, bytes, (unsigned long long)b->files,
		final ? "\n" : "");
	fflush(stderr);
}

struct progress_bar *progress_start(struct progress *p, size_t index, const char *what,
				    uint64_t size)
{
	struct progress_bar *b;

	if (!p)
		return NULL;
	b = xzalloc(sizeof *b);
	b->p = p;
	b->index = index;
	snprintf(b->what, sizeof b->what, "%s", what);
	b->size = size;
	pthread_mutex_lock(&p->mu);
	draw(b, false);
	pthread_mutex_unlock(&p->mu);
	return b;
}

void progress_update(struct progress_bar *b, uint64_t read, uint64_t bytes, uint64_t files)
{
	uint64_t now;

	if (!b)
		return;
	b->read = read;
	b->bytes = bytes;
	b->files = files;
	now = now_ns();
	pthread_mutex_lock(&b->p->mu);
	if (now - b->p->last_draw >= REDRAW_NS) {
		b->p->last_draw = now;
		draw(b, false);
	}
	pthread_mutex_unlock(&b->p->mu);
}

void progress_done(struct progress_bar *b, bool ok)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->p->mu);
	if (ok)
		draw(b, true);
	else
		fputs("\r\033[K", stderr);
	pthread_mutex_unlock(&b->p->mu);
	free(b);
}

void progress_free(struct progress *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->mu);
	free(p);
}
