/* SPDX-License-Identifier: ISC */
/* bytesize: sizes as users write them; outlog's capped writer. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "bytesize.h"
#include "outlog.h"
#include "tap.h"

static void
good(const char *s, int64_t want)
{
	const char *why = NULL;
	int64_t n = -1;
	int rc = bytesize_parse(s, &n, &why);

	ok(rc == 0 && n == want, "'%s' is %lld bytes (got %d %lld %s)", s, (long long)want, rc,
	   (long long)n, why ? why : "");
}

static void
bad(const char *s, const char *want)
{
	const char *why = NULL;
	int64_t n;

	ok(bytesize_parse(s, &n, &why) == -1 && why && strcmp(why, want) == 0,
	   "'%s' refused: %s (got %s)", s, want, why ? why : "(accepted)");
}

int
main(void)
{
	char buf[BYTESIZE_BUFSZ], path[] = "/tmp/test_bytesize.XXXXXX", rd[256];
	struct outlog_writer w;
	int fd;
	ssize_t n;

	good("0", 0);
	good("4096", 4096);
	good("10M", 10 << 20);
	good("512k", 512 << 10);
	good("512K", 512 << 10);
	good("1KB", 1024);
	good("1KiB", 1024);
	good("1.5G", (int64_t)3 << 29);
	good("2T", INT64_C(2) << 40);
	good("100B", 100);
	good("10 M", 10 << 20);
	bad("", "expected a size, as in 10M, 512K, 1.5G or 4096 (bytes)");
	bad("M", "expected a size, as in 10M, 512K, 1.5G or 4096 (bytes)");
	bad("-1", "expected a size, as in 10M, 512K, 1.5G or 4096 (bytes)");
	bad("10Q", "unknown unit (use B, K, M, G or T, powers of 1024)");
	bad("10MM", "unknown unit (use B, K, M, G or T, powers of 1024)");
	bad("10BB", "unknown unit (use B, K, M, G or T, powers of 1024)");
	bad("1.M", "expected a digit after the decimal point, as in 1.5G");
	bad("99999999999T", "size is too large");
	bad("99999999999999999999", "size is too large");
	is_str(bytesize_format(10 << 20, buf, sizeof buf), "10M", "10M");
	is_str(bytesize_format(1536, buf, sizeof buf), "1.5K", "1.5K");
	is_str(bytesize_format(300, buf, sizeof buf), "300B", "300B");

	/* The capped writer: 10 bytes of a cap of 8, then 5 more. */
	if ((fd = mkstemp(path)) < 0)
		return 1;
	outlog_writer_init(&w, fd, 8);
	ok(outlog_write(&w, "0123456789", 10) == 0 && w.written == 8 && w.dropped == 2,
	   "8 bytes written, 2 dropped");
	ok(outlog_write(&w, "abcde", 5) == 0 && w.written == 8 && w.dropped == 7,
	   "past the cap all is dropped and counted");
	ok(outlog_writer_close(&w) == 0 && w.fd == -1, "closed");
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, rd, sizeof rd - 1) : -1;
	rd[n > 0 ? n : 0] = '\0';
	is_str(rd, "01234567\n[jobify: output-max-size 8B reached: 7 bytes dropped]\n",
	       "the file: the cap, then the note");
	if (fd >= 0)
		close(fd);
	/* Without a cap: all of it, no note. */
	fd = open(path, O_WRONLY | O_TRUNC);
	outlog_writer_init(&w, fd, 0);
	ok(outlog_write(&w, "0123456789", 10) == 0 && w.written == 10 && w.dropped == 0,
	   "no cap: all written");
	ok(outlog_writer_close(&w) == 0, "closed");
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, rd, sizeof rd - 1) : -1;
	rd[n > 0 ? n : 0] = '\0';
	is_str(rd, "0123456789", "no note");
	if (fd >= 0)
		close(fd);
	unlink(path);
	return done_testing();
}
