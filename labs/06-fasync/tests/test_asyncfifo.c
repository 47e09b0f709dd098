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
#include "preempt_full.h"
#include "tests_stop.h"

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

/* Lab 06's first own test to set O_ASYNC (the shared
 * woken_reader_waits_for_the_lock_interruptibly sets it before, to count
 * signals, and sees such a driver first), and one that can see a file
 * left on the list without freeing it: clearing O_ASYNC calls .fasync
 * with on = 0 as the last close does, and the file stays open. A driver
 * that keeps it there would, once it is closed, make the next
 * kill_fasync() follow a pointer into freed memory: what that does
 * depends on how the memory was reused, so the tests stop here
 * (tests_stop.h) rather than give later tests results that depend on
 * the machine. */
TEST_F_TIMEOUT(fifo, no_sigio_after_clearing_o_async, TIMEOUT)
{
	int a = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	siginfo_t info;
	int flags, got;

	ASSERT_LE(0, a);
	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, async_on(a));
	flags = fcntl(a, F_GETFL);
	ASSERT_EQ(0, fcntl(a, F_SETFL, flags & ~O_ASYNC));
	ASSERT_EQ(1, write(self->nb, "x", 1));
	got = await_sigio(&info, NO_SIGNAL_MS);
	EXPECT_FALSE(got) {
		TH_LOG("SIGIO (si_fd %d; this file is %d) after O_ASYNC was cleared: .fasync must pass on = 0 on to fasync_helper() too, which takes the file off the list",
		       info.si_fd, a);
	}
	if (got && info.si_fd == a)
		tests_stop_after_this(_metadata->name, "the driver keeps a file on its SIGIO list after .fasync(on = 0): once that file is closed, the next signal goes through freed memory, so no later result could be trusted");
	close(a);
}

/* Lab 05's quiet data path, for what Lab 06 adds (handout, "the data
 * path": keep .fasync as quiet): turning O_ASYNC on and off, a close of a
 * file that still has it, and the reads and writes that signal a file on
 * the list (kill_fasync()) log nothing. Here, after
 * no_sigio_after_clearing_o_async, since these calls set O_ASYNC. */
TEST_F_TIMEOUT(fifo, fasync_does_not_log, TIMEOUT)
{
	struct kmsg_quiet q;
	siginfo_t info;
	int i, a, flags;
	char c;

	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, kmsg_quiet_start(&q, FIFO_MODULE)) {
		TH_LOG("cannot open /dev/kmsg: %s", strerror(errno));
	}
	for (i = 0; i < QUIET_CALLS; i++) {
		a = open(FIFO_DEV, O_RDWR | O_NONBLOCK);
		kmsg_quiet_call(&q, a < 0 ? -1 : 0, 0, 0);
		if (a < 0)
			continue;
		kmsg_quiet_call(&q, async_on(a), 0, 0);
		/* Bytes in, then room: a SIGIO each for the file. */
		kmsg_quiet_call(&q, write(self->nb, "x", 1), 1, 0);
		kmsg_quiet_call(&q, await_sigio(&info, SIGNAL_MS) ? 0 : -1, 0,
				0);
		kmsg_quiet_call(&q, read(a, &c, 1), 1, 0);
		kmsg_quiet_call(&q, await_sigio(&info, SIGNAL_MS) ? 0 : -1, 0,
				0);
		/* Every other file leaves the list by fcntl(), the others at
		 * their close. */
		if (i & 1) {
			flags = fcntl(a, F_GETFL);
			kmsg_quiet_call(&q, flags < 0 ? -1 :
					fcntl(a, F_SETFL, flags & ~O_ASYNC), 0,
					0);
		}
		close(a);
	}
	kmsg_quiet_count(&q,
			 "O_ASYNC set and cleared with fcntl(), closes of files with O_ASYNC set, and the reads and writes that signal them");
	kmsg_quiet_end(&q);
	ASSERT_EQ(0, q.read_err) {
		TH_LOG("cannot read /dev/kmsg: %s", strerror(q.read_err));
	}
	EXPECT_EQ(0, q.lines) {
		TH_LOG("%d kernel log lines of %s came while the test made its calls; the first, from %s: \"%.160s\"; rule: " KMSG_QUIET_RULE " (.fasync and the signals a call sends are on the data path too)",
		       q.lines, FIFO_MODULE, q.first_when, q.first);
		if (q.off)
			TH_LOG("%d of those calls did not return what the handout says (the tests of those rules check that); whatever a call returns, it logs nothing",
			       q.off);
	}
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
	EXPECT_EQ(POLLIN | POLLRDNORM, info.si_band) {
		TH_LOG("si_band 0x%lx: POLL_IN gives POLLIN | POLLRDNORM (0x%x)",
		       (long)info.si_band, POLLIN | POLLRDNORM);
	}
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
	EXPECT_EQ(POLLOUT | POLLWRNORM | POLLWRBAND, info.si_band) {
		TH_LOG("si_band 0x%lx: POLL_OUT gives POLLOUT | POLLWRNORM | POLLWRBAND (0x%x)",
		       (long)info.si_band, POLLOUT | POLLWRNORM | POLLWRBAND);
	}
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

/* Only the last close() of a file takes it off the list. Closing a copy
 * of its descriptor (dup()), or the exit of a child that inherited it,
 * calls the driver's .flush but not .release or .fasync: the file is
 * still open, and its owner must still get SIGIO. */
