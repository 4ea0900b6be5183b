/* Network models through the graph API (graph.c): nco_nn_add_node and
 * the chain builders on it (each layer fed by the last node), the MLP and
 * LeNet-5 builders, names, parameter slices, initialisation, describe.
 * No numerics here (the op files and run.inc). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

static const nn_op_vt *op_of(nco_nn_layer_kind kind) {
  switch (kind) {
    case NCO_NN_DENSE: return &nn_op_linear;
    case NCO_NN_CONV2D: return &nn_op_conv2d;
    case NCO_NN_MAXPOOL2D: return &nn_op_maxpool2d;
    case NCO_NN_AVGPOOL2D: return &nn_op_avgpool2d;
    case NCO_NN_FLATTEN: return &nn_op_flatten;
    case NCO_NN_ACT: return &nn_op_act;
    case NCO_NN_DROPOUT: return &nn_op_dropout;
    case NCO_NN_ADD: return &nn_op_add;
    case NCO_NN_CONCAT: return &nn_op_concat;
    case NCO_NN_CONV_TRANSPOSE2D: return &nn_op_conv_transpose2d;
    case NCO_NN_UPSAMPLE: return &nn_op_upsample;
    case NCO_NN_GLOBAL_AVGPOOL: return &nn_op_global_avgpool;
    case NCO_NN_UNFLATTEN: return &nn_op_unflatten;
    case NCO_NN_BATCHNORM: return &nn_op_batchnorm;
  }
  return NULL;
}

/* Automatic names: fc1, fc2, ... for linear, conv1, ... for conv2d, the
 * op's name otherwise (repeated). */
static void auto_name(nco_nn_model *m, nn_layer *l) {
  switch (l->kind) {
    case NCO_NN_DENSE: snprintf(l->name, sizeof l->name, "fc%zu", m->n_dense + 1); break;
    case NCO_NN_CONV2D: snprintf(l->name, sizeof l->name, "conv%zu", m->n_conv + 1); break;
    case NCO_NN_CONV_TRANSPOSE2D: snprintf(l->name, sizeof l->name, "convt%zu", m->n_convt + 1); break;
    case NCO_NN_MAXPOOL2D: snprintf(l->name, sizeof l->name, "maxpool"); break;
    case NCO_NN_AVGPOOL2D: snprintf(l->name, sizeof l->name, "avgpool"); break;
    case NCO_NN_ACT: snprintf(l->name, sizeof l->name, "%s", nco_act_name(l->act.kind)); break;
    default: snprintf(l->name, sizeof l->name, "%s", l->op->name); break;
  }
}

/* Node `name` (NULL: automatic) applying op to levels in[0..nin). */
static int add_levels(nco_nn_model *m, const char *name, const nco_nn_node_spec *op, size_t nin, const size_t *in) {
  int st;
  nn_layer l;
  memset(&l, 0, sizeof l);
  if (!(l.op = op_of(op->kind))) return nco_error(NCO_ERR_INVALID, "nn model: unknown op kind %d", (int)op->kind);
  l.kind = op->kind;
  if (nin > NN_MAX_IN) return nco_error(NCO_ERR_INVALID, "nn model: %s: %zu inputs (at most %d)", l.op->name, nin, NN_MAX_IN);
  for (size_t j = 0; j < nin; j++) l.in[j] = in[j];
  l.nin = nin;
  l.oc = op->out, l.kh = op->kh, l.kw = op->kw, l.stride = op->stride, l.pad = op->pad;
  l.nb = op->bias ? 1 : 0; /* a flag until infer sets the count */
  l.act = op->act, l.p = op->p, l.opad = op->opad, l.dil = op->dilation, l.umode = op->mode;
  l.eps = op->eps, l.momentum = op->momentum;
  if (name) {
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof l.name)
      return nco_error(NCO_ERR_INVALID, "nn model: node name \"%s\" must have 1 to %zu characters", name, sizeof l.name - 1);
    for (size_t i = 0; i < len; i++)
      if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
        return nco_error(NCO_ERR_INVALID, "nn model: node name \"%s\": only letters, digits and '_'", name);
    if (nn_find_level(m, name) >= 0) return nco_error(NCO_ERR_INVALID, "nn model: name \"%s\" is already used", name);
    snprintf(l.name, sizeof l.name, "%s", name);
  } else {
    auto_name(m, &l);
    /* a node named by the caller may hold the next automatic name: skip it */
    while ((l.kind == NCO_NN_DENSE || l.kind == NCO_NN_CONV2D || l.kind == NCO_NN_CONV_TRANSPOSE2D) &&
           nn_find_level(m, l.name) >= 0) {
      if (l.kind == NCO_NN_DENSE) m->n_dense++;
      else if (l.kind == NCO_NN_CONV2D) m->n_conv++;
      else m->n_convt++;
      auto_name(m, &l);
    }
  }
  if ((st = nn_graph_push(m, &l))) return st;
  if (l.kind == NCO_NN_DENSE) m->n_dense++;
  if (l.kind == NCO_NN_CONV2D) m->n_conv++;
  if (l.kind == NCO_NN_CONV_TRANSPOSE2D) m->n_convt++;
  nn_layer *p = &m->layers[m->nl - 1];
  p->named = p->nw + p->nb > 0 || name != NULL;
  return NCO_OK;
}

