#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>
#include <libwebsockets.h>

#include "hirewire/bus.h"
#include "hirewire/clock.h"
#include "hirewire/event.h"
#include "hirewire/eventlog.h"

#define GOLDEN_DATA "{\"company\": \"Acme\", \"job_id\": 7, \"job_title\": \"C programmer\"}"
#define GOLDEN                                                                                     \
    "{\"id\":42,\"seq\":42,\"type\":\"job.created\",\"channel\":\"jobs\","                         \
    "\"timestamp\":\"2026-11-18T11:06:40.123Z\",\"data\":" GOLDEN_DATA "}"

static const char *payload(const struct frame *f)
{
    return (const char *)f->payload;
}

/* ---- envelope ------------------------------------------------------------- */

static void test_envelope_golden(void **state)
{
    struct event *e =
        event_new(9, 42, "job.created", CH_JOBS, 1795000000123LL, GOLDEN_DATA, strlen(GOLDEN_DATA));
    assert_non_null(e);
    assert_int_equal(e->refcnt, 1);
    assert_int_equal(e->user_id, 9);
    assert_int_equal(e->seq, 42);
    assert_int_equal(e->channel, CH_JOBS);
    assert_int_equal(e->created_ms, 1795000000123LL);
    assert_string_equal(e->type, "job.created");
    assert_non_null(e->frame);
    assert_int_equal(e->frame->len, strlen(GOLDEN));
    assert_memory_equal(e->frame->payload, GOLDEN, strlen(GOLDEN));
    assert_string_equal(payload(e->frame), GOLDEN); /* NUL after the payload */
    assert_ptr_equal(e->frame->payload, e->frame->buf + LWS_PRE);
    event_unref(e);
}

static void test_envelope_data_not_nul_terminated(void **state)
{
    /* Only data_len bytes are copied, whatever follows them. */
    const char data[] = "{\"a\":1}XXXX";
    struct event *e = event_new(1, 1, "system.notification", CH_SYSTEM, 0, data, 7);
    assert_non_null(e);
    assert_string_equal(payload(e->frame), "{\"id\":1,\"seq\":1,\"type\":\"system.notification\","
                                           "\"channel\":\"system\",\"timestamp\":"
                                           "\"1970-01-01T00:00:00.000Z\",\"data\":{\"a\":1}}");
    event_unref(e);

    e = event_new(1, 9223372036854775807LL, "a.b", CH_RESEARCH, 1, NULL, 0);
    assert_non_null(e);
    assert_string_equal(payload(e->frame),
                        "{\"id\":9223372036854775807,\"seq\":9223372036854775807,\"type\":\"a.b\","
                        "\"channel\":\"research\",\"timestamp\":\"1970-01-01T00:00:00.001Z\","
                        "\"data\":{}}");
    event_unref(e);

    e = event_new(1, 2, "a.b", CH_JOBS, 0, "", 0);
    assert_non_null(e);
    assert_non_null(strstr(payload(e->frame), ",\"data\":{}}"));
    event_unref(e);
}

static void test_event_new_rejects(void **state)
{
    assert_null(event_new(1, 1, "job.created", -1, 0, "{}", 2));
    assert_null(event_new(1, 1, "job.created", CH__COUNT, 0, "{}", 2));
    assert_null(event_new(1, 0, "job.created", CH_JOBS, 0, "{}", 2));
    assert_null(event_new(1, -5, "job.created", CH_JOBS, 0, "{}", 2));
    assert_null(event_new(1, 1, "job\".created", CH_JOBS, 0, "{}", 2));
    assert_null(event_new(1, 1, NULL, CH_JOBS, 0, "{}", 2));
    /* year 10000 does not fit the timestamp format */
    assert_null(event_new(1, 1, "job.created", CH_JOBS, 253402300800000LL, "{}", 2));
}

/* ---- refcounts ------------------------------------------------------------ */

static void test_frame_refcount(void **state)
{
    struct frame *f = frame_new("hello", 5);
    assert_non_null(f);
    assert_int_equal(f->refcnt, 1);
    assert_int_equal(f->len, 5);
    assert_ptr_equal(f->payload, f->buf + LWS_PRE);
    assert_string_equal(payload(f), "hello");
    assert_ptr_equal(frame_ref(f), f);
    assert_ptr_equal(frame_ref(f), f);
    assert_int_equal(f->refcnt, 3);
    frame_unref(f);
    frame_unref(f);
    assert_int_equal(f->refcnt, 1);
    assert_string_equal(payload(f), "hello");
    frame_unref(f); /* freed here; ASan reports a leak otherwise */
    frame_unref(NULL);
    assert_null(frame_ref(NULL));

    struct frame *empty = frame_new(NULL, 0);
    assert_non_null(empty);
    assert_int_equal(empty->len, 0);
    assert_string_equal(payload(empty), "");
    frame_unref(empty);
}

