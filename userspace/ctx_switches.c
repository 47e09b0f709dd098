// SPDX-License-Identifier: GPL-2.0
/** @file ctx_switches.c
 * @brief A thread's voluntary context switches; see ctx_switches.h.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include "ctx_switches.h"

long ctx_switches_of(pid_t tid)
{
	char path[64], line[256];
	long count = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &count) == 1)
			break;
	fclose(f);
	return count;
}

long ctx_switches_own(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		return -1;
	return ru.ru_nvcsw;
}
