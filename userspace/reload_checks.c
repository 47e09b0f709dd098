// SPDX-License-Identifier: GPL-2.0
/** @file reload_checks.c
 * @brief Checks shared by the module reload tests; see reload_checks.h.
 */
#define _GNU_SOURCE
#include "reload_checks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "module_reload.h"
#include "small_file.h"

const char *const reload_checks_bad_sizes[] = {
	"fifo_size=1", "fifo_size=3", "fifo_size=96", "fifo_size=65535",
	"fifo_size=65537", "fifo_size=131072", "fifo_size=2147483648",
	"fifo_size=4294967295", NULL,
};

int reload_checks_capacity(const char *node, size_t size, char *msg,
			   size_t msg_size)
{
	size_t room = 2 * size + 16, i;
	char *out = malloc(room), *in = malloc(room);
	ssize_t n, back;
	int fd, ret = -1;

	fd = open(node, O_RDWR | O_NONBLOCK);
	if (fd < 0 || !out || !in) {
		snprintf(msg, msg_size, "cannot open %s: %s", node,
			 strerror(errno));
		goto out;
	}
	while (read(fd, in, room) > 0)
		;
	for (i = 0; i < room; i++)
		out[i] = (char)('a' + i % 23);
	n = write(fd, out, room);
	if (n != (ssize_t)size) {
		snprintf(msg, msg_size, "an empty %s took %zd bytes of a write of %zu, not %zu: it holds exactly fifo_size bytes",
			 node, n, room, size);
		goto out;
	}
	errno = 0;
	n = write(fd, out, 1);
	if (n != -1 || errno != EAGAIN) {
		snprintf(msg, msg_size, "a full %s (%zu bytes): a non-blocking write of 1 byte returned %zd (%s), not -1 EAGAIN",
			 node, size, n, n < 0 ? strerror(errno) : "no error");
		goto out;
	}
	/* One read of more than is there returns all of it at once. */
	back = read(fd, in, room);
	if (back != (ssize_t)size || memcmp(in, out, size)) {
		snprintf(msg, msg_size, "a read of %zu bytes from a full %s returned %zd%s, not the %zu bytes there (a read returns min(n, bytes there) at once)",
			 room, node, back,
			 back == (ssize_t)size ? " (different bytes)" : "",
			 size);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(out);
	free(in);
	return ret;
}

/** @brief Mount debugfs on /sys/kernel/debug unless @p probe, a path
 *         in it, is there already: the grading VM does not mount it.
 * @param probe a file or directory that debugfs shows
 * @return 0, or the errno of a mount that failed
 */
static int debugfs_mount_for(const char *probe)
{
	if (access(probe, F_OK) &&
	    mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL) &&
	    errno != EBUSY)
		return errno;
	return 0;
}

int reload_checks_debugfs_dir(const char *module, char *path, size_t size)
{
	snprintf(path, size, "/sys/kernel/debug/%s", module);
	if (access("/sys/kernel/debug/", F_OK))
		return ENOENT;
	/* An empty /sys/kernel/debug is debugfs not mounted yet. */
	return debugfs_mount_for(path);
}

int reload_checks_debugfs_gone(const char *module)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s", module);
	errno = 0;
	return stat(path, &st) == -1 && errno == ENOENT;
}

int reload_checks_debugfs_state(const char *module, char *buf, size_t size)
{
	char path[128];
	size_t len = 0;
	int lines = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/kernel/debug/%s/state", module);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (len + 1 < size && fgets(buf + len, (int)(size - len), f)) {
		len += strlen(buf + len);
		lines++;
	}
	fclose(f);
	return lines;
}

/** @brief Whether @p name is one of @p names.
 * @param names NULL-terminated
 * @param name the name looked for
 * @return nonzero if it is
 */
static int name_listed(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (!strcmp(*names, name))
			return 1;
	return 0;
}

