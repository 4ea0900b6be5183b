/* The ResNet, VGG and U-Net builders (nn.h, src/nn/builders.c): structure
 * (parameter counts and slice names against the torch modules of
 * scripts/make_builder_fixtures.py), errors, float64 derivative checks, and
 * PyTorch reference values (tests/fixtures/builders/: forward output, loss,
 * gradient, HVP, 20 steps of SGD with momentum and the running statistics
 * after them).
 *
 * Derivative checks. Small instances in NCO_NN_F64 (the loss exact to double
 * rounding: check.h's default tolerances), batch norm in training mode
 * (every derivative includes the coupling through the batch statistics),
 * at step 0 with auto_step off (nothing committed): gradient, JVP/VJP (least
 * squares), HVP; SUM and MEAN; the full batch and a minibatch with a
 * repeated index. Smooth activations (tanh, softplus) on the ResNets, which
 * have no other kink; the ReLU ResNet, and VGG and U-Net (max pooling: a
 * kink where the two largest entries of a window tie), draw θ until
 * nco_nn_kink_margin ≥ 5e-3 on both batches.
 *
 * Step. The ResNet without batch norm uses nco_test_check_derivatives (the
 * default h = 1e-4). With batch norm, h = 1e-6: a conv followed by batch
 * norm makes the loss invariant to the scale of each of its filters, so the
 * curvature grows as 1/‖w‖² and the third derivatives, which the central
 * difference of the HVP check truncates (O(step²), step = 0.1·√h), as
 * 1/‖w‖³ (as batchnorm without affine in tests/test_nn_grad.c). Measured on
 * U-Net without skips (a 2-filter conv before its BN), HVP coordinate 57:
 * 533.711 analytic against 531.871 (h = 1e-4), 533.560 (1e-5): the gap
 * shrinks 10× per 10× in h, i.e. as step², and h = 1e-6 passes. With
 * h = 1e-6 θ moves by ≤ h·max(1, ‖θ‖∞) per unit direction in the gradient
 * and JVP checks and 1e-4 in the HVP check: pre-activations by ≲ 1e-3 <
 * the margin, one smooth piece. */
#include <float.h>
#include <stdlib.h>

#include "ncopt/nn.h"
#include "ncopt/optim.h"
#include "testlib.h"

/* ---- structure --------------------------------------------------------------- */

/* The COUNTS list of the fixture script, in its order. */
static int count_model(size_t i, nco_nn_model **m) {
  nco_nn_resnet_opts r = nco_nn_resnet_defaults(3, 32, 32, 10);
  nco_nn_vgg_opts v = nco_nn_vgg_defaults(3, 32, 32, 10);
  nco_nn_unet_opts u = nco_nn_unet_defaults(3, 32, 32);
  switch (i) {
    case 0: return nco_nn_resnet(&r, m);
    case 1: r.skips = NCO_NN_RESNET_SKIPS_FIRST; return nco_nn_resnet(&r, m);
    case 2: r.skips = NCO_NN_RESNET_SKIPS_FIRST_TWO; return nco_nn_resnet(&r, m);
    case 3: r.skips = NCO_NN_RESNET_SKIPS_NONE; return nco_nn_resnet(&r, m);
    case 4: r.bn = 0; return nco_nn_resnet(&r, m);
    case 5: {
      static const size_t ch[4] = {64, 128, 256, 512}, bl[4] = {3, 4, 6, 3};
      r.classes = 100, r.nstages = 4;
      memcpy(r.channels, ch, sizeof ch), memcpy(r.blocks, bl, sizeof bl);
      return nco_nn_resnet(&r, m);
    }
    case 6: return nco_nn_vgg(&v, m);
    case 7: v.bn = NCO_NN_VGG_BN_FIRST; return nco_nn_vgg(&v, m);
    case 8: v.bn = NCO_NN_VGG_BN_NONE; return nco_nn_vgg(&v, m);
    case 9: {
      static const size_t ch[5] = {64, 128, 256, 512, 512}, cv[5] = {2, 2, 3, 3, 3};
      v.nblocks = 5;
      memcpy(v.channels, ch, sizeof ch), memcpy(v.convs, cv, sizeof cv);
      return nco_nn_vgg(&v, m);
    }
    case 10: return nco_nn_unet(&u, m);
    case 11: u.skips = 1; return nco_nn_unet(&u, m);
    case 12: u.skips = 0, u.bn = 0; return nco_nn_unet(&u, m);
    case 13: {
      static const size_t ch[5] = {64, 128, 256, 512, 1024};
      u.depth = 4;
      memcpy(u.channels, ch, sizeof ch);
      return nco_nn_unet(&u, m);
    }
  }
  return NCO_ERR_RANGE;
}
#define N_COUNTS 14

