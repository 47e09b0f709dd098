/* SPDX-License-Identifier: GPL-2.0 */
/** @file task_stuck.h
 * @brief Whether a group of tasks is stuck for good: every one of them
 *        asleep, none of them run since, so that none can wake another.
 *
 * A test that waits for a call to return can tell, from the kernel's own
 * state, that it never will: when the task that made it, and every other
 * task that could still wake it, are all blocked (asleep in state S or D,
 * off the run queue, as /proc/TID/wchan shows; or exited) and have not
 * run between two looks (their context-switch counts did not move), then
 * at a moment between the looks none of them could run, and nothing
 * among them can ever wake one again. Load does not change that answer:
 * a task that waits for a CPU is on the run queue, never blocked. A
 * correct driver is never found stuck where it should go on, so this
 * only ever turns a wait into a failure sooner, never into a pass.
 *
 * The looks must span @p quiet_ms at least: a wake-up from outside the
 * group (a timer, a signal from elsewhere) is then ruled out as well,
 * for any period shorter than that.
 */
#ifndef LABKIT_TASK_STUCK_H
#define LABKIT_TASK_STUCK_H

#include <sys/types.h>

/** @brief Tasks a watch can follow at once. */
#define STUCK_WATCH_MAX 16

/** @brief What the previous looks at a group of tasks found. */
struct stuck_watch {
	/** @brief Tasks in the last look, or -1 when it found one awake. */
	int n;
	/** @brief Their ids. */
	pid_t tid[STUCK_WATCH_MAX];
	/** @brief Their context switches, voluntary and not. */
	unsigned long long switches[STUCK_WATCH_MAX];
	/** @brief When (CLOCK_MONOTONIC, ms) they were first all seen
	 *         blocked with these counts. */
	long long since_ms;
};

/** @brief Whether @p tid is blocked: asleep (S or D) and off the run
 *         queue (the kernel gives a wait channel only then), or exited.
 * @param tid the task
 * @param switches where its context switches so far, voluntary and not,
 *        go: read after the check, so a task that ran since shows a new
 *        count (0 for an exited task)
 * @return 1 blocked, 0 not, -1 gone
 */
int stuck_task_blocked(pid_t tid, unsigned long long *switches);

/** @brief Start a watch: no look yet.
 * @param w the watch
 */
void stuck_watch_init(struct stuck_watch *w);

/** @brief Look at tasks @p tids once.
 *
 * Tasks that are gone (reaped) are left out; an exited one not yet
 * reaped counts as blocked. A look that finds any task not blocked, or
 * another set of tasks, or other switch counts, starts the watch again.
 *
 * @param w the watch
 * @param tids the tasks (thread or process ids); 0 entries are skipped
 * @param n how many entries, at most STUCK_WATCH_MAX
 * @param quiet_ms how long they must all stay blocked without running
 * @return 1 when every task has been blocked, without running, for at
 *         least @p quiet_ms since the first look that found them so; 0
 *         otherwise (also when no task is left)
 */
int stuck_watch_look(struct stuck_watch *w, const pid_t *tids, int n,
		     int quiet_ms);

/** @brief Fill @p tids with the processes of process group @p pgid.
 * @param pgid the group
 * @param tids where their ids go
 * @param max room in @p tids
 * @return how many were found
 */
int stuck_watch_group(pid_t pgid, pid_t *tids, int max);

/** @brief Whether task @p tid is off its CPU: /proc/TID/wchan names
 *         where it sleeps, and says "0" while it runs, is runnable or is
 *         being woken (also in state S, between prepare_to_wait() and
 *         schedule()).
 * @param tid the task
 * @return 1 off its CPU, 0 on it or on its way there, -1 if wchan
 *         cannot be read
 */
int task_off_cpu(pid_t tid);

/** @brief Whether task @p tid, blocked, is blocked inside a system call
 *         it makes, as /proc/TID/syscall says: not in a page fault of its
 *         own code before the call (a fresh thread's stack, a forked
 *         child's copy-on-write pages), nor on its way out (exit,
 *         exit_group: a thread whose call returned and that ends).
 * @param tid the task
 * @return 1 inside a call, 0 not (or no longer blocked), -1 if the file
 *         cannot be read (a kernel without it, no permission)
 */
int task_in_call(pid_t tid);

/** @brief Fill @p tids with the threads of process @p pid, @p pid itself
 *         first: a process whose main thread waits for another thread's
 *         call (held_call.h) is stuck only if that thread is too.
 * @param pid the process
 * @param tids where their ids go
 * @param max room in @p tids, at least 1
 * @return how many were found; 1 (@p pid alone) if its threads cannot
 *         be listed
 */
int stuck_watch_threads(pid_t pid, pid_t *tids, int max);

/** @brief The CPU time, in ms, a task must burn without one voluntary
 *         sleep for spin_watch_look() to take it for a call that spins:
 *         thousands of times what a correct call uses before it sleeps
 *         or returns. */
#define SPIN_CPU_MS 5000

/** @brief How many looks of a 1-20 ms polling loop go by between two
 *         spin_watch_look() calls: a spin takes seconds to show, and
 *         each look reads two files of /proc. */
#define SPIN_LOOK_EVERY 10

/** @brief One task's CPU time and voluntary sleeps at the last look that
 *         found it sleeping since the one before. */
struct spin_watch {
	/** @brief The task. */
	pid_t tid;
	/** @brief Its CPU time then, user and system, in ms; -1 unknown. */
	long long cpu_ms;
	/** @brief Its voluntary context switches then. */
	unsigned long long sleeps;
};

/** @brief Start watching @p tid for a spin.
 * @param w the watch
 * @param tid the thread or process
 */
void spin_watch_init(struct spin_watch *w, pid_t tid);

/** @brief Look at the watched task once: whether it spins.
 *
 * The other side of stuck_watch_look(): a call that never ends may also
 * never sleep (a wait whose condition is always true, a retry loop). A
 * task that has used SPIN_CPU_MS of CPU time without going to sleep
 * once (its voluntary context switches did not move) is taken for one.
 * CPU time, not the clock: a task that waits for a CPU, however long,
 * uses none, so load does not make a correct call look like it spins.
 *
 * @param w the watch; a voluntary sleep since the last look starts it
 *        again
 * @return 1 if it spins, 0 if not or if it cannot tell (it is gone)
 */
int spin_watch_look(struct spin_watch *w);

#endif /* LABKIT_TASK_STUCK_H */
