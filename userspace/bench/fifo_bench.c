// SPDX-License-Identifier: GPL-2.0
/** @file fifo_bench.c
 * @brief Stream a verified byte pattern through FIFO-like files and time it.
 *
 * Usage:
 *
 *     fifo_bench [-s SIZES] [-r READSIZES] [-t SECONDS] [-n RUNS]
 *                [-b BYTES] [-p PIPESIZE] [-m FIFO] [-a SECONDS]
 *                LABEL=PATH | LABEL=WRITEPATH:READPATH ...
 *
 * Each target is a label and the path a writer writes to and a reader
 * reads from: one path for a FIFO device (/dev/blkfifo) or a named pipe,
 * two for a device that has separate ends (/dev/mypipe/mypipe_in and
 * /dev/mypipe/mypipe_out). For every write size and every target, a
 * forked writer writes a stream of bytes in chunks of that size, and the
 * reader (this process) reads it in chunks of each READSIZE in turn
 * (default: the write size) and checks every byte against the pattern.
 *
 * The pattern is position dependent: byte i of the stream is
 * pattern[i mod 65521], with pattern[] pseudo-random bytes and 65521 a
 * prime, so a lost, duplicated or reordered byte shows up as a mismatch
 * within a few bytes; the reader reads exactly the stream's length and
 * then checks that nothing is left over, so a loss or duplication of a
 * whole period is caught too (as a watchdog timeout or as extra bytes).
 *
 * Options:
 *
 *   -s SIZES     comma-separated write sizes in bytes (default 64,512,4096)
 *   -r READSIZES comma-separated bytes per read, each measured in turn
 *                for every write size; 0 is the write size (default 0;
 *                e.g. 0,65536: reads as large as the writes, then
 *                64 KiB reads)
 *   -t SECONDS   aim for runs of about this long (default 1): a short
 *                calibration run per write size and target, repeated with
 *                eight times the bytes until it lasts a tenth of this,
 *                sets the byte count of the timed runs
 *   -n RUNS      timed runs per write size and target (default 3); the runs
 *                of all targets are interleaved, so that a change in the
 *                machine's speed hits every target alike
 *   -b BYTES     bytes per timed run, no calibration (rounded up to a
 *                multiple of the write size)
 *   -p PIPESIZE  when a read path is a named pipe, set its capacity with
 *                F_SETPIPE_SZ after every open (the kernel may round up; the
 *                size it really took is reported)
 *   -m FIFO      create FIFO with mkfifo before the runs (it must not exist)
 *                and remove it after
 *   -a SECONDS   watchdog per run (default 30): a run that takes longer is
 *                reported as a failure, and nothing ever hangs
 *
 * Output is TAP on stdout: "TAP version 13", a plan (one test per write size
 * and target), "#" lines, and for each write size and target, once all its
 * runs are through, "ok N LABEL write=SIZE ..." if every byte of every run
 * was verified. The first failure prints "not ok N LABEL write=SIZE: why"
 * and ends the program with status 1 (2 for bad arguments or a failed
 * set-up, after "Bail out! why"); the writer's own errors come first as
 * "# writer: ..." lines. The "#" lines are, each on one line,
 *
 *     # target LABEL write=PATH read=PATH
 *     # pipe LABEL asked=SIZE size=SIZE                 (named pipes only)
 *     # calibrate LABEL write=SIZE bytes=N seconds=S
 *     # bench LABEL write=SIZE read=SIZE run=N bytes=N seconds=S mbps=R
 *       rd_vcs=N rd_ics=N wr_vcs=N wr_ics=N rd_cs_mb=R wr_cs_mb=R
 *     # median LABEL write=SIZE read=SIZE mbps=R min=R max=R
 *
 * where mbps is 10^6 bytes per second of wall time (CLOCK_MONOTONIC) from
 * the moment the writer is told to start to the moment the reader has
 * checked the last byte; rd_vcs and rd_ics count the reader's voluntary
 * (it slept) and involuntary (it was preempted) context switches during
 * the run, wr_vcs and wr_ics the writer's over its life; rd_cs_mb and
 * wr_cs_mb are each side's context switches (both kinds) per 10^6 bytes.
 * The TAP tests are numbered by write size, then read size, then target.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/** @brief Length of the repeating pattern, a prime: no write or read size
 *         divides it, so every chunk starts at a different phase.
 */
