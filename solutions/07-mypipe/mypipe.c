// SPDX-License-Identifier: GPL-2.0
/** @file mypipe.c
 * @brief Lab 07: a pipe with two device nodes, /dev/mypipe/mypipe_in (the
 *        write end) and /dev/mypipe/mypipe_out (the read end), that
 *        behaves like a named pipe made with mkfifo.
 *
 * - Opening one end sleeps until the other end is open too. With
 *   O_NONBLOCK, the read end opens at once and the write end fails with
 *   -ENXIO while nobody holds the read end.
 * - A read returns what is there (at least one byte), sleeps while the
 *   pipe is empty and a writer holds the write end, and returns 0 (end of
 *   file) when the pipe is empty and no writer is left.
 * - A write with no reader left gets SIGPIPE and -EPIPE. A write of at
 *   most PIPE_BUF bytes goes in whole, never mixed with another writer's
 *   bytes; a larger one goes in as room appears and completes unless a
 *   signal comes, in which case it returns what it wrote.
 * - O_NONBLOCK: -EAGAIN where a call would sleep.
 * - poll: EPOLLIN, EPOLLOUT, EPOLLHUP on the read end when no writer is
 *   left, EPOLLERR on the write end when no reader is left.
 * - When the last file of both ends closes, the bytes left are dropped.
 *
 * The design is that of the kernel's own pipe (fs/pipe.c) in the 2.4
 * days, when one semaphore guarded the pipe: here a semaphore guards the
 * ring and the counts of readers and writers, and tasks sleep on three
 * wait queues (readers for data, writers for room, openers for the other
 * end), which is also what poll needs. A sleeper lets go of the semaphore
 * first, sleeps on a condition it reads without it, then takes the
 * semaphore again and looks at the pipe afresh.
 *
 * With exclusive=1 each end can be held by one file at a time, the policy
 * of the course's first version; a second open of the same end fails
 * with -EBUSY.
 *
 * /sys/kernel/debug/mypipe/state shows the pipe live: how full the ring
 * is, how many files hold each end, and how many tasks wait for data,
 * for room and in open() (see common/fifo_view.h).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/poll.h>
#include <linux/processor.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/semaphore.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "fifo_view.h"
#include "kcompat.h"

/** @brief Smallest ring the pipe_size parameter accepts: a write of
 *         PIPE_BUF bytes must fit whole.
 */
#define MYPIPE_MIN_SIZE PIPE_BUF
/** @brief Largest ring the pipe_size parameter accepts, in bytes. */
#define MYPIPE_MAX_SIZE (1024 * 1024)

/** @brief Capacity of the ring in bytes, read once at load time. */
static unsigned int pipe_size = 4096;
module_param(pipe_size, uint, 0444);
MODULE_PARM_DESC(pipe_size,
		 "capacity of the pipe in bytes, from 4096 to 1048576 (default 4096)");

/** @brief Nonzero: one file at a time on each end (else -EBUSY). */
static bool exclusive;
module_param(exclusive, bool, 0444);
MODULE_PARM_DESC(exclusive,
		 "one reader and one writer at a time; a second open gets EBUSY (default 0)");

/** @brief The two ends, which are also the minor numbers. */
enum mypipe_end_id {
	/** @brief /dev/mypipe/mypipe_in, the write end. */
	MYPIPE_IN,
	/** @brief /dev/mypipe/mypipe_out, the read end. */
	MYPIPE_OUT,
	/** @brief How many ends there are. */
	MYPIPE_ENDS,
};

/** @brief One end of the pipe: its character device. */
struct mypipe_end {
	/** @brief The character device of this end's minor. */
	struct cdev cdev;
	/** @brief With exclusive=1: 1 while no file holds this end, 0 while
	 *         one does (atomic_dec_and_test() takes it).
	 */
	atomic_t available;
};

