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
 *   these need FIFO_MODULE, the module's name, too.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "child_process.h"
#include "copy_stall.h"
#include "fifo_call.h"
#include "module_reload.h"
#include "signal_note.h"
#include "task_state.h"

/** @brief The FIFO's capacity, as the handouts specify. */
#define FIFO_SIZE 64
/** @brief Seconds the harness gives one test before killing it. */
#define TIMEOUT 5
/** @brief The major number every misc device shares. */
#define MISC_MAJOR 10

#if FIFO_STAGE >= 4
/** @brief Sleeping calls a test may have at once. */
#define FIFO_SLEEPERS 4

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
	c->buf = s->sh->buf;
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
#endif /* FIFO_STAGE >= 4 */


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
#if FIFO_STAGE >= 4
	/** @brief The test's sleeping calls: the teardown ends those still
	 *         asleep, also when an assertion cut the test short. */
	struct sleeper sleepers[FIFO_SLEEPERS];
#endif
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

/** @brief Open the device twice and read it empty: every test starts
 *         there. SIGUSR1 ends a sleeping call with EINTR (no SA_RESTART).
 */
FIXTURE_SETUP(fifo)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	char buf[FIFO_SIZE];
	int rounds = 0;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	self->fd = open(FIFO_DEV, O_RDWR);
	ASSERT_LE(0, self->fd) {
		TH_LOG("cannot open %s: %s", FIFO_DEV, strerror(errno));
	}
	self->nb = open(FIFO_DEV, FIFO_STAGE >= 4 ? O_RDWR | O_NONBLOCK
						  : O_RDWR);
	ASSERT_LE(0, self->nb);
	while (drain(self->nb, buf, sizeof(buf)) == FIFO_SIZE &&
	       ++rounds < 100)
		;
}

/** @brief End the test's sleeping calls; close the fixture's
 *         descriptors. */
FIXTURE_TEARDOWN(fifo)
{
#if FIFO_STAGE >= 4
	int i;

	for (i = 0; i < FIFO_SLEEPERS; i++)
		sleeper_free(&self->sleepers[i], self->nb);
#endif
	close(self->nb);
	close(self->fd);
}

