// SPDX-License-Identifier: GPL-2.0
/** @file flatbuf.c
 * @brief Lab 01: a 64-byte flat buffer behind the misc device /dev/flatbuf.
 *
 * The device behaves like a tiny file that every process shares: data
 * written through one open is read back through the next, reads stop at
 * the end of what was written, writes that run out of room are cut short
 * and a write with no room left fails with -ENOSPC. O_TRUNC empties the
 * buffer, O_APPEND appends, and lseek moves within the 64 bytes.
 *
 * One mutex serialises every access to the buffer, so concurrent readers
 * and writers never see half of somebody else's write.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/uaccess.h>

/** @brief Capacity of the buffer in bytes. */
#define FLATBUF_SIZE 64

/** @brief The device's state, one instance shared by every open file.
 *
 * Invariant: the bytes of @c data past @c len are zero, so a write past
 * the end of the data leaves a hole that reads back as zeros, as in a file.
 */
struct flatbuf {
	/** @brief Serialises every access to @c len and @c data; may sleep. */
	struct mutex lock;
	/** @brief Bytes of valid data, counted from the start of @c data. */
	size_t len;
	/** @brief The storage itself. */
	char data[FLATBUF_SIZE];
};

/** @brief The one flat buffer behind /dev/flatbuf. */
static struct flatbuf flatbuf = {
	.lock = __MUTEX_INITIALIZER(flatbuf.lock),
};

/** @brief Open /dev/flatbuf; an open for writing with O_TRUNC empties it.
 *
 * The VFS truncates only regular files, so for a device O_TRUNC is the
 * driver's to honour. It is still set in @c file->f_flags here: the VFS
 * clears it only after ->open() returns. Sleeps on the buffer's mutex.
 *
 * @param inode the device's inode
 * @param file the file being opened
 * @return 0, or -ERESTARTSYS if a signal interrupted the wait for the lock
 */
static int flatbuf_open(struct inode *inode, struct file *file)
{
	/* TODO 2/8: an open for writing with O_TRUNC empties the buffer */
	return 0;
}

/** @brief Copy data from the buffer, starting at @p *ppos, to user space.
 *
 * Reads stop at the end of the written data, not at the end of the array.
 * Sleeps on the buffer's mutex and may fault on @p buf.
 *
 * @param file the open file (unused: the buffer is global)
 * @param buf user-space destination
 * @param count bytes asked for
 * @param ppos file position, advanced by the bytes read
 * @return bytes read (0 at or past the end of the data, and for a
 *         @p count of 0), -EFAULT if nothing could be copied to @p buf,
 *         -ERESTARTSYS if interrupted by a signal
 */
static ssize_t flatbuf_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	ssize_t ret = 0;

	if (mutex_lock_interruptible(&flatbuf.lock))
		return -ERESTARTSYS;
	/* TODO 3/12: copy at most count bytes from *ppos up to len; advance *ppos */
	mutex_unlock(&flatbuf.lock);
	pr_debug("read %zd at %lld\n", ret, *ppos);
	return ret;
}

/** @brief Copy data from user space into the buffer at @p *ppos.
 *
 * With O_APPEND the write goes to the end of the data wherever @p *ppos
 * is. A write that does not fit is cut short to the room left; with no
 * room at all it fails with -ENOSPC. Returning 0 instead would make
 * write(2) callers such as echo retry forever. A fault on @p buf part of
 * the way writes the bytes before it and leaves the rest of the buffer
 * alone. A write of 0 bytes returns 0 and changes nothing. Sleeps on the
 * buffer's mutex, and holds it while it copies from @p buf.
 *
 * @param file the open file, for its O_APPEND flag
 * @param buf user-space source
 * @param count bytes to write
 * @param ppos file position, advanced by the bytes written
 * @return bytes written, -ENOSPC if the buffer is full at the position,
 *         -EFAULT if nothing could be copied from @p buf, -ERESTARTSYS if
 *         interrupted by a signal
 */
static ssize_t flatbuf_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	ssize_t ret = 0;

	if (!count)
		return 0;
	/* TODO 4/2: take the buffer's mutex; give up if a signal arrives */
	/* TODO 5/21: honour O_APPEND, -ENOSPC when full, copy what fits */
	/* TODO 4/1: release the mutex */
	pr_debug("wrote %zd, now at %lld\n", ret, *ppos);
	return ret;
}

/** @brief Move the file position within the 64 bytes of the buffer.
 *
 * SEEK_END is relative to the end of the written data, as for a file.
 * Positions outside [0, FLATBUF_SIZE] are refused and leave the position
 * where it was. Sleeps on the buffer's mutex for SEEK_END.
 *
 * @param file the open file whose position moves
 * @param offset how far to move, relative to @p whence
 * @param whence SEEK_SET, SEEK_CUR or SEEK_END
 * @return the new position, -EINVAL for a position outside the buffer or
 *         another @p whence, -ERESTARTSYS if interrupted by a signal
 */
static loff_t flatbuf_llseek(struct file *file, loff_t offset, int whence)
{
	loff_t base;

	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = file->f_pos;
		break;
	case SEEK_END:
		if (mutex_lock_interruptible(&flatbuf.lock))
			return -ERESTARTSYS;
		base = flatbuf.len;
		mutex_unlock(&flatbuf.lock);
		break;
	default:
		return -EINVAL;
	}
	/* TODO 6/2: refuse a position outside [0, FLATBUF_SIZE]; mind overflow */
	file->f_pos = base + offset;
	return file->f_pos;
}

/** @brief What the VFS calls for each system call on /dev/flatbuf. */
static const struct file_operations flatbuf_fops = {
	.owner = THIS_MODULE,
	.open = flatbuf_open,
	.read = flatbuf_read,
	.write = flatbuf_write,
	.llseek = flatbuf_llseek,
};

/** @brief The misc device: a dynamic minor under major 10, /dev/flatbuf. */
static struct miscdevice flatbuf_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "flatbuf",
	.fops = &flatbuf_fops,
	/* TODO 1/1: let every user read and write the node (mode 0666) */
};

/** @brief Register the misc device; /dev/flatbuf appears when this returns.
 * @return 0 or the error from misc_register()
 */
static int __init flatbuf_init(void)
{
	int ret;

	ret = misc_register(&flatbuf_misc);
	if (ret) {
		pr_err("cannot register the misc device: %d\n", ret);
		return ret;
	}
	pr_info("ready, minor %d\n", flatbuf_misc.minor);
	return 0;
}

/** @brief Unregister the misc device; /dev/flatbuf goes away. */
static void __exit flatbuf_exit(void)
{
	misc_deregister(&flatbuf_misc);
	pr_info("removed\n");
}

module_init(flatbuf_init);
module_exit(flatbuf_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Character-device lab kit");
MODULE_DESCRIPTION("Lab 01: a 64-byte flat buffer device");
