/* SPDX-License-Identifier: ISC */
/* The job domain: status and trigger names, the one "ended" rule, the
 * exit status of a job's end. */
#include "config.h"

#include <errno.h>

#include "job.h"
#include "tap.h"

int
main(void)
{
	static const char *const statuses[] = { "scheduled", "running", "success", "failed",
		"timeout", "cancelled", "skipped", "permanently-failed" };
	static const char *const triggers[] = { "cron", "at", "in", "now", "exec" };
	enum job_status st;
	enum job_trigger tr;
	char live[128] = "(";

	is_int(sizeof statuses / sizeof *statuses, JOB_STATUS_N, "every status is listed here");
	for (int i = 0; i < JOB_STATUS_N; i++) {
		/* The store's schema holds these exact strings. */
		is_str(job_status_name((enum job_status)i), statuses[i], "status %d's name", i);
		ok(job_status_parse(statuses[i], &st) == 0 && st == (enum job_status)i,
		   "'%s' round-trips", statuses[i]);
		ok(job_status_is(statuses[i], (enum job_status)i), "job_status_is('%s')",
		   statuses[i]);
		if (!job_status_final((enum job_status)i))
			snprintf(live + strlen(live), sizeof live - strlen(live), "%s'%s'",
				 live[1] ? ", " : "", statuses[i]);
	}
	strcat(live, ")");
	is_str(live, JOB_STATUS_LIVE_SQL, "the store's SQL list is the statuses not final");

	ok(!job_status_final(JOB_SCHEDULED), "scheduled is not final");
	ok(!job_status_final(JOB_RUNNING), "running is not final");
	ok(job_status_final(JOB_SUCCESS), "success is final");
	ok(job_status_final(JOB_FAILED), "failed is final");
	ok(job_status_final(JOB_TIMEOUT), "timeout is final");
	ok(job_status_final(JOB_CANCELLED), "cancelled is final");
	ok(job_status_final(JOB_SKIPPED), "skipped is final");
	ok(job_status_final(JOB_PERMANENTLY_FAILED), "permanently-failed is final");
	ok(!job_status_ended("scheduled") && !job_status_ended("running") &&
	   job_status_ended("failed"), "job_status_ended by name");
	ok(job_status_ended("exploded"), "an unknown status counts as ended");
	for (int i = 0; i < JOB_STATUS_N; i++)
		ok(job_status_failure((enum job_status)i) == (i == JOB_FAILED || i == JOB_TIMEOUT),
		   "%s is %sa failure (retried, handled)", statuses[i],
		   job_status_failure((enum job_status)i) ? "" : "not ");
	for (int i = 0; i < JOB_STATUS_N; i++)
		ok(job_status_ends_run((enum job_status)i) ==
		   (i != JOB_SCHEDULED && i != JOB_RUNNING && i != JOB_PERMANENTLY_FAILED),
		   "a run may end %s: %s", statuses[i],
		   job_status_ends_run((enum job_status)i) ? "yes" : "no");

	errno = 0;
	ok(job_status_parse("Success", &st) == -1 && errno == EINVAL, "parse is exact (case)");
	ok(job_status_parse("", &st) == -1, "parse of an empty name fails");
	ok(job_status_parse(NULL, &st) == -1, "parse of NULL fails");
	ok(job_status_parse("succes", &st) == -1, "parse of garbage fails");
	ok(!job_status_is("s", JOB_SUCCESS) && !job_status_is("skipped", JOB_SUCCESS),
	   "skipped is not success (the old outcome[0] == 's')");
	is_str(job_status_name((enum job_status)99), "unknown", "an out-of-range status's name");

	is_int(sizeof triggers / sizeof *triggers, JOB_TRIGGER_N, "every trigger is listed here");
	for (int i = 0; i < JOB_TRIGGER_N; i++) {
		is_str(job_trigger_name((enum job_trigger)i), triggers[i], "trigger %d's name", i);
		ok(job_trigger_parse(triggers[i], &tr) == 0 && tr == (enum job_trigger)i,
		   "'%s' round-trips", triggers[i]);
	}
	ok(job_trigger_parse("later", &tr) == -1 && errno == EINVAL, "parse of a bad trigger fails");
	ok(job_trigger_parse(NULL, &tr) == -1, "parse of a NULL trigger fails");

	is_int(job_status_of_run(false, false, 0), JOB_SUCCESS, "exit 0: success");
	is_int(job_status_of_run(false, false, 3), JOB_FAILED, "exit 3: failed");
	is_int(job_status_of_run(false, false, 137), JOB_FAILED, "killed: failed");
	is_int(job_status_of_run(false, true, 143), JOB_TIMEOUT, "stopped at its timeout");
	is_int(job_status_of_run(true, true, 143), JOB_CANCELLED, "cancelled wins over timeout");
	is_int(job_status_of_run(true, false, 0), JOB_CANCELLED, "cancelled though it exited 0");

	is_int(job_exit_status(JOB_SUCCESS, true, 0), 0, "success: 0");
	is_int(job_exit_status(JOB_FAILED, true, 3), 3, "failed: its code");
	is_int(job_exit_status(JOB_FAILED, true, 128 + 9), 137, "killed by SIGKILL: 128+9");
	is_int(job_exit_status(JOB_FAILED, false, -1), 1, "failed without a code (lost): 1");
	is_int(job_exit_status(JOB_FAILED, true, 0), 1, "failed with code 0 (a signal record): 1");
	is_int(job_exit_status(JOB_TIMEOUT, true, 143), 124, "timeout: 124");
	is_int(job_exit_status(JOB_CANCELLED, false, -1), 1, "cancelled: 1");
	is_int(job_exit_status(JOB_SKIPPED, false, -1), 1, "skipped: 1");
	is_int(job_exit_status(JOB_PERMANENTLY_FAILED, true, 2), 1, "permanently failed: 1");
	return done_testing();
}
