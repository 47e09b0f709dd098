// SPDX-License-Identifier: GPL-2.0
/** @file blkfifo.c
 * @brief Lab 04: Lab 03's FIFO, /dev/blkfifo, with blocking reads and writes.
 *
 * Without O_NONBLOCK a read of an empty FIFO now sleeps until a writer
 * adds data, and a write to a full FIFO sleeps until a reader makes room;
 * with O_NONBLOCK both fail with -EAGAIN, as in Lab 03. A sleep ends early
 * with -ERESTARTSYS when a signal arrives, and then nothing was read or
 * written. Transfers may be short: a read returns what is there (at least
 * one byte), a write writes what fits (at least one byte).
 *
 * Sleepers wait on two wait queues: readers for data, writers for room.
 * Each side wakes the other after its transfer, and only after letting go
 * of its lock, so that the woken task does not run into a held mutex.
 * A woken task takes its lock and looks at the FIFO again before it
 * copies: several readers may have been woken for the same byte, and only
 * one of them gets it; the others go back to sleep.
 *
 * The device's state lives in one struct, reached from each open file
 * through file->private_data, rather than in loose globals: Lab 05 makes
 * eight of them. The FIFO's size is the fifo_size module parameter.
 *
 * /sys/kernel/debug/blkfifo/state shows the FIFO live: how full it is and
 * how many tasks wait on each queue (see common/fifo_view.h).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kfifo.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/wait.h>

#include "fifo_view.h"
#include "kcompat.h"

/** @brief Smallest FIFO the fifo_size parameter accepts, in bytes. */
#define BLKFIFO_MIN_SIZE 2
/** @brief Largest FIFO the fifo_size parameter accepts, in bytes. */
#define BLKFIFO_MAX_SIZE 65536

/** @brief Capacity of the FIFO in bytes: a power of two from
 *         BLKFIFO_MIN_SIZE to BLKFIFO_MAX_SIZE, read once at load time.
 */
static unsigned int fifo_size = 64;
module_param(fifo_size, uint, 0444);
MODULE_PARM_DESC(fifo_size,
		 "capacity of the FIFO in bytes, a power of two from 2 to 65536 (default 64)");

/** @brief Everything one FIFO device needs. */
struct blkfifo_dev {
	/** @brief The bytes written and not yet read. */
	DECLARE_KFIFO_PTR(fifo, char);
	/** @brief Makes readers take turns at the FIFO; may sleep. */
	struct mutex read_lock;
	/** @brief Makes writers take turns at the FIFO; may sleep. */
	struct mutex write_lock;
	/** @brief Readers sleep here while the FIFO is empty. */
	wait_queue_head_t readers;
	/** @brief Writers sleep here while the FIFO is full. */
	wait_queue_head_t writers;
	/** @brief The misc device, /dev/blkfifo. */
	struct miscdevice misc;
};

/** @brief The one device of this lab. */
static struct blkfifo_dev blkfifo_dev;

/** @brief The module's debugfs directory, blkfifo/, for the live view. */
static struct dentry *blkfifo_debugfs;

/** @brief Open /dev/blkfifo as a stream and attach the device's state.
 *
 * misc_open() has left a pointer to our struct miscdevice in
 * file->private_data; the struct around it is the device.
 *
 * @param inode the device's inode
 * @param file the file being opened
 * @return 0
 */
static int blkfifo_open(struct inode *inode, struct file *file)
{
	file->private_data = container_of(file->private_data,
					  struct blkfifo_dev, misc);
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
static ssize_t blkfifo_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	struct blkfifo_dev *dev = file->private_data;
	unsigned int copied = 0;
	int ret;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&dev->read_lock))
		return -ERESTARTSYS;
	/* TODO 1/11: while empty: unlock, -EAGAIN if O_NONBLOCK, sleep, relock */
	ret = kfifo_to_user(&dev->fifo, buf, count, &copied);
	mutex_unlock(&dev->read_lock);

	pr_debug("pid %d read %u of %zu\n", current->pid, copied, count);
	/* The FIFO was not empty: nothing copied means a fault on buf. */
	if (!copied)
		return ret;
	/* TODO 3/1: the bytes just read made room: wake the writers */
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
static ssize_t blkfifo_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct blkfifo_dev *dev = file->private_data;
	unsigned int copied = 0;
	int ret;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&dev->write_lock))
		return -ERESTARTSYS;
	/* TODO 2/11: while full: unlock, -EAGAIN if O_NONBLOCK, sleep, relock */
	ret = kfifo_from_user(&dev->fifo, buf, count, &copied);
	mutex_unlock(&dev->write_lock);

	pr_debug("pid %d wrote %u of %zu\n", current->pid, copied, count);
	/* The FIFO had room: nothing copied means a fault on buf. */
	if (!copied)
		return ret;
	/* TODO 4/1: the bytes just written are data: wake the readers */
	return copied;
}

