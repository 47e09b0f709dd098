/* SPDX-License-Identifier: GPL-2.0 */
/** @file fifo_call.h
 * @brief One read() or write() on a device, made by a thread or a child
 *        process, with its result and a way to know when it returned.
 */
#ifndef LABKIT_FIFO_CALL_H
#define LABKIT_FIFO_CALL_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/** @brief One read() or write() and its result. */
struct fifo_call {
	/** @brief The descriptor. */
	int fd;
	/** @brief The buffer. */
	char *buf;
	/** @brief Bytes to transfer. */
	size_t count;
	/** @brief Nonzero for write(), zero for read(). */
	int is_write;
	/** @brief The thread's (or process's) id, for /proc. */
	pid_t tid;
	/** @brief What the call returned. */
	ssize_t ret;
	/** @brief errno after the call, when it returned -1. */
	int err;
	/** @brief Set when the call returned. */
	atomic_int done;
	/** @brief Written to just before the call, or -1. */
	int ready_pipe;
	/** @brief Written to when the call returned, or -1. */
	int done_pipe;
};

/** @brief Thread body (or a child's): make the one call described by
 *         @p arg and record its result.
 * @param arg the struct fifo_call
 * @return NULL
 */
void *fifo_call_main(void *arg);

#endif /* LABKIT_FIFO_CALL_H */
