/* SPDX-License-Identifier: GPL-2.0 */
/** @file pipe_model.h
 * @brief A model of Lab 07's pipe (mypipe): what each open(), read(),
 *        write(), poll() and close() that does not sleep must return,
 *        following the rules of the lab's handout ("The device,
 *        precisely").
 *
 * Lab 07's differential tests compare mypipe with a real named pipe, but
 * a named pipe has 4096 bytes of room and stores a page per write: it
 * cannot answer for `pipe_size=5000` or 65536, for `exclusive=1`, or for
 * a buffer that faults part way (rule 20, where mypipe moves the bytes up
 * to the fault). This model can: a model-based test (in the spirit of
 * xfstests' fsx) makes one seeded random sequence of calls on the device
 * and on the model over several descriptors of both ends, and compares
 * every result, the bytes read and whether SIGPIPE came.
 *
 * The model knows the pipe's ring, the files open on each end, the opens
 * of the write end so far (for rule 15's POLLHUP) and each file's
 * O_NONBLOCK. It answers "blocks" for a call that would sleep (an open
 * whose other end is not held, a read of an empty pipe with a writer, a
 * write that does not fit, without O_NONBLOCK); such a call changes
 * nothing in the model, and a test leaves it out.
 *
 * The seeded generator, the seed's choice (LABKIT_SEED) and the history
 * of calls for failure messages are fifo_model.h's.
 */
#ifndef LABKIT_PIPE_MODEL_H
#define LABKIT_PIPE_MODEL_H

#include <stddef.h>
#include <sys/types.h>

/** @brief PIPE_BUF: the largest write that is atomic (rule 10). */
#define PIPE_MODEL_ATOMIC 4096

/** @brief The two ends of the pipe. */
enum pipe_model_end {
	/** @brief /dev/mypipe/mypipe_in, the write end. */
	PIPE_MODEL_WRITE_END,
	/** @brief /dev/mypipe/mypipe_out, the read end. */
	PIPE_MODEL_READ_END,
};

/** @brief The model of the pipe. */
struct pipe_model {
	/** @brief The ring's size: the module's pipe_size. */
	size_t capacity;
	/** @brief Nonzero: the module was loaded with exclusive=1. */
	int exclusive;
	/** @brief The ring, @ref capacity bytes. */
	unsigned char *data;
	/** @brief Index in @ref data of the oldest byte. */
	size_t head;
	/** @brief Bytes in the pipe. */
	size_t len;
	/** @brief Files open on the read end. */
	unsigned int readers;
	/** @brief Files open on the write end. */
	unsigned int writers;
	/** @brief Opens of the write end so far (rule 15). */
	unsigned int writer_opens;
};

/** @brief What the model knows of one open file. */
struct pipe_model_file {
	/** @brief Which end it is a file of. */
	enum pipe_model_end end;
	/** @brief Nonzero while O_NONBLOCK is set on it. */
	int nonblock;
	/** @brief For a read end opened with O_NONBLOCK while no writer held
	 *         the pipe: 1 + the write end's opens then; it sees POLLHUP
	 *         only once a writer has opened since. 0 otherwise. */
	unsigned int hup_after;
};

/** @brief What a call must do, according to the model. */
struct pipe_model_result {
	/** @brief Nonzero: the call sleeps; nothing else is meaningful. */
	int blocks;
	/** @brief What it returns: a count, 0 for open or close, or -1. */
	ssize_t ret;
	/** @brief errno when @ref ret is -1. */
	int err;
	/** @brief Nonzero when the call must send SIGPIPE (rule 13). */
	int sigpipe;
};

/** @brief Set up an empty pipe with no file open.
 * @param m the model
 * @param capacity pipe_size, in bytes (at least 1)
 * @param exclusive the module's exclusive parameter
 * @return 0, or -1 without memory
 */
int pipe_model_init(struct pipe_model *m, size_t capacity, int exclusive);

/** @brief Free the ring.
 * @param m the model
 */
void pipe_model_destroy(struct pipe_model *m);

/** @brief An open() of one end (rules 2, 3, 4 and 23).
 * @param m the model, updated if the open succeeds
 * @param f the new file, filled in if the open succeeds
 * @param end the node opened
 * @param accmode O_RDONLY, O_WRONLY, O_RDWR, or O_ACCMODE (access mode
 *        3, neither reading nor writing)
 * @param nonblock nonzero for O_NONBLOCK
 * @return 0, a failure, or blocks
 */
struct pipe_model_result pipe_model_open(struct pipe_model *m,
					 struct pipe_model_file *f,
					 enum pipe_model_end end, int accmode,
					 int nonblock);

/** @brief The close() of an open file (rules 18 and 19).
 * @param m the model
 * @param f the file
 */
void pipe_model_close(struct pipe_model *m, const struct pipe_model_file *f);

/** @brief A read() of @p count bytes into a buffer whose first @p usable
 *         bytes are writable and the rest unmapped (rules 6 to 9, 20).
 * @param m the model, updated unless the call fails or blocks
 * @param f the file (its end and O_NONBLOCK)
 * @param count the byte count
 * @param usable writable bytes of the buffer (@p count or more: a good
 *        buffer)
 * @param out where the bytes read go (@p count bytes), or NULL
 * @return what the read returns
 */
struct pipe_model_result pipe_model_read(struct pipe_model *m,
					 const struct pipe_model_file *f,
					 size_t count, size_t usable,
					 void *out);

/** @brief A write() of @p count bytes from a buffer whose first @p usable
 *         bytes are readable and the rest unmapped (rules 9 to 13, 20).
 * @param m the model, updated unless the call fails or blocks
 * @param f the file (its end and O_NONBLOCK)
 * @param bytes the buffer's readable bytes (min(@p count, @p usable))
 * @param count the byte count
 * @param usable readable bytes of the buffer (@p count or more: a good
 *        buffer)
 * @return what the write returns, and whether it sends SIGPIPE
 */
struct pipe_model_result pipe_model_write(struct pipe_model *m,
					  const struct pipe_model_file *f,
					  const void *bytes, size_t count,
					  size_t usable);

/** @brief What poll() reports for a file (rules 15 and 16), among
 *         POLLIN, POLLRDNORM, POLLOUT, POLLWRNORM, POLLHUP and POLLERR.
 * @param m the model
 * @param f the file
 * @return the events
 */
short pipe_model_poll(const struct pipe_model *m,
		      const struct pipe_model_file *f);

/** @brief Whether a call's outcome is what the model said.
 * @param want the model's result (not a "blocks" one)
 * @param ret what the call returned (for open: the descriptor or -1)
 * @param err errno after it (looked at only when @p ret is -1)
 * @return nonzero if they agree
 */
int pipe_model_agrees(struct pipe_model_result want, ssize_t ret, int err);

/** @brief Describe a result, e.g. "5", "-1 EAGAIN", "-1 EPIPE + SIGPIPE"
 *         or "blocks".
 * @param r the result
 * @param buf where the text goes
 * @param size the size of @p buf
 * @return @p buf
 */
char *pipe_model_describe(struct pipe_model_result r, char *buf,
			  size_t size);

/** @brief Describe poll events, e.g. "POLLIN|POLLRDNORM" or "0".
 * @param events the events
 * @param buf where the text goes
 * @param size the size of @p buf
 * @return @p buf
 */
char *pipe_model_describe_events(short events, char *buf, size_t size);

#endif /* LABKIT_PIPE_MODEL_H */
