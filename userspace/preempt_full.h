/* SPDX-License-Identifier: GPL-2.0 */
/** @file preempt_full.h
 * @brief Run a scenario under full kernel preemption, on a kernel that can
 *        switch its preemption model while it runs.
 *
 * Debian's kernels run voluntary preemption: a task woken in the kernel
 * runs when the task it woke from sleeps or reaches a cond_resched(), not
 * at the wake-up itself. Some windows of a driver lie between a wake-up
 * and the next such point; there, on one CPU, no other task can ever run,
 * and on two CPUs only a partner that happens to land in a window a few
 * instructions wide. Under full preemption a woken task of higher
 * priority runs at the wake-up itself (at the preempt_enable() that ends
 * the lock the waker held to wake it), so a test that runs the waker and
 * the woken task on one CPU, the woken one real-time (cpu_order.h), puts
 * the woken task's whole call inside the window every time.
 *
 * A kernel built with PREEMPT_DYNAMIC (Debian's 6.1 and 6.12) switches
 * its model at run time through debugfs (sched/preempt). The switch
 * patches the kernel's text (static calls), and under QEMU's
 * multi-threaded TCG a text patch made while another vCPU runs that text
 * once crashed the guest (sleep_timer.h); so every CPU but CPU 0 is taken
 * offline for the switch and brought back after it.
 *
 * A test killed by its time limit never reaches its teardown, and would
 * leave the kernel under full preemption for the tests after it. So
 * preempt_full_begin() notes the model to switch back to in a file
 * (PREEMPT_FULL_NOTE, with the boot's id), preempt_full_end() removes the
 * note, and preempt_full_recover(), which LABKIT_HARNESS_MAIN runs before
 * every test and after the last (harness_main.h), switches back to the
 * noted model when a note is left.
 *
 * Needs root (debugfs, CPU hotplug), which the grading VM's tests have.
 */
#ifndef LABKIT_PREEMPT_FULL_H
#define LABKIT_PREEMPT_FULL_H

#include <stddef.h>

/** @brief Where preempt_full_begin() notes the model to switch back to,
 *         and the boot it was noted in, until preempt_full_end(). */
#define PREEMPT_FULL_NOTE "/tmp/labkit-preempt-model"

/** @brief What preempt_full_begin() changed, for preempt_full_end(). */
struct preempt_full {
	/** @brief The model to switch back to ("none", "voluntary"); empty
	 *         when nothing was switched. */
	char old[16];
};

/** @brief Switch the kernel to full preemption, if it is not already.
 * @param p filled in here; pass it to preempt_full_end()
 * @param why where the reason goes when it cannot be done
 * @param size room in @p why
 * @return 0 when the kernel now runs full preemption, -1 (and @p why)
 *         when it cannot (no PREEMPT_DYNAMIC, no debugfs, a CPU that
 *         would not go offline); then nothing was changed
 */
int preempt_full_begin(struct preempt_full *p, char *why, size_t size);

/** @brief Switch back to the model preempt_full_begin() found. Harmless
 *         when it switched nothing, and when called twice.
 * @param p as filled in by preempt_full_begin()
 * @return 0, or -1 when the old model could not be set again
 */
int preempt_full_end(struct preempt_full *p);

/** @brief Switch back to the model a test noted and did not switch back
 *         to (it was killed before preempt_full_end()), and remove the
 *         note. A note of another boot is only removed. Harmless when
 *         there is no note.
 * @return 0 when there was nothing to do or the model is switched back;
 *         -1 when a note of this boot could not be acted on (the reason
 *         is printed, and the note is kept for the next try)
 */
int preempt_full_recover(void);

#endif /* LABKIT_PREEMPT_FULL_H */
