/* The checkpoint format: write, read, validate (run_state.h). */
#include "run_state.h"

typedef struct {
  const unsigned char *p;
  size_t n, off;
  int bad;
} rd_t;
static void get(rd_t *r, void *out, size_t len) {
  if (r->bad || len > r->n - r->off) {
    r->bad = 1;
    memset(out, 0, len);
    return;
  }
  memcpy(out, r->p + r->off, len);
  r->off += len;
}
static uint64_t get_u64(rd_t *r) {
  uint64_t v;
  get(r, &v, sizeof v);
  return v;
}
static double get_f64(rd_t *r) {
  double v;
  get(r, &v, sizeof v);
  return v;
}


/* ---- checkpoints ------------------------------------------------------- */

#define CKPT_MAGIC "NCOCKPT"
#define CKPT_VERSION 4u /* 3: the minibatch loss window (win_sum, win_n); 4: the data fingerprint */
/* 5: version 4 and a trailing section with the problem's non-trainable
 * state (batch-norm running statistics: u64 entries, u64 the step of its
 * last update, the floats). Written only for problems with state, so that
 * every other run's checkpoint is byte for byte what version 4 wrote. */
#define CKPT_VERSION_STATE 5u

static void put_counters(buf_t *p, const nco_problem_counters *c) {
  rs_put_u64(p, c->loss), rs_put_u64(p, c->grad), rs_put_u64(p, c->residual), rs_put_u64(p, c->jvp), rs_put_u64(p, c->vjp);
  rs_put_u64(p, c->hvp), rs_put_u64(p, c->samples);
}
static void get_counters(rd_t *r, nco_problem_counters *c) {
  c->loss = get_u64(r), c->grad = get_u64(r), c->residual = get_u64(r), c->jvp = get_u64(r), c->vjp = get_u64(r);
  c->hvp = get_u64(r), c->samples = get_u64(r);
}

/* crc32 of a payload, in chunks (zlib's uInt is 32-bit) */
static uint32_t crc_of(const unsigned char *p, size_t n) {
  uint32_t crc = (uint32_t)crc32(0L, NULL, 0);
  for (size_t o = 0; o < n; o += 1u << 30) {
    size_t len = n - o < (1u << 30) ? n - o : (1u << 30);
    crc = (uint32_t)crc32(crc, p + o, (uInt)len);
  }
  return crc;
}

int rs_checkpoint_write(run *r) {
  int fst = rs_trace_flush(r);
  if (fst) return fst;
  buf_t p = {0};
  size_t sl = strlen(r->spec_text);
  rs_put_u64(&p, sl);
  rs_put(&p, r->spec_text, sl);
  rs_put_u64(&p, r->t), rs_put_u64(&p, r->samples), rs_put_u64(&p, r->pos), rs_put_u64(&p, r->n);
  for (size_t i = 0; i < r->n; i++) rs_put_u64(&p, r->perm[i]);
  rs_put(&p, &r->batch_rng, sizeof r->batch_rng);
  rs_put_f64(&p, r->path_length), rs_put_f64(&p, r->best_loss), rs_put_f64(&p, r->train_seconds), rs_put_f64(&p, r->last_loss);
  rs_put_u64(&p, r->best_iter);
  rs_put_u64(&p, (uint64_t)r->have_loss | (uint64_t)r->have_grad << 1 | (uint64_t)r->optim_converged << 2);
  rs_put_f64(&p, r->cur_loss);
  rs_put_f64(&p, r->win_sum), rs_put_u64(&p, r->win_n);
  put_counters(&p, &r->pb->counters);
  rs_put_u64(&p, r->data_crc);
  rs_put_u64(&p, r->dim);
  rs_put(&p, r->theta0, r->dim * sizeof(float));
  rs_put(&p, r->gfull, r->dim * sizeof(float));
  size_t ol = rs_optim_state_size(r);
  rs_put_u64(&p, ol);
  if (!p.oom) {
    unsigned char *tmp = malloc(ol ? ol : 1);
    if (!tmp) p.oom = 1;
    else {
      int st = rs_optim_save(r, tmp, ol);
      if (st) {
        free(tmp), free(p.p);
        return st;
      }
      rs_put(&p, tmp, ol);
      free(tmp);
    }
  }
  if (r->ns && !p.oom) {
    uint64_t stamp;
    int st = nco_problem_get_state(r->pb, r->state, r->ns, &stamp);
    if (st) {
      free(p.p);
      return st;
    }
    rs_put_u64(&p, r->ns), rs_put_u64(&p, stamp);
    rs_put(&p, r->state, r->ns * sizeof(float));
  }
  if (p.oom) {
    free(p.p);
    return nco_error(NCO_ERR_NOMEM, "checkpoint: out of memory");
  }
  buf_t f = {0};
  rs_put(&f, CKPT_MAGIC, 8);
  uint32_t ver = r->ns ? CKPT_VERSION_STATE : CKPT_VERSION, crc = crc_of(p.p, p.n);
  rs_put(&f, &ver, 4), rs_put(&f, &crc, 4);
  rs_put_u64(&f, p.n);
  rs_put(&f, p.p, p.n);
  free(p.p);
  if (f.oom) {
    free(f.p);
    return nco_error(NCO_ERR_NOMEM, "checkpoint: out of memory");
  }
  int st = rs_out_checkpoint(r, f.p, f.n);
  free(f.p);
  if (st) return st;
  r->last_ckpt = r->t;
  return NCO_OK;
}



