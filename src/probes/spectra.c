/* Lanczos with full reorthogonalisation on matrix-free operators, and
 * Golub–Kahan–Lanczos bidiagonalisation for singular values (spectra.h). */
#include "ncopt/spectra.h"

#include <cblas.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "probes/internal.h"

/* LAPACK (in OpenBLAS): eigenvalues/vectors of a symmetric tridiagonal;
 * singular values of a bidiagonal (with U·Q for the residual estimates). */
extern void dstev_(const char *jobz, const int *n, double *d, double *e, double *z, const int *ldz,
                   double *work, int *info);
extern void dbdsqr_(const char *uplo, const int *n, const int *ncvt, const int *nru, const int *ncc,
                    double *d, double *e, double *vt, const int *ldvt, double *u, const int *ldu,
                    double *c, const int *ldc, double *work, int *info);

nco_lanczos_opts nco_lanczos_defaults(void) {
  return (nco_lanczos_opts){
      .max_iter = 100, .tol = 1e-6, .reorth = 1, .seed = 1, .start = NULL, .breakdown = 16 * FLT_EPSILON};
}

/* double-vector kernels: OpenBLAS (vectorised) when the length fits an int */
static double ddot(size_t n, const double *a, const double *b) {
  if (n <= INT_MAX) return cblas_ddot((int)n, a, 1, b, 1);
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

static void daxpy(size_t n, double a, const double *x, double *y) {
  if (n <= INT_MAX) {
    cblas_daxpy((int)n, a, x, 1, y, 1);
    return;
  }
  for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

/* dst ← (double)src, stopping at the first non-finite entry: returns its
 * index, or n when all are finite (one pass instead of check-then-copy). */
static size_t widen_finite(size_t n, const float *src, double *dst) {
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(src[i])) return i;
    dst[i] = src[i];
  }
  return n;
}

/* w ← w − Q_cntᵀ(Q_cnt w) over the rows q_0..q_{cnt−1} of Q: classical
 * Gram–Schmidt as two BLAS dgemv per pass (c ≤ max_iter + 1 coefficients
 * in `c`), repeated once ("twice is enough", Giraud et al. 2005) unless the
 * first pass kept ‖w‖ above ‖w_before‖/√2 (the criterion of Daniel, Gragg,
 * Kaufman & Stewart 1976, as in ARPACK): then w was already orthogonal to
 * working accuracy and the second pass, which costs as much memory
 * traffic as the first, is skipped. Returns the sum of the coefficients of
 * row `track` (to fold into α), or 0. */
static double orthogonalise(size_t n, const double *Q, size_t cnt, double *w, size_t track, double *c) {
  double tr = 0;
  if (cnt == 0) return 0;
  double before = ddot(n, w, w);
  for (int pass = 0; pass < 2; pass++) {
    if (n <= INT_MAX && cnt <= INT_MAX) {
      cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)cnt, (int)n, 1.0, Q, (int)n, w, 1, 0.0, c, 1);
      cblas_dgemv(CblasRowMajor, CblasTrans, (int)cnt, (int)n, -1.0, Q, (int)n, c, 1, 1.0, w, 1);
    } else {
      for (size_t l = 0; l < cnt; l++) c[l] = ddot(n, w, Q + l * n);
      for (size_t l = 0; l < cnt; l++) daxpy(n, -c[l], Q + l * n, w);
    }
    if (track < cnt) tr += c[track];
    if (pass == 0 && ddot(n, w, w) > 0.5 * before) break;
  }
  return tr;
}

/* A random unit vector orthogonal to the cnt rows of Q (and projected);
 * returns 0 if the space is exhausted (nothing of it survives). */
static int random_orthogonal(const nco_lz_args *a, const double *Q, size_t cnt, size_t n, double *v, double *c) {
  for (int attempt = 0; attempt < 3; attempt++) {
    for (size_t i = 0; i < n; i++) v[i] = nco_rng_normal(a->rng);
    if (a->proj) a->proj(a->pctx, v);
    double n0 = sqrt(ddot(n, v, v));
    orthogonalise(n, Q, cnt, v, (size_t)-1, c);
    if (a->proj) {
      a->proj(a->pctx, v);
      orthogonalise(n, Q, cnt, v, (size_t)-1, c);
    }
    double n1 = sqrt(ddot(n, v, v));
    /* double-precision Gram–Schmidt leaves ~1e-16·n0 of an exhausted space */
    if (n1 > 1e-8 * n0) {
      for (size_t i = 0; i < n; i++) v[i] /= n1;
      return 1;
    }
  }
  return 0;
}

