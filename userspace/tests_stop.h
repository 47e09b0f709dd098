/* SPDX-License-Identifier: GPL-2.0 */
/** @file tests_stop.h
 * @brief Stop the tests after this one, because what it found leaves the
 *        kernel unsafe to go on with.
 *
 * Some bugs corrupt the kernel's memory without a crash at once: a driver
 * that keeps a file on its SIGIO list after the file is gone makes the
 * next kill_fasync() follow a pointer into freed memory. What happens
 * then (nothing, a signal to a stranger, an oops, a CPU spinning with
 * interrupts off) depends on how that memory was reused, so every test
 * after it would get a result that depends on the machine. Two readers
 * (or writers) working in a FIFO at once are another such bug: they can
 * leave more bytes counted than its buffer holds, and later calls copy
 * past its end, whenever real calls happen to overlap. A test that
 * proves such a bug, before the memory is touched, calls
 * tests_stop_after_this(), from the test's own process: no later test
 * runs, and the autograder (grading/guest/autograde.sh) reports each of
 * them as not run, with the reason. Same code, same grade.
 *
 * The test program stops at once: the harness's own process is killed,
 * so that it cannot start the next test while the autograder reads this
 * one's result, and the test's process exits without its teardown, with
 * no further call to the driver. So the test reports its failure first.
 * The test's name and the reason go to the file the autograder names in
 * LABKIT_STOP_FILE, one line each; run by hand, the program prints them.
 * LABKIT_HARNESS_MAIN (harness_main.h) notes the harness's process for
 * this.
 */
#ifndef LABKIT_TESTS_STOP_H
#define LABKIT_TESTS_STOP_H

/** @brief Note the calling process as the one that runs the tests (the
 *         harness's main process), which tests_stop_after_this() ends.
 */
void tests_stop_note_runner(void);

/** @brief Stop the tests after the current one, which counts as failed;
 *         @p why is the reason every later test reports. Does not return.
 * @param test the current test's name (the harness's _metadata->name)
 * @param why one line: what the driver does, and why going on would be
 *        unsafe
 */
void tests_stop_after_this(const char *test, const char *why)
	__attribute__((noreturn));

/** @brief tests_stop_after_this(), with the reason made from @p fmt and
 *         what follows, as printf() does. Does not return.
 * @param test the current test's name
 * @param fmt the reason's format
 */
void tests_stop_after_thisf(const char *test, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

#endif /* LABKIT_TESTS_STOP_H */
