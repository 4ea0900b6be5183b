/* ncopt/optim.h — optimisers: one interface for the first-order family of
 * the seeds (Cevher lecture 9; Chen, Yang & Zhou §IV; Oymak §3; Crane &
 * Roosta §3) and the least-squares solvers users expect (L-BFGS, LM).
 *
 * An optimiser is a const vtable (nco_optim_type, one per method, e.g.
 * nco_optim_adam) plus a state object created from the parameter count,
 * the starting point and a hyper-parameter struct. It is a state machine
 * over one flat float32 vector:
 *
 *     x = nco_optim_query(o)        point where it wants the next gradient
 *     evaluate loss, grad at x      (the caller: run loop, test, probe)
 *     nco_optim_step(o, grad, loss) update
 *
 * Most methods query at the current iterate; AcceleGrad queries at its
 * mixture point. Methods that need several evaluations per step (lbfgs with
 * a line search, lm) cannot be driven that way: nco_optim_iterate() runs one
 * step of any method against a problem and batch, evaluating where the
 * method asks, and returns the loss and gradient at the query point.
 *
 * Names and hyper-parameters follow PyTorch (torch.optim) where PyTorch
 * has the method, so that settings carry over: lr, momentum, dampening,
 * nesterov, weight_decay, alpha, centered, eps, betas (beta1, beta2),
 * amsgrad, lr_decay, initial_accumulator_value, history_size, max_iter,
 * line_search_fn. nco_optim_defaults(type) gives the method's defaults.
 *
 * The state is plain memory allocated once at creation; no allocation
 * happens in a step. nco_optim_save/_load copy the complete state (iterate,
 * moments, counters, the method's rng) so that a resumed run continues
 * bitwise identically.
 */
#ifndef NCOPT_OPTIM_H
#define NCOPT_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "ncopt/problem.h"
#include "ncopt/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nco_optim nco_optim;
typedef struct nco_optim_type nco_optim_type;

typedef enum nco_projection {
  NCO_PROJ_NONE = 0,
  NCO_PROJ_BOX,   /* clamp every coordinate to [proj_lo, proj_hi] */
  NCO_PROJ_BALL   /* onto {x : ‖x − c‖ ≤ proj_radius}, c = x₀ or 0 (proj_center_start) */
} nco_projection;

typedef enum nco_line_search { NCO_LS_NONE = 0, NCO_LS_STRONG_WOLFE } nco_line_search;

/* Hyper-parameters of every method in one flat struct (CLI keys map
 * one-to-one onto fields). Each method reads the fields it documents and
 * validates them in nco_optim_create before allocating. Defaults are
 * per-method (nco_optim_defaults). */