int nco_nn_add_node(nco_nn_model *m, const char *name, const nco_nn_node_spec *op, size_t nin,
                    const char *const *inputs) {
  size_t in[NN_MAX_IN];
  if (!m || !op || (nin && !inputs)) return nco_error(NCO_ERR_INVALID, "nn model: NULL argument");
  if (!m->nin) return nco_error(NCO_ERR_STATE, "nn model: add an input before the first node");
  if (nin > NN_MAX_IN) return nco_error(NCO_ERR_INVALID, "nn model: %zu inputs (at most %d)", nin, NN_MAX_IN);
  for (size_t j = 0; j < nin; j++) {
    long lev = inputs[j] ? nn_find_level(m, inputs[j]) : -1;
    if (lev < 0)
      return nco_error(NCO_ERR_RANGE, "nn model: no input or node is named \"%s\"", inputs[j] ? inputs[j] : "(null)");
    in[j] = (size_t)lev;
  }
  return add_levels(m, name, op, nin, in);
}

/* Appends op fed by the last node (or the first input). */
static int chain(nco_nn_model *m, const nco_nn_node_spec *op) {
  if (!m) return nco_error(NCO_ERR_INVALID, "nn model: NULL model");
  if (!m->nin) return nco_error(NCO_ERR_STATE, "nn model: no input");
  size_t lev = m->nl ? m->nin + m->nl - 1 : 0;
  return add_levels(m, NULL, op, 1, &lev);
}

int nco_nn_add_dense(nco_nn_model *m, size_t out_features, int bias) {
  nco_nn_node_spec op = {.kind = NCO_NN_DENSE, .out = out_features, .bias = bias};
  return chain(m, &op);
}

int nco_nn_add_conv2d(nco_nn_model *m, size_t out_channels, size_t kh, size_t kw, size_t stride,
                      size_t pad, int bias) {
  nco_nn_node_spec op = {.kind = NCO_NN_CONV2D, .out = out_channels, .kh = kh, .kw = kw, .stride = stride,
                         .pad = pad, .bias = bias};
  return chain(m, &op);
}

int nco_nn_add_maxpool2d(nco_nn_model *m, size_t k, size_t stride) {
  nco_nn_node_spec op = {.kind = NCO_NN_MAXPOOL2D, .kh = k, .kw = k, .stride = stride};
  return chain(m, &op);
}

int nco_nn_add_avgpool2d(nco_nn_model *m, size_t k, size_t stride) {
  nco_nn_node_spec op = {.kind = NCO_NN_AVGPOOL2D, .kh = k, .kw = k, .stride = stride};
  return chain(m, &op);
}

int nco_nn_add_flatten(nco_nn_model *m) {
  nco_nn_node_spec op = {.kind = NCO_NN_FLATTEN};
  return chain(m, &op);
}

