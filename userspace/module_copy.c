// SPDX-License-Identifier: GPL-2.0
/** @file module_copy.c
 * @brief A second copy of a lab's module under another name; see
 *        module_copy.h.
 */
#define _GNU_SOURCE

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "module_copy.h"
#include "module_reload.h"

/** @brief Where struct module keeps its name: after enum module_state
 *         state (4 bytes, padded to 8) and struct list_head list (16),
 *         on x86-64 in every kernel the kit supports. The name found
 *         there is checked before it is changed. */
#define MODULE_COPY_NAME_OFFSET 24

/** @brief How long the copy, if it loaded, may stay busy before its
 *         unload fails, in ms: a failure bound only. */
#define MODULE_COPY_UNLOAD_MS 5000

/** @brief Read a whole file into memory.
 * @param path the file
 * @param len where its length is stored
 * @return the contents (free() them), or NULL with errno set
 */
static char *module_copy_read(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	errno = 0;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		buf = malloc(st.st_size);
	while (buf && got < (size_t)st.st_size) {
		n = read(fd, buf + got, st.st_size - got);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			free(buf);
			buf = NULL;
			break;
		}
		got += n;
	}
	if (!buf && !errno)
		errno = ENOEXEC;
	close(fd);
	*len = got;
	return buf;
}

/** @brief Find an ELF section of the module image by name.
 * @param img the image
 * @param len its length
 * @param want the section's name
 * @return its header (checked to lie within the image), or NULL
 */
static const Elf64_Shdr *module_copy_section(const char *img, size_t len,
					     const char *want)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
	const Elf64_Shdr *sh, *names;
	unsigned int i;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shoff > len ||
	    (len - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum ||
	    eh->e_shstrndx >= eh->e_shnum)
		return NULL;
	sh = (const Elf64_Shdr *)(img + eh->e_shoff);
	names = &sh[eh->e_shstrndx];
	if (names->sh_offset > len || len - names->sh_offset < names->sh_size)
		return NULL;
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_name >= names->sh_size ||
		    strncmp(img + names->sh_offset + sh[i].sh_name, want,
			    names->sh_size - sh[i].sh_name))
			continue;
		if (sh[i].sh_type == SHT_NOBITS || sh[i].sh_offset > len ||
		    len - sh[i].sh_offset < sh[i].sh_size)
			return NULL;
		return &sh[i];
	}
	return NULL;
}

/** @brief Rename the module in its image: the name of the struct module
 *         in .gnu.linkonce.this_module and "name=" in .modinfo.
 * @param img the image
 * @param len its length
 * @param name the module's name
 * @param copy the new name, as long as @p name
 * @param msg where a failure is described
 * @param msize the size of @p msg
 * @return 0, or -1 with @p msg filled in
 */
static int module_copy_rename(char *img, size_t len, const char *name,
			      const char *copy, char *msg, size_t msize)
{
	const Elf64_Shdr *mod, *info;
	size_t n = strlen(name), at;
	char *s;

	mod = module_copy_section(img, len, ".gnu.linkonce.this_module");
	if (!mod || mod->sh_size < MODULE_COPY_NAME_OFFSET + n + 1 ||
	    memcmp(img + mod->sh_offset + MODULE_COPY_NAME_OFFSET, name,
		   n + 1)) {
		snprintf(msg, msize,
			 "%s.ko: no section .gnu.linkonce.this_module whose struct module is named %s",
			 name, name);
		return -1;
	}
	memcpy(img + mod->sh_offset + MODULE_COPY_NAME_OFFSET, copy, n);
	info = module_copy_section(img, len, ".modinfo");
	/* .modinfo: "key=value" strings, each ended by a NUL. */
	for (at = 0; info && at < info->sh_size; at += strnlen(s, info->sh_size - at) + 1) {
		s = img + info->sh_offset + at;
		if (info->sh_size - at > 5 + n && !strncmp(s, "name=", 5) &&
		    !memcmp(s + 5, name, n + 1)) {
			memcpy(s + 5, copy, n);
			return 0;
		}
	}
	snprintf(msg, msize, "%s.ko: no \"name=%s\" in its section .modinfo",
		 name, name);
	return -1;
}

