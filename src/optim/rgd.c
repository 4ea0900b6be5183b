/* src/optim/rgd.c — Riemannian gradient descent on the unit sphere
 * (Ma, "Why Do Local Methods Solve Nonconvex Problems?", §5; Absil,
 * Mahony & Sepulchre, "Optimization Algorithms on Matrix Manifolds", 2008,
 * §4.1 (Riemannian steepest descent) and Example 4.1.1 (retraction by
 * normalisation on the sphere)).
 *
 *   x_{k+1} = R_{x_k}(−lr · P_{x_k} g_k),
 *   P_x g   = g − ⟨x, g⟩ x / ‖x‖²          (tangent projection, Ma eq. 5.4)
 *   R_x(v)  = (x + v) / ‖x + v‖             (retraction by normalisation)
 *
 * The step projects the gradient it is given onto the tangent space itself,
 * so a Euclidean gradient works as well as a Riemannian one (the generic
 * nco_optim_iterate passes the problem's Riemannian gradient; projecting
 * twice changes nothing but rounding). maximize ascends: x ← R_x(+lr·P_x g).
 * init normalises x₀ onto the sphere (a zero x₀ is refused). There is no
 * method state besides the iterate: nf = nd = 0.
 */
#include <math.h>
#include <stddef.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "optim/internal.h"

static void rgd_defaults(nco_optim_params *hp) { hp->lr = 1e-3; }

static int rgd_validate(const nco_optim_params *hp) {
  if (hp->weight_decay != 0)
    return nco_error(NCO_ERR_UNSUPPORTED,
                     "optimizer.weight_decay: rgd works on the unit sphere, where an L2 term is "
                     "constant; set it to 0 (got %g)",
                     hp->weight_decay);
  if (hp->projection != NCO_PROJ_NONE)
    return nco_error(NCO_ERR_UNSUPPORTED,
                     "optimizer.projection: rgd stays on the unit sphere by retraction; a box or "
                     "ball projection would leave it (got %d)",
                     (int)hp->projection);
  return NCO_OK;
}

static void rgd_state_size(const nco_optim_params *hp, size_t dim, size_t *nf, size_t *nd,
                           size_t *scratch_bytes) {
  (void)hp;
  (void)dim;
  *nf = 0;
  *nd = 0;
  *scratch_bytes = 0;
}

static int rgd_init(nco_optim *o) {
  double nx = nco_nrm2(o->dim, o->x);
  if (!(nx > 0) || !isfinite(nx))
    return nco_error(NCO_ERR_INVALID,
                     "rgd: the starting point has norm %g and cannot be normalised onto the unit "
                     "sphere",
                     nx);
  for (size_t j = 0; j < o->dim; j++) o->x[j] = (float)(o->x[j] / nx);
  return NCO_OK;
}

static int rgd_step(nco_optim *o, const float *grad, double loss) {
  (void)loss;
  size_t n = o->dim;
  float *x = o->x;
  double xx = 0, xg = 0;
  for (size_t j = 0; j < n; j++) {
    xx += (double)x[j] * x[j];
    xg += (double)x[j] * grad[j];
  }
  if (!(xx > 0)) return nco_error(NCO_ERR_NUMERIC, "rgd: the iterate is zero");
  /* Ma eq. (5.4): Riemannian gradient P_x g = g − ⟨x,g⟩x/‖x‖². */
  double c = xg / xx;
  double t = o->hp.maximize ? o->lr : -o->lr;
  /* Absil et al. (2008), Ex. 4.1.1: R_x(tv) = (x + tv)/‖x + tv‖. Two
   * passes (norm, then write) so x is read before it is overwritten. */
  double s = 0;
  for (size_t j = 0; j < n; j++) {
    double v = (double)grad[j] - c * x[j];
    double u = (double)x[j] + t * v;
    s += u * u;
  }
  if (!(s > 0) || !isfinite(s))
    return nco_error(NCO_ERR_NUMERIC, "rgd: x + step has norm² %g at step %llu; cannot retract", s,
                     (unsigned long long)o->k);
  double inv = 1.0 / sqrt(s);
  for (size_t j = 0; j < n; j++) {
    double v = (double)grad[j] - c * x[j];
    x[j] = (float)(((double)x[j] + t * v) * inv);
  }
  return NCO_OK;
}

const nco_optim_type nco_optim_rgd_type = {
    .name = "rgd",
    .help =
        "Riemannian gradient descent on the unit sphere (Ma §5; Absil et al. 2008): "
        "x <- (x - lr*P_x g)/|x - lr*P_x g|, P_x g = g - <x,g>x; needs a problem on the "
        "sphere; keys lr, maximize",
    .ask_tell = 1,
    .requires = 2,
    .defaults = rgd_defaults,
    .validate = rgd_validate,
    .state_size = rgd_state_size,
    .init = rgd_init,
    .step = rgd_step,
    .iterate = NULL,
    .projects = 1,
};

const nco_optim_type *const nco_optim_rgd = &nco_optim_rgd_type;
