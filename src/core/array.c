/* n-dimensional arrays: allocation, dtype conversion to float32, shape and
 * finiteness checks whose errors name the file the array came from. */
#include "ncopt/array.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"

/* Name used in messages for an array that has no origin. */
static const char *origin_of(const nco_array *a) {
  return a->origin[0] ? a->origin : "(unnamed array)";
}

static int dtype_valid(nco_dtype t) { return nco_dtype_size(t) != 0; }

size_t nco_dtype_size(nco_dtype t) {
  switch (t) {
    case NCO_DTYPE_F32: return 4;
    case NCO_DTYPE_F64: return 8;
    case NCO_DTYPE_I32: return 4;
    case NCO_DTYPE_I64: return 8;
    case NCO_DTYPE_U8: return 1;
  }
  return 0;
}

const char *nco_dtype_name(nco_dtype t) {
  switch (t) {
    case NCO_DTYPE_F32: return "float32";
    case NCO_DTYPE_F64: return "float64";
    case NCO_DTYPE_I32: return "int32";
    case NCO_DTYPE_I64: return "int64";
    case NCO_DTYPE_U8: return "uint8";
  }
  return "invalid dtype";
}

/* Appends "(d0, d1)" (Python tuple style: "()" for 0-d, "(5,)" for 1-d) to
 * buf, where a dimension equal to (size_t)-1 prints as "*" if `wild`. */
static const char *format_dims(char *buf, size_t len, size_t ndim, const size_t *dims, int wild) {
  if (!buf || len == 0) return "";
  size_t pos = 0;
  buf[0] = '\0';
#define NCO_APPEND(...)                                                   \
  do {                                                                    \
    if (pos < len) {                                                      \
      int n_ = snprintf(buf + pos, len - pos, __VA_ARGS__);               \
      if (n_ < 0) return buf;                                             \
      pos = (size_t)n_ >= len - pos ? len : pos + (size_t)n_;             \
    }                                                                     \
  } while (0)
  NCO_APPEND("(");
  for (size_t i = 0; i < ndim; i++) {
    if (i) NCO_APPEND(", ");
    if (wild && dims[i] == (size_t)-1)
      NCO_APPEND("*");
    else
      NCO_APPEND("%zu", dims[i]);
  }
  NCO_APPEND(ndim == 1 ? ",)" : ")");
#undef NCO_APPEND
  return buf;
}

const char *nco_array_shape_str(const nco_array *a, char *buf, size_t len) {
  if (!buf || len == 0) return "";
  if (!a || a->ndim > NCO_ARRAY_MAX_DIMS) {
    snprintf(buf, len, "(invalid)");
    return buf;
  }
  return format_dims(buf, len, a->ndim, a->shape, 0);
}

/* Formats the C-order multi-index of flat element `flat` as "(i, j)". */
static const char *index_str(const nco_array *a, size_t flat, char *buf, size_t len) {
  size_t idx[NCO_ARRAY_MAX_DIMS] = {0};
  for (size_t k = a->ndim; k-- > 0;) {
    size_t d = a->shape[k];
    if (d) {
      idx[k] = flat % d;
      flat /= d;
    }
  }
  return format_dims(buf, len, a->ndim, idx, 0);
}

