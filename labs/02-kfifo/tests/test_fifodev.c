// SPDX-License-Identifier: GPL-2.0
/** @file test_fifodev.c
 * @brief Lab 02 tests: /dev/fifodev is a 64-byte first-in, first-out
 *        queue that every process shares.
 *
 * The tests are the ones every FIFO lab passes, in userspace/fifo_tests.h
 * (kselftest harness: every test runs in a forked process with a timeout
 * and reports "ok N fifo.NAME" or "not ok ..."); tests/grade.sh turns
 * them into points. Run one with -t NAME, list them with -l.
 */
#define _GNU_SOURCE

/** @brief The device under test. */
#define FIFO_DEV "/dev/fifodev"
/** @brief The lab's stage: which of the shared FIFO tests apply. */
#define FIFO_STAGE 2
/** @brief The lab's module, which the unload test unloads and loads. */
#define FIFO_MODULE "fifodev"

#include "fifo_tests.h"

#include "harness_main.h"

LABKIT_HARNESS_MAIN
