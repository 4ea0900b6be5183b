/* Preprocessing of data sets held as nco_arrays with samples along axis 0:
 * scaling, flattening, row selection (shuffle, subset, split),
 * standardisation, one-hot targets, and area resizing of images.
 *
 * Every operation that changes the number of rows builds the new arrays
 * completely before replacing the old ones, so that a failure leaves the
 * caller's arrays as they were.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/data.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"

static const char *org(const nco_array *a) { return a->origin[0] ? a->origin : "(unnamed array)"; }

/* Checks that `a` is a usable array with ≥ 1 dimension; *row_elems =
 * Π shape[1:]. */
static int rows_check(const nco_array *a, const char *fn, const char *role, size_t *row_elems) {
  if (!a) return nco_error(NCO_ERR_INVALID, "%s: NULL %s array", fn, role);
  if (nco_dtype_size(a->dtype) == 0)
    return nco_error(NCO_ERR_INVALID, "%s: %s: %s has an invalid dtype %d", org(a), fn, role,
                     (int)a->dtype);
  if (a->ndim < 1 || a->ndim > NCO_ARRAY_MAX_DIMS)
    return nco_error(NCO_ERR_SHAPE, "%s: %s: %s has %zu dimensions, expected 1..%d (samples first)",
                     org(a), fn, role, a->ndim, NCO_ARRAY_MAX_DIMS);
  size_t e = 1, size;
  for (size_t k = 1; k < a->ndim; k++)
    if (nco_mul_size(e, a->shape[k], &e))
      return nco_error(NCO_ERR_OVERFLOW, "%s: %s: %s: shape overflows size_t", org(a), fn, role);
  if (nco_mul_size(e, a->shape[0], &size) || size != a->size)
    return nco_error(NCO_ERR_INVALID, "%s: %s: %s: size %zu does not match its shape", org(a), fn,
                     role, a->size);
  if (!a->data && a->size)
    return nco_error(NCO_ERR_INVALID, "%s: %s: %s has no data", org(a), fn, role);
  *row_elems = e;
  return NCO_OK;
}

/* x and (optional) y with the same number of samples. */
static int pair_check(const nco_array *x, const nco_array *y, const char *fn) {
  size_t e;
  int st = rows_check(x, fn, "x", &e);
  if (st) return st;
  if (!y) return NCO_OK;
  if ((st = rows_check(y, fn, "y", &e))) return st;
  if (y->shape[0] != x->shape[0])
    return nco_error(NCO_ERR_SHAPE, "%s: %s: x has %zu samples but y (%s) has %zu", org(x), fn,
                     x->shape[0], org(y), y->shape[0]);
  return NCO_OK;
}

/* Replaces *a by *b (freeing a's buffer) and zeroes *b. */
static void replace(nco_array *a, nco_array *b) {
  nco_array_free(a);
  *a = *b;
  memset(b, 0, sizeof *b);
}

int nco_data_scale_u8(nco_array *x) {
  size_t e;
  int st = rows_check(x, "nco_data_scale_u8", "x", &e);
  if (st) return st;
  if (x->dtype != NCO_DTYPE_U8)
    return nco_error(NCO_ERR_INVALID, "%s: nco_data_scale_u8: x is %s, expected uint8", org(x),
                     nco_dtype_name(x->dtype));
  nco_array f;
  if ((st = nco_array_alloc(&f, NCO_DTYPE_F32, x->ndim, x->shape, x->origin))) return st;
  const unsigned char *u = x->data;
  float *v = f.data;
  /* torchvision ToTensor: img.float().div(255), a float32 division. */
  for (size_t i = 0; i < x->size; i++) v[i] = (float)u[i] / 255.0f;
  replace(x, &f);
  return NCO_OK;
}

int nco_data_flatten(nco_array *x) {
  size_t e;
  int st = rows_check(x, "nco_data_flatten", "x", &e);
  if (st) return st;
  x->shape[1] = e;
  for (size_t k = 2; k < x->ndim; k++) x->shape[k] = 0;
  x->ndim = 2;
  return NCO_OK;
}

