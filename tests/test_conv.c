/* tests/test_conv.c — conv2d and pooling kernels (src/nn/conv.h).
 *
 * References, all independent of src/nn/conv.c:
 *   - a naive direct convolution and its naive backward (dx, dw, db by the
 *     defining sums), in double, written here;
 *   - float64 central differences of the _f64 forward (every entry of x, w,
 *     b for the small shapes), and nco_check_gradient / nco_check_jvp_vjp
 *     on a small least-squares problem built from the kernels;
 *   - adjoint identities ⟨dy, conv(x, w)⟩ = ⟨dx, x⟩ = ⟨dw, w⟩;
 *   - naive max / average pooling, finite differences away from ties;
 *   - PyTorch's conv2d / max_pool2d / avg_pool2d values and gradients
 *     (tests/fixtures/conv, written by scripts/make_conv_fixtures.py).
 *
 * Tolerances. A float sum of n products computed in any order is within
 * γ_n·S ≤ 1.01·n·u·S of the exact value, u = ε/2, S = Σ|terms| (Higham,
 * Accuracy and Stability of Numerical Algorithms, 2nd ed., §3.1, eq. 3.5).
 * Each comparison below computes S for every entry with the naive reference
 * and accepts |a − ref| ≤ (n + 2)·ε·S with ε = FLT_EPSILON (float kernels)
 * or DBL_EPSILON (double kernels): the bound for the kernel plus the same
 * for the other side when that side also rounds (torch), i.e. no tuning.
 */
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "nn/conv.h"
#include "nn/conv_dnnl.h"
#include "testlib.h"

typedef struct cspec {
  size_t N, C, H, W, K, kh, kw, st, pad;
  size_t d; /* dilation; 0 (unset) means 1 */
} cspec;

static size_t dil(const cspec *c) { return c->d ? c->d : 1; }
/* torch's (H + 2·pad − d·(k − 1) − 1)/stride + 1 */
static size_t odim(size_t H, size_t k, size_t st, size_t pad, size_t d) {
  return (H + 2 * pad - d * (k - 1) - 1) / st + 1;
}
static int shape_of(const cspec *c, nco_conv_shape *s) {
  return nco_conv_shape_init_dil(s, c->N, c->C, c->H, c->W, c->K, c->kh, c->kw, c->st, c->pad, dil(c));
}

static void *xcalloc(size_t n, size_t sz) { return n ? calloc(n, sz) : calloc(1, sz); }

/* ---- naive references (double) ------------------------------------------ */

/* y[n,k,p,q] = b[k] + Σ_{c,i,j} w[k,c,i,j]·x[n,c,p·s+i·d−pad,q·s+j·d−pad];
 * yabs = |b[k]| + Σ |w·x| (the S of the tolerance). */
static void naive_conv(const cspec *c, const double *x, const double *w, const double *b,
                       double *y, double *yabs) {
  const size_t OH = odim(c->H, c->kh, c->st, c->pad, dil(c)), OW = odim(c->W, c->kw, c->st, c->pad, dil(c));
  for (size_t n = 0; n < c->N; n++)
    for (size_t k = 0; k < c->K; k++)
      for (size_t p = 0; p < OH; p++)
        for (size_t q = 0; q < OW; q++) {
          double acc = b ? b[k] : 0, aa = b ? fabs(b[k]) : 0;
          for (size_t ci = 0; ci < c->C; ci++)
            for (size_t i = 0; i < c->kh; i++)
              for (size_t j = 0; j < c->kw; j++) {
                long ih = (long)(p * c->st + i * dil(c)) - (long)c->pad;
                long iw = (long)(q * c->st + j * dil(c)) - (long)c->pad;
                if (ih < 0 || iw < 0 || ih >= (long)c->H || iw >= (long)c->W) continue;
                double t = w[((k * c->C + ci) * c->kh + i) * c->kw + j] *
                           x[((n * c->C + ci) * c->H + (size_t)ih) * c->W + (size_t)iw];
                acc += t;
                aa += fabs(t);
              }
          size_t o = ((n * c->K + k) * OH + p) * OW + q;
          y[o] = acc;
          if (yabs) yabs[o] = aa;
        }
}

/* The defining sums of the gradient of Σ dy·y: dx[n,c,ih,iw] = Σ w·dy,
 * dw[k,c,i,j] = Σ_{n,p,q} x·dy, db[k] = Σ dy; *abs = Σ |terms|. */
static void naive_conv_bwd(const cspec *c, const double *x, const double *w, const double *dy,
                           double *dx, double *dxa, double *dw, double *dwa, double *db,
                           double *dba) {
  const size_t OH = odim(c->H, c->kh, c->st, c->pad, dil(c)), OW = odim(c->W, c->kw, c->st, c->pad, dil(c));
  const size_t nx = c->N * c->C * c->H * c->W, nw = c->K * c->C * c->kh * c->kw;
  memset(dx, 0, nx * sizeof *dx);
  memset(dxa, 0, nx * sizeof *dxa);
  memset(dw, 0, nw * sizeof *dw);
  memset(dwa, 0, nw * sizeof *dwa);
  memset(db, 0, c->K * sizeof *db);
  memset(dba, 0, c->K * sizeof *dba);
  for (size_t n = 0; n < c->N; n++)
    for (size_t k = 0; k < c->K; k++)
      for (size_t p = 0; p < OH; p++)
        for (size_t q = 0; q < OW; q++) {
          double g = dy[((n * c->K + k) * OH + p) * OW + q];
          db[k] += g;
          dba[k] += fabs(g);
          for (size_t ci = 0; ci < c->C; ci++)
            for (size_t i = 0; i < c->kh; i++)
              for (size_t j = 0; j < c->kw; j++) {
                long ih = (long)(p * c->st + i * dil(c)) - (long)c->pad;
                long iw = (long)(q * c->st + j * dil(c)) - (long)c->pad;
                if (ih < 0 || iw < 0 || ih >= (long)c->H || iw >= (long)c->W) continue;
                size_t xi = ((n * c->C + ci) * c->H + (size_t)ih) * c->W + (size_t)iw;
                size_t wi = ((k * c->C + ci) * c->kh + i) * c->kw + j;
                dx[xi] += w[wi] * g;
                dxa[xi] += fabs(w[wi] * g);
                dw[wi] += x[xi] * g;
                dwa[wi] += fabs(x[xi] * g);
              }
        }
}

/* Entries of a that break |a − ref| ≤ nterms·eps·abs (abs = S per entry);
 * *worst = max |a − ref| / tolerance seen (≤ 1 passes), *maxdev = max |a − ref|. */
static size_t cmp_bound(const char *what, size_t n, const float *af, const double *ad,
                        const double *ref, const double *abs, double nterms, double eps,
                        double *maxdev) {
  size_t bad = 0;
  double md = 0;
  for (size_t i = 0; i < n; i++) {
    double a = af ? (double)af[i] : ad[i];
    double d = fabs(a - ref[i]), tol = nterms * eps * abs[i];
    if (d > md) md = d;
    if (!(d <= tol)) {
      if (bad < 5)
        fprintf(stderr, "  %s[%zu] = %.9g, reference %.9g, |diff| %.3g > tol %.3g\n", what, i, a,
                ref[i], d, tol);
      bad++;
    }
  }
  if (maxdev && md > *maxdev) *maxdev = md;
  return bad;
}

static void fill_f32(nco_rng *r, float *v, size_t n) { nco_rng_normal_fill(r, v, n, 0.0, 1.0); }
static void to_f64(const float *a, double *b, size_t n) {
  for (size_t i = 0; i < n; i++) b[i] = a[i];
}

/* ---- shapes -------------------------------------------------------------- */

