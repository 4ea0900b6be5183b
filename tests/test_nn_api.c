/* Network models and problems (ncopt/nn.h): parameter layout and names,
 * initialisations, dropout determinism, held-out metrics against an
 * independent computation, and input validation. Derivatives are in
 * test_nn_grad.c, PyTorch equality in test_nn_torch.c. */
#include <float.h>
#include <stdlib.h>

#include "ncopt/nn.h"
#include "testlib.h"

/* LeNet-5 for (1, 28, 28): names, offsets, shapes, dim 61 706 (torch:
 * 156 + 6 + 2400 + 16 + 48000 + 120 + 10080 + 84 + 840 + 10). */
static void test_lenet_layout(void) {
  nco_nn_model *m = NULL;
  REQUIRE_OK(nco_nn_lenet5(1, 28, 28, 10, &m));
  CHECK(nco_nn_dim(m) == 61706);
  CHECK(nco_nn_in_size(m) == 784 && nco_nn_out_size(m) == 10);
  CHECK(nco_nn_num_params(m) == 10);
  static const char *names[10] = {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight",
                                  "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"};
  static const size_t lens[10] = {150, 6, 2400, 16, 48000, 120, 10080, 84, 840, 10};
  size_t off = 0;
  for (size_t i = 0; i < 10; i++) {
    nco_nn_param p;
    CHECK_OK(nco_nn_param_get(m, i, &p));
    CHECKF(!strcmp(p.name, names[i]), "slice %zu is %s", i, p.name);
    CHECK(p.offset == off && p.length == lens[i]);
    off += p.length;
  }
  nco_nn_param p;
  CHECK_OK(nco_nn_param_find(m, "conv2.weight", &p));
  CHECK(p.ndim == 4 && p.shape[0] == 16 && p.shape[1] == 6 && p.shape[2] == 5 && p.shape[3] == 5);
  CHECK_OK(nco_nn_param_find(m, "fc1.weight", &p));
  CHECK(p.ndim == 2 && p.shape[0] == 120 && p.shape[1] == 400);
  CHECK_ERR(nco_nn_param_find(m, "fc9.bias", &p), NCO_ERR_RANGE, "fc9.bias");
  CHECK_ERR(nco_nn_param_get(m, 10, &p), NCO_ERR_RANGE, "slice 10");
  char buf[256];
  nco_nn_describe(m, buf, sizeof buf);
  CHECK(strstr(buf, "conv1(1->6 5x5 s1 p2)") && strstr(buf, "fc3(84->10)"));
  /* rename */
  CHECK_ERR(nco_nn_rename_last(m, "fc1"), NCO_ERR_INVALID, "already used");
  CHECK_ERR(nco_nn_rename_last(m, "bad name"), NCO_ERR_INVALID, "letters");
  CHECK_OK(nco_nn_rename_last(m, "head"));
  CHECK_OK(nco_nn_param_find(m, "head.bias", &p));
  CHECK(p.offset == 61696);
  nco_nn_model_free(m);
}

/* Shape errors name the layer and the shapes. */
static void test_model_errors(void) {
  size_t in = 10, img[3] = {1, 4, 4}, bad[3] = {1, 0, 4};
  nco_nn_model *m = NULL;
  CHECK_ERR(nco_nn_model_create(2, img, &m), NCO_ERR_SHAPE, "1 (features) or 3");
  CHECK_ERR(nco_nn_model_create(3, bad, &m), NCO_ERR_SHAPE, "dimension 1 is 0");
  REQUIRE_OK(nco_nn_model_create(1, &in, &m));
  CHECK_ERR(nco_nn_add_conv2d(m, 2, 3, 3, 1, 0, 1), NCO_ERR_SHAPE, "needs a (channels, height, width) input");
  CHECK_ERR(nco_nn_add_maxpool2d(m, 2, 2), NCO_ERR_SHAPE, "maxpool2d");
  CHECK_ERR(nco_nn_add_dropout(m, 1.0), NCO_ERR_RANGE, "dropout probability 1");
  nco_act a = nco_act_make(NCO_ACT_LEAKY_RELU);
  a.slope = -1;
  CHECK_ERR(nco_nn_add_act(m, &a), NCO_ERR_RANGE, "activation layer 0");
  CHECK(nco_nn_num_layers(m) == 0);
  nco_nn_model_free(m);
  REQUIRE_OK(nco_nn_model_create(3, img, &m));
  CHECK_ERR(nco_nn_add_conv2d(m, 2, 7, 7, 1, 1, 1), NCO_ERR_SHAPE, "larger than the padded input");
  CHECK_ERR(nco_nn_add_maxpool2d(m, 5, 1), NCO_ERR_SHAPE, "maxpool2d layer 0");
  CHECK_OK(nco_nn_add_avgpool2d(m, 2, 0));
  CHECK(nco_nn_out_size(m) == 4);
  nco_nn_model_free(m);
}

