/* SPDX-License-Identifier: GPL-2.0 */
/** @file fail_nth.h
 * @brief Make one allocation of a module fail on purpose: the 1st, the
 *        2nd, ... that a call (a load, an open) makes with the module's
 *        code on the stack, one call each, until a call makes fewer.
 *
 * The kernel's fault injection (Documentation/fault-injection/) does the
 * work: a thread that writes N to /proc/thread-self/fail-nth sees the
 * Nth allocation it makes from then on fail, as if memory had run out.
 * fail_nth_setup() makes only the allocations that have a module's code
 * on the stack count (the stack-trace filter of failslab and
 * fail_page_alloc, set to the module area): the lab module's own
 * kmalloc()s and those of the kernel functions it calls (kfifo_alloc(),
 * misc_register(), fasync_helper()...), not those of the kernel around
 * it (finit_module() reading the file, open() making the struct file).
 *
 * The filter looks for the module's code among the return addresses on
 * the stack, so a module function must still have its frame there when
 * the kernel function it called allocates: compiled as a tail call
 * ("return fasync_helper(...);" made a jump), it would not, and that
 * allocation would go uncounted. The debug kernel is built with frame
 * pointers, which makes kbuild compile every module without tail calls
 * (-fno-optimize-sibling-calls).
 *
 * Only the kit's debug kernel (grading/debug-kernel.config) has fault
 * injection; on Debian's kernels fail_nth_setup() says so (ENOSYS) and
 * the tests that need it have nothing to check.
 */
#ifndef LABKIT_FAIL_NTH_H
#define LABKIT_FAIL_NTH_H

#include <stddef.h>

/** @brief Where x86-64 puts the code of modules when the kernel's own
 *         address is not randomised (the debug kernel: RANDOMIZE_BASE=n):
 *         MODULES_VADDR, the end of a 512 MiB kernel image space... */
#define FAIL_NTH_MODULES_START 0xffffffffa0000000
/** @brief ... up to MODULES_END. */
#define FAIL_NTH_MODULES_END 0xffffffffff000000

/** @brief The most allocations fail_nth_each() makes fail, one call
 *         each, before it gives up: far more than a lab module's load
 *         makes (a few hundred with every registration's). */
#define FAIL_NTH_MAX 2000

/** @brief Set the kernel's fault injection up for fail_nth_each():
 *         failslab and fail_page_alloc fail GFP_KERNEL allocations of
 *         any size and order too, silently, and only those made with
 *         code of the module area on the stack; the random injection
 *         stays off (probability 0).
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0; ENOSYS when this kernel cannot make allocations fail (no
 *         /proc/thread-self/fail-nth: Debian's kernels); another errno,
 *         with @p msg filled in, when it can but cannot be set up
 */
int fail_nth_setup(char *msg, size_t msg_size);

/** @brief Check that @p module, loaded, has its code where
 *         fail_nth_setup() looks for modules' code (/proc/modules).
 * @param module the module's name
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
int fail_nth_covers(const char *module, char *msg, size_t msg_size);

/** @brief What one call made with one allocation failing came to. */
struct fail_nth_try {
	/** @brief Which allocation was made to fail: 1 for the first. */
	unsigned int n;
	/** @brief Nonzero when it did: the call made at least @p n. */
	int failed;
	/** @brief The call's result (negative: it failed)... */
	long ret;
	/** @brief ... and then its errno. */
	int err;
};

/** @brief The call fail_nth_each() makes: a load, an open...
 * @param arg the caller's
 * @return its result, negative with errno set when it failed
 */
typedef long (*fail_nth_call)(void *arg);

/** @brief What fail_nth_each() checks after each call: the result, and
 *         that the call left the device as the rules say (it also undoes
 *         what a call that worked did: closes, unloads).
 * @param arg the caller's
 * @param t the call, the allocation made to fail, and the result
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
typedef int (*fail_nth_check)(void *arg, const struct fail_nth_try *t,
			      char *msg, size_t msg_size);

/** @brief Make @p call with its 1st allocation failing, check it, then
 *         with its 2nd, and so on until a call makes fewer allocations
 *         than the one made to fail (that call is checked too). The
 *         calling thread runs on one CPU meanwhile, so that the
 *         kernel's per-CPU caches, which decide some allocations, are
 *         the same at every try. fail_nth_setup() first.
 * @param call the call
 * @param check what is checked after it
 * @param arg passed to both
 * @param tries where the number of calls made goes (may be NULL)
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in (by @p check, or here: the
 *         fault injection failed, or FAIL_NTH_MAX allocations failed
 *         and the call still made more)
 */
int fail_nth_each(fail_nth_call call, fail_nth_check check, void *arg,
		  unsigned int *tries, char *msg, size_t msg_size);

#endif /* LABKIT_FAIL_NTH_H */
