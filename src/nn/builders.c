/* The ResNet, VGG and U-Net builders of nn.h (Chen, Yang & Zhou §III–IV:
 * batch norm in VGG, skip connections in ResNet and U-Net), through the
 * public graph API only (nco_nn_graph_create, nco_nn_add_input,
 * nco_nn_add_node), in the style of nco_nn_mlp / nco_nn_lenet5 (model.c).
 *
 * The node order is the parameter order, and it is the registration order
 * of the torch modules of scripts/make_builder_fixtures.py, so params.npy
 * and torch's parameters_to_vector agree (tests/test_nn_builders.c checks
 * counts, outputs, losses, gradients, HVPs and 20 SGD-momentum steps
 * against them). Shapes are checked here first so that an impossible
 * input is refused with the builder's sizes rather than by the op of some
 * inner node. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ncopt/nn.h"
#include "ncopt/status.h"

/* ---- node helpers ---------------------------------------------------------
 * Each appends one named node fed by `in` (one input) and returns its
 * status; the name buffers are the caller's. */

static int conv(nco_nn_model *m, const char *name, const char *in, size_t out, size_t k, size_t stride,
                size_t pad, int bias) {
  nco_nn_node_spec op = {.kind = NCO_NN_CONV2D, .out = out, .kh = k, .kw = k, .stride = stride, .pad = pad,
                         .bias = bias};
  return nco_nn_add_node(m, name, &op, 1, &in);
}

static int bnorm(nco_nn_model *m, const char *name, const char *in, double eps, double momentum) {
  nco_nn_node_spec op = {.kind = NCO_NN_BATCHNORM, .eps = eps, .momentum = momentum, .bias = 1};
  return nco_nn_add_node(m, name, &op, 1, &in);
}

static int act(nco_nn_model *m, const char *name, const char *in, const nco_act *a) {
  nco_nn_node_spec op = {.kind = NCO_NN_ACT, .act = *a};
  return nco_nn_add_node(m, name, &op, 1, &in);
}

static int simple(nco_nn_model *m, const char *name, nco_nn_layer_kind kind, const char *in) {
  nco_nn_node_spec op = {.kind = kind};
  return nco_nn_add_node(m, name, &op, 1, &in);
}

static int maxpool2(nco_nn_model *m, const char *name, const char *in) {
  nco_nn_node_spec op = {.kind = NCO_NN_MAXPOOL2D, .kh = 2, .kw = 2, .stride = 2};
  return nco_nn_add_node(m, name, &op, 1, &in);
}

static int dense(nco_nn_model *m, const char *name, const char *in, size_t out) {
  nco_nn_node_spec op = {.kind = NCO_NN_DENSE, .out = out, .bias = 1};
  return nco_nn_add_node(m, name, &op, 1, &in);
}

/* A graph with the data input "input" of shape (C, H, W). */
static int start(size_t C, size_t H, size_t W, nco_nn_model **m) {
  size_t shape[3] = {C, H, W};
  int st = nco_nn_graph_create(m);
  if (!st) st = nco_nn_add_input(*m, "input", NCO_NN_IN_DATA, 3, shape);
  return st;
}

/* The checks every builder shares: sizes ≥ 1, a valid activation, torch's
 * batch-norm ranges (eps > 0, momentum ∈ [0, 1]). */
static int check_common(const char *who, size_t C, size_t H, size_t W, const nco_act *a, double eps,
                        double momentum) {
  if (C == 0 || H == 0 || W == 0)
    return nco_error(NCO_ERR_RANGE, "%s: input %zux%zux%zu: every size must be >= 1", who, C, H, W);
  int st = nco_act_validate(a);
  if (st) return nco_error_context(st, "%s: activation", who);
  if (!(eps > 0 && isfinite(eps))) return nco_error(NCO_ERR_RANGE, "%s: bn_eps = %g: must be > 0", who, eps);
  if (!(momentum >= 0 && momentum <= 1))
    return nco_error(NCO_ERR_RANGE, "%s: bn_momentum = %g: must be in [0, 1]", who, momentum);
  return NCO_OK;
}

