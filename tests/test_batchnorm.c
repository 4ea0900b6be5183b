/* tests/test_batchnorm.c — batchnorm (src/nn/op_batchnorm.c) against
 * PyTorch's nn.BatchNorm1d / BatchNorm2d (fixtures in tests/fixtures/bn,
 * written by scripts/make_bn_fixtures.py): the training-mode output, the
 * running statistics after one step, dx, dγ, dβ for a random upstream
 * gradient, the evaluation-mode output; the op through its vtable and the
 * same values through the problem API. Then the engine's rules: when the
 * running statistics change (counted), evaluation mode equal to the
 * folded affine map, the state calls, results independent of the thread
 * count and max_batch (bitwise), one value per channel refused, the torch
 * repr. Derivatives along networks: tests/test_nn_grad.c (test_batchnorm).
 *
 * Tolerance. For every float32 result r (ours) and t (torch), with the
 * value v and S = the sum of the magnitudes of the terms the float
 * computation combines (both from a double reference written here from
 * the definition):
 *     |r − v| ≤ FLT_EPSILON·S   (ours: double arithmetic rounded once),
 *     |r − t| ≤ 8·FLT_EPSILON·S (torch rounds μ, 1/√(σ² + eps), γ·s and
 *                                β − μ·γ·s to float and adds in float).
 * S: y: (|x| + |μ|)·s·|γ| + |β|; dx: |γ|·s·(|δ| + |A| + (|x| + |μ|)·s·|B|);
 * dγ: Σ|δ|·(|x| + |μ|)·s; dβ: Σ|δ|; running mean m·mean|x| + (1 − m)|rm|;
 * running var m·Σ(|x| + |μ|)²/(M − 1) + (1 − m)·rv. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/nn.h"
#include "ncopt/npy.h"
#include "nn/internal.h" /* white-box: the op's vtable, the problem's thread count */
#include "testlib.h"

/* ---- the torch fixtures --------------------------------------------------- */

typedef struct bcase {
  size_t N, C, H, W, HW, n;
  int flat, affine;
  double eps, mom;
} bcase;

static int load(const char *name, const char *what, nco_dtype dt, size_t n, nco_array *a) {
  char rel[256];
  snprintf(rel, sizeof rel, "bn/bn_%s_%s.npy", name, what);
  int st = nco_npy_read(nco_fixture(rel), a);
  if (st) return st;
  if (a->dtype != dt || a->size != n)
    return nco_error(NCO_ERR_SHAPE, "%s: dtype %s, %zu entries, expected %s, %zu", a->origin, nco_dtype_name(a->dtype),
                     a->size, nco_dtype_name(dt), n);
  return NCO_OK;
}

/* The double reference of a case: per channel μ, s (training mode, or
 * from the given running statistics), and per value y, dx with their
 * magnitudes S (see the header); dγ, dβ, the updated statistics likewise. */
typedef struct bref {
  double *y, *ys, *dx, *dxs, *dg, *dgs, *db, *dbs, *rm, *rms, *rv, *rvs;
} bref;

static void reference(const bcase *c, const float *x, const float *g, const float *b, const float *dy,
                      const float *rm0, const float *rv0, int train, bref *r) {
  const size_t C = c->C, HW = c->HW;
  const double M = (double)(c->N * HW), m = c->mom;
  for (size_t ch = 0; ch < C; ch++) {
    double mu = 0, ss = 0, ab = 0, sq = 0, A = 0, B = 0, Aa = 0, Ba = 0;
#define EACH for (size_t s = 0; s < c->N; s++) for (size_t i = (s * C + ch) * HW; i < (s * C + ch + 1) * HW; i++)
    EACH mu += x[i], ab += fabs(x[i]);
    mu /= M;
    EACH ss += (x[i] - mu) * (x[i] - mu), sq += (fabs(x[i]) + fabs(mu)) * (fabs(x[i]) + fabs(mu));
    double sd = train ? 1 / sqrt(ss / M + c->eps) : 1 / sqrt((double)rv0[ch] + c->eps);
    double mean = train ? mu : rm0[ch];
    double gm = g ? g[ch] : 1, bt = b ? b[ch] : 0;
    r->rm[ch] = m * mu + (1 - m) * rm0[ch], r->rms[ch] = m * ab / M + (1 - m) * fabs(rm0[ch]);
    r->rv[ch] = m * ss / (M - 1) + (1 - m) * rv0[ch], r->rvs[ch] = m * sq / (M - 1) + (1 - m) * rv0[ch];
    EACH {
      double xh = (x[i] - mean) * sd;
      r->y[i] = gm * xh + bt, r->ys[i] = (fabs(x[i]) + fabs(mean)) * sd * fabs(gm) + fabs(bt);
      if (!dy) continue;
      A += dy[i], B += dy[i] * xh, Aa += fabs(dy[i]), Ba += fabs(dy[i]) * (fabs(x[i]) + fabs(mean)) * sd;
    }
    if (!dy) continue;
    r->db[ch] = A, r->dbs[ch] = Aa, r->dg[ch] = B, r->dgs[ch] = Ba;
    A /= M, B /= M;
    EACH {
      double xh = (x[i] - mean) * sd;
      r->dx[i] = gm * sd * (dy[i] - A - xh * B);
      r->dxs[i] = fabs(gm) * sd * (fabs(dy[i]) + fabs(A) + (fabs(x[i]) + fabs(mean)) * sd * fabs(B));
    }
#undef EACH
  }
}

/* ours within ε·S of the reference, within 8ε·S of torch; *dev = the
 * largest |ours − torch| / (ε·S) seen, *adev the largest |ours − torch| */
