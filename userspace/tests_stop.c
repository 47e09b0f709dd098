// SPDX-License-Identifier: GPL-2.0
/** @file tests_stop.c
 * @brief Stopping the tests; see tests_stop.h.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tests_stop.h"

/** @brief The harness's exit status for a failed test (KSFT_FAIL). */
#define KSFT_FAIL_CODE 1

/** @brief The process that runs the tests, or 0 when not noted. */
static pid_t runner;

/** @brief Write @p test and @p why, a line each, to the autograder's
 *         LABKIT_STOP_FILE.
 * @param path the file's path
 * @param test the test's name
 * @param why the reason
 * @return 0, or -1 when the file cannot be written
 */
static int write_stop_file(const char *path, const char *test,
			   const char *why)
{
	char text[1024];
	int fd, len, ok;

	len = snprintf(text, sizeof(text), "%s\n%s\n", test, why);
	if (len < 0 || len >= (int)sizeof(text))
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ok = write(fd, text, len) == len;
	return close(fd) == 0 && ok ? 0 : -1;
}

void tests_stop_note_runner(void)
{
	runner = getpid();
}

void tests_stop_after_this(const char *test, const char *why)
{
	const char *path = getenv("LABKIT_STOP_FILE");

	printf("# the tests stop after %s: %s\n", test, why);
	if (path && *path && write_stop_file(path, test, why))
		printf("# cannot write LABKIT_STOP_FILE: %m\n");
	if (runner > 0)
		kill(runner, SIGKILL);
	else
		printf("# the harness's process is not known: the tests go on\n");
	fflush(stdout);
	fflush(stderr);
	/* No teardown: it could call the driver again. */
	_exit(KSFT_FAIL_CODE);
}

void tests_stop_after_thisf(const char *test, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	tests_stop_after_this(test, why);
}
