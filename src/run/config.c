/* The key table and the resolution of a spec into an nco_config. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "ncopt/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ncopt/status.h"

typedef enum { T_DOUBLE, T_SIZE, T_U64, T_BOOL, T_STR, T_PATH, T_ENUM, T_PROBE, T_OPTIM, T_SCHED, T_ACT } ktype;

/* which settings object a key writes into */
typedef enum { IN_CFG, IN_HP, IN_SCHED } kbase;

typedef struct key {
  const char *section, *name;
  ktype type;
  kbase base;
  size_t off;
  const char *def;        /* default as text (NULL: the method's own default) */
  double lo, hi;          /* numeric range, inclusive */
  const char *enums;      /* T_ENUM: space-separated names, value = position */
  const char *applies;    /* space-separated types it applies to, NULL = all */
  const char *help;
} key;

#define C(f) IN_CFG, offsetof(nco_config, f)
#define H(f) IN_HP, offsetof(nco_optim_params, f)
#define S(f) IN_SCHED, offsetof(nco_schedule, f)
#define INF HUGE_VAL

static const char *const PROBLEM_TYPES = "linear_ls glm lowrank pca matcomp matcomp_asym tensor shallow";

static const key keys[] = {
    /* [data] */
    {"data", "source", T_STR, C(data_source), "synthetic", 0, 0, NULL, NULL,
     "synthetic | npy: where the arrays come from"},
    {"data", "seed", T_U64, C(data_seed), "0", 0, 0, NULL, NULL, "seed of the synthetic generator"},
    {"data", "n", T_SIZE, C(data_n), "64", 1, 1e9, NULL, "linear_ls glm lowrank pca matcomp shallow",
     "samples (rows; matrix size for pca/matcomp)"},
    {"data", "d", T_SIZE, C(data_d), "8", 1, 1e9, NULL, "linear_ls glm lowrank tensor shallow", "features / dimension"},
    {"data", "rank", T_SIZE, C(data_rank), "1", 1, 1e6, NULL, "lowrank pca matcomp matcomp_asym",
     "rank of the planted solution"},
    {"data", "k", T_SIZE, C(data_k), "4", 1, 1e6, NULL, "tensor shallow", "tensor components / teacher hidden units"},
    {"data", "n1", T_SIZE, C(data_n1), "30", 1, 1e9, NULL, "matcomp_asym", "rows of the asymmetric matrix"},
    {"data", "n2", T_SIZE, C(data_n2), "20", 1, 1e9, NULL, "matcomp_asym", "columns of the asymmetric matrix"},
    {"data", "noise", T_DOUBLE, C(data_noise), "0", 0, INF, NULL, "linear_ls glm lowrank pca matcomp_asym shallow",
     "standard deviation of additive Gaussian noise"},
    {"data", "gap", T_DOUBLE, C(data_gap), "1", 0, INF, NULL, "pca", "eigen-gap of the planted spectrum"},
    {"data", "p", T_DOUBLE, C(data_p), "0.5", 0, 1, NULL, "matcomp_asym", "observation probability"},
    {"data", "binary", T_BOOL, C(data_binary), "false", 0, 1, NULL, "glm", "targets in {0,1} (Bernoulli of the sigmoid)"},
    {"data", "features", T_PATH, C(data_features), "", 0, 0, NULL, "linear_ls glm lowrank shallow", ".npy features"},
    {"data", "targets", T_PATH, C(data_targets), "", 0, 0, NULL, "linear_ls glm lowrank shallow", ".npy targets"},
    {"data", "matrix", T_PATH, C(data_matrix), "", 0, 0, NULL, "pca matcomp", ".npy symmetric matrix"},
    {"data", "entries", T_PATH, C(data_entries), "", 0, 0, NULL, "matcomp_asym", ".npy (k, 3) rows i, j, value"},
    {"data", "components", T_PATH, C(data_components), "", 0, 0, NULL, "tensor", ".npy (k, d) tensor components"},
    {"data", "v", T_PATH, C(data_v), "", 0, 0, NULL, "shallow", ".npy fixed output weights (unit norm)"},
    /* [problem] */
    {"problem", "type", T_STR, C(problem_type), "glm", 0, 0, NULL, NULL,
     "linear_ls | glm | lowrank | pca | matcomp | matcomp_asym | tensor | shallow"},
    {"problem", "activation", T_ACT, C(act), "sigmoid", 0, 0, NULL, "glm shallow",
     "identity | sigmoid | tanh | softplus | relu | leaky_relu | elu"},
    {"problem", "slope", T_DOUBLE, C(act.slope), NULL, 0, INF, NULL, "glm shallow",
     "leaky ReLU slope / ELU alpha (default 0.01 / 1)"},
    {"problem", "mix", T_DOUBLE, C(act.mix), "0", 0, 1, NULL, "glm shallow",
     "γ in φ̃ = (1−γ)φ + γ·z (Oymak §4.3)"},
    {"problem", "rank", T_SIZE, C(problem_rank), "1", 1, 1e6, NULL, "lowrank pca matcomp matcomp_asym",
     "rank r of the factor (parameters d×r)"},
    {"problem", "k", T_SIZE, C(problem_k), "16", 1, 1e6, NULL, "shallow", "hidden units of the trained network"},
    {"problem", "p", T_DOUBLE, C(problem_p), "0.5", 0, 1, NULL, "matcomp", "observation probability of Ω"},
    {"problem", "reduction", T_ENUM, C(reduction), "sum", 0, 0, "sum mean", NULL,
     "sum (the papers' ½‖g‖²) or mean over the batch"},
    /* [regularizer] */
    {"regularizer", "type", T_ENUM, C(reg), "none", 0, 0, "none l2 invex", NULL,
     "none | l2 (f + λ‖x‖²) | invex (½‖g(x) + λp‖², Crane & Roosta eq. 2)"},
    {"regularizer", "lambda", T_DOUBLE, C(reg_lambda), "0", 0, INF, NULL, NULL, "λ (invex: > 0)"},
    /* [optimizer] */
    {"optimizer", "type", T_OPTIM, IN_CFG, 0, "sgd", 0, 0, NULL, NULL, "see `ncopt list optimizers`"},
    {"optimizer", "batch", T_SIZE, C(batch), "0", 0, 1e12, NULL, NULL, "minibatch size, 0 = full batch"},
    {"optimizer", "sampling", T_ENUM, C(sampling), "reshuffle", 0, 0, "reshuffle replacement cyclic", NULL,
     "minibatch order: reshuffle each epoch | with replacement | cyclic"},
    {"optimizer", "lr", T_DOUBLE, H(lr), NULL, 0, INF, NULL, NULL, "step size"},
    {"optimizer", "weight_decay", T_DOUBLE, H(weight_decay), NULL, 0, INF, NULL,
     "sgd psgd sgld adagrad adagrad_norm rmsprop adam adamw amsgrad accelegrad",
     "L2 penalty added to the gradient (adamw: decoupled)"},
    {"optimizer", "maximize", T_BOOL, H(maximize), NULL, 0, 1, NULL,
     "sgd psgd sgld adagrad adagrad_norm rmsprop adam adamw amsgrad accelegrad rgd", "ascend instead of descend"},
    {"optimizer", "momentum", T_DOUBLE, H(momentum), NULL, 0, 0.999999, NULL, "sgd rmsprop", "heavy-ball momentum"},
    {"optimizer", "dampening", T_DOUBLE, H(dampening), NULL, 0, 1, NULL, "sgd", "momentum dampening"},
    {"optimizer", "nesterov", T_BOOL, H(nesterov), NULL, 0, 1, NULL, "sgd", "Nesterov momentum"},
    {"optimizer", "alpha", T_DOUBLE, H(alpha), NULL, 0, 0.999999, NULL, "rmsprop", "smoothing constant"},
    {"optimizer", "centered", T_BOOL, H(centered), NULL, 0, 1, NULL, "rmsprop", "centred RMSProp"},
    {"optimizer", "beta1", T_DOUBLE, H(beta1), NULL, 0, 0.999999, NULL, "adam adamw amsgrad", "first-moment decay"},
    {"optimizer", "beta2", T_DOUBLE, H(beta2), NULL, 0, 0.999999, NULL, "adam adamw amsgrad", "second-moment decay"},
    {"optimizer", "eps", T_DOUBLE, H(eps), NULL, 0, INF, NULL, "adagrad adagrad_norm rmsprop adam adamw amsgrad",
     "denominator constant"},
    {"optimizer", "amsgrad", T_BOOL, H(amsgrad), NULL, 0, 1, NULL, "adam adamw amsgrad", "AMSGrad max on v"},
    {"optimizer", "reddi", T_BOOL, H(reddi), NULL, 0, 1, NULL, "adam adamw amsgrad",
     "Reddi et al.'s original updates (no bias correction)"},
    {"optimizer", "lr_decay", T_DOUBLE, H(lr_decay), NULL, 0, INF, NULL, "adagrad", "lr/(1 + (k−1)·lr_decay)"},
    {"optimizer", "initial_accumulator_value", T_DOUBLE, H(initial_accumulator_value), NULL, 0, INF, NULL,
     "adagrad", "initial Σg²"},
    {"optimizer", "radius", T_DOUBLE, H(radius), NULL, 0, INF, NULL, "psgd", "perturbation radius r"},
    {"optimizer", "inv_temp", T_DOUBLE, H(inv_temp), NULL, 0, INF, NULL, "sgld", "inverse temperature β"},
    {"optimizer", "diameter", T_DOUBLE, H(diameter), NULL, 0, INF, NULL, "accelegrad", "feasible-set diameter D"},
    {"optimizer", "G", T_DOUBLE, H(G), NULL, 0, INF, NULL, "accelegrad", "gradient bound G"},
    {"optimizer", "history_size", T_SIZE, H(history_size), NULL, 1, 1e6, NULL, "lbfgs", "L-BFGS memory"},
    {"optimizer", "max_iter", T_SIZE, H(max_iter), NULL, 1, 1e9, NULL, "lbfgs", "inner iterations per step"},
    {"optimizer", "max_eval", T_SIZE, H(max_eval), NULL, 0, 1e9, NULL, "lbfgs", "evaluations per step (0: 5/4·max_iter)"},
    {"optimizer", "tolerance_grad", T_DOUBLE, H(tolerance_grad), NULL, 0, INF, NULL, "lbfgs lm", "gradient tolerance"},
    {"optimizer", "tolerance_change", T_DOUBLE, H(tolerance_change), NULL, 0, INF, NULL, "lbfgs lm", "change tolerance"},
    {"optimizer", "line_search_fn", T_ENUM, H(line_search_fn), NULL, 0, 0, "none strong_wolfe", "lbfgs",
     "none | strong_wolfe"},
    {"optimizer", "mu0", T_DOUBLE, H(mu0), NULL, 0, INF, NULL, "lm", "initial damping"},
    {"optimizer", "cg_max_iter", T_SIZE, H(cg_max_iter), NULL, 1, 1e9, NULL, "lm", "CG iterations per step"},
    {"optimizer", "cg_tol", T_DOUBLE, H(cg_tol), NULL, 0, 1, NULL, "lm", "CG relative tolerance"},
    {"optimizer", "projection", T_ENUM, H(projection), NULL, 0, 0, "none box ball", NULL, "projection after each step"},
    {"optimizer", "proj_lo", T_DOUBLE, H(proj_lo), NULL, -INF, INF, NULL, NULL, "box lower bound"},
    {"optimizer", "proj_hi", T_DOUBLE, H(proj_hi), NULL, -INF, INF, NULL, NULL, "box upper bound"},
    {"optimizer", "proj_radius", T_DOUBLE, H(proj_radius), NULL, 0, INF, NULL, NULL, "ball radius"},
    {"optimizer", "proj_center_start", T_BOOL, H(proj_center_start), NULL, 0, 1, NULL, NULL, "ball around θ₀ (else 0)"},
    /* [schedule] */
    {"schedule", "type", T_SCHED, IN_CFG, 0, "constant", 0, 0, NULL, NULL,
     "constant | inv | inv_sqrt | step | cosine | cooldown"},
    {"schedule", "k0", T_DOUBLE, S(k0), NULL, 1e-300, INF, NULL, "inv inv_sqrt", "offset k₀ in c/(k+k₀), c/√(k+k₀)"},
    {"schedule", "step_size", T_SIZE, S(step_size), NULL, 1, 1e18, NULL, "step", "steps between decays"},
    {"schedule", "gamma", T_DOUBLE, S(gamma), NULL, 1e-300, 1, NULL, "step", "decay factor"},
    {"schedule", "T", T_SIZE, S(T), NULL, 1, 1e18, NULL, "cosine", "cosine horizon"},
    {"schedule", "lr_min", T_DOUBLE, S(lr_min), NULL, 0, INF, NULL, "cosine", "final step size"},
    {"schedule", "K", T_SIZE, S(K), NULL, 1, 1e18, NULL, "cooldown", "constant until K, then c·K/k"},
    {"schedule", "warmup", T_SIZE, S(warmup), NULL, 0, 1e18, NULL, NULL, "linear warm-up steps"},
    /* [run] */
    {"run", "iterations", T_U64, C(iterations), "0", 0, 1e18, NULL, NULL, "steps to run (or epochs)"},
    {"run", "epochs", T_U64, C(epochs), "0", 0, 1e18, NULL, NULL, "passes over the data (or iterations)"},
    {"run", "seed", T_U64, C(seed), "0", 0, 0, NULL, NULL, "seed of init, minibatches and noise"},
    {"run", "init", T_PATH, C(init), "", 0, 0, NULL, NULL, ".npy starting parameters (default: problem init)"},
    {"run", "log_every", T_U64, C(log_every), "1", 1, 1e18, NULL, NULL, "trace row every K steps"},
    {"run", "checkpoint_every", T_U64, C(checkpoint_every), "0", 0, 1e18, NULL, NULL, "checkpoint every K steps (0: end only)"},
    {"run", "target_loss", T_DOUBLE, C(target_loss), "-inf", -INF, INF, NULL, NULL, "stop when loss ≤ this"},
    {"run", "grad_tol", T_DOUBLE, C(grad_tol), "0", 0, INF, NULL, NULL, "stop when ‖∇f‖ ≤ this"},
    {"run", "max_seconds", T_DOUBLE, C(max_seconds), "inf", 0, INF, NULL, NULL, "stop after this many seconds"},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = {"data", "problem", "regularizer", "optimizer", "schedule", "run", "probes", "sweep"};
#define NSECTIONS (sizeof sections / sizeof *sections)

const char *nco_probe_name(nco_probe_id id) {
  static const char *const names[] = {
#define NCO_X_PROBE(name, help) #name,
      NCO_PROBE_LIST(NCO_X_PROBE)
#undef NCO_X_PROBE
  };
  return (unsigned)id < NCO_PROBE_COUNT ? names[id] : "?";
}

static const char *probe_help(nco_probe_id id) {
  static const char *const h[] = {
#define NCO_X_PROBE(name, help) help,
      NCO_PROBE_LIST(NCO_X_PROBE)
#undef NCO_X_PROBE
  };
  return h[id];
}

/* ---- small parsers -------------------------------------------------- */

static int word_in(const char *word, const char *list) {
  size_t L = strlen(word);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ' ');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == L && !strncmp(p, word, L)) return 1;
    p = e ? e + 1 : p + n;
  }
  return 0;
}

