/* From a resolved config to the problem it describes: data (generated from
 * data.seed, read from .npy, or for the networks from IDX, CSV or the
 * installed image sets), the problem type, reduction, regulariser; and the
 * run's starting point. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/config.h"
#include "ncopt/data.h"
#include "ncopt/nn.h"
#include "ncopt/npy.h"
#include "ncopt/reg.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"
#include "run/config_int.h" /* DEEP, cfg_word_in */
#include "run/problems.h"

static int read_npy(const nco_config *cfg, const char *path, const char *key, nco_array *a) {
  char full[2 * NCO_PATH_MAX + 2];
  if (path[0] == '/')
    snprintf(full, sizeof full, "%s", path);
  else
    snprintf(full, sizeof full, "%s/%s", cfg->spec_dir, path);
  int st = nco_npy_read(full, a);
  if (st) return nco_error_context(st, "data.%s", key);
  return NCO_OK;
}

/* ---- networks ------------------------------------------------------------ */

/* An error in the spec's values found while reading the data:
 * "FILE:LINE: section.key: what is wrong". */
static int located(const nco_config *cfg, int *spec_error, int st, const char *section, const char *key, const char *what) {
  char where[1200];
  if (spec_error) *spec_error = 1;
  nco_config_where(cfg, section, key, where, sizeof where);
  return nco_error(st, "%s: %s.%s: %s", where, section, key, what);
}

/* Largest label + 1 of a label vector (any numeric dtype; whole values). */
static int label_count(const nco_array *y, size_t *out) {
  double mx = -1;
  for (size_t i = 0; i < y->size; i++) {
    double v;
    switch (y->dtype) {
      case NCO_DTYPE_U8: v = ((const uint8_t *)y->data)[i]; break;
      case NCO_DTYPE_I32: v = ((const int32_t *)y->data)[i]; break;
      case NCO_DTYPE_I64: v = (double)((const int64_t *)y->data)[i]; break;
      case NCO_DTYPE_F32: v = ((const float *)y->data)[i]; break;
      default: v = ((const double *)y->data)[i]; break;
    }
    if (!(v >= 0) || v != floor(v) || v > 1e6)
      return nco_error(NCO_ERR_RANGE, "%s: label %g at index %zu is not a class index (a whole number ≥ 0)",
                       y->origin[0] ? y->origin : "labels", v, i);
    if (v > mx) mx = v;
  }
  *out = (size_t)(mx + 1);
  return NCO_OK;
}

/* Keeps n rows (random from rng, or the first n). */
static int keep(const nco_config *cfg, int *se, nco_array *x, nco_array *y, size_t n, nco_rng *rng, const char *key) {
  if (!n || !x->ndim) return NCO_OK;
  if (n > x->shape[0]) {
    char m[400];
    snprintf(m, sizeof m, "%zu is more than the %zu samples available (%s)", n, x->shape[0], x->origin);
    return located(cfg, se, NCO_ERR_RANGE, "data", key, m);
  }
  return nco_data_subset(x, y, n, cfg->data_subset_order == 0 ? rng : NULL);
}

/* data.target = input | noisy_input: the targets are the (preprocessed)
 * inputs themselves, rows of (n, D) — a reconstruction; noisy_input adds
 * N(0, σ²) to the inputs (drawn once from rng, a stream of data.seed), the
 * clean images being the targets — a denoising problem. */
static int image_targets(const nco_config *cfg, nco_array *X, nco_array *Y, nco_rng *rng) {
  int st;
  size_t n = X->shape[0], D = X->size / (n ? n : 1), shape[2] = {n, D};
  nco_array T = {0};
  if ((st = nco_array_to_f32(X)) || (st = nco_array_alloc(&T, NCO_DTYPE_F32, 2, shape, "input images (data.target)")))
    return st;
  memcpy(T.data, X->data, X->size * sizeof(float));
  nco_array_free(Y);
  *Y = T;
  if (cfg->data_target == 2 && cfg->data_target_noise > 0) {
    float *x = X->data;
    for (size_t i = 0; i < X->size; i++) x[i] += (float)(cfg->data_target_noise * nco_rng_normal(rng));
  }
  return NCO_OK;
}

