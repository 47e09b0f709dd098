// SPDX-License-Identifier: GPL-2.0
/** @file reload_checks.c
 * @brief Checks shared by the module reload tests; see reload_checks.h.
 */
#define _GNU_SOURCE
#include "reload_checks.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const reload_checks_bad_sizes[] = {
	"fifo_size=1", "fifo_size=3", "fifo_size=96", "fifo_size=65535",
	"fifo_size=65537", "fifo_size=131072", "fifo_size=4294967295", NULL,
};

int reload_checks_capacity(const char *node, size_t size, char *msg,
			   size_t msg_size)
{
	size_t room = 2 * size + 16, i;
	char *out = malloc(room), *in = malloc(room);
	ssize_t n, back;
	int fd, ret = -1;

	fd = open(node, O_RDWR | O_NONBLOCK);
	if (fd < 0 || !out || !in) {
		snprintf(msg, msg_size, "cannot open %s: %s", node,
			 strerror(errno));
		goto out;
	}
	while (read(fd, in, room) > 0)
		;
	for (i = 0; i < room; i++)
		out[i] = (char)('a' + i % 23);
	n = write(fd, out, room);
	if (n != (ssize_t)size) {
		snprintf(msg, msg_size, "an empty %s took %zd bytes of a write of %zu, not %zu: it holds exactly fifo_size bytes",
			 node, n, room, size);
		goto out;
	}
	errno = 0;
	n = write(fd, out, 1);
	if (n != -1 || errno != EAGAIN) {
		snprintf(msg, msg_size, "a full %s (%zu bytes): a non-blocking write of 1 byte returned %zd (%s), not -1 EAGAIN",
			 node, size, n, n < 0 ? strerror(errno) : "no error");
		goto out;
	}
	back = 0;
	while (back < (ssize_t)room && (n = read(fd, in + back,
						  room - (size_t)back)) > 0)
		back += n;
	if (back != (ssize_t)size || memcmp(in, out, size)) {
		snprintf(msg, msg_size, "%s gave back %zd bytes%s, not the %zu written",
			 node, back, back == (ssize_t)size ? " (different ones)" : "",
			 size);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(out);
	free(in);
	return ret;
}

int reload_checks_debugfs_dir(const char *module, char *path, size_t size)
{
	snprintf(path, size, "/sys/kernel/debug/%s", module);
	if (access("/sys/kernel/debug/", F_OK))
		return ENOENT;
	/* An empty /sys/kernel/debug is debugfs not mounted yet. */
	if (access(path, F_OK) &&
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) &&
	    errno != EBUSY)
		return errno;
	return 0;
}

int reload_checks_debugfs_gone(const char *module)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s", module);
	errno = 0;
	return stat(path, &st) == -1 && errno == ENOENT;
}

int reload_checks_debugfs_state(const char *module, char *buf, size_t size)
{
	char path[128];
	size_t len = 0;
	int lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/state", module);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (len + 1 < size && fgets(buf + len, (int)(size - len), f)) {
		len += strlen(buf + len);
		lines++;
	}
	fclose(f);
	return lines;
}