static int enum_index(const char *word, const char *list) {
  int i = 0;
  size_t L = strlen(word);
  for (const char *p = list; *p; i++) {
    const char *e = strchr(p, ' ');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == L && !strncmp(p, word, L)) return i;
    if (!e) break;
    p = e + 1;
  }
  return -1;
}

static const char *enum_name(const char *list, int idx, char *buf, size_t len) {
  const char *p = list;
  for (int i = 0; i < idx && p; i++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return "?";
  const char *e = strchr(p, ' ');
  size_t n = e ? (size_t)(e - p) : strlen(p);
  if (n >= len) n = len - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  if (!strcmp(s, "inf") || !strcmp(s, "+inf")) return *out = INFINITY, 0;
  if (!strcmp(s, "-inf")) return *out = -INFINITY, 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno == ERANGE || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-' || *s == '+' || *s == ' ') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno == ERANGE) {
    /* accept exact integers written like 1e4 */
    double d;
    if (parse_double(s, &d) || d < 0 || d > 1.8e19 || d != floor(d)) return -1;
    *out = (uint64_t)d;
    return 0;
  }
  *out = v;
  return 0;
}

static int parse_bool(const char *s, int *out) {
  if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1")) return *out = 1, 0;
  if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0")) return *out = 0, 0;
  return -1;
}