/** @brief The pipe: a ring of bytes and who holds its ends. */
struct mypipe {
	/** @brief Guards everything below up to the wait queues; may sleep. */
	struct semaphore sem;
	/** @brief The ring, pipe_size bytes. */
	char *buf;
	/** @brief Capacity of the ring in bytes. */
	size_t size;
	/** @brief Offset in the ring of the oldest unread byte. */
	size_t head;
	/** @brief Bytes in the ring. */
	size_t len;
	/** @brief Open files on the read end. */
	unsigned int readers;
	/** @brief Open files on the write end. */
	unsigned int writers;
	/** @brief Opens of the read end so far: a writer waiting in open()
	 *         returns when it changes, even if that reader has already
	 *         closed again.
	 */
	unsigned int r_counter;
	/** @brief Opens of the write end so far, for readers waiting in
	 *         open() and for EPOLLHUP.
	 */
	unsigned int w_counter;
	/** @brief Set once the read end has been polled: from then on every
	 *         write wakes rd_wait, not only one into an empty pipe, for
	 *         epoll's edge-triggered mode, which wants an event for every
	 *         write (fs/pipe.c does the same). Cleared with the bytes when
	 *         the last file of both ends closes, as a named pipe's goes
	 *         with its pipe_inode_info.
	 */
	bool poll_usage;
	/** @brief Readers sleep here for data or for the last writer to go. */
	wait_queue_head_t rd_wait;
	/** @brief Writers sleep here for room or for the last reader to go. */
	wait_queue_head_t wr_wait;
	/** @brief open() sleeps here until the other end is opened. */
	wait_queue_head_t open_wait;
	/** @brief The two ends. */
	struct mypipe_end ends[MYPIPE_ENDS];
	/** @brief The first of the two device numbers. */
	dev_t devt;
	/** @brief The device class, /sys/class/mypipe. */
	struct class *class;
};

/** @brief What one open file needs besides the pipe. */
struct mypipe_file {
	/** @brief The pipe. */
	struct mypipe *pipe;
	/** @brief For a read end opened with O_NONBLOCK while no writer was
	 *         there: w_counter at that moment. poll() reports EPOLLHUP
	 *         only once a writer has come (and gone) since, as for a
	 *         named pipe; 0 otherwise (the counters start at 1).
	 */
	unsigned int w_counter_at_open;
};

/** @brief The one pipe of this module. */
static struct mypipe mypipe;

/** @brief The module's debugfs directory, mypipe/, for the live view. */
static struct dentry *mypipe_debugfs;

/** @brief Node names of the ends, in minor order. */
static const char *const mypipe_names[MYPIPE_ENDS] = {
	[MYPIPE_IN] = "mypipe_in",
	[MYPIPE_OUT] = "mypipe_out",
};

/** @brief The pipe behind an open file.
 * @param file an open file of either end
 * @return the pipe
 */
static struct mypipe *mypipe_of(struct file *file)
{
	return ((struct mypipe_file *)file->private_data)->pipe;
}

/** @brief Copy @p count bytes (at most the bytes in the ring) from the
 *         ring to user space, in at most two pieces: up to the end of the
 *         ring, then from its start. Called with the semaphore held; may
 *         fault on @p to and sleep.
 * @param pipe the pipe
 * @param to user-space destination
 * @param count bytes to copy
 * @return bytes copied and taken out of the ring (fewer than @p count
 *         only on a fault)
 */
static size_t mypipe_copy_out(struct mypipe *pipe, char __user *to,
			      size_t count)
{
	size_t first = min(count, pipe->size - pipe->head);
	size_t done;

	done = first - copy_to_user(to, pipe->buf + pipe->head, first);
	if (done == first && count > first)
		done += count - first -
			copy_to_user(to + first, pipe->buf, count - first);
	pipe->head = (pipe->head + done) % pipe->size;
	pipe->len -= done;
	return done;
}

/** @brief Copy @p count bytes (at most the room in the ring) from user
 *         space to the ring's end, in at most two pieces. Called with the
 *         semaphore held; may fault on @p from and sleep.
 * @param pipe the pipe
 * @param from user-space source
 * @param count bytes to copy
 * @return bytes copied and added to the ring (fewer than @p count only
 *         on a fault)
 */
static size_t mypipe_copy_in(struct mypipe *pipe, const char __user *from,
			     size_t count)
{
	size_t tail = (pipe->head + pipe->len) % pipe->size;
	size_t first = min(count, pipe->size - tail);
	size_t done;

	done = first - copy_from_user(pipe->buf + tail, from, first);
	if (done == first && count > first)
		done += count - first -
			copy_from_user(pipe->buf, from + first, count - first);
	pipe->len += done;
	return done;
}

