/* ncopt/problem.h — the one interface every objective implements.
 *
 * A problem is a const vtable (nco_problem_type) plus its data. The caller
 * sees only nco_problem and the nco_problem_* calls below; optimizers,
 * probes and the run loop never know which concrete problem they hold.
 *
 *   dim        number of parameters d (one contiguous float32 vector x[d])
 *   n          number of samples; a minibatch is a list of sample indices
 *   m          residuals per sample for least-squares problems (0 otherwise)
 *   m_extra    residuals not tied to a sample (always in every batch; e.g.
 *              the √(2λ)·x block of the ℓ2 wrapper), 0 for most problems
 *
 * Batches. Every evaluation takes (idx, nb): the sample indices of the batch.
 * idx == NULL means the full batch 0..n-1 (then nb must equal n). Indices
 * may repeat (sampling with replacement); a batch holds at most n entries.
 *
 * Losses and reduction. For a least-squares problem the residual of a batch
 * S is the vector g_S(x) of length nb·m + m_extra laid out sample by sample
 * (sample idx[0]'s m residuals first), extras last, and
 *     loss_S(x) = c · ½‖g_S(x)‖²,   c = 1 (NCO_REDUCE_SUM) or 1/nb (MEAN),
 * the papers' ½‖g(x)‖² being the full batch with SUM (the default).
 * Residual, JVP (J_S u) and VJP (J_Sᵀ v) are never scaled by c; loss,
 * gradient and Hessian-vector product are. Non-least-squares problems
 * (the tensor objective) define loss_S = c · Σ_{i∈S} ℓ_i(x).
 *
 * Precision. x, gradients and vectors are float32; every problem
 * accumulates its sums in double and returns the loss as a double.
 *
 * Threading. A problem owns scratch buffers: one problem object must not be
 * evaluated from two threads at once.
 *
 * Manifold. A problem may declare that its parameters live on the unit
 * sphere (the tensor objective, Ma §5); nco_problem_riemannian_grad and
 * _hvp then give the Riemannian gradient P_x∇f and Hessian
 * P_x(∇²f − ⟨x,∇f⟩I)P_x (Ma eqs. 5.4–5.5; Absil et al. 2008, §5.5).
 */
#ifndef NCOPT_PROBLEM_H
#define NCOPT_PROBLEM_H

#include <stddef.h>
#include <stdint.h>

#include "ncopt/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nco_reduction { NCO_REDUCE_SUM = 0, NCO_REDUCE_MEAN = 1 } nco_reduction;

typedef enum nco_manifold { NCO_MANIFOLD_EUCLIDEAN = 0, NCO_MANIFOLD_SPHERE = 1 } nco_manifold;

typedef struct nco_problem nco_problem;
struct nco_param_group;

/* Evaluation counters, incremented by the nco_problem_* dispatchers. */
typedef struct nco_problem_counters {
  uint64_t loss;      /* loss-only evaluations */
  uint64_t grad;      /* loss+gradient evaluations */
  uint64_t residual;
  uint64_t jvp;
  uint64_t vjp;
  uint64_t hvp;       /* exact or finite-difference */
  uint64_t samples;   /* Σ nb over all evaluations */
} nco_problem_counters;

/* The vtable. Implementations may assume arguments were validated by the
 * dispatcher (x, outputs non-NULL; 1 ≤ nb ≤ n; idx entries < n; idx never
 * NULL: the dispatcher expands the full batch). A NULL slot means "not
 * provided":
 *   - a least-squares type provides jvp, vjp and residual64 and/or
 *     residual; with eval NULL the loss and gradient are derived as
 *     loss = c·½‖r‖² (r in double) and grad = c·Jᵀr;
 *   - residual64 is preferred: computing the residual in double keeps the
 *     loss exact to double rounding, which the float64 finite-difference
 *     checks rely on;
 *   - hvp NULL selects the central-difference fallback;
 *   - init NULL selects N(0, 1/d) entries. */
