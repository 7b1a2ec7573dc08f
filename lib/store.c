/* SPDX-License-Identifier: ISC */
/* The job store's front (store.h): the backend chosen from where the
 * store is, every operation dispatched to it (store-backend.h), and what
 * is the same for every backend: ids, freeing, the files of pruning. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "outlog.h"
#include "store-backend.h"
#include "strv.h"

/* ---- opening ---- */

/* Whether WHERE is a libpq URI rather than a state directory. */
static bool
is_pg_uri(const char *where)
{
	return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

int
store_open(const char *where, struct store **out, struct jerr *err)
{
	*out = NULL;
	if (is_pg_uri(where)) {
#ifdef HAVE_LIBPQ
		return store_pg_ops.open(where, out, err);
#else
		jerr_set(err, "this jobify was built without libpq: store = %.*s… needs it",
			 strncmp(where, "postgres://", 11) == 0 ? 11 : 13, where);
		errno = ENOTSUP;
		return -1;
#endif
	}
	return store_sqlite_ops.open(where, out, err);
}

void
store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

const char *
store_kind(const struct store *st)
{
	return st->ops->kind;
}

bool
store_shared(const struct store *st)
{
	return st->ops->shared;
}

void
store_set_wait(struct store *st, int ms)
{
	st->ops->set_wait(st, ms);
}

/* ---- ids ---- */

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

/* ---- freeing ---- */

bool
store_job_is_fire(const struct store_job *j)
{
	return !j->config && j->cron == NULL && j->trigger &&
		strcmp(j->trigger, job_trigger_name(JOB_TRIGGER_CRON)) == 0;
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
	free(j->owner);
	memset(j, 0, sizeof *j);
}

void
store_job_list_free(struct store_job *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_job_free(&v[i]);
	free(v);
}

void
store_history_free(struct store_run *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].job_id);
		free(v[i].route);
		free(v[i].status);
		free(v[i].log);
		free(v[i].owner);
	}
	free(v);
}

void
store_stats_free(struct store_route_stats *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].route);
		free(v[i].last_status);
	}
	free(v);
}

/* ---- what a user does ---- */

int
store_add(struct store *st, const struct store_job *v, size_t n, unsigned flags, size_t *bad,
	  struct jerr *err)
{
	return st->ops->add(st, v, n, flags, bad, err);
}

int
store_get(struct store *st, const char *id, struct store_job *out, struct jerr *err)
{
	return st->ops->get(st, id, out, err);
}

int
store_each(struct store *st, const struct store_filter *filter,
	   int (*fn)(const struct store_job *j, void *arg), void *arg, struct jerr *err)
{
	static const struct store_filter any = { 0 };

	return st->ops->each(st, filter ? filter : &any, fn, arg, err);
}

/* What store_list collects. */
struct list {
	struct store_job *v;
	size_t n, cap;
};

/* *DST a copy of SRC (NULL stays NULL): 0, or -1. */
static int
copy_str(char **dst, const char *src)
{
	*dst = NULL;
	return src == NULL || (*dst = strdup(src)) != NULL ? 0 : -1;
}

/* store_each's callback for store_list: a deep copy of J. */
static int
list_one(const struct store_job *j, void *arg)
{
	struct list *l = arg;
	struct store_job *c;

	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct store_job *nv = reallocarray(l->v, ncap, sizeof *nv);

		if (nv == NULL)
			return -2;
		l->v = nv;
		l->cap = ncap;
	}
	c = &l->v[l->n++];
	*c = *j;
	c->args = c->env = NULL;
	c->id = c->route = c->status = c->trigger = c->cron = c->log = c->owner = NULL;
	if (copy_str(&c->id, j->id) < 0 || copy_str(&c->route, j->route) < 0 ||
	    copy_str(&c->status, j->status) < 0 || copy_str(&c->trigger, j->trigger) < 0 ||
	    copy_str(&c->cron, j->cron) < 0 || copy_str(&c->log, j->log) < 0 ||
	    copy_str(&c->owner, j->owner) < 0 || (c->args = strv_dup(j->args)) == NULL ||
	    (c->env = strv_dup(j->env)) == NULL)
		return -2;
	return 0;
}

int
store_list(struct store *st, const struct store_filter *filter, struct store_job **v,
	   size_t *n, struct jerr *err)
{
	struct list l = { 0 };
	int rc = store_each(st, filter, list_one, &l, err);

	if (rc != 0) {
		if (rc == -2) {
			jerr_set(err, "store: out of memory");
			errno = ENOMEM;
		}
		/* A copy that failed halfway: its strings are NULL or its own. */
		store_job_list_free(l.v, l.n);
		*v = NULL;
		*n = 0;
		return -1;
	}
	*v = l.v;
	*n = l.n;
	return 0;
}

int
store_cancel(struct store *st, const char *id, char **status, struct jerr *err)
{
	return st->ops->cancel(st, id, status, err);
}

/* ---- the supervisor's side ---- */

int
store_owner_set(struct store *st, const struct store_owner *owner, bool *same,
		struct jerr *err)
{
	return st->ops->owner_set(st, owner, same, err);
}

