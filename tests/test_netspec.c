/* The graph API and the [network] spec syntax (nn.h): a [network] section
 * equal to the MLP / LeNet builders gives the identical model (the same
 * parameters drawn at init, the same loss and gradient bits on a batch,
 * float and double), every error class names FILE:LINE, forks accumulate
 * their gradients (checked against finite differences), and the summary
 * lists every node with the totals. */
#include <float.h>
#include <stdlib.h>

#include "ncopt/check.h"
#include "ncopt/nn.h"
#include "ncopt/spec.h"
#include "nn/internal.h" /* white-box: the nodes' shapes */
#include "testlib.h"

static int parse(const char *text, nco_spec **s) { return nco_spec_parse_string(text, "net.ini", ".", s); }

/* The model of a [network] text, for per-sample data shape ds[0..dnd). */
static int from_text(const char *text, size_t dnd, const size_t *ds, nco_nn_model **m) {
  nco_spec *s = NULL;
  int st = parse(text, &s);
  if (!st) st = nco_nn_graph_from_spec(s, dnd, ds, m);
  nco_spec_free(s);
  return st;
}

typedef struct data {
  nco_array X, Y;
} data;

static void make_data(size_t n, size_t in, size_t classes, uint64_t seed, data *d) {
  nco_rng rng;
  size_t sx[2] = {n, in}, sy[1] = {n};
  nco_rng_seed(&rng, seed);
  memset(d, 0, sizeof *d);
  REQUIRE_OK(nco_array_alloc(&d->X, NCO_DTYPE_F32, 2, sx, "X.npy"));
  REQUIRE_OK(nco_array_alloc(&d->Y, NCO_DTYPE_I32, 1, sy, "labels.npy"));
  nco_rng_normal_fill(&rng, d->X.data, n * in, 0, 1);
  for (size_t i = 0; i < n; i++) ((int32_t *)d->Y.data)[i] = (int32_t)nco_rng_below(&rng, classes);
}

/* Two models give bitwise the same init, loss and gradient on (d, loss,
 * precision), over two batches (the second a strict subset, out of order). */
static void check_same(const nco_nn_model *a, const nco_nn_model *b, const data *d, nco_nn_loss loss,
                       nco_nn_precision prec) {
  REQUIRE(nco_nn_dim(a) == nco_nn_dim(b));
  const size_t dim = nco_nn_dim(a);
  nco_nn_opts o = nco_nn_defaults(loss);
  o.precision = prec;
  o.max_batch = 16; /* several chunks and, with 2 threads, several ranges */
  nco_problem *pa = NULL, *pb = NULL;
  REQUIRE_OK(nco_nn_problem_create(a, &d->X, &d->Y, &o, &pa));
  REQUIRE_OK(nco_nn_problem_create(b, &d->X, &d->Y, &o, &pb));
  float *ta = calloc(dim, sizeof *ta), *tb = calloc(dim, sizeof *tb);
  float *ga = calloc(dim, sizeof *ga), *gb = calloc(dim, sizeof *gb);
  REQUIRE(ta && tb && ga && gb);
  nco_rng r1, r2;
  nco_rng_seed(&r1, 7), nco_rng_seed(&r2, 7);
  CHECK_OK(nco_problem_init(pa, &r1, ta));
  CHECK_OK(nco_problem_init(pb, &r2, tb));
  CHECK(!memcmp(ta, tb, dim * sizeof *ta));
  static const size_t idx[5] = {9, 3, 17, 0, 30};
  for (int k = 0; k < 2; k++) {
    const size_t *ix = k ? idx : NULL;
    size_t nb = k ? 5 : d->X.shape[0];
    double la = 0, lb = 0;
    CHECK_OK(nco_problem_eval(pa, ta, ix, nb, &la, ga));
    CHECK_OK(nco_problem_eval(pb, tb, ix, nb, &lb, gb));
    CHECKF(la == lb, "loss %.17g vs %.17g", la, lb);
    CHECK(!memcmp(ga, gb, dim * sizeof *ga));
  }
  free(ta), free(tb), free(ga), free(gb);
  nco_problem_free(pa);
  nco_problem_free(pb);
}

