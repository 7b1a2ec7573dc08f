/* SPDX-License-Identifier: ISC */
/* The supervisor's internals (sup.c and sup*.c): the data types its
 * layers share, and the small helpers they all use.  Not for use outside
 * the supervisor: its interface is sup.h.
 *
 * The layers, bottom to top.  Each calls only the layers under it, and
 * reaches up only through a function pointer an upper layer set: a
 * watch's or a timer's callback, a run's kind (struct run_kind), a hook
 * of struct sup_hooks.  Each declares its functions in a header of its
 * own, which a file includes only for the layers under it:
 *   runstate.c    runstate.h
 *   guard.c       guard.h
 *   suploop.c     sup-loop.h
 *   supwait.c     sup-wait.h
 *   supcronrow.c  sup-cronrow.h
 *   supbatch.c    sup-batch.h
 *   supout.c      sup-out.h
 *   suprun.c      sup-run.h
 *   supend.c      sup-end.h
 *   supgate.c     sup-gate.h
 *   supcron.c     sup-cron.h
 *   supjobs.c     sup-jobs.h
 *   supshared.c   sup-shared.h
 *   supreload.c   sup-reload.h
 *   supctl.c      sup-ctl.h
 *   sup.c         sup.h
 */
#ifndef JOBIFY_SUP_PRIVATE_H
#define JOBIFY_SUP_PRIVATE_H

#include <errno.h>
#include <fcntl.h>
#include <libutil.h>
#include <limits.h>
#include <pthread.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "conf.h"
#include "cron.h"
#include "exitcode.h"
#include "ctl.h"
#include "guard.h"
#include "jlog.h"
#include "jobenv.h"
#include "job.h"
#include "lifespan.h"
#include "mail.h"
#include "metrics.h"
#include "notify.h"
#include "outlog.h"
#include "paths.h"
#include "policy.h"
#include "route.h"
#include "runstate.h"
#include "spawn.h"
#include "statedir.h"
#include "store.h"
#include "strv.h"
#include "sup.h"
#include "theap.h"
#include "timefmt.h"
#include "words.h"

extern char **environ;

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)

/* Fires of one overlap = queue route waiting for the previous run. */
#define QUEUE_MAX 64
/* The pid table's buckets (chained). */
#define PID_BUCKETS 1024
/* Jobs of the store claimed and started in one turn of the loop, at most:
 * a burst is started a slice a turn, between the reaping of what exited
 * and the timers that came due. */
#define SPAWNS_PER_TURN 32
/* How long the loop waits for another process's write transaction on
 * the store (ms): what it could not write it keeps, and tries again. */
#define LOOP_BUSY_MS 50
/* The delay before a batch that could not be written is tried again:
 * the first, and the longest it doubles to (ms). */
#define FLUSH_DELAY_MS 100
#define FLUSH_DELAY_MAX_MS 5000
/* Writes of the batch in one store_write once the loop runs (sup_cron_flush):
 * a reload that removed 100,000 durable tasks wrote their rows in one
 * transaction that held the loop 0.5 s; in slices of this many, about
 * 20 ms each, with a turn of the loop between them. */
#define BATCH_PER_TURN 1024
/* The delay before a start the system refused for now (EAGAIN: a
 * process limit) is tried again: the first, and the longest (ms). */
#define SPAWN_DELAY_MS 50
#define SPAWN_DELAY_MAX_MS 2000
/* In the state directory: a line "ID ATTEMPT START_MS" for each claimed
 * job whose process started, written by the process itself just before
 * its execve (spawn_opts.note), emptied once the starts are in the
 * store.  It tells a job that started from one that did not, when the
 * supervisor died between a claim and the record of the start (see
 * recover). */
#define STARTS_FILE "starts"

struct sup;
struct pend;

/* What epoll_event.data.ptr points to: ON is called when its descriptor
 * is ready (NULL: nothing but the wake-up).  A timer's callback (theap.h)
 * is called with the struct sup as its context. */
struct watch {
	void (*on)(struct sup *s, struct watch *w);
};

/* What a layer makes happen in a layer above it: the upper layer's
 * functions, set by sup.c (sup_wire) before anything runs.  The
 * supervisor's files call the files below them directly, and those
 * above only through these, a watch's or a timer's callback. */