/* list[0..n) ≥ 1 */
static int check_list(const char *who, const char *what, const size_t *list, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (list[i] == 0) return nco_error(NCO_ERR_RANGE, "%s: %s[%zu] = 0: must be >= 1", who, what, i);
  return NCO_OK;
}

/* ---- ResNet ----------------------------------------------------------------- */

nco_nn_resnet_opts nco_nn_resnet_defaults(size_t C, size_t H, size_t W, size_t classes) {
  nco_nn_resnet_opts o;
  memset(&o, 0, sizeof o);
  o.C = C, o.H = H, o.W = W, o.classes = classes;
  o.nstages = 3;
  for (size_t i = 0; i < NCO_NN_BUILDER_MAX_STAGES; i++) o.channels[i] = (size_t)16 << i, o.blocks[i] = 3;
  o.skips = NCO_NN_RESNET_SKIPS_ALL;
  o.bn = 1;
  o.act = nco_act_make(NCO_ACT_RELU);
  o.bn_eps = 1e-5, o.bn_momentum = 0.1;
  return o;
}

static const char *const resnet_skips_names[] = {"all", "first", "first_two", "none"};

const char *nco_nn_resnet_skips_name(nco_nn_resnet_skips s) {
  return (unsigned)s < 4 ? resnet_skips_names[s] : "?";
}

int nco_nn_resnet_skips_parse(const char *name, nco_nn_resnet_skips *s) {
  if (!name || !s) return nco_error(NCO_ERR_INVALID, "resnet skips: NULL argument");
  for (int i = 0; i < 4; i++)
    if (!strcmp(name, resnet_skips_names[i])) return *s = (nco_nn_resnet_skips)i, NCO_OK;
  return nco_error(NCO_ERR_RANGE, "resnet skips \"%s\": one of all, first, first_two, none", name);
}

/* Does block b (0-based) of a stage keep its skip connection? */
static int resnet_keeps(nco_nn_resnet_skips s, size_t b) {
  switch (s) {
    case NCO_NN_RESNET_SKIPS_ALL: return 1;
    case NCO_NN_RESNET_SKIPS_FIRST: return b < 1;
    case NCO_NN_RESNET_SKIPS_FIRST_TWO: return b < 2;
    case NCO_NN_RESNET_SKIPS_NONE: return 0;
  }
  return 0;
}

static int resnet_check(const nco_nn_resnet_opts *o) {
  int st = check_common("resnet", o->C, o->H, o->W, &o->act, o->bn_eps, o->bn_momentum);
  if (st) return st;
  if (o->classes == 0) return nco_error(NCO_ERR_RANGE, "resnet: classes = 0: must be >= 1");
  if (o->nstages == 0 || o->nstages > NCO_NN_BUILDER_MAX_STAGES)
    return nco_error(NCO_ERR_RANGE, "resnet: %zu stages: must be 1 to %d", o->nstages, NCO_NN_BUILDER_MAX_STAGES);
  if ((st = check_list("resnet", "channels", o->channels, o->nstages)) ||
      (st = check_list("resnet", "blocks", o->blocks, o->nstages)))
    return st;
  if ((unsigned)o->skips > NCO_NN_RESNET_SKIPS_NONE)
    return nco_error(NCO_ERR_RANGE, "resnet: skips = %d: not a nco_nn_resnet_skips", (int)o->skips);
  size_t h = o->H, w = o->W;
  for (size_t s = 1; s < o->nstages; s++) {
    if (h < 2 || w < 2)
      return nco_error(NCO_ERR_SHAPE,
                       "resnet: input %zux%zux%zu too small for %zu stages: stage %zu would halve a %zux%zu map "
                       "(each stage after the first halves H and W, rounding up)",
                       o->C, o->H, o->W, o->nstages, s + 1, h, w);
    h = (h + 1) / 2, w = (w + 1) / 2;
  }
  return NCO_OK;
}

