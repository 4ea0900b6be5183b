/* What the ℓ2 and invex wrappers share (reg/common.h), and the questions
 * asked of any wrapper through the problem interface (ncopt/reg.h). */
#include "reg/common.h"

#include <math.h>
#include <stdio.h>

#include "ncopt/reg.h"
#include "ncopt/status.h"

int nco_reg_check_wrap_(const char *who, const nco_problem *base, double lambda, int positive,
                        nco_problem **out) {
  if (!out)
    return nco_error(NCO_ERR_INVALID, "%s: output pointer is NULL (base %s)", who, base->label);
  if (!isfinite(lambda))
    return nco_error(NCO_ERR_RANGE, "%s: lambda must be finite, got %g (base %s)", who, lambda,
                     base->label);
  if (positive ? !(lambda > 0) : lambda < 0)
    return nco_error(NCO_ERR_RANGE, "%s: lambda must be %s, got %g (base %s)", who,
                     positive ? "> 0" : ">= 0", lambda, base->label);
  return NCO_OK;
}

void nco_reg_attach_(nco_problem *pb, nco_problem *base, int owns, const char *who, double lambda) {
  pb->base = base;
  pb->owns_base = owns ? 1 : 0;
  pb->reduction = base->reduction; /* copied once; the wrapper's own from now on */
  snprintf(pb->label, sizeof pb->label, "%s(λ=%g) ∘ %.100s", who, lambda, base->label);
}

double nco_reg_lambda(const nco_problem *pb) {
  return pb && pb->type && pb->type->reg_lambda ? pb->type->reg_lambda(pb) : NAN;
}

int nco_reg_is_invex(const nco_problem *pb) { return pb && pb->type && pb->type->invex_lifting; }
