/* SPDX-License-Identifier: ISC */
/* The job side of bench/fire-latency.sh: the first thing main does is read
 * CLOCK_REALTIME; it then appends one line to the file named by argv[1]
 * with a single O_APPEND write:
 *
 *   NS SCHEDULED_AT
 *
 * NS is that time in nanoseconds since the epoch, SCHEDULED_AT is
 * $JOBIFY_SCHEDULED_AT ("-" when unset), read after the clock.  Concurrent
 * jobs may share the file: each line is one write(2) on an O_APPEND
 * descriptor.  Built twice by the script, dynamic and -static, so that the
 * difference shows what the dynamic loader costs before main:
 *
 *   cc -O2 -std=gnu11 bench/firstinsn.c -o firstinsn
 *   cc -O2 -std=gnu11 -static bench/firstinsn.c -o firstinsn-static
 *   ./firstinsn FILE
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec ts;
	const char *sched;
	char line[128];
	int fd, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (argc != 2) {
		fputs("usage: firstinsn FILE\n", stderr);
		return 2;
	}
	sched = getenv("JOBIFY_SCHEDULED_AT");
	n = snprintf(line, sizeof line, "%lld%09ld %s\n", (long long)ts.tv_sec, ts.tv_nsec,
		     sched && *sched ? sched : "-");
	if (n < 0 || (size_t)n >= sizeof line)
		return 1;
	if ((fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		perror(argv[1]);
		return 1;
	}
	if (write(fd, line, (size_t)n) != n) {
		perror(argv[1]);
		return 1;
	}
	return close(fd) < 0;
}
