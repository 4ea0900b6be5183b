/* From a resolved config to the problem it describes: data (generated from
 * data.seed or read from .npy), the problem type, reduction, regulariser. */
#include <stdlib.h>
#include <string.h>

#include "ncopt/config.h"
#include "ncopt/npy.h"
#include "ncopt/reg.h"
#include "ncopt/status.h"

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

int nco_config_build_problem(const nco_config *cfg, nco_problem **out) {
  nco_array A = {0}, B = {0}, V = {0};
  nco_problem *pb = NULL;
  nco_rng rng;
  int st = NCO_OK, synth = !strcmp(cfg->data_source, "synthetic");
  const char *t = cfg->problem_type;
  *out = NULL;
  nco_rng_seed(&rng, cfg->data_seed);
  if (!strcmp(t, "linear_ls") || !strcmp(t, "glm") || !strcmp(t, "shallow") || !strcmp(t, "lowrank")) {
    if (synth) {
      if (!strcmp(t, "linear_ls"))
        st = nco_linear_ls_generate(cfg->data_n, cfg->data_d, cfg->data_noise, &rng, &A, &B);
      else if (!strcmp(t, "glm"))
        st = nco_glm_generate(cfg->data_n, cfg->data_d, &cfg->act, cfg->data_noise, cfg->data_binary, &rng, &A, &B);
      else if (!strcmp(t, "shallow"))
        st = nco_shallow_generate(cfg->data_n, cfg->data_d, cfg->data_k, &cfg->act, cfg->data_noise, &rng, &A, &B);
      else
        st = nco_lowrank_generate(cfg->data_n, cfg->data_d, cfg->data_rank, cfg->data_noise, &rng, &A, &B);
    } else {
      if (!(st = read_npy(cfg, cfg->data_features, "features", &A))) st = read_npy(cfg, cfg->data_targets, "targets", &B);
      if (!st && !strcmp(t, "shallow") && cfg->data_v[0]) st = read_npy(cfg, cfg->data_v, "v", &V);
    }
    if (st) goto done;
    if (!strcmp(t, "linear_ls"))
      st = nco_linear_ls_create(&A, &B, &pb);
    else if (!strcmp(t, "glm"))
      st = nco_glm_create(&A, &B, &cfg->act, &pb);
    else if (!strcmp(t, "shallow"))
      st = nco_shallow_create(&A, &B, cfg->problem_k, &cfg->act, cfg->data_v[0] ? &V : NULL, &pb);
    else
      st = nco_lowrank_create(&A, &B, cfg->problem_rank, &pb);
  } else if (!strcmp(t, "pca") || !strcmp(t, "matcomp")) {
    if (synth)
      st = !strcmp(t, "pca") ? nco_pca_generate(cfg->data_n, cfg->data_rank, cfg->data_gap, cfg->data_noise, &rng, &A)
                             : nco_matcomp_generate(cfg->data_n, cfg->data_rank, &rng, &A);
    else
      st = read_npy(cfg, cfg->data_matrix, "matrix", &A);
    if (st) goto done;
    if (!strcmp(t, "pca")) {
      st = nco_pca_create(&A, cfg->problem_rank, &pb);
    } else {
      nco_rng omega;
      nco_rng_derive(&rng, 7, &omega);
      st = nco_matcomp_create(&A, cfg->problem_rank, cfg->problem_p, &omega, &pb);
    }
  } else if (!strcmp(t, "matcomp_asym")) {
    st = synth ? nco_matcomp_asym_generate(cfg->data_n1, cfg->data_n2, cfg->data_rank, cfg->data_p, cfg->data_noise, &rng, &A)
               : read_npy(cfg, cfg->data_entries, "entries", &A);
    if (!st) st = nco_matcomp_asym_create(&A, cfg->data_n1, cfg->data_n2, cfg->problem_rank, &pb);
  } else if (!strcmp(t, "tensor")) {
    st = synth ? nco_tensor_generate(cfg->data_k, cfg->data_d, &rng, &A) : read_npy(cfg, cfg->data_components, "components", &A);
    if (!st) st = nco_tensor_create(&A, &pb);
  } else {
    st = nco_error(NCO_ERR_INVALID, "problem.type: unknown problem '%s'", t);
  }
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
done:
  nco_problem_free(pb);
  nco_array_free(&A), nco_array_free(&B), nco_array_free(&V);
  return st;
}
