/* The hyper-parameters of every method, declared once (optim.h,
 * nco_optim_param): name, field of nco_optim_params, kind, range with open
 * or closed ends, the methods that read it and a one-line help. The table
 * is the only range check of a hyper-parameter: nco_optim_validate (and
 * so nco_optim_create) checks every row, the spec keys of [optimizer]
 * (src/run/config_keys.c) are generated from it, and the key reference
 * (`ncopt list keys`, docs/SPEC.md) prints it. The methods' validate hooks
 * keep only relations between keys and what a range cannot say. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ncopt/status.h"
#include "optim/internal.h"

#define LO NCO_OPTIM_LO_OPEN
#define HI NCO_OPTIM_HI_OPEN
#define INF HUGE_VAL
#define F(f) offsetof(nco_optim_params, f)
#define D NCO_OPTIM_PARAM_DOUBLE
#define Z NCO_OPTIM_PARAM_SIZE
#define B NCO_OPTIM_PARAM_BOOL
#define E NCO_OPTIM_PARAM_ENUM
#define P NCO_OPTIM_PARAM_PAIR
#define FIRST_ORDER "sgd psgd sgld adagrad adagrad_norm rmsprop adam adamw amsgrad accelegrad"
#define ADAMS "adam adamw amsgrad"

/* name, kind, field, lo, hi, open ends, enum values / pair parts, methods (NULL: all), help */
static const nco_optim_param params[] = {
    {"lr", D, F(lr), 0, INF, LO | HI, NULL, NULL, NULL, "step size"},
    {"weight_decay", D, F(weight_decay), 0, INF, HI, NULL, NULL, FIRST_ORDER,
     "L2 penalty added to the gradient (adamw: decoupled)"},
    {"maximize", B, F(maximize), 0, 1, 0, NULL, NULL, FIRST_ORDER " rgd", "ascend instead of descend"},
    {"momentum", D, F(momentum), 0, 1, HI, NULL, NULL, "sgd rmsprop", "heavy-ball momentum"},
    {"dampening", D, F(dampening), 0, 1, 0, NULL, NULL, "sgd", "momentum dampening"},
    {"nesterov", B, F(nesterov), 0, 1, 0, NULL, NULL, "sgd", "Nesterov momentum"},
    {"alpha", D, F(alpha), 0, 1, HI, NULL, NULL, "rmsprop", "smoothing constant"},
    {"centered", B, F(centered), 0, 1, 0, NULL, NULL, "rmsprop", "centred RMSProp"},
    {"betas", P, F(beta1), 0, 1, HI, NULL, "beta1 beta2", ADAMS,
     "β₁, β₂: first- and second-moment decays, torch's `betas = (0.9, 0.999)` (parentheses optional)"},
    {"eps", D, F(eps), 0, INF, LO | HI, NULL, NULL, "adagrad adagrad_norm rmsprop " ADAMS, "denominator constant"},
    {"amsgrad", B, F(amsgrad), 0, 1, 0, NULL, NULL, ADAMS, "AMSGrad max on v"},
    {"reddi", B, F(reddi), 0, 1, 0, NULL, NULL, ADAMS, "Reddi et al.'s original updates (no bias correction)"},
    {"lr_decay", D, F(lr_decay), 0, INF, HI, NULL, NULL, "adagrad", "lr/(1 + (k−1)·lr_decay)"},
    {"initial_accumulator_value", D, F(initial_accumulator_value), 0, INF, HI, NULL, NULL, "adagrad", "initial Σg²"},
    {"radius", D, F(radius), 0, INF, HI, NULL, NULL, "psgd", "perturbation radius r"},
    {"inv_temp", D, F(inv_temp), 0, INF, LO | HI, NULL, NULL, "sgld", "inverse temperature β"},
    {"diameter", D, F(diameter), 0, INF, LO | HI, NULL, NULL, "accelegrad", "feasible-set diameter D"},
    {"G", D, F(G), 0, INF, HI, NULL, NULL, "accelegrad", "gradient bound G"},
    {"history_size", Z, F(history_size), 1, 1e6, 0, NULL, NULL, "lbfgs", "L-BFGS memory"},
    {"max_iter", Z, F(max_iter), 1, 1e9, 0, NULL, NULL, "lbfgs", "inner iterations per step"},
    {"max_eval", Z, F(max_eval), 0, 1e9, 0, NULL, NULL, "lbfgs", "evaluations per step (0: 5/4·max_iter)"},
    {"tolerance_grad", D, F(tolerance_grad), 0, INF, HI, NULL, NULL, "lbfgs lm", "gradient tolerance"},
    {"tolerance_change", D, F(tolerance_change), 0, INF, HI, NULL, NULL, "lbfgs lm", "change tolerance"},
    {"line_search_fn", E, F(line_search_fn), 0, 0, 0, "none strong_wolfe", NULL, "lbfgs", "none | strong_wolfe"},
    {"mu0", D, F(mu0), 0, INF, LO | HI, NULL, NULL, "lm", "initial damping"},
    {"cg_max_iter", Z, F(cg_max_iter), 1, 1e9, 0, NULL, NULL, "lm", "CG iterations per step"},
    {"cg_tol", D, F(cg_tol), 0, 1, LO | HI, NULL, NULL, "lm", "CG relative tolerance"},
    {"projection", E, F(projection), 0, 0, 0, "none box ball", NULL, NULL, "projection after each step"},
    {"proj_lo", D, F(proj_lo), -INF, INF, HI, NULL, NULL, NULL, "box lower bound"},
    {"proj_hi", D, F(proj_hi), -INF, INF, LO, NULL, NULL, NULL, "box upper bound"},
    {"proj_radius", D, F(proj_radius), 0, INF, LO, NULL, NULL, NULL, "ball radius"},
    {"proj_center_start", B, F(proj_center_start), 0, 1, 0, NULL, NULL, NULL, "ball around θ₀ (else 0)"},
};
#define NPARAMS (sizeof params / sizeof *params)

