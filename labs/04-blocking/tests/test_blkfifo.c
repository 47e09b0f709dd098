// SPDX-License-Identifier: GPL-2.0
/** @file test_blkfifo.c
 * @brief Lab 04 tests: /dev/blkfifo is Lab 03's FIFO whose reads and
 *        writes sleep instead of failing.
 *
 * The shared FIFO tests (userspace/fifo_tests.h, stage 4) run first: the
 * FIFO itself and O_NONBLOCK, as in Lab 03. The tests below check the new
 * concept: who sleeps, in which state, who wakes them, and what a signal
 * does to a sleep. The sleeping calls run in child processes (struct
 * sleeper), so that a call a driver bug never wakes cannot keep the test
 * from ending. The tests never sleep() to let a call get somewhere: they
 * read its state from /proc (task_state.h) and wait on pipes with poll()
 * and a timeout. kselftest harness: each test runs in a
 * forked process with a timeout; tests/grade.sh turns the results into
 * points.
 */
#define _GNU_SOURCE

/** @brief The device under test. */
#define FIFO_DEV "/dev/blkfifo"
/** @brief The lab's stage: which of the shared FIFO tests apply. */
#define FIFO_STAGE 4

#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fifo_tests.h"
#include "module_reload.h"

/** @brief How long a woken call may take to return, in ms: it takes
 *         milliseconds, even under emulation. */
#define WAKE_MS 2000

/** @brief Why a call that should sleep is not asleep, for the test log.
 * @param s the sleeper
 * @param st what sleeper_start() returned
 * @return a static string
 */
static const char *not_asleep(const struct sleeper *s, char st)
{
	static char why[128];

	switch (st) {
	case 'X':
		snprintf(why, sizeof(why), "it returned %zd (%s) at once",
			 s->sh->call.ret,
			 s->sh->call.ret < 0 ? strerror(s->sh->call.err) : "no error");
		break;
	case 'D':
		snprintf(why, sizeof(why),
			 "it sleeps in state D, which signals cannot end");
		break;
	case 0:
		snprintf(why, sizeof(why),
			 "it still runs after 5 s: busy-waiting?");
		break;
	default:
		snprintf(why, sizeof(why), "state %c", st);
	}
	return why;
}

TEST_F_TIMEOUT(fifo, read_on_empty_sleeps_until_data, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char st;

	st = sleeper_start(s, self->fd, NULL, 16);
	EXPECT_TRUE(st == 'S' || st == 'D') {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(5, write(self->nb, "hello", 5));
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("5 bytes came, and the sleeping reader was not woken: wake the readers after a write");
	}
	sleeper_finish(s, self->nb);
	EXPECT_EQ(5, s->sh->call.ret);
	EXPECT_EQ(0, memcmp(s->sh->buf, "hello", 5));
}