struct sup_hooks {
	/* suploop.c: each turn, before the batch: outer middleware waiting
	 * for a place starts (sup_crongate_turn). */
	void (*turn)(struct sup *s);
	/* Writes wait in the turn's batch (sup_batch_pending); write them
	 * (sup_cron_flush). */
	bool (*batch_pending)(const struct sup *s);
	void (*batch_write)(struct sup *s);
	/* After a turn's events: what they closed is freed, and more jobs
	 * of the store are started when some are due (s->again). */
	void (*events_done)(struct sup *s);
	/* The realtime timers due this turn ran (the cluster's fires). */
	void (*real_done)(struct sup *s);
	/* The clock was set, to AT (ns): the cron tasks' fires planned again. */
	void (*clock_set)(struct sup *s, int64_t at);
	/* The children that exited are reaped (sup_reap). */
	void (*reap)(struct sup *s);
	/* The supervisor stops: SIG, or 0 when its state directory is gone. */
	void (*stop)(struct sup *s, int sig);
	/* suprun.c: a retry's wait is over: it is asked for again
	 * (sup_request). */
	void (*request)(struct sup *s, struct pend *p);
	/* supbatch.c: a written batch scheduled a job of the store (a
	 * retry, a dynamic cron job's next fire, a release): the store
	 * timer is armed again (sup_store_rearm). */
	void (*store_rearm)(struct sup *s);
};

/* A line-splitting reader of one output pipe (output = inherit, and the
 * run-form lifespan processes). */
struct outpipe {
	struct watch w;
	int fd;
	int stream;		/* 1 stdout, 2 stderr */
	struct run *run;	/* whose output it is; NULL for a lifespan's */
	struct outpipe *dead;	/* closed, to be freed after this turn */
	bool relay;		/* output = log with a cap: bytes to run->logw */
	size_t len;
	char buf[2048];
};

/* The row of a durable cron task in the store, as the loop keeps it:
 * the store's row (struct store_job) less what its track has already
 * (id and route are the track's name) and what is the same in every
 * such row (trigger cron, no args, scheduled_at = run_at); a store_job
 * is made of it for each write (sup_cronrow_job).  Some 110 bytes where a
 * copy of the store's row took 440 with its nine allocations. */
struct cronrow {
	int64_t run_at;		/* the cron time it is planned for (ms) */
	int64_t created_at, started_at, finished_at; /* ms; 0: not yet */
	int64_t last_fire;	/* the latest cron time handled (ms), 0 none */
	long runs;		/* fires run */
	long failures;		/* failed runs in a row */
	long attempts;		/* of the latest fire */
	int exit_code;		/* the last run's, when has_exit: 128+N for a signal */
	int signal;		/* 0: none */
	enum job_status status;
	bool has_exit;
	char *cron;		/* the expression its counters are for */
	char *log;		/* the last run's log file, or NULL */
	char **env;		/* its outer middleware's answer (supgate.c), or NULL */
};

/* What lives across reloads, per route name. */
struct track {
	struct track *next;
	unsigned busy;		/* runs in flight and retries waiting */
	unsigned nq;
	struct pend *qhead, *qtail; /* overlap = queue: fires waiting */
	struct outlog log;	/* output = log: the route's log directory */
	/* A durable cron task: its row in the store (status, counters, last
	 * run), kept here and written in the batch at the end of each turn
	 * of the loop when DIRTY.  NULL when the task is not durable. */
	struct cronrow *cj;
	bool dirty;		/* a STORE_CRON of the batch will write it */
	unsigned mark;		/* sup_cron_sync's: still a durable cron task */
	unsigned lost;		/* at start: the attempt we died under, to retry */
	int64_t fired;		/* the latest cron time fired or missed (s), 0 none */
	struct crongate *gate;	/* its outer middleware's answer (supgate.c);
				 * NULL: it never had any */
	char name[];		/* the route's (in the same allocation) */
};

/* A place in the table of tracks by name: the name's hash beside the
 * track, so that a probe past another name reads no track (at a million
 * routes, each read of one a cache miss). */
