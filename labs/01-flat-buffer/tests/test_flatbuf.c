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
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "copy_stall.h"
#include "task_state.h"

/** @brief The device under test. */
#define DEV "/dev/flatbuf"
/** @brief The buffer's capacity, as the handout specifies. */
#define FLATBUF_SIZE 64
/** @brief Seconds the harness gives one test before killing it. */
#define TIMEOUT 5
/** @brief The major number every misc device shares. */
#define MISC_MAJOR 10

/** @brief Per-test state: a descriptor on an emptied device. */
FIXTURE(flatbuf) {
	/** @brief Opened O_RDWR | O_TRUNC by the setup. */
	int fd;
};

/** @brief Every test starts from an empty buffer, which takes a working
 *         O_TRUNC. */
FIXTURE_SETUP(flatbuf)
{
	self->fd = open(DEV, O_RDWR | O_TRUNC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("cannot open %s: %s", DEV, strerror(errno));
	}
}

/** @brief Close the fixture's descriptor, unless a test did. */
FIXTURE_TEARDOWN(flatbuf)
{
	if (self->fd >= 0)
		close(self->fd);
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

TEST_F_TIMEOUT(flatbuf, node_is_world_rw_char_device, TIMEOUT)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(0666, st.st_mode & 07777) {
		TH_LOG("%s has mode %04o; every user must be able to read and write it",
		       DEV, st.st_mode & 07777);
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

TEST_F_TIMEOUT(flatbuf, read_stops_at_end_of_data, TIMEOUT)
{
	char buf[FLATBUF_SIZE];

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	EXPECT_EQ(10, pread(self->fd, buf, sizeof(buf), 0)) {
		TH_LOG("10 bytes were written: a read of 64 must return 10");
	}
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	EXPECT_EQ(4, pread(self->fd, buf, sizeof(buf), 6));
	EXPECT_EQ(0, pread(self->fd, buf, sizeof(buf), 10)) {
		TH_LOG("a read at the end of the data must return 0 (end of file)");
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
		TH_LOG("read() never returned 0: does it advance *ppos?");
	}
	ASSERT_EQ(23, n);
	EXPECT_EQ(0, memcmp(buf, msg, 23));
}

TEST_F_TIMEOUT(flatbuf, write_is_cut_short_at_the_end, TIMEOUT)
{
	char buf[FLATBUF_SIZE], zeros[60] = { 0 };

	EXPECT_EQ(4, pwrite(self->fd, "ABCDEFGHIJ", 10, 60)) {
		TH_LOG("at offset 60 only 4 of 10 bytes fit: write must return 4");
	}
	ASSERT_EQ(FLATBUF_SIZE, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf + 60, "ABCD", 4));
	EXPECT_EQ(0, memcmp(buf, zeros, 60));
}

/* A write that returns 0 makes echo and cat retry forever. */
TEST_F_TIMEOUT(flatbuf, write_when_full_fails_with_enospc, TIMEOUT)
{
	char big[100], buf[FLATBUF_SIZE];

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(FLATBUF_SIZE, write(self->fd, big, sizeof(big)));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "y", 1)) {
		TH_LOG("a write with no room left must fail, not return 0");
	}
	EXPECT_EQ(ENOSPC, errno);
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, "y", 1, FLATBUF_SIZE));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ(FLATBUF_SIZE, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, big, FLATBUF_SIZE));
}

TEST_F_TIMEOUT(flatbuf, o_trunc_empties_the_buffer, TIMEOUT)
{
	char buf[4 * FLATBUF_SIZE];

	ASSERT_EQ(11, write(self->fd, "hello world", 11));
	ASSERT_EQ(11, read_to_eof(buf, sizeof(buf), sizeof(buf))) {
		TH_LOG("data must survive an open without O_TRUNC");
	}
	ASSERT_EQ(2, write_once(O_WRONLY | O_TRUNC, "hi"));
	EXPECT_EQ(2, read_to_eof(buf, sizeof(buf), sizeof(buf))) {
		TH_LOG("an open with O_TRUNC must empty the buffer first");
	}
	EXPECT_EQ(0, memcmp(buf, "hi", 2));
}

