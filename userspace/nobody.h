/* SPDX-License-Identifier: GPL-2.0 */
/** @file nobody.h
 * @brief Run the rest of a test as an ordinary user: uid and gid 65534
 *        ("nobody"), no supplementary group, no capability but the one
 *        the kit's frozen copies need.
 *
 * Every lab's nodes are mode 0666: any user may open them and make every
 * call the handout describes. The tests run as root (they load modules,
 * read debugfs, switch the preemption model), so a driver that checks a
 * capability (capable(CAP_KILL) before it lets a file set O_ASYNC, say)
 * or a user id would pass them all. A test that calls nobody_become()
 * first makes its calls, and those of every process it starts, as an
 * ordinary user.
 *
 * One capability stays: CAP_SYS_PTRACE, without which an ordinary user
 * cannot create a userfaultfd that catches the kernel's own faults (the
 * sysctl vm.unprivileged_userfaultfd is 0), and the kit's frozen copies
 * (held_call.h, copy_stall.h) need one. No driver has a reason to look
 * at it.
 *
 * The kselftest harness runs each test in a process of its own, so the
 * change lasts only for that test (its teardown included: the teardown
 * of a test that uses it must need no privilege).
 */
#ifndef LABKIT_NOBODY_H
#define LABKIT_NOBODY_H

#include <stddef.h>

/** @brief The user and group id of "nobody". */
#define NOBODY_ID 65534

/** @brief Make the calling process uid and gid NOBODY_ID, with no
 *         supplementary group and no capability but CAP_SYS_PTRACE, for
 *         good; keep it
 *         dumpable, so that the tests can still read /proc/PID/wchan of
 *         its tasks (a change of user makes a process not dumpable).
 *         Call it before starting any thread.
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in and errno set
 */
int nobody_become(char *msg, size_t msg_size);

#endif /* LABKIT_NOBODY_H */
