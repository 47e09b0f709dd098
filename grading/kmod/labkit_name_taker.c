// SPDX-License-Identifier: GPL-2.0
/** @file labkit_name_taker.c
 * @brief The kit's name taker: a module that takes a name a lab's module
 *        registers, so that a test can make that registration fail.
 *
 * A test loads it before the lab's module with the name to take:
 *
 *     insmod labkit_name_taker.ko debugfs_dir=blkfifo
 *     insmod labkit_name_taker.ko misc_name=pollfifo3
 *
 * debugfs_dir=NAME creates a debugfs directory NAME at debugfs's root,
 * where a lab makes its live view, so that the lab's
 * debugfs_create_dir() fails; misc_name=NAME registers a misc device
 * NAME (a dynamic minor, with file operations that have nothing but
 * their owner), so that the lab's misc_register() of a minor of that
 * name fails, whichever minor it is. Both may be given. Unloading it
 * removes what it made. It is not a lab: no student writes it, and the
 * grader sends it to the guest with every lab's modules (see
 * userspace/name_taker.h for the tests' side).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

/** @brief The name of the debugfs directory to take at debugfs's root,
 *         or NULL for none.
 */
static char *debugfs_dir;
module_param(debugfs_dir, charp, 0444);
MODULE_PARM_DESC(debugfs_dir, "a debugfs directory to create at debugfs's root");

/** @brief The name of the misc device to register, or NULL for none. */
static char *misc_name;
module_param(misc_name, charp, 0444);
MODULE_PARM_DESC(misc_name, "a misc device to register, with a dynamic minor");

/** @brief The debugfs directory made at init, or NULL. */
static struct dentry *name_taker_dir;

/** @brief The misc device's file operations: an open works, and does
 *         nothing else.
 */
static const struct file_operations name_taker_fops = {
	.owner = THIS_MODULE,
};

/** @brief The misc device that takes misc_name. */
static struct miscdevice name_taker_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.fops = &name_taker_fops,
};

/** @brief Take the names asked for: the debugfs directory, then the misc
 *         device.
 * @return 0, -EINVAL for an empty name, or the error of
 *         debugfs_create_dir() or misc_register()
 */
static int __init name_taker_init(void)
{
	int ret;

	if ((debugfs_dir && !*debugfs_dir) || (misc_name && !*misc_name)) {
		pr_err("an empty name cannot be taken\n");
		return -EINVAL;
	}
	if (debugfs_dir) {
		name_taker_dir = debugfs_create_dir(debugfs_dir, NULL);
		if (IS_ERR(name_taker_dir)) {
			ret = PTR_ERR(name_taker_dir);
			pr_err("cannot create the debugfs directory %s: %d\n",
			       debugfs_dir, ret);
			return ret;
		}
	}
	if (misc_name) {
		name_taker_misc.name = misc_name;
		ret = misc_register(&name_taker_misc);
		if (ret) {
			pr_err("cannot register the misc device %s: %d\n",
			       misc_name, ret);
			goto remove_dir;
		}
	}
	pr_info("took debugfs directory %s, misc device %s\n",
		debugfs_dir ?: "(none)", misc_name ?: "(none)");
	return 0;

remove_dir:
	debugfs_remove(name_taker_dir);
	return ret;
}

/** @brief Give the names back: the misc device, then the debugfs
 *         directory.
 */
static void __exit name_taker_exit(void)
{
	if (misc_name)
		misc_deregister(&name_taker_misc);
	debugfs_remove(name_taker_dir);
}

module_init(name_taker_init);
module_exit(name_taker_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("Character-device lab kit");
MODULE_DESCRIPTION("The kit's name taker: takes a debugfs directory or a misc device name that a lab's module registers");
