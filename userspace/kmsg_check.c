// SPDX-License-Identifier: GPL-2.0
/** @file kmsg_check.c
 * @brief A reload of a lab's module must log no error (kmsg_check.h).
 */
#define _GNU_SOURCE
#include "kmsg_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "module_reload.h"

/** @brief How long earlier tests' exiting processes may keep the module
 *         busy, in ms: a failure bound only. */
#define KMSG_CHECK_UNLOAD_MS 5000

/** @brief Read the records of /dev/kmsg from @p fd up to the newest, and
 *         describe the first at KERN_ERR or a more severe level.
 * @param fd /dev/kmsg, O_NONBLOCK, where the records of interest start
 * @param cmd what happened since that position ("rmmod", "insmod")
 * @param name the module's name
 * @param msg where a problem is described
 * @param size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int kmsg_check_since(int fd, const char *cmd, const char *name,
			    char *msg, size_t size)
{
	char rec[8192], *text, *end;
	int level, found = 0;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: go on after them */
		if (n <= 0)
			break;
		rec[n] = 0;
		/* "PRIORITY,SEQUENCE,TIME,FLAGS;TEXT\n", then " KEY=VALUE" lines */
		text = strchr(rec, ';');
		end = strchr(rec, '\n');
		if (!text)
			continue;
		if (end)
			*end = 0;
		level = atoi(rec) & 7;
		if (level <= 3 && !found++)
			snprintf(msg, size,
				 "after %s %s, the kernel log says at level %d (KERN_ERR is 3): \"%s\"; rule: " KMSG_CHECK_RULE " (an error branch taken on success: is a condition inverted?)",
				 cmd, name, level, text + 1);
	}
	if (n < 0 && errno != EAGAIN) {
		if (!found)
			snprintf(msg, size, "reading /dev/kmsg: %s",
				 strerror(errno));
		return -1;
	}
	if (n == 0 && !found) {
		snprintf(msg, size, "reading /dev/kmsg: end of file");
		return -1;
	}
	return found ? -1 : 0;
}

int kmsg_check_reload(const char *name, char *msg, size_t size)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int err, ret = -1;

	if (fd < 0) {
		snprintf(msg, size, "cannot open /dev/kmsg: %s",
			 strerror(errno));
		return -1;
	}
	if (lseek(fd, 0, SEEK_END) < 0) {
		snprintf(msg, size, "cannot seek to the end of /dev/kmsg: %s",
			 strerror(errno));
		goto out;
	}
	err = module_unload_when_free(name, KMSG_CHECK_UNLOAD_MS);
	if (err) {
		snprintf(msg, size, "cannot unload %s with nothing open: %s",
			 name, strerror(err));
		goto out;
	}
	if (kmsg_check_since(fd, "rmmod", name, msg, size)) {
		module_load(name, "");
		goto out;
	}
	err = module_load(name, "");
	if (err) {
		snprintf(msg, size, "cannot load %s again: %s", name,
			 strerror(err));
		goto out;
	}
	ret = kmsg_check_since(fd, "insmod", name, msg, size);
out:
	close(fd);
	return ret;
}
