/* The run loop: minibatches, schedule, optimiser, probes, trace,
 * checkpoints, stopping rules, outputs (see run.h).
 *
 * One iteration at step t (the optimiser holds x_t):
 *   1. the full-batch values at x_t if they are needed: for full-batch
 *      first-order methods that query at x_t (sgd, adam, ...) the step's own
 *      evaluation IS the full-batch loss and gradient, so it is computed
 *      once, logged and then handed to nco_optim_step (no second
 *      evaluation at logged rows); otherwise only at logged rows;
 *   2. the trace row of step t if one is due (every log_every steps, every
 *      K steps for a probe `name = K` or for full_loss_every, step 0 and
 *      the last step). Full-batch runs log the full-batch loss f(x_t);
 *      minibatch runs log, at no extra cost, the mean of the minibatch
 *      losses of the steps since the previous row (`loss`) and the
 *      full-data loss only where run.full_loss_every (or a probe that
 *      needs it) asks (`full_loss`);
 *   3. the stopping rules (target_loss and grad_tol wherever the full-batch
 *      values at x_t are known, max_seconds, the planned steps);
 *   4. a checkpoint every checkpoint_every steps (auto: every
 *      checkpoint_seconds of wall time, at least 50× a checkpoint's own
 *      duration apart, so that it costs ≤ 2%);
 *   5. the progress hook (which may cancel);
 *   6. the step x_t → x_{t+1}.
 * A checkpoint taken at step t holds the state after 1–5, so a resumed run
 * starts at 6 and repeats nothing: trace and parameters are bitwise those
 * of an uninterrupted run. */
#include "ncopt/run.h"

#include <cblas.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <plplot.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "ncopt/data.h"
#include "ncopt/diag.h"
#include "ncopt/nn.h"
#include "ncopt/npy.h"
#include "ncopt/reg.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "ncopt/version.h"
#include "run_internal.h"

/* ---- files ------------------------------------------------------------- */

/* Writes data to a new temporary file next to path (name into tmp) and
 * syncs it. */
static int write_tmp(const char *path, const void *data, size_t len, char *tmp, size_t cap) {
  if (snprintf(tmp, cap, "%s.tmp.XXXXXX", path) >= (int)cap) return nco_error(NCO_ERR_INVALID, "%s: path too long", path);
  int fd = mkstemp(tmp);
  if (fd < 0) return nco_error(NCO_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
  const char *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd), unlink(tmp);
      return nco_error(NCO_ERR_IO, "%s: write failed: %s", path, strerror(e));
    }
    p += w, left -= (size_t)w;
  }
  (void)fchmod(fd, nco_output_mode());
  if (fsync(fd) || close(fd)) {
    int e = errno;
    unlink(tmp);
    return nco_error(NCO_ERR_IO, "%s: fsync/close failed: %s", path, strerror(e));
  }
  return NCO_OK;
}

/* 0666 less the user's umask: what open(2) would give a new file (mkstemp
 * makes 0600). Read once; outputs are written from one thread. */
unsigned nco_output_mode(void) {
  static int mode = -1;
  if (mode < 0) {
    mode_t m = umask(0);
    umask(m);
    mode = (int)(0666 & ~m);
  }
  return (unsigned)mode;
}

int nco_write_file_atomic(const char *path, const void *data, size_t len) {
  char tmp[4200];
  int st = write_tmp(path, data, len, tmp, sizeof tmp);
  if (st) return st;
  if (rename(tmp, path)) {
    int e = errno;
    unlink(tmp);
    return nco_error(NCO_ERR_IO, "%s: rename failed: %s", path, strerror(e));
  }
  return NCO_OK;
}

int nco_write_file_atomic_in(const char *dir, const char *name, const char *text) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return nco_write_file_atomic(path, text, strlen(text));
}

int nco_dir_lock(const char *dir, int *fd_out) {
  char path[4200];
  *fd_out = -1;
  snprintf(path, sizeof path, "%s/.ncopt.lock", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, (mode_t)nco_output_mode());
  if (fd < 0) return nco_error(NCO_ERR_IO, "%s: cannot create the lock file: %s", path, strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    int e = errno;
    close(fd);
    if (e == EWOULDBLOCK)
      return nco_error(NCO_ERR_STATE, "%s: another ncopt process is writing this folder (it holds %s): wait for it to "
                       "finish, or use another --out", dir, path);
    return nco_error(NCO_ERR_IO, "%s: cannot lock: %s", path, strerror(e));
  }
  *fd_out = fd;
  return NCO_OK;
}

void nco_dir_unlock(int fd) {
  if (fd >= 0) close(fd); /* closing releases the flock */
}

int nco_mkdirs(const char *dir) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf) return nco_error(NCO_ERR_INVALID, "%s: path too long", dir);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0755) && errno != EEXIST) return nco_error(NCO_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0755) && errno != EEXIST) return nco_error(NCO_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
  struct stat sb;
  if (stat(buf, &sb) || !S_ISDIR(sb.st_mode)) return nco_error(NCO_ERR_IO, "%s: not a folder", buf);
  return NCO_OK;
}

/* Removes the temporary files a killed process may have left in dir
 * ("NAME.tmp.XXXXXX" of the files written atomically). */
void nco_run_clean_tmp(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *de;
  while ((de = readdir(d))) {
    const char *t = strstr(de->d_name, ".tmp.");
    if (!t || strlen(t) != 11 || de->d_name[0] == '.') continue;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    unlink(path);
  }
  closedir(d);
}

/* growable byte buffer */
typedef struct {
  unsigned char *p;
  size_t n, cap;
  int oom;
} buf_t;

static void put(buf_t *b, const void *data, size_t len) {
  if (b->oom || !len) return;
  if (b->n + len > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + len) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) {
      b->oom = 1;
      return;
    }
    b->p = q, b->cap = cap;
  }
  memcpy(b->p + b->n, data, len);
  b->n += len;
}
static void put_u64(buf_t *b, uint64_t v) { put(b, &v, sizeof v); }
static void put_f64(buf_t *b, double v) { put(b, &v, sizeof v); }

static void putf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_num(buf_t *b, double v);
static void putf(buf_t *b, const char *fmt, ...) {
  char tmp[2048];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* The shortest text that reads back to the same double (0.1, not
 * 0.10000000000000001): %.15g is exact for every number of ≤ 15
 * significant digits (%g drops trailing zeros), else 16 or 17 digits. */
static void fmt_num(char t[40], double v) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(t, 40, "%.*g", prec, v);
    if (prec == 17 || strtod(t, NULL) == v) break;
  }
}

static void put_num(buf_t *b, double v) {
  char t[40];
  fmt_num(t, v);
  put(b, t, strlen(t));
}

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

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Σ (x − y)² in double with four accumulators in a fixed order (the same
 * bits on every machine); squared, for sums over slices. vec.h's nco_dist2
 * has one accumulator: its loop is latency-bound, ~4× slower, which at
 * d ~ 10⁵ made each trajectory probe cost several per cent of a training
 * step. */
static double sq_dist(size_t n, const float *x, const float *y) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    double d0 = (double)x[i] - y[i], d1 = (double)x[i + 1] - y[i + 1], d2 = (double)x[i + 2] - y[i + 2],
           d3 = (double)x[i + 3] - y[i + 3];
    s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
  }
  for (; i < n; i++) {
    double d = (double)x[i] - y[i];
    s0 += d * d;
  }
  return (s0 + s1) + (s2 + s3);
}

/* ‖x − y‖: the square root of sq_dist */
static double dist_fast(size_t n, const float *x, const float *y) {
  return sqrt(sq_dist(n, x, y));
}

/* The same, and prev ← x in the same pass (the path length: one pass over
 * θ per step). */
static double dist_copy(size_t n, const float *x, float *prev) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    double d0 = (double)x[i] - prev[i], d1 = (double)x[i + 1] - prev[i + 1], d2 = (double)x[i + 2] - prev[i + 2],
           d3 = (double)x[i + 3] - prev[i + 3];
    s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
    prev[i] = x[i], prev[i + 1] = x[i + 1], prev[i + 2] = x[i + 2], prev[i + 3] = x[i + 3];
  }
  for (; i < n; i++) {
    double d = (double)x[i] - prev[i];
    s0 += d * d;
    prev[i] = x[i];
  }
  return sqrt((s0 + s1) + (s2 + s3));
}

/* ---- the run state ------------------------------------------------------ */

/* A trace column after batch_loss: a probe, one layer's distance, or a
 * test-set metric. */
enum { COL_PROBE = 0, COL_LAYER, COL_TEST_LOSS, COL_TEST_ACC };
typedef struct column {
  char name[80];
  int kind;
  int probe;        /* COL_PROBE: the nco_probe_id */
  size_t layer;     /* COL_LAYER: index into layers */
  int64_t every;    /* 0 off, NCO_PROBE_AT_LOG, or K */
} column;

#define MAX_LAYERS 64

