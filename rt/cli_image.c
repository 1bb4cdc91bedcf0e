/* The image verbs: load, images, inspect, history, tag, rmi, image prune,
 * df, verify (and `rt image <verb>` as in Docker). Output and exit codes
 * follow Docker's; errors are one line, printed here only. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "cli.h"
#include "image.h"
#include "json.h"
#include "kconfig.h"
#include "manifest.h"
#include "store.h"
#include "trust.h"

/* --- formatting ---------------------------------------------------------- */

/* Docker's HumanSizeWithPrecision(n, 3): 1000-based, 3 significant digits. */
static const char *human_size(uint64_t v, char *buf, size_t cap)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
	uint64_t div = 1, m, d;
	int i = 0;

	while (i < 6 && v / div >= 1000) {
		div *= 1000;
		i++;
	}
	if (i == 0) {
		snprintf(buf, cap, "%lluB", (unsigned long long)v);
		return buf;
	}
	/* thousandths of the unit, rounded */
	m = (v / (div / 1000)) + ((v % (div / 1000)) * 2 >= div / 1000);
	if (m >= 999500 && i < 6) {
		snprintf(buf, cap, "1%s", unit[i + 1]);
		return buf;
	}
	if (m >= 100000) {
		snprintf(buf, cap, "%llu%s", (unsigned long long)((m + 500) / 1000), unit[i]);
	} else if (m >= 10000) {
		d = (m + 50) / 100;
		if (d % 10)
			snprintf(buf, cap, "%llu.%llu%s", (unsigned long long)(d / 10),
				 (unsigned long long)(d % 10), unit[i]);
		else
			snprintf(buf, cap, "%llu%s", (unsigned long long)(d / 10), unit[i]);
	} else {
		d = (m + 5) / 10;
		if (d % 100 == 0)
			snprintf(buf, cap, "%llu%s", (unsigned long long)(d / 100), unit[i]);
		else if (d % 10 == 0)
			snprintf(buf, cap, "%llu.%llu%s", (unsigned long long)(d / 100),
				 (unsigned long long)(d % 100 / 10), unit[i]);
		else
			snprintf(buf, cap, "%llu.%02llu%s", (unsigned long long)(d / 100),
				 (unsigned long long)(d % 100), unit[i]);
	}
	return buf;
}

/* Docker's units.HumanDuration + " ago". */
static const char *human_ago(int64_t t, char *buf, size_t cap)
{
	int64_t s = (int64_t)time(NULL) - t, h;

	if (t < 0) {
		snprintf(buf, cap, "N/A");
		return buf;
	}
	h = (s + 1800) / 3600;
	if (s < 1)
		snprintf(buf, cap, "Less than a second ago");
	else if (s == 1)
		snprintf(buf, cap, "1 second ago");
	else if (s < 60)
		snprintf(buf, cap, "%lld seconds ago", (long long)s);
	else if (s / 60 == 1)
		snprintf(buf, cap, "About a minute ago");
	else if (s / 60 < 60)
		snprintf(buf, cap, "%lld minutes ago", (long long)(s / 60));
	else if (h == 1)
		snprintf(buf, cap, "About an hour ago");
	else if (h < 48)
		snprintf(buf, cap, "%lld hours ago", (long long)h);
	else if (h < 24 * 7 * 2)
		snprintf(buf, cap, "%lld days ago", (long long)(h / 24));
	else if (h < 24 * 30 * 2)
		snprintf(buf, cap, "%lld weeks ago", (long long)(h / 24 / 7));
	else if (h < 24 * 365 * 2)
		snprintf(buf, cap, "%lld months ago", (long long)(h / 24 / 30));
	else
		snprintf(buf, cap, "%lld years ago", (long long)(h / 24 / 365));
	return buf;
}

/* Go's time.String() for UTC. */
static const char *go_time(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t < 0 || !gmtime_r(&tt, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm))
		snprintf(buf, cap, "N/A");
	return buf;
}

/* A table as Docker's tabwriter prints it: columns at least 10 wide and
 * 3 spaces apart, the last one not padded. */
#define TAB_COLS 8

struct table {
	int ncol;
	size_t w[TAB_COLS];
	char **cells;           /* rows * ncol, owned */
	size_t nrows, cap;
};

static int table_row(struct table *t, const char *const *v)
{
	int c;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 32;
		char **n = realloc(t->cells, cap * (size_t)t->ncol * sizeof *n);

		if (!n)
			return -1;
		t->cells = n;
		t->cap = cap;
	}
	for (c = 0; c < t->ncol; c++) {
		size_t l = strlen(v[c]);
		char *s = strdup(v[c]);

		if (!s)
			return -1;
		t->cells[t->nrows * (size_t)t->ncol + (size_t)c] = s;
		if (l + 3 > t->w[c])
			t->w[c] = l + 3;
	}
	t->nrows++;
	return 0;
}

static void table_print(struct table *t)
{
	size_t r;
	int c;

	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncol; c++) {
			const char *s = t->cells[r * (size_t)t->ncol + (size_t)c];

			if (c == t->ncol - 1)
				printf("%s\n", s);
			else
				printf("%-*s", (int)(t->w[c] < 10 ? 10 : t->w[c]), s);
			free((void *)s);
		}
	}
	free(t->cells);
}

