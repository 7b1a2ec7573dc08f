/* SPDX-License-Identifier: ISC */
/* The PostgreSQL store's cluster (store-pg-private.h): nodes and their
 * leases, the jobs of nodes whose lease ended (reaped), config cron
 * fires (each once, with no leader: store-pg.c's top comment), and
 * wake-ups (LISTEN/NOTIFY). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-pg-private.h"

/* A lease when the owner gives none (SPEC §8). */
#define LEASE_MS_DEFAULT 30000
/* Config rows fired by one transaction of store_fire (up to FIRE_MAX
 * fires each: small enough that its INSERT answers within the loop's
 * answer bound on a loaded server). */
#define FIRE_BATCH 100
/* Fire instants of one row in one store_fire (store.h). */
#define FIRE_MAX 16

/* ---- owners and leases ---- */

/* When node row N's lease ends (ms), BOOT being when the server started:
 * its last renewal's end, or a full lease past the server's start if
 * that is later (a restart is no node's fault: store-pg.c's top
 * comment).  A node is live while this is after now, for every reader:
 * a heartbeat renews only then, a reaper (ORPHAN) waits longer still,
 * store_nodes says so.  A released lease (pg_release) has lease_ms 0:
 * it ended at lease_until, no grace added. */
#define LEASE_END(n, boot) "GREATEST(" n ".lease_until, " boot " + " n ".lease_ms)"

int
pg_owner_set(struct store *st, const struct store_owner *o, bool *same, struct jerr *err)
{
	struct pg *p = PG(st);
	char lease[24], cap[24];
	int64_t lease_ms = o->lease_ms > 0 ? o->lease_ms : LEASE_MS_DEFAULT;
	const char *pv[] = { o->name, pg_i64(lease, lease_ms), pg_i64(cap, o->capacity),
			     o->config_hash ? o->config_hash : "" };
	char *name;
	PGresult *r;

	if (pg_ready(p, err) < 0)
		return -1;
	if ((name = strdup(o->name)) == NULL)
		return pg_oom(err);
	if (pg_exec0(p, err, "owner", "BEGIN", 0, NULL) < 0 ||
	    pg_exec0(p, err, "owner", "INSERT INTO nodes (name, since, heartbeat, lease_until, "
		     "lease_ms, capacity, config_hash) SELECT $1, t, t, t + $2, $2, $3, $4 "
		     "FROM (SELECT " NOW_MS " AS t) AS now ON CONFLICT (name) DO UPDATE SET "
		     "heartbeat = EXCLUDED.heartbeat, lease_until = EXCLUDED.lease_until, "
		     "lease_ms = EXCLUDED.lease_ms, capacity = EXCLUDED.capacity, "
		     "config_hash = EXCLUDED.config_hash", 4, pv) < 0)
		goto fail;
	/* The cluster's config is the oldest live node's: the first to
	 * register among those whose lease runs.  Not the majority's: a
	 * majority can change as nodes come and go (and tie), while the
	 * oldest changes only when it goes, so a node started with another
	 * config can never make the others stop firing; in a rolling
	 * restart the nodes not restarted yet fire until the last of them
	 * is, and then the new config is everyone's. */
	if ((r = pg_run(p, err, "owner", "SELECT config_hash = $2 FROM nodes n WHERE "
			"n.name = $1 OR " LEASE_END("n", BOOT_MS) " > " NOW_MS " "
			"ORDER BY since, name LIMIT 1", 2,
			(const char *[]){ pv[0], pv[3] })) == NULL)
		goto fail;
	if (same)
		*same = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (pg_commit(p, err) < 0)
		goto fail;
	free(p->owner);
	p->owner = name;
	return 0;
fail:
	pg_rollback(p);
	free(name);
	return -1;
}

