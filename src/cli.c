/* The command line: serve, migrate, user, token, version.
 *
 * Positional words come first ("user add bob"), settings after them as
 * flags ("--pg-conninfo ..."), which go to config_load() untouched. Exit
 * status: 0 done, 1 failed at run time, 2 bad usage or configuration. */
#define LOG_MOD "cli"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "hirewire/app.h"
#include "hirewire/cli.h"
#include "hirewire/config.h"
#include "hirewire/err.h"
#include "hirewire/jsonx.h"
#include "hirewire/localtime.h"
#include "hirewire/log.h"
#include "hirewire/migrate.h"
#include "hirewire/user_repo.h"

#define EXIT_USAGE 2
#define MAX_POS 4
#define START_WAIT_S 30

struct cmd_args {
    const char *pos[MAX_POS];
    int npos;
    int nflags;
    char **flags;
    bool help;
    bool print_config;
    const char *label;
    const char *timezone;
};

static const char usage_main[] =
    "usage: hirewire COMMAND [ARGS] [--KEY VALUE ...]\n"
    "\n"
    "commands:\n"
    "  serve             run the server (applies migrations first)\n"
    "  migrate           apply pending database migrations and exit\n"
    "  user add NAME     create a user and print its first API token (--timezone ZONE)\n"
    "  user list         list users\n"
    "  token new USER    create another token for USER (name or id) and print it\n"
    "  token list USER   list USER's tokens\n"
    "  token revoke ID   revoke a token at once\n"
    "  version           print the version\n"
    "\n"
    "Settings come from config/hirewire.json (or --config FILE), then HIREWIRE_* environment\n"
    "variables, then --KEY VALUE flags; `hirewire serve --print-config` shows them.\n"
    "`hirewire COMMAND --help` describes one command.\n";

static const struct {
    const char *cmd;
    const char *help;
} helps[] = {
    {"serve", "usage: hirewire serve [--print-config] [--KEY VALUE ...]\n"
              "Applies pending migrations, then serves HTTP and WebSocket on listen_host:port\n"
              "until SIGINT or SIGTERM (a second signal exits at once).\n"
              "  --print-config  print the effective settings as JSON (secrets hidden) and exit\n"},
    {"migrate", "usage: hirewire migrate [--KEY VALUE ...]\n"
                "Applies pending database migrations, each in its own transaction, and exits.\n"},
    {"user", "usage: hirewire user add NAME [--timezone ZONE] | hirewire user list\n"
             "  add NAME   create a user; prints its API token once, on one line. --timezone:\n"
             "             the IANA zone (Europe/Berlin) that the user's times without a zone\n"
             "             are read in, UTC if not given; the user can change it later\n"
             "             (PATCH /api/v1/me)\n"
             "  list       print id, name, creation time and live tokens of every user\n"},
    {"token", "usage: hirewire token new USER [--label TEXT] | token list USER | token revoke ID\n"
              "  new USER     create a token for USER (name or id); prints it once, on one line\n"
              "  list USER    print USER's tokens: id, created, last used, state, label\n"
              "  revoke ID    revoke token ID; requests with it fail from now on\n"},
    {"version", "usage: hirewire version\n"},
};

static void print_help(const char *cmd)
{
    for (size_t i = 0; cmd && i < sizeof(helps) / sizeof(helps[0]); i++) {
        if (strcmp(helps[i].cmd, cmd) == 0) {
            fputs(helps[i].help, stdout);
            return;
        }
    }
    fputs(usage_main, stdout);
}

