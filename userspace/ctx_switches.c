// SPDX-License-Identifier: GPL-2.0
/** @file ctx_switches.c
 * @brief A thread's voluntary context switches; see ctx_switches.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include "ctx_switches.h"
#include "small_file.h"

long ctx_switches_of(pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	return (long)small_file_field(path, "voluntary_ctxt_switches");
}

long ctx_switches_own(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return -1;
	return ru.ru_nvcsw;
}
