/* SPDX-License-Identifier: GPL-2.0 */
/** @file child_process.h
 * @brief Child processes for tests: forked helpers that die with the test
 *        and never hold its output, and commands run with a time limit.
 *
 * The autograder reads a test program's output until every holder of
 * that pipe has closed it. A child that a driver bug keeps asleep for
 * good must not be one of them, and must not outlive the test: every
 * child made here has its stdout and stderr on /dev/null (unless told
 * otherwise) and gets SIGKILL when the process that forked it ends.
 */
#ifndef LABKIT_CHILD_PROCESS_H
#define LABKIT_CHILD_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

/** @brief fork(), with the child detached from the test's output and
 *         killed when the parent ends.
 *
 * A child that cannot be set up so exits at once with status 126.
 *
 * @return as fork(): the child's PID in the parent, 0 in the child, -1
 */
pid_t fork_detached(void);

/** @brief Start @p argv in a detached child, leader of a process group of
 *         its own, with stdout on @p out_fd, or on /dev/null if @p out_fd
 *         is -1. kill(-pid, ...) reaches the processes it starts too.
 * @param argv the command, found on PATH
 * @param out_fd where its stdout goes, or -1
 * @return the child's PID, or -1
 */
pid_t spawn(char *const argv[], int out_fd);

/** @brief Run @p argv to its end, its stdout into @p out.
 * @param argv the command, found on PATH
 * @param out where its output goes, NUL-terminated (the rest is dropped)
 * @param size the size of @p out
 * @param timeout_ms how long it may go without output or ending
 * @return its status as waitpid() gives it, or -1 if it did not end in
 *         time (it is then killed, with its process group)
 */
int run_command(char *const argv[], char *out, size_t size, int timeout_ms);

/** @brief run_command(), also given up (-1, the group killed) once every
 *         process of the command's process group is stuck: all blocked
 *         for @p stuck_ms, none of them running (task_stuck.h).
 * @param argv the command, found on PATH
 * @param out where its output goes, NUL-terminated (the rest is dropped)
 * @param size the size of @p out
 * @param timeout_ms how long it may go without output or ending
 * @param stuck_ms how long its group must stay blocked to be given up;
 *        0: never, as run_command()
 * @return its status as waitpid() gives it, or -1
 */
int run_command_unless_stuck(char *const argv[], char *out, size_t size,
			     int timeout_ms, int stuck_ms);

/** @brief Wait up to @p timeout_ms for child @p pid to end, and reap it.
 * @param pid a child of this process
 * @param status where its status goes, as waitpid() gives it
 * @param timeout_ms how long to wait
 * @return 0 if it ended (and was reaped), -1 if it still runs (the
 *         caller kills and reaps it)
 */
int wait_for_child(pid_t pid, int *status, int timeout_ms);

/** @brief Wait up to @p timeout_ms for a byte on @p fd and consume it.
 * @param fd a pipe's read end, typically a child's handshake
 * @param timeout_ms how long to wait
 * @return 1 if one came, 0 if not
 */
int await_byte(int fd, int timeout_ms);

#endif /* LABKIT_CHILD_PROCESS_H */
