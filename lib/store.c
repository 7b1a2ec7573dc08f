/* SPDX-License-Identifier: ISC */
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

#include "outlog.h"
#include "store.h"
#include "strv.h"
#include "words.h"

/* How long a writer waits for another's transaction. */
#define BUSY_TIMEOUT_MS 5000

/* A connection that closes with more WAL frames than this checkpoints
 * and truncates the WAL (see store_open). */
#define WAL_TRUNCATE_FRAMES 128

struct store {
	sqlite3 *db;
	char *path;
	int wal_frames;		/* frames in the WAL after our last commit */
	bool relaxed;		/* synchronous = NORMAL for this transaction */
	sqlite3_stmt *add_sel, *add_ins;	/* store_job_add's, kept for batches */
	sqlite3_stmt *cron_put;	/* store_cron_put's: 100k rows at a first start */
};

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
	"CREATE INDEX jobs_due ON jobs(status, run_at);"
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
	"CREATE INDEX jobs_config ON jobs(id) WHERE source = 'config';",
	/* 3 -> 4: what a run's log dropped past output-max-size, by its log
	 * file (unique per run): written when the run ends, apart from the
	 * row of history, which is batched. */
	"CREATE TABLE run_notes ("
	"  log TEXT PRIMARY KEY,"
	"  dropped INTEGER NOT NULL);",
};

static int
fail(struct store *st, struct jerr *err, const char *what)
{
	int code = st && st->db ? sqlite3_errcode(st->db) : SQLITE_ERROR;

	jerr_set(err, "%s: %s: %s", st && st->path ? st->path : "store", what,
		 st && st->db ? sqlite3_errmsg(st->db) : "out of memory");
	errno = code == SQLITE_BUSY || code == SQLITE_LOCKED ? EBUSY :
		code == SQLITE_PERM || code == SQLITE_READONLY || code == SQLITE_CANTOPEN ?
		EACCES : EIO;
	return -1;
}

static int
exec_sql(struct store *st, const char *sql, struct jerr *err)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		return fail(st, err, sql);
	}
	return 0;
}

static int
user_version(struct store *st, int *v, struct jerr *err)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return fail(st, err, "user_version");
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_finalize(s);
		return fail(st, err, "user_version");
	}
	*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return 0;
}

