/* Helpers shared by the full-step methods (lbfgs.c, lm.c). */
#include <math.h>

#include "ncopt/status.h"
#include "optim/internal.h"

int nco_optim_counted(nco_optim *o, int st) {
  if (st >= 0) o->k++;
  return st;
}
