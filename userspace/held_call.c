// SPDX-License-Identifier: GPL-2.0
/** @file held_call.c
 * @brief A call held in its copy until the sleepers it serves are asleep;
 *        see held_call.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "copy_stall.h"
#include "fifo_call.h"
#include "held_call.h"
#include "task_state.h"

/** @brief How long the call has to reach its copy, in ms: it takes
 *         microseconds; one that returns first (EAGAIN, a fault) is seen
 *         at once through its done pipe. */
#define HELD_CALL_FAULT_MS 5000

ssize_t held_call(int fd, const void *data, void *out, size_t count,
		  const struct held_call_tasks *tasks, int timeout_ms)
{
	struct fifo_call call = {
		.fd = fd, .count = count, .is_write = data != NULL,
		.ready_pipe = -1,
	};
	struct copy_stall cs;
	int done[2], i;
	pthread_t t;

	if (pipe(done))
		return -1;
	call.done_pipe = done[1];
	call.buf = copy_stall_init(&cs, 0, 0);
	if (!call.buf || count > cs.page ||
	    pthread_create(&t, NULL, fifo_call_main, &call)) {
		if (call.buf)
			copy_stall_destroy(&cs);
		close(done[0]);
		close(done[1]);
		errno = ENOMEM;
		return -1;
	}
	/* A call that returns without copying never faults: then there is
	 * nothing to hold. */
	if (copy_stall_wait(&cs, done[0], HELD_CALL_FAULT_MS) == 1)
		for (i = 0; i < tasks->n && i < HELD_CALL_TASKS; i++)
			task_wait_asleep(tasks->tid[i], tasks->done[i],
					 timeout_ms);
	copy_stall_release_data(&cs, data, data ? count : 0);
	pthread_join(t, NULL);
	if (!data && call.ret > 0)
		memcpy(out, call.buf, (size_t)call.ret);
	copy_stall_destroy(&cs);
	close(done[0]);
	close(done[1]);
	errno = call.err;
	return call.ret;
}
