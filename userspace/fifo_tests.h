/* SPDX-License-Identifier: GPL-2.0 */
/** @file fifo_tests.h
 * @brief The tests every FIFO lab passes: a first-in, first-out device of
 *        64 bytes that every process shares (Lab 02 onwards).
 *
 * Define FIFO_DEV (the device node) and FIFO_STAGE (the lab's number)
 * before including this header in a lab's test program; the lab's own
 * tests then go after it, on the same fixture, "fifo". Each test here is
 * a kselftest-harness TEST_F; the autograder names them without the
 * fixture, as in "readers_take_turns". The stage picks the tests that fit:
 *
 * - from stage 2: the FIFO itself (order, short writes, wrap-around,
 *   faults, locking);
 * - from stage 3: O_NONBLOCK gives EAGAIN on an empty read or a full write;
 * - stages 2 and 3 only: without O_NONBLOCK, an empty read returns 0 and
 *   a full write fails with ENOSPC (from stage 4 on, both sleep instead);
 * - from stage 4: reads and writes sleep, signals end the sleep, sleepers
 *   wake (and re-check) as they should, and the fifo_size parameter;
 *   these need FIFO_MODULE, the module's name, too;
 * - at every stage, each rule of the three handouts with its boundaries
 *   (0-byte calls, sizes around the capacity, buffers that run into an
 *   unmapped page, opens in a row, waits for the locks and what a signal
 *   does to them, wake-ups of every sleeper); Labs 05 and 06 keep Lab
 *   04's rules on each minor, and these run on minor 0;
 * - stages 2 to 4 only: the model-based tests, which compare every call
 *   with fifo_model.h, and the tests that unload the module (Labs 05 and
 *   06 have both of their own, in minor_tests.h); the unload tests need
 *   FIFO_MODULE.
 *
 * The shared tests never rely on an empty read returning 0: they empty
 * the device through a second descriptor (O_NONBLOCK from stage 4 on),
 * whose reads end at 0 or EAGAIN.
 */
#ifndef LABKIT_FIFO_TESTS_H
#define LABKIT_FIFO_TESTS_H

#if !defined(FIFO_DEV) || !defined(FIFO_STAGE)
#error "define FIFO_DEV and FIFO_STAGE before including fifo_tests.h"
#endif
#if FIFO_STAGE >= 4 && !defined(FIFO_MODULE)
#error "from stage 4 on, define FIFO_MODULE, the module's name"
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "alloc_failures_expect.h"
#include "child_process.h"
#include "copy_stall.h"
#include "cpu_order.h"
#include "dyndbg.h"
#include "early_caller_expect.h"
#include "fifo_call.h"
#include "held_call.h"
#include "kmsg_check.h"
#include "misc_minor.h"
#include "module_copy.h"
#include "module_reload.h"
#include "name_taker.h"
#include "nobody.h"
#include "preempt_full.h"
#include "reload_checks.h"
#include "sigio_count.h"
#include "signal_note.h"
#include "small_file.h"
#include "sleep_timer.h"
#include "task_state.h"
#include "task_stuck.h"
#include "tests_stop.h"
#include "unload_leftovers.h"
#include "untouched_expect.h"

/** @brief Where a test that switched the kernel to full preemption noted
 *         the model to switch back to: FIXTURE_TEARDOWN(fifo) switches
 *         back also when an ASSERT ended the test. */
static struct preempt_full fifo_preempt_switched;

#ifdef FIFO_MODULE
/** @brief Set while a test has the module's pr_debug() messages on
 *         (dyndbg.h): FIXTURE_TEARDOWN(fifo) turns them off also when an
 *         ASSERT ended the test. */
static int fifo_debug_on;
#endif

/** @brief The FIFO's capacity, as the handouts specify. */
#define FIFO_SIZE 64
/** @brief Seconds the harness gives one test before killing it. */
#define TIMEOUT 5
/** @brief The major number every misc device shares. */
#define MISC_MAJOR 10

/** @brief How long a shell command a test runs (cat, echo) may take, in
 *         ms: a failure bound only; starting a program can take seconds
 *         on a loaded emulated guest. */
#define CMD_MS 10000

/** @brief Sleeping calls a test may have at once. */
#define FIFO_SLEEPERS 4

#ifdef FIFO_MODULE
/** @brief The module's parameters, as the lab's handout lists them: none
 *         in Labs 02 and 03, fifo_size from Lab 04 on, ndevices too from
 *         Lab 05 on; NULL-terminated (reload_checks_params_are()). */
static const char *const fifo_params[] = {
#if FIFO_STAGE >= 4
	"fifo_size",
#endif
#if FIFO_STAGE >= 5
	"ndevices",
#endif
	NULL
};

/** @brief The handout's rule on the module's parameters (the message of
 *         reload_checks_params_are() says why). */
#if FIFO_STAGE >= 5
#define PARAMS_RULE "rule: the module's parameters are ndevices and fifo_size, both 0444, and no other (a debug switch is a pr_debug() that dynamic debug turns on)"
#elif FIFO_STAGE == 4
#define PARAMS_RULE "rule: the module's only parameter is fifo_size, 0444 (a debug switch is a pr_debug() that dynamic debug turns on)"
#else
#define PARAMS_RULE "rule: the module has no parameter (a debug switch is a pr_debug() that dynamic debug turns on)"
#endif

/** @brief Check that the loaded module's parameters are exactly
 *         fifo_params: /sys/module/FIFO_MODULE/parameters holds those and
 *         no other (a writable "verbose" switch, say), and does not exist
 *         where the handout lists none.
 * @param _metadata the test
 */
static void expect_params_are_the_handouts(struct __test_metadata *_metadata)
{
	char msg[1024];

	EXPECT_EQ(0, reload_checks_params_are(FIFO_MODULE, fifo_params, msg,
					      sizeof(msg))) {
		TH_LOG("%s; " PARAMS_RULE, msg);
	}
}
#endif /* FIFO_MODULE */

/** @brief What a sleeper shares with the test: the call and its buffer. */
struct sleeper_call {
	/** @brief The call and its result. */
	struct fifo_call call;
	/** @brief The call's buffer. */
	char buf[2 * FIFO_SIZE];
};

/** @brief A child process making one read() or write() that should sleep.
 *
 * A process, not a thread: a driver bug can leave a call asleep for good
 * (wait_event() where nothing calls wake_up()), and a test whose thread
 * cannot die cannot exit either, while a stuck child stays behind alone.
 */
struct sleeper {
	/** @brief Shared with the child (MAP_SHARED), NULL when not started. */
	struct sleeper_call *sh;
	/** @brief The child. */
	pid_t pid;
	/** @brief The child writes here just before its call. */
	int ready[2];
	/** @brief The child writes here when its call returned. */
	int done[2];
};

/** @brief sleeper_start(), with the call's buffer given.
 * @param s the sleeper, filled in here
 * @param fd the descriptor
 * @param data for a write, the bytes to copy into s->sh->buf; NULL for a
 *        read
 * @param count the call's byte count
 * @param buf the buffer the call uses instead of s->sh->buf (one that
 *        faults, say), or NULL for s->sh->buf
 * @return as sleeper_start()
 */
static char sleeper_start_with(struct sleeper *s, int fd, const char *data,
			       size_t count, char *buf)
{
	struct fifo_call *c;
	char byte;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	s->sh = mmap(NULL, sizeof(*s->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s->sh == MAP_FAILED) {
		s->sh = NULL;
		return '?';
	}
	if (count > sizeof(s->sh->buf) || pipe(s->ready) || pipe(s->done))
		return '?';
	c = &s->sh->call;
	c->fd = fd;
	c->buf = buf ? buf : s->sh->buf;
	c->count = count;
	c->is_write = data != NULL;
	if (data)
		memcpy(s->sh->buf, data, count);
	c->ready_pipe = s->ready[1];
	c->done_pipe = s->done[1];
	s->pid = fork_detached();
	if (s->pid < 0)
		return '?';
	if (s->pid == 0) {
		fifo_call_main(c);
		_exit(0);
	}
	if (read(s->ready[0], &byte, 1) != 1)
		return '?';
	return task_wait_asleep(s->pid, &c->done, 5000);
}

/** @brief Start a child process making one call, and wait until it sleeps.
 *
 * The child inherits the test's signal handlers and descriptors, and is
 * killed if the test process ends first.
 *
 * @param s the sleeper, filled in here
 * @param fd the descriptor
 * @param data for a write, the bytes to write; NULL for a read, whose
 *        bytes land in s->sh->buf
 * @param count the call's byte count, at most sizeof(s->sh->buf)
 * @return the child's state: 'S' asleep and interruptible, 'D' asleep
 *         and not, 'X' the call returned, 0 still running after 5 s, '?'
 *         the child could not be started
 */
static char sleeper_start(struct sleeper *s, int fd, const char *data,
			  size_t count)
{
	return sleeper_start_with(s, fd, data, count, NULL);
}

/** @brief Wait up to @p timeout_ms for the sleeper's call to return.
 * @param s the sleeper
 * @param timeout_ms how long to wait
 * @return 1 if it has returned, 0 if not
 */
static int sleeper_returned(struct sleeper *s, int timeout_ms)
{
	struct pollfd p = { .fd = s->done[0], .events = POLLIN };

	return atomic_load(&s->sh->call.done) || poll(&p, 1, timeout_ms) == 1;
}

/** @brief End a sleeper: a call still asleep gets SIGUSR1 (EINTR); if
 *         its sleep ignores signals, a byte of data or of room through
 *         @p nb is offered. A child whose call still does not return is
 *         killed and left behind. The call's results stay readable.
 * @param s the sleeper
 * @param nb an O_NONBLOCK descriptor on the device
 */
static void sleeper_finish(struct sleeper *s, int nb)
{
	char c = '!';
	ssize_t n;

	if (!s->sh || s->pid <= 0)
		return;
	/* A call that is fine returns within milliseconds of either. */
	if (!sleeper_returned(s, 0)) {
		kill(s->pid, SIGUSR1);
		if (!sleeper_returned(s, 1000))
			n = s->sh->call.is_write ? read(nb, &c, 1)
						 : write(nb, &c, 1);
		(void)n;
	}
	if (sleeper_returned(s, 1000)) {
		waitpid(s->pid, NULL, 0);
	} else {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, WNOHANG);
	}
	s->pid = 0;
	close(s->ready[0]);
	close(s->ready[1]);
	close(s->done[0]);
	close(s->done[1]);
}

/** @brief Finish a sleeper and free its shared memory.
 * @param s the sleeper
 * @param nb an O_NONBLOCK descriptor on the device
 */
static void sleeper_free(struct sleeper *s, int nb)
{
	sleeper_finish(s, nb);
	if (s->sh)
		munmap(s->sh, sizeof(*s->sh));
	s->sh = NULL;
}

/** @brief How long a woken call may take to return, in ms: it takes
 *         milliseconds, even under emulation. */
#define WAKE_MS 2000

#if FIFO_STAGE >= 4
/** @brief A read() or write() through @p fd that serves the sleepers
 *         @p s, held in its copy until each of them that has not returned
 *         is asleep (held_call.h: a driver that wakes them before its
 *         copy is through then fails every time, not by chance).
 * @param fd the descriptor
 * @param data the bytes to write, or NULL for a read
 * @param out for a read, room for the bytes read
 * @param count the byte count, at most a page
 * @param s the sleepers (those not started are skipped)
 * @param n how many
 * @return what the call returned, with errno set as it left it
 */
static ssize_t serve_sleepers(int fd, const void *data, void *out,
			      size_t count, struct sleeper *s, int n)
{
	struct held_call_tasks tasks = { 0 };
	int i;

	for (i = 0; i < n && tasks.n < HELD_CALL_TASKS; i++) {
		if (!s[i].sh || s[i].pid <= 0)
			continue;
		tasks.tid[tasks.n] = s[i].sh->call.tid;
		tasks.done[tasks.n] = &s[i].sh->call.done;
		tasks.n++;
	}
	return held_call(fd, data, out, count, &tasks, WAKE_MS);
}

/** @brief serve_sleepers() with a write of @p data.
 * @param fd the descriptor
 * @param data the bytes
 * @param count how many, at most a page
 * @param s the sleepers
 * @param n how many
 * @return what write() returned
 */
static ssize_t serve_by_writing(int fd, const void *data, size_t count,
				struct sleeper *s, int n)
{
	return serve_sleepers(fd, data, NULL, count, s, n);
}

/** @brief serve_sleepers() with a read into @p buf.
 * @param fd the descriptor
 * @param buf room for @p count bytes
 * @param count how many, at most a page
 * @param s the sleepers
 * @param n how many
 * @return what read() returned
 */
static ssize_t serve_by_reading(int fd, void *buf, size_t count,
				struct sleeper *s, int n)
{
	return serve_sleepers(fd, NULL, buf, count, s, n);
}
#endif

/** @brief Why a call that should sleep is not asleep, for the test log.
 * @param s the sleeper
 * @param st what sleeper_start() returned
 * @return a static string
 */
static const char *not_asleep(const struct sleeper *s, char st)
{
	static char why[128];

	switch (st) {
	case 'X':
		snprintf(why, sizeof(why), "it returned %zd (%s) at once",
			 s->sh->call.ret,
			 s->sh->call.ret < 0 ? strerror(s->sh->call.err) : "no error");
		break;
	case 'D':
		snprintf(why, sizeof(why),
			 "it sleeps in state D, which signals cannot end");
		break;
	case 0:
		snprintf(why, sizeof(why),
			 "it still runs after 5 s: busy-waiting?");
		break;
	default:
		snprintf(why, sizeof(why), "state %c", st);
	}
	return why;
}


/** @brief Per-test state: two descriptors on an emptied device. */
FIXTURE(fifo) {
	/** @brief Opened O_RDWR by the setup. */
	int fd;
	/** @brief A descriptor whose reads stop at an empty FIFO, for
	 *         emptying it: O_RDWR | O_NONBLOCK from stage 4 on, where a
	 *         plain read would sleep; plain O_RDWR before, where a plain
	 *         read returns 0, so that only the tests about O_NONBLOCK
	 *         take its paths. */
	int nb;
	/** @brief The test's sleeping calls (or calls that may wait for a
	 *         lock): the teardown ends those still asleep, also when an
	 *         assertion cut the test short. */
	struct sleeper sleepers[FIFO_SLEEPERS];
};

/** @brief Read until read() returns 0 or fails with EAGAIN (the FIFO is
 *         empty), or @p size bytes are in.
 * @param fd the descriptor
 * @param buf where the bytes go
 * @param size room in @p buf
 * @return the count, or -1 on any other error
 */
static ssize_t drain(int fd, char *buf, size_t size)
{
	size_t total = 0;
	ssize_t n;

	while (total < size) {
		n = read(fd, buf + total, size - total);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		total += (size_t)n;
	}
	return (ssize_t)total;
}

/** @brief The most buffers drain_all() reads: a FIFO that is still not
 *         empty after that many never empties (its reads do not take
 *         the bytes they return), and the test's own checks say so. */
#define DRAIN_ROUNDS 100

/** @brief Empty the FIFO behind @p fd: read FIFO_SIZE bytes at a time
 *         until a read comes back short, DRAIN_ROUNDS times at most.
 * @param fd a descriptor whose reads stop at an empty FIFO (O_NONBLOCK
 *        from stage 4 on)
 */
static void drain_all(int fd)
{
	char buf[FIFO_SIZE];
	int rounds = 0;

	while (drain(fd, buf, sizeof(buf)) == FIFO_SIZE &&
	       ++rounds < DRAIN_ROUNDS)
		;
}

/** @brief Leave @p n bytes of @p data in the FIFO behind @p node, which
 *         holds none: one write through a descriptor opened for it and
 *         closed again.
 * @param node the device node
 * @param data the bytes
 * @param n how many, at most the FIFO's size (0: nothing to do)
 * @return 0, or -1 with errno set (EIO: the write was short)
 */
static int fifo_node_hold(const char *node, const char *data, size_t n)
{
	ssize_t wrote;
	int fd, err;

	if (!n)
		return 0;
	fd = open(node, O_WRONLY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	wrote = write(fd, data, n);
	err = wrote < 0 ? errno : EIO;
	close(fd);
	if (wrote == (ssize_t)n)
		return 0;
	errno = err;
	return -1;
}

/** @brief Open the device, or fail the test.
 * @param _metadata the test
 * @param flags open()'s flags
 * @return the descriptor
 */
static int open_dev(struct __test_metadata *_metadata, int flags)
{
	int fd = open(FIFO_DEV, flags);

	ASSERT_LE(0, fd) {
		TH_LOG("cannot open %s: %s", FIFO_DEV, strerror(errno));
	}
	return fd;
}

#if FIFO_STAGE >= 3
/** @brief Set or clear O_NONBLOCK on an open file, or fail the test.
 * @param _metadata the test
 * @param fd a descriptor of the file
 * @param on nonzero to set, zero to clear
 */
static void set_nonblock(struct __test_metadata *_metadata, int fd, int on)
{
	int flags = fcntl(fd, F_GETFL);

	ASSERT_LE(0, flags);
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	ASSERT_EQ(0, fcntl(fd, F_SETFL, flags));
}
#endif

#if FIFO_STAGE <= 4
/** @brief How long the device may take to answer device_answers(), in ms:
 *         milliseconds, even under emulation and heavy load. */
#define ANSWER_MS 3000

/** @brief Whether the device answers: a child process reads it empty,
 *         writes a byte and reads it back, through @p nb. A driver that
 *         left a mutex locked would keep every later test waiting until
 *         its timeout; this way each fails in seconds.
 * @param nb a descriptor whose reads stop at an empty FIFO
 * @return 0 if the child was done within ANSWER_MS, -1 if not, or if it
 *         was seen asleep with no other task left to wake it (it is then
 *         killed)
 */
static int device_answers(int nb)
{
	pid_t pid = fork_detached();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		char buf[FIFO_SIZE];

		drain_all(nb);
		_exit(write(nb, "p", 1) != 1 || drain(nb, buf, sizeof(buf)) != 1);
	}
	/* A child asleep while nobody else is left to release a lock or
	 * make room or data is stuck for good: no need to wait ANSWER_MS. */
	if (child_wait_unless_stuck(pid, FIFO_DEV, &status, ANSWER_MS) == 0)
		return 0;
	kill(pid, SIGKILL);
	wait_for_child(pid, &status, 1000);
	return -1;
}
#endif

/** @brief Open the device twice and read it empty: every test starts
 *         there. SIGUSR1 ends a sleeping call with EINTR (no SA_RESTART).
 */
FIXTURE_SETUP(fifo)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
#ifdef FIFO_MODULE
	char msg[160];

	/* Messages off, as every test expects them, also after a test that
	 * turned them on and was killed at its time limit before its
	 * teardown could turn them off (fifo_debug_on). */
	dyndbg_module(FIFO_MODULE, 0, msg, sizeof(msg));
#endif

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	self->fd = open(FIFO_DEV, O_RDWR);
	ASSERT_LE(0, self->fd) {
		TH_LOG("cannot open %s: %s", FIFO_DEV, strerror(errno));
	}
	self->nb = open(FIFO_DEV, FIFO_STAGE >= 4 ? O_RDWR | O_NONBLOCK
						  : O_RDWR);
	ASSERT_LE(0, self->nb);
#if FIFO_STAGE <= 4
	ASSERT_EQ(0, device_answers(self->nb)) {
		TH_LOG("the device did not answer a read and a write within %d s: an earlier call left the readers' or writers' mutex locked (every path out of the locked region must unlock, the early returns too), or a call never returns",
		       ANSWER_MS / 1000);
	}
#endif
	drain_all(self->nb);
}

/** @brief Switch the kernel back to its preemption model if a test left
 *         it switched; end the test's sleeping calls; close the fixture's
 *         descriptors. */
FIXTURE_TEARDOWN(fifo)
{
	int i;

	preempt_full_end(&fifo_preempt_switched);
	for (i = 0; i < FIFO_SLEEPERS; i++)
		sleeper_free(&self->sleepers[i], self->nb);
	close(self->nb);
	close(self->fd);
#ifdef FIFO_MODULE
	if (fifo_debug_on) {
		char msg[160];

		dyndbg_module(FIFO_MODULE, 0, msg, sizeof(msg));
		fifo_debug_on = 0;
	}
#endif
}

/** @brief The node is a character device that everybody may read and write. */
TEST_F_TIMEOUT(fifo, node_is_world_rw_char_device, TIMEOUT)
{
	unsigned int node_minor;
	struct stat st;
	char why[512];

	ASSERT_EQ(0, stat(FIFO_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(0666, st.st_mode & 07777);
	node_minor = minor(st.st_rdev);
	EXPECT_EQ(1, misc_minors_are_dynamic(&node_minor, 1, why, sizeof(why))) {
		TH_LOG("%s: %s (rule: node, a minor the kernel chooses)",
		       FIFO_DEV, why);
	}
}

/** @brief The seed program: write, then read back on the same descriptor. */
TEST_F_TIMEOUT(fifo, write_then_read_same_fd, TIMEOUT)
{
	const char msg[] = "test the virtual char device";
	char buf[2 * sizeof(msg)];

	ASSERT_EQ((ssize_t)sizeof(msg), write(self->fd, msg, sizeof(msg)));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ((ssize_t)sizeof(msg), read(self->fd, buf, sizeof(buf))) {
		TH_LOG("a read returns what was written, no reopen needed");
	}
	EXPECT_EQ(0, memcmp(buf, msg, sizeof(msg)));
}

#if FIFO_STAGE < 4
/** @brief Before Lab 04, a read of an empty FIFO returns 0 (from Lab 04
 *         on it sleeps instead).
 */
TEST_F_TIMEOUT(fifo, read_empty_returns_zero, TIMEOUT)
{
	char buf[8];

	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
}
#endif

/** @brief Bytes written through one open file come out in order through
 *         another.
 */
TEST_F_TIMEOUT(fifo, bytes_come_out_in_order_across_opens, TIMEOUT)
{
	int a = open(FIFO_DEV, O_WRONLY), b = open(FIFO_DEV, O_WRONLY);
	char buf[16];

	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(3, write(a, "abc", 3));
	EXPECT_EQ(3, write(b, "def", 3));
	EXPECT_EQ(2, write(a, "gh", 2));
	close(a);
	close(b);
	ASSERT_EQ(8, drain(self->nb, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abcdefgh", 8));
}

/** @brief A read takes the bytes it returns out of the FIFO. */
TEST_F_TIMEOUT(fifo, read_consumes_what_it_returns, TIMEOUT)
{
	char buf[16];

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	ASSERT_EQ(4, read(self->fd, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	ASSERT_EQ(6, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "456789", 6));
	EXPECT_EQ(0, drain(self->nb, buf, sizeof(buf)));
}

/** @brief A write into a nearly full FIFO writes what fits and says how much.
 */
TEST_F_TIMEOUT(fifo, write_is_cut_short_when_nearly_full, TIMEOUT)
{
	char data[70], buf[FIFO_SIZE];
	int i;

	for (i = 0; i < 70; i++)
		data[i] = (char)i;
	ASSERT_EQ(60, write(self->fd, data, 60));
	EXPECT_EQ(4, write(self->fd, data + 60, 10)) {
		TH_LOG("only 4 of 10 bytes fit: write must return 4");
	}
	ASSERT_EQ(FIFO_SIZE, drain(self->nb, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, data, FIFO_SIZE));
}

#if FIFO_STAGE < 4
/** @brief Before Lab 04, a write to a full FIFO fails with ENOSPC (from
 *         Lab 04 on it sleeps instead).
 */
TEST_F_TIMEOUT(fifo, write_when_full_fails_with_enospc, TIMEOUT)
{
	char big[100], c;

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(FIFO_SIZE, write(self->fd, big, sizeof(big)));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "y", 1)) {
		TH_LOG("a write to a full FIFO must fail, not return 0");
	}
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(1, read(self->fd, &c, 1));
	EXPECT_EQ(1, write(self->fd, "y", 1)) {
		TH_LOG("a read made room for one byte");
	}
}
#endif

/** @brief Data that wraps around the end of the FIFO comes out whole and in
 *         order.
 */
TEST_F_TIMEOUT(fifo, wraps_around_the_end, TIMEOUT)
{
	char data[100], buf[FIFO_SIZE];
	int i;

	for (i = 0; i < 100; i++)
		data[i] = (char)('A' + i % 50);
	ASSERT_EQ(60, write(self->fd, data, 60));
	ASSERT_EQ(50, read(self->fd, buf, 50));
	ASSERT_EQ(40, write(self->fd, data + 60, 40));
	ASSERT_EQ(50, drain(self->nb, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, data + 50, 50));
}

/** @brief The file position of descriptor @p fd, as /proc/self/fdinfo
 *         shows it (the "pos:" line).
 * @param fd the descriptor
 * @return the position, or -1 when it cannot be read
 */
static long long fd_position(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	return small_file_field(path, "pos");
}

/** @brief The open flags is_not_seekable() tries, with their names. */
static const struct {
	int flags;
	const char *name;
} stream_opens[] = {
	{ O_RDONLY, "O_RDONLY" },
	{ O_WRONLY, "O_WRONLY" },
	{ O_WRONLY | O_TRUNC, "O_WRONLY | O_TRUNC" },
	{ O_RDWR | O_TRUNC, "O_RDWR | O_TRUNC" },
	{ O_WRONLY | O_APPEND, "O_WRONLY | O_APPEND" },
	{ O_RDWR | O_NONBLOCK, "O_RDWR | O_NONBLOCK" },
};

/** @brief The device is a stream, however it is opened: lseek(), pread()
 *         and pwrite() fail with ESPIPE and move nothing, and read() and
 *         write() leave the file position at 0, as a named pipe's.
 */
TEST_F_TIMEOUT(fifo, is_not_seekable, TIMEOUT)
{
	char buf[4];
	unsigned int i;
	int fd;

	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	ASSERT_EQ(4, write(self->fd, "abcd", 4));
	errno = 0;
	EXPECT_EQ(-1, pread(self->fd, buf, 4, 0)) {
		TH_LOG("a FIFO has no offsets: open it with stream_open()");
	}
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, "wxyz", 4, 0)) {
		TH_LOG("a FIFO has no offsets, for writing either: pwrite() must fail with ESPIPE and write nothing (stream_open() clears FMODE_PWRITE too)");
	}
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ(4, read(self->fd, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "abcd", 4)) {
		TH_LOG("after a refused pwrite() the FIFO holds what write() put in, \"abcd\", and nothing else: got \"%.4s\"",
		       buf);
	}
	EXPECT_EQ(0, fd_position(self->fd)) {
		TH_LOG("after a write and a read of 4 bytes the file position is %lld, not 0 as a named pipe's: a stream has no position, and read() and write() leave it alone (task 1: stream_open())",
		       fd_position(self->fd));
	}
	for (i = 0; i < sizeof(stream_opens) / sizeof(stream_opens[0]); i++) {
		fd = open(FIFO_DEV, stream_opens[i].flags);
		ASSERT_LE(0, fd) {
			TH_LOG("open(%s) failed: %s", stream_opens[i].name,
			       strerror(errno));
		}
		errno = 0;
		EXPECT_TRUE(lseek(fd, 0, SEEK_SET) == -1 && errno == ESPIPE) {
			TH_LOG("an open with %s is a stream too: lseek() must fail with ESPIPE (%s); every open goes through stream_open()",
			       stream_opens[i].name, strerror(errno));
		}
		errno = 0;
		if ((stream_opens[i].flags & O_ACCMODE) != O_WRONLY) {
			EXPECT_TRUE(pread(fd, buf, 1, 0) == -1 &&
				    errno == ESPIPE) {
				TH_LOG("an open with %s is a stream too: pread() must fail with ESPIPE (%s); every open goes through stream_open()",
				       stream_opens[i].name, strerror(errno));
			}
		}
		errno = 0;
		if ((stream_opens[i].flags & O_ACCMODE) != O_RDONLY) {
			EXPECT_TRUE(pwrite(fd, "p", 1, 0) == -1 &&
				    errno == ESPIPE) {
				TH_LOG("an open with %s is a stream too: pwrite() must fail with ESPIPE (%s) and put nothing in; every open goes through stream_open()",
				       stream_opens[i].name, strerror(errno));
			}
		}
		close(fd);
	}
	errno = 0;
	EXPECT_EQ(0, drain(self->nb, buf, sizeof(buf))) {
		TH_LOG("the refused pread() and pwrite() calls moved bytes: the FIFO holds \"%.4s\"",
		       buf);
	}
}

/** @brief A fault on the user's buffer fails the call and loses nothing. */
TEST_F_TIMEOUT(fifo, bad_pointer_gives_efault_and_keeps_data, TIMEOUT)
{
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	char buf[8];

	ASSERT_NE(MAP_FAILED, bad);
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, bad, 10));
	EXPECT_EQ(EFAULT, errno) {
		TH_LOG("pass on what kfifo_from_user() returns");
	}
	ASSERT_EQ(3, write(self->fd, "abc", 3));
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, bad, 3));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(3, read(self->fd, buf, sizeof(buf))) {
		TH_LOG("a failed read must not consume the data");
	}
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
}

/** @brief A read whose buffer ends in an inaccessible page returns what it
 *         could copy, and the rest stays in the FIFO.
 */
TEST_F_TIMEOUT(fifo, partial_copy_keeps_the_rest, TIMEOUT)
{
	char *area = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char got[8], rest[8];
	ssize_t n, m;

	ASSERT_NE(MAP_FAILED, area);
	ASSERT_EQ(0, mprotect(area + 4096, 4096, PROT_NONE));
	ASSERT_EQ(8, write(self->fd, "ABCDEFGH", 8));
	n = read(self->fd, area + 4096 - 4, 8);
	ASSERT_GE(n, 1) {
		TH_LOG("4 bytes could be copied: the read returns them, not an error");
	}
	ASSERT_LE(n, 4);
	memcpy(got, area + 4096 - 4, (size_t)n);
	m = drain(self->nb, rest, sizeof(rest));
	EXPECT_EQ(8 - n, m) {
		TH_LOG("the bytes that were not copied must stay in the FIFO");
	}
	EXPECT_EQ(0, memcmp(got, "ABCDEFGH", (size_t)n));
	EXPECT_EQ(0, memcmp(rest, "ABCDEFGH" + n, (size_t)m));
}

#if FIFO_STAGE < 4
/** @brief The course notes tried the device with cat and echo: before Lab 04,
 *         cat on an empty FIFO ends at once (end of file).
 */
TEST_F_TIMEOUT(fifo, cat_and_echo_on_the_device, 40)
{
	char *cat_argv[] = { "cat", FIFO_DEV, NULL };
	char *echo_argv[] = { "sh", "-c", "echo hello >" FIFO_DEV, NULL };
	char out[32];

	/* Starting a program can take seconds on a loaded emulated guest:
	 * the bounds are for a cat that never ends, not for a slow start. */
	EXPECT_EQ(0, run_command(cat_argv, out, sizeof(out), CMD_MS)) {
		TH_LOG("cat on the empty device should end at once: an empty read returns 0");
	}
	EXPECT_STREQ("", out);
	EXPECT_EQ(0, run_command(echo_argv, out, sizeof(out), CMD_MS));
	EXPECT_EQ(0, run_command(cat_argv, out, sizeof(out), CMD_MS));
	EXPECT_STREQ("hello\n", out) {
		TH_LOG("cat should print what echo wrote");
	}
}
#endif

/** @brief Freeze one call half-way through its copy (copy_stall.h) while
 *         a second call of the same kind runs.
 *
 * With the readers' (or writers') mutex, the second waits or goes after
 * the first; without it, both work on the same bytes of the FIFO.
 *
 * @param _metadata the test, for the harness's macros
 * @param fd the descriptor both calls use
 * @param is_write nonzero for two writes, zero for two reads
 * @param first_buf the first call's buffer, from copy_stall_init()
 * @param first_count the first call's byte count
 * @param cs the stall behind @p first_buf
 * @param second the second call, filled in with its result
 * @return 1 if the second call returned while the first was still frozen
 *         in its copy (it did not wait its turn), 0 if not
 */
static int race_two_calls(struct __test_metadata *_metadata, int fd,
			  int is_write, char *first_buf, size_t first_count,
			  struct copy_stall *cs, struct fifo_call *second)
{
	struct fifo_call first = {
		.fd = fd, .buf = first_buf, .count = first_count,
		.is_write = is_write, .ready_pipe = -1,
	};
	int done[2], ready[2], stalled;
	pthread_t ft, st;
	int went_ahead;
	char c;

	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, pipe(ready));
	first.done_pipe = done[1];
	second->ready_pipe = ready[1];
	second->done_pipe = -1;

	ASSERT_EQ(0, pthread_create(&ft, NULL, fifo_call_main, &first));
	stalled = copy_stall_wait(cs, done[0], 5000);
	if (stalled != 1) {
		pthread_join(ft, NULL);
		ASSERT_EQ(1, stalled) {
			TH_LOG("the %s returned %zd without touching all of its buffer",
			       is_write ? "write" : "read", first.ret);
		}
	}
	ASSERT_EQ(0, pthread_create(&st, NULL, fifo_call_main, second));
	ASSERT_EQ(1, read(ready[0], &c, 1));
	went_ahead = task_wait_asleep(second->tid, &second->done, 5000) == 'X';
	ASSERT_EQ(0, copy_stall_release(cs, is_write ? 'A' : 0));
	pthread_join(ft, NULL);
	pthread_join(st, NULL);
	EXPECT_EQ((ssize_t)first_count, first.ret);
	return went_ahead;
}

/** @brief Stop the tests (tests_stop.h) after a test that saw two calls
 *         of one kind work in the FIFO at once: the second moved bytes
 *         while the first was frozen in its copy, and their bytes got
 *         mixed.
 *
 * kfifo keeps two indices, and only one reader (and one writer) may move
 * each: two readers that both advance "out", or two writers that both
 * advance "in", can leave more bytes counted than the buffer holds, and
 * later calls then copy from and to memory past its end. That happens
 * only when two calls really overlap, which on two CPUs depends on the
 * machine: every later test would get a result that depends on it too.
 *
 * @param _metadata the test
 * @param kind "reads" or "writes"
 */
static void stop_after_two_in_the_fifo(struct __test_metadata *_metadata,
				       const char *kind)
{
	tests_stop_after_thisf(_metadata->name,
			       "two %s moved bytes in the FIFO at once (no mutex held across the copy): kfifo's indices can then count more bytes than its buffer holds, and a later call copies past its end",
			       kind);
}

/** @brief Two reads at once do not take the same bytes: one waits for the other
 *         (a frozen copy, copy_stall.h).
 */
TEST_F_TIMEOUT(fifo, readers_take_turns, 15)
{
	struct fifo_call second = { .fd = self->fd };
	char data[48], other[16];
	struct copy_stall cs;
	int i, went_ahead;
	char *dst;

	for (i = 0; i < 48; i++)
		data[i] = (char)('a' + i % 26);
	ASSERT_EQ(48, write(self->fd, data, 48));
	/* The first read copies 16 bytes, then stalls on its next 16. */
	dst = copy_stall_init(&cs, 16, 0);
	ASSERT_NE(NULL, dst);
	second.buf = other;
	second.count = sizeof(other);
	went_ahead = race_two_calls(_metadata, self->fd, 0, dst, 32, &cs,
				    &second);
	EXPECT_EQ(0, memcmp(dst, data, 32));
	ASSERT_EQ(16, second.ret);
	EXPECT_EQ(0, memcmp(other, data + 32, 16)) {
		TH_LOG("the second reader got \"%.16s\", not the 16 bytes after the first reader's: readers must take turns",
		       other);
		if (went_ahead)
			stop_after_two_in_the_fifo(_metadata, "reads");
	}
	copy_stall_destroy(&cs);
}

/** @brief Two writes at once do not write over each other: one waits for the
 *         other.
 */
TEST_F_TIMEOUT(fifo, writers_take_turns, 15)
{
	struct fifo_call second = { .fd = self->fd };
	char bs[16], buf[FIFO_SIZE], a_then_b[48], b_then_a[48];
	struct copy_stall cs;
	int went_ahead, mixed;
	char *src;
	ssize_t n;

	memset(bs, 'B', sizeof(bs));
	memset(a_then_b, 'A', 32);
	memset(a_then_b + 32, 'B', 16);
	memset(b_then_a, 'B', 16);
	memset(b_then_a + 16, 'A', 32);
	/* The first write copies 16 'A's, then stalls on its next 16. */
	src = copy_stall_init(&cs, 16, 'A');
	ASSERT_NE(NULL, src);
	second.buf = bs;
	second.count = sizeof(bs);
	second.is_write = 1;
	went_ahead = race_two_calls(_metadata, self->fd, 1, src, 32, &cs,
				    &second);
	copy_stall_destroy(&cs);
	EXPECT_EQ(16, second.ret);
	n = drain(self->nb, buf, sizeof(buf));
	mixed = n != 48 || (memcmp(buf, a_then_b, 48) &&
			    memcmp(buf, b_then_a, 48));
	EXPECT_FALSE(mixed) {
		TH_LOG("the FIFO holds %zd bytes, \"%.*s\", not the two writes one after the other: writers must take turns",
		       n, n > 0 ? (int)n : 0, buf);
		if (went_ahead && second.ret > 0)
			stop_after_two_in_the_fifo(_metadata, "writes");
	}
}

/** @brief Shared state of the many-readers, many-writers test, in
 *         memory its processes share. */
struct crowd {
	/** @brief The device. */
	int fd;
	/** @brief Data bytes read so far by all readers. */
	atomic_long read_total;
	/** @brief How often each byte value was read. */
	atomic_long seen[256];
	/** @brief The reader that reads the last data byte writes here. */
	int all_read[2];
	/** @brief Each reader writes here as it stops. */
	int stopped[2];
};

/** @brief Bytes each writer writes. */
#define CROWD_BYTES 3000
/** @brief Writers, and readers. */
#define CROWD_PROCS 4
/** @brief The byte that tells one reader to stop; writers never write it. */
#define CROWD_STOP 0

/** @brief Write CROWD_BYTES bytes of value 'a' + @p id, retrying while
 *         the FIFO is full (ENOSPC before Lab 04).
 * @param c the shared state
 * @param id 0 to CROWD_PROCS - 1
 * @return 0, or 1 on an unexpected error
 */
static int crowd_write(struct crowd *c, int id)
{
	char chunk[24];
	long left = CROWD_BYTES;
	ssize_t n;

	memset(chunk, 'a' + id, sizeof(chunk));
	while (left > 0) {
		n = write(c->fd, chunk,
			  left < (long)sizeof(chunk) ? (size_t)left
						     : sizeof(chunk));
		if (n > 0)
			left -= n;
		else if (n < 0 && errno == ENOSPC)
			sched_yield();
		else
			return 1;
	}
	return 0;
}

