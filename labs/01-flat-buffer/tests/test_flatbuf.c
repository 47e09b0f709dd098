// SPDX-License-Identifier: GPL-2.0
/** @file test_flatbuf.c
 * @brief Lab 01 tests: /dev/flatbuf behaves as a 64-byte file that every
 *        process shares.
 *
 * Built on the kernel's own kselftest harness: every test runs in a forked
 * process with a timeout and reports one TAP line, "ok N flatbuf.NAME" or
 * "not ok N flatbuf.NAME" after the reasons. The autograder (grade.sh)
 * turns those lines into points. Run one test with -t NAME, list them
 * with -l.
 *
 * Each test checks rules of the handout's "The device, precisely" (the
 * handout's "Rules and their tests" maps every rule to its tests), and
 * its failure messages name the rule. Two tests compare the device with a
 * model of the specification (userspace/file_model.h) over thousands of
 * random calls, as xfstests' fsx does for file systems: they honour
 * LABKIT_SEED (make test LAB=01 SEED=N) to replay or explore one seed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "alloc_failures_expect.h"
#include "child_process.h"
#include "copy_stall.h"
#include "cpu_order.h"
#include "dyndbg.h"
#include "early_caller_expect.h"
#include "file_model.h"
#include "kmsg_check.h"
#include "misc_minor.h"
#include "module_copy.h"
#include "module_reload.h"
#include "nobody.h"
#include "preempt_full.h"
#include "reload_checks.h"
#include "unload_leftovers.h"
#include "untouched_expect.h"
#include "signal_note.h"
#include "task_state.h"

/** @brief The device under test. */
#define DEV "/dev/flatbuf"
/** @brief The module, as in /sys/module. */
#define MODULE "flatbuf"
/** @brief The buffer's capacity, as the handout specifies. */
#define FLATBUF_SIZE 64
/** @brief Seconds the harness gives one test before killing it. */
#define TIMEOUT 5
/** @brief The major number every misc device shares. */
#define MISC_MAJOR 10

/** @brief Seconds a short test may wait for one call: nothing on this
 *         device waits except for its lock, held only during a call. */
#define CALL_SECS 3

/** @brief SIGALRM handler of the short tests: says that a call hung; the
 *         call itself then fails with EINTR (no SA_RESTART).
 * @param sig the signal
 */
static void call_hung(int sig)
{
	static const char msg[] =
		"# a call did not return within 3 s: nothing on this device waits, except for the mutex, which every call holds only while it runs\n";
	ssize_t n = write(STDERR_FILENO, msg, sizeof(msg) - 1);

	(void)sig;
	(void)n;
}

/** @brief Where a test that switched the kernel to full preemption
 *         (works_the_moment_its_node_appears,
 *         o_trunc_empties_the_buffer_under_the_lock) noted the model to
 *         switch back to: FIXTURE_TEARDOWN(flatbuf) switches back also
 *         when an ASSERT ended the test. */
static struct preempt_full preempt_switched;

/** @brief Per-test state: a descriptor on an emptied device. */
FIXTURE(flatbuf) {
	/** @brief Opened O_RDWR | O_TRUNC by the setup. */
	int fd;
};

/** @brief Whether an O_TRUNC open, made by a child process, returns
 *         within CALL_SECS.
 *
 * A mutex left locked by a call that returned makes every later open
 * with O_TRUNC sleep for good. When the child's open is seen asleep
 * while no other task is left that could release the mutex
 * (task_alone()), the test fails at once instead of after CALL_SECS.
 *
 * @return 0 if the open returned, -1 if it is stuck asleep or still
 *         waits after CALL_SECS (the child is then killed)
 */
static int trunc_is_not_stuck(void)
{
	int status, ret;
	pid_t pid;

	pid = fork_detached();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		int fd = open(DEV, O_RDWR | O_TRUNC);

		_exit(fd < 0);
	}
	ret = child_wait_unless_stuck(pid, DEV, &status, CALL_SECS * 1000);
	if (ret == 0)
		return 0;
	kill(pid, SIGKILL);
	wait_for_child(pid, &status, 1000);
	return -1;
}

/** @brief Every test starts from an empty buffer, which takes a working
 *         O_TRUNC. */
FIXTURE_SETUP(flatbuf)
{
	struct sigaction sa = { .sa_handler = call_hung };
	int err;

	/* SIGALRM (no SA_RESTART) ends a call that sleeps for too long: the
	 * test then fails at once, with a reason. The longer tests turn the
	 * alarm off and bound their waits themselves. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, trunc_is_not_stuck()) {
		TH_LOG("an O_TRUNC open slept on the buffer's mutex with no other task left to release it, or waited 3 s for it: did an earlier call return with it still locked?");
	}
	alarm(CALL_SECS);
	self->fd = open(DEV, O_RDWR | O_TRUNC);
	err = errno;
	ASSERT_LE(0, self->fd) {
		TH_LOG("cannot open %s: %s", DEV, strerror(err));
		if (err == EINTR)
			TH_LOG("the O_TRUNC open waited 3 s for the buffer's mutex: did an earlier call return with it still locked?");
	}
}

/** @brief Switch the kernel back to its preemption model if a test left
 *         it switched; close the fixture's descriptor, unless a test did;
 *         load the module again if a test unloaded it and stopped
 *         half-way. */
FIXTURE_TEARDOWN(flatbuf)
{
	preempt_full_end(&preempt_switched);
	if (self->fd >= 0)
		close(self->fd);
	if (access("/sys/module/" MODULE, F_OK) != 0)
		module_load(MODULE, "");
}

/** @brief Read a fresh open of the device until read() returns 0.
 *
 * @param buf where the data goes
 * @param size room in @p buf (more than the device can hold)
 * @param chunk bytes asked for per read()
 * @return bytes read, -1 with errno set on error, or -2 if read() never
 *         returned 0 (the file position does not advance)
 */
static ssize_t read_to_eof(char *buf, size_t size, size_t chunk)
{
	size_t total = 0;
	int rounds, fd;
	ssize_t n;

	fd = open(DEV, O_RDONLY);
	if (fd < 0)
		return -1;
	for (rounds = 0; rounds < 200; rounds++) {
		if (chunk > size - total)
			chunk = size - total;
		n = read(fd, buf + total, chunk);
		if (n <= 0) {
			close(fd);
			return n < 0 ? -1 : (ssize_t)total;
		}
		total += (size_t)n;
	}
	close(fd);
	return -2;
}

/** @brief Open the device with @p flags, write @p s once, close.
 * @return what write() returned
 */
static ssize_t write_once(int flags, const char *s)
{
	/* A mode, for flags with O_CREAT (fortified libcs insist). */
	int fd = open(DEV, flags, 0666);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n;
}

/** @brief The length of the data, as lseek(SEEK_END) on a fresh open
 *         says; the open's position is its own, so nobody else's moves.
 * @return the length, or -1
 */
static long long data_length(void)
{
	int fd = open(DEV, O_RDONLY);
	long long len;

	if (fd < 0)
		return -1;
	len = lseek(fd, 0, SEEK_END);
	close(fd);
	return len;
}

/** @brief Everything the device holds, read at offset 0 through a fresh
 *         open.
 * @param buf at least 2 * FLATBUF_SIZE bytes
 * @return what pread() returned
 */
static ssize_t contents(char *buf)
{
	int fd = open(DEV, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, buf, 2 * FLATBUF_SIZE, 0);
	close(fd);
	return n;
}

TEST_F_TIMEOUT(flatbuf, node_is_world_rw_char_device, TIMEOUT)
{
	unsigned int node_minor;
	struct stat st;
	char why[512];

	ASSERT_EQ(0, stat(DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(0666, st.st_mode & 07777) {
		TH_LOG("%s has mode %04o; every user must be able to read and write it",
		       DEV, st.st_mode & 07777);
	}
	node_minor = minor(st.st_rdev);
	EXPECT_EQ(1, misc_minors_are_dynamic(&node_minor, 1, why, sizeof(why))) {
		TH_LOG("%s: %s (rule 1: a dynamically chosen minor under major 10)",
		       DEV, why);
	}
}

/* The seed program: write, close, open again, read back exactly that. */
TEST_F_TIMEOUT(flatbuf, reopen_reads_back_exactly, TIMEOUT)
{
	const char msg[] = "test the virtual char device";
	char buf[2 * sizeof(msg)];
	int fd;

	ASSERT_EQ((ssize_t)sizeof(msg), write(self->fd, msg, sizeof(msg)));
	close(self->fd);
	self->fd = -1;

	fd = open(DEV, O_RDWR);
	ASSERT_LE(0, fd);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ((ssize_t)sizeof(msg), read(fd, buf, sizeof(buf))) {
		TH_LOG("a read must return the %zu bytes written, not the rest of the array",
		       sizeof(msg));
	}
	EXPECT_EQ(0, memcmp(buf, msg, sizeof(msg)));
	close(fd);
}

/* echo hello > /dev/flatbuf; cat /dev/flatbuf */
TEST_F_TIMEOUT(flatbuf, echo_then_cat, TIMEOUT)
{
	char buf[4 * FLATBUF_SIZE];

	ASSERT_EQ(6, write_once(O_WRONLY | O_CREAT | O_TRUNC, "hello\n"));
	ASSERT_EQ(6, read_to_eof(buf, sizeof(buf), sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "hello\n", 6));
}

/** @brief Counts far past the buffer: 4 MiB + 1 (more than kmalloc()
 *         gives at once), 1 GiB, and 2 GiB, which the kernel cuts to
 *         MAX_RW_COUNT. A driver moves only what fits and allocates
 *         nothing by the count asked. */
static const size_t huge_counts[] = {
	((size_t)4 << 20) + 1, (size_t)1 << 30, (size_t)1 << 31,
};

/** @brief A buffer for calls with huge_counts[]: low in memory (the
 *         program's data, not the stack, which may lie less than 2 GiB
 *         below the end of user space), since the kernel checks that the
 *         whole count's range is user memory before the driver sees the
 *         call. Only its first bytes are ever copied. */
static char huge_call_buf[FLATBUF_SIZE];

/** @brief pread() and pwrite() offsets far past the buffer, three of which
 *         a position cut to 32 bits (an unsigned int) takes into it:
 *         2^32 + 5 to 5, 2^32 to 0, 2^33 + 1 to 1. The kernel passes each
 *         to the driver: none is negative, and none ends past LLONG_MAX
 *         with a count of up to 100. */
static const long long far_offsets[] = {
	(1LL << 32) + 5, 1LL << 32, (1LL << 33) + 1, LLONG_MAX - 100,
};

TEST_F_TIMEOUT(flatbuf, read_stops_at_end_of_data, TIMEOUT)
{
	char buf[FLATBUF_SIZE], canary[FLATBUF_SIZE];
	unsigned int i;
	ssize_t n;

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	EXPECT_EQ(10, pread(self->fd, buf, sizeof(buf), 0)) {
		TH_LOG("rule: a read stops at the end of the written data: 10 bytes were written, a read of 64 must return 10");
	}
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(4, pread(self->fd, buf, sizeof(buf), 6));
	EXPECT_EQ(0, pread(self->fd, buf, sizeof(buf), 10)) {
		TH_LOG("rule: a read at the end of the data returns 0 (end of file)");
	}
	/* Past the end of the data, but inside the 64 bytes. */
	ASSERT_EQ(30, lseek(self->fd, 30, SEEK_SET));
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf))) {
		TH_LOG("rule: a read past the end of the data returns 0, even inside the 64-byte array");
	}
	EXPECT_EQ(30, lseek(self->fd, 0, SEEK_CUR)) {
		TH_LOG("rule: a read that returns 0 leaves the position alone");
	}
	/* Far past the end: 0, and the buffer stays as it was. */
	memset(canary, '~', sizeof(canary));
	for (i = 0; i < sizeof(far_offsets) / sizeof(far_offsets[0]); i++) {
		memcpy(buf, canary, sizeof(buf));
		errno = 0;
		n = pread(self->fd, buf, sizeof(buf), far_offsets[i]);
		EXPECT_EQ(0, n) {
			TH_LOG("rules 6 and 13: pread() reads at its own offset, and %lld is far past the end of the data (10 bytes): it must return 0, but it returned %zd (%s)",
			       far_offsets[i], n, n < 0 ? strerror(errno) : "no error");
		}
		EXPECT_EQ(0, memcmp(buf, canary, sizeof(buf))) {
			TH_LOG("rules 6 and 13: a pread() at %lld, past the end of the data, must leave the caller's buffer alone; it wrote to it",
			       far_offsets[i]);
		}
	}
	/* Huge counts: still the 10 bytes there. */
	for (i = 0; i < sizeof(huge_counts) / sizeof(huge_counts[0]); i++) {
		memset(huge_call_buf, 0, sizeof(huge_call_buf));
		errno = 0;
		n = pread(self->fd, huge_call_buf, huge_counts[i], 0);
		EXPECT_EQ(10, n) {
			TH_LOG("rule: a read stops at the end of the written data, however large the count: pread(%zu) at 0 returned %zd (%s), not 10; copy only what is there, and allocate nothing by the count asked",
			       huge_counts[i], n, n < 0 ? strerror(errno) : "no error");
		}
		EXPECT_EQ(0, memcmp(huge_call_buf, "0123456789", 10));
	}
}

/* cat reads until read() returns 0: that takes an advancing position. */
TEST_F_TIMEOUT(flatbuf, read_in_small_chunks_reaches_eof, TIMEOUT)
{
	const char msg[] = "twenty-three bytes long";
	char buf[4 * FLATBUF_SIZE];
	ssize_t n;

	ASSERT_EQ(23, write(self->fd, msg, 23));
	n = read_to_eof(buf, sizeof(buf), 4);
	EXPECT_NE(-2, n) {
		TH_LOG("rule: a read advances the position; read() never returned 0: does it advance *ppos?");
	}
	ASSERT_EQ(23, n);
	EXPECT_EQ(0, memcmp(buf, msg, 23));
}

/* Reads and writes of 0 bytes return 0 wherever the position is, and
 * change nothing, not even the position. */
TEST_F_TIMEOUT(flatbuf, zero_byte_calls_return_zero, TIMEOUT)
{
	static const long long where[] = { 0, 5, 10, 30, FLATBUF_SIZE };
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	char buf[2 * FLATBUF_SIZE], full[FLATBUF_SIZE];
	unsigned int i;
	long long pos;
	int app;

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		pos = where[i];
		ASSERT_EQ(pos, lseek(self->fd, pos, SEEK_SET));
		errno = 0;
		EXPECT_EQ(0, read(self->fd, buf, 0)) {
			TH_LOG("rule: a read of 0 bytes returns 0; at position %lld (10 bytes of data) it returned %s",
			       pos, errno ? strerror(errno) : "a count");
			if (errno == EFAULT)
				TH_LOG("typical bug: copy_to_user() of 0 bytes returns 0, which equals the 0 bytes asked for, and the read takes that for a fault");
		}
		errno = 0;
		EXPECT_EQ(0, write(self->fd, buf, 0)) {
			TH_LOG("rule: a write of 0 bytes returns 0; at position %lld it returned %s",
			       pos, errno ? strerror(errno) : "a count");
			if (errno == ENOSPC)
				TH_LOG("typical bug: the check for room comes before the check for a count of 0");
		}
		EXPECT_EQ(0, pread(self->fd, buf, 0, pos)) {
			TH_LOG("rule: a read of 0 bytes returns 0 (pread at %lld)", pos);
		}
		EXPECT_EQ(0, pwrite(self->fd, buf, 0, pos)) {
			TH_LOG("rule: a write of 0 bytes returns 0 (pwrite at %lld)", pos);
		}
		/* Nothing to copy: the buffer is never touched. */
		EXPECT_EQ(0, read(self->fd, bad, 0)) {
			TH_LOG("rule: a read of 0 bytes returns 0, whatever the pointer (at %lld)", pos);
		}
		EXPECT_EQ(0, write(self->fd, bad, 0)) {
			TH_LOG("rule: a write of 0 bytes returns 0, whatever the pointer (at %lld)", pos);
		}
		EXPECT_EQ(pos, lseek(self->fd, 0, SEEK_CUR)) {
			TH_LOG("rule: a call that transfers 0 bytes leaves the position alone");
		}
	}
	EXPECT_EQ(10, data_length()) {
		TH_LOG("rule: calls of 0 bytes change nothing; the data's length changed");
	}
	ASSERT_EQ(10, contents(buf));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));

	/* A full buffer, and an O_APPEND open whose position is at 3. */
	memset(full, 'f', sizeof(full));
	ASSERT_EQ(FLATBUF_SIZE, pwrite(self->fd, full, sizeof(full), 0));
	app = open(DEV, O_WRONLY | O_APPEND);
	ASSERT_LE(0, app);
	ASSERT_EQ(3, lseek(app, 3, SEEK_SET));
	errno = 0;
	EXPECT_EQ(0, write(app, buf, 0)) {
		TH_LOG("rule: a write of 0 bytes returns 0, also with O_APPEND on a full buffer (got %s)",
		       errno ? strerror(errno) : "a count");
	}
	EXPECT_EQ(3, lseek(app, 0, SEEK_CUR)) {
		TH_LOG("rule: a write of 0 bytes changes nothing, not even the position of an O_APPEND open");
		TH_LOG("typical bug: *ppos is moved to the end for O_APPEND before the check for a count of 0");
	}
	close(app);
	munmap(bad, 4096);
}

TEST_F_TIMEOUT(flatbuf, write_is_cut_short_at_the_end, TIMEOUT)
{
	char buf[FLATBUF_SIZE], zeros[60] = { 0 };
	unsigned int i;
	ssize_t n;

	EXPECT_EQ(4, pwrite(self->fd, "ABCDEFGHIJ", 10, 60)) {
		TH_LOG("rule: a write writes what fits and returns that count: at offset 60 only 4 of 10 bytes fit");
	}
	ASSERT_EQ(FLATBUF_SIZE, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf + 60, "ABCD", 4));
	EXPECT_EQ(0, memcmp(buf, zeros, 60));

	/* The same with write(): the position advances by the count. */
	ASSERT_EQ(58, lseek(self->fd, 58, SEEK_SET));
	EXPECT_EQ(6, write(self->fd, "abcdefghij", 10)) {
		TH_LOG("rule: a write writes what fits and returns that count: at 58, 6 of 10 bytes fit");
	}
	EXPECT_EQ(FLATBUF_SIZE, lseek(self->fd, 0, SEEK_CUR)) {
		TH_LOG("rule: a write advances the position by the bytes it wrote");
	}
	ASSERT_EQ(FLATBUF_SIZE, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf + 58, "abcdef", 6));

	/* Huge counts: at 62, 2 bytes fit, whatever the count. */
	memcpy(huge_call_buf, "XY", 2);
	for (i = 0; i < sizeof(huge_counts) / sizeof(huge_counts[0]); i++) {
		errno = 0;
		n = pwrite(self->fd, huge_call_buf, huge_counts[i], 62);
		EXPECT_EQ(2, n) {
			TH_LOG("rule: a write writes what fits and returns that count, however large the count: pwrite(%zu) at 62 returned %zd (%s), not 2; copy only what fits, and allocate nothing by the count asked",
			       huge_counts[i], n, n < 0 ? strerror(errno) : "no error");
		}
	}
	ASSERT_EQ(FLATBUF_SIZE, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf + 58, "abcdXY", 6));
}

