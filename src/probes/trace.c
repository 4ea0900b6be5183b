/* The Hessian's trace by Hutchinson's estimator (Hutchinson 1990; Avron &
 * Toledo 2011; PyHessian's trace, Yao et al. 2020, Alg. 2): for
 * Rademacher vectors z (entries ±1 with probability ½), E[zᵀHz] = tr H, so
 * with m independent probes
 *     t̂ = (1/m) Σ_i z_iᵀ H z_i,    se = sqrt(Σ_i (z_iᵀHz_i − t̂)² / (m(m − 1))),
 * the estimate and its standard error. On the sphere the operator is the
 * Riemannian Hessian P H_R P (nco_lz_hess_op), and E[(Pz)(Pz)ᵀ] = P: the
 * estimate is unbiased for the trace over the tangent space. Sums in
 * double; each probe costs one Hessian-vector product. */
#include <math.h>
#include <stdlib.h>

#include "ncopt/diag.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "probes/internal.h"

int nco_hessian_trace(nco_problem *pb, const float *x, const size_t *idx, size_t nb, size_t m, nco_rng *rng,
                      double *trace, double *se) {
  if (!pb || !x || !rng || !trace) return nco_error(NCO_ERR_INVALID, "Hessian trace: NULL argument");
  *trace = NAN;
  if (se) *se = NAN;
  if (m < 1) return nco_error(NCO_ERR_RANGE, "%s: Hessian trace: needs at least one probe", pb->label);
  if (!idx && nb != pb->n)
    return nco_error(NCO_ERR_INVALID, "%s: Hessian trace: full batch (idx NULL) needs nb = n = %zu, got %zu", pb->label,
                     pb->n, nb);
  const size_t d = pb->dim;
  nco_lz_hess h = {pb, x, idx, nb, NULL, pb->manifold == NCO_MANIFOLD_SPHERE, 0, 0};
  float *z = nco_calloc(d, sizeof *z), *hz = nco_calloc(d, sizeof *hz);
  int st = NCO_OK;
  if (!z || !hz || (h.riemannian && !(h.tmp = nco_calloc(d, sizeof *h.tmp)))) {
    st = nco_error(NCO_ERR_NOMEM, "%s: Hessian trace: out of memory", pb->label);
    goto done;
  }
  if (h.riemannian) { /* ⟨x, ∇f(x)⟩ and ‖x‖² of Ma eq. (5.5) */
    double loss;
    h.xx = nco_dot(d, x, x);
    if (!(h.xx > 0) || !isfinite(h.xx)) {
      st = nco_error(NCO_ERR_INVALID, "%s: Hessian trace: the point is zero or not finite", pb->label);
      goto done;
    }
    if ((st = nco_problem_eval(pb, x, idx, nb, &loss, h.tmp))) goto done;
    h.xg = nco_dot(d, x, h.tmp);
  }
  double sum = 0, sum2 = 0;
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < d; j += 64) { /* 64 signs per draw */
      uint64_t bits = nco_rng_u64(rng);
      for (size_t k = 0; k < 64 && j + k < d; k++) z[j + k] = (bits >> k & 1) ? 1.0f : -1.0f;
    }
    if ((st = nco_lz_hess_op(&h, z, hz))) goto done;
    double s = nco_dot(d, z, hz);
    if (!isfinite(s)) {
      st = nco_error(NCO_ERR_NONFINITE, "%s: Hessian trace: probe %zu gives zᵀHz = %g", pb->label, i, s);
      goto done;
    }
    sum += s, sum2 += s * s;
  }
  double mean = sum / (double)m;
  *trace = mean;
  if (se) *se = m > 1 ? sqrt(fmax(0, (sum2 - (double)m * mean * mean) / ((double)m * (double)(m - 1)))) : NAN;
done:
  free(z), free(hz), free(h.tmp);
  return st ? nco_error_context(st, "Hessian trace") : NCO_OK;
}