const nco_optim_param *nco_optim_param_table(size_t *n) {
  if (n) *n = NPARAMS;
  return params;
}

const nco_optim_param *nco_optim_param_find(const char *name) {
  for (size_t i = 0; name && i < NPARAMS; i++)
    if (!strcmp(params[i].name, name)) return &params[i];
  return NULL;
}

/* word in a space-separated list */
static int listed(const char *word, const char *list) {
  size_t L = strlen(word);
  for (const char *p = list; p && *p;) {
    size_t n = strcspn(p, " ");
    if (n == L && !strncmp(p, word, L)) return 1;
    p += n + (p[n] == ' ');
  }
  return 0;
}

int nco_optim_param_applies(const nco_optim_param *p, const nco_optim_type *t) {
  return p && t && (!p->methods || listed(t->name, p->methods));
}

/* number of words of a space-separated list */
static int nwords(const char *list) {
  int n = 0;
  for (const char *p = list; p && *p; n++) p += strcspn(p, " "), p += *p == ' ';
  return n;
}

static void bound_text(double v, int integer, char *buf, size_t len) {
  if (isinf(v)) snprintf(buf, len, "%sinf", v < 0 ? "-" : "");
  else snprintf(buf, len, integer ? "%.0f" : "%g", v);
}

const char *nco_optim_param_range(const nco_optim_param *p, char *buf, size_t len) {
  if (!p || !len) return "";
  if (p->kind == NCO_OPTIM_PARAM_BOOL) {
    snprintf(buf, len, "0 or 1");
  } else if (p->kind == NCO_OPTIM_PARAM_ENUM) {
    snprintf(buf, len, "one of: %s", p->values);
  } else {
    char lo[32], hi[32];
    int integer = p->kind == NCO_OPTIM_PARAM_SIZE;
    bound_text(p->lo, integer, lo, sizeof lo), bound_text(p->hi, integer, hi, sizeof hi);
    snprintf(buf, len, "%c%s, %s%c", p->open & NCO_OPTIM_LO_OPEN ? '(' : '[', lo, hi,
             p->open & NCO_OPTIM_HI_OPEN ? ')' : ']');
  }
  return buf;
}

