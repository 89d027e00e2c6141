/* hirewire: a job-search orchestrator on one libuv loop. */
#include <stdio.h>
#include <unistd.h>

#include "hirewire/app.h"
#include "hirewire/cli.h"

int main(int argc, char **argv)
{
    int rc = cli_main(argc, argv);

    if (rc == APP_EXIT_HARD) {
        /* A second stop signal: leave now, without the orderly teardown. */
        fflush(NULL);
        _exit(1);
    }
    return rc;
}
