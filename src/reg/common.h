/* src/reg/common.h — what the two wrappers (l2.c, invex.c) share, defined
 * in common.c (private: not installed, not part of the API). Neither
 * wrapper calls the other: what the rest of ncopt asks of a wrapper goes
 * through the problem interface (nco_problem_type.reg_lambda,
 * .invex_lifting). */
#ifndef NCO_REG_COMMON_H
#define NCO_REG_COMMON_H

#include "ncopt/problem.h"

/* The argument checks a wrap starts with, once base is known not NULL: out
 * is not NULL, λ is finite and λ ≥ 0 (λ > 0 if `positive`). NCO_OK, or the
 * error "WHO: ... (base LABEL)". */
int nco_reg_check_wrap_(const char *who, const nco_problem *base, double lambda, int positive,
                        nco_problem **out);

/* The end of a wrap: pb wraps base (owned if `owns`), starts with the base's
 * reduction (the wrapper's own from then on) and is labelled
 * "WHO(λ=…) ∘ BASE LABEL". */
void nco_reg_attach_(nco_problem *pb, nco_problem *base, int owns, const char *who, double lambda);

#endif
