/* SPDX-License-Identifier: GPL-2.0 */
/** @file reload_checks.h
 * @brief Checks shared by the tests that reload a FIFO lab's module (Lab
 *        04 onwards): the fifo_size values every lab refuses, a FIFO's
 *        exact capacity, and the module's debugfs directory.
 *
 * Every FIFO lab from Lab 04 on takes Lab 04's fifo_size: a power of two
 * from 2 to 65536, anything else refused with -EINVAL. Its tests load the
 * module with the limits and with reload_checks_bad_sizes[], and check
 * each device with reload_checks_capacity(). The live view of Labs 04 to
 * 06 is /sys/kernel/debug/MODULE/state: reload_checks_debugfs_*() find
 * it (mounting debugfs, which the grading VM does not mount) and read it.
 * reload_checks_param_read_only() checks a parameter's sysfs file (every
 * lab's parameters are 0444), reload_checks_params_are() that the module
 * has the handout's parameters and no other, reload_checks_unload_frees() that
 * unloading a module gives back the memory its loads took (Labs 04 to
 * 07, whose modules allocate their buffers), and
 * reload_checks_refusals_free() that a load refused for its parameters
 * gives back what it took too. reload_checks_steps_free() is the
 * measurement under both: any step repeated (Lab 07 opens and closes its
 * ends) must leave the kernel's unreclaimable memory where it was.
 */
#ifndef LABKIT_RELOAD_CHECKS_H
#define LABKIT_RELOAD_CHECKS_H

#include <stddef.h>

/** @brief The smallest fifo_size a lab accepts. */
#define RELOAD_CHECKS_MIN_SIZE 2
/** @brief The largest fifo_size a lab accepts. */
#define RELOAD_CHECKS_MAX_SIZE 65536

/** @brief fifo_size parameters every lab refuses with EINVAL: below 2,
 *         not a power of two, one either side of 65536, twice 65536, and
 *         the largest uint. NULL-terminated.
 */
extern const char *const reload_checks_bad_sizes[];

/** @brief Check that the device at @p node holds exactly @p size bytes:
 *         a non-blocking write of 2 * @p size + 16 bytes into it (emptied
 *         first) takes @p size in that one call, the next write fails
 *         with EAGAIN, and one read of as many bytes returns all @p size
 *         written, in one call too. The device is left empty.
 * @param node the device's node
 * @param size the capacity it should have
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
int reload_checks_capacity(const char *node, size_t size, char *msg,
			   size_t msg_size);

/** @brief The module's debugfs directory, /sys/kernel/debug/@p module,
 *         with debugfs mounted first if it is not.
 * @param module the module's name
 * @param path where the directory's path goes
 * @param size the size of @p path
 * @return 0, or the errno of the failed mount
 */
int reload_checks_debugfs_dir(const char *module, char *path, size_t size);

/** @brief Whether the module's debugfs directory is gone (ENOENT).
 * @param module the module's name
 * @return 1 if stat() fails with ENOENT, 0 if not
 */
int reload_checks_debugfs_gone(const char *module);

/** @brief Read the module's debugfs file "state" (the live view).
 *         Only while the module is loaded: a file left behind by an
 *         unloaded module must not be read.
 * @param module the module's name
 * @param buf where the text goes, NUL-terminated
 * @param size the size of @p buf
 * @return the number of lines read, or -1 if it cannot be opened
 */
int reload_checks_debugfs_state(const char *module, char *buf, size_t size);

/** @brief Check that the module's parameters are exactly @p names: the
 *         entries of /sys/module/@p module/parameters are those and no
 *         other (a parameter the handout does not list, writable by root
 *         at run time, would change the device's behaviour behind the
 *         tests' backs). A module with no parameters has no such
 *         directory, which is what @p names empty means.
 * @param module the module's name
 * @param names the handout's parameters, NULL-terminated
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
int reload_checks_params_are(const char *module, const char *const *names,
			     char *msg, size_t msg_size);

/** @brief Check a module parameter's sysfs file,
 *         /sys/module/@p module/parameters/@p name: it exists, has mode
 *         0444, reads @p value (unless NULL), and an open for writing
 *         fails with EACCES, also for root.
 * @param module the module's name
 * @param name the parameter
 * @param value what it must read, newline included, or NULL not to check
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
int reload_checks_param_read_only(const char *module, const char *name,
				  const char *value, char *msg,
				  size_t msg_size);

/** @brief The kernel memory a driver's buffers are counted in, in bytes:
 *         /proc/meminfo's SUnreclaim (slab pages, and kmalloc()s larger
 *         than the largest kmalloc cache, 8 KiB) plus its VmallocUsed
 *         (vmalloc(), and kvmalloc() when it falls back to it).
 * @param sunreclaim where SUnreclaim goes (bytes), or NULL
 * @param vmalloc where VmallocUsed goes (bytes), or NULL
 * @return their sum in bytes, or -1 if /proc/meminfo cannot be read
 */
long long reload_checks_kernel_memory(long long *sunreclaim,
				      long long *vmalloc);

/** @brief Check that unloading gives back the memory loading took: load
 *         @p module with @p params and unload it, once to warm the
 *         kernel's caches up, then @p cycles times, and compare
 *         reload_checks_kernel_memory() before and after, with the
 *         kernel's caches brought to rest (an RCU grace period through
 *         membarrier(), /proc/sys/vm/drop_caches, the slab caches'
 *         shrink files). The growth must stay under @p cycles *
 *         @p leak / 2; while it does not, the caches are brought to
 *         rest again, for some seconds (frees that the kernel defers:
 *         kfree_rcu() waits up to 5 s), before it is judged. The module
 *         is left unloaded.
 * @param module the module's name
 * @param params the parameters of every load: those of its largest
 *        buffers
 * @param leak the smallest allocation, in bytes, whose loss at every
 *        unload must be seen (the buffer the parameters make)
 * @param cycles how many loads and unloads are measured
 * @param msg the figures (always), and what went wrong
 * @param msg_size the size of @p msg
 * @return 0 if the growth is under the limit, -1 if not, or the errno
 *         of a failed load or unload (described in @p msg)
 */