/* ---- resolution ------------------------------------------------------ */

static int kerr(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, int st, const char *fmt,
                const char *a, const char *b) {
  char where[1200], msg[600];
  snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
  if (e)
    nco_spec_where(e, where, sizeof where);
  else
    nco_spec_locate(spec, section, name, where, sizeof where);
  return nco_error(st, "%s: %s.%s: %s", where, section, name, msg);
}

static void *field(nco_config *cfg, const key *k) {
  switch (k->base) {
    case IN_HP: return (char *)&cfg->hp + k->off;
    case IN_SCHED: return (char *)&cfg->sched + k->off;
    default: return (char *)cfg + k->off;
  }
}

static const char *type_for(const nco_config *cfg, const key *k) {
  if (!strcmp(k->section, "optimizer")) return nco_optim_type_name(cfg->optim);
  if (!strcmp(k->section, "schedule")) return nco_schedule_name(cfg->sched.kind);
  return cfg->problem_type;
}

static int applies(const nco_config *cfg, const key *k) {
  if (!k->applies) return 1;
  if (!strcmp(k->section, "data") && strcmp(cfg->data_source, "synthetic") &&
      (!strcmp(k->name, "n") || !strcmp(k->name, "d") || !strcmp(k->name, "rank") || !strcmp(k->name, "k") ||
       !strcmp(k->name, "n1") || !strcmp(k->name, "n2") || !strcmp(k->name, "noise") ||
       !strcmp(k->name, "gap") || !strcmp(k->name, "p") || !strcmp(k->name, "binary")))
    return !strcmp(k->name, "n1") || !strcmp(k->name, "n2") ? word_in(cfg->problem_type, k->applies) : 0;
  if (!strcmp(k->section, "data") && !strcmp(cfg->data_source, "synthetic") &&
      (!strcmp(k->name, "features") || !strcmp(k->name, "targets") || !strcmp(k->name, "matrix") ||
       !strcmp(k->name, "entries") || !strcmp(k->name, "components")))
    return 0;
  return word_in(type_for(cfg, k), k->applies);
}

static int check_choice(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, const char *v,
                        const char *list);

static int set_value(const nco_spec *spec, nco_config *cfg, const key *k, const nco_spec_entry *e, const char *text) {
  void *f = field(cfg, k);
  double d;
  uint64_t u;
  int b, i;
  switch (k->type) {
    case T_DOUBLE:
      if (parse_double(text, &d)) return kerr(spec, e, k->section, k->name, NCO_ERR_INVALID, "'%s' is not a number", text, NULL);
      if (!(d >= k->lo && d <= k->hi)) {
        char r[96];
        snprintf(r, sizeof r, "[%g, %g]", k->lo, k->hi);
        return kerr(spec, e, k->section, k->name, NCO_ERR_RANGE, "%s is out of range %s", text, r);
      }
      *(double *)f = d;
      return 0;
    case T_SIZE:
    case T_U64:
      if (parse_u64(text, &u))
        return kerr(spec, e, k->section, k->name, NCO_ERR_INVALID, "'%s' is not a non-negative integer", text, NULL);
      if (k->hi > 0 && ((double)u < k->lo || (double)u > k->hi)) {
        char r[96];
        snprintf(r, sizeof r, "[%.0f, %.0f]", k->lo, k->hi);
        return kerr(spec, e, k->section, k->name, NCO_ERR_RANGE, "%s is out of range %s", text, r);
      }
      if (k->type == T_SIZE)
        *(size_t *)f = (size_t)u;
      else
        *(uint64_t *)f = u;
      return 0;
    case T_BOOL:
      if (parse_bool(text, &b)) return kerr(spec, e, k->section, k->name, NCO_ERR_INVALID, "'%s' is not true or false", text, NULL);
      *(int *)f = b;
      return 0;
    case T_STR:
    case T_PATH:
      if (strlen(text) >= (k->off == offsetof(nco_config, problem_type) || k->off == offsetof(nco_config, data_source) ? 32 : NCO_PATH_MAX))
        return kerr(spec, e, k->section, k->name, NCO_ERR_INVALID, "value too long", NULL, NULL);
      strcpy((char *)f, text);
      return 0;
    case T_ENUM:
      i = enum_index(text, k->enums);
      if (i < 0) return check_choice(spec, e, k->section, k->name, text, k->enums);
      *(int *)f = i;
      return 0;
    case T_ACT: {
      nco_activation a;
      if (nco_act_parse(text, &a))
        return kerr(spec, e, k->section, k->name, NCO_ERR_INVALID, "'%s' is not an activation (%s)", text,
                    "identity sigmoid tanh softplus relu leaky_relu elu");
      double mix = cfg->act.mix;
      cfg->act = nco_act_make(a);
      cfg->act.mix = mix;
      return 0;
    }
    default: return 0;
  }
}

