/* SPDX-License-Identifier: ISC */
/* The floor for bench/fire-latency.sh: what a fire costs on this machine
 * without a supervisor.  For each of the next SECONDS second boundaries:
 * clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME) until the boundary, then
 * vfork+execve of PROG FILE (PROG_EVEN on even seconds, PROG_ODD on odd
 * ones), with JOBIFY_SCHEDULED_AT set as jobify sets it (UTC), and wait
 * for it.  With bench/firstinsn as PROG, FILE gets one line per second.
 *
 *   cc -O2 -std=gnu11 bench/tick-spawn.c -o tick-spawn
 *   ./tick-spawn SECONDS PROG_EVEN PROG_ODD FILE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t
start(char **argv, char **envp)
{
	pid_t pid = vfork();

	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	long secs = argc == 5 ? atol(argv[1]) : 0;
	struct timespec now, at = { 0, 0 };
	char sched[64];
	char *envp[] = { "PATH=/usr/bin:/bin", sched, NULL };
	int bad = 0;

	if (secs <= 0) {
		fputs("usage: tick-spawn SECONDS PROG_EVEN PROG_ODD FILE\n", stderr);
		return 2;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	at.tv_sec = now.tv_sec + 1;
	for (long i = 0; i < secs; i++, at.tv_sec++) {
		char *cargv[] = { argv[at.tv_sec % 2 ? 3 : 2], argv[4], NULL };
		struct tm tm;
		pid_t pid;
		int st, rc;

		gmtime_r(&at.tv_sec, &tm);
		strftime(sched, sizeof sched, "JOBIFY_SCHEDULED_AT=%Y-%m-%dT%H:%M:%S+00:00", &tm);
		while ((rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &at, NULL)) == EINTR)
			;
		if (rc != 0) {
			fprintf(stderr, "clock_nanosleep: error %d\n", rc);
			return 1;
		}
		if ((pid = start(cargv, envp)) < 0 || waitpid(pid, &st, 0) < 0) {
			perror("tick-spawn");
			return 1;
		}
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	return bad;
}
