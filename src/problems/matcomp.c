/* Matrix completion by factorisation (Ma 2021, §4.2, eq. 4.5, rank r).
 *
 * Symmetric ("matcomp"): f(X) = ½‖P_Ω(XXᵀ − M)‖²_F, X (n, r) row-major;
 * every pair {i, j} is observed with probability p (both (i, j) and (j, i)
 * then enter Ω, Ma footnote 6; the diagonal (i, i) once).
 * Asymmetric ("matcomp_asym"): f(U, V) = ½Σ_{(i,j)∈Ω}(⟨u_i, v_j⟩ − M_ij)²,
 * parameters [U (n1, r); V (n2, r)].
 *
 * Both are least squares with one residual per observed (ordered) entry,
 *     g_s = ⟨x_a, x_b⟩ − M_ij,
 * where a, b are parameter rows: (a, b) = (i, j) for the symmetric problem
 * and (i, n1 + j) for the asymmetric one. One implementation serves both;
 * a batch of nb entries costs O(nb·r) (plus writing the dim-sized VJP). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/problems.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "problems/common.h"

typedef struct matcomp {
  size_t rows, r, k;  /* parameter rows (n, or n1 + n2), rank, observed entries */
  size_t *a, *b;      /* (k) parameter rows of each observed entry */
  float *val;         /* (k) observed values M_ij */
  double *acc;        /* (rows, r) accumulator */
  double sigma;       /* standard deviation of the default init */
} matcomp;

/* ---- the problem ------------------------------------------------------- */

/* Ma eq. (4.5): g_s = ⟨x_a, x_b⟩ − M_ij for the observed entry s. */
static int mc_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                         double *res) {
  matcomp *C = pb->impl;
  size_t r = C->r;
  for (size_t s = 0; s < nb; s++) {
    size_t e = idx[s];
    res[s] = nco_zoo_dot_seq(x + C->a[e] * r, x + C->b[e] * r, r) - (double)C->val[e];
  }
  return NCO_OK;
}

/* J u: ⟨u_a, x_b⟩ + ⟨x_a, u_b⟩. */
static int mc_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                  float *ju) {
  matcomp *C = pb->impl;
  size_t r = C->r;
  for (size_t s = 0; s < nb; s++) {
    size_t e = idx[s], a = C->a[e] * r, b = C->b[e] * r;
    ju[s] = (float)(nco_zoo_dot_seq(u + a, x + b, r) + nco_zoo_dot_seq(x + a, u + b, r));
  }
  return NCO_OK;
}

/* Σ_s w_s (z_b on row a + z_a on row b) into out: with z = x it is Jᵀw
 * (∇g_s = x_b on row a, x_a on row b; 2x_a when a = b), with z = u it is
 * Σ w_s ∇²g_s·u (g_s is a bilinear form with constant Hessian). */
static void scatter(matcomp *C, const size_t *idx, size_t nb, const float *w, const float *z,
                    float *out) {
  size_t r = C->r, dim = C->rows * r;
  double *acc = C->acc;
  memset(acc, 0, dim * sizeof *acc);
  for (size_t s = 0; s < nb; s++) {
    size_t e = idx[s], a = C->a[e] * r, b = C->b[e] * r;
    double ws = w[s];
    if (ws == 0) continue;
    for (size_t k = 0; k < r; k++) {
      acc[a + k] += ws * z[b + k];
      acc[b + k] += ws * z[a + k];
    }
  }
  for (size_t k = 0; k < dim; k++) out[k] = (float)acc[k];
}

static int mc_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                  float *jtv) {
  scatter(pb->impl, idx, nb, v, x, jtv);
  return NCO_OK;
}

/* ∇²g_s·u puts u_b on row a and u_a on row b (Ma eq. 4.14 is its
 * quadratic form, summed over Ω). */
static int mc_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                   const float *u, float *out) {
  (void)x;
  scatter(pb->impl, idx, nb, w, u, out);
  return NCO_OK;
}

