/* ncopt/nn.h — neural networks as problems: layers, models, losses.
 *
 * A network with a loss IS an nco_problem: its parameters θ are the
 * problem's x, so every optimiser, probe, wrapper (ℓ2, invex) and the run
 * loop use it unchanged. With the least-squares loss it is a least-squares
 * problem (residual, JVP, VJP, exact second-order part), which is the
 * setting of Oymak & Soltanolkotabi §5.1 (LeNet on MNIST, least squares on
 * one-hot targets, no softmax, Adam) and of Crane & Roosta §3 (the invex
 * lifting of a network's residuals).
 *
 * Design decisions
 * ----------------
 * Model. A model is a static DAG of nodes over named inputs (the graph
 * functions below; nco_nn_add_* append a chain). Each node is an op behind
 * a const vtable (src/nn/op_*.c: shape inference, parameter count and
 * initialisation, forward, VJP, R-op, state buffers, train/eval
 * behaviour); a loss is a separate head on the output node. A model holds
 * only shapes and hyper-parameters (no weights, no buffers), so it is
 * cheap to copy and one model can back several problems (training set,
 * test set). Each sample's input has shape (D) or (C, H, W); a batch is
 * batch-major: (N, D) or (N, C, H, W), C order (PyTorch's NCHW).
 * Non-trainable state (batch norm's running statistics) has its own
 * buffer of nco_nn_state_dim() entries, held by the problem.
 *
 * Parameters. All parameters of a model live in ONE contiguous float32
 * vector θ of nco_nn_dim() entries, node after node (execution order),
 * each node's weight then its bias, in PyTorch's layouts: dense weight (out, in), conv weight
 * (K, C, kh, kw), bias (out) — exactly the order of torch's
 * `torch.cat([p.flatten() for p in model.parameters()])` for the same
 * nn.Sequential. Every slice has a name ("conv1.weight", "fc3.bias": dense
 * layers are fc1, fc2, ... and conv layers conv1, conv2, ... in order;
 * nco_nn_rename_last changes the prefix) enumerated by nco_nn_param_get.
 *
 * Layers. dense (bias optional; flattens a (C, H, W) input implicitly, as
 * flatten + nn.Linear), conv2d (stride, zero padding, dilation, bias optional;
 * im2col + GEMM kernels of src/nn/conv.c), max and average pooling (k×k,
 * stride, no padding, floor mode), flatten (a no-op on the memory), the
 * activations of problems.h (nco_act: identity, sigmoid, tanh, softplus,
 * ReLU, leaky ReLU, ELU, with `mix`), dropout (inverted: kept units scaled
 * by 1/(1 − p), as torch), batchnorm (below).
 *
 * Losses. Cross-entropy of the softmax of the outputs (labels, or soft /
 * one-hot target rows t: ℓ = Σ_k t_k(logsumexp(z) − z_k)), default
 * reduction MEAN as torch's nn.CrossEntropyLoss (the loss head reads the
 * output node, nco_nn_set_output); least squares with the
 * per-sample residual r_i = output_i − t_i (m = outputs per sample;
 * targets are real rows or labels, which mean one-hot rows), default
 * reduction SUM (the papers' ½‖g(θ)‖²), settable with
 * nco_problem_set_reduction; mean squared error (torch.nn.MSELoss: per
 * sample the mean of (output − t)² over its m outputs, default reduction
 * MEAN, so that the loss is torch's MSELoss of the batch; targets as for
 * least squares, e.g. an image for reconstruction), a least-squares
 * problem with r_i = √(2/m)·(output_i − t_i). Losses are summed in double.
 *
 * Derivatives. Gradient and VJP by backpropagation; JVP by forward-mode
 * tangents (the R-op); exact Hessian-vector products by Pearlmutter's
 * R-op through the backward pass (Pearlmutter 1994, "Fast exact
 * multiplication by the Hessian"): the forward pass carries (a, Ra), the
 * backward pass (δ, Rδ), and R{∇θ} = H v. Least squares provides the
 * problem's rhvp (Σ_i w_i ∇²g_i u: the backward R-pass seeded with δ = w,
 * Rδ = 0), so the generic JᵀJ + Σ r_i∇²g_i formula and the invex wrapper
 * get the exact Hessian; both losses also provide a fused hvp (one
 * forward, tangent, backward and R-backward pass). The ReLU family, max
 * pooling (and ELU's second derivative) are piecewise: derivatives are
 * those of the active piece (φ'(0) = 0 for ReLU as in torch; max-pool
 * ties go to the first element), exact away from kinks;
 * nco_nn_kink_margin measures the distance to the nearest kink.
 *
 * Precision. NCO_NN_F32 (the default, for training) computes in float32
 * with OpenBLAS sgemm (whose sums are float, as in PyTorch); the sums we
 * write ourselves (losses, bias gradients, softmax) accumulate in double.
 * NCO_NN_F64 builds the same network in double: the layer kernels are one
 * template (src/nn/kernels.inc) compiled for float and for double (dgemm,
 * the conv kernels' _f64 versions); θ and directions are float32 at the
 * interface (converted on entry), the data are converted per batch, and the
 * loss is then exact to double rounding, which the float64
 * finite-difference checks of check.h need. Its gradient, JVP, VJP and HVP
 * are rounded to float32 on output.
 *
 * Memory and speed. A problem owns a workspace for chunks of at most
 * `max_batch` samples (activations, tangents, backward buffers, conv
 * scratch), allocated once at creation; no evaluation allocates. Batches
 * larger than max_batch (e.g. the full training set) are processed chunk
 * by chunk and accumulated (gradients in the working precision, losses in
 * double). Tangent and R-backward buffers are allocated with calloc and are
 * only touched (and only count in the resident set) when JVP/HVP are used.
 *
 * Threads: data parallel over the batch. A batch is split into T =
 * min(threads, nb/8) contiguous ranges, evaluated by one OpenMP team, each
 * thread with its own workspace (max_batch/T samples) and gradient buffer;
 * the buffers are then summed in thread order. Inside the team the GEMMs
 * run single-threaded (OpenBLAS's thread count is set to 1 for the
 * duration of the team and restored after: OpenBLAS's pthreads and the
 * OpenMP team would otherwise fight for the cores — measured 6× slower on
 * 2 cores); with T = 1 OpenBLAS uses its own threads. Every reduction has
 * a fixed order, so results are identical run to run at a fixed thread
 * count (and differ across thread counts only by rounding). Since the
 * OpenBLAS thread count is process-wide, do not evaluate network problems
 * concurrently from threads of your own.
 *
 * Dropout. Masks are drawn from an nco_rng held by the problem (seeded by
 * opts.dropout_seed): the mask of dropout layer l for batch position s at
 * step t comes from the stream derive(derive(seed, t), l·2³² + s), so it
 * does not depend on the chunking, and the JVP, VJP and HVP at the same step
 * see the same masks as the gradient. The step t advances by one at every
 * loss+gradient evaluation when auto_step is on (the default: one new mask
 * per optimiser step, as torch); nco_nn_set_step / nco_nn_get_step save and
 * restore it (checkpoints). With auto_step off the step only changes by
 * nco_nn_set_step (derivative checks need this). Dropout is off in
 * evaluation mode (nco_nn_set_training(pb, 0)) and in nco_nn_evaluate.
 *
 * Batch norm (batchnorm: nn.BatchNorm1d over the features of a flat
 * input, nn.BatchNorm2d over the channels of a (C, H, W) input, PyTorch's
 * semantics; γ, β in θ as "NAME.weight", "NAME.bias" (affine), set to 1
 * and 0 by every init kind, drawing nothing). In training mode
 * (nco_nn_set_training(pb, 1), the default) a node normalises with the
 * statistics of the evaluated batch: the mean and the biased variance of
 * each channel over its M = N·H·W values, x̂ = (x − μ)/√(σ² + eps); every
 * derivative (gradient, JVP, VJP, rhvp, hvp) includes the coupling of the
 * samples through μ and σ² (src/nn/op_batchnorm.c). In evaluation mode
 * (nco_nn_set_training(pb, 0), and always in nco_nn_evaluate) it uses
 * the running statistics: per node running_mean[C] then running_var[C] in
 * the problem's state (float32, nodes in execution order; 0 and 1 at
 * creation and after the problem's init, as torch's reset_parameters).
 *
 * When the running statistics change: once per optimiser step. A
 * training-mode loss+gradient evaluation (nco_problem_eval with a
 * gradient) at step t (the dropout step above) commits its batch
 * statistics — running ← momentum·batch + (1 − momentum)·running, the
 * variance unbiased (·M/(M − 1)), in double, as torch — when t ≠ 0 and t
 * differs from the step of the last commit, which then becomes t. With
 * auto_step on every gradient is a new step and commits (torch's
 * train-mode forward). The run loop pins step t + 1 for the optimiser
 * step t → t + 1 and keeps it until the next step, so only that step's
 * first gradient (on its minibatch) commits: not line-search
 * re-evaluations, probes, rows, Lanczos HVPs or a full-batch loss at the
 * same step, and nothing at step 0. Loss-only evaluations, JVP, VJP,
 * rhvp, hvp, forward, kink margin and evaluation mode never commit.
 * nco_nn_get_state / nco_nn_set_state read and write the statistics and
 * the last committed step (a checkpoint saves and restores both; a replay
 * of past steps saves them before and restores them after).
 *
 * Its cost: a training-mode evaluation of a model with batchnorm runs the
 * whole batch as ONE chunk on one thread range (OpenBLAS's threads still
 * run the GEMMs), so its results depend neither on `threads` nor on
 * max_batch, but there is no data parallelism over the batch, and the
 * workspace grows (once; never shrinks) to the largest batch evaluated in
 * training mode: a full-batch training-mode loss allocates activations
 * for all n samples. Evaluation mode keeps the parallel chunks. A batch
 * with one value per channel is refused in training mode (as torch).
 *
 * Initialisation (nco_nn_init, and the problem's init): PyTorch's default
 * for nn.Linear and nn.Conv2d (kaiming_uniform_(a = √5): weights and
 * biases U(±1/√fan_in)), Xavier/Glorot uniform (weights
 * U(±√(6/(fan_in + fan_out))), biases 0), Kaiming normal (N(0, 2/fan_in),
 * biases 0) or normal(σ) (weights N(0, σ²), biases 0), with fan_in = in
 * features or C·kh·kw, fan_out = out features or K·kh·kw; drawn from the
 * caller's rng layer by layer, weight before bias.
 *
 * Data. X is (N, ...) with Π shape[1:] equal to the model's input size
 * (any numeric dtype: converted to float32 and copied; with opts.borrow a
 * C-contiguous float32 X is used in place and must outlive the problem).
 * Targets: integer labels (N) (uint8, int32, int64, or whole-valued
 * floats) in [0, outputs), or real rows (N, outputs) ((N) when outputs is
 * 1).
 */