/** @brief Whether a sleeping reader should wake: data, or no writer.
 *
 * Read without the semaphore (a sleeper cannot hold it); the reader
 * checks again under it. Every reader waits for this same condition, so
 * that a wake-up given to one of them is one that any of them could use.
 *
 * @param pipe the pipe
 * @return true if the reader should look again
 */
static bool mypipe_readable(struct mypipe *pipe)
{
	/* TODO 1/2: the last writer gone is a reason to wake up too */
	if (!READ_ONCE(pipe->writers))
		return true;
	return READ_ONCE(pipe->len);
}

/** @brief Whether the pipe has room for a write of PIPE_BUF bytes: what
 *         every sleeping writer waits for, and what poll() calls
 *         EPOLLOUT. Under the semaphore, or read once without it.
 * @param len bytes in the ring
 * @param size capacity of the ring
 * @return true if PIPE_BUF bytes fit
 */
static bool mypipe_has_room(size_t len, size_t size)
{
	return size - len >= PIPE_BUF;
}

/** @brief Whether a sleeping writer should wake: room for PIPE_BUF bytes,
 *         or no reader. Read without the semaphore, like
 *         mypipe_readable().
 *
 * Writers sleep for room for PIPE_BUF bytes whatever they need (a
 * smaller write that fits goes in without sleeping): so every writer
 * waits for the same condition, and one wake-up is enough for any of
 * them, as a free page is for any writer of the kernel's pipe.
 *
 * @param pipe the pipe
 * @return true if the writer should look again
 */
static bool mypipe_writable(struct mypipe *pipe)
{
	/* TODO 4/2: the last reader gone is a reason to wake up too */
	if (!READ_ONCE(pipe->readers))
		return true;
	return mypipe_has_room(READ_ONCE(pipe->len), pipe->size);
}

/** @brief How many times mypipe_lock() tries the semaphore before it
 *         sleeps on it.
 */
#define MYPIPE_LOCK_TRIES 200

/** @brief Take the pipe's semaphore for a read or a write: try it a few
 *         times before sleeping on it.
 *
 * up() hands the semaphore straight to a task asleep in down(). Once a
 * reader and a writer have both slept on it, each call of one finds the
 * semaphore handed to the other, sleeps, and is handed it back when the
 * other's copy is done: two context switches for every call, however
 * small (a lock convoy). The other side holds the semaphore for a copy
 * or two, so with another CPU running it, it is free again in a moment:
 * try it a bounded number of times first, as a mutex spins while its
 * owner runs (kernel/locking/mutex.c, the lock of fs/pipe.c). On one
 * CPU the holder cannot run while we try: sleep at once. Stop trying
 * too when the scheduler wants this CPU for another task.
 *
 * Trying never takes the semaphore from a sleeper: up() gives it to the
 * first task asleep in down() before anyone else can try it.
 *
 * @param pipe the pipe
 * @return 0 with the semaphore held; -EINTR if a signal came while
 *         asleep on it
 */
static int mypipe_lock(struct mypipe *pipe)
{
	unsigned int tries;

	if (num_online_cpus() > 1) {
		for (tries = 0; tries < MYPIPE_LOCK_TRIES; tries++) {
			if (!down_trylock(&pipe->sem))
				return 0;
			if (need_resched())
				break;
			cpu_relax();
		}
	}
	return down_interruptible(&pipe->sem);
}

/** @brief Read from the pipe: what is there, at least one byte; sleep
 *         while it is empty and a writer exists.
 *
 * Takes the semaphore (mypipe_lock(), interruptibly); sleeps on rd_wait
 * without O_NONBLOCK, as an exclusive waiter; may fault on @p buf. Wakes,
 * after letting go of the semaphore, one writer if this read gave the pipe
 * room for PIPE_BUF bytes where it had none, and the next reader if it
 * slept and leaves data behind (see the handout, "Waking only who can go
 * on").
 *
 * @param file the open read end
 * @param buf user-space destination
 * @param count bytes asked for
 * @param ppos unused: a pipe has no position
 * @return bytes read, 0 at end of file (empty and no writer), -EAGAIN
 *         (O_NONBLOCK, empty, a writer exists), -EFAULT if nothing could
 *         be copied to @p buf, -ERESTARTSYS if a signal came first
 */