typedef struct run {
  nco_config cfg;
  char dir[4096];
  char *spec_text;            /* resolved spec (INI) */
  nco_problem *pb;
  nco_problem *test;          /* networks: the held-out set (run.eval_every), or NULL */
  nco_optim *o;
  size_t dim, dim_x;          /* all parameters; the x part (invex: without p) */
  size_t n, batch;
  uint64_t total;             /* steps planned */
  int fused;                  /* the step's evaluation is the full-batch one at x_t */
  int net;                    /* a network: its dropout step follows t */
  int path_on;                /* accumulate the path length (a probe or the certificate needs it) */
  uint64_t per_epoch;         /* steps per epoch */
  uint64_t log_k, full_k;     /* run.log_every, run.full_loss_every resolved to steps (0: never) */
  int full_at_0;              /* full_loss_every asks for step 0 too (not `auto`) */
  uint64_t ckpt_k;            /* run.checkpoint_every in steps (0: by time or at the end only) */
  int ckpt_auto;              /* checkpoint_every = auto: by wall time */
  double ckpt_wall, ckpt_cost; /* auto: when the last checkpoint ended, how long it took */
  double win_sum;             /* minibatch runs: Σ of the step losses since the last row (checkpointed) */
  uint64_t win_n;             /* and their count */
  double ep_sum;              /* the progress line: Σ of the step losses of the current epoch (not checkpointed) */
  uint64_t ep_n, ep_cur;      /* their count; the epoch they belong to */
  /* loop state (checkpointed) */
  uint64_t t, samples, pos;
  size_t *perm;               /* [n] current epoch order */
  nco_rng batch_rng;
  double path_length, best_loss, train_seconds;
  uint64_t best_iter;
  double last_loss;           /* the latest known full-batch loss */
  int have_loss, have_grad;   /* cur_loss / gfull hold the full-batch values at x_t */
  double cur_loss;
  int optim_converged;        /* the method reported convergence in the last step */
  uint64_t last_ckpt;         /* step of the last checkpoint written (UINT64_MAX: none) */
  float *theta0;              /* [dim] */
  float *gfull;               /* [dim] full-batch gradient at x_t (have_grad) */
  /* probes */
  column *cols;
  size_t ncols;
  nco_slice layers[MAX_LAYERS];
  char layer_names[MAX_LAYERS][48];
  size_t nlayers;
  float *xstar;               /* [dim] run.x_star (p = 0 when only x was given), or NULL */
  float *rgrad;               /* [dim] Riemannian gradient scratch (sphere problems) */
  uint64_t rgrad_t;           /* rgrad holds P_x gfull of step rgrad_t (UINT64_MAX: none) */
  double r0;                  /* misfit: ‖r(θ_0)‖ */
  nco_misfit *misfit;         /* residual-based misfit where the loss is not c·½‖r‖² (ℓ2 under MEAN), else NULL */
  double theta0_norm;
  nco_lanczos_opts lz;
  /* per-row caches (valid for step *_t) */
  uint64_t hess_t, jac_t, test_t, layer_t, d0_t;
  double hess_hi, hess_lo, jac_hi, jac_lo, test_loss, test_acc, d0;
  double layer_rel[MAX_LAYERS], layer_norm0[MAX_LAYERS];
  /* regularity (after the run) */
  int reg_done;
  nco_regularity reg;
  double reg_seconds;
  size_t reg_skipped;
  int reg_identical;
  char reg_error[600];
  /* scratch */
  float *prev;                /* [dim] */
  size_t *idx;                /* [batch] */
  buf_t row;                  /* trace rows not yet written (whole rows; flushed by trace_flush) */
  double flush_wall;          /* when the rows were last written */
  double lr_val;              /* the lr last formatted, and its text (a constant schedule formats once) */
  char lr_text[40];
  int trace_fd;
  int lock_fd;                /* flock on DIR/.ncopt.lock while the run writes there (-1: none) */
  uint32_t data_crc;          /* fingerprint of the data files the run reads (checkpointed) */
  char data_files[1024];      /* their names, for messages */
} run;

static void run_free(run *r) {
  if (!r) return;
  if (r->trace_fd > 0) close(r->trace_fd);
  nco_dir_unlock(r->lock_fd);
  nco_optim_free(r->o);
  nco_problem_free(r->pb);
  nco_problem_free(r->test);
  nco_regularity_free(&r->reg);
  nco_misfit_free(r->misfit);
  free(r->spec_text), free(r->perm), free(r->theta0), free(r->prev), free(r->gfull), free(r->idx);
  free(r->cols), free(r->xstar), free(r->rgrad), free(r->row.p);
  free(r);
}

static int is_full_batch(const run *r) {
  return r->batch == 0 || (r->batch >= r->n && r->cfg.sampling != NCO_SAMPLE_REPLACEMENT);
}

/* A spec-class error found while building the run, located at its key. */
static int spec_err(const run *r, int st, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int spec_err(const run *r, int st, const char *section, const char *key, const char *fmt, ...) {
  char where[1200], msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  nco_config_where(&r->cfg, section, key, where, sizeof where);
  return nco_error(st, "%s: %s.%s: %s", where, section, key, msg);
}

/* The loop's starting state at θ_0: optimiser, minibatch generator and
 * order, counters. Shared by the run and the regularity replay. */
static int state_init(run *r) {
  int st;
  nco_rng root, rng3;
  nco_rng_seed(&root, r->cfg.seed);
  nco_rng_derive(&root, 2, &r->batch_rng);
  nco_optim_params hp = r->cfg.hp;
  nco_rng_derive(&root, 3, &rng3);
  hp.seed = nco_rng_u64(&rng3);
  if ((st = nco_optim_create(r->cfg.optim, r->dim, &hp, r->theta0, &r->o))) return st;
  /* the step's own evaluation is the full-batch loss and gradient at x_t
   * when the method is first-order (plain gradient, no manifold), queries
   * at its iterate and reports its iterate */
  r->fused = is_full_batch(r) && nco_optim_type_is_ask_tell(r->cfg.optim) && nco_optim_type_requires(r->cfg.optim) == 0 &&
             nco_optim_query(r->o) == nco_optim_x(r->o) && nco_optim_output(r->o) == nco_optim_x(r->o);
  for (size_t i = 0; i < r->n; i++) r->perm[i] = i;
  r->pos = r->n; /* the first batch starts a new epoch */
  r->t = r->samples = 0;
  r->best_loss = INFINITY;
  r->last_loss = NAN;
  r->have_loss = r->have_grad = r->optim_converged = 0;
  /* a network's dropout masks follow the step count (not the number of
   * evaluations), so logging, probes and resume never change them */
  if (r->net) {
    nco_nn_set_auto_step(r->pb, 0);
    nco_nn_set_step(r->pb, 0);
  }
  return NCO_OK;
}

/* The trace columns after batch_loss, in order. */
static int columns_setup(run *r) {
  const nco_config *cfg = &r->cfg;
  size_t cap = NCO_PROBE_COUNT + MAX_LAYERS + 2;
  r->cols = nco_calloc(cap, sizeof *r->cols);
  if (!r->cols) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  r->ncols = 0;
  /* per-layer slices of a network (weight and bias of a layer together) */
  const nco_nn_model *m = nco_nn_problem_model(r->pb);
  r->nlayers = 0;
  if (m && cfg->probe_every[NCO_PROBE_distance]) {
    size_t np = nco_nn_num_params(m);
    size_t last_layer = (size_t)-1;
    for (size_t i = 0; i < np; i++) {
      nco_nn_param q;
      int st = nco_nn_param_get(m, i, &q);
      if (st) return st;
      if (q.layer == last_layer && r->nlayers) {
        r->layers[r->nlayers - 1].length += q.length;
        continue;
      }
      if (r->nlayers == MAX_LAYERS) break;
      size_t L = strcspn(q.name, ".");
      snprintf(r->layer_names[r->nlayers], sizeof r->layer_names[0], "%.*s", (int)L, q.name);
      r->layers[r->nlayers] = (nco_slice){r->layer_names[r->nlayers], q.offset, q.length};
      r->nlayers++;
      last_layer = q.layer;
    }
    for (size_t l = 0; l < r->nlayers; l++)
      r->layer_norm0[l] = nco_nrm2(r->layers[l].length, r->theta0 + r->layers[l].offset);
  }
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!cfg->probe_every[p] || p == NCO_PROBE_regularity) continue;
    column *c = &r->cols[r->ncols++];
    snprintf(c->name, sizeof c->name, "%s", nco_probe_name(p));
    c->kind = COL_PROBE, c->probe = p, c->every = cfg->probe_every[p];
    if (p == NCO_PROBE_distance)
      for (size_t l = 0; l < r->nlayers; l++) {
        column *cl = &r->cols[r->ncols++];
        snprintf(cl->name, sizeof cl->name, "distance.%s", r->layer_names[l]);
        cl->kind = COL_LAYER, cl->layer = l, cl->every = cfg->probe_every[p];
      }
  }
  if (r->test) {
    column *c = &r->cols[r->ncols++];
    snprintf(c->name, sizeof c->name, "test_loss");
    c->kind = COL_TEST_LOSS, c->every = (int64_t)cfg->eval_every;
    c = &r->cols[r->ncols++];
    snprintf(c->name, sizeof c->name, "test_acc");
    c->kind = COL_TEST_ACC, c->every = (int64_t)cfg->eval_every;
  }
  return NCO_OK;
}

/* CRC-32 of a file's bytes, read in blocks. */
static int file_crc(const char *path, uint32_t *crc) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  static unsigned char blk[1 << 16];
  size_t n;
  while ((n = fread(blk, 1, sizeof blk, fp)) > 0) *crc = (uint32_t)crc32(*crc, blk, (uInt)n);
  int err = ferror(fp);
  fclose(fp);
  return err ? nco_error(NCO_ERR_IO, "%s: read error", path) : NCO_OK;
}

static int add_data_file(run *r, const char *path) {
  if (!*path) return NCO_OK;
  struct stat sb;
  if (stat(path, &sb) || !S_ISREG(sb.st_mode)) return NCO_OK; /* the loader has said what is wrong */
  r->data_crc = (uint32_t)crc32(r->data_crc, (const unsigned char *)path, (uInt)strlen(path));
  size_t L = strlen(r->data_files);
  snprintf(r->data_files + L, sizeof r->data_files - L, "%s%s", L ? ", " : "", path);
  return file_crc(path, &r->data_crc);
}

/* Hardening: a resumed run must read the data the run started with. A
 * fingerprint (CRC-32 over names and contents) of every data file the spec
 * names, and of an installed data set's files; synthetic data are a
 * function of the spec alone. */
static int data_fingerprint(run *r) {
  const nco_config *c = &r->cfg;
  const char *const files[] = {c->data_features, c->data_targets, c->data_matrix, c->data_entries, c->data_components,
                               c->data_v, c->data_images, c->data_labels, c->data_test_images, c->data_test_labels,
                               c->data_path, c->data_test_path};
  int st;
  r->data_crc = (uint32_t)crc32(0L, NULL, 0);
  r->data_files[0] = '\0';
  for (size_t i = 0; i < sizeof files / sizeof *files; i++)
    if ((st = add_data_file(r, files[i]))) return st;
  char dir[1024];
  if ((!strcmp(c->data_source, "fashion-mnist") || !strcmp(c->data_source, "mnist")) &&
      nco_data_dir(c->data_source, dir, sizeof dir)) {
    static const char *const names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                                        "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", "images.npy", "labels.npy"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
      char path[1200];
      snprintf(path, sizeof path, "%s/%s", dir, names[i]);
      if ((st = add_data_file(r, path))) return st;
    }
  }
  if (!r->data_files[0]) snprintf(r->data_files, sizeof r->data_files, "synthetic data of data.seed");
  return NCO_OK;
}

static uint64_t every_steps(uint64_t v, uint64_t per_epoch) { return v == NCO_EVERY_EPOCH ? per_epoch : v; }