static void test_counts(void) {
  nco_array c;
  REQUIRE_OK(nco_npy_read(nco_fixture("builders/bld_counts.npy"), &c));
  REQUIRE(c.dtype == NCO_DTYPE_I64 && c.size == N_COUNTS);
  for (size_t i = 0; i < N_COUNTS; i++) {
    nco_nn_model *m = NULL;
    CHECK_OK(count_model(i, &m));
    if (!m) continue;
    CHECKF(nco_nn_dim(m) == (size_t)((int64_t *)c.data)[i], "config %zu: %zu parameters, torch %lld", i,
           nco_nn_dim(m), (long long)((int64_t *)c.data)[i]);
    nco_nn_model_free(m);
  }
  /* ResNet-20's layout: 19 convs + fc (+ 2 projections), 6·3 + 2 = 20 weight layers on the main path */
  nco_nn_model *m = NULL;
  nco_nn_resnet_opts r = nco_nn_resnet_defaults(3, 32, 32, 10);
  REQUIRE_OK(nco_nn_resnet(&r, &m));
  nco_nn_param p;
  size_t convs = 0;
  for (size_t i = 0; i < nco_nn_num_params(m); i++)
    if (!nco_nn_param_get(m, i, &p) && p.ndim == 4) convs++;
  CHECK(convs == 19 + 2);
  CHECK(nco_nn_out_size(m) == 10 && nco_nn_in_size(m) == 3 * 32 * 32);
  CHECK(nco_nn_state_dim(m) > 0);
  nco_nn_model_free(m);
  nco_array_free(&c);
}

/* The fixture cases. */
typedef struct bcase {
  const char *name;
  int kind;          /* 0 resnet, 1 vgg, 2 unet */
  int variant;       /* resnet skips, vgg bn */
  size_t C, H, W;
  nco_nn_loss loss;
} bcase;

static const bcase cases[] = {
    {"resnet8_all", 0, NCO_NN_RESNET_SKIPS_ALL, 2, 12, 12, NCO_NN_LOSS_CROSS_ENTROPY},
    {"resnet8_none", 0, NCO_NN_RESNET_SKIPS_NONE, 2, 12, 12, NCO_NN_LOSS_CROSS_ENTROPY},
    {"vgg_all", 1, NCO_NN_VGG_BN_ALL, 2, 12, 12, NCO_NN_LOSS_CROSS_ENTROPY},
    {"vgg_first", 1, NCO_NN_VGG_BN_FIRST, 2, 12, 12, NCO_NN_LOSS_CROSS_ENTROPY},
    {"vgg_none", 1, NCO_NN_VGG_BN_NONE, 2, 12, 12, NCO_NN_LOSS_CROSS_ENTROPY},
    {"unet2", 2, 0, 1, 8, 8, NCO_NN_LOSS_LEAST_SQUARES},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static int build_case(const bcase *c, nco_nn_model **m) {
  if (c->kind == 0) {
    nco_nn_resnet_opts o = nco_nn_resnet_defaults(c->C, c->H, c->W, 5);
    static const size_t ch[3] = {4, 8, 16}, bl[3] = {1, 1, 1};
    memcpy(o.channels, ch, sizeof ch), memcpy(o.blocks, bl, sizeof bl);
    o.skips = (nco_nn_resnet_skips)c->variant;
    return nco_nn_resnet(&o, m);
  }
  if (c->kind == 1) {
    nco_nn_vgg_opts o = nco_nn_vgg_defaults(c->C, c->H, c->W, 5);
    static const size_t ch[3] = {4, 8, 8}, cv[3] = {1, 2, 2};
    memcpy(o.channels, ch, sizeof ch), memcpy(o.convs, cv, sizeof cv);
    o.bn = (nco_nn_vgg_bn)c->variant;
    return nco_nn_vgg(&o, m);
  }
  nco_nn_unet_opts o = nco_nn_unet_defaults(c->C, c->H, c->W);
  static const size_t ch[3] = {4, 8, 16};
  memcpy(o.channels, ch, sizeof ch);
  return nco_nn_unet(&o, m);
}

/* Slice names and shapes equal torch's state_dict keys and shapes, in
 * parameters() order (bld_<case>_names.txt: "key AxBxC" per line). */
static void test_names(void) {
  for (size_t k = 0; k < N_CASES; k++) {
    nco_nn_model *m = NULL;
    REQUIRE_OK(build_case(&cases[k], &m));
    char rel[128];
    snprintf(rel, sizeof rel, "builders/bld_%s_names.txt", cases[k].name);
    char *txt = nco_test_slurp(nco_fixture(rel), NULL);
    REQUIRE(txt);
    size_t i = 0;
    char *save = NULL;
    for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
      nco_nn_param p;
      if (nco_nn_param_get(m, i, &p)) {
        CHECKF(0, "%s: torch has a parameter %zu (%s), ncopt has %zu", cases[k].name, i, line, nco_nn_num_params(m));
        break;
      }
      char shape[64] = "";
      for (size_t d = 0; d < p.ndim; d++)
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%zu", d ? "x" : "", p.shape[d]);
      char ours[128];
      snprintf(ours, sizeof ours, "%s %s", p.name, shape);
      CHECKF(!strcmp(ours, line), "%s: parameter %zu: ncopt \"%s\", torch \"%s\"", cases[k].name, i, ours, line);
    }
    CHECKF(i == nco_nn_num_params(m), "%s: torch %zu tensors, ncopt %zu", cases[k].name, i, nco_nn_num_params(m));
    free(txt);
    nco_nn_model_free(m);
  }
}