static void test_shape_init(void) {
  nco_conv_shape s;
  CHECK_OK(nco_conv_shape_init(&s, 2, 3, 7, 5, 4, 3, 3, 2, 1));
  CHECK(s.OH == 4 && s.OW == 3); /* (7+2−3)/2+1 = 4, (5+2−3)/2+1 = 3 */
  CHECK_OK(nco_conv_shape_init(&s, 1, 1, 28, 28, 6, 5, 5, 1, 2));
  CHECK(s.OH == 28 && s.OW == 28);
  CHECK_OK(nco_conv_shape_init(&s, 1, 6, 14, 14, 16, 5, 5, 1, 0));
  CHECK(s.OH == 10 && s.OW == 10);
  /* kernel = input size, and = padded input size: one output pixel */
  CHECK_OK(nco_conv_shape_init(&s, 1, 1, 5, 4, 1, 5, 4, 1, 0));
  CHECK(s.OH == 1 && s.OW == 1);
  CHECK_OK(nco_conv_shape_init(&s, 1, 1, 5, 4, 1, 7, 6, 3, 1));
  CHECK(s.OH == 1 && s.OW == 1);
  /* floor: (6 − 2)/3 + 1 = 2 */
  CHECK_OK(nco_conv_shape_init(&s, 1, 1, 6, 6, 1, 2, 2, 3, 0));
  CHECK(s.OH == 2 && s.OW == 2);
  CHECK(nco_conv_workspace(&s) >= (1 * 2 * 2 + 1) * s.OH * s.OW);

  CHECK_ERR(nco_conv_shape_init(&s, 0, 1, 5, 5, 1, 3, 3, 1, 0), NCO_ERR_SHAPE, "batch 0");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 0, 5, 5, 1, 3, 3, 1, 0), NCO_ERR_SHAPE, "channels 0");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 1, 5, 5, 0, 3, 3, 1, 0), NCO_ERR_SHAPE, "filters 0");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 1, 5, 5, 1, 0, 3, 1, 0), NCO_ERR_SHAPE, "kernel 0x3");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 1, 5, 5, 1, 3, 3, 0, 0), NCO_ERR_SHAPE, "stride 0");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 1, 0, 5, 1, 3, 3, 1, 0), NCO_ERR_SHAPE, "input 0x5");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 1, 5, 5, 1, 6, 3, 1, 0), NCO_ERR_SHAPE,
            "kernel 6x3 is larger than the padded input 5x5");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 1, 5, 4, 1, 3, 7, 1, 1), NCO_ERR_SHAPE,
            "larger than the padded input 7x6");
  CHECK_ERR(nco_conv_shape_init(&s, SIZE_MAX / 4, 3, 32, 32, 6, 5, 5, 1, 2), NCO_ERR_OVERFLOW,
            "conv2d: sizes overflow");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 1, 5, 5, 1, 3, 3, 1, SIZE_MAX / 2), NCO_ERR_OVERFLOW,
            "padding");
  CHECK_ERR(nco_conv_shape_init(&s, 1, 1, (size_t)1 << 33, 1, 1, 1, 1, 1, 0), NCO_ERR_OVERFLOW,
            "overflow");
  CHECK_ERR(nco_conv_shape_init(NULL, 1, 1, 5, 5, 1, 3, 3, 1, 0), NCO_ERR_INVALID, "NULL");

  /* dilation: OH = (H + 2·pad − d·(kh − 1) − 1)/stride + 1 (torch's rule) */
  CHECK_OK(nco_conv_shape_init_dil(&s, 2, 3, 9, 8, 4, 3, 3, 2, 2, 2));
  CHECK(s.OH == 5 && s.OW == 4 && s.dil == 2); /* (9+4−4−1)/2+1 = 5, (8+4−4−1)/2+1 = 4 */
  CHECK_OK(nco_conv_shape_init_dil(&s, 1, 1, 12, 11, 1, 3, 2, 2, 3, 3));
  CHECK(s.OH == 6 && s.OW == 7); /* (12+6−6−1)/2+1 = 6, (11+6−3−1)/2+1 = 7 */
  CHECK_OK(nco_conv_shape_init_dil(&s, 1, 1, 5, 5, 1, 3, 3, 1, 0, 2)); /* spans the input */
  CHECK(s.OH == 1 && s.OW == 1);
  CHECK_OK(nco_conv_shape_init(&s, 1, 1, 5, 5, 1, 3, 3, 1, 0));
  CHECK(s.dil == 1);
  CHECK_ERR(nco_conv_shape_init_dil(&s, 1, 1, 5, 5, 1, 3, 3, 1, 0, 0), NCO_ERR_SHAPE, "dilation 0");
  CHECK_ERR(nco_conv_shape_init_dil(&s, 1, 1, 5, 5, 1, 3, 3, 1, 0, 3), NCO_ERR_SHAPE,
            "kernel 3x3 with dilation 3 (spanning 7x7) is larger than the padded input 5x5");
  CHECK_ERR(nco_conv_shape_init_dil(&s, 1, 1, 5, 6, 1, 1, 3, 1, 1, 4), NCO_ERR_SHAPE,
            "kernel 1x3 with dilation 4 (spanning 1x9) is larger than the padded input 7x8");
  CHECK_ERR(nco_conv_shape_init_dil(&s, 1, 1, 5, 5, 1, 3, 3, 1, 0, SIZE_MAX), NCO_ERR_OVERFLOW,
            "dilation");

  size_t OH = 0, OW = 0;
  CHECK_OK(nco_pool_shape_init(2, 6, 28, 28, 2, 2, &OH, &OW));
  CHECK(OH == 14 && OW == 14);
  CHECK_OK(nco_pool_shape_init(1, 1, 7, 9, 3, 2, &OH, &OW)); /* (7−3)/2+1 = 3, (9−3)/2+1 = 4 */
  CHECK(OH == 3 && OW == 4);
  CHECK_ERR(nco_pool_shape_init(1, 1, 7, 9, 8, 1, &OH, &OW), NCO_ERR_SHAPE,
            "window 8x8 is larger than the input 7x9");
  CHECK_ERR(nco_pool_shape_init(1, 1, 7, 9, 2, 0, &OH, &OW), NCO_ERR_SHAPE, "stride 0");
  CHECK_ERR(nco_pool_shape_init(1, 1, (size_t)1 << 16, (size_t)1 << 16, 2, 2, &OH, &OW),
            NCO_ERR_OVERFLOW, "2^31");
}

/* ---- forward and backward against the naive reference --------------------- */

/* The grid of the brief: stride 1/2 (and 3 > kernel), pad 0/1/2, C = 1/3,
 * K = 1/6, odd sizes, square and non-square kernels, kernel = input size. */
static size_t make_cases(cspec *out, size_t cap) {
  size_t n = 0;
  const size_t strides[] = {1, 2, 3}, pads[] = {0, 1, 2}, chans[] = {1, 3}, filts[] = {1, 6};
  const size_t kers[][2] = {{3, 3}, {2, 3}, {1, 1}};
  for (size_t a = 0; a < 3; a++)
    for (size_t bp = 0; bp < 3; bp++)
      for (size_t cc = 0; cc < 2; cc++)
        for (size_t k = 0; k < 2; k++)
          for (size_t kk = 0; kk < 3; kk++)
            if (n < cap)
              out[n++] = (cspec){2, chans[cc], 7, 5, filts[k], kers[kk][0], kers[kk][1],
                                 strides[a], pads[bp], 1};
  /* kernel = input size (pad 0), = padded input size (pad 1, 2) */
  const cspec extra[] = {
      {2, 3, 5, 4, 6, 5, 4, 1, 0, 1}, {2, 1, 5, 4, 6, 7, 6, 1, 1, 1}, {1, 3, 3, 3, 2, 7, 7, 2, 2, 1},
      {3, 2, 1, 6, 2, 1, 3, 1, 0, 1}, /* a 1-row input */
      {3, 2, 9, 8, 5, 4, 4, 2, 2, 1}, /* even kernel, stride 2, padding 2 */
      /* dilation: strides 1–3, paddings 0–3, the dilated kernel = the
       * (padded) input, non-square kernels, 1×k kernels */
      {2, 3, 7, 5, 6, 3, 3, 1, 0, 2}, {2, 1, 7, 5, 1, 3, 2, 2, 1, 2}, {2, 3, 9, 8, 4, 3, 3, 2, 2, 3},
      {2, 2, 5, 5, 3, 3, 3, 1, 0, 2}, {1, 2, 5, 5, 2, 3, 3, 1, 1, 3}, {3, 2, 11, 9, 3, 2, 3, 3, 1, 4},
      {2, 3, 6, 13, 4, 1, 4, 1, 2, 3}, {2, 2, 8, 8, 5, 2, 2, 2, 0, 7},
      /* the oneDNN path's blocked layouts (channels past one block of 16),
       * a batch whose 16 groups have two sizes (2 and 3 samples), stride 2 */
      {37, 16, 6, 6, 17, 3, 3, 1, 1, 1}, {20, 16, 8, 7, 32, 3, 3, 2, 1, 1}, {18, 32, 5, 5, 16, 2, 2, 2, 0, 1},
      {19, 1, 9, 9, 16, 3, 3, 1, 1, 1}, {17, 16, 9, 9, 16, 3, 3, 1, 1, 2}, /* a 1-channel input; dilation */
  };
  for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
    if (n < cap) out[n++] = extra[i];
  return n;
}

/* One case: f32 and f64 forward / backward (with and without bias) against
 * the naive double reference. Returns the failures. */
