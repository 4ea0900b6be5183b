/* Orthogonal 4th-order tensor decomposition on the unit sphere (Ma §5).
 *
 * The tensor T = Σ_i a_i^{⊗4} (Ma eq. 5.1) is never formed: with the
 * components A (k, d), rows a_i, the objective of Ma eq. (5.2) is
 *     f(x) = ⟨T, x^{⊗4}⟩ = Σ_i ⟨a_i, x⟩⁴,
 * maximised over ‖x‖ = 1. ncopt minimises, so the problem's loss over a
 * batch S of components is
 *     loss_S(x) = −c · Σ_{i∈S} ⟨a_i, x⟩⁴,      c = 1 (SUM) or 1/|S| (MEAN),
 * and Riemannian gradient descent on the loss is Riemannian gradient ascent
 * on f. The sphere geometry (P_x, retraction, Ma eqs. 5.4–5.5) lives in
 * src/core/problem.c; this file only gives the Euclidean loss, gradient and
 * Hessian-vector product of the smooth extension to R^d.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/array.h"
#include "ncopt/problem.h"
#include "ncopt/problems.h"
#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "problems/common.h"

typedef struct tensor {
  size_t k, d;
  float *A;     /* (k, d) row-major: the components a_i */
  double *acc;  /* (d) double accumulator for gradients and HVPs */
} tensor;

static void tensor_destroy(void *impl) {
  tensor *t = impl;
  if (!t) return;
  free(t->A);
  free(t->acc);
  free(t);
}

/* loss_S = −c Σ_{i∈S} ⟨a_i,x⟩⁴ (Ma eq. 5.2, sign flipped);
 * ∇loss_S = −4c Σ_{i∈S} ⟨a_i,x⟩³ a_i. */
static int tensor_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                       float *grad) {
  tensor *t = pb->impl;
  size_t d = t->d;
  double c = nco_problem_scale(pb, nb), s = 0;
  if (grad) memset(t->acc, 0, d * sizeof *t->acc);
  for (size_t b = 0; b < nb; b++) {
    const float *a = t->A + idx[b] * d;
    double y = nco_dot(d, a, x), y2 = y * y;
    s += y2 * y2;
    if (grad) {
      double w = y2 * y;
      for (size_t j = 0; j < d; j++) t->acc[j] += w * a[j];
    }
  }
  *loss = -c * s;
  if (grad)
    for (size_t j = 0; j < d; j++) grad[j] = (float)(-4.0 * c * t->acc[j]);
  return NCO_OK;
}

/* ∇²loss_S v = −12c Σ_{i∈S} ⟨a_i,x⟩² ⟨a_i,v⟩ a_i (the Euclidean part of
 * Ma eq. 5.5: ∇²f̄ = 12 Σ_i ⟨a_i,x⟩² a_i a_iᵀ, = 12 diag(x²) for a_i = e_i). */
static int tensor_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                      float *hv) {
  tensor *t = pb->impl;
  size_t d = t->d;
  double c = nco_problem_scale(pb, nb);
  memset(t->acc, 0, d * sizeof *t->acc);
  for (size_t b = 0; b < nb; b++) {
    const float *a = t->A + idx[b] * d;
    double y = nco_dot(d, a, x), w = y * y * nco_dot(d, a, v);
    for (size_t j = 0; j < d; j++) t->acc[j] += w * a[j];
  }
  for (size_t j = 0; j < d; j++) hv[j] = (float)(-12.0 * c * t->acc[j]);
  return NCO_OK;
}

/* Default start: uniform on the sphere S^{d−1}. */
static int tensor_init(nco_problem *pb, nco_rng *rng, float *x) {
  nco_rng_sphere(rng, x, pb->dim);
  return NCO_OK;
}

static const nco_problem_type tensor_type = {
    .name = "tensor",
    .eval = tensor_eval,
    .hvp = tensor_hvp,
    .init = tensor_init,
    .destroy = tensor_destroy,
};

