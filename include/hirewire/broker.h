/* Cross-node event delivery over Redis pub/sub.
 *
 * Every event committed on this node is published on "<prefix>:events"; what
 * other nodes publish is handed to the local hub, which orders it. Without
 * Redis the node works alone. Events that could not be published while Redis
 * was down are published again when it is back (bounded), and after the
 * subscription was lost the hub re-reads the log of its users, so a Redis
 * outage costs latency, never an event. */
#ifndef HIREWIRE_BROKER_H
#define HIREWIRE_BROKER_H

#include <stdbool.h>

struct app;
struct broker;

/* Returns NULL on ENOMEM; with no Redis configured it still returns a broker
 * that only reports "disabled". */
struct broker *broker_new(struct app *app);
void broker_free(struct broker *b);

/* "up", "down" or "disabled", for health. */
const char *broker_state(const struct broker *b);

#endif
