/* Helpers shared by the problem zoo: element access, float32 copies and the
 * shape/value checks of the constructors (see common.h). */
#include "problems/common.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"

double nco_zoo_elem(const nco_array *a, size_t k) {
  const unsigned char *p = a->data;
  switch (a->dtype) {
    case NCO_DTYPE_F32: { float v; memcpy(&v, p + 4 * k, 4); return v; }
    case NCO_DTYPE_F64: { double v; memcpy(&v, p + 8 * k, 8); return v; }
    case NCO_DTYPE_I32: { int32_t v; memcpy(&v, p + 4 * k, 4); return (double)v; }
    case NCO_DTYPE_I64: { int64_t v; memcpy(&v, p + 8 * k, 8); return (double)v; }
    case NCO_DTYPE_U8: return p[k];
  }
  return NAN;
}

int nco_zoo_copy_f32(const nco_array *src, const char *role, float **out) {
  nco_array tmp = {0};
  size_t esz = nco_dtype_size(src->dtype), bytes = 0;
  int st;
  *out = NULL;
  if (!src->data || esz == 0 || nco_mul_size(src->size, esz, &bytes))
    return nco_error(NCO_ERR_INVALID, "%s: %s is not a valid array (no data or invalid dtype)",
                     nco_zoo_origin(src), role);
  if ((st = nco_array_alloc(&tmp, src->dtype, src->ndim, src->shape, src->origin))) return st;
  if (tmp.size != src->size) {
    nco_array_free(&tmp);
    return nco_error(NCO_ERR_INVALID, "%s: %s: element count %zu does not match its shape",
                     nco_zoo_origin(src), role, src->size);
  }
  memcpy(tmp.data, src->data, bytes);
  if ((st = nco_array_check_finite(&tmp, role)) || (st = nco_array_to_f32(&tmp))) {
    nco_array_free(&tmp);
    return st;
  }
  *out = tmp.data; /* taken over; freed with free() */
  return NCO_OK;
}

int nco_zoo_check_features_targets(const nco_array *A, const nco_array *b) {
  int st;
  char sb[64];
  if ((st = nco_array_expect(A, "features", 2, NULL))) return st;
  if (A->shape[0] == 0 || A->shape[1] == 0)
    return nco_error(NCO_ERR_SHAPE,
                     "%s: features has shape %s: needs at least one sample and one feature",
                     nco_zoo_origin(A), nco_array_shape_str(A, sb, sizeof sb));
  if (!(b->ndim == 1 || (b->ndim == 2 && b->shape[1] == 1)))
    return nco_error(NCO_ERR_SHAPE, "%s: targets has shape %s, expected (%zu,) or (%zu, 1)",
                     nco_zoo_origin(b), nco_array_shape_str(b, sb, sizeof sb), A->shape[0],
                     A->shape[0]);
  if (b->shape[0] != A->shape[0])
    return nco_error(NCO_ERR_SHAPE, "%s: features has %zu rows but targets (%s) has %zu entries",
                     nco_zoo_origin(A), A->shape[0], nco_zoo_origin(b), b->shape[0]);
  return NCO_OK;
}

int nco_zoo_check_sym_matrix(const nco_array *M, const char *who, size_t *n_out) {
  int st;
  if ((st = nco_array_expect(M, "matrix", 2, NULL))) return st;
  size_t n = M->shape[0], want[2] = {n, n};
  if ((st = nco_array_expect(M, "matrix (must be square)", 2, want))) return st;
  if (n == 0)
    return nco_error(NCO_ERR_SHAPE, "%s: %s: matrix is empty (0, 0)", nco_zoo_origin(M), who);
  if ((st = nco_array_check_finite(M, "matrix"))) return st;
  double amax = 0;
  for (size_t k = 0; k < M->size; k++) {
    double v = fabs(nco_zoo_elem(M, k));
    if (!(v <= FLT_MAX))
      return nco_error(NCO_ERR_RANGE,
                       "%s: matrix: value %.9g at index (%zu, %zu) overflows float32",
                       nco_zoo_origin(M), nco_zoo_elem(M, k), k / n, k % n);
    if (v > amax) amax = v;
  }
  double tol = 1e-6 * amax;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      double a = nco_zoo_elem(M, i * n + j), b = nco_zoo_elem(M, j * n + i);
      if (!(fabs(a - b) <= tol))
        return nco_error(
            NCO_ERR_INVALID,
            "%s: matrix is not symmetric: entry (%zu, %zu) = %.9g but (%zu, %zu) = %.9g "
            "(tolerance 1e-6 relative to max |M_ij| = %.6g)",
            nco_zoo_origin(M), i, j, a, j, i, b, amax);
    }
  *n_out = n;
  return NCO_OK;
}

void nco_zoo_act_desc(const nco_act *a, char *buf, size_t len) {
  int k = snprintf(buf, len, "%s", nco_act_name(a->kind));
  if (k < 0 || (size_t)k >= len) return;
  if (a->kind == NCO_ACT_LEAKY_RELU || a->kind == NCO_ACT_ELU) {
    int j = snprintf(buf + k, len - (size_t)k, " slope=%g", a->slope);
    if (j < 0 || (size_t)j >= len - (size_t)k) return;
    k += j;
  }
  if (a->mix > 0) snprintf(buf + k, len - (size_t)k, " mix=%g", a->mix);
}