static size_t check_vs_naive(const cspec *c, nco_rng *rng, int with_bias, double *maxdev32) {
  nco_conv_shape s;
  if (shape_of(c, &s)) {
    fprintf(stderr, "shape init failed: %s\n", nco_last_error());
    return 1;
  }
  const size_t nx = c->N * c->C * c->H * c->W, nw = c->K * c->C * c->kh * c->kw;
  const size_t ny = c->N * c->K * s.OH * s.OW, nws = nco_conv_workspace(&s);
  const double CKK = (double)(c->C * c->kh * c->kw);
  float *x = xcalloc(nx, 4), *w = xcalloc(nw, 4), *b = xcalloc(c->K, 4), *dy = xcalloc(ny, 4);
  float *y = xcalloc(ny, 4), *dx = xcalloc(nx, 4), *dw = xcalloc(nw, 4), *db = xcalloc(c->K, 4);
  float *ws = xcalloc(nws, 4);
  double *xd = xcalloc(nx, 8), *wd = xcalloc(nw, 8), *bd = xcalloc(c->K, 8), *dyd = xcalloc(ny, 8);
  double *yd = xcalloc(ny, 8), *dxd = xcalloc(nx, 8), *dwd = xcalloc(nw, 8), *dbd = xcalloc(c->K, 8);
  double *wsd = xcalloc(nws, 8);
  double *ry = xcalloc(ny, 8), *rya = xcalloc(ny, 8), *rdx = xcalloc(nx, 8), *rdxa = xcalloc(nx, 8);
  double *rdw = xcalloc(nw, 8), *rdwa = xcalloc(nw, 8), *rdb = xcalloc(c->K, 8),
         *rdba = xcalloc(c->K, 8);
  size_t bad = 0;
  if (!x || !w || !b || !dy || !y || !dx || !dw || !db || !ws || !xd || !wd || !bd || !dyd || !yd ||
      !dxd || !dwd || !dbd || !wsd || !ry || !rya || !rdx || !rdxa || !rdw || !rdwa || !rdb ||
      !rdba) {
    bad = 1;
    goto done;
  }
  fill_f32(rng, x, nx);
  fill_f32(rng, w, nw);
  fill_f32(rng, b, c->K);
  fill_f32(rng, dy, ny);
  to_f64(x, xd, nx);
  to_f64(w, wd, nw);
  to_f64(b, bd, c->K);
  to_f64(dy, dyd, ny);
  const float *bb = with_bias ? b : NULL;
  const double *bbd = with_bias ? bd : NULL;
  naive_conv(c, xd, wd, bbd, ry, rya);
  naive_conv_bwd(c, xd, wd, dyd, rdx, rdxa, rdw, rdwa, rdb, rdba);

  /* outputs pre-filled with NaN: every entry must be overwritten */
  for (size_t i = 0; i < ny; i++) y[i] = NAN, yd[i] = NAN;
  for (size_t i = 0; i < nx; i++) dx[i] = NAN, dxd[i] = NAN;
  for (size_t i = 0; i < nw; i++) dw[i] = NAN, dwd[i] = NAN;
  for (size_t i = 0; i < c->K; i++) db[i] = NAN, dbd[i] = NAN;
  nco_conv2d_forward_f32(&s, x, w, bb, y, ws);
  nco_conv2d_backward_f32(&s, x, w, dy, dx, dw, db, ws);
  nco_conv2d_forward_f64(&s, xd, wd, bbd, yd, wsd);
  nco_conv2d_backward_f64(&s, xd, wd, dyd, dxd, dwd, dbd, wsd);

  /* term counts: y: CKK products + bias; dx: ≤ K·kh·kw products (a GEMM
   * of K, then ≤ kh·kw additions); dw: N·OH·OW products (summed in float
   * within a group of samples, then over groups in double: ≤ N·OH·OW + 1);
   * db: summed in double, rounded once (n = 1). */
  const double ty = CKK + 1, tdx = (double)(c->K * c->kh * c->kw),
               tdw = (double)(c->N * s.OH * s.OW + c->N), tdb = 1;
  bad += cmp_bound("y32", ny, y, NULL, ry, rya, ty + 2, FLT_EPSILON, maxdev32);
  bad += cmp_bound("dx32", nx, dx, NULL, rdx, rdxa, tdx + 2, FLT_EPSILON, maxdev32);
  bad += cmp_bound("dw32", nw, dw, NULL, rdw, rdwa, tdw + 2, FLT_EPSILON, maxdev32);
  bad += cmp_bound("db32", c->K, db, NULL, rdb, rdba, tdb + 2, FLT_EPSILON, maxdev32);
  bad += cmp_bound("y64", ny, NULL, yd, ry, rya, ty + 2, DBL_EPSILON, NULL);
  bad += cmp_bound("dx64", nx, NULL, dxd, rdx, rdxa, tdx + 2, DBL_EPSILON, NULL);
  bad += cmp_bound("dw64", nw, NULL, dwd, rdw, rdwa, tdw + 2, DBL_EPSILON, NULL);
  bad += cmp_bound("db64", c->K, NULL, dbd, rdb, rdba, (double)ny + 2, DBL_EPSILON, NULL);
  if (bad)
    fprintf(stderr, "case N%zu C%zu %zux%zu K%zu k%zux%zu s%zu p%zu d%zu bias %d: %zu bad\n", c->N, c->C,
            c->H, c->W, c->K, c->kh, c->kw, c->st, c->pad, dil(c), with_bias, bad);
done:
  free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db), free(ws);
  free(xd), free(wd), free(bd), free(dyd), free(yd), free(dxd), free(dwd), free(dbd), free(wsd);
  free(ry), free(rya), free(rdx), free(rdxa), free(rdw), free(rdwa), free(rdb), free(rdba);
  return bad;
}

static void test_conv_vs_naive(void) {
  cspec cases[128];
  size_t nc = make_cases(cases, 128);
  nco_rng rng;
  nco_rng_seed(&rng, 11);
  double md = 0;
  for (size_t i = 0; i < nc; i++) {
    CHECK(check_vs_naive(&cases[i], &rng, (int)(i & 1), &md) == 0);
    CHECK(check_vs_naive(&cases[i], &rng, (int)!(i & 1), &md) == 0);
  }
  /* N = 37: 16 groups of 2 or 3 samples (src/nn/conv.c splits the batch
   * into min(N, 16) groups), run in parallel */
  cspec big = {37, 3, 16, 16, 6, 5, 5, 1, 2, 1};
  CHECK(check_vs_naive(&big, &rng, 1, &md) == 0);
  cspec lenet2 = {7, 6, 14, 14, 16, 5, 5, 1, 0, 1};
  CHECK(check_vs_naive(&lenet2, &rng, 1, &md) == 0);
  printf("conv vs naive double: %zu shapes, max |float32 − reference| = %.3g\n", nc + 2, md);
}

/* Only the requested gradients are written, and each equals the one from
 * the full call bit for bit. */
static void test_null_outputs(void) {
  const cspec c = {3, 2, 9, 8, 4, 3, 3, 2, 1, 1};
  nco_conv_shape s;
  REQUIRE_OK(shape_of(&c, &s));
  const size_t nx = c.N * c.C * c.H * c.W, nw = c.K * c.C * c.kh * c.kw, ny = c.N * c.K * s.OH * s.OW;
  float *x = xcalloc(nx, 4), *w = xcalloc(nw, 4), *dy = xcalloc(ny, 4), *ws = xcalloc(nco_conv_workspace(&s), 4);
  float *dx = xcalloc(nx, 4), *dw = xcalloc(nw, 4), *db = xcalloc(c.K, 4);
  float *dx2 = xcalloc(nx, 4), *dw2 = xcalloc(nw, 4), *db2 = xcalloc(c.K, 4);
  REQUIRE(x && w && dy && ws && dx && dw && db && dx2 && dw2 && db2);
  nco_rng rng;
  nco_rng_seed(&rng, 5);
  fill_f32(&rng, x, nx);
  fill_f32(&rng, w, nw);
  fill_f32(&rng, dy, ny);
  nco_conv2d_backward_f32(&s, x, w, dy, dx, dw, db, ws);
  for (size_t i = 0; i < nx; i++) dx2[i] = NAN;
  for (size_t i = 0; i < nw; i++) dw2[i] = NAN;
  for (size_t i = 0; i < c.K; i++) db2[i] = NAN;
  nco_conv2d_backward_f32(&s, NULL, w, dy, dx2, NULL, NULL, ws); /* x unused for dx */
  CHECK(memcmp(dx, dx2, nx * 4) == 0);
  CHECK(isnan(dw2[0]) && isnan(db2[0]));
  nco_conv2d_backward_f32(&s, x, NULL, dy, NULL, dw2, NULL, ws); /* w unused for dw */
  CHECK(memcmp(dw, dw2, nw * 4) == 0);
  CHECK(isnan(db2[0]));
  nco_conv2d_backward_f32(&s, NULL, NULL, dy, NULL, NULL, db2, ws);
  CHECK(memcmp(db, db2, c.K * 4) == 0);
  /* a second call overwrites (does not accumulate) */
  nco_conv2d_backward_f32(&s, x, w, dy, dx2, dw2, db2, ws);
  CHECK(memcmp(dx, dx2, nx * 4) == 0 && memcmp(dw, dw2, nw * 4) == 0 &&
        memcmp(db, db2, c.K * 4) == 0);
  free(x), free(w), free(dy), free(ws), free(dx), free(dw), free(db), free(dx2), free(dw2), free(db2);
}

