// SPDX-License-Identifier: GPL-2.0
/** @file test_asyncfifo.c
 * @brief Lab 06 tests: /dev/asyncfifo0 and on signal their owners with
 *        SIGIO when data or room arrives.
 *
 * The shared FIFO tests (userspace/fifo_tests.h, stage 6) run first, on
 * /dev/asyncfifo0: Lab 02's FIFO, Lab 03's O_NONBLOCK and Lab 04's
 * sleeping reads and writes; then Lab 05's, on all minors
 * (userspace/minor_tests.h). The tests below check the new concept. They
 * block SIGIO and take it with sigtimedwait() and a timeout, which also
 * hands them the siginfo the driver's kill_fasync() filled in: no handler
 * racing with the test, and no sleep() (the course notes' program slept
 * in a loop and logged from its handler). Processes that wait for their
 * own signal are children of the test, with a pipe as the handshake.
 * kselftest harness: each test runs in a forked process with a timeout;
 * tests/grade.sh turns the results into points.
 */
#define _GNU_SOURCE

/** @brief The device the tests run on. */
#define FIFO_DEV "/dev/asyncfifo0"
/** @brief The lab's stage: which of the shared FIFO tests apply. */
#define FIFO_STAGE 6
/** @brief The lab's module, which the parameter tests reload. */
#define FIFO_MODULE "asyncfifo"
/** @brief The nodes of the lab's devices, for the tests of Lab 05. */
#define MINOR_NODE_FMT "/dev/asyncfifo%d"

#include "fifo_tests.h"
#include "minor_tests.h"

/** @brief How long to wait for a signal that should come, in ms. */
#define SIGNAL_MS 2000
/** @brief How long to wait for a signal that should not come, in ms. */
#define NO_SIGNAL_MS 300

/** @brief Block SIGIO in this process and drop any pending one.
 * @return 0, or -1
 */
static int block_sigio(void)
{
	struct timespec now = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	while (sigtimedwait(&set, NULL, &now) == SIGIO)
		;
	return 0;
}

/** @brief Wait up to @p timeout_ms for SIGIO (blocked) and take it.
 * @param info the signal's siginfo, filled in
 * @param timeout_ms how long to wait
 * @return 1 if it came, 0 if not
 */
static int await_sigio(siginfo_t *info, int timeout_ms)
{
	struct timespec ts = {
		.tv_sec = timeout_ms / 1000,
		.tv_nsec = (long)(timeout_ms % 1000) * 1000000,
	};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	memset(info, 0, sizeof(*info));
	return sigtimedwait(&set, info, &ts) == SIGIO;
}

/** @brief Ask for SIGIO on @p fd, with siginfo: F_SETOWN (this process),
 *         F_SETSIG SIGIO, then O_ASYNC, as the course notes' program did.
 * @return 0, or -1 with errno set
 */
static int async_on(int fd)
{
	int flags;

	if (fcntl(fd, F_SETOWN, getpid()) || fcntl(fd, F_SETSIG, SIGIO))
		return -1;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags | O_ASYNC);
}

TEST_F_TIMEOUT(fifo, sigio_when_data_arrives, TIMEOUT)
{
	int a = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	siginfo_t info;

	ASSERT_LE(0, a);
	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, async_on(a)) {
		TH_LOG("fcntl(O_ASYNC) failed: %s", strerror(errno));
	}
	ASSERT_EQ(5, write(self->nb, "hello", 5));
	ASSERT_TRUE(await_sigio(&info, SIGNAL_MS)) {
		TH_LOG("5 bytes came, and no SIGIO: kill_fasync(..., SIGIO, POLL_IN) after a write");
	}
	EXPECT_EQ(POLL_IN, info.si_code) {
		TH_LOG("si_code %d: data arriving is POLL_IN (%d)",
		       info.si_code, POLL_IN);
	}
	EXPECT_TRUE(info.si_band & POLLIN);
	EXPECT_EQ(a, info.si_fd);
	close(a);
}