static void split_name(const char *full, char *repo, size_t rcap, char *tag, size_t tcap)
{
	char fam[RT_STORE_REF_MAX];
	char *c, *slash;

	if (!full[0]) {
		snprintf(repo, rcap, "<none>");
		snprintf(tag, tcap, "<none>");
		return;
	}
	rt_image_familiar(full, fam, sizeof fam);
	slash = strrchr(fam, '/');
	c = strrchr(slash ? slash : fam, ':');
	if (c)
		*c = '\0';
	snprintf(repo, rcap, "%s", fam);
	snprintf(tag, tcap, "%s", c ? c + 1 : "<none>");
}

static int fail_e(const char *verb, const struct rt_err *e)
{
	char buf[RT_ERR_MSG + 128];

	/* "No such image: x" says it all, as in Docker */
	if (e->errnum == ENOENT && strstr(e->msg, "No such "))
		return rt_cli_fail(verb, RT_EXIT_FAIL, "%s", e->msg);
	return rt_cli_fail(verb, RT_EXIT_FAIL, "%s", rt_err_str(e, buf, sizeof buf));
}

static int open_store(const struct rt_opts *o, struct rt_store *s, enum rt_store_mode m,
		      const char *verb)
{
	struct rt_err e = { 0, "" };

	if (rt_store_open(s, o->root, m, &e) < 0) {
		fail_e(verb, &e);
		return -1;
	}
	return 0;
}

/* --- the container seams ------------------------------------------------- */

struct hookarg {
	const struct rt_opts *o;
};

static int in_use(void *arg, const char *digest, const char *id, char *who, size_t cap,
		  struct rt_err *e)
{
	const struct hookarg *h = arg;

	if (!rt_container_image_users)
		return 0;
	return rt_container_image_users(h->o->root, digest, id, who, cap, e);
}

/* --- load ---------------------------------------------------------------- */

static void loaded(void *arg, const char *name, const char *id)
{
	char fam[RT_STORE_REF_MAX];

	(void)arg;
	if (name)
		printf("Loaded image: %s\n", rt_image_familiar(name, fam, sizeof fam));
	else
		printf("Loaded image ID: %s\n", id);
}

static int verb_load(const struct rt_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "platform", required_argument, NULL, 'P' },
		{ "allow-downgrade", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct rt_image_load_opts lopt;
	bool downgrade = false;
	struct rt_image_platform pf;
	const char *in = NULL;
	struct rt_store s;
	struct rt_err e = { 0, "" };
	int c, r;

	memset(&lopt, 0, sizeof lopt);
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:q", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			in = optarg;
			break;
		case 'q':
			break;
		case 'D':
			downgrade = true;
			break;
		case 'P':
			if (rt_image_platform_parse(optarg, &pf, &e) < 0)
				return fail_e("load", &e);
			lopt.platform = &pf;
			break;
		default:
			return rt_cli_fail("load", RT_EXIT_USAGE, "usage: rt load [-i FILE|DIR] [--platform OS/ARCH] [--allow-downgrade]");
		}
	}
	/* `rt load -` reads standard input, as `-i -` does */
	if (optind + 1 == argc && !in && !strcmp(argv[optind], "-"))
		in = argv[optind++];
	if (optind != argc)
		return rt_cli_fail("load", RT_EXIT_USAGE, "usage: rt load [-i FILE|DIR|-] [--platform OS/ARCH] [--allow-downgrade]");
	if ((!in || !strcmp(in, "-")) && isatty(0))
		return rt_cli_fail("load", RT_EXIT_FAIL,
				   "requested load from stdin, but stdin is a terminal (use -i FILE)");
	if (rt_unpack_limits(&lopt.lim, getenv("RT_LIMITS"), &e) < 0)
		return fail_e("load", &e);
	/* The owner's explicit override of the rollback check, logged by
	 * the trust glue; a build without signatures has nothing to allow. */
	if (downgrade && !rt_trust_load_opts)
		return rt_cli_fail("load", RT_EXIT_USAGE, "--allow-downgrade: rt is built without signatures");
	if (downgrade ? rt_trust_load_opts(o->root, RT_TRUST_DOWNGRADE, &lopt, &e) < 0 :
	    rt_image_trust_hook && rt_image_trust_hook(o->root, &lopt, &e) < 0)
		return fail_e("load", &e);
	lopt.loaded = loaded;
	if (open_store(o, &s, RT_STORE_SHARED, "load") < 0)
		return RT_EXIT_FAIL;
	r = rt_archive_load(&s, in, &lopt, &e);
	rt_store_close(&s);
	if (r < 0) {
		rt_err_wrap(&e, "%s", in && strcmp(in, "-") != 0 ? in : "stdin");
		return fail_e("load", &e);
	}
	return RT_EXIT_OK;
}

/* --- images -------------------------------------------------------------- */

static int name_matches(const char *full, const char *filter)
{
	struct rt_image_ref want;
	struct rt_err e = { 0, "" };
	size_t nl;

	if (!filter)
		return 1;
	if (!full[0] || rt_image_ref_parse(filter, &want, &e) < 0)
		return 0;
	nl = strlen(want.name);
	if (strncmp(full, want.name, nl) != 0 || full[nl] != ':')
		return 0;
	/* "busybox" lists every tag; "busybox:1.36" just that one */
	return !strchr(filter + (strrchr(filter, '/') ? strrchr(filter, '/') - filter : 0), ':') ||
	       !strcmp(full + nl + 1, want.tag);
}