static int split_args(int argc, char **argv, struct cmd_args *a)
{
    int i = 0;

    memset(a, 0, sizeof(*a));
    for (; i < argc && strncmp(argv[i], "--", 2) != 0; i++) {
        if (strcmp(argv[i], "-h") == 0) {
            a->help = true;
            continue;
        }
        if (a->npos == MAX_POS) {
            fprintf(stderr, "hirewire: too many arguments (at \"%s\")\n", argv[i]);
            return -EINVAL;
        }
        a->pos[a->npos++] = argv[i];
    }
    a->flags = calloc((size_t)(argc - i) + 1, sizeof(char *));
    if (!a->flags)
        return -ENOMEM;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            a->help = true;
        } else if (strcmp(argv[i], "--print-config") == 0) {
            a->print_config = true;
        } else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc) {
            a->label = argv[++i];
        } else if (strncmp(argv[i], "--label=", 8) == 0) {
            a->label = argv[i] + 8;
        } else if (strcmp(argv[i], "--timezone") == 0 && i + 1 < argc) {
            a->timezone = argv[++i];
        } else if (strncmp(argv[i], "--timezone=", 11) == 0) {
            a->timezone = argv[i] + 11;
        } else {
            a->flags[a->nflags++] = argv[i];
        }
    }
    return 0;
}

static int load_config(struct cmd_args *a, struct config *cfg)
{
    char err[512];

    if (config_load(cfg, a->nflags, a->flags, err, sizeof(err))) {
        fprintf(stderr, "hirewire: %s\n", err);
        return EXIT_USAGE;
    }
    enum log_level lvl;
    if (log_level_parse(cfg->log_level, &lvl) == 0)
        log_set_level(lvl);
    return 0;
}

/* Applies migrations; at start-up the database may still be coming up, so a
 * refused connection is retried for a while before giving up. */
static int run_migrations(const struct config *cfg, bool wait)
{
    char err[512];
    time_t deadline = time(NULL) + (wait ? START_WAIT_S : 0);
    unsigned delay_ms = 200;

    for (;;) {
        int n = migrate_run(cfg->pg_conninfo, err, sizeof(err));
        if (n >= 0)
            return n;
        if (n != HW_EUNAVAIL || time(NULL) >= deadline) {
            fprintf(stderr, "hirewire: %s\n", err);
            return -1;
        }
        LOG_WARN("%s; retrying", err);
        struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        if (delay_ms < 2000)
            delay_ms *= 2;
    }
}

