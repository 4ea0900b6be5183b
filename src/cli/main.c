/* ncopt — command-line entry point. A thin layer over the library: it
 * parses arguments, calls libncopt and turns a status into one clear line
 * on stderr and a non-zero exit code. */
#include <stdio.h>
#include <string.h>

#include "ncopt/ncopt.h"

static const char usage[] =
    "usage: ncopt [--version] [--help] <command> [args]\n"
    "\n"
    "ncopt — non-convex optimisation for machine learning: the invex lifting\n"
    "and l2 regularisation, a zoo of problems with understood landscapes,\n"
    "and the optimisers of stochastic non-convex training.\n"
    "\n"
    "options:\n"
    "  --version   print the version and exit\n"
    "  --help      print this help and exit\n"
    "\n"
    "commands: (the experiment commands arrive with the command-line issue)\n";

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
    printf("ncopt %s\n", NCO_VERSION_STRING);
    return 0;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    fputs(usage, stdout);
    return 0;
  }
  fprintf(stderr, "ncopt: unknown command '%s' (see ncopt --help)\n", argv[1]);
  return 2;
}
