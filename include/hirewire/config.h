/* Settings. One table in config.c describes every key: its type, default,
 * environment name (HIREWIRE_<KEY>), limits and whether it is a secret.
 * Sources apply in order: defaults -> config file -> environment -> flags. */
#ifndef HIREWIRE_CONFIG_H
#define HIREWIRE_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config {
    /* net */
    char *listen_host;     /* "127.0.0.1" */
    int port;              /* 8000 */
    char *public_url;      /* "" = derived from listen_host:port */
    int64_t http_body_max; /* bytes, 1 MiB */
    int http_timeout_s;    /* a request that has no answer by then is dropped */
    char **cors_origins;   /* NULL-terminated list of origin patterns ('*' globs) */
    size_t cors_origins_n;
    int fd_limit;          /* max sockets lws sizes its tables for */

    /* store */
    char *pg_conninfo;  /* libpq conninfo (secret: may hold a password) */
    int pg_pool_size;   /* connections */
    int pg_queue_max;   /* statements waiting for a connection */
    int pg_connect_timeout_s;

    /* redis + cache; redis_host "" = no Redis (single node, memory cache) */
    char *redis_host;
    int redis_port;
    char *redis_password; /* secret */
    int redis_db;
    char *redis_prefix;   /* key prefix, "hirewire" */
    int cache_lru_entries;
    int64_t cache_lru_bytes;

    /* process */
    char *log_level; /* debug|info|warn|error */
    char *node_id;   /* "" = hostname-pid */
    char *config_file; /* the file that was read, "" if none */

    /* events and WebSockets */
    int event_retention_days;
    int reaction_retry_s;
    char *sequences_file;
    int followup_batch;
    int reaction_sweep_s;
    int ws_queue_soft_msgs;
    int64_t ws_queue_soft_bytes;
    int ws_queue_hard_msgs;
    int64_t ws_queue_hard_bytes;
    int ws_soft_grace_s;
    int ws_ping_s;  /* server pings an idle client after this long */
    int ws_idle_s;  /* and drops it if nothing came back by then */
};

/* Fills cfg from the four sources. argv holds only flags ("--port=9000",
 * "--port 9000", "--config FILE"); a positional argument is an error.
 * On failure returns -EINVAL and writes a sentence naming the key and the
 * source into err (errlen bytes); cfg is left freed. */
int config_load(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Frees every string of cfg. Safe on a zeroed or already freed config. */
void config_free(struct config *cfg);

/* The effective values as a JSON object (new reference); secrets are shown as
 * "***" when redact is true (passwords inside pg_conninfo too). */
json_t *config_to_json(const struct config *cfg, bool redact);

/* True when origin matches one of cfg->cors_origins. */
bool config_origin_allowed(const struct config *cfg, const char *origin);

#endif
