/* SPDX-License-Identifier: GPL-2.0 */
/** @file fifo_model.h
 * @brief A model of the FIFO labs' device: what each read() and write()
 *        should return, with which errno and which bytes, given the lab's
 *        rules and the descriptor's O_NONBLOCK.
 *
 * A model-based test (in the spirit of xfstests' fsx) makes the same
 * seeded random sequence of calls on the device and on the model, and
 * compares every result: a mismatch is a bug of the driver, found at the
 * first call where it shows, with the seed that replays it.
 *
 * The model is a bounded queue of bytes of a fixed capacity. Its rules,
 * by stage (the lab's number, FIFO_STAGE):
 *
 * | call | stage 2 | stage 3 | stage 4 and later |
 * |---|---|---|---|
 * | read or write of 0 bytes | 0 | 0 | 0 |
 * | read, FIFO empty | 0 | O_NONBLOCK: EAGAIN, else 0 | O_NONBLOCK: EAGAIN, else blocks |
 * | write, FIFO full | ENOSPC | O_NONBLOCK: EAGAIN, else ENOSPC | O_NONBLOCK: EAGAIN, else blocks |
 * | read of n, FIFO holds len | min(n, len) oldest bytes | same | same |
 * | write of n, room for r | min(n, r) bytes appended | same | same |
 *
 * A zero-length call returns 0 whatever the FIFO holds and whatever the
 * flags, as read() and write() of 0 bytes on a pipe do. A user buffer
 * whose first @c usable bytes are mapped and the rest not (the _upto
 * variants) copies what it can: only those bytes move, and the call fails
 * with EFAULT only when not a single byte could be copied (the empty or
 * full checks come first). A call the model says "blocks" changes
 * nothing: once another call has brought data (or room), the same call
 * made again on the model gives the result the woken call must return.
 *
 * Also here: a small seeded generator (splitmix64) so that a sequence is
 * the same on every run, the choice of the seed (LABKIT_SEED or the
 * test's fixed one), and a short history of the last calls for failure
 * messages. Everything is plain C without global state, so a model can
 * live in memory shared between processes (allocate it with mmap and
 * call fifo_model_init() on it; its bytes are allocated inside it only
 * if the caller gives no storage, see fifo_model_init()).
 */
#ifndef LABKIT_FIFO_MODEL_H
#define LABKIT_FIFO_MODEL_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/** @brief Largest capacity the model accepts (Lab 04's largest fifo_size). */
#define FIFO_MODEL_MAX 65536

/** @brief The model of one FIFO device. */
struct fifo_model {
	/** @brief Capacity in bytes, 1 to FIFO_MODEL_MAX. */
	size_t capacity;
	/** @brief Which lab's rules: 2, 3, 4 or later (see the file's table). */
	int stage;
	/** @brief Index in @ref data of the oldest byte. */
	size_t head;
	/** @brief Bytes in the FIFO. */
	size_t len;
	/** @brief Bytes written since init (or reset), all told. */
	uint64_t total_written;
	/** @brief Bytes read since init (or reset), all told. */
	uint64_t total_read;
	/** @brief Ring of @ref capacity bytes. */
	unsigned char *data;
	/** @brief Nonzero if fifo_model_init() allocated @ref data. */
	int owns_data;
};

/** @brief What a call should do, according to the model. */
struct fifo_model_result {
	/** @brief Nonzero: the call sleeps (stage 4 and later, without
	 *         O_NONBLOCK, read on empty or write on full); @ref ret and
	 *         @ref err are then meaningless. */
	int blocks;
	/** @brief What the call returns: a byte count, or -1. */
	ssize_t ret;
	/** @brief errno when @ref ret is -1, else 0. */
	int err;
};

/** @brief Set up an empty model.
 * @param m the model
 * @param capacity its capacity in bytes, 1 to FIFO_MODEL_MAX
 * @param stage the lab's rules: 2, 3, 4 or later
 * @param storage @p capacity bytes for the ring (e.g. in shared memory),
 *        or NULL to have them allocated (then call fifo_model_destroy())
 * @return 0, or -1 (bad capacity, or no memory)
 */
int fifo_model_init(struct fifo_model *m, size_t capacity, int stage,
		    void *storage);

/** @brief Free what fifo_model_init() allocated.
 * @param m the model
 */
void fifo_model_destroy(struct fifo_model *m);

/** @brief Empty the model, as a reload of the module empties the device.
 * @param m the model
 */
void fifo_model_reset(struct fifo_model *m);

/** @brief A read() of @p count bytes into a good buffer.
 * @param m the model, updated unless the call fails or blocks
 * @param count the byte count
 * @param nonblock nonzero if the descriptor is O_NONBLOCK
 * @param out where the bytes read go (at least @p count bytes), or NULL
 * @return what the read returns
 */
struct fifo_model_result fifo_model_read(struct fifo_model *m, size_t count,
					 int nonblock, void *out);

/** @brief A write() of @p count bytes from a good buffer.
 * @param m the model, updated unless the call fails or blocks
 * @param bytes the bytes written
 * @param count the byte count
 * @param nonblock nonzero if the descriptor is O_NONBLOCK
 * @return what the write returns
 */
struct fifo_model_result fifo_model_write(struct fifo_model *m,
					  const void *bytes, size_t count,
					  int nonblock);

