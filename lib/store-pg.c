/* SPDX-License-Identifier: ISC */
/* The PostgreSQL store (SPEC §8): one schedule shared by supervisors on
 * several machines, with no consensus of our own.  Each operation of
 * store.h is one or a few statements in one transaction of its own.
 *
 * Who decides what.  No node leads: the database's row locks, its
 * unique keys and its clock decide.
 * - Claims lock due rows FOR UPDATE SKIP LOCKED: two nodes never wait
 *   for each other and never take the same row; the claim commits
 *   before the caller starts a process (no transaction stays open while
 *   a child runs).
 * - Every later write about an attempt is guarded by (owner, attempts,
 *   running): a node whose job was taken from it updates 0 rows, which
 *   it hears as done = 0, and writes no history.
 * - A config cron task's row holds its watermark (run_at: the next fire
 *   not yet done).  store_fire locks due rows SKIP LOCKED, inserts the
 *   fires' jobs and advances the watermark in one transaction; a unique
 *   key on (route, fire_at) is the second guard, so a fire is enqueued
 *   once even if a stale writer moved a watermark back (and pruning the
 *   old fires' rows does not weaken it: the watermark is the first
 *   guard).
 * - Leases: a node row's lease_until, renewed by store_heartbeat.  A
 *   lease counts as running until the later of lease_until and a full
 *   lease after the server started (a restart is no node's fault), and
 *   a node reaps only after it has itself been connected for a full
 *   lease of the node it reaps (a node cut off from the database, or just
 *   reconnected after a failover, does not reap the others it could not
 *   see renew).  A node that stops cleanly ends its lease
 *   (store_owner_release): lease_until now and lease_ms 0, so that both
 *   graces are nil and it is gone at once for every reader.
 * - Every time that decides (due, lease, expiry, now) is the database's
 *   clock, NOW_MS below, never the caller's: nodes' clocks may differ.
 *
 * Wake-ups.  Each transaction that adds, cancels, ends, releases or
 * fires jobs sends one NOTIFY on CHANNEL (PostgreSQL folds duplicates
 * within a transaction and delivers at commit).  store_fd is a second
 * connection that LISTENs, made at its first call, so that one-shot
 * commands never pay for it; store_poll drains it.
 *
 * Waiting.  Every round trip to the server is sent with libpq's
 * asynchronous API on a non-blocking socket and waited for with poll()
 * against a deadline of its own, ANSWER_MS past the store_set_wait wait
 * (lock_timeout): a server stopped, frozen or cut off never holds the
 * caller longer than that, on a Unix socket as over TCP.  At the deadline
 * the connection is dropped (a cancel request would need a connection
 * of its own to a server that does not answer: the backend notices the
 * closed socket, and its statement_timeout ends what it ran), the
 * operation fails with EBUSY, and no new connection is tried for
 * RETRY_MS: meanwhile operations fail at once, so that a loop calling
 * several waits out one deadline, not one per call.  Connecting is
 * bounded the same way (PQconnectStartParams and PQconnectPoll), the
 * LISTEN connection's too.  TCP keepalives and tcp_user_timeout make a
 * server that vanished from the network an error on an idle connection
 * too.
 *
 * A COMMIT whose answer never came may have taken or not.  The caller
 * hears -1 ("nothing written"), and for most operations that is harmless
 * or said: a fire's watermark and unique key make a second try enqueue
 * nothing twice; a heartbeat that may have taken counts as failed; a
 * command is told that whether it took is not known.  Two are not left
 * so.  A claim: jobs claimed for us that we never heard of would stay
 * running in our name until our lease ended.  Those are released at the
 * next connection, before anything else, with the guard of a release
 * (ours, that attempt, running, never begun): if the COMMIT did not
 * take, the guard finds nothing.  A write batch, which the supervisor
 * keeps and tries again: see pg_write. */
#include "config.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-pg-private.h"

/* How long an operation waits for another's lock by default (ms). */
#define WAIT_MS_DEFAULT 5000

/* ---- the schema ---- */

