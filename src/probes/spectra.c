/* Lanczos with full reorthogonalisation on matrix-free operators. */
#include "ncopt/spectra.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"

/* LAPACK (in OpenBLAS): eigenvalues/vectors of a symmetric tridiagonal. */
extern void dstev_(const char *jobz, const int *n, double *d, double *e, double *z, const int *ldz,
                   double *work, int *info);

nco_lanczos_opts nco_lanczos_defaults(void) {
  return (nco_lanczos_opts){.max_iter = 100, .tol = 1e-6, .reorth = 1, .seed = 1};
}

static double ddot(size_t n, const double *a, const double *b) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/* Ritz values of T_m (alpha[m], beta[m-1]) and residual estimates
 * β_m·|last component of the eigenvector|. */
static int ritz(size_t m, const double *alpha, const double *beta, double beta_m, double *theta, double *res,
                double *work) {
  int n = (int)m, info = 0, ldz = n;
  double *d = work, *e = work + m, *z = work + 2 * m, *w = z + m * m;
  memcpy(d, alpha, m * sizeof *d);
  if (m > 1) memcpy(e, beta, (m - 1) * sizeof *e);
  dstev_("V", &n, d, e, z, &ldz, w, &info);
  if (info) return nco_error(NCO_ERR_NUMERIC, "Lanczos: LAPACK dstev failed (info %d)", info);
  for (size_t i = 0; i < m; i++) {
    theta[i] = d[i];
    res[i] = fabs(beta_m * z[i * m + (m - 1)]); /* column i, last row */
  }
  return NCO_OK;
}

int nco_lanczos(size_t n, nco_linop A, void *ctx, const nco_lanczos_opts *opts_in, size_t k, double *hi,
                double *lo, nco_lanczos_info *info) {
  nco_lanczos_opts o = opts_in ? *opts_in : nco_lanczos_defaults();
  nco_lanczos_info inf = {0};
  if (!A || n == 0 || k == 0) return nco_error(NCO_ERR_INVALID, "Lanczos: needs an operator, n ≥ 1 and k ≥ 1");
  if (!(o.tol > 0)) return nco_error(NCO_ERR_RANGE, "Lanczos: tol must be > 0, got %g", o.tol);
  if (o.max_iter == 0) return nco_error(NCO_ERR_RANGE, "Lanczos: max_iter must be ≥ 1");
  size_t M = o.max_iter < n ? o.max_iter : n;
  if (k > M) return nco_error(NCO_ERR_RANGE, "Lanczos: k = %zu exceeds the Krylov dimension %zu", k, M);
  size_t qn, wn;
  if (nco_mul_size(M + 1, n, &qn) || nco_mul_size(M, M, &wn))
    return nco_error(NCO_ERR_OVERFLOW, "Lanczos: workspace overflows (n = %zu, max_iter = %zu)", n, M);
  double *Q = nco_calloc(qn, sizeof *Q);              /* basis, row j = q_j */
  double *alpha = nco_calloc(M, sizeof *alpha), *beta = nco_calloc(M + 1, sizeof *beta);
  double *theta = nco_calloc(M, sizeof *theta), *res = nco_calloc(M, sizeof *res);
  double *work = nco_calloc(3 * M + wn + 2 * M + 2, sizeof *work);
  double *w = nco_calloc(n, sizeof *w);
  float *vf = nco_calloc(n, sizeof *vf), *af = nco_calloc(n, sizeof *af);
  int st = NCO_OK;
  if (!Q || !alpha || !beta || !theta || !res || !work || !w || !vf || !af) {
    st = nco_error(NCO_ERR_NOMEM, "Lanczos: out of memory (n = %zu, max_iter = %zu)", n, M);
    goto done;
  }
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  double nrm = 0;
  for (size_t i = 0; i < n; i++) Q[i] = o.start ? (double)o.start[i] : nco_rng_normal(&rng), nrm += Q[i] * Q[i];
  nrm = sqrt(nrm);
  if (!(nrm > 0) || !isfinite(nrm)) {
    st = nco_error(NCO_ERR_INVALID, "Lanczos: the starting vector is zero or not finite");
    goto done;
  }
  for (size_t i = 0; i < n; i++) Q[i] /= nrm;
  size_t m = 0;
  for (size_t j = 0; j < M; j++) {
    double *q = Q + j * n;
    for (size_t i = 0; i < n; i++) vf[i] = (float)q[i];
    if ((st = A(ctx, vf, af))) goto done;
    inf.matvecs++;
    size_t bad = nco_first_nonfinite(n, af);
    if (bad < n) {
      st = nco_error(NCO_ERR_NONFINITE, "Lanczos: operator returned a non-finite entry (%zu) at iteration %zu", bad, j);
      goto done;
    }
    for (size_t i = 0; i < n; i++) w[i] = af[i];
    /* three-term recurrence w = A q_j − β_j q_{j−1} − α_j q_j */
    if (j > 0) {
      const double *qp = Q + (j - 1) * n;
      for (size_t i = 0; i < n; i++) w[i] -= beta[j] * qp[i];
    }
    alpha[j] = ddot(n, w, q);
    for (size_t i = 0; i < n; i++) w[i] -= alpha[j] * q[i];
    if (o.reorth) {
      for (int pass = 0; pass < 2; pass++)
        for (size_t l = 0; l <= j; l++) {
          const double *ql = Q + l * n;
          double c = ddot(n, w, ql);
          for (size_t i = 0; i < n; i++) w[i] -= c * ql[i];
          if (l == j) alpha[j] += c;
        }
    }
    double b = sqrt(ddot(n, w, w));
    m = j + 1;
    if ((st = ritz(m, alpha, beta + 1, b, theta, res, work))) goto done;
    /* wanted: k smallest and k largest Ritz values */
    size_t kk = k < m ? k : m;
    double worst = 0;
    for (size_t i = 0; i < kk; i++) {
      if (hi) worst = fmax(worst, res[m - 1 - i] / fmax(1.0, fabs(theta[m - 1 - i])));
      if (lo) worst = fmax(worst, res[i] / fmax(1.0, fabs(theta[i])));
    }
    inf.max_residual = worst;
    /* invariant subspace found (β ≈ 0): the Ritz values are exact */
    double anorm = fmax(fabs(theta[0]), fabs(theta[m - 1]));
    if (b <= 1e-12 * fmax(anorm, DBL_MIN)) {
      inf.converged = 1;
      break;
    }
    if (m >= 2 * k && worst <= o.tol) {
      inf.converged = 1;
      break;
    }
    beta[j + 1] = b;
    double *qn1 = Q + (j + 1) * n;
    for (size_t i = 0; i < n; i++) qn1[i] = w[i] / b;
  }
  inf.iterations = m;
  for (size_t i = 0; i < k; i++) {
    if (hi) hi[i] = i < m ? theta[m - 1 - i] : NAN;
    if (lo) lo[i] = i < m ? theta[i] : NAN;
  }
  if (info) *info = inf;
done:
  free(Q), free(alpha), free(beta), free(theta), free(res), free(work), free(w), free(vf), free(af);
  return st;
}

