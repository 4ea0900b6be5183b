/* examples/invex_theorem1.c — Crane & Roosta, Theorem 1, in numbers.
 *
 * For an under-determined linear least squares g(x) = Ax − b (A 20×50, full
 * row rank), plain gradient descent on the invex lifting (eq. 2)
 *     f̂(x, p) = ½‖Ax − b + λp‖²
 * from (x, p) = (0, 0) converges to the ridge solution and its p:
 *     x*(λ) = (AᵀA + λ²I)⁻¹Aᵀb = Aᵀ(AAᵀ + λ²I)⁻¹b,   p*(λ) = λ(AAᵀ + λ²I)⁻¹b
 * (the two forms of x* agree by the push-through identity; both come from one
 * Cholesky of the 20×20 matrix M = AAᵀ + λ²I, in double). Theorem 1(ii):
 * ‖x*(λ)‖ shrinks as λ grows, and f(x*(λ)) = ½‖λp*(λ)‖² goes from 0
 * (λ → 0) to ½‖b‖² (λ → ∞).
 *
 * Step: ∇²f̂ = ĴᵀĴ with Ĵ = [A λI], whose non-zero eigenvalues are those of
 * M, so L = ‖A‖² + λ² (‖A‖² by power iteration on AAᵀ) and α = 1/L.
 * Stop: ‖∇f̂‖ ≤ 1e-6·‖∇f̂(0, 0)‖. Then ‖z_T − z*‖ ≤ ‖∇_T‖/μ with
 * μ = λ_min(M) (GD stays in range(Ĵᵀ)), and since ‖∇₀‖ = ‖Ĵᵀb‖ ≤ √L‖b‖ ≤
 * L‖z*‖, the relative error is ≤ 1e-6·L/μ ≈ 1.5e-5 here, plus float32
 * rounding of the iterates (≈ T·2⁻²⁴ ≈ 1e-5 at worst). Pass: both
 * ‖x_T − x*‖/‖x*‖ and ‖p_T − p*‖/‖z*‖ ≤ 1e-4 (z* = (x*, p*); p* itself
 * is tiny for small λ, so its error is measured against ‖z*‖).
 *
 * Exit status 0 when every λ passes, 1 otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/ncopt.h"

enum { N = 20, D = 50 };

#define GTOL 1e-6 /* stop at ‖∇‖ ≤ GTOL·‖∇₀‖ */
#define TOL 1e-4  /* pass/fail on the relative distances (see above) */

/* In-place Cholesky of a symmetric positive definite n×n matrix (lower
 * triangle); -1 if not positive definite. */
static int chol(int n, double *M) {
  for (int j = 0; j < n; j++) {
    double s = M[j * n + j];
    for (int k = 0; k < j; k++) s -= M[j * n + k] * M[j * n + k];
    if (!(s > 0)) return -1;
    M[j * n + j] = sqrt(s);
    for (int i = j + 1; i < n; i++) {
      double t = M[i * n + j];
      for (int k = 0; k < j; k++) t -= M[i * n + k] * M[j * n + k];
      M[i * n + j] = t / M[j * n + j];
    }
  }
  return 0;
}

/* x ← (LLᵀ)⁻¹ x */
static void chol_solve(int n, const double *L, double *x) {
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < i; k++) x[i] -= L[i * n + k] * x[k];
    x[i] /= L[i * n + i];
  }
  for (int i = n - 1; i >= 0; i--) {
    for (int k = i + 1; k < n; k++) x[i] -= L[k * n + i] * x[k];
    x[i] /= L[i * n + i];
  }
}

static double norm(int n, const double *v) {
  double s = 0;
  for (int i = 0; i < n; i++) s += v[i] * v[i];
  return sqrt(s);
}

/* λ_max of AAᵀ (N×N, PSD) by power iteration. */
static double eig_max(const double *S) {
  double v[N], w[N], lam = 0;
  for (int i = 0; i < N; i++) v[i] = 1;
  for (int it = 0; it < 2000; it++) {
    double nv = norm(N, v);
    for (int i = 0; i < N; i++) v[i] /= nv;
    lam = 0;
    for (int i = 0; i < N; i++) {
      w[i] = 0;
      for (int k = 0; k < N; k++) w[i] += S[i * N + k] * v[k];
      lam += v[i] * w[i];
    }
    memcpy(v, w, sizeof v);
  }
  return lam;
}

