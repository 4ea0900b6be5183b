/* ncopt/reg.h — regularisers as wrappers: a problem in, a problem out.
 *
 * Nothing downstream knows which wrapper it holds: the result is an
 * nco_problem whose parameters start with the wrapped problem's x
 * (pb->base = the wrapped problem), so nco_problem_loss_unreg reports the
 * non-regularised f(x) at any point.
 */
#ifndef NCOPT_REG_H
#define NCOPT_REG_H

#include "ncopt/problem.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ℓ2: f(x) + λ‖x‖² (Crane & Roosta's form of ridge, §2), λ ≥ 0.
 * Parameters: x[d]. The penalty is added once per evaluation, whatever the
 * batch (it is not scaled by the reduction). For a least-squares base the
 * wrapper stays least-squares: residual [g_S(x); √(2λ)·x] (m_extra += d),
 * so ½‖·‖² = ½‖g_S‖² + λ‖x‖² under SUM. Exact HVP when the base has one.
 * owns = 1 hands `base` over (freed with the wrapper, also on failure). */
int nco_l2_wrap(nco_problem *base, double lambda, int owns, nco_problem **out);

/* Invex lifting (Crane & Roosta, eq. 2): f̂(x, p) = ½‖g(x) + λp‖² over
 * (x, p) ∈ R^{d + N}, N = n·m + m_extra (one p per residual), λ > 0
 * (NCO_ERR_RANGE otherwise), base must be least-squares
 * (NCO_ERR_UNSUPPORTED otherwise). Parameters: [x (d); p (N)], p_i for
 * sample s at d + s·m + i, extras last. On a minibatch S only p_S enters
 * and receives gradient. Residual g_S(x) + λp_S, JVP J u_x + λ u_{p,S},
 * VJP [J_Sᵀ v; λ v scattered onto p_S]; exact HVP when the base has rhvp.
 * The default init is the base's init for x and p = 0 (the paper's
 * (x₀, 0)). */
int nco_invex_wrap(nco_problem *base, double lambda, int owns, nco_problem **out);

/* λ of an l2 or invex wrapper; NAN for other problems. */
double nco_reg_lambda(const nco_problem *pb);
/* 1 if pb is the invex lifting (Crane & Roosta's PL guarantee applies). */
int nco_reg_is_invex(const nco_problem *pb);

#ifdef __cplusplus
}
#endif
#endif