/** @brief Show the FIFO's state, one line (debugfs blkfifo/state): its
 *         size, the bytes in it, the tasks waiting for data and for room.
 *         A snapshot, taken without the device's locks.
 * @param m the seq_file being filled; m->private is the device
 * @param unused not used
 * @return 0
 */
static int blkfifo_state_show(struct seq_file *m, void *unused)
{
	struct blkfifo_dev *dev = m->private;

	fifo_view_show(m, dev->misc.name, kfifo_size(&dev->fifo),
		       kfifo_len(&dev->fifo), &dev->readers, &dev->writers);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(blkfifo_state);

/** @brief What the VFS calls for each system call on /dev/blkfifo. */
static const struct file_operations blkfifo_fops = {
	.owner = THIS_MODULE,
	.open = blkfifo_open,
	.read = blkfifo_read,
	.write = blkfifo_write,
	.llseek = kc_no_llseek,
};

/** @brief Check fifo_size, set the device up, then register it;
 *         /dev/blkfifo appears when this returns.
 * @return 0, -EINVAL for a bad fifo_size, -ENOMEM, or the error from
 *         misc_register()
 */
static int __init blkfifo_init(void)
{
	struct blkfifo_dev *dev = &blkfifo_dev;
	int ret;

	if (fifo_size < BLKFIFO_MIN_SIZE || fifo_size > BLKFIFO_MAX_SIZE ||
	    !is_power_of_2(fifo_size)) {
		pr_err("fifo_size=%u: not a power of two from %u to %u\n",
		       fifo_size, BLKFIFO_MIN_SIZE, BLKFIFO_MAX_SIZE);
		return -EINVAL;
	}
	ret = kfifo_alloc(&dev->fifo, fifo_size, GFP_KERNEL);
	if (ret)
		return ret;
	mutex_init(&dev->read_lock);
	mutex_init(&dev->write_lock);
	init_waitqueue_head(&dev->readers);
	init_waitqueue_head(&dev->writers);
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = "blkfifo";
	dev->misc.fops = &blkfifo_fops;
	dev->misc.mode = 0666;
	/* The live view is a debugging aid: debugfs failures are not errors. */
	blkfifo_debugfs = debugfs_create_dir("blkfifo", NULL);
	debugfs_create_file("state", 0444, blkfifo_debugfs, dev,
			    &blkfifo_state_fops);

	/* Last: from here on, the device can be opened. */
	ret = misc_register(&dev->misc);
	if (ret) {
		pr_err("cannot register the misc device: %d\n", ret);
		goto remove_view;
	}
	pr_info("ready, minor %d, %u-byte FIFO\n", dev->misc.minor, fifo_size);
	return 0;

remove_view:
	debugfs_remove_recursive(blkfifo_debugfs);
	kfifo_free(&dev->fifo);
	return ret;
}

/** @brief Unregister the device first, so that nobody can open it, then
 *         remove the live view and free the FIFO.
 */
static void __exit blkfifo_exit(void)
{
	misc_deregister(&blkfifo_dev.misc);
	debugfs_remove_recursive(blkfifo_debugfs);
	kfifo_free(&blkfifo_dev.fifo);
	pr_info("removed\n");
}

module_init(blkfifo_init);
module_exit(blkfifo_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Character-device lab kit");
MODULE_DESCRIPTION("Lab 04: a kfifo device whose reads and writes block");
