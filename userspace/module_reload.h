/* SPDX-License-Identifier: GPL-2.0 */
/** @file module_reload.h
 * @brief Unload a lab's module and load it again with other parameters,
 *        from a test program running as root.
 *
 * The autograder loads the module before the tests run and exports
 * LAB_MODULE_DIR, the directory of the .ko files. A test of a module
 * parameter unloads the module, loads it with the parameter under test
 * (checking the exact errno of a refused load), and leaves it loaded with
 * its defaults again. Nothing may hold the device open meanwhile.
 */
#ifndef LABKIT_MODULE_RELOAD_H
#define LABKIT_MODULE_RELOAD_H

/** @brief Unload module @p name (delete_module, O_NONBLOCK: never waits).
 * @param name the module's name, as in /sys/module
 * @return 0, or the errno of the failed delete_module() (EWOULDBLOCK
 *         if the device is open, ENOENT if the module is not loaded)
 */
int module_unload(const char *name);

/** @brief Unload module @p name once nothing uses it any more.
 *
 * For a test that has closed every file of the device and expects the
 * unload to succeed: processes of earlier tests that are still exiting
 * may hold the module for a moment, so a busy module (EAGAIN, which is
 * EWOULDBLOCK) is tried again every 10 ms. A module still busy after
 * @p timeout_ms stays busy for good: the deadline only bounds a failure.
 *
 * @param name the module's name, as in /sys/module
 * @param timeout_ms how long the module may stay busy
 * @return 0, or the errno of the last failed delete_module()
 */
int module_unload_when_free(const char *name, int timeout_ms);

/** @brief Load the module file @p path with @p params.
 * @param path the .ko file
 * @param params the parameters, as on insmod's command line ("" for none)
 * @return 0, or the errno of the failed open() or finit_module() (the
 *         module's init function's error, EEXIST if it is loaded)
 */
int module_load_file(const char *path, const char *params);

/** @brief Load $LAB_MODULE_DIR/@p name.ko with @p params.
 * @param name the module's name, without .ko
 * @param params the parameters, as on insmod's command line ("" for none)
 * @return 0, or the errno of the failed open() or finit_module() (the
 *         module's init function's error, EEXIST if it is loaded)
 */
int module_load(const char *name, const char *params);

#endif /* LABKIT_MODULE_RELOAD_H */