static int check_choice(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, const char *v,
                        const char *list) {
  if (word_in(v, list)) return 0;
  /* did you mean */
  const char *best = NULL;
  size_t bd = 3;
  char buf[64], bestbuf[64];
  for (int i = 0;; i++) {
    const char *w = enum_name(list, i, buf, sizeof buf);
    if (!strcmp(w, "?")) break;
    size_t dd = nco_edit_distance(v, w);
    /* a near miss: at most 2 edits and fewer than half the letters */
    if (dd < bd && dd < strlen(w)) bd = dd, best = strcpy(bestbuf, w);
    if (!strchr(list, ' ') || i > 64) break;
  }
  if (best) {
    char m[160];
    snprintf(m, sizeof m, "unknown value '%s' (did you mean '%s'?)", v, best);
    return kerr(spec, e, section, name, NCO_ERR_INVALID, "%s", m, NULL);
  }
  return kerr(spec, e, section, name, NCO_ERR_INVALID, "unknown value '%s' (one of: %s)", v, list);
}

static const char *optim_names(char *buf, size_t len) {
  buf[0] = '\0';
  for (size_t i = 0; nco_optim_types[i]; i++) {
    if (i) strncat(buf, " ", len - strlen(buf) - 1);
    strncat(buf, nco_optim_type_name(nco_optim_types[i]), len - strlen(buf) - 1);
  }
  return buf;
}

/* The keys resolved first: problem.type, data.source, optimizer.type,
 * schedule.type. */
static int is_type_key(const key *k) {
  return k->type == T_OPTIM || k->type == T_SCHED || (!strcmp(k->section, "problem") && !strcmp(k->name, "type")) ||
         (!strcmp(k->section, "data") && !strcmp(k->name, "source"));
}

/* Locates an error of the optimiser's or schedule's own validation, whose
 * message reads "optimizer.KEY = V: what" or "schedule.KEY = V: what", at
 * the key's line: "FILE:LINE: optimizer.KEY: what (got V)". */
static int relocate(const nco_spec *spec, int st) {
  char msg[1024], where[1200], section[32], name[64], val[128] = "";
  snprintf(msg, sizeof msg, "%s", nco_last_error());
  const char *p = msg, *dot = strchr(msg, '.');
  if (!dot || (size_t)(dot - msg) >= sizeof section) {
    nco_spec_locate(spec, "optimizer", "type", where, sizeof where);
    return nco_error(st, "%s: optimizer.type: %s", where, msg);
  }
  snprintf(section, sizeof section, "%.*s", (int)(dot - msg), msg);
  p = dot + 1;
  size_t kl = strcspn(p, " =:");
  snprintf(name, sizeof name, "%.*s", (int)(kl < sizeof name ? kl : sizeof name - 1), p);
  p += kl;
  if (!strncmp(p, " = ", 3)) {
    const char *c = strstr(p + 3, ": ");
    size_t vl = c ? (size_t)(c - p - 3) : strlen(p + 3);
    snprintf(val, sizeof val, "%.*s", (int)(vl < sizeof val ? vl : sizeof val - 1), p + 3);
    p = c ? c : p + 3 + vl;
  }
  if (!strncmp(p, ": ", 2)) p += 2;
  /* the schedule's base step size c is the optimizer's lr */
  if (!strcmp(section, "schedule") && !strcmp(name, "c")) snprintf(section, sizeof section, "optimizer"), snprintf(name, sizeof name, "lr");
  nco_spec_locate(spec, section, name, where, sizeof where);
  if (val[0]) return nco_error(st, "%s: %s.%s: %s (got %s)", where, section, name, p, val);
  return nco_error(st, "%s: %s.%s: %s", where, section, name, p);
}

/* path ← dir/path unless absolute; dir made absolute with realpath. */
static int absolute_path(const nco_spec *spec, const key *k, const char *dir, char *path) {
  if (path[0] == '/') return NCO_OK;
  char base[PATH_MAX], full[2 * PATH_MAX + 2];
  if (!realpath(dir && *dir ? dir : ".", base))
    return kerr(spec, nco_spec_find(spec, k->section, k->name), k->section, k->name, NCO_ERR_IO,
                "cannot resolve the spec's folder %s", dir, NULL);
  snprintf(full, sizeof full, "%s%s%s", base, strcmp(base, "/") ? "/" : "", path);
  if (strlen(full) >= NCO_PATH_MAX)
    return kerr(spec, nco_spec_find(spec, k->section, k->name), k->section, k->name, NCO_ERR_INVALID, "path too long",
                NULL, NULL);
  strcpy(path, full);
  return NCO_OK;
}

