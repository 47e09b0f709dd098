// SPDX-License-Identifier: GPL-2.0
/** @file fail_nth.c
 * @brief Make one allocation of a module fail on purpose (fail_nth.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fail_nth.h"
#include "small_file.h"

/** @brief The calling thread's fail-nth. */
#define FAIL_NTH_FILE "/proc/thread-self/fail-nth"

/** @brief @p x's text, once macros in it are expanded. */
#define FAIL_NTH_TEXT(x) FAIL_NTH_TEXT_OF(x)
/** @brief @p x's text as written. */
#define FAIL_NTH_TEXT_OF(x) #x

/** @brief One setting of a fault-injection capability in debugfs. */
struct fail_nth_setting {
	/** @brief Its file in the capability's directory. */
	const char *name;
	/** @brief The value written. */
	const char *value;
	/** @brief Nonzero for fail_page_alloc's only. */
	int page_alloc_only;
};

/** @brief What both capabilities are set to (min-order and
 *         ignore-gfp-highmem are fail_page_alloc's only). */
static const struct fail_nth_setting fail_nth_settings[] = {
	/* GFP_KERNEL allocations, which may sleep: every one a lab makes. */
	{ "ignore-gfp-wait", "N" },
	/* No "FAULT_INJECTION: forcing a failure." and stack in the log,
	 * which kernel_log_clean would take for the module's. */
	{ "verbose", "0" },
	/* Only fail-nth injects. */
	{ "probability", "0" },
	{ "task-filter", "N" },
	/* The whole stack the filter can look at. */
	{ "stacktrace-depth", "32" },
	{ "require-start", FAIL_NTH_TEXT(FAIL_NTH_MODULES_START) },
	{ "require-end", FAIL_NTH_TEXT(FAIL_NTH_MODULES_END) },
	/* fail_page_alloc: single pages too, and any zone. */
	{ "min-order", "0", 1 },
	{ "ignore-gfp-highmem", "N", 1 },
};

/** @brief Write the settings into one capability's directory.
 * @param dir the directory, e.g. /sys/kernel/debug/failslab
 * @param page_alloc nonzero for fail_page_alloc's
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or an errno with @p msg filled in
 */
static int fail_nth_set(const char *dir, int page_alloc, char *msg,
			size_t msg_size)
{
	char path[128];
	size_t i;
	int err;

	for (i = 0; i < sizeof(fail_nth_settings) /
			sizeof(fail_nth_settings[0]); i++) {
		if (fail_nth_settings[i].page_alloc_only && !page_alloc)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir,
			 fail_nth_settings[i].name);
		err = small_file_write(path, fail_nth_settings[i].value);
		if (err) {
			snprintf(msg, msg_size,
				 "the kit cannot set fault injection up: writing %s to %s: %s",
				 fail_nth_settings[i].value, path,
				 strerror(err));
			return err;
		}
	}
	return 0;
}

/** @brief Find where @p function's code is, from its address to the
 *         next symbol's, in /proc/kallsyms.
 * @param function the function's name
 * @param start where its address goes
 * @param end where the next symbol's goes
 * @return 0, or -1 when it is not there
 */
static int fail_nth_range(const char *function, unsigned long long *start,
			  unsigned long long *end)
{
	unsigned long long addr, best = ~0ULL;
	char line[256], name[128], type;
	FILE *f = fopen("/proc/kallsyms", "r");

	*start = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &addr, &type, name) == 3 &&
		    !strcmp(name, function))
			*start = addr;
	if (*start) {
		rewind(f);
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%llx", &addr) == 1 &&
			    addr > *start && addr < best)
				best = addr;
	}
	fclose(f);
	*end = best;
	return *start && best != ~0ULL ? 0 : -1;
}

/** @brief Leave out of one capability's count every allocation made with
 *         @p function on the stack (the stack-trace filter's reject
 *         range).
 * @param dir the capability's directory
 * @param function the function
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or an errno with @p msg filled in
 */
static int fail_nth_reject(const char *dir, const char *function, char *msg,
			   size_t msg_size)
{
	unsigned long long start, end;
	char path[96], text[32];
	int err;

	if (fail_nth_range(function, &start, &end)) {
		snprintf(msg, msg_size,
			 "the kit cannot set fault injection up: no address of %s in /proc/kallsyms",
			 function);
		return ENOENT;
	}
	snprintf(path, sizeof(path), "%s/reject-start", dir);
	snprintf(text, sizeof(text), "0x%llx", start);
	err = small_file_write(path, text);
	if (!err) {
		snprintf(path, sizeof(path), "%s/reject-end", dir);
		snprintf(text, sizeof(text), "0x%llx", end);
		err = small_file_write(path, text);
	}
	if (err)
		snprintf(msg, msg_size,
			 "the kit cannot set fault injection up: writing %s to %s: %s",
			 text, path, strerror(err));
	return err;
}

