// SPDX-License-Identifier: GPL-2.0
/** @file test_mypipe.c
 * @brief Lab 07 tests: /dev/mypipe/mypipe_in and /dev/mypipe/mypipe_out
 *        behave like a named pipe.
 *
 * Most tests are differential: one scenario (a few processes opening,
 * reading, writing, polling, signalling) runs twice, once on a named pipe
 * made with mkfifo and set to the module's 4096 bytes (F_SETPIPE_SZ), once
 * on mypipe, and writes a transcript of what every call returned. The
 * named pipe's transcript is the expected one: any difference fails the
 * test, which prints both side by side. The scenarios avoid what depends
 * on how the kernel's pipe stores its bytes (a page per write, where
 * mypipe has a byte ring), so that the two agree exactly.
 *
 * Every scenario runs in a process of its own, its helpers ("agents") in
 * children of that process; a call that should sleep is seen asleep in
 * /proc (task_state.h), never guessed with sleep(), and a wait for a call
 * that should return fails as soon as every process that could still end
 * it is blocked for good (task_stuck.h), not after a deadline, so that a
 * wrong driver gets its verdict in seconds. The other tests check
 * what a named pipe has no counterpart for: the nodes, the direction of
 * each end, exclusive=1, pipe_size, module unloading, and volume (the
 * course report's number stream, 64 MiB through 4 writers and 4 readers).
 * kselftest harness: each test runs in a forked process with a timeout;
 * tests/grade.sh turns the results into points.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "alloc_failures_expect.h"
#include "child_process.h"
#include "copy_stall.h"
#include "cpu_order.h"
#include "early_caller.h"
#include "fifo_call.h"
#include "held_call.h"
#include "fifo_model.h"
#include "module_copy.h"
#include "module_reload.h"
#include "nobody.h"
#include "pipe_model.h"
#include "preempt_full.h"
#include "reload_checks.h"
#include "signal_note.h"
#include "sleep_timer.h"
#include "small_file.h"
#include "task_state.h"
#include "task_stuck.h"
#include "tests_stop.h"
#include "unload_leftovers.h"
#include "untouched_pages.h"

/** @brief The write end. */
#define PIPE_IN "/dev/mypipe/mypipe_in"
/** @brief The read end. */
#define PIPE_OUT "/dev/mypipe/mypipe_out"
/** @brief The lab's module, which some tests reload. */
#define MODULE "mypipe"
/** @brief The module's default pipe_size, and the named pipe's size. */
#define PIPE_SIZE 4096
/** @brief How long, in ms, the processes that could still end a wait
 *         must all stay blocked, none of them running, before the wait
 *         counts as stuck (task_stuck.h): then none of them can wake
 *         another, whatever the machine's load. A wait for something
 *         that never comes fails after this, not after WAIT_MS. */
#define STUCK_MS 300
/** @brief How often, in ms, a wait looks whether it is stuck. */
#define LOOK_MS 20
/** @brief How long a step that must happen on a correct driver (a call
 *         going to sleep, a copy reaching its fault, a handler running)
 *         may take at most, in ms: a bound for a loaded machine, never
 *         what decides a pass. */
#define WAIT_MS 30000
/** @brief How long one run of a scenario may take, in ms. */
#define SCENARIO_MS 30000
/** @brief How long a held call (op_write(), op_read()) waits at most, in
 *         ms, for each agent it serves to be asleep again: a bound for a
 *         loaded machine; an agent that is asleep, or whose call
 *         returned, ends the wait at once. */
#define HELD_MS 5000
/** @brief Seconds the harness gives a differential test: two runs. */
#define DIFF_TIMEOUT 75

/* ---------------------------------------------------------------------
 * Transcripts
 */

/** @brief Agents a scenario may have (at most STUCK_WATCH_MAX minus
 *         SCENARIO_THREADS: scenario_wait() watches them all). */
#define MAX_AGENTS 12

/** @brief What one run of a scenario did, one line per event. */
struct transcript {
	/** @brief The PIDs of the run's agents not collected yet, 0 for
	 *         none: run_scenario() watches them with the scenario. */
	pid_t agents[MAX_AGENTS];
	/** @brief Set by run_scenario() when a task of the run spun on in
	 *         the kernel after SIGKILL: it can never be ended. */
	int spins_on;
	/** @brief Bytes used in @ref text, without the final NUL. */
	size_t len;
	/** @brief The lines, NUL-terminated. */
	char text[8192];
};

/** @brief Where say() writes in a scenario process (shared memory). */
static struct transcript *transcript;
/** @brief In an agent: the pipe say() writes to, or -1. */
static int agent_report = -1;

/** @brief Add a formatted line to @p t.
 * @param t the transcript
 * @param fmt printf format
 * @param ap its arguments
 */
static void transcript_vadd(struct transcript *t, const char *fmt,
			    va_list ap)
{
	size_t room = sizeof(t->text) - t->len;
	int n;

	if (room < 2)
		return;
	n = vsnprintf(t->text + t->len, room - 1, fmt, ap);
	if (n < 0)
		return;
	t->len += (size_t)n < room - 2 ? (size_t)n : room - 2;
	t->text[t->len++] = '\n';
	t->text[t->len] = '\0';
}

/** @brief Add a formatted line to @p t.
 * @param t the transcript
 * @param fmt printf format, then its arguments
 */
static void __attribute__((format(printf, 2, 3)))
transcript_add(struct transcript *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	transcript_vadd(t, fmt, ap);
	va_end(ap);
}

/** @brief Record a line of what happened: in the scenario's transcript,
 *         or, in an agent, on its report pipe (agent_collect() adds it).
 * @param fmt printf format, then its arguments
 */
static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (agent_report >= 0) {
		n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
		if (n > (int)sizeof(line) - 2)
			n = sizeof(line) - 2;
		if (n >= 0) {
			line[n++] = '\n';
			if (write(agent_report, line, n) != n)
				_exit(3);
		}
	} else if (transcript) {
		transcript_vadd(transcript, fmt, ap);
	}
	va_end(ap);
}

/** @brief A call's result as text: the value, or "-1 ENAME".
 *
 * Call it directly on the call's result, so that errno is the call's.
 *
 * @param ret what the call returned
 * @return a static string (one of four, so that a line may hold several)
 */
static const char *outcome(ssize_t ret)
{
	static char buf[4][32];
	static int next;
	const char *name = strerrorname_np(errno);
	char *b = buf[next++ % 4];

	if (ret < 0)
		snprintf(b, sizeof(buf[0]), "-1 %s", name ? name : "E?");
	else
		snprintf(b, sizeof(buf[0]), "%zd", ret);
	return b;
}

/* ---------------------------------------------------------------------
 * Targets: the named pipe or mypipe
 */

/** @brief What a scenario runs on. */
struct target {
	/** @brief Path of the write end. */
	char in[64];
	/** @brief Path of the read end (the same for a named pipe). */
	char out[64];
	/** @brief Nonzero for a named pipe, whose size is set at open. */
	int fifo;
};

/** @brief The target of the running scenario. */
static const struct target *target;

/** @brief In an agent: its flags, AGENT_CALLS of them, one set as each
 *         of its recorded calls returns (NULL in the scenario process). */
static atomic_int *my_flags;
/** @brief In an agent: how many of its recorded calls have returned. */
static int my_calls;

/** @brief Recorded calls of an agent that the scenario process can tell
 *         apart (expect_asleep_in()). */
#define AGENT_CALLS 8

/** @brief In an agent, record that its next call returned: the scenario
 *         process may be watching it with expect_asleep_in().
 */
static void call_returned(void)
{
	if (my_flags && my_calls < AGENT_CALLS)
		atomic_store(&my_flags[my_calls++], 1);
}

/** @brief Which end to open. */
enum end { WRITE_END, READ_END };

/** @brief Open one end of the target; a named pipe is set to PIPE_SIZE.
 * @param e the end
 * @param flags open flags besides the direction
 * @return the descriptor, or -1 with errno set
 */
static int open_end(enum end e, int flags)
{
	int fd = open(e == READ_END ? target->out : target->in,
		      flags | (e == READ_END ? O_RDONLY : O_WRONLY));

	if (fd >= 0 && target->fifo && fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE) < 0)
		say("(F_SETPIPE_SZ failed: %s)", strerror(errno));
	return fd;
}

/** @brief Set or clear O_NONBLOCK on @p fd.
 * @param fd the descriptor
 * @param on nonzero to set it
 */
static void set_nonblock(int fd, int on)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags >= 0)
		fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

/** @brief open() an end and record the result.
 * @param who the actor's name in the transcript
 * @param e the end
 * @param flags open flags besides the direction
 * @return the descriptor or -1
 */
static int op_open(const char *who, enum end e, int flags)
{
	int fd = open_end(e, flags);

	call_returned();
	say("%s: open %s%s -> %s", who, e == READ_END ? "read end" : "write end",
	    flags & O_NONBLOCK ? " O_NONBLOCK" : "",
	    fd < 0 ? outcome(-1) : "ok");
	return fd;
}

/** @brief Open both ends without waiting (the read end first, with
 *         O_NONBLOCK, which is then cleared) and record it.
 * @param w where the write end's descriptor goes
 * @param r where the read end's descriptor goes
 */
static void open_pair(int *w, int *r)
{
	*r = open_end(READ_END, O_NONBLOCK);
	*w = open_end(WRITE_END, O_NONBLOCK);
	if (*r >= 0)
		set_nonblock(*r, 0);
	if (*w >= 0)
		set_nonblock(*w, 0);
	say("both ends open: %s", *r >= 0 && *w >= 0 ? "yes" : "NO");
}

static int held_tasks(struct held_call_tasks *tasks);

/** @brief write() @p n bytes of @p byte and record the result.
 *
 * In the scenario process, while agents it saw asleep (expect_asleep())
 * have not been collected, a write of at most PIPE_SIZE bytes is held in
 * its copy until they are asleep again or their calls returned
 * (held_call.h): a driver that wakes them before the bytes are in then
 * leaves them asleep every time, not only when they happen to look
 * before the copy is through. The named pipe's sleepers, like a correct
 * driver's, sleep through the held copy and are woken after it.
 *
 * @param who the actor's name
 * @param fd the descriptor
 * @param n bytes, at most 64 KiB
 * @param byte the value of every byte
 * @return what write() returned
 */
static ssize_t op_write(const char *who, int fd, size_t n, char byte)
{
	static char buf[65536];
	struct held_call_tasks sleepers;
	ssize_t ret;

	memset(buf, byte, n);
	if (n && n <= PIPE_SIZE && held_tasks(&sleepers))
		ret = held_call(fd, buf, NULL, n, &sleepers, HELD_MS);
	else
		ret = write(fd, buf, n);
	call_returned();	say("%s: write %zu -> %s", who, n, outcome(ret));
	return ret;
}

/** @brief read() up to @p n bytes and record the result, with the bytes
 *         themselves when there are few.
 *
 * Held in its copy like op_write() while agents seen asleep have not
 * been collected.
 *
 * @param who the actor's name
 * @param fd the descriptor
 * @param n bytes asked for, at most 64 KiB
 * @return what read() returned
 */
static ssize_t op_read(const char *who, int fd, size_t n)
{
	static char buf[65536];
	struct held_call_tasks sleepers;
	ssize_t ret;

	if (n && n <= PIPE_SIZE && held_tasks(&sleepers))
		ret = held_call(fd, NULL, buf, n, &sleepers, HELD_MS);
	else
		ret = read(fd, buf, n);
	call_returned();
	if (ret > 0 && ret <= 16)
		say("%s: read %zu -> %zd \"%.*s\"", who, n, ret, (int)ret, buf);
	else
		say("%s: read %zu -> %s", who, n, outcome(ret));
	return ret;
}

/** @brief poll() @p fd for @p events, waiting up to @p ms (-1: for
 *         ever), and record the events, by name.
 * @param who the actor's name
 * @param fd the descriptor
 * @param events the events asked for (POLLERR and POLLHUP come anyway)
 * @param ms poll()'s timeout
 */
static void op_poll_for(const char *who, int fd, short events, int ms)
{
	static const struct { short bit; const char *name; } bits[] = {
		{ POLLIN, "IN" }, { POLLPRI, "PRI" }, { POLLOUT, "OUT" },
		{ POLLERR, "ERR" }, { POLLHUP, "HUP" }, { POLLNVAL, "NVAL" },
		{ POLLRDNORM, "RDNORM" }, { POLLRDBAND, "RDBAND" },
		{ POLLWRNORM, "WRNORM" }, { POLLWRBAND, "WRBAND" },
	};
	struct pollfd p = { .fd = fd, .events = events };
	char names[96] = "";
	unsigned int i;
	int n = poll(&p, 1, ms);

	call_returned();
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (n == 1 && (p.revents & bits[i].bit)) {
			strcat(names, " ");
			strcat(names, bits[i].name);
		}
	say("%s: poll ->%s", who, n < 0 ? " error" : n ? names : " nothing");
}

/** @brief poll() @p fd for reading and writing, waiting up to @p ms (-1:
 *         for ever), and record the events, by name.
 * @param who the actor's name
 * @param fd the descriptor
 * @param ms poll()'s timeout
 */
static void op_poll_wait(const char *who, int fd, int ms)
{
	op_poll_for(who, fd, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, ms);
}

/** @brief poll() @p fd at once and record the events, by name.
 * @param who the actor's name
 * @param fd the descriptor
 */
static void op_poll(const char *who, int fd)
{
	op_poll_wait(who, fd, 0);
}

/** @brief close() @p fd and record it.
 * @param who the actor's name
 * @param fd the descriptor
 */
static void op_close(const char *who, int fd)
{
	say("%s: close -> %s", who, outcome(close(fd)));
}

/* ---------------------------------------------------------------------
 * Agents: the other processes of a scenario
 */

/** @brief A child of the scenario process that makes calls of its own
 *         and reports them with say().
 */
struct agent {
	/** @brief Its name in the transcript. */
	const char *name;
	/** @brief Its PID, 0 once collected. */
	pid_t pid;
	/** @brief Read end of its report pipe. */
	int report;
	/** @brief Its calls' flags, AGENT_CALLS of them (shared): the agent
	 *         sets returned[k] when its call k (from 0) has returned. */
	atomic_int *returned;
};

/** @brief The scenario's agents. */
static struct agent agents[MAX_AGENTS];
/** @brief How many agents the scenario started. */
static int n_agents;
/** @brief The agents' flags, AGENT_CALLS for each of MAX_AGENTS, shared
 *         with them. */
static atomic_int *agent_flags;
/** @brief Nonzero for each agent expect_asleep_in() saw asleep and
 *         agent_collect() has not collected yet: the calls of the
 *         scenario process serve it (held_tasks()). */
static int agent_asleep[MAX_AGENTS];
/** @brief For each agent seen asleep: the call it was seen asleep in. */
static int agent_asleep_in[MAX_AGENTS];

/** @brief The agents a read or write of the scenario process may serve:
 *         those seen asleep and not collected (none in an agent).
 * @param tasks filled with their PIDs and their flags
 * @return how many
 */
static int held_tasks(struct held_call_tasks *tasks)
{
	int i;

	tasks->n = 0;
	for (i = 0; i < n_agents && tasks->n < HELD_CALL_TASKS; i++) {
		if (!agent_asleep[i] || agents[i].pid <= 0)
			continue;
		tasks->tid[tasks->n] = agents[i].pid;
		tasks->done[tasks->n] =
			&agents[i].returned[agent_asleep_in[i]];
		tasks->n++;
	}
	return tasks->n;
}

/** @brief Start an agent, like fork(): the child gets NULL and goes on
 *         with the agent's calls, then _exit()s; the parent gets the agent.
 *
 * The agent dies with the scenario process and writes nothing to the
 * test's output.
 *
 * @param name its name in the transcript
 * @return the agent in the parent, NULL in the agent
 */
static struct agent *agent_fork(const char *name)
{
	struct agent *a = &agents[n_agents];
	int p[2], i;

	if (!agent_flags) {
		agent_flags = mmap(NULL, MAX_AGENTS * AGENT_CALLS *
				   sizeof(*agent_flags), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (agent_flags == MAP_FAILED)
			_exit(3);
	}
	if (n_agents == MAX_AGENTS || pipe(p))
		_exit(3);
	a->name = name;
	agent_asleep[n_agents] = 0;
	a->returned = &agent_flags[n_agents * AGENT_CALLS];
	for (i = 0; i < AGENT_CALLS; i++)
		atomic_store(&a->returned[i], 0);
	a->pid = fork_detached();
	if (a->pid < 0)
		_exit(3);
	if (a->pid == 0) {
		close(p[0]);
		agent_report = p[1];
		my_flags = a->returned;
		my_calls = 0;
		n_agents = 0;
		return NULL;
	}
	close(p[1]);
	a->report = p[0];
	if (transcript)
		transcript->agents[n_agents] = a->pid;
	n_agents++;
	return a;
}

/** @brief Forget agent @p a once it was reaped: nothing watches it now.
 * @param a the agent
 */
static void agent_forget(struct agent *a)
{
	agent_asleep[a - agents] = 0;
	if (transcript)
		transcript->agents[a - agents] = 0;
	a->pid = 0;
}

/** @brief Whether every agent not collected yet is stuck: all blocked,
 *         none of them running (task_stuck.h), so that none will ever
 *         wake another (the scenario process only watches them).
 * @param w the watch, kept between calls
 * @return 1 when they are stuck
 */
static int agents_stuck(struct stuck_watch *w)
{
	pid_t pids[MAX_AGENTS];
	int i;

	for (i = 0; i < n_agents; i++)
		pids[i] = agents[i].pid;
	return stuck_watch_look(w, pids, n_agents, STUCK_MS);
}

/** @brief Wait until agent @p a sleeps in its call @p call (from 0), and
 *         record whether it does.
 *
 * For a call after the first, waits first for the one before it to
 * return: it was woken by what the scenario process just did, so on a
 * correct driver it returns; if instead the agent stays blocked for
 * STUCK_MS without running, that call never returned, and the
 * transcript says so. A later call that sleeps is then waited for like
 * the first one, so that what the scenario process does next always
 * finds it asleep, whatever the machine's timing.
 *
 * @param a the agent
 * @param call which of its recorded calls
 * @param what the call, for the transcript
 */
static void expect_asleep_in(struct agent *a, int call, const char *what)
{
	struct stuck_watch w;
	const char *how;
	int waited_ms;
	char st;

	if (call > 0) {
		stuck_watch_init(&w);
		for (waited_ms = 0; !atomic_load(&a->returned[call - 1]);
		     waited_ms++) {
			if (waited_ms >= WAIT_MS ||
			    stuck_watch_look(&w, &a->pid, 1, STUCK_MS)) {
				say("%s: %s: the call before it never returns",
				    a->name, what);
				return;
			}
			poll(NULL, 0, 1);
		}
	}
	st = task_wait_asleep(a->pid, &a->returned[call], WAIT_MS);
	switch (st) {
	case 'S':
		how = "sleeps";
		agent_asleep[a - agents] = 1;
		agent_asleep_in[a - agents] = call;
		break;
	case 'D':
		how = "sleeps in state D (signals cannot end it)";
		break;
	case 'X':
		how = "returns without sleeping";
		break;
	case 0:
		how = "neither sleeps nor returns";
		break;
	default:
		how = "has exited";
	}
	say("%s: %s %s", a->name, what, how);
}

/** @brief Wait until agent @p a sleeps in its first call, and record
 *         whether it does (expect_asleep_in() for call 0).
 * @param a the agent
 * @param what the call, for the transcript
 */
static void expect_asleep(struct agent *a, const char *what)
{
	expect_asleep_in(a, 0, what);
}

/** @brief Wait for agent @p a to end, and add its report and its exit to
 *         the transcript. It is killed when it is stuck (it and every
 *         other agent not collected yet blocked for STUCK_MS, none of
 *         them running: a call that never returns), or when it has not
 *         ended after WAIT_MS. (An agent that spins is seen by
 *         scenario_wait(), which ends the whole run.)
 * @param a the agent
 */
static void agent_collect(struct agent *a)
{
	struct pollfd p = { .fd = a->report, .events = POLLIN };
	char buf[2048], *line, *save;
	struct stuck_watch w;
	size_t got = 0;
	int status, ended = 0, stuck = 0, waited_ms = 0;
	ssize_t n;

	stuck_watch_init(&w);
	while (got < sizeof(buf) - 1 && waited_ms < WAIT_MS) {
		if (poll(&p, 1, LOOK_MS) == 1) {
			n = read(a->report, buf + got, sizeof(buf) - 1 - got);
			if (n <= 0) {
				ended = 1;
				break;
			}
			got += (size_t)n;
			continue;
		}
		waited_ms += LOOK_MS;
		stuck = agents_stuck(&w);
		if (stuck)
			break;
	}
	buf[got] = '\0';
	if (!ended)
		kill(a->pid, SIGKILL);
	waitpid(a->pid, &status, 0);
	agent_forget(a);
	close(a->report);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		say("%s", line);
	if (stuck)
		say("%s: asleep for good (no process of the scenario left to wake it): killed",
		    a->name);
	else if (!ended)
		say("%s: still busy after %d ms: killed", a->name, WAIT_MS);
	else if (WIFEXITED(status))
		say("%s: exit %d", a->name, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		say("%s: killed by SIG%s", a->name, sigabbrev_np(WTERMSIG(status)));
}

/** @brief Kill and reap every agent not collected, so that none still
 *         holds an end when the next scenario starts.
 */
static void agents_reap(void)
{
	int i;

	for (i = 0; i < n_agents; i++)
		if (agents[i].pid > 0) {
			kill(agents[i].pid, SIGKILL);
			waitpid(agents[i].pid, NULL, 0);
			agent_forget(&agents[i]);
		}
}

/** @brief Block SIGPIPE in this process: a write with no reader then
 *         leaves it pending. */
static void block_sigpipe(void)
{
	sigset_t pipe_only;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_only, NULL);
}

/** @brief Whether SIGPIPE is pending for the calling thread itself
 *         (SigPnd of /proc/thread-self/status), as a pipe's write sends
 *         it (send_sig() to the writing task), rather than for the whole
 *         process (ShdPnd: kill(getpid()), or kill_pid() of the thread
 *         group), which any thread that does not block it may take.
 * @return 1 if so, 0 if not or if it cannot be read
 */
static int sigpipe_pending_for_the_thread(void)
{
	char status[4096], *line;
	unsigned long long mask;

	if (small_file_read("/proc/thread-self/status", status,
			    sizeof(status)) < 0)
		return 0;
	line = strstr(status, "\nSigPnd:");
	if (!line)
		return 0;
	mask = strtoull(line + strlen("\nSigPnd:"), NULL, 16);
	return !!(mask & (1ULL << (SIGPIPE - 1)));
}

/** @brief Record whether SIGPIPE is pending (it is blocked), and for whom:
 *         the writing thread, or the whole process.
 * @param who the actor's name
 */
static void say_sigpipe_pending(const char *who)
{
	sigset_t pending;

	sigpending(&pending);
	say("%s: SIGPIPE pending: %s", who,
	    !sigismember(&pending, SIGPIPE) ? "no" :
	    sigpipe_pending_for_the_thread() ? "yes, for the writing thread" :
	    "yes, for the whole process");
}

/** @brief Take the pending SIGPIPE (it is blocked) and record how it was
 *         sent: a pipe's writer gets it from the kernel on its own
 *         behalf (send_sig() with priv 0): si_code SI_USER and si_pid the
 *         writer's own pid.
 * @param who the actor's name
 */
static void say_sigpipe_taken(const char *who)
{
	static const struct timespec now;
	sigset_t pipe_only;
	siginfo_t info;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	if (sigtimedwait(&pipe_only, &info, &now) != SIGPIPE) {
		say("%s: no SIGPIPE to take", who);
		return;
	}
	say("%s: SIGPIPE taken: si_code %s, si_pid %s", who,
	    info.si_code == SI_USER ? "SI_USER" :
	    info.si_code == SI_KERNEL ? "SI_KERNEL" : "another code",
	    info.si_pid == getpid() ? "the writer's own" : "another");
}

/** @brief Catch SIGUSR1 with note_signal(), with or without SA_RESTART.
 * @param restart nonzero for SA_RESTART
 */
static void catch_sigusr1(int restart)
{
	struct sigaction sa = { .sa_handler = note_signal };

	if (signal_note_fd() < 0)
		_exit(3);
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
}

/* ---------------------------------------------------------------------
 * Running a scenario on both targets
 */

/** @brief A scenario: calls on @ref target, recorded with say(). */
typedef void (*scenario_fn)(void);

/** @brief Threads of a scenario process that scenario_wait() watches:
 *         the process and the thread of a held call (op_write()). */
#define SCENARIO_THREADS 2
/** @brief Tasks scenario_wait() watches: the agents, then the threads. */
#define WATCHED (MAX_AGENTS + SCENARIO_THREADS)
_Static_assert(WATCHED <= STUCK_WATCH_MAX,
	       "scenario_wait() watches every agent and thread at once");

/** @brief Wait for the scenario process @p pid to end, watching it and
 *         its agents.
 * @param pid the scenario process
 * @param status where its exit status goes
 * @param out its transcript, which lists its agents
 * @param spinner where the task that spins goes, when one does
 * @return 0 when it ended, 1 when it is stuck (it and its agents all
 *         blocked for STUCK_MS, none of them running: a call of the
 *         scenario that never returns), 2 when one of them spins in a
 *         call (SPIN_CPU_MS of CPU time without a sleep: task_stuck.h),
 *         -1 after SCENARIO_MS
 */
static int scenario_wait(pid_t pid, int *status, struct transcript *out,
			 pid_t *spinner)
{
	struct spin_watch spin[WATCHED] = { 0 };
	pid_t pids[WATCHED];
	struct stuck_watch w;
	int waited_ms, i;

	stuck_watch_init(&w);
	for (waited_ms = 0; waited_ms < SCENARIO_MS; waited_ms += LOOK_MS) {
		if (!wait_for_child(pid, status, LOOK_MS))
			return 0;
		memset(pids, 0, sizeof(pids));
		memcpy(pids, out->agents, sizeof(out->agents));
		/* The scenario process, and the thread of a held call. */
		stuck_watch_threads(pid, pids + MAX_AGENTS,
				    SCENARIO_THREADS);
		if (stuck_watch_look(&w, pids, WATCHED, STUCK_MS))
			return 1;
		for (i = 0; i < WATCHED; i++) {
			if (pids[i] <= 0 ||
			    (spin[i].tid == pids[i] &&
			     waited_ms % (SPIN_LOOK_EVERY * LOOK_MS)))
				continue;
			if (spin[i].tid != pids[i]) {
				spin_watch_init(&spin[i], pids[i]);
			} else if (spin_watch_look(&spin[i])) {
				*spinner = pids[i];
				return 2;
			}
		}
	}
	return -1;
}

/** @brief After SIGKILL to a run whose task @p spinner spun: wait until
 *         the run's process @p pid has ended and @p spinner is gone.
 * @param pid the scenario process, killed
 * @param status where its exit status goes
 * @param spinner the task that spun
 * @return 0 when both are gone, 1 if @p spinner spins on (SPIN_CPU_MS
 *         more of CPU time without a sleep): a loop in the kernel that
 *         never looks at its signals, which nothing can end
 */
static int spinner_wait(pid_t pid, int *status, pid_t spinner)
{
	struct spin_watch spin;
	int ended = 0, looks = 0;
	char st;

	spin_watch_init(&spin, spinner);
	for (;;) {
		if (!ended && !wait_for_child(pid, status, LOOK_MS))
			ended = 1;
		else if (ended)
			poll(NULL, 0, LOOK_MS);
		/* Gone, or a zombie that its parent or init reaps. */
		st = task_state(spinner);
		if (ended && (!st || st == 'Z'))
			return 0;
		if (++looks % SPIN_LOOK_EVERY == 0 && spin_watch_look(&spin))
			return 1;
	}
}

/** @brief Run @p fn on @p t in a process of its own, into @p out.
 *
 * A run that is stuck or spins (scenario_wait()) or takes longer than
 * SCENARIO_MS is killed, with its process group (the agents), and says
 * so in the transcript; a spin that SIGKILL does not end sets
 * @ref transcript.spins_on.
 *
 * @param t the target
 * @param fn the scenario
 * @param out the transcript, in shared memory
 */
static void run_scenario(const struct target *t, scenario_fn fn,
			 struct transcript *out)
{
	pid_t pid, spinner = 0;
	int status = 0, how;

	memset(out->agents, 0, sizeof(out->agents));
	out->spins_on = 0;
	out->len = 0;
	out->text[0] = '\0';
	pid = fork_detached();
	if (pid < 0) {
		transcript_add(out, "(cannot fork: %s)", strerror(errno));
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		transcript = out;
		target = t;
		fn();
		agents_reap();
		_exit(0);
	}
	how = scenario_wait(pid, &status, out, &spinner);
	if (how) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		if (how == 2) {
			out->spins_on = spinner_wait(pid, &status, spinner);
			transcript_add(out, "(a call of the scenario spins: %d ms of CPU time without a sleep: killed%s)",
				       SPIN_CPU_MS, out->spins_on ?
				       ", and it spins on" : "");
		} else {
			waitpid(pid, &status, 0);
		}
		if (how == 1)
			transcript_add(out, "(scenario asleep for good, with every agent: killed)");
		else if (how < 0)
			transcript_add(out, "(scenario still running after %d s: killed)",
				       SCENARIO_MS / 1000);
	}
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		transcript_add(out, "(scenario killed by SIG%s)",
			       sigabbrev_np(WTERMSIG(status)));
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		transcript_add(out, "(scenario exited with %d)",
			       WEXITSTATUS(status));
}

/** @brief Split @p text into lines in place.
 * @param text the text, changed
 * @param lines where the lines go
 * @param max room in @p lines
 * @return how many lines
 */
static int split_lines(char *text, char **lines, int max)
{
	char *save, *line;
	int n = 0;

	for (line = strtok_r(text, "\n", &save); line && n < max;
	     line = strtok_r(NULL, "\n", &save))
		lines[n++] = line;
	return n;
}

/** @brief Run @p fn on a fresh named pipe and on mypipe; fail, showing
 *         both transcripts side by side, if they differ.
 * @param _metadata the test, for the harness's macros
 * @param fn the scenario
 * @param rule the handout's rule the scenario checks
 */
static void differential(struct __test_metadata *_metadata, scenario_fn fn,
			 const char *rule)
{
	struct target fifo = { .fifo = 1 };
	struct target dev = { .in = PIPE_IN, .out = PIPE_OUT };
	struct transcript *runs;
	char *a[128], *b[128];
	int na, nb, i, differ;

	runs = mmap(NULL, 2 * sizeof(*runs), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, runs);
	snprintf(fifo.in, sizeof(fifo.in), "/tmp/mypipe-test.%d", getpid());
	strcpy(fifo.out, fifo.in);
	unlink(fifo.in);
	ASSERT_EQ(0, mkfifo(fifo.in, 0600));
	run_scenario(&fifo, fn, &runs[0]);
	unlink(fifo.in);
	run_scenario(&dev, fn, &runs[1]);

	/* The expected run itself must have gone through, or nothing counts. */
	ASSERT_TRUE(runs[0].len > 0 && runs[0].text[0] != '(' &&
		    !strstr(runs[0].text, "\n(")) {
		TH_LOG("the scenario went wrong on the named pipe (a bug in the test):");
		TH_LOG("%s", runs[0].text);
	}
	differ = strcmp(runs[0].text, runs[1].text) != 0;
	if (differ) {
		na = split_lines(runs[0].text, a, 128);
		nb = split_lines(runs[1].text, b, 128);
		/* The table goes where TH_LOG() writes, without its long
		 * file:line:test prefix on every line. */
		fprintf(TH_LOG_STREAM, "#   %-48s | %s\n",
			"named pipe (expected)", "mypipe");
		for (i = 0; i < na || i < nb; i++) {
			const char *x = i < na ? a[i] : "", *y = i < nb ? b[i] : "";

			fprintf(TH_LOG_STREAM, "# %c %-48s | %s\n",
				strcmp(x, y) ? '!' : ' ', x, y);
		}
	}
	EXPECT_EQ(0, differ) {
		TH_LOG("mypipe does not behave like the named pipe (lines marked !); %s",
		       rule);
	}
	if (runs[1].spins_on)
		tests_stop_after_this(_metadata->name, "a call on mypipe spins in the kernel and SIGKILL does not end it (a loop that never sleeps and never looks at its signals, such as a wait whose condition is always true): it keeps a CPU for good, so no later result could be trusted");
	munmap(runs, 2 * sizeof(*runs));
}

/** @brief Where the test that switched the kernel to full preemption
 *         noted the model to switch back to: FIXTURE_TEARDOWN switches
 *         back also when an ASSERT ended the test. */
static struct preempt_full preempt_switched;

/** @brief The fixture of every test: nothing to hold, but the harness
 *         needs one for timeouts.
 */
FIXTURE(pipe) {
	/** @brief Unused. */
	int unused;
};

/** @brief Nothing to set up. */
FIXTURE_SETUP(pipe)
{
}

/** @brief Leave the module loaded with its defaults, as the autograder
 *         expects to find it, whatever a test that reloads it did, and
 *         the kernel in its own preemption model.
 */
FIXTURE_TEARDOWN(pipe)
{
	preempt_full_end(&preempt_switched);
	if (access("/sys/module/" MODULE, F_OK) != 0)
		module_load(MODULE, "");
}

/** @brief Define a differential test like_fifo_NAME, whose scenario is
 *         the function body that follows.
 * @param name the scenario's name
 * @param rule the handout's rule it checks, printed when it fails
 */
#define DIFFERENTIAL(name, rule)					\
	static void scenario_##name(void);				\
	TEST_F_TIMEOUT(pipe, like_fifo_##name, DIFF_TIMEOUT)		\
	{								\
		differential(_metadata, scenario_##name, rule);		\
	}								\
	static void scenario_##name(void)

/* ---------------------------------------------------------------------
 * The nodes
 */

TEST_F_TIMEOUT(pipe, nodes_are_char_devices_under_dev_mypipe, 30)
{
	struct stat in, out;

	ASSERT_EQ(0, stat(PIPE_IN, &in)) {
		TH_LOG(PIPE_IN ": %s (class devnode callback?)", strerror(errno));
	}
	ASSERT_EQ(0, stat(PIPE_OUT, &out)) {
		TH_LOG(PIPE_OUT ": %s", strerror(errno));
	}
	EXPECT_TRUE(S_ISCHR(in.st_mode));
	EXPECT_TRUE(S_ISCHR(out.st_mode));
	EXPECT_EQ(0666, in.st_mode & 07777);
	EXPECT_EQ(0666, out.st_mode & 07777);
	EXPECT_EQ(major(in.st_rdev), major(out.st_rdev)) {
		TH_LOG("both ends come from one alloc_chrdev_region()");
	}
	EXPECT_EQ(minor(in.st_rdev) + 1, minor(out.st_rdev));
	EXPECT_EQ(0, access("/sys/class/mypipe/mypipe_in", F_OK));
	EXPECT_EQ(0, access("/sys/class/mypipe/mypipe_out", F_OK));
}

/** @brief In a child process, open @p path without O_NONBLOCK, with a
 *         SIGUSR1 handler that does not restart it.
 * @param path the node
 * @param flags O_RDONLY or O_WRONLY
 * @return the child's PID; it exits with 0 if the open succeeded, else
 *         with its errno
 */
static pid_t open_in_child(const char *path, int flags)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	pid_t pid = fork_detached();
	int fd;

	if (pid)
		return pid;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	fd = open(path, flags);
	_exit(fd < 0 ? errno : 0);
}

/** @brief Wait for a child of open_in_child() and return its result.
 * @param pid the child
 * @return 0 (opened), an errno, or -1 if it is stuck (blocked for
 *         STUCK_MS without running: nothing else is left to wake it) or
 *         did not end within WAIT_MS (it is killed)
 */
static int open_result(pid_t pid)
{
	int status = 0, waited_ms = 0;
	struct stuck_watch w;

	stuck_watch_init(&w);
	while (wait_for_child(pid, &status, LOOK_MS)) {
		waited_ms += LOOK_MS;
		if (stuck_watch_look(&w, &pid, 1, STUCK_MS) ||
		    waited_ms >= WAIT_MS) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Rule 2: a wrong-direction open fails with EACCES at once, before
 * anything else: with O_NONBLOCK, and also without it, with no other end
 * open, where a right-direction open would sleep (a blocking one runs in
 * a child, which must end with EACCES and never sleep). */
TEST_F_TIMEOUT(pipe, wrong_direction_is_refused_with_eacces, 30)
{
	static const struct { const char *path; int flags; } wrong[] = {
		{ PIPE_IN, O_RDONLY }, { PIPE_IN, O_RDWR },
		{ PIPE_IN, O_ACCMODE }, { PIPE_OUT, O_WRONLY },
		{ PIPE_OUT, O_RDWR }, { PIPE_OUT, O_ACCMODE },
	};
	unsigned int i;
	int fd, err;

	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		const char *path = wrong[i].path;
		int flags = wrong[i].flags;
		const char *name = flags == O_RDWR ? "O_RDWR" :
				   flags == O_RDONLY ? "O_RDONLY" :
				   flags == O_WRONLY ? "O_WRONLY" :
				   "access mode 3 (neither reading nor writing)";

		fd = open(path, flags | O_NONBLOCK);
		EXPECT_EQ(-1, fd) {
			TH_LOG("%s opened with %s", path, name);
		}
		EXPECT_EQ(EACCES, errno);
		if (fd >= 0)
			close(fd);
		err = open_result(open_in_child(path, flags));
		EXPECT_EQ(EACCES, err) {
			TH_LOG("rule 2: an open of %s with %s (no O_NONBLOCK, no other end open) fails with EACCES at once, before anything else; it %s (a direction checked after the rendezvous sleeps, or opens, first)",
			       path, name,
			       err == -1 ? "slept" : err ? strerror(err) :
			       "opened");
		}
	}
}

/* ---------------------------------------------------------------------
 * Differential scenarios
 */

DIFFERENTIAL(writer_open_waits_for_reader,
	     "rule 3: an open of the write end sleeps until a reader opens")
{
	struct agent *a = agent_fork("writer");
	int r, w;

	if (!a) {
		w = op_open("writer", WRITE_END, 0);
		op_write("writer", w, 4, 'x');
		_exit(0);
	}
	expect_asleep(a, "open write end");
	r = op_open("reader", READ_END, 0);
	agent_collect(a);
	op_read("reader", r, 100);
	op_read("reader", r, 100);
}

/** @brief In a scenario: fork an agent that opens end @p e without
 *         O_NONBLOCK (and closes it again), and wait until it sleeps in
 *         the rendezvous.
 * @param name the agent's name
 * @param e the end
 * @return the agent
 */
static struct agent *agent_opening(const char *name, enum end e)
{
	struct agent *a = agent_fork(name);
	int fd;

	if (!a) {
		fd = op_open(name, e, 0);
		if (fd >= 0)
			op_close(name, fd);
		_exit(0);
	}
	expect_asleep(a, e == READ_END ? "open read end" : "open write end");
	return a;
}

DIFFERENTIAL(every_sleeping_open_returns_when_the_other_end_opens,
	     "rule 3: every open asleep in the rendezvous returns once the other end is opened (wake them all: each waits for the same event)")
{
	static const char *const names[2][3] = {
		{ "reader 1", "reader 2", "writer" },
		{ "writer 1", "writer 2", "reader" },
	};
	struct agent *a, *b;
	int i, fd;

	for (i = 0; i < 2; i++) {
		a = agent_opening(names[i][0], i ? WRITE_END : READ_END);
		b = agent_opening(names[i][1], i ? WRITE_END : READ_END);
		fd = op_open(names[i][2], i ? READ_END : WRITE_END, 0);
		agent_collect(a);
		agent_collect(b);
		op_close(names[i][2], fd);
	}
}

DIFFERENTIAL(reader_open_waits_for_writer,
	     "rule 3: an open of the read end sleeps until a writer opens")
{
	struct agent *a = agent_fork("reader");
	int r, w;

	if (!a) {
		r = op_open("reader", READ_END, 0);
		op_read("reader", r, 100);
		op_read("reader", r, 100);
		_exit(0);
	}
	expect_asleep(a, "open read end");
	w = op_open("writer", WRITE_END, 0);
	expect_asleep_in(a, 1, "read on empty");
	op_write("writer", w, 5, 'h');
	expect_asleep_in(a, 2, "read on empty");
	op_close("writer", w);
	agent_collect(a);
}

DIFFERENTIAL(nonblocking_opens,
	     "rules 4, 8 and 15: O_NONBLOCK opens (ENXIO for the write end alone), EOF and no POLLHUP before the first writer")
{
	int r, w;

	op_open("writer", WRITE_END, O_NONBLOCK);
	r = op_open("reader", READ_END, O_NONBLOCK);
	op_read("reader", r, 10);
	op_poll("reader", r);
	w = op_open("writer", WRITE_END, O_NONBLOCK);
	op_poll("reader", r);
	op_read("reader", r, 10);
	op_close("writer", w);
	op_poll("reader", r);
	op_read("reader", r, 10);
}

DIFFERENTIAL(read_returns_what_is_there,
	     "rule 6: a read returns min(n, bytes there) at once")
{
	int r, w;

	open_pair(&w, &r);
	op_write("writer", w, 10, 'a');
	op_read("reader", r, 100);
	op_write("writer", w, 3, 'b');
	op_write("writer", w, 4, 'c');
	op_read("reader", r, 5);
	op_read("reader", r, 100);
	op_write("writer", w, 4000, 'd');
	op_read("reader", r, 4096);
}

DIFFERENTIAL(eof_only_after_the_last_writer,
	     "rule 8: end of file once the last writer has closed, not the first")
{
	int r, w1, w2;

	open_pair(&w1, &r);
	w2 = op_open("writer 2", WRITE_END, 0);
	op_write("writer 1", w1, 2, 'a');
	op_close("writer 1", w1);
	op_poll("reader", r);
	op_read("reader", r, 10);
	op_poll("reader", r);
	op_write("writer 2", w2, 2, 'b');
	op_close("writer 2", w2);
	op_poll("reader", r);
	op_read("reader", r, 10);
	op_read("reader", r, 10);
}

/* Two readers asleep on an empty pipe: the last writer's close ends both
 * reads with end of file, not one. */
DIFFERENTIAL(last_writer_wakes_a_sleeping_reader,
	     "rule 18: the last writer's close wakes every sleeping reader (wake_up_interruptible_all())")
{
	struct agent *a, *b;
	int r, w;

	open_pair(&w, &r);
	a = agent_fork("reader");
	if (!a) {
		close(w);
		op_read("reader", r, 10);
		_exit(0);
	}
	expect_asleep(a, "read on empty");
	b = agent_fork("reader 2");
	if (!b) {
		close(w);
		op_read("reader 2", r, 10);
		_exit(0);
	}
	expect_asleep(b, "read on empty");
	op_close("writer", w);
	agent_collect(a);
	agent_collect(b);
}

/* A read asleep on the empty pipe is woken by a write, and the last
 * writer closes before the woken read runs: the read gets the bytes, and
 * only the next read gets end of file. A read that, once woken, looks at
 * "no writer left" before "bytes there" returns 0 with the bytes still in
 * the pipe. On two CPUs the woken read usually runs before the close, so
 * the order is made certain (cpu_order.h): the scenario and its reader
 * run on one CPU, and the scenario is SCHED_FIFO from before its write
 * until after its close, so that the woken reader (SCHED_OTHER) cannot
 * run between the two. Neither call sleeps: the write fits, and the
 * close finds the semaphore free and only counts the writer out. */
DIFFERENTIAL(woken_reader_gets_the_bytes_the_last_writer_left,
	     "rule 8: bytes written before the last writer left are read first: a read woken by a write that runs only after the last writer's close gets those bytes, and the next read gets 0 (a woken read that returns 0 while no writer is left without looking at the bytes first?)")
{
	static const char data[] = "0123456789";
	struct cpu_order order;
	struct agent *a;
	int r, w, closed, write_err, close_err;
	ssize_t n;

	if (cpu_order_pin(&order)) {
		say("(cannot run the scenario on one CPU: %s)",
		    strerror(errno));
		return;
	}
	open_pair(&w, &r);
	a = agent_fork("reader");
	if (!a) {
		close(w);
		op_read("reader", r, 64);
		op_read("reader", r, 64);
		_exit(0);
	}
	expect_asleep(a, "read on empty");
	if (cpu_order_hold(&order)) {
		say("(cannot make the scenario real-time: %s)",
		    strerror(errno));
		return;
	}
	/* The reader, woken by the write, cannot run until the release. */
	n = write(w, data, sizeof(data) - 1);
	write_err = errno;
	closed = close(w);
	close_err = errno;
	cpu_order_release(&order);
	errno = write_err;
	say("writer: write %zu -> %s", sizeof(data) - 1, outcome(n));
	errno = close_err;
	say("writer: close -> %s", outcome(closed));
	agent_collect(a);
	cpu_order_unpin(&order);
}

/** @brief Thread body: write 5 bytes through the write end @p arg (no
 *         reader left, SIGPIPE blocked), then record whether SIGPIPE is
 *         pending for this thread and take it.
 * @param arg the descriptor, an int
 * @return NULL
 */
static void *second_thread_writes(void *arg)
{
	op_write("writer thread", *(int *)arg, 5, 'x');
	say_sigpipe_pending("writer thread");
	say_sigpipe_taken("writer thread");
	return NULL;
}

/* Last, a second thread of the writer's process writes: SIGPIPE is for
 * that thread (current), not for the main one, the group's leader. */
DIFFERENTIAL(no_reader_means_sigpipe_and_epipe,
	     "rule 13: no reader: SIGPIPE to the writing thread itself, and EPIPE when it does not kill")
{
	pthread_t t;
	struct agent *a;
	int r, w;

	open_pair(&w, &r);
	op_close("reader", r);
	op_poll("writer", w);
	a = agent_fork("writer 2");
	if (!a) {
		op_write("writer 2", w, 1, 'x');
		_exit(0);
	}
	agent_collect(a);
	signal(SIGPIPE, SIG_IGN);
	op_write("writer", w, 1, 'x');
	op_write("writer", w, 0, 'x');
	signal(SIGPIPE, SIG_DFL);
	block_sigpipe();
	op_write("writer", w, 5, 'x');
	say_sigpipe_pending("writer");
	say_sigpipe_taken("writer");
	if (pthread_create(&t, NULL, second_thread_writes, &w)) {
		say("(cannot start a second thread)");
		return;
	}
	pthread_join(t, NULL);
}

DIFFERENTIAL(full_pipe_without_reader_gives_epipe,
	     "rule 13: a write while no reader exists gets SIGPIPE and EPIPE, also into a pipe still full of bytes and with O_NONBLOCK: no reader comes before room does")
{
	int r, w;

	open_pair(&w, &r);
	op_write("writer", w, PIPE_SIZE, 'f');
	op_close("reader", r);
	set_nonblock(w, 1);
	signal(SIGPIPE, SIG_IGN);
	op_write("writer", w, 1, 'x');
	op_write("writer", w, PIPE_SIZE + 1, 'x');
	signal(SIGPIPE, SIG_DFL);
	block_sigpipe();
	op_write("writer", w, 5, 'x');
	say_sigpipe_pending("writer");
	set_nonblock(w, 0);
	op_write("writer", w, 5, 'x');
	op_close("writer", w);
}

/* Two writers asleep on a full pipe: the last reader's close ends both
 * writes with EPIPE and SIGPIPE, not one. */
DIFFERENTIAL(last_reader_wakes_a_sleeping_writer,
	     "rules 13 and 18: the last reader's close wakes every sleeping writer with EPIPE and SIGPIPE (wake_up_interruptible_all())")
{
	struct agent *a, *b;
	int r, w;

	open_pair(&w, &r);
	op_write("writer", w, PIPE_SIZE, 'f');
	a = agent_fork("writer 2");
	if (!a) {
		close(r);
		block_sigpipe();
		op_write("writer 2", w, 1, 'x');
		say_sigpipe_pending("writer 2");
		_exit(0);
	}
	expect_asleep(a, "write on full");
	b = agent_fork("writer 3");
	if (!b) {
		close(r);
		block_sigpipe();
		op_write("writer 3", w, 2, 'y');
		say_sigpipe_pending("writer 3");
		_exit(0);
	}
	expect_asleep(b, "write on full");
	op_close("reader", r);
	agent_collect(a);
	agent_collect(b);
}

DIFFERENTIAL(nonblocking_calls_get_eagain,
	     "rules 7, 10 and 11: O_NONBLOCK gets EAGAIN where a call would sleep; a small write goes in whole or not at all")
{
	int r, w;

	open_pair(&w, &r);
	set_nonblock(r, 1);
	set_nonblock(w, 1);
	op_read("reader", r, 10);
	op_write("writer", w, 5000, 'a');
	op_write("writer", w, 1, 'b');
	op_read("reader", r, PIPE_SIZE);
	op_write("writer", w, 3000, 'c');
	op_write("writer", w, 2000, 'd');
	op_read("reader", r, 3000);
	op_write("writer", w, PIPE_BUF + 1, 'e');
	op_read("reader", r, 10);
	op_read("reader", r, PIPE_SIZE);
	op_read("reader", r, 10);
}

DIFFERENTIAL(poll_reports_data_room_and_hangups,
	     "rules 15 and 16: the poll masks of each end")
{
	int r, w;

	open_pair(&w, &r);
	op_poll("reader", r);
	op_poll("writer", w);
	op_write("writer", w, 1, 'a');
	op_poll("reader", r);
	op_poll("writer", w);
	op_read("reader", r, 10);
	op_poll("writer", w);
	op_write("writer", w, 2, 'b');
	op_close("writer", w);
	op_poll("reader", r);
	op_read("reader", r, 10);
	op_poll("reader", r);
	op_close("reader", r);
	open_pair(&w, &r);
	op_close("reader", r);
	op_poll("writer", w);
}

/** @brief Writers in the atomicity scenario. */
#define ATOMIC_WRITERS 4
/** @brief Records each of them writes. */
#define ATOMIC_RECORDS 64
/** @brief Size of writer k's records: all at most PIPE_BUF, most not
 *         dividing the pipe's size, so that records wrap around its end. */
static const size_t atomic_size[ATOMIC_WRITERS] = { 4096, 3000, 2000, 700 };

DIFFERENTIAL(writes_of_pipe_buf_are_atomic,
	     "rule 10: a write of at most PIPE_BUF bytes is never mixed with another writer's bytes")
{
	static char buf[65536];
	size_t done[ATOMIC_WRITERS] = { 0 }, left = 0, chunk;
	int intact[ATOMIC_WRITERS] = { 0 }, torn = 0, k = -1, i, r, w;
	struct agent *a[ATOMIC_WRITERS];
	static const char *names[ATOMIC_WRITERS] = {
		"writer A", "writer B", "writer C", "writer D" };
	ssize_t n, j;

	open_pair(&w, &r);
	for (i = 0; i < ATOMIC_WRITERS; i++) {
		a[i] = agent_fork(names[i]);
		if (!a[i]) {
			int rec, bad = 0;

			close(r);
			memset(buf, 'A' + i, atomic_size[i]);
			for (rec = 0; rec < ATOMIC_RECORDS; rec++)
				if (write(w, buf, atomic_size[i]) !=
				    (ssize_t)atomic_size[i])
					bad++;
			say("%s: %d records, %d short or failed", names[i],
			    ATOMIC_RECORDS, bad);
			_exit(0);
		}
	}
	close(w);
	/* Every record is atomic_size[k] bytes of 'A' + k in a row. */
	while ((n = read(r, buf, sizeof(buf))) > 0) {
		for (j = 0; j < n; j += chunk) {
			if (!left) {
				k = buf[j] - 'A';
				if (k < 0 || k >= ATOMIC_WRITERS) {
					torn++;
					chunk = 1;
					continue;
				}
				left = atomic_size[k];
			}
			chunk = 0;
			while (j + chunk < (size_t)n && chunk < left &&
			       buf[j + chunk] == 'A' + k)
				chunk++;
			if (!chunk) {
				/* Another writer's bytes inside a record. */
				torn++;
				left = 0;
				continue;
			}
			left -= chunk;
			done[k] += chunk;
			if (!left)
				intact[k]++;
		}
	}
	say("reader: last read -> %s", outcome(n));
	say("reader: intact records A %d, B %d, C %d, D %d; torn %d",
	    intact[0], intact[1], intact[2], intact[3], torn);
	for (i = 0; i < ATOMIC_WRITERS; i++)
		agent_collect(a[i]);
}

/** @brief Bytes of the large write. */
#define LARGE_WRITE (1024 * 1024)

/** @brief Byte @p i of a position-dependent pattern.
 * @param i the position
 * @return the byte
 */
static char pattern_byte(size_t i)
{
	return (char)((i * 7 + i / 251) & 0xff);
}

DIFFERENTIAL(large_write_completes,
	     "rule 11: a large write goes in as room appears and completes")
{
	struct agent *a;
	size_t total = 0, bad = 0;
	char buf[777];
	ssize_t n, i;
	int r, w;

	open_pair(&w, &r);
	a = agent_fork("writer");
	if (!a) {
		char *big = malloc(LARGE_WRITE);
		size_t k;

		close(r);
		if (!big)
			_exit(3);
		for (k = 0; k < LARGE_WRITE; k++)
			big[k] = pattern_byte(k);
		say("writer: write %d -> %s", LARGE_WRITE,
		    outcome(write(w, big, LARGE_WRITE)));
		_exit(0);
	}
	close(w);
	while ((n = read(r, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++)
			bad += buf[i] != pattern_byte(total + i);
		total += n;
	}
	say("reader: read %zu bytes in all, %zu wrong, then %s", total, bad,
	    outcome(n));
	agent_collect(a);
}

DIFFERENTIAL(signals_end_sleeping_reads,
	     "rule 14: a signal ends a sleeping read with -ERESTARTSYS (EINTR, or a restart with SA_RESTART)")
{
	struct agent *a;
	int r, w;

	open_pair(&w, &r);
	a = agent_fork("reader");
	if (!a) {
		catch_sigusr1(0);
		op_read("reader", r, 10);
		_exit(0);
	}
	expect_asleep(a, "read on empty");
	kill(a->pid, SIGUSR1);
	agent_collect(a);

	catch_sigusr1(1);
	a = agent_fork("restarting reader");
	if (!a) {
		op_read("restarting reader", r, 10);
		_exit(0);
	}
	expect_asleep(a, "read on empty");
	kill(a->pid, SIGUSR1);
	say("handler ran: %s", await_byte(signal_note_fd(), WAIT_MS) ? "yes" : "no");
	/* Asleep again: the read was restarted after the handler. */
	expect_asleep(a, "read after the handler");
	op_write("writer", w, 3, 'z');
	agent_collect(a);
}

DIFFERENTIAL(signals_end_sleeping_writes_and_opens,
	     "rules 5 and 14: a large write interrupted returns what it wrote; an interrupted open gets EINTR and leaves nothing")
{
	struct agent *a;
	char *big;
	ssize_t n;
	int r, w;

	open_pair(&w, &r);
	a = agent_fork("writer");
	if (!a) {
		catch_sigusr1(0);
		big = calloc(1, 10000);
		n = big ? write(w, big, 10000) : -1;
		call_returned();
		say("writer: write 10000 -> %s", outcome(n));
		_exit(0);
	}
	expect_asleep(a, "write larger than the pipe");
	kill(a->pid, SIGUSR1);
	agent_collect(a);
	op_close("writer", w);
	op_close("reader", r);

	a = agent_fork("opener");
	if (!a) {
		catch_sigusr1(0);
		op_open("opener", WRITE_END, 0);
		_exit(0);
	}
	expect_asleep(a, "open write end");
	kill(a->pid, SIGUSR1);
	agent_collect(a);
	/* Nothing of the interrupted open is left: no writer. */
	r = op_open("reader", READ_END, O_NONBLOCK);
	op_read("reader", r, 10);
	op_open("writer", WRITE_END, O_NONBLOCK);
}

/** @brief The end of bytes_are_dropped_when_all_ends_close: 3 bytes go
 *         in, an open of @p end sleeps in the rendezvous, the last other
 *         file of both ends closes, and a signal ends the open: no file
 *         is left, so the bytes are gone (a new reader reads 0).
 *
 * For the read end, the writer closes first and the reader @p r last; for
 * the write end, @p r closes first and the writer last. The sleeping
 * opener closes the descriptor it inherited, so that its open is really
 * the last file to go.
 *
 * @param end the end whose open the signal ends
 * @param r a reader open with O_NONBLOCK, empty pipe, no writer
 * @param fill the bytes' value
 * @return the new reader, open with O_NONBLOCK
 */
static int interrupted_open_goes_last(enum end end, int r, char fill)
{
	int reading = end == READ_END, w, held;
	const char *who = reading ? "reader 2" : "writer 2";
	struct agent *a;

	w = op_open("writer", WRITE_END, 0);
	op_write("writer", w, 3, fill);
	if (reading)
		op_close("writer", w);
	else
		op_close("reader", r);
	held = reading ? r : w;
	a = agent_fork(who);
	if (!a) {
		close(held);
		catch_sigusr1(0);
		op_open(who, end, 0);
		_exit(0);
	}
	expect_asleep(a, reading ? "open read end" : "open write end");
	op_close(reading ? "reader" : "writer", held);
	kill(a->pid, SIGUSR1);
	agent_collect(a);
	r = op_open("reader", READ_END, O_NONBLOCK);
	op_read("reader", r, 10);
	return r;
}

/* Rule 19, and the open of rule 5 that "leaves nothing behind": the
 * bytes are dropped when the last file of both ends goes, whichever end
 * it belongs to, also when that last file is an open a signal ended in
 * the rendezvous (interrupted_open_goes_last()). The test,
 * like_fifo_bytes_are_dropped_when_all_ends_close, also looks at the live
 * view after those last closes (expect_dropped_in_the_view()): a read
 * after the next open cannot tell "dropped at the last close" from
 * "dropped at the next open". */
static void scenario_bytes_are_dropped_when_all_ends_close(void)
{
	int r, w;

	open_pair(&w, &r);
	op_write("writer", w, 3, 'k');
	op_close("reader", r);
	r = op_open("reader", READ_END, 0);
	op_read("reader", r, 2);
	op_close("reader", r);
	op_close("writer", w);
	r = op_open("reader", READ_END, O_NONBLOCK);
	op_read("reader", r, 10);
	/* The other order: the last writer goes first, then the last reader. */
	w = op_open("writer", WRITE_END, 0);
	op_write("writer", w, 3, 'm');
	op_close("writer", w);
	op_read("reader", r, 1);
	op_close("reader", r);
	r = op_open("reader", READ_END, O_NONBLOCK);
	op_read("reader", r, 10);

	r = interrupted_open_goes_last(READ_END, r, 'n');
	interrupted_open_goes_last(WRITE_END, r, 'o');
}

/* Several files on each end. First, two readers asleep on an empty pipe
 * and one write of two bytes: a read returns what is there, so each
 * reader gets a byte, the second one after the first has taken its own. */
DIFFERENTIAL(several_readers_and_writers,
	     "rules 6 and 12: several files per end; a woken reader passes the wake-up on")
{
	struct agent *a, *b;
	int r1, r2, w1, w2;

	open_pair(&w1, &r1);
	a = agent_fork("reader 3");
	if (!a) {
		close(w1);
		op_read("reader 3", r1, 1);
		_exit(0);
	}
	expect_asleep(a, "read on empty");
	b = agent_fork("reader 4");
	if (!b) {
		close(w1);
		op_read("reader 4", r1, 1);
		_exit(0);
	}
	expect_asleep(b, "read on empty");
	op_write("writer 1", w1, 2, 'z');
	agent_collect(a);
	agent_collect(b);
	w2 = op_open("writer 2", WRITE_END, 0);
	r2 = op_open("reader 2", READ_END, 0);
	op_write("writer 1", w1, 1, 'a');
	op_write("writer 2", w2, 1, 'b');
	op_read("reader 2", r2, 10);
	op_close("reader 1", r1);
	op_write("writer 1", w1, 1, 'c');
	op_read("reader 2", r2, 10);
	op_close("reader 2", r2);
	signal(SIGPIPE, SIG_IGN);
	op_write("writer 2", w2, 1, 'd');
	op_poll("writer 1", w1);
}

DIFFERENTIAL(bad_pointers_get_efault,
	     "rule 20: a call that can copy nothing gets EFAULT, and the bytes stay")
{
	char *none = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	int r, w;

	open_pair(&w, &r);
	say("writer: write from a PROT_NONE page -> %s",
	    outcome(write(w, none, 3)));
	op_write("writer", w, 3, 'p');
	say("reader: read into a PROT_NONE page -> %s",
	    outcome(read(r, none, 3)));
	op_read("reader", r, 10);
}

/* Any valid buffer works, also one whose page the process has not touched
 * yet (a new memory file's mapping to write from, new anonymous memory to
 * read into): the copy faults the page in, which may sleep, through a
 * descriptor without O_NONBLOCK and one with it. A copy made under a
 * spinlock cannot fault and fails with EFAULT, which no buffer the
 * scenario has written itself shows. */
DIFFERENTIAL(copies_fault_in_untouched_pages,
	     "rule 20: any valid buffer works, also one in a page the process has not touched yet: the copy faults the page in, which may sleep, so no spinlock is held across a copy")
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *data = malloc(page), *src = NULL, *dst = NULL;
	char spare[24];
	int i, r, w;
	size_t k;

	if (data) {
		for (k = 0; k < page; k++)
			data[k] = (char)('a' + k % 26);
		src = untouched_file_copy(data, page);
		dst = untouched_anon(page);
	}
	if (!src || !dst) {
		say("(cannot map the buffers: %s)", strerror(errno));
		return;
	}
	open_pair(&w, &r);
	for (i = 0; i < 2; i++) {
		/* Other bytes each time: from further into the page. */
		const char *how = i ? " O_NONBLOCK" : "";
		const char *want = data + 32 * i;
		char *from = src + 32 * i, *into = dst + 32 * i;
		ssize_t n;

		if (untouched_page_mapped(from) || untouched_page_mapped(into))
			say("(the test's own premise failed: a buffer's page is mapped before the call)");
		n = write(w, from, 24);
		say("writer%s: write 24 from a page not touched yet -> %s", how,
		    outcome(n));
		if (n != 24 && write(w, want, 24) != 24)
			say("writer%s: the 24 bytes could not be put in at all", how);
		n = read(r, into, 24);
		say("reader%s: read 24 into a page not touched yet -> %s%s", how,
		    outcome(n),
		    n == 24 && memcmp(into, want, 24) ? ", other bytes" : "");
		if (n != 24 && read(r, spare, sizeof(spare)) < 0)
			say("reader%s: the 24 bytes could not be taken out", how);
		untouched_again(src, page);
		untouched_again(dst, page);
		set_nonblock(w, 1);
		set_nonblock(r, 1);
	}
	close(w);
	close(r);
	munmap(src, page);
	munmap(dst, page);
	free(data);
}

/* A read or write of 0 bytes returns 0 at once, whatever the pipe holds
 * and whoever holds its ends: it never sleeps, never answers EAGAIN,
 * never looks at the buffer, and sends no SIGPIPE. */
DIFFERENTIAL(zero_byte_calls_return_at_once,
	     "rule 9: a read or write of 0 bytes returns 0 at once (never sleeps, no EAGAIN, EFAULT, EPIPE or SIGPIPE)")
{
	struct agent *a;
	int r, w;

	open_pair(&w, &r);
	a = agent_fork("reader");
	if (!a) {
		close(w);
		op_read("reader", r, 0);
		_exit(0);
	}
	expect_asleep(a, "read 0 on empty");
	agent_collect(a);
	set_nonblock(r, 1);
	op_read("reader", r, 0);
	set_nonblock(r, 0);
	op_write("writer", w, 3, 'z');
	op_read("reader", r, 0);
	say("reader: read 0 into NULL -> %s", outcome(read(r, NULL, 0)));
	say("writer: write 0 from NULL -> %s", outcome(write(w, NULL, 0)));
	op_write("writer", w, PIPE_SIZE - 3, 'y');
	a = agent_fork("writer 2");
	if (!a) {
		close(r);
		op_write("writer 2", w, 0, 'x');
		_exit(0);
	}
	expect_asleep(a, "write 0 on full");
	agent_collect(a);
	set_nonblock(w, 1);
	op_write("writer", w, 0, 'x');
	set_nonblock(w, 0);
	op_read("reader", r, 16);
	op_read("reader", r, PIPE_SIZE);
	op_close("reader", r);
	block_sigpipe();
	op_write("writer", w, 0, 'x');
	say_sigpipe_pending("writer");
	op_write("writer", w, 1, 'x');
	say_sigpipe_pending("writer");
}

/* PIPE_BUF bytes is the largest write that goes in whole: with 10 bytes
 * in the pipe, a write of 4096 waits (or gets EAGAIN) until all 4096
 * fit, and then goes in at once. */
DIFFERENTIAL(pipe_buf_is_the_atomic_limit,
	     "rules 10 and 12: a write of PIPE_BUF bytes goes in whole; a sleeping writer waits for room for PIPE_BUF bytes")
{
	struct agent *a;
	int r, w;

	open_pair(&w, &r);
	op_write("writer", w, 10, 'a');
	set_nonblock(w, 1);
	op_write("writer", w, PIPE_BUF, 'b');
	set_nonblock(w, 0);
	a = agent_fork("writer 2");
	if (!a) {
		close(r);
		op_write("writer 2", w, PIPE_BUF, 'c');
		_exit(0);
	}
	expect_asleep(a, "write 4096 with 10 bytes in");
	op_read("reader", r, 5);
	expect_asleep(a, "write 4096 with 5 bytes in");
	op_read("reader", r, 5);
	agent_collect(a);
	op_read("reader", r, PIPE_SIZE);
	set_nonblock(w, 1);
	op_write("writer", w, PIPE_BUF + 1, 'd');
	set_nonblock(w, 0);
	/* The pipe is full: a writer of 1 byte sleeps until there is room
	 * for PIPE_BUF bytes, not until there is room for its byte. */
	a = agent_fork("writer 3");
	if (!a) {
		close(r);
		op_write("writer 3", w, 1, 'e');
		_exit(0);
	}
	expect_asleep(a, "write 1 on full");
	op_read("reader", r, 1);
	expect_asleep(a, "write 1 with room for 1 byte");
	op_read("reader", r, PIPE_SIZE);
	agent_collect(a);
	op_read("reader", r, 10);
}

/** @brief The pipe filled, a write of @p n bytes asleep for room before
 *         it put anything in is ended by a signal (EINTR), then another
 *         one, with SA_RESTART, is restarted by one and sleeps again.
 * @param n the writes' size
 * @return the read end; the restarted write, agent "restarting writer"
 *         (the last agent started), is asleep in it, the pipe full
 */
static int sleeping_write_interrupted(size_t n)
{
	char what[32];
	struct agent *a;
	int r, w;

	snprintf(what, sizeof(what), "write %zu on full", n);
	open_pair(&w, &r);
	op_write("writer", w, PIPE_SIZE, 'f');
	a = agent_fork("writer 2");
	if (!a) {
		close(r);
		catch_sigusr1(0);
		op_write("writer 2", w, n, 'x');
		_exit(0);
	}
	expect_asleep(a, what);
	kill(a->pid, SIGUSR1);
	agent_collect(a);

	catch_sigusr1(1);
	a = agent_fork("restarting writer");
	if (!a) {
		close(r);
		op_write("restarting writer", w, n, 'y');
		_exit(0);
	}
	expect_asleep(a, what);
	kill(a->pid, SIGUSR1);
	say("handler ran: %s", await_byte(signal_note_fd(), WAIT_MS) ? "yes" : "no");
	expect_asleep(a, "write after the handler");
	return r;
}

/* A write that has not written anything yet and sleeps for room: a
 * signal ends it with EINTR, or, with SA_RESTART, restarts it: it sleeps
 * again, then writes when there is room. */
DIFFERENTIAL(signals_end_sleeping_small_writes,
	     "rule 14: a signal ends a write that moved nothing with -ERESTARTSYS (EINTR, or a restart with SA_RESTART)")
{
	int r = sleeping_write_interrupted(10);

	op_read("reader", r, PIPE_SIZE);
	agent_collect(&agents[n_agents - 1]);
	op_read("reader", r, 100);
}

/** @brief Bytes of the large write of signals_end_sleeping_large_writes:
 *         more than PIPE_BUF, and more than the pipe holds. */
#define LARGE_ASLEEP (PIPE_SIZE + 1904)

/* The same for a large write (more than PIPE_BUF bytes) asleep on a full
 * pipe before it has put anything in: it has moved nothing, so a signal
 * ends it with EINTR, or, with SA_RESTART, restarts it like a small one
 * (only a call that returns a count is never started again). Restarted,
 * it sleeps again, then goes in as the reader makes room (its first
 * PIPE_SIZE bytes, then, after the next read, the rest), and returns
 * its whole count. */
DIFFERENTIAL(signals_end_sleeping_large_writes,
	     "rule 14: a signal ends a write that moved nothing with -ERESTARTSYS, whatever its size: EINTR, or a restart with SA_RESTART (a large write that put nothing in has no count to return, and is started again)")
{
	int r = sleeping_write_interrupted(LARGE_ASLEEP);

	op_read("reader", r, PIPE_SIZE);
	op_read("reader", r, PIPE_SIZE);
	agent_collect(&agents[n_agents - 1]);
	op_read("reader", r, PIPE_SIZE);
}

/* Opens of either end asleep for the other end: a signal ends them with
 * EINTR and leaves nothing behind, or, with SA_RESTART, restarts them. */
DIFFERENTIAL(signals_end_sleeping_opens_of_both_ends,
	     "rule 5: a signal ends a sleeping open with -ERESTARTSYS; EINTR leaves no reader or writer counted")
{
	struct agent *a;
	int r, w;

	a = agent_fork("opener");
	if (!a) {
		catch_sigusr1(0);
		op_open("opener", READ_END, 0);
		_exit(0);
	}
	expect_asleep(a, "open read end");
	kill(a->pid, SIGUSR1);
	agent_collect(a);
	/* Nothing of the interrupted open is left: no reader. */
	op_open("writer", WRITE_END, O_NONBLOCK);

	catch_sigusr1(1);
	a = agent_fork("restarting reader");
	if (!a) {
		r = op_open("restarting reader", READ_END, 0);
		op_read("restarting reader", r, 10);
		_exit(0);
	}
	expect_asleep(a, "open read end");
	kill(a->pid, SIGUSR1);
	say("handler ran: %s", await_byte(signal_note_fd(), WAIT_MS) ? "yes" : "no");
	expect_asleep(a, "open after the handler");
	w = op_open("writer", WRITE_END, 0);
	expect_asleep_in(a, 1, "read on empty");
	op_write("writer", w, 3, 'o');
	agent_collect(a);

	a = agent_fork("restarting writer");
	if (!a) {
		int w2 = op_open("restarting writer", WRITE_END, 0);

		op_write("restarting writer", w2, 2, 'p');
		_exit(0);
	}
	expect_asleep(a, "open write end");
	kill(a->pid, SIGUSR1);
	say("handler ran: %s", await_byte(signal_note_fd(), WAIT_MS) ? "yes" : "no");
	expect_asleep(a, "open after the handler");
	r = op_open("reader", READ_END, 0);
	agent_collect(a);
	op_read("reader", r, 10);
}

/* A large write that has written a part and sleeps for room when the last
 * reader leaves: it returns the count it wrote, and still gets SIGPIPE. */
DIFFERENTIAL(large_write_keeps_its_count_when_the_reader_leaves,
	     "rule 13: a large write that had put bytes in returns their count when the last reader leaves, and still gets SIGPIPE")
{
	struct agent *a;
	char *big;
	ssize_t n;
	int r, w;

	open_pair(&w, &r);
	a = agent_fork("writer");
	if (!a) {
		close(r);
		block_sigpipe();
		big = calloc(1, 10000);
		n = big ? write(w, big, 10000) : -1;
		call_returned();
		say("writer: write 10000 -> %s", outcome(n));
		say_sigpipe_pending("writer");
		_exit(0);
	}
	expect_asleep(a, "write larger than the pipe");
	op_close("reader", r);
	agent_collect(a);
}

/* O_NONBLOCK is the file's flag at the moment a call would sleep, not
 * when the call began: a large write asleep for room, whose file gets
 * O_NONBLOCK from fcntl() meanwhile, is woken by a read, puts in what
 * fits, and then returns its count instead of sleeping again. */
DIFFERENTIAL(o_nonblock_set_while_a_write_sleeps,
	     "rule 11: O_NONBLOCK is looked at each time a write would sleep (f_flags read at every turn, not once at the start of the call)")
{
	struct agent *a;
	char *big;
	ssize_t n;
	int r, w;

	open_pair(&w, &r);
	a = agent_fork("writer");
	if (!a) {
		close(r);
		big = calloc(1, 3 * PIPE_SIZE);
		n = big ? write(w, big, 3 * PIPE_SIZE) : -1;
		call_returned();
		say("writer: write %d -> %s", 3 * PIPE_SIZE, outcome(n));
		_exit(0);
	}
	expect_asleep(a, "write larger than the pipe");
	set_nonblock(w, 1);
	say("test: O_NONBLOCK set on the sleeping writer's file");
	op_read("reader", r, PIPE_SIZE);
	agent_collect(a);
	op_read("reader", r, 2 * PIPE_SIZE);
	close(w);
	op_read("reader", r, 2 * PIPE_SIZE);
}

/* poll() for hang-ups alone (events 0: POLLERR and POLLHUP are reported
 * whatever is asked) sleeps while the other end is held, even with room
 * for PIPE_BUF bytes in the pipe (the write end) or bytes in it (the read
 * end), and the last close of the other end wakes it: POLLERR on the
 * write end, POLLHUP on the read end. */
DIFFERENTIAL(polls_for_hangups_alone_are_woken,
	     "rule 17: the last reader's close wakes every poll() of the write end and the last writer's close every poll() of the read end, whatever the room and the bytes (the wake-up sent only when a writer might be waiting for room?)")
{
	struct agent *a;
	int r, w;

	open_pair(&w, &r);
	a = agent_fork("poller of the write end");
	if (!a) {
		close(r);
		op_poll_for("poller of the write end", w, 0, -1);
		_exit(0);
	}
	expect_asleep(a, "poll() of the write end for POLLERR alone");
	op_close("reader", r);
	agent_collect(a);
	op_close("writer", w);
	open_pair(&w, &r);
	op_write("writer", w, 10, 'x');
	a = agent_fork("poller of the read end");
	if (!a) {
		close(w);
		op_poll_for("poller of the read end", r, 0, -1);
		_exit(0);
	}
	expect_asleep(a, "poll() of the read end for POLLHUP alone");
	op_close("writer", w);
	agent_collect(a);
	op_read("reader", r, 64);
}

/** @brief A sleeping poll() of sleeping_polls_are_woken: which end it
 *         polls, and for what. */
struct poll_sleeper {
	/** @brief READ_END: a reader's poll() of the empty pipe, woken by
	 *         data; WRITE_END: a writer's poll() of the full pipe, woken
	 *         by room for PIPE_BUF bytes. */
	enum end side;
	/** @brief The events it asks for. */
	short events;
};

/** @brief The sleeping polls of sleeping_polls_are_woken: on each end,
 *         each event of its side alone, as programs ask for them, and
 *         all four. */
static const struct poll_sleeper poll_sleepers[] = {
	{ READ_END, POLLIN },
	{ READ_END, POLLRDNORM },
	{ READ_END, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM },
	{ WRITE_END, POLLOUT },
	{ WRITE_END, POLLWRNORM },
	{ WRITE_END, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM },
};

/* poll() with a timeout sleeps until one of its events is there, and
 * each change that makes one true wakes it: data (POLLIN), room for
 * PIPE_BUF bytes (POLLOUT, not room for one byte), the last writer's
 * close (POLLHUP), the last reader's close (POLLERR). A reader's poll()
 * for POLLIN alone, or POLLRDNORM alone, is woken by data; a writer's
 * for POLLOUT alone, or POLLWRNORM alone, by room: a wake-up names the
 * events it is for (the key of wake_up_interruptible_poll()), and
 * poll() passes over a sleeper that asked for none of them. */
DIFFERENTIAL(sleeping_polls_are_woken,
	     "rule 17: a sleeping poll() is woken by data, room for PIPE_BUF bytes, and the last close of the other end (poll_wait() on the right queue, and a wake-up naming the events it is for: EPOLLIN | EPOLLRDNORM for data, EPOLLOUT | EPOLLWRNORM for room)")
{
	const struct poll_sleeper *s;
	struct agent *a, *b;
	unsigned int i;
	int r, w, reading;

	open_pair(&w, &r);
	for (i = 0; i < sizeof(poll_sleepers) / sizeof(poll_sleepers[0]);
	     i++) {
		s = &poll_sleepers[i];
		reading = s->side == READ_END;
		if (!reading)
			op_write("writer", w, PIPE_SIZE, 'f');
		a = agent_fork(reading ? "reader" : "writer 2");
		if (!a) {
			close(reading ? w : r);
			op_poll_for(reading ? "reader" : "writer 2",
				    reading ? r : w, s->events, -1);
			_exit(0);
		}
		expect_asleep(a, reading ? "poll on empty" : "poll on full");
		if (reading) {
			op_write("writer", w, 1, 'a');
			agent_collect(a);
			op_read("reader", r, 10);
		} else {
			op_read("reader", r, 1);
			expect_asleep(a, "poll with room for 1 byte");
			op_read("reader", r, PIPE_SIZE);
			agent_collect(a);
		}
	}

	a = agent_fork("reader");
	if (!a) {
		close(w);
		op_poll_wait("reader", r, -1);
		_exit(0);
	}
	expect_asleep(a, "poll on empty");
	op_close("writer", w);
	agent_collect(a);

	/* A write larger than the pipe into the empty pipe fills it and
	 * sleeps for room: before it sleeps, it wakes a poll() for POLLIN. */
	w = op_open("writer", WRITE_END, 0);
	a = agent_fork("reader");
	if (!a) {
		close(w);
		op_poll_for("reader", r, POLLIN, -1);
		_exit(0);
	}
	expect_asleep(a, "poll on empty");
	b = agent_fork("writer 2");
	if (!b) {
		close(r);
		op_write("writer 2", w, PIPE_SIZE + 100, 'h');
		_exit(0);
	}
	agent_collect(a);
	expect_asleep(b, "write larger than the pipe");
	op_read("reader", r, 2 * PIPE_SIZE);
	agent_collect(b);
	op_read("reader", r, 2 * PIPE_SIZE);

	op_write("writer", w, PIPE_SIZE, 'g');
	a = agent_fork("writer 3");
	if (!a) {
		close(r);
		op_poll_wait("writer 3", w, -1);
		_exit(0);
	}
	expect_asleep(a, "poll on full");
	op_close("reader", r);
	agent_collect(a);
}

/** @brief epoll_wait() on @p ep with a timeout of @p ms and record the
 *         events, by name.
 * @param who the actor's name
 * @param ep the epoll descriptor
 * @param ms the timeout: 0 to look at once, -1 to sleep until an event
 */
static void op_epoll_wait(const char *who, int ep, int ms)
{
	struct epoll_event ev = { 0 };
	int n = epoll_wait(ep, &ev, 1, ms);

	say("%s: epoll_wait%s -> %s%s%s%s", who, ms ? " (sleeping)" : "",
	    outcome(n), n > 0 && (ev.events & EPOLLIN) ? " IN" : "",
	    n > 0 && (ev.events & EPOLLHUP) ? " HUP" : "",
	    n > 0 && (ev.events & EPOLLERR) ? " ERR" : "");
}

/** @brief A new epoll descriptor with @p fd added for EPOLLIN, in
 *         edge-triggered mode or not, and record epoll_ctl()'s result.
 * @param who the actor's name
 * @param fd the descriptor to add
 * @param edge nonzero for EPOLLET
 * @param note what the transcript adds about the moment ("" for none)
 * @return the epoll descriptor
 */
static int op_epoll_add(const char *who, int fd, int edge, const char *note)
{
	struct epoll_event ev = { .events = EPOLLIN | (edge ? EPOLLET : 0) };
	int ep = epoll_create1(0);

	say("%s: epoll_ctl EPOLLIN%s%s -> %s", who, edge ? "|EPOLLET" : "",
	    note, outcome(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)));
	return ep;
}

/** @brief epoll_wait() on @p ep at once and record the events, by name.
 * @param who the actor's name
 * @param ep the epoll descriptor
 */
static void op_epoll(const char *who, int ep)
{
	op_epoll_wait(who, ep, 0);
}

/* epoll in edge-triggered mode on the read end: every write that puts
 * bytes in is an event, also a write into a pipe that was not empty.
 * Then epoll in level-triggered mode, set up on the read end while it is
 * hung up (no writer left): the registration joins the end's queue all
 * the same, and once a writer came back, an epoll_wait() asleep on the
 * empty pipe is woken by its bytes. Last, with every end closed (the
 * pipe forgets it was polled) and opened again, edge-triggered epoll set
 * up while the pipe already holds a byte: the first poll finds data, and
 * still every later write is an event (any poll of the read end counts,
 * not only one that found the pipe empty). */
DIFFERENTIAL(epoll_edge_triggered_sees_every_write,
	     "rule 17: once the read end was polled, every write that puts bytes in wakes it (poll_usage); and an epoll set up while the end was hung up is woken by the bytes of a writer that came back (poll_wait() before any early return of .poll)")
{
	struct agent *a;
	int ep, r, w;

	open_pair(&w, &r);
	ep = op_epoll_add("reader", r, 1, "");
	op_epoll("reader", ep);
	op_write("writer", w, 1, 'a');
	op_epoll("reader", ep);
	op_epoll("reader", ep);
	op_write("writer", w, 1, 'b');
	op_epoll("reader", ep);
	op_write("writer", w, 100, 'c');
	op_epoll("reader", ep);
	op_read("reader", r, 200);
	op_epoll("reader", ep);
	op_close("writer", w);
	op_epoll("reader", ep);

	close(ep);
	ep = op_epoll_add("reader", r, 0, ", hung up");
	op_epoll("reader", ep);
	w = op_open("writer", WRITE_END, 0);
	op_epoll("reader", ep);
	a = agent_fork("reader 2");
	if (!a) {
		close(w);
		op_epoll_wait("reader 2", ep, -1);
		_exit(0);
	}
	expect_asleep(a, "epoll_wait on empty");
	op_write("writer", w, 1, 'd');
	agent_collect(a);
	op_read("reader", r, 10);

	op_close("writer", w);
	op_close("reader", r);
	open_pair(&w, &r);
	op_write("writer", w, 1, 'e');
	close(ep);
	ep = op_epoll_add("reader", r, 1, ", a byte there");
	op_epoll("reader", ep);
	op_epoll("reader", ep);
	op_write("writer", w, 1, 'f');
	op_epoll("reader", ep);
	op_write("writer", w, 1, 'g');
	op_epoll("reader", ep);
	op_read("reader", r, 10);
	close(ep);
}

/* An open waiting for the other end returns once that end has been
 * opened, even if it was closed again before the sleeper ran: the
 * counters of opens, not the number of files open now. This process
 * runs as SCHED_FIFO on the sleeper's CPU, so that the sleeper runs only
 * after the other end was opened and closed again. */
DIFFERENTIAL(open_returns_once_the_other_end_was_opened,
	     "rule 3: an open returns once the other end was opened, even if closed again since (wait for the counter to move, not for a file to be there)")
{
	struct sched_param rt = { .sched_priority = 1 }, normal = { 0 };
	cpu_set_t one_cpu;
	struct agent *a;
	int fd, rt_ok;

	CPU_ZERO(&one_cpu);
	CPU_SET(sched_getcpu(), &one_cpu);
	say("one CPU: %s",
	    sched_setaffinity(0, sizeof(one_cpu), &one_cpu) ? "no" : "yes");
	a = agent_fork("writer");
	if (!a) {
		int w = op_open("writer", WRITE_END, 0);

		signal(SIGPIPE, SIG_IGN);
		op_write("writer", w, 1, 'x');
		_exit(0);
	}
	expect_asleep(a, "open write end");
	rt_ok = !sched_setscheduler(0, SCHED_FIFO, &rt);
	fd = open_end(READ_END, O_NONBLOCK);
	say("reader: open O_NONBLOCK, then close -> %s", outcome(close(fd)));
	agent_collect(a);
	sched_setscheduler(0, SCHED_OTHER, &normal);

	a = agent_fork("reader");
	if (!a) {
		int r = op_open("reader", READ_END, 0);

		op_read("reader", r, 10);
		_exit(0);
	}
	expect_asleep(a, "open read end");
	rt_ok &= !sched_setscheduler(0, SCHED_FIFO, &rt);
	fd = open_end(WRITE_END, O_NONBLOCK);
	say("writer: open O_NONBLOCK, then close -> %s", outcome(close(fd)));
	agent_collect(a);
	sched_setscheduler(0, SCHED_OTHER, &normal);
	say("SCHED_FIFO: %s", rt_ok ? "yes" : "no");
}

DIFFERENTIAL(hangup_reaches_readers_opened_beside_a_writer,
	     "rule 15: POLLHUP on the read end while no writer is left; only a read end opened with O_NONBLOCK while no writer held the pipe waits for a writer to come (and go) first (each such file by itself: a later one's open changes nothing for an earlier one), and a read end opened while a writer held it (with O_NONBLOCK or without) sees that writer's hang-up")
{
	int r1, r2, r3, r4, w;

	r1 = op_open("reader 1", READ_END, O_NONBLOCK);
	op_poll("reader 1", r1);
	w = op_open("writer", WRITE_END, O_NONBLOCK);
	r2 = op_open("reader 2", READ_END, O_NONBLOCK);
	r3 = op_open("reader 3", READ_END, 0);
	op_poll("reader 2", r2);
	op_poll("reader 3", r3);
	op_close("writer", w);
	op_poll("reader 1", r1);
	op_poll("reader 2", r2);
	op_poll("reader 3", r3);
	op_read("reader 2", r2, 10);
	w = op_open("writer", WRITE_END, O_NONBLOCK);
	op_write("writer", w, 3, 'a');
	op_close("writer", w);
	op_poll("reader 2", r2);
	op_read("reader 2", r2, 10);
	op_poll("reader 2", r2);
	/* A read end opened with O_NONBLOCK now, while no writer holds the
	 * pipe, waits for the next writer; reader 1 keeps its hang-up. */
	r4 = op_open("reader 4", READ_END, O_NONBLOCK);
	op_poll("reader 4", r4);
	op_poll("reader 1", r1);
	op_close("reader 4", r4);
	op_close("reader 3", r3);
	op_close("reader 2", r2);
	op_close("reader 1", r1);
}

/** @brief Writer opens hangups_at_any_count_of_writer_opens makes: past
 *         65536, so that a 16-bit counter of opens wraps. */
#define MANY_WRITER_OPENS (65536 + 256)

/* Rule 15 at any count of opens. The read end compares the count of
 * write-end opens with what it saw when it was opened (rule 3's
 * counters), so the counter must not wrap back to a value a file saw:
 * a read end opened with O_NONBLOCK before any writer, and one opened
 * beside the first writer, must both see the hang-up of every writer
 * that came and went, over MANY_WRITER_OPENS opens of the write end in
 * one load (a named pipe's counters are unsigned int). */
TEST_F_TIMEOUT(pipe, hangups_at_any_count_of_writer_opens, 300)
{
	static const char *const which[] = {
		"opened with O_NONBLOCK before any writer",
		"opened beside the first writer",
	};
	struct pollfd p[2] = { { .events = POLLIN }, { .events = POLLIN } };
	struct timespec start, end;
	int i, k, w, bad = 0;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, ""));
	p[0].fd = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, p[0].fd) {
		TH_LOG("rule 4: an open of the read end with O_NONBLOCK succeeds at once; it failed: %s",
		       strerror(errno));
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 1; i <= MANY_WRITER_OPENS && !bad; i++) {
		w = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
		ASSERT_LE(0, w) {
			TH_LOG("rule 4: the %dth open of the write end with O_NONBLOCK, with a reader there, failed: %s",
			       i, strerror(errno));
		}
		if (i == 1) {
			p[1].fd = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
			ASSERT_LE(0, p[1].fd) {
				TH_LOG("rule 4: an open of the read end with O_NONBLOCK succeeds at once; it failed: %s",
				       strerror(errno));
			}
		}
		close(w);
		EXPECT_EQ(2, poll(p, 2, 0));
		for (k = 0; k < 2 && !bad; k++) {
			EXPECT_EQ(POLLHUP, p[k].revents) {
				TH_LOG("rule 15: after the %dth writer of this load came and went, the read end %s reports %s: no writer is left, and one came since it was opened, so it is hung up (POLLHUP). Is a counter of opens narrower than what it is compared with, or than unsigned int, so that it wrapped?",
				       i, which[k], p[k].revents & POLLHUP ?
				       "more than POLLHUP" : "no POLLHUP");
				bad = 1;
			}
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	close(p[1].fd);
	close(p[0].fd);
	TH_LOG("%d opens of the write end in %lld ms", i - 1,
	       (long long)(end.tv_sec - start.tv_sec) * 1000 +
	       (end.tv_nsec - start.tv_nsec) / 1000000);
}

/* ---------------------------------------------------------------------
 * The semaphore
 */

/** @brief Open both ends of mypipe without waiting: the read end first,
 *         with O_NONBLOCK (cleared once the write end is open), then the
 *         write end.
 * @param r where the read end's descriptor goes
 * @param w where the write end's descriptor goes
 * @return 0, or -1 with errno set (nothing left open)
 */
static int open_both_ends(int *r, int *w)
{
	*r = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	if (*r < 0)
		return -1;
	*w = open(PIPE_IN, O_WRONLY);
	if (*w < 0) {
		int err = errno;

		close(*r);
		errno = err;
		return -1;
	}
	set_nonblock(*r, 0);
	return 0;
}

/** @brief Wait until a call frozen with @p cs reaches its copy, or until
 *         the calls @p calls that could get it there have all returned
 *         or are stuck (all blocked for STUCK_MS, none of them running).
 * @param cs the frozen copy
 * @param calls the calls, at most STUCK_WATCH_MAX (their threads started)
 * @param n how many
 * @return 1 when the copy was reached, 0 when it never will be, or after
 *         WAIT_MS
 */
static int copy_reached(struct copy_stall *cs, struct fifo_call **calls,
			int n)
{
	pid_t tids[STUCK_WATCH_MAX];
	int waited_ms, got, i, left;
	struct stuck_watch w;

	stuck_watch_init(&w);
	for (waited_ms = 0; waited_ms < WAIT_MS; waited_ms += LOOK_MS) {
		got = copy_stall_wait(cs, -1, LOOK_MS);
		if (got == 1)
			return 1;
		if (got < 0 && errno != ETIMEDOUT)
			return 0;
		left = 0;
		for (i = 0; i < n; i++)
			if (!atomic_load(&calls[i]->done))
				tids[left++] = calls[i]->tid;
		/* All returned (a call whose copy faulted on the frozen page
		 * would still be blocked in it): none of them reaches the copy
		 * now. Returning at once keeps a driver whose copies fail (one
		 * that copies under a spinlock) from waiting out WAIT_MS in
		 * every such test, which took the program past its time
		 * limit. */
		if (!left)
			return copy_stall_wait(cs, -1, 0) == 1;
		if (stuck_watch_look(&w, tids, left, STUCK_MS))
			return 0;
	}
	return 0;
}

/** @brief Start @p c in a thread and wait until it sleeps in its call.
 * @param t the thread
 * @param c the call
 * @return the state task_wait_asleep() saw ('S' asleep, 'X' returned)
 */
static char start_call(pthread_t *t, struct fifo_call *c)
{
	c->ready_pipe = -1;
	c->done_pipe = -1;
	if (pthread_create(t, NULL, fifo_call_main, c))
		return '?';
	while (!c->tid && !atomic_load(&c->done))
		sched_yield();
	return task_wait_asleep(c->tid, &c->done, WAIT_MS);
}

/** @brief Stop the tests (tests_stop.h) after a test that saw two calls
 *         of one end move bytes in the ring at once: the second went
 *         ahead, and moved bytes, while the first was frozen in its copy
 *         holding the semaphore.
 *
 * Each call reads the ring's head and length, copies, then updates
 * them: two at once can leave a length past the ring's size, and later
 * calls then copy from and to memory past its end. When that happens
 * depends on how the calls overlap, on two CPUs on the machine: every
 * later test would get a result that depends on it too.
 *
 * @param _metadata the test
 * @param kind "reads" or "writes"
 */
static void stop_after_two_in_the_ring(struct __test_metadata *_metadata,
				       const char *kind)
{
	tests_stop_after_thisf(_metadata->name,
			       "two %s moved bytes in the ring at once (the semaphore let a second caller in): the ring's length can then pass its size, and a later call copies past its end",
			       kind);
}

/* One caller is frozen inside its copy, holding the semaphore (a
 * userfaultfd page, copy_stall.h): another caller of the same end must
 * sleep until it is through, and a signal ends that sleep with EINTR. It
 * runs after the EPIPE path, so that an up() too many there shows. */
TEST_F_TIMEOUT(pipe, callers_take_turns_at_the_semaphore, 60)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	struct fifo_call a = { 0 }, b = { 0 };
	struct fifo_call *calls[1] = { &a };
	static char big[PIPE_SIZE];
	struct copy_stall cs;
	char got[64] = "", want[64], *buf;
	size_t head, fill, pos = 0;
	pthread_t at, bt;
	int r, w, round;
	char st;

	/* A write with no reader: EPIPE (SIGPIPE ignored). */
	r = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, r);
	w = open(PIPE_IN, O_WRONLY);
	ASSERT_LE(0, w);
	close(r);
	signal(SIGPIPE, SIG_IGN);
	EXPECT_EQ(-1, write(w, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	close(w);

	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}

	/* Writers: A's 32 bytes wrap around the ring's end (after a round
	 * trip that leaves the ring's position 16 bytes before it), and A is
	 * frozen holding the semaphore, first after 8 of them (in the piece
	 * before the end), then after 24 (in the piece after it): B must
	 * wait until all of A is in. A write of at most PIPE_BUF bytes is
	 * one call under the semaphore, however many pieces its copy takes
	 * (rule 10). */
	memset(big, '.', sizeof(big));
	for (round = 0; round < 2; round++) {
		head = round ? 24 : 8;
		fill = (2 * PIPE_SIZE - 16 - pos) % PIPE_SIZE;
		/* Without waiting: into a ring that kept bytes it should have
		 * dropped at the last close, this write would wait for ever. */
		set_nonblock(w, 1);
		ASSERT_EQ((ssize_t)fill, write(w, big, fill));
		set_nonblock(w, 0);
		ASSERT_EQ((ssize_t)fill, read(r, big, fill));
		buf = copy_stall_init(&cs, head, 'A');
		ASSERT_NE(NULL, buf);
		a = (struct fifo_call){ .fd = w, .buf = buf, .count = 32,
					.is_write = 1, .ready_pipe = -1,
					.done_pipe = -1 };
		ASSERT_EQ(0, pthread_create(&at, NULL, fifo_call_main, &a));
		ASSERT_EQ(1, copy_reached(&cs, calls, 1)) {
			TH_LOG("the write never reached its copy_from_user()");
		}
		b = (struct fifo_call){ .fd = w, .buf = "BBBB", .count = 4,
					.is_write = 1 };
		st = start_call(&bt, &b);
		EXPECT_EQ('S', st) {
			TH_LOG("a second write went ahead while the first, frozen after %zu of its 32 bytes, held the semaphore",
			       head);
		}
		ASSERT_EQ(0, copy_stall_release(&cs, 'a'));
		pthread_join(at, NULL);
		pthread_join(bt, NULL);
		copy_stall_destroy(&cs);
		EXPECT_EQ(32, a.ret);
		EXPECT_EQ(4, b.ret);
		memset(want, 'A', head);
		memset(want + head, 'a', 32 - head);
		memcpy(want + 32, "BBBB", 5);
		memset(got, 0, sizeof(got));
		EXPECT_EQ(36, read(r, got, sizeof(got) - 1));
		EXPECT_STREQ(want, got) {
			TH_LOG("rule 10: the first write's 32 bytes must come out whole (it was frozen after %zu bytes, %s the ring's end)",
			       head, round ? "past" : "before");
			if (st == 'X' && b.ret > 0)
				stop_after_two_in_the_ring(_metadata,
							   "writes");
		}
		pos = (pos + fill + 36) % PIPE_SIZE;
	}

	/* Readers: A frozen after 4 bytes of 8; B, waiting, gets a signal. */
	ASSERT_EQ(8, write(w, "12345678", 8));
	buf = copy_stall_init(&cs, 4, 0);
	ASSERT_NE(NULL, buf);
	a = (struct fifo_call){ .fd = r, .buf = buf, .count = 8,
				.ready_pipe = -1, .done_pipe = -1 };
	ASSERT_EQ(0, pthread_create(&at, NULL, fifo_call_main, &a));
	ASSERT_EQ(1, copy_reached(&cs, calls, 1)) {
		TH_LOG("the read never reached its copy_to_user()");
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	memset(got, 0, sizeof(got));
	b = (struct fifo_call){ .fd = r, .buf = got, .count = 8 };
	st = start_call(&bt, &b);
	EXPECT_EQ('S', st) {
		TH_LOG("a second read went ahead while the first held the semaphore");
	}
	syscall(SYS_tgkill, getpid(), b.tid, SIGUSR1);
	pthread_join(bt, NULL);
	EXPECT_EQ(-1, b.ret) {
		TH_LOG("a read interrupted while waiting for the semaphore returned %zd: down_interruptible()'s result ignored?",
		       b.ret);
		if (b.ret > 0)
			stop_after_two_in_the_ring(_metadata, "reads");
	}
	EXPECT_EQ(EINTR, b.err);
	ASSERT_EQ(0, copy_stall_release(&cs, 0));
	pthread_join(at, NULL);
	EXPECT_EQ(8, a.ret);
	EXPECT_EQ(0, memcmp(buf, "1234", 4));
	copy_stall_destroy(&cs);
	close(w);
	close(r);
}

/** @brief A poll() or open() made by a thread, and its result. */
struct other_call {
	/** @brief For open(): the node; NULL for poll(). */
	const char *path;
	/** @brief For open(): the flags. */
	int flags;
	/** @brief For poll(): the descriptors, with their events. */
	struct pollfd fds[2];
	/** @brief The thread's id, for /proc. */
	pid_t tid;
	/** @brief What the call returned. */
	int ret;
	/** @brief errno after the call, when it returned -1. */
	int err;
	/** @brief Set when the call returned. */
	atomic_int done;
};

/** @brief Thread body: make the poll() (timeout 0) or open() that @p arg
 *         describes; an open()'s descriptor is closed at once.
 * @param arg the struct other_call
 * @return NULL
 */
static void *other_call_main(void *arg)
{
	struct other_call *c = arg;

	c->tid = (pid_t)syscall(SYS_gettid);
	if (c->path)
		c->ret = open(c->path, c->flags);
	else
		c->ret = poll(c->fds, 2, 0);
	c->err = errno;
	if (c->path && c->ret >= 0)
		close(c->ret);
	atomic_store(&c->done, 1);
	return NULL;
}

/** @brief Make SIGUSR1 end a sleeping call with EINTR: a handler that
 *         does nothing, without SA_RESTART.
 * @return sigaction()'s result
 */
static int sigusr1_interrupts(void)
{
	struct sigaction sa = { .sa_handler = ignore_signal };

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

/** @brief Thread body: close() the descriptor of @p arg, a struct
 *         fifo_call of which only the descriptor and the results count.
 * @param arg the struct fifo_call
 * @return NULL
 */
static void *close_call_main(void *arg)
{
	struct fifo_call *c = arg;

	c->tid = (pid_t)syscall(SYS_gettid);
	c->ret = close(c->fd);
	c->err = errno;
	atomic_store(&c->done, 1);
	return NULL;
}

/** @brief Start @p c in a thread and wait until it sleeps or returns.
 * @param t the thread
 * @param c the call
 * @return the state task_wait_asleep() saw ('S' asleep, 'X' returned)
 */
static char start_other_call(pthread_t *t, struct other_call *c)
{
	if (pthread_create(t, NULL, other_call_main, c))
		return '?';
	while (!c->tid && !atomic_load(&c->done))
		sched_yield();
	return task_wait_asleep(c->tid, &c->done, WAIT_MS);
}

/** @brief Start a read or write of @p count bytes through @p fd in
 *         thread @p at, with a buffer frozen after @p head bytes
 *         (copy_stall.h), and wait until the call is frozen inside its
 *         copy, holding the semaphore.
 *
 * Started while cpu_order_hold() holds the CPU, the thread inherits the
 * test's real-time priority: it runs, and takes the semaphore, before
 * any sleeper woken meanwhile.
 *
 * @param cs the frozen copy, set up here
 * @param a the call, filled in here (its buffer is the frozen one)
 * @param at its thread
 * @param fd the descriptor
 * @param is_write nonzero for a write (@p head bytes of @p head_byte,
 *        then what copy_stall_release() supplies)
 * @param count the byte count
 * @param head the bytes before the frozen page
 * @param head_byte their value
 * @return 1 once the call is frozen; 0 when it returned first or never
 *         got there; -1 when the buffer or the thread could not be made
 */
static int freeze_call(struct copy_stall *cs, struct fifo_call *a,
		       pthread_t *at, int fd, int is_write, size_t count,
		       size_t head, int head_byte)
{
	struct fifo_call *calls[1] = { a };
	char *buf = copy_stall_init(cs, head, head_byte);

	if (!buf)
		return -1;
	*a = (struct fifo_call){ .fd = fd, .buf = buf, .count = count,
				 .is_write = is_write, .ready_pipe = -1,
				 .done_pipe = -1 };
	if (pthread_create(at, NULL, fifo_call_main, a))
		return -1;
	return copy_reached(cs, calls, 1);
}

/** @brief Open both ends (the read end first, without waiting) and
 *         freeze a write of 32 bytes after 8 of them inside its copy, so
 *         that it holds the semaphore.
 * @param _metadata the test
 * @param cs the frozen copy
 * @param a the write, made by thread @p at
 * @param at the thread
 * @param r where the read end goes
 * @param w where the write end goes
 * @return 0, or -1 when the write could not be frozen
 */
static int freeze_a_write(struct __test_metadata *_metadata,
			  struct copy_stall *cs, struct fifo_call *a,
			  pthread_t *at, int *r, int *w)
{
	if (open_both_ends(r, w))
		return -1;
	if (freeze_call(cs, a, at, *w, 1, 32, 8, 'A') != 1) {
		TH_LOG("the write never reached its copy_from_user()");
		return -1;
	}
	return 0;
}

/** @brief Let the write frozen by freeze_a_write() (or freeze_call())
 *         go on, the rest of its buffer 'a's, and wait until it returns.
 * @param cs its frozen copy, destroyed here
 * @param at its thread, joined here
 * @param a the call
 * @return what it returned, or -2 when the page could not be supplied
 */
static ssize_t thaw_the_write(struct copy_stall *cs, pthread_t at,
			      struct fifo_call *a)
{
	ssize_t ret = -2;

	if (!copy_stall_release(cs, 'a')) {
		pthread_join(at, NULL);
		ret = a->ret;
	}
	copy_stall_destroy(cs);
	return ret;
}

/** @brief Close the read end @p r, the last reader, and check that a
 *         write through @p w then finds no reader (EPIPE; SIGPIPE must be
 *         ignored); close @p w.
 * @param _metadata the test
 * @param r the last reader
 * @param w a writer
 * @param why what it shows when a reader is still counted, for the log
 */
static void expect_no_reader_left(struct __test_metadata *_metadata, int r,
				  int w, const char *why)
{
	close(r);
	errno = 0;
	EXPECT_EQ(-1, write(w, "x", 1)) {
		TH_LOG("%s", why);
	}
	EXPECT_EQ(EPIPE, errno);
	close(w);
}

/** @brief Wait until agent @p a, whose call was just started or let go,
 *         waits for the lock a frozen copy holds (state S or D: a named
 *         pipe's mutex is taken uninterruptibly, mypipe's opens take the
 *         semaphore interruptibly), and record whether it does.
 * @param a the agent
 * @param what its call, for the transcript
 */
static void expect_waiting_for_the_lock(struct agent *a, const char *what)
{
	char st = task_wait_asleep(a->pid, NULL, WAIT_MS);

	say("%s: %s %s", a->name, what,
	    st == 'S' || st == 'D' ? "waits for the lock" :
	    st == 'Z' ? "returns without waiting for the lock" :
	    "neither waits nor returns");
}

/** @brief Start an agent that reads a byte from @p go[0] (its start
 *         signal, not recorded), then makes its call.
 * @param name its name
 * @param go the pipe it waits on
 * @return as agent_fork()
 */
static struct agent *agent_after_go(const char *name, const int go[2])
{
	struct agent *a = agent_fork(name);
	char c;

	if (!a && read(go[0], &c, 1) != 1)
		_exit(3);
	return a;
}

/** @brief Open both ends, freeze a write of 32 bytes ("writer 0") in
 *         its copy, holding the lock, and start agent "closer", whose
 *         close of the last reader then waits for that lock; record it.
 * @param cs the frozen copy
 * @param h the write
 * @param ht its thread
 * @param w where the write end goes (the read end's last file is the
 *        closer's)
 * @return the closer, or NULL when the write could not be frozen (the
 *         transcript says so)
 */
static struct agent *closer_waiting_for_the_lock(struct copy_stall *cs,
						 struct fifo_call *h,
						 pthread_t *ht, int *w)
{
	struct agent *closer;
	int r, go[2];

	if (pipe(go)) {
		say("(cannot make the closer's pipe: %s)", strerror(errno));
		return NULL;
	}
	open_pair(w, &r);
	if (freeze_call(cs, h, ht, *w, 1, 32, 8, 'A') != 1) {
		say("writer 0: a write of 32 bytes never reached its copy (returned %zd)",
		    h->ret);
		return NULL;
	}
	say("writer 0: write 32, frozen in its copy");
	closer = agent_after_go("closer", go);
	if (!closer) {
		close(*w);
		op_close("closer", r);
		_exit(0);
	}
	/* The closer's descriptor is now the last of the read end. */
	close(r);
	if (write(go[1], "c", 1) != 1)
		_exit(3);
	expect_waiting_for_the_lock(closer, "close of the last reader");
	return closer;
}

/** @brief Let writer 0, frozen by closer_waiting_for_the_lock(), go on,
 *         and record what its write returned.
 * @param cs its frozen copy, destroyed here
 * @param ht its thread, joined here
 * @param h the write
 */
static void writer_0_thawed(struct copy_stall *cs, pthread_t ht,
			    struct fifo_call *h)
{
	if (copy_stall_release(cs, 'a'))
		_exit(3);
	pthread_join(ht, NULL);
	copy_stall_destroy(cs);
	errno = h->err;
	say("writer 0: write 32 -> %s", outcome(h->ret));
}

/** @brief The rule like_fifo_open_sees_the_other_end_opened_right_after_it
 *         checks, printed when it fails. */
#define RIGHT_AFTER_RULE "rules 3 and 21: an open that must wait decides what it waits for (the other end's open counter as it stands) under the semaphore, before up(): an open of the other end that takes the semaphore right after it counts, even when it runs before the sleeper's next line (an open that reads the counter after up() misses it and sleeps on although the other end is open)"

/* Rules 3 and 21, the rendezvous against the semaphore's hand-over. A
 * write frozen in its copy holds the lock (the semaphore; a named pipe's
 * mutex), and three calls queue for it in turn: the close of the last
 * reader, an open of the write end, an open of the read end. The write
 * let go, the lock passes from one to the next: the writer's open finds
 * no reader and will wait for one, and its up() hands the lock to the
 * reader's open, which then finds a writer and returns. The writer's open
 * must return as well, while the reader holds its end open.
 *
 * Everything runs on one CPU, the reader real-time (cpu_order.h), and
 * the kernel runs full preemption while the test runs where it can
 * switch (preempt_full.h): the reader's whole open then runs inside the
 * writer's up(), before the writer's next line. Under voluntary
 * preemption it runs at the writer's next cond_resched(), which is the
 * same for a correct driver. */
static void scenario_open_sees_the_other_end_opened_right_after_it(void)
{
	struct sched_param rt = { .sched_priority = 1 };
	struct fifo_call h = { 0 };
	struct agent *closer, *writer, *reader;
	int w, go_leave[2];
	char c;
	struct cpu_order order;
	struct copy_stall cs;
	pthread_t ht;

	if (pipe(go_leave)) {
		say("(cannot make the reader's pipe: %s)", strerror(errno));
		return;
	}
	if (cpu_order_pin(&order)) {
		say("(cannot run the scenario on one CPU: %s)",
		    strerror(errno));
		return;
	}
	closer = closer_waiting_for_the_lock(&cs, &h, &ht, &w);
	if (!closer)
		return;
	writer = agent_fork("writer");
	if (!writer) {
		close(w);
		op_open("writer", WRITE_END, 0);
		_exit(0);
	}
	expect_waiting_for_the_lock(writer, "open of the write end");
	reader = agent_fork("reader");
	if (!reader) {
		close(w);
		if (sched_setscheduler(0, SCHED_FIFO, &rt))
			say("reader: cannot be real-time: %s", strerror(errno));
		op_open("reader", READ_END, 0);
		/* Keep the read end open until the writer's open is seen. */
		if (read(go_leave[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	expect_waiting_for_the_lock(reader, "open of the read end");
	writer_0_thawed(&cs, ht, &h);
	agent_collect(closer);
	agent_collect(writer);
	if (write(go_leave[1], "l", 1) != 1)
		_exit(3);
	agent_collect(reader);
	cpu_order_unpin(&order);
	close(w);
}

TEST_F_TIMEOUT(pipe, like_fifo_open_sees_the_other_end_opened_right_after_it,
	       DIFF_TIMEOUT)
{
	char why[256];

	if (preempt_full_begin(&preempt_switched, why, sizeof(why)))
		TH_LOG("(this kernel runs without full preemption, so the reader's open comes at the writer's next cond_resched(), not inside its up(): %s)",
		       why);
	differential(_metadata,
		     scenario_open_sees_the_other_end_opened_right_after_it,
		     RIGHT_AFTER_RULE);
	EXPECT_EQ(0, preempt_full_end(&preempt_switched)) {
		TH_LOG("could not switch the kernel back to its preemption model");
	}
}

/** @brief The rule like_fifo_a_close_counts_out_under_the_lock checks,
 *         printed when it fails. */
#define CLOSE_UNDER_THE_LOCK_RULE "rules 18 and 21: release changes the counts only under the semaphore, which it takes uninterruptibly (down()), not even a fatal signal ends that wait: until the close has the semaphore nothing it does is visible (poll() of the other end sees the file still counted), and once it has it the file is counted out, also when SIGKILL came while it waited"

/* Rules 18 and 21, the close of the last reader against the lock. A write
 * frozen in its copy holds the lock (the semaphore; a named pipe's
 * mutex), and the close of the last reader waits for it: until it has
 * it, the reader is still counted, so a poll() of the write end (which
 * takes no lock) sees no POLLERR. SIGKILL comes while the close waits:
 * it does not end the wait (down(), mutex_lock()), and once the write
 * is through the close counts its reader out before the closer dies: a
 * poll() of the write end then sees POLLERR, and a write gets EPIPE. */
static void scenario_a_close_counts_out_under_the_lock(void)
{
	struct fifo_call h = { 0 };
	struct agent *closer;
	struct copy_stall cs;
	pthread_t ht;
	int w;

	signal(SIGPIPE, SIG_IGN);
	closer = closer_waiting_for_the_lock(&cs, &h, &ht, &w);
	if (!closer)
		return;
	op_poll_for("writer", w, 0, 0);
	kill(closer->pid, SIGKILL);
	say("closer: SIGKILL sent while it waits");
	/* Before the lock is let go: a close that SIGKILL ended is gone by
	 * then, one that SIGKILL cannot end still waits. */
	expect_waiting_for_the_lock(closer,
				    "after SIGKILL, close of the last reader");
	op_poll_for("writer", w, 0, 0);
	writer_0_thawed(&cs, ht, &h);
	agent_collect(closer);
	op_poll_for("writer", w, 0, 0);
	op_write("writer", w, 1, 'x');
	op_close("writer", w);
}

TEST_F_TIMEOUT(pipe, like_fifo_a_close_counts_out_under_the_lock,
	       DIFF_TIMEOUT)
{
	differential(_metadata, scenario_a_close_counts_out_under_the_lock,
		     CLOSE_UNDER_THE_LOCK_RULE);
	/* A reader counted for good would change every later test. */
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief The rule exclusive_end_stays_taken_until_its_close_counts_out
 *         checks, printed when it fails. */
#define TAKEN_UNTIL_COUNTED_OUT_RULE "rules 21 and 23: with exclusive=1 an end is free again once its close has counted the file out, under the semaphore; until the close has the semaphore nothing of it is visible, so an open of that end gets EBUSY at once, with O_NONBLOCK or without (give the end back after mypipe_leave(), not before)"

static int try_open(const char *path, int flags);

/** @brief With exclusive=1, the only file of one end is closed while a
 *         call frozen in its copy holds the semaphore: opens of that end
 *         must get EBUSY at once while the close waits, and the end must
 *         open once the close is through.
 *
 * For the read end a write of 32 bytes is frozen (after 8) and the only
 * reader is closed; for the write end a read of 16 of 20 bytes is frozen
 * (after 8) and the only writer is closed. The close waits for the
 * semaphore in down() (state D); an open, O_NONBLOCK then blocking, must
 * return EBUSY without waiting: an end given back before the close has
 * the semaphore lets the open in, and it then waits for the semaphore
 * (state S) beside a file still counted.
 *
 * @param _metadata the test
 * @param read_end nonzero for the read end, zero for the write end
 */
static void exclusive_end_taken_while_its_close_waits(
	struct __test_metadata *_metadata, int read_end)
{
	const char *end = read_end ? "read end" : "write end";
	const char *path = read_end ? PIPE_OUT : PIPE_IN;
	const int mode = read_end ? O_RDONLY : O_WRONLY;
	struct fifo_call a = { 0 }, cl = { 0 };
	struct other_call o;
	struct copy_stall cs;
	pthread_t at, ct, ot;
	int r, w, fd, nb, ret;
	char st;

	/* No ASSERT here: the test must still load the module's defaults. */
	ret = open_both_ends(&r, &w);
	EXPECT_EQ(0, ret) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	if (ret)
		return;
	if (!read_end && write(w, "0123456789abcdefghij", 20) != 20) {
		EXPECT_EQ(0, errno);
		return;
	}
	ret = read_end ? freeze_call(&cs, &a, &at, w, 1, 32, 8, 'A') :
			 freeze_call(&cs, &a, &at, r, 0, 16, 8, 0);
	EXPECT_EQ(1, ret) {
		TH_LOG("the %s never reached its copy",
		       read_end ? "write" : "read");
	}
	if (ret != 1)
		return;
	cl.fd = read_end ? r : w;
	ret = pthread_create(&ct, NULL, close_call_main, &cl);
	EXPECT_EQ(0, ret);
	if (ret)
		return;
	while (!cl.tid && !atomic_load(&cl.done))
		sched_yield();
	st = task_wait_asleep(cl.tid, &cl.done, WAIT_MS);
	EXPECT_TRUE(st == 'D' || st == 'S') {
		TH_LOG("rule 21: the close of the only file of the %s waits for the semaphore a frozen %s holds; it %s",
		       end, read_end ? "write" : "read",
		       st == 'X' ? "returned at once" : "never slept");
	}
	for (nb = 1; nb >= 0; nb--) {
		o = (struct other_call){ .path = path,
					 .flags = mode | (nb ? O_NONBLOCK : 0) };
		st = start_other_call(&ot, &o);
		EXPECT_EQ('X', st) {
			TH_LOG("%s open of the %s, while the close of its only file waits for the semaphore, %s; %s",
			       nb ? "an O_NONBLOCK" : "a blocking", end,
			       st == 'S' || st == 'D' ?
			       "passed the EBUSY check and waits for the semaphore (expected: EBUSY at once)" :
			       "did not return (expected: EBUSY at once)",
			       TAKEN_UNTIL_COUNTED_OUT_RULE);
		}
		if (st != 'X')
			syscall(SYS_tgkill, getpid(), o.tid, SIGUSR1);
		pthread_join(ot, NULL);
		if (st != 'X')
			continue;
		EXPECT_TRUE(o.ret == -1 && o.err == EBUSY) {
			TH_LOG("the %s open of the %s, while the close of its only file waits for the semaphore, got %s, not EBUSY; %s",
			       nb ? "O_NONBLOCK" : "blocking", end,
			       o.ret >= 0 ? "a descriptor" : strerror(o.err),
			       TAKEN_UNTIL_COUNTED_OUT_RULE);
		}
	}
	EXPECT_EQ(0, copy_stall_release(&cs, read_end ? 'a' : 0));
	pthread_join(at, NULL);
	copy_stall_destroy(&cs);
	EXPECT_EQ(read_end ? 32 : 16, a.ret);
	pthread_join(ct, NULL);
	EXPECT_EQ(0, cl.ret);
	fd = try_open(path, mode);
	EXPECT_LE(0, fd) {
		TH_LOG("rule 23: with exclusive=1, once the close of its only file is through, the %s is free again; an O_NONBLOCK open of it answered %s",
		       end, strerror(-fd));
	}
	if (fd >= 0)
		close(fd);
	close(read_end ? w : r);
}

/* Rules 21 and 23: with exclusive=1, an end is taken until the close of
 * its file has counted it out, under the semaphore. A call frozen in its
 * copy holds the semaphore, and the close of the only file of one end
 * waits for it: an open of that end, O_NONBLOCK or blocking, gets EBUSY
 * at once, not a wait for the semaphore; once the frozen call and the
 * close are through, the end opens. For each end. */
TEST_F_TIMEOUT(pipe, exclusive_end_stays_taken_until_its_close_counts_out, 60)
{
	int err;

	ASSERT_EQ(0, sigusr1_interrupts());
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	err = module_load(MODULE, "exclusive=1");
	if (err)
		module_load(MODULE, "");
	ASSERT_EQ(0, err);
	exclusive_end_taken_while_its_close_waits(_metadata, 1);
	exclusive_end_taken_while_its_close_waits(_metadata, 0);
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief The rule every_way_out_of_a_call_gives_the_semaphore_back_once
 *         checks, printed when it fails. */
#define BACK_ONCE_RULE "rule 21: every way out of a read or a write that took the semaphore gives it back exactly once, and one that did not take it (a signal in down_interruptible(), a call that returns before it) gives nothing back: a second up() leaves it counting 2, and from then on two callers are inside at once"

static int calls_end(struct fifo_call **calls, int n);
static void calls_finish(struct fifo_call **calls, pthread_t *threads, int n);

/** @brief The pipe before and after each way out of
 *         every_way_out_of_a_call_gives_the_semaphore_back_once: one
 *         reader and one writer, blocking, and the bytes a way left. */
struct way_pipe {
	/** @brief The read end, the only reader. */
	int r;
	/** @brief The write end, the only writer. */
	int w;
	/** @brief A PROT_NONE page, for EFAULT. */
	char *bad;
	/** @brief Bytes the way left in the pipe. */
	size_t left;
};

/** @brief One way out of a read or a write: what is done, and the rule
 *         that says what the call returns. */
struct way_out {
	/** @brief The call, for the log. */
	const char *what;
	/** @brief The rule of its result. */
	const char *rule;
};

/** @brief The ways out, in the order made: each one's set-up uses only
 *         calls of the ways before it (writes and reads that move bytes,
 *         closes and opens). */
static const struct way_out ways_out[] = {
	{ "a write of 5 bytes (5)", "rule 11" },
	{ "a read of 5 bytes there (5)", "rule 6" },
	{ "a read of 0 bytes (0)", "rule 9" },
	{ "a write of 0 bytes (0)", "rule 9" },
	{ "an O_NONBLOCK read of the empty pipe (EAGAIN)", "rule 7" },
	{ "an O_NONBLOCK write of 1 byte into the full pipe (EAGAIN)",
	  "rule 10" },
	{ "a read of 5 bytes there into a PROT_NONE page (EFAULT)",
	  "rule 20" },
	{ "a write of 5 bytes from a PROT_NONE page (EFAULT)", "rule 20" },
	{ "an O_NONBLOCK read of the empty pipe with no writer (0)",
	  "rule 8" },
	{ "a write of 1 byte with no reader (EPIPE)", "rule 13" },
	{ "a read asleep on the empty pipe, ended by a signal (EINTR)",
	  "rule 14" },
	{ "a write of 1 byte asleep on the full pipe, ended by a signal (EINTR)",
	  "rule 14" },
	{ "a write of 5096 bytes into the empty pipe, asleep after 4096, ended by a signal (4096)",
	  "rule 14" },
	{ "a read asleep on the empty pipe, woken by a write of 3 bytes (3)",
	  "rule 7" },
	{ "a read asleep on the empty pipe, woken by the last writer's close (0)",
	  "rule 18" },
	{ "a write of 10 bytes asleep on the full pipe, woken by a read of it all (10)",
	  "rule 12" },
	{ "a write of 1 byte asleep on the full pipe, woken by the last reader's close (EPIPE)",
	  "rule 18" },
	{ "a read waiting for the semaphore a frozen write holds, ended by a signal (EINTR)",
	  "rule 21" },
	{ "a write waiting for the semaphore a frozen write holds, ended by a signal (EINTR)",
	  "rule 21" },
};

/** @brief How many ways out there are. */
#define WAYS_OUT ((int)(sizeof(ways_out) / sizeof(ways_out[0])))

/** @brief Check what way @p way's call returned.
 * @param _metadata the test
 * @param way the way
 * @param ret what the call returned
 * @param err errno after it
 * @param want what it should return (-1: an error)
 * @param want_err the error, when @p want is -1
 * @return 0 when it returned that, -1 otherwise (logged)
 */
static int way_returned(struct __test_metadata *_metadata, int way,
			ssize_t ret, int err, ssize_t want, int want_err)
{
	if (ret == want && (want != -1 || err == want_err))
		return 0;
	errno = err;
	TH_LOG("%s: %s returned %s; the test cannot check its way out",
	       ways_out[way].rule, ways_out[way].what, outcome(ret));
	_metadata->exit_code = KSFT_FAIL;
	return -1;
}

/** @brief Start way @p way's call @p c in thread @p t and check that it
 *         sleeps; if not, end it.
 * @param _metadata the test
 * @param way the way
 * @param t the thread
 * @param c the call, with its descriptor, buffer, count and direction
 * @return 0 once it sleeps, -1 otherwise (logged, the thread joined)
 */
static int way_sleeps(struct __test_metadata *_metadata, int way,
		      pthread_t *t, struct fifo_call *c)
{
	struct fifo_call *calls[1] = { c };
	char st = start_call(t, c);

	if (st == 'S')
		return 0;
	TH_LOG("%s: in %s, the call %s instead of sleeping",
	       ways_out[way].rule, ways_out[way].what,
	       st == 'X' ? "returned" : "neither slept nor returned");
	_metadata->exit_code = KSFT_FAIL;
	calls_finish(calls, t, 1);
	return -1;
}

/** @brief Wait for the sleeping call @p c of way @p way, which should
 *         now return, and check what it returned.
 * @param _metadata the test
 * @param way the way
 * @param t its thread
 * @param c the call
 * @param want what it should return (-1: an error)
 * @param want_err the error, when @p want is -1
 * @return as way_returned()
 */
static int way_sleeper_returned(struct __test_metadata *_metadata, int way,
				pthread_t t, struct fifo_call *c, ssize_t want,
				int want_err)
{
	struct fifo_call *calls[1] = { c };

	if (!calls_end(calls, 1)) {
		TH_LOG("%s: in %s, the call stays asleep",
		       ways_out[way].rule, ways_out[way].what);
		_metadata->exit_code = KSFT_FAIL;
		calls_finish(calls, &t, 1);
		return -1;
	}
	pthread_join(t, NULL);
	return way_returned(_metadata, way, c->ret, c->err, want, want_err);
}

/** @brief Freeze a write of 32 bytes through @p w in its copy, after 8
 *         'A's (freeze_call()), so that it holds the semaphore.
 * @param _metadata the test
 * @param cs the frozen copy
 * @param h the write
 * @param ht its thread
 * @param w the write end
 * @param when when it is made, for the log
 * @return 0 once it is frozen; -1 otherwise (logged, its thread ended)
 */
static int way_freeze_a_write(struct __test_metadata *_metadata,
			      struct copy_stall *cs, struct fifo_call *h,
			      pthread_t *ht, int w, const char *when)
{
	int got = freeze_call(cs, h, ht, w, 1, 32, 8, 'A');

	if (got == 1)
		return 0;
	TH_LOG("%s, a write of 32 bytes into a pipe with room for it never reached its copy: it %s (a way out that kept the semaphore?); %s",
	       when, got < 0 ? "could not be made" :
	       atomic_load(&h->done) ? "returned" : "waits",
	       BACK_ONCE_RULE);
	_metadata->exit_code = KSFT_FAIL;
	if (!got) {
		struct fifo_call *calls[1] = { h };

		calls_finish(calls, ht, 1);
		copy_stall_destroy(cs);
	}
	return -1;
}

/** @brief Fill the empty pipe of @p p, or empty the full one, with a
 *         call that moves PIPE_SIZE bytes.
 * @param _metadata the test
 * @param p the pipe
 * @param fill nonzero to fill, zero to empty
 * @return 0, or -1 (logged)
 */
static int way_fill(struct __test_metadata *_metadata, struct way_pipe *p,
		    int fill)
{
	static char big[PIPE_SIZE];
	ssize_t n;

	n = fill ? write(p->w, big, PIPE_SIZE) : read(p->r, big, PIPE_SIZE);
	if (n == PIPE_SIZE)
		return 0;
	TH_LOG("rules 6 and 11: a %s of %d bytes %s the pipe returned %zd",
	       fill ? "write" : "read", PIPE_SIZE,
	       fill ? "into the empty" : "of the full", n);
	_metadata->exit_code = KSFT_FAIL;
	return -1;
}

/** @brief Reopen the end of @p p that way @p way closed, without
 *         waiting (the other end is open).
 * @param _metadata the test
 * @param p the pipe
 * @param way the way
 * @param read_end nonzero for the read end, zero for the write end
 * @return 0, or -1 (logged)
 */
static int way_reopen(struct __test_metadata *_metadata, struct way_pipe *p,
		      int way, int read_end)
{
	int fd = open(read_end ? PIPE_OUT : PIPE_IN,
		      (read_end ? O_RDONLY : O_WRONLY) | O_NONBLOCK);

	if (fd < 0) {
		TH_LOG("rule 4: after %s, the %s would not open again: %s",
		       ways_out[way].what, read_end ? "read end" : "write end",
		       strerror(errno));
		_metadata->exit_code = KSFT_FAIL;
		return -1;
	}
	set_nonblock(fd, 0);
	*(read_end ? &p->r : &p->w) = fd;
	return 0;
}

/** @brief Make way @p way's call, alone (no other call under way), with
 *         what it needs before and after: the pipe of @p p has one reader
 *         and one writer before and after, and the bytes in it are left
 *         in @p p->left.
 * @param _metadata the test
 * @param way the way
 * @param p the pipe
 * @return 0 when the call returned what the rules say; -1 otherwise
 *         (logged)
 */
static int make_way_out(struct __test_metadata *_metadata, int way,
			struct way_pipe *p)
{
	static char big[PIPE_SIZE + 1000];
	struct fifo_call c = { 0 }, h = { 0 };
	struct copy_stall cs;
	pthread_t t, ht;
	ssize_t n;
	int err;

	p->left = 0;
	switch (way) {
	case 0:
		n = write(p->w, "12345", 5);
		p->left = 5;
		return way_returned(_metadata, way, n, errno, 5, 0);
	case 1:
		if (write(p->w, "12345", 5) != 5)
			return way_returned(_metadata, 0, -1, errno, 5, 0);
		n = read(p->r, big, 5);
		return way_returned(_metadata, way, n, errno, 5, 0);
	case 2:
		n = read(p->r, big, 0);
		return way_returned(_metadata, way, n, errno, 0, 0);
	case 3:
		n = write(p->w, big, 0);
		return way_returned(_metadata, way, n, errno, 0, 0);
	case 4:
		set_nonblock(p->r, 1);
		n = read(p->r, big, 8);
		err = errno;
		set_nonblock(p->r, 0);
		return way_returned(_metadata, way, n, err, -1, EAGAIN);
	case 5:
		if (way_fill(_metadata, p, 1))
			return -1;
		set_nonblock(p->w, 1);
		n = write(p->w, "x", 1);
		err = errno;
		set_nonblock(p->w, 0);
		if (way_returned(_metadata, way, n, err, -1, EAGAIN))
			return -1;
		return way_fill(_metadata, p, 0);
	case 6:
		if (write(p->w, "12345", 5) != 5)
			return way_returned(_metadata, 0, -1, errno, 5, 0);
		n = read(p->r, p->bad, 5);
		p->left = 5;
		return way_returned(_metadata, way, n, errno, -1, EFAULT);
	case 7:
		n = write(p->w, p->bad, 5);
		return way_returned(_metadata, way, n, errno, -1, EFAULT);
	case 8:
		close(p->w);
		p->w = -1;
		set_nonblock(p->r, 1);
		n = read(p->r, big, 8);
		err = errno;
		set_nonblock(p->r, 0);
		if (way_returned(_metadata, way, n, err, 0, 0))
			return -1;
		return way_reopen(_metadata, p, way, 0);
	case 9:
		close(p->r);
		p->r = -1;
		n = write(p->w, "x", 1);
		if (way_returned(_metadata, way, n, errno, -1, EPIPE))
			return -1;
		return way_reopen(_metadata, p, way, 1);
	case 10:
	case 13:
	case 14:
		c = (struct fifo_call){ .fd = p->r, .buf = big, .count = 8 };
		if (way_sleeps(_metadata, way, &t, &c))
			return -1;
		if (way == 10) {
			syscall(SYS_tgkill, getpid(), c.tid, SIGUSR1);
			return way_sleeper_returned(_metadata, way, t, &c, -1,
						    EINTR);
		}
		if (way == 13) {
			if (write(p->w, "123", 3) != 3)
				TH_LOG("(the write of 3 bytes failed: %s)",
				       strerror(errno));
			return way_sleeper_returned(_metadata, way, t, &c, 3,
						    0);
		}
		close(p->w);
		p->w = -1;
		if (way_sleeper_returned(_metadata, way, t, &c, 0, 0))
			return -1;
		return way_reopen(_metadata, p, way, 0);
	case 11:
	case 12:
	case 15:
	case 16:
		if (way != 12 && way_fill(_metadata, p, 1))
			return -1;
		c = (struct fifo_call){ .fd = p->w, .buf = big,
					.count = way == 12 ? PIPE_SIZE + 1000 :
						 way == 15 ? 10 : 1,
					.is_write = 1 };
		if (way_sleeps(_metadata, way, &t, &c))
			return -1;
		if (way == 11 || way == 12) {
			syscall(SYS_tgkill, getpid(), c.tid, SIGUSR1);
			if (way_sleeper_returned(_metadata, way, t, &c,
						 way == 12 ? PIPE_SIZE : -1,
						 EINTR))
				return -1;
			return way_fill(_metadata, p, 0);
		}
		if (way == 15) {
			if (way_fill(_metadata, p, 0))
				return -1;
			p->left = 10;
			return way_sleeper_returned(_metadata, way, t, &c, 10,
						    0);
		}
		close(p->r);
		p->r = -1;
		if (way_sleeper_returned(_metadata, way, t, &c, -1, EPIPE) ||
		    way_reopen(_metadata, p, way, 1))
			return -1;
		return way_fill(_metadata, p, 0);
	default:
		if (way_freeze_a_write(_metadata, &cs, &h, &ht, p->w,
				       "to set the way up"))
			return -1;
		c = (struct fifo_call){ .fd = way == 17 ? p->r : p->w,
					.buf = big, .count = 1,
					.is_write = way == 18 };
		if (way_sleeps(_metadata, way, &t, &c)) {
			thaw_the_write(&cs, ht, &h);
			return -1;
		}
		syscall(SYS_tgkill, getpid(), c.tid, SIGUSR1);
		/* Ended before the write lets the semaphore go. */
		if (way_sleeper_returned(_metadata, way, t, &c, -1, EINTR)) {
			thaw_the_write(&cs, ht, &h);
			return -1;
		}
		p->left = 32;
		n = thaw_the_write(&cs, ht, &h);
		return way_returned(_metadata, way, n, h.err, 32, 0);
	}
}

/** @brief Check that the semaphore is taken by one caller only: a write
 *         frozen in its copy takes it, and an O_NONBLOCK read of the pipe
 *         of @p p must then wait for it (state S); the write let go, the
 *         read gets every byte, the way's and the write's 32.
 *
 * A way out that gave the semaphore back twice left it counting 2: the
 * frozen write takes one, and the read goes ahead with the other. A way
 * out that kept it leaves the write waiting for it instead.
 *
 * @param _metadata the test
 * @param way the way made just before, alone
 * @param p the pipe
 * @return 0 when the read waited, and everything then finished as it
 *         should; -1 otherwise (logged)
 */
static int semaphore_held_once(struct __test_metadata *_metadata, int way,
			       struct way_pipe *p)
{
	static char got[PIPE_SIZE];
	struct fifo_call h = { 0 }, c = { 0 };
	struct copy_stall cs;
	char when[200];
	pthread_t ht, ct;
	ssize_t n;
	char st;

	snprintf(when, sizeof(when), "after %s", ways_out[way].what);
	if (way_freeze_a_write(_metadata, &cs, &h, &ht, p->w, when))
		return -1;
	set_nonblock(p->r, 1);
	c = (struct fifo_call){ .fd = p->r, .buf = got, .count = sizeof(got) };
	st = start_call(&ct, &c);
	EXPECT_TRUE(st == 'S' || st == 'D') {
		errno = c.err;
		TH_LOG("after %s, made with no other call under way, a write frozen in its copy holds the semaphore, and an O_NONBLOCK read must wait for it (state S): it %s%s, so the semaphore counted 2 (given back twice on that way out, or by the write and read that checked the way before it); %s",
		       ways_out[way].what,
		       st == 'X' ? "went ahead and returned " :
		       "did not wait for it in state S",
		       st == 'X' ? outcome(c.ret) : "", BACK_ONCE_RULE);
	}
	if (st != 'S' && st != 'D' && st != 'X')
		syscall(SYS_tgkill, getpid(), c.tid, SIGUSR1);
	n = thaw_the_write(&cs, ht, &h);
	pthread_join(ct, NULL);
	set_nonblock(p->r, 0);
	if (st != 'S' && st != 'D')
		return -1;
	EXPECT_EQ(32, n) {
		TH_LOG("the write of 32 bytes frozen in its copy, let go, returned %zd",
		       n);
	}
	EXPECT_EQ((ssize_t)(p->left + 32), c.ret) {
		TH_LOG("rule 6: the O_NONBLOCK read that waited for the semaphore behind a write of 32 bytes, with %zu bytes there before it, must get them all; it returned %zd",
		       p->left, c.ret);
	}
	return n == 32 && c.ret == (ssize_t)(p->left + 32) ? 0 : -1;
}

/* Rule 21: every way out of a read or a write gives the semaphore back
 * exactly once. Each way (ways_out) is made alone, the module loaded
 * afresh before the first; then a write frozen in its copy takes the
 * semaphore, and an O_NONBLOCK read must wait for it. A semaphore given
 * back twice on the way out counts 2, and the read goes ahead (no
 * timing: the extra
 * count stays until someone takes it); one never given back keeps the
 * frozen write out. The first way that fails ends the test, and the
 * module is loaded afresh so that no later test inherits the count. */
TEST_F_TIMEOUT(pipe, every_way_out_of_a_call_gives_the_semaphore_back_once,
	       60)
{
	struct way_pipe p = { .r = -1, .w = -1 };
	int way = 0;

	ASSERT_EQ(0, sigusr1_interrupts());
	signal(SIGPIPE, SIG_IGN);
	p.bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		     0);
	ASSERT_NE(MAP_FAILED, p.bad);
	/* A count an earlier test left would be blamed on the first way. */
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, ""));
	EXPECT_EQ(0, open_both_ends(&p.r, &p.w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
		way = WAYS_OUT + 1;
	}
	for (; way < WAYS_OUT; way++)
		if (make_way_out(_metadata, way, &p) ||
		    semaphore_held_once(_metadata, way, &p))
			break;
	if (p.r >= 0)
		close(p.r);
	if (p.w >= 0)
		close(p.w);
	munmap(p.bad, 4096);
	if (way < WAYS_OUT) {
		EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
		EXPECT_EQ(0, module_load(MODULE, ""));
	}
}

/** @brief Send SIGUSR1, whose handler has SA_RESTART, to thread @p tid
 *         asleep for the semaphore; wait for the handler to run, then for
 *         the call, started again, to sleep again.
 * @param tid the thread
 * @param done set by the thread when its call returned
 * @return the state task_wait_asleep() saw ('S' asleep again, 'X'
 *         returned), or 0 when the handler never ran
 */
static char restart_by_signal(pid_t tid, atomic_int *done)
{
	syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
	if (!await_byte(signal_note_fd(), WAIT_MS))
		return 0;
	return task_wait_asleep(tid, done, WAIT_MS);
}

/* With SA_RESTART, a signal that ends a read's, a write's or an open's
 * wait for the semaphore starts the call again (-ERESTARTSYS, never
 * -EINTR): after the handler it waits for the semaphore again, and moves
 * its bytes (or opens) once the frozen write lets go of it. A read, a
 * write, then an open of the read end. */
TEST_F_TIMEOUT(pipe, sa_restart_restarts_waits_for_the_semaphore, 60)
{
	struct sigaction sa = { .sa_handler = note_signal,
				.sa_flags = SA_RESTART };
	static const char *const what[] = { "read", "write" };
	static const char frozen[] = "AAAAAAAAaaaaaaaaaaaaaaaaaaaaaaaa";
	struct fifo_call a, b;
	struct other_call o;
	struct copy_stall cs;
	char got[64], st;
	pthread_t at, bt, ot;
	int i, r, w;

	ASSERT_LE(0, signal_note_fd());
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < 2; i++) {
		memset(got, 0, sizeof(got));
		ASSERT_EQ(0, freeze_a_write(_metadata, &cs, &a, &at, &r, &w));
		if (i)
			b = (struct fifo_call){ .fd = w, .buf = "BBBB",
						.count = 4, .is_write = 1 };
		else
			b = (struct fifo_call){ .fd = r, .buf = got,
						.count = sizeof(got) - 1 };
		EXPECT_EQ('S', start_call(&bt, &b)) {
			TH_LOG("rule 21: a %s waits (state S) while another call holds the semaphore",
			       what[i]);
		}
		st = restart_by_signal(b.tid, &b.done);
		EXPECT_NE(0, st) {
			TH_LOG("the SIGUSR1 handler never ran");
		}
		EXPECT_EQ('S', st) {
			TH_LOG("rule 21: with SA_RESTART, a %s whose wait for the semaphore a signal ended starts again and waits again; it returned %zd%s%s (-EINTR where -ERESTARTSYS belongs?)",
			       what[i], b.ret, b.ret < 0 ? ", " : "",
			       b.ret < 0 ? strerror(b.err) : "");
		}
		ASSERT_EQ(0, copy_stall_release(&cs, 'a'));
		pthread_join(at, NULL);
		pthread_join(bt, NULL);
		copy_stall_destroy(&cs);
		EXPECT_EQ(32, a.ret);
		if (!i) {
			EXPECT_EQ(32, b.ret) {
				TH_LOG("rule 21: the restarted read returns the frozen write's 32 bytes; it returned %zd",
				       b.ret);
			}
			EXPECT_STREQ(frozen, got);
		} else {
			EXPECT_EQ(4, b.ret) {
				TH_LOG("rule 21: the restarted write moves its 4 bytes; it returned %zd",
				       b.ret);
			}
			EXPECT_EQ(36, read(r, got, sizeof(got) - 1));
			EXPECT_EQ(0, strncmp(got, frozen, 32));
			EXPECT_STREQ("BBBB", got + 32);
		}
		close(r);
		close(w);
	}
	/* An open of the read end: it waits again, then opens. */
	ASSERT_EQ(0, freeze_a_write(_metadata, &cs, &a, &at, &r, &w));
	o = (struct other_call){ .path = PIPE_OUT,
				 .flags = O_RDONLY | O_NONBLOCK };
	EXPECT_EQ('S', start_other_call(&ot, &o)) {
		TH_LOG("rule 21: an open waits (state S) while another call holds the semaphore");
	}
	st = restart_by_signal(o.tid, &o.done);
	EXPECT_NE(0, st) {
		TH_LOG("the SIGUSR1 handler never ran");
	}
	EXPECT_EQ('S', st) {
		TH_LOG("rules 5 and 21: with SA_RESTART, an open whose wait for the semaphore a signal ended starts again and waits again; it %s%s (-EINTR where -ERESTARTSYS belongs?)",
		       st == 'X' ? "returned " : "did not",
		       st != 'X' ? " sleep" : o.ret < 0 ? strerror(o.err) :
		       "a descriptor");
	}
	ASSERT_EQ(0, copy_stall_release(&cs, 'a'));
	pthread_join(at, NULL);
	pthread_join(ot, NULL);
	copy_stall_destroy(&cs);
	EXPECT_EQ(32, a.ret);
	EXPECT_LE(0, o.ret) {
		TH_LOG("rule 21: the restarted open of the read end must open once the semaphore is free; it failed: %s",
		       strerror(o.err));
	}
	close(r);
	close(w);
}

/* poll() reads the pipe without the semaphore: while a write holds it,
 * frozen inside its copy, a poll() of both ends answers at once. */
TEST_F_TIMEOUT(pipe, poll_does_not_wait_for_the_semaphore, 60)
{
	struct other_call p = { 0 };
	struct fifo_call a = { 0 };
	struct copy_stall cs;
	pthread_t at, pt;
	char st;
	int r, w;

	ASSERT_EQ(0, freeze_a_write(_metadata, &cs, &a, &at, &r, &w));
	p.fds[0] = (struct pollfd){ .fd = r, .events = POLLIN };
	p.fds[1] = (struct pollfd){ .fd = w, .events = POLLOUT };
	st = start_other_call(&pt, &p);
	EXPECT_EQ('X', st) {
		TH_LOG("rule: poll() answers at once, even while another call holds the semaphore; it %s (a down() in poll?)",
		       st == 'D' ? "slept in state D" :
		       st == 'S' ? "slept" : "did not return");
	}
	ASSERT_EQ(0, copy_stall_release(&cs, 'a'));
	pthread_join(at, NULL);
	pthread_join(pt, NULL);
	copy_stall_destroy(&cs);
	EXPECT_EQ(32, a.ret);
	EXPECT_LE(0, p.ret);
	close(w);
	close(r);
}

/* While a write holds the semaphore (frozen in its copy), a second write
 * and an open wait for it; a signal ends each wait with EINTR, and the
 * call leaves nothing: no byte, no reader counted. */
TEST_F_TIMEOUT(pipe, signals_end_waits_for_the_semaphore, 60)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	struct other_call o = { .path = PIPE_OUT,
				.flags = O_RDONLY | O_NONBLOCK };
	struct fifo_call a = { 0 }, b = { 0 };
	struct copy_stall cs;
	pthread_t at, bt, ot;
	char got[64] = "";
	int r, w;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, freeze_a_write(_metadata, &cs, &a, &at, &r, &w));
	b = (struct fifo_call){ .fd = w, .buf = "BBBB", .count = 4,
				.is_write = 1 };
	EXPECT_EQ('S', start_call(&bt, &b)) {
		TH_LOG("rule: a write waits (state S) while another call holds the semaphore");
	}
	syscall(SYS_tgkill, getpid(), b.tid, SIGUSR1);
	pthread_join(bt, NULL);
	EXPECT_EQ(-1, b.ret) {
		TH_LOG("rule: a signal ends a wait for the semaphore with EINTR; the write returned %zd (down_interruptible()'s result ignored?)",
		       b.ret);
	}
	EXPECT_EQ(EINTR, b.err);
	EXPECT_EQ('S', start_other_call(&ot, &o)) {
		TH_LOG("rule: an open waits (state S) while another call holds the semaphore");
	}
	syscall(SYS_tgkill, getpid(), o.tid, SIGUSR1);
	pthread_join(ot, NULL);
	EXPECT_EQ(-1, o.ret) {
		TH_LOG("rule: a signal ends an open's wait for the semaphore with EINTR; the open returned %d",
		       o.ret);
	}
	EXPECT_EQ(EINTR, o.err);
	EXPECT_EQ(32, thaw_the_write(&cs, at, &a));
	EXPECT_EQ(32, read(r, got, sizeof(got) - 1));
	EXPECT_STREQ("AAAAAAAAaaaaaaaaaaaaaaaaaaaaaaaa", got) {
		TH_LOG("rule: an interrupted write adds nothing");
	}
	/* The interrupted open counted no reader: with r gone, EPIPE. */
	expect_no_reader_left(_metadata, r, w,
			      "rule: an interrupted open leaves nothing behind; a reader is still counted after the last one closed");
}

/** @brief Wait until every call of @p calls has returned, or until those
 *         that have not are stuck: all blocked for STUCK_MS, none of them
 *         running (task_stuck.h), so that nothing is left to wake them.
 *
 * The time a loaded machine keeps a runnable call waiting does not count:
 * a runnable call is not blocked. WAIT_MS * 2 bounds the whole wait.
 *
 * @param calls the calls, at most STUCK_WATCH_MAX
 * @param n how many
 * @return 1 when all returned, 0 when the ones left are stuck
 */
static int calls_end(struct fifo_call **calls, int n)
{
	pid_t tids[STUCK_WATCH_MAX];
	int waited_ms, i, left;
	struct stuck_watch w;

	stuck_watch_init(&w);
	for (waited_ms = 0; waited_ms < 2 * WAIT_MS; waited_ms += 10) {
		left = 0;
		for (i = 0; i < n; i++)
			if (!atomic_load(&calls[i]->done))
				tids[left++] = calls[i]->tid;
		if (!left)
			return 1;
		if (stuck_watch_look(&w, tids, left, STUCK_MS))
			return 0;
		usleep(10000);
	}
	return 0;
}

/** @brief End every call of @p calls still asleep with SIGUSR1 (ignored,
 *         without SA_RESTART) and join its thread.
 * @param calls the calls
 * @param threads their threads
 * @param n how many
 */
static void calls_finish(struct fifo_call **calls, pthread_t *threads, int n)
{
	struct sigaction sa = { .sa_handler = ignore_signal };
	int i;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < n; i++) {
		while (!atomic_load(&calls[i]->done)) {
			syscall(SYS_tgkill, getpid(), calls[i]->tid, SIGUSR1);
			usleep(10000);
		}
		pthread_join(threads[i], NULL);
	}
}

/* The wake-up table: a write wakes a reader when the pipe was empty when
 * the write took the semaphore, and a large write that slept for room
 * takes it again. Made certain with two frozen copies: the pipe is full
 * and a write W of PIPE_SIZE + 8 bytes sleeps for room; a read F of all
 * of it is frozen inside its copy, holding the semaphore; a read R waits
 * for the semaphore. F goes on: up() hands the semaphore to R, which
 * finds the pipe empty, lets it go and sleeps; W, woken by F, takes it
 * and is frozen in its copy until R is asleep. Then W fills the pipe
 * and sleeps for room for its last 8 bytes: it must wake R first (the
 * pipe was empty when W took the semaphore again), R takes the bytes,
 * and W ends. The module is loaded afresh, so that no poll() of the read
 * end has made every write wake readers (poll_usage). */
TEST_F_TIMEOUT(pipe, a_write_wakes_readers_also_after_sleeping_for_room, 90)
{
	struct fifo_call f = { 0 }, rd = { 0 }, wr = { 0 };
	struct fifo_call *calls[2] = { &rd, &wr }, *fcall = &f;
	static char full[PIPE_SIZE], got[PIPE_SIZE];
	struct copy_stall fs, ws;
	pthread_t ft, threads[2];
	char *fbuf, *wbuf;
	int r, w, ok;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, ""));
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	memset(full, 'f', sizeof(full));
	ASSERT_EQ(PIPE_SIZE, write(w, full, PIPE_SIZE));

	/* W: PIPE_SIZE + 8 bytes, frozen after 8 once it copies. */
	wbuf = copy_stall_init(&ws, 8, 'W');
	ASSERT_NE(NULL, wbuf);
	wr = (struct fifo_call){ .fd = w, .buf = wbuf, .count = PIPE_SIZE + 8,
				 .is_write = 1 };
	ASSERT_EQ('S', start_call(&threads[1], &wr)) {
		TH_LOG("rule 11: a large write into a full pipe sleeps for room");
	}
	/* F: reads the whole pipe, frozen after 4 bytes of its copy. */
	fbuf = copy_stall_init(&fs, 4, 0);
	ASSERT_NE(NULL, fbuf);
	f = (struct fifo_call){ .fd = r, .buf = fbuf, .count = PIPE_SIZE,
				.ready_pipe = -1, .done_pipe = -1 };
	ASSERT_EQ(0, pthread_create(&ft, NULL, fifo_call_main, &f));
	ASSERT_EQ(1, copy_reached(&fs, &fcall, 1)) {
		TH_LOG("the read never reached its copy_to_user()");
	}
	/* R: waits for the semaphore F holds. */
	rd = (struct fifo_call){ .fd = r, .buf = got, .count = PIPE_SIZE };
	ASSERT_EQ('S', start_call(&threads[0], &rd)) {
		TH_LOG("rule 21: a read waits while another call holds the semaphore");
	}
	/* F goes on; R finds the pipe empty; W is frozen in its copy. */
	ASSERT_EQ(0, copy_stall_release(&fs, 0));
	pthread_join(ft, NULL);
	EXPECT_EQ(PIPE_SIZE, f.ret);
	ok = copy_reached(&ws, calls, 2) == 1;
	EXPECT_TRUE(ok) {
		TH_LOG("rule 12: the read made room for PIPE_BUF bytes, but the sleeping write never went on to copy (woken? rd=%zd done=%d)",
		       rd.ret, atomic_load(&rd.done));
	}
	if (ok) {
		EXPECT_EQ('S', task_wait_asleep(rd.tid, &rd.done, WAIT_MS)) {
			TH_LOG("the second read should have found the pipe empty and slept (it got the semaphore before the write)");
		}
		ASSERT_EQ(0, copy_stall_release(&ws, 'w'));
	}
	EXPECT_EQ(1, calls_end(calls, 2)) {
		TH_LOG("rule: a write wakes a reader when the pipe was empty when it took the semaphore, also when it takes it again after sleeping for room; here the reader (returned: %s) and the large write (returned: %s) both sleep with %d bytes in the pipe. Usual bug: was_empty computed once, before the first sleep, and not again after down()",
		       atomic_load(&rd.done) ? "yes" : "no",
		       atomic_load(&wr.done) ? "yes" : "no", PIPE_SIZE);
	}
	if (atomic_load(&rd.done) && atomic_load(&wr.done)) {
		EXPECT_EQ(PIPE_SIZE, rd.ret);
		EXPECT_EQ(PIPE_SIZE + 8, wr.ret);
	}
	/* Never woken, W may still reach its copy once a signal wakes it
	 * below: with its page still missing, a copy from the kernel
	 * retries the fault for as long as the signal is pending. */
	if (!ok)
		copy_stall_release(&ws, 'w');
	calls_finish(calls, threads, 2);
	copy_stall_destroy(&ws);
	copy_stall_destroy(&fs);
	close(w);
	close(r);
}

/* Pass it on: with pipe_size=65536, full, two writers of PIPE_BUF bytes
 * asleep for room, one read of 2 * PIPE_BUF bytes wakes one of them; the
 * one woken leaves room for PIPE_BUF bytes and must wake the other. Both
 * must end with no further read. */
TEST_F_TIMEOUT(pipe, a_woken_writer_passes_the_wake_up_on, 90)
{
	struct fifo_call a = { 0 }, b = { 0 };
	struct fifo_call *calls[2] = { &a, &b };
	static char big[65536], abuf[PIPE_BUF], bbuf[PIPE_BUF];
	pthread_t threads[2];
	int r, w;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, "pipe_size=65536"));
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	ASSERT_EQ(65536, write(w, big, sizeof(big)));
	a = (struct fifo_call){ .fd = w, .buf = abuf, .count = PIPE_BUF,
				.is_write = 1 };
	b = (struct fifo_call){ .fd = w, .buf = bbuf, .count = PIPE_BUF,
				.is_write = 1 };
	ASSERT_EQ('S', start_call(&threads[0], &a)) {
		TH_LOG("rule 10: a write of PIPE_BUF bytes into a full pipe sleeps");
	}
	ASSERT_EQ('S', start_call(&threads[1], &b)) {
		TH_LOG("rule 10: a write of PIPE_BUF bytes into a full pipe sleeps");
	}
	EXPECT_EQ(2 * PIPE_BUF, read(r, big, 2 * PIPE_BUF));
	EXPECT_EQ(1, calls_end(calls, 2)) {
		TH_LOG("rule 12 and \"pass it on\": a read made room for two writes of PIPE_BUF bytes, and two writers slept for it; %s of them returned. A writer woken alone that leaves room for PIPE_BUF bytes must wake the next writer (wake_next_writer)",
		       atomic_load(&a.done) || atomic_load(&b.done) ?
		       "one" : "neither");
	}
	if (atomic_load(&a.done) && atomic_load(&b.done)) {
		EXPECT_EQ(PIPE_BUF, a.ret);
		EXPECT_EQ(PIPE_BUF, b.ret);
	}
	calls_finish(calls, threads, 2);
	close(w);
	close(r);
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief The rule the woken_*_ended_at_the_semaphore_* tests check, for
 *         their messages. */
#define PASS_IT_ON_RULE "rules 7, 12 and 21, \"Pass it on\": a call woken for bytes or room that leaves without using them (a signal ends its wait for the semaphore: EINTR, nothing moved) wakes the next sleeper of its side, which they can serve"

/** @brief What a call that should wait for the semaphore in state S did
 *         instead, for messages.
 * @param c the call
 * @param st the state task_wait_asleep() saw
 * @return a phrase
 */
static const char *not_waiting_for_the_semaphore(struct fifo_call *c,
						 char st)
{
	static char text[96];

	if (st == 'D')
		return "waits in state D, which no signal ends (down() where down_interruptible() belongs?)";
	if (st != 'X')
		return "never went to sleep";
	snprintf(text, sizeof(text), "returned %zd%s%s while another call held the semaphore",
		 c->ret, c->ret < 0 ? ": " : "",
		 c->ret < 0 ? strerror(c->err) : "");
	return text;
}

/** @brief What a call's thread was seen doing, for a test's log.
 * @param c the call
 * @param st the state task_wait_asleep() saw
 * @return a static string
 */
static const char *call_state(struct fifo_call *c, char st)
{
	static char text[96];

	if (st == 'S')
		return "sleeps in state S";
	if (st == 'D')
		return "sleeps in state D, which no signal ends";
	if (st != 'X')
		return "never went to sleep nor returned";
	snprintf(text, sizeof(text), "returned %zd%s%s", c->ret,
		 c->ret < 0 ? ": " : "", c->ret < 0 ? strerror(c->err) : "");
	return text;
}

/** @brief Rule 21: start @p c in thread @p t while another call holds the
 *         semaphore, and expect it to wait for it in state S.
 * @param _metadata the test
 * @param t the thread
 * @param c the call
 * @param what the call, for the message ("a read", "a write")
 */
static void expect_waits_for_the_semaphore(struct __test_metadata *_metadata,
					   pthread_t *t, struct fifo_call *c,
					   const char *what)
{
	char st = start_call(t, c);

	EXPECT_EQ('S', st) {
		TH_LOG("rule 21: %s waits (state S) while another call holds the semaphore; it %s",
		       what, call_state(c, st));
	}
}

/** @brief Signal the woken call @p woken, asleep for the semaphore, and
 *         check how its wait ends: EINTR with nothing moved, or with
 *         SA_RESTART, asleep for the semaphore again (the call started
 *         again: -ERESTARTSYS, never -EINTR).
 * @param _metadata the test
 * @param woken the call
 * @param call "read" or "write", for messages
 * @param restart nonzero: the handler has SA_RESTART
 */
static void signal_the_woken_call(struct __test_metadata *_metadata,
				  struct fifo_call *woken, const char *call,
				  int restart)
{
	char st;

	if (restart) {
		st = restart_by_signal(woken->tid, &woken->done);
		EXPECT_NE(0, st) {
			TH_LOG("the SIGUSR1 handler never ran");
		}
		EXPECT_EQ('S', st) {
			TH_LOG("with SA_RESTART, the woken %s whose wait for the semaphore a signal ended starts again and waits for the semaphore again (-ERESTARTSYS, never -EINTR); it %s; " PASS_IT_ON_RULE,
			       call, not_waiting_for_the_semaphore(woken, st));
		}
		return;
	}
	syscall(SYS_tgkill, getpid(), woken->tid, SIGUSR1);
	EXPECT_TRUE(await_byte(signal_note_fd(), WAIT_MS)) {
		TH_LOG("the SIGUSR1 handler never ran");
	}
	EXPECT_EQ(1, calls_end(&woken, 1)) {
		TH_LOG("a signal did not end the woken %s's wait for the semaphore; " PASS_IT_ON_RULE,
		       call);
	}
	if (atomic_load(&woken->done)) {
		EXPECT_EQ(-1, woken->ret) {
			TH_LOG("the woken %s, whose wait for the semaphore a signal ended, returned %zd, not -1 (EINTR); " PASS_IT_ON_RULE,
			       call, woken->ret);
		}
		EXPECT_EQ(EINTR, woken->err);
	}
}

/** @brief After the frozen call A let go of the semaphore, check that
 *         what it left served the sleepers: the 16 bytes go to one read
 *         (the other, or the restarted one) while any other read sleeps
 *         on; both writes of 8 bytes but the interrupted one go in.
 * @param _metadata the test
 * @param c the two sleepers
 * @param woken the one that was signalled
 * @param is_write nonzero for writes
 * @param restart nonzero: the signalled call started again
 * @param rest the 16 bytes a read should get
 */
static void expect_the_rest_served(struct __test_metadata *_metadata,
				   struct fifo_call *c, struct fifo_call *woken,
				   int is_write, int restart, const char *rest)
{
	struct fifo_call *calls[2] = { &c[0], &c[1] };
	int i, ended, served = 0;

	/* Returns 0 once the calls left are all asleep for good. */
	ended = calls_end(calls, 2);
	for (i = 0; i < 2; i++) {
		/* An interrupted call is reported by signal_the_woken_call(). */
		if (!atomic_load(&c[i].done) ||
		    (&c[i] == woken && (!restart || c[i].ret < 0)))
			continue;
		served++;
		EXPECT_EQ(is_write ? 8 : 16, c[i].ret);
		if (!is_write) {
			EXPECT_STREQ(rest, c[i].buf);
		}
	}
	if (is_write) {
		EXPECT_EQ(1, ended) {
			TH_LOG("room for 8160 bytes was left for the %s of 8 bytes, and %s sleeps on: the write woken alone and stopped at the semaphore by a signal did not pass its wake-up on? " PASS_IT_ON_RULE,
			       restart ? "two writes (the restarted one and the other)" :
			       "other write", restart ? "one" : "it");
		}
	} else {
		EXPECT_EQ(1, served) {
			TH_LOG("16 bytes were left for %s; %d of them took bytes%s " PASS_IT_ON_RULE,
			       restart ? "two reads (the restarted one and the other), for one of them to take while the other sleeps on" :
			       "the other read",
			       served, served ? ";" :
			       ": the read woken alone and stopped at the semaphore by a signal did not pass its wake-up on?");
		}
	}
}

/** @brief Check what a full pipe of 65536 bytes holds after the writes
 *         of woken_call_ended_at_the_semaphore(): the bytes left by the
 *         read of 8192, the frozen write's 32, and 8 bytes of each write
 *         that returned 8 (in either order), nothing of the interrupted
 *         one.
 * @param _metadata the test
 * @param r the read end
 * @param c the two sleeping writes
 * @param buf room for 65536 bytes
 */
static void expect_the_writes_in(struct __test_metadata *_metadata, int r,
				 struct fifo_call *c, char *buf)
{
	size_t old = 65536 - 8192, n = 0;
	int i, k, found;

	for (i = 0; i < 2; i++)
		n += atomic_load(&c[i].done) && c[i].ret == 8;
	set_nonblock(r, 1);
	EXPECT_EQ((ssize_t)(old + 32 + 8 * n), read(r, buf, 65536)) {
		TH_LOG("the interrupted write must add nothing, each other one its 8 bytes");
		return;
	}
	EXPECT_EQ(0, memcmp(buf + old, "AAAAAAAAaaaaaaaaaaaaaaaaaaaaaaaa", 32));
	for (k = 0; k < (int)n; k++) {
		found = 0;
		for (i = 0; i < 2; i++)
			found |= atomic_load(&c[i].done) && c[i].ret == 8 &&
				 !memcmp(buf + old + 32 + 8 * k, c[i].buf, 8);
		EXPECT_TRUE(found) {
			TH_LOG("8 bytes after the frozen write's are not a whole write of 8 bytes that returned 8");
		}
	}
	if (n == 2) {
		EXPECT_NE(0, memcmp(buf + old + 32, buf + old + 40, 8));
	}
}

/** @brief How the tests that stop a woken call at the semaphore begin:
 *         SIGUSR1 caught with note_signal() (with SA_RESTART if @p
 *         restart), both ends open, the test pinned to one CPU
 *         (cpu_order.h). Fails the test when one of them cannot be done.
 * @param _metadata the test
 * @param restart nonzero: the handler has SA_RESTART
 * @param r where the read end goes
 * @param w where the write end goes
 * @param order the CPU order, pinned here
 */
static void one_cpu_and_both_ends(struct __test_metadata *_metadata,
				  int restart, int *r, int *w,
				  struct cpu_order *order)
{
	struct sigaction sa = {
		.sa_handler = note_signal, .sa_flags = restart ? SA_RESTART : 0,
	};

	ASSERT_LE(0, signal_note_fd());
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, open_both_ends(r, w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	ASSERT_EQ(0, cpu_order_pin(order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
}

/** @brief A read or write woken alone, whose wait for the semaphore a
 *         signal ends, passes its wake-up on to the next sleeper of its
 *         side.
 *
 * Two calls sleep: reads of the empty pipe, or writes of 8 bytes to a
 * full pipe of 65536 bytes. Everything runs on one CPU and the test is
 * real-time meanwhile (cpu_order.h): it writes 20 bytes (reads 8192),
 * which wakes one sleeper (with exclusive waits; both without), and
 * before a woken one can run, a call A of the same side takes the
 * semaphore and is frozen in its copy. A woken sleeper then runs into
 * the held semaphore and waits for it; the test finds it by its context
 * switches (a sleeper that was never woken has made none since it fell
 * asleep) and ends its wait with a signal: EINTR, nothing moved; with
 * SA_RESTART, the call starts again and waits for the semaphore again.
 * What A leaves behind (16 bytes; room for 8160) serves the sleepers:
 * once A is let go, the other read gets the 16 bytes (without
 * SA_RESTART), or one of the two reads does while the other sleeps on
 * (with it); every write but an interrupted one goes in. No further
 * call comes to help.
 *
 * @param _metadata the test
 * @param is_write nonzero for writes, zero for reads
 * @param restart nonzero: the handler has SA_RESTART
 */
static void woken_call_ended_at_the_semaphore(
	struct __test_metadata *_metadata, int is_write, int restart)
{
	static const char data[] = "0123456789abcdefghij";
	const char *call = is_write ? "write" : "read";
	struct fifo_call a = { 0 }, c[2] = { { 0 } };
	struct fifo_call *calls[2] = { &c[0], &c[1] };
	struct fifo_call *woken = NULL;
	unsigned long long before[2], after;
	static char big[65536];
	char got[2][64];
	struct cpu_order order;
	struct copy_stall cs;
	pthread_t at, threads[2];
	ssize_t moved, want;
	int i, r, w, frozen = -1, asleep = 1;
	char st;

	if (is_write) {
		ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
		ASSERT_EQ(0, module_load(MODULE, "pipe_size=65536"));
	}
	one_cpu_and_both_ends(_metadata, restart, &r, &w, &order);
	memset(big, 'f', sizeof(big));
	memset(got, 0, sizeof(got));
	if (is_write)
		ASSERT_EQ(65536, write(w, big, sizeof(big)));
	for (i = 0; i < 2; i++) {
		c[i] = (struct fifo_call){ .fd = is_write ? w : r,
					   .buf = got[i],
					   .count = sizeof(got[i]) - 1,
					   .is_write = is_write };
		if (is_write) {
			memset(got[i], i ? 'C' : 'B', 8);
			c[i].count = 8;
		}
		st = start_call(&threads[i], &c[i]);
		ASSERT_EQ('S', st) {
			TH_LOG("rules 7 and 10: a %s sleeps (state S); it %s",
			       is_write ? "write of 8 bytes to a full pipe" :
			       "read of the empty pipe",
			       not_waiting_for_the_semaphore(&c[i], st));
		}
		ASSERT_EQ(1, stuck_task_blocked(c[i].tid, &before[i]));
	}
	want = is_write ? 8192 : 20;
	ASSERT_EQ(0, cpu_order_hold(&order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/*
	 * A sleeper woken here cannot run until the test lets it: nothing
	 * between here and cpu_order_release() may end the test (RT
	 * throttling is off meanwhile).
	 */
	moved = is_write ? read(r, big, want) : write(w, data, want);
	if (moved == want)
		frozen = freeze_call(&cs, &a, &at, is_write ? w : r, is_write,
				     is_write ? 32 : 4, is_write ? 8 : 2,
				     is_write ? 'A' : 0);
	cpu_order_release(&order);
	ASSERT_EQ(want, moved) {
		TH_LOG("a %s of %zd bytes returned %zd",
		       is_write ? "read (of the full pipe)" :
		       "write (to the empty pipe)", want, moved);
	}
	ASSERT_EQ(1, frozen) {
		TH_LOG("the %s that should hold the semaphore was not frozen in its copy (it returned %zd): did a woken %s take the %s first, although it could not run?",
		       call, a.ret, call, is_write ? "room" : "bytes");
	}
	/* A woken sleeper runs now and waits for the semaphore A holds. */
	for (i = 0; i < 2; i++) {
		st = task_wait_asleep(c[i].tid, &c[i].done, WAIT_MS);
		if (st != 'S' || stuck_task_blocked(c[i].tid, &after) != 1) {
			EXPECT_EQ('S', st) {
				TH_LOG("rule 21: a %s woken by the %s while another %s holds the semaphore waits for it in state S; it %s",
				       call, is_write ? "read" : "write", call,
				       not_waiting_for_the_semaphore(&c[i], st));
			}
			asleep = 0;
			continue;
		}
		if (after != before[i] && !woken)
			woken = &c[i];
	}
	if (asleep) {
		EXPECT_NE(NULL, woken) {
			TH_LOG("rule %s: the %s of %zd bytes woke neither sleeping %s",
			       is_write ? "12" : "7",
			       is_write ? "read" : "write", want, call);
		}
	}
	if (woken)
		signal_the_woken_call(_metadata, woken, call, restart);
	ASSERT_EQ(0, copy_stall_release(&cs, is_write ? 'a' : 0));
	pthread_join(at, NULL);
	EXPECT_EQ(is_write ? 32 : 4, a.ret);
	if (!is_write) {
		EXPECT_EQ(0, memcmp(a.buf, data, 4));
	}
	if (woken)
		expect_the_rest_served(_metadata, c, woken, is_write, restart,
				       data + 4);
	if (is_write && woken)
		expect_the_writes_in(_metadata, r, c, big);
	calls_finish(calls, threads, 2);
	copy_stall_destroy(&cs);
	cpu_order_unpin(&order);
	close(w);
	close(r);
	if (is_write) {
		EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
		EXPECT_EQ(0, module_load(MODULE, ""));
	}
}

/* A read woken for bytes, whose wait for the semaphore a signal ends,
 * wakes the next reader, or with SA_RESTART starts again
 * (woken_call_ended_at_the_semaphore()). */
TEST_F_TIMEOUT(pipe, woken_read_ended_at_the_semaphore_wakes_the_next_reader,
	       60)
{
	woken_call_ended_at_the_semaphore(_metadata, 0, 0);
	woken_call_ended_at_the_semaphore(_metadata, 0, 1);
}

/* A write woken for room, whose wait for the semaphore a signal ends,
 * wakes the next writer, or with SA_RESTART starts again
 * (woken_call_ended_at_the_semaphore()). */
TEST_F_TIMEOUT(pipe, woken_write_ended_at_the_semaphore_wakes_the_next_writer,
	       90)
{
	woken_call_ended_at_the_semaphore(_metadata, 1, 0);
	woken_call_ended_at_the_semaphore(_metadata, 1, 1);
}

/** @brief A large write that has put bytes in and slept for room is
 *         woken, and a signal stops it at the semaphore another write
 *         holds.
 *
 * The pipe (4096 bytes) is empty. A write W of 8192 bytes puts 4096 in
 * and sleeps for room. Everything runs on one CPU and the test is
 * real-time meanwhile (cpu_order.h): it reads the 4096 bytes, which wakes
 * W, and before W can run a write A of 32 bytes takes the semaphore and
 * is frozen in its copy. W then waits for the semaphore; a signal ends
 * that wait, and W must return the 4096 bytes it had put in (rule 14),
 * with SA_RESTART too: a call that moved bytes returns their count, and
 * is never started again (which would write its first bytes twice).
 *
 * With @p next_writer, the pipe is loaded with pipe_size=65536 and holds
 * 61440 bytes, so that W again puts 4096 in; a write S of 8 bytes sleeps
 * after W, and the read takes 8192 bytes. W, woken alone (the first
 * sleeper; S too, without exclusive waits) and stopped, must pass its
 * wake-up on: once A is let go, room for 8160 bytes is left, and S must
 * go in with no further call (rules 12 and 21, "Pass it on").
 *
 * @param _metadata the test
 * @param restart nonzero: the handler has SA_RESTART
 * @param next_writer nonzero: a second writer sleeps behind W
 */
static void large_write_stopped_at_the_semaphore(
	struct __test_metadata *_metadata, int restart, int next_writer)
{
	struct fifo_call wr = { 0 }, sm = { 0 }, a = { 0 };
	struct fifo_call *calls[2] = { &wr, &sm };
	size_t size = next_writer ? 65536 : PIPE_SIZE;
	size_t taken = next_writer ? 2 * PIPE_SIZE : PIPE_SIZE;
	static char big[65536], got[65536];
	pthread_t at, threads[2];
	struct cpu_order order;
	struct copy_stall cs;
	int i, r, w, frozen = -1;
	ssize_t moved;
	char st;

	if (next_writer) {
		ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
		ASSERT_EQ(0, module_load(MODULE, "pipe_size=65536"));
	}
	one_cpu_and_both_ends(_metadata, restart, &r, &w, &order);
	memset(big, 'f', sizeof(big));
	if (next_writer)
		ASSERT_EQ(size - PIPE_SIZE, write(w, big, size - PIPE_SIZE));
	memset(big, 'L', 2 * PIPE_SIZE);
	wr = (struct fifo_call){ .fd = w, .buf = big, .count = 2 * PIPE_SIZE,
				 .is_write = 1 };
	sm = (struct fifo_call){ .fd = w, .buf = "SSSSSSSS", .count = 8,
				 .is_write = 1 };
	for (i = 0; i < 1 + next_writer; i++) {
		st = start_call(&threads[i], calls[i]);
		ASSERT_EQ('S', st) {
			TH_LOG("rules 10 and 11: %s; it %s",
			       i ? "a write of 8 bytes to the full pipe sleeps" :
			       "a write of 8192 bytes with room for 4096 puts 4096 in and sleeps for room",
			       call_state(calls[i], st));
		}
	}
	ASSERT_EQ(0, cpu_order_hold(&order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/*
	 * W, woken here, cannot run until the test lets it: nothing between
	 * here and cpu_order_release() may end the test (RT throttling is off
	 * meanwhile).
	 */
	moved = read(r, got, taken);
	if (moved == (ssize_t)taken)
		frozen = freeze_call(&cs, &a, &at, w, 1, 32, 8, 'A');
	cpu_order_release(&order);
	ASSERT_EQ(taken, moved) {
		TH_LOG("rule 11: the large write should have put %d bytes in before it slept; a read of %zu bytes got %zd",
		       PIPE_SIZE, taken, moved);
	}
	ASSERT_EQ(1, frozen) {
		TH_LOG("the write of 32 bytes that should hold the semaphore was not frozen in its copy (it returned %zd): did the woken large write take the room first, although it could not run?",
		       a.ret);
	}
	st = task_wait_asleep(wr.tid, &wr.done, WAIT_MS);
	EXPECT_EQ('S', st) {
		TH_LOG("rule 21: the large write, woken for room while another write holds the semaphore, waits for it in state S; it %s",
		       not_waiting_for_the_semaphore(&wr, st));
	}
	if (st == 'S') {
		syscall(SYS_tgkill, getpid(), wr.tid, SIGUSR1);
		EXPECT_TRUE(await_byte(signal_note_fd(), WAIT_MS)) {
			TH_LOG("the signal handler did not run");
		}
		EXPECT_EQ(1, calls_end(calls, 1)) {
			TH_LOG("rule 14: a signal that stops a large write at the semaphore, after it had put %d bytes in, ends the write with their count%s; it sleeps on (started again from its first byte?)",
			       PIPE_SIZE, restart ? ", also with SA_RESTART" : "");
		}
		if (atomic_load(&wr.done)) {
			EXPECT_EQ(PIPE_SIZE, wr.ret) {
				TH_LOG("rule 14: a large write that had put %d bytes in, stopped by a signal at the semaphore, returns %d; it returned %zd (%s)",
				       PIPE_SIZE, PIPE_SIZE, wr.ret,
				       wr.ret < 0 ? strerror(wr.err) : "no error");
			}
		}
	}
	ASSERT_EQ(0, copy_stall_release(&cs, 'a'));
	pthread_join(at, NULL);
	EXPECT_EQ(32, a.ret);
	if (next_writer) {
		EXPECT_EQ(1, calls_end(calls + 1, 1)) {
			TH_LOG("room for 8160 bytes was left for the write of 8 bytes, and it sleeps on: the large write woken alone and stopped by a signal did not pass its wake-up on? " PASS_IT_ON_RULE);
		}
	}
	calls_finish(calls, threads, 1 + next_writer);
	if (next_writer) {
		EXPECT_EQ(8, sm.ret);
	}
	set_nonblock(r, 1);
	moved = read(r, got, sizeof(got));
	EXPECT_EQ(size - taken + 32 + (next_writer && sm.ret == 8 ? 8 : 0),
		  moved) {
		TH_LOG("the pipe should hold what the read left, the 32 bytes of the frozen write%s and nothing more of the interrupted one; it holds %zd",
		       next_writer ? ", the 8 of the last write" : "", moved);
	}
	copy_stall_destroy(&cs);
	cpu_order_unpin(&order);
	close(w);
	close(r);
	if (next_writer) {
		EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
		EXPECT_EQ(0, module_load(MODULE, ""));
	}
}

/* A large write woken for room and stopped by a signal at the semaphore
 * returns the count it had put in, with or without SA_RESTART
 * (large_write_stopped_at_the_semaphore()). */
TEST_F_TIMEOUT(pipe, woken_large_write_stopped_at_the_semaphore_keeps_its_count,
	       60)
{
	large_write_stopped_at_the_semaphore(_metadata, 0, 0);
	large_write_stopped_at_the_semaphore(_metadata, 1, 0);
}

static size_t live_view_used(struct __test_metadata *_metadata);

/** @brief The rest of a large write in large_write_woken_into_less_room(). */
#define WOKEN_REST 1000

/** @brief The small write that takes room from the woken large write in
 *         large_write_woken_into_less_room(). */
#define ROOM_TAKER 3500

/** @brief Rules 11 and 12 after a wake-up: a large write woken for room
 *         that finds less room than it has bytes left puts in what fits.
 *
 * Through the empty pipe, a write W of PIPE_SIZE + WOKEN_REST bytes puts
 * PIPE_SIZE in and sleeps. Everything runs on one CPU and the test is
 * real-time meanwhile (cpu_order.h): a read of PIPE_SIZE bytes wakes W,
 * and before W can run a write of ROOM_TAKER bytes with O_NONBLOCK,
 * through a descriptor of its own, takes the semaphore and is frozen in
 * its copy. W, past its wait for room (the ring is still empty), waits
 * for the semaphore; once the frozen write is in, W finds room for 596
 * bytes of its 1000: it must put them in and sleep again (the live view
 * shows the pipe full), not wait for room for all it has left (only a
 * write of at most PIPE_BUF bytes in all goes in whole); the next read
 * lets it put in its last 404 and return. Every byte is checked: W's
 * first PIPE_SIZE, the small write's, then W's last 1000.
 *
 * @param _metadata the test
 * @param r the read end, with O_NONBLOCK
 * @param w the write end, without
 */
static void large_write_woken_into_less_room(struct __test_metadata *_metadata,
					     int r, int w)
{
	static char big[PIPE_SIZE + WOKEN_REST], small[ROOM_TAKER];
	static char want[sizeof(big) + sizeof(small)], got[sizeof(want) + 1];
	struct fifo_call wr = { 0 }, a = { 0 }, *calls[1] = { &wr };
	size_t i, total, used, fits = PIPE_SIZE - ROOM_TAKER;
	ssize_t first, n;
	struct cpu_order order;
	struct copy_stall cs;
	pthread_t t, at;
	int w2, frozen = -1;
	char st;

	/* Two patterns, so that each byte tells whose and which it is; the
	 * small write's first 8 bytes are its frozen copy's head. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 23);
	memset(small, '#', 8);
	for (i = 8; i < sizeof(small); i++)
		small[i] = (char)('A' + i % 19);
	memcpy(want, big, PIPE_SIZE);
	memcpy(want + PIPE_SIZE, small, sizeof(small));
	memcpy(want + PIPE_SIZE + sizeof(small), big + PIPE_SIZE, WOKEN_REST);
	while (read(r, got, sizeof(got)) > 0)
		;
	w2 = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, w2) {
		TH_LOG("rule 4: an open of the write end with O_NONBLOCK while a reader is there succeeds; it failed: %s",
		       strerror(errno));
	}
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	wr = (struct fifo_call){ .fd = w, .buf = big, .count = sizeof(big),
				 .is_write = 1 };
	st = start_call(&t, &wr);
	ASSERT_EQ('S', st) {
		TH_LOG("rule 11: a write of %zu bytes into the empty pipe of %d puts %d in and sleeps for the rest; it %s",
		       sizeof(big), PIPE_SIZE, PIPE_SIZE, call_state(&wr, st));
	}
	ASSERT_EQ(0, cpu_order_hold(&order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/*
	 * W, woken by the read, cannot run until the release: nothing
	 * between here and cpu_order_release() may end the test.
	 */
	first = read(r, got, PIPE_SIZE);
	if (first == PIPE_SIZE)
		frozen = freeze_call(&cs, &a, &at, w2, 1, sizeof(small), 8,
				     '#');
	cpu_order_release(&order);
	ASSERT_EQ(PIPE_SIZE, first) {
		TH_LOG("rule 11: the large write should have put %d bytes in before it slept; a read of %d got %zd",
		       PIPE_SIZE, PIPE_SIZE, first);
	}
	ASSERT_EQ(1, frozen) {
		TH_LOG("the write of %d bytes that should hold the semaphore was not frozen in its copy (it returned %zd): did the woken large write take the room first, although it could not run?",
		       ROOM_TAKER, a.ret);
	}
	st = task_wait_asleep(wr.tid, &wr.done, WAIT_MS);
	EXPECT_EQ('S', st) {
		TH_LOG("rules 12 and 21: the large write, woken with room for %d bytes while another write holds the semaphore, waits for it in state S; it %s",
		       PIPE_SIZE, call_state(&wr, st));
	}
	if (!copy_stall_release_data(&cs, small + 8, sizeof(small) - 8))
		pthread_join(at, NULL);
	copy_stall_destroy(&cs);
	EXPECT_EQ(ROOM_TAKER, a.ret) {
		TH_LOG("rule 10: into the empty pipe, a write of %d bytes with O_NONBLOCK goes in whole; it returned %zd (%s)",
		       ROOM_TAKER, a.ret, a.ret < 0 ? strerror(a.err) : "no error");
	}
	st = task_wait_asleep(wr.tid, &wr.done, WAIT_MS);
	EXPECT_EQ('S', st) {
		TH_LOG("rule 11: the large write, with %d bytes left and room for %zu once it had the semaphore, puts those in and sleeps for room again; it %s",
		       WOKEN_REST, fits, call_state(&wr, st));
	}
	used = live_view_used(_metadata);
	EXPECT_EQ(PIPE_SIZE, used) {
		TH_LOG("rules 11 and 12: a large write woken for room with %d bytes left, which found room for %zu once it had the semaphore (a write of %d took the rest first), puts in what fits and sleeps for the rest: the pipe should be full, used %d; the live view shows used %zu%s. Once woken, a large write puts in what fits, also when it has PIPE_BUF bytes or fewer left: only a write of at most PIPE_BUF bytes in all goes in whole",
		       WOKEN_REST, fits, ROOM_TAKER, PIPE_SIZE, used,
		       used == ROOM_TAKER ? ": nothing of the large write went in (it waits for room for all it has left?)" : "");
	}
	total = first;
	n = read(r, got + total, sizeof(got) - total);
	total += n > 0 ? n : 0;
	EXPECT_EQ(1, calls_end(calls, 1)) {
		TH_LOG("rule 12: a read made room for %d bytes and the large write asleep for room sleeps on",
		       PIPE_SIZE);
	}
	while ((n = read(r, got + total, sizeof(got) - total)) > 0)
		total += n;
	if (atomic_load(&wr.done)) {
		EXPECT_EQ((ssize_t)sizeof(big), wr.ret) {
			TH_LOG("rule 11: a large write returns when all is in: %zu; it returned %zd (%s)",
			       sizeof(big), wr.ret,
			       wr.ret < 0 ? strerror(wr.err) : "no error");
		}
	}
	for (i = 0; i < total && i < sizeof(want) && got[i] == want[i]; i++)
		;
	EXPECT_TRUE(total == sizeof(want) && i == total) {
		TH_LOG("rules 6 and 11: the reads should give, in order, the large write's first %d bytes, the %d of the small write, then the large write's last %d (%zu bytes); they gave %zu, the same up to byte %zu",
		       PIPE_SIZE, ROOM_TAKER, WOKEN_REST, sizeof(want), total,
		       i);
	}
	calls_finish(calls, &t, 1);
	cpu_order_unpin(&order);
	close(w2);
}

/* Rule 11: a large write puts in what fits first, with O_NONBLOCK (and
 * returns that count) and without (and then sleeps for the rest). With
 * 10 bytes in the pipe of 4096, a write of 5000 puts 4086 in at once:
 * it does not wait for PIPE_BUF bytes of room, which only a small write
 * needs (rule 10), and a sleeping writer before it goes on (rule 12).
 * Woken, it puts in what fits again, also when another write took part
 * of the room first (large_write_woken_into_less_room()). */
TEST_F_TIMEOUT(pipe, large_write_puts_in_what_fits_before_it_sleeps, 60)
{
	static char big[5000], got[2 * PIPE_SIZE];
	struct fifo_call wr = { 0 }, *calls[1] = { &wr };
	pthread_t threads[1];
	ssize_t n, moved;
	int r, w;
	char st;

	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	set_nonblock(r, 1);
	memset(big, 'a', sizeof(big));
	ASSERT_EQ(10, write(w, "0123456789", 10));
	set_nonblock(w, 1);
	n = write(w, big, sizeof(big));
	EXPECT_EQ(PIPE_SIZE - 10, n) {
		TH_LOG("rule 11: with O_NONBLOCK, a write of %zu bytes with room for %d puts in what fits and returns that count; it returned %zd (%s)",
		       sizeof(big), PIPE_SIZE - 10, n,
		       n < 0 ? strerror(errno) : "no error");
	}
	moved = read(r, got, sizeof(got));
	EXPECT_EQ(10 + (n > 0 ? n : 0), moved) {
		TH_LOG("the pipe should hold the 10 bytes written first and the %zd the write reported; it holds %zd",
		       n > 0 ? n : 0, moved);
	}
	set_nonblock(w, 0);
	ASSERT_EQ(10, write(w, "0123456789", 10));
	memset(big, 'b', sizeof(big));
	wr = (struct fifo_call){ .fd = w, .buf = big, .count = sizeof(big),
				 .is_write = 1 };
	st = start_call(&threads[0], &wr);
	EXPECT_EQ('S', st) {
		TH_LOG("rule 11: a write of %zu bytes with room for %d puts that in and sleeps for the rest; it %s",
		       sizeof(big), PIPE_SIZE - 10, call_state(&wr, st));
	}
	n = read(r, got, sizeof(got));
	EXPECT_EQ(PIPE_SIZE, n) {
		TH_LOG("rule 11: a large write puts in what fits before it sleeps for room: with 10 bytes in the pipe of %d, the sleeping write of %zu should have put %d in; the pipe holds %zd",
		       PIPE_SIZE, sizeof(big), PIPE_SIZE - 10, n);
	}
	if (n == PIPE_SIZE) {
		EXPECT_EQ(0, memcmp(got, "0123456789", 10));
		EXPECT_EQ('b', got[PIPE_SIZE - 1]);
		/* The room made wakes the writer for its last 914 bytes. */
		EXPECT_EQ(1, calls_end(calls, 1)) {
			TH_LOG("rule 12: a read made room for %d bytes and the large write asleep for room sleeps on",
			       PIPE_SIZE);
		}
		if (atomic_load(&wr.done)) {
			EXPECT_EQ((ssize_t)sizeof(big), wr.ret);
			EXPECT_EQ((ssize_t)sizeof(big) - (PIPE_SIZE - 10),
				  read(r, got, sizeof(got)));
		}
	}
	calls_finish(calls, threads, 1);
	large_write_woken_into_less_room(_metadata, r, w);
	close(w);
	close(r);
}

/** @brief What the write that takes the room leaves free in
 *         woken_small_write_sleeps_on_below_pipe_buf_of_room: enough for
 *         the woken write, less than PIPE_BUF. */
#define ROOM_LEFT 96

/* Rule 12 after a wake-up: a writer asleep for room, whatever its size,
 * goes on once the room reaches PIPE_BUF bytes, and not before. A write
 * W of 8 bytes sleeps on the full pipe. Everything runs on one CPU and
 * the test is real-time meanwhile (cpu_order.h): a read empties the pipe,
 * which wakes W, and before W can run a write through a descriptor of
 * its own takes all but ROOM_LEFT bytes of the room. W, running, finds
 * room for its 8 bytes but not for PIPE_BUF: it must sleep on, and go
 * in only after the next read makes room for PIPE_BUF bytes. */
TEST_F_TIMEOUT(pipe, woken_small_write_sleeps_on_below_pipe_buf_of_room, 60)
{
	static char full[PIPE_SIZE], taker[PIPE_SIZE - ROOM_LEFT];
	static char small[] = "12345678", got[2 * PIPE_SIZE];
	struct fifo_call wr = { 0 }, *calls[1] = { &wr };
	unsigned long long before = 0, after = 0;
	struct cpu_order order;
	ssize_t took, put, n;
	int r, w, w2, ended;
	pthread_t t;
	char st;

	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	set_nonblock(r, 1);
	w2 = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, w2) {
		TH_LOG("rule 4: an open of the write end with O_NONBLOCK while a reader is there succeeds; it failed: %s",
		       strerror(errno));
	}
	memset(full, 'f', sizeof(full));
	memset(taker, 't', sizeof(taker));
	ASSERT_EQ(PIPE_SIZE, write(w2, full, sizeof(full)));
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	wr = (struct fifo_call){ .fd = w, .buf = small, .count = 8,
				 .is_write = 1 };
	st = start_call(&t, &wr);
	ASSERT_EQ('S', st) {
		TH_LOG("rule 10: a write of 8 bytes into the full pipe sleeps; it %s",
		       call_state(&wr, st));
	}
	ASSERT_EQ(1, stuck_task_blocked(wr.tid, &before));
	ASSERT_EQ(0, cpu_order_hold(&order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/* W, woken by the read, cannot run until the release. */
	took = read(r, got, PIPE_SIZE);
	put = took == PIPE_SIZE ? write(w2, taker, sizeof(taker)) : -1;
	cpu_order_release(&order);
	ASSERT_EQ(PIPE_SIZE, took);
	ASSERT_EQ((ssize_t)sizeof(taker), put) {
		TH_LOG("rule 10: a write of %zu bytes with O_NONBLOCK into the empty pipe goes in whole; it returned %zd (%s)",
		       sizeof(taker), put, put < 0 ? strerror(errno) : "");
	}
	st = task_wait_asleep(wr.tid, &wr.done, WAIT_MS);
	EXPECT_EQ('S', st) {
		TH_LOG("rule 12: a write of 8 bytes asleep for room, woken when the pipe was emptied and finding room for only %d bytes once it ran (another write took the rest first), sleeps on until there is room for PIPE_BUF (%d) bytes, whatever its size; it %s. Does a woken writer wait for room for its own bytes instead of for PIPE_BUF?",
		       ROOM_LEFT, PIPE_BUF, call_state(&wr, st));
	}
	if (st == 'S' && stuck_task_blocked(wr.tid, &after) == 1) {
		EXPECT_NE(before, after) {
			TH_LOG("rule 12: the read that emptied the pipe should have woken the write of 8 bytes asleep for room (its voluntary context switches did not change)");
		}
	}
	n = read(r, got, sizeof(got));
	if (st == 'S') {
		EXPECT_EQ((ssize_t)sizeof(taker), n) {
			TH_LOG("the pipe should hold the %zu bytes of the write that took the room, and nothing of the sleeping one",
			       sizeof(taker));
		}
	}
	ended = calls_end(calls, 1);
	EXPECT_EQ(1, ended) {
		TH_LOG("rule 12: a read made room for %d bytes and the write of 8 bytes asleep for room sleeps on",
		       PIPE_SIZE);
	}
	if (st == 'S' && atomic_load(&wr.done)) {
		EXPECT_EQ(8, wr.ret);
		n = read(r, got, sizeof(got));
		EXPECT_TRUE(n == 8 && !memcmp(got, small, 8)) {
			TH_LOG("rules 6 and 10: the 8 bytes of the write should come next, whole; the read returned %zd",
			       n);
		}
	}
	calls_finish(calls, &t, 1);
	cpu_order_unpin(&order);
	close(w2);
	close(w);
	close(r);
}

/* Rule 9: a read or write of 0 bytes returns 0 at once, whoever holds the
 * semaphore: it never waits for it. A write of 32 bytes is frozen in its
 * copy, holding the semaphore; a read and a write of 0 bytes, each in a
 * thread, must return 0 without sleeping. */
TEST_F_TIMEOUT(pipe, zero_byte_calls_do_not_wait_for_the_semaphore, 60)
{
	struct fifo_call a = { 0 }, z[2] = { { 0 } };
	struct fifo_call *calls[2] = { &z[0], &z[1] };
	struct copy_stall cs;
	pthread_t at, threads[2];
	char buf[8] = "", got[64] = "";
	int r, w, i;
	char st;

	ASSERT_EQ(0, sigusr1_interrupts());
	ASSERT_EQ(0, freeze_a_write(_metadata, &cs, &a, &at, &r, &w));
	for (i = 0; i < 2; i++) {
		z[i] = (struct fifo_call){ .fd = i ? w : r, .buf = buf,
					   .count = 0, .is_write = i };
		st = start_call(&threads[i], &z[i]);
		EXPECT_EQ('X', st) {
			TH_LOG("rule 9: a %s of 0 bytes returns 0 at once, also while another call holds the semaphore (test the count before taking it); it %s",
			       i ? "write" : "read", call_state(&z[i], st));
		}
		if (st == 'X') {
			EXPECT_EQ(0, z[i].ret);
		}
	}
	EXPECT_EQ(32, thaw_the_write(&cs, at, &a));
	calls_finish(calls, threads, 2);
	EXPECT_EQ(32, read(r, got, sizeof(got) - 1));
	close(w);
	close(r);
}

/* A buffer that runs into an unmapped page after 5 bytes: the call
 * reports exactly what moved, and nothing else changes. mypipe moves the
 * 5 bytes and returns 5; a named pipe, which copies a page at a time,
 * answers EFAULT and moves nothing: either is right, a count of bytes
 * that did not move (or moved without being counted) is not. */
TEST_F_TIMEOUT(pipe, faults_part_way_move_exactly_what_they_report, 30)
{
	char *page, *p, got[32] = "";
	ssize_t n;
	int r, w;

	page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, munmap(page + 4096, 4096));
	p = page + 4096 - 5;
	memcpy(p, "abcde", 5);
	r = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, r);
	w = open(PIPE_IN, O_WRONLY);
	ASSERT_LE(0, w);

	errno = 0;
	n = write(w, p, 10);
	EXPECT_TRUE(n == 5 || (n == -1 && errno == EFAULT)) {
		TH_LOG("rule: a write from a buffer that faults after 5 bytes returns 5, or EFAULT; it returned %zd (%s)",
		       n, n < 0 ? strerror(errno) : "ok");
	}
	memset(got, 0, sizeof(got));
	errno = 0;
	EXPECT_EQ(n == 5 ? 5 : -1, read(r, got, sizeof(got))) {
		TH_LOG("rule: the pipe holds exactly the bytes the write reported (%zd); it holds others",
		       n);
	}
	if (n == 5) {
		EXPECT_STREQ("abcde", got);
	} else {
		EXPECT_EQ(EAGAIN, errno);
	}

	ASSERT_EQ(10, write(w, "0123456789", 10));
	memset(p, '.', 5);
	errno = 0;
	n = read(r, p, 10);
	EXPECT_TRUE(n == 5 || (n == -1 && errno == EFAULT)) {
		TH_LOG("rule: a read into a buffer that faults after 5 bytes returns 5, or EFAULT; it returned %zd (%s)",
		       n, n < 0 ? strerror(errno) : "ok");
	}
	memset(got, 0, sizeof(got));
	if (n == 5) {
		EXPECT_EQ(0, memcmp(p, "01234", 5));
		EXPECT_EQ(5, read(r, got, sizeof(got)));
		EXPECT_STREQ("56789", got) {
			TH_LOG("rule: a read that faults part way takes exactly the bytes it reports");
		}
	} else {
		EXPECT_EQ(10, read(r, got, sizeof(got)));
		EXPECT_STREQ("0123456789", got) {
			TH_LOG("rule: a read that answers EFAULT takes nothing");
		}
	}
	close(w);
	close(r);
	munmap(page, 4096);
}

/* Rule 7: every write that puts bytes into the empty pipe wakes a
 * sleeping reader, also one that stops at an unmapped page after 5 bytes
 * and returns 5 (rule 20). A named pipe answers such a write with EFAULT
 * and moves nothing; then the reader sleeps on, which is right too. */
TEST_F_TIMEOUT(pipe, a_write_that_faults_part_way_wakes_the_reader, 30)
{
	struct fifo_call rd = { 0 }, *calls[1] = { &rd };
	char *page, *p, got[32] = "";
	pthread_t threads[1];
	ssize_t n;
	int r, w;
	char st;

	page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	ASSERT_EQ(0, munmap(page + 4096, 4096));
	p = page + 4096 - 5;
	memcpy(p, "abcde", 5);
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	rd = (struct fifo_call){ .fd = r, .buf = got, .count = sizeof(got) - 1 };
	st = start_call(&threads[0], &rd);
	ASSERT_EQ('S', st) {
		TH_LOG("rule 7: a read of the empty pipe sleeps; it %s",
		       call_state(&rd, st));
	}
	errno = 0;
	n = write(w, p, 10);
	EXPECT_TRUE(n == 5 || (n == -1 && errno == EFAULT)) {
		TH_LOG("rule 20: a write from a buffer that faults after 5 bytes returns 5, or EFAULT; it returned %zd (%s)",
		       n, n < 0 ? strerror(errno) : "ok");
	}
	if (n == 5) {
		EXPECT_EQ(1, calls_end(calls, 1)) {
			TH_LOG("rule 7: a write put 5 bytes into the empty pipe (and then faulted) and the sleeping reader was not woken: every write that puts bytes into an empty pipe wakes a reader, also one that ends with a fault");
		}
		if (atomic_load(&rd.done)) {
			EXPECT_EQ(5, rd.ret);
			EXPECT_STREQ("abcde", got);
		}
	}
	calls_finish(calls, threads, 1);
	close(w);
	close(r);
	munmap(page, 4096);
}

/* Rule 10: a write of PIPE_BUF + 1 bytes is a large write, whatever
 * pipe_size is: with pipe_size=65536 and room for 4096 bytes, writes of
 * 4097 and of 65536 bytes with O_NONBLOCK put 4096 in and return 4096
 * (rule 11); only writes of at most PIPE_BUF bytes go in whole or not at
 * all. */
TEST_F_TIMEOUT(pipe, large_writes_start_past_pipe_buf_whatever_the_size, 60)
{
	static char big[65536], got[65536];
	static const size_t sizes[] = { PIPE_BUF + 1, sizeof(big) };
	unsigned int i;
	ssize_t n;
	int r, w;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, "pipe_size=65536"));
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	set_nonblock(r, 1);
	set_nonblock(w, 1);
	memset(big, 'x', sizeof(big));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ASSERT_EQ(65536 - PIPE_BUF, write(w, big, 65536 - PIPE_BUF));
		n = write(w, big, sizes[i]);
		EXPECT_EQ(PIPE_BUF, n) {
			TH_LOG("rule 10: with pipe_size=65536 and room for %d bytes, an O_NONBLOCK write of %zu bytes (more than PIPE_BUF: a large write) puts %d in and returns that; it returned %zd (%s)",
			       PIPE_BUF, sizes[i], PIPE_BUF, n,
			       n < 0 ? strerror(errno) : "no error");
		}
		EXPECT_EQ(65536 - PIPE_BUF + (n > 0 ? n : 0),
			  read(r, got, sizeof(got)));
	}
	close(w);
	close(r);
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief The test of a_read_that_faults_wakes_the_next_reader and
 *         a_write_that_faults_wakes_the_next_writer: two calls of one kind
 *         asleep (reads on the empty pipe, writes of 8 bytes on the full
 *         one), the first with an unmapped buffer; a call of the other
 *         kind wakes the first (the first asleep, with exclusive waits),
 *         which fails with EFAULT and moves nothing; the second must then
 *         go through with no further call, as on a named pipe.
 * @param _metadata the test
 * @param is_write nonzero for the writes
 */
static void faulting_call_wakes_the_next(struct __test_metadata *_metadata,
					 int is_write)
{
	static const char data[] = "0123456789abcdefghij";
	struct fifo_call c[2] = { { 0 } }, *calls[1] = { &c[1] };
	struct fifo_call *all[2] = { &c[0], &c[1] };
	const char *rule = is_write ? "rule 12" : "rule 7";
	const size_t count = is_write ? 8 : 20;
	char buf[32] = "", got[32] = "", *bad;
	static char full[PIPE_SIZE];
	pthread_t threads[2];
	int i, r, w;
	char st;

	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	if (is_write) {
		memcpy(buf, data, count);
		memset(full, 'x', sizeof(full));
		ASSERT_EQ(PIPE_SIZE, write(w, full, sizeof(full)));
	}
	for (i = 0; i < 2; i++) {
		c[i] = (struct fifo_call){
			.fd = is_write ? w : r, .buf = i ? buf : bad,
			.count = is_write ? count : sizeof(buf) - 1,
			.is_write = is_write,
		};
		st = start_call(&threads[i], &c[i]);
		ASSERT_EQ('S', st) {
			TH_LOG("%s: a %s sleeps; it %s", rule,
			       is_write ? "write of 8 bytes to the full pipe" :
			       "read of the empty pipe", call_state(&c[i], st));
		}
	}
	/* The call of the other kind that wakes the first sleeper. */
	if (is_write) {
		ASSERT_EQ(PIPE_SIZE, read(r, full, sizeof(full)));
	} else {
		ASSERT_EQ((ssize_t)count, write(w, data, count));
	}
	EXPECT_EQ(1, calls_end(calls, 1)) {
		TH_LOG("%s: %s and a %s sleeps on: the %s woken for %s, whose buffer is unmapped, failed (EFAULT) without waking the next %s? %s",
		       rule, is_write ? "the pipe is empty" :
		       "20 bytes are in the pipe",
		       is_write ? "write of 8 bytes" : "read",
		       is_write ? "write" : "read",
		       is_write ? "the room" : "them",
		       is_write ? "writer" : "reader",
		       atomic_load(&c[0].done) ? "it has returned" :
		       "it sleeps on too");
	}
	if (atomic_load(&c[1].done)) {
		EXPECT_EQ((ssize_t)count, c[1].ret);
		if (is_write && c[1].ret == (ssize_t)count) {
			EXPECT_EQ((ssize_t)count, read(r, got, sizeof(got)));
		}
		EXPECT_EQ(0, memcmp(is_write ? got : buf, data, count));
	}
	if (atomic_load(&c[0].done)) {
		EXPECT_EQ(-1, c[0].ret);
		EXPECT_EQ(EFAULT, c[0].err);
	}
	calls_finish(all, threads, 2);
	close(w);
	close(r);
	munmap(bad, 4096);
}

/* Rule 7: a reader woken for bytes that leaves without them wakes the
 * next one, also when its copy fails (EFAULT). Two reads sleep on the
 * empty pipe, the first into an unmapped buffer; a write of 20 bytes
 * wakes it (the first asleep, with exclusive waits), it fails with EFAULT
 * and takes nothing, and the second read must get the 20 bytes with no
 * further write. */
TEST_F_TIMEOUT(pipe, a_read_that_faults_wakes_the_next_reader, 60)
{
	faulting_call_wakes_the_next(_metadata, 0);
}

/* Rule 12: a writer woken for room that leaves without it wakes the next
 * one, also when its copy fails (EFAULT), as on a named pipe. The pipe is
 * full; two writes of 8 bytes sleep for room, the first from an unmapped
 * buffer; a read of everything wakes it, it fails with EFAULT and adds
 * nothing, and the second write must go in with no further read: the
 * room the first left is there. */
TEST_F_TIMEOUT(pipe, a_write_that_faults_wakes_the_next_writer, 60)
{
	faulting_call_wakes_the_next(_metadata, 1);
}

/* Rule 21: release waits for the semaphore uninterruptibly, and always
 * counts its file out. A write frozen in its copy holds the semaphore; a
 * second reader's close() waits for it, and gets a signal meanwhile.
 * Once the write is through, the close has counted its reader out: after
 * the last reader's close, a write gets EPIPE. */
TEST_F_TIMEOUT(pipe, a_close_waiting_for_the_semaphore_still_counts_out, 60)
{
	struct fifo_call a = { 0 }, cl = { 0 };
	struct copy_stall cs;
	pthread_t at, ct;
	int r, w, r2;
	char st;

	ASSERT_EQ(0, sigusr1_interrupts());
	signal(SIGPIPE, SIG_IGN);
	r2 = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, r2);
	ASSERT_EQ(0, freeze_a_write(_metadata, &cs, &a, &at, &r, &w));
	cl.fd = r2;
	ASSERT_EQ(0, pthread_create(&ct, NULL, close_call_main, &cl));
	while (!cl.tid && !atomic_load(&cl.done))
		sched_yield();
	st = task_wait_asleep(cl.tid, &cl.done, WAIT_MS);
	EXPECT_TRUE(st == 'D' || st == 'S') {
		TH_LOG("rule 21: a close waits for the semaphore a frozen write holds; it %s",
		       st == 'X' ? "returned at once" : "never slept");
	}
	syscall(SYS_tgkill, getpid(), cl.tid, SIGUSR1);
	/*
	 * The signal made an interruptible wait runnable at once: wait until
	 * the close has returned, or is seen asleep again, before the write
	 * lets the semaphore go (its up() would hand it over first).
	 */
	st = task_wait_asleep(cl.tid, &cl.done, WAIT_MS);
	EXPECT_NE('X', st) {
		TH_LOG("rule 21: release waits for the semaphore uninterruptibly (down()): a signal ended a close's wait while a frozen write held the semaphore");
	}
	EXPECT_EQ(32, thaw_the_write(&cs, at, &a));
	pthread_join(ct, NULL);
	expect_no_reader_left(_metadata, r, w,
			      "rule 21: release takes the semaphore uninterruptibly (down()) and always counts its file out; after a close that a signal hit while it waited, and the last reader's close, a write still found a reader");
	/* A reader counted for good would change every later test. */
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief How many times data_path_does_not_log makes each kind of call. */
#define QUIET_CALLS 16

/** @brief Count a call of data_path_does_not_log that did not return
 *         what the rules say. Only noted: that test counts log lines,
 *         and the tests of rules 6 to 20 own the results.
 *
 * Call it directly on the call's result, so that errno is the call's.
 *
 * @param off the count, incremented when the call went otherwise
 * @param ret what the call returned
 * @param want what it should return
 * @param want_err the errno it should leave when @p want is -1
 */
static void quiet_call(int *off, ssize_t ret, ssize_t want, int want_err)
{
	int err = errno;

	if (ret != want || (want < 0 && err != want_err))
		(*off)++;
}

/** @brief Read every kernel log record that came since the last call
 *         through @p kmsg, and count the module's.
 * @param _metadata the test, to show the first ones of a data path
 * @param kmsg /dev/kmsg, opened O_NONBLOCK
 * @param shown how many have been shown so far, at most 3 in all
 * @param when what the calls were, for the log; NULL: not shown
 * @return the module's records
 */
static int module_records(struct __test_metadata *_metadata, int kmsg,
			  int *shown, const char *when)
{
	char rec[1024];
	int lines = 0;
	ssize_t n;

	/* One record per read(); EAGAIN once none is left. */
	while ((n = read(kmsg, rec, sizeof(rec) - 1)) > 0) {
		rec[n] = '\0';
		if (!strstr(rec, MODULE ":"))
			continue;
		lines++;
		if (when && (*shown)++ < 3)
			TH_LOG("logged by %s: %.100s", when,
			       strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
	}
	return lines;
}

/** @brief Start the call @p c of data_path_does_not_log in thread @p t
 *         and wait until it sleeps; count it in @p off when it does not.
 * @param _metadata the test
 * @param off the count of quiet_call()
 * @param t the thread
 * @param c the call
 */
static void quiet_sleeper(struct __test_metadata *_metadata, int *off,
			  pthread_t *t, struct fifo_call *c)
{
	char st = start_call(t, c);

	ASSERT_NE('?', st) {
		TH_LOG("cannot start a thread: %s", strerror(errno));
	}
	if (st != 'S')
		(*off)++;
}

/** @brief Wait until the call @p c of data_path_does_not_log, made in
 *         thread @p t, returns (SIGUSR1 ends it if it sleeps on), and
 *         count it in @p off when it did not return what the rules say.
 * @param off the count of quiet_call()
 * @param t the thread, joined here
 * @param c the call
 * @param want what it should return
 * @param want_err the errno it should leave when @p want is -1
 */
static void quiet_sleeper_ends(int *off, pthread_t t, struct fifo_call *c,
			       ssize_t want, int want_err)
{
	if (!calls_end(&c, 1))
		(*off)++;
	calls_finish(&c, &t, 1);
	errno = c->err;
	quiet_call(off, c->ret, want, want_err);
}

/** @brief Make the call @p c of data_path_does_not_log in a thread, wait
 *         until it sleeps, and end its sleep with SIGUSR1 (whose handler
 *         the caller installed); count it in @p off when it went
 *         otherwise than the rules say.
 * @param _metadata the test
 * @param off the count of quiet_call()
 * @param c the call
 * @param want what it should return
 * @param want_err the errno it should leave when @p want is -1
 */
static void quiet_interrupted(struct __test_metadata *_metadata, int *off,
			      struct fifo_call *c, ssize_t want, int want_err)
{
	pthread_t t;

	quiet_sleeper(_metadata, off, &t, c);
	syscall(SYS_tgkill, getpid(), c->tid, SIGUSR1);
	quiet_sleeper_ends(off, t, c, want, want_err);
}

/** @brief In data_path_does_not_log, a call woken, then stopped by a
 *         signal at the semaphore: a read of the empty pipe, which a
 *         write of 20 bytes wakes, or a write of PIPE_SIZE + 1000 bytes
 *         asleep after PIPE_SIZE, which a read of them wakes.
 *
 * Before the woken call can run (everything on one CPU, the test
 * real-time meanwhile: cpu_order.h), a call of its side is frozen in its
 * copy, holding the semaphore; the woken call waits for it, and SIGUSR1
 * (without SA_RESTART) ends that wait: EINTR, or the write's PIPE_SIZE.
 * The pipe is empty afterwards.
 *
 * @param _metadata the test
 * @param off the count of quiet_call()
 * @param order the CPU order, pinned
 * @param r the read end, without O_NONBLOCK
 * @param w the write end, without O_NONBLOCK
 * @param is_write nonzero for the write
 */
static void quiet_woken_then_stopped(struct __test_metadata *_metadata,
				     int *off, struct cpu_order *order,
				     int r, int w, int is_write)
{
	static const char data[] = "0123456789abcdefghij";
	static char buf[PIPE_SIZE + 1000], got[PIPE_SIZE];
	struct fifo_call c = { .fd = is_write ? w : r, .buf = buf,
			       .count = is_write ? sizeof(buf) : 64,
			       .is_write = is_write };
	struct fifo_call a = { 0 }, *calls[1] = { &c };
	ssize_t wake = is_write ? PIPE_SIZE : 20, moved;
	struct copy_stall cs;
	pthread_t t, at;
	int frozen = -1;

	quiet_sleeper(_metadata, off, &t, &c);
	ASSERT_EQ(0, cpu_order_hold(order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/* The woken call cannot run until the release. */
	moved = is_write ? read(r, got, wake) : write(w, data, wake);
	if (moved == wake)
		frozen = freeze_call(&cs, &a, &at, c.fd, is_write,
				     is_write ? 32 : 4, is_write ? 8 : 2, 'A');
	cpu_order_release(order);
	ASSERT_EQ(1, frozen) {
		TH_LOG("the %s that should hold the semaphore was not frozen in its copy (the %s before it returned %zd)",
		       is_write ? "write" : "read",
		       is_write ? "read" : "write", moved);
	}
	if (task_wait_asleep(c.tid, &c.done, WAIT_MS) != 'S')
		(*off)++;
	syscall(SYS_tgkill, getpid(), c.tid, SIGUSR1);
	/* Ended before the frozen call lets the semaphore go to it. */
	calls_end(calls, 1);
	if (!copy_stall_release(&cs, 'a'))
		pthread_join(at, NULL);
	copy_stall_destroy(&cs);
	quiet_call(off, a.ret, is_write ? 32 : 4, 0);
	quiet_sleeper_ends(off, t, &c, is_write ? PIPE_SIZE : -1, EINTR);
	set_nonblock(r, 1);
	quiet_call(off, read(r, got, sizeof(got)), is_write ? 32 : 16, 0);
	set_nonblock(r, 0);
}

/** @brief In data_path_does_not_log, a call asleep that the last close of
 *         the other end ends: the close is through, and its own log lines
 *         read and left out, before the woken call runs (everything on one
 *         CPU, the test real-time meanwhile: cpu_order.h).
 * @param _metadata the test
 * @param kmsg /dev/kmsg, opened O_NONBLOCK
 * @param shown as module_records()
 * @param off the count of quiet_call()
 * @param order the CPU order, pinned
 * @param c the call
 * @param last the last file of the other end, closed here
 * @param want what the call should return
 * @param want_err the errno it should leave when @p want is -1
 * @param when the call, for the log
 * @return the module's log lines the call made
 */
static int quiet_closed(struct __test_metadata *_metadata, int kmsg,
			int *shown, int *off, struct cpu_order *order,
			struct fifo_call *c, int last, ssize_t want,
			int want_err, const char *when)
{
	int lines;
	pthread_t t;

	module_records(_metadata, kmsg, shown, NULL);
	quiet_sleeper(_metadata, off, &t, c);
	lines = module_records(_metadata, kmsg, shown, when);
	ASSERT_EQ(0, cpu_order_hold(order)) {
		TH_LOG("cannot make the test real-time: %s", strerror(errno));
	}
	/* The woken call cannot run until the release. */
	close(last);
	module_records(_metadata, kmsg, shown, NULL);
	cpu_order_release(order);
	quiet_sleeper_ends(off, t, c, want, want_err);
	return lines + module_records(_metadata, kmsg, shown, when);
}

/* The course report's driver printed a line for every read and write:
 * the data path may log with pr_debug() (off unless dynamic debug turns it
 * on), never with printk(), whatever a call returns: bytes, end of file,
 * EAGAIN, EFAULT, EPIPE (rule 22). Each kind of call is made QUIET_CALLS
 * times, and the log records of each run of calls are counted apart from
 * those of the test's opens and closes, which rule 22 leaves free: not
 * one may come from the calls (a rate-limited warning is still a line).
 * Then calls that sleep, once each way their sleep can end: a signal
 * (EINTR; a restart with SA_RESTART; a large write's count), a signal
 * while they wait for the semaphore (before they looked at the pipe, and
 * once woken), the last close of the other end (0, EPIPE).
 * Only the lines count: a call that returns something else is noted, not
 * failed (the tests of its rule fail it), and the calls go on. */
TEST_F_TIMEOUT(pipe, data_path_does_not_log, 60)
{
	struct sigaction restart = { .sa_handler = note_signal,
				     .sa_flags = SA_RESTART };
	static char full[PIPE_SIZE], big[PIPE_SIZE + 1000];
	int kmsg, r, w, i, lines = 0, shown = 0, off = 0;
	struct fifo_call a = { 0 }, c;
	char byte = 'q', got[64], *bad;
	struct cpu_order order;
	struct copy_stall cs;
	pthread_t t, at;

	signal(SIGPIPE, SIG_IGN);
	bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));
	r = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, r) {
		TH_LOG("rule 4: an open of the read end with O_NONBLOCK succeeds at once; it failed: %s",
		       strerror(errno));
	}
	w = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, w) {
		TH_LOG("rule 4: an open of the write end with O_NONBLOCK while a reader is there succeeds; it failed: %s",
		       strerror(errno));
	}
	module_records(_metadata, kmsg, &shown, NULL);
	for (i = 0; i < 100; i++) {
		quiet_call(&off, write(w, &byte, 1), 1, 0);
		quiet_call(&off, read(r, &byte, 1), 1, 0);
	}
	for (i = 0; i < QUIET_CALLS; i++) {
		quiet_call(&off, write(w, &byte, 0), 0, 0);
		quiet_call(&off, read(r, &byte, 0), 0, 0);
		quiet_call(&off, read(r, &byte, 1), -1, EAGAIN);
		quiet_call(&off, write(w, bad, 1), -1, EFAULT);
	}
	memset(full, 'f', sizeof(full));
	quiet_call(&off, write(w, full, sizeof(full)), PIPE_SIZE, 0);
	for (i = 0; i < QUIET_CALLS; i++) {
		quiet_call(&off, write(w, &byte, 1), -1, EAGAIN);
		quiet_call(&off, read(r, bad, 1), -1, EFAULT);
	}
	quiet_call(&off, read(r, full, sizeof(full)), PIPE_SIZE, 0);
	lines += module_records(_metadata, kmsg, &shown,
				"reads and writes of bytes, of 0 bytes, EAGAIN and EFAULT");
	close(w);
	module_records(_metadata, kmsg, &shown, NULL);
	for (i = 0; i < QUIET_CALLS; i++)
		quiet_call(&off, read(r, &byte, 1), 0, 0);
	lines += module_records(_metadata, kmsg, &shown,
				"reads at end of file");
	w = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, w) {
		TH_LOG("rule 4: an open of the write end with O_NONBLOCK while a reader is there succeeds; the second one failed: %s",
		       strerror(errno));
	}
	close(r);
	module_records(_metadata, kmsg, &shown, NULL);
	for (i = 0; i < QUIET_CALLS; i++)
		quiet_call(&off, write(w, &byte, 1), -1, EPIPE);
	lines += module_records(_metadata, kmsg, &shown, "EPIPE writes");
	close(w);

	/* Calls that sleep, on one CPU for the closes (quiet_closed()). */
	ASSERT_LE(0, signal_note_fd());
	sigemptyset(&restart.sa_mask);
	ASSERT_EQ(0, sigusr1_interrupts());
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	module_records(_metadata, kmsg, &shown, NULL);
	c = (struct fifo_call){ .fd = r, .buf = got, .count = 1 };
	quiet_interrupted(_metadata, &off, &c, -1, EINTR);
	ASSERT_EQ(0, sigaction(SIGUSR1, &restart, NULL));
	c = (struct fifo_call){ .fd = r, .buf = got, .count = 1 };
	quiet_sleeper(_metadata, &off, &t, &c);
	if (restart_by_signal(c.tid, &c.done) != 'S')
		off++;
	quiet_call(&off, write(w, &byte, 1), 1, 0);
	quiet_sleeper_ends(&off, t, &c, 1, 0);
	lines += module_records(_metadata, kmsg, &shown,
				"reads asleep on the empty pipe that a signal ended (EINTR; started again with SA_RESTART)");
	ASSERT_EQ(0, sigusr1_interrupts());
	quiet_call(&off, write(w, full, sizeof(full)), PIPE_SIZE, 0);
	c = (struct fifo_call){ .fd = w, .buf = &byte, .count = 1,
				.is_write = 1 };
	quiet_interrupted(_metadata, &off, &c, -1, EINTR);
	quiet_call(&off, read(r, full, sizeof(full)), PIPE_SIZE, 0);
	c = (struct fifo_call){ .fd = w, .buf = big, .count = sizeof(big),
				.is_write = 1 };
	quiet_interrupted(_metadata, &off, &c, PIPE_SIZE, 0);
	quiet_call(&off, read(r, full, sizeof(full)), PIPE_SIZE, 0);
	lines += module_records(_metadata, kmsg, &shown,
				"writes asleep on the full pipe that a signal ended (EINTR; a large write's count)");
	ASSERT_EQ(1, freeze_call(&cs, &a, &at, w, 1, 32, 8, 'A')) {
		TH_LOG("the write never reached its copy_from_user()");
	}
	c = (struct fifo_call){ .fd = r, .buf = got, .count = 1 };
	quiet_interrupted(_metadata, &off, &c, -1, EINTR);
	c = (struct fifo_call){ .fd = w, .buf = &byte, .count = 1,
				.is_write = 1 };
	quiet_interrupted(_metadata, &off, &c, -1, EINTR);
	quiet_call(&off, thaw_the_write(&cs, at, &a), 32, 0);
	quiet_call(&off, read(r, got, sizeof(got)), 32, 0);
	quiet_woken_then_stopped(_metadata, &off, &order, r, w, 0);
	quiet_woken_then_stopped(_metadata, &off, &order, r, w, 1);
	lines += module_records(_metadata, kmsg, &shown,
				"reads and writes whose wait for the semaphore a signal ended (EINTR; a large write's count), also once woken");
	c = (struct fifo_call){ .fd = r, .buf = got, .count = 1 };
	lines += quiet_closed(_metadata, kmsg, &shown, &off, &order, &c, w,
			      0, 0,
			      "a read asleep on the empty pipe that the last writer's close ended (0)");
	w = open(PIPE_IN, O_WRONLY);
	ASSERT_LE(0, w) {
		TH_LOG("rule 3: an open of the write end while a reader is there returns at once; it failed: %s",
		       strerror(errno));
	}
	quiet_call(&off, write(w, full, sizeof(full)), PIPE_SIZE, 0);
	c = (struct fifo_call){ .fd = w, .buf = &byte, .count = 1,
				.is_write = 1 };
	lines += quiet_closed(_metadata, kmsg, &shown, &off, &order, &c, r,
			      -1, EPIPE,
			      "a write asleep on the full pipe that the last reader's close ended (EPIPE)");
	close(w);
	cpu_order_unpin(&order);
	munmap(bad, 4096);
	close(kmsg);
	EXPECT_EQ(0, lines) {
		TH_LOG("rule 22: %d kernel log lines from 100 writes and reads, then %d of each: of 0 bytes, EAGAIN, EFAULT, end of file and EPIPE, then reads and writes asleep that a signal (also at the semaphore) or the other end's last close ended; read and write log nothing, whatever they return and whatever ends their sleep (pr_debug() at most)",
		       lines, QUIET_CALLS);
		if (off)
			TH_LOG("rule 22: %d of those calls did not return what rules 6 to 21 say (the tests of those rules check that); whatever a call returns, it logs nothing",
			       off);
	}
}

/* ---------------------------------------------------------------------
 * What the course report did with its pipe, and volume
 */

/* The report's shell test: cat must print what echo wrote and end with
 * status 0 when echo closes (the report's driver said "Broken pipe"). */
TEST_F_TIMEOUT(pipe, echo_and_cat_end_cleanly, 60)
{
	char *argv[] = { "sh", "-c",
		"echo lala >" PIPE_IN " & cat " PIPE_OUT "; s=$?; wait; exit $s",
		NULL };
	char out[64];
	int status;

	status = run_command_unless_stuck(argv, out, sizeof(out), 30000,
					  STUCK_MS);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("cat ended with status %d (-1: it did not end: asleep for good, or silent for 30 s)",
		       status);
	}
	EXPECT_STREQ("lala\n", out);
}

/** @brief One-second checks without progress after which a volume test
 *         gives up: a bound for a stuck pipe, never a measure of speed,
 *         so that a slow or loaded machine gets the same result. */
#define STALL_CHECKS 30

/** @brief Wait for the @p n children in @p pid to end while @p progress
 *         keeps moving; kill those still running once they are stuck
 *         while it stands still (all blocked for STUCK_MS, none of them
 *         running: none can wake another), or once it has not moved for
 *         STALL_CHECKS seconds' worth of checks in a row (a tenth of a
 *         second or more each).
 * @param pid the children, at most STUCK_WATCH_MAX; each entry becomes 0
 *        once reaped
 * @param status where each one's status goes (SIGKILL for a killed one)
 * @param n how many
 * @param progress a count the children raise as they work
 * @return 0 if all ended by themselves, -1 if some were killed
 */
static int wait_while_progressing(pid_t *pid, int *status, int n,
				  volatile uint64_t *progress)
{
	uint64_t last = *progress;
	int i, left = n, stalled = 0, stuck = 0;
	struct stuck_watch w;

	stuck_watch_init(&w);
	while (left) {
		/* A watchdog's tick, not a wait for an event; first, so that
		 * the children just forked have the CPUs to themselves. */
		poll(NULL, 0, 100);
		for (i = 0; i < n; i++)
			if (pid[i] > 0 &&
			    !wait_for_child(pid[i], &status[i], 0)) {
				pid[i] = 0;
				left--;
			}
		if (!left)
			break;
		if (*progress != last) {
			last = *progress;
			stalled = 0;
			stuck_watch_init(&w);
		} else {
			/* Only while nothing moves: no cost to a transfer. */
			stuck = stuck_watch_look(&w, pid, n, STUCK_MS);
			stalled++;
		}
		if (stuck || stalled >= STALL_CHECKS * 10) {
			for (i = 0; i < n; i++)
				if (pid[i] > 0) {
					kill(pid[i], SIGKILL);
					waitpid(pid[i], &status[i], 0);
					pid[i] = 0;
				}
			return -1;
		}
	}
	return 0;
}

/** @brief Numbers the report's writer and reader programs stream. */
#define SEED_NUMBERS 1000000

/** @brief The report's writer program, bounded: print the numbers from 0
 *         with stdio into the write end.
 * @return its exit status: 0 when every number went out
 */
static int seed_writer(void)
{
	FILE *f = fopen(PIPE_IN, "w");
	size_t i;

	if (!f)
		return 1;
	for (i = 0; i < SEED_NUMBERS; i++)
		if (fprintf(f, "%zu\n", i) < 0)
			return 2;
	return fclose(f) ? 3 : 0;
}

/** @brief The report's reader program: scan numbers from the read end
 *         until end of file; they must be 0, 1, 2, ... in order.
 * @param progress where it counts the numbers read so far (shared)
 * @return its exit status: 0 when all came, in order, then end of file
 */
static int seed_reader(volatile uint64_t *progress)
{
	FILE *f = fopen(PIPE_OUT, "r");
	size_t i = 0, got;

	if (!f)
		return 1;
	while (fscanf(f, "%zu", &got) == 1) {
		if (got != i)
			return 2;
		i++;
		*progress = i;
	}
	if (ferror(f))
		return 3;
	return i == SEED_NUMBERS ? 0 : 4;
}

TEST_F_TIMEOUT(pipe, report_programs_stream_a_million_numbers, 300)
{
	static const char *why[] = {
		"", "open failed", "a number was lost, repeated or out of order",
		"a read failed (EPIPE at the end?)", "end of file came early",
	};
	volatile uint64_t *progress;
	pid_t pid[2];
	int status[2] = { -1, -1 };

	progress = mmap(NULL, sizeof(*progress), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, progress);
	pid[1] = fork_detached();
	if (pid[1] == 0)
		_exit(seed_reader(progress));
	pid[0] = fork_detached();
	if (pid[0] == 0)
		_exit(seed_writer());
	ASSERT_LT(0, pid[1]);
	ASSERT_LT(0, pid[0]);
	/* About 7 MB of text; a stuck pair is killed once both are asleep
	 * for good, or no number has come through for STALL_CHECKS s. */
	if (wait_while_progressing(pid, status, 2, progress))
		TH_LOG("no number came through after %llu, with the reader and the writer both asleep for good (or busy for %d s without one): killed",
		       (unsigned long long)*progress, STALL_CHECKS);
	EXPECT_TRUE(WIFEXITED(status[0]) && WEXITSTATUS(status[0]) == 0) {
		TH_LOG("the writer ended with status %#x", status[0]);
	}
	EXPECT_TRUE(WIFEXITED(status[1]) && WEXITSTATUS(status[1]) == 0) {
		TH_LOG("the reader ended with status %#x: %s", status[1],
		       WIFEXITED(status[1]) && WEXITSTATUS(status[1]) < 5 ?
		       why[WEXITSTATUS(status[1])] : "killed");
	}
}

/** @brief Writers and readers of the stress test. */
#define STRESS_PROCS 4
/** @brief Bytes each writer writes: 64 MiB in all. */
#define STRESS_BYTES (16 * 1024 * 1024)
/** @brief Period of each writer's byte values. */
#define STRESS_PERIOD 61

/** @brief What the stress test's readers count, shared with them. */
struct stress_count {
	/** @brief How often each byte value came, per reader. */
	uint64_t seen[STRESS_PROCS][256];
	/** @brief Nonzero for a reader that ended on an error. */
	int failed[STRESS_PROCS];
	/** @brief Bytes read so far by all readers, for the watchdog. */
	uint64_t progress;
};

/** @brief Byte @p i of writer @p k's stream: the values of different
 *         writers never meet, so the counts per value check every
 *         writer's bytes.
 * @param k the writer
 * @param i the position in its stream
 * @return the byte
 */
static unsigned char stress_byte(int k, size_t i)
{
	return (unsigned char)(k * 64 + i % STRESS_PERIOD);
}

/* 4 writers and 4 readers at once, 64 MiB: every byte comes out once. */
TEST_F_TIMEOUT(pipe, four_writers_four_readers_64_mib, 400)
{
	struct stress_count *count;
	uint64_t expect, got;
	pid_t pid[2 * STRESS_PROCS];
	int status[2 * STRESS_PROCS];
	int r, w, i, k, v, wrong = 0;

	count = mmap(NULL, sizeof(*count), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, count);
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	for (i = 0; i < 2 * STRESS_PROCS; i++) {
		pid[i] = fork_detached();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0 && i < STRESS_PROCS) {
			unsigned char buf[4096];
			size_t done, j;

			close(r);
			for (done = 0; done < STRESS_BYTES; done += sizeof(buf)) {
				for (j = 0; j < sizeof(buf); j++)
					buf[j] = stress_byte(i, done + j);
				if (write(w, buf, sizeof(buf)) != sizeof(buf))
					_exit(1);
			}
			_exit(0);
		} else if (pid[i] == 0) {
			unsigned char buf[3000];
			uint64_t *seen = count->seen[i - STRESS_PROCS];
			ssize_t n, j;

			close(w);
			while ((n = read(r, buf, sizeof(buf))) > 0) {
				for (j = 0; j < n; j++)
					seen[buf[j]]++;
				__atomic_fetch_add(&count->progress, n,
						   __ATOMIC_RELAXED);
			}
			count->failed[i - STRESS_PROCS] = n < 0;
			_exit(0);
		}
	}
	close(r);
	close(w);
	/* Seconds under emulation; stuck processes are killed once all are
	 * asleep for good, or no byte has come through for STALL_CHECKS s. */
	if (wait_while_progressing(pid, status, 2 * STRESS_PROCS,
				   &count->progress))
		TH_LOG("no byte came through after %llu, with every writer and reader asleep for good (or busy for %d s without one): killed",
		       (unsigned long long)count->progress, STALL_CHECKS);
	for (i = 0; i < 2 * STRESS_PROCS; i++) {
		EXPECT_EQ(0, status[i]) {
			TH_LOG("%s %d ended with status %#x",
			       i < STRESS_PROCS ? "writer" : "reader",
			       i % STRESS_PROCS, status[i]);
		}
	}
	for (i = 0; i < STRESS_PROCS; i++)
		EXPECT_EQ(0, count->failed[i]);
	for (v = 0; v < 256; v++) {
		k = v / 64;
		expect = 0;
		if (k < STRESS_PROCS && v % 64 < STRESS_PERIOD)
			expect = STRESS_BYTES / STRESS_PERIOD +
				 (v % 64 < STRESS_BYTES % STRESS_PERIOD);
		got = 0;
		for (i = 0; i < STRESS_PROCS; i++)
			got += count->seen[i][v];
		if (got != expect && wrong++ < 5)
			TH_LOG("byte value %d came %llu times, not %llu", v,
			       (unsigned long long)got,
			       (unsigned long long)expect);
	}
	EXPECT_EQ(0, wrong) {
		TH_LOG("bytes were lost or duplicated");
	}
	munmap(count, sizeof(*count));
}

/* ---------------------------------------------------------------------
 * Module parameters and unloading
 */

/** @brief Open @p path with O_NONBLOCK.
 * @param path the node
 * @param flags O_RDONLY or O_WRONLY
 * @return the descriptor, or -errno
 */
static int try_open(const char *path, int flags)
{
	int fd = open(path, flags | O_NONBLOCK);

	return fd < 0 ? -errno : fd;
}

TEST_F_TIMEOUT(pipe, exclusive_param_allows_one_file_per_end, 60)
{
	int r1, r2, w1, w2;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, "exclusive=1")) {
		TH_LOG("module_param(exclusive, bool, 0444)?");
	}
	r1 = try_open(PIPE_OUT, O_RDONLY);
	ASSERT_LE(0, r1);
	r2 = try_open(PIPE_OUT, O_RDONLY);
	EXPECT_EQ(-EBUSY, r2) {
		TH_LOG("a second reader must get EBUSY with exclusive=1");
	}
	w1 = try_open(PIPE_IN, O_WRONLY);
	ASSERT_LE(0, w1);
	w2 = try_open(PIPE_IN, O_WRONLY);
	EXPECT_EQ(-EBUSY, w2) {
		TH_LOG("a second writer must get EBUSY with exclusive=1");
	}
	/* Opened after all: close them, so that the rest still runs. */
	if (r2 >= 0)
		close(r2);
	if (w2 >= 0)
		close(w2);
	/* A refused open must not have taken the end for good. */
	close(r1);
	r2 = try_open(PIPE_OUT, O_RDONLY);
	EXPECT_LE(0, r2) {
		TH_LOG("the read end stays busy after its reader closed: %s",
		       strerror(-r2));
	}
	close(w1);
	w2 = try_open(PIPE_IN, O_WRONLY);
	EXPECT_LE(0, w2);
	if (w2 >= 0)
		close(w2);
	if (r2 >= 0)
		close(r2);
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/* With exclusive=1, every open refused or interrupted gives its end back:
 * ENXIO (a write end with O_NONBLOCK and no reader), EACCES (the wrong
 * direction), EBUSY (the end is held; at once, also without O_NONBLOCK),
 * and EINTR (a signal in the rendezvous). */
TEST_F_TIMEOUT(pipe, exclusive_refused_opens_leave_the_end_free, 60)
{
	pid_t pid;
	int r, w, err, i;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	err = module_load(MODULE, "exclusive=1");
	if (err)
		module_load(MODULE, "");
	ASSERT_EQ(0, err);
	EXPECT_EQ(-ENXIO, try_open(PIPE_IN, O_WRONLY));
	EXPECT_EQ(-EACCES, try_open(PIPE_IN, O_RDONLY));
	EXPECT_EQ(-EACCES, try_open(PIPE_OUT, O_WRONLY));
	EXPECT_EQ(-ENXIO, try_open(PIPE_IN, O_WRONLY)) {
		TH_LOG("rule: an open refused with EACCES counts nothing; after one on the read end, a writer finds a reader");
	}
	r = try_open(PIPE_OUT, O_RDONLY);
	EXPECT_LE(0, r) {
		TH_LOG("rule: an open refused with EACCES leaves the end free; the read end answered %s",
		       strerror(-r));
	}
	w = try_open(PIPE_IN, O_WRONLY);
	EXPECT_LE(0, w) {
		TH_LOG("rule: an open refused with ENXIO or EACCES leaves the end free; the write end answered %s",
		       strerror(-w));
	}
	/* The direction comes first, also when the end is held. */
	for (i = 0; r >= 0 && w >= 0 && i < 2; i++) {
		err = try_open(i ? PIPE_IN : PIPE_OUT, i ? O_RDONLY : O_WRONLY);
		EXPECT_EQ(-EACCES, err) {
			TH_LOG("rule 2: an open of the %s fails with EACCES before anything else, also with exclusive=1 while the end is held; it got %s%s",
			       i ? "write end for reading" : "read end for writing",
			       err < 0 ? strerror(-err) : "a descriptor",
			       err == -EBUSY ? " (the end's exclusive check came first)" : "");
		}
		if (err >= 0)
			close(err);
	}
	/* A blocking open of a held end: EBUSY at once. */
	err = open_result(open_in_child(PIPE_OUT, O_RDONLY));
	EXPECT_EQ(EBUSY, err) {
		TH_LOG("rule: with exclusive=1 an open of a held end gets EBUSY at once, also without O_NONBLOCK; got %d (-1: it slept)",
		       err);
	}
	if (w >= 0)
		close(w);
	if (r >= 0)
		close(r);
	/* A blocking open of the read end, no writer: interrupted. */
	pid = open_in_child(PIPE_OUT, O_RDONLY);
	EXPECT_EQ('S', task_wait_asleep(pid, NULL, WAIT_MS)) {
		TH_LOG("rule: an open of the read end sleeps until a writer opens");
	}
	kill(pid, SIGUSR1);
	EXPECT_EQ(EINTR, open_result(pid));
	r = try_open(PIPE_OUT, O_RDONLY);
	EXPECT_LE(0, r) {
		TH_LOG("rule: an open interrupted by a signal leaves the end free; the read end answered %s",
		       strerror(-r));
	}
	if (r >= 0)
		close(r);
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/* Rule 23: with exclusive=1 the end is free again after every open
 * refused or interrupted, also one a signal stops while it waits for the
 * semaphore (not in the rendezvous). The write end is free and a read,
 * frozen in its copy, holds the semaphore; an O_NONBLOCK open of the
 * write end waits for it, and a signal ends that wait with EINTR. Then
 * the write end opens. */
TEST_F_TIMEOUT(pipe, exclusive_end_is_free_after_an_open_stopped_at_the_semaphore,
	       60)
{
	struct other_call o = { .path = PIPE_IN,
				.flags = O_WRONLY | O_NONBLOCK };
	struct fifo_call a = { 0 };
	struct copy_stall cs;
	pthread_t at, ot;
	int r, w, fd;
	char st;

	ASSERT_EQ(0, sigusr1_interrupts());
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, "exclusive=1"));
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	ASSERT_EQ(20, write(w, "0123456789abcdefghij", 20));
	close(w);
	ASSERT_EQ(1, freeze_call(&cs, &a, &at, r, 0, 16, 8, 0)) {
		TH_LOG("the read never reached its copy_to_user()");
	}
	st = start_other_call(&ot, &o);
	EXPECT_EQ('S', st) {
		TH_LOG("rule 21: an open of the write end waits (state S) while a read holds the semaphore; it %s",
		       st == 'X' ? "returned" : "did not sleep in S");
	}
	syscall(SYS_tgkill, getpid(), o.tid, SIGUSR1);
	pthread_join(ot, NULL);
	EXPECT_EQ(-1, o.ret);
	EXPECT_EQ(EINTR, o.err);
	ASSERT_EQ(0, copy_stall_release(&cs, 0));
	pthread_join(at, NULL);
	copy_stall_destroy(&cs);
	EXPECT_EQ(16, a.ret);
	fd = try_open(PIPE_IN, O_WRONLY);
	EXPECT_LE(0, fd) {
		TH_LOG("rule 23: with exclusive=1, an open stopped by a signal while it waited for the semaphore leaves its end free; the write end answered %s",
		       strerror(-fd));
	}
	if (fd >= 0)
		close(fd);
	close(r);
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief Check a parameter's sysfs file: mode 0444, its value, and that
 *         it cannot be opened for writing (reload_checks_param_read_only()).
 * @param _metadata the test
 * @param name the parameter
 * @param value what it must read, newline included
 */
static void expect_read_only_param(struct __test_metadata *_metadata,
				   const char *name, const char *value)
{
	char msg[512];

	EXPECT_EQ(0, reload_checks_param_read_only(MODULE, name, value, msg,
						   sizeof(msg))) {
		TH_LOG("rule 23: %s", msg);
	}
}

TEST_F_TIMEOUT(pipe, params_are_read_only_in_sysfs, 60)
{
	static const char *const params[] = { "pipe_size", "exclusive", NULL };
	char msg[512];
	int err;

	EXPECT_EQ(0, reload_checks_params_are(MODULE, params, msg,
					      sizeof(msg))) {
		TH_LOG("rule 27: %s", msg);
	}
	expect_read_only_param(_metadata, "pipe_size", "4096\n");
	expect_read_only_param(_metadata, "exclusive", "N\n");
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	err = module_load(MODULE, "pipe_size=8192 exclusive=1");
	if (err)
		module_load(MODULE, "");
	ASSERT_EQ(0, err);
	expect_read_only_param(_metadata, "pipe_size", "8192\n");
	expect_read_only_param(_metadata, "exclusive", "Y\n");
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

TEST_F_TIMEOUT(pipe, pipe_size_limits_are_4096_and_1048576, 90)
{
	static const unsigned int good[] = { 4096, 5000, 1048576 };
	static const char *const bad[] = {
		"pipe_size=1", "pipe_size=4294967295",
	};
	char params[32], *big = calloc(1, 1048576 + 1);
	unsigned int i;
	int r, w, err;

	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(params, sizeof(params), "pipe_size=%u", good[i]);
		err = module_load(MODULE, params);
		EXPECT_EQ(0, err) {
			TH_LOG("rule: %s is allowed (4096 to 1048576)", params);
		}
		if (err)
			continue;
		r = try_open(PIPE_OUT, O_RDONLY);
		w = try_open(PIPE_IN, O_WRONLY);
		EXPECT_LE(0, r);
		EXPECT_LE(0, w);
		EXPECT_EQ((ssize_t)good[i], write(w, big, good[i] + 1)) {
			TH_LOG("rule: loaded with %s, the pipe holds exactly %u bytes",
			       params, good[i]);
		}
		EXPECT_EQ((ssize_t)good[i], read(r, big, good[i] + 1));
		close(w);
		close(r);
		EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = module_load(MODULE, bad[i]);
		EXPECT_EQ(EINVAL, err) {
			TH_LOG("rule: %s makes the load fail with EINVAL", bad[i]);
		}
		if (!err)
			module_unload(MODULE);
	}
	free(big);
	EXPECT_EQ(0, module_load(MODULE, ""));
}

TEST_F_TIMEOUT(pipe, pipe_size_param, 60)
{
	static const char *const bad[] = {
		"pipe_size=0", "pipe_size=4095", "pipe_size=1048577",
	};
	static char big[70000];
	unsigned int i;
	int r, w, err;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err = module_load(MODULE, bad[i]);
		EXPECT_EQ(EINVAL, err) {
			TH_LOG("%s: init must refuse it with -EINVAL", bad[i]);
		}
		if (!err)
			module_unload(MODULE);
	}
	ASSERT_EQ(0, module_load(MODULE, "pipe_size=65536"));
	r = try_open(PIPE_OUT, O_RDONLY);
	w = try_open(PIPE_IN, O_WRONLY);
	EXPECT_LE(0, r);
	EXPECT_LE(0, w);
	EXPECT_EQ(65536, write(w, big, sizeof(big))) {
		TH_LOG("loaded with pipe_size=65536, the pipe should hold 65536 bytes");
	}
	close(w);
	close(r);
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

TEST_F_TIMEOUT(pipe, unload_is_refused_while_an_end_is_open, 30)
{
	int fd = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);

	ASSERT_LE(0, fd);
	EXPECT_EQ(EWOULDBLOCK, module_unload(MODULE)) {
		TH_LOG(".owner = THIS_MODULE keeps the module while a file is open");
	}
	close(fd);
}

/** @brief Whether /proc/devices lists a character device "mypipe".
 * @return 1 if it does, 0 if not
 */
static int mypipe_in_proc_devices(void)
{
	FILE *f = fopen("/proc/devices", "r");
	char line[128], name[64];
	int found = 0, major;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Block", 5))
			break;
		if (sscanf(line, "%d %63s", &major, name) == 2 &&
		    !strcmp(name, "mypipe"))
			found++;
	}
	fclose(f);
	return found;
}

/* 50 unloads and loads: each unload takes everything away, each load
 * puts it back. */
TEST_F_TIMEOUT(pipe, fifty_unloads_leave_nothing_behind, 180)
{
	char debugfs[96], line[256];
	int i, r, w, view, err;
	char c;

	/* The grading VM does not mount debugfs: mount it for the live view. */
	err = reload_checks_debugfs_dir(MODULE, debugfs, sizeof(debugfs));
	if (err)
		TH_LOG("cannot mount debugfs: %s", strerror(err));
	view = access(debugfs, F_OK) == 0;
	if (!view)
		TH_LOG("no %s: its removal is not checked", debugfs);
	for (i = 0; i < 50; i++) {
		ASSERT_EQ(0, module_unload_when_free(MODULE, 5000)) {
			TH_LOG("unload %d failed", i + 1);
		}
		ASSERT_NE(0, access(PIPE_IN, F_OK)) {
			TH_LOG("%s is still there after unload", PIPE_IN);
		}
		ASSERT_NE(0, access(PIPE_OUT, F_OK));
		ASSERT_NE(0, access("/sys/class/mypipe", F_OK)) {
			TH_LOG("the class is still there after unload");
		}
		ASSERT_EQ(0, mypipe_in_proc_devices()) {
			TH_LOG("the device numbers are still registered");
		}
		if (view) {
			ASSERT_TRUE(reload_checks_debugfs_gone(MODULE)) {
				TH_LOG("rule 24: %s is still there after unload (debugfs_remove_recursive() missing in exit?)",
				       debugfs);
			}
		}
		ASSERT_EQ(0, module_load(MODULE, "")) {
			TH_LOG("load %d failed", i + 1);
		}
		ASSERT_EQ(1, mypipe_in_proc_devices());
	}
	r = try_open(PIPE_OUT, O_RDONLY);
	w = try_open(PIPE_IN, O_WRONLY);
	ASSERT_LE(0, r);
	ASSERT_LE(0, w);
	EXPECT_EQ(1, write(w, "!", 1));
	EXPECT_EQ(1, read(r, &c, 1));
	close(w);
	close(r);
	if (!view)
		return;
	/* A reload brings the debugfs view back, showing the new pipe. */
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, "pipe_size=8192"));
	view = reload_checks_debugfs_state(MODULE, line, sizeof(line));
	EXPECT_LT(0, view) {
		TH_LOG("rule 24: a reload brings %s/state back", debugfs);
	}
	if (view > 0) {
		EXPECT_NE(NULL, strstr(line, "size 8192 used 0 ")) {
			TH_LOG("rule 24: after a reload with pipe_size=8192 the view shows the new, empty pipe; it shows: %s",
			       line);
		}
	}
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/* Rule 24: 16 loads with the largest ring, pipe_size=1048576, each
 * followed by an unload, leave the kernel's unreclaimable memory where it
 * was: a ring the exit function does not free keeps 1 MiB at every
 * unload (kvmalloc() takes it from the page allocator, counted in
 * SUnreclaim, or from vmalloc, counted in VmallocUsed). */
TEST_F_TIMEOUT(pipe, unload_gives_back_the_buffer, 120)
{
	char msg[512];
	int err;

	err = reload_checks_unload_frees(MODULE, "pipe_size=1048576",
					 1048576, 16, msg, sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, err) {
		if (err < 0)
			TH_LOG("rule 24: unload frees what load allocated; the kernel kept about the ring's 1 MiB at every unload (kvfree() of the ring missing in the exit function?)");
	}
}

/** @brief One step of closes_give_back_what_opens_took: a reader and a
 *         writer opened and closed (rule 24's close frees what the open
 *         took), then a writer refused with ENXIO (rule 4) and an open of
 *         each end the wrong way refused with EACCES (rule 2): nothing
 *         may stay of a refused open. A reload_checks_step.
 * @param arg unused
 * @param i the step's number
 * @param msg what went wrong
 * @param msg_size the size of @p msg
 * @return 0, or the errno of an open that went otherwise
 */
static int open_close_step(void *arg, unsigned int i, char *msg,
			   size_t msg_size)
{
	int r, w, err, e;

	(void)arg;
	r = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	if (r < 0) {
		err = errno;
		snprintf(msg, msg_size, "open %u of the read end with O_NONBLOCK: %s (rule 4: it succeeds at once)",
			 i + 1, strerror(err));
		return err;
	}
	w = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	if (w < 0) {
		err = errno;
		snprintf(msg, msg_size, "open %u of the write end with O_NONBLOCK while a reader is there: %s (rule 4: it succeeds)",
			 i + 1, strerror(err));
		close(r);
		return err;
	}
	close(w);
	close(r);
	w = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	err = errno;
	if (w >= 0 || err != ENXIO) {
		snprintf(msg, msg_size, "open %u of the write end with O_NONBLOCK and no reader %s, not ENXIO (rule 4)",
			 i + 1, w >= 0 ? "succeeded" : strerror(err));
		if (w >= 0)
			close(w);
		return EPROTO;
	}
	for (e = 0; e < 2; e++) {
		w = open(e ? PIPE_OUT : PIPE_IN,
			 (e ? O_WRONLY : O_RDONLY) | O_NONBLOCK);
		err = errno;
		if (w >= 0 || err != EACCES) {
			snprintf(msg, msg_size, "open %u of the %s with O_NONBLOCK %s, not EACCES (rule 2)",
				 i + 1, e ? "read end for writing" :
				 "write end for reading",
				 w >= 0 ? "succeeded" : strerror(err));
			if (w >= 0)
				close(w);
			return EPROTO;
		}
	}
	return 0;
}

/* Rule 24: what an open allocates (a file's own state, kept in
 * private_data) goes back at the close, and an open refused after it
 * allocated gives it back before it returns, whatever refused it. 65536
 * opens and closes of each end, 65536 opens of the write end refused
 * with ENXIO, and 65536 of each end refused with EACCES, leave the
 * kernel's unreclaimable memory where it was: a driver that keeps the
 * smallest allocation there is, 16 bytes, at one of the five keeps
 * 1 MiB. */
TEST_F_TIMEOUT(pipe, closes_give_back_what_opens_took, 120)
{
	char msg[512];
	int err;

	err = reload_checks_steps_free("opens and closes of each end, refused opens of the write end (ENXIO), and opens of each end the wrong way (EACCES)",
				       open_close_step, NULL, 16, 65536, msg,
				       sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, err) {
		if (err < 0)
			TH_LOG("rule 24: a close frees what its open allocated, and a refused open frees it before it returns; the kernel kept at least 8 bytes per open (kfree() of the file's private_data missing in .release, or on a refusal's path of .open: ENXIO, or EACCES when it allocates before it checks the direction?)");
	}
}

/** @brief Open @p path with @p flags in a child, where it sleeps in the
 *         rendezvous (no file of the other end is open), and end that
 *         open with a signal: it must fail with EINTR.
 * @param _metadata the test
 * @param path the end
 * @param flags O_RDONLY for the read end, O_WRONLY for the write end
 */
static void interrupt_an_open(struct __test_metadata *_metadata,
			      const char *path, int flags)
{
	int status = 0;
	pid_t pid;
	char st;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd;

		if (sigusr1_interrupts())
			_exit(2);
		fd = open(path, flags);
		_exit(fd < 0 && errno == EINTR ? 0 : 1);
	}
	st = task_wait_asleep(pid, NULL, WAIT_MS);
	EXPECT_EQ('S', st) {
		TH_LOG("rule 5: an open of %s with no file of the other end open sleeps (state %c)",
		       path, st ? st : '?');
	}
	kill(pid, SIGUSR1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("rule 5: an open of %s that a signal ended failed otherwise than with EINTR",
		       path);
	}
}

/* Rules 5 and 24: whichever way an open ends, what it allocated goes back,
 * and rmmod leaves nothing of what the module's code allocated. With the
 * module loaded again: each end opened and closed, opens refused with
 * ENXIO and EACCES, an open of each end that a signal ends in the
 * rendezvous, a few bytes through. After the unload, no object the
 * module's code allocated may be left, however small (SLUB's records:
 * its allocation stack runs through code that is gone). */
TEST_F_TIMEOUT(pipe, every_kind_of_open_leaves_nothing_at_unload, 120)
{
	char msg[512], got[8];
	long long before;
	int r, w;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	before = reload_checks_orphans_at_rest();
	ASSERT_EQ(0, module_load(MODULE, ""));
	EXPECT_EQ(0, open_close_step(NULL, 0, msg, sizeof(msg))) {
		TH_LOG("%s", msg);
	}
	interrupt_an_open(_metadata, PIPE_OUT, O_RDONLY);
	interrupt_an_open(_metadata, PIPE_IN, O_WRONLY);
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	EXPECT_EQ(5, write(w, "bytes", 5));
	EXPECT_EQ(5, read(r, got, sizeof(got)));
	close(w);
	close(r);
	expect_no_leftovers(_metadata, MODULE, before,
			    "opens and closes of each end, refused opens (ENXIO, EACCES), an open of each end ended by a signal in the rendezvous, and the unload",
			    0);
}

/* Rule 24: after rmmod the device numbers lead nowhere. A node made with
 * mknod() from the numbers the ends had must give ENXIO on open, as for
 * any number no driver holds: a driver that leaves a cdev registered
 * (cdev_del() missing) has the kernel call into a module that is gone. */
TEST_F_TIMEOUT(pipe, unload_leaves_the_device_numbers_dead, 60)
{
	static const char *const ends[] = { PIPE_IN, PIPE_OUT };
	char dir[] = "/tmp/mypipe-numbers-XXXXXX", node[64];
	dev_t devt[2];
	struct stat st;
	unsigned int i;
	int fd;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, stat(ends[i], &st)) {
			TH_LOG("%s: %s", ends[i], strerror(errno));
		}
		devt[i] = st.st_rdev;
	}
	ASSERT_NE(NULL, mkdtemp(dir)) {
		TH_LOG("mkdtemp(%s): %s", dir, strerror(errno));
	}
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	for (i = 0; i < 2; i++) {
		snprintf(node, sizeof(node), "%s/end%u", dir, i);
		ASSERT_EQ(0, mknod(node, S_IFCHR | 0600, devt[i])) {
			TH_LOG("mknod(%s, %u:%u): %s", node, major(devt[i]),
			       minor(devt[i]), strerror(errno));
		}
		fd = open(node, (i ? O_RDONLY : O_WRONLY) | O_NONBLOCK);
		EXPECT_EQ(-1, fd) {
			TH_LOG("rule 24: after rmmod, an open of a node with %s's old numbers %u:%u succeeded: the numbers must lead nowhere (cdev_del() missing in exit?)",
			       ends[i], major(devt[i]), minor(devt[i]));
		}
		if (fd >= 0) {
			close(fd);
		} else {
			EXPECT_EQ(ENXIO, errno) {
				TH_LOG("rule 24: after rmmod, an open of a node with %s's old numbers %u:%u got %s, not ENXIO (no such device)",
				       ends[i], major(devt[i]), minor(devt[i]),
				       strerror(errno));
			}
		}
		unlink(node);
	}
	rmdir(dir);
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief The rule a_failed_registration_fails_the_load checks, printed
 *         when it fails. */
#define FAILED_LOAD_RULE "rule 24: a load that fails gives back what it took: init checks every registration's result (class_create() of a class that exists fails with EEXIST), undoes what it did before it (the device numbers, the ring), in reverse order, and returns that error"

/** @brief One step of a_failed_registration_fails_the_load, a
 *         reload_checks_step: a second copy of the module, with the
 *         largest ring, loaded while the module is (module_copy.h), must
 *         fail with EEXIST and leave no module behind.
 * @param arg unused
 * @param i the step's number
 * @param msg what went wrong
 * @param msg_size the size of @p msg
 * @return 0, or EPROTO with @p msg filled in
 */
static int refused_copy_step(void *arg, unsigned int i, char *msg,
			     size_t msg_size)
{
	(void)arg;
	(void)i;
	if (module_copy_expect_refused_with(MODULE, "pipe_size=1048576",
					    "class_create() of its class \"mypipe\"",
					    FAILED_LOAD_RULE, msg, msg_size))
		return EPROTO;
	return 0;
}

/* Rule 24: a load that fails gives back what it took. A second copy of
 * the module, renamed (another module name, the same device names), is
 * loaded five times while the module is, with the largest ring: its
 * class_create() finds the class "mypipe" taken and fails with EEXIST,
 * and so must each load, after giving back its device numbers and its
 * 1 MiB ring. Then the module's ends still work. */
TEST_F_TIMEOUT(pipe, a_failed_registration_fails_the_load, 120)
{
	static const char *const sys[] = {
		"/sys/class/mypipe/mypipe_in", "/sys/class/mypipe/mypipe_out",
	};
	char msg[1024], c = 0;
	unsigned int i;
	int err, r, w;

	ASSERT_EQ(1, mypipe_in_proc_devices()) {
		TH_LOG("rule 24: with the module loaded, /proc/devices lists \"mypipe\" once");
	}
	err = reload_checks_steps_free("refused loads of a second copy",
				       refused_copy_step, NULL, 1048576, 4,
				       msg, sizeof(msg));
	TH_LOG("%s", msg);
	EXPECT_EQ(0, err) {
		if (err < 0)
			TH_LOG("%s; the kernel kept about the copy's 1 MiB ring at every failed load (kvfree() missing on init's error path?)",
			       FAILED_LOAD_RULE);
	}
	EXPECT_EQ(1, mypipe_in_proc_devices()) {
		TH_LOG("%s; /proc/devices lists \"mypipe\" %d times after the failed loads of a second copy, where the module's own numbers are the only ones (unregister_chrdev_region() missing on init's error path?)",
		       FAILED_LOAD_RULE, mypipe_in_proc_devices());
	}
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, access(sys[i], F_OK)) {
			TH_LOG("after the failed loads of a second copy, %s is gone: %s (the copy's error path destroyed the module's class?)",
			       sys[i], strerror(errno));
		}
	}
	r = try_open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	w = try_open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	EXPECT_LE(0, r) {
		TH_LOG("after the failed loads of a second copy, %s does not open: %s",
		       PIPE_OUT, strerror(errno));
	}
	EXPECT_LE(0, w) {
		TH_LOG("after the failed loads of a second copy, %s does not open: %s",
		       PIPE_IN, strerror(errno));
	}
	if (r >= 0 && w >= 0) {
		EXPECT_EQ(1, write(w, "!", 1));
		EXPECT_EQ(1, read(r, &c, 1));
		EXPECT_EQ('!', c);
	}
	if (w >= 0)
		close(w);
	if (r >= 0)
		close(r);
}

/** @brief The paths a load of the module that failed must not leave. */
static const char *const mypipe_gone[] = {
	PIPE_IN, PIPE_OUT, "/sys/class/mypipe", NULL
};

/** @brief What a failed load must not leave besides mypipe_gone: its
 *         device numbers, an alloc_failures_lab's left_over.
 * @param what where what is left goes
 * @param what_size the size of @p what
 * @return nonzero when "mypipe" is in /proc/devices
 */
static int mypipe_left_over(char *what, size_t what_size)
{
	if (!mypipe_in_proc_devices())
		return 0;
	snprintf(what, what_size, "its device numbers (\"mypipe\" in /proc/devices)");
	return 1;
}

/** @brief The read end the write end's opens are made beside (a write
 *         end opens only while a reader is open), -1 while there is
 *         none. */
static int alloc_reader = -1;

/** @brief The module works: a byte written into the write end comes out
 *         of the read end (alloc_reader's, when it is open: with
 *         exclusive=1 a second reader is refused), an alloc_failures_lab's
 *         works.
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int mypipe_works(char *msg, size_t msg_size)
{
	int r = alloc_reader >= 0 ? dup(alloc_reader) :
				    try_open(PIPE_OUT, O_RDONLY);
	int w = -1, ret = -1;
	char c = 0;

	if (r == -1 && alloc_reader >= 0)
		r = -errno;
	if (r < 0) {
		snprintf(msg, msg_size, "%s does not open: %s", PIPE_OUT,
			 strerror(-r));
		return -1;
	}
	w = try_open(PIPE_IN, O_WRONLY);
	if (w < 0)
		snprintf(msg, msg_size,
			 "%s does not open with O_NONBLOCK while a reader is open: %s",
			 PIPE_IN, strerror(-w));
	else if (write(w, "!", 1) != 1 || read(r, &c, 1) != 1 || c != '!')
		snprintf(msg, msg_size,
			 "a byte written into %s does not come out of %s",
			 PIPE_IN, PIPE_OUT);
	else
		ret = 0;
	if (w >= 0)
		close(w);
	close(r);
	return ret;
}

/** @brief After an open that failed, check that it counted nothing and
 *         took nothing, an alloc_failures_lab's open_changed_nothing: a
 *         failed open of the read end, with no end open, leaves no reader
 *         (a write end's O_NONBLOCK open then fails with ENXIO, rule 4);
 *         a failed open of the write end, beside alloc_reader, leaves no
 *         writer (a read of alloc_reader then returns 0, rule 8); and the
 *         end opens again (with exclusive=1, a refused open gives the end
 *         back, rule 23).
 * @param node the node whose open failed
 * @param msg where a failure is described
 * @param msg_size the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int mypipe_open_changed_nothing(const char *node, char *msg,
				       size_t msg_size)
{
	int reader = !strcmp(node, PIPE_OUT);
	ssize_t n;
	char c;
	int fd;

	if (reader) {
		fd = try_open(PIPE_IN, O_WRONLY);
		if (fd >= 0)
			close(fd);
		if (fd != -ENXIO) {
			snprintf(msg, msg_size,
				 "an O_NONBLOCK open of %s then %s, not ENXIO: the failed open is counted as a reader (rule 4: ENXIO while no file holds the read end)",
				 PIPE_IN, fd >= 0 ? "worked" : strerror(-fd));
			return -1;
		}
	} else {
		n = read(alloc_reader, &c, 1);
		if (n != 0) {
			snprintf(msg, msg_size,
				 "a read of %s, open beside it, then returned %zd%s%s, not 0: the failed open is counted as a writer (rule 8: empty and no writer, a read returns 0)",
				 PIPE_OUT, n, n < 0 ? ", " : "",
				 n < 0 ? strerror(errno) : "");
			return -1;
		}
	}
	fd = try_open(node, reader ? O_RDONLY : O_WRONLY);
	if (fd < 0) {
		snprintf(msg, msg_size,
			 "%s then does not open again with O_NONBLOCK: %s (rule 23: with exclusive=1, the end is free again after an open that was refused)",
			 node, strerror(-fd));
		return -1;
	}
	close(fd);
	return 0;
}

/** @brief The module, for alloc_failures.h. */
static const struct alloc_failures_lab mypipe_lab = {
	.module = MODULE,
	.gone = mypipe_gone,
	.left_over = mypipe_left_over,
	.works = mypipe_works,
	.open_changed_nothing = mypipe_open_changed_nothing,
};

/** @brief Each allocation an open of the read end makes (no end open),
 *         then one of the write end (beside a reader), made to fail in
 *         turn, one open each (alloc_failures_of_open()).
 * @param _metadata the test
 * @return nonzero when this kernel can make allocations fail
 */
static int expect_open_alloc_failures_of_ends(struct __test_metadata *_metadata)
{
	if (!expect_open_alloc_failures(_metadata, &mypipe_lab, PIPE_OUT,
					O_RDONLY | O_NONBLOCK))
		return 0;
	alloc_reader = try_open(PIPE_OUT, O_RDONLY);
	EXPECT_LE(0, alloc_reader) {
		TH_LOG("%s does not open: %s", PIPE_OUT,
		       strerror(-alloc_reader));
	}
	if (alloc_reader < 0)
		return 1;
	expect_open_alloc_failures(_metadata, &mypipe_lab, PIPE_IN,
				   O_WRONLY | O_NONBLOCK);
	close(alloc_reader);
	alloc_reader = -1;
	return 1;
}

/** @brief An open or a load whose allocation fails fails with ENOMEM and
 *         leaves everything as it was (rules 23 and 24,
 *         alloc_failures.h): each allocation an open of the read end
 *         makes (no end open), then one of the write end (beside a
 *         reader), is made to fail in turn, one open each, with the
 *         defaults and with exclusive=1; then each allocation of a load
 *         of the module (the ring, the device numbers, the class,
 *         debugfs, the cdevs and devices). A failed open counts no
 *         reader or writer and gives the end back; a failed load leaves
 *         no module, node, class, device numbers, debugfs directory or
 *         object its code allocated. Only the debug kernel (KVER=debug)
 *         can make allocations fail; on Debian's kernels there is
 *         nothing to check. */
TEST_F_TIMEOUT(pipe, a_failed_allocation_fails_the_load_or_open, 300)
{
	if (!expect_open_alloc_failures_of_ends(_metadata))
		return;
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, "exclusive=1"));
	TH_LOG("(the opens again, loaded with exclusive=1)");
	expect_open_alloc_failures_of_ends(_metadata);
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, ""));
	expect_load_alloc_failures(_metadata, &mypipe_lab, "");
}

/** @brief The rule works_the_moment_its_nodes_appear checks, printed when
 *         it fails. */
#define REGISTER_LAST_RULE "rule 1: the device works from the moment its nodes appear, while init still runs: set everything up (the ring, the semaphore, the wait queues, the counters) before the first cdev_add()/device_create(), and change nothing a caller can see after it (register last)"

/** @brief How long, in ms, works_the_moment_its_nodes_appear waits at
 *         most for its reader to wait for the semaphore, and then to
 *         return: milliseconds on a correct driver; bounded below the
 *         test's timeout, so that the test always gets to switch the
 *         kernel back to its preemption model. */
#define EARLY_WAIT_MS 10000

/** @brief Which open of early_pipe_calls() failed, for the message:
 *         PIPE_OUT or PIPE_IN, NULL while none did. */
static const char *early_open_failed;

/** @brief The early caller's calls on mypipe (early_caller.h), made on
 *         its real-time thread the moment /dev/mypipe/mypipe_out appears:
 *         open the read end with O_NONBLOCK into @c other_fd (rule 4: at
 *         once), then the write end with O_NONBLOCK into @c fd (a reader
 *         exists, so it opens), write EARLY_CALLER_FIRST, then write
 *         EARLY_CALLER_FROZEN bytes from the frozen buffer, whose copy
 *         freezes holding the semaphore.
 * @param e the early caller; results in @c open_err, @c first_ret,
 *        @c first_err, @c frozen_ret and @c frozen_err
 */
static void early_pipe_calls(struct early_caller *e)
{
	e->other_fd = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	if (e->other_fd < 0) {
		e->open_err = errno;
		early_open_failed = PIPE_OUT;
		return;
	}
	e->fd = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	if (e->fd < 0) {
		e->open_err = errno;
		early_open_failed = PIPE_IN;
		return;
	}
	early_caller_writes(e);
}

/** @brief What the read of early_read_start()'s child returned (shared
 *         memory). */
struct early_read {
	/** @brief What read() returned. */
	ssize_t ret;
	/** @brief errno after it. */
	int err;
	/** @brief Set once the read returned. */
	atomic_int done;
	/** @brief The bytes read. */
	char buf[64];
};

/** @brief Start a child that reads up to sizeof(@c buf) bytes from @p fd
 *         (the early caller's read end, O_NONBLOCK, inherited) into
 *         @p r, and exits.
 * @param fd the read end
 * @param r where the child puts what its read returned
 * @return the child's PID, or -1
 */
static pid_t early_read_start(int fd, struct early_read *r)
{
	pid_t pid = fork_detached();

	if (pid)
		return pid;
	errno = 0;
	r->ret = read(fd, r->buf, sizeof(r->buf));
	r->err = errno;
	atomic_store(&r->done, 1);
	_exit(0);
}

/* Rule 1, register last: the device works from the moment its nodes
 * appear, while init still runs. The module is loaded while a real-time
 * thread on the same CPU (early_caller.h) waits for the second node,
 * /dev/mypipe/mypipe_out: the moment it appears (inside device_create(),
 * under full preemption where the kernel can switch) the thread opens the
 * read end, then the write end, both with O_NONBLOCK, writes "early",
 * then starts a write of 8 bytes that freezes in its copy, holding the
 * semaphore, while init goes on. Once the load is through, an O_NONBLOCK
 * read of the read end in another process must wait for the semaphore
 * (state S, rule 21), and once the frozen write is let go it must get the
 * 13 bytes "earlyFROZEN!!". A semaphore set up (sema_init()) after the
 * nodes is free again under the frozen write, or its zeroed state is
 * used; a ring or counters set up after them lose "early" or refuse the
 * opens. On a kernel without full preemption (no PREEMPT_DYNAMIC) the
 * early thread runs when init sleeps or returns, and the test shows less. */
TEST_F_TIMEOUT(pipe, works_the_moment_its_nodes_appear, 60)
{
	static const char want[] = EARLY_CALLER_FIRST "FROZEN!!";
	const ssize_t len = sizeof(want) - 1;
	struct early_caller *e;
	struct early_read *rd;
	struct early_load l;
	int status = 0;
	pid_t pid = -1;
	char st = 0;

	block_sigpipe();
	rd = mmap(NULL, sizeof(*rd), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, rd);
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_NE(0, access(PIPE_OUT, F_OK)) {
		TH_LOG(PIPE_OUT " is still there after rmmod");
	}
	early_load_begin(&l, MODULE, PIPE_OUT, early_pipe_calls,
			 &preempt_switched);
	e = &l.caller;
	if (l.no_full[0])
		TH_LOG("(this kernel runs without full preemption, so the early caller runs when init sleeps or returns, not inside device_create(): %s)",
		       l.no_full);
	if (!l.setup_err && e->watch < 0)
		TH_LOG("(this kernel has no inotify, so the early caller looks for the nodes every millisecond and may come after init has gone on: the test shows less)");
	EXPECT_EQ(0, l.setup_err) {
		TH_LOG("cannot set the early caller up: %s",
		       strerror(l.setup_err));
	}
	EXPECT_EQ(0, l.load_err) {
		TH_LOG("the module did not load: %s", strerror(l.load_err));
	}
	if (!l.load_err) {
		EXPECT_EQ(0, e->open_err) {
			TH_LOG("an O_NONBLOCK open of %s the moment " PIPE_OUT " appeared failed: %s (rule 4: the read end opens at once, and the write end once a file holds the read end); " REGISTER_LAST_RULE,
			       early_open_failed ? early_open_failed : "an end",
			       strerror(e->open_err));
		}
		EXPECT_EQ(5, e->first_ret) {
			TH_LOG("a write of 5 bytes the moment " PIPE_OUT " appeared, with both ends open, returned %zd (%s), not 5; " REGISTER_LAST_RULE,
			       e->first_ret, e->first_ret < 0 ?
			       strerror(e->first_err) : "no error");
		}
		EXPECT_EQ(1, l.frozen) {
			TH_LOG("the second early write, of 8 bytes, never reached its copy from user memory (it %s); " REGISTER_LAST_RULE,
			       e->frozen_ret < 0 ? strerror(e->frozen_err) :
			       "was not made, or did not copy");
		}
	}
	if (l.frozen) {
		pid = early_read_start(e->other_fd, rd);
		EXPECT_LT(0, pid);
	}
	if (pid > 0) {
		st = task_wait_asleep(pid, &rd->done, EARLY_WAIT_MS);
		EXPECT_EQ('S', st) {
			TH_LOG("an O_NONBLOCK read of " PIPE_OUT " made once the load was through should wait (state S) for the semaphore, which the write frozen in its copy since the nodes appeared holds (rule 21: O_NONBLOCK is about bytes, not the semaphore); it %s. Was the semaphore set up (sema_init()) after the nodes were made, under that write? " REGISTER_LAST_RULE,
			       st == 'X' || st == 'Z' ?
			       "returned without waiting" :
			       "neither waited nor returned");
		}
	}
	early_load_end(&l, "FROZEN!!");
	if (pid > 0) {
		if (wait_for_child(pid, &status, EARLY_WAIT_MS)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		EXPECT_TRUE(atomic_load(&rd->done)) {
			TH_LOG("the read of " PIPE_OUT " did not return once the frozen write had let the semaphore go");
		}
	}
	if (l.frozen) {
		EXPECT_EQ(EARLY_CALLER_FROZEN, e->frozen_ret) {
			TH_LOG("the write of 8 bytes frozen since the nodes appeared returned %zd (%s) once let go, not 8 (rule 10)",
			       e->frozen_ret, e->frozen_ret < 0 ?
			       strerror(e->frozen_err) : "no error");
		}
	}
	if (pid > 0 && atomic_load(&rd->done)) {
		EXPECT_TRUE(rd->ret == len && !memcmp(rd->buf, want, len)) {
			TH_LOG("the read of " PIPE_OUT " returned %zd (%s), \"%.*s\", not the 13 bytes \"%s\": \"early\", written the moment the nodes appeared, and the 8 bytes of the write frozen then. Bytes lost at the start: was the ring or its counts set up after the nodes were made, when a caller could already write? " REGISTER_LAST_RULE,
			       rd->ret, rd->ret < 0 ? strerror(rd->err) :
			       "no error", rd->ret > 0 ? (int)rd->ret : 0,
			       rd->buf, want);
		}
	}
	munmap(rd, sizeof(*rd));
}

/* Rule 21: O_NONBLOCK means "do not wait for bytes or room", not "do not
 * wait for the semaphore". While a write frozen in its copy holds it, an
 * O_NONBLOCK read of bytes already in the pipe and an O_NONBLOCK write
 * that fits wait for it in state S, then move their bytes (a named
 * pipe's O_NONBLOCK calls wait for its mutex the same way). */
TEST_F_TIMEOUT(pipe, nonblocking_calls_wait_for_the_semaphore, 60)
{
	struct fifo_call a = { 0 }, rd = { 0 }, wr = { 0 };
	struct fifo_call *calls[2] = { &rd, &wr };
	char got[64] = "", rest[64] = "";
	pthread_t at, threads[2];
	struct copy_stall cs;
	int r, w, rn, wn, i;
	char st;

	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	rn = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	wn = open(PIPE_IN, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, rn);
	ASSERT_LE(0, wn);
	ASSERT_EQ(10, write(w, "0123456789", 10));
	ASSERT_EQ(1, freeze_call(&cs, &a, &at, w, 1, 32, 8, 'A')) {
		TH_LOG("the write never reached its copy_from_user()");
	}
	rd = (struct fifo_call){ .fd = rn, .buf = got, .count = 5 };
	wr = (struct fifo_call){ .fd = wn, .buf = "WWWW", .count = 4,
				 .is_write = 1 };
	for (i = 0; i < 2; i++) {
		st = start_call(&threads[i], calls[i]);
		EXPECT_EQ('S', st) {
			TH_LOG("rule 21: an O_NONBLOCK %s that %s waits in state S while another call holds the semaphore (O_NONBLOCK is about bytes and room, not the semaphore); it %s",
			       i ? "write" : "read",
			       i ? "fits" : "finds bytes in the pipe",
			       not_waiting_for_the_semaphore(calls[i], st));
		}
	}
	EXPECT_EQ(32, thaw_the_write(&cs, at, &a));
	EXPECT_EQ(1, calls_end(calls, 2)) {
		TH_LOG("once the semaphore is free, both calls go on");
	}
	calls_finish(calls, threads, 2);
	EXPECT_EQ(5, rd.ret) {
		TH_LOG("rule 6: the O_NONBLOCK read of 5 bytes returned %zd (%s)",
		       rd.ret, rd.ret < 0 ? strerror(rd.err) : "no error");
	}
	EXPECT_STREQ("01234", got);
	EXPECT_EQ(4, wr.ret) {
		TH_LOG("rule 10: the O_NONBLOCK write of 4 bytes returned %zd (%s)",
		       wr.ret, wr.ret < 0 ? strerror(wr.err) : "no error");
	}
	set_nonblock(r, 1);
	EXPECT_EQ(5 + 32 + (wr.ret == 4 ? 4 : 0),
		  read(r, rest, sizeof(rest) - 1));
	close(wn);
	close(rn);
	close(w);
	close(r);
}

/* Rules 12 and 14, "Pass it on": a large write woken for room, that had
 * put bytes in and that a signal stops at the semaphore, returns its
 * count and wakes the next writer (large_write_stopped_at_the_semaphore()
 * with a second writer asleep behind it). */
TEST_F_TIMEOUT(pipe,
	       woken_large_write_stopped_at_the_semaphore_wakes_the_next_writer,
	       60)
{
	large_write_stopped_at_the_semaphore(_metadata, 0, 1);
}

/** @brief Rule 7, "empty" is the pipe's when the write holds the
 *         semaphore: a read frozen in its copy of the 16 bytes there
 *         holds it; a second read, then a write of 1 byte, wait for it.
 *         The frozen read goes on: the second read, handed the semaphore
 *         first, finds the pipe empty, lets it go and sleeps; the write,
 *         handed it next, is frozen in its own copy until the read is
 *         seen asleep, then puts its byte into the empty pipe and must
 *         wake it. A write that looked at the pipe before down() saw 16
 *         bytes there and wakes nobody. (Without the write's frozen copy,
 *         a write that ran before the read had gone to sleep would leave
 *         its byte for the read to find, and such a write would pass on a
 *         busy machine.)
 * @param _metadata the test
 */
static void write_that_waited_wakes_the_reader(struct __test_metadata *_metadata)
{
	static char got[64];
	struct fifo_call f, rd = { 0 }, wr = { 0 }, *calls[2] = { &rd, &wr };
	struct copy_stall cs, wcs;
	pthread_t ft, threads[2];
	char *wbuf, st;
	int r, w;

	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	ASSERT_EQ(16, write(w, "0123456789abcdef", 16));
	ASSERT_EQ(1, freeze_call(&cs, &f, &ft, r, 0, 16, 4, 0)) {
		TH_LOG("the read of 16 bytes never reached its copy_to_user()");
	}
	rd = (struct fifo_call){ .fd = r, .buf = got, .count = sizeof(got) };
	expect_waits_for_the_semaphore(_metadata, &threads[0], &rd, "a read");
	/* The write's 1 byte lies on a page that stalls its copy. */
	wbuf = copy_stall_init(&wcs, 0, 0);
	ASSERT_NE(NULL, wbuf);
	wr = (struct fifo_call){ .fd = w, .buf = wbuf, .count = 1,
				 .is_write = 1 };
	expect_waits_for_the_semaphore(_metadata, &threads[1], &wr,
				       "a write");
	ASSERT_EQ(0, copy_stall_release(&cs, 0));
	pthread_join(ft, NULL);
	copy_stall_destroy(&cs);
	EXPECT_EQ(16, f.ret);
	ASSERT_EQ(1, copy_stall_wait(&wcs, -1, WAIT_MS)) {
		TH_LOG("the write of 1 byte never reached its copy_from_user() (it %s)",
		       atomic_load(&wr.done) ? "returned" : "waits on");
	}
	st = task_wait_asleep(rd.tid, &rd.done, WAIT_MS);
	EXPECT_EQ('S', st) {
		TH_LOG("rule 7: a read that found the pipe empty sleeps; it %s",
		       call_state(&rd, st));
	}
	ASSERT_EQ(0, copy_stall_release(&wcs, 'x'));
	EXPECT_EQ(1, calls_end(calls, 2)) {
		TH_LOG("rule 7: a write of 1 byte waited for the semaphore while a read took the 16 bytes there, and put its byte into the empty pipe; the read that found the pipe empty meanwhile sleeps on (the write %s): the write must decide that the pipe was empty after down(), under the semaphore, not before it",
		       atomic_load(&wr.done) ? "returned" : "did not return either");
	}
	calls_finish(calls, threads, 2);
	copy_stall_destroy(&wcs);
	EXPECT_EQ(1, wr.ret);
	EXPECT_EQ(1, rd.ret) {
		TH_LOG("the woken read should get the 1 byte of the write");
	}
	close(w);
	close(r);
}

/* Rule 7: every write that puts bytes into the pipe while it is empty
 * wakes a reader asleep on it, whatever kind of write it is: one of 1
 * byte, one of PIPE_BUF bytes with O_NONBLOCK, a large one with
 * O_NONBLOCK that puts in only what fits, and one whose buffer runs into
 * an unmapped page after 5 bytes. For each, a read of 8192 bytes sleeps
 * on the empty pipe, the write is made, and the read must return the
 * bytes with no further call. Then a write of 1 byte that found the pipe
 * empty only once it had the semaphore (write_that_waited_wakes_the_reader()).
 * The module is loaded afresh first, so that no earlier poll() of the
 * read end makes every write wake readers. */
TEST_F_TIMEOUT(pipe, every_write_that_puts_bytes_in_wakes_a_sleeping_reader,
	       60)
{
	static const struct {
		const char *what;
		size_t count, mapped;
		int nonblock;
		ssize_t moves;
	} kinds[] = {
		{ "a write of 1 byte", 1, 1, 0, 1 },
		{ "an O_NONBLOCK write of PIPE_BUF bytes", PIPE_BUF, PIPE_BUF,
		  1, PIPE_BUF },
		{ "an O_NONBLOCK write of 5000 bytes, which puts 4096 in",
		  5000, 5000, 1, PIPE_SIZE },
		{ "a write of 32 bytes whose buffer faults after 5", 32, 5,
		  0, 5 },
	};
	static char got[2 * PIPE_SIZE];
	struct fifo_call rd = { 0 }, *calls[1] = { &rd };
	pthread_t threads[1];
	unsigned int k;
	char *map, *buf;
	int r, w;
	ssize_t n;
	char st;

	map = mmap(NULL, 3 * 4096 + 8192, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, mprotect(map + 2 * 4096 + 8192, 4096, PROT_NONE));
	memset(map, 'w', 2 * 4096 + 8192);
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, ""));
	ASSERT_EQ(0, sigusr1_interrupts());
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		ASSERT_EQ(0, open_both_ends(&r, &w)) {
			TH_LOG("cannot open both ends: %s", strerror(errno));
		}
		rd = (struct fifo_call){ .fd = r, .buf = got,
					 .count = sizeof(got) };
		st = start_call(&threads[0], &rd);
		ASSERT_EQ('S', st) {
			TH_LOG("rule 7: a read of the empty pipe sleeps; it %s",
			       call_state(&rd, st));
		}
		set_nonblock(w, kinds[k].nonblock);
		buf = map + 2 * 4096 + 8192 - kinds[k].mapped;
		n = write(w, buf, kinds[k].count);
		EXPECT_EQ(kinds[k].moves, n) {
			TH_LOG("%s into the empty pipe returned %zd (%s), not %zd",
			       kinds[k].what, n,
			       n < 0 ? strerror(errno) : "no error",
			       kinds[k].moves);
		}
		EXPECT_EQ(1, calls_end(calls, 1)) {
			TH_LOG("rule 7: %s put bytes into the empty pipe, and the read asleep on it sleeps on: every write that puts bytes into an empty pipe wakes a sleeping reader (a path of write() that skips the wake-up?)",
			       kinds[k].what);
		}
		calls_finish(calls, threads, 1);
		EXPECT_EQ(kinds[k].moves, rd.ret) {
			TH_LOG("the woken read should get the %zd bytes of %s",
			       kinds[k].moves, kinds[k].what);
		}
		close(w);
		close(r);
	}
	munmap(map, 3 * 4096 + 8192);
	write_that_waited_wakes_the_reader(_metadata);
}

/* Rule 23: with exclusive=1, an open of an end that a file holds gets
 * EBUSY at once: before rule 4's ENXIO (the write end held, its reader
 * gone), and without waiting for the semaphore, which a read frozen in
 * its copy holds meanwhile (an end is taken with a counter of its own,
 * not under the semaphore). */
TEST_F_TIMEOUT(pipe, exclusive_busy_end_refuses_without_waiting, 60)
{
	struct other_call o = { .path = PIPE_OUT,
				.flags = O_RDONLY | O_NONBLOCK };
	struct fifo_call a = { 0 };
	struct copy_stall cs;
	pthread_t at, ot;
	int r, w, fd;
	char st;

	ASSERT_EQ(0, sigusr1_interrupts());
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, "exclusive=1"));
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	close(r);
	fd = try_open(PIPE_IN, O_WRONLY);
	EXPECT_EQ(-EBUSY, fd) {
		TH_LOG("rule 23: with exclusive=1, an O_NONBLOCK open of the held write end gets EBUSY, before rule 4's ENXIO for a pipe without reader; it got %s",
		       fd >= 0 ? "a descriptor" : strerror(-fd));
	}
	if (fd >= 0)
		close(fd);
	r = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, r);
	ASSERT_EQ(20, write(w, "0123456789abcdefghij", 20));
	ASSERT_EQ(1, freeze_call(&cs, &a, &at, r, 0, 16, 8, 0)) {
		TH_LOG("the read never reached its copy_to_user()");
	}
	st = start_other_call(&ot, &o);
	EXPECT_EQ('X', st) {
		TH_LOG("rule 23: with exclusive=1, an open of the held read end gets EBUSY at once, without waiting for the semaphore a frozen read holds; it %s",
		       st == 'S' ? "waited for it (state S)" :
		       st == 'D' ? "waited for it in state D" :
		       "did not return");
	}
	if (st != 'X')
		syscall(SYS_tgkill, getpid(), o.tid, SIGUSR1);
	pthread_join(ot, NULL);
	EXPECT_EQ(-1, o.ret);
	EXPECT_EQ(EBUSY, o.err) {
		TH_LOG("rule 23: the open of the held read end failed with %s, not EBUSY",
		       strerror(o.err));
	}
	ASSERT_EQ(0, copy_stall_release(&cs, 0));
	pthread_join(at, NULL);
	copy_stall_destroy(&cs);
	EXPECT_EQ(16, a.ret);
	close(w);
	close(r);
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief One line of the live view, /sys/kernel/debug/mypipe/state. */
struct live_view {
	/** @brief The ring's size. */
	size_t size;
	/** @brief The bytes in it. */
	size_t used;
	/** @brief The files open on the read end. */
	unsigned int readers;
	/** @brief The files open on the write end. */
	unsigned int writers;
	/** @brief The reads asleep on rd_wait. */
	unsigned int readers_waiting;
	/** @brief The writes asleep on wr_wait. */
	unsigned int writers_waiting;
	/** @brief The opens asleep on open_wait. */
	unsigned int openers_waiting;
	/** @brief The line as read, for messages. */
	char line[256];
};

/** @brief Read and parse the live view; the test ends when it cannot be
 *         read or its line is not the given one (rule 26).
 * @param _metadata the test
 * @param v filled in here
 */
static void read_live_view(struct __test_metadata *_metadata,
			   struct live_view *v)
{
	memset(v, 0, sizeof(*v));
	ASSERT_LE(1, reload_checks_debugfs_state(MODULE, v->line,
						 sizeof(v->line))) {
		TH_LOG("rule 26: /sys/kernel/debug/%s/state cannot be read",
		       MODULE);
	}
	ASSERT_EQ(7, sscanf(v->line, "mypipe size %zu used %zu readers %u writers %u readers_waiting %u writers_waiting %u openers_waiting %u",
			    &v->size, &v->used, &v->readers, &v->writers,
			    &v->readers_waiting, &v->writers_waiting,
			    &v->openers_waiting)) {
		TH_LOG("the live view's line is not the given one: %s",
		       v->line);
	}
}

/** @brief The bytes in the ring, as the live view's "used" shows them.
 * @param _metadata the test
 * @return used
 */
static size_t live_view_used(struct __test_metadata *_metadata)
{
	struct live_view v;

	read_live_view(_metadata, &v);
	return v.used;
}

/** @brief Read the live view and check its counters.
 * @param _metadata the test
 * @param when what is open and asleep, for the message
 * @param readers the files open on the read end expected, or -1 not to
 *        check them (while an open sleeps in the rendezvous)
 * @param writers the same for the write end
 * @param rd readers_waiting expected
 * @param wr writers_waiting expected
 * @param op openers_waiting expected
 */
static void expect_view(struct __test_metadata *_metadata, const char *when,
			int readers, int writers, unsigned int rd,
			unsigned int wr, unsigned int op)
{
	struct live_view v;

	read_live_view(_metadata, &v);
	EXPECT_TRUE(v.readers_waiting == rd && v.writers_waiting == wr &&
		    v.openers_waiting == op) {
		TH_LOG("rule 26: with %s, the live view should show readers_waiting %u writers_waiting %u openers_waiting %u; it shows: %s(each kind of sleeper has its own wait queue: reads rd_wait, writes wr_wait, opens open_wait)",
		       when, rd, wr, op, v.line);
	}
	if (readers < 0)
		return;
	EXPECT_TRUE(v.readers == (unsigned int)readers &&
		    v.writers == (unsigned int)writers) {
		TH_LOG("\"Watching the pipe\": with %s, the live view should count the files open on each end, readers %d writers %d; it shows: %s",
		       when, readers, writers, v.line);
	}
}

/** @brief Rule 19 in the live view: the bytes in the ring, as its "used"
 *         shows them, are @p used.
 * @param _metadata the test
 * @param when what was just closed or ended, for the message
 * @param used the bytes expected
 */
static void expect_used(struct __test_metadata *_metadata, const char *when,
			size_t used)
{
	struct live_view v;

	read_live_view(_metadata, &v);
	EXPECT_EQ(used, v.used) {
		TH_LOG("rule 19: %s, the live view should show used %zu; it shows: %s(the bytes stay while any file of either end is open, and are dropped when the last one goes, not later at the next open)",
		       when, used, v.line);
	}
}

/** @brief Rule 19, seen where no open comes first: 21 bytes go in, and
 *         the live view is read after each close. They stay while a file
 *         of either end is open, and are gone once the last one went: the
 *         reader last, then the writer last, then an open of the read end
 *         asleep in the rendezvous (no writer left) that a signal ends
 *         after the last reader closed.
 * @param _metadata the test
 */
static void expect_dropped_in_the_view(struct __test_metadata *_metadata)
{
	struct other_call o = { .path = PIPE_OUT, .flags = O_RDONLY };
	pthread_t ot;
	int round, r, w;
	char st;

	catch_sigusr1(0);
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, open_both_ends(&r, &w)) {
			TH_LOG("cannot open both ends: %s", strerror(errno));
		}
		ASSERT_EQ(21, write(w, "abcdefghijklmnopqrstu", 21));
		if (round == 1) {
			close(r);
			expect_used(_metadata,
				    "after the reader closed, with a writer still open",
				    21);
			close(w);
			expect_used(_metadata, "after the writer closed last",
				    0);
			continue;
		}
		close(w);
		expect_used(_metadata,
			    "after the writer closed, with a reader still open",
			    21);
		if (!round) {
			close(r);
			expect_used(_metadata, "after the reader closed last",
				    0);
			continue;
		}
		st = start_other_call(&ot, &o);
		close(r);
		if (st != 'X')
			syscall(SYS_tgkill, getpid(), o.tid, SIGUSR1);
		pthread_join(ot, NULL);
		EXPECT_EQ('S', st) {
			TH_LOG("rule 3: an open of the read end with no writer sleeps");
		}
		expect_used(_metadata,
			    "after the last reader closed and a signal ended the open of the read end asleep in the rendezvous",
			    0);
	}
}

/* Rule 19 (see scenario_bytes_are_dropped_when_all_ends_close()): the
 * scenario against a named pipe, then the live view after each last
 * close. */
TEST_F_TIMEOUT(pipe, like_fifo_bytes_are_dropped_when_all_ends_close,
	       DIFF_TIMEOUT)
{
	differential(_metadata, scenario_bytes_are_dropped_when_all_ends_close,
		     "rule 19: the bytes are dropped when the last file of both ends goes, whichever closes last, and not before; rule 5: also when the last is an open that a signal ended");
	expect_dropped_in_the_view(_metadata);
}

/** @brief The kinds of sleeper each_kind_of_sleeper() makes. */
enum sleeper_kind {
	/** @brief An open of the write end asleep in the rendezvous. */
	OPENER_ASLEEP,
	/** @brief A read asleep on the empty pipe. */
	READER_ASLEEP,
	/** @brief A write asleep on the full pipe. */
	WRITER_ASLEEP,
};

/** @brief What a test checks of a sleeper each_kind_of_sleeper() made.
 * @param _metadata the test
 * @param kind which sleeper is asleep
 * @param tid its thread
 * @param arg the test's own
 */
typedef void (*sleeper_check)(struct __test_metadata *_metadata,
			      enum sleeper_kind kind, pid_t tid, void *arg);

/** @brief Reload the module, then make each kind of sleeper in turn, and
 *         call @p check while it sleeps: an open of the write end with no
 *         reader (rule 3), a read of the empty pipe (rule 7) and a write
 *         of 8 bytes to the full pipe (rule 10, with both ends held by one
 *         file each); each is then served (a reader's open, 3 bytes, a
 *         read that empties the pipe) and must return. Every file is
 *         closed at the end.
 * @param _metadata the test
 * @param check what to look at while each sleeps
 * @param arg its argument
 */
static void each_kind_of_sleeper(struct __test_metadata *_metadata,
				 sleeper_check check, void *arg)
{
	struct other_call o = { .path = PIPE_IN, .flags = O_WRONLY };
	struct fifo_call rd = { 0 }, wr = { 0 };
	struct fifo_call *calls[2] = { &rd, &wr };
	static char full[PIPE_SIZE];
	pthread_t ot, threads[2];
	char got[16];
	int r, w;
	char st;

	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, ""));
	st = start_other_call(&ot, &o);
	ASSERT_EQ('S', st) {
		TH_LOG("rule 3: an open of the write end with no reader sleeps");
	}
	check(_metadata, OPENER_ASLEEP, o.tid, arg);
	r = open(PIPE_OUT, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, r);
	pthread_join(ot, NULL);
	ASSERT_LE(0, o.ret);
	w = open(PIPE_IN, O_WRONLY);
	ASSERT_LE(0, w);
	set_nonblock(r, 0);
	rd = (struct fifo_call){ .fd = r, .buf = got, .count = sizeof(got) };
	st = start_call(&threads[0], &rd);
	ASSERT_EQ('S', st) {
		TH_LOG("rule 7: a read of the empty pipe sleeps; it %s",
		       call_state(&rd, st));
	}
	check(_metadata, READER_ASLEEP, rd.tid, arg);
	ASSERT_EQ(3, write(w, "abc", 3));
	EXPECT_EQ(1, calls_end(calls, 1));
	calls_finish(calls, threads, 1);
	EXPECT_EQ(3, rd.ret);
	memset(full, 'f', sizeof(full));
	ASSERT_EQ(PIPE_SIZE, write(w, full, sizeof(full)));
	wr = (struct fifo_call){ .fd = w, .buf = "12345678", .count = 8,
				 .is_write = 1 };
	st = start_call(&threads[1], &wr);
	ASSERT_EQ('S', st) {
		TH_LOG("rule 10: a write of 8 bytes to the full pipe sleeps; it %s",
		       call_state(&wr, st));
	}
	check(_metadata, WRITER_ASLEEP, wr.tid, arg);
	ASSERT_EQ(PIPE_SIZE, read(r, full, sizeof(full)));
	EXPECT_EQ(1, calls_end(calls + 1, 1));
	calls_finish(calls + 1, threads + 1, 1);
	EXPECT_EQ(8, wr.ret);
	close(w);
	close(r);
}

/** @brief each_kind_of_sleeper()'s check for the live view: the sleeper
 *         counted on its own line, and (but for the opener, whose file
 *         is not open yet) one file open on each end.
 * @param _metadata the test
 * @param kind which sleeper is asleep
 * @param tid its thread (unused)
 * @param arg unused
 */
static void view_counts_sleeper(struct __test_metadata *_metadata,
				enum sleeper_kind kind, pid_t tid, void *arg)
{
	(void)tid;
	(void)arg;
	if (kind == OPENER_ASLEEP)
		expect_view(_metadata, "an open of the write end asleep in the rendezvous",
			    -1, -1, 0, 0, 1);
	else if (kind == READER_ASLEEP)
		expect_view(_metadata, "a read asleep on the empty pipe", 1, 1,
			    1, 0, 0);
	else
		expect_view(_metadata, "a write asleep on the full pipe", 1, 1,
			    0, 1, 0);
}

/* Rule 26: each kind of sleeper waits on its own queue, and the live view
 * (/sys/kernel/debug/mypipe/state) counts it there: an open asleep in the
 * rendezvous as openers_waiting, a read asleep on the empty pipe as
 * readers_waiting, a write asleep on the full pipe as writers_waiting.
 * Its readers and writers are the files open on each end now ("Watching
 * the pipe"), not the opens so far. */
TEST_F_TIMEOUT(pipe, live_view_counts_each_kind_of_sleeper, 60)
{
	int i, fds[3];

	each_kind_of_sleeper(_metadata, view_counts_sleeper, NULL);
	expect_view(_metadata, "every file closed", 0, 0, 0, 0, 0);
	for (i = 0; i < 3; i++) {
		fds[i] = open(i ? PIPE_OUT : PIPE_IN,
			      (i ? O_RDONLY : O_WRONLY) | O_NONBLOCK);
		if (!i) {
			EXPECT_EQ(-1, fds[i]);
			EXPECT_EQ(ENXIO, errno);
		} else {
			ASSERT_LE(0, fds[i]);
		}
	}
	expect_view(_metadata, "two readers open, after a writer's open was refused (ENXIO)",
		    2, 0, 0, 0, 0);
	fds[0] = open(PIPE_IN, O_WRONLY);
	ASSERT_LE(0, fds[0]);
	expect_view(_metadata, "two readers and a writer open", 2, 1, 0, 0,
		    0);
	for (i = 0; i < 3; i++)
		close(fds[i]);
}

/** @brief each_kind_of_sleeper()'s check for sleeps_have_no_timeout:
 *         the sleeper armed no timer that would end its sleep by itself.
 * @param _metadata the test
 * @param kind which sleeper is asleep
 * @param tid its thread
 * @param arg unused
 */
static void sleeper_has_no_timer(struct __test_metadata *_metadata,
				 enum sleeper_kind kind, pid_t tid, void *arg)
{
	static const char *const what[] = {
		[OPENER_ASLEEP] = "rule 3: an open of the write end asleep in the rendezvous sleeps until a reader comes or a signal ends it",
		[READER_ASLEEP] = "rule 7: a read asleep on the empty pipe sleeps until bytes come, the last writer leaves or a signal ends it",
		[WRITER_ASLEEP] = "rule 12: a write asleep on the full pipe sleeps until there is room for PIPE_BUF bytes, the last reader leaves or a signal ends it",
	};
	char event[320];

	(void)arg;
	EXPECT_EQ(0, sleep_timer_armed(tid, event, sizeof(event))) {
		TH_LOG("%s, never by itself, and this one armed a timer that would end it: %s (wait_event_interruptible_timeout()?)",
		       what[kind], event);
	}
}

/* Rules 3, 7 and 12: an open asleep in the rendezvous, a read asleep on
 * the empty pipe and a write asleep on the full pipe each sleep until the
 * other side comes or a signal ends the sleep, never until a timeout:
 * they arm no timer (sleep_timer.h: the kernel's timer_start and
 * hrtimer_start events say so at once, where waiting would take as long
 * as the longest timeout a driver may choose). Not checked on a kernel
 * without tracefs. */
TEST_F_TIMEOUT(pipe, sleeps_have_no_timeout, 60)
{
	if (sleep_timer_start())
		return;
	each_kind_of_sleeper(_metadata, sleeper_has_no_timer, NULL);
	sleep_timer_stop();
}

/* ---------------------------------------------------------------------
 * The model: a seeded random sequence of calls that do not sleep,
 * compared call by call with pipe_model.h
 */

/** @brief The command that replays the model test's seed. */
#define MODEL_REPLAY "make test LAB=07 SEED=%llu"
/** @brief Descriptors the model test holds at most at once. */
#define MODEL_FILES 6
/** @brief Steps of one sequence. */
#define MODEL_STEPS 3000
/** @brief The largest read or write the model test makes. */
#define MODEL_IO_MAX (65536 + 2 * PIPE_BUF)

/** @brief One module configuration the model test runs a sequence on. */
struct model_config {
	/** @brief The module's parameters. */
	const char *params;
	/** @brief Its pipe_size. */
	size_t size;
	/** @brief Its exclusive. */
	int exclusive;
	/** @brief The grading seed. */
	uint64_t seed;
};

/** @brief What the watchdog of a model sequence shares with it. */
struct model_watch {
	/** @brief The thread that makes the calls. */
	pid_t tid;
	/** @brief The step whose call is under way, plus 1; 0 between
	 *         calls. */
	atomic_int in_call;
	/** @brief The step (plus 1) whose call the watchdog found asleep
	 *         for good and ended with SIGUSR1; 0 if none. */
	atomic_int stuck;
	/** @brief Set to end the watchdog. */
	atomic_int done;
};

/** @brief Thread body: while a call of the model sequence is under way,
 *         look whether its thread is blocked for good (task_stuck.h: no
 *         other task can wake it, since no other task uses the pipe);
 *         if so, end the call with SIGUSR1 (which interrupts it), so
 *         that the test fails at once, naming the call.
 * @param arg the struct model_watch
 * @return NULL
 */
static void *model_watchdog(void *arg)
{
	struct model_watch *mw = arg;
	struct stuck_watch w;
	int watched = 0, now;

	while (!atomic_load(&mw->done)) {
		now = atomic_load(&mw->in_call);
		if (now != watched) {
			stuck_watch_init(&w);
			watched = now;
		}
		if (now && !atomic_load(&mw->stuck) &&
		    stuck_watch_look(&w, &mw->tid, 1, STUCK_MS)) {
			atomic_store(&mw->stuck, now);
			syscall(SYS_tgkill, getpid(), mw->tid, SIGUSR1);
		}
		usleep(LOOK_MS * 1000);
	}
	return NULL;
}

/** @brief The state of one model sequence. */
struct model_run {
	/** @brief The test. */
	struct __test_metadata *md;
	/** @brief The configuration. */
	const struct model_config *cfg;
	/** @brief The seed. */
	uint64_t seed;
	/** @brief The generator. */
	struct fifo_model_rng rng;
	/** @brief The model. */
	struct pipe_model model;
	/** @brief The descriptors, -1 for a free slot. */
	int fd[MODEL_FILES];
	/** @brief What the model knows of each. */
	struct pipe_model_file file[MODEL_FILES];
	/** @brief The step under way. */
	int step;
	/** @brief The last calls, for the message. */
	struct fifo_model_history hist;
	/** @brief The watchdog. */
	struct model_watch *watch;
	/** @brief MODEL_IO_MAX bytes followed by an unmapped page. */
	unsigned char *io;
	/** @brief What the model read, for comparison. */
	unsigned char *want;
	/** @brief Nonzero once a difference was reported. */
	int failed;
	/** @brief Calls compared with the model: opens, reads, writes,
	 *         polls. */
	int compared[4];
	/** @brief Of the reads and writes compared, those that moved bytes
	 *         and those that failed. */
	int moved, refused;
};

/** @brief A buffer of @p count bytes whose first @p usable are mapped and
 *         the rest not (the unmapped page of @ref model_run.io).
 * @param r the run
 * @param count the call's byte count
 * @param usable the mapped bytes (@p count for a good buffer)
 * @return the buffer
 */
static unsigned char *model_buffer(struct model_run *r, size_t count,
				   size_t usable)
{
	return r->io + MODEL_IO_MAX - (usable < count ? usable : count);
}

/** @brief Report the sequence's first difference, with the seed, the
 *         step, both results, the last calls and the replay command.
 * @param r the run
 * @param call the call
 * @param want what the model says
 * @param got what the device did
 * @param rule the handout's rules it checks
 */
static void model_differs(struct model_run *r, const char *call,
			  const char *want, const char *got, const char *rule)
{
	struct __test_metadata *_metadata = r->md;

	r->failed = 1;
	fprintf(stderr,
		"# %s: module loaded with '%s', seed %llu, step %d: %s\n#   model:  %s\n#   device: %s\n#   %s\n#   the pipe (model) held %zu of %zu bytes before the call, with %u reader(s) and %u writer(s) open; the last calls, oldest first:\n",
		_metadata->name, r->cfg->params, (unsigned long long)r->seed,
		r->step, call, want, got, rule, r->model.len,
		r->model.capacity, r->model.readers, r->model.writers);
	fifo_model_history_print(&r->hist, stderr, "#     ");
	fprintf(stderr, "#   replay: " MODEL_REPLAY "\n",
		(unsigned long long)r->seed);
	_metadata->exit_code = KSFT_FAIL;
}

/** @brief Mark the start of step @p r->step's call for the watchdog. */
static void model_call_starts(struct model_run *r)
{
	atomic_store(&r->watch->in_call, r->step + 1);
}

/** @brief Mark the end of the call; whether the watchdog ended it.
 * @param r the run
 * @return nonzero if the call slept for good and SIGUSR1 ended it
 */
static int model_call_slept(struct model_run *r)
{
	atomic_store(&r->watch->in_call, 0);
	return atomic_load(&r->watch->stuck) == r->step + 1;
}

/** @brief Whether SIGPIPE came (it is blocked), and take it.
 * @return nonzero if it was pending
 */
static int model_take_sigpipe(void)
{
	static const struct timespec now;
	sigset_t pipe_only;

	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	return sigtimedwait(&pipe_only, NULL, &now) == SIGPIPE;
}

/** @brief Compare one call's outcome with the model's.
 * @param r the run
 * @param call the call, described
 * @param want the model's result
 * @param ret what the call returned
 * @param err errno after it
 * @param sigpipe whether SIGPIPE came
 * @param rule the handout's rules it checks
 * @return nonzero if they agree
 */
static int model_check(struct model_run *r, const char *call,
		       struct pipe_model_result want, ssize_t ret, int err,
		       int sigpipe, const char *rule)
{
	char w[48], g[80];

	if (model_call_slept(r)) {
		model_differs(r, call, pipe_model_describe(want, w, sizeof(w)),
			      "slept, and nothing could ever wake it (ended with a signal)",
			      rule);
		return 0;
	}
	if (pipe_model_agrees(want, ret, err) && sigpipe == want.sigpipe) {
		if (want.ret > 0)
			r->moved++;
		else if (want.ret < 0)
			r->refused++;
		fifo_model_history_add(&r->hist, "%s -> %s", call,
				       pipe_model_describe(want, w, sizeof(w)));
		return 1;
	}
	if (ret == -1)
		snprintf(g, sizeof(g), "-1 %s%s",
			 strerrorname_np(err) ? strerrorname_np(err) : "E?",
			 sigpipe ? " + SIGPIPE" : "");
	else
		snprintf(g, sizeof(g), "%zd%s", ret,
			 sigpipe ? " + SIGPIPE" : "");
	model_differs(r, call, pipe_model_describe(want, w, sizeof(w)), g,
		      rule);
	return 0;
}

/** @brief A random byte count: 0, 1, small, around PIPE_BUF, around the
 *         room or the bytes in the pipe, up to past the capacity.
 * @param r the run
 * @param writing nonzero for a write
 * @return the count, at most MODEL_IO_MAX
 */
static size_t model_count(struct model_run *r, int writing)
{
	size_t cap = r->model.capacity, here;
	uint64_t k = fifo_model_rng_below(&r->rng, 10);

	here = writing ? cap - r->model.len : r->model.len;
	switch (k) {
	case 0:
		return fifo_model_rng_below(&r->rng, 2);	/* 0 or 1 */
	case 1:
	case 2:
		return 1 + fifo_model_rng_below(&r->rng, 64);
	case 3:
		return PIPE_BUF - 1 + fifo_model_rng_below(&r->rng, 3);
	case 4:
		if (here > 1)
			return here - 1 + fifo_model_rng_below(&r->rng, 3);
		return 1 + fifo_model_rng_below(&r->rng, 2);
	case 5:
		here = cap + fifo_model_rng_below(&r->rng, 2 * PIPE_BUF);
		return here < MODEL_IO_MAX ? here : MODEL_IO_MAX;
	default:
		return 1 + fifo_model_rng_below(&r->rng, cap);
	}
}

/** @brief How many bytes of a buffer for @p count are mapped: all of
 *         them mostly, sometimes only a part (rule 20).
 * @param r the run
 * @param count the byte count
 * @return the mapped bytes
 */
static size_t model_usable(struct model_run *r, size_t count)
{
	if (!count || fifo_model_rng_below(&r->rng, 8))
		return count;
	return fifo_model_rng_below(&r->rng, count);
}

/** @brief A random slot holding a file of end @p end, or -1.
 * @param r the run
 * @param end the end
 * @return the slot
 */
static int model_pick(struct model_run *r, enum pipe_model_end end)
{
	int slots[MODEL_FILES], n = 0, i;

	for (i = 0; i < MODEL_FILES; i++)
		if (r->fd[i] >= 0 && r->file[i].end == end)
			slots[n++] = i;
	return n ? slots[fifo_model_rng_below(&r->rng, n)] : -1;
}

/** @brief One open of end @p end: mostly the right direction, sometimes
 *         not (rule 2); with or without O_NONBLOCK, and with it where the
 *         model says the open would sleep.
 * @param r the run
 * @param end the end
 */
static void model_open(struct model_run *r, enum pipe_model_end end)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR, O_ACCMODE };
	int slot, mode, nonblock, fd, err, i;
	struct pipe_model_file f;
	struct pipe_model_result want;
	struct pipe_model saved = r->model;
	char call[96];

	for (slot = 0; slot < MODEL_FILES && r->fd[slot] >= 0; slot++)
		;
	if (slot == MODEL_FILES)
		return;
	mode = end == PIPE_MODEL_WRITE_END ? O_WRONLY : O_RDONLY;
	if (!fifo_model_rng_below(&r->rng, 10))
		mode = modes[fifo_model_rng_below(&r->rng, 4)];
	nonblock = fifo_model_rng_below(&r->rng, 2);
	want = pipe_model_open(&r->model, &f, end, mode, nonblock);
	if (want.blocks) {
		r->model = saved;
		nonblock = 1;
		want = pipe_model_open(&r->model, &f, end, mode, nonblock);
	}
	snprintf(call, sizeof(call), "open(%s, %s%s)",
		 end == PIPE_MODEL_WRITE_END ? PIPE_IN : PIPE_OUT,
		 mode == O_RDONLY ? "O_RDONLY" :
		 mode == O_WRONLY ? "O_WRONLY" :
		 mode == O_RDWR ? "O_RDWR" : "O_ACCMODE",
		 nonblock ? " | O_NONBLOCK" : "");
	r->compared[0]++;
	model_call_starts(r);
	fd = open(end == PIPE_MODEL_WRITE_END ? PIPE_IN : PIPE_OUT,
		  mode | (nonblock ? O_NONBLOCK : 0));
	err = errno;
	i = model_check(r, call, want, fd < 0 ? -1 : 0, err, 0,
			"rules 2 (direction), 3 (an open of an end whose other end is held returns at once), 4 (O_NONBLOCK opens) and 23 (exclusive=1: EBUSY)");
	if (fd >= 0 && (!i || want.ret != 0)) {
		close(fd);	/* the device opened where the model did not */
		return;
	}
	if (fd >= 0) {
		r->fd[slot] = fd;
		r->file[slot] = f;
	}
}

/** @brief One close of a random descriptor.
 * @param r the run
 */
static void model_close(struct model_run *r)
{
	int slot = model_pick(r, fifo_model_rng_below(&r->rng, 2));

	if (slot < 0)
		return;
	fifo_model_history_add(&r->hist, "close(%s file in slot %d)",
			       r->file[slot].end == PIPE_MODEL_WRITE_END ?
			       "write-end" : "read-end", slot);
	model_call_starts(r);
	close(r->fd[slot]);
	model_call_slept(r);	/* a close may wait for the semaphore */
	pipe_model_close(&r->model, &r->file[slot]);
	r->fd[slot] = -1;
}

/** @brief Set or clear O_NONBLOCK on the descriptor in @p slot, with
 *         fcntl(), on the device and in the model.
 * @param r the run
 * @param slot the slot
 * @param on nonzero to set it
 */
static void model_set_nonblock(struct model_run *r, int slot, int on)
{
	r->file[slot].nonblock = on;
	set_nonblock(r->fd[slot], on);
	fifo_model_history_add(&r->hist, "fcntl(slot %d, F_SETFL, %s)", slot,
			       on ? "O_NONBLOCK" : "0");
}

/** @brief Set or clear O_NONBLOCK on a random descriptor (the driver
 *         must look at it at every call, not once at open).
 * @param r the run
 */
static void model_fcntl(struct model_run *r)
{
	int slot = model_pick(r, fifo_model_rng_below(&r->rng, 2));

	if (slot >= 0)
		model_set_nonblock(r, slot, !r->file[slot].nonblock);
}

/** @brief One read of a random size, on a random read-end descriptor,
 *         into a good buffer or one that faults part way, with
 *         O_NONBLOCK set first where the model says it would sleep (an
 *         open of the read end instead, if none is open).
 * @param r the run
 */
static void model_read(struct model_run *r)
{
	int slot = model_pick(r, PIPE_MODEL_READ_END), err;
	struct pipe_model saved = r->model;
	struct pipe_model_result want;
	size_t count, usable;
	unsigned char *buf;
	char call[112];
	ssize_t n;

	if (slot < 0) {
		model_open(r, PIPE_MODEL_READ_END);
		return;
	}
	count = model_count(r, 0);
	usable = model_usable(r, count);
	want = pipe_model_read(&r->model, &r->file[slot], count, usable,
			       r->want);
	if (want.blocks) {
		r->model = saved;
		model_set_nonblock(r, slot, 1);
		want = pipe_model_read(&r->model, &r->file[slot], count,
				       usable, r->want);
	}
	buf = model_buffer(r, count, usable);
	if (usable < count)
		snprintf(call, sizeof(call),
			 "read(slot %d%s, %zu bytes, buffer faults after %zu)",
			 slot, r->file[slot].nonblock ? " O_NONBLOCK" : "",
			 count, usable);
	else
		snprintf(call, sizeof(call), "read(slot %d%s, %zu bytes)",
			 slot, r->file[slot].nonblock ? " O_NONBLOCK" : "",
			 count);
	r->compared[1]++;
	model_call_starts(r);
	n = read(r->fd[slot], buf, count);
	err = errno;
	if (!model_check(r, call, want, n, err, model_take_sigpipe(),
			 "rules 6 (min(n, bytes there), oldest first), 7 (empty: EAGAIN with O_NONBLOCK), 8 (end of file once no writer is left), 9 (0 bytes: 0), 19 (bytes dropped when both ends are closed) and 20 (a fault part way moves the bytes up to it; EFAULT only if none)"))
		return;
	if (n > 0 && memcmp(buf, r->want, n)) {
		size_t i = 0;

		while (buf[i] == r->want[i])
			i++;
		snprintf(call + strlen(call), sizeof(call) - strlen(call),
			 ": byte %zu", i);
		model_differs(r, call, "the bytes written, in order",
			      "other bytes (lost, repeated or reordered)",
			      "rule 6 (oldest first)");
	}
}

/** @brief One write of a random size and random bytes, on a random
 *         write-end descriptor, from a good buffer or one that faults part
 *         way, with O_NONBLOCK set first where the model says it would
 *         sleep (an open of the write end instead, if none is open).
 * @param r the run
 */
static void model_write(struct model_run *r)
{
	int slot = model_pick(r, PIPE_MODEL_WRITE_END), err;
	struct pipe_model saved = r->model;
	struct pipe_model_result want;
	size_t count, usable, mapped, i;
	unsigned char *buf;
	char call[112];
	uint64_t word;
	ssize_t n;

	if (slot < 0) {
		model_open(r, PIPE_MODEL_WRITE_END);
		return;
	}
	count = model_count(r, 1);
	usable = model_usable(r, count);
	buf = model_buffer(r, count, usable);
	mapped = usable < count ? usable : count;
	for (i = 0; i < mapped; i += sizeof(word)) {
		word = fifo_model_rng_next(&r->rng);
		memcpy(buf + i, &word, mapped - i < sizeof(word) ?
				       mapped - i : sizeof(word));
	}
	want = pipe_model_write(&r->model, &r->file[slot], buf, count,
				usable);
	if (want.blocks) {
		r->model = saved;
		model_set_nonblock(r, slot, 1);
		want = pipe_model_write(&r->model, &r->file[slot], buf, count,
					usable);
	}
	if (usable < count)
		snprintf(call, sizeof(call),
			 "write(slot %d%s, %zu bytes, buffer faults after %zu)",
			 slot, r->file[slot].nonblock ? " O_NONBLOCK" : "",
			 count, usable);
	else
		snprintf(call, sizeof(call), "write(slot %d%s, %zu bytes)",
			 slot, r->file[slot].nonblock ? " O_NONBLOCK" : "",
			 count);
	r->compared[2]++;
	model_call_starts(r);
	n = write(r->fd[slot], buf, count);
	err = errno;
	model_check(r, call, want, n, err, model_take_sigpipe(),
		    "rules 9 (0 bytes: 0, no SIGPIPE), 10 (up to PIPE_BUF bytes: whole or EAGAIN), 11 (a large write puts in what fits), 13 (no reader: SIGPIPE and EPIPE) and 20 (a fault part way moves the bytes up to it)");
}

/** @brief poll() of every descriptor with a timeout of 0, each compared
 *         with the model.
 * @param r the run
 */
static void model_poll(struct model_run *r)
{
	struct pollfd fds[MODEL_FILES];
	int slots[MODEL_FILES], n = 0, i, ret;
	char call[64], w[80], g[80];
	short want;

	for (i = 0; i < MODEL_FILES; i++) {
		if (r->fd[i] < 0)
			continue;
		fds[n] = (struct pollfd){ .fd = r->fd[i],
					  .events = POLLIN | POLLOUT |
						    POLLRDNORM | POLLWRNORM };
		slots[n++] = i;
	}
	if (!n)
		return;
	r->compared[3]++;
	model_call_starts(r);
	ret = poll(fds, n, 0);
	if (model_call_slept(r) || ret < 0) {
		model_differs(r, "poll(every descriptor, timeout 0)",
			      "returns at once",
			      ret < 0 ? strerror(errno) : "slept",
			      "rule 17 (poll never waits for the semaphore)");
		return;
	}
	for (i = 0; i < n; i++) {
		want = pipe_model_poll(&r->model, &r->file[slots[i]]);
		if (fds[i].revents == want)
			continue;
		snprintf(call, sizeof(call), "poll(slot %d, the %s end)",
			 slots[i], r->file[slots[i]].end ==
			 PIPE_MODEL_WRITE_END ? "write" : "read");
		model_differs(r, call,
			      pipe_model_describe_events(want, w, sizeof(w)),
			      pipe_model_describe_events(fds[i].revents, g,
							 sizeof(g)),
			      r->file[slots[i]].end == PIPE_MODEL_WRITE_END ?
			      "rule 16 (POLLOUT while the room is PIPE_BUF bytes or more, POLLERR while no reader is left)" :
			      "rule 15 (POLLIN while there are bytes; POLLHUP while no writer is left, except for a read end opened with O_NONBLOCK before any writer came)");
		return;
	}
	fifo_model_history_add(&r->hist, "poll(every descriptor) as the model says");
}

/** @brief Load the module afresh with @p cfg's parameters.
 * @param _metadata the test
 * @param cfg the configuration
 * @return 0, or nonzero (the test failed) if it cannot
 */
static int model_load(struct __test_metadata *_metadata,
		      const struct model_config *cfg)
{
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	if (module_load(MODULE, cfg->params)) {
		TH_LOG("cannot load the module with '%s': %s", cfg->params,
		       strerror(errno));
		_metadata->exit_code = KSFT_FAIL;
		return 1;
	}
	return 0;
}

/** @brief Run one seeded sequence on the module, loaded with @p cfg
 *         (model_load()).
 * @param _metadata the test
 * @param cfg the configuration
 * @param seed the seed
 * @return nonzero if it found a difference
 */
static int model_sequence(struct __test_metadata *_metadata,
			  const struct model_config *cfg, uint64_t seed)
{
	static struct model_run run;
	struct model_watch *mw;
	struct model_run *r = &run;
	struct timespec start, end;
	pthread_t watchdog;
	uint64_t k;
	int i;

	memset(r, 0, sizeof(*r));
	r->md = _metadata;
	r->cfg = cfg;
	r->seed = seed;
	fifo_model_rng_seed(&r->rng, seed);
	for (i = 0; i < MODEL_FILES; i++)
		r->fd[i] = -1;
	r->io = mmap(NULL, MODEL_IO_MAX + 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	r->want = malloc(MODEL_IO_MAX);
	mw = calloc(1, sizeof(*mw));
	if (r->io == MAP_FAILED || !r->want || !mw ||
	    mprotect(r->io + MODEL_IO_MAX, 4096, PROT_NONE) ||
	    pipe_model_init(&r->model, cfg->size, cfg->exclusive)) {
		TH_LOG("cannot set up the model test: %s", strerror(errno));
		_metadata->exit_code = KSFT_FAIL;
		return 1;
	}
	r->watch = mw;
	mw->tid = (pid_t)syscall(SYS_gettid);
	if (pthread_create(&watchdog, NULL, model_watchdog, mw)) {
		TH_LOG("cannot start the watchdog thread");
		_metadata->exit_code = KSFT_FAIL;
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (r->step = 0; r->step < MODEL_STEPS && !r->failed; r->step++) {
		k = fifo_model_rng_below(&r->rng, 100);
		if (k < 12)
			model_open(r, fifo_model_rng_below(&r->rng, 2));
		else if (k < 20)
			model_close(r);
		else if (k < 27)
			model_fcntl(r);
		else if (k < 52)
			model_read(r);
		else if (k < 85)
			model_write(r);
		else
			model_poll(r);
	}
	atomic_store(&mw->done, 1);
	pthread_join(watchdog, NULL);
	clock_gettime(CLOCK_MONOTONIC, &end);
	TH_LOG("module loaded with '%s', seed %llu: %d steps in %lld ms, compared %d opens, %d reads, %d writes and %d polls of all descriptors (%d reads and writes moved bytes, %d failed)",
	       cfg->params, (unsigned long long)seed, r->step,
	       (long long)(end.tv_sec - start.tv_sec) * 1000 +
	       (end.tv_nsec - start.tv_nsec) / 1000000, r->compared[0],
	       r->compared[1], r->compared[2], r->compared[3], r->moved,
	       r->refused);
	for (i = 0; i < MODEL_FILES; i++)
		if (r->fd[i] >= 0)
			close(r->fd[i]);
	pipe_model_destroy(&r->model);
	free(r->want);
	munmap(r->io, MODEL_IO_MAX + 4096);
	free(mw);
	return r->failed;
}

/* Rules 2-4, 6-11, 13, 15, 16, 19, 20 and 23, call by call against a
 * model (pipe_model.h), where a named pipe cannot answer: a seeded random
 * sequence of opens (both ends, both directions, with and without
 * O_NONBLOCK), closes, O_NONBLOCK set and cleared with fcntl, reads and
 * writes of 0 bytes to past the capacity from good buffers and from ones
 * that fault part way, and polls, over up to six descriptors, with the
 * module loaded with pipe_size=4096, 5000 and (with exclusive=1) 65536
 * and 4097.
 * A call the model says would sleep is made with O_NONBLOCK set for it
 * (fcntl); one that sleeps where the model says it returns fails as soon
 * as it is seen asleep for good.
 * SEED=N (LABKIT_SEED) replaces the three grading seeds. */
TEST_F_TIMEOUT(pipe, matches_the_model, 120)
{
	static const struct model_config configs[] = {
		{ "", 4096, 0, 1701 },
		{ "pipe_size=5000", 5000, 0, 1702 },
		{ "pipe_size=65536 exclusive=1", 65536, 1, 1703 },
		{ "pipe_size=4097 exclusive=1", 4097, 1, 1704 },
	};
	unsigned int i;

	block_sigpipe();
	ASSERT_EQ(0, sigusr1_interrupts());
	for (i = 0; i < sizeof(configs) / sizeof(configs[0]); i++)
		if (model_load(_metadata, &configs[i]) ||
		    model_sequence(_metadata, &configs[i],
				   fifo_model_seed(configs[i].seed)))
			break;
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/* Rule 1: the nodes are mode 0666, so any user makes every call as root
 * does. One sequence of matches_the_model (pipe_size=5000, exclusive=1),
 * made by a child process that is an ordinary user (nobody.h): uid
 * 65534, no capability. A driver that checks a capability or a user id
 * anywhere on its path (open, read, write, poll, fcntl, close) answers
 * otherwise than the model. The test itself stays root, to load the
 * module before and reload it with its defaults after. */
TEST_F_TIMEOUT(pipe, matches_the_model_as_an_unprivileged_user, 120)
{
	static const struct model_config cfg = {
		"pipe_size=5000 exclusive=1", 5000, 1, 1711
	};
	char msg[160];
	int status;
	pid_t pid;

	ASSERT_EQ(0, model_load(_metadata, &cfg));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		block_sigpipe();
		if (sigusr1_interrupts()) {
			TH_LOG("cannot set up SIGUSR1: %s", strerror(errno));
			_exit(2);
		}
		if (nobody_become(msg, sizeof(msg))) {
			TH_LOG("%s", msg);
			_exit(2);
		}
		_exit(model_sequence(_metadata, &cfg,
				     fifo_model_seed(cfg.seed)) ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		TH_LOG("the sequence made as an ordinary user (uid %d, no capability but CAP_SYS_PTRACE) %s; rule 1: the nodes are mode 0666, and any user makes every call as root does",
		       NOBODY_ID, WIFEXITED(status) ?
		       (WEXITSTATUS(status) == 1 ?
			"differed from the model (above)" :
			"could not be set up (above)") :
		       "was killed by a signal");
	}
	EXPECT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/* ---------------------------------------------------------------------
 * Waking only who can go on, seen in context switches
 *
 * A wake-up that reaches a task with nothing to do changes no result:
 * the task looks, finds nothing and sleeps again. Only its voluntary
 * context switches show it (ctx_switches.h): a task asleep in a call
 * counts one more each time it was woken and went back to sleep. Every
 * wake-up below is made by a call of the test that returned before the
 * count is read again, and the count is read once the sleeper is seen
 * asleep again (or returned), never after a pause.
 */

#include "ctx_switches.h"

/** @brief Read the pipe empty through @p r, without sleeping; @p r is
 *         left blocking.
 * @param r a read end
 */
static void empty_the_pipe(int r)
{
	static char got[PIPE_SIZE];

	set_nonblock(r, 1);
	while (read(r, got, sizeof(got)) > 0)
		;
	set_nonblock(r, 0);
}

/** @brief The rule a_wake_up_wakes_one_sleeper checks, for its
 *         messages. */
#define ONE_SLEEPER_RULE "\"Waking only who can go on\", point 2: sleepers wait with wait_event_interruptible_exclusive(), so a wake-up of the data path wakes one of them, not the whole queue (every reader waits for bytes, every writer for room for PIPE_BUF bytes, so one woken is enough)"

/** @brief The rule a_wake_up_wakes_one_sleeper checks with writes of
 *         two sizes, for its messages. */
#define PASS_ON_RULE "\"Waking only who can go on\", point 3: a woken writer wakes the next one only if it leaves room for PIPE_BUF bytes, what every sleeping writer waits for; room for fewer wakes a writer for nothing"

/** @brief The sleepers of one_of_two_sleepers_woken(). */
enum two_sleepers {
	/** @brief Two reads of 16 bytes, asleep on the empty pipe. */
	TWO_READERS,
	/** @brief Two writes of PIPE_BUF bytes, asleep on the full pipe. */
	TWO_WRITERS,
	/** @brief A write of PIPE_BUF - ROOM_LEFT bytes and one of 8,
	 *         asleep on the full pipe. */
	TWO_WRITERS_TWO_SIZES,
};

/** @brief Two calls of one side asleep in the driver (two reads of the
 *         empty pipe, or two writes into the full pipe); the other side
 *         makes one call that one of them can use, and no more: exactly
 *         one must return, and the other must not have been woken (its
 *         voluntary context switches unchanged once it is seen asleep
 *         again). Then a second such call serves the other one.
 *
 * With TWO_WRITERS_TWO_SIZES, the woken write (whichever it is) leaves
 * room for fewer than PIPE_BUF bytes, though the other one's bytes may
 * fit in it: it has nothing to pass on, since the other waits for room
 * for PIPE_BUF bytes.
 *
 * @param _metadata the test
 * @param r the read end
 * @param w the write end
 * @param kind which sleepers
 */
static void one_of_two_sleepers_woken(struct __test_metadata *_metadata,
				      int r, int w, enum two_sleepers kind)
{
	static char full[PIPE_SIZE], bufs[2][PIPE_BUF], got[PIPE_SIZE];
	struct fifo_call c[2], *calls[2] = { &c[0], &c[1] };
	int is_write = kind != TWO_READERS;
	const char *side = is_write ? "writer" : "reader";
	const size_t counts[][2] = {
		[TWO_READERS] = { 16, 16 },
		[TWO_WRITERS] = { PIPE_BUF, PIPE_BUF },
		[TWO_WRITERS_TWO_SIZES] = { PIPE_BUF - ROOM_LEFT, 8 },
	};
	ssize_t want = is_write ? PIPE_BUF : 1, ret;
	const char *what = kind == TWO_READERS ?
		"write of 1 byte into the empty pipe" : kind == TWO_WRITERS ?
		"read of PIPE_BUF bytes, which made room for one write of PIPE_BUF bytes" :
		"read of PIPE_BUF bytes from the full pipe, after which the woken write left room for fewer than PIPE_BUF bytes";
	long asleep[2], now;
	pthread_t threads[2];
	char st[2];
	int i, woken = 0, first = -1;

	memset(full, 'f', sizeof(full));
	memset(bufs, 'w', sizeof(bufs));
	if (is_write) {
		ASSERT_EQ(PIPE_SIZE, write(w, full, PIPE_SIZE));
	}
	for (i = 0; i < 2; i++) {
		c[i] = (struct fifo_call){ .fd = is_write ? w : r,
					   .buf = bufs[i],
					   .count = counts[kind][i],
					   .is_write = is_write };
		ASSERT_EQ('S', start_call(&threads[i], &c[i])) {
			TH_LOG("%s", is_write ?
			       "rule 10: a write of up to PIPE_BUF bytes into a full pipe sleeps" :
			       "rule 7: a read of the empty pipe sleeps while a writer holds the write end");
		}
		asleep[i] = ctx_switches_of(c[i].tid);
		ASSERT_LE(0, asleep[i]);
	}
	/* The one call that serves one sleeper. */
	ret = is_write ? read(r, got, PIPE_BUF) : write(w, "1", 1);
	EXPECT_EQ(want, ret);
	for (i = 0; i < 2; i++) {
		st[i] = task_wait_asleep(c[i].tid, &c[i].done, WAIT_MS);
		if (st[i] == 'X' && first < 0)
			first = i;
		woken += st[i] == 'X';
	}
	EXPECT_EQ(1, woken) {
		TH_LOG("%s of the two sleeping %ss returned after a %s, which serves one of them: expected one to return; rule %d",
		       woken ? "each" : "neither", side, what,
		       is_write ? 12 : 7);
	}
	for (i = 0; i < 2; i++) {
		if (st[i] == 'X') {
			EXPECT_EQ(is_write ? (ssize_t)c[i].count : 1,
				  c[i].ret) {
				TH_LOG("the woken %s's call returned %zd (errno %d), expected %zd",
				       side, c[i].ret, c[i].err,
				       is_write ? (ssize_t)c[i].count : 1);
			}
			continue;
		}
		if (st[i] != 'S' || woken != 1)
			continue;
		now = ctx_switches_of(c[i].tid);
		EXPECT_EQ(asleep[i], now) {
			TH_LOG("the other sleeping %s was woken too (voluntary context switches %ld -> %ld) by a %s, and went back to sleep: expected it left asleep (its switches unchanged); %s",
			       side, asleep[i], now, what,
			       kind == TWO_WRITERS_TWO_SIZES ? PASS_ON_RULE :
			       ONE_SLEEPER_RULE);
		}
	}
	/* A second such call serves the other sleeper (only when the first
	 * was served: else a read of the pipe, empty, would sleep for
	 * good); then empty the pipe. */
	if (woken == 1) {
		if (kind == TWO_WRITERS_TWO_SIZES)
			want = c[first].count;
		ret = is_write ? read(r, got, PIPE_BUF) : write(w, "2", 1);
		EXPECT_EQ(want, ret);
		EXPECT_EQ(1, calls_end(calls, 2)) {
			TH_LOG("after two calls that serve one %s each, a %s still sleeps; rule %d",
			       side, side, is_write ? 12 : 7);
		}
	}
	calls_finish(calls, threads, 2);
	if (is_write)
		empty_the_pipe(r);
}

/* "Waking only who can go on", points 2 and 3. Two readers asleep on the
 * empty pipe; a write of 1 byte wakes one, which takes the byte (and
 * leaves nothing to pass on): the other must not have been woken. Then
 * the writers' twin: the pipe full, two writes of PIPE_BUF bytes asleep
 * for room for PIPE_BUF bytes; a read of PIPE_BUF bytes makes room for
 * one of them, which fills the pipe again (so it has nothing to pass
 * on): the other must not have been woken. Last, writes of 4000 and 8
 * bytes asleep on the full pipe: the one the read wakes leaves room for
 * fewer than PIPE_BUF bytes, so it must not pass the wake-up on, though
 * the other's bytes might fit. */
TEST_F_TIMEOUT(pipe, a_wake_up_wakes_one_sleeper, 60)
{
	int r, w;

	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	one_of_two_sleepers_woken(_metadata, r, w, TWO_READERS);
	one_of_two_sleepers_woken(_metadata, r, w, TWO_WRITERS);
	one_of_two_sleepers_woken(_metadata, r, w, TWO_WRITERS_TWO_SIZES);
	close(w);
	close(r);
}

/** @brief The rule a_read_wakes_a_writer_only_for_pipe_buf_of_room
 *         checks, for its messages. */
#define READ_WAKES_WRITER_RULE "\"Waking only who can go on\", the table: a read wakes a sleeping writer only when it made room for PIPE_BUF bytes where there was none (wake_writer); every sleeping writer waits for that much room, so a read that leaves less wakes it for nothing"

/* The table of "Waking only who can go on": a writer asleep on the full
 * pipe waits for room for PIPE_BUF bytes, and a read wakes it only when
 * it made that much room where there was none. A write of PIPE_BUF bytes
 * asleep on the full pipe; reads of 1 byte, then of PIPE_BUF - 2 bytes,
 * leave room for 1 and for PIPE_BUF - 1 bytes: after each, the writer
 * must still be asleep and must not have been woken (its voluntary
 * context switches unchanged once it is seen asleep). The read of 1
 * byte more makes room for PIPE_BUF bytes: the write must go in whole
 * and return PIPE_BUF. */
TEST_F_TIMEOUT(pipe, a_read_wakes_a_writer_only_for_pipe_buf_of_room, 60)
{
	static char full[PIPE_SIZE], buf[PIPE_BUF], got[PIPE_SIZE];
	const size_t reads[] = { 1, PIPE_BUF - 2 };
	struct fifo_call c = { 0 }, *calls[1] = { &c };
	size_t room = 0;
	pthread_t t;
	long asleep, now;
	unsigned int i;
	int r, w;
	char st;

	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	memset(full, 'f', sizeof(full));
	memset(buf, 'w', sizeof(buf));
	ASSERT_EQ(PIPE_SIZE, write(w, full, PIPE_SIZE));
	c = (struct fifo_call){ .fd = w, .buf = buf, .count = PIPE_BUF,
				.is_write = 1 };
	ASSERT_EQ('S', start_call(&t, &c)) {
		TH_LOG("rule 10: a write of PIPE_BUF bytes into a full pipe sleeps");
	}
	asleep = ctx_switches_of(c.tid);
	ASSERT_LE(0, asleep);
	for (i = 0; i < ARRAY_SIZE(reads); i++) {
		EXPECT_EQ((ssize_t)reads[i], read(r, got, reads[i]));
		room += reads[i];
		st = task_wait_asleep(c.tid, &c.done, WAIT_MS);
		EXPECT_EQ('S', st) {
			TH_LOG("a write of PIPE_BUF bytes %s after reads left room for %zu bytes: expected it asleep until there is room for all of it; rule 10",
			       st == 'X' ? "returned" : "did not sleep on",
			       room);
		}
		if (st != 'S')
			break;
		now = ctx_switches_of(c.tid);
		EXPECT_EQ(asleep, now) {
			TH_LOG("a read that left room for %zu bytes woke the writer asleep for PIPE_BUF bytes (voluntary context switches %ld -> %ld), which went back to sleep: expected it left asleep; %s",
			       room, asleep, now, READ_WAKES_WRITER_RULE);
		}
		asleep = now;
	}
	/* The read that makes room for PIPE_BUF bytes wakes it. */
	EXPECT_EQ(1, read(r, got, 1));
	EXPECT_EQ(1, calls_end(calls, 1)) {
		TH_LOG("reads made room for PIPE_BUF bytes, but the write of PIPE_BUF bytes asleep for it still sleeps; rule 12");
	}
	if (atomic_load(&c.done)) {
		EXPECT_EQ(PIPE_BUF, c.ret) {
			TH_LOG("the woken write returned %zd (errno %d), expected PIPE_BUF: it goes in whole (rule 10)",
			       c.ret, c.err);
		}
	}
	calls_finish(calls, &t, 1);
	empty_the_pipe(r);
	close(w);
	close(r);
}

/** @brief The rule a_passed_on_wake_up_wakes_one_sleeper checks, for its
 *         messages. */
#define PASS_ON_ONE_RULE "\"Waking only who can go on\", point 3: a task woken alone that leaves something passes the wake-up on to the next sleeper of its side, one of them (wake_next_reader, wake_next_writer, as exclusive as the first wake-up); a pass-on that wakes every sleeper wakes the others for nothing"

/** @brief Three calls of one side asleep in the driver (reads of 1 byte
 *         on the empty pipe, or writes of PIPE_BUF bytes on the full pipe
 *         of 2 * PIPE_BUF bytes); one call of the other side serves two
 *         of them: exactly two must return, the first woken passing the
 *         wake-up on to the second, and the third must not have been
 *         woken (its voluntary context switches unchanged once it is seen
 *         asleep again). Then one more call serves the third.
 *
 * Every wake-up here is made inside a call that has returned: the
 * write or read of the test, or a sleeper's call before it ends. So the
 * states are looked at again until a look finds no call newly ended:
 * then every wake-up has been made, and a call found asleep is asleep
 * for good.
 *
 * @param _metadata the test
 * @param r the read end
 * @param w the write end
 * @param is_write whether the sleepers are writers
 */
static void two_of_three_sleepers_woken(struct __test_metadata *_metadata,
					int r, int w, int is_write)
{
	static char full[2 * PIPE_BUF], bufs[3][PIPE_BUF], got[2 * PIPE_BUF];
	struct fifo_call c[3], *calls[3] = { &c[0], &c[1], &c[2] };
	const char *side = is_write ? "writer" : "reader";
	const char *what = is_write ?
		"read of 2 * PIPE_BUF bytes from the full pipe, room for two writes of PIPE_BUF bytes" :
		"write of 2 bytes into the empty pipe, a byte for two reads of 1 byte";
	ssize_t want = is_write ? 2 * PIPE_BUF : 2, ret;
	long asleep[3], now;
	pthread_t threads[3];
	int i, woken = 0, before, left = -1;
	char st[3];

	memset(full, 'f', sizeof(full));
	memset(bufs, 'w', sizeof(bufs));
	if (is_write) {
		ASSERT_EQ(2 * PIPE_BUF, write(w, full, 2 * PIPE_BUF));
	}
	for (i = 0; i < 3; i++) {
		c[i] = (struct fifo_call){ .fd = is_write ? w : r,
					   .buf = bufs[i],
					   .count = is_write ? PIPE_BUF : 1,
					   .is_write = is_write };
		ASSERT_EQ('S', start_call(&threads[i], &c[i])) {
			TH_LOG("%s", is_write ?
			       "rule 10: a write of PIPE_BUF bytes into a full pipe sleeps" :
			       "rule 7: a read of the empty pipe sleeps while a writer holds the write end");
		}
		asleep[i] = ctx_switches_of(c[i].tid);
		ASSERT_LE(0, asleep[i]);
	}
	/* The one call that serves two sleepers. */
	ret = is_write ? read(r, got, 2 * PIPE_BUF) : write(w, "12", 2);
	EXPECT_EQ(want, ret);
	do {
		before = woken;
		woken = 0;
		for (i = 0; i < 3; i++) {
			st[i] = task_wait_asleep(c[i].tid, &c[i].done,
						 WAIT_MS);
			woken += st[i] == 'X';
		}
	} while (woken != before);
	EXPECT_EQ(2, woken) {
		TH_LOG("%d of the three sleeping %ss returned after a %s: expected two, the first woken waking the second (rule %d; %s)",
		       woken, side, what, is_write ? 12 : 7, PASS_ON_ONE_RULE);
	}
	for (i = 0; i < 3; i++) {
		if (st[i] == 'X') {
			EXPECT_EQ((ssize_t)c[i].count, c[i].ret) {
				TH_LOG("a woken %s's call returned %zd (errno %d), expected %zu",
				       side, c[i].ret, c[i].err, c[i].count);
			}
			continue;
		}
		if (st[i] != 'S' || woken != 2)
			continue;
		left = i;
		now = ctx_switches_of(c[i].tid);
		EXPECT_EQ(asleep[i], now) {
			TH_LOG("the third sleeping %s was woken too (voluntary context switches %ld -> %ld), and went back to sleep, after a %s and its pass-on: expected it left asleep (its switches unchanged); %s",
			       side, asleep[i], now, what, PASS_ON_ONE_RULE);
		}
	}
	/* One more such call serves the third sleeper (only when two were
	 * served: else a read of the pipe, empty, would sleep for good). */
	if (left >= 0) {
		ret = is_write ? read(r, got, PIPE_BUF) : write(w, "3", 1);
		EXPECT_EQ(is_write ? PIPE_BUF : 1, ret);
		EXPECT_EQ(1, calls_end(calls, 3)) {
			TH_LOG("after a call that serves the one %s left, it still sleeps; rule %d",
			       side, is_write ? 12 : 7);
		}
	}
	calls_finish(calls, threads, 3);
	if (is_write)
		empty_the_pipe(r);
}

/* "Waking only who can go on", point 3, for readers and for writers.
 * Three reads of 1 byte asleep on the empty pipe, and a write of 2
 * bytes: the write wakes one, which leaves a byte and wakes the next;
 * that one leaves nothing, so the third must not have been woken. Then,
 * loaded with pipe_size=8192, three writes of PIPE_BUF bytes asleep on
 * the full pipe, and a read of 8192 bytes: the one woken leaves room for
 * PIPE_BUF bytes and wakes the next; that one fills the pipe, so the
 * third must not have been woken. A pass-on that wakes the whole queue
 * (wake_up_interruptible_all()) changes no result, only the switches. */
TEST_F_TIMEOUT(pipe, a_passed_on_wake_up_wakes_one_sleeper, 60)
{
	int r, w;

	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	two_of_three_sleepers_woken(_metadata, r, w, 0);
	close(w);
	close(r);
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	ASSERT_EQ(0, module_load(MODULE, "pipe_size=8192"));
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	two_of_three_sleepers_woken(_metadata, r, w, 1);
	close(w);
	close(r);
	ASSERT_EQ(0, module_unload_when_free(MODULE, 5000));
	EXPECT_EQ(0, module_load(MODULE, ""));
}

/** @brief The rule a_woken_sleeper_finds_the_semaphore_free checks, for
 *         its messages. */
#define WAKE_AFTER_UP_RULE "\"Waking only who can go on\", point 1: decide under the semaphore, wake after up(), so that the woken task does not at once go to sleep again on the semaphore its waker still holds"

/** @brief A call made by a real-time thread, which counts its own
 *         voluntary context switches around it. */
struct counted_call {
	/** @brief The call; its @ref fifo_call.done is set once the counts
	 *         are taken. */
	struct fifo_call call;
	/** @brief What pthread_setschedparam() returned. */
	int rt_err;
	/** @brief The thread's voluntary switches just before the call. */
	long before;
	/** @brief The thread's voluntary switches just after it. */
	long after;
};

/** @brief Thread body: become SCHED_FIFO, then make the call, counting
 *         the thread's voluntary context switches around it.
 * @param arg the struct counted_call
 * @return NULL
 */
static void *counted_call_main(void *arg)
{
	struct counted_call *c = arg;
	struct sched_param rt = { .sched_priority = 1 };

	c->rt_err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &rt);
	c->before = ctx_switches_own();
	c->call.tid = gettid();
	c->call.ret = c->call.is_write ?
		      write(c->call.fd, c->call.buf, c->call.count) :
		      read(c->call.fd, c->call.buf, c->call.count);
	c->call.err = errno;
	c->after = ctx_switches_own();
	atomic_store(&c->call.done, 1);
	return NULL;
}

/** @brief A real-time call asleep (a write of PIPE_BUF bytes into the
 *         full pipe, or a read of the empty pipe) on the test's CPU is
 *         woken by the test's read that makes room (or write of 1 byte):
 *         it must sleep once in its whole call.
 *
 * Under full preemption the woken task runs at the wake-up itself: after
 * the waker's up() it finds the semaphore free; a wake-up made before
 * up() makes it sleep a second time, on the semaphore. Under voluntary
 * preemption it runs once the waker returns, which a correct driver
 * passes the same way.
 *
 * @param _metadata the test
 * @param r the read end
 * @param w the write end
 * @param is_write nonzero for the sleeping writer, zero for the reader
 * @param full_preempt nonzero when the kernel runs full preemption
 */
static void woken_call_sleeps_once(struct __test_metadata *_metadata, int r,
				   int w, int is_write, int full_preempt)
{
	static char full[PIPE_SIZE], buf[PIPE_BUF], got[PIPE_SIZE];
	struct counted_call c = { 0 };
	struct fifo_call *calls[1] = { &c.call };
	const char *side = is_write ? "writer" : "reader";
	ssize_t want = is_write ? PIPE_BUF : 1;
	pthread_t t;
	char st;

	memset(full, 'f', sizeof(full));
	memset(buf, 'w', sizeof(buf));
	memset(got, 0, sizeof(got));
	if (is_write) {
		ASSERT_EQ(PIPE_SIZE, write(w, full, PIPE_SIZE));
	}
	c.call = (struct fifo_call){ .fd = is_write ? w : r, .buf = buf,
				     .count = is_write ? PIPE_BUF : 16,
				     .is_write = is_write, .ready_pipe = -1,
				     .done_pipe = -1 };
	ASSERT_EQ(0, pthread_create(&t, NULL, counted_call_main, &c));
	while (!c.call.tid && !atomic_load(&c.call.done))
		sched_yield();
	ASSERT_EQ('S', task_wait_asleep(c.call.tid, &c.call.done, WAIT_MS)) {
		TH_LOG("%s", is_write ?
		       "rule 10: a write of PIPE_BUF bytes into a full pipe sleeps" :
		       "rule 7: a read of the empty pipe sleeps while a writer holds the write end");
	}
	EXPECT_EQ(want, is_write ? read(r, got, PIPE_BUF) : write(w, "x", 1));
	st = task_wait_asleep(c.call.tid, &c.call.done, WAIT_MS);
	EXPECT_EQ('X', st) {
		TH_LOG("the sleeping %s did not return after a %s (state %c); rule %d",
		       side, is_write ? "read that made room for PIPE_BUF bytes" :
		       "write of 1 byte into the empty pipe", st ? st : '?',
		       is_write ? 12 : 7);
	}
	if (st == 'X') {
		pthread_join(t, NULL);
		EXPECT_EQ(0, c.rt_err) {
			TH_LOG("the %s could not be made real-time: %s", side,
			       strerror(c.rt_err));
		}
		EXPECT_EQ(want, c.call.ret);
		EXPECT_EQ(1, c.after - c.before) {
			TH_LOG("the real-time %s, woken by a %s on its CPU%s, slept %ld times in its call (voluntary context switches %ld -> %ld): expected once, for room or bytes; the extra sleep is on the semaphore its waker still held; %s",
			       side, is_write ? "read that made room" :
			       "write of 1 byte into the empty pipe",
			       full_preempt ? " under full preemption" : "",
			       c.after - c.before, c.before, c.after,
			       WAKE_AFTER_UP_RULE);
		}
	} else {
		calls_finish(calls, &t, 1);
	}
	if (is_write)
		empty_the_pipe(r);
}

/* "Waking only who can go on", point 1. Everything on one CPU
 * (cpu_order.h), under full preemption (preempt_full.h): a real-time
 * writer asleep on the full pipe is woken by the test's read of PIPE_BUF
 * bytes, and runs at the wake-up itself. Woken after the read's up(), it
 * takes the free semaphore and writes: one voluntary context switch for
 * its whole call. Woken before it, it finds the semaphore held by the
 * read, which it preempted, and sleeps on it: two. Then the twin: a
 * real-time reader asleep on the empty pipe, woken by a write of 1 byte.
 * On a kernel without full preemption (no PREEMPT_DYNAMIC) the woken
 * task runs when the waker returns, and a correct driver gives one switch
 * too. */
TEST_F_TIMEOUT(pipe, a_woken_sleeper_finds_the_semaphore_free, 60)
{
	struct cpu_order order;
	char why[256];
	int r, w, full;

	full = !preempt_full_begin(&preempt_switched, why, sizeof(why));
	if (!full)
		TH_LOG("(this kernel runs without full preemption: a woken task runs when its waker returns, after its up() whatever the order, so a wake-up before up() cannot show here; the count is still checked: %s)",
		       why);
	ASSERT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	ASSERT_EQ(0, open_both_ends(&r, &w)) {
		TH_LOG("cannot open both ends: %s", strerror(errno));
	}
	woken_call_sleeps_once(_metadata, r, w, 1, full);
	woken_call_sleeps_once(_metadata, r, w, 0, full);
	close(w);
	close(r);
	cpu_order_unpin(&order);
	EXPECT_EQ(0, preempt_full_end(&preempt_switched)) {
		TH_LOG("could not switch the kernel back to its preemption model");
	}
}

/** @brief The rule wake_ups_name_their_events checks, for its
 *         messages. */
#define KEYED_WAKE_RULE "rule 17: a wake-up names the events it is for (wake_up_interruptible_sync_poll() with EPOLLIN | EPOLLRDNORM for bytes, EPOLLOUT | EPOLLWRNORM for room), so that poll() and epoll waiters for other events are not woken (the kernel's pollwake() and ep_poll_callback() filter by the key; a plain wake_up_interruptible() has none)"

/** @brief A poll() or epoll_wait() that waits for errors and hang-ups
 *         alone, made by a thread. */
struct event_waiter {
	/** @brief tid, done, ret and err of the wait (fd, buf, count
	 *         unused), so that calls_finish() can end it. */
	struct fifo_call call;
	/** @brief The descriptor polled with events = 0, or -1. */
	int fd;
	/** @brief The epoll instance waited on, or -1. */
	int ep;
	/** @brief The events reported (revents, or the epoll event's). */
	unsigned int got;
	/** @brief What it is, for messages. */
	const char *what;
	/** @brief The thread. */
	pthread_t thread;
	/** @brief Its voluntary context switches once seen asleep. */
	long asleep;
};

/** @brief Thread body: poll() @ref event_waiter.fd with events = 0, or
 *         epoll_wait() on @ref event_waiter.ep, without a timeout.
 * @param arg the struct event_waiter
 * @return NULL
 */
static void *event_waiter_main(void *arg)
{
	struct event_waiter *e = arg;
	struct pollfd p = { .fd = e->fd, .events = 0 };
	struct epoll_event ev = { 0 };

	e->call.tid = gettid();
	if (e->ep >= 0) {
		e->call.ret = epoll_wait(e->ep, &ev, 1, -1);
		e->got = ev.events;
	} else {
		e->call.ret = poll(&p, 1, -1);
		e->got = p.revents;
	}
	e->call.err = errno;
	atomic_store(&e->call.done, 1);
	return NULL;
}

/** @brief Start @p e and wait until it sleeps; note its switches.
 * @param e the waiter, with fd, ep and what set
 * @param why where a failure is described
 * @param size room in @p why
 * @return 0, or -1 (and @p why)
 */
static int event_waiter_start(struct event_waiter *e, char *why, size_t size)
{
	char st;

	e->call.ready_pipe = e->call.done_pipe = -1;
	if (pthread_create(&e->thread, NULL, event_waiter_main, e)) {
		snprintf(why, size, "cannot start the %s", e->what);
		return -1;
	}
	while (!e->call.tid && !atomic_load(&e->call.done))
		sched_yield();
	st = task_wait_asleep(e->call.tid, &e->call.done, WAIT_MS);
	if (st != 'S') {
		snprintf(why, size, "the %s did not sleep (%s, revents %#x); rules 15 and 16: with no hang-up nor error there is no event for it, and it waits",
			 e->what, st == 'X' ? "returned" : "state unknown",
			 e->got);
		return -1;
	}
	e->asleep = ctx_switches_of(e->call.tid);
	return 0;
}

/** @brief After @p cause, @p e must still be asleep, never woken.
 * @param e the waiter
 * @param cause what the test did, for the message
 * @param why where a failure is described
 * @param size room in @p why
 * @return 0, or -1 (and @p why)
 */
static int event_waiter_not_woken(struct event_waiter *e, const char *cause,
				  char *why, size_t size)
{
	char st = task_wait_asleep(e->call.tid, &e->call.done, WAIT_MS);
	long now = ctx_switches_of(e->call.tid);

	if (st == 'X')
		snprintf(why, size, "the %s returned %zd (events %#x) after %s: expected it asleep",
			 e->what, e->call.ret, e->got, cause);
	else if (st != 'S')
		snprintf(why, size, "the %s was not seen asleep again after %s",
			 e->what, cause);
	else if (now != e->asleep)
		snprintf(why, size, "the %s was woken (voluntary context switches %ld -> %ld) by %s, and went back to sleep: expected it left asleep (switches unchanged)",
			 e->what, e->asleep, now, cause);
	else
		return 0;
	return -1;
}

/** @brief After @p cause, @p e must have returned @p events.
 * @param e the waiter
 * @param events what it must report
 * @param cause what the test did, for the message
 * @param why where a failure is described
 * @param size room in @p why
 * @return 0, or -1 (and @p why)
 */
static int event_waiter_woken(struct event_waiter *e, unsigned int events,
			      const char *cause, char *why, size_t size)
{
	char st = task_wait_asleep(e->call.tid, &e->call.done, WAIT_MS);

	if (st != 'X')
		snprintf(why, size, "the %s still sleeps after %s: expected it woken with events %#x (rules 17 and 18: the last close of the other end wakes every sleeper, wake_up_interruptible_all(), whatever it waits for)",
			 e->what, cause, events);
	else if (e->call.ret != 1 || e->got != events)
		snprintf(why, size, "the %s returned %zd with events %#x after %s: expected 1 with %#x",
			 e->what, e->call.ret, e->got, cause, events);
	else
		return 0;
	return -1;
}

/** @brief Open both ends of a named pipe (set to PIPE_SIZE) or of
 *         mypipe without waiting: the read end first, with O_NONBLOCK,
 *         cleared once the write end is open.
 * @param out the read end's path
 * @param in the write end's path
 * @param r where the read end's descriptor goes
 * @param w where the write end's descriptor goes
 * @return 0, or -1 with errno set (nothing left open)
 */
static int open_ends_of(const char *out, const char *in, int *r, int *w)
{
	*r = open(out, O_RDONLY | O_NONBLOCK);
	if (*r < 0)
		return -1;
	*w = open(in, O_WRONLY);
	if (*w < 0 || (!strcmp(in, out) &&
		       fcntl(*w, F_SETPIPE_SZ, PIPE_SIZE) < 0)) {
		int err = errno;

		if (*w >= 0)
			close(*w);
		close(*r);
		errno = err;
		return -1;
	}
	set_nonblock(*r, 0);
	return 0;
}

/** @brief The scenario of wake_ups_name_their_events on one pipe.
 *
 * A poll() of the read end with events = 0 and an epoll_wait() on the
 * read end added with EPOLLHUP alone sleep; a write of 1 byte into the
 * empty pipe must wake neither; the last writer's close must wake both,
 * with the hang-up. Then a poll() of the write end with events = 0
 * sleeps on the full pipe; a read of all of it (room for PIPE_BUF bytes
 * where there was none) must not wake it; the last reader's close must,
 * with the error.
 *
 * @param out the read end's path
 * @param in the write end's path
 * @param why where the first failure is described
 * @param size room in @p why
 * @return 0 as expected, -1 (and @p why) if not
 */
static int keyed_wake_scenario(const char *out, const char *in, char *why,
			       size_t size)
{
	static char full[PIPE_SIZE];
	struct event_waiter e[3] = {
		{ .fd = -1, .ep = -1, .what = "poll() of the read end with events = 0" },
		{ .fd = -1, .ep = -1, .what = "epoll_wait() on the read end added for EPOLLHUP alone" },
		{ .fd = -1, .ep = -1, .what = "poll() of the write end with events = 0" },
	};
	struct fifo_call *calls[3] = { &e[0].call, &e[1].call, &e[2].call };
	pthread_t threads[3];
	struct epoll_event ev = { .events = EPOLLHUP };
	int r, w, ep, started = 0, ret = -1, i;
	char one[384];

	memset(full, 'f', sizeof(full));
	if (open_ends_of(out, in, &r, &w)) {
		snprintf(why, size, "cannot open both ends: %s", strerror(errno));
		return -1;
	}
	ep = epoll_create1(0);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev)) {
		snprintf(why, size, "cannot add the read end to an epoll: %s",
			 strerror(errno));
		goto out;
	}
	e[0].fd = r;
	e[1].ep = ep;
	for (; started < 2; started++)
		if (event_waiter_start(&e[started], why, size))
			goto out;
	if (write(w, "x", 1) != 1) {
		snprintf(why, size, "a write of 1 byte failed: %s", strerror(errno));
		goto out;
	}
	/* Both are looked at, so that the message names each one woken. */
	why[0] = '\0';
	for (i = 0; i < 2; i++)
		if (event_waiter_not_woken(&e[i], "a write of 1 byte into the empty pipe (its wake-up is for EPOLLIN)",
					   one, sizeof(one)))
			snprintf(why + strlen(why), size - strlen(why), "%s%s",
				 why[0] ? "; " : "", one);
	if (why[0]) {
		snprintf(why + strlen(why), size - strlen(why), "; %s",
			 KEYED_WAKE_RULE);
		goto out;
	}
	close(w);
	w = -1;
	if (event_waiter_woken(&e[0], POLLHUP, "the last writer's close", why, size) ||
	    event_waiter_woken(&e[1], EPOLLHUP, "the last writer's close", why, size))
		goto out;
	close(r);
	r = -1;

	if (open_ends_of(out, in, &r, &w)) {
		snprintf(why, size, "cannot open both ends again: %s",
			 strerror(errno));
		goto out;
	}
	if (write(w, full, PIPE_SIZE) != PIPE_SIZE) {
		snprintf(why, size, "cannot fill the pipe: %s", strerror(errno));
		goto out;
	}
	e[2].fd = w;
	if (event_waiter_start(&e[2], why, size))
		goto out;
	started++;
	if (read(r, full, PIPE_SIZE) != PIPE_SIZE) {
		snprintf(why, size, "a read of the full pipe did not get all of it: %s",
			 strerror(errno));
		goto out;
	}
	if (event_waiter_not_woken(&e[2], "a read that made room for PIPE_BUF bytes in the full pipe (its wake-up is for EPOLLOUT)",
				   one, sizeof(one))) {
		snprintf(why, size, "%s; %s", one, KEYED_WAKE_RULE);
		goto out;
	}
	close(r);
	r = -1;
	if (event_waiter_woken(&e[2], POLLERR, "the last reader's close", why, size))
		goto out;
	ret = 0;
out:
	if (r >= 0)
		close(r);
	if (w >= 0)
		close(w);
	for (i = 0; i < started; i++)
		threads[i] = e[i].thread;
	calls_finish(calls, threads, started);
	if (ep >= 0)
		close(ep);
	return ret;
}

/* Rule 17, keyed wake-ups. Waiters for hang-ups or errors alone (poll()
 * with events = 0, epoll for EPOLLHUP) are not woken by the wake-ups of
 * the data path, which name EPOLLIN or EPOLLOUT, but are by the last
 * close of the other end (like_fifo_polls_for_hangups_alone_are_woken).
 * fs/pipe.c keys its wake-ups the same way, so the scenario runs on a
 * named pipe first: it must behave so there, or the test is wrong. */
TEST_F_TIMEOUT(pipe, wake_ups_name_their_events, 60)
{
	char fifo[64], why[1536];
	int ret;

	snprintf(fifo, sizeof(fifo), "/tmp/mypipe-test.%d", getpid());
	unlink(fifo);
	ASSERT_EQ(0, mkfifo(fifo, 0600));
	ret = keyed_wake_scenario(fifo, fifo, why, sizeof(why));
	unlink(fifo);
	ASSERT_EQ(0, ret) {
		TH_LOG("the scenario went wrong on the named pipe (a bug in the test): %s",
		       why);
	}
	EXPECT_EQ(0, keyed_wake_scenario(PIPE_OUT, PIPE_IN, why, sizeof(why))) {
		TH_LOG("%s", why);
	}
}

#include "harness_main.h"

LABKIT_HARNESS_MAIN
