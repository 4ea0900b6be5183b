/* The workspace of a network problem: every buffer the passes of
 * kernels.inc use, for chunks of at most `cap` samples, allocated once.
 * Buffers of the tangent and R-backward passes are calloc'ed and only
 * touched (made resident) when JVP / HVP are called. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

static size_t level_size(const nco_nn_model *m, size_t i) {
  return i == 0 ? nco_nn_in_size(m) : m->layers[i - 1].out_size;
}

void nn_exec_free(nn_exec *e, const nco_nn_model *m) {
  if (!e) return;
  size_t nl = m ? m->nl : 0;
  if (e->a) {
    for (size_t i = 0; i <= nl; i++)
      if (e->a[i] && (i == 0 || m->layers[i - 1].kind != NCO_NN_FLATTEN)) free(e->a[i]);
    free(e->a);
  }
  if (e->ra) {
    for (size_t i = 1; i <= nl; i++)
      if (e->ra[i] && m->layers[i - 1].kind != NCO_NN_FLATTEN) free(e->ra[i]);
    free(e->ra);
  }
  if (e->argmax) {
    for (size_t i = 0; i < nl; i++) free(e->argmax[i]);
    free(e->argmax);
  }
  if (e->mask) {
    for (size_t i = 0; i < nl; i++) free(e->mask[i]);
    free(e->mask);
  }
  free(e->d[0]), free(e->d[1]), free(e->rd[0]), free(e->rd[1]);
  free(e->tx), free(e->tw), free(e->ws);
  free(e->gacc), free(e->gtmp), free(e->wres);
  free(e->lsum), free(e->dacc);
  memset(e, 0, sizeof *e);
}

/* calloc of count·esz bytes with overflow check (count ≥ 1). */
static void *buf(size_t count, size_t esz) { return nco_calloc(count ? count : 1, esz); }

int nn_exec_alloc(nn_exec *e, const nco_nn_model *m, size_t cap, int f64) {
  memset(e, 0, sizeof *e);
  const size_t nl = m->nl, esz = f64 ? sizeof(double) : sizeof(float);
  size_t max_size = 0, max_par = 1, max_dense = 1, ws = 1, t;
  e->f64 = f64;
  e->esz = esz;
  e->cap = cap;
  e->first_param = nl;
  for (size_t i = 0; i < nl; i++)
    if (m->layers[i].nw + m->layers[i].nb) {
      e->first_param = i;
      break;
    }
  for (size_t i = 0; i <= nl; i++) {
    size_t s = level_size(m, i);
    if (s > max_size) max_size = s;
  }
  /* GEMM dimensions are ints: the chunk times any level size must fit. */
  if (nco_mul_size(cap, max_size, &t) || t > (size_t)INT_MAX)
    return nco_error(NCO_ERR_OVERFLOW, "nn: a chunk of %zu samples of %zu values is too large (max_batch too big)", cap,
                     max_size);
  for (size_t i = 0; i < nl; i++) {
    const nn_layer *l = &m->layers[i];
    if (l->nw + l->nb > max_par) max_par = l->nw + l->nb;
    if (l->kind == NCO_NN_DENSE && l->oc > max_dense) max_dense = l->oc;
    if (l->kind == NCO_NN_CONV2D) {
      nco_conv_shape s;
      int st = nco_conv_shape_init(&s, cap, l->ic, l->ih, l->iw, l->oc, l->kh, l->kw, l->stride, l->pad);
      if (st) return nco_error_context(st, "nn: layer %s", l->name);
      size_t w = nco_conv_workspace(&s);
      if (w > ws) ws = w;
    }
  }
  e->max_size = max_size;
  e->a = calloc(nl + 1, sizeof *e->a);
  e->ra = calloc(nl + 1, sizeof *e->ra);
  e->argmax = calloc(nl ? nl : 1, sizeof *e->argmax);
  e->mask = calloc(nl ? nl : 1, sizeof *e->mask);
  if (!e->a || !e->ra || !e->argmax || !e->mask) goto nomem;
  for (size_t i = 0; i <= nl; i++) {
    if (i > 0 && m->layers[i - 1].kind == NCO_NN_FLATTEN) {
      e->a[i] = e->a[i - 1];
      e->ra[i] = e->ra[i - 1];
      continue;
    }
    size_t cnt = cap * level_size(m, i); /* checked above */
    if (!(e->a[i] = buf(cnt, esz))) goto nomem;
    if (i > e->first_param && !(e->ra[i] = buf(cnt, esz))) goto nomem;
  }
  for (size_t i = 0; i < nl; i++) {
    const nn_layer *l = &m->layers[i];
    size_t cnt = cap * l->out_size;
    if (l->kind == NCO_NN_MAXPOOL2D && !(e->argmax[i] = buf(cnt, sizeof(int32_t)))) goto nomem;
    if (l->kind == NCO_NN_DROPOUT && !(e->mask[i] = buf(cnt, esz))) goto nomem;
  }
  size_t big = cap * max_size, dim = m->dim;
  for (int k = 0; k < 2; k++)
    if (!(e->d[k] = buf(big, esz)) || !(e->rd[k] = buf(big, esz))) goto nomem;
  if (!(e->tx = buf(big, esz)) || !(e->tw = buf(max_par, esz)) || !(e->ws = buf(ws, esz)) ||
      !(e->gacc = buf(dim, esz)) || !(e->gtmp = buf(dim, esz)) || !(e->lsum = buf(cap, sizeof(double))) ||
      !(e->dacc = buf(max_dense, sizeof(double))))
    goto nomem;
  if (f64 && !(e->wres = buf(cap * nco_nn_out_size(m), esz))) goto nomem;
  return NCO_OK;
nomem:
  nn_exec_free(e, m);
  return nco_error(NCO_ERR_NOMEM, "nn: out of memory allocating the workspace for chunks of %zu samples", cap);
}
