/* Versioned SQL migrations, compiled into the binary from
 * src/store/migrations/NNNN_name.sql.
 *
 * Runs at start-up, before the loop serves anything, over its own blocking
 * connection: each pending migration is applied inside one transaction and
 * recorded in schema_migrations. A session advisory lock serialises nodes that
 * start at the same time. */
#ifndef HIREWIRE_MIGRATE_H
#define HIREWIRE_MIGRATE_H

#include <stddef.h>

/* Applies what is pending. Returns the number applied (>= 0) or a negative
 * error; err (errlen bytes) says what failed, naming the migration. */
int migrate_run(const char *conninfo, char *err, size_t errlen);

/* The embedded migrations (version-ordered). */
struct migration {
    int version;
    const char *name; /* "0001_init" */
    const char *sql;
};
extern const struct migration migrate_list[];
extern const size_t migrate_count;

#endif