/** @brief Read and count bytes until a stop byte comes.
 *
 * Before Lab 04 an empty FIFO reads as 0 and the reader tries again; from
 * Lab 04 on the reader sleeps, which is why it stops on a byte the test
 * writes, one per reader, rather than on a count.
 *
 * @param c the shared state
 * @return 0, or 1 on an unexpected error
 */
static int crowd_read(struct crowd *c)
{
	const long all = (long)CROWD_BYTES * CROWD_PROCS;
	unsigned char buf[40];
	ssize_t n, i, stops;
	long before;

	for (;;) {
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0)
			return 1;
		if (n == 0) {
			sched_yield();
			continue;
		}
		stops = 0;
		for (i = 0; i < n; i++) {
			if (buf[i] == CROWD_STOP)
				stops++;
			else
				atomic_fetch_add(&c->seen[buf[i]], 1);
		}
		before = atomic_fetch_add(&c->read_total, n - stops);
		if (before < all && before + n - stops >= all &&
		    write(c->all_read[1], "", 1) != 1)
			return 1;
		if (stops)
			return write(c->stopped[1], "", 1) != 1;
	}
}

/** @brief Fork a crowd member: a writer (@p id >= 0) or a reader (-1).
 *         It dies with the test process.
 * @param c the crowd's shared state
 * @param id the writer's number, or -1 for a reader
 * @return the child's PID, or -1
 */
static pid_t crowd_spawn(struct crowd *c, int id)
{
	pid_t pid = fork_detached();

	if (pid == 0)
		_exit(id >= 0 ? crowd_write(c, id) : crowd_read(c));
	return pid;
}

/** @brief Four writers and four readers at once, each a process: every byte
 *         comes out exactly once.
 */
TEST_F_TIMEOUT(fifo, many_readers_and_writers_lose_nothing, 30)
{
	const char stop = CROWD_STOP;
	pid_t writers[CROWD_PROCS], readers[CROWD_PROCS];
	struct crowd *c;
	int i, status;

	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c);
	c->fd = self->fd;
	ASSERT_EQ(0, pipe(c->all_read));
	ASSERT_EQ(0, pipe(c->stopped));
	for (i = 0; i < CROWD_PROCS; i++) {
		readers[i] = crowd_spawn(c, -1);
		ASSERT_LT(0, readers[i]);
		writers[i] = crowd_spawn(c, i);
		ASSERT_LT(0, writers[i]);
	}
	ASSERT_TRUE(await_byte(c->all_read[0], 10000)) {
		TH_LOG("the readers got %ld of the %d bytes written; the rest were lost or are stuck",
		       atomic_load(&c->read_total),
		       CROWD_BYTES * CROWD_PROCS);
	}
	for (i = 0; i < CROWD_PROCS; i++) {
		ASSERT_EQ(writers[i], waitpid(writers[i], &status, 0));
		EXPECT_EQ(0, status) {
			TH_LOG("writer %d failed", i);
		}
	}
	/* One stop byte at a time: exactly one reader can take it. */
	for (i = 0; i < CROWD_PROCS; i++) {
		ASSERT_EQ(1, write(self->fd, &stop, 1));
		ASSERT_TRUE(await_byte(c->stopped[0], 5000)) {
			TH_LOG("no reader took the stop byte");
		}
	}
	for (i = 0; i < CROWD_PROCS; i++) {
		ASSERT_EQ(readers[i], waitpid(readers[i], &status, 0));
		EXPECT_EQ(0, status) {
			TH_LOG("reader %d failed", i);
		}
	}
	EXPECT_EQ((long)CROWD_BYTES * CROWD_PROCS,
		  atomic_load(&c->read_total));
	for (i = 0; i < CROWD_PROCS; i++)
		EXPECT_EQ(CROWD_BYTES, atomic_load(&c->seen['a' + i])) {
			TH_LOG("writer %d's bytes came out %ld times, not %d",
			       i, atomic_load(&c->seen['a' + i]), CROWD_BYTES);
		}
}

#if FIFO_STAGE >= 3
/** @brief With O_NONBLOCK, a read of an empty FIFO fails with EAGAIN. */
TEST_F_TIMEOUT(fifo, nonblocking_read_on_empty_is_eagain, TIMEOUT)
{
	int nb = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	char c;

	ASSERT_LE(0, nb);
	errno = 0;
	EXPECT_EQ(-1, read(nb, &c, 1)) {
		TH_LOG("an empty FIFO opened O_NONBLOCK: -EAGAIN, not 0 (end of file)");
	}
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(1, write(self->fd, "x", 1));
	EXPECT_EQ(1, read(nb, &c, 1)) {
		TH_LOG("with data in the FIFO, an O_NONBLOCK read reads as usual");
	}
	close(nb);
}

/** @brief With O_NONBLOCK, a write to a full FIFO fails with EAGAIN and changes
 *         nothing.
 */
TEST_F_TIMEOUT(fifo, nonblocking_write_on_full_is_eagain, TIMEOUT)
{
	int nb = open(FIFO_DEV, O_WRONLY | O_NONBLOCK);
	char big[FIFO_SIZE], c;

	ASSERT_LE(0, nb);
	memset(big, 'z', sizeof(big));
	EXPECT_EQ(10, write(nb, big, 10)) {
		TH_LOG("with room in the FIFO, an O_NONBLOCK write writes as usual");
	}
	ASSERT_EQ(FIFO_SIZE - 10, write(self->fd, big, sizeof(big)));
	errno = 0;
	EXPECT_EQ(-1, write(nb, "y", 1)) {
		TH_LOG("a full FIFO opened O_NONBLOCK: -EAGAIN");
	}
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(1, read(self->fd, &c, 1));
	EXPECT_EQ(1, write(nb, big, 10)) {
		TH_LOG("one byte of room: the write is cut short, not refused");
	}
	close(nb);
}

/** @brief The course notes' program, run on an empty FIFO. */
TEST_F_TIMEOUT(fifo, seed_program_sequence, TIMEOUT)
{
	const char msg[] =
		"test the virtual char fifo device, test the virtual char fifo .";
	char buf[2 * sizeof(msg)];
	int fd = open(FIFO_DEV, O_RDWR | O_NONBLOCK);

	ASSERT_EQ(FIFO_SIZE, sizeof(msg));
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(FIFO_SIZE, write(fd, msg, sizeof(msg)));
	errno = 0;
	EXPECT_EQ(-1, write(fd, msg, sizeof(msg)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(FIFO_SIZE, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, msg, sizeof(msg)));
	close(fd);
}

#endif /* FIFO_STAGE >= 3 */

#if FIFO_STAGE >= 4
/** @brief Read from @p fd until @p want bytes came or @p timeout_ms
 *         passed without any; NUL-terminate.
 * @param fd the descriptor
 * @param buf where the bytes go, @p want + 1 bytes of room
 * @param want how many bytes to wait for
 * @param timeout_ms how long to wait for each
 */
static void read_for(int fd, char *buf, size_t want, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < want && poll(&p, 1, timeout_ms) == 1) {
		n = read(fd, buf + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
}

/** @brief A read of an empty FIFO sleeps (state S) until another process
 *         writes.
 */
TEST_F_TIMEOUT(fifo, read_on_empty_sleeps_until_data, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char st;

	st = sleeper_start(s, self->fd, NULL, 16);
	EXPECT_TRUE(st == 'S' || st == 'D') {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(5, serve_by_writing(self->nb, "hello", 5, s, 1));
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("5 bytes came, and the sleeping reader was not woken: wake the readers after a write");
	}
	sleeper_finish(s, self->nb);
	EXPECT_EQ(5, s->sh->call.ret);
	EXPECT_EQ(0, memcmp(s->sh->buf, "hello", 5));
}

/** @brief A write to a full FIFO sleeps until a read makes room. */
TEST_F_TIMEOUT(fifo, write_on_full_sleeps_until_room, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char fill[FIFO_SIZE], got[4], buf[FIFO_SIZE + 10];
	ssize_t n;
	char st;
	int i;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	st = sleeper_start(s, self->fd, "wwwwwwwwww", 10);
	EXPECT_TRUE(st == 'S' || st == 'D') {
		TH_LOG("a write to the full FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(4, serve_by_reading(self->nb, got, sizeof(got), s, 1));
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("a read made room for 4 bytes, and the sleeping writer was not woken: wake the writers after a read");
	}
	sleeper_finish(s, self->nb);
	ASSERT_GE(s->sh->call.ret, 1);
	EXPECT_LE(s->sh->call.ret, 4) {
		TH_LOG("there was room for 4 bytes, and the write says it wrote %zd",
		       s->sh->call.ret);
	}
	n = drain(self->nb, buf, sizeof(buf));
	ASSERT_EQ(FIFO_SIZE - 4 + s->sh->call.ret, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(i < FIFO_SIZE - 4 ? 'f' : 'w', buf[i]);
}

/** @brief What each_fifo_sleeper() checks of each call it puts to sleep.
 * @param _metadata the test
 * @param s the sleeper, asleep if sleeper_start() said so
 * @param st what sleeper_start() returned
 * @param what the call, as the test log says it ("a read of the empty
 *        FIFO", "a write to the full FIFO")
 * @param rule the handout's rule it sleeps by (a row of "the device,
 *        precisely")
 */
typedef void (*fifo_sleeper_check)(struct __test_metadata *_metadata,
				   struct sleeper *s, char st,
				   const char *what, const char *rule);

/** @brief Put a read to sleep on the empty FIFO, then a write on the full
 *         one, let @p check look at each while it sleeps, and end each
 *         sleep as the rules say: with a byte, with room for one.
 * @param _metadata the test
 * @param self the fixture
 * @param check what the test checks of each sleeping call
 */
static void each_fifo_sleeper(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fifo) *self,
			      fifo_sleeper_check check)
{
	struct sleeper *r = &self->sleepers[0], *w = &self->sleepers[1];
	char fill[FIFO_SIZE], c;

	check(_metadata, r, sleeper_start(r, self->fd, NULL, 1),
	      "a read of the empty FIFO", "read, empty FIFO");
	ASSERT_EQ(1, write(self->nb, "x", 1));
	sleeper_finish(r, self->nb);

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	check(_metadata, w, sleeper_start(w, self->fd, "y", 1),
	      "a write to the full FIFO", "write, full FIFO");
	ASSERT_EQ(1, read(self->nb, &c, 1));
	sleeper_finish(w, self->nb);
}

/** @brief sleepers_are_interruptible's check: the call sleeps in state S,
 *         which a signal can end.
 * @param _metadata the test
 * @param s the sleeper
 * @param st its state
 * @param what the call
 * @param rule its rule
 */
static void sleeps_interruptibly(struct __test_metadata *_metadata,
				 struct sleeper *s, char st, const char *what,
				 const char *rule)
{
	EXPECT_EQ('S', st) {
		TH_LOG("rule \"%s\": %s should sleep in state S (wait_event_interruptible()): %s",
		       rule, what, not_asleep(s, st));
	}
}

/** @brief A sleep that signals cannot end makes a process that Ctrl-C and even
 * kill -9 cannot stop. */
TEST_F_TIMEOUT(fifo, sleepers_are_interruptible, TIMEOUT)
{
	each_fifo_sleeper(_metadata, self, sleeps_interruptibly);
}

/** @brief sleeps_have_no_timeout's check: the sleeping call armed no
 *         timer that would end its sleep by itself.
 * @param _metadata the test
 * @param s the sleeper
 * @param st its state
 * @param what the call
 * @param rule its rule
 */
static void sleeps_without_a_timer(struct __test_metadata *_metadata,
				   struct sleeper *s, char st,
				   const char *what, const char *rule)
{
	char event[320];

	/* Not asleep at all is sleepers_are_interruptible's failure; a
	 * sleep in state D may still have armed a timer. */
	if (st != 'S' && st != 'D')
		return;
	EXPECT_EQ(0, sleep_timer_armed(s->pid, event, sizeof(event))) {
		TH_LOG("rule \"%s\": the sleep ends when the other side comes or a signal does, never by itself, and %s armed a timer that would end it: %s (wait_event_interruptible_timeout()?)",
		       rule, what, event);
	}
}

/** @brief A sleep ends with data (room) or a signal, never by itself: a
 *         read asleep on the empty FIFO, and a write asleep on the full
 *         one, arm no timer.
 *
 * wait_event_interruptible_timeout(), msleep_interruptible() in a loop and
 * the hrtimeout waits all do; the kernel's timer_start and hrtimer_start
 * tracepoints say so at once (sleep_timer.h), where waiting for the call
 * to end would take as long as the longest timeout a driver may choose.
 * Not checked on a kernel without tracefs.
 */
TEST_F_TIMEOUT(fifo, sleeps_have_no_timeout, TIMEOUT)
{
	if (sleep_timer_start())
		return;
	each_fifo_sleeper(_metadata, self, sleeps_without_a_timer);
	sleep_timer_stop();
}

#ifdef FIFO_MODULE
/** @brief live_view_counts_each_sleeper's check: the device's line of
 *         the live view (/sys/kernel/debug/FIFO_MODULE/state, one line
 *         per device, "NAME size N used N readers_waiting N
 *         writers_waiting N") counts the sleeping read on the readers'
 *         queue and the sleeping write on the writers' queue, and the
 *         bytes the FIFO holds (none, FIFO_SIZE).
 * @param _metadata the test
 * @param s the sleeper
 * @param st its state
 * @param what the call
 * @param rule its rule
 */
static void counted_on_its_queue(struct __test_metadata *_metadata,
				 struct sleeper *s, char st, const char *what,
				 const char *rule)
{
	const char *name = strrchr(FIFO_DEV, '/') + 1;
	unsigned int size, used, rd, wr, want_rd, want_wr, want_used;
	char text[4096], *line;
	size_t len = strlen(name);

	/* No sleeper, nothing to count: no point either. */
	ASSERT_TRUE(st == 'S' || st == 'D') {
		TH_LOG("rule \"%s\": %s should sleep: %s", rule, what,
		       not_asleep(s, st));
	}
	want_rd = !s->sh->call.is_write;
	want_wr = !want_rd;
	want_used = want_wr ? FIFO_SIZE : 0;
	/* The grading VM does not mount debugfs: this mounts it. */
	ASSERT_EQ(0, reload_checks_debugfs_dir(FIFO_MODULE, text,
					       sizeof(text)));
	ASSERT_LE(1, reload_checks_debugfs_state(FIFO_MODULE, text,
						 sizeof(text))) {
		TH_LOG("\"Watching the FIFO\": /sys/kernel/debug/%s/state cannot be read (given code: keep the view)",
		       FIFO_MODULE);
	}
	for (line = text; *line; line += *line == '\n') {
		if (!strncmp(line, name, len) && line[len] == ' ')
			break;
		line += strcspn(line, "\n");
	}
	ASSERT_NE(0, *line) {
		TH_LOG("the live view has no line for %s:\n%s", name, text);
	}
	ASSERT_EQ(4, sscanf(line + len, " size %u used %u readers_waiting %u writers_waiting %u",
			    &size, &used, &rd, &wr)) {
		TH_LOG("the live view's line for %s is not the given one: %.*s",
		       name, (int)strcspn(line, "\n"), line);
	}
	EXPECT_TRUE(used == want_used && rd == want_rd && wr == want_wr) {
		TH_LOG("rule \"%s\" and \"Watching the FIFO\": with %s asleep, the view should show used %u readers_waiting %u writers_waiting %u; it shows: %.*s (readers sleep on the readers' queue until there is data, writers on the writers' queue until there is room: one queue for both, or the wrong one, wakes the wrong side)",
		       rule, what, want_used, want_rd, want_wr,
		       (int)strcspn(line, "\n"), line);
	}
}

/** @brief The live view counts each sleeper on its own queue: a read
 *         asleep on the empty FIFO on the readers' queue, a write asleep
 *         on the full FIFO on the writers' queue (Lab 04's two queues).
 */
TEST_F_TIMEOUT(fifo, live_view_counts_each_sleeper, TIMEOUT)
{
	each_fifo_sleeper(_metadata, self, counted_on_its_queue);
}
#endif /* FIFO_MODULE */

/** @brief A signal ends a sleeping read with EINTR (the driver returns
 *         -ERESTARTSYS).
 */
TEST_F_TIMEOUT(fifo, signal_interrupts_read_with_eintr, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char buf[16], st;

	st = sleeper_start(s, self->fd, NULL, 16);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(0, kill(s->pid, SIGUSR1));
	ASSERT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("a signal did not end the reader's sleep");
	}
	sleeper_finish(s, self->nb);
	EXPECT_EQ(-1, s->sh->call.ret);
	EXPECT_EQ(EINTR, s->sh->call.err) {
		TH_LOG("a signal ends the sleep with -ERESTARTSYS, which a program whose handler lacks SA_RESTART sees as EINTR");
	}
	ASSERT_EQ(3, write(self->nb, "abc", 3));
	EXPECT_EQ(3, drain(self->nb, buf, sizeof(buf))) {
		TH_LOG("the interrupted read must not take any data");
	}
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
}

/** @brief A signal ends a sleeping write with EINTR, nothing written. */
TEST_F_TIMEOUT(fifo, signal_interrupts_write_with_eintr, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char fill[FIFO_SIZE], buf[2 * FIFO_SIZE], st;
	int i;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	st = sleeper_start(s, self->fd, "more", 4);
	ASSERT_EQ('S', st) {
		TH_LOG("a write to the full FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(0, kill(s->pid, SIGUSR1));
	ASSERT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("a signal did not end the writer's sleep");
	}
	sleeper_finish(s, self->nb);
	EXPECT_EQ(-1, s->sh->call.ret);
	EXPECT_EQ(EINTR, s->sh->call.err);
	ASSERT_EQ(FIFO_SIZE, drain(self->nb, buf, sizeof(buf))) {
		TH_LOG("the interrupted write must not add any data");
	}
	for (i = 0; i < FIFO_SIZE; i++)
		EXPECT_EQ('f', buf[i]);
}

/** @brief Signal a sleeper whose SIGUSR1 handler is note_signal() with
 *         SA_RESTART, wait until the handler ran, then until the call,
 *         restarted, sleeps again.
 * @param s the sleeper
 * @return the call's state then, as task_wait_asleep() gives it ('S':
 *         asleep again, 'X': it returned), or 0 if the handler did not run
 */
static char signal_and_await_restart(struct sleeper *s)
{
	if (kill(s->pid, SIGUSR1) || !await_byte(signal_note_fd(), 5000))
		return 0;
	return task_wait_asleep(s->sh->call.tid, &s->sh->call.done, 5000);
}

/** @brief -ERESTARTSYS, not -EINTR: with SA_RESTART the kernel restarts a
 *         read asleep on the empty FIFO (a write asleep on the full one)
 *         after the handler, and the program never sees the signal's
 *         interruption; a write (a read) then serves it.
 * @param _metadata the test
 * @param self the fixture
 * @param is_write nonzero for a write, zero for a read
 */
static void sa_restart_restarts(struct __test_metadata *_metadata,
				FIXTURE_DATA(fifo) *self, int is_write)
{
	struct sigaction restart = {
		.sa_handler = note_signal, .sa_flags = SA_RESTART,
	};
	struct sigaction plain = { .sa_handler = ignore_signal };
	struct sleeper *s = &self->sleepers[0];
	const char *call = is_write ? "write" : "read";
	char fill[FIFO_SIZE], got[FIFO_SIZE];
	char st;

	if (is_write) {
		memset(fill, 'f', sizeof(fill));
		ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, FIFO_SIZE));
	}
	ASSERT_LE(0, signal_note_fd());
	ASSERT_EQ(0, sigaction(SIGUSR1, &restart, NULL));
	st = sleeper_start(s, self->fd, is_write ? "wxyz" : NULL,
			   is_write ? 4 : 16);
	ASSERT_EQ('S', st) {
		TH_LOG("a %s should sleep: %s", is_write ?
		       "write to the full FIFO" : "read of the empty FIFO",
		       not_asleep(s, st));
	}
	st = signal_and_await_restart(s);
	ASSERT_EQ(0, sigaction(SIGUSR1, &plain, NULL));
	ASSERT_NE(0, st) {
		TH_LOG("the signal handler did not run");
	}
	EXPECT_EQ('S', st) {
		TH_LOG("after a signal whose handler has SA_RESTART, the %s returned %zd (%s) instead of going on: return -ERESTARTSYS, not -EINTR, when the %s' wait is interrupted",
		       call, s->sh->call.ret, strerror(s->sh->call.err),
		       is_write ? "writers" : "readers");
	}
	if (is_write) {
		ASSERT_EQ(4, read(self->nb, got, 4));
	} else {
		ASSERT_EQ(1, write(self->nb, "r", 1));
	}
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS));
	sleeper_finish(s, self->nb);
	if (st != 'S')
		return;
	if (is_write) {
		EXPECT_EQ(4, s->sh->call.ret);
		EXPECT_EQ(FIFO_SIZE, drain(self->nb, got, sizeof(got)));
		EXPECT_EQ(0, memcmp(got + FIFO_SIZE - 4, "wxyz", 4)) {
			TH_LOG("the restarted write's 4 bytes should be the last in the FIFO");
		}
	} else {
		EXPECT_EQ(1, s->sh->call.ret);
		EXPECT_EQ('r', s->sh->buf[0]);
	}
}

/** @brief With SA_RESTART a read asleep on the empty FIFO goes on
 *         sleeping after the handler, then reads (sa_restart_restarts()).
 */
TEST_F_TIMEOUT(fifo, sa_restart_restarts_the_read, TIMEOUT)
{
	sa_restart_restarts(_metadata, self, 0);
}

/** @brief With SA_RESTART a write asleep on the full FIFO goes on
 *         sleeping after the handler, then writes once a read makes room
 *         (sa_restart_restarts()).
 */
TEST_F_TIMEOUT(fifo, sa_restart_restarts_the_write, TIMEOUT)
{
	sa_restart_restarts(_metadata, self, 1);
}

/** @brief Readers asleep at once in several_readers_one_byte_one_winner. */
#define READERS 3

/** @brief All sleeping readers wake for one byte; one gets it, the others must
 * find the FIFO empty again under the lock and go back to sleep. */
TEST_F_TIMEOUT(fifo, several_readers_one_byte_one_winner, 15)
{
	struct sleeper *r = self->sleepers;
	struct pollfd p[READERS];
	int i, winners = 0;
	char st;

	for (i = 0; i < READERS; i++) {
		st = sleeper_start(&r[i], self->fd, NULL, 8);
		ASSERT_EQ('S', st) {
			TH_LOG("reader %d should sleep on the empty FIFO: %s", i,
			       not_asleep(&r[i], st));
		}
		p[i].fd = r[i].done[0];
		p[i].events = POLLIN;
	}
	ASSERT_EQ(1, serve_by_writing(self->nb, "1", 1, r, READERS));
	EXPECT_LT(0, poll(p, READERS, 5000)) {
		TH_LOG("a byte came, and no sleeping reader returned");
	}
	/* Each of the others sleeps again, or has returned. */
	for (i = 0; i < READERS; i++)
		task_wait_asleep(r[i].sh->call.tid, &r[i].sh->call.done, 5000);
	for (i = 0; i < READERS; i++) {
		if (!atomic_load(&r[i].sh->call.done))
			continue;
		if (r[i].sh->call.ret == 1 && r[i].sh->buf[0] == '1') {
			winners++;
			continue;
		}
		EXPECT_EQ(1, r[i].sh->call.ret) {
			TH_LOG("reader %d returned %zd (%s) though another reader took the byte: after waking, take the lock and check again, in a loop",
			       i, r[i].sh->call.ret, strerror(r[i].sh->call.err));
		}
	}
	EXPECT_EQ(1, winners);
}

/**
 * @brief The race the loop around the sleep is for, made to happen every
 * time (woken_reader_rechecks_under_the_lock,
 * woken_writer_rechecks_under_the_lock).
 *
 * Reads: reader B sleeps on the empty FIFO; 32 bytes come, which wakes it,
 * but before B runs, reader A takes the readers' lock and starts copying
 * all 32 bytes, and is frozen half-way (copy_stall.h): B now sees data,
 * leaves its wait, and queues for the lock. When A is let go, it takes all
 * 32, and B, given the lock, finds the FIFO empty again. It must go back
 * to sleep: returning 0 would be end of file.
 *
 * Writes, the mirror image: writer B sleeps on the full FIFO; a read makes
 * 32 bytes of room, which wakes it, but before B runs, writer A takes the
 * writers' lock and starts copying 32 bytes, frozen half-way: B sees room
 * (A's bytes are not in yet), leaves its wait and queues for the lock.
 * When A is let go, it fills the room, and B, given the lock, finds the
 * FIFO full again. It must go back to sleep: a write of 0 bytes, or an
 * error, would be wrong.
 *
 * The test and A run as SCHED_FIFO on one CPU (cpu_order.h), so that B,
 * an ordinary process, runs only when the test lets it.
 *
 * With @p nonblock_meanwhile, fcntl() sets O_NONBLOCK on B's file while B
 * sleeps: B, finding the FIFO empty (full) again, must then answer
 * EAGAIN, as a pipe does (O_NONBLOCK is read each time the call decides,
 * including after a sleep, not once before the first).
 *
 * @param _metadata the test
 * @param self the fixture
 * @param is_write nonzero for writers, zero for readers
 * @param nonblock_meanwhile whether B's file is made O_NONBLOCK while B
 *        sleeps
 */
static void woken_call_finds_nothing(struct __test_metadata *_metadata,
				     FIXTURE_DATA(fifo) *self, int is_write,
				     int nonblock_meanwhile)
{
	const char *who = is_write ? "writer" : "reader";
	const char *what = is_write ? "room" : "data";
	const char *other = is_write ? "writer" : "reader";
	const char *took = is_write ? "filled" : "took";
	struct sleeper *b = &self->sleepers[2 * is_write + nonblock_meanwhile];
	struct fifo_call a = {
		.fd = self->fd, .count = 32, .is_write = is_write,
		.ready_pipe = -1,
	};
	int bfd = open_dev(_metadata, O_RDWR);
	char data[FIFO_SIZE], got[FIFO_SIZE], st;
	struct cpu_order order;
	struct copy_stall cs;
	int a_done[2], frozen = -1;
	ssize_t moved, n;
	pthread_t at;

	memset(data, 'd', sizeof(data));
	if (is_write)
		ASSERT_EQ(FIFO_SIZE, write(self->nb, data, FIFO_SIZE));
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	st = sleeper_start(b, bfd, is_write ? "bbbbbbbb" : NULL, 8);
	ASSERT_EQ('S', st) {
		TH_LOG("a %s of the %s FIFO should sleep: %s",
		       is_write ? "write" : "read", is_write ? "full" : "empty",
		       not_asleep(b, st));
	}
	if (nonblock_meanwhile)
		set_nonblock(_metadata, bfd, 1);
	ASSERT_EQ(0, pipe(a_done));
	a.done_pipe = a_done[1];
	a.buf = copy_stall_init(&cs, 16, is_write ? 'A' : 0);
	ASSERT_NE(NULL, a.buf);
	ASSERT_EQ(0, cpu_order_hold(&order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/*
	 * The call wakes B, which cannot run until cpu_order_release(): A
	 * (SCHED_FIFO too) runs before it, and stalls after 16 bytes. Nothing
	 * here may end the test before the release.
	 */
	moved = is_write ? read(self->nb, got, 32) : write(self->nb, data, 32);
	if (moved == 32 && !pthread_create(&at, NULL, fifo_call_main, &a))
		frozen = copy_stall_wait(&cs, a_done[0], 5000);
	cpu_order_release(&order);
	ASSERT_EQ(32, moved);
	ASSERT_EQ(1, frozen) {
		TH_LOG("%s A was not frozen in its copy (it returned %zd): did B take the %s first?",
		       who, a.ret, what);
	}
	/* B runs now, sees the data (the room), and waits for A's lock. */
	st = task_wait_asleep(b->pid, &b->sh->call.done, 5000);
	ASSERT_EQ(0, copy_stall_release(&cs, is_write ? 'A' : 'd'));
	pthread_join(at, NULL);
	EXPECT_EQ(32, a.ret);
	ASSERT_EQ('S', st) {
		TH_LOG("%s B returned %zd before A was let go", who,
		       b->sh->call.ret);
	}
	/* A took everything: B sleeps again, or (now O_NONBLOCK) returns
	 * EAGAIN. */
	st = task_wait_asleep(b->pid, &b->sh->call.done, 5000);
	if (nonblock_meanwhile) {
		EXPECT_TRUE(st == 'X' && b->sh->call.ret == -1 &&
			    b->sh->call.err == EAGAIN) {
			TH_LOG("a %s woken for %s another %s then %s, its file made O_NONBLOCK by fcntl() while it slept, %s: it must answer EAGAIN, as a pipe does (test file->f_flags & O_NONBLOCK inside the loop, each time the FIFO is found %s, not once before it)",
			       who, what, other, took,
			       st == 'S' ? "went back to sleep" :
			       st == 'X' ? "returned something else" :
			       "neither slept nor returned",
			       is_write ? "full" : "empty");
		}
	} else {
		EXPECT_EQ('S', st) {
			TH_LOG("a %s woken for %s another %s then %s returned %zd (%s): after waking, take the lock and check again, in a loop",
			       who, what, other, took, b->sh->call.ret,
			       b->sh->call.ret < 0 ? strerror(b->sh->call.err) : "no error");
		}
	}
	copy_stall_destroy(&cs);
	cpu_order_unpin(&order);
	sleeper_free(b, self->nb);
	if (is_write) {
		/* What A left: the first filling's last FIFO_SIZE - 32 bytes,
		 * then A's 32; B, interrupted, added nothing. */
		n = drain(self->nb, got, sizeof(got));
		memset(data + FIFO_SIZE - 32, 'A', 32);
		EXPECT_TRUE(n == FIFO_SIZE && !memcmp(got, data, FIFO_SIZE)) {
			TH_LOG("after the race the FIFO should hold its %d bytes and end with A's 32 'A's; it held %zd bytes%s",
			       FIFO_SIZE, n, n == FIFO_SIZE ?
			       " in another order or with B's 'b's among them" : "");
		}
	}
	close(a_done[0]);
	close(a_done[1]);
	close(bfd);
}

/** @brief A reader woken for data that another reader takes first looks
 *         again under the lock and sleeps again; and if its file was made
 *         O_NONBLOCK while it slept, it answers EAGAIN instead. */
TEST_F_TIMEOUT(fifo, woken_reader_rechecks_under_the_lock, 20)
{
	woken_call_finds_nothing(_metadata, self, 0, 0);
	woken_call_finds_nothing(_metadata, self, 0, 1);
}

/** @brief A writer woken for room that another writer fills first looks
 *         again under the lock and sleeps again; and if its file was made
 *         O_NONBLOCK while it slept, it answers EAGAIN instead. */
TEST_F_TIMEOUT(fifo, woken_writer_rechecks_under_the_lock, 20)
{
	woken_call_finds_nothing(_metadata, self, 1, 0);
	woken_call_finds_nothing(_metadata, self, 1, 1);
}

/** @brief The course notes woke readers only when the FIFO was not full after
 * the write, and stranded them whenever one write filled it. */
TEST_F_TIMEOUT(fifo, write_that_fills_the_fifo_wakes_reader, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char data[FIFO_SIZE], st;
	int i;

	for (i = 0; i < FIFO_SIZE; i++)
		data[i] = (char)('0' + i % 10);
	st = sleeper_start(s, self->fd, NULL, FIFO_SIZE);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(FIFO_SIZE,
		  serve_by_writing(self->nb, data, sizeof(data), s, 1));
	ASSERT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("one write filled the FIFO exactly, and the sleeping reader was not woken: wake the readers after every write that added data");
	}
	ASSERT_LE(1, s->sh->call.ret);
	EXPECT_EQ(0, memcmp(s->sh->buf, data, (size_t)s->sh->call.ret));
}

/** @brief A sleeping reader must not keep the readers' mutex: an O_NONBLOCK
 * reader would wait for it, and a blocking one could not be interrupted
 * on its way in. */
TEST_F_TIMEOUT(fifo, nonblocking_read_while_a_reader_sleeps, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0], *nb = &self->sleepers[1];
	char st;

	st = sleeper_start(s, self->fd, NULL, 1);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	st = sleeper_start(nb, self->nb, NULL, 1);
	ASSERT_EQ('X', st) {
		TH_LOG("an O_NONBLOCK read waited while another reader slept: unlock before going to sleep");
	}
	EXPECT_EQ(-1, nb->sh->call.ret);
	EXPECT_EQ(EAGAIN, nb->sh->call.err);
}

/** @brief Wait until process @p pid sleeps inside a read() system call
 *         on the device.
 *
 * A program just exec'd sleeps on its way there too, e.g. in state D while
 * a page of its binary is read in (outside any system call, or in the
 * dynamic loader's read() of a library): those sleeps are not the one a
 * test is about. /proc/PID/syscall names the system call a sleeping task
 * is in and its arguments ("-1 ..." outside one, "running" while it
 * runs); /proc/PID/fd/N says which file the descriptor is.
 * @param pid the process
 * @param timeout_ms how long to wait at most (a failure bound only)
 * @return 'S' or 'D' once it sleeps in read(), 'Z' or 0 if it ended,
 *         'R' if it was never seen asleep in read() within @p timeout_ms
 */
static char wait_asleep_in_read(pid_t pid, int timeout_ms)
{
	char path[64], text[64], fdpath[64], target[64], st;
	struct timespec t0, t;
	unsigned long fd;
	ssize_t len;
	FILE *f;
	long nr;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		st = task_state(pid);
		if (st == 'Z' || !st)
			return st;
		f = fopen(path, "r");
		if (f && (st == 'S' || st == 'D') && fgets(text, sizeof(text), f) &&
		    sscanf(text, "%ld 0x%lx", &nr, &fd) == 2 && nr == SYS_read) {
			snprintf(fdpath, sizeof(fdpath), "/proc/%d/fd/%lu",
				 (int)pid, fd);
			len = readlink(fdpath, target, sizeof(target) - 1);
			if (len > 0)
				target[len] = 0;
			if (len > 0 && !strcmp(target, FIFO_DEV) &&
			    task_state(pid) == st) {
				fclose(f);
				return st;
			}
		}
		if (f)
			fclose(f);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			return 'R';
		poll(NULL, 0, 1);
	}
}

/** @brief The course notes' demonstration: cat sleeps on the empty device, echo
 * from another process wakes it, and a signal ends it. */
