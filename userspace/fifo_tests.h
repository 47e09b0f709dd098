/* SPDX-License-Identifier: GPL-2.0 */
/** @file fifo_tests.h
 * @brief The tests every FIFO lab passes: a 64-byte first-in, first-out
 *        device that every process shares (Lab 02 onwards).
 *
 * Define FIFO_DEV (the device node) before including this header in a
 * lab's test program; the lab's own tests then go after it, on the same
 * fixture, "fifo". Each test here is a kselftest-harness TEST_F; the
 * autograder names them without the fixture, as in "readers_take_turns".
 *
 * The fixture opens FIFO_DEV without O_NONBLOCK and reads it empty, so
 * these tests fit devices whose reads on an empty FIFO return 0 (Labs 02
 * and 03); a blocking device (Lab 04) needs a fixture that drains with
 * O_NONBLOCK.
 */
#ifndef LABKIT_FIFO_TESTS_H
#define LABKIT_FIFO_TESTS_H

#ifndef FIFO_DEV
#error "define FIFO_DEV, the device under test, before including fifo_tests.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "copy_stall.h"
#include "task_state.h"

/** @brief The FIFO's capacity, as the handouts specify. */
#define FIFO_SIZE 64
/** @brief Seconds the harness gives one test before killing it. */
#define TIMEOUT 5
/** @brief The major number every misc device shares. */
#define MISC_MAJOR 10

/** @brief Per-test state: a descriptor on an emptied device. */
FIXTURE(fifo) {
	/** @brief Opened O_RDWR by the setup, the FIFO drained. */
	int fd;
};

/** @brief Open the device and read it empty: every test starts there. */
FIXTURE_SETUP(fifo)
{
	char buf[FIFO_SIZE];
	int rounds = 0;

	self->fd = open(FIFO_DEV, O_RDWR);
	ASSERT_LE(0, self->fd) {
		TH_LOG("cannot open %s: %s", FIFO_DEV, strerror(errno));
	}
	while (read(self->fd, buf, sizeof(buf)) > 0 && ++rounds < 100)
		;
}

/** @brief Close the fixture's descriptor. */
FIXTURE_TEARDOWN(fifo)
{
	close(self->fd);
}

/** @brief Read until read() returns 0 or @p size bytes are in; return the
 *         count, or -1 on error. */
static ssize_t drain(int fd, char *buf, size_t size)
{
	size_t total = 0;
	ssize_t n;

	while (total < size) {
		n = read(fd, buf + total, size - total);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		total += (size_t)n;
	}
	return (ssize_t)total;
}

TEST_F_TIMEOUT(fifo, node_is_world_rw_char_device, TIMEOUT)
{
	struct stat st;

	ASSERT_EQ(0, stat(FIFO_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
	EXPECT_EQ(0666, st.st_mode & 07777);
}

/* The seed program: write, then read back on the same descriptor. */
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

TEST_F_TIMEOUT(fifo, read_empty_returns_zero, TIMEOUT)
{
	char buf[8];

	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
}

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
	ASSERT_EQ(8, drain(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "abcdefgh", 8));
}

TEST_F_TIMEOUT(fifo, read_consumes_what_it_returns, TIMEOUT)
{
	char buf[16];

	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	ASSERT_EQ(4, read(self->fd, buf, 4));
	EXPECT_EQ(0, memcmp(buf, "0123", 4));
	ASSERT_EQ(6, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "456789", 6));
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
}

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
	ASSERT_EQ(FIFO_SIZE, drain(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, data, FIFO_SIZE));
}

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

TEST_F_TIMEOUT(fifo, wraps_around_the_end, TIMEOUT)
{
	char data[100], buf[FIFO_SIZE];
	int i;

	for (i = 0; i < 100; i++)
		data[i] = (char)('A' + i % 50);
	ASSERT_EQ(60, write(self->fd, data, 60));
	ASSERT_EQ(50, read(self->fd, buf, 50));
	ASSERT_EQ(40, write(self->fd, data + 60, 40));
	ASSERT_EQ(50, drain(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, data + 50, 50));
}

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

/* A fault on the user's buffer fails the call and loses nothing. */
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

/* A read whose buffer ends in an inaccessible page returns what it could
 * copy, and the rest stays in the FIFO. */
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
	m = drain(self->fd, rest, sizeof(rest));
	EXPECT_EQ(8 - n, m) {
		TH_LOG("the bytes that were not copied must stay in the FIFO");
	}
	EXPECT_EQ(0, memcmp(got, "ABCDEFGH", (size_t)n));
	EXPECT_EQ(0, memcmp(rest, "ABCDEFGH" + n, (size_t)m));
}

/** @brief A thread doing one read() or write() on the FIFO. */
struct fifo_call {
	/** @brief The descriptor. */
	int fd;
	/** @brief The buffer. */
	char *buf;
	/** @brief Bytes to transfer. */
	size_t count;
	/** @brief Nonzero for write(), zero for read(). */
	int is_write;
	/** @brief The thread's id, for /proc. */
	pid_t tid;
	/** @brief What the call returned. */
	ssize_t ret;
	/** @brief Set when the call returned. */
	atomic_int done;
	/** @brief Written to just before the call, or -1. */
	int ready_pipe;
	/** @brief Written to when the call returned, or -1. */
	int done_pipe;
};

