/* src/nn/conv_dnnl.c — float32 conv2d through oneDNN, NCHW outside, one
 * single-threaded call per fixed group of samples (see conv_dnnl.h).
 *
 * A plan holds, for one group shape (ng samples, the layer's sizes, with or
 * without bias), the three convolutions (forward_training, backward_data,
 * backward_weights) and the reorders between ncopt's plain layouts (NCHW,
 * OIHW) and the blocked ones oneDNN chose. Plans are made once per shape
 * (under a mutex) and kept for the process. Every primitive is made while
 * the calling thread's OpenMP thread count is 1, so that its work split is
 * the one-thread split, and run inside ncopt's loop over the groups with
 * the thread count set to 1 again: oneDNN's own parallel loops then run
 * inline, and a group's result is the same on any thread. Primitives use a
 * user scratchpad (a slice of the workspace per group), so concurrent runs
 * of one primitive share nothing.
 *
 * Workspace (bytes, from a 64-byte aligned start): two weight slots (the
 * blocked weights of forward and backward-data, one slot per group size in
 * the call: the batch splits into at most two sizes), then G group slices:
 * [source | destination | diff source | blocked dW | plain dW partial |
 * scratchpad].
 */
#include "nn/conv_dnnl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The backend of the last float32 call ("" before any). */
static const char *_Atomic dn_cur = "";

const char *nco_conv_backend_name(void) { return dn_cur; }

#if NCO_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum { ALIGN = 64 };
static size_t up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

typedef struct dn_op {
  dnnl_primitive_t p; /* NULL: a reorder between equal layouts (none needed) */
  size_t scratch;     /* its scratchpad bytes */
  dnnl_memory_desc_t smd; /* and descriptor */
} dn_op;

typedef struct dn_plan {
  size_t key[12];
  int ok;                                    /* 0: this shape runs im2col */
  dnnl_memory_desc_t xp, yp, wp, bp;         /* plain x, y (ng samples), w, b */
  dnnl_memory_desc_t fs, fw, fd, bs, bw, bd; /* forward, backward-data layouts */
  dnnl_memory_desc_t gs, gw, gd;             /* backward-weights layouts */
  dn_op fwd, bwd, wgt;                       /* the convolutions */
  dn_op x_fs, fd_y, w_fw, dy_bd, bs_dx, w_bw, x_gs, dy_gd, gw_w; /* reorders */
  size_t wslot, src, dst, dsrc, dwb, dwp, scr, group; /* byte sizes */
  char name[128]; /* "onednn 2.6.3 jit:avx512_core" */
  struct dn_plan *next;
} dn_plan;

static pthread_mutex_t dn_lock = PTHREAD_MUTEX_INITIALIZER;
static dn_plan *dn_plans;
static dnnl_engine_t dn_engine;
static int dn_state = -1; /* 1 on, −1 off; set once by dn_init */
static pthread_once_t dn_once = PTHREAD_ONCE_INIT;

static void dn_init(void) {
  const char *e = getenv("NCO_CONV_BACKEND");
  if (e && strcmp(e, "im2col") == 0) return;
  if (dnnl_engine_create(&dn_engine, dnnl_cpu, 0) == dnnl_success) dn_state = 1;
}

/* 1 if oneDNN is to be used: decided once per process (the first conv may
 * be called from several threads at once) */
static int dn_on(void) {
  pthread_once(&dn_once, dn_init);
  return dn_state > 0;
}

static int md(dnnl_memory_desc_t *d, int nd, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
  return dnnl_memory_desc_init_by_tag(d, nd, dims, dnnl_f32, tag) == dnnl_success;
}

/* The primitive of pd into *op (pd is destroyed). */
static int make_op(dn_op *op, dnnl_primitive_desc_t pd) {
  const dnnl_memory_desc_t *s = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  op->scratch = s ? dnnl_memory_desc_get_size(s) : 0;
  if (op->scratch) op->smd = *s;
  int ok = dnnl_primitive_create(&op->p, pd) == dnnl_success;
  dnnl_primitive_desc_destroy(pd);
  return ok;
}

