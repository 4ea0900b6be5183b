/* Validation of a resolved spec: the data source against the problem
 * (problem registry, problems.c), names data sets, paths, and the
 * optimizer's relations (nco_optim_validate, located at the key's line). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/data.h"
#include "ncopt/nn.h"
#include "ncopt/status.h"
#include "run/config_int.h"
#include "run/problems.h"
#include <unistd.h>

int nco_config_is_network(const nco_config *cfg) {
  const nco_prob_info *p = nco_prob_of(cfg);
  return p && p->kind != NCO_PROB_ZOO;
}

int nco_config_is_least_squares(const nco_config *cfg) {
  const nco_prob_info *p = nco_prob_of(cfg);
  if (p && (p->needs & NCO_PROB_NO_RESIDUALS)) return 0;
  if (nco_config_is_network(cfg)) return cfg->nn_loss != 0; /* least_squares, mse: residuals */
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

NCO_HIDDEN const char *cfg_optim_names(char *buf, size_t len) {
  buf[0] = '\0';
  for (size_t i = 0; nco_optim_types[i]; i++) {
    if (i) strncat(buf, " ", len - strlen(buf) - 1);
    strncat(buf, nco_optim_type_name(nco_optim_types[i]), len - strlen(buf) - 1);
  }
  return buf;
}

/* The keys resolved first: problem.type, data.source, optimizer.type,
 * schedule.type. */
NCO_HIDDEN int cfg_is_type_key(const key *k) {
  return k->type == T_OPTIM || k->type == T_SCHED || (!strcmp(k->section, "problem") && !strcmp(k->name, "type")) ||
         (!strcmp(k->section, "data") && !strcmp(k->name, "source"));
}

/* Locates an error of the optimiser's or schedule's own validation, whose
 * message reads "optimizer.KEY = V: what" or "schedule.KEY = V: what", at
 * the key's line: "FILE:LINE: optimizer.KEY: what (got V)". */
NCO_HIDDEN int cfg_relocate(const nco_spec *spec, int st) {
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
NCO_HIDDEN int cfg_absolute_path(const nco_spec *spec, const key *k, const char *dir, char *path) {
  if (path[0] == '/') return NCO_OK;
  char base[PATH_MAX], full[2 * PATH_MAX + 2];
  if (!realpath(dir && *dir ? dir : ".", base))
    return cfg_kerr(spec, nco_spec_find(spec, k->section, k->name), k->section, k->name, NCO_ERR_IO,
                "cannot resolve the spec's folder %s", dir, NULL);
  snprintf(full, sizeof full, "%s%s%s", base, strcmp(base, "/") ? "/" : "", path);
  if (strlen(full) >= NCO_PATH_MAX)
    return cfg_kerr(spec, nco_spec_find(spec, k->section, k->name), k->section, k->name, NCO_ERR_INVALID, "path too long",
                NULL, NULL);
  strcpy(path, full);
  return NCO_OK;
}

/* A comma list of sizes "256, 128" (problem.KEY's text) into out[≤ cap]. */
static int parse_sizes(const nco_spec *spec, const char *key, const char *noun, const char *text, size_t *out, size_t cap,
                       size_t *n) {
  *n = 0;
  const char *p = text;
  nco_spec_entry *e = nco_spec_find(spec, "problem", key);
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
    if (cfg_parse_u64(a, &w) || w < 1 || w > 1000000)
    {
      char m[160];
      snprintf(m, sizeof m, "'%.60s' is not %s (an integer in [1, 1000000])", a, noun);
      return cfg_kerr(spec, e, "problem", key, NCO_ERR_INVALID, "%s", m, NULL);
    }
    if (*n == cap) {
      char m[80];
      snprintf(m, sizeof m, "at most %zu values", cap);
      return cfg_kerr(spec, e, "problem", key, NCO_ERR_RANGE, "%s", m, NULL);
    }
    out[(*n)++] = (size_t)w;
    p += strcspn(p, ",");
    if (!*p) break;
    p++;
  }
  return NCO_OK;
}

static int parse_widths(const nco_spec *spec, nco_config *cfg) {
  return parse_sizes(spec, "widths", "a width", cfg->widths_text, cfg->widths, NCO_NN_MAX_WIDTHS, &cfg->nwidths);
}

/* resnet | vgg | unet: the lists, skips and bn in their builder's terms
 * (nn.h), every error at its key's line. */