/* nco_nn_summary of m as a malloc'd string (NULL on failure). */
static char *summary_text(const nco_nn_model *m) {
  FILE *fp = tmpfile();
  if (!fp) return NULL;
  char *buf = NULL;
  long len = nco_nn_summary(m, fp) ? -1 : ftell(fp);
  if (len > 0 && (buf = calloc((size_t)len + 1, 1))) {
    rewind(fp);
    if (fread(buf, 1, (size_t)len, fp) != (size_t)len) free(buf), buf = NULL;
  }
  fclose(fp);
  return buf;
}

static const char *mlp_text =
    "[network]\n"
    "input  = input(20)\n"
    "h1     = linear(input, out_features=16)\n"
    "a1     = relu(h1)\n"
    "h2     = linear(a1, 12)\n"
    "a2     = relu(h2)\n"
    "fc     = linear(a2, out_features=4, bias=true)\n"
    "output = fc\n";

/* [network] = nco_nn_mlp(20, {16, 12}, 4, relu): same slices and bits. */
static void test_mlp_equal(void) {
  nco_nn_model *a = NULL, *b = NULL;
  size_t w[2] = {16, 12}, ds[1] = {20};
  nco_act relu = nco_act_make(NCO_ACT_RELU);
  REQUIRE_OK(nco_nn_mlp(20, w, 2, 4, &relu, &a));
  REQUIRE_OK(from_text(mlp_text, 1, ds, &b));
  CHECK(nco_nn_num_params(b) == 6);
  nco_nn_param p;
  CHECK_OK(nco_nn_param_find(b, "h2.weight", &p));
  CHECK(p.offset == 20 * 16 + 16 && p.ndim == 2 && p.shape[0] == 12 && p.shape[1] == 16);
  data d;
  make_data(32, 20, 4, 11, &d);
  check_same(a, b, &d, NCO_NN_LOSS_CROSS_ENTROPY, NCO_NN_F32);
  check_same(a, b, &d, NCO_NN_LOSS_LEAST_SQUARES, NCO_NN_F32);
  check_same(a, b, &d, NCO_NN_LOSS_CROSS_ENTROPY, NCO_NN_F64);
  nco_array_free(&d.X), nco_array_free(&d.Y);
  nco_nn_model_free(a);
  nco_nn_model_free(b);
}

/* [network] = nco_nn_lenet5(1, 12, 12, 3) with lines out of order. */
static void test_lenet_equal(void) {
  static const char *text =
      "[network]\n"
      "output = fc3\n"
      "fc3   = linear(r4, out_features=3)\n"
      "input = input(1, 12, 12)\n"
      "c1    = conv2d(input, out_channels=6, kernel_size=5, padding=2)\n"
      "r1    = relu(c1)\n"
      "p1    = maxpool2d(r1, kernel_size=2)\n"
      "c2    = conv2d(p1, 16, 5)\n"
      "r2    = relu(c2)\n"
      "p2    = maxpool2d(r2, 2, 2)\n"
      "f     = flatten(p2)\n"
      "fc1   = linear(f, out_features=120)\n"
      "r3    = relu(fc1)\n"
      "fc2   = linear(r3, out_features=84)\n"
      "r4    = relu(fc2)\n";
  nco_nn_model *a = NULL, *b = NULL;
  size_t ds[2] = {12, 12};
  REQUIRE_OK(nco_nn_lenet5(1, 12, 12, 3, &a));
  REQUIRE_OK(from_text(text, 2, ds, &b));
  /* executed in dependency order, parameters in that order (fc3 last) */
  nco_nn_param p;
  CHECK_OK(nco_nn_param_get(b, 9, &p));
  CHECK(!strcmp(p.name, "fc3.bias"));
  data d;
  make_data(32, 144, 3, 5, &d);
  check_same(a, b, &d, NCO_NN_LOSS_LEAST_SQUARES, NCO_NN_F32);
  nco_array_free(&d.X), nco_array_free(&d.Y);
  nco_nn_model_free(a);
  nco_nn_model_free(b);
}