/* ---- float64 central differences ------------------------------------------ */

/* L(x, w, b) = Σ g·conv(x, w, b), evaluated with the _f64 forward. */
static double loss64(const nco_conv_shape *s, const double *x, const double *w, const double *b,
                     const double *g, double *y, double *ws, size_t ny) {
  nco_conv2d_forward_f64(s, x, w, b, y, ws);
  double L = 0;
  for (size_t i = 0; i < ny; i++) L += g[i] * y[i];
  return L;
}

/* Every entry of dx, dw, db from the _f64 backward against the central
 * difference (L(θ + h e_i) − L(θ − h e_i))/2h of the _f64 forward. L is
 * affine in each single coordinate, so the difference has no truncation
 * error at any h; what remains is the rounding of the two double losses,
 * each within (CKK + ny + 2)·u·Lsum, Lsum = Σ|g|·(|b| + Σ|w·x|), so
 * |a − fd| ≤ (CKK + ny + 2)·DBL_EPSILON·Lsum/(2h)·2 (plus 1e-12·|fd| for the
 * step's own rounding). h = 2^-7 (exact in binary). */
static size_t fd_case(const cspec *c, nco_rng *rng) {
  nco_conv_shape s;
  if (shape_of(c, &s)) return 1;
  const size_t nx = c->N * c->C * c->H * c->W, nw = c->K * c->C * c->kh * c->kw;
  const size_t ny = c->N * c->K * s.OH * s.OW, nws = nco_conv_workspace(&s);
  const size_t nth = nx + nw + c->K;
  double *th = xcalloc(nth, 8), *g = xcalloc(ny, 8), *y = xcalloc(ny, 8), *ya = xcalloc(ny, 8);
  double *ws = xcalloc(nws, 8), *grad = xcalloc(nth, 8);
  float *tmp = xcalloc(nth > ny ? nth : ny, 4);
  size_t bad = 0;
  if (!th || !g || !y || !ya || !ws || !grad || !tmp) {
    bad = 1;
    goto done;
  }
  double *x = th, *w = th + nx, *b = th + nx + nw;
  fill_f32(rng, tmp, nth);
  to_f64(tmp, th, nth);
  fill_f32(rng, tmp, ny);
  to_f64(tmp, g, ny);
  nco_conv2d_backward_f64(&s, x, w, g, grad, grad + nx, grad + nx + nw, ws);
  naive_conv(c, x, w, b, y, ya);
  double Lsum = 0;
  for (size_t i = 0; i < ny; i++) Lsum += fabs(g[i]) * ya[i];
  const double h = 1.0 / 128;
  const double noise = (double)(c->C * c->kh * c->kw + ny + 2) * DBL_EPSILON * Lsum / h;
  for (size_t i = 0; i < nth; i++) {
    const double t0 = th[i];
    th[i] = t0 + h;
    double Lp = loss64(&s, x, w, b, g, y, ws, ny);
    th[i] = t0 - h;
    double Lm = loss64(&s, x, w, b, g, y, ws, ny);
    th[i] = t0;
    double fd = (Lp - Lm) / (2 * h);
    if (!(fabs(grad[i] - fd) <= noise + 1e-12 * fabs(fd))) {
      if (bad < 5)
        fprintf(stderr, "  fd: entry %zu (%s): analytic %.15g, central difference %.15g\n", i,
                i < nx ? "x" : i < nx + nw ? "w" : "b", grad[i], fd);
      bad++;
    }
  }
  if (bad)
    fprintf(stderr, "fd case N%zu C%zu %zux%zu K%zu k%zux%zu s%zu p%zu: %zu bad\n", c->N, c->C,
            c->H, c->W, c->K, c->kh, c->kw, c->st, c->pad, bad);
done:
  free(th), free(g), free(y), free(ya), free(ws), free(grad), free(tmp);
  return bad;
}

static void test_conv_fd(void) {
  cspec cases[128];
  size_t nc = make_cases(cases, 128);
  nco_rng rng;
  nco_rng_seed(&rng, 12);
  /* not the oneDNN cases (N > 8): they test the float32 kernels, and the
   * float64 ones checked here are im2col for every shape; a central
   * difference over their 10⁴ entries would take minutes */
  for (size_t i = 0; i < nc; i++)
    if (cases[i].N <= 8) CHECK(fd_case(&cases[i], &rng) == 0);
}

/* ---- adjoint identities ----------------------------------------------------- */

/* conv is bilinear in (x, w): with y = conv(x, w, b) and (dx, dw, db) the
 * backward of dy,
 *     ⟨dy, y⟩ = ⟨dw, w⟩ + ⟨db, b⟩   and   ⟨dx, x⟩ = ⟨dw, w⟩.
 * In double the three sides agree to (n + 2)·DBL_EPSILON·T, T = Σ|dy|·yabs
 * (each side is a reordering of the same Σ dy·w·x, with n ≤ N·OH·OW + CKK +
 * K·kh·kw + ny terms along the longest path); in float to the same with
 * FLT_EPSILON. LeNet-sized shapes, multi-sample groups. */
static void adjoint_case(const cspec *c, nco_rng *rng) {
  nco_conv_shape s;
  REQUIRE_OK(shape_of(c, &s));
  const size_t nx = c->N * c->C * c->H * c->W, nw = c->K * c->C * c->kh * c->kw;
  const size_t ny = c->N * c->K * s.OH * s.OW, nws = nco_conv_workspace(&s);
  float *f = xcalloc(2 * nx + 2 * nw + 2 * c->K + 2 * ny + nws, 4);
  double *d = xcalloc(2 * nx + 2 * nw + 2 * c->K + 3 * ny + nws, 8);
  REQUIRE(f && d);
  float *x = f, *dx = x + nx, *w = dx + nx, *dw = w + nw, *b = dw + nw, *db = b + c->K,
        *y = db + c->K, *dy = y + ny, *ws = dy + ny;
  double *xd = d, *dxd = xd + nx, *wd = dxd + nx, *dwd = wd + nw, *bd = dwd + nw, *dbd = bd + c->K,
         *yd = dbd + c->K, *dyd = yd + ny, *ya = dyd + ny, *wsd = ya + ny;
  fill_f32(rng, x, nx);
  fill_f32(rng, w, nw);
  fill_f32(rng, b, c->K);
  fill_f32(rng, dy, ny);
  to_f64(x, xd, nx), to_f64(w, wd, nw), to_f64(b, bd, c->K), to_f64(dy, dyd, ny);
  naive_conv(c, xd, wd, bd, yd, ya); /* for T only */
  double T = 0;
  for (size_t i = 0; i < ny; i++) T += fabs(dyd[i]) * ya[i];
  const double n = (double)(c->N * s.OH * s.OW + c->C * c->kh * c->kw + c->K * c->kh * c->kw + ny);
  for (int prec = 0; prec < 2; prec++) {
    double a = 0, bx = 0, bw = 0, bb = 0;
    if (prec == 0) {
      nco_conv2d_forward_f64(&s, xd, wd, bd, yd, wsd);
      nco_conv2d_backward_f64(&s, xd, wd, dyd, dxd, dwd, dbd, wsd);
      for (size_t i = 0; i < ny; i++) a += dyd[i] * yd[i];
      for (size_t i = 0; i < nx; i++) bx += dxd[i] * xd[i];
      for (size_t i = 0; i < nw; i++) bw += dwd[i] * wd[i];
      for (size_t i = 0; i < c->K; i++) bb += dbd[i] * bd[i];
    } else {
      nco_conv2d_forward_f32(&s, x, w, b, y, ws);
      nco_conv2d_backward_f32(&s, x, w, dy, dx, dw, db, ws);
      for (size_t i = 0; i < ny; i++) a += (double)dy[i] * y[i];
      for (size_t i = 0; i < nx; i++) bx += (double)dx[i] * x[i];
      for (size_t i = 0; i < nw; i++) bw += (double)dw[i] * w[i];
      for (size_t i = 0; i < c->K; i++) bb += (double)db[i] * b[i];
    }
    const double tol = (n + 2) * (prec ? FLT_EPSILON : DBL_EPSILON) * T;
    CHECKF(fabs(a - (bw + bb)) <= tol, "%s <dy,y> %.17g vs <dw,w>+<db,b> %.17g (tol %.3g)",
           prec ? "f32" : "f64", a, bw + bb, tol);
    CHECKF(fabs(bx - bw) <= tol, "%s <dx,x> %.17g vs <dw,w> %.17g (tol %.3g)",
           prec ? "f32" : "f64", bx, bw, tol);
  }
  free(f);
  free(d);
}