int reload_checks_params_are(const char *module, const char *const *names,
			     char *msg, size_t msg_size)
{
	char path[160], extra[256] = "";
	const char *const *n;
	struct dirent *de;
	size_t used = 0;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters", module);
	dir = opendir(path);
	if (!dir) {
		if (errno == ENOENT && !*names)
			return 0;
		snprintf(msg, msg_size, "cannot list %s: %s", path,
			 strerror(errno));
		return -1;
	}
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || name_listed(names, de->d_name))
			continue;
		used += snprintf(extra + used, used < sizeof(extra) ?
				 sizeof(extra) - used : 0, "%s%s",
				 used ? ", " : "", de->d_name);
		if (used >= sizeof(extra))
			used = sizeof(extra);
		ret = -1;
	}
	closedir(dir);
	if (ret) {
		snprintf(msg, msg_size, "%s holds %s, which the handout does not list: the module's parameters are exactly the handout's (root could change another one at run time, a verbose switch or a debug level, and so change the device behind its users' backs)",
			 path, extra);
		return -1;
	}
	for (n = names; *n; n++) {
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s",
			 module, *n);
		if (access(path, F_OK)) {
			snprintf(msg, msg_size, "no %s: the handout's parameter %s is declared with module_param(%s, ..., 0444)",
				 path, *n, *n);
			return -1;
		}
	}
	return 0;
}

int reload_checks_param_read_only(const char *module, const char *name,
				  const char *value, char *msg,
				  size_t msg_size)
{
	char path[160], got[64] = "";
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", module,
		 name);
	if (stat(path, &st)) {
		snprintf(msg, msg_size, "no %s: module_param(%s, ..., 0444) puts %s in sysfs",
			 path, name, name);
		return -1;
	}
	if ((st.st_mode & 07777) != 0444) {
		snprintf(msg, msg_size, "%s has mode %o: the handout says 0444 (the value is read once at load time, changing it later would do nothing)",
			 path, st.st_mode & 07777);
		return -1;
	}
	if (value) {
		fd = open(path, O_RDONLY);
		n = fd < 0 ? -1 : read(fd, got, sizeof(got) - 1);
		if (fd >= 0)
			close(fd);
		if (n <= 0 || strcmp(got, value)) {
			snprintf(msg, msg_size, "%s reads \"%s\", not \"%.*s\": it shows the value the module uses",
				 path, n < 0 ? strerror(errno) : got,
				 (int)strcspn(value, "\n"), value);
			return -1;
		}
	}
	errno = 0;
	fd = open(path, O_WRONLY);
	if (fd >= 0 || errno != EACCES) {
		snprintf(msg, msg_size, "an open of %s for writing %s, not EACCES: the mode is 0444, read-only also for root",
			 path, fd >= 0 ? "succeeded" : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return 0;
}

long long reload_checks_kernel_memory(long long *sunreclaim,
				      long long *vmalloc)
{
	long long kb, slab = -1, vm = -1;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "SUnreclaim: %lld kB", &kb) == 1)
			slab = kb * 1024;
		else if (sscanf(line, "VmallocUsed: %lld kB", &kb) == 1)
			vm = kb * 1024;
	}
	fclose(f);
	if (sunreclaim)
		*sunreclaim = slab;
	if (vmalloc)
		*vmalloc = vm;
	return slab < 0 || vm < 0 ? -1 : slab + vm;
}

/** @brief Write @p text into the file @p path, if it can be opened.
 * @param path the file (in /proc or /sys)
 * @param text what to write
 */
static void write_file(const char *path, const char *text)
{
	/* A cache that cannot shrink: nothing to do. */
	if (small_file_write(path, text))
		errno = 0;
}

/** @brief Bring the kernel's memory counters to rest, as far as user
 *         space can: wait for an RCU grace period (membarrier's
 *         MEMBARRIER_CMD_GLOBAL is synchronize_rcu()), so that the frees
 *         queued behind it can run; drop the dentry and inode caches;
 *         and shrink every slab cache, which gives back its empty slabs
 *         and the partial slabs of its per-CPU caches.
 */