static ssize_t mypipe_read(struct file *file, char __user *buf,
			   size_t count, loff_t *ppos)
{
	struct mypipe *pipe = mypipe_of(file);
	bool wake_writer = false, wake_next_reader = false;
	size_t done = 0;
	ssize_t ret = 0;

	if (!count)
		return 0;
	if (mypipe_lock(pipe))
		return -ERESTARTSYS;
	while (!pipe->len) {
		/* TODO 1/2: empty and no writer left: end of file */
		if (!pipe->writers)
			goto out;
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto out;
		}
		up(&pipe->sem);
		pr_debug("pid %d waits for data\n", current->pid);
		if (wait_event_interruptible_exclusive(pipe->rd_wait,
						       mypipe_readable(pipe)))
			return -ERESTARTSYS;
		if (mypipe_lock(pipe)) {
			/* Woken, but gone: another reader may use the wake-up. */
			wake_up_interruptible(&pipe->rd_wait);
			return -ERESTARTSYS;
		}
		/* Woken alone: what this read leaves, the next reader gets. */
		wake_next_reader = true;
	}
	done = mypipe_copy_out(pipe, buf, min(count, pipe->len));
	/* The pipe was not empty: nothing copied means a fault on buf. */
	ret = done ? done : -EFAULT;
	/* TODO 2/2: room for PIPE_BUF bytes that was not there: wake a writer */
	wake_writer = mypipe_has_room(pipe->len, pipe->size) &&
		      !mypipe_has_room(pipe->len + done, pipe->size);
out:
	if (!pipe->len)
		wake_next_reader = false;
	up(&pipe->sem);
	pr_debug("pid %d read %zu of %zu\n", current->pid, done, count);
	if (wake_writer)
		wake_up_interruptible_sync_poll(&pipe->wr_wait,
						EPOLLOUT | EPOLLWRNORM);
	if (wake_next_reader)
		wake_up_interruptible_sync_poll(&pipe->rd_wait,
						EPOLLIN | EPOLLRDNORM);
	return ret;
}

/** @brief Write to the pipe: at most PIPE_BUF bytes go in whole, more go
 *         in as room appears; sleep while there is no room.
 *
 * Takes the semaphore (mypipe_lock(), interruptibly); sleeps on wr_wait
 * without O_NONBLOCK, as an exclusive waiter; may fault on @p buf. With no
 * reader left, sends SIGPIPE to the caller, also after a part of a large
 * write went in. Wakes, after letting go of the semaphore, one reader if
 * the pipe was empty and this write put bytes in (after any write that put
 * bytes in, once the read end has been polled: see poll_usage), and the
 * next writer if it slept and leaves room for PIPE_BUF bytes.
 *
 * @param file the open write end
 * @param buf user-space source
 * @param count bytes to write
 * @param ppos unused: a pipe has no position
 * @return bytes written; if none: -EPIPE (no reader), -EAGAIN
 *         (O_NONBLOCK and no room), -EFAULT, or -ERESTARTSYS if a signal
 *         came first
 */