/* A write that returns 0 makes echo and cat retry forever. */
TEST_F_TIMEOUT(flatbuf, write_when_full_fails_with_enospc, TIMEOUT)
{
	char big[100], buf[FLATBUF_SIZE];
	unsigned int i;
	ssize_t n;
	int fd;

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(FLATBUF_SIZE, write(self->fd, big, sizeof(big)));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "y", 1)) {
		TH_LOG("rule: a write with no room at the position fails with ENOSPC, it does not return 0");
	}
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(FLATBUF_SIZE, lseek(self->fd, 0, SEEK_CUR));
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, "y", 1, FLATBUF_SIZE));
	EXPECT_EQ(ENOSPC, errno);
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, "y", 1, 1000)) {
		TH_LOG("rule: no room at position 1000 either: ENOSPC");
	}
	EXPECT_EQ(ENOSPC, errno);
	/* Nor far past the end, where a position cut to 32 bits wraps. */
	for (i = 0; i < sizeof(far_offsets) / sizeof(far_offsets[0]); i++) {
		errno = 0;
		n = pwrite(self->fd, "y", 1, far_offsets[i]);
		EXPECT_EQ(-1, n) {
			TH_LOG("rules 9 and 13: pwrite() writes at its own offset, and at %lld there is no room: it must fail with ENOSPC, but it returned %zd",
			       far_offsets[i], n);
			if (n == 1)
				TH_LOG("typical bug: the position is kept in 32 bits (an unsigned int), which turns %lld into %u, inside the buffer; keep it in a loff_t",
				       far_offsets[i], (unsigned int)far_offsets[i]);
		}
		if (n == -1) {
			EXPECT_EQ(ENOSPC, errno) {
				TH_LOG("rule 9: pwrite() at %lld, with no room there, must fail with ENOSPC, not %s",
				       far_offsets[i], strerror(errno));
			}
		}
	}
	ASSERT_EQ(FLATBUF_SIZE, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, big, FLATBUF_SIZE)) {
		TH_LOG("rule 9: a write with no room at its position changes nothing; the 64 bytes of 'x' are now \"%.64s\"",
		       buf);
	}

	/* The room is counted from the position, not from the data's end. */
	fd = open(DEV, O_RDWR | O_TRUNC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(10, write(fd, "0123456789", 10));
	ASSERT_EQ(FLATBUF_SIZE, lseek(fd, FLATBUF_SIZE, SEEK_SET));
	errno = 0;
	EXPECT_EQ(-1, write(fd, "y", 1)) {
		TH_LOG("rule: no room at the position (64) means ENOSPC, however short the data (10 bytes)");
	}
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(10, data_length()) {
		TH_LOG("rule: a write that fails with ENOSPC changes nothing");
	}
	close(fd);
}

/* A write in the middle of the data replaces those bytes, and only them. */
TEST_F_TIMEOUT(flatbuf, overwrite_keeps_length_and_neighbours, TIMEOUT)
{
	char buf[2 * FLATBUF_SIZE];

	ASSERT_EQ(20, write(self->fd, "ABCDEFGHIJKLMNOPQRST", 20));
	EXPECT_EQ(3, pwrite(self->fd, "xyz", 3, 5));
	EXPECT_EQ(20, data_length()) {
		TH_LOG("rule: a write inside the data leaves its length alone (20 bytes, 3 overwritten at 5)");
		TH_LOG("typical bug: the length is set to where the write ended instead of growing only past it");
	}
	ASSERT_EQ(20, contents(buf));
	EXPECT_EQ(0, memcmp(buf, "ABCDExyzIJKLMNOPQRST", 20)) {
		TH_LOG("rule: a write replaces the bytes it covers and only them: got \"%.20s\"",
		       buf);
	}
	/* A write that starts inside and ends past the end grows the data. */
	ASSERT_EQ(18, lseek(self->fd, 18, SEEK_SET));
	EXPECT_EQ(4, write(self->fd, "1234", 4));
	EXPECT_EQ(22, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(22, data_length()) {
		TH_LOG("rule: the data grows to where a write ends when that is past its end");
	}
	ASSERT_EQ(22, contents(buf));
	EXPECT_EQ(0, memcmp(buf, "ABCDExyzIJKLMNOPQR1234", 22));
}

/* Past the end of the data the buffer reads as zeros, even after an
 * O_TRUNC that followed a full buffer. */
TEST_F_TIMEOUT(flatbuf, write_past_end_leaves_zero_hole, TIMEOUT)
{
	char full[FLATBUF_SIZE], buf[FLATBUF_SIZE], zeros[30] = { 0 };

	memset(full, 'Z', sizeof(full));
	ASSERT_EQ(FLATBUF_SIZE, write(self->fd, full, sizeof(full)));
	ASSERT_EQ(0, write_once(O_WRONLY | O_TRUNC, ""));
	ASSERT_EQ(1, pwrite(self->fd, "y", 1, 30));
	EXPECT_EQ(31, data_length()) {
		TH_LOG("rule: a write past the end of the data extends it to where the write ends");
	}
	ASSERT_EQ(31, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, zeros, 30)) {
		TH_LOG("rule: a hole reads as zeros; old bytes reappeared: empty the buffer's contents, not just its length");
	}
	EXPECT_EQ('y', buf[30]);
}

TEST_F_TIMEOUT(flatbuf, o_trunc_empties_the_buffer, TIMEOUT)
{
	char buf[4 * FLATBUF_SIZE];

	ASSERT_EQ(11, write(self->fd, "hello world", 11));
	ASSERT_EQ(11, read_to_eof(buf, sizeof(buf), sizeof(buf))) {
		TH_LOG("rule: data survives an open without O_TRUNC");
	}
	ASSERT_EQ(2, write_once(O_WRONLY | O_TRUNC, "hi"));
	EXPECT_EQ(2, read_to_eof(buf, sizeof(buf), sizeof(buf))) {
		TH_LOG("rule: an open for writing with O_TRUNC empties the buffer (O_WRONLY | O_TRUNC)");
	}
	EXPECT_EQ(0, memcmp(buf, "hi", 2));
	ASSERT_EQ(0, write_once(O_RDWR | O_TRUNC, ""));
	EXPECT_EQ(0, data_length()) {
		TH_LOG("rule: an open for writing with O_TRUNC empties the buffer (O_RDWR | O_TRUNC)");
	}
}

/* Only an open that may write truncates: O_RDONLY | O_TRUNC reads, and
 * access mode 3 | O_TRUNC neither reads nor writes. */
TEST_F_TIMEOUT(flatbuf, o_trunc_only_when_opened_for_writing, TIMEOUT)
{
	char buf[2 * FLATBUF_SIZE];
	long long len;
	int fd;

	ASSERT_EQ(11, write(self->fd, "hello world", 11));
	fd = open(DEV, O_RDONLY | O_TRUNC);
	ASSERT_LE(0, fd) {
		TH_LOG("open(O_RDONLY | O_TRUNC) failed: %s", strerror(errno));
	}
	EXPECT_EQ(11, read(fd, buf, sizeof(buf))) {
		TH_LOG("rule: only an open for writing (O_WRONLY or O_RDWR) with O_TRUNC empties the buffer; O_RDONLY | O_TRUNC emptied it");
		TH_LOG("typical bug: O_TRUNC is tested without looking at FMODE_WRITE in file->f_mode");
	}
	EXPECT_EQ(0, memcmp(buf, "hello world", 11));
	close(fd);
	EXPECT_EQ(11, data_length());

	/* Access mode 3 (flags & O_ACCMODE == 3) opens for neither reading
	 * nor writing: f_mode gets neither FMODE_READ nor FMODE_WRITE. */
	fd = open(DEV, 3 | O_TRUNC);
	ASSERT_LE(0, fd) {
		TH_LOG("open(\"%s\", 3 | O_TRUNC) failed: %s", DEV,
		       strerror(errno));
	}
	close(fd);
	len = data_length();
	EXPECT_EQ(11, len) {
		TH_LOG("rule 4: only an open for writing (O_WRONLY or O_RDWR) with O_TRUNC empties the buffer; open(\"%s\", 3 | O_TRUNC), whose access mode 3 allows neither reading nor writing, left %lld bytes of the 11",
		       DEV, len);
		TH_LOG("typical bug: an open for writing told from the access mode in f_flags (anything but O_RDONLY, or either bit O_WRONLY or O_RDWR); FMODE_WRITE in file->f_mode is what says it");
	}
}

/* Rules 3 and 4: only O_TRUNC, in an open for writing, empties the
 * buffer. An open with any other flag a program may pass (O_CREAT, as
 * the shell's ">>" and fopen(..., "a") do, O_APPEND, O_SYNC, O_EXCL
 * without O_CREAT...) and any access mode leaves the data as it was, as
 * it does for a regular file. */
TEST_F_TIMEOUT(flatbuf, only_o_trunc_empties_the_buffer, TIMEOUT)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR, 3 };
	static const struct {
		int flags;
		const char *name;
	} extra[] = {
		{ 0, "no other flag" }, { O_CREAT, "O_CREAT" },
		{ O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_SYNC, "O_SYNC" }, { O_DSYNC, "O_DSYNC" },
		{ O_NOCTTY, "O_NOCTTY" }, { O_CLOEXEC, "O_CLOEXEC" },
		{ O_EXCL, "O_EXCL" }, { O_NOATIME, "O_NOATIME" },
		{ O_CREAT | O_APPEND, "O_CREAT|O_APPEND" },
		{ O_CREAT | O_NONBLOCK | O_SYNC, "O_CREAT|O_NONBLOCK|O_SYNC" },
	};
	static const char *const mode_name[] = {
		"O_RDONLY", "O_WRONLY", "O_RDWR", "access mode 3",
	};
	char buf[2 * FLATBUF_SIZE];
	unsigned int m, e;
	ssize_t n;
	int fd;

	for (m = 0; m < 4; m++)
		for (e = 0; e < sizeof(extra) / sizeof(extra[0]); e++) {
			ASSERT_EQ(11, write_once(O_WRONLY | O_TRUNC,
						 "hello world"));
			fd = open(DEV, modes[m] | extra[e].flags, 0666);
			EXPECT_LE(0, fd) {
				TH_LOG("open(\"%s\", %s | %s) failed: %s", DEV,
				       mode_name[m], extra[e].name,
				       strerror(errno));
			}
			if (fd >= 0)
				close(fd);
			n = contents(buf);
			EXPECT_EQ(11, n) {
				TH_LOG("rules 3 and 4: only O_TRUNC in an open for writing empties the buffer; an open and close with %s | %s left %zd bytes of the 11",
				       mode_name[m], extra[e].name, n);
				if (extra[e].flags & O_CREAT)
					TH_LOG("typical bug: O_CREAT taken for O_TRUNC (the shell's \">>\" and fopen(\"a\") open with O_CREAT and expect the data kept); test O_TRUNC alone");
			}
			if (n == 11) {
				EXPECT_EQ(0, memcmp(buf, "hello world", 11)) {
					TH_LOG("rules 3 and 4: after an open and close with %s | %s the data changed: \"%.11s\"",
					       mode_name[m], extra[e].name, buf);
				}
			}
		}
}

TEST_F_TIMEOUT(flatbuf, o_append_appends, TIMEOUT)
{
	char buf[4 * FLATBUF_SIZE];
	int app;

	app = open(DEV, O_WRONLY | O_APPEND);
	ASSERT_LE(0, app);
	ASSERT_EQ(4, write(self->fd, "1234", 4));
	/* app's own position is still 0: O_APPEND must go to the end. */
	EXPECT_EQ(2, write(app, "ab", 2)) {
		TH_LOG("rule: with O_APPEND every write goes to the end of the data");
	}
	EXPECT_EQ(6, lseek(app, 0, SEEK_CUR)) {
		TH_LOG("rule: after a write with O_APPEND the position is at the end of what it wrote");
	}
	ASSERT_EQ(0, lseek(app, 0, SEEK_SET));
	EXPECT_EQ(1, write(app, "c", 1)) {
		TH_LOG("rule: with O_APPEND a write goes to the end, wherever the position is (here 0)");
	}
	ASSERT_EQ(7, read_to_eof(buf, sizeof(buf), sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "1234abc", 7)) {
		TH_LOG("rule: with O_APPEND every write goes to the end of the data: got \"%.7s\"",
		       buf);
	}

	/* pwrite() too appends, and leaves the position alone. */
	ASSERT_EQ(2, lseek(app, 2, SEEK_SET));
	EXPECT_EQ(1, pwrite(app, "d", 1, 0));
	EXPECT_EQ(2, lseek(app, 0, SEEK_CUR)) {
		TH_LOG("rule: pwrite() never moves the file position, O_APPEND or not");
	}
	ASSERT_EQ(8, read_to_eof(buf, sizeof(buf), sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "1234abcd", 8)) {
		TH_LOG("rule: with O_APPEND pwrite() too goes to the end of the data (as for a regular file on Linux): got \"%.8s\"",
		       buf);
	}

	/* fcntl(F_SETFL) turns O_APPEND off and on: the flag counts at the
	 * time of each write. */
	ASSERT_EQ(0, fcntl(app, F_SETFL, 0));
	ASSERT_EQ(1, lseek(app, 1, SEEK_SET));
	EXPECT_EQ(1, write(app, "X", 1));
	ASSERT_EQ(0, fcntl(app, F_SETFL, O_APPEND));
	ASSERT_EQ(0, lseek(app, 0, SEEK_SET));
	EXPECT_EQ(1, write(app, "Y", 1));
	ASSERT_EQ(9, read_to_eof(buf, sizeof(buf), sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "1X34abcdY", 9)) {
		TH_LOG("rule: O_APPEND is the file's flag at the time of the write (fcntl(F_SETFL) changes it): got \"%.9s\"",
		       buf);
		TH_LOG("typical bug: the flag is looked at in open() and remembered");
	}
	close(app);
}

/* O_NONBLOCK means nothing to this device: nothing ever waits for data
 * or room. */
TEST_F_TIMEOUT(flatbuf, o_nonblock_changes_nothing, TIMEOUT)
{
	char big[100], buf[FLATBUF_SIZE];
	int fd;

	ASSERT_EQ(3, write(self->fd, "old", 3));
	fd = open(DEV, O_RDWR | O_NONBLOCK | O_TRUNC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, data_length()) {
		TH_LOG("rule: O_TRUNC empties the buffer, with O_NONBLOCK too");
	}
	errno = 0;
	EXPECT_EQ(0, read(fd, buf, sizeof(buf))) {
		TH_LOG("rule: a read at the end of the data returns 0, with O_NONBLOCK too (got %s)",
		       errno ? strerror(errno) : "a count");
	}
	memset(big, 'n', sizeof(big));
	EXPECT_EQ(FLATBUF_SIZE, write(fd, big, sizeof(big)));
	errno = 0;
	EXPECT_EQ(-1, write(fd, "y", 1));
	EXPECT_EQ(ENOSPC, errno) {
		TH_LOG("rule: no room at the position means ENOSPC, with O_NONBLOCK too (not EAGAIN)");
	}
	EXPECT_EQ(FLATBUF_SIZE, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, big, FLATBUF_SIZE));
	close(fd);
}

/* Each open file has a position of its own; pread() and pwrite() use
 * theirs and leave it alone. */
TEST_F_TIMEOUT(flatbuf, positions_are_per_open_file, TIMEOUT)
{
	char buf[2 * FLATBUF_SIZE];
	int a = self->fd, b, c;

	b = open(DEV, O_RDWR);
	ASSERT_LE(0, b);
	ASSERT_EQ(10, write(a, "0123456789", 10));
	EXPECT_EQ(0, lseek(b, 0, SEEK_CUR)) {
		TH_LOG("rule: each open file has its own position; a write through another one moved it");
		TH_LOG("typical bug: the position is a global variable, not *ppos");
	}
	ASSERT_EQ(4, read(b, buf, 4)) {
		TH_LOG("rule: each open file has its own position: a fresh open reads from 0");
	}
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	EXPECT_EQ(10, lseek(a, 0, SEEK_CUR)) {
		TH_LOG("rule: each open file has its own position; a read through another one moved it");
	}
	EXPECT_EQ(2, write(b, "xy", 2));
	EXPECT_EQ(6, lseek(b, 0, SEEK_CUR));
	EXPECT_EQ(10, lseek(a, 0, SEEK_CUR));

	EXPECT_EQ(2, pwrite(a, "PQ", 2, 0));
	EXPECT_EQ(10, lseek(a, 0, SEEK_CUR)) {
		TH_LOG("rule: pwrite() writes at its own offset and leaves the file position alone");
	}
	EXPECT_EQ(3, pread(b, buf, 3, 7));
	EXPECT_EQ(0, memcmp(buf, "789", 3));
	EXPECT_EQ(6, lseek(b, 0, SEEK_CUR)) {
		TH_LOG("rule: pread() reads at its own offset and leaves the file position alone");
	}
	ASSERT_EQ(10, contents(buf));
	EXPECT_EQ(0, memcmp(buf, "PQ23xy6789", 10));

	/* Emptying the buffer moves nobody's position. */
	c = open(DEV, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, c);
	close(c);
	EXPECT_EQ(6, lseek(b, 0, SEEK_CUR)) {
		TH_LOG("rule: positions belong to the open files; an O_TRUNC open elsewhere moved this one");
	}
	EXPECT_EQ(0, read(b, buf, sizeof(buf))) {
		TH_LOG("rule: after O_TRUNC, a read at position 6 is past the end of the data: 0");
	}
	close(b);
}

TEST_F_TIMEOUT(flatbuf, lseek_moves_within_the_buffer, TIMEOUT)
{
	static const struct {
		long long offset;
		int whence;
	} refused[] = {
		{ FLATBUF_SIZE + 1, SEEK_SET }, { -1, SEEK_SET },
		{ 55, SEEK_END }, { -11, SEEK_END }, { 1, SEEK_CUR },
		{ LLONG_MAX, SEEK_CUR }, { LLONG_MIN, SEEK_CUR },
		{ LLONG_MAX, SEEK_END }, { LLONG_MIN, SEEK_END },
		{ LLONG_MAX, SEEK_SET }, { LLONG_MIN, SEEK_SET },
		{ 0, SEEK_DATA }, { 0, SEEK_HOLE }, { 0, 5 },
	};
	unsigned int i;
	char buf[2];

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	EXPECT_EQ(10, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(3, lseek(self->fd, 3, SEEK_SET));
	ASSERT_EQ(2, read(self->fd, buf, 2));
	EXPECT_EQ(0, memcmp(buf, "34", 2));
	EXPECT_EQ(0, lseek(self->fd, -5, SEEK_CUR));
	EXPECT_EQ(10, lseek(self->fd, 0, SEEK_END)) {
		TH_LOG("rule: SEEK_END is relative to the end of the data (10), not of the array");
	}
	EXPECT_EQ(0, lseek(self->fd, -10, SEEK_END));
	EXPECT_EQ(FLATBUF_SIZE, lseek(self->fd, 54, SEEK_END));
	EXPECT_EQ(FLATBUF_SIZE, lseek(self->fd, FLATBUF_SIZE, SEEK_SET)) {
		TH_LOG("rule: 64 itself is a valid position");
	}

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, lseek(self->fd, refused[i].offset,
				    refused[i].whence)) {
			TH_LOG("rule: lseek(fd, %lld, %d) from 64 with 10 bytes of data must fail: positions outside [0, 64] and whence other than SEEK_SET, SEEK_CUR, SEEK_END are refused",
			       refused[i].offset, refused[i].whence);
			if (refused[i].offset == LLONG_MAX ||
			    refused[i].offset == LLONG_MIN)
				TH_LOG("typical bug: base + offset overflowed and wrapped into [0, 64]");
		}
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(FLATBUF_SIZE, lseek(self->fd, 0, SEEK_CUR)) {
			TH_LOG("rule: a refused lseek leaves the position where it was (after lseek(fd, %lld, %d))",
			       refused[i].offset, refused[i].whence);
		}
	}
	EXPECT_EQ(10, data_length()) {
		TH_LOG("rule: lseek moves the position, never the data");
	}
}

