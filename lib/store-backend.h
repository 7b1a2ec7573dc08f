/* SPDX-License-Identifier: ISC */
/* What a store backend fills: one function per job operation of
 * store.h, with the same contract.  store.c dispatches to it and keeps
 * what is the same for every backend (ids, freeing, the URI choice).
 *
 * A backend's connection begins with `struct store`: its own struct
 * starts with one, so that store.c can read the ops. */
#ifndef JOBIFY_STORE_BACKEND_H
#define JOBIFY_STORE_BACKEND_H

#include "store.h"

struct store_ops {
	const char *kind;		/* "sqlite", "postgresql" */
	bool shared;			/* several supervisors may use it */
	int (*open)(const char *where, struct store **out, struct jerr *err);
	void (*close)(struct store *st);
	void (*set_wait)(struct store *st, int ms);
	int (*add)(struct store *st, const struct store_job *v, size_t n, unsigned flags,
		   size_t *bad, struct jerr *err);
	int (*get)(struct store *st, const char *id, struct store_job *out, struct jerr *err);
	int (*each)(struct store *st, const struct store_filter *f,
		    int (*fn)(const struct store_job *j, void *arg), void *arg,
		    struct jerr *err);
	int (*cancel)(struct store *st, const char *id, char **status, struct jerr *err);
	int (*owner_set)(struct store *st, const struct store_owner *o, bool *same,
			 struct jerr *err);
	int (*heartbeat)(struct store *st, int64_t *until, struct jerr *err);
	int (*release)(struct store *st, struct jerr *err);	/* NULL: 0 */
	int (*write)(struct store *st, struct store_write *w, struct jerr *err);
	int (*claim)(struct store *st, int64_t now, size_t max, store_pick_fn pick, void *arg,
		     struct store_job **v, size_t *n, struct jerr *err);
	int (*next_due)(struct store *st, int64_t *at, struct jerr *err);
	int (*recover)(struct store *st, store_recover_fn fn, store_after_fn after, void *arg,
		       struct jerr *err);
	int (*fire)(struct store *st, int64_t now,
		    int (*fire)(void *arg, const struct store_job *row, int64_t *at,
				int64_t *run_at, size_t *nat, struct store_job *newrow),
		    void *arg, struct jerr *err);	/* NULL: ENOTSUP */
	int (*fd)(const struct store *st);		/* NULL: -1 */
	int (*poll)(struct store *st, struct jerr *err);	/* NULL: 0 */
	int (*cron_list)(struct store *st, struct store_job **v, size_t *n,
			 struct jerr *err);
	int (*history)(struct store *st, const struct store_run_filter *f,
		       struct store_run **v, size_t *n, struct jerr *err);
	int (*stats)(struct store *st, const struct store_run_filter *f,
		     struct store_route_stats **v, size_t *n, struct jerr *err);
	bool (*has_route)(struct store *st, const char *route);
	int (*follow)(struct store *st, const char *id, int64_t after, struct store_job *j,
		      struct store_run **v, size_t *n, struct jerr *err);
	int (*set_dropped)(struct store *st, const char *log, int64_t dropped,
			   struct jerr *err);
	int (*prune)(struct store *st, int64_t before, const char *logdir,
		     struct store_prune_result *res, struct jerr *err);
	int (*kill_request)(struct store *st, const char *id, char **status,
			    struct jerr *err);		/* NULL: ENOTSUP */
	int (*kill_requests)(struct store *st, char ***ids, struct jerr *err);	/* NULL: none */
	int (*nodes)(struct store *st, struct store_node **v, size_t *n, int64_t *now,
		     struct jerr *err);			/* NULL: none */
	const char *(*name)(const struct store *st);
};

struct store {
	const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;
#ifdef HAVE_LIBPQ
extern const struct store_ops store_pg_ops;
#endif

/* Shared by backends: the file operations of pruning, after the rows
 * are gone.  The log files LOGS (N of them) no remaining row names are
 * removed when they are files of LOGDIR's tree; counted in RES. */
void store_prune_logs(const char *logdir, char **logs, size_t n,
		      struct store_prune_result *res);

#endif
