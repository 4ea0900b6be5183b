/* tests/test_convt.c — conv_transpose2d (src/nn/op_convt.c) against
 * PyTorch's torch.nn.functional.conv_transpose2d (fixtures in
 * tests/fixtures/convt, written by scripts/make_convt_fixtures.py) and a
 * naive double reference written here from the definition
 *     y[n,o,h,w] = b[o] + Σ_{c,i,j,p,q: h = p·s+i−pad, w = q·s+j−pad} W[c,o,i,j]·x[n,c,p,q],
 * output shapes by torch's rule, initialisation scale (fan-in C_out·k²),
 * and refused shapes. The op is called white-box through its vtable (the
 * engine's passes), its derivatives along every path of a network are
 * checked against finite differences in tests/test_nn_grad.c.
 *
 * Tolerance. Each float32 output is a sum of at most T products; ours and
 * torch's are each within γ_T·S of the exact value (S = Σ|terms|, from the
 * double reference), so |ours − torch| ≤ (T + 2)·FLT_EPSILON·S. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/nn.h"
#include "ncopt/npy.h"
#include "nn/conv.h"
#include "nn/internal.h"
#include "testlib.h"

typedef struct tc {
  size_t N, C, H, W, K, k, s, pad, opad;
  int bias;
  size_t OH, OW;
} tc;

static int load(const char *name, const char *what, nco_dtype dt, size_t n, nco_array *a) {
  return nco_test_load_fixture("convt", "convt", name, what, dt, n, a);
}

/* The naive reference in double: y (value) and ya (Σ|terms|), dx, dw, db
 * likewise, from x, W, b, dy (float inputs). */
static void naive(const tc *c, const float *x, const float *w, const float *b, const float *dy, double *y, double *ya,
                  double *dx, double *dxa, double *dw, double *dwa, double *db, double *dba) {
  const size_t ny = c->N * c->K * c->OH * c->OW, nx = c->N * c->C * c->H * c->W, nw = c->C * c->K * c->k * c->k;
  memset(y, 0, ny * 8), memset(ya, 0, ny * 8), memset(dx, 0, nx * 8), memset(dxa, 0, nx * 8);
  memset(dw, 0, nw * 8), memset(dwa, 0, nw * 8), memset(db, 0, c->K * 8), memset(dba, 0, c->K * 8);
  for (size_t n = 0; n < c->N; n++)
    for (size_t o = 0; o < c->K; o++) {
      for (size_t h = 0; h < c->OH; h++)
        for (size_t v = 0; v < c->OW; v++) {
          size_t iy = ((n * c->K + o) * c->OH + h) * c->OW + v;
          if (c->bias) y[iy] += b[o], ya[iy] += fabs(b[o]);
          db[o] += dy[iy], dba[o] += fabs(dy[iy]);
        }
      for (size_t ch = 0; ch < c->C; ch++)
        for (size_t p = 0; p < c->H; p++)
          for (size_t q = 0; q < c->W; q++)
            for (size_t i = 0; i < c->k; i++)
              for (size_t j = 0; j < c->k; j++) {
                long h = (long)(p * c->s + i) - (long)c->pad, v = (long)(q * c->s + j) - (long)c->pad;
                if (h < 0 || v < 0 || h >= (long)c->OH || v >= (long)c->OW) continue;
                size_t iy = ((n * c->K + o) * c->OH + (size_t)h) * c->OW + (size_t)v;
                size_t ix = ((n * c->C + ch) * c->H + p) * c->W + q;
                size_t iw = ((ch * c->K + o) * c->k + i) * c->k + j;
                double t = (double)w[iw] * x[ix];
                y[iy] += t, ya[iy] += fabs(t);
                t = (double)w[iw] * dy[iy], dx[ix] += t, dxa[ix] += fabs(t);
                t = (double)x[ix] * dy[iy], dw[iw] += t, dwa[iw] += fabs(t);
              }
    }
}

/* |a − t| ≤ terms·ε·S for every entry (a: ncopt, t: torch); and the
 * reference agrees with torch (|r − t| ≤ (terms + 2)·ε·S). */
