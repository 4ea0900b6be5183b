/* The activations of problems.h (identity, sigmoid, tanh, softplus, ReLU,
 * leaky ReLU, ELU, each with `mix`: φ̃(z) = (1 − mix)φ(z) + mix·z, Oymak &
 * Soltanolkotabi §4.3), elementwise:
 *   R{y} = φ̃'(x)·Rx,  δ_x = φ̃'(x)·δ,
 *   R{δ_x} = φ̃'(x)·Rδ + φ̃''(x)·Rx·δ   (Pearlmutter 1994, §4).
 * The ReLU family without mix takes a branch-free select (torch's
 * relu(x) = max(x, 0), φ'(0) = 0). */
#ifndef REAL
#include <math.h>
#include <stdio.h>

#include "ncopt/problems.h"
#include "ncopt/status.h"
#include "nn/internal.h"

static int act_infer(nn_layer *l) {
  int st;
  if ((st = nco_act_validate(&l->act))) return st;
  l->oc = l->ic, l->oh = l->ih, l->ow = l->iw, l->out_flat = l->in_flat;
  return NCO_OK;
}

/* torch's repr of the module for an activation (mix = 0), or NULL. */
static const char *act_torch(const nco_act *a, char *buf, size_t len) {
  char f[40];
  switch (a->kind) {
    case NCO_ACT_IDENTITY: return "Identity()";
    case NCO_ACT_SIGMOID: return "Sigmoid()";
    case NCO_ACT_TANH: return "Tanh()";
    case NCO_ACT_SOFTPLUS: return "Softplus(beta=1, threshold=20)";
    case NCO_ACT_RELU: return "ReLU()";
    case NCO_ACT_LEAKY_RELU:
      nn_py_float(a->slope, f, sizeof f);
      snprintf(buf, len, "LeakyReLU(negative_slope=%s)", f);
      return buf;
    case NCO_ACT_ELU:
      nn_py_float(a->slope, f, sizeof f);
      snprintf(buf, len, "ELU(alpha=%s)", f);
      return buf;
  }
  return NULL;
}

/* mix > 0 has no torch module: MixedActivation(φ, mix=γ), *mixed = 1. */
static int act_repr(const nn_layer *l, char *buf, size_t len, int *mixed) {
  char f[40], a[96];
  const char *r = act_torch(&l->act, a, sizeof a);
  if (!r) return nco_error(NCO_ERR_INVALID, "layer map: activation kind %d has no torch module", (int)l->act.kind);
  if (l->act.mix != 0) {
    nn_py_float(l->act.mix, f, sizeof f);
    snprintf(buf, len, "MixedActivation(%s, mix=%s)", r, f);
    *mixed = 1;
  } else {
    snprintf(buf, len, "%s", r);
  }
  return NCO_OK;
}

static void act_describe(const nn_layer *l, char *buf, size_t len) {
  if (l->act.mix > 0)
    snprintf(buf, len, " %s(mix=%g)", nco_act_name(l->act.kind), l->act.mix);
  else
    snprintf(buf, len, " %s", nco_act_name(l->act.kind));
}

#define NN_TEMPLATE "nn/op_act.c"
#include "nn/twice.h"

const nn_op_vt nn_op_act = {
    .name = "activation",
    .kind = NCO_NN_ACT,
    .min_in = 1,
    .max_in = 1,
    .infer = act_infer,
    .fwd = NN_BOTH(act_fwd),
    .rop = NN_BOTH(act_rop),
    .vjp = NN_BOTH(act_vjp),
    .margin = NN_BOTH(act_margin),
    .repr = act_repr,
    .describe = act_describe,
};

#else /* the template */
#include "nn/real.inc"

#if IS_F64
typedef int64_t FN(sbits);
typedef uint64_t FN(ubits);
#else
typedef int32_t FN(sbits);
typedef uint32_t FN(ubits);
#endif

/* y[i] = x[i] > 0 ? a[i] : a[i]·sl without branches (the ReLU family and
 * its derivative); sl = 0 selects +0 (not a[i]·0, which would turn an
 * infinite a[i] into NaN: torch's relu(−inf) = 0). x > 0 exactly when x's
 * bit pattern read as a signed integer is > 0, for every x but a NaN with
 * the sign bit clear (which selects a[i] where the plain comparison would
 * not; a NaN input makes the loss NaN either way). x and a may be the same
 * array. */