static int images_json(const struct rt_image_row *row, const char *repo, const char *tag)
{
	char buf[2048], sz[32], ago[64], at[64], id[16];
	struct rt_json_w w;
	struct rt_err e = { 0, "" };

	snprintf(id, sizeof id, "%.12s", row->id[0] ? row->id + 7 : "");
	rt_json_w_init(&w, buf, sizeof buf);
	rt_json_w_obj(&w);
	rt_json_w_key(&w, "Containers");
	rt_json_w_str(&w, "N/A");
	rt_json_w_key(&w, "CreatedAt");
	rt_json_w_str(&w, go_time(row->created, at, sizeof at));
	rt_json_w_key(&w, "CreatedSince");
	rt_json_w_str(&w, human_ago(row->created, ago, sizeof ago));
	rt_json_w_key(&w, "Digest");
	rt_json_w_str(&w, row->digest);
	rt_json_w_key(&w, "ID");
	rt_json_w_str(&w, id);
	rt_json_w_key(&w, "Repository");
	rt_json_w_str(&w, repo);
	rt_json_w_key(&w, "SharedSize");
	rt_json_w_str(&w, "N/A");
	rt_json_w_key(&w, "Size");
	rt_json_w_str(&w, human_size(row->size, sz, sizeof sz));
	rt_json_w_key(&w, "Tag");
	rt_json_w_str(&w, tag);
	rt_json_w_key(&w, "UniqueSize");
	rt_json_w_str(&w, "N/A");
	rt_json_w_key(&w, "VirtualSize");
	rt_json_w_str(&w, sz);
	rt_json_w_end(&w);
	if (rt_json_w_finish(&w, &e) < 0)
		return fail_e("images", &e);
	printf("%s\n", buf);
	return 0;
}

static int verb_images(const struct rt_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "all", no_argument, NULL, 'a' },
		{ "digests", no_argument, NULL, 'D' },
		{ "no-trunc", no_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int quiet = 0, digests = 0, notrunc = 0, json = 0, c, r = RT_EXIT_OK;
	const char *filter = NULL;
	struct rt_image_row *rows;
	struct table t;
	struct rt_store s;
	struct rt_err e = { 0, "" };
	size_t n, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qa", lo, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = 1; break;
		case 'a': break;
		case 'D': digests = 1; break;
		case 'T': notrunc = 1; break;
		case 'F':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "{{json .}}") != 0)
				return rt_cli_fail("images", RT_EXIT_USAGE, "--format: only 'json' is supported");
			json = 1;
			break;
		default:
			return rt_cli_fail("images", RT_EXIT_USAGE,
					   "usage: rt images [-q] [--digests] [--no-trunc] [--format json] [REPOSITORY[:TAG]]");
		}
	}
	if (argc - optind > 1)
		return rt_cli_fail("images", RT_EXIT_USAGE, "takes at most one argument");
	if (optind < argc)
		filter = argv[optind];
	if (open_store(o, &s, RT_STORE_SHARED, "images") < 0)
		return RT_EXIT_FAIL;
	if (rt_image_list(&s, &rows, &n, &e) < 0) {
		rt_store_close(&s);
		return fail_e("images", &e);
	}
	rt_store_close(&s);
	memset(&t, 0, sizeof t);
	t.ncol = digests ? 6 : 5;
	if (!quiet && !json) {
		const char *h[] = { "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE" };
		const char *h2[] = { "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE" };

		table_row(&t, digests ? h : h2);
	}
	for (i = 0; i < n; i++) {
		char repo[RT_STORE_REF_MAX], tag[RT_IMAGE_TAG_MAX + 8], id[RT_SHA256_STR];
		char ago[64], sz[32];

		if (!name_matches(rows[i].name, filter))
			continue;
		split_name(rows[i].name, repo, sizeof repo, tag, sizeof tag);
		snprintf(id, sizeof id, "%.*s", notrunc ? 71 : 12,
			 rows[i].id[0] ? rows[i].id + (notrunc ? 0 : 7) : "<unreadable>");
		if (quiet) {
			printf("%s\n", id);
			continue;
		}
		if (json) {
			if (images_json(&rows[i], repo, tag))
				r = RT_EXIT_FAIL;
			continue;
		}
		human_ago(rows[i].created, ago, sizeof ago);
		human_size(rows[i].size, sz, sizeof sz);
		if (digests) {
			const char *v[] = { repo, tag, rows[i].digest, id, ago, sz };

			table_row(&t, v);
		} else {
			const char *v[] = { repo, tag, id, ago, sz };

			table_row(&t, v);
		}
	}
	table_print(&t);
	free(rows);
	return r;
}

/* --- inspect ------------------------------------------------------------- */

/* Compact JSON built by hand (raw subtrees of image configs are copied
 * token by token), then indented the way Docker prints it. */
struct out {
	char *b;
	size_t len, cap;
	int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4096;
		char *b;

