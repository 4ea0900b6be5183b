/* Helpers shared by the full-step methods (lbfgs.c, lm.c). */
#include <math.h>

#include "ncopt/status.h"
#include "optim/internal.h"

int nco_optim_check_tolerances(const nco_optim_params *hp) {
  if (!(hp->tolerance_grad >= 0) || !isfinite(hp->tolerance_grad))
    return nco_error(NCO_ERR_RANGE, "optimizer.tolerance_grad: must be finite and >= 0 (got %g)",
                     hp->tolerance_grad);
  if (!(hp->tolerance_change >= 0) || !isfinite(hp->tolerance_change))
    return nco_error(NCO_ERR_RANGE, "optimizer.tolerance_change: must be finite and >= 0 (got %g)",
                     hp->tolerance_change);
  return NCO_OK;
}

int nco_optim_counted(nco_optim *o, int st) {
  if (st >= 0) o->k++;
  return st;
}