/* One error: the status and a message naming FILE:LINE and the needle. */
#define SPEC_ERR(text, status, where, needle)                                      \
  do {                                                                             \
    nco_nn_model *m_ = NULL;                                                       \
    size_t ds_[1] = {20};                                                          \
    int st_ = from_text(text, 1, ds_, &m_);                                        \
    CHECKF(st_ == (status), "status %d, want %d: %s", st_, status, nco_last_error()); \
    CHECKF(strstr(nco_last_error(), where) && strstr(nco_last_error(), needle),    \
           "message \"%s\" lacks \"%s\" / \"%s\"", nco_last_error(), where, needle); \
    CHECK(m_ == NULL);                                                             \
  } while (0)

static void test_errors(void) {
  SPEC_ERR("[network]\ninput = input(20)\nfc = lineer(input, out_features=3)\noutput = fc\n", NCO_ERR_INVALID,
           "net.ini:3:", "did you mean \"linear\"");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, out_featurs=3)\noutput = fc\n", NCO_ERR_INVALID,
           "net.ini:3:", "unknown key \"out_featurs\" for this op (did you mean \"out_features\"");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(imput, out_features=3)\noutput = fc\n", NCO_ERR_RANGE,
           "net.ini:3:", "unknown node \"imput\" (did you mean \"input\"");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, out_features=3)\nx = relu(input)\noutput = fc\n",
           NCO_ERR_INVALID, "net.ini:4:", "node \"x\" is not used by the output");
  SPEC_ERR("[network]\ninput = input(20)\na = relu(b)\nb = relu(a)\nfc = linear(b, out_features=3)\noutput = fc\n",
           NCO_ERR_INVALID, "net.ini:", "cycle: ");
  SPEC_ERR("[network]\ninput = input(20)\nc = conv2d(input, out_channels=2, kernel_size=3)\noutput = c\n",
           NCO_ERR_SHAPE, "net.ini:3:", "of shape (20,): nn model: conv2d layer 0 (c): needs a (channels, height, width) input");
  SPEC_ERR("[network]\ninput = input(1, 4, 6)\nfc = linear(input, out_features=3)\noutput = fc\n", NCO_ERR_SHAPE,
           "net.ini:2:", "declared (1, 4, 6) but the data's samples have shape (20,)");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, out_features=0)\noutput = fc\n", NCO_ERR_RANGE,
           "net.ini:3:", "out_features = 0: expected a whole number >= 1");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, out_features=3)\n", NCO_ERR_INVALID, "net.ini:3:",
           "no output");
  SPEC_ERR("[network]\ninput = input(20)\nd = dropout(input, p=1)\nfc = linear(d, 3)\noutput = fc\n", NCO_ERR_RANGE,
           "net.ini:3:", "p = 1");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, out_features=3, bias=maybe)\noutput = fc\n",
           NCO_ERR_INVALID, "net.ini:3:", "bias = maybe: expected true or false");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, out_features=3\noutput = fc\n", NCO_ERR_INVALID,
           "net.ini:3:", "missing ')'");
  SPEC_ERR("[network]\ninput = input(1, 4, 5)\np = maxpool2d(input, kernel_size=8)\nf = flatten(p)\n"
           "fc = linear(f, 2)\noutput = fc\n",
           NCO_ERR_SHAPE, "net.ini:3:", "of shape (1, 4, 5)");
  SPEC_ERR("[network]\nfc = linear(fc, 3)\noutput = fc\n", NCO_ERR_INVALID, "net.ini:2:", "cycle: fc -> fc");
  SPEC_ERR("[run]\nseed = 1\n", NCO_ERR_INVALID, "net.ini", "no [network] section");
  /* joins */
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, 3)\nr = add(fc)\noutput = r\n", NCO_ERR_INVALID,
           "net.ini:4:", "add needs two or more input nodes");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, 3)\nr = add(fc, input)\noutput = r\n", NCO_ERR_SHAPE,
           "net.ini:4:", "add on \"fc\" of shape (3,) and \"input\" of shape (20,): ");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, 3)\nr = concat(fc, fc, dim=2)\noutput = r\n",
           NCO_ERR_RANGE, "net.ini:4:", "dim = 2: concat joins the channels");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, 3)\nr = concat(fc, fc, 1)\noutput = r\n",
           NCO_ERR_INVALID, "net.ini:4:", "concat takes its keys by name");
  SPEC_ERR("[network]\ninput = input(20)\nfc = linear(input, 3)\nr = add(fc, nope)\noutput = r\n", NCO_ERR_RANGE,
           "net.ini:4:", "unknown node \"nope\"");
  SPEC_ERR("[network]\ninput = input(3)\na = relu(b)\nb = add(input, a)\noutput = b\n", NCO_ERR_INVALID,
           "net.ini:", "cycle: ");
  SPEC_ERR("[network]\ninput = input(3)\nfc = linear(input, 3)\nx = relu(fc)\nr = add(fc, fc)\noutput = r\n",
           NCO_ERR_INVALID, "net.ini:4:", "node \"x\" is not used by the output");
}

