/* SPDX-License-Identifier: GPL-2.0 */
/** @file copy_stall.h
 * @brief Stop a kernel copy from user memory half-way, on purpose.
 *
 * A test that wants to know whether a driver holds its lock while it copies
 * from user space cannot rely on timing: the copy is over in nanoseconds.
 * Instead it hands write(2) a buffer whose first bytes are mapped and whose
 * tail lies on a page registered with userfaultfd. The driver's
 * copy_from_user() copies the head, faults on the tail and sleeps until the
 * test supplies the page, so the test can look at the device while the
 * write is frozen in the middle of its copy.
 *
 * Needs userfaultfd(2) with kernel-mode faults, which root has.
 */
#ifndef LABKIT_COPY_STALL_H
#define LABKIT_COPY_STALL_H

#include <stddef.h>

/** @brief A two-page buffer whose second page stalls the first access. */
struct copy_stall {
	/** @brief The userfaultfd that receives the fault on the tail page. */
	int uffd;
	/** @brief Start of the two-page mapping. */
	char *area;
	/** @brief The page size. */
	size_t page;
};

/** @brief Set up a buffer whose first @p head bytes are readable.
 *
 * @param cs the stall to set up
 * @param head how many bytes before the stalling page (at most a page)
 * @param head_byte the value of those bytes
 * @return the buffer to hand to write(2), or NULL with errno set
 */
char *copy_stall_init(struct copy_stall *cs, size_t head, int head_byte);

/** @brief Wait until the kernel faults on the stalled page.
 *
 * @param cs the stall
 * @param other_fd a descriptor to watch as well (e.g. a pipe the writing
 *        thread writes to when its write returned), or -1
 * @param timeout_ms how long to wait at most
 * @return 1 when the fault arrived, 0 when @p other_fd became readable
 *         first, -1 with errno set on timeout (ETIMEDOUT) or error
 */
int copy_stall_wait(struct copy_stall *cs, int other_fd, int timeout_ms);

/** @brief Supply the stalled page, filled with @p tail_byte; the copy
 *         then goes on.
 *
 * @param cs the stall
 * @param tail_byte the value of every byte of the page
 * @return 0, or -1 with errno set
 */
int copy_stall_release(struct copy_stall *cs, int tail_byte);

/** @brief Supply the stalled page, beginning with @p len bytes of @p data
 *         (the rest zeros); the copy then goes on.
 *
 * @param cs the stall
 * @param data the page's first bytes
 * @param len how many, at most a page
 * @return 0, or -1 with errno set
 */
int copy_stall_release_data(struct copy_stall *cs, const void *data,
			    size_t len);

/** @brief Unmap the buffer and close the userfaultfd.
 * @param cs the stall
 */
void copy_stall_destroy(struct copy_stall *cs);

#endif /* LABKIT_COPY_STALL_H */
