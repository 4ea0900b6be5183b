/* Linear least squares: g(x) = Ax − b, loss ½‖Ax − b‖² (the identity GLM
 * of Oymak & Soltanolkotabi eq. 4.1; the baseline of every zoo test).
 *
 * Data: A (n, d) features, b (n) targets, both copied to float32.
 * Parameters: x (d). One residual per sample (m = 1). Every dot product
 * a_iᵀx accumulates in double (nco_dot); the VJP accumulates Σ v_i a_i in a
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
#include "problems/common.h"

typedef struct linear_ls {
  size_t n, d;
  float *A;     /* (n, d) features, row-major */
  float *b;     /* (n) targets */
  double *acc;  /* (d) VJP accumulator */
} linear_ls;

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
    r[s] = nco_dot(p->d, p->A + i * p->d, x) - (double)p->b[i];
  }
  return NCO_OK;
}

/* (J u)_s = a_iᵀu. */
static int linear_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                      float *ju) {
  const linear_ls *p = pb->impl;
  (void)x;
  for (size_t s = 0; s < nb; s++) ju[s] = (float)nco_dot(p->d, p->A + idx[s] * p->d, u);
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
  if ((st = nco_zoo_check_features_targets(A, b))) return st;
  size_t n = A->shape[0], d = A->shape[1];
  p = calloc(1, sizeof *p);
  if (!p) return nco_error(NCO_ERR_NOMEM, "linear_ls: out of memory");
  p->n = n;
  p->d = d;
  if ((st = nco_zoo_copy_f32(A, "features", &p->A)) || (st = nco_zoo_copy_f32(b, "targets", &p->b)))
    goto fail;
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
    bd[i] = (float)(nco_dot(d, Ad + i * d, xs) + e);
  }
  free(xs);
  return NCO_OK;
fail:
  free(xs);
  nco_array_free(A);
  nco_array_free(b);
  return st;
}
