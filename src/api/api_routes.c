/* Every route the server answers. Literal paths come before parameterised
 * ones that could also match them. Every path answers with and without a
 * trailing slash (the server strips it before matching). */
#include "hirewire/api.h"

const struct route api_routes[] = {
    {HTTP_GET, "/", api_root, ROUTE_PUBLIC},
    {HTTP_GET, "/health", api_health, ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/health", api_health, ROUTE_PUBLIC},
    {HTTP_GET, "/metrics", api_metrics, ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/integrations/health", api_integrations_health, ROUTE_PUBLIC},

    {HTTP_GET, "/api/v1/me", api_me, ROUTE_JSON},
    {HTTP_PATCH, "/api/v1/me", api_me_update, ROUTE_JSON},

    {HTTP_GET, "/api/v1/cache/stats", api_cache_stats, ROUTE_JSON},
    {HTTP_GET, "/api/v1/cache/health", api_cache_health, ROUTE_JSON},
    {HTTP_GET, "/api/v1/cache/namespaces", api_cache_namespaces, ROUTE_JSON},
    {HTTP_POST, "/api/v1/cache/set", api_cache_set, ROUTE_JSON},
    {HTTP_POST, "/api/v1/cache/get", api_cache_get, ROUTE_JSON},
    {HTTP_DELETE | HTTP_POST, "/api/v1/cache/clear", api_cache_clear, ROUTE_JSON},

    {HTTP_POST, "/api/v1/events", api_events_post, ROUTE_JSON},

    {HTTP_POST, "/api/v1/jobs/process", api_jobs_process, ROUTE_JSON},
    {HTTP_GET, "/api/v1/jobs", api_jobs_list, ROUTE_JSON},
    {HTTP_POST, "/api/v1/jobs", api_jobs_create, ROUTE_JSON},
    {HTTP_GET, "/api/v1/jobs/{id}", api_jobs_get, ROUTE_JSON},
    {HTTP_PATCH | HTTP_PUT, "/api/v1/jobs/{id}", api_jobs_patch, ROUTE_JSON},
    {HTTP_DELETE, "/api/v1/jobs/{id}", api_jobs_delete, ROUTE_JSON},

    {HTTP_POST, "/api/v1/ats/jobs/{id}/status", api_ats_status, ROUTE_JSON},
    {HTTP_GET, "/api/v1/ats/jobs/{id}/timeline", api_ats_timeline, ROUTE_JSON},
    {HTTP_GET, "/api/v1/applications/{id}/timeline", api_ats_timeline, ROUTE_JSON},
    {HTTP_GET, "/api/v1/ats/jobs/{id}/interviews", api_interviews_of_job, ROUTE_JSON},
    {HTTP_GET, "/api/v1/ats/jobs/{id}/offers", api_ats_job_offers, ROUTE_JSON},
    {HTTP_GET, "/api/v1/ats/jobs/{id}/notes", api_ats_job_notes, ROUTE_JSON},
    {HTTP_GET, "/api/v1/ats/statistics", api_ats_statistics, ROUTE_JSON},
    {HTTP_GET, "/api/v1/ats/applications", api_ats_applications, ROUTE_JSON},

    {HTTP_GET, "/api/v1/ats/interviews/upcoming", api_interviews_upcoming, ROUTE_JSON},
    {HTTP_GET, "/api/v1/ats/interviews", api_interviews_list, ROUTE_JSON},
    {HTTP_POST, "/api/v1/ats/interviews", api_interview_create, ROUTE_JSON},
    {HTTP_GET, "/api/v1/ats/interviews/{id}", api_interview_get, ROUTE_JSON},
    {HTTP_PUT | HTTP_PATCH, "/api/v1/ats/interviews/{id}", api_interview_update, ROUTE_JSON},
    {HTTP_DELETE, "/api/v1/ats/interviews/{id}", api_interview_cancel, ROUTE_JSON},

    {HTTP_POST, "/api/v1/ats/offers", api_offer_create, ROUTE_JSON},
    {HTTP_PUT | HTTP_PATCH, "/api/v1/ats/offers/{id}", api_offer_update, ROUTE_JSON},
    {HTTP_POST, "/api/v1/ats/offers/{id}/negotiate", api_offer_negotiate, ROUTE_JSON},
    {HTTP_POST, "/api/v1/ats/offers/{id}/accept", api_offer_accept, ROUTE_JSON},
    {HTTP_POST, "/api/v1/ats/offers/{id}/reject", api_offer_reject, ROUTE_JSON},

    {HTTP_POST, "/api/v1/ats/notes", api_ats_note_create, ROUTE_JSON},
    {HTTP_PUT | HTTP_PATCH, "/api/v1/ats/notes/{id}", api_ats_note_update, ROUTE_JSON},
    {HTTP_DELETE, "/api/v1/ats/notes/{id}", api_ats_note_delete, ROUTE_JSON},

    {HTTP_GET, "/api/v1/calendar.ics", api_calendar_ics, 0},
    {HTTP_POST, "/api/v1/calendar/feed", api_calendar_feed_new, ROUTE_JSON},
    {HTTP_DELETE, "/api/v1/calendar/feed", api_calendar_feed_delete, ROUTE_JSON},
    {HTTP_GET, "/api/v1/calendar/feed/{secret}", api_calendar_feed_get, ROUTE_PUBLIC},

    {HTTP_GET, "/api/v1/followup/due", api_followup_due, ROUTE_JSON},
    {HTTP_GET, "/api/v1/followups/due", api_followups_fired, ROUTE_JSON},
    {HTTP_GET, "/api/v1/followups", api_followups_list, ROUTE_JSON},
    {HTTP_POST, "/api/v1/followups", api_followups_create, ROUTE_JSON},
    {HTTP_POST, "/api/v1/followups/{id}/complete", api_followup_complete, ROUTE_JSON},
    {HTTP_POST, "/api/v1/followups/{id}/snooze", api_followup_snooze, ROUTE_JSON},
    {HTTP_POST, "/api/v1/followups/{id}/dismiss", api_followup_dismiss, ROUTE_JSON},

#ifdef HIREWIRE_TEST_CLOCK
    {HTTP_POST, "/api/v1/_test/clock", api_test_clock, ROUTE_JSON},
    {HTTP_POST, "/api/v1/_test/reactions", api_test_reactions, ROUTE_JSON},
#endif
};

const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);
