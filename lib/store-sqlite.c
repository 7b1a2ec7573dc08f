/* SPDX-License-Identifier: ISC */
/* The SQLite backend of the job store (store-backend.h): opening and
 * migrating, rows and transactions, what a user does to jobs.  Its
 * writes, claims and recovery are store-sqlite-write.c; its history and
 * pruning store-sqlite-hist.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store-sqlite.h"
#include "strv.h"
#include "words.h"

/* How long a writer waits for another's transaction. */
#define BUSY_TIMEOUT_MS 5000

/* A connection that closes with more WAL frames than this checkpoints
 * and truncates the WAL (see store_open). */
#define WAL_TRUNCATE_FRAMES 128


static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Each step takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE jobs ("
	"  id TEXT PRIMARY KEY,"
	"  route TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  trigger TEXT NOT NULL,"
	"  cron TEXT,"
	"  run_at INTEGER NOT NULL,"
	"  scheduled_at INTEGER NOT NULL,"
	"  args TEXT NOT NULL DEFAULT '',"
	"  env TEXT NOT NULL DEFAULT '',"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER,"
	"  signal INTEGER,"
	"  created_at INTEGER NOT NULL,"
	"  started_at INTEGER,"
	"  finished_at INTEGER,"
	"  log TEXT);"
	SQ_JOBS_DUE ";"
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY,"
	"  job_id TEXT NOT NULL,"
	"  route TEXT NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  finished_at INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  exit_code INTEGER,"
	"  signal INTEGER,"
	"  log TEXT);"
	"CREATE INDEX runs_route ON runs(route, id);"
	"CREATE TABLE counters ("
	"  route TEXT PRIMARY KEY,"
	"  runs INTEGER NOT NULL DEFAULT 0,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  last_fire INTEGER);",
	/* 1 -> 2: cron jobs, dynamic and of the config, keep their counters
	 * in their row; config cron tasks are rows of source 'config' with
	 * the route name as id (the counters table of version 1 was never
	 * written). */
	"ALTER TABLE jobs ADD COLUMN source TEXT NOT NULL DEFAULT 'cli';"
	"ALTER TABLE jobs ADD COLUMN runs INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE jobs ADD COLUMN last_fire INTEGER;"
	"CREATE INDEX runs_job ON runs(job_id, id);"
	"DROP TABLE counters;",
	/* 2 -> 3: the config's rows found without a walk of every job (a
	 * start with a million one-off jobs took 9 s). */
	SQ_JOBS_CONFIG ";",
	/* 3 -> 4: what a run's log dropped past output-max-size, by its log
	 * file (unique per run): written when the run ends, apart from the
	 * row of history, which is batched. */
	"CREATE TABLE run_notes ("
	"  log TEXT PRIMARY KEY,"
	"  dropped INTEGER NOT NULL);",
	/* 4 -> 5: who claimed a job's last attempt, and who ran each row of
	 * history (store_owner_set): the guard of the writes about an
	 * attempt.  NULL in the rows of before. */
	"ALTER TABLE jobs ADD COLUMN owner TEXT;"
	"ALTER TABLE runs ADD COLUMN owner TEXT;",
	/* 5 -> 6: the due jobs of the command line found without a walk of
	 * the config's rows, which are scheduled too: jobs_due (status,
	 * run_at) has them all, and the next one due (store_rearm, after
	 * every end) took 1.3 s with a million config cron tasks.  The
	 * queries name it (INDEXED BY): the planner prefers jobs_due. */
	"CREATE INDEX jobs_due_cli ON jobs(run_at, id) "
	"WHERE status = 'scheduled' AND source = 'cli';",
};

int
sq_fail(struct sq *q, struct jerr *err, const char *what)
{
	int code = q && q->db ? sqlite3_errcode(q->db) : SQLITE_ERROR;

	jerr_set(err, "%s: %s: %s", q && q->path ? q->path : "store", what,
		 q && q->db ? sqlite3_errmsg(q->db) : "out of memory");
	errno = code == SQLITE_BUSY || code == SQLITE_LOCKED ? EBUSY :
		code == SQLITE_PERM || code == SQLITE_READONLY || code == SQLITE_CANTOPEN ?
		EACCES : EIO;
	return -1;
}

