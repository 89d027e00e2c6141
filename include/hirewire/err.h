/* Error codes shared by every module.
 *
 * Functions return 0 on success and a negative value on failure: either a
 * negated errno (-EINVAL, -ENOMEM, ...) or one of the HW_E* codes below, which
 * all sit under -4000 so they never collide with errno values. */
#ifndef HIREWIRE_ERR_H
#define HIREWIRE_ERR_H

enum {
    HW_ENOTFOUND = -4001,   /* the object does not exist (or is not yours) */
    HW_ECONFLICT = -4002,   /* duplicate, or a state that forbids the change */
    HW_EVALIDATION = -4003, /* a field has a value the domain rejects */
    HW_EUNAVAIL = -4004,    /* a backend (PostgreSQL, Redis) is down or overloaded */
    HW_EUNAUTH = -4005,     /* no valid credential */
    HW_ETOOLARGE = -4006,   /* request body over the configured limit */
    HW_EMEDIA = -4007,      /* unsupported content type */
    HW_EBADJSON = -4008,    /* body is not well-formed JSON */
    HW_ERATELIMIT = -4009,  /* too many requests */
    HW_EMETHOD = -4010,     /* path exists, method does not */
    HW_EDB = -4011,         /* the database rejected a statement (a bug on our side) */
    HW_ELENGTH = -4012,     /* a body without Content-Length */
    HW_EFORBIDDEN = -4013,  /* refused by policy (CORS origin, feature disabled) */
    HW_EGONE = -4014,       /* the data existed but has expired */
    HW_EINTERNAL = -4015,   /* anything else that is our fault */
};

/* Short stable identifier of an error code: "not_found", "ENOMEM", ...
 * Never NULL; unknown codes give "unknown". */
const char *err_name(int err);

/* Human readable sentence for an error code. Never NULL. */
const char *err_str(int err);

#endif
