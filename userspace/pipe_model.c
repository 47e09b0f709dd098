// SPDX-License-Identifier: GPL-2.0
/** @file pipe_model.c
 * @brief Lab 07's pipe model; see pipe_model.h.
 */
#define _GNU_SOURCE
#include "pipe_model.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pipe_model_init(struct pipe_model *m, size_t capacity, int exclusive)
{
	memset(m, 0, sizeof(*m));
	if (capacity < 1)
		return -1;
	m->data = malloc(capacity);
	if (!m->data)
		return -1;
	m->capacity = capacity;
	m->exclusive = exclusive;
	return 0;
}

void pipe_model_destroy(struct pipe_model *m)
{
	free(m->data);
	m->data = NULL;
}

/** @brief A call that returns @p ret.
 * @param ret the count (0 for a successful open)
 * @return the result
 */
static struct pipe_model_result returns(ssize_t ret)
{
	struct pipe_model_result r = { .ret = ret };

	return r;
}

/** @brief A call that fails with @p err.
 * @param err the errno
 * @return the result
 */
static struct pipe_model_result fails(int err)
{
	struct pipe_model_result r = { .ret = -1, .err = err };

	return r;
}

/** @brief A call that sleeps.
 * @return the result
 */
static struct pipe_model_result blocks(void)
{
	struct pipe_model_result r = { .blocks = 1, .ret = -1 };

	return r;
}

struct pipe_model_result pipe_model_open(struct pipe_model *m,
					 struct pipe_model_file *f,
					 enum pipe_model_end end, int accmode,
					 int nonblock)
{
	int writer = end == PIPE_MODEL_WRITE_END;
	unsigned int held = writer ? m->writers : m->readers;

	/* Rule 2: the wrong direction, before anything else. */
	if (accmode != (writer ? O_WRONLY : O_RDONLY))
		return fails(EACCES);
	/* Rule 23: before rule 4's ENXIO. */
	if (m->exclusive && held)
		return fails(EBUSY);
	if (writer) {
		if (!m->readers)	/* rules 3 and 4 */
			return nonblock ? fails(ENXIO) : blocks();
		m->writers++;
		m->writer_opens++;
	} else {
		if (!m->writers && !nonblock)	/* rule 3 */
			return blocks();
		m->readers++;
	}
	f->end = end;
	f->nonblock = nonblock;
	f->hup_after = !writer && !m->writers ? m->writer_opens + 1 : 0;
	return returns(0);
}

void pipe_model_close(struct pipe_model *m, const struct pipe_model_file *f)
{
	if (f->end == PIPE_MODEL_WRITE_END)
		m->writers--;
	else
		m->readers--;
	if (!m->readers && !m->writers)	/* rule 19 */
		m->head = m->len = 0;
}

/** @brief Move @p n of the oldest bytes out of the ring.
 * @param m the model
 * @param out where they go, or NULL
 * @param n how many (at most the bytes in the ring)
 */
static void take(struct pipe_model *m, unsigned char *out, size_t n)
{
	size_t first = m->capacity - m->head;

	if (first > n)
		first = n;
	if (out) {
		memcpy(out, m->data + m->head, first);
		memcpy(out + first, m->data, n - first);
	}
	m->head = (m->head + n) % m->capacity;
	m->len -= n;
}

/** @brief Append @p n bytes to the ring.
 * @param m the model
 * @param bytes the bytes
 * @param n how many (at most the room)
 */
static void put(struct pipe_model *m, const unsigned char *bytes, size_t n)
{
	size_t tail = (m->head + m->len) % m->capacity;
	size_t first = m->capacity - tail;

	if (first > n)
		first = n;
	memcpy(m->data + tail, bytes, first);
	memcpy(m->data, bytes + first, n - first);
	m->len += n;
}

/** @brief The smaller of two sizes.
 * @param a one
 * @param b the other
 * @return the smaller
 */
static size_t smaller(size_t a, size_t b)
{
	return a < b ? a : b;
}

