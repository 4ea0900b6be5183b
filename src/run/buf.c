/* Growable byte buffers and the shortest text of a number (run_state.h). */
#include "run_state.h"

void rs_put(buf_t *b, const void *data, size_t len) {
  if (b->oom || !len) return;
  if (b->n + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + len) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q, b->cap = cap;
  }
  memcpy(b->p + b->n, data, len);
  b->n += len;
}
void rs_put_u64(buf_t *b, uint64_t v) { rs_put(b, &v, sizeof v); }
void rs_put_f64(buf_t *b, double v) { rs_put(b, &v, sizeof v); }

void rs_putf(buf_t *b, const char *fmt, ...) {
  char tmp[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) rs_put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The shortest text that reads back to the same double (0.1, not
 * 0.10000000000000001): %.15g is exact for every number of ≤ 15
 * significant digits (%g drops trailing zeros), else 16 or 17 digits. */
void rs_fmt_num(char t[40], double v) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(t, 40, "%.*g", prec, v);
    if (prec == 17 || strtod(t, NULL) == v) break;
  }
}

void rs_put_num(buf_t *b, double v) {
  char t[40];
  rs_fmt_num(t, v);
  rs_put(b, t, strlen(t));
}


double rs_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
