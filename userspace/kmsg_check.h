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
#include <sys/types.h>

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

/** @brief The rule of the data path's log, for the tests' messages. */
#define KMSG_QUIET_RULE "the data path logs nothing, whatever a call returns and whatever ends its sleep: pr_debug() at most (silent unless dynamic debug turns it on), never pr_info(), pr_warn() or pr_err(), rate-limited or not (any user can make the calls, and every one would be a line in the kernel log)"

/** @brief Open /dev/kmsg for kmsg_module_records(), at its end: only
 *         the records that come afterwards are read.
 * @return the descriptor (O_RDONLY | O_NONBLOCK | O_CLOEXEC), or -1 with
 *         errno set
 */
int kmsg_open_at_end(void);

/** @brief Read every record that came through @p fd since the last read,
 *         and count module @p name's, at any level: those whose text
 *         holds "NAME:" (pr_fmt()'s KBUILD_MODNAME ": " prefix, also in
 *         dev_*()'s "misc NAME: ").
 * @param fd from kmsg_open_at_end()
 * @param name the module's name
 * @param first where the text of the first one is copied, if it is
 *        still the empty string; NULL: not copied
 * @param size the size of @p first
 * @return how many, or -1 with errno set if /dev/kmsg could not be read
 */
int kmsg_module_records(int fd, const char *name, char *first, size_t size);

/** @brief What a test of the quiet data path (KMSG_QUIET_RULE) keeps
 *         while it makes its calls: the module's records, counted a run
 *         of calls at a time, and the calls that went otherwise than the
 *         rules say (only noted: the tests of those rules fail them). */
struct kmsg_quiet {
	/** @brief /dev/kmsg, from kmsg_open_at_end(). */
	int fd;
	/** @brief The module's name. */
	const char *name;
	/** @brief The module's records so far. */
	int lines;
	/** @brief Calls that did not return what the rules say. */
	int off;
	/** @brief The text of the module's first record, or "". */
	char first[256];
	/** @brief The run of calls that made it, or NULL. */
	const char *first_when;
	/** @brief errno of the first failed read of /dev/kmsg, or 0. */
	int read_err;
};

/** @brief Open /dev/kmsg at its end for @p q, with nothing counted yet.
 * @param q the record, filled in here
 * @param name the module's name
 * @return 0, or -1 with errno set
 */
int kmsg_quiet_start(struct kmsg_quiet *q, const char *name);

/** @brief Count the module's records since the last call into q->lines:
 *         those of the run of calls @p when.
 * @param q the record
 * @param when the calls since the last call, for the test's message
 * @return how many came, or -1 if /dev/kmsg could not be read (q->read_err
 *         says why, for the test to fail on)
 */
int kmsg_quiet_count(struct kmsg_quiet *q, const char *when);

/** @brief Note in q->off a call that did not return what the rules say.
 *         Call it directly on the call's result, so that errno is the
 *         call's.
 * @param q the record
 * @param ret what the call returned
 * @param want what it should return
 * @param want_err the errno it should leave when @p want is -1
 */
void kmsg_quiet_call(struct kmsg_quiet *q, ssize_t ret, ssize_t want,
		     int want_err);

/** @brief Close /dev/kmsg.
 * @param q the record
 */
void kmsg_quiet_end(struct kmsg_quiet *q);

#endif /* LABKIT_KMSG_CHECK_H */
