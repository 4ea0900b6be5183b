/* Low-rank regression (Oymak & Soltanolkotabi 2019, §4.2): fit
 * y_i ≈ ⟨X_i, ΘΘᵀ⟩ with the Burer–Monteiro factor Θ (d, r), as a least-
 * squares problem with one residual per sample,
 *     g_i(Θ) = ⟨X_i, ΘΘᵀ⟩ − y_i = tr(Θᵀ X_i Θ) − y_i,
 *     loss   = c·½ Σ_i g_i²                      (Oymak eq. 4.3 for c = 1).
 * X_i is not assumed symmetric. Per batch of nb samples every evaluation
 * costs O(d²r + nb·d²): the d×d matrix that the batch needs (ΘΘᵀ, uΘᵀ+Θuᵀ
 * or Σ v_i X_i) is formed once in double in a scratch buffer allocated at
 * creation. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/problems.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "problems/common.h"

typedef struct lowrank {
  size_t n, d, r;
  float *X;      /* (n, d, d) features X_i, row-major */
  float *y;      /* (n) targets */
  double *S;     /* (d, d) scratch */
  double ynorm;  /* ‖y‖₂ (for the default init) */
} lowrank;

/* ---- array helpers (the rest are in common.h) ---------------------------- */

/* Values are finite (nco_array_check_finite names origin, role and index)
 * and representable as float32. */
static int validate_values(const nco_array *a, const char *role) {
  int st = nco_array_check_finite(a, role);
  if (st) return st;
  for (size_t k = 0; k < a->size; k++) {
    double v = nco_zoo_elem(a, k);
    if (!(fabs(v) <= FLT_MAX))
      return nco_error(NCO_ERR_RANGE, "%s: %s: value %.9g at flat index %zu overflows float32",
                       nco_zoo_origin(a), role, v, k);
  }
  return NCO_OK;
}

static void copy_f32(const nco_array *a, float *dst) {
  for (size_t k = 0; k < a->size; k++) dst[k] = (float)nco_zoo_elem(a, k);
}

/* Eigenvalues of the symmetric r×r matrix A (row-major, overwritten) by
 * cyclic Jacobi rotations (Golub & Van Loan, Alg. 8.5.3); they are left on
 * the diagonal. */
static void jacobi_eigvals(double *A, size_t r) {
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0, tot = 0;
    for (size_t p = 0; p < r; p++)
      for (size_t q = 0; q < r; q++) {
        tot += A[p * r + q] * A[p * r + q];
        if (p != q) off += A[p * r + q] * A[p * r + q];
      }
    if (!(off > 1e-30 * tot)) return;
    for (size_t p = 0; p + 1 < r; p++)
      for (size_t q = p + 1; q < r; q++) {
        double apq = A[p * r + q];
        if (apq == 0) continue;
        double theta = (A[q * r + q] - A[p * r + p]) / (2 * apq);
        double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < r; k++) { /* A ← A·J */
          double akp = A[k * r + p], akq = A[k * r + q];
          A[k * r + p] = c * akp - s * akq;
          A[k * r + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < r; k++) { /* A ← Jᵀ·A */
          double apk = A[p * r + k], aqk = A[q * r + k];
          A[p * r + k] = c * apk - s * aqk;
          A[q * r + k] = s * apk + c * aqk;
        }
      }
  }
}

/* ---- the problem ------------------------------------------------------- */

/* S ← ΘΘᵀ (d×d, double, symmetric). */
static void gram(const lowrank *L, const float *th, double *S) {
  size_t d = L->d, r = L->r;
  for (size_t a = 0; a < d; a++)
    for (size_t b = a; b < d; b++) {
      double s = nco_zoo_dot_seq(th + a * r, th + b * r, r);
      S[a * d + b] = S[b * d + a] = s;
    }
}

/* ⟨X_i, S⟩ in double. */
static double inner(const lowrank *L, size_t i, const double *S) {
  size_t dd = L->d * L->d;
  const float *Xi = L->X + i * dd;
  double s = 0;
  for (size_t k = 0; k < dd; k++) s += Xi[k] * S[k];
  return s;
}