static int make_reorder(dn_op *op, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                        const_dnnl_primitive_attr_t attr) {
  op->p = NULL;
  op->scratch = 0;
  if (dnnl_memory_desc_equal(from, to)) return 1;
  dnnl_primitive_desc_t pd;
  if (dnnl_reorder_primitive_desc_create(&pd, from, dn_engine, to, dn_engine, attr) != dnnl_success)
    return 0;
  return make_op(op, pd);
}

static const dnnl_memory_desc_t *q(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
  return dnnl_primitive_desc_query_md(pd, what, 0);
}

/* The three convolutions of plan p (descriptors from its plain sizes). */
static int make_convs(dn_plan *p, const nco_conv_shape *s, int bias, const_dnnl_primitive_attr_t at) {
  const dnnl_dims_t st = {(int64_t)s->stride, (int64_t)s->stride};
  const dnnl_dims_t dl = {(int64_t)s->dil - 1, (int64_t)s->dil - 1};
  const dnnl_dims_t pad = {(int64_t)s->pad, (int64_t)s->pad};
  dnnl_memory_desc_t xa, wa, ya;
  if (!md(&xa, 4, p->xp.dims, dnnl_format_tag_any) || !md(&wa, 4, p->wp.dims, dnnl_format_tag_any) ||
      !md(&ya, 4, p->yp.dims, dnnl_format_tag_any))
    return 0;
  dnnl_convolution_desc_t fd, bd, gd;
  dnnl_primitive_desc_t fpd, bpd, gpd;
  if (dnnl_dilated_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
                                                 &xa, &wa, bias ? &p->bp : NULL, &ya, st, dl, pad,
                                                 pad) != dnnl_success ||
      dnnl_primitive_desc_create(&fpd, &fd, at, dn_engine, NULL) != dnnl_success)
    return 0;
  const char *impl = "";
  dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &impl);
  const dnnl_version_t *v = dnnl_version();
  snprintf(p->name, sizeof p->name, "onednn %d.%d.%d %s", v->major, v->minor, v->patch, impl);
  int ok = dnnl_dilated_convolution_backward_data_desc_init(&bd, dnnl_convolution_direct, &xa, &wa,
                                                            &ya, st, dl, pad, pad) == dnnl_success &&
           dnnl_primitive_desc_create(&bpd, &bd, at, dn_engine, fpd) == dnnl_success;
  if (ok && (dnnl_dilated_convolution_backward_weights_desc_init(&gd, dnnl_convolution_direct, &xa,
                                                                  &wa, NULL, &ya, st, dl, pad,
                                                                  pad) != dnnl_success ||
             dnnl_primitive_desc_create(&gpd, &gd, at, dn_engine, fpd) != dnnl_success)) {
    dnnl_primitive_desc_destroy(bpd);
    ok = 0;
  }
  if (!ok) {
    dnnl_primitive_desc_destroy(fpd);
    return 0;
  }
  p->fs = *q(fpd, dnnl_query_src_md), p->fw = *q(fpd, dnnl_query_weights_md);
  p->fd = *q(fpd, dnnl_query_dst_md);
  p->bs = *q(bpd, dnnl_query_diff_src_md), p->bw = *q(bpd, dnnl_query_weights_md);
  p->bd = *q(bpd, dnnl_query_diff_dst_md);
  p->gs = *q(gpd, dnnl_query_src_md), p->gw = *q(gpd, dnnl_query_diff_weights_md);
  p->gd = *q(gpd, dnnl_query_diff_dst_md);
  int a = make_op(&p->fwd, fpd), b = make_op(&p->bwd, bpd), c = make_op(&p->wgt, gpd);
  return a && b && c;
}

