// SPDX-License-Identifier: GPL-2.0
/** @file test_nbfifo.c
 * @brief Lab 03 tests: /dev/nbfifo is Lab 02's FIFO, plus O_NONBLOCK.
 *
 * The tests are shared with the other FIFO labs, in userspace/fifo_tests.h:
 * every test of Lab 02 runs unchanged (without O_NONBLOCK the device
 * behaves as before), and stage 3 adds the O_NONBLOCK tests, which Lab 04
 * runs again. kselftest harness: each test runs in a forked process with
 * a timeout; tests/grade.sh turns the results into points.
 */
#define _GNU_SOURCE

/** @brief The device under test. */
#define FIFO_DEV "/dev/nbfifo"
/** @brief The lab's stage: which of the shared FIFO tests apply. */
#define FIFO_STAGE 3
/** @brief The lab's module, which the unload test unloads and loads. */
#define FIFO_MODULE "nbfifo"

#include "fifo_tests.h"

#include "harness_main.h"

LABKIT_HARNESS_MAIN