int nco_nn_resnet(const nco_nn_resnet_opts *o, nco_nn_model **out_model) {
  int st;
  nco_nn_model *m = NULL;
  if (!out_model) return nco_error(NCO_ERR_INVALID, "resnet: output pointer is NULL");
  *out_model = NULL;
  if (!o) return nco_error(NCO_ERR_INVALID, "resnet: options are NULL");
  if ((st = resnet_check(o))) return st;
  if ((st = start(o->C, o->H, o->W, &m))) goto fail;
  const int bn = o->bn != 0;
  /* stem */
  if ((st = conv(m, "stem", "input", o->channels[0], 3, 1, 1, !bn))) goto fail;
  if (bn && (st = bnorm(m, "stem_bn", "stem", o->bn_eps, o->bn_momentum))) goto fail;
  if ((st = act(m, "stem_act", bn ? "stem_bn" : "stem", &o->act))) goto fail;
  char cur[32] = "stem_act";
  size_t cin = o->channels[0];
  for (size_t s = 0; s < o->nstages; s++) {
    size_t ch = o->channels[s];
    for (size_t b = 0; b < o->blocks[s]; b++) {
      size_t stride = s > 0 && b == 0 ? 2 : 1;
      char c1[32], bn1[32], a1[32], c2[32], bn2[32], sc[32], scbn[32], add[32], a2[32];
      snprintf(c1, sizeof c1, "s%ub%uc1", (unsigned)(s + 1), (unsigned)(b + 1));
      snprintf(bn1, sizeof bn1, "s%ub%ubn1", (unsigned)(s + 1), (unsigned)(b + 1));
      snprintf(a1, sizeof a1, "s%ub%ua1", (unsigned)(s + 1), (unsigned)(b + 1));
      snprintf(c2, sizeof c2, "s%ub%uc2", (unsigned)(s + 1), (unsigned)(b + 1));
      snprintf(bn2, sizeof bn2, "s%ub%ubn2", (unsigned)(s + 1), (unsigned)(b + 1));
      snprintf(sc, sizeof sc, "s%ub%usc", (unsigned)(s + 1), (unsigned)(b + 1));
      snprintf(scbn, sizeof scbn, "s%ub%uscbn", (unsigned)(s + 1), (unsigned)(b + 1));
      snprintf(add, sizeof add, "s%ub%uadd", (unsigned)(s + 1), (unsigned)(b + 1));
      snprintf(a2, sizeof a2, "s%ub%ua2", (unsigned)(s + 1), (unsigned)(b + 1));
      /* main path: torch's BasicBlock conv1, bn1, act, conv2, bn2 */
      if ((st = conv(m, c1, cur, ch, 3, stride, 1, !bn))) goto fail;
      if (bn && (st = bnorm(m, bn1, c1, o->bn_eps, o->bn_momentum))) goto fail;
      if ((st = act(m, a1, bn ? bn1 : c1, &o->act))) goto fail;
      if ((st = conv(m, c2, a1, ch, 3, 1, 1, !bn))) goto fail;
      if (bn && (st = bnorm(m, bn2, c2, o->bn_eps, o->bn_momentum))) goto fail;
      const char *main_out = bn ? bn2 : c2;
      if (resnet_keeps(o->skips, b)) {
        const char *shortcut = cur;
        if (stride != 1 || cin != ch) { /* projection (torchvision's downsample) */
          if ((st = conv(m, sc, cur, ch, 1, stride, 0, !bn))) goto fail;
          if (bn && (st = bnorm(m, scbn, sc, o->bn_eps, o->bn_momentum))) goto fail;
          shortcut = bn ? scbn : sc;
        }
        const char *ins[2] = {main_out, shortcut};
        nco_nn_node_spec op = {.kind = NCO_NN_ADD};
        if ((st = nco_nn_add_node(m, add, &op, 2, ins))) goto fail;
        main_out = add;
      }
      if ((st = act(m, a2, main_out, &o->act))) goto fail;
      snprintf(cur, sizeof cur, "%s", a2);
      cin = ch;
    }
  }
  if ((st = simple(m, "pool", NCO_NN_GLOBAL_AVGPOOL, cur)) || (st = dense(m, "fc", "pool", o->classes))) goto fail;
  *out_model = m;
  return NCO_OK;
fail:
  nco_nn_model_free(m);
  return nco_error_context(st, "resnet (input %zux%zux%zu)", o->C, o->H, o->W);
}