static int parse_deep(const nco_spec *spec, nco_config *cfg) {
  const char *t = cfg->problem_type;
  int st, resnet = !strcmp(t, "resnet"), vgg = !strcmp(t, "vgg"), unet = !strcmp(t, "unet");
  if (!resnet && !vgg && !unet) return NCO_OK;
  if ((st = parse_sizes(spec, "channels", "a width", cfg->channels_text, cfg->channels, 8, &cfg->nchannels))) return st;
  nco_spec_entry *ec = nco_spec_find(spec, "problem", "channels"), *es = nco_spec_find(spec, "problem", "skips"),
                 *eb = nco_spec_find(spec, "problem", "bn");
  if (!cfg->nchannels) return cfg_kerr(spec, ec, "problem", "channels", NCO_ERR_INVALID, "needs at least one width", NULL, NULL);
  if (resnet && (st = parse_sizes(spec, "blocks", "a block count", cfg->blocks_text, cfg->blocks, 8, &cfg->nblocks))) return st;
  if (vgg && (st = parse_sizes(spec, "convs", "a conv count", cfg->convs_text, cfg->convs, 8, &cfg->nconvs))) return st;
  if (resnet && cfg->nblocks != 1 && cfg->nblocks != cfg->nchannels)
    return cfg_kerr(spec, nco_spec_find(spec, "problem", "blocks"), "problem", "blocks", NCO_ERR_INVALID,
                    "one number, or one per stage (channels has %s)", cfg->channels_text, NULL);
  if (vgg && cfg->nconvs != cfg->nchannels)
    return cfg_kerr(spec, nco_spec_find(spec, "problem", "convs"), "problem", "convs", NCO_ERR_INVALID,
                    "one count per block: channels = %s", cfg->channels_text, NULL);
  if (unet && cfg->nchannels != cfg->depth + 1)
    return cfg_kerr(spec, ec, "problem", "channels", NCO_ERR_INVALID, "needs depth + 1 widths (one per level): %s",
                    cfg->channels_text, NULL);
  /* skips */
  const char *sk = cfg->skips_text;
  unsigned long long K;
  char tail;
  if (resnet) {
    nco_nn_resnet_skips s;
    if (nco_nn_resnet_skips_parse(sk, &s))
      return cfg_kerr(spec, es, "problem", "skips", NCO_ERR_INVALID, "'%s': expected all, first, first_two or none", sk, NULL);
    cfg->skips = (int)s;
  } else if (unet) {
    if (!strcmp(sk, "all")) cfg->skips = NCO_NN_UNET_SKIPS_ALL;
    else if (!strcmp(sk, "none")) cfg->skips = 0;
    else if ((sscanf(sk, "last %llu%c", &K, &tail) == 1 || sscanf(sk, "%llu%c", &K, &tail) == 1) && K <= cfg->depth)
      cfg->skips = (int)K;
    else
      return cfg_kerr(spec, es, "problem", "skips", NCO_ERR_INVALID, "'%s': expected all, none or last K (K ≤ depth)", sk, NULL);
  }
  /* bn */
  const char *b = cfg->bn_text;
  if (vgg) {
    nco_nn_vgg_bn v;
    if (!strcmp(b, "true")) b = "all";
    if (!strcmp(b, "false")) b = "none";
    if (nco_nn_vgg_bn_parse(b, &v))
      return cfg_kerr(spec, eb, "problem", "bn", NCO_ERR_INVALID, "'%s': expected all, first or none", cfg->bn_text, NULL);
    cfg->bn = (int)v;
  } else if (!strcmp(b, "all") || !strcmp(b, "true")) {
    cfg->bn = 1;
  } else if (!strcmp(b, "none") || !strcmp(b, "false")) {
    cfg->bn = 0;
  } else {
    return cfg_kerr(spec, eb, "problem", "bn", NCO_ERR_INVALID, "'%s': expected all or none (vgg also: first)", b, NULL);
  }
  /* a U-Net's output is an image: a regression target */
  if (unet && (cfg->data_target == 0 || cfg->nn_loss == 0))
    return cfg_kerr(spec, nco_spec_find(spec, cfg->data_target ? "problem" : "data", cfg->data_target ? "loss" : "target"),
                    cfg->data_target ? "problem" : "data", cfg->data_target ? "loss" : "target", NCO_ERR_INVALID,
                    "%s", cfg->data_target ? "unet outputs an image: set loss = least_squares (or mse)"
                                           : "unet outputs an image: set data.target = input (reconstruction) or noisy_input",
                    NULL);
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
  return cfg_kerr(spec, nco_spec_find(spec, "data", "source"), "data", "source", NCO_ERR_IO, "%s", msg, NULL);
}

/* Combinations of the data source, the problem and the probes that cannot
 * work. */
