/* src/run/run_state.h — the state of one run and what the files of the run
 * loop share (private to src/run/: run.c the loop; setup.c the run's
 * setup; trace.c the trace's rows; probes.c the probe registry and the
 * probes' values; resume.c resume; checkpoint.c the checkpoint format;
 * summary.c summary.json and the final outputs; replay.c the regularity
 * replay; files.c the output sink, atomic files, locks and the run folder;
 * buf.c byte buffers and the shortest number text). */
#ifndef NCO_RUN_STATE_H
#define NCO_RUN_STATE_H

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

/* internal to the library: not exported by libncopt.so */
#define NCO_HIDDEN __attribute__((visibility("hidden")))

/* growable byte buffer */
typedef struct {
  unsigned char *p;
  size_t n, cap;
  int oom;
} buf_t;

/* A trace column after batch_loss: a probe, one layer's distance, or a
 * test-set metric. */
enum { COL_PROBE = 0, COL_LAYER, COL_TEST_LOSS, COL_TEST_ACC, COL_GROUP_LR, COL_GROUP_GRAD, COL_TOPK };
typedef struct column {
  char name[80];
  int kind;
  int probe;        /* COL_PROBE: the nco_probe_id */
  size_t layer;     /* COL_LAYER: index into layers; COL_GROUP_*: into grp */
  int64_t every;    /* 0 off, NCO_PROBE_AT_LOG, or K */
} column;

#define MAX_LAYERS 64

/* A parameter group of the run (groups.c): the slice [off, off + len) of θ
 * stepped by its own optimiser on its objective (a block of the problem
 * over run.theta), `steps` times per round, at lr_g(t) = the schedule with
 * base value the group's lr. */
typedef struct group {
  char name[32];
  size_t off, len;
  nco_problem *obj;           /* nco_problem_block of pb over run.theta */
  nco_optim *o;
  nco_schedule sched;
  uint64_t steps;
  nco_regularity reg;         /* probes.regularity: the group's γ (replay.c) */
  size_t reg_skipped;
} group;

typedef struct run {
  nco_config cfg;
  char dir[4096];
  char *spec_text;            /* resolved spec (INI) */
  nco_problem *pb;
  nco_problem *test;          /* networks: the held-out set (run.eval_every), or NULL */
  nco_optim *o;               /* the optimiser (NULL with parameter groups: grp[]) */
  size_t ng;                  /* parameter groups ([group.NAME]); 0: one, all of θ, with o */
  group grp[NCO_MAX_GROUPS];
  float *theta, *theta_out;   /* with groups: θ_t (the groups' iterates, the rest θ_0) and the output point */
  size_t ns;                  /* the problem's non-trainable state (batch-norm statistics): entries, 0 none */
  float *state0, *state;      /* [ns] its value when the run started (the replay's start), scratch */
  uint64_t stamp0;
  size_t dim, dim_x;          /* all parameters; the x part (invex: without p) */
  size_t n, batch;
  uint64_t total;             /* steps planned */
  int fused;                  /* the step's evaluation is the full-batch one at x_t */
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
  size_t *probe_idx, probe_nb; /* the Lanczos probes' samples (lanczos.batch; NULL: all n) */
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
  uint64_t hess_t, jac_t, test_t, layer_t, d0_t, trace_t;
  double hess_hi, hess_lo, jac_hi, jac_lo, test_loss, test_acc, d0, trace_v, trace_se;
  double layer_rel[MAX_LAYERS], layer_norm0[MAX_LAYERS];
  double topk[NCO_DIAG_MAXK];   /* hess_topk of step topk_t, descending */
  uint64_t topk_t;
  double upd2[MAX_LAYERS + 1];  /* update_ratio: ‖Δθ_l‖² of the last step per layer, then the rest's */
  double lparam2[MAX_LAYERS + 1], lgrad2[MAX_LAYERS + 1]; /* ‖θ_l‖², ‖∇_l f‖² of step lparam_t, lgrad_t */
  uint64_t lparam_t, lgrad_t;
  int upd_on;
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
  buf_t row;                  /* trace rows not yet written (whole rows; flushed by rs_trace_flush) */
  double flush_wall;          /* when the rows were last written */
  double lr_val;              /* the lr last formatted, and its text (a constant schedule formats once) */
  char lr_text[40];
  int trace_fd;
  int lock_fd;                /* flock on DIR/.ncopt.lock while the run writes there (-1: none) */
  uint32_t data_crc;          /* fingerprint of the data files the run reads (checkpointed) */
  char data_files[1024];      /* their names, for messages */
} run;

/* A checkpoint as read (checkpoint.c). */
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
  uint64_t ns, stamp;         /* version 5: the problem's state and its last update */
  float *state;
} ckpt;