/* ---- VGG -------------------------------------------------------------------- */

nco_nn_vgg_opts nco_nn_vgg_defaults(size_t C, size_t H, size_t W, size_t classes) {
  nco_nn_vgg_opts o;
  memset(&o, 0, sizeof o);
  o.C = C, o.H = H, o.W = W, o.classes = classes;
  o.nblocks = 3;
  for (size_t i = 0; i < NCO_NN_BUILDER_MAX_STAGES; i++) o.channels[i] = (size_t)16 << i, o.convs[i] = i < 2 ? 2 : 3;
  o.bn = NCO_NN_VGG_BN_ALL;
  o.act = nco_act_make(NCO_ACT_RELU);
  o.bn_eps = 1e-5, o.bn_momentum = 0.1;
  return o;
}

static const char *const vgg_bn_names[] = {"all", "first", "none"};

const char *nco_nn_vgg_bn_name(nco_nn_vgg_bn b) { return (unsigned)b < 3 ? vgg_bn_names[b] : "?"; }

int nco_nn_vgg_bn_parse(const char *name, nco_nn_vgg_bn *b) {
  if (!name || !b) return nco_error(NCO_ERR_INVALID, "vgg bn: NULL argument");
  for (int i = 0; i < 3; i++)
    if (!strcmp(name, vgg_bn_names[i])) return *b = (nco_nn_vgg_bn)i, NCO_OK;
  return nco_error(NCO_ERR_RANGE, "vgg bn \"%s\": one of all, first, none", name);
}

static int vgg_check(const nco_nn_vgg_opts *o) {
  int st = check_common("vgg", o->C, o->H, o->W, &o->act, o->bn_eps, o->bn_momentum);
  if (st) return st;
  if (o->classes == 0) return nco_error(NCO_ERR_RANGE, "vgg: classes = 0: must be >= 1");
  if (o->nblocks == 0 || o->nblocks > NCO_NN_BUILDER_MAX_STAGES)
    return nco_error(NCO_ERR_RANGE, "vgg: %zu blocks: must be 1 to %d", o->nblocks, NCO_NN_BUILDER_MAX_STAGES);
  if ((st = check_list("vgg", "channels", o->channels, o->nblocks)) ||
      (st = check_list("vgg", "convs", o->convs, o->nblocks)))
    return st;
  if ((unsigned)o->bn > NCO_NN_VGG_BN_NONE) return nco_error(NCO_ERR_RANGE, "vgg: bn = %d: not a nco_nn_vgg_bn", (int)o->bn);
  size_t h = o->H, w = o->W;
  for (size_t k = 0; k < o->nblocks; k++) {
    if (h < 2 || w < 2)
      return nco_error(NCO_ERR_SHAPE,
                       "vgg: input %zux%zux%zu too small for %zu blocks: the 2x2 max-pool of block %zu gets a %zux%zu "
                       "map (H and W must be >= %zu)",
                       o->C, o->H, o->W, o->nblocks, k + 1, h, w, (size_t)1 << o->nblocks);
    h /= 2, w /= 2;
  }
  return NCO_OK;
}

