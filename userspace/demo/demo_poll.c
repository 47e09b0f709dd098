// SPDX-License-Identifier: GPL-2.0
/** @file demo_poll.c
 * @brief Classroom demo helper (Lab 05): one process waits on several
 *        devices at once with poll() and says which one woke it.
 *
 * Usage: demo_poll COUNT DEVICE... Opens every DEVICE for non-blocking
 * reads, then until it has read COUNT times: sleeps in poll() on all of
 * them, and for each readable one reads what is there and prints it.
 * Counting reads rather than wake-ups keeps a demo's script exact: two
 * writes may wake it once or twice, depending on who runs first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** @brief Most devices the demo watches. */
#define MAX_DEVICES 32

/** @brief Print LEN bytes of BUF with newlines and other control bytes
 *         escaped.
 *  @param buf the bytes
 *  @param len how many
 */
static void print_escaped(const char *buf, ssize_t len)
{
	ssize_t i;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n')
			fputs("\\n", stdout);
		else if (buf[i] < ' ' || buf[i] > '~')
			printf("\\x%02x", (unsigned char)buf[i]);
		else
			putchar(buf[i]);
	}
}

/** @brief Watch the devices named on the command line.
 *  @param argc argument count
 *  @param argv COUNT, then the devices
 *  @return 0 after COUNT reads, 1 on an error
 */
int main(int argc, char **argv)
{
	struct pollfd fds[MAX_DEVICES];
	int n = argc - 2, reads, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3 || n > MAX_DEVICES) {
		fprintf(stderr, "usage: demo_poll COUNT DEVICE...\n");
		return 1;
	}
	reads = atoi(argv[1]);
	for (i = 0; i < n; i++) {
		fds[i].fd = open(argv[i + 2], O_RDONLY | O_NONBLOCK);
		fds[i].events = POLLIN;
		if (fds[i].fd < 0) {
			fprintf(stderr, "demo_poll: %s: %s\n", argv[i + 2],
				strerror(errno));
			return 1;
		}
	}
	while (reads > 0) {
		int ready;

		printf("poller: asleep in poll() on %d devices\n", n);
		ready = poll(fds, n, -1);
		if (ready < 0) {
			perror("demo_poll: poll");
			return 1;
		}
		printf("poller: woke up, %d device(s) readable\n", ready);
		for (i = 0; i < n; i++) {
			char buf[64];
			ssize_t got;

			if (!(fds[i].revents & POLLIN))
				continue;
			got = read(fds[i].fd, buf, sizeof(buf));
			reads--;
			printf("poller:   %s: read %zd bytes \"", argv[i + 2], got);
			print_escaped(buf, got);
			printf("\"\n");
		}
	}
	return 0;
}
