// SPDX-License-Identifier: GPL-2.0
/** @file task_stuck.c
 * @brief Whether a group of tasks is stuck for good; see task_stuck.h.
 */
#define _GNU_SOURCE
#include "task_stuck.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "small_file.h"

/** @brief The monotonic clock in milliseconds.
 * @return milliseconds since some fixed point
 */
static long long stuck_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/** @brief Read /proc/@p tid/@p name into @p buf.
 * @param tid the task
 * @param name the file
 * @param buf where its text goes, NUL-terminated
 * @param size room in @p buf
 * @return bytes read, or -1 if the file cannot be read
 */
static ssize_t proc_read(pid_t tid, const char *name, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)tid, name);
	return small_file_read(path, buf, size);
}

/** @brief The state letter and process group of @p tid, from its stat.
 * @param tid the task
 * @param pgrp where its process group goes, or NULL
 * @return 'R', 'S', 'D', 'Z', ..., or 0 if the task is gone
 */
static char stat_state(pid_t tid, pid_t *pgrp)
{
	char line[512], *paren;
	int ppid, group;

	if (proc_read(tid, "stat", line, sizeof(line)) <= 0)
		return 0;
	/* The command name may hold spaces and parentheses. */
	paren = strrchr(line, ')');
	if (!paren || paren[1] != ' ')
		return 0;
	if (pgrp) {
		if (sscanf(paren + 4, "%d %d", &ppid, &group) != 2)
			return 0;
		*pgrp = group;
	}
	return paren[2];
}

/** @brief Read a task's voluntary context switches, and optionally its
 *         involuntary ones, from /proc/TID/status.
 * @param tid the task
 * @param voluntary where its voluntary switches go
 * @param involuntary where its involuntary ones go, or NULL
 * @return 0, or -1 if they cannot be read
 */
static int switches_read(pid_t tid, unsigned long long *voluntary,
			 unsigned long long *involuntary)
{
	static const char *const keys[] = {
		"\nvoluntary_ctxt_switches:", "\nnonvoluntary_ctxt_switches:",
	};
	unsigned long long *out[] = { voluntary, involuntary };
	char text[4096], *at;
	unsigned int i;

	if (proc_read(tid, "status", text, sizeof(text)) <= 0)
		return -1;
	for (i = 0; i < 2; i++) {
		if (!out[i])
			continue;
		at = strstr(text, keys[i]);
		if (!at)
			return -1;
		*out[i] = strtoull(at + strlen(keys[i]), NULL, 10);
	}
	return 0;
}

/** @brief The context switches of @p tid so far, voluntary and not.
 * @param tid the task
 * @param switches where the count goes
 * @return 0, or -1 if it cannot be read
 */
static int switch_count(pid_t tid, unsigned long long *switches)
{
	unsigned long long voluntary, involuntary;

	if (switches_read(tid, &voluntary, &involuntary))
		return -1;
	*switches = voluntary + involuntary;
	return 0;
}

int task_off_cpu(pid_t tid)
{
	char wchan[128];

	if (proc_read(tid, "wchan", wchan, sizeof(wchan)) <= 0)
		return -1;
	/* "0" while the task is running, runnable or being woken. */
	return strcmp(wchan, "0") != 0;
}

int task_in_call(pid_t tid)
{
	char line[256];
	long nr;

	if (proc_read(tid, "syscall", line, sizeof(line)) <= 0)
		return -1;
	/* "running" while it runs or is runnable. */
	if (sscanf(line, "%ld", &nr) != 1)
		return 0;
	/* "-1 SP PC": blocked outside a system call, in a page fault of its
	 * own code; exit and exit_group: blocked on its way out. */
	return nr >= 0 && nr != SYS_exit && nr != SYS_exit_group;
}

int stuck_task_blocked(pid_t tid, unsigned long long *switches)
{
	char st = stat_state(tid, NULL);

	if (!st)
		return -1;
	if (st == 'Z') {
		*switches = 0;
		return 1;
	}
	if (st != 'S' && st != 'D')
		return 0;
	if (task_off_cpu(tid) != 1)
		return 0;
	/* Read after the check: a task that ran since shows a new count. */
	return switch_count(tid, switches) ? 0 : 1;
}