typedef struct nco_problem_type {
  const char *name;
  /* loss (and gradient if grad != NULL) of batch (idx, nb) */
  int (*eval)(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
              float *grad);
  /* r[nb·m + m_extra] ← g_S(x), in float or in double */
  int (*residual)(nco_problem *pb, const float *x, const size_t *idx, size_t nb, float *r);
  int (*residual64)(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r);
  /* ju[nb·m + m_extra] ← J_S(x)·u, u[dim] */
  int (*jvp)(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
             float *ju);
  /* jtv[dim] ← J_S(x)ᵀ·v, v[nb·m + m_extra] */
  int (*vjp)(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
             float *jtv);
  /* out[dim] ← Σ_i w_i ∇²g_i(x)·u over the batch's residuals i, w[nres]:
   * the second-order part of a least-squares Hessian. With it (and hvp
   * NULL) the exact HVP is c·(JᵀJu + Σ r_i ∇²g_i u). NULL if unknown. */
  int (*rhvp)(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *w,
              const float *u, float *out);
  /* hv[dim] ← ∇²loss_S(x)·v (with the reduction factor c) */
  int (*hvp)(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
             float *hv);
  /* x[dim] ← the problem's default starting point drawn from rng */
  int (*init)(nco_problem *pb, nco_rng *rng, float *x);
  /* frees impl (the problem struct itself is freed by nco_problem_free) */
  void (*destroy)(void *impl);
  /* regularising wrappers (reg.h): their λ, so that callers ask the
   * interface instead of comparing names; NULL for every other problem */
  double (*reg_lambda)(const nco_problem *pb);
  /* 1 for the invex lifting ½‖g(x) + λp‖² (Crane & Roosta eq. 2): the
   * certificate and the PL probe read its guarantees through this */
  int invex_lifting;
  /* Randomness tied to the optimiser's step (a network's dropout masks):
   * the evaluations that follow use step `step`'s, and evaluations no
   * longer advance it (the run sets it before and after every step, so
   * rows, probes, resume and the regularity replay see the same masks).
   * NULL: the problem is deterministic. */
  int (*set_step)(nco_problem *pb, uint64_t step);
  /* Named groups of parameters, contiguous slices of x from 0 in order (a
   * network's layers: weight and bias together): up to cap into g,
   * *count = how many. NULL: no groups (*count = 0). */
  int (*param_groups)(const nco_problem *pb, struct nco_param_group *g, size_t cap, size_t *count);
  /* Non-trainable state that evaluations update (a network's batch-norm
   * running statistics): its entry count, a copy out with the step of its
   * last update (*stamp), a copy in. NULL: no state. The run checkpoints it
   * and its replay restarts it. */
  size_t (*state_size)(const nco_problem *pb);
  int (*get_state)(const nco_problem *pb, float *out, size_t n, uint64_t *stamp);
  int (*set_state)(nco_problem *pb, const float *in, size_t n, uint64_t stamp);
  /* Training (1) or evaluation (0) behaviour, where they differ (dropout
   * off, batch norm with its running statistics). NULL: the same. */
  int (*set_training)(nco_problem *pb, int on);
} nco_problem_type;

/* One named group of parameters (nco_problem_param_groups). */
typedef struct nco_param_group {
  char name[48];
  size_t offset, length;
} nco_param_group;

struct nco_problem {
  const nco_problem_type *type;
  void *impl;               /* the concrete problem's data */
  size_t dim, n, m, m_extra;
  nco_reduction reduction;
  nco_manifold manifold;
  nco_problem *base;        /* for wrappers: the wrapped problem, whose
                               parameters are x[0 .. base->dim); else NULL */
  int owns_base;            /* 1 if nco_problem_free also frees base */
  char label[128];          /* e.g. "glm(sigmoid) n=64 d=8" */
  nco_problem_counters counters;
  /* internal scratch (allocated once by nco_problem_alloc) */
  size_t *all_idx;          /* 0..n-1, the full batch */
  float *work;              /* 4·dim floats for the generic HVP and manifold calls */
  double *res64;            /* n·m + m_extra doubles (least-squares only) */
  float *res32;             /* n·m + m_extra floats (least-squares only) */
};

/* ---- construction (for implementers of problem types) ---------------- */

/* Allocates a problem object around `impl` (taken over: on failure
 * type->destroy(impl) is called). Validates dim ≥ 1, n ≥ 1. */
int nco_problem_alloc(const nco_problem_type *type, void *impl, size_t dim, size_t n, size_t m,
                      size_t m_extra, nco_problem **out);

/* Frees the problem, its impl and (if owned) its base; NULL is a no-op. */
void nco_problem_free(nco_problem *pb);

/* ---- properties -------------------------------------------------------- */

/* 1 if the problem exposes residual, JVP and VJP. */
int nco_problem_is_least_squares(const nco_problem *pb);
/* Residual count of a batch of nb samples: nb·m + m_extra. */
size_t nco_problem_nres(const nco_problem *pb, size_t nb);
/* Sets the reduction (sum or mean) used by loss, gradient and HVP, on pb
 * and on every problem it wraps. */
void nco_problem_set_reduction(nco_problem *pb, nco_reduction r);
/* The innermost wrapped problem (pb itself when it wraps nothing). */
nco_problem *nco_problem_root(nco_problem *pb);

/* ---- evaluation ------------------------------------------------------- */