/* Each step takes the schema from version i to i + 1, in a transaction
 * of its own.  jobify_version holds the version (SQLite's user_version). */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE nodes ("
	"  name text COLLATE \"C\" PRIMARY KEY,"
	"  since bigint NOT NULL,"	/* first registered: the oldest is the cluster's config */
	"  heartbeat bigint NOT NULL,"
	"  lease_until bigint NOT NULL,"
	"  lease_ms bigint NOT NULL,"
	"  capacity integer NOT NULL DEFAULT 0,"
	"  config_hash text NOT NULL DEFAULT '');"
	/* Ids and routes compare bytewise, as SQLite's do: the same order
	 * whatever the database's collation. */
	"CREATE TABLE jobs ("
	"  id text COLLATE \"C\" PRIMARY KEY,"
	"  route text COLLATE \"C\" NOT NULL,"
	"  status text NOT NULL,"
	"  trigger text NOT NULL,"
	"  cron text,"
	"  run_at bigint NOT NULL,"	/* a config row: its watermark */
	"  scheduled_at bigint NOT NULL,"
	"  args text NOT NULL DEFAULT '',"
	"  env text NOT NULL DEFAULT '',"
	"  attempts integer NOT NULL DEFAULT 0,"
	"  exit_code integer,"
	"  signal integer,"
	"  created_at bigint NOT NULL,"
	"  started_at bigint,"
	"  finished_at bigint,"
	"  log text,"
	"  owner text COLLATE \"C\","
	"  config boolean NOT NULL DEFAULT false,"
	"  runs bigint NOT NULL DEFAULT 0,"
	"  failures bigint NOT NULL DEFAULT 0,"
	"  last_fire bigint,"
	"  fire_at bigint);"	/* a config cron fire's instant */
	"CREATE UNIQUE INDEX jobs_fire ON jobs (route, fire_at) WHERE fire_at IS NOT NULL;"
	"CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status = 'scheduled' AND NOT config;"
	"CREATE INDEX jobs_cron_due ON jobs (run_at, id) WHERE status = 'scheduled' AND config;"
	"CREATE INDEX jobs_running ON jobs (owner) WHERE status = 'running';"
	"CREATE INDEX jobs_route ON jobs (route, id);"
	"CREATE TABLE runs ("
	"  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  job_id text COLLATE \"C\" NOT NULL,"
	"  route text COLLATE \"C\" NOT NULL,"
	"  attempt integer NOT NULL,"
	"  started_at bigint NOT NULL,"
	"  finished_at bigint NOT NULL,"	/* 0: not known (lost) */
	"  status text NOT NULL,"
	"  exit_code integer,"
	"  signal integer,"
	"  log text,"
	"  owner text COLLATE \"C\");"
	"CREATE INDEX runs_route ON runs (route, id);"
	"CREATE INDEX runs_job ON runs (job_id, id);"
	"CREATE INDEX runs_started ON runs (started_at, id);"
	"CREATE INDEX runs_log ON runs (log) WHERE log IS NOT NULL;"
	/* What a run's log dropped past output-max-size, by its log file
	 * (written when the run ends, apart from its row of history). */
	"CREATE TABLE run_notes ("
	"  log text PRIMARY KEY,"
	"  dropped bigint NOT NULL);",
	/* 1 -> 2: `cancel --kill` of a job another node runs (store_kill_request).
	 * A request holds while the job runs: any write that moves the job
	 * out of running (its end, a release, a retry) drops it, so that
	 * the job's next run is not stopped by it. */
	"ALTER TABLE jobs ADD COLUMN kill_requested boolean NOT NULL DEFAULT false;"
	"CREATE INDEX jobs_kill ON jobs (owner) WHERE kill_requested;"
	"CREATE FUNCTION jobify_kill_drop() RETURNS trigger LANGUAGE plpgsql AS "
	"$$BEGIN NEW.kill_requested := false; RETURN NEW; END$$;"
	"CREATE TRIGGER jobs_kill_drop BEFORE UPDATE ON jobs FOR EACH ROW "
	"WHEN (NEW.kill_requested AND NEW.status <> 'running') "
	"EXECUTE FUNCTION jobify_kill_drop();",
};
#define LATEST ((int)(sizeof migrations / sizeof migrations[0]))

/* Two processes opening a new store migrate one at a time: each step
 * takes this transaction-scoped advisory lock ("jobify" in ASCII). */
#define MIGRATE_LOCK "SELECT pg_advisory_xact_lock(6872344661616377)"

