/* The graph of a network: named inputs and nodes (a static DAG in
 * execution order), shape inference through each op's vtable, parameter
 * and state slices, the output. The execution plan (liveness of the
 * backward buffers) is in exec.c, the passes in run.inc. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

int nn_act_has_kink(const nco_act *a) {
  return a->kind == NCO_ACT_RELU || a->kind == NCO_ACT_LEAKY_RELU || a->kind == NCO_ACT_ELU;
}

size_t nn_level_size(const nco_nn_model *m, size_t level) {
  return level < m->nin ? m->inputs[level].size : m->layers[level - m->nin].out_size;
}

size_t nn_out_level(const nco_nn_model *m) {
  if (m->out_set) return m->out_level;
  return m->nl ? m->nin + m->nl - 1 : 0;
}

int nco_nn_graph_create(nco_nn_model **out) {
  if (!out) return nco_error(NCO_ERR_INVALID, "nn model: output pointer is NULL");
  *out = calloc(1, sizeof **out);
  if (!*out) return nco_error(NCO_ERR_NOMEM, "nn model: out of memory");
  return NCO_OK;
}

void nco_nn_model_free(nco_nn_model *m) {
  if (!m) return;
  free(m->layers);
  free(m->inputs);
  free(m);
}

int nco_nn_model_clone(const nco_nn_model *m, nco_nn_model **out) {
  if (!m || !out) return nco_error(NCO_ERR_INVALID, "nn model: clone of NULL");
  *out = NULL;
  nco_nn_model *c = calloc(1, sizeof *c);
  if (!c) return nco_error(NCO_ERR_NOMEM, "nn model: out of memory");
  *c = *m;
  c->layers = NULL, c->inputs = NULL;
  c->cap = m->nl, c->in_cap = m->nin;
  if ((m->nl && !(c->layers = nco_calloc(m->nl, sizeof *c->layers))) ||
      (m->nin && !(c->inputs = nco_calloc(m->nin, sizeof *c->inputs)))) {
    nco_nn_model_free(c);
    return nco_error(NCO_ERR_NOMEM, "nn model: out of memory");
  }
  if (m->nl) memcpy(c->layers, m->layers, m->nl * sizeof *c->layers);
  if (m->nin) memcpy(c->inputs, m->inputs, m->nin * sizeof *c->inputs);
  *out = c;
  return NCO_OK;
}

long nn_find_level(const nco_nn_model *m, const char *name) {
  for (size_t i = 0; i < m->nin; i++)
    if (!strcmp(m->inputs[i].name, name)) return (long)i;
  for (size_t i = m->nl; i-- > 0;) /* automatic names repeat ("relu"): the latest */
    if (!strcmp(m->layers[i].name, name)) return (long)(m->nin + i);
  return -1;
}

static int check_name(const char *name, size_t cap) {
  size_t len = strlen(name);
  if (len == 0 || len >= cap)
    return nco_error(NCO_ERR_INVALID, "nn model: name \"%s\" must have 1 to %zu characters", name, cap - 1);
  if (!(isalpha((unsigned char)name[0]) || name[0] == '_'))
    return nco_error(NCO_ERR_INVALID, "nn model: name \"%s\" must start with a letter or '_'", name);
  for (size_t i = 0; i < len; i++)
    if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
      return nco_error(NCO_ERR_INVALID, "nn model: name \"%s\": only letters, digits and '_'", name);
  return NCO_OK;
}

int nco_nn_add_input(nco_nn_model *m, const char *name, nco_nn_input_kind kind, size_t ndim,
                     const size_t *shape) {
  int st;
  if (!m || !name || !shape) return nco_error(NCO_ERR_INVALID, "nn model: NULL argument");
  if ((st = check_name(name, sizeof m->inputs[0].name))) return st;
  if (nn_find_level(m, name) >= 0)
    return nco_error(NCO_ERR_INVALID, "nn model: name \"%s\" is already used", name);
  if (kind < NCO_NN_IN_DATA || kind > NCO_NN_IN_GRAPH)
    return nco_error(NCO_ERR_INVALID, "nn model: input \"%s\": unknown kind %d", name, (int)kind);
  if (ndim != 1 && ndim != 3)
    return nco_error(NCO_ERR_SHAPE, "nn model: input shape must have 1 (features) or 3 (channels, height, width) dimensions, got %zu",
                     ndim);
  size_t sz = 1;
  for (size_t i = 0; i < ndim; i++) {
    if (shape[i] == 0) return nco_error(NCO_ERR_SHAPE, "nn model: input dimension %zu is 0", i);
    if (nco_mul_size(sz, shape[i], &sz)) return nco_error(NCO_ERR_OVERFLOW, "nn model: input size overflows");
  }
  if (m->nl)
    return nco_error(NCO_ERR_STATE, "nn model: input \"%s\" must be declared before the first node", name);
  if (m->nin == m->in_cap) {
    size_t nc = m->in_cap ? 2 * m->in_cap : 2;
    nn_input *ni = realloc(m->inputs, nc * sizeof *ni);
    if (!ni) return nco_error(NCO_ERR_NOMEM, "nn model: out of memory adding an input");
    m->inputs = ni, m->in_cap = nc;
  }
  nn_input *in = &m->inputs[m->nin];
  memset(in, 0, sizeof *in);
  snprintf(in->name, sizeof in->name, "%s", name);
  in->kind = kind;
  in->c = shape[0], in->h = ndim == 3 ? shape[1] : 1, in->w = ndim == 3 ? shape[2] : 1;
  in->flat = ndim == 1, in->size = sz;
  if (m->nin == 0) {
    m->in_ndim = ndim;
    for (size_t i = 0; i < ndim; i++) m->in_shape[i] = shape[i];
  }
  m->nin++;
  return NCO_OK;
}

