// SPDX-License-Identifier: GPL-2.0
/** @file task_state.c
 * @brief Thread states read from /proc; see task_state.h.
 */
#define _GNU_SOURCE
#include "task_state.h"
#include "task_stuck.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char task_state(pid_t tid)
{
	char path[64], line[512], *paren;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	/* The command name may hold spaces and parentheses: skip past the
	 * last ')' and the blank after it. */
	paren = strrchr(line, ')');
	if (!paren || paren[1] != ' ')
		return 0;
	return paren[2];
}

/** @brief The monotonic clock in milliseconds.
 * @return milliseconds since some fixed point
 */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

char task_wait_asleep(pid_t tid, atomic_int *done, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	/* A spin can only be seen in a wait longer than SPIN_CPU_MS; it is
	 * looked for every SPIN_LOOK_EVERY polls, to keep /proc reads few. */
	int spin_looks = timeout_ms > SPIN_CPU_MS, polls = 0;
	struct spin_watch spin;
	char state;

	if (spin_looks)
		spin_watch_init(&spin, tid);
	do {
		if (done && atomic_load(done))
			return 'X';
		state = task_state(tid);
		/* Asleep off its CPU inside a call (an unreadable wchan or
		 * syscall file does not rule it out). A call that has returned
		 * meanwhile is done whatever its thread sleeps in since: the
		 * flag is set before any sleep of the thread after its call. */
		if ((state == 'S' || state == 'D') && task_off_cpu(tid) != 0 &&
		    task_in_call(tid) != 0)
			return done && atomic_load(done) ? 'X' : state;
		/* It ended, perhaps just after the check of done above. */
		if (state == 'Z' || !state)
			return done && atomic_load(done) ? 'X' : state;
		/* A call that spins never sleeps: no need to wait it out. */
		if (spin_looks && ++polls % SPIN_LOOK_EVERY == 0 &&
		    spin_watch_look(&spin))
			return 0;
		poll(NULL, 0, 1);
	} while (now_ms() < deadline);
	return 0;
}

/** @brief What task_alone() needs of a process, from /proc/PID/stat. */
struct proc_stat {
	/** @brief The state letter. */
	char state;
	/** @brief The parent's PID. */
	pid_t ppid;
	/** @brief The kernel's PF_* flags. */
	unsigned long flags;
	/** @brief When it started, in clock ticks since boot. */
	unsigned long long start;
};

/** @brief Read a process's /proc/PID/stat.
 * @param pid the process
 * @param st filled in
 * @return 0, or -1 if it is gone or unreadable
 */
