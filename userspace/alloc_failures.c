// SPDX-License-Identifier: GPL-2.0
/** @file alloc_failures.c
 * @brief Loads and opens with each of their allocations made to fail in
 *        turn (alloc_failures.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc_failures.h"
#include "fail_nth.h"
#include "module_copy.h"
#include "module_reload.h"
#include "reload_checks.h"

/** @brief What the load's sweep works on. */
struct alloc_failures_load {
	/** @brief The lab. */
	const struct alloc_failures_lab *lab;
	/** @brief The load's parameters. */
	const char *params;
	/** @brief What makes going on unsafe, when found. */
	char *stop;
	/** @brief The size of @p stop. */
	size_t stop_size;
};

/** @brief The sweep's call: load the module, a fail_nth_call.
 * @param arg the struct alloc_failures_load
 * @return 0, or -1 with errno set
 */
static long alloc_failures_load_call(void *arg)
{
	const struct alloc_failures_load *l = arg;
	int err = module_load(l->lab->module, l->params);

	errno = err;
	return err ? -1 : 0;
}

/** @brief The first path of @p gone that exists.
 * @param gone the paths, NULL-terminated
 * @return the path, or NULL when none does
 */
static const char *alloc_failures_left(const char *const *gone)
{
	for (; *gone; gone++)
		if (access(*gone, F_OK) == 0)
			return *gone;
	return NULL;
}

/** @brief The sweep's check after a load, a fail_nth_check.
 * @param arg the struct alloc_failures_load
 * @param t the load
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int alloc_failures_load_check(void *arg, const struct fail_nth_try *t,
				     char *msg, size_t msg_size)
{
	const struct alloc_failures_load *l = arg;
	const char *module = l->lab->module;
	const char *left;
	char why[768], what[160];
	int err;

	if (t->ret == 0) {
		if (t->failed)
			/* Printed now: if the device then crashes the
			 * kernel, the crash report comes after it. */
			fprintf(stderr,
				"# the load of %s with its allocation %u made to fail succeeded; the device must then work\n",
				module, t->n);
		if (l->lab->works(why, sizeof(why))) {
			snprintf(msg, msg_size,
				 "the load of %s%s%s with its allocation %u made to fail succeeded, but then %s: was that allocation's result checked? %s",
				 module, l->params[0] ? " " : "", l->params,
				 t->n, why, ALLOC_FAILURES_RULE);
			module_unload_when_free(module, 5000);
			return -1;
		}
		err = module_unload_when_free(module, 5000);
		if (err) {
			snprintf(msg, msg_size,
				 "the load of %s with its allocation %u made to fail succeeded, and then it does not unload: %s; %s",
				 module, t->n, strerror(err),
				 ALLOC_FAILURES_RULE);
			return -1;
		}
		return 0;
	}
	if (!t->failed) {
		snprintf(msg, msg_size,
			 "the load of %s failed (%s) although none of its allocations was made to fail (after %u loads each with one that was)",
			 module, strerror(t->err), t->n - 1);
		return -1;
	}
	left = alloc_failures_left(l->lab->gone);
	if (!left && l->lab->left_over &&
	    l->lab->left_over(what, sizeof(what)))
		left = what;
	if (left || !reload_checks_debugfs_gone(module)) {
		snprintf(l->stop, l->stop_size,
			 "a load that failed left %s behind, its memory and code freed",
			 left ? left : "its debugfs directory");
		snprintf(msg, msg_size,
			 "the load of %s with its allocation %u made to fail failed (%s), but left %s behind, while the module is gone: init's error path must undo everything done before the failure (misc_deregister(), debugfs_remove_recursive(), ...); %s",
			 module, t->n, strerror(t->err),
			 left ? left : "its debugfs directory",
			 ALLOC_FAILURES_RULE);
		return -1;
	}
	if (module_copy_listed(module)) {
		snprintf(msg, msg_size,
			 "the load of %s with its allocation %u made to fail failed (%s) but left the module in /proc/modules; %s",
			 module, t->n, strerror(t->err), ALLOC_FAILURES_RULE);
		return -1;
	}
	if (t->err != ENOMEM) {
		snprintf(msg, msg_size,
			 "the load of %s with its allocation %u made to fail failed with %s, not ENOMEM: init returns the error it was given (kfifo_alloc()'s, misc_register()'s), or -ENOMEM for a NULL from kmalloc(); %s",
			 module, t->n, strerror(t->err), ALLOC_FAILURES_RULE);
		return -1;
	}
	return 0;
}

