/* A block of a problem's parameters seen as a problem of its own: the
 * objective of one parameter group of a run (include/ncopt/problem.h,
 * nco_problem_block).
 *
 * For θ = (θ_1, …, θ_G) and a block b = [off, off + len), the block problem
 * is  f_b(y) = f(θ_1, …, y, …, θ_G)  with the other blocks held at their
 * values in the shared vector `theta`. Its derivatives are the restrictions
 * of f's: ∇f_b = (∇f)_b, J_b u = J·pad(u), J_bᵀ v = (Jᵀv)_b and
 * ∇²f_b u = (∇²f·pad(u))_b, pad(u) being u placed in the block and zero
 * elsewhere. Every call writes y into theta first, so the block's calls see
 * exactly the point the whole problem would (and compute the same bits). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/problem.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"

typedef struct {
  nco_problem *full;
  float *theta;   /* [full->dim], shared with the caller */
  size_t off;
  float *pad;     /* [full->dim] scratch: a padded vector or a full gradient */
  float *pad2;    /* [full->dim] */
} block;

static block *B(nco_problem *pb) { return pb->impl; }

/* theta ← (…, y, …): the point every call of the block evaluates; the
 * block's reduction is the whole problem's (a view, not a copy) */
static void place(nco_problem *pb, const float *y) {
  block *b = B(pb);
  if (b->theta + b->off != y) memcpy(b->theta + b->off, y, pb->dim * sizeof *y);
  if (b->full->reduction != pb->reduction) nco_problem_set_reduction(b->full, pb->reduction);
}

/* pad ← u in the block, 0 elsewhere */
static float *padded(block *b, size_t len, const float *u) {
  memset(b->pad, 0, b->full->dim * sizeof *b->pad);
  memcpy(b->pad + b->off, u, len * sizeof *u);
  return b->pad;
}

static int blk_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *loss, float *grad) {
  block *b = B(pb);
  place(pb, x);
  int st = nco_problem_eval(b->full, b->theta, idx, nb, loss, grad ? b->pad : NULL);
  if (grad) memcpy(grad, b->pad + b->off, pb->dim * sizeof *grad); /* written even when not finite */
  return st;
}

static int blk_residual(nco_problem *pb, const float *x, const size_t *idx, size_t nb, float *r) {
  block *b = B(pb);
  place(pb, x);
  return nco_problem_residual(b->full, b->theta, idx, nb, r);
}

static int blk_residual64(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double *r) {
  block *b = B(pb);
  place(pb, x);
  return nco_problem_residual64(b->full, b->theta, idx, nb, r);
}

static int blk_jvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *u, float *ju) {
  block *b = B(pb);
  place(pb, x);
  return nco_problem_jvp(b->full, b->theta, idx, nb, padded(b, pb->dim, u), ju);
}

static int blk_vjp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v, float *jtv) {
  block *b = B(pb);
  place(pb, x);
  int st = nco_problem_vjp(b->full, b->theta, idx, nb, v, b->pad);
  if (!st) memcpy(jtv, b->pad + b->off, pb->dim * sizeof *jtv);
  return st;
}

static int blk_hvp(nco_problem *pb, const float *x, const size_t *idx, size_t nb, const float *v, float *hv) {
  block *b = B(pb);
  place(pb, x);
  int st = nco_problem_hvp(b->full, b->theta, idx, nb, padded(b, pb->dim, v), b->pad2);
  if (!st) memcpy(hv, b->pad2 + b->off, pb->dim * sizeof *hv);
  return st;
}

static int blk_init(nco_problem *pb, nco_rng *rng, float *x) {
  block *b = B(pb);
  int st = nco_problem_init(b->full, rng, b->pad);
  if (!st) memcpy(x, b->pad + b->off, pb->dim * sizeof *x);
  return st;
}

static void blk_destroy(void *impl) {
  block *b = impl;
  free(b->pad);
  free(b->pad2);
  free(b);
}

/* [least squares][exact HVP]: the block offers what the whole problem
 * offers, so that nco_problem_has_exact_hvp and the least-squares methods
 * see the same problem */
#define BLOCK_TYPE(ls, exact)                                                                                \
  {.name = "block", .eval = blk_eval, .residual = (ls) ? blk_residual : NULL,                                 \
   .residual64 = (ls) ? blk_residual64 : NULL, .jvp = (ls) ? blk_jvp : NULL, .vjp = (ls) ? blk_vjp : NULL,   \
   .hvp = (exact) ? blk_hvp : NULL, .init = blk_init, .destroy = blk_destroy}
static const nco_problem_type block_types[2][2] = {{BLOCK_TYPE(0, 0), BLOCK_TYPE(0, 1)},
                                                   {BLOCK_TYPE(1, 0), BLOCK_TYPE(1, 1)}};

int nco_problem_block(nco_problem *full, float *theta, size_t off, size_t len, nco_problem **out) {
  *out = NULL;
  if (!full || !theta) return nco_error(NCO_ERR_INVALID, "problem block: no problem or no parameter vector");
  if (len == 0 || off > full->dim || len > full->dim - off)
    return nco_error(NCO_ERR_RANGE, "%s: parameter block [%zu, %zu) is empty or outside the %zu parameters", full->label,
                     off, off + len, full->dim);
  /* On the sphere the constraint ‖θ‖ = 1 couples every coordinate: a block
   * of it is not a manifold problem of its own (Ma §5). */
  if (full->manifold != NCO_MANIFOLD_EUCLIDEAN && len != full->dim)
    return nco_error(NCO_ERR_INVALID, "%s: its parameters live on the unit sphere; they cannot be split into groups",
                     full->label);
  block *b = calloc(1, sizeof *b);
  if (!b) return nco_error(NCO_ERR_NOMEM, "%s: out of memory for a parameter block", full->label);
  b->full = full, b->theta = theta, b->off = off;
  b->pad = nco_calloc(full->dim, sizeof *b->pad);
  b->pad2 = nco_calloc(full->dim, sizeof *b->pad2);
  if (!b->pad || !b->pad2) {
    blk_destroy(b);
    return nco_error(NCO_ERR_NOMEM, "%s: out of memory for a parameter block", full->label);
  }
  int ls = nco_problem_is_least_squares(full), exact = nco_problem_has_exact_hvp(full);
  int st = nco_problem_alloc(&block_types[ls][exact], b, len, full->n, full->m, full->m_extra, out);
  if (st) return st;
  (*out)->reduction = full->reduction;
  (*out)->manifold = full->manifold;
  snprintf((*out)->label, sizeof (*out)->label, "%.80s[%zu:%zu]", full->label, off, off + len);
  return NCO_OK;
}
