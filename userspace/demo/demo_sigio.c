// SPDX-License-Identifier: GPL-2.0
/** @file demo_sigio.c
 * @brief Classroom demo helper (Lab 06): a process that does not read
 *        until the driver tells it, with SIGIO, that there is data.
 *
 * Usage: demo_sigio COUNT DEVICE. Asks for SIGIO on DEVICE (F_SETOWN,
 * O_ASYNC, and F_SETSIG so that the signal says why), then COUNT times:
 * waits in sigsuspend() with nothing to do, and when the handler has
 * seen SIGIO for data (POLL_IN), prints what the signal said and reads
 * the data. A SIGIO for room (POLL_OUT, which its own reads cause) is
 * shown and not counted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/** @brief The last SIGIO's si_code, set by the handler. */
static volatile sig_atomic_t last_code;
/** @brief The last SIGIO's si_band, set by the handler. */
static volatile sig_atomic_t last_band;
/** @brief Set by the handler when a SIGIO came. */
static volatile sig_atomic_t seen;

/** @brief SIGIO handler: note what the signal says (and nothing else:
 *         printing is not async-signal-safe).
 *  @param sig the signal
 *  @param info why it was sent
 *  @param ctx unused
 */
static void on_sigio(int sig, siginfo_t *info, void *ctx)
{
	(void)sig;
	(void)ctx;
	last_code = info->si_code;
	last_band = info->si_band;
	seen = 1;
}

/** @brief Wait for SIGIO on the device named on the command line.
 *  @param argc argument count
 *  @param argv COUNT and DEVICE
 *  @return 0 after COUNT signals, 1 on an error
 */
int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigio,
				.sa_flags = SA_SIGINFO };
	sigset_t blocked, waiting;
	int fd, rounds;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3) {
		fprintf(stderr, "usage: demo_sigio COUNT DEVICE\n");
		return 1;
	}
	rounds = atoi(argv[1]);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGIO);
	/* Blocked until sigsuspend(): no SIGIO can slip in between. */
	sigprocmask(SIG_BLOCK, &blocked, &waiting);
	sigdelset(&waiting, SIGIO);
	sigaction(SIGIO, &sa, NULL);
	fd = open(argv[2], O_RDONLY | O_NONBLOCK);
	if (fd < 0 || fcntl(fd, F_SETOWN, getpid()) < 0 ||
	    fcntl(fd, F_SETSIG, SIGIO) < 0 ||
	    fcntl(fd, F_SETFL, O_RDONLY | O_NONBLOCK | O_ASYNC) < 0) {
		fprintf(stderr, "demo_sigio: %s: %s\n", argv[2],
			strerror(errno));
		return 1;
	}
	while (rounds-- > 0) {
		char buf[64];
		ssize_t got;

		printf("listener: nothing to do, waiting for SIGIO\n");
		seen = 0;
		while (!seen)
			sigsuspend(&waiting);
		if (last_code == POLL_OUT) {
			/* Its own read made room: not what it waits for. */
			printf("listener: SIGIO, si_code POLL_OUT, si_band %#lx: room to write, nothing to read\n",
			       (long)last_band);
			rounds++;
			continue;
		}
		printf("listener: SIGIO! si_code %s, si_band %#lx\n",
		       last_code == POLL_IN ? "POLL_IN" : "other",
		       (long)last_band);
		got = read(fd, buf, sizeof(buf) - 1);
		if (got >= 0) {
			buf[got] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			printf("listener:   read %zd bytes: \"%s\"\n", got, buf);
		}
	}
	return 0;
}
