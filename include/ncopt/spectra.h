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
 * (Parlett, "The Symmetric Eigenvalue Problem", §13.2); for a symmetric A
 * some eigenvalue lies within that residual of θ (Kahan's bound).
 *
 * Singular values use Golub–Kahan–Lanczos bidiagonalisation (Golub & Van
 * Loan §10.4; Golub & Kahan 1965) with full reorthogonalisation of both
 * bases, and the singular values of the bidiagonal from LAPACK dbdsqr. It
 * works on A itself, not on AᵀA: with float32 operators a singular value σ
 * is then accurate to ~ε_f·σ_max instead of ~ε_f·σ_max²/σ (the Gram
 * matrix squares the condition number), which matters for σ_min(J).
 *
 * Krylov breakdown. When the new Lanczos vector is numerically zero
 * (β ≤ breakdown·‖T_k‖: the Krylov space is invariant up to the float32
 * rounding of the operator), the Ritz values found so far are eigenvalues
 * of A. If fewer than the wanted number have been found and room is left,
 * the iteration restarts with a random vector orthogonal to the basis
 * (T becomes block diagonal, as in ARPACK), so with max_iter = n the whole
 * spectrum is found, repeated eigenvalues with their multiplicity. After a
 * breakdown with at least 2k Ritz values they are returned as they are:
 * with a random start they are then, with probability one, all the
 * distinct eigenvalues of A, each once. Without a breakdown, extra copies
 * of a repeated eigenvalue enter the Krylov space of one start vector only
 * through rounding (they usually do, for the extreme ones); so hi[1..k)
 * may hold a copy of hi[0] or the next distinct eigenvalue. The same holds
 * for repeated singular values (e.g. the zero singular values of a
 * rank-deficient Jacobian appear once).
 *
 * Cost: one operator application per iteration, O(max_iter·n) doubles of
 * memory for the basis (allocated per call) and O(iter·n) work per
 * iteration for the reorthogonalisation.
 *
 * Used by the probes hess_max/hess_min and jac_smax/jac_smin, and by
 * `ncopt probe hessian` and `ncopt certify` (see diag.h).
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
 * problem interface provides). A non-zero return is an error status
 * passed through unchanged. */
typedef int (*nco_linop)(void *ctx, const float *v, float *out);

/* A linear map A: R^n → R^m and its transpose: trans = 0: out[m] = A·in[n];
 * trans = 1: out[n] = Aᵀ·in[m]. */
typedef int (*nco_linop_rect)(void *ctx, int trans, const float *in, float *out);

typedef struct nco_lanczos_opts {
  size_t max_iter;   /* Krylov dimension cap (≤ n); default 100 */
  double tol;        /* stop when every wanted Ritz value has residual ≤ tol·‖T_k‖
                        (‖T_k‖ = largest |Ritz value|: an estimate of ‖A‖); default 1e-6 */
  int reorth;        /* 1: full reorthogonalisation (default), 0: none (three-term only) */
  uint64_t seed;     /* random starting vector; default 1 */
  const float *start;/* starting vector (n entries, non-zero) instead of a random one; default
                        NULL. Ignored by the singular-value calls. */
  double breakdown;  /* Krylov breakdown when the new vector's norm is ≤ breakdown·‖T_k‖;
                        default 16·FLT_EPSILON (float32 operators round at ~1e-7·‖A‖) */
} nco_lanczos_opts;

nco_lanczos_opts nco_lanczos_defaults(void);

typedef struct nco_lanczos_info {
  size_t iterations;      /* Krylov dimension reached */
  size_t matvecs;         /* operator applications (A, or A and Aᵀ each count one) */
  int converged;          /* 1 if every wanted value met tol (or the space was exhausted) */
  double max_residual;    /* largest residual of the returned values, relative to ‖T_k‖ */
  size_t restarts;        /* breakdowns followed by a restart (see above) */
} nco_lanczos_info;

/* The k largest (hi[0] ≥ hi[1] ≥ …) and k smallest (lo[0] ≤ lo[1] ≤ …)
 * eigenvalues of the symmetric operator A on R^n; hi or lo may be NULL
 * (not both). 1 ≤ k ≤ min(max_iter, n). When fewer than k Ritz values
 * exist at the end (the space was exhausted early), the missing entries
 * are NAN. Errors: NCO_ERR_INVALID (NULL operator, n = 0, k = 0, both
 * outputs NULL, zero or non-finite start), NCO_ERR_RANGE (k too large,
 * tol ≤ 0, max_iter = 0), NCO_ERR_NONFINITE (operator output),
 * NCO_ERR_NOMEM, NCO_ERR_NUMERIC (LAPACK failure), or the operator's own
 * status. */
int nco_lanczos(size_t n, nco_linop A, void *ctx, const nco_lanczos_opts *opts, size_t k, double *hi,
                double *lo, nco_lanczos_info *info);

/* The k largest (hi, descending) and k smallest (lo, ascending) singular
 * values of A (m × n) among its min(m, n) singular values, by
 * Golub–Kahan–Lanczos on A (or Aᵀ when m < n, so the start vector lives in
 * the smaller space and the zero singular values of the null space of the
 * longer side never appear). 1 ≤ k ≤ min(max_iter, m, n). Rank deficiency
 * gives lo[0] = 0 (up to rounding). Same errors as nco_lanczos. */
int nco_svd_extremes(size_t m, size_t n, nco_linop_rect A, void *ctx, const nco_lanczos_opts *opts,
                     size_t k, double *hi, double *lo, nco_lanczos_info *info);

/* Extreme eigenvalues of the Hessian of pb's loss at x on batch (idx, nb),
 * through nco_problem_hvp (exact where the problem has it); on the sphere
 * the Riemannian Hessian P_x(∇²f − ⟨x,∇f⟩I)P_x restricted to the tangent
 * space T_x (Ma eq. 5.5): every Lanczos vector is projected onto T_x in
 * double, so the normal direction (eigenvalue 0 of P_x H P_x) never enters,
 * and the Krylov dimension is capped at d − 1. ⟨x,∇f⟩ is computed once per
 * call. Allocates O(max_iter·d) per call. */
int nco_hessian_extremes(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                         const nco_lanczos_opts *opts, size_t k, double *hi, double *lo,
                         nco_lanczos_info *info);

/* σ_max(J) and σ_min(J) of a least-squares problem's Jacobian J (N × d,
 * N = residuals of the batch, nb·m + m_extra) through JVP/VJP by
 * Golub–Kahan–Lanczos. σ_min is the smallest of min(N, d) singular values
 * (0 when J is rank deficient). Note that for N > d this is σ_d, not the
 * σ_N = 0 that Oymak & Soltanolkotabi's Assumption 2 would need (the
 * certificate in diag.h takes care of that). Either output may be NULL.
 * NCO_ERR_UNSUPPORTED for problems without a residual interface. */
int nco_jacobian_svals(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                       const nco_lanczos_opts *opts, double *smax, double *smin,
                       nco_lanczos_info *info);

/* The k largest / smallest singular values of J (as nco_svd_extremes). */
int nco_jacobian_svals_k(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                         const nco_lanczos_opts *opts, size_t k, double *hi, double *lo,
                         nco_lanczos_info *info);

#ifdef __cplusplus
}
#endif
#endif
