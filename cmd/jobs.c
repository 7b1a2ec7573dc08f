/* jobify schedule, jobs, status, cancel, wait: the job store from the shell. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "cron.h"
#include "ctl.h"
#include "duration.h"
#include "esc.h"
#include "gate.h"
#include "json.h"
#include "jobenv.h"
#include "lifespan.h"
#include "job.h"
#include "paths.h"
#include "policy.h"
#include "route.h"
#include "spawn.h"
#include "statedir.h"
#include "store.h"
#include "strv.h"
#include "table.h"
#include "timefmt.h"
#include "tz.h"
#include "words.h"

extern char **environ;

/* Tell a running supervisor that the store changed (a new job, a
 * cancelled one).  None running is fine: it reads the store at start.
 * It answers before it looks, so this costs one round trip. */
static void
wake(const struct cli *cli, const struct conf *conf, const char *dir)
{
	struct ctl_client *cl;
	char *line = NULL;
	int rc;

	if ((cl = cmd_sup_connect(cli, NULL, conf, dir, &rc)) == NULL) {
		pid_t pid;

		/* No socket answers where we look (another $XDG_RUNTIME_DIR?),
		 * or none accepted us in time (a full backlog), yet the state
		 * dir may have a supervisor: it takes SIGUSR1. */
		if ((rc == JX_OK || rc == JX_UNAVAILABLE) && statedir_holder(dir, &pid, NULL) == 1)
			(void)kill(pid, SIGUSR1);
		return;
	}
	if (ctl_request(cl, "wake", 0, NULL, NULL) == 0)
		(void)ctl_reply(cl, 2000, &line, NULL);
	free(line);
	ctl_client_close(cl);
}

/* ---- schedule ---- */

/* Run the outer middleware of R (app first) for job J: each may refuse
 * it (its stderr is printed, 65) or add KEY=VALUE lines to its env. */
static int
gate(const struct cli *cli, const char *where, const struct conf *c, const struct route *r,
     struct store_job *j)
{
	struct jerr err = JERR_INIT;
	enum gate_error why;
	int rc = JX_OK;

	if (gate_run(c, r, j, environ, &why, &err) < 0) {
		cmd_error(cli, "%s: %s", where, jerr_msg(&err));
		rc = why == GATE_CONFIG ? JX_CONFIG : why == GATE_NOMEM ? JX_SOFTWARE : JX_DATAERR;
	}
	jerr_free(&err);
	return rc;
}

/* One `schedule` request: its options, from the command line or from a
 * line of --stdin. */
struct sched {
	const char *in, *at, *cron, *id;
	bool replace, from_stdin;
	int when_opts;
	char **env;		/* --env K=V, owned */
};

/* Parse schedule's options in ARGV into S; optind is then the route's
 * index.  A LINE of --stdin takes no -c, --help or --stdin, and its errors
 * are data errors (65) named by WHERE ("schedule: stdin:3").  -1 to go
 * on, else the exit status. */
