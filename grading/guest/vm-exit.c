// SPDX-License-Identifier: GPL-2.0
/** @file vm-exit.c
 * @brief Switch the grading VM off with a status only a finished run gives.
 *
 * The runner gives QEMU an isa-debug-exit device at I/O port 0xf4: a byte
 * written there ends QEMU with status (byte << 1) | 1. A kernel panic
 * (oops=panic panic=-1 with -no-reboot) ends it with status 0 instead, and
 * a hang never ends it, so the host can tell the three apart.
 *
 * Before switching off, the results tty is drained: tty writes return as
 * soon as the data is queued, and the last lines of results must not be
 * lost with the machine.
 *
 * Usage: vm-exit [CODE] (default 16).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <termios.h>
#include <unistd.h>

/** @brief The isa-debug-exit port the runner configures. */
#define DEBUG_EXIT_PORT 0xf4
/** @brief The tty the autograder's results go to. */
#define RESULTS_TTY "/dev/ttyS1"

int main(int argc, char **argv)
{
	unsigned long code = argc > 1 ? strtoul(argv[1], NULL, 0) : 16;
	int fd;

	fd = open(RESULTS_TTY, O_WRONLY | O_NOCTTY);
	if (fd >= 0) {
		tcdrain(fd);
		close(fd);
	}
	if (ioperm(DEBUG_EXIT_PORT, 1, 1)) {
		perror("vm-exit: ioperm");
		return 1;
	}
	outb((unsigned char)code, DEBUG_EXIT_PORT);
	/* Only reached without an isa-debug-exit device. */
	fprintf(stderr, "vm-exit: no isa-debug-exit device at 0x%x\n",
		DEBUG_EXIT_PORT);
	return 1;
}