struct trackslot {
	struct track *t;	/* NULL: free */
	size_t hash;
};

/* How long one outer-middleware gate of a config cron task may run
 * before its process group is killed, which refuses the task (ms). */
#define GATE_TIMEOUT_MS 60000
/* Gates running at once; the others wait their turn, in order: a first
 * start with an app-wide gate over 100k cron tasks must not fork them
 * all at once. */
#define GATES_AT_ONCE 16

/* Where a config cron task's outer middleware stands. */
enum crongate_state {
	CG_NONE,	/* no gate on its way: its fires run as they come */
	CG_WAIT,	/* its gates run, or wait to: its fires wait for the answer */
	CG_PASS,	/* let through: ENV joins the environment of each run */
	CG_REFUSED,	/* refused: each fire is skipped, with REASON */
};

/* A config cron task's outer middleware: the answer of its gates to the
 * task as it is now (KEY), which holds until KEY changes, or, for a
 * refusal, until a reload or restart runs them again. */
struct crongate {
	enum crongate_state state;
	char *key;		/* what the answer (or the run under way) is for */
	char **env;		/* CG_PASS: the gates' KEY=VALUE lines, in order */
	char *reason;		/* CG_REFUSED: the gate's message */
	struct gaterun *run;	/* CG_WAIT: its run, waiting or running */
	unsigned mark;		/* sup_crongate_sync's: still a cron task */
	bool unstored;		/* a shared store: this answer is not on the
				 * task's row yet (sup_crongate_shared writes it) */
	int64_t answered;	/* ms: when it came (a newer one wins a row) */
	/* CG_WAIT: the earliest fire that came due meanwhile, its timer
	 * put back (at PARKED_AT, for cron time PARKED_CRON) once the
	 * answer is in: then it runs, or meets the misfire policy. */
	bool parked;
	int64_t parked_at, parked_cron;	/* ns, s */
	struct pend *held, *held_tail;	/* CG_WAIT: other starts that wait */
};

struct gen;

/* A route of one config generation. */
struct rstate {
	struct timer fire;	/* on the realtime heap */
	struct gen *gen;
	const struct route *route;
	struct track *track;
	const struct tz *tz;
	int64_t next_cron;	/* the cron time the timer is for (s) */
	struct rids *ids;	/* a task with user or group: who it runs as,
				 * from its first run on; NULL before, or none */
	char *workdir;		/* resolved */
};

/* Who a route of a generation runs as (user, group), resolved at its
 * first run: only such routes have one, not every route of 100,000. */
struct rids {
	int rc;			/* spawn_ids_resolve's, or -1 */
	struct spawn_ids ids;
	char **base;		/* the base environment for those ids */
};

/* What a reload's thread finds of each new route in the old config
 * (supreload.c): the index of the route of that name there, or
 * ROUTE_NONE; with ROUTE_SAME when its schedule is unchanged (its
 * planned fire is kept). */
#define ROUTE_SAME (((size_t)-1 >> 1) + 1)	/* the top bit */
#define ROUTE_NONE (ROUTE_SAME - 1)

/* One loaded config: the routes and what runs still refer to it. */
struct gen {
	struct conf *conf;
	unsigned refs;
	struct rstate *rs;	/* one per attached route */
	size_t n;
};

struct sup;
struct pend;
struct run;

/* What differs between the kinds of run, a config cron task's (supcron.c)
 * and a job of the store's (supjobs.c): filled by the layer that owns
 * the kind, called by those under it that start and end runs (suprun.c,
 * supend.c).  A failure handler's run has its job's kind, unused. */
struct run_kind {
	/* Before P starts: true when it does not start now (it waits, or
	 * was skipped: P is taken); NULL: it starts. */
	bool (*hold)(struct sup *s, struct pend *p);
	/* R starts: its process is spawned next.  NULL: nothing to do. */
	void (*started)(struct sup *s, struct run *r);
	/* R's process ended with OUTCOME (CODE, SIG), and R was not fenced:
	 * its record, and its retry or its failure handler. */
	void (*ended)(struct sup *s, struct run *r, enum job_status outcome, int code, int sig);
};