/* Training (and test) arrays of a network's data, preprocessed: held-out
 * split, subsets, scaling, downsampling, standardisation. The training set
 * never depends on whether the test set is wanted. */
static int nn_data(const nco_config *cfg, int *se, int want_test, nco_array *X, nco_array *Y, nco_array *Xt, nco_array *Yt) {
  const char *src = cfg->data_source;
  int st = NCO_OK;
  if (!strcmp(src, "fashion-mnist")) {
    st = nco_data_load_named(src, "train", X, Y);
    if (!st && want_test) st = nco_data_load_named(src, "test", Xt, Yt);
  } else if (!strcmp(src, "mnist")) {
    st = nco_data_load_named(src, "all", X, Y);
  } else if (!strcmp(src, "idx")) {
    st = nco_idx_read_pair(cfg->data_images, cfg->data_labels, 0, X, Y);
    if (!st && want_test && cfg->data_test_images[0])
      st = nco_idx_read_pair(cfg->data_test_images, cfg->data_test_labels, 0, Xt, Yt);
  } else if (!strcmp(src, "csv")) {
    st = nco_csv_read(cfg->data_path, cfg->data_label, X, Y);
    if (!st && want_test && cfg->data_test_path[0]) st = nco_csv_read(cfg->data_test_path, cfg->data_label, Xt, Yt);
  } else {
    if (!(st = nco_npy_read(cfg->data_features, X))) {
      if (cfg->data_targets[0] || !cfg->data_target) {
        st = nco_npy_read(cfg->data_targets, Y);
      } else if (!(st = nco_array_alloc(Y, NCO_DTYPE_F32, 1, X->shape, "targets (data.target: made from the images)"))) {
        memset(Y->data, 0, Y->size * sizeof(float)); /* image targets need no file: image_targets fills Y */
      }
    }
    if (!st && (X->ndim < 2 || Y->ndim < 1 || Y->shape[0] != X->shape[0])) {
      char a[64], b[64], m[400];
      snprintf(m, sizeof m, "features %s and targets %s: expected (n, ...) and (n) or (n, k)",
               nco_array_shape_str(X, a, sizeof a), nco_array_shape_str(Y, b, sizeof b));
      return located(cfg, se, NCO_ERR_SHAPE, "data", "targets", m);
    }
  }
  if (st) return nco_error_context(st, "data.source = %s", src);
  nco_rng root, r_split, r_sub, r_tsub;
  nco_rng_seed(&root, cfg->data_seed);
  nco_rng_derive(&root, 11, &r_split);
  nco_rng_derive(&root, 12, &r_sub);
  nco_rng_derive(&root, 13, &r_tsub);
  if (cfg->data_test_fraction > 0) {
    size_t N = X->shape[0], nt = (size_t)floor(cfg->data_test_fraction * (double)N + 0.5);
    if (nt < 1 || nt >= N) {
      char m[200];
      snprintf(m, sizeof m, "holds out %zu of %zu samples: at least 1 must be in each part", nt, N);
      return located(cfg, se, NCO_ERR_RANGE, "data", "test_fraction", m);
    }
    nco_array a = {0}, b = {0};
    if ((st = nco_data_split(X, Y, nt, &r_split, &a, &b))) return st;
    if (want_test) {
      *Xt = a, *Yt = b;
    } else {
      nco_array_free(&a), nco_array_free(&b);
    }
  }
  if ((st = keep(cfg, se, X, Y, cfg->data_subset, &r_sub, "subset"))) return st;
  if (Xt->ndim && (st = keep(cfg, se, Xt, Yt, cfg->data_test_subset, &r_tsub, "test_subset"))) return st;
  /* scale: auto = uint8 ÷ 255, else as read; uint8 features that are all
   * 0 or 1 (a bool .npy, binary images) stay as they are: ÷ 255 would
   * turn them into 0 and 0.0039 (decided on the training set, applied to
   * both sets alike) */
  nco_array *xs[2] = {X, Xt};
  int binary = X->dtype == NCO_DTYPE_U8;
  for (size_t j = 0; binary && j < X->size; j++) binary = ((const uint8_t *)X->data)[j] <= 1;
  for (int i = 0; i < 2; i++) {
    nco_array *a = xs[i];
    if (!a->ndim) continue;
    int unit = cfg->data_scale == 2 || (cfg->data_scale == 0 && a->dtype == NCO_DTYPE_U8 && !binary);
    if (unit && a->dtype != NCO_DTYPE_U8) {
      char m[400];
      snprintf(m, sizeof m, "unit scaling divides uint8 images by 255; %s holds %s (use none or standardize)", a->origin,
               nco_dtype_name(a->dtype));
      return located(cfg, se, NCO_ERR_INVALID, "data", "scale", m);
    }
    if ((st = unit ? nco_data_scale_u8(a) : nco_array_to_f32(a))) return st;
  }
  if (cfg->data_downsample) {
    for (int i = 0; i < 2; i++) {
      nco_array *a = xs[i], r = {0};
      if (!a->ndim) continue;
      if (a->ndim != 3 && a->ndim != 4) {
        char m[400], sh[64];
        snprintf(m, sizeof m, "needs images (n, H, W) or (n, C, H, W); %s has shape %s", a->origin,
                 nco_array_shape_str(a, sh, sizeof sh));
        return located(cfg, se, NCO_ERR_SHAPE, "data", "downsample", m);
      }
      if ((st = nco_data_resize_area(a, cfg->data_downsample, cfg->data_downsample, &r))) return st;
      nco_array_free(a);
      *a = r;
    }
  }
  if (cfg->data_scale == 3) {
    nco_standardizer sd = {0};
    if (!(st = nco_standardizer_fit(&sd, X)) && !(st = nco_standardizer_apply(&sd, X)) && Xt->ndim)
      st = nco_standardizer_apply(&sd, Xt);
    nco_standardizer_free(&sd);
    if (st) return st;
  }
  if (cfg->data_target) {
    nco_rng r_noise[2];
    nco_rng_derive(&root, 14, &r_noise[0]);
    nco_rng_derive(&root, 15, &r_noise[1]);
    if ((st = image_targets(cfg, X, Y, &r_noise[0])) || (Xt->ndim && (st = image_targets(cfg, Xt, Yt, &r_noise[1]))))
      return st;
  }
  return NCO_OK;
}

