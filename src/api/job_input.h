/* Validating a job body (api layer, private). */
#ifndef HIREWIRE_API_JOB_INPUT_H
#define HIREWIRE_API_JOB_INPUT_H

#include <stdbool.h>

#include <jansson.h>

#include "api_doc.h"

enum job_input_mode {
    JOB_INPUT_CREATE,  /* POST /jobs: company and job_title required, unknown keys refused */
    JOB_INPUT_PROCESS, /* POST /jobs/process: also jobUrl; unknown keys ignored */
    JOB_INPUT_PATCH,   /* PATCH /jobs/{id}: any subset; the job shape's read-only keys ignored */
};

#define job_input_error api_doc_error

/* Builds the document the job statements read (keys are column names; times
 * in ms; url_key beside job_url) from a request body. Times without a zone
 * are read in tz (NULL: UTC). Returns 0 and a new reference in *doc,
 * HW_EVALIDATION with e filled, or -ENOMEM. */
int job_input_parse(json_t *body, enum job_input_mode mode, const char *tz, json_t **doc,
                    struct job_input_error *e);

/* Whether body has a time without a zone (which needs the user's zone). */
bool job_input_has_local_time(json_t *body);

#endif
