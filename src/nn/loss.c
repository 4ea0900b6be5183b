/* Loss heads on a named output (nn.h, "Losses"), per sample in double:
 * least squares (Oymak & Soltanolkotabi eq. 1.1 with vector outputs):
 *   r_s = y_s − t_s,  ℓ_s = ½‖r_s‖²,  ∂ℓ/∂y = r,  ∇²ℓ = I;
 * mean squared error (torch.nn.MSELoss(reduction='mean') of one sample's
 * K outputs; with the problem's MEAN reduction over nb samples the loss is
 * torch's MSELoss over the (nb, K) batch): the same with weight a = 2/K,
 *   ℓ_s = (1/K)‖y_s − t_s‖² = ½‖r_s‖²,  r_s = σ(y_s − t_s),  σ = √a = √(2/K),
 *   ∂ℓ/∂y = a(y − t),  ∇²ℓ = a·I,
 * a least-squares problem in the residual r (nn_loss_rscale: σ);
 * cross-entropy of the softmax (torch.nn.CrossEntropyLoss), targets t_s
 * (one-hot for a label, S = Σ_k t_k):
 *   ℓ_s = S·lse(y_s) − Σ_k t_k y_k,  ∂ℓ/∂y = S·p − t,
 *   ∇²ℓ = S(diag p − p pᵀ),  p = softmax(y_s). */
#ifndef REAL
#include <math.h>

#include "nn/internal.h"

#define NN_TEMPLATE "nn/loss.c"
#include "nn/twice.h"

const nn_loss_vt nn_loss_ls = {.name = "least_squares", .sample = NN_BOTH(ls_sample)};
const nn_loss_vt nn_loss_mse = {.name = "mse", .sample = NN_BOTH(mse_sample)};

double nn_loss_rscale(const nn_loss_vt *vt, size_t outputs) {
  return vt == &nn_loss_mse ? sqrt(2.0 / (double)outputs) : 1.0;
}
const nn_loss_vt nn_loss_ce = {.name = "cross_entropy", .sample = NN_BOTH(ce_sample)};

#else /* the template */

/* Target t[k] of global sample i (label → one-hot). */
static double FN(target)(const nn_prob *P, size_t i, size_t k) {
  if (P->labels) return (size_t)P->labels[i] == k ? 1.0 : 0.0;
  return P->T[i * P->out + k];
}

/* ℓ_s = a·½‖y_s − t_s‖², d = c·a·(y − t), rd = c·a·Ry (a = 1: least squares,
 * bit for bit the products without a) */
static void FN(sq_sample)(const nn_prob *P, const size_t *idx, size_t nb, const void *yv, const void *ryv,
                          double a, double c, void *dv, void *rdv, double *ls) {
  const size_t K = P->out;
  const REAL *y = yv, *ry = ryv;
  REAL *d = dv, *rd = rdv;
  const double ca = c * a, ha = 0.5 * a;
  for (size_t s = 0; s < nb; s++) {
    const size_t i = idx[s];
    const REAL *ys = y + s * K;
    double acc = 0;
    for (size_t k = 0; k < K; k++) {
      double r = (double)ys[k] - FN(target)(P, i, k);
      acc += r * r;
      if (d) d[s * K + k] = (REAL)(ca * r);
      if (rd) rd[s * K + k] = (REAL)(ca * ry[s * K + k]);
    }
    ls[s] = ha * acc;
  }
}

static void FN(ls_sample)(const nn_prob *P, const size_t *idx, size_t nb, const void *yv, const void *ryv,
                          double c, void *dv, void *rdv, double *ls) {
  FN(sq_sample)(P, idx, nb, yv, ryv, 1.0, c, dv, rdv, ls);
}

static void FN(mse_sample)(const nn_prob *P, const size_t *idx, size_t nb, const void *yv, const void *ryv,
                           double c, void *dv, void *rdv, double *ls) {
  FN(sq_sample)(P, idx, nb, yv, ryv, 2.0 / (double)P->out, c, dv, rdv, ls);
}

static void FN(ce_sample)(const nn_prob *P, const size_t *idx, size_t nb, const void *yv, const void *ryv,
                          double c, void *dv, void *rdv, double *ls) {
  const size_t K = P->out;
  const REAL *y = yv, *ry = ryv;
  REAL *d = dv, *rd = rdv;
  for (size_t s = 0; s < nb; s++) {
    const size_t i = idx[s];
    const REAL *ys = y + s * K;
    double mx = ys[0], se = 0, S = 0, tz = 0;
    for (size_t k = 1; k < K; k++)
      if (ys[k] > mx) mx = ys[k];
    for (size_t k = 0; k < K; k++) se += exp((double)ys[k] - mx);
    const double lse = mx + log(se);
    for (size_t k = 0; k < K; k++) {
      double t = FN(target)(P, i, k);
      S += t;
      tz += t * ys[k];
    }
    ls[s] = S * lse - tz;
    if (!d && !rd) continue;
    double pr = 0; /* ⟨p, Ry⟩ */
    if (rd)
      for (size_t k = 0; k < K; k++) pr += exp((double)ys[k] - lse) * ry[s * K + k];
    for (size_t k = 0; k < K; k++) {
      double p = exp((double)ys[k] - lse);
      if (d) d[s * K + k] = (REAL)(c * (S * p - FN(target)(P, i, k)));
      if (rd) rd[s * K + k] = (REAL)(c * S * p * (ry[s * K + k] - pr));
    }
  }
}
#endif
