/* PCA as matrix factorisation (Ma 2021, §4.1, eq. 4.1, rank r):
 *     f(X) = ½‖XXᵀ − M‖²_F,   X (n, r) row-major, M (n, n) symmetric.
 * Samples are the rows of M: sample i has the n residuals
 *     g_{ij}(X) = ⟨x_i, x_j⟩ − M_ij,   j = 0..n−1,
 * so m = n and the full batch under SUM is exactly Ma's objective. A row
 * costs n·r, a batch O(nb·n·r); nothing of size n² is formed.
 *
 * Derivatives (general r; Ma gives r = 1):
 *     ∇f(X)      = 2(XXᵀ − M)X
 *     ∇²f(X)[U]  = 2(UXᵀ + XUᵀ)X + 2(XXᵀ − M)U,
 * for r = 1: ∇²f(x) = 2(2xxᵀ − M + ‖x‖²I). Ma's eqs. (4.2)–(4.3) print
 * these without the factor 2 (they are the derivatives of ¼‖M − xxᵀ‖²);
 * the stationary points and the sign pattern of the Hessian, hence the
 * strict-saddle argument, are the same. Eq. (4.13) has the factor right. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/problems.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "problems/common.h"

typedef struct pca {
  size_t n, r;
  float *M;      /* (n, n) target matrix */
  double *acc;   /* (n, r) accumulator for VJP / second-order term */
  double sigma;  /* standard deviation of the default init */
} pca;

/* ---- the problem ------------------------------------------------------- */

/* Ma eq. (4.1), row i: g_{ij} = (XXᵀ − M)_{ij}. */
static int pca_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                          double *res) {
  pca *P = pb->impl;
  size_t n = P->n, r = P->r;
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    const float *xi = x + i * r, *Mi = P->M + i * n;
    double *ri = res + s * n;
    for (size_t j = 0; j < n; j++) ri[j] = nco_zoo_dot_seq(xi, x + j * r, r) - (double)Mi[j];
  }
  return NCO_OK;
}

/* (J u)_{ij} = ⟨u_i, x_j⟩ + ⟨x_i, u_j⟩ (the differential of XXᵀ is UXᵀ + XUᵀ). */
static int pca_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                   float *ju) {
  pca *P = pb->impl;
  size_t n = P->n, r = P->r;
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    const float *xi = x + i * r, *ui = u + i * r;
    for (size_t j = 0; j < n; j++)
      ju[s * n + j] =
          (float)(nco_zoo_dot_seq(ui, x + j * r, r) + nco_zoo_dot_seq(xi, u + j * r, r));
  }
  return NCO_OK;
}

/* Σ_{(i,j)} w_ij (e_i zⱼᵀ + e_j z_iᵀ) into out (n, r): with z = X this is
 * Jᵀw (∇g_ij puts x_j on row i and x_i on row j); with z = U it is
 * Σ w_ij ∇²g_ij·U, because g_ij is quadratic with constant Hessian. */
static void scatter(pca *P, const size_t *idx, size_t nb, const float *w, const float *z,
                    float *out) {
  size_t n = P->n, r = P->r;
  double *acc = P->acc;
  memset(acc, 0, n * r * sizeof *acc);
  for (size_t s = 0; s < nb; s++) {
    size_t i = idx[s];
    const float *zi = z + i * r, *ws = w + s * n;
    double *ai = acc + i * r;
    for (size_t j = 0; j < n; j++) {
      double wij = ws[j];
      if (wij == 0) continue;
      const float *zj = z + j * r;
      double *aj = acc + j * r;
      for (size_t k = 0; k < r; k++) {
        ai[k] += wij * zj[k];
        aj[k] += wij * zi[k];
      }
    }
  }
  for (size_t k = 0; k < n * r; k++) out[k] = (float)acc[k];
}

static int pca_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                   float *jtv) {
  scatter(pb->impl, idx, nb, v, x, jtv);
  return NCO_OK;
}

/* ∇²g_ij·U puts u_j on row i and u_i on row j (Ma §4.1; eq. 4.13 is its
 * quadratic form). */
static int pca_rhvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
                    const float *u, float *out) {
  (void)x;
  scatter(pb->impl, idx, nb, w, u, out);
  return NCO_OK;
}

/* Small random start (Ma §4.1: local search succeeds from a random point,
 * the saddle at 0 being strict): i.i.d. N(0, σ²) entries with
 * σ = 0.1·√(‖M‖_F / (n√r)), a tenth of the entry size of a balanced factor
 * X with XXᵀ = M (if M has r equal eigenvalues λ, ‖M‖_F = √r·λ and
 * ‖X‖²_F = rλ, so entries of X are ≈ √(‖M‖_F/(n√r))). σ = 0.1/√n if M = 0. */