void rs_ckpt_free(ckpt *c) {
  free(c->spec_text), free(c->perm), free(c->theta0), free(c->gfull), free(c->optim), free(c->state);
  memset(c, 0, sizeof *c);
}

int rs_checkpoint_read(const char *path, ckpt *c) {
  memset(c, 0, sizeof *c);
  FILE *fp = fopen(path, "rb");
  if (!fp) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  unsigned char head[24];
  size_t hn = fread(head, 1, 24, fp);
  if (hn >= 8 && memcmp(head, CKPT_MAGIC, 8)) {
    fclose(fp);
    return nco_error(NCO_ERR_FORMAT, "%s: not an ncopt checkpoint (bad magic number)", path);
  }
  if (hn != 24) {
    fclose(fp);
    return nco_error(NCO_ERR_FORMAT, "%s: truncated checkpoint (%zu bytes, no complete header)", path, hn);
  }
  uint32_t ver, crc;
  uint64_t len;
  memcpy(&ver, head + 8, 4), memcpy(&crc, head + 12, 4), memcpy(&len, head + 16, 8);
  if (ver != CKPT_VERSION && ver != CKPT_VERSION_STATE) {
    fclose(fp);
    return nco_error(NCO_ERR_FORMAT, "%s: checkpoint version %u, this ncopt reads %u and %u", path, ver, CKPT_VERSION,
                     CKPT_VERSION_STATE);
  }
  struct stat sb;
  if (fstat(fileno(fp), &sb) || (uint64_t)sb.st_size != 24 + len) {
    fclose(fp);
    return nco_error(NCO_ERR_FORMAT, "%s: truncated or padded checkpoint (%lld bytes, the header says %llu)", path,
                     (long long)sb.st_size, (unsigned long long)(24 + len));
  }
  unsigned char *p = malloc(len ? len : 1);
  if (!p) {
    fclose(fp);
    return nco_error(NCO_ERR_NOMEM, "%s: out of memory", path);
  }
  size_t got = fread(p, 1, len, fp);
  fclose(fp);
  if (got != len) {
    free(p);
    return nco_error(NCO_ERR_FORMAT, "%s: truncated checkpoint (%zu of %llu payload bytes)", path, got,
                     (unsigned long long)len);
  }
  if (crc_of(p, len) != crc) {
    free(p);
    return nco_error(NCO_ERR_FORMAT, "%s: checksum mismatch (corrupted checkpoint)", path);
  }
  rd_t r = {p, len, 0, 0};
  /* an allocation that fails is not a damaged checkpoint: NCO_ERR_NOMEM,
   * so that resume does not fall back to the previous one */
#define CKPT_ALLOC(ptr, expr) \
  if (!r.bad && !((ptr) = (expr))) goto oom
  uint64_t sl = get_u64(&r);
  if (sl > len) r.bad = 1;
  CKPT_ALLOC(c->spec_text, calloc(sl + 1, 1));
  if (!r.bad) get(&r, c->spec_text, sl);
  c->t = get_u64(&r), c->samples = get_u64(&r), c->pos = get_u64(&r), c->n = get_u64(&r);
  if (c->n > len / 8) r.bad = 1;
  CKPT_ALLOC(c->perm, nco_calloc(c->n ? c->n : 1, sizeof(size_t)));
  for (uint64_t i = 0; !r.bad && i < c->n; i++) c->perm[i] = (size_t)get_u64(&r);
  get(&r, &c->batch_rng, sizeof c->batch_rng);
  c->path_length = get_f64(&r), c->best_loss = get_f64(&r), c->train_seconds = get_f64(&r), c->last_loss = get_f64(&r);
  c->best_iter = get_u64(&r);
  c->flags = get_u64(&r);
  c->cur_loss = get_f64(&r);
  c->win_sum = get_f64(&r), c->win_n = get_u64(&r);
  get_counters(&r, &c->counters);
  c->data_crc = get_u64(&r);
  c->dim = get_u64(&r);
  if (c->dim > len / 8) r.bad = 1;
  CKPT_ALLOC(c->theta0, nco_calloc(c->dim ? c->dim : 1, sizeof(float)));
  CKPT_ALLOC(c->gfull, nco_calloc(c->dim ? c->dim : 1, sizeof(float)));
  if (!r.bad) get(&r, c->theta0, c->dim * sizeof(float)), get(&r, c->gfull, c->dim * sizeof(float));
  c->optim_len = (size_t)get_u64(&r);
  if (c->optim_len > len) r.bad = 1;
  CKPT_ALLOC(c->optim, malloc(c->optim_len ? c->optim_len : 1));
  if (!r.bad) get(&r, c->optim, c->optim_len);
  if (ver == CKPT_VERSION_STATE) {
    c->ns = get_u64(&r), c->stamp = get_u64(&r);
    if (c->ns == 0 || c->ns > len / 4) r.bad = 1;
    CKPT_ALLOC(c->state, nco_calloc(c->ns ? c->ns : 1, sizeof(float)));
    if (!r.bad) get(&r, c->state, c->ns * sizeof(float));
  }
#undef CKPT_ALLOC
  free(p);
  if (r.bad || r.off != len || strlen(c->spec_text) != sl) {
    rs_ckpt_free(c);
    return nco_error(NCO_ERR_FORMAT, "%s: inconsistent checkpoint contents", path);
  }
  return NCO_OK;
oom:
  free(p);
  rs_ckpt_free(c);
  return nco_error(NCO_ERR_NOMEM, "%s: out of memory reading the checkpoint", path);
}

