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

#include "harness_main.h"

LABKIT_HARNESS_MAIN
