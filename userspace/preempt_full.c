// SPDX-License-Identifier: GPL-2.0
/** @file preempt_full.c
 * @brief Switch the kernel's preemption model for a scenario; see
 *        preempt_full.h.
 */
#define _GNU_SOURCE
#include "preempt_full.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "small_file.h"

/** @brief The kernel's preemption model (PREEMPT_DYNAMIC): reads as
 *         "none (voluntary) full", the one in use in parentheses; takes a
 *         model's name. */
#define PREEMPT_MODEL "/sys/kernel/debug/sched/preempt"

/** @brief Most CPUs looked at for hotplug (the VM has at most 8). */
#define MAX_CPUS 64

/** @brief The model in use: the word in parentheses in PREEMPT_MODEL,
 *         mounting debugfs first when it is not mounted.
 * @param model where its name goes
 * @param size room in @p model
 * @return 0, or -1 with errno set (ENOENT: the kernel cannot switch)
 */
static int model_in_use(char *model, size_t size)
{
	char text[128], *open_paren, *close_paren;

	if (access(PREEMPT_MODEL, F_OK) &&
	    access("/sys/kernel/debug/sched", F_OK) &&
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) &&
	    errno != EBUSY)
		return -1;
	if (small_file_read(PREEMPT_MODEL, text, sizeof(text)) < 0)
		return -1;
	open_paren = strchr(text, '(');
	close_paren = open_paren ? strchr(open_paren, ')') : NULL;
	if (!close_paren || (size_t)(close_paren - open_paren) > size) {
		errno = EPROTO;
		return -1;
	}
	*close_paren = '\0';
	snprintf(model, size, "%s", open_paren + 1);
	return 0;
}

/** @brief Write 0 or 1 to CPU @p cpu's hotplug file.
 * @param cpu the CPU
 * @param online 1 to bring it online, 0 to take it offline
 * @return 0, or -1 with errno set
 */
static int cpu_set_online(int cpu, int online)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online",
		 cpu);
	return small_file_write(path, online ? "1" : "0");
}

/** @brief Whether CPU @p cpu exists and is online, with a hotplug file.
 * @param cpu the CPU
 * @return 1 online, 0 offline, -1 no such CPU (or no hotplug file)
 */
static int cpu_is_online(int cpu)
{
	char path[64], text[8];

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online",
		 cpu);
	if (small_file_read(path, text, sizeof(text)) < 0)
		return -1;
	return text[0] == '1';
}

/** @brief Set the model to @p model with CPU 0 alone online: every other
 *         online CPU goes offline for the switch and comes back after it.
 * @param model the model's name
 * @param why where the reason goes on failure
 * @param size room in @p why
 * @return 0, or -1 (and @p why)
 */
static int model_set_alone(const char *model, char *why, size_t size)
{
	int taken[MAX_CPUS], n_taken = 0, cpu, ret = -1, i;
	cpu_set_t old_cpus, cpu0;

	if (sched_getaffinity(0, sizeof(old_cpus), &old_cpus)) {
		snprintf(why, size, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0)) {
		snprintf(why, size, "cannot run on CPU 0: %s", strerror(errno));
		return -1;
	}
	for (cpu = 1; cpu < MAX_CPUS; cpu++) {
		if (cpu_is_online(cpu) != 1)
			continue;
		if (cpu_set_online(cpu, 0)) {
			snprintf(why, size, "cannot take CPU %d offline: %s",
				 cpu, strerror(errno));
			goto online;
		}
		taken[n_taken++] = cpu;
	}
	if (small_file_write(PREEMPT_MODEL, model)) {
		snprintf(why, size, "cannot write \"%s\" to %s: %s", model,
			 PREEMPT_MODEL, strerror(errno));
		goto online;
	}
	ret = 0;
online:
	for (i = 0; i < n_taken; i++)
		if (cpu_set_online(taken[i], 1) && !ret) {
			snprintf(why, size, "cannot bring CPU %d back online: %s",
				 taken[i], strerror(errno));
			ret = -1;
		}
	sched_setaffinity(0, sizeof(old_cpus), &old_cpus);
	return ret;
}

