/* Fuzz the tar parser, the path cleaner and the writer.
 *
 * The first input byte picks how the rest is cut into pushes and the size
 * limit. Oracles beyond "no crash": the push protocol holds (consumption,
 * DATA inside the pushed buffer, data totals equal the entry size, nothing
 * after END, sticky errors); every path the parser emits is clean; cleaning
 * is idempotent; every entry the parser emits that the writer accepts is
 * written and parsed back to the same entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tar.h"

#define check(c) do { if (!(c)) __builtin_trap(); } while (0)

static struct rt_tar t, t2;
static uint8_t wbuf[RT_TAR_WRITE_MAX + 2048];
static char cbuf[RT_TAR_PATH_MAX + 1];

static uint8_t copy[1 << 20];

/* Random mutations almost never keep a header checksum right, which hides
 * everything behind the checksum check; with this, headers (blocks that
 * carry a tar magic) get a correct one. */
static void fix_sums(uint8_t *d, size_t n)
{
	for (size_t o = 0; o + 512 <= n; o += 512) {
		uint8_t *b = d + o;
		unsigned sum = 0;

		if (memcmp(b + 257, "ustar", 5) != 0)
			continue;
		memset(b + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += b[i];
		for (int i = 6; i-- > 0; sum >>= 3)
			b[148 + i] = (uint8_t)('0' + (sum & 7));
		b[154] = '\0';
	}
}

static void check_clean(const char *p, int empty_ok)
{
	size_t n = strlen(p);

	check(n < RT_TAR_PATH_MAX);
	check(empty_ok || n > 0);
	if (n == 0)
		return;
	check(p[0] != '/' && p[n - 1] != '/');
	check(!strstr(p, "//"));
	check(strcmp(p, ".") != 0 && strcmp(p, "..") != 0);
	check(strncmp(p, "./", 2) != 0 && strncmp(p, "../", 3) != 0);
	check(!strstr(p, "/./") && !strstr(p, "/../"));
	check(!(n >= 2 && strcmp(p + n - 2, "/.") == 0));
	check(!(n >= 3 && strcmp(p + n - 3, "/..") == 0));
}

/* Write en, parse it back, compare. */
static void roundtrip(const struct rt_tar_entry *en)
{
	struct rt_err e;
	struct rt_tar_entry w = *en;
	struct rt_tar_ev ev;
	ssize_t n;
	size_t used;

	w.size = en->type == RT_TAR_FILE ? en->size : 0;
	n = rt_tar_write_header(wbuf, sizeof wbuf, &w, &e);
	if (n < 0) {
		/* Only device numbers beyond octal reach are unwritable. */
		check((en->type == RT_TAR_CHAR || en->type == RT_TAR_BLOCK) &&
		      (en->devmajor > 07777777 || en->devminor > 07777777));
		return;
	}
	check(n % 512 == 0 && (size_t)n <= RT_TAR_WRITE_MAX);
	rt_tar_init(&t2, 0);
	used = rt_tar_push(&t2, wbuf, (size_t)n, &ev);
	check(used == (size_t)n && ev.kind == RT_TAR_EV_ENTRY);
	check(ev.entry->type == en->type);
	check(strcmp(ev.entry->path, en->path) == 0);
	check(strcmp(ev.entry->linkpath, en->linkpath) == 0);
	check(ev.entry->mode == en->mode && ev.entry->uid == en->uid && ev.entry->gid == en->gid);
	check(ev.entry->mtime == en->mtime && ev.entry->size == w.size);
	if (en->type == RT_TAR_CHAR || en->type == RT_TAR_BLOCK)
		check(ev.entry->devmajor == en->devmajor && ev.entry->devminor == en->devminor);
	check(ev.entry->nxattr == en->nxattr);
	for (size_t i = 0; i < en->nxattr; i++) {
		check(strcmp(ev.entry->xattr[i].name, en->xattr[i].name) == 0);
		check(ev.entry->xattr[i].len == en->xattr[i].len);
		check(memcmp(ev.entry->xattr[i].value, en->xattr[i].value, en->xattr[i].len) == 0);
	}
}

static void clean_oracle(const uint8_t *d, size_t n)
{
	struct rt_err e;
	char again[RT_TAR_PATH_MAX + 1];
	int r;

	if (n > RT_TAR_PATH_MAX)
		n = RT_TAR_PATH_MAX;
	memcpy(cbuf, d, n);
	cbuf[n] = '\0';
	r = rt_tar_path_clean(cbuf, &e);
	if (r < 0)
		return;
	check((size_t)r == strlen(cbuf));
	check_clean(cbuf, 1);
	memcpy(again, cbuf, (size_t)r + 1);
	check(rt_tar_path_clean(again, &e) == r && strcmp(again, cbuf) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rt_tar_ev ev;
	struct rt_err e;
	uint32_t seed;
	uint64_t max, got = 0;
	size_t off = 0;
	int ended = 0, in_entry = 0, failed = 0;

	if (size < 1)
		return 0;
	seed = data[0];
	max = (data[0] & 0x80) ? 4096 : 0;
	data++;
	size--;
	clean_oracle(data, size);
	if ((seed & 0x20) && size <= sizeof copy) {
		memcpy(copy, data, size);
		fix_sums(copy, size);
		data = copy;
	}

	rt_tar_init(&t, max);
	while (off < size && !failed) {
		size_t chunk, len;
		const uint8_t *p;

		seed = seed * 1103515245u + 12345u;
		chunk = (seed & 0x40) ? 1 + ((seed >> 8) % 1200) : (seed >> 8) % 5;
		if (chunk > size - off)
			chunk = size - off;
		p = data + off;
		len = chunk;
		for (;;) {
			size_t used = rt_tar_push(&t, p, len, &ev);

			check(used <= len);
			if (ev.kind == RT_TAR_EV_DATA)
				check(ev.len > 0 && ev.len <= used && ev.data == p + used - ev.len);
			p += used;
			len -= used;
			if (ev.kind == RT_TAR_EV_NONE) {
				check(len == 0);
				break;
			}
			if (ev.kind == RT_TAR_EV_ERROR) {
				check(rt_tar_error(&t, &e) < 0 && e.msg[0]);
				check(rt_tar_push(&t, p, len, &ev) == 0 && ev.kind == RT_TAR_EV_ERROR);
				failed = 1;
				break;
			}
			check(!ended);
			switch (ev.kind) {
			case RT_TAR_EV_ENTRY:
				check(!in_entry);
				in_entry = 1;
				got = 0;
				check(ev.entry->type >= RT_TAR_FILE && ev.entry->type <= RT_TAR_FIFO);
				check_clean(ev.entry->path, ev.entry->type == RT_TAR_DIR);
				if (ev.entry->type == RT_TAR_HARDLINK)
					check_clean(ev.entry->linkpath, 0);
				else if (ev.entry->type == RT_TAR_SYMLINK)
					check(ev.entry->linkpath[0] != '\0');
				else
					check(ev.entry->linkpath[0] == '\0');
				check(ev.entry->type == RT_TAR_FILE || ev.entry->size == 0);
				check(ev.entry->size <= (max ? max : (uint64_t)INT64_MAX));
				check(ev.entry->mode <= 07777);
				check(ev.entry->uid != 0xffffffffu && ev.entry->gid != 0xffffffffu);
				check(ev.entry->nxattr <= RT_TAR_XATTR_MAX);
				for (size_t i = 0; i < ev.entry->nxattr; i++) {
					size_t nl = strlen(ev.entry->xattr[i].name);

					check(nl > 0 && nl <= RT_TAR_XATTR_NAME_MAX);
					check(ev.entry->xattr[i].value[ev.entry->xattr[i].len] == '\0');
					for (size_t j = 0; j < i; j++)
						check(strcmp(ev.entry->xattr[i].name, ev.entry->xattr[j].name) != 0);
				}
				roundtrip(ev.entry);
				break;
			case RT_TAR_EV_DATA:
				check(in_entry && ev.entry->type == RT_TAR_FILE);
				got += ev.len;
				check(got <= ev.entry->size);
				break;
			case RT_TAR_EV_ENTRY_END:
				check(in_entry && got == ev.entry->size);
				in_entry = 0;
				break;
			case RT_TAR_EV_END:
				check(!in_entry);
				ended = 1;
				break;
			default:
				check(0);
			}
		}
		off += chunk;
	}
	if (rt_tar_finish(&t, &e) == 0)
		check(ended && !failed);
	else
		check(!ended || failed);
	return 0;
}
