/* The hirewire command line. */
#ifndef HIREWIRE_CLI_H
#define HIREWIRE_CLI_H

/* Runs the command in argv (argv[0] is the program name). Returns the exit
 * status, or APP_EXIT_HARD when a second stop signal asks for an immediate
 * exit. */
int cli_main(int argc, char **argv);

#endif
