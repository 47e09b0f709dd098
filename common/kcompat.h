/* SPDX-License-Identifier: GPL-2.0 */
/** @file kcompat.h
 * @brief The one place where the kit's kernel-version differences live.
 *
 * The labs build against Debian's 6.1 and 6.12 kernels. Wherever an API
 * changed between them, the labs use the name defined here and never test
 * LINUX_VERSION_CODE themselves.
 */
#ifndef LABKIT_KCOMPAT_H
#define LABKIT_KCOMPAT_H

#include <linux/device.h>
#include <linux/fs.h>
#include <linux/version.h>

/** @def kc_class_create
 * @brief Create a device class: class_create() lost its owner argument
 *        in 6.4.
 * @param name the class name, shown under /sys/class
 * @return the class or an ERR_PTR()
 */
#if KERNEL_VERSION(6, 4, 0) <= LINUX_VERSION_CODE
#define kc_class_create(name) class_create(name)
#else
#define kc_class_create(name) class_create(THIS_MODULE, name)
#endif

/** @def KC_DEVNODE_CONST
 * @brief Qualifier of the device argument of a class's devnode callback:
 *        it became <tt>const struct device *</tt> in 6.2.
 *
 * Declare the callback as
 * <tt>static char *x_devnode(KC_DEVNODE_CONST struct device *dev,
 * umode_t *mode)</tt>.
 */
#if KERNEL_VERSION(6, 2, 0) <= LINUX_VERSION_CODE
#define KC_DEVNODE_CONST const
#else
#define KC_DEVNODE_CONST
#endif

/** @def kc_no_llseek
 * @brief The llseek method of a device that cannot seek: no_llseek() was
 *        removed in 6.12, where a NULL method means the same.
 *
 * Pair it with nonseekable_open() or stream_open() in the open method.
 */
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
#define kc_no_llseek NULL
#else
#define kc_no_llseek no_llseek
#endif

#endif /* LABKIT_KCOMPAT_H */