/* A residual block and a channel concatenation in the spec syntax equal the
 * same graph built through the API: the same init, loss and gradient bits. */
static void test_join_syntax(void) {
  static const char *text = "[network]\n"
                            "input = input(2, 4, 4)\n"
                            "c1 = conv2d(input, out_channels=2, kernel_size=3, padding=1)\n"
                            "r1 = relu(c1)\n"
                            "res = add(r1, input)\n"
                            "c2 = conv2d(res, 3, 3, padding=1)\n"
                            "cat = concat(c2, res, input, dim=1)\n"
                            "f = flatten(cat)\n"
                            "output = linear(f, out_features=3)\n";
  size_t ds[3] = {2, 4, 4};
  nco_nn_model *a = NULL, *b = NULL;
  REQUIRE_OK(from_text(text, 3, ds, &a));
  REQUIRE_OK(nco_nn_graph_create(&b));
  REQUIRE_OK(nco_nn_add_input(b, "input", NCO_NN_IN_DATA, 3, ds));
  nco_nn_node_spec c1 = {.kind = NCO_NN_CONV2D, .out = 2, .kh = 3, .kw = 3, .stride = 1, .pad = 1, .bias = 1};
  nco_nn_node_spec c2 = c1;
  c2.out = 3;
  nco_nn_node_spec relu = {.kind = NCO_NN_ACT, .act = nco_act_make(NCO_ACT_RELU)};
  nco_nn_node_spec add = {.kind = NCO_NN_ADD}, cat = {.kind = NCO_NN_CONCAT}, flat = {.kind = NCO_NN_FLATTEN};
  nco_nn_node_spec head = {.kind = NCO_NN_DENSE, .out = 3, .bias = 1};
  CHECK_OK(nco_nn_add_node(b, "c1", &c1, 1, (const char *[]){"input"}));
  CHECK_OK(nco_nn_add_node(b, "r1", &relu, 1, (const char *[]){"c1"}));
  CHECK_OK(nco_nn_add_node(b, "res", &add, 2, (const char *[]){"r1", "input"}));
  CHECK_OK(nco_nn_add_node(b, "c2", &c2, 1, (const char *[]){"res"}));
  CHECK_OK(nco_nn_add_node(b, "cat", &cat, 3, (const char *[]){"c2", "res", "input"}));
  CHECK_OK(nco_nn_add_node(b, "f", &flat, 1, (const char *[]){"cat"}));
  CHECK_OK(nco_nn_add_node(b, "output", &head, 1, (const char *[]){"f"}));
  CHECK(nco_nn_out_size(a) == 3 && nco_nn_dim(a) == nco_nn_dim(b));
  data d;
  make_data(40, 32, 3, 11, &d);
  check_same(a, b, &d, NCO_NN_LOSS_CROSS_ENTROPY, NCO_NN_F32);
  check_same(a, b, &d, NCO_NN_LOSS_LEAST_SQUARES, NCO_NN_F64);
  nco_array_free(&d.X), nco_array_free(&d.Y);
  nco_nn_model_free(a), nco_nn_model_free(b);
}

/* A decoder in the spec syntax: every key of the up-sampling ops parsed,
 * the shapes as torch's rules give them, and their errors located. */
