/* src/optim/lm.c — Levenberg–Marquardt on the least-squares interface.
 *
 * For F(x) = c·½‖r(x)‖² (the problem's loss; c = 1 for NCO_REDUCE_SUM,
 * 1/nb for MEAN) with gradient g = c·Jᵀr, one iterate solves the damped
 * Gauss–Newton system
 *     (c·JᵀJ + μI) δ = −g                              (Moré 1978, eq. 2.2–2.3)
 * by conjugate gradients using only Jacobian-vector products
 * (nco_problem_jvp / _vjp: J is never formed; Nocedal & Wright 2006,
 * Alg. 5.2 on the normal equations, cf. "CGLS"), then evaluates the trial
 * x + δ and the gain ratio
 *     ρ = (F(x) − F(x + δ)) / (L(0) − L(δ)),  L(0) − L(δ) = −gᵀδ − ½c‖Jδ‖²
 * (Madsen, Nielsen & Tingleff, "Methods for Non-Linear Least Squares
 * Problems", 2nd ed. 2004, eq. 3.14; the model decrease is computed from
 * the CG solution directly, so an inexact solve cannot fake progress).
 * The step is accepted iff ρ > 0 — written `if (!(rho > 0))` reject, so a
 * NaN or infinite trial loss is a rejection, never an acceptance. The
 * damping follows Nielsen (1999, "Damping parameter in Marquardt's
 * method", IMM-REP-1999-05; MNT eq. 3.15–3.16):
 *     accept: μ ← μ·max(1/3, 1 − (2ρ − 1)³),  ν ← 2
 *     reject: μ ← μ·ν,                        ν ← 2ν
 * starting from μ = mu0, ν = 2.
 *
 * One nco_optim_iterate() is one trial (accepted or rejected). It returns
 * NCO_CONVERGED, without a trial, when ‖g‖_∞ ≤ tolerance_grad (MNT eq.
 * 3.15a, ε₁) or when the computed step is below tolerance_change relative
 * to x: ‖δ‖ ≤ tolerance_change·(‖x‖ + tolerance_change) (MNT eq. 3.15b,
 * ε₂). *loss and grad receive F and g at the current x. Any batch may be
 * used (both evaluations of a trial use the same one); weight_decay,
 * maximize and projections are not supported (add an l2-regularised
 * problem instead). lr is not used. One call counts as one step (o->k).
 *
 * Memory. The state (saved) is four doubles: μ, ν and the accepted /
 * rejected trial counts. The dim-length CG vectors live in o->scratch. The
 * one residual-length vector CG needs (J p, then J δ) is the problem's own
 * residual buffer pb->res32 (n·m + m_extra floats, large enough for every
 * batch), exactly as nco_problem_hvp uses it for its exact least-squares
 * Hessian product: its length depends on the problem, not known when the
 * optimiser is created, and a step must not allocate.
 */
#include <math.h>
#include <stddef.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "optim/internal.h"

enum { LM_MU = 0, LM_NU, LM_ACCEPTED, LM_REJECTED, LM_NSCALARS };

static void lm_defaults(nco_optim_params *hp) {
  hp->mu0 = 1e-3;
  hp->cg_max_iter = 50;
  hp->cg_tol = 1e-6;
  hp->tolerance_grad = 1e-7;
  hp->tolerance_change = 1e-9;
}

static int lm_validate(const nco_optim_params *hp) {
  if (hp->weight_decay != 0)
    return nco_error(NCO_ERR_UNSUPPORTED,
                     "optimizer.weight_decay: lm has no weight decay; use an l2-regularised "
                     "problem instead (got %g)",
                     hp->weight_decay);
  if (hp->maximize)
    return nco_error(NCO_ERR_UNSUPPORTED, "optimizer.maximize: lm only minimises (got %d)",
                     hp->maximize);
  if (hp->projection != NCO_PROJ_NONE)
    return nco_error(NCO_ERR_UNSUPPORTED,
                     "optimizer.projection: lm is unconstrained; projection must be none (got %d)",
                     (int)hp->projection);
  return NCO_OK;
}

static void lm_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                          size_t *scratch_bytes) {
  (void)hp;
  size_t w;
  *nf = 0;
  *nd = LM_NSCALARS;
  if (nco_mul_size(dim, 6, &w) || nco_mul_size(w, sizeof(float), scratch_bytes))
    *scratch_bytes = SIZE_MAX;
}

static int lm_init(nco_optim *o) {
  o->d[LM_MU] = o->hp.mu0;
  o->d[LM_NU] = 2.0;
  o->d[LM_ACCEPTED] = 0;
  o->d[LM_REJECTED] = 0;
  return NCO_OK;
}

/* out ← c·Jᵀ(J u) + μ u, with J u in jb[nres]. */
static int gn_product(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double c,
                      double mu, const float *u, float *jb, float *out) {
  int st = nco_problem_jvp(pb, x, idx, nb, u, jb);
  if (!st) st = nco_problem_vjp(pb, x, idx, nb, jb, out);
  if (st) return st;
  for (size_t j = 0; j < pb->dim; j++) out[j] = (float)(c * (double)out[j] + mu * (double)u[j]);
  return NCO_OK;
}