static int pca_init(nco_problem *pb, nco_rng *rng, float *x) {
  pca *P = pb->impl;
  nco_rng_normal_fill(rng, x, P->n * P->r, 0.0, P->sigma);
  return NCO_OK;
}

static void pca_destroy(void *impl) {
  pca *P = impl;
  if (!P) return;
  free(P->M);
  free(P->acc);
  free(P);
}

static const nco_problem_type pca_type = {
    .name = "pca",
    .residual64 = pca_residual64,
    .jvp = pca_jvp,
    .vjp = pca_vjp,
    .rhvp = pca_rhvp,
    .init = pca_init,
    .destroy = pca_destroy,
};

int nco_pca_create(const nco_array *M, size_t r, nco_problem **out) {
  int st;
  size_t n = 0, nn, dim;
  if (!out) return nco_error(NCO_ERR_INVALID, "pca: output pointer is NULL");
  *out = NULL;
  if (!M) return nco_error(NCO_ERR_INVALID, "pca: matrix array is NULL");
  if ((st = nco_zoo_check_sym_matrix(M, "pca", &n))) return st;
  if (r == 0)
    return nco_error(NCO_ERR_RANGE, "%s: pca: rank 0 must be at least 1", nco_zoo_origin(M));
  if (r > n)
    return nco_error(NCO_ERR_RANGE, "%s: pca: rank %zu exceeds the dimension %zu of the matrix",
                     nco_zoo_origin(M), r, n);
  if (nco_mul_size(n, n, &nn) || nco_mul_size(n, r, &dim))
    return nco_error(NCO_ERR_OVERFLOW, "%s: pca: sizes overflow (n=%zu, r=%zu)", nco_zoo_origin(M),
                     n, r);
  pca *P = nco_calloc(1, sizeof *P);
  if (!P) return nco_error(NCO_ERR_NOMEM, "pca: out of memory");
  P->n = n, P->r = r;
  P->M = nco_calloc(nn, sizeof *P->M);
  P->acc = nco_calloc(dim, sizeof *P->acc);
  if (!P->M || !P->acc) {
    pca_destroy(P);
    return nco_error(NCO_ERR_NOMEM, "%s: pca: out of memory for a %zu×%zu matrix",
                     nco_zoo_origin(M), n, n);
  }
  double fro = 0;
  for (size_t k = 0; k < nn; k++) {
    P->M[k] = (float)nco_zoo_elem(M, k);
    fro += (double)P->M[k] * P->M[k];
  }
  fro = sqrt(fro);
  P->sigma = fro > 0 ? 0.1 * sqrt(fro / ((double)n * sqrt((double)r))) : 0.1 / sqrt((double)n);
  nco_problem *pb;
  if ((st = nco_problem_alloc(&pca_type, P, dim, n, n, 0, &pb))) return st;
  snprintf(pb->label, sizeof pb->label, "pca n=%zu r=%zu", n, r);
  *out = pb;
  return NCO_OK;
}

/* Q (n, k) with orthonormal columns from the Householder QR of G (n, k),
 * row-major, all in double (Golub & Van Loan, Alg. 5.2.1), columns signed
 * so that diag(R) > 0 (then Q is Haar-distributed for Gaussian G). G is
 * overwritten by the Householder vectors v_j (column j, rows j..n−1);
 * rdiag[j] = R_jj. */
