// SPDX-License-Identifier: GPL-2.0
/** @file test_pollfifo.c
 * @brief Lab 05 tests: ndevices independent FIFOs, /dev/pollfifo0 and on,
 *        that poll(), select() and epoll can wait on.
 *
 * The shared FIFO tests (userspace/fifo_tests.h, stage 5) run first, on
 * /dev/pollfifo0: Lab 02's FIFO, Lab 03's O_NONBLOCK and Lab 04's sleeping
 * reads and writes. The tests of the new concept, on all minors, are in
 * userspace/minor_tests.h, which Lab 06 runs again. kselftest harness:
 * each test runs in a forked process with a timeout; tests/grade.sh turns
 * the results into points.
 */
#define _GNU_SOURCE

/** @brief The device the shared tests run on. */
#define FIFO_DEV "/dev/pollfifo0"
/** @brief The lab's stage: which of the shared FIFO tests apply. */
#define FIFO_STAGE 5
/** @brief The lab's module, which the parameter tests reload. */
#define FIFO_MODULE "pollfifo"
/** @brief The nodes of the lab's devices. */
#define MINOR_NODE_FMT "/dev/pollfifo%d"

#include "fifo_tests.h"
#include "minor_tests.h"

#include "harness_main.h"

LABKIT_HARNESS_MAIN