/* run.log_every, full_loss_every and checkpoint_every in steps. */
static void resolve_every(run *r) {
  const nco_config *c = &r->cfg;
  int mb = !is_full_batch(r);
  if (c->log_every == NCO_EVERY_AUTO) {
    /* about 1000 rows; a full-batch method whose step does not evaluate at
     * x_t (accelegrad, psgd, rgd, ...) pays one full evaluation per row,
     * about one step's: rows ≥ 20 steps apart keep that ≤ 5% */
    uint64_t k = (r->total + 999) / 1000;
    if (!mb && !r->fused && nco_optim_type_is_ask_tell(c->optim) && k < 20) k = 20;
    /* formatting and writing a row costs about what 2000 multiply-adds of
     * a step do (measured: 5–8 µs against a glm step of 64 samples × 100
     * parameters, 26 µs), and a step does about (samples) × (parameters)
     * of them: rows ≥ 40000/(samples × parameters) steps apart cost ≤ 5%
     * even for the tiniest problems (a count, not a clock: the same spec
     * always writes the same rows) */
    double work = (double)(mb ? r->batch : r->n) * (double)r->dim;
    double kmin = ceil(40000.0 / (work > 1 ? work : 1));
    if ((double)k < kmin) k = (uint64_t)kmin;
    r->log_k = k ? k : 1;
  } else {
    r->log_k = every_steps(c->log_every, r->per_epoch);
  }
  /* auto: one loss pass over the data per 20 epochs of training (n samples
   * evaluated per 20·n trained: 5%), not at step 0 */
  r->full_k = !mb ? 0 : c->full_loss_every == NCO_EVERY_AUTO ? 20 * r->per_epoch : every_steps(c->full_loss_every, r->per_epoch);
  r->full_at_0 = c->full_loss_every != NCO_EVERY_AUTO;
  r->ckpt_auto = c->checkpoint_every == NCO_EVERY_AUTO;
  r->ckpt_k = r->ckpt_auto ? 0 : every_steps(c->checkpoint_every, r->per_epoch);
}

/* Builds problem, optimiser and buffers for cfg; x0 NULL = the spec's
 * init or the problem's. *spec_error is set for errors in the spec's
 * values (a batch larger than the data, an init of the wrong size). */
static int run_setup(run *r, const float *x0, size_t x0_len, int *spec_error) {
  int st;
  nco_config *cfg = &r->cfg;
  r->last_ckpt = UINT64_MAX;
  r->hess_t = r->jac_t = r->test_t = r->layer_t = r->d0_t = r->rgrad_t = UINT64_MAX;
  if ((st = nco_config_build_problems(cfg, 0, &r->pb, &r->test, spec_error))) return st;
  if ((st = data_fingerprint(r))) return st;
  r->net = nco_nn_is_nn(r->pb);
  r->dim = r->pb->dim;
  r->dim_x = nco_problem_root(r->pb)->dim;
  r->n = r->pb->n;
  r->batch = cfg->batch;
  if (r->batch > r->n) {
    *spec_error = 1;
    return spec_err(r, NCO_ERR_RANGE, "optimizer", "batch", "%zu is larger than the number of samples n = %zu", r->batch,
                    r->n);
  }
  if (!is_full_batch(r) && !nco_optim_type_is_ask_tell(cfg->optim)) {
    *spec_error = 1;
    return spec_err(r, NCO_ERR_INVALID, "optimizer", "batch", "%s is a full-batch method; set batch = 0",
                    nco_optim_type_name(cfg->optim));
  }
  uint64_t per_epoch = is_full_batch(r) ? 1 : (r->n + r->batch - 1) / r->batch;
  if (!cfg->iterations && cfg->epochs > UINT64_MAX / 4 / per_epoch) {
    *spec_error = 1;
    return spec_err(r, NCO_ERR_OVERFLOW, "run", "epochs", "%llu epochs of %llu steps each overflow the step counter",
                    (unsigned long long)cfg->epochs, (unsigned long long)per_epoch);
  }
  r->total = cfg->iterations ? cfg->iterations : cfg->epochs * per_epoch;
  /* a schedule's horizon (T = auto) is the run's length; unit = epoch
   * counts epochs */
  if ((st = nco_config_resolve_schedule(cfg, r->total, per_epoch))) {
    *spec_error = 1;
    return st;
  }
  r->theta0 = nco_calloc(r->dim, sizeof(float));
  r->prev = nco_calloc(r->dim, sizeof(float));
  r->gfull = nco_calloc(r->dim, sizeof(float));
  r->perm = nco_calloc(r->n, sizeof(size_t));
  r->idx = nco_calloc(r->batch ? r->batch : 1, sizeof(size_t));
  if (!r->theta0 || !r->prev || !r->gfull || !r->perm || !r->idx)
    return nco_error(NCO_ERR_NOMEM, "run: out of memory (dim = %zu, n = %zu)", r->dim, r->n);
  if (x0 && x0_len != r->dim)
    return nco_error(NCO_ERR_SHAPE, "the checkpoint holds %zu parameters, the problem built from its spec has %zu "
                     "(did the data change since the run started?)", x0_len, r->dim);
  if (x0)
    nco_copy(r->dim, x0, r->theta0);
  else if ((st = nco_config_initial_point(cfg, r->pb, r->theta0, spec_error)))
    return st;
  r->per_epoch = per_epoch;
  if ((st = state_init(r))) return st;
  resolve_every(r);
  r->trace_fd = -1;
  /* probes */
  r->lz = nco_config_lanczos(cfg);
  r->theta0_norm = nco_nrm2(r->dim, r->theta0);
  const int64_t *pe = cfg->probe_every;
  r->path_on = pe[NCO_PROBE_path_length] || pe[NCO_PROBE_misfit] || pe[NCO_PROBE_distance];
  /* the Riemannian gradient (grad_norm, grad_tol, the summary, landscape
   * probes) needs a scratch vector on the sphere */
  if (r->pb->manifold == NCO_MANIFOLD_SPHERE || pe[NCO_PROBE_hess_max] || pe[NCO_PROBE_hess_min] ||
      pe[NCO_PROBE_pl_ratio] || pe[NCO_PROBE_quasi_convexity] || pe[NCO_PROBE_rsi]) {
    r->rgrad = nco_calloc(r->dim, sizeof(float));
    if (!r->rgrad) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  }
  if (cfg->x_star[0]) {
    nco_array a = {0};
    char where[1200];
    nco_config_where(cfg, "run", "x_star", where, sizeof where);
    if ((st = nco_npy_read(cfg->x_star, &a)) || (st = nco_array_to_f32(&a))) {
      nco_array_free(&a);
      return nco_error_context(st, "%s: run.x_star", where);
    }
    if (a.size != r->dim && a.size != r->dim_x) {
      size_t got = a.size;
      nco_array_free(&a);
      *spec_error = 1;
      return spec_err(r, NCO_ERR_SHAPE, "run", "x_star", "%s holds %zu values, the problem has %zu parameters", cfg->x_star,
                      got, r->dim_x);
    }
    r->xstar = nco_calloc(r->dim, sizeof(float));
    if (!r->xstar) {
      nco_array_free(&a);
      return nco_error(NCO_ERR_NOMEM, "run: out of memory");
    }
    nco_copy(a.size, a.data, r->xstar);
    nco_array_free(&a);
    if (!nco_all_finite(r->dim, r->xstar)) {
      *spec_error = 1;
      return spec_err(r, NCO_ERR_NONFINITE, "run", "x_star", "%s holds a value that is not finite", cfg->x_star);
    }
  }
  r->r0 = NAN;
  if (pe[NCO_PROBE_misfit] && cfg->reg == NCO_REG_L2 && cfg->reduction == NCO_REDUCE_MEAN) {
    /* the ℓ2 penalty is not scaled by the reduction (reg.h): the loss is
     * not c·½‖r‖², so the rows evaluate the residual */
    if ((st = nco_misfit_create(r->pb, 0, r->theta0, NULL, r->n, &r->misfit)))
      return nco_error_context(st, "probes.misfit");
    r->r0 = nco_misfit_r0(r->misfit);
  } else if (pe[NCO_PROBE_misfit]) {
    /* ‖r(θ_0)‖ from the loss c·½‖r‖² (problem.h): the rows then need no
     * residual evaluation of their own */
    double f0;
    if ((st = nco_problem_eval(r->pb, r->theta0, NULL, r->n, &f0, NULL)))
      return nco_error_context(st, "misfit: the loss at θ_0");
    r->r0 = sqrt(2 * f0 / nco_problem_scale(r->pb, r->n));
    if (!(r->r0 > 0))
      return nco_error(NCO_ERR_RANGE, "probes.misfit: ‖r_0‖ = %g: θ_0 already interpolates the data, the ratio "
                       "‖r_t‖/‖r_0‖ is undefined", r->r0);
  }
  return columns_setup(r);
}

/* Next minibatch into r->idx; returns its size. */
static size_t next_batch(run *r) {
  size_t b = r->batch;
  if (r->cfg.sampling == NCO_SAMPLE_REPLACEMENT) {
    for (size_t i = 0; i < b; i++) r->idx[i] = (size_t)nco_rng_below(&r->batch_rng, r->n);
    r->samples += b;
    return b;
  }
  if (r->pos >= r->n) {
    if (r->cfg.sampling == NCO_SAMPLE_RESHUFFLE) nco_rng_shuffle(&r->batch_rng, r->perm, r->n);
    r->pos = 0;
  }
  /* the last batch of an epoch may be smaller (DataLoader drop_last=False) */
  size_t nb = r->n - r->pos < b ? r->n - r->pos : b;
  memcpy(r->idx, r->perm + r->pos, nb * sizeof *r->idx);
  r->pos += nb;
  r->samples += nb;
  return nb;
}

/* ---- trace ------------------------------------------------------------- */

static int col_due(const column *c, uint64_t t, int logged) {
  if (!c->every) return 0;
  if (c->every == NCO_PROBE_AT_LOG) return logged;
  return t % (uint64_t)c->every == 0;
}

static int probe_due(const run *r, int p, uint64_t t, int logged) {
  for (size_t i = 0; i < r->ncols; i++)
    if (r->cols[i].kind == COL_PROBE && r->cols[i].probe == p) return col_due(&r->cols[i], t, logged);
  return 0;
}

static int log_due(const run *r, uint64_t t) { return t == 0 || t >= r->total || t % r->log_k == 0; }

/* minibatch runs: the full-data loss is due at this row */
static int full_due(const run *r, uint64_t t) {
  if (is_full_batch(r)) return 0;
  if (t >= r->total) return 1; /* the last row (summary.json's final_loss reuses it) */
  return r->full_k && t % r->full_k == 0 && (t > 0 || r->full_at_0);
}

static int row_due(const run *r, uint64_t t) {
  int logged = log_due(r, t) || full_due(r, t);
  for (size_t i = 0; i < r->ncols && !logged; i++) logged |= col_due(&r->cols[i], t, 0);
  return logged;
}

static void trace_header(run *r, buf_t *b) {
  putf(b, "iter,epoch,seconds,loss,lr,batch_loss%s", is_full_batch(r) ? "" : ",full_loss");
  for (size_t i = 0; i < r->ncols; i++) putf(b, ",%s", r->cols[i].name);
  putf(b, "\n");
}

static void note_loss(run *r, double loss) {
  r->last_loss = loss;
  if (loss < r->best_loss) r->best_loss = loss, r->best_iter = r->t;
}

