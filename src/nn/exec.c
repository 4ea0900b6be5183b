/* The workspace of a network problem: every buffer the passes of run.inc
 * use, for chunks of at most `cap` samples, allocated once, and the static
 * backward plan (which levels carry a tangent and a δ, which nodes reach
 * the output, and the δ buffers assigned by liveness). Buffers of the
 * tangent and R-backward passes are calloc'ed and only touched (made
 * resident) when JVP / HVP are called. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "nn/internal.h"

static void plan_free(nn_plan *p) {
  free(p->grad), free(p->live), free(p->dbuf), free(p->dadd);
  memset(p, 0, sizeof *p);
}

/* grad: level depends on θ; live: node output reaches the output level. */
static void plan_flags(nn_plan *p, const nco_nn_model *m, size_t out) {
  const size_t nin = m->nin;
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    int g = l->nw + l->nb > 0;
    for (size_t j = 0; j < l->nin; j++) g |= p->grad[l->in[j]];
    p->grad[nin + i] = (unsigned char)g;
  }
  if (out >= nin) p->live[out - nin] = 1;
  for (size_t i = m->nl; i-- > 0;) {
    if (!p->live[i]) continue;
    for (size_t j = 0; j < m->layers[i].nin; j++)
      if (m->layers[i].in[j] >= nin) p->live[m->layers[i].in[j] - nin] = 1;
  }
}

/* Live consumers of level v (edges). */
static size_t consumers(const nn_plan *p, const nco_nn_model *m, size_t v) {
  size_t k = 0;
  for (size_t i = 0; i < m->nl; i++)
    for (size_t j = 0; j < m->layers[i].nin; j++) k += p->live[i] && m->layers[i].in[j] == v;
  return k;
}

/* δ buffers by liveness, simulating the reverse pass: the output's δ is
 * taken first (the loss seed); a node's VJP takes a buffer for each input
 * not yet written (a flatten passes its own on when it is the only
 * consumer), marks later writers of a written one as adders (a fork), and
 * releases its own δ. A chain needs two buffers (today's ping-pong). */
static int plan_buffers(nn_plan *p, const nco_nn_model *m, size_t out, int *pool) {
  const size_t nin = m->nin;
  size_t nfree = 0;
  p->dbuf[out] = (int)p->nbuf++;
  for (size_t i = m->nl; i-- > 0;) {
    const nn_layer *l = &m->layers[i];
    const size_t L = nin + i;
    if (!p->live[i] || !p->grad[L]) continue;
    int pass_on = 0;
    size_t nadd = 0;
    for (size_t j = 0; j < l->nin; j++) {
      size_t v = l->in[j];
      if (!p->grad[v]) continue;
      if (p->dbuf[v] >= 0) {
        p->dadd[i * NN_MAX_IN + j] = 1, p->fork = 1;
        if (++nadd > p->nadd) p->nadd = nadd;
      } else if ((l->op->flags & NN_OPF_ALIAS) && !pass_on && consumers(p, m, v) == 1) {
        p->dbuf[v] = p->dbuf[L], pass_on = 1;
      } else {
        p->dbuf[v] = nfree ? pool[--nfree] : (int)p->nbuf++;
      }
    }
    if (!pass_on) pool[nfree++] = p->dbuf[L];
  }
  return NCO_OK;
}

static int plan_build(nn_plan *p, const nco_nn_model *m, size_t out) {
  const size_t nlev = m->nin + m->nl;
  int *pool = NULL;
  memset(p, 0, sizeof *p);
  p->grad = calloc(nlev, 1);
  p->live = calloc(m->nl ? m->nl : 1, 1);
  p->dbuf = calloc(nlev, sizeof *p->dbuf);
  p->dadd = calloc((m->nl ? m->nl : 1) * NN_MAX_IN, 1);
  pool = calloc(nlev, sizeof *pool);
  if (!p->grad || !p->live || !p->dbuf || !p->dadd || !pool) {
    free(pool);
    plan_free(p);
    return nco_error(NCO_ERR_NOMEM, "nn: out of memory planning the graph");
  }
  for (size_t v = 0; v < nlev; v++) p->dbuf[v] = -1;
  plan_flags(p, m, out);
  plan_buffers(p, m, out, pool);
  free(pool);
  return NCO_OK;
}

void nn_exec_free(nn_exec *e, const nco_nn_model *m) {
  if (!e) return;
  const size_t nin = m ? m->nin : 0, nl = m ? m->nl : 0;
  for (size_t v = 0; v < e->nlev && v < nin + nl; v++) {
    int alias = v >= nin && (m->layers[v - nin].op->flags & NN_OPF_ALIAS);
    if (alias) continue;
    if (e->a) free(e->a[v]);
    if (e->ra) free(e->ra[v]);
  }
  free(e->a), free(e->ra);
  if (e->aux)
    for (size_t i = 0; i < nl; i++) free(e->aux[i]);
  free(e->aux);
  for (size_t k = 0; k < e->plan.nbuf; k++) {
    if (e->d) free(e->d[k]);
    if (e->rd) free(e->rd[k]);
  }
  for (size_t k = 0; k < NN_MAX_IN; k++) free(e->dtmp[k]), free(e->rdtmp[k]);
  free(e->d), free(e->rd), free(e->dl), free(e->rdl);
  free(e->sc.tx), free(e->sc.tw), free(e->sc.ws), free(e->sc.dacc);
  free(e->gacc), free(e->gtmp), free(e->wres), free(e->lsum);
  plan_free(&e->plan);
  memset(e, 0, sizeof *e);
}

/* calloc of count·esz bytes with overflow check (count ≥ 1). */
static void *buf(size_t count, size_t esz) { return nco_calloc(count ? count : 1, esz); }