static int
migrate(struct store *st, struct jerr *err)
{
	const int latest = (int)(sizeof migrations / sizeof migrations[0]);
	int v = 0;

	/* The common case, up to date: no write transaction (and no fsync). */
	if (user_version(st, &v, err) < 0)
		return -1;
	if (v == latest)
		return 0;
	/* IMMEDIATE: two processes opening a new store migrate one at a time. */
	if (exec_sql(st, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (user_version(st, &v, err) < 0)
		goto rollback;
	if (v > latest) {
		jerr_set(err, "%s: schema version %d is newer than this jobify's (%d): "
			 "use a newer jobify", st->path, v, latest);
		errno = EPROTO;
		goto rollback;
	}
	for (; v < latest; v++) {
		char pragma[40];

		if (exec_sql(st, migrations[v], err) < 0)
			goto rollback;
		snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
		if (exec_sql(st, pragma, err) < 0)
			goto rollback;
	}
	return exec_sql(st, "COMMIT", err);
rollback:
	{
		int e = errno;

		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		errno = e;
	}
	return -1;
}

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;

	(void)db;
	(void)name;
	st->wal_frames = frames;
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

int
store_open(const char *dir, struct store **out, struct jerr *err)
{
	struct store *st = calloc(1, sizeof *st);
	char *real = NULL;
	int dfd = -1, e;

	*out = NULL;
	if (st == NULL) {
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
		free(st);
		errno = e;
		return -1;
	}
	e = 0;
	if (asprintf(&st->path, "%s/" STORE_FILE, real) < 0) {
		st->path = NULL;
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
		free(st->path);
		free(st);
		errno = e;
		return -1;
	}
	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fail(st, err, "open");
		goto out;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	/* The last connection to close would checkpoint the WAL into the
	 * database and remove it: three more fsyncs for every `schedule`.
	 * But a process that opens the store while no other connection has
	 * it open rebuilds the WAL index by reading every frame, and counts
	 * them all as not yet checkpointed, so the WAL would never restart
	 * and each `schedule` would read more of it.  So a connection that
	 * commits counts the frames (wal_hook, which replaces the automatic
	 * checkpoint) and checkpoints with TRUNCATE at close once there are
	 * WAL_TRUNCATE_FRAMES: a few fsyncs every 40 jobs or so. */
	(void)sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(st->db, wal_hook, st);
	if (exec_sql(st, "PRAGMA journal_mode = WAL", err) < 0 ||
	    exec_sql(st, "PRAGMA journal_size_limit = 1048576", err) < 0 ||
	    exec_sql(st, "PRAGMA synchronous = FULL", err) < 0 ||
	    exec_sql(st, "PRAGMA foreign_keys = ON", err) < 0 ||
	    migrate(st, err) < 0)
		goto out;
	*out = st;
	return 0;
out:
	e = errno;
	store_close(st);
	errno = e;
	return -1;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	/* Busy (a reader holds an old snapshot): the next one tries. */
	sqlite3_finalize(st->add_sel);
	sqlite3_finalize(st->add_ins);
	sqlite3_finalize(st->cron_put);
	if (st->db && st->wal_frames >= WAL_TRUNCATE_FRAMES)
		(void)sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
						NULL, NULL);
	if (st->db)
		sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* Ids are Crockford's base 32: 9 characters of the creation time in ms,
 * then 4 of a 20-bit number, so that they sort by creation. */
static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";

static void
make_id(int64_t now_ms, uint32_t r, char buf[STORE_ID_LEN + 1])
{
	uint64_t t = (uint64_t)now_ms;

	for (int i = 8; i >= 0; i--, t >>= 5)
		buf[i] = b32[t & 31];
	for (int i = STORE_ID_LEN - 1; i >= 9; i--, r >>= 5)
		buf[i] = b32[r & 31];
	buf[STORE_ID_LEN] = '\0';
}

void
store_new_id(int64_t now_ms, char buf[STORE_ID_LEN + 1])
{
	make_id(now_ms, arc4random(), buf);
}

uint32_t
store_batch_base(size_t n)
{
	uint32_t per_ms = 1u << 20;

	return arc4random_uniform(per_ms - (n < per_ms ? (uint32_t)n : per_ms) + 1);
}

void
store_batch_id(int64_t now_ms, uint32_t base, size_t k, char buf[STORE_ID_LEN + 1])
{
	/* 2^20 ids a millisecond: the number counts on from BASE, the time
	 * moves on a millisecond every 2^20 jobs. */
	make_id(now_ms + (int64_t)(k >> 20), base + (uint32_t)(k & 0xfffff), buf);
}

bool
store_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > STORE_ID_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.:-", *s)))
			return false;
	return true;
}

void
store_job_free(struct store_job *j)
{
	free(j->id);
	free(j->route);
	free(j->status);
	free(j->trigger);
	free(j->cron);
	strv_free(j->args);
	strv_free(j->env);
	free(j->log);
	memset(j, 0, sizeof *j);
}

void
store_job_list_free(struct store_job *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_job_free(&v[i]);
	free(v);
}

/* A vector kept as one string: "" for none. */
static char *
join(char *const *v)
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

static char *
col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

#define JOB_COLUMNS "id, route, status, trigger, cron, run_at, args, env, attempts, " \
	"exit_code, signal, created_at, started_at, finished_at, log, scheduled_at, " \
	"source, runs, failures, last_fire"

static int
row_job(sqlite3_stmt *s, struct store_job *j)
{
	memset(j, 0, sizeof *j);
	j->id = col_str(s, 0);
	j->route = col_str(s, 1);
	j->status = col_str(s, 2);
	j->trigger = col_str(s, 3);
	j->cron = col_str(s, 4);
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
	j->log = col_str(s, 14);
	j->scheduled_at = sqlite3_column_int64(s, 15);
	{
		const unsigned char *src = sqlite3_column_text(s, 16);

		j->config = src && strcmp((const char *)src, "config") == 0;
	}
	j->runs = (long)sqlite3_column_int64(s, 17);
	j->failures = (long)sqlite3_column_int64(s, 18);
	j->last_fire = sqlite3_column_int64(s, 19);
	if (!j->id || !j->route || !j->status || !j->trigger || !j->args || !j->env) {
		store_job_free(j);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static int
prepare(struct store *st, const char *sql, sqlite3_stmt **s, struct jerr *err)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
		return fail(st, err, "prepare");
	return 0;
}

/* Step S to completion (a write).  0 or -1. */
static int
run_write(struct store *st, sqlite3_stmt *s, struct jerr *err, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE) {
		fail(st, err, what);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	return 0;
}

static void
bind_text_or_null(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Statement SQL of ST's cache slot *SLOT, prepared once, reset for use. */
static int
cached(struct store *st, sqlite3_stmt **slot, const char *sql, struct jerr *err)
{
	if (*slot == NULL &&
	    sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
		return fail(st, err, "prepare");
	sqlite3_reset(*slot);
	sqlite3_clear_bindings(*slot);
	return 0;
}

int
store_job_add(struct store *st, const struct store_job *j, bool replace, struct jerr *err)
{
	sqlite3_stmt *s;
	char *args = join(j->args), *env = join(j->env);
	/* Inside a caller's transaction (a batch) the job joins it: its only
	 * write is the INSERT, after every check, so a refused job has
	 * written nothing and needs no savepoint. */
	bool outer = !sqlite3_get_autocommit(st->db);
	int rc = -1, step;

	if (args == NULL || env == NULL) {
		jerr_set(err, "store: out of memory");
		goto out;
	}
	if (!outer && exec_sql(st, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	if (cached(st, &st->add_sel, "SELECT status, source FROM jobs WHERE id = ?", err) < 0)
		goto rollback;
	s = st->add_sel;
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
			running = running && !config;
			sqlite3_reset(s);
			if (!outer)
				(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			errno = running ? EALREADY : EEXIST;
			goto out;
		}
	} else if (step != SQLITE_DONE) {
		fail(st, err, "select");
		sqlite3_reset(s);
		goto rollback;
	}
	sqlite3_reset(s);
	if (cached(st, &st->add_ins, "INSERT OR REPLACE INTO jobs (id, route, status, trigger, "
		   "cron, run_at, args, env, attempts, created_at, scheduled_at) "
		   "VALUES (?,?,?,?,?,?,?,?,0,?,?6)", err) < 0)
		goto rollback;
	s = st->add_ins;
	sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, j->route, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, j->status ? j->status : job_status_name(JOB_SCHEDULED), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(s, 4, j->trigger, -1, SQLITE_STATIC);
	bind_text_or_null(s, 5, j->cron);
	sqlite3_bind_int64(s, 6, j->run_at);
	sqlite3_bind_text(s, 7, args, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 8, env, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 9, j->created_at);
	step = sqlite3_step(s);
	sqlite3_reset(s);
	if (step != SQLITE_DONE) {
		fail(st, err, "insert");
		goto rollback;
	}
	rc = outer ? 0 : exec_sql(st, "COMMIT", err);
	if (rc < 0)
		goto rollback;
	goto out;
rollback:
	if (!outer) {
		int e = errno;

		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		errno = e;
	}
out:
	free(args);
	free(env);
	return rc;
}

/* Rows of S into *V. */
static int
collect(struct store *st, sqlite3_stmt *s, struct store_job **v, size_t *n, struct jerr *err)
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
		fail(st, err, "select");
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;
oom:
	jerr_set(err, "store: out of memory");
fail:
	sqlite3_finalize(s);
	store_job_list_free(*v, *n);
	*v = NULL;
	*n = 0;
	return -1;
}

int
store_job_get(struct store *st, const char *id, struct store_job *out, struct jerr *err)
{
	struct store_job *v;
	sqlite3_stmt *s;
	size_t n;

	if (prepare(st, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (collect(st, s, &v, &n, err) < 0)
		return -1;
	if (n == 0) {
		free(v);
		return 0;
	}
	*out = v[0];
	free(v);
	return 1;
}

/* The statement of store_job_list() and store_job_each(). */
static int
list_stmt(struct store *st, const char *route, const char *status, bool all,
	  sqlite3_stmt **s, struct jerr *err)
{
	if (prepare(st, "SELECT " JOB_COLUMNS " FROM jobs WHERE "
		    "(?1 IS NULL OR route = ?1) AND (?2 IS NULL OR status = ?2) AND "
		    "(?3 OR status IN " JOB_STATUS_LIVE_SQL ") ORDER BY id", s, err) < 0)
		return -1;
	bind_text_or_null(*s, 1, route);
	bind_text_or_null(*s, 2, status);
	sqlite3_bind_int(*s, 3, all || status);
	return 0;
}

int
store_job_list(struct store *st, const char *route, const char *status, bool all,
	       struct store_job **v, size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;

	if (list_stmt(st, route, status, all, &s, err) < 0)
		return -1;
	return collect(st, s, v, n, err);
}

int
store_job_each(struct store *st, const char *route, const char *status, bool all,
	       int (*fn)(const struct store_job *j, void *arg), void *arg,
	       struct jerr *err)
{
	struct store_job j;
	sqlite3_stmt *s;
	int rc, ret = 0;

	if (list_stmt(st, route, status, all, &s, err) < 0)
		return -1;
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
		fail(st, err, "select");
		ret = -1;
	}
	sqlite3_finalize(s);
	return ret;
}

int
store_job_cancel(struct store *st, const char *id, char **status, struct jerr *err)
{
	sqlite3_stmt *s;
	struct store_job j;
	int found;

	*status = NULL;
	if (prepare(st, "UPDATE jobs SET status = 'cancelled', finished_at = ?2 "
		    "WHERE id = ?1 AND status = 'scheduled' AND source = 'cli'", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ms());
	if (run_write(st, s, err, "cancel") < 0)
		return -1;
	if (sqlite3_changes(st->db) == 1)
		return 1;
	if ((found = store_job_get(st, id, &j, err)) < 0)
		return -1;
	if (found) {
		*status = j.status;
		j.status = NULL;
		store_job_free(&j);
	}
	return 0;
}

int
store_jobs_due(struct store *st, int64_t upto, size_t max, struct store_job **v,
	       size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "SELECT " JOB_COLUMNS " FROM jobs WHERE status = 'scheduled' "
		    "AND run_at <= ? AND source = 'cli' ORDER BY run_at, id LIMIT ?", &s, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, upto);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
	return collect(st, s, v, n, err);
}

int
store_next_due(struct store *st, int64_t *at, struct jerr *err)
{
	sqlite3_stmt *s;
	int rc;

	*at = INT64_MAX;
	if (prepare(st, "SELECT min(run_at) FROM jobs WHERE status = 'scheduled' "
		    "AND source = 'cli'", &s, err) < 0)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
		*at = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return fail(st, err, "select");
	return 0;
}

int
store_job_claim(struct store *st, const char *id, long attempt, const char *log,
		struct jerr *err)
{
	sqlite3_stmt *s;

	/* started_at NULL: claimed, not started (see store_job_began). */
	if (prepare(st, "UPDATE jobs SET status = 'running', attempts = ?, started_at = NULL, "
		    "log = ? WHERE id = ? AND status = 'scheduled'", &s, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, attempt);
	bind_text_or_null(s, 2, log);
	sqlite3_bind_text(s, 3, id, -1, SQLITE_STATIC);
	if (run_write(st, s, err, "claim") < 0)
		return -1;
	return sqlite3_changes(st->db) == 1;
}

int
store_job_began(struct store *st, const char *id, long attempt, int64_t started,
		struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "UPDATE jobs SET started_at = ? WHERE id = ? AND attempts = ? "
		    "AND status = 'running'", &s, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, started);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, attempt);
	return run_write(st, s, err, "began");
}

void
store_busy_timeout(struct store *st, int ms)
{
	sqlite3_busy_timeout(st->db, ms < 0 ? BUSY_TIMEOUT_MS : ms);
}

int
store_run_add(struct store *st, const char *id, const char *route, long attempt,
	      int64_t started, int64_t finished, const char *status, int exit_code,
	      int signal, const char *log, long keep, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "INSERT INTO runs (job_id, route, attempt, started_at, finished_at, "
		    "status, exit_code, signal, log) VALUES (?,?,?,?,?,?,?,?,?)", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, route, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, attempt);
	sqlite3_bind_int64(s, 4, started);
	sqlite3_bind_int64(s, 5, finished);
	sqlite3_bind_text(s, 6, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 7, exit_code);
	sqlite3_bind_int(s, 8, signal);
	bind_text_or_null(s, 9, log);
	if (run_write(st, s, err, "history") < 0)
		return -1;
	if (keep >= 0) {
		if (prepare(st, "DELETE FROM runs WHERE route = ?1 AND id <= "
			    "(SELECT id FROM runs WHERE route = ?1 ORDER BY id DESC "
			    "LIMIT 1 OFFSET ?2)", &s, err) < 0)
			return -1;
		sqlite3_bind_text(s, 1, route, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, keep);
		if (run_write(st, s, err, "prune") < 0)
			return -1;
	}
	return 0;
}

int
store_job_finish_rows(struct store *st, const char *id, const char *route, long attempt,
	    int64_t started, int64_t now, const char *status, int exit_code, int signal,
	    const char *log, long keep, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "UPDATE jobs SET status = ?, exit_code = ?, signal = ?, "
		    "finished_at = ?, log = ? WHERE id = ?", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, exit_code);
	sqlite3_bind_int(s, 3, signal);
	sqlite3_bind_int64(s, 4, now);
	bind_text_or_null(s, 5, log);
	sqlite3_bind_text(s, 6, id, -1, SQLITE_STATIC);
	if (run_write(st, s, err, "finish") < 0)
		return -1;
	if (store_run_add(st, id, route, attempt, started, now, status, exit_code, signal,
			  log, keep, err) < 0)
		return -1;
	return 0;
}

int
store_cron_job_finished(struct store *st, const char *id, const char *route, long attempt,
			int64_t started, int64_t now, const char *status, int exit_code,
			int signal, const char *log, long keep, const struct store_job *next,
			struct jerr *err)
{
	if (store_txn_begin(st, true, err) < 0)
		return -1;
	if (store_job_finish_rows(st, id, route, attempt, started, now, status, exit_code,
				  signal, log, keep, err) < 0 ||
	    (next && store_job_next(st, next, err) < 0)) {
		store_txn_rollback(st);
		return -1;
	}
	return store_txn_commit(st, err);
}

int
store_job_finished(struct store *st, const char *id, const char *route, long attempt,
		   int64_t started, int64_t now, const char *status, int exit_code,
		   int signal, const char *log, long keep, struct jerr *err)
{
	return store_cron_job_finished(st, id, route, attempt, started, now, status, exit_code,
				       signal, log, keep, NULL, err);
}

int
store_job_set_scheduled(struct store *st, const char *id, int64_t at, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "UPDATE jobs SET scheduled_at = ? WHERE id = ?", &s, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	return run_write(st, s, err, "scheduled_at");
}

int
store_job_reschedule(struct store *st, const char *id, int64_t run_at, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "UPDATE jobs SET status = 'scheduled', run_at = ? WHERE id = ?",
		    &s, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, run_at);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	return run_write(st, s, err, "reschedule");
}

int
store_txn_begin(struct store *st, bool full, struct jerr *err)
{
	/* synchronous can only change outside a transaction. */
	if (!full && exec_sql(st, "PRAGMA synchronous = NORMAL", err) < 0)
		return -1;
	st->relaxed = !full;
	if (exec_sql(st, "BEGIN IMMEDIATE", err) < 0) {
		store_txn_rollback(st);
		return -1;
	}
	return 0;
}

static void
txn_end(struct store *st)
{
	if (st->relaxed) {
		(void)sqlite3_exec(st->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
		st->relaxed = false;
	}
}

int
store_txn_commit(struct store *st, struct jerr *err)
{
	int rc = exec_sql(st, "COMMIT", err);

	if (rc < 0) {
		int e = errno;

		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		errno = e;
	}
	txn_end(st);
	return rc;
}

void
store_txn_rollback(struct store *st)
{
	int e = errno;

	if (!sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	txn_end(st);
	errno = e;
}

int
store_cron_put(struct store *st, const struct store_job *j, struct jerr *err)
{
	sqlite3_stmt *s;
	int step;

	/* Prepared once: preparing it for each row was most of the time a
	 * first start with 100k durable cron tasks took. */
	if (cached(st, &st->cron_put, "INSERT INTO jobs (id, route, status, trigger, cron, run_at, "
		   "scheduled_at, attempts, created_at, started_at, finished_at, exit_code, "
		   "signal, log, source, runs, failures, last_fire) "
		   "VALUES (?1,?2,?3,'cron',?4,?5,?5,?6,?7,?8,?9,?10,?11,?12,'config',?13,?14,?15) "
		   "ON CONFLICT(id) DO UPDATE SET route = ?2, status = ?3, cron = ?4, "
		   "run_at = ?5, scheduled_at = ?5, attempts = ?6, started_at = ?8, "
		   "finished_at = ?9, exit_code = ?10, signal = ?11, log = ?12, runs = ?13, "
		   "failures = ?14, last_fire = ?15 WHERE source = 'config'", err) < 0)
		return -1;
	s = st->cron_put;
	sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, j->route, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, j->status, -1, SQLITE_STATIC);
	bind_text_or_null(s, 4, j->cron);
	sqlite3_bind_int64(s, 5, j->run_at);
	sqlite3_bind_int64(s, 6, j->attempts);
	sqlite3_bind_int64(s, 7, j->created_at);
#define BIND_TIME(i, v) ((v) ? sqlite3_bind_int64(s, (i), (v)) : sqlite3_bind_null(s, (i)))
	BIND_TIME(8, j->started_at);
	BIND_TIME(9, j->finished_at);
	if (j->has_exit) {
		sqlite3_bind_int(s, 10, j->exit_code);
		sqlite3_bind_int(s, 11, j->signal);
	} else {
		sqlite3_bind_null(s, 10);
		sqlite3_bind_null(s, 11);
	}
	bind_text_or_null(s, 12, j->log);
	sqlite3_bind_int64(s, 13, j->runs);
	sqlite3_bind_int64(s, 14, j->failures);
	BIND_TIME(15, j->last_fire);
#undef BIND_TIME
	if ((step = sqlite3_step(s)) != SQLITE_DONE) {
		fail(st, err, "cron");
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	return sqlite3_changes(st->db) == 1;
}

int
store_cron_list(struct store *st, struct store_job **v, size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "SELECT " JOB_COLUMNS " FROM jobs WHERE source = 'config' ORDER BY id",
		    &s, err) < 0)
		return -1;
	return collect(st, s, v, n, err);
}

int
store_job_next(struct store *st, const struct store_job *j, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "UPDATE jobs SET status = ?2, run_at = ?3, scheduled_at = ?3, "
		    "attempts = 0, runs = ?4, failures = ?5, last_fire = ?6 WHERE id = ?1",
		    &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, j->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, j->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, j->run_at);
	sqlite3_bind_int64(s, 4, j->runs);
	sqlite3_bind_int64(s, 5, j->failures);
	sqlite3_bind_int64(s, 6, j->last_fire);
	return run_write(st, s, err, "next");
}

