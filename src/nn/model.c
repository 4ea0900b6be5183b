/* Network models: layer shapes, parameter layout and names, initialisation,
 * and the MLP / LeNet-5 builders. No numerics here (see kernels.inc). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

int nn_act_has_kink(const nco_act *a) {
  return a->kind == NCO_ACT_RELU || a->kind == NCO_ACT_LEAKY_RELU || a->kind == NCO_ACT_ELU;
}

int nco_nn_model_create(size_t ndim, const size_t *in_shape, nco_nn_model **out) {
  if (!out) return nco_error(NCO_ERR_INVALID, "nn model: output pointer is NULL");
  *out = NULL;
  if (!in_shape || (ndim != 1 && ndim != 3))
    return nco_error(NCO_ERR_SHAPE, "nn model: input shape must have 1 (features) or 3 (channels, height, width) dimensions, got %zu",
                     ndim);
  size_t sz = 1;
  for (size_t i = 0; i < ndim; i++) {
    if (in_shape[i] == 0)
      return nco_error(NCO_ERR_SHAPE, "nn model: input dimension %zu is 0", i);
    if (nco_mul_size(sz, in_shape[i], &sz))
      return nco_error(NCO_ERR_OVERFLOW, "nn model: input size overflows");
  }
  nco_nn_model *m = calloc(1, sizeof *m);
  if (!m) return nco_error(NCO_ERR_NOMEM, "nn model: out of memory");
  m->in_ndim = ndim;
  for (size_t i = 0; i < ndim; i++) m->in_shape[i] = in_shape[i];
  *out = m;
  return NCO_OK;
}

void nco_nn_model_free(nco_nn_model *m) {
  if (!m) return;
  free(m->layers);
  free(m);
}

int nco_nn_model_clone(const nco_nn_model *m, nco_nn_model **out) {
  if (!m || !out) return nco_error(NCO_ERR_INVALID, "nn model: clone of NULL");
  *out = NULL;
  nco_nn_model *c = calloc(1, sizeof *c);
  if (!c) return nco_error(NCO_ERR_NOMEM, "nn model: out of memory");
  *c = *m;
  c->layers = NULL;
  c->cap = m->nl;
  if (m->nl) {
    c->layers = nco_calloc(m->nl, sizeof *c->layers);
    if (!c->layers) {
      free(c);
      return nco_error(NCO_ERR_NOMEM, "nn model: out of memory");
    }
    memcpy(c->layers, m->layers, m->nl * sizeof *c->layers);
  }
  *out = c;
  return NCO_OK;
}

/* The current output shape (that of the input when there is no layer). */
static void cur_shape(const nco_nn_model *m, size_t *c, size_t *h, size_t *w, int *flat,
                      size_t *size) {
  if (m->nl) {
    const nn_layer *L = &m->layers[m->nl - 1];
    *c = L->oc, *h = L->oh, *w = L->ow, *flat = L->out_flat, *size = L->out_size;
  } else if (m->in_ndim == 1) {
    *c = m->in_shape[0], *h = *w = 1, *flat = 1, *size = m->in_shape[0];
  } else {
    *c = m->in_shape[0], *h = m->in_shape[1], *w = m->in_shape[2], *flat = 0;
    *size = *c * *h * *w;
  }
}

/* Appends a layer with the current output as its input; the caller fills
 * the output shape and parameters. */
static int push(nco_nn_model *m, nco_nn_layer_kind kind, nn_layer **L) {
  if (m->nl == m->cap) {
    size_t nc = m->cap ? 2 * m->cap : 8;
    nn_layer *nl = realloc(m->layers, nc * sizeof *nl);
    if (!nl) return nco_error(NCO_ERR_NOMEM, "nn model: out of memory adding a layer");
    m->layers = nl;
    m->cap = nc;
  }
  nn_layer *l = &m->layers[m->nl];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  cur_shape(m, &l->ic, &l->ih, &l->iw, &l->in_flat, &l->in_size);
  l->poff = m->dim;
  *L = l;
  return NCO_OK;
}

/* Commits the pushed layer after its output shape and parameter counts
 * were set; checks the sizes. */