/** @brief A read() of @p count bytes into a buffer whose first @p usable
 *         bytes are writable and the rest unmapped.
 * @param m the model, updated unless the call fails or blocks
 * @param count the byte count
 * @param usable bytes of the buffer before the unmapped page
 * @param nonblock nonzero if the descriptor is O_NONBLOCK
 * @param out where the bytes read go, or NULL
 * @return what the read returns: the bytes copied, or EFAULT if none
 */
struct fifo_model_result fifo_model_read_upto(struct fifo_model *m,
					      size_t count, size_t usable,
					      int nonblock, void *out);

/** @brief A write() of @p count bytes from a buffer whose first @p usable
 *         bytes are readable and the rest unmapped.
 * @param m the model, updated unless the call fails or blocks
 * @param bytes the buffer's readable bytes (at least min(@p count,
 *        @p usable))
 * @param count the byte count
 * @param usable bytes of the buffer before the unmapped page
 * @param nonblock nonzero if the descriptor is O_NONBLOCK
 * @return what the write returns: the bytes copied, or EFAULT if none
 */
struct fifo_model_result fifo_model_write_upto(struct fifo_model *m,
					       const void *bytes, size_t count,
					       size_t usable, int nonblock);

/** @brief Copy up to @p count of the oldest bytes without consuming them.
 * @param m the model
 * @param out where they go
 * @param count how many at most
 * @return how many were copied: min(@p count, bytes in the FIFO)
 */
size_t fifo_model_peek(const struct fifo_model *m, void *out, size_t count);

/** @brief Bytes in the FIFO.
 * @param m the model
 * @return the count
 */
size_t fifo_model_len(const struct fifo_model *m);

/** @brief Room left in the FIFO, in bytes.
 * @param m the model
 * @return the count
 */
size_t fifo_model_room(const struct fifo_model *m);

/** @brief Whether a read would find data (poll()'s POLLIN).
 * @param m the model
 * @return nonzero if the FIFO holds at least one byte
 */
int fifo_model_readable(const struct fifo_model *m);

/** @brief Whether a write would find room (poll()'s POLLOUT).
 * @param m the model
 * @return nonzero if the FIFO has room for at least one byte
 */
int fifo_model_writable(const struct fifo_model *m);

/** @brief Whether a call's outcome is what the model said.
 * @param want the model's result (not a "blocks" one)
 * @param ret what the call returned
 * @param err errno after it (looked at only when @p ret is -1)
 * @return nonzero if they agree
 */
int fifo_model_agrees(struct fifo_model_result want, ssize_t ret, int err);

/** @brief Describe a result, e.g. "5", "-1 EAGAIN" or "blocks".
 * @param r the result
 * @param buf where the text goes
 * @param size the size of @p buf
 * @return @p buf
 */
char *fifo_model_describe(struct fifo_model_result r, char *buf,
			  size_t size);

/** @brief Describe what a call returned, e.g. "5" or "-1 EAGAIN".
 * @param ret what the call returned
 * @param err errno after it
 * @param buf where the text goes
 * @param size the size of @p buf
 * @return @p buf
 */
char *fifo_model_describe_call(ssize_t ret, int err, char *buf, size_t size);

/** @brief A seeded pseudo-random generator (splitmix64): the same seed
 *         gives the same numbers on every machine. */
struct fifo_model_rng {
	/** @brief The state, advanced by every number drawn. */
	uint64_t state;
};

/** @brief Seed a generator.
 * @param r the generator
 * @param seed any value
 */
void fifo_model_rng_seed(struct fifo_model_rng *r, uint64_t seed);

/** @brief The next 64 random bits.
 * @param r the generator
 * @return them
 */
uint64_t fifo_model_rng_next(struct fifo_model_rng *r);

/** @brief A random number below @p n.
 * @param r the generator
 * @param n the bound, at least 1
 * @return a number from 0 to @p n - 1
 */
uint64_t fifo_model_rng_below(struct fifo_model_rng *r, uint64_t n);

/** @brief The seed a model-based test uses: LABKIT_SEED if it is set to a
 *         decimal number, else @p fixed (the test's grading seed).
 * @param fixed the test's own seed
 * @return the seed
 */
uint64_t fifo_model_seed(uint64_t fixed);

/** @brief Calls a history remembers. */
#define FIFO_MODEL_HISTORY 12

/** @brief The last calls of a sequence, for a failure message. */
struct fifo_model_history {
	/** @brief One line per call, a ring; the newest is at
	 *         (@ref count - 1) % FIFO_MODEL_HISTORY. */
	char line[FIFO_MODEL_HISTORY][112];
	/** @brief Lines added so far. */
	unsigned long count;
};

/** @brief Add a line to the history (printf-style); it is prefixed with
 *         its number, from 0.
 * @param h the history
 * @param fmt the format
 */
void fifo_model_history_add(struct fifo_model_history *h, const char *fmt,
			    ...) __attribute__((format(printf, 2, 3)));

/** @brief Print the remembered lines, oldest first, one per line, each
 *         after @p indent.
 * @param h the history
 * @param out where to print (the harness's TH_LOG goes to stderr)
 * @param indent text before each line
 */
void fifo_model_history_print(const struct fifo_model_history *h, FILE *out,
			      const char *indent);

#endif /* LABKIT_FIFO_MODEL_H */
