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

/** @brief Read the next record of /dev/kmsg from @p fd, going on after
 *         records that were overwritten before they could be read.
 * @param fd /dev/kmsg, O_NONBLOCK
 * @param rec room for the record
 * @param size the size of @p rec
 * @param level where the record's level goes (0 KERN_EMERG to 7)
 * @return the record's text (its first line, in @p rec), or NULL: no
 *         record left (errno EAGAIN), end of file (errno 0) or an error
 */
static char *kmsg_next(int fd, char *rec, size_t size, int *level)
{
	char *text, *end;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, size - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: go on after them */
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return NULL;
		}
		rec[n] = 0;
		/* "PRIORITY,SEQUENCE,TIME,FLAGS;TEXT\n", then " KEY=VALUE" lines */
		text = strchr(rec, ';');
		if (!text)
			continue;
		end = strchr(text, '\n');
		if (end)
			*end = 0;
		*level = atoi(rec) & 7;
		return text + 1;
	}
}

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
	char rec[8192], *text;
	int level, found = 0;

	while ((text = kmsg_next(fd, rec, sizeof(rec), &level)))
		if (level <= 3 && !found++)
			snprintf(msg, size,
				 "after %s %s, the kernel log says at level %d (KERN_ERR is 3): \"%s\"; rule: " KMSG_CHECK_RULE " (an error branch taken on success: is a condition inverted?)",
				 cmd, name, level, text);
	if (errno != EAGAIN) {
		if (!found)
			snprintf(msg, size, "reading /dev/kmsg: %s",
				 errno ? strerror(errno) : "end of file");
		return -1;
	}
	return found ? -1 : 0;
}

int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int err;

	if (fd < 0 || lseek(fd, 0, SEEK_END) >= 0)
		return fd;
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int kmsg_module_records(int fd, const char *name, char *first, size_t size)
{
	char rec[8192], tag[128], *text;
	int count = 0, level;

	snprintf(tag, sizeof(tag), "%s:", name);
	while ((text = kmsg_next(fd, rec, sizeof(rec), &level))) {
		if (!strstr(text, tag))
			continue;
		if (first && size && !*first)
			snprintf(first, size, "%s", text);
		count++;
	}
	if (errno != EAGAIN) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return count;
}

int kmsg_check_reload(const char *name, char *msg, size_t size)
{
	int fd = kmsg_open_at_end();
	int err, ret = -1;

	if (fd < 0) {
		snprintf(msg, size, "cannot open /dev/kmsg at its end: %s",
			 strerror(errno));
		return -1;
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

int kmsg_quiet_start(struct kmsg_quiet *q, const char *name)
{
	memset(q, 0, sizeof(*q));
	q->name = name;
	q->fd = kmsg_open_at_end();
	return q->fd < 0 ? -1 : 0;
}

int kmsg_quiet_count(struct kmsg_quiet *q, const char *when)
{
	int n = kmsg_module_records(q->fd, q->name, q->first,
				    sizeof(q->first));

	if (n < 0 && !q->read_err)
		q->read_err = errno;
	if (n > 0) {
		if (!q->first_when)
			q->first_when = when;
		q->lines += n;
	}
	return n;
}

void kmsg_quiet_call(struct kmsg_quiet *q, ssize_t ret, ssize_t want,
		     int want_err)
{
	int err = errno;

	if (ret != want || (want < 0 && err != want_err))
		q->off++;
}

void kmsg_quiet_end(struct kmsg_quiet *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}
