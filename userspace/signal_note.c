// SPDX-License-Identifier: GPL-2.0
/** @file signal_note.c
 * @brief Signal handlers for tests; see signal_note.h.
 */
#include <unistd.h>

#include "signal_note.h"

/** @brief note_signal()'s pipe: read end, write end; -1 until made. */
static int note_pipe[2] = { -1, -1 };

void ignore_signal(int sig)
{
	(void)sig;
}

void note_signal(int sig)
{
	ssize_t n = write(note_pipe[1], "", 1);

	(void)sig;
	(void)n;
}

int signal_note_fd(void)
{
	if (note_pipe[0] < 0 && pipe(note_pipe))
		return -1;
	return note_pipe[0];
}