/* Small random start (Ma §4.2 and Ma et al. 2018: from a random, hence
 * incoherent, point): i.i.d. N(0, σ²) entries with σ a tenth of the entry
 * size of a balanced factor of M, σ = 0.1·√(F/(√(n1·n2)·√r)), where
 * F = ‖P_Ω M‖_F·√(n1·n2/|Ω|) estimates ‖M‖_F from the observed entries
 * (n1 = n2 = n for the symmetric problem; see pca.c for the balance
 * argument). σ = 0.1/√max(n1, n2) when every observed value is 0. */
static int mc_init(nco_problem *pb, nco_rng *rng, float *x) {
  matcomp *C = pb->impl;
  nco_rng_normal_fill(rng, x, C->rows * C->r, 0.0, C->sigma);
  return NCO_OK;
}

static void mc_destroy(void *impl) {
  matcomp *C = impl;
  if (!C) return;
  free(C->a);
  free(C->b);
  free(C->val);
  free(C->acc);
  free(C);
}

static const nco_problem_type matcomp_type = {
    .name = "matcomp",
    .residual64 = mc_residual64,
    .jvp = mc_jvp,
    .vjp = mc_vjp,
    .rhvp = mc_rhvp,
    .init = mc_init,
    .destroy = mc_destroy,
};

static const nco_problem_type matcomp_asym_type = {
    .name = "matcomp_asym",
    .residual64 = mc_residual64,
    .jvp = mc_jvp,
    .vjp = mc_vjp,
    .rhvp = mc_rhvp,
    .init = mc_init,
    .destroy = mc_destroy,
};

/* Allocates a matcomp with k entries over `rows` parameter rows of rank r. */
static int mc_alloc(size_t rows, size_t r, size_t k, const char *who, matcomp **out) {
  size_t dim;
  *out = NULL;
  if (nco_mul_size(rows, r, &dim))
    return nco_error(NCO_ERR_OVERFLOW, "%s: sizes overflow (%zu rows, rank %zu)", who, rows, r);
  matcomp *C = nco_calloc(1, sizeof *C);
  if (!C) return nco_error(NCO_ERR_NOMEM, "%s: out of memory", who);
  C->rows = rows, C->r = r, C->k = k;
  C->a = nco_calloc(k, sizeof *C->a);
  C->b = nco_calloc(k, sizeof *C->b);
  C->val = nco_calloc(k, sizeof *C->val);
  C->acc = nco_calloc(dim, sizeof *C->acc);
  if (!C->a || !C->b || !C->val || !C->acc) {
    mc_destroy(C);
    return nco_error(NCO_ERR_NOMEM, "%s: out of memory for %zu observed entries", who, k);
  }
  *out = C;
  return NCO_OK;
}

static void set_sigma(matcomp *C, double n1, double n2) {
  double ss = 0;
  for (size_t e = 0; e < C->k; e++) ss += (double)C->val[e] * C->val[e];
  double F = sqrt(ss * n1 * n2 / (double)C->k);
  C->sigma = F > 0 ? 0.1 * sqrt(F / (sqrt(n1 * n2) * sqrt((double)C->r)))
                   : 0.1 / sqrt(n1 > n2 ? n1 : n2);
}

/* Ω: the pairs i ≤ j in row-major order of the upper triangle, one
 * uniform draw u each, observed iff u < p; an observed off-diagonal pair
 * contributes the samples (i, j) then (j, i). The count is taken first on
 * a copy of rng, so rng advances by exactly n(n+1)/2 uniforms. */
