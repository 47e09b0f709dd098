/* SPDX-License-Identifier: GPL-2.0 */
/** @file minor_tests.h
 * @brief The tests every multi-minor FIFO lab passes (Lab 05 onwards):
 *        ndevices independent devices that poll(), select() and epoll can
 *        wait on.
 *
 * Include it after fifo_tests.h, with MINOR_NODE_FMT defined as the
 * printf format of a device's node (Lab 05: "/dev/pollfifo%d"), besides
 * FIFO_MODULE. A call that should wait (poll with no timeout, epoll_wait,
 * a read of an empty minor) runs in a child process that reports through
 * a pipe, so a waiter that is never woken fails its test instead of
 * hanging the run.
 *
 * matches_the_model runs seeded random sequences of calls over several
 * minors, descriptors and processes on the devices and on minor_model.h,
 * and compares every result; from stage 6 on (FIFO_STAGE) the processes
 * also set O_ASYNC and count the signals they receive.
 */
#ifndef LABKIT_MINOR_TESTS_H
#define LABKIT_MINOR_TESTS_H

#ifndef MINOR_NODE_FMT
#error "define MINOR_NODE_FMT, a device node's printf format, first"
#endif

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "fail_nth.h"
#include "fifo_tests.h"
#include "kmsg_check.h"
#include "minor_model.h"
#include "misc_minor.h"
#include "name_taker.h"
#include "reload_checks.h"
#include "small_file.h"
#include "task_stuck.h"
#include "unload_leftovers.h"

/** @brief The number of devices the module makes by default. */
#define NDEV 8
/** @brief Every event bit poll() may report for these devices. */
#define ALL_EVENTS (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLPRI | \
		    POLLERR | POLLHUP | POLLRDBAND | POLLWRBAND)

/** @brief The node of minor @p i, from MINOR_NODE_FMT.
 * @param i the minor's index
 * @return a static string
 */
static const char *node(int i)
{
	static char path[32];

	snprintf(path, sizeof(path), MINOR_NODE_FMT, i);
	return path;
}

/** @brief The name of minor @p i's device (its node without "/dev/"),
 *         as in /sys/class/misc and /proc/misc.
 * @param i the minor's index
 * @return a static string
 */
static const char *node_name(int i)
{
	const char *path = node(i);

	return strrchr(path, '/') + 1;
}

/** @brief The device name's prefix: the name of minor 0 without its
 *         number ("pollfifo").
 * @return a static string
 */
static const char *name_prefix(void)
{
	static char prefix[32];

	snprintf(prefix, sizeof(prefix), "%s", node_name(0));
	prefix[strlen(prefix) - 1] = '\0';
	return prefix;
}

/** @brief Whether @p name is one of the lab's device names: the prefix
 *         and a number.
 * @param name a name
 * @return nonzero if it is
 */
static int is_lab_name(const char *name)
{
	size_t n = strlen(name_prefix());

	return !strncmp(name, name_prefix(), n) && name[n] >= '0' &&
	       name[n] <= '9' && strspn(name + n, "0123456789") ==
	       strlen(name + n);
}

/** @brief What is left of the lab's devices in the system.
 *
 * Counts the nodes /dev/NAME0 to /dev/NAME63, the entries NAMEn in
 * /sys/class/misc and the lines of /proc/misc that name one.
 */
struct leftovers {
	/** @brief Nodes in /dev. */
	int nodes;
	/** @brief Entries in /sys/class/misc. */
	int sysfs;
	/** @brief Lines in /proc/misc. */
	int procfs;
	/** @brief The first thing found, for a message. */
	char first[80];
};

/** @brief Count what the system shows of the lab's devices.
 * @param l filled in here
 */
static void count_leftovers(struct leftovers *l)
{
	char line[128], name[64];
	struct dirent *e;
	struct stat st;
	DIR *d;
	FILE *f;
	int i, minor;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < 64; i++) {
		if (stat(node(i), &st) == 0 && !l->nodes++)
			snprintf(l->first, sizeof(l->first), "%s", node(i));
	}
	d = opendir("/sys/class/misc");
	while (d && (e = readdir(d))) {
		if (is_lab_name(e->d_name) && !l->sysfs++ && !l->first[0])
			snprintf(l->first, sizeof(l->first),
				 "/sys/class/misc/%.40s", e->d_name);
	}
	if (d)
		closedir(d);
	f = fopen("/proc/misc", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d %63s", &minor, name) == 2 &&
		    is_lab_name(name) && !l->procfs++ && !l->first[0])
			snprintf(l->first, sizeof(l->first),
				 "/proc/misc: %d %s", minor, name);
	}
	if (f)
		fclose(f);
}

/** @brief Read a module parameter from sysfs.
 * @param param its name
 * @param value where its value goes, without the newline
 * @param size the size of @p value
 * @return 0, or -1 if it cannot be read
 */
static int read_param(const char *param, char *value, size_t size)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
		 FIFO_MODULE, param);
	value[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fgets(value, (int)size, f) != NULL;
	fclose(f);
	value[strcspn(value, "\n")] = '\0';
	return ok ? 0 : -1;
}

/** @brief A process's count of voluntary context switches: it grows by
 *         one each time the process goes to sleep, so a sleeper that was
 *         woken and went back to sleep has a larger count.
 * @param pid the process
 * @return the count, or -1
 */
static long voluntary_switches(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return (long)small_file_field(path, "voluntary_ctxt_switches");
}

/** @brief Wait until process @p pid is asleep and off the CPU
 *         (stuck_task_blocked()), then read its count of context
 *         switches: a sleeper woken since, which went back to sleep,
 *         shows a larger count, however fast it did.
 * @param pid the process
 * @param timeout_ms how long to wait at most
 * @return the count, or -1 if it was not seen asleep in time
 */
static long long settled_switches(pid_t pid, int timeout_ms)
{
	unsigned long long switches;
	int i;

	for (i = 0; i < timeout_ms; i++) {
		if (stuck_task_blocked(pid, &switches) == 1)
			return (long long)switches;
		poll(NULL, 0, 1);
	}
	return -1;
}

/** @brief Per-test state: every device opened, and emptied. */
FIXTURE(minors) {
	/** @brief O_RDWR | O_NONBLOCK descriptors, one per device. */
	int fd[NDEV];
};

/** @brief Open every device and empty it. */
FIXTURE_SETUP(minors)
{
	int i;

	for (i = 0; i < NDEV; i++) {
		self->fd[i] = open(node(i), O_RDWR | O_NONBLOCK);
		ASSERT_LE(0, self->fd[i]) {
			TH_LOG("cannot open %s: %s", node(i), strerror(errno));
		}
		drain_all(self->fd[i]);
	}
}

/** @brief Close every device, and switch the kernel back to its own
 *         preemption model if the test switched it. */
FIXTURE_TEARDOWN(minors)
{
	int i;

	for (i = 0; i < NDEV; i++)
		close(self->fd[i]);
	/* A test that switched to full preemption and then failed an
	 * ASSERT: the later tests run under the kernel's own model. */
	preempt_full_end(&fifo_preempt_switched);
}

/** @brief Fill poll entries for every device with @p events.
 * @param self the fixture
 * @param p the entries, NDEV of them
 * @param events the events to ask for
 */
static void poll_all(FIXTURE_DATA(minors) *self, struct pollfd *p,
		     short events)
{
	int i;

	for (i = 0; i < NDEV; i++) {
		p[i].fd = self->fd[i];
		p[i].events = events;
		p[i].revents = 0;
	}
}

/** @brief A child process that waits in poll(), epoll_wait() or select()
 *         and writes what it saw to a pipe. */
struct waiter {
	/** @brief The child. */
	pid_t pid;
	/** @brief The child writes its report here; the test reads [0]. */
	int report[2];
};

/** @brief Fork a waiter that runs @p wait_fn(@p arg) and writes its
 *         result, one int, to the report pipe; then wait until it sleeps.
 * @param w the waiter, filled in here
 * @param wait_fn what the waiter runs
 * @param arg its argument
 * @return the child's state ('S' asleep; 'Z' or 'X' it returned at once;
 *         0 still running), or '?' if it could not be started
 */
static char waiter_start(struct waiter *w, int (*wait_fn)(void *),
			 void *arg)
{
	int result;

	if (pipe(w->report))
		return '?';
	w->pid = fork_detached();
	if (w->pid < 0)
		return '?';
	if (w->pid == 0) {
		result = wait_fn(arg);
		_exit(write(w->report[1], &result, sizeof(result)) !=
		      sizeof(result));
	}
	close(w->report[1]);
	return task_wait_asleep(w->pid, NULL, 5000);
}

/** @brief Wait up to @p timeout_ms for the waiter's result, then reap it
 *         (killing it if it still waits).
 * @param w the waiter
 * @param timeout_ms how long to wait
 * @param result where its result goes
 * @return 1 with *@p result set, or 0 if it reported nothing in time
 */
static int waiter_result(struct waiter *w, int timeout_ms, int *result)
{
	struct pollfd p = { .fd = w->report[0], .events = POLLIN };
	int got = poll(&p, 1, timeout_ms) == 1 &&
		  read(w->report[0], result, sizeof(*result)) ==
			  sizeof(*result);

	if (!got)
		kill(w->pid, SIGKILL);
	waitpid(w->pid, NULL, 0);
	close(w->report[0]);
	return got;
}

/** @brief What a waiter polls: NDEV entries and the events to ask for. */
struct poll_job {
	/** @brief The entries. */
	struct pollfd p[NDEV];
};

/** @brief Waiter body: poll with no timeout.
 * @param arg the struct poll_job
 * @return a bit mask of the entries with revents, or -1 on an error
 */
static int poll_forever(void *arg)
{
	struct poll_job *job = arg;
	int i, mask = 0;

	if (poll(job->p, NDEV, -1) < 0)
		return -1;
	for (i = 0; i < NDEV; i++)
		if (job->p[i].revents)
			mask |= 1 << i;
	return mask;
}

/** @brief Waiter body: epoll_wait() with no timeout on the epoll
 *         descriptor at @p arg.
 * @param arg a pointer to the epoll descriptor
 * @return the number of events, or -1
 */
static int epoll_forever(void *arg)
{
	struct epoll_event ev;

	return epoll_wait(*(int *)arg, &ev, 1, -1);
}

/** @brief Every minor has its node, a character device of mode 0666, and
 *         its entry in /sys/class/misc; ndevices is read-only in sysfs. */
TEST_F_TIMEOUT(minors, every_minor_has_a_node, TIMEOUT)
{
	char path[96], value[32] = "", want[32], why[512];
	unsigned int minors[NDEV];
	struct leftovers l;
	dev_t seen[NDEV];
	struct stat st;
	FILE *f;
	int i, j;

	for (i = 0; i < NDEV; i++) {
		ASSERT_EQ(0, stat(node(i), &st)) {
			TH_LOG("%s: %s (rule: ndevices=8 makes /dev/%s0 to /dev/%s7)",
			       node(i), strerror(errno), name_prefix(),
			       name_prefix());
		}
		EXPECT_TRUE(S_ISCHR(st.st_mode));
		EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
		EXPECT_EQ(0666, st.st_mode & 07777) {
			TH_LOG("%s has mode 0%o: every node is 0666 (misc.mode)",
			       node(i), st.st_mode & 07777);
		}
		seen[i] = st.st_rdev;
		minors[i] = minor(st.st_rdev);
		for (j = 0; j < i; j++)
			EXPECT_NE(seen[j], seen[i]) {
				TH_LOG("%s and %s have the same device number: each minor is a device of its own",
				       node(j), node(i));
			}
		/* The class entry names the same device number. */
		snprintf(path, sizeof(path), "/sys/class/misc/%s/dev",
			 node_name(i));
		snprintf(want, sizeof(want), "%u:%u", major(st.st_rdev),
			 minor(st.st_rdev));
		f = fopen(path, "r");
		EXPECT_NE(NULL, f) {
			TH_LOG("no %s: register every minor as a misc device",
			       path);
		}
		if (f) {
			EXPECT_NE(NULL, fgets(value, sizeof(value), f));
			fclose(f);
			value[strcspn(value, "\n")] = '\0';
			EXPECT_STREQ(want, value);
		}
	}
	EXPECT_EQ(1, misc_minors_are_dynamic(minors, NDEV, why, sizeof(why))) {
		TH_LOG("%s0 to %s%d: %s (rule: nodes, each its own minor, chosen by the kernel)",
		       name_prefix(), name_prefix(), NDEV - 1, why);
	}
	errno = 0;
	EXPECT_EQ(-1, stat(node(NDEV), &st)) {
		TH_LOG("%s exists: ndevices=8 makes exactly 8 devices",
		       node(NDEV));
	}
	EXPECT_EQ(ENOENT, errno);
	count_leftovers(&l);
	EXPECT_EQ(NDEV, l.nodes);
	EXPECT_EQ(NDEV, l.sysfs) {
		TH_LOG("/sys/class/misc holds %d %s devices, not %d",
		       l.sysfs, name_prefix(), NDEV);
	}
	EXPECT_EQ(0, read_param("ndevices", value, sizeof(value))) {
		TH_LOG("no ndevices parameter: module_param(ndevices, uint, 0444)");
	}
	EXPECT_STREQ("8", value) {
		TH_LOG("ndevices reads \"%s\": its default is 8", value);
	}
	ASSERT_EQ(0, stat("/sys/module/" FIFO_MODULE "/parameters/ndevices",
			  &st));
	EXPECT_EQ(0444, st.st_mode & 07777) {
		TH_LOG("/sys/module/" FIFO_MODULE "/parameters/ndevices has mode 0%o: the handout makes it read-only, 0444 (the devices are made at load time; writing it later would change nothing)",
		       st.st_mode & 07777);
	}
}

/** @brief Each minor has a FIFO of its own. */
TEST_F_TIMEOUT(minors, minors_are_independent, TIMEOUT)
{
	char buf[8];
	int i;

	ASSERT_EQ(5, write(self->fd[3], "three", 5));
	for (i = 0; i < NDEV; i++) {
		if (i == 3)
			continue;
		errno = 0;
		EXPECT_EQ(-1, read(self->fd[i], buf, sizeof(buf))) {
			TH_LOG("bytes written to %s came out of %s: each minor needs its own FIFO",
			       node(3), node(i));
		}
		EXPECT_EQ(EAGAIN, errno);
	}
	EXPECT_EQ(5, read(self->fd[3], buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "three", 5));
}

/** @brief Exactly the minors written are readable; all have room. */
TEST_F_TIMEOUT(minors, poll_reports_exactly_the_minors_written, TIMEOUT)
{
	const short in = POLLIN | POLLRDNORM, out = POLLOUT | POLLWRNORM;
	struct pollfd p[NDEV];
	int i;

	poll_all(self, p, ALL_EVENTS);
	EXPECT_EQ(NDEV, poll(p, NDEV, 0));
	for (i = 0; i < NDEV; i++) {
		short got = p[i].revents;

		EXPECT_EQ(out, got) {
			TH_LOG("an empty %s: revents 0x%x, not POLLOUT | POLLWRNORM (0x%x)",
			       node(i), got, out);
		}
	}
	ASSERT_EQ(1, write(self->fd[2], "2", 1));
	ASSERT_EQ(1, write(self->fd[5], "5", 1));
	poll_all(self, p, ALL_EVENTS);
	EXPECT_EQ(NDEV, poll(p, NDEV, 0));
	for (i = 0; i < NDEV; i++) {
		short want = (i == 2 || i == 5) ? (in | out) : out;
		short got = p[i].revents;

		EXPECT_EQ(want, got) {
			TH_LOG("%s: revents 0x%x, not 0x%x (POLLIN | POLLRDNORM with data, POLLOUT | POLLWRNORM with room)",
			       node(i), got, want);
		}
	}
}

/** @brief poll() reports no POLLOUT for a full minor. */
TEST_F_TIMEOUT(minors, full_minor_is_not_writable, TIMEOUT)
{
	const short in = POLLIN | POLLRDNORM, out = POLLOUT | POLLWRNORM;
	char fill[FIFO_SIZE], c;
	struct pollfd p[NDEV];

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->fd[1], fill, sizeof(fill)));
	poll_all(self, p, ALL_EVENTS);
	ASSERT_LE(1, poll(p, NDEV, 0));
	EXPECT_EQ(in, p[1].revents) {
		TH_LOG("a full FIFO: revents 0x%x, not POLLIN | POLLRDNORM (0x%x): no POLLOUT without room",
		       p[1].revents, in);
	}
	ASSERT_EQ(1, read(self->fd[1], &c, 1));
	poll_all(self, p, ALL_EVENTS);
	ASSERT_LE(1, poll(p, NDEV, 0));
	EXPECT_EQ(in | out, p[1].revents) {
		TH_LOG("a read made room: POLLOUT | POLLWRNORM should be back");
	}
}

/** @brief One process waits on every minor with no timeout; another writes to
 * one of them. */
TEST_F_TIMEOUT(minors, poll_waits_for_a_write, TIMEOUT)
{
	char cmd[64];
	char *echo_argv[] = { "sh", "-c", cmd, NULL };
	struct poll_job job;
	struct waiter w;
	char out[8], st;
	int mask = 0;

	snprintf(cmd, sizeof(cmd), "echo x >%s", node(6));
	poll_all(self, job.p, POLLIN);
	st = waiter_start(&w, poll_forever, &job);
	EXPECT_EQ('S', st) {
		TH_LOG("poll() on 8 empty FIFOs should wait; its state is %c",
		       st ? st : '0');
	}
	EXPECT_EQ(0, run_command(echo_argv, out, sizeof(out), 3000));
	ASSERT_TRUE(waiter_result(&w, 2000, &mask)) {
		TH_LOG("a write to %s did not wake the poller: poll_wait() on the readers' queue, and wake it after a write",
		       node(6));
	}
	EXPECT_EQ(1 << 6, mask) {
		TH_LOG("the poller saw minors 0x%x ready, not just %s", mask,
		       node(6));
	}
}

