/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guard.h"
#include "spawn.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Shared between the parent and the vfork child, which runs in the
 * parent's memory until it execs or exits. */
struct child {
	const struct spawn_opts *o;
	const char *path;	/* resolved argv[0] */
	int fd[3];		/* sources for 0, 1, 2 */
	int report;		/* write end of the report pipe, >= 3 */
	pid_t parent;		/* the caller's pid */
};

/* What a child that could not exec tells its parent.  It goes through a
 * close-on-exec pipe rather than the shared memory: where vfork is a
 * plain fork (valgrind, some emulators) the memory is not shared, and a
 * failed exec must still not pass for a program that exited 127.  STAGE
 * points into our own text, the same in both processes. */
struct report {
	int err;		/* errno of the failed step */
	const char *stage;	/* its name, NULL for execve itself */
};

/* struct sigaction as the kernel's rt_sigaction takes it (x86-64 and the
 * other architectures with sa_restorer; the default action needs none). */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

void
spawn_opts_init(struct spawn_opts *o)
{
	memset(o, 0, sizeof *o);
	o->umask = -1;
	o->stdin_fd = o->stdout_fd = o->stderr_fd = o->note_fd = -1;
}

int
spawn_devnull(void)
{
	static int fd = -1;

	if (fd < 0)
		fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	return fd;
}

/* The descriptor limit children get back (spawn_raise_nofile). */
static struct rlimit child_nofile;
static bool child_nofile_set;

long
spawn_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit up = { rl.rlim_max, rl.rlim_max };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			if (!child_nofile_set) {
				child_nofile = rl;
				child_nofile_set = true;
			}
			rl.rlim_cur = rl.rlim_max;
		}
	}
	return rl.rlim_cur > (rlim_t)LONG_MAX ? LONG_MAX : (long)rl.rlim_cur;
}

static void __attribute__((noreturn))
child_fail(struct child *c, const char *stage)
{
	struct report r = { errno, stage };

	/* A few bytes to an empty pipe: one write that cannot block. */
	(void)!write(c->report, &r, sizeof r);
	_exit(127);
}

/* The vfork child.  Only system calls: no allocation, no stdio, no
 * locks, nothing that touches the parent's state but C's two fields. */
static void __attribute__((noreturn))
child_run(struct child *c)
{
	const struct spawn_opts *o = c->o;
	sigset_t none;
	struct kernel_sigaction dfl;

	if (setpgid(0, 0) < 0)
		child_fail(c, "setpgid");

	/* A source below 3 could be overwritten by an earlier dup2 (a caller
	 * passing its own stdout as a job's stderr, say): move those out of
	 * the way first.  dup2 onto 0-2 clears close-on-exec on the copy. */
	for (int i = 0; i < 3; i++)
		if (c->fd[i] < 3 && (c->fd[i] = fcntl(c->fd[i], F_DUPFD_CLOEXEC, 3)) < 0)
			child_fail(c, "dup");
	for (int i = 0; i < 3; i++)
		if (dup2(c->fd[i], i) < 0)
			child_fail(c, "dup2");
	/* Everything jobify opens is O_CLOEXEC; this also covers descriptors
	 * inherited from whoever started the supervisor, or opened by a
	 * library without the flag.  Old kernels lack it: no worse than
	 * before. */
#ifdef SYS_close_range
	(void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
#endif

	if (o->nice_set && setpriority(PRIO_PROCESS, 0, o->nice) < 0)
		child_fail(c, "nice");
	if (o->umask >= 0)
		umask((mode_t)o->umask);
	if (o->ids && o->ids->change) {
		/* Raw system calls: glibc's wrappers would try to change the
		 * ids of every thread of the (shared-memory) parent. */
		if (syscall(SYS_setgroups, o->ids->ngroups, o->ids->groups) < 0)
			child_fail(c, "setgroups");
		if (syscall(SYS_setresgid, o->ids->gid, o->ids->gid, o->ids->gid) < 0)
			child_fail(c, "setgid");
		if (syscall(SYS_setresuid, o->ids->uid, o->ids->uid, o->ids->uid) < 0)
			child_fail(c, "setuid");
	}
	if (o->workdir && chdir(o->workdir) < 0)
		child_fail(c, "chdir");

	/* The raw call: glibc's sigaction refuses its own two real-time
	 * signals, which an ignoring parent (make, a shell) passes on. */
	memset(&dfl, 0, sizeof dfl);
	dfl.handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(c, "sigprocmask");

	if (child_nofile_set && setrlimit(RLIMIT_NOFILE, &child_nofile) < 0)
		child_fail(c, "setrlimit");
	/* After the ids: a change of credentials clears it.  The parent may
	 * have died before it was set (killed while vfork held it): then
	 * nothing starts. */
	if (!o->outlive) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
			child_fail(c, "prctl");
		if (getppid() != c->parent) {
			errno = ESRCH;
			child_fail(c, "parent");
		}
	}
	if (o->note_fd >= 0)
		(void)!write(o->note_fd, o->note, o->note_len);
	execve(c->path, o->argv, o->envp);
	child_fail(c, NULL);
}