int
store_jobs_running(struct store *st, struct store_job **v, size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "SELECT " JOB_COLUMNS " FROM jobs WHERE status = 'running' "
		    "AND source = 'cli' ORDER BY id", &s, err) < 0)
		return -1;
	return collect(st, s, v, n, err);
}

int
store_job_release(struct store *st, const char *id, long attempts, int64_t run_at,
		  struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "UPDATE jobs SET status = 'scheduled', attempts = ?1, started_at = NULL, "
		    "log = NULL, run_at = CASE WHEN ?3 > 0 THEN ?3 ELSE run_at END "
		    "WHERE id = ?2 AND status = 'running'", &s, err) < 0)
		return -1;
	sqlite3_bind_int64(s, 1, attempts);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, run_at);
	return run_write(st, s, err, "release");
}

/* ---- run history ---- */

void
store_history_free(struct store_run *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].job_id);
		free(v[i].route);
		free(v[i].status);
		free(v[i].log);
	}
	free(v);
}

#define RUN_COLUMNS "id, job_id, route, attempt, started_at, finished_at, status, " \
	"exit_code, signal, log, (SELECT dropped FROM run_notes WHERE run_notes.log = runs.log)"

/* Rows of history (RUN_COLUMNS) of S into *V; S is finalized. */
static int
collect_runs(struct store *st, sqlite3_stmt *s, struct store_run **v, size_t *n,
	     struct jerr *err)
{
	size_t cap = 0;
	int rc;

