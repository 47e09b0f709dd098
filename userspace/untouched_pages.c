// SPDX-License-Identifier: GPL-2.0
/** @file untouched_pages.c
 * @brief User memory the process has not touched yet (untouched_pages.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "untouched_pages.h"

char *untouched_anon(size_t size)
{
	void *area = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return area == MAP_FAILED ? NULL : area;
}

char *untouched_file_copy(const void *data, size_t size)
{
	int fd = memfd_create("untouched", MFD_CLOEXEC);
	void *area = MAP_FAILED;
	int err;

	if (fd < 0)
		return NULL;
	/* Written through the descriptor, not the mapping: the mapping's
	 * page-table entries stay empty. */
	if (write(fd, data, size) == (ssize_t)size)
		area = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	else
		errno = EIO;
	err = errno;
	close(fd);
	errno = err;
	return area == MAP_FAILED ? NULL : area;
}

int untouched_again(void *area, size_t size)
{
	return madvise(area, size, MADV_DONTNEED);
}

int untouched_page_mapped(const void *addr)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t entry;
	off_t at;
	int fd, err;
	ssize_t n;

	if (page <= 0)
		return -1;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	at = (off_t)((uintptr_t)addr / (uintptr_t)page * sizeof(entry));
	n = pread(fd, &entry, sizeof(entry), at);
	err = errno;
	close(fd);
	if (n != (ssize_t)sizeof(entry)) {
		errno = n < 0 ? err : EIO;
		return -1;
	}
	/* Bit 63: present; bit 62: swapped. */
	return (entry >> 62) != 0;
}