static void test_decoder_syntax(void) {
  static const char *text = "[network]\n"
                            "input = input(4)\n"
                            "fc = linear(input, out_features=32)\n"
                            "u = unflatten(fc, channels=8, height=2, width=2)\n"
                            "t1 = conv_transpose2d(u, out_channels=4, kernel_size=3, stride=2, padding=1, output_padding=1)\n"
                            "up = upsample(t1, scale_factor=2, mode=bilinear)\n"
                            "n = upsample(up, 3)\n"
                            "c = conv2d(n, out_channels=2, kernel_size=3, padding=1)\n"
                            "g = global_avgpool(c)\n"
                            "output = linear(g, 3)\n";
  size_t ds[1] = {4};
  nco_nn_model *m = NULL;
  REQUIRE_OK(from_text(text, 1, ds, &m));
  CHECK(m->layers[2].oc == 4 && m->layers[2].oh == 4 && m->layers[2].ow == 4); /* (2−1)·2 − 2 + 3 + 1 */
  CHECK(m->layers[3].oh == 8 && m->layers[3].umode == 1 && m->layers[4].oh == 24 && m->layers[4].umode == 0);
  CHECK(m->layers[6].oc == 2 && m->layers[6].oh == 1 && nco_nn_out_size(m) == 3);
  CHECK(nco_nn_dim(m) == 4 * 32 + 32 + 8 * 4 * 9 + 4 + 4 * 2 * 9 + 2 + 2 * 3 + 3);
  nco_nn_model_free(m);
  SPEC_ERR("[network]\ninput = input(5, 2, 2)\nu = upsample(input, scale_factor=2, mode=bicubic)\noutput = u\n",
           NCO_ERR_INVALID, "net.ini:3:", "mode = bicubic: expected nearest or bilinear");
  SPEC_ERR("[network]\ninput = input(20)\nu = unflatten(input, channels=5, height=2, width=3)\noutput = u\n",
           NCO_ERR_SHAPE, "net.ini:3:", "(5, 2, 3) holds 30 values, the input 20");
  SPEC_ERR("[network]\ninput = input(5, 2, 2)\nt = conv_transpose2d(input, 2, 3, stride=2, output_padding=2)\noutput = t\n",
           NCO_ERR_SHAPE, "net.ini:3:", "output_padding 2 must be smaller than the stride 2");
}

/* batchnorm in the spec: keys by name and by position equal the API's
 * node (the same init, loss and gradient bits, training mode), the
 * summary counts its state, and its errors are located. */
