// SPDX-License-Identifier: GPL-2.0
/** @file fifo_model.c
 * @brief The FIFO labs' model; see fifo_model.h.
 */
#define _GNU_SOURCE
#include "fifo_model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int fifo_model_init(struct fifo_model *m, size_t capacity, int stage,
		    void *storage)
{
	memset(m, 0, sizeof(*m));
	if (capacity < 1 || capacity > FIFO_MODEL_MAX)
		return -1;
	m->capacity = capacity;
	m->stage = stage;
	m->data = storage;
	if (!m->data) {
		m->data = malloc(capacity);
		if (!m->data)
			return -1;
		m->owns_data = 1;
	}
	return 0;
}

void fifo_model_destroy(struct fifo_model *m)
{
	if (m->owns_data)
		free(m->data);
	m->data = NULL;
	m->owns_data = 0;
}

void fifo_model_reset(struct fifo_model *m)
{
	m->head = 0;
	m->len = 0;
	m->total_written = 0;
	m->total_read = 0;
}

/** @brief A call that returns @p ret.
 * @param ret the byte count
 * @return the result
 */
static struct fifo_model_result returns(ssize_t ret)
{
	struct fifo_model_result r = { .ret = ret };

	return r;
}

/** @brief A call that fails with @p err.
 * @param err the errno
 * @return the result
 */
static struct fifo_model_result fails(int err)
{
	struct fifo_model_result r = { .ret = -1, .err = err };

	return r;
}

/** @brief A call that sleeps.
 * @return the result
 */
static struct fifo_model_result blocks(void)
{
	struct fifo_model_result r = { .blocks = 1, .ret = -1 };

	return r;
}

/** @brief The outcome of a read on an empty FIFO or a write on a full one.
 * @param m the model
 * @param nonblock whether the descriptor is O_NONBLOCK
 * @param stage2_err the error before stage 4 without O_NONBLOCK: 0 for
 *        "returns 0" (read), ENOSPC (write)
 * @return the result
 */
static struct fifo_model_result cannot(const struct fifo_model *m,
				       int nonblock, int stage2_err)
{
	if (m->stage >= 3 && nonblock)
		return fails(EAGAIN);
	if (m->stage >= 4)
		return blocks();
	return stage2_err ? fails(stage2_err) : returns(0);
}

struct fifo_model_result fifo_model_read_upto(struct fifo_model *m,
					      size_t count, size_t usable,
					      int nonblock, void *out)
{
	unsigned char *o = out;
	size_t n, i;

	if (count == 0)
		return returns(0);
	if (m->len == 0)
		return cannot(m, nonblock, 0);
	n = count < m->len ? count : m->len;
	if (usable < n)
		n = usable;
	if (n == 0)
		return fails(EFAULT);
	for (i = 0; i < n; i++) {
		if (o)
			o[i] = m->data[m->head];
		m->head = (m->head + 1) % m->capacity;
	}
	m->len -= n;
	m->total_read += n;
	return returns((ssize_t)n);
}

struct fifo_model_result fifo_model_write_upto(struct fifo_model *m,
					       const void *bytes, size_t count,
					       size_t usable, int nonblock)
{
	const unsigned char *b = bytes;
	size_t room = m->capacity - m->len, n, i;

	if (count == 0)
		return returns(0);
	if (room == 0)
		return cannot(m, nonblock, ENOSPC);
	n = count < room ? count : room;
	if (usable < n)
		n = usable;
	if (n == 0)
		return fails(EFAULT);
	for (i = 0; i < n; i++)
		m->data[(m->head + m->len + i) % m->capacity] = b[i];
	m->len += n;
	m->total_written += n;
	return returns((ssize_t)n);
}

struct fifo_model_result fifo_model_read(struct fifo_model *m, size_t count,
					 int nonblock, void *out)
{
	return fifo_model_read_upto(m, count, count, nonblock, out);
}

struct fifo_model_result fifo_model_write(struct fifo_model *m,
					  const void *bytes, size_t count,
					  int nonblock)
{
	return fifo_model_write_upto(m, bytes, count, count, nonblock);
}

size_t fifo_model_peek(const struct fifo_model *m, void *out, size_t count)
{
	unsigned char *o = out;
	size_t n = count < m->len ? count : m->len, i;

	for (i = 0; i < n; i++)
		o[i] = m->data[(m->head + i) % m->capacity];
	return n;
}

size_t fifo_model_len(const struct fifo_model *m)
{
	return m->len;
}

size_t fifo_model_room(const struct fifo_model *m)
{
	return m->capacity - m->len;
}

int fifo_model_readable(const struct fifo_model *m)
{
	return m->len > 0;
}

int fifo_model_writable(const struct fifo_model *m)
{
	return m->len < m->capacity;
}

int fifo_model_agrees(struct fifo_model_result want, ssize_t ret, int err)
{
	if (want.blocks || want.ret != ret)
		return 0;
	return ret != -1 || want.err == err;
}

char *fifo_model_describe_call(ssize_t ret, int err, char *buf, size_t size)
{
	if (ret == -1)
		snprintf(buf, size, "-1 %s", strerrorname_np(err) ?
			 strerrorname_np(err) : "E?");
	else
		snprintf(buf, size, "%zd", ret);
	return buf;
}

char *fifo_model_describe(struct fifo_model_result r, char *buf, size_t size)
{
	if (r.blocks) {
		snprintf(buf, size, "blocks");
		return buf;
	}
	return fifo_model_describe_call(r.ret, r.err, buf, size);
}

void fifo_model_rng_seed(struct fifo_model_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t fifo_model_rng_next(struct fifo_model_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t fifo_model_rng_below(struct fifo_model_rng *r, uint64_t n)
{
	return n ? fifo_model_rng_next(r) % n : 0;
}

uint64_t fifo_model_seed(uint64_t fixed)
{
	const char *s = getenv("LABKIT_SEED");
	unsigned long long v;
	char *end;

	if (!s || !*s)
		return fixed;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return fixed;
	return v;
}

void fifo_model_history_add(struct fifo_model_history *h, const char *fmt,
			    ...)
{
	char *line = h->line[h->count % FIFO_MODEL_HISTORY];
	size_t size = sizeof(h->line[0]);
	int n;
	va_list ap;

	n = snprintf(line, size, "%4lu  ", h->count);
	va_start(ap, fmt);
	vsnprintf(line + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	h->count++;
}

void fifo_model_history_print(const struct fifo_model_history *h, FILE *out,
			      const char *indent)
{
	unsigned long i = h->count > FIFO_MODEL_HISTORY ?
			  h->count - FIFO_MODEL_HISTORY : 0;

	for (; i < h->count; i++)
		fprintf(out, "%s%s\n", indent,
			h->line[i % FIFO_MODEL_HISTORY]);
}
