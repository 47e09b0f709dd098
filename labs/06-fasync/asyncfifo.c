// SPDX-License-Identifier: GPL-2.0
/** @file asyncfifo.c
 * @brief Lab 06: Lab 05's FIFOs, /dev/asyncfifo0 and on, that signal their
 *        owners (SIGIO) when data or room arrives.
 *
 * Each minor is Lab 05's device: its own FIFO, locks and wait queues,
 * blocking and O_NONBLOCK reads and writes, and poll(). The new concept
 * is asynchronous notification. A program that sets O_ASYNC on its file
 * (after F_SETOWN, and optionally F_SETSIG) asks to be sent a signal
 * instead of having to wait or poll: the VFS calls .fasync, which adds the
 * file to the device's list with fasync_helper(), and every write that
 * adds data calls kill_fasync(..., SIGIO, POLL_IN), every read that makes
 * room kill_fasync(..., SIGIO, POLL_OUT). The signal goes to each file's
 * owner; with F_SETSIG its siginfo says which event it was (si_code
 * POLL_IN or POLL_OUT, si_band the matching poll bits) and on which
 * descriptor. Clearing O_ASYNC, or the last close of the file, takes it
 * off the list again (the VFS calls .fasync with on = 0).
 *
 * /sys/kernel/debug/asyncfifo/state shows every FIFO live, one line each: how
 * full it is and how many tasks wait on each queue (see
 * common/fifo_view.h).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fcntl.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kfifo.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "fifo_view.h"
#include "kcompat.h"

/** @brief Smallest FIFO the fifo_size parameter accepts, in bytes. */
#define ASYNCFIFO_MIN_SIZE 2
/** @brief Largest FIFO the fifo_size parameter accepts, in bytes. */
#define ASYNCFIFO_MAX_SIZE 65536
/** @brief Most devices the ndevices parameter accepts. */
#define ASYNCFIFO_MAX_DEVICES 32

/** @brief Capacity of each FIFO in bytes: a power of two from
 *         ASYNCFIFO_MIN_SIZE to ASYNCFIFO_MAX_SIZE, read once at load time.
 */
static unsigned int fifo_size = 64;
module_param(fifo_size, uint, 0444);
MODULE_PARM_DESC(fifo_size,
		 "capacity of each FIFO in bytes, a power of two from 2 to 65536 (default 64)");

/** @brief How many devices to create: 1 to ASYNCFIFO_MAX_DEVICES, read
 *         once at load time.
 */
static unsigned int ndevices = 8;
module_param(ndevices, uint, 0444);
MODULE_PARM_DESC(ndevices, "number of devices, 1 to 32 (default 8)");

/** @brief Everything one FIFO device needs. */
struct asyncfifo_dev {
	/**
	 * @brief Files to signal (O_ASYNC set) when data or room comes;
	 *        fasync_helper() and kill_fasync() do their own locking.
	 */
	struct fasync_struct *async_queue;
	/** @brief The bytes written and not yet read. */
	DECLARE_KFIFO_PTR(fifo, char);
	/** @brief Makes readers take turns at the FIFO; may sleep. */
	struct mutex read_lock;
	/** @brief Makes writers take turns at the FIFO; may sleep. */
	struct mutex write_lock;
	/** @brief Readers, and pollers waiting for data, sleep here. */
	wait_queue_head_t readers;
	/** @brief Writers, and pollers waiting for room, sleep here. */
	wait_queue_head_t writers;
	/** @brief The misc device, /dev/asyncfifoN. */
	struct miscdevice misc;
	/** @brief The device's name, which misc.name points to. */
	char name[20];
};

/** @brief The ndevices devices, allocated at load time. */
static struct asyncfifo_dev *asyncfifo_devs;

/** @brief The module's debugfs directory, asyncfifo/, for the live view. */
static struct dentry *asyncfifo_debugfs;

/** @brief Open /dev/asyncfifoN as a stream and attach its device.
 *
 * misc_open() has left a pointer to the device's struct miscdevice in
 * file->private_data; the struct around it is the device.
 *
 * @param inode the device's inode
 * @param file the file being opened
 * @return 0
 */
static int asyncfifo_open(struct inode *inode, struct file *file)
{
	file->private_data = container_of(file->private_data,
					  struct asyncfifo_dev, misc);
	stream_open(inode, file);
	return 0;
}

/** @brief Move bytes from the FIFO to user space, oldest first; sleep
 *         while the FIFO is empty.
 *
 * Sleeps on the readers' mutex and, without O_NONBLOCK, on the readers'
 * wait queue; may fault on @p buf.
 *
 * @param file the open file, for its device and its O_NONBLOCK flag
 * @param buf user-space destination
 * @param count bytes asked for
 * @param ppos unused: a stream has no position
 * @return bytes read (at least 1), -EAGAIN when the FIFO is empty and the
 *         file is O_NONBLOCK, -EFAULT if nothing could be copied to
 *         @p buf, -ERESTARTSYS if a signal came first
 */
