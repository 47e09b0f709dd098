/* SPDX-License-Identifier: GPL-2.0 */
/** @file ctx_switches.h
 * @brief How many times a thread has gone to sleep: its voluntary
 *        context switches.
 *
 * A task that blocks (sleeps on a wait queue, a semaphore, a mutex)
 * leaves its CPU with a voluntary context switch; a task preempted while
 * it could still run counts an involuntary one instead. So the voluntary
 * count of a thread asleep in a call moves only when the thread was
 * woken and went to sleep again: a test that reads it before and after
 * a wake-up, once the thread is seen asleep again (task_state.h), knows
 * whether that wake-up reached it, without any timing.
 */
#ifndef LABKIT_CTX_SWITCHES_H
#define LABKIT_CTX_SWITCHES_H
#include <sys/types.h>

/** @brief The voluntary context switches of a thread of this process,
 *         voluntary_ctxt_switches of /proc/self/task/TID/status.
 * @param tid the thread, as gettid() returned it
 * @return the count, or -1 if the thread is gone or the file unreadable
 */
long ctx_switches_of(pid_t tid);

/** @brief The calling thread's own voluntary context switches, from
 *         getrusage(RUSAGE_THREAD), which never sleeps: a thread can
 *         count the sleeps of one of its calls by reading it just before
 *         and just after the call.
 * @return the count, or -1 on error
 */
long ctx_switches_own(void);

#endif /* LABKIT_CTX_SWITCHES_H */