TEST_F_TIMEOUT(fifo, sigio_when_room_appears, TIMEOUT)
{
	int w = open(FIFO_DEV, O_WRONLY | O_NONBLOCK);
	char fill[FIFO_SIZE], c;
	siginfo_t info;

	ASSERT_LE(0, w);
	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, async_on(w));
	ASSERT_EQ(1, read(self->nb, &c, 1));
	ASSERT_TRUE(await_sigio(&info, SIGNAL_MS)) {
		TH_LOG("a read made room in the full FIFO, and no SIGIO: kill_fasync(..., SIGIO, POLL_OUT) after a read");
	}
	EXPECT_EQ(POLL_OUT, info.si_code) {
		TH_LOG("si_code %d: room appearing is POLL_OUT (%d)",
		       info.si_code, POLL_OUT);
	}
	EXPECT_TRUE(info.si_band & POLLOUT);
	EXPECT_EQ(w, info.si_fd);
	close(w);
}

/* One file, both events, one after the other: the siginfo tells them
 * apart, as the course notes' handler did with si_band. */
TEST_F_TIMEOUT(fifo, si_band_tells_which_event, TIMEOUT)
{
	int a = open(FIFO_DEV, O_RDWR | O_NONBLOCK);
	siginfo_t info;
	char c;

	ASSERT_LE(0, a);
	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, async_on(a));
	ASSERT_EQ(1, write(a, "x", 1));
	ASSERT_TRUE(await_sigio(&info, SIGNAL_MS));
	EXPECT_EQ(POLL_IN, info.si_code);
	EXPECT_EQ(POLLIN, info.si_band & (POLLIN | POLLOUT)) {
		TH_LOG("after a write, si_band 0x%lx: POLLIN, not POLLOUT",
		       (long)info.si_band);
	}
	ASSERT_EQ(1, read(a, &c, 1));
	ASSERT_TRUE(await_sigio(&info, SIGNAL_MS));
	EXPECT_EQ(POLL_OUT, info.si_code);
	EXPECT_EQ(POLLOUT, info.si_band & (POLLIN | POLLOUT)) {
		TH_LOG("after a read, si_band 0x%lx: POLLOUT, not POLLIN",
		       (long)info.si_band);
	}
	close(a);
}

/* The course notes signalled readers only if the FIFO was not full after
 * the write: a write that fills it exactly then signals nobody. */
TEST_F_TIMEOUT(fifo, sigio_when_a_write_fills_the_fifo, TIMEOUT)
{
	int a = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	char fill[FIFO_SIZE];
	siginfo_t info;

	ASSERT_LE(0, a);
	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, async_on(a));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	EXPECT_TRUE(await_sigio(&info, SIGNAL_MS)) {
		TH_LOG("one write filled the FIFO exactly, and no SIGIO: signal after every write that added data");
	}
	EXPECT_EQ(POLL_IN, info.si_code);
	close(a);
}

TEST_F_TIMEOUT(fifo, no_sigio_after_close, TIMEOUT)
{
	int a = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	siginfo_t info;

	ASSERT_LE(0, a);
	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, async_on(a));
	close(a);
	ASSERT_EQ(1, write(self->nb, "x", 1));
	EXPECT_FALSE(await_sigio(&info, NO_SIGNAL_MS)) {
		TH_LOG("SIGIO for a file that was closed: .fasync must take the file off the list when on is 0");
	}
}

TEST_F_TIMEOUT(fifo, no_sigio_after_clearing_o_async, TIMEOUT)
{
	int a = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	siginfo_t info;
	int flags;

	ASSERT_LE(0, a);
	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, async_on(a));
	flags = fcntl(a, F_GETFL);
	ASSERT_EQ(0, fcntl(a, F_SETFL, flags & ~O_ASYNC));
	ASSERT_EQ(1, write(self->nb, "x", 1));
	EXPECT_FALSE(await_sigio(&info, NO_SIGNAL_MS)) {
		TH_LOG("SIGIO after O_ASYNC was cleared: pass on to fasync_helper() what the VFS asks");
	}
	close(a);
}

/** @brief Child body for each_owner_gets_its_own_signal: open the device,
 *         ask for SIGIO if @p wants, say so on @p ready, then wait.
 * @return 0 if the child got SIGIO (POLL_IN) exactly when it asked for
 *         it, 1 otherwise
 */
