// SPDX-License-Identifier: GPL-2.0
/** @file copy_stall.c
 * @brief userfaultfd-based stall of a kernel copy; see copy_stall.h.
 */
#define _GNU_SOURCE
#include "copy_stall.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

char *copy_stall_init(struct copy_stall *cs, size_t head, int head_byte)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	int saved;

	cs->page = (size_t)sysconf(_SC_PAGESIZE);
	cs->area = MAP_FAILED;
	if (head > cs->page) {
		errno = EINVAL;
		return NULL;
	}
	cs->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (cs->uffd < 0)
		return NULL;
	if (ioctl(cs->uffd, UFFDIO_API, &api))
		goto fail;
	cs->area = mmap(NULL, 2 * cs->page, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (cs->area == MAP_FAILED)
		goto fail;
	/* Touching the first page maps it; the second stays missing. */
	memset(cs->area, 0, cs->page);
	memset(cs->area + cs->page - head, head_byte, head);
	reg.range.start = (uintptr_t)(cs->area + cs->page);
	reg.range.len = cs->page;
	if (ioctl(cs->uffd, UFFDIO_REGISTER, &reg))
		goto fail;
	return cs->area + cs->page - head;
fail:
	saved = errno;
	copy_stall_destroy(cs);
	errno = saved;
	return NULL;
}

int copy_stall_wait(struct copy_stall *cs, int other_fd, int timeout_ms)
{
	struct pollfd fds[2] = {
		{ .fd = cs->uffd, .events = POLLIN },
		{ .fd = other_fd, .events = POLLIN },
	};
	struct uffd_msg msg;
	int n;

	n = poll(fds, other_fd >= 0 ? 2 : 1, timeout_ms);
	if (n < 0)
		return -1;
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (!(fds[0].revents & POLLIN))
		return 0;
	if (read(cs->uffd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		return -1;
	if (msg.event != UFFD_EVENT_PAGEFAULT) {
		errno = EPROTO;
		return -1;
	}
	return 1;
}

/** @brief Supply the stalled page: @p len bytes of @p data (none if NULL),
 *         then @p fill up to the page's end.
 * @param cs the stall
 * @param data the first bytes, or NULL
 * @param len how many, at most a page
 * @param fill the value of the other bytes
 * @return 0, or -1 with errno set
 */
static int release_page(struct copy_stall *cs, const void *data, size_t len,
			int fill)
{
	struct uffdio_copy copy = { 0 };
	char *page;
	int ret;

	if (len > cs->page) {
		errno = EINVAL;
		return -1;
	}
	page = mmap(NULL, cs->page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return -1;
	memset(page, fill, cs->page);
	if (data)
		memcpy(page, data, len);
	copy.dst = (uintptr_t)(cs->area + cs->page);
	copy.src = (uintptr_t)page;
	copy.len = cs->page;
	ret = ioctl(cs->uffd, UFFDIO_COPY, &copy);
	munmap(page, cs->page);
	return ret ? -1 : 0;
}

int copy_stall_release(struct copy_stall *cs, int tail_byte)
{
	return release_page(cs, NULL, 0, tail_byte);
}

int copy_stall_release_data(struct copy_stall *cs, const void *data,
			    size_t len)
{
	return release_page(cs, data, len, 0);
}

void copy_stall_destroy(struct copy_stall *cs)
{
	if (cs->area != MAP_FAILED)
		munmap(cs->area, 2 * cs->page);
	cs->area = MAP_FAILED;
	if (cs->uffd >= 0)
		close(cs->uffd);
	cs->uffd = -1;
}