TEST_F_TIMEOUT(fifo, write_on_full_sleeps_until_room, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char fill[FIFO_SIZE], got[4], buf[FIFO_SIZE + 10];
	ssize_t n;
	char st;
	int i;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	st = sleeper_start(s, self->fd, "wwwwwwwwww", 10);
	EXPECT_TRUE(st == 'S' || st == 'D') {
		TH_LOG("a write to the full FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(4, read(self->nb, got, sizeof(got)));
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("a read made room for 4 bytes, and the sleeping writer was not woken: wake the writers after a read");
	}
	sleeper_finish(s, self->nb);
	ASSERT_GE(s->sh->call.ret, 1);
	EXPECT_LE(s->sh->call.ret, 4) {
		TH_LOG("there was room for 4 bytes, and the write says it wrote %zd",
		       s->sh->call.ret);
	}
	n = drain(self->nb, buf, sizeof(buf));
	ASSERT_EQ(FIFO_SIZE - 4 + s->sh->call.ret, n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(i < FIFO_SIZE - 4 ? 'f' : 'w', buf[i]);
}

/* A sleep that signals cannot end makes a process that Ctrl-C and even
 * kill -9 cannot stop. */
TEST_F_TIMEOUT(fifo, sleepers_are_interruptible, TIMEOUT)
{
	struct sleeper *r = &self->sleepers[0], *w = &self->sleepers[1];
	char fill[FIFO_SIZE], c;
	char st;

	st = sleeper_start(r, self->fd, NULL, 1);
	EXPECT_EQ('S', st) {
		TH_LOG("a reader waiting for data should be in state S (wait_event_interruptible()): %s",
		       not_asleep(r, st));
	}
	ASSERT_EQ(1, write(self->nb, "x", 1));
	sleeper_finish(r, self->nb);

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	st = sleeper_start(w, self->fd, "y", 1);
	EXPECT_EQ('S', st) {
		TH_LOG("a writer waiting for room should be in state S (wait_event_interruptible()): %s",
		       not_asleep(w, st));
	}
	ASSERT_EQ(1, read(self->nb, &c, 1));
	sleeper_finish(w, self->nb);
}

TEST_F_TIMEOUT(fifo, signal_interrupts_read_with_eintr, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char buf[16], st;

	st = sleeper_start(s, self->fd, NULL, 16);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(0, kill(s->pid, SIGUSR1));
	ASSERT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("a signal did not end the reader's sleep");
	}
	sleeper_finish(s, self->nb);
	EXPECT_EQ(-1, s->sh->call.ret);
	EXPECT_EQ(EINTR, s->sh->call.err) {
		TH_LOG("a signal ends the sleep with -ERESTARTSYS, which a program whose handler lacks SA_RESTART sees as EINTR");
	}
	ASSERT_EQ(3, write(self->nb, "abc", 3));
	EXPECT_EQ(3, drain(self->nb, buf, sizeof(buf))) {
		TH_LOG("the interrupted read must not take any data");
	}
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
}

TEST_F_TIMEOUT(fifo, signal_interrupts_write_with_eintr, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char fill[FIFO_SIZE], buf[2 * FIFO_SIZE], st;
	int i;

	memset(fill, 'f', sizeof(fill));
	ASSERT_EQ(FIFO_SIZE, write(self->nb, fill, sizeof(fill)));
	st = sleeper_start(s, self->fd, "more", 4);
	ASSERT_EQ('S', st) {
		TH_LOG("a write to the full FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(0, kill(s->pid, SIGUSR1));
	ASSERT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("a signal did not end the writer's sleep");
	}
	sleeper_finish(s, self->nb);
	EXPECT_EQ(-1, s->sh->call.ret);
	EXPECT_EQ(EINTR, s->sh->call.err);
	ASSERT_EQ(FIFO_SIZE, drain(self->nb, buf, sizeof(buf))) {
		TH_LOG("the interrupted write must not add any data");
	}
	for (i = 0; i < FIFO_SIZE; i++)
		EXPECT_EQ('f', buf[i]);
}

/** @brief Written to by note_signal(), read by the test that waits for it. */
static int signal_pipe[2];

/** @brief A SIGUSR1 handler that tells the test it ran.
 * @param sig the signal
 */
static void note_signal(int sig)
{
	ssize_t n = write(signal_pipe[1], "", 1);

	(void)sig;
	(void)n;
}

/* -ERESTARTSYS, not -EINTR: with SA_RESTART the kernel restarts the read
 * after the handler, and the program never sees the signal's interruption. */
TEST_F_TIMEOUT(fifo, sa_restart_restarts_the_read, TIMEOUT)
{
	struct sigaction restart = {
		.sa_handler = note_signal, .sa_flags = SA_RESTART,
	};
	struct sigaction plain = { .sa_handler = ignore_signal };
	struct sleeper *s = &self->sleepers[0];
	char st;

	ASSERT_EQ(0, pipe(signal_pipe));
	ASSERT_EQ(0, sigaction(SIGUSR1, &restart, NULL));
	st = sleeper_start(s, self->fd, NULL, 16);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(0, kill(s->pid, SIGUSR1));
	ASSERT_TRUE(await_byte(signal_pipe[0], 5000)) {
		TH_LOG("the signal handler did not run");
	}
	st = task_wait_asleep(s->sh->call.tid, &s->sh->call.done, 5000);
	ASSERT_EQ(0, sigaction(SIGUSR1, &plain, NULL));
	EXPECT_EQ('S', st) {
		TH_LOG("after a signal whose handler has SA_RESTART, the read returned %zd (%s) instead of going on: return -ERESTARTSYS, not -EINTR",
		       s->sh->call.ret, strerror(s->sh->call.err));
	}
	ASSERT_EQ(1, write(self->nb, "r", 1));
	EXPECT_TRUE(sleeper_returned(s, WAKE_MS));
	sleeper_finish(s, self->nb);
	if (st == 'S') {
		EXPECT_EQ(1, s->sh->call.ret);
		EXPECT_EQ('r', s->sh->buf[0]);
	}
}

/** @brief Readers asleep at once in several_readers_one_byte_one_winner. */
#define READERS 3

/* All sleeping readers wake for one byte; one gets it, the others must
 * find the FIFO empty again under the lock and go back to sleep. */
TEST_F_TIMEOUT(fifo, several_readers_one_byte_one_winner, 15)
{
	struct sleeper *r = self->sleepers;
	struct pollfd p[READERS];
	int i, winners = 0;
	char st;

	for (i = 0; i < READERS; i++) {
		st = sleeper_start(&r[i], self->fd, NULL, 8);
		ASSERT_EQ('S', st) {
			TH_LOG("reader %d should sleep on the empty FIFO: %s", i,
			       not_asleep(&r[i], st));
		}
		p[i].fd = r[i].done[0];
		p[i].events = POLLIN;
	}
	ASSERT_EQ(1, write(self->nb, "1", 1));
	EXPECT_LT(0, poll(p, READERS, 5000)) {
		TH_LOG("a byte came, and no sleeping reader returned");
	}
	/* Each of the others sleeps again, or has returned. */
	for (i = 0; i < READERS; i++)
		task_wait_asleep(r[i].sh->call.tid, &r[i].sh->call.done, 5000);
	for (i = 0; i < READERS; i++) {
		if (!atomic_load(&r[i].sh->call.done))
			continue;
		if (r[i].sh->call.ret == 1 && r[i].sh->buf[0] == '1') {
			winners++;
			continue;
		}
		EXPECT_EQ(1, r[i].sh->call.ret) {
			TH_LOG("reader %d returned %zd (%s) though another reader took the byte: after waking, take the lock and check again, in a loop",
			       i, r[i].sh->call.ret, strerror(r[i].sh->call.err));
		}
	}
	EXPECT_EQ(1, winners);
}

/*
 * The race the loop around the sleep is for, made to happen every time.
 * Reader B sleeps on the empty FIFO; 32 bytes come, which wakes it, but
 * before B runs, reader A takes the readers' lock and starts copying all
 * 32 bytes, and is frozen half-way (copy_stall.h): B now sees data, leaves
 * its wait, and queues for the lock. When A is let go, it takes all 32,
 * and B, given the lock, finds the FIFO empty again. It must go back to
 * sleep: returning 0 would be end of file. The test and A run as SCHED_FIFO
 * on one CPU, so that B, an ordinary process, runs only when both wait.
 */
TEST_F_TIMEOUT(fifo, woken_reader_rechecks_under_the_lock, 15)
{
	struct sched_param rt = { .sched_priority = 1 };
	struct sleeper *b = &self->sleepers[0];
	struct fifo_call a = { .fd = self->fd, .count = 32, .ready_pipe = -1 };
	char data[32], st;
	struct copy_stall cs;
	cpu_set_t one_cpu;
	int a_done[2];
	pthread_t at;

	memset(data, 'd', sizeof(data));
	CPU_ZERO(&one_cpu);
	CPU_SET(sched_getcpu(), &one_cpu);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one_cpu), &one_cpu));
	st = sleeper_start(b, self->fd, NULL, 8);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(b, st));
	}
	ASSERT_EQ(0, sched_setscheduler(0, SCHED_FIFO, &rt));
	ASSERT_EQ(0, pipe(a_done));
	a.done_pipe = a_done[1];
	a.buf = copy_stall_init(&cs, 16, 0);
	ASSERT_NE(NULL, a.buf);
	ASSERT_EQ(32, write(self->nb, data, sizeof(data)));
	/* A (SCHED_FIFO too) runs before B, and stalls after 16 bytes. */
	ASSERT_EQ(0, pthread_create(&at, NULL, fifo_call_main, &a));
	ASSERT_EQ(1, copy_stall_wait(&cs, a_done[0], 5000)) {
		TH_LOG("reader A was not frozen in its copy (it returned %zd): did B take the data first?",
		       a.ret);
	}
	/* B runs now, sees the 32 bytes, and waits for A's lock. */
	st = task_wait_asleep(b->pid, &b->sh->call.done, 5000);
	ASSERT_EQ(0, copy_stall_release(&cs, 'd'));
	pthread_join(at, NULL);
	EXPECT_EQ(32, a.ret);
	ASSERT_EQ('S', st) {
		TH_LOG("reader B returned %zd before A was let go", b->sh->call.ret);
	}
	/* A took everything: B sleeps again, or wrongly returns. */
	st = task_wait_asleep(b->pid, &b->sh->call.done, 5000);
	EXPECT_EQ('S', st) {
		TH_LOG("a reader woken for data another reader then took returned %zd (%s): after waking, take the lock and check again, in a loop",
		       b->sh->call.ret,
		       b->sh->call.ret < 0 ? strerror(b->sh->call.err) : "no error");
	}
	copy_stall_destroy(&cs);
}

