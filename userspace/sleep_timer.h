/* SPDX-License-Identifier: GPL-2.0 */
/** @file sleep_timer.h
 * @brief Whether a sleeping call armed a timer: a sleep with a timeout.
 *
 * A call that the handout says sleeps "until data comes or a signal ends
 * it" must not end by itself after some seconds, as one made with
 * wait_event_interruptible_timeout() or a loop of msleep_interruptible()
 * does. Waiting to see whether it ends would take as long as the longest
 * timeout a student may choose; the kernel says it at once: every such
 * sleep arms a timer in the sleeping task's own context, a wheel timer
 * whose function is process_timeout() (schedule_timeout()), or a
 * high-resolution one whose function is hrtimer_wakeup() (the
 * *_hrtimeout() waits, usleep_range()). The tracepoints timer_start and
 * hrtimer_start record both, with the task that armed them. A sleep
 * without a timeout arms neither: wait_event_interruptible(), a mutex, a
 * semaphore (whose schedule_timeout(MAX_SCHEDULE_TIMEOUT) arms no timer).
 *
 * The grading VM's kernel enables both events from its command line
 * (trace_event=, vm.CMDLINE): enabling a tracepoint later patches the
 * kernel's text while other CPUs run it, and under QEMU's multi-threaded
 * TCG that once crashed the guest ("Oops: int3" in a task at a timer's
 * tracepoint). sleep_timer_start() checks that they are on and empties
 * the trace buffer; sleep_timer_armed() looks in it for a timer armed by
 * a given task; sleep_timer_stop() empties it again. Kernels without
 * tracefs cannot tell: then sleep_timer_start() says so in the test's
 * log, and the test does not check.
 */
#ifndef LABKIT_SLEEP_TIMER_H
#define LABKIT_SLEEP_TIMER_H

#include <stddef.h>
#include <sys/types.h>

/** @brief Start looking at the timers every task arms: mount tracefs if
 *         it is not, check that its timer_start and hrtimer_start events
 *         are on, and empty the trace buffer. When it cannot, it writes
 *         why, and that the test does not check, to the test's log
 *         (stderr, as a "# " line).
 * @return 0, ENOENT if the kernel has no tracefs or the events are off,
 *         or the errno of a step that failed
 */
int sleep_timer_start(void);

/** @brief Whether task @p tid armed a timer that would wake it by itself
 *         since sleep_timer_start(): a timer_start event for
 *         process_timeout() or an hrtimer_start event for
 *         hrtimer_wakeup(), in @p tid's context.
 * @param tid the task (a thread's id)
 * @param event where the first such event's line goes (trimmed), or NULL
 * @param size the size of @p event
 * @return 1 if it did, 0 if not, -1 if the trace cannot be read
 */
int sleep_timer_armed(pid_t tid, char *event, size_t size);

/** @brief Stop looking: empty the trace buffer. */
void sleep_timer_stop(void);

#endif /* LABKIT_SLEEP_TIMER_H */