	*v = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct store_run *r;

		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct store_run *nv = reallocarray(*v, ncap, sizeof *nv);

			if (nv == NULL)
				goto oom;
			*v = nv;
			cap = ncap;
		}
		r = &(*v)[*n];
		memset(r, 0, sizeof *r);
		(*n)++;
		r->id = sqlite3_column_int64(s, 0);
		r->job_id = col_str(s, 1);
		r->route = col_str(s, 2);
		r->attempt = (long)sqlite3_column_int64(s, 3);
		r->started_at = sqlite3_column_int64(s, 4);
		r->finished_at = sqlite3_column_int64(s, 5);
		r->status = col_str(s, 6);
		r->has_exit = sqlite3_column_type(s, 7) != SQLITE_NULL;
		r->exit_code = sqlite3_column_int(s, 7);
		r->signal = sqlite3_column_int(s, 8);
		r->log = col_str(s, 9);
		r->dropped = sqlite3_column_int64(s, 10);
		if (!r->job_id || !r->route || !r->status ||
		    (r->log == NULL && sqlite3_column_type(s, 9) != SQLITE_NULL))
			goto oom;
	}
	if (rc != SQLITE_DONE) {
		fail(st, err, "select");
		goto fail;
	}
	sqlite3_finalize(s);
	return 0;