static void test_adjoint(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 13);
  const cspec cs[] = {
      {20, 1, 28, 28, 6, 5, 5, 1, 2, 1}, /* LeNet conv1 */
      {30, 6, 14, 14, 16, 5, 5, 1, 0, 1}, /* LeNet conv2 */
      {5, 3, 17, 13, 7, 4, 3, 3, 2, 1},
      {20, 6, 14, 14, 16, 3, 3, 1, 2, 2}, /* dilation 2 */
      {5, 3, 17, 13, 7, 4, 3, 2, 3, 3},   /* dilation 3, stride 2 */
  };
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) adjoint_case(&cs[i], &rng);
}

/* ---- determinism -------------------------------------------------------------- */

/* Forward and backward give the same bits run to run and for 1, 2 and 3
 * OpenMP threads (each sample is handled whole by one thread; the batch
 * reduction is in a fixed order of sample groups). */
/* Built with oneDNN, the float32 kernels run through it (conv_dnnl.h),
 * unless NCO_CONV_BACKEND=im2col: the cases above then test that path. */
static void test_backend(void) {
  const cspec c = {20, 16, 8, 8, 32, 3, 3, 1, 1, 1};
  nco_conv_shape s;
  REQUIRE_OK(shape_of(&c, &s));
  float *buf = xcalloc(2 * c.N * 32 * 64 + 32 * 16 * 9 + nco_conv_workspace(&s), 4);
  REQUIRE(buf);
  nco_conv2d_forward_f32(&s, buf, buf + c.N * 16 * 64, NULL, buf + c.N * 32 * 64 + 32 * 16 * 9,
                         buf + 2 * c.N * 32 * 64 + 32 * 16 * 9);
  const char *name = nco_conv_backend_name(), *env = getenv("NCO_CONV_BACKEND");
  printf("conv backend: %s\n", name);
#if NCO_HAVE_DNNL
  if (!env || strcmp(env, "im2col") != 0) CHECKF(strncmp(name, "onednn ", 7) == 0, "backend %s", name);
#else
  (void)env;
  CHECKF(strcmp(name, "im2col") == 0, "backend %s", name);
#endif
  free(buf);
}

/* The same bits for 1, 2, 3 threads: an im2col shape and a oneDNN one
 * (25 samples: 16 groups of 1 or 2). */
static void determinism_case(const cspec c) {
  nco_conv_shape s;
  REQUIRE_OK(shape_of(&c, &s));
  const size_t nx = c.N * c.C * c.H * c.W, nw = c.K * c.C * c.kh * c.kw, ny = c.N * c.K * s.OH * s.OW;
  const size_t tot = nx + nw + c.K + ny;
  float *in = xcalloc(nx + nw + c.K + ny, 4), *ws = xcalloc(nco_conv_workspace(&s), 4);
  float *out0 = xcalloc(tot, 4), *out1 = xcalloc(tot, 4);
  REQUIRE(in && ws && out0 && out1);
  nco_rng rng;
  nco_rng_seed(&rng, 14);
  fill_f32(&rng, in, nx + nw + c.K + ny);
  const float *x = in, *w = in + nx, *b = w + nw, *dy = b + c.K;
  int threads[] = {1, 2, 3, 2};
#ifdef _OPENMP
  const int saved = omp_get_max_threads();
#endif
  for (int t = 0; t < 4; t++) {
#ifdef _OPENMP
    omp_set_num_threads(threads[t]);
#else
    (void)threads;
#endif
    float *o = t == 0 ? out0 : out1;
    nco_conv2d_forward_f32(&s, x, w, b, o, ws);
    nco_conv2d_backward_f32(&s, x, w, dy, o + ny, o + ny + nx, o + ny + nx + nw, ws);
    if (t > 0) CHECKF(memcmp(out0, out1, tot * 4) == 0, "threads %d differ from 1", threads[t]);
  }
#ifdef _OPENMP
  omp_set_num_threads(saved);
#endif
  free(in), free(ws), free(out0), free(out1);
}

static void test_determinism(void) {
  determinism_case((cspec){25, 3, 20, 20, 6, 5, 5, 1, 2, 1});
  determinism_case((cspec){25, 16, 12, 12, 32, 3, 3, 1, 1, 1});
}

/* ---- nco_check_* on a least-squares problem built from the kernels --------- */

/* r(θ) = avgpool_2(conv(x, w, b)) − t with θ = [x | w | b] (so the check
 * reaches dx, dw and db): residual64 through the _f64 kernels, JVP by
 * linearity J u = avgpool(conv(u_x, w, 0) + conv(x, u_w, u_b)), VJP by the
 * backward kernels. */
typedef struct convls {
  nco_conv_shape s;
  size_t nx, nw, ny, nr, PH, PW;
  double *td, *thd, *yd, *wsd; /* target, θ in double, conv output, workspace */
  float *t, *y1, *y2, *dyc, *ws;
} convls;

static int convls_res64(nco_problem *pb, const float *th, const size_t *idx, size_t nb, double *r) {
  (void)idx, (void)nb;
  convls *q = pb->impl;
  const nco_conv_shape *s = &q->s;
  for (size_t i = 0; i < q->nx + q->nw + s->K; i++) q->thd[i] = th[i];
  nco_conv2d_forward_f64(s, q->thd, q->thd + q->nx, q->thd + q->nx + q->nw, q->yd, q->wsd);
  nco_avgpool_forward_f64(s->N, s->K, s->OH, s->OW, 2, 2, q->yd, r);
  for (size_t i = 0; i < q->nr; i++) r[i] -= q->td[i];
  return NCO_OK;
}

static int convls_jvp(nco_problem *pb, const float *th, const size_t *idx, size_t nb,
                      const float *u, float *ju) {
  (void)idx, (void)nb;
  convls *q = pb->impl;
  const nco_conv_shape *s = &q->s;
  nco_conv2d_forward_f32(s, u, th + q->nx, NULL, q->y1, q->ws);
  nco_conv2d_forward_f32(s, th, u + q->nx, u + q->nx + q->nw, q->y2, q->ws);
  for (size_t i = 0; i < q->ny; i++) q->y1[i] += q->y2[i];
  nco_avgpool_forward_f32(s->N, s->K, s->OH, s->OW, 2, 2, q->y1, ju);
  return NCO_OK;
}

static int convls_vjp(nco_problem *pb, const float *th, const size_t *idx, size_t nb,
                      const float *v, float *jtv) {
  (void)idx, (void)nb;
  convls *q = pb->impl;
  const nco_conv_shape *s = &q->s;
  nco_avgpool_backward_f32(s->N, s->K, s->OH, s->OW, 2, 2, v, q->dyc);
  nco_conv2d_backward_f32(s, th, th + q->nx, q->dyc, jtv, jtv + q->nx, jtv + q->nx + q->nw, q->ws);
  return NCO_OK;
}

static void convls_free(void *impl) {
  convls *q = impl;
  if (!q) return;
  free(q->td), free(q->thd), free(q->yd), free(q->wsd);
  free(q->t), free(q->y1), free(q->y2), free(q->dyc), free(q->ws);
  free(q);
}

static const nco_problem_type convls_type = {
    .name = "conv_avgpool_ls",
    .residual64 = convls_res64,
    .jvp = convls_jvp,
    .vjp = convls_vjp,
    .destroy = convls_free,
};

static void test_check_harness(void) {
  const cspec cs[] = {{2, 2, 6, 5, 3, 3, 3, 1, 1, 1}, {2, 3, 9, 8, 4, 3, 2, 2, 2, 1}, {2, 2, 9, 8, 3, 3, 3, 1, 2, 2}};
  nco_rng rng;
  nco_rng_seed(&rng, 15);
  for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) {
    const cspec *c = &cs[ci];
    convls *q = calloc(1, sizeof *q);
    REQUIRE(q);
    if (shape_of(c, &q->s)) {
      convls_free(q);
      REQUIRE(0);
    }
    size_t PH = 0, PW = 0;
    if (nco_pool_shape_init(c->N, c->K, q->s.OH, q->s.OW, 2, 2, &PH, &PW)) {
      convls_free(q);
      REQUIRE(0);
    }
    q->nx = c->N * c->C * c->H * c->W, q->nw = c->K * c->C * c->kh * c->kw;
    q->ny = c->N * c->K * q->s.OH * q->s.OW, q->nr = c->N * c->K * PH * PW;
    const size_t dim = q->nx + q->nw + c->K, nws = nco_conv_workspace(&q->s);
    q->td = calloc(q->nr, 8), q->thd = calloc(dim, 8), q->yd = calloc(q->ny, 8);
    q->wsd = calloc(nws, 8), q->t = calloc(q->nr, 4), q->y1 = calloc(q->ny, 4);
    q->y2 = calloc(q->ny, 4), q->dyc = calloc(q->ny, 4), q->ws = calloc(nws, 4);
    float *th = calloc(dim, 4);
    if (!q->td || !q->thd || !q->yd || !q->wsd || !q->t || !q->y1 || !q->y2 || !q->dyc || !q->ws ||
        !th) {
      free(th);
      convls_free(q);
      REQUIRE(0);
    }
    fill_f32(&rng, q->t, q->nr);
    to_f64(q->t, q->td, q->nr);
    fill_f32(&rng, th, dim);
    nco_problem *pb = NULL;
    int st = nco_problem_alloc(&convls_type, q, dim, 1, q->nr, 0, &pb);
    if (st) {
      free(th);
      REQUIRE_OK(st);
    }
    nco_check_report rep;
    st = nco_check_gradient(pb, th, NULL, 1, NULL, &rep);
    CHECKF(st == NCO_OK, "case %zu gradient: %s", ci, nco_last_error());
    st = nco_check_jvp_vjp(pb, th, NULL, 1, NULL, &rep);
    CHECKF(st == NCO_OK, "case %zu jvp/vjp: %s", ci, nco_last_error());
    nco_problem_free(pb);
    free(th);
  }
}