static void cmp(const char *name, const char *what, size_t n, const float *a, const float *t, const double *v,
                const double *S, double *dev, double *adev) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    double e = FLT_EPSILON * S[i] + 1e-30, d = fabs((double)a[i] - t[i]);
    if (d / e > *dev) *dev = d / e;
    if (d > *adev) *adev = d;
    if (fabs(a[i] - v[i]) > e || d > 8 * e) {
      if (bad++ < 3)
        fprintf(stderr, "%s %s[%zu]: ncopt %.9g torch %.9g reference %.12g (eps*S %.3g)\n", name, what, i, a[i], t[i],
                v[i], e);
    }
  }
  CHECKF(bad == 0, "%s %s: %zu of %zu entries outside the bound", name, what, bad, n);
}

/* One batchnorm node "bn" on an input of the case's shape. */
static nco_nn_model *bn_model(const bcase *c) {
  nco_nn_model *m = NULL;
  size_t shape[3] = {c->C, c->H, c->W};
  nco_nn_node_spec op = {.kind = NCO_NN_BATCHNORM, .eps = c->eps, .momentum = c->mom, .bias = c->affine};
  const char *in = "input";
  if (nco_nn_model_create(c->flat ? 1 : 3, shape, &m)) return NULL;
  if (nco_nn_add_node(m, "bn", &op, 1, &in)) {
    nco_nn_model_free(m);
    return NULL;
  }
  return m;
}

static double g_dev, g_adev; /* over every case and quantity */

/* The case through the problem API (affine cases: θ = (γ, β)): forward in
 * training mode, the state after a committing gradient, (dγ, dβ) as the
 * VJP of δ = dy, and the evaluation-mode forward on x2 with torch's
 * updated statistics; each against torch with the bound of the header. */
static void via_problem(const char *name, const bcase *c, const nco_nn_model *m, nco_array *ax, nco_array *ax2,
                        const float *th, const float *dy, const float *rm0, const float *rv0, const float *ty,
                        const float *trm, const float *trv, const float *tdg, const float *tdb, const float *ty2,
                        const bref *r, const bref *r2) {
  const size_t n = c->n, C = c->C;
  size_t ts[2] = {c->N, n / c->N};
  nco_array T = {0};
  REQUIRE_OK(nco_array_alloc(&T, NCO_DTYPE_F32, 2, ts, "targets"));
  nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_LEAST_SQUARES);
  nco_problem *pb = NULL, *p2 = NULL;
  REQUIRE_OK(nco_nn_problem_create(m, ax, &T, &o, &pb));
  REQUIRE_OK(nco_nn_problem_create(m, ax2, &T, &o, &p2));
  float *st = calloc(2 * C, 4), *y = calloc(n, 4), *g = calloc(2 * C, 4);
  REQUIRE(st && y && g);
  memcpy(st, rm0, C * 4), memcpy(st + C, rv0, C * 4);
  CHECK_OK(nco_nn_set_state(pb, st, 2 * C, 0));
  CHECK_OK(nco_nn_forward(pb, th, NULL, c->N, y));
  cmp(name, "problem y", n, y, ty, r->y, r->ys, &g_dev, &g_adev);
  CHECK_OK(nco_problem_vjp(pb, th, NULL, c->N, dy, g));
  cmp(name, "problem dgamma", C, g, tdg, r->dg, r->dgs, &g_dev, &g_adev);
  cmp(name, "problem dbeta", C, g + C, tdb, r->db, r->dbs, &g_dev, &g_adev);
  double loss;
  CHECK_OK(nco_nn_set_step(pb, 1));
  CHECK_OK(nco_problem_eval(pb, th, NULL, c->N, &loss, g)); /* auto_step: step 2, commits */
  uint64_t at = 0;
  CHECK_OK(nco_nn_get_state(pb, st, 2 * C, &at));
  CHECK(at == 2);
  cmp(name, "problem running_mean", C, st, trm, r->rm, r->rms, &g_dev, &g_adev);
  cmp(name, "problem running_var", C, st + C, trv, r->rv, r->rvs, &g_dev, &g_adev);
  memcpy(st, trm, C * 4), memcpy(st + C, trv, C * 4);
  CHECK_OK(nco_nn_set_state(p2, st, 2 * C, 0));
  CHECK_OK(nco_nn_set_training(p2, 0));
  CHECK_OK(nco_nn_forward(p2, th, NULL, c->N, y));
  cmp(name, "problem eval y", n, y, ty2, r2->y, r2->ys, &g_dev, &g_adev);
  free(st), free(y), free(g);
  nco_problem_free(pb), nco_problem_free(p2);
  nco_array_free(&T);
}

