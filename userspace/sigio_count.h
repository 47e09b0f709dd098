/* SPDX-License-Identifier: GPL-2.0 */
/** @file sigio_count.h
 * @brief Count the signals a file with O_ASYNC sends this process, by
 *        si_band: one per kill_fasync(), none guessed with sleep().
 *
 * The file is given this process as its owner (F_SETOWN) and a realtime
 * signal (F_SETSIG): realtime signals queue, one per kill_fasync(), where
 * a second plain SIGIO is dropped while one is pending. The signal is
 * blocked, so that it stays pending until sigio_count_take() takes it with
 * sigtimedwait() and a zero timeout. kill_fasync() queues it before the
 * read() or write() that sends it returns: once every call of a test has
 * returned, what is pending is exactly what they sent.
 *
 * Block the signal (sigio_count_block()) before the test starts any
 * thread: threads inherit the mask, and a realtime signal that reaches a
 * thread that does not block it ends the whole process.
 */
#ifndef LABKIT_SIGIO_COUNT_H
#define LABKIT_SIGIO_COUNT_H

/** @brief The signals taken, by event. */
struct sigio_count {
	/** @brief POLL_IN: si_band POLLIN | POLLRDNORM (a write moved data). */
	int in;
	/** @brief POLL_OUT: si_band POLLOUT | POLLWRNORM | POLLWRBAND (a read
	 *         made room). */
	int out;
	/** @brief Any other: another si_band, or another file's si_fd. */
	int other;
};

/** @brief The realtime signal sigio_count_async() asks for (F_SETSIG).
 * @return its number
 */
int sigio_count_signal(void);

/** @brief Block sigio_count_signal() and SIGIO in the calling thread (the
 *         threads it starts later inherit the mask), and drop any pending.
 * @return 0, or -1 with errno set
 */
int sigio_count_block(void);

/** @brief Make this process the owner of @p fd's signals (F_SETOWN), ask
 *         for sigio_count_signal() (F_SETSIG), then set O_ASYNC.
 * @param fd an open file of the device
 * @return 0, or -1 with errno set
 */
int sigio_count_async(int fd);

/** @brief Clear O_ASYNC on @p fd (the driver's .fasync, on = 0).
 * @param fd the file
 * @return 0, or -1 with errno set
 */
int sigio_count_async_off(int fd);

/** @brief Take every pending sigio_count_signal() and SIGIO without
 *         waiting, and count them.
 * @param fd the file whose signals count as POLL_IN or POLL_OUT (si_fd);
 *        another file's count as other
 * @param c the counts, set here
 * @return how many were taken
 */
int sigio_count_take(int fd, struct sigio_count *c);

/** @brief Add the signal a call should have sent to @p c: one POLL_IN for
 *         a write that moved bytes, one POLL_OUT for such a read, none
 *         for a call that moved nothing.
 * @param c the counts due
 * @param is_write nonzero for a write, zero for a read
 * @param ret what the call returned
 */
void sigio_count_due(struct sigio_count *c, int is_write, long ret);

/** @brief Describe counts, e.g. "1 POLL_IN, 2 POLL_OUT" (", 1 other" when
 *         there are others).
 * @param c the counts
 * @param buf where the text goes
 * @param size its size
 * @return @p buf
 */
char *sigio_count_describe(const struct sigio_count *c, char *buf,
			   unsigned long size);

#endif /* LABKIT_SIGIO_COUNT_H */
