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

#ifdef __cplusplus
extern "C" {
#endif

#define NCO_PATH_MAX 1024
#define NCO_CONFIG_MAX_KEYS 128

typedef enum nco_sampling { NCO_SAMPLE_RESHUFFLE = 0, NCO_SAMPLE_REPLACEMENT, NCO_SAMPLE_CYCLIC } nco_sampling;
typedef enum nco_reg_kind { NCO_REG_NONE = 0, NCO_REG_L2, NCO_REG_INVEX } nco_reg_kind;

/* Probes: recorded as trace columns. every = 0 off; NCO_PROBE_AT_LOG (=-1
 * in the spec as `true`) at every logged step; K > 0 every K steps. */
#define NCO_PROBE_LIST(X)                                                           \
  X(grad_norm, "‖∇f(θ_t)‖, the full-batch gradient norm")                         \
  X(dist_init, "‖θ_t − θ_0‖")                                                       \
  X(path_length, "Σ_s ‖θ_{s+1} − θ_s‖")                                             \
  X(loss_unreg, "the non-regularised full-batch f(x_t) (regularised runs)")

typedef enum nco_probe_id {
#define NCO_X_PROBE(name, help) NCO_PROBE_##name,
  NCO_PROBE_LIST(NCO_X_PROBE)
#undef NCO_X_PROBE
      NCO_PROBE_COUNT
} nco_probe_id;

#define NCO_PROBE_AT_LOG ((int64_t)-1)

typedef struct nco_config {
  /* [data] */
  char data_source[32];           /* synthetic | npy */
  uint64_t data_seed;             /* synthetic generator seed */
  size_t data_n, data_d, data_rank, data_k, data_n1, data_n2;
  double data_noise, data_gap, data_p;
  int data_binary;
  char data_features[NCO_PATH_MAX], data_targets[NCO_PATH_MAX], data_matrix[NCO_PATH_MAX],
      data_entries[NCO_PATH_MAX], data_components[NCO_PATH_MAX], data_v[NCO_PATH_MAX];
  /* [problem] */
  char problem_type[32];          /* linear_ls | glm | lowrank | pca | matcomp | matcomp_asym | tensor | shallow */
  nco_act act;                    /* activation, slope, mix */
  size_t problem_rank, problem_k;
  double problem_p;
  nco_reduction reduction;
  /* [regularizer] */
  nco_reg_kind reg;
  double reg_lambda;
  /* [optimizer] */
  const nco_optim_type *optim;
  nco_optim_params hp;
  size_t batch;                   /* 0 = full batch */
  nco_sampling sampling;
  /* [schedule] */
  nco_schedule sched;
  /* [run] */
  uint64_t iterations, epochs;    /* exactly one > 0 */
  uint64_t seed;
  char init[NCO_PATH_MAX];        /* .npy starting point or "" */
  uint64_t log_every, checkpoint_every;
  double target_loss, grad_tol, max_seconds;
  /* [probes] */
  int64_t probe_every[NCO_PROBE_COUNT];
  /* where the spec came from, and where each key was set (for errors
   * found after resolution, e.g. a batch larger than the data) */
  char spec_dir[NCO_PATH_MAX];
  char spec_path[NCO_PATH_MAX];
  int spec_nlines;
  int key_line[NCO_CONFIG_MAX_KEYS];  /* > 0 line in spec_path, < 0 the K-th --set, 0 unset */
  int section_line[8];                /* [section] header lines */
} nco_config;

/* Resolves and validates a spec into cfg (every error located). Marks the
 * entries it consumed; any entry left is an unknown key (with a "did you
 * mean" suggestion) or does not apply to the chosen types. */
int nco_config_from_spec(nco_spec *spec, nco_config *cfg);

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

const char *nco_probe_name(nco_probe_id id);

#ifdef __cplusplus
}
#endif
#endif
