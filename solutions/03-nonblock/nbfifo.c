// SPDX-License-Identifier: GPL-2.0
/** @file nbfifo.c
 * @brief Lab 03: Lab 02's kfifo device, /dev/nbfifo, with O_NONBLOCK.
 *
 * Without O_NONBLOCK the device behaves as in Lab 02. With it, a read of
 * an empty FIFO fails with -EAGAIN instead of returning 0 (end of file),
 * and a write to a full FIFO fails with -EAGAIN instead of -ENOSPC: "try
 * again later", which is what a program that asked not to block expects.
 * The flag is read from file->f_flags at every call, so fcntl(F_SETFL)
 * after open takes effect at once.
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
#define NBFIFO_SIZE 64

/** @brief The FIFO every open file shares. */
static DEFINE_KFIFO(nbfifo_fifo, char, NBFIFO_SIZE);

/** @brief Makes readers take turns at the FIFO; may sleep. */
static DEFINE_MUTEX(nbfifo_read_lock);

/** @brief Makes writers take turns at the FIFO; may sleep. */
static DEFINE_MUTEX(nbfifo_write_lock);

/** @brief Open /dev/nbfifo as a stream: no file position, no seeking.
 *
 * @param inode the device's inode
 * @param file the file being opened
 * @return 0
 */
static int nbfifo_open(struct inode *inode, struct file *file)
{
	stream_open(inode, file);
	return 0;
}

/** @brief Move bytes from the FIFO to user space, oldest first.
 *
 * Sleeps on the readers' mutex; may fault on @p buf.
 *
 * @param file the open file, for its O_NONBLOCK flag
 * @param buf user-space destination
 * @param count bytes asked for
 * @param ppos unused: a stream has no position
 * @return bytes read (0 when the FIFO is empty or @p count is 0), -EAGAIN
 *         when it is empty and the file is O_NONBLOCK, -EFAULT if nothing
 *         could be copied to @p buf, -ERESTARTSYS if interrupted by a
 *         signal
 */
static ssize_t nbfifo_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	unsigned int copied = 0;
	int ret = 0;

	/* Like read() on a pipe: 0 bytes asked, 0 returned, whatever else. */
	if (!count)
		return 0;
	if (mutex_lock_interruptible(&nbfifo_read_lock))
		return -ERESTARTSYS;
	/* TODO 1/4: empty and O_NONBLOCK: "try again", not end of file */
	if (kfifo_is_empty(&nbfifo_fifo) && (file->f_flags & O_NONBLOCK)) {
		mutex_unlock(&nbfifo_read_lock);
		return -EAGAIN;
	}
	ret = kfifo_to_user(&nbfifo_fifo, buf, count, &copied);
	mutex_unlock(&nbfifo_read_lock);

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
 * @param file the open file, for its O_NONBLOCK flag
 * @param buf user-space source
 * @param count bytes to write
 * @param ppos unused: a stream has no position
 * @return bytes written, -ENOSPC if the FIFO is full (-EAGAIN with
 *         O_NONBLOCK), -EFAULT if nothing could be copied from @p buf,
 *         -ERESTARTSYS if interrupted
 */
static ssize_t nbfifo_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	unsigned int copied = 0;
	int ret = 0;

	if (!count)
		return 0;
	if (mutex_lock_interruptible(&nbfifo_write_lock))
		return -ERESTARTSYS;
	/* TODO 2/4: full and O_NONBLOCK: "try again", not "no space" */
	if (kfifo_is_full(&nbfifo_fifo) && (file->f_flags & O_NONBLOCK)) {
		mutex_unlock(&nbfifo_write_lock);
		return -EAGAIN;
	}
	ret = kfifo_from_user(&nbfifo_fifo, buf, count, &copied);
	mutex_unlock(&nbfifo_write_lock);

	pr_debug("wrote %u of %zu\n", copied, count);
	if (copied)
		return copied;
	if (!ret)
		ret = -ENOSPC;
	return ret;
}

/** @brief What the VFS calls for each system call on /dev/nbfifo. */
static const struct file_operations nbfifo_fops = {
	.owner = THIS_MODULE,
	.open = nbfifo_open,
	.read = nbfifo_read,
	.write = nbfifo_write,
	.llseek = kc_no_llseek,
};

/** @brief The misc device: a dynamic minor under major 10, /dev/nbfifo. */
static struct miscdevice nbfifo_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "nbfifo",
	.fops = &nbfifo_fops,
	.mode = 0666,
};

/** @brief Register the misc device; /dev/nbfifo appears when this returns.
 * @return 0 or the error from misc_register()
 */
static int __init nbfifo_init(void)
{
	int ret;

	ret = misc_register(&nbfifo_misc);
	if (ret) {
		pr_err("cannot register the misc device: %d\n", ret);
		return ret;
	}
	pr_info("ready, minor %d\n", nbfifo_misc.minor);
	return 0;
}

/** @brief Unregister the misc device; /dev/nbfifo goes away. */
static void __exit nbfifo_exit(void)
{
	misc_deregister(&nbfifo_misc);
	pr_info("removed\n");
}

module_init(nbfifo_init);
module_exit(nbfifo_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Character-device lab kit");
MODULE_DESCRIPTION("Lab 03: a 64-byte kfifo device with O_NONBLOCK");