static void test_torch(void) {
  static const char *names[] = {"a1", "b1", "a2", "b2", "c2"};
  static const char *reprs[] = {
      "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
      "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
      "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)",
      "BatchNorm2d(2, eps=0.001, momentum=0.3, affine=False, track_running_stats=True)",
      "BatchNorm2d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"};
  for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
    const char *nm = names[k];
    nco_array sh = {0}, hy = {0}, ax = {0}, ag = {0}, ab = {0}, arm = {0}, arv = {0}, ay = {0}, arm1 = {0},
              arv1 = {0}, ady = {0}, adx = {0}, adg = {0}, adb = {0}, ax2 = {0}, ay2 = {0};
    REQUIRE_OK(load(nm, "shape", NCO_DTYPE_I64, 6, &sh));
    REQUIRE_OK(load(nm, "hyper", NCO_DTYPE_F64, 2, &hy));
    const int64_t *v = sh.data;
    bcase c = {(size_t)v[0], (size_t)v[1], (size_t)v[2], (size_t)v[3], 0, 0, (int)v[4], (int)v[5],
               ((double *)hy.data)[0], ((double *)hy.data)[1]};
    c.HW = c.H * c.W, c.n = c.N * c.C * c.HW;
    const size_t n = c.n, C = c.C;
    CHECK_OK(load(nm, "x", NCO_DTYPE_F32, n, &ax));
    CHECK_OK(load(nm, "rm0", NCO_DTYPE_F32, C, &arm));
    CHECK_OK(load(nm, "rv0", NCO_DTYPE_F32, C, &arv));
    CHECK_OK(load(nm, "y", NCO_DTYPE_F32, n, &ay));
    CHECK_OK(load(nm, "rm1", NCO_DTYPE_F32, C, &arm1));
    CHECK_OK(load(nm, "rv1", NCO_DTYPE_F32, C, &arv1));
    CHECK_OK(load(nm, "dy", NCO_DTYPE_F32, n, &ady));
    CHECK_OK(load(nm, "dx", NCO_DTYPE_F32, n, &adx));
    CHECK_OK(load(nm, "x2", NCO_DTYPE_F32, n, &ax2));
    CHECK_OK(load(nm, "y2", NCO_DTYPE_F32, n, &ay2));
    if (c.affine) {
      CHECK_OK(load(nm, "gamma", NCO_DTYPE_F32, C, &ag));
      CHECK_OK(load(nm, "beta", NCO_DTYPE_F32, C, &ab));
      CHECK_OK(load(nm, "dgamma", NCO_DTYPE_F32, C, &adg));
      CHECK_OK(load(nm, "dbeta", NCO_DTYPE_F32, C, &adb));
    }
    REQUIRE(ax.data && arm.data && arv.data && ay.data && arm1.data && arv1.data && ady.data && adx.data &&
            ax2.data && ay2.data && (!c.affine || (ag.data && ab.data && adg.data && adb.data)));
    nco_nn_model *m = bn_model(&c);
    REQUIRE(m);
    const nn_layer *l = &m->layers[0];
    CHECK(l->nw == (c.affine ? C : 0) && l->nb == l->nw && l->ns == 2 * C && nco_nn_state_dim(m) == 2 * C);
    char rep[160];
    int mixed = 0;
    CHECK_OK(l->op->repr(l, rep, sizeof rep, &mixed));
    CHECKF(!strcmp(rep, reprs[k]), "%s repr %s", nm, rep);
    /* the op on the whole batch, training mode, committing */
    float *th = calloc(2 * C, 4), *g = calloc(2 * C, 4), *y = calloc(n, 4), *dx = calloc(n, 4), *st = calloc(2 * C, 4);
    double *aux = calloc(l->op->aux_bytes(l, c.N, 4), 1), *rb = calloc(6 * n + 12 * C, 8);
    REQUIRE(th && g && y && dx && st && aux && rb);
    if (c.affine) memcpy(th, ag.data, C * 4), memcpy(th + C, ab.data, C * 4);
    memcpy(st, arm.data, C * 4), memcpy(st + C, arv.data, C * 4);
    bref r = {rb, rb + n, rb + 2 * n, rb + 3 * n, rb + 4 * n, rb + 4 * n + C, rb + 4 * n + 2 * C,
              rb + 4 * n + 3 * C, rb + 4 * n + 4 * C, rb + 4 * n + 5 * C, rb + 4 * n + 6 * C, rb + 4 * n + 7 * C};
    double *q = rb + 4 * n + 8 * C; /* r2: y, ys, then its statistics */
    bref r2 = {q, q + n, NULL, NULL, NULL, NULL, NULL, NULL, q + 2 * n, q + 2 * n + C, q + 2 * n + 2 * C,
               q + 2 * n + 3 * C};
    const float *G = c.affine ? th : NULL, *B = c.affine ? th + C : NULL;
    reference(&c, ax.data, G, B, ady.data, arm.data, arv.data, 1, &r);
    reference(&c, ax2.data, G, B, NULL, arm1.data, arv1.data, 0, &r2);
    nn_call call = {.l = l, .nb = c.N, .W = th, .y = y, .aux = aux, .state = st, .batch_on = 1, .commit = 1};
    call.x[0] = ax.data;
    l->op->fwd[0](&call);
    cmp(nm, "y", n, y, ay.data, r.y, r.ys, &g_dev, &g_adev);
    cmp(nm, "running_mean", C, st, arm1.data, r.rm, r.rms, &g_dev, &g_adev);
    cmp(nm, "running_var", C, st + C, arv1.data, r.rv, r.rvs, &g_dev, &g_adev);
    call.dy = ady.data, call.dx[0] = dx, call.gW = c.affine ? g : NULL;
    l->op->vjp[0](&call);
    cmp(nm, "dx", n, dx, adx.data, r.dx, r.dxs, &g_dev, &g_adev);
    if (c.affine) {
      cmp(nm, "dgamma", C, g, adg.data, r.dg, r.dgs, &g_dev, &g_adev);
      cmp(nm, "dbeta", C, g + C, adb.data, r.db, r.dbs, &g_dev, &g_adev);
    }
    /* evaluation mode on x2 with torch's updated statistics */
    memcpy(st, arm1.data, C * 4), memcpy(st + C, arv1.data, C * 4);
    call.x[0] = ax2.data, call.batch_on = 0, call.commit = 0;
    l->op->fwd[0](&call);
    cmp(nm, "eval y", n, y, ay2.data, r2.y, r2.ys, &g_dev, &g_adev);
    CHECK(!memcmp(st, arm1.data, C * 4) && !memcmp(st + C, arv1.data, C * 4)); /* evaluation does not commit */
    if (c.affine)
      via_problem(nm, &c, m, &ax, &ax2, th, ady.data, arm.data, arv.data, ay.data, arm1.data, arv1.data, adg.data,
                  adb.data, ay2.data, &r, &r2);
    free(th), free(g), free(y), free(dx), free(st), free(aux), free(rb);
    nco_nn_model_free(m);
    nco_array *all[] = {&sh, &hy, &ax, &ag, &ab, &arm, &arv, &ay, &arm1, &arv1, &ady, &adx, &adg, &adb, &ax2, &ay2};
    for (size_t j = 0; j < sizeof all / sizeof *all; j++) nco_array_free(all[j]);
  }
  printf("batchnorm vs torch: max |ncopt - torch| = %.3g (%.2f eps*S at most)\n", g_adev, g_dev);
}