static int commit(nco_nn_model *m, nn_layer *l, const char *what) {
  size_t sz, np, dim;
  if (nco_mul_size(l->oc, l->oh, &sz) || nco_mul_size(sz, l->ow, &sz) ||
      nco_add_size(l->nw, l->nb, &np) || nco_add_size(m->dim, np, &dim))
    return nco_error(NCO_ERR_OVERFLOW, "nn model: %s: sizes overflow", what);
  l->out_size = sz;
  if (sz == 0) return nco_error(NCO_ERR_SHAPE, "nn model: %s has an empty output", what);
  m->dim = dim;
  m->nl++;
  return NCO_OK;
}

int nco_nn_add_dense(nco_nn_model *m, size_t out_features, int bias) {
  nn_layer *l;
  int st;
  if (!m) return nco_error(NCO_ERR_INVALID, "nn model: NULL model");
  if (out_features == 0) return nco_error(NCO_ERR_SHAPE, "nn model: dense layer with 0 outputs");
  if ((st = push(m, NCO_NN_DENSE, &l))) return st;
  l->oc = out_features, l->oh = l->ow = 1, l->out_flat = 1;
  if (nco_mul_size(out_features, l->in_size, &l->nw))
    return nco_error(NCO_ERR_OVERFLOW, "nn model: dense %zu -> %zu overflows", l->in_size, out_features);
  l->nb = bias ? out_features : 0;
  l->fan_in = l->in_size, l->fan_out = out_features;
  l->named = 1;
  snprintf(l->name, sizeof l->name, "fc%zu", ++m->n_dense);
  return commit(m, l, "dense");
}

int nco_nn_add_conv2d(nco_nn_model *m, size_t out_channels, size_t kh, size_t kw, size_t stride,
                      size_t pad, int bias) {
  nn_layer *l;
  int st;
  nco_conv_shape s;
  if (!m) return nco_error(NCO_ERR_INVALID, "nn model: NULL model");
  size_t c, h, w, sz;
  int flat;
  cur_shape(m, &c, &h, &w, &flat, &sz);
  if (flat)
    return nco_error(NCO_ERR_SHAPE, "nn model: conv2d layer %zu needs a (channels, height, width) input, got %zu flat features",
                     m->nl, sz);
  if ((st = nco_conv_shape_init(&s, 1, c, h, w, out_channels, kh, kw, stride, pad)))
    return nco_error_context(st, "nn model: layer %zu", m->nl);
  if ((st = push(m, NCO_NN_CONV2D, &l))) return st;
  l->oc = out_channels, l->oh = s.OH, l->ow = s.OW, l->out_flat = 0;
  l->kh = kh, l->kw = kw, l->stride = stride, l->pad = pad;
  size_t taps;
  if (nco_mul_size(c, kh * kw, &taps) || nco_mul_size(taps, out_channels, &l->nw))
    return nco_error(NCO_ERR_OVERFLOW, "nn model: conv2d weights overflow");
  l->nb = bias ? out_channels : 0;
  l->fan_in = taps, l->fan_out = out_channels * kh * kw;
  l->named = 1;
  snprintf(l->name, sizeof l->name, "conv%zu", ++m->n_conv);
  return commit(m, l, "conv2d");
}

static int add_pool(nco_nn_model *m, nco_nn_layer_kind kind, size_t k, size_t stride) {
  nn_layer *l;
  int st;
  const char *what = kind == NCO_NN_MAXPOOL2D ? "maxpool2d" : "avgpool2d";
  if (!m) return nco_error(NCO_ERR_INVALID, "nn model: NULL model");
  if (stride == 0) stride = k;
  size_t c, h, w, sz, OH, OW;
  int flat;
  cur_shape(m, &c, &h, &w, &flat, &sz);
  if (flat)
    return nco_error(NCO_ERR_SHAPE, "nn model: %s layer %zu needs a (channels, height, width) input, got %zu flat features",
                     what, m->nl, sz);
  if ((st = nco_pool_shape_init(1, c, h, w, k, stride, &OH, &OW)))
    return nco_error_context(st, "nn model: %s layer %zu", what, m->nl);
  if ((st = push(m, kind, &l))) return st;
  l->oc = c, l->oh = OH, l->ow = OW, l->out_flat = 0;
  l->kh = l->kw = k, l->stride = stride;
  snprintf(l->name, sizeof l->name, "%s", kind == NCO_NN_MAXPOOL2D ? "maxpool" : "avgpool");
  return commit(m, l, what);
}