		while (cap < o->len + n + 1)
			cap *= 2;
		b = realloc(o->b, cap);
		if (!b) {
			o->oom = 1;
			return;
		}
		o->b = b;
		o->cap = cap;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
	o->b[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_str(struct out *o, const char *s)
{
	puts_(o, "\"");
	for (; *s; s++) {
		char esc[8];

		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = *s;
			put(o, esc, 2);
		} else if ((unsigned char)*s < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", (unsigned char)*s);
			puts_(o, esc);
		} else {
			put(o, s, 1);
		}
	}
	puts_(o, "\"");
}

static void put_key(struct out *o, const char *k)
{
	put_str(o, k);
	puts_(o, ":");
}

/* Copy the value at token i of j; null when there is none. */
static void put_raw(struct out *o, const struct rt_json *j, int i)
{
	const struct rt_json_tok *t;
	int c, first = 1;

	if (i < 0) {
		puts_(o, "null");
		return;
	}
	t = &j->tok[i];
	switch (rt_json_type(j, i)) {
	case RT_JSON_OBJECT:
		puts_(o, "{");
		for (c = rt_json_first(j, i); c >= 0; c = rt_json_next(j, i, c)) {
			if (!first)
				puts_(o, ",");
			first = 0;
			put_raw(o, j, c);
			puts_(o, ":");
			put_raw(o, j, c + 1);
		}
		puts_(o, "}");
		break;
	case RT_JSON_ARRAY:
		puts_(o, "[");
		for (c = rt_json_first(j, i); c >= 0; c = rt_json_next(j, i, c)) {
			if (!first)
				puts_(o, ",");
			first = 0;
			put_raw(o, j, c);
		}
		puts_(o, "]");
		break;
	case RT_JSON_STRING:
		puts_(o, "\"");
		put(o, j->buf + t->start, t->len);
		puts_(o, "\"");
		break;
	default:
		put(o, j->buf + t->start, t->len);
		break;
	}
}

/* Indent compact JSON by 4 spaces, "key": value, empty {} and [] kept. */
static void pretty(const char *s, size_t n, FILE *f)
{
	int depth = 0, instr = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (instr) {
			fputc(c, f);
			if (c == '\\' && i + 1 < n)
				fputc(s[++i], f);
			else if (c == '"')
				instr = 0;
			continue;
		}
		switch (c) {
		case '"':
			instr = 1;
			fputc(c, f);
			break;
		case '{':
		case '[':
			if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
				fputc(c, f);
				fputc(s[++i], f);
				break;
			}
			fputc(c, f);
			fprintf(f, "\n%*s", 4 * ++depth, "");
			break;
		case '}':
		case ']':
			fprintf(f, "\n%*s%c", 4 * --depth, "", c);
			break;
		case ',':
			fprintf(f, ",\n%*s", 4 * depth, "");
			break;
		case ':':
			fputs(": ", f);
			break;
		default:
			fputc(c, f);
		}
	}
}