static void settle(void)
{
	char path[320];
	struct dirent *e;
	DIR *d;

	syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	write_file("/proc/sys/vm/drop_caches", "2");
	d = opendir("/sys/kernel/slab");
	while (d && (e = readdir(d))) {
		/* Symbolic links are merged caches' other names. */
		if (e->d_name[0] == '.' || e->d_type == DT_LNK)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 e->d_name);
		write_file(path, "1");
	}
	if (d)
		closedir(d);
	syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
}

/** @brief Whether a frame of an allocation record is one the kernel
 *         cannot name: %pS prints such an address as "0x..." (a module
 *         that was unloaded, or an init function freed after its load).
 * @param frame the frame, leading spaces included
 * @return whether it is a bare address
 */
static bool unnamed_frame(const char *frame)
{
	frame += strspn(frame, " \t");
	return frame[0] == '0' && frame[1] == 'x';
}

/** @brief Whether an allocation record is the kernel's own leak, which
 *         no driver can avoid: 6.1's kset_register() keeps the name that
 *         kobject_set_name() gave the kset when kobject_add_internal()
 *         fails, so every class_create() of a class that exists (a second
 *         copy of Lab 07's module: a_failed_registration_fails_the_load)
 *         leaves it allocated, with the copy's init in its stack. 6.12's
 *         kset_register() frees it (lib/kobject.c, kfree_const()).
 * @param record the record's lines, as for orphan_record()
 * @return whether it is that name: allocated in kobject_set_name_vargs()
 *         for 6.1's __class_register()
 */
static bool kernels_own_leak(const char *record)
{
	return strstr(record, " kobject_set_name_vargs+") &&
	       strstr(record, " __class_register+");
}

/** @brief Add one record of an alloc_traces file to the count of
 *         reload_checks_orphans(): its objects, when a frame is unnamed.
 * @param cache the cache's name
 * @param record the record's lines: "COUNT SITE age=... pid=...", then
 *        one frame per line
 * @param first the first orphan record's text goes here, if empty
 * @param first_size its size (0: none)
 * @return the record's objects if they are orphans, else 0
 */
static long long orphan_record(const char *cache, const char *record,
			       char *first, size_t first_size)
{
	const char *line;
	long long count;
	bool orphan;
	char *end;

	count = strtoll(record, &end, 10);
	if (end == record || count <= 0)
		return 0;
	/* The site after the count, then the stack's frames, one a line. */
	if (kernels_own_leak(end))
		return 0;
	orphan = unnamed_frame(end);
	for (line = strchr(end, '\n'); !orphan && line;
	     line = strchr(line, '\n'))
		orphan = unnamed_frame(++line);
	if (!orphan)
		return 0;
	if (first_size && !first[0])
		snprintf(first, first_size, "%s:\n%s", cache, record);
	return count;
}

long long reload_checks_orphans(char *first, size_t first_size)
{
	char path[320], *line = NULL, *record = NULL;
	size_t line_size = 0, used = 0, room = 0;
	long long total = 0;
	struct dirent *e;
	ssize_t n;
	FILE *f;
	DIR *d;

	if (first_size)
		first[0] = '\0';
	if (debugfs_mount_for("/sys/kernel/debug/slab"))
		return -1;
	d = opendir("/sys/kernel/debug/slab");
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "kmalloc-", 8))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/slab/%s/alloc_traces", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		used = 0;
		for (;;) {
			n = getline(&line, &line_size, f);
			/* A blank line (or the end) closes a record. */
			if (n <= 1) {
				if (used)
					total += orphan_record(e->d_name,
							       record, first,
							       first_size);
				used = 0;
				if (n < 0)
					break;
				continue;
			}
			if (used + (size_t)n + 1 > room) {
				char *bigger = realloc(record,
						       used + (size_t)n + 4096);

				if (!bigger) {
					total = -1;
					break;
				}
				record = bigger;
				room = used + (size_t)n + 4096;
			}
			memcpy(record + used, line, (size_t)n + 1);
			used += (size_t)n;
		}
		fclose(f);
		if (total < 0)
			break;
	}
	closedir(d);
	free(line);
	free(record);
	return total;
}

/** @brief How long a growth over the limit is measured again before it
 *         is judged: kfree_rcu() may hold its objects for 5 s. This only
 *         bounds a failure: a driver that frees everything passes at the
 *         first measurement.
 */