/* Which nodes exist for each skips / bn variant (the interpretation of
 * nn.h, checked through the slice names and the node count). */
static int has_param(const nco_nn_model *m, const char *name) {
  nco_nn_param p;
  nco_clear_error();
  return nco_nn_param_find(m, name, &p) == NCO_OK;
}

static void test_variants(void) {
  nco_nn_model *m = NULL;
  nco_nn_resnet_opts r = nco_nn_resnet_defaults(1, 8, 8, 3);
  static const size_t ch[3] = {4, 8, 8}, bl[3] = {3, 3, 3};
  memcpy(r.channels, ch, sizeof ch), memcpy(r.blocks, bl, sizeof bl);
  /* FIRST: every stage keeps only block 1's skip (stage 1: identity, 4 → 4;
   * stage 2: projection 4 → 8 stride 2; stage 3: projection 8 → 8 stride 2) */
  r.skips = NCO_NN_RESNET_SKIPS_FIRST;
  REQUIRE_OK(nco_nn_resnet(&r, &m));
  CHECK(!has_param(m, "s1b1sc.weight") && has_param(m, "s2b1sc.weight") && has_param(m, "s3b1scbn.weight"));
  CHECK(!has_param(m, "s2b2sc.weight"));
  size_t nl_first = nco_nn_num_layers(m);
  nco_nn_model_free(m);
  /* node counts: a block with its skip has an add (and, where the shape
   * changes, sc + scbn) more than the plain block */
  size_t nl[4];
  for (int s = 0; s < 4; s++) {
    r.skips = (nco_nn_resnet_skips)s;
    REQUIRE_OK(nco_nn_resnet(&r, &m));
    nl[s] = nco_nn_num_layers(m);
    nco_nn_model_free(m);
  }
  /* none: 3 (stem) + 9 blocks × 6 + pool + fc; each kept skip adds 1, a projection 2 more */
  CHECK(nl[NCO_NN_RESNET_SKIPS_NONE] == 3 + 9 * 6 + 2);
  CHECK(nl[NCO_NN_RESNET_SKIPS_FIRST] == nl[NCO_NN_RESNET_SKIPS_NONE] + 3 + 2 * 2);
  CHECK(nl_first == nl[NCO_NN_RESNET_SKIPS_FIRST]);
  CHECK(nl[NCO_NN_RESNET_SKIPS_FIRST_TWO] == nl[NCO_NN_RESNET_SKIPS_FIRST] + 3);
  CHECK(nl[NCO_NN_RESNET_SKIPS_ALL] == nl[NCO_NN_RESNET_SKIPS_FIRST] + 6);
  /* VGG: first = a BN after conv 1 of every block only */
  nco_nn_vgg_opts v = nco_nn_vgg_defaults(1, 8, 8, 3);
  v.bn = NCO_NN_VGG_BN_FIRST;
  REQUIRE_OK(nco_nn_vgg(&v, &m));
  CHECK(has_param(m, "b1bn1.weight") && has_param(m, "b3bn1.bias") && !has_param(m, "b3bn2.weight"));
  CHECK(!has_param(m, "b1c1.bias") && has_param(m, "b1c2.bias") && has_param(m, "fc.bias"));
  nco_nn_model_free(m);
  /* U-Net skips = K: the last K of the forward pass, levels 1..K */
  nco_nn_unet_opts u = nco_nn_unet_defaults(1, 8, 8);
  u.depth = 3;
  for (int K = -1; K <= 3; K++) {
    u.skips = K;
    REQUIRE_OK(nco_nn_unet(&u, &m));
    nco_nn_param p;
    for (size_t l = 1; l <= 3; l++) {
      char nm[32];
      snprintf(nm, sizeof nm, "dec%zuc1.weight", l);
      REQUIRE_OK(nco_nn_param_find(m, nm, &p));
      int kept = K < 0 || (int)l <= K;
      CHECKF(p.shape[1] == (kept ? 2 : 1) * u.channels[l - 1], "skips %d level %zu: dec c1 has %zu inputs", K, l,
             p.shape[1]);
    }
    CHECK(nco_nn_out_size(m) == 64);
    nco_nn_model_free(m);
  }
  /* names of the enums */
  nco_nn_resnet_skips s;
  nco_nn_vgg_bn b;
  CHECK_OK(nco_nn_resnet_skips_parse("first_two", &s));
  CHECK(s == NCO_NN_RESNET_SKIPS_FIRST_TWO && !strcmp(nco_nn_resnet_skips_name(s), "first_two"));
  CHECK_ERR(nco_nn_resnet_skips_parse("second", &s), NCO_ERR_RANGE, "first_two");
  CHECK_OK(nco_nn_vgg_bn_parse("none", &b));
  CHECK(b == NCO_NN_VGG_BN_NONE && !strcmp(nco_nn_vgg_bn_name(NCO_NN_VGG_BN_FIRST), "first"));
  CHECK_ERR(nco_nn_vgg_bn_parse("some", &b), NCO_ERR_RANGE, "all, first, none");
}