/* problem.type = network: the graph of the spec's [network] lines, on the
 * data's per-sample shape, with as many outputs as classes. */
int nco_config_network(const nco_config *cfg, size_t data_ndim, const size_t *data_shape, nco_nn_model **out) {
  nco_spec *s = NULL;
  *out = NULL;
  int st = nco_spec_new(&s);
  for (size_t i = 0; !st && i < cfg->nnet; i++)
    st = nco_spec_put(s, "network", cfg->net[i].key, cfg->net[i].value, cfg->spec_path, cfg->net[i].line);
  if (!st) st = nco_nn_graph_from_spec(s, data_ndim, data_shape, out);
  nco_spec_free(s);
  return st;
}

static int net_model(const nco_config *cfg, int *se, const nco_array *X, size_t classes, nco_nn_model **out) {
  int st = nco_config_network(cfg, X->ndim - 1, X->shape + 1, out);
  if (st) {
    *se = 1; /* its message names FILE:LINE */
    return st;
  }
  if (nco_nn_out_size(*out) != classes) {
    char m[300];
    snprintf(m, sizeof m, "the network's output has %zu values per sample; the data have %zu classes (or target columns)",
             nco_nn_out_size(*out), classes);
    nco_nn_model_free(*out);
    *out = NULL;
    return located(cfg, se, NCO_ERR_SHAPE, "problem", "type", m);
  }
  return NCO_OK;
}

/* resnet | vgg | unet through their builders (src/nn/builders.c), with the
 * spec's parsed keys (config_check.c) on the images' (C, H, W) */
