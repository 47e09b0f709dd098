// SPDX-License-Identifier: GPL-2.0
/** @file nobody.c
 * @brief Run the rest of a test as an ordinary user; see nobody.h.
 */
#define _GNU_SOURCE
#include "nobody.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/** @brief Keep only CAP_SYS_PTRACE, in the effective and permitted sets.
 * @return 0, or -1 with errno set
 */
static int keep_only_ptrace(void)
{
	struct __user_cap_header_struct head = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2] = { { 0 } };

	data[0].effective = 1u << CAP_SYS_PTRACE;
	data[0].permitted = 1u << CAP_SYS_PTRACE;
	return (int)syscall(SYS_capset, &head, data);
}

int nobody_become(char *msg, size_t msg_size)
{
	const char *step;

	if (setgroups(0, NULL)) {
		step = "setgroups(0, NULL)";
		goto fail;
	}
	if (setresgid(NOBODY_ID, NOBODY_ID, NOBODY_ID)) {
		step = "setresgid()";
		goto fail;
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0)) {
		step = "prctl(PR_SET_KEEPCAPS, 1)";
		goto fail;
	}
	if (setresuid(NOBODY_ID, NOBODY_ID, NOBODY_ID)) {
		step = "setresuid()";
		goto fail;
	}
	if (keep_only_ptrace()) {
		step = "capset(CAP_SYS_PTRACE only)";
		goto fail;
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) ||
	    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)) {
		step = "prctl(PR_SET_DUMPABLE, 1)";
		goto fail;
	}
	if (geteuid() != NOBODY_ID || !setresuid(0, 0, 0)) {
		errno = EPERM;
		snprintf(msg, msg_size,
			 "the test is still privileged after becoming user %d",
			 NOBODY_ID);
		return -1;
	}
	return 0;
fail:
	snprintf(msg, msg_size, "cannot become user %d: %s failed: %s",
		 NOBODY_ID, step, strerror(errno));
	return -1;
}