int nco_data_take(const nco_array *a, const size_t *idx, size_t m, nco_array *out) {
  size_t e;
  if (!out) return nco_error(NCO_ERR_INVALID, "nco_data_take: NULL output array");
  if (out == a) return nco_error(NCO_ERR_INVALID, "nco_data_take: output is the input array");
  memset(out, 0, sizeof *out);
  int st = rows_check(a, "nco_data_take", "input", &e);
  if (st) return st;
  if (m && !idx) return nco_error(NCO_ERR_INVALID, "%s: nco_data_take: NULL indices", org(a));
  size_t n = a->shape[0];
  for (size_t i = 0; i < m; i++)
    if (idx[i] >= n)
      return nco_error(NCO_ERR_RANGE, "%s: nco_data_take: index %zu (position %zu) is out of range "
                       "for %zu samples", org(a), idx[i], i, n);
  size_t shape[NCO_ARRAY_MAX_DIMS];
  memcpy(shape, a->shape, sizeof shape);
  shape[0] = m;
  if ((st = nco_array_alloc(out, a->dtype, a->ndim, shape, a->origin))) return st;
  size_t row = e * nco_dtype_size(a->dtype); /* ≤ a's byte count: no overflow */
  const unsigned char *src = a->data;
  unsigned char *dst = out->data;
  if (row)
    for (size_t i = 0; i < m; i++) memcpy(dst + i * row, src + idx[i] * row, row);
  return NCO_OK;
}

/* x ← x[idx[0..m)], y ← y[idx[0..m)] (all or nothing). */
static int take_pair(nco_array *x, nco_array *y, const size_t *idx, size_t m) {
  nco_array nx, ny;
  memset(&ny, 0, sizeof ny);
  int st = nco_data_take(x, idx, m, &nx);
  if (st) return st;
  if (y && (st = nco_data_take(y, idx, m, &ny))) {
    nco_array_free(&nx);
    return st;
  }
  replace(x, &nx);
  if (y) replace(y, &ny);
  return NCO_OK;
}

/* perm[n] ← nco_rng_permutation(rng, n), allocated. */
static int permutation(nco_rng *rng, size_t n, size_t **perm, const nco_array *x) {
  *perm = nco_calloc(n ? n : 1, sizeof **perm);
  if (!*perm)
    return nco_error(NCO_ERR_NOMEM, "%s: cannot allocate a permutation of %zu samples", org(x), n);
  nco_rng_permutation(rng, *perm, n);
  return NCO_OK;
}

/* *idx ← a permutation of the n samples (rng given) or, without rng, the
 * first m indices 0..m−1 in order; allocated. */
static int row_order(nco_rng *rng, size_t n, size_t m, size_t **idx, const nco_array *x) {
  if (rng) return permutation(rng, n, idx, x);
  *idx = nco_calloc(m ? m : 1, sizeof **idx);
  if (!*idx) return nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu indices", org(x), m);
  for (size_t i = 0; i < m; i++) (*idx)[i] = i;
  return NCO_OK;
}

int nco_data_shuffle(nco_array *x, nco_array *y, nco_rng *rng) {
  int st = pair_check(x, y, "nco_data_shuffle");
  if (st) return st;
  if (!rng) return nco_error(NCO_ERR_INVALID, "%s: nco_data_shuffle: NULL rng", org(x));
  size_t *perm = NULL;
  if ((st = permutation(rng, x->shape[0], &perm, x))) return st;
  st = take_pair(x, y, perm, x->shape[0]);
  free(perm);
  return st;
}

int nco_data_subset(nco_array *x, nco_array *y, size_t n, nco_rng *rng) {
  int st = pair_check(x, y, "nco_data_subset");
  if (st) return st;
  size_t N = x->shape[0];
  if (n > N)
    return nco_error(NCO_ERR_RANGE, "%s: subset of %zu samples requested, the data has %zu",
                     org(x), n, N);
  size_t *idx = NULL;
  if ((st = row_order(rng, N, n, &idx, x))) return st;
  st = take_pair(x, y, idx, n);
  free(idx);
  return st;
}

