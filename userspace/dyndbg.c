// SPDX-License-Identifier: GPL-2.0
/** @file dyndbg.c
 * @brief Turn a module's pr_debug() messages on and off (dyndbg.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
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

/** @brief Make @p calls in a child process, with @p q in memory shared
 *         with it.
 * @param module the module's name
 * @param calls the calls
 * @param arg their argument
 * @param q the record: started by the child, and filled in
 * @return the child's wait status (exit 0 once the calls are made, 2 if
 *         /dev/kmsg could not be opened), or -1 if no child could be made
 */
static int calls_in_child(const char *module, dyndbg_calls calls, void *arg,
			  struct kmsg_quiet *q)
{
	int status = -1;
	pid_t pid;

	memset(q, 0, sizeof(*q));
	pid = fork();
	if (pid == 0) {
		if (kmsg_quiet_start(q, module))
			_exit(2);
		calls(q, arg);
		kmsg_quiet_end(q);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

void dyndbg_calls_off_and_on(const char *module, dyndbg_calls calls,
			     void *arg, struct dyndbg_outcome *o)
{
	struct kmsg_quiet *q;
	char why[200];
	int err;

	memset(o, 0, sizeof(*o));
	o->status_off = -1;
	o->status_on = -1;
	q = mmap(NULL, sizeof(*q), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (q == MAP_FAILED) {
		o->err = errno;
		snprintf(o->why, sizeof(o->why), "mmap: %s", strerror(errno));
		return;
	}
	o->status_off = calls_in_child(module, calls, arg, q);
	o->calls_off = q->off;
	if (o->status_off == 0) {
		o->err = dyndbg_module(module, 1, o->why, sizeof(o->why));
		if (!o->err) {
			o->status_on = calls_in_child(module, calls, arg, q);
			o->calls_on = q->off;
			o->lines_on = q->lines;
		}
		/* Off again in every case, as the next tests expect. */
		err = dyndbg_module(module, 0, why, sizeof(why));
		if (err && err != ENOENT && !o->err) {
			o->err = err;
			snprintf(o->why, sizeof(o->why), "turning them off again: %s",
				 why);
		}
	}
	munmap(q, sizeof(*q));
}

/** @brief A child's wait status in words, for dyndbg_judge().
 * @param status the status
 * @param out where the words go
 * @param size its size
 * @return @p out
 */
static const char *status_text(int status, char *out, size_t size)
{
	if (status < 0)
		snprintf(out, size, "could not be made");
	else if (WIFSIGNALED(status))
		snprintf(out, size, "was killed by signal %d",
			 WTERMSIG(status));
	else if (WEXITSTATUS(status) == 2)
		snprintf(out, size, "could not open /dev/kmsg");
	else
		snprintf(out, size, "exited with %d", WEXITSTATUS(status));
	return out;
}

int dyndbg_judge(const struct dyndbg_outcome *o, const char *module,
		 const char *rule, char *msg, size_t size)
{
	char text[64];

	if (o->status_off != 0) {
		snprintf(msg, size,
			 "with the debug messages off, the process making the calls %s (the test of the quiet data path makes the same calls)",
			 status_text(o->status_off, text, sizeof(text)));
		return -1;
	}
	if (o->err == ENOENT) {
		snprintf(msg, size,
			 "this kernel has no dynamic debug (%s): its pr_debug() messages compile to nothing, so none can be turned on",
			 o->why);
		return 0;
	}
	if (o->err) {
		snprintf(msg, size, "dynamic debug: %s", o->why);
		return -1;
	}
	if (o->status_on != 0) {
		snprintf(msg, size,
			 "the process making the calls with %s's debug messages on %s: %s (see the kernel log: a pr_debug() that reads a user pointer, or past a buffer?); %s",
			 module, status_text(o->status_on, text, sizeof(text)),
			 o->status_on > 0 && WIFSIGNALED(o->status_on) ?
			 "an oops in a call" : "the calls were not all made",
			 rule);
		return -1;
	}
	if (o->calls_on != o->calls_off) {
		snprintf(msg, size,
			 "with the messages on, %d calls returned other than the handout says; with them off, %d; %s",
			 o->calls_on, o->calls_off, rule);
		return -1;
	}
	snprintf(msg, size,
		 "%d debug messages of %s came while the calls were made with the messages on; every call returned as with them off%s",
		 o->lines_on, module,
		 o->calls_off ? " (some calls return other than the handout says, either way: the tests of those rules check that)" : "");
	return 0;
}
