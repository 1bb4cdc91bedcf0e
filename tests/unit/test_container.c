/* Container records: names, ids, config checking (what a stored record
 * may hold), records round-tripping, the sandbox spec and exec built
 * from them, and the durable files. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "tap.h"

static const char good[] =
	"{\"image\":\"busybox\",\"layers\":[\"/l/top\",\"/l/base\"],\"cmd\":[\"sh\",\"-c\",\"echo hi\"],"
	"\"env\":[\"PATH=/bin\",\"A=1\"],\"cwd\":\"/srv\",\"user\":\"1000:1000\",\"hostname\":\"box\","
	"\"restart\":\"on-failure:3\",\"network\":\"host\","
	"\"mounts\":[{\"src\":\"/v/data\",\"dst\":\"/data\",\"ro\":true,\"volume\":\"data\"},"
	"{\"tmpfs\":true,\"dst\":\"/run\",\"size\":1048576,\"mode\":493,\"exec\":true}],"
	"\"read_only\":true,\"memory\":268435456,\"pids\":64,\"cpus\":1500,\"cap_add\":1,"
	"\"init\":true,\"stop_timeout\":3,\"tty\":false,\"stdin\":true,\"rm\":false,\"name\":\"web\"}";

static int check(const char *conf)
{
	struct rt_ctr_meta m;
	struct rt_err e;

	return rt_ctr_check(conf, strlen(conf), &m, &e);
}

int main(void)
{
	static char rec[RT_CTR_REC_MAX], arena[RT_CTR_REC_MAX];
	static struct rt_sandbox_spec s;
	static struct rt_sandbox_exec x;
	struct rt_ctr_meta m, m2;
	struct rt_ctr_state st;
	struct rt_err e;
	const char *conf;
	size_t conflen;
	char id[RT_CTR_ID + 1], id2[RT_CTR_ID + 1], name[RT_CTR_NAME + 1], dir[] = "/tmp/rt-ctr-XXXXXX";
	int n, root;
	size_t i;

	/* Names and ids. */
	ok(rt_ctr_name_ok("web") && rt_ctr_name_ok("a.b-c_d9") && rt_ctr_name_ok("9"), "good names");
	ok(!rt_ctr_name_ok("") && !rt_ctr_name_ok("-x") && !rt_ctr_name_ok("_x") &&
	   !rt_ctr_name_ok("a/b") && !rt_ctr_name_ok("a b") && !rt_ctr_name_ok("../x"), "bad names");
	memset(name, 'a', sizeof name - 1);
	name[RT_CTR_NAME] = '\0';
	ok(rt_ctr_name_ok(name), "%d-byte name", RT_CTR_NAME);
	{
		char longer[RT_CTR_NAME + 2];

		memset(longer, 'a', sizeof longer - 1);
		longer[RT_CTR_NAME + 1] = '\0';
		ok(!rt_ctr_name_ok(longer), "too long a name");
	}
	ok(rt_ctr_new_id(id, &e) == 0 && rt_ctr_new_id(id2, &e) == 0, "new ids");
	ok(strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64, "64 lowercase hex");
	ok(strcmp(id, id2) != 0, "two ids differ");
	rt_ctr_name_gen(name, 0x1234, 0);
	ok(rt_ctr_name_ok(name) && strchr(name, '_'), "generated name %s is adjective_noun", name);
	rt_ctr_name_gen(name, 0x1234, 7);
	ok(rt_ctr_name_ok(name) && name[strlen(name) - 1] == '7', "retry appends: %s", name);

	/* A full config. */
	ok(rt_ctr_check(good, strlen(good), &m, &e) == 0, "full config accepted: %s", e.msg);
	is_str(m.name, "web", "name");
	is_str(m.image, "busybox", "image");
	is_str(m.cmd, "sh -c echo hi", "command summary");
	ok(m.policy.kind == RT_RESTART_ON_FAILURE && m.policy.max == 3, "policy");
	is_int(m.stop_timeout, 3, "stop timeout");
	ok(m.stdin_open && !m.tty && !m.autoremove, "flags");
	ok(check("{\"layers\":[\"/r\"],\"cmd\":[\"true\"]}") == 0, "minimal config accepted");
	{
		struct rt_ctr_meta mm;

		{
			const char *c = "{\"layers\":[\"/r\"],\"cmd\":[\"true\"]}";

			rt_ctr_check(c, strlen(c), &mm, &e);
		}
		ok(mm.policy.kind == RT_RESTART_NO && mm.stop_timeout == 10, "defaults: no restart, 10 s");
		is_int(mm.log_kb, CONFIG_LOG_RING_KB, "default log ring: LOG_RING_KB");
		is_int(mm.log_mirror, RT_CTR_MIRROR_NONE, "default: no mirror");
		{
			const char *c = "{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"log_size\":4096,\"log_mirror\":\"kmsg\"}";

			ok(rt_ctr_check(c, strlen(c), &mm, &e) == 0, "log_size and log_mirror accepted");
			is_int(mm.log_kb, 4096, "log_size in KiB");
			is_int(mm.log_mirror, RT_CTR_MIRROR_KMSG, "log_mirror kmsg");
		}
	}

	/* What is refused before anything is stored. */
	{
		static const char *const bad[] = {
			"[]",
			"{\"cmd\":[\"true\"]}",
			"{\"layers\":[],\"cmd\":[\"true\"]}",
			"{\"layers\":[\"rel\"],\"cmd\":[\"true\"]}",
			"{\"layers\":[\"/r\"]}",
			"{\"layers\":[\"/r\"],\"cmd\":[]}",
			"{\"layers\":[\"/r\"],\"cmd\":[1]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"env\":[\"NOEQUALS\"]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"env\":[\"=v\"]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"cwd\":\"rel\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"restart\":\"sometimes\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"network\":\"../net\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"network\":\"none\",\"ports\":[\"80\"]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"src\":\"rel\",\"dst\":\"/d\"}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"src\":\"/s\",\"dst\":\"/\"}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"src\":\"/s\"}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"src\":\"/s\",\"dst\":\"/d\",\"volume\":\"../x\"}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":{}}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"tmpfs\":true,\"dst\":\"/t\"}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"tmpfs\":true,\"dst\":\"/t\",\"size\":0}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"tmpfs\":true,\"src\":\"/s\",\"dst\":\"/t\",\"size\":1}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"tmpfs\":true,\"dst\":\"/t\",\"size\":1,\"mode\":4096}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"mounts\":[{\"tmpfs\":true,\"dst\":\"/t\",\"size\":1,\"volume\":\"v\"}]}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"name\":\"bad/name\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"hostname\":\"no spaces\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"memory\":-1}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"cpus\":99999999}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"stop_timeout\":1.5}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"tty\":\"yes\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"rm\":true,\"restart\":\"always\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"unknown\":1}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"log_size\":3}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"log_size\":4097}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"log_size\":\"64\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"log_mirror\":\"syslog\"}",
			"{\"layers\":[\"/r\"],\"cmd\":[\"x\"],\"cmd\":[\"y\"]}",
		};

		for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
			ok(check(bad[i]) < 0, "refused: %s", bad[i]);
	}
	{
		/* More arguments than the sandbox takes. */
		static char big[RT_CTR_REC_MAX];
		size_t at = (size_t)snprintf(big, sizeof big, "{\"layers\":[\"/r\"],\"cmd\":[");

		for (i = 0; i < RT_SANDBOX_MAX_ARGS + 1; i++)
			at += (size_t)snprintf(big + at, sizeof big - at, "%s\"a\"", i ? "," : "");
		snprintf(big + at, sizeof big - at, "]}");
		ok(check(big) < 0, "more than %d arguments refused", RT_SANDBOX_MAX_ARGS);
	}

	/* Record round trip. */
	rt_ctr_check(good, strlen(good), &m, &e);
	memcpy(m.id, id, sizeof m.id);
	m.created = 1700000000123456789LL;
	n = rt_ctr_record(&m, good, strlen(good), rec, sizeof rec, &e);
	ok(n > 0, "record written");
	ok(rt_ctr_parse_record(rec, (size_t)n, &m2, &conf, &conflen, &e) == 0, "record parsed");
	ok(!strcmp(m2.id, id) && !strcmp(m2.name, "web") && m2.created == m.created, "identity kept");
	ok(conflen == strlen(good) && !memcmp(conf, good, conflen), "config kept byte for byte");
	{
		char was = rec[10];

		rec[10] = 'X';      /* inside the id */
		ok(rt_ctr_parse_record(rec, (size_t)n, &m2, &conf, &conflen, &e) < 0,
		   "a record whose id is not hex is refused");
		rec[10] = was;
	}

	/* Spec. */
	ok(rt_ctr_spec(&m2, conf, conflen, &s, arena, sizeof arena, &e) == 0, "spec");
	ok(s.nlayers == 2 && !strcmp(s.layers[0], "/l/top") && !strcmp(s.layers[1], "/l/base"), "layers top first");
	ok(!strcmp(s.argv[0], "sh") && !strcmp(s.argv[2], "echo hi") && !s.argv[3], "argv");
	ok(!strcmp(s.env[1], "A=1") && !s.env[2], "env");
	ok(!strcmp(s.cwd, "/srv") && !strcmp(s.user, "1000:1000") && !strcmp(s.hostname, "box"), "cwd, user, hostname");
	ok(s.net == RT_NET_HOST && s.readonly_rootfs && s.init, "network, read-only, init");
	ok(s.nmounts == 2 && !strcmp(s.mounts[0].source, "/v/data") && !strcmp(s.mounts[0].dest, "/data") &&
	   s.mounts[0].readonly && s.mounts[0].kind == RT_MOUNT_BIND, "mount");
	ok(s.mounts[1].kind == RT_MOUNT_TMPFS && !s.mounts[1].source && !strcmp(s.mounts[1].dest, "/run") &&
	   s.mounts[1].tmpfs_bytes == 1048576 && s.mounts[1].tmpfs_mode == 0755 && s.mounts[1].tmpfs_exec &&
	   !s.mounts[1].readonly, "tmpfs mount");
	ok(s.memory_bytes == 268435456 && s.pids_max == 64 && s.cpu_millis == 1500 && s.cap_add == 1, "limits");
	ok(s.stdio[0] == -1 && s.stdio[1] == -1 && s.stdio[2] == -1, "stdio left to the caller");
	ok(rt_ctr_spec(&m2, conf, conflen, &s, arena, 64, &e) < 0, "a small arena is an error, not an overrun");

	/* Exec: the container's env, overridden by the request's. */
	{
		const char *xo = "{\"cmd\":[\"env\"],\"env\":[\"A=2\",\"B=3\"],\"tty\":true}";

		ok(rt_ctr_exec(conf, conflen, xo, strlen(xo), &x, arena, sizeof arena, &e) == 0, "exec");
		ok(!strcmp(x.argv[0], "env") && !x.argv[1], "exec argv");
		ok(!strcmp(x.env[0], "PATH=/bin") && !strcmp(x.env[1], "A=2") && !strcmp(x.env[2], "B=3") &&
		   !x.env[3], "exec env merged");
		ok(!strcmp(x.cwd, "/srv") && !strcmp(x.user, "1000:1000") && x.tty, "exec defaults from the container");
		xo = "{\"env\":[\"A=2\"]}";
		ok(rt_ctr_exec(conf, conflen, xo, strlen(xo), &x, arena, sizeof arena, &e) < 0, "exec without cmd refused");
	}

	/* Durable files. */
	if (!mkdtemp(dir))
		return done_testing();
	root = open(dir, O_RDONLY | O_DIRECTORY);
	mkdirat(root, "containers", 0700);
	ok(rt_ctr_save(root, id, rec, (size_t)n, 1, &e) == 0, "saved");
	ok(rt_ctr_load_state(root, id, &st, &e) == 0 && !st.ran && !st.exit_code, "no state yet: never ran");
	st.ran = 1;
	st.exit_code = 42;
	st.stopped_by_user = 1;
	st.started = 5;
	st.finished = 6;
	ok(rt_ctr_save_state(root, id, &st, 1, &e) == 0, "state saved");
	memset(&st, 0, sizeof st);
	ok(rt_ctr_load_state(root, id, &st, &e) == 0 && st.ran && st.exit_code == 42 &&
	   st.stopped_by_user && st.started == 5 && st.finished == 6, "state read back");
	ok(rt_ctr_save(root, "../../etc", rec, (size_t)n, 1, &e) < 0, "an id that is a path is refused");
	{
		/* rmi asks whether an image is in use. */
		static const char img[] = "{\"image\":\"web:1\",\"image_digest\":\"sha256:aa\","
					  "\"image_id\":\"sha256:bb\",\"layers\":[\"/r\"],\"cmd\":[\"x\"]}";
		static char r2[4096];
		struct rt_ctr_meta mi;
		char who[RT_CTR_NAME + 1] = "";
		int n2;

		ok(rt_ctr_check(img, strlen(img), &mi, &e) == 0, "config with image digests");
		memcpy(mi.id, id2, sizeof mi.id);
		strcpy(mi.name, "user1");
		n2 = rt_ctr_record(&mi, img, strlen(img), r2, sizeof r2, &e);
		ok(n2 > 0 && rt_ctr_save(root, id2, r2, (size_t)n2, 0, &e) == 0, "saved");
		is_int(rt_ctr_image_users(root, "sha256:aa", NULL, who, sizeof who, &e), 1, "in use by manifest digest");
		is_str(who, "user1", "and by whom");
		is_int(rt_ctr_image_users(root, NULL, "sha256:bb", who, sizeof who, &e), 1, "in use by config id");
		is_int(rt_ctr_image_users(root, "sha256:cc", "sha256:dd", who, sizeof who, &e), 0, "another image is not");
		rt_ctr_remove(root, id2, 0, &e);
	}
	ok(rt_ctr_remove(root, id, 1, &e) == 0, "removed");
	ok(faccessat(root, "containers/", F_OK, 0) == 0 && rt_ctr_remove(root, id, 1, &e) == 0,
	   "removing again is fine");
	{
		char p[300];

		snprintf(p, sizeof p, "containers/%s", id);
		ok(faccessat(root, p, F_OK, 0) < 0, "its directory is gone");
	}
	unlinkat(root, "containers", AT_REMOVEDIR);
	close(root);
	rmdir(dir);
	return done_testing();
}
