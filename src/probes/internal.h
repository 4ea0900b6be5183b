/* src/probes/internal.h — the Lanczos engine shared by spectra.c and the
 * diagnostics (stochastic Lanczos quadrature needs the tridiagonal itself,
 * the Hessian calls a projection onto the sphere's tangent space). Not part
 * of the public API. */
#ifndef NCO_PROBES_INTERNAL_H
#define NCO_PROBES_INTERNAL_H

#include <stddef.h>

#include "ncopt/problem.h"
#include "ncopt/rng.h"
#include "ncopt/spectra.h"

/* In-place projection of a double vector onto an invariant subspace of the
 * operator (the tangent space T_x of the sphere); NULL for none. */
typedef void (*nco_lz_proj)(void *pctx, double *v);

typedef struct nco_lz_args {
  size_t n;            /* dimension of the space */
  nco_linop op;
  void *ctx;
  nco_lz_proj proj;    /* may be NULL */
  void *pctx;
  const double *start; /* n entries, or NULL: a random N(0, I) vector from rng */
  nco_rng *rng;        /* start vector (when start is NULL) and restart vectors */
  size_t max_iter;     /* Krylov dimension cap (already ≤ n) */
  int reorth;
  double breakdown;    /* relative breakdown threshold */
  /* extremes = 1: stop when the kh largest and kl smallest Ritz values have
   * residual ≤ tol·‖T‖; restart after a breakdown if fewer than kh + kl
   * values exist. extremes = 0 (quadrature): exactly max_iter steps or
   * until the first breakdown, no restart, no convergence test. */
  int extremes;
  double tol;
  size_t kh, kl;
} nco_lz_args;

typedef struct nco_lz_out {
  size_t m;         /* Ritz values found (Krylov dimension) */
  double *theta;    /* [max_iter]: Ritz values, ascending (first m valid) */
  double *res;      /* [max_iter]: residual estimates β_m·|s_m,i| (absolute) */
  double *first;    /* [max_iter]: first components s_1,i of the eigenvectors of T_m */
  nco_lanczos_info info;
} nco_lz_out;

/* Runs Lanczos; the caller allocates theta/res/first with max_iter doubles
 * each (first may be NULL). Errors as nco_lanczos. */
int nco_lz_run(const nco_lz_args *a, nco_lz_out *o);

/* Hessian of a problem at x on a batch as an nco_linop (spectra.c): the
 * Euclidean Hessian, or on the sphere the Riemannian one; the caller sets
 * tmp (dim floats), xg = ⟨x, ∇f(x)⟩ and xx = ‖x‖² when riemannian. */
typedef struct nco_lz_hess {
  nco_problem *pb;
  const float *x;
  const size_t *idx;
  size_t nb;
  float *tmp;       /* dim floats (sphere: P_x v) */
  int riemannian;
  double xg;        /* ⟨x, ∇f(x)⟩ (sphere) */
  double xx;        /* ‖x‖² (sphere) */
} nco_lz_hess;

/* nco_linop on an nco_lz_hess; Ma eq. (5.5) on the sphere. */
int nco_lz_hess_op(void *c, const float *v, float *out);
/* nco_lz_proj on an nco_lz_hess: the tangent projection P_x in double. */
void nco_lz_hess_proj(void *c, double *v);

/* Uniform point in the ball of radius R around c (float), into x[d];
 * direction from a normal vector, radius R·U^{1/d}. */
void nco_lz_ball_point(nco_rng *rng, size_t d, const float *c, double R, float *x, double *tmp);

#endif
