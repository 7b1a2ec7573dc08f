/* SPDX-License-Identifier: ISC */
/* The config loader's schema layer (conf-base.h has the map of the
 * loader's files): the libconfuse schema, its value callbacks and error
 * hook, and the scan for unknown names.  Above conf-base only. */
#ifndef JOBIFY_CONF_SCHEMA_H
#define JOBIFY_CONF_SCHEMA_H

#include "conf-base.h"

/* Defaults of SPEC §3. */
#define DEFAULT_MAX_PARALLEL	0
#define DEFAULT_SHUTDOWN_GRACE	(30 * 1000)
#define DEFAULT_HISTORY		1000
#define DEFAULT_HEARTBEAT	(5 * 1000)
#define DEFAULT_LEASE		(30 * 1000)
#define DEFAULT_POLL		1000
#define DEFAULT_MAX_RUNS	0
#define DEFAULT_MAX_FAILURES	10
#define DEFAULT_RETRY		0
#define DEFAULT_RETRY_DELAY	1000
#define DEFAULT_TIMEOUT		(-1)
#define DEFAULT_KILL_GRACE	(10 * 1000)
#define DEFAULT_JITTER		0
#define UNSET_INT		LONG_MIN	/* umask and nice: not given */

#define SECTION_FLAGS	(CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES)

/* task_opts by index: the read-out of a task takes its options by
 * position, not by a search of the names (a task is read 100,000 times). */
enum {
	TO_NAME,
	TO_EXEC,
	TO_CRON,
	TO_TIMEZONE,
	TO_START_DATE,
	TO_MISFIRE,
	TO_MAX_RUNS,
	TO_MAX_FAILURES,
	TO_RETRY,
	TO_RETRY_DELAY,
	TO_TIMEOUT,
	TO_KILL_GRACE,
	TO_OVERLAP,
	TO_JITTER,
	TO_DURABLE,
	TO_ENV,
	TO_WORKDIR,
	TO_UMASK,
	TO_NICE,
	TO_USER,
	TO_GROUP,
	TO_MIDDLEWARE,
	TO_ON_FAILURE,
	TO_ON_TIMEOUT,
	TO_OUTPUT,
	TO_MAIL_TO,
	TO_OUTPUT_MAX_SIZE,
	TO_N
};

/* The schema of MAXDEPTH router levels into conf_loading->schema, and
 * its end.  The schema's callbacks that belong to the layers above come
 * from the caller (conf.c), since this layer calls nothing above it:
 * SECTION_DONE runs as each task or router section is parsed
 * (sec_detach(), conf-read.c), INCLUDE for include() (include_fn(),
 * conf-include.c). */
int schema_build(int maxdepth, cfg_validate_callback_t section_done, cfg_func_t include);
void schema_free(void);
void error_hook(cfg_t *cfg, const char *fmt, va_list ap);
bool name_known(const char *section, const char *name);
void name_unknown(void *arg, const char *name, int line);
int strip_unknown(cfg_t *sec, const char *path, char *buf, size_t len);

#endif