int main(void) {
  static const double lams[] = {10, 3, 1, 0.3, 0.1, 0.03, 0.01};
  const int nl = (int)(sizeof lams / sizeof lams[0]);
  nco_rng rng;
  nco_array A = {0}, b = {0};
  size_t shA[2] = {N, D}, shb[1] = {N};
  int st, failed = 0;
  nco_rng_seed(&rng, 2021);
  if ((st = nco_array_alloc(&A, NCO_DTYPE_F32, 2, shA, "synthetic:A")) ||
      (st = nco_array_alloc(&b, NCO_DTYPE_F32, 1, shb, "synthetic:b"))) {
    fprintf(stderr, "invex_theorem1: %s\n", nco_last_error());
    return 2;
  }
  float *Af = A.data, *bf = b.data;
  nco_rng_normal_fill(&rng, Af, (size_t)N * D, 0, 1); /* full row rank with probability 1 */
  nco_rng_normal_fill(&rng, bf, N, 0, 1);

  double S[N * N], bn = 0;
  for (int i = 0; i < N; i++) {
    bn += (double)bf[i] * bf[i];
    for (int k = 0; k < N; k++) {
      double s = 0;
      for (int j = 0; j < D; j++) s += (double)Af[i * D + j] * Af[k * D + j];
      S[i * N + k] = s;
    }
  }
  double A2 = eig_max(S);
  printf("Crane & Roosta, Theorem 1: GD on f̂(x,p) = ½‖Ax − b + λp‖² from (0,0), A %dx%d Gaussian\n", N, D);
  printf("‖A‖² = %.4f, ½‖b‖² = %.4f; step 1/(‖A‖² + λ²); stop at ‖∇‖ ≤ %g·‖∇₀‖; pass if distances ≤ %g\n\n",
         A2, 0.5 * bn, GTOL, TOL);
  /* header padded by hand: printf widths count bytes, not UTF-8 characters */
  printf("      λ  iters   ‖x_T−x*‖/‖x*‖   ‖p_T−p*‖/‖z*‖   f̂(x_T,p_T)       f(x_T)        f(x*)       ‖x*‖\n");

  for (int li = 0; li < nl; li++) {
    double lam = lams[li];
    nco_problem *base = NULL, *w = NULL;
    if ((st = nco_linear_ls_create(&A, &b, &base)) || (st = nco_invex_wrap(base, lam, 1, &w))) {
      fprintf(stderr, "invex_theorem1: %s\n", nco_last_error());
      failed = 1;
      break;
    }
    /* reference: y = M⁻¹b, x* = Aᵀy, p* = λy (double) */
    double M[N * N], y[N], xs[D], ps[N];
    memcpy(M, S, sizeof M);
    for (int i = 0; i < N; i++) M[i * N + i] += lam * lam, y[i] = bf[i];
    if (chol(N, M)) {
      fprintf(stderr, "invex_theorem1: AAᵀ + λ²I is not positive definite (λ = %g)\n", lam);
      nco_problem_free(w);
      failed = 1;
      break;
    }
    chol_solve(N, M, y);
    for (int j = 0; j < D; j++) {
      xs[j] = 0;
      for (int i = 0; i < N; i++) xs[j] += (double)Af[i * D + j] * y[i];
    }
    for (int i = 0; i < N; i++) ps[i] = lam * y[i];

    /* plain GD, fixed step */
    float z[D + N] = {0}, g[D + N];
    double L = A2 + lam * lam, loss = 0, g0 = 0, gn = 0;
    int t = 0;
    for (;; t++) {
      if ((st = nco_problem_eval(w, z, NULL, N, &loss, g))) break;
      gn = nco_nrm2(D + N, g);
      if (t == 0) g0 = gn;
      if (gn <= GTOL * g0 || t >= 100000) break;
      nco_axpy(D + N, (float)(-1 / L), g, z);
    }
    double fT = NAN;
    if (!st) st = nco_problem_loss_unreg(w, z, NULL, N, &fT);
    if (st) {
      fprintf(stderr, "invex_theorem1: %s\n", nco_last_error());
      nco_problem_free(w);
      failed = 1;
      break;
    }
    double ex = 0, ep = 0;
    for (int j = 0; j < D; j++) ex += (z[j] - xs[j]) * (z[j] - xs[j]);
    for (int i = 0; i < N; i++) ep += (z[D + i] - ps[i]) * (z[D + i] - ps[i]);
    double xn = norm(D, xs), pn = norm(N, ps), zn = sqrt(xn * xn + pn * pn);
    double rx = sqrt(ex) / xn, rp = sqrt(ep) / zn;
    int ok = gn <= GTOL * g0 && rx <= TOL && rp <= TOL;
    failed |= !ok;
    printf("%7g %6d %15.3e %15.3e %12.4e %12.4e %12.4e %10.5f  %s\n", lam, t, rx, rp, loss, fT,
           0.5 * pn * pn * lam * lam, xn, ok ? "ok" : "FAIL");
    nco_problem_free(w);
  }
  printf("\nf(x*) = ½‖λp*‖² (proof of Theorem 1): → 0 as λ → 0, → ½‖b‖² as λ → ∞; ‖x*‖ decreases in λ.\n");
  printf("%s\n", failed ? "FAILED" : "all distances within tolerance");
  nco_array_free(&A);
  nco_array_free(&b);
  return failed;
}