static void test_event_shares_frame(void **state)
{
    struct event *e = event_new(3, 5, "job.deleted", CH_JOBS, 1000, "{\"job_id\":1}", 12);
    assert_non_null(e);
    assert_ptr_equal(event_ref(e), e);
    assert_int_equal(e->refcnt, 2);

    /* A socket queue keeps the frame alive after the last event reference. */
    struct frame *queued = frame_ref(e->frame);
    assert_int_equal(queued->refcnt, 2);
    event_unref(e);
    assert_int_equal(e->refcnt, 1);
    event_unref(e);
    assert_int_equal(queued->refcnt, 1);
    assert_non_null(strstr(payload(queued), "\"seq\":5"));
    frame_unref(queued);
    event_unref(NULL);
    assert_null(event_ref(NULL));
}

/* ---- channels ------------------------------------------------------------- */

static void test_channel_names(void **state)
{
    static const char *const names[] = {"jobs",   "applications",    "interviews", "followups",
                                        "skills", "recommendations", "research",   "system"};
    assert_int_equal(sizeof names / sizeof names[0], CH__COUNT);
    for (int ch = 0; ch < CH__COUNT; ch++) {
        assert_string_equal(event_channel_name(ch), names[ch]);
        assert_int_equal(event_channel_parse(names[ch], strlen(names[ch])), ch);
    }
    assert_null(event_channel_name(-1));
    assert_null(event_channel_name(CH__COUNT));

    assert_int_equal(event_channel_parse("Jobs", 4), -1);
    assert_int_equal(event_channel_parse("job", 3), -1);
    assert_int_equal(event_channel_parse("jobs ", 5), -1);
    assert_int_equal(event_channel_parse("", 0), -1);
    assert_int_equal(event_channel_parse(NULL, 0), -1);
    /* the length bounds the name: no NUL needed */
    assert_int_equal(event_channel_parse("jobsX", 4), CH_JOBS);
    assert_int_equal(event_channel_parse("skills,jobs", 6), CH_SKILLS);
}

static void test_channel_mask_parse(void **state)
{
    int unknown = -1;
    assert_int_equal(event_channel_mask_parse("jobs", &unknown), CH_MASK(CH_JOBS));
    assert_int_equal(unknown, 0);

    unknown = -1;
    assert_int_equal(event_channel_mask_parse(" jobs , applications,skills\t", &unknown),
                     CH_MASK(CH_JOBS) | CH_MASK(CH_APPLICATIONS) | CH_MASK(CH_SKILLS));
    assert_int_equal(unknown, 0);

    unknown = -1;
    assert_int_equal(event_channel_mask_parse("Jobs,bogus, research ,job s", &unknown),
                     CH_MASK(CH_RESEARCH));
    assert_int_equal(unknown, 3);

    unknown = -1;
    assert_int_equal(event_channel_mask_parse("", &unknown), 0);
    assert_int_equal(unknown, 0);
    unknown = -1;
    assert_int_equal(event_channel_mask_parse(NULL, &unknown), 0);
    assert_int_equal(unknown, 0);
    unknown = -1;
    assert_int_equal(event_channel_mask_parse(" , ,,", &unknown), 0);
    assert_int_equal(unknown, 0);

    assert_int_equal(event_channel_mask_parse("system,jobs,system", NULL),
                     CH_MASK(CH_SYSTEM) | CH_MASK(CH_JOBS));
    assert_int_equal(event_channel_mask_parse("jobs,applications,interviews,followups,skills,"
                                              "recommendations,research,system",
                                              NULL),
                     CH_MASK_ALL);
}

/* ---- type table ----------------------------------------------------------- */

/* Every row's schema file exists in proto/ and names itself by its path. */
static void check_schema_file(const struct event_type *t)
{
    const char *root = getenv("HIREWIRE_SOURCE_ROOT");
    if (!root || !*root)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, t->schema);
    json_error_t jerr;
    json_t *s = json_load_file(path, 0, &jerr);
    if (!s)
        fail_msg("%s: %s", path, jerr.text);
    char id[128];
    snprintf(id, sizeof id, "events/%s.json", t->name);
    assert_string_equal(json_string_value(json_object_get(s, "$id")), id);
    assert_string_equal(json_string_value(json_object_get(s, "type")), "object");
    json_decref(s);
}