int nco_matcomp_create(const nco_array *M, size_t r, double p, nco_rng *rng, nco_problem **out) {
  int st;
  size_t n = 0;
  if (!out) return nco_error(NCO_ERR_INVALID, "matcomp: output pointer is NULL");
  *out = NULL;
  if (!M || !rng) return nco_error(NCO_ERR_INVALID, "matcomp: matrix array or rng is NULL");
  if ((st = nco_zoo_check_sym_matrix(M, "matcomp", &n))) return st;
  if (r == 0)
    return nco_error(NCO_ERR_RANGE, "%s: matcomp: rank 0 must be at least 1", nco_zoo_origin(M));
  if (r > n)
    return nco_error(NCO_ERR_RANGE, "%s: matcomp: rank %zu exceeds the dimension %zu of the matrix",
                     nco_zoo_origin(M), r, n);
  if (!(p > 0 && p <= 1))
    return nco_error(NCO_ERR_RANGE, "%s: matcomp: sampling rate p = %g is not in (0, 1]",
                     nco_zoo_origin(M), p);
  size_t nn;
  if (nco_mul_size(n, n, &nn))
    return nco_error(NCO_ERR_OVERFLOW, "%s: matcomp: n = %zu overflows", nco_zoo_origin(M), n);
  nco_rng probe = *rng;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++)
      if (nco_rng_uniform(&probe) < p) k += i == j ? 1 : 2;
  if (k == 0)
    return nco_error(NCO_ERR_RANGE,
                     "%s: matcomp: no entries observed (n = %zu, p = %g): the observation set is empty",
                     nco_zoo_origin(M), n, p);
  matcomp *C;
  if ((st = mc_alloc(n, r, k, "matcomp", &C))) return st;
  size_t e = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++) {
      if (!(nco_rng_uniform(rng) < p)) continue;
      float v = (float)nco_zoo_elem(M, i * n + j);
      C->a[e] = i, C->b[e] = j, C->val[e] = v, e++;
      if (i != j) C->a[e] = j, C->b[e] = i, C->val[e] = (float)nco_zoo_elem(M, j * n + i), e++;
    }
  set_sigma(C, (double)n, (double)n);
  nco_problem *pb;
  if ((st = nco_problem_alloc(&matcomp_type, C, n * r, k, 1, 0, &pb))) return st;
  snprintf(pb->label, sizeof pb->label, "matcomp n=%zu r=%zu p=%g |Omega|=%zu", n, r, p, k);
  *out = pb;
  return NCO_OK;
}

/* U ~ N(0, 1/n) (n, r), so each column has expected squared norm 1 and the
 * r nonzero eigenvalues of M = UUᵀ are O(1); M in double, rounded once,
 * exactly symmetric. */
int nco_matcomp_generate(size_t n, size_t r, nco_rng *rng, nco_array *M) {
  int st;
  if (!rng || !M) return nco_error(NCO_ERR_INVALID, "matcomp_generate: NULL argument");
  memset(M, 0, sizeof *M);
  if (n == 0) return nco_error(NCO_ERR_RANGE, "matcomp_generate: n = 0 must be at least 1");
  if (r == 0) return nco_error(NCO_ERR_RANGE, "matcomp_generate: rank 0 must be at least 1");
  if (r > n) return nco_error(NCO_ERR_RANGE, "matcomp_generate: rank %zu exceeds the dimension %zu", r, n);
  size_t nr;
  if (nco_mul_size(n, r, &nr))
    return nco_error(NCO_ERR_OVERFLOW, "matcomp_generate: sizes overflow (n=%zu, r=%zu)", n, r);
  size_t sh[2] = {n, n};
  if ((st = nco_array_alloc(M, NCO_DTYPE_F32, 2, sh, "synthetic:matcomp"))) return st;
  float *U = nco_calloc(nr, sizeof *U);
  if (!U) {
    nco_array_free(M);
    return nco_error(NCO_ERR_NOMEM, "matcomp_generate: out of memory (n=%zu, r=%zu)", n, r);
  }
  nco_rng_normal_fill(rng, U, nr, 0.0, 1.0 / sqrt((double)n));
  float *m = M->data;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++)
      m[i * n + j] = m[j * n + i] = (float)nco_zoo_dot_seq(U + i * r, U + j * r, r);
  free(U);
  return NCO_OK;
}

