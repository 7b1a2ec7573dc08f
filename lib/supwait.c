/* SPDX-License-Identifier: ISC */
/* Who waits for which job: the control socket's `wait` clients, told
 * when a job they wait for ends for good.  Below the batch, the runs and
 * the store's jobs, which tell it of ends; the control server above it
 * adds the waiters. */

#include "config.h"

#include "sup-wait.h"

/* The status an END of the batch ends its job with. */
const char *
sup_bw_status(const struct bw *b)
{
	return b->next_run ? b->next_run->status : job_status_name(b->w.end.status);
}

/* The end of job ID for good that waits in a batch the store would not
 * take (see sup_cron_flush), or NULL: while writes succeed, waiters hear of
 * an end once it is written. */
const struct bw *
sup_pending_end(const struct sup *s, const char *id)
{
	const struct bw *found = NULL;

	if (s->flush_fails == 0)
		return NULL;
	for (const struct store_write *w = s->batch; w; w = w->next)
		if (w->kind == STORE_END && strcmp(w->end.id, id) == 0)
			found = BW(w)->ended ? BW(w) : NULL;	/* the latest counts */
	return found;
}

/* Whether job ID has ended for good (or is not there at all). */
static bool
store_ended(struct sup *s, const char *id)
{
	struct store_job j;
	int found;
	bool ended;

	if (sup_pending_end(s, id))
		return true;
	found = store_get(s->store, id, &j, NULL);

	if (found <= 0)
		return found == 0;	/* an error: ask again later */
	ended = job_status_ended(j.status);
	store_job_free(&j);
	return ended;
}

/* Drop ID from CL's wait; tell it (with how it ended, STATUS and CODE,
 * when the store may not say so yet), and when nothing is left, the end. */
static void
client_done(struct client *cl, size_t i, const char *status, int code)
{
	char **w = cl->wait;

	if (status)
		(void)ctl_send(cl->c, "done %s %s %d", w[i], status, code);
	else
		(void)ctl_send(cl->c, "done %s", w[i]);
	free(w[i]);
	do
		w[i] = w[i + 1];
	while (w[i++] != NULL);
	if (w[0] == NULL) {
		free(w);
		cl->wait = NULL;
		(void)ctl_send(cl->c, "ok");
	}
}

/* `wait ID...` of client CL: each job that ended is answered at once,
 * the others are waited for; "ok" when none is left.  0, or -1 when out
 * of memory (answered). */
int
sup_wait_add(struct sup *s, struct client *cl, int argc, char **argv)
{
	struct ctl_conn *c = cl->c;

	for (int i = 0; i < argc; i++) {
		const struct bw *op = sup_pending_end(s, argv[i]);

		if (op)
			(void)ctl_send(c, "done %s %s %d", argv[i],
				       sup_bw_status(op), op->w.end.sig ? -1 : op->w.end.code);
		else if (store_ended(s, argv[i]))
			(void)ctl_send(c, "done %s", argv[i]);
		else if (strv_push(&cl->wait, argv[i]) < 0)
			return ctl_send(c, "err busy out of memory"), -1;
	}
	if (cl->wait == NULL)
		(void)ctl_send(c, "ok");
	return 0;
}

/* Job ID ended for good: tell whoever waits for it; with STATUS and its
 * exit CODE (-1: none) when it is not written yet, NULL when the store
 * says. */
void
sup_job_ended(struct sup *s, const char *id, const char *status, int code)
{
	for (struct client *cl = s->clients; cl; cl = cl->next)
		for (size_t i = 0; cl->wait && cl->wait[i]; i++)
			if (strcmp(cl->wait[i], id) == 0) {
				client_done(cl, i, status, code);
				break;
			}
}

/* Tell CL that job ID (which store_ended says has ended) is done. */
static void
client_ended(struct sup *s, struct client *cl, size_t i)
{
	const struct bw *op = sup_pending_end(s, cl->wait[i]);

	if (op)
		client_done(cl, i, sup_bw_status(op), op->w.end.sig ? -1 : op->w.end.code);
	else
		client_done(cl, i, NULL, 0);
}

/* Look in the store for every job waited for: one the CLI cancelled
 * ended without us. */
void
sup_waiters_check(struct sup *s)
{
	for (struct client *cl = s->clients; cl; cl = cl->next)
		for (size_t i = 0; cl->wait && cl->wait[i];)
			if (store_ended(s, cl->wait[i]))
				client_ended(s, cl, i);
			else
				i++;
}