static void test_batchnorm_syntax(void) {
  static const char *text = "[network]\n"
                            "input = input(2, 4, 4)\n"
                            "c1 = conv2d(input, out_channels=3, kernel_size=3, padding=1, bias=false)\n"
                            "bn1 = batchnorm(c1)\n"
                            "r1 = relu(bn1)\n"
                            "f = flatten(r1)\n"
                            "fc = linear(f, out_features=8)\n"
                            "bn2 = batchnorm(fc, 0.001, 0.2, affine=false)\n"
                            "t = tanh(bn2)\n"
                            "output = linear(t, out_features=3)\n";
  size_t ds[3] = {2, 4, 4};
  nco_nn_model *a = NULL, *b = NULL;
  REQUIRE_OK(from_text(text, 3, ds, &a));
  CHECK(a->layers[1].kind == NCO_NN_BATCHNORM && a->layers[1].eps == 1e-5 && a->layers[1].momentum == 0.1 &&
        a->layers[1].nw == 3 && a->layers[1].nb == 3);
  CHECK(a->layers[5].eps == 1e-3 && a->layers[5].momentum == 0.2 && a->layers[5].nw == 0 && a->layers[5].in_flat);
  CHECK(nco_nn_state_dim(a) == 2 * 3 + 2 * 8 && nco_nn_dim(a) == 54 + 6 + 48 * 8 + 8 + 27);
  REQUIRE_OK(nco_nn_graph_create(&b));
  REQUIRE_OK(nco_nn_add_input(b, "input", NCO_NN_IN_DATA, 3, ds));
  nco_nn_node_spec c1 = {.kind = NCO_NN_CONV2D, .out = 3, .kh = 3, .kw = 3, .stride = 1, .pad = 1};
  nco_nn_node_spec bn1 = {.kind = NCO_NN_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .bias = 1};
  nco_nn_node_spec bn2 = {.kind = NCO_NN_BATCHNORM, .eps = 1e-3, .momentum = 0.2, .bias = 0};
  nco_nn_node_spec relu = {.kind = NCO_NN_ACT, .act = nco_act_make(NCO_ACT_RELU)};
  nco_nn_node_spec th = {.kind = NCO_NN_ACT, .act = nco_act_make(NCO_ACT_TANH)};
  nco_nn_node_spec flat = {.kind = NCO_NN_FLATTEN}, fc = {.kind = NCO_NN_DENSE, .out = 8, .bias = 1};
  nco_nn_node_spec head = {.kind = NCO_NN_DENSE, .out = 3, .bias = 1};
  CHECK_OK(nco_nn_add_node(b, "c1", &c1, 1, (const char *[]){"input"}));
  CHECK_OK(nco_nn_add_node(b, "bn1", &bn1, 1, (const char *[]){"c1"}));
  CHECK_OK(nco_nn_add_node(b, "r1", &relu, 1, (const char *[]){"bn1"}));
  CHECK_OK(nco_nn_add_node(b, "f", &flat, 1, (const char *[]){"r1"}));
  CHECK_OK(nco_nn_add_node(b, "fc", &fc, 1, (const char *[]){"f"}));
  CHECK_OK(nco_nn_add_node(b, "bn2", &bn2, 1, (const char *[]){"fc"}));
  CHECK_OK(nco_nn_add_node(b, "t", &th, 1, (const char *[]){"bn2"}));
  CHECK_OK(nco_nn_add_node(b, "output", &head, 1, (const char *[]){"t"}));
  data d;
  make_data(40, 32, 3, 12, &d);
  check_same(a, b, &d, NCO_NN_LOSS_CROSS_ENTROPY, NCO_NN_F32);
  check_same(a, b, &d, NCO_NN_LOSS_LEAST_SQUARES, NCO_NN_F64);
  nco_array_free(&d.X), nco_array_free(&d.Y);
  char *buf = summary_text(a);
  REQUIRE(buf);
  CHECKF(strstr(buf, "batchnorm") && strstr(buf, "Non-trainable state: 22") && strstr(buf, "Total params: 479"), "%s",
         buf);
  free(buf);
  nco_nn_model_free(a), nco_nn_model_free(b);
  SPEC_ERR("[network]\ninput = input(20)\nb = batchnorm(input, eps=0)\noutput = b\n", NCO_ERR_RANGE, "net.ini:3:",
           "eps = 0: expected a number > 0");
  SPEC_ERR("[network]\ninput = input(20)\nb = batchnorm(input, momentum=1.5)\noutput = b\n", NCO_ERR_RANGE,
           "net.ini:3:", "momentum = 1.5: expected a number in [0, 1]");
  SPEC_ERR("[network]\ninput = input(20)\nb = batchnorm(input, affine=maybe)\noutput = b\n", NCO_ERR_INVALID,
           "net.ini:3:", "affine = maybe: expected true or false");
  SPEC_ERR("[network]\ninput = input(20)\nb = batchnorm(input, momentm=0.2)\noutput = b\n", NCO_ERR_INVALID,
           "net.ini:3:", "did you mean \"momentum\"");
}

/* The graph API: named input and nodes, an explicit output, a level (t1)
 * feeding two nodes of which one (fc2b) does not reach the output: it is
 * not evaluated and its slice's gradient is 0 (forks whose branches join
 * again, through add and concat: tests/test_nn_grad.c). The
 * derivative checks of check.h on the float64 graph: gradient, JVP/VJP,
 * exact HVP. */
