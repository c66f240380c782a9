/* SPDX-License-Identifier: MIT */
/* cli: cpprof's command line, shaped like bpftool's: global options, then a command table. */
#ifndef CPPROF_CLI_H
#define CPPROF_CLI_H

/* Exit codes (design.md): 0 ok, 1 runtime error, 2 usage error. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

int cli_main(int argc, char **argv);

#endif
