// SPDX-License-Identifier: GPL-2.0
/** @file file_model.c
 * @brief The model of a 64-byte file with holes; see file_model.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "file_model.h"

/** @brief The highest @c whence the VFS passes on to a driver (SEEK_HOLE);
 *         lseek() refuses the ones above with EINVAL itself. */
#define FILE_MODEL_SEEK_MAX 4

/** @brief The smaller of two sizes.
 * @param a one
 * @param b the other
 * @return the smaller
 */
static size_t smaller(size_t a, size_t b)
{
	return a < b ? a : b;
}

/** @brief Fail a call with @p e.
 * @param err where the error number goes
 * @param e the error number
 * @return -1
 */
static int fail(int *err, int e)
{
	*err = e;
	return -1;
}

void file_model_init(struct file_model *m)
{
	memset(m, 0, sizeof(*m));
}

void file_model_open(struct file_model *m, int slot, int flags)
{
	struct file_model_fd *f = &m->fd[slot];
	int acc = flags & O_ACCMODE;

	memset(f, 0, sizeof(*f));
	f->open = 1;
	f->readable = acc == O_RDONLY || acc == O_RDWR;
	f->writable = acc == O_WRONLY || acc == O_RDWR;
	f->append = !!(flags & O_APPEND);
	/* Only an open that may write truncates: the handout's rule. */
	if (f->writable && (flags & O_TRUNC)) {
		memset(m->data, 0, sizeof(m->data));
		m->len = 0;
	}
}

void file_model_close(struct file_model *m, int slot)
{
	memset(&m->fd[slot], 0, sizeof(m->fd[slot]));
}

void file_model_setfl(struct file_model *m, int slot, int flags)
{
	m->fd[slot].append = !!(flags & O_APPEND);
}

/** @brief The driver's read at @p *pos: from the position up to the
 *         length, 0 at or past it and for a count of 0, EFAULT only when
 *         nothing could be copied.
 * @param m the model
 * @param buf where the bytes go
 * @param count the count asked for
 * @param avail accessible bytes at the start of the caller's buffer
 * @param pos the position, advanced by the bytes read
 * @param err where the error number goes
 * @return the bytes read, or -1
 */
static ssize_t read_at(struct file_model *m, void *buf, size_t count,
		       size_t avail, long long *pos, int *err)
{
	size_t n;

	if (count == 0 || *pos >= (long long)m->len)
		return 0;
	n = smaller(count, m->len - (size_t)*pos);
	n = smaller(n, avail);
	if (n == 0)
		return fail(err, EFAULT);
	memcpy(buf, m->data + *pos, n);
	*pos += (long long)n;
	return (ssize_t)n;
}

/** @brief The driver's write at @p *pos (at the length with O_APPEND): a
 *         count of 0 changes nothing, no room fails with ENOSPC, else what
 *         fits is copied; EFAULT only when nothing could be copied.
 * @param m the model
 * @param f the descriptor, for O_APPEND
 * @param buf the bytes
 * @param count the count asked for
 * @param avail accessible bytes at the start of the caller's buffer
 * @param pos the position, advanced by the bytes written
 * @param err where the error number goes
 * @return the bytes written, or -1
 */
static ssize_t write_at(struct file_model *m, const struct file_model_fd *f,
			const void *buf, size_t count, size_t avail,
			long long *pos, int *err)
{
	size_t n;

	if (count == 0)
		return 0;
	if (f->append)
		*pos = (long long)m->len;
	if (*pos >= FILE_MODEL_CAPACITY)
		return fail(err, ENOSPC);
	n = smaller(count, FILE_MODEL_CAPACITY - (size_t)*pos);
	n = smaller(n, avail);
	if (n == 0)
		return fail(err, EFAULT);
	memcpy(m->data + *pos, buf, n);
	*pos += (long long)n;
	if ((size_t)*pos > m->len)
		m->len = (size_t)*pos;
	return (ssize_t)n;
}

/** @brief What the VFS checks of a pread()/pwrite() offset: negative
 *         (before anything else), or an end past LLONG_MAX.
 * @param offset the offset
 * @param count the count
 * @return 0 if the call goes on, EINVAL if not
 */
static int bad_offset(long long offset, size_t count)
{
	if (offset < 0)
		return EINVAL;
	if ((unsigned long long)offset + count > (unsigned long long)LLONG_MAX)
		return EINVAL;
	return 0;
}

ssize_t file_model_read(struct file_model *m, int slot, void *buf,
			size_t count, size_t avail, int *err)
{
	struct file_model_fd *f = &m->fd[slot];
	long long pos = f->pos;
	ssize_t ret;

	if (!f->readable)
		return fail(err, EBADF);
	ret = read_at(m, buf, count, avail, &pos, err);
	if (ret >= 0)
		f->pos = pos;
	return ret;
}

ssize_t file_model_pread(struct file_model *m, int slot, void *buf,
			 size_t count, size_t avail, long long offset,
			 int *err)
{
	struct file_model_fd *f = &m->fd[slot];

	if (offset < 0)
		return fail(err, EINVAL);
	if (!f->readable)
		return fail(err, EBADF);
	if (bad_offset(offset, count))
		return fail(err, EINVAL);
	return read_at(m, buf, count, avail, &offset, err);
}

ssize_t file_model_write(struct file_model *m, int slot, const void *buf,
			 size_t count, size_t avail, int *err)
{
	struct file_model_fd *f = &m->fd[slot];
	long long pos = f->pos;
	ssize_t ret;

	if (!f->writable)
		return fail(err, EBADF);
	ret = write_at(m, f, buf, count, avail, &pos, err);
	if (ret >= 0)
		f->pos = pos;
	return ret;
}

ssize_t file_model_pwrite(struct file_model *m, int slot, const void *buf,
			  size_t count, size_t avail, long long offset,
			  int *err)
{
	struct file_model_fd *f = &m->fd[slot];

	if (offset < 0)
		return fail(err, EINVAL);
	if (!f->writable)
		return fail(err, EBADF);
	if (bad_offset(offset, count))
		return fail(err, EINVAL);
	return write_at(m, f, buf, count, avail, &offset, err);
}

long long file_model_lseek(struct file_model *m, int slot, long long offset,
			   int whence, int *err)
{
	struct file_model_fd *f = &m->fd[slot];
	long long base;

	if ((unsigned int)whence > FILE_MODEL_SEEK_MAX)
		return fail(err, EINVAL);
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = f->pos;
		break;
	case SEEK_END:
		base = (long long)m->len;
		break;
	default:	/* SEEK_DATA, SEEK_HOLE: the driver refuses them */
		return fail(err, EINVAL);
	}
	/* Both in [-64, 64] first, so that the sum cannot overflow. */
	if (offset < -FILE_MODEL_CAPACITY || offset > FILE_MODEL_CAPACITY)
		return fail(err, EINVAL);
	if (base + offset < 0 || base + offset > FILE_MODEL_CAPACITY)
		return fail(err, EINVAL);
	f->pos = base + offset;
	return f->pos;
}
