// SPDX-License-Identifier: GPL-2.0
/** @file sigio_count.c
 * @brief Count the signals of an O_ASYNC file; see sigio_count.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sigio_count.h"

int sigio_count_signal(void)
{
	return SIGRTMIN + 3;
}

/** @brief The set of sigio_count_signal() and SIGIO.
 * @param set filled in
 */
static void sigio_count_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, sigio_count_signal());
	sigaddset(set, SIGIO);
}

int sigio_count_block(void)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigio_count_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	return 0;
}

int sigio_count_async(int fd)
{
	int flags;

	if (fcntl(fd, F_SETOWN, getpid()) ||
	    fcntl(fd, F_SETSIG, sigio_count_signal()))
		return -1;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_ASYNC);
}

int sigio_count_async_off(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags & ~O_ASYNC);
}

int sigio_count_take(int fd, struct sigio_count *c)
{
	struct timespec zero = { 0, 0 };
	siginfo_t info;
	sigset_t set;
	int n = 0;

	memset(c, 0, sizeof(*c));
	sigio_count_set(&set);
	while (sigtimedwait(&set, &info, &zero) > 0) {
		n++;
		if (info.si_signo != sigio_count_signal() || info.si_fd != fd)
			c->other++;
		else if (info.si_band == (POLLIN | POLLRDNORM))
			c->in++;
		else if (info.si_band == (POLLOUT | POLLWRNORM | POLLWRBAND))
			c->out++;
		else
			c->other++;
	}
	return n;
}

void sigio_count_due(struct sigio_count *c, int is_write, long ret)
{
	if (ret > 0 && is_write)
		c->in++;
	else if (ret > 0)
		c->out++;
}

char *sigio_count_describe(const struct sigio_count *c, char *buf,
			   unsigned long size)
{
	int n = snprintf(buf, size, "%d POLL_IN, %d POLL_OUT", c->in, c->out);

	if (c->other && n >= 0 && (unsigned long)n < size)
		snprintf(buf + n, size - n, ", %d other", c->other);
	return buf;
}