static void test_errors(void) {
  nco_nn_model *m = (nco_nn_model *)&m;
  nco_nn_resnet_opts r = nco_nn_resnet_defaults(3, 2, 2, 10);
  CHECK_ERR(nco_nn_resnet(&r, &m), NCO_ERR_SHAPE, "input 3x2x2 too small for 3 stages: stage 3 would halve a 1x1");
  CHECK(m == NULL);
  r.H = r.W = 3;
  CHECK_OK(nco_nn_resnet(&r, &m)); /* 3 → 2 → 1 */
  nco_nn_model_free(m);
  r.channels[1] = 0;
  CHECK_ERR(nco_nn_resnet(&r, &m), NCO_ERR_RANGE, "channels[1] = 0");
  r = nco_nn_resnet_defaults(3, 32, 32, 0);
  CHECK_ERR(nco_nn_resnet(&r, &m), NCO_ERR_RANGE, "classes = 0");
  r = nco_nn_resnet_defaults(3, 32, 32, 10);
  r.nstages = 9;
  CHECK_ERR(nco_nn_resnet(&r, &m), NCO_ERR_RANGE, "9 stages");
  r.nstages = 3, r.skips = (nco_nn_resnet_skips)7;
  CHECK_ERR(nco_nn_resnet(&r, &m), NCO_ERR_RANGE, "skips = 7");
  r.skips = NCO_NN_RESNET_SKIPS_ALL, r.act.mix = 2;
  CHECK_ERR(nco_nn_resnet(&r, &m), NCO_ERR_RANGE, "resnet: activation");
  r.act.mix = 0, r.bn_eps = 0;
  CHECK_ERR(nco_nn_resnet(&r, &m), NCO_ERR_RANGE, "bn_eps");
  r = nco_nn_resnet_defaults(0, 32, 32, 10);
  CHECK_ERR(nco_nn_resnet(&r, &m), NCO_ERR_RANGE, "input 0x32x32");
  CHECK_ERR(nco_nn_resnet(NULL, &m), NCO_ERR_INVALID, "NULL");
  CHECK_ERR(nco_nn_resnet(&r, NULL), NCO_ERR_INVALID, "NULL");

  nco_nn_vgg_opts v = nco_nn_vgg_defaults(3, 7, 32, 10);
  CHECK_ERR(nco_nn_vgg(&v, &m), NCO_ERR_SHAPE, "input 3x7x32 too small for 3 blocks: the 2x2 max-pool of block 3 gets a 1x8");
  v.H = 8;
  CHECK_OK(nco_nn_vgg(&v, &m));
  nco_nn_model_free(m);
  v.convs[2] = 0;
  CHECK_ERR(nco_nn_vgg(&v, &m), NCO_ERR_RANGE, "convs[2] = 0");
  v.convs[2] = 3, v.bn = (nco_nn_vgg_bn)3;
  CHECK_ERR(nco_nn_vgg(&v, &m), NCO_ERR_RANGE, "bn = 3");
  CHECK_ERR(nco_nn_vgg(NULL, &m), NCO_ERR_INVALID, "NULL");

  nco_nn_unet_opts u = nco_nn_unet_defaults(1, 12, 10);
  CHECK_ERR(nco_nn_unet(&u, &m), NCO_ERR_SHAPE, "input 1x12x10: depth 2 needs H and W divisible by 2^2 = 4");
  u.W = 12;
  CHECK_OK(nco_nn_unet(&u, &m));
  nco_nn_model_free(m);
  u.skips = 3;
  CHECK_ERR(nco_nn_unet(&u, &m), NCO_ERR_RANGE, "skips = 3: must be all (-1) or 0 to depth = 2");
  u.skips = -1, u.depth = 0;
  CHECK_ERR(nco_nn_unet(&u, &m), NCO_ERR_RANGE, "depth = 0");
  u.depth = 2, u.channels[2] = 0;
  CHECK_ERR(nco_nn_unet(&u, &m), NCO_ERR_RANGE, "channels[2] = 0");
  CHECK_ERR(nco_nn_unet(NULL, &m), NCO_ERR_INVALID, "NULL");
  CHECK(m == NULL);
}

/* ---- derivative checks ------------------------------------------------------ */