static int deep_model(const nco_config *cfg, const size_t *s, size_t classes, nco_nn_model **out) {
  const char *t = cfg->problem_type;
  size_t n = cfg->nchannels;
  if (!strcmp(t, "resnet")) {
    nco_nn_resnet_opts o = nco_nn_resnet_defaults(s[0], s[1], s[2], classes);
    o.nstages = n, o.skips = (nco_nn_resnet_skips)cfg->skips, o.bn = cfg->bn, o.act = cfg->act;
    for (size_t i = 0; i < n; i++) o.channels[i] = cfg->channels[i], o.blocks[i] = cfg->blocks[cfg->nblocks == 1 ? 0 : i];
    return nco_nn_resnet(&o, out);
  }
  if (!strcmp(t, "vgg")) {
    nco_nn_vgg_opts o = nco_nn_vgg_defaults(s[0], s[1], s[2], classes);
    o.nblocks = n, o.bn = (nco_nn_vgg_bn)cfg->bn, o.act = cfg->act;
    for (size_t i = 0; i < n; i++) o.channels[i] = cfg->channels[i], o.convs[i] = cfg->convs[i];
    return nco_nn_vgg(&o, out);
  }
  nco_nn_unet_opts o = nco_nn_unet_defaults(s[0], s[1], s[2]);
  o.depth = cfg->depth, o.skips = cfg->skips, o.bn = cfg->bn, o.act = cfg->act;
  for (size_t i = 0; i < n; i++) o.channels[i] = cfg->channels[i];
  return nco_nn_unet(&o, out);
}

static int nn_model(const nco_config *cfg, int *se, const nco_array *X, size_t classes, nco_nn_model **out) {
  nco_nn_model *m = NULL;
  int st;
  if (nco_prob_of(cfg)->kind == NCO_PROB_NET_GRAPH) return net_model(cfg, se, X, classes, out);
  size_t in_shape[3];
  int lenet = !strcmp(cfg->problem_type, "lenet"), deep = cfg_word_in(cfg->problem_type, DEEP);
  *out = NULL;
  if (lenet || deep) {
    if (X->ndim == 3)
      in_shape[0] = 1, in_shape[1] = X->shape[1], in_shape[2] = X->shape[2];
    else if (X->ndim == 4)
      in_shape[0] = X->shape[1], in_shape[1] = X->shape[2], in_shape[2] = X->shape[3];
    else {
      char m2[400], sh[64];
      snprintf(m2, sizeof m2, "%s needs images (n, H, W) or (n, C, H, W); %s has shape %s", cfg->problem_type, X->origin,
               nco_array_shape_str(X, sh, sizeof sh));
      return located(cfg, se, NCO_ERR_SHAPE, "problem", "type", m2);
    }
    if (deep) {
      st = deep_model(cfg, in_shape, classes, &m);
      if (st) {
        char m2[1400];
        snprintf(m2, sizeof m2, "%.1200s", nco_last_error());
        return located(cfg, se, st, "problem", "type", m2);
      }
      if (nco_nn_out_size(m) != classes) { /* a U-Net's image against the targets' columns */
        char m2[300];
        snprintf(m2, sizeof m2, "the network's output has %zu values per sample; the targets have %zu", nco_nn_out_size(m),
                 classes);
        nco_nn_model_free(m);
        return located(cfg, se, NCO_ERR_SHAPE, "problem", "type", m2);
      }
      *out = m;
      return NCO_OK;
    }
    st = nco_nn_model_create(3, in_shape, &m);
  } else {
    in_shape[0] = X->size / X->shape[0];
    st = nco_nn_model_create(1, in_shape, &m);
  }
  if (st) return st;
  const nco_act *a = &cfg->act;
  if (lenet) {
    /* LeNet-5 as nco_nn_lenet5 (issue 5's benchmark), with the spec's
     * activation and dropout */
    if (!(st = nco_nn_add_conv2d(m, 6, 5, 5, 1, 2, 1)) && !(st = nco_nn_add_act(m, a)) && !(st = nco_nn_add_maxpool2d(m, 2, 0)) &&
        !(st = nco_nn_add_conv2d(m, 16, 5, 5, 1, 0, 1)) && !(st = nco_nn_add_act(m, a)) &&
        !(st = nco_nn_add_maxpool2d(m, 2, 0))) {
      static const size_t fc[2] = {120, 84};
      for (int i = 0; i < 2 && !st; i++) {
        if (!(st = nco_nn_add_dense(m, fc[i], 1)) && !(st = nco_nn_add_act(m, a)) && cfg->dropout > 0)
          st = nco_nn_add_dropout(m, cfg->dropout);
      }
    }
  } else {
    for (size_t i = 0; i < cfg->nwidths && !st; i++)
      if (!(st = nco_nn_add_dense(m, cfg->widths[i], 1)) && !(st = nco_nn_add_act(m, a)) && cfg->dropout > 0)
        st = nco_nn_add_dropout(m, cfg->dropout);
  }
  if (!st) st = nco_nn_add_dense(m, classes, 1);
  if (st) {
    nco_nn_model_free(m);
    char sh[64], msg[1600];
    snprintf(msg, sizeof msg, "%s does not fit the inputs %s (%.200s): %.900s", cfg->problem_type, nco_array_shape_str(X, sh, sizeof sh),
             X->origin, nco_last_error());
    return located(cfg, se, st, "problem", "type", msg);
  }
  *out = m;
  return NCO_OK;
}

