// SPDX-License-Identifier: GPL-2.0
/** @file hidden_flatbuf.c
 * @brief Lab 01 hidden tests: graded by the instructor's grader
 *        (grading/grade, Gradescope), never shipped to students.
 *
 * An example of the hidden-test mechanism (see docs/grading.md): a
 * kselftest-harness program of its own, run after the lab's test program
 * while the module is loaded, with its points and their visibility in
 * the file "points" beside it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"

/** @brief The device under test. */
#define DEV "/dev/flatbuf"
/** @brief The buffer's capacity, as the handout specifies. */
#define FLATBUF_SIZE 64
/** @brief Seconds the harness gives one test before killing it. */
#define TIMEOUT 5

/** @brief Per-test state: a descriptor on an emptied device. */
FIXTURE(hidden) {
	/** @brief Opened O_RDWR | O_TRUNC by the setup. */
	int fd;
};

/** @brief Every test starts from an empty buffer. */
FIXTURE_SETUP(hidden)
{
	self->fd = open(DEV, O_RDWR | O_TRUNC);
	ASSERT_LE(0, self->fd) {
		TH_LOG("cannot open %s: %s", DEV, strerror(errno));
	}
}

/** @brief Close the fixture's descriptor. */
FIXTURE_TEARDOWN(hidden)
{
	close(self->fd);
}

/** @brief pwrite() and pread() work at the offset they are given and
 *         leave the file offset alone: a driver must use *ppos, not
 *         file->f_pos. */
TEST_F_TIMEOUT(hidden, pwrite_pread_keep_the_file_offset, TIMEOUT)
{
	char want[13] = { 0 };
	char got[13];

	memcpy(want + 10, "xyz", 3);
	ASSERT_EQ(3, pwrite(self->fd, "xyz", 3, 10));
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR)) {
		TH_LOG("pwrite() moved the file offset");
	}
	ASSERT_EQ(13, pread(self->fd, got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	EXPECT_EQ(0, lseek(self->fd, 0, SEEK_CUR)) {
		TH_LOG("pread() moved the file offset");
	}
}

/** @brief 64 one-byte appends, each through a new open, fill the buffer;
 *         the 65th fails with ENOSPC. */
TEST_F_TIMEOUT(hidden, one_byte_appends_fill_it_exactly, TIMEOUT)
{
	int i;

	for (i = 0; i < FLATBUF_SIZE; i++) {
		int fd = open(DEV, O_WRONLY | O_APPEND);

		ASSERT_LE(0, fd);
		ASSERT_EQ(1, write(fd, "a", 1)) {
			TH_LOG("append %d of %d failed", i + 1, FLATBUF_SIZE);
		}
		close(fd);
	}
	ASSERT_EQ(FLATBUF_SIZE, lseek(self->fd, 0, SEEK_END));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "b", 1));
	EXPECT_EQ(ENOSPC, errno);
}

#include "harness_main.h"

LABKIT_HARNESS_MAIN