static PGconn *db_connect(const struct config *cfg)
{
    if (run_migrations(cfg, false) < 0)
        return NULL;
    PGconn *c = PQconnectdb(cfg->pg_conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "hirewire: cannot connect to PostgreSQL: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, log_pq_notice, NULL);
    return c;
}

static int cmd_serve(struct cmd_args *a, struct config *cfg)
{
    if (a->npos != 1) {
        fputs(helps[0].help, stderr);
        return EXIT_USAGE;
    }
    if (a->print_config) {
        json_t *j = config_to_json(cfg, true);
        char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        json_decref(j);
        if (!s)
            return 1;
        puts(s);
        free(s);
        return 0;
    }
    if (run_migrations(cfg, true) < 0)
        return 1;
    return app_serve(cfg);
}

static int cmd_migrate(struct cmd_args *a, struct config *cfg)
{
    if (a->npos != 1) {
        fputs(helps[1].help, stderr);
        return EXIT_USAGE;
    }
    int n = run_migrations(cfg, false);
    if (n < 0)
        return 1;
    printf("applied %d migration%s\n", n, n == 1 ? "" : "s");
    return 0;
}

static int cmd_user(struct cmd_args *a, struct config *cfg)
{
    char err[512], token[USER_TOKEN_LEN + 1];
    int64_t uid;
    int rc;

    bool add = a->npos == 3 && strcmp(a->pos[1], "add") == 0;
    bool list = a->npos == 2 && strcmp(a->pos[1], "list") == 0;
    if ((!add && !list) || (list && a->timezone)) {
        fputs(helps[2].help, stderr);
        return EXIT_USAGE;
    }
    if (a->timezone) {
        /* The server reads the zone the same way when it converts times. */
        bool known = localtime_tz_valid(a->timezone);
        localtime_global_cleanup();
        if (!known) {
            fprintf(stderr,
                    "hirewire: unknown time zone \"%.80s\": give an IANA zone of the system's "
                    "zone database, like Europe/Berlin or UTC\n",
                    a->timezone);
            return EXIT_USAGE;
        }
    }
    PGconn *c = db_connect(cfg);
    if (!c)
        return 1;
    if (add) {
        rc = user_repo_add(c, a->pos[2], a->timezone, &uid, token, sizeof(token), err, sizeof(err));
        if (rc == 0) {
            printf("%s\n", token);
            fprintf(stderr, "created user %s (id %lld)\n", a->pos[2], (long long)uid);
        }
    } else {
        rc = user_repo_list(c, err, sizeof(err));
    }
    PQfinish(c);
    if (rc)
        fprintf(stderr, "hirewire: %s\n", err);
    return rc ? 1 : 0;
}

static int cmd_token(struct cmd_args *a, struct config *cfg)
{
    char err[512], token[USER_TOKEN_LEN + 1];
    int64_t id;
    int rc;

    const char *sub = a->npos == 3 ? a->pos[1] : "";
    if (strcmp(sub, "new") && strcmp(sub, "list") && strcmp(sub, "revoke")) {
        fputs(helps[3].help, stderr);
        return EXIT_USAGE;
    }
    if (strcmp(sub, "revoke") == 0) {
        char *end;
        errno = 0;
        id = strtoll(a->pos[2], &end, 10);
        if (errno || *end || id <= 0) {
            fprintf(stderr, "hirewire: token id must be a positive number, not \"%s\"\n",
                    a->pos[2]);
            return EXIT_USAGE;
        }
    }
    PGconn *c = db_connect(cfg);
    if (!c)
        return 1;
    if (strcmp(sub, "new") == 0) {
        rc = user_repo_token_new(c, a->pos[2], a->label ? a->label : "", &id, token,
                                 sizeof(token), err, sizeof(err));
        if (rc == 0) {
            printf("%s\n", token);
            fprintf(stderr, "created token %lld for user %s\n", (long long)id, a->pos[2]);
        }
    } else if (strcmp(sub, "list") == 0) {
        rc = user_repo_token_list(c, a->pos[2], err, sizeof(err));
    } else {
        rc = user_repo_token_revoke(c, id, err, sizeof(err));
        if (rc == 0)
            fprintf(stderr, "revoked token %lld\n", (long long)id);
    }
    PQfinish(c);
    if (rc)
        fprintf(stderr, "hirewire: %s\n", err);
    return rc ? 1 : 0;
}

int cli_main(int argc, char **argv)
{
    struct cmd_args a;
    struct config cfg;
    int rc;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(argc > 2 ? argv[2] : NULL);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("hirewire %s\n", HIREWIRE_VERSION);
        return 0;
    }
    if (split_args(argc - 1, argv + 1, &a)) {
        free(a.flags);
        return EXIT_USAGE;
    }
    if (a.npos == 0) {
        fprintf(stderr, "hirewire: a command comes first\n\n%s", usage_main);
        free(a.flags);
        return EXIT_USAGE;
    }
    static const struct {
        const char *name;
        int (*fn)(struct cmd_args *, struct config *);
    } cmds[] = {
        {"serve", cmd_serve}, {"migrate", cmd_migrate}, {"user", cmd_user}, {"token", cmd_token},
    };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strcmp(a.pos[0], cmds[i].name) != 0)
            continue;
        if (a.help) {
            print_help(a.pos[0]);
            free(a.flags);
            return 0;
        }
        memset(&cfg, 0, sizeof(cfg));
        rc = load_config(&a, &cfg);
        if (rc == 0)
            rc = cmds[i].fn(&a, &cfg);
        config_free(&cfg);
        free(a.flags);
        return rc;
    }
    fprintf(stderr, "hirewire: unknown command \"%s\"\n\n%s", a.pos[0], usage_main);
    free(a.flags);
    return EXIT_USAGE;
}