static int inspect_image(struct rt_store *s, const char *what, struct out *o, struct rt_err *e)
{
	struct rt_manifest_json cj;
	struct rt_image_doc d;
	struct rt_refs refs;
	const struct rt_json *j;
	char digest[RT_SHA256_STR], num[32], fam[RT_STORE_REF_MAX];
	size_t i;
	int first, l, k;

	if (rt_image_find(s, what, digest, e) < 0)
		return -1;
	if (rt_image_doc_read(s, digest, &d, e) < 0)
		return -1;
	if (rt_manifest_parse(&cj, d.config, d.clen, e) < 0 || rt_store_refs_read(s, &refs, e) < 0) {
		rt_image_doc_free(&d);
		return -1;
	}
	j = &cj.j;
	puts_(o, "{");
	put_key(o, "Id");
	put_str(o, d.id);
	puts_(o, ",");
	put_key(o, "RepoTags");
	puts_(o, "[");
	for (i = 0, first = 1; i < refs.n; i++)
		if (!strcmp(refs.v[i].digest, digest) && refs.v[i].name[0]) {
			if (!first)
				puts_(o, ",");
			first = 0;
			put_str(o, rt_image_familiar(refs.v[i].name, fam, sizeof fam));
		}
	puts_(o, "],");
	put_key(o, "RepoDigests");
	puts_(o, "[");
	for (i = 0, first = 1; i < refs.n; i++) {
		char repo[RT_STORE_REF_MAX], rd[RT_STORE_REF_MAX + RT_SHA256_STR], *c, *sl;
		size_t x;
		int dup = 0;

		if (strcmp(refs.v[i].digest, digest) != 0 || !refs.v[i].name[0])
			continue;
		rt_image_familiar(refs.v[i].name, repo, sizeof repo);
		sl = strrchr(repo, '/');
		if ((c = strrchr(sl ? sl : repo, ':')))
			*c = '\0';
		for (x = 0; x < i; x++) {
			char r2[RT_STORE_REF_MAX], *c2, *s2;

			if (strcmp(refs.v[x].digest, digest) != 0 || !refs.v[x].name[0])
				continue;
			rt_image_familiar(refs.v[x].name, r2, sizeof r2);
			s2 = strrchr(r2, '/');
			if ((c2 = strrchr(s2 ? s2 : r2, ':')))
				*c2 = '\0';
			dup |= !strcmp(r2, repo);
		}
		if (dup)
			continue;
		snprintf(rd, sizeof rd, "%s@%s", repo, digest);
		if (!first)
			puts_(o, ",");
		first = 0;
		put_str(o, rd);
	}
	puts_(o, "],");
	put_key(o, "Parent");
	put_str(o, "");
	puts_(o, ",");
	put_key(o, "Comment");
	k = rt_json_find(j, 0, "comment");
	if (rt_json_type(j, k) == RT_JSON_STRING)
		put_raw(o, j, k);
	else
		put_str(o, "");
	puts_(o, ",");
	put_key(o, "Created");
	k = rt_json_find(j, 0, "created");
	if (rt_json_type(j, k) == RT_JSON_STRING)
		put_raw(o, j, k);
	else
		put_str(o, "");
	puts_(o, ",");
	put_key(o, "Author");
	k = rt_json_find(j, 0, "author");
	if (rt_json_type(j, k) == RT_JSON_STRING)
		put_raw(o, j, k);
	else
		put_str(o, "");
	puts_(o, ",");
	put_key(o, "Config");
	put_raw(o, j, rt_json_find(j, 0, "config"));
	puts_(o, ",");
	put_key(o, "Architecture");
	put_raw(o, j, rt_json_find(j, 0, "architecture"));
	if (rt_json_find(j, 0, "variant") >= 0) {
		puts_(o, ",");
		put_key(o, "Variant");
		put_raw(o, j, rt_json_find(j, 0, "variant"));
	}
	puts_(o, ",");
	put_key(o, "Os");
	put_raw(o, j, rt_json_find(j, 0, "os"));
	if (rt_image_trust_inspect) {
		char sig[4096];
		size_t sl = 0;
		int k2 = rt_image_trust_inspect(s->root, digest, sig, sizeof sig, &sl, e);

		if (k2 < 0)
			goto fail;
		if (k2 > 0) {
			puts_(o, ",");
			put_key(o, "Signature");
			put(o, sig, sl);
		}
	}
	puts_(o, ",");
	put_key(o, "Size");
	snprintf(num, sizeof num, "%llu", (unsigned long long)d.size);
	puts_(o, num);
	puts_(o, ",");
	put_key(o, "GraphDriver");
	puts_(o, "{");
	put_key(o, "Data");
	puts_(o, "{");
	put_key(o, "LowerDir");
	{
		struct out lower = { NULL, 0, 0, 0 };

		for (l = d.nlayers - 1; l >= 0; l--) {
			char p[RT_IMAGE_CFG_LAYER_PATH];
			struct rt_err ig;

			if (rt_store_layer_path(s, d.layers[l], p, sizeof p, &ig) < 0)
				continue;
			if (lower.len)
				puts_(&lower, ":");
			puts_(&lower, p);
		}
		put_str(o, lower.b ? lower.b : "");
		free(lower.b);
	}
	puts_(o, "},");
	put_key(o, "Name");
	put_str(o, "overlay");
	puts_(o, "},");
	put_key(o, "RootFS");
	puts_(o, "{");
	put_key(o, "Type");
	put_str(o, "layers");
	puts_(o, ",");
	put_key(o, "Layers");
	k = rt_json_find(j, rt_json_find(j, 0, "rootfs"), "diff_ids");
	put_raw(o, j, k);
	puts_(o, "},");
	put_key(o, "Metadata");
	puts_(o, "{");
	put_key(o, "LastTagTime");
	put_str(o, "0001-01-01T00:00:00Z");
	puts_(o, "}}");
	rt_store_refs_free(&refs);
	rt_manifest_free(&cj);
	rt_image_doc_free(&d);
	if (o->oom)
		return rt_err_set(e, ENOMEM, "inspect");
	return 0;
fail:
	rt_store_refs_free(&refs);
	rt_manifest_free(&cj);
	rt_image_doc_free(&d);
	return -1;
}