int nco_nn_add_act(nco_nn_model *m, const nco_act *a) {
  if (!m || !a) return nco_error(NCO_ERR_INVALID, "nn model: NULL argument");
  nco_nn_node_spec op = {.kind = NCO_NN_ACT, .act = *a};
  return chain(m, &op);
}

int nco_nn_add_dropout(nco_nn_model *m, double p) {
  nco_nn_node_spec op = {.kind = NCO_NN_DROPOUT, .p = p};
  return chain(m, &op);
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
  for (size_t i = 0; i < m->nin; i++)
    if (!strcmp(m->inputs[i].name, name))
      return nco_error(NCO_ERR_INVALID, "nn model: layer name \"%s\" is already used by an input", name);
  snprintf(m->layers[m->nl - 1].name, sizeof m->layers[0].name, "%s", name);
  return NCO_OK;
}

const char *nco_nn_describe(const nco_nn_model *m, char *buf, size_t len) {
  if (!buf || len == 0) return buf;
  buf[0] = 0;
  if (!m || !m->nin) return buf;
  size_t k = 0;
  int r;
  if (m->in_ndim == 1)
    r = snprintf(buf, len, "in(%zu)", m->in_shape[0]);
  else
    r = snprintf(buf, len, "in(%zux%zux%zu)", m->in_shape[0], m->in_shape[1], m->in_shape[2]);
  if (r < 0) return buf;
  k = (size_t)r;
  for (size_t i = 0; i < m->nl && k < len; i++) {
    const nn_layer *l = &m->layers[i];
    l->op->describe(l, buf + k, len - k);
    k += strlen(buf + k);
    /* a node not fed by the previous level names its inputs */
    for (size_t j = 0; j < l->nin && k < len; j++) {
      size_t lev = l->in[j];
      if (l->nin == 1 && lev + 1 == m->nin + i && (lev >= m->nin || lev == 0)) break;
      const char *nm = lev < m->nin ? m->inputs[lev].name : m->layers[lev - m->nin].name;
      r = snprintf(buf + k, len - k, "%s%s", j ? "," : "<", nm);
      if (r < 0) return buf;
      k += (size_t)r;
    }
  }
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
  } else if (l->kind == NCO_NN_BATCHNORM) { /* γ (C) */
    p->offset = l->poff, p->length = l->nw, p->ndim = 1, p->shape[0] = l->nw;
  } else if (l->kind == NCO_NN_DENSE) {
    p->offset = l->poff, p->length = l->nw, p->ndim = 2;
    p->shape[0] = l->oc, p->shape[1] = l->in_size;
  } else if (l->kind == NCO_NN_CONV_TRANSPOSE2D) { /* torch's ConvTranspose2d weight: (in, out, kh, kw) */
    p->offset = l->poff, p->length = l->nw, p->ndim = 4;
    p->shape[0] = l->ic, p->shape[1] = l->oc, p->shape[2] = l->kh, p->shape[3] = l->kw;
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
void nn_init_affine(const nn_layer *l, nco_nn_init_kind kind, double sigma, nco_rng *rng, float *theta) {
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

/* Node after node (the parameter order), each from the same rng. */
int nco_nn_init(const nco_nn_model *m, nco_nn_init_kind kind, double sigma, nco_rng *rng,
                float *theta) {
  if (!m || !rng || !theta) return nco_error(NCO_ERR_INVALID, "nn init: NULL argument");
  if (kind == NCO_NN_INIT_NORMAL && !(sigma > 0 && isfinite(sigma)))
    return nco_error(NCO_ERR_RANGE, "nn init: normal init needs sigma > 0, got %g", sigma);
  if (kind < NCO_NN_INIT_TORCH || kind > NCO_NN_INIT_NORMAL)
    return nco_error(NCO_ERR_INVALID, "nn init: unknown init kind %d", (int)kind);
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    if ((l->nw || l->nb) && l->op->init) l->op->init(l, kind, sigma, rng, theta);
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
