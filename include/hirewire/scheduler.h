/* The follow-up scheduler: fires due follow-ups and interview reminders
 * (followup.due, interview.reminder) on time and once across nodes. See
 * src/orchestrator/scheduler.c. */
#ifndef HIREWIRE_SCHEDULER_H
#define HIREWIRE_SCHEDULER_H

#include <stdint.h>

struct app;
struct event;
struct scheduler;

/* Starts with a look at once (overdue rows fire at start). */
struct scheduler *scheduler_new(struct app *app);
void scheduler_stop(struct scheduler *s);
void scheduler_free(struct scheduler *s); /* after the loop closed the timer */

/* Something is due at due_ms (clock time): the timer fires by then. */
void scheduler_note_due(struct scheduler *s, int64_t due_ms);
/* Looks now (the test clock moved). */
void scheduler_poke(struct scheduler *s);
/* An event of this or another node: a followup.scheduled / followup.snoozed
 * earlier than the armed time re-arms the timer. */
void scheduler_on_event(struct scheduler *s, const struct event *ev);

#endif