#define PATTERN_PERIOD 65521u
/** @brief Largest write or read size accepted, in bytes. */
#define MAX_CHUNK (1u << 20)
/** @brief Most targets on one command line. */
#define MAX_TARGETS 8
/** @brief Most write sizes (and most read sizes) on one command line. */
#define MAX_SIZES 16
/** @brief Most timed runs per write size and target. */
#define MAX_RUNS 32
/** @brief Bytes of the first calibration run (at least 16 writes). */
#define CALIBRATION_START (64u << 10)
/** @brief Upper bound of a run's bytes, so that a projection cannot
 *         overflow or run for hours.
 */
#define MAX_BYTES (1ull << 36)

/** @brief The characters a target's label may hold. */
#define LABEL_CHARS \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."

/** @brief One file (or pair of files) to stream through. */
struct target {
	/** @brief Name in the output: letters, digits, '_', '-', '.'. */
	const char *label;
	/** @brief Path the writer opens O_WRONLY. */
	const char *write_path;
	/** @brief Path the reader opens O_RDONLY. */
	const char *read_path;
	/** @brief Bytes per timed run at the current write size. */
	uint64_t bytes;
	/** @brief Seconds each timed run took at the current write size. */
	double seconds[MAX_RUNS];
	/** @brief Context switches in the last run: the reader's voluntary
	 *         (it slept) and involuntary (it was preempted) ones, then the
	 *         writer's.
	 */
	long switches[4];
	/** @brief Pipe size F_GETPIPE_SZ reported after the last open, or 0
	 *         when the read path is not a pipe.
	 */
	int pipe_size;
	/** @brief Whether the pipe size has been reported already. */
	int pipe_reported;
};

/** @brief What the command line asked for. */
struct options {
	/** @brief Write sizes, in the order given. */
	size_t sizes[MAX_SIZES];
	/** @brief Number of entries in @c sizes. */
	int nsizes;
	/** @brief Read sizes, in the order given; 0 for the write size. */
	size_t read_sizes[MAX_SIZES];
	/** @brief Number of entries in @c read_sizes. */
	int nreads;
	/** @brief Bytes per read in the runs under way; 0 for the write
	 *         size (set by main() from @c read_sizes).
	 */
	size_t read_size;
	/** @brief Seconds a timed run should take. */
	double seconds;
	/** @brief Timed runs per write size and target. */
	int runs;
	/** @brief Bytes per timed run when fixed (-b); 0 to calibrate. */
	uint64_t fixed_bytes;
	/** @brief Pipe capacity to set on named pipes (-p); 0 to leave it. */
	int pipe_size;
	/** @brief Watchdog per run, in seconds. */
	unsigned int watchdog;
	/** @brief The targets, in the order given. */
	struct target targets[MAX_TARGETS];
	/** @brief Number of entries in @c targets. */
	int ntargets;
};

/** @brief The pattern, PATTERN_PERIOD bytes and then MAX_CHUNK more that
 *         repeat its start, so that any chunk is one contiguous slice.
 */
static unsigned char pattern[PATTERN_PERIOD + MAX_CHUNK];
/** @brief The reader's buffer. */
static unsigned char read_buf[MAX_CHUNK];

/** @brief The writer of the run in progress, for the watchdog; 0 if none
 *         (volatile: the SIGALRM handler reads it).
 */
static volatile pid_t writer_pid;
/** @brief Bytes the reader has checked in the run in progress (volatile:
 *         the SIGALRM handler reads it).
 */
static volatile uint64_t bytes_checked;
/** @brief The watchdog's message up to the byte count, made before a run. */
static char alarm_head[256];
/** @brief The watchdog's message after the byte count. */
static char alarm_tail[128];
/** @brief The FIFO made by -m, removed at the end; NULL if none. */
static const char *made_fifo;