int reload_checks_unload_frees(const char *module, const char *params,
			       size_t leak, unsigned int cycles, char *msg,
			       size_t msg_size);

/** @brief Check that a refused load gives back what it allocated before
 *         it was refused: as reload_checks_unload_frees(), but every load
 *         of @p module with @p params must fail with EINVAL, and nothing
 *         is unloaded. A driver that allocates its buffers before it
 *         checks every parameter, and returns its error without freeing
 *         them, keeps @p leak bytes or more at every refused load.
 * @param module the module's name
 * @param params parameters the module must refuse
 * @param leak the smallest allocation, in bytes, whose loss at every
 *        refused load must be seen
 * @param cycles how many refused loads are measured
 * @param msg the figures (always), and what went wrong
 * @param msg_size the size of @p msg
 * @return 0 if the growth is under @p cycles * @p leak / 2, -1 if not,
 *         EINVAL if a load was not refused with EINVAL (said in @p msg)
 */
int reload_checks_refusals_free(const char *module, const char *params,
				size_t leak, unsigned int cycles, char *msg,
				size_t msg_size);

/** @brief Count the objects of the kmalloc caches that were allocated by
 *         code that is gone: SLUB's allocation records
 *         (/sys/kernel/debug/slab/CACHE/alloc_traces, which the kit's
 *         guest keeps for the kmalloc caches with slub_debug=U) group
 *         the objects still allocated by their allocation's stack, and a
 *         frame that the kernel can no longer name (printed as a bare
 *         address) is code of a module that was unloaded, or an init
 *         function freed after its load. Whatever such code allocated
 *         and still holds is memory nothing will free: names made with
 *         kasprintf(), per-file state kmalloc()ed in open, a device
 *         struct the exit function forgot, however small.
 * @param first where the first such group's record goes (its cache, its
 *        count, its stack), or NULL
 * @param first_size the size of @p first
 * @return the number of such objects, or -1 when the records cannot be
 *         read (a kernel without slub_debug=U on its kmalloc caches)
 */
long long reload_checks_orphans(char *first, size_t first_size);

/** @brief reload_checks_orphans() with the kernel's caches brought to
 *         rest, measured again until the count stops falling (for some
 *         seconds at most): objects that code now gone allocated and that
 *         are freed late (kfree_rcu(), KASAN's quarantine on the debug
 *         kernel) must not be counted in a baseline, where their free
 *         would hide a leak made after it.
 * @return the count, or -1 when the records cannot be read
 */
long long reload_checks_orphans_at_rest(void);

/** @brief Check that no object allocated by code that is gone is left
 *         beyond the @p before that reload_checks_orphans_at_rest()
 *         counted (with the module unloaded) before a load: call it
 *         once the module is unloaded again. The kernel's caches are
 *         brought to rest first, and again for some seconds while objects
 *         are left (kfree_rcu() may hold its objects for 5 s).
 * @param before reload_checks_orphans_at_rest() before the load (-1:
 *        the kernel keeps no records, and nothing is checked)
 * @param what what was done between the two, for the message
 * @param msg what is left over, when something is
 * @param msg_size the size of @p msg
 * @return 0 when nothing is left over (or nothing can be checked), -1
 *         when something is (described in @p msg)
 */
int reload_checks_no_leftovers(long long before, const char *what,
			       char *msg, size_t msg_size);

/** @brief One step that reload_checks_steps_free() repeats: a load and
 *         an unload, an open and a close.
 * @param arg what the step works on
 * @param i the step's number, from 0 (step 0 warms the caches up)
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or an errno that ends the measurement (@p msg filled in)
 */
typedef int (*reload_checks_step)(void *arg, unsigned int i, char *msg,
				  size_t msg_size);

/** @brief Check that a step repeated gives back what it takes: run
 *         @p step once to warm the kernel's caches up, then @p cycles
 *         times, and compare reload_checks_kernel_memory() before and
 *         after, with the caches brought to rest (an RCU grace period
 *         through membarrier(), /proc/sys/vm/drop_caches, the slab
 *         caches' shrink files). The growth must stay under @p cycles *
 *         @p leak / 2, and no object that code now gone allocated may be
 *         left over (reload_checks_orphans(), where the kernel keeps the
 *         records: exact, whatever the leak's size); while either fails,
 *         the caches are brought to rest again, for some seconds
 *         (kfree_rcu() may hold its objects for 5 s), before it is
 *         judged.
 * @param what what the steps are, for the figures ("opens and closes")
 * @param step the step
 * @param arg its argument
 * @param leak the smallest allocation, in bytes, whose loss at every step
 *        must be seen
 * @param cycles how many steps are measured
 * @param msg the figures (always), and what went wrong
 * @param msg_size the size of @p msg
 * @return 0 if the growth is under the limit, -1 if not, or the errno of
 *         a failed step (described in @p msg by the step)
 */
int reload_checks_steps_free(const char *what, reload_checks_step step,
			     void *arg, size_t leak, unsigned int cycles,
			     char *msg, size_t msg_size);

#endif /* LABKIT_RELOAD_CHECKS_H */