int fail_nth_setup(char *msg, size_t msg_size)
{
	int err;

	if (access(FAIL_NTH_FILE, F_OK)) {
		snprintf(msg, msg_size,
			 "this kernel cannot make allocations fail (no %s)",
			 FAIL_NTH_FILE);
		return ENOSYS;
	}
	if (access("/sys/kernel/debug/failslab", F_OK) &&
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) &&
	    errno != EBUSY) {
		err = errno;
		snprintf(msg, msg_size,
			 "the kit cannot mount debugfs for fault injection: %s",
			 strerror(err));
		return err;
	}
	err = fail_nth_set("/sys/kernel/debug/failslab", 0, msg, msg_size);
	if (!err)
		err = fail_nth_set("/sys/kernel/debug/fail_page_alloc", 1, msg,
				   msg_size);
	/* Not counted: the name of a device's node. The kernel goes on
	 * without it (device_add() makes the device, and devtmpfs a node
	 * under the default name or none), so the module has no failure to
	 * handle, and its class's devnode() cannot return one. */
	if (!err)
		err = fail_nth_reject("/sys/kernel/debug/failslab",
				      "device_get_devnode", msg, msg_size);
	/* Not counted: the slab allocator taking a new slab from the page
	 * allocator. Whether a kmalloc() needs one depends on what the
	 * kernel allocated and freed before, not on the module, so counted
	 * it would shift which allocation is the Nth from one run to the
	 * next; and a failed one is retried at a smaller order anyway. The
	 * kmalloc() itself is counted, once, by failslab. */
	if (!err)
		err = fail_nth_reject("/sys/kernel/debug/fail_page_alloc",
				      "allocate_slab", msg, msg_size);
	return err;
}

int fail_nth_covers(const char *module, char *msg, size_t msg_size)
{
	char line[512], name[64];
	unsigned long long addr;
	FILE *f = fopen("/proc/modules", "r");
	int found = 0;

	if (!f) {
		snprintf(msg, msg_size, "cannot read /proc/modules: %s",
			 strerror(errno));
		return -1;
	}
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%63s %*s %*s %*s %*s %llx", name,
			       &addr) == 2 && !strcmp(name, module);
	fclose(f);
	if (!found) {
		snprintf(msg, msg_size,
			 "%s is not in /proc/modules with an address", module);
		return -1;
	}
	if (addr < FAIL_NTH_MODULES_START || addr >= FAIL_NTH_MODULES_END) {
		snprintf(msg, msg_size,
			 "the kit's fault injection looks for modules' code from %s to %s, but %s is at 0x%llx: a kit error (a kernel with its address randomised?)",
			 FAIL_NTH_TEXT(FAIL_NTH_MODULES_START),
			 FAIL_NTH_TEXT(FAIL_NTH_MODULES_END), module, addr);
		return -1;
	}
	return 0;
}

/** @brief Write @p n into the calling thread's fail-nth.
 * @param fd the thread's fail-nth, open
 * @param n the value
 * @return 0, or an errno
 */
static int fail_nth_write(int fd, unsigned int n)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%u", n);

	if (pwrite(fd, text, len, 0) != len)
		return errno ? errno : EIO;
	return 0;
}

/** @brief Read the calling thread's fail-nth: what is left of the count
 *         written, 0 once the allocation it named failed.
 * @param fd the thread's fail-nth, open
 * @param left where the count goes
 * @return 0, or an errno
 */
static int fail_nth_read(int fd, unsigned long *left)
{
	char text[24];
	ssize_t len = pread(fd, text, sizeof(text) - 1, 0);

	if (len <= 0)
		return len < 0 ? errno : EIO;
	text[len] = '\0';
	*left = strtoul(text, NULL, 10);
	return 0;
}

int fail_nth_each(fail_nth_call call, fail_nth_check check, void *arg,
		  unsigned int *tries, char *msg, size_t msg_size)
{
	struct fail_nth_try t = { 0 };
	cpu_set_t before, one;
	unsigned long left = 1;
	int fd, err = 0, pinned, cpu, ret = -1;

	msg[0] = '\0';
	pinned = !sched_getaffinity(0, sizeof(before), &before);
	cpu = sched_getcpu();
	if (pinned && cpu >= 0) {
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pinned = !sched_setaffinity(0, sizeof(one), &one);
	}
	fd = open(FAIL_NTH_FILE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, msg_size, "cannot open %s: %s", FAIL_NTH_FILE,
			 strerror(errno));
		goto out;
	}
	for (t.n = 1; t.n <= FAIL_NTH_MAX; t.n++) {
		err = fail_nth_write(fd, t.n);
		if (!err) {
			errno = 0;
			t.ret = call(arg);
			t.err = t.ret < 0 ? errno : 0;
			err = fail_nth_read(fd, &left);
		}
		if (!err)
			err = fail_nth_write(fd, 0);
		if (err) {
			snprintf(msg, msg_size, "%s cannot be used: %s",
				 FAIL_NTH_FILE, strerror(err));
			goto out;
		}
		t.failed = left == 0;
		if (check(arg, &t, msg, msg_size))
			goto out;
		if (!t.failed)
			break;
	}
	if (t.n > FAIL_NTH_MAX) {
		snprintf(msg, msg_size,
			 "the call still made more allocations after %u of them had been made to fail, one at a time",
			 FAIL_NTH_MAX);
		goto out;
	}
	ret = 0;
out:
	if (tries)
		*tries = t.n;
	if (fd >= 0)
		close(fd);
	if (pinned)
		sched_setaffinity(0, sizeof(before), &before);
	return ret;
}