int nco_config_from_spec(nco_spec *spec, nco_config *cfg) {
  int st;
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->spec_dir, sizeof cfg->spec_dir, "%s", spec->dir);
  for (size_t i = 0; i < spec->n; i++) spec->e[i].used = 0;

  /* 1. types first: they decide the defaults and which keys apply */
  nco_spec_entry *e;
  const char *v;
  e = nco_spec_find(spec, "problem", "type");
  v = e ? e->value : "glm";
  if (e && (st = check_choice(spec, e, "problem", "type", v, PROBLEM_TYPES))) return st;
  snprintf(cfg->problem_type, sizeof cfg->problem_type, "%s", v);
  e = nco_spec_find(spec, "optimizer", "type");
  v = e ? e->value : "sgd";
  cfg->optim = nco_optim_find(v);
  if (!cfg->optim) {
    char names[512];
    return check_choice(spec, e, "optimizer", "type", v, optim_names(names, sizeof names));
  }
  cfg->hp = nco_optim_defaults(cfg->optim);
  e = nco_spec_find(spec, "schedule", "type");
  v = e ? e->value : "constant";
  nco_schedule_kind sk;
  if (nco_schedule_parse(v, &sk))
    return check_choice(spec, e, "schedule", "type", v, "constant inv inv_sqrt step cosine cooldown");
  e = nco_spec_find(spec, "data", "source");
  v = e ? e->value : "synthetic";
  if ((st = check_choice(spec, e, "data", "source", v, "synthetic npy"))) return st;

  /* 2. defaults of every key, then the spec's values (problem.type and
   * data.source were set in 1: every key's applicability depends on them) */
  snprintf(cfg->data_source, sizeof cfg->data_source, "%s", v);
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (is_type_key(k) || !k->def) continue;
    if ((st = set_value(spec, cfg, k, NULL, k->def))) return st;
  }
  cfg->act = nco_act_make(NCO_ACT_SIGMOID);
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (is_type_key(k)) {
      if ((e = nco_spec_find(spec, k->section, k->name))) e->used = 1;
      continue;
    }
    if (k->type == T_ACT && (e = nco_spec_find(spec, k->section, k->name))) {
      e->used = 1;
      if ((st = set_value(spec, cfg, k, e, e->value))) return st;
    }
  }
  double base_lr = cfg->hp.lr;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (is_type_key(k) || k->type == T_ACT) continue;
    if (!(e = nco_spec_find(spec, k->section, k->name))) continue;
    e->used = 1;
    if (!strcmp(k->section, "schedule")) continue; /* after the schedule defaults */
    if (!applies(cfg, k)) {
      char *what = !strcmp(k->section, "optimizer") ? "optimizer" : "problem";
      return kerr(spec, e, k->section, k->name, NCO_ERR_INVALID, "does not apply here (used by: %s) — remove it or change the %s type",
                  k->applies, what);
    }
    if ((st = set_value(spec, cfg, k, e, e->value))) return st;
    if (k->base == IN_HP && k->off == offsetof(nco_optim_params, lr)) base_lr = cfg->hp.lr;
  }
  cfg->sched = nco_schedule_defaults(sk, base_lr);
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (strcmp(k->section, "schedule") || k->type == T_SCHED) continue;
    if (!(e = nco_spec_find(spec, k->section, k->name))) continue;
    if (!applies(cfg, k))
      return kerr(spec, e, k->section, k->name, NCO_ERR_INVALID, "does not apply to this schedule (used by: %s)", k->applies, NULL);
    if ((st = set_value(spec, cfg, k, e, e->value))) return st;
  }

  /* 3. probes: name = true | false | K */
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!(e = nco_spec_find(spec, "probes", nco_probe_name(p)))) continue;
    e->used = 1;
    int b;
    uint64_t K;
    if (!parse_bool(e->value, &b) && strcmp(e->value, "1"))
      cfg->probe_every[p] = b ? NCO_PROBE_AT_LOG : 0;
    else if (!parse_u64(e->value, &K) && K > 0)
      cfg->probe_every[p] = (int64_t)K;
    else
      return kerr(spec, e, "probes", nco_probe_name(p), NCO_ERR_INVALID, "'%s' is not true, false or a step count K ≥ 1",
                  e->value, NULL);
  }

  /* 4. anything left is unknown */
  for (size_t i = 0; i < spec->n; i++) {
    nco_spec_entry *u = &spec->e[i];
    if (u->used) continue;
    int known_section = 0;
    for (size_t s = 0; s < sizeof sections / sizeof *sections; s++) known_section |= !strcmp(u->section, sections[s]);
    if (!strcmp(u->section, "sweep")) continue; /* expanded by the caller */
    char where[1200], m[400];
    nco_spec_where(u, where, sizeof where);
    if (!known_section) {
      const char *best = NULL;
      size_t bd = 3;
      for (size_t s = 0; s < sizeof sections / sizeof *sections; s++) {
        size_t dd = nco_edit_distance(u->section, sections[s]);
        if (dd < bd && dd < strlen(sections[s])) bd = dd, best = sections[s];
      }
      if (best) snprintf(m, sizeof m, " (did you mean [%s]?)", best);
      else snprintf(m, sizeof m, " (sections: data problem regularizer optimizer schedule run probes sweep)");
      return nco_error(NCO_ERR_INVALID, "%s: %s.%s: unknown section [%s]%s", where, u->section, u->key, u->section, m);
    }
    const char *best = NULL;
    size_t bd = 3;
    for (size_t k = 0; k < NKEYS; k++) {
      if (strcmp(keys[k].section, u->section)) continue;
      size_t dd = nco_edit_distance(u->key, keys[k].name);
      if (dd < bd && dd < strlen(keys[k].name)) bd = dd, best = keys[k].name;
    }
    if (!strcmp(u->section, "probes"))
      for (int p = 0; p < NCO_PROBE_COUNT; p++) {
        size_t dd = nco_edit_distance(u->key, nco_probe_name(p));
        if (dd < bd && dd < strlen(nco_probe_name(p))) bd = dd, best = nco_probe_name(p);
      }
    if (best) snprintf(m, sizeof m, " (did you mean '%s'?)", best);
    else m[0] = '\0';
    return nco_error(NCO_ERR_INVALID, "%s: %s.%s: unknown key%s", where, u->section, u->key, m);
  }

  /* 5. combinations */
  e = nco_spec_find(spec, "run", "iterations");
  nco_spec_entry *ep = nco_spec_find(spec, "run", "epochs");
  if (cfg->iterations && cfg->epochs)
    return kerr(spec, ep, "run", "epochs", NCO_ERR_INVALID, "set either run.iterations or run.epochs, not both", NULL, NULL);
  if (!cfg->iterations && !cfg->epochs)
    return kerr(spec, e ? e : ep, "run", "iterations", NCO_ERR_INVALID, "missing: set run.iterations or run.epochs (> 0)", NULL, NULL);
  e = nco_spec_find(spec, "regularizer", "lambda");
  if (cfg->reg == NCO_REG_INVEX && !(cfg->reg_lambda > 0))
    return kerr(spec, e ? e : nco_spec_find(spec, "regularizer", "type"), "regularizer", "lambda", NCO_ERR_RANGE,
                "the invex lifting needs lambda > 0 (got %s)", e ? e->value : "the default 0", NULL);
  if (!strcmp(cfg->problem_type, "tensor") && cfg->reg == NCO_REG_INVEX)
    return kerr(spec, nco_spec_find(spec, "regularizer", "type"), "regularizer", "type", NCO_ERR_INVALID,
                "invex needs a least-squares problem; tensor has no residuals", NULL, NULL);
  int req = nco_optim_type_requires(cfg->optim);
  if (req == 1 && (!strcmp(cfg->problem_type, "tensor")))
    return kerr(spec, nco_spec_find(spec, "optimizer", "type"), "optimizer", "type", NCO_ERR_INVALID,
                "%s needs a least-squares problem; %s has no residuals", nco_optim_type_name(cfg->optim), cfg->problem_type);
  if (req == 2 && strcmp(cfg->problem_type, "tensor"))
    return kerr(spec, nco_spec_find(spec, "optimizer", "type"), "optimizer", "type", NCO_ERR_INVALID,
                "%s needs a problem on a manifold (the sphere: tensor); %s is Euclidean", nco_optim_type_name(cfg->optim),
                cfg->problem_type);
  if (req == 2 && cfg->reg != NCO_REG_NONE)
    return kerr(spec, nco_spec_find(spec, "regularizer", "type"), "regularizer", "type", NCO_ERR_INVALID,
                "a regularizer changes the parameter space; rgd needs the bare sphere problem", NULL, NULL);
  if (!strcmp(cfg->data_source, "npy")) {
    static const struct { const char *types, *key; size_t off; } need[] = {
        {"linear_ls glm lowrank shallow", "features", offsetof(nco_config, data_features)},
        {"linear_ls glm lowrank shallow", "targets", offsetof(nco_config, data_targets)},
        {"pca matcomp", "matrix", offsetof(nco_config, data_matrix)},
        {"matcomp_asym", "entries", offsetof(nco_config, data_entries)},
        {"tensor", "components", offsetof(nco_config, data_components)}};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
      if (word_in(cfg->problem_type, need[i].types) && !*((char *)cfg + need[i].off))
        return kerr(spec, nco_spec_find(spec, "data", "source"), "data", need[i].key, NCO_ERR_INVALID,
                    "missing: source = npy needs data.%s for problem %s", need[i].key, cfg->problem_type);
  }
  if (cfg->batch > 0 && !nco_optim_type_is_ask_tell(cfg->optim))
    return kerr(spec, nco_spec_find(spec, "optimizer", "batch"), "optimizer", "batch", NCO_ERR_INVALID,
                "%s is a full-batch method; set batch = 0", nco_optim_type_name(cfg->optim), NULL);
  /* the method's own validation (messages "optimizer.KEY = V: ..."), at the key's line */
  nco_optim *probe = NULL;
  float x0 = 1; /* a unit vector: rgd normalises its start onto the sphere */
  if ((st = nco_optim_create(cfg->optim, 1, &cfg->hp, &x0, &probe))) return relocate(spec, st);
  nco_optim_free(probe);
  if ((st = nco_schedule_validate(&cfg->sched))) return relocate(spec, st);
  if ((st = nco_act_validate(&cfg->act))) {
    char where[1200];
    nco_spec_locate(spec, "problem", "activation", where, sizeof where);
    return nco_error_context(st, "%s: problem.activation", where);
  }
  /* 6. file paths: relative to the spec's folder, made absolute (so that
   * the resolved spec works from any folder), and readable */
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (k->type != T_PATH) continue;
    char *f = field(cfg, k);
    if (!*f) continue;
    if ((st = absolute_path(spec, k, cfg->spec_dir, f))) return st;
    if (access(f, R_OK)) {
      int en = errno;
      return kerr(spec, nco_spec_find(spec, k->section, k->name), k->section, k->name, NCO_ERR_IO, "%s: %s", f,
                  strerror(en));
    }
  }
  /* 7. where every key came from, for errors found later (data, init) */
  snprintf(cfg->spec_path, sizeof cfg->spec_path, "%s", spec->path && *spec->path ? spec->path : "spec");
  cfg->spec_nlines = spec->nlines;
  for (size_t i = 0; i < NKEYS && i < NCO_CONFIG_MAX_KEYS; i++) {
    e = nco_spec_find(spec, keys[i].section, keys[i].name);
    cfg->key_line[i] = !e ? 0 : !strcmp(e->file, "--set") ? -(e->line > 0 ? e->line : 1) : (e->line > 0 ? e->line : 1);
  }
  for (size_t s = 0; s < NSECTIONS; s++) {
    cfg->section_line[s] = 0;
    for (size_t j = 0; j < spec->nsec; j++)
      if (!strcmp(spec->sec[j].name, sections[s])) cfg->section_line[s] = spec->sec[j].line;
  }
  return NCO_OK;
}

