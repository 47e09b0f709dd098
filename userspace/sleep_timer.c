// SPDX-License-Identifier: GPL-2.0
/** @file sleep_timer.c
 * @brief Whether a sleeping call armed a timer; see sleep_timer.h.
 */
#define _GNU_SOURCE
#include "sleep_timer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/** @brief Where tracefs is mounted (the guest does not mount it). */
#define TRACEFS "/sys/kernel/tracing"

/** @brief The events a timed sleep fires, relative to an instance. */
static const char *const timer_events[] = {
	"events/timer/timer_start/enable",
	"events/timer/hrtimer_start/enable",
};

/** @brief Write @p text into @p dir/@p name.
 * @param dir a directory
 * @param name a file in it
 * @param text what to write
 * @return 0, or the errno of the open or the write
 */
static int write_in(const char *dir, const char *name, const char *text)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

int sleep_timer_start(struct sleep_timer *st)
{
	unsigned int i;
	int err;

	st->dir[0] = '\0';
	st->why[0] = '\0';
	if (access(TRACEFS, F_OK)) {
		err = errno;
		snprintf(st->why, sizeof(st->why), "no " TRACEFS ": %s",
			 strerror(err));
		return err;
	}
	if (access(TRACEFS "/instances", F_OK) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY) {
		err = errno;
		snprintf(st->why, sizeof(st->why), "cannot mount tracefs on " TRACEFS ": %s",
			 strerror(err));
		return err == ENODEV ? ENOENT : err;
	}
	snprintf(st->dir, sizeof(st->dir), TRACEFS "/instances/labkit-%d",
		 (int)getpid());
	/* One left by a test that was killed: start afresh. */
	rmdir(st->dir);
	if (mkdir(st->dir, 0700)) {
		err = errno;
		snprintf(st->why, sizeof(st->why), "cannot make %s: %s",
			 st->dir, strerror(err));
		st->dir[0] = '\0';
		return err;
	}
	for (i = 0; i < sizeof(timer_events) / sizeof(timer_events[0]); i++) {
		err = write_in(st->dir, timer_events[i], "1");
		if (err) {
			snprintf(st->why, sizeof(st->why), "cannot enable %s/%s: %s",
				 st->dir, timer_events[i], strerror(err));
			sleep_timer_stop(st);
			return err;
		}
	}
	return 0;
}

/** @brief The id of the task a trace line's event came from: its first
 *         field is COMM-PID, and COMM may itself hold '-' or spaces.
 * @param line a line of the trace
 * @return the id, or -1 if the line has none
 */
static pid_t line_task(const char *line)
{
	const char *end = strstr(line, " ["), *p, *dash = NULL;

	/* The CPU field "[NNN]" follows the task; the last '-' before it
	 * starts the pid. */
	if (!end)
		return -1;
	for (p = line; p < end; p++)
		if (*p == '-')
			dash = p;
	return dash ? (pid_t)strtol(dash + 1, NULL, 10) : -1;
}

int sleep_timer_armed(struct sleep_timer *st, pid_t tid, char *event,
		      size_t size)
{
	char path[192], line[512];
	int found = 0;
	FILE *f;

	if (event && size)
		event[0] = '\0';
	snprintf(path, sizeof(path), "%s/trace", st->dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (!(strstr(line, " timer_start:") &&
		      strstr(line, "function=process_timeout")) &&
		    !(strstr(line, " hrtimer_start:") &&
		      strstr(line, "function=hrtimer_wakeup")))
			continue;
		if (line_task(line) != tid)
			continue;
		found = 1;
		if (event && size) {
			const char *p = line + strspn(line, " ");

			snprintf(event, size, "%.*s", (int)strcspn(p, "\n"),
				 p);
		}
	}
	fclose(f);
	return found;
}

void sleep_timer_stop(struct sleep_timer *st)
{
	unsigned int i;

	if (!st->dir[0])
		return;
	for (i = 0; i < sizeof(timer_events) / sizeof(timer_events[0]); i++)
		write_in(st->dir, timer_events[i], "0");
	rmdir(st->dir);
	st->dir[0] = '\0';
}
