/* One-hidden-layer network x ↦ vᵀφ̃(Wx) trained over W with v fixed
 * (Oymak & Soltanolkotabi §4.3, eqs. 4.4–4.5):
 *     loss ½ Σ_i (vᵀφ̃(W x_i) − y_i)².
 *
 * Data: X (n, d) features, y (n) targets, v (k) output weights with
 * ‖v‖ = 1 (default v_ℓ = ±1/√k alternating), all copied to float32.
 * Parameters: W (k, d) row-major, w_ℓ = W[ℓ·d .. ℓ·d + d). One residual per
 * sample (m = 1). With z_iℓ = w_ℓᵀx_i (double accumulation):
 *   g_i = Σ_ℓ v_ℓ φ̃(z_iℓ) − y_i,
 *   ∂g_i/∂w_ℓ = v_ℓ φ̃'(z_iℓ) x_i,
 *   ∇²g_i is block diagonal over ℓ: block ℓ = v_ℓ φ̃''(z_iℓ) x_i x_iᵀ,
 * so rhvp gives the exact Hessian through the generic least-squares
 * formula. The VJP and rhvp accumulate in a double scratch (k·d), and the
 * z_iℓ of one sample live in a double scratch (k), both allocated at
 * creation. Default init: W ~ N(0, 1/d) entries.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/problems.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "problems/common.h"

typedef struct shallow {
  size_t n, d, k;
  nco_act act;
  float *X;     /* (n, d) features, row-major */
  float *y;     /* (n) targets */
  double *v;    /* (k) fixed output weights, ‖v‖ = 1 (double: the default
                   ±1/√k is then exact) */
  double *acc;  /* (k, d) accumulator for VJP and rhvp */
  double *z;    /* (k) pre-activations of one sample */
} shallow;

static void shallow_destroy(void *impl) {
  shallow *p = impl;
  if (!p) return;
  free(p->X);
  free(p->y);
  free(p->v);
  free(p->acc);
  free(p->z);
  free(p);
}

/* z_ℓ = w_ℓᵀ x for ℓ < k. */
static void preact(const shallow *p, const float *W, const float *x, double *z) {
  for (size_t l = 0; l < p->k; l++) z[l] = nco_dot(p->d, W + l * p->d, x);
}

/* Oymak eq. (4.5): g_s = vᵀφ̃(W x_i) − y_i, i = idx[s]. */
static int shallow_residual64(nco_problem *pb, const float *W, const size_t *idx, size_t nb, double *r) {
  shallow *p = pb->impl;
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    preact(p, W, p->X + i * p->d, p->z);
    double f = 0;
    for (size_t l = 0; l < p->k; l++) f += p->v[l] * nco_act_f(&p->act, p->z[l]);
    r[s] = f - (double)p->y[i];
  }
  return NCO_OK;
}

/* (J U)_s = Σ_ℓ v_ℓ φ̃'(z_iℓ) u_ℓᵀx_i. */
static int shallow_jvp(nco_problem *pb, const float *W, const size_t *idx, size_t nb, const float *U,
                       float *ju) {
  shallow *p = pb->impl;
  for (size_t s = 0; s < nb; s++) {
    const float *xi = p->X + idx[s] * p->d;
    preact(p, W, xi, p->z);
    double t = 0;
    for (size_t l = 0; l < p->k; l++)
      t += p->v[l] * nco_act_df(&p->act, p->z[l]) * nco_dot(p->d, U + l * p->d, xi);
    ju[s] = (float)t;
  }
  return NCO_OK;
}

/* (Jᵀr)_ℓ = Σ_s r_s v_ℓ φ̃'(z_iℓ) x_i, accumulated in double. */
static int shallow_vjp(nco_problem *pb, const float *W, const size_t *idx, size_t nb, const float *r,
                       float *jtv) {
  shallow *p = pb->impl;
  size_t d = p->d, kd = p->k * p->d;
  memset(p->acc, 0, kd * sizeof *p->acc);
  for (size_t s = 0; s < nb; s++) {
    if (r[s] == 0) continue;
    const float *xi = p->X + idx[s] * d;
    preact(p, W, xi, p->z);
    for (size_t l = 0; l < p->k; l++) {
      double c = (double)r[s] * p->v[l] * nco_act_df(&p->act, p->z[l]);
      double *row = p->acc + l * d;
      for (size_t j = 0; j < d; j++) row[j] += c * xi[j];
    }
  }
  for (size_t j = 0; j < kd; j++) jtv[j] = (float)p->acc[j];
  return NCO_OK;
}