/* The course notes woke readers only when the FIFO was not full after
 * the write, and stranded them whenever one write filled it. */
TEST_F_TIMEOUT(fifo, write_that_fills_the_fifo_wakes_reader, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0];
	char data[FIFO_SIZE], st;
	int i;

	for (i = 0; i < FIFO_SIZE; i++)
		data[i] = (char)('0' + i % 10);
	st = sleeper_start(s, self->fd, NULL, FIFO_SIZE);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	ASSERT_EQ(FIFO_SIZE, write(self->nb, data, sizeof(data)));
	ASSERT_TRUE(sleeper_returned(s, WAKE_MS)) {
		TH_LOG("one write filled the FIFO exactly, and the sleeping reader was not woken: wake the readers after every write that added data");
	}
	ASSERT_LE(1, s->sh->call.ret);
	EXPECT_EQ(0, memcmp(s->sh->buf, data, (size_t)s->sh->call.ret));
}

/* A sleeping reader must not keep the readers' mutex: an O_NONBLOCK
 * reader would wait for it, and a blocking one could not be interrupted
 * on its way in. */
TEST_F_TIMEOUT(fifo, nonblocking_read_while_a_reader_sleeps, TIMEOUT)
{
	struct sleeper *s = &self->sleepers[0], *nb = &self->sleepers[1];
	char st;

	st = sleeper_start(s, self->fd, NULL, 1);
	ASSERT_EQ('S', st) {
		TH_LOG("a read of the empty FIFO should sleep: %s",
		       not_asleep(s, st));
	}
	st = sleeper_start(nb, self->nb, NULL, 1);
	ASSERT_EQ('X', st) {
		TH_LOG("an O_NONBLOCK read waited while another reader slept: unlock before going to sleep");
	}
	EXPECT_EQ(-1, nb->sh->call.ret);
	EXPECT_EQ(EAGAIN, nb->sh->call.err);
}

