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

#include "preempt_full.h"
#include "results_sync.h"
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

/** @brief One test's own function, which harness_main_run_test() calls. */
struct harness_main_test {
	/** @brief The test. */
	struct __test_metadata *test;
	/** @brief Its function as the harness registered it. */
	void (*fn)(struct __test_metadata *t,
		   struct __fixture_variant_metadata *variant);
};

/** @brief Every test's own function, filled in by harness_main_wrap(). */
static struct harness_main_test *harness_main_tests;

/** @brief How many entries harness_main_tests has. */
static int harness_main_n_tests;

/**
 * @brief What the harness runs for each test, in the test's own process:
 *        first preempt_full_recover() (a test killed by its time limit
 *        may have left the kernel under full preemption, preempt_full.h),
 *        then the test as registered.
 * @param t the test
 * @param variant its fixture's variant
 */
static void harness_main_run_test(struct __test_metadata *t,
				  struct __fixture_variant_metadata *variant)
{
	int i;

	preempt_full_recover();
	for (i = 0; i < harness_main_n_tests; i++)
		if (harness_main_tests[i].test == t) {
			harness_main_tests[i].fn(t, variant);
			return;
		}
	ksft_print_msg("%s: no function registered\n", t->name);
	t->exit_code = KSFT_FAIL;
}

/**
 * @brief Make every test of this file run through harness_main_run_test().
 * @return 0, or -1 when there is no memory for the list (then the tests
 *         run as registered)
 */
static inline int harness_main_wrap(void)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	int n = 0;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			n++;
	harness_main_tests = calloc(n ? n : 1, sizeof(*harness_main_tests));
	if (!harness_main_tests)
		return -1;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next) {
			harness_main_tests[harness_main_n_tests].test = t;
			harness_main_tests[harness_main_n_tests++].fn = t->fn;
			t->fn = harness_main_run_test;
		}
	return 0;
}

/**
 * @brief TEST_HARNESS_MAIN, with the time limits scaled by
 *        harness_main_timeout_scale() first, the processes already
 *        running noted as bystanders (task_note_bystanders()), this
 *        process as the one a test may stop (tests_stop.h), each result
 *        out of the machine before the next test starts (results_sync.h),
 *        and preempt_full_recover() before every test and after the last.
 */
#define LABKIT_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		int hm_ret;						\
									\
		task_note_bystanders();					\
		tests_stop_note_runner();				\
		results_sync_install();					\
		HARNESS_MAIN_SCALE_TIMEOUTS(harness_main_timeout_scale()); \
		harness_main_wrap();					\
		hm_ret = test_harness_run(argc, argv);			\
		preempt_full_recover();					\
		return hm_ret;						\
	}

#endif /* LABKIT_HARNESS_MAIN_H */
