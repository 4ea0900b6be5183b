/* The key table: every spec key with its type, field, default, range,
 * applicability and help. The [optimizer] hyper-parameters are not
 * written here: their rows are generated from the optimizer's own table
 * (nco_optim_param_table, src/optim/params.c) where the T_OPTIM_PARAMS row
 * stands, so that a range is declared once. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ncopt/config.h"
#include "run/config_int.h"
#include "run/problems.h"

#define C(f) IN_CFG, offsetof(nco_config, f)
#define H(f) IN_HP, offsetof(nco_optim_params, f)
#define S(f) IN_SCHED, offsetof(nco_schedule, f)
#define INF HUGE_VAL


static const key written[] = {
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
     ".npy targets (networks: labels (n) or target rows (n, k); none with data.target = input or noisy_input)", "npy", 0, NULL},
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
    {"data", "target", T_ENUM, C(data_target), "labels", 0, 0, "labels input noisy_input", NETS,
     "labels (or the targets file) | input: the input image itself (reconstruction) | noisy_input: the clean image "
     "from an input with N(0, target_noise²) added (denoising; seeded by data.seed)",
     NN_SOURCES, 0, NULL},
    {"data", "target_noise", T_DOUBLE, C(data_target_noise), "0.1", 0, INF, NULL, NETS,
     "target = noisy_input: the noise's standard deviation", NN_SOURCES, 0, NULL},
    /* [problem] */
    {"problem", "type", T_STR, C(problem_type), "glm", 0, 0, NULL, NULL,
     "the objective: see `ncopt list problems` (network: the [network] section)", NULL, 0, NULL},
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
    {"problem", "loss", T_ENUM, C(nn_loss), "cross_entropy", 0, 0, "cross_entropy least_squares mse", NETS,
     "cross_entropy (softmax) | least_squares (½‖output − one-hot‖², no softmax: Oymak §5.1) | mse (torch's MSELoss: "
     "the mean of (output − target)² per sample, an image target)",
     NULL, 0, NULL},
    {"problem", "init", T_ENUM, C(nn_init), "default", 0, 0, "default xavier kaiming_normal normal", BUILDERS,
     "default (PyTorch's) | xavier (uniform) | kaiming_normal | normal (N(0, init_sigma²))", NULL, 0, NULL},
    {"problem", "init_sigma", T_DOUBLE, C(init_sigma), "0.01", 0, INF, NULL, BUILDERS, "σ of init = normal", NULL, LO_OPEN, NULL},
    {"problem", "channels", T_STR, C(channels_text), "16, 32, 64", 0, 0, NULL, DEEP,
     "widths of the stages (resnet), blocks (vgg), levels (unet: depth + 1 of them)", NULL, 0, NULL},
    {"problem", "blocks", T_STR, C(blocks_text), "1", 0, 0, NULL, "resnet",
     "BasicBlocks per stage: one number or one per stage (1: ResNet-8, 3: ResNet-20)", NULL, 0, NULL},
    {"problem", "convs", T_STR, C(convs_text), "2, 2, 3", 0, 0, NULL, "vgg", "3×3 convs per block (a max-pool after each)",
     NULL, 0, NULL},
    {"problem", "depth", T_SIZE, C(depth), "2", 1, 7, NULL, "unet", "levels down (max-pools) = skip connections", NULL, 0,
     NULL},
    {"problem", "skips", T_STR, C(skips_text), "all", 0, 0, NULL, "resnet unet",
     "resnet: all | first | first_two | none (the blocks of a stage that keep theirs, Chen §IV-C); unet: all | none | "
     "last K (the K skips nearest the output)",
     NULL, 0, NULL},
    {"problem", "bn", T_STR, C(bn_text), "all", 0, 0, NULL, DEEP,
     "batch norm: resnet, unet: all (after every conv) | none; vgg: all | first | none (Chen §IV-B)", NULL, 0, NULL},
    {"problem", "dropout", T_DOUBLE, C(dropout), "0", 0, 0.99, NULL, "mlp lenet",
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
    {"optimizer", "drop_last", T_BOOL, C(drop_last), "false", 0, 1, NULL, NULL,
     "skip an epoch's last partial minibatch (torch's DataLoader drop_last; reshuffle, cyclic)", NULL, 0, NULL},
    /* the hyper-parameters: nco_optim_param_table() (src/optim/params.c) */
    {"optimizer", "*", T_OPTIM_PARAMS, IN_HP, 0, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, NULL},
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
    {"lanczos", "seed", T_U64, C(lz_seed), "1", 0, 0, NULL, NULL, "random starting vector (and hess_trace's probes)", NULL, 0, NULL},
    {"lanczos", "topk", T_SIZE, C(lz_topk), "3", 1, 64, NULL, NULL, "hess_topk: the k largest eigenvalues (columns)", NULL,
     0, NULL},
    {"lanczos", "trace_samples", T_SIZE, C(lz_trace_samples), "100", 1, 1e6, NULL, NULL,
     "hess_trace: Rademacher probes per row (PyHessian's default maxIter = 100)", NULL, 0, NULL},
    {"lanczos", "batch", T_SIZE, C(lz_batch), "0", 0, 1e12, NULL, NULL,
     "the Hessian and Jacobian probes on a fixed probe batch of N training samples (drawn from lanczos.seed, the "
     "same at every row; PyHessian's one batch), 0 (or ≥ n) = the full data",
     NULL, 0, NULL},
};
#define NWRITTEN (sizeof written / sizeof *written)

