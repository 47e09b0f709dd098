/* SPDX-License-Identifier: GPL-2.0 */
/** @file held_call.h
 * @brief A read() or write() that serves sleeping calls, held in its copy
 *        until they are all asleep.
 *
 * A driver that wakes its sleepers before its copy is through wakes them
 * for nothing: they find the device as it was, sleep again, and nobody
 * wakes them. Served by a plain call, such a sleeper misses its wake-up
 * only when it looks before the copy is through, which on two CPUs depends
 * on the machine, so the same driver would pass or fail by chance. A call
 * made here has its copy frozen at the first byte (copy_stall.h) until
 * every task named is asleep (or its call returned): a sleeper woken too
 * early always looks first, and stays asleep for good, every time. A
 * correct driver's sleepers sleep on through the frozen copy and are woken
 * after it; to them this is a plain call.
 */
#ifndef LABKIT_HELD_CALL_H
#define LABKIT_HELD_CALL_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/** @brief The tasks a held call waits for, at most. */
#define HELD_CALL_TASKS 8

/** @brief The sleeping tasks a held call waits for before its copy goes on. */
struct held_call_tasks {
	/** @brief How many of @ref tid there are. */
	int n;
	/** @brief Each task's thread id (a process's PID for a process). */
	pid_t tid[HELD_CALL_TASKS];
	/** @brief Set when that task's call has returned, or NULL. */
	atomic_int *done[HELD_CALL_TASKS];
};

/** @brief read() or write() through @p fd, its copy held at its first byte
 *         until every task of @p tasks is asleep (or its call returned,
 *         or @p timeout_ms passed for it), then let go.
 *
 * @param fd the descriptor
 * @param data the bytes to write, or NULL for a read
 * @param out for a read, room for @p count bytes
 * @param count the byte count, at most a page
 * @param tasks the tasks to wait for
 * @param timeout_ms how long to wait for each task at most
 * @return what the call returned, with errno as it left it (-1 with
 *         ENOMEM when the call could not be set up)
 */
ssize_t held_call(int fd, const void *data, void *out, size_t count,
		  const struct held_call_tasks *tasks, int timeout_ms);

#endif /* LABKIT_HELD_CALL_H */