/* The envelope schema binds each type of the table to its channel and its
 * payload schema; it must agree with the table row for row. */
static void check_envelope_schema(void)
{
    const char *root = getenv("HIREWIRE_SOURCE_ROOT");
    if (!root || !*root)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/proto/schemas/event_envelope.json", root);
    json_error_t jerr;
    json_t *s = json_load_file(path, 0, &jerr);
    if (!s)
        fail_msg("%s: %s", path, jerr.text);
    size_t bound = 0;
    size_t i;
    json_t *rule;
    json_array_foreach(json_object_get(s, "allOf"), i, rule)
    {
        const char *type = json_string_value(json_object_get(
            json_object_get(json_object_get(json_object_get(rule, "if"), "properties"), "type"),
            "const"));
        if (!type)
            continue;
        json_t *then = json_object_get(json_object_get(rule, "then"), "properties");
        const char *ch =
            json_string_value(json_object_get(json_object_get(then, "channel"), "const"));
        const char *ref = json_string_value(json_object_get(json_object_get(then, "data"), "$ref"));
        const struct event_type *t = event_type_find(type);
        if (!t)
            fail_msg("the envelope schema names %s, which is not in the table", type);
        assert_non_null(ch);
        assert_string_equal(ch, event_channel_name(t->channel));
        assert_non_null(ref);
        assert_string_equal(ref, t->schema + strlen("proto/schemas/"));
        bound++;
    }
    assert_int_equal(bound, event_types_count);
    json_decref(s);
}

static void test_type_table(void **state)
{
    assert_int_equal(event_types_count, 29);
    unsigned seen = 0;
    for (size_t i = 0; i < event_types_count; i++) {
        const struct event_type *t = &event_types[i];
        assert_true(event_type_name_valid(t->name));
        assert_non_null(event_channel_name(t->channel));
        seen |= CH_MASK(t->channel);
        char schema[128];
        snprintf(schema, sizeof schema, "proto/schemas/events/%s.json", t->name);
        assert_string_equal(t->schema, schema);
        for (size_t j = i + 1; j < event_types_count; j++)
            assert_string_not_equal(t->name, event_types[j].name);
        assert_ptr_equal(event_type_find(t->name), t);
        check_schema_file(t);
    }
    assert_int_equal(seen, CH_MASK_ALL); /* every channel carries some type */
    check_envelope_schema();

    assert_int_equal(event_type_find("job.created")->channel, CH_JOBS);
    assert_int_equal(event_type_find("application.status_changed")->channel, CH_APPLICATIONS);
    assert_int_equal(event_type_find("offer.received")->channel, CH_APPLICATIONS);
    assert_int_equal(event_type_find("calendar.event_created")->channel, CH_INTERVIEWS);
    assert_int_equal(event_type_find("followup.response")->channel, CH_FOLLOWUPS);
    assert_int_equal(event_type_find("skill_gap.completed")->channel, CH_SKILLS);
    assert_int_equal(event_type_find("recommendation.viewed")->channel, CH_RECOMMENDATIONS);
    assert_int_equal(event_type_find("company_research.completed")->channel, CH_RESEARCH);
    assert_int_equal(event_type_find("system.notification")->channel, CH_SYSTEM);

    assert_null(event_type_find("job.create"));
    assert_null(event_type_find("job.created "));
    assert_null(event_type_find("JOB.CREATED"));
    assert_null(event_type_find("system.ping"));
    assert_null(event_type_find(""));
    assert_null(event_type_find(NULL));
}