int nco_nn_add_maxpool2d(nco_nn_model *m, size_t k, size_t stride) {
  return add_pool(m, NCO_NN_MAXPOOL2D, k, stride);
}
int nco_nn_add_avgpool2d(nco_nn_model *m, size_t k, size_t stride) {
  return add_pool(m, NCO_NN_AVGPOOL2D, k, stride);
}

int nco_nn_add_flatten(nco_nn_model *m) {
  nn_layer *l;
  int st;
  if (!m) return nco_error(NCO_ERR_INVALID, "nn model: NULL model");
  if ((st = push(m, NCO_NN_FLATTEN, &l))) return st;
  l->oc = l->in_size, l->oh = l->ow = 1, l->out_flat = 1;
  snprintf(l->name, sizeof l->name, "flatten");
  return commit(m, l, "flatten");
}

int nco_nn_add_act(nco_nn_model *m, const nco_act *a) {
  nn_layer *l;
  int st;
  if (!m || !a) return nco_error(NCO_ERR_INVALID, "nn model: NULL argument");
  if ((st = nco_act_validate(a))) return nco_error_context(st, "nn model: activation layer %zu", m->nl);
  if ((st = push(m, NCO_NN_ACT, &l))) return st;
  l->oc = l->ic, l->oh = l->ih, l->ow = l->iw, l->out_flat = l->in_flat;
  l->act = *a;
  snprintf(l->name, sizeof l->name, "%s", nco_act_name(a->kind));
  return commit(m, l, "activation");
}

int nco_nn_add_dropout(nco_nn_model *m, double p) {
  nn_layer *l;
  int st;
  if (!m) return nco_error(NCO_ERR_INVALID, "nn model: NULL model");
  if (!(p >= 0 && p < 1))
    return nco_error(NCO_ERR_RANGE, "nn model: dropout probability %g is not in [0, 1)", p);
  if ((st = push(m, NCO_NN_DROPOUT, &l))) return st;
  l->oc = l->ic, l->oh = l->ih, l->ow = l->iw, l->out_flat = l->in_flat;
  l->p = p;
  snprintf(l->name, sizeof l->name, "dropout");
  return commit(m, l, "dropout");
}

int nco_nn_rename_last(nco_nn_model *m, const char *name) {
  if (!m || !name) return nco_error(NCO_ERR_INVALID, "nn model: NULL argument");
  if (m->nl == 0) return nco_error(NCO_ERR_STATE, "nn model: no layer to rename");
  size_t len = strlen(name);
  if (len == 0 || len >= sizeof m->layers[0].name)
    return nco_error(NCO_ERR_INVALID, "nn model: layer name \"%s\" must have 1 to %zu characters", name,
                     sizeof m->layers[0].name - 1);
  for (size_t i = 0; i < len; i++)
    if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
      return nco_error(NCO_ERR_INVALID, "nn model: layer name \"%s\": only letters, digits and '_'", name);
  for (size_t i = 0; i + 1 < m->nl; i++)
    if (m->layers[i].named && !strcmp(m->layers[i].name, name))
      return nco_error(NCO_ERR_INVALID, "nn model: layer name \"%s\" is already used by layer %zu", name, i);
  snprintf(m->layers[m->nl - 1].name, sizeof m->layers[0].name, "%s", name);
  return NCO_OK;
}

size_t nco_nn_dim(const nco_nn_model *m) { return m ? m->dim : 0; }
size_t nco_nn_num_layers(const nco_nn_model *m) { return m ? m->nl : 0; }
size_t nco_nn_in_size(const nco_nn_model *m) {
  size_t c, h, w, sz;
  int flat;
  if (!m) return 0;
  nco_nn_model tmp = *m;
  tmp.nl = 0;
  cur_shape(&tmp, &c, &h, &w, &flat, &sz);
  return sz;
}
size_t nco_nn_out_size(const nco_nn_model *m) {
  size_t c, h, w, sz;
  int flat;
  if (!m) return 0;
  cur_shape(m, &c, &h, &w, &flat, &sz);
  return sz;
}