/* Oymak eq. (4.3): g_i = ⟨X_i, ΘΘᵀ⟩ − y_i. */
static int lr_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                         double *res) {
  lowrank *L = pb->impl;
  gram(L, x, L->S);
  for (size_t s = 0; s < nb; s++) res[s] = inner(L, idx[s], L->S) - (double)L->y[idx[s]];
  return NCO_OK;
}

/* J u: d⟨X_i, ΘΘᵀ⟩[u] = ⟨X_i, uΘᵀ + Θuᵀ⟩. */
static int lr_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                  float *ju) {
  lowrank *L = pb->impl;
  size_t d = L->d, r = L->r;
  double *S = L->S;
  for (size_t a = 0; a < d; a++)
    for (size_t b = a; b < d; b++) {
      double s = 0;
      for (size_t k = 0; k < r; k++)
        s += (double)u[a * r + k] * x[b * r + k] + (double)x[a * r + k] * u[b * r + k];
      S[a * d + b] = S[b * d + a] = s;
    }
  for (size_t s = 0; s < nb; s++) ju[s] = (float)inner(L, idx[s], S);
  return NCO_OK;
}

/* A ← Σ_s v_s X_{idx[s]} (d×d, double). */
static void weighted_sum(const lowrank *L, const size_t *idx, size_t nb, const float *v, double *A) {
  size_t dd = L->d * L->d;
  memset(A, 0, dd * sizeof *A);
  for (size_t s = 0; s < nb; s++) {
    const float *Xi = L->X + idx[s] * dd;
    double w = v[s];
    if (w == 0) continue;
    for (size_t k = 0; k < dd; k++) A[k] += w * Xi[k];
  }
}

/* out ← (A + Aᵀ)·z for z (d, r). */
static void sym_apply(const lowrank *L, const double *A, const float *z, float *out) {
  size_t d = L->d, r = L->r;
  for (size_t a = 0; a < d; a++)
    for (size_t k = 0; k < r; k++) {
      double s = 0;
      for (size_t b = 0; b < d; b++) s += (A[a * d + b] + A[b * d + a]) * z[b * r + k];
      out[a * r + k] = (float)s;
    }
}

/* Jᵀv = Σ_i v_i ∇g_i, ∇_Θ⟨X_i, ΘΘᵀ⟩ = (X_i + X_iᵀ)Θ, so Jᵀv = (A + Aᵀ)Θ
 * with A = Σ_i v_i X_i. */
static int lr_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *jtv) {
  lowrank *L = pb->impl;
  weighted_sum(L, idx, nb, v, L->S);
  sym_apply(L, L->S, x, jtv);
  return NCO_OK;
}

/* ∇²g_i·u = (X_i + X_iᵀ)u (constant in Θ): Σ_i w_i ∇²g_i u = (A + Aᵀ)u. */
static int lr_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                   const float *u, float *out) {
  (void)x;
  lowrank *L = pb->impl;
  weighted_sum(L, idx, nb, w, L->S);
  sym_apply(L, L->S, u, out);
  return NCO_OK;
}

/* Oymak Theorem 4.2: Θ₀ with singular values in [a, 2a],
 * a = √‖y‖₂ / (r·n)^{1/4}. Θ₀ = s·G with G (d, r) i.i.d. N(0,1) and s
 * the geometric middle of the admissible range [a/σ_min(G), 2a/σ_max(G)],
 * s = √2·a/√(σ_min σ_max); then every singular value of Θ₀ lies in [a, 2a]
 * whenever σ_max(G)/σ_min(G) ≤ 2 (that ratio is ≈ (√d + √r)/(√d − √r),
 * below 2 for d comfortably above 9r), and otherwise the range is missed
 * by the least factor possible for a multiple of G (√(σ_max σ_min) of Θ₀
 * is always √2·a). The singular values come from the
 * eigenvalues of GᵀG (r×r, Jacobi, in the d×d scratch). y = 0 gives Θ₀ = 0,
 * a global minimum. */