/* The course notes' demonstration: cat sleeps on the empty device, echo
 * from another process wakes it, and a signal ends it. */
TEST_F_TIMEOUT(fifo, cat_waits_for_echo, 15)
{
	char *cat_argv[] = { "cat", FIFO_DEV, NULL };
	char *echo_argv[] = { "sh", "-c", "echo hello >" FIFO_DEV, NULL };
	struct pollfd p = { .events = POLLIN };
	char buf[16] = "", echo_out[8];
	int out[2], status, pidfd;
	size_t got = 0;
	pid_t cat;
	ssize_t n;

	ASSERT_EQ(0, pipe(out));
	cat = spawn(cat_argv, out[1]);
	ASSERT_LT(0, cat);
	close(out[1]);
	p.fd = out[0];
	EXPECT_EQ('S', task_wait_asleep(cat, NULL, 5000)) {
		TH_LOG("cat on the empty device should wait for data");
	}
	EXPECT_EQ(0, poll(&p, 1, 0)) {
		TH_LOG("cat printed or ended before anything was written");
	}
	EXPECT_EQ(0, run_command(echo_argv, echo_out, sizeof(echo_out), 3000));
	while (got < 6 && poll(&p, 1, 5000) == 1) {
		n = read(out[0], buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	EXPECT_STREQ("hello\n", buf) {
		TH_LOG("cat should print what echo wrote, as soon as it was written");
	}
	/* cat now waits again; SIGTERM must end it at once. */
	pidfd = (int)syscall(SYS_pidfd_open, cat, 0);
	ASSERT_LE(0, pidfd);
	ASSERT_EQ(0, kill(cat, SIGTERM));
	p.fd = pidfd;
	EXPECT_EQ(1, poll(&p, 1, 5000)) {
		TH_LOG("SIGTERM did not end cat's sleep");
		ASSERT_EQ(1, write(self->nb, "x", 1));
	}
	ASSERT_EQ(cat, waitpid(cat, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	close(pidfd);
	close(out[0]);
}

/** @brief Tests that reload the module: nothing of theirs is open. */
FIXTURE(module) {
	/** @brief Unused: a fixture needs a member. */
	int unused;
};

/** @brief Nothing to set up. */
FIXTURE_SETUP(module)
{
}

/** @brief Leave the module loaded with its defaults, as the autograder
 *         expects to find it. */
FIXTURE_TEARDOWN(module)
{
	if (access("/sys/module/blkfifo", F_OK) != 0)
		module_load("blkfifo", "");
}

/** @brief Load blkfifo with @p params; if that worked, unload it again.
 * @return 0 or the errno of the refused load
 */
static int try_params(const char *params)
{
	int err = module_load("blkfifo", params);

	if (!err)
		module_unload("blkfifo");
	return err;
}

TEST_F_TIMEOUT(module, fifo_size_param, 15)
{
	const char *bad[] = { "fifo_size=0", "fifo_size=1", "fifo_size=100",
			      "fifo_size=131072" };
	char big[5000], value[16] = "";
	unsigned int i;
	FILE *f;
	int fd;

	f = fopen("/sys/module/blkfifo/parameters/fifo_size", "r");
	ASSERT_NE(NULL, f) {
		TH_LOG("no fifo_size parameter: module_param(fifo_size, uint, 0444)");
	}
	EXPECT_NE(NULL, fgets(value, sizeof(value), f));
	fclose(f);
	EXPECT_STREQ("64\n", value);
	ASSERT_EQ(0, module_unload("blkfifo")) {
		TH_LOG("cannot unload blkfifo: %s", strerror(errno));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *params = bad[i];

		EXPECT_EQ(EINVAL, try_params(params)) {
			TH_LOG("%s: init must refuse it with -EINVAL", params);
		}
	}
	ASSERT_EQ(0, module_load("blkfifo", "fifo_size=4096"));
	fd = open(FIFO_DEV, O_WRONLY | O_NONBLOCK);
	EXPECT_LE(0, fd);
	memset(big, 'b', sizeof(big));
	EXPECT_EQ(4096, write(fd, big, sizeof(big))) {
		TH_LOG("loaded with fifo_size=4096, the FIFO should hold 4096 bytes");
	}
	close(fd);
	EXPECT_EQ(0, module_unload("blkfifo"));
	EXPECT_EQ(0, module_load("blkfifo", ""));
}

TEST_HARNESS_MAIN
