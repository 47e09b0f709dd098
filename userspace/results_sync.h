/* SPDX-License-Identifier: GPL-2.0 */
/** @file results_sync.h
 * @brief Start no test before the results so far have left the machine.
 *
 * The test program's results reach the host through a pipe to the
 * autograder (grading/guest/autograde.sh) and, from there, a serial port:
 * a result the harness has printed may still be in the pipe, or in the
 * port's buffer, when the next test crashes the kernel, and it is lost
 * with the machine. Whether it is lost would depend on timing: a driver
 * that oopses in its second test would score one test's points more in
 * some runs than in others.
 *
 * With LABKIT_RESULTS_SYNC set (the autograder sets it to a FIFO it
 * answers on), results_sync_install() puts the harness's stdout through
 * a stream that, after each line with a result ("ok N ..." or
 * "not ok N ..."), prints a line "# labkit-results-sync SEQ" and waits
 * until SEQ comes back on the FIFO. The autograder sends it (through the
 * guest's results-sync program) once it has handled every line before
 * the marker and the serial port has sent them (tcdrain()). The wait is
 * in the harness's own process, between one test's end and the next
 * test's fork: no test's time limit runs meanwhile. Without the
 * variable (a test program run by hand, make native) nothing changes.
 */
#ifndef LABKIT_RESULTS_SYNC_H
#define LABKIT_RESULTS_SYNC_H

/** @brief The first words of the marker line the autograder answers. */
#define RESULTS_SYNC_MARKER "# labkit-results-sync "

/** @brief The longest wait for one answer, in seconds: far more than the
 *         autograder takes for one result, even when it first looks for
 *         tasks a failed test left (it gives them 30 s to go); the test
 *         program's own time limit bounds the run in any case. */
#define RESULTS_SYNC_WAIT_S 120

/** @brief From now on, the calling process (the harness's) waits after
 *         each result line until the autograder has it out of the
 *         machine, when LABKIT_RESULTS_SYNC names the FIFO to wait on.
 *         Call it before the first line is printed.
 * @return 0 (also when there is nothing to do), or -1 when the FIFO or
 *         the stream cannot be set up (the results then go out as they
 *         always did, and a line says why)
 */
int results_sync_install(void);

#endif /* LABKIT_RESULTS_SYNC_H */