oom:
	jerr_set(err, "store: out of memory");
	errno = ENOMEM;
fail:
	sqlite3_finalize(s);
	store_history_free(*v, *n);
	*v = NULL;
	*n = 0;
	return -1;
}

int
store_history(struct store *st, const char *route, int64_t max, struct store_run **v,
	      size_t *n, struct jerr *err)
{
	struct store_run_filter f = { .route = route, .max = max };

	return store_history_find(st, &f, v, n, err);
}

int
store_history_find(struct store *st, const struct store_run_filter *f, struct store_run **v,
		   size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;

	*v = NULL;
	*n = 0;
	if (prepare(st, "SELECT " RUN_COLUMNS " FROM runs WHERE (?1 IS NULL OR route = ?1) "
		    "AND (?3 IS NULL OR status = ?3) AND started_at >= ?4 "
		    "ORDER BY started_at DESC, id DESC LIMIT ?2", &s, err) < 0)
		return -1;
	bind_text_or_null(s, 1, f->route);
	sqlite3_bind_int64(s, 2, f->max < 0 ? -1 : f->max);
	bind_text_or_null(s, 3, f->status);
	sqlite3_bind_int64(s, 4, f->since > 0 ? f->since : INT64_MIN);
	return collect_runs(st, s, v, n, err);
}