typedef struct nco_optim_params {
  double lr;              /* step size γ; > 0. sgd/psgd/sgld/rgd 1e-3, adagrad 1e-2, rmsprop 1e-2,
                             adam/adamw/amsgrad 1e-3, lbfgs 1, adagrad_norm 1, accelegrad 1 */
  double weight_decay;    /* L2 added to the gradient (adamw: decoupled, default 1e-2); ≥ 0; 0 */
  int maximize;           /* ascend instead of descend (torch `maximize`); 0 */
  /* sgd */
  double momentum;        /* heavy-ball μ ∈ [0,1); 0 */
  double dampening;       /* ∈ [0,1]; 0 */
  int nesterov;           /* needs momentum > 0 and dampening = 0; 0 */
  /* rmsprop */
  double alpha;           /* smoothing ∈ [0,1); 0.99 */
  int centered;           /* 0 */
  /* adam family */
  double beta1, beta2;    /* ∈ [0,1); 0.9, 0.999 */
  double eps;             /* > 0; adam/rmsprop 1e-8, adagrad 1e-10, adagrad_norm 1e-10 */
  int amsgrad;            /* max of v (PyTorch form: max on v before bias correction); 0 */
  int reddi;              /* Reddi, Kale & Kumar's original updates: no bias correction; 0 */
  /* adagrad */
  double lr_decay;        /* lr/(1 + (k−1)·lr_decay); ≥ 0; 0 */
  double initial_accumulator_value; /* ≥ 0; 0 */
  /* psgd: x ← x − γ(g + r·ξ), ξ uniform on the unit sphere (Ge et al. 2015) */
  double radius;          /* r ≥ 0; 1e-2 */
  /* sgld: x ← x − γg + √(2γ/β)·ξ, ξ ~ N(0, I) */
  double inv_temp;        /* β > 0; 1 */
  /* accelegrad (Levy, Yurtsever & Cevher 2018) */
  double diameter;        /* D > 0: feasible ball of diameter D around x₀; 1 */
  double G;               /* G ≥ 0 in η_k = 2D/√(G² + Σα_τ²‖g_τ‖²); 0 → 1e-12 */
  /* rgd: Riemannian gradient descent on the problem's manifold */
  /* lbfgs */
  size_t history_size;    /* ≥ 1; 100 */
  size_t max_iter;        /* inner iterations per step ≥ 1; 20 */
  size_t max_eval;        /* 0 → max_iter·5/4 (torch) */
  double tolerance_grad;  /* 1e-7 */
  double tolerance_change;/* 1e-9 */
  nco_line_search line_search_fn; /* NCO_LS_NONE (torch default) or strong Wolfe */
  /* lm (Levenberg–Marquardt on residuals; CG on (JᵀJ + μI)δ = −Jᵀr) */
  double mu0;             /* initial damping > 0; 1e-3 */
  size_t cg_max_iter;     /* ≥ 1; 50 */
  double cg_tol;          /* relative residual of CG; 1e-6 */
  /* projection hook, applied after every step */
  nco_projection projection; /* NCO_PROJ_NONE */
  double proj_lo, proj_hi;   /* box bounds, lo ≤ hi; −inf, +inf */
  double proj_radius;        /* ball radius > 0; inf */
  int proj_center_start;     /* ball centred at x₀ (1) or 0 (0); 1 */
  uint64_t seed;             /* seed of the method's own rng (psgd, sgld); 0 */
} nco_optim_params;

/* ---- the hyper-parameter table -----------------------------------------
 * Every field of nco_optim_params that a spec can set, declared once: its
 * key name under [optimizer], kind, field, range (lo, hi with open or
 * closed ends), the methods that read it and a one-line help. It is the
 * only range check of a hyper-parameter: nco_optim_validate checks every
 * row (whatever the method: the defaults are in range), the spec keys of
 * [optimizer] are generated from it and `ncopt list keys` prints it. */
typedef enum nco_optim_param_kind {
  NCO_OPTIM_PARAM_DOUBLE = 0, /* double */
  NCO_OPTIM_PARAM_SIZE,       /* size_t, range compared as a double */
  NCO_OPTIM_PARAM_BOOL,       /* int, 0 or 1 */
  NCO_OPTIM_PARAM_ENUM,       /* int (an enum), the position in `values` */
  NCO_OPTIM_PARAM_PAIR        /* two doubles from offset (betas), each in the range */
} nco_optim_param_kind;

#define NCO_OPTIM_LO_OPEN 1u /* lo excluded */
#define NCO_OPTIM_HI_OPEN 2u /* hi excluded */

typedef struct nco_optim_param {
  const char *name;          /* key: "lr" */
  nco_optim_param_kind kind;
  size_t offset;             /* offsetof(nco_optim_params, field) */
  double lo, hi;             /* range of DOUBLE, SIZE, PAIR (±inf allowed) */
  unsigned open;             /* NCO_OPTIM_LO_OPEN | NCO_OPTIM_HI_OPEN */
  const char *values;        /* ENUM: space-separated names, value = position */
  const char *parts;         /* PAIR: names of the two components, also keys ("beta1 beta2") */
  const char *methods;       /* space-separated names of the methods that read it; NULL: all */
  const char *help;          /* one line */
} nco_optim_param;