TEST_F_TIMEOUT(fifo, sigio_until_the_last_close_of_the_file, TIMEOUT)
{
	int a = open(FIFO_DEV, O_RDONLY | O_NONBLOCK);
	siginfo_t info;
	int copy, status;
	pid_t pid;

	ASSERT_LE(0, a);
	ASSERT_EQ(0, block_sigio());
	ASSERT_EQ(0, async_on(a));
	copy = dup(a);
	ASSERT_LE(0, copy);
	ASSERT_EQ(0, close(copy));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(0);	/* closes its copies of every descriptor */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(1, write(self->nb, "x", 1));
	EXPECT_TRUE(await_sigio(&info, SIGNAL_MS)) {
		TH_LOG("rule: only the last close() of a file takes it off the list. After close() of a dup() of its descriptor and the exit of a child that had inherited it, the file is still open with O_ASYNC, and a write must still signal it; no SIGIO came (the file left the list at a close that was not its last: .flush instead of .release, or .release called for each descriptor?)");
	}
	EXPECT_EQ(a, info.si_fd);
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

/** @brief The realtime signal the tests below ask for with F_SETSIG:
 *         realtime signals queue, one per kill_fasync(), so they can be
 *         counted.
 * @return its number
 */
static int rt_signal(void)
{
	return SIGRTMIN + 2;
}

/** @brief Take every pending signal of rt_signal() and SIGIO, without
 *         waiting: kill_fasync() has queued them before the write or read
 *         that sent them returned.
 * @param out room for MINOR_MODEL_SIGNALS signals
 * @return how many were pending (only the first MINOR_MODEL_SIGNALS are
 *         in @p out)
 */
static int take_signals(struct minor_model_signal *out)
{
	struct timespec zero = { 0, 0 };
	siginfo_t info;
	sigset_t set;
	int n = 0;

	sigemptyset(&set);
	sigaddset(&set, rt_signal());
	sigaddset(&set, SIGIO);
	while (sigtimedwait(&set, &info, &zero) > 0) {
		if (n < MINOR_MODEL_SIGNALS) {
			out[n].signo = info.si_signo;
			out[n].code = info.si_code;
			out[n].band = info.si_band;
			out[n].fd = info.si_fd;
		}
		n++;
	}
	return n;
}

/** @brief Block the realtime signal of rt_signal() and SIGIO, and drop
 *         any pending one.
 * @return 0, or -1
 */
static int block_rt(void)
{
	struct minor_model_signal drop[MINOR_MODEL_SIGNALS];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, rt_signal());
	sigaddset(&set, SIGIO);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	while (take_signals(drop) > 0)
		;
	return 0;
}

/** @brief Open @p path O_RDWR | O_NONBLOCK with O_ASYNC, owned by @p owner
 *         (a PID, or minus a process group) and signalling rt_signal().
 * @param path the node
 * @param owner for F_SETOWN
 * @return the descriptor, or -1
 */
static int open_async(const char *path, pid_t owner)
{
	int fd = open(path, O_RDWR | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fcntl(fd, F_SETOWN, owner) || fcntl(fd, F_SETSIG, rt_signal()) ||
	    fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK | O_ASYNC)) {
		close(fd);
		return -1;
	}
	return fd;
}

/** @brief The test's own signal-driven file on a minor: real-time signals
 *         blocked (so that every one stays pending for take_signals()),
 *         then open_async() owned by this process; the test ends when
 *         that fails.
 * @param _metadata the harness's test
 * @param minor the minor
 * @return the descriptor
 */
static int async_file(struct __test_metadata *_metadata, int minor)
{
	int fd;

	ASSERT_EQ(0, block_rt());
	fd = open_async(node(minor), getpid());
	ASSERT_LE(0, fd) {
		TH_LOG("open, F_SETOWN, F_SETSIG or O_ASYNC on %s failed: %s",
		       node(minor), strerror(errno));
	}
	return fd;
}

/** @brief Check that exactly the signals @p want (in any order) are
 *         pending for this process, and take them.
 * @param _metadata the harness's test
 * @param want the signals
 * @param n how many
 * @param after the call that should have sent them, for a message
 * @param rule the rule, for a message
 */
static void expect_signals(struct __test_metadata *_metadata,
			   const struct minor_model_signal *want, int n,
			   const char *after, const char *rule)
{
	struct minor_model_signal got[MINOR_MODEL_SIGNALS];
	char w[512], g[512];
	int k = take_signals(got);

	EXPECT_TRUE(minor_model_same_signals(want, n, got, k)) {
		TH_LOG("after %s:\n#   expected: %s\n#   received: %s\n#   rule: %s",
		       after, minor_model_describe_signals(want, n, w, sizeof(w)),
		       minor_model_describe_signals(got, k < MINOR_MODEL_SIGNALS ?
						    k : MINOR_MODEL_SIGNALS,
						    g, sizeof(g)),
		       rule);
	}
}

/** @brief The signal a file @p fd gets for event @p code.
 * @param fd the descriptor that set O_ASYNC
 * @param code POLL_IN or POLL_OUT
 * @return the signal
 */
static struct minor_model_signal sig_for(int fd, int code)
{
	struct minor_model_signal s = {
		.signo = rt_signal(), .code = code, .fd = fd,
		.band = code == POLL_IN ? MINOR_MODEL_BAND_IN :
					  MINOR_MODEL_BAND_OUT,
	};

	return s;
}

/** @brief Every write that adds data signals POLL_IN, whether or not the
 *         FIFO held data before, and every read that takes data signals
 *         POLL_OUT, whether or not the FIFO was full. */