static ssize_t mypipe_write(struct file *file, const char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct mypipe *pipe = mypipe_of(file);
	bool was_empty, wake_reader = false, wake_next_writer = false;
	size_t done = 0, copied, need, n, room;
	ssize_t ret = 0;

	if (!count)
		return 0;
	/* What must fit at once: a byte of a large write, */
	need = 1;
	/* TODO 3/2: but all of a write of at most PIPE_BUF bytes */
	if (count <= PIPE_BUF)
		need = count;
	if (mypipe_lock(pipe))
		return -ERESTARTSYS;
	/* Readers can be asleep for data only while the pipe is empty. */
	was_empty = !pipe->len;
	for (;;) {
		/* TODO 4/5: no reader left: SIGPIPE and -EPIPE */
		if (!pipe->readers) {
			send_sig(SIGPIPE, current, 0);
			ret = -EPIPE;
			break;
		}
		room = pipe->size - pipe->len;
		if (room >= need) {
			n = min(room, count - done);
			copied = mypipe_copy_in(pipe, buf + done, n);
			done += copied;
			if (copied != n) {
				/* A fault on buf; what went in still counts. */
				ret = -EFAULT;
				break;
			}
			if (done == count)
				break;
			continue;
		}
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			break;
		}
		/* TODO 5/1: readers must empty the ring for the rest to go in */
		wake_reader = was_empty;
		up(&pipe->sem);
		if (wake_reader)
			wake_up_interruptible_sync_poll(&pipe->rd_wait,
							EPOLLIN | EPOLLRDNORM);
		pr_debug("pid %d waits for room for %zu\n", current->pid, need);
		if (wait_event_interruptible_exclusive(pipe->wr_wait,
						       mypipe_writable(pipe)))
			return done ? done : -ERESTARTSYS;
		if (mypipe_lock(pipe)) {
			/* Woken, but gone: another writer may use the wake-up. */
			wake_up_interruptible(&pipe->wr_wait);
			return done ? done : -ERESTARTSYS;
		}
		was_empty = !pipe->len;
		/* Woken alone: the room this write leaves, the next one gets. */
		wake_next_writer = true;
	}
	/* Bytes in a pipe that was empty: a reader may be asleep for them. */
	wake_reader = (was_empty || READ_ONCE(pipe->poll_usage)) && pipe->len;
	if (!mypipe_has_room(pipe->len, pipe->size))
		wake_next_writer = false;
	up(&pipe->sem);
	pr_debug("pid %d wrote %zu of %zu\n", current->pid, done, count);
	if (wake_reader)
		wake_up_interruptible_sync_poll(&pipe->rd_wait,
						EPOLLIN | EPOLLRDNORM);
	if (wake_next_writer)
		wake_up_interruptible_sync_poll(&pipe->wr_wait,
						EPOLLOUT | EPOLLWRNORM);
	return done ? done : ret;
}

/** @brief poll() on the read end: EPOLLIN while there is data, EPOLLHUP
 *         once no writer is left.
 *
 * Reads the pipe without the semaphore, as fs/pipe.c does: poll cannot
 * report a signal, each value is read once, and every change is followed
 * by a wake-up of rd_wait, after which poll looks again. A read end
 * opened with O_NONBLOCK before any writer came does not see EPOLLHUP
 * until a writer has opened (a named pipe does the same).
 *
 * @param file the open read end
 * @param wait the poll table to add rd_wait to
 * @return the events that are ready
 */
static __poll_t mypipe_out_poll(struct file *file, poll_table *wait)
{
	struct mypipe_file *pf = file->private_data;
	struct mypipe *pipe = pf->pipe;
	__poll_t mask = 0;

	WRITE_ONCE(pipe->poll_usage, true);
	poll_wait(file, &pipe->rd_wait, wait);
	if (READ_ONCE(pipe->len))
		mask |= EPOLLIN | EPOLLRDNORM;
	/* TODO 6/3: no writer left (and one was seen): hang-up */
	if (!READ_ONCE(pipe->writers) &&
	    READ_ONCE(pipe->w_counter) != pf->w_counter_at_open)
		mask |= EPOLLHUP;
	return mask;
}

/** @brief poll() on the write end: EPOLLOUT while a write of PIPE_BUF
 *         bytes would not sleep, EPOLLERR once no reader is left.
 *
 * Reads the pipe without the semaphore, like mypipe_out_poll().
 *
 * @param file the open write end
 * @param wait the poll table to add wr_wait to
 * @return the events that are ready
 */
static __poll_t mypipe_in_poll(struct file *file, poll_table *wait)
{
	struct mypipe *pipe = mypipe_of(file);
	__poll_t mask = 0;

	poll_wait(file, &pipe->wr_wait, wait);
	if (mypipe_has_room(READ_ONCE(pipe->len), pipe->size))
		mask |= EPOLLOUT | EPOLLWRNORM;
	/* TODO 6/2: no reader left: error */
	if (!READ_ONCE(pipe->readers))
		mask |= EPOLLERR;
	return mask;
}

/** @brief Take one file off an end's count; the last one of its end
 *         wakes every sleeper of the other side, and the last one of both
 *         drops the bytes left and clears poll_usage.
 *
 * Takes the semaphore uninterruptibly: a close cannot fail, and the
 * semaphore is only ever held for one transfer.
 *
 * @param pipe the pipe
 * @param id the end the file was on
 */
