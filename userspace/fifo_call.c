// SPDX-License-Identifier: GPL-2.0
/** @file fifo_call.c
 * @brief One read() or write() on a device; see fifo_call.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <unistd.h>

#include "fifo_call.h"

void *fifo_call_main(void *arg)
{
	struct fifo_call *c = arg;

	c->tid = gettid();
	if (c->ready_pipe >= 0 && write(c->ready_pipe, "", 1) != 1)
		return NULL;
	c->ret = c->is_write ? write(c->fd, c->buf, c->count)
			     : read(c->fd, c->buf, c->count);
	c->err = errno;
	atomic_store(&c->done, 1);
	if (c->done_pipe >= 0 && write(c->done_pipe, "", 1) != 1)
		c->ret = -2;
	return NULL;
}