int
store_heartbeat(struct store *st, int64_t *until, struct jerr *err)
{
	return st->ops->heartbeat(st, until, err);
}

int
store_owner_release(struct store *st, struct jerr *err)
{
	return st->ops->release ? st->ops->release(st, err) : 0;
}

int
store_nodes(struct store *st, struct store_node **v, size_t *n, int64_t *now,
	    struct jerr *err)
{
	struct timespec ts;

	*v = NULL;
	*n = 0;
	if (st->ops->nodes)
		return st->ops->nodes(st, v, n, now, err);
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0) {
		jerr_set(err, "store: clock_gettime: %s", strerror(errno));
		return -1;
	}
	*now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	return 0;
}

void
store_nodes_free(struct store_node *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int
store_write(struct store *st, struct store_write *w, struct jerr *err)
{
	return st->ops->write(st, w, err);
}

int
store_claim(struct store *st, int64_t now, size_t max, store_pick_fn pick, void *arg,
	    struct store_job **v, size_t *n, struct jerr *err)
{
	return st->ops->claim(st, now, max, pick, arg, v, n, err);
}

int
store_next_due(struct store *st, int64_t *at, struct jerr *err)
{
	return st->ops->next_due(st, at, err);
}

int
store_recover(struct store *st, store_recover_fn fn, store_after_fn after, void *arg,
	      struct jerr *err)
{
	return st->ops->recover(st, fn, after, arg, err);
}

int
store_fire(struct store *st, int64_t now,
	   int (*fire)(void *arg, const struct store_job *row, int64_t *at, int64_t *run_at,
		       size_t *nat, struct store_job *newrow),
	   void *arg, struct jerr *err)
{
	if (st->ops->fire == NULL) {
		jerr_set(err, "store: a %s store has no cron fires of its own", st->ops->kind);
		errno = ENOTSUP;
		return -1;
	}
	return st->ops->fire(st, now, fire, arg, err);
}

int
store_fd(const struct store *st)
{
	return st->ops->fd ? st->ops->fd(st) : -1;
}

int
store_poll(struct store *st, struct jerr *err)
{
	return st->ops->poll ? st->ops->poll(st, err) : 0;
}

int
store_kill_request(struct store *st, const char *id, char **status, struct jerr *err)
{
	*status = NULL;
	if (st->ops->kill_request == NULL) {
		jerr_set(err, "store: a %s store asks its supervisor to stop a job", st->ops->kind);
		errno = ENOTSUP;
		return -1;
	}
	return st->ops->kill_request(st, id, status, err);
}

int
store_kill_requests(struct store *st, char ***ids, struct jerr *err)
{
	*ids = NULL;
	return st->ops->kill_requests ? st->ops->kill_requests(st, ids, err) : 0;
}

const char *
store_name(const struct store *st)
{
	return st->ops->name(st);
}

int
store_cron_list(struct store *st, struct store_job **v, size_t *n, struct jerr *err)
{
	return st->ops->cron_list(st, v, n, err);
}

/* ---- history ---- */

int
store_history(struct store *st, const struct store_run_filter *filter, struct store_run **v,
	      size_t *n, struct jerr *err)
{
	static const struct store_run_filter any = { .max = -1 };

	return st->ops->history(st, filter ? filter : &any, v, n, err);
}

int
store_history_stats(struct store *st, const struct store_run_filter *filter,
		    struct store_route_stats **v, size_t *n, struct jerr *err)
{
	static const struct store_run_filter any = { .max = -1 };

	return st->ops->stats(st, filter ? filter : &any, v, n, err);
}

bool
store_history_has_route(struct store *st, const char *route)
{
	return st->ops->has_route(st, route);
}

int
store_follow(struct store *st, const char *id, int64_t after, struct store_job *j,
	     struct store_run **v, size_t *n, struct jerr *err)
{
	return st->ops->follow(st, id, after, j, v, n, err);
}

int
store_run_set_dropped(struct store *st, const char *log, int64_t dropped, struct jerr *err)
{
	return st->ops->set_dropped(st, log, dropped, err);
}

/* ---- pruning ---- */

int
store_prune(struct store *st, int64_t before, const char *logdir,
	    struct store_prune_result *res, struct jerr *err)
{
	return st->ops->prune(st, before, logdir, res, err);
}

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

void
store_prune_logs(const char *logdir, char **logs, size_t n, struct store_prune_result *res)
{
	char *dir = logdir ? realpath(logdir, NULL) : NULL;

	/* Only files of this state directory, named as the supervisor
	 * names them (a directory that cannot be resolved is taken as
	 * given). */
	if (logdir && dir == NULL)
		dir = strdup(logdir);
	for (size_t i = 0; i < n; i++) {
		struct jerr uerr = JERR_INIT;
		int r;

		if (dir == NULL || !is_state_log(dir, logs[i])) {
			res->logs_kept++;
			continue;
		}
		r = outlog_remove(dir, logs[i], &uerr);
		jerr_free(&uerr);
		if (r > 0)
			res->logs++;
		else if (r < 0)
			res->logs_failed++;
	}
	free(dir);
}