static void cmp(const char *what, const char *name, size_t n, const float *a, const float *t, const double *r,
                const double *ra, double terms, double *maxdev) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    double bound = (terms + 2) * FLT_EPSILON * ra[i] + 1e-30;
    double d = fabs((double)a[i] - t[i]);
    if (d > *maxdev) *maxdev = d;
    if (d > bound || fabs(r[i] - t[i]) > bound) {
      if (bad++ < 3)
        fprintf(stderr, "%s %s[%zu]: ncopt %.9g torch %.9g reference %.12g (bound %.3g)\n", name, what, i, a[i], t[i],
                r[i], bound);
    }
  }
  CHECKF(bad == 0, "%s %s: %zu of %zu entries outside the bound", name, what, bad, n);
}

/* One layer model: input (C, H, W) -> conv_transpose2d. */
static nco_nn_model *model(const tc *c) {
  nco_nn_model *m = NULL;
  size_t shape[3] = {c->C, c->H, c->W};
  if (nco_nn_model_create(3, shape, &m)) return NULL;
  nco_nn_node_spec op = {.kind = NCO_NN_CONV_TRANSPOSE2D, .out = c->K, .kh = c->k, .kw = c->k, .stride = c->s,
                         .pad = c->pad, .opad = c->opad, .bias = c->bias};
  const char *in = "input";
  if (nco_nn_add_node(m, "up", &op, 1, &in)) {
    nco_nn_model_free(m);
    return NULL;
  }
  return m;
}

static void test_torch(void) {
  const char *names[] = {"a", "b", "c", "d", "e"};
  for (size_t ci = 0; ci < sizeof names / sizeof *names; ci++) {
    nco_array sh = {0}, ax = {0}, aw = {0}, ab = {0}, ady = {0}, ay = {0}, adx = {0}, adw = {0}, adb = {0};
    REQUIRE_OK(load(names[ci], "shape", NCO_DTYPE_I64, 10, &sh));
    const int64_t *v = sh.data;
    tc c = {(size_t)v[0], (size_t)v[1], (size_t)v[2], (size_t)v[3], (size_t)v[4], (size_t)v[5], (size_t)v[6],
            (size_t)v[7], (size_t)v[8], (int)v[9], 0, 0};
    /* torch's shape rule */
    c.OH = (c.H - 1) * c.s + c.k + c.opad - 2 * c.pad, c.OW = (c.W - 1) * c.s + c.k + c.opad - 2 * c.pad;
    nco_nn_model *m = model(&c);
    REQUIRE(m);
    const nn_layer *l = &m->layers[0];
    CHECK(l->oc == c.K && l->oh == c.OH && l->ow == c.OW && l->nw == c.C * c.K * c.k * c.k);
    CHECK(l->fan_in == c.K * c.k * c.k);
    const size_t nx = c.N * c.C * c.H * c.W, nw = l->nw, ny = c.N * c.K * c.OH * c.OW;
    CHECK_OK(load(names[ci], "x", NCO_DTYPE_F32, nx, &ax));
    CHECK_OK(load(names[ci], "w", NCO_DTYPE_F32, nw, &aw));
    CHECK_OK(load(names[ci], "dy", NCO_DTYPE_F32, ny, &ady));
    CHECK_OK(load(names[ci], "y", NCO_DTYPE_F32, ny, &ay));
    CHECK_OK(load(names[ci], "dx", NCO_DTYPE_F32, nx, &adx));
    CHECK_OK(load(names[ci], "dw", NCO_DTYPE_F32, nw, &adw));
    if (c.bias) {
      CHECK_OK(load(names[ci], "b", NCO_DTYPE_F32, c.K, &ab));
      CHECK_OK(load(names[ci], "db", NCO_DTYPE_F32, c.K, &adb));
    }
    REQUIRE(ax.data && aw.data && ady.data && ay.data && adx.data && adw.data && (!c.bias || (ab.data && adb.data)));
    /* θ = (W, b) as the engine lays it out; the pass on the whole batch */
    const size_t dim = nw + (c.bias ? c.K : 0);
    float *th = calloc(dim, 4), *g = calloc(dim, 4), *y = calloc(ny, 4), *dx = calloc(nx, 4);
    float *ws = calloc(l->op->ws_elems(l, c.N), 4);
    double *r = calloc(2 * (ny + nx + nw + c.K), 8);
    REQUIRE(th && g && y && dx && ws && r);
    memcpy(th, aw.data, nw * 4);
    if (c.bias) memcpy(th + nw, ab.data, c.K * 4);
    nn_scratch sc = {.ws = ws};
    nn_call call = {.l = l, .nb = c.N, .W = th, .y = y, .sc = &sc};
    call.x[0] = ax.data;
    l->op->fwd[0](&call);
    call.dy = ady.data, call.dx[0] = dx, call.gW = g;
    l->op->vjp[0](&call);
    double *ry = r, *rya = ry + ny, *rdx = rya + ny, *rdxa = rdx + nx, *rdw = rdxa + nx, *rdwa = rdw + nw;
    double *rdb = rdwa + nw, *rdba = rdb + c.K;
    naive(&c, ax.data, aw.data, c.bias ? ab.data : NULL, ady.data, ry, rya, rdx, rdxa, rdw, rdwa, rdb, rdba);
    double md = 0, taps = (double)(c.C * c.k * c.k);
    cmp("y", names[ci], ny, y, ay.data, ry, rya, taps + 1, &md);
    cmp("dx", names[ci], nx, dx, adx.data, rdx, rdxa, (double)(c.K * c.k * c.k), &md);
    cmp("dw", names[ci], nw, g, adw.data, rdw, rdwa, (double)(c.N * c.H * c.W), &md);
    if (c.bias) cmp("db", names[ci], c.K, g + nw, adb.data, rdb, rdba, (double)(c.N * c.OH * c.OW), &md);
    printf("torch conv_transpose2d %s: output (%zu, %zu, %zu), max |ncopt - torch| = %.3g\n", names[ci], c.K, c.OH,
           c.OW, md);
    free(th), free(g), free(y), free(dx), free(ws), free(r);
    nco_array_free(&sh), nco_array_free(&ax), nco_array_free(&aw), nco_array_free(&ab), nco_array_free(&ady);
    nco_array_free(&ay), nco_array_free(&adx), nco_array_free(&adw), nco_array_free(&adb);
    nco_nn_model_free(m);
  }
}

