/* ncopt/config.h — typed, validated experiment settings resolved from a
 * spec (spec.h), and the experiment they describe (data → problem →
 * regulariser wrapper → optimiser).
 *
 * One table (src/run/config.c) lists every key: its section, type,
 * default, range, the problem or optimiser types it applies to, and a help
 * line. Parsing, range checks, "did you mean", `ncopt show` (the resolved
 * spec with defaults filled) and `ncopt list` are all driven by that table.
 * Errors read "FILE:LINE: section.key: what is wrong".
 */
#ifndef NCOPT_CONFIG_H
#define NCOPT_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "ncopt/optim.h"
#include "ncopt/problem.h"
#include "ncopt/problems.h"
#include "ncopt/spec.h"
#include "ncopt/spectra.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NCO_PATH_MAX 1024
#define NCO_CONFIG_MAX_KEYS 192
#define NCO_NN_MAX_WIDTHS 16
#define NCO_NET_MAX_LINES 128

/* One line of a [network] section (problem.type = network), kept in the
 * config (which is copied by value) so that the run rebuilds the graph. */
/* A parameter group ([group.NAME] sections, in file order): a slice of θ
 * with its own optimiser, stepped `steps` times per round in the declared
 * order (the run's step t is one round); see docs/SPEC.md "[group.NAME]". */
#define NCO_MAX_GROUPS 8
typedef struct nco_group_config {
  char name[32];
  char params[256];            /* the parameters: the problem's slice names and/or index ranges A:B, comma-separated */
  const nco_optim_type *optim; /* the method (default: the [optimizer] section's) */
  nco_optim_params hp;         /* its hyper-parameters: the [optimizer] section's, overridden by the group's keys */
  uint64_t steps;              /* optimiser steps per round, ≥ 1 */
  int line;                    /* the section's line in the spec (messages) */
} nco_group_config;

typedef struct nco_net_line {
  char key[48];
  char value[200];
  int line;
} nco_net_line;

typedef enum nco_sampling { NCO_SAMPLE_RESHUFFLE = 0, NCO_SAMPLE_REPLACEMENT, NCO_SAMPLE_CYCLIC } nco_sampling;
typedef enum nco_reg_kind { NCO_REG_NONE = 0, NCO_REG_L2, NCO_REG_INVEX } nco_reg_kind;

/* Probes: recorded as trace columns. every = 0 off; NCO_PROBE_AT_LOG (=-1
 * in the spec as `true`) at every logged step; K > 0 every K steps.
 * hess_max/hess_min (and jac_smax/jac_smin) share one Lanczos call per
 * row; `distance` adds per-layer columns distance.<layer> for networks;
 * `regularity` writes no trace column: it replays the run after it ends
 * and writes γ_k to regularity.csv (every K steps), γ to summary.json.
 *
 * The probe registry: every probe is one row of NCO_PROBE_TABLE
 *   P(X, name, needs, columns, cost, applies, help)
 * needs    what its value needs (NCO_PROBE_NEEDS_* bits below),
 * columns  the trace columns it writes ("" none),
 * cost     its cost per row, in evaluations,
 * applies  which problems it applies to,
 * help     one line, with the paper and equation;
 * the library's value function of each probe is pv_<name> in
 * src/run/probes.c (a row without one does not compile). nco_probe_info
 * reads the table; NCO_PROBE_LIST(X) gives X(name, help) of every row. */
