/* Event types, channels, refcounted frames and the event envelope.
 *
 * The envelope of an event is serialised once, when the event is made, into a
 * frame with LWS_PRE bytes of headroom; every socket that delivers the event
 * writes that same buffer. Building it is on the path of every event, so it is
 * done with snprintf and memcpy rather than by building and dumping a jansson
 * tree: the data object arrives as JSON text (PostgreSQL's jsonb::text) and is
 * copied in as is. Only envelopes received from other nodes, which are rare by
 * comparison, are parsed with jansson. */
#include "hirewire/event.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "hirewire/clock.h"

#define EVENT_TYPE_MAX 64
#define EVENT_ISO_LEN 24

static const char *const channel_names[CH__COUNT] = {
    [CH_JOBS] = "jobs",
    [CH_APPLICATIONS] = "applications",
    [CH_INTERVIEWS] = "interviews",
    [CH_FOLLOWUPS] = "followups",
    [CH_SKILLS] = "skills",
    [CH_RECOMMENDATIONS] = "recommendations",
    [CH_RESEARCH] = "research",
    [CH_SYSTEM] = "system",
};

#define ROW(n, ch)                                                                                 \
    {                                                                                              \
        .name = n, .channel = ch, .schema = "proto/schemas/events/" n ".json"                      \
    }

/* The payload of each type is described by its schema file; integration tests
 * check every event they see against it. */
const struct event_type event_types[] = {
    ROW("job.created", CH_JOBS),
    ROW("job.updated", CH_JOBS),
    ROW("job.deleted", CH_JOBS),
    ROW("job.analyzing", CH_JOBS),
    ROW("job.analyzed", CH_JOBS),
    ROW("application.status_changed", CH_APPLICATIONS),
    ROW("application.updated", CH_APPLICATIONS),
    ROW("offer.received", CH_APPLICATIONS),
    ROW("offer.updated", CH_APPLICATIONS),
    ROW("interview.scheduled", CH_INTERVIEWS),
    ROW("interview.updated", CH_INTERVIEWS),
    ROW("interview.cancelled", CH_INTERVIEWS),
    ROW("interview.reminder", CH_INTERVIEWS),
    ROW("calendar.event_created", CH_INTERVIEWS),
    ROW("calendar.event_updated", CH_INTERVIEWS),
    ROW("followup.scheduled", CH_FOLLOWUPS),
    ROW("followup.due", CH_FOLLOWUPS),
    ROW("followup.sent", CH_FOLLOWUPS),
    ROW("followup.completed", CH_FOLLOWUPS),
    ROW("followup.snoozed", CH_FOLLOWUPS),
    ROW("followup.cancelled", CH_FOLLOWUPS),
    ROW("followup.response", CH_FOLLOWUPS),
    ROW("skill_gap.completed", CH_SKILLS),
    ROW("skill_gap.updated", CH_SKILLS),
    ROW("recommendations.new", CH_RECOMMENDATIONS),
    ROW("recommendations.updated", CH_RECOMMENDATIONS),
    ROW("recommendation.viewed", CH_RECOMMENDATIONS),
    ROW("company_research.completed", CH_RESEARCH),
    ROW("system.notification", CH_SYSTEM),
};
const size_t event_types_count = sizeof event_types / sizeof event_types[0];

#undef ROW

/* ---- channels and types ---------------------------------------------------- */

const char *event_channel_name(int ch)
{
    return ch >= 0 && ch < CH__COUNT ? channel_names[ch] : NULL;
}

int event_channel_parse(const char *name, size_t len)
{
    if (!name)
        return -1;
    for (int ch = 0; ch < CH__COUNT; ch++) {
        if (strlen(channel_names[ch]) == len && memcmp(channel_names[ch], name, len) == 0)
            return ch;
    }
    return -1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Empty items ("jobs,,skills", a trailing comma) name nothing and are skipped
 * without being counted: clients build these lists by joining arrays, and an
 * empty array element is not a mistake about a channel's name. */
unsigned event_channel_mask_parse(const char *list, int *unknown)
{
    unsigned mask = 0;
    int bad = 0;
    const char *p = list;
    while (p && *p) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *a = p, *b = end;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (b > a) {
            int ch = event_channel_parse(a, (size_t)(b - a));
            if (ch >= 0)
                mask |= CH_MASK(ch);
            else
                bad++;
        }
        p = *end ? end + 1 : end;
    }
    if (unknown)
        *unknown = bad;
    return mask;
}

const struct event_type *event_type_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < event_types_count; i++) {
        if (strcmp(event_types[i].name, name) == 0)
            return &event_types[i];
    }
    return NULL;
}

/* The same rule as the CHECK constraint on events.type. It is also what lets
 * a type be written into an envelope without escaping. */
bool event_type_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t seg = 0, dots = 0, len = 0;
    for (const char *p = name; *p; p++, len++) {
        if (len >= EVENT_TYPE_MAX)
            return false;
        if (*p == '.') {
            if (seg == 0)
                return false;
            dots++;
            seg = 0;
        } else if ((*p >= 'a' && *p <= 'z') || *p == '_') {
            seg++;
        } else {
            return false;
        }
    }
    return dots > 0 && seg > 0;
}

/* ---- frames ---------------------------------------------------------------- */

/* One allocation holds the header, the headroom libwebsockets writes the
 * WebSocket frame header into, the payload and a NUL after it. The payload is
 * left for the caller to fill. */
static struct frame *frame_alloc(size_t len)
{
    if (len > SIZE_MAX - sizeof(struct frame) - LWS_PRE - 1)
        return NULL;
    struct frame *f = malloc(sizeof(struct frame) + LWS_PRE + len + 1);
    if (!f)
        return NULL;
    f->refcnt = 1;
    f->len = len;
    f->payload = f->buf + LWS_PRE;
    f->payload[len] = '\0';
    return f;
}

