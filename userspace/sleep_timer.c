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
#include <unistd.h>

/** @brief Where tracefs is mounted (the guest does not mount it). */
#define TRACEFS "/sys/kernel/tracing"

/** @brief The events a timed sleep fires, which the grading VM's kernel
 *         command line enables at boot (vm.CMDLINE's trace_event=). */
static const char *const timer_events[] = {
	"events/timer/timer_start/enable",
	"events/timer/hrtimer_start/enable",
};

/** @brief Whether the file @p name of tracefs reads "1".
 * @param name a file of tracefs, relative to its top
 * @return 1 if it does, 0 if not, -1 if it cannot be read
 */
static int reads_one(const char *name)
{
	char path[192], c = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), TRACEFS "/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, &c, 1);
	close(fd);
	return n == 1 && c == '1';
}

/** @brief Empty the trace buffer.
 * @return 0, or the errno of the open
 */
static int empty_trace(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/** @brief Find out whether the timer events can be recorded.
 * @param why where the reason goes when they cannot
 * @param size the size of @p why
 * @return 0, ENOENT if the kernel has no tracefs or the events are off,
 *         or the errno of a step that failed
 */
static int timer_events_on(char *why, size_t size)
{
	unsigned int i;
	int err;

	if (access(TRACEFS, F_OK)) {
		err = errno;
		snprintf(why, size, "no " TRACEFS ": %s", strerror(err));
		return err;
	}
	if (access(TRACEFS "/trace", F_OK) &&
	    mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY) {
		err = errno;
		snprintf(why, size, "cannot mount tracefs on " TRACEFS ": %s",
			 strerror(err));
		return err == ENODEV ? ENOENT : err;
	}
	for (i = 0; i < sizeof(timer_events) / sizeof(timer_events[0]); i++) {
		if (reads_one(timer_events[i]) != 1) {
			snprintf(why, size,
				 TRACEFS "/%s is not 1: the kernel was not booted with trace_event=timer:timer_start,timer:hrtimer_start",
				 timer_events[i]);
			return ENOENT;
		}
	}
	/* Only what happens from now on counts. */
	err = empty_trace();
	if (err)
		snprintf(why, size, "cannot empty " TRACEFS "/trace: %s",
			 strerror(err));
	return err;
}

int sleep_timer_start(void)
{
	char why[192];
	int err = timer_events_on(why, sizeof(why));

	if (err)
		fprintf(stderr,
			"# sleep_timer: this kernel's timer events cannot be recorded (%s): not checked\n",
			why);
	return err;
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

int sleep_timer_armed(pid_t tid, char *event, size_t size)
{
	char line[512];
	int found = 0;
	FILE *f;

	if (event && size)
		event[0] = '\0';
	f = fopen(TRACEFS "/trace", "r");
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

void sleep_timer_stop(void)
{
	empty_trace();
}