enum {
  NCO_PROBE_NEEDS_LOSS = 1u << 0,     /* the full-batch loss f(x_t) */
  NCO_PROBE_NEEDS_GRAD = 1u << 1,     /* the full-batch gradient ∇f(x_t) (Riemannian on the sphere) */
  NCO_PROBE_NEEDS_HVP = 1u << 2,      /* Hessian-vector products (Lanczos) */
  NCO_PROBE_NEEDS_JACOBIAN = 1u << 3, /* least-squares residuals: JVP and VJP (Golub–Kahan–Lanczos) */
  NCO_PROBE_NEEDS_X_STAR = 1u << 4,   /* a known minimiser, run.x_star */
  NCO_PROBE_NEEDS_F_STAR = 1u << 5,   /* a lower bound of the loss, run.f_star */
  NCO_PROBE_NEEDS_REPLAY = 1u << 6,   /* a replay of the run after it ends */
  NCO_PROBE_NEEDS_PATH = 1u << 7,     /* the path length, accumulated at every step (one pass over θ) */
  NCO_PROBE_NEEDS_GROUPS = 1u << 8,   /* the problem's parameter groups (a network's layers) */
  NCO_PROBE_NEEDS_TEST = 1u << 9      /* the held-out set (run.eval_every); no probe needs it yet */
};
#define NCO_PN_(w) NCO_PROBE_NEEDS_##w
#define NCO_PROBE_TABLE(P, X)                                                                                       \
  P(X, grad_norm, NCO_PN_(LOSS) | NCO_PN_(GRAD), "grad_norm", "1 gradient (none where the step evaluates at x_t)",  \
    "all (Riemannian on the sphere)", "‖∇f(θ_t)‖, the full-batch gradient norm")                                  \
  P(X, dist_init, 0, "dist_init", "none (one pass over θ)", "all", "‖θ_t − θ_0‖")                                 \
  P(X, path_length, NCO_PN_(PATH), "path_length", "none (one pass over θ per step)", "all",                        \
    "Σ_s ‖θ_{s+1} − θ_s‖")                                                                                         \
  P(X, loss_unreg, NCO_PN_(LOSS), "loss_unreg", "1 loss (regularised runs; none otherwise)", "all",                 \
    "the non-regularised full-batch f(x_t) (regularised runs)")                                                    \
  P(X, pl_ratio, NCO_PN_(LOSS) | NCO_PN_(GRAD) | NCO_PN_(F_STAR), "pl_ratio", "1 gradient",                         \
    "all (Riemannian on the sphere)",                                                                              \
    "‖∇f‖²/(2(f − f*)), f* = run.f_star (Ma eq. 2.1; invex: ≥ λ², Crane & Roosta Thm 2)")                          \
  P(X, quasi_convexity, NCO_PN_(LOSS) | NCO_PN_(GRAD) | NCO_PN_(F_STAR) | NCO_PN_(X_STAR), "quasi_convexity",       \
    "1 gradient", "all (needs run.x_star)", "⟨∇f, θ − x*⟩/(f − f*), x* = run.x_star (Ma eq. 2.2)")                 \
  P(X, rsi, NCO_PN_(LOSS) | NCO_PN_(GRAD) | NCO_PN_(X_STAR), "rsi", "1 gradient", "all (needs run.x_star)",          \
    "⟨∇f, θ − x*⟩/‖θ − x*‖², x* = run.x_star (Ma eq. 2.3)")                                                        \
  P(X, hess_max, NCO_PN_(HVP), "hess_max", "lanczos.iter HVPs (shared with hess_min)",                              \
    "all (Riemannian on the sphere)", "largest Hessian eigenvalue (Lanczos, [lanczos] keys; Riemannian on the sphere)") \
  P(X, hess_min, NCO_PN_(HVP), "hess_min", "lanczos.iter HVPs (shared with hess_max)",                              \
    "all (Riemannian on the sphere)", "smallest Hessian eigenvalue (the same Lanczos call as hess_max)")             \
  P(X, jac_smax, NCO_PN_(JACOBIAN), "jac_smax", "lanczos.iter JVPs + lanczos.iter VJPs (shared with jac_smin)",     \
    "least squares", "σ_max(J) of the residual's Jacobian (least squares; Golub–Kahan–Lanczos)")                   \
  P(X, jac_smin, NCO_PN_(JACOBIAN), "jac_smin", "lanczos.iter JVPs + lanczos.iter VJPs (shared with jac_smax)",     \
    "least squares", "σ_min(J), the smallest of min(N, d) singular values (least squares)")                        \
  P(X, misfit, NCO_PN_(LOSS) | NCO_PN_(JACOBIAN) | NCO_PN_(PATH), "misfit",                                         \
    "none (from the row's loss; ℓ2 with reduction = mean: 1 residual)", "least squares",                           \
    "‖r_t‖/‖r_0‖, r = f(θ) − y of the optimised least-squares problem (Oymak & Soltanolkotabi §5)")                \
  P(X, distance, NCO_PN_(PATH) | NCO_PN_(GROUPS), "distance, distance.<layer> (networks)",                          \
    "none (one pass over θ)", "all (per layer: networks)",                                                         \
    "‖θ_t − θ_0‖/‖θ_0‖; networks also distance.<layer> per layer (Oymak & Soltanolkotabi Fig. 2)")                 \
  P(X, regularity, NCO_PN_(REPLAY), "", "the run's steps again, after it ends (1 replay)", "all",                  \
    "Chen, Yang & Zhou's γ_k by a replay after the run: regularity.csv, γ in summary.json")                         \
  P(X, hess_trace, NCO_PN_(HVP), "hess_trace", "lanczos.trace_samples HVPs (shared with hess_trace_se)",           \
    "all (Riemannian on the sphere)",                                                                              \
    "tr ∇²f by Hutchinson's estimator, lanczos.trace_samples Rademacher probes (PyHessian's trace)")                \
  P(X, hess_trace_se, NCO_PN_(HVP), "hess_trace_se", "none beyond hess_trace's (the same probes)",                 \
    "all (Riemannian on the sphere)", "the standard error of hess_trace's estimate, sd(zᵀHz)/√m")                  \
  P(X, hess_topk, NCO_PN_(HVP), "hess_topk, hess_topk.2 … hess_topk.<k>",                                         \
    "lanczos.iter HVPs (one Lanczos run)", "all (Riemannian on the sphere)",                                       \
    "the lanczos.topk largest Hessian eigenvalues, descending (Lanczos Ritz values; PyHessian's top-k)")           \
  P(X, param_norm, NCO_PN_(GROUPS), "param_norm, param_norm.<layer> (networks)", "none (one pass over θ)",          \
    "all (per layer: networks)", "‖θ_t‖; networks also per layer (Cockpit's parameter norms)")                     \
  P(X, layer_grad, NCO_PN_(LOSS) | NCO_PN_(GRAD) | NCO_PN_(GROUPS), "layer_grad, layer_grad.<layer> (networks)",   \
    "1 gradient (the row's, shared with grad_norm)", "all (per layer: networks)",                                 \
    "‖∇f(θ_t)‖ and per layer ‖∇_l f‖ of the full-batch gradient (Cockpit's per-layer gradient norms)")             \
  P(X, update_ratio, NCO_PN_(PATH) | NCO_PN_(GROUPS), "update_ratio, update_ratio.<layer> (networks)",             \
    "one pass over θ per step", "all (per layer: networks)",                                                       \
    "‖θ_t − θ_{t−1}‖/‖θ_t‖ of the last step; networks also per layer ‖Δθ_l‖/‖θ_l‖ (Cockpit's update size)")

