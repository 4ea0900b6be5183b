/* Landscape and trajectory diagnostics (diag.h §1, 2, 4, 7): PL ratio,
 * quasi-convexity, RSI, critical-point classification, misfit, distance
 * and the regularity-principle accumulator. */
#include "ncopt/diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"

/* ---- 1. landscape at a point ------------------------------------------- */

/* a/b with the conventions of diag.h: 0/0 → NAN, ±x/0 → ±INF */
static double ratio(double a, double b) {
  if (b != 0) return a / b;
  if (a == 0 || isnan(a)) return NAN;
  return a > 0 ? INFINITY : -INFINITY;
}

static int gap_of(const char *who, double f, double fstar, double *gap) {
  if (!isfinite(f)) return nco_error(NCO_ERR_NONFINITE, "%s: the loss f = %g is not finite", who, f);
  if (!isfinite(fstar)) return nco_error(NCO_ERR_NONFINITE, "%s: f* = %g is not finite", who, fstar);
  *gap = f - fstar;
  if (*gap < 0)
    return nco_error(NCO_ERR_RANGE, "%s: f = %.17g is below f* = %.17g: f* is not a lower bound", who, f, fstar);
  return NCO_OK;
}

/* ⟨g, x − x*⟩ in double */
static double gdot(size_t d, const float *g, const float *x, const float *xs) {
  double s = 0;
  for (size_t j = 0; j < d; j++) s += (double)g[j] * ((double)x[j] - xs[j]);
  return s;
}

int nco_pl_ratio(double f, double fstar, size_t d, const float *grad, double *out) {
  const char *who = "PL ratio";
  if (!out || !grad || d == 0) return nco_error(NCO_ERR_INVALID, "%s: NULL argument or d = 0", who);
  *out = NAN;
  double gap;
  int st = gap_of(who, f, fstar, &gap);
  if (st) return st;
  double g2 = nco_dot(d, grad, grad);
  if (!isfinite(g2)) return nco_error(NCO_ERR_NONFINITE, "%s: the gradient is not finite", who);
  /* Ma eq. (2.1): ‖∇f‖² ≥ μ(f − f*); Crane & Roosta Thm 2(ii) in the form
   * f̂ ≤ ‖∇f̂‖²/(2λ²), i.e. this ratio ≥ λ² */
  *out = ratio(g2, 2 * gap);
  return NCO_OK;
}

int nco_quasi_convexity(double f, double fstar, size_t d, const float *grad, const float *x, const float *xstar,
                        double *out) {
  const char *who = "quasi-convexity";
  if (!out || !grad || !x || !xstar || d == 0) return nco_error(NCO_ERR_INVALID, "%s: NULL argument or d = 0", who);
  *out = NAN;
  double gap;
  int st = gap_of(who, f, fstar, &gap);
  if (st) return st;
  double a = gdot(d, grad, x, xstar);
  if (!isfinite(a)) return nco_error(NCO_ERR_NONFINITE, "%s: ⟨∇f, x − x*⟩ is not finite", who);
  /* Ma eq. (2.2): ∇f(x)ᵀ(x − x*) ≥ τ(f(x) − f(x*)) */
  *out = ratio(a, gap);
  return NCO_OK;
}

int nco_rsi(size_t d, const float *grad, const float *x, const float *xstar, double *out) {
  const char *who = "RSI";
  if (!out || !grad || !x || !xstar || d == 0) return nco_error(NCO_ERR_INVALID, "%s: NULL argument or d = 0", who);
  *out = NAN;
  double a = gdot(d, grad, x, xstar), e2 = 0;
  for (size_t j = 0; j < d; j++) e2 += ((double)x[j] - xstar[j]) * ((double)x[j] - xstar[j]);
  if (!isfinite(a) || !isfinite(e2)) return nco_error(NCO_ERR_NONFINITE, "%s: gradient or point not finite", who);
  /* Ma eq. (2.3): ∇f(x)ᵀ(x − x*) ≥ τ‖x − x*‖² */
  *out = e2 == 0 ? NAN : a / e2;
  return NCO_OK;
}

int nco_landscape_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double fstar,
                       const float *xstar, float *grad, nco_landscape_point *out) {
  if (!pb || !x || !grad || !out) return nco_error(NCO_ERR_INVALID, "landscape: NULL argument");
  size_t d = pb->dim;
  *out = (nco_landscape_point){NAN, NAN, NAN, NAN, NAN, NAN};
  int st = nco_problem_riemannian_grad(pb, x, idx, nb, &out->loss, grad);
  if (st) return nco_error_context(st, "landscape");
  out->grad_norm = nco_nrm2(d, grad);
  if ((st = nco_pl_ratio(out->loss, fstar, d, grad, &out->pl_ratio)))
    return nco_error_context(st, "%s", pb->label);
  if (xstar) {
    if ((st = nco_quasi_convexity(out->loss, fstar, d, grad, x, xstar, &out->quasi_convexity)) ||
        (st = nco_rsi(d, grad, x, xstar, &out->rsi)))
      return nco_error_context(st, "%s", pb->label);
    out->dist_to_star = nco_dist2(d, x, xstar);
  }
  return NCO_OK;
}