int nco_nn_model_create(size_t ndim, const size_t *in_shape, nco_nn_model **out) {
  int st;
  if (!out) return nco_error(NCO_ERR_INVALID, "nn model: output pointer is NULL");
  *out = NULL;
  if (!in_shape || (ndim != 1 && ndim != 3))
    return nco_error(NCO_ERR_SHAPE, "nn model: input shape must have 1 (features) or 3 (channels, height, width) dimensions, got %zu",
                     ndim);
  nco_nn_model *m;
  if ((st = nco_nn_graph_create(&m))) return st;
  if ((st = nco_nn_add_input(m, "input", NCO_NN_IN_DATA, ndim, in_shape))) {
    nco_nn_model_free(m);
    return st;
  }
  *out = m;
  return NCO_OK;
}

void nn_input_shape_text(const nn_layer *l, size_t j, char *buf, size_t len) {
  if (l->jflat[j]) snprintf(buf, len, "(%zu)", l->jc[j]);
  else snprintf(buf, len, "(%zu, %zu, %zu)", l->jc[j], l->jh[j], l->jw[j]);
}

/* Fills the shape of l's input j (and for j = 0 the ic.. fields) from its level. */
static void input_shape(const nco_nn_model *m, size_t j, nn_layer *l) {
  const size_t lev = l->in[j];
  if (lev < m->nin) {
    const nn_input *in = &m->inputs[lev];
    l->jc[j] = in->c, l->jh[j] = in->h, l->jw[j] = in->w, l->jflat[j] = in->flat, l->jsize[j] = in->size;
  } else {
    const nn_layer *p = &m->layers[lev - m->nin];
    l->jc[j] = p->oc, l->jh[j] = p->oh, l->jw[j] = p->ow, l->jflat[j] = p->out_flat, l->jsize[j] = p->out_size;
  }
  if (j == 0) l->ic = l->jc[0], l->ih = l->jh[0], l->iw = l->jw[0], l->in_flat = l->jflat[0], l->in_size = l->jsize[0];
}

int nn_graph_push(nco_nn_model *m, nn_layer *l) {
  int st;
  const nn_op_vt *op = l->op;
  if (l->nin < op->min_in || l->nin > op->max_in)
    return nco_error(NCO_ERR_INVALID, "nn model: %s takes %zu input%s, got %zu", op->name, op->min_in,
                     op->min_in == 1 ? "" : "s", l->nin);
  for (size_t j = 0; j < l->nin; j++)
    if (l->in[j] >= m->nin + m->nl) return nco_error(NCO_ERR_RANGE, "nn model: input level %zu does not exist", l->in[j]);
  for (size_t j = 0; j < l->nin; j++) input_shape(m, j, l);
  l->kind = op->kind;
  if ((st = op->infer(l))) return nco_error_context(st, "nn model: %s layer %zu (%s)", op->name, m->nl, l->name);
  size_t sz, np, dim, sdim;
  if (nco_mul_size(l->oc, l->oh, &sz) || nco_mul_size(sz, l->ow, &sz) || nco_add_size(l->nw, l->nb, &np) ||
      nco_add_size(m->dim, np, &dim))
    return nco_error(NCO_ERR_OVERFLOW, "nn model: %s: sizes overflow", op->name);
  l->out_size = sz;
  if (sz == 0) return nco_error(NCO_ERR_SHAPE, "nn model: %s has an empty output", op->name);
  l->ns = op->state_size ? op->state_size(l) : 0;
  if (nco_add_size(m->sdim, l->ns, &sdim)) return nco_error(NCO_ERR_OVERFLOW, "nn model: state overflows");
  l->poff = m->dim, l->soff = m->sdim;
  if (m->nl == m->cap) {
    size_t nc = m->cap ? 2 * m->cap : 8;
    nn_layer *nl = realloc(m->layers, nc * sizeof *nl);
    if (!nl) return nco_error(NCO_ERR_NOMEM, "nn model: out of memory adding a layer");
    m->layers = nl, m->cap = nc;
  }
  m->layers[m->nl++] = *l;
  m->dim = dim, m->sdim = sdim;
  return NCO_OK;
}

int nco_nn_set_output(nco_nn_model *m, const char *name) {
  if (!m || !name) return nco_error(NCO_ERR_INVALID, "nn model: NULL argument");
  long lev = nn_find_level(m, name);
  if (lev < 0) return nco_error(NCO_ERR_RANGE, "nn model: no node is named \"%s\"", name);
  if ((size_t)lev < m->nin) return nco_error(NCO_ERR_INVALID, "nn model: the output \"%s\" is an input", name);
  m->out_level = (size_t)lev;
  m->out_set = 1;
  return NCO_OK;
}

size_t nco_nn_state_dim(const nco_nn_model *m) { return m ? m->sdim : 0; }
size_t nco_nn_dim(const nco_nn_model *m) { return m ? m->dim : 0; }
size_t nco_nn_num_layers(const nco_nn_model *m) { return m ? m->nl : 0; }
size_t nco_nn_in_size(const nco_nn_model *m) { return m && m->nin ? m->inputs[0].size : 0; }
size_t nco_nn_out_size(const nco_nn_model *m) {
  if (!m || !m->nin) return 0;
  return nn_level_size(m, nn_out_level(m));
}