/* X(name, help) of every probe */
#define NCO_PROBE_NAME_HELP_(X, name, needs, columns, cost, applies, help) X(name, help)
#define NCO_PROBE_LIST(X) NCO_PROBE_TABLE(NCO_PROBE_NAME_HELP_, X)

typedef enum nco_probe_id {
#define NCO_X_PROBE(name, help) NCO_PROBE_##name,
  NCO_PROBE_LIST(NCO_X_PROBE)
#undef NCO_X_PROBE
      NCO_PROBE_COUNT
} nco_probe_id;

#define NCO_PROBE_AT_LOG ((int64_t)-1)

/* Values of the [run] *_every keys besides a step count K (and 0, off):
 * `auto` (the run picks K from its length and cost, see docs/SPEC.md) and
 * `epoch` (every ⌈n/batch⌉ steps). */
#define NCO_EVERY_AUTO UINT64_MAX
#define NCO_EVERY_EPOCH (UINT64_MAX - 1)

typedef struct nco_config {
  /* [data] */
  char data_source[32];           /* synthetic | npy | idx | csv | fashion-mnist | mnist */
  uint64_t data_seed;             /* synthetic generator seed; random subsets and splits */
  size_t data_n, data_d, data_rank, data_k, data_n1, data_n2;
  double data_noise, data_gap, data_p;
  int data_binary;
  char data_features[NCO_PATH_MAX], data_targets[NCO_PATH_MAX], data_matrix[NCO_PATH_MAX],
      data_entries[NCO_PATH_MAX], data_components[NCO_PATH_MAX], data_v[NCO_PATH_MAX];
  /* networks' data (source = npy | idx | csv | fashion-mnist | mnist) */
  char data_images[NCO_PATH_MAX], data_labels[NCO_PATH_MAX], data_test_images[NCO_PATH_MAX],
      data_test_labels[NCO_PATH_MAX], data_path[NCO_PATH_MAX], data_test_path[NCO_PATH_MAX];
  char data_label[64];            /* csv: label column */
  size_t data_subset;             /* training samples kept (0: all) */
  int data_subset_order;          /* 0 random, 1 first */
  double data_test_fraction;      /* held out of the loaded training data */
  size_t data_test_subset;        /* test samples kept (0: all) */
  int data_scale;                 /* 0 auto, 1 none, 2 unit, 3 standardize */
  size_t data_downsample;         /* images resized to S×S (0: as they are) */
  size_t data_classes;            /* 0: inferred from the labels */
  int data_target;                /* 0 labels, 1 input (reconstruction), 2 noisy_input (denoising) */
  double data_target_noise;       /* noisy_input: σ of the Gaussian noise added to the inputs */
  /* [problem] */
  char problem_type[32];          /* linear_ls | glm | lowrank | pca | matcomp | matcomp_asym | tensor | shallow | mlp | lenet */
  nco_act act;                    /* activation, slope, mix */
  size_t problem_rank, problem_k;
  double problem_p;
  nco_reduction reduction;
  char widths_text[256];          /* mlp: "256, 256" */
  /* resnet | vgg | unet (Chen, Yang & Zhou §III–IV): the spec's text and its parsed values */
  char channels_text[128], blocks_text[128], convs_text[128], skips_text[32], bn_text[16];
  size_t channels[8], nchannels, blocks[8], nblocks, convs[8], nconvs, depth;
  int skips;                      /* resnet: nco_nn_resnet_skips; unet: −1 all or K */
  int bn;                         /* resnet, unet: 0/1; vgg: nco_nn_vgg_bn */
  size_t widths[NCO_NN_MAX_WIDTHS], nwidths;
  int nn_loss;                    /* 0 cross_entropy, 1 least_squares */
  int nn_init;                    /* 0 default (PyTorch), 1 xavier, 2 kaiming_normal, 3 normal */
  double init_sigma, dropout;
  nco_net_line net[NCO_NET_MAX_LINES]; /* problem.type = network: the [network] lines in file order */
  size_t nnet;
  /* [regularizer] */
  nco_reg_kind reg;
  double reg_lambda;
  /* [optimizer] */
  const nco_optim_type *optim;
  nco_optim_params hp;
  size_t batch;                   /* 0 = full batch */
  nco_sampling sampling;
  int drop_last;                  /* 1: an epoch's last partial minibatch is skipped (torch's drop_last) */
  /* [schedule] */
  nco_schedule sched;
  /* [group.NAME]: 0 = one group, all of θ with [optimizer] (every run
   * before parameter groups existed, bit for bit) */
  nco_group_config group[NCO_MAX_GROUPS];
  size_t ngroups;
  /* [run] */
  uint64_t iterations, epochs;    /* exactly one > 0 */
  uint64_t seed;
  char init[NCO_PATH_MAX];        /* .npy starting point or "" */
  uint64_t log_every, checkpoint_every; /* K steps, NCO_EVERY_EPOCH or NCO_EVERY_AUTO (resolved by the run) */
  uint64_t full_loss_every;       /* minibatch runs: the full-data loss column (0 never) */
  double checkpoint_seconds;      /* checkpoint_every = auto: seconds between checkpoints */
  double target_loss, grad_tol, max_seconds;
  double f_star;                  /* f* of pl_ratio and quasi_convexity */
  char x_star[NCO_PATH_MAX];      /* .npy minimiser x* of quasi_convexity and rsi */
  double inf_loss;                /* inf ℓ of the regularity probe */
  uint64_t eval_every;            /* networks: test_loss, test_acc every K steps (0: off) */
  /* [lanczos] (hess_*, jac_* probes, ncopt probe hessian, ncopt certify) */
  size_t lz_max_iter;
  double lz_tol;
  int lz_reorth;
  uint64_t lz_seed;
  size_t lz_trace_samples;        /* hess_trace: Hutchinson's probes per row */
  size_t lz_topk;                 /* hess_topk: how many of the largest eigenvalues */
  size_t lz_batch;                /* Hessian / Jacobian probes on this many fixed samples (0: all) */
  /* [probes] */
  int64_t probe_every[NCO_PROBE_COUNT];
  /* where the spec came from, and where each key was set (for errors
   * found after resolution, e.g. a batch larger than the data) */
  char spec_dir[NCO_PATH_MAX];
  char spec_path[NCO_PATH_MAX];
  int spec_nlines;
  int key_line[NCO_CONFIG_MAX_KEYS];  /* > 0 line in spec_path, < 0 the K-th --set, 0 unset */
  int section_line[12];                /* [section] header lines */
  /* keys of the spec dropped under NCO_CONFIG_LENIENT_TYPES because they
   * do not apply to the chosen types: "optimizer.betas, optimizer.amsgrad" */
  char ignored[512];
} nco_config;