#define SETTLE_MS 8000
/** @brief The pause between two measurements over the limit. */
#define SETTLE_STEP_MS 250

/** @brief A measurement that settle_and_measure() repeats: it measures
 *         once, the kernel brought to rest just before, and says whether
 *         to stop.
 * @param arg what it measures into
 * @return true to stop (the figures are final), false to measure again
 */
typedef bool (*settled_measure)(void *arg);

/** @brief Bring the kernel's counters to rest (settle()) and measure with
 *         @p measure, again every SETTLE_STEP_MS until it says to stop or
 *         SETTLE_MS are over.
 * @param measure the measurement
 * @param arg its argument
 * @return how many times it measured
 */
static unsigned int settle_and_measure(settled_measure measure, void *arg)
{
	struct timespec step_pause = { 0, SETTLE_STEP_MS * 1000000L };
	unsigned int measured = 0;

	do {
		if (measured++)
			nanosleep(&step_pause, NULL);
		settle();
	} while (!measure(arg) && measured * SETTLE_STEP_MS < SETTLE_MS);
	return measured;
}

/** @brief "1 object" or "N objects", for a message.
 * @param n the count
 * @return the noun to print after it
 */
static const char *objects(long long n)
{
	return n == 1 ? "object" : "objects";
}

/*
 * Where a driver's buffer is counted. kmalloc() of more than
 * KMALLOC_MAX_CACHE_SIZE (two pages, 8 KiB, with SLUB) bypasses the slab
 * caches and takes pages from the page allocator, but the kernel counts
 * them as unreclaimable slab all the same, so they show in SUnreclaim:
 * 6.12's mm/slub.c, ___kmalloc_large_node() adds PAGE_SIZE << order to
 * NR_SLAB_UNRECLAIMABLE_B with lruvec_stat_mod_folio(), and
 * free_large_kmalloc() takes it off again; 6.1's mm/slab_common.c does
 * the same in __kmalloc_large_node() and free_large_kmalloc() with
 * mod_lruvec_page_state(). /proc/meminfo's SUnreclaim is that counter
 * (fs/proc/meminfo.c). A kfifo_alloc() of 64 KiB is such a kmalloc(), a
 * kvmalloc() of 1 MiB one too, or a vmalloc() when no 1 MiB of contiguous
 * pages is free, counted in VmallocUsed (vmalloc_nr_pages()). Both are
 * counted, so that either way the buffer shows.
 */
/** @brief The figures reload_checks_steps_free() measures until the
 *         kernel's memory is back where it was (settle_and_measure()). */
struct memory_figures {
	/** @brief SUnreclaim and VmallocUsed before the steps (bytes). */
	long long before;
	/** @brief The most they may grow by. */
	long long limit;
	/** @brief The leftover objects before (-1: no records kept). */
	long long orphans0;
	/** @brief SUnreclaim now (bytes). */
	long long slab;
	/** @brief VmallocUsed now (bytes). */
	long long vm;
	/** @brief Their growth. */
	long long growth;
	/** @brief The leftover objects now (-1: not counted). */
	long long orphans;
	/** @brief The first group of leftover objects, for the message. */
	char first[1024];
};

/** @brief Measure struct memory_figures once: a settled_measure.
 * @param arg the struct memory_figures
 * @return true once the growth is under the limit and no object is left
 *         over
 */
static bool memory_back(void *arg)
{
	struct memory_figures *f = arg;

	f->growth = reload_checks_kernel_memory(&f->slab, &f->vm) - f->before;
	if (f->orphans0 >= 0)
		f->orphans = reload_checks_orphans(f->first, sizeof(f->first));
	return f->growth < f->limit && f->orphans <= f->orphans0;
}