struct pipe_model_result pipe_model_read(struct pipe_model *m,
					 const struct pipe_model_file *f,
					 size_t count, size_t usable,
					 void *out)
{
	size_t moved;

	if (!count)		/* rule 9 */
		return returns(0);
	if (!m->len) {
		if (!m->writers)	/* rule 8 */
			return returns(0);
		return f->nonblock ? fails(EAGAIN) : blocks();	/* 7 */
	}
	/* Rules 6 and 20: what fits in the buffer up to its fault. */
	moved = smaller(smaller(count, m->len), usable);
	if (!moved)
		return fails(EFAULT);
	take(m, out, moved);
	return returns((ssize_t)moved);
}

struct pipe_model_result pipe_model_write(struct pipe_model *m,
					  const struct pipe_model_file *f,
					  const void *bytes, size_t count,
					  size_t usable)
{
	size_t room = m->capacity - m->len, n;
	struct pipe_model_result r;

	if (!count)		/* rule 9 */
		return returns(0);
	if (!m->readers) {	/* rule 13 */
		r = fails(EPIPE);
		r.sigpipe = 1;
		return r;
	}
	if (count <= PIPE_MODEL_ATOMIC) {	/* rule 10: whole or not */
		if (room < count)
			return f->nonblock ? fails(EAGAIN) : blocks();
		n = count;
	} else {		/* rule 11: what fits */
		if (!room)
			return f->nonblock ? fails(EAGAIN) : blocks();
		n = smaller(room, count);
	}
	if (usable < n) {	/* rule 20: up to the fault */
		if (!usable)
			return fails(EFAULT);
		put(m, bytes, usable);
		return returns((ssize_t)usable);
	}
	if (n < count && !f->nonblock)	/* rule 11: the rest waits */
		return blocks();
	put(m, bytes, n);
	return returns((ssize_t)n);
}

short pipe_model_poll(const struct pipe_model *m,
		      const struct pipe_model_file *f)
{
	short events = 0;

	if (f->end == PIPE_MODEL_READ_END) {	/* rule 15 */
		if (m->len)
			events |= POLLIN | POLLRDNORM;
		if (!m->writers &&
		    !(f->hup_after && f->hup_after == m->writer_opens + 1))
			events |= POLLHUP;
	} else {		/* rule 16 */
		if (m->capacity - m->len >= PIPE_MODEL_ATOMIC)
			events |= POLLOUT | POLLWRNORM;
		if (!m->readers)
			events |= POLLERR;
	}
	return events;
}

int pipe_model_agrees(struct pipe_model_result want, ssize_t ret, int err)
{
	if (want.blocks)
		return 0;
	if (want.ret == -1)
		return ret == -1 && err == want.err;
	return ret == want.ret;
}

/** @brief An errno's name, e.g. "EAGAIN".
 * @param err the errno
 * @return its name, or "E?" if the C library knows none
 */
static const char *errname(int err)
{
	const char *name = strerrorname_np(err);

	return name ? name : "E?";
}

char *pipe_model_describe(struct pipe_model_result r, char *buf,
			  size_t size)
{
	if (r.blocks)
		snprintf(buf, size, "blocks");
	else if (r.ret == -1)
		snprintf(buf, size, "-1 %s%s", errname(r.err),
			 r.sigpipe ? " + SIGPIPE" : "");
	else
		snprintf(buf, size, "%zd", r.ret);
	return buf;
}

char *pipe_model_describe_events(short events, char *buf, size_t size)
{
	static const struct {
		short bit;
		const char *name;
	} names[] = {
		{ POLLIN, "POLLIN" }, { POLLRDNORM, "POLLRDNORM" },
		{ POLLOUT, "POLLOUT" }, { POLLWRNORM, "POLLWRNORM" },
		{ POLLHUP, "POLLHUP" }, { POLLERR, "POLLERR" },
		{ POLLPRI, "POLLPRI" }, { POLLNVAL, "POLLNVAL" },
	};
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(events & names[i].bit))
			continue;
		used += snprintf(buf + used, size - used, "%s%s",
				 used ? "|" : "", names[i].name);
		if (used >= size)
			return buf;
	}
	if (!used)
		snprintf(buf, size, "0");
	return buf;
}