/* Resolves and validates a spec into cfg (every error located). Marks the
 * entries it consumed; any entry left is an unknown key (with a "did you
 * mean" suggestion) or does not apply to the chosen types.
 *
 * Every independent error of the spec (unknown sections and keys, values
 * that do not parse, are out of range or do not apply, missing files) is
 * reported in one pass: the status is the first one's, the message holds
 * them all, one a line, in file order (then the --set overrides), each
 * "FILE:LINE: section.key: what is wrong". An error in a type key
 * (problem.type, optimizer.type, schedule.type, data.source) stops the
 * pass; so do errors in combinations of valid values.
 *
 * Names: torch.optim's argument names are the keys (`betas = 0.9, 0.999`,
 * `weight_decay`, ...); aliases (beta1/beta2 for betas, batch_size for
 * batch) are rows of the key table, and setting a key under two names is
 * an error. Booleans also read Python's True/False. */
int nco_config_from_spec(nco_spec *spec, nco_config *cfg);

/* Flags of nco_config_from_spec_flags. */
#define NCO_CONFIG_LENIENT_TYPES 1u /* keys that do not apply to the chosen types are dropped and
                                       listed in cfg->ignored (e.g. --set optimizer.type=sgd on an
                                       adam spec), not errors */
#define NCO_CONFIG_NO_LENGTH 2u     /* run.iterations / run.epochs not required (eval, probe, certify) */