/* The full-batch loss (and gradient if want_grad) at the output point,
 * unless already known. */
static int full_eval(run *r, int want_grad) {
  if (r->have_loss && (r->have_grad || !want_grad)) return NCO_OK;
  double loss;
  int st = nco_problem_eval(r->pb, nco_optim_output(r->o), NULL, r->n, &loss, want_grad ? r->gfull : NULL);
  if (st) return st;
  r->cur_loss = loss, r->have_loss = 1;
  if (want_grad) r->have_grad = 1, r->rgrad_t = UINT64_MAX;
  note_loss(r, loss);
  return NCO_OK;
}

/* The gradient the landscape probes use: the full-batch gradient, or on
 * the sphere the Riemannian one P_x∇f (Ma eq. 5.4), projected once per
 * step (the stopping rule and the probes of a row share it). */
static const float *landscape_grad(run *r, const float *x) {
  if (r->pb->manifold != NCO_MANIFOLD_SPHERE) return r->gfull;
  if (r->rgrad_t != r->t) {
    nco_copy(r->dim, r->gfull, r->rgrad);
    nco_problem_project_tangent(r->pb, x, r->rgrad);
    r->rgrad_t = r->t;
  }
  return r->rgrad;
}

/* ‖θ_t − θ_0‖ and the per-layer distances in one pass over θ: the layers
 * are contiguous slices from 0, the rest (the invex lifting's p) follows. */
static void distances(run *r, const float *x) {
  double total = 0;
  size_t end = 0;
  for (size_t l = 0; l < r->nlayers; l++) {
    const nco_slice *sl = &r->layers[l];
    double ss = sq_dist(sl->length, x + sl->offset, r->theta0 + sl->offset);
    /* Oymak & Soltanolkotabi §5.1: ‖W_l − W_l,0‖_F/‖W_l,0‖_F (‖W_l,0‖
     * computed once) */
    r->layer_rel[l] = r->layer_norm0[l] > 0 ? sqrt(ss) / r->layer_norm0[l] : NAN;
    total += ss;
    end = sl->offset + sl->length;
  }
  r->d0 = sqrt(total + sq_dist(r->dim - end, x + end, r->theta0 + end));
  r->d0_t = r->layer_t = r->t;
}

/* One probe's value at step t (x = the output point; cur_loss and, where
 * needed, gfull hold the full-batch values there). */
static int probe_value(run *r, const column *c, const float *x, double *v) {
  int st = NCO_OK;
  uint64_t t = r->t;
  *v = NAN;
  if (c->kind == COL_LAYER) {
    /* Oymak & Soltanolkotabi §5.1: ‖W_l − W_l,0‖_F/‖W_l,0‖_F per layer (the
     * norms of θ_0's slices are computed once) */
    if (r->layer_t != t) distances(r, x);
    *v = r->layer_rel[c->layer];
    return NCO_OK;
  }
  if (c->probe == NCO_PROBE_dist_init || c->probe == NCO_PROBE_distance) {
    if (r->d0_t != t) distances(r, x);
    if (c->probe == NCO_PROBE_dist_init) *v = r->d0;
    else *v = r->theta0_norm > 0 ? r->d0 / r->theta0_norm : NAN; /* ‖θ_t − θ_0‖/‖θ_0‖ (Oymak & Soltanolkotabi §5) */
    return NCO_OK;
  }
  if (c->kind == COL_TEST_LOSS || c->kind == COL_TEST_ACC) {
    if (r->test_t != t) {
      nco_nn_metrics m;
      if ((st = nco_nn_evaluate(r->test, x, NULL, r->test->n, &m))) return nco_error_context(st, "test set");
      r->test_loss = m.loss_mean, r->test_acc = m.accuracy, r->test_t = t;
    }
    *v = c->kind == COL_TEST_LOSS ? r->test_loss : r->test_acc;
    return NCO_OK;
  }
  switch (c->probe) {
    case NCO_PROBE_grad_norm: *v = nco_nrm2(r->dim, landscape_grad(r, x)); break; /* Riemannian on the sphere */
    case NCO_PROBE_path_length: *v = r->path_length; break;
    case NCO_PROBE_loss_unreg:
      if (r->cfg.reg == NCO_REG_NONE) *v = r->cur_loss;
      else st = nco_problem_loss_unreg(r->pb, x, NULL, r->n, v);
      break;
    case NCO_PROBE_pl_ratio:
      st = nco_pl_ratio(r->cur_loss, r->cfg.f_star, r->dim, landscape_grad(r, x), v);
      break;
    case NCO_PROBE_quasi_convexity:
      st = nco_quasi_convexity(r->cur_loss, r->cfg.f_star, r->dim, landscape_grad(r, x), x, r->xstar, v);
      break;
    case NCO_PROBE_rsi: st = nco_rsi(r->dim, landscape_grad(r, x), x, r->xstar, v); break;
    case NCO_PROBE_hess_max:
    case NCO_PROBE_hess_min:
      /* one Lanczos call gives both ends */
      if (r->hess_t != t) {
        nco_lanczos_opts lz = r->lz;
        if (lz.max_iter > r->dim) lz.max_iter = r->dim;
        if ((st = nco_hessian_extremes(r->pb, x, NULL, r->n, &lz, 1, &r->hess_hi, &r->hess_lo, NULL))) break;
        r->hess_t = t;
      }
      *v = c->probe == NCO_PROBE_hess_max ? r->hess_hi : r->hess_lo;
      break;
    case NCO_PROBE_jac_smax:
    case NCO_PROBE_jac_smin:
      if (r->jac_t != t) {
        nco_lanczos_opts lz = r->lz;
        size_t N = nco_problem_nres(r->pb, r->n), mn = N < r->dim ? N : r->dim;
        if (lz.max_iter > mn) lz.max_iter = mn;
        if ((st = nco_jacobian_svals(r->pb, x, NULL, r->n, &lz, &r->jac_hi, &r->jac_lo, NULL))) break;
        r->jac_t = t;
      }
      *v = c->probe == NCO_PROBE_jac_smax ? r->jac_hi : r->jac_lo;
      break;
    case NCO_PROBE_misfit:
      /* ‖r_t‖ = √(2 f/c) from the row's loss f = c·½‖r‖² (problem.h) */
      if (r->misfit) st = nco_misfit_eval(r->misfit, x, v, NULL);
      else *v = sqrt(2 * r->cur_loss / nco_problem_scale(r->pb, r->n)) / r->r0;
      break;
    default: break;
  }
  if (st == NCO_ERR_RANGE && (c->probe == NCO_PROBE_pl_ratio || c->probe == NCO_PROBE_quasi_convexity)) {
    char where[1200];
    nco_config_where(&r->cfg, "run", "f_star", where, sizeof where);
    return nco_error(st, "probes.%s: the loss %.17g is below run.f_star = %.17g (%s): f* must be a lower bound of the loss",
                     c->name, r->cur_loss, r->cfg.f_star, where);
  }
  if (st) return nco_error_context(st, "probes.%s", c->name);
  return NCO_OK;
}

/* Writes the buffered rows: whole rows, so a killed process leaves whole
 * rows; before every checkpoint (its step's rows are on disk) and before
 * the outputs (the plots read trace.csv). */
static int trace_flush(run *r) {
  buf_t *b = &r->row;
  size_t off = 0;
  while (off < b->n && r->trace_fd >= 0) {
    ssize_t w = write(r->trace_fd, b->p + off, b->n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      int e = errno;
      return nco_error(NCO_ERR_IO, "%s/trace.csv: write failed: %s", r->dir, strerror(e));
    }
    off += (size_t)w;
  }
  b->n = 0, b->oom = 0;
  r->flush_wall = now_seconds();
  return NCO_OK;
}

/* Does the value of probe column c need the full-batch loss or gradient at
 * x_t (minibatch runs compute them only where a row asks)? */
static int col_needs_full(const column *c) {
  if (c->kind != COL_PROBE) return 0;
  switch (c->probe) {
    case NCO_PROBE_dist_init:
    case NCO_PROBE_path_length:
    case NCO_PROBE_distance:
    case NCO_PROBE_hess_max:
    case NCO_PROBE_hess_min:
    case NCO_PROBE_jac_smax:
    case NCO_PROBE_jac_smin: return 0;
    default: return 1;
  }
}

/* The full-batch values a row of step t needs: returns 1 if the loss is
 * needed, and *grad for the gradient. */
static int row_needs_full(const run *r, uint64_t t, int logged, int *grad) {
  static const int grad_probes[] = {NCO_PROBE_grad_norm, NCO_PROBE_pl_ratio, NCO_PROBE_quasi_convexity, NCO_PROBE_rsi};
  *grad = r->cfg.grad_tol > 0;
  for (size_t i = 0; i < sizeof grad_probes / sizeof *grad_probes; i++) *grad |= probe_due(r, grad_probes[i], t, logged);
  /* full batch: the row's loss is f(x_t); a stopping rule on the loss needs it at every row */
  int need = *grad || is_full_batch(r) || full_due(r, t) || isfinite(r->cfg.target_loss);
  for (size_t i = 0; i < r->ncols && !need; i++) need = col_due(&r->cols[i], t, logged) && col_needs_full(&r->cols[i]);
  return need;
}

/* Appends the row of step t: the loss (full batch: f(x_t); minibatch: the
 * mean step loss since the last row, and the full-data loss where due), the
 * probes due; whole rows are buffered and written by trace_flush. */
static int log_row(run *r, int forced, double batch_loss) {
  uint64_t t = r->t;
  int logged = forced || log_due(r, t), need_grad, st;
  int mb = !is_full_batch(r);
  int need = row_needs_full(r, t, logged, &need_grad);
  /* the last row's values are summary.json's: full batch with the gradient */
  if (forced || t >= r->total) need = 1, need_grad |= !mb;
  if (need) {
    if ((st = full_eval(r, need_grad))) return st;
  }
  const float *xo = nco_optim_output(r->o);
  buf_t *b = &r->row;
  size_t row0 = b->n;
  putf(b, "%llu,", (unsigned long long)t);
  put_num(b, (double)r->samples / (double)r->n);
  putf(b, ",%.6f,", r->train_seconds);
  if (!mb) put_num(b, r->cur_loss);
  else if (r->win_n) put_num(b, r->win_sum / (double)r->win_n);
  put(b, ",", 1);
  double lr = nco_schedule_lr(&r->cfg.sched, t);
  if (memcmp(&lr, &r->lr_val, sizeof lr) || !r->lr_text[0]) {
    fmt_num(r->lr_text, lr);
    r->lr_val = lr;
  }
  put(b, r->lr_text, strlen(r->lr_text));
  put(b, ",", 1);
  if (t > 0 && isfinite(batch_loss)) put_num(b, batch_loss);
  if (mb) {
    put(b, ",", 1);
    if (r->have_loss) put_num(b, r->cur_loss);
  }
  for (size_t i = 0; i < r->ncols; i++) {
    put(b, ",", 1);
    if (!col_due(&r->cols[i], t, logged)) continue;
    double v;
    if ((st = probe_value(r, &r->cols[i], xo, &v))) {
      b->n = row0; /* no half row */
      return st;
    }
    put_num(b, v);
  }
  putf(b, "\n");
  if (b->oom) return nco_error(NCO_ERR_NOMEM, "trace: out of memory");
  r->win_sum = 0, r->win_n = 0; /* the next row's mean starts here */
  /* rows are written in blocks (64 KiB, or a second's worth): a write(2)
   * per row would cost more than a cheap step */
  if (b->n >= 65536 || now_seconds() - r->flush_wall >= 1.0) return trace_flush(r);
  return NCO_OK;
}