#ifndef NCOPT_NN_H
#define NCOPT_NN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ncopt/array.h"
#include "ncopt/problem.h"
#include "ncopt/problems.h"
#include "ncopt/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- models ------------------------------------------------------------ */

typedef struct nco_nn_model nco_nn_model;

typedef enum nco_nn_layer_kind {
  NCO_NN_DENSE = 0,
  NCO_NN_CONV2D,
  NCO_NN_MAXPOOL2D,
  NCO_NN_AVGPOOL2D,
  NCO_NN_FLATTEN,
  NCO_NN_ACT,
  NCO_NN_DROPOUT,
  NCO_NN_ADD,     /* Σ of its inputs (a residual connection), same shapes */
  NCO_NN_CONCAT,  /* its inputs joined along the channels (torch.cat(dim=1)) */
  NCO_NN_CONV_TRANSPOSE2D, /* nn.ConvTranspose2d: out = out_channels, kh × kw, stride, pad, opad, bias */
  NCO_NN_UPSAMPLE,        /* nn.Upsample: scale factor = stride, mode (0 nearest, 1 bilinear) */
  NCO_NN_GLOBAL_AVGPOOL,  /* nn.AdaptiveAvgPool2d(1): (C, H, W) → (C, 1, 1) */
  NCO_NN_UNFLATTEN,       /* nn.Unflatten: the input seen as (out, kh, kw) = (C, H, W) */
  NCO_NN_BATCHNORM        /* nn.BatchNorm1d (flat) / BatchNorm2d ((C, H, W)): eps, momentum, bias = affine */
} nco_nn_layer_kind;

