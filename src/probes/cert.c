/* Jacobian Lipschitz estimate and the certificates of Oymak &
 * Soltanolkotabi (2019, §2) and Crane & Roosta (2021, §2) (diag.h §5–6). */
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/diag.h"
#include "ncopt/reg.h"
#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "probes/internal.h"

/* ---- 5. Jacobian Lipschitz constant -------------------------------------- */

nco_jaclip_opts nco_jaclip_defaults(void) {
  return (nco_jaclip_opts){.n_pairs = 16, .max_iter = 30, .tol = 1e-4, .seed = 1};
}

typedef struct {
  nco_problem *pb;
  const float *a, *b;
  const size_t *idx;
  size_t nb;
  float *tn;   /* N floats */
  float *td;   /* d floats */
  double jv;   /* max ‖J(a)v‖/‖v‖, ‖J(b)v‖/‖v‖ (and transposed) seen: a lower bound of ‖J‖ */
} dj_ctx;

/* (J(a) − J(b))·in (trans 0) or (J(a) − J(b))ᵀ·in (trans 1) */
static int dj_op(void *c, int trans, const float *in, float *out) {
  dj_ctx *h = c;
  int st;
  float *t = trans ? h->td : h->tn;
  size_t len = trans ? h->pb->dim : nco_problem_nres(h->pb, h->nb);
  size_t lin = trans ? nco_problem_nres(h->pb, h->nb) : h->pb->dim;
  if (trans) {
    if ((st = nco_problem_vjp(h->pb, h->a, h->idx, h->nb, in, out)) ||
        (st = nco_problem_vjp(h->pb, h->b, h->idx, h->nb, in, t)))
      return st;
  } else {
    if ((st = nco_problem_jvp(h->pb, h->a, h->idx, h->nb, in, out)) ||
        (st = nco_problem_jvp(h->pb, h->b, h->idx, h->nb, in, t)))
      return st;
  }
  double nin = nco_nrm2(lin, in);
  if (nin > 0) h->jv = fmax(h->jv, fmax(nco_nrm2(len, out), nco_nrm2(len, t)) / nin);
  for (size_t i = 0; i < len; i++) out[i] = (float)((double)out[i] - t[i]);
  return NCO_OK;
}