TEST_F_TIMEOUT(fifo, cat_waits_for_echo, 45)
{
	char *cat_argv[] = { "cat", FIFO_DEV, NULL };
	char *echo_argv[] = { "sh", "-c", "echo hello >" FIFO_DEV, NULL };
	struct pollfd p = { .events = POLLIN };
	char buf[16] = "", echo_out[8], st;
	int out[2], status, pidfd;
	pid_t cat;

	ASSERT_EQ(0, pipe(out));
	cat = spawn(cat_argv, out[1]);
	ASSERT_LT(0, cat);
	close(out[1]);
	p.fd = out[0];
	st = wait_asleep_in_read(cat, CMD_MS);
	EXPECT_EQ('S', st) {
		TH_LOG("cat on the empty device should wait for data, asleep in read() in state S; it %s",
		       st == 'D' ? "sleeps there in state D, which signals cannot end: wait_event_interruptible(), not wait_event()" :
		       st == 'R' ? "was not seen asleep in read() within 10 s: busy-waiting?" :
		       "ended");
	}
	EXPECT_EQ(0, poll(&p, 1, 0)) {
		TH_LOG("cat printed or ended before anything was written");
	}
	EXPECT_EQ(0, run_command(echo_argv, echo_out, sizeof(echo_out), CMD_MS));
	read_for(out[0], buf, 6, 5000);
	EXPECT_STREQ("hello\n", buf) {
		TH_LOG("cat should print what echo wrote, as soon as it was written");
	}
	/* cat now waits again; SIGTERM must end it at once. */
	pidfd = (int)syscall(SYS_pidfd_open, cat, 0);
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(0, kill(cat, SIGTERM));
	p.fd = pidfd;
	EXPECT_EQ(1, poll(&p, 1, 5000)) {
		TH_LOG("SIGTERM did not end cat's sleep");
		ASSERT_EQ(1, write(self->nb, "x", 1));
	}
	ASSERT_EQ(cat, waitpid(cat, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	close(pidfd);
	close(out[0]);
}

/** @brief Tests that reload the module: nothing of theirs is open. */
FIXTURE(module) {
	/** @brief Unused: a fixture needs a member. */
	int unused;
};

/** @brief Nothing to set up. */
FIXTURE_SETUP(module)
{
}

/** @brief Leave the module loaded with its defaults, as the autograder
 *         expects to find it. */
FIXTURE_TEARDOWN(module)
{
	if (access("/sys/module/" FIFO_MODULE, F_OK) != 0)
		module_load(FIFO_MODULE, "");
}

/** @brief Load the module with @p params; if that worked, unload it again.
 * @param params the parameters, as on insmod's command line
 * @return 0 or the errno of the refused load
 */
static int try_params(const char *params)
{
	int err = module_load(FIFO_MODULE, params);

	if (!err)
		module_unload(FIFO_MODULE);
	return err;
}

/** @brief fifo_size: bad values are refused with EINVAL at load time, a good
 *         one sets the capacity.
 */
TEST_F_TIMEOUT(module, fifo_size_param, 15)
{
	const char *bad[] = { "fifo_size=0", "fifo_size=1", "fifo_size=100",
			      "fifo_size=131072" };
	char big[5000], value[16] = "";
	unsigned int i;
	int fd, err;
	FILE *f;

	f = fopen("/sys/module/" FIFO_MODULE "/parameters/fifo_size", "r");
	ASSERT_NE(NULL, f) {
		TH_LOG("no fifo_size parameter: module_param(fifo_size, uint, 0444)");
	}
	EXPECT_NE(NULL, fgets(value, sizeof(value), f));
	fclose(f);
	EXPECT_STREQ("64\n", value);
	err = module_unload(FIFO_MODULE);
	ASSERT_EQ(0, err) {
		TH_LOG("cannot unload " FIFO_MODULE ": %s", strerror(err));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *params = bad[i];

		EXPECT_EQ(EINVAL, try_params(params)) {
			TH_LOG("%s: init must refuse it with -EINVAL", params);
		}
	}
	ASSERT_EQ(0, module_load(FIFO_MODULE, "fifo_size=4096"));
	fd = open(FIFO_DEV, O_WRONLY | O_NONBLOCK);
	EXPECT_LE(0, fd);
	memset(big, 'b', sizeof(big));
	EXPECT_EQ(4096, write(fd, big, sizeof(big))) {
		TH_LOG("loaded with fifo_size=4096, the FIFO should hold 4096 bytes");
	}
	close(fd);
	EXPECT_EQ(0, module_unload(FIFO_MODULE));
	EXPECT_EQ(0, module_load(FIFO_MODULE, ""));
}

/** @brief The fifo_size parameter is read-only in sysfs (mode 0444, as
 *         the handout's module_param(fifo_size, uint, 0444)): root can read
 *         it and cannot write it. Lab 04's rule, which Labs 05 and 06
 *         keep. And the module's parameters are exactly the handout's:
 *         fifo_size, and from Lab 05 on ndevices, and no other
 *         (expect_params_are_the_handouts()).
 */
TEST_F_TIMEOUT(module, fifo_size_is_read_only_in_sysfs, TIMEOUT)
{
	char msg[2048];

	EXPECT_EQ(0, reload_checks_param_read_only(FIFO_MODULE, "fifo_size",
						   NULL, msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	expect_params_are_the_handouts(_metadata);
}
#endif /* FIFO_STAGE >= 4 */


/*
 * The rules of Labs 02 to 04 one by one, each with its boundaries: at
 * every stage, since Labs 05 and 06 keep Lab 04's rules on each minor
 * (these run on minor 0). Then, up to stage 4 only, the device compared
 * call by call with a model of it (fifo_model.h): Labs 05 and 06 have
 * model tests of their own (several minors, poll, SIGIO).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fifo_model.h"

/** @brief The command that replays a model-based test's seed. */
#define FIFO_REPLAY "make test LAB=0%d SEED=%llu"

/** @brief Compare a call's outcome with what the rules (the model) say.
 * @param _metadata the test, for the harness's macros
 * @param want what the model says
 * @param ret what the call returned
 * @param err errno after it
 * @param what the call, for the message
 * @param rule the rule of the handout it checks, and the usual bug
 * @return nonzero if they agree
 */
static int expect_result(struct __test_metadata *_metadata,
			 struct fifo_model_result want, ssize_t ret, int err,
			 const char *what, const char *rule)
{
	char w[32], g[32];
	int ok = fifo_model_agrees(want, ret, err);

	EXPECT_TRUE(ok) {
		TH_LOG("%s: expected %s, got %s; rule: %s", what,
		       fifo_model_describe(want, w, sizeof(w)),
		       fifo_model_describe_call(ret, err, g, sizeof(g)), rule);
	}
	return ok;
}

/** @brief Fill @p buf with bytes that differ from one call to the next.
 * @param buf the buffer
 * @param n its size
 * @param seed where the pattern starts
 */
static void pattern(char *buf, size_t n, unsigned int seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (char)('A' + (seed + i) % 53);
}

/** @brief A buffer that runs into an unmapped page: its last usable byte
 *         is the one before a PROT_NONE page. */
struct edge_buf {
	/** @brief The whole mapping: usable pages, then the guard page. */
	char *area;
	/** @brief Size of @ref area. */
	size_t size;
	/** @brief The first byte of the guard page. */
	char *guard;
};

/** @brief Map an edge buffer with room for @p max usable bytes.
 * @param e the buffer
 * @param max the most usable bytes a call will ask for
 * @return 0, or -1
 */
static int edge_buf_init(struct edge_buf *e, size_t max)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	e->size = (max + page - 1) / page * page + page;
	e->area = mmap(NULL, e->size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->area == MAP_FAILED)
		return -1;
	e->guard = e->area + e->size - page;
	return mprotect(e->guard, page, PROT_NONE);
}

/** @brief The start of a buffer whose first @p usable bytes are mapped.
 * @param e the buffer
 * @param usable bytes before the unmapped page
 * @return the address to hand to read() or write()
 */
static char *edge_buf_at(struct edge_buf *e, size_t usable)
{
	return e->guard - usable;
}

/** @brief Unmap an edge buffer.
 * @param e the buffer
 */
static void edge_buf_destroy(struct edge_buf *e)
{
	munmap(e->area, e->size);
}

/** @brief Read the device empty through a fresh O_NONBLOCK descriptor and
 *         compare with the model, which is emptied too.
 * @param _metadata the test
 * @param m the model
 * @param what when, for the message
 */
static void expect_contents(struct __test_metadata *_metadata,
			    struct fifo_model *m, const char *what)
{
	size_t want_len = fifo_model_len(m);
	char *want = malloc(want_len + 1), *got = malloc(2 * want_len + 64);
	int fd = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	ssize_t n;

	ASSERT_TRUE(want && got);
	fifo_model_read(m, want_len, 1, want);
	n = drain(fd, got, 2 * want_len + 64);
	close(fd);
	EXPECT_EQ((ssize_t)want_len, n) {
		TH_LOG("%s: the FIFO should hold %zu bytes, and %zd came out",
		       what, want_len, n);
	}
	if (n == (ssize_t)want_len)
		EXPECT_EQ(0, memcmp(want, got, want_len)) {
			TH_LOG("%s: the FIFO holds the right number of bytes, but not the right ones (\"%.*s\", expected \"%.*s\")",
			       what, (int)n, got, (int)want_len, want);
		}
	free(want);
	free(got);
}

/** @brief Make one read or write of 0 bytes; a blocking one from stage 4
 *         on in a child, so that a driver that wrongly sleeps cannot hang
 *         the test.
 * @param _metadata the test
 * @param s a free sleeper
 * @param fd the descriptor
 * @param is_write nonzero for write()
 * @param nb an O_NONBLOCK descriptor, to end a wrong sleep
 * @param ret where the call's result goes
 * @param err where its errno goes
 */
static void zero_call(struct __test_metadata *_metadata, struct sleeper *s,
		      int fd, int is_write, int nb, ssize_t *ret, int *err)
{
	char buf[1] = { 'z' };
	char st;

	if (FIFO_STAGE < 4 || (fcntl(fd, F_GETFL) & O_NONBLOCK)) {
		errno = 0;
		*ret = is_write ? write(fd, buf, 0) : read(fd, buf, 0);
		*err = errno;
		return;
	}
	st = sleeper_start(s, fd, is_write ? buf : NULL, 0);
	EXPECT_EQ('X', st) {
		TH_LOG("a %s of 0 bytes did not return at once: %s", is_write ?
		       "write" : "read", not_asleep(s, st));
	}
	sleeper_finish(s, nb);
	*ret = s->sh->call.ret;
	*err = s->sh->call.err;
	sleeper_free(s, nb);
}

/** @brief A read or write of 0 bytes returns 0 and changes nothing,
 *         whatever the FIFO holds and with or without O_NONBLOCK, as on a
 *         pipe.
 */
TEST_F_TIMEOUT(fifo, zero_length_calls_return_zero, 15)
{
	const size_t fills[] = { 0, 20, FIFO_SIZE };
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	struct fifo_model m;
	char data[FIFO_SIZE], what[96];
	unsigned int f, d, w;
	ssize_t ret;
	int err;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	for (f = 0; f < 3; f++) {
		pattern(data, fills[f], f);
		if (fills[f]) {
			ASSERT_EQ((ssize_t)fills[f], write(nb, data, fills[f]));
			fifo_model_write(&m, data, fills[f], 1);
		}
		for (d = 0; d < 2; d++) {
			for (w = 0; w < 2; w++) {
				zero_call(_metadata, &self->sleepers[0],
					  d ? nb : self->fd, w, nb, &ret, &err);
				snprintf(what, sizeof(what),
					 "%s(fd, buf, 0) on a FIFO holding %zu of %d bytes, %s",
					 w ? "write" : "read", fills[f],
					 FIFO_SIZE, d ? "O_NONBLOCK" : "blocking");
				expect_result(_metadata,
					      w ? fifo_model_write(&m, data, 0, d)
						: fifo_model_read(&m, 0, d, NULL),
					      ret, err, what,
					      "a read or write of 0 bytes returns 0 and changes nothing, like read(fd, buf, 0) on a pipe: no EAGAIN, no ENOSPC, no sleep (test count == 0 first)");
			}
		}
		expect_contents(_metadata, &m, "after the calls of 0 bytes");
	}
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief The FIFO holds exactly 64 bytes: writes of every size around
 *         that are cut to the room left, reads to the bytes there; and so
 *         are calls of huge counts (4 MiB + 1, more than kmalloc() can
 *         give at once; 1 GiB; 2 GiB, which the kernel cuts to
 *         MAX_RW_COUNT), of which the driver touches only what it moves.
 */
TEST_F_TIMEOUT(fifo, sizes_around_the_capacity, TIMEOUT)
{
	const size_t sizes[] = { 1, 2, 63, 64, 65, 128, 1000,
				 ((size_t)4 << 20) + 1, (size_t)1 << 30,
				 (size_t)1 << 31 };
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	/* Low in memory (the program's data, not the stack, which may lie
	 * less than 2 GiB below the end of user space): the kernel checks
	 * that the whole count's range is user memory before the driver
	 * sees the call. */
	static char data[1000], buf[1000];
	char what[96];
	struct fifo_model m;
	unsigned int i, j;
	ssize_t n;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		/* A write of sizes[i] into the empty FIFO (only the bytes
		 * that fit are read from data)... */
		pattern(data, sizes[i] < sizeof(data) ? sizes[i] : sizeof(data),
			i);
		errno = 0;
		n = write(self->fd, data, sizes[i]);
		snprintf(what, sizeof(what), "write(%zu) into the empty FIFO",
			 sizes[i]);
		expect_result(_metadata, fifo_model_write(&m, data, sizes[i], 0),
			      n, errno, what,
			      "a write writes what fits, min(count, room), and returns that count (the capacity is 64 bytes), whatever the count: a huge one too, of which only what fits is copied");
		/* ...then reads of every size take it back out. */
		for (j = 0; j < sizeof(sizes) / sizeof(sizes[0]) &&
			    fifo_model_len(&m); j++) {
			struct fifo_model_result want;
			char exp[1000];

			errno = 0;
			n = read(nb, buf, sizes[j]);
			want = fifo_model_read(&m, sizes[j], 1, exp);
			snprintf(what, sizeof(what),
				 "read(%zu) from a FIFO holding %zu bytes",
				 sizes[j], fifo_model_len(&m) +
				 (want.ret > 0 ? (size_t)want.ret : 0));
			if (expect_result(_metadata, want, n, errno, what,
					  "a read returns min(count, bytes in the FIFO), the oldest first, whatever the count") &&
			    n > 0)
				EXPECT_EQ(0, memcmp(exp, buf, (size_t)n)) {
					TH_LOG("%s returned the wrong bytes", what);
				}
		}
		expect_contents(_metadata, &m, "after the reads");
	}
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief A read whose buffer runs into an unmapped page copies the
 *         bytes before the page and returns their count; they leave the
 *         FIFO, the others stay. EFAULT only when not one byte could be
 *         copied. 64 rounds put the FIFO's data at every offset of its
 *         ring, so that the fault also falls after the wrap.
 */
TEST_F_TIMEOUT(fifo, read_stops_at_an_unmapped_page, 15)
{
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	char data[16], exp[16], what[128];
	struct fifo_model_result want;
	struct fifo_model m;
	struct edge_buf e;
	unsigned int i;
	size_t usable;
	ssize_t n;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	ASSERT_EQ(0, edge_buf_init(&e, 64));
	for (i = 0; i < 2 * FIFO_SIZE; i++) {
		/* 7 bytes a round: the ring's offset runs through all 64. */
		pattern(data, 7, i);
		ASSERT_EQ(7, write(nb, data, 7));
		fifo_model_write(&m, data, 7, 1);
		usable = i % 8;
		errno = 0;
		n = read(self->fd, edge_buf_at(&e, usable), 7 + i % 3);
		want = fifo_model_read_upto(&m, 7 + i % 3, usable, 0, exp);
		snprintf(what, sizeof(what),
			 "read(%u) of 7 bytes into a buffer whose first %zu bytes are mapped (round %u)",
			 7 + i % 3, usable, i);
		if (expect_result(_metadata, want, n, errno, what,
				  usable ? "the bytes before the unmapped page are copied, consumed and counted: return their count, not -EFAULT (kfifo_to_user() set copied)"
					 : "nothing could be copied: -EFAULT, and nothing leaves the FIFO") &&
		    n > 0)
			EXPECT_EQ(0, memcmp(exp, edge_buf_at(&e, usable),
					    (size_t)n));
		expect_contents(_metadata, &m,
				"after a read that ran into an unmapped page (the bytes it did not copy stay)");
		if (_metadata->exit_code)
			break;
	}
	/* Empty FIFO and a bad buffer: "empty" comes first. */
	errno = 0;
	n = read(nb, edge_buf_at(&e, 0), 4);
	expect_result(_metadata, fifo_model_read_upto(&m, 4, 0, 1, NULL), n,
		      errno, "read(4) of the empty FIFO into an unmapped page, O_NONBLOCK",
		      "an empty FIFO is looked at first: a read finds nothing to copy, so no fault");
	edge_buf_destroy(&e);
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief A write whose buffer runs into an unmapped page writes the
 *         bytes before the page and returns their count; only they enter
 *         the FIFO. EFAULT only when not one byte could be copied; no
 *         room is reported as such, before any fault.
 */
TEST_F_TIMEOUT(fifo, write_stops_at_an_unmapped_page, 15)
{
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	char data[16], what[128], fill[FIFO_SIZE];
	struct fifo_model_result want;
	struct fifo_model m;
	struct edge_buf e;
	unsigned int i;
	size_t usable, count;
	ssize_t n;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	ASSERT_EQ(0, edge_buf_init(&e, 64));
	for (i = 0; i < 2 * FIFO_SIZE; i++) {
		usable = i % 8;
		count = 7 + i % 3;
		pattern(data, count, i);
		memcpy(edge_buf_at(&e, usable), data, usable);
		errno = 0;
		n = write(self->fd, edge_buf_at(&e, usable), count);
		want = fifo_model_write_upto(&m, data, count, usable, 0);
		snprintf(what, sizeof(what),
			 "write(%zu) from a buffer whose first %zu bytes are mapped (round %u)",
			 count, usable, i);
		expect_result(_metadata, want, n, errno, what,
			      usable ? "the bytes before the unmapped page enter the FIFO and are counted: return their count, not -EFAULT (kfifo_from_user() set copied)"
				     : "nothing could be copied: -EFAULT, and nothing enters the FIFO");
		/* Top up to 7 bytes a round, to run through the ring. */
		if (want.ret >= 0 && want.ret < 7) {
			ASSERT_EQ(7 - want.ret, write(nb, data + want.ret,
						      7 - (size_t)want.ret));
			fifo_model_write(&m, data + want.ret,
					 7 - (size_t)want.ret, 1);
		}
		expect_contents(_metadata, &m,
				"after a write that ran into an unmapped page (only the bytes before the page enter)");
		if (_metadata->exit_code)
			break;
	}
	/* Room for 2, a buffer of 4 good bytes: the room decides. */
	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE - 2, write(nb, fill, FIFO_SIZE - 2));
	fifo_model_write(&m, fill, FIFO_SIZE - 2, 1);
	memcpy(edge_buf_at(&e, 4), "wxyz", 4);
	errno = 0;
	n = write(self->fd, edge_buf_at(&e, 4), 10);
	expect_result(_metadata,
		      fifo_model_write_upto(&m, "wxyz", 10, 4, 0), n, errno,
		      "write(10) with room for 2 from a buffer of 4 mapped bytes",
		      "a write writes what fits: the 2 bytes of room are filled before the unmapped page is reached");
	/* Full FIFO and a bad buffer: "full" comes first. */
	errno = 0;
	n = write(nb, edge_buf_at(&e, 0), 4);
	expect_result(_metadata, fifo_model_write_upto(&m, "", 4, 0, 1), n,
		      errno, "write(4) to the full FIFO from an unmapped page, O_NONBLOCK",
		      "a full FIFO is looked at first: nothing to copy, so no fault");
#if FIFO_STAGE < 4
	errno = 0;
	n = write(self->fd, edge_buf_at(&e, 0), 4);
	expect_result(_metadata, fifo_model_write_upto(&m, "", 4, 0, 0), n,
		      errno, "write(4) to the full FIFO from an unmapped page",
		      "a full FIFO is looked at first: nothing to copy, so no fault");
#endif
	expect_contents(_metadata, &m, "at the end");
	edge_buf_destroy(&e);
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief The rule copies_fault_in_untouched_pages checks, for its
 *         failure messages. */
#define UNTOUCHED_RULE "any valid buffer works, also one whose page the process has not touched yet: the copy faults the page in, which may sleep, so no spinlock is held across a copy (the handout's \"a buffer the process has not touched yet\")"

/** @brief Make a read into (write from) a buffer whose page is not mapped
 *         yet, and compare its result with the model's.
 * @param _metadata the test
 * @param fd the descriptor
 * @param is_write nonzero for a write
 * @param buf the buffer
 * @param count the byte count
 * @param want the model's result for the call
 * @param how "a" or "an O_NONBLOCK", for the message
 * @return what the call returned
 */
static ssize_t untouched_call(struct __test_metadata *_metadata, int fd,
			      int is_write, char *buf, size_t count,
			      struct fifo_model_result want, const char *how)
{
	char what[128];
	ssize_t n;

	errno = 0;
	n = is_write ? write(fd, buf, count) : read(fd, buf, count);
	snprintf(what, sizeof(what), "%s %s(%zu) %s a page the process has not touched yet",
		 how, is_write ? "write" : "read", count,
		 is_write ? "from" : "into");
	expect_result(_metadata, want, n, errno, what, UNTOUCHED_RULE);
	return n;
}

/** @brief A read into, and a write from, pages the process has not touched
 *         yet (untouched_pages.h) move every byte, through descriptors
 *         with and without O_NONBLOCK: the driver's copy faults the page
 *         in, which it can only where it may sleep. Under a spinlock the
 *         fault cannot be served and the call fails with EFAULT, which no
 *         buffer the test has written to itself shows.
 */
TEST_F_TIMEOUT(fifo, copies_fault_in_untouched_pages, TIMEOUT)
{
	const size_t count = 24;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	const int fds[2] = { self->fd, nb };
	char *data, *src, *dst, want[24];
	struct fifo_model m;
	unsigned int i;
	ssize_t n;

	data = malloc(page);
	ASSERT_NE(NULL, data);
	pattern(data, page, 11);
	src = untouched_file_copy(data, page);
	ASSERT_NE(NULL, src);
	dst = untouched_anon(page);
	ASSERT_NE(NULL, dst);
	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	for (i = 0; i < 2; i++) {
		const char *how = i ? "an O_NONBLOCK" : "a";

		expect_untouched(_metadata, src, "the write's buffer");
		expect_untouched(_metadata, dst, "the read's buffer");
		n = untouched_call(_metadata, fds[i], 1, src, count,
				   fifo_model_write(&m, data, count, i), how);
		if (n <= 0) {
			/* Put the bytes in anyway, for the read. */
			ASSERT_EQ((ssize_t)count, write(fds[i], data, count));
		}
		n = untouched_call(_metadata, fds[i], 0, dst, count,
				   fifo_model_read(&m, count, i, want), how);
		if (n == (ssize_t)count) {
			EXPECT_EQ(0, memcmp(dst, want, count)) {
				TH_LOG("%s read(%zu) into a page not touched yet got \"%.*s\", not the bytes written, \"%.*s\"",
				       how, count, (int)count, dst, (int)count, want);
			}
		}
		drain_all(self->nb);
		fifo_model_reset(&m);
		ASSERT_EQ(0, untouched_again(src, page));
		ASSERT_EQ(0, untouched_again(dst, page));
	}
	fifo_model_destroy(&m);
	munmap(src, page);
	munmap(dst, page);
	free(data);
	close(nb);
}

/** @brief Every open shares the one FIFO, whatever its flags, and opening
 *         or closing a descriptor changes nothing in it.
 */
TEST_F_TIMEOUT(fifo, opens_and_closes_leave_the_fifo_alone, 15)
{
	const int flags[] = { O_RDONLY, O_WRONLY | O_NONBLOCK, O_RDWR,
			      O_RDONLY | O_NONBLOCK, O_WRONLY,
			      O_RDWR | O_NONBLOCK, O_WRONLY | O_TRUNC,
			      O_RDWR | O_TRUNC, O_WRONLY | O_APPEND,
			      O_RDONLY | O_TRUNC };
	const unsigned int nflags = sizeof(flags) / sizeof(flags[0]);
	const int kept = O_NONBLOCK | O_TRUNC | O_APPEND;
	char got[32], want[32] = "abc";
	unsigned int i;
	int fd[10];
	ssize_t n;

	const int status = O_ACCMODE | O_NONBLOCK | O_APPEND;
	int got_flags;

	ASSERT_EQ(3, write(self->fd, "abc", 3));
	/* Opens in a row, with and without O_NONBLOCK, O_TRUNC and
	 * O_APPEND; each keeps its flags (F_GETFL: its access mode, and
	 * O_NONBLOCK and O_APPEND, which the open file keeps as a named
	 * pipe's does); none of them ... */
	for (i = 0; i < nflags; i++) {
		fd[i] = open_dev(_metadata, flags[i]);
		got_flags = fcntl(fd[i], F_GETFL);
		EXPECT_EQ(flags[i] & status, got_flags & status) {
			TH_LOG("an open with flags %#o: F_GETFL gives %#o, so the open file lost or gained a flag (mode, O_NONBLOCK, O_APPEND: %#o where it was given %#o); rule: open accepts any flags, and they stay the open file's own: .open leaves file->f_flags alone",
			       flags[i], got_flags, got_flags & status,
			       flags[i] & status);
		}
	}
	for (i = 0; i < nflags; i++)
		close(fd[i]);
	/* ... and none of their closes touches the data. Each new open
	 * appends one byte through itself and closes again. */
	for (i = 0; i < nflags; i++) {
		int w = open_dev(_metadata, (flags[i] & kept) | O_WRONLY);

		want[3 + i] = (char)('0' + i);
		EXPECT_EQ(1, write(w, &want[3 + i], 1));
		close(w);
	}
	n = drain(self->nb, got, sizeof(got));
	EXPECT_EQ((ssize_t)(3 + nflags), n) {
		TH_LOG("3 bytes written, %u opens and closes (with O_TRUNC and O_APPEND among them), %u bytes more: %zd bytes came out, not %u; rule: every open shares the one FIFO, whatever its flags: O_TRUNC and O_APPEND are accepted and change nothing, and open() and release() leave it alone (no kfifo_reset() there: O_TRUNC emptying the buffer was Lab 01's file, not a FIFO)",
		       2 * nflags, nflags, n, 3 + nflags);
	}
	EXPECT_EQ(0, memcmp(got, want, 3 + nflags)) {
		TH_LOG("the FIFO holds \"%.*s\", expected \"%.*s\"", (int)n,
		       got, (int)(3 + nflags), want);
	}
}

/** @brief The bytes stay in the FIFO when nobody has it open: the last
 *         close does not empty it (a FIFO device is not a pipe, whose
 *         bytes go with its last descriptor). The fixture's own
 *         descriptors are closed first.
 */
TEST_F_TIMEOUT(fifo, last_close_keeps_the_bytes, TIMEOUT)
{
	char got[16] = "";
	int fd;
	ssize_t n;

	close(self->fd);
	close(self->nb);
	self->fd = -1;
	self->nb = -1;
	fd = open_dev(_metadata, O_WRONLY);
	ASSERT_EQ(5, write(fd, "kept!", 5));
	close(fd);
	/* Nothing of this test has the device open now. */
	fd = open_dev(_metadata, O_RDONLY | O_NONBLOCK);
	n = drain(fd, got, sizeof(got));
	EXPECT_EQ(5, n) {
		TH_LOG("5 bytes written through a descriptor that was then closed, the last one open: a new open read %zd bytes; rule: opening and closing leave the FIFO's bytes alone, the last close too (no kfifo_reset() in release())",
		       n);
	}
	EXPECT_EQ(0, memcmp(got, "kept!", 5));
	close(fd);
}

/** @brief A buffer the kernel cannot touch at all gives EFAULT, with or
 *         without O_NONBLOCK, when there is something to copy (bytes to
 *         read, room to write): O_NONBLOCK is about a FIFO with nothing
 *         to give (EAGAIN), not about a fault. Nothing moves. NULL is
 *         such a buffer like any other. With nothing to give, an
 *         O_NONBLOCK call answers before it touches the buffer.
 */
TEST_F_TIMEOUT(fifo, bad_buffer_is_efault_whatever_o_nonblock_says, TIMEOUT)
{
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	const int flags[] = { O_RDWR | O_NONBLOCK, O_RDWR };
	static const char *const kind[] = { "an unmapped", "a NULL" };
	char *const bufs[] = { bad, NULL };
	char got[16] = "", fill[FIFO_SIZE], what[160];
	struct fifo_model m;
	unsigned int i, b;
	ssize_t n;
	int fd;

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(3, write(self->fd, "abc", 3));
	for (b = 0; b < 2; b++) {
		for (i = 0; i < 2; i++) {
			const char *how = flags[i] & O_NONBLOCK ?
					  "with O_NONBLOCK" :
					  "without O_NONBLOCK";

			fd = open_dev(_metadata, flags[i]);
			errno = 0;
			n = read(fd, bufs[b], 3);
			EXPECT_TRUE(n == -1 && errno == EFAULT) {
				TH_LOG("read(3) %s into %s buffer, 3 bytes in the FIFO: returned %zd (%s), expected -1 EFAULT; rule: a fault that copies nothing fails with EFAULT (what kfifo_to_user() returned), whatever O_NONBLOCK says and whatever the pointer is: EAGAIN is only for an empty FIFO (a driver that turns every \"nothing copied\" into EAGAIN under O_NONBLOCK does this)",
				       how, kind[b], n,
				       n < 0 ? strerror(errno) : "no error");
			}
			errno = 0;
			n = write(fd, bufs[b], 3);
			EXPECT_TRUE(n == -1 && errno == EFAULT) {
				TH_LOG("write(3) %s from %s buffer, room in the FIFO: returned %zd (%s), expected -1 EFAULT; rule: a fault that copies nothing fails with EFAULT, whatever O_NONBLOCK says and whatever the pointer is: EAGAIN is only for a full FIFO",
				       how, kind[b], n,
				       n < 0 ? strerror(errno) : "no error");
			}
			close(fd);
		}
	}
	n = drain(self->nb, got, sizeof(got));
	EXPECT_EQ(3, n) {
		TH_LOG("the FIFO held \"abc\" before the failed calls and holds %zd bytes after: a call that fails with EFAULT takes and adds nothing",
		       n);
	}
	EXPECT_EQ(0, memcmp(got, "abc", 3));
	/* Nothing to give: the answer comes before the buffer is touched. */
	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	memset(fill, 'f', sizeof(fill));
	fd = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	for (b = 0; b < 2; b++) {
		errno = 0;
		n = read(fd, bufs[b], 3);
		snprintf(what, sizeof(what), "an O_NONBLOCK read(3) of the empty FIFO into %s buffer",
			 kind[b]);
		expect_result(_metadata, fifo_model_read(&m, 3, 1, NULL), n,
			      errno, what,
			      "an empty FIFO answers as empty before the buffer is touched");
	}
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	fifo_model_write(&m, fill, FIFO_SIZE, 1);
	for (b = 0; b < 2; b++) {
		errno = 0;
		n = write(fd, bufs[b], 3);
		snprintf(what, sizeof(what), "an O_NONBLOCK write(3) to the full FIFO from %s buffer",
			 kind[b]);
		expect_result(_metadata, fifo_model_write(&m, "xyz", 3, 1), n,
			      errno, what,
			      "a full FIFO answers as full before the buffer is touched");
	}
	expect_contents(_metadata, &m, "after the calls on a full FIFO");
	fifo_model_destroy(&m);
	close(fd);
	munmap(bad, 4096);
}

/** @brief A call frozen in the middle of its copy (copy_stall.h), in a
 *         thread of the test: it holds the readers' (or writers') lock
 *         until released. */
struct frozen {
	/** @brief The call. */
	struct fifo_call call;
	/** @brief Its thread. */
	pthread_t thread;
	/** @brief The stall in its buffer. */
	struct copy_stall cs;
	/** @brief The thread writes here when the call returned. */
	int done[2];
	/** @brief Nonzero while the thread runs. */
	int running;
};

/** @brief Start a read (or write) of @p count bytes that stalls after its
 *         first 16 bytes, and wait until it does.
 * @param f the frozen call, filled in here
 * @param fd the descriptor
 * @param is_write nonzero for a write of 16 'A's then 'A's
 * @param count the byte count, more than 16
 * @return 1 once the copy is frozen, 0 if the call returned first, -1 on
 *         an error of the test
 */
static int frozen_start(struct frozen *f, int fd, int is_write, size_t count)
{
	memset(f, 0, sizeof(*f));
	if (pipe(f->done))
		return -1;
	f->call.fd = fd;
	f->call.count = count;
	f->call.is_write = is_write;
	f->call.ready_pipe = -1;
	f->call.done_pipe = f->done[1];
	f->call.buf = copy_stall_init(&f->cs, 16, is_write ? 'A' : 0);
	if (!f->call.buf ||
	    pthread_create(&f->thread, NULL, fifo_call_main, &f->call))
		return -1;
	f->running = 1;
	return copy_stall_wait(&f->cs, f->done[0], 5000);
}

/** @brief Let the frozen call go on (the rest of a write's buffer is
 *         'A's) and wait until it returns.
 * @param f the frozen call
 * @return what it returned
 */
static ssize_t frozen_release(struct frozen *f)
{
	if (!f->running)
		return f->call.ret;
	copy_stall_release(&f->cs, 'A');
	pthread_join(f->thread, NULL);
	f->running = 0;
	return f->call.ret;
}

/** @brief Release the call if needed and free everything.
 * @param f the frozen call
 */
static void frozen_destroy(struct frozen *f)
{
	frozen_release(f);
	copy_stall_destroy(&f->cs);
	close(f->done[0]);
	close(f->done[1]);
}

/** @brief Why a call waiting for a lock is not asleep there, for a log.
 * @param s the sleeper
 * @param st its state
 * @param lock "readers'" or "writers'"
 * @return a static string
 */
static const char *not_waiting(const struct sleeper *s, char st,
			       const char *lock)
{
	static char why[256];

	if (st == 'D')
		snprintf(why, sizeof(why),
			 "it waits for the %s mutex in state D, which no signal ends: take it with mutex_lock_interruptible(), not mutex_lock()",
			 lock);
	else if (st == 'X')
		snprintf(why, sizeof(why),
			 "it returned %zd (%s) while another caller held the %s mutex: %s",
			 s->sh->call.ret,
			 s->sh->call.ret < 0 ? strerror(s->sh->call.err) : "no error",
			 lock, s->sh->call.ret < 0 && s->sh->call.err == EAGAIN ?
			 "O_NONBLOCK is about data, not about the lock: a non-blocking call waits its turn too (no mutex_trylock())" :
			 "callers of one kind take turns at their mutex, which they hold across the copy");
	else
		snprintf(why, sizeof(why), "%s", not_asleep(s, st));
	return why;
}

/** @brief Start a call of 8 bytes that must wait for the @p lock mutex
 *         (held by a frozen call), end its wait with SIGUSR1 (a handler
 *         without SA_RESTART), and check that it returned -1 EINTR.
 * @param _metadata the test
 * @param s the sleeper
 * @param fd the descriptor (with O_NONBLOCK or not)
 * @param data for a write, its 8 bytes; NULL for a read
 * @param lock "readers'" or "writers'", for messages
 * @param kind "O_NONBLOCK " or "", for messages
 * @return the state the call was seen in before the signal ('S' asleep)
 */
static char lock_wait_ended_by_signal(struct __test_metadata *_metadata,
				      struct sleeper *s, int fd,
				      const char *data, const char *lock,
				      const char *kind)
{
	const char *call = data ? "write" : "read";
	char st = sleeper_start(s, fd, data, 8);

	EXPECT_EQ('S', st) {
		TH_LOG("a second %s%s while the first holds the %s mutex should wait for it, asleep in state S: %s",
		       kind, call, lock, not_waiting(s, st, lock));
	}
	if (st != 'S')
		return st;
	EXPECT_EQ(0, kill(s->pid, SIGUSR1));
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("a signal did not end the %s%s's wait for the %s mutex: mutex_lock_interruptible(), and return -ERESTARTSYS when it fails",
		       kind, call, lock);
	}
	if (sleeper_returned(s, 0)) {
		EXPECT_EQ(-1, s->sh->call.ret);
		EXPECT_EQ(EINTR, s->sh->call.err) {
			TH_LOG("a signal (handler without SA_RESTART) ended a %s%s's wait for the %s mutex with %zd (%s): return -ERESTARTSYS, which the program sees as EINTR, whatever O_NONBLOCK says (not EAGAIN)",
			       kind, call, lock, s->sh->call.ret,
			       strerror(s->sh->call.err));
		}
	}
	return st;
}

/** @brief A signal ends a wait for a lock the way it ends any sleep in
 *         the driver, with EINTR, and nothing else happens: the frozen
 *         holder's call completes exactly, the lock stays its own, and
 *         the interrupted call took or added nothing.
 * @param _metadata the test
 * @param self the fixture
 * @param is_write nonzero for writers, zero for readers
 */
static void signal_ends_a_lock_wait(struct __test_metadata *_metadata,
				    FIXTURE_DATA(fifo) *self, int is_write)
{
	const char *lock = is_write ? "writers'" : "readers'";
	struct sleeper *b = &self->sleepers[0], *c = &self->sleepers[1];
	struct sleeper *d = &self->sleepers[2];
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	struct fifo_model m;
	struct frozen a;
	char data[48];
	char st;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	pattern(data, sizeof(data), 7);
	if (!is_write) {
		ASSERT_EQ(48, write(self->fd, data, 48));
		fifo_model_write(&m, data, 48, 0);
	}
	ASSERT_EQ(1, frozen_start(&a, self->fd, is_write, 32)) {
		TH_LOG("the %s was not frozen in its copy (it returned %zd)",
		       is_write ? "write" : "read", a.call.ret);
	}
	/* B waits for A's lock; a signal ends its wait. */
	st = lock_wait_ended_by_signal(_metadata, b, self->fd,
				       is_write ? "bbbbbbbb" : NULL, lock, "");
	if (st == 'S') {
		/* The same for an O_NONBLOCK caller: O_NONBLOCK is about
		 * data and room, not the lock. */
		lock_wait_ended_by_signal(_metadata, d, nb,
					  is_write ? "dddddddd" : NULL, lock,
					  "O_NONBLOCK ");
		/* A still holds the lock: a third caller must still wait. */
		st = sleeper_start(c, self->fd, is_write ? "cccccccc" : NULL, 8);
		EXPECT_EQ('S', st) {
			TH_LOG("after the interrupted caller left, a third %s got through while the first still holds the %s mutex: %s (did the interrupted path unlock a mutex it never took?)",
			       is_write ? "write" : "read", lock,
			       not_waiting(c, st, lock));
		}
	}
	EXPECT_EQ(32, frozen_release(&a)) {
		TH_LOG("the frozen %s returned %zd, not 32", is_write ?
		       "write" : "read", a.call.ret);
	}
	if (is_write) {
		memset(data, 'A', 32);
		fifo_model_write(&m, data, 32, 0);
	} else {
		char exp[32];

		fifo_model_read(&m, 32, 0, exp);
		EXPECT_EQ(0, memcmp(exp, a.call.buf, 32));
	}
	if (c->sh) {
		EXPECT_TRUE(sleeper_returned(c, WAKE_MS)) {
			TH_LOG("the third caller did not get the %s mutex when the first let it go",
			       lock);
		}
		sleeper_finish(c, self->nb);
		EXPECT_EQ(8, c->sh->call.ret);
		if (is_write)
			fifo_model_write(&m, "cccccccc", 8, 0);
		else
			fifo_model_read(&m, 8, 0, NULL);
	}
	expect_contents(_metadata, &m,
			"after the interrupted calls (they must have taken or added nothing)");
	frozen_destroy(&a);
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief A read waiting for the readers' lock sleeps in state S, and a
 *         signal ends it with EINTR, having touched nothing; an
 *         O_NONBLOCK read too.
 */
TEST_F_TIMEOUT(fifo, signal_ends_a_wait_for_the_readers_lock, 15)
{
	signal_ends_a_lock_wait(_metadata, self, 0);
}

/** @brief A write waiting for the writers' lock sleeps in state S, and a
 *         signal ends it with EINTR, having touched nothing; an
 *         O_NONBLOCK write too.
 */
TEST_F_TIMEOUT(fifo, signal_ends_a_wait_for_the_writers_lock, 15)
{
	signal_ends_a_lock_wait(_metadata, self, 1);
}

/** @brief With SA_RESTART, a signal that interrupts a wait for a lock
 *         runs its handler and the call goes on waiting, then completes
 *         as if nothing had happened (the driver returned -ERESTARTSYS),
 *         for a read and a write, on a blocking and on an O_NONBLOCK
 *         descriptor alike: O_NONBLOCK is about data and room, not about
 *         the lock, nor about how a signal ends the wait for it.
 */
TEST_F_TIMEOUT(fifo, sa_restart_resumes_a_wait_for_a_lock, 20)
{
	struct sigaction restart = {
		.sa_handler = note_signal, .sa_flags = SA_RESTART,
	};
	struct sigaction plain = { .sa_handler = ignore_signal };
	struct sleeper *b;
	struct frozen a;
	char data[48], buf[FIFO_SIZE];
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	int is_write, nonblock;
	char st;

	ASSERT_LE(0, signal_note_fd());
	ASSERT_EQ(0, sigaction(SIGUSR1, &restart, NULL));
	pattern(data, sizeof(data), 3);
	for (is_write = 0; is_write < 2; is_write++) {
		for (nonblock = 0; nonblock < 2; nonblock++) {
			const char *lock = is_write ? "writers'" : "readers'";
			const char *kind = nonblock ? "O_NONBLOCK " : "";
			int bfd = nonblock ? nb : self->fd;

			b = &self->sleepers[2 * is_write + nonblock];
			if (!is_write)
				ASSERT_EQ(48, write(self->fd, data, 48));
			ASSERT_EQ(1, frozen_start(&a, self->fd, is_write, 32));
			st = sleeper_start(b, bfd, is_write ? "bbbbbbbb" : NULL, 8);
			EXPECT_EQ('S', st) {
				TH_LOG("a second %scaller should wait for the %s mutex in state S: %s",
				       kind, lock, not_waiting(b, st, lock));
			}
			if (st == 'S') {
				ASSERT_EQ(0, kill(b->pid, SIGUSR1));
				ASSERT_TRUE(await_byte(signal_note_fd(), 5000)) {
					TH_LOG("the signal handler did not run");
				}
				st = task_wait_asleep(b->sh->call.tid,
						      &b->sh->call.done, 5000);
				EXPECT_EQ('S', st) {
					char g[32];

					TH_LOG("after a signal whose handler has SA_RESTART, the %s%s waiting for the %s mutex did not wait again (it returned or is not asleep: %s): return -ERESTARTSYS when mutex_lock_interruptible() fails, not -EINTR%s",
					       kind, is_write ? "write" : "read",
					       lock, st == 'X' ?
					       fifo_model_describe_call(
						b->sh->call.ret, b->sh->call.err,
						g, sizeof(g)) : not_asleep(b, st),
					       nonblock ? ", whatever O_NONBLOCK says (the kernel restarts the call; it is not the driver's to refuse)" : "");
				}
			}
			EXPECT_EQ(32, frozen_release(&a));
			frozen_destroy(&a);
			EXPECT_TRUE(sleeper_returned(b, WAKE_MS));
			sleeper_finish(b, self->nb);
			EXPECT_EQ(8, b->sh->call.ret) {
				TH_LOG("the restarted %s%s returned %zd (%s), not 8",
				       kind, is_write ? "write" : "read",
				       b->sh->call.ret,
				       strerror(b->sh->call.err));
			}
			if (b->sh->call.ret != 8) {
				/* Reported above; start the next case empty. */
				drain_all(self->nb);
			} else if (!is_write) {
				EXPECT_EQ(0, memcmp(b->sh->buf, data + 32, 8)) {
					TH_LOG("the restarted %sread should get the 8 bytes after the first reader's 32",
					       kind);
				}
				ASSERT_EQ(8, drain(self->nb, buf, sizeof(buf)));
			} else {
				ASSERT_EQ(40, drain(self->nb, buf, sizeof(buf)));
				EXPECT_EQ(0, memcmp(buf + 32, "bbbbbbbb", 8));
			}
		}
	}
	ASSERT_EQ(0, sigaction(SIGUSR1, &plain, NULL));
	close(nb);
}

/** @brief The bytes a read may take, or the room a write may fill, are
 *         counted after the call takes its lock, not before.
 *
 * The FIFO is emptied, then holds 20 bytes (reads) or FIFO_SIZE - 20
 * (writes). A call A of 17 bytes is frozen in its copy, holding the lock;
 * a call B of 40 bytes of the same kind waits for the lock; meanwhile the
 * other side adds 40 bytes (reads) or takes every byte (writes), under
 * its own lock. When A is let go, B finds 43 bytes, or room for 47: it
 * moves all 40. Counted before it took the lock, B would see only the
 * 20 bytes, or the room for 20, that were there when it began.
 *
 * @param _metadata the test
 * @param self the fixture
 * @param m the model, emptied here
 * @param is_write nonzero for writes, zero for reads
 */
static void expect_counted_under_the_lock(struct __test_metadata *_metadata,
					  FIXTURE_DATA(fifo) *self,
					  struct fifo_model *m, int is_write)
{
	const char *lock = is_write ? "writers'" : "readers'";
	struct sleeper *b = &self->sleepers[3];
	char data[FIFO_SIZE], forty[40], exp[40];
	struct frozen a;
	char st;

	drain_all(self->nb);
	fifo_model_reset(m);
	pattern(data, sizeof(data), 13);
	pattern(forty, sizeof(forty), 17);
	if (is_write) {
		ASSERT_EQ(FIFO_SIZE - 20,
			  write(self->nb, data, FIFO_SIZE - 20));
		fifo_model_write(m, data, FIFO_SIZE - 20, 1);
	} else {
		ASSERT_EQ(20, write(self->nb, data, 20));
		fifo_model_write(m, data, 20, 1);
	}
	ASSERT_EQ(1, frozen_start(&a, self->fd, is_write, 17)) {
		TH_LOG("the %s of 17 bytes was not frozen in its copy (it returned %zd)",
		       is_write ? "write" : "read", a.call.ret);
	}
	st = sleeper_start(b, self->fd, is_write ? forty : NULL, 40);
	EXPECT_EQ('S', st) {
		TH_LOG("a second %s while the first holds the %s mutex should wait for it, asleep in state S: %s",
		       is_write ? "write" : "read", lock,
		       not_waiting(b, st, lock));
	}
	if (is_write) {
		EXPECT_EQ(FIFO_SIZE - 20,
			  drain(self->nb, data, FIFO_SIZE - 20));
		fifo_model_read(m, FIFO_SIZE - 20, 1, NULL);
	} else {
		EXPECT_EQ(40, write(self->nb, forty, 40));
		fifo_model_write(m, forty, 40, 1);
	}
	EXPECT_EQ(17, frozen_release(&a));
	if (is_write) {
		memset(data, 'A', 17);
		fifo_model_write(m, data, 17, 0);
	} else {
		fifo_model_read(m, 17, 0, NULL);
	}
	EXPECT_TRUE(sleeper_returned(b, WAKE_MS));
	sleeper_finish(b, self->nb);
	if (is_write) {
		expect_result(_metadata, fifo_model_write(m, forty, 40, 0),
			      b->sh->call.ret, b->sh->call.err,
			      "a write(40) that waited for the writers' lock while the FIFO, with room for 20, was emptied",
			      "the room a write fills is measured after it takes the mutex (measured before, it was still the room for 20 of when the write began)");
	} else {
		expect_result(_metadata, fifo_model_read(m, 40, 0, exp),
			      b->sh->call.ret, b->sh->call.err,
			      "a read(40) that waited for the readers' lock while 40 bytes came after the 20 there",
			      "the bytes a read takes are counted after it takes the mutex (counted before, they were still the 20 of when the read began)");
		if (b->sh->call.ret == 40) {
			EXPECT_EQ(0, memcmp(exp, b->sh->buf, 40));
		}
	}
	expect_contents(_metadata, m, "after a call that waited for the lock");
	frozen_destroy(&a);
}

/** @brief What a real-time child of lock_queue_start() did: its call,
 *         then the opposite call of 1 byte or an fcntl(). */
struct undo_call {
	/** @brief The first call's result and errno. */
	ssize_t ret;
	/** @brief errno after it. */
	int err;
	/** @brief The 1-byte call's result, or the fcntl()'s. */
	ssize_t undo_ret;
};

/** @brief The model's side of the real-time child's 1-byte call the other
 *         way (a read after its write, a write of 'u' after its read),
 *         which must have moved its byte.
 * @param _metadata the test
 * @param m the model
 * @param undo_ret what that 1-byte call returned
 * @param is_write nonzero when the child's first call was a write
 */
static void model_undo(struct __test_metadata *_metadata,
		       struct fifo_model *m, ssize_t undo_ret, int is_write)
{
	EXPECT_EQ(1, undo_ret);
	if (is_write)
		fifo_model_read(m, 1, 1, NULL);
	else
		fifo_model_write(m, "u", 1, 1);
}

/** @brief Set up a queue at a lock: pin the test to one CPU
 *         (cpu_order.h), freeze a call A of 32 bytes through self->fd in
 *         its copy, holding its side's lock, and start B, of 8 bytes
 *         ("bbbbbbbb" for a write) through @p b_fd, then C, the same call
 *         through @p nb in a real-time child, each of which must wait for
 *         that lock (asleep in state S).
 *
 * Once its call has returned, C makes one more call: with @p flip_fd
 * -1, the opposite call of 1 byte through @p nb (a read after its write,
 * a write of 'u' after its read); else fcntl(@p flip_fd, F_SETFL,
 * @p flip_flags).
 *
 * @param _metadata the test
 * @param self the fixture
 * @param order the CPU order, pinned here; cpu_order_unpin() it
 * @param a the frozen call, started here; frozen_destroy() it
 * @param b the sleeper, started here
 * @param b_fd B's descriptor
 * @param is_write nonzero for writes, zero for reads
 * @param u where C's results go (shared memory)
 * @param nb an O_NONBLOCK descriptor on the device, for C
 * @param flip_fd the descriptor C's fcntl() changes, or -1
 * @param flip_flags the flags it sets
 * @return C's process id
 */
static pid_t lock_queue_start(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fifo) *self,
			      struct cpu_order *order, struct frozen *a,
			      struct sleeper *b, int b_fd, int is_write,
			      struct undo_call *u, int nb, int flip_fd,
			      int flip_flags)
{
	struct sched_param rt = { .sched_priority = 1 };
	const char *call = is_write ? "write" : "read";
	int flags = fcntl(b_fd, F_GETFL);
	char st, data[8], c = 'u';
	pid_t pid;

	ASSERT_EQ(0, cpu_order_pin(order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	ASSERT_EQ(1, frozen_start(a, self->fd, is_write, 32)) {
		TH_LOG("the %s of 32 bytes was not frozen in its copy (it returned %zd)",
		       call, a->call.ret);
	}
	st = sleeper_start(b, b_fd, is_write ? "bbbbbbbb" : NULL, 8);
	EXPECT_EQ('S', st) {
		TH_LOG("a%s %s while another %s holds the lock in the middle of its copy should wait for it: %s",
		       flags >= 0 && (flags & O_NONBLOCK) ? "n O_NONBLOCK" : "",
		       call, call,
		       not_waiting(b, st, is_write ? "writers'" : "readers'"));
	}
	pid = fork_detached();
	if (pid == 0) {
		if (sched_setscheduler(0, SCHED_FIFO, &rt))
			_exit(2);
		u->ret = is_write ? write(nb, "cccccccc", 8) :
				    read(nb, data, 8);
		u->err = errno;
		if (flip_fd >= 0)
			u->undo_ret = fcntl(flip_fd, F_SETFL, flip_flags);
		else
			u->undo_ret = is_write ? read(nb, &c, 1) :
						 write(nb, &c, 1);
		_exit(0);
	}
	EXPECT_LE(0, pid) {
		TH_LOG("cannot start a process: %s", strerror(errno));
	}
	st = pid > 0 ? task_wait_asleep(pid, NULL, 5000) : '?';
	EXPECT_EQ('S', st) {
		TH_LOG("a real-time O_NONBLOCK %s behind them should wait for the lock too",
		       call);
	}
	return pid;
}

/** @brief A call answers by what it found under its lock, not by what the
 *         FIFO holds once it let the lock go; and a call that goes to
 *         sleep on what it found misses no wake-up that comes right after
 *         its unlock.
 *
 * The FIFO is emptied, then holds FIFO_SIZE - 32 bytes (writes) or 32
 * (reads). A call A of 32 bytes is frozen in its copy, holding the lock;
 * B, of 8 bytes through @p b_fd, waits for the lock; then C, the same call
 * through the O_NONBLOCK @p nb, made by a real-time child. When A is let
 * go it fills (empties) the FIFO; B takes the lock, finds it full
 * (empty), and lets the lock go, which wakes C. Everything runs on one
 * CPU, and where the caller switched the kernel to full preemption
 * (preempt_full.h) C runs at B's unlock, before B's next line: it gets
 * EAGAIN, and then reads (writes) one byte.
 *
 * B through an O_NONBLOCK descriptor must still answer as for a full
 * (empty) FIFO: a driver that looks at kfifo_is_full() (kfifo_is_empty())
 * again after its unlock sees the byte C moved and answers 0. B through
 * a blocking descriptor (Labs 04-06) goes to sleep on what it found, and
 * C's byte comes before it is on the wait queue: it must still take that
 * byte (room) and return 1. A sleep that does not test its condition
 * again once it is queued (prepare_to_wait() then schedule(), without the
 * test between them that wait_event_interruptible() makes) misses C's
 * wake-up and sleeps on. Under voluntary preemption C runs when B has
 * returned (is asleep), and the results are the same.
 *
 * @param _metadata the test
 * @param self the fixture
 * @param m the model, emptied here
 * @param nb an O_NONBLOCK descriptor on the device, for C
 * @param b_fd B's descriptor: @p nb, or a blocking one
 * @param is_write nonzero for writes, zero for reads
 */
static void expect_answer_from_under_the_lock(struct __test_metadata *_metadata,
					      FIXTURE_DATA(fifo) *self,
					      struct fifo_model *m, int nb,
					      int b_fd, int is_write)
{
	const char *call = is_write ? "write" : "read";
	struct sleeper *b = &self->sleepers[2];
	int b_blocks = b_fd != nb;
	char data[FIFO_SIZE], what[240];
	struct undo_call *u;
	struct cpu_order order;
	struct frozen a;
	int status = 0;
	pid_t pid;

	u = mmap(NULL, sizeof(*u), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, u);
	drain_all(self->nb);
	fifo_model_reset(m);
	pattern(data, sizeof(data), 19);
	if (is_write) {
		ASSERT_EQ(FIFO_SIZE - 32, write(self->nb, data, FIFO_SIZE - 32));
		fifo_model_write(m, data, FIFO_SIZE - 32, 1);
	} else {
		ASSERT_EQ(32, write(self->nb, data, 32));
		fifo_model_write(m, data, 32, 1);
	}
	pid = lock_queue_start(_metadata, self, &order, &a, b, b_fd, is_write,
			       u, nb, -1, 0);
	ASSERT_LT(0, pid);
	EXPECT_EQ(32, frozen_release(&a));
	if (is_write) {
		memset(data, 'A', 32);
		fifo_model_write(m, data, 32, 0);
	} else {
		fifo_model_read(m, 32, 0, NULL);
	}
	EXPECT_EQ(0, wait_for_child(pid, &status, WAKE_MS)) {
		kill(pid, SIGKILL);
		/* Not for good: it may be stuck where SIGKILL cannot end it. */
		status = -1;
		wait_for_child(pid, &status, 1000);
	}
	EXPECT_TRUE(sleeper_returned(b, WAKE_MS)) {
		if (b_blocks)
			TH_LOG("a blocking %s(8) that found the FIFO %s under the lock, while a real-time call behind it %s 1 byte right after that unlock, before the %s was on its wait queue, never returned: test the condition again once queued (wait_event_interruptible() does; prepare_to_wait() then schedule() without that test loses a wake-up that comes in between)",
			       call, is_write ? "full" : "empty",
			       is_write ? "read" : "wrote", call);
	}
	sleeper_finish(b, self->nb);
	cpu_order_unpin(&order);
	if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		expect_result(_metadata,
			      is_write ? fifo_model_write(m, "cccccccc", 8, 1) :
					 fifo_model_read(m, 8, 1, NULL),
			      u->ret, u->err,
			      "the real-time O_NONBLOCK call behind it",
			      "an O_NONBLOCK call that finds the FIFO full (empty) fails with EAGAIN");
		/* B, when it blocks, takes C's byte (room) after it. */
		if (b_blocks)
			model_undo(_metadata, m, u->undo_ret, is_write);
	} else {
		EXPECT_TRUE(0) {
			TH_LOG("the real-time child did not make its calls (status %#x)",
			       status);
		}
	}
	snprintf(what, sizeof(what), "a%s %s(8) that waited for the lock while the %s ahead %s the FIFO, and that a %s of 1 byte followed at once, right after it let the lock go",
		 b_blocks ? " blocking" : "n O_NONBLOCK", call, call,
		 is_write ? "filled" : "emptied", is_write ? "read" : "write");
	expect_result(_metadata,
		      is_write ? fifo_model_write(m, "bbbbbbbb", 8, !b_blocks) :
				 fifo_model_read(m, 8, !b_blocks, NULL),
		      b->sh->call.ret, b->sh->call.err, what,
		      b_blocks ? (is_write ? "a blocking write to a full FIFO sleeps until there is room, and then writes what fits" :
					     "a blocking read of an empty FIFO sleeps until bytes come, and then reads them") :
		      is_write ? "a write answers by what it found under the writers' mutex: nothing copied, no fault, is a full FIFO (decide from kfifo_from_user()'s results, not from kfifo_is_full() after the unlock, when a reader may have made room)"
			       : "a read answers by what it found under the readers' mutex: nothing copied is an empty FIFO (decide from kfifo_to_user()'s results, not from kfifo_is_empty() after the unlock, when a writer may have added bytes)");
	if (!b_blocks && WIFEXITED(status) && !WEXITSTATUS(status))
		model_undo(_metadata, m, u->undo_ret, is_write);
	expect_contents(_metadata, m, "after a call answered and another undid its answer");
	frozen_destroy(&a);
	munmap(u, sizeof(*u));
}

/** @brief Run expect_answer_from_under_the_lock() under full preemption
 *         where the kernel can switch: through an O_NONBLOCK descriptor,
 *         and from Lab 04 on through a blocking one too.
 * @param _metadata the test
 * @param self the fixture
 * @param m the model
 * @param nb an O_NONBLOCK descriptor on the device
 * @param is_write nonzero for writes, zero for reads
 */
static void expect_answers_from_under_the_lock(struct __test_metadata *_metadata,
					       FIXTURE_DATA(fifo) *self,
					       struct fifo_model *m, int nb,
					       int is_write)
{
	char why[256];

	/* Before the test is pinned: the switch takes the other CPUs offline. */
	if (preempt_full_begin(&fifo_preempt_switched, why, sizeof(why)))
		TH_LOG("(this kernel runs without full preemption, so the real-time call runs after the first one has returned or slept, not at its unlock: %s)",
		       why);
	expect_answer_from_under_the_lock(_metadata, self, m, nb, nb,
					  is_write);
	if (FIFO_STAGE >= 4)
		expect_answer_from_under_the_lock(_metadata, self, m, nb,
						  self->fd, is_write);
	preempt_full_end(&fifo_preempt_switched);
}

/** @brief "Empty" is decided under the readers' lock: a read that waited
 *         for the lock while the reader ahead took every byte finds the
 *         FIFO empty, and answers as for an empty FIFO. An O_NONBLOCK read
 *         waits its turn at the lock like any other. And the bytes there
 *         are counted under the lock: a read that waited for it while a
 *         writer added bytes gets those too.
 */
TEST_F_TIMEOUT(fifo, empty_is_checked_under_the_readers_lock, 15)
{
	struct sleeper *b = &self->sleepers[0], *c = &self->sleepers[1];
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	struct fifo_model m;
	struct frozen a;
	char data[32], st;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	pattern(data, sizeof(data), 11);
	ASSERT_EQ(32, write(self->fd, data, 32));
	ASSERT_EQ(1, frozen_start(&a, self->fd, 0, 32));
	st = sleeper_start(b, nb, NULL, 8);
	EXPECT_EQ('S', st) {
		TH_LOG("an O_NONBLOCK read while another reader is in the middle of its copy should wait for the readers' mutex: %s",
		       not_waiting(b, st, "readers'"));
	}
	/* A blocking read waits behind it: each answers by its own file's
	 * O_NONBLOCK, not by the flag of the call that came last. */
	st = sleeper_start(c, self->fd, NULL, 8);
	EXPECT_EQ('S', st) {
		TH_LOG("a read while another reader is in the middle of its copy should wait for the readers' mutex: %s",
		       not_waiting(c, st, "readers'"));
	}
	EXPECT_EQ(32, frozen_release(&a));
	/* The reader ahead took all 32: the FIFO is empty for B and C. */
	EXPECT_TRUE(sleeper_returned(b, WAKE_MS));
	sleeper_finish(b, self->nb);
	expect_result(_metadata, fifo_model_read(&m, 8, 1, NULL),
		      b->sh->call.ret, b->sh->call.err,
		      "an O_NONBLOCK read(8) that waited for the lock while the reader ahead took every byte (a blocking read waiting behind it)",
		      FIFO_STAGE >= 3 ? "with O_NONBLOCK a read of an empty FIFO fails with EAGAIN: \"empty\" must be tested after taking the mutex (tested before it, the FIFO still looked full), and O_NONBLOCK is this call's file's (file->f_flags), not a copy that the blocking read behind it changed"
				      : "a read of an empty FIFO returns 0");
#if FIFO_STAGE < 4
	EXPECT_TRUE(sleeper_returned(c, WAKE_MS));
	sleeper_finish(c, self->nb);
	expect_result(_metadata, fifo_model_read(&m, 8, 0, NULL),
		      c->sh->call.ret, c->sh->call.err,
		      "a blocking read(8) that waited for the lock behind an O_NONBLOCK one while the reader ahead took every byte",
		      "a read of an empty FIFO returns 0 without O_NONBLOCK; O_NONBLOCK is each call's file's (file->f_flags), not a copy that another call changed");
#else
	st = task_wait_asleep(c->sh->call.tid, &c->sh->call.done, 5000);
	EXPECT_EQ('S', st) {
		TH_LOG("a read that waited for the lock while the reader ahead took every byte should then sleep until data comes: %s (test \"empty\" under the mutex, in a loop)",
		       not_asleep(c, st));
	}
	/* The data comes in a write frozen in its copy until C is seen
	 * asleep: a driver that wakes the readers before the bytes are in
	 * has then woken C for nothing, every time. */
	memset(data, 'A', 24);
	EXPECT_EQ(24, serve_by_writing(self->nb, data, 24, c, 1));
	EXPECT_TRUE(sleeper_returned(c, WAKE_MS)) {
		TH_LOG("a write of 24 bytes did not wake the reader asleep on the empty FIFO: wake the readers after the bytes are in");
	}
	sleeper_finish(c, self->nb);
	EXPECT_EQ(8, c->sh->call.ret);
	EXPECT_EQ(0, memcmp(c->sh->buf, "AAAAAAAA", 8));
#endif
	frozen_destroy(&a);
	expect_counted_under_the_lock(_metadata, self, &m, 0);
	expect_answers_from_under_the_lock(_metadata, self, &m, nb, 0);
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief "Full" is decided under the writers' lock: a write that waited
 *         for the lock while the writer ahead filled the FIFO finds it
 *         full, and answers as for a full FIFO. And the room is measured
 *         under the lock: a write that waited for it while a reader made
 *         room uses that room too.
 */
TEST_F_TIMEOUT(fifo, full_is_checked_under_the_writers_lock, 15)
{
	struct sleeper *b = &self->sleepers[0], *c = &self->sleepers[1];
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	char fill[FIFO_SIZE], st;
	struct fifo_model m;
	struct frozen a;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE - 32, write(self->fd, fill, FIFO_SIZE - 32));
	fifo_model_write(&m, fill, FIFO_SIZE - 32, 0);
	ASSERT_EQ(1, frozen_start(&a, self->fd, 1, 32));
	st = sleeper_start(b, nb, "bbbbbbbb", 8);
	EXPECT_EQ('S', st) {
		TH_LOG("an O_NONBLOCK write while another writer is in the middle of its copy should wait for the writers' mutex: %s",
		       not_waiting(b, st, "writers'"));
	}
	/* A blocking write waits behind it: each answers by its own file's
	 * O_NONBLOCK, not by the flag of the call that came last. */
	st = sleeper_start(c, self->fd, "cccc", 4);
	EXPECT_EQ('S', st) {
		TH_LOG("a write while another writer is in the middle of its copy should wait for the writers' mutex: %s",
		       not_waiting(c, st, "writers'"));
	}
	EXPECT_EQ(32, frozen_release(&a));
	memset(fill, 'A', 32);
	fifo_model_write(&m, fill, 32, 0);
	EXPECT_TRUE(sleeper_returned(b, WAKE_MS));
	sleeper_finish(b, self->nb);
	expect_result(_metadata, fifo_model_write(&m, "bbbbbbbb", 8, 1),
		      b->sh->call.ret, b->sh->call.err,
		      "an O_NONBLOCK write(8) that waited for the lock while the writer ahead filled the FIFO (a blocking write waiting behind it)",
		      FIFO_STAGE >= 3 ? "with O_NONBLOCK a write to a full FIFO fails with EAGAIN: \"full\" must be tested after taking the mutex (tested before it, the FIFO still had room), and O_NONBLOCK is this call's file's (file->f_flags), not a copy that the blocking write behind it changed"
				      : "a write to a full FIFO fails with ENOSPC");
#if FIFO_STAGE < 4
	EXPECT_TRUE(sleeper_returned(c, WAKE_MS));
	sleeper_finish(c, self->nb);
	expect_result(_metadata, fifo_model_write(&m, "cccc", 4, 0),
		      c->sh->call.ret, c->sh->call.err,
		      "a blocking write(4) that waited for the lock behind an O_NONBLOCK one while the writer ahead filled the FIFO",
		      "a write to a full FIFO fails with ENOSPC without O_NONBLOCK; O_NONBLOCK is each call's file's (file->f_flags), not a copy that another call changed");
#else
	st = task_wait_asleep(c->sh->call.tid, &c->sh->call.done, 5000);
	EXPECT_EQ('S', st) {
		TH_LOG("a write that waited for the lock while the writer ahead filled the FIFO should then sleep until there is room: %s (test \"full\" under the mutex, in a loop)",
		       not_asleep(c, st));
	}
	/* The room comes from a read frozen in its copy until C is seen
	 * asleep: a driver that wakes the writers before the room is made
	 * has then woken C for nothing, every time. */
	EXPECT_EQ(24, serve_by_reading(self->nb, fill, 24, c, 1));
	fifo_model_read(&m, 24, 1, NULL);
	EXPECT_TRUE(sleeper_returned(c, WAKE_MS)) {
		TH_LOG("a read of 24 bytes did not wake the writer asleep on the full FIFO: wake the writers after the room is made");
	}
	sleeper_finish(c, self->nb);
	EXPECT_EQ(4, c->sh->call.ret);
	fifo_model_write(&m, "cccc", 4, 0);
#endif
	expect_contents(_metadata, &m, "at the end");
	frozen_destroy(&a);
	expect_counted_under_the_lock(_metadata, self, &m, 1);
	expect_answers_from_under_the_lock(_metadata, self, &m, nb, 1);
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief With a call of the other kind frozen in its copy of 32 bytes,
 *         a read of 8 bytes (write of 4) through @p fd goes through at
 *         once, and moves them all; each read gets the oldest bytes.
 * @param _metadata the test
 * @param self the fixture
 * @param fd the call's descriptor
 * @param is_write nonzero for the write (a read is frozen)
 * @param how "a" or "an O_NONBLOCK", for the message
 * @param oldest the bytes in the FIFO before: the 8 the read must get,
 *        or the 32 the frozen read must get
 */
static void expect_not_held_up(struct __test_metadata *_metadata,
			       FIXTURE_DATA(fifo) *self, int fd, int is_write,
			       const char *how, const char *oldest)
{
	struct sleeper *s = &self->sleepers[0];
	struct frozen a;
	char st;

	ASSERT_EQ(1, frozen_start(&a, self->fd, !is_write, 32));
	st = sleeper_start(s, fd, is_write ? "wxyz" : NULL, is_write ? 4 : 8);
	EXPECT_EQ('X', st) {
		TH_LOG("%s %s waited while a %s was in the middle of its copy: readers and writers each have their own mutex (kfifo needs no lock between one reader and one writer), with O_NONBLOCK too",
		       how, is_write ? "write" : "read",
		       is_write ? "read" : "write");
	}
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS));
	EXPECT_EQ(32, frozen_release(&a));
	if (is_write && a.call.ret == 32) {
		EXPECT_EQ(0, memcmp(a.call.buf, oldest, 32)) {
			TH_LOG("the read of 32 bytes frozen in its copy while %s write went through got \"%.32s\", not the 32 oldest bytes, \"%.32s\"",
			       how, a.call.buf, oldest);
		}
	}
	frozen_destroy(&a);
	sleeper_finish(s, self->nb);
	EXPECT_EQ(is_write ? 4 : 8, s->sh->call.ret);
	if (!is_write && s->sh->call.ret == 8) {
		EXPECT_EQ(0, memcmp(s->sh->buf, oldest, 8)) {
			TH_LOG("%s read of 8 bytes while a write was frozen in its copy got \"%.8s\", not the 8 bytes there, \"%.8s\"",
			       how, s->sh->buf, oldest);
		}
	}
	sleeper_free(s, self->nb);
}

/** @brief Check what the FIFO holds after a call of each kind went
 *         through at once, one of them frozen in its copy meanwhile.
 * @param _metadata the test
 * @param self the fixture
 * @param want the bytes the FIFO must hold, in order
 * @param len how many
 * @param after what happened, for the message
 */
static void expect_fifo_holds(struct __test_metadata *_metadata,
			      FIXTURE_DATA(fifo) *self, const char *want,
			      size_t len, const char *after)
{
	char buf[FIFO_SIZE];
	ssize_t n = drain(self->nb, buf, sizeof(buf));

	EXPECT_TRUE(n == (ssize_t)len && !memcmp(buf, want, len)) {
		TH_LOG("after %s, the FIFO holds %zd bytes, \"%.*s\", not the %zu bytes \"%.*s\": a read moves only the readers' side of the FIFO and a write only the writers' (kfifo's out and in), so each call's bytes stay whole whatever the other side does meanwhile",
		       after, n, n > 0 ? (int)n : 0, buf, len, (int)len, want);
	}
}

/** @brief The calls of reader_and_writer_do_not_wait_for_each_other
 *         (which see), also made by
 *         data_path_works_with_its_debug_messages_on with the messages on.
 * @param _metadata the test
 * @param self the fixture
 */
static void readers_and_writers_do_not_wait(struct __test_metadata *_metadata,
					    FIXTURE_DATA(fifo) *self)
{
	struct sleeper *s = &self->sleepers[0];
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	const int fds[2] = { self->fd, nb };
	char buf[FIFO_SIZE], what[160], st;
	struct fifo_model m;
	struct frozen a;
	unsigned int i;

	for (i = 0; i < 2; i++) {
		const char *how = i ? "an O_NONBLOCK" : "a";

		/* The read empties the FIFO while the write is in its copy:
		 * the write's 32 'A's then follow. */
		ASSERT_EQ(8, write(self->fd, "01234567", 8));
		expect_not_held_up(_metadata, self, fds[i], 0, how, "01234567");
		memset(buf, 'A', 32);
		expect_fifo_holds(_metadata, self, buf, 32,
				  "a read that took every byte while a write of 32 'A's was frozen in its copy");
		/* The frozen read takes the 32 oldest of 40 bytes, the write
		 * adds 4 after the other 8. */
		pattern(buf, 40, 3 + i);
		ASSERT_EQ(40, write(self->fd, buf, 40));
		expect_not_held_up(_metadata, self, fds[i], 1, how, buf);
		memcpy(buf + 40, "wxyz", 4);
		expect_fifo_holds(_metadata, self, buf + 32, 12,
				  "a write of \"wxyz\" while a read of 32 of 40 bytes was frozen in its copy");
	}
	/* Nothing there yet for the O_NONBLOCK call: it answers at once. A
	 * frozen write has not put its bytes in, a frozen read has not
	 * taken its bytes out. */
	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	memset(buf, 'f', sizeof(buf));
	for (i = 0; i < 2; i++) {
		if (i) {
			ASSERT_EQ(FIFO_SIZE, write(self->nb, buf, FIFO_SIZE));
			fifo_model_write(&m, buf, FIFO_SIZE, 1);
		}
		ASSERT_EQ(1, frozen_start(&a, self->fd, !i, 32));
		st = sleeper_start(s, nb, i ? "wxyz" : NULL, i ? 4 : 8);
		snprintf(what, sizeof(what), "an O_NONBLOCK %s while a %s was frozen in its copy",
			 i ? "write(4) to the full FIFO" : "read(8) of the empty FIFO",
			 i ? "read of 32 bytes" : "write of 32 bytes");
		EXPECT_EQ('X', st) {
			TH_LOG("%s waited: it takes only its own side's mutex, and answers at once",
			       what);
		}
		EXPECT_TRUE(sleeper_returned(s, WAKE_MS));
		/* Let the frozen call go first: a call still waiting for its
		 * mutex gets it then, and returns. */
		EXPECT_EQ(32, frozen_release(&a));
		frozen_destroy(&a);
		sleeper_finish(s, self->nb);
		expect_result(_metadata,
			      i ? fifo_model_write(&m, "wxyz", 4, 1) :
				  fifo_model_read(&m, 8, 1, NULL),
			      s->sh->call.ret, s->sh->call.err, what,
			      "readers and writers each have their own mutex; a call with nothing to give answers at once");
		sleeper_free(s, self->nb);
		drain_all(self->nb);
		fifo_model_reset(&m);
	}
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief A reader and a writer never wait for each other: each side has
 *         its own mutex, and a read goes through while a write is frozen
 *         in its copy, and the other way round, through a descriptor
 *         without O_NONBLOCK and one with it; and an O_NONBLOCK read of
 *         the empty FIFO (write to the full one) answers at once while a
 *         write (read) is frozen in its copy, its bytes (room) not there
 *         yet.
 */
TEST_F_TIMEOUT(fifo, reader_and_writer_do_not_wait_for_each_other, 15)
{
	readers_and_writers_do_not_wait(_metadata, self);
}

/** @brief The rule zero_length_calls_do_not_wait_for_the_lock checks, for
 *         its failure messages. */
#define ZERO_NO_LOCK_RULE "a read or write of 0 bytes returns 0 at once, even while another call holds the mutex, as read(fd, buf, 0) on a pipe does (test count == 0 first, before taking the lock)"

/** @brief A read or write of 0 bytes returns 0 at once, without waiting
 *         for the readers' or the writers' mutex: while a call of the same
 *         kind is frozen in the middle of its copy (and holds that mutex),
 *         0-byte calls through descriptors with and without O_NONBLOCK
 *         return 0, and nothing changes. A rule of Labs 02 to 04 (in
 *         Lab 04 a 0-byte call never sleeps, not even for a mutex).
 */
TEST_F_TIMEOUT(fifo, zero_length_calls_do_not_wait_for_the_lock, 15)
{
	struct sleeper *s = &self->sleepers[0];
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	char data[48], what[160];
	struct fifo_model m;
	struct frozen a;
	int is_write, d;
	char st;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	pattern(data, sizeof(data), 5);
	for (is_write = 0; is_write < 2; is_write++) {
		const char *lock = is_write ? "writers'" : "readers'";
		const char *call = is_write ? "write" : "read";

		if (!is_write) {
			ASSERT_EQ(48, write(self->fd, data, 48));
			fifo_model_write(&m, data, 48, 0);
		}
		ASSERT_EQ(1, frozen_start(&a, self->fd, is_write, 32)) {
			TH_LOG("the %s was not frozen in its copy (it returned %zd)",
			       call, a.call.ret);
		}
		for (d = 0; d < 2; d++) {
			snprintf(what, sizeof(what),
				 "%s(fd, buf, 0)%s while another %s holds the %s mutex in the middle of its copy",
				 call, d ? " with O_NONBLOCK" : "", call, lock);
			st = sleeper_start(s, d ? nb : self->fd,
					   is_write ? "z" : NULL, 0);
			EXPECT_EQ('X', st) {
				TH_LOG("%s did not return at once: %s; rule: " ZERO_NO_LOCK_RULE,
				       what, st == 'S' || st == 'D' ?
				       "it waits for the mutex" : not_asleep(s, st));
			}
			sleeper_finish(s, self->nb);
			expect_result(_metadata,
				      is_write ? fifo_model_write(&m, data, 0, d)
					       : fifo_model_read(&m, 0, d, NULL),
				      s->sh->call.ret, s->sh->call.err, what,
				      ZERO_NO_LOCK_RULE);
			sleeper_free(s, self->nb);
		}
		EXPECT_EQ(32, frozen_release(&a)) {
			TH_LOG("the frozen %s returned %zd, not 32", call,
			       a.call.ret);
		}
		if (is_write) {
			char as[32];

			memset(as, 'A', sizeof(as));
			fifo_model_write(&m, as, sizeof(as), 0);
		} else {
			char exp[32];

			fifo_model_read(&m, sizeof(exp), 0, exp);
			EXPECT_EQ(0, memcmp(exp, a.call.buf, sizeof(exp)));
		}
		frozen_destroy(&a);
	}
	expect_contents(_metadata, &m, "after the calls of 0 bytes");
	fifo_model_destroy(&m);
	close(nb);
}

/** @brief The rule the every_way_out_of_a_*_lets_the_lock_go_once tests
 *         check, for their messages. */
#define LOCK_ONCE_RULE "each side's mutex is taken once and let go once on every way out of a call, the early ones too (nothing to read or no room, a fault, a signal): two callers of one side never copy at the same time. A second mutex_unlock() on the way out (an unlock before a goto to a label that unlocks again) lets go of the mutex the next caller took meanwhile, and on a kernel without mutex debugging nothing else tells"

/** @brief Bytes the lock taker's call of the other side moves: data for
 *         its frozen read, room for its frozen write. */
#define LOCK_TAKER_OTHER 40

/** @brief Bytes of the lock taker's frozen call (it stalls after 16). */
#define LOCK_TAKER_HELD 32

/** @brief A real-time thread of the test that takes one side's mutex the
 *         moment a call K lets it go, and keeps it.
 *
 * Its first call, of one byte, waits for the mutex behind K. Once it has
 * returned, a call of the other side brings data (room), and a third call
 * of K's side, of LOCK_TAKER_HELD bytes, is frozen in its copy
 * (copy_stall.h), holding the mutex. On K's CPU, under full preemption
 * (preempt_full.h), the three run at K's unlock, before K's next
 * instruction: whatever K does after that unlock, it does while this
 * thread holds the mutex. All three use an O_NONBLOCK descriptor, so none
 * of them sleeps on a wait queue.
 */
struct lock_taker {
	/** @brief The call that waits for the mutex behind K. */
	struct fifo_call first;
	/** @brief The call of the other side. */
	struct fifo_call other;
	/** @brief The call frozen in its copy, holding the mutex. */
	struct fifo_call held;
	/** @brief The stall in @ref held's buffer. */
	struct copy_stall cs;
	/** @brief The first call's byte. */
	char first_buf[1];
	/** @brief The other call's bytes. */
	char other_buf[LOCK_TAKER_OTHER];
	/** @brief The thread. */
	pthread_t thread;
	/** @brief The first call writes here just before it starts. */
	int ready[2];
	/** @brief The frozen call writes here when it returned. */
	int done[2];
	/** @brief What pthread_setschedparam() returned in the thread. */
	int rt_err;
	/** @brief Nonzero while the thread runs. */
	int running;
};

/** @brief Describe one call of a lock taker.
 * @param c the call, zeroed before
 * @param fd the descriptor
 * @param buf the buffer
 * @param count the byte count
 * @param is_write nonzero for write()
 */
static void lock_taker_call(struct fifo_call *c, int fd, char *buf,
			    size_t count, int is_write)
{
	c->fd = fd;
	c->buf = buf;
	c->count = count;
	c->is_write = is_write;
	c->ready_pipe = -1;
	c->done_pipe = -1;
}

/** @brief The lock taker's thread: real-time, then its three calls.
 * @param arg the struct lock_taker
 * @return NULL
 */
static void *lock_taker_main(void *arg)
{
	struct lock_taker *t = arg;
	struct sched_param rt = { .sched_priority = 1 };

	t->rt_err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt);
	fifo_call_main(&t->first);
	fifo_call_main(&t->other);
	fifo_call_main(&t->held);
	return NULL;
}

/** @brief Start a lock taker and wait until its first call sleeps (on
 *         the mutex, which K waits for ahead of it).
 * @param t the taker, filled in here
 * @param fd an O_NONBLOCK descriptor on the device
 * @param is_write nonzero for the writers' side
 * @return the first call's state as task_wait_asleep() gives it ('S'
 *         waiting), or '?' on an error of the test
 */
static char lock_taker_start(struct lock_taker *t, int fd, int is_write)
{
	char byte;

	memset(t, 0, sizeof(*t));
	if (pipe(t->ready) || pipe(t->done))
		return '?';
	t->first_buf[0] = 'v';
	pattern(t->other_buf, sizeof(t->other_buf), 31);
	lock_taker_call(&t->first, fd, t->first_buf, 1, is_write);
	t->first.ready_pipe = t->ready[1];
	lock_taker_call(&t->other, fd, t->other_buf, LOCK_TAKER_OTHER,
			!is_write);
	lock_taker_call(&t->held, fd, NULL, LOCK_TAKER_HELD, is_write);
	t->held.done_pipe = t->done[1];
	t->held.buf = copy_stall_init(&t->cs, 16, is_write ? 'v' : 0);
	if (!t->held.buf || pthread_create(&t->thread, NULL, lock_taker_main, t))
		return '?';
	t->running = 1;
	if (read(t->ready[0], &byte, 1) != 1)
		return '?';
	return task_wait_asleep(t->first.tid, &t->first.done, 5000);
}

/** @brief Let the lock taker's frozen call go on (a write's bytes are all
 *         'v's) and wait until the thread ends.
 * @param t the taker
 */
static void lock_taker_release(struct lock_taker *t)
{
	if (!t->running)
		return;
	copy_stall_release(&t->cs, 'v');
	pthread_join(t->thread, NULL);
	t->running = 0;
}

/** @brief Release the lock taker if need be, and free everything.
 * @param t the taker
 */
static void lock_taker_destroy(struct lock_taker *t)
{
	lock_taker_release(t);
	copy_stall_destroy(&t->cs);
	close(t->ready[0]);
	close(t->ready[1]);
	close(t->done[0]);
	close(t->done[1]);
}

/** @brief The ways out of a call that every_way_out_of_a_*() tries. */
enum lock_way {
	/** @brief O_NONBLOCK, nothing to read or no room: EAGAIN (stage 3
	 *         on). */
	LOCK_WAY_EAGAIN,
	/** @brief Without O_NONBLOCK, nothing to read or no room: 0 or
	 *         ENOSPC (stages 2 and 3). */
	LOCK_WAY_NOTHING,
	/** @brief A buffer of which not a byte can be copied: EFAULT. */
	LOCK_WAY_FAULT,
	/** @brief 8 bytes moved: the ordinary way out. */
	LOCK_WAY_MOVES,
	/** @brief How many ways. */
	LOCK_WAYS
};

/** @brief Whether this lab's calls have way out @p way.
 * @param way the way
 * @return nonzero if so
 */
static int lock_way_exists(enum lock_way way)
{
	if (way == LOCK_WAY_EAGAIN)
		return FIFO_STAGE >= 3;
	if (way == LOCK_WAY_NOTHING)
		return FIFO_STAGE <= 3;
	return 1;
}

/** @brief What K does on way out @p way, for messages.
 * @param way the way
 * @param is_write nonzero for writes
 * @return a static string
 */
static const char *lock_way_text(enum lock_way way, int is_write)
{
	static const char *const text[LOCK_WAYS][2] = {
		{ "an O_NONBLOCK read of the empty FIFO (EAGAIN)",
		  "an O_NONBLOCK write to the full FIFO (EAGAIN)" },
		{ "a read of the empty FIFO (0)",
		  "a write to the full FIFO (ENOSPC)" },
		{ "a read of 8 bytes into a buffer of which not a byte can be written (EFAULT)",
		  "a write of 8 bytes from a buffer of which not a byte can be read (EFAULT)" },
		{ "a read of 8 bytes that gets them",
		  "a write of 8 bytes that writes them" },
	};

	return text[way][!!is_write];
}

/** @brief One way out of a call K, and the mutex after it.
 *
 * A call H of LOCK_TAKER_HELD bytes is frozen in its copy, holding the
 * side's mutex, and leaves the FIFO so that K, next, meets @p way: it
 * takes every byte (fills the FIFO) for the "nothing" ways, and leaves
 * data (room) for the others. K waits for the mutex behind H; the lock
 * taker (struct lock_taker), real-time, waits behind K. Everything runs
 * on one CPU (cpu_order.h). H is let go: K takes the mutex, meets
 * @p way and lets the mutex go, which wakes the taker; under full
 * preemption the taker runs at once, takes the mutex and is frozen in
 * its copy before K's next instruction. A call C of the same side must
 * then wait for the mutex, which the taker holds, while K, returned, has
 * let go of it once. A K that lets go of it twice has released the
 * taker's mutex, and C gets through. Then the taker is let go, C
 * completes, and every call's result and the FIFO's bytes must be the
 * model's for the calls in that order. Without full preemption the taker
 * runs once K has returned, and a correct driver gives the same results.
 *
 * @param _metadata the test
 * @param self the fixture
 * @param nb an O_NONBLOCK descriptor on the device
 * @param bad a buffer of which not a byte can be read or written
 * @param is_write nonzero for the writers' side
 * @param way K's way out
 */
static void way_out_lets_the_lock_go_once(struct __test_metadata *_metadata,
					  FIXTURE_DATA(fifo) *self, int nb,
					  char *bad, int is_write,
					  enum lock_way way)
{
	const char *call = is_write ? "write" : "read";
	const char *lock = is_write ? "writers'" : "readers'";
	const char *how = lock_way_text(way, is_write);
	struct sleeper *k = &self->sleepers[0], *c = &self->sleepers[1];
	int nothing = way == LOCK_WAY_EAGAIN || way == LOCK_WAY_NOTHING;
	int kfd = way == LOCK_WAY_EAGAIN ? nb : self->fd;
	size_t prefill = is_write ? (nothing ? FIFO_SIZE - LOCK_TAKER_HELD : 16)
				  : (nothing ? LOCK_TAKER_HELD : 48);
	char data[FIFO_SIZE], want[FIFO_SIZE], what[320];
	struct fifo_model_result r;
	struct cpu_order order;
	struct lock_taker t;
	struct fifo_model m;
	struct frozen h;
	int frozen;
	char st;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	drain_all(self->nb);
	pattern(data, sizeof(data), 13 + way);
	ASSERT_EQ((ssize_t)prefill, write(self->nb, data, prefill));
	fifo_model_write(&m, data, prefill, 1);
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	ASSERT_EQ(1, frozen_start(&h, self->fd, is_write, LOCK_TAKER_HELD)) {
		TH_LOG("the %s of %d bytes was not frozen in its copy (it returned %zd)",
		       call, LOCK_TAKER_HELD, h.call.ret);
	}
	st = sleeper_start_with(k, kfd, is_write ? "kkkkkkkk" : NULL, 8,
				way == LOCK_WAY_FAULT ? bad : NULL);
	ASSERT_EQ('S', st) {
		TH_LOG("%s, made while another %s holds the %s mutex in the middle of its copy, should wait for it: %s",
		       how, call, lock, not_waiting(k, st, lock));
	}
	st = lock_taker_start(&t, nb, is_write);
	ASSERT_EQ(0, t.rt_err) {
		TH_LOG("cannot make a thread real-time: %s", strerror(t.rt_err));
	}
	ASSERT_EQ('S', st) {
		TH_LOG("an O_NONBLOCK %s of 1 byte, made while another %s holds the %s mutex and %s waits for it, should wait for it too: state %c",
		       call, call, lock, how, st);
	}
	/* H lets go: K meets its way out, and the taker runs at K's unlock. */
	EXPECT_EQ(LOCK_TAKER_HELD, frozen_release(&h));
	if (is_write) {
		memset(want, 'A', LOCK_TAKER_HELD);
		fifo_model_write(&m, want, LOCK_TAKER_HELD, 0);
	} else {
		fifo_model_read(&m, LOCK_TAKER_HELD, 0, want);
		EXPECT_EQ(0, memcmp(want, h.call.buf, LOCK_TAKER_HELD));
	}
	frozen = copy_stall_wait(&t.cs, t.done[0], 5000);
	EXPECT_TRUE(sleeper_returned(k, WAKE_MS)) {
		TH_LOG("%s did not return once the %s ahead of it let the %s mutex go",
		       how, call, lock);
	}
	ASSERT_EQ(1, frozen) {
		TH_LOG("after %s, a %s of %d bytes was not frozen in its copy (it returned %zd): the %s that waited behind it did not get the %s mutex",
		       how, call, LOCK_TAKER_HELD, t.held.ret, call, lock);
	}
	/* K has returned; the taker holds the mutex: C must wait for it. */
	st = sleeper_start(c, nb, is_write ? "cccccccc" : NULL, 8);
	EXPECT_EQ('S', st) {
		TH_LOG("after %s, another %s took the %s mutex and is frozen in its copy; an O_NONBLOCK %s made then should wait for that mutex, and it %s: the way out of %s let go of the mutex a second time, releasing the other %s's; rule: " LOCK_ONCE_RULE,
		       how, call, lock, call,
		       st == 'X' ? "got through while the other still copied" :
		       not_waiting(c, st, lock), how, call);
	}
	lock_taker_release(&t);
	EXPECT_TRUE(sleeper_returned(c, WAKE_MS)) {
		TH_LOG("the O_NONBLOCK %s that waited for the %s mutex did not return once it was let go",
		       call, lock);
	}
	sleeper_finish(c, self->nb);
	sleeper_finish(k, self->nb);
	cpu_order_unpin(&order);

	/* The calls in the order the mutex let them in. */
	if (way == LOCK_WAY_FAULT)
		r = is_write ? fifo_model_write_upto(&m, "kkkkkkkk", 8, 0, 0) :
			       fifo_model_read_upto(&m, 8, 0, 0, NULL);
	else if (is_write)
		r = fifo_model_write(&m, "kkkkkkkk", 8, kfd == nb);
	else
		r = fifo_model_read(&m, 8, kfd == nb, want);
	snprintf(what, sizeof(what), "%s, which waited for the mutex", how);
	expect_result(_metadata, r, k->sh->call.ret, k->sh->call.err, what,
		      LOCK_ONCE_RULE);
	if (way == LOCK_WAY_MOVES && !is_write && k->sh->call.ret == 8) {
		EXPECT_EQ(0, memcmp(want, k->sh->buf, 8)) {
			TH_LOG("%s did not get the oldest 8 bytes", how);
		}
	}
	r = is_write ? fifo_model_write(&m, t.first_buf, 1, 1) :
		       fifo_model_read(&m, 1, 1, want);
	snprintf(what, sizeof(what), "the O_NONBLOCK %s of 1 byte that waited behind %s",
		 call, how);
	expect_result(_metadata, r, t.first.ret, t.first.err, what,
		      LOCK_ONCE_RULE);
	r = is_write ? fifo_model_read(&m, LOCK_TAKER_OTHER, 1, want) :
		       fifo_model_write(&m, t.other_buf, LOCK_TAKER_OTHER, 1);
	expect_result(_metadata, r, t.other.ret, t.other.err,
		      is_write ? "an O_NONBLOCK read of 40 bytes that made room" :
				 "an O_NONBLOCK write of 40 bytes that brought data",
		      "a read returns min(n, bytes there), a write writes min(n, room)");
	if (is_write) {
		memset(data, 'v', LOCK_TAKER_HELD);
		r = fifo_model_write(&m, data, LOCK_TAKER_HELD, 1);
	} else {
		r = fifo_model_read(&m, LOCK_TAKER_HELD, 1, want);
	}
	snprintf(what, sizeof(what), "the O_NONBLOCK %s of %d bytes that held the %s mutex, frozen in its copy, after %s",
		 call, LOCK_TAKER_HELD, lock, how);
	if (expect_result(_metadata, r, t.held.ret, t.held.err, what,
			  LOCK_ONCE_RULE) && !is_write) {
		EXPECT_EQ(0, memcmp(want, t.held.buf, LOCK_TAKER_HELD)) {
			TH_LOG("%s got other bytes than the oldest %d: did a %s get through while it copied?",
			       what, LOCK_TAKER_HELD, call);
		}
	}
	r = is_write ? fifo_model_write(&m, "cccccccc", 8, 1) :
		       fifo_model_read(&m, 8, 1, want);
	snprintf(what, sizeof(what), "the O_NONBLOCK %s of 8 bytes that waited for the frozen one",
		 call);
	expect_result(_metadata, r, c->sh->call.ret, c->sh->call.err, what,
		      LOCK_ONCE_RULE);
	snprintf(what, sizeof(what), "after %s and the calls behind it (nothing lost, nothing twice)",
		 how);
	expect_contents(_metadata, &m, what);
	sleeper_free(c, self->nb);
	sleeper_free(k, self->nb);
	lock_taker_destroy(&t);
	frozen_destroy(&h);
	fifo_model_destroy(&m);
}

/** @brief Every way out of a call of one side, in turn
 *         (way_out_lets_the_lock_go_once()), under full preemption where
 *         the kernel can switch.
 * @param _metadata the test
 * @param self the fixture
 * @param is_write nonzero for the writers' side
 */
static void every_way_out_lets_the_lock_go_once(struct __test_metadata *_metadata,
						FIXTURE_DATA(fifo) *self,
						int is_write)
{
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	struct edge_buf bad;
	char why[256];
	int way;

	ASSERT_EQ(0, edge_buf_init(&bad, 1));
	/* Before the test is pinned: the switch takes the other CPUs offline. */
	if (preempt_full_begin(&fifo_preempt_switched, why, sizeof(why)))
		TH_LOG("(this kernel runs without full preemption, so the real-time call behind each way out takes the mutex once that call has returned, not at its unlock, and a second unlock goes unseen here; the debug kernel's lockdep reports it: %s)",
		       why);
	for (way = 0; way < LOCK_WAYS; way++)
		if (lock_way_exists(way))
			way_out_lets_the_lock_go_once(_metadata, self, nb,
						      edge_buf_at(&bad, 0),
						      is_write, way);
	preempt_full_end(&fifo_preempt_switched);
	edge_buf_destroy(&bad);
	close(nb);
}

/** @brief Every way out of a read lets the readers' mutex go exactly
 *         once: a read queued behind it that takes the mutex at its
 *         unlock keeps it (every_way_out_lets_the_lock_go_once()). */
TEST_F_TIMEOUT(fifo, every_way_out_of_a_read_lets_the_lock_go_once, 30)
{
	every_way_out_lets_the_lock_go_once(_metadata, self, 0);
}

/** @brief Every way out of a write lets the writers' mutex go exactly
 *         once (every_way_out_lets_the_lock_go_once()). */
TEST_F_TIMEOUT(fifo, every_way_out_of_a_write_lets_the_lock_go_once, 30)
{
	every_way_out_lets_the_lock_go_once(_metadata, self, 1);
}

#if FIFO_STAGE >= 3
/** @brief O_NONBLOCK belongs to the open file: descriptors opened in a row
 *         with and without it each keep their own, dup() shares it, and
 *         fcntl() changes it for the next call on every descriptor of
 *         that file only.
 */
TEST_F_TIMEOUT(fifo, o_nonblock_belongs_to_the_open_file, 15)
{
	int fd[5], i, j;
	struct fifo_model m;
	char c, what[96];
	ssize_t n;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	/* Opened in this order: a flag kept per device, not per file,
	 * would follow the last open. fd[4] is a dup() of fd[3]. */
	fd[0] = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	fd[1] = open_dev(_metadata, O_RDWR);
	fd[2] = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	fd[3] = open_dev(_metadata, O_RDWR);
	fd[4] = dup(fd[3]);
	ASSERT_LE(0, fd[4]);
	for (j = 0; j < 3; j++) {
		if (j == 1) {
			set_nonblock(_metadata, fd[4], 1);  /* fd[3] too */
			set_nonblock(_metadata, fd[0], 0);
		} else if (j == 2) {
			set_nonblock(_metadata, fd[3], 0);  /* fd[4] too */
			set_nonblock(_metadata, fd[1], 1);
		}
		for (i = 0; i < 5; i++) {
			int nonblock = !!(fcntl(fd[i], F_GETFL) & O_NONBLOCK);
			struct sleeper *s = &self->sleepers[0];

			snprintf(what, sizeof(what),
				 "round %d: read(1) of the empty FIFO on descriptor %d (%s)",
				 j, i, nonblock ? "O_NONBLOCK" : "blocking");
			if (FIFO_STAGE >= 4 && !nonblock) {
				char st = sleeper_start(s, fd[i], NULL, 1);

				EXPECT_EQ('S', st) {
					TH_LOG("%s should sleep: %s; rule: O_NONBLOCK is the open file's, read from file->f_flags at every call",
					       what, not_asleep(s, st));
				}
				sleeper_free(s, self->nb);
				continue;
			}
			errno = 0;
			n = read(fd[i], &c, 1);
			expect_result(_metadata, fifo_model_read(&m, 1, nonblock, &c),
				      n, errno, what,
				      "O_NONBLOCK is the open file's: read it from file->f_flags at every call, not from a copy made at open (or shared by all opens)");
		}
	}
	for (i = 0; i < 5; i++)
		close(fd[i]);
	fifo_model_destroy(&m);
}

/** @brief O_NONBLOCK is read when the call decides, under its lock: a
 *         call that waits for the lock while fcntl() sets (then clears)
 *         O_NONBLOCK on its file answers by the flag as it is then.
 *
 * A call A of 32 bytes, frozen in its copy, holds the lock and will empty
 * (fill) the FIFO. B, of 8 bytes through its own open, waits for the
 * lock; fcntl() then changes O_NONBLOCK on B's file, and A is let go. B
 * finds the FIFO empty (full): with the flag now set it answers EAGAIN;
 * with it now cleared it answers as a call without it does (Lab 03: 0 or
 * ENOSPC; from Lab 04 on it sleeps, and a byte of data or room ends its
 * sleep). As on a pipe (fs/pipe.c reads filp->f_flags under its mutex):
 * a copy of the flag taken when the call began is stale by then.
 *
 * @param _metadata the test
 * @param self the fixture
 * @param is_write nonzero for writes, zero for reads
 */
static void expect_flag_read_under_the_lock(struct __test_metadata *_metadata,
					    FIXTURE_DATA(fifo) *self,
					    int is_write)
{
	const char *call = is_write ? "write" : "read";
	const size_t before = is_write ? FIFO_SIZE - 32 : 32;
	struct sleeper *b = &self->sleepers[1];
	char fill[FIFO_SIZE], what[200], st, c = 'x';
	int set, fd, want_err;
	struct frozen a;

	memset(fill, 'f', sizeof(fill));
	for (set = 1; set >= 0; set--) {
		drain_all(self->nb);
		ASSERT_EQ((ssize_t)before, write(self->nb, fill, before));
		fd = open_dev(_metadata, O_RDWR | (set ? 0 : O_NONBLOCK));
		ASSERT_EQ(1, frozen_start(&a, self->fd, is_write, 32)) {
			TH_LOG("the %s of 32 bytes was not frozen in its copy (it returned %zd)",
			       call, a.call.ret);
		}
		st = sleeper_start(b, fd, is_write ? "bbbbbbbb" : NULL, 8);
		EXPECT_TRUE(st == 'S' || st == 'D') {
			TH_LOG("a %s while another %s holds the lock in the middle of its copy should wait for it: %s",
			       call, call, not_waiting(b, st, is_write ?
						       "writers'" : "readers'"));
		}
		set_nonblock(_metadata, fd, set);
		EXPECT_EQ(32, frozen_release(&a));
		snprintf(what, sizeof(what), "a %s(8) that waited for the lock while the %s ahead %s the FIFO, and fcntl() %s O_NONBLOCK on its file meanwhile",
			 call, call, is_write ? "filled" : "emptied",
			 set ? "set" : "cleared");
		if (set || FIFO_STAGE < 4) {
			EXPECT_TRUE(sleeper_returned(b, WAKE_MS)) {
				TH_LOG("%s did not return", what);
			}
			sleeper_finish(b, self->nb);
			want_err = set ? EAGAIN : is_write ? ENOSPC : 0;
			EXPECT_TRUE(want_err ? b->sh->call.ret == -1 &&
					       b->sh->call.err == want_err :
					       b->sh->call.ret == 0) {
				TH_LOG("%s: expected %s, got %zd %s; rule: O_NONBLOCK is read from file->f_flags when the call decides, after it took the mutex, not copied when the call began",
				       what, set ? "-1 EAGAIN" : is_write ?
				       "-1 ENOSPC" : "0", b->sh->call.ret,
				       b->sh->call.ret < 0 ?
				       strerror(b->sh->call.err) : "");
			}
		} else {
			st = task_wait_asleep(b->sh->call.tid,
					      &b->sh->call.done, 5000);
			EXPECT_EQ('S', st) {
				TH_LOG("%s should then sleep until there is %s: %s (read file->f_flags when the call decides, not when it began)",
				       what, is_write ? "room" : "data",
				       not_asleep(b, st));
			}
			EXPECT_EQ(1, is_write ? read(self->nb, &c, 1) :
						write(self->nb, &c, 1));
			EXPECT_TRUE(sleeper_returned(b, WAKE_MS)) {
				TH_LOG("%s, asleep, did not return when a %s of 1 byte made %s",
				       what, is_write ? "read" : "write",
				       is_write ? "room" : "data");
			}
			sleeper_finish(b, self->nb);
			EXPECT_EQ(1, b->sh->call.ret);
		}
		sleeper_free(b, self->nb);
		frozen_destroy(&a);
		close(fd);
	}
	drain_all(self->nb);
}

/** @brief O_NONBLOCK set or cleared after open counts from the next call
 *         on, and from a call that waits for the readers' lock while
 *         fcntl() changes it (expect_flag_read_under_the_lock()). */
TEST_F_TIMEOUT(fifo, fcntl_nonblock_takes_effect, 15)
{
	int flags = fcntl(self->fd, F_GETFL);
	char c;

	ASSERT_LE(0, flags);
#if FIFO_STAGE < 4
	EXPECT_EQ(0, read(self->fd, &c, 1));
#endif
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, &c, 1)) {
		TH_LOG("check file->f_flags at every call, not once at open");
	}
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags));
#if FIFO_STAGE < 4
	EXPECT_EQ(0, read(self->fd, &c, 1));
#else
	EXPECT_EQ('S', sleeper_start(&self->sleepers[0], self->fd, NULL, 1)) {
		TH_LOG("with O_NONBLOCK cleared again, an empty read sleeps");
	}
	EXPECT_EQ(1, write(self->nb, "x", 1));
	sleeper_finish(&self->sleepers[0], self->nb);
	sleeper_free(&self->sleepers[0], self->nb);
#endif
	expect_flag_read_under_the_lock(_metadata, self, 0);
}
/** @brief fcntl() setting or clearing O_NONBLOCK takes effect on the next
 *         write too: a full FIFO then answers EAGAIN, or as without the
 *         flag; and on a write that waits for the writers' lock while
 *         fcntl() changes the flag (expect_flag_read_under_the_lock()).
 */