const char *nco_config_where(const nco_config *cfg, const char *section, const char *name, char *buf, size_t len) {
  for (size_t i = 0; i < NKEYS && i < NCO_CONFIG_MAX_KEYS; i++) {
    if (strcmp(keys[i].section, section) || strcmp(keys[i].name, name)) continue;
    int l = cfg->key_line[i];
    if (l > 0) snprintf(buf, len, "%s:%d", cfg->spec_path, l);
    else if (l < 0) snprintf(buf, len, "--set:%d", -l);
    else break;
    return buf;
  }
  for (size_t s = 0; s < NSECTIONS; s++)
    if (!strcmp(sections[s], section) && cfg->section_line[s] > 0) {
      snprintf(buf, len, "%s:%d", cfg->spec_path, cfg->section_line[s]);
      return buf;
    }
  snprintf(buf, len, "%s:%d", cfg->spec_path, cfg->spec_nlines > 0 ? cfg->spec_nlines : 1);
  return buf;
}

/* ---- writing the resolved spec --------------------------------------- */

static void write_value(const nco_config *cfg, const key *k, FILE *fp) {
  const void *f = field((nco_config *)cfg, k);
  char buf[64];
  switch (k->type) {
    case T_DOUBLE: {
      double d = *(const double *)f;
      if (isinf(d)) {
        fprintf(fp, "%s", d > 0 ? "inf" : "-inf");
      } else {
        /* the shortest text that reads back to the same double */
        char t[40];
        for (int prec = 1; prec <= 17; prec++) {
          snprintf(t, sizeof t, "%.*g", prec, d);
          if (strtod(t, NULL) == d) break;
        }
        fprintf(fp, "%s", t);
      }
      break;
    }
    case T_SIZE: fprintf(fp, "%zu", *(const size_t *)f); break;
    case T_U64: fprintf(fp, "%llu", (unsigned long long)*(const uint64_t *)f); break;
    case T_BOOL: fprintf(fp, "%s", *(const int *)f ? "true" : "false"); break;
    case T_STR:
    case T_PATH: fprintf(fp, "%s", (const char *)f); break;
    case T_ENUM: fprintf(fp, "%s", enum_name(k->enums, *(const int *)f, buf, sizeof buf)); break;
    case T_ACT: fprintf(fp, "%s", nco_act_name(cfg->act.kind)); break;
    case T_OPTIM: fprintf(fp, "%s", nco_optim_type_name(cfg->optim)); break;
    case T_SCHED: fprintf(fp, "%s", nco_schedule_name(cfg->sched.kind)); break;
    default: break;
  }
}

int nco_config_write(const nco_config *cfg, FILE *fp) {
  const char *section = "";
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (!applies(cfg, k)) continue;
    if (!strcmp(k->section, "data") && !strcmp(k->name, "v") && !cfg->data_v[0]) continue;
    if (!strcmp(k->section, "problem") && !strcmp(k->name, "slope") &&
        cfg->act.kind != NCO_ACT_LEAKY_RELU && cfg->act.kind != NCO_ACT_ELU)
      continue;
    if (!strcmp(k->section, "optimizer") && !strncmp(k->name, "proj_", 5) &&
        (cfg->hp.projection == NCO_PROJ_NONE ||
         (cfg->hp.projection == NCO_PROJ_BOX) != (!strcmp(k->name, "proj_lo") || !strcmp(k->name, "proj_hi"))))
      continue;
    if (!strcmp(k->section, "regularizer") && !strcmp(k->name, "lambda") && cfg->reg == NCO_REG_NONE) continue;
    if (!strcmp(k->section, "run") && ((!strcmp(k->name, "iterations") && !cfg->iterations) ||
                                      (!strcmp(k->name, "epochs") && !cfg->epochs)))
      continue;
    if (strcmp(section, k->section)) {
      fprintf(fp, "%s[%s]\n", *section ? "\n" : "", k->section);
      section = k->section;
    }
    fprintf(fp, "%s = ", k->name);
    write_value(cfg, k, fp);
    fputc('\n', fp);
  }
  int any = 0;
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!cfg->probe_every[p]) continue;
    if (!any++) fprintf(fp, "\n[probes]\n");
    if (cfg->probe_every[p] == NCO_PROBE_AT_LOG)
      fprintf(fp, "%s = true\n", nco_probe_name(p));
    else
      fprintf(fp, "%s = %lld\n", nco_probe_name(p), (long long)cfg->probe_every[p]);
  }
  return ferror(fp) ? nco_error(NCO_ERR_IO, "cannot write the resolved spec") : NCO_OK;
}

