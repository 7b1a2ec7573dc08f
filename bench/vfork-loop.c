/* SPDX-License-Identifier: ISC */
/* The baseline of bench/burst.sh: how fast this machine starts N short
 * processes with nothing but vfork+execve, in two shapes:
 *
 *   burst   vfork+execve N times, then reap them all (the shape of a
 *           supervisor firing N routes in one turn); the clock stops at
 *           the last reap
 *   serial  vfork+execve, waitpid, N times (as bench/spawn-rate.c does)
 *
 *   cc -O2 -std=gnu11 bench/vfork-loop.c -o vfork-loop
 *   ./vfork-loop [-s burst|serial] N [PROG [ARG]]   (default: both shapes,
 *                                                    PROG /bin/true)
 *
 * One line per shape, key=value, times in seconds from CLOCK_MONOTONIC:
 *   shape=burst n=1000 spawned=0.210 total=0.305 rate=3279 cpu=0.120
 * (spawned: when the last vfork returned; rate: n / total; cpu: this
 * process's own user+system time, the children's not included). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *envp[] = { "PATH=/usr/bin:/bin", NULL };

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static pid_t
start(char **argv)
{
	pid_t pid = vfork();

	if (pid == 0) {
		execve(argv[0], argv, envp);
		_exit(127);
	}
	if (pid < 0) {
		perror("vfork");
		exit(1);
	}
	return pid;
}

static int
check(int st)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "vfork-loop: a child failed (wait status %#x)\n", st);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *shape = NULL;
	long n;
	char *cargv[3] = { "/bin/true", NULL, NULL };
	double t0, t1, t2, c0;
	int st, opt, bad = 0;
	long got;

	while ((opt = getopt(argc, argv, "s:")) != -1)
		if (opt != 's' || (strcmp(optarg, "burst") != 0 && strcmp(optarg, "serial") != 0))
			goto usage;
		else
			shape = optarg;
	if (optind >= argc || (n = atol(argv[optind])) <= 0 || argc - optind > 3)
		goto usage;
	if (argc - optind > 1)
		cargv[0] = argv[optind + 1];
	if (argc - optind > 2)
		cargv[1] = argv[optind + 2];
	for (int i = 0; i < 50; i++)	/* warm-up: page cache, dentries */
		bad |= waitpid(start(cargv), &st, 0) < 0 || check(st);

	if (shape && strcmp(shape, "burst") != 0)
		goto serial;
	c0 = cpu();
	t0 = now();
	for (long i = 0; i < n; i++)
		start(cargv);
	t1 = now();
	for (got = 0; got < n; got++) {
		if (wait(&st) < 0) {
			perror("wait");
			return 1;
		}
		bad |= check(st);
	}
	t2 = now();
	printf("shape=burst n=%ld spawned=%.4f total=%.4f rate=%.0f cpu=%.3f\n", n, t1 - t0,
	       t2 - t0, (double)n / (t2 - t0), cpu() - c0);

serial:
	if (shape && strcmp(shape, "serial") != 0)
		return bad;
	c0 = cpu();
	t0 = now();
	for (long i = 0; i < n; i++) {
		if (waitpid(start(cargv), &st, 0) < 0) {
			perror("waitpid");
			return 1;
		}
		bad |= check(st);
	}
	t2 = now();
	printf("shape=serial n=%ld spawned=%.4f total=%.4f rate=%.0f cpu=%.3f\n", n, t2 - t0,
	       t2 - t0, (double)n / (t2 - t0), cpu() - c0);
	return bad;
usage:
	fputs("usage: vfork-loop [-s burst|serial] N [PROG [ARG]]\n", stderr);
	return 2;
}