/* Kinds of graph inputs. Only NCO_NN_IN_DATA (the features rows) is
 * evaluated today; the others are declared so that a graph can name them
 * (targets for a loss head, a VAE's ε or a GAN's z, another graph's
 * output) and nco_nn_problem_create refuses them until their runs exist. */
typedef enum nco_nn_input_kind {
  NCO_NN_IN_DATA = 0,
  NCO_NN_IN_TARGETS,
  NCO_NN_IN_NOISE,
  NCO_NN_IN_GRAPH
} nco_nn_input_kind;

/* An empty model whose samples have shape in_shape[0..ndim): ndim = 1
 * (features) or 3 (channels, height, width); every size ≥ 1. */
int nco_nn_model_create(size_t ndim, const size_t *in_shape, nco_nn_model **out);
void nco_nn_model_free(nco_nn_model *m);
/* A deep copy. */
int nco_nn_model_clone(const nco_nn_model *m, nco_nn_model **out);

/* Layers, appended in order. Each returns NCO_ERR_SHAPE (message naming
 * the layer and the shapes) if it does not fit the current output shape. */
int nco_nn_add_dense(nco_nn_model *m, size_t out_features, int bias);
/* K filters of kh×kw, stride ≥ 1, zero padding; input (C, H, W). */
int nco_nn_add_conv2d(nco_nn_model *m, size_t out_channels, size_t kh, size_t kw, size_t stride,
                      size_t pad, int bias);
/* k×k windows; stride 0 means stride = k (torch's default). */
int nco_nn_add_maxpool2d(nco_nn_model *m, size_t k, size_t stride);
int nco_nn_add_avgpool2d(nco_nn_model *m, size_t k, size_t stride);
int nco_nn_add_flatten(nco_nn_model *m);
int nco_nn_add_act(nco_nn_model *m, const nco_act *a);
/* Drop probability p ∈ [0, 1). */
int nco_nn_add_dropout(nco_nn_model *m, double p);
/* Renames the last layer (≤ 31 characters of [A-Za-z0-9_]); its slices
 * become "NAME.weight", "NAME.bias". NCO_ERR_INVALID for a duplicate. */
int nco_nn_rename_last(nco_nn_model *m, const char *name);

