// SPDX-License-Identifier: GPL-2.0
/** @file task_state.c
 * @brief Thread states read from /proc; see task_state.h.
 */
#define _GNU_SOURCE
#include "task_state.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char task_state(pid_t tid)
{
	char path[64], line[512], *paren;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	fclose(f);
	/* The command name may hold spaces and parentheses: skip past the
	 * last ')' and the blank after it. */
	paren = strrchr(line, ')');
	if (!paren || paren[1] != ' ')
		return 0;
	return paren[2];
}

/** @brief The monotonic clock in milliseconds.
 * @return milliseconds since some fixed point
 */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

char task_wait_asleep(pid_t tid, atomic_int *done, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	char state;

	do {
		if (done && atomic_load(done))
			return 'X';
		state = task_state(tid);
		if (state == 'S' || state == 'D')
			return state;
		/* It ended, perhaps just after the check of done above. */
		if (state == 'Z' || !state)
			return done && atomic_load(done) ? 'X' : state;
		poll(NULL, 0, 1);
	} while (now_ms() < deadline);
	return 0;
}
