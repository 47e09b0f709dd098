// SPDX-License-Identifier: GPL-2.0
/** @file fifo_view.c
 * @brief The live view of a lab's FIFO: how full it is and who waits,
 *        drawn from the debugfs file the solutions of Labs 04 to 07 keep.
 *
 * Usage: fifo_view [-n COUNT] [-i MILLISECONDS] FILE, where FILE is e.g.
 * /sys/kernel/debug/blkfifo/state (debugfs mounted, as root). Each line
 * of FILE is "NAME size N used N KEY N...", one per FIFO (see
 * common/fifo_view.h); each is drawn as
 *
 *     blkfifo    [################................]    16/32   readers_waiting 0  writers_waiting 1
 *
 * The view is redrawn every MILLISECONDS (default 500) until COUNT views
 * (default: forever; -n 1 for one snapshot, as the demos take), in place
 * when the output is a terminal.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/** @brief Width of the bar, in characters. */
#define BAR 32

/** @brief Draw one line of the state file.
 *  @param line "NAME size N used N KEY N..."
 */
static void draw(char *line)
{
	unsigned long size = 0, used = 0;
	char *save, *name, *key, *value;
	char others[256] = "";
	int i, full;

	name = strtok_r(line, " \n", &save);
	if (!name)
		return;
	while ((key = strtok_r(NULL, " \n", &save)) &&
	       (value = strtok_r(NULL, " \n", &save))) {
		if (!strcmp(key, "size")) {
			size = strtoul(value, NULL, 10);
		} else if (!strcmp(key, "used")) {
			used = strtoul(value, NULL, 10);
		} else {
			size_t at = strlen(others);

			snprintf(others + at, sizeof(others) - at, "  %s %s",
				 key, value);
		}
	}
	full = size ? (int)((used * BAR + size - 1) / size) : 0;
	printf("%-12s [", name);
	for (i = 0; i < BAR; i++)
		putchar(i < full ? '#' : '.');
	printf("] %6lu/%-6lu%s\n", used, size, others);
}

/** @brief Draw every line of FILE once.
 *  @param path the state file
 *  @return 0, or -1 if it cannot be read
 */
static int view(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (!f) {
		fprintf(stderr, "fifo_view: %s: %s (is debugfs mounted, and the module loaded?)\n",
			path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f))
		draw(line);
	fclose(f);
	return 0;
}

/** @brief Show the view, COUNT times or forever.
 *  @param argc argument count
 *  @param argv options and the state file
 *  @return 0, 1 on an error, 2 on a usage error
 */
int main(int argc, char **argv)
{
	long count = 0, interval = 500, shown = 0;
	int redraw = isatty(STDOUT_FILENO);
	struct timespec pause;
	int opt;

	while ((opt = getopt(argc, argv, "n:i:")) != -1) {
		if (opt == 'n')
			count = atol(optarg);
		else if (opt == 'i')
			interval = atol(optarg);
		else
			return 2;
	}
	if (optind != argc - 1 || interval <= 0) {
		fprintf(stderr, "usage: fifo_view [-n COUNT] [-i MILLISECONDS] FILE\n");
		return 2;
	}
	pause.tv_sec = interval / 1000;
	pause.tv_nsec = (interval % 1000) * 1000000L;
	for (;;) {
		if (redraw && count != 1)
			fputs("\033[H\033[J", stdout);
		if (view(argv[optind]))
			return 1;
		fflush(stdout);
		if (count && ++shown >= count)
			return 0;
		nanosleep(&pause, NULL);
	}
}
