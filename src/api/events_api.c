/* Custom events: POST /api/v1/events appends to the user's log and publishes
 * after the commit, like any domain event. */
#define LOG_MOD "api"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hirewire/api.h"
#include "hirewire/app.h"
#include "hirewire/bus.h"
#include "hirewire/err.h"
#include "hirewire/event.h"
#include "hirewire/eventlog.h"
#include "hirewire/http.h"
#include "hirewire/jsonx.h"

#define EVENT_DATA_MAX 65536

static void on_appended(void *arg, int err, struct event *ev)
{
    struct http_req *req = arg;

    if (err) {
        api_store_error(req, err, "appending the event");
        return;
    }
    bus_publish(http_req_app(req)->bus, ev);
    http_reply_json_take(req, 202,
                         json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)ev->seq, "seq",
                                   (json_int_t)ev->seq, "type", ev->type, "channel",
                                   event_channel_name(ev->channel)));
    event_unref(ev);
}

void api_events_post(struct http_req *req)
{
    json_t *body = http_req_json(req), *data = NULL;
    const char *type = NULL, *channel = NULL;
    json_error_t jerr;
    char field[64];

    if (!json_is_object(body)) {
        api_error(req, -EINVAL, NULL, "the body must be {\"type\", \"channel\", \"data\"}");
        return;
    }
    if (json_unpack_ex(body, &jerr, JSON_STRICT, "{s:s, s:s, s:o}", "type", &type, "channel",
                       &channel, "data", &data)) {
        const char *f = jsonx_error_field(&jerr, field, sizeof(field));
        if (!*f) {
            /* jansson does not name the key whose value has the wrong type */
            f = json_is_string(json_object_get(body, "type")) ? "channel" : "type";
            api_error(req, HW_EVALIDATION, f, "%s must be a string", f);
            return;
        }
        api_error(req, HW_EVALIDATION, f, "%s", jerr.text);
        return;
    }
    if (!event_type_name_valid(type)) {
        api_error(req, HW_EVALIDATION, "type",
                  "type must look like noun.past_verb: ^[a-z_]+(\\.[a-z_]+)+$, at most 64 bytes");
        return;
    }
    if (strncmp(type, "system.", 7) == 0) {
        api_error(req, HW_EVALIDATION, "type", "system.* types are reserved for the server");
        return;
    }
    int ch = event_channel_parse(channel, strlen(channel));
    if (ch < 0) {
        api_error(req, HW_EVALIDATION, "channel", "unknown channel \"%s\"", channel);
        return;
    }
    const struct event_type *known = event_type_find(type);
    if (known && known->channel != ch) {
        api_error(req, HW_EVALIDATION, "channel", "%s events belong to the %s channel", type,
                  event_channel_name(known->channel));
        return;
    }
    if (!json_is_object(data)) {
        api_error(req, HW_EVALIDATION, "data", "data must be a JSON object");
        return;
    }
    size_t len;
    char *text = jsonx_dump(data, &len);
    if (!text) {
        api_error(req, -ENOMEM, NULL, "out of memory");
        return;
    }
    if (len > EVENT_DATA_MAX) {
        free(text);
        api_error(req, HW_ETOOLARGE, "data", "data is %zu bytes; the limit is %d", len,
                  EVENT_DATA_MAX);
        return;
    }
    int rc = eventlog_append(http_req_app(req)->pg, http_req_user(req), type, ch, text,
                             on_appended, req);
    free(text);
    if (rc)
        api_store_error(req, rc, "appending the event");
}