const char *const sections[] = {"data",     "problem", "regularizer", "optimizer", "schedule",
                                "run",      "lanczos", "probes",      "sweep",     "network"};
const size_t cfg_nsections = sizeof sections / sizeof *sections;

/* The table as the config files see it: `written` with the optimizer's
 * rows (and a T_ALIAS row for each part of a pair: beta1, beta2) in place
 * of the T_OPTIM_PARAMS row. Built once, when the library is loaded (it
 * cannot fail: the sizes are checked by tests/test_config.c). */
static key table[NCO_CONFIG_MAX_KEYS];
static size_t ntable;
static char part_names[8][32];
static char problem_types[512];
const key *const cfg_keys = table;

static ktype row_type(nco_optim_param_kind k) {
  switch (k) {
    case NCO_OPTIM_PARAM_SIZE: return T_SIZE;
    case NCO_OPTIM_PARAM_BOOL: return T_BOOL;
    case NCO_OPTIM_PARAM_ENUM: return T_ENUM;
    case NCO_OPTIM_PARAM_PAIR: return T_PAIR;
    default: return T_DOUBLE;
  }
}

static void add(const key *k) {
  if (ntable < NCO_CONFIG_MAX_KEYS) table[ntable] = *k;
  ntable++; /* > NCO_CONFIG_MAX_KEYS: the test fails, cfg_nkeys stays in bounds */
}

static void add_optim_rows(void) {
  size_t n, nparts = 0;
  const nco_optim_param *p = nco_optim_param_table(&n);
  for (size_t i = 0; i < n; i++, p++) {
    key k = {"optimizer", p->name, row_type(p->kind), IN_HP, p->offset, NULL, p->lo, p->hi, p->values, p->methods,
             p->help, NULL, p->open, NULL};
    add(&k);
    for (size_t j = 0; p->parts && j < 2 && nparts < 8; j++, nparts++) {
      const char *s = p->parts;
      if (j) s += strcspn(s, " ") + 1;
      snprintf(part_names[nparts], sizeof part_names[nparts], "%.*s", (int)strcspn(s, " "), s);
      key a = {"optimizer", part_names[nparts], T_ALIAS, IN_HP, j + 1, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, p->name};
      add(&a);
    }
  }
}

size_t cfg_nkeys_total;
__attribute__((constructor)) static void build_table(void) {
  for (size_t i = 0; i < NWRITTEN; i++)
    if (written[i].type == T_OPTIM_PARAMS) add_optim_rows();
    else add(&written[i]);
  cfg_nkeys_total = ntable;
  if (ntable > NCO_CONFIG_MAX_KEYS) ntable = NCO_CONFIG_MAX_KEYS;
  size_t n, L = 0;
  const nco_prob_info *pr = nco_prob_table(&n);
  for (size_t i = 0; i < n && L < sizeof problem_types; i++)
    L += (size_t)snprintf(problem_types + L, sizeof problem_types - L, "%s%s", i ? " " : "", pr[i].name);
}

size_t cfg_nkeys_fn(void) { return ntable; }

const char *cfg_problem_types(void) { return problem_types; }

int cfg_key_index(const char *section, const char *name) {
  for (size_t i = 0; i < NKEYS; i++)
    if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name)) return (int)i;
  return 0; /* not reached for the table's own keys */
}