/* A pointer into a page the process may not touch: the kernel must
 * return -EFAULT, not oops, and change nothing. */
TEST_F_TIMEOUT(flatbuf, bad_pointer_gives_efault, TIMEOUT)
{
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	char buf[2 * FLATBUF_SIZE];

	ASSERT_NE(MAP_FAILED, bad);

	errno = 0;
	EXPECT_EQ(-1, write(self->fd, bad, 10)) {
		TH_LOG("rule: a bad user pointer gives EFAULT: check what copy_from_user() returns");
	}
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(0, data_length()) {
		TH_LOG("rule: a write that copied nothing changes nothing; the data grew");
	}
	ASSERT_EQ(10, pwrite(self->fd, "0123456789", 10, 0));
	errno = 0;
	EXPECT_EQ(-1, pread(self->fd, bad, 10, 0)) {
		TH_LOG("rule: a bad user pointer gives EFAULT: check what copy_to_user() returns");
	}
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(2, lseek(self->fd, 2, SEEK_SET));
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, bad, 5));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(2, lseek(self->fd, 0, SEEK_CUR)) {
		TH_LOG("rule: a read that copied nothing leaves the position alone");
	}
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, bad, 5));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(2, lseek(self->fd, 0, SEEK_CUR));
	ASSERT_EQ(10, contents(buf));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10)) {
		TH_LOG("rule: a write that copied nothing changes nothing: got \"%.10s\"",
		       buf);
	}
	/* ENOSPC comes first: with no room, the buffer is never looked at. */
	ASSERT_EQ(FLATBUF_SIZE, lseek(self->fd, FLATBUF_SIZE, SEEK_SET));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, bad, 5));
	EXPECT_EQ(ENOSPC, errno) {
		TH_LOG("rule: with no room at the position a write fails with ENOSPC before it copies anything, so even with a bad pointer");
	}
	munmap(bad, 4096);
}

/** @brief Two pages, the second inaccessible: a buffer that ends at the
 *         boundary has only its first bytes accessible. */
struct fault_edge {
	/** @brief The mapping. */
	char *area;
	/** @brief The page size. */
	size_t page;
};

/** @brief Map the two pages; the second gets PROT_NONE.
 * @param e the mapping, filled in
 * @return the first inaccessible byte, or NULL
 */
static char *fault_edge_init(struct fault_edge *e)
{
	e->page = (size_t)sysconf(_SC_PAGESIZE);
	e->area = mmap(NULL, 2 * e->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (e->area == MAP_FAILED)
		return NULL;
	if (mprotect(e->area + e->page, e->page, PROT_NONE))
		return NULL;
	return e->area + e->page;
}

/* A user buffer that runs into an inaccessible page: the call transfers
 * the bytes up to the page and returns that count; the rest is left
 * alone. */
TEST_F_TIMEOUT(flatbuf, partial_copy_stops_at_the_fault, TIMEOUT)
{
	struct fault_edge e;
	char *edge = fault_edge_init(&e);
	char buf[2 * FLATBUF_SIZE], zeros[8] = { 0 };
	ssize_t n;

	ASSERT_NE(NULL, edge);
	ASSERT_EQ(20, write(self->fd, "ABCDEFGHIJKLMNOPQRST", 20));

	/* Read 10 bytes at 2 into a buffer of which 5 bytes are mapped. */
	ASSERT_EQ(2, lseek(self->fd, 2, SEEK_SET));
	memset(edge - 5, '~', 5);
	n = read(self->fd, edge - 5, 10);
	EXPECT_EQ(5, n) {
		TH_LOG("rule: a read whose buffer runs into an inaccessible page copies the bytes up to it and returns that count (5); got %zd%s",
		       n, n < 0 ? " (an error)" : "");
		if (n < 0 && errno == EFAULT)
			TH_LOG("typical bug: a partial copy reported as EFAULT; EFAULT only when nothing could be copied");
		if (n == 10)
			TH_LOG("typical bug: returning the count asked for, not count - what copy_to_user() could not copy");
	}
	EXPECT_EQ(0, memcmp(edge - 5, "CDEFG", 5));
	EXPECT_EQ(7, lseek(self->fd, 0, SEEK_CUR)) {
		TH_LOG("rule: the position advances by the bytes copied (5, from 2 to 7)");
	}

	/* Near the end of the data the data runs out before the buffer. */
	n = pread(self->fd, edge - 5, 10, 18);
	EXPECT_EQ(2, n);
	EXPECT_EQ(0, memcmp(edge - 5, "ST", 2));

	/* Write 10 bytes at 4 from a buffer of which 3 bytes are mapped. */
	memcpy(edge - 3, "xyz", 3);
	ASSERT_EQ(4, lseek(self->fd, 4, SEEK_SET));
	n = write(self->fd, edge - 3, 10);
	EXPECT_EQ(3, n) {
		TH_LOG("rule: a write whose buffer runs into an inaccessible page writes the bytes up to it and returns that count (3); got %zd",
		       n);
		if (n < 0 && errno == EFAULT)
			TH_LOG("typical bug: a partial copy reported as EFAULT; EFAULT only when nothing could be copied");
	}
	EXPECT_EQ(7, lseek(self->fd, 0, SEEK_CUR)) {
		TH_LOG("rule: the position advances by the bytes written (3, from 4 to 7)");
	}
	EXPECT_EQ(20, data_length()) {
		TH_LOG("rule: the length grows only to where the bytes written end");
	}
	ASSERT_EQ(20, contents(buf));
	EXPECT_EQ(0, memcmp(buf, "ABCDxyzHIJKLMNOPQRST", 20)) {
		TH_LOG("rule: a partial write changes the bytes it wrote and nothing else: got \"%.20s\"",
		       buf);
		if (!memcmp(buf, "ABCDxyz\0\0\0", 10))
			TH_LOG("typical bug: copy_from_user() fills what it could not copy with zeros; copied straight into the buffer, that wipes the bytes after the write. Copy into a local array, then keep what was copied");
	}

	/* A partial write past the end of the data: a hole, 3 bytes, and
	 * nothing more. */
	ASSERT_EQ(30, lseek(self->fd, 30, SEEK_SET));
	EXPECT_EQ(3, write(self->fd, edge - 3, 10));
	EXPECT_EQ(33, data_length()) {
		TH_LOG("rule: the data ends where the bytes written end (33), not where the write would have ended");
	}
	ASSERT_EQ(33, contents(buf));
	EXPECT_EQ(0, memcmp(buf + 20, zeros, 8));
	EXPECT_EQ(0, memcmp(buf + 30, "xyz", 3));

	/* Nothing accessible at all: EFAULT, and nothing moves. */
	ASSERT_EQ(1, lseek(self->fd, 1, SEEK_SET));
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, edge, 4));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, lseek(self->fd, 0, SEEK_CUR));
	munmap(e.area, 2 * e.page);
}

/** @brief The rule copies_fault_in_untouched_pages checks, for its
 *         failure messages. */
#define UNTOUCHED_RULE "rule 18: any valid buffer works, also one whose page the process has not touched yet; the copy faults the page in, which may sleep, so the lock held across it must be one a task may sleep under (the mutex, never a spinlock)"

/* A pwrite() from, then a pread() into, pages the process has not touched
 * yet, through a descriptor without and one with O_NONBLOCK: every byte
 * moves. The driver's copy faults the page in, which works only where it
 * may sleep; under a spinlock it fails with EFAULT, which a buffer the
 * test has just written to never shows. */
TEST_F_TIMEOUT(flatbuf, copies_fault_in_untouched_pages, TIMEOUT)
{
	const size_t count = 24;
	const off_t at = 5;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	int nb = open(DEV, O_RDWR | O_NONBLOCK);
	const int fds[2] = { self->fd, nb };
	char *data, *src, *dst, buf[2 * FLATBUF_SIZE];
	unsigned int i;
	size_t j;
	ssize_t n;

	ASSERT_LE(0, nb);
	data = malloc(page);
	ASSERT_NE(NULL, data);
	for (j = 0; j < page; j++)
		data[j] = (char)('a' + j % 26);
	src = untouched_file_copy(data, page);
	ASSERT_NE(NULL, src);
	dst = untouched_anon(page);
	ASSERT_NE(NULL, dst);
	ASSERT_EQ(10, pwrite(self->fd, "0123456789", 10, 0));
	for (i = 0; i < 2; i++) {
		/* Other bytes each time: from further into the page. */
		const char *how = i ? "an O_NONBLOCK" : "a";
		const char *want = data + 32 * i;

		expect_untouched(_metadata, src + 32 * i, "the write's buffer");
		expect_untouched(_metadata, dst + 32 * i, "the read's buffer");
		errno = 0;
		n = pwrite(fds[i], src + 32 * i, count, at);
		EXPECT_EQ((ssize_t)count, n) {
			TH_LOG("%s pwrite(%zu) at %lld from a page the process has not touched yet returned %zd (%s), not %zu; %s",
			       how, count, (long long)at, n,
			       n < 0 ? strerror(errno) : "no error", count,
			       UNTOUCHED_RULE);
		}
		if (n != (ssize_t)count) {
			/* Put the bytes in anyway, for the read. */
			ASSERT_EQ((ssize_t)count, pwrite(self->fd, want, count, at));
		}
		ASSERT_EQ(at + (ssize_t)count, contents(buf));
		EXPECT_EQ(0, memcmp(buf, "01234", 5));
		EXPECT_EQ(0, memcmp(buf + at, want, count)) {
			TH_LOG("%s pwrite(%zu) at %lld from a page not touched yet left \"%.*s\", not \"%.*s\"",
			       how, count, (long long)at, (int)count, buf + at,
			       (int)count, want);
		}
		errno = 0;
		n = pread(fds[i], dst + 32 * i, count, at);
		EXPECT_EQ((ssize_t)count, n) {
			TH_LOG("%s pread(%zu) at %lld into a page the process has not touched yet returned %zd (%s), not %zu; %s",
			       how, count, (long long)at, n,
			       n < 0 ? strerror(errno) : "no error", count,
			       UNTOUCHED_RULE);
		}
		if (n == (ssize_t)count) {
			EXPECT_EQ(0, memcmp(dst + 32 * i, want, count)) {
				TH_LOG("%s pread(%zu) into a page not touched yet got \"%.*s\", not \"%.*s\"",
				       how, count, (int)count, dst + 32 * i,
				       (int)count, want);
			}
		}
		ASSERT_EQ(0, untouched_again(src, page));
		ASSERT_EQ(0, untouched_again(dst, page));
	}
	munmap(src, page);
	munmap(dst, page);
	free(data);
	close(nb);
}

/** @brief A thread doing one pwrite() of the whole buffer at offset 0. */
struct stalled_write {
	/** @brief Where to write. */
	int fd;
	/** @brief What to write: FLATBUF_SIZE bytes. */
	const char *src;
	/** @brief What pwrite() returned. */
	ssize_t ret;
	/** @brief Written to when pwrite() has returned. */
	int done_pipe;
};

/** @brief Thread body: the write that copy_stall freezes half-way.
 * @param arg the struct stalled_write
 * @return NULL
 */
static void *stalled_write_main(void *arg)
{
	struct stalled_write *w = arg;

	w->ret = pwrite(w->fd, w->src, FLATBUF_SIZE, 0);
	if (write(w->done_pipe, "", 1) != 1)
		w->ret = -2;
	return NULL;
}

/** @brief A thread doing one pread() of the whole buffer at offset 0 into
 *         a buffer whose second half stalls. */
struct stalled_read {
	/** @brief Where to read from. */
	int fd;
	/** @brief Where the bytes go. */
	char *dst;
	/** @brief What pread() returned. */
	ssize_t ret;
	/** @brief Written to when pread() has returned. */
	int done_pipe;
};

/** @brief Thread body: the read that copy_stall freezes half-way.
 * @param arg the struct stalled_read
 * @return NULL
 */
static void *stalled_read_main(void *arg)
{
	struct stalled_read *r = arg;

	r->ret = pread(r->fd, r->dst, FLATBUF_SIZE, 0);
	if (write(r->done_pipe, "", 1) != 1)
		r->ret = -2;
	return NULL;
}

/** @brief A thread doing one pread() (or pwrite()) of the whole buffer at
 *         offset 0. */
struct racing_read {
	/** @brief Where to read from. */
	int fd;
	/** @brief Nonzero: pwrite() buf instead. */
	int is_write;
	/** @brief The thread's id, for /proc. */
	pid_t tid;
	/** @brief What pread() returned. */
	ssize_t ret;
	/** @brief What pread() read. */
	char buf[FLATBUF_SIZE];
	/** @brief Set when pread() has returned. */
	atomic_int done;
	/** @brief Written to just before pread() is called. */
	int ready_pipe;
};

/** @brief Thread body: a read racing the frozen write (or a write racing
 *         the frozen read).
 * @param arg the struct racing_read
 * @return NULL
 */
static void *racing_read_main(void *arg)
{
	struct racing_read *r = arg;

	r->tid = gettid();
	if (write(r->ready_pipe, "", 1) != 1)
		return NULL;
	if (r->is_write)
		r->ret = pwrite(r->fd, r->buf, FLATBUF_SIZE, 0);
	else
		r->ret = pread(r->fd, r->buf, FLATBUF_SIZE, 0);
	atomic_store(&r->done, 1);
	return NULL;
}

/** @brief Whether all @p n bytes of @p buf equal @p c. */
static int all_bytes_are(const char *buf, size_t n, char c)
{
	while (n--)
		if (*buf++ != c)
			return 0;
	return 1;
}

/*
 * A write is frozen half-way through its copy_from_user() (copy_stall.h)
 * while another thread reads: the reader must see the buffer as it was
 * before the write or as it is after it, never half of each. Then the
 * other way round: a read frozen half-way through its copy_to_user()
 * while another thread writes.
 */
TEST_F_TIMEOUT(flatbuf, reader_never_sees_half_a_write, 15)
{
	struct stalled_write w = { .fd = self->fd };
	struct racing_read r = { .fd = self->fd };
	struct racing_read rw = { .fd = self->fd, .is_write = 1 };
	struct stalled_read sr = { 0 };
	struct copy_stall cs;
	int done[2], ready[2], stalled;
	pthread_t wt, rt;
	char old[FLATBUF_SIZE], c, *dst;
	ssize_t got;

	alarm(0);	/* this test bounds its own waits */
	memset(old, 'A', sizeof(old));
	ASSERT_EQ(FLATBUF_SIZE, pwrite(self->fd, old, sizeof(old), 0));
	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, pipe(ready));
	w.done_pipe = done[1];
	r.ready_pipe = ready[1];
	memset(r.buf, 0, sizeof(r.buf));

	w.src = copy_stall_init(&cs, FLATBUF_SIZE / 2, 'B');
	ASSERT_NE(NULL, w.src) {
		TH_LOG("userfaultfd: %s", strerror(errno));
	}
	ASSERT_EQ(0, pthread_create(&wt, NULL, stalled_write_main, &w));
	stalled = copy_stall_wait(&cs, done[0], 5000);
	if (stalled != 1) {
		pthread_join(wt, NULL);
		copy_stall_destroy(&cs);
		ASSERT_EQ(1, stalled) {
			TH_LOG("write() returned %zd without copying all 64 bytes from its buffer",
			       w.ret);
		}
	}

	/* The write now sits in copy_from_user() with 32 bytes copied. */
	ASSERT_EQ(0, pthread_create(&rt, NULL, racing_read_main, &r));
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* Let the read finish, or go to sleep waiting for the writer. */
	task_wait_asleep(r.tid, &r.done, 5000);

	ASSERT_EQ(0, copy_stall_release(&cs, 'B'));
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	copy_stall_destroy(&cs);

	EXPECT_EQ(FLATBUF_SIZE, w.ret);
	ASSERT_EQ(FLATBUF_SIZE, r.ret);
	EXPECT_TRUE(all_bytes_are(r.buf, FLATBUF_SIZE, 'A') ||
		    all_bytes_are(r.buf, FLATBUF_SIZE, 'B')) {
		TH_LOG("rule: readers never see half of a write; the read saw \"%.*s\"; read and write must hold the same lock",
		       FLATBUF_SIZE, r.buf);
	}

	/* A read frozen in copy_to_user() after 32 bytes of 64 'A', and a
	 * write of 64 'C' meanwhile. */
	ASSERT_EQ(1, read(done[0], &c, 1));	/* the first write's */
	ASSERT_EQ(FLATBUF_SIZE, pwrite(self->fd, old, sizeof(old), 0));
	dst = copy_stall_init(&cs, FLATBUF_SIZE / 2, 0);
	ASSERT_NE(NULL, dst);
	sr.fd = self->fd;
	sr.dst = dst;
	sr.done_pipe = done[1];
	ASSERT_EQ(0, pthread_create(&wt, NULL, stalled_read_main, &sr));
	stalled = copy_stall_wait(&cs, done[0], 5000);
	if (stalled != 1) {
		pthread_join(wt, NULL);
		copy_stall_destroy(&cs);
		ASSERT_EQ(1, stalled) {
			TH_LOG("read() returned %zd without copying 64 bytes into its buffer",
			       sr.ret);
		}
	}
	memset(rw.buf, 'C', sizeof(rw.buf));
	rw.ready_pipe = ready[1];
	ASSERT_EQ(0, pthread_create(&rt, NULL, racing_read_main, &rw));
	ASSERT_EQ(1, read(ready[0], &c, 1));
	task_wait_asleep(rw.tid, &rw.done, 5000);
	ASSERT_EQ(0, copy_stall_release(&cs, 0));
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);
	got = sr.ret;
	if (got == FLATBUF_SIZE)
		memcpy(r.buf, dst, FLATBUF_SIZE);
	copy_stall_destroy(&cs);
	EXPECT_EQ(FLATBUF_SIZE, rw.ret);
	ASSERT_EQ(FLATBUF_SIZE, got);
	EXPECT_TRUE(all_bytes_are(r.buf, FLATBUF_SIZE, 'A') ||
		    all_bytes_are(r.buf, FLATBUF_SIZE, 'C')) {
		TH_LOG("rule: readers never see half of a write; a read frozen in copy_to_user() saw \"%.*s\": hold the lock until the read's copy is done",
		       FLATBUF_SIZE, r.buf);
	}
}

/** @brief A write of 64 bytes at offset 0, frozen in its copy_from_user()
 *         with 32 bytes 'B' copied; released, its last 32 bytes are 'C'.
 */
struct frozen_write {
	/** @brief The stall behind the write's buffer. */
	struct copy_stall cs;
	/** @brief The write and its result. */
	struct stalled_write w;
	/** @brief The writing thread. */
	pthread_t thread;
	/** @brief The thread writes to done[1] when pwrite() returned. */
	int done[2];
};

/** @brief Start the frozen write on @p fd and wait until it is frozen.
 * @param f the write
 * @param fd the descriptor it writes through
 * @return 1 frozen, 0 the write returned without freezing (f->w.ret says
 *         what it returned), -1 the kit could not set it up
 */