/* entries (k, 3): (i, j, value) rows; i, j integer-valued in range, value
 * finite. Any numeric dtype (indices of a float32 array are exact below
 * 2²⁴). */
int nco_matcomp_asym_create(const nco_array *entries, size_t n1, size_t n2, size_t r,
                            nco_problem **out) {
  int st;
  if (!out) return nco_error(NCO_ERR_INVALID, "matcomp_asym: output pointer is NULL");
  *out = NULL;
  if (!entries) return nco_error(NCO_ERR_INVALID, "matcomp_asym: entries array is NULL");
  size_t want[2] = {(size_t)-1, 3};
  if ((st = nco_array_expect(entries, "entries (rows i, j, value)", 2, want))) return st;
  size_t k = entries->shape[0];
  const char *org = nco_zoo_origin(entries);
  if (k == 0)
    return nco_error(NCO_ERR_RANGE, "%s: entries: no observed entries (shape (0, 3))", org);
  if (n1 == 0 || n2 == 0)
    return nco_error(NCO_ERR_RANGE, "%s: matcomp_asym: matrix size %zu×%zu must be at least 1×1",
                     org, n1, n2);
  size_t nmin = n1 < n2 ? n1 : n2;
  if (r == 0) return nco_error(NCO_ERR_RANGE, "%s: matcomp_asym: rank 0 must be at least 1", org);
  if (r > nmin)
    return nco_error(NCO_ERR_RANGE,
                     "%s: matcomp_asym: rank %zu exceeds the dimension %zu (matrix %zu×%zu)", org, r,
                     nmin, n1, n2);
  size_t rows;
  if (nco_add_size(n1, n2, &rows))
    return nco_error(NCO_ERR_OVERFLOW, "%s: matcomp_asym: n1 + n2 overflows", org);
  if ((st = nco_array_check_finite(entries, "entries"))) return st;
  static const char *col[2] = {"row index i", "column index j"};
  for (size_t e = 0; e < k; e++) {
    for (int c = 0; c < 2; c++) {
      double v = nco_zoo_elem(entries, e * 3 + (size_t)c);
      double lim = c == 0 ? (double)n1 : (double)n2;
      if (v != floor(v))
        return nco_error(NCO_ERR_INVALID, "%s: entries row %zu: %s = %.9g is not an integer", org, e,
                         col[c], v);
      if (!(v >= 0 && v < lim))
        return nco_error(NCO_ERR_RANGE, "%s: entries row %zu: %s = %.0f is out of range [0, %zu)", org,
                         e, col[c], v, c == 0 ? n1 : n2);
    }
    double v = nco_zoo_elem(entries, e * 3 + 2);
    if (!(fabs(v) <= FLT_MAX))
      return nco_error(NCO_ERR_RANGE, "%s: entries row %zu: value %.9g overflows float32", org, e, v);
  }
  matcomp *C;
  if ((st = mc_alloc(rows, r, k, "matcomp_asym", &C))) return st;
  for (size_t e = 0; e < k; e++) {
    C->a[e] = (size_t)nco_zoo_elem(entries, e * 3);
    C->b[e] = n1 + (size_t)nco_zoo_elem(entries, e * 3 + 1);
    C->val[e] = (float)nco_zoo_elem(entries, e * 3 + 2);
  }
  set_sigma(C, (double)n1, (double)n2);
  nco_problem *pb;
  if ((st = nco_problem_alloc(&matcomp_asym_type, C, rows * r, k, 1, 0, &pb))) return st;
  snprintf(pb->label, sizeof pb->label, "matcomp_asym n1=%zu n2=%zu r=%zu k=%zu", n1, n2, r, k);
  *out = pb;
  return NCO_OK;
}