/** @brief A poller waiting for POLLOUT on a full minor is woken when a read
 *         makes room.
 */
TEST_F_TIMEOUT(minors, poll_waits_for_room, TIMEOUT)
{
	char fill[FIFO_SIZE], c, st;
	struct poll_job job;
	struct waiter w;
	int mask = 0, i;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->fd[4], fill, sizeof(fill)));
	poll_all(self, job.p, POLLOUT);
	for (i = 0; i < NDEV; i++)
		if (i != 4)
			job.p[i].fd = -1;
	st = waiter_start(&w, poll_forever, &job);
	EXPECT_EQ('S', st) {
		TH_LOG("poll() for POLLOUT on a full FIFO should wait; its state is %c",
		       st ? st : '0');
	}
	ASSERT_EQ(1, read(self->fd[4], &c, 1));
	ASSERT_TRUE(waiter_result(&w, 2000, &mask)) {
		TH_LOG("a read made room, and the poller waiting for POLLOUT was not woken: poll_wait() on the writers' queue too");
	}
	EXPECT_EQ(1 << 4, mask);
}

/** @brief select() sees the same readiness as poll(). */
TEST_F_TIMEOUT(minors, select_sees_readable_and_writable, TIMEOUT)
{
	struct timeval now = { 0, 0 };
	char fill[FIFO_SIZE];
	fd_set rd, wr;
	int i, top = 0;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->fd[7], fill, sizeof(fill)));
	ASSERT_EQ(1, write(self->fd[0], "0", 1));
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	for (i = 0; i < NDEV; i++) {
		FD_SET(self->fd[i], &rd);
		FD_SET(self->fd[i], &wr);
		if (self->fd[i] > top)
			top = self->fd[i];
	}
	EXPECT_EQ(2 + NDEV - 1, select(top + 1, &rd, &wr, NULL, &now));
	for (i = 0; i < NDEV; i++) {
		EXPECT_EQ(i == 0 || i == 7, !!FD_ISSET(self->fd[i], &rd)) {
			TH_LOG("select: %s %s readable", node(i),
			       FD_ISSET(self->fd[i], &rd) ? "is" : "is not");
		}
		EXPECT_EQ(i != 7, !!FD_ISSET(self->fd[i], &wr)) {
			TH_LOG("select: %s %s writable", node(i),
			       FD_ISSET(self->fd[i], &wr) ? "is" : "is not");
		}
	}
}

static int fill_minor(int fd);

/** @brief Level-triggered epoll reports a minor as long as it holds data;
 *         an epoll set up while a minor is readable (writable) is still
 *         woken by the write (read) that ends a later wait on it. */
TEST_F_TIMEOUT(minors, epoll_level_triggered, TIMEOUT)
{
	struct epoll_event ev = { .events = EPOLLIN }, got;
	int ep = epoll_create1(0), side, fd, n = 0;
	struct waiter w;
	char buf[4], st;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd[3], &ev));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	ASSERT_EQ(1, write(self->fd[3], "a", 1));
	EXPECT_EQ(1, epoll_wait(ep, &got, 1, 0));
	EXPECT_EQ(1, epoll_wait(ep, &got, 1, 0)) {
		TH_LOG("level-triggered: still ready while the data is there");
	}
	ASSERT_EQ(1, read(self->fd[3], buf, sizeof(buf)));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	close(ep);
	/* epoll asks .poll to register its queues once, at EPOLL_CTL_ADD:
	 * poll_wait() on both queues whatever the minor holds, or an epoll
	 * set up while the minor was readable (writable) never hears of
	 * the write (read) that ends a later wait. */
	for (side = 0; side < 2; side++) {
		fd = self->fd[side ? 7 : 6];
		ev.events = side ? EPOLLOUT : EPOLLIN;
		if (!side) {
			ASSERT_EQ(1, write(fd, "a", 1));
		}
		ep = epoll_create1(0);
		ASSERT_LE(0, ep);
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
		if (side) {
			ASSERT_EQ(0, fill_minor(fd));
		} else {
			ASSERT_EQ(1, read(fd, buf, sizeof(buf)));
		}
		st = waiter_start(&w, epoll_forever, &ep);
		EXPECT_EQ('S', st);
		if (side) {
			ASSERT_EQ(1, read(fd, buf, 1));
		} else {
			ASSERT_EQ(1, write(fd, "b", 1));
		}
		EXPECT_TRUE(waiter_result(&w, 2000, &n)) {
			TH_LOG("an epoll_wait() for %s, on an epoll set up while %s was %s, was not woken by a %s: .poll must call poll_wait() on both queues every time, whatever the minor holds (epoll registers its queues only once, when the file is added)",
			       side ? "EPOLLOUT" : "EPOLLIN", node(side ? 7 : 6),
			       side ? "writable" : "readable",
			       side ? "read that made room" : "write");
		}
		EXPECT_EQ(1, n);
		close(ep);
	}
	/* EPOLL_CTL_MOD asks .poll for the mask again, without a poll table:
	 * the queues registered at EPOLL_CTL_ADD stay the only ones. An epoll
	 * added for EPOLLOUT (EPOLLIN) and changed to EPOLLIN (EPOLLOUT) is
	 * woken by a write (a read that makes room) only if .poll registered
	 * on both queues at the ADD, not only on the queue of the events then
	 * asked for (poll_requested_events()). */
	for (side = 0; side < 2; side++) {
		fd = self->fd[side ? 2 : 1];
		ev.events = side ? EPOLLIN : EPOLLOUT;
		ep = epoll_create1(0);
		ASSERT_LE(0, ep);
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
		ev.events = side ? EPOLLOUT : EPOLLIN;
		ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev));
		if (side) {
			ASSERT_EQ(0, fill_minor(fd));
		}
		st = waiter_start(&w, epoll_forever, &ep);
		EXPECT_EQ('S', st);
		if (side) {
			ASSERT_EQ(1, read(fd, buf, 1));
		} else {
			ASSERT_EQ(1, write(fd, "c", 1));
		}
		EXPECT_TRUE(waiter_result(&w, 2000, &n)) {
			TH_LOG("an epoll_wait() for %s, on an epoll added for %s and changed with EPOLL_CTL_MOD, was not woken by a %s on %s: .poll must call poll_wait() on both queues whatever events the caller asks for (epoll registers its queues only at EPOLL_CTL_ADD; EPOLL_CTL_MOD asks .poll again without a poll table)",
			       side ? "EPOLLOUT" : "EPOLLIN",
			       side ? "EPOLLIN" : "EPOLLOUT",
			       side ? "read that made room" : "write",
			       node(side ? 2 : 1));
		}
		EXPECT_EQ(1, n);
		close(ep);
	}
}

/** @brief Edge-triggered epoll reports a change only when the queue is woken:
 * every write must wake it, not only the first into an empty FIFO. */
TEST_F_TIMEOUT(minors, epoll_edge_triggered_reports_each_write, TIMEOUT)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET }, got;
	int ep = epoll_create1(0), n = 0;
	struct waiter w;
	char st;

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd[5], &ev));
	st = waiter_start(&w, epoll_forever, &ep);
	EXPECT_EQ('S', st);
	ASSERT_EQ(1, write(self->fd[5], "a", 1));
	ASSERT_TRUE(waiter_result(&w, 2000, &n)) {
		TH_LOG("epoll_wait() was not woken by a write");
	}
	EXPECT_EQ(1, n);
	/* The waiter consumed the first edge; the data is still there. */
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0)) {
		TH_LOG("edge-triggered: no new event without a new write");
	}
	ASSERT_EQ(1, write(self->fd[5], "b", 1));
	EXPECT_EQ(1, epoll_wait(ep, &got, 1, 0)) {
		TH_LOG("a second write, with the first byte still unread, is a new edge: wake the readers' queue after every write");
	}
	close(ep);
}

/** @brief Waiter body: the course notes' program, twice round its loop:
 *         poll minors 0 and 1 for POLLIN with no timeout, and print what
 *         each readable one holds, one line per read, to the pipe at
 *         @p arg.
 * @param arg a pointer to the pipe's write end
 * @return 0, or -1 on an error
 */
static int seed_poll_loop(void *arg)
{
	int out = *(int *)arg, round, i;
	struct pollfd p[2];
	char buf[64];
	ssize_t n;

	for (i = 0; i < 2; i++) {
		p[i].fd = open(node(i), O_RDWR);
		p[i].events = POLLIN;
		if (p[i].fd < 0)
			return -1;
	}
	for (round = 0; round < 2; round++) {
		if (poll(p, 2, -1) < 0)
			return -1;
		for (i = 0; i < 2; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n <= 0 || write(out, buf, (size_t)n) != n)
				return -1;
		}
	}
	return 0;
}

/** @brief The course notes' test: a program polls two devices, and echo from a
 * shell writes to one, then the other. */
TEST_F_TIMEOUT(minors, seed_two_device_poll_program, TIMEOUT)
{
	char cmd0[64], cmd1[64];
	char *echo0[] = { "sh", "-c", cmd0, NULL };
	char *echo1[] = { "sh", "-c", cmd1, NULL };
	char out[8], line[16];
	struct waiter w;
	int lines[2], result = -1;

	snprintf(cmd0, sizeof(cmd0), "echo demo0 >%s", node(0));
	snprintf(cmd1, sizeof(cmd1), "echo demo2 >%s", node(1));
	ASSERT_EQ(0, pipe(lines));
	EXPECT_EQ('S', waiter_start(&w, seed_poll_loop, &lines[1]));
	close(lines[1]);
	EXPECT_EQ(0, run_command(echo0, out, sizeof(out), 3000));
	read_for(lines[0], line, 6, 2000);
	EXPECT_STREQ("demo0\n", line);
	EXPECT_EQ(0, run_command(echo1, out, sizeof(out), 3000));
	read_for(lines[0], line, 6, 2000);
	EXPECT_STREQ("demo2\n", line);
	EXPECT_TRUE(waiter_result(&w, 2000, &result));
	EXPECT_EQ(0, result);
	close(lines[0]);
}

/** @brief What a one-minor waiter does: open a minor and make one call
 *         that should sleep. */
struct minor_job {
	/** @brief The minor. */
	int minor;
	/** @brief 'r' read, 'w' write, 'p' poll, 's' select, 'e' epoll_wait. */
	char call;
	/** @brief For poll and epoll: POLLIN or POLLOUT, or POLLRDNORM or
	 *         POLLWRNORM alone; for select: POLLIN or POLLOUT. */
	short events;
};

/** @brief Waiter body: open the job's minor without O_NONBLOCK and make
 *         its call.
 * @param arg the struct minor_job
 * @return for a read or write, its result (bytes, or -errno); for poll,
 *         select and epoll, the events seen (POLLIN, POLLOUT), or -errno
 */
static int minor_job_run(void *arg)
{
	const struct minor_job *job = arg;
	struct epoll_event ev = { .events = (uint32_t)job->events };
	struct pollfd p = { .events = job->events };
	char buf[8] = "waiter!";
	fd_set set;
	int fd, ep, n = -1;

	fd = open(node(job->minor), O_RDWR);
	if (fd < 0)
		return -errno;
	switch (job->call) {
	case 'r':
		n = (int)read(fd, buf, sizeof(buf));
		break;
	case 'w':
		n = (int)write(fd, buf, sizeof(buf));
		break;
	case 'p':
		p.fd = fd;
		n = poll(&p, 1, -1) < 0 ? -1 : p.revents;
		break;
	case 's':
		FD_ZERO(&set);
		FD_SET(fd, &set);
		if (job->events == POLLIN)
			n = select(fd + 1, &set, NULL, NULL, NULL);
		else
			n = select(fd + 1, NULL, &set, NULL, NULL);
		n = n == 1 ? job->events : -1;
		break;
	case 'e':
		ep = epoll_create1(0);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			return -errno;
		n = epoll_wait(ep, &ev, 1, -1) == 1 ? (int)ev.events : -1;
		break;
	}
	return n < 0 ? -errno : n;
}

/** @brief What a minor_job is, for a message.
 * @param job the job
 * @return a static string, e.g. "a poll() for POLLIN on /dev/pollfifo1"
 */
static const char *minor_job_name(const struct minor_job *job)
{
	static char text[96];
	const char *what = job->call == 'r' ? "a read()" :
			   job->call == 'w' ? "a write()" :
			   job->call == 'p' ? "a poll()" :
			   job->call == 's' ? "a select()" : "an epoll_wait()";

	snprintf(text, sizeof(text), "%s%s on %s", what,
		 job->call == 'r' || job->call == 'w' ? "" :
		 job->events == POLLIN ? " for POLLIN" :
		 job->events == POLLRDNORM ? " for POLLRDNORM alone" :
		 job->events == POLLWRNORM ? " for POLLWRNORM alone" :
		 " for POLLOUT", node(job->minor));
	return text;
}

/** @brief Fill the minor behind @p fd with FIFO_SIZE bytes.
 * @param fd an O_NONBLOCK descriptor on an empty minor
 * @return 0 if it is full now
 */
static int fill_minor(int fd)
{
	char fill[FIFO_SIZE];

	memset(fill, 'f', sizeof(fill));
	return write(fd, fill, sizeof(fill)) == FIFO_SIZE ? 0 : -1;
}

/** @brief Read exactly @p size bytes from @p fd, waiting up to
 *         @p timeout_ms for each part.
 * @param fd a pipe's read end
 * @param buf where the bytes go
 * @param size how many
 * @param timeout_ms how long to wait for each part
 * @return 1 if all came, 0 if not
 */
static int read_all_for(int fd, void *buf, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < size) {
		if (poll(&p, 1, timeout_ms) != 1)
			return 0;
		n = read(fd, (char *)buf + got, size - got);
		if (n <= 0)
			return 0;
		got += (size_t)n;
	}
	return 1;
}

/** @brief How long a sleeper that should not be woken is watched, in ms. */
#define NOT_WOKEN_MS 300

/** @brief Sleepers on minors 1 and 2 (a read, a poll for data, a write, a
 *         poll for room) are not woken by reads and writes on other
 *         minors, and each is woken by its own minor's event. */
TEST_F_TIMEOUT(minors, sleepers_are_woken_only_by_their_own_minor, 15)
{
	const struct minor_job job[4] = {
		{ .minor = 1, .call = 'r' },
		{ .minor = 1, .call = 'p', .events = POLLIN },
		{ .minor = 2, .call = 'w' },
		{ .minor = 2, .call = 'p', .events = POLLOUT },
	};
	struct pollfd reports[4];
	struct waiter w[4];
	long before[4], after;
	char c, st;
	int i, k, still, result;

	ASSERT_EQ(0, fill_minor(self->fd[2]));
	for (i = 0; i < 4; i++) {
		st = waiter_start(&w[i], minor_job_run, (void *)&job[i]);
		ASSERT_EQ('S', st) {
			TH_LOG("%s should sleep (its minor is %s); its state is %c",
			       minor_job_name(&job[i]),
			       job[i].minor == 1 ? "empty" : "full",
			       st ? st : '0');
		}
		reports[i].fd = w[i].report[0];
		reports[i].events = POLLIN;
	}
	/* A sleeper's count goes up when it is in schedule(), a moment
	 * after its state says S: wait until every count has stood still
	 * three times in a row, 20 ms apart. */
	for (k = 0, still = 0; k < 100 && still < 3; k++) {
		int same = 1;

		for (i = 0; i < 4; i++) {
			after = voluntary_switches(w[i].pid);
			same &= k > 0 && after == before[i];
			before[i] = after;
		}
		still = same ? still + 1 : 0;
		poll(NULL, 0, 20);
	}
	/* Data and room come and go on minors 0, 3 and 7. */
	for (k = 0; k < 3; k++) {
		int m = k == 0 ? 0 : k == 1 ? 3 : 7;

		ASSERT_EQ(0, fill_minor(self->fd[m]));
		ASSERT_EQ(1, read(self->fd[m], &c, 1));
		ASSERT_EQ(1, read(self->fd[m], &c, 1));
		ASSERT_EQ(1, write(self->fd[m], "x", 1));
	}
	EXPECT_EQ(0, poll(reports, 4, NOT_WOKEN_MS)) {
		TH_LOG("a sleeper on minor 1 or 2 returned after reads and writes on minors 0, 3 and 7 only: each minor has its own FIFO and its own wait queues");
	}
	for (i = 0; i < 4; i++) {
		after = voluntary_switches(w[i].pid);
		EXPECT_EQ(before[i], after) {
			TH_LOG("%s was woken (it went back to sleep %ld time(s)) by reads and writes on other minors: each minor needs wait queues of its own; one queue shared by every minor wakes all their sleepers at every event",
			       minor_job_name(&job[i]), after - before[i]);
		}
		EXPECT_EQ('S', task_state(w[i].pid));
	}
	/* Each minor's own event: a byte for the reader, another for the
	 * poller (the reader may take the first before the poller looks);
	 * a byte of room for the writer, which fills it again, another one
	 * for the poller. */
	ASSERT_EQ(1, write(self->fd[1], "a", 1));
	ASSERT_TRUE(waiter_result(&w[0], 2000, &result)) {
		TH_LOG("a write to %s did not wake %s", node(1),
		       minor_job_name(&job[0]));
	}
	EXPECT_EQ(1, result);
	ASSERT_EQ(1, write(self->fd[1], "b", 1));
	ASSERT_TRUE(waiter_result(&w[1], 2000, &result)) {
		TH_LOG("a write to %s did not wake %s", node(1),
		       minor_job_name(&job[1]));
	}
	EXPECT_EQ(POLLIN, result);
	ASSERT_EQ(1, read(self->fd[2], &c, 1));
	ASSERT_TRUE(waiter_result(&w[2], 2000, &result)) {
		TH_LOG("a read from %s did not wake %s", node(2),
		       minor_job_name(&job[2]));
	}
	EXPECT_EQ(1, result);
	ASSERT_EQ(1, read(self->fd[2], &c, 1));
	ASSERT_TRUE(waiter_result(&w[3], 2000, &result)) {
		TH_LOG("a read from %s did not wake %s", node(2),
		       minor_job_name(&job[3]));
	}
	EXPECT_EQ(POLLOUT, result);
}