/* ---- the engine --------------------------------------------------------------- */

typedef struct fix {
  nco_array X, Y;
  nco_problem *pb;
} fix;

/* X ~ N(0, 1)·1.5 + 0.3 (n, in...), least-squares targets N(0, 1). */
static void make(const nco_nn_model *m, size_t n, size_t max_batch, size_t threads, nco_nn_precision prec,
                 uint64_t seed, fix *f) {
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  size_t in = nco_nn_in_size(m), out = nco_nn_out_size(m), sx[2] = {n, in}, sy[2] = {n, out};
  memset(f, 0, sizeof *f);
  REQUIRE_OK(nco_array_alloc(&f->X, NCO_DTYPE_F32, 2, sx, "X"));
  REQUIRE_OK(nco_array_alloc(&f->Y, NCO_DTYPE_F32, 2, sy, "Y"));
  nco_rng_normal_fill(&rng, f->X.data, n * in, 0.3f, 1.5f);
  nco_rng_normal_fill(&rng, f->Y.data, n * out, 0, 1);
  nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_LEAST_SQUARES);
  o.max_batch = max_batch, o.threads = threads, o.precision = prec, o.auto_step = 0;
  REQUIRE_OK(nco_nn_problem_create(m, &f->X, &f->Y, &o, &f->pb));
}

static void unmake(fix *f) {
  nco_problem_free(f->pb);
  nco_array_free(&f->X), nco_array_free(&f->Y);
}

#define BN_SPEC ((nco_nn_node_spec){.kind = NCO_NN_BATCHNORM, .eps = 1e-5, .momentum = 0.1, .bias = 1})

/* linear(4 → 3) → bn → tanh → linear(3 → 2) */
static nco_nn_model *mlp_bn(void) {
  size_t in = 4;
  nco_nn_model *m = NULL;
  nco_act th = nco_act_make(NCO_ACT_TANH);
  const char *fc1 = "fc1";
  if (nco_nn_model_create(1, &in, &m) || nco_nn_add_dense(m, 3, 1) || nco_nn_add_node(m, "bn", &BN_SPEC, 1, &fc1) ||
      nco_nn_add_act(m, &th) || nco_nn_add_dense(m, 2, 1)) {
    nco_nn_model_free(m);
    return NULL;
  }
  return m;
}

/* a copy of the state of pb, and whether it differs from the last copy */
static int changed(nco_problem *pb, float *last, size_t n) {
  float now[16];
  CHECK_OK(nco_nn_get_state(pb, now, n, NULL));
  int d = memcmp(now, last, n * sizeof *now) != 0;
  memcpy(last, now, n * sizeof *now);
  return d;
}

/* The statistics of fc1's outputs on batch idx (double, from a model of
 * fc1 alone on the same θ slice): mean and unbiased variance per unit. */
static void fc1_stats(const fix *f, const float *x, const size_t *idx, size_t nb, double *mu, double *var) {
  size_t in = 4;
  nco_nn_model *m1 = NULL;
  nco_problem *p1 = NULL;
  nco_array T = {0};
  size_t ts[2] = {f->X.shape[0], 3};
  REQUIRE_OK(nco_array_alloc(&T, NCO_DTYPE_F32, 2, ts, "T"));
  REQUIRE_OK(nco_nn_model_create(1, &in, &m1));
  REQUIRE_OK(nco_nn_add_dense(m1, 3, 1));
  nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_LEAST_SQUARES);
  REQUIRE_OK(nco_nn_problem_create(m1, &f->X, &T, &o, &p1));
  nco_array_free(&T);
  float z[64 * 3];
  REQUIRE(nb <= 64);
  CHECK_OK(nco_nn_forward(p1, x, idx, nb, z));
  for (size_t c = 0; c < 3; c++) {
    double s = 0, ss = 0;
    for (size_t i = 0; i < nb; i++) s += z[i * 3 + c];
    s /= (double)nb;
    for (size_t i = 0; i < nb; i++) ss += (z[i * 3 + c] - s) * (z[i * 3 + c] - s);
    mu[c] = s, var[c] = ss / (double)(nb - 1);
  }
  nco_problem_free(p1);
  nco_nn_model_free(m1);
}

/* Exactly one commit per step: with the step pinned (the run loop's
 * set_step) only the first loss+gradient evaluation of a new step ≠ 0
 * changes the running statistics — not repeated gradients, loss-only
 * evaluations, HVP, JVP, VJP, rhvp, forward, evaluate, kink margin, nor
 * evaluation mode; with auto_step every gradient commits. The committed
 * values are the running update of the minibatch's statistics (checked
 * against fc1's outputs in double). */
