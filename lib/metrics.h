/* SPDX-License-Identifier: ISC */
/* The supervisor's metrics, for node_exporter's textfile collector (the
 * Prometheus text format, version 0.0.4): counters per route, histograms
 * of run duration, fire lateness and store write time, gauges of what
 * runs and waits.  jobify.conf(5) documents each metric.
 *
 * Counters count from the supervisor's start (Prometheus takes a restart
 * as a counter reset).  A route appears once it has run.  The file is
 * written whole to PATH.tmp and renamed over PATH, so a reader never sees
 * half of it; a PATH ending in .prom leaves PATH.tmp out of the
 * collector's glob. */
#ifndef JOBIFY_METRICS_H
#define JOBIFY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "jerr.h"
#include "job.h"

/* How often the file is rewritten when nothing ends (ms). */
#define METRICS_PERIOD_MS 15000

struct metrics;

/* A new, empty set; START_MS (ms since the epoch) is the start time.
 * NULL when out of memory. */
struct metrics *metrics_new(int64_t start_ms);
void metrics_free(struct metrics *m);

/* An attempt of ROUTE ended with OUTCOME (success, failed, timeout,
 * cancelled) after DURATION_MS, at END_MS (ms since the epoch).
 * -1 when out of memory (the run is not counted), else 0. */
int metrics_run(struct metrics *m, const char *route, enum job_status outcome, int64_t duration_ms,
		int64_t end_ms);
/* A cron fire LATE_US microseconds after its time. */
void metrics_fire(struct metrics *m, int64_t late_us);
/* A batch write of the store that took US microseconds. */
void metrics_store_write(struct metrics *m, int64_t us);

/* Write the file PATH atomically, with RUNNING and QUEUED as the gauges.
 * 0, or -1 with errno and ERR set. */
int metrics_write(const struct metrics *m, const char *path, size_t running, size_t queued,
		  struct jerr *err);

#endif