static int in_range(const nco_optim_param *p, double v) {
  int lo_ok = p->open & NCO_OPTIM_LO_OPEN ? v > p->lo : v >= p->lo;
  int hi_ok = p->open & NCO_OPTIM_HI_OPEN ? v < p->hi : v <= p->hi;
  return lo_ok && hi_ok; /* NaN: neither */
}

/* the name of component i (0, 1) of a pair: "beta1" */
static const char *part_name(const nco_optim_param *p, int i, char *buf, size_t len) {
  const char *s = p->parts;
  if (i) s += strcspn(s, " ") + 1;
  snprintf(buf, len, "%.*s", (int)strcspn(s, " "), s);
  return buf;
}

int nco_optim_param_check(const nco_optim_param *p, const nco_optim_params *hp) {
  if (!p || !hp) return nco_error(NCO_ERR_INVALID, "optimizer: NULL parameter or settings");
  const char *f = (const char *)hp + p->offset;
  char r[128], nm[64];
  switch (p->kind) {
    case NCO_OPTIM_PARAM_DOUBLE:
    case NCO_OPTIM_PARAM_PAIR:
      for (int i = 0; i < (p->kind == NCO_OPTIM_PARAM_PAIR ? 2 : 1); i++) {
        double v;
        memcpy(&v, f + i * sizeof(double), sizeof v);
        if (!in_range(p, v))
          return nco_error(NCO_ERR_RANGE, "optimizer.%s = %g: must be in %s",
                           p->kind == NCO_OPTIM_PARAM_PAIR ? part_name(p, i, nm, sizeof nm) : p->name, v,
                           nco_optim_param_range(p, r, sizeof r));
      }
      return NCO_OK;
    case NCO_OPTIM_PARAM_SIZE: {
      size_t v;
      memcpy(&v, f, sizeof v);
      if (!in_range(p, (double)v))
        return nco_error(NCO_ERR_RANGE, "optimizer.%s = %zu: must be in %s", p->name, v,
                         nco_optim_param_range(p, r, sizeof r));
      return NCO_OK;
    }
    case NCO_OPTIM_PARAM_BOOL:
    case NCO_OPTIM_PARAM_ENUM: {
      int v;
      memcpy(&v, f, sizeof v);
      int n = p->kind == NCO_OPTIM_PARAM_BOOL ? 2 : nwords(p->values);
      if (v < 0 || v >= n)
        return nco_error(NCO_ERR_RANGE, "optimizer.%s = %d: must be %s", p->name, v,
                         nco_optim_param_range(p, r, sizeof r));
      return NCO_OK;
    }
  }
  return nco_error(NCO_ERR_INVALID, "optimizer.%s: unknown kind %d", p->name, (int)p->kind);
}

/* Relations between keys that every method shares: the box. */
static int check_relations(const nco_optim_params *hp) {
  if (hp->projection == NCO_PROJ_BOX && !(hp->proj_lo <= hp->proj_hi))
    return nco_error(NCO_ERR_RANGE, "optimizer.proj_lo = %g: must be <= optimizer.proj_hi = %g", hp->proj_lo,
                     hp->proj_hi);
  return NCO_OK;
}

int nco_optim_validate(const nco_optim_type *t, const nco_optim_params *hp) {
  if (!t) return nco_error(NCO_ERR_INVALID, "optimizer: method is NULL");
  if (!hp) return nco_error(NCO_ERR_INVALID, "optimizer %s: settings are NULL", t->name);
  int st;
  for (size_t i = 0; i < NPARAMS; i++)
    if ((st = nco_optim_param_check(&params[i], hp))) return st;
  if ((st = check_relations(hp))) return st;
  return t->validate ? t->validate(hp) : NCO_OK;
}