static void test_commit_once(void) {
  nco_nn_model *m = mlp_bn();
  REQUIRE(m);
  fix f;
  make(m, 12, 0, 0, NCO_NN_F32, 5, &f);
  nco_problem *pb = f.pb;
  const size_t d = pb->dim, S = 6;
  static const size_t idx[5] = {7, 2, 9, 2, 11};
  float *x = calloc(d, 4), *g = calloc(d, 4), *u = calloc(d, 4), w[12 * 2], out[12 * 2], last[6], s0[6];
  REQUIRE(x && g && u);
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  CHECK_OK(nco_problem_init(pb, &rng, x));
  nco_rng_normal_fill(&rng, u, d, 0, 1);
  nco_rng_normal_fill(&rng, w, 24, 0, 1);
  CHECK_OK(nco_nn_get_state(pb, last, S, NULL));
  for (size_t c = 0; c < 3; c++) CHECK(last[c] == 0 && last[3 + c] == 1); /* torch's initial statistics */
  double loss, mg;
  nco_nn_metrics met;
  int commits = 0;
  /* step 0: nothing commits */
  CHECK_OK(nco_problem_eval(pb, x, idx, 5, &loss, g));
  commits += changed(pb, last, S);
  /* step 1: the first gradient commits, nothing else */
  CHECK_OK(nco_problem_set_step(pb, 1));
  for (int k = 0; k < 3; k++) {
    CHECK_OK(nco_problem_eval(pb, x, idx, 5, &loss, g));
    commits += changed(pb, last, S);
    CHECK(commits == 1);
  }
  memcpy(s0, last, sizeof s0);
  CHECK_OK(nco_problem_eval(pb, x, NULL, 12, &loss, NULL)); /* full-batch loss */
  CHECK_OK(nco_problem_eval(pb, x, NULL, 12, &loss, g));    /* full-batch gradient at the same step */
  CHECK_OK(nco_problem_hvp(pb, x, idx, 5, u, g));
  CHECK_OK(nco_problem_jvp(pb, x, idx, 5, u, out));
  CHECK_OK(nco_problem_vjp(pb, x, idx, 5, w, g));
  CHECK_OK(pb->type->rhvp(pb, x, idx, 5, w, u, g));
  CHECK_OK(nco_nn_forward(pb, x, NULL, 12, out));
  CHECK_OK(nco_nn_evaluate(pb, x, NULL, 12, &met));
  CHECK_OK(nco_nn_kink_margin(pb, x, idx, 5, &mg));
  commits += changed(pb, last, S);
  CHECK(commits == 1);
  /* the committed values: momentum 0.1 on the minibatch's statistics */
  double mu[3], var[3];
  fc1_stats(&f, x, idx, 5, mu, var);
  for (size_t c = 0; c < 3; c++) {
    CHECK_CLOSE(last[c], 0.1 * mu[c], 1e-6, 1e-5);
    CHECK_CLOSE(last[3 + c], 0.1 * var[c] + 0.9, 1e-6, 1e-5);
  }
  /* step 2 at another batch: one more commit, on top of the first */
  static const size_t idx2[4] = {0, 1, 3, 4};
  CHECK_OK(nco_problem_set_step(pb, 2));
  CHECK_OK(nco_problem_eval(pb, x, idx2, 4, &loss, g));
  CHECK_OK(nco_problem_eval(pb, x, idx2, 4, &loss, g));
  commits += changed(pb, last, S);
  CHECK(commits == 2);
  fc1_stats(&f, x, idx2, 4, mu, var);
  for (size_t c = 0; c < 3; c++) {
    CHECK_CLOSE(last[c], 0.1 * mu[c] + 0.9 * s0[c], 1e-6, 1e-5);
    CHECK_CLOSE(last[3 + c], 0.1 * var[c] + 0.9 * s0[3 + c], 1e-6, 1e-5);
  }
  /* evaluation mode: a new step does not commit */
  CHECK_OK(nco_nn_set_training(pb, 0));
  CHECK_OK(nco_problem_set_step(pb, 3));
  CHECK_OK(nco_problem_eval(pb, x, idx, 5, &loss, g));
  commits += changed(pb, last, S);
  CHECK(commits == 2);
  CHECK_OK(nco_nn_set_training(pb, 1));
  /* auto_step: every gradient is a new step and commits (torch's train-mode forward) */
  CHECK_OK(nco_nn_set_auto_step(pb, 1));
  for (int k = 0; k < 3; k++) {
    CHECK_OK(nco_problem_eval(pb, x, idx, 5, &loss, g));
    commits += changed(pb, last, S);
  }
  CHECK(commits == 5 && nco_nn_get_step(pb) == 6);
  CHECK_OK(nco_problem_eval(pb, x, idx, 5, &loss, NULL)); /* loss only: no step, no commit */
  commits += changed(pb, last, S);
  CHECK(commits == 5);
  /* the problem's init resets the statistics */
  CHECK_OK(nco_problem_init(pb, &rng, x));
  uint64_t at = 9;
  CHECK_OK(nco_nn_get_state(pb, last, S, &at));
  for (size_t c = 0; c < 3; c++) CHECK(last[c] == 0 && last[3 + c] == 1);
  CHECK(at == 0);
  free(x), free(g), free(u);
  unmake(&f);
  nco_nn_model_free(m);
}

/* Evaluation mode is the affine map of the running statistics: the model
 * equals linear → tanh → linear with bn folded into fc1,
 *     W' = diag(γ·s) W,  b' = γ·s·(b − running_mean) + β,  s = 1/√(running_var + eps);
 * nco_nn_evaluate uses it whatever the mode, nco_nn_forward after
 * nco_nn_set_training(pb, 0). */
