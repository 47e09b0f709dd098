// SPDX-License-Identifier: GPL-2.0
/** @file fifodev.c
 * @brief Lab 02: a 64-byte kfifo behind the misc device /dev/fifodev.
 *
 * Every open shares one first-in, first-out queue of bytes: writes append,
 * reads consume, so a program can write and then read back on the same
 * descriptor without reopening (Lab 01's flat buffer could not). A read of
 * an empty FIFO returns 0; a write that does not fit writes what fits, and
 * a write to a full FIFO fails with -ENOSPC.
 *
 * The kernel's kfifo needs no lock with exactly one reader and one writer
 * at a time. With several of either it does: one mutex makes readers take
 * turns, another makes writers take turns, and a reader and a writer still
 * run side by side.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/kfifo.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>

#include "kcompat.h"

/** @brief Capacity of the FIFO in bytes: kfifo sizes are powers of two. */
#define FIFODEV_SIZE 64

/** @brief The FIFO every open file shares. */
static DEFINE_KFIFO(fifodev_fifo, char, FIFODEV_SIZE);

/** @brief Makes readers take turns at the FIFO; may sleep. */
static DEFINE_MUTEX(fifodev_read_lock);

/** @brief Makes writers take turns at the FIFO; may sleep. */
static DEFINE_MUTEX(fifodev_write_lock);

/** @brief Open /dev/fifodev as a stream: no file position, no seeking.
 *
 * @param inode the device's inode
 * @param file the file being opened
 * @return 0
 */
static int fifodev_open(struct inode *inode, struct file *file)
{
	/* TODO 1/1: a FIFO has no position: open it as a stream */
	return 0;
}

/** @brief Move bytes from the FIFO to user space, oldest first.
 *
 * Sleeps on the readers' mutex; may fault on @p buf.
 *
 * @param file the open file (unused: the FIFO is global)
 * @param buf user-space destination
 * @param count bytes asked for
 * @param ppos unused: a stream has no position
 * @return bytes read (0 when the FIFO is empty or @p count is 0), -EFAULT
 *         if nothing could be copied to @p buf, -ERESTARTSYS if
 *         interrupted by a signal
 */
static ssize_t fifodev_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	unsigned int copied = 0;
	int ret = 0;

	/* Like read() on a pipe: 0 bytes asked, 0 returned, whatever else. */
	if (!count)
		return 0;
	/* TODO 2/4: take turns with other readers, move the bytes, unlock */

	pr_debug("read %u of %zu\n", copied, count);
	/*
	 * A partial copy still counts: kfifo consumed exactly those bytes.
	 * Not "copied ? copied : ret": that expression is unsigned, and
	 * -EFAULT would come out as a huge byte count.
	 */
	if (copied)
		return copied;
	return ret;
}

/** @brief Move bytes from user space to the end of the FIFO.
 *
 * Sleeps on the writers' mutex; may fault on @p buf.
 *
 * @param file the open file (unused: the FIFO is global)
 * @param buf user-space source
 * @param count bytes to write
 * @param ppos unused: a stream has no position
 * @return bytes written, -ENOSPC if the FIFO is full, -EFAULT if nothing
 *         could be copied from @p buf, -ERESTARTSYS if interrupted
 */
static ssize_t fifodev_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	unsigned int copied = 0;
	int ret = 0;

	if (!count)
		return 0;
	/* TODO 3/4: take turns with other writers, move the bytes, unlock */

	pr_debug("wrote %u of %zu\n", copied, count);
	if (copied)
		return copied;
	/* TODO 4/2: nothing copied and no fault: the FIFO is full */
	return ret;
}

/** @brief What the VFS calls for each system call on /dev/fifodev. */
static const struct file_operations fifodev_fops = {
	.owner = THIS_MODULE,
	.open = fifodev_open,
	.read = fifodev_read,
	.write = fifodev_write,
	.llseek = kc_no_llseek,
};

/** @brief The misc device: a dynamic minor under major 10, /dev/fifodev. */
static struct miscdevice fifodev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "fifodev",
	.fops = &fifodev_fops,
	.mode = 0666,
};

/** @brief Register the misc device; /dev/fifodev appears when this returns.
 * @return 0 or the error from misc_register()
 */
static int __init fifodev_init(void)
{
	int ret;

	ret = misc_register(&fifodev_misc);
	if (ret) {
		pr_err("cannot register the misc device: %d\n", ret);
		return ret;
	}
	pr_info("ready, minor %d\n", fifodev_misc.minor);
	return 0;
}

/** @brief Unregister the misc device; /dev/fifodev goes away. */
static void __exit fifodev_exit(void)
{
	misc_deregister(&fifodev_misc);
	pr_info("removed\n");
}

module_init(fifodev_init);
module_exit(fifodev_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Character-device lab kit");
MODULE_DESCRIPTION("Lab 02: a 64-byte kfifo device");
