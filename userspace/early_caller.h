/* SPDX-License-Identifier: GPL-2.0 */
/** @file early_caller.h
 * @brief A real-time thread that uses a device the moment its node
 *        appears, while the module that makes it is still being loaded.
 *
 * A driver's node appears in /dev while its init function runs: misc
 * devtmpfs creates it inside misc_register() (device_create()), and the
 * device can be opened as soon as the registration is through. Anything
 * init sets up after that (a FIFO reset with INIT_KFIFO(), a mutex made
 * with mutex_init(), a wait queue) can be used before it is ready, or
 * reset under a caller that was quicker. Hence the rule "register last".
 *
 * The early caller watches the node's directory with inotify, opens the
 * node the moment it is created, writes 5 bytes, then starts a write of 8
 * more whose copy freezes on its first byte (copy_stall.h): that write
 * holds the writers' mutex while init goes on. Run on the CPU of the task
 * that loads the module, real-time, under full preemption (cpu_order.h,
 * preempt_full.h), it runs right at the wake-up that lets it in, inside
 * the registration, before the loading task's next line of init; then the
 * frozen copy puts it to sleep and init goes on, with the write in
 * progress.
 */
#ifndef LABKIT_EARLY_CALLER_H
#define LABKIT_EARLY_CALLER_H

#include <pthread.h>
#include <sys/types.h>

#include "copy_stall.h"
#include "cpu_order.h"
#include "preempt_full.h"

/** @brief The bytes the early caller's first write puts in. */
#define EARLY_CALLER_FIRST "early"
/** @brief How many bytes its frozen write asks for. */
#define EARLY_CALLER_FROZEN 8

/** @brief The early caller and what its calls returned. */
struct early_caller {
	/** @brief The node it waits for. */
	const char *node;
	/** @brief inotify on the node's directory (or on its parent, while
	 *         the directory is still to be made); -1 on a kernel without
	 *         inotify, where the thread looks for the node every
	 *         millisecond instead. */
	int watch;
	/** @brief The directory's name when it does not exist yet, else
	 *         empty. */
	char dir_name[64];
	/** @brief Written to when the caller should give up waiting. */
	int stop[2];
	/** @brief The frozen write's buffer. */
	struct copy_stall cs;
	/** @brief The thread. */
	pthread_t thread;
	/** @brief Nonzero once the thread was started. */
	int started;
	/** @brief Its descriptor on the node, or -1. */
	int fd;
	/** @brief A second descriptor, for calls that need one (the other
	 *         end of a pipe), or -1. */
	int other_fd;
	/** @brief What the thread does once the node is there: NULL for
	 *         early_caller_fifo_calls(). */
	void (*calls)(struct early_caller *e);
	/** @brief A file that must exist when the node does (a debugfs live
	 *         view, set up before the registration), looked for the
	 *         moment the node appears, before the calls; NULL for none. */
	const char *also;
	/** @brief 0 when @c also was there at that moment, else the errno of
	 *         access() (ETIMEDOUT when the node never appeared). */
	int also_err;
	/** @brief 0 when it opened the node, else the open's errno (or
	 *         ETIMEDOUT when the node never appeared). */
	int open_err;
	/** @brief What the first write returned. */
	ssize_t first_ret;
	/** @brief errno after it. */
	int first_err;
	/** @brief What the frozen write returned once let go. */
	ssize_t frozen_ret;
	/** @brief errno after it. */
	int frozen_err;
};

/** @brief The calls the early caller makes on a FIFO device: open @c node
 *         O_RDWR | O_NONBLOCK into @c fd, write EARLY_CALLER_FIRST, then
 *         write EARLY_CALLER_FROZEN bytes from the frozen buffer
 *         (early_caller_frozen_buf()). Results in @c open_err,
 *         @c first_ret, @c first_err, @c frozen_ret, @c frozen_err.
 * @param e the early caller
 */
void early_caller_fifo_calls(struct early_caller *e);

/** @brief The early caller's two writes through @c fd:
 *         EARLY_CALLER_FIRST, then EARLY_CALLER_FROZEN bytes from the
 *         frozen buffer, whose copy freezes (results in @c first_ret,
 *         @c first_err, @c frozen_ret, @c frozen_err).
 * @param e the early caller, with @c fd open for writing
 */
void early_caller_writes(struct early_caller *e);

/** @brief The buffer whose first byte freezes the copy that reads it.
 * @param e the early caller
 * @return the buffer (EARLY_CALLER_FROZEN bytes may be read from it)
 */