static size_t mdsz(const dnnl_memory_desc_t *d) { return up(dnnl_memory_desc_get_size(d)); }
static size_t max2(size_t a, size_t b) { return a > b ? a : b; }

/* Reorders and the byte sizes of p's workspace slices. */
static int make_reorders(dn_plan *p, const_dnnl_primitive_attr_t at) {
  dn_op *r[] = {&p->x_fs, &p->fd_y, &p->w_fw, &p->dy_bd, &p->bs_dx, &p->w_bw, &p->x_gs, &p->dy_gd, &p->gw_w};
  const dnnl_memory_desc_t *from[] = {&p->xp, &p->fd, &p->wp, &p->yp, &p->bs, &p->wp, &p->xp, &p->yp, &p->gw};
  const dnnl_memory_desc_t *to[] = {&p->fs, &p->yp, &p->fw, &p->bd, &p->xp, &p->bw, &p->gs, &p->gd, &p->wp};
  size_t scr = max2(p->fwd.scratch, max2(p->bwd.scratch, p->wgt.scratch));
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
    if (!make_reorder(r[i], from[i], to[i], at)) return 0;
    scr = max2(scr, r[i]->scratch);
  }
  p->wslot = mdsz(&p->fw) + mdsz(&p->bw);
  p->src = max2(mdsz(&p->fs), mdsz(&p->gs));
  p->dst = max2(mdsz(&p->fd), max2(mdsz(&p->bd), mdsz(&p->gd)));
  p->dsrc = mdsz(&p->bs);
  p->dwb = mdsz(&p->gw);
  p->dwp = mdsz(&p->wp);
  p->scr = up(scr);
  p->group = p->src + p->dst + p->dsrc + p->dwb + p->dwp + p->scr;
  return 1;
}

static int plan_build(dn_plan *p, const nco_conv_shape *s, int bias) {
  const dnnl_dims_t xd = {(int64_t)s->N, (int64_t)s->C, (int64_t)s->H, (int64_t)s->W};
  const dnnl_dims_t wd = {(int64_t)s->K, (int64_t)s->C, (int64_t)s->kh, (int64_t)s->kw};
  const dnnl_dims_t yd = {(int64_t)s->N, (int64_t)s->K, (int64_t)s->OH, (int64_t)s->OW};
  const dnnl_dims_t bd = {(int64_t)s->K};
  if (!md(&p->xp, 4, xd, dnnl_nchw) || !md(&p->wp, 4, wd, dnnl_oihw) ||
      !md(&p->yp, 4, yd, dnnl_nchw) || !md(&p->bp, 1, bd, dnnl_a))
    return 0;
  dnnl_primitive_attr_t at;
  if (dnnl_primitive_attr_create(&at) != dnnl_success) return 0;
  int ok = dnnl_primitive_attr_set_scratchpad_mode(at, dnnl_scratchpad_mode_user) == dnnl_success &&
           make_convs(p, s, bias, at) && make_reorders(p, at);
  dnnl_primitive_attr_destroy(at);
  return ok;
}

/* The plan of group shape s (s->N = samples of the group), made on first use.
 * NULL when it cannot be made (the shape then runs im2col). */
static dn_plan *plan_get(const nco_conv_shape *s, int bias) {
  const size_t key[12] = {s->N, s->C, s->H, s->W, s->K, s->kh, s->kw, s->stride, s->pad, s->dil, (size_t)bias, 1};
  pthread_mutex_lock(&dn_lock);
  dn_plan *p = dn_plans;
  while (p && memcmp(p->key, key, sizeof key)) p = p->next;
  if (!p && (p = calloc(1, sizeof *p))) {
    memcpy(p->key, key, sizeof key);
#ifdef _OPENMP
    const int nt = omp_get_max_threads();
    omp_set_num_threads(1); /* the one-thread work split (see the top) */
#endif
    p->ok = plan_build(p, s, bias);
#ifdef _OPENMP
    omp_set_num_threads(nt);
#endif
    p->next = dn_plans;
    dn_plans = p;
  }
  pthread_mutex_unlock(&dn_lock);
  return p && p->ok ? p : NULL;
}

