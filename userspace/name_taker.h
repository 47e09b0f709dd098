/* SPDX-License-Identifier: GPL-2.0 */
/** @file name_taker.h
 * @brief Take one of a lab's names before its module loads, so that a
 *        later registration of its init fails: the kit's name taker.
 *
 * A second copy of the module (module_copy.h) can make only the first
 * registration of init fail, as all its names are the module's own. The
 * kit's own module grading/kmod/labkit_name_taker.c takes any one name
 * instead: with debugfs_dir=NAME it creates the debugfs directory NAME
 * (a lab's live view then cannot have its directory), with
 * misc_name=NAME it registers a misc device NAME (a lab's minor of that
 * name then cannot register, whichever minor it is). A test unloads the
 * lab's module, loads the name taker, loads the module (framed with
 * module_copy_framed_load(), as the kernel reports the name taken), and
 * unloads the name taker again.
 *
 * The grader builds the name taker for the kernel and puts it beside the
 * lab's modules: in the VM in $LAB_MODULE_DIR, natively (make native) in
 * a directory of its own, which $LAB_KIT_MODULE_DIR names
 * (grading/guest/autograde.sh). A path that does not ship it makes
 * name_taker_load() fail with ENOENT, and says so.
 */
#ifndef LABKIT_NAME_TAKER_H
#define LABKIT_NAME_TAKER_H

#include <stddef.h>

/** @brief The name taker's module name, as in /sys/module. */
#define NAME_TAKER_MODULE "labkit_name_taker"

/** @brief The name taker's file: $LAB_KIT_MODULE_DIR/labkit_name_taker.ko,
 *         or in $LAB_MODULE_DIR without the first, or in the current
 *         directory without either.
 * @param path where the path goes
 * @param size the size of @p path
 * @return 0, or ENAMETOOLONG
 */
int name_taker_path(char *path, size_t size);

/** @brief Load the name taker with the names to take.
 * @param debugfs_dir the debugfs directory to create at debugfs's root,
 *        or NULL for none
 * @param misc_name the misc device to register, or NULL for none
 * @param msg where a failure is described (what was loaded from where,
 *        and the error)
 * @param size the size of @p msg
 * @return 0, or the errno of the failed load with @p msg filled in:
 *         ENOENT when the grading path did not ship the name taker,
 *         EEXIST when it is loaded already or a name is taken (by the
 *         lab's module, or by what an earlier load of it left behind),
 *         EINVAL for a name that is empty or holds other characters
 *         than letters, digits, '_', '-' and '.'
 */
int name_taker_load(const char *debugfs_dir, const char *misc_name,
		    char *msg, size_t size);

/** @brief Unload the name taker, giving back the names it took.
 * @return 0, or the errno of the failed unload (ENOENT: it was not
 *         loaded)
 */
int name_taker_unload(void);

#endif /* LABKIT_NAME_TAKER_H */