static void mypipe_leave(struct mypipe *pipe, enum mypipe_end_id id)
{
	bool last;

	down(&pipe->sem);
	if (id == MYPIPE_IN)
		last = !--pipe->writers;
	else
		last = !--pipe->readers;
	/*
	 * Nobody can read them any more: a named pipe drops them too, and
	 * forgets that it was polled.
	 */
	if (!pipe->readers && !pipe->writers) {
		pipe->head = pipe->len = 0;
		WRITE_ONCE(pipe->poll_usage, false);
	}
	up(&pipe->sem);
	/* TODO 7/3: the last writer gone means EOF, the last reader EPIPE */
	if (last)
		wake_up_interruptible_all(id == MYPIPE_IN ? &pipe->rd_wait :
							    &pipe->wr_wait);
}

/** @brief Open one end; sleep until the other end is open too.
 *
 * Takes the semaphore (interruptibly) and, without O_NONBLOCK, sleeps on
 * open_wait until the other end's open counter moves: an open of the
 * other end that has already been closed again still counts, as for a
 * named pipe.
 *
 * @param pipe the pipe
 * @param id the end being opened
 * @param inode the end's inode
 * @param file the file being opened
 * @return 0; -EACCES when opened the wrong way (the read end for writing
 *         or the write end for reading); -EBUSY with exclusive=1 when the
 *         end is held; -ENXIO for the write end with O_NONBLOCK and no
 *         reader; -ENOMEM; -ERESTARTSYS if a signal came first
 */
static int mypipe_open(struct mypipe *pipe, enum mypipe_end_id id,
		       struct inode *inode, struct file *file)
{
	struct mypipe_end *end = &pipe->ends[id];
	bool writer = id == MYPIPE_IN;
	bool nonblock = file->f_flags & O_NONBLOCK;
	unsigned int *other_counter;
	struct mypipe_file *pf;
	unsigned int seen;
	bool wait;
	int ret;

	/* This end's direction only: not O_RDWR, nor access mode 3 (neither). */
	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (writer ? FMODE_WRITE : FMODE_READ))
		return -EACCES;
	/* TODO 8/4: exclusive=1: take the end, or -EBUSY if a file holds it */
	if (exclusive && !atomic_dec_and_test(&end->available)) {
		atomic_inc(&end->available);
		return -EBUSY;
	}
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf) {
		ret = -ENOMEM;
		goto give_back_end;
	}
	pf->pipe = pipe;
	if (down_interruptible(&pipe->sem)) {
		ret = -ERESTARTSYS;
		goto free_file;
	}
	if (writer) {
		if (nonblock && !pipe->readers) {
			up(&pipe->sem);
			ret = -ENXIO;
			goto free_file;
		}
		pipe->w_counter++;
		pipe->writers++;
		other_counter = &pipe->r_counter;
		wait = !pipe->readers;
	} else {
		pipe->r_counter++;
		pipe->readers++;
		other_counter = &pipe->w_counter;
		wait = !pipe->writers && !nonblock;
		if (!pipe->writers && nonblock)
			pf->w_counter_at_open = pipe->w_counter;
	}
	seen = *other_counter;
	up(&pipe->sem);
	/* An open of the other end may be waiting for this one. */
	wake_up_interruptible(&pipe->open_wait);

	/* TODO 9/6: sleep until the other end's counter moves; undo on a signal */
	if (wait && wait_event_interruptible(pipe->open_wait,
					     READ_ONCE(*other_counter) != seen)) {
		mypipe_leave(pipe, id);
		ret = -ERESTARTSYS;
		goto free_file;
	}
	file->private_data = pf;
	pr_debug("pid %d opened %s\n", current->pid, mypipe_names[id]);
	return stream_open(inode, file);

free_file:
	kfree(pf);
give_back_end:
	if (exclusive)
		atomic_inc(&end->available);
	return ret;
}

/** @brief Close a file of one end: the end's count drops, the other side
 *         may wake (see mypipe_leave()), and with exclusive=1 the end is
 *         free again.
 * @param id the end
 * @param file the file being closed
 * @return 0
 */