/* A run waiting to start: a queued fire, a retry, or one waiting for a
 * max-parallel slot. */
struct pend {
	struct timer t;		/* on the monotonic heap: sup_pend_due */
	struct pend *next;
	const struct run_kind *kind;
	struct gen *gen;	/* a reference */
	struct rstate *rs;
	unsigned attempt;
	int64_t scheduled;	/* the cron time it is for (s) */
	const char *trigger;
	bool busy;		/* counted in track->busy already (a retry) */
	struct store_job *job;	/* a job of the store, owned; NULL for cron */
	char *log_path;		/* a job of the store: its log, named at claim */
};

/* A client of the control socket. */
struct client {
	struct watch w;
	struct ctl_conn *c;
	struct client *next;
	char **wait;		/* the job ids its `wait` waits for, or NULL */
	uint64_t reload;	/* the load (supload.seq) its `reload` waits for, 0 none */
};

struct run {
	struct timer timeout;	/* monotonic */
	struct timer kill;	/* monotonic */
	struct run *next, *prev, *hnext;
	struct gen *gen;	/* a reference */
	struct rstate *rs;
	const struct run_kind *kind;
	pid_t pid;
	bool handler;		/* a failure handler, not a job */
	/* Where it stands (runstate.h): changed by sup_run_step alone. */
	struct runstate st;
	unsigned attempt;
	int64_t scheduled;
	const char *trigger;
	int64_t start_ms, start_mono_ms;
	struct outpipe *out[2];	/* output = inherit; out[0] output = log, capped */
	char *log_path;		/* output = log */
	struct outlog_writer logw; /* output = log, capped: the file */
	bool logw_open;
	/* A job of the store, owned; NULL for cron.  A handler's is the
	 * job's it handles (its environment), never written to the store. */
	struct store_job *job;
};

/* A run lost with its supervisor (found running at start) that failed
 * for good (no retry follows): its failure handler runs, as after every
 * other failure, once the lifespans run (sup_lost_handlers). */
struct lost {
	struct lost *next;
	char *route;
	unsigned attempt;
	int64_t scheduled;	/* s: a config cron run's cron time */
	int64_t started;	/* ms; 0: not known */
	char *log;
	struct store_job *job;	/* a job of the store, owned; NULL: a config cron run */
};

/* A reload's load of the config, in a thread of its own (supreload.c). */
struct supload {
	struct watch w;
	int efd;		/* an eventfd the thread writes when done; -1 none */
	pthread_t thread;
	bool running;		/* a thread loads, not joined yet */
	bool again;		/* asked for while one loads: load once more after */
	const char *why;	/* the running load's asker: "SIGHUP", "control" */
	const char *again_why;
	uint64_t seq;		/* loads started: the latest's number (from 1) */
	/* The thread's while it runs; the loop's once it is joined. */
	char *path;		/* the file (the one the supervisor started with) */
	const struct conf *old;	/* the running config, read (not written) */
	struct conf *conf;	/* conf_load's result */
	struct gen *gen;	/* of it (sup_gen_build), without its tracks */
	size_t *prev;		/* per route of it: ROUTE_NONE, or its index in
				 * OLD, | ROUTE_SAME (what apply needs) */
	struct diag diag;
	bool noperm;
	int64_t load_ms;	/* how long conf_load took */
};

struct sup {
	struct gen *cur, *gen0;	/* gen0: the lifespans' config */
	char *state_dir;
	struct statedir_lock *lock;
	char **base;
	struct lifespan_set ls;
	struct lifespan_ctx lctx;
	struct outpipe **lsout;	/* run-form lifespans' pipes being read */
	struct outpipe *dead;	/* closed this turn: an event of the same
				 * epoll_wait may still point at them */
	size_t nlsout;

	int ep, sfd, tfd_real, tfd_mono;
	int ifd;		/* inotify on the state directory, or -1 */
	struct watch w_signal, w_real, w_mono, w_state;
	struct watch w_guard;	/* the guard's pipe, for EPOLLOUT while records wait */
	bool guard_watched;
	struct theap real, mono;
	int64_t real_armed, mono_armed; /* what each timerfd is set to; -1: unknown */
	int64_t real_now;	/* ns: the time the realtime heap's due timers run at */
	bool shared_due;	/* a shared store: fires came due this turn */
	struct sup_hooks hooks;