/* The (at most two) group sizes of a batch of N in G groups: g·N/G … */
static size_t group_lo(size_t N, size_t G, size_t g) { return g * N / G; }

typedef struct dn_call {
  const nco_conv_shape *s;
  size_t G;
  dn_plan *plan[2]; /* for group size n0 = ⌊N/G⌋ and n0 + 1 */
  size_t n0;
  unsigned char *wbase, *gbase; /* weight slots, group slices (NULL: sizing only) */
  size_t wbytes, gstride;
} dn_call;

/* The shapes oneDNN runs faster here (bench/bench_conv_resnet.c, 2 threads,
 * best of 20–30): at least 16 filters (one AVX-512 block) from one input
 * channel or from at least 16, with a kernel larger than 1×1. ResNet-8's
 * stem 1→16 and its 16–64-channel 3×3 layers run 1.9× faster (step 57.5 →
 * 29.6 ms); its 1×1 stride-2 projections run faster on im2col (16→32:
 * 0.92 vs 1.45 ms forward + backward, 32→64: 0.75 vs 0.95 ms: one small
 * GEMM a sample, where oneDNN's per-group call costs more than the work);
 * LeNet's 1→6 (K = 6 fills 6 of a block's 16 lanes) 0.56 vs 0.70 ms and
 * 6→16 1.18 vs 1.17 ms, so LeNet stays on im2col. A fixed rule, not a
 * timing taken at run time: the kernels, and so the bits, must not depend
 * on the load. */
static int dn_worth(const nco_conv_shape *s) {
  return s->K >= 16 && (s->C == 1 || s->C >= 16) && s->kh * s->kw > 1;
}

static int call_init(dn_call *c, const nco_conv_shape *s, int bias, void *ws) {
  if (!dn_worth(s) || !dn_on()) return 0;
  memset(c, 0, sizeof *c);
  c->s = s;
  c->G = s->N < NCO_CONV_GROUPS ? s->N : NCO_CONV_GROUPS;
  c->n0 = s->N / c->G;
  for (int i = 0; i < 2; i++) {
    if (i == 1 && s->N % c->G == 0) break;
    nco_conv_shape g = *s;
    g.N = c->n0 + (size_t)i;
    if (!(c->plan[i] = plan_get(&g, bias))) return 0;
  }
  dn_plan *big = c->plan[1] ? c->plan[1] : c->plan[0];
  c->gstride = max2(big->group, c->plan[0]->group);
  c->wbytes = 2 * max2(big->wslot, c->plan[0]->wslot);
  if (ws) {
    c->wbase = (unsigned char *)(((uintptr_t)ws + ALIGN - 1) / ALIGN * ALIGN);
    c->gbase = c->wbase + c->wbytes;
  }
  return 1;
}

static size_t call_bytes(const dn_call *c) { return ALIGN + c->wbytes + c->G * c->gstride; }

/* The larger of the calls without and with bias (their primitives may
 * differ: the caller sizes one workspace for both). */
size_t nco_conv_dnnl_workspace_bytes(const nco_conv_shape *s) {
  dn_call c;
  size_t n = 0;
  for (int bias = 0; bias < 2; bias++)
    if (call_init(&c, s, bias, NULL)) n = max2(n, call_bytes(&c));
  return n;
}


/* ---- execution ---- */

typedef struct dn_exec {
  dnnl_stream_t st;
  dnnl_memory_t m[8];
  int nm, fail;
} dn_exec;

static dnnl_memory_t mem(dn_exec *e, const dnnl_memory_desc_t *d, const void *ptr) {
  dnnl_memory_t m = NULL;
  if (e->nm == 8 || dnnl_memory_create(&m, d, dn_engine, (void *)ptr) != dnnl_success) {
    e->fail = 1;
    return NULL;
  }
  return e->m[e->nm++] = m;
}