/* ---- 2. critical points ------------------------------------------------- */

const char *nco_point_kind_name(nco_point_kind k) {
  switch (k) {
  case NCO_POINT_NONCRITICAL: return "noncritical";
  case NCO_POINT_MINIMUM: return "minimum";
  case NCO_POINT_STRICT_SADDLE: return "strict_saddle";
  case NCO_POINT_MAXIMUM: return "maximum";
  case NCO_POINT_DEGENERATE: return "degenerate";
  }
  return "unknown";
}

nco_classify_opts nco_classify_defaults(void) {
  return (nco_classify_opts){.k = 1, .grad_tol = 1e-4, .eig_rtol = 0, .eig_atol = 0, .beta = 0,
                             .lanczos = nco_lanczos_defaults()};
}

int nco_classify_point(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const nco_classify_opts *opts_in,
                       nco_classification *out) {
  if (!pb || !x || !out) return nco_error(NCO_ERR_INVALID, "classify: NULL argument");
  nco_classify_opts o = opts_in ? *opts_in : nco_classify_defaults();
  const char *L = pb->label;
  if (o.k < 1 || o.k > NCO_DIAG_MAXK)
    return nco_error(NCO_ERR_RANGE, "%s: classify: k = %zu must be in [1, %d]", L, o.k, NCO_DIAG_MAXK);
  if (!(o.grad_tol >= 0)) return nco_error(NCO_ERR_RANGE, "%s: classify: grad_tol = %g must be ≥ 0", L, o.grad_tol);
  if (!(o.eig_atol >= 0)) return nco_error(NCO_ERR_RANGE, "%s: classify: eig_atol = %g must be ≥ 0", L, o.eig_atol);
  if (isnan(o.eig_rtol) || isnan(o.beta)) return nco_error(NCO_ERR_RANGE, "%s: classify: eig_rtol or beta is NaN", L);
  memset(out, 0, sizeof *out);
  out->k = o.k;
  out->exact_hvp = nco_problem_has_exact_hvp(pb);
  float *g = nco_calloc(pb->dim, sizeof *g);
  if (!g) return nco_error(NCO_ERR_NOMEM, "%s: classify: out of memory", L);
  int st = nco_problem_riemannian_grad(pb, x, idx, nb, &out->loss, g);
  if (!st) out->grad_norm = nco_nrm2(pb->dim, g);
  free(g);
  if (st) return nco_error_context(st, "classify");
  if ((st = nco_hessian_extremes(pb, x, idx, nb, &o.lanczos, o.k, out->hi, out->lo, &out->info)))
    return nco_error_context(st, "classify");
  out->lam_min = out->lo[0];
  out->lam_max = out->hi[0];
  /* τ: relative to the spectral radius; float32 exact HVPs are good to
   * ~1e-6 relative, finite-difference ones to ~1e-3 (problem.h) */
  double rt = o.eig_rtol > 0 ? o.eig_rtol : (out->exact_hvp ? 1e-5 : 1e-3);
  double rho = fmax(fabs(out->lam_min), fabs(out->lam_max));
  out->tau = fmax(o.eig_atol, rt * rho);
  out->beta = o.beta > 0 ? o.beta : out->tau;
  /* Cevher lecture 9 (classification of critical points) with Ma
   * Definition 2.1's strict-saddle threshold β */
  if (out->lam_max <= -out->tau)
    out->curvature = NCO_POINT_MAXIMUM;
  else if (out->lam_min <= -out->beta)
    out->curvature = NCO_POINT_STRICT_SADDLE;
  else if (out->lam_min >= out->tau && out->tau > 0)
    out->curvature = NCO_POINT_MINIMUM;
  else
    out->curvature = NCO_POINT_DEGENERATE;
  out->kind = out->grad_norm > o.grad_tol ? NCO_POINT_NONCRITICAL : out->curvature;
  return NCO_OK;
}

/* ---- 4. misfit and distance --------------------------------------------- */

struct nco_misfit {
  nco_problem *pb;  /* the problem evaluated (root when unreg) */
  size_t *idx;      /* copy of the batch, or NULL (full) */
  size_t nb;
  double *r;        /* residual buffer */
  size_t nres;
  double r0;
};

void nco_misfit_free(nco_misfit *m) {
  if (!m) return;
  free(m->idx), free(m->r), free(m);
}