static int
migrate(struct pg *p, struct jerr *err)
{
	PGresult *r;
	int v;

	/* The common case, up to date: one read, no lock. */
	r = pg_run(p, NULL, "migrate", "SELECT version FROM jobify_version", 0, NULL);
	if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
	    atoi(PQgetvalue(r, 0, 0)) == LATEST) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	for (;;) {
		if (pg_exec0(p, err, "migrate", "BEGIN", 0, NULL) < 0 ||
		    pg_exec0(p, err, "migrate", MIGRATE_LOCK, 0, NULL) < 0 ||
		    pg_exec0(p, err, "migrate", "CREATE TABLE IF NOT EXISTS jobify_version ("
			     "version integer NOT NULL); INSERT INTO jobify_version "
			     "SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM jobify_version)", 0,
			     NULL) < 0 ||
		    (r = pg_run(p, err, "migrate", "SELECT version FROM jobify_version", 0,
				NULL)) == NULL)
			goto fail;
		v = PQntuples(r) == 1 ? atoi(PQgetvalue(r, 0, 0)) : -1;
		PQclear(r);
		if (v < 0) {
			jerr_set(err, "%s: jobify_version holds no single version", p->name);
			errno = EPROTO;
			goto fail;
		}
		if (v > LATEST) {
			jerr_set(err, "%s: schema version %d is newer than this jobify's (%d): "
				 "use a newer jobify", p->name, v, LATEST);
			errno = EPROTO;
			goto fail;
		}
		if (v == LATEST)
			return pg_commit(p, err);
		{
			char n[24];
			const char *pv[] = { pg_i64(n, v + 1) };

			if (pg_exec0(p, err, "migrate", migrations[v], 0, NULL) < 0 ||
			    pg_exec0(p, err, "migrate", "UPDATE jobify_version SET version = $1", 1,
				     pv) < 0 ||
			    pg_commit(p, err) < 0)
				goto fail;
		}
	}
fail:
	pg_rollback(p);
	return -1;
}

static void
pg_close(struct store *st)
{
	struct pg *p = PG(st);

	if (p == NULL)
		return;
	if (p->db)
		PQfinish(p->db);
	if (p->listen)
		PQfinish(p->listen);
	free(p->uri);
	free(p->name);
	free(p->owner);
	free(p->down);
	free(p->limbo_ids);
	free(p->limbo_attempts);
	free(p->limbo_owner);
	free(p->wxid);
	pg_wmarks_free(p->wpend, p->nwpend);
	pg_wmarks_free(p->wdone, p->nwdone);
	free(p);
}

static int
pg_open(const char *where, struct store **out, struct jerr *err)
{
	struct pg *p = calloc(1, sizeof *p);
	int e;

	*out = NULL;
	if (p == NULL)
		return pg_oom(err);
	p->base.ops = &store_pg_ops;
	p->wait_ms = WAIT_MS_DEFAULT;
	if ((p->uri = strdup(where)) == NULL) {
		free(p);
		return pg_oom(err);
	}
	if ((p->db = pg_connect_bounded(p, "", err)) == NULL || pg_connected(p, err) < 0 ||
	    migrate(p, err) < 0) {
		e = errno;
		pg_close(&p->base);
		errno = e;
		return -1;
	}
	*out = &p->base;
	return 0;
}

static void
pg_set_wait(struct store *st, int ms)
{
	struct pg *p = PG(st);

	p->wait_ms = ms < 0 ? WAIT_MS_DEFAULT : ms;
	/* Lost, or failing: the next reconnect applies it. */
	if (p->db && PQstatus(p->db) == CONNECTION_OK &&
	    PQtransactionStatus(p->db) == PQTRANS_IDLE)
		(void)pg_session(p, NULL);
}

static const char *
pg_name(const struct store *st)
{
	return PG((struct store *)st)->name;
}

const struct store_ops store_pg_ops = {
	.kind = "postgresql",
	.shared = true,
	.open = pg_open,
	.close = pg_close,
	.set_wait = pg_set_wait,
	.add = pg_add,
	.get = pg_get,
	.each = pg_each,
	.cancel = pg_cancel,
	.owner_set = pg_owner_set,
	.heartbeat = pg_heartbeat,
	.release = pg_release,
	.write = pg_write,
	.claim = pg_claim,
	.next_due = pg_next_due,
	.recover = pg_recover,
	.fire = pg_fire,
	.fd = pg_fd,
	.poll = pg_poll,
	.cron_list = pg_cron_list,
	.history = pg_history,
	.stats = pg_stats,
	.has_route = pg_has_route,
	.follow = pg_follow,
	.set_dropped = pg_set_dropped,
	.prune = pg_prune,
	.kill_request = pg_kill_request,
	.kill_requests = pg_kill_requests,
	.nodes = pg_nodes,
	.name = pg_name,
};