static int
sched_parse(struct cli *cli, const char *where, int argc, char **argv, bool line,
	    struct sched *s)
{
	enum { OPT_NOW = 256, OPT_IN, OPT_AT, OPT_CRON, OPT_ID, OPT_REPLACE, OPT_ENV,
	       OPT_STDIN };
	static const struct option longopts[] = {
		{ "now",     no_argument,       NULL, OPT_NOW },
		{ "in",      required_argument, NULL, OPT_IN },
		{ "at",      required_argument, NULL, OPT_AT },
		{ "cron",    required_argument, NULL, OPT_CRON },
		{ "id",      required_argument, NULL, OPT_ID },
		{ "replace", no_argument,       NULL, OPT_REPLACE },
		{ "env",     required_argument, NULL, OPT_ENV },
		{ "stdin",   no_argument,       NULL, OPT_STDIN },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	/* A line's options: the first seven, then the table's end. */
	static struct option lineopts[8];
	int opt, bad = line ? JX_DATAERR : JX_USAGE;

	if (line) {
		if (lineopts[0].name == NULL)
			memcpy(lineopts, longopts, 7 * sizeof *longopts);
		optind = 0;	/* glibc: start afresh on a new vector */
		opterr = 0;
	}
	for (;;) {
		opt = line ? getopt_long(argc, argv, "", lineopts, NULL) :
			     cmd_getopt(cli, "schedule", argc, argv, "c:h", longopts);
		if (opt == -1)
			break;
		switch (opt) {
		case OPT_NOW:
			s->when_opts++;
			break;
		case OPT_IN:
			s->in = optarg;
			s->when_opts++;
			break;
		case OPT_AT:
			s->at = optarg;
			s->when_opts++;
			break;
		case OPT_CRON:
			s->cron = optarg;
			s->when_opts++;
			break;
		case OPT_ID:
			if (!store_id_valid(optarg)) {
				cmd_error(cli, "%s: --id: '%s': use 1 to %d of A-Z a-z 0-9 _ . : -",
					  where, optarg, STORE_ID_MAX);
				return JX_DATAERR;
			}
			s->id = optarg;
			break;
		case OPT_REPLACE:
			s->replace = true;
			break;
		case OPT_ENV: {
			const char *eq = strchr(optarg, '=');

			if (eq == NULL || !jobenv_key_valid(optarg, (size_t)(eq - optarg)) ||
			    strncmp(optarg, "JOBIFY_", 7) == 0) {
				cmd_error(cli, "%s: --env: '%s': expected KEY=VALUE with a "
					  "variable name not starting with JOBIFY_", where, optarg);
				return JX_DATAERR;
			}
			if (strv_push(&s->env, optarg) < 0)
				return JX_SOFTWARE;
			break;
		}
		case OPT_STDIN:
			s->from_stdin = true;
			break;
		case OPT_CONFIG:
			break;
		case OPT_HELP:
			return cmd_usage(cli, "schedule", JX_OK);
		default:
			if (line) {
				cmd_error(cli, "%s: '%s': unknown option, or one without its value",
					  where, argv[optind - 1]);
			}
			return bad;
		}
	}
	if (s->when_opts > 1) {
		if (line) {
			cmd_error(cli, "%s: --now, --in, --at and --cron exclude each other", where);
			return bad;
		}
		return cmd_usage_error(cli, "schedule", "--now, --in, --at and --cron exclude "
				       "each other");
	}
	if (s->replace && s->id == NULL) {
		/* It would replace whichever job had the id made for it. */
		if (line) {
			cmd_error(cli, "%s: --replace needs --id", where);
			return bad;
		}
		return cmd_usage_error(cli, "schedule", "--replace needs --id");
	}
	if (s->from_stdin) {
		if (optind < argc || s->when_opts || s->id || s->replace || s->env)
			return cmd_usage_error(cli, "schedule", "--stdin takes its jobs from "
					       "standard input: no route or other option here");
		return -1;
	}
	if (optind >= argc) {
		if (line) {
			cmd_error(cli, "%s: a route is needed", where);
			return bad;
		}
		return cmd_usage_error(cli, "schedule", "a route is needed");
	}
	return -1;
}

/* Job *J for request S of ARGV (route at ARGV[OPTIND], its ARGs after),
 * its times from NOW, its id into NEWID unless --id; *J takes S's env.
 * The route's outer middleware is not run here (gate).  JX_OK or the exit
 * status after printing why; *ROUTE is the route. */
static int
sched_job(struct cli *cli, const char *where, const struct conf *conf, struct sched *s,
	  char **argv, int64_t now, struct store_job *j, char newid[STORE_ID_LEN + 1],
	  const struct route **route)
{
	const struct route *r;
	const struct tz *tz;
	int64_t ms;
	const char *why;
	int rc;

	if ((r = cmd_find_route(cli, where, conf, argv[optind], &rc)) == NULL)
		return rc;
	*route = r;
	j->run_at = now;
	j->trigger = (char *)job_trigger_name(JOB_TRIGGER_NOW);
	if (s->in) {
		if (duration_parse(s->in, &ms, &why) < 0) {
			cmd_error(cli, "%s: --in: '%s': %s", where, s->in, why);
			return JX_DATAERR;
		}
		if (ms > TIMEFMT_LAST * 1000 - now) {
			cmd_error(cli, "%s: --in: '%s': after %s, the last time jobify can plan",
				  where, s->in, TIMEFMT_LAST_ISO);
			return JX_DATAERR;
		}
		j->run_at = now + ms;
		j->trigger = (char *)job_trigger_name(JOB_TRIGGER_IN);
	} else if (s->cron) {
		/* A dynamic cron job: in the task's zone like a config one, its
		 * first run the next fire from now. */
		struct cron sched;
		struct cron_error ce;
		int64_t next;

		if (cron_parse(s->cron, &sched, &ce) < 0) {
			cmd_error(cli, "%s: --cron: '%s': %s", where, s->cron, ce.msg);
			return JX_DATAERR;
		}
		if (sched.kind == CRON_REBOOT) {
			cmd_error(cli, "%s: --cron: '@reboot' is for tasks of the config", where);
			return JX_DATAERR;
		}
		/* The zone only when a time needs it: loading one costs ~10 ms. */
		tz = tz_get(r->timezone, NULL);
		if (policy_next_fire(&sched, tz, 0, now / 1000, &next) < 0) {
			cmd_error(cli, "%s: --cron: '%s' never fires (before 2100)", where, s->cron);
			return JX_DATAERR;
		}
		j->run_at = next * 1000;
		j->trigger = (char *)job_trigger_name(JOB_TRIGGER_CRON);
		j->cron = (char *)s->cron;
	} else if (s->at) {
		int64_t t;

		tz = tz_get(conf->timezone, NULL);
		if (timefmt_parse(s->at, tz, now / 1000, &t, &why) < 0) {
			cmd_error(cli, "%s: --at: '%s': %s", where, s->at, why);
			return JX_DATAERR;
		}
		j->run_at = t * 1000;
		j->trigger = (char *)job_trigger_name(JOB_TRIGGER_AT);
	}
	if (s->id == NULL)
		store_new_id(now, newid);
	j->id = (char *)(s->id ? s->id : newid);
	j->route = r->name;
	j->created_at = now;
	j->args = argv + optind + 1;
	j->env = s->env ? s->env : calloc(1, sizeof(char *));
	s->env = NULL;
	return j->env ? JX_OK : JX_SOFTWARE;
}

/* Add job J to ST.  An id of our making (OURS) that another job took in
 * the same millisecond is made anew, a few times, rather than refused. */
static int
add(struct store *st, struct store_job *j, bool ours, bool replace, struct jerr *err)
{
	for (int tries = 0;; tries++) {
		if (store_job_add(st, j, replace, err) == 0)
			return 0;
		if (!ours || errno != EEXIST || tries == 4)
			return -1;
		jerr_free(err);
		store_new_id(j->created_at, j->id);
	}
}

/* One line of --stdin made ready: the id it was given (unless --id) and
 * the env its outer middleware added (NULL: none). */
struct sched_prep {
	char id[STORE_ID_LEN + 1];
	char **env;
};

/* The next line of BUF (N bytes, lines ended by NUL after the first
 * pass) at *POS: its start, or NULL at the end. */
static char *
next_line(char *buf, size_t n, size_t *pos)
{
	char *l;

	if (*pos >= n)
		return NULL;
	l = buf + *pos;
	*pos += strlen(l) + 1;
	return l;
}

/* Whether line L holds no job: blank, or a # comment. */
static bool
line_empty(const char *l)
{
	l += strspn(l, " \t\r");
	return *l == '\0' || *l == '#';
}

/* Line L of --stdin parsed: its words (*WORDS, to free) behind a
 * "schedule" argv[0] in *ARGVP, its request in S and its job in J.  JX_OK
 * or the exit status after printing why. */
static int
stdin_job(struct cli *cli, const char *where, const struct conf *conf, const char *l,
	  int64_t now, char ***words, char ***argvp, struct sched *s, struct store_job *j,
	  char newid[STORE_ID_LEN + 1], const struct route **r)
{
	enum words_error we = words_split(l, words);
	size_t n;
	int rc;

	if (we != WORDS_OK) {
		cmd_error(cli, "%s: %s", where, words_strerror(we));
		return we == WORDS_NOMEM ? JX_SOFTWARE : JX_DATAERR;
	}
	n = strv_len(*words);
	if ((*argvp = calloc(n + 2, sizeof(char *))) == NULL)
		return JX_SOFTWARE;
	(*argvp)[0] = (char *)"schedule";
	memcpy(*argvp + 1, *words, n * sizeof(char *));
	if ((rc = sched_parse(cli, where, (int)n + 1, *argvp, true, s)) != -1)
		return rc;
	return sched_job(cli, where, conf, s, *argvp, now, j, newid, r);
}

/* schedule --stdin: every job of standard input, or none.  The lines are
 * read whole first and made ready (outer middleware included); then
 * parsed again and written in one transaction, so the store is locked
 * only while they are written. */
static int
schedule_stdin(struct cli *cli, struct conf *conf, int64_t now)
{
	struct sched_prep *prep = NULL;
	struct jerr err = JERR_INIT;
	struct store *st = NULL;
	char *buf = NULL, *l, *out = NULL, *dir = NULL, where[64];
	size_t len = 0, cap = 0, pos, njobs = 0, k, outlen = 0;
	long lineno;
	FILE *ids = NULL;
	uint32_t base;
	int rc = JX_OK;

	/* All of standard input, every newline made a NUL. */
	for (;;) {
		ssize_t got;

		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + cap / 2 + 65536);

			if (nb == NULL) {
				cmd_error(cli, "schedule: --stdin: out of memory");
				rc = JX_SOFTWARE;
				goto out;
			}
			buf = nb;
			cap = cap + cap / 2 + 65536;
		}
		got = read(STDIN_FILENO, buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cmd_error(cli, "schedule: --stdin: read: %s", strerror(errno));
			rc = JX_OSERR;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	lineno = 1;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\0') {
			cmd_error(cli, "schedule: stdin:%ld: a NUL byte", lineno);
			rc = JX_DATAERR;
			goto out;
		}
		if (buf[i] == '\n') {
			buf[i] = '\0';
			lineno++;
		}
	}
	buf[len] = '\0';
	base = store_batch_base((size_t)lineno);

	/* Pass 1: every line checked; ids given, outer middleware run. */
	for (pos = 0, lineno = 0; (l = next_line(buf, len, &pos)) != NULL;) {
		struct sched s = { 0 };
		struct store_job j = { 0 };
		const struct route *r;
		char **words = NULL, **av = NULL;
		size_t before;

		lineno++;
		if (line_empty(l))
			continue;
		if (njobs % 1024 == 0) {
			struct sched_prep *np = reallocarray(prep, njobs + 1024, sizeof *prep);

			if (np == NULL) {
				rc = JX_SOFTWARE;
				goto out;
			}
			prep = np;
		}
		(void)snprintf(where, sizeof where, "schedule: stdin:%ld", lineno);
		prep[njobs].env = NULL;
		rc = stdin_job(cli, where, conf, l, now, &words, &av, &s, &j, prep[njobs].id, &r);
		if (rc == JX_OK) {
			/* Random ids would collide within a millisecond's batch. */
			if (s.id == NULL)
				store_batch_id(now, base, njobs, prep[njobs].id);
			before = strv_len(j.env);
			rc = gate(cli, where, conf, r, &j);
			if (rc == JX_OK && strv_len(j.env) != before) {
				prep[njobs].env = j.env;
				j.env = NULL;
			}
		}
		njobs += rc == JX_OK;
		strv_free(j.env);
		strv_free(s.env);
		free(av);
		strv_free(words);
		if (rc != JX_OK)
			goto out;
	}
	if (njobs == 0)
		goto out;	/* nothing to write: not even the store is opened */

	/* Pass 2: the same lines, written in one transaction. */
	if ((st = cmd_open_store(cli, "schedule", conf, &dir, &rc)) == NULL)
		goto out;
	if ((ids = open_memstream(&out, &outlen)) == NULL) {
		rc = JX_SOFTWARE;
		goto out;
	}
	if (store_txn_begin(st, true, &err) < 0) {
		cmd_error(cli, "schedule: %s", jerr_msg(&err));
		rc = JX_TEMPFAIL;
		goto out;
	}
	for (pos = 0, lineno = 0, k = 0; (l = next_line(buf, len, &pos)) != NULL;) {
		struct sched s = { 0 };
		struct store_job j = { 0 };
		const struct route *r;
		char **words = NULL, **av = NULL, id[STORE_ID_LEN + 1];

		lineno++;
		if (line_empty(l))
			continue;
		(void)snprintf(where, sizeof where, "schedule: stdin:%ld", lineno);
		rc = stdin_job(cli, where, conf, l, now, &words, &av, &s, &j, id, &r);
		if (rc == JX_OK) {
			if (s.id == NULL)
				j.id = prep[k].id;
			if (prep[k].env) {
				strv_free(j.env);
				j.env = prep[k].env;
				prep[k].env = NULL;
			}
			if (add(st, &j, s.id == NULL, s.replace, &err) < 0) {
				cmd_error(cli, "%s: %s", where, jerr_msg(&err));
				rc = errno == EEXIST || errno == EALREADY ? JX_DATAERR : JX_TEMPFAIL;
			} else if (fprintf(ids, "%s\n", j.id) < 0) {
				rc = JX_SOFTWARE;
			}
		}
		k++;
		strv_free(j.env);
		strv_free(s.env);
		free(av);
		strv_free(words);
		if (rc != JX_OK) {
			store_txn_rollback(st);
			goto out;
		}
	}
	if (store_txn_commit(st, &err) < 0) {
		cmd_error(cli, "schedule: %s", jerr_msg(&err));
		rc = JX_TEMPFAIL;
		goto out;
	}
	store_close(st);
	st = NULL;
	if (fclose(ids) != 0) {
		ids = NULL;
		rc = JX_SOFTWARE;
		goto out;
	}
	ids = NULL;
	if (fwrite(out, 1, outlen, stdout) != outlen || fflush(stdout) != 0) {
		cmd_error(cli, "schedule: stdout: %s", strerror(errno));
		rc = JX_SOFTWARE;
	}
	wake(cli, conf, dir);
