// SPDX-License-Identifier: GPL-2.0
/** @file kcompat_selftest.c
 * @brief Build test of common/kcompat.h: uses every shim once, so that
 *        `make check` fails on any kernel where one of them is wrong.
 *
 * It is built, never loaded.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "kcompat.h"

/** @brief A devnode callback in the kit's version-independent spelling.
 * @param dev the device whose node is named
 * @param mode where to store the node's mode
 * @return the node's name under /dev, allocated with kmalloc
 */
static char *kcompat_selftest_devnode(KC_DEVNODE_CONST struct device *dev,
				      umode_t *mode)
{
	if (mode)
		*mode = 0666;
	return kasprintf(GFP_KERNEL, "kcompat/%s", dev_name(dev));
}

/** @brief File operations of a device that cannot seek. */
static const struct file_operations kcompat_selftest_fops = {
	.owner = THIS_MODULE,
	.open = nonseekable_open,
	.llseek = kc_no_llseek,
};

/** @brief The class created at init, destroyed at exit. */
static struct class *kcompat_selftest_class;

/** @brief Create the class with the shimmed class_create().
 * @return 0 or the error from class creation
 */
static int __init kcompat_selftest_init(void)
{
	kcompat_selftest_class = kc_class_create("kcompat_selftest");
	if (IS_ERR(kcompat_selftest_class))
		return PTR_ERR(kcompat_selftest_class);
	kcompat_selftest_class->devnode = kcompat_selftest_devnode;
	pr_debug("fops at %p\n", &kcompat_selftest_fops);
	return 0;
}

/** @brief Destroy the class. */
static void __exit kcompat_selftest_exit(void)
{
	class_destroy(kcompat_selftest_class);
}

module_init(kcompat_selftest_init);
module_exit(kcompat_selftest_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Build test of the kit's kernel-version shims");