static int lr_init(nco_problem *pb, nco_rng *rng, float *x) {
  lowrank *L = pb->impl;
  size_t d = L->d, r = L->r;
  nco_rng_normal_fill(rng, x, d * r, 0.0, 1.0);
  double *G = L->S;
  for (size_t p = 0; p < r; p++)
    for (size_t q = p; q < r; q++) {
      double s = 0;
      for (size_t a = 0; a < d; a++) s += (double)x[a * r + p] * x[a * r + q];
      G[p * r + q] = G[q * r + p] = s;
    }
  jacobi_eigvals(G, r);
  double emin = INFINITY, emax = 0;
  for (size_t k = 0; k < r; k++) {
    double e = G[k * r + k];
    if (e < emin) emin = e;
    if (e > emax) emax = e;
  }
  double a = sqrt(L->ynorm) / pow((double)r * (double)L->n, 0.25);
  double smax = sqrt(emax > 0 ? emax : 0), smin = sqrt(emin > 0 ? emin : 0);
  double scale;
  if (smin > 0)
    scale = sqrt(2.0) * a / sqrt(smin * smax);
  else if (smax > 0)
    scale = 1.5 * a / smax; /* rank-deficient draw: centre the top value */
  else
    scale = 0;
  for (size_t k = 0; k < d * r; k++) x[k] = (float)(scale * x[k]);
  return NCO_OK;
}

static void lr_destroy(void *impl) {
  lowrank *L = impl;
  if (!L) return;
  free(L->X);
  free(L->y);
  free(L->S);
  free(L);
}

static const nco_problem_type lowrank_type = {
    .name = "lowrank",
    .eval = NULL,
    .residual = NULL,
    .residual64 = lr_residual64,
    .jvp = lr_jvp,
    .vjp = lr_vjp,
    .rhvp = lr_rhvp,
    .hvp = NULL,
    .init = lr_init,
    .destroy = lr_destroy,
};

int nco_lowrank_create(const nco_array *X, const nco_array *y, size_t r, nco_problem **out) {
  int st;
  if (!out) return nco_error(NCO_ERR_INVALID, "lowrank: output pointer is NULL");
  *out = NULL;
  if (!X || !y) return nco_error(NCO_ERR_INVALID, "lowrank: features or targets array is NULL");
  if ((st = nco_array_expect(X, "features", 3, NULL))) return st;
  size_t n = X->shape[0], d = X->shape[1];
  size_t want_x[3] = {(size_t)-1, d, d};
  if ((st = nco_array_expect(X, "features (n matrices X_i of shape (d, d))", 3, want_x))) return st;
  /* targets (n,) or (n, 1), as for the other regression problems */
  if (!((y->ndim == 1 && y->shape[0] == n) || (y->ndim == 2 && y->shape[0] == n && y->shape[1] == 1))) {
    char sb[256];
    return nco_error(
        NCO_ERR_SHAPE, "%s: targets has shape %s, expected (%zu,) or (%zu, 1) to match features %s",
        nco_zoo_origin(y), nco_array_shape_str(y, sb, sizeof sb), n, n, nco_zoo_origin(X));
  }
  if (n == 0 || d == 0)
    return nco_error(NCO_ERR_SHAPE, "%s: features has shape (%zu, %zu, %zu): no samples or empty X_i",
                     nco_zoo_origin(X), n, d, d);
  if (r == 0)
    return nco_error(NCO_ERR_RANGE, "%s: lowrank: rank 0 must be at least 1", nco_zoo_origin(X));
  if (r > d)
    return nco_error(NCO_ERR_RANGE, "%s: lowrank: rank %zu exceeds the dimension %zu of the features",
                     nco_zoo_origin(X), r, d);
  size_t dd, ndd, dim;
  if (nco_mul_size(d, d, &dd) || nco_mul_size(n, dd, &ndd) || nco_mul_size(d, r, &dim))
    return nco_error(NCO_ERR_OVERFLOW, "%s: lowrank: sizes overflow (n=%zu, d=%zu, r=%zu)",
                     nco_zoo_origin(X), n, d, r);
  if ((st = validate_values(X, "features"))) return st;
  if ((st = validate_values(y, "targets"))) return st;

  lowrank *L = nco_calloc(1, sizeof *L);
  if (!L) return nco_error(NCO_ERR_NOMEM, "lowrank: out of memory");
  L->n = n, L->d = d, L->r = r;
  L->X = nco_calloc(ndd, sizeof *L->X);
  L->y = nco_calloc(n, sizeof *L->y);
  L->S = nco_calloc(dd, sizeof *L->S);
  if (!L->X || !L->y || !L->S) {
    lr_destroy(L);
    return nco_error(NCO_ERR_NOMEM, "%s: lowrank: out of memory for %zu×%zu×%zu features",
                     nco_zoo_origin(X), n, d, d);
  }
  copy_f32(X, L->X);
  copy_f32(y, L->y);
  L->ynorm = nco_nrm2(n, L->y);
  nco_problem *pb;
  if ((st = nco_problem_alloc(&lowrank_type, L, dim, n, 1, 0, &pb))) return st;
  snprintf(pb->label, sizeof pb->label, "lowrank n=%zu d=%zu r=%zu", n, d, r);
  *out = pb;
  return NCO_OK;
}