int nco_tensor_create(const nco_array *components, nco_problem **out) {
  tensor *t = NULL;
  nco_problem *pb = NULL;
  int st;
  if (!out) return nco_error(NCO_ERR_INVALID, "tensor: output pointer is NULL");
  *out = NULL;
  if (!components) return nco_error(NCO_ERR_INVALID, "tensor: components array is NULL");
  const char *org = nco_zoo_origin(components);
  size_t any2[2] = {(size_t)-1, (size_t)-1};
  if ((st = nco_array_expect(components, "components", 2, any2))) return st;
  size_t k = components->shape[0], d = components->shape[1], kd;
  if (k == 0 || d == 0)
    return nco_error(NCO_ERR_SHAPE, "%s: components has shape (%zu, %zu): need at least one component "
                     "(row) of dimension ≥ 1", org, k, d);
  if (nco_mul_size(k, d, &kd) || kd != components->size)
    return nco_error(NCO_ERR_INVALID, "%s: components: size %zu does not match shape (%zu, %zu)", org,
                     components->size, k, d);
  if (nco_dtype_size(components->dtype) == 0)
    return nco_error(NCO_ERR_INVALID, "%s: components: invalid dtype %d", org, (int)components->dtype);
  if (!components->data)
    return nco_error(NCO_ERR_INVALID, "%s: components: array has no data", org);

  t = calloc(1, sizeof *t);
  if (!t) return nco_error(NCO_ERR_NOMEM, "%s: components: out of memory", org);
  t->k = k;
  t->d = d;
  t->A = nco_calloc(kd, sizeof *t->A);
  t->acc = nco_calloc(d, sizeof *t->acc);
  if (!t->A || !t->acc) {
    st = nco_error(NCO_ERR_NOMEM, "%s: components: out of memory for a (%zu, %zu) copy", org, k, d);
    goto fail;
  }
  /* Copy to float32, checking finiteness and float range. */
  for (size_t i = 0; i < k; i++) {
    for (size_t j = 0; j < d; j++) {
      double v = nco_zoo_elem(components, i * d + j);
      if (!isfinite(v)) {
        st = nco_error(NCO_ERR_NONFINITE, "%s: components has a non-finite value (%g) at index (%zu, %zu)",
                       org, v, i, j);
        goto fail;
      }
      float f = (float)v;
      if (!isfinite(f)) {
        st = nco_error(NCO_ERR_RANGE, "%s: components value %.17g at index (%zu, %zu) overflows float32",
                       org, v, i, j);
        goto fail;
      }
      t->A[i * d + j] = f;
    }
  }
  /* A zero component contributes nothing to T (Ma eq. 5.1): almost surely
   * a data error, and it has no direction to recover. */
  for (size_t i = 0; i < k; i++) {
    if (!(nco_nrm2(d, t->A + i * d) > 0)) {
      st = nco_error(NCO_ERR_RANGE, "%s: components row %zu is zero (every component a_i must be non-zero)",
                     org, i);
      goto fail;
    }
  }
  st = nco_problem_alloc(&tensor_type, t, d, k, 0, 0, &pb);
  t = NULL; /* owned by pb now, or freed by nco_problem_alloc */
  if (st) return st;
  pb->manifold = NCO_MANIFOLD_SPHERE;
  pb->reduction = NCO_REDUCE_SUM;
  snprintf(pb->label, sizeof pb->label, "tensor k=%zu d=%zu", k, d);
  *out = pb;
  return NCO_OK;
fail:
  tensor_destroy(t);
  return st;
}

/* Haar-random orthogonal d×d matrix (Mezzadri 2007, "How to generate random
 * matrices from the classical compact groups", §5): Q from the Householder
 * QR of a Gaussian matrix G = QR, with each column of Q multiplied by
 * sign(R_jj) so that the decomposition is unique and Q is Haar-distributed.
 * The components are the first k rows of Q (orthonormal since Q is
 * orthogonal). */