/* ---- graphs ------------------------------------------------------------
 * A model is a static DAG: named inputs and nodes, each node an op
 * applied to earlier inputs or nodes named by `inputs` (insertion order is
 * the execution order, and the parameter order: PyTorch's parameters()
 * order for the module that registers its submodules in that order). The
 * layer functions above are this API on a chain: each appends a node fed
 * by the last node (or the first input), named automatically. Gradients
 * accumulate where a node feeds several others. */

/* A node's op and hyper-parameters (torch.nn's): kind NCO_NN_DENSE
 * (nn.Linear: out = out_features, bias), NCO_NN_CONV2D (nn.Conv2d: out =
 * out_channels, kh × kw, stride ≥ 1, pad, dilation, bias; output size
 * (H + 2·pad − dilation·(kh − 1) − 1)/stride + 1), NCO_NN_MAXPOOL2D /
 * NCO_NN_AVGPOOL2D (kernel kh, stride; 0 = kh), NCO_NN_FLATTEN, NCO_NN_ACT
 * (act), NCO_NN_DROPOUT (p). Unused fields are ignored. */
typedef struct nco_nn_node_spec {
  nco_nn_layer_kind kind;
  size_t out;
  size_t kh, kw, stride, pad;
  int bias;
  nco_act act;
  double p;
  size_t opad;      /* conv_transpose2d: output_padding (< stride) */
  size_t dilation;  /* conv2d: dilation, torch's (both directions; 0 means 1) */
  int mode;         /* upsample: 0 nearest, 1 bilinear (align_corners = False) */
  double eps;       /* batchnorm: > 0 (torch: 1e-5) */
  double momentum;  /* batchnorm: in [0, 1] (torch: 0.1); `bias` is torch's affine */
} nco_nn_node_spec;

/* A model with no input and no node. */
int nco_nn_graph_create(nco_nn_model **out);
/* A named input of shape shape[0..ndim) (ndim 1 or 3) per sample; the
 * first input of kind NCO_NN_IN_DATA receives the features rows. Names
 * are [A-Za-z_][A-Za-z0-9_]*, at most 31 characters, unique among inputs
 * and nodes. */
int nco_nn_add_input(nco_nn_model *m, const char *name, nco_nn_input_kind kind, size_t ndim,
                     const size_t *shape);
/* Appends node `name` (NULL: automatic, as the layer functions) applying
 * op to the named inputs / nodes inputs[0..nin). NCO_ERR_RANGE for an
 * unknown input name, NCO_ERR_SHAPE (naming both shapes) when the op does
 * not fit them. */
int nco_nn_add_node(nco_nn_model *m, const char *name, const nco_nn_node_spec *op, size_t nin,
                    const char *const *inputs);
/* The node whose output the loss head reads (default: the last node). */
int nco_nn_set_output(nco_nn_model *m, const char *name);
/* Entries of the non-trainable state buffer: 2·C per batchnorm node
 * (running_mean, running_var), 0 for every other op. */
size_t nco_nn_state_dim(const nco_nn_model *m);

size_t nco_nn_dim(const nco_nn_model *m);        /* parameters */
size_t nco_nn_num_layers(const nco_nn_model *m);
size_t nco_nn_in_size(const nco_nn_model *m);    /* inputs per sample */
size_t nco_nn_out_size(const nco_nn_model *m);   /* outputs per sample */
/* "conv1(1->6 5x5 s1 p2) relu maxpool(2,2) ... fc3(84->10)" into buf. */
const char *nco_nn_describe(const nco_nn_model *m, char *buf, size_t len);

/* A named slice of θ. */
typedef struct nco_nn_param {
  char name[48];        /* "fc1.weight" */
  size_t layer;         /* index of its layer */
  size_t offset;        /* first entry in θ */
  size_t length;        /* entries */
  size_t ndim;          /* 1 (bias), 2 (dense weight) or 4 (conv weight) */
  size_t shape[4];
} nco_nn_param;

size_t nco_nn_num_params(const nco_nn_model *m);  /* slices, weights and biases */
int nco_nn_param_get(const nco_nn_model *m, size_t i, nco_nn_param *p);
/* NCO_ERR_RANGE if no slice has that name. */
int nco_nn_param_find(const nco_nn_model *m, const char *name, nco_nn_param *p);

typedef enum nco_nn_init_kind {
  NCO_NN_INIT_TORCH = 0,      /* PyTorch's default (kaiming_uniform_, a = √5) */
  NCO_NN_INIT_XAVIER_UNIFORM,
  NCO_NN_INIT_KAIMING_NORMAL,
  NCO_NN_INIT_NORMAL          /* N(0, σ²) */
} nco_nn_init_kind;

/* θ[nco_nn_dim(m)] ← a draw from rng (sigma: only for NCO_NN_INIT_NORMAL, > 0). */
int nco_nn_init(const nco_nn_model *m, nco_nn_init_kind kind, double sigma, nco_rng *rng,
                float *theta);

/* Models. An MLP in → widths[0] → … → widths[nw−1] → out with `act` after
 * every hidden dense layer (nw = 0: a linear model), biases on. */