int nco_jacobian_lipschitz(nco_problem *pb, const float *theta, const size_t *idx, size_t nb, double radius,
                           const nco_jaclip_opts *opts_in, nco_jaclip_result *out) {
  if (!pb || !theta || !out) return nco_error(NCO_ERR_INVALID, "Jacobian Lipschitz: NULL argument");
  memset(out, 0, sizeof *out);
  out->L = out->dist_at_max = out->floor = NAN;
  const char *L = pb->label;
  nco_jaclip_opts o = opts_in ? *opts_in : nco_jaclip_defaults();
  if (!nco_problem_is_least_squares(pb))
    return nco_error(NCO_ERR_UNSUPPORTED, "%s: the Jacobian's Lipschitz constant needs a least-squares problem", L);
  if (!(radius > 0) || !isfinite(radius))
    return nco_error(NCO_ERR_RANGE, "%s: Jacobian Lipschitz: radius = %g must be finite and > 0", L, radius);
  if (o.n_pairs == 0 || o.max_iter == 0 || !(o.tol > 0))
    return nco_error(NCO_ERR_RANGE, "%s: Jacobian Lipschitz: n_pairs, max_iter ≥ 1 and tol > 0 needed", L);
  if (!idx && nb != pb->n)
    return nco_error(NCO_ERR_INVALID, "%s: Jacobian Lipschitz: full batch (idx NULL) needs nb = n = %zu, got %zu", L,
                     pb->n, nb);
  if (!nco_all_finite(pb->dim, theta)) return nco_error(NCO_ERR_NONFINITE, "%s: Jacobian Lipschitz: θ not finite", L);
  size_t d = pb->dim, N = nco_problem_nres(pb, nb);
  float *a = nco_calloc(d, sizeof *a), *b = nco_calloc(d, sizeof *b), *tn = nco_calloc(N, sizeof *tn),
        *td = nco_calloc(d, sizeof *td);
  double *tmp = nco_calloc(d, sizeof *tmp);
  int st = NCO_OK;
  if (!a || !b || !tn || !td || !tmp) {
    st = nco_error(NCO_ERR_NOMEM, "%s: Jacobian Lipschitz: out of memory", L);
    goto done;
  }
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  nco_lanczos_opts lz = nco_lanczos_defaults();
  lz.max_iter = o.max_iter, lz.tol = o.tol, lz.seed = o.seed;
  dj_ctx h = {pb, a, b, idx, nb, tn, td, 0};
  /* best over resolved pairs (ratio > 8× its rounding floor), and over all */
  double best = -1, bestd = NAN, bestj = NAN, bestf = NAN;
  double anyb = -1, anyd = NAN, anyj = NAN, anyf = NAN;
  const double u = FLT_EPSILON / 2;
  for (size_t p = 0; p < o.n_pairs; p++) {
    int kind = (int)(p % 8);
    if (kind == 0) { /* both uniform in the ball: global variation */
      nco_lz_ball_point(&rng, d, theta, radius, a, tmp);
      nco_lz_ball_point(&rng, d, theta, radius, b, tmp);
    } else {
      /* kinds 1–3: a uniform in B(θ, R − t), t = R/16, R/256, R/4096;
       * kinds 4–7: a = θ, t = R/4, R/64, R/1024, R/16384 (the local
       * derivative at the centre); b = a + t·u, u uniform on the sphere */
      double t = kind <= 3 ? radius / pow(16.0, kind) : radius / pow(16.0, kind - 4) / 4, s = 0;
      if (kind <= 3)
        nco_lz_ball_point(&rng, d, theta, radius - t, a, tmp);
      else
        memcpy(a, theta, d * sizeof *a);
      for (size_t j = 0; j < d; j++) tmp[j] = nco_rng_normal(&rng), s += tmp[j] * tmp[j];
      s = t / sqrt(s);
      for (size_t j = 0; j < d; j++) b[j] = (float)((double)a[j] + s * tmp[j]);
    }
    double dist = nco_dist2(d, a, b), sv = 0;
    if (!(dist > 0)) continue;
    nco_lanczos_info info;
    h.jv = 0;
    if ((st = nco_svd_extremes(N, d, dj_op, &h, &lz, 1, &sv, NULL, &info))) {
      nco_error_context(st, "%s: Jacobian Lipschitz: pair %zu", L, p);
      goto done;
    }
    out->matvecs += info.matvecs;
    out->pairs++;
    /* Oymak & Soltanolkotabi Assumption 1: ‖J(θ₂) − J(θ₁)‖ ≤ L‖θ₂ − θ₁‖.
     * J(a)v − J(b)v carries ~4u·‖J‖ of float32 rounding. */
    double r = sv / dist, fl = 4 * u * h.jv / dist;
    if (r > anyb) anyb = r, anyd = dist, anyj = h.jv, anyf = fl;
    if (r > 8 * fl) {
      out->resolved++;
      if (r > best) best = r, bestd = dist, bestj = h.jv, bestf = fl;
    }
  }
  if (best < 0) best = anyb, bestd = anyd, bestj = anyj, bestf = anyf;
  if (best >= 0) out->L = best, out->dist_at_max = bestd, out->jnorm = bestj, out->floor = bestf;
done:
  free(a), free(b), free(tn), free(td), free(tmp);
  return st;
}

/* ---- 6. certificates ----------------------------------------------------- */

nco_cert_opts nco_cert_defaults(void) {
  return (nco_cert_opts){.lr = NAN, .n_points = 4, .rounds = 3, .n_pairs = 8, .delta0 = NAN,
                         .lanczos = nco_lanczos_defaults(), .jaclip = nco_jaclip_defaults(), .seed = 1};
}

