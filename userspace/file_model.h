/* SPDX-License-Identifier: GPL-2.0 */
/** @file file_model.h
 * @brief A model of Lab 01's /dev/flatbuf: a file of at most 64 bytes,
 *        with holes, that several open descriptors share.
 *
 * Lab 01's model-based tests (as xfstests' fsx does for file systems) make
 * the same random calls on the device and on this model, and compare
 * every result. The model is plain C over an array, small enough to be
 * checked by reading it against the handout's table ("The device,
 * precisely"):
 *
 * - the file has a length (the end of the written data) and 64 bytes of
 *   contents; bytes past the length are zeros;
 * - every descriptor (a "slot") has its own position and flags;
 * - read() and pread() copy from the position up to the length: 0 at or
 *   past it, and for a count of 0;
 * - write() and pwrite() copy to the position (to the length with
 *   O_APPEND, pwrite() included), as much as fits: a count of 0 returns
 *   0 and changes nothing, no room at the position fails with ENOSPC;
 * - a user buffer of which only the first @c avail bytes are accessible
 *   transfers at most those; EFAULT only when nothing could be copied
 *   (checked after the two rules above);
 * - lseek() goes to any position in [0, 64] from SEEK_SET, SEEK_CUR or
 *   SEEK_END (the length); anything else fails with EINVAL and leaves
 *   the position alone;
 * - an open that may write, with O_TRUNC, empties the file;
 * - what the VFS checks before the driver sees a call: EBADF for a read
 *   of a descriptor not open for reading (or a write of one not open for
 *   writing), EINVAL for a negative pread()/pwrite() offset or one whose
 *   end overflows, EINVAL for a @c whence beyond SEEK_HOLE; and that the
 *   position moves only when read() or write() succeeds.
 *
 * Calls return what the system call would (-1 for an error) and put the
 * error number in @c *err.
 */
#ifndef LABKIT_FILE_MODEL_H
#define LABKIT_FILE_MODEL_H

#include <stddef.h>
#include <sys/types.h>

/** @brief The file's capacity in bytes. */
#define FILE_MODEL_CAPACITY 64
/** @brief The number of descriptor slots. */
#define FILE_MODEL_SLOTS 8

/** @brief One open descriptor of the model. */
struct file_model_fd {
	/** @brief Nonzero while the slot is open. */
	int open;
	/** @brief Opened O_RDONLY or O_RDWR. */
	int readable;
	/** @brief Opened O_WRONLY or O_RDWR. */
	int writable;
	/** @brief O_APPEND is set (at open or with fcntl(F_SETFL)). */
	int append;
	/** @brief The file position, always in [0, FILE_MODEL_CAPACITY]. */
	long long pos;
};

/** @brief The file and its descriptors. */
struct file_model {
	/** @brief The end of the written data. */
	size_t len;
	/** @brief The contents; bytes at @c len and past it are zero. */
	unsigned char data[FILE_MODEL_CAPACITY];
	/** @brief The descriptors, by slot. */
	struct file_model_fd fd[FILE_MODEL_SLOTS];
};

/** @brief An empty file with no descriptor open.
 * @param m the model
 */
void file_model_init(struct file_model *m);

/** @brief open() into @p slot (which must be closed) with @p flags.
 * @param m the model
 * @param slot the descriptor's slot
 * @param flags as for open(2): O_RDONLY, O_WRONLY or O_RDWR, with any of
 *        O_TRUNC, O_APPEND, O_NONBLOCK (the last changes nothing)
 */
void file_model_open(struct file_model *m, int slot, int flags);

/** @brief close() @p slot.
 * @param m the model
 * @param slot the descriptor's slot
 */
void file_model_close(struct file_model *m, int slot);

/** @brief fcntl(F_SETFL, @p flags) on @p slot: sets or clears O_APPEND.
 * @param m the model
 * @param slot the descriptor's slot
 * @param flags the new status flags
 */
void file_model_setfl(struct file_model *m, int slot, int flags);

/** @brief read() of @p count bytes into @p buf.
 * @param m the model
 * @param slot the descriptor's slot
 * @param buf where the bytes go (at least @p avail bytes)
 * @param count the count asked for
 * @param avail how many bytes at the start of the caller's buffer are
 *        accessible (@p count for a good buffer)
 * @param err where the error number goes when -1 is returned
 * @return the bytes read, or -1
 */
ssize_t file_model_read(struct file_model *m, int slot, void *buf,
			size_t count, size_t avail, int *err);

/** @brief pread() of @p count bytes at @p offset into @p buf.
 * @param m the model
 * @param slot the descriptor's slot
 * @param buf where the bytes go (at least @p avail bytes)
 * @param count the count asked for
 * @param avail accessible bytes at the start of the caller's buffer
 * @param offset the position to read at
 * @param err where the error number goes when -1 is returned
 * @return the bytes read, or -1
 */
ssize_t file_model_pread(struct file_model *m, int slot, void *buf,
			 size_t count, size_t avail, long long offset,
			 int *err);

/** @brief write() of @p count bytes from @p buf.
 * @param m the model
 * @param slot the descriptor's slot
 * @param buf the bytes (at least @p avail of them)
 * @param count the count asked for
 * @param avail accessible bytes at the start of the caller's buffer
 * @param err where the error number goes when -1 is returned
 * @return the bytes written, or -1
 */
ssize_t file_model_write(struct file_model *m, int slot, const void *buf,
			 size_t count, size_t avail, int *err);

/** @brief pwrite() of @p count bytes from @p buf at @p offset.
 * @param m the model
 * @param slot the descriptor's slot
 * @param buf the bytes (at least @p avail of them)
 * @param count the count asked for
 * @param avail accessible bytes at the start of the caller's buffer
 * @param offset the position to write at (ignored with O_APPEND)
 * @param err where the error number goes when -1 is returned
 * @return the bytes written, or -1
 */
ssize_t file_model_pwrite(struct file_model *m, int slot, const void *buf,
			  size_t count, size_t avail, long long offset,
			  int *err);

/** @brief lseek() on @p slot.
 * @param m the model
 * @param slot the descriptor's slot
 * @param offset how far to move
 * @param whence SEEK_SET, SEEK_CUR, SEEK_END, or anything else (refused)
 * @param err where the error number goes when -1 is returned
 * @return the new position, or -1
 */
long long file_model_lseek(struct file_model *m, int slot, long long offset,
			   int whence, int *err);

#endif /* LABKIT_FILE_MODEL_H */