static int frozen_write_start(struct frozen_write *f, int fd)
{
	int stalled;

	memset(f, 0, sizeof(*f));
	if (pipe(f->done))
		return -1;
	f->w.fd = fd;
	f->w.done_pipe = f->done[1];
	f->w.src = copy_stall_init(&f->cs, FLATBUF_SIZE / 2, 'B');
	if (!f->w.src)
		return -1;
	if (pthread_create(&f->thread, NULL, stalled_write_main, &f->w)) {
		copy_stall_destroy(&f->cs);
		return -1;
	}
	stalled = copy_stall_wait(&f->cs, f->done[0], 5000);
	if (stalled != 1) {
		pthread_join(f->thread, NULL);
		copy_stall_destroy(&f->cs);
		close(f->done[0]);
		close(f->done[1]);
		return stalled == 0 ? 0 : -1;
	}
	return 1;
}

/** @brief Let the frozen write go on and wait for it.
 * @param f the write
 * @return what its pwrite() returned
 */
static ssize_t frozen_write_finish(struct frozen_write *f)
{
	copy_stall_release(&f->cs, 'C');
	pthread_join(f->thread, NULL);
	copy_stall_destroy(&f->cs);
	close(f->done[0]);
	close(f->done[1]);
	return f->w.ret;
}

/** @brief The calls that must wait for the buffer's lock. */
enum waiter_kind {
	WAIT_WRITE,		/**< pwrite(fd, "12345678", 8, 0) */
	WAIT_READ,		/**< pread(fd, buf, 64, 0) */
	WAIT_SEEK_END,		/**< lseek(fd, 0, SEEK_END) */
	WAIT_OPEN_TRUNC,	/**< open(DEV, O_WRONLY | O_TRUNC) */
	WAIT_NB_WRITE,		/**< WAIT_WRITE, fd opened with O_NONBLOCK */
	WAIT_NB_READ,		/**< WAIT_READ, fd opened with O_NONBLOCK */
	WAIT_KINDS,		/**< how many kinds the loops go through */
	/** write(fd, "xyz", 3) through a new O_WRONLY | O_APPEND open, then
	 *  its position: not in the loops over WAIT_KINDS */
	WAIT_APPEND_XYZ = WAIT_KINDS
};

/** @brief How each kind of waiter is written in a message. */
static const char *const waiter_call[WAIT_KINDS] = {
	"pwrite(fd, \"12345678\", 8, 0)",
	"pread(fd, buf, 64, 0)",
	"lseek(fd, 0, SEEK_END)",
	"open(\"" DEV "\", O_WRONLY | O_TRUNC)",
	"pwrite(fd, \"12345678\", 8, 0) on an O_NONBLOCK open",
	"pread(fd, buf, 64, 0) on an O_NONBLOCK open",
};

/** @brief Whether waiters of @p kind make their call through a
 *         descriptor opened with O_NONBLOCK.
 *
 * The test opens it before any waiter starts: misc_open() calls the
 * driver's open under the mutex of all misc devices, which an O_TRUNC
 * open asleep on the buffer's lock keeps, so any open waits meanwhile.
 *
 * @param kind the call
 * @return nonzero if so
 */
static int waiter_nonblock(enum waiter_kind kind)
{
	return kind == WAIT_NB_WRITE || kind == WAIT_NB_READ;
}

/** @brief What a waiter shares with the test (MAP_SHARED). */
struct waiter_shared {
	/** @brief What the call returned (0 for a successful open). */
	long long ret;
	/** @brief errno after the call. */
	int err;
	/** @brief Set when the call returned. */
	atomic_int done;
	/** @brief WAIT_APPEND_XYZ: its position after the write. */
	long long pos;
	/** @brief The read's buffer, '?' before the call. */
	char buf[FLATBUF_SIZE];
};

/** @brief One call in a child process that should wait for the lock. */
struct waiter {
	/** @brief Shared with the child; NULL when not started. */
	struct waiter_shared *sh;
	/** @brief The child. */
	pid_t pid;
	/** @brief What it does. */
	enum waiter_kind kind;
	/** @brief The child writes here just before its call. */
	int ready[2];
	/** @brief The child writes here when its call returned. */
	int done[2];
};

/** @brief Start a child that makes one call of @p kind on @p fd (a
 *         process: a buggy driver may keep it asleep for good), and wait
 *         until it sleeps or returns, with its own SIGUSR1 handler.
 * @param w the waiter, filled in
 * @param kind the call
 * @param fd the descriptor (inherited; ignored by WAIT_OPEN_TRUNC and
 *        WAIT_APPEND_XYZ), opened with O_NONBLOCK for the kinds
 *        waiter_nonblock() names
 * @param restart nonzero: SIGUSR1's handler is note_signal() with
 *        SA_RESTART (the call must go on waiting after it); zero:
 *        ignore_signal() without SA_RESTART (the call fails with EINTR)
 * @param realtime nonzero: the child makes its call as a SCHED_FIFO task
 *        (priority 1), which a task of its CPU that wakes it does not
 *        keep from running under full preemption (cpu_order.h,
 *        preempt_full.h)
 * @return 'S' asleep and interruptible, 'D' asleep and not, 'X' the call
 *         returned, 0 running after 5 s, '?' the kit failed (or the
 *         child could not become real-time)
 */
static char waiter_start_how(struct waiter *w, enum waiter_kind kind, int fd,
			     int restart, int realtime)
{
	struct sched_param rt = { .sched_priority = 1 };
	struct sigaction sa = { .sa_handler = ignore_signal };
	struct waiter_shared *sh;
	char byte;
	int nfd;

	memset(w, 0, sizeof(*w));
	w->pid = -1;
	w->kind = kind;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return '?';
	w->sh = sh;
	memset(sh->buf, '?', sizeof(sh->buf));
	if (pipe(w->ready) || pipe(w->done))
		return '?';
	w->pid = fork_detached();
	if (w->pid < 0)
		return '?';
	if (w->pid == 0) {
		if (restart) {
			sa.sa_handler = note_signal;
			sa.sa_flags = SA_RESTART;
		}
		sigaction(SIGUSR1, &sa, NULL);
		if (realtime && sched_setscheduler(0, SCHED_FIFO, &rt))
			_exit(1);
		if (write(w->ready[1], "", 1) != 1)
			_exit(1);
		errno = 0;
		switch (kind) {
		case WAIT_WRITE:
		case WAIT_NB_WRITE:
			sh->ret = pwrite(fd, "12345678", 8, 0);
			break;
		case WAIT_READ:
		case WAIT_NB_READ:
			sh->ret = pread(fd, sh->buf, FLATBUF_SIZE, 0);
			break;
		case WAIT_SEEK_END:
			sh->ret = lseek(fd, 0, SEEK_END);
			break;
		case WAIT_APPEND_XYZ:
			nfd = open(DEV, O_WRONLY | O_APPEND);
			sh->ret = nfd < 0 ? -1 : write(nfd, "xyz", 3);
			sh->err = errno;
			sh->pos = nfd < 0 ? -1 : lseek(nfd, 0, SEEK_CUR);
			errno = sh->err;
			break;
		default:
			nfd = open(DEV, O_WRONLY | O_TRUNC);
			sh->ret = nfd < 0 ? -1 : 0;
			break;
		}
		sh->err = errno;
		atomic_store(&sh->done, 1);
		if (write(w->done[1], "", 1) != 1)
			_exit(1);
		_exit(0);
	}
	if (read(w->ready[0], &byte, 1) != 1)
		return '?';
	return task_wait_asleep(w->pid, &sh->done, 5000);
}

/** @brief Start a waiter with the SIGUSR1 handler @p restart chooses, as
 *         an ordinary (not real-time) task; see waiter_start_how().
 * @param w the waiter, filled in
 * @param kind the call
 * @param fd the descriptor
 * @param restart as for waiter_start_how()
 * @return as waiter_start_how()
 */
static char waiter_start_sa(struct waiter *w, enum waiter_kind kind, int fd,
			    int restart)
{
	return waiter_start_how(w, kind, fd, restart, 0);
}

/** @brief Start a waiter whose SIGUSR1 ends its sleep with EINTR (handler
 *         without SA_RESTART); see waiter_start_sa().
 * @param w the waiter, filled in
 * @param kind the call
 * @param fd the descriptor
 * @return as waiter_start_sa()
 */
static char waiter_start(struct waiter *w, enum waiter_kind kind, int fd)
{
	return waiter_start_sa(w, kind, fd, 0);
}

/** @brief Wait up to @p timeout_ms for the waiter's call to return.
 * @param w the waiter
 * @param timeout_ms how long to wait
 * @return 1 if it has returned, 0 if not
 */
static int waiter_returned(struct waiter *w, int timeout_ms)
{
	struct pollfd p = { .fd = w->done[0], .events = POLLIN };

	return atomic_load(&w->sh->done) || poll(&p, 1, timeout_ms) == 1;
}

/** @brief End the waiter: a child whose call has not returned is killed
 *         (and left behind if it cannot die); free what it used.
 * @param w the waiter
 */
static void waiter_end(struct waiter *w)
{
	int status;

	if (w->pid > 0) {
		if (!waiter_returned(w, 0))
			kill(w->pid, SIGKILL);
		if (wait_for_child(w->pid, &status, 1000))
			kill(w->pid, SIGKILL);
		close(w->ready[0]);
		close(w->ready[1]);
		close(w->done[0]);
		close(w->done[1]);
	}
	w->pid = 0;
	if (w->sh)
		munmap(w->sh, sizeof(*w->sh));
	w->sh = NULL;
}

/** @brief Explain, for a failure message, a waiter that did not sleep.
 * @param state what waiter_start() returned
 * @return the explanation
 */
static const char *not_asleep_because(char state)
{
	switch (state) {
	case 'X':
		return "it returned at once: the call does not take the buffer's mutex, or the write released it before its copy";
	case 'D':
		return "it sleeps uninterruptibly (state D): take the mutex with mutex_lock_interruptible(), so that a signal can end the wait";
	case 0:
		return "it neither slept nor returned within 5 s";
	default:
		return "the test could not start it";
	}
}

/** @brief Whether the waiter's call has returned -1 with EAGAIN: what an
 *         O_NONBLOCK call that would not wait for the lock gives.
 * @param w the waiter
 * @return nonzero if so
 */
static int waiter_gave_eagain(const struct waiter *w)
{
	return w->sh && atomic_load(&w->sh->done) && w->sh->ret == -1 &&
	       w->sh->err == EAGAIN;
}

/** @brief Explain, for a failure message, a waiter that did not sleep:
 *         as not_asleep_because(), and rule 12 for an O_NONBLOCK call
 *         that failed at once with EAGAIN.
 * @param w the waiter
 * @param state what waiter_start() returned
 * @return the explanation
 */
static const char *waiter_not_asleep(const struct waiter *w, char state)
{
	if (state == 'X' && waiter_gave_eagain(w))
		return "it failed at once with EAGAIN; rule 12: O_NONBLOCK changes nothing on this device, so a read or write with O_NONBLOCK that finds the mutex taken sleeps on it, interruptibly, like any other call (rule 18): take it with mutex_lock_interruptible() whatever the flags, not with mutex_trylock() and -EAGAIN";
	return not_asleep_because(state);
}

/* While a write holds the lock in the middle of its copy_from_user(), a
 * second writer, a reader, an lseek(SEEK_END), an O_TRUNC open, and a
 * writer and a reader with O_NONBLOCK (which changes nothing, rule 12)
 * each sleep, interruptibly, until the write is done; then each goes on. */
TEST_F_TIMEOUT(flatbuf, others_wait_while_a_write_holds_the_lock, 15)
{
	char want[FLATBUF_SIZE], buf[2 * FLATBUF_SIZE], old[10];
	struct frozen_write f;
	struct waiter w;
	int kind, started, fd;
	char state;
	ssize_t n;

	alarm(0);	/* this test bounds its own waits */
	memset(want, 'B', FLATBUF_SIZE / 2);
	memset(want + FLATBUF_SIZE / 2, 'C', FLATBUF_SIZE / 2);
	memset(old, 'A', sizeof(old));
	for (kind = 0; kind < WAIT_KINDS; kind++) {
		fd = open(DEV, O_RDWR | O_TRUNC |
			  (waiter_nonblock(kind) ? O_NONBLOCK : 0));
		ASSERT_LE(0, fd);
		ASSERT_EQ(10, write(fd, old, sizeof(old)));
		ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
		started = frozen_write_start(&f, self->fd);
		ASSERT_EQ(1, started) {
			TH_LOG("the 64-byte write returned %zd without copying all of its buffer (or userfaultfd failed: %s)",
			       f.w.ret, strerror(errno));
		}
		state = waiter_start(&w, kind, fd);
		EXPECT_EQ('S', state) {
			TH_LOG("rule: while a write holds the lock (frozen inside copy_from_user()), %s must sleep until the write is done; %s",
			       waiter_call[kind], waiter_not_asleep(&w, state));
		}
		n = frozen_write_finish(&f);
		EXPECT_EQ(FLATBUF_SIZE, n);
		EXPECT_TRUE(waiter_returned(&w, 5000)) {
			TH_LOG("%s still sleeps after the write released the lock",
			       waiter_call[kind]);
		}
		if (!waiter_returned(&w, 0)) {
			waiter_end(&w);
			close(fd);
			continue;
		}
		switch (kind) {
		case WAIT_WRITE:
		case WAIT_NB_WRITE:
			EXPECT_EQ(8, w.sh->ret) {
				TH_LOG("%s returned %lld (%s), not 8: once the frozen write is done, it writes its 8 bytes",
				       waiter_call[kind], w.sh->ret,
				       w.sh->ret < 0 ? strerror(w.sh->err) : "no error");
			}
			if (w.sh->ret != 8)
				break;
			memcpy(want, "12345678", 8);
			ASSERT_EQ(FLATBUF_SIZE, contents(buf));
			EXPECT_EQ(0, memcmp(buf, want, FLATBUF_SIZE)) {
				TH_LOG("the second write must come after the frozen one: got \"%.64s\"",
				       buf);
			}
			memset(want, 'B', 8);
			break;
		case WAIT_READ:
		case WAIT_NB_READ:
			EXPECT_EQ(FLATBUF_SIZE, w.sh->ret) {
				TH_LOG("%s returned %lld (%s), not 64: the read must see the whole of the write it waited for",
				       waiter_call[kind], w.sh->ret,
				       w.sh->ret < 0 ? strerror(w.sh->err) : "no error");
			}
			EXPECT_EQ(0, memcmp(w.sh->buf, want, FLATBUF_SIZE)) {
				TH_LOG("the read must see the whole of the write it waited for: got \"%.64s\"",
				       w.sh->buf);
			}
			break;
		case WAIT_SEEK_END:
			EXPECT_EQ(FLATBUF_SIZE, w.sh->ret) {
				TH_LOG("lseek(SEEK_END) must see the length the write left (64), not the one before it (10)");
			}
			break;
		default:
			EXPECT_EQ(0, w.sh->ret) {
				TH_LOG("the O_TRUNC open failed: %s",
				       strerror(w.sh->err));
			}
			EXPECT_EQ(0, data_length()) {
				TH_LOG("the O_TRUNC open must empty the buffer after the write it waited for");
			}
			break;
		}
		waiter_end(&w);
		close(fd);
	}
}

/* A signal ends a wait for the lock with EINTR, and the interrupted call
 * changes nothing: the lock stays with the frozen write, whose data is
 * then exactly what the buffer holds. */
TEST_F_TIMEOUT(flatbuf, signal_ends_the_wait_for_the_lock, 15)
{
	struct waiter w[WAIT_KINDS], late;
	char want[FLATBUF_SIZE], buf[2 * FLATBUF_SIZE], old[10], state;
	char asleep[WAIT_KINDS];
	struct frozen_write f;
	int kind, other, started, seekfd, nbfd;
	ssize_t n;

	alarm(0);	/* this test bounds its own waits */
	memset(want, 'B', FLATBUF_SIZE / 2);
	memset(want + FLATBUF_SIZE / 2, 'C', FLATBUF_SIZE / 2);
	memset(old, 'A', sizeof(old));
	memset(w, 0, sizeof(w));
	memset(&late, 0, sizeof(late));
	ASSERT_EQ(10, write(self->fd, old, sizeof(old)));
	seekfd = open(DEV, O_RDONLY);
	ASSERT_LE(0, seekfd);
	ASSERT_EQ(5, lseek(seekfd, 5, SEEK_SET));
	nbfd = open(DEV, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nbfd);

	started = frozen_write_start(&f, self->fd);
	ASSERT_EQ(1, started) {
		TH_LOG("the 64-byte write returned %zd without copying all of its buffer (or userfaultfd failed: %s)",
		       f.w.ret, strerror(errno));
	}
	for (kind = 0; kind < WAIT_KINDS; kind++) {
		state = waiter_start(&w[kind], kind,
				     kind == WAIT_SEEK_END ? seekfd :
				     waiter_nonblock(kind) ? nbfd : self->fd);
		EXPECT_EQ('S', state) {
			TH_LOG("rule: while a write holds the lock, %s must sleep, interruptibly; %s",
			       waiter_call[kind], waiter_not_asleep(&w[kind], state));
		}
		asleep[kind] = state == 'S';
	}
	for (kind = 0; kind < WAIT_KINDS; kind++) {
		if (!w[kind].sh || waiter_returned(&w[kind], 0))
			continue;
		kill(w[kind].pid, SIGUSR1);
		if (!waiter_returned(&w[kind], 2000)) {
			EXPECT_TRUE(0) {
				TH_LOG("rule: a signal ends the wait for the lock; %s still sleeps after SIGUSR1: use mutex_lock_interruptible() and return -ERESTARTSYS when it fails",
				       waiter_call[kind]);
			}
			continue;
		}
		EXPECT_EQ(-1, w[kind].sh->ret) {
			TH_LOG("rule: a call whose wait for the lock a signal ended fails with EINTR; %s returned %lld",
			       waiter_call[kind], w[kind].sh->ret);
		}
		EXPECT_EQ(EINTR, w[kind].sh->err) {
			TH_LOG("%s failed with %s, not EINTR: return -ERESTARTSYS when mutex_lock_interruptible() fails",
			       waiter_call[kind], strerror(w[kind].sh->err));
		}
		/* The others still wait: the interrupted call did not touch
		 * the lock it never got. */
		for (other = kind + 1; other < WAIT_KINDS; other++) {
			if (!asleep[other])
				continue;
			EXPECT_EQ('S', task_state(w[other].pid)) {
				TH_LOG("rule: an interrupted call changes nothing: after %s was interrupted, %s stopped waiting; did the interrupted call unlock a mutex it never held?",
				       waiter_call[kind], waiter_call[other]);
			}
		}
	}
	/* The frozen write still holds the lock. */
	state = waiter_start(&late, WAIT_READ, self->fd);
	EXPECT_EQ('S', state) {
		TH_LOG("rule: an interrupted call changes nothing: after the interrupted calls, a new read does not wait for the frozen write any more (%s); was the lock released by a call that never held it?",
		       not_asleep_because(state));
	}
	n = frozen_write_finish(&f);
	EXPECT_EQ(FLATBUF_SIZE, n) {
		TH_LOG("the frozen write must complete: 64 bytes");
	}
	EXPECT_TRUE(waiter_returned(&late, 5000));
	ASSERT_EQ(FLATBUF_SIZE, contents(buf)) {
		TH_LOG("rule: an interrupted call changes nothing: the buffer must hold exactly the frozen write's 64 bytes (the O_TRUNC open was interrupted)");
	}
	EXPECT_EQ(0, memcmp(buf, want, FLATBUF_SIZE)) {
		TH_LOG("rule: an interrupted call changes nothing: the buffer must hold exactly the frozen write's bytes: got \"%.64s\"",
		       buf);
	}
	for (kind = 0; kind < WAIT_KINDS; kind++) {
		if ((kind != WAIT_READ && kind != WAIT_NB_READ) || !w[kind].sh)
			continue;
		EXPECT_TRUE(all_bytes_are(w[kind].sh->buf, FLATBUF_SIZE, '?')) {
			TH_LOG("rule: an interrupted read copies nothing to its buffer (%s)",
			       waiter_call[kind]);
		}
	}
	EXPECT_EQ(5, lseek(seekfd, 0, SEEK_CUR)) {
		TH_LOG("rule: an interrupted lseek leaves the position alone");
	}
	if (late.sh && waiter_returned(&late, 0)) {
		EXPECT_EQ(FLATBUF_SIZE, late.sh->ret);
		EXPECT_EQ(0, memcmp(late.sh->buf, want, FLATBUF_SIZE));
	}
	for (kind = 0; kind < WAIT_KINDS; kind++)
		waiter_end(&w[kind]);
	waiter_end(&late);
	close(seekfd);
	close(nbfd);
	/* And the lock still works. */
	EXPECT_EQ(3, pwrite(self->fd, "end", 3, 0));
	EXPECT_EQ(FLATBUF_SIZE, data_length());
}