const char *nco_nn_describe(const nco_nn_model *m, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  buf[0] = 0;
  if (!m) return buf;
  size_t k = 0;
#define APPEND(...)                                                      \
  do {                                                                   \
    if (k < len) {                                                       \
      int r_ = snprintf(buf + k, len - k, __VA_ARGS__);                  \
      if (r_ < 0) return buf;                                            \
      k += (size_t)r_;                                                   \
    }                                                                    \
  } while (0)
  if (m->in_ndim == 1)
    APPEND("in(%zu)", m->in_shape[0]);
  else
    APPEND("in(%zux%zux%zu)", m->in_shape[0], m->in_shape[1], m->in_shape[2]);
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    switch (l->kind) {
      case NCO_NN_DENSE: APPEND(" %s(%zu->%zu%s)", l->name, l->in_size, l->oc, l->nb ? "" : " nobias"); break;
      case NCO_NN_CONV2D:
        APPEND(" %s(%zu->%zu %zux%zu s%zu p%zu%s)", l->name, l->ic, l->oc, l->kh, l->kw, l->stride, l->pad,
               l->nb ? "" : " nobias");
        break;
      case NCO_NN_MAXPOOL2D: APPEND(" maxpool(%zu,%zu)", l->kh, l->stride); break;
      case NCO_NN_AVGPOOL2D: APPEND(" avgpool(%zu,%zu)", l->kh, l->stride); break;
      case NCO_NN_FLATTEN: APPEND(" flatten"); break;
      case NCO_NN_ACT:
        APPEND(" %s", nco_act_name(l->act.kind));
        if (l->act.mix > 0) APPEND("(mix=%g)", l->act.mix);
        break;
      case NCO_NN_DROPOUT: APPEND(" dropout(%g)", l->p); break;
    }
  }
#undef APPEND
  return buf;
}

size_t nco_nn_num_params(const nco_nn_model *m) {
  size_t k = 0;
  if (!m) return 0;
  for (size_t i = 0; i < m->nl; i++) k += (m->layers[i].nw > 0) + (m->layers[i].nb > 0);
  return k;
}

static void fill_param(const nn_layer *l, size_t li, int bias, nco_nn_param *p) {
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s.%s", l->name, bias ? "bias" : "weight");
  p->layer = li;
  if (bias) {
    p->offset = l->poff + l->nw, p->length = l->nb, p->ndim = 1, p->shape[0] = l->nb;
  } else if (l->kind == NCO_NN_DENSE) {
    p->offset = l->poff, p->length = l->nw, p->ndim = 2;
    p->shape[0] = l->oc, p->shape[1] = l->in_size;
  } else {
    p->offset = l->poff, p->length = l->nw, p->ndim = 4;
    p->shape[0] = l->oc, p->shape[1] = l->ic, p->shape[2] = l->kh, p->shape[3] = l->kw;
  }
}

int nco_nn_param_get(const nco_nn_model *m, size_t i, nco_nn_param *p) {
  if (!m || !p) return nco_error(NCO_ERR_INVALID, "nn model: NULL argument");
  size_t k = 0;
  for (size_t li = 0; li < m->nl; li++) {
    const nn_layer *l = &m->layers[li];
    if (l->nw) {
      if (k == i) return fill_param(l, li, 0, p), NCO_OK;
      k++;
    }
    if (l->nb) {
      if (k == i) return fill_param(l, li, 1, p), NCO_OK;
      k++;
    }
  }
  return nco_error(NCO_ERR_RANGE, "nn model: parameter slice %zu does not exist (the model has %zu)", i, k);
}

int nco_nn_param_find(const nco_nn_model *m, const char *name, nco_nn_param *p) {
  if (!m || !name || !p) return nco_error(NCO_ERR_INVALID, "nn model: NULL argument");
  size_t np = nco_nn_num_params(m);
  for (size_t i = 0; i < np; i++) {
    nco_nn_param_get(m, i, p);
    if (!strcmp(p->name, name)) return NCO_OK;
  }
  return nco_error(NCO_ERR_RANGE, "nn model: no parameter slice is named \"%s\"", name);
}

/* PyTorch 1.13 torch/nn/modules/linear.py and conv.py reset_parameters:
 * kaiming_uniform_(w, a=√5) gives bound = gain·√(3/fan_in) with
 * gain = √(2/(1 + a²)) = √(1/3), i.e. U(±1/√fan_in); the bias is
 * U(±1/√fan_in). Glorot & Bengio (2010) eq. 16: U(±√(6/(fan_in+fan_out))).
 * He et al. (2015) §2.2: N(0, 2/fan_in). */