int reload_checks_steps_free(const char *what, reload_checks_step step,
			     void *arg, size_t leak, unsigned int cycles,
			     char *msg, size_t msg_size)
{
	struct memory_figures f = {
		.limit = (long long)cycles * (long long)leak / 2,
		.orphans0 = -1, .orphans = -1,
	};
	long long slab0 = 0, vm0 = 0;
	unsigned int i, measured;
	size_t len;
	int err;

	snprintf(msg, msg_size, "no figures");
	/* Once to warm up: the first step fills caches that stay. */
	for (i = 0; i <= cycles; i++) {
		err = step(arg, i, msg, msg_size);
		if (err)
			return err;
		if (i)
			continue;
		/* Settles the kernel's counters, for both figures. */
		f.orphans0 = reload_checks_orphans_at_rest();
		/*
		 * Reading SLUB's records allocates and frees memory, which
		 * KASAN's quarantine (the debug kernel) keeps counted in
		 * SUnreclaim until a shrink drains it: settle again, as
		 * memory_back() measures after settle() too. Without it
		 * the baseline held about 400 KiB the measurement after
		 * the steps no longer did, and 512 KiB kept by eight
		 * refused loads showed as 116.
		 */
		settle();
		f.before = reload_checks_kernel_memory(&slab0, &vm0);
		if (f.before < 0) {
			snprintf(msg, msg_size, "cannot read /proc/meminfo");
			return EIO;
		}
	}
	measured = settle_and_measure(memory_back, &f);
	/* The leftover objects first: a test's message may be short. */
	msg[0] = '\0';
	if (f.orphans > f.orphans0)
		snprintf(msg, msg_size,
			 "%lld %s that the module's code allocated %s still allocated after %u %s, where none may be (their stacks run through code that is gone now: a bare address is the unloaded module, or its init function); the first group, from SLUB's records: %s; ",
			 f.orphans - f.orphans0,
			 objects(f.orphans - f.orphans0),
			 f.orphans - f.orphans0 == 1 ? "is" : "are", cycles,
			 what, f.first);
	len = strlen(msg);
	snprintf(msg + len, msg_size - len, "%u %s: SUnreclaim + VmallocUsed grew by %lld KiB (SUnreclaim %lld -> %lld KiB, VmallocUsed %lld -> %lld KiB; measured %u times), limit %lld KiB (half of %u x %zu bytes)",
		 cycles, what, f.growth / 1024, slab0 / 1024, f.slab / 1024,
		 vm0 / 1024, f.vm / 1024, measured, f.limit / 1024, cycles,
		 leak);
	len = strlen(msg);
	if (f.orphans0 < 0)
		snprintf(msg + len, msg_size - len,
			 "; this kernel keeps no allocation records (slub_debug=U), so leaks smaller than that are not looked for");
	else if (f.orphans <= f.orphans0)
		snprintf(msg + len, msg_size - len,
			 "; no object the module's code allocated is left over (SLUB's records: %lld %s of code that is gone before, %lld after)",
			 f.orphans0, objects(f.orphans0), f.orphans);
	return f.growth < f.limit && f.orphans <= f.orphans0 ? 0 : -1;
}

/** @brief A count of leftover objects, measured until it stops falling
 *         (reload_checks_orphans_at_rest()) or is down to a bound
 *         (reload_checks_no_leftovers()). */
struct orphan_count {
	/** @brief The count at the last measurement (-1: no records). */
	long long count;
	/** @brief reload_checks_no_leftovers()'s bound, or -1 to measure
	 *         until the count stops falling. */
	long long bound;
	/** @brief The first group of leftover objects, for a message. */
	char first[1024];
};

/** @brief Count the leftover objects once: a settled_measure.
 * @param arg the struct orphan_count
 * @return true when the count is final: none, no records, down to the
 *         bound, or (with no bound) no lower than the measurement before
 */
static bool orphans_settled(void *arg)
{
	struct orphan_count *c = arg;
	long long again = reload_checks_orphans(c->first, sizeof(c->first));
	bool falling = c->count < 0 || again < c->count;

	c->count = again;
	if (again <= 0)
		return true;
	return c->bound >= 0 ? again <= c->bound : !falling;
}

long long reload_checks_orphans_at_rest(void)
{
	/* Objects of code now gone, freed late (KASAN's quarantine holds
	 * the previous load's for a while), would hide a leak after. */
	struct orphan_count c = { .count = -1, .bound = -1 };

	settle_and_measure(orphans_settled, &c);
	return c.count;
}