/* Ritz values of T_m (alpha[m], off-diagonal beta[1..m−1]) with residual
 * estimates |β_m·s_m,i| and first components s_1,i. */
static int ritz(size_t m, const double *alpha, const double *offd, double beta_m, double *theta, double *res,
                double *first, double *work) {
  int n = (int)m, info = 0, ldz = n;
  double *d = work, *e = work + m, *z = work + 2 * m, *w = z + m * m;
  memcpy(d, alpha, m * sizeof *d);
  if (m > 1) memcpy(e, offd, (m - 1) * sizeof *e);
  dstev_("V", &n, d, e, z, &ldz, w, &info);
  if (info) return nco_error(NCO_ERR_NUMERIC, "Lanczos: LAPACK dstev failed on T_%zu (info %d)", m, info);
  for (size_t i = 0; i < m; i++) {
    theta[i] = d[i];
    if (res) res[i] = fabs(beta_m * z[i * m + (m - 1)]); /* column i, last row */
    if (first) first[i] = z[i * m];                        /* column i, first row */
  }
  return NCO_OK;
}

int nco_lz_run(const nco_lz_args *a, nco_lz_out *o) {
  size_t n = a->n, M = a->max_iter;
  nco_lanczos_info inf = {0};
  size_t qn, wn, wk;
  if (nco_mul_size(M + 1, n, &qn) || nco_mul_size(M, M, &wn) || nco_add_size(wn, 6 * M + 2, &wk))
    return nco_error(NCO_ERR_OVERFLOW, "Lanczos: workspace overflows (n = %zu, max_iter = %zu)", n, M);
  double *Q = nco_calloc(qn, sizeof *Q); /* basis, row j = q_j */
  double *alpha = nco_calloc(M, sizeof *alpha), *beta = nco_calloc(M + 1, sizeof *beta);
  double *work = nco_calloc(wk, sizeof *work);
  double *w = nco_calloc(n, sizeof *w), *cf = nco_calloc(M + 1, sizeof *cf);
  float *vf = nco_calloc(n, sizeof *vf), *af = nco_calloc(n, sizeof *af);
  int st = NCO_OK;
  size_t m = 0;
  if (!Q || !alpha || !beta || !work || !w || !cf || !vf || !af) {
    st = nco_error(NCO_ERR_NOMEM, "Lanczos: out of memory (n = %zu, max_iter = %zu)", n, M);
    goto done;
  }
  /* q_0: the given start or N(0, I), projected and normalised */
  for (size_t i = 0; i < n; i++) Q[i] = a->start ? a->start[i] : nco_rng_normal(a->rng);
  if (a->proj) a->proj(a->pctx, Q);
  double nrm = sqrt(ddot(n, Q, Q));
  if (!(nrm > 0) || !isfinite(nrm)) {
    st = nco_error(NCO_ERR_INVALID, "Lanczos: the starting vector is %s", isfinite(nrm) ? "zero (after projection)" : "not finite");
    goto done;
  }
  for (size_t i = 0; i < n; i++) Q[i] /= nrm;
  size_t need = a->kh + a->kl;
  if (need > M) need = M;
  double gersh = 0;
  for (size_t j = 0; j < M; j++) {
    double *q = Q + j * n;
    for (size_t i = 0; i < n; i++) vf[i] = (float)q[i];
    if ((st = a->op(a->ctx, vf, af))) goto done;
    inf.matvecs++;
    size_t bad = widen_finite(n, af, w);
    if (bad < n) {
      st = nco_error(NCO_ERR_NONFINITE, "Lanczos: operator returned %g at entry %zu (iteration %zu)", af[bad], bad, j);
      goto done;
    }
    if (a->proj) a->proj(a->pctx, w);
    /* Golub & Van Loan Alg. 10.1.1: w = A q_j − β_j q_{j−1} − α_j q_j */
    if (j > 0) daxpy(n, -beta[j], Q + (j - 1) * n, w);
    alpha[j] = ddot(n, w, q);
    daxpy(n, -alpha[j], q, w);
    if (a->reorth) alpha[j] += orthogonalise(n, Q, j + 1, w, j, cf);
    double b = sqrt(ddot(n, w, w));
    m = j + 1;
    int last = m == M;
    if (a->extremes || last) {
      if ((st = ritz(m, alpha, beta + 1, b, o->theta, o->res, o->first, work))) goto done;
    }
    /* ‖T‖: from the Ritz values, or (quadrature mode, no eigen-solve per
     * step) the running Gershgorin bound max_j |α_j| + β_j + β_{j+1} */
    gersh = fmax(gersh, fabs(alpha[j]) + b + beta[j]);
    double anorm = (a->extremes || last) ? fmax(fabs(o->theta[0]), fabs(o->theta[m - 1])) : gersh;
    int breakdown = !(b > a->breakdown * anorm);
    if (!a->extremes) {
      if (breakdown || last) {
        if (!last && (st = ritz(m, alpha, beta + 1, b, o->theta, o->res, o->first, work))) goto done;
        inf.converged = 1;
        break;
      }
    } else {
      /* wanted: the kh largest and kl smallest Ritz values */
      double worst = 0, scale = anorm > 0 ? anorm : 1;
      size_t kh = a->kh < m ? a->kh : m, kl = a->kl < m ? a->kl : m;
      for (size_t i = 0; i < kh; i++) worst = fmax(worst, o->res[m - 1 - i] / scale);
      for (size_t i = 0; i < kl; i++) worst = fmax(worst, o->res[i] / scale);
      if (breakdown) { /* the Ritz values are exact: residuals are rounding */
        for (size_t i = 0; i < m; i++) o->res[i] = 0;
        worst = 0;
      }
      inf.max_residual = worst;
      if (m >= need && (breakdown || worst <= a->tol)) {
        inf.converged = 1;
        break;
      }
      if (last) break;
      if (breakdown) {
        /* invariant subspace: continue with a fresh direction (β = 0) */
        if (!random_orthogonal(a, Q, m, n, Q + m * n, cf)) {
          inf.converged = 1; /* the whole space is spanned */
          break;
        }
        beta[j + 1] = 0;
        inf.restarts++;
        continue;
      }
    }
    beta[j + 1] = b;
    double *qn1 = Q + (j + 1) * n;
    for (size_t i = 0; i < n; i++) qn1[i] = w[i] / b;
  }
  inf.iterations = m;
  o->m = m;
  o->info = inf;
done:
  free(Q), free(alpha), free(beta), free(work), free(w), free(cf), free(vf), free(af);
  return st;
}