static const size_t mb_idx[] = {3, 0, 3, 5, 1}; /* a repeated index on purpose; n ≥ 6 */
#define NMB (sizeof mb_idx / sizeof mb_idx[0])

typedef struct fix {
  nco_array X, Y;
  nco_problem *pb;
} fix;

/* n samples X ~ N(0, 1); CE: labels; LS: the image itself (reconstruction,
 * unet) or N(0, 1) rows. F64, auto_step off. */
static int make(const nco_nn_model *m, nco_nn_loss loss, int self_target, size_t n, uint64_t seed, fix *f) {
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  size_t in = nco_nn_in_size(m), out = nco_nn_out_size(m);
  size_t sx[2] = {n, in}, sy[2] = {n, out};
  memset(f, 0, sizeof *f);
  int st = nco_array_alloc(&f->X, NCO_DTYPE_F32, 2, sx, "X");
  if (st) return st;
  nco_rng_normal_fill(&rng, f->X.data, n * in, 0, 1);
  if (loss == NCO_NN_LOSS_CROSS_ENTROPY) {
    if ((st = nco_array_alloc(&f->Y, NCO_DTYPE_I32, 1, sy, "labels"))) return st;
    for (size_t i = 0; i < n; i++) ((int32_t *)f->Y.data)[i] = (int32_t)nco_rng_below(&rng, out);
  } else {
    if ((st = nco_array_alloc(&f->Y, NCO_DTYPE_F32, 2, sy, "targets"))) return st;
    if (self_target) memcpy(f->Y.data, f->X.data, n * in * sizeof(float));
    else nco_rng_normal_fill(&rng, f->Y.data, n * out, 0, 1);
  }
  nco_nn_opts o = nco_nn_defaults(loss);
  o.precision = NCO_NN_F64;
  o.auto_step = 0;
  return nco_nn_problem_create(m, &f->X, &f->Y, &o, &f->pb);
}

static void unmake(fix *f) {
  nco_problem_free(f->pb);
  nco_array_free(&f->X);
  nco_array_free(&f->Y);
}

/* θ from the problem's init with every batch-norm γ ~ U(0.5, 1.5) and β ~
 * U(−0.5, 0.5) (1 and 0 are a special point; the BN slices are the ones
 * named "*bn*"), redrawn until the kink margin on both batches is ≥ margin
 * (margin 0: no redraw). */
static int draw(nco_problem *pb, uint64_t seed, double margin, float *x) {
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  const nco_nn_model *m = nco_nn_problem_model(pb);
  for (int tries = 0; tries < 5000; tries++) {
    if (nco_problem_init(pb, &rng, x)) return 0;
    for (size_t i = 0; i < nco_nn_num_params(m); i++) {
      nco_nn_param p;
      nco_nn_param_get(m, i, &p);
      if (!strstr(p.name, "bn")) continue;
      int gamma = strstr(p.name, ".weight") != NULL;
      nco_rng_uniform_fill(&rng, x + p.offset, p.length, gamma ? 0.5f : -0.5f, gamma ? 1.5f : 0.5f);
    }
    if (margin <= 0) return 1;
    double m1, m2;
    if (nco_nn_kink_margin(pb, x, NULL, pb->n, &m1) || nco_nn_kink_margin(pb, x, mb_idx, NMB, &m2)) return 0;
    if (m1 >= margin && m2 >= margin) {
      if (tries > 0) printf("  (kink margin %.2g after %d redraws)\n", m1 < m2 ? m1 : m2, tries);
      return 1;
    }
  }
  fprintf(stderr, "draw: no point with kink margin >= %g\n", margin);
  return 0;
}

/* h = 0: nco_test_check_derivatives (default options); otherwise the same
 * checks with step h. margin > 0: at a point of kink margin ≥ margin. */
static void check_net(const char *what, const nco_nn_model *m, nco_nn_loss loss, int self_target, double margin,
                      double h, uint64_t seed) {
  fix f;
  int st = make(m, loss, self_target, 6, seed, &f);
  if (st) {
    CHECKF(0, "%s: make: %s", what, nco_last_error());
    unmake(&f);
    return;
  }
  printf("%s: %zu parameters\n", what, f.pb->dim);
  float *x = calloc(f.pb->dim, sizeof *x);
  if (!x || !draw(f.pb, seed + 1, margin, x)) {
    CHECKF(0, "%s: no point", what);
  } else if (h <= 0) {
    nco_test_check_derivatives(f.pb, x, mb_idx, NMB);
  } else {
    nco_check_opts o = nco_check_defaults();
    o.h = h, o.seed = seed;
    nco_check_report rep;
    for (int red = 0; red < 2; red++) {
      nco_problem_set_reduction(f.pb, red ? NCO_REDUCE_MEAN : NCO_REDUCE_SUM);
      for (int b = 0; b < 2; b++) {
        const size_t *idx = b ? mb_idx : NULL;
        size_t nb = b ? NMB : f.pb->n;
        st = nco_check_gradient(f.pb, x, idx, nb, &o, &rep);
        CHECKF(st == NCO_OK, "%s gradient (red %d, mb %d): %s", what, red, b, rep.worst);
        st = nco_check_hvp(f.pb, x, idx, nb, &o, &rep);
        CHECKF(st == NCO_OK, "%s HVP (red %d, mb %d): %s", what, red, b, rep.worst);
        if (loss == NCO_NN_LOSS_LEAST_SQUARES) {
          st = nco_check_jvp_vjp(f.pb, x, idx, nb, &o, &rep);
          CHECKF(st == NCO_OK, "%s JVP/VJP (red %d, mb %d): %s", what, red, b, rep.worst);
        }
      }
    }
  }
  free(x);
  unmake(&f);
}