static void mem_release(dn_exec *e) {
  for (int i = 0; i < e->nm; i++) dnnl_memory_destroy(e->m[i]);
  e->nm = 0;
}

/* Runs op with n (argument, descriptor, pointer) triples and the scratchpad. */
static void run(dn_exec *e, const dn_op *op, void *scr, int n, const int *arg,
                const dnnl_memory_desc_t *const *d, const void *const *ptr) {
  if (e->fail) return;
  dnnl_exec_arg_t a[5];
  for (int i = 0; i < n; i++) a[i] = (dnnl_exec_arg_t){arg[i], mem(e, d[i], ptr[i])};
  int na = n;
  if (op->scratch) a[na++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, mem(e, &op->smd, scr)};
  if (!e->fail && dnnl_primitive_execute(op->p, e->st, na, a) != dnnl_success) e->fail = 1;
  mem_release(e);
}

/* from (layout f) → to (layout t) through reorder op; without op the data
 * is used in place: returns the pointer holding layout t. */
static const void *reorder(dn_exec *e, const dn_op *op, const dnnl_memory_desc_t *f, const void *from,
                           const dnnl_memory_desc_t *t, void *to, void *scr) {
  if (!op->p) return from;
  const int arg[2] = {DNNL_ARG_FROM, DNNL_ARG_TO};
  const dnnl_memory_desc_t *d[2] = {f, t};
  const void *ptr[2] = {from, to};
  run(e, op, scr, 2, arg, d, ptr);
  return to;
}

/* Group g's plan, first sample and slice. */
static dn_plan *group_of(const dn_call *c, size_t g, size_t *lo, unsigned char **slice) {
  *lo = group_lo(c->s->N, c->G, g);
  const size_t n = group_lo(c->s->N, c->G, g + 1) - *lo;
  *slice = c->gbase + g * c->gstride;
  return n == c->n0 ? c->plan[0] : c->plan[1];
}

/* The weight slot of plan p: [forward layout | backward-data layout]. */
static unsigned char *wslot(const dn_call *c, const dn_plan *p) {
  return c->wbase + (p == c->plan[0] ? 0 : max2(c->plan[0]->wslot, p->wslot));
}

/* The blocked copies of w for each plan of the call (on the calling thread). */
static int weights(dn_call *c, const float *w, int fwd) {
  dn_exec e = {0};
  if (dnnl_stream_create(&e.st, dn_engine, dnnl_stream_default_flags) != dnnl_success) return 0;
  for (int i = 0; i < 2 && c->plan[i]; i++) {
    dn_plan *p = c->plan[i];
    unsigned char *slot = wslot(c, p);
    if (fwd) reorder(&e, &p->w_fw, &p->wp, w, &p->fw, slot, c->gbase);
    else reorder(&e, &p->w_bw, &p->wp, w, &p->bw, slot + mdsz(&p->fw), c->gbase);
  }
  dnnl_stream_destroy(e.st);
  return !e.fail;
}

/* The weights a convolution of plan p reads: the blocked copy, or w itself
 * when its layout is already OIHW. */
static const void *wptr(const dn_call *c, const dn_plan *p, const float *w, int fwd) {
  if (fwd) return p->w_fw.p ? (const void *)wslot(c, p) : (const void *)w;
  return p->w_bw.p ? (const void *)(wslot(c, p) + mdsz(&p->fw)) : (const void *)w;
}