/* Validates the common options; fills *o. */
static int check_opts(const char *who, const nco_lanczos_opts *in, nco_lanczos_opts *o) {
  *o = in ? *in : nco_lanczos_defaults();
  if (!(o->tol > 0)) return nco_error(NCO_ERR_RANGE, "%s: tol must be > 0, got %g", who, o->tol);
  if (o->max_iter == 0) return nco_error(NCO_ERR_RANGE, "%s: max_iter must be ≥ 1", who);
  if (!(o->breakdown >= 0) || !(o->breakdown < 1))
    return nco_error(NCO_ERR_RANGE, "%s: breakdown must be in [0, 1), got %g", who, o->breakdown);
  return NCO_OK;
}

/* Shared driver: Lanczos for the k extremes, results into hi/lo. */
static int extremes(const char *who, size_t n, nco_linop A, void *ctx, nco_lz_proj proj, void *pctx,
                    const nco_lanczos_opts *opts_in, size_t cap, size_t k, double *hi, double *lo,
                    nco_lanczos_info *info) {
  nco_lanczos_opts o;
  int st;
  if (!A || n == 0 || k == 0 || (!hi && !lo))
    return nco_error(NCO_ERR_INVALID, "%s: needs an operator, n ≥ 1, k ≥ 1 and an output (hi or lo)", who);
  if ((st = check_opts(who, opts_in, &o))) return st;
  size_t M = o.max_iter < cap ? o.max_iter : cap;
  if (k > M)
    return nco_error(NCO_ERR_RANGE, "%s: k = %zu exceeds the Krylov dimension %zu (max_iter %zu, dimension %zu)", who,
                     k, M, o.max_iter, cap);
  double *start = NULL;
  if (o.start) {
    start = nco_calloc(n, sizeof *start);
    if (!start) return nco_error(NCO_ERR_NOMEM, "%s: out of memory", who);
    for (size_t i = 0; i < n; i++) start[i] = o.start[i];
  }
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  nco_lz_out out = {0};
  out.theta = nco_calloc(M, sizeof(double));
  out.res = nco_calloc(M, sizeof(double));
  if (!out.theta || !out.res) {
    st = nco_error(NCO_ERR_NOMEM, "%s: out of memory", who);
    goto done;
  }
  nco_lz_args a = {.n = n, .op = A, .ctx = ctx, .proj = proj, .pctx = pctx, .start = start, .rng = &rng,
                   .max_iter = M, .reorth = o.reorth, .breakdown = o.breakdown, .extremes = 1, .tol = o.tol,
                   .kh = hi ? k : 0, .kl = lo ? k : 0};
  if ((st = nco_lz_run(&a, &out))) {
    nco_error_context(st, "%s", who);
    goto done;
  }
  for (size_t i = 0; i < k; i++) {
    if (hi) hi[i] = i < out.m ? out.theta[out.m - 1 - i] : NAN;
    if (lo) lo[i] = i < out.m ? out.theta[i] : NAN;
  }
  if (info) *info = out.info;
done:
  free(start), free(out.theta), free(out.res);
  return st;
}