out:
	if (ids)
		(void)fclose(ids);
	free(out);
	store_close(st);
	for (k = 0; k < njobs; k++)
		strv_free(prep[k].env);
	free(prep);
	free(buf);
	free(dir);
	jerr_free(&err);
	return rc;
}

int
cmd_schedule(struct cli *cli, int argc, char **argv)
{
	struct sched s = { 0 };
	struct store_job j = { 0 };
	struct jerr err = JERR_INIT;
	char newid[STORE_ID_LEN + 1], *dir = NULL;
	const struct route *r;
	struct conf *conf;
	struct store *st;
	int rc;
	int64_t now = timefmt_now_ms();

	if ((rc = sched_parse(cli, "schedule", argc, argv, false, &s)) != -1) {
		strv_free(s.env);
		return rc;
	}
	if ((conf = cmd_load_conf(cli, &rc, false)) == NULL) {
		strv_free(s.env);
		return rc;
	}
	if (s.from_stdin) {
		rc = schedule_stdin(cli, conf, now);
		conf_free(conf);
		return rc;
	}
	if ((rc = sched_job(cli, "schedule", conf, &s, argv, now, &j, newid, &r)) != JX_OK)
		goto out;
	if ((rc = gate(cli, "schedule", conf, r, &j)) != JX_OK)
		goto out;
	if ((st = cmd_open_store(cli, "schedule", conf, &dir, &rc)) == NULL)
		goto out;
	if (add(st, &j, s.id == NULL, s.replace, &err) < 0) {
		cmd_error(cli, "schedule: %s", jerr_msg(&err));
		rc = errno == EEXIST || errno == EALREADY ? JX_DATAERR : JX_TEMPFAIL;
	} else {
		printf("%s\n", j.id);
		rc = fflush(stdout) == 0 ? JX_OK : JX_SOFTWARE;
		store_close(st);
		st = NULL;
		wake(cli, conf, dir);
	}
	store_close(st);
out:
	strv_free(j.env);
	strv_free(s.env);
	free(dir);
	jerr_free(&err);
	conf_free(conf);
	return rc;
}

/* ---- jobs, status ---- */

static void
json_job(const struct store_job *j, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ];

	printf("{\"id\":");
	json_string(stdout, j->id);
	printf(",\"route\":");
	json_string(stdout, j->route);
	printf(",\"status\":");
	json_string(stdout, j->status);
	printf(",\"trigger\":");
	json_string(stdout, j->trigger);
	printf(",\"cron\":");
	json_string(stdout, j->cron);
	printf(",\"run_at\":");
	json_string(stdout, cmd_when(j->run_at, tz, b));
	printf(",\"args\":");
	json_strv(stdout, j->args);
	printf(",\"attempts\":%ld,\"exit_code\":", j->attempts);
	if (j->has_exit && j->exit_code >= 0)
		printf("%d", j->exit_code);
	else
		printf("null");
	printf(",\"created_at\":");
	json_string(stdout, cmd_when(j->created_at, tz, b));
	printf(",\"started_at\":");
	json_string(stdout, cmd_when(j->started_at, tz, b));
	printf(",\"finished_at\":");
	json_string(stdout, cmd_when(j->finished_at, tz, b));
	printf(",\"log\":");
	json_string(stdout, j->log);
	printf("}");
}

/* The columns of `jobs`: piped, ID ROUTE STATUS TRIGGER RUN_AT EXIT as
 * before; on a terminal LEFT (to the run), LAST (the latest attempt's
 * start), PASSED (since then) and RESULT (how it ended) instead of EXIT. */
enum { JC_ID, JC_ROUTE, JC_STATUS, JC_TRIGGER, JC_RUNAT, JC_LEFT, JC_LAST, JC_PASSED,
       JC_RESULT, JC_EXIT, JC_N };

static const struct table_col jobs_cols[JC_N] = {
	[JC_ID]      = { "ID",      0, 0, 2 },
	[JC_ROUTE]   = { "ROUTE",   0, 0, 1 },
	[JC_STATUS]  = { "STATUS",  0, 0, 0 },
	[JC_TRIGGER] = { "TRIGGER", 0, 1, 0 },
	[JC_RUNAT]   = { "RUN AT",  0, 3, 0 },
	[JC_LEFT]    = { "LEFT",    TC_TTY | TC_RIGHT, 0, 0 },
	[JC_LAST]    = { "LAST",    TC_TTY, 2, 0 },
	[JC_PASSED]  = { "PASSED",  TC_TTY | TC_RIGHT, 0, 0 },
	[JC_RESULT]  = { "RESULT",  TC_TTY, 0, 0 },
	[JC_EXIT]    = { "EXIT",    TC_TSV, 0, 0 },
};

/* What jobs_row() needs to print a row. */
struct jobs_print {
	const struct tz *tz;
	bool json, tty;
	size_t n;		/* rows printed so far */
	int64_t max;		/* -n: rows at most; -1 all */
	int64_t now;		/* ms */
	struct table tbl;
};

/* The result of J's latest ended attempt, or NULL when none ended: how
 * the job ended, or for one that runs again (a dynamic cron job, a retry)
 * how its last attempt went. */
static const char *
job_result(const struct store_job *j, char *buf, size_t size)
{
	if (job_status_ended(j->status))
		return cmd_result(j->status, j->has_exit, j->exit_code, j->signal, buf, size);
	if (!j->has_exit || j->finished_at == 0)
		return NULL;
	return cmd_result(job_status_name(j->exit_code == 0 && j->signal == 0 ? JOB_SUCCESS
					  : JOB_FAILED), true,
			  j->exit_code, j->signal, buf, size);
}

/* store_job_each's callback for cmd_jobs: print J (after the head, the
 * first time: nothing is printed before the store has answered). */
