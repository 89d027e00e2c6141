/* What the parts of the sequences module share: the structs behind the
 * opaque handles, the tables of names and the text check. */
#ifndef HIREWIRE_SEQUENCES_INTERNAL_H
#define HIREWIRE_SEQUENCES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "hirewire/sequences.h"

#define SEQUENCES_FILE_MAX (1024 * 1024)
#define SEQUENCES_DESCRIPTION_MAX 500
#define PATH_MAX_LEN 160

struct sequences_seq {
    const char *name;
    const char *description;
    enum sequences_anchor anchor;
    size_t n_steps;
    struct sequences_step steps[SEQUENCES_STEPS_MAX];
};

struct sequences {
    json_t *root; /* owns every string below */
    size_t n;
    struct sequences_seq seqs[SEQUENCES_MAX];
    const struct sequences_seq *on_applied;
    const struct sequences_seq *on_interview;
};

struct sequences__unit {
    const char *key;
    enum sequences_unit unit;
    int max;
};

#define SEQUENCES__N_UNITS 4
extern const struct sequences__unit sequences__units[SEQUENCES__N_UNITS];
extern const char *const sequences__priority_names[3];
extern const char *const sequences__anchor_names[2];

/* UTF-8 and control characters: C0 (but line breaks and tabs when
 * multiline), DEL and C1. 0, or -EINVAL with a sentence in err. */
int sequences__text_check(const char *s, bool multiline, char *err, size_t n);

#endif