int
store_job_runs(struct store *st, const char *route, const char *id, int64_t after,
	       struct store_run **v, size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;

	*v = NULL;
	*n = 0;
	/* runs_route(route, id) makes it a range of the index. */
	if (prepare(st, "SELECT " RUN_COLUMNS " FROM runs WHERE route = ?1 AND id > ?3 "
		    "AND job_id = ?2 ORDER BY id", &s, err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, route, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, after);
	return collect_runs(st, s, v, n, err);
}

int
store_job_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
		 struct store_run **v, size_t *n, struct jerr *err)
{
	int found;

	*v = NULL;
	*n = 0;
	/* A read transaction: both reads see the same snapshot of the WAL,
	 * so an attempt is either running in the job's row or ended in the
	 * history, never both or neither.  Writers are not blocked. */
	if (exec_sql(st, "BEGIN DEFERRED", err) < 0)
		return -1;
	found = store_job_get(st, id, j, err);
	if (found == 1 && store_job_runs(st, j->route, id, after, v, n, err) < 0) {
		store_job_free(j);
		found = -1;
	}
	if (found < 0) {
		int e = errno;

		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		errno = e;
		return -1;
	}
	if (exec_sql(st, "COMMIT", err) < 0) {
		if (found == 1) {
			store_job_free(j);
			store_history_free(*v, *n);
			*v = NULL;
			*n = 0;
		}
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return found;
}

/* ---- run statistics (history --stats) ---- */

void
store_stats_free(struct store_route_stats *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].route);
		free(v[i].last_status);
	}
	free(v);
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank P-th percentile of the N sorted values of D. */
static int64_t
percentile(const int64_t *d, size_t n, int p)
{
	size_t rank = (n * (size_t)p + 99) / 100;

	return d[rank ? rank - 1 : 0];
}

