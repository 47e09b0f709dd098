/* SPDX-License-Identifier: GPL-2.0 */
/** @file alloc_failures_expect.h
 * @brief The checks of alloc_failures.h as a test's EXPECTs, for test
 *        programs built on the kselftest harness: include it after
 *        kselftest_harness.h.
 */
#ifndef LABKIT_ALLOC_FAILURES_EXPECT_H
#define LABKIT_ALLOC_FAILURES_EXPECT_H

#include <errno.h>

#include "alloc_failures.h"
#include "tests_stop.h"

/** @brief Expect every open of @p node with one of its allocations made
 *         to fail to fail with ENOMEM and change nothing
 *         (alloc_failures_of_open()). On a kernel that cannot make
 *         allocations fail, says so in the log and checks nothing.
 * @param _metadata the test
 * @param lab the lab
 * @param node the node
 * @param flags open()'s flags
 * @return nonzero when this kernel can make allocations fail
 */
static inline int expect_open_alloc_failures(struct __test_metadata *_metadata,
					     const struct alloc_failures_lab *lab,
					     const char *node, int flags)
{
	unsigned int tries;
	char msg[2048];
	int err;

	err = alloc_failures_of_open(lab, node, flags, &tries, msg,
				     sizeof(msg));
	if (err == ENOSYS) {
		TH_LOG("(%s: the kit's debug kernel checks this rule, KVER=debug)",
		       msg);
		return 0;
	}
	EXPECT_EQ(0, err) {
		TH_LOG("%s", msg);
	}
	if (!err)
		TH_LOG("(%u opens of %s, all but the last with one allocation made to fail)",
		       tries, node);
	return 1;
}

/** @brief Expect every load of the lab's module with @p params and one
 *         of its allocations made to fail to fail with ENOMEM and leave
 *         nothing (alloc_failures_of_load()); stop the tests when a
 *         failed load left a device or a debugfs file whose code is
 *         gone. On a kernel that cannot make allocations fail, says so
 *         in the log and checks nothing.
 * @param _metadata the test
 * @param lab the lab
 * @param params the load's parameters ("" for the defaults)
 */
static inline void expect_load_alloc_failures(struct __test_metadata *_metadata,
					      const struct alloc_failures_lab *lab,
					      const char *params)
{
	char msg[2048], stop[256];
	unsigned int tries;
	int err;

	err = alloc_failures_of_load(lab, params, &tries, stop, sizeof(stop),
				     msg, sizeof(msg));
	if (err == ENOSYS) {
		TH_LOG("(%s: the kit's debug kernel checks this rule, KVER=debug)",
		       msg);
		return;
	}
	EXPECT_EQ(0, err) {
		TH_LOG("%s", msg);
	}
	if (!err)
		TH_LOG("(%u loads of %s, all but the last with one allocation made to fail)",
		       tries, lab->module);
	if (stop[0])
		tests_stop_after_thisf(_metadata->name, "%s", stop);
}

#endif /* LABKIT_ALLOC_FAILURES_EXPECT_H */