static void fwd_group(dn_exec *e, const dn_call *c, size_t g, const float *x, const float *w,
                      const float *b, float *y) {
  size_t lo;
  unsigned char *sl;
  const dn_plan *p = group_of(c, g, &lo, &sl);
  const nco_conv_shape *s = c->s;
  unsigned char *src = sl, *dst = src + p->src, *scr = sl + p->group - p->scr;
  const float *xg = x + lo * s->C * s->H * s->W;
  float *yg = y + lo * s->K * s->OH * s->OW;
  const void *xs = reorder(e, &p->x_fs, &p->xp, xg, &p->fs, src, scr);
  void *yd = p->fd_y.p ? (void *)dst : (void *)yg;
  const int arg[4] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST, DNNL_ARG_BIAS};
  const dnnl_memory_desc_t *d[4] = {&p->fs, &p->fw, &p->fd, &p->bp};
  const void *ptr[4] = {xs, wptr(c, p, w, 1), yd, b};
  run(e, &p->fwd, scr, b ? 4 : 3, arg, d, ptr);
  reorder(e, &p->fd_y, &p->fd, yd, &p->yp, yg, scr);
}

/* 1 if a call is worth an OpenMP team (the im2col path's rule, conv.c):
 * at least 2^18 multiply-adds. */
static int worth_team(const nco_conv_shape *s) {
  return (double)s->N * (double)s->K * (double)(s->C * s->kh * s->kw) * (double)(s->OH * s->OW) >=
         262144.0;
}

/* The calling thread's OpenMP thread count set to 1: oneDNN's own
 * parallel loops then run inline (see the top). */
static void one_thread(void) {
#ifdef _OPENMP
  omp_set_num_threads(1);
#endif
}

/* Runs body(e, c, g, …) for every group, in parallel over the groups, each
 * thread with its own stream and a thread count of 1 for oneDNN (without
 * OpenMP the pragmas fall away: the groups in order on this thread). */
#define DN_GROUPS(c, fail, body)                                                          \
  do {                                                                                    \
    const ptrdiff_t G_ = (ptrdiff_t)(c)->G;                                               \
    const int par_ = G_ > 1 && worth_team((c)->s);                                        \
    (void)par_;                                                                           \
    _Pragma("omp parallel reduction(| : fail) if (par_)") {                               \
      one_thread();                                                                       \
      dn_exec e = {0};                                                                    \
      if (dnnl_stream_create(&e.st, dn_engine, dnnl_stream_default_flags) != dnnl_success) \
        e.fail = 1;                                                                       \
      _Pragma("omp for schedule(dynamic, 1)") for (ptrdiff_t g = 0; g < G_; g++) {        \
        if (!e.fail) body;                                                                \
      }                                                                                   \
      if (e.st) dnnl_stream_destroy(e.st);                                                \
      fail |= e.fail;                                                                     \
    }                                                                                     \
  } while (0)

int nco_conv_dnnl_forward(const nco_conv_shape *s, const float *x, const float *w, const float *b,
                          float *y, void *ws) {
  dn_call c;
  int fail = !call_init(&c, s, b != NULL, ws) || !weights(&c, w, 1);
  if (!fail) DN_GROUPS(&c, fail, fwd_group(&e, &c, (size_t)g, x, w, b, y));
  dn_cur = fail ? "im2col" : c.plan[0]->name;
  return !fail;
}