int nco_lanczos(size_t n, nco_linop A, void *ctx, const nco_lanczos_opts *opts, size_t k, double *hi, double *lo,
                nco_lanczos_info *info) {
  return extremes("Lanczos", n, A, ctx, NULL, NULL, opts, n, k, hi, lo, info);
}

/* ---- singular values: Golub–Kahan–Lanczos ------------------------------ */

typedef struct {
  nco_linop_rect A;
  void *ctx;
  int swap; /* 1: work with Aᵀ (m < n) */
} rect;

/* T: R^q → R^p (p ≥ q) is A or Aᵀ; tr = 0 applies T, 1 applies Tᵀ. */
static int rect_apply(const rect *r, int tr, const float *in, float *out) {
  return r->A(r->ctx, r->swap ? !tr : tr, in, out);
}

int nco_svd_extremes(size_t m_rows, size_t n_cols, nco_linop_rect A, void *ctx, const nco_lanczos_opts *opts_in,
                     size_t k, double *hi, double *lo, nco_lanczos_info *info) {
  const char *who = "Golub-Kahan-Lanczos";
  nco_lanczos_opts o;
  int st;
  if (!A || m_rows == 0 || n_cols == 0 || k == 0 || (!hi && !lo))
    return nco_error(NCO_ERR_INVALID, "%s: needs an operator, m, n ≥ 1, k ≥ 1 and an output (hi or lo)", who);
  if ((st = check_opts(who, opts_in, &o))) return st;
  rect R = {A, ctx, m_rows < n_cols};
  size_t p = R.swap ? n_cols : m_rows, q = R.swap ? m_rows : n_cols; /* T is p × q, p ≥ q */
  size_t M = o.max_iter < q ? o.max_iter : q;
  if (k > M)
    return nco_error(NCO_ERR_RANGE, "%s: k = %zu exceeds the Krylov dimension %zu (max_iter %zu, min(m, n) = %zu)", who,
                     k, M, o.max_iter, q);
  nco_lanczos_info inf = {0};
  size_t vn, un;
  if (nco_mul_size(M + 1, q, &vn) || nco_mul_size(M, p, &un))
    return nco_error(NCO_ERR_OVERFLOW, "%s: workspace overflows (%zu × %zu, max_iter = %zu)", who, m_rows, n_cols, M);
  double *V = nco_calloc(vn, sizeof *V), *U = nco_calloc(un, sizeof *U);
  double *al = nco_calloc(M, sizeof *al), *be = nco_calloc(M, sizeof *be);
  double *d = nco_calloc(M, sizeof *d), *e = nco_calloc(M, sizeof *e), *last = nco_calloc(M, sizeof *last);
  double *bw = nco_calloc(4 * M + 4, sizeof *bw), *w = nco_calloc(p, sizeof *w), *cf = nco_calloc(M + 1, sizeof *cf);
  float *fin = nco_calloc(p, sizeof *fin), *fout = nco_calloc(p, sizeof *fout);
  size_t mm = 0;
  if (!V || !U || !al || !be || !d || !e || !last || !bw || !w || !cf || !fin || !fout) {
    st = nco_error(NCO_ERR_NOMEM, "%s: out of memory (%zu × %zu, max_iter = %zu)", who, m_rows, n_cols, M);
    goto done;
  }
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  nco_lz_args ra = {.rng = &rng}; /* for random_orthogonal: no projection */
  for (size_t i = 0; i < q; i++) V[i] = nco_rng_normal(&rng);
  double nv = sqrt(ddot(q, V, V));
  for (size_t i = 0; i < q; i++) V[i] /= nv;
  double amax = 0; /* largest α, β so far: ‖B‖ within a factor 2 */
  size_t need = (hi ? k : 0) + (lo ? k : 0);
  if (need > M) need = M;
  for (size_t j = 0; j < M; j++) {
    /* Golub & Van Loan Alg. 10.4.1 (upper bidiagonal):
     * α_j u_j = T v_j − β_{j−1} u_{j−1};  β_j v_{j+1} = Tᵀ u_j − α_j v_j */
    const double *v = V + j * q;
    for (size_t i = 0; i < q; i++) fin[i] = (float)v[i];
    if ((st = rect_apply(&R, 0, fin, fout))) goto fail;
    inf.matvecs++;
    size_t bad = widen_finite(p, fout, w);
    if (bad < p) {
      st = nco_error(NCO_ERR_NONFINITE, "%s: operator returned %g at entry %zu (iteration %zu)", who, fout[bad], bad, j);
      goto done;
    }
    if (j > 0) daxpy(p, -be[j - 1], U + (j - 1) * p, w);
    if (o.reorth) orthogonalise(p, U, j, w, (size_t)-1, cf);
    double a = sqrt(ddot(p, w, w));
    double *u = U + j * p;
    if (!(a > DBL_EPSILON * amax) || a == 0) {
      /* T v_j lies in span(U_{j−1}): a zero singular value of B. Any unit
       * u_j ⊥ U_{j−1} keeps T V_j = U_j B_j exact with α_j = 0. (Only an
       * exact zero is treated so: a tiny α of float rounding is a valid
       * direction and keeps small singular values, ~u·‖T‖ when T is
       * rank deficient.) */
      al[j] = 0;
      if (!random_orthogonal(&ra, U, j, p, u, cf)) { /* cannot happen: j < q ≤ p */
        st = nco_error(NCO_ERR_NUMERIC, "%s: no direction left in R^%zu at iteration %zu", who, p, j);
        goto done;
      }
      inf.restarts++;
    } else {
      al[j] = a;
      for (size_t i = 0; i < p; i++) u[i] = w[i] / a;
    }
    amax = fmax(amax, al[j]);
    for (size_t i = 0; i < p; i++) fin[i] = (float)u[i];
    if ((st = rect_apply(&R, 1, fin, fout))) goto fail;
    inf.matvecs++;
    bad = widen_finite(q, fout, w);
    if (bad < q) {
      st = nco_error(NCO_ERR_NONFINITE, "%s: transposed operator returned %g at entry %zu (iteration %zu)", who,
                     fout[bad], bad, j);
      goto done;
    }
    daxpy(q, -al[j], v, w);
    if (o.reorth) orthogonalise(q, V, j + 1, w, (size_t)-1, cf);
    double b = sqrt(ddot(q, w, w));
    mm = j + 1;
    int breakdown = !(b > o.breakdown * fmax(amax, b)) || b == 0;
    be[j] = breakdown ? 0 : b;
    amax = fmax(amax, be[j]);
    /* singular values of B_mm (diag α, superdiag β_0..β_{mm−2}), and the
     * last components of its left singular vectors (U·Q with U = e_mmᵀ):
     * the residual of Ritz triple i is β_{mm−1}·|Q_{mm,i}|. */
    {
      int nn = (int)mm, zero = 0, one = 1, binfo = 0;
      memcpy(d, al, mm * sizeof *d);
      if (mm > 1) memcpy(e, be, (mm - 1) * sizeof *e);
      memset(last, 0, mm * sizeof *last);
      last[mm - 1] = 1;
      double dummy = 0;
      dbdsqr_("U", &nn, &zero, &one, &zero, d, e, &dummy, &one, last, &one, &dummy, &one, bw, &binfo);
      if (binfo) {
        st = nco_error(NCO_ERR_NUMERIC, "%s: LAPACK dbdsqr failed on B_%zu (info %d)", who, mm, binfo);
        goto done;
      }
    }
    /* d: descending; wanted the kh largest (first) and kl smallest (last) */
    double smax = d[0], worst = 0, scale = smax > 0 ? smax : 1;
    size_t kh = hi ? (k < mm ? k : mm) : 0, kl = lo ? (k < mm ? k : mm) : 0;
    for (size_t i = 0; i < kh; i++) worst = fmax(worst, fabs(be[j] * last[i]) / scale);
    for (size_t i = 0; i < kl; i++) worst = fmax(worst, fabs(be[j] * last[mm - 1 - i]) / scale);
    inf.max_residual = worst;
    if (mm >= need && (breakdown || worst <= o.tol)) {
      inf.converged = 1;
      break;
    }
    if (mm == M) {
      if (mm == q) inf.converged = 1; /* R^q exhausted: B is T's full projection */
      break;
    }
    double *vn1 = V + (j + 1) * q;
    if (breakdown) {
      if (!random_orthogonal(&ra, V, j + 1, q, vn1, cf)) {
        inf.converged = 1;
        break;
      }
      inf.restarts++;
    } else {
      for (size_t i = 0; i < q; i++) vn1[i] = w[i] / b;
    }
  }
  inf.iterations = mm;
  for (size_t i = 0; i < k; i++) {
    if (hi) hi[i] = i < mm ? fabs(d[i]) : NAN;
    if (lo) lo[i] = i < mm ? fabs(d[mm - 1 - i]) : NAN;
  }
  if (info) *info = inf;
  goto done;
fail:
  nco_error_context(st, "%s", who);
done:
  free(V), free(U), free(al), free(be), free(d), free(e), free(last), free(bw), free(w), free(cf), free(fin), free(fout);
  return st;
}