int reload_checks_no_leftovers(long long before, const char *what,
			       char *msg, size_t msg_size)
{
	struct orphan_count c = { .count = -1, .bound = before };
	long long left;

	msg[0] = '\0';
	if (before < 0)
		return 0;
	settle_and_measure(orphans_settled, &c);
	if (c.count <= before)
		return 0;
	left = c.count - before;
	snprintf(msg, msg_size,
		 "%lld %s that the module's code allocated %s still allocated after %s (their stacks run through code that is gone now: a bare address is the unloaded module, or its init function); the first group, from SLUB's records: %s",
		 left, objects(left), left == 1 ? "is" : "are", what, c.first);
	return -1;
}

/** @brief What a step of reload_checks_unload_frees() and
 *         reload_checks_refusals_free() loads.
 */
struct load_step {
	/** @brief The module's name. */
	const char *module;
	/** @brief The parameters of every load. */
	const char *params;
	/** @brief Whether every load must be refused with EINVAL (nothing
	 *         is unloaded then), or succeed and be followed by an
	 *         unload. */
	bool refused;
};

/** @brief One load of a module, refused or followed by an unload: a
 *         reload_checks_step.
 * @param arg the struct load_step
 * @param i the step's number, from 0
 * @param msg what went wrong
 * @param msg_size the size of @p msg
 * @return 0, the errno of a failed load or unload, or EINVAL for a load
 *         that should have been refused and was not
 */
static int load_step(void *arg, unsigned int i, char *msg, size_t msg_size)
{
	const struct load_step *ls = arg;
	int err = module_load(ls->module, ls->params);

	if (ls->refused && err != EINVAL) {
		if (!err)
			module_unload_when_free(ls->module, 5000);
		snprintf(msg, msg_size, "load %u of %s with %s %s: it must fail with EINVAL",
			 i + 1, ls->module, ls->params,
			 err ? strerror(err) : "succeeded");
		return EINVAL;
	}
	if (ls->refused)
		return 0;
	if (err) {
		snprintf(msg, msg_size, "load %u of %s with %s failed: %s",
			 i + 1, ls->module, ls->params, strerror(err));
		return err;
	}
	err = module_unload_when_free(ls->module, 5000);
	if (err)
		snprintf(msg, msg_size, "unload %u of %s failed: %s", i + 1,
			 ls->module, strerror(err));
	return err;
}

/** @brief reload_checks_unload_frees() and reload_checks_refusals_free():
 *         unload @p module if it is loaded, then measure its loads.
 * @param module the module's name
 * @param params the parameters of every load
 * @param refused whether every load must be refused (EINVAL), not unloaded
 * @param leak the smallest loss per load that must be seen, in bytes
 * @param cycles how many loads are measured
 * @param msg the figures (always), and what went wrong
 * @param msg_size the size of @p msg
 * @return as reload_checks_steps_free()
 */
static int loads_keep_memory(const char *module, const char *params,
			     bool refused, size_t leak, unsigned int cycles,
			     char *msg, size_t msg_size)
{
	struct load_step ls = { module, params, refused };
	char what[192];
	int err;

	err = module_unload_when_free(module, 5000);
	if (err && err != ENOENT) {
		snprintf(msg, msg_size, "cannot unload %s: %s", module,
			 strerror(err));
		return err;
	}
	snprintf(what, sizeof(what), "%s with %s",
		 refused ? "refused loads" : "loads and unloads", params);
	return reload_checks_steps_free(what, load_step, &ls, leak, cycles,
					msg, msg_size);
}

int reload_checks_unload_frees(const char *module, const char *params,
			       size_t leak, unsigned int cycles, char *msg,
			       size_t msg_size)
{
	return loads_keep_memory(module, params, false, leak, cycles, msg,
				 msg_size);
}

int reload_checks_refusals_free(const char *module, const char *params,
				size_t leak, unsigned int cycles, char *msg,
				size_t msg_size)
{
	return loads_keep_memory(module, params, true, leak, cycles, msg,
				 msg_size);
}