/* Close the route being summed into *R from its N durations D. */
static void
stats_close(struct store_route_stats *r, int64_t *d, size_t n)
{
	qsort(d, n, sizeof *d, cmp_i64);
	r->p50 = percentile(d, n, 50);
	r->p95 = percentile(d, n, 95);
	r->max = d[n - 1];
}

int
store_history_stats(struct store *st, const struct store_run_filter *f,
		    struct store_route_stats **v, size_t *n, struct jerr *err)
{
	sqlite3_stmt *s;
	size_t cap = 0, nd = 0, dcap = 0;
	int64_t *d = NULL;
	int rc;

	*v = NULL;
	*n = 0;
	/* By route, newest first within each: the first row is the last
	 * result.  runs_route(route, id) serves the grouping. */
	if (prepare(st, "SELECT route, status, started_at, finished_at, exit_code, signal "
		    "FROM runs WHERE (?1 IS NULL OR route = ?1) AND (?2 IS NULL OR status = ?2) "
		    "AND started_at >= ?3 ORDER BY route, started_at DESC, id DESC", &s, err) < 0)
		return -1;
	bind_text_or_null(s, 1, f->route);
	bind_text_or_null(s, 2, f->status);
	sqlite3_bind_int64(s, 3, f->since > 0 ? f->since : INT64_MIN);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *route = (const char *)sqlite3_column_text(s, 0);
		const char *status = (const char *)sqlite3_column_text(s, 1);
		int64_t started = sqlite3_column_int64(s, 2), fin = sqlite3_column_int64(s, 3);
		struct store_route_stats *r = *n ? &(*v)[*n - 1] : NULL;

		if (route == NULL || status == NULL)
			goto oom;
		if (r == NULL || strcmp(r->route, route) != 0) {
			if (r)
				stats_close(r, d, nd);
			nd = 0;
			if (*n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct store_route_stats *nv = reallocarray(*v, ncap, sizeof *nv);

				if (nv == NULL)
					goto oom;
				*v = nv;
				cap = ncap;
			}
			r = &(*v)[(*n)++];
			memset(r, 0, sizeof *r);
			r->route = strdup(route);
			r->last_status = strdup(status);
			if (r->route == NULL || r->last_status == NULL)
				goto oom;
			r->last_started = started;
			r->last_has_exit = sqlite3_column_type(s, 4) != SQLITE_NULL;
			r->last_exit = sqlite3_column_int(s, 4);
			r->last_signal = sqlite3_column_int(s, 5);
		}
		r->runs++;
		if (!job_status_is(status, JOB_SUCCESS))
			r->failures++;
		if (nd == dcap) {
			size_t ncap = dcap ? dcap * 2 : 64;
			int64_t *nd_ = reallocarray(d, ncap, sizeof *d);

			if (nd_ == NULL)
				goto oom;
			d = nd_;
			dcap = ncap;
		}
		/* A clock stepped back during a run: no negative duration. */
		d[nd++] = fin > started ? fin - started : 0;
	}
	if (rc != SQLITE_DONE) {
		fail(st, err, "select");
		goto fail;
	}
	if (*n)
		stats_close(&(*v)[*n - 1], d, nd);
	sqlite3_finalize(s);
	free(d);
	return 0;
oom:
	jerr_set(err, "store: out of memory");
	errno = ENOMEM;
fail:
	sqlite3_finalize(s);
	free(d);
	store_stats_free(*v, *n);
	*v = NULL;
	*n = 0;
	return -1;
}

bool
store_history_has_route(struct store *st, const char *route)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM runs WHERE route = ? LIMIT 1", -1, &s,
			       NULL) != SQLITE_OK)
		return true;
	sqlite3_bind_text(s, 1, route, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	/* An error reads as "has": the caller only uses false to call a
	 * route unknown. */
	return rc != SQLITE_DONE;
}