static void test_graph_api(void) {
  nco_nn_model *m = NULL;
  size_t in = 6;
  REQUIRE_OK(nco_nn_graph_create(&m));
  REQUIRE_OK(nco_nn_add_input(m, "x", NCO_NN_IN_DATA, 1, &in));
  nco_nn_node_spec lin = {.kind = NCO_NN_DENSE, .out = 5, .bias = 1};
  nco_nn_node_spec th = {.kind = NCO_NN_ACT, .act = nco_act_make(NCO_ACT_TANH)};
  nco_nn_node_spec sg = {.kind = NCO_NN_ACT, .act = nco_act_make(NCO_ACT_SIGMOID)};
  nco_nn_node_spec head = {.kind = NCO_NN_DENSE, .out = 3, .bias = 1};
  const char *x = "x", *f1 = "fc1", *t1 = "t1", *a = "fc2a";
  CHECK_OK(nco_nn_add_node(m, "fc1", &lin, 1, &x));
  CHECK_OK(nco_nn_add_node(m, "t1", &th, 1, &f1));
  CHECK_OK(nco_nn_add_node(m, "fc2a", &head, 1, &t1));
  CHECK_OK(nco_nn_add_node(m, "fc2b", &head, 1, &t1));
  CHECK_OK(nco_nn_add_node(m, "s", &sg, 1, &a));
  CHECK_ERR(nco_nn_add_node(m, "fc1", &lin, 1, &x), NCO_ERR_INVALID, "already used");
  CHECK_ERR(nco_nn_add_node(m, "z", &lin, 1, &(const char *){"nope"}), NCO_ERR_RANGE, "\"nope\"");
  CHECK_OK(nco_nn_set_output(m, "s"));
  CHECK(nco_nn_out_size(m) == 3 && nco_nn_dim(m) == 35 + 18 + 18 && nco_nn_state_dim(m) == 0);
  data d;
  make_data(16, 6, 3, 3, &d);
  nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_LEAST_SQUARES);
  o.precision = NCO_NN_F64;
  nco_problem *pb = NULL;
  REQUIRE_OK(nco_nn_problem_create(m, &d.X, &d.Y, &o, &pb));
  float th0[71], g[71];
  nco_rng r;
  nco_rng_seed(&r, 2);
  CHECK_OK(nco_problem_init(pb, &r, th0));
  double loss;
  CHECK_OK(nco_problem_eval(pb, th0, NULL, 16, &loss, g));
  int zero = 1;
  for (size_t j = 35 + 18; j < 71; j++) zero &= g[j] == 0;
  CHECK(zero); /* fc2b: no path to the loss */
  /* the derivative checks of check.h on the f64 graph (gradient, JVP/VJP, HVP) */
  static const size_t mb[3] = {1, 4, 7};
  nco_test_check_derivatives(pb, th0, mb, 3);
  nco_problem_free(pb);
  /* a second data input is declared but cannot be fed yet */
  nco_nn_model *m2 = NULL;
  REQUIRE_OK(nco_nn_graph_create(&m2));
  REQUIRE_OK(nco_nn_add_input(m2, "x", NCO_NN_IN_DATA, 1, &in));
  REQUIRE_OK(nco_nn_add_input(m2, "z", NCO_NN_IN_NOISE, 1, &in));
  CHECK_OK(nco_nn_add_node(m2, "fc", &head, 1, &x));
  CHECK_ERR(nco_nn_problem_create(m2, &d.X, &d.Y, &o, &pb), NCO_ERR_INVALID, "input \"z\" (noise)");
  nco_nn_model_free(m2);
  /* automatic names skip one the caller took */
  REQUIRE_OK(nco_nn_model_create(1, &in, &m2));
  CHECK_OK(nco_nn_add_node(m2, "fc1", &head, 1, &(const char *){"input"}));
  CHECK_OK(nco_nn_add_dense(m2, 2, 1));
  nco_nn_param pp;
  CHECK_OK(nco_nn_param_find(m2, "fc2.weight", &pp));
  CHECK(pp.shape[1] == 3);
  nco_nn_model_free(m2);
  nco_array_free(&d.X), nco_array_free(&d.Y);
  nco_nn_model_free(m);
}

static void test_summary(void) {
  nco_nn_model *m = NULL;
  size_t ds[1] = {20};
  REQUIRE_OK(from_text(mlp_text, 1, ds, &m));
  char *buf = summary_text(m);
  REQUIRE(buf);
  CHECKF(strstr(buf, "h2") && strstr(buf, "linear") && strstr(buf, "[-1, 12]") && strstr(buf, "204"), "%s", buf);
  CHECKF(strstr(buf, "Total params: 592") && strstr(buf, "(output)"), "%s", buf);
  free(buf);
  nco_nn_model_free(m);
}

int main(void) {
  RUN(test_mlp_equal);
  RUN(test_lenet_equal);
  RUN(test_errors);
  RUN(test_join_syntax);
  RUN(test_decoder_syntax);
  RUN(test_graph_api);
  RUN(test_summary);
  RUN(test_batchnorm_syntax);
  return nco_test_summary();
}