int nco_array_alloc(nco_array *a, nco_dtype t, size_t ndim, const size_t *shape,
                    const char *origin) {
  if (!a) return nco_error(NCO_ERR_INVALID, "nco_array_alloc: NULL array");
  /* Copy origin and shape first: they may point into *a. */
  char org_buf[sizeof a->origin];
  size_t dims[NCO_ARRAY_MAX_DIMS];
  snprintf(org_buf, sizeof org_buf, "%s", origin ? origin : "");
  const char *org = org_buf[0] ? org_buf : "(unnamed array)";
  if (ndim > NCO_ARRAY_MAX_DIMS) {
    memset(a, 0, sizeof *a);
    return nco_error(NCO_ERR_UNSUPPORTED, "%s: %zu dimensions, at most %d are supported", org,
                     ndim, NCO_ARRAY_MAX_DIMS);
  }
  if (ndim && !shape) {
    memset(a, 0, sizeof *a);
    return nco_error(NCO_ERR_INVALID, "%s: NULL shape for %zu dimensions", org, ndim);
  }
  for (size_t i = 0; i < ndim; i++) dims[i] = shape[i];
  shape = dims;
  memset(a, 0, sizeof *a);
  if (!dtype_valid(t)) return nco_error(NCO_ERR_INVALID, "%s: invalid dtype %d", org, (int)t);
  size_t size = 1, bytes;
  for (size_t i = 0; i < ndim; i++) {
    if (nco_mul_size(size, shape[i], &size)) {
      char sb[256];
      return nco_error(NCO_ERR_OVERFLOW, "%s: shape %s has more elements than fit in size_t", org,
                       format_dims(sb, sizeof sb, ndim, shape, 0));
    }
  }
  if (nco_mul_size(size, nco_dtype_size(t), &bytes)) {
    char sb[256];
    return nco_error(NCO_ERR_OVERFLOW, "%s: shape %s of %s needs more bytes than fit in size_t",
                     org, format_dims(sb, sizeof sb, ndim, shape, 0), nco_dtype_name(t));
  }
  void *data = calloc(bytes ? bytes : 1, 1);
  if (!data) {
    char sb[256];
    return nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu bytes for %s array of shape %s", org,
                     bytes, nco_dtype_name(t), format_dims(sb, sizeof sb, ndim, shape, 0));
  }
  a->dtype = t;
  a->ndim = ndim;
  for (size_t i = 0; i < ndim; i++) a->shape[i] = shape[i];
  a->size = size;
  a->data = data;
  memcpy(a->origin, org_buf, sizeof a->origin);
  return NCO_OK;
}

void nco_array_free(nco_array *a) {
  if (!a) return;
  free(a->data);
  memset(a, 0, sizeof *a);
}

/* Checks the struct is self-consistent: valid dtype and ndim, size = Π shape,
 * data present. */
static int array_valid(const nco_array *a, const char *fn) {
  if (!a) return nco_error(NCO_ERR_INVALID, "%s: NULL array", fn);
  if (!dtype_valid(a->dtype))
    return nco_error(NCO_ERR_INVALID, "%s: %s: invalid dtype %d", origin_of(a), fn, (int)a->dtype);
  if (a->ndim > NCO_ARRAY_MAX_DIMS)
    return nco_error(NCO_ERR_INVALID, "%s: %s: invalid ndim %zu", origin_of(a), fn, a->ndim);
  size_t size = 1, bytes;
  for (size_t i = 0; i < a->ndim; i++)
    if (nco_mul_size(size, a->shape[i], &size))
      return nco_error(NCO_ERR_OVERFLOW, "%s: %s: element count overflows size_t", origin_of(a), fn);
  if (size != a->size)
    return nco_error(NCO_ERR_INVALID, "%s: %s: size %zu does not match the shape (%zu elements)",
                     origin_of(a), fn, a->size, size);
  if (nco_mul_size(size, nco_dtype_size(a->dtype), &bytes))
    return nco_error(NCO_ERR_OVERFLOW, "%s: %s: byte count overflows size_t", origin_of(a), fn);
  if (!a->data)
    return nco_error(NCO_ERR_INVALID, "%s: %s: array has no data buffer", origin_of(a), fn);
  return NCO_OK;
}

/* Shortest "%.Ng" (N = 15..17) that reads back as v, like Python's repr. */
static const char *fmt_double(double v, char *buf, size_t len) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) break;
  }
  return buf;
}

/* The smallest double magnitude that rounds to ±inf in float (round to
 * nearest even): FLT_MAX plus half an ulp of FLT_MAX (ulp = 2^104). Values
 * strictly below it round to a finite float. */
#define NCO_F32_OVERFLOW_LIMIT ((double)FLT_MAX + 0x1p103)

/* Rewrites the n float64, int64 or int32 (t) values at p as float32 at p,
 * each rounded once to nearest. In place, front to back: float i (bytes
 * 4i..4i+3) never overlaps a value not yet read (value i starts at byte
 * 8i or 4i and is read before float i is written). */
static void narrow_to_f32(unsigned char *p, size_t n, nco_dtype t) {
  for (size_t i = 0; i < n; i++) {
    float f;
    if (t == NCO_DTYPE_F64) {
      double v;
      memcpy(&v, p + 8 * i, sizeof v);
      f = (float)v;
    } else if (t == NCO_DTYPE_I64) {
      int64_t v;
      memcpy(&v, p + 8 * i, sizeof v);
      f = (float)v;
    } else {
      int32_t v;
      memcpy(&v, p + 4 * i, sizeof v);
      f = (float)v;
    }
    memcpy(p + 4 * i, &f, sizeof f);
  }
}

