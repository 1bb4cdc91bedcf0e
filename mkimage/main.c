/* mkimage: keys, image build, signatures. A verb table; each verb parses
 * its own flags, does its work and prints its error once. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mkimage.h"

static const struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
} verbs[] = {
	{ "keygen", mk_keygen,
	  "keygen [-o NAME] [-f]\n"
	  "      Make an ECDSA P-256 key pair: NAME.key (PEM, mode 0600) and\n"
	  "      NAME.pub (PEM SubjectPublicKeyInfo). NAME defaults to \"mkimage\";\n"
	  "      -f overwrites existing files.\n" },
	{ "build", mk_build,
	  "build -o OUT [--archive] [--layer DIR|FILE.tar[.gz]]... [--from IMAGE [--from-ref REF]]\n"
	  "      [--tag NAME[:TAG]]... [--arch ARCH] [--variant V] [--os OS]\n"
	  "      [--entrypoint CMD] [--cmd CMD] [--env K=V]... [--workdir DIR] [--user U]\n"
	  "      [--expose PORT[/PROTO]]... [--label K=V]... [--mtime SECONDS] [--owner UID:GID]\n"
	  "      Build an OCI image: the layers of --from first, then one gzip tar\n"
	  "      layer per --layer, in order. OUT is an OCI layout directory, or an\n"
	  "      OCI archive with --archive. CMD is a JSON array or a shell command\n"
	  "      (run with /bin/sh -c). Entries are sorted, every mtime is --mtime,\n"
	  "      else $SOURCE_DATE_EPOCH, else 0: the same inputs give the same digests.\n" },
	{ "sign", mk_sign,
	  "sign --key K.key [--version N] [--ref REF] [--identity REPO] IMAGE\n"
	  "      Sign the images in IMAGE (a layout directory or an OCI archive, changed\n"
	  "      in place) the way `cosign sign --key K.key -a version=N` does: a simple\n"
	  "      signing payload naming the manifest digest, in a manifest tagged\n"
	  "      sha256-<hex>.sig. REPO defaults to the repository of the image's name.\n" },
	{ "verify", mk_verify,
	  "verify --key K.pub [--ref REF] IMAGE\n"
	  "      Check the signatures of the images in IMAGE against K.pub (as rt does,\n"
	  "      without the rollback record), then every blob against its digest.\n" },
	{ "inspect", mk_inspect,
	  "inspect IMAGE\n"
	  "      Print the names, digests, platform, layers, history and signatures\n"
	  "      of the images in IMAGE.\n" },
	{ "flash", mk_flash,
	  "flash --board BOARD --guest DIR --platform OS/ARCH[/VARIANT] -o OUT\n"
	  "      [--rt RT] [--host-rt RT] [--modules \"NAME ...\"] [--app FILE.conf]...\n"
	  "      [--image IMAGE]... [--key K.pub]... [--data-size MIB] [--hostname NAME]\n"
	  "      [--busybox BUSYBOX]\n"
	  "      A board's firmware in OUT: kernel (from DIR, a guest fetched by\n"
	  "      boards/guest.sh), initramfs.cpio.gz (RT as /init, the app files, the\n"
	  "      keys, the named modules and what they need) and data.img (ext4, the\n"
	  "      store, with each IMAGE loaded by this host's rt (--host-rt) for the\n"
	  "      board's platform and checked against the keys). RT defaults to\n"
	  "      build/BOARD/rt. --busybox adds a console toolbox (/bin/sh, ...).\n" },
	{ NULL, NULL, NULL },
};

int mk_fail(const char *verb, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (verb)
		fprintf(stderr, "mkimage: %s: %s\n", verb, msg);
	else
		fprintf(stderr, "mkimage: %s\n", msg);
	return code;
}

int mk_fail_err(const char *verb, const struct rt_err *e)
{
	char buf[RT_ERR_MSG + 128];

	return mk_fail(verb, MK_EXIT_FAIL, "%s", rt_err_str(e, buf, sizeof buf));
}

int mk_getopt(const char *verb, int argc, char **argv, int *i,
	      const struct mk_opt *opts, const char **val)
{
	const struct mk_opt *o;
	const char *a, *eq;
	size_t n;

	if (*i >= argc)
		return MK_OPT_END;
	a = argv[(*i)++];
	if (a[0] != '-' || !a[1]) {
		*val = a;
		return MK_OPT_ARG;
	}
	eq = strchr(a, '=');
	n = eq && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
	for (o = opts; o->name; o++) {
		if (strlen(o->name) != n || strncmp(o->name, a, n) != 0)
			continue;
		if (!o->arg) {
			if (eq && a[1] == '-')
				break;
			return o->id;
		}
		if (eq && a[1] == '-') {
			*val = eq + 1;
		} else {
			if (*i >= argc) {
				mk_fail(verb, MK_EXIT_USAGE, "%s needs a value", a);
				return MK_OPT_ERR;
			}
			*val = argv[(*i)++];
		}
		return o->id;
	}
	mk_fail(verb, MK_EXIT_USAGE, "unknown option %s; see 'mkimage help %s'", a, verb);
	return MK_OPT_ERR;
}

static void usage(FILE *f)
{
	const struct verb *v;

	fprintf(f, "Usage: mkimage COMMAND [ARGS]\n\nCommands:\n");
	for (v = verbs; v->name; v++)
		fprintf(f, "  mkimage %s\n", v->usage);
}

static int help(int argc, char **argv)
{
	const struct verb *v;

	if (argc > 1) {
		for (v = verbs; v->name; v++)
			if (!strcmp(v->name, argv[1])) {
				printf("Usage: mkimage %s", v->usage);
				return 0;
			}
		return mk_fail("help", MK_EXIT_USAGE, "'%s' is not a mkimage command", argv[1]);
	}
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct verb *v;

	if (argc < 2) {
		usage(stderr);
		return MK_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help(argc - 1, argv + 1);
	for (v = verbs; v->name; v++)
		if (!strcmp(v->name, argv[1]))
			return v->fn(argc - 1, argv + 1);
	return mk_fail(NULL, MK_EXIT_USAGE, "'%s' is not a mkimage command; see 'mkimage help'",
		       argv[1]);
}