static int verb_inspect(const struct rt_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "type", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct out out = { NULL, 0, 0, 0 };
	int c, i, images = 1, containers = 1, r = RT_EXIT_OK, n = 0;
	struct rt_store s;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
		if (c == 't' && !strcmp(optarg, "image")) {
			containers = 0;
		} else if (c == 't' && !strcmp(optarg, "container")) {
			images = 0;
		} else if (c == 'f' && (!strcmp(optarg, "json") || !strcmp(optarg, "{{json .}}"))) {
			continue;
		} else {
			return rt_cli_fail("inspect", RT_EXIT_USAGE,
					   "usage: rt inspect [--type image|container] NAME...");
		}
	}
	if (optind == argc)
		return rt_cli_fail("inspect", RT_EXIT_USAGE, "requires at least 1 argument");
	if (open_store(o, &s, RT_STORE_SHARED, "inspect") < 0)
		return RT_EXIT_FAIL;
	puts_(&out, "[");
	for (i = optind; i < argc; i++) {
		size_t mark = out.len;
		struct rt_err e = { 0, "" };
		int found = 0;

		if (n)
			puts_(&out, ",");
		/* Docker looks for a container first, then an image. */
		if (containers && rt_container_inspect_json) {
			char *buf = malloc(1 << 20);
			size_t len = 0;
			int k = buf ? rt_container_inspect_json(o->root, o->run, argv[i], buf, 1 << 20,
								&len, &e) : -1;

			if (k > 0) {
				put(&out, buf, len);
				found = 1;
			} else if (k < 0) {
				fail_e("inspect", &e);
				r = RT_EXIT_FAIL;
			}
			free(buf);
			if (k < 0) {
				out.len = mark;
				continue;
			}
		}
		if (!found && images) {
			if (inspect_image(&s, argv[i], &out, &e) == 0) {
				found = 1;
			} else if (e.errnum != ENOENT) {
				out.len = mark;
				fail_e("inspect", &e);
				r = RT_EXIT_FAIL;
				continue;
			}
		}
		if (!found) {
			out.len = mark;
			if (out.b)
				out.b[out.len] = '\0';
			rt_cli_fail("inspect", RT_EXIT_FAIL, "No such %s: %s",
				    containers ? "object" : "image", argv[i]);
			r = RT_EXIT_FAIL;
			continue;
		}
		n++;
	}
	rt_store_close(&s);
	puts_(&out, "]");
	if (out.oom)
		return rt_cli_fail("inspect", RT_EXIT_FAIL, "out of memory");
	pretty(out.b, out.len, stdout);
	printf("\n");
	free(out.b);
	return r;
}

/* --- history ------------------------------------------------------------- */

/* At most max characters (not bytes), as Docker's Ellipsis. */
static void ellipsis(const char *s, size_t max, char *buf, size_t cap)
{
	size_t i = 0, chars = 0, cut = 0, w;

	for (i = 0; s[i]; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (chars == max - 1)
				cut = i;
			chars++;
		}
	if (chars <= max) {
		snprintf(buf, cap, "%s", s);
		return;
	}
	w = cut < cap - 4 ? cut : cap - 4;
	memcpy(buf, s, w);
	memcpy(buf + w, "\xe2\x80\xa6", 4);   /* "…" and the NUL */
}

static int verb_history(const struct rt_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "no-trunc", no_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "human", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct rt_manifest_json cj;
	struct rt_image_doc d;
	struct rt_store s;
	struct rt_err e = { 0, "" };
	struct table t;
	char digest[RT_SHA256_STR];
	int notrunc = 0, quiet = 0, c, h, i, n, layer;
	int idx[1024];

	optind = 1;
	while ((c = getopt_long(argc, argv, "qH:", lo, NULL)) != -1) {
		if (c == 'T')
			notrunc = 1;
		else if (c == 'q')
			quiet = 1;
		else if (c != 'H')
			return rt_cli_fail("history", RT_EXIT_USAGE, "usage: rt history [--no-trunc] [-q] IMAGE");
	}
	if (argc - optind != 1)
		return rt_cli_fail("history", RT_EXIT_USAGE, "requires exactly 1 argument");
	if (open_store(o, &s, RT_STORE_SHARED, "history") < 0)
		return RT_EXIT_FAIL;
	if (rt_image_find(&s, argv[optind], digest, &e) < 0 || rt_image_doc_read(&s, digest, &d, &e) < 0) {
		rt_store_close(&s);
		return fail_e("history", &e);
	}
	rt_store_close(&s);
	if (rt_manifest_parse(&cj, d.config, d.clen, &e) < 0) {
		rt_image_doc_free(&d);
		return fail_e("history", &e);
	}
	memset(&t, 0, sizeof t);
	t.ncol = 5;
	if (!quiet) {
		const char *hd[] = { "IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT" };

		table_row(&t, hd);
	}
	h = rt_json_find(&cj.j, 0, "history");
	n = 0;
	for (i = rt_json_first(&cj.j, h); i >= 0 && n < 1024; i = rt_json_next(&cj.j, h, i))
		idx[n++] = i;
	/* layers go with the history entries that are not empty_layer */
	layer = 0;
	for (i = 0; i < n; i++) {
		bool empty = false;

		rt_json_bool(&cj.j, rt_json_find(&cj.j, idx[i], "empty_layer"), &empty, &e);
		if (!empty)
			layer++;
	}
	for (i = n - 1; i >= 0; i--) {
		char id[RT_SHA256_STR], when[64], by[4096], byt[4096], sz[32], cm[1024], ts[64];
		bool empty = false;
		int64_t tt = -1;
		char *p;

		rt_json_bool(&cj.j, rt_json_find(&cj.j, idx[i], "empty_layer"), &empty, &e);
		snprintf(id, sizeof id, "%.71s", i == n - 1 ? d.id + (notrunc ? 0 : 7) : "<missing>");
		if (!notrunc && i == n - 1)
			id[12] = '\0';
		if (rt_json_str(&cj.j, rt_json_find(&cj.j, idx[i], "created"), ts, sizeof ts, &e) < 0 ||
		    rt_manifest_time(ts, &tt) < 0)
			tt = -1;
		human_ago(tt, when, sizeof when);
		if (rt_json_str(&cj.j, rt_json_find(&cj.j, idx[i], "created_by"), by, sizeof by, &e) < 0)
			by[0] = '\0';
		for (p = by; *p; p++)
			if (*p == '\t' || *p == '\n')
				*p = ' ';
		if (notrunc)
			snprintf(byt, sizeof byt, "%s", by);
		else
			ellipsis(by, 45, byt, sizeof byt);
		if (rt_json_str(&cj.j, rt_json_find(&cj.j, idx[i], "comment"), cm, sizeof cm, &e) < 0)
			cm[0] = '\0';
		if (empty) {
			snprintf(sz, sizeof sz, "0B");
		} else {
			layer--;
			human_size(layer >= 0 && layer < d.nlayers ? d.layer_bytes[layer] : 0, sz, sizeof sz);
		}
		if (quiet) {
			printf("%s\n", id);
			continue;
		}
		{
			const char *v[] = { id, when, byt, sz, cm };

			table_row(&t, v);
		}
	}
	if (n == 0 && !quiet) {
		/* no history: one line per layer, as Docker does for such images */
		for (i = d.nlayers - 1; i >= 0; i--) {
			char id[RT_SHA256_STR], sz[32];
			const char *v[] = { id, "N/A", "", sz, "" };

			snprintf(id, sizeof id, "%.71s", i == d.nlayers - 1 ? d.id + 7 : "<missing>");
			id[12] = '\0';
			human_size(d.layer_bytes[i], sz, sizeof sz);
			table_row(&t, v);
		}
	}
	table_print(&t);
	rt_manifest_free(&cj);
	rt_image_doc_free(&d);
	return RT_EXIT_OK;
}