/* ---- listing ---------------------------------------------------------- */

static void list_keys(FILE *fp, const char *section, const char *type) {
  int first = 1, proj = 0;
  const nco_optim_type *ot = !strcmp(section, "optimizer") && type ? nco_optim_find(type) : NULL;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (strcmp(k->section, section) || k->type == T_OPTIM || k->type == T_SCHED) continue;
    if (type && k->applies && !word_in(type, k->applies)) continue;
    if (type && !k->applies && !strcmp(section, "data")) continue;
    /* minibatch keys only for methods that take minibatches; the
     * projection keys (every method) as one entry */
    if (ot && !nco_optim_type_is_ask_tell(ot) && (!strcmp(k->name, "batch") || !strcmp(k->name, "sampling"))) continue;
    if (!strncmp(k->name, "proj_", 5)) {
      if (proj++) continue;
      fprintf(fp, "%sproj_*", first ? "" : ", ");
      first = 0;
      continue;
    }
    fprintf(fp, "%s%s", first ? "" : ", ", k->name);
    first = 0;
  }
}

/* The method's one-line help without its own list of keys (which the key
 * table gives): up to the first ": " or "; keys". */
static void optim_summary(FILE *fp, const char *help) {
  const char *a = strstr(help, ": "), *b = strstr(help, "; keys");
  const char *e = a && (!b || a < b) ? a : b;
  fprintf(fp, "%.*s", (int)(e ? (size_t)(e - help) : strlen(help)), help);
}

/* ---- the key table as Markdown (docs/SPEC.md) --------------------------- */

static const char *type_word(const key *k) {
  switch (k->type) {
    case T_DOUBLE: return "number";
    case T_SIZE:
    case T_U64: return "integer";
    case T_BOOL: return "bool";
    case T_PATH: return "path";
    case T_STR:
    case T_ENUM:
    case T_ACT:
    case T_OPTIM:
    case T_SCHED: return "choice";
    default: return "?";
  }
}

static void md_num(FILE *fp, double v) {
  if (isinf(v)) fprintf(fp, "%sinf", v < 0 ? "−" : "");
  else fprintf(fp, "%g", v);
}