/* ---- prune ---- */

/* The jobs prune removes: ended ones of the CLI (never a config cron
 * task's row, never one scheduled or running), ended before ?1. */
#define PRUNE_JOBS "SELECT id FROM jobs WHERE source = 'cli' AND status NOT IN " \
	"('scheduled', 'running') AND COALESCE(finished_at, created_at) < ?1"
/* The rows of history it removes: those of these jobs, and those ended
 * before ?1 of no job of the CLI (config cron tasks, jobs gone). */
#define PRUNE_RUNS "job_id IN (" PRUNE_JOBS ") OR (finished_at < ?1 AND job_id NOT IN " \
	"(SELECT id FROM jobs WHERE source = 'cli'))"

/* Whether PATH is a log file of the state directory DIR (absolute, as the
 * supervisor names them): under DIR/logs/, no "." or ".." part. */
static bool
is_state_log(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (strncmp(path, dir, n) != 0 || strncmp(path + n, "/logs/", 6) != 0)
		return false;
	return strstr(path, "/../") == NULL && strstr(path, "/./") == NULL;
}

int
store_prune(struct store *st, int64_t before, struct store_prune_result *res,
	    struct jerr *err)
{
	static const char *const steps[] = {
		"CREATE TEMP TABLE IF NOT EXISTS prune_logs(l TEXT)",
		"DELETE FROM temp.prune_logs",
		"INSERT INTO temp.prune_logs SELECT log FROM runs WHERE log IS NOT NULL AND ("
			PRUNE_RUNS ") UNION SELECT log FROM jobs WHERE log IS NOT NULL AND id IN ("
			PRUNE_JOBS ")",
		"DELETE FROM runs WHERE " PRUNE_RUNS,
		"DELETE FROM jobs WHERE id IN (" PRUNE_JOBS ")",
		/* A log still named by a row that stays is kept. */
		"DELETE FROM temp.prune_logs WHERE l IN (SELECT log FROM jobs WHERE log IS NOT "
			"NULL UNION SELECT log FROM runs WHERE log IS NOT NULL)",
		/* Notes of logs no row names any more. */
		"DELETE FROM run_notes WHERE log NOT IN (SELECT log FROM runs WHERE log IS NOT "
			"NULL)",
	};
	char *dir = NULL, *slash, **logs = NULL;
	sqlite3_stmt *s;
	int rc;

	memset(res, 0, sizeof *res);
	if (store_txn_begin(st, true, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		if (prepare(st, steps[i], &s, err) < 0)
			goto fail;
		if (sqlite3_bind_parameter_count(s) > 0)
			sqlite3_bind_int64(s, 1, before);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE) {
			fail(st, err, "prune");
			goto fail;
		}
		if (i == 3)
			res->runs = sqlite3_changes(st->db);
		else if (i == 4)
			res->jobs = sqlite3_changes(st->db);
	}
	if (prepare(st, "SELECT l FROM temp.prune_logs", &s, err) < 0)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *l = (const char *)sqlite3_column_text(s, 0);

		if (l == NULL || strv_push(&logs, l) < 0) {
			sqlite3_finalize(s);
			jerr_set(err, "store: out of memory");
			errno = ENOMEM;
			goto fail;
		}
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		fail(st, err, "prune");
		goto fail;
	}
	if (store_txn_commit(st, err) < 0)
		goto fail_logs;
	/* The rows are gone: now their files.  Only files of this state
	 * directory, named as the supervisor names them. */
	if ((dir = strdup(st->path)) != NULL && (slash = strrchr(dir, '/')) != NULL) {
		char *real;

		*slash = '\0';
		if ((real = realpath(dir, NULL)) != NULL) {
			free(dir);
			dir = real;
		}
		for (size_t i = 0; logs && logs[i]; i++) {
			if (!is_state_log(dir, logs[i])) {
				res->logs_kept++;
				continue;
			}
			struct jerr uerr = JERR_INIT;
			int r = outlog_remove(dir, logs[i], &uerr);

			jerr_free(&uerr);
			if (r > 0)
				res->logs++;
			else if (r < 0)
				res->logs_failed++;
		}
	}
	free(dir);
	strv_free(logs);
	return 0;
fail:
	store_txn_rollback(st);
fail_logs:
	strv_free(logs);
	return -1;
}

int
store_run_set_dropped(struct store *st, const char *log, int64_t dropped, struct jerr *err)
{
	sqlite3_stmt *s;

	if (prepare(st, "INSERT OR REPLACE INTO run_notes(log, dropped) VALUES (?, ?)", &s,
		    err) < 0)
		return -1;
	sqlite3_bind_text(s, 1, log, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, dropped);
	return run_write(st, s, err, "run note");
}
