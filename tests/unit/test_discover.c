// SPDX-License-Identifier: MIT
/*
 * discover: default discovery recognises kube-apiserver and etcd by the
 * main package of their build info, whatever the file is called, and by
 * name otherwise; clients (etcdctl) never match. Live processes: copies of
 * Debian's etcd and of a Go fixture under other names, started here.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "discover.h"
#include "log.h"
#include "fixtures.h"

static int copy_file(const char *from, const char *to)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && chmod 755 '%s'", from, to, to);
	return system(cmd);
}

static pid_t spawn(char *const argv[])
{
	pid_t p = fork();

	if (p == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return p;
}

static bool listed(const struct target_proc *t, int n, pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (t[i].pid == pid)
			return true;
	return false;
}

static void role_of_main(void)
{
	CHECK_INT(discover__role_of_main("k8s.io/kubernetes/cmd/kube-apiserver"), DISCOVER_APISERVER);
	CHECK_INT(discover__role_of_main("example.com/fork/cmd/kube-apiserver"), DISCOVER_APISERVER);
	CHECK_INT(discover__role_of_main("go.etcd.io/etcd"), DISCOVER_ETCD);
	CHECK_INT(discover__role_of_main("go.etcd.io/etcd/server/v3"), DISCOVER_ETCD);
	CHECK_INT(discover__role_of_main("go.etcd.io/etcd/server"), DISCOVER_ETCD);
	CHECK_INT(discover__role_of_main("github.com/coreos/etcd"), DISCOVER_ETCD);
	CHECK_INT(discover__role_of_main("go.etcd.io/etcd/etcdctl/v3"), DISCOVER_NONE);
	CHECK_INT(discover__role_of_main("go.etcd.io/etcd/etcdutl/v3"), DISCOVER_NONE);
	CHECK_INT(discover__role_of_main("k8s.io/kubernetes/cmd/kube-controller-manager"), DISCOVER_NONE);
	CHECK_INT(discover__role_of_main("k8s.io/kubernetes/cmd/kube-apiserver-proxy"), DISCOVER_NONE);
	CHECK_INT(discover__role_of_main(""), DISCOVER_NONE);
	CHECK_INT(discover__role_of_main(NULL), DISCOVER_NONE);
}

/*
 * A process is its pid and its start time: discover__same holds while it
 * lives, not for another start time (a pid the kernel reused), not once
 * it has exited; its start is now, to the tick.
 */
static void same_process(void)
{
	struct target_proc t, other;
	struct timespec now;
	long long started, now_ns;
	pid_t p = fork();

	if (p == 0) {
		pause();
		_exit(0);
	}
	CHECK(p > 0, "fork: %s", strerror(errno));
	if (p <= 0)
		return;
	CHECK(discover__pid(p, &t) == 0, "discover__pid of a child: %s", cp_lasterr());
	CHECK(t.start_ticks > 0, "start time read (%llu ticks after boot)", t.start_ticks);
	CHECK(discover__same(&t), "the child is the same process while it lives");
	other = t;
	other.start_ticks++;
	CHECK(!discover__same(&other), "another start time under the same pid is another process");
	started = discover__started_ns(&t);
	clock_gettime(CLOCK_REALTIME, &now);
	now_ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	CHECK(started <= now_ns + 20000000LL && started > now_ns - 5000000000LL,
	      "its start is now, to the tick (%.3f s ago)", (now_ns - started) / 1e9);
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
	CHECK(!discover__same(&t), "a killed child is no longer the same process");

	/* a wrapper that execs the server keeps pid and start time, not the program */
	p = fork();
	if (p == 0) {
		usleep(300 * 1000);
		execl("/bin/sleep", "sleep", "5", (char *)NULL);
		_exit(127);
	}
	if (p <= 0)
		return;
	CHECK(discover__pid(p, &t) == 0, "discover__pid of a child about to exec");
	usleep(800 * 1000);
	CHECK(discover__pid(p, &other) == 0 && other.start_ticks == t.start_ticks && strstr(other.exe, "sleep"),
	      "after exec: the same pid and start time, now running '%s'", other.exe);
	CHECK(!discover__same(&t), "after exec the process no longer runs the program it was found with");
	kill(p, SIGKILL);
	waitpid(p, NULL, 0);
}