TEST_F_TIMEOUT(fifo, fcntl_nonblock_takes_effect_on_writes, 15)
{
	char fill[FIFO_SIZE];
	struct fifo_model m;
	int round;
	ssize_t n;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	fifo_model_write(&m, fill, FIFO_SIZE, 1);
	for (round = 0; round < 4; round++) {
		int nonblock = round % 2;

		set_nonblock(_metadata, self->fd, nonblock);
		if (FIFO_STAGE >= 4 && !nonblock) {
			struct sleeper *s = &self->sleepers[0];
			char st = sleeper_start(s, self->fd, "y", 1);

			EXPECT_EQ('S', st) {
				TH_LOG("with O_NONBLOCK cleared by fcntl(), a write to the full FIFO sleeps: %s",
				       not_asleep(s, st));
			}
			sleeper_free(s, self->nb);
			continue;
		}
		errno = 0;
		n = write(self->fd, "y", 1);
		expect_result(_metadata, fifo_model_write(&m, "y", 1, nonblock),
			      n, errno,
			      nonblock ? "write(1) to the full FIFO after fcntl() set O_NONBLOCK"
				       : "write(1) to the full FIFO after fcntl() cleared O_NONBLOCK",
			      "O_NONBLOCK is read from file->f_flags at every call, so fcntl(F_SETFL) after open counts from the next call");
	}
	fifo_model_destroy(&m);
	set_nonblock(_metadata, self->fd, 0);
	expect_flag_read_under_the_lock(_metadata, self, 1);
}