TEST_F_TIMEOUT(minors, every_write_and_every_read_signals, TIMEOUT)
{
	static const size_t writes[] = { 1, 5, FIFO_SIZE - 6 };
	static const size_t reads[] = { 3, 1, FIFO_SIZE };
	char buf[FIFO_SIZE], after[96];
	struct minor_model_signal want;
	unsigned int i;
	int a;

	memset(buf, 'w', sizeof(buf));
	a = async_file(_metadata, 0);
	want = sig_for(a, POLL_IN);
	for (i = 0; i < 3; i++) {
		ASSERT_EQ((ssize_t)writes[i],
			  write(self->fd[0], buf, writes[i]));
		snprintf(after, sizeof(after), "write %u of 3 (%zu bytes, the FIFO %s)",
			 i + 1, writes[i], i == 0 ? "was empty" :
			 i == 1 ? "already held data" : "is full now");
		expect_signals(_metadata, &want, 1, after,
			       "every write that adds data signals POLL_IN once, not only the write into an empty FIFO (kill_fasync() after every successful write)");
	}
	want = sig_for(a, POLL_OUT);
	for (i = 0; i < 3; i++) {
		ASSERT_LT(0, read(self->fd[0], buf, reads[i]));
		snprintf(after, sizeof(after), "read %u of 3 (the FIFO %s)",
			 i + 1, i == 0 ? "was full" : i == 1 ?
			 "already had room" : "is empty now");
		expect_signals(_metadata, &want, 1, after,
			       "every read that takes data signals POLL_OUT once, not only the read from a full FIFO (kill_fasync() after every successful read)");
	}
	close(a);
}

/** @brief Calls that move no byte signal nobody: reads and writes of 0
 *         bytes, EAGAIN on an empty or full minor, EFAULT, and a write
 *         asleep on a full minor and a read asleep on an empty one that a
 *         signal ends. */
TEST_F_TIMEOUT(minors, calls_that_move_nothing_signal_nobody, TIMEOUT)
{
	struct minor_model_signal drop[MINOR_MODEL_SIGNALS];
	char *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	struct minor_job job = { .minor = 1 };
	char buf[FIFO_SIZE], st;
	struct waiter w;
	int a, side, result;

	ASSERT_NE(MAP_FAILED, bad);
	memset(buf, 'f', sizeof(buf));
	a = async_file(_metadata, 1);
	EXPECT_EQ(0, read(self->fd[1], buf, 0));
	EXPECT_EQ(0, write(self->fd[1], buf, 0));
	EXPECT_EQ(-1, read(self->fd[1], buf, 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, write(self->fd[1], bad, 4));
	EXPECT_EQ(EFAULT, errno);
	expect_signals(_metadata, NULL, 0,
		       "reads and writes of 0 bytes, a read of an empty minor (EAGAIN) and a write from a bad pointer (EFAULT)",
		       "only a write that added data or a read that took data signals");
	ASSERT_EQ(FIFO_SIZE, write(self->fd[1], buf, sizeof(buf)));
	take_signals(drop);
	EXPECT_EQ(-1, write(self->fd[1], buf, 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, read(self->fd[1], bad, 4));
	EXPECT_EQ(EFAULT, errno);
	expect_signals(_metadata, NULL, 0,
		       "a write to a full minor (EAGAIN) and a read into a bad pointer (EFAULT)",
		       "only a write that added data or a read that took data signals");
	/* A call asleep that a signal ends moved nothing either: a write
	 * on the full minor, then (emptied) a read. */
	for (side = 0; side < 2; side++) {
		job.call = side ? 'r' : 'w';
		st = waiter_start(&w, minor_job_run, &job);
		ASSERT_EQ('S', st) {
			TH_LOG("%s should sleep (the minor is %s); its state is %c",
			       minor_job_name(&job), side ? "empty" : "full",
			       st ? st : '0');
		}
		EXPECT_FALSE(waiter_result(&w, 0, &result)) {
			TH_LOG("%s returned %d before it was signalled",
			       minor_job_name(&job), result);
		}
		expect_signals(_metadata, NULL, 0, side ?
			       "a read asleep on the empty minor, ended by a signal (SIGKILL) before it took a byte" :
			       "a write asleep on the full minor, ended by a signal (SIGKILL) before it added a byte",
			       "a call that a signal ends before it moved a byte signals nobody: nothing changed");
		if (side)
			break;
		ASSERT_EQ(FIFO_SIZE, read(self->fd[1], buf, sizeof(buf)));
		take_signals(drop);
	}
	close(a);
}

/** @brief A buffer of @p size bytes whose second half is followed by no
 *         memory: its first @p size / 2 bytes end a page, and the next
 *         page is PROT_NONE.
 * @param size the buffer's size (at most a page)
 * @param map the two-page mapping, for munmap(), filled in
 * @return the buffer, or NULL
 */
static char *half_mapped(size_t size, char **map)
{
	long page = sysconf(_SC_PAGESIZE);

	*map = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*map == MAP_FAILED ||
	    mprotect(*map + page, (size_t)page, PROT_NONE))
		return NULL;
	memset(*map, 'p', (size_t)page);
	return *map + page - size / 2;
}

/** @brief A write or a read that moves some bytes and then runs into an
 *         unmapped page returns the count it moved, and, having moved at
 *         least one byte, signals every O_ASYNC file of its minor once:
 *         POLL_IN after the write, POLL_OUT after the read. */
TEST_F_TIMEOUT(minors, a_partial_copy_signals_every_file_once, TIMEOUT)
{
	const size_t count = FIFO_SIZE;
	struct minor_model_signal want[2], drop[MINOR_MODEL_SIGNALS];
	char *map, *buf = half_mapped(count, &map), fill[FIFO_SIZE];
	int a, b, reading, code;
	char after[160];
	ssize_t n;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, block_rt());
	a = open_async(node(2), getpid());
	b = open_async(node(2), getpid());
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	memset(fill, 'f', sizeof(fill));
	/* A write from the half-mapped buffer into the empty minor, then
	 * (the minor filled up) a read into it. */
	for (reading = 0; reading < 2; reading++) {
		if (reading) {
			ASSERT_EQ((ssize_t)(count - count / 2),
				  write(self->fd[2], fill, count - count / 2));
			take_signals(drop);
		}
		n = reading ? read(self->fd[2], buf, count) :
			      write(self->fd[2], buf, count);
		snprintf(after, sizeof(after), "a %s of %zu bytes %s a buffer whose last %zu bytes are unmapped",
			 reading ? "read" : "write", count,
			 reading ? "into" : "from", count / 2);
		EXPECT_EQ((ssize_t)count / 2, n) {
			TH_LOG("%s returned %zd: it returns the bytes it copied (rule of Lab 02)",
			       after, n);
		}
		code = reading ? POLL_OUT : POLL_IN;
		want[0] = sig_for(a, code);
		want[1] = sig_for(b, code);
		expect_signals(_metadata, want, 2, after,
			       "a write() (read()) that moved at least one byte signals every file on that minor's list once with POLL_IN (POLL_OUT), even when its copy then stopped at a fault (a kill_fasync() only when the copy did not fault is the usual bug)");
	}
	close(a);
	close(b);
	munmap(map, 2 * (size_t)sysconf(_SC_PAGESIZE));
}

