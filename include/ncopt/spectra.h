/* ncopt/spectra.h — extreme eigenvalues of Hessians and singular values of
 * Jacobians by the Lanczos method, on matrix-free operators.
 *
 * Lanczos (Golub & Van Loan, "Matrix Computations", 4th ed., §10.1) builds
 * an orthonormal Krylov basis Q_k and a tridiagonal T_k = Q_kᵀ A Q_k whose
 * extreme eigenvalues (Ritz values, LAPACK dstev) converge first to the
 * extreme eigenvalues of A. Vectors are held in double; full
 * reorthogonalisation (two passes of classical Gram–Schmidt, "twice is
 * enough", Giraud et al. 2005) keeps them orthonormal, so no ghost copies
 * of converged eigenvalues appear. Convergence of a Ritz value θ with
 * eigenvector s of T_k is measured by its residual ‖A y − θ y‖ = β_k·|s_k|
 * (Parlett, "The Symmetric Eigenvalue Problem", §13.2).
 *
 * Used by the probes hess_max/hess_min and jac_smax/jac_smin, and by
 * `ncopt probe hessian`.
 */
#ifndef NCOPT_SPECTRA_H
#define NCOPT_SPECTRA_H

#include <stddef.h>
#include <stdint.h>

#include "ncopt/problem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A symmetric linear operator on R^n: out = A·v (float vectors, as the
 * problem interface provides). */
typedef int (*nco_linop)(void *ctx, const float *v, float *out);

typedef struct nco_lanczos_opts {
  size_t max_iter;   /* Krylov dimension cap (≤ n); default 100 */
  double tol;        /* stop when the wanted Ritz values have residual ≤ tol·max(1, |θ|); default 1e-6 */
  int reorth;        /* 1: full reorthogonalisation (default), 0: none (three-term only) */
  uint64_t seed;     /* random starting vector; default 1 */
  const float *start;/* starting vector (n entries, non-zero) instead of a random one; default NULL */
} nco_lanczos_opts;

nco_lanczos_opts nco_lanczos_defaults(void);

typedef struct nco_lanczos_info {
  size_t iterations;      /* Krylov dimension reached */
  size_t matvecs;
  int converged;          /* 1 if every wanted value met tol */
  double max_residual;    /* largest residual estimate of the returned values */
} nco_lanczos_info;

/* The k largest (hi[0] ≥ hi[1] ≥ …) and k smallest (lo[0] ≤ lo[1] ≤ …)
 * eigenvalues of the symmetric operator A on R^n; hi or lo may be NULL.
 * k ≥ 1 and 2k ≤ n (or the whole spectrum when the Krylov space is
 * exhausted). */
int nco_lanczos(size_t n, nco_linop A, void *ctx, const nco_lanczos_opts *opts, size_t k, double *hi,
                double *lo, nco_lanczos_info *info);

/* Extreme eigenvalues of the Hessian of pb's loss at x on batch (idx, nb),
 * through nco_problem_hvp (exact where the problem has it); on the sphere
 * the Riemannian Hessian restricted to the tangent space (Ma eq. 5.5): the
 * start vector is projected onto T_x, so the Krylov space stays in it and
 * the normal direction (eigenvalue 0 of P_x H P_x) never enters. */
int nco_hessian_extremes(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                         const nco_lanczos_opts *opts, size_t k, double *hi, double *lo,
                         nco_lanczos_info *info);

/* σ_max(J) and σ_min(J) of a least-squares problem's Jacobian J (N × d,
 * N = residuals of the batch): Lanczos on the smaller of JJᵀ and JᵀJ
 * through JVP/VJP. σ_min is the smallest of min(N, d) singular values
 * (0 when J is rank deficient). */
int nco_jacobian_svals(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                       const nco_lanczos_opts *opts, double *smax, double *smin,
                       nco_lanczos_info *info);

#ifdef __cplusplus
}
#endif
#endif
