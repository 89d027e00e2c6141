/* SHA-256 in lower-case hex (OpenSSL's libcrypto), for token and request
 * fingerprints. */
#ifndef HIREWIRE_DIGEST_H
#define HIREWIRE_DIGEST_H

#include <stddef.h>

/* Writes the 64 hex digits and a NUL into hex. On the (allocation) failure
 * of the digest hex is left empty, which never equals a stored digest. */
void digest_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