/* --- tag, rmi, prune ----------------------------------------------------- */

static int verb_tag(const struct rt_opts *o, int argc, char **argv)
{
	struct rt_store s;
	struct rt_err e = { 0, "" };
	int r;

	if (argc != 3)
		return rt_cli_fail("tag", RT_EXIT_USAGE, "usage: rt tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]");
	if (open_store(o, &s, RT_STORE_SHARED, "tag") < 0)
		return RT_EXIT_FAIL;
	r = rt_image_tag(&s, argv[1], argv[2], &e);
	rt_store_close(&s);
	return r < 0 ? fail_e("tag", &e) : RT_EXIT_OK;
}

static void event(void *arg, const char *what, const char *name)
{
	char fam[RT_STORE_REF_MAX];

	(void)arg;
	if (!strcmp(what, "Untagged") || !strcmp(what, "untagged"))
		name = rt_image_familiar(name, fam, sizeof fam);
	printf("%s: %s\n", what, name);
}

static int verb_rmi(const struct rt_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "no-prune", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct hookarg h = { o };
	int force = 0, c, i, r = RT_EXIT_OK;
	struct rt_store s;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f", lo, NULL)) != -1) {
		if (c == 'f')
			force = 1;
		else if (c != 'N')
			return rt_cli_fail("rmi", RT_EXIT_USAGE, "usage: rt rmi [-f] IMAGE...");
	}
	if (optind == argc)
		return rt_cli_fail("rmi", RT_EXIT_USAGE, "requires at least 1 argument");
	if (open_store(o, &s, RT_STORE_EXCL, "rmi") < 0)
		return RT_EXIT_FAIL;
	for (i = optind; i < argc; i++) {
		uint64_t freed = 0;
		struct rt_err e = { 0, "" };

		if (rt_image_remove(&s, argv[i], force, in_use, &h, event, NULL, &freed, &e) < 0) {
			fail_e("rmi", &e);
			r = RT_EXIT_FAIL;
		}
	}
	rt_store_close(&s);
	return r;
}

static int verb_prune(const struct rt_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct hookarg h = { o };
	uint64_t freed = 0;
	int all = 0, c, r;
	struct rt_store s;
	struct rt_err e = { 0, "" };
	char sz[32];

	optind = 1;
	while ((c = getopt_long(argc, argv, "af", lo, NULL)) != -1) {
		if (c == 'a')
			all = 1;
		else if (c != 'f')
			return rt_cli_fail("image prune", RT_EXIT_USAGE, "usage: rt image prune [-a] [-f]");
	}
	if (optind != argc)
		return rt_cli_fail("image prune", RT_EXIT_USAGE, "takes no arguments");
	if (open_store(o, &s, RT_STORE_EXCL, "image prune") < 0)
		return RT_EXIT_FAIL;
	printf("Deleted Images:\n");
	r = rt_image_prune(&s, all, in_use, &h, event, NULL, &freed, &e);
	rt_store_close(&s);
	if (r < 0)
		return fail_e("image prune", &e);
	printf("\nTotal reclaimed space: %s\n", human_size(freed, sz, sizeof sz));
	return RT_EXIT_OK;
}

/* --- df, verify ---------------------------------------------------------- */