/** @brief A signal tells of bytes that have moved: while a write is frozen
 *         half-way through its copy from user memory (userfaultfd, see
 *         copy_stall.h), no POLL_IN has been sent; while a read of a full
 *         minor is frozen in its copy to user memory, no POLL_OUT. Each
 *         comes, once, when the call has gone on and returned. A handler
 *         that reads at its POLL_IN must find the bytes it was told of:
 *         kill_fasync() after the copy, as fs/pipe.c does. */
TEST_F_TIMEOUT(minors, signals_come_after_the_copy, 15)
{
	static const char *const rule[2] = {
		"POLL_IN tells the owner that bytes are there to read: kill_fasync() comes after the write's copy from user memory, once its bytes are in the FIFO, never before it",
		"POLL_OUT tells the owner that there is room: kill_fasync() comes after the read's copy to user memory, once its bytes are out of the FIFO, never before it",
	};
	const size_t count = 12, head = 4;
	struct minor_model_signal want, drop[MINOR_MODEL_SIGNALS];
	char fill[FIFO_SIZE], during[160];
	struct fifo_call call;
	struct copy_stall cs;
	int a, reading, frozen;
	pthread_t t;

	memset(fill, 'f', sizeof(fill));
	/* Blocked before the call's thread starts: the thread inherits the
	 * mask, so every signal stays pending for take_signals(). */
	a = async_file(_metadata, 2);
	for (reading = 0; reading < 2; reading++) {
		if (reading) {
			/* Full, so that the read is what makes room. */
			ASSERT_EQ((ssize_t)(FIFO_SIZE - count),
				  write(self->fd[2], fill, FIFO_SIZE - count));
			take_signals(drop);
		}
		frozen = freeze_call(&cs, &call, &t, self->fd[2], !reading,
				     count, head);
		ASSERT_LE(0, frozen) {
			TH_LOG("cannot start the %s: %s",
			       reading ? "read" : "write", strerror(errno));
		}
		snprintf(during, sizeof(during), "while a %s of %zu bytes %s %s was frozen after copying %zu of them %s user memory",
			 reading ? "read" : "write", count,
			 reading ? "from a full" : "to an empty", node(2),
			 head, reading ? "to" : "from");
		EXPECT_EQ(1, frozen) {
			TH_LOG("the %s never reached its copy %s user memory",
			       reading ? "read" : "write",
			       reading ? "to" : "from");
		}
		if (frozen == 1)
			expect_signals(_metadata, NULL, 0, during,
				       rule[reading]);
		/* Also when the fault was not seen in time: it may come yet. */
		copy_stall_release(&cs, 't');
		pthread_join(t, NULL);
		EXPECT_EQ((ssize_t)count, call.ret) {
			TH_LOG("the %s returned %zd once its copy went on, not %zu",
			       reading ? "read" : "write", call.ret, count);
		}
		want = sig_for(a, reading ? POLL_OUT : POLL_IN);
		snprintf(during, sizeof(during), "the %s, once its copy went on and it returned",
			 reading ? "read" : "write");
		expect_signals(_metadata, &want, 1, during, rule[reading]);
		copy_stall_destroy(&cs);
	}
	close(a);
}

/** @brief The rule a_call_signals_the_list_as_it_is_after_its_copy checks,
 *         for its failure messages. */
#define LIST_AFTER_THE_COPY_RULE "a write (read) signals, after its copy, every file on the minor's list as the list is then: O_ASYNC set, cleared and the last close take effect at once, also while a call of the minor is in progress (.fasync takes none of its locks), so a file that joined the list while the call waited or copied gets the call's signal, and one that left it meanwhile does not (kill_fasync(&dev->async_queue, ...) reads the device's list when it signals, not a copy of it taken when the call began)"