/* The table (n rows), in the order of the reference. */
const nco_optim_param *nco_optim_param_table(size_t *n);
/* The row of a key name; NULL if none (pair parts are not rows). */
const nco_optim_param *nco_optim_param_find(const char *name);
/* 1 if method t reads p. */
int nco_optim_param_applies(const nco_optim_param *p, const nco_optim_type *t);
/* p's range as text: "(0, inf)", "[1, 1000000]", "0 or 1", "one of: none box ball". */
const char *nco_optim_param_range(const nco_optim_param *p, char *buf, size_t len);
/* Checks hp's field of p against its range: NCO_ERR_RANGE with the one
 * message of every key, "optimizer.KEY = VALUE: must be in (lo, hi]". */
int nco_optim_param_check(const nco_optim_param *p, const nco_optim_params *hp);
/* Everything nco_optim_create checks before allocating: every row of the
 * table, then relations between keys (proj_lo <= proj_hi for a box; sgd's
 * nesterov; what a method refuses: lbfgs's weight_decay, ...). Messages
 * start with "optimizer.KEY". */
int nco_optim_validate(const nco_optim_type *t, const nco_optim_params *hp);

/* The methods. Type names are PyTorch's class names lower-cased where
 * PyTorch has the method. */
extern const nco_optim_type *const nco_optim_sgd;          /* plain / momentum / Nesterov */
extern const nco_optim_type *const nco_optim_psgd;         /* perturbed SGD */
extern const nco_optim_type *const nco_optim_sgld;         /* Langevin dynamics */
extern const nco_optim_type *const nco_optim_adagrad;      /* diagonal, PyTorch's */
extern const nco_optim_type *const nco_optim_adagrad_norm; /* scalar H_k = √(Σ‖g‖²) */
extern const nco_optim_type *const nco_optim_rmsprop;
extern const nco_optim_type *const nco_optim_adam;
extern const nco_optim_type *const nco_optim_adamw;
extern const nco_optim_type *const nco_optim_amsgrad;      /* adam with amsgrad = 1 */
extern const nco_optim_type *const nco_optim_accelegrad;
extern const nco_optim_type *const nco_optim_rgd;          /* Riemannian GD on the sphere */
extern const nco_optim_type *const nco_optim_lbfgs;
extern const nco_optim_type *const nco_optim_lm;

/* NULL-terminated list of every type, for lookup and listing. */
extern const nco_optim_type *const nco_optim_types[];

/* Type by name ("adam"); NULL if unknown. */
const nco_optim_type *nco_optim_find(const char *name);
const char *nco_optim_type_name(const nco_optim_type *t);
/* One line describing the method and the keys it reads. */
const char *nco_optim_type_help(const nco_optim_type *t);
/* 1 if the method can be driven by query/step (first-order ask/tell). */
int nco_optim_type_is_ask_tell(const nco_optim_type *t);
/* 1 if the method needs the problem's residual interface (lm), or its
 * manifold (rgd: returns 2). */
int nco_optim_type_requires(const nco_optim_type *t);

/* The method's defaults (PyTorch's where PyTorch has the method). */
nco_optim_params nco_optim_defaults(const nco_optim_type *t);

/* Validates hp for method t (nco_optim_validate), then allocates the state for dim parameters starting at
 * x0[dim]. */
int nco_optim_create(const nco_optim_type *t, size_t dim, const nco_optim_params *hp,
                     const float *x0, nco_optim **out);
void nco_optim_free(nco_optim *o);

/* Sets the step size used from the next step on (schedules call this). */
void nco_optim_set_lr(nco_optim *o, double lr);
double nco_optim_get_lr(const nco_optim *o);

/* Where the method wants the next gradient (dim floats, owned by o). */
const float *nco_optim_query(const nco_optim *o);
/* The current iterate x_k. */
const float *nco_optim_x(const nco_optim *o);
/* The point to report (AcceleGrad: the α-weighted average; else x_k). */
const float *nco_optim_output(const nco_optim *o);
/* Steps taken so far. */
uint64_t nco_optim_steps(const nco_optim *o);

/* One ask/tell step with the gradient (and loss) at nco_optim_query().
 * A non-finite gradient or loss is refused with NCO_ERR_NONFINITE and the
 * state left unchanged. NCO_ERR_UNSUPPORTED for methods that are not
 * ask/tell. */
int nco_optim_step(nco_optim *o, const float *grad, double loss);