static int res_norm(nco_misfit *m, const float *theta, double *out) {
  int st = nco_problem_residual64(m->pb, theta, m->idx, m->nb, m->r);
  if (st) return st;
  double s = 0;
  for (size_t i = 0; i < m->nres; i++) s += m->r[i] * m->r[i];
  if (!isfinite(s)) return nco_error(NCO_ERR_NONFINITE, "%s: misfit: the residual is not finite", m->pb->label);
  *out = sqrt(s);
  return NCO_OK;
}

int nco_misfit_create(nco_problem *pb, int unreg, const float *theta0, const size_t *idx, size_t nb,
                      nco_misfit **out) {
  if (!pb || !theta0 || !out) return nco_error(NCO_ERR_INVALID, "misfit: NULL argument");
  *out = NULL;
  nco_problem *q = unreg ? nco_problem_root(pb) : pb;
  if (!nco_problem_is_least_squares(q))
    return nco_error(NCO_ERR_UNSUPPORTED, "%s: misfit ‖r_t‖/‖r_0‖ needs a least-squares problem (residual)", q->label);
  if (!idx) {
    if (nb != pb->n)
      return nco_error(NCO_ERR_INVALID, "%s: misfit: full batch (idx NULL) needs nb = n = %zu, got %zu", pb->label,
                       pb->n, nb);
    nb = q->n;
  }
  if (nb == 0 || nb > q->n)
    return nco_error(NCO_ERR_RANGE, "%s: misfit: batch size %zu not in [1, %zu]", q->label, nb, q->n);
  nco_misfit *m = nco_calloc(1, sizeof *m);
  if (!m) return nco_error(NCO_ERR_NOMEM, "misfit: out of memory");
  m->pb = q, m->nb = nb, m->nres = nco_problem_nres(q, nb);
  m->r = nco_calloc(m->nres, sizeof *m->r);
  if (idx) {
    m->idx = nco_calloc(nb, sizeof *m->idx);
    if (m->idx) memcpy(m->idx, idx, nb * sizeof *idx);
  }
  int st;
  if (!m->r || (idx && !m->idx)) {
    st = nco_error(NCO_ERR_NOMEM, "%s: misfit: out of memory (%zu residuals)", q->label, m->nres);
    goto fail;
  }
  if ((st = res_norm(m, theta0, &m->r0))) goto fail;
  if (m->r0 == 0) {
    st = nco_error(NCO_ERR_RANGE, "%s: misfit: ‖r_0‖ = 0 (θ_0 already interpolates the batch): the ratio is undefined",
                   q->label);
    goto fail;
  }
  *out = m;
  return NCO_OK;
fail:
  nco_misfit_free(m);
  return st;
}

int nco_misfit_eval(nco_misfit *m, const float *theta, double *misfit, double *rn) {
  if (!m || !theta || !misfit) return nco_error(NCO_ERR_INVALID, "misfit: NULL argument");
  double r;
  int st = res_norm(m, theta, &r);
  if (st) return st;
  *misfit = r / m->r0;
  if (rn) *rn = r;
  return NCO_OK;
}

double nco_misfit_r0(const nco_misfit *m) { return m ? m->r0 : NAN; }

int nco_distance(size_t d, const float *theta, const float *theta0, double *dist, double *rel) {
  if (!theta || !theta0 || d == 0) return nco_error(NCO_ERR_INVALID, "distance: NULL argument or d = 0");
  double a = nco_dist2(d, theta, theta0), b = nco_nrm2(d, theta0);
  if (!isfinite(a) || !isfinite(b)) return nco_error(NCO_ERR_NONFINITE, "distance: θ or θ_0 is not finite");
  if (dist) *dist = a;
  if (rel) *rel = b > 0 ? a / b : NAN;
  return NCO_OK;
}

int nco_distance_slices(size_t d, const float *theta, const float *theta0, const nco_slice *s, size_t ns, double *dist,
                        double *rel) {
  if (!theta || !theta0 || (!s && ns)) return nco_error(NCO_ERR_INVALID, "distance: NULL argument");
  for (size_t k = 0; k < ns; k++) {
    const char *nm = s[k].name ? s[k].name : "(unnamed)";
    size_t end;
    if (s[k].length == 0) return nco_error(NCO_ERR_RANGE, "distance: slice %zu \"%s\" is empty", k, nm);
    if (nco_add_size(s[k].offset, s[k].length, &end) || end > d)
      return nco_error(NCO_ERR_RANGE, "distance: slice %zu \"%s\" [%zu, %zu + %zu) ends past the %zu parameters", k, nm,
                       s[k].offset, s[k].offset, s[k].length, d);
    double a, r;
    int st = nco_distance(s[k].length, theta + s[k].offset, theta0 + s[k].offset, &a, &r);
    if (st) return nco_error_context(st, "slice \"%s\"", nm);
    if (dist) dist[k] = a;
    if (rel) rel[k] = r;
  }
  return NCO_OK;
}

