/* SPDX-License-Identifier: ISC */
/* Starting processes: process group, argv, env, cwd, umask, nice, ids,
 * descriptors, signals, exec failures, killing groups, reaping.  Real
 * processes, no sleeps: the tests wait on pipes and on children.
 *
 * The program doubles as the helper the children run (argv[1] = --fds,
 * --signals, --ids) to report what they inherited. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "strv.h"
#include "tap.h"

static char self[PATH_MAX];
static char *envp[] = { "PATH=/usr/bin:/bin", "A=1", "B=two words", NULL };

/* Helper: every open descriptor and what it points at. */
static int
helper_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return 1;
	while ((e = readdir(d)) != NULL) {
		char link[300], target[PATH_MAX];
		ssize_t n;

		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof target - 1);
		target[n < 0 ? 0 : n] = '\0';
		/* pipes are named by inode: keep only their kind */
		if (strncmp(target, "pipe:", 5) == 0)
			target[4] = '\0';
		printf("%s %s\n", e->d_name, target);
	}
	closedir(d);
	return 0;
}

/* Helper: the blocked and ignored signal sets. */
static int
helper_signals(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	if (f == NULL)
		return 1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "SigBlk:", 7) == 0 || strncmp(line, "SigIgn:", 7) == 0)
			fputs(line, stdout);
	fclose(f);
	return 0;
}

/* Helper: real and effective ids, groups. */
static int
helper_ids(void)
{
	gid_t g[64];
	int n = getgroups(64, g);

	printf("%u %u %u %u", (unsigned)getuid(), (unsigned)geteuid(),
	       (unsigned)getgid(), (unsigned)getegid());
	for (int i = 0; i < n; i++)
		printf(" %u", (unsigned)g[i]);
	putchar('\n');
	return 0;
}