/* Σ_s w_s ∇²g_s U: block ℓ = Σ_s w_s v_ℓ φ̃''(z_iℓ)(u_ℓᵀx_i) x_i. */
static int shallow_rhvp(nco_problem *pb, const float *W, const size_t *idx, size_t nb, const float *w,
                        const float *U, float *out) {
  shallow *p = pb->impl;
  size_t d = p->d, kd = p->k * p->d;
  memset(p->acc, 0, kd * sizeof *p->acc);
  for (size_t s = 0; s < nb; s++) {
    if (w[s] == 0) continue;
    const float *xi = p->X + idx[s] * d;
    preact(p, W, xi, p->z);
    for (size_t l = 0; l < p->k; l++) {
      double d2 = nco_act_d2f(&p->act, p->z[l]);
      if (d2 == 0) continue;
      double c = (double)w[s] * p->v[l] * d2 * nco_dot(d, U + l * d, xi);
      double *row = p->acc + l * d;
      for (size_t j = 0; j < d; j++) row[j] += c * xi[j];
    }
  }
  for (size_t j = 0; j < kd; j++) out[j] = (float)p->acc[j];
  return NCO_OK;
}

/* W ~ N(0, 1/d) entries (fan-in scaling; Theorem 4.3 allows any W0). */
static int shallow_init(nco_problem *pb, nco_rng *rng, float *W) {
  const shallow *p = pb->impl;
  nco_rng_normal_fill(rng, W, pb->dim, 0, 1 / sqrt((double)p->d));
  return NCO_OK;
}

static const nco_problem_type shallow_type = {
    .name = "shallow",
    .residual64 = shallow_residual64,
    .jvp = shallow_jvp,
    .vjp = shallow_vjp,
    .rhvp = shallow_rhvp,
    .init = shallow_init,
    .destroy = shallow_destroy,
};

/* v_ℓ = +1/√k, −1/√k, +1/√k, ...: ‖v‖ = 1 (to double rounding). */
static void default_v(double *v, size_t k) {
  double a = 1 / sqrt((double)k);
  for (size_t l = 0; l < k; l++) v[l] = l % 2 ? -a : a;
}

int nco_shallow_create(const nco_array *X, const nco_array *y, size_t k, const nco_act *act,
                       const nco_array *v, nco_problem **out) {
  int st;
  shallow *p = NULL;
  char sb[64];
  if (!out) return nco_error(NCO_ERR_INVALID, "shallow: NULL output");
  *out = NULL;
  if (!X || !y) return nco_error(NCO_ERR_INVALID, "shallow: features or targets is NULL");
  nco_act a = act ? *act : nco_act_make(NCO_ACT_IDENTITY);
  if ((st = nco_act_validate(&a))) return nco_error_context(st, "shallow");
  if (k == 0) return nco_error(NCO_ERR_RANGE, "shallow: hidden width k = 0, must be >= 1");
  if ((st = nco_zoo_check_features_targets(X, y))) return st;
  if (v && !(v->ndim == 1 || (v->ndim == 2 && v->shape[1] == 1)))
    return nco_error(NCO_ERR_SHAPE, "%s: output weights v has shape %s, expected (%zu,)",
                     nco_zoo_origin(v), nco_array_shape_str(v, sb, sizeof sb), k);
  if (v && v->shape[0] != k)
    return nco_error(NCO_ERR_SHAPE, "%s: output weights v has %zu entries but the hidden width is k = %zu",
                     nco_zoo_origin(v), v->shape[0], k);
  size_t n = X->shape[0], d = X->shape[1], kd;
  if (nco_mul_size(k, d, &kd))
    return nco_error(NCO_ERR_OVERFLOW, "shallow: k·d overflows (k = %zu, d = %zu)", k, d);
  p = calloc(1, sizeof *p);
  if (!p) return nco_error(NCO_ERR_NOMEM, "shallow: out of memory");
  p->n = n;
  p->d = d;
  p->k = k;
  p->act = a;
  if ((st = nco_zoo_copy_f32(X, "features", &p->X)) || (st = nco_zoo_copy_f32(y, "targets", &p->y)))
    goto fail;
  if (v) {
    float *vf = NULL;
    if ((st = nco_zoo_copy_f32(v, "output weights v", &vf))) goto fail;
    /* Oymak §4.3 assumes ‖v‖ = 1 (without loss of generality) */
    double nv = sqrt(nco_dot(k, vf, vf));
    p->v = nco_calloc(k, sizeof *p->v);
    if (p->v)
      for (size_t l = 0; l < k; l++) p->v[l] = vf[l];
    free(vf);
    if (!p->v) goto nomem;
    if (!(fabs(nv - 1) <= 1e-5)) {
      st = nco_error(NCO_ERR_RANGE, "%s: output weights v has norm %.9g, must be 1 (within 1e-5)",
                     nco_zoo_origin(v), nv);
      goto fail;
    }
  } else {
    p->v = nco_calloc(k, sizeof *p->v);
    if (!p->v) goto nomem;
    default_v(p->v, k);
  }
  p->acc = nco_calloc(kd, sizeof *p->acc);
  p->z = nco_calloc(k, sizeof *p->z);
  if (!p->acc || !p->z) goto nomem;
  if ((st = nco_problem_alloc(&shallow_type, p, kd, n, 1, 0, out))) return st; /* p taken over */
  char ad[64];
  nco_zoo_act_desc(&a, ad, sizeof ad);
  snprintf((*out)->label, sizeof (*out)->label, "shallow(%s) n=%zu d=%zu k=%zu", ad, n, d, k);
  return NCO_OK;
nomem:
  st = nco_error(NCO_ERR_NOMEM, "shallow: out of memory (k = %zu, d = %zu)", k, d);
fail:
  shallow_destroy(p);
  return st;
}