int nco_data_split(nco_array *x, nco_array *y, size_t n_test, nco_rng *rng, nco_array *x_test,
                   nco_array *y_test) {
  if (!x_test) return nco_error(NCO_ERR_INVALID, "nco_data_split: NULL x_test");
  if (x_test == x || (y_test && (y_test == x || y_test == y || y_test == x_test)))
    return nco_error(NCO_ERR_INVALID, "nco_data_split: outputs alias the inputs");
  memset(x_test, 0, sizeof *x_test);
  if (y_test) memset(y_test, 0, sizeof *y_test);
  if (!y != !y_test)
    return nco_error(NCO_ERR_INVALID, "nco_data_split: y and y_test must both be given or both NULL");
  int st = pair_check(x, y, "nco_data_split");
  if (st) return st;
  size_t N = x->shape[0];
  if (n_test > N)
    return nco_error(NCO_ERR_RANGE, "%s: a test split of %zu samples requested, the data has %zu",
                     org(x), n_test, N);
  size_t *idx = NULL, n_train = N - n_test;
  if ((st = row_order(rng, N, N, &idx, x))) return st;
  nco_array tx, ty;
  memset(&tx, 0, sizeof tx);
  memset(&ty, 0, sizeof ty);
  if ((st = nco_data_take(x, idx + n_train, n_test, x_test))) goto fail;
  if (y && (st = nco_data_take(y, idx + n_train, n_test, y_test))) goto fail;
  if ((st = nco_data_take(x, idx, n_train, &tx))) goto fail;
  if (y && (st = nco_data_take(y, idx, n_train, &ty))) goto fail;
  replace(x, &tx);
  if (y) replace(y, &ty);
  free(idx);
  return NCO_OK;
fail:
  nco_array_free(&tx);
  nco_array_free(&ty);
  nco_array_free(x_test);
  if (y_test) nco_array_free(y_test);
  free(idx);
  return st;
}

/* ---------------------------------------------------------- standardising */

static int f32_rows(const nco_array *a, const char *fn, size_t *d) {
  int st = rows_check(a, fn, "x", d);
  if (st) return st;
  if (a->dtype != NCO_DTYPE_F32)
    return nco_error(NCO_ERR_INVALID, "%s: %s: x is %s, expected float32", org(a), fn,
                     nco_dtype_name(a->dtype));
  return NCO_OK;
}

int nco_standardizer_fit(nco_standardizer *s, const nco_array *train) {
  if (!s) return nco_error(NCO_ERR_INVALID, "nco_standardizer_fit: NULL standardizer");
  memset(s, 0, sizeof *s);
  size_t d;
  int st = f32_rows(train, "nco_standardizer_fit", &d);
  if (st) return st;
  size_t n = train->shape[0];
  if (n == 0)
    return nco_error(NCO_ERR_SHAPE, "%s: nco_standardizer_fit: no samples", org(train));
  const float *x = train->data;
  const size_t bad = nco_first_nonfinite(train->size, x);
  if (bad < train->size)
    return nco_error(NCO_ERR_NONFINITE, "%s: nco_standardizer_fit: non-finite value at sample "
                     "%zu, feature %zu", org(train), bad / (d ? d : 1), bad % (d ? d : 1));
  s->mean = nco_calloc(d ? d : 1, sizeof *s->mean);
  s->scale = nco_calloc(d ? d : 1, sizeof *s->scale);
  float *lo = nco_calloc(d ? d : 1, sizeof *lo), *hi = nco_calloc(d ? d : 1, sizeof *hi);
  if (!s->mean || !s->scale || !lo || !hi) {
    free(lo);
    free(hi);
    nco_standardizer_free(s);
    return nco_error(NCO_ERR_NOMEM, "%s: nco_standardizer_fit: cannot allocate %zu features",
                     org(train), d);
  }
  s->d = d;
  /* Two passes in double: mean_j = Σ_i x_ij / n, var_j = Σ_i (x_ij − mean_j)² / n
   * (the population variance of scikit-learn's StandardScaler). */
  for (size_t j = 0; j < d; j++) lo[j] = hi[j] = x[j];
  for (size_t i = 0; i < n; i++) {
    const float *r = x + i * d;
    for (size_t j = 0; j < d; j++) {
      s->mean[j] += r[j];
      if (r[j] < lo[j]) lo[j] = r[j];
      if (r[j] > hi[j]) hi[j] = r[j];
    }
  }
  for (size_t j = 0; j < d; j++) s->mean[j] /= (double)n;
  for (size_t i = 0; i < n; i++) {
    const float *r = x + i * d;
    for (size_t j = 0; j < d; j++) {
      double c = r[j] - s->mean[j];
      s->scale[j] += c * c;
    }
  }
  for (size_t j = 0; j < d; j++) {
    if (lo[j] == hi[j]) {
      /* Constant feature: mean exactly that value, scale 1, so it maps to 0. */
      s->mean[j] = lo[j];
      s->scale[j] = 1.0;
    } else {
      s->scale[j] = sqrt(s->scale[j] / (double)n);
      if (!(s->scale[j] > 0)) s->scale[j] = 1.0;
    }
  }
  free(lo);
  free(hi);
  return NCO_OK;
}