static int
jobs_row(const struct store_job *j, void *arg)
{
	struct jobs_print *p = arg;
	char b[TIMEFMT_BUFSZ], lb[TIMEFMT_BUFSZ], code[16], left[32], ago[32], passed[40],
	     res[64];
	const char *cell[JC_N] = { NULL };

	if (p->max >= 0 && (int64_t)p->n >= p->max)
		return 1;	/* -n: enough */
	if (p->json) {
		printf(p->n ? ",\n" : "[\n");
		json_job(j, p->tz);
		p->n++;
		return 0;
	}
	cell[JC_ID] = j->id;
	cell[JC_ROUTE] = j->route;
	cell[JC_STATUS] = j->status;
	cell[JC_TRIGGER] = j->trigger;
	if (p->tty) {
		cell[JC_RUNAT] = table_time(j->run_at, p->tz, b, sizeof b);
		if (job_status_is(j->status, JOB_SCHEDULED))
			cell[JC_LEFT] = j->run_at <= p->now ? "due" :
				table_span(j->run_at - p->now, left, sizeof left);
		if (j->started_at) {
			cell[JC_LAST] = table_time(j->started_at, p->tz, lb, sizeof lb);
			snprintf(passed, sizeof passed, "%s ago",
				 table_span(p->now - j->started_at, ago, sizeof ago));
			cell[JC_PASSED] = passed;
		}
		cell[JC_RESULT] = job_result(j, res, sizeof res);
	} else {
		cell[JC_RUNAT] = cmd_when(j->run_at, p->tz, b);
		if (j->has_exit && j->exit_code >= 0) {
			snprintf(code, sizeof code, "%d", j->exit_code);
			cell[JC_EXIT] = code;
		}
	}
	p->n++;
	return table_row(&p->tbl, cell) < 0 ? -2 : 0;
}