/** @brief While a write of 12 bytes to an empty minor is frozen in its
 *         copy from user memory (then a read of 12 from it, in its copy
 *         to user memory), another process sets O_ASYNC on one file of
 *         the minor, clears it on a second and closes a third (its last
 *         close); a fourth stays on the list. When the call goes on, its
 *         signal goes to the files on the list then: the one that joined
 *         and the one that stayed, not the two that left.
 *
 * Each step must return while the call is frozen (the rule of
 * fasync_waits_for_no_call_in_progress); a step found asleep fails the
 * test, and the signals are then not checked, since the step took effect
 * at a moment of the driver's choosing. The file that stays joins the
 * list after the two that leave it: a driver that signals a list it read
 * before the call then misses the file that joined, and walks no entry
 * that was freed during the call (which would leave every later result
 * to how that memory was reused).
 */
TEST_F_TIMEOUT(minors, a_call_signals_the_list_as_it_is_after_its_copy, 30)
{
	const int m = 5, fl = O_RDWR | O_NONBLOCK;
	static const unsigned int steps[3] = { 0, 1, 3 };
	struct minor_model_signal want[2], drop[MINOR_MODEL_SIGNALS];
	int go[2], report[2], reading, frozen, returned;
	int closes, clears, stays, joins;
	char during[160], after[384], byte;
	struct fifo_call call;
	struct copy_stall cs;
	unsigned int i;
	pthread_t t;
	pid_t pid;

	ASSERT_EQ(0, block_rt());
	for (reading = 0; reading < 2; reading++) {
		/* The minor is empty for the write, which leaves its 12
		 * bytes there for the read. */
		closes = open_async(node(m), getpid());
		clears = open_async(node(m), getpid());
		stays = open_async(node(m), getpid());
		joins = open(node(m), fl);
		ASSERT_TRUE(closes >= 0 && clears >= 0 && stays >= 0 &&
			    joins >= 0) {
			TH_LOG("open, F_SETOWN, F_SETSIG or O_ASYNC on %s failed: %s",
			       node(m), strerror(errno));
		}
		ASSERT_EQ(0, fcntl(joins, F_SETOWN, getpid()));
		ASSERT_EQ(0, fcntl(joins, F_SETSIG, rt_signal()));
		ASSERT_EQ(0, pipe(go));
		ASSERT_EQ(0, pipe(report));
		/* Forked before the stall, with a copy of each descriptor:
		 * its calls are made on the files, not in this process's
		 * frozen address space. "g" once it is past its read of the
		 * go byte: from there on, nothing but the driver can put it
		 * to sleep. */
		pid = fork_detached();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			if (write(report[1], "o", 1) != 1 ||
			    read(go[0], &byte, 1) != 1 ||
			    write(report[1], "g", 1) != 1)
				_exit(2);
			if (fcntl(joins, F_SETFL, fl | O_ASYNC) ||
			    write(report[1], "1", 1) != 1 ||
			    fcntl(clears, F_SETFL, fl) ||
			    write(report[1], "2", 1) != 1 || close(closes) ||
			    write(report[1], "4", 1) != 1)
				_exit(3);
			_exit(0);
		}
		ASSERT_TRUE(await_byte(report[0], 5000)) {
			TH_LOG("the child did not start");
		}
		frozen = freeze_call(&cs, &call, &t, self->fd[m], !reading, 12,
				     4);
		ASSERT_LE(0, frozen);
		EXPECT_EQ(1, frozen) {
			TH_LOG("the %s of 12 bytes never reached its copy %s user memory",
			       reading ? "read" : "write",
			       reading ? "to" : "from");
		}
		/* Not its last close: the child's copy is, now. */
		close(closes);
		snprintf(during, sizeof(during), "a %s of 12 bytes %s %s was frozen in its copy %s user memory",
			 reading ? "read" : "write", reading ? "from" : "to",
			 node(m), reading ? "to" : "from");
		ASSERT_EQ(1, write(go[1], "g", 1));
		EXPECT_TRUE(await_byte(report[0], 10000)) {
			TH_LOG("the child did not get the go byte");
		}
		returned = 1;
		for (i = 0; i < 3 && returned; i++)
			returned = fasync_step_returned(_metadata, report[0],
							pid, steps[i], during);
		frozen_call_and_child_finish(_metadata, &cs, &call, t, pid,
					     reading);
		if (frozen == 1 && returned) {
			want[0] = sig_for(joins, reading ? POLL_OUT : POLL_IN);
			want[1] = sig_for(stays, reading ? POLL_OUT : POLL_IN);
			snprintf(after, sizeof(after), "%s, and meanwhile another process set O_ASYNC on fd %d, cleared it on fd %d and closed fd %d (its last close), while fd %d stayed on the list: the %s, once it went on and returned",
				 during, joins, clears, closes, stays,
				 reading ? "read" : "write");
			expect_signals(_metadata, want, 2, after,
				       LIST_AFTER_THE_COPY_RULE);
		} else {
			take_signals(drop);
		}
		close(joins);
		close(clears);
		close(stays);
		close(go[0]);
		close(go[1]);
		close(report[0]);
		close(report[1]);
	}
}

/** @brief The side that the call of signals_whatever_the_woken_side_does_next
 *         wakes: a blocking read of 8 bytes on an empty minor (@p
 *         is_write 0) or a blocking write of 8 bytes on a full one, made
 *         by a real-time child on the test's CPU.
 * @param path the minor's node
 * @param is_write nonzero for the write
 * @return the child's PID (it exits with 0 when its call moved 8 bytes),
 *         or -1
 */
