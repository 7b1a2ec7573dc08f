/* SPDX-License-Identifier: ISC */
/* jobify schedule: add jobs to the store, from the arguments or from stdin. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "conf.h"
#include "gate.h"
#include "jerr.h"
#include "job.h"
#include "jobenv.h"
#include "policy.h"
#include "route.h"
#include "store.h"
#include "strv.h"
#include "timefmt.h"
#include "tz.h"
#include "words.h"

extern char **environ;

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

/* The rules between schedule's options S, once parsed (see sched_parse);
 * the route, when needed, at ARGV[optind]. */
static int
sched_check(struct cli *cli, const char *where, int argc, bool line, const struct sched *s)
{
	int bad = line ? JX_DATAERR : JX_USAGE;

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

enum { OPT_NOW = 256, OPT_IN, OPT_AT, OPT_CRON, OPT_ID, OPT_REPLACE, OPT_ENV, OPT_STDIN };

/* --env KV into S, checked.  -1, or the exit status after printing why
 * (WHERE names the command or the line). */
static int
sched_env(struct cli *cli, const char *where, const char *kv, struct sched *s)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || !jobenv_key_valid(kv, (size_t)(eq - kv)) ||
	    strncmp(kv, "JOBIFY_", 7) == 0) {
		cmd_error(cli, "%s: --env: '%s': expected KEY=VALUE with a variable name not "
			  "starting with JOBIFY_", where, kv);
		return JX_DATAERR;
	}
	return strv_push(&s->env, kv) < 0 ? JX_SOFTWARE : -1;
}

/* Option OPT (its argument in optarg) into S.  -1 to go on, else the
 * exit status: after --help, or after printing why. */
static int
sched_option(struct cli *cli, const char *where, int opt, char **argv, bool line,
	     struct sched *s)
{
	switch (opt) {
	case OPT_NOW:
		s->when_opts++;
		return -1;
	case OPT_IN:
		s->in = optarg;
		s->when_opts++;
		return -1;
	case OPT_AT:
		s->at = optarg;
		s->when_opts++;
		return -1;
	case OPT_CRON:
		s->cron = optarg;
		s->when_opts++;
		return -1;
	case OPT_ID:
		if (!store_id_valid(optarg)) {
			cmd_error(cli, "%s: --id: '%s': use 1 to %d of A-Z a-z 0-9 _ . : -",
				  where, optarg, STORE_ID_MAX);
			return JX_DATAERR;
		}
		s->id = optarg;
		return -1;
	case OPT_REPLACE:
		s->replace = true;
		return -1;
	case OPT_ENV:
		return sched_env(cli, where, optarg, s);
	case OPT_STDIN:
		s->from_stdin = true;
		return -1;
	case OPT_CONFIG:
		return -1;
	case OPT_HELP:
		return cmd_usage(cli, "schedule", JX_OK);
	default:
		if (line)
			cmd_error(cli, "%s: '%s': unknown option, or one without its value",
				  where, argv[optind - 1]);
		return line ? JX_DATAERR : JX_USAGE;
	}
}

/* Parse schedule's options in ARGV into S; optind is then the route's
 * index.  A LINE of --stdin takes no -c, --help or --stdin, and its errors
 * are data errors (65) named by WHERE ("schedule: stdin:3").  -1 to go
 * on, else the exit status. */
static int
sched_parse(struct cli *cli, const char *where, int argc, char **argv, bool line,
	    struct sched *s)
{
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
	int opt, rc;

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
		if ((rc = sched_option(cli, where, opt, argv, line, s)) >= 0)
			return rc;
	}
	return sched_check(cli, where, argc, line, s);
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
	struct jerr err = JERR_INIT;
	const struct route *r;
	const struct tz *tz = NULL;
	enum job_trigger trigger;
	int rc;

	if ((r = cmd_find_route(cli, where, conf, argv[optind], &rc)) == NULL)
		return rc;
	*route = r;
	/* The zone only when a time needs it: loading one costs ~10 ms.  A
	 * dynamic cron job runs in its task's zone, like a config one. */
	if (s->cron || s->at)
		tz = tz_get(s->cron ? r->timezone : conf->timezone, NULL);
	if (policy_first_run(s->in, s->cron, s->at, tz, now, &j->run_at, &trigger, &err) < 0) {
		cmd_error(cli, "%s: %s", where, jerr_msg(&err));
		jerr_free(&err);
		return JX_DATAERR;
	}
	j->trigger = (char *)job_trigger_name(trigger);
	if (trigger == JOB_TRIGGER_CRON)
		j->cron = (char *)s->cron;
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

/* Add the N jobs of V to ST, all or none.  An id of our making (OURS[K]
 * for job K) that another job took in the same millisecond is made anew,
 * a few times, rather than refused.  0, or -1 with ERR set and *BAD the
 * job refused (N: none of them, the store failed). */
