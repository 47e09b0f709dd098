/* SPDX-License-Identifier: GPL-2.0 */
/** @file unload_leftovers.h
 * @brief A test's check that a module, loaded, used and unloaded, left no
 *        object that its code allocated (reload_checks_no_leftovers():
 *        SLUB's allocation records, however small the object).
 *
 * Include it after kselftest_harness.h: the check is a test's EXPECT.
 */
#ifndef LABKIT_UNLOAD_LEFTOVERS_H
#define LABKIT_UNLOAD_LEFTOVERS_H

#include "module_reload.h"
#include "reload_checks.h"

/** @brief Unload @p module (unless @p unloaded: the caller did), expect
 *         no object its code allocated to be left beyond @p before, and
 *         load it again with its defaults.
 * @param _metadata the test
 * @param module the module's name
 * @param before reload_checks_orphans_at_rest() with the module
 *        unloaded, before the load whose leftovers are looked for
 * @param what what was done since, for the message
 * @param unloaded nonzero when the module is unloaded already
 */
static inline void expect_no_leftovers(struct __test_metadata *_metadata,
				       const char *module, long long before,
				       const char *what, int unloaded)
{
	char msg[2048];

	if (!unloaded)
		ASSERT_EQ(0, module_unload_when_free(module, 5000));
	EXPECT_EQ(0, reload_checks_no_leftovers(before, what, msg,
						sizeof(msg))) {
		TH_LOG("rule: unloading frees what loading allocated, and release what open allocated: %s",
		       msg);
	}
	ASSERT_EQ(0, module_load(module, ""));
}

#endif /* LABKIT_UNLOAD_LEFTOVERS_H */