int nco_nn_init(const nco_nn_model *m, nco_nn_init_kind kind, double sigma, nco_rng *rng,
                float *theta) {
  if (!m || !rng || !theta) return nco_error(NCO_ERR_INVALID, "nn init: NULL argument");
  if (kind == NCO_NN_INIT_NORMAL && !(sigma > 0 && isfinite(sigma)))
    return nco_error(NCO_ERR_RANGE, "nn init: normal init needs sigma > 0, got %g", sigma);
  if (kind < NCO_NN_INIT_TORCH || kind > NCO_NN_INIT_NORMAL)
    return nco_error(NCO_ERR_INVALID, "nn init: unknown init kind %d", (int)kind);
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    if (!l->nw && !l->nb) continue;
    float *w = theta + l->poff, *b = w + l->nw;
    double fi = (double)l->fan_in, fo = (double)l->fan_out, bound;
    switch (kind) {
      case NCO_NN_INIT_TORCH:
        bound = 1 / sqrt(fi);
        nco_rng_uniform_fill(rng, w, l->nw, -bound, bound);
        if (l->nb) nco_rng_uniform_fill(rng, b, l->nb, -bound, bound);
        break;
      case NCO_NN_INIT_XAVIER_UNIFORM:
        bound = sqrt(6 / (fi + fo));
        nco_rng_uniform_fill(rng, w, l->nw, -bound, bound);
        nco_fill(l->nb, 0, b);
        break;
      case NCO_NN_INIT_KAIMING_NORMAL:
        nco_rng_normal_fill(rng, w, l->nw, 0, sqrt(2 / fi));
        nco_fill(l->nb, 0, b);
        break;
      case NCO_NN_INIT_NORMAL:
        nco_rng_normal_fill(rng, w, l->nw, 0, sigma);
        nco_fill(l->nb, 0, b);
        break;
    }
  }
  return NCO_OK;
}

int nco_nn_mlp(size_t in, const size_t *widths, size_t nw, size_t out, const nco_act *act,
               nco_nn_model **out_model) {
  int st;
  nco_nn_model *m = NULL;
  if (!out_model) return nco_error(NCO_ERR_INVALID, "mlp: output pointer is NULL");
  *out_model = NULL;
  if (nw && !widths) return nco_error(NCO_ERR_INVALID, "mlp: widths is NULL");
  if (nw && !act) return nco_error(NCO_ERR_INVALID, "mlp: activation is NULL");
  if ((st = nco_nn_model_create(1, &in, &m))) return nco_error_context(st, "mlp");
  for (size_t i = 0; i < nw; i++) {
    if ((st = nco_nn_add_dense(m, widths[i], 1)) || (st = nco_nn_add_act(m, act))) goto fail;
  }
  if ((st = nco_nn_add_dense(m, out, 1))) goto fail;
  *out_model = m;
  return NCO_OK;
fail:
  nco_nn_model_free(m);
  return nco_error_context(st, "mlp");
}

int nco_nn_lenet5(size_t C, size_t H, size_t W, size_t classes, nco_nn_model **out_model) {
  int st;
  nco_nn_model *m = NULL;
  nco_act relu = nco_act_make(NCO_ACT_RELU);
  size_t shape[3] = {C, H, W};
  if (!out_model) return nco_error(NCO_ERR_INVALID, "lenet: output pointer is NULL");
  *out_model = NULL;
  if ((st = nco_nn_model_create(3, shape, &m))) return nco_error_context(st, "lenet");
  if ((st = nco_nn_add_conv2d(m, 6, 5, 5, 1, 2, 1)) || (st = nco_nn_add_act(m, &relu)) ||
      (st = nco_nn_add_maxpool2d(m, 2, 2)) || (st = nco_nn_add_conv2d(m, 16, 5, 5, 1, 0, 1)) ||
      (st = nco_nn_add_act(m, &relu)) || (st = nco_nn_add_maxpool2d(m, 2, 2)) ||
      (st = nco_nn_add_flatten(m)) || (st = nco_nn_add_dense(m, 120, 1)) ||
      (st = nco_nn_add_act(m, &relu)) || (st = nco_nn_add_dense(m, 84, 1)) ||
      (st = nco_nn_add_act(m, &relu)) || (st = nco_nn_add_dense(m, classes, 1)))
    goto fail;
  *out_model = m;
  return NCO_OK;
fail:
  nco_nn_model_free(m);
  return nco_error_context(st, "lenet (input %zux%zux%zu)", C, H, W);
}