NCO_HIDDEN int cfg_check_combinations(const nco_spec *spec, nco_config *cfg) {
  int net = nco_config_is_network(cfg), st;
  nco_spec_entry *src = nco_spec_find(spec, "data", "source");
  if (net && !cfg_word_in(cfg->data_source, NN_SOURCES))
    return cfg_kerr(spec, src, "data", "source", NCO_ERR_INVALID,
                "%s needs real data: set data.source = fashion-mnist | mnist | idx | csv | npy", cfg->problem_type, NULL);
  if (!net && !cfg_word_in(cfg->data_source, "synthetic npy")) {
    char m[200];
    snprintf(m, sizeof m, "source = %s is for the networks (problem.type = mlp | lenet); %s takes synthetic or npy",
             cfg->data_source, cfg->problem_type);
    return cfg_kerr(spec, src, "data", "source", NCO_ERR_INVALID, "%s", m, NULL);
  }
  if (net) {
    if ((st = parse_widths(spec, cfg)) || (st = parse_deep(spec, cfg))) return st;
    if ((nco_prob_of(cfg)->needs & NCO_PROB_IMAGES) && !strcmp(cfg->data_source, "csv"))
      return cfg_kerr(spec, src, "data", "source", NCO_ERR_INVALID, "lenet needs images; a CSV file has flat rows", NULL, NULL);
    if (cfg->data_downsample && !strcmp(cfg->data_source, "csv"))
      return cfg_kerr(spec, nco_spec_find(spec, "data", "downsample"), "data", "downsample", NCO_ERR_INVALID,
                  "needs images (n, H, W); a CSV file has flat rows", NULL, NULL);
    nco_spec_entry *is = nco_spec_find(spec, "problem", "init_sigma");
    if (is && cfg->nn_init != 3)
      return cfg_kerr(spec, is, "problem", "init_sigma", NCO_ERR_INVALID, "applies only with problem.init = normal", NULL, NULL);
    /* cross_entropy and mse are means over the batch, as torch's losses */
    if (!nco_spec_find(spec, "problem", "reduction") && cfg->nn_loss != 1) cfg->reduction = NCO_REDUCE_MEAN;
    if (!strcmp(cfg->data_source, "idx") && !cfg->data_test_images[0] != !cfg->data_test_labels[0]) {
      const char *k = cfg->data_test_images[0] ? "test_labels" : "test_images";
      return cfg_kerr(spec, nco_spec_find(spec, "data", cfg->data_test_images[0] ? "test_images" : "test_labels"), "data", k,
                  NCO_ERR_INVALID, "missing: test_images and test_labels go together", NULL, NULL);
    }
    int has_test = !strcmp(cfg->data_source, "fashion-mnist") || cfg->data_test_fraction > 0 ||
                   (!strcmp(cfg->data_source, "idx") && cfg->data_test_images[0]) ||
                   (!strcmp(cfg->data_source, "csv") && cfg->data_test_path[0]);
    int own_test = (!strcmp(cfg->data_source, "fashion-mnist")) || (!strcmp(cfg->data_source, "idx") && cfg->data_test_images[0]) ||
                   (!strcmp(cfg->data_source, "csv") && cfg->data_test_path[0]);
    if (own_test && cfg->data_test_fraction > 0)
      return cfg_kerr(spec, nco_spec_find(spec, "data", "test_fraction"), "data", "test_fraction", NCO_ERR_INVALID,
                  "this source has its own test set; remove test_fraction (or its test files)", NULL, NULL);
    if (cfg->eval_every && !has_test)
      return cfg_kerr(spec, nco_spec_find(spec, "run", "eval_every"), "run", "eval_every", NCO_ERR_INVALID,
                  "no held-out set: set data.test_fraction (or the source's test files)", NULL, NULL);
    if (!strcmp(cfg->data_source, "fashion-mnist") || !strcmp(cfg->data_source, "mnist")) {
      const char *split = !strcmp(cfg->data_source, "mnist") ? "all" : "train";
      if ((st = check_named(spec, cfg->data_source, split))) return st;
      if (!strcmp(cfg->data_source, "fashion-mnist") && cfg->eval_every && (st = check_named(spec, cfg->data_source, "test")))
        return st;
    }
  }
  /* probes that need what the problem or the spec does not have (config_probes.c) */
  return cfg_probe_requirements(spec, cfg);
}

/* The arrays data.source = npy | idx | csv must name: npy the problem's
 * (registry), idx and csv the networks' files. */