static void test_resnet_derivatives(void) {
  nco_nn_model *m = NULL;
  /* two stages of two blocks, skips first: an identity skip (s1b1), a
   * projection (s2b1) and plain blocks (s1b2, s2b2); tanh; both losses */
  nco_nn_resnet_opts r = nco_nn_resnet_defaults(1, 8, 8, 3);
  r.nstages = 2, r.channels[0] = 3, r.channels[1] = 4, r.blocks[0] = r.blocks[1] = 2;
  r.skips = NCO_NN_RESNET_SKIPS_FIRST;
  r.act = nco_act_make(NCO_ACT_TANH);
  REQUIRE_OK(nco_nn_resnet(&r, &m));
  check_net("resnet first tanh CE", m, NCO_NN_LOSS_CROSS_ENTROPY, 0, 0, 1e-6, 10);
  check_net("resnet first tanh LS", m, NCO_NN_LOSS_LEAST_SQUARES, 0, 0, 1e-6, 20);
  nco_nn_model_free(m);
  /* all skips, no batch norm (convs with biases), softplus */
  r.skips = NCO_NN_RESNET_SKIPS_ALL, r.bn = 0, r.act = nco_act_make(NCO_ACT_SOFTPLUS);
  REQUIRE_OK(nco_nn_resnet(&r, &m));
  check_net("resnet all nobn softplus LS", m, NCO_NN_LOSS_LEAST_SQUARES, 0, 0, 0, 30);
  nco_nn_model_free(m);
  /* ReLU with the kink-margin redraw: a tiny ResNet-8-like net (1×4×4,
   * widths 2, 3), ~700 ReLU inputs per batch */
  r = nco_nn_resnet_defaults(1, 4, 4, 3);
  r.nstages = 2, r.channels[0] = 2, r.channels[1] = 3, r.blocks[0] = r.blocks[1] = 1;
  REQUIRE_OK(nco_nn_resnet(&r, &m));
  check_net("resnet relu CE", m, NCO_NN_LOSS_CROSS_ENTROPY, 0, 5e-3, 1e-6, 40);
  nco_nn_model_free(m);
}

static void test_vgg_derivatives(void) {
  /* 1×4×4, blocks of 1 and 2 convs, widths 3, 4: 16 max-pool windows per
   * sample (the margin redraw) */
  for (int bn = 0; bn < 3; bn++) {
    nco_nn_model *m = NULL;
    nco_nn_vgg_opts v = nco_nn_vgg_defaults(1, 4, 4, 3);
    v.nblocks = 2, v.convs[0] = 1, v.convs[1] = 2, v.channels[0] = 3, v.channels[1] = 4;
    v.bn = (nco_nn_vgg_bn)bn;
    v.act = nco_act_make(bn == 1 ? NCO_ACT_SOFTPLUS : NCO_ACT_TANH);
    REQUIRE_OK(nco_nn_vgg(&v, &m));
    char what[64];
    snprintf(what, sizeof what, "vgg bn %s %s", nco_nn_vgg_bn_name(v.bn), nco_act_name(v.act.kind));
    check_net(what, m, bn == 2 ? NCO_NN_LOSS_LEAST_SQUARES : NCO_NN_LOSS_CROSS_ENTROPY, 0, 5e-3, 1e-6, 100 + (uint64_t)bn);
    nco_nn_model_free(m);
  }
}

static void test_unet_derivatives(void) {
  /* 1×4×4, depth 2, widths 2, 3, 4, tanh; least squares against the input
   * image; all skips, the last one, none */
  static const int skips[3] = {NCO_NN_UNET_SKIPS_ALL, 1, 0};
  for (int k = 0; k < 3; k++) {
    nco_nn_model *m = NULL;
    nco_nn_unet_opts u = nco_nn_unet_defaults(1, 4, 4);
    u.channels[0] = 2, u.channels[1] = 3, u.channels[2] = 4, u.skips = skips[k];
    u.act = nco_act_make(NCO_ACT_TANH);
    REQUIRE_OK(nco_nn_unet(&u, &m));
    char what[64];
    snprintf(what, sizeof what, "unet skips %d tanh LS", skips[k]);
    check_net(what, m, NCO_NN_LOSS_LEAST_SQUARES, 1, 5e-3, 1e-6, 200 + (uint64_t)k);
    nco_nn_model_free(m);
  }
}