/** @brief The node is a character device that everybody may read and write. */
TEST_F_TIMEOUT(fifo, node_is_world_rw_char_device, TIMEOUT)
{
	struct stat st;

	ASSERT_EQ(0, stat(FIFO_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(0666, st.st_mode & 07777);
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

/** @brief The device is a stream: lseek() fails with ESPIPE. */
TEST_F_TIMEOUT(fifo, is_not_seekable, TIMEOUT)
{
	char buf[4];

	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	ASSERT_EQ(4, write(self->fd, "abcd", 4));
	errno = 0;
	EXPECT_EQ(-1, pread(self->fd, buf, 4, 0)) {
		TH_LOG("a FIFO has no offsets: open it with stream_open()");
	}
	EXPECT_EQ(ESPIPE, errno);
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
TEST_F_TIMEOUT(fifo, cat_and_echo_on_the_device, TIMEOUT)
{
	char *cat_argv[] = { "cat", FIFO_DEV, NULL };
	char *echo_argv[] = { "sh", "-c", "echo hello >" FIFO_DEV, NULL };
	char out[32];

	EXPECT_EQ(0, run_command(cat_argv, out, sizeof(out), 3000)) {
		TH_LOG("cat on the empty device should end at once: an empty read returns 0");
	}
	EXPECT_STREQ("", out);
	EXPECT_EQ(0, run_command(echo_argv, out, sizeof(out), 3000));
	EXPECT_EQ(0, run_command(cat_argv, out, sizeof(out), 3000));
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
 */
static void race_two_calls(struct __test_metadata *_metadata, int fd,
			   int is_write, char *first_buf, size_t first_count,
			   struct copy_stall *cs, struct fifo_call *second)
{
	struct fifo_call first = {
		.fd = fd, .buf = first_buf, .count = first_count,
		.is_write = is_write, .ready_pipe = -1,
	};
	int done[2], ready[2], stalled;
	pthread_t ft, st;
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
	task_wait_asleep(second->tid, &second->done, 5000);
	ASSERT_EQ(0, copy_stall_release(cs, is_write ? 'A' : 0));
	pthread_join(ft, NULL);
	pthread_join(st, NULL);
	EXPECT_EQ((ssize_t)first_count, first.ret);
}

/** @brief Two reads at once do not take the same bytes: one waits for the other
 *         (a frozen copy, copy_stall.h).
 */
TEST_F_TIMEOUT(fifo, readers_take_turns, 15)
{
	struct fifo_call second = { .fd = self->fd };
	char data[48], other[16];
	struct copy_stall cs;
	char *dst;
	int i;

	for (i = 0; i < 48; i++)
		data[i] = (char)('a' + i % 26);
	ASSERT_EQ(48, write(self->fd, data, 48));
	/* The first read copies 16 bytes, then stalls on its next 16. */
	dst = copy_stall_init(&cs, 16, 0);
	ASSERT_NE(NULL, dst);
	second.buf = other;
	second.count = sizeof(other);
	race_two_calls(_metadata, self->fd, 0, dst, 32, &cs, &second);
	EXPECT_EQ(0, memcmp(dst, data, 32));
	ASSERT_EQ(16, second.ret);
	EXPECT_EQ(0, memcmp(other, data + 32, 16)) {
		TH_LOG("the second reader got \"%.16s\", not the 16 bytes after the first reader's: readers must take turns",
		       other);
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
	char *src;

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
	race_two_calls(_metadata, self->fd, 1, src, 32, &cs, &second);
	copy_stall_destroy(&cs);
	EXPECT_EQ(16, second.ret);
	ASSERT_EQ(48, drain(self->nb, buf, sizeof(buf)));
	EXPECT_TRUE(!memcmp(buf, a_then_b, 48) || !memcmp(buf, b_then_a, 48)) {
		TH_LOG("the FIFO holds \"%.48s\": two writes got mixed; writers must take turns",
		       buf);
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

/** @brief O_NONBLOCK set or cleared after open counts from the next call on. */
TEST_F_TIMEOUT(fifo, fcntl_nonblock_takes_effect, TIMEOUT)
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
#endif
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

/** @brief How long a woken call may take to return, in ms: it takes
 *         milliseconds, even under emulation. */
#define WAKE_MS 2000

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
	ASSERT_EQ(5, write(self->nb, "hello", 5));
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
	ASSERT_EQ(4, read(self->nb, got, sizeof(got)));
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

/** @brief A sleep that signals cannot end makes a process that Ctrl-C and even
 * kill -9 cannot stop. */
TEST_F_TIMEOUT(fifo, sleepers_are_interruptible, TIMEOUT)
{
	struct sleeper *r = &self->sleepers[0], *w = &self->sleepers[1];
	char fill[FIFO_SIZE], c;
	char st;

	st = sleeper_start(r, self->fd, NULL, 1);
	EXPECT_EQ('S', st) {
		TH_LOG("a reader waiting for data should be in state S (wait_event_interruptible()): %s",
		       not_asleep(r, st));
	}
	ASSERT_EQ(1, write(self->nb, "x", 1));
	sleeper_finish(r, self->nb);

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	st = sleeper_start(w, self->fd, "y", 1);
	EXPECT_EQ('S', st) {
		TH_LOG("a writer waiting for room should be in state S (wait_event_interruptible()): %s",
		       not_asleep(w, st));
	}
	ASSERT_EQ(1, read(self->nb, &c, 1));
	sleeper_finish(w, self->nb);
}

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

/** @brief -ERESTARTSYS, not -EINTR: with SA_RESTART the kernel restarts the
 *         read after the handler, and the program never sees the signal's
 *         interruption.
 */
TEST_F_TIMEOUT(fifo, sa_restart_restarts_the_read, TIMEOUT)
{
	struct sigaction restart = {
		.sa_handler = note_signal, .sa_flags = SA_RESTART,
	};
	struct sigaction plain = { .sa_handler = ignore_signal };
	struct sleeper *s = &self->sleepers[0];
	char st;

	ASSERT_LE(0, signal_note_fd());
	ASSERT_EQ(0, sigaction(SIGUSR1, &restart, NULL));
	st = sleeper_start(s, self->fd, NULL, 16);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(0, kill(s->pid, SIGUSR1));
	ASSERT_TRUE(await_byte(signal_note_fd(), 5000)) {
		TH_LOG("the signal handler did not run");
	}
	st = task_wait_asleep(s->sh->call.tid, &s->sh->call.done, 5000);
	ASSERT_EQ(0, sigaction(SIGUSR1, &plain, NULL));
	EXPECT_EQ('S', st) {
		TH_LOG("after a signal whose handler has SA_RESTART, the read returned %zd (%s) instead of going on: return -ERESTARTSYS, not -EINTR",
		       s->sh->call.ret, strerror(s->sh->call.err));
	}
	ASSERT_EQ(1, write(self->nb, "r", 1));
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS));
	sleeper_finish(s, self->nb);
	if (st == 'S') {
		EXPECT_EQ(1, s->sh->call.ret);
		EXPECT_EQ('r', s->sh->buf[0]);
	}
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
	ASSERT_EQ(1, write(self->nb, "1", 1));
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
 * @brief The race the loop around the sleep is for, made to happen every time.
 * Reader B sleeps on the empty FIFO; 32 bytes come, which wakes it, but
 * before B runs, reader A takes the readers' lock and starts copying all
 * 32 bytes, and is frozen half-way (copy_stall.h): B now sees data, leaves
 * its wait, and queues for the lock. When A is let go, it takes all 32,
 * and B, given the lock, finds the FIFO empty again. It must go back to
 * sleep: returning 0 would be end of file. The test and A run as SCHED_FIFO
 * on one CPU, so that B, an ordinary process, runs only when both wait.
 */
TEST_F_TIMEOUT(fifo, woken_reader_rechecks_under_the_lock, 15)
{
	struct sched_param rt = { .sched_priority = 1 };
	struct sleeper *b = &self->sleepers[0];
	struct fifo_call a = { .fd = self->fd, .count = 32, .ready_pipe = -1 };
	char data[32], st;
	struct copy_stall cs;
	cpu_set_t one_cpu;
	int a_done[2];
	pthread_t at;

	memset(data, 'd', sizeof(data));
	CPU_ZERO(&one_cpu);
	CPU_SET(sched_getcpu(), &one_cpu);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one_cpu), &one_cpu));
	st = sleeper_start(b, self->fd, NULL, 8);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(b, st));
	}
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_FIFO, &rt));
	ASSERT_EQ(0, pipe(a_done));
	a.done_pipe = a_done[1];
	a.buf = copy_stall_init(&cs, 16, 0);
	ASSERT_NE(NULL, a.buf);
	ASSERT_EQ(32, write(self->nb, data, sizeof(data)));
	/* A (SCHED_FIFO too) runs before B, and stalls after 16 bytes. */
	ASSERT_EQ(0, pthread_create(&at, NULL, fifo_call_main, &a));
	ASSERT_EQ(1, copy_stall_wait(&cs, a_done[0], 5000)) {
		TH_LOG("reader A was not frozen in its copy (it returned %zd): did B take the data first?",
		       a.ret);
	}
	/* B runs now, sees the 32 bytes, and waits for A's lock. */
	st = task_wait_asleep(b->pid, &b->sh->call.done, 5000);
	ASSERT_EQ(0, copy_stall_release(&cs, 'd'));
	pthread_join(at, NULL);
	EXPECT_EQ(32, a.ret);
	ASSERT_EQ('S', st) {
		TH_LOG("reader B returned %zd before A was let go", b->sh->call.ret);
	}
	/* A took everything: B sleeps again, or wrongly returns. */
	st = task_wait_asleep(b->pid, &b->sh->call.done, 5000);
	EXPECT_EQ('S', st) {
		TH_LOG("a reader woken for data another reader then took returned %zd (%s): after waking, take the lock and check again, in a loop",
		       b->sh->call.ret,
		       b->sh->call.ret < 0 ? strerror(b->sh->call.err) : "no error");
	}
	copy_stall_destroy(&cs);
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
	ASSERT_EQ(FIFO_SIZE, write(self->nb, data, sizeof(data)));
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

/** @brief The course notes' demonstration: cat sleeps on the empty device, echo
 * from another process wakes it, and a signal ends it. */
TEST_F_TIMEOUT(fifo, cat_waits_for_echo, 15)
{
	char *cat_argv[] = { "cat", FIFO_DEV, NULL };
	char *echo_argv[] = { "sh", "-c", "echo hello >" FIFO_DEV, NULL };
	struct pollfd p = { .events = POLLIN };
	char buf[16] = "", echo_out[8];
	int out[2], status, pidfd;
	pid_t cat;

	ASSERT_EQ(0, pipe(out));
	cat = spawn(cat_argv, out[1]);
	ASSERT_LT(0, cat);
	close(out[1]);
	p.fd = out[0];
	EXPECT_EQ('S', task_wait_asleep(cat, NULL, 5000)) {
		TH_LOG("cat on the empty device should wait for data");
	}
	EXPECT_EQ(0, poll(&p, 1, 0)) {
		TH_LOG("cat printed or ended before anything was written");
	}
	EXPECT_EQ(0, run_command(echo_argv, echo_out, sizeof(echo_out), 3000));
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
#endif /* FIFO_STAGE >= 4 */

#endif /* LABKIT_FIFO_TESTS_H */