static void test_eval_fold(void) {
  nco_nn_model *m = mlp_bn(), *mf = NULL;
  REQUIRE(m);
  size_t in = 4, widths[1] = {3};
  nco_act th = nco_act_make(NCO_ACT_TANH);
  REQUIRE_OK(nco_nn_mlp(in, widths, 1, 2, &th, &mf));
  fix f, ff;
  make(m, 10, 0, 0, NCO_NN_F32, 8, &f);
  make(mf, 10, 0, 0, NCO_NN_F64, 8, &ff);
  const size_t d = f.pb->dim;
  float x[64], xf[64], st[6] = {0.3f, -0.2f, 0.5f, 0.7f, 1.9f, 0.4f}, o1[20], o2[20];
  REQUIRE(d == 15 + 6 + 8 && ff.pb->dim == 15 + 8);
  nco_rng rng;
  nco_rng_seed(&rng, 3);
  nco_rng_uniform_fill(&rng, x, d, -1, 1);
  CHECK_OK(nco_nn_set_state(f.pb, st, 6, 0));
  for (size_t c = 0; c < 3; c++) {
    double gm = x[15 + c], bt = x[18 + c], s = 1 / sqrt(st[3 + c] + 1e-5);
    for (size_t j = 0; j < 4; j++) xf[c * 4 + j] = (float)(gm * s * x[c * 4 + j]);
    xf[12 + c] = (float)(gm * s * (x[12 + c] - st[c]) + bt);
  }
  memcpy(xf + 15, x + 21, 8 * 4);
  CHECK_OK(nco_nn_set_training(f.pb, 0));
  CHECK_OK(nco_nn_forward(f.pb, x, NULL, 10, o1));
  CHECK_OK(nco_nn_forward(ff.pb, xf, NULL, 10, o2));
  for (size_t j = 0; j < 20; j++) CHECK_CLOSE(o1[j], o2[j], 1e-5, 1e-5);
  nco_nn_metrics a, b;
  CHECK_OK(nco_nn_set_training(f.pb, 1));
  CHECK_OK(nco_nn_evaluate(f.pb, x, NULL, 10, &a));
  CHECK_OK(nco_nn_evaluate(ff.pb, xf, NULL, 10, &b));
  CHECK_CLOSE(a.loss_sum, b.loss_sum, 0, 1e-5);
  /* and training mode differs (batch statistics) */
  CHECK_OK(nco_nn_forward(f.pb, x, NULL, 10, o1));
  double dmax = 0;
  for (size_t j = 0; j < 20; j++) dmax = fmax(dmax, fabs(o1[j] - o2[j]));
  CHECK(dmax > 1e-2);
  unmake(&f), unmake(&ff);
  nco_nn_model_free(m), nco_nn_model_free(mf);
}

/* The state calls: the live buffer, get/set copies with the committed
 * step, a restored committed step suppresses the commit at that step,
 * wrong sizes and non-finite values refused, a model without state. */
static void test_state_api(void) {
  nco_nn_model *m = mlp_bn();
  REQUIRE(m);
  fix f;
  make(m, 8, 0, 0, NCO_NN_F32, 2, &f);
  nco_problem *pb = f.pb;
  float *live = NULL, a[6], b[6] = {0.1f, 0.2f, 0.3f, 1.5f, 2.5f, 3.5f}, x[64], g[64];
  size_t n = 0;
  uint64_t at = 0;
  CHECK_OK(nco_nn_problem_state(pb, &live, &n));
  CHECK(live && n == 6 && nco_nn_state_dim(nco_nn_problem_model(pb)) == 6);
  CHECK_OK(nco_nn_set_state(pb, b, 6, 4));
  CHECK_OK(nco_nn_get_state(pb, a, 6, &at));
  CHECK(!memcmp(a, b, sizeof a) && !memcmp(live, b, sizeof b) && at == 4);
  /* restored at step 4: a gradient at step 4 does not commit again, at 5 it does */
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_rng_uniform_fill(&rng, x, pb->dim, -1, 1);
  double loss;
  CHECK_OK(nco_problem_set_step(pb, 4));
  CHECK_OK(nco_problem_eval(pb, x, NULL, 8, &loss, g));
  CHECK(!memcmp(live, b, sizeof b));
  CHECK_OK(nco_problem_set_step(pb, 5));
  CHECK_OK(nco_problem_eval(pb, x, NULL, 8, &loss, g));
  CHECK(memcmp(live, b, sizeof b) != 0);
  CHECK_OK(nco_nn_get_state(pb, a, 6, &at));
  CHECK(at == 5);
  /* errors */
  CHECK(nco_nn_get_state(pb, a, 5, NULL) == NCO_ERR_SHAPE);
  CHECK(nco_nn_set_state(pb, b, 7, 0) == NCO_ERR_SHAPE);
  b[4] = NAN;
  CHECK(nco_nn_set_state(pb, b, 6, 0) == NCO_ERR_NONFINITE);
  CHECK(nco_nn_problem_state(pb, NULL, &n) == NCO_ERR_INVALID);
  unmake(&f);
  /* a model without state */
  size_t in = 4;
  nco_nn_model *m0 = NULL;
  REQUIRE_OK(nco_nn_model_create(1, &in, &m0));
  REQUIRE_OK(nco_nn_add_dense(m0, 2, 1));
  make(m0, 8, 0, 0, NCO_NN_F32, 2, &f);
  live = (float *)1;
  CHECK_OK(nco_nn_problem_state(f.pb, &live, &n));
  CHECK(live == NULL && n == 0);
  CHECK_OK(nco_nn_get_state(f.pb, NULL, 0, &at));
  CHECK(at == 0);
  unmake(&f);
  nco_nn_model_free(m0), nco_nn_model_free(m);
}