static void md_range(FILE *fp, const key *k) {
  if (k->type == T_DOUBLE) {
    if (k->lo > 0 && k->lo < 1e-100) fputs("(0", fp); /* lo = 1e-300 stands for > 0 */
    else fputc('[', fp), md_num(fp, k->lo);
    fputs(", ", fp), md_num(fp, k->hi), fputc(']', fp);
  } else if (k->type == T_SIZE || k->type == T_U64) {
    if (k->hi >= 1e12) fprintf(fp, "≥ %.0f", k->lo);
    else if (k->hi > 0) fprintf(fp, "[%.0f, %.0f]", k->lo, k->hi);
    else fputs("any", fp);
  } else if (k->type == T_BOOL) {
    fputs("true, false", fp);
  } else if (k->type == T_ENUM) {
    for (const char *p = k->enums; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
  } else if (k->type == T_OPTIM) {
    for (size_t i = 0; nco_optim_types[i]; i++) fprintf(fp, "%s%s", i ? ", " : "", nco_optim_type_name(nco_optim_types[i]));
  } else if (k->type == T_SCHED) {
    fputs("constant, inv, inv_sqrt, step, cosine, cooldown", fp);
  } else if (k->type == T_ACT) {
    fputs("identity, sigmoid, tanh, softplus, relu, leaky_relu, elu", fp);
  } else if (!strcmp(k->section, "problem") && !strcmp(k->name, "type")) {
    for (const char *p = PROBLEM_TYPES; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
  } else if (!strcmp(k->section, "data") && !strcmp(k->name, "source")) {
    fputs("synthetic, npy", fp);
  } else {
    fputs("a file name", fp);
  }
}

/* Value of a key in a settings object, as text. */
static void value_text(const nco_config *cfg, const key *k, char *buf, size_t len) {
  char *text = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&text, &n);
  if (!fp) {
    snprintf(buf, len, "?");
    return;
  }
  write_value(cfg, k, fp);
  fclose(fp);
  snprintf(buf, len, "%s", text ? text : "");
  free(text);
}

/* Per-method (per-schedule) defaults, grouped by value:
 * "`0.001`; adagrad, rmsprop: `0.01`". */
static void md_method_defaults(FILE *fp, const key *k) {
  int is_sched = !strcmp(k->section, "schedule");
  const char *names[64];
  char vals[64][64];
  size_t m = 0;
  static const nco_schedule_kind kinds[] = {NCO_SCHED_CONSTANT, NCO_SCHED_INV, NCO_SCHED_INV_SQRT,
                                            NCO_SCHED_STEP, NCO_SCHED_COSINE, NCO_SCHED_COOLDOWN};
  size_t ntypes = 0;
  if (is_sched) ntypes = sizeof kinds / sizeof *kinds;
  else
    while (nco_optim_types[ntypes]) ntypes++;
  for (size_t i = 0; i < ntypes && m < 64; i++) {
    nco_config c;
    memset(&c, 0, sizeof c);
    const char *nm;
    if (is_sched) {
      c.sched = nco_schedule_defaults(kinds[i], 1e-3);
      nm = nco_schedule_name(kinds[i]);
    } else {
      c.optim = nco_optim_types[i];
      c.hp = nco_optim_defaults(c.optim);
      nm = nco_optim_type_name(c.optim);
    }
    if (k->applies && !word_in(nm, k->applies)) continue;
    names[m] = nm;
    value_text(&c, k, vals[m], sizeof vals[m]);
    m++;
  }
  /* the most common value first, without names */
  size_t best = 0, bestc = 0;
  for (size_t i = 0; i < m; i++) {
    size_t c = 0;
    for (size_t j = 0; j < m; j++) c += !strcmp(vals[i], vals[j]);
    if (c > bestc) bestc = c, best = i;
  }
  if (!m) {
    fputs("—", fp);
    return;
  }
  fprintf(fp, "`%s`", vals[best]);
  int done[64] = {0};
  for (size_t i = 0; i < m; i++) {
    if (done[i] || !strcmp(vals[i], vals[best])) continue;
    fputs("; ", fp);
    for (size_t j = i, first = 1; j < m; j++)
      if (!done[j] && !strcmp(vals[j], vals[i])) fprintf(fp, "%s%s", first ? "" : ", ", names[j]), done[j] = 1, first = 0;
    fprintf(fp, ": `%s`", vals[i]);
  }
}

static const char *section_intro(const char *section) {
  if (!strcmp(section, "data")) return "Where the arrays come from. Synthetic data is generated from `seed`; `npy` reads the arrays named by the problem-specific keys (paths relative to the spec's folder).";
  if (!strcmp(section, "problem")) return "The objective.";
  if (!strcmp(section, "regularizer")) return "A regulariser wrapped around the problem.";
  if (!strcmp(section, "optimizer")) return "The method and its hyper-parameters (PyTorch's names and defaults where PyTorch has the method). A default given as a list is per method.";
  if (!strcmp(section, "schedule")) return "The step size of step k; the base value c is `optimizer.lr`.";
  if (!strcmp(section, "run")) return "Length, seeds, logging, checkpoints and stopping rules. Exactly one of `iterations` and `epochs` must be set.";
  return "";
}

static void md_keys(FILE *fp) {
  const char *section = "";
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (strcmp(section, k->section)) {
      section = k->section;
      fprintf(fp, "\n### [%s]\n\n%s\n\n", section, section_intro(section));
      fprintf(fp, "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n");
    }
    fprintf(fp, "| `%s` | %s | ", k->name, type_word(k));
    if (k->type == T_OPTIM || k->type == T_SCHED) fprintf(fp, "`%s`", k->def);
    else if (k->def && !*k->def) fputs("(none)", fp);
    else if (k->def) fprintf(fp, "`%s`", k->def);
    else if (!strcmp(k->section, "optimizer") || !strcmp(k->section, "schedule")) md_method_defaults(fp, k);
    else fputs("see meaning", fp);
    fputs(" | ", fp);
    md_range(fp, k);
    fputs(" | ", fp);
    if (k->applies) {
      for (const char *p = k->applies; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
    } else {
      fputs("all", fp);
    }
    if (!strcmp(k->section, "data") && k->type == T_PATH) fputs(" (source = npy)", fp);
    else if (!strcmp(k->section, "data") && k->applies) fputs(" (source = synthetic)", fp);
    fputs(" | ", fp);
    for (const char *p = k->help; *p; p++) fputs(*p == '|' ? "\\|" : (char[2]){*p, 0}, fp);
    fputs(" |\n", fp);
  }
  fprintf(fp, "\n### [probes]\n\nMeasurements recorded as trace columns: `name = true` at every logged row, `name = K` every K steps (a row is written at those steps too), `false` off (the default).\n\n");
  fprintf(fp, "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n");
  for (int p = 0; p < NCO_PROBE_COUNT; p++)
    fprintf(fp, "| `%s` | bool or integer | `false` | true, false, K ≥ 1 | all | %s |\n", nco_probe_name(p), probe_help(p));
  fprintf(fp, "\n### [sweep]\n\n"
              "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n"
              "| `SECTION.KEY` | list | — | comma-separated values of that key | all | one run per value (a grid over all listed keys) |\n"
              "| `zip` | bool | `false` | true, false | all | pair the lists element by element instead (equal lengths) |\n");
}

int nco_config_list(const char *what, FILE *fp) {
  if (what && !strcmp(what, "keys")) {
    md_keys(fp);
    return ferror(fp) ? nco_error(NCO_ERR_IO, "list: cannot write") : NCO_OK;
  }
  if (!what || !strcmp(what, "problems")) {
    static const char *const help[][2] = {
        {"linear_ls", "g(x) = Ax − b"},
        {"glm", "g(x) = φ̃(Ax) − b (Oymak §4.1; invex paper Fig. 1)"},
        {"lowrank", "y_i = ⟨X_i, ΘΘᵀ⟩ (Oymak §4.2)"},
        {"pca", "½‖M − XXᵀ‖²_F (Ma §4.1)"},
        {"matcomp", "½‖P_Ω(M − XXᵀ)‖²_F (Ma §4.2)"},
        {"matcomp_asym", "½Σ_Ω(⟨u_i, v_j⟩ − M_ij)²"},
        {"tensor", "max ⟨T, x^⊗4⟩ on the sphere (Ma §5); loss = −f"},
        {"shallow", "x ↦ vᵀφ̃(Wx), v fixed (Oymak §4.3)"}};
    if (!what) fprintf(fp, "problems:\n");
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
      fprintf(fp, "  %-13s %s; keys: problem.", help[i][0], help[i][1]);
      list_keys(fp, "problem", help[i][0]);
      fprintf(fp, "; data.");
      list_keys(fp, "data", help[i][0]);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "optimizers")) {
    if (!what) fprintf(fp, "optimizers:\n");
    for (size_t i = 0; nco_optim_types[i]; i++) {
      const char *name = nco_optim_type_name(nco_optim_types[i]);
      fprintf(fp, "  %-13s ", name);
      optim_summary(fp, nco_optim_type_help(nco_optim_types[i]));
      fprintf(fp, "; keys: ");
      list_keys(fp, "optimizer", name);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "schedules")) {
    if (!what) fprintf(fp, "schedules:\n");
    static const char *const help[][2] = {{"constant", "c"}, {"inv", "c/(k+k0)"}, {"inv_sqrt", "c/√(k+k0)"},
                                          {"step", "c·gamma^⌊k/step_size⌋"}, {"cosine", "cosine from c to lr_min over T"},
                                          {"cooldown", "c until K, then c·K/k (Cevher lecture 9)"}};
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
      fprintf(fp, "  %-13s %s; keys: ", help[i][0], help[i][1]);
      list_keys(fp, "schedule", help[i][0]);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "regularizers")) {
    if (!what) fprintf(fp, "regularizers:\n");
    fprintf(fp, "  %-13s %s\n", "none", "the problem as it is");
    fprintf(fp, "  %-13s %s\n", "l2", "f(x) + λ‖x‖²; keys: lambda");
    fprintf(fp, "  %-13s %s\n", "invex", "½‖g(x) + λp‖² over (x, p) (Crane & Roosta eq. 2); keys: lambda > 0");
  }
  if (!what || !strcmp(what, "probes")) {
    if (!what) fprintf(fp, "probes:\n");
    for (int p = 0; p < NCO_PROBE_COUNT; p++) fprintf(fp, "  %-13s %s; value: true | K\n", nco_probe_name(p), probe_help(p));
  }
  if (what && strcmp(what, "problems") && strcmp(what, "optimizers") && strcmp(what, "schedules") &&
      strcmp(what, "regularizers") && strcmp(what, "probes"))
    return nco_error(NCO_ERR_INVALID, "list: unknown topic '%s' (problems, optimizers, schedules, regularizers, probes, experiments)", what);
  return NCO_OK;
}