/** @brief Waiters on one minor: all of them are woken by one event that
 *         serves them all, whichever of the event's bits each waits for:
 *         poll() and epoll_wait() for POLLIN alone and for POLLRDNORM
 *         alone, and select(), all return after one write; the same with
 *         POLLOUT and POLLWRNORM after one read. A keyed wake-up
 *         (wake_up_interruptible_poll()) that names only POLLIN or
 *         POLLOUT passes over the waiters for the other bit. */
TEST_F_TIMEOUT(minors, one_event_wakes_every_poller, 15)
{
	static const struct {
		char call;
		short events[2];	/* for data, for room */
	} waits[] = {
		{ 'p', { POLLIN, POLLOUT } },
		{ 'p', { POLLRDNORM, POLLWRNORM } },
		{ 's', { POLLIN, POLLOUT } },
		{ 'e', { POLLIN, POLLOUT } },
		{ 'e', { POLLRDNORM, POLLWRNORM } },
	};
	enum { WAITS = sizeof(waits) / sizeof(waits[0]) };
	const short seen = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
	struct minor_job job[2][WAITS];
	struct waiter w[2][WAITS];
	int side, i, result;
	char c, st;

	ASSERT_EQ(0, fill_minor(self->fd[4]));
	for (side = 0; side < 2; side++) {
		for (i = 0; i < WAITS; i++) {
			job[side][i].minor = side ? 4 : 3;
			job[side][i].call = waits[i].call;
			job[side][i].events = waits[i].events[side];
			st = waiter_start(&w[side][i], minor_job_run,
					  &job[side][i]);
			ASSERT_EQ('S', st) {
				TH_LOG("%s should sleep; its state is %c",
				       minor_job_name(&job[side][i]),
				       st ? st : '0');
			}
		}
	}
	ASSERT_EQ(1, write(self->fd[3], "x", 1));
	for (i = 0; i < WAITS; i++) {
		EXPECT_TRUE(waiter_result(&w[0][i], 2000, &result)) {
			TH_LOG("one write to %s woke some of its %d waiters but not %s: poll_wait() on the readers' queue, and a wake-up of every sleeper after a write%s",
			       node(3), WAITS, minor_job_name(&job[0][i]),
			       job[0][i].events == POLLRDNORM ? "; a keyed wake-up must name EPOLLIN | EPOLLRDNORM, the bits the mask reports (poll() and epoll skip a waiter whose bits the key leaves out)" : "");
		}
		EXPECT_EQ(job[0][i].events, result & seen);
	}
	ASSERT_EQ(1, read(self->fd[4], &c, 1));
	for (i = 0; i < WAITS; i++) {
		EXPECT_TRUE(waiter_result(&w[1][i], 2000, &result)) {
			TH_LOG("one read from the full %s did not wake %s: poll_wait() on the writers' queue too, and wake it after every read%s",
			       node(4), minor_job_name(&job[1][i]),
			       job[1][i].events == POLLWRNORM ? "; a keyed wake-up must name EPOLLOUT | EPOLLWRNORM, the bits the mask reports (poll() and epoll skip a waiter whose bits the key leaves out)" : "");
		}
		EXPECT_EQ(job[1][i].events, result & seen);
	}
}

/** @brief What the helper of frozen_copy_holds_up_only_its_own_minor did. */
struct beside_frozen {
	/** @brief poll() on minors 0 and 1, no timeout. */
	int polled;
	/** @brief revents of minor 0 and 1. */
	short revents[2];
	/** @brief The write of 5 bytes to minor 1. */
	ssize_t wrote;
	/** @brief The read back from minor 1. */
	ssize_t read;
	/** @brief What it read. */
	char buf[8];
};

/** @brief A write to minor 0 frozen half-way through its copy, holding
 *         minor 0's lock, holds up neither poll() on minor 0 nor a write
 *         and a read on minor 1. */
TEST_F_TIMEOUT(minors, frozen_copy_holds_up_only_its_own_minor, 15)
{
	const size_t head = 4, count = 12;
	struct fifo_call call = { .ready_pipe = -1, .done_pipe = -1 };
	struct beside_frozen r;
	struct copy_stall cs;
	int go[2], report[2], status, stall;
	pthread_t t;
	pid_t pid;
	char *buf;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(report));
	/* Forked before the stall: its calls are made on the minors, not
	 * in this process's frozen address space. */
	pid = fork_detached();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pollfd p[2];
		int fd = open(node(1), O_RDWR | O_NONBLOCK);

		memset(&r, 0, sizeof(r));
		if (fd < 0 || !await_byte(go[0], 10000))
			_exit(1);
		p[0].fd = self->fd[0];
		p[1].fd = fd;
		p[0].events = p[1].events = POLLIN | POLLOUT;
		r.polled = poll(p, 2, 0);
		r.revents[0] = p[0].revents;
		r.revents[1] = p[1].revents;
		r.wrote = write(fd, "fresh", 5);
		r.read = read(fd, r.buf, sizeof(r.buf) - 1);
		_exit(write(report[1], &r, sizeof(r)) != sizeof(r));
	}
	close(report[1]);
	buf = copy_stall_init(&cs, head, 'a');
	ASSERT_NE(NULL, buf);
	call.fd = self->fd[0];
	call.buf = buf;
	call.count = count;
	call.is_write = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, fifo_call_main, &call));
	stall = copy_stall_wait(&cs, -1, 5000);
	EXPECT_EQ(1, stall) {
		TH_LOG("the write to %s never reached its copy from user space",
		       node(0));
	}
	/* Minor 0's writer is frozen inside copy_from_user(). */
	ASSERT_EQ(1, write(go[1], "", 1));
	memset(&r, 0, sizeof(r));
	EXPECT_TRUE(read_all_for(report[0], &r, sizeof(r), 3000)) {
		TH_LOG("while a write to %s was frozen half-way through its copy (holding %s's lock), poll() on %s and %s, or a write and a read on %s, did not return: each minor has its own locks, and .poll takes none",
		       node(0), node(0), node(0), node(1), node(1));
	}
	copy_stall_release(&cs, 'b');
	pthread_join(t, NULL);
	EXPECT_EQ((ssize_t)count, call.ret);
	if (wait_for_child(pid, &status, 3000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	EXPECT_EQ(2, r.polled);
	EXPECT_EQ(POLLOUT, r.revents[1] & (POLLIN | POLLOUT));
	EXPECT_EQ(5, r.wrote);
	EXPECT_EQ(5, r.read);
	EXPECT_STREQ("fresh", r.buf);
	copy_stall_destroy(&cs);
	close(report[0]);
	close(go[0]);
	close(go[1]);
}

/** @brief What the helper of poll_answers_while_a_read_and_a_write_are_frozen
 *         saw on the minor with the frozen calls. */
struct beside_frozen_pair {
	/** @brief poll() with a timeout of 0: its result. */
	int polled;
	/** @brief Its revents. */
	short revents;
	/** @brief select() with a timeout of 0: its result. */
	int selected;
	/** @brief Readable and writable for select(), a bit each. */
	int rw;
	/** @brief epoll_wait() with a timeout of 0: its result. */
	int epolled;
	/** @brief The events it reported. */
	uint32_t events;
};

/** @brief Start one read() or write() on @p fd that freezes in its copy
 *         after @p head bytes, and wait until it is frozen.
 * @param cs the stall
 * @param call the call, filled in here
 * @param t its thread
 * @param fd the descriptor
 * @param is_write nonzero for a write
 * @param count the byte count (more than @p head)
 * @param head the bytes copied before the copy freezes
 * @return 1 if it froze, 0 if not (then it may have returned), -1 if
 *         no thread was started
 */
static int freeze_call(struct copy_stall *cs, struct fifo_call *call,
		       pthread_t *t, int fd, int is_write, size_t count,
		       size_t head)
{
	memset(call, 0, sizeof(*call));
	call->ready_pipe = -1;
	call->done_pipe = -1;
	call->buf = copy_stall_init(cs, head, 'h');
	if (!call->buf)
		return -1;
	call->fd = fd;
	call->count = count;
	call->is_write = is_write;
	if (pthread_create(t, NULL, fifo_call_main, call))
		return -1;
	return copy_stall_wait(cs, -1, 5000) == 1;
}

/** @brief While a read and a write on minor 0 are both frozen half-way
 *         through their copies (each holding its lock), poll(), select()
 *         and epoll_wait() with a timeout of 0 on minor 0 return at once,
 *         with the minor's state. */
TEST_F_TIMEOUT(minors, poll_answers_while_a_read_and_a_write_are_frozen, 20)
{
	const short rw = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
	struct fifo_call rcall, wcall;
	struct copy_stall rcs, wcs;
	struct beside_frozen_pair r;
	int go[2], report[2], status, rfrozen, wfrozen;
	pthread_t rt, wt;
	pid_t pid;

	ASSERT_EQ(8, write(self->fd[0], "eightbyt", 8));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(report));
	/* Forked before the stalls: its calls are made on the minor, not
	 * in this process's frozen address space. */
	pid = fork_detached();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct epoll_event ev = {
			.events = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM,
		};
		struct timeval now = { 0, 0 };
		struct pollfd p = { .fd = self->fd[0], .events = ALL_EVENTS };
		fd_set rd, wr;
		int ep;

		memset(&r, 0, sizeof(r));
		if (!await_byte(go[0], 20000))
			_exit(1);
		r.polled = poll(&p, 1, 0);
		r.revents = p.revents;
		FD_ZERO(&rd);
		FD_ZERO(&wr);
		FD_SET(self->fd[0], &rd);
		FD_SET(self->fd[0], &wr);
		r.selected = select(self->fd[0] + 1, &rd, &wr, NULL, &now);
		r.rw = (FD_ISSET(self->fd[0], &rd) ? 1 : 0) |
		       (FD_ISSET(self->fd[0], &wr) ? 2 : 0);
		ep = epoll_create1(0);
		if (ep >= 0 && !epoll_ctl(ep, EPOLL_CTL_ADD, self->fd[0], &ev))
			r.epolled = epoll_wait(ep, &ev, 1, 0);
		r.events = ev.events;
		_exit(write(report[1], &r, sizeof(r)) != sizeof(r));
	}
	close(report[1]);
	/* A read of 6 of the 8 bytes freezes after 2, holding the readers'
	 * lock; a write of 12 freezes after 4, holding the writers'. */
	rfrozen = freeze_call(&rcs, &rcall, &rt, self->fd[0], 0, 6, 2);
	EXPECT_EQ(1, rfrozen) {
		TH_LOG("the read of %s never reached its copy to user space",
		       node(0));
	}
	wfrozen = freeze_call(&wcs, &wcall, &wt, self->fd[0], 1, 12, 4);
	EXPECT_EQ(1, wfrozen) {
		TH_LOG("the write to %s never reached its copy from user space, while a read was frozen in its copy: a read and a write each take only their own lock",
		       node(0));
	}
	ASSERT_EQ(1, write(go[1], "", 1));
	memset(&r, 0, sizeof(r));
	EXPECT_TRUE(read_all_for(report[0], &r, sizeof(r), 3000)) {
		TH_LOG("while a read and a write on %s were frozen half-way through their copies (each holding its lock), poll(), select() or epoll_wait() with a timeout of 0 on %s did not return within 3 s (the helper's state: %c); rule: .poll takes no lock and answers at once (a .poll that takes the readers' or the writers' mutex waits for the frozen call)",
		       node(0), node(0), task_state(pid) ?: '0');
	}
	if (rfrozen == 1)
		copy_stall_release(&rcs, 'r');
	if (wfrozen == 1)
		copy_stall_release(&wcs, 'w');
	if (rfrozen >= 0)
		pthread_join(rt, NULL);
	if (wfrozen >= 0)
		pthread_join(wt, NULL);
	EXPECT_EQ(6, rcall.ret);
	EXPECT_EQ(12, wcall.ret);
	if (wait_for_child(pid, &status, 5000)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	EXPECT_EQ(1, r.polled);
	EXPECT_EQ(rw, r.revents) {
		TH_LOG("poll() during the frozen calls (8 bytes in the FIFO): revents 0x%x, not 0x%x",
		       r.revents, rw);
	}
	EXPECT_EQ(2, r.selected);
	EXPECT_EQ(3, r.rw);
	EXPECT_EQ(1, r.epolled);
	EXPECT_EQ((uint32_t)rw, r.events);
	copy_stall_destroy(&rcs);
	copy_stall_destroy(&wcs);
	close(report[0]);
	close(go[0]);
	close(go[1]);
}

#if FIFO_STAGE >= 6
/** @brief The rule fasync_waits_for_no_call_in_progress checks, for its
 *         failure messages. */
#define FASYNC_NO_LOCK_RULE "rule: .fasync takes none of the device's locks (fasync_helper() has its own): setting or clearing O_ASYNC, and the last close of a file that had it, return at once, also while a read or write of the minor is in progress"

/** @brief What the child of fasync_waits_for_no_call_in_progress does,
 *         one byte to the report pipe after each step. */
static const char *const fasync_steps[] = {
	"fcntl(F_SETFL) setting O_ASYNC",
	"fcntl(F_SETFL) clearing O_ASYNC",
	"fcntl(F_SETFL) setting O_ASYNC again",
	"close() of a file with O_ASYNC, its last",
};

/** @brief Let a call of 12 bytes frozen by freeze_call() go on and check
 *         that it moved them all, then reap the child that made its fasync
 *         steps meanwhile, which must have exited with 0 (a child still
 *         there after 5 s is killed).
 * @param _metadata the test
 * @param cs the stall in the call's buffer, destroyed here
 * @param call the call
 * @param t the call's thread
 * @param pid the child
 * @param reading nonzero if the call is a read, for the messages
 */
static void frozen_call_and_child_finish(struct __test_metadata *_metadata,
					 struct copy_stall *cs,
					 struct fifo_call *call, pthread_t t,
					 pid_t pid, int reading)
{
	int status = -1;

	copy_stall_release(cs, 't');
	pthread_join(t, NULL);
	EXPECT_EQ(12, call->ret) {
		TH_LOG("the %s returned %zd once its copy went on, not 12",
		       reading ? "read" : "write", call->ret);
	}
	copy_stall_destroy(cs);
	if (wait_for_child(pid, &status, 5000)) {
		kill(pid, SIGKILL);
		wait_for_child(pid, &status, 1000);
	}
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
		TH_LOG("the child's fcntl() or close() failed (status %#x)",
		       status);
	}
}

/** @brief Wait for the child's report of @p step, and fail if the child
 *         is found asleep before it comes.
 * @param _metadata the test
 * @param report the report pipe's read end
 * @param pid the child
 * @param step the step
 * @param during the call in progress, for the message
 * @return 1 if the step was reported, 0 if not
 */
static int fasync_step_returned(struct __test_metadata *_metadata, int report,
				pid_t pid, unsigned int step,
				const char *during)
{
	char st;
	int ms;

	/* A child that is slow to be scheduled is runnable, never asleep:
	 * only a call asleep inside the kernel fails it. */
	for (ms = 0; ms < 10000; ms += 10) {
		if (await_byte(report, 10))
			return 1;
		st = task_state(pid);
		if (st == 'S' || st == 'D')
			break;
	}
	EXPECT_TRUE(0) {
		TH_LOG("%s did not return while %s: the process sleeps in state %c%s; " FASYNC_NO_LOCK_RULE,
		       fasync_steps[step], during, st ? st : '?',
		       st == 'D' ? " (mutex_lock(), which no signal ends: the process cannot even be killed until the call in progress is through)" : "");
	}
	return 0;
}

/** @brief Setting and clearing O_ASYNC, and the last close of a file
 *         that had it, wait for no read or write in progress: each
 *         returns at once while a write on the minor (then a read) is
 *         frozen in its copy, holding its mutex. A .fasync that takes
 *         one of the device's mutexes around fasync_helper() makes
 *         fcntl() and close() wait for any call in progress, with
 *         mutex_lock() in state D, which no signal ends.
 */
