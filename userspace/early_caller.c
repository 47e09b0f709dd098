// SPDX-License-Identifier: GPL-2.0
/** @file early_caller.c
 * @brief A real-time thread that uses a device the moment its node
 *        appears (early_caller.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <unistd.h>

#include "early_caller.h"
#include "module_reload.h"

/** @brief How long the thread waits for the node, in ms. */
#define EARLY_CALLER_WAIT_MS 30000

/** @brief Whether the inotify events in @p buf (@p len bytes) tell that
 *         @p name was created.
 * @param buf the events
 * @param len their length
 * @param name the node's name in its directory
 * @return 1 if so, 0 if not
 */
static int created(const char *buf, ssize_t len, const char *name)
{
	const struct inotify_event *ev;
	ssize_t at = 0;

	while (at + (ssize_t)sizeof(*ev) <= len) {
		ev = (const struct inotify_event *)(buf + at);
		if ((ev->mask & IN_CREATE) && ev->len &&
		    !strcmp(ev->name, name))
			return 1;
		at += sizeof(*ev) + ev->len;
	}
	return 0;
}

/** @brief Wait on @p e->watch until an IN_CREATE event for @p name comes,
 *         or the caller is told to stop.
 * @param e the early caller
 * @param name the name to wait for, in the watched directory
 * @param node the full path, looked at first: it may be there already
 * @return 0 when it is there, else an errno (ETIMEDOUT when stopped)
 */
static int await_created(struct early_caller *e, const char *name,
			 const char *node)
{
	struct pollfd p[2] = {
		{ .fd = e->watch, .events = POLLIN },
		{ .fd = e->stop[0], .events = POLLIN },
	};
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;
	int ms;

	if (e->watch < 0) {
		/* No inotify in this kernel: look every millisecond. */
		for (ms = 0; ms < EARLY_CALLER_WAIT_MS; ms++) {
			if (access(node, F_OK) == 0)
				return 0;
			if (poll(&p[1], 1, 1) != 0)
				break;
		}
		return ETIMEDOUT;
	}
	for (;;) {
		if (access(node, F_OK) == 0)
			return 0;
		if (poll(p, 2, EARLY_CALLER_WAIT_MS) <= 0 || p[1].revents)
			return ETIMEDOUT;
		len = read(e->watch, buf, sizeof(buf));
		if (len < 0 && errno != EINTR)
			return errno;
		if (len > 0 && created(buf, len, name))
			return 0;
	}
}

/** @brief Thread body: wait for the node (and its directory, when that is
 *         made with it), then make the calls.
 * @param arg the struct early_caller
 * @return NULL
 */
static void *early_caller_main(void *arg)
{
	struct early_caller *e = arg;
	const char *name = strrchr(e->node, '/') + 1;
	char dir[PATH_MAX];
	int err;

	if (e->dir_name[0] && e->watch >= 0) {
		/* The directory first, then the node in it. */
		snprintf(dir, sizeof(dir), "%.*s", (int)(name - 1 - e->node),
			 e->node);
		err = await_created(e, e->dir_name, dir);
		if (!err && inotify_add_watch(e->watch, dir, IN_CREATE) < 0)
			err = errno;
		if (err) {
			e->open_err = err;
			return NULL;
		}
	}
	err = await_created(e, name, e->node);
	if (err) {
		e->open_err = err;
		return NULL;
	}
	if (e->also)
		e->also_err = access(e->also, F_OK) ? errno : 0;
	(e->calls ? e->calls : early_caller_fifo_calls)(e);
	return NULL;
}

void early_caller_fifo_calls(struct early_caller *e)
{
	e->fd = open(e->node, O_RDWR | O_NONBLOCK);
	if (e->fd < 0) {
		e->open_err = errno;
		return;
	}
	early_caller_writes(e);
}

void early_caller_writes(struct early_caller *e)
{
	errno = 0;
	e->first_ret = write(e->fd, EARLY_CALLER_FIRST,
			     strlen(EARLY_CALLER_FIRST));
	e->first_err = errno;
	errno = 0;
	e->frozen_ret = write(e->fd, early_caller_frozen_buf(e),
			      EARLY_CALLER_FROZEN);
	e->frozen_err = errno;
}

char *early_caller_frozen_buf(struct early_caller *e)
{
	return e->cs.area + e->cs.page;
}