static void FN(pos_select)(size_t n, const REAL *restrict x, const REAL *restrict a, REAL sl,
                           REAL *restrict y) {
  size_t i = 0;
  if (sl == 0) {
    for (; i + 8 <= n; i += 8) {
      FN(sbits) xb[8];
      FN(ubits) ab[8], r[8];
      memcpy(xb, x + i, sizeof xb);
      memcpy(ab, a + i, sizeof ab);
#define B_(k) r[k] = ab[k] & ((FN(ubits))0 - (FN(ubits))(xb[k] > 0));
      REP8(B_)
#undef B_
      memcpy(y + i, r, sizeof r);
    }
    for (; i < n; i++) y[i] = x[i] > 0 ? a[i] : 0;
    return;
  }
  for (; i + 8 <= n; i += 8) {
    FN(sbits) xb[8];
    FN(ubits) ab[8], sb[8], r[8];
    REAL as[8];
    memcpy(xb, x + i, sizeof xb);
    memcpy(ab, a + i, sizeof ab);
#define B_(k) as[k] = a[i + k] * sl;
    REP8(B_)
#undef B_
    memcpy(sb, as, sizeof sb);
#define B_(k)                                             \
  {                                                       \
    FN(ubits) m_ = (FN(ubits))0 - (FN(ubits))(xb[k] > 0); \
    r[k] = (ab[k] & m_) | (sb[k] & ~m_);                  \
  }
    REP8(B_)
#undef B_
    memcpy(y + i, r, sizeof r);
  }
  for (; i < n; i++) y[i] = x[i] > 0 ? a[i] : a[i] * sl;
}

/* pos_select on the team for large n (NN_EW_PFOR: fixed blocks) */
static void FN(pos_select_par)(size_t n, const REAL *x, const REAL *a, REAL sl, REAL *y) {
  NN_EW_PFOR(n, FN(pos_select)(len_, x + lo_, a + lo_, sl, y + lo_););
}

static int FN(act_fast)(const nco_act *a) {
  return a->mix == 0 && (a->kind == NCO_ACT_RELU || a->kind == NCO_ACT_LEAKY_RELU ||
                         a->kind == NCO_ACT_IDENTITY);
}

static void FN(act_fwd)(nn_call *c) {
  const nco_act *a = &c->l->act;
  const size_t n = c->nb * c->l->in_size;
  const REAL *x = CX(c, 0);
  REAL *y = CY(c);
  if (FN(act_fast)(a)) {
    if (a->kind == NCO_ACT_IDENTITY) {
      FN(vcopy_par)(n, x, y);
    } else {
      /* torch: relu(x) = max(x, 0); leaky_relu(x) = x > 0 ? x : x·slope */
      FN(pos_select_par)(n, x, x, a->kind == NCO_ACT_RELU ? 0 : (REAL)a->slope, y);
    }
    return;
  }
  NN_EW_PFOR(n, for (size_t i = lo_; i < lo_ + len_; i++) y[i] = (REAL)nco_act_f(a, x[i]););
}

/* y = φ̃'(x)·d */
static void FN(act_df_mul)(const nco_act *a, size_t n, const REAL *restrict x, const REAL *restrict d,
                           REAL *restrict y) {
  if (FN(act_fast)(a)) {
    if (a->kind == NCO_ACT_IDENTITY) {
      FN(vcopy_par)(n, d, y);
    } else {
      FN(pos_select_par)(n, x, d, a->kind == NCO_ACT_RELU ? 0 : (REAL)a->slope, y);
    }
    return;
  }
  NN_EW_PFOR(n, for (size_t i = lo_; i < lo_ + len_; i++) y[i] = (REAL)(nco_act_df(a, x[i]) * d[i]););
}

static void FN(act_rop)(nn_call *c) {
  FN(act_df_mul)(&c->l->act, c->nb * c->l->out_size, CX(c, 0), CRX(c, 0), CRY(c));
}

/* δ_x = φ̃'(x)·δ; R{φ̃'(x)·δ} = φ̃'(x)·Rδ + φ̃''(x)·Rx·δ */
static void FN(act_vjp)(nn_call *c) {
  const nco_act *a = &c->l->act;
  const size_t n = c->nb * c->l->in_size;
  const REAL *x = CX(c, 0), *rx = CRX(c, 0), *d = CDY(c), *rd = CRDY(c);
  REAL *ry = CRDX(c, 0);
  if (rd) {
    if (FN(act_fast)(a)) {
      FN(act_df_mul)(a, n, x, rd, ry); /* φ̃'' = 0 */
    } else {
      NN_EW_PFOR(n, for (size_t i = lo_; i < lo_ + len_; i++) ry[i] =
                        (REAL)(nco_act_df(a, x[i]) * rd[i] + nco_act_d2f(a, x[i]) * rx[i] * d[i]););
    }
  }
  FN(act_df_mul)(a, n, x, d, CDX(c, 0));
}

/* The smallest |z| over the inputs of a kinked activation (ReLU family, ELU). */
static double FN(act_margin)(nn_call *c) {
  double mg = INFINITY;
  if (!nn_act_has_kink(&c->l->act)) return mg;
  const REAL *x = CX(c, 0);
  for (size_t j = 0; j < c->nb * c->l->in_size; j++)
    if (fabs((double)x[j]) < mg) mg = fabs((double)x[j]);
  return mg;
}
#endif