int
cmd_jobs(struct cli *cli, int argc, char **argv)
{
	enum { OPT_ALL = 256, OPT_ROUTE, OPT_STATUS, OPT_JSON, OPT_FULL };
	static const struct option longopts[] = {
		{ "all",     no_argument,       NULL, OPT_ALL },
		{ "route",   required_argument, NULL, OPT_ROUTE },
		{ "status",  required_argument, NULL, OPT_STATUS },
		{ "json",    no_argument,       NULL, OPT_JSON },
		{ "full",    no_argument,       NULL, OPT_FULL },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *route = NULL, *status = NULL, *count = NULL;
	struct jerr err = JERR_INIT;
	struct conf *conf;
	struct store *st;
	bool all = false, json = false, full = false, tty = isatty(STDOUT_FILENO);
	struct jobs_print lp;
	int64_t max = -1;
	int opt, rc, each;

	while ((opt = cmd_getopt(cli, "jobs", argc, argv, "c:hn:", longopts)) != -1) {
		switch (opt) {
		case OPT_ALL: all = true; break;
		case OPT_ROUTE: route = optarg; break;
		case OPT_STATUS: {
			enum job_status js;

			if (job_status_parse(optarg, &js) < 0)
				return cmd_usage_error(cli, "jobs", "--status: '%s' is not a job status", optarg);
			status = optarg;
			break;
		}
		case 'n': count = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_FULL: full = true; break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "jobs", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind != argc)
		return cmd_usage_error(cli, "jobs", "unexpected argument '%s'", argv[optind]);
	if (count && cmd_parse_count(count, &max) < 0) {
		cmd_error(cli, "jobs: -n: '%s' is not a positive integer", count);
		return JX_DATAERR;
	}
	if ((conf = cmd_load_store_conf(cli, "jobs", &rc)) == NULL)
		return rc;
	lp = (struct jobs_print){ .tz = tz_get(conf->timezone, NULL), .json = json, .tty = tty,
				  .max = max, .now = timefmt_now_ms() };
	table_init(&lp.tbl, jobs_cols, JC_N, stdout, tty, full);
	if ((st = cmd_open_store(cli, "jobs", conf, NULL, &rc)) == NULL)
		goto out;
	/* One row at a time: piped, a million jobs print in constant memory
	 * (on a terminal the widths need every row first). */
	each = store_job_each(st, route, status, all, jobs_row, &lp, &err);
	if (each == -1) {
		cmd_error(cli, "jobs: %s", jerr_msg(&err));
		rc = JX_TEMPFAIL;
	} else {
		if (json)
			printf(lp.n ? "\n]\n" : "[]\n");
		else if (table_end(&lp.tbl) < 0 || each == -2) {
			cmd_error(cli, "jobs: out of memory");
			rc = JX_SOFTWARE;
		}
		if (rc == JX_OK)
			rc = cmd_output_done(cli, "jobs");
	}
	store_close(st);
out:
	table_free(&lp.tbl);
	jerr_free(&err);
	conf_free(conf);
	return rc;
}

/* ---- status without an id: the supervisor at a glance ---- */

#define OVERVIEW_N 5		/* next fires, queued jobs, failures shown */
#define FAILURES_SCAN 1000	/* latest runs looked at for the failures */

/* A live run, from the supervisor (or, with none, a job the store has
 * as running). */
struct ov_run {
	char *id, *route;
	long pid;		/* 0: not known */
	int64_t started;	/* ms */
};

/* A fire to come: a cron task of the config or a job of the store. */
struct ov_fire {
	int64_t at;		/* ms */
	char *route, *job;	/* job NULL: a cron task of the config */
};

struct overview {
	int64_t now;
	bool up;		/* the supervisor answered */
	bool old;		/* it answered, but does not know `status` */
	long pid;		/* its pid (or the lock holder's), 0 none */
	int64_t started;	/* its start, ms; 0 not known */
	long queued;		/* runs waiting in it, -1 not known */
	char *sup_config;	/* the config it runs */
	char *dir, *db;
	bool has_store;
	struct ov_run *runs;
	size_t nruns;
	struct ov_fire fires[OVERVIEW_N];
	size_t nfires;
	struct ov_fire due[OVERVIEW_N];	/* queued: scheduled and due */
	size_t ndue;
	long nscheduled, nrunning_store, nduetotal;
	struct store_run *hist;	/* the latest runs; failures picked from them */
	size_t nhist;
};

/* Keep F among the OVERVIEW_N earliest of V (*N of them, in order);
 * takes F's strings or frees them. */
static void
fire_keep(struct ov_fire *v, size_t *n, struct ov_fire f)
{
	size_t k = *n;

	if (k == OVERVIEW_N) {
		if (f.at >= v[k - 1].at) {
			free(f.route);
			free(f.job);
			return;
		}
		free(v[k - 1].route);
		free(v[k - 1].job);
		k--;
	} else {
		(*n)++;
	}
	while (k > 0 && v[k - 1].at > f.at) {
		v[k] = v[k - 1];
		k--;
	}
	v[k] = f;
}

static int
ov_run_add(struct overview *o, const char *id, const char *route, long pid, int64_t started)
{
	struct ov_run *v = reallocarray(o->runs, o->nruns + 1, sizeof *v);

	if (v == NULL)
		return -1;
	o->runs = v;
	v[o->nruns] = (struct ov_run){ strdup(id), strdup(route), pid, started };
	if (v[o->nruns].id == NULL || v[o->nruns].route == NULL) {
		free(v[o->nruns].id);
		free(v[o->nruns].route);
		return -1;
	}
	o->nruns++;
	return 0;
}

/* Ask the supervisor of CONF (state dir DIR): JX_OK whether or not one
 * runs (o->up says), else the exit status after printing why. */
static int
ov_ask(const struct cli *cli, const struct conf *conf, struct overview *o)
{
	struct jerr err = JERR_INIT;
	struct ctl_client *cl;
	char *line = NULL;
	int rc = JX_OK, got;
	pid_t holder;

	if ((cl = cmd_sup_connect(cli, "status", conf, o->dir, &rc)) == NULL) {
		if (rc == JX_OK && statedir_holder(o->dir, &holder, NULL) == 1)
			o->pid = holder;	/* it runs, its socket is elsewhere */
		return rc;
	}
	if (ctl_request(cl, "status", 0, NULL, &err) < 0) {
		cmd_error(cli, "status: the supervisor: %s", jerr_msg(&err));
		rc = JX_UNAVAILABLE;
		goto out;
	}
	while ((got = ctl_reply(cl, 10000, &line, &err)) == 1) {
		char id[CTL_LINE_MAX], route[CTL_LINE_MAX];
		long pid;
		long long started;

		if (sscanf(line, "run %4095s %4095s %ld %lld", id, route, &pid, &started) == 4) {
			if (ov_run_add(o, id, route, pid, started) < 0) {
				rc = JX_SOFTWARE;
				goto out;
			}
		} else if (strncmp(line, "ok", 2) == 0) {
			char *cf = strstr(line, " config=");

			o->up = true;
			if (cf) {
				*cf = '\0';
				if ((o->sup_config = strdup(cf + 8)) == NULL)
					rc = JX_SOFTWARE;
			}
			for (char *w = strtok(line + 2, " "); w; w = strtok(NULL, " ")) {
				long long v;

				if (sscanf(w, "pid=%lld", &v) == 1)
					o->pid = (long)v;
				else if (sscanf(w, "started=%lld", &v) == 1)
					o->started = v;
				else if (sscanf(w, "queued=%lld", &v) == 1)
					o->queued = (long)v;
			}
			goto out;
		} else if (strncmp(line, "err usage ", 10) == 0) {
			/* An older supervisor: it runs, and says no more. */
			o->up = o->old = true;
			goto out;
		} else {
			cmd_error(cli, "status: the supervisor: %s", line);
			rc = cmd_ctl_status(line, JX_UNAVAILABLE);
			goto out;
		}
		free(line);
		line = NULL;
	}
	cmd_error(cli, "status: the supervisor: %s", got == 0 ? "no answer within 10 s" :
		  jerr_msg(&err));
	rc = JX_UNAVAILABLE;
out:
	free(line);
	jerr_free(&err);
	ctl_client_close(cl);
	return rc;
}

/* store_job_each's callback: scheduled and running jobs. */
static int
ov_job(const struct store_job *j, void *arg)
{
	struct overview *o = arg;

	if (job_status_is(j->status, JOB_RUNNING)) {
		o->nrunning_store++;
		/* Without a supervisor, what the store has as running. */
		if (!o->up && ov_run_add(o, j->id, j->route, 0, j->started_at) < 0)
			return -2;
		return 0;
	}
	o->nscheduled++;
	if (j->config)
		return 0;	/* its fires come from the config */
	if (j->run_at <= o->now) {
		o->nduetotal++;
		fire_keep(o->due, &o->ndue, (struct ov_fire){ j->run_at, strdup(j->route),
							      strdup(j->id) });
	} else {
		fire_keep(o->fires, &o->nfires, (struct ov_fire){ j->run_at, strdup(j->route),
								  strdup(j->id) });
	}
	return 0;
}

static void
ov_free(struct overview *o)
{
	for (size_t i = 0; i < o->nruns; i++) {
		free(o->runs[i].id);
		free(o->runs[i].route);
	}
	free(o->runs);
	for (size_t i = 0; i < o->nfires; i++) {
		free(o->fires[i].route);
		free(o->fires[i].job);
	}
	for (size_t i = 0; i < o->ndue; i++) {
		free(o->due[i].route);
		free(o->due[i].job);
	}
	store_history_free(o->hist, o->nhist);
	free(o->sup_config);
	free(o->dir);
	free(o->db);
}

static bool
run_failed(const struct store_run *r)
{
	return !job_status_is(r->status, JOB_SUCCESS);
}

/* A value for a "key: value" line, escaped for the terminal. */
static void
ov_line(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
ov_line(const char *key, const char *fmt, ...)
{
	char *v = NULL, *e;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&v, fmt, ap) < 0)
		v = NULL;
	va_end(ap);
	e = esc_str(v ? v : "", ESC_TERM);
	printf("%-12s %s\n", key, e ? e : "");
	free(e);
	free(v);
}

static void
ov_text(const struct conf *conf, const struct overview *o, const struct tz *tz, bool full)
{
	char b[TIMEFMT_BUFSZ], span[32], ago[40];
	struct table t;

	if (o->up && !o->old)
		ov_line("supervisor:", "running, pid %ld, up %s (since %s)", o->pid,
			table_span(o->now - o->started, span, sizeof span),
			table_time(o->started, tz, b, sizeof b));
	else if (o->up)
		ov_line("supervisor:", "running (it does not answer `status`: an older jobify)");
	else if (o->pid)
		ov_line("supervisor:", "running, pid %ld, but its control socket does not answer "
			"here (another socket or $XDG_RUNTIME_DIR?)", o->pid);
	else
		ov_line("supervisor:", "not running (start one: jobify run)");
	ov_line("config:", "%s (%zu routes)%s%s", conf->path, conf->routes.nattached,
		o->sup_config && strcmp(o->sup_config, conf->path) != 0 ?
		"; the supervisor runs " : "", o->sup_config && strcmp(o->sup_config, conf->path) != 0 ?
		o->sup_config : "");
	if (o->has_store)
		ov_line("store:", "%s (%ld scheduled, %ld due, %ld running)", o->db, o->nscheduled,
			o->nduetotal, o->nrunning_store);
	else
		ov_line("store:", "%s (not created yet)", o->db);

	{
		static const struct table_col cols[] = {
			{ "RUNNING", 0, 0, 2 }, { "ROUTE", 0, 0, 1 }, { "PID", TC_RIGHT, 0, 0 },
			{ "STARTED", 0, 1, 0 }, { "FOR", TC_RIGHT, 0, 0 },
		};

		putchar('\n');
		table_init(&t, cols, 5, stdout, true, full);
		for (size_t i = 0; i < o->nruns; i++) {
			char pid[24], sb[TIMEFMT_BUFSZ];
			const char *cell[5] = { o->runs[i].id, o->runs[i].route, NULL,
				table_time(o->runs[i].started, tz, sb, sizeof sb),
				table_span(o->now - o->runs[i].started, span, sizeof span) };

			if (o->runs[i].pid) {
				snprintf(pid, sizeof pid, "%ld", o->runs[i].pid);
				cell[2] = pid;
			}
			(void)table_row(&t, cell);
		}
		if (o->nruns == 0)
			table_free(&t), printf("RUNNING: none\n");
		else
			(void)table_end(&t);
		if (o->nruns > 0 && !o->up)
			printf("(marked running in the store; the next supervisor records them lost)\n");
	}
	{
		static const struct table_col cols[] = {
			{ "QUEUED", 0, 0, 2 }, { "ROUTE", 0, 0, 1 }, { "DUE", 0, 1, 0 },
			{ "LATE", TC_RIGHT, 0, 0 },
		};

		putchar('\n');
		table_init(&t, cols, 4, stdout, true, full);
		for (size_t i = 0; i < o->ndue; i++) {
			char db[TIMEFMT_BUFSZ];
			const char *cell[4] = { o->due[i].job, o->due[i].route,
				table_time(o->due[i].at, tz, db, sizeof db),
				table_span(o->now - o->due[i].at, span, sizeof span) };

			(void)table_row(&t, cell);
		}
		if (o->ndue == 0)
			table_free(&t), printf("QUEUED: none due\n");
		else
			(void)table_end(&t);
		if (o->nduetotal > (long)o->ndue)
			printf("(and %ld more due: jobify jobs --status scheduled)\n",
			       o->nduetotal - (long)o->ndue);
		if (o->queued > 0)
			printf("(%ld run%s waiting in the supervisor for a slot, a queue or a retry)\n",
			       o->queued, o->queued == 1 ? "" : "s");
	}
	{
		static const struct table_col cols[] = {
			{ "NEXT", 0, 0, 0 }, { "LEFT", TC_RIGHT, 0, 0 }, { "ROUTE", 0, 0, 1 },
			{ "JOB", 0, 0, 2 },
		};

		putchar('\n');
		table_init(&t, cols, 4, stdout, true, full);
		for (size_t i = 0; i < o->nfires; i++) {
			char nb[TIMEFMT_BUFSZ];
			const char *cell[4] = { table_time(o->fires[i].at, tz, nb, sizeof nb),
				table_span(o->fires[i].at - o->now, span, sizeof span),
				o->fires[i].route, o->fires[i].job };

			(void)table_row(&t, cell);
		}
		if (o->nfires == 0)
			table_free(&t), printf("NEXT: none\n");
		else
			(void)table_end(&t);
	}
	{
		static const struct table_col cols[] = {
			{ "FAILED", 0, 2, 0 }, { "PASSED", TC_RIGHT, 0, 0 }, { "ROUTE", 0, 0, 1 },
			{ "JOB", 0, 0, 2 }, { "RESULT", 0, 0, 0 },
		};
		size_t shown = 0;

		putchar('\n');
		table_init(&t, cols, 5, stdout, true, full);
		for (size_t i = 0; i < o->nhist && shown < OVERVIEW_N; i++) {
			const struct store_run *r = &o->hist[i];
			char fb[TIMEFMT_BUFSZ], res[64];
			const char *cell[5];

			if (!run_failed(r))
				continue;
			cell[0] = table_time(r->finished_at ? r->finished_at : r->started_at, tz, fb,
					     sizeof fb);
			snprintf(ago, sizeof ago, "%s ago",
				 table_span(o->now - (r->finished_at ? r->finished_at : r->started_at),
					    span, sizeof span));
			cell[1] = ago;
			cell[2] = r->route;
			cell[3] = r->job_id;
			cell[4] = cmd_result(r->status, r->has_exit, r->exit_code, r->signal, res, sizeof res);
			(void)table_row(&t, cell);
			shown++;
		}
		if (shown == 0)
			table_free(&t), printf("FAILED: none in the latest %d runs\n", FAILURES_SCAN);
		else
			(void)table_end(&t);
	}
}

static void
ov_json(const struct conf *conf, const struct overview *o, const struct tz *tz)
{
	char b[TIMEFMT_BUFSZ];
	size_t k = 0;

	printf("{\"supervisor\":{\"running\":%s,\"pid\":", o->up || o->pid ? "true" : "false");
	if (o->pid)
		printf("%ld", o->pid);
	else
		printf("null");
	printf(",\"started_at\":");
	json_string(stdout, o->started ? cmd_when(o->started, tz, b) : NULL);
	printf(",\"uptime_ms\":");
	if (o->started)
		printf("%lld", (long long)(o->now - o->started));
	else
		printf("null");
	printf(",\"config\":");
	json_string(stdout, o->sup_config);
	printf(",\"queued\":");
	if (o->queued >= 0 && o->up)
		printf("%ld", o->queued);
	else
		printf("null");
	printf("},\"config\":");
	json_string(stdout, conf->path);
	printf(",\"routes\":%zu,\"store\":", conf->routes.nattached);
	json_string(stdout, o->db);
	printf(",\"store_exists\":%s,\"scheduled\":%ld,\"due\":%ld,\"running\":[",
	       o->has_store ? "true" : "false", o->nscheduled, o->nduetotal);
	for (size_t i = 0; i < o->nruns; i++) {
		printf("%s{\"id\":", i ? "," : "");
		json_string(stdout, o->runs[i].id);
		printf(",\"route\":");
		json_string(stdout, o->runs[i].route);
		printf(",\"pid\":");
		if (o->runs[i].pid)
			printf("%ld", o->runs[i].pid);
		else
			printf("null");
		printf(",\"started_at\":");
		json_string(stdout, cmd_when(o->runs[i].started, tz, b));
		printf(",\"running_ms\":%lld}", (long long)(o->now - o->runs[i].started));
	}
	printf("],\"queued\":[");
	for (size_t i = 0; i < o->ndue; i++) {
		printf("%s{\"id\":", i ? "," : "");
		json_string(stdout, o->due[i].job);
		printf(",\"route\":");
		json_string(stdout, o->due[i].route);
		printf(",\"run_at\":");
		json_string(stdout, cmd_when(o->due[i].at, tz, b));
		printf("}");
	}
	printf("],\"next\":[");
	for (size_t i = 0; i < o->nfires; i++) {
		printf("%s{\"at\":", i ? "," : "");
		json_string(stdout, cmd_when(o->fires[i].at, tz, b));
		printf(",\"route\":");
		json_string(stdout, o->fires[i].route);
		printf(",\"job\":");
		json_string(stdout, o->fires[i].job);
		printf("}");
	}
	printf("],\"failures\":[");
	for (size_t i = 0; i < o->nhist && k < OVERVIEW_N; i++) {
		const struct store_run *r = &o->hist[i];

		if (!run_failed(r))
			continue;
		printf("%s{\"job_id\":", k++ ? "," : "");
		json_string(stdout, r->job_id);
		printf(",\"route\":");
		json_string(stdout, r->route);
		printf(",\"status\":");
		json_string(stdout, r->status);
		printf(",\"exit_code\":");
		if (r->has_exit && r->exit_code >= 0)
			printf("%d", r->exit_code);
		else
			printf("null");
		printf(",\"signal\":%d,\"started_at\":", r->signal);
		json_string(stdout, cmd_when(r->started_at, tz, b));
		printf(",\"finished_at\":");
		json_string(stdout, cmd_when(r->finished_at, tz, b));
		printf("}");
	}
	printf("]}\n");
}

/* `status` without an id.  Exit 0 when the supervisor answers, 69 when
 * none runs (the report of the store is printed all the same, so that
 * `jobify status >/dev/null` tells whether one runs). */
static int
status_overview(struct cli *cli, struct conf *conf, bool json, bool full)
{
	struct overview o = { .now = timefmt_now_ms(), .queued = -1 };
	const struct tz *tz = tz_get(conf->timezone, NULL);
	struct jerr err = JERR_INIT;
	struct store *st;
	int rc;

	if ((o.dir = paths_state_dir(conf->state_dir, conf->path)) == NULL ||
	    asprintf(&o.db, "%s/%s", o.dir, STORE_FILE) < 0) {
		o.db = NULL;
		cmd_error(cli, "status: cannot tell where the state directory is: %s",
			  strerror(errno));
		ov_free(&o);
		return JX_CONFIG;
	}
	if ((rc = ov_ask(cli, conf, &o)) != JX_OK) {
		ov_free(&o);
		return rc;
	}
	/* The store only when there is one: a look does not create it. */
	if ((st = cmd_peek_store(conf, NULL)) != NULL) {
		o.has_store = true;
		if (store_job_each(st, NULL, NULL, false, ov_job, &o, &err) == -1 ||
		    store_history(st, NULL, FAILURES_SCAN, &o.hist, &o.nhist, &err) < 0) {
			cmd_error(cli, "status: %s", jerr_msg(&err));
			store_close(st);
			jerr_free(&err);
			ov_free(&o);
			return JX_TEMPFAIL;
		}
		store_close(st);
	}
	/* The config's cron tasks: their next fire after now. */
	for (size_t i = 0; i < conf->routes.nattached; i++) {
		const struct route *r = &conf->routes.v[i];
		const struct tz *rtz;
		int64_t t;

		if (!r->task->cron || r->task->sched.kind == CRON_REBOOT ||
		    (rtz = tz_get(r->timezone, NULL)) == NULL ||
		    policy_next_fire(&r->task->sched, rtz, r->task->start_at, o.now / 1000, &t) < 0)
			continue;
		fire_keep(o.fires, &o.nfires, (struct ov_fire){ t * 1000, strdup(r->name), NULL });
	}
	if (json)
		ov_json(conf, &o, tz);
	else
		ov_text(conf, &o, tz, full || !isatty(STDOUT_FILENO));
	rc = cmd_output_done(cli, "status");
	if (rc == JX_OK && !o.up)
		rc = JX_UNAVAILABLE;
	jerr_free(&err);
	ov_free(&o);
	return rc;
}

int
cmd_status(struct cli *cli, int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_FULL };
	static const struct option longopts[] = {
		{ "json",    no_argument,       NULL, OPT_JSON },
		{ "full",    no_argument,       NULL, OPT_FULL },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct jerr err = JERR_INIT;
	struct store_job j;
	struct conf *conf;
	struct store *st;
	bool json = false, full = false;
	const struct tz *tz;
	int opt, rc, found;

	while ((opt = cmd_getopt(cli, "status", argc, argv, "c:h", longopts)) != -1) {
		switch (opt) {
		case OPT_JSON: json = true; break;
		case OPT_FULL: full = true; break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "status", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind + 1 < argc)
		return cmd_usage_error(cli, "status", "one job id at a time");
	if ((conf = cmd_load_store_conf(cli, "status", &rc)) == NULL)
		return rc;
	if (optind == argc) {
		rc = status_overview(cli, conf, json, full);
		conf_free(conf);
		return rc;
	}
	tz = tz_get(conf->timezone, NULL);
	if ((st = cmd_open_store(cli, "status", conf, NULL, &rc)) == NULL)
		goto out;
	found = store_job_get(st, argv[optind], &j, &err);
	if (found < 0) {
		cmd_error(cli, "status: %s", jerr_msg(&err));
		rc = JX_TEMPFAIL;
	} else if (found == 0) {
		cmd_error(cli, "status: no job '%s' (see jobify jobs --all)", argv[optind]);
		rc = JX_NOINPUT;
	} else {
		char b[TIMEFMT_BUFSZ], *args = words_join(j.args);
		const char *t;

		if (json) {
			json_job(&j, tz);
			printf("\n");
		} else {
			/* Escaped: an id, an argument or a path may hold control
			 * characters, which must not reach the terminal. */
			ov_line("id:", "%s", j.id);
			ov_line("route:", "%s", j.route);
			ov_line("status:", "%s", j.status);
			ov_line("trigger:", "%s", j.trigger);
			ov_line("run at:", "%s", cmd_when(j.run_at, tz, b) ? b : "-");
			if (j.cron)
				ov_line("cron:", "%s", j.cron);
			if (j.args[0])
				ov_line("args:", "%s", args ? args : "");
			ov_line("attempts:", "%ld", j.attempts);
			if (j.has_exit && j.exit_code >= 0)
				ov_line("exit code:", "%d", j.exit_code);
			ov_line("created at:", "%s", cmd_when(j.created_at, tz, b));
			if ((t = cmd_when(j.started_at, tz, b)) != NULL)
				ov_line("started at:", "%s", t);
			if ((t = cmd_when(j.finished_at, tz, b)) != NULL)
				ov_line("finished at:", "%s", t);
			if (j.log)
				ov_line("log:", "%s", j.log);
		}
		free(args);
		store_job_free(&j);
		rc = cmd_output_done(cli, "status");
	}
	store_close(st);
out:
	jerr_free(&err);
	conf_free(conf);
	return rc;
}

/* ---- cancel, wait ---- */

int
cmd_cancel(struct cli *cli, int argc, char **argv)
{
	enum { OPT_KILL = 256 };
	static const struct option longopts[] = {
		{ "kill",    no_argument,       NULL, OPT_KILL },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct jerr err = JERR_INIT;
	struct ctl_client *cl = NULL;
	struct conf *conf;
	struct store *st;
	char *dir = NULL;
	bool kill_running = false, changed = false;
	int opt, rc;

	while ((opt = cmd_getopt(cli, "cancel", argc, argv, "c:h", longopts)) != -1) {
		switch (opt) {
		case OPT_KILL: kill_running = true; break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "cancel", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind >= argc)
		return cmd_usage_error(cli, "cancel", "a job id is needed");
	if ((conf = cmd_load_store_conf(cli, "cancel", &rc)) == NULL)
		return rc;
	if ((st = cmd_open_store(cli, "cancel", conf, &dir, &rc)) == NULL)
		goto out;
	for (int i = optind; i < argc; i++) {
		struct store_job j;
		char *status;
		int c = store_job_cancel(st, argv[i], &status, &err), found;

		if (c < 0) {
			cmd_error(cli, "cancel: %s", jerr_msg(&err));
			rc = JX_TEMPFAIL;
			continue;
		}
		if (c == 1) {
			changed = true;
			continue;
		}
		if (status == NULL) {
			cmd_error(cli, "cancel: no job '%s'", argv[i]);
			rc = JX_NOINPUT;
			continue;
		}
		found = store_job_get(st, argv[i], &j, NULL);
		if (found == 1 && j.config) {
			cmd_error(cli, "cancel: '%s' is a cron task of the config: remove it "
				  "there (and reload)", argv[i]);
			if (rc == JX_OK)
				rc = JX_DATAERR;
		} else if (!job_status_is(status, JOB_RUNNING)) {
			cmd_error(cli, "cancel: job '%s' is %s; nothing to cancel", argv[i], status);
			if (rc == JX_OK)
				rc = JX_DATAERR;
		} else if (!kill_running) {
			cmd_error(cli, "cancel: job '%s' is running (--kill stops it)", argv[i]);
			if (rc == JX_OK)
				rc = JX_DATAERR;
		} else {
			/* Only the supervisor can stop its process. */
			char *line = NULL;
			char *args[2] = { argv[i], "kill" };
			int crc;

			if (cl == NULL && (cl = cmd_sup_connect(cli, "cancel", conf, dir, &crc)) == NULL) {
				if (crc == JX_OK)
					cmd_error(cli, "cancel: job '%s' is marked running but no "
						  "supervisor runs (the next one will record it lost)",
						  argv[i]);
				rc = crc == JX_OK ? JX_UNAVAILABLE : crc;
			} else if (ctl_request(cl, "cancel", 2, args, &err) < 0 ||
				   ctl_reply(cl, 10000, &line, &err) != 1) {
				cmd_error(cli, "cancel: the supervisor: %s",
					  err.set ? jerr_msg(&err) : "no answer");
				rc = JX_UNAVAILABLE;
			} else if (strncmp(line, "ok", 2) != 0) {
				const char *text = strchr(line, ' ');

				text = text ? strchr(text + 1, ' ') : NULL;
				cmd_error(cli, "cancel: %s", text ? text + 1 : line);
				if (rc == JX_OK)
					rc = cmd_ctl_status(line, JX_DATAERR);
			}
			free(line);
		}
		if (found == 1)
			store_job_free(&j);
		free(status);
	}
	store_close(st);
	if (cl)
		ctl_client_close(cl);
	if (changed)
		wake(cli, conf, dir);	/* for whoever waits on a cancelled job */
out:
	free(dir);
	jerr_free(&err);
	conf_free(conf);
	return rc;
}

/* A job's end, as the store or the supervisor names it, as an exit
 * status (job_exit_status; a name this version does not know: 1). */
static int
end_exit(const char *status, bool has_exit, int code)
{
	enum job_status st;

	if (job_status_parse(status, &st) < 0)
		return 1;
	return job_exit_status(st, has_exit, code);
}

static int
job_exit(const struct store_job *j)
{
	return end_exit(j->status, j->has_exit, j->exit_code);
}

/* The supervisor's "done ID STATUS CODE" (an end it has not written yet):
 * ID's exit status into TOLD, as "ID STATUS CODE" lines are kept. */
static int
told_exit(char *const *told, const char *id, int *rc)
{
	size_t n = strlen(id);

	for (size_t i = 0; told && told[i]; i++) {
		char status[32];
		int code;

		if (strncmp(told[i], id, n) == 0 && told[i][n] == ' ' &&
		    sscanf(told[i] + n + 1, "%31s %d", status, &code) == 2) {
			*rc = end_exit(status, code >= 0, code);
			return 1;
		}
	}
	return 0;
}

static bool
job_done(const struct store_job *j)
{
	return job_status_ended(j->status);
}

/* `wait` on a terminal: one status line on stderr, redrawn each second,
 * saying what is waited for and for how long; nothing when stderr is not
 * a terminal. */
struct wait_line {
	bool on;		/* stderr is a terminal */
	bool drawn;		/* a line is on the screen */
	int64_t since;		/* monotonic ms */
	char *what;		/* "job ID (ROUTE, STATUS)" or "N jobs: ID, ID, ..." */
};

static void
wait_line_clear(struct wait_line *w)
{
	if (w->drawn)
		fputs("\r\033[K", stderr);
	w->drawn = false;
}

static void
wait_line_draw(struct wait_line *w)
{
	char span[32], *line = NULL, *cut = NULL;
	size_t cols;

	if (!w->on || w->what == NULL)
		return;
	if (asprintf(&line, "waiting %s for %s", table_span(timefmt_mono_ms() - w->since, span,
							      sizeof span), w->what) < 0)
		return;
	/* One line, or the next redraw would leave the rest behind. */
	cols = table_term_width(STDERR_FILENO);
	cut = esc_cut(line, cols > 1 ? cols - 1 : 1);
	fprintf(stderr, "\r\033[K%s", cut ? cut : line);
	fflush(stderr);
	w->drawn = true;
	free(cut);
	free(line);
}

/* What the line says: the one job with its route and status, or the
 * count and ids of several; escaped. */
static void
wait_line_set(struct wait_line *w, char **pending, const struct store_job *one)
{
	char *what = NULL, *e;

	if (!w->on)
		return;
	if (strv_len(pending) == 1 && one) {
		if (asprintf(&what, "job %s (%s, %s)", one->id, one->route, one->status) < 0)
			what = NULL;
	} else if (strv_len(pending) == 1) {
		if (asprintf(&what, "job %s", pending[0]) < 0)
			what = NULL;
	} else {
		char *ids = NULL;

		for (size_t i = 0; pending[i]; i++) {
			char *n = NULL;

			if (asprintf(&n, "%s%s%s", ids ? ids : "", ids ? ", " : "", pending[i]) < 0) {
				free(ids);
				return;
			}
			free(ids);
			ids = n;
		}
		if (asprintf(&what, "%zu jobs: %s", strv_len(pending), ids ? ids : "") < 0)
			what = NULL;
		free(ids);
	}
	e = what ? esc_str(what, ESC_TERM) : NULL;
	free(what);
	if (e) {
		free(w->what);
		w->what = e;
	}
}

/* Drop ID from PENDING (a `done ID` line). */
static void
pending_drop(char **pending, const char *id)
{
	for (size_t i = 0; pending && pending[i]; i++)
		if (strcmp(pending[i], id) == 0) {
			free(pending[i]);
			do
				pending[i] = pending[i + 1];
			while (pending[i++] != NULL);
			return;
		}
}

int
cmd_wait(struct cli *cli, int argc, char **argv)
{
	enum { OPT_TIMEOUT = 256 };
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "config",  required_argument, NULL, OPT_CONFIG },
		{ "help",    no_argument,       NULL, OPT_HELP },
		{ "version", no_argument,       NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct jerr err = JERR_INIT;
	struct conf *conf;
	struct store *st;
	char *dir = NULL, **told = NULL;
	const char *why;
	int64_t timeout = -1, deadline;
	struct wait_line wl = { .on = isatty(STDERR_FILENO) };
	int opt, rc;

	while ((opt = cmd_getopt(cli, "wait", argc, argv, "c:h", longopts)) != -1) {
		switch (opt) {
		case OPT_TIMEOUT:
			if (duration_parse(optarg, &timeout, &why) < 0) {
				cmd_error(cli, "wait: --timeout: '%s': %s", optarg, why);
				return JX_DATAERR;
			}
			break;
		case OPT_CONFIG: break;
		case OPT_HELP: return cmd_usage(cli, "wait", JX_OK);
		default: return JX_USAGE;
		}
	}
	if (optind >= argc)
		return cmd_usage_error(cli, "wait", "a job id is needed");
	if ((conf = cmd_load_store_conf(cli, "wait", &rc)) == NULL)
		return rc;
	if ((st = cmd_open_store(cli, "wait", conf, &dir, &rc)) == NULL)
		goto out;
	deadline = timeout < 0 ? -1 : timefmt_mono_ms() + timeout;
	wl.since = timefmt_mono_ms();
	/* Each job must exist; then ask the supervisor to tell us as they
	 * end, and read the store for how (or take the supervisor's word for
	 * an end it could not write yet).  A supervisor that goes away (a
	 * restart) is asked again; none at all cannot end anything. */
	for (;;) {
		char **pending = NULL, *line = NULL;
		struct store_job last = { 0 };
		struct ctl_client *cl;
		int crc, got = 0;
		bool have_last = false;

		for (int i = optind; i < argc; i++) {
			struct store_job j;
			int found = store_job_get(st, argv[i], &j, &err);

			if (found <= 0) {
				if (found < 0)
					cmd_error(cli, "wait: %s", jerr_msg(&err));
				else
					cmd_error(cli, "wait: no job '%s'", argv[i]);
				rc = found < 0 ? JX_TEMPFAIL : JX_NOINPUT;
				strv_free(pending);
				if (have_last)
					store_job_free(&last);
				goto close;
			}
			if (job_done(&j))
				rc = job_exit(&j);
			else if (told_exit(told, argv[i], &rc))
				;
			else if (strv_push(&pending, argv[i]) < 0) {
				store_job_free(&j);
				rc = JX_SOFTWARE;
				if (have_last)
					store_job_free(&last);
				goto close;
			} else {
				if (have_last)
					store_job_free(&last);
				last = j;	/* for the status line */
				have_last = true;
				continue;
			}
			store_job_free(&j);
		}
		if (pending == NULL)
			break;	/* rc: the last job's */
		wait_line_set(&wl, pending, have_last ? &last : NULL);
		if (have_last)
			store_job_free(&last);
		if ((cl = cmd_sup_connect(cli, "wait", conf, dir, &crc)) == NULL) {
			wait_line_clear(&wl);
			if (crc == JX_OK)
				cmd_error(cli, "wait: job '%s' is not done and no supervisor is "
					  "running (start one: jobify run)", pending[0]);
			rc = crc == JX_OK ? JX_UNAVAILABLE : crc;
			strv_free(pending);
			goto close;
		}
		if (ctl_request(cl, "wait", (int)strv_len(pending), pending, &err) < 0) {
			wait_line_clear(&wl);
			cmd_error(cli, "wait: %s", jerr_msg(&err));
			rc = JX_UNAVAILABLE;
			ctl_client_close(cl);
			strv_free(pending);
			goto close;
		}
		for (;;) {
			int left = -1;
			int64_t now = timefmt_mono_ms();

			wait_line_draw(&wl);
			if (deadline >= 0) {
				left = (int)(deadline - now);
				if (left < 0)
					left = 0;
			}
			/* On a terminal, back each second to redraw the line. */
			if (wl.on && (left < 0 || left > 1000 - (int)((now - wl.since) % 1000)))
				left = 1000 - (int)((now - wl.since) % 1000);
			free(line);
			line = NULL;
			got = ctl_reply(cl, left, &line, NULL);
			if (got == 0 && wl.on && (deadline < 0 || timefmt_mono_ms() < deadline))
				continue;	/* a second passed: redraw */
			if (got != 1 || strncmp(line, "done ", 5) != 0)
				break;
			if (strchr(line + 5, ' ') && strv_push(&told, line + 5) < 0) {
				rc = JX_SOFTWARE;
				free(line);
				strv_free(pending);
				ctl_client_close(cl);
				goto close;
			}
			*strchrnul(line + 5, ' ') = '\0';	/* the id, without how it ended */
			pending_drop(pending, line + 5);
			if (pending[0])
				wait_line_set(&wl, pending, NULL);
		}
		strv_free(pending);
		ctl_client_close(cl);
		if (got == 0) {
			free(line);
			wait_line_clear(&wl);
			cmd_error(cli, "wait: not all ended within the --timeout");
			rc = JX_TEMPFAIL;
			goto close;
		}
		if (got == 1 && strncmp(line, "err ", 4) == 0) {
			wait_line_clear(&wl);
			cmd_error(cli, "wait: the supervisor: %s", line + 4);
			rc = cmd_ctl_status(line, JX_UNAVAILABLE);
			free(line);
			goto close;
		}
		free(line);
		/* "ok", or the supervisor went away: read the store again. */
	}
close:
	wait_line_clear(&wl);
	free(wl.what);
	strv_free(told);
	store_close(st);
out:
	free(dir);
	jerr_free(&err);
	conf_free(conf);
	return rc;
}
