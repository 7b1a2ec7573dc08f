/* SPDX-License-Identifier: ISC */
/* The job domain: statuses, triggers and their rules (see job.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "job.h"

static const char *const status_names[JOB_STATUS_N] = {
	[JOB_SCHEDULED] = "scheduled",
	[JOB_RUNNING] = "running",
	[JOB_SUCCESS] = "success",
	[JOB_FAILED] = "failed",
	[JOB_TIMEOUT] = "timeout",
	[JOB_CANCELLED] = "cancelled",
	[JOB_SKIPPED] = "skipped",
	[JOB_PERMANENTLY_FAILED] = "permanently-failed",
};

static const char *const trigger_names[JOB_TRIGGER_N] = {
	[JOB_TRIGGER_CRON] = "cron",
	[JOB_TRIGGER_AT] = "at",
	[JOB_TRIGGER_IN] = "in",
	[JOB_TRIGGER_NOW] = "now",
	[JOB_TRIGGER_EXEC] = "exec",
};

/* The index of NAME in NAMES[N], or -1 with errno EINVAL. */
static int
name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	errno = EINVAL;
	return -1;
}

const char *
job_status_name(enum job_status st)
{
	return (unsigned)st < JOB_STATUS_N ? status_names[st] : "unknown";
}

int
job_status_parse(const char *name, enum job_status *st)
{
	int i = name_index(status_names, JOB_STATUS_N, name);

	if (i < 0)
		return -1;
	*st = (enum job_status)i;
	return 0;
}

bool
job_status_final(enum job_status st)
{
	return st != JOB_SCHEDULED && st != JOB_RUNNING;
}

bool
job_status_failure(enum job_status st)
{
	return st == JOB_FAILED || st == JOB_TIMEOUT;
}

bool
job_status_ends_run(enum job_status st)
{
	return job_status_final(st) && st != JOB_PERMANENTLY_FAILED;
}

bool
job_status_ended(const char *name)
{
	enum job_status st;

	return job_status_parse(name, &st) < 0 || job_status_final(st);
}

bool
job_status_is(const char *name, enum job_status st)
{
	enum job_status got;

	return job_status_parse(name, &got) == 0 && got == st;
}

enum job_status
job_status_of_run(bool cancelled, bool timed_out, int code)
{
	if (cancelled)
		return JOB_CANCELLED;
	if (timed_out)
		return JOB_TIMEOUT;
	return code == 0 ? JOB_SUCCESS : JOB_FAILED;
}

int
job_exit_status(enum job_status st, bool has_exit, int code)
{
	switch (st) {
	case JOB_SUCCESS:
		return 0;
	case JOB_TIMEOUT:
		return 124;
	case JOB_FAILED:
		if (has_exit && code > 0)
			return code;
		return 1;	/* lost, or could not start */
	default:
		return 1;
	}
}

const char *
job_trigger_name(enum job_trigger tr)
{
	return (unsigned)tr < JOB_TRIGGER_N ? trigger_names[tr] : "unknown";
}

int
job_trigger_parse(const char *name, enum job_trigger *tr)
{
	int i = name_index(trigger_names, JOB_TRIGGER_N, name);

	if (i < 0)
		return -1;
	*tr = (enum job_trigger)i;
	return 0;
}