/* dW partial of group g (plain OIHW, in its slice) and/or its dx. */
static void bwd_group(dn_exec *e, const dn_call *c, size_t g, const float *x, const float *w,
                      const float *dy, float *dx, int want_dw) {
  size_t lo;
  unsigned char *sl;
  const dn_plan *p = group_of(c, g, &lo, &sl);
  const nco_conv_shape *s = c->s;
  unsigned char *src = sl, *dst = src + p->src, *dsrc = dst + p->dst, *dwb = dsrc + p->dsrc;
  unsigned char *dwp = dwb + p->dwb, *scr = dwp + p->dwp;
  const float *dyg = dy + lo * s->K * s->OH * s->OW;
  const void *dyb = NULL;
  if (want_dw) {
    const float *xg = x + lo * s->C * s->H * s->W;
    const void *xs = reorder(e, &p->x_gs, &p->xp, xg, &p->gs, src, scr);
    dyb = reorder(e, &p->dy_gd, &p->yp, dyg, &p->gd, dst, scr);
    void *dwo = p->gw_w.p ? (void *)dwb : (void *)dwp;
    const int arg[3] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_WEIGHTS, DNNL_ARG_DIFF_DST};
    const dnnl_memory_desc_t *d[3] = {&p->gs, &p->gw, &p->gd};
    const void *ptr[3] = {xs, dwo, dyb};
    run(e, &p->wgt, scr, 3, arg, d, ptr);
    reorder(e, &p->gw_w, &p->gw, dwo, &p->wp, dwp, scr);
  }
  if (dx) {
    if (!dyb || !dnnl_memory_desc_equal(&p->gd, &p->bd))
      dyb = reorder(e, &p->dy_bd, &p->yp, dyg, &p->bd, dst, scr);
    float *dxg = dx + lo * s->C * s->H * s->W;
    void *dxo = p->bs_dx.p ? (void *)dsrc : (void *)dxg;
    const int arg[3] = {DNNL_ARG_DIFF_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_DST};
    const dnnl_memory_desc_t *d[3] = {&p->bs, &p->bw, &p->bd};
    const void *ptr[3] = {dxo, wptr(c, p, w, 0), dyb};
    run(e, &p->bwd, scr, 3, arg, d, ptr);
    reorder(e, &p->bs_dx, &p->bs, dxo, &p->xp, dxg, scr);
  }
}

/* dW = Σ_g partial_g in double, g ascending (the partials are OIHW floats at
 * the same offset of every group slice). */
static void sum_partials(const dn_call *c, float *dw) {
  const nco_conv_shape *s = c->s;
  const size_t n = s->K * s->C * s->kh * s->kw;
  enum { BLK = 256 };
  double acc[BLK];
  for (size_t f0 = 0; f0 < n; f0 += BLK) {
    const size_t nb = n - f0 < BLK ? n - f0 : BLK;
    for (size_t f = 0; f < nb; f++) acc[f] = 0;
    for (size_t g = 0; g < c->G; g++) {
      size_t lo;
      unsigned char *sl;
      const dn_plan *p = group_of(c, g, &lo, &sl);
      const float *part = (const float *)(sl + p->src + p->dst + p->dsrc + p->dwb) + f0;
      for (size_t f = 0; f < nb; f++) acc[f] += (double)part[f];
    }
    for (size_t f = 0; f < nb; f++) dw[f0 + f] = (float)acc[f];
  }
}

int nco_conv_dnnl_backward(const nco_conv_shape *s, const float *x, const float *w, const float *dy,
                           float *dx, float *dw, void *ws) {
  dn_call c;
  int fail = !call_init(&c, s, 0, ws) || (dx && !weights(&c, w, 0));
  if (!fail) DN_GROUPS(&c, fail, bwd_group(&e, &c, (size_t)g, x, w, dy, dx, dw != NULL));
  if (!fail && dw) sum_partials(&c, dw);
  dn_cur = fail ? "im2col" : c.plan[0]->name;
  return !fail;
}

#else /* without oneDNN: every shape runs im2col */

size_t nco_conv_dnnl_workspace_bytes(const nco_conv_shape *s) {
  (void)s;
  return 0;
}
int nco_conv_dnnl_forward(const nco_conv_shape *s, const float *x, const float *w, const float *b,
                          float *y, void *ws) {
  (void)s, (void)x, (void)w, (void)b, (void)y, (void)ws;
  dn_cur = "im2col";
  return 0;
}
int nco_conv_dnnl_backward(const nco_conv_shape *s, const float *x, const float *w, const float *dy,
                           float *dx, float *dw, void *ws) {
  (void)s, (void)x, (void)w, (void)dy, (void)dx, (void)dw, (void)ws;
  dn_cur = "im2col";
  return 0;
}

#endif