TEST_F_TIMEOUT(minors, fasync_waits_for_no_call_in_progress, 30)
{
	char fill[FIFO_SIZE], during[96], byte;
	int go[2], report[2], reading, frozen;
	struct fifo_call call;
	struct copy_stall cs;
	unsigned int step;
	pthread_t t;
	pid_t pid;

	memset(fill, 'f', sizeof(fill));
	for (reading = 0; reading < 2; reading++) {
		if (reading) {
			/* Full, so that the read has bytes to copy. */
			ASSERT_EQ(FIFO_SIZE, write(self->fd[2], fill,
						   FIFO_SIZE));
		}
		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(0, pipe(report));
		/* Forked before the stall: its calls are made on the minor,
		 * not in this process's frozen address space. */
		pid = fork_detached();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int fd = open(node(2), O_RDWR | O_NONBLOCK);
			const int fl = O_RDWR | O_NONBLOCK;

			/* "g" once it is past its read of the go byte: from
			 * there on, nothing but the driver can put it to sleep. */
			if (fd < 0 || fcntl(fd, F_SETOWN, getpid()) ||
			    write(report[1], "o", 1) != 1 ||
			    read(go[0], &byte, 1) != 1 ||
			    write(report[1], "g", 1) != 1)
				_exit(2);
			if (fcntl(fd, F_SETFL, fl | O_ASYNC) ||
			    write(report[1], "1", 1) != 1 ||
			    fcntl(fd, F_SETFL, fl) ||
			    write(report[1], "2", 1) != 1 ||
			    fcntl(fd, F_SETFL, fl | O_ASYNC) ||
			    write(report[1], "3", 1) != 1 || close(fd) ||
			    write(report[1], "4", 1) != 1)
				_exit(3);
			_exit(0);
		}
		ASSERT_TRUE(await_byte(report[0], 5000)) {
			TH_LOG("the child could not open %s", node(2));
		}
		frozen = freeze_call(&cs, &call, &t, self->fd[2], !reading, 12,
				     4);
		ASSERT_LE(0, frozen);
		EXPECT_EQ(1, frozen) {
			TH_LOG("the %s of 12 bytes never reached its copy %s user memory",
			       reading ? "read" : "write",
			       reading ? "to" : "from");
		}
		snprintf(during, sizeof(during), "a %s of the same minor was frozen in its copy %s user memory",
			 reading ? "read" : "write", reading ? "to" : "from");
		ASSERT_EQ(1, write(go[1], "g", 1));
		/* Not a step: a child slow to wake from its read of the go
		 * byte is asleep there, not in the driver. */
		EXPECT_TRUE(await_byte(report[0], 10000)) {
			TH_LOG("the child did not get the go byte");
		}
		for (step = 0; step < 4; step++)
			if (!fasync_step_returned(_metadata, report[0], pid,
						  step, during))
				break;
		frozen_call_and_child_finish(_metadata, &cs, &call, t, pid,
					     reading);
		drain_all(self->fd[2]);
		close(go[0]);
		close(go[1]);
		close(report[0]);
		close(report[1]);
	}
}
#endif /* FIFO_STAGE >= 6 */

/* ------------------------------------------------------------------ */
/* matches_the_model: seeded random sequences against minor_model.h    */
/* ------------------------------------------------------------------ */

/** @brief Processes holding descriptors in a sequence ("agents"). */
#define MODEL_AGENTS 4
/** @brief Minors a sequence reads and writes (poll looks at all NDEV). */
#define MODEL_MINORS 4
/** @brief Most descriptors the agents hold at once. */
#define MODEL_FILES 12
/** @brief Largest read or write a sequence makes. */
#define MODEL_IO (2 * FIFO_SIZE + 8)
/** @brief Steps of each sequence. */
#define MODEL_STEPS 250
/** @brief How long an agent may take to answer, in ms (a call that
 *         should not sleep returns in microseconds). */
#define MODEL_REPLY_MS 3000
/** @brief The process group two of the agents share (model's number). */
#define MODEL_GROUP 100

/** @brief What an agent is asked to do. */
enum model_agent_op {
	AG_OPEN = 1,	/**< open(node(minor), flags) */
	AG_CLOSE,	/**< close(fd) */
	AG_SETFL,	/**< F_SETFL: O_NONBLOCK and O_ASYNC as in flags */
	AG_OWNER,	/**< F_SETOWN owner, F_SETSIG sig */
	AG_READ,	/**< read(fd, count) */
	AG_WRITE,	/**< write(fd, data, count) */
	AG_POLL,	/**< poll(p, nfds, -1) */
	AG_SIGNALS,	/**< take every pending signal */
};

/** @brief One command to an agent. */
struct agent_cmd {
	/** @brief An enum model_agent_op. */
	int op;
	/** @brief The descriptor. */
	int fd;
	/** @brief AG_OPEN: the minor. */
	int minor;
	/** @brief AG_OPEN: the access mode, with O_NONBLOCK or not;
	 *         AG_SETFL: the O_NONBLOCK and O_ASYNC bits wanted. */
	int flags;
	/** @brief AG_OWNER: a PID, or minus a process group's ID. */
	int owner;
	/** @brief AG_OWNER: the signal for F_SETSIG. */
	int sig;
	/** @brief Nonzero: write a byte to the ready pipe just before the
	 *         call (for a call that should sleep). */
	int announce;
	/** @brief AG_READ, AG_WRITE: the byte count. */
	size_t count;
	/** @brief AG_POLL: the entries. */
	int nfds;
	/** @brief AG_POLL: the entries. */
	struct pollfd p[MODEL_FILES];
	/** @brief AG_WRITE: the bytes. */
	unsigned char data[MODEL_IO];
};

/** @brief An agent's answer. */
struct agent_reply {
	/** @brief What the call returned. */
	ssize_t ret;
	/** @brief errno after it. */
	int err;
	/** @brief AG_POLL: the revents. */
	short revents[MODEL_FILES];
	/** @brief AG_SIGNALS: how many were pending (only the first
	 *         MINOR_MODEL_SIGNALS are in sig). */
	int nsig;
	/** @brief AG_SIGNALS: the signals. */
	struct minor_model_signal sig[MINOR_MODEL_SIGNALS];
	/** @brief AG_READ: the bytes. */
	unsigned char data[MODEL_IO];
};

/** @brief An agent as the test sees it. */
struct model_agent {
	/** @brief Its PID. */
	pid_t pid;
	/** @brief Where the test writes commands. */
	int cmd;
	/** @brief Where the test reads replies. */
	int reply;
	/** @brief Where the agent says it is about to make its call. */
	int ready;
};

/** @brief Write all of @p size bytes.
 * @param fd the descriptor
 * @param buf the bytes
 * @param size how many
 * @return 0, or -1
 */