char *early_caller_frozen_buf(struct early_caller *e);

/** @brief Watch for @p node and start the real-time thread that uses it
 *         the moment it appears: @p calls runs on that thread once
 *         @p node is there (it may use
 *         @c fd, @c other_fd and the result fields as it likes; they are
 *         closed by early_caller_finish()). A node in a directory that
 *         does not exist yet (/dev/NAME/node) is waited for too: the
 *         directory's creation, then the node's. The moment @p node is
 *         there, before the calls, the thread looks for @p also (a file
 *         that must exist by then, e.g. a debugfs live view set up
 *         before the registration): the result is in @c also_err.
 * @param e the early caller, filled in here
 * @param node the device node
 * @param calls what to do, or NULL for early_caller_fifo_calls()
 * @param also the file to look for, or NULL
 * @return 0, or -1 with errno set
 */
int early_caller_start_looking(struct early_caller *e, const char *node,
			       void (*calls)(struct early_caller *e),
			       const char *also);

/** @brief Wait until the early caller's second write is frozen in its
 *         copy.
 * @param e the early caller
 * @param timeout_ms how long to wait
 * @return 1 frozen, 0 the thread ended first (it could not open or
 *         write), -1 on timeout or error
 */
int early_caller_wait_frozen(struct early_caller *e, int timeout_ms);

/** @brief Let the frozen write go on with @p data (EARLY_CALLER_FROZEN
 *         bytes), or stop a caller still waiting for the node, and wait
 *         for the thread to end; close everything.
 * @param e the early caller
 * @param data the frozen write's bytes
 */
void early_caller_finish(struct early_caller *e, const char *data);

/** @brief A module loaded while an early caller waits for its node, and
 *         what became of it (early_load_begin()). */
struct early_load {
	/** @brief The early caller. */
	struct early_caller caller;
	/** @brief The test's CPU, for cpu_order_unpin(). */
	struct cpu_order order;
	/** @brief Where the preemption model to switch back to is noted. */
	struct preempt_full *preempt;
	/** @brief Why the kernel cannot run full preemption, or empty: the
	 *         early caller then runs when init sleeps or returns. */
	char no_full[256];
	/** @brief Nonzero once the test is pinned to its CPU. */
	int pinned;
	/** @brief Nonzero once @c caller was set up (even in part), for
	 *         early_caller_finish(). */
	int caller_set;
	/** @brief errno of a failed set-up (pinning, the early caller),
	 *         else 0. */
	int setup_err;
	/** @brief What module_load() returned (0 or an errno), -1 when the
	 *         set-up failed and nothing was loaded. */
	int load_err;
	/** @brief Nonzero once the early caller's write froze in its copy. */
	int frozen;
};

/** @brief Load @p module, which is not loaded, while an early caller
 *         waits for @p node: full preemption where the kernel can switch
 *         (noted in @p preempt, switched back by early_load_end()), the
 *         test pinned to one CPU (cpu_order_pin()), the early caller
 *         started, the module loaded, and the early caller's write waited
 *         for until it froze (at most 5 s).
 * @param l filled in here
 * @param module the module's name, for module_load()
 * @param node the node to wait for
 * @param calls the early calls, NULL for early_caller_fifo_calls()
 * @param preempt where to note the preemption model
 */
void early_load_begin(struct early_load *l, const char *module,
		      const char *node, void (*calls)(struct early_caller *e),
		      struct preempt_full *preempt);

/** @brief early_load_begin(), with the early caller also looking for
 *         @p also the moment @p node appears (early_caller_start_looking():
 *         the result is in @c caller.also_err).
 * @param l filled in here
 * @param module the module's name, for module_load()
 * @param node the node to wait for
 * @param calls the early calls, NULL for early_caller_fifo_calls()
 * @param preempt where to note the preemption model
 * @param also the file that must be there when the node is, or NULL
 */
void early_load_begin_looking(struct early_load *l, const char *module,
			      const char *node,
			      void (*calls)(struct early_caller *e),
			      struct preempt_full *preempt, const char *also);

/** @brief Let the early caller's frozen write go on with @p data and end
 *         the thread (early_caller_finish()), unpin the test, and switch
 *         the preemption model back.
 * @param l as early_load_begin() left it
 * @param data the frozen write's EARLY_CALLER_FROZEN bytes
 */
void early_load_end(struct early_load *l, const char *data);

#endif /* LABKIT_EARLY_CALLER_H */