/* Activation, tangent and per-node buffers. */
static int alloc_levels(nn_exec *e, const nco_nn_model *m) {
  const size_t nin = m->nin, cap = e->cap, esz = e->esz;
  for (size_t v = 0; v < e->nlev; v++) {
    const nn_layer *l = v >= nin ? &m->layers[v - nin] : NULL;
    if (l && (l->op->flags & NN_OPF_ALIAS)) {
      e->a[v] = e->a[l->in[0]];
      e->ra[v] = e->ra[l->in[0]];
      continue;
    }
    size_t cnt = cap * nn_level_size(m, v); /* checked by the caller */
    if (!(e->a[v] = buf(cnt, esz))) return NCO_ERR_NOMEM;
    if (e->plan.grad[v] && !(e->ra[v] = buf(cnt, esz))) return NCO_ERR_NOMEM;
  }
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    size_t bytes = l->op->aux_bytes ? l->op->aux_bytes(l, cap, esz) : 0;
    if (bytes && !(e->aux[i] = buf(bytes, 1))) return NCO_ERR_NOMEM;
  }
  return NCO_OK;
}

int nn_exec_alloc(nn_exec *e, const nco_nn_model *m, size_t out_level, size_t cap, int f64) {
  int st;
  memset(e, 0, sizeof *e);
  const size_t esz = f64 ? sizeof(double) : sizeof(float);
  size_t max_size = 0, max_par = 1, max_out = 1, ws = 1, t;
  e->f64 = f64, e->esz = esz, e->cap = e->chunk = cap, e->nlev = m->nin + m->nl;
  for (size_t v = 0; v < e->nlev; v++)
    if (nn_level_size(m, v) > max_size) max_size = nn_level_size(m, v);
  /* GEMM dimensions are ints: the chunk times any level size must fit. */
  if (nco_mul_size(cap, max_size, &t) || t > (size_t)INT_MAX)
    return nco_error(NCO_ERR_OVERFLOW, "nn: a chunk of %zu samples of %zu values is too large (max_batch too big)", cap,
                     max_size);
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    if (l->nw + l->nb > max_par) max_par = l->nw + l->nb;
    if (l->oc > max_out) max_out = l->oc;
    size_t w = l->op->ws_elems ? l->op->ws_elems(l, cap) : 0;
    if (w > ws) ws = w;
  }
  e->max_size = max_size;
  if ((st = plan_build(&e->plan, m, out_level))) return st;
  const size_t nbuf = e->plan.nbuf, big = cap * max_size;
  e->a = calloc(e->nlev, sizeof *e->a);
  e->ra = calloc(e->nlev, sizeof *e->ra);
  e->aux = calloc(m->nl ? m->nl : 1, sizeof *e->aux);
  e->d = calloc(nbuf, sizeof *e->d);
  e->rd = calloc(nbuf, sizeof *e->rd);
  e->dl = calloc(e->nlev, sizeof *e->dl);
  e->rdl = calloc(e->nlev, sizeof *e->rdl);
  if (!e->a || !e->ra || !e->aux || !e->d || !e->rd || !e->dl || !e->rdl || alloc_levels(e, m)) goto nomem;
  for (size_t k = 0; k < nbuf; k++)
    if (!(e->d[k] = buf(big, esz)) || !(e->rd[k] = buf(big, esz))) goto nomem;
  for (size_t k = 0; k < e->plan.nadd; k++)
    if (!(e->dtmp[k] = buf(big, esz)) || !(e->rdtmp[k] = buf(big, esz))) goto nomem;
  if (!(e->sc.tx = buf(big, esz)) || !(e->sc.tw = buf(max_par, esz)) || !(e->sc.ws = buf(ws, esz)) ||
      !(e->sc.dacc = buf(max_out, sizeof(double))) || !(e->gacc = buf(m->dim, esz)) ||
      !(e->gtmp = buf(m->dim, esz)) || !(e->lsum = buf(cap, sizeof(double))))
    goto nomem;
  if (f64 && !(e->wres = buf(cap * nn_level_size(m, out_level), esz))) goto nomem;
  return NCO_OK;
nomem:
  nn_exec_free(e, m);
  return nco_error(NCO_ERR_NOMEM, "nn: out of memory allocating the workspace for chunks of %zu samples", cap);
}

int nn_exec_grow(nn_exec *e, const nco_nn_model *m, size_t out_level, size_t cap) {
  if (e->cap >= cap) return NCO_OK;
  nn_exec g;
  int st = nn_exec_alloc(&g, m, out_level, cap, e->f64);
  if (st) return st;
  g.chunk = e->chunk;
  nn_exec_free(e, m);
  *e = g;
  return NCO_OK;
}

/* Workspace 0 for a chunk of nb samples (a training-mode batch-norm
 * evaluation), and more than one value per channel at every batchnorm
 * node (torch's rule: the variance of one value is undefined). */
int nn_whole_batch(nn_prob *P, size_t nb) {
  const nco_nn_model *m = P->m;
  for (size_t i = 0; i < m->nl; i++) {
    const nn_layer *l = &m->layers[i];
    if ((l->op->flags & NN_OPF_BATCH) && nb * l->ih * l->iw < 2)
      return nco_error(NCO_ERR_INVALID,
                       "nn: %s (%s) in training mode needs more than one value per channel: a batch of %zu sample%s of "
                       "%zu x %zu (use a larger batch, optimizer.drop_last = true for an epoch's last one, or evaluation mode)",
                       l->name, l->op->name, nb, nb == 1 ? "" : "s", l->ih, l->iw);
  }
  int st = nn_exec_grow(&P->ex[0], m, P->head.level, nb);
  if (st)
    return nco_error_context(st, "nn: batch norm in training mode evaluates the batch of %zu samples as one chunk", nb);
  return NCO_OK;
}
