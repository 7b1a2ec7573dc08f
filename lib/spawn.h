/* SPDX-License-Identifier: ISC */
/* Starting job and hook processes, signalling their groups, reaping them.
 *
 * spawn_start() uses vfork() + execve(): a fork() of a supervisor holding
 * a few hundred MB copies its page tables on every job (measured: 115
 * spawns/s for a 256 MB parent, against ~4,000/s with vfork).  The parent
 * is suspended until the child has exec'd or failed.  A child that fails
 * writes errno and the failed step to a close-on-exec pipe before it
 * exits; the parent reads it, or EOF once the exec closed it.  (Storing
 * errno in the shared memory would save the pipe, but where vfork() is a
 * plain fork(), under valgrind for one, the report would be lost; the
 * pipe costs 2.8 us, under 1 % of a spawn of /bin/true.)  So the caller learns of every
 * setup or exec failure synchronously, as an error:
 *     spawn: ./bin/x: No such file or directory
 * rather than as a mysterious exit status 127 later.  Such a failed child
 * is reaped before spawn_start() returns.
 *
 * The child, between vfork() and execve(), only makes async-signal-safe
 * system calls, in this order:
 *   setpgid(0, 0)                 its own process group (pgid == pid);
 *   stdin, stdout, stderr         dup2'd from the given descriptors
 *                                 (/dev/null where none is given);
 *   every other descriptor        marked close-on-exec (close_range), so
 *                                 nothing of the supervisor leaks even if
 *                                 some library opened a descriptor without
 *                                 O_CLOEXEC;
 *   setpriority, umask            when asked (nice is the absolute value);
 *   setgroups, setgid, setuid     when ids are given (resolved by the
 *                                 parent: getpwnam and getgrouplist are not
 *                                 async-signal-safe), as raw system calls
 *                                 so that they change this process only;
 *   chdir(workdir)                after the identity change, so a job can
 *                                 only start where its user may go;
 *   every signal disposition reset to SIG_DFL and the mask emptied (the
 *   parent blocks all signals across vfork() so that none of its handlers
 *   can run in the child, which shares its memory);
 *   setrlimit(RLIMIT_NOFILE)      back to the soft limit the process
 *                                 had before spawn_raise_nofile();
 *   prctl(PR_SET_PDEATHSIG, SIGKILL)  unless o->outlive: the process dies
 *                                 with its parent (after the ids change,
 *                                 which would clear it); and if the parent
 *                                 is gone already (getppid), it stops
 *                                 there, having run nothing;
 *   write(note_fd, note)          when asked (see struct spawn_opts);
 *   execve(path, argv, envp).
 * The PATH search for a bare argv[0] is done in the parent, in the PATH
 * of the job's own environment (envp), so the child only calls execve().
 *
 * The guard (guard.h), when this process runs one, hears of each group
 * spawn_start() starts (but o->outlive's) and of each child spawn_reap()
 * and spawn_wait() reap, before its pid is released: so the whole group
 * of a job or hook, not its first process alone, dies with this process.
 *
 * Reaping: spawn_start() never waits for a running child.  The loop reaps
 * with spawn_reap() after each SIGCHLD (from its signalfd), until it
 * returns 0 or -1/ECHILD; lifespan hooks are waited for by pid
 * (spawn_wait()) and so must not be in a WNOHANG loop's way: the loop
 * reaps only while no hook runs (hooks run before the loop starts and
 * after it stops), or must hand the status of a pid it does not know to
 * whoever waits for it. */
#ifndef JOBIFY_SPAWN_H
#define JOBIFY_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "jerr.h"

/* Who a process runs as: resolved in the parent. */
struct spawn_ids {
	bool change;		/* set uid, gid and groups in the child */
	uid_t uid;
	gid_t gid;
	gid_t *groups;		/* supplementary groups, for setgroups() */
	size_t ngroups;
	char *name;		/* login name, home and shell: for the job's */
	char *home;		/* base environment (jobenv_base) */
	char *shell;
};