int nco_nn_mlp(size_t in, const size_t *widths, size_t nw, size_t out, const nco_act *act,
               nco_nn_model **out_model);
/* LeNet-5 as in the ncopt benchmark (issue 5; Oymak & Soltanolkotabi §5.1
 * use LeNet with a least-squares loss): input (C, H, W), conv 6@5×5 pad 2,
 * ReLU, maxpool 2, conv 16@5×5, ReLU, maxpool 2, flatten, dense 120, ReLU,
 * dense 84, ReLU, dense `classes`. For (1, 28, 28) the first dense layer is
 * 400 → 120 and θ has 61 706 entries. */
int nco_nn_lenet5(size_t C, size_t H, size_t W, size_t classes, nco_nn_model **out_model);

/* ---- builders: ResNet, VGG, U-Net (src/nn/builders.c) ------------------
 * The networks of Chen, Yang & Zhou §III–IV (what they vary: batch norm in
 * VGG, §IV-B; skip connections in ResNet and U-Net, §IV-C), built through
 * the graph API above. Each takes an options struct (start from the
 * _defaults function: it sets the input shape and the defaults written
 * beside every field) and returns a model whose parameter order is
 * PyTorch's parameters() order of the equivalent torch module written in
 * scripts/make_builder_fixtures.py (its submodules registered in the
 * order the nodes are added), so that params.npy and torch's
 * parameters_to_vector agree. Node names (and so the params.json names)
 * are given with each builder. Every conv is 3×3 with padding 1 unless
 * said otherwise; a conv followed by a batch norm has no bias (as
 * torchvision's ResNet), every other conv and linear layer has one. Batch
 * norms are BatchNorm2d(eps = bn_eps, momentum = bn_momentum, affine).
 * Errors (never an abort): NCO_ERR_INVALID for a NULL argument,
 * NCO_ERR_RANGE for an option out of range, NCO_ERR_SHAPE for an input too
 * small for the depth / strides (the message names the sizes). */

#define NCO_NN_BUILDER_MAX_STAGES 8

/* Which residual connections a ResNet keeps. Chen §IV-C trains ResNet-34
 * keeping all skip connections, "the first skip-connection in each block"
 * or "the first two": a BasicBlock has exactly one skip connection, so
 * their "block" is a stage (torchvision's layer1..layer4, 3, 4, 6, 3
 * BasicBlocks in ResNet-34). FIRST keeps the skip of the first BasicBlock
 * of every stage (a projection shortcut in every stage after the first),
 * FIRST_TWO those of the first two BasicBlocks of every stage, NONE none;
 * a BasicBlock without its skip is the plain path conv-BN-act-conv-BN-act
 * (no shortcut, no projection, no add). With one block per stage
 * (ResNet-8) FIRST and FIRST_TWO are ALL. */
typedef enum nco_nn_resnet_skips {
  NCO_NN_RESNET_SKIPS_ALL = 0,
  NCO_NN_RESNET_SKIPS_FIRST,
  NCO_NN_RESNET_SKIPS_FIRST_TWO,
  NCO_NN_RESNET_SKIPS_NONE
} nco_nn_resnet_skips;

/* A CIFAR-style ResNet (He et al. 2016 §4.2, with projection shortcuts):
 *   stem: conv3×3 C → channels[0], BN, act;
 *   stage s = 1..nstages, block b = 1..blocks[s−1], a BasicBlock of width
 *   channels[s−1] with stride 2 at b = 1 of every stage s > 1:
 *     c1 (conv3×3 stride), bn1, a1 (act), c2 (conv3×3), bn2, then the skip
 *     (if kept): identity when the shape is kept, else the projection sc
 *     (1×1 conv, stride, no padding) + scbn; add; a2 (act after the add);
 *   global average pool, linear → classes.
 * Nodes: "stem", "stem_bn", "stem_act", "s1b1c1", "s1b1bn1", "s1b1a1",
 * "s1b1c2", "s1b1bn2", "s1b1sc", "s1b1scbn", "s1b1add", "s1b1a2", ...,
 * "pool", "fc". Without BN (bn = 0) the BN nodes are absent and every conv
 * has a bias. blocks = 1, 1, 1 is ResNet-8, 3, 3, 3 ResNet-20 (6·Σblocks
 * + 2 weight layers). Spatial sizes: a stride-2 conv (k 3, pad 1, or k 1,
 * pad 0) maps H to ⌈H/2⌉; a stage that would halve a size < 2 is
 * refused. */
typedef struct nco_nn_resnet_opts {
  size_t C, H, W;                               /* input (C, H, W); ≥ 1 */
  size_t classes;                               /* outputs ≥ 1; 10 */
  size_t nstages;                               /* 1..NCO_NN_BUILDER_MAX_STAGES; 3 */
  size_t channels[NCO_NN_BUILDER_MAX_STAGES];   /* widths ≥ 1; 16·2^(s−1): 16, 32, 64, ... */
  size_t blocks[NCO_NN_BUILDER_MAX_STAGES];     /* BasicBlocks per stage ≥ 1; 3 each (ResNet-20) */
  nco_nn_resnet_skips skips;                    /* NCO_NN_RESNET_SKIPS_ALL */
  int bn;                                       /* batch norm after every conv (1) or none (0); 1 */
  nco_act act;                                  /* ReLU */
  double bn_eps, bn_momentum;                   /* 1e-5, 0.1 (torch's) */
} nco_nn_resnet_opts;