/* Initialisations: ranges and moments of the draws (fc1 of an MLP
 * 300-200-10: 60 000 weights, so sample moments are within a few % of the
 * population's: the standard error of a variance estimate is √(2/n)·σ²
 * ≈ 0.6% for Gaussians, 0.4% for uniforms; we allow 3%). */
static void test_init(void) {
  size_t w[1] = {200};
  nco_act relu = nco_act_make(NCO_ACT_RELU);
  nco_nn_model *m = NULL;
  REQUIRE_OK(nco_nn_mlp(300, w, 1, 10, &relu, &m));
  size_t d = nco_nn_dim(m);
  float *th = calloc(d, sizeof *th);
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_nn_param W, b, W2;
  CHECK_OK(nco_nn_param_find(m, "fc1.weight", &W));
  CHECK_OK(nco_nn_param_find(m, "fc1.bias", &b));
  CHECK_OK(nco_nn_param_find(m, "fc2.weight", &W2));
  for (int kind = 0; kind < 4; kind++) {
    CHECK_OK(nco_nn_init(m, (nco_nn_init_kind)kind, 0.05, &rng, th));
    double s = 0, s2 = 0, mx = 0;
    for (size_t j = 0; j < W.length; j++) {
      double v = th[W.offset + j];
      s += v, s2 += v * v, mx = fmax(mx, fabs(v));
    }
    double mean = s / W.length, var = s2 / W.length - mean * mean, bmax = nco_amax(b.length, th + b.offset);
    double want_var = 0, bound = 0;
    switch (kind) {
      case NCO_NN_INIT_TORCH: bound = 1 / sqrt(300.0), want_var = bound * bound / 3; break;
      case NCO_NN_INIT_XAVIER_UNIFORM: bound = sqrt(6.0 / 500), want_var = bound * bound / 3; break;
      case NCO_NN_INIT_KAIMING_NORMAL: want_var = 2.0 / 300; break;
      case NCO_NN_INIT_NORMAL: want_var = 0.05 * 0.05; break;
    }
    CHECK_CLOSE(var, want_var, 0, 0.03);
    CHECK(fabs(mean) < 4 * sqrt(want_var / W.length));
    if (bound > 0) CHECK(mx <= bound);
    if (kind == NCO_NN_INIT_TORCH) {
      CHECK(bmax <= 1 / sqrt(300.0) && bmax > 0.5 / sqrt(300.0));
      CHECK(nco_amax(W2.length, th + W2.offset) <= 1 / sqrt(200.0));
    } else {
      CHECK(bmax == 0);
    }
  }
  CHECK_ERR(nco_nn_init(m, NCO_NN_INIT_NORMAL, 0, &rng, th), NCO_ERR_RANGE, "sigma");
  /* seeded: same seed, same θ */
  float *t2 = calloc(d, sizeof *t2);
  nco_rng_seed(&rng, 9);
  nco_nn_init(m, NCO_NN_INIT_TORCH, 0, &rng, th);
  nco_rng_seed(&rng, 9);
  nco_nn_init(m, NCO_NN_INIT_TORCH, 0, &rng, t2);
  CHECK(!memcmp(th, t2, d * sizeof *th));
  free(th), free(t2);
  nco_nn_model_free(m);
}