/** @brief This boot's id, from /proc/sys/kernel/random/boot_id.
 * @param id where it goes, NUL-terminated, without its newline
 * @param size room in @p id
 * @return 0, or -1 with errno set
 */
static int boot_id(char *id, size_t size)
{
	if (small_file_read("/proc/sys/kernel/random/boot_id", id, size) < 0)
		return -1;
	id[strcspn(id, "\n")] = '\0';
	return 0;
}

/** @brief Note @p model as the one to switch back to (PREEMPT_FULL_NOTE).
 * @param model the model in use before the switch
 * @param why where the reason goes when it cannot be noted
 * @param size room in @p why
 * @return 0, or -1 (and @p why)
 */
static int note_write(const char *model, char *why, size_t size)
{
	char id[64], text[128];

	if (boot_id(id, sizeof(id))) {
		snprintf(why, size, "cannot read the boot id: %s",
			 strerror(errno));
		return -1;
	}
	snprintf(text, sizeof(text), "%s %s\n", model, id);
	if (small_file_create(PREEMPT_FULL_NOTE, text)) {
		snprintf(why, size, "cannot note the model in %s: %s",
			 PREEMPT_FULL_NOTE, strerror(errno));
		return -1;
	}
	return 0;
}

int preempt_full_recover(void)
{
	char text[128], model[32], noted_id[64], id[64], why[128];

	if (small_file_read(PREEMPT_FULL_NOTE, text, sizeof(text)) < 0)
		return 0;
	if (sscanf(text, "%31s %63s", model, noted_id) != 2 ||
	    boot_id(id, sizeof(id)) || strcmp(id, noted_id)) {
		unlink(PREEMPT_FULL_NOTE);
		return 0;
	}
	if (model_set_alone(model, why, sizeof(why))) {
		fprintf(stderr,
			"# preempt_full: a test left the kernel under full preemption, and switching back to %s failed: %s\n",
			model, why);
		return -1;
	}
	fprintf(stderr,
		"# preempt_full: a test ended under full preemption (killed before its teardown?): switched back to %s\n",
		model);
	unlink(PREEMPT_FULL_NOTE);
	return 0;
}

int preempt_full_begin(struct preempt_full *p, char *why, size_t size)
{
	char model[sizeof(p->old)], now[sizeof(p->old)];

	p->old[0] = '\0';
	if (preempt_full_recover()) {
		snprintf(why, size,
			 "a model noted by an earlier test could not be set again");
		return -1;
	}
	if (model_in_use(model, sizeof(model))) {
		snprintf(why, size, "%s: %s", PREEMPT_MODEL,
			 errno == ENOENT ?
			 "absent (a kernel without PREEMPT_DYNAMIC, which cannot switch its preemption model)" :
			 strerror(errno));
		return -1;
	}
	if (!strcmp(model, "full"))
		return 0;
	if (note_write(model, why, size))
		return -1;
	if (model_set_alone("full", why, size)) {
		/* Switched, but a CPU did not come back: switch back later. */
		if (!model_in_use(now, sizeof(now)) && !strcmp(now, "full"))
			snprintf(p->old, sizeof(p->old), "%s", model);
		else
			unlink(PREEMPT_FULL_NOTE);
		return -1;
	}
	snprintf(p->old, sizeof(p->old), "%s", model);
	return 0;
}

int preempt_full_end(struct preempt_full *p)
{
	char why[128];

	if (!p->old[0])
		return 0;
	if (model_set_alone(p->old, why, sizeof(why))) {
		fprintf(stderr, "# preempt_full: %s\n", why);
		return -1;
	}
	p->old[0] = '\0';
	unlink(PREEMPT_FULL_NOTE);
	return 0;
}