struct frame *frame_new(const char *text, size_t len)
{
    struct frame *f = frame_alloc(len);
    if (f && len > 0)
        memcpy(f->payload, text, len);
    return f;
}

struct frame *frame_ref(struct frame *f)
{
    if (f)
        f->refcnt++;
    return f;
}

void frame_unref(struct frame *f)
{
    if (f && --f->refcnt == 0)
        free(f);
}

/* ---- events ---------------------------------------------------------------- */

static struct event *event_alloc(int64_t user_id, int64_t seq, const char *type, int channel,
                                 int64_t created_ms)
{
    struct event *e = malloc(sizeof *e);
    if (!e)
        return NULL;
    e->refcnt = 1;
    e->user_id = user_id;
    e->seq = seq;
    e->channel = channel;
    e->created_ms = created_ms;
    size_t tlen = strlen(type);
    memcpy(e->type, type, tlen + 1);
    e->frame = NULL;
    return e;
}

struct event *event_new(int64_t user_id, int64_t seq, const char *type, int channel,
                        int64_t created_ms, const char *data_json, size_t data_len)
{
    const char *ch = event_channel_name(channel);
    char iso[EVENT_ISO_LEN + 1];
    if (!ch || seq < 1 || !event_type_name_valid(type) ||
        clock_format_iso(created_ms, iso, sizeof iso) < 0)
        return NULL;
    if (!data_json || data_len == 0) {
        data_json = "{}";
        data_len = 2;
    }

    /* Everything before the data fits a fixed buffer: two 20-digit numbers,
     * a type of at most 64 bytes, the longest channel name and a timestamp. */
    char head[256];
    int hlen = snprintf(head, sizeof head,
                        "{\"id\":%" PRId64 ",\"seq\":%" PRId64 ",\"type\":\"%s\",\"channel\":"
                        "\"%s\",\"timestamp\":\"%s\",\"data\":",
                        seq, seq, type, ch, iso);
    if (hlen < 0 || (size_t)hlen >= sizeof head || data_len > SIZE_MAX / 2)
        return NULL;

    struct event *e = event_alloc(user_id, seq, type, channel, created_ms);
    struct frame *f = frame_alloc((size_t)hlen + data_len + 1);
    if (!e || !f) {
        free(e);
        frame_unref(f);
        return NULL;
    }
    memcpy(f->payload, head, (size_t)hlen);
    memcpy(f->payload + hlen, data_json, data_len);
    f->payload[(size_t)hlen + data_len] = '}';
    e->frame = f;
    return e;
}

/* Events from other nodes went through the same code on the node that wrote
 * them, but they cross Redis, so they are checked as strictly as anything
 * else that arrives from outside before they reach a socket. */
struct event *event_from_envelope(int64_t user_id, const char *text, size_t len)
{
    struct event *e = NULL;
    json_t *root = text ? json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (!json_is_object(root))
        goto out;

    json_t *id = json_object_get(root, "id");
    json_t *seq = json_object_get(root, "seq");
    json_t *typev = json_object_get(root, "type");
    const char *type = json_string_value(typev);
    json_t *chv = json_object_get(root, "channel");
    const char *ts = json_string_value(json_object_get(root, "timestamp"));
    if (!json_is_integer(id) || !json_is_integer(seq) || !json_is_string(chv) || !ts ||
        !json_is_object(json_object_get(root, "data")))
        goto out;
    json_int_t s = json_integer_value(seq);
    /* A type with an escaped NUL would pass the check on its C prefix only. */
    if (s < 1 || json_integer_value(id) != s || !event_type_name_valid(type) ||
        json_string_length(typev) != strlen(type))
        goto out;
    int channel = event_channel_parse(json_string_value(chv), json_string_length(chv));
    int64_t created_ms;
    if (channel < 0 || clock_parse_iso(ts, 0, &created_ms) < 0)
        goto out;

    e = event_alloc(user_id, (int64_t)s, type, channel, created_ms);
    if (!e)
        goto out;
    e->frame = frame_new(text, len);
    if (!e->frame) {
        free(e);
        e = NULL;
    }
out:
    json_decref(root);
    return e;
}

struct event *event_ref(struct event *e)
{
    if (e)
        e->refcnt++;
    return e;
}

void event_unref(struct event *e)
{
    if (e && --e->refcnt == 0) {
        frame_unref(e->frame);
        free(e);
    }
}

struct frame *event_system_frame(const char *type, const char *data_json, const char *extra)
{
    char iso[EVENT_ISO_LEN + 1];
    if (!event_type_name_valid(type) || clock_format_iso(clock_now_ms(), iso, sizeof iso) < 0)
        return NULL;
    if (!data_json)
        data_json = "{}";
    if (extra && !*extra)
        extra = NULL;

    char head[160];
    int hlen =
        snprintf(head, sizeof head, "{\"type\":\"%s\",\"timestamp\":\"%s\",\"data\":", type, iso);
    if (hlen < 0 || (size_t)hlen >= sizeof head)
        return NULL;
    size_t dlen = strlen(data_json);
    size_t xlen = extra ? strlen(extra) : 0;
    if (dlen > SIZE_MAX / 4 || xlen > SIZE_MAX / 4)
        return NULL;

    struct frame *f = frame_alloc((size_t)hlen + dlen + (extra ? 1 + xlen : 0) + 1);
    if (!f)
        return NULL;
    unsigned char *p = f->payload;
    memcpy(p, head, (size_t)hlen);
    p += hlen;
    memcpy(p, data_json, dlen);
    p += dlen;
    if (extra) {
        *p++ = ',';
        memcpy(p, extra, xlen);
        p += xlen;
    }
    *p = '}';
    return f;
}