/* ---- against PyTorch --------------------------------------------------------- */

static double max_abs(size_t n, const float *a) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i]));
  return m;
}

/* max |a − b| / max(1e-3, ‖b‖∞) */
static double dev(size_t n, const float *a, const float *b) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - (double)b[i]));
  return m / fmax(1e-3, max_abs(n, b));
}

#define NS 16   /* samples */
#define STEPS 20
#define MB 4

static void torch_case(const bcase *c) {
  nco_nn_model *m = NULL;
  REQUIRE_OK(build_case(c, &m));
  const size_t d = nco_nn_dim(m), out = nco_nn_out_size(m), in = nco_nn_in_size(m), ns = nco_nn_state_dim(m);
  const int ce = c->loss == NCO_NN_LOSS_CROSS_ENTROPY;
  nco_array X, Y, T, th, v, o, l, g, hv, idx, sl, st;
  memset(&Y, 0, sizeof Y), memset(&T, 0, sizeof T);
  const char *dir = "builders", *pf = "bld";
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "X", NCO_DTYPE_F32, NS * in, &X));
  if (ce) REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "y", NCO_DTYPE_I64, NS, &Y));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "theta", NCO_DTYPE_F32, d, &th));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "v", NCO_DTYPE_F32, d, &v));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "out", NCO_DTYPE_F32, NS * out, &o));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "loss", NCO_DTYPE_F64, 1, &l));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "grad", NCO_DTYPE_F32, d, &g));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "hv", NCO_DTYPE_F32, d, &hv));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "idx", NCO_DTYPE_I64, STEPS * MB, &idx));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "sgd_loss", NCO_DTYPE_F64, STEPS, &sl));
  REQUIRE_OK(nco_test_load_fixture(dir, pf, c->name, "state", NCO_DTYPE_F32, ns, &st));
  if (!ce) { /* the target of the reconstruction: the image as a row */
    size_t sh[2] = {NS, out};
    REQUIRE(out == in);
    REQUIRE_OK(nco_array_alloc(&T, NCO_DTYPE_F32, 2, sh, "targets"));
    memcpy(T.data, X.data, NS * in * sizeof(float));
  }
  const nco_array *targets = ce ? &Y : &T;
  float *y = calloc(NS * out, sizeof *y), *gr = calloc(d, sizeof *gr), *h = calloc(d, sizeof *h);
  float *state = calloc(ns + 1, sizeof *state);
  REQUIRE(y && gr && h && state);
  for (int prec = 0; prec < 2; prec++) {
    nco_nn_opts op = nco_nn_defaults(c->loss);
    op.precision = (nco_nn_precision)prec;
    op.reduction = NCO_REDUCE_MEAN; /* CE: torch's mean; LS: mean over samples of ½‖y_i − t_i‖² */
    op.auto_step = 0;               /* step 0: the full-batch evaluations commit nothing */
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_nn_problem_create(m, &X, targets, &op, &pb));
    if (!ce && prec == 0) { /* params.json: conv_transpose2d weights in torch's (in, out, kh, kw) */
      char *js = NULL;
      CHECK_OK(nco_nn_layer_map_json(pb, &js));
      CHECK(js && strstr(js, "\"ncopt_name\": \"up2.weight\", \"shape\": [16, 8, 2, 2]"));
      free(js);
    }
    double loss;
    CHECK_OK(nco_nn_forward(pb, th.data, NULL, NS, y));
    CHECK_OK(nco_problem_eval(pb, th.data, NULL, NS, &loss, gr));
    CHECK_OK(nco_problem_hvp(pb, th.data, NULL, NS, v.data, h));
    /* Tolerances, stated before comparing. F64: the references are float64
     * values rounded once to float32, ours the same float64 computation
     * (other summation orders: ~1e-15 relative) rounded once to float32:
     * ≤ 1 ulp of each entry apart, so 1e-6 of the array's scale; the loss
     * 1e-12 relative. F32: every entry is a float32 computation through ≤ 20
     * layers whose largest sums are batch norm's over M = N·H·W ≤ 2304
     * values and the weight gradients' over the batch and the pixels (≤ 2304
     * terms per tap); each rounding is 2⁻²⁴ ≈ 6e-8 of the partial sums and
     * they add up as ~√(terms)·2⁻²⁴ ≈ 3e-6 of the scale: we allow 1e-5 of
     * the scale (per entry, against max(1e-3, ‖torch‖∞)) for outputs,
     * gradients and HVPs, as tests/test_nn_torch.c, and 1e-5 relative for
     * the loss (double sums of float32 terms). Measured (printed below): F32
     * ≤ 1.1e-6 (VGG's outputs), F64 0; losses ≤ 3e-8 (F32), 2e-16 (F64). */
    double tol = prec ? 1e-6 : 1e-5, ltol = prec ? 1e-12 : 1e-5;
    double dy = dev(NS * out, y, o.data), dg = dev(d, gr, g.data), dh = dev(d, h, hv.data);
    double dl = fabs(loss - ((double *)l.data)[0]) / fabs(((double *)l.data)[0]);
    printf("%-13s %s dim %5zu: max dev / scale: out %.2g, grad %.2g, hvp %.2g; loss rel %.2g\n", c->name,
           prec ? "f64" : "f32", d, dy, dg, dh, dl);
    CHECKF(dy <= tol, "%s prec %d: outputs off by %.3g of the scale", c->name, prec, dy);
    CHECKF(dg <= tol, "%s prec %d: gradient off by %.3g of the scale", c->name, prec, dg);
    CHECKF(dh <= tol, "%s prec %d: HVP off by %.3g of the scale", c->name, prec, dh);
    CHECKF(dl <= ltol, "%s prec %d: loss %.17g, torch %.17g", c->name, prec, loss, ((double *)l.data)[0]);
    nco_problem_free(pb);

    /* 20 steps of SGD (lr 0.01, momentum 0.9) on the fixture's minibatches,
     * from fresh running statistics; step t → t + 1 pinned as the run loop
     * does (nco_problem_set_step(t + 1): the first gradient of the step
     * commits the batch statistics once). Tolerance: the torch trajectory
     * is float64; ours rounds θ and the momentum buffer to float32 at every
     * step (2⁻²⁴ relative) and, in F32, computes the gradients in float32
     * (≤ 1e-5 of their scale, above; ~3e-7 measured). A relative
     * perturbation δ of θ changes the loss by ~δ·|θ·∇loss|/loss, and 20
     * steps with lr·Σ_k μ^k ≤ 0.1 amplify it by a modest factor: measured
     * ≤ 4.4e-7 relative in the losses (F32 and F64 alike: the θ rounding
     * dominates). We allow 1e-5 relative per step (20× the measurement, and
     * ~1000× below what a wrong gradient, batch or momentum produces: the
     * losses move by 10-60 % over the 20 steps), and 1e-5 of the scale for
     * the running statistics after the steps (means and variances of the
     * batch activations at those θ, with the unbiased M/(M − 1)). */
    op.auto_step = 1;
    REQUIRE_OK(nco_nn_problem_create(m, &X, targets, &op, &pb));
    nco_optim_params hp = nco_optim_defaults(nco_optim_sgd);
    hp.lr = 0.01, hp.momentum = 0.9;
    nco_optim *opt = NULL;
    REQUIRE_OK(nco_optim_create(nco_optim_sgd, d, &hp, th.data, &opt));
    double worst = 0, stol = 1e-5;
    for (size_t t = 0; t < STEPS; t++) {
      size_t b[MB];
      for (size_t j = 0; j < MB; j++) b[j] = (size_t)((int64_t *)idx.data)[t * MB + j];
      CHECK_OK(nco_problem_set_step(pb, t + 1));
      CHECK_OK(nco_optim_iterate(opt, pb, b, MB, &loss, NULL));
      double ref = ((double *)sl.data)[t], r = fabs(loss - ref) / fabs(ref);
      worst = fmax(worst, r);
      CHECKF(r <= stol, "%s prec %d: step %zu loss %.10g, torch %.10g", c->name, prec, t, loss, ref);
    }
    uint64_t committed = 0;
    if (ns) {
      CHECK_OK(nco_nn_get_state(pb, state, ns, &committed));
      CHECK(committed == STEPS);
    }
    double ds = ns ? dev(ns, state, st.data) : 0;
    printf("%-13s %s 20 SGD steps: max loss rel dev %.2g (losses %.4f -> %.4f); running stats dev / scale %.2g\n",
           c->name, prec ? "f64" : "f32", worst, ((double *)sl.data)[0], ((double *)sl.data)[STEPS - 1], ds);
    CHECKF(ds <= stol, "%s prec %d: running statistics off by %.3g of the scale", c->name, prec, ds);
    nco_optim_free(opt);
    nco_problem_free(pb);
  }
  free(y), free(gr), free(h), free(state);
  nco_array *all[] = {&X, &Y, &T, &th, &v, &o, &l, &g, &hv, &idx, &sl, &st};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) nco_array_free(all[i]);
  nco_nn_model_free(m);
}

static void test_torch(void) {
  for (size_t k = 0; k < N_CASES; k++) torch_case(&cases[k]);
}

int main(void) {
  RUN(test_counts);
  RUN(test_names);
  RUN(test_variants);
  RUN(test_errors);
  RUN(test_torch);
  RUN(test_resnet_derivatives);
  RUN(test_vgg_derivatives);
  RUN(test_unet_derivatives);
  return nco_test_summary();
}
