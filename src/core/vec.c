/* Vector kernels: reductions in double (cblas_dsdot), updates via OpenBLAS. */
#include "ncopt/vec.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* BLAS takes int lengths (LP64 OpenBLAS): longer vectors go in chunks. */
#define CHUNK ((size_t)1 << 30)

/* Not cblas_dsdot: OpenBLAS's Haswell kernel (0.3.21) sums blocks of 32
 * products in float before adding them in double (OpenBLAS #1326), which
 * breaks the double-accumulation rule. Four double accumulators in a fixed
 * order: the same bits on every machine, and enough ILP to stay near
 * memory speed. */
double nco_dot(size_t n, const float *x, const float *y) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += (double)x[i] * y[i];
    s1 += (double)x[i + 1] * y[i + 1];
    s2 += (double)x[i + 2] * y[i + 2];
    s3 += (double)x[i + 3] * y[i + 3];
  }
  for (; i < n; i++) s0 += (double)x[i] * y[i];
  return (s0 + s1) + (s2 + s3);
}

double nco_nrm2(size_t n, const float *x) { return sqrt(nco_dot(n, x, x)); }

double nco_dist2(size_t n, const float *x, const float *y) {
  double s = 0;
  for (size_t i = 0; i < n; i++) {
    double d = (double)x[i] - y[i];
    s += d * d;
  }
  return sqrt(s);
}

double nco_sum(size_t n, const float *x) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s;
}

double nco_amax(size_t n, const float *x) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double a = fabs((double)x[i]);
    if (a > m || a != a) m = a;
  }
  return m;
}

void nco_axpy(size_t n, float a, const float *x, float *y) {
  for (size_t off = 0; off < n; off += CHUNK) {
    size_t len = n - off < CHUNK ? n - off : CHUNK;
    cblas_saxpy((int)len, a, x + off, 1, y + off, 1);
  }
}

void nco_scal(size_t n, float a, float *x) {
  for (size_t off = 0; off < n; off += CHUNK) {
    size_t len = n - off < CHUNK ? n - off : CHUNK;
    cblas_sscal((int)len, a, x + off, 1);
  }
}

void nco_copy(size_t n, const float *x, float *y) {
  if (n && x != y) memmove(y, x, n * sizeof *y);
}

void nco_fill(size_t n, float value, float *x) {
  for (size_t i = 0; i < n; i++) x[i] = value;
}

size_t nco_first_nonfinite(size_t n, const float *x) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return i;
  return n;
}

int nco_all_finite(size_t n, const float *x) { return nco_first_nonfinite(n, x) == n; }

int nco_mul_size(size_t a, size_t b, size_t *out) {
  if (a && b > SIZE_MAX / a) return -1;
  *out = a * b;
  return 0;
}

int nco_add_size(size_t a, size_t b, size_t *out) {
  if (b > SIZE_MAX - a) return -1;
  *out = a + b;
  return 0;
}

void *nco_calloc(size_t count, size_t size) {
  size_t bytes;
  if (nco_mul_size(count, size, &bytes)) return NULL;
  return calloc(bytes ? bytes : 1, 1);
}