/* A read holds the lock for its whole access, its copy_to_user()
 * included: while a read is frozen half-way through its copy, a write, an
 * lseek(SEEK_END), an O_TRUNC open and an O_NONBLOCK write from other
 * processes sleep until it is done, and the read returns the bytes as
 * they were. */
TEST_F_TIMEOUT(flatbuf, others_wait_while_a_read_holds_the_lock, 15)
{
	static const enum waiter_kind kinds[] = {
		WAIT_WRITE, WAIT_SEEK_END, WAIT_OPEN_TRUNC, WAIT_NB_WRITE,
	};
	struct stalled_read sr;
	struct copy_stall cs;
	struct waiter w;
	char old[40], c, state, *dst;
	int done[2], stalled, fd;
	unsigned int i;
	pthread_t t;

	alarm(0);	/* this test bounds its own waits */
	for (i = 0; i < sizeof(old); i++)
		old[i] = (char)('a' + i % 26);
	ASSERT_EQ(0, pipe(done));
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		fd = open(DEV, O_RDWR | O_TRUNC |
			  (waiter_nonblock(kinds[i]) ? O_NONBLOCK : 0));
		ASSERT_LE(0, fd);
		ASSERT_EQ(40, write(fd, old, sizeof(old)));
		/* A pread(64) at 0 of the 40 bytes, frozen after 16. */
		dst = copy_stall_init(&cs, 16, 0);
		ASSERT_NE(NULL, dst) {
			TH_LOG("userfaultfd: %s", strerror(errno));
		}
		memset(&sr, 0, sizeof(sr));
		sr.fd = self->fd;
		sr.dst = dst;
		sr.done_pipe = done[1];
		ASSERT_EQ(0, pthread_create(&t, NULL, stalled_read_main, &sr));
		stalled = copy_stall_wait(&cs, done[0], 5000);
		if (stalled != 1) {
			pthread_join(t, NULL);
			copy_stall_destroy(&cs);
			ASSERT_EQ(1, stalled) {
				TH_LOG("the read of 40 bytes returned %zd without copying them into its buffer",
				       sr.ret);
			}
		}
		state = waiter_start(&w, kinds[i], fd);
		EXPECT_EQ('S', state) {
			TH_LOG("rule 18: a read holds the mutex for its whole access, its copy_to_user() included; while a read is frozen inside copy_to_user(), %s must sleep until the read is done: %s",
			       waiter_call[kinds[i]],
			       state == 'X' && !waiter_gave_eagain(&w) ?
			       "it returned at once: the read let the mutex go before its copy (copying to a local buffer under the lock, then to the user outside it, is the same bug)" :
			       waiter_not_asleep(&w, state));
		}
		ASSERT_EQ(0, copy_stall_release(&cs, 0));
		pthread_join(t, NULL);
		ASSERT_EQ(1, read(done[0], &c, 1));
		EXPECT_EQ(40, sr.ret);
		if (sr.ret == 40) {
			EXPECT_EQ(0, memcmp(dst, old, sizeof(old))) {
				TH_LOG("rule 18: the frozen read must return the 40 bytes as they were when it began: got \"%.40s\"",
				       dst);
			}
		}
		copy_stall_destroy(&cs);
		EXPECT_TRUE(waiter_returned(&w, 5000)) {
			TH_LOG("%s still sleeps after the read released the lock",
			       waiter_call[kinds[i]]);
		}
		waiter_end(&w);
		close(fd);
	}
	close(done[0]);
	close(done[1]);
}

/* Rule 19's -ERESTARTSYS: a call waiting for the lock whose signal
 * handler has SA_RESTART is restarted after the handler, and goes on
 * waiting; it never sees EINTR. */
TEST_F_TIMEOUT(flatbuf, sa_restart_restarts_a_wait_for_the_lock, 15)
{
	char want[FLATBUF_SIZE], buf[2 * FLATBUF_SIZE], state;
	struct frozen_write f;
	struct waiter w;
	int kind, fd;
	ssize_t n;

	alarm(0);	/* this test bounds its own waits */
	ASSERT_LE(0, signal_note_fd());
	memset(want, 'B', FLATBUF_SIZE / 2);
	memset(want + FLATBUF_SIZE / 2, 'C', FLATBUF_SIZE / 2);
	for (kind = 0; kind < WAIT_KINDS; kind++) {
		fd = open(DEV, O_RDWR | O_TRUNC |
			  (waiter_nonblock(kind) ? O_NONBLOCK : 0));
		ASSERT_LE(0, fd);
		ASSERT_EQ(1, frozen_write_start(&f, self->fd)) {
			TH_LOG("the 64-byte write returned %zd without copying all of its buffer (or userfaultfd failed: %s)",
			       f.w.ret, strerror(errno));
		}
		state = waiter_start_sa(&w, kind, fd, 1);
		EXPECT_EQ('S', state) {
			TH_LOG("rule 18: while a write holds the lock, %s must sleep, interruptibly; %s",
			       waiter_call[kind], waiter_not_asleep(&w, state));
		}
		if (state == 'S') {
			ASSERT_EQ(0, kill(w.pid, SIGUSR1));
			ASSERT_TRUE(await_byte(signal_note_fd(), 5000)) {
				TH_LOG("the signal handler did not run");
			}
			state = task_wait_asleep(w.pid, &w.sh->done, 5000);
			EXPECT_EQ('S', state) {
				TH_LOG("rule 19: a signal ends the wait with -ERESTARTSYS, which the kernel turns into a restart when the handler has SA_RESTART; after such a handler, %s %s",
				       waiter_call[kind], state == 'X' ?
				       "returned instead of waiting again: return -ERESTARTSYS when mutex_lock_interruptible() fails, not its -EINTR" :
				       not_asleep_because(state));
			}
		}
		n = frozen_write_finish(&f);
		EXPECT_EQ(FLATBUF_SIZE, n);
		EXPECT_TRUE(waiter_returned(&w, 5000)) {
			TH_LOG("%s still sleeps after the write released the lock",
			       waiter_call[kind]);
		}
		if (waiter_returned(&w, 0)) {
			EXPECT_NE(-1, w.sh->ret) {
				TH_LOG("rule 19: with SA_RESTART, %s must be restarted and complete, not fail with %s",
				       waiter_call[kind], strerror(w.sh->err));
			}
			switch (kind) {
			case WAIT_WRITE:
			case WAIT_NB_WRITE:
				EXPECT_EQ(8, w.sh->ret);
				break;
			case WAIT_READ:
			case WAIT_NB_READ:
				EXPECT_EQ(FLATBUF_SIZE, w.sh->ret);
				EXPECT_EQ(0, memcmp(w.sh->buf, want,
						    FLATBUF_SIZE)) {
					TH_LOG("the restarted read must see the whole of the write it waited for: got \"%.64s\"",
					       w.sh->buf);
				}
				break;
			case WAIT_SEEK_END:
				EXPECT_EQ(FLATBUF_SIZE, w.sh->ret);
				break;
			default:
				EXPECT_EQ(0, w.sh->ret);
				EXPECT_EQ(0, contents(buf));
				break;
			}
		}
		waiter_end(&w);
		close(fd);
	}
}

/** @brief Thread body: a write() of 5 bytes, frozen in its copy by
 *         copy_stall.
 * @param arg the struct stalled_write (its fd opened with O_APPEND)
 * @return NULL
 */
static void *stalled_append_main(void *arg)
{
	struct stalled_write *w = arg;

	w->ret = write(w->fd, w->src, 5);
	if (write(w->done_pipe, "", 1) != 1)
		w->ret = -2;
	return NULL;
}

/* Rules 11 and 18: an O_APPEND write finds the end (len) under the lock.
 * With 10 bytes in, an O_APPEND write of 5 is frozen in its copy; an
 * O_APPEND write of 3 from another process waits, and then goes after
 * the 5: 18 bytes, and the second writer's position is 18. */
TEST_F_TIMEOUT(flatbuf, o_append_finds_the_end_under_the_lock, 15)
{
	struct stalled_write a = { 0 };
	char buf[2 * FLATBUF_SIZE], c, state;
	struct copy_stall cs;
	struct waiter w;
	int done[2], afd, stalled;
	pthread_t t;
	ssize_t n;

	alarm(0);	/* this test bounds its own waits */
	ASSERT_EQ(10, write(self->fd, "AAAAAAAAAA", 10));
	ASSERT_EQ(0, pipe(done));
	afd = open(DEV, O_WRONLY | O_APPEND);
	ASSERT_LE(0, afd);
	a.fd = afd;
	a.done_pipe = done[1];
	/* "BB", then the stalled page, released as "CCC". */
	a.src = copy_stall_init(&cs, 2, 'B');
	ASSERT_NE(NULL, a.src) {
		TH_LOG("userfaultfd: %s", strerror(errno));
	}
	ASSERT_EQ(0, pthread_create(&t, NULL, stalled_append_main, &a));
	stalled = copy_stall_wait(&cs, done[0], 5000);
	if (stalled != 1) {
		pthread_join(t, NULL);
		copy_stall_destroy(&cs);
		ASSERT_EQ(1, stalled) {
			TH_LOG("the O_APPEND write of 5 returned %zd without copying its buffer",
			       a.ret);
		}
	}
	state = waiter_start(&w, WAIT_APPEND_XYZ, -1);
	EXPECT_EQ('S', state) {
		TH_LOG("rule 18: while an O_APPEND write holds the lock (frozen in its copy), a second O_APPEND write must sleep until it is done; %s",
		       not_asleep_because(state));
	}
	ASSERT_EQ(0, copy_stall_release(&cs, 'C'));
	pthread_join(t, NULL);
	ASSERT_EQ(1, read(done[0], &c, 1));
	copy_stall_destroy(&cs);
	EXPECT_EQ(5, a.ret);
	EXPECT_TRUE(waiter_returned(&w, 5000)) {
		TH_LOG("the second O_APPEND write still sleeps after the first released the lock");
	}
	if (waiter_returned(&w, 0)) {
		EXPECT_EQ(3, w.sh->ret);
		EXPECT_EQ(18, w.sh->pos) {
			TH_LOG("rule 11: after an O_APPEND write() the position is at the end of what it wrote: 10 + 5 + 3 = 18, not %lld",
			       w.sh->pos);
		}
	}
	n = contents(buf);
	EXPECT_EQ(18, n) {
		TH_LOG("rules 11 and 18: 10 bytes, then an O_APPEND write of 5, then one of 3 that waited for it: the buffer holds %zd bytes, not 18; an O_APPEND write must read len (*ppos = len) after it took the mutex, not before: the second write took the end from before the first one",
		       n);
	}
	if (n >= 0) {
		EXPECT_EQ(0, memcmp(buf, "AAAAAAAAAABBCCCxyz", 18)) {
			TH_LOG("rules 11 and 18: expected \"AAAAAAAAAABBCCCxyz\", got \"%.*s\"",
			       (int)n, buf);
		}
	}
	waiter_end(&w);
	close(afd);
	close(done[0]);
	close(done[1]);
}

/** @brief How many times data_path_does_not_log makes each kind of call. */
#define QUIET_CALLS 16

/** @brief How many times data_path_does_not_log has each kind of call
 *         wait for the mutex until a signal ends its wait. */
#define QUIET_WAITS 2



/** @brief In data_path_does_not_log, every kind of call that waits for
 *         the mutex (enum waiter_kind), held by a write frozen in its
 *         copy, until SIGUSR1 (a handler without SA_RESTART) ends its
 *         wait with EINTR; noted in q->off when a call went otherwise.
 * @param q the record
 * @param fd the fixture's descriptor
 */
static void quiet_lock_waits(struct kmsg_quiet *q, int fd)
{
	int seekfd = open(DEV, O_RDONLY), nbfd = open(DEV, O_RDWR | O_NONBLOCK);
	struct waiter w[WAIT_KINDS];
	struct frozen_write f;
	int kind;

	memset(w, 0, sizeof(w));
	if (seekfd < 0 || nbfd < 0 || frozen_write_start(&f, fd) != 1) {
		q->off++;
		goto out;
	}
	for (kind = 0; kind < WAIT_KINDS; kind++)
		if (waiter_start(&w[kind], kind,
				 kind == WAIT_SEEK_END ? seekfd :
				 waiter_nonblock(kind) ? nbfd : fd) != 'S')
			q->off++;
	for (kind = 0; kind < WAIT_KINDS; kind++) {
		if (!w[kind].sh)
			continue;
		kill(w[kind].pid, SIGUSR1);
		if (!waiter_returned(&w[kind], 2000))
			q->off++;
		errno = w[kind].sh->err;
		kmsg_quiet_call(q, w[kind].sh->ret, -1, EINTR);
	}
	kmsg_quiet_call(q, frozen_write_finish(&f), FLATBUF_SIZE, 0);
out:
	for (kind = 0; kind < WAIT_KINDS; kind++)
		waiter_end(&w[kind]);
	close(seekfd);
	close(nbfd);
}

/** @brief The calls of data_path_does_not_log, every way a call can end,
 *         each noted in @p q (kmsg_quiet_call()) and the module's records
 *         counted after each run of them (kmsg_quiet_count()).
 * @param q the record, started
 * @param fd the fixture's descriptor (O_RDWR)
 * @param bad an inaccessible page
 * @param edge the first byte of an inaccessible page, whose 5 bytes
 *        before are accessible
 */
static void quiet_calls(struct kmsg_quiet *q, int fd, char *bad, char *edge)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	char data[FLATBUF_SIZE], got[2 * FLATBUF_SIZE];
	int i, m, a;

	memset(data, 'q', sizeof(data));
	for (i = 0; i < QUIET_CALLS; i++) {
		a = open(DEV, O_WRONLY | O_TRUNC);	/* empty again */
		kmsg_quiet_call(q, a < 0 ? -1 : 0, 0, 0);
		if (a >= 0)
			close(a);
		kmsg_quiet_call(q, lseek(fd, 0, SEEK_SET), 0, 0);
		kmsg_quiet_call(q, write(fd, data, 10), 10, 0);
		kmsg_quiet_call(q, lseek(fd, 0, SEEK_SET), 0, 0);
		kmsg_quiet_call(q, read(fd, got, sizeof(got)), 10, 0);
		kmsg_quiet_call(q, read(fd, got, sizeof(got)), 0, 0);
		kmsg_quiet_call(q, read(fd, got, 0), 0, 0);
		kmsg_quiet_call(q, write(fd, data, 0), 0, 0);
		kmsg_quiet_call(q, lseek(fd, 0, SEEK_END), 10, 0);
		kmsg_quiet_call(q, lseek(fd, -2, SEEK_CUR), 8, 0);
		kmsg_quiet_call(q, lseek(fd, -1, SEEK_SET), -1, EINVAL);
		kmsg_quiet_call(q, lseek(fd, FLATBUF_SIZE + 1, SEEK_SET), -1,
				EINVAL);
		kmsg_quiet_call(q, lseek(fd, 0, 5), -1, EINVAL);
		kmsg_quiet_call(q, pread(fd, got, sizeof(got), 0), 10, 0);
		kmsg_quiet_call(q, pread(fd, got, sizeof(got), 30), 0, 0);
		kmsg_quiet_call(q, pwrite(fd, data, 4, 20), 4, 0);
		kmsg_quiet_call(q, pwrite(fd, data, 1, FLATBUF_SIZE), -1,
				ENOSPC);
		kmsg_quiet_call(q, pread(fd, bad, 1, 0), -1, EFAULT);
		kmsg_quiet_call(q, pwrite(fd, bad, 1, 0), -1, EFAULT);
		/* Copies that stop part-way at the inaccessible page. */
		kmsg_quiet_call(q, pwrite(fd, edge - 5, 10, 0), 5, 0);
		kmsg_quiet_call(q, pread(fd, edge - 5, 10, 0), 5, 0);
		kmsg_quiet_call(q, lseek(fd, FLATBUF_SIZE, SEEK_SET),
				FLATBUF_SIZE, 0);
		kmsg_quiet_call(q, write(fd, data, 1), -1, ENOSPC);
		kmsg_quiet_call(q, write(fd, bad, 1), -1, ENOSPC);
		kmsg_quiet_call(q, lseek(fd, 0, SEEK_SET), 0, 0);
		kmsg_quiet_call(q, write(fd, data, sizeof(data)),
				FLATBUF_SIZE, 0);
		kmsg_quiet_call(q, write(fd, data, 1), -1, ENOSPC);
	}
	kmsg_quiet_count(q,
			 "reads and writes of bytes and of 0 bytes, reads at the end, ENOSPC, EFAULT, copies that stop part-way at an inaccessible page, pread, pwrite and lseek (EINVAL too)");
	for (i = 0; i < QUIET_CALLS; i++) {
		for (m = 0; m < 3; m++) {
			a = open(DEV, modes[m] | (i & 1 ? O_TRUNC : 0) |
				      (i & 2 ? O_NONBLOCK : 0));
			kmsg_quiet_call(q, a < 0 ? -1 : 0, 0, 0);
			if (a >= 0)
				close(a);
		}
		a = open(DEV, O_WRONLY | O_APPEND | O_TRUNC);
		kmsg_quiet_call(q, a < 0 ? -1 : 0, 0, 0);
		if (a >= 0) {
			kmsg_quiet_call(q, write(a, data, 5), 5, 0);
			kmsg_quiet_call(q, pwrite(a, data, 5, 0), 5, 0);
			close(a);
		}
	}
	kmsg_quiet_count(q,
			 "opens and closes read-only, write-only and read-write, with and without O_TRUNC and O_NONBLOCK, O_APPEND writes");
	for (i = 0; i < QUIET_WAITS; i++)
		quiet_lock_waits(q, fd);
	kmsg_quiet_count(q,
			 "pwrite, pread, lseek(SEEK_END), an O_TRUNC open, and pwrite and pread on an O_NONBLOCK open, waiting for the mutex, that a signal ended (EINTR)");
}

/** @brief Rule 20: the data path logs nothing (pr_debug() at most).
 *
 * Any user can make the calls, and a driver that logs a line for each (a
 * pr_err() for a full buffer or a bad pointer, a pr_info() per read)
 * fills the kernel log. Every way a call can end is taken QUIET_CALLS
 * times: read() and write() that move bytes, of 0 bytes, read() at the
 * end of the data (0), write() and pwrite() with no room (ENOSPC), EFAULT
 * both ways, copies that stop part-way at an unmapped page, pread() and
 * pwrite() inside and past the data, lseek() with
 * each whence and EINVAL, opens with every access mode and with O_TRUNC,
 * O_APPEND and O_NONBLOCK, O_APPEND writes, closes; then each call that
 * waits for the mutex (behind a write frozen in its copy) and that a
 * signal ends with EINTR, QUIET_WAITS times. The module's records at any
 * level are counted (its pr_fmt() prefix, "flatbuf: "); not one may
 * come. A call that returns something else is only noted (the tests of
 * its rule fail it). First, rule 21: the module has no parameter, so no
 * switch root could set at run time makes these calls log.
 */
