/* tests/testlib.h — minimal assertions for ncopt's ctest executables.
 *
 * Each test_*.c is one executable: it calls its test functions through
 * RUN(fn) and returns nco_test_summary(), which prints "N passed, N failed"
 * and exits non-zero if any check failed. CHECK continues after a failure
 * (to show every broken case), REQUIRE returns from the current test.
 */
#ifndef NCO_TESTLIB_H
#define NCO_TESTLIB_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ncopt/ncopt.h"

extern int nco_test_failed_checks;
extern int nco_test_current_failed;

#define CHECK(cond)                                                                   \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);        \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

#define CHECKF(cond, ...)                                                             \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);        \
      fprintf(stderr, __VA_ARGS__);                                                   \
      fputc('\n', stderr);                                                            \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

#define REQUIRE(cond)                                                                 \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);      \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
      return;                                                                         \
    }                                                                                 \
  } while (0)

/* A status call that must succeed; prints nco_last_error() otherwise. */
#define CHECK_OK(expr)                                                                \
  do {                                                                                \
    int st_ = (expr);                                                                 \
    if (st_ != NCO_OK) {                                                              \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr,       \
              nco_status_name(st_), nco_last_error());                                \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

#define REQUIRE_OK(expr)                                                              \
  do {                                                                                \
    int st_ = (expr);                                                                 \
    if (st_ != NCO_OK) {                                                              \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr,       \
              nco_status_name(st_), nco_last_error());                                \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
      return;                                                                         \
    }                                                                                 \
  } while (0)

/* |a − b| ≤ atol + rtol·|b| */
#define CHECK_CLOSE(a, b, atol, rtol)                                                 \
  do {                                                                                \
    double a_ = (double)(a), b_ = (double)(b);                                        \
    if (!(fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_))) {                             \
      fprintf(stderr, "%s:%d: CHECK_CLOSE failed: %s = %.17g, %s = %.17g (diff %.3g)\n", \
              __FILE__, __LINE__, #a, a_, #b, b_, fabs(a_ - b_));                     \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

/* The call must fail with `status` and its message must contain `needle`. */
#define CHECK_ERR(expr, status, needle)                                               \
  do {                                                                                \
    nco_clear_error();                                                                \
    int st_ = (expr);                                                                 \
    const char *msg_ = nco_last_error();                                              \
    if (st_ != (status) || !strstr(msg_, (needle))) {                                 \
      fprintf(stderr, "%s:%d: %s: expected %s with \"%s\", got %s: \"%s\"\n", __FILE__, \
              __LINE__, #expr, nco_status_name(status), (needle), nco_status_name(st_), msg_); \
      nco_test_failed_checks++;                                                       \
      nco_test_current_failed = 1;                                                    \
    }                                                                                 \
  } while (0)

void nco_test_run(const char *name, void (*fn)(void));
int nco_test_summary(void);
#define RUN(fn) nco_test_run(#fn, fn)

/* Path of a committed fixture: NCO_FIXTURES "/" name (static buffer). */
const char *nco_fixture(const char *name);
/* A fresh temporary directory for this test process (created once). */
const char *nco_test_tmpdir(void);

#endif