/* ---- pooling ----------------------------------------------------------------- */

static void naive_maxpool(size_t N, size_t C, size_t H, size_t W, size_t k, size_t st,
                          const double *x, double *y, int32_t *am) {
  const size_t OH = (H - k) / st + 1, OW = (W - k) / st + 1;
  for (size_t pl = 0; pl < N * C; pl++)
    for (size_t p = 0; p < OH; p++)
      for (size_t q = 0; q < OW; q++) {
        /* first maximum in row-major order; a NaN is the maximum (the last
         * NaN: torch's `val > maxval || isnan(val)` keeps replacing) */
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < k; i++)
          for (size_t j = 0; j < k; j++)
            if (isnan(x[pl * H * W + (p * st + i) * W + q * st + j]))
              best = (p * st + i) * W + q * st + j;
        if (best == SIZE_MAX) {
          best = p * st * W + q * st;
          for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) {
              size_t idx = (p * st + i) * W + q * st + j;
              if (x[pl * H * W + idx] > x[pl * H * W + best]) best = idx;
            }
        }
        y[(pl * OH + p) * OW + q] = x[pl * H * W + best];
        am[(pl * OH + p) * OW + q] = (int32_t)best;
      }
}

static const size_t pool_cfg[][6] = {
    /* N, C, H, W, k, stride */
    {2, 3, 7, 9, 2, 2}, {2, 3, 7, 9, 3, 2}, {2, 3, 7, 9, 2, 1}, {2, 3, 7, 9, 2, 3},
    {1, 2, 7, 9, 7, 1}, {1, 2, 8, 8, 4, 4}, {3, 1, 5, 6, 1, 1}, {2, 6, 28, 28, 2, 2},
};
#define N_POOL (sizeof pool_cfg / sizeof pool_cfg[0])

static void test_maxpool(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 21);
  for (size_t ci = 0; ci < N_POOL; ci++) {
    const size_t N = pool_cfg[ci][0], C = pool_cfg[ci][1], H = pool_cfg[ci][2], W = pool_cfg[ci][3];
    const size_t k = pool_cfg[ci][4], st = pool_cfg[ci][5];
    const size_t OH = (H - k) / st + 1, OW = (W - k) / st + 1, nx = N * C * H * W,
                 ny = N * C * OH * OW;
    float *x = xcalloc(nx, 4), *y = xcalloc(ny, 4), *dy = xcalloc(ny, 4), *dx = xcalloc(nx, 4);
    double *xd = xcalloc(nx, 8), *yd = xcalloc(ny, 8), *ry = xcalloc(ny, 8), *rdx = xcalloc(nx, 8);
    double *rdxa = xcalloc(nx, 8), *dyd = xcalloc(ny, 8), *dxd = xcalloc(nx, 8);
    int32_t *am = xcalloc(ny, 4), *ram = xcalloc(ny, 4), *am64 = xcalloc(ny, 4);
    REQUIRE(x && y && dy && dx && xd && yd && ry && rdx && rdxa && dyd && dxd && am && ram && am64);
    for (int kind = 0; kind < 4; kind++) {
      /* 0: normal; 1: integers in {−1, 0, 1} (ties); 2: all equal; 3: with NaN and −inf */
      if (kind == 0) fill_f32(&rng, x, nx);
      for (size_t i = 0; i < nx; i++) {
        if (kind == 1) x[i] = (float)((int)nco_rng_below(&rng, 3) - 1);
        if (kind == 2) x[i] = 0.5f;
        if (kind == 3) {
          uint64_t u = nco_rng_below(&rng, 10);
          x[i] = u == 0 ? NAN : u < 4 ? -INFINITY : (float)nco_rng_normal(&rng);
        }
      }
      to_f64(x, xd, nx);
      naive_maxpool(N, C, H, W, k, st, xd, ry, ram);
      nco_maxpool_forward_f32(N, C, H, W, k, st, x, y, am);
      nco_maxpool_forward_f64(N, C, H, W, k, st, xd, yd, am64);
      size_t bad = 0;
      for (size_t i = 0; i < ny; i++) {
        int same = isnan(ry[i]) ? isnan(y[i]) && isnan(yd[i]) : (double)y[i] == ry[i] && yd[i] == ry[i];
        if (!same || am[i] != ram[i] || am64[i] != ram[i]) bad++;
      }
      CHECKF(bad == 0, "maxpool case %zu kind %d: %zu outputs or argmax differ", ci, kind, bad);
      /* backward: dx = scatter-add of dy at argmax; the naive sum in double
       * (with overlapping windows a position gets ≤ ⌈k/st⌉² terms) */
      fill_f32(&rng, dy, ny);
      to_f64(dy, dyd, ny);
      for (size_t i = 0; i < nx; i++) dx[i] = NAN, dxd[i] = NAN;
      nco_maxpool_backward_f32(N, C, H, W, k, st, dy, am, dx);
      nco_maxpool_backward_f64(N, C, H, W, k, st, dyd, am, dxd);
      memset(rdx, 0, nx * 8);
      memset(rdxa, 0, nx * 8);
      for (size_t pl = 0; pl < N * C; pl++)
        for (size_t t = 0; t < OH * OW; t++) {
          rdx[pl * H * W + (size_t)ram[pl * OH * OW + t]] += dyd[pl * OH * OW + t];
          rdxa[pl * H * W + (size_t)ram[pl * OH * OW + t]] += fabs(dyd[pl * OH * OW + t]);
        }
      const double terms = (double)(((k + st - 1) / st) * ((k + st - 1) / st));
      CHECK(cmp_bound("maxpool dx32", nx, dx, NULL, rdx, rdxa, terms + 2, FLT_EPSILON, NULL) == 0);
      CHECK(cmp_bound("maxpool dx64", nx, NULL, dxd, rdx, rdxa, terms + 2, DBL_EPSILON, NULL) == 0);
    }
    /* float64 central differences of L = Σ g·maxpool(x), every entry of x,
     * away from ties: x = 0.01·(a random permutation), so values in a window
     * differ by ≥ 0.01 > 2h and the argmax does not move; L is then affine
     * in each coordinate: no truncation error, rounding only (tolerance as
     * for conv with n = ny terms). */
    size_t *perm = xcalloc(nx, sizeof *perm);
    REQUIRE(perm);
    nco_rng_permutation(&rng, perm, nx);
    for (size_t i = 0; i < nx; i++) xd[i] = 0.01 * (double)perm[i] - 0.005 * (double)nx;
    fill_f32(&rng, dy, ny);
    to_f64(dy, dyd, ny);
    nco_maxpool_forward_f64(N, C, H, W, k, st, xd, yd, am64);
    nco_maxpool_backward_f64(N, C, H, W, k, st, dyd, am64, dxd);
    double Lsum = 0;
    for (size_t i = 0; i < ny; i++) Lsum += fabs(dyd[i] * yd[i]);
    const double h = 1.0 / 1024, noise = (double)(ny + 2) * DBL_EPSILON * Lsum / h;
    size_t bad = 0;
    for (size_t i = 0; i < nx; i++) {
      const double x0 = xd[i];
      double L[2];
      for (int sgn = 0; sgn < 2; sgn++) {
        xd[i] = x0 + (sgn ? -h : h);
        nco_maxpool_forward_f64(N, C, H, W, k, st, xd, yd, am64);
        L[sgn] = 0;
        for (size_t t = 0; t < ny; t++) L[sgn] += dyd[t] * yd[t];
      }
      xd[i] = x0;
      double fd = (L[0] - L[1]) / (2 * h);
      if (!(fabs(fd - dxd[i]) <= noise + 1e-12 * fabs(fd))) bad++;
    }
    CHECKF(bad == 0, "maxpool case %zu: %zu entries fail the central difference", ci, bad);
    free(perm);
    free(x), free(y), free(dy), free(dx), free(xd), free(yd), free(ry), free(rdx), free(rdxa);
    free(dyd), free(dxd), free(am), free(ram), free(am64);
  }
}