static void make_xy(size_t n, size_t in, size_t k, uint64_t seed, nco_array *X, nco_array *Y) {
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  size_t sx[2] = {n, in};
  nco_array_alloc(X, NCO_DTYPE_F32, 2, sx, "X.npy");
  nco_array_alloc(Y, NCO_DTYPE_U8, 1, &n, "y.npy");
  nco_rng_normal_fill(&rng, X->data, n * in, 0, 1);
  for (size_t i = 0; i < n; i++) ((uint8_t *)Y->data)[i] = (uint8_t)nco_rng_below(&rng, k);
}

/* Dropout: entries of the output are 0 or y/(1 − p) with y the output
 * without dropout; the fraction of zeros is p within 4 standard errors;
 * masks depend only on (seed, step, layer, batch position): the same step
 * gives the same output, whatever max_batch; another step or seed another
 * mask; evaluation mode is the identity; auto_step advances per gradient. */
static void test_dropout(void) {
  const size_t n = 10, in = 5, width = 300;
  const double p = 0.3;
  nco_array X = {0}, Y = {0};
  make_xy(n, in, 2, 3, &X, &Y);
  nco_nn_model *m = NULL;
  REQUIRE_OK(nco_nn_model_create(1, &in, &m));
  CHECK_OK(nco_nn_add_dense(m, width, 1));
  CHECK_OK(nco_nn_add_dropout(m, p));
  nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_LEAST_SQUARES);
  nco_problem *a = NULL, *b = NULL, *c = NULL;
  o.dropout_seed = 5;
  REQUIRE_OK(nco_nn_problem_create(m, &X, &Y, &o, &a));
  o.max_batch = 3;
  REQUIRE_OK(nco_nn_problem_create(m, &X, &Y, &o, &b));
  o.dropout_seed = 6;
  REQUIRE_OK(nco_nn_problem_create(m, &X, &Y, &o, &c));
  size_t d = a->dim, N = n * width;
  float *th = calloc(d, 4), *y0 = calloc(N, 4), *y1 = calloc(N, 4), *y2 = calloc(N, 4), *g = calloc(d, 4);
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_problem_init(a, &rng, th);
  CHECK_OK(nco_nn_set_training(a, 0));
  CHECK_OK(nco_nn_forward(a, th, NULL, n, y0));
  CHECK_OK(nco_nn_set_training(a, 1));
  CHECK(nco_nn_get_step(a) == 0);
  CHECK_OK(nco_nn_forward(a, th, NULL, n, y1));
  size_t zeros = 0, bad = 0;
  for (size_t j = 0; j < N; j++) {
    if (y1[j] == 0) {
      zeros++;
    } else if (fabs(y1[j] - y0[j] / (1 - p)) > 1e-6 * fabs(y0[j] / (1 - p))) {
      bad++;
    }
  }
  CHECK(bad == 0);
  double frac = (double)zeros / N, se = sqrt(p * (1 - p) / N);
  CHECKF(fabs(frac - p) < 4 * se, "dropped fraction %.4f, p = %.2f", frac, p);
  CHECK_OK(nco_nn_forward(b, th, NULL, n, y2)); /* chunks of 3, same seed and step */
  CHECK(!memcmp(y1, y2, N * 4));
  CHECK_OK(nco_nn_forward(c, th, NULL, n, y2)); /* other seed */
  CHECK(memcmp(y1, y2, N * 4) != 0);
  double loss;
  CHECK_OK(nco_problem_eval(a, th, NULL, n, &loss, g)); /* auto_step: step 1 */
  CHECK(nco_nn_get_step(a) == 1);
  CHECK_OK(nco_problem_eval(a, th, NULL, n, &loss, NULL)); /* loss only: no step */
  CHECK(nco_nn_get_step(a) == 1);
  CHECK_OK(nco_nn_forward(a, th, NULL, n, y2));
  CHECK(memcmp(y1, y2, N * 4) != 0);
  CHECK_OK(nco_nn_set_step(a, 0));
  CHECK_OK(nco_nn_forward(a, th, NULL, n, y2));
  CHECK(!memcmp(y1, y2, N * 4));
  CHECK_OK(nco_nn_set_auto_step(a, 0));
  CHECK_OK(nco_problem_eval(a, th, NULL, n, &loss, g));
  CHECK(nco_nn_get_step(a) == 0);
  /* evaluation mode: identity */
  CHECK_OK(nco_nn_set_training(a, 0));
  CHECK_OK(nco_nn_forward(a, th, NULL, n, y2));
  CHECK(!memcmp(y0, y2, N * 4));
  free(th), free(y0), free(y1), free(y2), free(g);
  nco_problem_free(a), nco_problem_free(b), nco_problem_free(c);
  nco_nn_model_free(m);
  nco_array_free(&X), nco_array_free(&Y);
}