static pid_t rt_sleeper(const char *path, int is_write)
{
	struct sched_param rt = { .sched_priority = 1 };
	char buf[8];
	pid_t pid = fork_detached();
	int fd;

	if (pid)
		return pid;
	memset(buf, 's', sizeof(buf));
	fd = open(path, is_write ? O_WRONLY : O_RDONLY);
	if (fd < 0 || sched_setscheduler(0, SCHED_FIFO, &rt))
		_exit(2);
	_exit((is_write ? write(fd, buf, 8) : read(fd, buf, 8)) == 8 ? 0 : 1);
}

/** @brief A write that adds bytes signals POLL_IN, and a read that makes
 *         room POLL_OUT, whatever the FIFO holds once the call is through:
 *         the reader the write woke may have taken every byte before the
 *         write reaches its kill_fasync(), the writer a read woke may have
 *         filled the FIFO again. A read asleep on an empty minor (a write
 *         asleep on a full one) is made by a real-time child on the
 *         test's CPU, and the kernel runs full preemption while the test
 *         runs where it can switch (preempt_full.h): the woken child's
 *         whole call then runs inside the test's wake-up, before the
 *         test's next line. A driver that signals only when the FIFO is
 *         still readable (writable) after the call, as poll() would say,
 *         loses the signal. Under voluntary preemption the child runs when
 *         the test's call returns, and the same signals are due. */
TEST_F_TIMEOUT(minors, signals_whatever_the_woken_side_does_next, 30)
{
	static const char *const rule[2] = {
		"every write that adds bytes signals POLL_IN, even when the reader it woke has taken them before the write's kill_fasync() (do not test \"not empty\" after the copy: signal because bytes went in)",
		"every read that takes bytes signals POLL_OUT, even when the writer it woke has filled the FIFO again before the read's kill_fasync() (do not test \"not full\" after the copy: signal because room was made)",
	};
	struct minor_model_signal want[2], drop[MINOR_MODEL_SIGNALS];
	char fill[FIFO_SIZE], buf[8], why[256], after[160];
	struct cpu_order order;
	int a, reading, status;
	ssize_t n;
	pid_t pid;
	char st;

	memset(fill, 'f', sizeof(fill));
	a = async_file(_metadata, 3);
	/* Before the test is pinned: the switch takes the other CPUs offline. */
	if (preempt_full_begin(&fifo_preempt_switched, why, sizeof(why)))
		TH_LOG("(this kernel runs without full preemption, so the woken child runs when the test's call returns, not inside its wake-up: %s)",
		       why);
	EXPECT_EQ(0, cpu_order_pin(&order)) {
		TH_LOG("cannot run the test on one CPU: %s", strerror(errno));
	}
	for (reading = 0; reading < 2; reading++) {
		if (reading) {
			EXPECT_EQ(FIFO_SIZE, write(self->fd[3], fill, FIFO_SIZE));
			take_signals(drop);
		}
		pid = rt_sleeper(node(3), reading);
		ASSERT_LE(0, pid) {
			TH_LOG("cannot fork: %s", strerror(errno));
		}
		st = task_wait_asleep(pid, NULL, 5000);
		EXPECT_EQ('S', st) {
			TH_LOG("a blocking %s of 8 bytes on %s %s should sleep",
			       reading ? "write" : "read", reading ? "a full" :
			       "an empty", node(3));
		}
		memset(buf, 'w', sizeof(buf));
		n = reading ? read(self->fd[3], buf, 8) :
			      write(self->fd[3], buf, 8);
		EXPECT_EQ(8, n);
		EXPECT_EQ(0, wait_for_child(pid, &status, 5000)) {
			TH_LOG("the %s the test's %s woke did not return",
			       reading ? "write" : "read",
			       reading ? "read" : "write");
			kill(pid, SIGKILL);
			/* Not for good: it may be stuck where SIGKILL
			 * cannot end it. */
			status = -1;
			wait_for_child(pid, &status, 1000);
		}
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
			TH_LOG("the woken %s did not move its 8 bytes",
			       reading ? "write" : "read");
		}
		/* The test's call, then the woken child's, which undid it. */
		want[0] = sig_for(a, reading ? POLL_OUT : POLL_IN);
		want[1] = sig_for(a, reading ? POLL_IN : POLL_OUT);
		snprintf(after, sizeof(after), "a %s of 8 bytes that woke a %s, which %s",
			 reading ? "read from a full minor" :
			 "write to an empty minor",
			 reading ? "writer" : "reader",
			 reading ? "filled the minor again" :
			 "took the 8 bytes");
		expect_signals(_metadata, want, 2, after, rule[reading]);
		if (reading)
			drain_all(self->fd[3]);
	}
	cpu_order_unpin(&order);
	EXPECT_EQ(0, preempt_full_end(&fifo_preempt_switched)) {
		TH_LOG("could not switch the kernel back to its preemption model");
	}
	close(a);
}

/** @brief Files on four minors, one each: an event on one minor signals
 *         the file on that minor only. */
TEST_F_TIMEOUT(minors, each_minor_signals_only_its_own_files, TIMEOUT)
{
	struct minor_model_signal want;
	char after[64], c;
	int a[4], i;

	ASSERT_EQ(0, block_rt());
	for (i = 0; i < 4; i++) {
		a[i] = open_async(node(i), getpid());
		ASSERT_LE(0, a[i]);
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(1, write(self->fd[i], "x", 1));
		want = sig_for(a[i], POLL_IN);
		snprintf(after, sizeof(after), "a write to %s", node(i));
		expect_signals(_metadata, &want, 1, after,
			       "each minor has its own list of O_ASYNC files (dev->async_queue): an event on a minor signals the files of that minor only");
	}
	for (i = 3; i >= 0; i--) {
		ASSERT_EQ(1, read(self->fd[i], &c, 1));
		want = sig_for(a[i], POLL_OUT);
		snprintf(after, sizeof(after), "a read from %s", node(i));
		expect_signals(_metadata, &want, 1, after,
			       "each minor has its own list of O_ASYNC files (dev->async_queue): an event on a minor signals the files of that minor only");
	}
	for (i = 0; i < 4; i++)
		close(a[i]);
}

