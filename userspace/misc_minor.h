/* SPDX-License-Identifier: GPL-2.0 */
/** @file misc_minor.h
 * @brief Check that misc devices have the minors the kernel chose for
 *        them (MISC_DYNAMIC_MINOR), not a number of their own.
 *
 * A struct miscdevice whose .minor is left at 0 asks for the fixed minor
 * 0 of major 10, a number devices.txt gives to another driver: the load
 * fails with EBUSY wherever that number is taken, and two such modules
 * never load together. MISC_DYNAMIC_MINOR lets misc_register() choose,
 * by one of two schemes: 6.12 hands out the lowest minor from 256 up that
 * no misc device has, older kernels the highest one below 128. A module's
 * minors are the kernel's choice when they are exactly the ones either
 * scheme gives, counting every other misc device that /proc/misc lists; a
 * number of the module's own (0, or a device's index) is neither.
 */
#ifndef LABKIT_MISC_MINOR_H
#define LABKIT_MISC_MINOR_H

#include <stddef.h>

/** @brief Whether @p ours are the minors misc_register() hands out to
 *         @p n devices asking for MISC_DYNAMIC_MINOR, by either scheme,
 *         given every other misc device in /proc/misc.
 * @param ours the minors of the module's devices, in any order
 * @param n how many, at least 1
 * @param why where the difference is told, when there is one
 * @param size room in @p why
 * @return 1 when they are, 0 when not (and @p why), -1 when /proc/misc
 *         cannot be read or does not list them (and @p why)
 */
int misc_minors_are_dynamic(const unsigned int *ours, int n, char *why,
			    size_t size);

#endif /* LABKIT_MISC_MINOR_H */
