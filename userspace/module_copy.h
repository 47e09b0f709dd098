/* SPDX-License-Identifier: GPL-2.0 */
/** @file module_copy.h
 * @brief Load a second copy of a lab's module, under another module name,
 *        while the first is loaded: its init registers a device whose
 *        name is taken, and a correct init fails with that error.
 *
 * misc_register() of a name that is registered already fails with
 * EEXIST (device_create() finds /sys/devices/virtual/misc/NAME there),
 * and so does class_create() of a class that exists (/sys/class/NAME).
 * The kernel loads a module only once under one name, so the copy is the
 * module's image with its name changed (same length, the last letter):
 * the struct module in the ELF section .gnu.linkonce.this_module and the
 * "name=" string of .modinfo. Everything else, the device's name among
 * it, is the module's own.
 *
 * Such a registration is reported by sysfs for any driver, correct or
 * not: "sysfs: cannot create duplicate filename '/devices/virtual/misc/
 * NAME'" (or '/class/NAME') and a dump_stack() (Call Trace:), and a
 * second debugfs directory
 * of the same name by "debugfs: Directory 'NAME' with parent '/' already
 * present!". The autograder's kernel_log_clean would count those, so the
 * load is framed by two kernel log records, MODULE_COPY_BEGIN and
 * MODULE_COPY_END: between such a pair, grading/guest/autograde.sh
 * (_lab_exempt_copy_report) leaves out exactly that report for the lab's
 * own names, and counts everything else. module_copy_framed_load() frames
 * a load of the module itself the same way, for a test that took one of
 * its names beforehand (name_taker.h).
 */
#ifndef LABKIT_MODULE_COPY_H
#define LABKIT_MODULE_COPY_H

#include <stddef.h>

/** @brief The kernel log record written right before the copy's load
 *         (followed by the module's name); grading/guest/autograde.sh
 *         matches it. */
#define MODULE_COPY_BEGIN "labkit: expected report: a second copy of "
/** @brief The record written right after the copy's load returned (the
 *         module's name follows); grading/guest/autograde.sh matches it. */
#define MODULE_COPY_END "labkit: end of the expected report of "

/** @brief Load a copy of $LAB_MODULE_DIR/@p name.ko named like @p name
 *         with its last letter changed, with no parameters, between the
 *         two kernel log records MODULE_COPY_BEGIN and MODULE_COPY_END.
 * @param name the module's name, without .ko
 * @param copy where the copy's module name is written
 * @param size the size of @p copy (more than strlen(@p name))
 * @param msg where a failure to read or patch the image is described
 * @param msize the size of @p msg
 * @return 0 if the copy loaded, the errno of the failed init_module()
 *         (its init's error), or -1 with @p msg filled in if the image
 *         could not be read or patched (nothing was loaded)
 */
int module_copy_load(const char *name, char *copy, size_t size, char *msg,
		     size_t msize);

/** @brief module_copy_load() with parameters: the copy is loaded with
 *         @p params (as insmod's arguments, e.g. "pipe_size=1048576"),
 *         so that what its init allocates before the registration that
 *         fails has a size a test can see.
 * @param name the module's name, without .ko
 * @param params the copy's parameters ("" for none)
 * @param copy where the copy's module name is written
 * @param size the size of @p copy (more than strlen(@p name))
 * @param msg where a failure to read or patch the image is described
 * @param msize the size of @p msg
 * @return as module_copy_load()
 */
int module_copy_load_with(const char *name, const char *params, char *copy,
			  size_t size, char *msg, size_t msize);

/** @brief Load module @p name itself (module_load(), not a copy) with
 *         @p params between the two records MODULE_COPY_BEGIN and
 *         MODULE_COPY_END: for a load whose registration a test made
 *         fail by taking one of the module's names first (name_taker.h),
 *         which the kernel reports as it reports a copy's.
 * @param name the module's name, without .ko
 * @param params its parameters ("" for none)
 * @return 0 if it loaded, the errno of the failed load, or -1 with errno
 *         set if the first record could not be written (nothing was
 *         loaded)
 */
int module_copy_framed_load(const char *name, const char *params);

/** @brief Whether module @p name is in /proc/modules (in any state).
 * @param name a module name
 * @return 1 if it is, 0 if not, -1 if /proc/modules cannot be read
 */
int module_copy_listed(const char *name);

/** @brief Load a copy of module @p name (module_copy_load()) while the
 *         module is loaded, and check that the load fails with EEXIST, the
 *         error of the registration of a device name that is taken, and
 *         leaves no module behind. A copy that loads is unloaded again.
 * @param name the module's name, without .ko; it must be loaded
 * @param rule the handout's rule, for @p msg ("rule: ...")
 * @param msg where the first problem is described
 * @param size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
int module_copy_expect_refused(const char *name, const char *rule, char *msg,
			       size_t size);

/** @brief module_copy_expect_refused() for a copy loaded with @p params,
 *         whose registration that fails is @p registration.
 * @param name the module's name, without .ko; it must be loaded
 * @param params the copy's parameters ("" for none)
 * @param registration the call that finds the name taken, for @p msg
 *        (e.g. "misc_register() of its device",
 *        "class_create() of its class \"mypipe\"")
 * @param rule the handout's rule, for @p msg ("rule: ...")
 * @param msg where the first problem is described
 * @param size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
int module_copy_expect_refused_with(const char *name, const char *params,
				    const char *registration,
				    const char *rule, char *msg, size_t size);

#endif /* LABKIT_MODULE_COPY_H */