static void note(nco_certificate *c, const char *fmt, ...) {
  size_t len = strlen(c->note);
  if (len + 3 >= sizeof c->note) return;
  if (len) c->note[len++] = ';', c->note[len++] = ' ', c->note[len] = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->note + len, sizeof c->note - len, fmt, ap);
  va_end(ap);
}

/* σ_max and σ_N (0 when N > d; *sd = σ_min(N,d)) at x */
static int svals_at(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const nco_lanczos_opts *lz, double *smax,
                    double *smin, double *sd) {
  double hi, lo;
  int st = nco_jacobian_svals(pb, x, idx, nb, lz, &hi, &lo, NULL);
  if (st) return st;
  *smax = hi;
  if (sd) *sd = lo;
  *smin = nco_problem_nres(pb, nb) <= pb->dim ? lo : 0;
  return NCO_OK;
}

int nco_certify(nco_problem *pb, const float *theta0, const size_t *idx, size_t nb, const nco_cert_opts *opts_in,
                nco_certificate *c) {
  if (!pb || !theta0 || !c) return nco_error(NCO_ERR_INVALID, "certify: NULL argument");
  memset(c, 0, sizeof *c);
  nco_cert_opts o = opts_in ? *opts_in : nco_cert_defaults();
  const char *L = pb->label;
  if (!nco_problem_is_least_squares(pb))
    return nco_error(NCO_ERR_UNSUPPORTED,
                     "%s: certify: Oymak & Soltanolkotabi's theorems are about least squares ½‖f(θ) − y‖² (residual, "
                     "JVP, VJP needed)",
                     L);
  if (!idx && nb != pb->n)
    return nco_error(NCO_ERR_INVALID, "%s: certify: full batch (idx NULL) needs nb = n = %zu, got %zu", L, pb->n, nb);
  if (o.n_pairs == 0) return nco_error(NCO_ERR_RANGE, "%s: certify: n_pairs must be ≥ 1", L);
  if (!isnan(o.delta0) && !(o.delta0 >= 0 && isfinite(o.delta0)))
    return nco_error(NCO_ERR_RANGE, "%s: certify: Δ₀ = %g must be finite and ≥ 0 (or NAN)", L, o.delta0);
  size_t d = pb->dim, N = nco_problem_nres(pb, nb);
  snprintf(c->label, sizeof c->label, "%s", L);
  c->n_res = N, c->dim = d, c->scale = nco_problem_scale(pb, nb);
  c->step_ok21 = c->step_ok22 = -1;
  c->rate_ok = c->eq24_ok = c->radius_ok = c->path_ok = c->pl_ok = c->path_invex_ok = -1;
  c->lr = NAN, c->eta = NAN, c->margin21 = NAN, c->pl_min_obs = NAN, c->lambda = NAN, c->pl_const = NAN;
  c->delta0 = NAN, c->R_invex = NAN, c->L = NAN, c->L_floor = NAN;
  double *r = nco_calloc(N, sizeof *r), *tmp = nco_calloc(d, sizeof *tmp);
  float *x = nco_calloc(d, sizeof *x);
  int st;
  if (!r || !tmp || !x) {
    st = nco_error(NCO_ERR_NOMEM, "%s: certify: out of memory", L);
    goto done;
  }
  if ((st = nco_problem_residual64(pb, theta0, idx, nb, r))) goto done;
  double s = 0;
  for (size_t i = 0; i < N; i++) s += r[i] * r[i];
  c->r0 = sqrt(s);
  if (!isfinite(c->r0)) {
    st = nco_error(NCO_ERR_NONFINITE, "%s: certify: the residual at θ₀ is not finite", L);
    goto done;
  }
  if ((st = svals_at(pb, theta0, idx, nb, &o.lanczos, &c->smax0, &c->smin0, &c->smin0_d))) goto done;
  if (N > d) note(c, "N = %zu residuals > d = %zu parameters: σ_N(J) = 0, Assumption 2 cannot hold", N, d);
  c->alpha = c->smin0, c->beta = c->smax0, c->points = 1;
  nco_rng rng;
  nco_rng_seed(&rng, o.seed);
  /* Theorem 2.1: α, β over the ball of radius 4‖r₀‖/α, refined as α shrinks */
  if (c->r0 == 0) {
    c->radius = 0;
    note(c, "‖r₀‖ = 0: θ₀ already interpolates the batch");
  } else if (c->alpha > 0) {
    double sampled = 0;
    for (size_t round = 0; round < o.rounds; round++) {
      double R = 4 * c->r0 / c->alpha;
      if (!(R > sampled * 1.0001)) break; /* the ball did not grow */
      for (size_t k = 0; k < o.n_points; k++) {
        double smax, smin;
        nco_lz_ball_point(&rng, d, theta0, R, x, tmp);
        if ((st = svals_at(pb, x, idx, nb, &o.lanczos, &smax, &smin, NULL))) goto done;
        c->alpha = fmin(c->alpha, smin), c->beta = fmax(c->beta, smax), c->points++;
      }
      sampled = R;
      if (!(c->alpha > 0)) break;
    }
    c->radius = c->alpha > 0 ? 4 * c->r0 / c->alpha : INFINITY;
    if (c->radius > sampled * 1.0001 && isfinite(c->radius) && o.n_points > 0)
      note(c, "α shrank in the last sampling round: the ball of radius %.4g was sampled only to radius %.4g", c->radius,
           sampled);
  } else {
    c->radius = INFINITY;
  }
  c->applies21 = c->alpha > 0 && isfinite(c->radius);
  /* Theorem 2.2: from J(θ₀) alone */
  c->alpha22 = c->smin0 / 2, c->beta22 = 2 * c->smax0;
  c->radius22 = c->r0 == 0 ? 0 : (c->alpha22 > 0 ? 4 * c->r0 / c->alpha22 : INFINITY);
  /* L on the larger finite radius */
  double RL = 0;
  if (isfinite(c->radius)) RL = fmax(RL, c->radius);
  if (isfinite(c->radius22)) RL = fmax(RL, c->radius22);
  c->L_radius = RL;
  if (RL > 0) {
    nco_jaclip_opts jo = o.jaclip;
    jo.n_pairs = o.n_pairs;
    nco_jaclip_result jr;
    if ((st = nco_jacobian_lipschitz(pb, theta0, idx, nb, RL, &jo, &jr))) goto done;
    c->L = jr.L, c->L_floor = jr.floor, c->L_pairs = jr.pairs;
    if (c->L > 0 && jr.resolved == 0)
      note(c, "L = %.3g is at the float32 rounding floor of J(a) − J(b) (%.3g): L is probably ≈ 0", c->L, jr.floor);
  } else if (c->r0 == 0) {
    note(c, "L not estimated (not needed with ‖r₀‖ = 0)");
  } else {
    note(c, "L not estimated: σ_min(J) = 0, no finite ball");
  }
  double Lr0 = c->r0 == 0 ? 0 : c->L * c->r0;
  /* Theorem 2.1: η ≤ (1/(2β²))·min(1, α²/(L‖r₀‖)) */
  c->eta_max21 = c->applies21 ? (Lr0 > 0 ? fmin(1, c->alpha * c->alpha / Lr0) : 1) / (2 * c->beta * c->beta) : NAN;
  /* Theorem 2.2: (2.6) α₂² ≥ 4L‖r₀‖ and η ≤ 1/(2β₂²) */
  c->lhs22 = c->alpha22 * c->alpha22;
  c->rhs22 = 4 * Lr0;
  c->holds22 = c->alpha22 > 0 && c->lhs22 >= c->rhs22;
  c->margin22 = c->rhs22 > 0 ? c->lhs22 / c->rhs22 : (c->lhs22 > 0 ? INFINITY : NAN);
  c->eta_max22 = 1 / (2 * c->beta22 * c->beta22);
  if (o.lr > 0 && isfinite(o.lr)) {
    c->lr = o.lr, c->eta = c->scale * o.lr;
    if (c->applies21) {
      c->step_ok21 = c->eta <= c->eta_max21;
      c->margin21 = c->eta_max21 / c->eta;
    }
    c->step_ok22 = c->eta <= c->eta_max22;
  }
  if (c->scale != 1) note(c, "MEAN reduction: the step on ½‖r‖² is η = c·lr with c = %.6g", c->scale);
  if (c->points > 1 || c->L_pairs > 0)
    note(c, "α, β and L are sampled (%zu points, %zu pairs): optimistic estimates of the extremes over the ball",
         c->points, c->L_pairs);
  /* invex lifting (Crane & Roosta Theorem 2(ii), Assumption 1) */
  if (nco_reg_is_invex(pb)) {
    c->invex = 1;
    c->lambda = nco_reg_lambda(pb);
    c->pl_const = c->scale * c->lambda * c->lambda;
    if (!isnan(o.delta0)) {
      c->delta0 = o.delta0;
    } else {
      double f0;
      if ((st = nco_problem_loss_unreg(pb, theta0, idx, nb, &f0))) goto done;
      c->delta0 = f0;
      note(c, "Δ₀ = f(x₀) (min f = 0 assumed; an over-estimate otherwise, so R(x₀, λ) stays valid)");
    }
    /* R(x₀, λ) = 2√(2Δ₀)/λ; with the reduction: 2√(2Δ₀/(c·λ²)) (both scale) */
    c->R_invex = 2 * sqrt(2 * c->delta0 / c->pl_const);
  }
  st = NCO_OK;
done:
  free(r), free(tmp), free(x);
  if (st) nco_error_context(st, "certify");
  return st;
}