static int
add(struct store *st, struct store_job *v, size_t n, const bool *ours, size_t *bad,
    struct jerr *err)
{
	for (int tries = 0;; tries++) {
		*bad = n;
		if (store_add(st, v, n, 0, bad, err) == 0)
			return 0;
		if (*bad >= n || !ours[*bad] || errno != EEXIST || tries == 4)
			return -1;
		jerr_free(err);
		store_new_id(v[*bad].created_at, v[*bad].id);
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

/* All of standard input into *BUFP (*LENP bytes, NUL-terminated), each
 * newline made a NUL, its line count into *LINES.  JX_OK, or the exit
 * status after printing why (*BUFP is the caller's to free either way). */
static int
stdin_read(struct cli *cli, char **bufp, size_t *lenp, long *lines)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	long lineno;

	for (;;) {
		ssize_t got;

		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + cap / 2 + 65536);

			if (nb == NULL) {
				*bufp = buf;
				cmd_error(cli, "schedule: --stdin: out of memory");
				return JX_SOFTWARE;
			}
			buf = nb;
			cap = cap + cap / 2 + 65536;
		}
		*bufp = buf;
		got = read(STDIN_FILENO, buf + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			cmd_error(cli, "schedule: --stdin: read: %s", strerror(errno));
			return JX_OSERR;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	lineno = 1;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\0') {
			cmd_error(cli, "schedule: stdin:%ld: a NUL byte", lineno);
			return JX_DATAERR;
		}
		if (buf[i] == '\n') {
			buf[i] = '\0';
			lineno++;
		}
	}
	buf[len] = '\0';
	*lenp = len;
	*lines = lineno;
	return JX_OK;
}

/* Pass 1 of --stdin: every line of BUF (LEN bytes) checked, ids given
 * (from NOW and the batch's BASE), outer middleware run; one *PREPP
 * entry a job, *NJOBS of them (the caller frees them either way). */
static int
stdin_check(struct cli *cli, const struct conf *conf, char *buf, size_t len, int64_t now,
	    uint32_t base, struct sched_prep **prepp, size_t *njobs)
{
	char where[64], *l;
	size_t pos = 0;
	long lineno = 0;
	int rc = JX_OK;

	while ((l = next_line(buf, len, &pos)) != NULL) {
		struct sched s = { 0 };
		struct store_job j = { 0 };
		struct sched_prep *prep = *prepp;
		const struct route *r;
		char **words = NULL, **av = NULL;
		size_t before, n = *njobs;

		lineno++;
		if (line_empty(l))
			continue;
		if (n % 1024 == 0) {
			if ((prep = reallocarray(prep, n + 1024, sizeof *prep)) == NULL)
				return JX_SOFTWARE;
			*prepp = prep;
		}
		(void)snprintf(where, sizeof where, "schedule: stdin:%ld", lineno);
		prep[n].env = NULL;
		rc = stdin_job(cli, where, conf, l, now, &words, &av, &s, &j, prep[n].id, &r);
		if (rc == JX_OK) {
			/* Random ids would collide within a millisecond's batch. */
			if (s.id == NULL)
				store_batch_id(now, base, n, prep[n].id);
			before = strv_len(j.env);
			rc = gate(cli, where, conf, r, &j);
			if (rc == JX_OK && strv_len(j.env) != before) {
				prep[n].env = j.env;
				j.env = NULL;
			}
		}
		*njobs += rc == JX_OK;
		strv_free(j.env);
		strv_free(s.env);
		free(av);
		strv_free(words);
		if (rc != JX_OK)
			return rc;
	}
	return JX_OK;
}

/* A line of --stdin in pass 2: what its job's strings point into. */
struct stdin_line {
	struct sched s;
	char **words, **av;
	long lineno;
};

/* Pass 2 of --stdin: the NJOBS jobs of the lines of BUF, parsed again,
 * with what pass 1 made ready in PREP, into V (LINES what they point
 * into, OURS whether their id is of our making).  JX_OK, or the exit
 * status after printing why. */
static int
stdin_parse(struct cli *cli, const struct conf *conf, char *buf, size_t len, int64_t now,
	    struct sched_prep *prep, size_t njobs, struct store_job *v, struct stdin_line *lines,
	    bool *ours)
{
	char where[64], *l;
	size_t pos = 0, k = 0;
	long lineno = 0;
	int rc;

	while ((l = next_line(buf, len, &pos)) != NULL && k < njobs) {
		struct stdin_line *sl = &lines[k];
		char id[STORE_ID_LEN + 1];
		const struct route *r;

		lineno++;
		if (line_empty(l))
			continue;
		(void)snprintf(where, sizeof where, "schedule: stdin:%ld", lineno);
		sl->lineno = lineno;
		rc = stdin_job(cli, where, conf, l, now, &sl->words, &sl->av, &sl->s, &v[k], id, &r);
		k++;
		if (rc != JX_OK)
			return rc;
		ours[k - 1] = sl->s.id == NULL;
		if (ours[k - 1])
			v[k - 1].id = prep[k - 1].id;
		v[k - 1].replace = sl->s.replace;
		if (prep[k - 1].env) {
			strv_free(v[k - 1].env);
			v[k - 1].env = prep[k - 1].env;
			prep[k - 1].env = NULL;
		}
	}
	return JX_OK;
}

