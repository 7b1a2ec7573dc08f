/* SPDX-License-Identifier: ISC */
/* A floor of bench/durable.sh: what one `jobify schedule` must do at the
 * least, with nothing else: open the store (WAL, synchronous = FULL, no
 * checkpoint at close), insert one row into its jobs table in a
 * transaction of its own, and close, with a TRUNCATE checkpoint once the
 * WAL has 128 frames (the policy of lib/store.c).  COUNT rows in one
 * process, each its own durable commit (and the same checkpoints, in
 * between), give the commit's cost without the process's.
 *
 *   cc -O2 -std=gnu11 bench/sqlite-insert.c -o sqlite-insert -lsqlite3
 *   ./sqlite-insert DB [COUNT]
 *
 * DB must have the jobs table (the script copies jobify's schema).  Ids
 * are 13 random characters of [0-9a-f]; exits 1 on any error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sqlite3.h>
#include <time.h>

static int frames;

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int n)
{
	(void)arg;
	(void)db;
	(void)name;
	frames = n;
	return SQLITE_OK;
}

static int
fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "sqlite-insert: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
	sqlite3_close(db);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *ins = "INSERT INTO jobs (id, route, status, trigger, run_at, scheduled_at, "
		"created_at, args, env) VALUES (substr(lower(hex(randomblob(7))), 1, 13), 'r', "
		"'scheduled', 'in', ?1, ?1, ?1, '', '')";
	sqlite3 *db = NULL;
	sqlite3_stmt *s;
	struct timespec ts;
	long count = argc > 2 ? strtol(argv[2], NULL, 10) : 1;

	if (argc < 2 || argc > 3 || count < 1) {
		fputs("usage: sqlite-insert DB [COUNT]\n", stderr);
		return 2;
	}
	if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		return fail(db, "open");
	sqlite3_busy_timeout(db, 5000);
	(void)sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(db, wal_hook, NULL);
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", NULL, NULL,
			 NULL) != SQLITE_OK)
		return fail(db, "pragma");
	if (sqlite3_prepare_v2(db, ins, -1, &s, NULL) != SQLITE_OK)
		return fail(db, "prepare");
	for (long i = 0; i < count; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		sqlite3_bind_int64(s, 1, (sqlite3_int64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		if (sqlite3_step(s) != SQLITE_DONE) {
			sqlite3_finalize(s);
			return fail(db, "insert");
		}
		sqlite3_reset(s);
		if (i + 1 < count && frames >= 128) {
			(void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
							NULL);
			frames = 0;
		}
	}
	sqlite3_finalize(s);
	if (frames >= 128)
		(void)sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	return sqlite3_close(db) == SQLITE_OK ? 0 : fail(db, "close");
}