static int mypipe_release(enum mypipe_end_id id, struct file *file)
{
	struct mypipe_file *pf = file->private_data;

	mypipe_leave(pf->pipe, id);
	if (exclusive)
		atomic_inc(&pf->pipe->ends[id].available);
	kfree(pf);
	return 0;
}

/** @brief open() of /dev/mypipe/mypipe_in: see mypipe_open().
 * @param inode the inode, whose cdev is the write end's
 * @param file the file being opened
 * @return as mypipe_open()
 */
static int mypipe_in_open(struct inode *inode, struct file *file)
{
	return mypipe_open(container_of(inode->i_cdev, struct mypipe,
					ends[MYPIPE_IN].cdev),
			   MYPIPE_IN, inode, file);
}

/** @brief open() of /dev/mypipe/mypipe_out: see mypipe_open().
 * @param inode the inode, whose cdev is the read end's
 * @param file the file being opened
 * @return as mypipe_open()
 */
static int mypipe_out_open(struct inode *inode, struct file *file)
{
	return mypipe_open(container_of(inode->i_cdev, struct mypipe,
					ends[MYPIPE_OUT].cdev),
			   MYPIPE_OUT, inode, file);
}

/** @brief Last close of a file of the write end.
 * @param inode unused
 * @param file the file
 * @return 0
 */
static int mypipe_in_release(struct inode *inode, struct file *file)
{
	return mypipe_release(MYPIPE_IN, file);
}

/** @brief Last close of a file of the read end.
 * @param inode unused
 * @param file the file
 * @return 0
 */
static int mypipe_out_release(struct inode *inode, struct file *file)
{
	return mypipe_release(MYPIPE_OUT, file);
}

/** @brief The file operations of each end: the write end cannot be read
 *         and the read end cannot be written. .owner keeps the module
 *         loaded while a file is open.
 */
static const struct file_operations mypipe_fops[MYPIPE_ENDS] = {
	[MYPIPE_IN] = {
		.owner = THIS_MODULE,
		.open = mypipe_in_open,
		.release = mypipe_in_release,
		.write = mypipe_write,
		.poll = mypipe_in_poll,
		.llseek = kc_no_llseek,
	},
	[MYPIPE_OUT] = {
		.owner = THIS_MODULE,
		.open = mypipe_out_open,
		.release = mypipe_out_release,
		.read = mypipe_read,
		.poll = mypipe_out_poll,
		.llseek = kc_no_llseek,
	},
};

/** @brief Name and mode of the nodes devtmpfs makes for the class:
 *         /dev/mypipe/NAME, mode 0666.
 * @param dev the device whose node is made
 * @param mode where to store the node's mode
 * @return the node's path under /dev, allocated with kmalloc
 */
static char *mypipe_devnode(KC_DEVNODE_CONST struct device *dev,
			    umode_t *mode)
{
	if (mode)
		*mode = 0666;
	return kasprintf(GFP_KERNEL, "mypipe/%s", dev_name(dev));
}

/** @brief Show the pipe's state, one line (debugfs mypipe/state): the
 *         ring's size and the bytes in it, the files open on each end,
 *         the tasks waiting for data, for room and in open(). A snapshot,
 *         taken without the semaphore.
 * @param m the seq_file being filled; m->private is the pipe
 * @param unused not used
 * @return 0
 */
static int mypipe_state_show(struct seq_file *m, void *unused)
{
	struct mypipe *pipe = m->private;

	seq_printf(m, "mypipe size %zu used %zu readers %u writers %u readers_waiting %u writers_waiting %u openers_waiting %u\n",
		   pipe->size, READ_ONCE(pipe->len), READ_ONCE(pipe->readers),
		   READ_ONCE(pipe->writers), fifo_view_waiting(&pipe->rd_wait),
		   fifo_view_waiting(&pipe->wr_wait),
		   fifo_view_waiting(&pipe->open_wait));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mypipe_state);

/** @brief Remove the first @p count ends, last first: the node, then the
 *         character device.
 * @param pipe the pipe
 * @param count how many ends were set up
 */
static void mypipe_remove_ends(struct mypipe *pipe, int count)
{
	while (count--) {
		device_destroy(pipe->class, pipe->devt + count);
		cdev_del(&pipe->ends[count].cdev);
	}
}