/** @brief A process that counts the signals it receives, for
 *         every_file_and_every_owner_is_signalled. */
struct counter {
	/** @brief Its PID. */
	pid_t pid;
	/** @brief The test writes a byte here to ask for its count. */
	int ask[2];
	/** @brief It answers here: the number of signals, then their
	 *         si_fd values. */
	int answer[2];
};

/** @brief Start a counter: it blocks the signals, says it is ready, then
 *         answers every question with what it received since the last.
 * @param c the counter
 * @return 0, or -1
 */
static int counter_start(struct counter *c)
{
	int ready[2];

	if (pipe(c->ask) || pipe(c->answer) || pipe(ready))
		return -1;
	c->pid = fork_detached();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		struct minor_model_signal got[MINOR_MODEL_SIGNALS];
		int n;
		char q;

		if (block_rt() || write(ready[1], "", 1) != 1)
			_exit(1);
		while (read(c->ask[0], &q, 1) == 1) {
			n = take_signals(got);
			if (n > MINOR_MODEL_SIGNALS)
				n = MINOR_MODEL_SIGNALS;
			if (write(c->answer[1], &n, sizeof(n)) != sizeof(n) ||
			    write(c->answer[1], got, n * sizeof(got[0])) !=
				    (ssize_t)(n * sizeof(got[0])))
				_exit(1);
		}
		_exit(0);
	}
	close(ready[1]);
	return await_byte(ready[0], 5000) ? 0 : -1;
}

/** @brief Check that counter @p c received exactly @p want.
 * @param _metadata the harness's test
 * @param c the counter
 * @param who it, for a message
 * @param want the signals
 * @param n how many
 * @param after the call that sent them
 */
static void expect_counted(struct __test_metadata *_metadata,
			   struct counter *c, const char *who,
			   const struct minor_model_signal *want, int n,
			   const char *after)
{
	struct minor_model_signal got[MINOR_MODEL_SIGNALS];
	char w[256], g[256];
	int k = -1;

	ASSERT_EQ(1, write(c->ask[1], "?", 1));
	ASSERT_TRUE(read_all_for(c->answer[0], &k, sizeof(k), 3000));
	ASSERT_TRUE(k >= 0 && k <= MINOR_MODEL_SIGNALS);
	ASSERT_TRUE(!k || read_all_for(c->answer[0], got, k * sizeof(got[0]),
				       3000));
	EXPECT_TRUE(minor_model_same_signals(want, n, got, k)) {
		TH_LOG("after %s, %s:\n#   expected: %s\n#   received: %s\n#   rule: every O_ASYNC file of the minor signals its own owner (F_SETOWN: a process, or every process of a group), once per event; a file whose O_ASYNC was cleared, or that was closed, signals nobody",
		       after, who, minor_model_describe_signals(want, n, w, sizeof(w)),
		       minor_model_describe_signals(got, k, g, sizeof(g)));
	}
}

/** @brief On one minor: two files of this process, one of another
 *         process, one owned by a process group of two. One write
 *         signals each file's owner once (both processes of the group);
 *         after one file clears O_ASYNC and another is closed, only the
 *         others signal. */
TEST_F_TIMEOUT(minors, every_file_and_every_owner_is_signalled, 15)
{
	struct counter other, g1, g2;
	struct minor_model_signal want[2];
	int x, y, z, grp;
	char c;

	ASSERT_EQ(0, block_rt());
	ASSERT_EQ(0, counter_start(&other));
	ASSERT_EQ(0, counter_start(&g1));
	ASSERT_EQ(0, counter_start(&g2));
	ASSERT_EQ(0, setpgid(g1.pid, g1.pid));
	ASSERT_EQ(0, setpgid(g2.pid, g1.pid));
	x = open_async(node(4), getpid());
	y = open_async(node(4), getpid());
	z = open_async(node(4), other.pid);
	grp = open_async(node(4), -g1.pid);
	ASSERT_TRUE(x >= 0 && y >= 0 && z >= 0 && grp >= 0) {
		TH_LOG("F_SETOWN, F_SETSIG or O_ASYNC failed: %s",
		       strerror(errno));
	}
	ASSERT_EQ(1, write(self->fd[4], "x", 1));
	want[0] = sig_for(x, POLL_IN);
	want[1] = sig_for(y, POLL_IN);
	expect_signals(_metadata, want, 2,
		       "a write to a minor with two O_ASYNC files of this process",
		       "each O_ASYNC file of the minor signals its owner, once: two files, two signals, each with its own si_fd");
	want[0] = sig_for(z, POLL_IN);
	expect_counted(_metadata, &other, "the owner of one file", want, 1,
		       "one write");
	want[0] = sig_for(grp, POLL_IN);
	expect_counted(_metadata, &g1, "the leader of the group owning one file",
		       want, 1, "one write");
	expect_counted(_metadata, &g2, "the other process of the group",
		       want, 1, "one write");
	/* y clears O_ASYNC, z is closed: they signal nobody any more. */
	ASSERT_EQ(0, fcntl(y, F_SETFL, O_RDWR | O_NONBLOCK));
	close(z);
	ASSERT_EQ(1, read(self->fd[4], &c, 1));
	want[0] = sig_for(x, POLL_OUT);
	expect_signals(_metadata, want, 1,
		       "a read, after O_ASYNC was cleared on one of this process's two files",
		       "clearing O_ASYNC takes the file off the minor's list: .fasync passes on to fasync_helper() what the VFS asks");
	expect_counted(_metadata, &other, "the owner of the closed file",
		       NULL, 0, "a read, after its file was closed");
	want[0] = sig_for(grp, POLL_OUT);
	expect_counted(_metadata, &g1, "the leader of the group", want, 1,
		       "a read");
	expect_counted(_metadata, &g2, "the other process of the group",
		       want, 1, "a read");
	close(x);
	close(y);
	close(grp);
}

