// SPDX-License-Identifier: GPL-2.0
/** @file test_nbfifo.c
 * @brief Lab 03 tests: /dev/nbfifo is Lab 02's FIFO, plus O_NONBLOCK.
 *
 * Every FIFO test of Lab 02 (userspace/fifo_tests.h) runs unchanged: without
 * O_NONBLOCK the device behaves as before. The tests below check the new
 * concept. kselftest harness: each test runs in a forked process with a
 * timeout; tests/grade.sh turns the results into points.
 */
#define _GNU_SOURCE

/** @brief The device under test. */
#define FIFO_DEV "/dev/nbfifo"

#include "fifo_tests.h"

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

/* The course notes' program, run on an empty FIFO. */
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

/* O_NONBLOCK set or cleared after open counts from the next call on. */
TEST_F_TIMEOUT(fifo, fcntl_nonblock_takes_effect, TIMEOUT)
{
	int flags = fcntl(self->fd, F_GETFL);
	char c;

	ASSERT_LE(0, flags);
	EXPECT_EQ(0, read(self->fd, &c, 1));
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags | O_NONBLOCK));
	errno = 0;
	EXPECT_EQ(-1, read(self->fd, &c, 1)) {
		TH_LOG("check file->f_flags at every call, not once at open");
	}
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, flags));
	EXPECT_EQ(0, read(self->fd, &c, 1));
}

TEST_HARNESS_MAIN
