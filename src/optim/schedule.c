/* Step-size schedules (optim.h): lr_k for k = 0, 1, 2, ..., evaluated per
 * step from a validated value struct, with an optional linear warm-up.
 *
 * Cevher, lecture 9 ("Q3: using a vanishing step-size helps", Theorem 4 of
 * Mertikopoulos et al. 2020: γ_k = O(1/k); "using 1/k step-size decrease
 * helps in practice": ResNet training at different cool-down cut-offs) gives
 * the inv and cooldown kinds; inv_sqrt is the α/√t of AMSGrad/AdaGrad
 * analyses (Reddi, Kale & Kumar 2018, Thm 4); step and cosine are PyTorch's
 * StepLR and CosineAnnealingLR (one cycle, no restart). */
#include <math.h>
#include <string.h>

#include "ncopt/optim.h"
#include "ncopt/status.h"

static const char *const sched_names[] = {
    [NCO_SCHED_CONSTANT] = "constant", [NCO_SCHED_INV] = "inv",       [NCO_SCHED_INV_SQRT] = "inv_sqrt",
    [NCO_SCHED_STEP] = "step",         [NCO_SCHED_COSINE] = "cosine", [NCO_SCHED_COOLDOWN] = "cooldown",
};
#define NSCHED (sizeof sched_names / sizeof sched_names[0])
#define NCO_PI 3.14159265358979323846

const char *nco_schedule_name(nco_schedule_kind kind) {
  if ((unsigned)kind < NSCHED && sched_names[kind]) return sched_names[kind];
  return "unknown";
}

int nco_schedule_parse(const char *name, nco_schedule_kind *kind) {
  if (!name || !kind) return nco_error(NCO_ERR_INVALID, "schedule: NULL name or output");
  for (size_t i = 0; i < NSCHED; i++)
    if (sched_names[i] && strcmp(name, sched_names[i]) == 0) {
      *kind = (nco_schedule_kind)i;
      return NCO_OK;
    }
  return nco_error(NCO_ERR_INVALID,
                   "schedule = %s: unknown kind (constant, inv, inv_sqrt, step, cosine, cooldown)", name);
}

nco_schedule nco_schedule_defaults(nco_schedule_kind kind, double c) {
  nco_schedule s = {
      .kind = kind,
      .c = c,
      .k0 = 1,
      .step_size = 100,
      .gamma = 0.1,
      .T = 1000,
      .lr_min = 0,
      .K = 1000,
      .warmup = 0,
      .unit = NCO_SCHED_UNIT_STEP,
      .steps_per_epoch = 1,
  };
  return s;
}

/* Validates c and the fields the kind reads ("schedule.KEY = VALUE: ..."). */
int nco_schedule_validate(const nco_schedule *s) {
  if (!s) return nco_error(NCO_ERR_INVALID, "schedule: NULL schedule");
  if ((unsigned)s->kind >= NSCHED)
    return nco_error(NCO_ERR_RANGE, "schedule.kind = %d: unknown kind", (int)s->kind);
  if (!(isfinite(s->c) && s->c > 0))
    return nco_error(NCO_ERR_RANGE, "schedule.c = %g: the base step size must be in (0, inf)", s->c);
  if (s->unit != NCO_SCHED_UNIT_STEP && s->unit != NCO_SCHED_UNIT_EPOCH)
    return nco_error(NCO_ERR_RANGE, "schedule.unit = %d: must be step (0) or epoch (1)", s->unit);
  if (s->steps_per_epoch < 1)
    return nco_error(NCO_ERR_RANGE, "schedule.steps_per_epoch = %llu: must be >= 1", (unsigned long long)s->steps_per_epoch);
  switch (s->kind) {
    case NCO_SCHED_CONSTANT:
      break;
    case NCO_SCHED_INV:
    case NCO_SCHED_INV_SQRT:
      if (!(isfinite(s->k0) && s->k0 > 0))
        return nco_error(NCO_ERR_RANGE, "schedule.k0 = %g: must be finite and > 0", s->k0);
      break;
    case NCO_SCHED_STEP:
      if (s->step_size < 1)
        return nco_error(NCO_ERR_RANGE, "schedule.step_size = %zu: must be >= 1", s->step_size);
      if (!(s->gamma > 0 && s->gamma <= 1))
        return nco_error(NCO_ERR_RANGE, "schedule.gamma = %g: must be in (0, 1]", s->gamma);
      break;
    case NCO_SCHED_COSINE:
      if (s->T < 1) return nco_error(NCO_ERR_RANGE, "schedule.T = %zu: must be >= 1", s->T);
      if (!(s->lr_min >= 0 && s->lr_min <= s->c))
        return nco_error(NCO_ERR_RANGE, "schedule.lr_min = %g: must be in [0, c = %g]", s->lr_min, s->c);
      break;
    case NCO_SCHED_COOLDOWN:
      if (s->K < 1) return nco_error(NCO_ERR_RANGE, "schedule.K = %zu: must be >= 1", s->K);
      break;
  }
  return NCO_OK;
}

/* lr_k; assumes a validated schedule. k is the optimiser step; with
 * unit = epoch the schedule counts completed epochs (torch schedulers
 * stepped once per epoch). */
double nco_schedule_lr(const nco_schedule *s, uint64_t step) {
  uint64_t k = s->unit == NCO_SCHED_UNIT_EPOCH && s->steps_per_epoch > 1 ? step / s->steps_per_epoch : step;
  double kd = (double)k, lr = s->c;
  switch (s->kind) {
    case NCO_SCHED_CONSTANT:
      break;
    case NCO_SCHED_INV: /* c/(k + k0): γ_k = O(1/k) (Cevher L9, Q3) */
      lr = s->c / (kd + s->k0);
      break;
    case NCO_SCHED_INV_SQRT: /* c/√(k + k0): α_t = α/√t (Reddi et al. 2018) */
      lr = s->c / sqrt(kd + s->k0);
      break;
    case NCO_SCHED_STEP: /* c·γ^⌊k/step_size⌋ (torch StepLR) */
      lr = s->c * pow(s->gamma, (double)(k / s->step_size));
      break;
    case NCO_SCHED_COSINE: { /* lr_min + (c − lr_min)(1 + cos(π·min(k,T)/T))/2 (torch CosineAnnealingLR) */
      if (!s->T) break; /* unresolved auto horizon: c */
      double kk = k < s->T ? kd : (double)s->T;
      /* written as a convex combination, c·w + lr_min·(1 − w) with w =
       * (1 + cos)/2, so that step 0 gives c and step T gives lr_min exactly
       * (as torch's scheduler, which starts from base_lr) */
      double w = (1 + cos(NCO_PI * kk / (double)s->T)) / 2;
      lr = s->c * w + s->lr_min * (1 - w);
      break;
    }
    case NCO_SCHED_COOLDOWN: /* c until K, then c·K/k: the 1/k cool-down of Cevher L9 */
      lr = k < s->K ? s->c : s->c * (double)s->K / kd;
      break;
  }
  /* Linear warm-up over the first `warmup` steps, multiplying any kind. */
  if (s->warmup && k < s->warmup) lr *= (kd + 1) / (double)s->warmup;
  return lr;
}