/* Draws: U* (n1, r) then V* (n2, r), N(0,1) row-major; then for each
 * (i, j) in row-major order one uniform u (observed iff u < p) and, if
 * observed, one N(0,1) deviate z (always, whatever the noise):
 * value = ⟨u*_i, v*_j⟩ + noise·z. The count is taken first on a copy of
 * rng. NCO_ERR_RANGE if nothing is observed. */
int nco_matcomp_asym_generate(size_t n1, size_t n2, size_t r, double p, double noise,
                              nco_rng *rng, nco_array *entries) {
  int st;
  if (!rng || !entries) return nco_error(NCO_ERR_INVALID, "matcomp_asym_generate: NULL argument");
  memset(entries, 0, sizeof *entries);
  if (n1 == 0 || n2 == 0)
    return nco_error(NCO_ERR_RANGE, "matcomp_asym_generate: matrix size %zu×%zu must be at least 1×1",
                     n1, n2);
  if (r == 0) return nco_error(NCO_ERR_RANGE, "matcomp_asym_generate: rank 0 must be at least 1");
  size_t nmin = n1 < n2 ? n1 : n2;
  if (r > nmin)
    return nco_error(NCO_ERR_RANGE, "matcomp_asym_generate: rank %zu exceeds the dimension %zu", r,
                     nmin);
  if (!(p > 0 && p <= 1))
    return nco_error(NCO_ERR_RANGE, "matcomp_asym_generate: sampling rate p = %g is not in (0, 1]", p);
  /* the (k, 3) float32 array holds the indices exactly only below 2^24 */
  if (n1 > ((size_t)1 << 24) || n2 > ((size_t)1 << 24))
    return nco_error(NCO_ERR_RANGE,
                     "matcomp_asym_generate: %zu×%zu: indices above 2^24 are not exact in float32",
                     n1, n2);
  if (!(noise >= 0) || !isfinite(noise))
    return nco_error(NCO_ERR_RANGE, "matcomp_asym_generate: noise = %g must be finite and >= 0", noise);
  size_t s1, s2, cells;
  if (nco_mul_size(n1, r, &s1) || nco_mul_size(n2, r, &s2) || nco_mul_size(n1, n2, &cells))
    return nco_error(NCO_ERR_OVERFLOW, "matcomp_asym_generate: sizes overflow");
  float *U = nco_calloc(s1, sizeof *U), *V = nco_calloc(s2, sizeof *V);
  if (!U || !V) {
    free(U), free(V);
    return nco_error(NCO_ERR_NOMEM, "matcomp_asym_generate: out of memory");
  }
  nco_rng_normal_fill(rng, U, s1, 0.0, 1.0);
  nco_rng_normal_fill(rng, V, s2, 0.0, 1.0);
  nco_rng probe = *rng;
  size_t k = 0;
  for (size_t c = 0; c < cells; c++)
    if (nco_rng_uniform(&probe) < p) {
      (void)nco_rng_normal(&probe);
      k++;
    }
  if (k == 0) {
    free(U), free(V);
    return nco_error(NCO_ERR_RANGE, "matcomp_asym_generate: no entries observed (%zu×%zu, p = %g)",
                     n1, n2, p);
  }
  size_t sh[2] = {k, 3};
  if ((st = nco_array_alloc(entries, NCO_DTYPE_F32, 2, sh, "synthetic:matcomp_asym"))) {
    free(U), free(V);
    return st;
  }
  float *d = entries->data;
  size_t e = 0;
  for (size_t i = 0; i < n1; i++)
    for (size_t j = 0; j < n2; j++) {
      if (!(nco_rng_uniform(rng) < p)) continue;
      double z = nco_rng_normal(rng);
      d[3 * e] = (float)i;
      d[3 * e + 1] = (float)j;
      d[3 * e + 2] = (float)(nco_zoo_dot_seq(U + i * r, V + j * r, r) + noise * z);
      e++;
    }
  free(U), free(V);
  return NCO_OK;
}
