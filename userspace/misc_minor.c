// SPDX-License-Identifier: GPL-2.0
/** @file misc_minor.c
 * @brief The minors misc_register() chooses, compared with a module's;
 *        see misc_minor.h.
 */
#include "misc_minor.h"

#include <stdio.h>
#include <string.h>

/** @brief Minors 0 to 1023 are looked at; a dynamic minor of either
 *         scheme is below that while fewer than 768 misc devices exist. */
#define MISC_MINOR_SEEN 1024

/** @brief Older kernels hand dynamic minors out from here down. */
#define MISC_MINOR_DOWN_FROM 127

/** @brief Newer kernels hand dynamic minors out from here up. */
#define MISC_MINOR_UP_FROM 256

/** @brief Whether @p minor is one of @p ours.
 * @param ours the module's minors
 * @param n how many
 * @param minor the minor to look for
 * @return 1 or 0
 */
static int misc_minor_is_ours(const unsigned int *ours, int n,
			      unsigned int minor)
{
	int i;

	for (i = 0; i < n; i++)
		if (ours[i] == minor)
			return 1;
	return 0;
}

/** @brief Whether the first @p n minors free of @p taken, counted from
 *         @p from in steps of @p step, are exactly @p ours; their list
 *         is written to @p text.
 * @param taken nonzero for the minors other misc devices have
 * @param from the first minor the scheme hands out
 * @param step -1 (downwards) or 1 (upwards)
 * @param ours the module's minors
 * @param n how many
 * @param text where the scheme's minors are listed
 * @param size room in @p text
 * @return 1 when they are @p ours, else 0
 */
static int misc_minor_scheme(const unsigned char *taken, int from, int step,
			     const unsigned int *ours, int n, char *text,
			     size_t size)
{
	int found = 0, same = 1, m;
	size_t len;

	text[0] = '\0';
	for (m = from; m >= 0 && m < MISC_MINOR_SEEN && found < n; m += step) {
		if (taken[m])
			continue;
		found++;
		len = strlen(text);
		snprintf(text + len, size - len, "%s%d", len ? " " : "", m);
		if (!misc_minor_is_ours(ours, n, (unsigned int)m))
			same = 0;
	}
	return found == n && same;
}

int misc_minors_are_dynamic(const unsigned int *ours, int n, char *why,
			    size_t size)
{
	unsigned char taken[MISC_MINOR_SEEN] = { 0 };
	char name[64], down[256], up[256], have[256] = "";
	unsigned int minor;
	int listed = 0, i;
	size_t len;
	FILE *f;

	f = fopen("/proc/misc", "r");
	if (!f) {
		snprintf(why, size, "cannot read /proc/misc: %m");
		return -1;
	}
	while (fscanf(f, "%u %63s", &minor, name) == 2) {
		if (misc_minor_is_ours(ours, n, minor))
			listed++;
		else if (minor < MISC_MINOR_SEEN)
			taken[minor] = 1;
	}
	fclose(f);
	if (listed < n) {
		snprintf(why, size,
			 "/proc/misc lists %d of the device's %d minors",
			 listed, n);
		return -1;
	}
	if (misc_minor_scheme(taken, MISC_MINOR_DOWN_FROM, -1, ours, n, down,
			      sizeof(down)) ||
	    misc_minor_scheme(taken, MISC_MINOR_UP_FROM, 1, ours, n, up,
			      sizeof(up)))
		return 1;
	for (i = 0; i < n; i++) {
		len = strlen(have);
		snprintf(have + len, sizeof(have) - len, "%s%u",
			 len ? " " : "", ours[i]);
	}
	snprintf(why, size,
		 "minor(s) %s, where misc_register() would choose %s (the lowest free from 256 up, as 6.12 does) or %s (the highest free below 128, as older kernels do), free of every other misc device in /proc/misc; leave the choice to the kernel (.minor = MISC_DYNAMIC_MINOR)",
		 have, up, down);
	return 0;
}
