/* Linear least squares: g(x) = Ax − b, loss ½‖Ax − b‖² (the identity GLM
 * of Oymak & Soltanolkotabi eq. 4.1; the baseline of every zoo test).
 *
 * Data: A (n, d) features, b (n) targets, both copied to float32.
 * Parameters: x (d). One residual per sample (m = 1). Every dot product
 * a_iᵀx accumulates in double (dot64); the VJP accumulates Σ v_i a_i in a
 * double scratch (d) allocated at creation. The Hessian is JᵀJ: the
 * second-order part (rhvp) is zero, so the generic least-squares HVP is
 * exact.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/problems.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"

typedef struct linear_ls {
  size_t n, d;
  float *A;     /* (n, d) features, row-major */
  float *b;     /* (n) targets */
  double *acc;  /* (d) VJP accumulator */
} linear_ls;

/* Σ_j a_j b_j accumulated in double by an explicit loop (four partial sums
 * in a fixed order: deterministic on every machine). Not cblas_dsdot:
 * OpenBLAS's optimised x86-64 dsdot sums blocks of 32 products in float
 * (relative error ~1e-7 for n ≥ 32), which breaks the double-accuracy the
 * finite-difference checks and the loss rely on. */
static double dot64(size_t n, const float *a, const float *b) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += (double)a[j] * b[j];
    s1 += (double)a[j + 1] * b[j + 1];
    s2 += (double)a[j + 2] * b[j + 2];
    s3 += (double)a[j + 3] * b[j + 3];
  }
  for (; j < n; j++) s0 += (double)a[j] * b[j];
  return (s0 + s1) + (s2 + s3);
}

static const char *origin_of(const nco_array *a) { return a->origin[0] ? a->origin : "(unnamed array)"; }

/* A float32 copy of `src` (any numeric dtype) in a new buffer *out, after
 * checking every value is finite and fits float32. The caller's array is
 * not touched: the check and conversion run on a copy. */
static int copy_f32(const nco_array *src, const char *role, float **out) {
  nco_array tmp = {0};
  size_t esz = nco_dtype_size(src->dtype), bytes = 0;
  int st;
  *out = NULL;
  if (!src->data || esz == 0 || nco_mul_size(src->size, esz, &bytes))
    return nco_error(NCO_ERR_INVALID, "%s: %s is not a valid array (no data or invalid dtype)",
                     origin_of(src), role);
  if ((st = nco_array_alloc(&tmp, src->dtype, src->ndim, src->shape, src->origin))) return st;
  if (tmp.size != src->size) {
    nco_array_free(&tmp);
    return nco_error(NCO_ERR_INVALID, "%s: %s: element count %zu does not match its shape", origin_of(src),
                     role, src->size);
  }
  memcpy(tmp.data, src->data, bytes);
  if ((st = nco_array_check_finite(&tmp, role)) || (st = nco_array_to_f32(&tmp))) {
    nco_array_free(&tmp);
    return st;
  }
  *out = tmp.data; /* taken over; freed with free() */
  return NCO_OK;
}

/* Features (n, d) with n, d ≥ 1; targets (n) or (n, 1). */
static int check_shapes(const nco_array *A, const nco_array *b) {
  int st;
  char sb[64];
  if ((st = nco_array_expect(A, "features", 2, NULL))) return st;
  if (A->shape[0] == 0 || A->shape[1] == 0)
    return nco_error(NCO_ERR_SHAPE, "%s: features has shape %s: needs at least one sample and one feature",
                     origin_of(A), nco_array_shape_str(A, sb, sizeof sb));
  if (!(b->ndim == 1 || (b->ndim == 2 && b->shape[1] == 1)))
    return nco_error(NCO_ERR_SHAPE, "%s: targets has shape %s, expected (%zu,) or (%zu, 1)", origin_of(b),
                     nco_array_shape_str(b, sb, sizeof sb), A->shape[0], A->shape[0]);
  if (b->shape[0] != A->shape[0])
    return nco_error(NCO_ERR_SHAPE, "%s: features has %zu rows but targets (%s) has %zu entries", origin_of(A),
                     A->shape[0], origin_of(b), b->shape[0]);
  return NCO_OK;
}

static void linear_destroy(void *impl) {
  linear_ls *p = impl;
  if (!p) return;
  free(p->A);
  free(p->b);
  free(p->acc);
  free(p);
}

/* r_s = a_iᵀx − b_i for batch position s, sample i = idx[s]. */
static int linear_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  const linear_ls *p = pb->impl;
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    r[s] = dot64(p->d, p->A + i * p->d, x) - (double)p->b[i];
  }
  return NCO_OK;
}

/* (J u)_s = a_iᵀu. */
static int linear_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                      float *ju) {
  const linear_ls *p = pb->impl;
  (void)x;
  for (size_t s = 0; s < nb; s++) ju[s] = (float)dot64(p->d, p->A + idx[s] * p->d, u);
  return NCO_OK;
}

