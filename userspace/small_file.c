// SPDX-License-Identifier: GPL-2.0
/** @file small_file.c
 * @brief One read() or one write() of a small file; see small_file.h.
 */
#include "small_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

ssize_t small_file_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int err;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	buf[n] = '\0';
	return n;
}

/** @brief Write @p text to @p path, opened with @p flags, in one write().
 * @param path the file
 * @param flags O_WRONLY, and O_CREAT | O_TRUNC to make it
 * @param text what to write
 * @return 0, or -1 with errno set (EIO for a short write)
 */
static int small_file_put(const char *path, int flags, const char *text)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);
	ssize_t n, len = (ssize_t)strlen(text);
	int err;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	err = errno;
	close(fd);
	if (n == len)
		return 0;
	errno = n < 0 ? err : EIO;
	return -1;
}

int small_file_write(const char *path, const char *text)
{
	return small_file_put(path, O_WRONLY, text);
}

int small_file_create(const char *path, const char *text)
{
	return small_file_put(path, O_WRONLY | O_CREAT | O_TRUNC, text);
}

long long small_file_field(const char *path, const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long long n = -1;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':' &&
		    sscanf(line + len + 1, "%lld", &n) == 1)
			break;
	fclose(f);
	return n;
}