/* nco_config_from_spec with flags (nco_config_from_spec = flags 0). */
int nco_config_from_spec_flags(nco_spec *spec, nco_config *cfg, unsigned flags);

/* Resolves what needs the run's length, once the data are built (the run
 * calls it before creating the optimiser): schedule.T = auto becomes the
 * planned steps (unit = step) or epochs ⌈planned/steps_per_epoch⌉ (unit =
 * epoch); the schedule learns steps_per_epoch (≥ 1). Validates the
 * schedule. */
int nco_config_resolve_schedule(nco_config *cfg, uint64_t planned_steps, uint64_t steps_per_epoch);

/* "FILE:LINE" where section.key was set (or its section header, or the
 * spec's last line if it was not set), for errors found while building
 * the experiment: "FILE:LINE: section.key: what is wrong". */
const char *nco_config_where(const nco_config *cfg, const char *section, const char *key, char *buf, size_t len);

/* Writes the fully resolved spec (every applicable key, defaults filled)
 * as INI text that nco_config_from_spec reads back to the same config. */
int nco_config_write(const nco_config *cfg, FILE *fp);

/* Lists, one line each with its keys: what = "problems", "optimizers",
 * "schedules", "regularizers", "probes"; NULL for all of them. "keys"
 * prints the key table as the Markdown reference of docs/SPEC.md. */