/* Read FD to EOF into a new string. */
static char *
slurp(int fd)
{
	size_t len = 0, cap = 256;
	char *buf = malloc(cap);
	ssize_t n;

	for (;;) {
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

/* Run O with stdout (and stderr, when MERGE) on a pipe; the output and
 * the wait status.  NULL when spawn_start failed (ERR set). */
static char *
run(struct spawn_opts *o, bool merge, int *status, struct jerr *err)
{
	int p[2];
	pid_t pid;
	char *out;

	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	o->stdout_fd = p[1];
	if (merge)
		o->stderr_fd = p[1];
	if (spawn_start(o, &pid, err) < 0) {
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	close(p[1]);
	out = slurp(p[0]);
	close(p[0]);
	if (spawn_wait(pid, status) < 0)
		*status = -1;
	return out;
}

static char *
run_sh(const char *script, int *status, struct jerr *err)
{
	char *argv[] = { "/bin/sh", "-c", (char *)script, "zero", "a", "b c", NULL };
	struct spawn_opts o;

	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	return run(&o, true, status, err);
}

static size_t
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void
test_basics(void)
{
	struct jerr err = JERR_INIT;
	char *out, want[64];
	int status;
	pid_t pid;
	struct spawn_opts o;

	out = run_sh("printf '%s|' \"$0\" \"$@\"", &status, &err);
	is_str(out, "zero|a|b c|", "argv reaches the process word for word");
	is_int(spawn_status_code(status), 0, "exit 0");
	free(out);

	out = run_sh("env", &status, &err);
	ok(out && strstr(out, "A=1\n") && strstr(out, "B=two words\n") &&
	   strstr(out, "PATH=/usr/bin:/bin\n") && !strstr(out, "HOME="),
	   "the environment is exactly envp (sh adds only PWD)");
	free(out);

	{
		char *argv[] = { "env", NULL };

		spawn_opts_init(&o);
		o.argv = argv;
		o.envp = envp;
		out = run(&o, false, &status, &err);
		is_str(out, "PATH=/usr/bin:/bin\nA=1\nB=two words\n",
		       "a bare word is found in envp's PATH; env is exact");
		free(out);
	}

	{
		int p[2];
		char *argv[] = { "/bin/sh", "-c", "cut -d' ' -f5 /proc/self/stat", NULL };

		spawn_opts_init(&o);
		o.argv = argv;
		o.envp = envp;
		if (pipe2(p, O_CLOEXEC) < 0)
			return;
		o.stdout_fd = p[1];
		ok(spawn_start(&o, &pid, &err) == 0, "spawn");
		close(p[1]);
		out = slurp(p[0]);
		close(p[0]);
		spawn_wait(pid, &status);
		snprintf(want, sizeof want, "%d\n", (int)pid);
		is_str(out, want, "the job leads its own process group (pgid = pid)");
		ok((int)pid != (int)getpgrp(), "not the supervisor's group");
		free(out);
	}

	out = run_sh("exit 3", &status, &err);
	is_int(spawn_status_code(status), 3, "exit status 3");
	free(out);
	out = run_sh("kill -9 $$", &status, &err);
	is_int(spawn_status_code(status), 137, "killed by SIGKILL: 128+9");
	free(out);
	jerr_free(&err);
}

static void
test_settings(void)
{
	char dir[] = "/tmp/jobify-spawn-XXXXXX";
	char *argv[] = { "/bin/sh", "-c", "pwd; umask; nice", NULL };
	struct jerr err = JERR_INIT;
	struct spawn_opts o;
	char *out, want[PATH_MAX + 64];
	int status, prio;

	if (mkdtemp(dir) == NULL)
		return;
	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0) + 3;
	if (prio > 19)
		prio = 19;
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	o.workdir = dir;
	o.umask = 027;
	o.nice_set = true;
	o.nice = prio;
	out = run(&o, true, &status, &err);
	snprintf(want, sizeof want, "%s\n0027\n%d\n", dir, prio);
	is_str(out, want, "workdir, umask and nice applied");
	free(out);

	{
		char *rel[] = { "./x.sh", NULL };
		char *cwd = getcwd(NULL, 0);
		char *found;
		int fd;

		snprintf(want, sizeof want, "%s/x.sh", dir);
		fd = open(want, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
		if (fd >= 0) {
			ok(write(fd, "#!/bin/sh\necho script $0\n", 25) == 25, "script written");
			close(fd);
		}
		/* A relative argv[0] is the supervisor's cwd's, not the workdir's. */
		ok(chdir(dir) == 0, "cd to the temporary dir");
		o.argv = rel;
		o.workdir = "/";
		o.nice_set = false;
		out = run(&o, false, &status, &err);
		snprintf(want, sizeof want, "script %s/./x.sh\n", dir);
		is_str(out, want, "a relative path is resolved before the chdir");
		free(out);
		found = spawn_path_find("x.sh", ".:/nonexistent", &err);
		ok(found == NULL && errno == ENOENT, "relative PATH entries are skipped");
		is_str(jerr_msg(&err), "spawn: x.sh: command not found in PATH .:/nonexistent",
		       "not found in PATH");
		free(found);
		found = spawn_path_find("x.sh", dir, &err);
		snprintf(want, sizeof want, "%s/x.sh", dir);
		is_str(found, want, "found in an absolute PATH entry");
		free(found);

		ok(chmod("x.sh", 0644) == 0, "x.sh made not executable");
		found = spawn_path_find("x.sh", dir, &err);
		ok(found == NULL && errno == EACCES, "a non-executable match: EACCES");
		free(found);
		o.argv = rel;
		ok(run(&o, false, &status, &err) == NULL, "exec of a non-executable file fails");
		is_str(jerr_msg(&err), "spawn: ./x.sh: Permission denied", "with EACCES");

		ok(chmod("x.sh", 0755) == 0 && truncate("x.sh", 0) == 0 &&
		   (fd = open("x.sh", O_WRONLY | O_CLOEXEC)) >= 0 &&
		   write(fd, "echo hi\n", 8) == 8 && close(fd) == 0,
		   "a script without #!");
		ok(run(&o, false, &status, &err) == NULL, "is not run through sh");
		is_str(jerr_msg(&err), "spawn: ./x.sh: Exec format error (a script without a #! line?)",
		       "ENOEXEC explained");
		unlink("x.sh");
		ok(chdir(cwd) == 0, "back to the cwd");
		free(cwd);
	}
	rmdir(dir);
	jerr_free(&err);
}

static void
test_failures(void)
{
	struct jerr err = JERR_INIT;
	struct spawn_opts o;
	int status;
	char *noent[] = { "./no/such/file", NULL };
	char *nopath[] = { "no-such-command-jobify", NULL };
	char *sh[] = { "/bin/sh", "-c", "exit 0", NULL };

	spawn_opts_init(&o);
	o.envp = envp;
	o.argv = noent;
	ok(run(&o, false, &status, &err) == NULL, "exec of a missing file fails at spawn");
	is_str(jerr_msg(&err), "spawn: ./no/such/file: No such file or directory",
	       "reported as an error, not as exit 127");

	o.argv = nopath;
	ok(run(&o, false, &status, &err) == NULL, "a bare word not in PATH fails");
	is_str(jerr_msg(&err), "spawn: no-such-command-jobify: command not found in PATH /usr/bin:/bin",
	       "naming the PATH searched");

	o.argv = sh;
	o.workdir = "/nonexistent/dir";
	ok(run(&o, false, &status, &err) == NULL, "a missing workdir fails");
	is_str(jerr_msg(&err), "spawn: /bin/sh: chdir /nonexistent/dir: No such file or directory",
	       "naming the directory");
	o.workdir = NULL;

	{
		char *none[] = { NULL };

		o.argv = none;
		ok(spawn_start(&o, &(pid_t){ 0 }, &err) < 0, "an empty argv is refused");
	}
	jerr_free(&err);
}

static void
test_fds(void)
{
	struct jerr err = JERR_INIT;
	struct spawn_opts o;
	char *argv[] = { self, "--fds", NULL };
	char *out;
	int status, leak, saved0;
	size_t before = count_fds();

	/* A descriptor opened without O_CLOEXEC, as a careless library
	 * might: it must not reach the job either. */
	leak = open("/dev/null", O_RDONLY);
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	out = run(&o, false, &status, &err);
	is_str(out, "0 /dev/null\n1 pipe\n2 /dev/null\n",
	       "only 0, 1 and 2: stdin /dev/null, stdout the pipe, nothing leaked");
	free(out);
	close(leak);

	/* A source descriptor below 3 that an earlier dup2 would clobber:
	 * the job's stdout is the supervisor's fd 0. */
	saved0 = fcntl(0, F_DUPFD_CLOEXEC, 3);
	{
		int p[2];
		pid_t pid;

		if (pipe2(p, O_CLOEXEC) == 0 && dup2(p[1], 0) == 0) {
			close(p[1]);
			o.stdout_fd = 0;
			o.stderr_fd = -1;
			ok(spawn_start(&o, &pid, &err) == 0, "spawn with stdout from fd 0");
			dup2(saved0, 0);
			out = slurp(p[0]);
			close(p[0]);
			spawn_wait(pid, &status);
			is_str(out, "0 /dev/null\n1 pipe\n2 /dev/null\n",
			       "a source below 3 is not clobbered by stdin's dup2");
			free(out);
		}
	}
	close(saved0);

	for (int i = 0; i < 50; i++) {
		free(run_sh("true", &status, &err));
		free(run_sh("exec /no/such", &status, &err));
	}
	{
		char *missing[] = { "/no/such", NULL };

		o.argv = missing;
		o.stdout_fd = -1;
		for (int i = 0; i < 50; i++)
			(void)spawn_start(&o, &(pid_t){ 0 }, &err);
	}
	/* +1: spawn_devnull's descriptor, opened once */
	ok(count_fds() <= before + 1, "no descriptor leaked in the parent after 150 spawns "
	   "(%zu before, %zu after)", before, count_fds());
	jerr_free(&err);
}

static void
handler(int sig)
{
	(void)sig;
}

static void
test_signals(void)
{
	struct jerr err = JERR_INIT;
	struct spawn_opts o;
	char *argv[] = { self, "--signals", NULL };
	struct sigaction sa = { 0 }, ign = { 0 };
	sigset_t set, old;
	char *out;
	int status;

	sa.sa_handler = handler;
	ign.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	sigaction(SIGUSR1, &ign, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);

	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	out = run(&o, false, &status, &err);
	is_str(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n",
	       "no signal blocked or ignored in the job");
	free(out);

	sigprocmask(SIG_SETMASK, &old, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	jerr_free(&err);
}

static void
test_kill_group(void)
{
	struct jerr err = JERR_INIT;
	struct spawn_opts o;
	char *argv[] = { "/bin/sh", "-c", "sleep 100 & sleep 100 & echo started; wait", NULL };
	char buf[16];
	int p[2], status;
	pid_t pid;
	ssize_t n;
	char *rest;

	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	o.stdout_fd = p[1];
	ok(spawn_start(&o, &pid, &err) == 0, "a job with two grandchildren");
	close(p[1]);
	n = read(p[0], buf, 8);
	ok(n == 8 && memcmp(buf, "started\n", 8) == 0, "they started");
	ok(spawn_kill_group(pid, SIGTERM) == 0, "SIGTERM to the group");
	/* EOF only once every holder of the pipe, the sleeps too, is gone. */
	rest = slurp(p[0]);
	is_str(rest, "", "the whole group is gone (EOF on its stdout)");
	free(rest);
	close(p[0]);
	spawn_wait(pid, &status);
	is_int(spawn_status_code(status), 128 + SIGTERM, "the job died of SIGTERM");
	/* The sleeps may linger as zombies of init for a while: only a group
	 * whose members were all reaped is sure to be gone. */
	argv[2] = "exit 0";
	o.stdout_fd = -1;
	ok(spawn_start(&o, &pid, &err) == 0 && spawn_wait(pid, &status) == 0, "a job, reaped");
	ok(spawn_kill_group(pid, SIGTERM) < 0 && errno == ESRCH, "its gone group: ESRCH");
	ok(spawn_kill_group(0, SIGTERM) < 0 && errno == EINVAL &&
	   spawn_kill_group(1, SIGTERM) < 0, "pgid 0 and 1 refused");
	jerr_free(&err);
}

/* spawn_next_exited: the leader of a job that left a process behind in
 * its group has exited; told so without being reaped, the group can
 * still be killed by its number, which no new process can hold yet. */
static void
test_next_exited(void)
{
	struct jerr err = JERR_INIT;
	struct spawn_opts o;
	char *argv[] = { "/bin/sh", "-c", "sleep 100 & echo started", NULL };
	char buf[16], *rest;
	int p[2], status;
	pid_t pid, got = 0, again = 0;
	siginfo_t si;

	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	o.stdout_fd = p[1];
	ok(spawn_start(&o, &pid, &err) == 0, "a job that leaves a sleep behind and exits");
	close(p[1]);
	ok(read(p[0], buf, 8) == 8, "it started");
	memset(&si, 0, sizeof si);
	(void)waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	ok(spawn_next_exited(&got) == 1 && got == pid, "spawn_next_exited: the leader exited");
	ok(spawn_next_exited(&again) == 1 && again == pid && kill(pid, 0) == 0,
	   "not reaped: told again, its pid still its own");
	ok(spawn_kill_group(pid, SIGKILL) == 0, "its group killed before the reap");
	rest = slurp(p[0]);	/* EOF once the sleep, which holds the pipe, is gone */
	is_str(rest, "", "what it left behind is gone");
	free(rest);
	close(p[0]);
	ok(spawn_wait(pid, &status) == 0 && spawn_status_code(status) == 0,
	   "then reaped, with its status");
	ok(spawn_next_exited(&got) < 0 && errno == ECHILD, "then no child: ECHILD");
	jerr_free(&err);
}

static void
test_reap(void)
{
	struct jerr err = JERR_INIT;
	struct spawn_opts o;
	char *argv[] = { "/bin/sh", "-c", "exit $0", "0", NULL };
	char code[3][2] = { "5", "6", "7" };
	pid_t pids[3], pid;
	int status, got = 0, sum = 0;
	siginfo_t si;

	spawn_opts_init(&o);
	o.envp = envp;
	o.argv = argv;
	for (int i = 0; i < 3; i++) {
		argv[3] = code[i];
		if (spawn_start(&o, &pids[i], &err) < 0)
			return;
	}
	while (got < 3) {
		int rc;

		/* Block until one is ready, without reaping it: the loop's
		 * signalfd wakeup, in a test. */
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0)
			break;
		while ((rc = spawn_reap(&pid, &status)) == 1) {
			got++;
			sum += spawn_status_code(status);
		}
		if (rc < 0)
			break;
	}
	is_int(got, 3, "spawn_reap collects every child");
	is_int(sum, 18, "with their statuses");
	ok(spawn_reap(&pid, &status) < 0 && errno == ECHILD, "then ECHILD");

	/* spawn_exited: running, then exited but not reaped, then gone. */
	argv[2] = "read x; exit 3";
	{
		int p[2];

		if (pipe(p) < 0)
			return;
		o.stdin_fd = p[0];
		if (spawn_start(&o, &pid, &err) < 0) {
			close(p[0]);
			close(p[1]);
			return;
		}
		close(p[0]);
		ok(!spawn_exited(pid), "spawn_exited: not while it runs");
		close(p[1]);	/* EOF: it exits */
		memset(&si, 0, sizeof si);
		(void)waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
		ok(spawn_exited(pid), "spawn_exited: once it has exited");
		ok(spawn_exited(pid) && spawn_wait(pid, &status) == 0 &&
		   spawn_status_code(status) == 3, "without reaping it: spawn_wait still gets its status");
		ok(spawn_exited(pid), "spawn_exited: a pid no longer ours counts as gone");
	}
	jerr_free(&err);
}

/*
 * A copy of this program that nobody may run: the build tree may be under
 * a directory only root can enter (a clone in /root), and the user a job
 * runs as must reach its command.  DIR is a template; 0 or -1.
 */
static int
copy_self_reachable(char *dir, char *path, size_t size)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = -1;

	if (!mkdtemp(dir))
		return -1;
	snprintf(path, size, "%s/test_spawn", dir);
	if (chmod(dir, 0755) < 0 || (in = open(self, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out >= 0) {
		while ((n = read(in, buf, sizeof buf)) > 0)
			if (write(out, buf, (size_t)n) != n)
				break;
		rc = n == 0 && fchmod(out, 0755) == 0 ? 0 : -1;
		if (close(out) < 0)
			rc = -1;
	}
	close(in);
	return rc;
}

static void
test_ids(void)
{
	struct jerr err = JERR_INIT;
	struct spawn_ids ids;
	struct spawn_opts o;
	char *argv[] = { self, "--ids", NULL };
	char copy_dir[] = "/tmp/jobify-self-XXXXXX";
	char copy[sizeof copy_dir + 16];
	char *out;
	int status;

	status = spawn_ids_resolve(NULL, NULL, &ids, &err);
	ok(status == 0 && !ids.change && ids.name,
	   "no user: the supervisor's own, unchanged (%s)", ids.name ? ids.name : "?");
	spawn_ids_free(&ids);
	ok(spawn_ids_resolve("no-such-user-jobify", NULL, &ids, &err) < 0, "unknown user");
	is_str(jerr_msg(&err), "user 'no-such-user-jobify': no such user", "named");
	ok(spawn_ids_resolve(NULL, "no-such-group-jobify", &ids, &err) < 0, "unknown group");
	is_str(jerr_msg(&err), "group 'no-such-group-jobify': no such group", "named");

	if (geteuid() != 0) {
		ok(spawn_ids_resolve("root", NULL, &ids, &err) < 0, "another user needs root");
		printf("# not root: skipping the identity change\n");
		jerr_free(&err);
		return;
	}
	if (!ok(spawn_ids_resolve("nobody", NULL, &ids, &err) == 0 && ids.change,
		"root: nobody resolved (%s)", jerr_msg(&err))) {
		jerr_free(&err);
		return;
	}
	spawn_opts_init(&o);
	o.argv = argv;
	o.envp = envp;
	o.ids = &ids;
	ok(copy_self_reachable(copy_dir, copy, sizeof copy) == 0,
	   "a copy of the test that nobody may run: %s", copy);
	argv[0] = copy;
	out = run(&o, false, &status, &err);
	argv[0] = self;
	(void)unlink(copy);
	(void)rmdir(copy_dir);
	{
		char want[128];
		int n = snprintf(want, sizeof want, "%u %u %u %u", (unsigned)ids.uid,
				 (unsigned)ids.uid, (unsigned)ids.gid, (unsigned)ids.gid);

		for (size_t i = 0; i < ids.ngroups; i++)
			n += snprintf(want + n, sizeof want - (size_t)n, " %u",
				      (unsigned)ids.groups[i]);
		snprintf(want + n, sizeof want - (size_t)n, "\n");
		is_str(out, want, "uid, gid and groups are nobody's");
	}
	free(out);
	ok(getuid() == 0 && geteuid() == 0, "the parent is still root");
	spawn_ids_free(&ids);

	ok(spawn_ids_resolve(NULL, "nogroup", &ids, &err) == 0 && ids.change &&
	   ids.uid == 0 && ids.ngroups == 1, "a group alone");
	o.ids = &ids;
	out = run(&o, false, &status, &err);
	{
		char want[64];

		snprintf(want, sizeof want, "0 0 %u %u %u\n", (unsigned)ids.gid,
			 (unsigned)ids.gid, (unsigned)ids.gid);
		is_str(out, want, "root with only that group");
	}
	free(out);
	spawn_ids_free(&ids);

	{
		char dir[] = "/tmp/jobify-ids-XXXXXX";
		char *sh[] = { "/bin/sh", "-c", "true", NULL };

		ok(spawn_ids_resolve("nobody", NULL, &ids, &err) == 0, "nobody again");
		if (mkdtemp(dir)) {
			o.argv = sh;
			o.ids = &ids;
			o.workdir = dir;	/* 0700, root's */
			ok(run(&o, false, &status, &err) == NULL,
			   "a workdir the user may not enter fails");
			ok(strstr(jerr_msg(&err), "chdir") &&
			   strstr(jerr_msg(&err), "Permission denied"), "%s", jerr_msg(&err));
			rmdir(dir);
		}
		spawn_ids_free(&ids);
	}
	jerr_free(&err);
}

/* In H, a subreaper: a parent P that spawns a sleep (dies with it) and
 * another with outlive, and is killed.  Exits 0 when the first went with
 * P and the second did not, 1 (with a message) otherwise. */
static int __attribute__((noreturn))
pdeath_h(void)
{
	char *argv[] = { "sleep", "1000", NULL };
	int fds[2], rc = 1;
	pid_t pp, kids[2] = { -1, -1 };

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 || pipe(fds) < 0)
		_exit(2);
	if ((pp = fork()) == 0) {
		struct jerr err = JERR_INIT;
		struct spawn_opts o;

		spawn_opts_init(&o);
		o.argv = argv;
		o.envp = envp;
		for (int i = 0; i < 2; i++) {
			o.outlive = i == 1;
			if (spawn_start(&o, &kids[i], &err) < 0)
				_exit(3);
		}
		(void)!write(fds[1], kids, sizeof kids);
		for (;;)
			pause();
	}
	if (pp < 0 || read(fds[0], kids, sizeof kids) != (ssize_t)sizeof kids)
		_exit(4);
	kill(pp, SIGKILL);
	for (int i = 0; i < 500; i++) {
		/* Orphans come here: reaped, a dead one is seen gone. */
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (kill(kids[0], 0) < 0) {
			rc = 0;
			break;
		}
		(void)poll(NULL, 0, 10);
	}
	if (rc)
		printf("# the first sleep is still there after 5 s\n");
	else if (kill(kids[1], 0) < 0) {
		printf("# the sleep with outlive died too\n");
		rc = 1;
	}
	kill(kids[0], SIGKILL);
	kill(kids[1], SIGKILL);
	while (wait(NULL) > 0)
		;
	_exit(rc);
}

static void
test_pdeathsig(void)
{
	pid_t h = fork();
	int status = -1;

	if (h == 0)
		pdeath_h();
	ok(h > 0 && waitpid(h, &status, 0) == h && WIFEXITED(status) &&
	   WEXITSTATUS(status) == 0,
	   "a process dies with the one that spawned it; with outlive, it does not");
}

int
main(int argc, char **argv)
{
	ssize_t n;

	if (argc == 2 && strcmp(argv[1], "--fds") == 0)
		return helper_fds();
	if (argc == 2 && strcmp(argv[1], "--signals") == 0)
		return helper_signals();
	if (argc == 2 && strcmp(argv[1], "--ids") == 0)
		return helper_ids();
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) < 0)
		return 1;
	self[n] = '\0';
	setvbuf(stdout, NULL, _IONBF, 0);

	test_basics();
	test_settings();
	test_failures();
	test_fds();
	test_signals();
	test_kill_group();
	test_next_exited();
	test_reap();
	test_ids();
	test_pdeathsig();
	ok(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, "no child left: no zombie");
	return done_testing();
}