static int owner_main(int wants, int ready)
{
	int fd = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	siginfo_t info;
	int got;

	if (fd < 0 || block_sigio())
		return 1;
	if (wants && async_on(fd))
		return 1;
	if (!wants && fcntl(fd, F_SETOWN, getpid()))
		return 1;
	if (write(ready, "", 1) != 1)
		return 1;
	got = await_sigio(&info, wants ? SIGNAL_MS : NO_SIGNAL_MS * 2);
	if (wants)
		return !(got && info.si_code == POLL_IN && info.si_fd == fd);
	return got;
}

/* Two processes ask for SIGIO on the device and a third only opens it
 * (it even sets itself as owner, without O_ASYNC): one write signals the
 * two, each with its own siginfo, and not the third. */
TEST_F_TIMEOUT(fifo, each_owner_gets_its_own_signal, TIMEOUT)
{
	const char *role[3] = { "owner 1", "owner 2", "the process without O_ASYNC" };
	pid_t pid[3];
	int ready[2], i, status;

	ASSERT_EQ(0, pipe(ready));
	for (i = 0; i < 3; i++) {
		pid[i] = fork_detached();
		ASSERT_LE(0, pid[i]);
		if (pid[i] == 0)
			_exit(owner_main(i < 2, ready[1]));
	}
	for (i = 0; i < 3; i++)
		ASSERT_TRUE(await_byte(ready[0], SIGNAL_MS));
	ASSERT_EQ(1, write(self->nb, "x", 1));
	for (i = 0; i < 3; i++) {
		const char *who = role[i];

		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			TH_LOG("%s: %s", who, i < 2 ?
			       "no SIGIO with POLL_IN for its own descriptor" :
			       "got SIGIO without asking for it");
		}
	}
}

/** @brief The descriptor the course notes' handler reads. */
static int seed_fd = -1;
/** @brief Where the handler copies what it read. */
static int seed_out = -1;

/** @brief The course notes' SIGIO handler, with only async-signal-safe
 *         calls: on POLLIN, read the device and pass the bytes on.
 * @param sig the signal
 * @param info its siginfo, whose si_band says which event it was
 * @param context unused
 */
static void seed_handler(int sig, siginfo_t *info, void *context)
{
	char buf[FIFO_SIZE];
	ssize_t n;

	(void)sig;
	(void)context;
	if (!(info->si_band & POLLIN))
		return;
	n = read(seed_fd, buf, sizeof(buf));
	if (n > 0 && write(seed_out, buf, (size_t)n) != n)
		_exit(2);
}

/* The course notes' program: a SIGIO handler reads what echo, another
 * process, writes to the device. */
TEST_F_TIMEOUT(fifo, seed_sigio_handler_reads_the_data, TIMEOUT)
{
	char *echo_argv[] = { "sh", "-c", "echo hello >" FIFO_DEV, NULL };
	pid_t child;
	int ready[2], out[2];
	char line[16] = "", echo_out[8];

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(out));
	child = fork_detached();
	ASSERT_LE(0, child);
	if (child == 0) {
		struct sigaction sa = {
			.sa_sigaction = seed_handler, .sa_flags = SA_SIGINFO,
		};
		sigset_t none;

		seed_out = out[1];
		sigemptyset(&none);
		seed_fd = open(FIFO_DEV, O_RDWR);
		if (seed_fd < 0 || sigaction(SIGIO, &sa, NULL) ||
		    sigprocmask(SIG_SETMASK, &none, NULL) || async_on(seed_fd) ||
		    write(ready[1], "", 1) != 1)
			_exit(1);
		for (;;)
			sigsuspend(&none);
	}
	close(out[1]);
	ASSERT_TRUE(await_byte(ready[0], SIGNAL_MS));
	EXPECT_EQ(0, run_command(echo_argv, echo_out, sizeof(echo_out), 3000));
	read_for(out[0], line, 6, SIGNAL_MS);
	EXPECT_STREQ("hello\n", line) {
		TH_LOG("the handler should have read what echo wrote");
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(out[0]);
}

TEST_HARNESS_MAIN