/* Every field of a checkpoint is untrusted input (the CRC finds accidents,
 * not forgery): checked against the run built from its spec before use. */
int rs_ckpt_validate(const ckpt *c, const run *r, const char *path) {
  const char *bad = NULL;
  char what[200];
  if (c->pos > c->n) bad = "the position in the epoch is past its end";
  else if (c->flags > 7) bad = "unknown state flags";
  else if (c->best_iter > c->t || c->win_n > c->t) bad = "step counters after the current step";
  else if (!(c->path_length >= 0) && !isnan(c->path_length)) bad = "a negative path length";
  else if (nco_rng_check(&c->batch_rng)) bad = "an invalid minibatch generator state";
  else if (!nco_all_finite(r->dim, c->theta0)) bad = "a non-finite starting point";
  else if ((c->flags & 2) && !nco_all_finite(r->dim, c->gfull)) bad = "a non-finite gradient";
  else if (c->ns != r->ns) bad = "non-trainable state (batch-norm statistics) of another size than the problem's";
  else if (c->ns && !nco_all_finite(c->ns, c->state)) bad = "non-finite running statistics";
  else if (c->stamp > c->t + 1) bad = "running statistics updated after the current step";
  if (!bad) {
    /* the epoch order must be a permutation of 0 … n−1 */
    unsigned char *seen = nco_calloc(r->n ? r->n : 1, 1);
    if (!seen) return nco_error(NCO_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < r->n && !bad; i++) {
      if (c->perm[i] >= r->n || seen[c->perm[i]]) {
        snprintf(what, sizeof what, "the minibatch order is not a permutation (entry %zu = %zu)", i, c->perm[i]);
        bad = what;
      } else {
        seen[c->perm[i]] = 1;
      }
    }
    free(seen);
  }
  if (bad) return nco_error(NCO_ERR_FORMAT, "%s: inconsistent checkpoint: %s", path, bad);
  return NCO_OK;
}