static int build_nn(const nco_config *cfg, int *se, int want_test, nco_problem **pb, nco_problem **test) {
  nco_array X = {0}, Y = {0}, Xt = {0}, Yt = {0};
  nco_nn_model *m = NULL;
  int st = nn_data(cfg, se, want_test, &X, &Y, &Xt, &Yt);
  size_t classes = 0;
  if (st) goto done;
  if (Y.ndim == 2) {
    classes = Y.shape[1];
    if (cfg->data_classes && cfg->data_classes != classes) {
      char m2[400];
      snprintf(m2, sizeof m2, "%zu, but the targets %s have %zu columns", cfg->data_classes, Y.origin, classes);
      st = located(cfg, se, NCO_ERR_SHAPE, "data", "classes", m2);
      goto done;
    }
  } else if (cfg->data_classes) {
    classes = cfg->data_classes;
  } else if (!strcmp(cfg->data_source, "fashion-mnist") || !strcmp(cfg->data_source, "mnist")) {
    classes = 10;
  } else {
    size_t c1 = 0, c2 = 0;
    if ((st = label_count(&Y, &c1)) || (Yt.ndim && (st = label_count(&Yt, &c2)))) goto done;
    classes = c1 > c2 ? c1 : c2;
    if (classes < 2) classes = 2;
  }
  if ((st = nn_model(cfg, se, &X, classes, &m))) goto done;
  static const nco_nn_loss losses[] = {NCO_NN_LOSS_CROSS_ENTROPY, NCO_NN_LOSS_LEAST_SQUARES, NCO_NN_LOSS_MSE};
  nco_nn_opts o = nco_nn_defaults(losses[cfg->nn_loss % 3]);
  o.reduction = (int)cfg->reduction;
  static const nco_nn_init_kind kinds[] = {NCO_NN_INIT_TORCH, NCO_NN_INIT_XAVIER_UNIFORM, NCO_NN_INIT_KAIMING_NORMAL,
                                           NCO_NN_INIT_NORMAL};
  o.init = kinds[cfg->nn_init & 3];
  o.init_sigma = cfg->init_sigma;
  nco_rng root, dr;
  nco_rng_seed(&root, cfg->seed);
  nco_rng_derive(&root, 4, &dr);
  o.dropout_seed = nco_rng_u64(&dr);
  if ((st = nco_nn_problem_create(m, &X, &Y, &o, pb))) goto done;
  if (test && Xt.ndim && (st = nco_nn_problem_create(m, &Xt, &Yt, &o, test))) {
    nco_problem_free(*pb);
    *pb = NULL;
    goto done;
  }
done:
  nco_nn_model_free(m);
  nco_array_free(&X), nco_array_free(&Y), nco_array_free(&Xt), nco_array_free(&Yt);
  return st;
}

/* ---- the zoo's builders (the registry's, problems.c) ------------------------ */

/* features and targets: synthetic from gen, or data.features/targets */
static int ls_data(const nco_config *cfg, nco_array *A, nco_array *B, int synth_st) {
  int st = synth_st;
  if (strcmp(cfg->data_source, "synthetic") && !(st = read_npy(cfg, cfg->data_features, "features", A)))
    st = read_npy(cfg, cfg->data_targets, "targets", B);
  return st;
}
#define SYNTH(cfg) (!strcmp((cfg)->data_source, "synthetic"))