/** @brief The rule o_async_at_open_joins_no_list checks, for its failure
 *         messages. */
#define OPEN_ASYNC_RULE "open() accepts O_ASYNC and F_GETFL shows it, but Linux calls no .fasync at open() (open(2), BUGS), and .open leaves the list alone: the file is on no list, as a named pipe opened so is on none, and no fcntl() puts it on one: the VFS calls .fasync only when F_SETFL changes the flag, and fasync_helper() clears the flag only when it takes the file off the list, so clearing O_ASYNC leaves it set, and setting it again changes nothing"

/** @brief What o_async_at_open_joins_no_list does to the file it opened
 *         with O_ASYNC before each write: the steps, for its messages. */
static const char *const open_async_step_names[] = {
	"was opened with O_RDWR | O_NONBLOCK | O_ASYNC, then given F_SETOWN (this process) and F_SETSIG",
	"then got F_SETFL with O_ASYNC still set",
	"then got F_SETFL clearing O_ASYNC",
	"then got F_SETFL setting O_ASYNC again",
};

/** @brief Open @p path with O_ASYNC, give the file an owner (this
 *         process) and rt_signal(), then set O_ASYNC again, clear it and
 *         set it again, writing a byte to @p path through a descriptor of
 *         its own after each step: F_GETFL shows O_ASYNC all along, and no
 *         write signals the file.
 * @param _metadata the harness's test
 * @param path a node of the device, or a named pipe
 * @param model nonzero for the named pipe: what it does differently is
 *        the test's mistake (or the kernel's change), not the driver's
 */
static void open_async_run(struct __test_metadata *_metadata,
			   const char *path, int model)
{
	const int fl = O_RDWR | O_NONBLOCK;
	const int set[4] = { -1, fl | O_ASYNC, fl, fl | O_ASYNC };
	char after[256], rule[sizeof(OPEN_ASYNC_RULE) + 128];
	unsigned int step;
	int a, w, got;

	snprintf(rule, sizeof(rule), "%s%s", model ?
		 "(this is the named pipe, the test's model: the kernel does not do what the test expects of it) " :
		 "", OPEN_ASYNC_RULE);
	a = open(path, fl | O_ASYNC);
	ASSERT_LE(0, a) {
		TH_LOG("open(%s, O_RDWR | O_NONBLOCK | O_ASYNC): %s", path,
		       strerror(errno));
	}
	/* A reader is open (a): the named pipe's write end opens at once. */
	w = open(path, O_WRONLY | O_NONBLOCK);
	ASSERT_LE(0, w) {
		TH_LOG("open(%s, O_WRONLY | O_NONBLOCK): %s", path,
		       strerror(errno));
	}
	ASSERT_EQ(0, fcntl(a, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(a, F_SETSIG, rt_signal()));
	for (step = 0; step < 4; step++) {
		if (set[step] >= 0) {
			ASSERT_EQ(0, fcntl(a, F_SETFL, set[step])) {
				TH_LOG("%s %s: F_SETFL failed: %s", path,
				       open_async_step_names[step],
				       strerror(errno));
			}
		}
		snprintf(after, sizeof(after), "%s (fd %d) %s", path, a,
			 open_async_step_names[step]);
		got = fcntl(a, F_GETFL);
		EXPECT_EQ(O_ASYNC, got & O_ASYNC) {
			TH_LOG("%s: F_GETFL gives %#o, without O_ASYNC; rule: %s",
			       after, got, rule);
		}
		ASSERT_EQ(1, write(w, "x", 1));
		strncat(after, ", a write of 1 byte to it",
			sizeof(after) - strlen(after) - 1);
		expect_signals(_metadata, NULL, 0, after, rule);
	}
	close(w);
	close(a);
}

/** @brief open() with O_ASYNC puts the file on no list, and no fcntl()
 *         puts it on one: once it has an owner, no write signals it,
 *         neither after an F_SETFL that leaves O_ASYNC set nor after one
 *         that clears it and one that sets it again; F_GETFL shows O_ASYNC
 *         all along. The same steps on a named pipe (mkfifo) first, the
 *         model. */
TEST_F_TIMEOUT(minors, o_async_at_open_joins_no_list, TIMEOUT)
{
	char fifo[64];

	ASSERT_EQ(0, block_rt());
	snprintf(fifo, sizeof(fifo), "/tmp/asyncfifo-test.%d", getpid());
	unlink(fifo);
	ASSERT_EQ(0, mkfifo(fifo, 0600)) {
		TH_LOG("mkfifo(%s): %s", fifo, strerror(errno));
	}
	open_async_run(_metadata, fifo, 1);
	unlink(fifo);
	open_async_run(_metadata, node(6), 0);
	drain_all(self->fd[6]);
}

#include "harness_main.h"

LABKIT_HARNESS_MAIN