typedef struct {
  nco_problem *pb;
  const float *x;
  const size_t *idx;
  size_t nb;
  float *tmp;       /* dim or nres */
  int riemannian;
} hctx;

static int hess_op(void *c, const float *v, float *out) {
  hctx *h = c;
  if (h->riemannian) return nco_problem_riemannian_hvp(h->pb, h->x, h->idx, h->nb, v, out);
  return nco_problem_hvp(h->pb, h->x, h->idx, h->nb, v, out);
}

int nco_hessian_extremes(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const nco_lanczos_opts *opts,
                         size_t k, double *hi, double *lo, nco_lanczos_info *info) {
  hctx h = {pb, x, idx, nb, NULL, pb->manifold == NCO_MANIFOLD_SPHERE};
  if (!h.riemannian) return nco_lanczos(pb->dim, hess_op, &h, opts, k, hi, lo, info);
  /* the tangent space has dimension d − 1 */
  nco_lanczos_opts o = opts ? *opts : nco_lanczos_defaults();
  if (o.max_iter > pb->dim - 1) o.max_iter = pb->dim - 1;
  float *s = nco_calloc(pb->dim, sizeof *s);
  if (!s) return nco_error(NCO_ERR_NOMEM, "Hessian spectrum: out of memory");
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  if (o.start)
    nco_copy(pb->dim, o.start, s);
  else
    nco_rng_normal_fill(&rng, s, pb->dim, 0, 1);
  nco_problem_project_tangent(pb, x, s);
  o.start = s;
  int st = pb->dim < 2 ? nco_error(NCO_ERR_RANGE, "Hessian spectrum: the sphere S^0 has no tangent space")
                       : nco_lanczos(pb->dim, hess_op, &h, &o, k, hi, lo, info);
  free(s);
  return st;
}

/* J Jᵀ v (n_res-space) or Jᵀ J v (d-space) */
static int jjt_op(void *c, const float *v, float *out) {
  hctx *h = c;
  int st = nco_problem_vjp(h->pb, h->x, h->idx, h->nb, v, h->tmp);
  if (st) return st;
  return nco_problem_jvp(h->pb, h->x, h->idx, h->nb, h->tmp, out);
}

static int jtj_op(void *c, const float *v, float *out) {
  hctx *h = c;
  int st = nco_problem_jvp(h->pb, h->x, h->idx, h->nb, v, h->tmp);
  if (st) return st;
  return nco_problem_vjp(h->pb, h->x, h->idx, h->nb, h->tmp, out);
}

int nco_jacobian_svals(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const nco_lanczos_opts *opts,
                       double *smax, double *smin, nco_lanczos_info *info) {
  if (!nco_problem_is_least_squares(pb))
    return nco_error(NCO_ERR_UNSUPPORTED, "%s: Jacobian singular values need a least-squares problem", pb->label);
  size_t N = nco_problem_nres(pb, idx ? nb : pb->n), d = pb->dim;
  int small_is_res = N <= d;
  size_t n = small_is_res ? N : d, big = small_is_res ? d : N;
  hctx h = {pb, x, idx, idx ? nb : pb->n, nco_calloc(big, sizeof(float)), 0};
  if (!h.tmp) return nco_error(NCO_ERR_NOMEM, "Jacobian singular values: out of memory");
  double hi = NAN, lo = NAN;
  int st = nco_lanczos(n, small_is_res ? jjt_op : jtj_op, &h, opts, 1, &hi, &lo, info);
  free(h.tmp);
  if (st) return st;
  /* eigenvalues of JJᵀ are σ²; clamp rounding below zero */
  if (smax) *smax = sqrt(fmax(hi, 0));
  if (smin) *smin = sqrt(fmax(lo, 0));
  return NCO_OK;
}