int nco_config_list(const char *what, FILE *fp);

/* Builds the experiment a config describes: data (generated or read),
 * the problem, its regulariser wrapper. *pb is the problem to optimise. */
int nco_config_build_problem(const nco_config *cfg, nco_problem **pb);
/* The same, and for networks with a held-out set (run.eval_every > 0, or
 * want_test) the problem on the test samples (same model, same loss) in
 * *test (test may be NULL); *test is NULL otherwise. *spec_error (may be
 * NULL) is set when the error is in the spec's values, found only once
 * the data are read (a subset larger than the data, downsampling flat
 * features): "FILE:LINE: section.key: what is wrong". */
int nco_config_build_problems(const nco_config *cfg, int want_test, nco_problem **pb, nco_problem **test, int *spec_error);

/* 1 if the configured problem has residuals (least squares), before
 * building it: every zoo type but tensor, networks with loss =
 * least_squares. */
int nco_config_is_least_squares(const nco_config *cfg);
/* 1 for the network types (mlp, lenet). */
int nco_config_is_network(const nco_config *cfg);

/* The starting point θ_0 of a run of cfg on pb (built from cfg): run.init
 * (x, or x and p; p = 0 when only x is given) or the problem's default
 * init from run.seed. theta0[pb->dim]. Errors in run.init are located
 * ("FILE:LINE: run.init: ..."); *spec_error (may be NULL) is set for a
 * file of the wrong size. */
int nco_config_initial_point(const nco_config *cfg, nco_problem *pb, float *theta0, int *spec_error);

/* problem.type = network: the graph of cfg's [network] lines, checked
 * against the data's per-sample shape (data_ndim = 0: unchecked). Errors
 * name FILE:LINE. */
struct nco_nn_model;
int nco_config_network(const nco_config *cfg, size_t data_ndim, const size_t *data_shape, struct nco_nn_model **out);

/* Lanczos options from the [lanczos] section. */
nco_lanczos_opts nco_config_lanczos(const nco_config *cfg);

const char *nco_probe_name(nco_probe_id id);

/* The probe registry (src/run/probes.c): one row of NCO_PROBE_TABLE. */
typedef struct nco_probe_info {
  nco_probe_id id;
  const char *name;
  unsigned needs;        /* NCO_PROBE_NEEDS_* */
  const char *columns;   /* the trace columns it writes ("" none) */
  const char *cost;      /* per row, in evaluations */
  const char *applies;   /* which problems */
  const char *help;      /* one line, with the citation */
} nco_probe_info;
/* NULL if id is not a probe */
const nco_probe_info *nco_probe_info_get(nco_probe_id id);
/* the id of a probe's name, or -1 */
int nco_probe_find(const char *name);
/* What probe id needs that `have` (NCO_PROBE_NEEDS_* bits the problem and
 * the spec provide) lacks: 0 if it can run. */
unsigned nco_probe_unmet(nco_probe_id id, unsigned have);
/* One need in words ("a known minimiser (run.x_star)"), for messages and
 * the help text; bit is one NCO_PROBE_NEEDS_* value. */
const char *nco_probe_need_text(unsigned bit);
/* The needs of a probe in words, joined by ", " ("" for none): the help
 * text's "needs" column. */
void nco_probe_needs_text(nco_probe_id id, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
