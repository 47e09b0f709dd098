// SPDX-License-Identifier: GPL-2.0
/** @file module_reload.c
 * @brief Module unloading and loading through the system calls; see
 *        module_reload.h.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "module_reload.h"

int module_unload(const char *name)
{
	if (syscall(SYS_delete_module, name, O_NONBLOCK) == 0)
		return 0;
	return errno;
}

int module_unload_when_free(const char *name, int timeout_ms)
{
	const struct timespec step = { .tv_nsec = 10 * 1000 * 1000 };
	int err, waited;

	for (waited = 0;; waited += 10) {
		err = module_unload(name);
		if (err != EAGAIN || waited >= timeout_ms)
			return err;
		nanosleep(&step, NULL);
	}
}

int module_load(const char *name, const char *params)
{
	const char *dir = getenv("LAB_MODULE_DIR");
	char path[PATH_MAX];

	if (!dir)
		dir = ".";
	if (snprintf(path, sizeof(path), "%s/%s.ko", dir, name) >=
	    (int)sizeof(path))
		return ENAMETOOLONG;
	return module_load_file(path, params);
}

int module_load_file(const char *path, const char *params)
{
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (syscall(SYS_finit_module, fd, params, 0) != 0)
		err = errno;
	close(fd);
	return err;
}