/* buf.c */
NCO_HIDDEN void rs_put(buf_t *b, const void *data, size_t len);
NCO_HIDDEN void rs_put_u64(buf_t *b, uint64_t v);
NCO_HIDDEN void rs_put_f64(buf_t *b, double v);
NCO_HIDDEN void rs_putf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* the shortest text that reads back to the same double */
NCO_HIDDEN void rs_fmt_num(char t[40], double v);
NCO_HIDDEN void rs_put_num(buf_t *b, double v);
NCO_HIDDEN double rs_now(void);
/* files.c: atomic files and the output sink (every file of a run goes
 * through rs_out_* / rs_trace_*) */
NCO_HIDDEN int rs_write_tmp(const char *path, const void *data, size_t len, char *tmp, size_t cap);
NCO_HIDDEN int rs_out_file(const run *r, const char *name, const void *data, size_t len);
NCO_HIDDEN int rs_out_npy_f32(const run *r, const char *name, const float *x, size_t n);
NCO_HIDDEN int rs_out_layer_map(const run *r, const char *name);
NCO_HIDDEN int rs_out_plots(const run *r);
NCO_HIDDEN int rs_out_checkpoint(const run *r, const void *data, size_t len);
NCO_HIDDEN int rs_trace_open(run *r);
NCO_HIDDEN int rs_trace_flush(run *r);
/* setup.c */
NCO_HIDDEN run *rs_run_new(const nco_config *cfg);
NCO_HIDDEN void rs_run_free(run *r);
NCO_HIDDEN int rs_run_setup(run *r, const float *x0, size_t x0_len, int *spec_error);
NCO_HIDDEN int rs_is_full_batch(const run *r);
NCO_HIDDEN int rs_state_init(run *r);
NCO_HIDDEN int rs_data_fingerprint(run *r);
NCO_HIDDEN int rs_spec_text(const nco_config *cfg, char **out);
NCO_HIDDEN void rs_result_error(nco_run_result *res, int st, int spec_error);
/* run.c: the loop */
NCO_HIDDEN int rs_loop(run *r, const nco_run_hooks *hooks, nco_run_result *res, int row_done);
NCO_HIDDEN int rs_do_step(run *r, double *batch_loss);
/* trace.c */
NCO_HIDDEN int rs_row_due(const run *r, uint64_t t);
NCO_HIDDEN void rs_trace_header(const run *r, buf_t *b);
NCO_HIDDEN int rs_log_row(run *r, int forced, double batch_loss);
NCO_HIDDEN int rs_full_eval(run *r, int want_grad);
NCO_HIDDEN int rs_full_data_mode(run *r, int enter);
NCO_HIDDEN const float *rs_landscape_grad(run *r, const float *x);
/* probes.c: the probe registry (NCO_PROBE_TABLE) as the run uses it */
NCO_HIDDEN unsigned rs_probe_needs(int p);
NCO_HIDDEN int rs_probe_has_column(int p);
NCO_HIDDEN int rs_probes_need(const run *r, unsigned what);
NCO_HIDDEN int rs_probes_check(const run *r);
NCO_HIDDEN int rs_probe_value(run *r, const column *c, const float *x, double *v);
NCO_HIDDEN int rs_test_state(run *r);
NCO_HIDDEN void rs_layer_updates(run *r);
NCO_HIDDEN double rs_dist_fast(size_t n, const float *x, const float *y);
NCO_HIDDEN double rs_dist_copy(size_t n, const float *x, float *prev);
/* checkpoint.c */
NCO_HIDDEN int rs_checkpoint_write(run *r);
NCO_HIDDEN int rs_checkpoint_read(const char *path, ckpt *c);
NCO_HIDDEN int rs_ckpt_validate(const ckpt *c, const run *r, const char *path);
NCO_HIDDEN void rs_ckpt_free(ckpt *c);
/* summary.c */
NCO_HIDDEN int rs_write_outputs(run *r, int stop, const char *message);
/* replay.c */
NCO_HIDDEN int rs_regularity_replay(run *r, const nco_run_hooks *hooks);

/* run.c */
NCO_HIDDEN size_t rs_next_batch(run *r);
NCO_HIDDEN int rs_fused_eval(run *r);

/* groups.c: parameter groups */
NCO_HIDDEN int rs_groups_resolve(run *r, int *spec_error);
NCO_HIDDEN int rs_groups_init(run *r, nco_rng *seeds);
NCO_HIDDEN void rs_groups_free(run *r);
NCO_HIDDEN int rs_groups_step(run *r, double *batch_loss);
NCO_HIDDEN const float *rs_x(const run *r);
NCO_HIDDEN const float *rs_output(run *r);
NCO_HIDDEN double rs_lr(const run *r, size_t g, uint64_t t);
NCO_HIDDEN size_t rs_optim_state_size(const run *r);
NCO_HIDDEN int rs_optim_save(const run *r, unsigned char *buf, size_t len);
NCO_HIDDEN int rs_optim_load(run *r, const unsigned char *buf, size_t len);

#endif