nco_nn_resnet_opts nco_nn_resnet_defaults(size_t C, size_t H, size_t W, size_t classes);
int nco_nn_resnet(const nco_nn_resnet_opts *o, nco_nn_model **out_model);
/* "all", "first", "first_two", "none" and back (NCO_ERR_RANGE naming the
 * choices for another name). */
const char *nco_nn_resnet_skips_name(nco_nn_resnet_skips s);
int nco_nn_resnet_skips_parse(const char *name, nco_nn_resnet_skips *s);

/* Where a VGG has batch norm (Chen §IV-B: "keep all the BN layers", "keep
 * the first BN layer in each block", "remove all the BN layers"): after
 * every conv, after the first conv of every block only, nowhere. */
typedef enum nco_nn_vgg_bn {
  NCO_NN_VGG_BN_ALL = 0,
  NCO_NN_VGG_BN_FIRST,
  NCO_NN_VGG_BN_NONE
} nco_nn_vgg_bn;

/* A VGG (Simonyan & Zisserman 2015; no dropout, as Chen §IV-B):
 *   block k = 1..nblocks: convs[k−1] × (conv3×3 pad 1 → channels[k−1],
 *   BN where `bn` says, act), max-pool 2×2 (stride 2, floor);
 *   flatten, linear → classes.
 * Nodes: "b1c1", "b1bn1", "b1a1", "b1c2", ..., "pool1", ..., "flatten",
 * "fc". Every pool needs a size ≥ 2 (H and W ≥ 2^nblocks). */
typedef struct nco_nn_vgg_opts {
  size_t C, H, W;                               /* input (C, H, W); ≥ 1 */
  size_t classes;                               /* outputs ≥ 1; 10 */
  size_t nblocks;                               /* 1..NCO_NN_BUILDER_MAX_STAGES; 3 */
  size_t convs[NCO_NN_BUILDER_MAX_STAGES];      /* convs per block ≥ 1; 2, 2, 3, 3, ... (VGG-16's) */
  size_t channels[NCO_NN_BUILDER_MAX_STAGES];   /* widths ≥ 1; 16·2^(k−1): 16, 32, 64, ... */
  nco_nn_vgg_bn bn;                             /* NCO_NN_VGG_BN_ALL */
  nco_act act;                                  /* ReLU */
  double bn_eps, bn_momentum;                   /* 1e-5, 0.1 */
} nco_nn_vgg_opts;

nco_nn_vgg_opts nco_nn_vgg_defaults(size_t C, size_t H, size_t W, size_t classes);
int nco_nn_vgg(const nco_nn_vgg_opts *o, nco_nn_model **out_model);
/* "all", "first", "none" and back. */
const char *nco_nn_vgg_bn_name(nco_nn_vgg_bn b);
int nco_nn_vgg_bn_parse(const char *name, nco_nn_vgg_bn *b);

/* U-Net skips: every skip connection (default), or only the last K. */
#define NCO_NN_UNET_SKIPS_ALL (-1)

/* A U-Net (Ronneberger et al. 2015, with padded convs and batch norm) that
 * maps an image to an image of the same shape (C, H, W) (a reconstruction
 * / denoising target: use the least-squares loss with the image as the
 * target row). `depth` = D is the number of down-samplings and of skip
 * connections; levels l = 1..D+1 have widths channels[l−1] and sizes
 * H/2^(l−1) × W/2^(l−1):
 *   encoder l = 1..D+1: double conv (conv3×3-BN-act)×2 → channels[l−1]
 *     ("enc1c1", "enc1bn1", "enc1a1", "enc1c2", "enc1bn2", "enc1a2"), and
 *     for l ≤ D a max-pool 2×2 "down1".."downD"; level D+1 is the bottom;
 *   decoder l = D..1: "up<l>" conv_transpose2d (k 2, stride 2, bias)
 *     channels[l] → channels[l−1]; if skip l is kept "cat<l>" =
 *     concat(up<l>, enc<l>a2) (torch.cat(dim=1): the up-sampled tensor
 *     first), 2·channels[l−1] channels, else up<l> alone; then a double
 *     conv → channels[l−1] ("dec<l>c1", ..., "dec<l>a2");
 *   "out": conv1×1 channels[0] → C (bias), no activation.
 * Skip l joins encoder level l to decoder level l. `skips` = K keeps the
 * last K skip connections of the forward pass (Chen §IV-C: "keep the last
 * 3, 2, 1 skip-connections"): the decoder uses them in the order D, D−1,
 * ..., 1, so the last K are levels 1..K, the high-resolution ones nearest
 * the output; K = 0 removes all, NCO_NN_UNET_SKIPS_ALL (or K = D) keeps
 * all. Without BN the BN nodes are absent and the convs have biases. H and
 * W must be divisible by 2^D (the up-sampled tensor then has the shape of
 * the skip). */