int nco_certificate_compare(nco_certificate *c, const nco_cert_observed *obs) {
  if (!c || !obs) return nco_error(NCO_ERR_INVALID, "certificate compare: NULL argument");
  if (obs->n && (!obs->step || !obs->misfit))
    return nco_error(NCO_ERR_INVALID, "certificate compare: %zu rows but no step or misfit column", obs->n);
  c->have_run = 1;
  c->rate = NAN, c->tau_last = NAN, c->misfit_pred_last = NAN, c->misfit_obs_last = NAN;
  c->rate_worst = NAN, c->eq24_worst = NAN, c->eq210_worst = NAN, c->eq213_worst = NAN, c->dist_max = NAN;
  c->path_obs = obs->path_length;
  c->path_bound = c->applies21 ? 4 * c->r0 / c->alpha : NAN;
  c->rate_ok = c->eq24_ok = c->radius_ok = c->path_ok = -1;
  /* slack for float32 iterates: residual norms and distances carry ~1e-7
   * relative rounding, so a bound met with equality may read 1 + 1e-7 */
  const double slack = 1e-6;
  int can_rate = c->applies21 && isfinite(c->eta) && c->r0 > 0;
  if (can_rate) {
    c->rate = 1 - c->eta * c->alpha * c->alpha / 2; /* (2.3) */
    if (!(c->rate >= 0)) {
      note(c, "η·α²/2 > 1: the rate (2.3) is not defined (step far above the bound)");
      can_rate = 0;
    }
  }
  double rw = -INFINITY, e24 = -INFINITY, e210 = -INFINITY, e213 = INFINITY, dmax = -INFINITY;
  int have_d = 0, have_m = 0;
  for (size_t i = 0; i < obs->n; i++) {
    double tau = obs->step[i], m = obs->misfit[i], dist = obs->dist ? obs->dist[i] : NAN;
    if (!isfinite(tau) || !isfinite(m)) continue;
    have_m = 1;
    if (can_rate) {
      double pred = pow(c->rate, tau / 2);
      if (pred > 0) rw = fmax(rw, m / pred);
      if (!(tau < c->tau_last)) c->tau_last = tau, c->misfit_pred_last = pred, c->misfit_obs_last = m;
    } else if (!(tau < c->tau_last)) {
      c->tau_last = tau, c->misfit_obs_last = m;
    }
    if (isfinite(dist) && c->r0 > 0) {
      have_d = 1;
      dmax = fmax(dmax, dist);
      if (c->applies21) {
        e24 = fmax(e24, c->alpha * dist / (4 * c->r0) + m); /* (2.4) */
        e210 = fmax(e210, c->alpha * dist / c->r0 + m);     /* (2.10) */
      }
      e213 = fmin(e213, m + c->beta * dist / c->r0);        /* (2.13) */
    }
  }
  if (have_m && can_rate && rw > -INFINITY) c->rate_worst = rw, c->rate_ok = rw <= 1 + slack;
  if (have_d) {
    c->dist_max = dmax;
    c->eq213_worst = e213;
    if (c->applies21) {
      c->eq24_worst = e24, c->eq210_worst = e210;
      c->eq24_ok = e24 <= 1 + slack;
      c->radius_ok = dmax <= c->radius * (1 + slack);
    }
  }
  if (c->applies21 && isfinite(c->path_obs)) c->path_ok = c->path_obs <= c->path_bound * (1 + slack);
  if (c->invex) {
    c->pl_min_obs = obs->min_pl_ratio;
    /* PL ratios are formed from float32 gradients: ~1e-6 relative */
    if (isfinite(c->pl_min_obs)) c->pl_ok = c->pl_min_obs >= c->pl_const * (1 - 1e-5);
    if (isfinite(c->path_obs) && isfinite(c->R_invex)) c->path_invex_ok = c->path_obs <= c->R_invex * (1 + slack);
  }
  return NCO_OK;
}

