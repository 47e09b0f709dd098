/* SPDX-License-Identifier: GPL-2.0 */
/** @file untouched_expect.h
 * @brief The premise check of the tests that copy from and to pages the
 *        process has not touched yet (untouched_pages.h), for test
 *        programs built on the kselftest harness: include it after
 *        kselftest_harness.h.
 */
#ifndef LABKIT_UNTOUCHED_EXPECT_H
#define LABKIT_UNTOUCHED_EXPECT_H

#include "untouched_pages.h"

/** @brief Check the premise of a test with untouched pages: the page at
 *         @p addr is not mapped, so that the driver's copy faults; the
 *         test ends here if it is (the kit's fault, not the driver's).
 * @param _metadata the test
 * @param addr the buffer
 * @param what the buffer, for the message
 */
static inline void expect_untouched(struct __test_metadata *_metadata,
				    const void *addr, const char *what)
{
	int mapped = untouched_page_mapped(addr);

	ASSERT_EQ(0, mapped) {
		TH_LOG("the test's own premise failed: %s is %s before the call (the kit's fault, not the driver's)",
		       what, mapped < 0 ? "of unknown state (no /proc/self/pagemap)" : "mapped");
	}
}

#endif /* LABKIT_UNTOUCHED_EXPECT_H */