static int lm_trial(nco_optim *o, nco_problem *pb, const size_t *idx, size_t nb, double *loss_out,
                    float *grad_out) {
  size_t n = o->dim;
  const nco_optim_params *hp = &o->hp;
  int st;
  if (!nco_problem_is_least_squares(pb) || !pb->res32)
    return nco_error(NCO_ERR_UNSUPPORTED,
                     "lm: problem %s has no least-squares interface (residual, JVP, VJP)",
                     pb->label);
  if (!idx) nb = pb->n;
  float *w = (float *)o->scratch;
  float *g = w, *delta = w + n, *r = w + 2 * n, *p = w + 3 * n, *ap = w + 4 * n, *xt = w + 5 * n;
  float *jb = pb->res32;
  double c = nco_problem_scale(pb, nb);

  /* F(x) and g = c·Jᵀr */
  double F;
  if ((st = nco_problem_eval(pb, o->x, idx, nb, &F, g)))
    return nco_error_context(st, "lm: step %llu", (unsigned long long)o->k);
  if (loss_out) *loss_out = F;
  if (grad_out) nco_copy(n, g, grad_out);
  /* MNT eq. (3.15a): ‖g‖_∞ ≤ ε₁ */
  if (nco_amax(n, g) <= hp->tolerance_grad) return NCO_CONVERGED;

  double mu = o->d[LM_MU], nu = o->d[LM_NU];

  /* CG on (c·JᵀJ + μI)δ = −g from δ = 0 (Nocedal & Wright Alg. 5.2);
   * stop when ‖residual‖ ≤ cg_tol·‖g‖. */
  nco_fill(n, 0.0f, delta);
  for (size_t j = 0; j < n; j++) r[j] = -g[j];
  nco_copy(n, r, p);
  double rr = nco_dot(n, r, r);
  double stop = hp->cg_tol * hp->cg_tol * rr;
  for (size_t it = 0; it < hp->cg_max_iter && rr > stop; it++) {
    if ((st = gn_product(pb, o->x, idx, nb, c, mu, p, jb, ap)))
      return nco_error_context(st, "lm: conjugate gradients");
    double pap = nco_dot(n, p, ap);
    if (!(pap > 0) || !isfinite(pap)) break; /* μ > 0 makes the system positive definite */
    double a = rr / pap;
    for (size_t j = 0; j < n; j++) {
      delta[j] = (float)((double)delta[j] + a * p[j]);
      r[j] = (float)((double)r[j] - a * ap[j]);
    }
    double rr_new = nco_dot(n, r, r);
    double b = rr_new / rr;
    for (size_t j = 0; j < n; j++) p[j] = (float)((double)r[j] + b * p[j]);
    rr = rr_new;
  }

  /* MNT eq. (3.15b): ‖δ‖ ≤ ε₂(‖x‖ + ε₂) */
  double dn = nco_nrm2(n, delta), xn = nco_nrm2(n, o->x);
  if (!isfinite(dn))
    return nco_error(NCO_ERR_NUMERIC, "lm: step %llu: the CG step has norm %g (mu = %g)",
                     (unsigned long long)o->k, dn, mu);
  if (dn <= hp->tolerance_change * (xn + hp->tolerance_change)) return NCO_CONVERGED;

  /* MNT eq. (3.14): predicted decrease L(0) − L(δ) = −gᵀδ − ½c‖Jδ‖². */
  if ((st = nco_problem_jvp(pb, o->x, idx, nb, delta, jb)))
    return nco_error_context(st, "lm: predicted reduction");
  size_t nr = nco_problem_nres(pb, nb);
  double jd2 = 0;
  for (size_t i = 0; i < nr; i++) jd2 += (double)jb[i] * jb[i];
  double pred = -nco_dot(n, g, delta) - 0.5 * c * jd2;

  /* trial point; a non-finite loss there is a rejection, not an error */
  for (size_t j = 0; j < n; j++) xt[j] = (float)((double)o->x[j] + delta[j]);
  double Ft = NAN;
  st = nco_problem_eval(pb, xt, idx, nb, &Ft, NULL);
  if (st == NCO_ERR_NONFINITE) {
    Ft = NAN;
    nco_clear_error();
  } else if (st) {
    return nco_error_context(st, "lm: trial point of step %llu", (unsigned long long)o->k);
  }
  double rho = (pred > 0) ? (F - Ft) / pred : NAN;

  if (!(rho > 0)) {
    /* Nielsen (1999): reject, μ ← μν, ν ← 2ν */
    o->d[LM_MU] = mu * nu;
    o->d[LM_NU] = 2.0 * nu;
    o->d[LM_REJECTED] += 1;
    return NCO_OK;
  }
  /* Nielsen (1999): accept, μ ← μ·max(1/3, 1 − (2ρ − 1)³), ν ← 2 */
  nco_copy(n, xt, o->x);
  double t = 2.0 * rho - 1.0, fac = 1.0 - t * t * t;
  o->d[LM_MU] = mu * (fac > 1.0 / 3.0 ? fac : 1.0 / 3.0);
  o->d[LM_NU] = 2.0;
  o->d[LM_ACCEPTED] += 1;
  return NCO_OK;
}

static int lm_iterate(nco_optim *o, nco_problem *pb, const size_t *idx, size_t nb, double *loss,
                      float *grad) {
  return nco_optim_counted(o, lm_trial(o, pb, idx, nb, loss, grad));
}

const nco_optim_type nco_optim_lm_type = {
    .name = "lm",
    .help =
        "Levenberg-Marquardt on residuals (Nielsen damping; CG on (J'J + mu I)d = -J'r with "
        "JVP/VJP); needs a least-squares problem; keys mu0, cg_max_iter, cg_tol, "
        "tolerance_grad, tolerance_change",
    .ask_tell = 0,
    .requires = 1,
    .defaults = lm_defaults,
    .validate = lm_validate,
    .state_size = lm_state_size,
    .init = lm_init,
    .step = NULL,
    .projects = 1, /* projection refused in validate */
    .iterate = lm_iterate,
};

const nco_optim_type *const nco_optim_lm = &nco_optim_lm_type;
