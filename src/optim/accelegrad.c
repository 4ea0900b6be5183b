/* src/optim/accelegrad.c — AcceleGrad: accelerated adaptive gradient method
 * (K. Y. Levy, A. Yurtsever, V. Cevher, "Online Adaptive Methods,
 * Universality and Acceleration", NeurIPS 2018, Algorithm 1; Cevher
 * EE-556 lecture 9, slides "AcceleGrad").
 *
 *   y₀ = z₀ = x₀;  for k = 0, 1, ...
 *     τ_k     = 1/α_k
 *     x_{k+1} = τ_k z_k + (1 − τ_k) y_k          (the query point)
 *     g_k     = ∇f(x_{k+1})
 *     η_k     = lr · 2D / √(G² + Σ_{τ≤k} α_τ² ‖g_τ‖²)
 *     z_{k+1} = Π_K(z_k − α_k η_k g_k)
 *     y_{k+1} = x_{k+1} − η_k g_k
 *   output ȳ_k = Σ_{τ<k} α_τ y_{τ+1} / Σ_{τ<k} α_τ
 *
 * Weights. The slide writes α_k = (k+1)/4 for every k; the paper's theorem
 * (Levy et al. 2018, Thm. 1.1 / §3) uses α_t = 1 for 0 ≤ t ≤ 2 and
 * α_t = (t+1)/4 for t ≥ 3, i.e. α_t = max(1, (t+1)/4). We follow the paper:
 * it keeps τ_t = 1/α_t ∈ (0, 1], so x_{t+1} is a convex combination of z_t
 * and y_t as the analysis requires; the slide's α₀ = 1/4, α₁ = 1/2,
 * α₂ = 3/4 would give τ > 1 (an extrapolation outside the segment) in the
 * first three steps. From t = 3 on both agree.
 *
 * Feasible set. The paper takes a convex K of diameter D containing x*;
 * ncopt uses the Euclidean ball of diameter D (radius D/2) centred at x₀,
 * so the minimiser must lie within D/2 of the start for the guarantee.
 * lr multiplies η_k (lr = 1, the default, is the paper's rule); G = 0 is
 * replaced by 1e-12 so that η₀ is finite when the first gradient is 0.
 * weight_decay adds wd·x_{k+1} to g_k; maximize ascends (g_k ← −g_k).
 * A configured projection (optimizer.projection) is applied to z_{k+1}
 * (after Π_K) and to y_{k+1}, so every query point stays feasible.
 *
 * State (all saved):
 *   o->x      y_k                      [dim]   (the iterate)
 *   f[0,d)    z_k                      [dim]
 *   f[d,2d)   x_{k+1} (o->query)       [dim]
 *   f[2d,3d)  ȳ_k (o->out)             [dim]
 *   d[0]      Σ α_τ² ‖g_τ‖²
 *   d[1]      Σ α_τ
 *   d[2..2+d) Σ α_τ y_{τ+1}  (double, so the average keeps float precision)
 */
#include <math.h>
#include <stddef.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "optim/internal.h"

enum { AG_SUMSQ = 0, AG_SUMA = 1, AG_YSUM = 2 };

/* Levy et al. (2018), Thm. 1.1: α_t = 1 for t ≤ 2, (t+1)/4 after. */
static double ag_alpha(uint64_t k) {
  double a = ((double)k + 1.0) / 4.0;
  return a > 1.0 ? a : 1.0;
}

static void ag_defaults(nco_optim_params *hp) {
  hp->lr = 1.0;
  hp->diameter = 1.0;
  hp->G = 0.0;
}


static void ag_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                          size_t *scratch_bytes) {
  (void)hp;
  /* Callers check the products; dim·3 and dim + 2 overflow only for dim
   * near SIZE_MAX/3, which nco_optim_create refuses via nco_mul_size. */
  *nf = (dim <= SIZE_MAX / 3) ? 3 * dim : SIZE_MAX;
  *nd = (dim <= SIZE_MAX - 2) ? dim + 2 : SIZE_MAX;
  *scratch_bytes = 0;
}

static int ag_init(nco_optim *o) {
  size_t n = o->dim;
  float *z = o->f, *q = o->f + n, *yb = o->f + 2 * n;
  /* y₀ = z₀ = x₀; the first query x₁ = τ₀z₀ + (1 − τ₀)y₀ = x₀; ȳ₀ := x₀. */
  nco_copy(n, o->x, z);
  nco_copy(n, o->x, q);
  nco_copy(n, o->x, yb);
  o->d[AG_SUMSQ] = 0.0;
  o->d[AG_SUMA] = 0.0;
  for (size_t j = 0; j < n; j++) o->d[AG_YSUM + j] = 0.0;
  o->query = q;
  o->out = yb;
  return NCO_OK;
}

