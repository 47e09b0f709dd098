/* SPDX-License-Identifier: GPL-2.0 */
/** @file fifo_view.h
 * @brief The labs' live view of a FIFO, in debugfs: shared helpers.
 *
 * From Lab 04 on, each device shows its state in
 * /sys/kernel/debug/MODULE/state, one line per FIFO:
 *
 *     NAME size N used N readers_waiting N writers_waiting N [...]
 *
 * which userspace/demo/fifo_view.c draws, and the classroom demos show.
 * It is a snapshot: taken without the device's locks, it may be a moment
 * old by the time it is read, which is all a view needs.
 */
#ifndef LABKIT_FIFO_VIEW_H
#define LABKIT_FIFO_VIEW_H

#include <linux/list.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

/** @brief How many tasks wait on @p wq right now: sleepers in a read,
 *         a write or an open, and pollers (poll_wait() queues an entry
 *         for them too).
 *
 * Counted under the queue's own spinlock, which wake-ups take as well.
 *
 * @param wq the wait queue
 * @return the number of entries on it
 */
static inline unsigned int fifo_view_waiting(struct wait_queue_head *wq)
{
	struct wait_queue_entry *entry;
	unsigned long flags;
	unsigned int n = 0;

	spin_lock_irqsave(&wq->lock, flags);
	list_for_each_entry(entry, &wq->head, entry)
		n++;
	spin_unlock_irqrestore(&wq->lock, flags);
	return n;
}

/** @brief Write the view's line of one FIFO (Labs 04 to 06).
 * @param m the seq_file of the debugfs state file
 * @param name the device's name
 * @param size the FIFO's capacity in bytes
 * @param used the bytes in it
 * @param readers the queue where readers wait for data
 * @param writers the queue where writers wait for room
 */
static inline void fifo_view_show(struct seq_file *m, const char *name,
				  unsigned int size, unsigned int used,
				  struct wait_queue_head *readers,
				  struct wait_queue_head *writers)
{
	seq_printf(m, "%s size %u used %u readers_waiting %u writers_waiting %u\n",
		   name, size, used, fifo_view_waiting(readers),
		   fifo_view_waiting(writers));
}

#endif /* LABKIT_FIFO_VIEW_H */
