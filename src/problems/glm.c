/* Generalised linear model: g(x) = φ̃(Ax) − b, loss ½‖φ̃(Ax) − b‖²
 * (Oymak & Soltanolkotabi §4.1, eq. 4.1; Crane & Roosta §3, Fig. 1 with
 * the sigmoid and b ∈ {0,1}).
 *
 * Data: A (n, d) features, b (n) targets, copied to float32. Parameters:
 * x (d). One residual per sample (m = 1). With z_i = a_iᵀx (a dot product
 * accumulated in double):
 *   g_i = φ̃(z_i) − b_i,   ∇g_i = φ̃'(z_i) a_i,   ∇²g_i = φ̃''(z_i) a_i a_iᵀ,
 * so the exact Hessian is Σ_i (φ̃'(z_i)² + g_i φ̃''(z_i)) a_i a_iᵀ, from the
 * generic least-squares formula JᵀJ + Σ_i r_i ∇²g_i with rhvp below. The
 * VJP and rhvp accumulate Σ_i c_i a_i in a double scratch (d) allocated at
 * creation; z_i is recomputed per call (x changes between calls).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/problems.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "problems/common.h"

typedef struct glm {
  size_t n, d;
  nco_act act;
  float *A;     /* (n, d) features, row-major */
  float *b;     /* (n) targets */
  double *acc;  /* (d) accumulator for VJP and rhvp */
} glm;

static void glm_destroy(void *impl) {
  glm *p = impl;
  if (!p) return;
  free(p->A);
  free(p->b);
  free(p->acc);
  free(p);
}

/* Oymak eq. (4.1): g_s = φ̃(a_iᵀx) − b_i, i = idx[s]. */
static int glm_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  const glm *p = pb->impl;
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    double z = nco_dot(p->d, p->A + i * p->d, x);
    r[s] = nco_act_f(&p->act, z) - (double)p->b[i];
  }
  return NCO_OK;
}

/* J = diag(φ̃'(Ax)) A (Oymak §4.1): (J u)_s = φ̃'(z_i)·a_iᵀu. */
static int glm_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                   float *ju) {
  const glm *p = pb->impl;
  for (size_t s = 0; s < nb; s++) {
    const float *a = p->A + idx[s] * p->d;
    double z = nco_dot(p->d, a, x);
    ju[s] = (float)(nco_act_df(&p->act, z) * nco_dot(p->d, a, u));
  }
  return NCO_OK;
}

/* Jᵀv = Σ_s v_s φ̃'(z_i) a_i, accumulated in double. */
static int glm_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                   float *jtv) {
  glm *p = pb->impl;
  size_t d = p->d;
  memset(p->acc, 0, d * sizeof *p->acc);
  for (size_t s = 0; s < nb; s++) {
    if (v[s] == 0) continue;
    const float *a = p->A + idx[s] * d;
    double c = (double)v[s] * nco_act_df(&p->act, nco_dot(d, a, x));
    for (size_t j = 0; j < d; j++) p->acc[j] += c * a[j];
  }
  for (size_t j = 0; j < d; j++) jtv[j] = (float)p->acc[j];
  return NCO_OK;
}

/* Σ_s w_s ∇²g_s u = Σ_s w_s φ̃''(z_i)(a_iᵀu) a_i (second-order part of the
 * Gauss–Newton split of the least-squares Hessian). */
static int glm_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                    const float *u, float *out) {
  glm *p = pb->impl;
  size_t d = p->d;
  memset(p->acc, 0, d * sizeof *p->acc);
  for (size_t s = 0; s < nb; s++) {
    if (w[s] == 0) continue;
    const float *a = p->A + idx[s] * d;
    double d2 = nco_act_d2f(&p->act, nco_dot(d, a, x));
    if (d2 == 0) continue; /* identity, ReLU family, ELU for z > 0 */
    double c = (double)w[s] * d2 * nco_dot(d, a, u);
    for (size_t j = 0; j < d; j++) p->acc[j] += c * a[j];
  }
  for (size_t j = 0; j < d; j++) out[j] = (float)p->acc[j];
  return NCO_OK;
}

static const nco_problem_type glm_type = {
    .name = "glm",
    .residual64 = glm_residual64,
    .jvp = glm_jvp,
    .vjp = glm_vjp,
    .rhvp = glm_rhvp,
    .init = NULL, /* N(0, 1/d); Theorem 4.1 holds from any θ0 */
    .destroy = glm_destroy,
};