	struct track *tracks;
	struct trackslot *track_tab; /* open addressing by name, for track_get */
	struct arena track_arena;	/* the tracks */
	size_t track_cap, ntracks;
	struct run *runs;	/* every live run */
	struct lost *lost;	/* lost runs whose handler waits for the start */
	struct run *pids[PID_BUCKETS];
	size_t nruns;		/* jobs running (not handlers) */
	size_t nhandlers;
	struct pend *slot_head, *slot_tail; /* waiting for max-parallel */
	size_t npend;		/* retries waiting */
	size_t nqueued;		/* fires in the tracks' overlap queues: the sum of
				 * their nq, kept so that a status need not
				 * walk a million tracks */

	bool stopping, terminating;
	struct timer grace;	/* monotonic: the shutdown grace */
	struct store *store;
	struct timer store_due;	/* realtime: the next one-off job */
	struct timer prune;	/* monotonic: keep-ended's next turn */
	int lfd;		/* the control socket */
	struct watch w_ctl;
	char *sock_path;
	struct client *clients;
	struct timer flush_t;	/* the batch is tried again (at the turn's end) */
	int64_t flush_delay;	/* 0, or the batch failed: the next delay (ms) */
	unsigned flush_fails;	/* failed writes of the batch in a row */
	struct jlog_rate flush_rate; /* its store-unwritten lines (sup_cron_flush) */
	struct jlog_rate store_rate; /* the store's failures of the loop (sup_store_failed) */
	int64_t spawn_delay;	/* 0, or a start met EAGAIN: the next delay (ms) */
	int64_t flush_until;	/* stopping: how long a batch is tried (mono ms) */
	size_t batch_max;	/* writes per store_write; 0: all (until ready) */
	int starts_fd;		/* STARTS_FILE, O_APPEND; -1: none */
	bool starts_used;	/* it has lines the store may not have yet */
	bool again;		/* more jobs of the store due: pickup next turn */
	bool slot_wait;		/* jobs of the store wait for max-parallel */
	unsigned long nkeys;	/* cron runs named (their log's key) */
	size_t nclients, max_clients; /* served at once; more wait in the backlog */
	bool ctl_paused;	/* lfd out of the epoll set: at max_clients, or no fds */
	struct timer ctl_retry;	/* listen again after running out of fds */
	int64_t ctl_logged_ms;	/* monotonic: when control-busy was last logged */
	unsigned long ctl_unlogged; /* control-busy events since */
	/* The writes of the turn (struct bw), in order, written at its end
	 * in one store_write: ends, starts and releases of jobs of the
	 * store, rows of durable cron tasks and the history of their runs. */
	struct store_write *batch;
	struct store_write **batch_tail;
	struct store_write **rest_tail;	/* batch_cut's: the tail of what it cut off */
	char owner[128];	/* the store's owner: HOST:PID:START_MS */
	unsigned sync_mark;
	struct notify nt;	/* systemd: watchdog and STATUS= */
	struct metrics *metrics; /* for metrics-file; NULL when out of memory */
	int64_t metrics_next;	/* mono ms: the next periodic write */
	int64_t metrics_last;	/* mono ms: the last write */
	bool metrics_dirty;	/* a run ended since the last write */
	bool metrics_failing;	/* the last write failed (logged once) */
	int status;
	int64_t started_ms;	/* when this supervisor started, for `status` */
	struct mailer *mailers;	/* sendmail processes of mail-to, to reap */
	struct gaterun *gates;	/* outer-middleware runs with a gate running */
	struct gaterun *gate_head, *gate_tail; /* runs waiting for a place */
	struct gaterun *gate_dead; /* ended this turn: freed at the next */
	size_t ngates;		/* of GATES */
	unsigned gate_mark;
	bool gate_release;	/* tasks ungated this sync: what waited goes on */
	/* A store shared with supervisors on other machines (supshared.c);
	 * with SQLite, shared is false and the rest unused. */
	bool shared;		/* store_shared(store) */
	bool fenced;		/* our lease could not be renewed: nothing claimed
				 * or fired until we are registered again */
	bool differs;		/* our config is not the cluster's: nothing
				 * claimed or fired, what runs runs on */
	bool rows_unsynced;	/* the rows of config cron tasks wait for a write */
	struct timer heartbeat;	/* monotonic: lease renewal, reaping */
	struct timer poll;	/* monotonic: claims and fires without a wake-up */
	int64_t lease_end;	/* mono ms: when our lease ends, as we count it */
	int64_t differs_logged;	/* mono ms: config-differs last logged; 0 never */
	int64_t skew_logged;	/* mono ms: clock-skew last logged; 0 never */
	int64_t fence_logged;	/* mono ms: a failed re-registration last logged */
	int store_fd;		/* the store's wake-up descriptor in the epoll set, or -1 */
	struct watch w_store;
	char hash[CONF_HASH_LEN + 1]; /* conf_hash of the running config */
	struct supload load;	/* a reload's */
};