#if FIFO_STAGE == 3
/** @brief Lab 03: the answer to an empty (full) FIFO is decided under the
 *         lock, from O_NONBLOCK as the call finds it there: an fcntl()
 *         made once the call let the lock go does not change its answer.
 *
 * The FIFO holds 32 bytes (reads) or FIFO_SIZE - 32 (writes). A call A of
 * 32 bytes is frozen in its copy, holding the lock; B, of 8 bytes through
 * a file of its own with O_NONBLOCK @p set or not, waits for the lock;
 * then C, the same call through the O_NONBLOCK @p nb, made by a real-time
 * child, which then changes O_NONBLOCK on B's file (shared across fork())
 * with fcntl(). When A is let go it empties (fills) the FIFO; B takes the
 * lock, finds the FIFO empty (full) and lets the lock go, which wakes C.
 * Everything runs on one CPU, and where the caller switched the kernel to
 * full preemption C runs at B's unlock, before B's next line: C's fcntl()
 * comes after B found the FIFO empty (full) under the lock, and before B
 * returns. B must answer by the flag it found there: EAGAIN if it was
 * set, 0 (ENOSPC) if not. A driver that reads file->f_flags after its
 * mutex_unlock() answers by the flag C left. Under voluntary preemption C
 * runs once B has returned, and the results are the same.
 *
 * @param _metadata the test
 * @param self the fixture
 * @param nb an O_NONBLOCK descriptor on the device, for C
 * @param is_write nonzero for writes, zero for reads
 * @param set nonzero: B's file has O_NONBLOCK, and C clears it; zero: the
 *        other way round
 */
static void expect_eagain_from_under_the_lock(struct __test_metadata *_metadata,
					      FIXTURE_DATA(fifo) *self,
					      int nb, int is_write, int set)
{
	const char *call = is_write ? "write" : "read";
	struct sleeper *b = &self->sleepers[2];
	const size_t before = is_write ? FIFO_SIZE - 32 : 32;
	char data[FIFO_SIZE];
	struct cpu_order order;
	struct undo_call *u;
	int status = 0, bfd, want_err;
	struct frozen a;
	pid_t pid;

	u = mmap(NULL, sizeof(*u), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, u);
	drain_all(self->nb);
	memset(data, 'f', sizeof(data));
	ASSERT_EQ((ssize_t)before, write(self->nb, data, before));
	bfd = open_dev(_metadata, O_RDWR | (set ? O_NONBLOCK : 0));
	pid = lock_queue_start(_metadata, self, &order, &a, b, bfd, is_write,
			       u, nb, bfd, O_RDWR | (set ? 0 : O_NONBLOCK));
	ASSERT_LT(0, pid);
	EXPECT_EQ(32, frozen_release(&a));
	EXPECT_EQ(0, wait_for_child(pid, &status, WAKE_MS)) {
		kill(pid, SIGKILL);
		status = -1;
		wait_for_child(pid, &status, 1000);
	}
	EXPECT_TRUE(sleeper_returned(b, WAKE_MS)) {
		TH_LOG("the %s that waited for the lock did not return", call);
	}
	sleeper_finish(b, self->nb);
	cpu_order_unpin(&order);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status) &&
		    u->ret == -1 && u->err == EAGAIN && u->undo_ret == 0) {
		TH_LOG("the real-time O_NONBLOCK %s behind it should have failed with EAGAIN (got %zd, %s), and its fcntl() on the other file returned 0 (got %zd; exit status %#x)",
		       call, u->ret, strerror(u->err), u->undo_ret, status);
	}
	want_err = set ? EAGAIN : is_write ? ENOSPC : 0;
	EXPECT_TRUE(want_err ? b->sh->call.ret == -1 &&
			       b->sh->call.err == want_err :
			       b->sh->call.ret == 0) {
		TH_LOG("a %s(8) %s O_NONBLOCK, which waited for the lock while the %s ahead %s the FIFO, and whose file's O_NONBLOCK a real-time call behind it %s right after it let the lock go: expected %s, got %zd %s; rule: the answer to an empty (full) FIFO is decided under the mutex, from file->f_flags as the call finds it there, read once: an fcntl() made after the call let the mutex go counts from the next call (decide -EAGAIN before mutex_unlock(), not from the copy's result after it)",
		       call, set ? "with" : "without", call,
		       is_write ? "filled" : "emptied",
		       set ? "cleared" : "set",
		       set ? "-1 EAGAIN" : is_write ? "-1 ENOSPC" : "0",
		       b->sh->call.ret,
		       b->sh->call.ret < 0 ? strerror(b->sh->call.err) : "");
	}
	sleeper_free(b, self->nb);
	frozen_destroy(&a);
	close(bfd);
	munmap(u, sizeof(*u));
	drain_all(self->nb);
}

/** @brief Lab 03: EAGAIN or not is decided under the lock, from the flag
 *         the call finds there (expect_eagain_from_under_the_lock()):
 *         reads and writes, with O_NONBLOCK set then cleared behind them,
 *         and cleared then set, under full preemption where the kernel
 *         can switch. */
TEST_F_TIMEOUT(fifo, eagain_is_decided_under_the_lock, 20)
{
	int nb = open_dev(_metadata, O_RDWR | O_NONBLOCK);
	int is_write, set;
	char why[256];

	/* Before the test is pinned: the switch takes the other CPUs offline. */
	if (preempt_full_begin(&fifo_preempt_switched, why, sizeof(why)))
		TH_LOG("(this kernel runs without full preemption, so the real-time call runs after the first one has returned, not at its unlock: %s)",
		       why);
	for (is_write = 0; is_write < 2; is_write++)
		for (set = 0; set < 2; set++)
			expect_eagain_from_under_the_lock(_metadata, self, nb,
							  is_write, set);
	preempt_full_end(&fifo_preempt_switched);
	close(nb);
}
#endif /* FIFO_STAGE == 3 */
#endif /* FIFO_STAGE >= 3 */

#if FIFO_STAGE >= 4
/** @brief Sleepers in the wake-up tests. */
#define WAKE_SLEEPERS 3

/** @brief Start @p n sleepers on @p fd, each reading @p count bytes
 *         (@p data NULL) or writing @p count bytes of @p data + its
 *         number, and check that each sleeps.
 * @param _metadata the test
 * @param s the sleepers
 * @param n how many
 * @param fd the descriptor
 * @param data for writes, the letter the first writes (the next ones
 *        write the next letters); NULL for reads
 * @param count the byte count of each call
 */
static void start_sleepers(struct __test_metadata *_metadata,
			   struct sleeper *s, int n, int fd, const char *data,
			   size_t count)
{
	char buf[16], st;
	int i;

	for (i = 0; i < n; i++) {
		if (data)
			memset(buf, data[0] + i, count);
		st = sleeper_start(&s[i], fd, data ? buf : NULL, count);
		ASSERT_EQ('S', st) {
			TH_LOG("%s %d should sleep on the %s FIFO: %s",
			       data ? "writer" : "reader", i,
			       data ? "full" : "empty", not_asleep(&s[i], st));
		}
	}
}

/** @brief Wait until at least @p want of the sleepers have returned.
 * @param s the sleepers
 * @param n how many there are
 * @param want how many must have returned
 * @param timeout_ms how long to wait at most
 * @return how many have returned
 */
static int await_returned(struct sleeper *s, int n, int want, int timeout_ms)
{
	int i, returned, left = timeout_ms;

	for (;;) {
		returned = 0;
		for (i = 0; i < n; i++)
			returned += atomic_load(&s[i].sh->call.done);
		if (returned >= want || left-- <= 0)
			return returned;
		/* Look again every millisecond, as task_wait_asleep() does. */
		poll(NULL, 0, 1);
	}
}

/** @brief Wait until every sleeper has returned or is asleep again.
 * @param s the sleepers
 * @param n how many
 * @return how many have returned
 */
static int settle(struct sleeper *s, int n)
{
	int i, returned = 0;

	for (i = 0; i < n; i++) {
		task_wait_asleep(s[i].sh->call.tid, &s[i].sh->call.done, 5000);
		returned += atomic_load(&s[i].sh->call.done);
	}
	return returned;
}

/** @brief One write that brings enough data for every sleeping reader
 *         wakes them all, and each gets its share: nobody stays asleep
 *         next to data.
 */
TEST_F_TIMEOUT(fifo, one_write_wakes_every_reader_it_can_serve, 15)
{
	struct sleeper *r = self->sleepers;
	const char data[] = "abcdefghijkl";
	int i, seen[WAKE_SLEEPERS] = { 0 }, k;

	start_sleepers(_metadata, r, WAKE_SLEEPERS, self->fd, NULL, 4);
	ASSERT_EQ(12, serve_by_writing(self->nb, data, 12, r, WAKE_SLEEPERS));
	for (i = 0; i < WAKE_SLEEPERS; i++) {
		EXPECT_TRUE(sleeper_returned(&r[i], WAKE_MS)) {
			TH_LOG("reader %d still sleeps next to data: one write of 12 bytes can serve all 3 sleeping readers of 4 bytes; rule: no reader sleeps while the FIFO holds data (wake_up_interruptible() wakes every sleeper; an exclusive or single wake-up strands the others)",
			       i);
		}
		if (!sleeper_returned(&r[i], 0))
			continue;
		EXPECT_EQ(4, r[i].sh->call.ret);
		for (k = 0; k < WAKE_SLEEPERS; k++)
			if (r[i].sh->call.ret == 4 &&
			    !memcmp(r[i].sh->buf, data + 4 * k, 4))
				seen[k]++;
	}
	for (k = 0; k < WAKE_SLEEPERS; k++) {
		int times = seen[k];

		EXPECT_EQ(1, times) {
			TH_LOG("bytes %d to %d (\"%.4s\") were read %d times, not once",
			       4 * k, 4 * k + 3, data + 4 * k, times);
		}
	}
}

/** @brief Sleeping readers and one byte at a time: each byte wakes them,
 *         exactly one gets it, the others sleep on and get the next
 *         bytes; nothing is lost.
 */
TEST_F_TIMEOUT(fifo, sleeping_readers_are_served_one_by_one, 20)
{
	struct sleeper *r = self->sleepers;
	int i, k, got[WAKE_SLEEPERS] = { 0 }, returned;
	char byte;

	start_sleepers(_metadata, r, WAKE_SLEEPERS, self->fd, NULL, 8);
	for (k = 1; k <= WAKE_SLEEPERS; k++) {
		byte = (char)('0' + k);
		ASSERT_EQ(1, serve_by_writing(self->nb, &byte, 1, r,
					      WAKE_SLEEPERS));
		/* One more returns (a wake-up sent to another CPU may take a
		 * moment), then the others settle: asleep again, or wrongly
		 * returned. */
		await_returned(r, WAKE_SLEEPERS, k, WAKE_MS);
		returned = settle(r, WAKE_SLEEPERS);
		EXPECT_EQ(k, returned) {
			TH_LOG("after %d single bytes, %d of the 3 sleeping readers returned, not %d; rule: each byte serves one reader, the others go back to sleep (a while loop around the sleep, the test under the lock) and are woken by the next byte",
			       k, returned, k);
		}
	}
	for (i = 0; i < WAKE_SLEEPERS; i++) {
		if (!atomic_load(&r[i].sh->call.done))
			continue;
		EXPECT_EQ(1, r[i].sh->call.ret) {
			TH_LOG("reader %d returned %zd (%s): a reader woken without data must sleep again, not return",
			       i, r[i].sh->call.ret,
			       r[i].sh->call.ret < 0 ? strerror(r[i].sh->call.err) : "no error");
		}
		if (r[i].sh->call.ret == 1 && r[i].sh->buf[0] >= '1' &&
		    r[i].sh->buf[0] <= '0' + WAKE_SLEEPERS)
			got[r[i].sh->buf[0] - '1']++;
	}
	for (k = 0; k < WAKE_SLEEPERS; k++) {
		int times = got[k];

		EXPECT_EQ(1, times) {
			TH_LOG("byte '%c' was read %d times, not once", '1' + k,
			       times);
		}
	}
}

/** @brief One read that makes room for every sleeping writer wakes them
 *         all, and each writes all its bytes.
 */
TEST_F_TIMEOUT(fifo, one_read_wakes_every_writer_it_can_serve, 15)
{
	struct sleeper *w = self->sleepers;
	char fill[FIFO_SIZE], buf[2 * FIFO_SIZE];
	int i, k, seen[WAKE_SLEEPERS] = { 0 };
	ssize_t n;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	start_sleepers(_metadata, w, WAKE_SLEEPERS, self->fd, "A", 4);
	ASSERT_EQ(12, serve_by_reading(self->nb, buf, 12, w, WAKE_SLEEPERS));
	for (i = 0; i < WAKE_SLEEPERS; i++) {
		EXPECT_TRUE(sleeper_returned(&w[i], WAKE_MS)) {
			TH_LOG("writer %d still sleeps next to room: one read of 12 bytes made room for all 3 sleeping writers of 4 bytes; rule: no writer sleeps while the FIFO has room (wake_up_interruptible() wakes every sleeper)",
			       i);
		}
		if (sleeper_returned(&w[i], 0))
			EXPECT_EQ(4, w[i].sh->call.ret);
	}
	settle(w, WAKE_SLEEPERS);
	n = drain(self->nb, buf, sizeof(buf));
	ASSERT_EQ(FIFO_SIZE, n);
	for (i = FIFO_SIZE - 12; i < FIFO_SIZE; i += 4)
		for (k = 0; k < WAKE_SLEEPERS; k++)
			if (!memcmp(buf + i, k == 0 ? "AAAA" : k == 1 ? "BBBB" : "CCCC", 4))
				seen[k]++;
	for (k = 0; k < WAKE_SLEEPERS; k++) {
		int times = seen[k];

		EXPECT_EQ(1, times) {
			TH_LOG("writer %d's 4 bytes are in the FIFO %d times, not once, as 4 bytes in a row",
			       k, times);
		}
	}
}