TEST_F_TIMEOUT(flatbuf, data_path_does_not_log, 60)
{
	static const char *const no_params[] = { NULL };
	struct fault_edge e;
	struct kmsg_quiet q;
	char *bad, *edge, msg[512];

	alarm(0);	/* this test bounds its own waits */
	EXPECT_EQ(0, reload_checks_params_are(MODULE, no_params, msg,
					      sizeof(msg))) {
		TH_LOG("rule 21: %s; rule: flatbuf has no parameter (a debug switch is a pr_debug(), which dynamic debug turns on)",
		       msg);
	}
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	edge = fault_edge_init(&e);
	ASSERT_NE(NULL, edge);
	ASSERT_EQ(0, kmsg_quiet_start(&q, MODULE)) {
		TH_LOG("cannot open /dev/kmsg: %s", strerror(errno));
	}
	quiet_calls(&q, self->fd, bad, edge);
	munmap(e.area, 2 * e.page);
	munmap(bad, 4096);
	kmsg_quiet_end(&q);
	ASSERT_EQ(0, q.read_err) {
		TH_LOG("cannot read /dev/kmsg: %s", strerror(q.read_err));
	}
	EXPECT_EQ(0, q.lines) {
		TH_LOG("rule 20: %d kernel log lines of " MODULE " came while the test made its calls; the first, from %s: \"%.160s\"; rule: " KMSG_QUIET_RULE,
		       q.lines, q.first_when, q.first);
		if (q.off)
			TH_LOG("%d of those calls did not return what the handout says (the tests of those rules check that); whatever a call returns, it logs nothing",
			       q.off);
	}
}

/** @brief The rule data_path_works_with_its_debug_messages_on checks. */
#define DEBUG_ON_RULE "rule 20: pr_debug() at most on the data path, and a message turned on changes nothing else: it prints only what the driver has in kernel memory (never a __user pointer, which only copy_to_user()/copy_from_user() may touch, and never past a buffer's end) and takes no lock"

/** @brief What quiet_calls() needs, for dyndbg_calls_off_and_on(). */
struct quiet_args {
	/** @brief The fixture's descriptor. */
	int fd;
	/** @brief An inaccessible page. */
	char *bad;
	/** @brief The first byte of an inaccessible page, as quiet_calls().
	 */
	char *edge;
};

/** @brief quiet_calls(), as a dyndbg_calls.
 * @param q the record, started
 * @param arg the struct quiet_args
 */
static void quiet_calls_of(struct kmsg_quiet *q, void *arg)
{
	struct quiet_args *a = arg;

	quiet_calls(q, a->fd, a->bad, a->edge);
}

/** @brief Rule 20: the module's pr_debug() messages, turned on with
 *         dynamic debug (dyndbg.h) as a developer does to see what the
 *         driver does, change nothing: the calls of data_path_does_not_log,
 *         made in a child process with the messages off and then on,
 *         return the same both times, and none kills the process (an oops:
 *         a message that reads the user's buffer directly faults under
 *         SMAP). The messages are turned off again before the results are
 *         judged. A kernel without dynamic debug compiles pr_debug() to
 *         nothing: there the test has nothing to turn on, says so, and
 *         passes. */
TEST_F_TIMEOUT(flatbuf, data_path_works_with_its_debug_messages_on, 90)
{
	struct quiet_args a = { .fd = self->fd };
	struct dyndbg_outcome o;
	struct fault_edge e;
	char msg[512];
	int verdict;

	alarm(0);	/* this test bounds its own waits */
	a.bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		     0);
	ASSERT_NE(MAP_FAILED, a.bad);
	a.edge = fault_edge_init(&e);
	ASSERT_NE(NULL, a.edge);
	dyndbg_calls_off_and_on(MODULE, quiet_calls_of, &a, &o);
	verdict = dyndbg_judge(&o, MODULE, DEBUG_ON_RULE, msg, sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, verdict);
	munmap(e.area, 2 * e.page);
	munmap(a.bad, 4096);
}

/*
 * The model-based tests: random calls on the device and on the model of
 * the handout's specification (userspace/file_model.h), compared call by
 * call.
 */

/** @brief Descriptor slots the random calls use. */
#define MODEL_SLOTS 4
/** @brief The largest count a call asks for. */
#define MODEL_MAX_COUNT 4096
/** @brief Calls shown before the one that differs. */
#define MODEL_HISTORY 10
/** @brief What a read's buffer holds before the call. */
#define MODEL_CANARY '~'
/** @brief Seconds a call may take before it counts as hung (nothing on
 *         this device waits but for the lock, which is held only for
 *         the length of a call). */
#define MODEL_CALL_SECS 5

/** @brief The calls a model-based test makes. */
enum model_op {
	OP_OPEN,	/**< open() into a free slot */
	OP_CLOSE,	/**< close() */
	OP_SETFL,	/**< fcntl(F_SETFL): O_APPEND and O_NONBLOCK on or off */
	OP_READ,	/**< read() */
	OP_PREAD,	/**< pread() */
	OP_WRITE,	/**< write() */
	OP_PWRITE,	/**< pwrite() */
	OP_LSEEK,	/**< lseek() */
};

/** @brief One call, as the generator made it. */
struct model_call {
	/** @brief The enum model_op. */
	int op;
	/** @brief The descriptor's slot. */
	int slot;
	/** @brief open()'s or fcntl(F_SETFL)'s flags. */
	int flags;
	/** @brief lseek()'s whence. */
	int whence;
	/** @brief The byte count of a read or write. */
	size_t count;
	/** @brief How many bytes of the buffer are accessible (the rest
	 *         lies in an inaccessible page): count for a good buffer. */
	size_t avail;
	/** @brief The offset of pread(), pwrite(), lseek(). */
	long long offset;
	/** @brief What a write writes. */
	unsigned char data[MODEL_MAX_COUNT];
};

/** @brief What a call did, on the device or in the model. */
struct model_result {
	/** @brief The return value (0 for a successful open). */
	long long ret;
	/** @brief errno when @c ret is -1, else 0. */
	int err;
	/** @brief The descriptor's position after the call, -1 if closed. */
	long long pos;
	/** @brief A read left the bytes of its buffer past those it
	 *         returned alone. */
	int canary_ok;
	/** @brief A read's bytes. */
	unsigned char data[MODEL_MAX_COUNT];
};

/** @brief A process's side of the calls: its descriptors and a buffer
 *         that ends at an inaccessible page. */
struct model_exec {
	/** @brief The device descriptors, by slot; -1 when closed. */
	int fd[MODEL_SLOTS];
	/** @brief Two accessible pages then an inaccessible one. */
	char *area;
	/** @brief The first inaccessible byte. */
	char *edge;
	/** @brief The page size. */
	size_t page;
};

/** @brief Map the buffer; no descriptor is open yet.
 * @param x the executor
 * @return 0, or -1
 */
static int model_exec_init(struct model_exec *x)
{
	int i;

	for (i = 0; i < MODEL_SLOTS; i++)
		x->fd[i] = -1;
	x->page = (size_t)sysconf(_SC_PAGESIZE);
	x->area = mmap(NULL, 3 * x->page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED)
		return -1;
	x->edge = x->area + 2 * x->page;
	return mprotect(x->edge, x->page, PROT_NONE);
}

/** @brief Make call @p c on the device, and look at the result.
 *
 * The buffer ends exactly at the inaccessible page, so only its first
 * c->avail bytes are accessible. A read's buffer holds MODEL_CANARY
 * before the call.
 *
 * @param x the executor
 * @param c the call
 * @param r the result, filled in
 */
static void model_exec_call(struct model_exec *x, const struct model_call *c,
			    struct model_result *r)
{
	char *buf = x->edge - c->avail;
	int fd = x->fd[c->slot];
	int is_read = c->op == OP_READ || c->op == OP_PREAD;
	long long ret = -1;
	size_t i, got;

	r->canary_ok = 1;
	if (is_read)
		memset(buf, MODEL_CANARY, c->avail);
	if (c->op == OP_WRITE || c->op == OP_PWRITE)
		memcpy(buf, c->data, c->avail);
	errno = 0;
	switch (c->op) {
	case OP_OPEN:
		/* A mode, for flags with O_CREAT (fortified libcs insist). */
		ret = open(DEV, c->flags, 0666);
		if (ret >= 0) {
			x->fd[c->slot] = (int)ret;
			ret = 0;
		}
		break;
	case OP_CLOSE:
		ret = close(fd);
		x->fd[c->slot] = -1;
		break;
	case OP_SETFL:
		ret = fcntl(fd, F_SETFL, c->flags);
		break;
	case OP_READ:
		ret = read(fd, buf, c->count);
		break;
	case OP_PREAD:
		ret = pread(fd, buf, c->count, c->offset);
		break;
	case OP_WRITE:
		ret = write(fd, buf, c->count);
		break;
	case OP_PWRITE:
		ret = pwrite(fd, buf, c->count, c->offset);
		break;
	case OP_LSEEK:
		ret = lseek(fd, c->offset, c->whence);
		break;
	}
	r->ret = ret;
	r->err = ret < 0 ? errno : 0;
	if (is_read) {
		got = ret > 0 ? (size_t)ret : 0;
		if (got > c->avail)
			got = c->avail;
		memcpy(r->data, buf, got);
		for (i = got; i < c->avail; i++)
			if (buf[i] != MODEL_CANARY)
				r->canary_ok = 0;
	}
	fd = x->fd[c->slot];
	r->pos = fd < 0 ? -1 : lseek(fd, 0, SEEK_CUR);
}

/** @brief What call @p c does in the model.
 * @param m the model
 * @param c the call
 * @param r the result, filled in
 */
static void model_apply(struct file_model *m, const struct model_call *c,
			struct model_result *r)
{
	long long ret = 0;
	int err = 0;

	switch (c->op) {
	case OP_OPEN:
		file_model_open(m, c->slot, c->flags);
		break;
	case OP_CLOSE:
		file_model_close(m, c->slot);
		break;
	case OP_SETFL:
		file_model_setfl(m, c->slot, c->flags);
		break;
	case OP_READ:
		ret = file_model_read(m, c->slot, r->data, c->count, c->avail,
				      &err);
		break;
	case OP_PREAD:
		ret = file_model_pread(m, c->slot, r->data, c->count,
				       c->avail, c->offset, &err);
		break;
	case OP_WRITE:
		ret = file_model_write(m, c->slot, c->data, c->count,
				       c->avail, &err);
		break;
	case OP_PWRITE:
		ret = file_model_pwrite(m, c->slot, c->data, c->count,
					c->avail, c->offset, &err);
		break;
	case OP_LSEEK:
		ret = file_model_lseek(m, c->slot, c->offset, c->whence, &err);
		break;
	}
	r->ret = ret;
	r->err = ret < 0 ? err : 0;
	r->canary_ok = 1;
	r->pos = m->fd[c->slot].open ? m->fd[c->slot].pos : -1;
}

/** @brief The next number of a splitmix64 generator: deterministic, so a
 *         seed always gives the same calls.
 * @param s the generator's state
 * @return the number
 */
static unsigned long long rng_next(unsigned long long *s)
{
	unsigned long long z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/** @brief A number in [0, @p n).
 * @param s the generator's state
 * @param n the bound, at least 1
 * @return the number
 */
static unsigned long long rng_below(unsigned long long *s,
				    unsigned long long n)
{
	return rng_next(s) % n;
}

/** @brief A random byte count: 0, small, around the capacity, past it.
 * @param s the generator's state
 * @return the count
 */
static size_t gen_count(unsigned long long *s)
{
	unsigned long long r = rng_below(s, 100);

	if (r < 8)
		return 0;
	if (r < 45)
		return 1 + rng_below(s, 8);
	if (r < 70)
		return 9 + rng_below(s, 56);
	if (r < 85)
		return 60 + rng_below(s, 11);
	if (r < 95)
		return 65 + rng_below(s, 136);
	return MODEL_MAX_COUNT;
}

/** @brief A random pread()/pwrite() offset: mostly in [0, 72), some
 *         negative, huge (some 4 or 8 GiB past one in [0, 72), which a
 *         position cut to 32 bits takes back there), or at the end of the
 *         data.
 * @param s the generator's state
 * @param m the model, for the data's length
 * @return the offset
 */
static long long gen_offset(unsigned long long *s, const struct file_model *m)
{
	unsigned long long r = rng_below(s, 100);

	if (r < 73)
		return (long long)rng_below(s, 72);
	if (r < 76)
		return ((long long)(1 + rng_below(s, 2)) << 32) +
		       (long long)rng_below(s, 72);
	if (r < 82)
		return FLATBUF_SIZE;
	if (r < 88)
		return (long long)m->len;
	if (r < 91)
		return -1 - (long long)rng_below(s, 70);
	if (r < 92)
		return LLONG_MIN;
	if (r < 96)
		return (1LL << 40) + (long long)rng_below(s, 1000);
	return LLONG_MAX - (long long)rng_below(s, 8);
}

/** @brief A random lseek(): all three whence values (and refused ones),
 *         targets around [0, 64], and huge offsets.
 * @param s the generator's state
 * @param m the model, for the bases
 * @param c the call, whose whence and offset are set
 */
static void gen_lseek(unsigned long long *s, const struct file_model *m,
		      struct model_call *c)
{
	static const int odd_whence[] = { SEEK_DATA, SEEK_HOLE, 5, -1 };
	static const long long huge[] = {
		LLONG_MAX, LLONG_MIN, LLONG_MAX - 1, LLONG_MIN + 1,
		1LL << 62, -(1LL << 62), 65, -65, 64, -64,
	};
	unsigned long long r = rng_below(s, 100);
	long long base = 0;

	if (r < 30)
		c->whence = SEEK_SET;
	else if (r < 60)
		c->whence = SEEK_CUR;
	else if (r < 92)
		c->whence = SEEK_END;
	else
		c->whence = odd_whence[rng_below(s, 4)];
	if (c->whence == SEEK_CUR)
		base = m->fd[c->slot].pos;
	else if (c->whence == SEEK_END)
		base = (long long)m->len;
	if (rng_below(s, 100) < 85)
		c->offset = (long long)rng_below(s, 71) - 3 - base;
	else
		c->offset = huge[rng_below(s, sizeof(huge) / sizeof(huge[0]))];
}

/** @brief The next random call: an open for a closed slot; otherwise a
 *         read, write, pread, pwrite, lseek, fcntl or close.
 * @param s the generator's state
 * @param m the model (the generator aims at its boundaries)
 * @param c the call, filled in
 */
static void gen_call(unsigned long long *s, const struct file_model *m,
		     struct model_call *c)
{
	static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR, O_RDWR };
	unsigned long long r;
	size_t i;

	memset(c, 0, offsetof(struct model_call, data));
	c->slot = (int)rng_below(s, MODEL_SLOTS);
	if (!m->fd[c->slot].open) {
		c->op = OP_OPEN;
		c->flags = acc[rng_below(s, 4)];
		if (rng_below(s, 4) == 0)
			c->flags |= O_TRUNC;
		if (rng_below(s, 4) == 0)
			c->flags |= O_APPEND;
		if (rng_below(s, 4) == 0)
			c->flags |= O_NONBLOCK;
		/* Flags that change nothing here, as programs pass them. */
		switch (rng_below(s, 8)) {
		case 0:
			c->flags |= O_CREAT;
			break;
		case 1:
			c->flags |= O_SYNC;
			break;
		case 2:
			c->flags |= O_NOCTTY | O_CLOEXEC;
			break;
		}
		return;
	}
	r = rng_below(s, 100);
	if (r < 20)
		c->op = OP_READ;
	else if (r < 30)
		c->op = OP_PREAD;
	else if (r < 52)
		c->op = OP_WRITE;
	else if (r < 62)
		c->op = OP_PWRITE;
	else if (r < 88)
		c->op = OP_LSEEK;
	else if (r < 93)
		c->op = OP_SETFL;
	else
		c->op = OP_CLOSE;
	switch (c->op) {
	case OP_SETFL:
		c->flags = (rng_below(s, 2) ? O_APPEND : 0) |
			   (rng_below(s, 4) ? 0 : O_NONBLOCK);
		break;
	case OP_LSEEK:
		gen_lseek(s, m, c);
		break;
	case OP_READ:
	case OP_PREAD:
	case OP_WRITE:
	case OP_PWRITE:
		c->count = gen_count(s);
		c->avail = c->count;
		if (c->count && rng_below(s, 100) < 10)
			c->avail = rng_below(s, c->count);
		if (c->op == OP_PREAD || c->op == OP_PWRITE)
			c->offset = gen_offset(s, m);
		if (c->op == OP_WRITE || c->op == OP_PWRITE)
			for (i = 0; i < c->count; i++)
				c->data[i] = "abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "0123456789"[rng_below(s, 62)];
		break;
	default:
		break;
	}
}

/** @brief A flags value as C source, e.g. "O_WRONLY|O_TRUNC".
 * @param out where the text goes
 * @param size its size
 * @param flags the flags
 * @param with_mode whether the access mode is part of @p flags
 */
static void flags_text(char *out, size_t size, int flags, int with_mode)
{
	static const char *const mode[] = { "O_RDONLY", "O_WRONLY", "O_RDWR" };

	snprintf(out, size, "%s%s%s%s%s%s%s%s",
		 with_mode ? mode[flags & O_ACCMODE] : "0",
		 flags & O_TRUNC ? "|O_TRUNC" : "",
		 flags & O_APPEND ? "|O_APPEND" : "",
		 flags & O_NONBLOCK ? "|O_NONBLOCK" : "",
		 flags & O_CREAT ? "|O_CREAT" : "",
		 (flags & O_SYNC) == O_SYNC ? "|O_SYNC" : "",
		 flags & O_NOCTTY ? "|O_NOCTTY" : "",
		 flags & O_CLOEXEC ? "|O_CLOEXEC" : "");
	if (!with_mode && flags)
		memmove(out, out + 2, strlen(out + 2) + 1);
}

/** @brief Bytes as a quoted string, zero bytes shown as '.'.
 * @param out where the text goes
 * @param size its size
 * @param data the bytes
 * @param n how many
 */
static void bytes_text(char *out, size_t size, const unsigned char *data,
		       size_t n)
{
	size_t i, o = 0;

	if (n > FLATBUF_SIZE)
		n = FLATBUF_SIZE;
	out[o++] = '"';
	for (i = 0; i < n && o + 3 < size; i++)
		out[o++] = data[i] == 0 ? '.' :
			   (data[i] >= ' ' && data[i] < 127 ? (char)data[i]
							    : '?');
	out[o++] = '"';
	out[o] = '\0';
}

/** @brief An error number's name.
 * @param err the error number
 * @return its name, e.g. "ENOSPC"
 */
static const char *errno_name(int err)
{
	static char other[24];

	switch (err) {
	case EBADF: return "EBADF";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case EFAULT: return "EFAULT";
	case EINTR: return "EINTR";
	case EAGAIN: return "EAGAIN";
	case ESPIPE: return "ESPIPE";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ENODEV: return "ENODEV";
	case ENXIO: return "ENXIO";
	case EOVERFLOW: return "EOVERFLOW";
	case ETIMEDOUT: return "ETIMEDOUT (the call did not return in time)";
	}
	snprintf(other, sizeof(other), "errno %d", err);
	return other;
}

