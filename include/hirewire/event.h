/* Domain events: the table of event types, and the immutable, refcounted
 * event whose wire envelope is serialised once and shared by every socket.
 *
 * Envelope (the WebSocket text frame):
 *   {"id":SEQ,"seq":SEQ,"type":"job.created","channel":"jobs",
 *    "timestamp":"2026-11-22T12:00:00.123Z","data":{...}}
 * The frame buffer has LWS_PRE bytes of headroom before the payload so that
 * libwebsockets can write the frame header in place without a copy. */
#ifndef HIREWIRE_EVENT_H
#define HIREWIRE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum event_channel {
    CH_JOBS,
    CH_APPLICATIONS,
    CH_INTERVIEWS,
    CH_FOLLOWUPS,
    CH_SKILLS,
    CH_RECOMMENDATIONS,
    CH_RESEARCH,
    CH_SYSTEM,
    CH__COUNT,
};

#define CH_MASK(ch) (1u << (ch))
#define CH_MASK_ALL ((1u << CH__COUNT) - 1u)

/* "jobs", ... ; NULL for an out-of-range value. */
const char *event_channel_name(int ch);
/* Index of a channel name (len bytes, need not be NUL-terminated), -1 if unknown. */
int event_channel_parse(const char *name, size_t len);
/* Parses "jobs, applications,skills" into a mask. Unknown names are skipped
 * and counted in *unknown (may be NULL). */
unsigned event_channel_mask_parse(const char *list, int *unknown);

/* One row per known event type. */
struct event_type {
    const char *name;   /* "job.created" */
    int channel;        /* CH_JOBS */
    const char *schema; /* "proto/schemas/events/job.created.json" */
};
extern const struct event_type event_types[];
extern const size_t event_types_count;

/* The row of a known type, NULL otherwise. */
const struct event_type *event_type_find(const char *name);

/* True for names of the form ^[a-z_]+(\.[a-z_]+)+$ up to 64 bytes. */
bool event_type_name_valid(const char *name);

/* A refcounted byte frame with LWS_PRE headroom: what a socket queue holds.
 * Events own one; system messages are frames of their own. */
struct frame {
    int refcnt;
    size_t len;            /* payload bytes */
    unsigned char *payload; /* points into buf, after the headroom */
    unsigned char buf[];
};

/* A frame holding a copy of len bytes of text, refcount 1. NULL on ENOMEM. */
struct frame *frame_new(const char *text, size_t len);
struct frame *frame_ref(struct frame *f);
void frame_unref(struct frame *f); /* accepts NULL */

struct event {
    int refcnt;
    int64_t user_id;
    int64_t seq;
    int channel;
    int64_t created_ms;
    char type[65];
    struct frame *frame; /* the envelope, built once */
};

/* Builds an event and its envelope. data_json is the JSON text of the data
 * object (as PostgreSQL returns jsonb::text), copied into the envelope as is.
 * NULL or empty data_json stands for {}. Refcount 1. NULL on ENOMEM, an
 * out-of-range channel, a type that event_type_name_valid() rejects, a seq
 * below 1 or a created_ms outside years 0..9999. */
struct event *event_new(int64_t user_id, int64_t seq, const char *type, int channel,
                        int64_t created_ms, const char *data_json, size_t data_len);

/* Rebuilds an event from an envelope received from another node (the frame
 * text is kept as is). NULL when the text is not an envelope. */
struct event *event_from_envelope(int64_t user_id, const char *text, size_t len);

struct event *event_ref(struct event *e);
void event_unref(struct event *e); /* accepts NULL */

/* A system message frame: {"type":TYPE,"timestamp":...,"data":DATA} plus
 * the extra top-level members of extra (a JSON object text without braces,
 * e.g. "\"channel\":\"jobs\"", or NULL). data_json may be NULL ({}). */
struct frame *event_system_frame(const char *type, const char *data_json, const char *extra);

#endif
