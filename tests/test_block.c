/* tests/test_block.c — a block of a problem's parameters as a problem
 * (nco_problem_block, src/core/block.c): the objective of a parameter group.
 *
 * A block's loss, gradient, residual, JVP, VJP and HVP are the restrictions
 * of the whole problem's: compared bitwise with the whole problem evaluated
 * at the same θ (the reference: padding and slicing done here by hand), and
 * against float64 finite differences by the derivative harness. Then block
 * coordinate descent through blocks against the same descent done by hand on
 * the whole problem, and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static nco_problem *glm_invex(size_t n, size_t d, uint64_t seed) {
  nco_rng r;
  nco_rng_seed(&r, seed);
  nco_act act = nco_act_make(NCO_ACT_SIGMOID);
  nco_array A = {0}, b = {0};
  nco_problem *pb = NULL, *iv = NULL;
  if (!nco_glm_generate(n, d, &act, 0.1, 0, &r, &A, &b) && !nco_glm_create(&A, &b, &act, &pb) &&
      nco_invex_wrap(pb, 0.3, 1, &iv))
    nco_problem_free(pb), iv = NULL;
  nco_array_free(&A), nco_array_free(&b);
  return iv;
}

static int same_bits(size_t n, const float *a, const float *b) { return !memcmp(a, b, n * sizeof *a); }

/* Every call of the block equals the whole problem's call restricted to it. */
static void test_restriction(void) {
  const size_t n = 12, d = 5, D = d + n;
  nco_problem *full = glm_invex(n, d, 3);
  REQUIRE(full && full->dim == D);
  float theta[17], ref[17], g[17], gb[17], u[17], pad[17], hv[17], hb[17], x[17];
  float r[64], rb[64], ju[64], jub[64];
  nco_rng rng;
  nco_rng_seed(&rng, 9);
  nco_rng_normal_fill(&rng, theta, D, 0, 0.5);
  memcpy(ref, theta, sizeof theta);
  const size_t mb[4] = {3, 7, 3, 0};
  const size_t blocks[3][2] = {{0, d}, {d, n}, {2, 9}};
  for (int k = 0; k < 3; k++) {
    size_t off = blocks[k][0], len = blocks[k][1];
    nco_problem *blk = NULL;
    REQUIRE_OK(nco_problem_block(full, theta, off, len, &blk));
    CHECK(blk->dim == len && blk->n == n && nco_problem_is_least_squares(blk) && nco_problem_has_exact_hvp(blk));
    for (int b = 0; b < 2; b++) {
      const size_t *idx = b ? mb : NULL;
      size_t nb = b ? 4 : n;
      /* a new point for the block: the whole problem is evaluated at ref */
      nco_rng_normal_fill(&rng, x, len, 0, 0.5);
      memcpy(ref + off, x, len * sizeof *x);
      double l1, l2;
      REQUIRE_OK(nco_problem_eval(blk, x, idx, nb, &l1, gb));
      CHECK(same_bits(D, theta, ref)); /* the block wrote its point into θ */
      REQUIRE_OK(nco_problem_eval(full, ref, idx, nb, &l2, g));
      CHECK(l1 == l2 && same_bits(len, gb, g + off));
      size_t nres = nco_problem_nres(full, nb);
      REQUIRE_OK(nco_problem_residual(blk, x, idx, nb, rb));
      REQUIRE_OK(nco_problem_residual(full, ref, idx, nb, r));
      CHECK(same_bits(nres, r, rb));
      nco_rng_normal_fill(&rng, u, len, 0, 1);
      memset(pad, 0, sizeof pad);
      memcpy(pad + off, u, len * sizeof *u);
      REQUIRE_OK(nco_problem_jvp(blk, x, idx, nb, u, jub));
      REQUIRE_OK(nco_problem_jvp(full, ref, idx, nb, pad, ju));
      CHECK(same_bits(nres, ju, jub));
      REQUIRE_OK(nco_problem_vjp(blk, x, idx, nb, r, gb));
      REQUIRE_OK(nco_problem_vjp(full, ref, idx, nb, r, g));
      CHECK(same_bits(len, gb, g + off));
      REQUIRE_OK(nco_problem_hvp(blk, x, idx, nb, u, hb));
      REQUIRE_OK(nco_problem_hvp(full, ref, idx, nb, pad, hv));
      CHECK(same_bits(len, hb, hv + off));
    }
    /* float64 finite differences of the block itself, SUM and MEAN (at a
     * copy of the block's point: the harness's perturbed points are written
     * into θ, which must not move the point it differentiates at) */
    memcpy(x, theta + off, len * sizeof *x);
    nco_test_check_derivatives(blk, x, mb, 4);
    memcpy(ref, theta, sizeof theta);
    /* the block's reduction reaches the whole problem at its next call */
    nco_problem_set_reduction(blk, NCO_REDUCE_MEAN);
    double l;
    REQUIRE_OK(nco_problem_eval(blk, x, NULL, n, &l, NULL));
    CHECK(full->reduction == NCO_REDUCE_MEAN);
    nco_problem_set_reduction(blk, NCO_REDUCE_SUM);
    REQUIRE_OK(nco_problem_eval(blk, x, NULL, n, &l, NULL));
    CHECK(full->reduction == NCO_REDUCE_SUM);
    memcpy(ref, theta, sizeof theta);
    nco_problem_free(blk);
  }
  nco_problem_free(full);
}

