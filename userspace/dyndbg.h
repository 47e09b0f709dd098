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

#endif /* LABKIT_DYNDBG_H */
