/* SPDX-License-Identifier: GPL-2.0 */
/** @file cpu_order.h
 * @brief Keep a woken task from running until the test lets it: every
 *        task of the test on one CPU, and the test itself real-time
 *        while it sets the stage.
 *
 * Some interleavings cannot be made with a frozen copy alone. A reader
 * asleep on an empty FIFO is woken by the write that brings data, and
 * then takes the readers' mutex again; to see what it does when that
 * mutex is held, another reader must get the mutex first, between the
 * wake-up and the woken reader's next step. The test makes that happen
 * every time instead of hoping for it:
 *
 *   1. cpu_order_pin(): the test runs on one CPU only, and every process
 *      and thread it starts from then on inherits that;
 *   2. it starts the sleeper (SCHED_OTHER, like every task);
 *   3. cpu_order_hold(): the test becomes SCHED_FIFO. A SCHED_OTHER task
 *      on that CPU can no longer run while the test (or a thread the test
 *      starts now, which inherits the policy) is runnable; RT throttling
 *      is turned off so that no slice of the CPU is left to it either;
 *   4. the test wakes the sleeper (it becomes runnable, and stays so),
 *      starts a frozen copy in a new thread and waits for it to freeze:
 *      the CPU goes to that real-time thread, not to the sleeper;
 *   5. cpu_order_release(): the test is SCHED_OTHER again, and the woken
 *      task runs into the held mutex.
 *
 * Needs root (SCHED_FIFO, /proc/sys/kernel/sched_rt_runtime_us), which the
 * grading VM's tests have. It works with any number of CPUs.
 */
#ifndef LABKIT_CPU_ORDER_H
#define LABKIT_CPU_ORDER_H

#include <sched.h>	/* cpu_set_t: needs _GNU_SOURCE, as every test has */

/** @brief What cpu_order_pin() and cpu_order_hold() changed, to undo. */
struct cpu_order {
	/** @brief The affinity before cpu_order_pin(). */
	cpu_set_t old_cpus;
	/** @brief The CPU everything runs on. */
	int cpu;
	/** @brief sched_rt_runtime_us before cpu_order_hold(), -2 if unread. */
	long old_rt_runtime;
	/** @brief Nonzero while the test is SCHED_FIFO. */
	int held;
};

/** @brief Run the calling thread, and everything it starts from now on,
 *         on the CPU it is on.
 * @param o filled in here
 * @return 0, or -1 with errno set
 */
int cpu_order_pin(struct cpu_order *o);

/** @brief Make the calling thread SCHED_FIFO (priority 1), with RT
 *         throttling off: SCHED_OTHER tasks of the pinned CPU wait until
 *         cpu_order_release(). Threads started meanwhile inherit it.
 * @param o as filled in by cpu_order_pin()
 * @return 0, or -1 with errno set
 */
int cpu_order_hold(struct cpu_order *o);

/** @brief Make the calling thread SCHED_OTHER again and restore RT
 *         throttling. Harmless when not held.
 * @param o the order
 */
void cpu_order_release(struct cpu_order *o);

/** @brief Release, and give the calling thread its old affinity back.
 * @param o the order
 */
void cpu_order_unpin(struct cpu_order *o);

#endif /* LABKIT_CPU_ORDER_H */