int main(void)
{
	const char *fx = getenv("FIXTURES_DIR");
	char dir[] = "/tmp/cpprof-discover.XXXXXX", store[256], ctl[256], kas[256], other[256];
	char data[256], srv[4096], curls[64], peers[64];
	struct target_proc found[DISCOVER_MAX];
	struct timespec t0, t1, t2;
	unsigned roles;
	pid_t p_etcd, p_kas, p_other;
	int n, port;

	role_of_main();
	same_process();
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return check_summary("test_discover");
	}
	if (access("/usr/bin/etcd", X_OK) || !fx) {
		printf("test_discover: SKIP live part: needs Debian's /usr/bin/etcd and FIXTURES_DIR\n");
		CHECK(0, "live part could not run (run 'make deps' and build the fixtures)");
		return check_summary("test_discover");
	}
	/* Debian's etcd as 'store-server': found by its main package, go.etcd.io/etcd */
	snprintf(store, sizeof(store), "%s/store-server", dir);
	snprintf(ctl, sizeof(ctl), "%s/etcd-client", dir);
	snprintf(kas, sizeof(kas), "%s/kube-apiserver-amd64", dir);
	snprintf(other, sizeof(other), "%s/web", dir);
	snprintf(srv, sizeof(srv), "%s/testserver-go1.23-stripped", fx);
	if (access(srv, R_OK))
		snprintf(srv, sizeof(srv), "%s/testserver-go1.19-stripped", fx);
	CHECK(copy_file("/usr/bin/etcd", store) == 0, "copy etcd");
	CHECK(copy_file("/usr/bin/etcdctl", ctl) == 0, "copy etcdctl");
	CHECK(copy_file(srv, kas) == 0, "copy %s", srv);
	CHECK(copy_file(srv, other) == 0, "copy %s", srv);

	srand((unsigned)getpid());
	port = 20000 + rand() % 20000;
	snprintf(data, sizeof(data), "--data-dir=%s/data", dir);
	snprintf(curls, sizeof(curls), "--listen-client-urls=http://127.0.0.1:%d", port);
	snprintf(peers, sizeof(peers), "--listen-peer-urls=http://127.0.0.1:%d", port + 1);
	{
		char adv[80];
		char *argv[] = { store, data, curls, peers, adv, NULL };

		snprintf(adv, sizeof(adv), "--advertise-client-urls=http://127.0.0.1:%d", port);
		p_etcd = spawn(argv);
	}
	{
		char *argv[] = { kas, "-listen", "127.0.0.1:0", NULL };

		p_kas = spawn(argv);
	}
	{
		char *argv[] = { other, "-listen", "127.0.0.1:0", NULL };

		p_other = spawn(argv);
	}
	usleep(500 * 1000);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = discover__defaults(found, DISCOVER_MAX, &roles);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(n >= 2, "found %d", n);
	CHECK(listed(found, n, p_etcd), "etcd renamed 'store-server' (pid %d) found by its main package", p_etcd);
	CHECK(listed(found, n, p_kas), "'kube-apiserver-amd64' (pid %d) found by name", p_kas);
	CHECK(!listed(found, n, p_other), "a Go server named 'web' (pid %d) is not a default target", p_other);
	CHECK(roles == (DISCOVER_APISERVER | DISCOVER_ETCD), "roles 0x%x", roles);
	n = discover__defaults(found, DISCOVER_MAX, &roles);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	CHECK(listed(found, n, p_etcd) && listed(found, n, p_kas), "a second scan (binaries cached) finds the same");
	printf("test_discover: one /proc scan took %.1f ms, a second one (cached) %.1f ms\n",
	       (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6,
	       (t2.tv_sec - t1.tv_sec) * 1e3 + (t2.tv_nsec - t1.tv_nsec) / 1e6);

	/* etcdctl is a client: never a target, even while it runs */
	{
		struct target_proc t;

		memset(&t, 0, sizeof(t));
		t.pid = p_etcd;
		CHECK(discover__pid(p_etcd, &t) == 0, "discover__pid");
		CHECK_INT(discover__role(&t), DISCOVER_ETCD);
	}
	{
		char *argv[] = { ctl, "--endpoints", curls + 21, "watch", "x", NULL };
		pid_t p_ctl = spawn(argv);
		struct target_proc t;

		usleep(300 * 1000);
		if (discover__pid(p_ctl, &t) == 0)
			CHECK_INT(discover__role(&t), DISCOVER_NONE);
		else
			CHECK(0, "etcdctl watch exited early");
		kill(p_ctl, SIGKILL);
		waitpid(p_ctl, NULL, 0);
	}
	kill(p_etcd, SIGKILL);
	kill(p_kas, SIGKILL);
	kill(p_other, SIGKILL);
	waitpid(p_etcd, NULL, 0);
	waitpid(p_kas, NULL, 0);
	waitpid(p_other, NULL, 0);
	{
		char cmd[512];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0, "rm");
	}
	return check_summary("test_discover");
}