static int check_arrays(const nco_spec *spec, const nco_config *cfg) {
  static const struct { const char *source, *key; size_t off; } files[] = {
      {"npy", "features", offsetof(nco_config, data_features)}, {"npy", "targets", offsetof(nco_config, data_targets)},
      {"npy", "matrix", offsetof(nco_config, data_matrix)},     {"npy", "entries", offsetof(nco_config, data_entries)},
      {"npy", "components", offsetof(nco_config, data_components)}, {"idx", "images", offsetof(nco_config, data_images)},
      {"idx", "labels", offsetof(nco_config, data_labels)},     {"csv", "path", offsetof(nco_config, data_path)}};
  const nco_prob_info *pr = nco_prob_of(cfg);
  for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
    int needed = !strcmp(files[i].source, "npy") ? cfg_word_in(files[i].key, pr->npy) : pr->kind != NCO_PROB_ZOO;
    if (!strcmp(files[i].key, "targets") && pr->kind != NCO_PROB_ZOO && cfg->data_target) needed = 0; /* the images */
    if (strcmp(cfg->data_source, files[i].source) || !needed || *((const char *)cfg + files[i].off)) continue;
    char m[200];
    snprintf(m, sizeof m, "missing: source = %s needs data.%s for problem %s", files[i].source, files[i].key,
             cfg->problem_type);
    return cfg_kerr(spec, nco_spec_find(spec, "data", "source"), "data", files[i].key, NCO_ERR_INVALID, "%s", m, NULL);
  }
  return NCO_OK;
}

/* Combinations of the values (each depends on the keys being valid). */
int cfg_check_all(const nco_spec *spec, nco_config *cfg) {
  int st;
  nco_spec_entry *e;
  e = nco_spec_find(spec, "regularizer", "lambda");
  if (cfg->reg == NCO_REG_INVEX && !(cfg->reg_lambda > 0))
    return cfg_kerr(spec, e ? e : nco_spec_find(spec, "regularizer", "type"), "regularizer", "lambda", NCO_ERR_RANGE,
                "the invex lifting needs lambda > 0 (got %s)", e ? e->value : "the default 0", NULL);
  if (!nco_config_is_least_squares(cfg) && cfg->reg == NCO_REG_INVEX)
    return cfg_kerr(spec, nco_spec_find(spec, "regularizer", "type"), "regularizer", "type", NCO_ERR_INVALID,
                "invex needs a least-squares problem; %s has no residuals",
                nco_config_is_network(cfg) ? "a network with loss = cross_entropy" : cfg->problem_type, NULL);
  int req = nco_optim_type_requires(cfg->optim);
  if (req == 1 && !nco_config_is_least_squares(cfg))
    return cfg_kerr(spec, nco_spec_find(spec, "optimizer", "type"), "optimizer", "type", NCO_ERR_INVALID,
                "%s needs a least-squares problem; %s has no residuals", nco_optim_type_name(cfg->optim),
                nco_config_is_network(cfg) ? "a network with loss = cross_entropy" : cfg->problem_type);
  if (req == 2 && !(nco_prob_of(cfg)->needs & NCO_PROB_SPHERE))
    return cfg_kerr(spec, nco_spec_find(spec, "optimizer", "type"), "optimizer", "type", NCO_ERR_INVALID,
                "%s needs a problem on a manifold (the sphere: tensor); %s is Euclidean", nco_optim_type_name(cfg->optim),
                cfg->problem_type);
  if (req == 2 && cfg->reg != NCO_REG_NONE)
    return cfg_kerr(spec, nco_spec_find(spec, "regularizer", "type"), "regularizer", "type", NCO_ERR_INVALID,
                "a regularizer changes the parameter space; rgd needs the bare sphere problem", NULL, NULL);
  if ((st = cfg_check_combinations(spec, cfg))) return st;
  if ((st = check_arrays(spec, cfg))) return st;
  if (cfg->batch > 0 && !nco_optim_type_is_ask_tell(cfg->optim))
    return cfg_kerr(spec, nco_spec_find(spec, "optimizer", "batch"), "optimizer", "batch", NCO_ERR_INVALID,
                "%s is a full-batch method; set batch = 0", nco_optim_type_name(cfg->optim), NULL);
  /* the method's relations between keys (messages "optimizer.KEY = V: ..."),
   * at the key's line; the ranges were checked key by key (cfg_set_value) */
  if ((st = nco_optim_validate(cfg->optim, &cfg->hp))) return cfg_relocate(spec, st);
  nco_schedule sv = cfg->sched;
  if (!sv.T) sv.T = 1; /* auto: resolved by the run (nco_config_resolve_schedule) */
  if ((st = nco_schedule_validate(&sv))) return cfg_relocate(spec, st);
  if ((st = nco_act_validate(&cfg->act))) {
    char where[1200];
    nco_spec_locate(spec, "problem", "activation", where, sizeof where);
    return nco_error_context(st, "%s: problem.activation", where);
  }
  return NCO_OK;
}