/* nco_optim_step for a gradient the caller has already checked to be
 * finite (nco_problem_eval refuses non-finite gradients): skips one full
 * pass over memory. A non-finite entry then corrupts the state. */
int nco_optim_step_trusted(nco_optim *o, const float *grad, double loss);

/* One step of any method on problem pb with batch (idx, nb): evaluates
 * where the method asks; *loss and grad[dim] (either may be NULL) receive
 * the values at the first query point of the step. May return a positive
 * status (NCO_CONVERGED) when the method detects convergence (lbfgs
 * tolerances). For rgd, gradients are Riemannian (projected). */
int nco_optim_iterate(nco_optim *o, nco_problem *pb, const size_t *idx, size_t nb, double *loss,
                      float *grad);

/* Complete state as bytes: size, save into buf[len], load from buf. Load
 * checks the method, dim and a checksum-free layout version and refuses a
 * mismatch with NCO_ERR_FORMAT. */
size_t nco_optim_state_size(const nco_optim *o);
int nco_optim_save(const nco_optim *o, void *buf, size_t len);
int nco_optim_load(nco_optim *o, const void *buf, size_t len);

/* ---- step-size schedules ----------------------------------------------
 * lr_k for step k = 0, 1, 2, ... (the schedule is evaluated per step, no
 * string comparisons). A linear warm-up over the first `warmup` steps
 * (lr·(k+1)/warmup) composes with any kind.
 *
 * unit = NCO_SCHED_UNIT_EPOCH (PyTorch's schedulers stepped once per
 * epoch): the schedule's k is the number of completed epochs,
 * ⌊step/steps_per_epoch⌋, so the lr is constant within an epoch and
 * warmup, T, step_size and K count epochs.
 *
 * T = 0 (cosine) is `auto`: the run's planned length (in the unit), set
 * by nco_config_resolve_schedule (config.h) once the data are known.
 * nco_schedule_validate refuses T = 0; nco_schedule_lr keeps the lr at c
 * for an unresolved T = 0. */
typedef enum nco_schedule_kind {
  NCO_SCHED_CONSTANT = 0, /* c */
  NCO_SCHED_INV,          /* c/(k + k0), k0 > 0 */
  NCO_SCHED_INV_SQRT,     /* c/√(k + k0), k0 > 0 */
  NCO_SCHED_STEP,         /* c·gamma^⌊k/step_size⌋ */
  NCO_SCHED_COSINE,       /* lr_min + (c − lr_min)(1 + cos(π·min(k,T)/T))/2 */
  NCO_SCHED_COOLDOWN      /* c until K, then c·K/k (Cevher lecture 9: 1/k decrease) */
} nco_schedule_kind;

typedef struct nco_schedule {
  nco_schedule_kind kind;
  double c;          /* base step size (the optimiser's lr) */
  double k0;         /* > 0; 1 */
  size_t step_size;  /* ≥ 1; 100 */
  double gamma;      /* ∈ (0, 1]; 0.1 */
  size_t T;          /* cosine horizon ≥ 1, 0 = auto (the run's length; a spec's default); 1000 */
  double lr_min;     /* ≥ 0; 0 */
  size_t K;          /* cool-down start ≥ 1; 1000 */
  size_t warmup;     /* linear warm-up steps; 0 */
  int unit;          /* NCO_SCHED_UNIT_STEP (0) or NCO_SCHED_UNIT_EPOCH (1); 0 */
  uint64_t steps_per_epoch; /* unit = epoch: optimiser steps per epoch ≥ 1; 1 */
} nco_schedule;

#define NCO_SCHED_UNIT_STEP 0
#define NCO_SCHED_UNIT_EPOCH 1

nco_schedule nco_schedule_defaults(nco_schedule_kind kind, double c);
int nco_schedule_validate(const nco_schedule *s);
double nco_schedule_lr(const nco_schedule *s, uint64_t k);
const char *nco_schedule_name(nco_schedule_kind kind);
int nco_schedule_parse(const char *name, nco_schedule_kind *kind);

#ifdef __cplusplus
}
#endif
#endif