static ssize_t asyncfifo_read(struct file *file, char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct asyncfifo_dev *dev = file->private_data;
	unsigned int copied = 0;
	int ret;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&dev->read_lock))
		return -ERESTARTSYS;
	while (kfifo_is_empty(&dev->fifo)) {
		mutex_unlock(&dev->read_lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		pr_debug("%s: pid %d waits for data\n", dev->name,
			 current->pid);
		if (wait_event_interruptible(dev->readers,
					     !kfifo_is_empty(&dev->fifo)))
			return -ERESTARTSYS;
		if (mutex_lock_interruptible(&dev->read_lock))
			return -ERESTARTSYS;
	}
	ret = kfifo_to_user(&dev->fifo, buf, count, &copied);
	mutex_unlock(&dev->read_lock);

	pr_debug("%s: pid %d read %u of %zu\n", dev->name, current->pid,
		 copied, count);
	/* The FIFO was not empty: nothing copied means a fault on buf. */
	if (!copied)
		return ret;
	/* Room for writers, and for pollers waiting for EPOLLOUT. */
	wake_up_interruptible(&dev->writers);
	/* TODO 2/1: and for the owners of O_ASYNC files: SIGIO, POLL_OUT */
	return copied;
}

/** @brief Move bytes from user space to the end of the FIFO; sleep while
 *         the FIFO is full.
 *
 * Sleeps on the writers' mutex and, without O_NONBLOCK, on the writers'
 * wait queue; may fault on @p buf.
 *
 * @param file the open file, for its device and its O_NONBLOCK flag
 * @param buf user-space source
 * @param count bytes to write
 * @param ppos unused: a stream has no position
 * @return bytes written (at least 1), -EAGAIN when the FIFO is full and
 *         the file is O_NONBLOCK, -EFAULT if nothing could be copied from
 *         @p buf, -ERESTARTSYS if a signal came first
 */
static ssize_t asyncfifo_write(struct file *file, const char __user *buf,
			      size_t count, loff_t *ppos)
{
	struct asyncfifo_dev *dev = file->private_data;
	unsigned int copied = 0;
	int ret;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&dev->write_lock))
		return -ERESTARTSYS;
	while (kfifo_is_full(&dev->fifo)) {
		mutex_unlock(&dev->write_lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		pr_debug("%s: pid %d waits for room\n", dev->name,
			 current->pid);
		if (wait_event_interruptible(dev->writers,
					     !kfifo_is_full(&dev->fifo)))
			return -ERESTARTSYS;
		if (mutex_lock_interruptible(&dev->write_lock))
			return -ERESTARTSYS;
	}
	ret = kfifo_from_user(&dev->fifo, buf, count, &copied);
	mutex_unlock(&dev->write_lock);

	pr_debug("%s: pid %d wrote %u of %zu\n", dev->name, current->pid,
		 copied, count);
	/* The FIFO had room: nothing copied means a fault on buf. */
	if (!copied)
		return ret;
	/* Data for readers, and for pollers waiting for EPOLLIN. */
	wake_up_interruptible(&dev->readers);
	/* TODO 3/1: and for the owners of O_ASYNC files: SIGIO, POLL_IN */
	return copied;
}

/** @brief Say what the file is ready for, and where to wait for a change.
 *
 * Called by poll(), select() and epoll; must not sleep. Reads the FIFO's
 * state without its locks: the answer is a snapshot either way, and every
 * change is followed by a wake-up of the queue registered here.
 *
 * @param file the open file, for its device
 * @param wait the poll table to register the wait queues with
 * @return EPOLLIN | EPOLLRDNORM if the FIFO holds data, EPOLLOUT |
 *         EPOLLWRNORM if it has room; both, one, or (never here) neither
 */
static __poll_t asyncfifo_poll(struct file *file, poll_table *wait)
{
	struct asyncfifo_dev *dev = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &dev->readers, wait);
	poll_wait(file, &dev->writers, wait);
	if (!kfifo_is_empty(&dev->fifo))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (!kfifo_is_full(&dev->fifo))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/** @brief Add the file to the device's list of files to signal, or take
 *         it off.
 *
 * The VFS calls this when O_ASYNC is set or cleared with fcntl(), and
 * with @p on = 0 at the last close of a file that had it set. May sleep.
 *
 * @param fd the descriptor, which the signal's si_fd reports
 * @param file the open file, for its device
 * @param on nonzero to add, zero to remove
 * @return 0 or positive on success, -ENOMEM
 */
static int asyncfifo_fasync(int fd, struct file *file, int on)
{
	struct asyncfifo_dev *dev = file->private_data;
	int ret = 0;

	pr_debug("%s: O_ASYNC %s for pid %d\n", dev->name, on ? "on" : "off",
		 current->pid);
	/* TODO 1/1: add the file to dev->async_queue, or remove it */
	return ret;
}