/* ---- problem operators --------------------------------------------------- */

int nco_lz_hess_op(void *c, const float *v, float *out) {
  nco_lz_hess *h = c;
  if (!h->riemannian) return nco_problem_hvp(h->pb, h->x, h->idx, h->nb, v, out);
  /* Ma eq. (5.5): Hess f(x)[v] = P_x ∇²f(x) P_x v − ⟨x, ∇f(x)⟩ P_x v */
  size_t d = h->pb->dim;
  nco_copy(d, v, h->tmp);
  nco_problem_project_tangent(h->pb, h->x, h->tmp);
  int st = nco_problem_hvp(h->pb, h->x, h->idx, h->nb, h->tmp, out);
  if (st) return st;
  for (size_t j = 0; j < d; j++) out[j] = (float)((double)out[j] - h->xg * h->tmp[j]);
  nco_problem_project_tangent(h->pb, h->x, out);
  return NCO_OK;
}

/* P_x in double: v ← v − ⟨x, v⟩x/‖x‖² */
void nco_lz_hess_proj(void *c, double *v) {
  const nco_lz_hess *h = c;
  size_t d = h->pb->dim;
  double s = 0;
  for (size_t j = 0; j < d; j++) s += (double)h->x[j] * v[j];
  s /= h->xx;
  for (size_t j = 0; j < d; j++) v[j] -= s * h->x[j];
}