/** @brief A call as C source, e.g. "pwrite(fd2, 10 bytes, 60)".
 * @param out where the text goes
 * @param size its size
 * @param c the call
 */
static void call_text(char *out, size_t size, const struct model_call *c)
{
	static const char *const whence[] = {
		"SEEK_SET", "SEEK_CUR", "SEEK_END", "SEEK_DATA", "SEEK_HOLE",
	};
	char flags[112], count[96];

	if (c->avail < c->count)
		snprintf(count, sizeof(count),
			 "%zu bytes, only the first %zu accessible", c->count,
			 c->avail);
	else
		snprintf(count, sizeof(count), "%zu bytes", c->count);
	switch (c->op) {
	case OP_OPEN:
		flags_text(flags, sizeof(flags), c->flags, 1);
		snprintf(out, size, "fd%d = open(\"%s\", %s%s)", c->slot, DEV,
			 flags, c->flags & O_CREAT ? ", 0666" : "");
		break;
	case OP_CLOSE:
		snprintf(out, size, "close(fd%d)", c->slot);
		break;
	case OP_SETFL:
		flags_text(flags, sizeof(flags), c->flags, 0);
		snprintf(out, size, "fcntl(fd%d, F_SETFL, %s)", c->slot,
			 flags);
		break;
	case OP_READ:
		snprintf(out, size, "read(fd%d, buf, %s)", c->slot, count);
		break;
	case OP_PREAD:
		snprintf(out, size, "pread(fd%d, buf, %s, %lld)", c->slot,
			 count, c->offset);
		break;
	case OP_WRITE:
	case OP_PWRITE:
		bytes_text(flags, sizeof(flags), c->data,
			   c->avail < 16 ? c->avail : 16);
		snprintf(out, size, "%s(fd%d, %s%s, %s", c->op == OP_WRITE ?
			 "write" : "pwrite", c->slot, flags,
			 c->avail > 16 ? "..." : "", count);
		if (c->op == OP_PWRITE)
			snprintf(out + strlen(out), size - strlen(out),
				 ", %lld)", c->offset);
		else
			snprintf(out + strlen(out), size - strlen(out), ")");
		break;
	default:
		if (c->whence >= 0 && c->whence <= SEEK_HOLE)
			snprintf(out, size, "lseek(fd%d, %lld, %s)", c->slot,
				 c->offset, whence[c->whence]);
		else
			snprintf(out, size, "lseek(fd%d, %lld, %d)", c->slot,
				 c->offset, c->whence);
		break;
	}
}

/** @brief A result as text, e.g. "4 \"abcd\", position 4" or
 *         "-1 ENOSPC, position 64".
 * @param out where the text goes
 * @param size its size
 * @param c the call
 * @param r its result
 */
static void result_text(char *out, size_t size, const struct model_call *c,
			const struct model_result *r)
{
	char data[FLATBUF_SIZE + 8];
	size_t n;

	if (r->ret < 0)
		snprintf(out, size, "-1 %s", errno_name(r->err));
	else
		snprintf(out, size, "%lld", r->ret);
	if ((c->op == OP_READ || c->op == OP_PREAD) && r->ret > 0) {
		n = (size_t)r->ret < c->avail ? (size_t)r->ret : c->avail;
		bytes_text(data, sizeof(data), r->data, n);
		snprintf(out + strlen(out), size - strlen(out), " %s", data);
	}
	if (!r->canary_ok)
		snprintf(out + strlen(out), size - strlen(out),
			 " (and bytes past those in the buffer changed)");
	if (r->pos >= 0)
		snprintf(out + strlen(out), size - strlen(out),
			 ", position then %lld", r->pos);
}

/** @brief The handout's rule that decides the model's result of @p c.
 * @param m the model before the call
 * @param c the call
 * @param want the model's result
 * @return the rule, as the handout words it
 */
static const char *rule_for(const struct file_model *m,
			    const struct model_call *c,
			    const struct model_result *want)
{
	const struct file_model_fd *f = &m->fd[c->slot];
	long long pos = c->op == OP_READ || c->op == OP_WRITE ? f->pos
							      : c->offset;

	switch (c->op) {
	case OP_OPEN:
		if ((c->flags & O_TRUNC) && (c->flags & O_ACCMODE) == O_RDONLY)
			return "only an open for writing with O_TRUNC empties the buffer: O_RDONLY | O_TRUNC does not";
		if (c->flags & O_TRUNC)
			return "an open for writing with O_TRUNC empties the buffer (length 0, contents zeroed)";
		return "an open without O_TRUNC changes nothing; the new open file's position is 0";
	case OP_CLOSE:
	case OP_SETFL:
		return "close() and fcntl() change nothing in the buffer";
	case OP_LSEEK:
		return "lseek goes to any position in [0, 64], from SEEK_SET, SEEK_CUR or SEEK_END (the end of the data); anything else fails with EINVAL and leaves the position alone";
	case OP_READ:
	case OP_PREAD:
		if (want->ret < 0 && want->err != EFAULT)
			return "the VFS refuses this call before the driver sees it (EBADF: not open for reading; EINVAL: a bad offset)";
		if (c->count == 0)
			return "a read of 0 bytes returns 0";
		if (pos >= (long long)m->len)
			return "a read at or past the end of the data returns 0";
		if (want->ret < 0)
			return "EFAULT only when nothing could be copied";
		if ((size_t)want->ret == c->avail && c->avail < c->count)
			return "a copy that runs into an inaccessible page transfers the bytes up to it and returns that count";
		return "a read copies up to count bytes from the position up to the end of the data (not of the array) and advances the position by what it copied; pread() leaves the position alone";
	default:
		if (want->ret < 0 && want->err != EFAULT &&
		    want->err != ENOSPC)
			return "the VFS refuses this call before the driver sees it (EBADF: not open for writing; EINVAL: a bad offset)";
		if (c->count == 0)
			return "a write of 0 bytes returns 0 and changes nothing, not even the position";
		if (f->append)
			return "with O_APPEND every write, pwrite() too, goes to the end of the data; ENOSPC if that is 64";
		if (want->ret < 0 && want->err == ENOSPC)
			return "with no room at the position a write fails with ENOSPC";
		if (want->ret < 0)
			return "EFAULT only when nothing could be copied";
		if ((size_t)want->ret == c->avail && c->avail < c->count)
			return "a copy that runs into an inaccessible page writes the bytes up to it, returns that count, and leaves the bytes after it alone";
		return "a write copies to the position what fits in the 64 bytes, returns that count, advances the position by it (pwrite() leaves it alone) and grows the data only if it ends past its end";
	}
}

/** @brief One call of the history. */
struct model_past {
	/** @brief The call's step. */
	int step;
	/** @brief The call, as text. */
	char call[160];
	/** @brief Its result (the model's and the device's agreed). */
	char result[160];
};

/** @brief One model-based run: the model, the device's side, the
 *         history of calls. */
struct model_run {
	/** @brief The model. */
	struct file_model model;
	/** @brief The calls this process makes. */
	struct model_exec local;
	/** @brief The socket to the helper process, or -1 without one. */
	int peer;
	/** @brief The helper process, or -1. */
	pid_t helper;
	/** @brief A descriptor (O_RDONLY) for comparing the whole contents. */
	int check;
	/** @brief The seed being run. */
	unsigned long long seed;
	/** @brief The last calls, a ring. */
	struct model_past past[MODEL_HISTORY];
	/** @brief Calls made so far in this seed. */
	int steps;
	/** @brief The call being made. */
	struct model_call call;
	/** @brief The model's result of it. */
	struct model_result want;
	/** @brief The device's result of it. */
	struct model_result got;
};

/** @brief Whether slot @p slot's calls are made by the helper process.
 * @param run the run
 * @param slot the slot
 * @return nonzero for the helper
 */
static int in_helper(const struct model_run *run, int slot)
{
	return run->helper > 0 && slot % 2 == 1;
}

/** @brief The helper process: makes the calls it receives on @p sock, in
 *         its own descriptors, and sends back their results, until the
 *         socket closes.
 * @param sock its end of the socket pair
 */
static void model_helper_main(int sock)
{
	static struct model_call c;
	static struct model_result r;
	struct model_exec x;

	if (model_exec_init(&x))
		_exit(1);
	while (recv(sock, &c, sizeof(c), 0) == (ssize_t)sizeof(c)) {
		memset(&r, 0, sizeof(r));
		model_exec_call(&x, &c, &r);
		if (send(sock, &r, sizeof(r), 0) != (ssize_t)sizeof(r))
			_exit(1);
	}
	_exit(0);
}

/** @brief Make run->call on the device, in this process or the helper;
 *         the result goes to run->got.
 * @param run the run
 */
static void model_device_call(struct model_run *run)
{
	struct pollfd p = { .fd = run->peer, .events = POLLIN };

	memset(&run->got, 0, sizeof(run->got));
	if (!in_helper(run, run->call.slot)) {
		/* SIGALRM (no SA_RESTART) ends a call that sleeps too long. */
		alarm(MODEL_CALL_SECS);
		model_exec_call(&run->local, &run->call, &run->got);
		alarm(0);
		if (run->got.ret == -1 && run->got.err == EINTR)
			run->got.err = ETIMEDOUT;
		return;
	}
	if (send(run->peer, &run->call, sizeof(run->call), 0) !=
	    (ssize_t)sizeof(run->call) ||
	    poll(&p, 1, MODEL_CALL_SECS * 1000) != 1 ||
	    recv(run->peer, &run->got, sizeof(run->got), 0) !=
	    (ssize_t)sizeof(run->got)) {
		run->got.ret = -1;
		run->got.err = ETIMEDOUT;
		run->got.pos = -1;
		run->got.canary_ok = 1;
	}
}

/** @brief Print the report of a difference: the seed, the step, the
 *         call, both results, the rule, the model's state, the history,
 *         and how to replay it.
 * @param run the run
 * @param before the model before the call
 * @param what what differs
 * @param rule the rule that decides it
 */
static void model_report(struct model_run *run,
			 const struct file_model *before, const char *what,
			 const char *rule)
{
	char text[256], data[FLATBUF_SIZE + 8];
	int i, k;

	fprintf(stderr, "# seed %llu, call %d: the device differs from the model in %s\n",
		run->seed, run->steps, what);
	call_text(text, sizeof(text), &run->call);
	fprintf(stderr, "#   call:   %s%s\n", text,
		in_helper(run, run->call.slot) ? " (in a second process)" : "");
	result_text(text, sizeof(text), &run->call, &run->want);
	fprintf(stderr, "#   model:  %s\n", text);
	result_text(text, sizeof(text), &run->call, &run->got);
	fprintf(stderr, "#   device: %s\n", text);
	fprintf(stderr, "#   rule:   %s\n", rule);
	if (run->got.err == ETIMEDOUT)
		fprintf(stderr, "#   the call did not return within %d s: did an earlier call return with the mutex still locked?\n",
			MODEL_CALL_SECS);
	bytes_text(data, sizeof(data), before->data, before->len);
	fprintf(stderr, "#   before, the model held %zu bytes %s (. = zero byte); positions:",
		before->len, data);
	for (i = 0; i < MODEL_SLOTS; i++) {
		if (before->fd[i].open)
			fprintf(stderr, " fd%d=%lld%s", i, before->fd[i].pos,
				before->fd[i].append ? " (O_APPEND)" : "");
		else
			fprintf(stderr, " fd%d closed", i);
	}
	fprintf(stderr, "\n#   the calls before (all matched the model):\n");
	for (i = MODEL_HISTORY; i > 0; i--) {
		k = run->steps - i;
		if (k < 0)
			continue;
		fprintf(stderr, "#     %4d %s -> %s\n", k,
			run->past[k % MODEL_HISTORY].call,
			run->past[k % MODEL_HISTORY].result);
	}
	fprintf(stderr, "#   replay: make test LAB=01 SEED=%llu\n", run->seed);
}

/** @brief After a call whose results matched, compare the device's
 *         whole contents and length with the model's.
 * @param run the run
 * @param before the model before the call
 * @return 0 if they agree, -1 (after a report) if not
 */
static int model_check_contents(struct model_run *run,
				const struct file_model *before)
{
	const struct file_model *m = &run->model;
	char buf[2 * FLATBUF_SIZE], what[256], a[FLATBUF_SIZE + 8];
	char b[FLATBUF_SIZE + 8];
	long long end;
	ssize_t n;
	size_t i;

	alarm(MODEL_CALL_SECS);
	n = pread(run->check, buf, sizeof(buf), 0);
	end = lseek(run->check, 0, SEEK_END);
	alarm(0);
	if (n == (ssize_t)m->len && end == (long long)m->len &&
	    !memcmp(buf, m->data, m->len))
		return 0;
	bytes_text(a, sizeof(a), (unsigned char *)buf, n > 0 ? (size_t)n : 0);
	bytes_text(b, sizeof(b), m->data, m->len);
	snprintf(what, sizeof(what),
		 "the buffer after the call: pread(fd, buf, 128, 0) on another open gives %zd %s and lseek(SEEK_END) %lld%s; the model holds %zu bytes %s",
		 n, n > 0 ? a : "", end,
		 n < 0 && errno == EINTR ? " (the calls hung)" : "", m->len, b);
	for (i = 0; n > 0 && i < (size_t)n && i < m->len; i++)
		if ((unsigned char)buf[i] != m->data[i])
			break;
	model_report(run, before, what,
		     i < m->len && n > (ssize_t)i && m->data[i] == 0 &&
		     i >= before->len ?
		     "a write past the end of the data leaves a hole that reads as zeros (an O_TRUNC open zeroes the old contents)" :
		     rule_for(before, &run->call, &run->want));
	return -1;
}

/** @brief Run one seed: @p steps random calls from an empty buffer,
 *         each compared with the model, then the whole contents.
 * @param run the run (local executor and helper set up)
 * @param seed the seed
 * @param steps how many calls
 * @return 0 if everything matched, -1 (after a report) if not
 */
static int model_run_seed(struct model_run *run, unsigned long long seed,
			  int steps)
{
	unsigned long long rng = seed;
	struct file_model before;
	const char *what;
	int i, fd, ret = 0;

	run->seed = seed;
	run->steps = 0;
	file_model_init(&run->model);
	fd = open(DEV, O_RDWR | O_TRUNC);
	if (fd < 0)
		return -1;
	close(fd);
	run->check = open(DEV, O_RDONLY);
	if (run->check < 0)
		return -1;
	for (run->steps = 0; run->steps < steps; run->steps++) {
		gen_call(&rng, &run->model, &run->call);
		before = run->model;
		memset(&run->want, 0, sizeof(run->want));
		model_apply(&run->model, &run->call, &run->want);
		model_device_call(run);
		what = NULL;
		if (run->want.ret != run->got.ret ||
		    run->want.err != run->got.err)
			what = "the return value";
		else if (run->want.ret > 0 &&
			 (run->call.op == OP_READ || run->call.op == OP_PREAD) &&
			 memcmp(run->want.data, run->got.data,
				(size_t)run->want.ret))
			what = "the bytes read";
		else if (!run->got.canary_ok)
			what = "the caller's buffer: bytes past those the read returned changed";
		else if (run->want.pos != run->got.pos)
			what = "the file position after the call";
		if (what) {
			model_report(run, &before, what,
				     rule_for(&before, &run->call, &run->want));
			ret = -1;
			break;
		}
		if (model_check_contents(run, &before)) {
			ret = -1;
			break;
		}
		i = run->steps % MODEL_HISTORY;
		run->past[i].step = run->steps;
		call_text(run->past[i].call, sizeof(run->past[i].call),
			  &run->call);
		result_text(run->past[i].result, sizeof(run->past[i].result),
			    &run->call, &run->got);
	}
	/* Close what is open, for the next seed (after a failure, the
	 * helper may be stuck: the test ends anyway). */
	for (i = 0; i < MODEL_SLOTS; i++) {
		if (!run->model.fd[i].open || (ret && in_helper(run, i)))
			continue;
		memset(&run->call, 0, offsetof(struct model_call, data));
		run->call.op = OP_CLOSE;
		run->call.slot = i;
		model_apply(&run->model, &run->call, &run->want);
		model_device_call(run);
	}
	close(run->check);
	return ret;
}

/** @brief The seeds to run: LABKIT_SEED's if set, else @p fixed.
 * @param fixed the graded seeds
 * @param nfixed how many
 * @param out where the seeds go (at least @p nfixed)
 * @return how many seeds, or -1 if LABKIT_SEED is not a number
 */
static int model_seeds(const unsigned long long *fixed, int nfixed,
		       unsigned long long *out)
{
	const char *env = getenv("LABKIT_SEED");
	char *end;
	int i;

	if (env && *env) {
		errno = 0;
		out[0] = strtoull(env, &end, 10);
		if (errno || *end || *env == '-')
			return -1;
		return 1;
	}
	for (i = 0; i < nfixed; i++)
		out[i] = fixed[i];
	return nfixed;
}

/** @brief Run the model-based test over @p nfixed seeds (or LABKIT_SEED's).
 * @param _metadata the test, for the harness's macros
 * @param fixed the graded seeds
 * @param nfixed how many
 * @param steps calls per seed
 * @param helper nonzero to make the calls of odd slots in a second process
 */
static void model_test(struct __test_metadata *_metadata,
		       const unsigned long long *fixed, int nfixed, int steps,
		       int helper)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	static struct model_run run;
	unsigned long long seeds[16];
	int n, i, sv[2], failed = 0;

	n = model_seeds(fixed, nfixed, seeds);
	ASSERT_LT(0, n) {
		TH_LOG("LABKIT_SEED=%s is not a decimal number",
		       getenv("LABKIT_SEED"));
	}
	ASSERT_EQ(0, model_exec_init(&run.local));
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	run.helper = -1;
	run.peer = -1;
	if (helper) {
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
		run.helper = fork_detached();
		ASSERT_LE(0, run.helper);
		if (run.helper == 0) {
			close(sv[0]);
			model_helper_main(sv[1]);
		}
		close(sv[1]);
		run.peer = sv[0];
	}
	for (i = 0; i < n && !failed; i++)
		failed = model_run_seed(&run, seeds[i], steps) != 0;
	if (run.peer >= 0)
		close(run.peer);
	EXPECT_EQ(0, failed) {
		TH_LOG("the device and the model of the handout's table differ: see the call above");
	}
	if (!failed && getenv("LABKIT_SEED"))
		TH_LOG("seed %llu: %d calls matched the model", seeds[0],
		       steps);
}

/* Random calls over four descriptors, each compared with the model:
 * 8 seeds of 600 calls. */
TEST_F_TIMEOUT(flatbuf, matches_the_model, 20)
{
	static const unsigned long long seeds[] = {
		1, 2, 3, 4, 5, 6, 7, 8,
	};

	alarm(0);	/* this test bounds its own waits */
	model_test(_metadata, seeds, 8, 600, 0);
}

/* The same with two processes, each with descriptors of its own. */
TEST_F_TIMEOUT(flatbuf, matches_the_model_across_processes, 20)
{
	static const unsigned long long seeds[] = { 101, 102, 103 };

	alarm(0);	/* this test bounds its own waits */
	model_test(_metadata, seeds, 3, 400, 1);
}

/* Rule 1: the node is mode 0666, so any user makes every call as root
 * does. One seed of matches_the_model_across_processes, made by an
 * ordinary user (nobody.h): uid 65534, no capability but CAP_SYS_PTRACE,
 * in the test process and in its second process. A driver that checks a
 * capability or a user id anywhere on its path (open, O_TRUNC, read,
 * write, lseek, close) answers otherwise than the model. */
