/* SPDX-License-Identifier: GPL-2.0 */
/** @file minor_tests.h
 * @brief The tests every multi-minor FIFO lab passes (Lab 05 onwards):
 *        ndevices independent devices that poll(), select() and epoll can
 *        wait on.
 *
 * Include it after fifo_tests.h, with MINOR_NODE_FMT defined as the
 * printf format of a device's node (Lab 05: "/dev/pollfifo%d"), besides
 * FIFO_MODULE. A call that should wait (poll with no timeout, epoll_wait)
 * runs in a child process that reports through a pipe, so a poller that
 * is never woken fails its test instead of hanging the run.
 */
#ifndef LABKIT_MINOR_TESTS_H
#define LABKIT_MINOR_TESTS_H

#ifndef MINOR_NODE_FMT
#error "define MINOR_NODE_FMT, a device node's printf format, first"
#endif

#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "fifo_tests.h"

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

/** @brief Per-test state: every device opened, and emptied. */
FIXTURE(minors) {
	/** @brief O_RDWR | O_NONBLOCK descriptors, one per device. */
	int fd[NDEV];
};

/** @brief Open every device and empty it. */
FIXTURE_SETUP(minors)
{
	char buf[FIFO_SIZE];
	int i;

	for (i = 0; i < NDEV; i++) {
		self->fd[i] = open(node(i), O_RDWR | O_NONBLOCK);
		ASSERT_LE(0, self->fd[i]) {
			TH_LOG("cannot open %s: %s", node(i), strerror(errno));
		}
		while (drain(self->fd[i], buf, sizeof(buf)) == FIFO_SIZE)
			;
	}
}

/** @brief Close every device. */
FIXTURE_TEARDOWN(minors)
{
	int i;

	for (i = 0; i < NDEV; i++)
		close(self->fd[i]);
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

/** @brief Every minor has its node, a character device of mode 0666. */
TEST_F_TIMEOUT(minors, every_minor_has_a_node, TIMEOUT)
{
	dev_t seen[NDEV];
	char value[16] = "";
	struct stat st;
	FILE *f;
	int i, j;

	for (i = 0; i < NDEV; i++) {
		ASSERT_EQ(0, stat(node(i), &st)) {
			TH_LOG("%s: %s", node(i), strerror(errno));
		}
		EXPECT_TRUE(S_ISCHR(st.st_mode));
		EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
		EXPECT_EQ(0666, st.st_mode & 07777);
		seen[i] = st.st_rdev;
		for (j = 0; j < i; j++)
			EXPECT_NE(seen[j], seen[i]);
	}
	errno = 0;
	EXPECT_EQ(-1, stat(node(NDEV), &st));
	EXPECT_EQ(ENOENT, errno);
	f = fopen("/sys/module/" FIFO_MODULE "/parameters/ndevices", "r");
	ASSERT_NE(NULL, f) {
		TH_LOG("no ndevices parameter: module_param(ndevices, uint, 0444)");
	}
	EXPECT_NE(NULL, fgets(value, sizeof(value), f));
	fclose(f);
	EXPECT_STREQ("8\n", value);
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

/** @brief Level-triggered epoll reports a minor as long as it holds data. */
TEST_F_TIMEOUT(minors, epoll_level_triggered, TIMEOUT)
{
	struct epoll_event ev = { .events = EPOLLIN }, got;
	int ep = epoll_create1(0);
	char buf[4];

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

/** @brief A load with a bad ndevices fails cleanly: no node, no module left. */
TEST_F_TIMEOUT(module, ndevices_param, 15)
{
	const char *bad[] = { "ndevices=0", "ndevices=33", "ndevices=1000" };
	struct stat st;
	unsigned int i;

	ASSERT_EQ(0, module_unload(FIFO_MODULE)) {
		TH_LOG("cannot unload " FIFO_MODULE ": %s", strerror(errno));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *params = bad[i];

		EXPECT_EQ(EINVAL, try_params(params)) {
			TH_LOG("%s: init must refuse it with -EINVAL", params);
		}
		EXPECT_NE(0, stat(node(0), &st)) {
			TH_LOG("after a failed load, %s is still there: undo everything init did",
			       node(0));
		}
		EXPECT_NE(0, access("/sys/module/" FIFO_MODULE, F_OK));
	}
	ASSERT_EQ(0, module_load(FIFO_MODULE, "ndevices=2"));
	EXPECT_EQ(0, stat(node(1), &st));
	EXPECT_NE(0, stat(node(2), &st)) {
		TH_LOG("loaded with ndevices=2, there should be no %s", node(2));
	}
	EXPECT_EQ(0, module_unload(FIFO_MODULE));
	EXPECT_EQ(0, module_load(FIFO_MODULE, ""));
}

#endif /* LABKIT_MINOR_TESTS_H */