/** @brief Sleeping writers and room for one byte at a time: each byte of
 *         room wakes them, exactly one writes (one byte: a short write),
 *         the others sleep on.
 */
TEST_F_TIMEOUT(fifo, sleeping_writers_are_served_one_by_one, 20)
{
	struct sleeper *w = self->sleepers;
	char fill[FIFO_SIZE], buf[2 * FIFO_SIZE];
	int i, k, returned, seen[WAKE_SLEEPERS] = { 0 };

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	start_sleepers(_metadata, w, WAKE_SLEEPERS, self->fd, "A", 4);
	for (k = 1; k <= WAKE_SLEEPERS; k++) {
		ASSERT_EQ(1, serve_by_reading(self->nb, buf, 1, w,
					      WAKE_SLEEPERS));
		await_returned(w, WAKE_SLEEPERS, k, WAKE_MS);
		returned = settle(w, WAKE_SLEEPERS);
		EXPECT_EQ(k, returned) {
			TH_LOG("after %d reads of one byte, %d of the 3 sleeping writers returned, not %d; rule: a byte of room serves one writer (a short write of 1), the others sleep on",
			       k, returned, k);
		}
	}
	for (i = 0; i < WAKE_SLEEPERS; i++)
		if (atomic_load(&w[i].sh->call.done))
			EXPECT_EQ(1, w[i].sh->call.ret) {
				TH_LOG("writer %d returned %zd (%s) with room for one byte: it writes what fits, 1",
				       i, w[i].sh->call.ret,
				       w[i].sh->call.ret < 0 ? strerror(w[i].sh->call.err) : "no error");
			}
	ASSERT_EQ(FIFO_SIZE, drain(self->nb, buf, sizeof(buf)));
	for (i = FIFO_SIZE - WAKE_SLEEPERS; i < FIFO_SIZE; i++)
		if (buf[i] >= 'A' && buf[i] < 'A' + WAKE_SLEEPERS)
			seen[buf[i] - 'A']++;
	for (k = 0; k < WAKE_SLEEPERS; k++) {
		int times = seen[k];

		EXPECT_EQ(1, times) {
			TH_LOG("writer %d's byte is in the FIFO %d times, not once",
			       k, times);
		}
	}
}

/** @brief A woken read takes min(count, bytes there) and leaves the rest;
 *         a woken write writes what fits and no more.
 */
TEST_F_TIMEOUT(fifo, woken_calls_transfer_what_they_can, 15)
{
	struct sleeper *s = &self->sleepers[0];
	char fill[FIFO_SIZE], buf[2 * FIFO_SIZE];
	struct fifo_model m;
	char st;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	st = sleeper_start(s, self->fd, NULL, 4);
	ASSERT_EQ('S', st);
	ASSERT_EQ(10, serve_by_writing(self->nb, "0123456789", 10, s, 1));
	fifo_model_write(&m, "0123456789", 10, 1);
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS));
	sleeper_finish(s, self->nb);
	expect_result(_metadata, fifo_model_read(&m, 4, 0, buf),
		      s->sh->call.ret, s->sh->call.err,
		      "a sleeping read(4), woken by a write of 10 bytes",
		      "a woken read returns min(count, bytes in the FIFO); the rest stays");
	EXPECT_EQ(0, memcmp(s->sh->buf, "0123", 4));
	expect_contents(_metadata, &m, "after the woken read");
	sleeper_free(s, self->nb);

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	fifo_model_write(&m, fill, FIFO_SIZE, 1);
	st = sleeper_start(s, self->fd, "wwwwwwwwww", 10);
	ASSERT_EQ('S', st);
	ASSERT_EQ(3, serve_by_reading(self->nb, buf, 3, s, 1));
	fifo_model_read(&m, 3, 1, NULL);
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS));
	sleeper_finish(s, self->nb);
	expect_result(_metadata, fifo_model_write(&m, "wwwwwwwwww", 10, 0),
		      s->sh->call.ret, s->sh->call.err,
		      "a sleeping write(10), woken by a read of 3 bytes",
		      "a woken write writes what fits, min(count, room), and returns that count");
	expect_contents(_metadata, &m, "after the woken write");
	fifo_model_destroy(&m);
}

/** @brief The readers are woken after the bytes are in the FIFO: a reader
 *         woken while a write is still in the middle of its copy would
 *         find nothing, sleep again, and never hear of the data.
 */
TEST_F_TIMEOUT(fifo, readers_are_woken_after_the_bytes_are_in, 15)
{
	struct sleeper *r = &self->sleepers[0];
	struct frozen a;
	char st;

	st = sleeper_start(r, self->fd, NULL, 8);
	ASSERT_EQ('S', st);
	ASSERT_EQ(1, frozen_start(&a, self->fd, 1, 32));
	st = task_wait_asleep(r->sh->call.tid, &r->sh->call.done, 5000);
	EXPECT_EQ('S', st) {
		TH_LOG("while a write is in the middle of its copy, no byte is in the FIFO yet, and the sleeping reader %s",
		       not_asleep(r, st));
	}
	EXPECT_EQ(32, frozen_release(&a));
	frozen_destroy(&a);
	EXPECT_TRUE(sleeper_returned(r, WAKE_MS)) {
		TH_LOG("32 bytes are in the FIFO and the sleeping reader was not woken; rule: wake the readers after the bytes went in (after kfifo_from_user()), not before");
	}
	sleeper_finish(r, self->nb);
	EXPECT_EQ(8, r->sh->call.ret);
}

/** @brief The writers are woken after the room is made: a writer woken
 *         while a read is still in the middle of its copy would find the
 *         FIFO full, sleep again, and never hear of the room.
 */
TEST_F_TIMEOUT(fifo, writers_are_woken_after_the_room_is_made, 15)
{
	struct sleeper *w = &self->sleepers[0];
	char fill[FIFO_SIZE];
	struct frozen a;
	char st;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	st = sleeper_start(w, self->fd, "wxyz", 4);
	ASSERT_EQ('S', st);
	ASSERT_EQ(1, frozen_start(&a, self->fd, 0, 32));
	st = task_wait_asleep(w->sh->call.tid, &w->sh->call.done, 5000);
	EXPECT_EQ('S', st) {
		TH_LOG("while a read is in the middle of its copy, no room is made yet, and the sleeping writer %s",
		       not_asleep(w, st));
	}
	EXPECT_EQ(32, frozen_release(&a));
	frozen_destroy(&a);
	EXPECT_TRUE(sleeper_returned(w, WAKE_MS)) {
		TH_LOG("a read made room for 32 bytes and the sleeping writer was not woken; rule: wake the writers after the bytes came out (after kfifo_to_user()), not before");
	}
	sleeper_finish(w, self->nb);
	EXPECT_EQ(4, w->sh->call.ret);
}

/** @brief Every write that added bytes wakes the sleeping readers,
 *         whatever the FIFO held when it began: a write that started on
 *         a FIFO holding 1 byte is frozen in its copy, a read takes that
 *         byte (readers and writers do not wait for each other), a
 *         reader goes to sleep on the now empty FIFO, and the write,
 *         released, must wake it.
 */
TEST_F_TIMEOUT(fifo, every_write_wakes_the_readers, 15)
{
	struct sleeper *r = &self->sleepers[0];
	struct frozen a;
	char c = 0, st;

	ASSERT_EQ(1, write(self->nb, "p", 1));
	ASSERT_EQ(1, frozen_start(&a, self->fd, 1, 32));
	EXPECT_EQ(1, read(self->nb, &c, 1)) {
		TH_LOG("a read of the 1 byte in the FIFO, while a write is frozen in its copy, did not return it: readers and writers have their own locks and do not wait for each other");
	}
	EXPECT_EQ('p', c);
	st = sleeper_start(r, self->fd, NULL, 64);
	EXPECT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO (the frozen write's bytes are not in yet) should sleep, and it %s",
		       not_asleep(r, st));
	}
	EXPECT_EQ(32, frozen_release(&a));
	frozen_destroy(&a);
	EXPECT_TRUE(sleeper_returned(r, WAKE_MS)) {
		TH_LOG("a write added 32 bytes to the FIFO and the sleeping reader was not woken; rule: every write that added bytes wakes every sleeping reader, whatever the sizes and whatever the FIFO held before (a driver that wakes the readers only when the FIFO was empty, seen before the copy, does this)");
	}
	sleeper_finish(r, self->nb);
	EXPECT_EQ(32, r->sh->call.ret);
}

/** @brief Every read that took bytes wakes the sleeping writers, whatever
 *         the FIFO held when it began: a read that started on a FIFO one
 *         byte from full is frozen in its copy, a write fills the FIFO, a
 *         writer goes to sleep on the now full FIFO, and the read,
 *         released, must wake it.
 */
TEST_F_TIMEOUT(fifo, every_read_wakes_the_writers, 15)
{
	struct sleeper *w = &self->sleepers[0];
	char fill[FIFO_SIZE];
	struct frozen a;
	char st;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE - 1, write(self->nb, fill, FIFO_SIZE - 1));
	ASSERT_EQ(1, frozen_start(&a, self->fd, 0, 32));
	EXPECT_EQ(1, write(self->nb, "f", 1)) {
		TH_LOG("a write of 1 byte into the 1 byte of room, while a read is frozen in its copy, did not go in: readers and writers have their own locks and do not wait for each other");
	}
	st = sleeper_start(w, self->fd, "wxyz", 4);
	EXPECT_EQ('S', st) {
		TH_LOG("a write to the full FIFO (the frozen read's bytes are not out yet) should sleep, and it %s",
		       not_asleep(w, st));
	}
	EXPECT_EQ(32, frozen_release(&a));
	frozen_destroy(&a);
	EXPECT_TRUE(sleeper_returned(w, WAKE_MS)) {
		TH_LOG("a read made room for 32 bytes and the sleeping writer was not woken; rule: every read that took bytes wakes every sleeping writer, whatever the FIFO held before (a driver that wakes the writers only when the FIFO was full, seen before the copy, does this)");
	}
	sleeper_finish(w, self->nb);
	EXPECT_EQ(4, w->sh->call.ret);
}

/** @brief The rule the woken_*_waits_for_the_lock_interruptibly tests
 *         check, for their messages. */
#define WOKEN_RELOCK_RULE "a woken call takes its mutex again with mutex_lock_interruptible(); when a signal ends that wait, the call returns -ERESTARTSYS (EINTR without SA_RESTART, a transparent restart with it) having moved no byte and without touching the mutex it does not hold"

#if FIFO_STAGE >= 6
/** @brief Lab 06's rule the woken_*_waits_for_the_lock_interruptibly tests
 *         also check, with one more file of the device that has O_ASYNC,
 *         for their messages. */
#define WOKEN_RELOCK_SIGIO_RULE "\"a call that moved nothing (0 bytes asked, -EAGAIN, -EFAULT, a signal) | no signal\", and every call that moved bytes signals once (a write POLL_IN, a read POLL_OUT): a woken call that a signal stops while it takes its mutex back moved nothing and signals nobody, whatever it wakes for the others"

/** @brief Set O_ASYNC on a new file of the device, owned by this process
 *         (sigio_count.h), after checking that clearing it takes a file
 *         off the list.
 *
 * no_sigio_after_clearing_o_async, in Lab 06's own tests, runs after
 * these shared tests, so this is the first file with O_ASYNC of the run:
 * as there, O_ASYNC is set and cleared while the file stays open, and a
 * byte written and read back through @p nb (the FIFO must be empty) must
 * not signal it. If it does, the driver keeps files on its list after
 * .fasync(on = 0), the close of this file would leave a pointer to freed
 * memory there, and the tests stop (tests_stop.h). Then O_ASYNC is set
 * again for the test.
 *
 * @param _metadata the test
 * @param nb an O_NONBLOCK descriptor on the device
 * @return the file's descriptor
 */
static int async_counted_file(struct __test_metadata *_metadata, int nb)
{
	struct sigio_count got;
	char byte = 'p', g[64];
	int fd, taken;

	ASSERT_EQ(0, sigio_count_block());
	fd = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd) {
		TH_LOG("cannot open %s: %s", FIFO_DEV, strerror(errno));
	}
	ASSERT_EQ(0, sigio_count_async(fd)) {
		TH_LOG("F_SETOWN, F_SETSIG or O_ASYNC failed: %s",
		       strerror(errno));
	}
	ASSERT_EQ(0, sigio_count_async_off(fd));
	ASSERT_EQ(1, write(nb, &byte, 1));
	ASSERT_EQ(1, read(nb, &byte, 1));
	taken = sigio_count_take(fd, &got);
	EXPECT_EQ(0, taken) {
		TH_LOG("after O_ASYNC was set and cleared again on an open file, a write and a read of 1 byte:\n#   expected: no signal\n#   received: %s\n#   rule: clearing O_ASYNC takes the file off the list (.fasync must pass on = 0 on to fasync_helper())",
		       sigio_count_describe(&got, g, sizeof(g)));
	}
	if (taken)
		tests_stop_after_this(_metadata->name, "the driver keeps a file on its SIGIO list after .fasync(on = 0): once that file is closed, the next signal goes through freed memory, so no later result could be trusted");
	ASSERT_EQ(0, sigio_count_async(fd));
	return fd;
}
#endif

/** @brief A call woken from its wait queue that finds its mutex held
 *         waits for it interruptibly, and a signal ends that wait the way
 *         it ends every sleep of the driver.
 *
 * B sleeps on the wait queue (FIFO empty for a read, full for a write).
 * The test then becomes real-time on the one CPU everything runs on
 * (cpu_order.h), so that B, once woken, cannot run: it wakes B with data
 * (room), and a call A of the same kind takes the mutex and is frozen in
 * its copy. Only then is B let run: it sees data (room) and waits for A's
 * mutex. A signal must end that wait with EINTR, or with SA_RESTART make
 * the call start again and wait its turn; B moves no byte, and A's call
 * completes exactly.
 *
 * From Lab 06 on, one more file of the device has O_ASYNC, and this
 * process, its owner, counts its signals (async_counted_file()). Once
 * every call has returned, exactly one signal per call that moved bytes
 * must be pending: POLL_IN for the write that woke B (or A's write),
 * POLL_OUT for A's read (or the read that woke B), and, with SA_RESTART,
 * one for B's restarted call and one for the call that served it; none
 * for B's wait that the signal ended, which moved nothing.
 *
 * @param _metadata the test
 * @param self the fixture
 * @param is_write nonzero for writers, zero for readers
 * @param restart nonzero: the handler has SA_RESTART
 */
static void woken_call_waits_for_the_lock(struct __test_metadata *_metadata,
					  FIXTURE_DATA(fifo) *self,
					  int is_write, int restart)
{
	const char *lock = is_write ? "writers'" : "readers'";
	const char *call = is_write ? "write" : "read";
	struct sigaction sa = {
		.sa_handler = note_signal, .sa_flags = restart ? SA_RESTART : 0,
	};
	struct sigaction plain = { .sa_handler = ignore_signal };
	struct sleeper *b = &self->sleepers[0];
	char data[FIFO_SIZE], buf[FIFO_SIZE], g[48];
	struct cpu_order order;
	struct fifo_model m;
	struct frozen a;
	ssize_t moved;
	int frozen;
	char st;
#if FIFO_STAGE >= 6
	/* Signals due: POLL_IN (writes that moved bytes), POLL_OUT (reads). */
	struct sigio_count want = { 0 }, got;
	char w[64], r[64];
	int async, b_alone = 1;
#endif

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	ASSERT_LE(0, signal_note_fd());
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	pattern(data, sizeof(data), restart ? 23 : 19);
#if FIFO_STAGE >= 6
	/* Before any thread: they inherit the blocked signal. */
	async = async_counted_file(_metadata, self->nb);
#endif
	if (is_write) {
		ASSERT_EQ(FIFO_SIZE, write(self->fd, data, FIFO_SIZE));
		fifo_model_write(&m, data, FIFO_SIZE, 0);
	}
#if FIFO_STAGE >= 6
	sigio_count_take(async, &got);	/* the fill's */
#endif
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	st = sleeper_start(b, self->fd, is_write ? "bbbbbbbb" : NULL, 8);
	ASSERT_EQ('S', st) {
		TH_LOG("a %s the %s FIFO should sleep: %s",
		       is_write ? "write to" : "read of",
		       is_write ? "full" : "empty", not_asleep(b, st));
	}
	ASSERT_EQ(0, cpu_order_hold(&order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/*
	 * B is woken and cannot run until the test lets it: nothing between
	 * here and cpu_order_release() may end the test (RT throttling is off
	 * meanwhile).
	 */
	moved = is_write ? read(self->nb, buf, 20) : write(self->nb, data, 20);
	frozen = moved == 20 ? frozen_start(&a, self->fd, is_write, 32) : -1;
	cpu_order_release(&order);
	ASSERT_EQ(20, moved) {
		TH_LOG("an O_NONBLOCK %s of 20 bytes returned %zd", is_write ?
		       "read of the full FIFO" : "write to the empty FIFO",
		       moved);
	}
	if (is_write)
		fifo_model_read(&m, 20, 1, NULL);
	else
		fifo_model_write(&m, data, 20, 1);
#if FIFO_STAGE >= 6
	sigio_count_due(&want, !is_write, moved);
#endif
	ASSERT_EQ(1, frozen) {
		TH_LOG("the %s that should hold the %s mutex was not frozen in its copy (it returned %zd): did the woken %s take the %s first, although it could not run?",
		       call, lock, a.call.ret, call,
		       is_write ? "room" : "data");
	}
	/* Now B runs, sees data (room), and must wait for A's mutex. */
	st = task_wait_asleep(b->sh->call.tid, &b->sh->call.done, 5000);
	EXPECT_EQ('S', st) {
		TH_LOG("the woken %s, whose %s mutex another %s holds in the middle of its copy, should wait for it in state S: %s; rule: " WOKEN_RELOCK_RULE,
		       call, lock, call, not_waiting(b, st, lock));
	}
	if (st == 'S' && restart) {
		st = signal_and_await_restart(b);
		ASSERT_NE(0, st) {
			TH_LOG("the signal handler did not run");
		}
		EXPECT_EQ('S', st) {
			TH_LOG("with SA_RESTART, the woken %s interrupted while it waited for the %s mutex should start again and wait, and it %s; rule: " WOKEN_RELOCK_RULE,
			       call, lock, st == 'X' ?
			       fifo_model_describe_call(b->sh->call.ret,
							b->sh->call.err, g,
							sizeof(g)) :
			       not_asleep(b, st));
		}
	} else if (st == 'S') {
		ASSERT_EQ(0, kill(b->pid, SIGUSR1));
		ASSERT_TRUE(await_byte(signal_note_fd(), 5000)) {
			TH_LOG("the signal handler did not run");
		}
		EXPECT_TRUE(sleeper_returned(b, WAKE_MS)) {
			TH_LOG("a signal did not end the woken %s's wait for the %s mutex; rule: " WOKEN_RELOCK_RULE,
			       call, lock);
		}
		if (sleeper_returned(b, 0)) {
			EXPECT_EQ(-1, b->sh->call.ret);
			EXPECT_EQ(EINTR, b->sh->call.err) {
				TH_LOG("a signal (handler without SA_RESTART) ended the woken %s's wait for the %s mutex, and the %s returned %s instead of EINTR; rule: " WOKEN_RELOCK_RULE,
				       call, lock, call,
				       fifo_model_describe_call(b->sh->call.ret,
								b->sh->call.err,
								g, sizeof(g)));
			}
		}
	}
	EXPECT_EQ(20, frozen_release(&a)) {
		TH_LOG("the frozen %s returned %zd, not the 20 bytes of %s there: did the interrupted %s move bytes without the mutex?",
		       call, a.call.ret, is_write ? "room" : "data", call);
	}
#if FIFO_STAGE >= 6
	sigio_count_due(&want, is_write, a.call.ret);
#endif
	if (is_write) {
		memset(buf, 'A', 20);
		fifo_model_write(&m, buf, 20, 0);
	} else {
		fifo_model_read(&m, 20, 0, buf);
		EXPECT_EQ(0, memcmp(buf, a.call.buf, 20)) {
			TH_LOG("the frozen read did not get the 20 bytes written");
		}
	}
	if (restart && st == 'S') {
		/* B waits again: on the queue, since A left it nothing. */
		st = task_wait_asleep(b->sh->call.tid, &b->sh->call.done, 5000);
		EXPECT_EQ('S', st) {
			TH_LOG("the restarted %s should sleep on the %s FIFO after the frozen %s completed, and it %s",
			       call, is_write ? "full" : "empty", call,
			       st == 'X' ? fifo_model_describe_call(
					b->sh->call.ret, b->sh->call.err, g,
					sizeof(g)) : not_asleep(b, st));
		}
		if (is_write) {
			ASSERT_EQ(8, serve_by_reading(self->nb, buf, 8, b, 1));
			fifo_model_read(&m, 8, 1, NULL);
		} else {
			ASSERT_EQ(8, serve_by_writing(self->nb, "rrrrrrrr", 8,
						      b, 1));
		}
#if FIFO_STAGE >= 6
		sigio_count_due(&want, !is_write, 8);
#endif
		EXPECT_TRUE(sleeper_returned(b, WAKE_MS)) {
			TH_LOG("the restarted %s was not woken by a %s",
			       call, is_write ? "read of 8 bytes" :
			       "write of 8 bytes");
		}
#if FIFO_STAGE >= 6
		/* Else sleeper_finish() may move a byte of its own. */
		b_alone = sleeper_returned(b, 0);
#endif
		sleeper_finish(b, self->nb);
		EXPECT_EQ(8, b->sh->call.ret) {
			TH_LOG("the restarted %s returned %s, not 8", call,
			       fifo_model_describe_call(b->sh->call.ret,
							b->sh->call.err, g,
							sizeof(g)));
		}
		if (is_write)
			fifo_model_write(&m, "bbbbbbbb", 8, 0);
		else
			EXPECT_EQ(0, memcmp(b->sh->buf, "rrrrrrrr", 8));
	}
#if FIFO_STAGE >= 6
	/*
	 * Every call has returned (B on its own; if not, it has failed
	 * above and its count is unknown): what they sent is pending.
	 */
	if (b_alone && sleeper_returned(b, 0)) {
		sigio_count_due(&want, is_write, b->sh->call.ret);
		sigio_count_take(async, &got);
		EXPECT_TRUE(got.in == want.in && got.out == want.out &&
			    !got.other) {
			TH_LOG("after the O_NONBLOCK %s of 20 bytes that woke the %s, the frozen %s that held the %s mutex (it returned %zd) and the woken %s that a signal stopped at that mutex (%s%s), the owner of a file with O_ASYNC:\n#   expected: %s\n#   received: %s\n#   rule: " WOKEN_RELOCK_SIGIO_RULE,
			       is_write ? "read" : "write", call, call, lock,
			       a.call.ret, call, restart ?
			       (is_write ? "restarted with SA_RESTART, then served by a read of 8 bytes: it returned " :
				"restarted with SA_RESTART, then served by a write of 8 bytes: it returned ") :
			       "it returned ",
			       fifo_model_describe_call(b->sh->call.ret,
							b->sh->call.err, g,
							sizeof(g)),
			       sigio_count_describe(&want, w, sizeof(w)),
			       sigio_count_describe(&got, r, sizeof(r)));
		}
	}
	close(async);
#endif
	sleeper_free(b, self->nb);
	frozen_destroy(&a);
	cpu_order_unpin(&order);
	ASSERT_EQ(0, sigaction(SIGUSR1, &plain, NULL));
	expect_contents(_metadata, &m, restart ?
			"after the restarted call" :
			"after the interrupted call (it must have moved nothing)");
	fifo_model_destroy(&m);
}

/** @brief A reader woken by data, whose mutex another reader holds, waits
 *         for it interruptibly: EINTR, or a restart with SA_RESTART, and
 *         it takes no byte (woken_call_waits_for_the_lock()).
 */
TEST_F_TIMEOUT(fifo, woken_reader_waits_for_the_lock_interruptibly, 20)
{
	woken_call_waits_for_the_lock(_metadata, self, 0, 0);
	woken_call_waits_for_the_lock(_metadata, self, 0, 1);
}

/** @brief A writer woken by room, whose mutex another writer holds, waits
 *         for it interruptibly: EINTR, or a restart with SA_RESTART, and
 *         it adds no byte (woken_call_waits_for_the_lock()).
 */
TEST_F_TIMEOUT(fifo, woken_writer_waits_for_the_lock_interruptibly, 20)
{
	woken_call_waits_for_the_lock(_metadata, self, 1, 0);
	woken_call_waits_for_the_lock(_metadata, self, 1, 1);
}

/** @brief The rule the woken_*_stopped_at_the_lock_* tests check, for their
 *         messages. */
#define LEFT_TO_THE_OTHER_RULE "every transfer wakes every sleeper of the other side, so that no reader stays asleep while the FIFO holds data and no writer while it has room; a woken call that a signal stops at the mutex has taken nothing, and what it was woken for must still reach the others (with exclusive waits, which wake one sleeper only, the stopped call must wake the next before it returns)"

/** @brief A call woken from its wait queue that a signal stops while it
 *         waits for its mutex leaves what it was woken for to the other
 *         sleeper of its side.
 *
 * Two calls B and C sleep: reads of the empty FIFO, or writes of 16
 * bytes to the full one. Everything runs on one CPU and the test is
 * real-time meanwhile (cpu_order.h): it writes 40 bytes (reads 40), which
 * wakes the sleepers (one of them, in a driver with exclusive waits), and
 * before a woken one can run, a call A of the same side takes the mutex
 * and is frozen in its copy of 24 bytes. A woken sleeper then runs into
 * the held mutex and waits for it; the test finds it by its context
 * switches (a sleeper that was never woken has made none since it fell
 * asleep) and ends its wait with a signal: EINTR, nothing moved. Once A
 * is let go, the other sleeper must get what A left (16 bytes, or room
 * for 16) with no further call to help it.
 *
 * @param _metadata the test
 * @param self the fixture
 * @param is_write nonzero for writers, zero for readers
 */
static void woken_call_stopped_at_the_lock(struct __test_metadata *_metadata,
					 FIXTURE_DATA(fifo) *self,
					 int is_write)
{
	static const char *const wdata[2] = { "bbbbbbbbbbbbbbbb",
					      "cccccccccccccccc" };
	const char *lock = is_write ? "writers'" : "readers'";
	const char *call = is_write ? "write" : "read";
	struct sigaction sa = { .sa_handler = note_signal };
	struct sigaction plain = { .sa_handler = ignore_signal };
	struct sleeper *s = self->sleepers, *woken = NULL, *other;
	struct sleeper *late = &self->sleepers[2];
	unsigned long long before[2], after;
	struct edge_buf bad;
	char data[FIFO_SIZE], buf[FIFO_SIZE], g[48];
	struct cpu_order order;
	struct fifo_model m;
	struct frozen a;
	ssize_t moved;
	int i, frozen, asleep = 1;
	char st;

	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	ASSERT_EQ(0, edge_buf_init(&bad, 1));
	ASSERT_LE(0, signal_note_fd());
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	pattern(data, sizeof(data), 29);
	if (is_write) {
		ASSERT_EQ(FIFO_SIZE, write(self->fd, data, FIFO_SIZE));
		fifo_model_write(&m, data, FIFO_SIZE, 0);
	}
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	for (i = 0; i < 2; i++) {
		st = sleeper_start(&s[i], self->fd, is_write ? wdata[i] : NULL,
				   is_write ? 16 : FIFO_SIZE);
		ASSERT_EQ('S', st) {
			TH_LOG("a %s the %s FIFO should sleep: %s",
			       is_write ? "write to" : "read of",
			       is_write ? "full" : "empty", not_asleep(&s[i], st));
		}
		ASSERT_EQ(1, stuck_task_blocked(s[i].sh->call.tid, &before[i]));
	}
	ASSERT_EQ(0, cpu_order_hold(&order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/*
	 * A woken sleeper cannot run until the test lets it: nothing between
	 * here and cpu_order_release() may end the test (RT throttling is off
	 * meanwhile).
	 */
	moved = is_write ? read(self->nb, buf, 40) : write(self->nb, data, 40);
	frozen = moved == 40 ? frozen_start(&a, self->fd, is_write, 24) : -1;
	cpu_order_release(&order);
	ASSERT_EQ(40, moved) {
		TH_LOG("an O_NONBLOCK %s of 40 bytes returned %zd", is_write ?
		       "read of the full FIFO" : "write to the empty FIFO",
		       moved);
	}
	if (is_write)
		fifo_model_read(&m, 40, 1, NULL);
	else
		fifo_model_write(&m, data, 40, 1);
	ASSERT_EQ(1, frozen) {
		TH_LOG("the %s that should hold the %s mutex was not frozen in its copy (it returned %zd): did a woken %s take the %s first, although it could not run?",
		       call, lock, a.call.ret, call,
		       is_write ? "room" : "data");
	}
	/* A woken sleeper runs now and waits for the mutex A holds. */
	for (i = 0; i < 2; i++) {
		st = task_wait_asleep(s[i].sh->call.tid, &s[i].sh->call.done,
				      5000);
		if (st != 'S' ||
		    stuck_task_blocked(s[i].sh->call.tid, &after) != 1) {
			EXPECT_EQ('S', st) {
				TH_LOG("a %s woken by a %s while another %s holds the %s mutex in the middle of its copy should wait for it in state S: %s; rule: " WOKEN_RELOCK_RULE,
				       call, is_write ? "read" : "write", call,
				       lock, not_waiting(&s[i], st, lock));
			}
			asleep = 0;
			continue;
		}
		if (after != before[i] && !woken)
			woken = &s[i];
	}
	if (asleep) {
		EXPECT_NE(NULL, woken) {
			TH_LOG("the %s of 40 bytes woke neither sleeping %s; rule: " LEFT_TO_THE_OTHER_RULE,
			       is_write ? "read" : "write", call);
		}
	}
	if (woken) {
		ASSERT_EQ(0, kill(woken->pid, SIGUSR1));
		ASSERT_TRUE(await_byte(signal_note_fd(), 5000)) {
			TH_LOG("the signal handler did not run");
		}
		EXPECT_TRUE(sleeper_returned(woken, WAKE_MS)) {
			TH_LOG("a signal did not end the woken %s's wait for the %s mutex; rule: " WOKEN_RELOCK_RULE,
			       call, lock);
		}
		if (sleeper_returned(woken, 0)) {
			EXPECT_EQ(-1, woken->sh->call.ret);
			EXPECT_EQ(EINTR, woken->sh->call.err) {
				TH_LOG("a signal (handler without SA_RESTART) ended the woken %s's wait for the %s mutex, and the %s returned %s instead of EINTR; rule: " WOKEN_RELOCK_RULE,
				       call, lock, call,
				       fifo_model_describe_call(
					       woken->sh->call.ret,
					       woken->sh->call.err, g,
					       sizeof(g)));
			}
		}
	}
	/*
	 * A still holds the mutex: a call made now must wait for it. Its
	 * buffer faults, so whether it gets the mutex before or after the
	 * other sleeper, it moves nothing (EFAULT, or EAGAIN once the other
	 * took what A left).
	 */
	if (woken && sleeper_returned(woken, 0)) {
		st = sleeper_start_with(late, self->nb, is_write ? "l" : NULL, 1,
					edge_buf_at(&bad, 0));
		EXPECT_EQ('S', st) {
			TH_LOG("after the woken %s left on the signal, an O_NONBLOCK %s made while another %s still holds the %s mutex in the middle of its copy should wait for that mutex: %s (did the interrupted %s let go of a mutex it never took?); rule: " WOKEN_RELOCK_RULE,
			       call, call, call, lock,
			       st == 'X' ? "it got through" :
			       not_waiting(late, st, lock), call);
		}
	}
	EXPECT_EQ(24, frozen_release(&a)) {
		TH_LOG("the frozen %s returned %zd, not the 24 bytes it asked for (40 were there): did the interrupted %s move bytes without the mutex?",
		       call, a.call.ret, call);
	}
	if (is_write) {
		memset(buf, 'A', 24);
		fifo_model_write(&m, buf, 24, 0);
	} else {
		fifo_model_read(&m, 24, 0, buf);
		EXPECT_EQ(0, memcmp(buf, a.call.buf, 24)) {
			TH_LOG("the frozen read did not get the first 24 bytes written");
		}
	}
	other = woken == &s[0] ? &s[1] : &s[0];
	if (woken && sleeper_returned(woken, 0) && woken->sh->call.ret < 0) {
		/* What A left is for the other sleeper, and for it alone. */
		EXPECT_TRUE(sleeper_returned(other, WAKE_MS)) {
			TH_LOG("%s; the %s interrupted at the mutex took nothing, and the other sleeping %s was not woken for them; rule: " LEFT_TO_THE_OTHER_RULE,
			       is_write ? "the FIFO has room for 16 bytes" :
			       "16 bytes are in the FIFO", call, call);
		}
		if (sleeper_returned(other, 0)) {
			EXPECT_EQ(16, other->sh->call.ret) {
				TH_LOG("the other %s, with %s, returned %s instead of 16",
				       call, is_write ?
				       "room for 16 bytes and 16 to write" :
				       "16 bytes there",
				       fifo_model_describe_call(
					       other->sh->call.ret,
					       other->sh->call.err, g,
					       sizeof(g)));
			}
		}
	}
	/*
	 * The model follows what the other call moved, also when only the
	 * teardown's signal ended its sleep: a sleeper that finds bytes
	 * (room) when a signal wakes it takes them, as wait_event tests its
	 * condition before the signal.
	 */
	sleeper_finish(other, self->nb);
	if (woken && other->sh->call.ret > 0) {
		moved = other->sh->call.ret;
		if (is_write) {
			fifo_model_write(&m, wdata[other - s], moved, 0);
		} else {
			fifo_model_read(&m, moved, 0, buf);
			EXPECT_EQ(0, memcmp(buf, other->sh->buf, moved)) {
				TH_LOG("the other read did not get the bytes the frozen read left");
			}
		}
	}
	if (late->sh) {
		EXPECT_TRUE(sleeper_returned(late, WAKE_MS)) {
			TH_LOG("the O_NONBLOCK %s with a bad buffer did not return once the %s mutex was let go",
			       call, lock);
		}
		sleeper_finish(late, self->nb);
		EXPECT_EQ(-1, late->sh->call.ret);
		EXPECT_TRUE(late->sh->call.err == EFAULT ||
			    late->sh->call.err == EAGAIN) {
			TH_LOG("an O_NONBLOCK %s of 1 byte with a bad buffer returned %s: EFAULT, or EAGAIN when nothing was there to move",
			       call, fifo_model_describe_call(late->sh->call.ret,
							      late->sh->call.err,
							      g, sizeof(g)));
		}
		sleeper_free(late, self->nb);
	}
	for (i = 0; i < 2; i++)
		sleeper_free(&s[i], self->nb);
	edge_buf_destroy(&bad);
	frozen_destroy(&a);
	cpu_order_unpin(&order);
	ASSERT_EQ(0, sigaction(SIGUSR1, &plain, NULL));
	expect_contents(_metadata, &m,
			"after the interrupted call (it must have moved nothing) and the other one");
	fifo_model_destroy(&m);
}

/** @brief A reader woken by data and stopped by a signal at the readers'
 *         mutex leaves the bytes to the other sleeping reader
 *         (woken_call_stopped_at_the_lock()).
 */
TEST_F_TIMEOUT(fifo, woken_read_stopped_at_the_lock_leaves_the_bytes, 20)
{
	woken_call_stopped_at_the_lock(_metadata, self, 0);
}

/** @brief A writer woken by room and stopped by a signal at the writers'
 *         mutex leaves the room to the other sleeping writer
 *         (woken_call_stopped_at_the_lock()).
 */
TEST_F_TIMEOUT(fifo, woken_write_stopped_at_the_lock_leaves_the_room, 20)
{
	woken_call_stopped_at_the_lock(_metadata, self, 1);
}

/** @brief The rule the woken_*_that_faults_* tests check, for their
 *         failure messages. */
#define FAULTED_PASS_ON_RULE "a woken call whose copy faults (EFAULT, nothing moved) leaves what it was woken for, which must still reach the other sleepers: every transfer wakes every sleeper of the other side (with exclusive waits, which wake one sleeper only, a woken call that leaves with nothing must wake the next before it returns)"

/** @brief A woken call whose copy faults leaves what it was woken for to
 *         the other sleeper.
 *
 * Two calls of 4 bytes sleep on the empty (full) FIFO, the first with a
 * buffer in a page it may not touch (PROT_NONE), the second with a good
 * one; then a write (read) of 1 byte serves one of them. A driver that
 * wakes every sleeper lets the good call have the byte (the room) in
 * either order: if the faulting call runs first, it fails with EFAULT
 * and moves nothing; if it runs second, it finds nothing and sleeps
 * again. With exclusive waits, the call woken is the first to sleep, the
 * faulting one, and when it leaves with nothing, nobody but itself can
 * wake the good call for what is still there.
 *
 * @param _metadata the test
 * @param self the fixture
 * @param is_write nonzero for writers, zero for readers
 */
static void woken_call_that_faults(struct __test_metadata *_metadata,
				   FIXTURE_DATA(fifo) *self, int is_write)
{
	const char *call = is_write ? "write" : "read";
	const char *what = is_write ? "room for 1 byte" : "1 byte";
	struct sleeper *s = self->sleepers;
	char fill[FIFO_SIZE], byte = 'q', got = 0, g[48], st;
	struct fifo_model m;
	char *bad;
	ssize_t n;

	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, fifo_model_init(&m, FIFO_SIZE, FIFO_STAGE, NULL));
	if (is_write) {
		pattern(fill, FIFO_SIZE, 31);
		ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, FIFO_SIZE));
		fifo_model_write(&m, fill, FIFO_SIZE, 1);
	}
	st = sleeper_start_with(&s[0], self->fd, is_write ? "bbbb" : NULL, 4,
				bad);
	ASSERT_EQ('S', st) {
		TH_LOG("a %s of 4 bytes %s a page it may not touch should sleep on the %s FIFO, before it looks at its buffer: %s",
		       call, is_write ? "from" : "into",
		       is_write ? "full" : "empty", not_asleep(&s[0], st));
	}
	st = sleeper_start(&s[1], self->fd, is_write ? "gggg" : NULL, 4);
	ASSERT_EQ('S', st) {
		TH_LOG("a second %s of 4 bytes should sleep on the %s FIFO: %s",
		       call, is_write ? "full" : "empty",
		       not_asleep(&s[1], st));
	}
	n = is_write ? serve_by_reading(self->nb, &got, 1, s, 2) :
		       serve_by_writing(self->nb, &byte, 1, s, 2);
	ASSERT_EQ(1, n);
	if (is_write)
		fifo_model_read(&m, 1, 1, NULL);
	else
		fifo_model_write(&m, &byte, 1, 1);
	EXPECT_TRUE(sleeper_returned(&s[1], WAKE_MS)) {
		TH_LOG("the %s with a good buffer still sleeps next to %s, after the one woken with it %s; rule: " FAULTED_PASS_ON_RULE,
		       call, what, sleeper_returned(&s[0], 0) ?
		       "failed on its buffer" : "went back to sleep");
	}
	if (sleeper_returned(&s[1], 0)) {
		n = s[1].sh->call.ret;
		EXPECT_EQ(1, n) {
			TH_LOG("the %s of 4 bytes with a good buffer, woken for %s, returned %s, not 1",
			       call, what,
			       fifo_model_describe_call(n, s[1].sh->call.err,
							g, sizeof(g)));
		}
		if (n == 1 && is_write) {
			fifo_model_write(&m, "g", 1, 0);
		} else if (n == 1) {
			fifo_model_read(&m, 1, 0, NULL);
			EXPECT_EQ(byte, s[1].sh->buf[0]);
		}
	}
	if (sleeper_returned(&s[0], 0)) {
		n = s[0].sh->call.ret;
		EXPECT_EQ(-1, n) {
			TH_LOG("the %s %s a page it may not touch returned %zd, not -1 (EFAULT)",
			       call, is_write ? "from" : "into", n);
		}
		if (n < 0) {
			EXPECT_EQ(EFAULT, s[0].sh->call.err);
		}
	}
	sleeper_free(&s[0], self->nb);
	sleeper_free(&s[1], self->nb);
	expect_contents(_metadata, &m,
			"after the call that faulted (it must have moved nothing) and the other one");
	fifo_model_destroy(&m);
	munmap(bad, 4096);
}

/** @brief A reader woken for a byte whose copy faults leaves the byte to
 *         the other sleeping reader (woken_call_that_faults()).
 */
TEST_F_TIMEOUT(fifo, woken_read_that_faults_leaves_the_bytes, 20)
{
	woken_call_that_faults(_metadata, self, 0);
}

/** @brief A writer woken for room whose copy faults leaves the room to
 *         the other sleeping writer (woken_call_that_faults()).
 */
TEST_F_TIMEOUT(fifo, woken_write_that_faults_leaves_the_room, 20)
{
	woken_call_that_faults(_metadata, self, 1);
}
#endif /* FIFO_STAGE >= 4 */

#ifdef FIFO_MODULE
/* ---------------------------------------------------------------------
 * The data path logs nothing
 */

/** @brief How many times data_path_does_not_log makes each kind of call
 *         that returns at once. */
#define QUIET_CALLS 16

/** @brief How many times data_path_does_not_log makes each kind of call
 *         that sleeps (a child process each). */
#define QUIET_SLEEPS 4



#if FIFO_STAGE >= 4
/** @brief In data_path_does_not_log, a call of 8 bytes through @p fd
 *         that sleeps, then returns: SIGUSR1 (a handler without
 *         SA_RESTART) ends its sleep, or the byte count is served
 *         through @p other (a read of 8 bytes for a write, a write of 8
 *         for a read); noted in q->off when it went otherwise.
 * @param q the record
 * @param s the sleeper (freed first, left finished)
 * @param fd the descriptor the call uses, without O_NONBLOCK
 * @param other an O_NONBLOCK descriptor for the serving call
 * @param is_write nonzero for a write
 * @param by_signal nonzero: a signal ends the sleep (EINTR); zero: the
 *        other side's call wakes it (8)
 */
static void quiet_sleep(struct kmsg_quiet *q, struct sleeper *s, int fd,
			int other, int is_write, int by_signal)
{
	char buf[8] = "zzzzzzzz";

	sleeper_free(s, other);
	if (sleeper_start(s, fd, is_write ? buf : NULL, 8) != 'S') {
		q->off++;
		return;
	}
	if (by_signal)
		kill(s->pid, SIGUSR1);
	else if (is_write)
		kmsg_quiet_call(q, read(other, buf, 8), 8, 0);
	else
		kmsg_quiet_call(q, write(other, buf, 8), 8, 0);
	if (!sleeper_returned(s, WAKE_MS))
		q->off++;
	sleeper_finish(s, other);
	errno = s->sh->call.err;
	kmsg_quiet_call(q, s->sh->call.ret, by_signal ? -1 : 8, EINTR);
}
#endif

/** @brief In data_path_does_not_log, a call that waits for its side's
 *         mutex, held by a call frozen in its copy, until SIGUSR1 (a
 *         handler without SA_RESTART) ends the wait: EINTR.
 * @param q the record
 * @param self the fixture (its FIFO is empty)
 * @param is_write nonzero for writers, zero for readers
 */
static void quiet_lock_wait(struct kmsg_quiet *q, FIXTURE_DATA(fifo) *self,
			    int is_write)
{
	struct sleeper *s = &self->sleepers[0];
	char data[48];
	struct frozen f;

	memset(data, 'q', sizeof(data));
	if (!is_write)
		kmsg_quiet_call(q, write(self->fd, data, 48), 48, 0);
	if (frozen_start(&f, self->fd, is_write, 32) == 1) {
		sleeper_free(s, self->nb);
		if (sleeper_start(s, self->fd, is_write ? data : NULL, 8) == 'S')
			kill(s->pid, SIGUSR1);
		else
			q->off++;
		if (!sleeper_returned(s, WAKE_MS))
			q->off++;
		sleeper_finish(s, self->nb);
		errno = s->sh->call.err;
		kmsg_quiet_call(q, s->sh->call.ret, -1, EINTR);
	} else {
		q->off++;
	}
	kmsg_quiet_call(q, frozen_release(&f), 32, 0);
	frozen_destroy(&f);
	drain_all(self->nb);
}

/** @brief The calls of data_path_does_not_log, every way a call of this
 *         stage can end, each noted in @p q (kmsg_quiet_call()) and the
 *         module's records counted after each run of them
 *         (kmsg_quiet_count()).
 * @param self the fixture (its FIFO is empty, and is left empty)
 * @param q the record, started
 * @param d a descriptor O_RDWR, and O_NONBLOCK from Lab 03 on
 * @param bad an unmapped page
 * @param edge a buffer whose 8th byte is the last before an unmapped page
 */
static void quiet_calls(FIXTURE_DATA(fifo) *self, struct kmsg_quiet *q,
			int d, char *bad, char *edge)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	const int empty_ret = FIFO_STAGE >= 3 ? -1 : 0;
	const int full_err = FIFO_STAGE >= 3 ? EAGAIN : ENOSPC;
	char fill[FIFO_SIZE], got[FIFO_SIZE];
	int i, m;

	memset(fill, 'f', sizeof(fill));
	for (i = 0; i < QUIET_CALLS; i++) {
		kmsg_quiet_call(q, write(d, fill, 10), 10, 0);
		kmsg_quiet_call(q, read(d, got, sizeof(got)), 10, 0);
		kmsg_quiet_call(q, write(d, fill, 0), 0, 0);
		kmsg_quiet_call(q, read(d, got, 0), 0, 0);
		kmsg_quiet_call(q, read(d, got, 1), empty_ret, EAGAIN);
		kmsg_quiet_call(q, write(d, bad, 1), -1, EFAULT);
		kmsg_quiet_call(q, lseek(d, 0, SEEK_SET), -1, ESPIPE);
		kmsg_quiet_call(q, pread(d, got, 1, 0), -1, ESPIPE);
		kmsg_quiet_call(q, pwrite(d, fill, 1, 0), -1, ESPIPE);
	}
	/* Copies that stop part-way at the unmapped page: the bytes before
	 * it are moved and counted. */
	for (i = 0; i < QUIET_CALLS; i++) {
		kmsg_quiet_call(q, write(d, edge, 16), 8, 0);
		kmsg_quiet_call(q, write(d, fill, 8), 8, 0);
		kmsg_quiet_call(q, read(d, edge, 16), 8, 0);
		kmsg_quiet_call(q, read(d, got, sizeof(got)), 8, 0);
	}
	kmsg_quiet_call(q, write(d, fill, sizeof(fill)), FIFO_SIZE, 0);
	for (i = 0; i < QUIET_CALLS; i++) {
		kmsg_quiet_call(q, write(d, fill, 1), -1, full_err);
		kmsg_quiet_call(q, read(d, bad, 1), -1, EFAULT);
#if FIFO_STAGE == 3
		/* Without O_NONBLOCK, Lab 02's answers. */
		kmsg_quiet_call(q, write(self->fd, fill, 1), -1, ENOSPC);
#endif
	}
	kmsg_quiet_call(q, read(d, got, sizeof(got)), FIFO_SIZE, 0);
#if FIFO_STAGE == 3
	for (i = 0; i < QUIET_CALLS; i++)
		kmsg_quiet_call(q, read(self->fd, got, 1), 0, 0);
#endif
	kmsg_quiet_count(q,
			 "reads and writes of bytes and of 0 bytes, on an empty and on a full FIFO, EFAULT both ways, copies that stop part-way at an unmapped page, lseek, pread and pwrite");
	for (i = 0; i < QUIET_CALLS; i++)
		for (m = 0; m < 3; m++) {
			int fd = open(FIFO_DEV, modes[m] | (i & 1 ? O_NONBLOCK : 0));

			kmsg_quiet_call(q, fd < 0 ? -1 : 0, 0, 0);
			if (fd >= 0)
				close(fd);
		}
	kmsg_quiet_count(q,
			 "opens and closes read-only, write-only and read-write, with and without O_NONBLOCK");
	/* The mutexes: a wait for one that a signal ends. */
	for (i = 0; i < QUIET_SLEEPS; i++) {
		quiet_lock_wait(q, self, 0);
		quiet_lock_wait(q, self, 1);
	}
	kmsg_quiet_count(q,
			 "reads and writes waiting for their mutex, held by a call frozen in its copy, that a signal ended (EINTR)");
#if FIFO_STAGE >= 4
	for (i = 0; i < QUIET_SLEEPS; i++) {
		quiet_sleep(q, &self->sleepers[0], self->fd, self->nb, 0, 1);
		quiet_sleep(q, &self->sleepers[0], self->fd, self->nb, 0, 0);
	}
	kmsg_quiet_call(q, write(self->nb, fill, sizeof(fill)), FIFO_SIZE, 0);
	for (i = 0; i < QUIET_SLEEPS; i++) {
		quiet_sleep(q, &self->sleepers[0], self->fd, self->nb, 1, 1);
		quiet_sleep(q, &self->sleepers[0], self->fd, self->nb, 1, 0);
	}
	drain_all(self->nb);
	kmsg_quiet_count(q,
			 "reads asleep on the empty FIFO and writes asleep on the full one, which a signal ended (EINTR) or the other side woke");
#endif
#if FIFO_STAGE >= 5
	{
		struct pollfd p = { .fd = d, .events = POLLIN | POLLOUT };
		static const size_t levels[] = { 0, 10, FIFO_SIZE };
		size_t l;

		for (l = 0; l < 3; l++) {
			if (levels[l])
				kmsg_quiet_call(q, write(d, fill, levels[l]),
						levels[l], 0);
			for (i = 0; i < QUIET_CALLS; i++)
				kmsg_quiet_call(q, poll(&p, 1, 0), 1, 0);
			drain_all(d);
		}
		kmsg_quiet_count(q,
				 "poll() on an empty, a partly full and a full FIFO");
	}
#endif
}

