// SPDX-License-Identifier: GPL-2.0
/** @file minor_model.c
 * @brief The multi-minor labs' model; see minor_model.h.
 */
#define _GNU_SOURCE
#include "minor_model.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

int minor_model_init(struct minor_model *m, int nminors, size_t capacity,
		     int stage, int nagents)
{
	int i;

	memset(m, 0, sizeof(*m));
	if (nminors < 1 || nminors > MINOR_MODEL_MINORS || nagents < 1 ||
	    nagents > MINOR_MODEL_AGENTS)
		return -1;
	m->nminors = nminors;
	m->stage = stage;
	m->nagents = nagents;
	for (i = 0; i < nagents; i++)
		m->group[i] = i;
	for (i = 0; i < nminors; i++) {
		if (fifo_model_init(&m->fifo[i], capacity, stage, NULL)) {
			while (i--)
				fifo_model_destroy(&m->fifo[i]);
			return -1;
		}
	}
	return 0;
}

void minor_model_destroy(struct minor_model *m)
{
	int i;

	for (i = 0; i < m->nminors; i++)
		fifo_model_destroy(&m->fifo[i]);
}

void minor_model_set_group(struct minor_model *m, int agent, int group)
{
	m->group[agent] = group;
}

int minor_model_open(struct minor_model *m, int minor, int agent, int fd,
		     int nonblock)
{
	int f;

	for (f = 0; f < MINOR_MODEL_FILES; f++) {
		struct minor_model_file *file = &m->file[f];

		if (file->open)
			continue;
		memset(file, 0, sizeof(*file));
		file->open = 1;
		file->minor = minor;
		file->agent = agent;
		file->fd = fd;
		file->nonblock = !!nonblock;
		file->can_read = 1;
		file->can_write = 1;
		file->owner = agent;
		return f;
	}
	return -1;
}

void minor_model_set_access(struct minor_model *m, int f, int accmode)
{
	m->file[f].can_read = accmode != O_WRONLY;
	m->file[f].can_write = accmode != O_RDONLY;
}

void minor_model_close(struct minor_model *m, int f)
{
	m->file[f].open = 0;
	m->file[f].async = 0;
}

void minor_model_set_nonblock(struct minor_model *m, int f, int on)
{
	m->file[f].nonblock = !!on;
}

void minor_model_set_owner(struct minor_model *m, int f, int owner, int sig)
{
	m->file[f].owner = owner;
	m->file[f].sig = sig;
}

void minor_model_set_async(struct minor_model *m, int f, int on)
{
	m->file[f].async = !!on;
}

/** @brief Record one signal for @p agent.
 * @param m the model
 * @param agent the agent
 * @param s the signal
 */
static void queue_signal(struct minor_model *m, int agent,
			 const struct minor_model_signal *s)
{
	if (m->nsig[agent] < MINOR_MODEL_SIGNALS)
		m->sig[agent][m->nsig[agent]] = *s;
	m->nsig[agent]++;
}

/** @brief What kill_fasync(&list, sig, @p code) does for @p minor: every
 *         file of the minor with O_ASYNC signals its owner.
 * @param m the model
 * @param minor the minor
 * @param code POLL_IN or POLL_OUT
 */
static void kill_fasync_model(struct minor_model *m, int minor, int code)
{
	int f, a;

	if (m->stage < 6)
		return;
	for (f = 0; f < MINOR_MODEL_FILES; f++) {
		const struct minor_model_file *file = &m->file[f];
		struct minor_model_signal s = {
			.signo = file->sig,
			.code = code,
			.band = code == POLL_IN ? MINOR_MODEL_BAND_IN
						: MINOR_MODEL_BAND_OUT,
			.fd = file->fd,
		};

		if (!file->open || !file->async || file->minor != minor)
			continue;
		if (file->owner >= 0) {
			queue_signal(m, file->owner, &s);
			continue;
		}
		for (a = 0; a < m->nagents; a++)
			if (m->group[a] == -1 - file->owner)
				queue_signal(m, a, &s);
	}
}

struct fifo_model_result minor_model_read(struct minor_model *m, int f,
					  size_t count, void *out)
{
	const struct minor_model_file *file = &m->file[f];
	struct fifo_model_result r = { .ret = -1, .err = EBADF };

	if (!file->can_read)
		return r;
	r = fifo_model_read(&m->fifo[file->minor], count, file->nonblock, out);
	if (!r.blocks && r.ret > 0)
		kill_fasync_model(m, file->minor, POLL_OUT);
	return r;
}

struct fifo_model_result minor_model_write(struct minor_model *m, int f,
					   const void *bytes, size_t count)
{
	const struct minor_model_file *file = &m->file[f];
	struct fifo_model_result r = { .ret = -1, .err = EBADF };

	if (!file->can_write)
		return r;
	r = fifo_model_write(&m->fifo[file->minor], bytes, count,
			     file->nonblock);
	if (!r.blocks && r.ret > 0)
		kill_fasync_model(m, file->minor, POLL_IN);
	return r;
}

short minor_model_poll(const struct minor_model *m, int minor)
{
	short mask = 0;

	if (fifo_model_readable(&m->fifo[minor]))
		mask |= POLLIN | POLLRDNORM;
	if (fifo_model_writable(&m->fifo[minor]))
		mask |= POLLOUT | POLLWRNORM;
	return mask;
}

int minor_model_take_signals(struct minor_model *m, int agent,
			     struct minor_model_signal *out)
{
	int n = m->nsig[agent];

	m->nsig[agent] = 0;
	if (n > MINOR_MODEL_SIGNALS)
		return -1;
	memcpy(out, m->sig[agent], (size_t)n * sizeof(*out));
	return n;
}

/** @brief Whether two signals are the same.
 * @param a one
 * @param b the other
 * @return nonzero if every field agrees
 */
static int same_signal(const struct minor_model_signal *a,
		       const struct minor_model_signal *b)
{
	return a->signo == b->signo && a->code == b->code &&
	       a->band == b->band && a->fd == b->fd;
}

int minor_model_same_signals(const struct minor_model_signal *a, int na,
			     const struct minor_model_signal *b, int nb)
{
	char used[MINOR_MODEL_SIGNALS] = { 0 };
	int i, j;

	if (na != nb || na < 0 || na > MINOR_MODEL_SIGNALS)
		return 0;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (!used[j] && same_signal(&a[i], &b[j]))
				break;
		if (j == nb)
			return 0;
		used[j] = 1;
	}
	return 1;
}

char *minor_model_describe_signals(const struct minor_model_signal *s, int n,
				   char *buf, size_t size)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	if (n == 0)
		snprintf(buf, size, "none");
	for (i = 0; i < n && len < size; i++) {
		const char *code = s[i].code == POLL_IN ? "POLL_IN" :
				   s[i].code == POLL_OUT ? "POLL_OUT" : NULL;
		int w;

		if (code)
			w = snprintf(buf + len, size - len,
				     "%s%s fd %d si_band 0x%lx signal %d",
				     i ? ", " : "", code, s[i].fd, s[i].band,
				     s[i].signo);
		else
			w = snprintf(buf + len, size - len,
				     "%ssi_code %d fd %d si_band 0x%lx signal %d",
				     i ? ", " : "", s[i].code, s[i].fd,
				     s[i].band, s[i].signo);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	return buf;
}