/* ---- report writers ------------------------------------------------------ */

static const char *yn(int v) { return v < 0 ? "unknown" : v ? "yes" : "no"; }

int nco_certificate_write_text(const nco_certificate *c, FILE *f) {
  if (!c || !f) return nco_error(NCO_ERR_INVALID, "certificate: NULL argument");
  fprintf(f, "certificate for %s\n", c->label);
  fprintf(f, "  residuals N = %zu, parameters d = %zu, reduction factor c = %.6g\n", c->n_res, c->dim, c->scale);
  fprintf(f, "  ‖f(θ₀) − y‖ = %.6g\n", c->r0);
  fprintf(f, "  J(θ₀): σ_max = %.6g, σ_min = %.6g%s\n", c->smax0, c->smin0, c->n_res > c->dim ? " (σ_N; N > d)" : "");
  fprintf(f, "Theorem 2.1 (Oymak & Soltanolkotabi 2019)\n");
  fprintf(f, "  α = %.6g, β = %.6g over θ₀ and %zu sampled points of the ball\n", c->alpha, c->beta, c->points - 1);
  fprintf(f, "  R = 4‖r₀‖/α = %.6g\n", c->radius);
  fprintf(f, "  L = %.6g (%zu pairs on radius %.6g; float32 floor %.3g)\n", c->L, c->L_pairs, c->L_radius, c->L_floor);
  fprintf(f, "  step bound η ≤ min(1, α²/(L‖r₀‖))/(2β²) = %.6g\n", c->eta_max21);
  fprintf(f, "  applies: %s\n", yn(c->applies21));
  if (isfinite(c->eta))
    fprintf(f, "  run step η = c·lr = %.6g: within the bound: %s (margin %.4g)\n", c->eta, yn(c->step_ok21), c->margin21);
  fprintf(f, "Theorem 2.2\n");
  fprintf(f, "  α₂ = σ_min(J(θ₀))/2 = %.6g, β₂ = 2‖J(θ₀)‖ = %.6g, R₂ = %.6g\n", c->alpha22, c->beta22, c->radius22);
  fprintf(f, "  (2.6) α₂² = %.6g ≥ 4L‖r₀‖ = %.6g: %s (margin %.4g)\n", c->lhs22, c->rhs22, yn(c->holds22), c->margin22);
  fprintf(f, "  step bound η ≤ 1/(2β₂²) = %.6g%s%s\n", c->eta_max22, isfinite(c->eta) ? "; run step within it: " : "",
          isfinite(c->eta) ? yn(c->step_ok22) : "");
  if (c->have_run) {
    fprintf(f, "After the run\n");
    fprintf(f, "  (2.3) rate 1 − ηα²/2 = %.6g; at τ = %.6g predicted misfit ≤ %.6g, observed %.6g\n", c->rate, c->tau_last,
            c->misfit_pred_last, c->misfit_obs_last);
    fprintf(f, "  (2.3) worst observed/predicted misfit = %.6g: held: %s\n", c->rate_worst, yn(c->rate_ok));
    fprintf(f, "  (2.4) max (α/4·‖θ−θ₀‖ + ‖r‖)/‖r₀‖ = %.6g: held: %s\n", c->eq24_worst, yn(c->eq24_ok));
    fprintf(f, "  (2.10) max (α·‖θ−θ₀‖ + ‖r‖)/‖r₀‖ = %.6g (supplement's Thm 9.3)\n", c->eq210_worst);
    fprintf(f, "  (2.13) min (‖r‖ + β·‖θ−θ₀‖)/‖r₀‖ = %.6g (≥ 1 expected)\n", c->eq213_worst);
    fprintf(f, "  radius: max ‖θ−θ₀‖ = %.6g vs R = %.6g: within: %s\n", c->dist_max, c->radius, yn(c->radius_ok));
    fprintf(f, "  (2.5) path length %.6g vs 4‖r₀‖/α = %.6g: within: %s\n", c->path_obs, c->path_bound, yn(c->path_ok));
  }
  if (c->invex) {
    fprintf(f, "Invex lifting (Crane & Roosta 2021), λ = %.6g\n", c->lambda);
    fprintf(f, "  Theorem 2(ii): PL constant c·λ² = %.6g", c->pl_const);
    if (c->have_run) fprintf(f, "; smallest measured PL ratio %.6g: held: %s", c->pl_min_obs, yn(c->pl_ok));
    fprintf(f, "\n  Assumption 1: Δ₀ = %.6g, R(x₀, λ) = 2√(2Δ₀)/λ = %.6g", c->delta0, c->R_invex);
    if (c->have_run) fprintf(f, "; path length %.6g within: %s", c->path_obs, yn(c->path_invex_ok));
    fprintf(f, "\n");
  }
  if (c->note[0]) fprintf(f, "notes: %s\n", c->note);
  if (ferror(f)) return nco_error(NCO_ERR_IO, "certificate: writing the text report failed");
  return NCO_OK;
}