int nco_tensor_generate(size_t k, size_t d, nco_rng *rng, nco_array *components) {
  double *G = NULL, *V = NULL, *Q = NULL, *sgn = NULL;
  size_t dd;
  int st;
  if (!components) return nco_error(NCO_ERR_INVALID, "synthetic:tensor: components array is NULL");
  memset(components, 0, sizeof *components);
  if (!rng) return nco_error(NCO_ERR_INVALID, "synthetic:tensor: rng is NULL");
  if (k == 0 || d == 0)
    return nco_error(NCO_ERR_RANGE, "synthetic:tensor: need k ≥ 1 components of dimension d ≥ 1 (k=%zu, d=%zu)",
                     k, d);
  if (k > d)
    return nco_error(NCO_ERR_RANGE,
                     "synthetic:tensor: k=%zu orthonormal components do not fit in dimension d=%zu (need k ≤ d)",
                     k, d);
  if (nco_mul_size(d, d, &dd))
    return nco_error(NCO_ERR_OVERFLOW, "synthetic:tensor: d=%zu: d·d overflows", d);
  G = nco_calloc(dd, sizeof *G); /* (d, d) row-major; R in its upper triangle */
  V = nco_calloc(dd, sizeof *V); /* (d, d): row j holds Householder vector v_j (entries j..d−1) */
  Q = nco_calloc(dd, sizeof *Q); /* (d, d) row-major */
  sgn = nco_calloc(d, sizeof *sgn);
  if (!G || !V || !Q || !sgn) {
    st = nco_error(NCO_ERR_NOMEM, "synthetic:tensor: out of memory for a %zu×%zu QR", d, d);
    goto done;
  }
  for (size_t e = 0; e < dd; e++) G[e] = nco_rng_normal(rng);
  /* Householder QR: H_j = I − 2 v_j v_jᵀ (‖v_j‖ = 1) maps column j below the
   * diagonal onto α e_j, α = −sign(g_jj)‖g_{j:,j}‖ (no cancellation). */
  for (size_t j = 0; j < d; j++) {
    double *v = V + j * d, nx = 0;
    for (size_t i = j; i < d; i++) nx += G[i * d + j] * G[i * d + j];
    nx = sqrt(nx);
    if (!(nx > 0)) { /* measure zero: H_j = I, R_jj = 0 */
      sgn[j] = 1;
      continue;
    }
    double g0 = G[j * d + j], alpha = g0 >= 0 ? -nx : nx;
    for (size_t i = j; i < d; i++) v[i] = G[i * d + j];
    v[j] -= alpha;
    double nv = 0;
    for (size_t i = j; i < d; i++) nv += v[i] * v[i];
    nv = sqrt(nv);
    for (size_t i = j; i < d; i++) v[i] /= nv;
    for (size_t c = j; c < d; c++) {
      double s = 0;
      for (size_t i = j; i < d; i++) s += v[i] * G[i * d + c];
      for (size_t i = j; i < d; i++) G[i * d + c] -= 2 * s * v[i];
    }
    sgn[j] = alpha >= 0 ? 1 : -1; /* R_jj = alpha */
  }
  /* Q = H_0 H_1 ⋯ H_{d−1}, accumulated backwards onto the identity. */
  for (size_t i = 0; i < d; i++) Q[i * d + i] = 1;
  for (size_t j = d; j-- > 0;) {
    const double *v = V + j * d;
    int zero = 1;
    for (size_t i = j; i < d && zero; i++) zero = v[i] == 0;
    if (zero) continue;
    for (size_t c = 0; c < d; c++) {
      double s = 0;
      for (size_t i = j; i < d; i++) s += v[i] * Q[i * d + c];
      for (size_t i = j; i < d; i++) Q[i * d + c] -= 2 * s * v[i];
    }
  }
  size_t shape[2] = {k, d};
  if ((st = nco_array_alloc(components, NCO_DTYPE_F32, 2, shape, "synthetic:tensor"))) goto done;
  float *A = components->data;
  /* Q·diag(sign R_jj) (Mezzadri eq. 5.1); rows 0..k−1. */
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < d; j++) A[i * d + j] = (float)(Q[i * d + j] * sgn[j]);
  st = NCO_OK;
done:
  free(G);
  free(V);
  free(Q);
  free(sgn);
  return st;
}