/* Pass 2 of --stdin: the NJOBS jobs of the lines of BUF again, with what
 * pass 1 made ready in PREP, written to ST, all or none; their ids
 * printed to IDS. */
static int
stdin_write(struct cli *cli, const struct conf *conf, char *buf, size_t len, int64_t now,
	    struct sched_prep *prep, size_t njobs, struct store *st, FILE *ids)
{
	struct store_job *v = calloc(njobs, sizeof *v);
	struct stdin_line *lines = calloc(njobs, sizeof *lines);
	bool *ours = calloc(njobs, sizeof *ours);
	struct jerr err = JERR_INIT;
	size_t bad;
	int rc = JX_SOFTWARE;

	if (v && lines && ours &&
	    (rc = stdin_parse(cli, conf, buf, len, now, prep, njobs, v, lines, ours)) == JX_OK) {
		if (add(st, v, njobs, ours, &bad, &err) < 0) {
			if (bad < njobs)
				cmd_error(cli, "schedule: stdin:%ld: %s", lines[bad].lineno,
					  jerr_msg(&err));
			else
				cmd_error(cli, "schedule: %s", jerr_msg(&err));
			rc = errno == EEXIST || errno == EALREADY ? JX_DATAERR : JX_TEMPFAIL;
		}
		for (size_t k = 0; rc == JX_OK && k < njobs; k++)
			if (fprintf(ids, "%s\n", v[k].id) < 0)
				rc = JX_SOFTWARE;
	}
	for (size_t k = 0; v && lines && k < njobs; k++) {
		strv_free(v[k].env);
		strv_free(lines[k].s.env);
		free(lines[k].av);
		strv_free(lines[k].words);
	}
	free(v);
	free(lines);
	free(ours);
	jerr_free(&err);
	return rc;
}

/* schedule --stdin: every job of standard input, or none.  The lines are
 * read whole first and made ready (outer middleware included); then
 * parsed again and written in one transaction, so the store is locked
 * only while they are written. */
static int
schedule_stdin(struct cli *cli, struct conf *conf, int64_t now)
{
	struct sched_prep *prep = NULL;
	struct store *st = NULL;
	char *buf = NULL, *out = NULL, *dir = NULL;
	size_t len = 0, njobs = 0, outlen = 0;
	long lines;
	FILE *ids = NULL;
	bool shared;
	int rc;

	if ((rc = stdin_read(cli, &buf, &len, &lines)) != JX_OK)
		goto out;
	rc = stdin_check(cli, conf, buf, len, now, store_batch_base((size_t)lines), &prep,
			 &njobs);
	if (rc != JX_OK || njobs == 0)
		goto out;	/* nothing to write: not even the store is opened */
	if ((st = cmd_open_store(cli, "schedule", conf, &dir, &rc)) == NULL)
		goto out;
	if ((ids = open_memstream(&out, &outlen)) == NULL) {
		rc = JX_SOFTWARE;
		goto out;
	}
	if ((rc = stdin_write(cli, conf, buf, len, now, prep, njobs, st, ids)) != JX_OK)
		goto out;
	shared = store_shared(st);
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
	if (!shared)
		cmd_sup_wake(cli, conf, dir);	/* a shared store wakes them all (NOTIFY) */
out:
	if (ids)
		(void)fclose(ids);
	free(out);
	store_close(st);
	for (size_t k = 0; k < njobs; k++)
		strv_free(prep[k].env);
	free(prep);
	free(buf);
	free(dir);
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
	size_t bad;
	bool ours, shared;
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
	ours = s.id == NULL;
	j.replace = s.replace;
	if (add(st, &j, 1, &ours, &bad, &err) < 0) {
		cmd_error(cli, "schedule: %s", jerr_msg(&err));
		rc = errno == EEXIST || errno == EALREADY ? JX_DATAERR : JX_TEMPFAIL;
	} else {
		printf("%s\n", j.id);
		rc = fflush(stdout) == 0 ? JX_OK : JX_SOFTWARE;
		shared = store_shared(st);
		store_close(st);
		st = NULL;
		if (!shared)	/* a shared store wakes them all itself (NOTIFY) */
			cmd_sup_wake(cli, conf, dir);
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