int nco_standardizer_apply(const nco_standardizer *s, nco_array *x) {
  if (!s || !s->mean || !s->scale)
    return nco_error(NCO_ERR_STATE, "nco_standardizer_apply: standardizer not fitted");
  size_t d;
  int st = f32_rows(x, "nco_standardizer_apply", &d);
  if (st) return st;
  if (d != s->d)
    return nco_error(NCO_ERR_SHAPE, "%s: nco_standardizer_apply: %zu features per sample, the "
                     "standardizer was fitted on %zu", org(x), d, s->d);
  float *v = x->data;
  for (size_t i = 0; i < x->shape[0]; i++)
    for (size_t j = 0; j < d; j++) {
      float *p = v + i * d + j;
      *p = (float)((*p - s->mean[j]) / s->scale[j]);
    }
  return NCO_OK;
}

void nco_standardizer_free(nco_standardizer *s) {
  if (!s) return;
  free(s->mean);
  free(s->scale);
  memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ one-hot */

int nco_data_one_hot(const nco_array *labels, size_t num_classes, nco_array *out) {
  if (!out) return nco_error(NCO_ERR_INVALID, "nco_data_one_hot: NULL output array");
  if (out == labels) return nco_error(NCO_ERR_INVALID, "nco_data_one_hot: output is the input");
  memset(out, 0, sizeof *out);
  size_t e;
  int st = rows_check(labels, "nco_data_one_hot", "labels", &e);
  if (st) return st;
  if (labels->ndim != 1)
    return nco_error(NCO_ERR_SHAPE, "%s: nco_data_one_hot: labels have %zu dimensions, expected 1",
                     org(labels), labels->ndim);
  if (num_classes == 0)
    return nco_error(NCO_ERR_INVALID, "%s: nco_data_one_hot: 0 classes", org(labels));
  size_t n = labels->shape[0], shape[2] = {n, num_classes};
  /* Validate every label before allocating. */
  for (size_t pass = 0; pass < 2; pass++) {
    float *t = pass ? out->data : NULL;
    for (size_t i = 0; i < n; i++) {
      double v;
      switch (labels->dtype) {
        case NCO_DTYPE_U8: v = ((const unsigned char *)labels->data)[i]; break;
        case NCO_DTYPE_I32: v = ((const int32_t *)labels->data)[i]; break;
        case NCO_DTYPE_I64: v = (double)((const int64_t *)labels->data)[i]; break;
        case NCO_DTYPE_F32: v = ((const float *)labels->data)[i]; break;
        default: v = ((const double *)labels->data)[i]; break;
      }
      if (!pass && !(v >= 0 && v < (double)num_classes && v == floor(v)))
        return nco_error(NCO_ERR_RANGE,
                         "%s: label %.17g at index %zu is not a class index 0..%zu", org(labels),
                         v, i, num_classes - 1);
      if (pass) t[i * num_classes + (size_t)v] = 1.0f;
    }
    if (!pass && (st = nco_array_alloc(out, NCO_DTYPE_F32, 2, shape, labels->origin))) return st;
  }
  return NCO_OK;
}

/* ------------------------------------------------------------ area resizing */

int nco_data_resize_area(const nco_array *in, size_t out_h, size_t out_w, nco_array *out) {
  if (!out) return nco_error(NCO_ERR_INVALID, "nco_data_resize_area: NULL output array");
  if (out == in) return nco_error(NCO_ERR_INVALID, "nco_data_resize_area: output is the input");
  memset(out, 0, sizeof *out);
  size_t e;
  int st = rows_check(in, "nco_data_resize_area", "images", &e);
  if (st) return st;
  if (in->dtype != NCO_DTYPE_F32 || in->ndim < 2)
    return nco_error(NCO_ERR_INVALID, "%s: nco_data_resize_area: images are %s with %zu "
                     "dimensions, expected float32 (..., H, W)", org(in),
                     nco_dtype_name(in->dtype), in->ndim);
  size_t H = in->shape[in->ndim - 2], W = in->shape[in->ndim - 1], t;
  if (H == 0 || W == 0 || out_h == 0 || out_w == 0)
    return nco_error(NCO_ERR_SHAPE, "%s: nco_data_resize_area: cannot resize %zu×%zu to %zu×%zu",
                     org(in), H, W, out_h, out_w);
  if (nco_mul_size(out_h, H, &t) || nco_add_size(t, out_h, &t) || nco_mul_size(out_w, W, &t) ||
      nco_add_size(t, out_w, &t))
    return nco_error(NCO_ERR_OVERFLOW, "%s: nco_data_resize_area: sizes overflow", org(in));
  size_t shape[NCO_ARRAY_MAX_DIMS];
  memcpy(shape, in->shape, sizeof shape);
  shape[in->ndim - 2] = out_h;
  shape[in->ndim - 1] = out_w;
  size_t *r0 = nco_calloc(out_h, sizeof *r0), *r1 = nco_calloc(out_h, sizeof *r1);
  size_t *c0 = nco_calloc(out_w, sizeof *c0), *c1 = nco_calloc(out_w, sizeof *c1);
  if (!r0 || !r1 || !c0 || !c1) {
    st = nco_error(NCO_ERR_NOMEM, "%s: nco_data_resize_area: out of memory", org(in));
    goto done;
  }
  if ((st = nco_array_alloc(out, NCO_DTYPE_F32, in->ndim, shape, in->origin))) goto done;
  /* PyTorch aten/src/ATen/native/AdaptiveAveragePooling.cpp, start_index /
   * end_index: window [⌊i·H/h⌋, ⌈(i+1)·H/h⌉), exact integer arithmetic. */
  for (size_t i = 0; i < out_h; i++) {
    r0[i] = i * H / out_h;
    r1[i] = ((i + 1) * H + out_h - 1) / out_h;
  }
  for (size_t j = 0; j < out_w; j++) {
    c0[j] = j * W / out_w;
    c1[j] = ((j + 1) * W + out_w - 1) / out_w;
  }
  size_t batch = in->size / (H * W);
  const float *src = in->data;
  float *dst = out->data;
  for (size_t b = 0; b < batch; b++) {
    const float *img = src + b * H * W;
    float *o = dst + b * out_h * out_w;
    for (size_t i = 0; i < out_h; i++)
      for (size_t j = 0; j < out_w; j++) {
        double sum = 0;
        for (size_t r = r0[i]; r < r1[i]; r++)
          for (size_t c = c0[j]; c < c1[j]; c++) sum += img[r * W + c];
        o[i * out_w + j] = (float)(sum / (double)((r1[i] - r0[i]) * (c1[j] - c0[j])));
      }
  }
done:
  free(r0);
  free(r1);
  free(c0);
  free(c1);
  return st;
}
