/* In-process dispatch of committed events.
 *
 * A fixed array is enough: the subscribers are the hub, the broker and the
 * orchestrator, registered once at start-up in DESIGN order, and publishing
 * walks them in that order for every event without allocating. */
#include "hirewire/bus.h"

#include <errno.h>
#include <stdlib.h>

#define BUS_SUBSCRIBERS_MAX 16

struct bus_sub {
    bus_event_cb cb;
    void *arg;
};

struct bus {
    struct bus_sub subs[BUS_SUBSCRIBERS_MAX];
    int n;
};

struct bus *bus_new(void)
{
    return calloc(1, sizeof(struct bus));
}

void bus_free(struct bus *b)
{
    free(b);
}

/* Returns 0, -EINVAL for a NULL callback or -ENOSPC when the table is full. */
int bus_subscribe(struct bus *b, bus_event_cb cb, void *arg)
{
    if (!b || !cb)
        return -EINVAL;
    if (b->n == BUS_SUBSCRIBERS_MAX)
        return -ENOSPC;
    b->subs[b->n].cb = cb;
    b->subs[b->n].arg = arg;
    b->n++;
    return 0;
}

/* The count is read on every step, so a subscriber added from inside a
 * callback already gets the event being published. */
void bus_publish(struct bus *b, struct event *ev)
{
    if (!b || !ev)
        return;
    for (int i = 0; i < b->n; i++)
        b->subs[i].cb(b->subs[i].arg, ev);
}