static void test_type_name_valid(void **state)
{
    static const char *const good[] = {"a.b",   "job.created", "skill_gap.completed",
                                       "a.b.c", "_._",         "x.y_z.w"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(event_type_name_valid(good[i]));
    static const char *const bad[] = {
        "",        "job",     ".job",     "job.",    "job..x",  "Job.created", "job.created1",
        "job-x.y", "job x.y", "job.créé", "job.\"x", "job.x\n", ".",           ".."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (event_type_name_valid(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_false(event_type_name_valid(NULL));

    char name[80];
    memset(name, 'a', sizeof name);
    name[1] = '.';
    name[64] = '\0';
    assert_true(event_type_name_valid(name)); /* 64 bytes */
    name[64] = 'a';
    name[65] = '\0';
    assert_false(event_type_name_valid(name)); /* 65 bytes */
}

/* ---- envelopes from other nodes ------------------------------------------- */

static void test_from_envelope_round_trip(void **state)
{
    struct event *e =
        event_new(9, 42, "job.created", CH_JOBS, 1795000000123LL, GOLDEN_DATA, strlen(GOLDEN_DATA));
    assert_non_null(e);
    struct event *r = event_from_envelope(11, payload(e->frame), e->frame->len);
    assert_non_null(r);
    assert_int_equal(r->refcnt, 1);
    assert_int_equal(r->user_id, 11);
    assert_int_equal(r->seq, 42);
    assert_int_equal(r->channel, CH_JOBS);
    assert_int_equal(r->created_ms, 1795000000123LL);
    assert_string_equal(r->type, "job.created");
    assert_int_equal(r->frame->len, e->frame->len);
    assert_string_equal(payload(r->frame), payload(e->frame));
    assert_ptr_not_equal(r->frame, e->frame);
    event_unref(e);
    event_unref(r);

    /* Member order and spacing are kept as received. */
    const char *other = "{ \"data\": {\"x\": [1]}, \"timestamp\": \"2026-01-02T03:04:05.006Z\","
                        " \"channel\": \"skills\", \"type\": \"skill_gap.completed\","
                        " \"seq\": 7, \"id\": 7 }";
    r = event_from_envelope(1, other, strlen(other));
    assert_non_null(r);
    assert_int_equal(r->channel, CH_SKILLS);
    assert_int_equal(r->seq, 7);
    assert_string_equal(payload(r->frame), other);
    event_unref(r);
}

static void test_from_envelope_rejects(void **state)
{
#define ENV(id, seq, type, ch, ts, data)                                                           \
    "{\"id\":" id ",\"seq\":" seq ",\"type\":" type ",\"channel\":" ch ",\"timestamp\":" ts        \
    ",\"data\":" data "}"
#define TS "\"2026-11-22T12:00:00.123Z\""
    static const char *const bad[] = {
        "",
        "not json",
        "[1,2]",
        "{}",
        ENV("1", "2", "\"job.created\"", "\"jobs\"", TS, "{}"),
        ENV("0", "0", "\"job.created\"", "\"jobs\"", TS, "{}"),
        ENV("-3", "-3", "\"job.created\"", "\"jobs\"", TS, "{}"),
        ENV("\"1\"", "\"1\"", "\"job.created\"", "\"jobs\"", TS, "{}"),
        ENV("1.0", "1.0", "\"job.created\"", "\"jobs\"", TS, "{}"),
        ENV("1", "1", "\"Job.Created\"", "\"jobs\"", TS, "{}"),
        ENV("1", "1", "\"job.created\\u0000x\"", "\"jobs\"", TS, "{}"),
        ENV("1", "1", "7", "\"jobs\"", TS, "{}"),
        ENV("1", "1", "\"job.created\"", "\"Jobs\"", TS, "{}"),
        ENV("1", "1", "\"job.created\"", "\"jobs\\u0000\"", TS, "{}"),
        ENV("1", "1", "\"job.created\"", "null", TS, "{}"),
        ENV("1", "1", "\"job.created\"", "\"jobs\"", "1795000000123", "{}"),
        ENV("1", "1", "\"job.created\"", "\"jobs\"", "\"yesterday\"", "{}"),
        ENV("1", "1", "\"job.created\"", "\"jobs\"", TS, "[]"),
        ENV("1", "1", "\"job.created\"", "\"jobs\"", TS, "\"x\""),
        ENV("1", "1", "\"job.created\"", "\"jobs\"", TS, "null"),
        "{\"id\":1,\"seq\":1,\"type\":\"job.created\",\"channel\":\"jobs\",\"timestamp\":" TS "}",
        "{\"id\":1,\"seq\":1,\"type\":\"job.created\",\"channel\":\"jobs\",\"timestamp\":" TS
        ",\"data\":{},\"seq\":2}",
        ENV("1", "1", "\"job.created\"", "\"jobs\"", TS, "{}") " trailing",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct event *e = event_from_envelope(1, bad[i], strlen(bad[i]));
        if (e) {
            event_unref(e);
            fail_msg("accepted #%zu: %s", i, bad[i]);
        }
    }
    assert_null(event_from_envelope(1, NULL, 0));

    /* The control: the same shape with good members is accepted. */
    const char *good = ENV("1", "1", "\"job.created\"", "\"jobs\"", TS, "{}");
    struct event *e = event_from_envelope(1, good, strlen(good));
    assert_non_null(e);
    event_unref(e);
    /* len bounds the text: a valid envelope followed by bytes not counted */
    char buf[256];
    snprintf(buf, sizeof buf, "%sgarbage", good);
    e = event_from_envelope(1, buf, strlen(good));
    assert_non_null(e);
    assert_int_equal(e->frame->len, strlen(good));
    assert_string_equal(payload(e->frame), good);
    event_unref(e);
#undef ENV
#undef TS
}

/* ---- system messages ------------------------------------------------------ */

/* Checks that f is head + a current ISO timestamp + tail. */
static void check_system_frame(struct frame *f, const char *head, const char *tail)
{
    assert_non_null(f);
    const char *p = payload(f);
    size_t hl = strlen(head), tl = strlen(tail);
    assert_int_equal(f->len, hl + 24 + tl);
    assert_int_equal(strlen(p), f->len);
    assert_memory_equal(p, head, hl);
    assert_string_equal(p + hl + 24, tail);
    char ts[25];
    memcpy(ts, p + hl, 24);
    ts[24] = '\0';
    int64_t ms;
    assert_int_equal(clock_parse_iso(ts, 0, &ms), 0);
    int64_t now = clock_now_ms();
    assert_true(ms <= now && ms > now - 60000);
    json_t *v = json_loadb(p, f->len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(v);
    json_decref(v);
    assert_ptr_equal(f->payload, f->buf + LWS_PRE);
}

static void test_system_frame(void **state)
{
    struct frame *f = event_system_frame("system.pong", NULL, NULL);
    check_system_frame(f, "{\"type\":\"system.pong\",\"timestamp\":\"", "\",\"data\":{}}");
    frame_unref(f);

    f = event_system_frame("system.subscribed", "{\"channel\":\"jobs\"}",
                           "\"channel\":\"jobs\",\"message\":\"Subscribed to jobs\"");
    check_system_frame(f, "{\"type\":\"system.subscribed\",\"timestamp\":\"",
                       "\",\"data\":{\"channel\":\"jobs\"},\"channel\":\"jobs\","
                       "\"message\":\"Subscribed to jobs\"}");
    frame_unref(f);

    f = event_system_frame("system.error", "{\"code\":\"bad_request\"}", "");
    check_system_frame(f, "{\"type\":\"system.error\",\"timestamp\":\"",
                       "\",\"data\":{\"code\":\"bad_request\"}}");
    frame_unref(f);

    assert_null(event_system_frame("pong", NULL, NULL));
    assert_null(event_system_frame("system.\"x", NULL, NULL));
    assert_null(event_system_frame(NULL, NULL, NULL));
}

/* ---- rows of the events table --------------------------------------------- */

/* A result built in memory, as libpq would return it for the replay
 * statement; no server is involved. */
static PGresult *make_result(const char *const *names, int ncols)
{
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    assert_non_null(res);
    PGresAttDesc attrs[8];
    assert_true(ncols <= 8);
    memset(attrs, 0, sizeof attrs);
    for (int i = 0; i < ncols; i++) {
        attrs[i].name = (char *)names[i];
        attrs[i].typlen = -1;
        attrs[i].atttypmod = -1;
    }
    assert_int_equal(PQsetResultAttrs(res, ncols, attrs), 1);
    return res;
}

static void set_row(PGresult *res, int row, const char *const *vals, int ncols)
{
    for (int i = 0; i < ncols; i++) {
        int len = vals[i] ? (int)strlen(vals[i]) : -1;
        assert_int_equal(PQsetvalue(res, row, i, (char *)vals[i], len), 1);
    }
}

static void test_event_from_row(void **state)
{
    static const char *const cols[] = {"data",       "event_floor", "channel",
                                       "created_ms", "type",        "seq"};
    PGresult *res = make_result(cols, 6);
    static const char *const rows[][6] = {
        {GOLDEN_DATA, "0", "jobs", "1795000000123", "job.created", "42"},
        {"{}", "0", "Jobs", "1", "job.created", "43"},
        {"{}", "0", "jobs", "1", "job created", "44"},
        {"{}", "0", "jobs", "1x", "job.created", "45"},
        {"{}", "0", "jobs", "1", "job.created", NULL},
        {"{}", "0", "jobs", "1", "job.created", "0"},
    };
    for (int r = 0; r < 6; r++)
        set_row(res, r, rows[r], 6);

    struct event *e = eventlog_event_from_row(9, res, 0);
    assert_non_null(e);
    assert_string_equal(payload(e->frame), GOLDEN);
    assert_int_equal(e->user_id, 9);
    event_unref(e);
    for (int r = 1; r < 6; r++) {
        e = eventlog_event_from_row(9, res, r);
        if (e) {
            event_unref(e);
            fail_msg("accepted row %d", r);
        }
    }
    assert_null(eventlog_event_from_row(9, res, 6));
    assert_null(eventlog_event_from_row(9, res, -1));
    assert_null(eventlog_event_from_row(9, NULL, 0));
    PQclear(res);

    /* a result without a created_ms column */
    static const char *const short_cols[] = {"seq", "type", "channel", "data"};
    res = make_result(short_cols, 4);
    static const char *const row[] = {"1", "job.created", "jobs", "{}"};
    set_row(res, 0, row, 4);
    assert_null(eventlog_event_from_row(9, res, 0));
    PQclear(res);
}

static void test_eventlog_rejects_arguments(void **state)
{
    /* Checked before any statement is queued, so no pool is needed. */
    assert_int_equal(eventlog_read(NULL, 1, 0, 0, CH_MASK_ALL, 0, NULL, NULL), -EINVAL);
    assert_int_equal(eventlog_read(NULL, 1, 0, 0, CH_MASK_ALL, 1001, NULL, NULL), -EINVAL);
    assert_int_equal(eventlog_prune(NULL, 30, 0, NULL, NULL), -EINVAL);
    assert_int_equal(eventlog_prune(NULL, 0, 100, NULL, NULL), -EINVAL);
    assert_int_equal(eventlog_append(NULL, 1, "job.created", CH__COUNT, "{}", NULL, NULL), -EINVAL);
    assert_int_equal(eventlog_append(NULL, 1, "job", CH_JOBS, "{}", NULL, NULL), -EINVAL);
}

/* ---- bus ------------------------------------------------------------------ */

struct seen {
    int order[32];
    int n;
    struct event *ev;
};

struct sub {
    struct seen *seen;
    int id;
};

static void on_event(void *arg, struct event *ev)
{
    struct sub *s = arg;
    s->seen->order[s->seen->n++] = s->id;
    s->seen->ev = ev;
}

static void test_bus(void **state)
{
    struct bus *b = bus_new();
    assert_non_null(b);
    struct seen seen = {0};
    struct sub subs[17];
    for (int i = 0; i < 17; i++)
        subs[i] = (struct sub){.seen = &seen, .id = 100 - i};
    for (int i = 0; i < 16; i++)
        assert_int_equal(bus_subscribe(b, on_event, &subs[i]), 0);
    assert_int_equal(bus_subscribe(b, on_event, &subs[16]), -ENOSPC);
    assert_int_equal(bus_subscribe(b, NULL, NULL), -EINVAL);

    struct event *e = event_new(1, 1, "job.created", CH_JOBS, 0, "{}", 2);
    assert_non_null(e);
    bus_publish(b, e);
    assert_int_equal(seen.n, 16);
    for (int i = 0; i < 16; i++)
        assert_int_equal(seen.order[i], 100 - i);
    assert_ptr_equal(seen.ev, e);
    assert_int_equal(e->refcnt, 1); /* the bus keeps no reference */
    event_unref(e);
    bus_free(b);
    bus_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_golden),
        cmocka_unit_test(test_envelope_data_not_nul_terminated),
        cmocka_unit_test(test_event_new_rejects),
        cmocka_unit_test(test_frame_refcount),
        cmocka_unit_test(test_event_shares_frame),
        cmocka_unit_test(test_channel_names),
        cmocka_unit_test(test_channel_mask_parse),
        cmocka_unit_test(test_type_table),
        cmocka_unit_test(test_type_name_valid),
        cmocka_unit_test(test_from_envelope_round_trip),
        cmocka_unit_test(test_from_envelope_rejects),
        cmocka_unit_test(test_system_frame),
        cmocka_unit_test(test_event_from_row),
        cmocka_unit_test(test_eventlog_rejects_arguments),
        cmocka_unit_test(test_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