/** @brief Thread body: make the one call described by @p arg.
 * @param arg the struct fifo_call
 * @return NULL
 */
static void *fifo_call_main(void *arg)
{
	struct fifo_call *c = arg;

	c->tid = gettid();
	if (c->ready_pipe >= 0 && write(c->ready_pipe, "", 1) != 1)
		return NULL;
	c->ret = c->is_write ? write(c->fd, c->buf, c->count)
			     : read(c->fd, c->buf, c->count);
	atomic_store(&c->done, 1);
	if (c->done_pipe >= 0 && write(c->done_pipe, "", 1) != 1)
		c->ret = -2;
	return NULL;
}

/*
 * One call is frozen half-way through its copy (copy_stall.h) while a
 * second call of the same kind runs: with the readers' (or writers')
 * mutex, the second waits or goes after the first; without it, both work
 * on the same bytes of the FIFO. Returns the bytes the FIFO holds at the
 * end in @p out (for writes) or the two reads' bytes (for reads).
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
	ASSERT_EQ(48, drain(self->fd, buf, sizeof(buf)));
	EXPECT_TRUE(!memcmp(buf, a_then_b, 48) || !memcmp(buf, b_then_a, 48)) {
		TH_LOG("the FIFO holds \"%.48s\": two writes got mixed; writers must take turns",
		       buf);
	}
}

/** @brief Shared state of the many-readers, many-writers test. */
struct crowd {
	/** @brief The device. */
	int fd;
	/** @brief Bytes read so far by all readers. */
	atomic_long read_total;
	/** @brief How often each byte value was read. */
	atomic_long seen[256];
};

/** @brief Bytes each writer writes. */
#define CROWD_BYTES 3000
/** @brief Writers, and readers. */
#define CROWD_THREADS 4

/** @brief Argument of a crowd writer: the crowd and the writer's number. */
struct crowd_writer {
	/** @brief The shared state. */
	struct crowd *crowd;
	/** @brief 0 to CROWD_THREADS - 1: the byte value it writes. */
	int id;
};

/** @brief Thread body: write CROWD_BYTES bytes of value 'a' + id,
 *         retrying while the FIFO is full.
 * @param arg the struct crowd_writer
 * @return NULL, or (void *)1 on an unexpected error
 */
static void *crowd_writer_main(void *arg)
{
	struct crowd_writer *w = arg;
	char chunk[24];
	long left = CROWD_BYTES;
	ssize_t n;

	memset(chunk, 'a' + w->id, sizeof(chunk));
	while (left > 0) {
		n = write(w->crowd->fd, chunk,
			  left < (long)sizeof(chunk) ? (size_t)left
						     : sizeof(chunk));
		if (n > 0)
			left -= n;
		else if (n < 0 && errno == ENOSPC)
			sched_yield();
		else
			return (void *)1;
	}
	return NULL;
}

/** @brief Thread body: read and count bytes until all were read.
 * @param arg the struct crowd
 * @return NULL, or (void *)1 on an unexpected error
 */
static void *crowd_reader_main(void *arg)
{
	struct crowd *c = arg;
	unsigned char buf[40];
	ssize_t n, i;

	while (atomic_load(&c->read_total) <
	       (long)CROWD_BYTES * CROWD_THREADS) {
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0)
			return (void *)1;
		if (n == 0) {
			sched_yield();
			continue;
		}
		for (i = 0; i < n; i++)
			atomic_fetch_add(&c->seen[buf[i]], 1);
		atomic_fetch_add(&c->read_total, n);
	}
	return NULL;
}

/* Four writers and four readers at once: every byte comes out once. */
TEST_F_TIMEOUT(fifo, many_readers_and_writers_lose_nothing, 30)
{
	struct crowd c = { .fd = self->fd };
	struct crowd_writer w[CROWD_THREADS];
	pthread_t wt[CROWD_THREADS], rt[CROWD_THREADS];
	void *wres[CROWD_THREADS], *rres[CROWD_THREADS];
	int i;

	for (i = 0; i < CROWD_THREADS; i++) {
		w[i].crowd = &c;
		w[i].id = i;
		ASSERT_EQ(0, pthread_create(&rt[i], NULL, crowd_reader_main,
					    &c));
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, crowd_writer_main,
					    &w[i]));
	}
	for (i = 0; i < CROWD_THREADS; i++) {
		pthread_join(wt[i], &wres[i]);
		pthread_join(rt[i], &rres[i]);
		EXPECT_EQ(NULL, wres[i]);
		EXPECT_EQ(NULL, rres[i]);
	}
	EXPECT_EQ((long)CROWD_BYTES * CROWD_THREADS,
		  atomic_load(&c.read_total));
	for (i = 0; i < CROWD_THREADS; i++)
		EXPECT_EQ(CROWD_BYTES, atomic_load(&c.seen['a' + i])) {
			TH_LOG("writer %d's bytes came out %ld times, not %d",
			       i, atomic_load(&c.seen['a' + i]), CROWD_BYTES);
		}
}

#endif /* LABKIT_FIFO_TESTS_H */