TEST_F_TIMEOUT(flatbuf, o_append_appends, TIMEOUT)
{
	char buf[4 * FLATBUF_SIZE];
	int app;

	app = open(DEV, O_WRONLY | O_APPEND);
	ASSERT_LE(0, app);
	ASSERT_EQ(4, write(self->fd, "1234", 4));
	/* app's own position is still 0: O_APPEND must go to the end. */
	EXPECT_EQ(2, write(app, "ab", 2));
	EXPECT_EQ(1, write(app, "c", 1));
	close(app);
	ASSERT_EQ(7, read_to_eof(buf, sizeof(buf), sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "1234abc", 7));
}

TEST_F_TIMEOUT(flatbuf, lseek_moves_within_the_buffer, TIMEOUT)
{
	char buf[2];

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	EXPECT_EQ(10, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(3, lseek(self->fd, 3, SEEK_SET));
	ASSERT_EQ(2, read(self->fd, buf, 2));
	EXPECT_EQ(0, memcmp(buf, "34", 2));
	EXPECT_EQ(0, lseek(self->fd, -5, SEEK_CUR));
	EXPECT_EQ(10, lseek(self->fd, 0, SEEK_END)) {
		TH_LOG("SEEK_END is relative to the end of the data");
	}
	EXPECT_EQ(0, lseek(self->fd, -10, SEEK_END));
	EXPECT_EQ(FLATBUF_SIZE, lseek(self->fd, 54, SEEK_END));
	EXPECT_EQ(FLATBUF_SIZE, lseek(self->fd, FLATBUF_SIZE, SEEK_SET));

	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, FLATBUF_SIZE + 1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, -1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, 55, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, -11, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, LLONG_MAX, SEEK_CUR)) {
		TH_LOG("an offset that overflows must be refused");
	}
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(FLATBUF_SIZE, lseek(self->fd, 0, SEEK_CUR)) {
		TH_LOG("a refused lseek must leave the position where it was");
	}
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
	ASSERT_EQ(31, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, zeros, 30)) {
		TH_LOG("old bytes reappeared: empty the buffer's contents, not just its length");
	}
	EXPECT_EQ('y', buf[30]);
}

/* A pointer into a page the process may not touch: the kernel must
 * return -EFAULT, not oops. */
TEST_F_TIMEOUT(flatbuf, bad_pointer_gives_efault, TIMEOUT)
{
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);

	ASSERT_NE(MAP_FAILED, bad);

	errno = 0;
	EXPECT_EQ(-1, write(self->fd, bad, 10)) {
		TH_LOG("check what copy_from_user() returns");
	}
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(10, pwrite(self->fd, "0123456789", 10, 0));
	errno = 0;
	EXPECT_EQ(-1, pread(self->fd, bad, 10, 0)) {
		TH_LOG("check what copy_to_user() returns");
	}
	EXPECT_EQ(EFAULT, errno);
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

/** @brief A thread doing one pread() of the whole buffer at offset 0. */
struct racing_read {
	/** @brief Where to read from. */
	int fd;
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

/** @brief Thread body: a read racing the frozen write.
 * @param arg the struct racing_read
 * @return NULL
 */
static void *racing_read_main(void *arg)
{
	struct racing_read *r = arg;

	r->tid = gettid();
	if (write(r->ready_pipe, "", 1) != 1)
		return NULL;
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
 * before the write or as it is after it, never half of each.
 */
TEST_F_TIMEOUT(flatbuf, reader_never_sees_half_a_write, 15)
{
	struct stalled_write w = { .fd = self->fd };
	struct racing_read r = { .fd = self->fd };
	struct copy_stall cs;
	int done[2], ready[2], stalled;
	pthread_t wt, rt;
	char old[FLATBUF_SIZE], c;

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
		TH_LOG("the read saw half of a write: \"%.*s\"; read and write must hold the same lock",
		       FLATBUF_SIZE, r.buf);
	}
}

TEST_HARNESS_MAIN