typedef struct nco_nn_unet_opts {
  size_t C, H, W;                                   /* input (C, H, W); ≥ 1 */
  size_t depth;                                     /* D, 1..NCO_NN_BUILDER_MAX_STAGES − 1; 2 */
  size_t channels[NCO_NN_BUILDER_MAX_STAGES];       /* D + 1 widths ≥ 1; 16·2^(l−1): 16, 32, 64, ... */
  int skips;                                        /* NCO_NN_UNET_SKIPS_ALL, or K ∈ [0, D] */
  int bn;                                           /* 1 */
  nco_act act;                                      /* ReLU */
  double bn_eps, bn_momentum;                       /* 1e-5, 0.1 */
} nco_nn_unet_opts;

nco_nn_unet_opts nco_nn_unet_defaults(size_t C, size_t H, size_t W);
int nco_nn_unet(const nco_nn_unet_opts *o, nco_nn_model **out_model);

/* ---- networks in the spec ----------------------------------------------
 * The [network] section of a spec (ncopt/spec.h), one node a line, torch.nn
 * names and keys, inputs by node name:
 *     input  = input(1, 28, 28)
 *     c1     = conv2d(input, out_channels=16, kernel_size=3, padding=1, bias=false)
 *     r1     = relu(c1)
 *     p1     = maxpool2d(r1, kernel_size=2)
 *     f      = flatten(p1)
 *     fc     = linear(f, out_features=10)
 *     output = fc
 * Ops: input(C, H, W | D), linear(out_features, bias), conv2d(out_channels,
 * kernel_size, stride = 1, padding = 0, bias = true, dilation = 1), maxpool2d /
 * avgpool2d(kernel_size, stride = kernel_size), conv_transpose2d(out_channels,
 * kernel_size, stride = 1, padding = 0, output_padding = 0, bias = true),
 * upsample(scale_factor = 2, mode = nearest | bilinear), global_avgpool,
 * flatten, unflatten(channels, height = 1, width = 1), dropout(p = 0.5),
 * batchnorm(eps = 1e-5, momentum = 0.1, affine = true) (BatchNorm1d on
 * flat inputs, BatchNorm2d on (C, H, W): "Batch norm" above),
 * identity, sigmoid, tanh, softplus, relu, leaky_relu(negative_slope =
 * 0.01), elu(alpha = 1); add(A, B, ...) (the sum of inputs of one shape:
 * a residual connection) and concat(A, B, ..., dim = 1) (channels or
 * features joined, torch.cat): these name two to four input nodes and take
 * their keys by name. The first argument names the input node, keys
 * may also be given positionally in that order. Lines may come in any
 * order (executed in a topological order that keeps the line order where
 * it can: parameters are in line order when every line names earlier
 * nodes). Parameter slices are named after the nodes ("fc.weight").
 * data_ndim/data_shape: the features' per-sample shape (data_ndim = 0:
 * unchecked); the input's declared shape must match it (or its size, for
 * a flat input). Every error names FILE:LINE: an unknown op or key (with a
 * suggestion), a bad value, a shape mismatch (both shapes), an unknown,
 * duplicate or unused node, a cycle, a missing output. */
struct nco_spec;
int nco_nn_graph_from_spec(const struct nco_spec *spec, size_t data_ndim, const size_t *data_shape,
                           nco_nn_model **out);
/* A table like torchinfo's summary: node, op, inputs, output shape,
 * parameters, and the totals. */
int nco_nn_summary(const nco_nn_model *m, FILE *fp);

/* ---- problems ---------------------------------------------------------- */

typedef enum nco_nn_loss {
  NCO_NN_LOSS_CROSS_ENTROPY = 0,
  NCO_NN_LOSS_LEAST_SQUARES = 1,
  /* torch.nn.MSELoss(reduction='mean') per sample, ℓ_i = mean_k (y_ik − t_ik)²
   * (default reduction MEAN: the batch's MSELoss); a least-squares problem
   * with residual r_i = √(2/m)·(output_i − t_i), m = outputs, ℓ_i = ½‖r_i‖² */
  NCO_NN_LOSS_MSE = 2
} nco_nn_loss;

typedef enum nco_nn_precision { NCO_NN_F32 = 0, NCO_NN_F64 = 1 } nco_nn_precision;

typedef struct nco_nn_opts {
  nco_nn_loss loss;
  int reduction;              /* -1: the loss's default (CE: MEAN, LS: SUM); or an nco_reduction */
  size_t max_batch;           /* chunk size of the workspace; 0: min(n, 256) */
  nco_nn_precision precision; /* NCO_NN_F32 */
  int borrow;                 /* 1: use a float32 X in place (no copy); 0 */
  uint64_t dropout_seed;      /* 0 */
  int auto_step;              /* dropout step advances at each gradient; 1 */
  nco_nn_init_kind init;      /* the problem's default init; NCO_NN_INIT_TORCH */
  double init_sigma;          /* for NCO_NN_INIT_NORMAL; 0.01 */
  size_t threads;             /* batch ranges in parallel; 0: omp_get_max_threads() */
} nco_nn_opts;