static void householder_q(double *G, size_t n, size_t k, double *Q, double *rdiag) {
  for (size_t j = 0; j < k; j++) {
    double s = 0;
    for (size_t i = j; i < n; i++) s += G[i * k + j] * G[i * k + j];
    double nx = sqrt(s), x0 = G[j * k + j];
    double alpha = x0 >= 0 ? -nx : nx; /* R_jj */
    rdiag[j] = alpha;
    /* v = x − αe₁ stored in column j (rows j..n−1); ‖v‖² = 2(s − αx₀) */
    G[j * k + j] = x0 - alpha;
    double vv = 2 * (s - alpha * x0);
    if (!(vv > 0)) { /* x = 0: no reflection (probability zero) */
      G[j * k + j] = 0;
      rdiag[j] = 0;
      continue;
    }
    for (size_t c = j + 1; c < k; c++) { /* A[j:, c] −= 2v(vᵀA[j:, c])/‖v‖² */
      double t = 0;
      for (size_t i = j; i < n; i++) t += G[i * k + j] * G[i * k + c];
      t *= 2 / vv;
      for (size_t i = j; i < n; i++) G[i * k + c] -= t * G[i * k + j];
    }
  }
  /* Q = H₀H₁…H_{k−1}[I; 0]: apply the reflectors in reverse order. */
  memset(Q, 0, n * k * sizeof *Q);
  for (size_t j = 0; j < k; j++) Q[j * k + j] = 1;
  for (size_t jj = k; jj-- > 0;) {
    double vv = 0;
    for (size_t i = jj; i < n; i++) vv += G[i * k + jj] * G[i * k + jj];
    if (!(vv > 0)) continue;
    for (size_t c = 0; c < k; c++) {
      double t = 0;
      for (size_t i = jj; i < n; i++) t += G[i * k + jj] * Q[i * k + c];
      t *= 2 / vv;
      for (size_t i = jj; i < n; i++) Q[i * k + c] -= t * G[i * k + jj];
    }
  }
  /* G = QR with R_jj = rdiag[j] < 0 typically: flip those columns. */
  for (size_t j = 0; j < k; j++)
    if (rdiag[j] < 0)
      for (size_t i = 0; i < n; i++) Q[i * k + j] = -Q[i * k + j];
}

/* M = Σ_k λ_k v_k v_kᵀ + noise·E. Draws: G (n, r_sig) N(0,1) row-major,
 * then one N(0,1) deviate per entry i ≤ j of the upper triangle,
 * row-major (always drawn), mirrored to E_ji: E is symmetric with N(0,1)
 * entries (variance 1 on and off the diagonal). v_k = columns of the
 * Householder Q of G; λ_k = 1 + (r_sig − k)·gap, k = 0..r_sig−1 (so λ₀ is
 * the largest, λ_{r_sig−1} = 1 + gap). M is computed in double, rounded
 * once to float32, exactly symmetric. */
int nco_pca_generate(size_t n, size_t r_sig, double gap, double noise, nco_rng *rng,
                     nco_array *M) {
  int st;
  if (!rng || !M) return nco_error(NCO_ERR_INVALID, "pca_generate: NULL argument");
  memset(M, 0, sizeof *M);
  if (n == 0) return nco_error(NCO_ERR_RANGE, "pca_generate: n = 0 must be at least 1");
  if (r_sig > n)
    return nco_error(NCO_ERR_RANGE, "pca_generate: rank %zu exceeds the dimension %zu", r_sig, n);
  if (!(gap >= 0) || !isfinite(gap))
    return nco_error(NCO_ERR_RANGE, "pca_generate: gap = %g must be finite and >= 0", gap);
  if (!(noise >= 0) || !isfinite(noise))
    return nco_error(NCO_ERR_RANGE, "pca_generate: noise = %g must be finite and >= 0", noise);
  size_t nk, nn;
  if (nco_mul_size(n, r_sig, &nk) || nco_mul_size(n, n, &nn))
    return nco_error(NCO_ERR_OVERFLOW, "pca_generate: sizes overflow (n=%zu, r=%zu)", n, r_sig);
  size_t sh[2] = {n, n};
  if ((st = nco_array_alloc(M, NCO_DTYPE_F32, 2, sh, "synthetic:pca"))) return st;
  double *G = nco_calloc(nk ? nk : 1, sizeof *G), *Q = nco_calloc(nk ? nk : 1, sizeof *Q);
  double *rd = nco_calloc(r_sig ? r_sig : 1, sizeof *rd), *lam = nco_calloc(r_sig ? r_sig : 1, sizeof *lam);
  if (!G || !Q || !rd || !lam) {
    free(G), free(Q), free(rd), free(lam);
    nco_array_free(M);
    return nco_error(NCO_ERR_NOMEM, "pca_generate: out of memory (n=%zu, r=%zu)", n, r_sig);
  }
  for (size_t k = 0; k < nk; k++) G[k] = nco_rng_normal(rng);
  if (r_sig) householder_q(G, n, r_sig, Q, rd);
  /* Ma §4.1's setting: a top eigenvalue separated by a gap */
  for (size_t k = 0; k < r_sig; k++) lam[k] = 1 + (double)(r_sig - k) * gap;
  float *m = M->data;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i; j < n; j++) {
      double s = 0;
      for (size_t k = 0; k < r_sig; k++) s += lam[k] * Q[i * r_sig + k] * Q[j * r_sig + k];
      s += noise * nco_rng_normal(rng);
      m[i * n + j] = m[j * n + i] = (float)s;
    }
  free(G), free(Q), free(rd), free(lam);
  return NCO_OK;
}