static const char *
env_path(char *const *envp)
{
	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], "PATH=", 5) == 0)
			return envp[i] + 5;
	return NULL;
}

char *
spawn_path_find(const char *word, const char *path, struct jerr *err)
{
	int found_errno = ENOENT;
	char *cand, *cwd;
	struct stat st;

	if (*word == '\0') {
		jerr_set(err, "spawn: the command is empty");
		errno = ENOENT;
		return NULL;
	}
	if (strchr(word, '/')) {
		/* The child will chdir to its workdir first. */
		if (*word == '/')
			cand = strdup(word);
		else if ((cwd = getcwd(NULL, 0)) == NULL)
			cand = NULL;
		else {
			if (asprintf(&cand, "%s/%s", cwd, word) < 0)
				cand = NULL;
			free(cwd);
		}
		if (cand == NULL)
			jerr_set(err, "spawn: %s: %s", word, strerror(errno));
		return cand;
	}
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, ":");

		if (len > 0 && *p == '/') {
			if (asprintf(&cand, "%.*s/%s", (int)len, p, word) < 0) {
				jerr_set(err, "spawn: %s: out of memory", word);
				errno = ENOMEM;
				return NULL;
			}
			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
				if (faccessat(AT_FDCWD, cand, X_OK, AT_EACCESS) == 0)
					return cand;
				found_errno = EACCES;
			}
			free(cand);
		}
		p += len;
		if (*p == ':')
			p++;
	}
	if (found_errno == EACCES)
		jerr_set(err, "spawn: %s: %s (in PATH %s)", word, strerror(EACCES), path);
	else
		jerr_set(err, "spawn: %s: command not found in PATH %s", word, path);
	errno = found_errno;
	return NULL;
}

/* The report pipe, both ends close-on-exec; the write end is moved to 3
 * or above, out of the way of the child's dup2 onto 0-2. */
static int
report_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	if (fds[1] < 3) {
		int fd = fcntl(fds[1], F_DUPFD_CLOEXEC, 3);
		int saved = errno;

		(void)close(fds[1]);
		if (fd < 0) {
			(void)close(fds[0]);
			errno = saved;
			return -1;
		}
		fds[1] = fd;
	}
	return 0;
}

/* Reap PID, a child of spawn_start's that never ran: the guard never
 * heard of it. */
static void
reap_failed(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Check O's command and fill C with what the child needs: the sources of
 * its stdin, stdout and stderr (/dev/null for those O leaves unset) and
 * argv[0] resolved in the PATH of O's environment, which is returned (the
 * caller frees it), or NULL with ERR set. */
static char *
child_prepare(const struct spawn_opts *o, struct child *c, struct jerr *err)
{
	const int want[3] = { o->stdin_fd, o->stdout_fd, o->stderr_fd };
	char *path;

	if (o->argv == NULL || o->argv[0] == NULL) {
		jerr_set(err, "spawn: no command");
		errno = EINVAL;
		return NULL;
	}
	for (int i = 0; i < 3; i++) {
		c->fd[i] = want[i] >= 0 ? want[i] : spawn_devnull();
		if (c->fd[i] < 0) {
			jerr_set(err, "spawn: /dev/null: %s", strerror(errno));
			return NULL;
		}
	}
	if ((path = spawn_path_find(o->argv[0], env_path(o->envp), err)) == NULL)
		return NULL;
	c->path = path;
	return path;
}

/* ERR for a child of O's that reported SAVED at STAGE (NULL: execve),
 * naming what the step was given where that helps. */
static void
report_explain(const struct spawn_opts *o, const char *stage, int saved,
	       struct jerr *err)
{
	if (stage == NULL)
		jerr_set(err, "spawn: %s: %s%s", o->argv[0], strerror(saved),
			 saved == ENOEXEC ? " (a script without a #! line?)" : "");
	else if (strcmp(stage, "chdir") == 0)
		jerr_set(err, "spawn: %s: chdir %s: %s", o->argv[0], o->workdir,
			 strerror(saved));
	else if (strcmp(stage, "nice") == 0)
		jerr_set(err, "spawn: %s: nice %d: %s", o->argv[0], o->nice,
			 strerror(saved));
	else if (strcmp(stage, "setuid") == 0 || strcmp(stage, "setgid") == 0 ||
		 strcmp(stage, "setgroups") == 0)
		jerr_set(err, "spawn: %s: %s %s: %s", o->argv[0], stage,
			 o->ids->name ? o->ids->name : "", strerror(saved));
	else
		jerr_set(err, "spawn: %s: %s: %s", o->argv[0], stage, strerror(saved));
}

