/* SPDX-License-Identifier: ISC */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "jobenv.h"
#include "paths.h"
#include "route.h"
#include "strv.h"
#include "words.h"

#define RESERVED "JOBIFY_"
#define RESERVED_LEN (sizeof RESERVED - 1)

/* An environment under construction: one slot per KEY, in first-seen
 * order.  Linear search: a job's environment has tens of entries, and a
 * hash would cost more than it saves at that size. */
struct envset {
	char **v;
	size_t n, cap;
};

static size_t
key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');

	return eq ? (size_t)(eq - kv) : 0;
}

static int
envset_put_take(struct envset *s, char *kv)
{
	size_t klen = key_len(kv);

	if (kv == NULL)
		return -1;
	for (size_t i = 0; i < s->n; i++)
		if (strncmp(s->v[i], kv, klen + 1) == 0) {
			free(s->v[i]);
			s->v[i] = kv;
			return 0;
		}
	if (s->n + 1 >= s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		char **v = reallocarray(s->v, cap, sizeof *v);

		if (v == NULL) {
			free(kv);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = kv;
	s->v[s->n] = NULL;
	return 0;
}

static int
envset_put(struct envset *s, const char *kv)
{
	return envset_put_take(s, strdup(kv));
}

static int __attribute__((format(printf, 2, 3)))
envset_putf(struct envset *s, const char *fmt, ...)
{
	va_list ap;
	char *kv;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&kv, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	return envset_put_take(s, kv);
}

/* A layer that must not set jobify's own variables (layers 3-5). */
static int
envset_layer(struct envset *s, char *const *v)
{
	for (size_t i = 0; v && v[i]; i++) {
		size_t klen = key_len(v[i]);

		if (klen == 0 || !jobenv_key_valid(v[i], klen) ||
		    strncmp(v[i], RESERVED, RESERVED_LEN) == 0)
			continue;
		if (envset_put(s, v[i]) < 0)
			return -1;
	}
	return 0;
}

static char **
envset_finish(struct envset *s)
{
	char **v = s->v;

	if (v == NULL)
		v = calloc(1, sizeof *v);
	s->v = NULL;
	s->n = s->cap = 0;
	return v;
}

static void
envset_free(struct envset *s)
{
	strv_free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

bool
jobenv_key_valid(const char *s, size_t len)
{
	if (len == 0 || !((s[0] >= 'A' && s[0] <= 'Z') ||
			  (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static const char *
env_get(char *const *envp, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; envp && envp[i]; i++)
		if (strncmp(envp[i], key, klen) == 0 && envp[i][klen] == '=')
			return envp[i] + klen + 1;
	return NULL;
}

int
jobenv_base(char *const *envp, const struct jobenv_id *id, char ***base,
	    struct jerr *err)
{
	struct envset s = { 0 };
	const char *path = env_get(envp, "PATH");
	const char *home = id && id->home ? id->home : env_get(envp, "HOME");
	const char *shell = id && id->shell ? id->shell : env_get(envp, "SHELL");
	const char *user = id && id->user ? id->user : env_get(envp, "USER");
	const char *logname = id && id->user ? id->user : env_get(envp, "LOGNAME");
	const char *lang = env_get(envp, "LANG");
	const char *tz = env_get(envp, "TZ");

	if (path == NULL || *path == '\0')
		path = id && id->root ? JOBENV_PATH_ROOT : JOBENV_PATH_USER;
	if (home == NULL || *home == '\0')
		home = "/";
	if (shell == NULL || *shell == '\0')
		shell = "/bin/sh";
	if (user == NULL)
		user = logname;
	if (logname == NULL)
		logname = user;

	if (envset_putf(&s, "PATH=%s", path) < 0 ||
	    envset_putf(&s, "HOME=%s", home) < 0 ||
	    (user && envset_putf(&s, "USER=%s", user) < 0) ||
	    (logname && envset_putf(&s, "LOGNAME=%s", logname) < 0) ||
	    envset_putf(&s, "SHELL=%s", shell) < 0 ||
	    (lang && envset_putf(&s, "LANG=%s", lang) < 0) ||
	    (tz && envset_putf(&s, "TZ=%s", tz) < 0) ||
	    (*base = envset_finish(&s)) == NULL) {
		envset_free(&s);
		jerr_set(err, "environment: out of memory");
		return -1;
	}
	return 0;
}

char *
jobenv_resolve(const char *file, const char *word)
{
	char *dir, *cwd = NULL, *out;
	int rc;

	if (word[0] == '/' || strchr(word, '/') == NULL)
		return strdup(word);
	while (word[0] == '.' && word[1] == '/')
		for (word += 2; *word == '/'; word++)
			;
	if ((dir = paths_dirname(file ? file : "x")) == NULL)
		return NULL;
	/* The supervisor's current directory is where a relative config path
	 * was given; the job will run elsewhere, so pin it down now. */
	if (dir[0] != '/' && (cwd = getcwd(NULL, 0)) == NULL) {
		free(dir);
		return NULL;
	}
	if (cwd && strcmp(dir, ".") == 0)
		rc = asprintf(&out, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" : "", word);
	else if (cwd)
		rc = asprintf(&out, "%s%s%s/%s", cwd, strcmp(cwd, "/") ? "/" : "", dir, word);
	else
		rc = asprintf(&out, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", word);
	free(cwd);
	free(dir);
	return rc < 0 ? NULL : out;
}

/* Append the words of command line CMD declared in FILE to *ARGV. */
static int
argv_push_command(char ***argv, const char *cmd, const char *file,
		  const char *what, struct jerr *err)
{
	char **w;
	enum words_error e = words_split(cmd, &w);
	char *first;

	if (e != WORDS_OK) {
		jerr_set(err, "%s '%s': %s", what, cmd, words_strerror(e));
		return -1;
	}
	if ((first = jobenv_resolve(file, w[0])) == NULL) {
		strv_free(w);
		jerr_set(err, "%s '%s': %s", what, cmd, strerror(errno));
		return -1;
	}
	free(w[0]);
	w[0] = first;
	if (strv_extend(argv, w) < 0) {
		strv_free(w);
		jerr_set(err, "%s: out of memory", what);
		return -1;
	}
	strv_free(w);
	return 0;
}

/* The routers from the app down to R, outermost first, into a new array;
 * the app comes first even when R's chain does not reach it (a detached
 * router), as the app's settings apply to every task. */
static const struct router **
router_chain(const struct conf *c, const struct router *r, size_t *n)
{
	const struct router **v;
	size_t depth = 0;

	for (const struct router *x = r; x && x != c->app; x = x->parent)
		depth++;
	if ((v = calloc(depth + 1, sizeof *v)) == NULL)
		return NULL;
	*n = depth + 1;
	v[0] = c->app;
	for (const struct router *x = r; x && x != c->app; x = x->parent)
		v[depth--] = x;
	return v;
}

int
jobenv_argv(const struct conf *c, const struct route *r, char *const *args,
	    char ***argv, struct jerr *err)
{
	const struct task *t = r->task;
	const struct router **chain;
	const struct router *class_owner;
	char **v = calloc(1, sizeof *v);
	char *exec = NULL;
	size_t n;

	*argv = NULL;
	if (v == NULL || (chain = router_chain(c, t->router, &n)) == NULL) {
		free(v);
		jerr_set(err, "argv: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; chain[i]->middleware && chain[i]->middleware[j]; j++)
			if (argv_push_command(&v, chain[i]->middleware[j],
					      chain[i]->loc.file, "middleware", err) < 0)
				goto fail;
	for (size_t j = 0; t->middleware && t->middleware[j]; j++)
		if (argv_push_command(&v, t->middleware[j], t->loc.file,
				      "middleware", err) < 0)
			goto fail;

	if (strcmp(r->route_class, "exec") == 0) {
		size_t base = strv_len(v);

		if (t->argv == NULL || t->argv[0] == NULL) {
			jerr_set(err, "task '%s': exec is empty", t->title);
			goto fail;
		}
		if (strv_extend(&v, t->argv) < 0)
			goto oom;
		if ((exec = jobenv_resolve(t->loc.file, v[base])) == NULL)
			goto oom;
		free(v[base]);
		v[base] = exec;
		exec = NULL;
	} else {
		exec = t->exec ? strdup(t->exec) : words_join(t->argv);
		if (exec == NULL)
			goto oom;
		if (strcmp(r->route_class, "shell") == 0) {
			if (strv_push(&v, "/bin/sh") < 0 || strv_push(&v, "-c") < 0 ||
			    strv_push(&v, exec) < 0 || strv_push(&v, r->name) < 0)
				goto oom;
		} else {
			/* The handler belongs to the router that set route-class. */
			class_owner = t->router->route_class ? t->router : c->app;
			if (argv_push_command(&v, r->route_class, class_owner->loc.file,
					      "route-class", err) < 0)
				goto fail;
			if (strv_push(&v, exec) < 0)
				goto oom;
		}
		free(exec);
		exec = NULL;
	}
	if (strv_extend(&v, args) < 0)
		goto oom;
	free(chain);
	*argv = v;
	return 0;
oom:
	jerr_set(err, "argv: out of memory");
fail:
	free(exec);
	free(chain);
	strv_free(v);
	return -1;
}

static char *const *
state_of(const struct jobenv_state *st, const struct router *r)
{
	return st && st->fn ? st->fn(st->arg, r) : NULL;
}

int
jobenv_env(const struct conf *c, const struct route *r, char *const *base,
	   const struct jobenv_state *st, const struct jobenv_job *job,
	   char ***envp, struct jerr *err)
{
	struct envset s = { 0 };
	const struct router **chain;
	size_t n;

	*envp = NULL;
	if ((chain = router_chain(c, r->task->router, &n)) == NULL)
		goto oom;
	for (size_t i = 0; base && base[i]; i++)
		if (key_len(base[i]) > 0 && envset_put(&s, base[i]) < 0)
			goto oom;
	if (r->timezone && envset_putf(&s, "TZ=%s", r->timezone) < 0)
		goto oom;
	for (size_t i = 0; i < n; i++)
		if (envset_layer(&s, chain[i]->env) < 0 ||
		    envset_layer(&s, state_of(st, chain[i])) < 0)
			goto oom;
	if (envset_layer(&s, r->task->env) < 0 || envset_layer(&s, job->env) < 0)
		goto oom;
	if (envset_putf(&s, "JOBIFY_JOB_ID=%s", job->id ? job->id : "") < 0 ||
	    envset_putf(&s, "JOBIFY_ROUTE=%s", r->name) < 0 ||
	    envset_putf(&s, "JOBIFY_TASK=%s", r->task->name) < 0 ||
	    envset_putf(&s, "JOBIFY_PREFIX=%s", r->prefix) < 0 ||
	    envset_putf(&s, "JOBIFY_TRIGGER=%s", job->trigger ? job->trigger : "") < 0 ||
	    envset_putf(&s, "JOBIFY_SCHEDULED_AT=%s",
			job->scheduled_at ? job->scheduled_at : "") < 0 ||
	    envset_putf(&s, "JOBIFY_ATTEMPT=%u", job->attempt) < 0)
		goto oom;
	if ((*envp = envset_finish(&s)) == NULL)
		goto oom;
	free(chain);
	return 0;
oom:
	free(chain);
	envset_free(&s);
	jerr_set(err, "environment: out of memory");
	return -1;
}

char *
jobenv_prefix(const struct router *r)
{
	size_t len = 1;
	char *p;

	for (const struct router *x = r; x && x->depth > 0; x = x->parent)
		len += strlen(x->prefix) + 1;
	if ((p = calloc(len, 1)) == NULL)
		return NULL;
	/* Built from the inside out: prepend each non-empty prefix. */
	for (const struct router *x = r; x && x->depth > 0; x = x->parent) {
		size_t plen = strlen(x->prefix), cur = strlen(p);

		if (plen == 0)
			continue;
		if (cur) {
			memmove(p + plen + 1, p, cur + 1);
			p[plen] = '.';
		}
		memcpy(p, x->prefix, plen);
	}
	return p;
}

int
jobenv_hook_env(const struct conf *c, const struct router *r,
		char *const *base, const struct jobenv_state *st,
		bool own_state, char ***envp, struct jerr *err)
{
	struct envset s = { 0 };
	const struct router **chain;
	char *prefix = NULL;
	size_t n;

	*envp = NULL;
	if ((chain = router_chain(c, r, &n)) == NULL)
		goto oom;
	for (size_t i = 0; base && base[i]; i++)
		if (key_len(base[i]) > 0 && envset_put(&s, base[i]) < 0)
			goto oom;
	if (c->timezone && envset_putf(&s, "TZ=%s", c->timezone) < 0)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		if (envset_layer(&s, chain[i]->env) < 0)
			goto oom;
		if ((i + 1 < n || own_state) &&
		    envset_layer(&s, state_of(st, chain[i])) < 0)
			goto oom;
	}
	if ((prefix = jobenv_prefix(r)) == NULL ||
	    envset_putf(&s, "JOBIFY_ROUTER=%s", r->id ? r->id : "") < 0 ||
	    envset_putf(&s, "JOBIFY_PREFIX=%s", prefix) < 0 ||
	    (*envp = envset_finish(&s)) == NULL)
		goto oom;
	free(prefix);
	free(chain);
	return 0;
oom:
	free(prefix);
	free(chain);
	envset_free(&s);
	jerr_set(err, "environment: out of memory");
	return -1;
}

int
jobenv_hook_argv(const struct router *r, const char *cmd, char ***argv,
		 struct jerr *err)
{
	char **v = calloc(1, sizeof *v);

	*argv = NULL;
	if (v == NULL) {
		jerr_set(err, "lifespan: out of memory");
		return -1;
	}
	if (argv_push_command(&v, cmd, r->lifespan.loc.file ? r->lifespan.loc.file :
			      r->loc.file, "lifespan", err) < 0) {
		strv_free(v);
		return -1;
	}
	*argv = v;
	return 0;
}

/* A line quoted in a message, cut to a length a log line can hold. */
#define QUOTE_MAX 200
#define QUOTE(s, e) (int)((e) - (s) > QUOTE_MAX ? QUOTE_MAX : (e) - (s)), (s)

int
jobenv_parse(const char *buf, size_t len, char ***out, struct jerr *err)
{
	char **v = calloc(1, sizeof *v);
	size_t lineno = 0;

	*out = NULL;
	if (v == NULL)
		goto oom;
	if (memchr(buf, '\0', len) != NULL) {
		jerr_set(err, "the output holds a NUL byte");
		goto fail;
	}
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = p, *s = p, *e = nl ? nl : end, *eq;

		lineno++;
		p = nl ? nl + 1 : end;
		if (e > s && e[-1] == '\r')
			e--;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		if (s == e || *s == '#')
			continue;
		eq = memchr(s, '=', (size_t)(e - s));
		if (eq == NULL) {
			jerr_set(err, "line %zu: '%.*s': not KEY=VALUE", lineno,
				 QUOTE(line, e));
			goto fail;
		}
		if (!jobenv_key_valid(s, (size_t)(eq - s))) {
			jerr_set(err, "line %zu: '%.*s': '%.*s' is not a valid variable name",
				 lineno, QUOTE(line, e), (int)(eq - s), s);
			goto fail;
		}
		if ((size_t)(eq - s) >= RESERVED_LEN &&
		    strncmp(s, RESERVED, RESERVED_LEN) == 0) {
			jerr_set(err, "line %zu: '%.*s': JOBIFY_ variables are set by jobify itself",
				 lineno, QUOTE(line, e));
			goto fail;
		}
		if (strv_push_take(&v, strndup(s, (size_t)(e - s))) < 0)
			goto oom;
	}
	*out = v;
	return 0;
oom:
	jerr_set(err, "out of memory");
fail:
	strv_free(v);
	return -1;
}