/* Alternating gradient steps on x then p through two blocks are the steps
 * written out on the whole gradient. */
static void test_block_descent(void) {
  const size_t n = 10, d = 4, D = d + n;
  nco_problem *full = glm_invex(n, d, 5);
  REQUIRE(full);
  float theta[14] = {0}, ref[14] = {0}, g[14], gx[4], gp[10];
  nco_problem *bx = NULL, *bp = NULL;
  REQUIRE_OK(nco_problem_block(full, theta, 0, d, &bx));
  REQUIRE_OK(nco_problem_block(full, theta, d, n, &bp));
  double loss;
  for (int t = 0; t < 50; t++) {
    REQUIRE_OK(nco_problem_eval(bx, theta, NULL, n, &loss, gx));
    for (size_t j = 0; j < d; j++) theta[j] -= 0.5f * gx[j];
    REQUIRE_OK(nco_problem_eval(bp, theta + d, NULL, n, &loss, gp));
    for (size_t j = 0; j < n; j++) theta[d + j] -= 0.25f * gp[j];
    /* by hand: the whole gradient twice, each time one block moved */
    REQUIRE_OK(nco_problem_eval(full, ref, NULL, n, &loss, g));
    for (size_t j = 0; j < d; j++) ref[j] -= 0.5f * g[j];
    REQUIRE_OK(nco_problem_eval(full, ref, NULL, n, &loss, g));
    for (size_t j = 0; j < n; j++) ref[d + j] -= 0.25f * g[d + j];
  }
  CHECK(same_bits(D, theta, ref));
  /* the descent decreased the loss */
  double l0;
  float zero[14] = {0};
  REQUIRE_OK(nco_problem_eval(full, zero, NULL, n, &l0, NULL));
  REQUIRE_OK(nco_problem_eval(full, theta, NULL, n, &loss, NULL));
  CHECKF(loss < 0.5 * l0, "loss %g from %g", loss, l0);
  nco_problem_free(bx), nco_problem_free(bp), nco_problem_free(full);
}

static void test_block_errors(void) {
  nco_problem *full = glm_invex(6, 3, 1), *blk = (nco_problem *)1;
  REQUIRE(full);
  float theta[9] = {0};
  CHECK_ERR(nco_problem_block(full, theta, 0, 0, &blk), NCO_ERR_RANGE, "empty or outside");
  CHECK(blk == NULL);
  CHECK_ERR(nco_problem_block(full, theta, 5, 5, &blk), NCO_ERR_RANGE, "[5, 10)");
  CHECK_ERR(nco_problem_block(full, theta, (size_t)-1, 2, &blk), NCO_ERR_RANGE, "outside");
  CHECK_ERR(nco_problem_block(full, NULL, 0, 2, &blk), NCO_ERR_INVALID, "no parameter vector");
  nco_problem_free(full);
  /* the sphere: only the whole */
  nco_rng r;
  nco_rng_seed(&r, 2);
  nco_array C = {0};
  nco_problem *ten = NULL;
  REQUIRE_OK(nco_tensor_generate(3, 4, &r, &C));
  REQUIRE_OK(nco_tensor_create(&C, &ten));
  float y[4] = {1, 0, 0, 0};
  CHECK_ERR(nco_problem_block(ten, y, 0, 2, &blk), NCO_ERR_INVALID, "unit sphere");
  CHECK_OK(nco_problem_block(ten, y, 0, 4, &blk));
  nco_problem_free(blk), nco_problem_free(ten), nco_array_free(&C);
}

int main(void) {
  RUN(test_restriction);
  RUN(test_block_descent);
  RUN(test_block_errors);
  return nco_test_summary();
}