int nco_array_to_f32(nco_array *a) {
  int st = array_valid(a, "nco_array_to_f32");
  if (st) return st;
  size_t n = a->size;
  char ib[256];
  switch (a->dtype) {
    case NCO_DTYPE_F32:
      return NCO_OK;
    case NCO_DTYPE_F64: {
      /* First pass: validate everything so that a failure leaves `a` as it was. */
      const double *src = a->data;
      for (size_t i = 0; i < n; i++) {
        double v = src[i];
        if (!isfinite(v))
          return nco_error(NCO_ERR_NONFINITE, "%s: non-finite float64 value %g at index %s", origin_of(a),
                           v, index_str(a, i, ib, sizeof ib));
        if (!(fabs(v) < NCO_F32_OVERFLOW_LIMIT)) {
          char vb[40];
          return nco_error(NCO_ERR_RANGE, "%s: float64 value %s at index %s overflows float32 (largest %.9g)",
                           origin_of(a), fmt_double(v, vb, sizeof vb), index_str(a, i, ib, sizeof ib),
                           (double)FLT_MAX);
        }
      }
      narrow_to_f32(a->data, n, a->dtype);
      break;
    }
    case NCO_DTYPE_I64: /* |int64| ≤ 2^63 < FLT_MAX: always finite, rounded to nearest */
    case NCO_DTYPE_I32:
      narrow_to_f32(a->data, n, a->dtype);
      break;
    case NCO_DTYPE_U8: {
      /* Grows: new buffer, then convert (exact: every uint8 is a float). */
      float *dst = nco_calloc(n ? n : 1, sizeof *dst);
      if (!dst)
        return nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu floats to convert uint8 data",
                         origin_of(a), n);
      const uint8_t *src = a->data;
      for (size_t i = 0; i < n; i++) dst[i] = (float)src[i];
      free(a->data);
      a->data = dst;
      a->dtype = NCO_DTYPE_F32;
      return NCO_OK;
    }
  }
  /* Shrink the buffer of the 8-byte types (keeping the old block if realloc fails). */
  if (a->dtype == NCO_DTYPE_F64 || a->dtype == NCO_DTYPE_I64) {
    void *q = realloc(a->data, n ? n * sizeof(float) : 1);
    if (q) a->data = q;
  }
  a->dtype = NCO_DTYPE_F32;
  return NCO_OK;
}

int nco_array_expect(const nco_array *a, const char *name, size_t ndim, const size_t *want) {
  const char *nm = name && *name ? name : "array";
  if (!a) return nco_error(NCO_ERR_INVALID, "nco_array_expect: %s: NULL array", nm);
  if (ndim > NCO_ARRAY_MAX_DIMS)
    return nco_error(NCO_ERR_INVALID, "%s: %s: cannot expect %zu dimensions (at most %d)", origin_of(a),
                     nm, ndim, NCO_ARRAY_MAX_DIMS);
  int ok = a->ndim == ndim;
  for (size_t i = 0; ok && i < ndim; i++)
    if (want && want[i] != (size_t)-1 && want[i] != a->shape[i]) ok = 0;
  if (ok) return NCO_OK;
  char have[256], exp[256];
  size_t any[NCO_ARRAY_MAX_DIMS];
  for (size_t i = 0; i < ndim; i++) any[i] = want ? want[i] : (size_t)-1;
  nco_array_shape_str(a, have, sizeof have);
  format_dims(exp, sizeof exp, ndim, any, 1);
  return nco_error(NCO_ERR_SHAPE, "%s: %s has shape %s, expected %s", origin_of(a), nm, have, exp);
}

int nco_array_check_finite(const nco_array *a, const char *name) {
  const char *nm = name && *name ? name : "array";
  int st = array_valid(a, "nco_array_check_finite");
  if (st) return st;
  char ib[256];
  if (a->dtype == NCO_DTYPE_F32) {
    const float *x = a->data;
    size_t i = nco_first_nonfinite(a->size, x);
    if (i < a->size)
      return nco_error(NCO_ERR_NONFINITE, "%s: %s has a non-finite value (%g) at index %s", origin_of(a),
                       nm, (double)x[i], index_str(a, i, ib, sizeof ib));
  } else if (a->dtype == NCO_DTYPE_F64) {
    const double *x = a->data;
    for (size_t i = 0; i < a->size; i++)
      if (!isfinite(x[i]))
        return nco_error(NCO_ERR_NONFINITE, "%s: %s has a non-finite value (%g) at index %s",
                         origin_of(a), nm, x[i], index_str(a, i, ib, sizeof ib));
  }
  /* Integer dtypes are always finite. */
  return NCO_OK;
}