struct spawn_opts {
	char *const *argv;	/* argv[0]: a path, or a bare word for PATH */
	char *const *envp;	/* the whole environment; its PATH is searched */
	const char *workdir;	/* NULL: the supervisor's */
	int umask;		/* -1: the supervisor's */
	bool nice_set;
	int nice;		/* absolute niceness, as setpriority() takes it */
	const struct spawn_ids *ids; /* NULL or !change: the supervisor's */
	int stdin_fd;		/* -1: /dev/null */
	int stdout_fd;		/* -1: /dev/null */
	int stderr_fd;		/* -1: /dev/null */
	/* NOTE_LEN bytes of NOTE written to NOTE_FD (-1: none) by the child
	 * with one write(2), its last step before execve: the record that
	 * the process started outlives a parent that dies right after. */
	int note_fd;
	const char *note;
	size_t note_len;
	/* May outlive this process (a sendmail of mail-to): no parent-death
	 * signal, not told to the guard. */
	bool outlive;
};

/* Initialise O to defaults: no workdir, umask, nice or ids; all three
 * standard descriptors /dev/null; dies with this process. */
void spawn_opts_init(struct spawn_opts *o);

/* Start a process.  On success *PID is its pid, which is also its process
 * group id.  On failure (PATH search, fork, or any step of the child's
 * setup, exec included) returns -1 with ERR set to
 * "spawn: WHAT: strerror" and no child left behind. */
int spawn_start(const struct spawn_opts *o, pid_t *pid, struct jerr *err);

/* Raise this process's soft limit on open descriptors to its hard limit
 * (a supervisor with many clients and jobs' pipes needs them), and have
 * every process spawn_start() starts from then on get the soft limit back
 * as it was: a job is owed the usual limit (programs that select(2) or
 * close every descriptor up to the limit expect about 1024, not the
 * hard limit of a unit's LimitNOFILE=).  Returns the soft limit now, or
 * -1 when it cannot be read. */
long spawn_raise_nofile(void);

/* The file WORD names: WORD itself when it holds a '/' (made absolute
 * against the current directory when relative), else the first
 * executable regular file DIR/WORD for DIR in PATH (relative and empty
 * entries are skipped: they would depend on the supervisor's cwd).
 * Returns a malloc'd path, or NULL with ERR set (errno ENOENT or EACCES
 * as execvp would report, ENOMEM). */
char *spawn_path_find(const char *word, const char *path, struct jerr *err);

/* Who runs a job declared with USER and GROUP (either may be NULL).  With
 * neither, or when they name the supervisor's own ids, ids->change is
 * false and name/home/shell describe the supervisor's user.  Changing to
 * other ids needs root: otherwise -1 with ERR set.  A numeric USER or
 * GROUP is taken as an id. */
int spawn_ids_resolve(const char *user, const char *group,
		      struct spawn_ids *ids, struct jerr *err);
void spawn_ids_free(struct spawn_ids *ids);

/* Send SIG to the process group PGID (a job and everything it started).
 * Returns 0, or -1 with errno (ESRCH: the group is gone). */
int spawn_kill_group(pid_t pgid, int sig);

/* Reap one exited child of any kind without blocking (told to the guard
 * first).  Returns 1 with *PID and *STATUS set, 0 when children remain
 * but none has exited, -1 with errno (ECHILD: no children at all). */
int spawn_reap(pid_t *pid, int *status);

/* The pid of one exited child, not reaped (waitid WNOWAIT): until it is
 * (spawn_wait()), its pid and the number of its process group are no
 * one else's, so what it left in its group can still be signalled
 * safely.  Returns 1 with *PID, 0 when children remain but none has
 * exited, -1 with errno (ECHILD: no children at all). */
int spawn_next_exited(pid_t *pid);

/* Wait for child PID (> 0; blocking, EINTR retried) and reap it, told
 * to the guard first.  0 or -1 with errno. */
int spawn_wait(pid_t pid, int *status);

/* Has child PID exited?  Asked without reaping it (waitid WNOWAIT), for
 * waits without a pidfd; a PID that is not, or no longer, our child
 * (ECHILD) counts as gone. */
bool spawn_exited(pid_t pid);

/* A wait status as jobify reports it: the exit code, or 128+N for a
 * death by signal N (SPEC §5). */
int spawn_status_code(int status);

/* A descriptor on /dev/null, O_RDWR | O_CLOEXEC, opened on first use and
 * kept for the life of the process.  -1 with errno on failure. */
int spawn_devnull(void);

#endif
