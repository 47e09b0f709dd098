// SPDX-License-Identifier: GPL-2.0
/** @file dyndbg.c
 * @brief Turn a module's pr_debug() messages on and off (dyndbg.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dyndbg.h"

int dyndbg_module(const char *module, int on, char *msg, size_t size)
{
	char query[128];
	int fd, n, err = 0;

	fd = open(DYNDBG_CONTROL, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		snprintf(msg, size, "%s: %s", DYNDBG_CONTROL, strerror(err));
		return err;
	}
	n = snprintf(query, sizeof(query), "module %s %cp\n", module,
		     on ? '+' : '-');
	errno = 0;
	if (write(fd, query, n) != n) {
		err = errno ? errno : EIO;
		snprintf(msg, size, "writing \"module %s %cp\" to %s: %s",
			 module, on ? '+' : '-', DYNDBG_CONTROL,
			 strerror(err));
	}
	close(fd);
	return err;
}