int
pg_heartbeat(struct store *st, int64_t *until, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[] = { p->owner };
	PGresult *r;

	if (p->owner == NULL) {
		jerr_set(err, "%s: heartbeat: no owner (store_owner_set first)", p->name);
		errno = EINVAL;
		return -1;
	}
	if (pg_ready(p, err) < 0)
		return -1;
	/* Renewed only while it runs: once it ended, the node's jobs may
	 * be another's already, and only store_owner_set (after fencing)
	 * makes it a node again. */
	if ((r = pg_run(p, err, "heartbeat", "UPDATE nodes n SET heartbeat = t.now, "
			"lease_until = t.now + n.lease_ms FROM (SELECT " NOW_MS " AS now, "
			BOOT_MS " AS boot) AS t WHERE n.name = $1 AND "
			LEASE_END("n", "t.boot") " > t.now "
			"RETURNING n.lease_until", 1, pv)) == NULL)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		jerr_set(err, "%s: the lease of %s has expired (or its node is gone): "
			 "its jobs may be another's", p->name, p->owner);
		errno = ETIMEDOUT;
		return -1;
	}
	*until = pg_col_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* The lease ends now: LEASE_END reads lease_until, now, and lease_ms 0
 * takes away the grace of a server's start and of a reaper's connection
 * (ORPHAN), which are for a node that could not renew, not for one that
 * said it is gone.  Ended only while it runs, as a heartbeat renews it:
 * an ended lease may be another's business already. */