int nco_hessian_extremes(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const nco_lanczos_opts *opts,
                         size_t k, double *hi, double *lo, nco_lanczos_info *info) {
  if (!pb || !x) return nco_error(NCO_ERR_INVALID, "Hessian spectrum: NULL problem or point");
  size_t d = pb->dim;
  if (!idx && nb != pb->n)
    return nco_error(NCO_ERR_INVALID, "%s: Hessian spectrum: full batch (idx NULL) needs nb = n = %zu, got %zu",
                     pb->label, pb->n, nb);
  nco_lz_hess h = {pb, x, idx, nb, NULL, pb->manifold == NCO_MANIFOLD_SPHERE, 0, 0};
  char who[192];
  snprintf(who, sizeof who, "%s: Hessian spectrum", pb->label);
  if (!h.riemannian) return extremes(who, d, nco_lz_hess_op, &h, NULL, NULL, opts, d, k, hi, lo, info);
  if (d < 2) return nco_error(NCO_ERR_RANGE, "%s: the sphere S^0 has no tangent space", who);
  h.xx = nco_dot(d, x, x);
  if (!(h.xx > 0) || !isfinite(h.xx)) return nco_error(NCO_ERR_INVALID, "%s: the point is zero or not finite", who);
  h.tmp = nco_calloc(d, sizeof *h.tmp);
  if (!h.tmp) return nco_error(NCO_ERR_NOMEM, "%s: out of memory", who);
  double loss;
  int st = nco_problem_eval(pb, x, idx, nb, &loss, h.tmp);
  if (!st) {
    h.xg = nco_dot(d, x, h.tmp);
    /* the tangent space has dimension d − 1 */
    st = extremes(who, d, nco_lz_hess_op, &h, nco_lz_hess_proj, &h, opts, d - 1, k, hi, lo, info);
  }
  free(h.tmp);
  return st;
}