/* ---- checkpoints ------------------------------------------------------- */

#define CKPT_MAGIC "NCOCKPT"
#define CKPT_VERSION 4u /* 3: the minibatch loss window (win_sum, win_n); 4: the data fingerprint */

static void put_counters(buf_t *p, const nco_problem_counters *c) {
  put_u64(p, c->loss), put_u64(p, c->grad), put_u64(p, c->residual), put_u64(p, c->jvp), put_u64(p, c->vjp);
  put_u64(p, c->hvp), put_u64(p, c->samples);
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

static int checkpoint_write(run *r) {
  int fst = trace_flush(r);
  if (fst) return fst;
  buf_t p = {0};
  size_t sl = strlen(r->spec_text);
  put_u64(&p, sl);
  put(&p, r->spec_text, sl);
  put_u64(&p, r->t), put_u64(&p, r->samples), put_u64(&p, r->pos), put_u64(&p, r->n);
  for (size_t i = 0; i < r->n; i++) put_u64(&p, r->perm[i]);
  put(&p, &r->batch_rng, sizeof r->batch_rng);
  put_f64(&p, r->path_length), put_f64(&p, r->best_loss), put_f64(&p, r->train_seconds), put_f64(&p, r->last_loss);
  put_u64(&p, r->best_iter);
  put_u64(&p, (uint64_t)r->have_loss | (uint64_t)r->have_grad << 1 | (uint64_t)r->optim_converged << 2);
  put_f64(&p, r->cur_loss);
  put_f64(&p, r->win_sum), put_u64(&p, r->win_n);
  put_counters(&p, &r->pb->counters);
  put_u64(&p, r->data_crc);
  put_u64(&p, r->dim);
  put(&p, r->theta0, r->dim * sizeof(float));
  put(&p, r->gfull, r->dim * sizeof(float));
  size_t ol = nco_optim_state_size(r->o);
  put_u64(&p, ol);
  if (!p.oom) {
    unsigned char *tmp = malloc(ol ? ol : 1);
    if (!tmp) p.oom = 1;
    else {
      int st = nco_optim_save(r->o, tmp, ol);
      if (st) {
        free(tmp), free(p.p);
        return st;
      }
      put(&p, tmp, ol);
      free(tmp);
    }
  }
  if (p.oom) {
    free(p.p);
    return nco_error(NCO_ERR_NOMEM, "checkpoint: out of memory");
  }
  buf_t f = {0};
  put(&f, CKPT_MAGIC, 8);
  uint32_t ver = CKPT_VERSION, crc = crc_of(p.p, p.n);
  put(&f, &ver, 4), put(&f, &crc, 4);
  put_u64(&f, p.n);
  put(&f, p.p, p.n);
  free(p.p);
  if (f.oom) {
    free(f.p);
    return nco_error(NCO_ERR_NOMEM, "checkpoint: out of memory");
  }
  char path[4200], prev[4200], tmp[4300];
  snprintf(path, sizeof path, "%s/checkpoint.bin", r->dir);
  snprintf(prev, sizeof prev, "%s/checkpoint.prev.bin", r->dir);
  /* the new checkpoint is complete on disk before the previous good one
   * becomes checkpoint.prev.bin: at any instant one of the two loads */
  int st = write_tmp(path, f.p, f.n, tmp, sizeof tmp);
  free(f.p);
  if (st) return st;
  if (access(path, F_OK) == 0 && rename(path, prev)) {
    int e = errno;
    unlink(tmp);
    return nco_error(NCO_ERR_IO, "%s: cannot keep the previous checkpoint: %s", path, strerror(e));
  }
  if (rename(tmp, path)) {
    int e = errno;
    unlink(tmp);
    return nco_error(NCO_ERR_IO, "%s: rename failed: %s", path, strerror(e));
  }
  r->last_ckpt = r->t;
  return NCO_OK;
}

typedef struct ckpt {
  char *spec_text;
  uint64_t t, samples, pos, n, best_iter, flags;
  size_t *perm;
  nco_rng batch_rng;
  double path_length, best_loss, train_seconds, last_loss, cur_loss, win_sum;
  uint64_t win_n;
  nco_problem_counters counters;
  uint64_t data_crc, dim;
  float *theta0, *gfull;
  unsigned char *optim;
  size_t optim_len;
} ckpt;

static void ckpt_free(ckpt *c) {
  free(c->spec_text), free(c->perm), free(c->theta0), free(c->gfull), free(c->optim);
  memset(c, 0, sizeof *c);
}

static int checkpoint_read(const char *path, ckpt *c) {
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
  if (ver != CKPT_VERSION) {
    fclose(fp);
    return nco_error(NCO_ERR_FORMAT, "%s: checkpoint version %u, this ncopt reads %u", path, ver, CKPT_VERSION);
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
#undef CKPT_ALLOC
  free(p);
  if (r.bad || r.off != len || strlen(c->spec_text) != sl) {
    ckpt_free(c);
    return nco_error(NCO_ERR_FORMAT, "%s: inconsistent checkpoint contents", path);
  }
  return NCO_OK;
oom:
  free(p);
  ckpt_free(c);
  return nco_error(NCO_ERR_NOMEM, "%s: out of memory reading the checkpoint", path);
}

/* Every field of a checkpoint is untrusted input (the CRC finds accidents,
 * not forgery): checked against the run built from its spec before use. */
static int ckpt_validate(const ckpt *c, const run *r, const char *path) {
  const char *bad = NULL;
  char what[200];
  if (c->pos > c->n) bad = "the position in the epoch is past its end";
  else if (c->flags > 7) bad = "unknown state flags";
  else if (c->best_iter > c->t || c->win_n > c->t) bad = "step counters after the current step";
  else if (!(c->path_length >= 0) && !isnan(c->path_length)) bad = "a negative path length";
  else if (nco_rng_check(&c->batch_rng)) bad = "an invalid minibatch generator state";
  else if (!nco_all_finite(r->dim, c->theta0)) bad = "a non-finite starting point";
  else if ((c->flags & 2) && !nco_all_finite(r->dim, c->gfull)) bad = "a non-finite gradient";
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

/* ---- outputs ------------------------------------------------------------ */

static const char *stop_name(int st) {
  switch (st) {
    case NCO_MAX_ITER: return "max_iter";
    case NCO_TARGET_REACHED: return "target_loss";
    case NCO_CONVERGED: return "converged";
    case NCO_TIME_LIMIT: return "max_seconds";
    case NCO_CANCELLED: return "cancelled";
    case NCO_ERR_NONFINITE: return "non_finite";
    default: return st < 0 ? "error" : "ok";
  }
}

static void json_str(buf_t *b, const char *s) {
  put(b, "\"", 1);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') putf(b, "\\%c", c);
    else if (c < 0x20) putf(b, "\\u%04x", c);
    else put(b, s, 1);
  }
  put(b, "\"", 1);
}

static void json_num(buf_t *b, double v) {
  if (isfinite(v)) put_num(b, v);
  else putf(b, "null");
}

static int write_outputs(run *r, int stop, const char *message) {
  int st = trace_flush(r);
  if (st) return st;
  char path[4200];
  const float *xo = nco_optim_output(r->o);
  nco_problem_counters evals = r->pb->counters; /* the run's, not the summary's */
  /* params.npy: the x part; the invex lifting's p goes to aux.npy */
  size_t shape[1] = {r->dim_x};
  snprintf(path, sizeof path, "%s/params.npy", r->dir);
  if ((st = nco_npy_write_f32(path, xo, 1, shape))) return st;
  if (r->dim > r->dim_x) {
    size_t s2[1] = {r->dim - r->dim_x};
    snprintf(path, sizeof path, "%s/aux.npy", r->dir);
    if ((st = nco_npy_write_f32(path, xo + r->dim_x, 1, s2))) return st;
  }
  /* params.json: what each slice of params.npy is (PyTorch's names and
   * shapes for networks) */
  snprintf(path, sizeof path, "%s/params.json", r->dir);
  if ((st = nco_nn_layer_map_write(r->pb, path))) return st;
  double final = NAN, unreg = NAN, gnorm = NAN;
  /* the final values without touching the run's best (a cancelled run's
   * summary must not change what the resumed run reports) */
  double keep_best = r->best_loss, keep_last = r->last_loss;
  uint64_t keep_iter = r->best_iter;
  /* minibatch runs: the final full-data loss is one loss pass (the last
   * row's, reused); the gradient norm only where a row computed it */
  int want_grad = is_full_batch(r) || (r->have_loss && r->have_grad);
  if (stop != NCO_ERR_NONFINITE && !full_eval(r, want_grad)) {
    final = r->cur_loss;
    gnorm = want_grad ? nco_nrm2(r->dim, landscape_grad(r, xo)) : NAN;
    if (r->cfg.reg == NCO_REG_NONE) unreg = final;
    else if (nco_problem_loss_unreg(r->pb, xo, NULL, r->n, &unreg)) unreg = NAN;
  }
  r->best_loss = keep_best, r->last_loss = isfinite(final) ? final : keep_last, r->best_iter = keep_iter;
  char plver[80] = "";
  plgver(plver);
  buf_t b = {0};
  putf(&b, "{\n  \"versions\": {\"ncopt\": \"%s\", \"openblas\": ", NCO_VERSION_STRING);
  const char *obc = openblas_get_config();
  json_str(&b, obc ? obc : "unknown");
  putf(&b, ", \"plplot\": ");
  json_str(&b, plver);
  putf(&b, ", \"zlib\": ");
  json_str(&b, zlibVersion());
  putf(&b, "},\n  \"problem\": ");
  json_str(&b, r->pb->label);
  putf(&b, ",\n  \"optimizer\": \"%s\",\n  \"parameters\": %zu,\n  \"samples\": %zu,\n", nco_optim_type_name(r->cfg.optim),
       r->dim, r->n);
  putf(&b, "  \"stop\": \"%s\",\n  \"message\": ", stop_name(stop));
  json_str(&b, message);
  putf(&b, ",\n  \"iterations\": %llu,\n  \"planned_iterations\": %llu,\n  \"epochs\": ", (unsigned long long)r->t,
       (unsigned long long)r->total);
  json_num(&b, (double)r->samples / (double)r->n);
  putf(&b, ",\n  \"train_seconds\": ");
  json_num(&b, r->train_seconds);
  putf(&b, ",\n  \"final_loss\": ");
  json_num(&b, final);
  putf(&b, ",\n  \"final_loss_unreg\": ");
  json_num(&b, unreg);
  putf(&b, ",\n  \"final_grad_norm\": ");
  json_num(&b, gnorm);
  putf(&b, ",\n  \"best_loss\": ");
  json_num(&b, r->best_loss);
  putf(&b, ",\n  \"best_iter\": %llu", (unsigned long long)r->best_iter);
  putf(&b, ",\n  \"path_length\": ");
  json_num(&b, r->path_on ? r->path_length : NAN);
  putf(&b, ",\n  \"dist_init\": ");
  json_num(&b, dist_fast(r->dim, xo, r->theta0));
  putf(&b, ",\n  \"theta0_norm\": ");
  json_num(&b, r->theta0_norm);
  if (r->cfg.probe_every[NCO_PROBE_misfit]) {
    putf(&b, ",\n  \"misfit_r0\": ");
    json_num(&b, r->r0);
  }
  if (r->test) {
    nco_nn_metrics m = {0, NAN, NAN, NAN};
    if (stop != NCO_ERR_NONFINITE && nco_nn_evaluate(r->test, xo, NULL, r->test->n, &m)) m.loss_mean = m.accuracy = NAN;
    putf(&b, ",\n  \"test_samples\": %zu,\n  \"final_test_loss\": ", r->test->n);
    json_num(&b, m.loss_mean);
    putf(&b, ",\n  \"final_test_acc\": ");
    json_num(&b, m.accuracy);
  }
  if (r->cfg.probe_every[NCO_PROBE_regularity]) {
    putf(&b, ",\n  \"regularity\": ");
    if (r->reg_done) {
      putf(&b, "{\"gamma\": ");
      json_num(&b, r->reg.gamma);
      putf(&b, ", \"argmin\": %zu, \"factor\": ", r->reg.argmin);
      json_num(&b, nco_regularity_factor(&r->reg));
      putf(&b, ", \"dist0_T\": ");
      json_num(&b, r->reg.dist0_T);
      putf(&b, ", \"steps\": %zu, \"skipped\": %zu, \"violations\": %zu, \"zero_gap\": %zu, \"inf_loss\": ", r->reg.steps,
           r->reg_skipped, r->reg.n_violations, r->reg.n_zero_gap);
      json_num(&b, r->reg.inf_loss);
      putf(&b, ", \"replay_identical\": %s, \"replay_seconds\": ", r->reg_identical ? "true" : "false");
      json_num(&b, r->reg_seconds);
      putf(&b, "}");
    } else {
      putf(&b, "{\"error\": ");
      json_str(&b, r->reg_error[0] ? r->reg_error : "not computed (the run did not finish)");
      putf(&b, "}");
    }
  }
  putf(&b, ",\n  \"evaluations\": {\"loss\": %llu, \"grad\": %llu, \"jvp\": %llu, \"vjp\": %llu, \"hvp\": %llu, \"samples\": %llu}\n}\n",
       (unsigned long long)evals.loss, (unsigned long long)evals.grad, (unsigned long long)evals.jvp,
       (unsigned long long)evals.vjp, (unsigned long long)evals.hvp, (unsigned long long)evals.samples);
  if (b.oom) {
    free(b.p);
    return nco_error(NCO_ERR_NOMEM, "summary: out of memory");
  }
  snprintf(path, sizeof path, "%s/summary.json", r->dir);
  st = nco_write_file_atomic(path, b.p, b.n);
  free(b.p);
  if (st) return st;
  return nco_plot_run(r->dir);
}

/* ---- the loop ------------------------------------------------------------ */

static void fill_result(const run *r, int stop, const char *msg, nco_run_result *res) {
  if (!res) return;
  res->stop = stop;
  res->iterations = r->t;
  res->final_loss = r->last_loss;
  res->best_loss = r->best_loss;
  res->train_seconds = r->train_seconds;
  snprintf(res->message, sizeof res->message, "%s", msg);
}

/* The loss the progress line shows: minibatch runs the mean step loss of
 * the epoch so far (as Keras's progress bar), full-batch runs the latest
 * evaluation. */
static double current_loss(const run *r, double batch_loss) {
  if (!is_full_batch(r)) return r->ep_n ? r->ep_sum / (double)r->ep_n : NAN;
  return r->have_loss ? r->cur_loss : isfinite(batch_loss) ? batch_loss : r->last_loss;
}

static void progress(const run *r, const nco_run_hooks *hooks, double batch_loss, int done, int *cancel) {
  if (!hooks || !hooks->progress) return;
  nco_progress p = {r->t, r->total, (uint64_t)((double)r->samples / (double)r->n), current_loss(r, batch_loss),
                    r->train_seconds, done, 0, NULL, 0, 0};
  if (hooks->progress(hooks->ctx, &p) && !done) *cancel = 1;
}

/* Step x_t → x_{t+1} (the run's and the replay's: the same code, so the
 * same bits); *batch_loss = what the step evaluated. */
static int do_step(run *r, double *batch_loss) {
  nco_optim *o = r->o;
  nco_optim_set_lr(o, nco_schedule_lr(&r->cfg.sched, r->t));
  if (r->net) nco_nn_set_step(r->pb, r->t + 1); /* the dropout masks of step t */
  int ist;
  if (r->fused) {
    r->samples += r->n;
    *batch_loss = r->cur_loss;
    ist = nco_optim_step_trusted(o, r->gfull, r->cur_loss); /* nco_problem_eval checked it */
  } else if (is_full_batch(r)) {
    r->samples += r->n;
    ist = nco_optim_iterate(o, r->pb, NULL, r->n, batch_loss, NULL);
  } else {
    size_t nb = next_batch(r);
    ist = nco_optim_iterate(o, r->pb, r->idx, nb, batch_loss, NULL);
  }
  if (ist < 0) return ist;
  r->t++;
  r->have_loss = r->have_grad = 0;
  r->rgrad_t = UINT64_MAX;
  r->optim_converged = ist == NCO_CONVERGED;
  if (r->net) nco_nn_set_step(r->pb, r->t);
  return NCO_OK;
}

/* Chen, Yang & Zhou, Definition 2: θ_T is known only now, so the run is
 * replayed from θ_0 with the same seeds (a second optimiser on the same
 * problem) and every step k feeds (θ_k, θ_{k+1}, η_k, ℓ(θ_k; z_ξk)) to the
 * accumulator; no trajectory is stored. The replay must end at θ_T bit for
 * bit (else its γ would describe another trajectory: an error). γ_k goes
 * to regularity.csv every K steps (K of `regularity = K`; every step for
 * `true`). */
static int regularity_replay(run *r, const nco_run_hooks *hooks) {
  int st;
  double t0 = now_seconds();
  run *q = calloc(1, sizeof *q);
  buf_t csv = {0};
  if (!q) return nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
  memcpy(&q->cfg, &r->cfg, sizeof q->cfg);
  q->pb = r->pb, q->net = r->net, q->dim = r->dim, q->dim_x = r->dim_x, q->n = r->n, q->batch = r->batch, q->total = r->total;
  q->trace_fd = -1;
  q->theta0 = r->theta0;
  q->perm = nco_calloc(q->n, sizeof(size_t));
  q->idx = nco_calloc(q->batch ? q->batch : 1, sizeof(size_t));
  q->gfull = nco_calloc(q->dim, sizeof(float));
  q->prev = nco_calloc(q->dim, sizeof(float));
  nco_regularity_free(&r->reg);
  r->reg_done = 0, r->reg_skipped = 0, r->reg_identical = 0;
  const float *theta_T = nco_optim_x(r->o);
  uint64_t T = r->t;
  int64_t every = r->cfg.probe_every[NCO_PROBE_regularity];
  if (!q->perm || !q->idx || !q->gfull || !q->prev) {
    st = nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
    goto done;
  }
  if ((st = state_init(q)) || (st = nco_regularity_init(&r->reg, r->dim, theta_T, r->cfg.inf_loss))) goto done;
  putf(&csv, "iter,gamma\n");
  nco_progress pr = {0, T, 0, NAN, 0, 0, 1, NULL, 0, 0};
  double last_cb = t0;
  while (q->t < T) {
    uint64_t k = q->t;
    if (q->fused && (st = full_eval(q, 1))) goto done;
    nco_copy(q->dim, nco_optim_x(q->o), q->prev);
    double loss = NAN, eta = nco_schedule_lr(&q->cfg.sched, k), g = NAN;
    if ((st = do_step(q, &loss))) goto done;
    if (eta > 0) {
      if ((st = nco_regularity_add_step(&r->reg, q->prev, nco_optim_x(q->o), eta, loss, &g))) {
        if (st == NCO_ERR_RANGE)
          st = nco_error(st, "step %llu: the loss %.17g is below run.inf_loss = %.17g: inf ℓ must be a lower bound",
                         (unsigned long long)k, loss, r->cfg.inf_loss);
        goto done;
      }
    } else {
      r->reg_skipped++; /* η_k = 0 (e.g. warm-up): no update, no constraint */
    }
    if (every == NCO_PROBE_AT_LOG || k % (uint64_t)every == 0) {
      putf(&csv, "%llu,", (unsigned long long)k);
      put_num(&csv, g);
      put(&csv, "\n", 1);
    }
    if (hooks && hooks->progress && (k & 63) == 0 && now_seconds() - last_cb > 0.05) {
      last_cb = now_seconds();
      pr.iter = k, pr.seconds = last_cb - t0, pr.loss = loss;
      if (hooks->progress(hooks->ctx, &pr)) {
        st = NCO_CANCELLED;
        goto done;
      }
    }
  }
  /* the replay must be the run */
  const float *xq = nco_optim_x(q->o);
  size_t diff = r->dim;
  for (size_t i = 0; i < r->dim && diff == r->dim; i++)
    if (memcmp(&xq[i], &theta_T[i], sizeof(float))) diff = i;
  if (diff < r->dim) {
    st = nco_error(NCO_ERR_NUMERIC, "the replay did not reproduce the run: parameter %zu is %.9g, the run ended at %.9g",
                   diff, (double)xq[diff], (double)theta_T[diff]);
    goto done;
  }
  r->reg_identical = 1;
  if (csv.oom) {
    st = nco_error(NCO_ERR_NOMEM, "regularity: out of memory");
    goto done;
  }
  char path[4200];
  snprintf(path, sizeof path, "%s/regularity.csv", r->dir);
  if ((st = nco_write_file_atomic(path, csv.p, csv.n))) goto done;
  r->reg_done = 1;
done:
  r->reg_seconds = now_seconds() - t0;
  free(csv.p);
  nco_optim_free(q->o);
  free(q->perm), free(q->idx), free(q->gfull), free(q->prev);
  if (r->net) nco_nn_set_step(r->pb, r->t);
  free(q);
  return st;
}

/* A checkpoint is due at step t: every ckpt_k steps, or (auto) when
 * checkpoint_seconds of wall time have passed since the last one and at
 * least 50 times its duration (≤ 2% of the time). Which step an automatic
 * checkpoint lands on depends on the clock, but never what the run
 * computes: a run resumed from any checkpoint is the same run. */
static int ckpt_due(const run *r) {
  if (r->t == 0 || r->last_ckpt == r->t) return 0;
  if (r->ckpt_k) return r->t % r->ckpt_k == 0;
  if (!r->ckpt_auto) return 0;
  return now_seconds() - r->ckpt_wall >= fmax(r->cfg.checkpoint_seconds, 50 * r->ckpt_cost);
}

static int timed_checkpoint(run *r) {
  double t0 = now_seconds();
  int st = checkpoint_write(r);
  r->ckpt_wall = now_seconds();
  r->ckpt_cost = r->ckpt_wall - t0;
  return st;
}

/* row_done: the row (and evaluation) of step r->t were already handled
 * (a resumed run). */
static int loop(run *r, const nco_run_hooks *hooks, nco_run_result *res, int row_done) {
  int st = NCO_OK, stop = 0;
  char msg[768] = "";
  nco_optim *o = r->o;
  double t_start = now_seconds() - r->train_seconds;
  double batch_loss = NAN;
  r->ckpt_wall = now_seconds();
  if (r->path_on) nco_copy(r->dim, nco_optim_x(o), r->prev);
  int logged_t = row_done;

  for (;;) {
    /* 1–2: evaluation and row of step t */
    if (!row_done) {
      if (r->fused && r->t < r->total && (st = full_eval(r, 1))) goto fail;
      if (row_due(r, r->t)) {
        if ((st = log_row(r, 0, batch_loss))) goto fail;
        logged_t = 1;
      }
      row_done = 1;
    }
    /* 3: stopping rules */
    if (r->have_loss && r->cur_loss <= r->cfg.target_loss) {
      stop = NCO_TARGET_REACHED;
      snprintf(msg, sizeof msg, "loss %.6g ≤ target_loss %.6g at step %llu", r->cur_loss, r->cfg.target_loss,
               (unsigned long long)r->t);
      break;
    }
    if (r->have_grad && r->cfg.grad_tol > 0) {
      double gn = nco_nrm2(r->dim, landscape_grad(r, nco_optim_output(r->o)));
      if (gn <= r->cfg.grad_tol) {
        stop = NCO_CONVERGED;
        snprintf(msg, sizeof msg, "‖∇f‖ = %.6g ≤ grad_tol %.6g at step %llu", gn, r->cfg.grad_tol, (unsigned long long)r->t);
        break;
      }
    }
    if (r->optim_converged) {
      stop = NCO_CONVERGED;
      snprintf(msg, sizeof msg, "%s converged at step %llu (its tolerances)", nco_optim_type_name(r->cfg.optim),
               (unsigned long long)r->t);
      break;
    }
    if (r->t >= r->total) {
      stop = NCO_MAX_ITER;
      snprintf(msg, sizeof msg, "completed %llu steps", (unsigned long long)r->t);
      break;
    }
    if (r->train_seconds >= r->cfg.max_seconds) {
      stop = NCO_TIME_LIMIT;
      snprintf(msg, sizeof msg, "max_seconds %.6g reached at step %llu", r->cfg.max_seconds, (unsigned long long)r->t);
      break;
    }
    /* 4: checkpoint */
    if (ckpt_due(r) && (st = timed_checkpoint(r))) goto fail;
    /* 5: progress, cancellation */
    int cancel = 0;
    progress(r, hooks, batch_loss, 0, &cancel);
    if (cancel) {
      stop = NCO_CANCELLED;
      snprintf(msg, sizeof msg, "interrupted at step %llu", (unsigned long long)r->t);
      break;
    }
    /* 6: the step */
    if ((st = do_step(r, &batch_loss))) goto fail;
    row_done = logged_t = 0;
    if (!is_full_batch(r)) {
      r->win_sum += batch_loss, r->win_n++;
      uint64_t ep = (r->samples - 1) / r->n; /* the epoch of this step's batch */
      if (ep != r->ep_cur) r->ep_cur = ep, r->ep_sum = 0, r->ep_n = 0;
      r->ep_sum += batch_loss, r->ep_n++;
    }
    /* prev holds x_t; after this, x_{t+1} */
    if (r->path_on) r->path_length += dist_copy(r->dim, nco_optim_x(o), r->prev);
    r->train_seconds = now_seconds() - t_start;
  }
  /* the last state always has its row, except when interrupted (the resumed
   * run then writes exactly the rows an uninterrupted one would) */
  if (stop != NCO_CANCELLED && !logged_t && (st = log_row(r, 1, batch_loss))) goto fail;
  if ((st = checkpoint_write(r))) goto fail;
  if (r->cfg.probe_every[NCO_PROBE_regularity] && stop != NCO_CANCELLED) {
    nco_problem_counters keep = r->pb->counters; /* summary.json counts the run's evaluations */
    int rst = regularity_replay(r, hooks);
    r->pb->counters = keep;
    if (rst == NCO_CANCELLED) {
      stop = NCO_CANCELLED;
      snprintf(msg, sizeof msg, "interrupted during the regularity replay (the run itself finished at step %llu)",
               (unsigned long long)r->t);
    } else if (rst < 0) {
      snprintf(r->reg_error, sizeof r->reg_error, "%s", nco_last_error());
    }
  }
  if ((st = write_outputs(r, stop, msg))) goto fail;
  if (r->reg_error[0]) {
    st = nco_error(NCO_ERR_NUMERIC, "probes.regularity: %s", r->reg_error);
    snprintf(msg, sizeof msg, "%s", nco_last_error());
    fill_result(r, st, msg, res);
    return st;
  }
  int dummy = 0;
  progress(r, hooks, batch_loss, 1, &dummy);
  fill_result(r, stop, msg, res);
  return stop;
fail:
  if (st == NCO_ERR_NONFINITE) {
    char detail[1024], ck[128];
    snprintf(detail, sizeof detail, "%s", nco_last_error());
    if (r->last_ckpt != UINT64_MAX)
      snprintf(ck, sizeof ck, "the last good checkpoint (step %llu) is kept", (unsigned long long)r->last_ckpt);
    else if (r->cfg.checkpoint_every == 0)
      snprintf(ck, sizeof ck, "no checkpoint was written (run.checkpoint_every = 0)");
    else
      snprintf(ck, sizeof ck, "it diverged before its first checkpoint");
    snprintf(msg, sizeof msg, "step %llu: non-finite loss or gradient (%.500s); %s", (unsigned long long)r->t, detail, ck);
    /* summary and parameters of the state where it happened, for inspection */
    (void)write_outputs(r, st, msg);
    nco_error(st, "%s", msg);
  } else {
    snprintf(msg, sizeof msg, "step %llu: %s", (unsigned long long)r->t, nco_last_error());
  }
  fill_result(r, st, msg, res);
  return st;
}

static int spec_text_of(const nco_config *cfg, char **out) {
  char *text = NULL;
  size_t len = 0;
  FILE *fp = open_memstream(&text, &len);
  if (!fp) return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  int st = nco_config_write(cfg, fp);
  fclose(fp);
  if (st) {
    free(text);
    return st;
  }
  *out = text;
  return NCO_OK;
}

int nco_run_write_spec(const nco_config *cfg, const char *dir) {
  char *text = NULL, path[4400];
  int st = spec_text_of(cfg, &text);
  if (st) return st;
  snprintf(path, sizeof path, "%s/spec.ini", dir);
  st = nco_write_file_atomic(path, text, strlen(text));
  free(text);
  return st;
}

int nco_run_check(const nco_config *cfg, nco_run_result *res) {
  int spec_error = 0, st;
  run *r = calloc(1, sizeof *r);
  if (res) memset(res, 0, sizeof *res);
  if (!r) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  r->cfg = *cfg;
  r->trace_fd = r->lock_fd = -1;
  st = run_setup(r, NULL, 0, &spec_error);
  if (st < 0 && res) {
    res->spec_error = spec_error;
    snprintf(res->message, sizeof res->message, "%s", nco_last_error());
  }
  run_free(r);
  return st;
}

static void remove_in(const char *dir, const char *name) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  unlink(path);
}

/* a single run's files, or a sweep's (its points' folders stay) */
static const char *const run_files[] = {"checkpoint.bin", "checkpoint.prev.bin", "summary.json", "params.npy", "aux.npy",
                                        "params.json", "loss.png", "loss.svg", "probes.png", "probes.svg", "trace.csv",
                                        "spec.ini", "probes_signed.png", "probes_signed.svg", "regularity.csv",
                                        "regularity.png", "regularity.svg", "misfit_distance.png", "misfit_distance.svg",
                                        "layers.png", "layers.svg", "test.png", "test.svg", "certificate.json",
                                        "points.txt", "sweep.csv", "sweep_loss.png", "sweep_loss.svg",
                                        "sweep_loss_unreg.png", "sweep_loss_unreg.svg"};

void nco_run_remove_outputs(const char *dir) {
  for (size_t i = 0; i < sizeof run_files / sizeof *run_files; i++) remove_in(dir, run_files[i]);
  nco_run_clean_tmp(dir);
}

int nco_run_dir_has_outputs(const char *dir, const char **what) {
  char path[4400];
  for (size_t i = 0; i < sizeof run_files / sizeof *run_files; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, run_files[i]);
    if (!access(path, F_OK)) {
      if (what) *what = run_files[i];
      return 1;
    }
  }
  return 0;
}

