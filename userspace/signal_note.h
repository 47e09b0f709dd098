/* SPDX-License-Identifier: GPL-2.0 */
/** @file signal_note.h
 * @brief Signal handlers for tests: one that does nothing (its signal only
 *        ends a sleeping call), one that tells the test it ran.
 *
 * note_signal() writes a byte to a pipe the test reads with await_byte()
 * (child_process.h): a handshake instead of a guess with sleep().
 */
#ifndef LABKIT_SIGNAL_NOTE_H
#define LABKIT_SIGNAL_NOTE_H

/** @brief A handler that does nothing: installed without SA_RESTART, its
 *         signal ends a sleeping call with EINTR.
 * @param sig the signal
 */
void ignore_signal(int sig);

/** @brief A handler that writes a byte to the pipe of signal_note_fd().
 * @param sig the signal
 */
void note_signal(int sig);

/** @brief The read end of note_signal()'s pipe, made on the first call
 *         (call it before installing the handler).
 * @return the descriptor, or -1 if the pipe could not be made
 */
int signal_note_fd(void);

#endif /* LABKIT_SIGNAL_NOTE_H */
