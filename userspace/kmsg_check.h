/* SPDX-License-Identifier: GPL-2.0 */
/** @file kmsg_check.h
 * @brief A rule every lab's handout states: a load or an unload of the
 *        module that succeeds logs no error. The test unloads the module
 *        and loads it again, and reads what the kernel log (/dev/kmsg)
 *        got meanwhile.
 *
 * pr_err() and worse are for a load that fails; a module that logs one
 * on success usually takes an error branch it should not (an inverted
 * check of misc_register()'s result, say), and an instructor reading the
 * log of a batch cannot tell it from a real failure.
 */
#ifndef LABKIT_KMSG_CHECK_H
#define LABKIT_KMSG_CHECK_H

#include <stddef.h>

/** @brief The rule the check enforces, for the test's messages. */
#define KMSG_CHECK_RULE "a load or an unload that succeeds logs no error: nothing at level KERN_ERR or more severe (pr_err() is for a load that fails)"

/** @brief Unload module @p name once nothing uses it, load it again with
 *         no parameters, and check that neither added a record at
 *         KERN_ERR (3) or a more severe level to the kernel log.
 *
 * The module is left loaded, as the autograder expects, whenever it can
 * be loaded again.
 *
 * @param name the module's name, as in /sys/module
 * @param msg where the first problem is described: a record at too
 *        severe a level (with its level, text and the rule), or the
 *        unload, the load or /dev/kmsg failing
 * @param size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
int kmsg_check_reload(const char *name, char *msg, size_t size);

#endif /* LABKIT_KMSG_CHECK_H */