int nco_run_train(const nco_config *cfg, const char *out_dir, const nco_run_hooks *hooks, nco_run_result *res) {
  int st, spec_error = 0;
  run *r = calloc(1, sizeof *r);
  if (res) memset(res, 0, sizeof *res);
  if (!r) return nco_error(NCO_ERR_NOMEM, "run: out of memory");
  r->cfg = *cfg;
  r->trace_fd = r->lock_fd = -1;
  snprintf(r->dir, sizeof r->dir, "%s", out_dir);
  /* everything that can be wrong with the spec or the data is found
   * before the output folder is touched */
  if ((st = spec_text_of(cfg, &r->spec_text))) goto done;
  if ((st = run_setup(r, NULL, 0, &spec_error))) goto done;
  if ((st = nco_mkdirs(out_dir))) goto done;
  /* one writer per folder: a second process into the same folder is
   * refused before it touches anything */
  if ((st = nco_dir_lock(out_dir, &r->lock_fd))) goto done;
  /* a fresh run replaces an earlier run's files in this folder (the CLI
   * asks for --force first) */
  nco_run_remove_outputs(out_dir);
  char path[4200];
  snprintf(path, sizeof path, "%s/spec.ini", r->dir);
  if ((st = nco_write_file_atomic(path, r->spec_text, strlen(r->spec_text)))) goto done;
  buf_t h = {0};
  trace_header(r, &h);
  snprintf(path, sizeof path, "%s/trace.csv", r->dir);
  st = h.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : nco_write_file_atomic(path, h.p, h.n);
  free(h.p);
  if (st) goto done;
  if ((r->trace_fd = open(path, O_WRONLY | O_APPEND)) < 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    goto done;
  }
  st = loop(r, hooks, res, 0);
done:
  if (st < 0 && res) {
    res->spec_error = spec_error;
    if (!res->message[0]) snprintf(res->message, sizeof res->message, "%s", nco_last_error());
  }
  run_free(r);
  return st;
}

