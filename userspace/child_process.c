// SPDX-License-Identifier: GPL-2.0
/** @file child_process.c
 * @brief Child processes for tests; see child_process.h.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_process.h"
#include "task_stuck.h"

pid_t fork_detached(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	int null;

	if (pid != 0)
		return pid;
	null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(null, STDERR_FILENO) < 0)
		_exit(126);
	close(null);
	/* The parent may have ended before prctl(): then it is too late. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(126);
	return 0;
}

pid_t spawn(char *const argv[], int out_fd)
{
	pid_t pid = fork_detached();

	if (pid == 0) {
		/* Its own process group, so that its children can be killed
		 * with it: they do not inherit the parent-death signal. */
		setpgid(0, 0);
		if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

int run_command_unless_stuck(char *const argv[], char *out, size_t size,
			     int timeout_ms, int stuck_ms)
{
	struct pollfd p = { .events = POLLIN };
	/* Without a watch, one poll spans the whole allowed silence. */
	int tick = stuck_ms ? 100 : timeout_ms;
	int pipefd[2], status = -1, quiet_ms = 0, n;
	pid_t group[STUCK_WATCH_MAX], pid;
	struct stuck_watch w;
	size_t got = 0;
	char drop[64];
	ssize_t r;

	out[0] = '\0';
	if (pipe(pipefd))
		return -1;
	pid = spawn(argv, pipefd[1]);
	close(pipefd[1]);
	p.fd = pipefd[0];
	stuck_watch_init(&w);
	while (pid > 0 && quiet_ms < timeout_ms) {
		n = poll(&p, 1, tick);
		if (n < 0)
			break;
		if (n == 0) {
			quiet_ms += tick;
			if (!stuck_ms)
				continue;
			n = stuck_watch_group(pid, group, STUCK_WATCH_MAX);
			if (stuck_watch_look(&w, group, n, stuck_ms))
				break;
			continue;
		}
		if (got + 1 < size)
			r = read(pipefd[0], out + got, size - 1 - got);
		else
			r = read(pipefd[0], drop, sizeof(drop));
		if (r <= 0) {
			waitpid(pid, &status, 0);
			pid = 0;
			break;
		}
		if (got + 1 < size) {
			got += (size_t)r;
			out[got] = '\0';
		}
		quiet_ms = 0;
	}
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(pipefd[0]);
	return status;
}

int run_command(char *const argv[], char *out, size_t size, int timeout_ms)
{
	return run_command_unless_stuck(argv, out, size, timeout_ms, 0);
}

int wait_for_child(pid_t pid, int *status, int timeout_ms)
{
	struct pollfd p = { .events = POLLIN };
	int ended;

	/* A pidfd becomes readable when the process ends. */
	p.fd = syscall(SYS_pidfd_open, pid, 0);
	if (p.fd < 0)
		return -1;
	ended = poll(&p, 1, timeout_ms) == 1;
	close(p.fd);
	if (!ended)
		return -1;
	return waitpid(pid, status, 0) == pid ? 0 : -1;
}

int await_byte(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&p, 1, timeout_ms) == 1 && read(fd, &c, 1) == 1;
}