static void test_avgpool(void) {
  nco_rng rng;
  nco_rng_seed(&rng, 22);
  for (size_t ci = 0; ci < N_POOL; ci++) {
    const size_t N = pool_cfg[ci][0], C = pool_cfg[ci][1], H = pool_cfg[ci][2], W = pool_cfg[ci][3];
    const size_t k = pool_cfg[ci][4], st = pool_cfg[ci][5];
    const size_t OH = (H - k) / st + 1, OW = (W - k) / st + 1, nx = N * C * H * W,
                 ny = N * C * OH * OW;
    float *x = xcalloc(nx, 4), *y = xcalloc(ny, 4), *dy = xcalloc(ny, 4), *dx = xcalloc(nx, 4);
    double *xd = xcalloc(nx, 8), *yd = xcalloc(ny, 8), *ry = xcalloc(ny, 8), *rya = xcalloc(ny, 8);
    double *rdx = xcalloc(nx, 8), *rdxa = xcalloc(nx, 8), *dyd = xcalloc(ny, 8), *dxd = xcalloc(nx, 8);
    REQUIRE(x && y && dy && dx && xd && yd && ry && rya && rdx && rdxa && dyd && dxd);
    fill_f32(&rng, x, nx);
    fill_f32(&rng, dy, ny);
    to_f64(x, xd, nx);
    to_f64(dy, dyd, ny);
    const double kk = (double)(k * k);
    memset(rdx, 0, nx * 8);
    memset(rdxa, 0, nx * 8);
    for (size_t pl = 0; pl < N * C; pl++)
      for (size_t p = 0; p < OH; p++)
        for (size_t q = 0; q < OW; q++) {
          double acc = 0, aa = 0;
          const size_t o = (pl * OH + p) * OW + q;
          for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++) {
              const size_t xi = pl * H * W + (p * st + i) * W + q * st + j;
              acc += xd[xi];
              aa += fabs(xd[xi]);
              rdx[xi] += dyd[o] / kk;
              rdxa[xi] += fabs(dyd[o] / kk);
            }
          ry[o] = acc / kk;
          rya[o] = aa / kk;
        }
    for (size_t i = 0; i < nx; i++) dx[i] = NAN, dxd[i] = NAN;
    nco_avgpool_forward_f32(N, C, H, W, k, st, x, y);
    nco_avgpool_forward_f64(N, C, H, W, k, st, xd, yd);
    nco_avgpool_backward_f32(N, C, H, W, k, st, dy, dx);
    nco_avgpool_backward_f64(N, C, H, W, k, st, dyd, dxd);
    /* forward: k² terms summed in double then one rounding; backward: dy/k²
     * rounded once, then ≤ ⌈k/st⌉² additions */
    const double terms = (double)(((k + st - 1) / st) * ((k + st - 1) / st));
    CHECK(cmp_bound("avgpool y32", ny, y, NULL, ry, rya, 1 + 2, FLT_EPSILON, NULL) == 0);
    CHECK(cmp_bound("avgpool y64", ny, NULL, yd, ry, rya, kk + 2, DBL_EPSILON, NULL) == 0);
    CHECK(cmp_bound("avgpool dx32", nx, dx, NULL, rdx, rdxa, terms + 3, FLT_EPSILON, NULL) == 0);
    CHECK(cmp_bound("avgpool dx64", nx, NULL, dxd, rdx, rdxa, terms + 3, DBL_EPSILON, NULL) == 0);
    /* central differences (L affine: rounding only), every entry */
    double Lsum = 0;
    for (size_t i = 0; i < ny; i++) Lsum += fabs(dyd[i]) * rya[i];
    const double h = 1.0 / 128, noise = (kk + (double)ny + 2) * DBL_EPSILON * Lsum / h;
    size_t bad = 0;
    for (size_t i = 0; i < nx; i++) {
      const double x0 = xd[i];
      double L[2];
      for (int sgn = 0; sgn < 2; sgn++) {
        xd[i] = x0 + (sgn ? -h : h);
        nco_avgpool_forward_f64(N, C, H, W, k, st, xd, yd);
        L[sgn] = 0;
        for (size_t t = 0; t < ny; t++) L[sgn] += dyd[t] * yd[t];
      }
      xd[i] = x0;
      double fd = (L[0] - L[1]) / (2 * h);
      if (!(fabs(fd - dxd[i]) <= noise + 1e-12 * fabs(fd))) bad++;
    }
    CHECKF(bad == 0, "avgpool case %zu: %zu entries fail the central difference", ci, bad);
    free(x), free(y), free(dy), free(dx), free(xd), free(yd), free(ry), free(rya), free(rdx);
    free(rdxa), free(dyd), free(dxd);
  }
}

/* ---- PyTorch fixtures ----------------------------------------------------------- */

/* Reads conv_<name>_<what>.npy / pool_<name>_<what>.npy; float32 (or the
 * stated dtype) of exactly `n` entries. */
static int load(const char *prefix, const char *name, const char *what, nco_dtype dt, size_t n,
                nco_array *a) {
  char rel[256];
  snprintf(rel, sizeof rel, "conv/%s_%s_%s.npy", prefix, name, what);
  int st = nco_npy_read(nco_fixture(rel), a);
  if (st) return st;
  if (a->dtype != dt || a->size != n)
    return nco_error(NCO_ERR_SHAPE, "%s: dtype %s, %zu entries, expected %s, %zu", a->origin,
                     nco_dtype_name(a->dtype), a->size, nco_dtype_name(dt), n);
  return NCO_OK;
}

/* ours vs torch: both are float32 sums of n products, each within γ_n·S of
 * the exact value (S from the naive double reference), so
 * |ours − torch| ≤ 2γ_n·S ≤ (n + 2)·FLT_EPSILON·S. */
