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

    {HTTP_GET, "/api/v1/cache/stats", api_cache_stats, ROUTE_JSON},
    {HTTP_GET, "/api/v1/cache/health", api_cache_health, ROUTE_JSON},
    {HTTP_GET, "/api/v1/cache/namespaces", api_cache_namespaces, ROUTE_JSON},
    {HTTP_POST, "/api/v1/cache/set", api_cache_set, ROUTE_JSON},
    {HTTP_POST, "/api/v1/cache/get", api_cache_get, ROUTE_JSON},
    {HTTP_DELETE | HTTP_POST, "/api/v1/cache/clear", api_cache_clear, ROUTE_JSON},

    {HTTP_POST, "/api/v1/events", api_events_post, ROUTE_JSON},
};

const size_t api_routes_count = sizeof(api_routes) / sizeof(api_routes[0]);
