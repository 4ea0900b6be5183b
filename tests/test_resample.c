/* tests/test_resample.c — upsample (nearest, bilinear with align_corners =
 * False), global_avgpool and unflatten (src/nn/op_upsample.c,
 * op_reshape.c) against PyTorch (tests/fixtures/resample, written by
 * scripts/make_resample_fixtures.py) and a double reference written here
 * from the definitions: y = B x with B's weights in double, dx = Bᵀ dy.
 * Each float32 output is a sum of at most T weighted terms; ncopt's and
 * torch's are within (T + 2)·ε·S of the double value (S = Σ|terms|).
 * The ops are called white-box through their vtables; their derivatives in
 * networks are checked by finite differences in tests/test_nn_grad.c. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/nn.h"
#include "ncopt/npy.h"
#include "nn/internal.h"
#include "testlib.h"

static int load(const char *name, const char *what, nco_dtype dt, size_t n, nco_array *a) {
  return nco_test_load_fixture("resample", "resample", name, what, dt, n, a);
}

/* The 1-D weights of output o (torch's definitions, in double). */
static void weights(int mode, size_t o, size_t n, size_t s, size_t *i, double *w) {
  if (mode == 0) {
    i[0] = i[1] = o / s, w[0] = 1, w[1] = 0;
    return;
  }
  double r = ((double)o + 0.5) / (double)s - 0.5;
  if (r < 0) r = 0;
  i[0] = (size_t)floor(r), i[1] = i[0] + 1 < n ? i[0] + 1 : i[0];
  w[1] = r - (double)i[0], w[0] = 1 - w[1];
}

/* y, |y| terms and dx, |dx| terms in double (mode 2: the channel mean). */
static void reference(int mode, size_t N, size_t C, size_t H, size_t W, size_t s, const float *x, const float *dy,
                      double *y, double *ya, double *dx, double *dxa) {
  const size_t OH = mode == 2 ? 1 : H * s, OW = mode == 2 ? 1 : W * s;
  memset(y, 0, N * C * OH * OW * 8), memset(ya, 0, N * C * OH * OW * 8);
  memset(dx, 0, N * C * H * W * 8), memset(dxa, 0, N * C * H * W * 8);
  for (size_t nc = 0; nc < N * C; nc++)
    for (size_t h = 0; h < OH; h++)
      for (size_t v = 0; v < OW; v++) {
        size_t iy = (nc * OH + h) * OW + v;
        if (mode == 2) {
          for (size_t p = 0; p < H * W; p++) {
            double wt = 1.0 / (double)(H * W);
            y[iy] += wt * x[nc * H * W + p], ya[iy] += fabs(wt * x[nc * H * W + p]);
            dx[nc * H * W + p] += wt * dy[iy], dxa[nc * H * W + p] += fabs(wt * dy[iy]);
          }
          continue;
        }
        size_t ih[2], iw[2];
        double wh[2], ww[2];
        weights(mode, h, H, s, ih, wh);
        weights(mode, v, W, s, iw, ww);
        for (int a = 0; a < 2; a++)
          for (int b = 0; b < 2; b++) {
            size_t ix = (nc * H + ih[a]) * W + iw[b];
            double wt = wh[a] * ww[b];
            if (wt == 0) continue;
            y[iy] += wt * x[ix], ya[iy] += fabs(wt * x[ix]);
            dx[ix] += wt * dy[iy], dxa[ix] += fabs(wt * dy[iy]);
          }
      }
}

/* ncopt and torch within (T + 2)·ε·S of the double reference, plus
 * `coord`: both compute the bilinear source coordinate (h + ½)/s − ½ in
 * float32 (torch in its own order), so the weights may be off by one ulp of
 * the coordinate (≤ ε·max(H, W)), worth ε·max(H, W)·|x₁ − x₀| per axis. */
static void cmp(const char *what, const char *name, size_t n, const float *a, const float *t, const double *r,
                const double *ra, double terms, double coord) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    double bound = (terms + 2) * FLT_EPSILON * ra[i] + 1e-30;
    if (fabs((double)a[i] - r[i]) > bound + coord || fabs(r[i] - t[i]) > bound + coord) {
      if (bad++ < 3)
        fprintf(stderr, "%s %s[%zu]: ncopt %.9g torch %.9g reference %.12g (S %.3g)\n", name, what, i, a[i], t[i], r[i],
                ra[i]);
    }
  }
  CHECKF(bad == 0, "%s %s: %zu of %zu entries outside the bound", name, what, bad, n);
}