int nco_nn_vgg(const nco_nn_vgg_opts *o, nco_nn_model **out_model) {
  int st;
  nco_nn_model *m = NULL;
  if (!out_model) return nco_error(NCO_ERR_INVALID, "vgg: output pointer is NULL");
  *out_model = NULL;
  if (!o) return nco_error(NCO_ERR_INVALID, "vgg: options are NULL");
  if ((st = vgg_check(o))) return st;
  if ((st = start(o->C, o->H, o->W, &m))) goto fail;
  char cur[32] = "input";
  for (size_t k = 0; k < o->nblocks; k++) {
    for (size_t j = 0; j < o->convs[k]; j++) {
      int bn = o->bn == NCO_NN_VGG_BN_ALL || (o->bn == NCO_NN_VGG_BN_FIRST && j == 0);
      char c[32], b[32], a[32];
      snprintf(c, sizeof c, "b%uc%u", (unsigned)(k + 1), (unsigned)(j + 1));
      snprintf(b, sizeof b, "b%ubn%u", (unsigned)(k + 1), (unsigned)(j + 1));
      snprintf(a, sizeof a, "b%ua%u", (unsigned)(k + 1), (unsigned)(j + 1));
      if ((st = conv(m, c, cur, o->channels[k], 3, 1, 1, !bn))) goto fail;
      if (bn && (st = bnorm(m, b, c, o->bn_eps, o->bn_momentum))) goto fail;
      if ((st = act(m, a, bn ? b : c, &o->act))) goto fail;
      snprintf(cur, sizeof cur, "%s", a);
    }
    char p[32];
    snprintf(p, sizeof p, "pool%u", (unsigned)(k + 1));
    if ((st = maxpool2(m, p, cur))) goto fail;
    snprintf(cur, sizeof cur, "%s", p);
  }
  if ((st = simple(m, "flatten", NCO_NN_FLATTEN, cur)) || (st = dense(m, "fc", "flatten", o->classes))) goto fail;
  *out_model = m;
  return NCO_OK;
fail:
  nco_nn_model_free(m);
  return nco_error_context(st, "vgg (input %zux%zux%zu)", o->C, o->H, o->W);
}

/* ---- U-Net ------------------------------------------------------------------ */

nco_nn_unet_opts nco_nn_unet_defaults(size_t C, size_t H, size_t W) {
  nco_nn_unet_opts o;
  memset(&o, 0, sizeof o);
  o.C = C, o.H = H, o.W = W;
  o.depth = 2;
  for (size_t i = 0; i < NCO_NN_BUILDER_MAX_STAGES; i++) o.channels[i] = (size_t)16 << i;
  o.skips = NCO_NN_UNET_SKIPS_ALL;
  o.bn = 1;
  o.act = nco_act_make(NCO_ACT_RELU);
  o.bn_eps = 1e-5, o.bn_momentum = 0.1;
  return o;
}

static int unet_check(const nco_nn_unet_opts *o) {
  int st = check_common("unet", o->C, o->H, o->W, &o->act, o->bn_eps, o->bn_momentum);
  if (st) return st;
  if (o->depth == 0 || o->depth >= NCO_NN_BUILDER_MAX_STAGES)
    return nco_error(NCO_ERR_RANGE, "unet: depth = %zu: must be 1 to %d", o->depth, NCO_NN_BUILDER_MAX_STAGES - 1);
  if ((st = check_list("unet", "channels", o->channels, o->depth + 1))) return st;
  if (o->skips != NCO_NN_UNET_SKIPS_ALL && (o->skips < 0 || (size_t)o->skips > o->depth))
    return nco_error(NCO_ERR_RANGE, "unet: skips = %d: must be all (-1) or 0 to depth = %zu", o->skips, o->depth);
  size_t f = (size_t)1 << o->depth;
  if (o->H % f || o->W % f)
    return nco_error(NCO_ERR_SHAPE,
                     "unet: input %zux%zux%zu: depth %zu needs H and W divisible by 2^%zu = %zu (each level halves "
                     "them and the up-sampling must give the skip's size back)",
                     o->C, o->H, o->W, o->depth, o->depth, f);
  return NCO_OK;
}