static int verb_df(const struct rt_opts *o, int argc, char **argv)
{
	struct hookarg h = { o };
	struct rt_image_df d;
	struct rt_store s;
	struct rt_err e = { 0, "" };
	struct table t;
	char a[32], b[32], c[32], total[16], active[16], lay[16], blobs[16], pct[48];
	int r;

	(void)argv;
	if (argc > 1)
		return rt_cli_fail("df", RT_EXIT_USAGE, "takes no arguments");
	if (open_store(o, &s, RT_STORE_SHARED, "df") < 0)
		return RT_EXIT_FAIL;
	r = rt_image_df(&s, in_use, &h, &d, &e);
	rt_store_close(&s);
	if (r < 0)
		return fail_e("df", &e);
	snprintf(total, sizeof total, "%zu", d.images);
	snprintf(active, sizeof active, "%zu", d.active);
	snprintf(lay, sizeof lay, "%zu", d.layers);
	snprintf(blobs, sizeof blobs, "%zu", d.blobs);
	{
		uint64_t all = d.layer_disk + d.blob_disk;
		unsigned p = all ? (unsigned)(d.reclaimable * 100 / all) : 0;

		snprintf(pct, sizeof pct, "%s (%u%%)", human_size(d.reclaimable, c, sizeof c), p);
		human_size(all, a, sizeof a);
	}
	memset(&t, 0, sizeof t);
	t.ncol = 5;
	{
		const char *hd[] = { "TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE" };
		const char *im[] = { "Images", total, active, a, pct };

		table_row(&t, hd);
		table_row(&t, im);
	}
	{
		const char *ly[] = { "Layers", lay, "", human_size(d.layer_disk, b, sizeof b), "" };

		table_row(&t, ly);
	}
	{
		char bb[32];
		const char *bl[] = { "Blobs", blobs, "", human_size(d.blob_disk, bb, sizeof bb), "" };

		table_row(&t, bl);
	}
	table_print(&t);
	printf("\nShared layers are stored once: sharing saves %s.\n",
	       human_size(d.shared_saved, a, sizeof a));
	return RT_EXIT_OK;
}

static void verify_ev(void *arg, const char *what, const char *item)
{
	const char *name = arg;

	printf("%s: %s: %s\n", name, what, item);
}

static int verb_verify(const struct rt_opts *o, int argc, char **argv)
{
	struct rt_store s;
	int i, r = RT_EXIT_OK;

	if (argc < 2)
		return rt_cli_fail("verify", RT_EXIT_USAGE, "usage: rt verify IMAGE...");
	if (open_store(o, &s, RT_STORE_SHARED, "verify") < 0)
		return RT_EXIT_FAIL;
	for (i = 1; i < argc; i++) {
		char digest[RT_SHA256_STR];
		struct rt_err e = { 0, "" };

		if (rt_image_find(&s, argv[i], digest, &e) < 0 ||
		    rt_image_verify(&s, digest, verify_ev, argv[i], &e) < 0) {
			rt_err_wrap(&e, "%s", argv[i]);
			fail_e("verify", &e);
			r = RT_EXIT_FAIL;
			continue;
		}
		printf("%s: verified%s\n", argv[i],
		       IS_ENABLED(CONFIG_KEEP_BLOBS) ? "" :
		       " (layer blobs are not kept: layers checked against their unpack record)");
	}
	rt_store_close(&s);
	return r;
}

/* --- rt image <verb> ----------------------------------------------------- */

static int verb_image(const struct rt_opts *o, int argc, char **argv)
{
	static const struct { const char *name; int (*fn)(const struct rt_opts *, int, char **); } sub[] = {
		{ "ls", verb_images }, { "list", verb_images }, { "load", verb_load },
		{ "inspect", verb_inspect }, { "history", verb_history }, { "tag", verb_tag },
		{ "rm", verb_rmi }, { "prune", verb_prune },
	};
	size_t i;

	if (argc < 2)
		return rt_cli_fail("image", RT_EXIT_USAGE,
				   "usage: rt image ls|load|inspect|history|tag|rm|prune ...");
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++)
		if (!strcmp(argv[1], sub[i].name)) {
			if (sub[i].fn == verb_inspect && argc > 2) {
				/* `rt image inspect` never means a container */
				static char type[] = "--type=image";
				char **v = malloc((size_t)(argc + 1) * sizeof *v);
				int r;

				if (!v)
					return rt_cli_fail("image", RT_EXIT_FAIL, "out of memory");
				v[0] = argv[1];
				v[1] = type;
				memcpy(v + 2, argv + 2, (size_t)(argc - 2) * sizeof *v);
				v[argc] = NULL;
				r = verb_inspect(o, argc, v);
				free(v);
				return r;
			}
			return sub[i].fn(o, argc - 1, argv + 1);
		}
	return rt_cli_fail("image", RT_EXIT_USAGE, "'%s' is not an image command", argv[1]);
}

const struct rt_verb rt_verbs_image[] = {
	{ "images", verb_images, "[-q] [--digests] [--format json] [REPO[:TAG]]", "List images" },
	{ "load", verb_load, "[-i FILE|DIR] [--allow-downgrade]", "Load images from an OCI layout or archive, or docker save" },
	{ "inspect", verb_inspect, "NAME...", "Show low-level information as JSON" },
	{ "history", verb_history, "IMAGE", "Show the history of an image" },
	{ "tag", verb_tag, "SOURCE TARGET", "Give an image another name" },
	{ "rmi", verb_rmi, "[-f] IMAGE...", "Remove images" },
	{ "image", verb_image, "ls|load|inspect|history|tag|rm|prune", "Manage images" },
	{ "df", verb_df, "", "Show the store's disk usage" },
	{ "verify", verb_verify, "IMAGE...", "Re-check stored images against their digests" },
	{ NULL, NULL, NULL, NULL },
};
