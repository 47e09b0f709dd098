/* SPDX-License-Identifier: GPL-2.0 */
/**
 * @file harness_main.h
 * @brief LABKIT_HARNESS_MAIN: the kselftest harness's main, with every
 *        test's time limit scaled for slow kernels.
 *
 * The kit's debug kernel (lockdep, KASAN...) runs every lock operation
 * and memory access more slowly, so a test that takes two seconds on
 * Debian's kernels may take five there. The guest's autograder sets
 * LABKIT_TIMEOUT_SCALE (a whole number from 1 to 10) on such a kernel;
 * LABKIT_HARNESS_MAIN multiplies each test's TEST_F_TIMEOUT by it before
 * the harness runs, so a correct driver passes on every kernel. Without
 * the variable, or with a bad value, the limits are as written.
 *
 * Include it after kselftest_harness.h, in the test program's one file
 * that ends with LABKIT_HARNESS_MAIN (instead of TEST_HARNESS_MAIN): the
 * harness keeps its list of tests in that file.
 */
#ifndef LABKIT_HARNESS_MAIN_H
#define LABKIT_HARNESS_MAIN_H

#include <stdlib.h>

#include "task_state.h"
#include "tests_stop.h"

/**
 * @brief The factor the time limits are multiplied by.
 * @return LABKIT_TIMEOUT_SCALE, 1 to 10; 1 when it is unset or not a
 *         whole number in that range.
 */
static inline int harness_main_timeout_scale(void)
{
	const char *text = getenv("LABKIT_TIMEOUT_SCALE");
	char *end;
	long scale;

	if (!text || !*text)
		return 1;
	scale = strtol(text, &end, 10);
	if (*end || scale < 1 || scale > 10)
		return 1;
	return (int)scale;
}

/**
 * @brief Multiply the time limit of every test the harness registered in
 *        this file (every fixture's tests) by SCALE.
 */
#define HARNESS_MAIN_SCALE_TIMEOUTS(scale)				\
	do {								\
		struct __fixture_metadata *hm_f;			\
		struct __test_metadata *hm_t;				\
									\
		for (hm_f = __fixture_list; hm_f; hm_f = hm_f->next)	\
			for (hm_t = hm_f->tests; hm_t; hm_t = hm_t->next) \
				hm_t->timeout *= (scale);		\
	} while (0)

/**
 * @brief TEST_HARNESS_MAIN, with the time limits scaled by
 *        harness_main_timeout_scale() first, the processes already
 *        running noted as bystanders (task_note_bystanders()), and this
 *        process as the one a test may stop (tests_stop.h).
 */
#define LABKIT_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		task_note_bystanders();					\
		tests_stop_note_runner();				\
		HARNESS_MAIN_SCALE_TIMEOUTS(harness_main_timeout_scale()); \
		return test_harness_run(argc, argv);			\
	}

#endif /* LABKIT_HARNESS_MAIN_H */