/* Keeps the header and the rows with iter ≤ t (a row cut by a kill is
 * dropped), atomically. The header must be the one this run writes (a
 * damaged or foreign trace.csv is not continued). */
static int trace_truncate(const char *path, uint64_t t, const char *header) {
  FILE *fp = fopen(path, "r");
  if (!fp) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  buf_t b = {0};
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int first = 1;
  while ((errno = 0, n = getline(&line, &cap, fp)) > 0) {
    if (line[n - 1] != '\n') break; /* incomplete last row */
    if (first) {
      if (strcmp(line, header)) {
        free(line), fclose(fp), free(b.p);
        return nco_error(NCO_ERR_FORMAT, "%s: its header is not this run's columns (%.*s): the trace was changed or "
                         "damaged, and is not continued", path, (int)strcspn(header, "\n"), header);
      }
      put(&b, line, (size_t)n);
      first = 0;
      continue;
    }
    char *end;
    unsigned long long it = strtoull(line, &end, 10);
    if (end == line || *end != ',') break;
    if (it > t) break;
    put(&b, line, (size_t)n);
  }
  /* getline's −1 is the end of the file or an error: no row may be
   * dropped for want of memory */
  int rerr = n < 0 && errno && !feof(fp) ? errno : 0;
  free(line);
  fclose(fp);
  if (rerr) {
    free(b.p);
    return (rerr == ENOMEM ? nco_error(NCO_ERR_NOMEM, "%s: out of memory while reading it", path) : nco_error(NCO_ERR_IO, "%s: cannot read: %s", path, strerror(rerr)));
  }
  if (first) {
    free(b.p);
    return nco_error(NCO_ERR_FORMAT, "%s: no header line", path);
  }
  int st = b.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : nco_write_file_atomic(path, b.p, b.n);
  free(b.p);
  return st;
}