int nco_build_linear_ls(const nco_config *cfg, nco_rng *rng, nco_problem **out) {
  nco_array A = {0}, B = {0};
  int st = ls_data(cfg, &A, &B, SYNTH(cfg) ? nco_linear_ls_generate(cfg->data_n, cfg->data_d, cfg->data_noise, rng, &A, &B) : 0);
  if (!st) st = nco_linear_ls_create(&A, &B, out);
  nco_array_free(&A), nco_array_free(&B);
  return st;
}

int nco_build_glm(const nco_config *cfg, nco_rng *rng, nco_problem **out) {
  nco_array A = {0}, B = {0};
  int st = ls_data(cfg, &A, &B,
                   SYNTH(cfg) ? nco_glm_generate(cfg->data_n, cfg->data_d, &cfg->act, cfg->data_noise, cfg->data_binary, rng, &A, &B)
                              : 0);
  if (!st) st = nco_glm_create(&A, &B, &cfg->act, out);
  nco_array_free(&A), nco_array_free(&B);
  return st;
}

int nco_build_shallow(const nco_config *cfg, nco_rng *rng, nco_problem **out) {
  nco_array A = {0}, B = {0}, V = {0};
  int st = ls_data(cfg, &A, &B,
                   SYNTH(cfg) ? nco_shallow_generate(cfg->data_n, cfg->data_d, cfg->data_k, &cfg->act, cfg->data_noise, rng, &A, &B)
                              : 0);
  if (!st && !SYNTH(cfg) && cfg->data_v[0]) st = read_npy(cfg, cfg->data_v, "v", &V);
  if (!st) st = nco_shallow_create(&A, &B, cfg->problem_k, &cfg->act, cfg->data_v[0] ? &V : NULL, out);
  nco_array_free(&A), nco_array_free(&B), nco_array_free(&V);
  return st;
}

int nco_build_lowrank(const nco_config *cfg, nco_rng *rng, nco_problem **out) {
  nco_array A = {0}, B = {0};
  int st = ls_data(cfg, &A, &B,
                   SYNTH(cfg) ? nco_lowrank_generate(cfg->data_n, cfg->data_d, cfg->data_rank, cfg->data_noise, rng, &A, &B) : 0);
  if (!st) st = nco_lowrank_create(&A, &B, cfg->problem_rank, out);
  nco_array_free(&A), nco_array_free(&B);
  return st;
}

int nco_build_pca(const nco_config *cfg, nco_rng *rng, nco_problem **out) {
  nco_array A = {0};
  int st = SYNTH(cfg) ? nco_pca_generate(cfg->data_n, cfg->data_rank, cfg->data_gap, cfg->data_noise, rng, &A)
                      : read_npy(cfg, cfg->data_matrix, "matrix", &A);
  if (!st) st = nco_pca_create(&A, cfg->problem_rank, out);
  nco_array_free(&A);
  return st;
}

int nco_build_matcomp(const nco_config *cfg, nco_rng *rng, nco_problem **out) {
  nco_array A = {0};
  int st = SYNTH(cfg) ? nco_matcomp_generate(cfg->data_n, cfg->data_rank, rng, &A) : read_npy(cfg, cfg->data_matrix, "matrix", &A);
  if (!st) {
    nco_rng omega;
    nco_rng_derive(rng, 7, &omega);
    st = nco_matcomp_create(&A, cfg->problem_rank, cfg->problem_p, &omega, out);
  }
  nco_array_free(&A);
  return st;
}

int nco_build_matcomp_asym(const nco_config *cfg, nco_rng *rng, nco_problem **out) {
  nco_array A = {0};
  int st = SYNTH(cfg) ? nco_matcomp_asym_generate(cfg->data_n1, cfg->data_n2, cfg->data_rank, cfg->data_p, cfg->data_noise, rng, &A)
                      : read_npy(cfg, cfg->data_entries, "entries", &A);
  if (!st) st = nco_matcomp_asym_create(&A, cfg->data_n1, cfg->data_n2, cfg->problem_rank, out);
  nco_array_free(&A);
  return st;
}

