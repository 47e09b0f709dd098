/* SPDX-License-Identifier: GPL-2.0 */
/** @file task_state.h
 * @brief What the scheduler says a thread is doing, from /proc.
 *
 * Tests use it to know, without guessing with sleep(), that a thread has
 * gone to sleep inside a system call (state S, or D for an uninterruptible
 * sleep) rather than merely not having got there yet.
 */
#ifndef LABKIT_TASK_STATE_H
#define LABKIT_TASK_STATE_H

#include <stdatomic.h>
#include <sys/types.h>

/** @brief The state letter of thread or process @p tid.
 * @param tid a thread of this process (as gettid() returned it), or any
 *        process's PID
 * @return 'R', 'S', 'D', ... as in /proc/TID/stat, or 0 if the task is
 *         gone or its state cannot be read
 */
char task_state(pid_t tid);

/** @brief Wait until task @p tid sleeps (S or D), ends, or @p *done is
 *         set.
 *
 * Polls /proc every millisecond at most until one of the two happens.
 *
 * @param tid the thread or process to watch
 * @param done a flag the thread sets when it is finished, or NULL
 * @param timeout_ms how long to wait at most
 * @return the state letter seen ('S' or 'D', or 'Z' for a process that
 *         exited), 'X' if @p *done was set first, 0 if the task is gone or
 *         on timeout
 */
char task_wait_asleep(pid_t tid, atomic_int *done, int timeout_ms);

#endif /* LABKIT_TASK_STATE_H */