int nco_glm_create(const nco_array *A, const nco_array *b, const nco_act *act, nco_problem **out) {
  int st;
  glm *p = NULL;
  if (!out) return nco_error(NCO_ERR_INVALID, "glm: NULL output");
  *out = NULL;
  if (!A || !b) return nco_error(NCO_ERR_INVALID, "glm: features or targets is NULL");
  /* act NULL: the default activation (identity) */
  nco_act a = act ? *act : nco_act_make(NCO_ACT_IDENTITY);
  if ((st = nco_act_validate(&a))) return nco_error_context(st, "glm");
  if ((st = nco_zoo_check_features_targets(A, b))) return st;
  size_t n = A->shape[0], d = A->shape[1];
  p = calloc(1, sizeof *p);
  if (!p) return nco_error(NCO_ERR_NOMEM, "glm: out of memory");
  p->n = n;
  p->d = d;
  p->act = a;
  if ((st = nco_zoo_copy_f32(A, "features", &p->A)) || (st = nco_zoo_copy_f32(b, "targets", &p->b)))
    goto fail;
  p->acc = nco_calloc(d, sizeof *p->acc);
  if (!p->acc) {
    st = nco_error(NCO_ERR_NOMEM, "glm: out of memory (d = %zu)", d);
    goto fail;
  }
  if ((st = nco_problem_alloc(&glm_type, p, d, n, 1, 0, out))) return st; /* p taken over */
  char ad[64];
  nco_zoo_act_desc(&a, ad, sizeof ad);
  snprintf((*out)->label, sizeof (*out)->label, "glm(%s) n=%zu d=%zu", ad, n, d);
  return NCO_OK;
fail:
  glm_destroy(p);
  return st;
}

int nco_glm_generate(size_t n, size_t d, const nco_act *act, double noise, int binary, nco_rng *rng,
                     nco_array *A, nco_array *b) {
  int st;
  float *xs = NULL;
  if (!rng || !A || !b) return nco_error(NCO_ERR_INVALID, "glm generate: NULL argument");
  memset(A, 0, sizeof *A);
  memset(b, 0, sizeof *b);
  nco_act a = act ? *act : nco_act_make(NCO_ACT_IDENTITY);
  if ((st = nco_act_validate(&a))) return nco_error_context(st, "glm generate");
  if (n == 0 || d == 0)
    return nco_error(NCO_ERR_RANGE, "glm generate: n = %zu and d = %zu must be >= 1", n, d);
  if (!(noise >= 0) || !isfinite(noise))
    return nco_error(NCO_ERR_RANGE, "glm generate: noise %g must be finite and >= 0", noise);
  if (binary != 0 && binary != 1)
    return nco_error(NCO_ERR_INVALID, "glm generate: binary = %d must be 0 or 1", binary);
  size_t shA[2] = {n, d}, shb[1] = {n};
  if ((st = nco_array_alloc(A, NCO_DTYPE_F32, 2, shA, "synthetic:glm")) ||
      (st = nco_array_alloc(b, NCO_DTYPE_F32, 1, shb, "synthetic:glm")))
    goto fail;
  xs = nco_calloc(d, sizeof *xs);
  if (!xs) {
    st = nco_error(NCO_ERR_NOMEM, "glm generate: out of memory (d = %zu)", d);
    goto fail;
  }
  float *Ad = A->data, *bd = b->data;
  /* A ~ N(0,1), x* ~ N(0, 1/d), then one draw per sample */
  nco_rng_normal_fill(rng, Ad, n * d, 0, 1);
  nco_rng_normal_fill(rng, xs, d, 0, 1 / sqrt((double)d));
  nco_act sig = nco_act_make(NCO_ACT_SIGMOID);
  for (size_t i = 0; i < n; i++) {
    double z = nco_dot(d, Ad + i * d, xs);
    if (binary) {
      /* Crane & Roosta §3, Fig. 1: b_i ∈ {0,1}, P(b_i = 1) = σ(a_iᵀx*) */
      bd[i] = nco_rng_uniform(rng) < nco_act_f(&sig, z) ? 1.0f : 0.0f;
    } else {
      bd[i] = (float)(nco_act_f(&a, z) + noise * nco_rng_normal(rng));
    }
  }
  free(xs);
  return NCO_OK;
fail:
  free(xs);
  nco_array_free(A);
  nco_array_free(b);
  return st;
}