int nco_build_tensor(const nco_config *cfg, nco_rng *rng, nco_problem **out) {
  nco_array A = {0};
  int st = SYNTH(cfg) ? nco_tensor_generate(cfg->data_k, cfg->data_d, rng, &A) : read_npy(cfg, cfg->data_components, "components", &A);
  if (!st) st = nco_tensor_create(&A, out);
  nco_array_free(&A);
  return st;
}

/* ---- every problem ----------------------------------------------------------- */

int nco_config_build_problem(const nco_config *cfg, nco_problem **out) { return nco_config_build_problems(cfg, 0, out, NULL, NULL); }

int nco_config_build_problems(const nco_config *cfg, int want_test, nco_problem **out, nco_problem **test_out, int *se) {
  nco_problem *pb = NULL, *test = NULL;
  nco_rng rng;
  int st = NCO_OK;
  const nco_prob_info *info = nco_prob_of(cfg);
  *out = NULL;
  if (test_out) *test_out = NULL;
  if (se) *se = 0;
  want_test = want_test || cfg->eval_every > 0;
  nco_rng_seed(&rng, cfg->data_seed);
  if (!info)
    st = nco_error(NCO_ERR_INVALID, "problem.type: unknown problem '%s'", cfg->problem_type);
  else if (info->kind != NCO_PROB_ZOO)
    st = build_nn(cfg, se, want_test && test_out, &pb, test_out ? &test : NULL);
  else
    st = info->build(cfg, &rng, &pb);
  if (st) goto done;
  nco_problem_set_reduction(pb, cfg->reduction);
  if (cfg->reg == NCO_REG_L2) {
    nco_problem *w;
    if ((st = nco_l2_wrap(pb, cfg->reg_lambda, 1, &w))) {
      pb = NULL;
      goto done;
    }
    pb = w;
  } else if (cfg->reg == NCO_REG_INVEX) {
    nco_problem *w;
    if ((st = nco_invex_wrap(pb, cfg->reg_lambda, 1, &w))) {
      pb = NULL;
      goto done;
    }
    pb = w;
  }
  nco_problem_set_reduction(pb, cfg->reduction);
  *out = pb;
  pb = NULL;
  if (test_out) *test_out = test, test = NULL;
done:
  nco_problem_free(pb);
  nco_problem_free(test);
  return st;
}

/* ---- the starting point -------------------------------------------------------- */

int nco_config_initial_point(const nco_config *cfg, nco_problem *pb, float *theta0, int *spec_error) {
  int st;
  size_t dim = pb->dim, dim_x = nco_problem_root(pb)->dim;
  if (spec_error) *spec_error = 0;
  nco_fill(dim, 0, theta0);
  if (!strcmp(cfg->init, "zeros")) {
    /* θ₀ = 0: Crane & Roosta's Theorem 1 starts the invex lifting at (0, 0) */
  } else if (cfg->init[0] && strcmp(cfg->init, "default")) {
    nco_array a = {0};
    char where[1200];
    nco_config_where(cfg, "run", "init", where, sizeof where);
    if ((st = nco_npy_read(cfg->init, &a))) return nco_error_context(st, "%s: run.init", where);
    if ((st = nco_array_to_f32(&a))) {
      nco_array_free(&a);
      return nco_error_context(st, "%s: run.init", where);
    }
    if (a.size != dim && a.size != dim_x) {
      size_t got = a.size;
      nco_array_free(&a);
      if (spec_error) *spec_error = 1;
      return nco_error(NCO_ERR_SHAPE, "%s: run.init: %s holds %zu values, the problem has %zu parameters", where, cfg->init,
                       got, dim_x);
    }
    /* the invex lifting starts at (x0, 0) (Crane & Roosta, Corollary 1) */
    nco_copy(a.size, a.data, theta0);
    nco_array_free(&a);
  } else {
    nco_rng root, init_rng;
    nco_rng_seed(&root, cfg->seed);
    nco_rng_derive(&root, 1, &init_rng);
    if ((st = nco_problem_init(pb, &init_rng, theta0))) return st;
  }
  size_t bad = nco_first_nonfinite(dim, theta0);
  if (bad < dim) return nco_error(NCO_ERR_NONFINITE, "run.init: parameter %zu is not finite", bad);
  return NCO_OK;
}