/** @brief Check pipe_size, set the pipe up, then register the two ends;
 *         /dev/mypipe/mypipe_in and mypipe_out appear when this returns.
 * @return 0, -EINVAL for a bad pipe_size, -ENOMEM, or the error of a
 *         registration step
 */
static int __init mypipe_init(void)
{
	struct mypipe *pipe = &mypipe;
	struct device *dev;
	int i, ret;

	if (pipe_size < MYPIPE_MIN_SIZE || pipe_size > MYPIPE_MAX_SIZE) {
		pr_err("pipe_size=%u: not from %u to %u\n", pipe_size,
		       MYPIPE_MIN_SIZE, MYPIPE_MAX_SIZE);
		return -EINVAL;
	}
	pipe->buf = kvmalloc(pipe_size, GFP_KERNEL);
	if (!pipe->buf)
		return -ENOMEM;
	pipe->size = pipe_size;
	sema_init(&pipe->sem, 1);
	init_waitqueue_head(&pipe->rd_wait);
	init_waitqueue_head(&pipe->wr_wait);
	init_waitqueue_head(&pipe->open_wait);
	/* From 1, so that w_counter_at_open == 0 never matches. */
	pipe->r_counter = 1;
	pipe->w_counter = 1;

	ret = alloc_chrdev_region(&pipe->devt, 0, MYPIPE_ENDS, "mypipe");
	if (ret) {
		pr_err("cannot get device numbers: %d\n", ret);
		goto free_buf;
	}
	pipe->class = kc_class_create("mypipe");
	if (IS_ERR(pipe->class)) {
		ret = PTR_ERR(pipe->class);
		pr_err("cannot create the class: %d\n", ret);
		goto free_region;
	}
	pipe->class->devnode = mypipe_devnode;
	/* The live view is a debugging aid: debugfs failures are not errors. */
	mypipe_debugfs = debugfs_create_dir("mypipe", NULL);
	debugfs_create_file("state", 0444, mypipe_debugfs, pipe,
			    &mypipe_state_fops);
	/* Last: from cdev_add() on, an end can be opened. */
	for (i = 0; i < MYPIPE_ENDS; i++) {
		atomic_set(&pipe->ends[i].available, 1);
		cdev_init(&pipe->ends[i].cdev, &mypipe_fops[i]);
		pipe->ends[i].cdev.owner = THIS_MODULE;
		ret = cdev_add(&pipe->ends[i].cdev, pipe->devt + i, 1);
		if (ret) {
			pr_err("cannot add %s: %d\n", mypipe_names[i], ret);
			goto remove_ends;
		}
		dev = device_create(pipe->class, NULL, pipe->devt + i, NULL,
				    "%s", mypipe_names[i]);
		if (IS_ERR(dev)) {
			ret = PTR_ERR(dev);
			pr_err("cannot create %s: %d\n", mypipe_names[i], ret);
			cdev_del(&pipe->ends[i].cdev);
			goto remove_ends;
		}
	}
	pr_info("ready, major %d, %zu-byte pipe%s\n", MAJOR(pipe->devt),
		pipe->size, exclusive ? ", exclusive ends" : "");
	return 0;

remove_ends:
	mypipe_remove_ends(pipe, i);
	debugfs_remove_recursive(mypipe_debugfs);
	class_destroy(pipe->class);
free_region:
	unregister_chrdev_region(pipe->devt, MYPIPE_ENDS);
free_buf:
	kvfree(pipe->buf);
	return ret;
}

/** @brief Remove the ends first, so that nobody can open them, then the
 *         live view, the class, the device numbers and the ring. No file is open: each
 *         one holds a reference to the module.
 */
static void __exit mypipe_exit(void)
{
	struct mypipe *pipe = &mypipe;

	mypipe_remove_ends(pipe, MYPIPE_ENDS);
	debugfs_remove_recursive(mypipe_debugfs);
	class_destroy(pipe->class);
	unregister_chrdev_region(pipe->devt, MYPIPE_ENDS);
	kvfree(pipe->buf);
	pr_info("removed\n");
}

module_init(mypipe_init);
module_exit(mypipe_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Character-device lab kit");
MODULE_DESCRIPTION("Lab 07: a two-ended pipe device with the semantics of a named pipe");
