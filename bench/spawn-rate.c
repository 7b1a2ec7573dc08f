/* SPDX-License-Identifier: ISC */
/* Spawns per second of /bin/true from a process holding ~256 MB (touched),
 * through spawn_start() against a plain vfork+execve loop and fork+execve.
 * Not built by make; from a configured tree:
 *
 *   make lib/libjobify.a
 *   cc -O2 -std=gnu11 -I. -Ilib bench/spawn-rate.c lib/libjobify.a -o bench/spawn-rate
 *   ./bench/spawn-rate [N [MB]]        (default 5000 spawns, 256 MB)
 *
 * Each loop spawns one child and waits for it, as the loop does for a burst
 * of short jobs; clock_gettime(CLOCK_MONOTONIC) around each loop. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spawn.h"

static char *argv_true[] = { "/bin/true", NULL };
static char *envp[] = { "PATH=/usr/bin:/bin", NULL };

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
loop_spawn(long n)
{
	struct spawn_opts o;
	struct jerr err = JERR_INIT;
	double t0 = now();

	spawn_opts_init(&o);
	o.argv = argv_true;
	o.envp = envp;
	for (long i = 0; i < n; i++) {
		pid_t pid;
		int st;

		if (spawn_start(&o, &pid, &err) < 0) {
			fprintf(stderr, "%s\n", jerr_msg(&err));
			exit(1);
		}
		spawn_wait(pid, &st);
	}
	return (double)n / (now() - t0);
}

static double
loop_plain(long n, int use_fork)
{
	double t0 = now();

	for (long i = 0; i < n; i++) {
		pid_t pid = use_fork ? fork() : vfork();
		int st;

		if (pid == 0) {
			execve(argv_true[0], argv_true, envp);
			_exit(127);
		}
		if (pid < 0) {
			perror("fork");
			exit(1);
		}
		waitpid(pid, &st, 0);
	}
	return (double)n / (now() - t0);
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 5000;
	size_t mb = argc > 2 ? (size_t)atol(argv[2]) : 256;
	char *ballast = malloc(mb << 20);
	double plain, ours, forked;

	if (ballast == NULL)
		return 1;
	memset(ballast, 1, mb << 20);	/* touched: resident, page tables built */
	loop_plain(200, 0);		/* warm-up */
	plain = loop_plain(n, 0);
	ours = loop_spawn(n);
	forked = loop_plain(n / 20 > 50 ? n / 20 : 50, 1);
	printf("ballast %zu MB, %ld spawns of /bin/true\n", mb, n);
	printf("vfork+execve (plain)   %8.0f /s\n", plain);
	printf("spawn_start            %8.0f /s  (%.0f %% of plain)\n", ours, 100 * ours / plain);
	printf("fork+execve            %8.0f /s\n", forked);
	free(ballast);
	return 0;
}