/* The keys `ncopt resume DIR --set` may change: how long the run goes on,
 * when it stops, what it logs and checkpoints. Any other key would make the
 * continued run another experiment than the one checkpointed. */
static const char *const resume_keys[] = {"iterations", "epochs", "max_seconds", "target_loss", "grad_tol", "log_every",
                                          "full_loss_every", "checkpoint_every", "checkpoint_seconds"};

static int resume_sets(nco_spec *spec, const char *const *sets, size_t nsets) {
  for (size_t i = 0; i < nsets; i++) {
    const char *eq = strchr(sets[i], '='), *dot = strchr(sets[i], '.');
    int ok = 0;
    if (eq && dot && dot < eq && !strncmp(sets[i], "run.", 4))
      for (size_t k = 0; k < sizeof resume_keys / sizeof *resume_keys; k++)
        ok |= (size_t)(eq - dot - 1) == strlen(resume_keys[k]) && !strncmp(dot + 1, resume_keys[k], strlen(resume_keys[k]));
    if (!ok)
      return nco_error(NCO_ERR_INVALID, "--set:%zu: %.*s: resume can change only run.iterations, run.epochs, "
                       "run.max_seconds, run.target_loss, run.grad_tol, run.log_every, run.full_loss_every, "
                       "run.checkpoint_every, run.checkpoint_seconds (anything else would make it another run: "
                       "train a new one)", i + 1, (int)(eq ? (size_t)(eq - sets[i]) : strlen(sets[i])), sets[i]);
    int st = nco_spec_set(spec, sets[i]);
    if (st) return st;
  }
  /* a length given replaces the other kind of length */
  for (size_t i = 0; i < nsets; i++) {
    if (!strncmp(sets[i], "run.epochs=", 11)) nco_spec_set(spec, "run.iterations=0");
    if (!strncmp(sets[i], "run.iterations=", 15)) nco_spec_set(spec, "run.epochs=0");
  }
  return NCO_OK;
}

int nco_run_resume(const char *dir, const nco_run_hooks *hooks, nco_run_result *res) {
  return nco_run_resume_with(dir, NULL, 0, hooks, res);
}

int nco_run_resume_with(const char *dir, const char *const *sets, size_t nsets, const nco_run_hooks *hooks,
                        nco_run_result *res) {
  int st, spec_error = 0;
  ckpt c;
  char path[4200], prev[4200];
  if (res) memset(res, 0, sizeof *res);
  struct stat sb;
  if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) return nco_error(NCO_ERR_IO, "%s: no such run folder", dir);
  snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
  snprintf(prev, sizeof prev, "%s/checkpoint.prev.bin", dir);
  char first_err[1024] = "";
  const char *used = path;
  if ((st = checkpoint_read(path, &c))) {
    if (st == NCO_ERR_NOMEM) return st; /* the checkpoint may be fine: no fallback */
    snprintf(first_err, sizeof first_err, "%s", nco_last_error());
    if ((st = checkpoint_read(prev, &c))) {
      if (access(path, F_OK) && access(prev, F_OK))
        return nco_error(NCO_ERR_IO, "%s: no checkpoint to resume from (run.checkpoint_every writes them; a finished or "
                         "interrupted run always has one)", dir);
      char second[1024];
      snprintf(second, sizeof second, "%s", nco_last_error());
      return nco_error(st, "%s: no usable checkpoint: %.500s; %.500s", dir, first_err, second);
    }
    used = prev;
    if (res)
      snprintf(res->notice, sizeof res->notice, "%.500s; resuming from %.400s (step %llu)", first_err, prev,
               (unsigned long long)c.t);
  }
  run *r = calloc(1, sizeof *r);
  nco_spec *spec = NULL;
  if (!r) {
    ckpt_free(&c);
    return nco_error(NCO_ERR_NOMEM, "resume: out of memory");
  }
  r->trace_fd = r->lock_fd = -1;
  snprintf(r->dir, sizeof r->dir, "%s", dir);
  if ((st = nco_dir_lock(dir, &r->lock_fd))) goto done;
  char name[4300];
  snprintf(name, sizeof name, "%s (its spec)", used);
  if ((st = nco_spec_parse_string(c.spec_text, name, "/", &spec))) goto done;
  if ((st = resume_sets(spec, sets, nsets))) {
    spec_error = 1;
    goto done;
  }
  if ((st = nco_config_from_spec(spec, &r->cfg))) {
    spec_error = nsets > 0;
    goto done;
  }
  if (nsets) {
    /* the continued run's resolved spec: checkpoints and spec.ini */
    if ((st = spec_text_of(&r->cfg, &r->spec_text))) goto done;
  } else {
    r->spec_text = c.spec_text;
    c.spec_text = NULL;
  }
  if ((st = run_setup(r, c.theta0, c.dim, &spec_error))) goto done;
  if (r->total < c.t) {
    spec_error = nsets > 0;
    st = nco_error(NCO_ERR_RANGE, "%s%s: the run would be %llu steps long, it is already at step %llu", nsets ? "--set: " : "",
                   used, (unsigned long long)r->total, (unsigned long long)c.t);
    goto done;
  }
  if (r->n != c.n) {
    st = nco_error(NCO_ERR_FORMAT, "%s: checkpoint does not match its spec (dim %zu vs %llu, n %zu vs %llu)", used, r->dim,
                   (unsigned long long)c.dim, r->n, (unsigned long long)c.n);
    goto done;
  }
  if ((st = ckpt_validate(&c, r, used))) goto done;
  if (c.data_crc != r->data_crc) {
    st = nco_error(NCO_ERR_STATE, "%s: the data files changed since the run was checkpointed (%s): the continued run "
                   "would not be the run that was started; train a new one", used, r->data_files);
    goto done;
  }
  if ((st = nco_optim_load(r->o, c.optim, c.optim_len))) goto done;
  r->t = c.t, r->samples = c.samples, r->pos = c.pos;
  memcpy(r->perm, c.perm, r->n * sizeof *r->perm);
  memcpy(r->gfull, c.gfull, r->dim * sizeof *r->gfull);
  r->batch_rng = c.batch_rng;
  r->path_length = c.path_length, r->best_loss = c.best_loss, r->train_seconds = c.train_seconds;
  r->last_loss = c.last_loss, r->best_iter = c.best_iter, r->cur_loss = c.cur_loss;
  r->win_sum = c.win_sum, r->win_n = c.win_n;
  r->have_loss = (int)(c.flags & 1), r->have_grad = (int)(c.flags >> 1 & 1), r->optim_converged = (int)(c.flags >> 2 & 1);
  r->pb->counters = c.counters;
  r->last_ckpt = c.t;
  if (r->net) nco_nn_set_step(r->pb, r->t);
  nco_run_clean_tmp(dir);
  if (nsets && (st = nco_write_file_atomic_in(dir, "spec.ini", r->spec_text))) goto done;
  snprintf(path, sizeof path, "%s/trace.csv", dir);
  buf_t h = {0};
  trace_header(r, &h);
  put(&h, "", 1); /* NUL */
  st = h.oom ? nco_error(NCO_ERR_NOMEM, "trace: out of memory") : trace_truncate(path, r->t, (const char *)h.p);
  free(h.p);
  if (st) goto done;
  if ((r->trace_fd = open(path, O_WRONLY | O_APPEND)) < 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot open for appending: %s", path, strerror(errno));
    goto done;
  }
  st = loop(r, hooks, res, 1);
done:
  if (st < 0 && res) {
    res->spec_error = spec_error;
    if (!res->message[0]) snprintf(res->message, sizeof res->message, "%s", nco_last_error());
  }
  nco_spec_free(spec);
  ckpt_free(&c);
  run_free(r);
  return st;
}