/* Jᵀv = Σ_s v_s a_{idx[s]}, accumulated in double. */
static int linear_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                      float *jtv) {
  linear_ls *p = pb->impl;
  size_t d = p->d;
  (void)x;
  memset(p->acc, 0, d * sizeof *p->acc);
  for (size_t s = 0; s < nb; s++) {
    const float *a = p->A + idx[s] * d;
    double c = v[s];
    if (c == 0) continue;
    for (size_t j = 0; j < d; j++) p->acc[j] += c * a[j];
  }
  for (size_t j = 0; j < d; j++) jtv[j] = (float)p->acc[j];
  return NCO_OK;
}

/* ∇²g_i = 0 for an affine residual: the Hessian is exactly JᵀJ. */
static int linear_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                       const float *u, float *out) {
  (void)x, (void)idx, (void)nb, (void)w, (void)u;
  memset(out, 0, pb->dim * sizeof *out);
  return NCO_OK;
}

static const nco_problem_type linear_ls_type = {
    .name = "linear_ls",
    .residual64 = linear_residual64,
    .jvp = linear_jvp,
    .vjp = linear_vjp,
    .rhvp = linear_rhvp,
    .init = NULL, /* N(0, 1/d) */
    .destroy = linear_destroy,
};

int nco_linear_ls_create(const nco_array *A, const nco_array *b, nco_problem **out) {
  int st;
  linear_ls *p = NULL;
  if (!out) return nco_error(NCO_ERR_INVALID, "linear_ls: NULL output");
  *out = NULL;
  if (!A || !b) return nco_error(NCO_ERR_INVALID, "linear_ls: features or targets is NULL");
  if ((st = check_shapes(A, b))) return st;
  size_t n = A->shape[0], d = A->shape[1];
  p = calloc(1, sizeof *p);
  if (!p) return nco_error(NCO_ERR_NOMEM, "linear_ls: out of memory");
  p->n = n;
  p->d = d;
  if ((st = copy_f32(A, "features", &p->A)) || (st = copy_f32(b, "targets", &p->b))) goto fail;
  p->acc = nco_calloc(d, sizeof *p->acc);
  if (!p->acc) {
    st = nco_error(NCO_ERR_NOMEM, "linear_ls: out of memory (d = %zu)", d);
    goto fail;
  }
  /* nco_problem_alloc takes p over, also on failure */
  if ((st = nco_problem_alloc(&linear_ls_type, p, d, n, 1, 0, out))) return st;
  snprintf((*out)->label, sizeof (*out)->label, "linear_ls n=%zu d=%zu", n, d);
  return NCO_OK;
fail:
  linear_destroy(p);
  return st;
}

int nco_linear_ls_generate(size_t n, size_t d, double noise, nco_rng *rng, nco_array *A, nco_array *b) {
  int st;
  float *xs = NULL;
  if (!rng || !A || !b) return nco_error(NCO_ERR_INVALID, "linear_ls generate: NULL argument");
  memset(A, 0, sizeof *A);
  memset(b, 0, sizeof *b);
  if (n == 0 || d == 0)
    return nco_error(NCO_ERR_RANGE, "linear_ls generate: n = %zu and d = %zu must be >= 1", n, d);
  if (!(noise >= 0) || !isfinite(noise))
    return nco_error(NCO_ERR_RANGE, "linear_ls generate: noise %g must be finite and >= 0", noise);
  size_t shA[2] = {n, d}, shb[1] = {n};
  if ((st = nco_array_alloc(A, NCO_DTYPE_F32, 2, shA, "synthetic:linear_ls")) ||
      (st = nco_array_alloc(b, NCO_DTYPE_F32, 1, shb, "synthetic:linear_ls")))
    goto fail;
  xs = nco_calloc(d, sizeof *xs);
  if (!xs) {
    st = nco_error(NCO_ERR_NOMEM, "linear_ls generate: out of memory (d = %zu)", d);
    goto fail;
  }
  float *Ad = A->data, *bd = b->data;
  /* A ~ N(0,1), x* ~ N(0, 1/d), b = A x* + noise·N(0,1) (drawn in this order) */
  nco_rng_normal_fill(rng, Ad, n * d, 0, 1);
  nco_rng_normal_fill(rng, xs, d, 0, 1 / sqrt((double)d));
  for (size_t i = 0; i < n; i++) {
    double e = noise * nco_rng_normal(rng); /* drawn even for noise 0 */
    bd[i] = (float)(dot64(d, Ad + i * d, xs) + e);
  }
  free(xs);
  return NCO_OK;
fail:
  free(xs);
  nco_array_free(A);
  nco_array_free(b);
  return st;
}