/* In the parent, once vfork has returned P: read the report pipe REP.
 * The child has exec'd (EOF: its end closed on exec) or written why it
 * could not; after a real vfork either is already done.  Returns 0 when
 * it exec'd; -1 with errno and ERR set when it did not, the child reaped. */
static int
child_outcome(const struct spawn_opts *o, pid_t p, int rep[2], struct jerr *err)
{
	struct report r = { 0, NULL };
	ssize_t n;
	int saved;

	(void)close(rep[1]);
	do
		n = read(rep[0], &r, sizeof r);
	while (n < 0 && errno == EINTR);
	saved = errno;
	(void)close(rep[0]);
	if (n < 0) {
		/* Cannot happen on a pipe of our own; if it does, the child's
		 * fate is unknown: do not let it run unsupervised. */
		(void)kill(p, SIGKILL);
		reap_failed(p);
		jerr_set(err, "spawn: %s: reading the child's report: %s", o->argv[0],
			 strerror(saved));
		errno = saved;
		return -1;
	}
	if (n == 0)
		return 0;
	saved = n == (ssize_t)sizeof r && r.err != 0 ? r.err : EIO;
	reap_failed(p);
	if (n != (ssize_t)sizeof r)
		r.stage = "report";
	report_explain(o, r.stage, saved, err);
	errno = saved;
	return -1;
}

int
spawn_start(const struct spawn_opts *o, pid_t *pid, struct jerr *err)
{
	struct child c = { .o = o, .parent = getpid() };
	sigset_t all, old;
	char *path;
	pid_t p;
	int rc, saved, rep[2];

	*pid = -1;
	if ((path = child_prepare(o, &c, err)) == NULL)
		return -1;
	if (report_pipe(rep) < 0) {
		jerr_set(err, "spawn: %s: pipe: %s", o->argv[0], strerror(errno));
		free(path);
		return -1;
	}
	c.report = rep[1];

	/* With every signal blocked, none of the supervisor's handlers can
	 * run in the child, which shares its memory until execve.  The
	 * vfork stays here, in the frame that outlives the child: nothing
	 * but child_run, which never returns, runs in the child. */
	sigfillset(&all);
	if (sigprocmask(SIG_SETMASK, &all, &old) < 0) {
		saved = errno;
		jerr_set(err, "spawn: sigprocmask: %s", strerror(saved));
		errno = saved;
		goto fail_pipe;
	}
	p = vfork();
	if (p == 0)
		child_run(&c);
	saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (p < 0) {
		jerr_set(err, "spawn: %s: vfork: %s", o->argv[0], strerror(saved));
		errno = saved;
		goto fail_pipe;
	}
	rc = child_outcome(o, p, rep, err);
	saved = errno;
	free(path);
	if (rc < 0) {
		errno = saved;
		return -1;
	}
	if (!o->outlive)
		guard_add(p);
	*pid = p;
	return 0;

fail_pipe:
	saved = errno;
	(void)close(rep[0]);
	(void)close(rep[1]);
	free(path);
	errno = saved;
	return -1;
}

static int
id_parse(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return errno || *end ? -1 : 0;
}

/* Look USER up (a name or a number; NULL: the effective user, EUID, who
 * may have no entry) and keep its name, home and shell in IDS, and its
 * uid and gid too when USER was given.  -1 with ERR set when USER does
 * not exist or memory runs out (IDS may then hold copies to free). */
static int
ids_user(const char *user, uid_t euid, struct spawn_ids *ids, struct jerr *err)
{
	struct passwd *pw;
	unsigned long n;

	errno = 0;
	if (user)
		pw = id_parse(user, &n) == 0 ? getpwuid((uid_t)n) : getpwnam(user);
	else
		pw = getpwuid(euid);
	if (pw == NULL) {
		if (user == NULL)
			return 0;
		if (errno)
			jerr_set(err, "user '%s': %s", user, strerror(errno));
		else
			jerr_set(err, "user '%s': no such user", user);
		return -1;
	}
	if ((ids->name = strdup(pw->pw_name)) == NULL ||
	    (ids->home = strdup(pw->pw_dir)) == NULL ||
	    (ids->shell = strdup(*pw->pw_shell ? pw->pw_shell : "/bin/sh")) == NULL) {
		jerr_set(err, "user: out of memory");
		return -1;
	}
	if (user) {
		ids->uid = pw->pw_uid;
		ids->gid = pw->pw_gid;
	}
	return 0;
}