int
sq_exec(struct sq *q, const char *sql, struct jerr *err)
{
	char *msg = NULL;

	if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		return sq_fail(q, err, sql);
	}
	return 0;
}

static int
user_version(struct sq *q, int *v, struct jerr *err)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return sq_fail(q, err, "user_version");
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return sq_fail(q, err, "user_version");
	}
	*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int
migrate(struct sq *q, struct jerr *err)
{
	const int latest = (int)(sizeof migrations / sizeof migrations[0]);
	int v = 0;

	/* The common case, up to date: no write transaction (and no fsync). */
	if (user_version(q, &v, err) < 0)
		return -1;
	if (v == latest)
		return 0;
	/* IMMEDIATE: two processes opening a new store migrate one at a time. */
	if (sq_exec(q, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (user_version(q, &v, err) < 0)
		goto rollback;
	if (v > latest) {
		jerr_set(err, "%s: schema version %d is newer than this jobify's (%d): "
			 "use a newer jobify", q->path, v, latest);
		errno = EPROTO;
		goto rollback;
	}
	for (; v < latest; v++) {
		char pragma[40];

		if (sq_exec(q, migrations[v], err) < 0)
			goto rollback;
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if (sq_exec(q, pragma, err) < 0)
			goto rollback;
	}
	return sq_exec(q, "COMMIT", err);
rollback:
	{
		int e = errno;

		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		errno = e;
	}
	return -1;
}

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct sq *q = arg;

	(void)db;
	(void)name;
	q->wal_frames = frames;
	return SQLITE_OK;
}

/* Make sure the store's file NAME under DIRFD (DIR), if there is one or
 * MAKE, is a regular file of ours, mode 0600: created so whatever the
 * umask (SQLite gives the -wal and -shm the database's mode), and an
 * older store's wider modes narrowed.  A symbolic link is refused, never
 * followed.  0, or -1 with errno and ERR set. */
static int
own_file(int dirfd, const char *dir, const char *name, bool make, struct jerr *err)
{
	struct stat sb;
	int fd, e;

	fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
		    (make ? O_CREAT : 0), 0600);
	if (fd < 0) {
		e = errno;
		if (e == ENOENT && !make)
			return 0;
		jerr_set(err, "%s/%s: %s", dir, name,
			 e == ELOOP ? "a symbolic link: refused, not followed" : strerror(e));
		errno = e == ELOOP ? EPERM : e;
		return -1;
	}
	if (fstat(fd, &sb) < 0) {
		e = errno;
		jerr_set(err, "%s/%s: %s", dir, name, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
		jerr_set(err, "%s/%s: refused: not a regular file of uid %lu (who runs jobify)",
			 dir, name, (unsigned long)geteuid());
		close(fd);
		errno = EPERM;
		return -1;
	}
	if ((sb.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0) {
		e = errno;
		jerr_set(err, "%s/%s: chmod 0600: %s", dir, name, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}

static void sq_close(struct store *st);

static int
sq_open(const char *dir, struct store **out, struct jerr *err)
{
	struct sq *q = calloc(1, sizeof *q);
	char *real = NULL;
	int dfd = -1, e;

	*out = NULL;
	if (q == NULL) {
		jerr_set(err, "store: out of memory");
		errno = ENOMEM;
		return -1;
	}
	/* Through the canonical directory: SQLITE_OPEN_NOFOLLOW refuses a
	 * path with any link in it, and a link above the state directory
	 * (a /home that is one) is not ours to refuse. */
	if ((real = realpath(dir, NULL)) == NULL ||
	    (dfd = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		e = errno;
		jerr_set(err, "store %s: %s", dir, strerror(e));
		free(real);
		free(q);
		errno = e;
		return -1;
	}
	e = 0;
	if (asprintf(&q->path, "%s/" STORE_FILE, real) < 0) {
		q->path = NULL;
		e = ENOMEM;
		jerr_set(err, "store: out of memory");
	}
	else if (own_file(dfd, real, STORE_FILE, true, err) < 0 ||
		 own_file(dfd, real, STORE_FILE "-wal", false, err) < 0 ||
		 own_file(dfd, real, STORE_FILE "-shm", false, err) < 0)
		e = errno;
	close(dfd);
	free(real);
	if (e) {
		free(q->path);
		free(q);
		errno = e;
		return -1;
	}
	if (sqlite3_open_v2(q->path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sq_fail(q, err, "open");
		goto out;
	}
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	/* The last connection to close would checkpoint the WAL into the
	 * database and remove it: three more fsyncs for every `schedule`.
	 * But a process that opens the store while no other connection has
	 * it open rebuilds the WAL index by reading every frame, and counts
	 * them all as not yet checkpointed, so the WAL would never restart
	 * and each `schedule` would read more of it.  So a connection that
	 * commits counts the frames (wal_hook, which replaces the automatic
	 * checkpoint) and checkpoints with TRUNCATE at close once there are
	 * WAL_TRUNCATE_FRAMES: a few fsyncs every 40 jobs or so. */
	(void)sqlite3_db_config(q->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(q->db, wal_hook, q);
	if (sq_exec(q, "PRAGMA journal_mode = WAL", err) < 0 ||
	    sq_exec(q, "PRAGMA journal_size_limit = 1048576", err) < 0 ||
	    sq_exec(q, "PRAGMA synchronous = FULL", err) < 0 ||
	    sq_exec(q, "PRAGMA foreign_keys = ON", err) < 0 ||
	    migrate(q, err) < 0)
		goto out;
	q->base.ops = &store_sqlite_ops;
	*out = &q->base;
	return 0;
out:
	e = errno;
	sq_close(&q->base);
	errno = e;
	return -1;
}

static void
sq_close(struct store *st)
{
	struct sq *q = SQ(st);

	if (q == NULL)
		return;
	/* Busy (a reader holds an old snapshot): the next one tries. */
	sqlite3_finalize(q->add_sel);
	sqlite3_finalize(q->add_ins);
	sqlite3_finalize(q->cron_put);
	sqlite3_finalize(q->run_ins);
	if (q->db && q->wal_frames >= WAL_TRUNCATE_FRAMES)
		(void)sqlite3_wal_checkpoint_v2(q->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
						NULL, NULL);
	if (q->db)
		sqlite3_close(q->db);
	free(q->path);
	free(q->owner);
	free(q);
}


static void
sq_set_wait(struct store *st, int ms)
{
	sqlite3_busy_timeout(SQ(st)->db, ms < 0 ? BUSY_TIMEOUT_MS : ms);
}

/* ---- rows ---- */

char *
sq_join(char *const *v)
{
	return v && v[0] ? words_join(v) : strdup("");
}

static char **
split(const unsigned char *s)
{
	char **v = NULL;

	if (s == NULL || *s == '\0' || words_split((const char *)s, &v) != WORDS_OK)
		return calloc(1, sizeof(char *));
	return v;
}

char *
sq_col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

static int
row_job(sqlite3_stmt *s, struct store_job *j)
{
	const unsigned char *src = sqlite3_column_text(s, 16);

	memset(j, 0, sizeof *j);
	j->id = sq_col_str(s, 0);
	j->route = sq_col_str(s, 1);
	j->status = sq_col_str(s, 2);
	j->trigger = sq_col_str(s, 3);
	j->cron = sq_col_str(s, 4);
	j->run_at = sqlite3_column_int64(s, 5);
	j->args = split(sqlite3_column_text(s, 6));
	j->env = split(sqlite3_column_text(s, 7));
	j->attempts = (long)sqlite3_column_int64(s, 8);
	j->has_exit = sqlite3_column_type(s, 9) != SQLITE_NULL;
	j->exit_code = sqlite3_column_int(s, 9);
	j->signal = sqlite3_column_int(s, 10);
	j->created_at = sqlite3_column_int64(s, 11);
	j->started_at = sqlite3_column_int64(s, 12);
	j->finished_at = sqlite3_column_int64(s, 13);
	j->log = sq_col_str(s, 14);
	j->scheduled_at = sqlite3_column_int64(s, 15);
	j->config = src && strcmp((const char *)src, "config") == 0;
	j->runs = (long)sqlite3_column_int64(s, 17);
	j->failures = (long)sqlite3_column_int64(s, 18);
	j->last_fire = sqlite3_column_int64(s, 19);
	j->owner = sq_col_str(s, 20);
	if (!j->id || !j->route || !j->status || !j->trigger || !j->args || !j->env ||
	    (j->owner == NULL && sqlite3_column_type(s, 20) != SQLITE_NULL)) {
		store_job_free(j);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
sq_prepare(struct sq *q, const char *sql, sqlite3_stmt **s, struct jerr *err)
{
	if (sqlite3_prepare_v2(q->db, sql, -1, s, NULL) != SQLITE_OK)
		return sq_fail(q, err, "prepare");
	return 0;
}

/* Step S to completion (a write), and finalize it.  0 or -1. */
int
sq_run_write(struct sq *q, sqlite3_stmt *s, struct jerr *err, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		sq_fail(q, err, what);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

void
sq_bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Statement SQL of Q's cache slot *SLOT, prepared once, reset for use. */
int
sq_cached(struct sq *q, sqlite3_stmt **slot, const char *sql, struct jerr *err)
{
	if (*slot == NULL &&
	    sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
		return sq_fail(q, err, "prepare");
	sqlite3_reset(*slot);
	sqlite3_clear_bindings(*slot);
	return 0;
}

int
sq_collect(struct sq *q, sqlite3_stmt *s, struct store_job **v, size_t *n, struct jerr *err)
{
	size_t cap = 0;
	int rc;

	*v = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct store_job *nv = reallocarray(*v, ncap, sizeof *nv);

			if (nv == NULL)
				goto oom;
			*v = nv;
			cap = ncap;
		}
		if (row_job(s, &(*v)[*n]) < 0)
			goto oom;
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		sq_fail(q, err, "select");
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;
oom:
	jerr_set(err, "store: out of memory");
	errno = ENOMEM;
fail:
	sqlite3_finalize(s);
	store_job_list_free(*v, *n);
	*v = NULL;
	*n = 0;
	return -1;
}

/* ---- transactions ---- */

int
sq_begin(struct sq *q, bool full, struct jerr *err)
{
	/* synchronous can only change outside a transaction. */
	if (!full && sq_exec(q, "PRAGMA synchronous = NORMAL", err) < 0)
		return -1;
	q->relaxed = !full;
	if (sq_exec(q, "BEGIN IMMEDIATE", err) < 0) {
		sq_rollback(q);
		return -1;
	}
	return 0;
}

int
sq_cache_grow(struct sq *q, int64_t kib, struct jerr *err)
{
	sqlite3_stmt *s;
	int64_t was, was_kib;
	char sql[48];

	if (q->cache_was != 0)
		return 0;	/* grown for this transaction already */
	if (sq_prepare(q, "PRAGMA cache_size", &s, err) < 0)
		return -1;
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return sq_fail(q, err, "cache_size");
	}
	was = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	/* Negative: KiB; positive: pages (of 4 KiB, the default size). */
	was_kib = was < 0 ? -was : was * 4;
	if (kib <= was_kib || was == 0)
		return 0;
	snprintf(sql, sizeof sql, "PRAGMA cache_size = %lld", (long long)-kib);
	if (sq_exec(q, sql, err) < 0)
		return -1;
	q->cache_was = was;
	return 0;
}

static void
txn_end(struct sq *q)
{
	if (q->relaxed) {
		(void)sqlite3_exec(q->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
		q->relaxed = false;
	}
	if (q->cache_was != 0) {
		char sql[48];

		/* The cache's pages past that size are freed at once. */
		snprintf(sql, sizeof sql, "PRAGMA cache_size = %lld", (long long)q->cache_was);
		(void)sqlite3_exec(q->db, sql, NULL, NULL, NULL);
		q->cache_was = 0;
	}
}

int
sq_commit(struct sq *q, struct jerr *err)
{
	int rc = sq_exec(q, "COMMIT", err);

	if (rc < 0) {
		int e = errno;

		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		errno = e;
	}
	txn_end(q);
	return rc;
}

void
sq_rollback(struct sq *q)
{
	int e = errno;

	if (!sqlite3_get_autocommit(q->db))
		(void)sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	txn_end(q);
	errno = e;
}

/* ---- what a user does ---- */

/* Add J inside the caller's transaction; REPLACE: an existing job of
 * its id not running is replaced.  0; 1 when refused (errno EEXIST or
 * EALREADY, ERR set, nothing written); -1 on an error. */
static int
add_one(struct sq *q, const struct store_job *j, bool replace, struct jerr *err)
{
	char *args = sq_join(j->args), *env = sq_join(j->env);
	sqlite3_stmt *s;
	int rc = -1, step;

	if (args == NULL || env == NULL) {
		jerr_set(err, "store: out of memory");
		errno = ENOMEM;
		goto out;
	}
	if (sq_cached(q, &q->add_sel, "SELECT status, source FROM jobs WHERE id = ?", err) < 0)
		goto out;
	s = q->add_sel;
	sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(s, 0);
		const char *source = (const char *)sqlite3_column_text(s, 1);
		bool running = job_status_is(status, JOB_RUNNING);
		bool config = source && strcmp(source, "config") == 0;

		if (!replace || running || config) {
			jerr_set(err, "job '%s' exists%s", j->id,
				 config ? ": it is a cron task of the config" :
				 running ? " and is running" : " (use --replace)");
			sqlite3_reset(s);
			errno = running && !config ? EALREADY : EEXIST;
			rc = 1;
			goto out;
		}
	} else if (step != SQLITE_DONE) {
		sq_fail(q, err, "select");
		sqlite3_reset(s);
		goto out;
	}
	sqlite3_reset(s);
	if (sq_cached(q, &q->add_ins, "INSERT OR REPLACE INTO jobs (id, route, status, trigger, "
		      "cron, run_at, args, env, attempts, created_at, scheduled_at) "
		      "VALUES (?,?,?,?,?,?,?,?,0,?,?6)", err) < 0)
		goto out;
	s = q->add_ins;
	sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, j->route, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, j->status ? j->status : job_status_name(JOB_SCHEDULED), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(s, 4, j->trigger, -1, SQLITE_STATIC);
	sq_bind_text_or_null(s, 5, j->cron);
	sqlite3_bind_int64(s, 6, j->run_at);
	sqlite3_bind_text(s, 7, args, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, env, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, j->created_at);
	step = sqlite3_step(s);
	sqlite3_reset(s);
	if (step != SQLITE_DONE)
		sq_fail(q, err, "insert");
	else
		rc = 0;
out:
	free(args);
	free(env);
	return rc;
}

static int
sq_add(struct store *st, const struct store_job *v, size_t n, unsigned flags, size_t *bad,
       struct jerr *err)
{
	struct sq *q = SQ(st);

	if (sq_begin(q, true, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int rc = add_one(q, &v[i], (flags & STORE_REPLACE) || v[i].replace, err);

		if (rc != 0) {
			if (rc > 0 && bad)
				*bad = i;
			sq_rollback(q);
			return -1;
		}
	}
	return sq_commit(q, err);
}

int
sq_get(struct store *st, const char *id, struct store_job *out, struct jerr *err)
{
	struct sq *q = SQ(st);
	struct store_job *v;
	sqlite3_stmt *s;
	size_t n;

	if (sq_prepare(q, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (sq_collect(q, s, &v, &n, err) < 0)
		return -1;
	if (n == 0) {
		free(v);
		return 0;
	}
	*out = v[0];
	free(v);
	return 1;
}

static int
sq_each(struct store *st, const struct store_filter *f,
	int (*fn)(const struct store_job *j, void *arg), void *arg, struct jerr *err)
{
	struct sq *q = SQ(st);
	struct store_job j;
	sqlite3_stmt *s;
	int rc, ret = 0;

	if (sq_prepare(q, "SELECT " JOB_COLUMNS " FROM jobs WHERE "
		       "(?1 IS NULL OR route = ?1) AND (?2 IS NULL OR status = ?2) AND "
		       "(?3 OR status IN " JOB_STATUS_LIVE_SQL ") ORDER BY id", &s, err) < 0)
		return -1;
	sq_bind_text_or_null(s, 1, f->route);
	sq_bind_text_or_null(s, 2, f->status);
	sqlite3_bind_int(s, 3, f->all || f->status);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (row_job(s, &j) < 0) {	/* it frees what it took */
			jerr_set(err, "store: out of memory");
			ret = -1;
			break;
		}
		ret = fn(&j, arg);
		store_job_free(&j);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		sq_fail(q, err, "select");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

static int
sq_cancel(struct store *st, const char *id, char **status, struct jerr *err)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;
	struct store_job j;
	int found;

	*status = NULL;
	if (sq_prepare(q, "UPDATE jobs SET status = 'cancelled', finished_at = ?2 "
		       "WHERE id = ?1 AND status = 'scheduled' AND source = 'cli'", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ms());
	if (sq_run_write(q, s, err, "cancel") < 0)
		return -1;
	if (sqlite3_changes(q->db) == 1)
		return 1;
	if ((found = sq_get(st, id, &j, err)) < 0)
		return -1;
	if (found) {
		*status = j.status;
		j.status = NULL;
		store_job_free(&j);
	}
	return 0;
}

/* ---- the supervisor's side ---- */

static int
sq_owner_set(struct store *st, const struct store_owner *o, bool *same, struct jerr *err)
{
	struct sq *q = SQ(st);
	char *name = strdup(o->name);

	if (name == NULL) {
		jerr_set(err, "store: out of memory");
		errno = ENOMEM;
		return -1;
	}
	free(q->owner);
	q->owner = name;
	if (same)
		*same = true;	/* no one else shares the state directory */
	return 0;
}

static int
sq_heartbeat(struct store *st, int64_t *until, struct jerr *err)
{
	(void)st;
	(void)err;
	*until = INT64_MAX;	/* the state directory's lock is ours for good */
	return 0;
}

static int
sq_next_due(struct store *st, int64_t *at, struct jerr *err)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;
	int rc;

	*at = INT64_MAX;
	if (sq_prepare(q, "SELECT min(run_at) FROM jobs INDEXED BY jobs_due_cli "
		       "WHERE status = 'scheduled' "
		       "AND source = 'cli'", &s, err) < 0)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*at = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return sq_fail(q, err, "select");
	return 0;
}

static int
sq_cron_list(struct store *st, struct store_job **v, size_t *n, struct jerr *err)
{
	struct sq *q = SQ(st);
	sqlite3_stmt *s;

	if (sq_prepare(q, "SELECT " JOB_COLUMNS " FROM jobs WHERE source = 'config' ORDER BY id",
		       &s, err) < 0)
		return -1;
	return sq_collect(q, s, v, n, err);
}

static const char *
sq_name(const struct store *st)
{
	return SQ((struct store *)st)->path;
}

const struct store_ops store_sqlite_ops = {
	.kind = "sqlite",
	.shared = false,
	.open = sq_open,
	.close = sq_close,
	.set_wait = sq_set_wait,
	.add = sq_add,
	.get = sq_get,
	.each = sq_each,
	.cancel = sq_cancel,
	.owner_set = sq_owner_set,
	.heartbeat = sq_heartbeat,
	.write = sq_write,
	.claim = sq_claim,
	.next_due = sq_next_due,
	.recover = sq_recover,
	.fire = NULL,		/* config cron fires are the supervisor's own */
	.fd = NULL,		/* the control socket and SIGUSR1 wake it */
	.poll = NULL,
	.cron_list = sq_cron_list,
	.history = sq_history,
	.stats = sq_stats,
	.has_route = sq_has_route,
	.follow = sq_follow,
	.set_dropped = sq_set_dropped,
	.prune = sq_prune,
	.kill_request = NULL,	/* the one supervisor is asked over its socket */
	.kill_requests = NULL,
	.name = sq_name,
};