/* X_i i.i.d. N(0,1) entries (drawn first, sample by sample, row-major),
 * then Θ* (d, r) with N(0, 1/d) entries, then one N(0,1) deviate z_i per
 * sample (always drawn, so the noise level does not shift the stream):
 * y_i = ⟨X_i, Θ*Θ*ᵀ⟩ + noise·z_i, computed in double. */
int nco_lowrank_generate(size_t n, size_t d, size_t r, double noise, nco_rng *rng, nco_array *X,
                         nco_array *y) {
  int st;
  if (!rng || !X || !y) return nco_error(NCO_ERR_INVALID, "lowrank_generate: NULL argument");
  memset(X, 0, sizeof *X);
  memset(y, 0, sizeof *y);
  if (n == 0 || d == 0)
    return nco_error(NCO_ERR_RANGE, "lowrank_generate: n = %zu and d = %zu must be at least 1", n, d);
  if (r == 0) return nco_error(NCO_ERR_RANGE, "lowrank_generate: rank 0 must be at least 1");
  if (r > d)
    return nco_error(NCO_ERR_RANGE, "lowrank_generate: rank %zu exceeds the dimension %zu", r, d);
  if (!(noise >= 0) || !isfinite(noise))
    return nco_error(NCO_ERR_RANGE, "lowrank_generate: noise = %g must be finite and >= 0", noise);
  size_t dd, dr;
  if (nco_mul_size(d, d, &dd) || nco_mul_size(d, r, &dr))
    return nco_error(NCO_ERR_OVERFLOW, "lowrank_generate: sizes overflow (d=%zu, r=%zu)", d, r);
  size_t shx[3] = {n, d, d}, shy[1] = {n};
  if ((st = nco_array_alloc(X, NCO_DTYPE_F32, 3, shx, "synthetic:lowrank"))) return st;
  if ((st = nco_array_alloc(y, NCO_DTYPE_F32, 1, shy, "synthetic:lowrank"))) {
    nco_array_free(X);
    return st;
  }
  float *th = nco_calloc(dr, sizeof *th);
  double *P = nco_calloc(dd, sizeof *P);
  if (!th || !P) {
    free(th);
    free(P);
    nco_array_free(X);
    nco_array_free(y);
    return nco_error(NCO_ERR_NOMEM, "lowrank_generate: out of memory (d=%zu, r=%zu)", d, r);
  }
  float *Xd = X->data, *yd = y->data;
  nco_rng_normal_fill(rng, Xd, X->size, 0.0, 1.0);
  nco_rng_normal_fill(rng, th, dr, 0.0, 1.0 / sqrt((double)d));
  lowrank tmp = {.n = n, .d = d, .r = r, .X = Xd};
  gram(&tmp, th, P);
  for (size_t i = 0; i < n; i++) {
    double z = nco_rng_normal(rng);
    yd[i] = (float)(inner(&tmp, i, P) + noise * z);
  }
  free(th);
  free(P);
  return NCO_OK;
}