static void jnum(FILE *f, const char *key, double v, int comma) {
  if (isfinite(v))
    fprintf(f, "\"%s\": %.17g", key, v);
  else
    fprintf(f, "\"%s\": null", key);
  if (comma) fputs(", ", f);
}

static void jbool(FILE *f, const char *key, int v, int comma) {
  fprintf(f, "\"%s\": %s", key, v < 0 ? "null" : v ? "true" : "false");
  if (comma) fputs(", ", f);
}

static void jstr(FILE *f, const char *key, const char *s) {
  fprintf(f, "\"%s\": \"", key);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputc('"', f);
}

int nco_certificate_write_json(const nco_certificate *c, FILE *f) {
  if (!c || !f) return nco_error(NCO_ERR_INVALID, "certificate: NULL argument");
  fputc('{', f);
  jstr(f, "problem", c->label);
  fprintf(f, ", \"n_res\": %zu, \"dim\": %zu, ", c->n_res, c->dim);
  jnum(f, "scale", c->scale, 1);
  jnum(f, "r0", c->r0, 1);
  jnum(f, "sigma_max0", c->smax0, 1);
  jnum(f, "sigma_min0", c->smin0, 1);
  jnum(f, "sigma_min0_d", c->smin0_d, 0);
  fputs(", \"theorem_2_1\": {", f);
  jnum(f, "alpha", c->alpha, 1);
  jnum(f, "beta", c->beta, 1);
  jnum(f, "radius", c->radius, 1);
  fprintf(f, "\"points\": %zu, ", c->points);
  jnum(f, "L", c->L, 1);
  jnum(f, "L_radius", c->L_radius, 1);
  jnum(f, "L_floor", c->L_floor, 1);
  fprintf(f, "\"L_pairs\": %zu, ", c->L_pairs);
  jnum(f, "eta_max", c->eta_max21, 1);
  jnum(f, "lr", c->lr, 1);
  jnum(f, "eta", c->eta, 1);
  jbool(f, "applies", c->applies21, 1);
  jbool(f, "step_ok", c->step_ok21, 1);
  jnum(f, "margin", c->margin21, 0);
  fputs("}, \"theorem_2_2\": {", f);
  jnum(f, "alpha", c->alpha22, 1);
  jnum(f, "beta", c->beta22, 1);
  jnum(f, "radius", c->radius22, 1);
  jnum(f, "alpha_sq", c->lhs22, 1);
  jnum(f, "four_L_r0", c->rhs22, 1);
  jbool(f, "holds", c->holds22, 1);
  jnum(f, "margin", c->margin22, 1);
  jnum(f, "eta_max", c->eta_max22, 1);
  jbool(f, "step_ok", c->step_ok22, 0);
  fputc('}', f);
  if (c->have_run) {
    fputs(", \"run\": {", f);
    jnum(f, "tau_last", c->tau_last, 1);
    jnum(f, "rate", c->rate, 1);
    jnum(f, "misfit_pred_last", c->misfit_pred_last, 1);
    jnum(f, "misfit_obs_last", c->misfit_obs_last, 1);
    jnum(f, "rate_worst", c->rate_worst, 1);
    jbool(f, "rate_ok", c->rate_ok, 1);
    jnum(f, "eq24_worst", c->eq24_worst, 1);
    jbool(f, "eq24_ok", c->eq24_ok, 1);
    jnum(f, "eq210_worst", c->eq210_worst, 1);
    jnum(f, "eq213_worst", c->eq213_worst, 1);
    jnum(f, "dist_max", c->dist_max, 1);
    jbool(f, "radius_ok", c->radius_ok, 1);
    jnum(f, "path", c->path_obs, 1);
    jnum(f, "path_bound", c->path_bound, 1);
    jbool(f, "path_ok", c->path_ok, 0);
    fputc('}', f);
  }
  if (c->invex) {
    fputs(", \"invex\": {", f);
    jnum(f, "lambda", c->lambda, 1);
    jnum(f, "pl_const", c->pl_const, 1);
    jnum(f, "delta0", c->delta0, 1);
    jnum(f, "R", c->R_invex, 1);
    jnum(f, "pl_min_obs", c->pl_min_obs, 1);
    jbool(f, "pl_ok", c->pl_ok, 1);
    jbool(f, "path_ok", c->path_invex_ok, 0);
    fputc('}', f);
  }
  fputs(", ", f);
  jstr(f, "notes", c->note);
  fputs("}\n", f);
  if (ferror(f)) return nco_error(NCO_ERR_IO, "certificate: writing the JSON report failed");
  return NCO_OK;
}
