/* The IntegrationOrchestrator: which modules react to which committed event,
 * in which order.
 *
 * It listens on the bus (events this node committed). For an event with
 * reactions it runs them one after the other; each reaction is one
 * idempotent statement (unique keys), writes its own events through the
 * same log and publishes them on the bus. When all of them succeeded the
 * event is marked reacted (events.reacted_at), in batches. An event whose
 * reactions failed, or whose node died before finishing them, is claimed
 * later by the sweeper of any node (FOR UPDATE SKIP LOCKED plus a lease), so
 * the reactions run to completion at least once and, thanks to their keys,
 * take effect once. */
#ifndef HIREWIRE_ORCHESTRATOR_H
#define HIREWIRE_ORCHESTRATOR_H

#include <jansson.h>
#include <stdbool.h>

struct app;
struct event;
struct eventlog_result;
struct orchestrator;
struct orch_run;

/* A feature module's part in the orchestrator (its reactions). on_event
 * starts the module's reaction to the run's event and returns 0, then calls
 * orch_run_done() exactly once, possibly before returning; or returns a
 * negative error without calling it. NULL: not interested. */
struct module_ops {
    const char *name;
    int (*on_event)(struct orch_run *run);
};

struct orchestrator *orchestrator_new(struct app *app);
/* Stops the sweeper; runs in flight finish (their statements are answered
 * while the pool drains) and are freed then. */
void orchestrator_stop(struct orchestrator *o);
void orchestrator_free(struct orchestrator *o);

/* Runs the sweeper now (start-up, tests). */
void orchestrator_sweep(struct orchestrator *o);

/* Test builds: while held, this node leaves the reactions of the events it
 * commits to the sweeper. */
void orchestrator_hold(struct orchestrator *o, bool hold);

/* For reactions. */
struct app *orch_run_app(const struct orch_run *run);
const struct event *orch_run_event(const struct orch_run *run);
json_t *orch_run_data(const struct orch_run *run); /* borrowed: the event's data object */
/* Publishes the events of a reaction's statement. */
void orch_run_publish(struct orch_run *run, const struct eventlog_result *r);
void orch_run_done(struct orch_run *run, int err);

/* The modules (src/orchestrator/reactions.c). */
extern const struct module_ops research_ops; /* company records */
extern const struct module_ops cache_ops;    /* cache invalidation */
extern const struct module_ops learning_ops; /* recommendation signals */
extern const struct module_ops calendar_ops; /* calendar entries */
extern const struct module_ops followup_ops; /* follow-ups and reminders (followup_react.c) */

#endif
