/* tests/testlib.c — test runner bookkeeping. */
#define _DEFAULT_SOURCE
#include "testlib.h"

#include <stdlib.h>

int nco_test_failed_checks = 0;
int nco_test_current_failed = 0;
static int n_pass = 0, n_fail = 0;

void nco_test_run(const char *name, void (*fn)(void)) {
  nco_test_current_failed = 0;
  fn();
  if (nco_test_current_failed) {
    n_fail++;
    fprintf(stderr, "FAIL %s\n", name);
  } else {
    n_pass++;
    fprintf(stderr, "ok   %s\n", name);
  }
}

int nco_test_summary(void) {
  printf("%d passed, %d failed\n", n_pass, n_fail);
  return n_fail ? 1 : 0;
}

const char *nco_fixture(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", NCO_FIXTURES, name);
  return buf;
}

const char *nco_test_tmpdir(void) {
  static char dir[512];
  if (!dir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ncotest.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      exit(2);
    }
  }
  return dir;
}
