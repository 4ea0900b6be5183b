/* tests/test_nn_threads_bn.c — a small ResNet-like graph with batch norm
 * in training mode gives the same bits on 1, 2 and 3 OpenMP threads: the
 * loss, the gradient (the evaluation that commits the running statistics),
 * the committed statistics, the HVP, the R{VJP} (rhvp), the JVP and the
 * forward outputs, in float and in double; then a second step (its
 * gradient at the updated statistics' step) and evaluation mode.
 *
 * The whole batch is one chunk on one range (src/nn/run.inc), so the
 * threads are the ops' own OpenMP teams: batch norm over groups of
 * channels (src/nn/op_batchnorm.c: parallel from 32 768 values of a
 * chunk), ReLU, add and the fork sums of the backward pass in fixed blocks
 * (src/nn/real.inc: from 65 536 values), the conv kernels over sample
 * groups. The sizes below pass those thresholds: 64 samples of (10, 12, 12)
 * = 92 160 values in the first stage (10 channels: groups of 4, 4 and 2),
 * (16, 6, 6) = 36 864 in the second; one batch norm without affine. */
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ncopt/nn.h"
#include "nn/internal.h" /* white-box: the problem's thread count */
#include "testlib.h"

static nco_nn_node_spec conv(size_t out, size_t k, size_t stride, size_t pad) {
  return (nco_nn_node_spec){.kind = NCO_NN_CONV2D, .out = out, .kh = k, .kw = k, .stride = stride, .pad = pad};
}

static nco_nn_node_spec bn(int affine) {
  return (nco_nn_node_spec){.kind = NCO_NN_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .bias = affine};
}

static nco_nn_node_spec op(nco_nn_layer_kind kind) { return (nco_nn_node_spec){.kind = kind}; }

/* input (2, 12, 12); stem conv 3×3 10 + bn + relu; a block of 10 with an
 * identity skip; a stride-2 block of 16 with a 1×1 conv + bn (no affine)
 * projection; global average pool; linear 3 */
static nco_nn_model *resnet_like(void) {
  nco_nn_model *m = NULL;
  const size_t in[3] = {2, 12, 12};
  nco_nn_node_spec relu = op(NCO_NN_ACT), fc = op(NCO_NN_DENSE);
  relu.act = nco_act_make(NCO_ACT_RELU);
  fc.out = 3, fc.bias = 1;
  const nco_nn_node_spec c10 = conv(10, 3, 1, 1), c16s = conv(16, 3, 2, 1), c16 = conv(16, 3, 1, 1),
                         p16 = conv(16, 1, 2, 0), nb = bn(1), nb0 = bn(0), add = op(NCO_NN_ADD),
                         gap = op(NCO_NN_GLOBAL_AVGPOOL);
  struct {
    const char *name;
    const nco_nn_node_spec *op;
    const char *in[2];
  } g[] = {
      {"stem", &c10, {"x"}},      {"stem_bn", &nb, {"stem"}},  {"stem_r", &relu, {"stem_bn"}},
      {"b1c1", &c10, {"stem_r"}}, {"b1n1", &nb, {"b1c1"}},     {"b1r1", &relu, {"b1n1"}},
      {"b1c2", &c10, {"b1r1"}},   {"b1n2", &nb, {"b1c2"}},     {"b1a", &add, {"b1n2", "stem_r"}},
      {"b1r", &relu, {"b1a"}},    {"b2c1", &c16s, {"b1r"}},    {"b2n1", &nb, {"b2c1"}},
      {"b2r1", &relu, {"b2n1"}},  {"b2c2", &c16, {"b2r1"}},    {"b2n2", &nb, {"b2c2"}},
      {"b2s", &p16, {"b1r"}},     {"b2sn", &nb0, {"b2s"}},     {"b2a", &add, {"b2n2", "b2sn"}},
      {"b2r", &relu, {"b2a"}},    {"gap", &gap, {"b2r"}},      {"fc", &fc, {"gap"}},
  };
  if (nco_nn_graph_create(&m) || nco_nn_add_input(m, "x", NCO_NN_IN_DATA, 3, in)) goto fail;
  for (size_t i = 0; i < sizeof g / sizeof *g; i++)
    if (nco_nn_add_node(m, g[i].name, g[i].op, g[i].in[1] ? 2 : 1, g[i].in)) goto fail;
  return m;
fail:
  nco_nn_model_free(m);
  return NULL;
}

enum { NRES = 8 };