/** @brief Fill pattern[] with pseudo-random bytes (xorshift32, fixed
 *         seed) and repeat its start after it.
 */
static void pattern_init(void)
{
	uint32_t x = 0x2545f491;
	size_t i;

	for (i = 0; i < PATTERN_PERIOD; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		pattern[i] = x >> 24;
	}
	for (; i < sizeof(pattern); i++)
		pattern[i] = pattern[i - PATTERN_PERIOD];
}

/** @brief The pattern from stream offset @p pos on (valid for MAX_CHUNK
 *         bytes).
 * @param pos offset in the stream
 * @return a pointer into pattern[]
 */
static const unsigned char *pattern_at(uint64_t pos)
{
	return pattern + pos % PATTERN_PERIOD;
}

/** @brief Seconds on the monotonic clock.
 * @return the time in seconds
 */
static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/** @brief Write the decimal digits of @p v to @p fd; async-signal-safe.
 * @param fd file descriptor
 * @param v the number
 */
static void write_u64(int fd, uint64_t v)
{
	char digits[24];
	int i = sizeof(digits);

	do {
		digits[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	if (write(fd, digits + i, sizeof(digits) - i) < 0)
		return;
}

/** @brief The watchdog: say which run overstayed and how far it got, stop
 *         the writer, remove the FIFO made by -m, exit with status 1.
 * @param sig SIGALRM
 */
static void on_alarm(int sig)
{
	(void)sig;
	if (write(STDOUT_FILENO, alarm_head, strlen(alarm_head)) < 0)
		_exit(1);
	write_u64(STDOUT_FILENO, bytes_checked);
	if (write(STDOUT_FILENO, alarm_tail, strlen(alarm_tail)) < 0)
		_exit(1);
	if (writer_pid > 0)
		kill(writer_pid, SIGKILL);
	if (made_fifo)
		unlink(made_fifo);
	_exit(1);
}

/** @brief Remove the FIFO made by -m (at exit). */
static void remove_fifo(void)
{
	if (made_fifo)
		unlink(made_fifo);
}

/** @brief Print "Bail out! ..." and exit with status 2.
 * @param fmt printf format of the reason
 */
static void __attribute__((noreturn, format(printf, 1, 2)))
bail_out(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(2);
}

/** @brief Format the reason for a failure into @p why.
 * @param why where the message goes
 * @param len its size
 * @param fmt printf format
 * @return -1, for the caller to return
 */
static int __attribute__((format(printf, 3, 4)))
failed(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/** @brief The writer (a forked child): open the write path, say so on
 *         @p ready, wait for the go on @p go, write @p bytes of the
 *         pattern in chunks of @p size, exit. Never returns.
 * @param t the target
 * @param size bytes per write
 * @param bytes length of the stream
 * @param ready pipe to the reader: one byte once the path is open
 * @param go pipe from the reader: one byte to start
 * @param watchdog seconds before the writer gives up on its own
 */
static void __attribute__((noreturn))
writer(const struct target *t, size_t size, uint64_t bytes,
	int ready, int go, unsigned int watchdog)
{
	uint64_t pos = 0;
	char c = 'r';
	ssize_t n;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGALRM, SIG_DFL);
	alarm(watchdog + 5);
	fd = open(t->write_path, O_WRONLY);
	if (fd < 0) {
		dprintf(STDOUT_FILENO, "# writer: open %s for writing: %s\n",
			t->write_path, strerror(errno));
		_exit(2);
	}
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		_exit(3);
	while (pos < bytes) {
		size_t chunk = bytes - pos < size ? bytes - pos : size;

		n = write(fd, pattern_at(pos), chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			dprintf(STDOUT_FILENO,
				"# writer: write(%s, %zu bytes) at byte %llu returned %zd: %s\n",
				t->write_path, chunk, (unsigned long long)pos, n,
				n < 0 ? strerror(errno) : "nothing written");
			_exit(4);
		}
		if ((size_t)n > chunk) {
			dprintf(STDOUT_FILENO,
				"# writer: write(%s, %zu bytes) returned %zd\n",
				t->write_path, chunk, n);
			_exit(4);
		}
		pos += n;
	}
	close(fd);
	_exit(0);
}

/** @brief Say where the data at stream offset @p pos, which differs from
 *         the pattern, seems to come from.
 * @param got the bytes read from offset @p pos on
 * @param len how many of them there are
 * @param pos their offset in the stream
 * @param why where the message goes
 * @param whylen its size
 * @return -1
 */
static int mismatch(const unsigned char *got, size_t len, uint64_t pos,
		    char *why, size_t whylen)
{
	size_t first = 0, probe;
	long long delta;

	while (first < len && got[first] == pattern_at(pos)[first])
		first++;
	pos += first;
	got += first;
	len -= first;
	probe = len < 16 ? len : 16;
	/* Does what follows match the pattern somewhere nearby? */
	for (delta = 1; probe >= 4 && delta <= 65536; delta++) {
		if (!memcmp(got, pattern_at(pos + delta), probe))
			return failed(why, whylen,
				      "byte %llu of the stream is 0x%02x, expected 0x%02x: the data goes on as if %lld bytes were lost",
				      (unsigned long long)pos, got[0],
				      pattern_at(pos)[0], delta);
		if ((uint64_t)delta <= pos &&
		    !memcmp(got, pattern_at(pos - delta), probe))
			return failed(why, whylen,
				      "byte %llu of the stream is 0x%02x, expected 0x%02x: the data goes on as if %lld bytes came again",
				      (unsigned long long)pos, got[0],
				      pattern_at(pos)[0], delta);
	}
	return failed(why, whylen,
		      "byte %llu of the stream is 0x%02x, expected 0x%02x",
		      (unsigned long long)pos, got[0], pattern_at(pos)[0]);
}

/** @brief Read everything the writer of a run sends, check it, and make
 *         sure nothing more follows.
 * @param t the target
 * @param fd the open read path
 * @param read_size bytes per read
 * @param bytes length of the stream
 * @param why where a failure's reason goes
 * @param whylen its size
 * @return 0, or -1 with @p why set
 */
static int reader(const struct target *t, int fd, size_t read_size,
		  uint64_t bytes, char *why, size_t whylen)
{
	uint64_t pos = 0;
	ssize_t n;

	while (pos < bytes) {
		size_t want = bytes - pos < read_size ? bytes - pos : read_size;

		n = read(fd, read_buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return failed(why, whylen,
				      "read(%s) at byte %llu: %s", t->read_path,
				      (unsigned long long)pos, strerror(errno));
		if (n == 0)
			return failed(why, whylen,
				      "read(%s) returned 0 (end of file) after %llu of %llu bytes: bytes were lost",
				      t->read_path, (unsigned long long)pos,
				      (unsigned long long)bytes);
		if ((size_t)n > want)
			return failed(why, whylen,
				      "read(%s, %zu bytes) returned %zd",
				      t->read_path, want, n);
		if (memcmp(read_buf, pattern_at(pos), n))
			return mismatch(read_buf, n, pos, why, whylen);
		pos += n;
		bytes_checked = pos;
	}
	return 0;
}

/** @brief After a run: the writer must have exited 0, and the read path
 *         must hold nothing more (end of file or EAGAIN). Notes the
 *         writer's context switches in @p t.
 * @param t the target
 * @param fd the open read path
 * @param pid the writer
 * @param why where a failure's reason goes
 * @param whylen its size
 * @return 0, or -1 with @p why set
 */
static int finish(struct target *t, int fd, pid_t pid, char *why,
		  size_t whylen)
{
	struct rusage ru;
	int status;
	ssize_t n;

	if (wait4(pid, &status, 0, &ru) < 0)
		return failed(why, whylen, "wait4: %s", strerror(errno));
	writer_pid = 0;
	t->switches[2] = ru.ru_nvcsw;
	t->switches[3] = ru.ru_nivcsw;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return failed(why, whylen, "the writer %s %d",
			      WIFEXITED(status) ? "exited with status" :
			      "was killed by signal",
			      WIFEXITED(status) ? WEXITSTATUS(status) :
			      WTERMSIG(status));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		return failed(why, whylen, "fcntl(O_NONBLOCK): %s",
			      strerror(errno));
	n = read(fd, read_buf, MAX_CHUNK);
	if (n > 0)
		return failed(why, whylen,
			      "%zd bytes more than were written are left in %s: bytes were duplicated",
			      n, t->read_path);
	if (n < 0 && errno != EAGAIN)
		return failed(why, whylen,
			      "read(%s) with O_NONBLOCK after the stream: %s",
			      t->read_path, strerror(errno));
	return 0;
}

/** @brief Stream @p bytes through @p t once and time it.
 * @param opt the options (read size, pipe size, watchdog)
 * @param t the target
 * @param size bytes per write
 * @param bytes length of the stream
 * @param seconds where the time taken goes
 * @param why where a failure's reason goes
 * @param whylen its size
 * @return 0, or -1 with @p why set
 */
static int stream_once(const struct options *opt, struct target *t,
		       size_t size, uint64_t bytes, double *seconds,
		       char *why, size_t whylen)
{
	size_t read_size = opt->read_size ? opt->read_size : size;
	int ready[2], go[2], fd, ret;
	struct rusage before, after;
	struct stat st;
	double start;
	char c;
	pid_t pid;

	if (pipe(ready) || pipe(go))
		return failed(why, whylen, "pipe: %s", strerror(errno));
	bytes_checked = 0;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return failed(why, whylen, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		writer(t, size, bytes, ready[1], go[0], opt->watchdog);
	}
	writer_pid = pid;
	close(ready[1]);
	close(go[0]);
	alarm(opt->watchdog);

	ret = -1;
	fd = open(t->read_path, O_RDONLY);
	if (fd < 0) {
		failed(why, whylen, "open %s for reading: %s", t->read_path,
		       strerror(errno));
		goto out_kill;
	}
	t->pipe_size = 0;
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		if (opt->pipe_size &&
		    fcntl(fd, F_SETPIPE_SZ, opt->pipe_size) < 0) {
			failed(why, whylen, "F_SETPIPE_SZ %d on %s: %s",
			       opt->pipe_size, t->read_path, strerror(errno));
			goto out_close;
		}
		t->pipe_size = fcntl(fd, F_GETPIPE_SZ);
	}
	if (read(ready[0], &c, 1) != 1) {
		failed(why, whylen, "the writer did not start (see above)");
		goto out_close;
	}
	getrusage(RUSAGE_SELF, &before);
	start = now();
	if (write(go[1], &c, 1) != 1) {
		failed(why, whylen, "cannot start the writer: %s",
		       strerror(errno));
		goto out_close;
	}
	if (reader(t, fd, read_size, bytes, why, whylen))
		goto out_close;
	*seconds = now() - start;
	getrusage(RUSAGE_SELF, &after);
	t->switches[0] = after.ru_nvcsw - before.ru_nvcsw;
	t->switches[1] = after.ru_nivcsw - before.ru_nivcsw;
	ret = finish(t, fd, pid, why, whylen);
	alarm(0);
	close(fd);
	close(ready[0]);
	close(go[1]);
	return ret;

out_close:
	close(fd);
out_kill:
	alarm(0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	writer_pid = 0;
	close(ready[0]);
	close(go[1]);
	return ret;
}

/** @brief Prepare the watchdog's message for the next run.
 * @param opt the options (watchdog)
 * @param test TAP test number
 * @param t the target
 * @param size write size
 * @param bytes length of the stream
 */
static void arm_message(const struct options *opt, int test,
			const struct target *t, size_t size, uint64_t bytes)
{
	snprintf(alarm_head, sizeof(alarm_head),
		 "not ok %d %s write=%zu: a run took over %u s (watchdog): the reader got ",
		 test, t->label, size, opt->watchdog);
	snprintf(alarm_tail, sizeof(alarm_tail),
		 " of %llu bytes (lost bytes, or a sleeper nobody woke)\n",
		 (unsigned long long)bytes);
}

/** @brief One run; on failure, print "not ok" and exit with status 1.
 * @param opt the options
 * @param test TAP test number of this target and write size
 * @param t the target
 * @param size write size
 * @param bytes length of the stream
 * @return the seconds the run took
 */
static double run_or_exit(const struct options *opt, int test,
			  struct target *t, size_t size, uint64_t bytes)
{
	double seconds = 0;
	char why[512];

	arm_message(opt, test, t, size, bytes);
	if (stream_once(opt, t, size, bytes, &seconds, why, sizeof(why))) {
		printf("not ok %d %s write=%zu: %s\n", test, t->label, size,
		       why);
		exit(1);
	}
	if (t->pipe_size && !t->pipe_reported) {
		printf("# pipe %s asked=%d size=%d\n", t->label, opt->pipe_size,
		       t->pipe_size);
		t->pipe_reported = 1;
	}
	return seconds;
}

/** @brief Round @p bytes up to a multiple of @p size, within bounds.
 * @param bytes a byte count
 * @param size the write size
 * @return the rounded count, at least @p size
 */
static uint64_t round_bytes(double bytes, size_t size)
{
	uint64_t n;

	if (bytes > MAX_BYTES)
		bytes = MAX_BYTES;
	n = (uint64_t)bytes;
	n = (n + size - 1) / size * size;
	return n ? n : size;
}

/** @brief Find the byte count that makes a run of @p t take about
 *         opt->seconds: short runs, eight times longer each, until one
 *         lasts a tenth of that, then scale.
 * @param opt the options
 * @param test TAP test number of this target and write size
 * @param t the target
 * @param size write size
 */
static void calibrate(const struct options *opt, int test, struct target *t,
		      size_t size)
{
	uint64_t bytes = round_bytes(CALIBRATION_START > 16 * size ?
				     CALIBRATION_START : 16 * size, size);
	double seconds;

	for (;;) {
		seconds = run_or_exit(opt, test, t, size, bytes);
		printf("# calibrate %s write=%zu bytes=%llu seconds=%.6f\n",
		       t->label, size, (unsigned long long)bytes, seconds);
		if (seconds >= opt->seconds / 10 || bytes >= MAX_BYTES)
			break;
		bytes = round_bytes(bytes * 8.0, size);
	}
	if (seconds < 1e-6)
		seconds = 1e-6;
	t->bytes = round_bytes(bytes * opt->seconds / seconds, size);
}

/** @brief Compare two doubles, for qsort().
 * @param a the first
 * @param b the second
 * @return <0, 0 or >0
 */
static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/** @brief Print the median, lowest and highest MB/s of @p t's runs.
 * @param opt the options (number of runs, read size)
 * @param t the target
 * @param size the write size
 */
static void print_median(const struct options *opt, const struct target *t,
			 size_t size)
{
	double rate[MAX_RUNS], median;
	int i, n = opt->runs;

	for (i = 0; i < n; i++)
		rate[i] = t->bytes / t->seconds[i] / 1e6;
	qsort(rate, n, sizeof(rate[0]), cmp_double);
	median = n % 2 ? rate[n / 2] : (rate[n / 2 - 1] + rate[n / 2]) / 2;
	printf("# median %s write=%zu read=%zu mbps=%.3f min=%.3f max=%.3f\n",
	       t->label, size, opt->read_size ? opt->read_size : size, median,
	       rate[0], rate[n - 1]);
}

/** @brief Print how to call the program and exit with status 2. */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: fifo_bench [-s SIZES] [-r READSIZES] [-t SECONDS] [-n RUNS]\n"
		"                  [-b BYTES] [-p PIPESIZE] [-m FIFO] [-a SECONDS]\n"
		"                  LABEL=PATH | LABEL=WRITEPATH:READPATH ...\n");
	exit(2);
}

/** @brief Parse a positive number no greater than @p max, or bail out.
 * @param s the text
 * @param max the largest value allowed
 * @param what the option or value, for the message
 * @return the number
 */
static unsigned long long number(const char *s, unsigned long long max,
				 const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > max)
		bail_out("%s '%s' is not a number from 1 to %llu", what, s,
			 max);
	return v;
}

