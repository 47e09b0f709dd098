// SPDX-License-Identifier: GPL-2.0
/** @file name_taker.c
 * @brief Loading and unloading the kit's name taker; see name_taker.h.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module_reload.h"
#include "name_taker.h"

/** @brief How long the name taker may stay busy before its unload
 *         fails, in ms: a failure bound only (nothing opens its device). */
#define NAME_TAKER_UNLOAD_MS 5000

int name_taker_path(char *path, size_t size)
{
	const char *dir = getenv("LAB_KIT_MODULE_DIR");

	if (!dir || !*dir)
		dir = getenv("LAB_MODULE_DIR");
	if (!dir || !*dir)
		dir = ".";
	if (snprintf(path, size, "%s/%s.ko", dir, NAME_TAKER_MODULE) >=
	    (int)size)
		return ENAMETOOLONG;
	return 0;
}

/** @brief Whether @p name can be a parameter's value as it is: not empty,
 *         and only letters, digits, '_', '-' and '.'.
 * @param name the name
 * @return nonzero if it can
 */
static int name_taker_name_ok(const char *name)
{
	const char *c;

	for (c = name; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("_-.", *c))
			return 0;
	}
	return c != name;
}

int name_taker_load(const char *debugfs_dir, const char *misc_name,
		    char *msg, size_t size)
{
	char path[PATH_MAX], params[256];
	int err;

	if ((debugfs_dir && !name_taker_name_ok(debugfs_dir)) ||
	    (misc_name && !name_taker_name_ok(misc_name))) {
		snprintf(msg, size,
			 "the kit's name taker cannot take \"%s\": a name of letters, digits, '_', '-' and '.'",
			 debugfs_dir && !name_taker_name_ok(debugfs_dir) ?
			 debugfs_dir : misc_name);
		return EINVAL;
	}
	snprintf(params, sizeof(params), "%s%s%s%s%s",
		 debugfs_dir ? "debugfs_dir=" : "", debugfs_dir ?: "",
		 debugfs_dir && misc_name ? " " : "",
		 misc_name ? "misc_name=" : "", misc_name ?: "");
	err = name_taker_path(path, sizeof(path));
	if (!err)
		err = module_load_file(path, params);
	if (!err)
		return 0;
	snprintf(msg, size, "the kit's name taker (%s), loaded with %s, %s: %s%s",
		 path, params, err == EEXIST ?
		 "found a name taken already (by the lab's module, or by what an earlier load of it left behind), or itself loaded" :
		 "did not load", strerror(err), err == ENOENT ?
		 " (this way of grading does not ship the kit's own modules: grading/kmod/, built by grading/labkit/build.py, in $LAB_KIT_MODULE_DIR or $LAB_MODULE_DIR)" :
		 "");
	return err;
}

int name_taker_unload(void)
{
	return module_unload_when_free(NAME_TAKER_MODULE,
				       NAME_TAKER_UNLOAD_MS);
}