/* (conv3×3-BN-act)×2 → ch named PFX c1, bn1, a1, c2, bn2, a2, fed by in;
 * the last node's name into last. */
static int double_conv(nco_nn_model *m, const nco_nn_unet_opts *o, const char *pfx, const char *in, size_t ch,
                       char last[32]) {
  int st, bn = o->bn != 0;
  char prev[32];
  snprintf(prev, sizeof prev, "%s", in);
  for (int j = 1; j <= 2; j++) {
    char c[32], b[32], a[32];
    snprintf(c, sizeof c, "%sc%d", pfx, j);
    snprintf(b, sizeof b, "%sbn%d", pfx, j);
    snprintf(a, sizeof a, "%sa%d", pfx, j);
    if ((st = conv(m, c, prev, ch, 3, 1, 1, !bn))) return st;
    if (bn && (st = bnorm(m, b, c, o->bn_eps, o->bn_momentum))) return st;
    if ((st = act(m, a, bn ? b : c, &o->act))) return st;
    snprintf(prev, sizeof prev, "%s", a);
  }
  snprintf(last, 32, "%s", prev);
  return NCO_OK;
}

int nco_nn_unet(const nco_nn_unet_opts *o, nco_nn_model **out_model) {
  int st;
  nco_nn_model *m = NULL;
  if (!out_model) return nco_error(NCO_ERR_INVALID, "unet: output pointer is NULL");
  *out_model = NULL;
  if (!o) return nco_error(NCO_ERR_INVALID, "unet: options are NULL");
  if ((st = unet_check(o))) return st;
  if ((st = start(o->C, o->H, o->W, &m))) goto fail;
  const size_t D = o->depth;
  const size_t keep = o->skips == NCO_NN_UNET_SKIPS_ALL ? D : (size_t)o->skips;
  char enc[NCO_NN_BUILDER_MAX_STAGES][32]; /* the output of encoder level l+1 */
  char cur[32] = "input", pfx[16];
  for (size_t l = 0; l <= D; l++) {
    snprintf(pfx, sizeof pfx, "enc%u", (unsigned)(l + 1));
    if ((st = double_conv(m, o, pfx, cur, o->channels[l], enc[l]))) goto fail;
    if (l < D) {
      snprintf(cur, sizeof cur, "down%u", (unsigned)(l + 1));
      if ((st = maxpool2(m, cur, enc[l]))) goto fail;
    } else {
      memcpy(cur, enc[l], sizeof cur);
    }
  }
  for (size_t l = D; l-- > 0;) { /* decoder level l+1, fed by level l+2 */
    char up[32], cat[32];
    snprintf(up, sizeof up, "up%u", (unsigned)(l + 1));
    nco_nn_node_spec ct = {.kind = NCO_NN_CONV_TRANSPOSE2D, .out = o->channels[l], .kh = 2, .kw = 2, .stride = 2,
                           .bias = 1};
    const char *cin = cur;
    if ((st = nco_nn_add_node(m, up, &ct, 1, &cin))) goto fail;
    const char *into = up;
    if (l < keep) { /* skip l+1 is one of the last `keep` the decoder uses */
      snprintf(cat, sizeof cat, "cat%u", (unsigned)(l + 1));
      const char *ins[2] = {up, enc[l]};
      nco_nn_node_spec op = {.kind = NCO_NN_CONCAT};
      if ((st = nco_nn_add_node(m, cat, &op, 2, ins))) goto fail;
      into = cat;
    }
    snprintf(pfx, sizeof pfx, "dec%u", (unsigned)(l + 1));
    if ((st = double_conv(m, o, pfx, into, o->channels[l], cur))) goto fail;
  }
  if ((st = conv(m, "out", cur, o->C, 1, 1, 0, 1))) goto fail;
  *out_model = m;
  return NCO_OK;
fail:
  nco_nn_model_free(m);
  return nco_error_context(st, "unet (input %zux%zux%zu)", o->C, o->H, o->W);
}