/** @brief The data path logs nothing (the handout's "pr_debug on hot paths"):
 * every user can make the calls, and a driver that logs a line for each
 * (a pr_err() for a full FIFO or a bad buffer, a pr_info() per read)
 * fills the kernel log. Every way a call of this lab can end is taken
 * QUIET_CALLS times, or QUIET_SLEEPS times for calls that sleep: bytes
 * moved, 0 bytes, an empty FIFO (0, or EAGAIN with O_NONBLOCK) and a full
 * one (ENOSPC, or EAGAIN), EFAULT both ways, copies that stop part-way at
 * an unmapped page, ESPIPE, opens and closes
 * with every access mode; a wait for a mutex that a signal ends (EINTR);
 * from Lab 04 on, sleeps that a signal ends and sleeps that the other
 * side wakes; from Lab 05 on, poll(). Not O_ASYNC: in Lab 06, a test
 * that sets it must first check that clearing it takes the file off the
 * list, while the file stays open (a .fasync that keeps closed files on
 * the list makes every later SIGIO a use after free, and such a check
 * stops the tests before one comes): woken_reader_waits_for_the_lock_interruptibly
 * (async_counted_file()) and no_sigio_after_clearing_o_async do;
 * fasync_does_not_log makes those calls after the latter. The module's records
 * at any level are counted (its pr_fmt() prefix, "NAME: "); not one may
 * come. A call
 * that returns something else is only noted (the tests of its rule fail
 * it). In Labs 02 and 03, whose handouts list no parameter, the test
 * first checks that the module has none (expect_params_are_the_handouts()):
 * a switch root could set at run time to make the data path log would
 * escape the calls below, made with the module as loaded; from Lab 04 on
 * fifo_size_is_read_only_in_sysfs checks the parameters. */
TEST_F_TIMEOUT(fifo, data_path_does_not_log, 60)
{
	struct edge_buf edge;
	struct kmsg_quiet q;
	char *bad;
	int d;

#if FIFO_STAGE < 4
	expect_params_are_the_handouts(_metadata);
#endif
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, edge_buf_init(&edge, 8));
	ASSERT_EQ(0, kmsg_quiet_start(&q, FIFO_MODULE)) {
		TH_LOG("cannot open /dev/kmsg: %s", strerror(errno));
	}
	/* From Lab 03 on, O_NONBLOCK: an empty or full FIFO is EAGAIN. */
	d = open_dev(_metadata,
		     O_RDWR | (FIFO_STAGE >= 3 ? O_NONBLOCK : 0));
	quiet_calls(self, &q, d, bad, edge_buf_at(&edge, 8));
	close(d);
	edge_buf_destroy(&edge);
	munmap(bad, 4096);
	kmsg_quiet_end(&q);
	ASSERT_EQ(0, q.read_err) {
		TH_LOG("cannot read /dev/kmsg: %s", strerror(q.read_err));
	}
	EXPECT_EQ(0, q.lines) {
		TH_LOG("%d kernel log lines of %s came while the test made its calls; the first, from %s: \"%.160s\"; rule: " KMSG_QUIET_RULE,
		       q.lines, FIFO_MODULE, q.first_when, q.first);
		if (q.off)
			TH_LOG("%d of those calls did not return what the handout says (the tests of those rules check that); whatever a call returns, it logs nothing",
			       q.off);
	}
}

/** @brief The rule data_path_works_with_its_debug_messages_on checks. */
#define DEBUG_ON_RULE "rule: pr_debug() at most on the data path, and a message turned on changes nothing else: it prints only what the driver has in kernel memory (never a __user pointer, which only copy_to_user()/copy_from_user() may touch, and never past a buffer's end) and takes no lock"

/** @brief What quiet_calls() needs, for dyndbg_calls_off_and_on(). */
struct quiet_args {
	/** @brief The fixture. */
	FIXTURE_DATA(fifo) *self;
	/** @brief An unmapped page. */
	char *bad;
	/** @brief A buffer whose 8th byte is the last before an unmapped
	 *         page. */
	char *edge;
};

/** @brief quiet_calls() on a descriptor of its own, as a dyndbg_calls.
 * @param q the record, started
 * @param arg the struct quiet_args
 */
static void quiet_calls_on_own_fd(struct kmsg_quiet *q, void *arg)
{
	struct quiet_args *a = arg;
	int d = open(FIFO_DEV, O_RDWR | (FIFO_STAGE >= 3 ? O_NONBLOCK : 0));

	kmsg_quiet_call(q, d < 0 ? -1 : 0, 0, 0);
	if (d < 0)
		return;
	quiet_calls(a->self, q, d, a->bad, a->edge);
	close(d);
}

/** @brief The module's pr_debug() messages, turned on with dynamic debug
 *         (dyndbg.h) as a developer does to see what the driver does,
 *         change nothing: the calls of data_path_does_not_log, made in a
 *         child process with the messages off and then on, return the
 *         same both times, and none kills the process (an oops: a message
 *         that reads the user's buffer directly faults under SMAP). The
 *         messages are turned off again before the results are judged.
 *         Then, the messages on again, the calls of
 *         signal_ends_a_wait_for_the_readers_lock,
 *         signal_ends_a_wait_for_the_writers_lock and
 *         reader_and_writer_do_not_wait_for_each_other, against a call
 *         frozen in its copy that holds a mutex, must go as they go with
 *         the messages off: a message that takes a lock makes a call wait
 *         where it must not, or sleep uninterruptibly.
 *         A kernel without dynamic debug compiles pr_debug() to nothing:
 *         there the test has nothing to turn on, says so, and passes. */
TEST_F_TIMEOUT(fifo, data_path_works_with_its_debug_messages_on, 90)
{
	struct dyndbg_outcome o;
	struct quiet_args a = { .self = self };
	struct edge_buf edge;
	char msg[512];
	int verdict;

	a.bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		     0);
	ASSERT_NE(MAP_FAILED, a.bad);
	ASSERT_EQ(0, edge_buf_init(&edge, 8));
	a.edge = edge_buf_at(&edge, 8);
	dyndbg_calls_off_and_on(FIFO_MODULE, quiet_calls_on_own_fd, &a, &o);
	verdict = dyndbg_judge(&o, FIFO_MODULE, DEBUG_ON_RULE, msg,
			       sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, verdict);
	edge_buf_destroy(&edge);
	munmap(a.bad, 4096);
	if (verdict || o.err)
		return;
	/* The messages on, the locks are the same: a message that takes a
	 * lock makes a call wait where it must not, or sleep where a signal
	 * must end its wait. */
	ASSERT_EQ(0, dyndbg_module(FIFO_MODULE, 1, msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	fifo_debug_on = 1;
	signal_ends_a_lock_wait(_metadata, self, 0);
	signal_ends_a_lock_wait(_metadata, self, 1);
	readers_and_writers_do_not_wait(_metadata, self);
	EXPECT_EQ(0, dyndbg_module(FIFO_MODULE, 0, msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	fifo_debug_on = 0;
	if (_metadata->exit_code == KSFT_FAIL)
		TH_LOG("the calls above went otherwise with the module's debug messages on (the tests signal_ends_a_wait_for_the_readers_lock, signal_ends_a_wait_for_the_writers_lock and reader_and_writer_do_not_wait_for_each_other make them with the messages off); %s",
		       DEBUG_ON_RULE);
}

#endif /* FIFO_MODULE */

#ifdef FIFO_MODULE
/** @brief The rule expect_works_the_moment_its_node_appears() checks. */
#define REGISTER_LAST_RULE "rule: the device works from the moment its node appears, while init is still running: set everything up (the FIFO, the mutexes, the wait queues) before the registration that makes the node, and change nothing a caller can see after it (register last)"

/** @brief Load the module while a real-time thread (early_caller.h) uses
 *         @p node the moment it appears, inside the registration: it
 *         writes 5 bytes, then starts a write of 8 that freezes in its
 *         copy, holding the writers' mutex, while init goes on. Once the
 *         load is through, a write of 3 must wait for that mutex; let go,
 *         the frozen write puts in its 8 bytes and the waiting one its 3:
 *         the FIFO holds all 16, in order. A FIFO set up after the
 *         registration (INIT_KFIFO(), a kfifo_reset()) drops the first
 *         bytes; a mutex set up after it (mutex_init()) is made free
 *         again under the frozen write, and the write of 3 goes through.
 *         From Lab 04 on, the module's debugfs live view
 *         (/sys/kernel/debug/MODULE/state) is something a caller can see
 *         too: the early thread looks for it the moment the node appears,
 *         and it must be there already (a view created after the
 *         registration is not).
 *         Under full preemption where the kernel can switch; elsewhere
 *         the early thread runs when init sleeps or returns, and the test
 *         shows less.
 * @param _metadata the test
 * @param node the device node to watch (minor 0's where there are many)
 */
static void expect_works_the_moment_its_node_appears(struct __test_metadata *_metadata,
						     const char *node)
{
	static const char want[] = EARLY_CALLER_FIRST "FROZEN!!abc";
	struct sleeper s = { 0 };
	struct early_load l;
	char buf[2 * FIFO_SIZE], st = 0, view[160], *also = NULL;
	int fd = -1, err;
	ssize_t n;

	if (FIFO_STAGE >= 4) {
		/* The grading VM does not mount debugfs: mount it for the view. */
		err = reload_checks_debugfs_dir(FIFO_MODULE, view, sizeof(view));
		ASSERT_EQ(0, err) {
			TH_LOG("cannot mount debugfs: %s", strerror(err));
		}
		strncat(view, "/state", sizeof(view) - strlen(view) - 1);
		also = view;
	}
	ASSERT_EQ(0, module_unload_when_free(FIFO_MODULE, 5000));
	ASSERT_NE(0, access(node, F_OK)) {
		TH_LOG("%s is still there after rmmod", node);
	}
	early_load_begin_looking(&l, FIFO_MODULE, node, NULL,
				 &fifo_preempt_switched, also);
	if (expect_early_calls(_metadata, &l, node, REGISTER_LAST_RULE)) {
		fd = open(node, O_RDWR | O_NONBLOCK);
		EXPECT_LE(0, fd);
	}
	if (also && l.load_err == 0 && l.caller.open_err == 0) {
		EXPECT_EQ(0, l.caller.also_err) {
			TH_LOG("the live view %s was not there the moment %s appeared, inside the registration (%s): it is part of what a caller can see, so it is created before the registration, not after it. " REGISTER_LAST_RULE,
			       also, node, strerror(l.caller.also_err));
		}
	}
	if (l.frozen && fd >= 0) {
		st = sleeper_start(&s, fd, "abc", 3);
		EXPECT_EQ('S', st) {
			TH_LOG("a write of 3 bytes made once the load was through should wait for the writers' mutex, which the write frozen in its copy since the node appeared holds: %s. Was the mutex set up (mutex_init()) after the registration, under that write? " REGISTER_LAST_RULE,
			       not_asleep(&s, st));
		}
	}
	early_load_end(&l, "FROZEN!!");
	if (s.sh) {
		if (st == 'S') {
			EXPECT_TRUE(sleeper_returned(&s, WAKE_MS)) {
				TH_LOG("the write of 3 bytes still waits once the frozen write has returned");
			}
		}
		sleeper_free(&s, fd);
	}
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf));
	EXPECT_TRUE(n == (ssize_t)strlen(want) && !memcmp(buf, want, n)) {
		TH_LOG("the FIFO holds \"%.*s\" (%zd bytes), not \"%s\": the 5 bytes written the moment the node appeared, the 8 of the write frozen then, the 3 of the write that waited for it. Bytes lost at the start: was the FIFO set up (INIT_KFIFO(), kfifo_reset()) after the registration, when a caller could already write? " REGISTER_LAST_RULE,
		       n > 0 ? (int)n : 0, buf, n, want);
	}
	close(fd);
}

/** @brief The rule a_failed_registration_fails_the_load checks. */
#define FAILED_REGISTRATION_RULE "rule: a registration that fails makes the load fail: init checks misc_register()'s result, undoes in reverse what it did before it (goto unwinding), and returns that error"

/** @brief Check that the FIFO behind @p node takes a write of 2 bytes
 *         and gives them back (emptied first, without blocking).
 * @param node the device node
 * @param msg where a failure is described ("NODE cannot be opened: ...")
 * @param size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int node_round_trip(const char *node, char *msg, size_t size)
{
	char buf[4] = { 0 };
	int fd = open(node, O_RDWR | O_NONBLOCK);
	ssize_t n;

	if (fd < 0) {
		snprintf(msg, size, "%s cannot be opened: %s", node,
			 strerror(errno));
		return -1;
	}
	drain_all(fd);
	n = write(fd, "ok", 2);
	if (n != 2) {
		snprintf(msg, size, "%s does not take a write of 2 bytes: %zd (%s)",
			 node, n, n < 0 ? strerror(errno) : "a short write");
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n != 2 || strcmp(buf, "ok")) {
		snprintf(msg, size, "%s gave back %zd bytes (\"%.3s\") of the 2 written (\"ok\")",
			 node, n, n > 0 ? buf : "");
		return -1;
	}
	return 0;
}

/** @brief Check that the FIFO behind @p node still takes a write and
 *         gives it back, after a second copy of the module tried to load.
 * @param _metadata the test
 * @param node the device node
 */
static void expect_node_still_works(struct __test_metadata *_metadata,
				    const char *node)
{
	char msg[256];

	EXPECT_EQ(0, node_round_trip(node, msg, sizeof(msg))) {
		TH_LOG("after the second copy's load, %s", msg);
	}
}

#if FIFO_STAGE >= 4
/** @brief The rule expect_loads_without_its_view() checks. */
#define DEBUGFS_NOT_AN_ERROR_RULE "rule: debugfs failures are not errors: the live view is a debugging aid, so when debugfs_create_dir() fails, init goes on without it (debugfs_create_file() and debugfs_remove_recursive() take its error pointer as it is) and the module loads and works"

/** @brief With the name of the module's debugfs directory taken by the
 *         kit's name taker (name_taker.h), the module, unloaded first,
 *         must load (without its live view), its @p count devices must
 *         each take a write and give it back, and it must unload; then
 *         the name taker gives the name back, and the module is loaded
 *         with its defaults again, as the test found it.
 * @param _metadata the test
 * @param node_of the node of device @p i (0 to @p count - 1)
 * @param count how many devices the module makes with its defaults
 */
static void expect_loads_without_its_view(struct __test_metadata *_metadata,
					  const char *(*node_of)(int i),
					  int count)
{
	char msg[1024];
	int err, i;

	err = module_unload_when_free(FIFO_MODULE, 5000);
	EXPECT_EQ(0, err) {
		TH_LOG("cannot unload " FIFO_MODULE " to load it again with its debugfs directory's name taken: %s",
		       strerror(err));
	}
	if (err)
		return;
	err = name_taker_load(FIFO_MODULE, NULL, msg, sizeof(msg));
	EXPECT_EQ(0, err) {
		TH_LOG("with " FIFO_MODULE " unloaded, %s", msg);
	}
	if (!err) {
		/* debugfs reports the directory it cannot make. */
		err = module_copy_framed_load(FIFO_MODULE, "");
		EXPECT_EQ(0, err) {
			TH_LOG("with the name of its debugfs directory, /sys/kernel/debug/" FIFO_MODULE ", taken (the kit's name taker made that directory first), the load of " FIFO_MODULE " failed: %s; " DEBUGFS_NOT_AN_ERROR_RULE,
			       err < 0 ? "(cannot write to /dev/kmsg)" :
			       strerror(err));
		}
		for (i = 0; !err && i < count; i++) {
			EXPECT_EQ(0, node_round_trip(node_of(i), msg,
						     sizeof(msg))) {
				TH_LOG("loaded while the name of its debugfs directory was taken, %s; " DEBUGFS_NOT_AN_ERROR_RULE,
				       msg);
			}
		}
		if (!err) {
			err = module_unload_when_free(FIFO_MODULE, 5000);
			EXPECT_EQ(0, err) {
				TH_LOG("loaded while the name of its debugfs directory was taken, " FIFO_MODULE " does not unload: %s",
				       strerror(err));
			}
		}
		err = name_taker_unload();
		EXPECT_EQ(0, err) {
			TH_LOG("the kit's name taker does not unload: %s",
			       strerror(err));
		}
	}
	if (access("/sys/module/" FIFO_MODULE, F_OK) == 0)
		return;	/* it did not unload: said above */
	err = module_load(FIFO_MODULE, "");
	EXPECT_EQ(0, err) {
		TH_LOG("with its debugfs directory's name given back, " FIFO_MODULE " does not load again: %s",
		       strerror(err));
	}
}
#endif
#endif /* FIFO_MODULE */

#if FIFO_STAGE <= 4
/* ---------------------------------------------------------------------
 * The model-based tests: seeded random calls on several descriptors, in
 * one or several processes, each compared with the model. Up to stage 4:
 * Labs 05 and 06 compare all their minors with minor_model.h instead,
 * and reload their module with the tests of minor_tests.h.
 */

/** @brief How long a call the model says returns (or a woken one) may
 *         take in a model run, in ms: milliseconds normally; the bound is
 *         only there to fail a call that does not return, and hundreds
 *         of calls each get it, so it is generous. */
#define MT_CALL_MS 5000

/** @brief Descriptors a model run may have. */
#define MT_DESCS 8
/** @brief Processes a model run may have besides the test's. */
#define MT_AGENTS 3
/** @brief Open files (with their O_NONBLOCK) a model run may create. */
#define MT_FILES 256

/** @brief What one step does. */
enum mt_kind {
	/** @brief read(). */
	MT_READ,
	/** @brief write(). */
	MT_WRITE,
	/** @brief fcntl() toggling O_NONBLOCK. */
	MT_TOGGLE,
	/** @brief close() and open() again, with random flags. */
	MT_REOPEN,
	/** @brief SIGUSR1 to the process whose call sleeps. */
	MT_SIGNAL,
};

/** @brief One step, as an agent receives it (in shared memory). */
struct mt_slot {
	/** @brief What to do. */
	int kind;
	/** @brief The descriptor, in the agent's process. */
	int fd;
	/** @brief For MT_REOPEN, open()'s flags. */
	int flags;
	/** @brief The byte count. */
	size_t count;
	/** @brief Bytes of the buffer before an unmapped page. */
	size_t usable;
	/** @brief What the call returned. */
	ssize_t ret;
	/** @brief errno after it. */
	int err;
	/** @brief Set when the call returned. */
	atomic_int done;
	/** @brief The data written, or read. */
	char buf[];
};

/** @brief A process that makes calls for the test. */
struct mt_agent {
	/** @brief Its PID. */
	pid_t pid;
	/** @brief The test writes a byte here for each step. */
	int cmd[2];
	/** @brief The agent writes a byte here just before its call ('r'),
	 *         and when it returned ('d'). */
	int rep[2];
	/** @brief The step, shared. */
	struct mt_slot *slot;
};

/** @brief A descriptor of a model run. */
struct mt_desc {
	/** @brief Its number, in every process that has it. */
	int fd;
	/** @brief -1: the test's, which every agent inherited; else the
	 *         agent whose own it is. */
	int owner;
	/** @brief Its open file, an index into mt_run::nonblock. */
	int file;
};

/** @brief A model-based run. */
struct mt_run {
	/** @brief The test, for its macros. */
	struct __test_metadata *md;
	/** @brief The seed. */
	uint64_t seed;
	/** @brief The step being made. */
	int step;
	/** @brief The model. */
	struct fifo_model model;
	/** @brief The random numbers. */
	struct fifo_model_rng rng;
	/** @brief The last calls. */
	struct fifo_model_history hist;
	/** @brief The descriptors. */
	struct mt_desc desc[MT_DESCS];
	/** @brief How many. */
	int ndesc;
	/** @brief O_NONBLOCK of every open file so far. */
	int nonblock[MT_FILES];
	/** @brief How many open files so far. */
	int nfiles;
	/** @brief The agents, 1 to nagents (0 is the test itself). */
	struct mt_agent agent[MT_AGENTS + 1];
	/** @brief How many. */
	int nagents;
	/** @brief Whether agents may call on descriptors of their own, and
	 *         on the test's ones (several processes), or only sleep for
	 *         the test (one process). */
	int multi;
	/** @brief The agent whose call sleeps, or 0. */
	int pending;
	/** @brief The sleeping call's descriptor. */
	int pending_desc;
	/** @brief The sleeping call's kind, MT_READ or MT_WRITE. */
	int pending_kind;
	/** @brief The sleeping call's text, for messages. */
	char pending_text[192];
	/** @brief The largest byte count. */
	size_t max_count;
	/** @brief The test's buffer that runs into an unmapped page. */
	struct edge_buf edge;
	/** @brief An O_NONBLOCK descriptor no step uses, to empty the FIFO
	 *         at the end. */
	int spare_fd;
	/** @brief The model's idea of a read's bytes. */
	char *expect;
	/** @brief Nonzero after the first mismatch. */
	int failed;
};

/** @brief An agent's life: make each step the test sends, until EOF.
 * @param a the agent
 * @param edge its copy of the test's edge buffer
 */
static void mt_agent_main(struct mt_agent *a, struct edge_buf *edge)
{
	struct mt_slot *s = a->slot;
	char *buf;
	char c;

	while (read(a->cmd[0], &c, 1) == 1) {
		switch (s->kind) {
		case MT_READ:
		case MT_WRITE:
			buf = edge_buf_at(edge, s->usable);
			if (s->kind == MT_WRITE)
				memcpy(buf, s->buf, s->usable < s->count ?
				       s->usable : s->count);
			if (write(a->rep[1], "r", 1) != 1)
				_exit(3);
			errno = 0;
			s->ret = s->kind == MT_WRITE ?
				 write(s->fd, buf, s->count) :
				 read(s->fd, buf, s->count);
			s->err = errno;
			if (s->kind == MT_READ && s->ret > 0)
				memcpy(s->buf, buf, (size_t)s->ret);
			break;
		case MT_TOGGLE:
			if (write(a->rep[1], "r", 1) != 1)
				_exit(3);
			s->ret = fcntl(s->fd, F_SETFL,
				       fcntl(s->fd, F_GETFL) ^ O_NONBLOCK);
			s->err = errno;
			break;
		case MT_REOPEN:
			if (write(a->rep[1], "r", 1) != 1)
				_exit(3);
			if (s->fd >= 0)
				close(s->fd);
			s->ret = open(FIFO_DEV, s->flags);
			s->err = errno;
			break;
		}
		atomic_store(&s->done, 1);
		if (write(a->rep[1], "d", 1) != 1)
			_exit(3);
	}
	_exit(0);
}

/** @brief Open a descriptor of the test, for every process of the run.
 * @param r the run
 * @param flags open()'s flags, or -1 for a dup() of the previous one
 * @return 0, or -1
 */
static int mt_add_desc(struct mt_run *r, int flags)
{
	struct mt_desc *d = &r->desc[r->ndesc];

	if (flags < 0) {
		d->fd = dup(r->desc[r->ndesc - 1].fd);
		d->file = r->desc[r->ndesc - 1].file;
	} else {
		d->fd = open(FIFO_DEV, flags);
		d->file = r->nfiles++;
		r->nonblock[d->file] = !!(flags & O_NONBLOCK);
	}
	d->owner = -1;
	r->ndesc++;
	return d->fd < 0 ? -1 : 0;
}

/** @brief Describe a descriptor for the history.
 * @param r the run
 * @param actor who calls: 0 the test, else an agent
 * @param d the descriptor's index
 * @param buf where the text goes
 * @param size its size
 * @return @p buf
 */
static char *mt_who(struct mt_run *r, int actor, int d, char *buf,
		    size_t size)
{
	snprintf(buf, size, "%s fd%d(file %d%s)",
		 actor ? (char[]){ 'p', (char)('0' + actor), 0 } : "test",
		 d, r->desc[d].file,
		 r->nonblock[r->desc[d].file] ? ",NB" : "");
	return buf;
}

/** @brief Report a mismatch: the seed, the step, the call, the model's and
 *         the device's result, the rule, the last calls, the replay.
 * @param r the run
 * @param call the call
 * @param want the model's result, as text
 * @param got the device's, as text
 * @param rule the rule it breaks
 */
static void mt_fail(struct mt_run *r, const char *call, const char *want,
		    const char *got, const char *rule)
{
	struct __test_metadata *_metadata = r->md;

	if (r->failed++)
		return;
	fprintf(stderr,
		"# %s: seed %llu, step %d: %s\n#   model:  %s\n#   device: %s\n#   rule: %s\n#   the FIFO (model) held %zu of %zu bytes before the call; the last calls, oldest first:\n",
		_metadata->name, (unsigned long long)r->seed, r->step, call,
		want, got, rule, fifo_model_len(&r->model),
		r->model.capacity);
	fifo_model_history_print(&r->hist, stderr, "#     ");
	fprintf(stderr, "#   replay: " FIFO_REPLAY "\n", FIFO_STAGE,
		(unsigned long long)r->seed);
	_metadata->exit_code = KSFT_FAIL;
}

/** @brief The rule a wrong result breaks, from what the model expected.
 * @param kind MT_READ or MT_WRITE
 * @param count the byte count
 * @param usable the buffer's mapped bytes
 * @param want the model's result
 * @param ret what the device returned
 * @return the rule, with the usual bug
 */
static const char *mt_rule(int kind, size_t count, size_t usable,
			   struct fifo_model_result want, ssize_t ret)
{
	int rd = kind == MT_READ;

	if (count == 0)
		return "a read or write of 0 bytes returns 0 and changes nothing, like on a pipe, whatever the FIFO holds and whatever O_NONBLOCK says";
	if (want.blocks)
		return rd ? "without O_NONBLOCK, a read of an empty FIFO sleeps until data comes (0 would mean end of file)"
			  : "without O_NONBLOCK, a write to a full FIFO sleeps until there is room";
	if (want.ret == -1 && want.err == EAGAIN)
		return rd ? "with O_NONBLOCK, a read of an empty FIFO fails with EAGAIN; O_NONBLOCK is read from file->f_flags at every call (fcntl() may have changed it)"
			  : "with O_NONBLOCK, a write to a full FIFO fails with EAGAIN; O_NONBLOCK is read from file->f_flags at every call (fcntl() may have changed it)";
	if (want.ret == -1 && want.err == ENOSPC)
		return "without O_NONBLOCK, a write to a full FIFO fails with ENOSPC (this descriptor's open file is not O_NONBLOCK)";
	if (want.ret == 0 && rd)
		return "without O_NONBLOCK, a read of an empty FIFO returns 0 (this descriptor's open file is not O_NONBLOCK)";
	if (want.ret == -1 && want.err == EFAULT)
		return "EFAULT when not a single byte could be copied";
	if (usable < count && ret != want.ret)
		return "a buffer that runs into an unmapped page: the bytes before it are copied and counted, the call returns their count (EFAULT only if none)";
	return rd ? "a read returns min(count, bytes in the FIFO), the oldest bytes"
		  : "a write appends min(count, room) bytes and returns that count";
}

/** @brief Send a step to an agent and wait until it is about to call.
 * @param r the run
 * @param actor the agent
 * @return 0, or -1 if the agent is gone
 */
static int mt_send(struct mt_run *r, int actor)
{
	struct mt_agent *a = &r->agent[actor];

	atomic_store(&a->slot->done, 0);
	if (write(a->cmd[1], "s", 1) != 1)
		return -1;
	return await_byte(a->rep[0], 5000) ? 0 : -1;
}

/** @brief Wait for an agent's call to return.
 * @param r the run
 * @param actor the agent
 * @param timeout_ms how long
 * @return 1 if it returned, 0 if not
 */
static int mt_wait(struct mt_run *r, int actor, int timeout_ms)
{
	return await_byte(r->agent[actor].rep[0], timeout_ms);
}

/** @brief Check a read's or write's result and bytes against the model.
 * @param r the run
 * @param text the call, for messages
 * @param kind MT_READ or MT_WRITE
 * @param count its byte count
 * @param usable its buffer's mapped bytes
 * @param want the model's result (applied already)
 * @param ret the device's result
 * @param err its errno
 * @param got for a read, the bytes the device returned
 */
static void mt_check(struct mt_run *r, const char *text, int kind,
		     size_t count, size_t usable,
		     struct fifo_model_result want, ssize_t ret, int err,
		     const char *got)
{
	char w[32], g[32];
	ssize_t i;

	fifo_model_describe(want, w, sizeof(w));
	fifo_model_describe_call(ret, err, g, sizeof(g));
	fifo_model_history_add(&r->hist, "%s -> %s", text, g);
	if (!fifo_model_agrees(want, ret, err)) {
		mt_fail(r, text, w, g, mt_rule(kind, count, usable, want, ret));
		return;
	}
	if (kind != MT_READ || ret <= 0)
		return;
	for (i = 0; i < ret && got[i] == r->expect[i]; i++)
		;
	if (i < ret) {
		char wb[80], gb[80];

		snprintf(wb, sizeof(wb), "%zd bytes, byte %zd is '%c'", ret, i,
			 r->expect[i]);
		snprintf(gb, sizeof(gb), "%zd bytes, byte %zd is '%c'", ret, i,
			 got[i]);
		mt_fail(r, text, wb, gb,
			"bytes come out in the order they went in, each exactly once");
	}
}

/** @brief Pick a byte count: 0, small, around the capacity, or above.
 * @param r the run
 * @return the count
 */
static size_t mt_count(struct mt_run *r)
{
	size_t cap = r->model.capacity;
	uint64_t x = fifo_model_rng_below(&r->rng, 100);

	if (x < 8)
		return 0;
	if (x < 40)
		return 1 + fifo_model_rng_below(&r->rng, 8);
	if (x < 60)
		return cap - 2 + fifo_model_rng_below(&r->rng, 5);
	if (x < 90)
		return 1 + fifo_model_rng_below(&r->rng, 3 * cap);
	return r->max_count;
}

/** @brief After a step: the sleeping call, if any, must return now if
 *         the model says it can be served, and sleep on otherwise.
 * @param r the run
 */
static void mt_settle(struct mt_run *r)
{
	struct fifo_model_result want;
	struct mt_agent *a;
	struct mt_slot *s;
	char g[32];
	int nb;

	if (!r->pending)
		return;
	a = &r->agent[r->pending];
	s = a->slot;
	nb = r->nonblock[r->desc[r->pending_desc].file];
	want = r->pending_kind == MT_READ ?
	       fifo_model_read_upto(&r->model, s->count, s->usable, nb,
				    r->expect) :
	       fifo_model_write_upto(&r->model, s->buf, s->count, s->usable,
				     nb);
	if (want.blocks) {
		if (atomic_load(&s->done)) {
			mt_wait(r, r->pending, 1000);
			fifo_model_describe_call(s->ret, s->err, g, sizeof(g));
			fifo_model_history_add(&r->hist, "%s -> %s",
					       r->pending_text, g);
			mt_fail(r, r->pending_text, "still sleeps", g,
				"a sleeping call returns only once it can move at least one byte, or a signal ends it");
			r->pending = 0;
		}
		return;
	}
	r->pending = 0;
	if (!mt_wait(r, a - r->agent, MT_CALL_MS)) {
		fifo_model_describe(want, g, sizeof(g));
		fifo_model_history_add(&r->hist, "%s -> still asleep",
				       r->pending_text);
		mt_fail(r, r->pending_text, g, "still sleeps",
			r->pending_kind == MT_READ ?
			"a write that adds data wakes the sleeping readers, whatever its size and whatever the FIFO held (wake_up_interruptible() after every write that wrote something)" :
			"a read that makes room wakes the sleeping writers, whatever its size (wake_up_interruptible() after every read that read something)");
		return;
	}
	mt_check(r, r->pending_text, r->pending_kind, s->count, s->usable,
		 want, s->ret, s->err, s->buf);
}

/** @brief Make one random step.
 * @param r the run
 */
static void mt_step(struct mt_run *r)
{
	struct fifo_model_result want;
	int kind, d, actor, nb, i;
	size_t count, usable;
	char who[48], text[160], sig[224], g[32];
	struct mt_slot *s;
	uint64_t x;
	ssize_t ret;
	int err;
	char *buf;

	x = fifo_model_rng_below(&r->rng, 100);
	if (r->pending && x < 4) {
		/* A signal ends the sleeping call with EINTR. */
		s = r->agent[r->pending].slot;
		snprintf(sig, sizeof(sig), "SIGUSR1 to p%d, asleep in %s",
			 r->pending, r->pending_text);
		kill(r->agent[r->pending].pid, SIGUSR1);
		i = r->pending;
		r->pending = 0;
		if (!mt_wait(r, i, MT_CALL_MS)) {
			fifo_model_history_add(&r->hist, "%s -> still asleep", sig);
			mt_fail(r, sig, "-1 EINTR", "still sleeps",
				"a signal ends a sleep in the driver: wait_event_interruptible(), and return -ERESTARTSYS");
			return;
		}
		fifo_model_describe_call(s->ret, s->err, g, sizeof(g));
		fifo_model_history_add(&r->hist, "%s -> %s", sig, g);
		if (s->ret != -1 || s->err != EINTR)
			mt_fail(r, sig, "-1 EINTR", g,
				"a signal ends a sleeping call with EINTR (the driver returns -ERESTARTSYS), having moved nothing");
		return;
	}
	kind = x < 46 ? MT_READ : x < 90 ? MT_WRITE : x < 96 ? MT_TOGGLE
							    : MT_REOPEN;
	d = (int)fifo_model_rng_below(&r->rng, (uint64_t)r->ndesc);
	if (r->desc[d].owner >= 0)
		actor = r->desc[d].owner;
	else if (r->multi)
		actor = (int)fifo_model_rng_below(&r->rng,
						  (uint64_t)r->nagents + 1);
	else
		actor = 0;
	if (actor == r->pending)
		actor = r->desc[d].owner >= 0 ? -1 : 0;
	if (actor < 0)
		return;	/* its only process sleeps: another step */
	nb = r->nonblock[r->desc[d].file];
	if (kind == MT_REOPEN && (r->desc[d].owner < 0 ||
				  (r->pending && r->desc[r->pending_desc].file ==
						 r->desc[d].file)))
		kind = MT_TOGGLE;
	if (kind == MT_TOGGLE && r->pending &&
	    r->desc[r->pending_desc].file == r->desc[d].file)
		return;	/* leave the sleeping call's file alone */
	mt_who(r, actor, d, who, sizeof(who));
	if (kind == MT_TOGGLE || kind == MT_REOPEN) {
		int flags = O_RDWR | (fifo_model_rng_below(&r->rng, 2) ?
				      O_NONBLOCK : 0);

		/* Opens with O_TRUNC and O_APPEND too, which change nothing
		 * on a FIFO (taken from the step, not from the seed's
		 * sequence, which stays as it was). */
		flags |= r->step % 3 == 1 ? O_TRUNC :
			 r->step % 3 == 2 ? O_APPEND : 0;
		if (kind == MT_TOGGLE)
			snprintf(text, sizeof(text), "%s fcntl(%s O_NONBLOCK)",
				 who, nb ? "clear" : "set");
		else
			snprintf(text, sizeof(text), "%s close, open(O_RDWR%s%s)",
				 who, flags & O_NONBLOCK ? "|O_NONBLOCK" : "",
				 flags & O_TRUNC ? "|O_TRUNC" :
				 flags & O_APPEND ? "|O_APPEND" : "");
		if (actor == 0) {
			ret = fcntl(r->desc[d].fd, F_SETFL,
				    fcntl(r->desc[d].fd, F_GETFL) ^ O_NONBLOCK);
			err = errno;
		} else {
			s = r->agent[actor].slot;
			s->kind = kind;
			s->fd = r->desc[d].fd;
			s->flags = flags;
			if (mt_send(r, actor) || !mt_wait(r, actor, 5000)) {
				mt_fail(r, text, "done", "the process is gone",
					"(a process of the test died)");
				return;
			}
			ret = s->ret;
			err = s->err;
		}
		fifo_model_describe_call(ret, err, g, sizeof(g));
		fifo_model_history_add(&r->hist, "%s -> %s", text, g);
		if (ret < 0) {
			mt_fail(r, text, "success", g,
				kind == MT_REOPEN ? "the device can be opened any number of times, with any flags" :
				"fcntl(F_SETFL) on the device works");
			return;
		}
		if (kind == MT_TOGGLE) {
			r->nonblock[r->desc[d].file] = !nb;
		} else if (r->nfiles < MT_FILES) {
			r->desc[d].fd = (int)ret;
			r->desc[d].file = r->nfiles++;
			r->nonblock[r->desc[d].file] = !!(flags & O_NONBLOCK);
		}
		return;
	}

	count = mt_count(r);
	usable = fifo_model_rng_below(&r->rng, 100) < 85 ? count :
		 fifo_model_rng_below(&r->rng, count + 1);
	snprintf(text, sizeof(text), "%s %s(%zu%s)", who,
		 kind == MT_READ ? "read" : "write", count,
		 usable < count ? ", buffer ends early" : "");
	if (usable < count)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 " [%zu mapped]", usable);
	/* The bytes a write writes. */
	s = actor ? r->agent[actor].slot : NULL;
	buf = s ? s->buf : edge_buf_at(&r->edge, usable);
	if (kind == MT_WRITE)
		for (i = 0; i < (int)(usable < count ? usable : count); i++)
			buf[i] = (char)('a' + fifo_model_rng_below(&r->rng, 26));
	want = kind == MT_READ ?
	       fifo_model_read_upto(&r->model, count, usable, nb, r->expect) :
	       fifo_model_write_upto(&r->model, buf, count, usable, nb);
	if (want.blocks && r->pending)
		return;	/* one sleeping call at a time: another step */
	if (actor == 0) {
		/* The test cannot risk a call that may sleep (or hang on a
		 * mutex a bug left locked): an agent makes it on the same
		 * (inherited) descriptor, and the test watches it. */
		for (actor = 1; actor <= r->nagents; actor++)
			if (actor != r->pending)
				break;
		s = r->agent[actor].slot;
		if (kind == MT_WRITE)
			memcpy(s->buf, buf, usable < count ? usable : count);
		buf = s->buf;
		mt_who(r, actor, d, who, sizeof(who));
		snprintf(text, sizeof(text), "%s %s(%zu)", who,
			 kind == MT_READ ? "read" : "write", count);
		if (usable < count)
			snprintf(text + strlen(text),
				 sizeof(text) - strlen(text), " [%zu mapped]",
				 usable);
	}
	if (actor == 0) {
		errno = 0;
		ret = kind == MT_READ ? read(r->desc[d].fd, buf, count)
				      : write(r->desc[d].fd, buf, count);
		err = errno;
		mt_check(r, text, kind, count, usable, want, ret, err, buf);
		return;
	}
	s->kind = kind;
	s->fd = r->desc[d].fd;
	s->count = count;
	s->usable = usable;
	if (mt_send(r, actor)) {
		mt_fail(r, text, "a call", "the process is gone",
			"(a process of the test died)");
		return;
	}
	if (!want.blocks) {
		if (!mt_wait(r, actor, MT_CALL_MS)) {
			fifo_model_describe(want, g, sizeof(g));
			fifo_model_history_add(&r->hist, "%s -> sleeps", text);
			mt_fail(r, text, g, "sleeps", mt_rule(kind, count, usable,
							      want, -1));
			kill(r->agent[actor].pid, SIGUSR1);
			mt_wait(r, actor, MT_CALL_MS);
			return;
		}
		mt_check(r, text, kind, count, usable, want, s->ret, s->err,
			 s->buf);
		return;
	}
	/* The model says it sleeps: it must, in state S. */
	{
		char st = task_wait_asleep(r->agent[actor].pid, &s->done, 5000);

		if (st != 'S') {
			if (st == 'X')
				mt_wait(r, actor, 1000);
			if (st == 'X')
				fifo_model_describe_call(s->ret, s->err, g,
							 sizeof(g));
			else
				snprintf(g, sizeof(g), "state %c", st ? st : '?');
			fifo_model_history_add(&r->hist, "%s -> %s", text, g);
			mt_fail(r, text, "sleeps (state S)", g,
				mt_rule(kind, count, usable, want, s->ret));
			return;
		}
	}
	fifo_model_history_add(&r->hist, "%s -> sleeps", text);
	r->pending = actor;
	r->pending_desc = d;
	r->pending_kind = kind;
	snprintf(r->pending_text, sizeof(r->pending_text), "(woken) %s", text);
}