static int write_all(int fd, const void *buf, size_t size)
{
	size_t done = 0;
	ssize_t n;

	while (done < size) {
		n = write(fd, (const char *)buf + done, size - done);
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/** @brief An agent's life: block the signals it will count, then run
 *         commands until the test closes the command pipe.
 * @param cmd_fd commands come here
 * @param reply_fd replies go here
 * @param ready_fd the announcement byte goes here
 * @param sig the realtime signal the sequence uses
 */
static void __attribute__((noreturn))
agent_main(int cmd_fd, int reply_fd, int ready_fd, int sig)
{
	static struct agent_cmd c;
	static struct agent_reply r;
	struct timespec zero = { 0, 0 };
	siginfo_t info;
	sigset_t set;
	int fl, i;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	while (read_all_for(cmd_fd, &c, sizeof(c), -1)) {
		r.ret = -1;
		r.nsig = 0;
		if (c.announce && write(ready_fd, "", 1) != 1)
			_exit(3);
		errno = 0;
		switch (c.op) {
		case AG_OPEN:
			r.ret = open(node(c.minor), c.flags);
			break;
		case AG_CLOSE:
			r.ret = close(c.fd);
			break;
		case AG_SETFL:
			fl = fcntl(c.fd, F_GETFL);
			if (fl >= 0)
				r.ret = fcntl(c.fd, F_SETFL,
					      (fl & ~(O_NONBLOCK | O_ASYNC)) |
					      c.flags);
			break;
		case AG_OWNER:
			r.ret = fcntl(c.fd, F_SETOWN, c.owner);
			if (!r.ret)
				r.ret = fcntl(c.fd, F_SETSIG, c.sig);
			break;
		case AG_READ:
			r.ret = read(c.fd, r.data, c.count);
			break;
		case AG_WRITE:
			r.ret = write(c.fd, c.data, c.count);
			break;
		case AG_POLL:
			r.ret = poll(c.p, (nfds_t)c.nfds, -1);
			for (i = 0; i < c.nfds; i++)
				r.revents[i] = c.p[i].revents;
			break;
		case AG_SIGNALS:
			while (sigtimedwait(&set, &info, &zero) > 0) {
				if (r.nsig < MINOR_MODEL_SIGNALS) {
					r.sig[r.nsig].signo = info.si_signo;
					r.sig[r.nsig].code = info.si_code;
					r.sig[r.nsig].band = info.si_band;
					r.sig[r.nsig].fd = info.si_fd;
				}
				r.nsig++;
			}
			r.ret = 0;
			break;
		}
		r.err = errno;
		if (write_all(reply_fd, &r, sizeof(r)))
			_exit(2);
	}
	_exit(0);
}

/** @brief One sequence of matches_the_model: the model, the agents, and
 *         what a failure message needs. */
struct model_run {
	/** @brief The harness's test, for its result. */
	struct __test_metadata *meta;
	/** @brief The model. */
	struct minor_model m;
	/** @brief The sequence's generator. */
	struct fifo_model_rng rng;
	/** @brief The last calls, for a failure message. */
	struct fifo_model_history h;
	/** @brief The sequence's seed. */
	uint64_t seed;
	/** @brief The step being made. */
	int step;
	/** @brief Set at the first mismatch: the sequence stops. */
	int failed;
	/** @brief The realtime signal the agents ask for (F_SETSIG). */
	int sig;
	/** @brief Nonzero: agents open minors O_RDONLY and O_WRONLY too,
	 *         not only O_RDWR. */
	int one_way;
	/** @brief The test's own O_NONBLOCK descriptors, one per minor. */
	int *ofd;
	/** @brief Their slots in the model. */
	int oslot[NDEV];
	/** @brief A level-triggered epoll on every minor. */
	int lt;
	/** @brief An edge-triggered epoll on every minor. */
	int et;
	/** @brief Minors that moved bytes since the edge-triggered epoll
	 *         was last asked. */
	unsigned int touched;
	/** @brief Agents ever named by an F_SETOWN of the sequence (a bit
	 *         each): no other agent can receive a signal of the device. */
	unsigned int owners;
	/** @brief The next byte to write: every byte of a sequence differs
	 *         from its neighbours. */
	unsigned char next_byte;
	/** @brief The agents. */
	struct model_agent ag[MODEL_AGENTS];
	/** @brief A command, kept off the stack. */
	struct agent_cmd cmd;
	/** @brief A reply, kept off the stack. */
	struct agent_reply reply;
};

/** @brief Report the first mismatch of a sequence: where, what the model
 *         said, what the device did, the rule, the last calls, and how to
 *         replay it.
 * @param run the sequence
 * @param op the call
 * @param model what the model says
 * @param device what the device did
 * @param rule the rule of the handout it breaks
 */
static void model_fail(struct model_run *run, const char *op,
		       const char *model, const char *device, const char *rule)
{
	struct __test_metadata *_metadata = run->meta;

	if (run->failed)
		return;
	run->failed = 1;
	TH_LOG("matches_the_model: seed %llu, step %d: %s\n"
	       "#   model:  %s\n#   device: %s\n#   rule: %s\n"
	       "#   the last calls, oldest first:",
	       (unsigned long long)run->seed, run->step, op, model, device,
	       rule);
	fifo_model_history_print(&run->h, stderr, "#     ");
	fprintf(stderr, "#   replay: make test LAB=%02d SEED=%llu\n",
		FIFO_STAGE, (unsigned long long)run->seed);
	_metadata->exit_code = KSFT_FAIL;
}

/** @brief A descriptor, for messages: "agent 1's fd 7 on minor 2,
 *         O_NONBLOCK".
 * @param run the sequence
 * @param f the file's slot
 * @return a static string
 */
static const char *model_file_name(const struct model_run *run, int f)
{
	static char text[96];
	const struct minor_model_file *file = &run->m.file[f];

	if (file->agent == MODEL_AGENTS)
		snprintf(text, sizeof(text), "the test's fd %d on minor %d%s",
			 file->fd, file->minor,
			 file->nonblock ? ", O_NONBLOCK" : "");
	else
		snprintf(text, sizeof(text), "agent %d's fd %d on minor %d%s%s%s",
			 file->agent, file->fd, file->minor,
			 !file->can_write ? ", O_RDONLY" :
			 !file->can_read ? ", O_WRONLY" : "",
			 file->nonblock ? ", O_NONBLOCK" : "",
			 file->async ? ", O_ASYNC" : "");
	return text;
}

/** @brief Send agent @p a the command in run->cmd and, unless it is
 *         announced, wait for its reply in run->reply.
 * @param run the sequence
 * @param a the agent
 * @param what the call, for a message
 * @return 1 if the reply came (or the command was announced), 0 if not
 *         (the sequence has failed)
 */
static int agent_send(struct model_run *run, int a, const char *what)
{
	char device[64];

	if (write_all(run->ag[a].cmd, &run->cmd, sizeof(run->cmd))) {
		model_fail(run, what, "the agent takes the command",
			   "its command pipe is closed", "(the kit's own agent)");
		return 0;
	}
	if (run->cmd.announce)
		return 1;
	if (read_all_for(run->ag[a].reply, &run->reply, sizeof(run->reply),
			 MODEL_REPLY_MS))
		return 1;
	snprintf(device, sizeof(device), "no return within %d ms (state %c)",
		 MODEL_REPLY_MS, task_state(run->ag[a].pid) ?: '0');
	model_fail(run, what, "returns at once", device,
		   "a call that finds data (or room), or is O_NONBLOCK, does not sleep");
	return 0;
}

/** @brief Pick one of the agents' open files at random.
 * @param run the sequence
 * @return its slot, or -1 if none is open
 */
static int model_pick_file(struct model_run *run)
{
	int f, n = 0, pick;

	for (f = 0; f < MINOR_MODEL_FILES; f++)
		if (run->m.file[f].open && run->m.file[f].agent < MODEL_AGENTS)
			n++;
	if (!n)
		return -1;
	pick = (int)fifo_model_rng_below(&run->rng, (uint64_t)n);
	for (f = 0; f < MINOR_MODEL_FILES; f++)
		if (run->m.file[f].open &&
		    run->m.file[f].agent < MODEL_AGENTS && !pick--)
			return f;
	return -1;
}

/** @brief A byte count: 0, a few, around the capacity, or up to twice it.
 * @param run the sequence
 * @return the count
 */
static size_t model_count(struct model_run *run)
{
	uint64_t k = fifo_model_rng_below(&run->rng, 20);

	if (k == 0)
		return 0;
	if (k < 8)
		return 1 + fifo_model_rng_below(&run->rng, 8);
	if (k < 12)
		return FIFO_SIZE - 1 + fifo_model_rng_below(&run->rng, 3);
	return 1 + fifo_model_rng_below(&run->rng, 2 * FIFO_SIZE);
}

/** @brief Fill @p buf with the sequence's next @p n bytes.
 * @param run the sequence
 * @param buf where they go
 * @param n how many
 */
static void model_bytes(struct model_run *run, unsigned char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = run->next_byte++;
}

/** @brief Compare a read's or write's result with the model's.
 * @param run the sequence
 * @param what the call
 * @param want the model's result
 * @param ret what the call returned
 * @param err errno after it
 * @param got the bytes a read returned, or NULL
 * @param want_bytes the bytes the model read, or NULL
 * @return nonzero if they agree
 */
static int model_check(struct model_run *run, const char *what,
		       struct fifo_model_result want, ssize_t ret, int err,
		       const unsigned char *got, const unsigned char *want_bytes)
{
	char m[64], d[64];
	ssize_t i;

	fifo_model_describe(want, m, sizeof(m));
	fifo_model_describe_call(ret, err, d, sizeof(d));
	fifo_model_history_add(&run->h, "step %d: %s -> %s", run->step, what,
			       d);
	if (!fifo_model_agrees(want, ret, err)) {
		model_fail(run, what, m, d,
			   want.ret == -1 && want.err == EBADF ? "a file opened O_RDONLY cannot be written, one opened O_WRONLY cannot be read: EBADF" :
			   want.ret == -1 ? "O_NONBLOCK with no data (or no room) on this minor gives EAGAIN" :
			   "each minor is Lab 04's FIFO of its own: a read returns min(count, bytes in this minor), a write min(count, room in this minor), 0 for a count of 0");
		return 0;
	}
	if (got && want_bytes && ret > 0) {
		for (i = 0; i < ret; i++)
			if (got[i] != want_bytes[i])
				break;
		if (i < ret) {
			snprintf(m, sizeof(m), "byte %zd is 0x%02x", i,
				 want_bytes[i]);
			snprintf(d, sizeof(d), "byte %zd is 0x%02x", i,
				 got[i]);
			model_fail(run, what, m, d,
				   "bytes come out of the minor they were written to, oldest first");
			return 0;
		}
	}
	return 1;
}

/** @brief A read or write through the test's own descriptor on @p minor
 *         (O_NONBLOCK), on the device and on the model.
 * @param run the sequence
 * @param minor the minor
 * @param is_write nonzero for a write
 * @param count the byte count
 * @param serves the agent whose sleeping call this call serves, or -1:
 *        the call's copy is then held until that agent is asleep
 *        (held_call.h), so that a driver which wakes it before the copy
 *        is through leaves it asleep every time, not by chance
 * @return nonzero if it agreed
 */
static int model_own_call(struct model_run *run, int minor, int is_write,
			  size_t count, int serves)
{
	struct held_call_tasks tasks = { .n = 1 };
	unsigned char bytes[MODEL_IO], out[MODEL_IO];
	struct fifo_model_result want;
	int f = run->oslot[minor];
	char what[128];
	ssize_t ret;

	snprintf(what, sizeof(what), "%s %zu, %s", is_write ? "write" : "read",
		 count, model_file_name(run, f));
	if (is_write) {
		model_bytes(run, bytes, count);
		want = minor_model_write(&run->m, f, bytes, count);
	} else {
		want = minor_model_read(&run->m, f, count, out);
	}
	if (serves >= 0) {
		tasks.tid[0] = run->ag[serves].pid;
		ret = held_call(run->ofd[minor], is_write ? bytes : NULL,
				bytes, count, &tasks, MODEL_REPLY_MS);
	} else {
		ret = is_write ? write(run->ofd[minor], bytes, count) :
				 read(run->ofd[minor], bytes, count);
	}
	if (!model_check(run, what, want, ret, errno, is_write ? NULL : bytes,
			 is_write ? NULL : out))
		return 0;
	if (ret > 0)
		run->touched |= 1u << minor;
	return 1;
}

/** @brief Check that agent @p a's call, announced, is asleep and has not
 *         returned.
 * @param run the sequence
 * @param a the agent
 * @param what the call
 * @param why why the model says it sleeps
 * @return nonzero if it sleeps
 */
static int model_expect_asleep(struct model_run *run, int a, const char *what,
			       const char *why)
{
	struct pollfd p = { .fd = run->ag[a].reply, .events = POLLIN };
	char st, device[96], d[48];

	if (!await_byte(run->ag[a].ready, MODEL_REPLY_MS)) {
		model_fail(run, what, "sleeps", "the agent never made the call",
			   "(the kit's own agent)");
		return 0;
	}
	st = task_wait_asleep(run->ag[a].pid, NULL, MODEL_REPLY_MS);
	if (st == 'S' && poll(&p, 1, 0) == 0)
		return 1;
	if (poll(&p, 1, 0) == 1 &&
	    read_all_for(run->ag[a].reply, &run->reply, sizeof(run->reply),
			 MODEL_REPLY_MS))
		snprintf(device, sizeof(device), "returned %s",
			 fifo_model_describe_call(run->reply.ret,
						  run->reply.err, d,
						  sizeof(d)));
	else
		snprintf(device, sizeof(device), "state %c, not asleep",
			 st ? st : '0');
	model_fail(run, what, why, device,
		   "without O_NONBLOCK, a read of an empty minor (a write to a full one, a poll() with nothing ready) sleeps until its own minor's event");
	return 0;
}

/** @brief Maybe make a call on another minor than @p busy while an agent
 *         sleeps: it must not wake the sleeper.
 * @param run the sequence
 * @param busy the minors the sleeper waits on (a bit each)
 * @param a the sleeping agent
 * @param what its call
 * @return nonzero if all is well
 */
static int model_other_minor(struct model_run *run, unsigned int busy, int a,
			     const char *what)
{
	struct pollfd p = { .fd = run->ag[a].reply, .events = POLLIN };
	int minor = (int)fifo_model_rng_below(&run->rng, MODEL_MINORS);
	int is_write;
	size_t count;
	char op[160], device[64];
	long long before, after;

	if ((busy >> minor) & 1 || fifo_model_rng_below(&run->rng, 2))
		return 1;
	is_write = (int)fifo_model_rng_below(&run->rng, 2);
	count = 1 + fifo_model_rng_below(&run->rng, FIFO_SIZE);
	/* Woken by a queue it should not be on, the sleeper goes back to
	 * sleep at once: compare its switch counts, each read once it is
	 * off the CPU, rather than catch it awake, which takes luck. */
	before = settled_switches(run->ag[a].pid, MODEL_REPLY_MS);
	if (!model_own_call(run, minor, is_write, count, -1))
		return 0;
	after = settled_switches(run->ag[a].pid, MODEL_REPLY_MS);
	if (poll(&p, 1, 0) == 0 && before >= 0 && after == before)
		return 1;
	snprintf(op, sizeof(op), "%s, after a call on minor %d", what, minor);
	if (poll(&p, 1, 0))
		snprintf(device, sizeof(device), "returned");
	else if (before < 0 || after < 0)
		snprintf(device, sizeof(device), "not asleep");
	else
		snprintf(device, sizeof(device),
			 "woken (went back to sleep %lld time(s))",
			 after - before);
	model_fail(run, op, "still sleeps", device,
		   "a sleeper is woken only by its own minor's events: each minor has its own wait queues");
	return 0;
}

/** @brief A read or write on an agent's file that the model says sleeps:
 *         the agent must be seen asleep, maybe stay asleep through a call
 *         on another minor, and return what the model says once the test
 *         brings data (or room) to its minor.
 * @param run the sequence
 * @param f the file
 * @param is_write nonzero for a write
 * @param count the byte count
 * @param what the call, for messages
 */
static void model_sleeping_call(struct model_run *run, int f, int is_write,
				size_t count, const char *what)
{
	const struct minor_model_file *file = &run->m.file[f];
	int a = file->agent, minor = file->minor;
	unsigned char out[MODEL_IO];
	struct fifo_model_result want;
	size_t serve = 1 + fifo_model_rng_below(&run->rng, FIFO_SIZE);

	fifo_model_history_add(&run->h, "step %d: %s -> sleeps", run->step,
			       what);
	run->cmd.announce = 1;
	if (!agent_send(run, a, what) ||
	    !model_expect_asleep(run, a, what, is_write ?
				 "sleeps: the minor is full" :
				 "sleeps: the minor is empty") ||
	    !model_other_minor(run, 1u << minor, a, what) ||
	    !model_own_call(run, minor, !is_write, serve, a))
		return;
	/* The test's call woke it; it finishes as the model says. */
	if (is_write)
		want = minor_model_write(&run->m, f, run->cmd.data, count);
	else
		want = minor_model_read(&run->m, f, count, out);
	if (!read_all_for(run->ag[a].reply, &run->reply, sizeof(run->reply),
			  MODEL_REPLY_MS)) {
		model_fail(run, what, "woken by the test's call on its minor",
			   "still asleep",
			   is_write ? "a read that makes room wakes the writers of that minor" :
				      "a write that adds data wakes the readers of that minor");
		return;
	}
	if (model_check(run, what, want, run->reply.ret, run->reply.err,
			is_write ? NULL : run->reply.data, out) &&
	    run->reply.ret > 0)
		run->touched |= 1u << minor;
}

/** @brief Step: a read or a write through an agent's file or the test's
 *         own, of a random size.
 * @param run the sequence
 */
static void model_step_transfer(struct model_run *run)
{
	int is_write = (int)fifo_model_rng_below(&run->rng, 2);
	size_t count = model_count(run);
	struct fifo_model_result want;
	unsigned char out[MODEL_IO];
	char what[128];
	int f = -1;

	if (fifo_model_rng_below(&run->rng, 4))
		f = model_pick_file(run);
	if (f < 0) {
		model_own_call(run, (int)fifo_model_rng_below(&run->rng,
							      MODEL_MINORS),
			       is_write, count, -1);
		return;
	}
	snprintf(what, sizeof(what), "%s %zu, %s",
		 is_write ? "write" : "read", count, model_file_name(run, f));
	memset(&run->cmd, 0, sizeof(run->cmd));
	run->cmd.op = is_write ? AG_WRITE : AG_READ;
	run->cmd.fd = run->m.file[f].fd;
	run->cmd.count = count;
	if (is_write) {
		model_bytes(run, run->cmd.data, count);
		want = minor_model_write(&run->m, f, run->cmd.data, count);
	} else {
		want = minor_model_read(&run->m, f, count, out);
	}
	if (want.blocks) {
		model_sleeping_call(run, f, is_write, count, what);
		return;
	}
	if (!agent_send(run, run->m.file[f].agent, what))
		return;
	if (model_check(run, what, want, run->reply.ret, run->reply.err,
			is_write ? NULL : run->reply.data, out) &&
	    run->reply.ret > 0)
		run->touched |= 1u << run->m.file[f].minor;
}

/** @brief Step: an agent polls all its files with no timeout, each for
 *         what its minor lacks (data if empty, room if full); the model
 *         says nothing is ready, so it must sleep until the test serves
 *         one of them, and then report exactly what the model says.
 * @param run the sequence
 */
static void model_step_poll_wait(struct model_run *run)
{
	int a = (int)fifo_model_rng_below(&run->rng, MODEL_AGENTS);
	int slot[MODEL_FILES], n = 0, waiting = 0, i, f, pick, bad = -1;
	unsigned int busy = 0;
	char what[160], m[64], d[64];

	memset(&run->cmd, 0, sizeof(run->cmd));
	run->cmd.op = AG_POLL;
	for (f = 0; f < MINOR_MODEL_FILES && n < MODEL_FILES; f++) {
		const struct minor_model_file *file = &run->m.file[f];
		const struct fifo_model *fifo = &run->m.fifo[file->minor];

		if (!file->open || file->agent != a)
			continue;
		slot[n] = f;
		run->cmd.p[n].fd = -1;
		if (!fifo_model_readable(fifo) || !fifo_model_writable(fifo)) {
			run->cmd.p[n].fd = file->fd;
			run->cmd.p[n].events = fifo_model_readable(fifo) ?
					       POLLOUT : POLLIN;
			busy |= 1u << file->minor;
			waiting++;
		}
		n++;
	}
	if (!waiting)
		return;
	run->cmd.nfds = n;
	snprintf(what, sizeof(what), "agent %d polls %d of its files (minors 0x%x) with no timeout",
		 a, waiting, busy);
	fifo_model_history_add(&run->h, "step %d: %s -> sleeps", run->step,
			       what);
	run->cmd.announce = 1;
	if (!agent_send(run, a, what) ||
	    !model_expect_asleep(run, a, what,
				 "sleeps: none of those minors has what is asked") ||
	    !model_other_minor(run, busy, a, what))
		return;
	pick = (int)fifo_model_rng_below(&run->rng, (uint64_t)waiting);
	for (i = 0; i < n; i++)
		if (run->cmd.p[i].fd >= 0 && !pick--)
			break;
	if (!model_own_call(run, run->m.file[slot[i]].minor,
			    run->cmd.p[i].events == POLLIN,
			    1 + fifo_model_rng_below(&run->rng, FIFO_SIZE), a))
		return;
	if (!read_all_for(run->ag[a].reply, &run->reply, sizeof(run->reply),
			  MODEL_REPLY_MS)) {
		snprintf(m, sizeof(m), "woken by the test's %s on minor %d",
			 run->cmd.p[i].events == POLLIN ? "write" : "read",
			 run->m.file[slot[i]].minor);
		model_fail(run, what, m, "still asleep",
			   "a poller is woken by every read (room) and write (data) on the minors it polls: poll_wait() on both queues");
		return;
	}
	waiting = 0;
	for (i = 0; i < n; i++) {
		short want = 0;

		if (run->cmd.p[i].fd >= 0)
			want = minor_model_poll(&run->m,
						run->m.file[slot[i]].minor) &
			       run->cmd.p[i].events;
		waiting += !!want;
		if (want != run->reply.revents[i] && bad < 0)
			bad = i;
	}
	if (bad >= 0 || run->reply.ret != waiting) {
		i = bad >= 0 ? bad : 0;
		snprintf(m, sizeof(m), "returns %d; revents of fd %d: 0x%x",
			 waiting, run->cmd.p[i].fd,
			 run->cmd.p[i].fd >= 0 ?
			 minor_model_poll(&run->m, run->m.file[slot[i]].minor) &
			 run->cmd.p[i].events : 0);
		snprintf(d, sizeof(d), "returns %zd; revents of fd %d: 0x%x",
			 run->reply.ret, run->cmd.p[i].fd,
			 run->reply.revents[i]);
		model_fail(run, what, m, d,
			   "poll reports POLLIN exactly when the minor holds data and POLLOUT exactly when it has room");
		return;
	}
	fifo_model_history_add(&run->h, "step %d: ... woken, returns %d",
			       run->step, waiting);
}

/** @brief Step: an agent opens a minor (O_NONBLOCK or not; with
 *         run->one_way, O_RDONLY or O_WRONLY as often as O_RDWR).
 * @param run the sequence
 */
static void model_step_open(struct model_run *run)
{
	static const int accmodes[] = { O_RDWR, O_RDWR, O_RDONLY, O_WRONLY };
	static const char *const accnames[] = { "", "", " O_RDONLY",
						" O_WRONLY" };
	int a = (int)fifo_model_rng_below(&run->rng, MODEL_AGENTS);
	int minor = (int)fifo_model_rng_below(&run->rng, MODEL_MINORS);
	int nonblock = (int)fifo_model_rng_below(&run->rng, 2);
	int acc = run->one_way ? (int)fifo_model_rng_below(&run->rng, 4) : 0;
	int f, n = 0;
	char what[96], d[48];

	for (f = 0; f < MINOR_MODEL_FILES; f++)
		n += run->m.file[f].open && run->m.file[f].agent < MODEL_AGENTS;
	if (n >= MODEL_FILES)
		return;
	snprintf(what, sizeof(what), "agent %d opens %s%s%s", a, node(minor),
		 accnames[acc], nonblock ? " O_NONBLOCK" : "");
	memset(&run->cmd, 0, sizeof(run->cmd));
	run->cmd.op = AG_OPEN;
	run->cmd.minor = minor;
	run->cmd.flags = accmodes[acc] | (nonblock ? O_NONBLOCK : 0);
	if (!agent_send(run, a, what))
		return;
	fifo_model_history_add(&run->h, "step %d: %s -> fd %zd", run->step,
			       what, run->reply.ret);
	if (run->reply.ret < 0) {
		model_fail(run, what, "a descriptor",
			   fifo_model_describe_call(run->reply.ret,
						    run->reply.err, d,
						    sizeof(d)),
			   "every minor can be opened, any number of times");
		return;
	}
	f = minor_model_open(&run->m, minor, a, (int)run->reply.ret, nonblock);
	if (f >= 0)
		minor_model_set_access(&run->m, f, accmodes[acc]);
}

/** @brief Send a command that must succeed (close, fcntl).
 * @param run the sequence
 * @param f the file it is about
 * @param what the call
 * @return nonzero if it returned 0
 */
static int model_simple(struct model_run *run, int f, const char *what)
{
	char d[48];

	if (!agent_send(run, run->m.file[f].agent, what))
		return 0;
	fifo_model_history_add(&run->h, "step %d: %s -> %zd", run->step, what,
			       run->reply.ret);
	if (run->reply.ret == 0)
		return 1;
	model_fail(run, what, "0",
		   fifo_model_describe_call(run->reply.ret, run->reply.err, d,
					    sizeof(d)),
		   run->cmd.op == AG_SETFL ?
		   "setting or clearing O_ASYNC succeeds: .fasync returns fasync_helper()'s result, which is not an error" :
		   "close, F_SETOWN and F_SETSIG succeed");
	return 0;
}

/** @brief Step: an agent closes a file, or sets or clears O_NONBLOCK or
 *         (from stage 6 on) O_ASYNC, or changes the owner.
 * @param run the sequence
 * @param kind 0 close, 1 O_NONBLOCK, 2 O_ASYNC and its owner
 */
static void model_step_file(struct model_run *run, int kind)
{
	int f = model_pick_file(run), choice, owner, a;
	struct minor_model_file *file;
	char what[160];

	if (f < 0)
		return;
	file = &run->m.file[f];
	memset(&run->cmd, 0, sizeof(run->cmd));
	run->cmd.fd = file->fd;
	if (kind == 0) {
		snprintf(what, sizeof(what), "close %s", model_file_name(run, f));
		run->cmd.op = AG_CLOSE;
		if (model_simple(run, f, what))
			minor_model_close(&run->m, f);
		return;
	}
	run->cmd.op = AG_SETFL;
	if (kind == 1) {
		snprintf(what, sizeof(what), "%s O_NONBLOCK on %s",
			 file->nonblock ? "clear" : "set",
			 model_file_name(run, f));
		run->cmd.flags = (file->nonblock ? 0 : O_NONBLOCK) |
				 (file->async ? O_ASYNC : 0);
		if (model_simple(run, f, what))
			minor_model_set_nonblock(&run->m, f, !file->nonblock);
		return;
	}
	choice = (int)fifo_model_rng_below(&run->rng, 10);
	if (choice >= 7 && file->async) {
		snprintf(what, sizeof(what), "clear O_ASYNC on %s",
			 model_file_name(run, f));
		run->cmd.flags = file->nonblock ? O_NONBLOCK : 0;
		if (model_simple(run, f, what))
			minor_model_set_async(&run->m, f, 0);
		return;
	}
	/* F_SETOWN: mostly the agent itself, else another agent or the
	 * process group of agents 1 and 2. */
	a = (int)fifo_model_rng_below(&run->rng, 10);
	owner = a < 6 ? file->agent :
		a < 8 ? (int)fifo_model_rng_below(&run->rng, MODEL_AGENTS) :
			-1 - MODEL_GROUP;
	run->cmd.op = AG_OWNER;
	run->cmd.owner = owner >= 0 ? run->ag[owner].pid : -run->ag[1].pid;
	run->cmd.sig = run->sig;
	if (owner >= 0)
		snprintf(what, sizeof(what), "F_SETOWN agent %d, F_SETSIG on %s",
			 owner, model_file_name(run, f));
	else
		snprintf(what, sizeof(what), "F_SETOWN group of agents 1 and 2, F_SETSIG on %s",
			 model_file_name(run, f));
	if (!model_simple(run, f, what))
		return;
	minor_model_set_owner(&run->m, f, owner, run->sig);
	run->owners |= owner >= 0 ? 1u << owner : 1u << 1 | 1u << 2;
	if (file->async)
		return;
	snprintf(what, sizeof(what), "set O_ASYNC on %s",
		 model_file_name(run, f));
	run->cmd.op = AG_SETFL;
	run->cmd.flags = O_ASYNC | (file->nonblock ? O_NONBLOCK : 0);
	if (model_simple(run, f, what))
		minor_model_set_async(&run->m, f, 1);
}

/** @brief After each step: poll(), select() and both epolls agree with
 *         the model on every minor.
 * @param run the sequence
 */
static void model_check_readiness(struct model_run *run)
{
	const uint32_t all = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
	struct epoll_event ev[NDEV];
	struct pollfd p[NDEV];
	struct timeval now = { 0, 0 };
	char what[96], m[48], d[48];
	unsigned int seen = 0;
	fd_set rd, wr;
	int i, n, top = 0;

	for (i = 0; i < NDEV; i++) {
		p[i].fd = run->ofd[i];
		p[i].events = ALL_EVENTS;
		p[i].revents = 0;
	}
	n = poll(p, NDEV, 0);
	for (i = 0; i < NDEV; i++) {
		short want = minor_model_poll(&run->m, i);

		if (p[i].revents == want)
			continue;
		snprintf(what, sizeof(what), "poll(%s) with no wait, after the step",
			 node(i));
		snprintf(m, sizeof(m), "revents 0x%x (%zu bytes in it)",
			 want, fifo_model_len(&run->m.fifo[i]));
		snprintf(d, sizeof(d), "revents 0x%x", p[i].revents);
		model_fail(run, what, m, d,
			   "poll reports POLLIN | POLLRDNORM exactly when the minor holds data, POLLOUT | POLLWRNORM exactly when it has room, and nothing else");
		return;
	}
	if (n != NDEV) {
		snprintf(d, sizeof(d), "poll() returned %d", n);
		model_fail(run, "poll() on every minor with no wait", "8", d,
			   "every minor is readable or writable");
		return;
	}
	FD_ZERO(&rd);
	FD_ZERO(&wr);
	for (i = 0; i < NDEV; i++) {
		FD_SET(run->ofd[i], &rd);
		FD_SET(run->ofd[i], &wr);
		if (run->ofd[i] > top)
			top = run->ofd[i];
	}
	n = select(top + 1, &rd, &wr, NULL, &now);
	for (i = 0; i < NDEV; i++) {
		short want = minor_model_poll(&run->m, i);

		if (!!FD_ISSET(run->ofd[i], &rd) == !!(want & POLLIN) &&
		    !!FD_ISSET(run->ofd[i], &wr) == !!(want & POLLOUT))
			continue;
		snprintf(what, sizeof(what), "select(%s) with no wait, after the step",
			 node(i));
		snprintf(m, sizeof(m), "%sreadable, %swritable",
			 want & POLLIN ? "" : "not ", want & POLLOUT ? "" : "not ");
		snprintf(d, sizeof(d), "%sreadable, %swritable",
			 FD_ISSET(run->ofd[i], &rd) ? "" : "not ",
			 FD_ISSET(run->ofd[i], &wr) ? "" : "not ");
		model_fail(run, what, m, d,
			   "select() sees what .poll reports: readable with data, writable with room");
		return;
	}
	(void)n;
	n = epoll_wait(run->lt, ev, NDEV, 0);
	for (i = 0; i < n; i++) {
		int k = (int)ev[i].data.u32;
		uint32_t want = (uint32_t)minor_model_poll(&run->m, k) & all;

		seen |= 1u << k;
		if (ev[i].events == want)
			continue;
		snprintf(what, sizeof(what), "level-triggered epoll_wait() on %s, after the step",
			 node(k));
		snprintf(m, sizeof(m), "events 0x%x", want);
		snprintf(d, sizeof(d), "events 0x%x", ev[i].events);
		model_fail(run, what, m, d,
			   "epoll reports what .poll reports, while it holds");
		return;
	}
	if (seen != (1u << NDEV) - 1) {
		snprintf(d, sizeof(d), "minors 0x%x", seen);
		model_fail(run, "level-triggered epoll_wait() on every minor",
			   "all of them (each has data or room)", d,
			   "epoll reports what .poll reports, while it holds");
		return;
	}
	seen = 0;
	n = epoll_wait(run->et, ev, NDEV, 0);
	for (i = 0; i < n; i++)
		seen |= 1u << ev[i].data.u32;
	if ((seen & run->touched) != run->touched) {
		snprintf(m, sizeof(m), "at least minors 0x%x", run->touched);
		snprintf(d, sizeof(d), "minors 0x%x", seen);
		model_fail(run, "edge-triggered epoll_wait() on every minor, after the step",
			   m, d,
			   "every read or write that moves bytes wakes its minor's queue, which is a new edge for epoll (EPOLLET)");
		return;
	}
	run->touched = 0;
}

/** @brief After a step (stage 6 on): every agent received exactly the
 *         signals the model sent it.
 *
 * Every agent that F_SETOWN ever named is asked at once, and the replies
 * are read after: the agents take their signals in parallel, so a step
 * costs one wake-up of the agents, not one round trip per agent (under
 * emulation on a loaded host, a round trip costs milliseconds). An agent
 * no F_SETOWN named cannot receive a signal of the device: the model
 * sends it none, and it is not asked.
 * @param run the sequence
 */
static void model_check_signals(struct model_run *run)
{
	struct minor_model_signal want[MINOR_MODEL_SIGNALS];
	char what[64], m[512], d[512];
	unsigned int asked = 0;
	int a, n;

	memset(&run->cmd, 0, sizeof(run->cmd));
	run->cmd.op = AG_SIGNALS;
	for (a = 0; a < MODEL_AGENTS && !run->failed; a++) {
		if (!(run->owners >> a & 1))
			continue;
		if (!write_all(run->ag[a].cmd, &run->cmd, sizeof(run->cmd))) {
			asked |= 1u << a;
			continue;
		}
		snprintf(what, sizeof(what), "the signals agent %d received",
			 a);
		model_fail(run, what, "the agent takes the command",
			   "its command pipe is closed", "(the kit's own agent)");
	}
	for (a = 0; a < MODEL_AGENTS; a++) {
		n = minor_model_take_signals(&run->m, a, want);
		if (!(asked >> a & 1) || run->failed) {
			/* Not asked: the model sent it nothing either. */
			if (n && !run->failed)
				model_fail(run, "the model's signals",
					   "signals only for F_SETOWN's agents",
					   "a signal for another", "(the kit's own model)");
			/* An asked agent's reply must still be taken. */
			if (asked >> a & 1)
				read_all_for(run->ag[a].reply, &run->reply,
					     sizeof(run->reply), MODEL_REPLY_MS);
			continue;
		}
		snprintf(what, sizeof(what), "the signals agent %d received",
			 a);
		if (!read_all_for(run->ag[a].reply, &run->reply,
				  sizeof(run->reply), MODEL_REPLY_MS)) {
			snprintf(d, sizeof(d), "no reply within %d ms (state %c)",
				 MODEL_REPLY_MS,
				 task_state(run->ag[a].pid) ?: '0');
			model_fail(run, what, "a reply at once", d,
				   "(the kit's own agent: taking pending signals does not sleep)");
			continue;
		}
		if (minor_model_same_signals(want, n, run->reply.sig,
					     run->reply.nsig))
			continue;
		minor_model_describe_signals(want, n, m, sizeof(m));
		minor_model_describe_signals(run->reply.sig,
					     run->reply.nsig < MINOR_MODEL_SIGNALS ?
					     run->reply.nsig : MINOR_MODEL_SIGNALS,
					     d, sizeof(d));
		model_fail(run, what, m, d,
			   "after every write that adds data, kill_fasync(POLL_IN), after every read that takes data, kill_fasync(POLL_OUT), on the list of that minor only: each O_ASYNC file of it, whichever way it was opened, signals its owner once; calls that move nothing, cleared O_ASYNC and closed files signal nobody");
	}
}

/** @brief Start the agents of a sequence, agents 1 and 2 in one process
 *         group.
 * @param run the sequence
 * @return 0, or -1
 */
static int model_agents_start(struct model_run *run)
{
	int a, cmd[2], reply[2], ready[2];

	for (a = 0; a < MODEL_AGENTS; a++) {
		if (pipe(cmd) || pipe(reply) || pipe(ready))
			return -1;
		run->ag[a].pid = fork_detached();
		if (run->ag[a].pid < 0)
			return -1;
		if (run->ag[a].pid == 0) {
			int b;

			/* Only the test may hold the other agents' pipes:
			 * an agent ends when its command pipe closes. */
			for (b = 0; b < a; b++) {
				close(run->ag[b].cmd);
				close(run->ag[b].reply);
				close(run->ag[b].ready);
			}
			close(cmd[1]);
			close(reply[0]);
			close(ready[0]);
			agent_main(cmd[0], reply[1], ready[1], run->sig);
		}
		close(cmd[0]);
		close(reply[1]);
		close(ready[1]);
		run->ag[a].cmd = cmd[1];
		run->ag[a].reply = reply[0];
		run->ag[a].ready = ready[0];
	}
	if (setpgid(run->ag[1].pid, run->ag[1].pid) ||
	    setpgid(run->ag[2].pid, run->ag[1].pid))
		return -1;
	minor_model_set_group(&run->m, 1, MODEL_GROUP);
	minor_model_set_group(&run->m, 2, MODEL_GROUP);
	return 0;
}

/** @brief End the agents: close their command pipes (they exit), reap
 *         them, and kill those that do not end.
 * @param run the sequence
 */
static void model_agents_stop(struct model_run *run)
{
	int a, status;

	for (a = 0; a < MODEL_AGENTS; a++) {
		if (run->ag[a].pid <= 0)
			continue;
		close(run->ag[a].cmd);
		if (wait_for_child(run->ag[a].pid, &status, 1000)) {
			kill(run->ag[a].pid, SIGKILL);
			waitpid(run->ag[a].pid, NULL, 0);
		}
		close(run->ag[a].reply);
		close(run->ag[a].ready);
		run->ag[a].pid = 0;
	}
}

/** @brief Run one sequence of MODEL_STEPS steps with seed @p seed, on the
 *         emptied minors behind @p ofd.
 * @param _metadata the harness's test
 * @param run the sequence's state (zeroed here)
 * @param ofd the test's O_NONBLOCK descriptors, one per minor
 * @param seed the seed
 * @param one_way nonzero: agents also open minors O_RDONLY and O_WRONLY
 */
static void model_run_sequence(struct __test_metadata *_metadata,
			       struct model_run *run, int *ofd, uint64_t seed,
			       int one_way)
{
	struct epoll_event ev[NDEV];
	int i, kind;

	memset(run, 0, sizeof(*run));
	run->meta = _metadata;
	run->seed = seed;
	run->one_way = one_way;
	run->ofd = ofd;
	run->sig = SIGRTMIN + 1;
	fifo_model_rng_seed(&run->rng, seed);
	ASSERT_EQ(0, minor_model_init(&run->m, NDEV, FIFO_SIZE, FIFO_STAGE,
				      MODEL_AGENTS + 1));
	run->lt = epoll_create1(0);
	run->et = epoll_create1(0);
	ASSERT_LE(0, run->lt);
	ASSERT_LE(0, run->et);
	for (i = 0; i < NDEV; i++) {
		struct epoll_event lt = {
			.events = EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM,
			.data.u32 = (uint32_t)i,
		};
		struct epoll_event et = {
			.events = EPOLLIN | EPOLLOUT | EPOLLET,
			.data.u32 = (uint32_t)i,
		};

		drain_all(ofd[i]);
		run->oslot[i] = minor_model_open(&run->m, i, MODEL_AGENTS,
						 ofd[i], 1);
		ASSERT_EQ(0, epoll_ctl(run->lt, EPOLL_CTL_ADD, ofd[i], &lt));
		ASSERT_EQ(0, epoll_ctl(run->et, EPOLL_CTL_ADD, ofd[i], &et));
	}
	/* The first edge of each minor is its registration. */
	epoll_wait(run->et, ev, NDEV, 0);
	ASSERT_EQ(0, model_agents_start(run));
	for (run->step = 0; run->step < MODEL_STEPS && !run->failed;
	     run->step++) {
		kind = (int)fifo_model_rng_below(&run->rng, 100);
		if (kind < 10)
			model_step_open(run);
		else if (kind < 15)
			model_step_file(run, 0);
		else if (kind < 22)
			model_step_file(run, 1);
		else if (kind < 32 && FIFO_STAGE >= 6)
			model_step_file(run, 2);
		else if (kind < 38)
			model_step_poll_wait(run);
		else
			model_step_transfer(run);
		if (!run->failed)
			model_check_readiness(run);
		if (!run->failed && FIFO_STAGE >= 6)
			model_check_signals(run);
	}
	model_agents_stop(run);
	close(run->lt);
	close(run->et);
	minor_model_destroy(&run->m);
}

/** @brief Run the sequence of each seed of @p seeds in turn, until one
 *         fails; with SEED= (LABKIT_SEED) set, only that seed's.
 * @param _metadata the harness's test
 * @param ofd the test's O_NONBLOCK descriptors, one per minor
 * @param seeds the grading seeds
 * @param n how many
 * @param one_way passed on to model_run_sequence()
 */
static void model_run_seeds(struct __test_metadata *_metadata, int *ofd,
			    const uint64_t *seeds, unsigned int n, int one_way)
{
	static struct model_run run;
	const char *env = getenv("LABKIT_SEED");
	unsigned int i;

	if (env && *env)
		n = 1;
	for (i = 0; i < n && !run.failed; i++)
		model_run_sequence(_metadata, &run, ofd,
				   fifo_model_seed(seeds[i]), one_way);
}

/** @brief The grading seeds of matches_the_model. */
static const uint64_t model_seeds[] = { 5061, 5062, 5063, 5064 };

/** @brief Seeded random sequences of opens, closes, fcntl()s, reads and
 *         writes of every size, sleeping calls and polls over several
 *         minors, descriptors and processes give, call by call, what
 *         the model gives; so do poll, select and epoll after each step
 *         and, from stage 6 on, the signals each process receives. */
TEST_F_TIMEOUT(minors, matches_the_model, 120)
{
	model_run_seeds(_metadata, self->fd, model_seeds,
			sizeof(model_seeds) / sizeof(model_seeds[0]), 0);
}

/** @brief The grading seeds of
 *         matches_the_model_with_read_only_and_write_only_opens. */
static const uint64_t one_way_seeds[] = { 5071, 5072 };

/** @brief The same random sequences, with files opened O_RDONLY and
 *         O_WRONLY as often as O_RDWR: a minor works the same whichever
 *         way it was opened, poll() reports its data and its room to
 *         every file, and every file with O_ASYNC is on the one list of
 *         its minor and gets both POLL_IN and POLL_OUT, whatever its
 *         access mode. */
TEST_F_TIMEOUT(minors, matches_the_model_with_read_only_and_write_only_opens,
	       120)
{
	model_run_seeds(_metadata, self->fd, one_way_seeds,
			sizeof(one_way_seeds) / sizeof(one_way_seeds[0]), 1);
}

/** @brief The grading seed of matches_the_model_as_an_unprivileged_user. */
static const uint64_t nobody_seeds[] = { 5081 };

/** @brief The nodes are mode 0666: any user makes every call as root
 *         does. One sequence of matches_the_model, made by an ordinary
 *         user (nobody.h): uid 65534, no capability, in the test process
 *         and in every process it starts (from stage 6 on, the owners
 *         that O_ASYNC signals too). A driver that checks a capability or
 *         a user id anywhere (.fasync refusing a file without CAP_KILL,
 *         say) answers otherwise than the model.
 */
TEST_F_TIMEOUT(minors, matches_the_model_as_an_unprivileged_user, 120)
{
	char msg[160];

	ASSERT_EQ(0, nobody_become(msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	model_run_seeds(_metadata, self->fd, nobody_seeds,
			sizeof(nobody_seeds) / sizeof(nobody_seeds[0]), 0);
}

/** @brief Check that the module, loaded with ndevices=@p n, has exactly
 *         minors 0 to @p n - 1, each a working FIFO of its own of
 *         @p size bytes.
 * @param _metadata the harness's test
 * @param n the number of devices
 * @param size the capacity of each FIFO (fifo_size)
 * @param params the parameters it was loaded with, for messages
 */
static void expect_devices(struct __test_metadata *_metadata, int n,
			   int size, const char *params)
{
	char value[16], buf[16], want[16], fill[FIFO_SIZE + 1];
	struct leftovers l;
	ssize_t took;
	int i, fd;

	count_leftovers(&l);
	EXPECT_EQ(n, l.nodes) {
		TH_LOG("loaded with %s: %d nodes %s0 and on, not %d",
		       params, l.nodes, node(0), n);
	}
	EXPECT_EQ(n, l.sysfs) {
		TH_LOG("loaded with %s: %d devices in /sys/class/misc, not %d",
		       params, l.sysfs, n);
	}
	EXPECT_EQ(0, read_param("ndevices", value, sizeof(value)));
	EXPECT_EQ(n, atoi(value)) {
		TH_LOG("loaded with %s, ndevices reads \"%s\"", params, value);
	}
	/* Each minor holds its own bytes: write each its number, then read
	 * every one back through a new open. */
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "m%d", i);
		fd = open(node(i), O_WRONLY | O_NONBLOCK);
		EXPECT_LE(0, fd) {
			TH_LOG("loaded with %s, cannot open %s: %s", params,
			       node(i), strerror(errno));
		}
		if (fd < 0)
			return;
		EXPECT_EQ((ssize_t)strlen(want),
			  write(fd, want, strlen(want)));
		close(fd);
	}
	for (i = 0; i < n; i++) {
		ssize_t got;

		snprintf(want, sizeof(want), "m%d", i);
		fd = open(node(i), O_RDONLY | O_NONBLOCK);
		ASSERT_LE(0, fd);
		memset(buf, 0, sizeof(buf));
		got = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		EXPECT_EQ((ssize_t)strlen(want), got);
		EXPECT_STREQ(want, buf) {
			TH_LOG("loaded with %s, %s gave back \"%s\", not what was written to it (\"%s\"): each minor needs its own FIFO, found from the file it was opened through",
			       params, node(i), buf, want);
		}
	}
	/* Every minor holds fifo_size bytes. */
	memset(fill, 'c', sizeof(fill));
	for (i = 0; i < n; i++) {
		fd = open(node(i), O_RDWR | O_NONBLOCK);
		ASSERT_LE(0, fd);
		took = write(fd, fill, (size_t)size + 1);
		EXPECT_EQ(size, took) {
			TH_LOG("loaded with %s, %s took %zd bytes when empty, not %d: every minor's FIFO has fifo_size bytes",
			       params, node(i), took, size);
		}
		drain_all(fd);
		close(fd);
	}
}

/** @brief Unload the module and check that it left nothing behind.
 * @param _metadata the harness's test
 * @param loaded_with its parameters, for messages
 * @return nonzero if it unloaded and nothing is left
 */
static int unload_and_check(struct __test_metadata *_metadata,
			    const char *loaded_with)
{
	struct leftovers l;
	int err = module_unload_when_free(FIFO_MODULE, 5000);

	EXPECT_EQ(0, err) {
		TH_LOG("cannot unload " FIFO_MODULE " (loaded with %s): %s",
		       loaded_with, strerror(err));
	}
	if (err)
		return 0;
	count_leftovers(&l);
	EXPECT_EQ(0, l.nodes + l.sysfs + l.procfs) {
		TH_LOG("after rmmod of " FIFO_MODULE " loaded with %s, %d nodes, %d /sys/class/misc entries and %d /proc/misc lines are left, e.g. %s (rule: exit deregisters every device it registered)",
		       loaded_with, l.nodes, l.sysfs, l.procfs, l.first);
	}
	EXPECT_NE(0, access("/sys/module/" FIFO_MODULE, F_OK));
	return !(l.nodes + l.sysfs + l.procfs);
}

/** @brief ndevices: 1 to 32 make exactly that many devices, each with a
 *         FIFO of fifo_size bytes; anything else makes the load fail with
 *         EINVAL and leaves nothing behind. */
TEST_F_TIMEOUT(module, ndevices_param, 30)
{
	/* A uint's whole range reaches init, which refuses what is out of
	 * 1 to 32: an int parameter would give ERANGE for the two largest. */
	const char *bad[] = { "ndevices=0", "ndevices=33", "ndevices=1000",
			      "ndevices=2147483648", "ndevices=4294967295" };
	static const struct {
		int n, size;
	} good[] = { { 1, 64 }, { 32, 64 }, { 3, 16 } };
	char params[48];
	struct leftovers l;
	unsigned int i;
	int err;

	ASSERT_EQ(0, module_unload_when_free(FIFO_MODULE, 5000)) {
		TH_LOG("cannot unload " FIFO_MODULE ": %s", strerror(errno));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = try_params(bad[i]);
		EXPECT_EQ(EINVAL, err) {
			TH_LOG("%s: init must refuse it with -EINVAL (rule: ndevices is a uint, 1 to 32), not %s",
			       bad[i], err ? strerror(err) : "load it");
			if (err == ERANGE)
				TH_LOG("ERANGE comes from the kernel's parsing of the value, before init runs: is ndevices declared as an int instead of a uint (module_param(ndevices, uint, 0444))?");
		}
		count_leftovers(&l);
		EXPECT_EQ(0, l.nodes + l.sysfs + l.procfs) {
			TH_LOG("after the load with %s, %s is still there: a failed init undoes everything it did",
			       bad[i], l.first);
		}
		EXPECT_NE(0, access("/sys/module/" FIFO_MODULE, F_OK));
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(params, sizeof(params), "ndevices=%d fifo_size=%d",
			 good[i].n, good[i].size);
		err = module_load(FIFO_MODULE, params);
		EXPECT_EQ(0, err) {
			TH_LOG("%s must load (rule: 1 to 32): %s", params,
			       strerror(err));
		}
		if (err)
			continue;
		expect_devices(_metadata, good[i].n, good[i].size, params);
		if (!unload_and_check(_metadata, params))
			break;
	}
	/* Past a uint's range the kernel's parsing refuses it: ERANGE. */
	err = try_params("ndevices=4294967296");
	EXPECT_EQ(ERANGE, err) {
		TH_LOG("ndevices=4294967296: the load must fail with ERANGE from the kernel's parsing of a uint, not %s (rule: ndevices is a uint; a wider type, e.g. ulong, lets the value reach init)",
		       err ? strerror(err) : "succeed");
	}
	count_leftovers(&l);
	EXPECT_EQ(0, l.nodes + l.sysfs + l.procfs);
	EXPECT_EQ(0, module_load(FIFO_MODULE, ""));
}

/** @brief rmmod removes every node, class entry and /proc/misc line, and
 *         the module loads again with all its devices working. */
TEST_F_TIMEOUT(module, unload_leaves_nothing_behind, 60)
{
	long long before = -1;
	int round, err;

	for (round = 0; round < 3; round++) {
		if (!unload_and_check(_metadata, "its defaults"))
			return;
		if (!round)
			before = reload_checks_orphans_at_rest();
		err = module_load(FIFO_MODULE, "");
		ASSERT_EQ(0, err) {
			TH_LOG("after rmmod, " FIFO_MODULE " does not load again: %s (a device left registered makes the next misc_register() fail)",
			       strerror(err));
		}
		expect_devices(_metadata, NDEV, FIFO_SIZE, "its defaults");
	}
	/* What those loads and opens allocated is given back. */
	if (!unload_and_check(_metadata, "its defaults"))
		return;
	expect_no_leftovers(_metadata, FIFO_MODULE, before,
			    "three loads and unloads, with every minor opened, written, read and closed",
			    1);
}

/** @brief A load and an unload of the module that succeed log no error
 *         (Lab 04's rule): nothing the kernel log gets while the module
 *         is unloaded and loaded again is at KERN_ERR or more severe,
 *         with every FIFO empty at the unload, and with minor 0 holding
 *         a few bytes and the last minor full (an exit that reports the
 *         bytes it drops with pr_err() breaks the rule too). */
TEST_F_TIMEOUT(module, load_and_unload_log_no_error, 30)
{
	char msg[1024], node[64], data[FIFO_SIZE];
	int round;

	memset(data, 'k', sizeof(data));
	for (round = 0; round < 2; round++) {
		if (round) {
			snprintf(node, sizeof(node), MINOR_NODE_FMT, 0);
			/* Other tests check the writes; this one, the log. */
			if (fifo_node_hold(node, data, 10))
				TH_LOG("(could not leave 10 bytes in %s: %s; the unload is checked with what it holds)",
				       node, strerror(errno));
			snprintf(node, sizeof(node), MINOR_NODE_FMT, NDEV - 1);
			if (fifo_node_hold(node, data, FIFO_SIZE))
				TH_LOG("(could not fill %s: %s; the unload is checked with what it holds)",
				       node, strerror(errno));
		}
		EXPECT_EQ(0, kmsg_check_reload(FIFO_MODULE, msg,
					       sizeof(msg))) {
			TH_LOG("unloaded %s: %s", round ?
			       "while minor 0 held 10 bytes and the last minor was full" :
			       "with every FIFO empty", msg);
		}
	}
}

/** @brief One step of a_failed_registration_fails_the_load, a
 *         reload_checks_step: a second copy of the module, with 32 minors
 *         of 64 KiB (2 MiB of FIFOs, allocated before the registrations),
 *         loaded while the module is (module_copy.h), must fail with
 *         EEXIST and leave no module behind.
 * @param arg unused
 * @param i the step's number
 * @param msg what went wrong
 * @param msg_size the size of @p msg
 * @return 0, or EPROTO with @p msg filled in
 */
static int refused_copy_step(void *arg, unsigned int i, char *msg,
			     size_t msg_size)
{
	(void)arg;
	(void)i;
	if (module_copy_expect_refused_with(FIFO_MODULE,
					    "ndevices=32 fifo_size=65536",
					    "misc_register() of its minor 0",
					    FAILED_REGISTRATION_RULE, msg,
					    msg_size))
		return EPROTO;
	return 0;
}

/** @brief The minor whose device name the name taker takes: one after
 *         minor 0, so that minors 0 to 2 are registered when its
 *         registration fails. */
#define TAKEN_MINOR 3
/** @brief The parameters of a load whose minor TAKEN_MINOR's name is
 *         taken: 8 FIFOs of 64 KiB, allocated before the registrations. */
#define TAKEN_MINOR_PARAMS "ndevices=8 fifo_size=65536"
/** @brief The rule a load whose minor TAKEN_MINOR's name is taken
 *         checks. */
#define UNWIND_MINORS_RULE "rule: a registration that fails makes the load fail: init undoes in reverse what it did before, the minors registered so far included, down to minor 0, and the live view"

/** @brief What taken_minor_step() found left behind by a failed load
 *         that makes going on unsafe. */
struct taken_minor {
	/** @brief The first minor left registered by a failed load, with
	 *         what is left of it, or its debugfs directory ("" when
	 *         neither was). */
	char leftover[160];
	/** @brief Why the tests cannot go on with it, for tests_stop.h. */
	const char *why;
};

/** @brief Find what is left of the minors, other than TAKEN_MINOR (the
 *         name taker's), of a load with 8 minors that failed: a node
 *         /dev/NAMEk or a /sys/class/misc/NAMEk.
 * @param what where the first minor found goes, with what is left of it
 *        ("" when none)
 * @param size the size of @p what
 */
static void find_taken_minor_leftover(char *what, size_t size)
{
	char path[64];
	int k;

	what[0] = '\0';
	for (k = 0; k < NDEV && !what[0]; k++) {
		if (k == TAKEN_MINOR)
			continue;
		snprintf(path, sizeof(path), "/sys/class/misc/%s",
			 node_name(k));
		if (access(node(k), F_OK) == 0)
			snprintf(what, size, "minor %d (%s is still there)", k,
				 node(k));
		else if (access(path, F_OK) == 0)
			snprintf(what, size, "minor %d (%s is still there)", k,
				 path);
	}
}

/** @brief One step of a_failed_registration_fails_the_load, a
 *         reload_checks_step: with minor TAKEN_MINOR's device name taken
 *         by the kit's name taker, a load of the module with
 *         TAKEN_MINOR_PARAMS must fail with EEXIST, the error of the
 *         registration that finds the name taken, and leave nothing: no
 *         module, and nothing of the minors registered before that one.
 * @param arg the struct taken_minor, where a leftover is noted
 * @param i the step's number
 * @param msg what went wrong
 * @param msg_size the size of @p msg
 * @return 0, or EPROTO with @p msg filled in (EIO: /dev/kmsg cannot be
 *         written)
 */
static int taken_minor_step(void *arg, unsigned int i, char *msg,
			    size_t msg_size)
{
	struct taken_minor *t = arg;
	const char *left = "";
	int err, stuck;

	(void)i;
	err = module_copy_framed_load(FIFO_MODULE, TAKEN_MINOR_PARAMS);
	if (err < 0) {
		snprintf(msg, msg_size, "cannot write to /dev/kmsg: %s",
			 strerror(errno));
		return EIO;
	}
	if (!err) {
		stuck = module_unload_when_free(FIFO_MODULE, 5000);
		snprintf(msg, msg_size,
			 "loaded with " TAKEN_MINOR_PARAMS " while the name %s was taken (by the kit's name taker), " FIFO_MODULE " loaded: misc_register() of minor %d fails with EEXIST, and init went on as if it had worked (was its result ignored?)%s; %s",
			 node_name(TAKEN_MINOR), TAKEN_MINOR,
			 stuck ? ", and it does not unload" : "",
			 UNWIND_MINORS_RULE);
		return EPROTO;
	}
	/* Before anything else: a minor left registered is one whose
	 * memory init freed, still on the kernel's list of misc devices. */
	find_taken_minor_leftover(t->leftover, sizeof(t->leftover));
	if (t->leftover[0]) {
		t->why = "registered, its memory freed: the kernel's list of misc devices goes through freed memory, and every later registration, deregistration or open of a misc device follows it";
		left = "registered, while the module and its devices are gone";
	} else if (!reload_checks_debugfs_gone(FIFO_MODULE)) {
		/* The live view init made before the registrations. */
		snprintf(t->leftover, sizeof(t->leftover),
			 "its debugfs directory /sys/kernel/debug/" FIFO_MODULE);
		t->why = "behind, its file's code gone with the module: reading the live view would run freed code";
		left = "behind, while the module is gone (debugfs_remove_recursive() on init's error path)";
	}
	if (t->why) {
		snprintf(msg, msg_size,
			 "the load with " TAKEN_MINOR_PARAMS ", whose minor %d's name %s was taken (by the kit's name taker), failed (%s), but left %s %s; %s",
			 TAKEN_MINOR, node_name(TAKEN_MINOR), strerror(err),
			 t->leftover, left, UNWIND_MINORS_RULE);
		return EPROTO;
	}
	if (err != EEXIST) {
		snprintf(msg, msg_size,
			 "the load with " TAKEN_MINOR_PARAMS ", whose minor %d's name %s was taken (by the kit's name taker), failed with %s, not EEXIST: the error of misc_register() for a name that is taken; init returns that error as it is; %s",
			 TAKEN_MINOR, node_name(TAKEN_MINOR), strerror(err),
			 UNWIND_MINORS_RULE);
		return EPROTO;
	}
	if (module_copy_listed(FIFO_MODULE)) {
		snprintf(msg, msg_size,
			 "the failed load with " TAKEN_MINOR_PARAMS " (minor %d's name taken) left module " FIFO_MODULE " in /proc/modules; %s",
			 TAKEN_MINOR, UNWIND_MINORS_RULE);
		return EPROTO;
	}
	return 0;
}

/** @brief The part of a_failed_registration_fails_the_load that makes a
 *         later registration fail: with the name of minor TAKEN_MINOR
 *         taken by the kit's name taker (name_taker.h), five loads with
 *         TAKEN_MINOR_PARAMS (one to warm the caches up, four measured)
 *         must each fail with EEXIST and leave nothing: no module, no
 *         node or /sys/class/misc entry of minors 0 to 2, which were
 *         registered before minor 3 failed, and not their 512 KiB of
 *         FIFOs (reload_checks_steps_free()), nor the debugfs directory
 *         init made before the registrations. A minor left registered is
 *         on the kernel's list of misc devices with its memory freed: the
 *         next registration of any misc device writes into that memory,
 *         so the tests stop there (tests_stop.h), and the name taker,
 *         beside it on that list, stays loaded; a debugfs directory left
 *         behind holds a file whose code is gone, which the live view's
 *         tests would read: the tests stop there too. Otherwise the name
 *         taker goes, and the module must load again with its defaults,
 *         every minor working.
 * @param _metadata the test
 */
static void expect_taken_minor_refused(struct __test_metadata *_metadata)
{
	struct taken_minor t = { "", NULL };
	char msg[2048];
	int err, i;

	/* Where a live view left behind would show. */
	err = reload_checks_debugfs_dir(FIFO_MODULE, msg, sizeof(msg));
	if (err)
		TH_LOG("(debugfs cannot be mounted: %s; a live view that a failed load leaves behind is not looked for)",
		       strerror(err));

	err = module_unload_when_free(FIFO_MODULE, 5000);
	EXPECT_EQ(0, err) {
		TH_LOG("cannot unload " FIFO_MODULE " to load it with minor %d's name taken: %s",
		       TAKEN_MINOR, strerror(err));
	}
	if (err)
		return;
	err = name_taker_load(NULL, node_name(TAKEN_MINOR), msg, sizeof(msg));
	EXPECT_EQ(0, err) {
		TH_LOG("with " FIFO_MODULE " unloaded, %s", msg);
	}
	if (!err) {
		err = reload_checks_steps_free("refused loads with minor 3's name taken",
					       taken_minor_step, &t,
					       NDEV * 65536, 4, msg,
					       sizeof(msg));
		TH_LOG("%s", msg);
		EXPECT_EQ(0, err) {
			if (err < 0)
				TH_LOG("%s; the kernel kept about the 512 KiB of FIFOs of every load refused at minor %d (the FIFOs not freed on init's error path?)",
				       UNWIND_MINORS_RULE, TAKEN_MINOR);
		}
		if (t.why)
			tests_stop_after_thisf(_metadata->name,
					       "a load that failed at minor %d left %s %s",
					       TAKEN_MINOR, t.leftover, t.why);
		err = name_taker_unload();
		EXPECT_EQ(0, err) {
			TH_LOG("the kit's name taker does not unload: %s",
			       strerror(err));
		}
	}
	err = module_load(FIFO_MODULE, "");
	EXPECT_EQ(0, err) {
		TH_LOG("with minor %d's name given back, " FIFO_MODULE " does not load again: %s",
		       TAKEN_MINOR, strerror(err));
	}
	for (i = 0; !err && i < NDEV; i++) {
		EXPECT_EQ(0, node_round_trip(node(i), msg, sizeof(msg))) {
			TH_LOG("loaded again after the loads with minor %d's name taken, %s",
			       TAKEN_MINOR, msg);
		}
	}
}

/** @brief A registration that fails makes the load fail (Lab 04's rule,
 *         for every minor's registration): a second copy of the module,
 *         loaded five times under another module name while the module
 *         is loaded (module_copy.h), with 32 minors of 64 KiB, registers
 *         minor 0's device, whose name is taken; misc_register() fails
 *         with EEXIST, and so must each load, leaving no module behind
 *         and giving back the copy's 2 MiB of FIFOs. Every minor of the
 *         module goes on working. A failure of debugfs alone does not
 *         fail the load (expect_loads_without_its_view()); and a load
 *         whose minor 3 finds its name taken fails and undoes the
 *         registrations of minors 0 to 2 (expect_taken_minor_refused()).
 */
TEST_F_TIMEOUT(module, a_failed_registration_fails_the_load, 120)
{
	char msg[1024];
	int err, i;

	err = reload_checks_steps_free("refused loads of a second copy",
				       refused_copy_step, NULL, 32 * 65536, 4,
				       msg, sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, err) {
		if (err < 0)
			TH_LOG("%s; the kernel kept about the copy's 2 MiB of FIFOs at every failed load (the FIFOs not freed on init's error path?)",
			       FAILED_REGISTRATION_RULE);
	}
	for (i = 0; i < NDEV; i++)
		expect_node_still_works(_metadata, node(i));
	expect_loads_without_its_view(_metadata, node, NDEV);
	/* Last: a driver that fails it stops the tests. */
	expect_taken_minor_refused(_metadata);
}

/** @brief The paths a load of the module that failed must not leave:
 *         every minor's node and /sys/class/misc entry (minor_lab_init()
 *         fills them in). */
static char minor_gone_paths[2 * NDEV][48];
/** @brief minor_gone_paths, NULL-terminated, for alloc_failures.h. */
static const char *minor_gone[2 * NDEV + 1];

/** @brief The module works: every minor's FIFO takes 2 bytes and gives
 *         them back, an alloc_failures_lab's works.
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int minors_work(char *msg, size_t msg_size)
{
	int i;

	for (i = 0; i < NDEV; i++)
		if (node_round_trip(node(i), msg, msg_size))
			return -1;
	return 0;
}

/** @brief The module, for alloc_failures.h (minor_gone is filled in by
 *         minor_lab_init()). */
static const struct alloc_failures_lab minor_lab = {
	.module = FIFO_MODULE,
	.gone = minor_gone,
	.works = minors_work,
};

/** @brief Fill minor_gone in. */
static void minor_lab_init(void)
{
	int i;

	for (i = 0; i < NDEV; i++) {
		snprintf(minor_gone_paths[2 * i], sizeof(minor_gone_paths[0]),
			 "%s", node(i));
		snprintf(minor_gone_paths[2 * i + 1],
			 sizeof(minor_gone_paths[0]), "/sys/class/misc/%s",
			 node_name(i));
		minor_gone[2 * i] = minor_gone_paths[2 * i];
		minor_gone[2 * i + 1] = minor_gone_paths[2 * i + 1];
	}
	minor_gone[2 * NDEV] = NULL;
}

#if FIFO_STAGE >= 6
/** @brief The rule the O_ASYNC part of
 *         a_failed_allocation_fails_the_load_or_open checks. */
#define ASYNC_ALLOC_RULE "rule: .fasync returns what fasync_helper() returns: when it cannot allocate, setting O_ASYNC fails with ENOMEM and the file gets no signal; when it can, every write sends one"

/** @brief What the O_ASYNC sweep works on. */
struct async_sweep {
	/** @brief The file whose O_ASYNC is set: this process owns its
	 *         signals (F_SETOWN, F_SETSIG), O_ASYNC clear between tries. */
	int fd;
	/** @brief Another file of the same minor, which writes and reads. */
	int other;
};

/** @brief The sweep's call: set O_ASYNC on the file, a fail_nth_call.
 * @param arg the struct async_sweep
 * @return fcntl()'s result
 */
static long async_set_call(void *arg)
{
	const struct async_sweep *a = arg;
	int fl = fcntl(a->fd, F_GETFL);

	if (fl < 0)
		return fl;
	return fcntl(a->fd, F_SETFL, fl | O_ASYNC);
}

/** @brief The sweep's check after setting O_ASYNC, a fail_nth_check: a
 *         byte written by the other file sends the file exactly one
 *         POLL_IN if the fcntl() worked, nothing if it failed (with
 *         ENOMEM); the byte is read back, O_ASYNC cleared again.
 * @param arg the struct async_sweep
 * @param t the fcntl()
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int async_set_check(void *arg, const struct fail_nth_try *t,
			   char *msg, size_t msg_size)
{
	const struct async_sweep *a = arg;
	struct sigio_count c;
	char byte, got[64];
	int due = t->ret == 0, fl;

	if (t->ret < 0 && !t->failed) {
		snprintf(msg, msg_size,
			 "setting O_ASYNC on %s failed (%s) although none of its allocations was made to fail",
			 node(0), strerror(t->err));
		return -1;
	}
	if (t->ret < 0 && t->err != ENOMEM) {
		snprintf(msg, msg_size,
			 "setting O_ASYNC on %s with its allocation %u made to fail failed with %s, not ENOMEM; %s",
			 node(0), t->n, strerror(t->err), ASYNC_ALLOC_RULE);
		return -1;
	}
	sigio_count_take(a->fd, &c);
	if (write(a->other, "a", 1) != 1) {
		snprintf(msg, msg_size, "a write of 1 byte to %s failed: %s",
			 node(0), strerror(errno));
		return -1;
	}
	sigio_count_take(a->fd, &c);
	if (c.in != due) {
		snprintf(msg, msg_size,
			 "setting O_ASYNC on %s with its allocation %u made to fail %s, and a write of 1 byte by another file then sent it %s, not %s; %s",
			 node(0), t->n,
			 due ? "succeeded" : "failed with ENOMEM",
			 sigio_count_describe(&c, got, sizeof(got)),
			 due ? "1 POLL_IN" : "nothing", ASYNC_ALLOC_RULE);
		return -1;
	}
	while (read(a->other, &byte, 1) == 1)
		;
	sigio_count_take(a->fd, &c);
	fl = fcntl(a->fd, F_GETFL);
	if (fl >= 0 && (fl & O_ASYNC) && sigio_count_async_off(a->fd)) {
		snprintf(msg, msg_size, "clearing O_ASYNC on %s failed: %s",
			 node(0), strerror(errno));
		return -1;
	}
	return 0;
}

/** @brief Set O_ASYNC on a file of minor 0 with each allocation of the
 *         fcntl() made to fail in turn (fasync_helper()'s): each such
 *         fcntl() fails with ENOMEM and the file gets no signal; one that
 *         works gets one per write.
 * @param _metadata the test
 */
static void expect_async_alloc_failures(struct __test_metadata *_metadata)
{
	struct async_sweep a;
	unsigned int tries;
	char msg[1024];

	ASSERT_EQ(0, sigio_count_block());
	a.fd = open(node(0), O_RDWR | O_NONBLOCK);
	a.other = open(node(0), O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, a.fd);
	ASSERT_LE(0, a.other);
	ASSERT_EQ(0, fcntl(a.fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(a.fd, F_SETSIG, sigio_count_signal()));
	EXPECT_EQ(0, fail_nth_each(async_set_call, async_set_check, &a,
				   &tries, msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	TH_LOG("(%u settings of O_ASYNC, all but the last with one allocation made to fail)",
	       tries);
	close(a.other);
	close(a.fd);
}
#endif

/** @brief A load or an open whose allocation fails fails with ENOMEM and
 *         leaves everything as it was (alloc_failures.h, Lab 04's rule
 *         for every minor): each allocation an open of minor 0 makes,
 *         then (Lab 06) each one setting O_ASYNC makes
 *         (expect_async_alloc_failures()), then each one a load of the
 *         module makes (the devices, every
 *         minor's FIFO, the debugfs files, those inside each
 *         misc_register()), is made to fail in turn, one call each. A
 *         failed load leaves no module, node, sysfs entry, debugfs
 *         directory or object its code allocated; a load that still
 *         works must give working minors. Only the debug kernel
 *         (KVER=debug) can make allocations fail; on Debian's kernels
 *         there is nothing to check. */
TEST_F_TIMEOUT(module, a_failed_allocation_fails_the_load_or_open, 300)
{
	char node0[48];

	minor_lab_init();
	/* A copy: node() returns the same buffer for every minor. */
	snprintf(node0, sizeof(node0), "%s", node(0));
	if (!expect_open_alloc_failures(_metadata, &minor_lab, node0,
					O_RDWR | O_NONBLOCK))
		return;
#if FIFO_STAGE >= 6
	expect_async_alloc_failures(_metadata);
#endif
	expect_load_alloc_failures(_metadata, &minor_lab, "");
}

/** @brief Minor 0 works from the moment its node appears, while the
 *         load that made it is still in init, registering the others
 *         (expect_works_the_moment_its_node_appears()).
 */
TEST_F_TIMEOUT(module, works_the_moment_its_node_appears, 30)
{
	expect_works_the_moment_its_node_appears(_metadata, node(0));
}

/** @brief Fill minor 0, loaded with fifo_size=@p size, and check that
 *         poll() then reports exactly data and no room; it is left empty.
 * @param _metadata the test
 * @param size the capacity
 * @param params the load's parameters, for messages
 */
static void expect_full_polls_readable_only(struct __test_metadata *_metadata,
					    unsigned int size,
					    const char *params)
{
	struct pollfd p = { .events = POLLIN | POLLRDNORM | POLLOUT |
				      POLLWRNORM };
	char *buf = malloc(size);
	ssize_t n;

	ASSERT_NE(NULL, buf);
	memset(buf, 'f', size);
	p.fd = open(node(0), O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, p.fd);
	n = write(p.fd, buf, size);
	EXPECT_EQ((ssize_t)size, n);
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLIN | POLLRDNORM, p.revents) {
		TH_LOG("loaded with %s, minor 0 holding all %u bytes polls 0x%x, not 0x%x (POLLIN | POLLRDNORM: data, no room); rule: the poll mask comes from the FIFO's length at every size",
		       params, size, p.revents, POLLIN | POLLRDNORM);
	}
	while (read(p.fd, buf, size) > 0)
		;
	close(p.fd);
	free(buf);
}

/** @brief fifo_size (Lab 04's rule, which every minor inherits): the
 *         limits 2 and 65536 load and give every minor a FIFO of exactly
 *         that many bytes; values out of the range or not a power of two
 *         make the load fail with EINVAL and leave nothing behind. */
TEST_F_TIMEOUT(module, fifo_size_limits_are_2_and_65536, 60)
{
	static const unsigned int limits[] = { RELOAD_CHECKS_MIN_SIZE,
					       RELOAD_CHECKS_MAX_SIZE };
	char params[32], msg[256];
	struct leftovers l;
	unsigned int i;
	int err, k;

	ASSERT_EQ(0, module_unload_when_free(FIFO_MODULE, 5000));
	for (i = 0; i < 2; i++) {
		snprintf(params, sizeof(params), "fifo_size=%u", limits[i]);
		err = module_load(FIFO_MODULE, params);
		EXPECT_EQ(0, err) {
			TH_LOG("%s was refused (%s); rule: fifo_size is a power of two from 2 to 65536, both limits included (a refused limit is usually > written as >=, or < as <=)",
			       params, strerror(err));
		}
		if (err)
			continue;
		for (k = 0; k < NDEV; k++) {
			EXPECT_EQ(0, reload_checks_capacity(node(k), limits[i],
							    msg, sizeof(msg))) {
				TH_LOG("loaded with %s: %s (rule: every minor gets a FIFO of fifo_size bytes)",
				       params, msg);
				break;
			}
		}
		expect_full_polls_readable_only(_metadata, limits[i], params);
		ASSERT_EQ(0, module_unload_when_free(FIFO_MODULE, 5000));
	}
	for (i = 0; reload_checks_bad_sizes[i]; i++) {
		err = module_load(FIFO_MODULE, reload_checks_bad_sizes[i]);
		if (!err)
			module_unload_when_free(FIFO_MODULE, 5000);
		EXPECT_EQ(EINVAL, err) {
			TH_LOG("%s: the load must fail with EINVAL, not %s; rule: fifo_size is a power of two from 2 to 65536, any other value makes the load fail with -EINVAL",
			       reload_checks_bad_sizes[i],
			       err ? strerror(err) : "succeed");
		}
		count_leftovers(&l);
		EXPECT_EQ(0, l.nodes + l.sysfs + l.procfs) {
			TH_LOG("after the refused load with %s, %s is still there: a failed init undoes everything it did",
			       reload_checks_bad_sizes[i], l.first);
		}
	}
	EXPECT_EQ(0, module_load(FIFO_MODULE, ""));
}

/** @brief rmmod removes the module's debugfs directory (the live view,
 *         /sys/kernel/debug/MODULE/state, one line per minor); a load with
 *         other parameters shows them there. */
TEST_F_TIMEOUT(module, unload_removes_the_debugfs_view, 30)
{
	char dir[96], text[4096], want[64], *line;
	int err, lines, k;

	err = reload_checks_debugfs_dir(FIFO_MODULE, dir, sizeof(dir));
	ASSERT_EQ(0, err) {
		TH_LOG("cannot mount debugfs: %s", strerror(err));
	}
	ASSERT_EQ(0, access(dir, F_OK)) {
		TH_LOG("%s is not there with the module loaded: the handout's init creates it (given code)",
		       dir);
	}
	ASSERT_EQ(0, module_unload_when_free(FIFO_MODULE, 5000));
	EXPECT_TRUE(reload_checks_debugfs_gone(FIFO_MODULE)) {
		TH_LOG("%s is still there after rmmod; rule: rmmod removes every node and the module's debugfs directory (debugfs_remove_recursive() in the exit function; without it the next load cannot make its view: \"already present!\")",
		       dir);
	}
	if (!reload_checks_debugfs_gone(FIFO_MODULE))
		return;	/* its files belong to an unloaded module: keep off */
	ASSERT_EQ(0, module_load(FIFO_MODULE, "ndevices=3 fifo_size=256"));
	lines = reload_checks_debugfs_state(FIFO_MODULE, text, sizeof(text));
	EXPECT_EQ(3, lines) {
		TH_LOG("loaded again with ndevices=3 fifo_size=256, %s/state has %d lines, not one per minor (3):\n%s",
		       dir, lines, text);
	}
	for (k = 0, line = text; k < 3 && lines == 3; k++) {
		snprintf(want, sizeof(want), "%s size 256 used 0 ",
			 node_name(k));
		EXPECT_EQ(0, strncmp(line, want, strlen(want))) {
			TH_LOG("loaded again with ndevices=3 fifo_size=256, line %d of %s/state is \"%.*s\", not \"%s...\": the view shows the new module's minors",
			       k + 1, dir, (int)strcspn(line, "\n"), line,
			       want);
		}
		line += strcspn(line, "\n") + 1;
	}
	ASSERT_EQ(0, module_unload_when_free(FIFO_MODULE, 5000));
	EXPECT_EQ(0, module_load(FIFO_MODULE, ""));
}

/** @brief rmmod gives back the memory the load took: 32 loads with 32
 *         minors of 65536 bytes, each followed by an unload, leave the
 *         kernel's unreclaimable memory where it was. What the exit
 *         function does not free stays allocated at every unload: 64 KiB
 *         for each minor's FIFO, 32 KiB for the array of 32 devices. Any
 *         leak of 16 KiB or more at every unload is seen: 32 cycles make
 *         it 512 KiB, twice the limit, against the few dozen KiB (up to
 *         40 KiB, or down) that the reloads of a correct module move
 *         about. */
TEST_F_TIMEOUT(module, unload_gives_back_the_buffer, 180)
{
	char msg[2048];
	int err;

	err = reload_checks_unload_frees(FIFO_MODULE,
					 "ndevices=32 fifo_size=65536",
					 16384, 32, msg, sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, err) {
		if (err < 0)
			TH_LOG("rule: unload frees what load allocated; the kernel kept memory at every unload (above): kfifo_free() for every minor, kfree() of the devices, or of anything else init allocated (names...), missing in the exit function?");
	}
}

/** @brief A load refused for its parameters gives back what it took
 *         before it was refused: 32 loads with ndevices=32
 *         fifo_size=65535 (a size that is not a power of two), then 32
 *         with ndevices=33 fifo_size=65536 (one device too many), each
 *         refused with EINVAL, leave the kernel's unreclaimable memory
 *         where it was. A driver that allocates its devices and their
 *         FIFOs before it has checked both parameters, and returns
 *         -EINVAL without freeing them, keeps 16 KiB or more at every
 *         refused load (64 KiB for each minor's FIFO: kfifo_alloc()
 *         rounds 65535 up to 65536).
 */
TEST_F_TIMEOUT(module, refused_loads_give_back_what_they_took, 180)
{
	static const char *const refused[] = {
		"ndevices=32 fifo_size=65535", "ndevices=33 fifo_size=65536",
	};
	char msg[2048];
	unsigned int i;
	int err;

	for (i = 0; i < 2; i++) {
		err = reload_checks_refusals_free(FIFO_MODULE, refused[i],
						  16384, 32, msg,
						  sizeof(msg));
		TH_LOG("%s", msg);
		EXPECT_EQ(0, err) {
			if (err < 0)
				TH_LOG("rule: a refused load frees what it allocated (init's error path); the kernel kept memory at every load refused for %s: devices or FIFOs allocated before the parameters were checked, and not freed when init returns -EINVAL?",
				       refused[i]);
		}
	}
	EXPECT_EQ(0, module_load(FIFO_MODULE, ""));
}

#endif /* LABKIT_MINOR_TESTS_H */