/* conv(2 → 3, 3×3, pad 1) → bn → relu → avgpool 2 → linear(12 → 3) on (2, 4, 4) */
static nco_nn_model *cnn_bn(void) {
  size_t img[3] = {2, 4, 4};
  nco_nn_model *m = NULL;
  nco_act relu = nco_act_make(NCO_ACT_RELU);
  const char *c1 = "conv1";
  if (nco_nn_model_create(3, img, &m) || nco_nn_add_conv2d(m, 3, 3, 3, 1, 1, 1) ||
      nco_nn_add_node(m, "bn", &BN_SPEC, 1, &c1) || nco_nn_add_act(m, &relu) || nco_nn_add_avgpool2d(m, 2, 0) ||
      nco_nn_add_dense(m, 3, 1)) {
    nco_nn_model_free(m);
    return NULL;
  }
  return m;
}

/* Training mode evaluates the whole batch as one chunk on one range: 1
 * thread with max_batch 256 (one chunk anyway), 1 thread with max_batch 4
 * (the workspace grows from 4 samples to 41) and 3 threads with max_batch
 * 24 (3 ranges of chunks of 8 in evaluation mode) give the same bits for every operation and the same
 * committed statistics, in float and in double. Evaluation mode keeps the
 * ranges and chunks: its per-sample outputs agree to float rounding
 * (bounded, 1e-6 relative: the GEMMs see other chunk sizes, which with
 * OpenBLAS 0.3 on x86-64 happened to give the same bits). */
static void test_threads_bits(void) {
  nco_nn_model *m = cnn_bn();
  REQUIRE(m);
  const size_t n = 41, K = 3;
  static const size_t cfg[3][2] = {{0, 1}, {4, 1}, {24, 3}};
  for (int prec = 0; prec < 2; prec++) {
    fix f[3];
    for (int k = 0; k < 3; k++) make(m, n, cfg[k][0], cfg[k][1], (nco_nn_precision)prec, 11, &f[k]);
    const nn_prob *P1 = f[1].pb->impl, *P2 = f[2].pb->impl;
    CHECK(P1->nthreads == 1 && P1->ex[0].cap == 4 && P2->nthreads == 3 && P2->ex[0].cap == 8);
    const size_t d = f[0].pb->dim;
    float *x = calloc(d, 4), *u = calloc(d, 4), *w = calloc(n * K, 4), *res[3][6];
    double loss[3], r64[3][41 * 3];
    float st[3][6];
    REQUIRE(x && u && w);
    nco_rng rng;
    nco_rng_seed(&rng, 4);
    CHECK_OK(nco_problem_init(f[0].pb, &rng, x));
    nco_rng_uniform_fill(&rng, x + 57, 6, -0.5f, 1.5f); /* bn's γ, β (after conv1's 54 + 3) */
    nco_rng_normal_fill(&rng, u, d, 0, 1);
    nco_rng_normal_fill(&rng, w, n * K, 0, 1);
    for (int k = 0; k < 3; k++) {
      nco_problem *pb = f[k].pb;
      for (int j = 0; j < 6; j++) res[k][j] = calloc(j < 3 ? d : n * K, 4);
      CHECK_OK(nco_problem_set_step(pb, 1));
      CHECK_OK(nco_problem_eval(pb, x, NULL, n, &loss[k], res[k][0])); /* commits */
      CHECK_OK(nco_nn_get_state(pb, st[k], 6, NULL));
      CHECK_OK(nco_problem_hvp(pb, x, NULL, n, u, res[k][1]));
      CHECK_OK(pb->type->rhvp(pb, x, pb->all_idx, n, w, u, res[k][2]));
      CHECK_OK(nco_problem_jvp(pb, x, NULL, n, u, res[k][3]));
      CHECK_OK(nco_nn_forward(pb, x, NULL, n, res[k][4]));
      CHECK_OK(nco_problem_residual64(pb, x, NULL, n, r64[k]));
      CHECK_OK(nco_nn_set_training(pb, 0));
      CHECK_OK(nco_nn_forward(pb, x, NULL, n, res[k][5]));
      CHECK_OK(nco_nn_set_training(pb, 1));
    }
    CHECK(P1->ex[0].cap == 41 && P1->ex[0].chunk == 4 && P2->ex[0].cap == 41 && P2->ex[0].chunk == 8);
    for (int k = 1; k < 3; k++) {
      CHECKF(loss[k] == loss[0], "prec %d cfg %d: loss %.17g vs %.17g", prec, k, loss[k], loss[0]);
      for (int j = 0; j < 5; j++)
        CHECKF(!memcmp(res[k][j], res[0][j], (j < 3 ? d : n * K) * 4), "prec %d cfg %d: result %d differs", prec, k, j);
      CHECK(!memcmp(r64[k], r64[0], sizeof r64[0]));
      CHECK(!memcmp(st[k], st[0], sizeof st[0]));
      for (size_t j = 0; j < n * K; j++) CHECK_CLOSE(res[k][5][j], res[0][5][j], 1e-6, 1e-6);
    }
    for (int k = 0; k < 3; k++) {
      for (int j = 0; j < 6; j++) free(res[k][j]);
      unmake(&f[k]);
    }
    free(x), free(u), free(w);
  }
  nco_nn_model_free(m);
}

/* One value per channel is refused in training mode (torch: "Expected
 * more than 1 value per channel when training"); evaluation mode and a
 * single sample with H·W > 1 are fine. */