/* loss_S(x), and the gradient into grad[dim] when grad != NULL. A
 * non-finite loss or gradient is returned as NCO_ERR_NONFINITE (outputs
 * still written, so callers can inspect them). */
int nco_problem_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss,
                     float *grad);
int nco_problem_residual(nco_problem *pb, const float *x, const size_t *idx, size_t nb, float *r);
int nco_problem_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                           double *r);
int nco_problem_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u,
                    float *ju);
int nco_problem_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                    float *jtv);
/* Exact HVP when the type has one (hvp, or rhvp for least squares), else
 * central differences of gradients
 * (hv ≈ (∇f(x+εv) − ∇f(x−εv))/(2ε), ε = 2⁻¹⁰·max(1,‖x‖)/‖v‖). */
int nco_problem_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v,
                    float *hv);
/* 1 if hvp is exact (not the finite-difference fallback). */
int nco_problem_has_exact_hvp(const nco_problem *pb);

/* The loss of the wrapped (non-regularised) problem at the x part of the
 * parameters; for an unwrapped problem the same as nco_problem_eval. */
int nco_problem_loss_unreg(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                           double *loss);

/* The innermost problem's set_step (see nco_problem_type); NCO_OK and
 * nothing for deterministic problems. */
int nco_problem_set_step(nco_problem *pb, uint64_t step);
/* The innermost problem's parameter groups (see nco_problem_type): *count
 * = 0 for a problem without. */
int nco_problem_param_groups(const nco_problem *pb, nco_param_group *g, size_t cap, size_t *count);
/* The innermost problem's non-trainable state (see nco_problem_type): its
 * size (0 for a problem without), a copy out, a copy in (n must be the
 * size: NCO_ERR_SHAPE otherwise; NCO_OK and nothing when both are 0). */
size_t nco_problem_state_size(const nco_problem *pb);
int nco_problem_get_state(const nco_problem *pb, float *out, size_t n, uint64_t *stamp);
int nco_problem_set_state(nco_problem *pb, const float *in, size_t n, uint64_t stamp);
/* The innermost problem's training (1) or evaluation (0) mode; NCO_OK and
 * nothing where they do not differ. */
int nco_problem_set_training(nco_problem *pb, int on);

/* Default starting point from rng (the type's init, or N(0, 1/d)); on the
 * sphere the point is normalised. */
int nco_problem_init(nco_problem *pb, nco_rng *rng, float *x);

/* ---- manifold (no-ops / identities for Euclidean problems) ------------ */

/* v ← P_x v = v − ⟨x,v⟩x/‖x‖² (x on the sphere: ‖x‖ = 1 up to rounding;
 * dividing by ‖x‖² keeps it a projection for any x ≠ 0). v must not alias x. */
void nco_problem_project_tangent(const nco_problem *pb, const float *x, float *v);
/* x ← R_x(t·v) = (x + t v)/‖x + t v‖ on the sphere, x + t v otherwise.
 * NCO_ERR_NONFINITE (x untouched) if x + t v is not finite, NCO_ERR_NUMERIC
 * if it is 0 on the sphere. */
int nco_problem_retract(const nco_problem *pb, float *x, float t, const float *v);
/* Riemannian gradient: P_x ∇loss (Ma eq. 5.4); equals eval elsewhere. */
int nco_problem_riemannian_grad(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                                double *loss, float *rgrad);
/* Riemannian Hessian-vector product P_x(∇²f − ⟨x,∇f⟩I)P_x v (Ma eq. 5.5). */
int nco_problem_riemannian_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                               const float *v, float *hv);

/* ---- helpers --------------------------------------------------------- */

/* Reduction factor c for a batch of nb: 1 or 1/nb. */
double nco_problem_scale(const nco_problem *pb, size_t nb);

/* ---- parameter blocks (the objective of one parameter group) --------- */

/* *out ← the block [off, off + len) of `full`'s parameters as a problem of
 * len parameters: f_b(y) = f(θ with θ[off..off+len) = y), the rest of θ read
 * from theta[full->dim], which the caller owns and keeps current (every call
 * of the block writes y into it first). Its gradient, JVP/VJP and HVP are
 * the restrictions of full's; it offers least squares and an exact HVP
 * where full does; its reduction is set on full at each of its calls. The
 * point y passed to a block call may be theta + off itself; otherwise it
 * must not overlap theta. `full` and theta must outlive the block. A block of a
 * sphere problem (other than the whole) is refused: the constraint couples
 * every coordinate. */
int nco_problem_block(nco_problem *full, float *theta, size_t off, size_t len, nco_problem **out);

#ifdef __cplusplus
}
#endif
#endif