static int proc_stat_read(pid_t pid, struct proc_stat *st)
{
	char path[64], line[1024], *paren;
	int ppid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	paren = strrchr(line, ')');
	if (!paren || paren[1] != ' ')
		return -1;
	/* Fields 3 (state), 4 (ppid), 9 (flags) and 22 (starttime). */
	if (sscanf(paren + 2,
		   "%c %d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &st->state, &ppid, &st->flags, &st->start) != 4)
		return -1;
	st->ppid = ppid;
	return 0;
}

/** @brief Whether a process is a kernel thread (PF_KTHREAD). */
#define PROC_KTHREAD 0x00200000UL

/** @brief Processes task_alone() may ignore, at most. */
#define BYSTANDERS_MAX 256

/** @brief A process noted by task_note_bystanders(). */
struct bystander {
	/** @brief Its PID. */
	pid_t pid;
	/** @brief Its start time, against PID reuse. */
	unsigned long long start;
};

/** @brief The noted processes. */
static struct bystander bystanders[BYSTANDERS_MAX];
/** @brief How many were noted; -1 if they were not. */
static int bystander_count = -1;

/** @brief What walk_processes() calls for each process. */
typedef int (*proc_fn)(pid_t pid, const struct proc_stat *st, void *arg);

/** @brief Call @p fn for every process in /proc but the caller.
 * @param fn the function; its non-zero result stops the walk
 * @param arg passed on
 * @return what @p fn returned last, or -1 if /proc cannot be read
 */
static int walk_processes(proc_fn fn, void *arg)
{
	struct proc_stat st;
	struct dirent *d;
	int ret = 0;
	pid_t pid;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return -1;
	while (!ret && (d = readdir(dir))) {
		pid = (pid_t)strtol(d->d_name, NULL, 10);
		if (pid <= 0 || pid == getpid() || proc_stat_read(pid, &st))
			continue;
		ret = fn(pid, &st, arg);
	}
	closedir(dir);
	return ret;
}

/** @brief walk_processes() callback of task_note_bystanders(): note
 *         @p pid unless it is a kernel thread.
 * @param pid the process
 * @param st its stat fields
 * @param arg unused
 * @return 1 (stop) when the table is full, else 0
 */
static int note_one(pid_t pid, const struct proc_stat *st, void *arg)
{
	(void)arg;
	if (st->flags & PROC_KTHREAD)
		return 0;
	if (bystander_count >= BYSTANDERS_MAX)
		return 1;
	bystanders[bystander_count].pid = pid;
	bystanders[bystander_count].start = st->start;
	bystander_count++;
	return 0;
}

void task_note_bystanders(void)
{
	struct proc_stat st;

	bystander_count = 0;
	/* The caller itself: the test programs' main, which forks the tests
	 * and makes no call on the device. */
	if (proc_stat_read(getpid(), &st) == 0)
		note_one(getpid(), &st, NULL);
	if (walk_processes(note_one, NULL))
		bystander_count = -1;
}

/** @brief Whether process @p pid has @p dev open.
 * @param pid the process
 * @param dev the device's stat (its st_rdev is compared)
 * @return 1 if so or if its descriptors cannot be read, 0 if not
 */
static int has_open(pid_t pid, const struct stat *dev)
{
	char path[64];
	struct dirent *d;
	struct stat st;
	int found = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return errno != ENOENT;
	while (!found && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		/* Follows the link to the open file's node. */
		found = fstatat(dirfd(dir), d->d_name, &st, 0) == 0 &&
			S_ISCHR(st.st_mode) && st.st_rdev == dev->st_rdev;
	}
	closedir(dir);
	return found;
}

/** @brief What task_alone() walks /proc with. */
struct alone_walk {
	/** @brief The device. */
	struct stat dev;
	/** @brief The probe. */
	pid_t probe;
};

/** @brief Whether @p pid is an ancestor of the caller.
 * @param pid the process
 * @return 1 if it is, 0 if not (or the chain cannot be read)
 */
static int is_ancestor(pid_t pid)
{
	struct proc_stat st;
	pid_t p = getppid();
	int depth;

	for (depth = 0; p > 1 && depth < 64; depth++) {
		if (p == pid)
			return 1;
		if (proc_stat_read(p, &st))
			return 0;
		p = st.ppid;
	}
	return 0;
}

/** @brief walk_processes() callback of task_alone().
 * @param pid the process
 * @param st its stat fields
 * @param arg the struct alone_walk
 * @return 1 (stop) when @p pid might act on the device, else 0
 */
static int other_one(pid_t pid, const struct proc_stat *st, void *arg)
{
	const struct alone_walk *w = arg;
	int i;

	if (pid == w->probe || (st->flags & PROC_KTHREAD) ||
	    st->state == 'Z' || st->state == 'X' || st->state == 'x')
		return 0;
	for (i = 0; i < bystander_count; i++)
		if (bystanders[i].pid == pid && bystanders[i].start == st->start)
			return has_open(pid, &w->dev);
	return !is_ancestor(pid);
}

int task_alone(const char *dev, pid_t probe)
{
	struct alone_walk w = { .probe = probe };

	if (bystander_count < 0 || stat(dev, &w.dev) || !S_ISCHR(w.dev.st_mode))
		return 0;
	return walk_processes(other_one, &w) == 0;
}

int child_wait_unless_stuck(pid_t pid, const char *dev, int *status,
			    int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	pid_t got;

	for (;;) {
		got = waitpid(pid, status, WNOHANG);
		if (got == pid)
			return 0;
		if (got < 0)
			return -1;
		/* Alone first, then asleep: once nobody else is left, nobody
		 * can wake it, so a sleep seen after that lasts for ever. */
		if (task_state(pid) == 'S' && task_alone(dev, pid) &&
		    task_state(pid) == 'S')
			return 1;
		if (now_ms() >= deadline)
			return -1;
		poll(NULL, 0, 2);
	}
}