int alloc_failures_of_load(const struct alloc_failures_lab *lab,
			   const char *params, unsigned int *tries,
			   char *stop, size_t stop_size, char *msg,
			   size_t msg_size)
{
	struct alloc_failures_load l = { lab, params, stop, stop_size };
	char why[1024];
	long long before;
	int err;

	stop[0] = '\0';
	*tries = 0;
	err = fail_nth_setup(msg, msg_size);
	if (err)
		return err == ENOSYS ? ENOSYS : -1;
	if (fail_nth_covers(lab->module, msg, msg_size))
		return -1;
	err = module_unload_when_free(lab->module, 5000);
	if (err) {
		snprintf(msg, msg_size,
			 "%s does not unload (%s), before the loads with an allocation made to fail",
			 lab->module, strerror(err));
		return -1;
	}
	before = reload_checks_orphans_at_rest();
	if (fail_nth_each(alloc_failures_load_call, alloc_failures_load_check,
			  &l, tries, msg, msg_size)) {
		/* Loaded again for the tests after this one, unless a
		 * failed load left something whose code is gone. */
		if (!stop[0] && !module_copy_listed(lab->module))
			module_load(lab->module, "");
		return -1;
	}
	if (reload_checks_no_leftovers(before, "the loads with an allocation made to fail",
				       why, sizeof(why))) {
		snprintf(msg, msg_size, "%s; %s", why, ALLOC_FAILURES_RULE);
		module_load(lab->module, "");
		return -1;
	}
	err = module_load(lab->module, "");
	if (err) {
		snprintf(msg, msg_size,
			 "after %u loads with an allocation made to fail, %s does not load with its defaults: %s",
			 *tries, lab->module, strerror(err));
		return -1;
	}
	return 0;
}

/** @brief What the open's sweep works on. */
struct alloc_failures_open {
	/** @brief The lab. */
	const struct alloc_failures_lab *lab;
	/** @brief The node. */
	const char *node;
	/** @brief open()'s flags. */
	int flags;
};

/** @brief The sweep's call: open the node, a fail_nth_call.
 * @param arg the struct alloc_failures_open
 * @return the descriptor, or -1 with errno set
 */
static long alloc_failures_open_call(void *arg)
{
	const struct alloc_failures_open *o = arg;

	return open(o->node, o->flags);
}

/** @brief The sweep's check after an open, a fail_nth_check.
 * @param arg the struct alloc_failures_open
 * @param t the open
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int alloc_failures_open_check(void *arg, const struct fail_nth_try *t,
				     char *msg, size_t msg_size)
{
	const struct alloc_failures_open *o = arg;
	char why[768];

	if (t->ret >= 0) {
		close(t->ret);
		return 0;
	}
	if (!t->failed) {
		snprintf(msg, msg_size,
			 "an open of %s failed (%s) although none of its allocations was made to fail (after %u opens each with one that was)",
			 o->node, strerror(t->err), t->n - 1);
		return -1;
	}
	if (t->err != ENOMEM) {
		snprintf(msg, msg_size,
			 "an open of %s with its allocation %u made to fail failed with %s, not ENOMEM; %s",
			 o->node, t->n, strerror(t->err), ALLOC_FAILURES_RULE);
		return -1;
	}
	if (o->lab->open_changed_nothing &&
	    o->lab->open_changed_nothing(o->node, why, sizeof(why))) {
		snprintf(msg, msg_size,
			 "an open of %s with its allocation %u made to fail failed with ENOMEM, as it should, but %s; %s",
			 o->node, t->n, why, ALLOC_FAILURES_RULE);
		return -1;
	}
	return 0;
}

int alloc_failures_of_open(const struct alloc_failures_lab *lab,
			   const char *node, int flags, unsigned int *tries,
			   char *msg, size_t msg_size)
{
	struct alloc_failures_open o = { lab, node, flags };
	char why[768];
	int err;

	*tries = 0;
	err = fail_nth_setup(msg, msg_size);
	if (err)
		return err == ENOSYS ? ENOSYS : -1;
	if (fail_nth_covers(lab->module, msg, msg_size))
		return -1;
	if (fail_nth_each(alloc_failures_open_call, alloc_failures_open_check,
			  &o, tries, msg, msg_size))
		return -1;
	if (lab->works(why, sizeof(why))) {
		snprintf(msg, msg_size,
			 "after %u opens of %s, each with one allocation made to fail, %s; %s",
			 *tries, node, why, ALLOC_FAILURES_RULE);
		return -1;
	}
	return 0;
}