int nco_shallow_generate(size_t n, size_t d, size_t k, const nco_act *act, double noise, nco_rng *rng,
                         nco_array *X, nco_array *y) {
  int st;
  float *Ws = NULL;
  double *vs = NULL;
  if (!rng || !X || !y) return nco_error(NCO_ERR_INVALID, "shallow generate: NULL argument");
  memset(X, 0, sizeof *X);
  memset(y, 0, sizeof *y);
  nco_act a = act ? *act : nco_act_make(NCO_ACT_IDENTITY);
  if ((st = nco_act_validate(&a))) return nco_error_context(st, "shallow generate");
  if (n == 0 || d == 0 || k == 0)
    return nco_error(NCO_ERR_RANGE, "shallow generate: n = %zu, d = %zu and k = %zu must be >= 1", n, d, k);
  if (!(noise >= 0) || !isfinite(noise))
    return nco_error(NCO_ERR_RANGE, "shallow generate: noise %g must be finite and >= 0", noise);
  size_t kd;
  if (nco_mul_size(k, d, &kd))
    return nco_error(NCO_ERR_OVERFLOW, "shallow generate: k·d overflows (k = %zu, d = %zu)", k, d);
  size_t shX[2] = {n, d}, shy[1] = {n};
  if ((st = nco_array_alloc(X, NCO_DTYPE_F32, 2, shX, "synthetic:shallow")) ||
      (st = nco_array_alloc(y, NCO_DTYPE_F32, 1, shy, "synthetic:shallow")))
    goto fail;
  Ws = nco_calloc(kd, sizeof *Ws);
  vs = nco_calloc(k, sizeof *vs);
  if (!Ws || !vs) {
    st = nco_error(NCO_ERR_NOMEM, "shallow generate: out of memory (k = %zu, d = %zu)", k, d);
    goto fail;
  }
  float *Xd = X->data, *yd = y->data;
  /* x_i uniform on S^{d−1}, W* ~ N(0,1), v* = the default ±1/√k of
   * nco_shallow_create (so the default problem is realisable), then
   * y_i = v*ᵀφ̃(W* x_i) + noise·N(0,1) — drawn in this order. */
  for (size_t i = 0; i < n; i++) nco_rng_sphere(rng, Xd + i * d, d);
  nco_rng_normal_fill(rng, Ws, kd, 0, 1);
  default_v(vs, k);
  for (size_t i = 0; i < n; i++) {
    double f = 0;
    for (size_t l = 0; l < k; l++) f += vs[l] * nco_act_f(&a, nco_dot(d, Ws + l * d, Xd + i * d));
    yd[i] = (float)(f + noise * nco_rng_normal(rng));
  }
  free(Ws);
  free(vs);
  return NCO_OK;
fail:
  free(Ws);
  free(vs);
  nco_array_free(X);
  nco_array_free(y);
  return st;
}
