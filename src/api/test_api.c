/* Endpoints that only a test build serves (meson -Dtest_clock=true): moving
 * the clock instead of sleeping, and holding this node's reactions so that a
 * test can kill it between a commit and the reactions to that commit. */
#define LOG_MOD "api"

#include <stdio.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/clock.h"
#include "hirewire/err.h"
#include "hirewire/http.h"
#include "hirewire/log.h"
#include "hirewire/orchestrator.h"
#include "hirewire/scheduler.h"

/* {"offset_ms": N} sets the offset, {"advance_ms": N} adds to it. */
void api_test_clock(struct http_req *req)
{
    json_t *body = http_req_json(req);
    json_t *set = json_object_get(body, "offset_ms"), *add = json_object_get(body, "advance_ms");
    if ((set && !json_is_integer(set)) || (add && !json_is_integer(add))) {
        api_error(req, HW_EVALIDATION, NULL, "offset_ms and advance_ms must be integers");
        return;
    }
    int64_t off = clock_offset_ms();
    if (set)
        off = (int64_t)json_integer_value(set);
    if (add)
        off += (int64_t)json_integer_value(add);
    clock_set_offset_ms(off);
    scheduler_poke(http_req_app(req)->sched);
    LOG_WARN("test clock offset now %lld ms", (long long)off);
    char now[32];
    clock_format_iso(clock_now_ms(), now, sizeof now);
    http_reply_json_take(req, 200, json_pack("{s:I, s:s}", "offset_ms", (json_int_t)off, "now", now));
}

/* {"hold": bool} and/or {"sweep": true}. */
void api_test_reactions(struct http_req *req)
{
    json_t *body = http_req_json(req);
    json_t *hold = json_object_get(body, "hold"), *sweep = json_object_get(body, "sweep");
    struct orchestrator *o = http_req_app(req)->orch;
    if ((hold && !json_is_boolean(hold)) || (sweep && !json_is_boolean(sweep))) {
        api_error(req, HW_EVALIDATION, NULL, "hold and sweep must be booleans");
        return;
    }
    if (hold)
        orchestrator_hold(o, json_is_true(hold));
    if (json_is_true(sweep))
        orchestrator_sweep(o);
    http_reply_json_take(req, 200, json_pack("{s:b}", "ok", 1));
}