static void test_torch(void) {
  const char *names[] = {"near2", "near3", "bil2", "bil3", "bil1", "gap"};
  for (size_t k = 0; k < sizeof names / sizeof *names; k++) {
    nco_array sh = {0}, ax = {0}, ady = {0}, ay = {0}, adx = {0};
    REQUIRE_OK(load(names[k], "shape", NCO_DTYPE_I64, 6, &sh));
    const int64_t *v = sh.data;
    const size_t N = (size_t)v[0], C = (size_t)v[1], H = (size_t)v[2], W = (size_t)v[3], s = (size_t)v[4];
    const int mode = (int)v[5];
    size_t shape[3] = {C, H, W};
    nco_nn_model *m = NULL;
    REQUIRE_OK(nco_nn_model_create(3, shape, &m));
    nco_nn_node_spec op = mode == 2 ? (nco_nn_node_spec){.kind = NCO_NN_GLOBAL_AVGPOOL}
                                    : (nco_nn_node_spec){.kind = NCO_NN_UPSAMPLE, .stride = s, .mode = mode};
    REQUIRE_OK(nco_nn_add_node(m, "r", &op, 1, (const char *[]){"input"}));
    const nn_layer *l = &m->layers[0];
    const size_t nx = N * C * H * W, ny = N * l->out_size;
    CHECK(l->out_size == (mode == 2 ? C : C * H * W * s * s));
    CHECK_OK(load(names[k], "x", NCO_DTYPE_F32, nx, &ax));
    CHECK_OK(load(names[k], "dy", NCO_DTYPE_F32, ny, &ady));
    CHECK_OK(load(names[k], "y", NCO_DTYPE_F32, ny, &ay));
    CHECK_OK(load(names[k], "dx", NCO_DTYPE_F32, nx, &adx));
    REQUIRE(ax.data && ady.data && ay.data && adx.data);
    float *y = calloc(ny, 4), *dx = calloc(nx, 4);
    double *r = calloc(2 * (ny + nx), 8);
    REQUIRE(y && dx && r);
    nn_call c = {.l = l, .nb = N, .y = y};
    c.x[0] = ax.data;
    l->op->fwd[0](&c);
    c.dy = ady.data, c.dx[0] = dx;
    l->op->vjp[0](&c);
    reference(mode, N, C, H, W, s, ax.data, ady.data, r, r + ny, r + 2 * ny, r + 2 * ny + nx);
    double ty = mode == 2 ? (double)(H * W) : 4, tdx = mode == 2 ? 1 : 4.0 * (double)((s + 1) * (s + 1));
    double xmax = 0, gmax = 0;
    for (size_t i = 0; i < nx; i++) xmax = fmax(xmax, fabs(((const float *)ax.data)[i]));
    for (size_t i = 0; i < ny; i++) gmax = fmax(gmax, fabs(((const float *)ady.data)[i]));
    const double ulp_coord = mode == 1 ? FLT_EPSILON * (double)(H > W ? H : W) : 0;
    cmp("y", names[k], ny, y, ay.data, r, r + ny, ty, 2 * 2 * ulp_coord * xmax);
    cmp("dx", names[k], nx, dx, adx.data, r + 2 * ny, r + 2 * ny + nx, tdx,
        2 * ulp_coord * gmax * (double)((s + 1) * (s + 1)));
    if (mode == 0) CHECK(!memcmp(y, ay.data, ny * 4)); /* nearest copies: exact */
    free(y), free(dx), free(r);
    nco_array_free(&sh), nco_array_free(&ax), nco_array_free(&ady), nco_array_free(&ay), nco_array_free(&adx);
    nco_nn_model_free(m);
  }
}

static void test_shapes(void) {
  size_t flat = 12, img[3] = {3, 2, 2};
  nco_nn_model *m = NULL;
  REQUIRE_OK(nco_nn_model_create(1, &flat, &m));
  nco_nn_node_spec un = {.kind = NCO_NN_UNFLATTEN, .out = 3, .kh = 2, .kw = 2};
  REQUIRE_OK(nco_nn_add_node(m, "u", &un, 1, (const char *[]){"input"}));
  CHECK(m->layers[0].oc == 3 && m->layers[0].oh == 2 && !m->layers[0].out_flat);
  un.out = 5;
  CHECK_ERR(nco_nn_add_node(m, "v", &un, 1, (const char *[]){"input"}), NCO_ERR_SHAPE, "(5, 2, 2) holds 20 values, the input 12");
  nco_nn_node_spec up = {.kind = NCO_NN_UPSAMPLE, .stride = 2};
  CHECK_ERR(nco_nn_add_node(m, "w", &up, 1, (const char *[]){"input"}), NCO_ERR_SHAPE, "needs a (channels, height, width)");
  REQUIRE_OK(nco_nn_add_node(m, "w", &up, 1, (const char *[]){"u"}));
  nco_nn_node_spec gap = {.kind = NCO_NN_GLOBAL_AVGPOOL};
  REQUIRE_OK(nco_nn_add_node(m, "g", &gap, 1, (const char *[]){"w"}));
  CHECK(nco_nn_out_size(m) == 3);
  nco_nn_model_free(m);
  REQUIRE_OK(nco_nn_model_create(3, img, &m));
  up.stride = 0;
  CHECK_ERR(nco_nn_add_node(m, "w", &up, 1, (const char *[]){"input"}), NCO_ERR_RANGE, "scale_factor");
  nco_nn_model_free(m);
}

int main(void) {
  RUN(test_torch);
  RUN(test_shapes);
  return nco_test_summary();
}
