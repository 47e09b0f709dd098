// SPDX-License-Identifier: GPL-2.0
/** @file test_blkfifo.c
 * @brief Lab 04 tests: /dev/blkfifo is Lab 03's FIFO whose reads and
 *        writes sleep instead of failing.
 *
 * The tests are shared with the later FIFO labs, in userspace/fifo_tests.h:
 * at stage 4 they check the FIFO itself and O_NONBLOCK as in Lab 03, then
 * the new concept: who sleeps, in which state, who wakes them, what a
 * signal does to a sleep, and the fifo_size parameter. The sleeping calls
 * run in child processes (struct sleeper), so that a call a driver bug
 * never wakes cannot keep the test from ending. The tests never sleep()
 * to let a call get somewhere: they read its state from /proc
 * (task_state.h) and wait on pipes with poll() and a timeout. kselftest
 * harness: each test runs in a forked process with a timeout;
 * tests/grade.sh turns the results into points.
 */
#define _GNU_SOURCE

/** @brief The device under test. */
#define FIFO_DEV "/dev/blkfifo"
/** @brief The lab's stage: which of the shared FIFO tests apply. */
#define FIFO_STAGE 4
/** @brief The lab's module, which the parameter tests reload. */
#define FIFO_MODULE "blkfifo"

#include "fifo_tests.h"
#include "sleep_timer.h"

/* A sleep ends with data (room) or a signal, never by itself: a read
 * asleep on the empty FIFO, and a write asleep on the full one, arm no
 * timer (wait_event_interruptible_timeout(), msleep_interruptible() in a
 * loop and the hrtimeout waits all do). The kernel's timer_start and
 * hrtimer_start tracepoints say so at once (sleep_timer.h), where waiting
 * for the call to end would take as long as the longest timeout a driver
 * may choose. Not checked on a kernel without tracefs. */
TEST_F_TIMEOUT(fifo, sleeps_have_no_timeout, TIMEOUT)
{
	struct sleeper *r = &self->sleepers[0], *w = &self->sleepers[1];
	char fill[FIFO_SIZE], event[320], c, st;
	struct sleep_timer timers;
	int err;

	err = sleep_timer_start(&timers);
	if (err) {
		TH_LOG("this kernel's timer events cannot be recorded (%s): not checked",
		       timers.why);
		return;
	}
	st = sleeper_start(r, self->fd, NULL, 1);
	EXPECT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(r, st));
	}
	EXPECT_EQ(0, sleep_timer_armed(&timers, r->pid, event, sizeof(event))) {
		TH_LOG("rule \"read, empty FIFO\": the sleep ends when a write adds data or a signal comes, never by itself, and this read armed a timer that would end it: %s (wait_event_interruptible_timeout()?)",
		       event);
	}
	ASSERT_EQ(1, write(self->nb, "x", 1));
	sleeper_finish(r, self->nb);

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	st = sleeper_start(w, self->fd, "y", 1);
	EXPECT_EQ('S', st) {
		TH_LOG("a write to the full FIFO should sleep: %s",
		       not_asleep(w, st));
	}
	EXPECT_EQ(0, sleep_timer_armed(&timers, w->pid, event, sizeof(event))) {
		TH_LOG("rule \"write, full FIFO\": the sleep ends when a read makes room or a signal comes, never by itself, and this write armed a timer that would end it: %s (wait_event_interruptible_timeout()?)",
		       event);
	}
	ASSERT_EQ(1, read(self->nb, &c, 1));
	sleeper_finish(w, self->nb);
	sleep_timer_stop(&timers);
}

#include "harness_main.h"

LABKIT_HARNESS_MAIN