/** @brief Show every FIFO's state, one line each (debugfs asyncfifo/state):
 *         its size, the bytes in it, the tasks waiting for data and for
 *         room. A snapshot, taken without the devices' locks.
 * @param m the seq_file being filled
 * @param unused not used
 * @return 0
 */
static int asyncfifo_state_show(struct seq_file *m, void *unused)
{
	unsigned int i;

	for (i = 0; i < ndevices; i++) {
		struct asyncfifo_dev *dev = &asyncfifo_devs[i];

		fifo_view_show(m, dev->name, kfifo_size(&dev->fifo),
			       kfifo_len(&dev->fifo), &dev->readers,
			       &dev->writers);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(asyncfifo_state);

/** @brief What the VFS calls for each system call on /dev/asyncfifoN. */
static const struct file_operations asyncfifo_fops = {
	.owner = THIS_MODULE,
	.open = asyncfifo_open,
	.read = asyncfifo_read,
	.write = asyncfifo_write,
	.poll = asyncfifo_poll,
	.fasync = asyncfifo_fasync,
	.llseek = kc_no_llseek,
};

/** @brief Free the FIFOs of the first @p n devices, then the array.
 * @param n how many devices have a FIFO
 */
static void asyncfifo_free(unsigned int n)
{
	while (n--)
		kfifo_free(&asyncfifo_devs[n].fifo);
	kfree(asyncfifo_devs);
	asyncfifo_devs = NULL;
}

/** @brief Check the parameters, set up every device, then register them;
 *         /dev/asyncfifo0 and on appear when this returns.
 *
 * Each failure undoes exactly what was done before it, in reverse.
 *
 * @return 0, -EINVAL for a bad parameter, -ENOMEM, or the error from
 *         misc_register()
 */
static int __init asyncfifo_init(void)
{
	struct asyncfifo_dev *dev;
	unsigned int i, ready = 0;
	int ret;

	if (fifo_size < ASYNCFIFO_MIN_SIZE || fifo_size > ASYNCFIFO_MAX_SIZE ||
	    !is_power_of_2(fifo_size)) {
		pr_err("fifo_size=%u: not a power of two from %u to %u\n",
		       fifo_size, ASYNCFIFO_MIN_SIZE, ASYNCFIFO_MAX_SIZE);
		return -EINVAL;
	}
	if (ndevices < 1 || ndevices > ASYNCFIFO_MAX_DEVICES) {
		pr_err("ndevices=%u: not from 1 to %u\n", ndevices,
		       ASYNCFIFO_MAX_DEVICES);
		return -EINVAL;
	}
	asyncfifo_devs = kcalloc(ndevices, sizeof(*asyncfifo_devs), GFP_KERNEL);
	if (!asyncfifo_devs)
		return -ENOMEM;
	for (ready = 0; ready < ndevices; ready++) {
		dev = &asyncfifo_devs[ready];
		ret = kfifo_alloc(&dev->fifo, fifo_size, GFP_KERNEL);
		if (ret)
			goto free_fifos;
		mutex_init(&dev->read_lock);
		mutex_init(&dev->write_lock);
		init_waitqueue_head(&dev->readers);
		init_waitqueue_head(&dev->writers);
		snprintf(dev->name, sizeof(dev->name), "asyncfifo%u", ready);
		dev->misc.minor = MISC_DYNAMIC_MINOR;
		dev->misc.name = dev->name;
		dev->misc.fops = &asyncfifo_fops;
		dev->misc.mode = 0666;
	}

	/* The live view is a debugging aid: debugfs failures are not errors. */
	asyncfifo_debugfs = debugfs_create_dir("asyncfifo", NULL);
	debugfs_create_file("state", 0444, asyncfifo_debugfs, NULL,
			    &asyncfifo_state_fops);

	/* Last: from here on, the devices can be opened. */
	for (i = 0; i < ndevices; i++) {
		ret = misc_register(&asyncfifo_devs[i].misc);
		if (ret) {
			pr_err("cannot register %s: %d\n",
			       asyncfifo_devs[i].name, ret);
			goto deregister;
		}
	}
	pr_info("ready: %u devices, %u-byte FIFOs\n", ndevices, fifo_size);
	return 0;

deregister:
	while (i--)
		misc_deregister(&asyncfifo_devs[i].misc);
free_fifos:
	debugfs_remove_recursive(asyncfifo_debugfs);
	asyncfifo_free(ready);
	return ret;
}

/** @brief Unregister every device first, so that nobody can open one,
 *         then remove the live view and free the FIFOs.
 */
static void __exit asyncfifo_exit(void)
{
	unsigned int i;

	for (i = 0; i < ndevices; i++)
		misc_deregister(&asyncfifo_devs[i].misc);
	debugfs_remove_recursive(asyncfifo_debugfs);
	asyncfifo_free(ndevices);
	pr_info("removed\n");
}

module_init(asyncfifo_init);
module_exit(asyncfifo_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Character-device lab kit");
MODULE_DESCRIPTION("Lab 06: kfifo devices with poll and SIGIO");
