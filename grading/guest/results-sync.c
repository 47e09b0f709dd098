// SPDX-License-Identifier: GPL-2.0
/** @file results-sync.c
 * @brief Tell the test program that its results so far have left the VM.
 *
 * The autograder (autograde.sh) runs this when it reads the test
 * program's "# labkit-results-sync SEQ" line (userspace/results_sync.h),
 * after it has written out every line before it: the program waits for
 * SEQ before it starts its next test, so that a test that crashes the
 * kernel cannot take the results before it down with the machine.
 *
 * First the results tty (this program's stdout, as the autograder's) is
 * drained: tty writes return as soon as the data is queued. On a
 * stdout that is not a tty (a native run) there is nothing to drain.
 * Then SEQ goes to FIFO, opened without blocking: a test program that
 * is gone (killed, stopped) leaves no reader, and nothing waits.
 *
 * Usage: results-sync FIFO SEQ. Exit status 0, or 1 when SEQ could not
 * be sent (the program then waits out its own limit and goes on).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[32];
	int fd, len;

	if (argc != 3 || !argv[2][0] ||
	    strspn(argv[2], "0123456789") != strlen(argv[2]) ||
	    strlen(argv[2]) > 20) {
		fprintf(stderr, "usage: results-sync FIFO SEQ\n");
		return 2;
	}
	if (tcdrain(STDOUT_FILENO) && errno != ENOTTY && errno != EINVAL)
		perror("results-sync: tcdrain");
	fd = open(argv[1], O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 1;
	len = snprintf(line, sizeof(line), "%s\n", argv[2]);
	if (write(fd, line, (size_t)len) != len) {
		close(fd);
		return 1;
	}
	return close(fd) ? 1 : 0;
}