void stuck_watch_init(struct stuck_watch *w)
{
	w->n = -1;
}

int stuck_watch_look(struct stuck_watch *w, const pid_t *tids, int n,
		     int quiet_ms)
{
	unsigned long long sw[STUCK_WATCH_MAX];
	pid_t id[STUCK_WATCH_MAX];
	int i, k = 0, b, same;

	for (i = 0; i < n && i < STUCK_WATCH_MAX; i++) {
		if (tids[i] <= 0)
			continue;
		b = stuck_task_blocked(tids[i], &sw[k]);
		if (b < 0)
			continue;
		if (!b) {
			w->n = -1;
			return 0;
		}
		id[k++] = tids[i];
	}
	if (!k) {
		w->n = -1;
		return 0;
	}
	same = w->n == k;
	for (i = 0; same && i < k; i++)
		same = w->tid[i] == id[i] && w->switches[i] == sw[i];
	if (!same) {
		w->n = k;
		memcpy(w->tid, id, k * sizeof(id[0]));
		memcpy(w->switches, sw, k * sizeof(sw[0]));
		w->since_ms = stuck_now_ms();
		return 0;
	}
	return stuck_now_ms() - w->since_ms >= quiet_ms;
}

int stuck_watch_group(pid_t pgid, pid_t *tids, int max)
{
	DIR *proc = opendir("/proc");
	struct dirent *e;
	pid_t pid, group;
	int n = 0;

	if (!proc)
		return 0;
	while (n < max && (e = readdir(proc))) {
		pid = (pid_t)atoi(e->d_name);
		if (pid > 0 && stat_state(pid, &group) && group == pgid)
			tids[n++] = pid;
	}
	closedir(proc);
	return n;
}

int stuck_watch_threads(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *e;
	pid_t tid;
	DIR *task;
	int n = 1;

	tids[0] = pid;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	task = opendir(path);
	if (!task)
		return 1;
	while (n < max && (e = readdir(task))) {
		tid = (pid_t)atoi(e->d_name);
		if (tid > 0 && tid != pid)
			tids[n++] = tid;
	}
	closedir(task);
	return n;
}

/** @brief Read a task's CPU time and voluntary context switches.
 * @param tid the task
 * @param cpu_ms where its user and system time, in ms, go
 * @param sleeps where its voluntary context switches go
 * @return 0, or -1 if it is gone or unreadable
 */
static int cpu_and_sleeps(pid_t tid, long long *cpu_ms,
			  unsigned long long *sleeps)
{
	unsigned long long utime, stime;
	long hz = sysconf(_SC_CLK_TCK);
	char line[1024], *at;

	if (hz <= 0 || proc_read(tid, "stat", line, sizeof(line)) <= 0)
		return -1;
	at = strrchr(line, ')');
	/* After the name: the state, fields 4 to 13, then utime, stime. */
	if (!at || sscanf(at + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			  &utime, &stime) != 2)
		return -1;
	if (switches_read(tid, sleeps, NULL))
		return -1;
	*cpu_ms = (long long)((utime + stime) * 1000 / (unsigned long long)hz);
	return 0;
}

void spin_watch_init(struct spin_watch *w, pid_t tid)
{
	w->tid = tid;
	if (cpu_and_sleeps(tid, &w->cpu_ms, &w->sleeps))
		w->cpu_ms = -1;
}

int spin_watch_look(struct spin_watch *w)
{
	unsigned long long sleeps;
	long long cpu;

	if (cpu_and_sleeps(w->tid, &cpu, &sleeps))
		return 0;
	if (w->cpu_ms < 0 || sleeps != w->sleeps) {
		w->cpu_ms = cpu;
		w->sleeps = sleeps;
		return 0;
	}
	return cpu - w->cpu_ms >= SPIN_CPU_MS;
}