int
pg_release(struct store *st, struct jerr *err)
{
	struct pg *p = PG(st);
	const char *pv[] = { p->owner };
	long n;

	if (p->owner == NULL) {
		jerr_set(err, "%s: release: no owner (store_owner_set first)", p->name);
		errno = EINVAL;
		return -1;
	}
	if (pg_ready(p, err) < 0)
		return -1;
	if ((n = pg_exec_n(p, err, "release", "UPDATE nodes n SET lease_until = t.now, "
			   "lease_ms = 0 FROM (SELECT " NOW_MS " AS now, " BOOT_MS " AS boot) "
			   "AS t WHERE n.name = $1 AND " LEASE_END("n", "t.boot") " > t.now",
			   1, pv)) < 0)
		return -1;
	if (n != 1) {
		jerr_set(err, "%s: the lease of %s had ended already (or its node is gone)",
			 p->name, p->owner);
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

/* Every node row, with the database's clock (column 8): its lease's end
 * and liveness by LEASE_END, its running jobs counted, its config against
 * the cluster's (the oldest live node's, as pg_owner_set decides it). */
#define NODES_SQL "WITH t AS (SELECT " NOW_MS " AS now, " BOOT_MS " AS boot), " \
	"n AS (SELECT nodes.*, " LEASE_END("nodes", "t.boot") " AS until, " \
	LEASE_END("nodes", "t.boot") " > t.now AS live FROM nodes, t), " \
	"c AS (SELECT config_hash FROM n WHERE live ORDER BY since, name LIMIT 1), " \
	"r AS (SELECT owner, count(*) AS k FROM jobs WHERE status = 'running' AND NOT config " \
	"GROUP BY owner) " \
	"SELECT n.name, n.since, n.heartbeat, n.until, n.capacity, COALESCE(r.k, 0), n.live, " \
	"COALESCE(n.config_hash = (SELECT config_hash FROM c), true), t.now " \
	"FROM n CROSS JOIN t LEFT JOIN r ON r.owner = n.name " \
	"ORDER BY n.live DESC, n.since, n.name"

int
pg_nodes(struct store *st, struct store_node **v, size_t *n, int64_t *now, struct jerr *err)
{
	struct pg *p = PG(st);
	struct store_node *nv;
	PGresult *r;
	int rows;

	if (pg_ready(p, err) < 0 || (r = pg_run(p, err, "nodes", NODES_SQL, 0, NULL)) == NULL)
		return -1;
	/* The clock is asked with the rows: none when there are none. */
	rows = PQntuples(r);
	if (rows == 0) {
		PQclear(r);
		if ((r = pg_run(p, err, "nodes", "SELECT " NOW_MS, 0, NULL)) == NULL)
			return -1;
		*now = pg_col_i64(r, 0, 0);
		PQclear(r);
		return 0;
	}
	if ((nv = calloc((size_t)rows, sizeof *nv)) == NULL) {
		PQclear(r);
		return pg_oom(err);
	}
	for (int i = 0; i < rows; i++) {
		if ((nv[i].name = pg_col_str(r, i, 0)) == NULL) {
			store_nodes_free(nv, (size_t)i);
			PQclear(r);
			return pg_oom(err);
		}
		nv[i].since = pg_col_i64(r, i, 1);
		nv[i].heartbeat = pg_col_i64(r, i, 2);
		nv[i].lease_until = pg_col_i64(r, i, 3);
		nv[i].capacity = (long)pg_col_i64(r, i, 4);
		nv[i].running = (long)pg_col_i64(r, i, 5);
		nv[i].live = PQgetvalue(r, i, 6)[0] == 't';
		nv[i].same_config = PQgetvalue(r, i, 7)[0] == 't';
	}
	*now = pg_col_i64(r, 0, 8);
	PQclear(r);
	*v = nv;
	*n = (size_t)rows;
	return 0;
}

/* The running jobs whose owner is gone: no node row, or a lease that
 * ended, counted as running a full lease past the server's start and
 * past this connection's ($1; see the top of this file). */
#define ORPHAN "status = 'running' AND NOT config AND NOT EXISTS (SELECT 1 FROM nodes n " \
	"WHERE n.name = jobs.owner AND GREATEST(" LEASE_END("n", BOOT_MS) ", " \
	"$1::bigint + n.lease_ms) > " NOW_MS ")"

int
pg_recover(struct store *st, store_recover_fn fn, store_after_fn after, void *arg,
	   struct jerr *err)
{
	struct pg *p = PG(st);
	char since[24];
	PGresult *ids;
	int count = 0, rc;

	if (pg_ready(p, err) < 0 ||
	    (ids = pg_run(p, err, "recover", "SELECT id FROM jobs WHERE " ORPHAN " ORDER BY id", 1,
			  (const char *[]){ pg_i64(since, p->since) })) == NULL)
		return -1;
	/* One transaction each: the row locked (skipped if another node
	 * recovers it), shown, written under its orphan's guard. */
	for (int i = 0; i < PQntuples(ids); i++) {
		struct store_write w = { .kind = STORE_NONE };
		const char *pv[] = { pg_i64(since, p->since), PQgetvalue(ids, i, 0) };
		struct store_job j;
		PGresult *r;

		if (pg_exec0(p, err, "recover", "BEGIN", 0, NULL) < 0)
			goto fail;
		if ((r = pg_run(p, err, "recover", "SELECT " JOB_COLUMNS ", kill_requested FROM jobs "
				"WHERE id = $2 AND " ORPHAN " FOR UPDATE SKIP LOCKED", 2, pv)) == NULL)
			goto fail_txn;
		if (PQntuples(r) == 0) {
			PQclear(r);
			pg_rollback(p);
			continue;
		}
		if (pg_row_job(r, 0, 0, &j) < 0) {
			PQclear(r);
			pg_oom(err);
			goto fail_txn;
		}
		j.kill_requested = PQgetvalue(r, 0, JOB_NCOLUMNS)[0] == 't';
		PQclear(r);
		if ((rc = fn(arg, &j, &w)) != 0) {
			/* FN ends the walk: its value, this job left as it is. */
			store_job_free(&j);
			pg_rollback(p);
			PQclear(ids);
			return rc;
		}
		if (w.kind != STORE_NONE) {
			w.next = NULL;
			if (pg_write_one(p, &w, true, j.owner, j.attempts, err) < 0) {
				store_job_free(&j);
				goto fail_txn;
			}
			if (w.done && pg_exec0(p, err, "recover", "NOTIFY " CHANNEL ", 'end'", 0,
					       NULL) < 0) {
				store_job_free(&j);
				goto fail_txn;
			}
		}
		if (pg_commit(p, err) < 0) {
			store_job_free(&j);
			goto fail;
		}
		count += w.done;
		if (after)
			after(arg, &j, &w);
		store_job_free(&j);
	}
	PQclear(ids);
	return count;
fail_txn:
	pg_rollback(p);
fail:
	PQclear(ids);
	return -1;
}

/* ---- config cron fires ---- */

/* What store_fire calls for each due row (store.h). */
typedef int (*fire_fn)(void *arg, const struct store_job *row, int64_t *at, int64_t *run_at,
		       size_t *nat, struct store_job *newrow);

/* A transaction of store_fire under way (fire_batch). */
struct fires {
	fire_fn fire;
	void *arg;
	int64_t now;		/* the database's clock: the fires' ids, created_at */
	uint32_t base;		/* the fires' ids' (store_batch_base) */
	/* The fires' jobs, an array per column (NFIRE): id, route, instant,
	 * env, run_at. */
	struct buf a[5];
	/* The rows' new state, an array per column (NROW): id, status,
	 * run_at, last_fire, runs, failures, env (NULL: as it is). */
	struct buf u[7];
	size_t nfire, nrow;
	bool moved;		/* a row moved, or got a new env */
};

static void
fires_free(struct fires *c)
{
	for (size_t k = 0; k < 5; k++)
		pg_buf_free(&c->a[k]);
	for (size_t k = 0; k < 7; k++)
		pg_buf_free(&c->u[k]);
}

/* The N fires of config row ROW at AT (RUN_AT: when each may run, if
 * later), as jobs to insert, with env ENV. */
static void
fires_add_jobs(struct fires *c, const struct store_job *row, const int64_t *at,
	       const int64_t *run_at, size_t n, const char *env)
{
	for (size_t k = 0; k < n; k++, c->nfire++) {
		bool first = c->nfire == 0;
		char id[STORE_ID_LEN + 1];

		store_batch_id(c->now, c->base, c->nfire, id);
		pg_arr_text(&c->a[0], id, first);
		pg_arr_text(&c->a[1], row->route, first);
		pg_arr_i64(&c->a[2], at[k], first);
		pg_arr_text(&c->a[3], env, first);
		pg_arr_i64(&c->a[4], run_at[k] > at[k] ? run_at[k] : at[k], first);
	}
}

/* Config row ROW's new state NR (ENV: its new env, or NULL), as a row
 * to update. */
static void
fires_add_row(struct fires *c, const struct store_job *row, const struct store_job *nr,
	      const char *env)
{
	const char *status = nr->status ? nr->status : row->status;
	bool first = c->nrow == 0;

	pg_arr_text(&c->u[0], row->id, first);
	pg_arr_text(&c->u[1], status, first);
	pg_arr_i64(&c->u[2], nr->run_at, first);
	pg_arr_i64_or_null(&c->u[3], nr->last_fire, first);
	pg_arr_i64(&c->u[4], nr->runs, first);
	pg_arr_i64(&c->u[5], nr->failures, first);
	pg_arr_text(&c->u[6], env, first);
	c->nrow++;
	c->moved = c->moved || env != NULL || nr->run_at != row->run_at ||
		strcmp(status, row->status) != 0;
}

/* Row I of R, a due config row, locked, fired: its fires' jobs and its
 * new state added to C.  0, or -1 with ERR. */
static int
fires_row(struct pg *p, struct fires *c, const PGresult *r, int i, struct jerr *err)
{
	struct store_job row, nr;
	int64_t at[FIRE_MAX], run_at[FIRE_MAX] = { 0 };
	size_t nat = 0;
	char *env = NULL;

	if (pg_row_job(r, i, 0, &row) < 0)
		return pg_oom(err);
	/* The new state starts as the row (its strings are the row's): the
	 * store reads status, run_at, last_fire, runs and failures from it
	 * and frees nothing of it. */
	nr = row;
	if (c->fire(c->arg, &row, at, run_at, &nat, &nr) < 0) {
		int e = errno;

		jerr_set(err, "%s: fire %s: %s", p->name, row.id, strerror(e));
		store_job_free(&row);
		errno = e;
		return -1;
	}
	if (nat > FIRE_MAX)
		nat = FIRE_MAX;
	/* A new env (FIRE's own vector) for the row and its fires. */
	if (nr.env != row.env && (env = pg_join(nr.env)) == NULL) {
		store_job_free(&row);
		return pg_oom(err);
	}
	fires_add_jobs(c, &row, at, run_at, nat, env ? env : PQgetvalue(r, i, 8));
	fires_add_row(c, &row, &nr, env);
	free(env);
	store_job_free(&row);
	return 0;
}

/* The fires' jobs inserted (how many into *ADDED), the rows' new state
 * written.  0, or -1 with ERR. */
static int
fires_write(struct pg *p, struct fires *c, long *added, struct jerr *err)
{
	const struct buf *a = c->a, *u = c->u;
	char nowb[24];
	long n;

	for (size_t k = 0; k < 5; k++)
		pg_arr_end(&c->a[k], c->nfire);
	for (size_t k = 0; k < 7; k++)
		pg_arr_end(&c->u[k], c->nrow);
	for (size_t k = 0; k < 7; k++)
		if ((k < 5 && a[k].oom) || u[k].oom)
			return pg_oom(err);
	if (c->nfire) {
		/* The unique (route, fire_at) key: a fire already enqueued
		 * (a watermark moved back by a stale row) is not again. */
		n = pg_exec_n(p, err, "fire", "INSERT INTO jobs (id, route, status, trigger, "
			      "run_at, scheduled_at, env, created_at, fire_at) "
			      "SELECT i, r, 'scheduled', 'cron', d, a, e, $5, a "
			      "FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], "
			      "$6::bigint[]) AS u(i, r, a, e, d) ON CONFLICT (route, fire_at) "
			      "WHERE fire_at IS NOT NULL DO NOTHING", 6,
			      (const char *[]){ a[0].s, a[1].s, a[2].s, a[3].s,
						pg_i64(nowb, c->now), a[4].s });
		if (n < 0)
			return -1;
		*added = n;
	}
	if (c->nrow && pg_exec0(p, err, "fire", "UPDATE jobs j SET status = t.status, "
				"run_at = t.run_at, scheduled_at = t.run_at, "
				"last_fire = COALESCE(t.last_fire, j.last_fire), runs = t.runs, "
				"failures = t.failures, env = COALESCE(t.env, j.env) "
				"FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], "
				"$5::bigint[], $6::bigint[], $7::text[]) AS "
				"t(id, status, run_at, last_fire, runs, failures, env) "
				"WHERE j.id = t.id", 7,
				(const char *[]){ u[0].s, u[1].s, u[2].s, u[3].s, u[4].s, u[5].s,
						  u[6].s }) < 0)
		return -1;
	return 0;
}

/* One transaction of store_fire: at most FIRE_BATCH due rows.  The jobs
 * added into *ADDED, whether a row moved into *MOVED, how many rows were
 * due into *ROWS. */
static int
fire_batch(struct pg *p, fire_fn fire, void *arg, long *added, bool *moved, int *rows,
	   struct jerr *err)
{
	struct fires c = { .fire = fire, .arg = arg };
	PGresult *r;
	char lim[24];
	int rc = -1;

	*added = 0;
	*moved = false;
	*rows = 0;
	if (pg_exec0(p, err, "fire", "BEGIN", 0, NULL) < 0)
		return -1;
	if ((r = pg_run(p, err, "fire", "SELECT " JOB_COLUMNS ", " NOW_MS " FROM jobs WHERE "
			"config AND status = 'scheduled' AND run_at <= " NOW_MS " "
			"ORDER BY run_at, id LIMIT $1 FOR UPDATE SKIP LOCKED", 1,
			(const char *[]){ pg_i64(lim, FIRE_BATCH) })) == NULL)
		goto fail;
	*rows = PQntuples(r);
	c.now = *rows ? pg_col_i64(r, 0, 21) : 0;
	c.base = store_batch_base((size_t)*rows * FIRE_MAX);
	for (int i = 0; i < *rows; i++)
		if (fires_row(p, &c, r, i, err) < 0) {
			PQclear(r);
			goto fail;
		}
	PQclear(r);
	*moved = c.moved;
	if (fires_write(p, &c, added, err) < 0 ||
	    (*added > 0 && pg_exec0(p, err, "fire", "NOTIFY " CHANNEL ", 'fire'", 0, NULL) < 0) ||
	    pg_commit(p, err) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	pg_rollback(p);
	*added = 0;
out:
	fires_free(&c);
	return rc;
}

int
pg_fire(struct store *st, int64_t now,
	int (*fire)(void *arg, const struct store_job *row, int64_t *at, int64_t *run_at,
		    size_t *nat, struct store_job *newrow),
	void *arg, struct jerr *err)
{
	struct pg *p = PG(st);
	long total = 0, added;
	bool moved;
	int rows;

	(void)now;	/* the database's clock decides what is due */
	if (pg_ready(p, err) < 0)
		return -1;
	/* A batch at a time, each whole; on while full batches move rows
	 * (a row FIRE leaves due is not shown again in this call). */
	do {
		/* (What earlier batches added is in the store: it fires.) */
		if (fire_batch(p, fire, arg, &added, &moved, &rows, err) < 0)
			return -1;
		total += added;
	} while (rows == FIRE_BATCH && moved);
	return total > INT32_MAX ? INT32_MAX : (int)total;
}

/* ---- wake-ups ---- */

/* The LISTEN connection of P, made now (within pg_answer_ms): 0 or -1.
 * None is tried within pg_retry_ms of a failure. */
static int
listen_open(struct pg *p, struct jerr *err)
{
	int64_t now = pg_mono_ms();
	enum trip how;
	PGconn *c;
	PGresult *r;
	char prefix[512];

	if (now < p->listen_retry_at) {
		jerr_set(err, "%s: listen: connecting again in %lld ms", p->name,
			 (long long)(p->listen_retry_at - now));
		errno = EBUSY;
		return -1;
	}
	if ((c = pg_connect_bounded(p, "listen", err)) == NULL) {
		p->listen_retry_at = pg_mono_ms() + pg_retry_ms(p);
		return -1;
	}
	r = pg_roundtrip(c, "LISTEN " CHANNEL, 0, NULL, pg_mono_ms() + pg_answer_ms(p), &how);
	if (how != TRIP_DONE || PQresultStatus(r) != PGRES_COMMAND_OK) {
		snprintf(prefix, sizeof prefix, "%s: listen", p->name);
		if (how == TRIP_LATE)
			jerr_set(err, "%s: no answer from the server within %lld ms", prefix,
				 (long long)pg_answer_ms(p));
		else
			pg_set_msg(err, prefix, PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		p->listen_retry_at = pg_mono_ms() + pg_retry_ms(p);
		errno = how == TRIP_LATE ? EBUSY : ECONNREFUSED;
		return -1;
	}
	PQclear(r);
	p->listen = c;
	p->listen_retry_at = 0;
	return 0;
}

/* The LISTEN connection is made at the first call: commands that never
 * wait never have it.  (It changes the store's state, not what the
 * caller sees of it: hence the cast of the const.) */
int
pg_fd(const struct store *cst)
{
	struct pg *p = PG((struct store *)cst);

	if (p->listen == NULL && listen_open(p, NULL) < 0)
		return -1;
	return PQsocket(p->listen);
}

int
pg_poll(struct store *st, struct jerr *err)
{
	struct pg *p = PG(st);
	PGnotify *nt;

	if (p->listen == NULL)
		return 0;
	if (!PQconsumeInput(p->listen) || PQstatus(p->listen) != CONNECTION_OK) {
		char prefix[512];

		snprintf(prefix, sizeof prefix, "%s: listen", p->name);
		pg_set_msg(err, prefix, PQerrorMessage(p->listen));
		PQfinish(p->listen);
		p->listen = NULL;
		/* Listening again at once when it can (under another fd);
		 * whatever happened meanwhile was not heard: -1 says to read
		 * the store anyway. */
		(void)listen_open(p, NULL);
		errno = ECONNREFUSED;
		return -1;
	}
	while ((nt = PQnotifies(p->listen)) != NULL)
		PQfreemem(nt);
	return 0;
}
