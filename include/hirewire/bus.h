/* In-process dispatch of committed events. bus_publish() runs only after the
 * statement that wrote the event committed; every subscriber gets the same
 * const event, synchronously, and takes a reference if it keeps it. */
#ifndef HIREWIRE_BUS_H
#define HIREWIRE_BUS_H

struct bus;
struct event;

typedef void (*bus_event_cb)(void *arg, struct event *ev);

struct bus *bus_new(void);
void bus_free(struct bus *b);

/* Subscribers are called in the order they subscribed. At most 16. */
int bus_subscribe(struct bus *b, bus_event_cb cb, void *arg);

void bus_publish(struct bus *b, struct event *ev);

#endif
