/* SPDX-License-Identifier: GPL-2.0 */
/** @file small_file.h
 * @brief Read or write a small file of /proc, /sys or debugfs in one
 *        call: a task's stat, a sysctl, a CPU's hotplug switch; or one
 *        field of a "KEY: NUMBER" file.
 */
#ifndef LABKIT_SMALL_FILE_H
#define LABKIT_SMALL_FILE_H

#include <stddef.h>
#include <sys/types.h>

/** @brief Read up to @p size - 1 bytes of @p path into @p buf with one
 *         read(), NUL-terminated.
 * @param path the file
 * @param buf where its text goes
 * @param size room in @p buf, at least 1
 * @return the bytes read, or -1 with errno set
 */
ssize_t small_file_read(const char *path, char *buf, size_t size);

/** @brief Write @p text to @p path with one write().
 * @param path the file
 * @param text what to write
 * @return 0 when all of it was written, or -1 with errno set (EIO for a
 *         short write)
 */
int small_file_write(const char *path, const char *text);

/** @brief Make @p path (mode 0600), or empty it, and write @p text to it
 *         with one write().
 * @param path the file
 * @param text what to write
 * @return 0 when all of it was written, or -1 with errno set (EIO for a
 *         short write)
 */
int small_file_create(const char *path, const char *text);

/** @brief The number on the line "KEY: NUMBER" of @p path, a file of
 *         lines of that shape (/proc/PID/status, /proc/self/fdinfo/FD).
 * @param path the file
 * @param key the line's key, without its colon
 * @return the number, or -1 when the file or the line is missing
 */
long long small_file_field(const char *path, const char *key);

#endif /* LABKIT_SMALL_FILE_H */
