/* SPDX-License-Identifier: GPL-2.0 */
/** @file early_caller_expect.h
 * @brief The checks every "works the moment its node appears" test makes
 *        of an early_load (early_caller.h), for test programs built on the
 *        kselftest harness: include it after kselftest_harness.h.
 */
#ifndef LABKIT_EARLY_CALLER_EXPECT_H
#define LABKIT_EARLY_CALLER_EXPECT_H

#include <string.h>

#include "early_caller.h"

/** @brief Check what early_load_begin() gave: the set-up and the load
 *         worked, the early caller opened @p node the moment it appeared,
 *         its first write put in its 5 bytes, and its second froze in its
 *         copy. Says so in the log when the kernel cannot run full
 *         preemption, or has no inotify (CONFIG_INOTIFY_USER).
 * @param _metadata the test
 * @param l the load
 * @param node the node, for messages
 * @param rule the handout's rule, for messages
 * @return nonzero when the load went through (the device is there)
 */
static inline int expect_early_calls(struct __test_metadata *_metadata,
				     const struct early_load *l,
				     const char *node, const char *rule)
{
	const struct early_caller *e = &l->caller;

	if (l->no_full[0])
		TH_LOG("(this kernel runs without full preemption, so the early caller runs when init sleeps or returns, not inside the registration: %s)",
		       l->no_full);
	if (!l->setup_err && e->watch < 0)
		TH_LOG("(this kernel has no inotify, so the early caller looks for the node every millisecond and may come after init has gone on: the test shows less)");
	EXPECT_EQ(0, l->setup_err) {
		TH_LOG("cannot set the early caller up: %s",
		       strerror(l->setup_err));
	}
	EXPECT_EQ(0, l->load_err) {
		TH_LOG("the module did not load: %s", strerror(l->load_err));
	}
	if (l->load_err)
		return 0;
	EXPECT_EQ(0, e->open_err) {
		TH_LOG("the open of %s the moment it appeared failed: %s; %s",
		       node, strerror(e->open_err), rule);
	}
	EXPECT_EQ(5, e->first_ret) {
		TH_LOG("a write of 5 bytes the moment %s appeared returned %zd (%s), not 5; %s",
		       node, e->first_ret,
		       e->first_ret < 0 ? strerror(e->first_err) : "no error",
		       rule);
	}
	EXPECT_EQ(1, l->frozen) {
		TH_LOG("the second early write, of %d bytes, never reached its copy from user memory",
		       EARLY_CALLER_FROZEN);
	}
	return 1;
}

#endif /* LABKIT_EARLY_CALLER_EXPECT_H */