/** @brief Run @p steps random steps from @p seed and compare each with
 *         the model; then empty the FIFO and compare what is left.
 * @param _metadata the test
 * @param seed the seed
 * @param steps how many steps
 * @param cap the FIFO's capacity
 * @param multi nonzero: several processes, each with descriptors of its
 *        own besides the shared ones, reopening them now and then
 * @return 0 if everything matched
 */
static int mt_run(struct __test_metadata *_metadata, uint64_t seed,
		  int steps, size_t cap, int multi)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	struct mt_run *r = calloc(1, sizeof(*r));
	size_t slot_size;
	int i, failed;

	ASSERT_NE(NULL, r);
	/* SIGUSR1 ends a sleeping call with EINTR (no SA_RESTART). */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	r->md = _metadata;
	r->seed = seed;
	r->multi = multi;
	r->max_count = 4 * cap;
	ASSERT_EQ(0, fifo_model_init(&r->model, cap, FIFO_STAGE, NULL));
	fifo_model_rng_seed(&r->rng, seed);
	ASSERT_EQ(0, edge_buf_init(&r->edge, r->max_count));
	r->expect = malloc(r->max_count);
	ASSERT_NE(NULL, r->expect);
	r->spare_fd = open(FIFO_DEV, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, r->spare_fd);
	/* The test's descriptors: every process has them. The third is a
	 * dup() of the second: one open file, one O_NONBLOCK. */
	ASSERT_EQ(0, mt_add_desc(r, O_RDWR));
	ASSERT_EQ(0, mt_add_desc(r, O_RDWR | O_NONBLOCK));
	ASSERT_EQ(0, mt_add_desc(r, -1));
	r->nagents = multi ? MT_AGENTS : 2;
	slot_size = sizeof(struct mt_slot) + r->max_count;
	for (i = 1; i <= r->nagents; i++) {
		struct mt_agent *a = &r->agent[i];

		a->slot = mmap(NULL, slot_size, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, a->slot);
		ASSERT_EQ(0, pipe(a->cmd));
		ASSERT_EQ(0, pipe(a->rep));
		a->pid = fork_detached();
		ASSERT_LE(0, a->pid);
		if (a->pid == 0) {
			close(a->cmd[1]);
			close(a->rep[0]);
			mt_agent_main(a, &r->edge);
		}
		close(a->cmd[0]);
		close(a->rep[1]);
	}
	/* Several processes: each agent opens one descriptor of its own. */
	for (i = 1; multi && i <= r->nagents; i++) {
		struct mt_desc *d = &r->desc[r->ndesc];
		struct mt_slot *s = r->agent[i].slot;

		s->kind = MT_REOPEN;
		s->fd = -1;
		s->flags = O_RDWR | (i % 2 ? O_NONBLOCK : 0);
		ASSERT_EQ(0, mt_send(r, i));
		ASSERT_TRUE(mt_wait(r, i, 5000));
		ASSERT_LE(0, s->ret);
		d->fd = (int)s->ret;
		d->owner = i;
		d->file = r->nfiles++;
		r->nonblock[d->file] = !!(s->flags & O_NONBLOCK);
		r->ndesc++;
	}
	for (r->step = 0; r->step < steps && !r->failed; r->step++) {
		mt_step(r);
		if (!r->failed)
			mt_settle(r);
	}
	/* End a sleeping call, then compare what is left. */
	if (r->pending) {
		kill(r->agent[r->pending].pid, SIGUSR1);
		if (!mt_wait(r, r->pending, MT_CALL_MS) && !r->failed)
			mt_fail(r, r->pending_text, "-1 EINTR", "still sleeps",
				"a signal ends a sleeping call");
	}
	if (!r->failed) {
		/* What is left, read by an agent through a descriptor of its
		 * own that no step used. */
		struct mt_slot *s = r->agent[1].slot;
		struct fifo_model_result want;
		char text[64];

		s->kind = MT_READ;
		s->fd = r->spare_fd;
		s->count = cap;
		s->usable = cap;
		snprintf(text, sizeof(text), "p1 read(%zu) to empty the FIFO at the end",
			 cap);
		want = fifo_model_read(&r->model, cap, 1, r->expect);
		if (mt_send(r, 1) || !mt_wait(r, 1, MT_CALL_MS))
			mt_fail(r, text, "returns", "does not return",
				"every byte written and not read stays in the FIFO, and a read returns it");
		else
			mt_check(r, text, MT_READ, cap, cap, want, s->ret,
				 s->err, s->buf);
	}
	failed = r->failed;
	for (i = 1; i <= r->nagents; i++) {
		int status;

		close(r->agent[i].cmd[1]);
		kill(r->agent[i].pid, SIGKILL);
		wait_for_child(r->agent[i].pid, &status, 2000);
		close(r->agent[i].rep[0]);
		munmap(r->agent[i].slot, slot_size);
	}
	for (i = 0; i < r->ndesc; i++)
		if (r->desc[i].owner < 0)
			close(r->desc[i].fd);
	close(r->spare_fd);
	edge_buf_destroy(&r->edge);
	free(r->expect);
	fifo_model_destroy(&r->model);
	free(r);
	return failed;
}

/** @brief Steps of one model run. */
#define MT_STEPS 300

/** @brief Random reads, writes and fcntl() calls on three descriptors of
 *         the test (one a dup() of another), with random sizes and
 *         buffers that run into an unmapped page, each compared with the
 *         model: its result, errno and bytes. The reads and writes are
 *         made by a child on the same (inherited) descriptors, so that a
 *         call that does not return fails the test at once instead of
 *         hanging it; from Lab 04 on, a call the model says sleeps is
 *         made by a second child, which must sleep until the call that
 *         serves it, and then return exactly what the model says.
 *         LABKIT_SEED replaces the fixed seeds.
 */
#if FIFO_STAGE >= 4
/** @brief Whether a sleeper is woken only once the bytes have moved: the
 *         check of readers_are_woken_after_the_bytes_are_in (or, for a
 *         sleeping write, of writers_are_woken_after_the_room_is_made),
 *         made quietly. A sleeping read, then a write frozen half-way
 *         through its copy: the reader must still be asleep, and return
 *         once the write is through.
 * @param self the fixture, with the FIFO empty
 * @param is_write nonzero: a sleeping write on a full FIFO, and a frozen
 *        read
 * @return 1 if so; 0 if the sleeper, asleep all through the frozen copy,
 *         was still asleep after it; -1 if the check could not be made
 *         (the call did not sleep, the copy was not frozen, or the
 *         sleeper returned during it), which the model's own steps then
 *         judge. The FIFO is empty again in every case.
 */
static int wakes_come_after_the_copy(FIXTURE_DATA(fifo) *self, int is_write)
{
	struct sleeper *s = &self->sleepers[0];
	char fill[FIFO_SIZE];
	struct frozen a;
	int ret = -1;

	memset(fill, 'f', sizeof(fill));
	if (is_write && write(self->nb, fill, sizeof(fill)) != FIFO_SIZE) {
		drain_all(self->nb);
		return -1;
	}
	if (sleeper_start(s, self->fd, is_write ? "wxyz" : NULL,
			  is_write ? 4 : 8) == 'S' &&
	    frozen_start(&a, self->fd, !is_write, 32) == 1) {
		if (task_wait_asleep(s->sh->call.tid, &s->sh->call.done,
				     5000) == 'S') {
			frozen_release(&a);
			ret = sleeper_returned(s, WAKE_MS);
		}
		frozen_destroy(&a);
	}
	sleeper_free(s, self->nb);
	drain_all(self->nb);
	return ret;
}

/** @brief Fail a model test at once when the driver wakes its sleepers
 *         before the bytes have moved. Such a driver leaves a sleeper
 *         asleep next to data (or room) only when the woken sleeper
 *         looks before the copy is through, which on two CPUs depends on
 *         the machine: the model would catch it in some runs and not in
 *         others. Checked first, with a frozen copy, it fails every time.
 * @param _metadata the test
 * @param self the fixture
 * @return 1 if the model test can go on, 0 if it failed
 */
static int model_wakes_are_ordered(struct __test_metadata *_metadata,
				   FIXTURE_DATA(fifo) *self)
{
	int is_write;

	for (is_write = 0; is_write < 2; is_write++) {
		if (wakes_come_after_the_copy(self, is_write))
			continue;
		TH_LOG("a sleeping %s was still asleep after a %s of 32 bytes, frozen in the middle of its copy, went through: the %s does not wake the %s, or wakes them before %s (then a %s woken too early looks, sleeps again, and nobody wakes it; see %s). The model's sequences would catch this only when the woken call is slower than the copy, so it fails here",
		       is_write ? "write" : "read",
		       is_write ? "read" : "write",
		       is_write ? "read" : "write",
		       is_write ? "writers" : "readers",
		       is_write ? "the room is made" : "the bytes are in",
		       is_write ? "writer" : "reader",
		       is_write ? "writers_are_woken_after_the_room_is_made" :
				  "readers_are_woken_after_the_bytes_are_in");
		_metadata->exit_code = KSFT_FAIL;
		return 0;
	}
	return 1;
}
#endif

TEST_F_TIMEOUT(fifo, matches_the_model, 60)
{
	const uint64_t seeds[] = { 1, 2, 3 };
	uint64_t seed;
	unsigned int i;

#if FIFO_STAGE >= 4
	if (!model_wakes_are_ordered(_metadata, self))
		return;
#endif
	for (i = 0; i < 3; i++) {
		seed = fifo_model_seed(seeds[i]);
		if (mt_run(_metadata, seed, MT_STEPS, FIFO_SIZE, 0))
			break;
		if (seed != seeds[i])
			break;	/* LABKIT_SEED: one run */
	}
}

/** @brief As matches_the_model, with three more processes: each has the
 *         test's descriptors (shared open files, so that an fcntl() in one
 *         process counts in all) and one of its own, which it closes and
 *         opens again now and then.
 */
TEST_F_TIMEOUT(fifo, matches_the_model_across_processes, 60)
{
	const uint64_t seeds[] = { 101, 102, 103 };
	uint64_t seed;
	unsigned int i;

#if FIFO_STAGE >= 4
	if (!model_wakes_are_ordered(_metadata, self))
		return;
#endif
	for (i = 0; i < 3; i++) {
		seed = fifo_model_seed(seeds[i]);
		if (mt_run(_metadata, seed, MT_STEPS, FIFO_SIZE, 1))
			break;
		if (seed != seeds[i])
			break;
	}
}

/** @brief The node is mode 0666: any user makes every call as root does.
 *         One sequence of matches_the_model_across_processes, made by an
 *         ordinary user (nobody.h): uid 65534, no capability, in the test
 *         process and in every process it starts. A driver that checks a
 *         capability or a user id anywhere on the data path answers
 *         otherwise than the model.
 */
TEST_F_TIMEOUT(fifo, matches_the_model_as_an_unprivileged_user, 60)
{
	char msg[160];

#if FIFO_STAGE >= 4
	if (!model_wakes_are_ordered(_metadata, self))
		return;
#endif
	ASSERT_EQ(0, nobody_become(msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	mt_run(_metadata, fifo_model_seed(111), MT_STEPS, FIFO_SIZE, 1);
}

#ifdef FIFO_MODULE
/** @brief Tests that unload and load the module: nothing of theirs is
 *         open in between. */
FIXTURE(reload) {
	/** @brief Unused: a fixture needs a member. */
	int unused;
};

/** @brief Nothing to set up. */
FIXTURE_SETUP(reload)
{
}

/** @brief Leave the module loaded with its defaults, as the autograder
 *         expects to find it. */
FIXTURE_TEARDOWN(reload)
{
	if (access("/sys/module/" FIFO_MODULE, F_OK) == 0)
		module_unload(FIFO_MODULE);
	module_load(FIFO_MODULE, "");
}

/** @brief The module can be unloaded once nothing holds the device open
 *         (and not before: delete_module() fails with EWOULDBLOCK); then
 *         its node is gone, and a new load starts with an empty FIFO.
 */
TEST_F_TIMEOUT(reload, unload_leaves_nothing_behind, 30)
{
	long long before;
	struct stat st;
	char c;
	int fd, err;

	fd = open(FIFO_DEV, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	drain_all(fd);
	ASSERT_EQ(3, write(fd, "old", 3));
	EXPECT_EQ(EWOULDBLOCK, module_unload(FIFO_MODULE)) {
		TH_LOG("rmmod must be refused while the device is open (the module is in use): .owner = THIS_MODULE in the file_operations");
	}
	close(fd);
	err = module_unload(FIFO_MODULE);
	ASSERT_EQ(0, err) {
		TH_LOG("cannot unload " FIFO_MODULE " with nothing open: %s",
		       strerror(err));
	}
	errno = 0;
	EXPECT_EQ(-1, stat(FIFO_DEV, &st)) {
		TH_LOG("%s is still there after rmmod: deregister the device in the exit function",
		       FIFO_DEV);
	}
	EXPECT_EQ(ENOENT, errno);
	before = reload_checks_orphans_at_rest();
	ASSERT_EQ(0, module_load(FIFO_MODULE, ""));
	fd = open(FIFO_DEV, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd) {
		TH_LOG("%s did not come back with the module: %s", FIFO_DEV,
		       strerror(errno));
	}
	errno = 0;
	EXPECT_EQ(FIFO_STAGE >= 3 ? -1 : 0, read(fd, &c, 1)) {
		TH_LOG("the FIFO of a module loaded again starts empty");
	}
	if (FIFO_STAGE >= 3)
		EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(3, write(fd, "new", 3));
	EXPECT_EQ(1, read(fd, &c, 1));
	close(fd);
	/* What that load and open allocated is given back (bytes held). */
	expect_no_leftovers(_metadata, FIFO_MODULE, before,
			    "a load, an open, a write, a read, a close and an unload",
			    0);
}

/** @brief The device works from the moment its node appears, also while
 *         the load that made it is still in init
 *         (expect_works_the_moment_its_node_appears()).
 */
TEST_F_TIMEOUT(reload, works_the_moment_its_node_appears, 30)
{
	expect_works_the_moment_its_node_appears(_metadata, FIFO_DEV);
}

/** @brief A load and an unload of the module that succeed log no error:
 *         every record the kernel log gets while the module is unloaded
 *         and loaded again is below KERN_ERR (pr_info() "ready" is fine,
 *         a pr_err() is for a load that fails), whatever the FIFO holds
 *         at the unload: nothing, a few bytes, or FIFO_SIZE (an exit that
 *         reports the bytes it drops with pr_err() breaks the rule too).
 */
TEST_F_TIMEOUT(reload, load_and_unload_log_no_error, 30)
{
	static const size_t held[] = { 0, 10, FIFO_SIZE };
	char msg[1024], data[FIFO_SIZE];
	unsigned int i;

	memset(data, 'k', sizeof(data));
	for (i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
		/* Other tests check the writes; this one, the log. */
		if (fifo_node_hold(FIFO_DEV, data, held[i]))
			TH_LOG("(could not leave %zu bytes in %s: %s; the unload is checked with what it holds)",
			       held[i], FIFO_DEV, strerror(errno));
		EXPECT_EQ(0, kmsg_check_reload(FIFO_MODULE, msg,
					       sizeof(msg))) {
			TH_LOG("unloaded while the FIFO held %zu bytes: %s",
			       held[i], msg);
		}
	}
}

#if FIFO_STAGE >= 4
/** @brief One step of a_failed_registration_fails_the_load from Lab 04
 *         on, a reload_checks_step: a second copy of the module with a
 *         64 KiB FIFO (allocated before the registration), loaded while
 *         the module is (module_copy.h), must fail with EEXIST and leave
 *         no module behind.
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
	if (module_copy_expect_refused_with(FIFO_MODULE, "fifo_size=65536",
					    "misc_register() of its device",
					    FAILED_REGISTRATION_RULE, msg,
					    msg_size))
		return EPROTO;
	return 0;
}
#endif

#if FIFO_STAGE >= 4
/** @brief The node of the module's device @p i: the one there is.
 * @param i unused (0)
 * @return FIFO_DEV
 */
static const char *fifo_node_of(int i)
{
	(void)i;
	return FIFO_DEV;
}
#endif

/** @brief A registration that fails makes the load fail: a second copy
 *         of the module, loaded under another module name while the
 *         module is loaded (module_copy.h), registers a device whose name
 *         is taken; misc_register() fails with EEXIST, and so must the
 *         load, leaving no module behind. The loaded module goes on
 *         working. From Lab 04 on, where init allocates the FIFO, the
 *         copy is loaded nine times with fifo_size=65536, and the failed
 *         loads must give its 64 KiB back each time; and a failure of
 *         debugfs alone does not fail the load: with the name of its
 *         debugfs directory taken (name_taker.h), the module loads and
 *         works without its live view
 *         (expect_loads_without_its_view()). */
TEST_F_TIMEOUT(reload, a_failed_registration_fails_the_load, 120)
{
	char msg[1024];
#if FIFO_STAGE >= 4
	int err;

	err = reload_checks_steps_free("refused loads of a second copy",
				       refused_copy_step, NULL, 65536, 8,
				       msg, sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, err) {
		if (err < 0)
			TH_LOG("%s; the kernel kept about the copy's 64 KiB FIFO at every failed load (kfifo_free() missing on init's error path?)",
			       FAILED_REGISTRATION_RULE);
	}
#else
	EXPECT_EQ(0, module_copy_expect_refused(FIFO_MODULE,
						 FAILED_REGISTRATION_RULE,
						 msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
#endif
	expect_node_still_works(_metadata, FIFO_DEV);
#if FIFO_STAGE >= 4
	/* A failure of debugfs alone is not one of them. */
	expect_loads_without_its_view(_metadata, fifo_node_of, 1);
#endif
}

/** @brief The paths a load of the module that failed must not leave. */
static const char *const fifo_gone[] = {
	FIFO_DEV, "/sys/class/misc/" FIFO_MODULE, NULL
};

/** @brief The module works: its FIFO takes 2 bytes and gives them back,
 *         an alloc_failures_lab's works.
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int fifo_works(char *msg, size_t msg_size)
{
	return node_round_trip(FIFO_DEV, msg, msg_size);
}

/** @brief The module, for alloc_failures.h. */
static const struct alloc_failures_lab fifo_lab = {
	.module = FIFO_MODULE,
	.gone = fifo_gone,
	.works = fifo_works,
};

/** @brief A load or an open whose allocation fails fails with ENOMEM and
 *         leaves everything as it was (alloc_failures.h): each allocation
 *         an open of the device makes, then each one a load of the
 *         module makes (its FIFO, its debugfs files, those inside
 *         misc_register()), is made to fail in turn, one call each. A
 *         failed load leaves no module, node, sysfs entry, debugfs
 *         directory or object its code allocated; a load that still
 *         works (a debugfs file that could not be made) must give a
 *         working device. Only the debug kernel (KVER=debug) can make
 *         allocations fail; on Debian's kernels there is nothing to
 *         check. */
TEST_F_TIMEOUT(reload, a_failed_allocation_fails_the_load_or_open, 300)
{
	if (!expect_open_alloc_failures(_metadata, &fifo_lab, FIFO_DEV,
					O_RDWR | O_NONBLOCK))
		return;
	expect_load_alloc_failures(_metadata, &fifo_lab, "");
}

#if FIFO_STAGE >= 4
/** @brief Load the module with fifo_size=@p size and check that the FIFO
 *         holds exactly @p size bytes.
 * @param _metadata the test
 * @param size the size
 */
static void expect_capacity(struct __test_metadata *_metadata,
			    unsigned int size)
{
	char params[32], msg[256];
	int err;

	snprintf(params, sizeof(params), "fifo_size=%u", size);
	err = module_load(FIFO_MODULE, params);
	ASSERT_EQ(0, err) {
		TH_LOG("%s was refused (%s): a power of two from 2 to 65536 is a valid size",
		       params, strerror(err));
	}
	EXPECT_EQ(0, reload_checks_capacity(FIFO_DEV, size, msg,
					    sizeof(msg))) {
		TH_LOG("loaded with %s: %s", params, msg);
	}
	EXPECT_EQ(0, module_unload(FIFO_MODULE));
}

/** @brief fifo_size: the limits 2 and 65536 are accepted and give FIFOs of
 *         exactly that size; a size that is not a power of two, or out of
 *         the range, makes the load fail with EINVAL.
 */
TEST_F_TIMEOUT(reload, fifo_size_limits_are_2_and_65536, 20)
{
	unsigned int i;
	int err;

	err = module_unload(FIFO_MODULE);
	ASSERT_EQ(0, err);
	expect_capacity(_metadata, RELOAD_CHECKS_MIN_SIZE);
	expect_capacity(_metadata, RELOAD_CHECKS_MAX_SIZE);
	for (i = 0; reload_checks_bad_sizes[i]; i++) {
		err = module_load(FIFO_MODULE, reload_checks_bad_sizes[i]);
		if (!err)
			module_unload(FIFO_MODULE);
		EXPECT_EQ(EINVAL, err) {
			TH_LOG("%s: the load must fail with EINVAL (a power of two from 2 to 65536), not %s",
			       reload_checks_bad_sizes[i],
			       err ? strerror(err) : "succeed");
		}
	}
}

/** @brief Loaded again with another fifo_size, the device is a FIFO of
 *         that size in every respect: the model run of matches_the_model,
 *         with the model's capacity set to 2, then to 256.
 */
TEST_F_TIMEOUT(reload, reloaded_with_another_size_matches_the_model, 60)
{
	const unsigned int sizes[] = { 2, 256 };
	char params[32];
	unsigned int i;
	uint64_t seed;
	int err;

	ASSERT_EQ(0, module_unload(FIFO_MODULE));
	for (i = 0; i < 2; i++) {
		snprintf(params, sizeof(params), "fifo_size=%u", sizes[i]);
		err = module_load(FIFO_MODULE, params);
		ASSERT_EQ(0, err) {
			TH_LOG("%s: %s", params, strerror(err));
		}
		seed = fifo_model_seed(201 + i);
		err = mt_run(_metadata, seed, MT_STEPS, sizes[i], 0);
		ASSERT_EQ(0, module_unload(FIFO_MODULE));
		if (err)
			break;
	}
}

/** @brief The module's debugfs directory (the live view,
 *         /sys/kernel/debug/MODULE/state) goes with the module: after
 *         rmmod it is gone, and a load with another fifo_size shows the
 *         new size there.
 */
TEST_F_TIMEOUT(reload, unload_removes_the_debugfs_view, 15)
{
	char dir[96], line[256];
	int err;

	/* The grading VM does not mount debugfs: mount it for the view. */
	err = reload_checks_debugfs_dir(FIFO_MODULE, dir, sizeof(dir));
	if (err)
		TH_LOG("cannot mount debugfs: %s", strerror(err));
	ASSERT_EQ(0, access(dir, F_OK)) {
		TH_LOG("%s is not there with the module loaded: the handout's init creates it (given code)",
		       dir);
	}
	ASSERT_EQ(0, module_unload(FIFO_MODULE));
	EXPECT_TRUE(reload_checks_debugfs_gone(FIFO_MODULE)) {
		TH_LOG("%s is still there after rmmod; rule: rmmod leaves nothing behind, its debugfs directory included (debugfs_remove_recursive() in the exit function; without it, the next load cannot create its view: \"already present\")",
		       dir);
	}
	if (!reload_checks_debugfs_gone(FIFO_MODULE))
		return;	/* its files belong to an unloaded module: keep off */
	ASSERT_EQ(0, module_load(FIFO_MODULE, "fifo_size=256"));
	ASSERT_LE(0, reload_checks_debugfs_state(FIFO_MODULE, line,
						 sizeof(line))) {
		TH_LOG("no %s/state after a load with fifo_size=256: %s", dir,
		       strerror(errno));
	}
	EXPECT_NE(NULL, strstr(line, " size 256 ")) {
		TH_LOG("loaded again with fifo_size=256, the view shows \"%s\": it should show the new FIFO's size 256",
		       line);
	}
}

/** @brief rmmod gives back the memory the load took: 16 loads with
 *         fifo_size=65536, each followed by an unload, leave the kernel's
 *         unreclaimable memory where it was (a FIFO the exit function
 *         does not free costs 64 KiB at every unload).
 */
TEST_F_TIMEOUT(reload, unload_gives_back_the_buffer, 120)
{
	char msg[2048];
	int err;

	err = reload_checks_unload_frees(FIFO_MODULE, "fifo_size=65536",
					 65536, 16, msg, sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, err) {
		if (err < 0)
			TH_LOG("rule: unload frees what load allocated; the kernel kept memory at every unload (above): kfifo_free() missing in the exit function, or anything else init allocated and exit does not free?");
	}
}

/** @brief A load refused for its fifo_size gives back what it took before
 *         it was refused: 32 loads with fifo_size=65535 (not a power of
 *         two, so refused with EINVAL) leave the kernel's unreclaimable
 *         memory where it was. A driver that allocates the FIFO before
 *         it has checked the size (kfifo_alloc() rounds 65535 up to
 *         65536) and returns -EINVAL without kfifo_free() keeps 64 KiB
 *         at every refused load, twice what the test must see.
 */
TEST_F_TIMEOUT(reload, refused_loads_give_back_what_they_took, 120)
{
	char msg[2048];
	int err;

	err = reload_checks_refusals_free(FIFO_MODULE, "fifo_size=65535",
					  32768, 32, msg, sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, err) {
		if (err < 0)
			TH_LOG("rule: a refused load frees what it allocated (init's error path); the kernel kept memory at every load refused for fifo_size=65535: a FIFO allocated before the size was checked, and not freed when init returns -EINVAL?");
	}
}
#endif /* FIFO_STAGE >= 4 */
#endif /* FIFO_MODULE */
#endif /* FIFO_STAGE <= 4 */

#endif /* LABKIT_FIFO_TESTS_H */