/* torch's init: kaiming_uniform_(a = √5) on (C_in, C_out, k, k) and the
 * bias, both bounded by 1/√fan_in with fan_in = C_out·k² (weight.size(1)·k²). */
static void test_init(void) {
  tc c = {1, 8, 2, 2, 3, 4, 2, 1, 0, 1, 0, 0};
  nco_nn_model *m = model(&c);
  REQUIRE(m);
  const size_t d = nco_nn_dim(m);
  CHECK(d == 8 * 3 * 16 + 3);
  float *th = calloc(d, 4);
  nco_rng r;
  nco_rng_seed(&r, 1);
  REQUIRE_OK(nco_nn_init(m, NCO_NN_INIT_TORCH, 0, &r, th));
  double bound = 1 / sqrt(3.0 * 16), mx = 0;
  for (size_t i = 0; i < d; i++) mx = fmax(mx, fabs(th[i]));
  CHECKF(mx <= bound && mx > 0.9 * bound, "max |θ| %g, bound %g", mx, bound);
  free(th);
  nco_nn_model_free(m);
}

static void test_shapes(void) {
  size_t shape[3] = {2, 3, 3};
  nco_nn_model *m = NULL;
  REQUIRE_OK(nco_nn_model_create(3, shape, &m));
  const char *in = "input";
  nco_nn_node_spec op = {.kind = NCO_NN_CONV_TRANSPOSE2D, .out = 2, .kh = 3, .kw = 3, .stride = 2, .pad = 1, .opad = 2};
  CHECK_ERR(nco_nn_add_node(m, "a", &op, 1, &in), NCO_ERR_SHAPE, "output_padding 2 must be smaller than the stride 2");
  op.opad = 0, op.pad = 4, op.stride = 1;
  CHECK_ERR(nco_nn_add_node(m, "b", &op, 1, &in), NCO_ERR_SHAPE, "leaves no output");
  op.pad = 1;
  CHECK_OK(nco_nn_add_node(m, "c", &op, 1, &in));
  CHECK(nco_nn_out_size(m) == 2 * 3 * 3); /* (3 − 1)·1 − 2 + 3 = 3 */
  nco_nn_model_free(m);
  size_t flat = 4;
  REQUIRE_OK(nco_nn_model_create(1, &flat, &m));
  CHECK_ERR(nco_nn_add_node(m, "d", &op, 1, &in), NCO_ERR_SHAPE, "needs a (channels, height, width) input");
  nco_nn_model_free(m);
}

int main(void) {
  RUN(test_torch);
  RUN(test_init);
  RUN(test_shapes);
  return nco_test_summary();
}
