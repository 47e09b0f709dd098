// SPDX-License-Identifier: GPL-2.0
/** @file cpu_order.c
 * @brief One CPU and a real-time test, to order a woken task's next step;
 *        see cpu_order.h.
 */
#define _GNU_SOURCE
#include "cpu_order.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "small_file.h"

/** @brief The kernel's RT throttling: microseconds per period that
 *         real-time tasks may use (-1: no limit). */
#define RT_RUNTIME "/proc/sys/kernel/sched_rt_runtime_us"

/** @brief Read RT_RUNTIME.
 * @return its value, or -2 if it cannot be read
 */
static long rt_runtime_read(void)
{
	char buf[32];

	if (small_file_read(RT_RUNTIME, buf, sizeof(buf)) <= 0)
		return -2;
	return strtol(buf, NULL, 10);
}

/** @brief Write @p v to RT_RUNTIME.
 * @param v the value
 * @return 0, or -1 with errno set
 */
static int rt_runtime_write(long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", v);
	return small_file_write(RT_RUNTIME, buf);
}

int cpu_order_pin(struct cpu_order *o)
{
	cpu_set_t one;

	memset(o, 0, sizeof(*o));
	o->old_rt_runtime = -2;
	if (sched_getaffinity(0, sizeof(o->old_cpus), &o->old_cpus))
		return -1;
	o->cpu = sched_getcpu();
	if (o->cpu < 0)
		return -1;
	CPU_ZERO(&one);
	CPU_SET(o->cpu, &one);
	return sched_setaffinity(0, sizeof(one), &one);
}

int cpu_order_hold(struct cpu_order *o)
{
	struct sched_param p = { .sched_priority = 1 };

	o->old_rt_runtime = rt_runtime_read();
	if (o->old_rt_runtime != -1 && rt_runtime_write(-1))
		return -1;
	if (sched_setscheduler(0, SCHED_FIFO, &p)) {
		int err = errno;

		cpu_order_release(o);
		errno = err;
		return -1;
	}
	o->held = 1;
	return 0;
}

void cpu_order_release(struct cpu_order *o)
{
	struct sched_param p = { .sched_priority = 0 };

	if (o->held)
		sched_setscheduler(0, SCHED_OTHER, &p);
	o->held = 0;
	if (o->old_rt_runtime >= 0)
		rt_runtime_write(o->old_rt_runtime);
	o->old_rt_runtime = -2;
}

void cpu_order_unpin(struct cpu_order *o)
{
	cpu_order_release(o);
	sched_setaffinity(0, sizeof(o->old_cpus), &o->old_cpus);
}