/** @brief Add a record to the kernel log.
 * @param text the record's text, without a newline
 * @return 0, or -1 with errno set
 */
static int module_copy_log(const char *text)
{
	char line[256];
	int fd, n, ret = -1;

	n = snprintf(line, sizeof(line), "%s\n", text);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, line, n) == n)
		ret = 0;
	close(fd);
	return ret;
}

int module_copy_load(const char *name, char *copy, size_t size, char *msg,
		     size_t msize)
{
	return module_copy_load_with(name, "", copy, size, msg, msize);
}

int module_copy_load_with(const char *name, const char *params, char *copy,
			  size_t size, char *msg, size_t msize)
{
	const char *dir = getenv("LAB_MODULE_DIR");
	char path[PATH_MAX], mark[128];
	size_t n = strlen(name), len;
	char *img;
	int err = 0;

	if (!n || n >= size) {
		snprintf(msg, msize, "module name \"%s\" too long", name);
		return -1;
	}
	memcpy(copy, name, n + 1);
	copy[n - 1] = name[n - 1] == 'x' ? 'y' : 'x';
	snprintf(path, sizeof(path), "%s/%s.ko", dir ? dir : ".", name);
	img = module_copy_read(path, &len);
	if (!img) {
		snprintf(msg, msize, "cannot read %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (module_copy_rename(img, len, name, copy, msg, msize)) {
		free(img);
		return -1;
	}
	snprintf(mark, sizeof(mark), MODULE_COPY_BEGIN "%s", name);
	if (module_copy_log(mark)) {
		snprintf(msg, msize, "cannot write to /dev/kmsg: %s",
			 strerror(errno));
		free(img);
		return -1;
	}
	if (syscall(SYS_init_module, img, len, params) != 0)
		err = errno;
	snprintf(mark, sizeof(mark), MODULE_COPY_END "%s", name);
	module_copy_log(mark);
	free(img);
	return err;
}

int module_copy_framed_load(const char *name, const char *params)
{
	char mark[128];
	int err;

	snprintf(mark, sizeof(mark), MODULE_COPY_BEGIN "%s", name);
	if (module_copy_log(mark))
		return -1;
	err = module_load(name, params);
	snprintf(mark, sizeof(mark), MODULE_COPY_END "%s", name);
	module_copy_log(mark);
	return err;
}

int module_copy_listed(const char *name)
{
	char line[512];
	size_t n = strlen(name);
	int found = 0;
	FILE *f;

	f = fopen("/proc/modules", "re");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, n) && line[n] == ' ';
	fclose(f);
	return found;
}

int module_copy_expect_refused(const char *name, const char *rule, char *msg,
			       size_t size)
{
	return module_copy_expect_refused_with(name, "",
					       "misc_register() of its device",
					       rule, msg, size);
}

int module_copy_expect_refused_with(const char *name, const char *params,
				    const char *registration,
				    const char *rule, char *msg, size_t size)
{
	char copy[64];
	int err, gone;

	err = module_copy_load_with(name, params, copy, sizeof(copy), msg,
				    size);
	if (err < 0)
		return -1;
	if (err == 0) {
		gone = module_unload_when_free(copy, MODULE_COPY_UNLOAD_MS);
		snprintf(msg, size,
			 "a second copy of %s (named %s), loaded while %s was, loaded too: %s, whose name is taken, fails with EEXIST, and init went on as if it had worked (was its result ignored?)%s; %s",
			 name, copy, name, registration,
			 gone ? ", and that copy cannot be unloaded" : "",
			 rule);
		return -1;
	}
	if (err != EEXIST) {
		snprintf(msg, size,
			 "a second copy of %s (named %s), loaded while %s was, failed with %s, not EEXIST: the error of %s, whose name is taken; init returns that error as it is; %s",
			 name, copy, name, strerror(err), registration, rule);
		return -1;
	}
	if (module_copy_listed(copy)) {
		snprintf(msg, size,
			 "the failed load of a second copy of %s left module %s in /proc/modules; %s",
			 name, copy, rule);
		return -1;
	}
	return 0;
}
