/* SPDX-License-Identifier: GPL-2.0 */
/** @file minor_model.h
 * @brief A model of the multi-minor labs' devices (Lab 05 onwards): one
 *        fifo_model per minor, what poll() must report for each, and, from
 *        stage 6 on, which signals each process must receive.
 *
 * The model knows the minors, the open files (which process holds the
 * descriptor, its number, O_NONBLOCK, O_ASYNC, the F_SETOWN owner and the
 * F_SETSIG signal) and the processes ("agents", numbered from 0, each in
 * a process group). Its rules, from the handouts of Labs 05 and 06:
 *
 * | event | effect |
 * |---|---|
 * | read() or write() on a file | on its minor's FIFO only, as fifo_model; EBADF, with nothing changed, on a file not open for it (O_WRONLY, O_RDONLY): the VFS refuses the call |
 * | poll() on a minor | POLLIN \| POLLRDNORM iff it holds data, POLLOUT \| POLLWRNORM iff it has room, nothing else |
 * | a write that moved at least one byte (stage 6) | every file of that minor with O_ASYNC signals its owner: si_code POLL_IN, si_band POLLIN \| POLLRDNORM, si_fd the descriptor O_ASYNC was set through |
 * | a read that moved at least one byte (stage 6) | the same with POLL_OUT, si_band POLLOUT \| POLLWRNORM \| POLLWRBAND |
 * | a call that moved nothing | no signal |
 * | owner a process group | every process of the group gets the signal |
 * | close, or O_ASYNC cleared | the file signals nobody any more |
 *
 * Signals are counted: the tests use a realtime signal (F_SETSIG), which
 * queues one instance per kill_fasync(). The model counts the signals each
 * agent should have received since it last took them.
 */
#ifndef LABKIT_MINOR_MODEL_H
#define LABKIT_MINOR_MODEL_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>

#include "fifo_model.h"

/** @brief Most minors a model holds. */
#define MINOR_MODEL_MINORS 32
/** @brief Most files open at once in a model. */
#define MINOR_MODEL_FILES 24
/** @brief Most processes (agents) a model knows. */
#define MINOR_MODEL_AGENTS 8
/** @brief Most signals the model remembers per agent between two takes. */
#define MINOR_MODEL_SIGNALS 64

/** @brief si_band of a POLL_IN signal, as the kernel fills it in. */
#define MINOR_MODEL_BAND_IN (POLLIN | POLLRDNORM)
/** @brief si_band of a POLL_OUT signal, as the kernel fills it in. */
#define MINOR_MODEL_BAND_OUT (POLLOUT | POLLWRNORM | POLLWRBAND)

/** @brief One open file of the model. */
struct minor_model_file {
	/** @brief Nonzero while the file is open. */
	int open;
	/** @brief The minor it was opened on. */
	int minor;
	/** @brief The agent whose descriptor it is. */
	int agent;
	/** @brief The descriptor's number in that agent. */
	int fd;
	/** @brief O_NONBLOCK is set. */
	int nonblock;
	/** @brief Opened for reading (O_RDONLY or O_RDWR). */
	int can_read;
	/** @brief Opened for writing (O_WRONLY or O_RDWR). */
	int can_write;
	/** @brief O_ASYNC is set: the file is on its minor's list. */
	int async;
	/** @brief F_SETOWN: an agent's index (>= 0), or -1 - a process
	 *         group's index (a group is named by its agents' group). */
	int owner;
	/** @brief F_SETSIG: the signal sent. */
	int sig;
};

/** @brief One signal an agent should receive (or received). */
struct minor_model_signal {
	/** @brief The signal number. */
	int signo;
	/** @brief si_code: POLL_IN or POLL_OUT. */
	int code;
	/** @brief si_band. */
	long band;
	/** @brief si_fd. */
	int fd;
};

/** @brief The model of a multi-minor lab's devices and their users. */
struct minor_model {
	/** @brief How many minors. */
	int nminors;
	/** @brief Which lab's rules: 5, 6 (signals) or later. */
	int stage;
	/** @brief One FIFO per minor. */
	struct fifo_model fifo[MINOR_MODEL_MINORS];
	/** @brief The files, open or not (slots). */
	struct minor_model_file file[MINOR_MODEL_FILES];
	/** @brief How many agents. */
	int nagents;
	/** @brief The process group of each agent (any small number; agents
	 *         with the same number share a group). */
	int group[MINOR_MODEL_AGENTS];
	/** @brief How many signals each agent should have received since
	 *         its last minor_model_take_signals(). */
	int nsig[MINOR_MODEL_AGENTS];
	/** @brief Those signals, in the order they were sent. */
	struct minor_model_signal sig[MINOR_MODEL_AGENTS][MINOR_MODEL_SIGNALS];
};