/** @brief Parse a target "LABEL=PATH" or "LABEL=WRITEPATH:READPATH".
 * @param arg the argument (modified in place)
 * @param t where the target goes
 */
static void parse_target(char *arg, struct target *t)
{
	char *eq = strchr(arg, '='), *colon;

	if (!eq || eq == arg || !eq[1])
		bail_out("target '%s' is not LABEL=PATH or LABEL=WRITEPATH:READPATH",
			 arg);
	*eq = '\0';
	if (strspn(arg, LABEL_CHARS) != strlen(arg))
		bail_out("label '%s' may hold only letters, digits, '_', '-' and '.'",
			 arg);
	t->label = arg;
	t->write_path = eq + 1;
	colon = strchr(eq + 1, ':');
	if (colon) {
		*colon = '\0';
		t->read_path = colon + 1;
		if (!*t->write_path || !*t->read_path)
			bail_out("target %s: empty path", arg);
	} else {
		t->read_path = t->write_path;
	}
}

/** @brief Parse the command line into @p opt, or bail out.
 * @param argc argument count
 * @param argv arguments
 * @param opt where the options go
 * @param fifo where the -m path goes (NULL if none)
 */
static void parse_args(int argc, char **argv, struct options *opt,
		       const char **fifo)
{
	char default_sizes[] = "64,512,4096", default_reads[] = "0";
	char *sizes = default_sizes, *reads = default_reads, *tok, *save;
	int c;

	memset(opt, 0, sizeof(*opt));
	opt->seconds = 1.0;
	opt->runs = 3;
	opt->watchdog = 30;
	*fifo = NULL;
	while ((c = getopt(argc, argv, "s:r:t:n:b:p:m:a:h")) != -1) {
		switch (c) {
		case 's':
			sizes = optarg;
			break;
		case 'r':
			reads = optarg;
			break;
		case 't':
			opt->seconds = strtod(optarg, NULL);
			if (!(opt->seconds > 0 && opt->seconds <= 600))
				bail_out("-t '%s' is not a number of seconds from 0 to 600",
					 optarg);
			break;
		case 'n':
			opt->runs = number(optarg, MAX_RUNS, "-n");
			break;
		case 'b':
			opt->fixed_bytes = number(optarg, MAX_BYTES, "-b");
			break;
		case 'p':
			opt->pipe_size = number(optarg, 1 << 30, "-p");
			break;
		case 'm':
			*fifo = optarg;
			break;
		case 'a':
			opt->watchdog = number(optarg, 3600, "-a");
			break;
		default:
			usage();
		}
	}
	for (tok = strtok_r(sizes, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (opt->nsizes == MAX_SIZES)
			bail_out("more than %d write sizes", MAX_SIZES);
		opt->sizes[opt->nsizes++] = number(tok, MAX_CHUNK,
						   "write size");
	}
	if (!opt->nsizes)
		bail_out("no write size");
	for (tok = strtok_r(reads, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (opt->nreads == MAX_SIZES)
			bail_out("more than %d read sizes", MAX_SIZES);
		/* 0 stands for the write size. */
		opt->read_sizes[opt->nreads++] = strcmp(tok, "0") ?
			number(tok, MAX_CHUNK, "read size") : 0;
	}
	if (!opt->nreads)
		bail_out("no read size");
	if (optind == argc)
		usage();
	for (; optind < argc; optind++) {
		if (opt->ntargets == MAX_TARGETS)
			bail_out("more than %d targets", MAX_TARGETS);
		parse_target(argv[optind], &opt->targets[opt->ntargets++]);
	}
}

/** @brief Whether read size @p k comes to the same at write size @p i as
 *         an earlier one (0 and the write size itself): it is measured
 *         once, and its TAP tests are skipped.
 * @param opt the options
 * @param i index of the write size in opt->sizes
 * @param k index of the read size in opt->read_sizes
 * @return 1 if an earlier read size is the same, else 0
 */
static int same_reads(const struct options *opt, int i, int k)
{
	size_t size = opt->sizes[i], a, b;
	int j, n;

	b = opt->read_sizes[k] ? opt->read_sizes[k] : size;
	for (n = 0; n < k; n++) {
		a = opt->read_sizes[n] ? opt->read_sizes[n] : size;
		if (a != b)
			continue;
		for (j = 0; j < opt->ntargets; j++)
			printf("ok %d %s write=%zu read=%zu # SKIP measured above\n",
			       (i * opt->nreads + k) * opt->ntargets + j + 1,
			       opt->targets[j].label, size, b);
		return 1;
	}
	return 0;
}

/** @brief Calibrate, time and check every target at one write size and
 *         one read size: the runs of the targets interleaved; print a
 *         "# bench" line per run, then each target's median and "ok".
 * @param opt the options; its read size is set here
 * @param i index of the write size in opt->sizes
 * @param k index of the read size in opt->read_sizes
 */
static void bench_size(struct options *opt, int i, int k)
{
	size_t size = opt->sizes[i];
	int first = (i * opt->nreads + k) * opt->ntargets + 1;
	double s, mb;
	int j, run;

	opt->read_size = opt->read_sizes[k];
	for (j = 0; j < opt->ntargets; j++) {
		struct target *t = &opt->targets[j];

		if (opt->fixed_bytes)
			t->bytes = round_bytes(opt->fixed_bytes, size);
		else
			calibrate(opt, first + j, t, size);
	}
	for (run = 0; run < opt->runs; run++) {
		for (j = 0; j < opt->ntargets; j++) {
			struct target *t = &opt->targets[j];

			s = run_or_exit(opt, first + j, t, size, t->bytes);
			t->seconds[run] = s;
			mb = t->bytes / 1e6;
			printf("# bench %s write=%zu read=%zu run=%d bytes=%llu seconds=%.6f mbps=%.3f rd_vcs=%ld rd_ics=%ld wr_vcs=%ld wr_ics=%ld rd_cs_mb=%.1f wr_cs_mb=%.1f\n",
			       t->label, size,
			       opt->read_size ? opt->read_size : size,
			       run + 1, (unsigned long long)t->bytes,
			       s, mb / s, t->switches[0], t->switches[1],
			       t->switches[2], t->switches[3],
			       (t->switches[0] + t->switches[1]) / mb,
			       (t->switches[2] + t->switches[3]) / mb);
		}
	}
	for (j = 0; j < opt->ntargets; j++) {
		struct target *t = &opt->targets[j];

		print_median(opt, t, size);
		printf("ok %d %s write=%zu read=%zu pattern verified: %d runs of %llu bytes\n",
		       first + j, t->label, size,
		       opt->read_size ? opt->read_size : size, opt->runs,
		       (unsigned long long)t->bytes);
	}
}

/** @brief Parse the arguments, make the FIFO if asked, then for every
 *         write size and read size calibrate each target and time
 *         them all in turn (bench_size()).
 * @param argc argument count
 * @param argv arguments
 * @return 0 if every byte of every run was verified
 */
int main(int argc, char **argv)
{
	struct options opt;
	const char *fifo;
	int i, j, k;

	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, &opt, &fifo);
	printf("TAP version 13\n1..%d\n",
	       opt.nsizes * opt.nreads * opt.ntargets);
	pattern_init();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, on_alarm);
	if (fifo) {
		if (mkfifo(fifo, 0600))
			bail_out("mkfifo %s: %s", fifo, strerror(errno));
		made_fifo = fifo;
		atexit(remove_fifo);
	}
	for (j = 0; j < opt.ntargets; j++)
		printf("# target %s write=%s read=%s\n", opt.targets[j].label,
		       opt.targets[j].write_path, opt.targets[j].read_path);

	for (i = 0; i < opt.nsizes; i++)
		for (k = 0; k < opt.nreads; k++)
			if (!same_reads(&opt, i, k))
				bench_size(&opt, i, k);
	return 0;
}