/* A sendmail of mail-to (mail.h) on its way. */
struct mailer {
	struct mailer *next;
	pid_t pid;
	char *route;
};

/* One write of the turn's batch, with the strings its store_write names.
 * An END of a job of the store is written in one synchronous=FULL
 * transaction with the others: a burst of exits costs one fsync.  Until
 * it is written the job is `running` in the store: a crash before then
 * makes it a lost run, retried if it has retries left. */
struct bw {
	struct store_write w;	/* first: the batch is linked by w.next */
	char *id, *route, *log;	/* what w.end names */
	struct store_job *next_run; /* a dynamic cron job's next (w.job of an END) */
	struct track *tr;	/* STORE_CRON: w.job is JOB, made of tr->cj, when written */
	struct store_job job;
	struct store_count count; /* w.count's, when set (a fire's last end) */
	bool ended;		/* an END for good: tell waiters once written */
};

#define BW(wp) container_of((wp), struct bw, w)

/* A fire more than this late was missed (downtime, a clock step): the
 * task's misfire policy decides.  Less is load, and runs. */
#define MISFIRE_SLACK_MS 10000
/* A step of the clock back by up to this much does not run again the cron
 * times already run: their routes resume after the latest.  A bigger step
 * is taken for a correction of a clock that was wrong, and planning starts
 * from the new time (cron's rule, with its 3 hours). */
#define BACK_STEP_MAX_S (3 * 3600)
#define MISFIRE_SCAN 100000	/* cron times looked at for one misfire */
#define MISFIRE_ALL_MAX 1000	/* missed fires `misfire = all` runs */
#define LIFESPAN_EXTEND_USEC (90ULL * 1000000) /* EXTEND_TIMEOUT_USEC per startup hook */
/* Reads of a relayed log pipe a turn (64 KiB each): a flood costs the
 * loop at most 2 MiB of copying before the timers get their turn. */
#define RELAY_READS 32


/* ---- small helpers ---- */

static inline int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* V (seconds or ms) times UNIT as nanoseconds, saturated at INT64_MAX
 * (2262-04-11T23:47:16Z) and at 0: a far time from an old store row is
 * planned at the end of time, never wrapped into the past (which
 * disarmed the timer and stopped every fire). */
static inline int64_t
sat_ns(int64_t v, int64_t unit)
{
	if (v <= 0)
		return 0;
	return v > INT64_MAX / unit ? INT64_MAX : v * unit;
}

/* A + B (B >= 0), saturated at INT64_MAX. */
static inline int64_t
sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static inline void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static inline void
log_error(const char *event, const char *route, const char *msg)
{
	struct jlog_line l;

	jlog_begin(&l, JLOG_ERROR, event);
	if (route)
		jlog_str(&l, "route", route);
	jlog_str(&l, "error", msg);
	jlog_end(&l);
}

/* A router in the log: its id, or the app's. */
static inline const char *
router_label(const struct router *r)
{
	return r->id ? r->id : "(app)";
}

static inline void
iso(int64_t t, const struct tz *tz, char *buf)
{
	timefmt_iso(t, tz ? tz : tz_get(NULL, NULL), buf, TIMEFMT_BUFSZ);
}

#endif