TEST_F_TIMEOUT(flatbuf, matches_the_model_as_an_unprivileged_user, 20)
{
	static const unsigned long long seeds[] = { 111 };
	char msg[160];

	alarm(0);	/* this test bounds its own waits */
	ASSERT_EQ(0, nobody_become(msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	model_test(_metadata, seeds, 1, 400, 1);
}

/** @brief Calls queued on the mutex behind a write frozen in its copy
 *         (behind_a_frozen_write()). */
struct behind_write {
	/** @brief The calls, in the order they queued; the last one is
	 *         real-time. */
	struct waiter w[2];
	/** @brief How many. */
	int n;
	/** @brief What the frozen write returned. */
	ssize_t write_ret;
	/** @brief Nonzero when every call slept behind the write and has
	 *         returned since. */
	int ran;
};

/** @brief Rule 18, at the unlock: a 64-byte pwrite() at 0 ('B' then 'C',
 *         frozen_write_start()) is frozen in its copy, holding the mutex;
 *         the calls @p kinds queue behind it in that order, the last one
 *         real-time; then the write goes on.
 *
 * Everything runs on one CPU (cpu_order.h) and, where the kernel can
 * switch, under full preemption (preempt_full.h): the real-time call runs
 * the moment the call ahead of it lets the mutex go, before that call's
 * next line, and sees what the call left under the mutex and nothing it
 * does after its unlock. Without full preemption it runs once the call
 * ahead has returned, and the results must be the same.
 *
 * @param _metadata the test
 * @param fd the descriptor the frozen write uses
 * @param kinds the calls, at most 2
 * @param fds their descriptors (opened before: misc_open() holds the
 *        mutex of all misc devices, which an O_TRUNC open asleep keeps)
 * @param n how many
 * @param b filled in here; waiter_end() its calls afterwards
 * @param when_not what the real-time call comes after without full
 *        preemption, for the log
 */
static void behind_a_frozen_write(struct __test_metadata *_metadata, int fd,
				  const enum waiter_kind *kinds,
				  const int *fds, int n,
				  struct behind_write *b,
				  const char *when_not)
{
	struct cpu_order order;
	struct frozen_write f;
	char why[256], st;
	int i;

	memset(b, 0, sizeof(*b));
	b->n = n;
	b->write_ret = -1;
	/* Before the test is pinned: the switch takes the other CPUs offline. */
	if (preempt_full_begin(&preempt_switched, why, sizeof(why)))
		TH_LOG("(this kernel runs without full preemption, so the real-time %s runs once %s, not at its unlock: %s)",
		       waiter_call[kinds[n - 1]], when_not, why);
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	ASSERT_EQ(1, frozen_write_start(&f, fd)) {
		TH_LOG("the 64-byte write returned %zd without copying all of its buffer (or userfaultfd failed: %s)",
		       f.w.ret, strerror(errno));
	}
	b->ran = 1;
	for (i = 0; i < n; i++) {
		st = waiter_start_how(&b->w[i], kinds[i], fds[i], 0,
				      i == n - 1);
		EXPECT_EQ('S', st) {
			TH_LOG("rule 18: while a write holds the lock (frozen inside copy_from_user()), %s%s must sleep until it is its turn; %s",
			       i == n - 1 ? "a real-time " : "",
			       waiter_call[kinds[i]], not_asleep_because(st));
		}
		b->ran &= st == 'S';
	}
	b->write_ret = frozen_write_finish(&f);
	for (i = 0; i < n; i++) {
		EXPECT_TRUE(waiter_returned(&b->w[i], 5000)) {
			TH_LOG("%s still sleeps after the write%s released the lock",
			       waiter_call[kinds[i]],
			       i ? " and the call ahead of it" : "");
		}
		b->ran &= waiter_returned(&b->w[i], 0);
	}
	cpu_order_unpin(&order);
	EXPECT_EQ(0, preempt_full_end(&preempt_switched)) {
		TH_LOG("cannot switch the kernel back to its preemption model");
	}
}

/*
 * Rules 4 and 18: an O_TRUNC open empties the buffer, its zeroing
 * included, while it holds the mutex. A write of 64 bytes is frozen in
 * its copy, holding the mutex; an O_TRUNC open from another process waits
 * for it, and behind the open a write of 8 bytes at 0 from a real-time
 * process, through a descriptor opened before (behind_a_frozen_write()):
 * when the open lets the mutex go, the write it wakes runs at once,
 * before the open's next line. The three calls then come one after the
 * other, and the buffer must hold what the model of the handout's rules
 * (file_model.h) gives for them in that order: the 8 bytes, not zeros.
 */
TEST_F_TIMEOUT(flatbuf, o_trunc_empties_the_buffer_under_the_lock, 15)
{
	static const enum waiter_kind kinds[] = { WAIT_OPEN_TRUNC, WAIT_WRITE };
	static const char eight[] = "12345678";
	char frozen[FLATBUF_SIZE], buf[2 * FLATBUF_SIZE];
	char got[80], want[80];
	struct waiter *t, *w;
	struct behind_write b;
	struct file_model m;
	ssize_t n, model_ret;
	int fds[2], err = 0;

	alarm(0);	/* this test bounds its own waits */
	fds[0] = -1;
	fds[1] = open(DEV, O_WRONLY);
	ASSERT_LE(0, fds[1]);
	file_model_init(&m);
	file_model_open(&m, 0, O_RDWR | O_TRUNC);	/* the fixture's */
	file_model_open(&m, 1, O_WRONLY);		/* fds[1] */
	behind_a_frozen_write(_metadata, self->fd, kinds, fds, 2, &b,
			      "the O_TRUNC open has returned");
	t = &b.w[0];
	w = &b.w[1];
	memset(frozen, 'B', FLATBUF_SIZE / 2);
	memset(frozen + FLATBUF_SIZE / 2, 'C', FLATBUF_SIZE / 2);
	model_ret = file_model_pwrite(&m, 0, frozen, FLATBUF_SIZE,
				      FLATBUF_SIZE, 0, &err);
	EXPECT_EQ(model_ret, b.write_ret);
	if (b.ran) {
		/* The open, then the write that waited behind it. */
		file_model_open(&m, 2, O_WRONLY | O_TRUNC);
		model_ret = file_model_pwrite(&m, 1, eight, 8, 8, 0, &err);
		EXPECT_EQ(0, t->sh->ret) {
			TH_LOG("the O_TRUNC open failed: %s",
			       strerror(t->sh->err));
		}
		EXPECT_EQ(model_ret, w->sh->ret) {
			TH_LOG("%s, which waited behind the O_TRUNC open, returned %lld (%s), not %zd",
			       waiter_call[WAIT_WRITE], w->sh->ret,
			       w->sh->ret < 0 ? strerror(w->sh->err) : "no error",
			       model_ret);
		}
		n = contents(buf);
		bytes_text(want, sizeof(want), m.data, m.len);
		bytes_text(got, sizeof(got), (const unsigned char *)buf,
			   n > 0 ? (size_t)n : 0);
		EXPECT_TRUE(n == (ssize_t)m.len && !memcmp(buf, m.data, m.len)) {
			TH_LOG("rules 4 and 18: 64 bytes written, then an O_TRUNC open that waited for that write, then %s that waited behind the open and ran the moment the open let the mutex go: the buffer holds %zd bytes, %s ('.' for a zero byte), not the %zu of %s. An O_TRUNC open holds the mutex for its whole access, its zeroing included: old bytes zeroed (memset()) after mutex_unlock() wipe those of a write that took the mutex meanwhile",
			       waiter_call[WAIT_WRITE], n, got, m.len, want);
		}
	}
	waiter_end(t);
	waiter_end(w);
	close(fds[1]);
}

/*
 * Rules 8 and 18: a write sets the length under the mutex, with its
 * bytes. A write of 64 bytes at 0 into the empty buffer is frozen in its
 * copy; a real-time pread() of 64 at 0 waits for the mutex behind it
 * (behind_a_frozen_write()) and runs the moment the write lets the mutex
 * go, before the write's next line: it must get all 64 bytes, as a read
 * after the write does. A length grown after mutex_unlock() is still the
 * old one (0) for that read, which then returns nothing.
 */
TEST_F_TIMEOUT(flatbuf, write_sets_the_length_under_the_lock, 15)
{
	static const enum waiter_kind kinds[] = { WAIT_READ };
	char want[FLATBUF_SIZE], got[80];
	struct behind_write b;
	struct waiter *r;
	int fds[1];

	alarm(0);	/* this test bounds its own waits */
	fds[0] = open(DEV, O_RDONLY);
	ASSERT_LE(0, fds[0]);
	behind_a_frozen_write(_metadata, self->fd, kinds, fds, 1, &b,
			      "the write has returned");
	r = &b.w[0];
	EXPECT_EQ(FLATBUF_SIZE, b.write_ret);
	memset(want, 'B', FLATBUF_SIZE / 2);
	memset(want + FLATBUF_SIZE / 2, 'C', FLATBUF_SIZE / 2);
	if (b.ran) {
		bytes_text(got, sizeof(got), (const unsigned char *)r->sh->buf,
			   r->sh->ret > 0 ? (size_t)r->sh->ret : 0);
		EXPECT_TRUE(r->sh->ret == FLATBUF_SIZE &&
			    !memcmp(r->sh->buf, want, FLATBUF_SIZE)) {
			TH_LOG("rules 8 and 18: a write of 64 bytes at 0 into the empty buffer, then a real-time %s that waited for it and ran the moment the write let the mutex go: it returned %lld (%s) with %s ('.' for a zero byte), not the write's 64 bytes. A write grows len under the mutex, with its bytes: grown after mutex_unlock(), it is still the old length for a call that took the mutex meanwhile (a read, an lseek(SEEK_END), an O_APPEND write)",
			       waiter_call[WAIT_READ], r->sh->ret,
			       r->sh->ret < 0 ? strerror(r->sh->err) : "no error",
			       got);
		}
	}
	waiter_end(r);
	close(fds[0]);
}

/*
 * The device works from the moment its node appears, while init still
 * runs (register last). The module is loaded while a real-time thread on
 * the same CPU (early_caller.h) waits for /dev/flatbuf: the moment it
 * appears, inside misc_register() under full preemption, the thread
 * writes "early" at 0, then starts a write of 8 bytes at 5 that freezes
 * in its copy, holding the mutex, while init goes on. Once the load is
 * through, a read must wait for that mutex, and then get the 13 bytes.
 * A buffer emptied after the registration loses "early"; a mutex set up
 * after it (mutex_init()) is free again under the frozen write, and the
 * read goes through.
 */
TEST_F_TIMEOUT(flatbuf, works_the_moment_its_node_appears, 30)
{
	static const char want[] = EARLY_CALLER_FIRST "FROZEN!!";
	const size_t len = sizeof(want) - 1;
	struct early_load l;
	struct waiter w = { 0 };
	char buf[2 * FLATBUF_SIZE], st = 0;
	int fd = -1;
	ssize_t n;

	alarm(0);	/* this test bounds its own waits */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_NE(0, access(DEV, F_OK));
	early_load_begin(&l, MODULE, DEV, NULL, &preempt_switched);
	if (expect_early_calls(_metadata, &l, DEV,
			       "rule 1: the device works from the moment its node appears; set everything up before the registration (register last)")) {
		fd = open(DEV, O_RDWR);
		EXPECT_LE(0, fd);
	}
	if (l.frozen && fd >= 0) {
		st = waiter_start(&w, WAIT_READ, fd);
		EXPECT_EQ('S', st) {
			TH_LOG("%s made once the load was through should wait for the mutex, which the write frozen in its copy since the node appeared holds: %s. Was the mutex set up (mutex_init()) after misc_register(), under that write? rule 1: the device works from the moment its node appears; set everything up before the registration (register last)",
			       waiter_call[WAIT_READ], waiter_not_asleep(&w, st));
		}
	}
	early_load_end(&l, "FROZEN!!");
	if (w.sh) {
		if (st == 'S') {
			EXPECT_TRUE(waiter_returned(&w, 2000)) {
				TH_LOG("the read still waits once the frozen write has returned");
			}
		}
		waiter_end(&w);
	}
	if (fd < 0)
		return;
	n = contents(buf);
	EXPECT_TRUE(n == (ssize_t)len && !memcmp(buf, want, len)) {
		TH_LOG("the buffer holds %zd bytes, \"%.*s\", not the 13 of \"%s\": \"early\" written at 0 the moment the node appeared, and the 8 bytes of the write frozen then at 5. Was the buffer emptied (len = 0, memset()) after misc_register(), when a caller could already write? rule 1: the device works from the moment its node appears; set everything up before the registration (register last)",
		       n, n > 0 ? (int)n : 0, buf, want);
	}
	close(fd);
}


/* Unloading removes the node; loading again gives an empty, working
 * device. Last, because it unloads the module the other tests use. */
TEST_F_TIMEOUT(flatbuf, unload_removes_node_and_reload_starts_empty, 30)
{
	char buf[FLATBUF_SIZE];
	long long before;
	struct stat st;
	int fd, err;

	alarm(0);	/* this test bounds its own waits */
	ASSERT_EQ(5, write(self->fd, "hello", 5));
	err = module_unload(MODULE);
	EXPECT_EQ(EWOULDBLOCK, err) {
		TH_LOG("rule: while the device is open the module cannot be unloaded (.owner = THIS_MODULE); delete_module() gave %s",
		       err ? strerror(err) : "success");
	}
	if (err == 0)
		return;		/* The teardown loads it again. */
	close(self->fd);
	self->fd = -1;
	/* Processes of earlier tests may still be exiting, files open. */
	err = module_unload_when_free(MODULE, 5000);
	ASSERT_EQ(0, err) {
		TH_LOG("rmmod failed with nothing open: %s", strerror(err));
	}
	EXPECT_NE(0, access(DEV, F_OK)) {
		TH_LOG("rule: after rmmod the node %s is gone (misc_deregister() in the exit function)",
		       DEV);
	}
	EXPECT_NE(0, access("/sys/class/misc/" MODULE, F_OK));
	before = reload_checks_orphans_at_rest();
	err = module_load(MODULE, "");
	ASSERT_EQ(0, err) {
		TH_LOG("loading the module again failed: %s; does the exit function undo everything init did?",
		       strerror(err));
	}
	ASSERT_EQ(0, stat(DEV, &st)) {
		TH_LOG("rule: loading the module again brings %s back", DEV);
	}
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
	fd = open(DEV, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END)) {
		TH_LOG("rule: a freshly loaded module starts with an empty buffer");
	}
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(3, write(fd, "new", 3));
	EXPECT_EQ(3, pread(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "new", 3));
	close(fd);
	/* What that load and open allocated is given back. */
	expect_no_leftovers(_metadata, MODULE, before,
			    "a load, an open, a write, a read, a close and an unload",
			    0);
}

/** @brief A load and an unload of the module that succeed log no error:
 *         every record the kernel log gets while the module is unloaded
 *         and loaded again is below KERN_ERR (pr_info() is fine, a
 *         pr_err() is for a load that fails), with the buffer empty at
 *         the unload and with FLATBUF_SIZE bytes in it (an exit that
 *         reports the data it drops with pr_err() breaks the rule too). */
TEST_F_TIMEOUT(flatbuf, load_and_unload_log_no_error, 30)
{
	char msg[1024], data[FLATBUF_SIZE];
	int round, fd;
	ssize_t n;

	alarm(0);	/* this test bounds its own waits */
	close(self->fd);
	self->fd = -1;
	memset(data, 'k', sizeof(data));
	for (round = 0; round < 2; round++) {
		/* Other tests check the write; this one, the log. */
		if (round) {
			fd = open(DEV, O_WRONLY);
			n = fd < 0 ? -1 : write(fd, data, sizeof(data));
			if (n != FLATBUF_SIZE)
				TH_LOG("(could not leave 64 bytes in %s: %s returned %zd%s%s; the unload is checked with what it holds)",
				       DEV, fd < 0 ? "open" : "write", n,
				       n < 0 ? ", " : "",
				       n < 0 ? strerror(errno) : "");
			if (fd >= 0)
				close(fd);
		}
		EXPECT_EQ(0, kmsg_check_reload(MODULE, msg, sizeof(msg))) {
			TH_LOG("unloaded %s: %s", round ?
			       "with 64 bytes in the buffer" : "empty", msg);
		}
	}
}

/** @brief A registration that fails makes the load fail (rule 1): a
 *         second copy of the module, loaded under another module name
 *         while the module is loaded (module_copy.h), registers a device
 *         whose name is taken; misc_register() fails with EEXIST, and so
 *         must the load, leaving no module behind. The loaded module
 *         goes on working. */
TEST_F_TIMEOUT(flatbuf, a_failed_registration_fails_the_load, 30)
{
	char msg[1024], buf[8] = { 0 };

	alarm(0);	/* this test bounds its own waits */
	EXPECT_EQ(0, module_copy_expect_refused(MODULE, "rule 1: a registration that fails makes the load fail: init checks misc_register()'s result, undoes what it did before it, and returns that error",
						 msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	EXPECT_EQ(2, pwrite(self->fd, "ok", 2, 0)) {
		TH_LOG("after the second copy's load, %s no longer takes a write: %s",
		       DEV, strerror(errno));
	}
	EXPECT_EQ(2, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_STREQ("ok", buf);
}

/** @brief The paths a load of the module that failed must not leave. */
static const char *const flatbuf_gone[] = {
	DEV, "/sys/class/misc/" MODULE, NULL
};

/** @brief The module works: a write of 2 bytes at offset 0 reads back,
 *         an alloc_failures_lab's works.
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int flatbuf_works(char *msg, size_t msg_size)
{
	char buf[4] = { 0 };
	int fd = open(DEV, O_RDWR);
	ssize_t n;

	if (fd < 0) {
		snprintf(msg, msg_size, "%s cannot be opened: %s", DEV,
			 strerror(errno));
		return -1;
	}
	n = pwrite(fd, "ok", 2, 0);
	if (n == 2)
		n = pread(fd, buf, 2, 0);
	close(fd);
	if (n != 2 || strcmp(buf, "ok")) {
		snprintf(msg, msg_size,
			 "%s does not give back the 2 bytes written at offset 0 (\"ok\"): %zd%s%s",
			 DEV, n, n < 0 ? ", " : "", n < 0 ? strerror(errno) : "");
		return -1;
	}
	return 0;
}

/** @brief The module, for alloc_failures.h. */
static const struct alloc_failures_lab flatbuf_lab = {
	.module = MODULE,
	.gone = flatbuf_gone,
	.works = flatbuf_works,
};

/** @brief A load or an open whose allocation fails fails with ENOMEM and
 *         leaves everything as it was (rule 1, alloc_failures.h): each
 *         allocation an open of the device makes, then each one a load
 *         of the module makes (those inside misc_register() included),
 *         is made to fail in turn, one call each. A failed load leaves
 *         no module, node, sysfs entry or object its code allocated.
 *         Only the debug kernel (KVER=debug) can make allocations fail;
 *         on Debian's kernels there is nothing to check. */
TEST_F_TIMEOUT(flatbuf, a_failed_allocation_fails_the_load_or_open, 300)
{
	alarm(0);	/* this test bounds its own waits */
	close(self->fd);
	self->fd = -1;
	if (!expect_open_alloc_failures(_metadata, &flatbuf_lab, DEV, O_RDWR))
		return;
	expect_load_alloc_failures(_metadata, &flatbuf_lab, "");
}

#include "harness_main.h"

LABKIT_HARNESS_MAIN
