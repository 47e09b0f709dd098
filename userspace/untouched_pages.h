/* SPDX-License-Identifier: GPL-2.0 */
/** @file untouched_pages.h
 * @brief User memory the process has not touched yet: pages that are not
 *        in its page tables, so that the kernel's first access faults.
 *
 * A driver's copy_to_user() or copy_from_user() works on any valid user
 * buffer. When the buffer's page is not mapped yet (a fresh mmap(), a page
 * reclaimed or swapped out), the copy faults, and the fault handler maps
 * the page: that may sleep, so it works only where sleeping is allowed. A
 * copy made under a spinlock, or with preemption or interrupts off, fails
 * on such a page with EFAULT, while every buffer a test has just written
 * (on its stack, in its data) is mapped and hides the bug. These helpers
 * give a test buffers whose pages are not mapped, and check that they are
 * not (/proc/self/pagemap), so that a test that relies on it cannot pass
 * for a reason of its own.
 */
#ifndef LABKIT_UNTOUCHED_PAGES_H
#define LABKIT_UNTOUCHED_PAGES_H

#include <stddef.h>

/** @brief Map @p size bytes of anonymous memory, readable and writable,
 *         and touch none of it: the kernel's first write to a page faults
 *         (a read maps the zero page, faulting too).
 * @param size the size, a multiple of the page size
 * @return the mapping, or NULL with errno set
 */
char *untouched_anon(size_t size);

/** @brief Map the first @p size bytes of a new memory file holding
 *         @p data, read-only and shared, touching none of it: the bytes
 *         are in the file (the page cache), but reading them through this
 *         mapping faults first.
 * @param data the bytes
 * @param size how many, a multiple of the page size
 * @return the mapping, or NULL with errno set
 */
char *untouched_file_copy(const void *data, size_t size);

/** @brief Take the pages of a mapping out of the page tables again
 *         (madvise(MADV_DONTNEED)): an anonymous mapping's bytes are gone
 *         (its pages read as zeros), a file's stay in the file.
 * @param area the mapping
 * @param size its size
 * @return 0, or -1 with errno set
 */
int untouched_again(void *area, size_t size);

/** @brief Whether the page holding @p addr is in the process's page
 *         tables, from /proc/self/pagemap.
 * @param addr any address
 * @return 1 mapped (present or swapped), 0 not mapped, -1 with errno set
 *         when pagemap cannot be read
 */
int untouched_page_mapped(const void *addr);

#endif /* LABKIT_UNTOUCHED_PAGES_H */
