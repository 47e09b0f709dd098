/* SPDX-License-Identifier: GPL-2.0 */
/** @file dyndbg.h
 * @brief Turn a module's pr_debug() messages on and off with the
 *        kernel's dynamic debug (Documentation/admin-guide/
 *        dynamic-debug-howto.rst), as a developer does when a driver
 *        misbehaves.
 *
 * A driver's data path may log with pr_debug() only: silent until
 * someone turns the messages on. Turned on, they must change nothing
 * else: a message that reads a user-space pointer (which only
 * copy_from_user() may), or past the end of a buffer, or that takes a
 * lock, turns a debugging session into an oops. Debian's kernels have
 * dynamic debug (CONFIG_DYNAMIC_DEBUG); where a kernel does not,
 * pr_debug() compiles to nothing and there is nothing to turn on.
 */
#ifndef LABKIT_DYNDBG_H
#define LABKIT_DYNDBG_H

#include <stddef.h>

#include "kmsg_check.h"

/** @brief Where the dynamic debug control file is (procfs: no debugfs
 *         needed). */
#define DYNDBG_CONTROL "/proc/dynamic_debug/control"

/** @brief Turn every pr_debug() message of module @p module on or off
 *         ("module NAME +p" or "-p" written to DYNDBG_CONTROL).
 * @param module the module's name
 * @param on nonzero to turn them on, zero to turn them off
 * @param msg where a failure is described
 * @param size the size of @p msg
 * @return 0; ENOENT if the kernel has no dynamic debug; or the errno of
 *         the failed write, with @p msg filled in
 */
int dyndbg_module(const char *module, int on, char *msg, size_t size);

/** @brief A run of calls that dyndbg_calls_off_and_on() makes: each call
 *         noted in @p q with kmsg_quiet_call(), the module's records
 *         counted with kmsg_quiet_count().
 * @param q the record, started
 * @param arg what the calls need (the descriptors, the buffers)
 */
typedef void (*dyndbg_calls)(struct kmsg_quiet *q, void *arg);

/** @brief What dyndbg_calls_off_and_on() saw. */
struct dyndbg_outcome {
	/** @brief The wait status of the run with the messages off, or -1
	 *         if no process could be made. */
	int status_off;
	/** @brief The same with the messages on (-1: not run). */
	int status_on;
	/** @brief Calls that went otherwise than the rules say, messages
	 *         off. */
	int calls_off;
	/** @brief The same, messages on. */
	int calls_on;
	/** @brief The module's records while the messages were on. */
	int lines_on;
	/** @brief ENOENT if the kernel has no dynamic debug (the run with
	 *         the messages on was not made), another errno if turning
	 *         them on or off failed, else 0. */
	int err;
	/** @brief What failed, with @c err. */
	char why[256];
};

/** @brief Make the calls @p calls twice, each time in a child process
 *         (which a call's oops kills without ending the test): with the
 *         module's pr_debug() messages off, as every test leaves them,
 *         then on; turn them off again before returning, whatever
 *         happened.
 * @param module the module's name
 * @param calls the calls
 * @param arg their argument
 * @param o what happened, filled in
 */
void dyndbg_calls_off_and_on(const char *module, dyndbg_calls calls,
			     void *arg, struct dyndbg_outcome *o);

/** @brief Judge dyndbg_calls_off_and_on()'s outcome: both runs ended
 *         normally, and with the messages on every call returned what it
 *         returned with them off. A kernel without dynamic debug passes,
 *         with nothing turned on.
 * @param o the outcome
 * @param module the module's name, for @p msg
 * @param rule the handout's rule, for @p msg
 * @param msg what was seen, always (a failure first)
 * @param size the size of @p msg
 * @return 0, or -1 if the messages changed what the calls did
 */
int dyndbg_judge(const struct dyndbg_outcome *o, const char *module,
		 const char *rule, char *msg, size_t size);

#endif /* LABKIT_DYNDBG_H */