/* Look GROUP up (a name or a number) and make it IDS's gid. */
static int
ids_group(const char *group, struct spawn_ids *ids, struct jerr *err)
{
	struct group *gr;
	unsigned long n;

	errno = 0;
	gr = id_parse(group, &n) == 0 ? getgrgid((gid_t)n) : getgrnam(group);
	if (gr == NULL) {
		if (errno)
			jerr_set(err, "group '%s': %s", group, strerror(errno));
		else
			jerr_set(err, "group '%s': no such group", group);
		return -1;
	}
	ids->gid = gr->gr_gid;
	return 0;
}

/* IDS's supplementary groups: those of the user IDS names when a user was
 * asked for (WITH_USER), else IDS's gid alone, none of root's.  -1 when
 * memory runs out. */
static int
ids_groups(bool with_user, struct spawn_ids *ids)
{
	/* getgrouplist says how many groups there are when the array is too
	 * small; the count can grow between calls, hence the loop. */
	int ng = 16;

	if (!with_user) {
		if ((ids->groups = malloc(sizeof *ids->groups)) == NULL)
			return -1;
		ids->groups[0] = ids->gid;
		ids->ngroups = 1;
		return 0;
	}
	for (;;) {
		gid_t *g = reallocarray(ids->groups, (size_t)ng, sizeof *g);
		int want = ng;

		if (g == NULL)
			return -1;
		ids->groups = g;
		if (getgrouplist(ids->name, ids->gid, g, &want) >= 0) {
			ids->ngroups = (size_t)want;
			return 0;
		}
		if (want <= ng)
			want = ng * 2;
		ng = want;
	}
}

int
spawn_ids_resolve(const char *user, const char *group, struct spawn_ids *ids,
		  struct jerr *err)
{
	uid_t euid = geteuid();
	gid_t egid = getegid();

	memset(ids, 0, sizeof *ids);
	ids->uid = euid;
	ids->gid = egid;
	if (ids_user(user, euid, ids, err) < 0)
		goto fail;
	if (group && ids_group(group, ids, err) < 0)
		goto fail;
	if (!user && !group)
		return 0;
	if (ids->uid == euid && ids->gid == egid && !(euid == 0 && user))
		return 0;
	if (euid != 0) {
		jerr_set(err, "%s%s%s%s: running a job as another user or group needs "
			 "a supervisor running as root",
			 user ? "user '" : "", user ? user : "", user ? "'" : "",
			 group ? (user ? ", group" : "group") : "");
		goto fail;
	}
	ids->change = true;
	if (ids_groups(user != NULL, ids) < 0) {
		jerr_set(err, "user: out of memory");
		goto fail;
	}
	return 0;
fail:
	spawn_ids_free(ids);
	return -1;
}

void
spawn_ids_free(struct spawn_ids *ids)
{
	free(ids->groups);
	free(ids->name);
	free(ids->home);
	free(ids->shell);
	memset(ids, 0, sizeof *ids);
}

int
spawn_kill_group(pid_t pgid, int sig)
{
	if (pgid <= 1) {
		/* kill(-1) or kill(0) would hit far more than one job. */
		errno = EINVAL;
		return -1;
	}
	return kill(-pgid, sig);
}

/* Reap CHILD, which has exited: the guard forgets its group first, while
 * the zombie still holds the number, which no new group can take then. */
static int
reap_exited(pid_t child, int *status)
{
	pid_t p;

	guard_del(child);
	do
		p = waitpid(child, status, 0);
	while (p < 0 && errno == EINTR);
	return p < 0 ? -1 : 0;
}

int
spawn_next_exited(pid_t *pid)
{
	siginfo_t si;
	int rc;

	memset(&si, 0, sizeof si);
	do
		rc = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -1;
	if (si.si_pid == 0)
		return 0;
	*pid = si.si_pid;
	return 1;
}

int
spawn_reap(pid_t *pid, int *status)
{
	pid_t child;
	int rc = spawn_next_exited(&child);

	if (rc <= 0)
		return rc;
	if (reap_exited(child, status) < 0)
		return -1;
	*pid = child;
	return 1;
}

bool
spawn_exited(pid_t pid)
{
	siginfo_t si;

	if (pid <= 0)
		return true;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno == ECHILD;
	return si.si_pid == pid;
}

int
spawn_wait(pid_t pid, int *status)
{
	siginfo_t si;
	int rc;

	memset(&si, 0, sizeof si);
	do
		rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -1;
	return reap_exited(pid, status);
}

int
spawn_status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}