static void test_threads(void) {
  nco_nn_model *m = resnet_like();
  REQUIRE(m);
  const size_t n = 64, K = 3, in = nco_nn_in_size(m), ns = nco_nn_state_dim(m);
  CHECK(in == 288 && nco_nn_out_size(m) == K);
  nco_array X, Y;
  const size_t sx[2] = {n, in}, sy[2] = {n, K};
  REQUIRE_OK(nco_array_alloc(&X, NCO_DTYPE_F32, 2, sx, "X"));
  REQUIRE_OK(nco_array_alloc(&Y, NCO_DTYPE_F32, 2, sy, "Y"));
  nco_rng rng;
  nco_rng_seed(&rng, 21);
  nco_rng_normal_fill(&rng, X.data, n * in, 0.3f, 1.5f);
  nco_rng_normal_fill(&rng, Y.data, n * K, 0, 1);
#ifdef _OPENMP
  const int omp0 = omp_get_max_threads();
#endif
  for (int prec = 0; prec < 2; prec++) {
    float *res[3][NRES], *st[3][2];
    double loss[3][2];
    size_t d = 0;
    float *x = NULL, *u = NULL, *w = NULL;
    for (int t = 0; t < 3; t++) {
#ifdef _OPENMP
      omp_set_num_threads(t + 1);
      CHECK(omp_get_max_threads() == t + 1);
#endif
      nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_LEAST_SQUARES);
      o.threads = (size_t)t + 1, o.precision = (nco_nn_precision)prec, o.auto_step = 0;
      nco_problem *pb = NULL;
      REQUIRE_OK(nco_nn_problem_create(m, &X, &Y, &o, &pb));
      if (!x) {
        d = pb->dim;
        x = calloc(d, 4), u = calloc(d, 4), w = calloc(n * K, 4);
        REQUIRE(x && u && w);
        nco_rng_seed(&rng, 5);
        CHECK_OK(nco_problem_init(pb, &rng, x));
        nco_rng_normal_fill(&rng, u, d, 0, 1);
        nco_rng_normal_fill(&rng, w, n * K, 0, 1);
      }
      CHECK(pb->dim == d);
      for (int j = 0; j < NRES; j++) res[t][j] = calloc(j == 3 || j == 4 || j == 7 ? n * K : d, 4);
      for (int j = 0; j < 2; j++) st[t][j] = calloc(ns, 4);
      CHECK_OK(nco_problem_set_step(pb, 1));
      CHECK_OK(nco_problem_eval(pb, x, NULL, n, &loss[t][0], res[t][0])); /* commits */
      CHECK_OK(nco_nn_get_state(pb, st[t][0], ns, NULL));
      CHECK_OK(nco_problem_hvp(pb, x, NULL, n, u, res[t][1]));
      CHECK_OK(pb->type->rhvp(pb, x, pb->all_idx, n, w, u, res[t][2]));
      CHECK_OK(nco_problem_jvp(pb, x, NULL, n, u, res[t][3]));
      CHECK_OK(nco_nn_forward(pb, x, NULL, n, res[t][4]));
      /* step 2 at θ + u/100: a second commit on top of the first */
      for (size_t j = 0; j < d; j++) res[t][6][j] = x[j] + 0.01f * u[j];
      CHECK_OK(nco_problem_set_step(pb, 2));
      CHECK_OK(nco_problem_eval(pb, res[t][6], NULL, n, &loss[t][1], res[t][5]));
      CHECK_OK(nco_nn_get_state(pb, st[t][1], ns, NULL));
      CHECK_OK(nco_nn_set_training(pb, 0));
      CHECK_OK(nco_nn_forward(pb, x, NULL, n, res[t][7]));
      nco_problem_free(pb);
    }
    for (int t = 1; t < 3; t++) {
      for (int j = 0; j < 2; j++) {
        CHECKF(loss[t][j] == loss[0][j], "prec %d, %d threads: loss %d %.17g vs %.17g", prec, t + 1, j, loss[t][j],
               loss[0][j]);
        CHECKF(!memcmp(st[t][j], st[0][j], ns * 4), "prec %d, %d threads: running statistics %d differ", prec, t + 1, j);
      }
      for (int j = 0; j < NRES; j++)
        CHECKF(!memcmp(res[t][j], res[0][j], (j == 3 || j == 4 || j == 7 ? n * K : d) * 4),
               "prec %d, %d threads: result %d differs", prec, t + 1, j);
    }
    /* the statistics moved, the derivatives are not trivially zero */
    CHECK(st[0][0][0] != 0 && st[0][1][0] != st[0][0][0]);
    double g2 = 0, h2 = 0;
    for (size_t j = 0; j < d; j++) g2 += (double)res[0][0][j] * res[0][0][j], h2 += (double)res[0][1][j] * res[0][1][j];
    CHECK(g2 > 0 && h2 > 0);
    for (int t = 0; t < 3; t++) {
      for (int j = 0; j < NRES; j++) free(res[t][j]);
      for (int j = 0; j < 2; j++) free(st[t][j]);
    }
    free(x), free(u), free(w);
  }
#ifdef _OPENMP
  omp_set_num_threads(omp0);
#endif
  nco_array_free(&X), nco_array_free(&Y);
  nco_nn_model_free(m);
}

int main(void) {
  RUN(test_threads);
  return nco_test_summary();
}