static void test_torch_conv(void) {
  /* the dilated cases (dil*) have the dilation as an 11th shape entry */
  const char *names[] = {"a", "b", "c", "d", "lenet1", "lenet2", "dil2", "dil3", "dil3s1"};
  double maxdev = 0, maxrel = 0, maxdev_dil = 0;
  for (size_t ci = 0; ci < sizeof names / sizeof names[0]; ci++) {
    nco_array sh = {0}, ax = {0}, aw = {0}, ab = {0}, ady = {0}, ay = {0}, adx = {0}, adw = {0},
              adb = {0};
    const int dilated = !strncmp(names[ci], "dil", 3);
    REQUIRE_OK(load("conv", names[ci], "shape", NCO_DTYPE_I64, dilated ? 11 : 10, &sh));
    const int64_t *v = sh.data;
    const cspec c = {(size_t)v[0], (size_t)v[1], (size_t)v[2], (size_t)v[3], (size_t)v[4],
                     (size_t)v[5], (size_t)v[6], (size_t)v[7], (size_t)v[8], dilated ? (size_t)v[10] : 1};
    const int bias = (int)v[9];
    nco_conv_shape s;
    REQUIRE_OK(shape_of(&c, &s));
    const size_t nx = c.N * c.C * c.H * c.W, nw = c.K * c.C * c.kh * c.kw,
                 ny = c.N * c.K * s.OH * s.OW;
    CHECK_OK(load("conv", names[ci], "x", NCO_DTYPE_F32, nx, &ax));
    CHECK_OK(load("conv", names[ci], "w", NCO_DTYPE_F32, nw, &aw));
    CHECK_OK(load("conv", names[ci], "dy", NCO_DTYPE_F32, ny, &ady));
    CHECK_OK(load("conv", names[ci], "y", NCO_DTYPE_F32, ny, &ay));
    CHECK_OK(load("conv", names[ci], "dx", NCO_DTYPE_F32, nx, &adx));
    CHECK_OK(load("conv", names[ci], "dw", NCO_DTYPE_F32, nw, &adw));
    if (bias) {
      CHECK_OK(load("conv", names[ci], "b", NCO_DTYPE_F32, c.K, &ab));
      CHECK_OK(load("conv", names[ci], "db", NCO_DTYPE_F32, c.K, &adb));
    }
    float *y = xcalloc(ny, 4), *dx = xcalloc(nx, 4), *dw = xcalloc(nw, 4), *db = xcalloc(c.K, 4);
    float *ws = xcalloc(nco_conv_workspace(&s), 4);
    double *d = xcalloc(2 * nx + 2 * nw + 2 * c.K + 2 * ny + 2 * nx + 2 * nw + 2 * c.K + 2 * ny, 8);
    if (ax.data && aw.data && ady.data && ay.data && adx.data && adw.data &&
        (!bias || (ab.data && adb.data)) && y && dx && dw && db && ws && d) {
      double *xd = d, *wd = xd + nx, *bd = wd + nw, *dyd = bd + c.K, *ry = dyd + ny, *rya = ry + ny;
      double *rdx = rya + ny, *rdxa = rdx + nx, *rdw = rdxa + nx, *rdwa = rdw + nw,
             *rdb = rdwa + nw, *rdba = rdb + c.K, *ty = rdba + c.K, *tdx = ty + ny;
      double *tdw = tdx + nx, *tdb = tdw + nw;
      to_f64(ax.data, xd, nx), to_f64(aw.data, wd, nw), to_f64(ady.data, dyd, ny);
      if (bias) to_f64(ab.data, bd, c.K);
      naive_conv(&c, xd, wd, bias ? bd : NULL, ry, rya);
      naive_conv_bwd(&c, xd, wd, dyd, rdx, rdxa, rdw, rdwa, rdb, rdba);
      nco_conv2d_forward_f32(&s, ax.data, aw.data, bias ? ab.data : NULL, y, ws);
      nco_conv2d_backward_f32(&s, ax.data, aw.data, ady.data, dx, dw, bias ? db : NULL, ws);
      to_f64(ay.data, ty, ny), to_f64(adx.data, tdx, nx), to_f64(adw.data, tdw, nw);
      if (bias) to_f64(adb.data, tdb, c.K);
      const double CKK = (double)(c.C * c.kh * c.kw);
      const double n_y = CKK + 1, n_dx = (double)(c.K * c.kh * c.kw),
                   n_dw = (double)(c.N * s.OH * s.OW + c.N), n_db = (double)(c.N * s.OH * s.OW);
      double md = 0;
      CHECK(cmp_bound("torch y", ny, y, NULL, ty, rya, n_y + 2, FLT_EPSILON, &md) == 0);
      CHECK(cmp_bound("torch dx", nx, dx, NULL, tdx, rdxa, n_dx + 2, FLT_EPSILON, &md) == 0);
      CHECK(cmp_bound("torch dw", nw, dw, NULL, tdw, rdwa, n_dw + 2, FLT_EPSILON, &md) == 0);
      if (bias) CHECK(cmp_bound("torch db", c.K, db, NULL, tdb, rdba, n_db + 2, FLT_EPSILON, &md) == 0);
      double scale = 0;
      for (size_t i = 0; i < ny; i++) scale = fmax(scale, fabs(ty[i]));
      for (size_t i = 0; i < nx; i++) scale = fmax(scale, fabs(tdx[i]));
      for (size_t i = 0; i < nw; i++) scale = fmax(scale, fabs(tdw[i]));
      printf("torch conv %-6s: max |ncopt − torch| = %.3g (largest |value| %.3g)\n", names[ci], md,
             scale);
      if (md > maxdev) maxdev = md;
      if (md / scale > maxrel) maxrel = md / scale;
      if (dilated && md > maxdev_dil) maxdev_dil = md;
    } else {
      CHECK(0);
    }
    free(y), free(dx), free(dw), free(db), free(ws), free(d);
    nco_array_free(&sh), nco_array_free(&ax), nco_array_free(&aw), nco_array_free(&ab);
    nco_array_free(&ady), nco_array_free(&ay), nco_array_free(&adx), nco_array_free(&adw);
    nco_array_free(&adb);
  }
  printf("torch conv: max deviation %.3g absolute (dilated cases %.3g), %.3g relative to the largest value\n",
         maxdev, maxdev_dil, maxrel);
}

/* max_pool2d: values and indices equal torch's exactly (ties included),
 * dx equal to its scatter within (terms + 2)·ε·Σ|dy|; avg_pool2d: torch sums
 * k² floats (γ_{k²}), ncopt in double: |diff| ≤ (k² + 2)·ε·Σ|x|/k²; its dx is
 * dy/k² rounded once plus ≤ ⌈k/st⌉² additions on each side. */
static void test_torch_pool(void) {
  const char *names[] = {"mp_a", "mp_b", "mp_lenet1", "mp_lenet2", "ap_a", "ap_b", "ap_c"};
  double maxdev = 0;
  for (size_t ci = 0; ci < sizeof names / sizeof names[0]; ci++) {
    const int is_max = names[ci][0] == 'm';
    nco_array sh = {0}, ax = {0}, ady = {0}, ay = {0}, adx = {0}, aidx = {0};
    REQUIRE_OK(load("pool", names[ci], "shape", NCO_DTYPE_I64, 6, &sh));
    const int64_t *v = sh.data;
    const size_t N = (size_t)v[0], C = (size_t)v[1], H = (size_t)v[2], W = (size_t)v[3],
                 k = (size_t)v[4], st = (size_t)v[5];
    size_t OH, OW;
    REQUIRE_OK(nco_pool_shape_init(N, C, H, W, k, st, &OH, &OW));
    const size_t nx = N * C * H * W, ny = N * C * OH * OW;
    CHECK_OK(load("pool", names[ci], "x", NCO_DTYPE_F32, nx, &ax));
    CHECK_OK(load("pool", names[ci], "dy", NCO_DTYPE_F32, ny, &ady));
    CHECK_OK(load("pool", names[ci], "y", NCO_DTYPE_F32, ny, &ay));
    CHECK_OK(load("pool", names[ci], "dx", NCO_DTYPE_F32, nx, &adx));
    if (is_max) CHECK_OK(load("pool", names[ci], "idx", NCO_DTYPE_I32, ny, &aidx));
    float *y = xcalloc(ny, 4), *dx = xcalloc(nx, 4);
    int32_t *am = xcalloc(ny, 4);
    double *ya = xcalloc(ny, 8), *dxa = xcalloc(nx, 8), *ty = xcalloc(ny, 8), *tdx = xcalloc(nx, 8);
    if (ax.data && ady.data && ay.data && adx.data && (!is_max || aidx.data) && y && dx && am &&
        ya && dxa && ty && tdx) {
      const float *x = ax.data, *dy = ady.data;
      const double kk = (double)(k * k), terms = (double)(((k + st - 1) / st) * ((k + st - 1) / st));
      to_f64(ay.data, ty, ny);
      to_f64(adx.data, tdx, nx);
      double md = 0;
      if (is_max) {
        nco_maxpool_forward_f32(N, C, H, W, k, st, x, y, am);
        nco_maxpool_backward_f32(N, C, H, W, k, st, dy, am, dx);
        CHECK(memcmp(y, ay.data, ny * 4) == 0);
        CHECK(memcmp(am, aidx.data, ny * 4) == 0);
        for (size_t pl = 0; pl < N * C; pl++)
          for (size_t t = 0; t < OH * OW; t++)
            dxa[pl * H * W + (size_t)am[pl * OH * OW + t]] += fabs(dy[pl * OH * OW + t]);
        CHECK(cmp_bound("torch maxpool dx", nx, dx, NULL, tdx, dxa, terms + 2, FLT_EPSILON, &md) == 0);
      } else {
        nco_avgpool_forward_f32(N, C, H, W, k, st, x, y);
        nco_avgpool_backward_f32(N, C, H, W, k, st, dy, dx);
        for (size_t pl = 0; pl < N * C; pl++)
          for (size_t p = 0; p < OH; p++)
            for (size_t q = 0; q < OW; q++) {
              const size_t o = (pl * OH + p) * OW + q;
              for (size_t i = 0; i < k; i++)
                for (size_t j = 0; j < k; j++) {
                  const size_t xi = pl * H * W + (p * st + i) * W + q * st + j;
                  ya[o] += fabs(x[xi]) / kk;
                  dxa[xi] += fabs(dy[o]) / kk;
                }
            }
        CHECK(cmp_bound("torch avgpool y", ny, y, NULL, ty, ya, kk + 2, FLT_EPSILON, &md) == 0);
        CHECK(cmp_bound("torch avgpool dx", nx, dx, NULL, tdx, dxa, 2 * terms + 4, FLT_EPSILON, &md) == 0);
      }
      printf("torch pool %-9s: max |ncopt − torch| = %.3g\n", names[ci], md);
      if (md > maxdev) maxdev = md;
    } else {
      CHECK(0);
    }
    free(y), free(dx), free(am), free(ya), free(dxa), free(ty), free(tdx);
    nco_array_free(&sh), nco_array_free(&ax), nco_array_free(&ady), nco_array_free(&ay);
    nco_array_free(&adx), nco_array_free(&aidx);
  }
  printf("torch pool: max deviation %.3g\n", maxdev);
}

int main(void) {
  RUN(test_shape_init);
  RUN(test_conv_vs_naive);
  RUN(test_null_outputs);
  RUN(test_conv_fd);
  RUN(test_adjoint);
  RUN(test_backend);
  RUN(test_determinism);
  RUN(test_check_harness);
  RUN(test_maxpool);
  RUN(test_avgpool);
  RUN(test_torch_conv);
  RUN(test_torch_pool);
  return nco_test_summary();
}
