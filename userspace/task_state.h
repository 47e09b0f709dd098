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
 * Asleep means off its CPU: a task about to sleep shows S while it still
 * runs, between prepare_to_wait() and schedule(), where it looks at its
 * wait condition once more; until /proc/TID/wchan names where it
 * sleeps, it could still see the condition true and return. So a call
 * woken too early, which looks and goes back to sleep, counts as asleep
 * only once it is really back to sleep, every time.
 *
 * Asleep also means inside a call (task_in_call(), task_stuck.h): a
 * thread or forked child blocked in a page fault of its own code before
 * its call, or on its way out after it, is not asleep in the call. And
 * once @p *done is set the call has returned, whatever the thread was
 * seen asleep in: a sleep seen with the flag set after it counts as 'X'.
 * Without both, on the debug kernel under load, the reader that a write
 * of 1 byte had woken was counted asleep and was gone a moment later,
 * its read returned with the byte: a_wake_up_wakes_one_sleeper (Lab 07)
 * then found neither of two sleepers served.
 *
 * Polls /proc every millisecond at most until one of the two happens,
 * or until the task is seen to spin (spin_watch_look(), task_stuck.h):
 * then it will not sleep either, and the wait ends as on timeout.
 *
 * @param tid the thread or process to watch
 * @param done a flag the thread sets when it is finished, or NULL
 * @param timeout_ms how long to wait at most
 * @return the state letter seen ('S' or 'D', or 'Z' for a process that
 *         exited), 'X' if @p *done was set first, 0 if the task is gone,
 *         spins, or on timeout
 */
char task_wait_asleep(pid_t tid, atomic_int *done, int timeout_ms);

/** @brief Note the processes that run now, before any test starts:
 *         task_alone() counts them as bystanders (the autograder's shell,
 *         init), which make no call on the device under test.
 *
 * LABKIT_HARNESS_MAIN calls it first thing.
 */
void task_note_bystanders(void);

/** @brief Whether no process but the caller, its ancestors, @p probe and
 *         the bystanders task_note_bystanders() noted is alive: then no
 *         task can make a call on the device, release a lock on it or
 *         wake a sleeper on it but the caller and @p probe.
 *
 * Kernel threads and zombies do not count. A bystander that has a device
 * open (which the kit's own do not) counts as alive; so does any process
 * when task_note_bystanders() was not called or could not note them all.
 *
 * @param dev the device's node, for the bystanders' descriptors
 * @param probe a process of the caller's, or 0
 * @return 1 if so, 0 if not or if it cannot tell
 */
int task_alone(const char *dev, pid_t probe);

/** @brief Wait until child process @p pid ends, or is seen asleep (state
 *         S) while task_alone() says nobody else could end its sleep.
 *
 * A sleep that no other task can end lasts for ever: the caller, which
 * makes no call meanwhile, is then told at once instead of at
 * @p timeout_ms. (State D is not taken for stuck: short uninterruptible
 * sleeps happen outside the device too.) Whether it is stuck is read from the kernel's state,
 * never from the time it took.
 *
 * @param pid the child, not waited for yet
 * @param dev the device's node, see task_alone()
 * @param status where its wait status goes when it ended
 * @param timeout_ms how long to wait at most
 * @return 0 if it ended (and was waited for), 1 if it is stuck asleep
 *         for good, -1 on timeout or error; the child is left running
 *         in the last two cases
 */
int child_wait_unless_stuck(pid_t pid, const char *dev, int *status,
			    int timeout_ms);

#endif /* LABKIT_TASK_STATE_H */