nco_nn_opts nco_nn_defaults(nco_nn_loss loss);

/* The problem "model + loss on (X, targets)". The model is copied. n = N
 * samples; dim = nco_nn_dim(model); least squares: m = outputs. */
int nco_nn_problem_create(const nco_nn_model *model, const nco_array *X, const nco_array *targets,
                          const nco_nn_opts *opts, nco_problem **out);

/* 1 if pb (or the problem it wraps, see nco_problem_root) is a network. */
int nco_nn_is_nn(const nco_problem *pb);
/* The model of a network problem (or of the one pb wraps); NULL otherwise. */
const nco_nn_model *nco_nn_problem_model(const nco_problem *pb);

/* The layer map of params.npy (the run's params.json): JSON naming every
 * slice of the parameter vector in PyTorch's terms, so that the file loads
 * without this header. For a network: "module", a torch.nn.Sequential
 * expression equivalent to the model (one module per layer, plus
 * nn.Flatten() before a dense layer on (C, H, W) inputs), "modules" (torch's
 * repr of each), "input_shape", and "params": per parameter tensor, in
 * model.parameters() order, "name" (that Sequential's state_dict key,
 * "3.weight"), "ncopt_name" ("conv2.weight"), "shape" (torch's: Linear
 * (out, in), Conv2d (out, in, kh, kw)), "offset" and "length" in the flat
 * vector; `torch.nn.utils.vector_to_parameters(torch.from_numpy(
 * np.load("params.npy")), model.parameters())` loads it. Any other problem:
 * one entry {"name": "x", "shape": [dim]}. Also "dtype" ("float32"),
 * "total" (= entries of params.npy = the innermost problem's dim), and, when
 * pb has more parameters than the problem it wraps (the invex lifting's p),
 * an "aux" note: p is in aux.npy. *json_out is malloc'd, NUL-terminated, for
 * the caller to free (NULL on error). */
int nco_nn_layer_map_json(const nco_problem *pb, char **json_out);
/* The same written to path atomically (nco_write_file_atomic, run.h). */
int nco_nn_layer_map_write(const nco_problem *pb, const char *path);

/* Dropout mode and step (on the network under any wrappers). Training is
 * on at creation. NCO_ERR_INVALID if pb is not a network. */
int nco_nn_set_training(nco_problem *pb, int on);
int nco_nn_set_step(nco_problem *pb, uint64_t step);
uint64_t nco_nn_get_step(const nco_problem *pb);
int nco_nn_set_auto_step(nco_problem *pb, int on);

/* The non-trainable state ("Batch norm"): *state = the problem's live
 * float32 buffer of *n = nco_nn_state_dim entries (NULL, 0 when the model
 * has none), valid while the problem lives; evaluations may change it. */
int nco_nn_problem_state(nco_problem *pb, float **state, size_t *n);
/* Copies for checkpoints: n must be nco_nn_state_dim (NCO_ERR_SHAPE
 * otherwise); *committed (may be NULL) / committed is the step whose batch
 * statistics were folded in last (0: none). set_state refuses non-finite
 * entries. */
int nco_nn_get_state(const nco_problem *pb, float *out, size_t n, uint64_t *committed);
int nco_nn_set_state(nco_problem *pb, const float *in, size_t n, uint64_t committed);

/* Network outputs out[nb·outputs] (logits for cross-entropy) of batch
 * (idx, nb) at θ = x[0 .. dim), in the current dropout mode. */
int nco_nn_forward(nco_problem *pb, const float *x, const size_t *idx, size_t nb, float *out);

/* Held-out evaluation (dropout off): the loss of every sample of the
 * batch summed in double (½‖r_i‖² or the cross-entropy ℓ_i), its mean,
 * and the accuracy: the fraction of samples whose argmax output equals the
 * label (or the argmax of the target row; NAN when there is one output).
 * For the trace columns test_loss / test_acc, build a second problem on the
 * test set with the same model and call this with idx = NULL. */
typedef struct nco_nn_metrics {
  size_t n;           /* samples evaluated */
  double loss_sum;    /* Σ_i ℓ_i */
  double loss_mean;   /* loss_sum / n */
  double accuracy;    /* in [0, 1], or NAN */
} nco_nn_metrics;

int nco_nn_evaluate(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                    nco_nn_metrics *out);

/* Distance to the nearest kink at (x, batch): the smallest |z| over the
 * inputs z of ReLU / leaky ReLU / ELU layers and the smallest gap between
 * the largest and second-largest entry of every max-pool window (+inf if
 * the network has neither). Derivatives are smooth within that margin. */
int nco_nn_kink_margin(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                       double *margin);

#ifdef __cplusplus
}
#endif
#endif