static int ag_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  size_t n = o->dim;
  float *y = o->x, *z = o->f, *q = o->f + n, *yb = o->f + 2 * n;
  double *ysum = o->d + AG_YSUM;
  double sgn = o->hp.maximize ? -1.0 : 1.0, wd = o->hp.weight_decay;
  double a = ag_alpha(o->k);

  /* g_k = ∇f(x_{k+1}) (+ wd·x_{k+1}), sign-flipped for ascent; ‖g_k‖² in double. */
  double g2 = 0;
  for (size_t j = 0; j < n; j++) {
    double g = sgn * ((double)grad[j] + wd * q[j]);
    g2 += g * g;
  }
  /* Levy et al. (2018), eq. (5) / slide "learning rate and weight
   * computation": η_k = 2D/√(G² + Σ_{τ≤k} α_τ²‖g_τ‖²). */
  double G = o->hp.G > 0 ? o->hp.G : 1e-12;
  double sumsq = o->d[AG_SUMSQ] + a * a * g2;
  double eta = o->lr * 2.0 * o->hp.diameter / sqrt(G * G + sumsq);
  if (!(eta >= 0) || !isfinite(eta)) /* lr = 0 (a schedule's floor) gives η = 0: no move */
    return nco_error(NCO_ERR_NUMERIC, "accelegrad: step size is %g at step %llu (Σα²‖g‖² = %g)",
                     eta, (unsigned long long)o->k, sumsq);

  /* Algorithm 1: z_{k+1} = Π_K(z_k − α_k η_k g_k); y_{k+1} = x_{k+1} − η_k g_k.
   * K = ball of radius D/2 around x₀ (diameter D). */
  double ae = a * eta, dz = 0;
  for (size_t j = 0; j < n; j++) {
    double g = sgn * ((double)grad[j] + wd * q[j]);
    double zj = (double)z[j] - ae * g;
    double yj = (double)q[j] - eta * g;
    z[j] = (float)zj;
    y[j] = (float)yj;
    double u = (double)z[j] - o->x0[j];
    dz += u * u;
  }
  double rad = 0.5 * o->hp.diameter;
  if (dz > rad * rad) {
    double s = rad / sqrt(dz);
    for (size_t j = 0; j < n; j++) z[j] = (float)(o->x0[j] + s * ((double)z[j] - o->x0[j]));
  }
  /* a configured projection (box/ball) applies to both sequences, so the
   * query points (convex combinations) stay in the convex feasible set */
  nco_optim_project(o, z);
  nco_optim_project(o, y);
  o->d[AG_SUMSQ] = sumsq;

  double A = o->d[AG_SUMA] + a;
  o->d[AG_SUMA] = A;
  /* Output ȳ = Σ α_τ y_{τ+1} / Σ α_τ, accumulated in double.
   * Next query x_{k+2} = τ_{k+1} z_{k+1} + (1 − τ_{k+1}) y_{k+1}, in the
   * same pass (z and y are final here). */
  double tau = 1.0 / ag_alpha(o->k + 1);
  for (size_t j = 0; j < n; j++) {
    ysum[j] += a * (double)y[j];
    yb[j] = (float)(ysum[j] / A);
    q[j] = (float)(tau * z[j] + (1.0 - tau) * y[j]);
  }
  return NCO_OK;
}

const nco_optim_type nco_optim_accelegrad_type = {
    .name = "accelegrad",
    .help =
        "AcceleGrad (Levy, Yurtsever & Cevher 2018): accelerated adaptive steps "
        "eta_k = lr*2D/sqrt(G^2 + sum alpha^2 |g|^2), alpha_t = max(1,(t+1)/4), "
        "z projected on the ball of diameter D around x0; output is the "
        "alpha-weighted average; keys lr, diameter, G, weight_decay, maximize",
    .ask_tell = 1,
    .requires = 0,
    .defaults = ag_defaults,
    .state_size = ag_state_size,
    .init = ag_init,
    .step = ag_step,
    .iterate = NULL,
    .projects = 1,
};

const nco_optim_type *const nco_optim_accelegrad = &nco_optim_accelegrad_type;