int early_caller_start_looking(struct early_caller *e, const char *node,
			       void (*calls)(struct early_caller *e),
			       const char *also)
{
	struct sched_param rt = { .sched_priority = 1 };
	pthread_attr_t attr;
	char dir[PATH_MAX];
	const char *slash = strrchr(node, '/'), *up;
	int err;

	memset(e, 0, sizeof(*e));
	e->node = node;
	e->calls = calls;
	e->also = also;
	e->also_err = ETIMEDOUT;
	e->fd = -1;
	e->other_fd = -1;
	e->watch = -1;
	e->stop[0] = e->stop[1] = -1;
	e->cs.uffd = -1;
	e->cs.area = MAP_FAILED;
	if (!slash || slash == node || (size_t)(slash - node) >= sizeof(dir)) {
		errno = EINVAL;
		return -1;
	}
	memcpy(dir, node, slash - node);
	dir[slash - node] = '\0';
	if (access(dir, F_OK)) {
		/* Made with the node (/dev/NAME/node): watch its parent. */
		up = strrchr(dir, '/');
		if (!up || up == dir ||
		    strlen(up + 1) >= sizeof(e->dir_name)) {
			errno = EINVAL;
			return -1;
		}
		strcpy(e->dir_name, up + 1);
		dir[up - dir] = '\0';
	}
	if (!copy_stall_init(&e->cs, 0, 0) || pipe(e->stop))
		return -1;
	e->watch = inotify_init1(IN_CLOEXEC);
	if (e->watch < 0 && errno != ENOSYS)
		return -1;
	/* Without inotify (a kernel built without it), await_created() looks
	 * for the node every millisecond instead. */
	if (e->watch >= 0 && inotify_add_watch(e->watch, dir, IN_CREATE) < 0)
		return -1;
	if (pthread_attr_init(&attr))
		return -1;
	err = pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED) ||
	      pthread_attr_setschedpolicy(&attr, SCHED_FIFO) ||
	      pthread_attr_setschedparam(&attr, &rt) ||
	      pthread_create(&e->thread, &attr, early_caller_main, e);
	pthread_attr_destroy(&attr);
	if (err) {
		errno = EPERM;
		return -1;
	}
	e->started = 1;
	return 0;
}

int early_caller_wait_frozen(struct early_caller *e, int timeout_ms)
{
	return copy_stall_wait(&e->cs, -1, timeout_ms);
}

void early_caller_finish(struct early_caller *e, const char *data)
{
	ssize_t n;

	if (e->started) {
		n = write(e->stop[1], "s", 1);
		(void)n;
		copy_stall_release_data(&e->cs, data, EARLY_CALLER_FROZEN);
		pthread_join(e->thread, NULL);
		e->started = 0;
	}
	if (e->fd >= 0)
		close(e->fd);
	if (e->other_fd >= 0)
		close(e->other_fd);
	if (e->watch >= 0)
		close(e->watch);
	if (e->stop[0] >= 0) {
		close(e->stop[0]);
		close(e->stop[1]);
	}
	copy_stall_destroy(&e->cs);
	e->fd = e->other_fd = e->watch = e->stop[0] = e->stop[1] = -1;
}

void early_load_begin(struct early_load *l, const char *module,
		      const char *node, void (*calls)(struct early_caller *e),
		      struct preempt_full *preempt)
{
	early_load_begin_looking(l, module, node, calls, preempt, NULL);
}

void early_load_begin_looking(struct early_load *l, const char *module,
			      const char *node,
			      void (*calls)(struct early_caller *e),
			      struct preempt_full *preempt, const char *also)
{
	memset(l, 0, sizeof(*l));
	l->preempt = preempt;
	l->load_err = -1;
	/* Before the test is pinned: the switch takes the other CPUs offline. */
	preempt_full_begin(preempt, l->no_full, sizeof(l->no_full));
	if (cpu_order_pin(&l->order)) {
		l->setup_err = errno;
		return;
	}
	l->pinned = 1;
	l->caller_set = 1;
	if (early_caller_start_looking(&l->caller, node, calls, also)) {
		l->setup_err = errno;
		return;
	}
	l->load_err = module_load(module, "");
	if (!l->load_err)
		l->frozen = early_caller_wait_frozen(&l->caller, 5000) == 1;
}

void early_load_end(struct early_load *l, const char *data)
{
	if (l->caller_set)
		early_caller_finish(&l->caller, data);
	l->caller_set = 0;
	if (l->pinned)
		cpu_order_unpin(&l->order);
	l->pinned = 0;
	preempt_full_end(l->preempt);
}
