/* App files become the arguments of `rt run`. */
#include <string.h>

#include "conf.h"
#include "tap.h"

static struct rt_conf_app a;

static const char *joined(void)
{
	static char s[4096];
	size_t n = 0;
	int i;

	s[0] = '\0';
	for (i = 0; i < a.argc && n < sizeof s - 1; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "%s%s", i ? "|" : "", a.argv[i]);
	return s;
}

static int parse(const char *name, const char *text, struct rt_err *e)
{
	return rt_conf_parse(&a, name, text, strlen(text), e);
}

int main(void)
{
	struct rt_err e;
	const char *web =
		"# the demo page\n"
		"image = registry.example/web:1.4\n"
		"  cmd = [\"httpd\", \"-f\", \"-p\", \"80\"]  \n"
		"\n"
		"publish = 8080:80/tcp\r\n"
		"publish=8443:443\n"
		"env = GREETING=hello = world\n"
		"volume = data:/var/lib/web\n"
		"memory = 64m\n"
		"after = db\n"
		"read_only = true\n";

	ok(parse("web", web, &e) == 0, "a full app file parses");
	is_str(joined(), "run|-d|--name|web|-p|8080:80/tcp|-p|8443:443|-e|GREETING=hello = world|"
	       "-v|data:/var/lib/web|--memory|64m|--restart|always|--read-only|"
	       "registry.example/web:1.4|httpd|-f|-p|80", "becomes run's argv, restart always by default");
	ok(a.argv[a.argc] == NULL, "argv is NULL-terminated");
	ok(a.nafter == 1 && !strcmp(a.after[0], "db"), "after");
	is_str(a.image, "registry.example/web:1.4", "image");

	ok(parse("sh", "image = busybox\ncmd = echo hi; sleep 1\nrestart = on-failure:3\n", &e) == 0, "shell form");
	is_str(joined(), "run|-d|--name|sh|--restart|on-failure:3|busybox|/bin/sh|-c|echo hi; sleep 1",
	       "shell-form cmd runs through /bin/sh -c");

	ok(parse("ep", "image = x\nentrypoint = [\"/bin/app\", \"--serve\"]\ncmd = [\"a\"]\ninit = false\n", &e) == 0,
	   "entrypoint array");
	is_str(joined(), "run|-d|--name|ep|--restart|always|--no-init|--entrypoint|/bin/app|x|--serve|a",
	       "first word is --entrypoint, the rest lead the arguments");

	ok(parse("lg", "image = x\nlog_size = 256\nlog_mirror = kmsg\n", &e) == 0, "log_size, log_mirror");
	is_str(joined(), "run|-d|--name|lg|--log-size|256|--log-mirror|kmsg|--restart|always|x",
	       "become --log-size and --log-mirror");

	ok(parse("tf", "image = x\ntmpfs = /run:size=8m,mode=755\ntmpfs = /cache\n", &e) == 0, "tmpfs");
	is_str(joined(), "run|-d|--name|tf|--tmpfs|/run:size=8m,mode=755|--tmpfs|/cache|--restart|always|x",
	       "tmpfs becomes --tmpfs, repeatable");

	ok(parse("bad", "image = x\nimgae = y\n", &e) < 0, "unknown key refused");
	is_str(e.msg, "bad.conf: line 2: unknown setting", "error names file and line");
	ok(parse("bad", "image = x\nimage = y\n", &e) < 0, "a key twice refused");
	ok(parse("bad", "cmd = x\n", &e) < 0 && strstr(e.msg, "no image"), "image required");
	ok(parse("bad", "image = x\nread_only = maybe\n", &e) < 0, "bad boolean refused");
	ok(parse("bad", "image = x\ncmd = [\"a\", 1]\n", &e) < 0, "non-string cmd element refused");
	ok(parse("bad", "image = x\njust words\n", &e) < 0, "line without = refused");
	ok(parse("bad", "image =\n", &e) < 0, "empty value refused");
	ok(parse("bad", "image = x\nafter = ../etc\n", &e) < 0, "after must name an app");
	ok(parse("../x", "image = x\n", &e) < 0, "app name checked");
	ok(rt_conf_parse(&a, "bad", "image = x\nenv = A\0B\n", 19, &e) < 0 && strstr(e.msg, "NUL"),
	   "a NUL byte is refused");
	{
		static char big[RT_CONF_MAX + 2];

		memset(big, '#', sizeof big - 1);
		ok(rt_conf_parse(&a, "big", big, sizeof big - 1, &e) < 0, "file over the limit refused");
	}
	{
		static char many[RT_CONF_MAX];
		size_t n = (size_t)snprintf(many, sizeof many, "image = x\n");
		int i;

		for (i = 0; i < 200 && n < sizeof many - 20; i++)
			n += (size_t)snprintf(many + n, sizeof many - n, "env = A%d=1\n", i);
		ok(rt_conf_parse(&a, "many", many, n, &e) < 0 && strstr(e.msg, "too many"),
		   "argument count bounded");
	}
	ok(rt_conf_name_ok("web-1.a_b") && !rt_conf_name_ok("-x") && !rt_conf_name_ok("a/b") &&
	   !rt_conf_name_ok(""), "app names");
	return done_testing();
}