/** @brief Set up a model of @p nminors empty minors and no open file.
 * @param m the model
 * @param nminors how many minors, 1 to MINOR_MODEL_MINORS
 * @param capacity each FIFO's capacity in bytes
 * @param stage the lab's number (5: poll; 6 and on: signals too)
 * @param nagents how many processes, 1 to MINOR_MODEL_AGENTS (each is its
 *        own process group until minor_model_set_group())
 * @return 0, or -1
 */
int minor_model_init(struct minor_model *m, int nminors, size_t capacity,
		     int stage, int nagents);

/** @brief Free what minor_model_init() allocated.
 * @param m the model
 */
void minor_model_destroy(struct minor_model *m);

/** @brief Put agent @p agent in process group @p group.
 * @param m the model
 * @param agent the agent
 * @param group the group's number (any small number)
 */
void minor_model_set_group(struct minor_model *m, int agent, int group);

/** @brief A file opened by @p agent on @p minor, as descriptor @p fd.
 * @param m the model
 * @param minor the minor
 * @param agent the agent
 * @param fd the descriptor's number in the agent
 * @param nonblock nonzero if opened with O_NONBLOCK
 * @return the file's slot, or -1 if there is none free
 */
int minor_model_open(struct minor_model *m, int minor, int agent, int fd,
		     int nonblock);

/** @brief Note how file @p f was opened: a file opened O_RDWR (as
 *         minor_model_open() assumes) can be read and written, one opened
 *         O_RDONLY only read, O_WRONLY only written.
 * @param m the model
 * @param f the file's slot
 * @param accmode O_RDONLY, O_WRONLY or O_RDWR
 */
void minor_model_set_access(struct minor_model *m, int f, int accmode);

/** @brief Close file @p f: it leaves its minor's signal list.
 * @param m the model
 * @param f the file's slot
 */
void minor_model_close(struct minor_model *m, int f);

/** @brief Set or clear O_NONBLOCK (fcntl F_SETFL).
 * @param m the model
 * @param f the file's slot
 * @param on nonzero to set
 */
void minor_model_set_nonblock(struct minor_model *m, int f, int on);

/** @brief F_SETOWN and F_SETSIG on file @p f.
 * @param m the model
 * @param f the file's slot
 * @param owner an agent (>= 0) or -1 - a group's number
 * @param sig the signal, as F_SETSIG
 */
void minor_model_set_owner(struct minor_model *m, int f, int owner, int sig);

/** @brief Set or clear O_ASYNC (fcntl F_SETFL) on file @p f.
 * @param m the model
 * @param f the file's slot
 * @param on nonzero to set
 */
void minor_model_set_async(struct minor_model *m, int f, int on);

/** @brief A read() of @p count bytes through file @p f.
 * @param m the model
 * @param f the file's slot
 * @param count the byte count
 * @param out where the bytes go (at least @p count), or NULL
 * @return what the read returns, or that it blocks (then nothing changed)
 */
struct fifo_model_result minor_model_read(struct minor_model *m, int f,
					  size_t count, void *out);

/** @brief A write() of @p count bytes through file @p f.
 * @param m the model
 * @param f the file's slot
 * @param bytes the bytes
 * @param count the byte count
 * @return what the write returns, or that it blocks (then nothing changed)
 */
struct fifo_model_result minor_model_write(struct minor_model *m, int f,
					   const void *bytes, size_t count);

/** @brief What poll() reports for @p minor when asked for every event.
 * @param m the model
 * @param minor the minor
 * @return its revents
 */
short minor_model_poll(const struct minor_model *m, int minor);

/** @brief Take the signals @p agent should have received since the last
 *         take: copy them to @p out and forget them.
 * @param m the model
 * @param agent the agent
 * @param out room for MINOR_MODEL_SIGNALS signals
 * @return how many (at most MINOR_MODEL_SIGNALS; -1 if more were sent,
 *         which a test must avoid)
 */
int minor_model_take_signals(struct minor_model *m, int agent,
			     struct minor_model_signal *out);

/** @brief Whether two lists of signals hold the same signals, whatever
 *         their order.
 * @param a one list
 * @param na its length
 * @param b the other
 * @param nb its length
 * @return nonzero if they hold the same signals as many times each
 */
int minor_model_same_signals(const struct minor_model_signal *a, int na,
			     const struct minor_model_signal *b, int nb);

/** @brief Describe a list of signals, e.g. "fd 5 POLL_IN, fd 7 POLL_OUT"
 *         (with the signal and si_band where they are not the usual).
 * @param s the list
 * @param n its length
 * @param buf where the text goes
 * @param size the size of @p buf
 * @return @p buf
 */
char *minor_model_describe_signals(const struct minor_model_signal *s, int n,
				   char *buf, size_t size);

#endif /* LABKIT_MINOR_MODEL_H */
