/* ncopt/check.h — float64 finite-difference checks of derivatives.
 *
 * Every problem, wrapper and (later) layer is tested with these. They
 * evaluate the problem at float32 points, so the perturbation is formed in
 * float32: the harness uses the *actual* perturbation δ = fl(x + h u) −
 * fl(x − h u), computed exactly in double, and compares the central
 * difference f(x₊) − f(x₋) with ⟨∇f, δ⟩. Rounding of the step therefore
 * costs no accuracy, and the float64 difference of double losses gives
 * derivatives to ~1e-9 relative for problems that compute in double.
 *
 * Acceptance, per compared number a (analytic) and n (numeric):
 *     |a − n| ≤ atol·s + rtol·|n| + noise
 * where s is the scale of the compared quantity (max(1, ‖·‖_∞) of the
 * analytic vector), and noise = f_eps·(|f(x₊)| + |f(x₋)|)/‖δ‖ is the
 * rounding floor of the loss (f_eps = 1e-13 for problems that accumulate in
 * double; set FLT_EPSILON for float32 pipelines). Vector outputs that are
 * float32 (JVP, HVP) add the float32 rounding of the outputs themselves,
 * 4·FLT_EPSILON·‖out‖_∞/h.
 * A NaN anywhere fails the check.
 */
#ifndef NCOPT_CHECK_H
#define NCOPT_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ncopt/problem.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nco_check_opts {
  double h;           /* step relative to max(1, |x_k|) (coords) or max(1, ‖x‖_∞); default 1e-4 */
  double rtol;        /* default 1e-5 */
  double atol;        /* default 1e-6, multiplied by the scale s */
  double f_eps;       /* relative rounding floor of the loss; default 1e-13 */
  size_t max_coords;  /* coordinates checked (a seeded random subset if dim is larger); default 64 */
  size_t n_dirs;      /* random unit directions checked; default 4 */
  uint64_t seed;      /* for the coordinate subset and the directions; default 1 */
  int verbose;        /* 1: print every failing comparison to stderr; default 0 */
} nco_check_opts;

nco_check_opts nco_check_defaults(void);

typedef struct nco_check_report {
  size_t n_checked;     /* comparisons made */
  size_t n_failed;      /* comparisons outside tolerance */
  double max_abs_err;   /* max |a − n| */
  double max_rel_err;   /* max |a − n| / max(|n|, tiny) over comparisons with |n| > atol */
  double worst_ratio;   /* max |a − n| / tolerance (≤ 1 passes) */
  char worst[256];      /* description of the worst comparison */
} nco_check_report;

/* Gradient against central differences of the loss, on coordinates and
 * random directions, at x for batch (idx, nb). Returns NCO_OK if every
 * comparison passes, NCO_ERR_CHECK (with the worst case in the message)
 * otherwise; rep may be NULL. */
int nco_check_gradient(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                       const nco_check_opts *opts, nco_check_report *rep);

/* JVP against central differences of the residual (double) along random
 * directions; then VJP against JVP through the adjoint identity
 * ⟨v, J u⟩ = ⟨Jᵀv, u⟩ for random u, v, with tolerance
 * rtol·(‖v‖‖Ju‖ + ‖Jᵀv‖‖u‖) + float32 rounding of both sides. */
int nco_check_jvp_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                      const nco_check_opts *opts, nco_check_report *rep);

/* Hessian-vector product against central differences of the gradient
 * along random v: (∇f(x₊) − ∇f(x₋))/2h vs H·(δ/2h); and symmetry
 * ⟨u, Hv⟩ = ⟨Hu, v⟩. */
int nco_check_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                  const nco_check_opts *opts, nco_check_report *rep);

#ifdef __cplusplus
}
#endif
#endif