/* nco_nn_evaluate against the outputs of nco_nn_forward, reduced here:
 * CE ℓ_i = log Σ_k e^{y_ik} − y_i,label; LS ½‖y_i − onehot‖²; accuracy
 * = fraction with argmax = label. Also: a minibatch with repeats, and
 * evaluation through a wrapper (ℓ2) sees the network. */
static void test_metrics(void) {
  const size_t n = 37, in = 6, K = 4;
  nco_array X = {0}, Y = {0};
  make_xy(n, in, K, 11, &X, &Y);
  size_t w[1] = {7};
  nco_act th = nco_act_make(NCO_ACT_TANH);
  nco_nn_model *m = NULL;
  REQUIRE_OK(nco_nn_mlp(in, w, 1, K, &th, &m));
  for (int loss = 0; loss < 2; loss++) {
    nco_nn_opts o = nco_nn_defaults((nco_nn_loss)loss);
    o.max_batch = 8; /* 5 chunks */
    nco_problem *pb = NULL, *wrap = NULL;
    REQUIRE_OK(nco_nn_problem_create(m, &X, &Y, &o, &pb));
    float x[128], out[n * K];
    REQUIRE(pb->dim <= 128);
    nco_rng rng;
    nco_rng_seed(&rng, 2);
    nco_problem_init(pb, &rng, x);
    for (size_t j = 0; j < pb->dim; j++) x[j] *= 3;
    CHECK_OK(nco_nn_forward(pb, x, NULL, n, out));
    double sum = 0;
    size_t correct = 0;
    const uint8_t *lab = Y.data;
    for (size_t i = 0; i < n; i++) {
      const float *yi = out + i * K;
      size_t am = 0;
      double se = 0, l = 0;
      for (size_t k = 0; k < K; k++) {
        if (yi[k] > yi[am]) am = k;
        se += exp(yi[k]);
        double r = yi[k] - (k == lab[i]);
        l += 0.5 * r * r;
      }
      sum += loss ? l : log(se) - yi[lab[i]];
      correct += am == lab[i];
    }
    nco_nn_metrics met;
    CHECK_OK(nco_nn_evaluate(pb, x, NULL, n, &met));
    CHECK(met.n == n);
    CHECK_CLOSE(met.loss_sum, sum, 0, 1e-6); /* libm exp/log vs ours on float outputs */
    CHECK_CLOSE(met.loss_mean, sum / n, 0, 1e-6);
    CHECK_CLOSE(met.accuracy, (double)correct / n, 0, 0);
    /* the problem's loss: CE mean, LS sum by default */
    double l;
    CHECK_OK(nco_problem_eval(pb, x, NULL, n, &l, NULL));
    CHECK_CLOSE(l, loss ? sum : sum / n, 0, 1e-6);
    /* a minibatch with a repeat */
    size_t idx[3] = {4, 4, 30};
    CHECK_OK(nco_nn_evaluate(pb, x, idx, 3, &met));
    CHECK(met.n == 3);
    CHECK_OK(nco_l2_wrap(pb, 0.1, 0, &wrap));
    CHECK(nco_nn_is_nn(wrap) && nco_nn_problem_model(wrap) != NULL);
    CHECK_OK(nco_nn_evaluate(wrap, x, NULL, n, &met));
    CHECK_CLOSE(met.loss_sum, sum, 0, 1e-6);
    size_t oob[1] = {n};
    CHECK_ERR(nco_nn_evaluate(pb, x, oob, 1, &met), NCO_ERR_RANGE, "out of range");
    nco_problem_free(wrap);
    nco_problem_free(pb);
  }
  nco_nn_model_free(m);
  nco_array_free(&X), nco_array_free(&Y);
}