/* ---- 7. regularity principle -------------------------------------------- */

int nco_regularity_init(nco_regularity *r, size_t d, const float *theta_T, double inf_loss) {
  if (!r || !theta_T || d == 0) return nco_error(NCO_ERR_INVALID, "regularity: NULL argument or d = 0");
  memset(r, 0, sizeof *r);
  if (!isfinite(inf_loss)) return nco_error(NCO_ERR_NONFINITE, "regularity: inf ℓ = %g is not finite", inf_loss);
  if (!nco_all_finite(d, theta_T)) return nco_error(NCO_ERR_NONFINITE, "regularity: θ_T is not finite");
  r->theta_T = nco_calloc(d, sizeof *r->theta_T);
  if (!r->theta_T) return nco_error(NCO_ERR_NOMEM, "regularity: out of memory (d = %zu)", d);
  memcpy(r->theta_T, theta_T, d * sizeof *theta_T);
  r->d = d;
  r->inf_loss = inf_loss;
  r->gamma = INFINITY;
  r->gamma_last = NAN;
  r->dist0_T = NAN;
  return NCO_OK;
}

void nco_regularity_free(nco_regularity *r) {
  if (!r) return;
  free(r->theta_T);
  r->theta_T = NULL;
}

/* Chen, Yang & Zhou, Definition 2 (eq. 2) solved for γ: inner = ⟨θ_k − θ_T,
 * U_k⟩, uu = ‖U_k‖². */
static int reg_update(nco_regularity *r, const float *theta_k, double inner, double uu, double eta, double loss,
                      double *gk) {
  if (!isfinite(inner) || !isfinite(uu))
    return nco_error(NCO_ERR_NONFINITE, "regularity: step %zu: θ_k or U_k is not finite", r->steps);
  double gap = loss - r->inf_loss;
  if (gap < 0)
    return nco_error(NCO_ERR_RANGE, "regularity: step %zu: loss %.17g is below inf ℓ = %.17g", r->steps, loss,
                     r->inf_loss);
  double num = inner - 0.5 * eta * uu, g;
  if (gap > 0) {
    g = num / gap;
  } else {
    g = num >= 0 ? INFINITY : -INFINITY;
    r->n_zero_gap++;
  }
  if (r->steps == 0) r->dist0_T = nco_dist2(r->d, theta_k, r->theta_T);
  if (!(g > 0)) r->n_violations++;
  if (g < r->gamma) r->gamma = g, r->argmin = r->steps;
  r->gamma_last = g;
  r->steps++;
  if (gk) *gk = g;
  return NCO_OK;
}

static int reg_check(const nco_regularity *r, const float *a, const float *b, double eta, double loss) {
  if (!r || !r->theta_T || !a || !b) return nco_error(NCO_ERR_INVALID, "regularity: not initialised or NULL argument");
  if (!(eta > 0) || !isfinite(eta))
    return nco_error(NCO_ERR_RANGE, "regularity: step %zu: step size η = %g must be finite and > 0", r->steps, eta);
  if (!isfinite(loss)) return nco_error(NCO_ERR_NONFINITE, "regularity: step %zu: loss = %g", r->steps, loss);
  return NCO_OK;
}

int nco_regularity_add(nco_regularity *r, const float *theta_k, const float *U, double eta, double loss, double *gk) {
  int st = reg_check(r, theta_k, U, eta, loss);
  if (st) return st;
  double inner = 0, uu = 0;
  for (size_t j = 0; j < r->d; j++) {
    inner += ((double)theta_k[j] - r->theta_T[j]) * U[j];
    uu += (double)U[j] * U[j];
  }
  return reg_update(r, theta_k, inner, uu, eta, loss, gk);
}

int nco_regularity_add_step(nco_regularity *r, const float *theta_k, const float *theta_k1, double eta, double loss,
                            double *gk) {
  int st = reg_check(r, theta_k, theta_k1, eta, loss);
  if (st) return st;
  /* U_k = (θ_k − θ_{k+1})/η_k */
  double inner = 0, uu = 0;
  for (size_t j = 0; j < r->d; j++) {
    double u = ((double)theta_k[j] - theta_k1[j]) / eta;
    inner += ((double)theta_k[j] - r->theta_T[j]) * u;
    uu += u * u;
  }
  return reg_update(r, theta_k, inner, uu, eta, loss, gk);
}

double nco_regularity_factor(const nco_regularity *r) {
  if (!r || r->steps == 0 || !(r->dist0_T > 0)) return NAN;
  return r->gamma / (r->dist0_T * r->dist0_T);
}