/* J (trans = 0: JVP, R^d → R^N) and Jᵀ (trans = 1: VJP). */
static int jac_op(void *c, int trans, const float *in, float *out) {
  nco_lz_hess *h = c;
  if (trans) return nco_problem_vjp(h->pb, h->x, h->idx, h->nb, in, out);
  return nco_problem_jvp(h->pb, h->x, h->idx, h->nb, in, out);
}

int nco_jacobian_svals_k(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const nco_lanczos_opts *opts,
                         size_t k, double *hi, double *lo, nco_lanczos_info *info) {
  if (!pb || !x) return nco_error(NCO_ERR_INVALID, "Jacobian singular values: NULL problem or point");
  if (!nco_problem_is_least_squares(pb))
    return nco_error(NCO_ERR_UNSUPPORTED, "%s: Jacobian singular values need a least-squares problem (residual, JVP, VJP)",
                     pb->label);
  if (!idx && nb != pb->n)
    return nco_error(NCO_ERR_INVALID, "%s: Jacobian singular values: full batch (idx NULL) needs nb = n = %zu, got %zu",
                     pb->label, pb->n, nb);
  size_t N = nco_problem_nres(pb, nb);
  nco_lz_hess h = {pb, x, idx, nb, NULL, 0, 0, 0};
  int st = nco_svd_extremes(N, pb->dim, jac_op, &h, opts, k, hi, lo, info);
  if (st) return nco_error_context(st, "%s: Jacobian singular values", pb->label);
  return NCO_OK;
}

int nco_jacobian_svals(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const nco_lanczos_opts *opts,
                       double *smax, double *smin, nco_lanczos_info *info) {
  double hi = NAN, lo = NAN;
  int st = nco_jacobian_svals_k(pb, x, idx, nb, opts, 1, smax ? &hi : NULL, smin ? &lo : NULL, info);
  if (st) return st;
  if (smax) *smax = hi;
  if (smin) *smin = lo;
  return NCO_OK;
}

void nco_lz_ball_point(nco_rng *rng, size_t d, const float *c, double R, float *x, double *tmp) {
  double s = 0;
  do {
    s = 0;
    for (size_t j = 0; j < d; j++) tmp[j] = nco_rng_normal(rng), s += tmp[j] * tmp[j];
  } while (!(s > 0));
  /* radius R·U^{1/d}: uniform in the ball */
  double rho = R * pow(nco_rng_uniform(rng), 1.0 / (double)d) / sqrt(s);
  for (size_t j = 0; j < d; j++) x[j] = (float)((double)c[j] + rho * tmp[j]);
}
