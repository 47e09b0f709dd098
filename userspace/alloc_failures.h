/* SPDX-License-Identifier: GPL-2.0 */
/** @file alloc_failures.h
 * @brief The rule every lab shares about memory running out: a load
 *        whose allocation fails fails with ENOMEM and leaves nothing;
 *        an open whose allocation fails fails with ENOMEM and changes
 *        nothing; and neither is ever a crash.
 *
 * Each allocation a load or an open makes with the module's code on the
 * stack is made to fail in turn, one call each (fail_nth.h): the 1st,
 * the 2nd, ... until a call makes fewer. That is the module's own
 * kmalloc()s, kzalloc()s, kfifo_alloc()s, and those of the kernel
 * functions it calls (misc_register(), debugfs, fasync_helper()...),
 * whose failures it must handle like its own.
 *
 * Only the kit's debug kernel can make allocations fail (KVER=debug);
 * on Debian's kernels the checks say so and find nothing.
 */
#ifndef LABKIT_ALLOC_FAILURES_H
#define LABKIT_ALLOC_FAILURES_H

#include <stddef.h>

/** @brief The rule, for messages. */
#define ALLOC_FAILURES_RULE "rule: a load or an open whose allocation fails (kmalloc(), kfifo_alloc(), or one inside a kernel function the module calls) fails with ENOMEM and leaves everything as it was: init checks every result and undoes in reverse what it did before; open undoes what it counted or took"

/** @brief What the checks need to know of a lab. */
struct alloc_failures_lab {
	/** @brief The module's name. */
	const char *module;
	/** @brief The paths a failed load must not leave: the device nodes
	 *         and their sysfs entries; NULL-terminated. */
	const char *const *gone;
	/** @brief What else a failed load must not leave, looked for after
	 *         the paths of @p gone (NULL: nothing else). Lab 07: its
	 *         device numbers in /proc/devices.
	 * @param what where what is left goes
	 * @param what_size the size of @p what
	 * @return nonzero when something is left (described in @p what)
	 */
	int (*left_over)(char *what, size_t what_size);
	/** @brief Check that the module, loaded, works: a write and a read
	 *         back on each of its devices.
	 * @param msg where a failure is described
	 * @param msg_size the size of @p msg
	 * @return 0, or -1 with @p msg filled in
	 */
	int (*works)(char *msg, size_t msg_size);
	/** @brief After an open that failed, check that it changed nothing
	 *         (NULL: nothing beyond @p works to check). Lab 07: no end
	 *         counted.
	 * @param node the node whose open failed
	 * @param msg where a failure is described
	 * @param msg_size the size of @p msg
	 * @return 0, or -1 with @p msg filled in
	 */
	int (*open_changed_nothing)(const char *node, char *msg,
				    size_t msg_size);
};

/** @brief Load the lab's module with each allocation of its load made
 *         to fail in turn (with @p params): each such load fails with
 *         ENOMEM and leaves neither the module, nor a path of
 *         lab->gone (nor what lab->left_over finds), nor its debugfs
 *         directory, nor an object its code allocated; a load that still succeeds must work and unload.
 *         The module must be loaded (with its defaults) when called; it
 *         is so again when this returns 0 or ENOSYS.
 * @param lab the lab
 * @param params the load's parameters ("" for the defaults)
 * @param tries where the number of loads made goes
 * @param stop where what makes going on unsafe is described ("" when
 *        nothing does: a failed load that left a device registered)
 * @param stop_size the size of @p stop
 * @param msg where a failure is described (or, with ENOSYS, why
 *        nothing was checked)
 * @param msg_size the size of @p msg
 * @return 0; ENOSYS when this kernel cannot make allocations fail; -1
 *         with @p msg filled in
 */
int alloc_failures_of_load(const struct alloc_failures_lab *lab,
			   const char *params, unsigned int *tries,
			   char *stop, size_t stop_size, char *msg,
			   size_t msg_size);

/** @brief Open @p node with @p flags with each allocation of the open
 *         made to fail in turn: each such open fails with ENOMEM and
 *         changes nothing (lab->open_changed_nothing); an open that
 *         succeeds is closed at once. Afterwards the module must work.
 * @param lab the lab
 * @param node the node
 * @param flags open()'s flags
 * @param tries where the number of opens made goes
 * @param msg where a failure is described (or, with ENOSYS, why
 *        nothing was checked)
 * @param msg_size the size of @p msg
 * @return 0; ENOSYS when this kernel cannot make allocations fail; -1
 *         with @p msg filled in
 */
int alloc_failures_of_open(const struct alloc_failures_lab *lab,
			   const char *node, int flags, unsigned int *tries,
			   char *msg, size_t msg_size);

#endif /* LABKIT_ALLOC_FAILURES_H */