/* Data validation names the file, the role and the value. */
static void test_problem_errors(void) {
  const size_t n = 5, in = 4;
  nco_array X = {0}, Y = {0}, T = {0};
  make_xy(n, in, 3, 1, &X, &Y);
  nco_nn_model *m = NULL, *m1 = NULL;
  size_t w[1] = {3};
  nco_act th = nco_act_make(NCO_ACT_TANH);
  REQUIRE_OK(nco_nn_mlp(in, w, 1, 3, &th, &m));
  REQUIRE_OK(nco_nn_mlp(in, w, 1, 1, &th, &m1));
  nco_problem *pb = NULL;
  nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_CROSS_ENTROPY);
  ((uint8_t *)Y.data)[2] = 3;
  CHECK_ERR(nco_nn_problem_create(m, &X, &Y, &o, &pb), NCO_ERR_RANGE, "y.npy: label 2 is 3");
  ((uint8_t *)Y.data)[2] = 0;
  ((float *)X.data)[7] = NAN;
  CHECK_ERR(nco_nn_problem_create(m, &X, &Y, &o, &pb), NCO_ERR_NONFINITE, "X.npy: features entry 7 (sample 1)");
  o.borrow = 1;
  CHECK_ERR(nco_nn_problem_create(m, &X, &Y, &o, &pb), NCO_ERR_NONFINITE, "X.npy");
  o.borrow = 0;
  ((float *)X.data)[7] = 0;
  CHECK_ERR(nco_nn_problem_create(m1, &X, &Y, &o, &pb), NCO_ERR_SHAPE, "at least 2 outputs");
  size_t bad[2] = {n, 5};
  nco_array Xb = {0};
  nco_array_alloc(&Xb, NCO_DTYPE_F32, 2, bad, "wide.npy");
  CHECK_ERR(nco_nn_problem_create(m, &Xb, &Y, &o, &pb), NCO_ERR_SHAPE, "wide.npy: features has shape (5, 5) (5 values per sample)");
  size_t ts[2] = {n, 2};
  nco_array_alloc(&T, NCO_DTYPE_F32, 2, ts, "t.npy");
  CHECK_ERR(nco_nn_problem_create(m, &X, &T, &o, &pb), NCO_ERR_SHAPE, "t.npy: targets has shape (5, 2)");
  o.reduction = 7;
  CHECK_ERR(nco_nn_problem_create(m, &X, &Y, &o, &pb), NCO_ERR_INVALID, "reduction");
  /* borrow: the problem reads the caller's float32 buffer in place */
  o = nco_nn_defaults(NCO_NN_LOSS_LEAST_SQUARES);
  o.borrow = 1;
  REQUIRE_OK(nco_nn_problem_create(m, &X, &Y, &o, &pb));
  CHECK(nco_problem_is_least_squares(pb) && pb->m == 3 && pb->reduction == NCO_REDUCE_SUM);
  CHECK(strstr(pb->label, "least_squares") != NULL);
  float x[64], out1[15], out2[15];
  REQUIRE(pb->dim <= 64);
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_problem_init(pb, &rng, x);
  CHECK_OK(nco_nn_forward(pb, x, NULL, n, out1));
  ((float *)X.data)[0] += 1;
  CHECK_OK(nco_nn_forward(pb, x, NULL, n, out2));
  CHECK(memcmp(out1, out2, sizeof out1) != 0);
  nco_problem_free(pb);
  nco_nn_model_free(m), nco_nn_model_free(m1);
  nco_array_free(&X), nco_array_free(&Y), nco_array_free(&T), nco_array_free(&Xb);
}

int main(void) {
  RUN(test_lenet_layout);
  RUN(test_model_errors);
  RUN(test_init);
  RUN(test_dropout);
  RUN(test_metrics);
  RUN(test_problem_errors);
  return nco_test_summary();
}