static void test_one_value(void) {
  nco_nn_model *m = mlp_bn();
  REQUIRE(m);
  fix f;
  make(m, 8, 0, 0, NCO_NN_F32, 2, &f);
  float x[64], out[2];
  double loss;
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_rng_uniform_fill(&rng, x, f.pb->dim, -1, 1);
  static const size_t one[1] = {3};
  CHECK(nco_problem_eval(f.pb, x, one, 1, &loss, NULL) == NCO_ERR_INVALID);
  CHECKF(strstr(nco_last_error(), "more than one value per channel"), "%s", nco_last_error());
  CHECK_OK(nco_nn_set_training(f.pb, 0));
  CHECK_OK(nco_nn_forward(f.pb, x, one, 1, out));
  unmake(&f);
  nco_nn_model_free(m);
  m = cnn_bn();
  REQUIRE(m);
  make(m, 3, 0, 0, NCO_NN_F32, 2, &f);
  float th[256], g[256];
  REQUIRE(f.pb->dim <= 256);
  CHECK_OK(nco_problem_init(f.pb, &rng, th));
  static const size_t s0[1] = {0};
  CHECK_OK(nco_problem_eval(f.pb, th, s0, 1, &loss, g)); /* 16 values per channel */
  unmake(&f);
  nco_nn_model_free(m);
}

/* params.json: the torch modules and the parameter shapes (γ, β: (C,)). */
static void test_layer_map(void) {
  nco_nn_model *m = cnn_bn();
  REQUIRE(m);
  fix f;
  make(m, 4, 0, 0, NCO_NN_F32, 2, &f);
  char *js = NULL;
  REQUIRE_OK(nco_nn_layer_map_json(f.pb, &js));
  CHECKF(strstr(js, "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)") &&
             strstr(js, "\"name\": \"1.weight\", \"ncopt_name\": \"bn.weight\", \"shape\": [3]") &&
             strstr(js, "\"name\": \"1.bias\", \"ncopt_name\": \"bn.bias\", \"shape\": [3]"),
         "%s", js);
  free(js);
  unmake(&f);
  nco_nn_model_free(m);
}

/* The exact Hessian-vector product with the batch coupling against
 * torch's double backward (float64, training mode, least squares) on
 * linear → bn → tanh → linear: the float64 build agrees to the float32
 * rounding of its outputs (|r − t| ≤ ε·|t| + 1e-12·‖t‖∞), the float32
 * build to float32 accuracy through four layers (≤ 1e-4·‖t‖∞, loss 1e-5). */
static void test_torch_hvp(void) {
  nco_nn_model *m = mlp_bn();
  REQUIRE(m);
  const size_t d = 15 + 6 + 8;
  nco_array X = {0}, T = {0}, th = {0}, v = {0}, tl = {0}, tg = {0}, th2 = {0};
  REQUIRE_OK(nco_npy_read(nco_fixture("bn/bn_hvp_x.npy"), &X));
  REQUIRE_OK(nco_npy_read(nco_fixture("bn/bn_hvp_t.npy"), &T));
  REQUIRE_OK(nco_npy_read(nco_fixture("bn/bn_hvp_theta.npy"), &th));
  REQUIRE_OK(nco_npy_read(nco_fixture("bn/bn_hvp_v.npy"), &v));
  REQUIRE_OK(nco_npy_read(nco_fixture("bn/bn_hvp_loss.npy"), &tl));
  REQUIRE_OK(nco_npy_read(nco_fixture("bn/bn_hvp_grad.npy"), &tg));
  REQUIRE_OK(nco_npy_read(nco_fixture("bn/bn_hvp_hv.npy"), &th2));
  REQUIRE(th.size == d && v.size == d && tg.size == d && th2.size == d && tl.size == 1);
  const double *G = tg.data, *H = th2.data;
  double gs = 0, hs = 0;
  for (size_t j = 0; j < d; j++) gs = fmax(gs, fabs(G[j])), hs = fmax(hs, fabs(H[j]));
  for (int prec = 0; prec < 2; prec++) {
    nco_nn_opts o = nco_nn_defaults(NCO_NN_LOSS_LEAST_SQUARES);
    o.precision = (nco_nn_precision)prec;
    nco_problem *pb = NULL;
    REQUIRE_OK(nco_nn_problem_create(m, &X, &T, &o, &pb));
    float g[29], hv[29];
    double loss, dg = 0, dh = 0;
    CHECK_OK(nco_problem_eval(pb, th.data, NULL, 6, &loss, g));
    CHECK_OK(nco_problem_hvp(pb, th.data, NULL, 6, v.data, hv));
    CHECK_CLOSE(loss, ((double *)tl.data)[0], 0, prec ? 1e-12 : 1e-5);
    for (size_t j = 0; j < d; j++) {
      dg = fmax(dg, fabs(g[j] - G[j]) / gs), dh = fmax(dh, fabs(hv[j] - H[j]) / hs);
      if (prec) {
        CHECK_CLOSE(g[j], G[j], 1e-12 * gs, FLT_EPSILON);
        CHECK_CLOSE(hv[j], H[j], 1e-12 * hs, FLT_EPSILON);
      } else {
        CHECK_CLOSE(g[j], G[j], 1e-4 * gs, 0);
        CHECK_CLOSE(hv[j], H[j], 1e-4 * hs, 0);
      }
    }
    printf("batchnorm HVP vs torch (%s): max |g - g_torch|/|g|inf = %.2g, max |Hv - Hv_torch|/|Hv|inf = %.2g\n",
           prec ? "f64" : "f32", dg, dh);
    nco_problem_free(pb);
  }
  nco_array *all[] = {&X, &T, &th, &v, &tl, &tg, &th2};
  for (size_t j = 0; j < sizeof all / sizeof *all; j++) nco_array_free(all[j]);
  nco_nn_model_free(m);
}

int main(void) {
  RUN(test_torch);
  RUN(test_torch_hvp);
  RUN(test_commit_once);
  RUN(test_eval_fold);
  RUN(test_state_api);
  RUN(test_threads_bits);
  RUN(test_one_value);
  RUN(test_layer_map);
  return nco_test_summary();
}
