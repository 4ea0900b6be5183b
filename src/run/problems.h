/* src/run/problems.h — the problem registry (private): every problem.type
 * once, with its help, kind, the .npy arrays it reads, what it requires and
 * its builder. config (choices, applicability, requirements), build (the
 * builders), the listing (`ncopt list problems`) and docs/SPEC.md use it. */
#ifndef NCO_RUN_PROBLEMS_H
#define NCO_RUN_PROBLEMS_H

#include <stddef.h>

#include "ncopt/config.h"
#include "ncopt/problem.h"
#include "ncopt/rng.h"

#ifndef NCO_HIDDEN
#define NCO_HIDDEN __attribute__((visibility("hidden")))
#endif

typedef enum nco_prob_kind {
  NCO_PROB_ZOO = 0,     /* a problem of src/problems/ (synthetic generator or .npy) */
  NCO_PROB_NET_BUILDER, /* a network the [problem] keys build (mlp, lenet) */
  NCO_PROB_NET_GRAPH    /* the graph of the [network] section */
} nco_prob_kind;

/* requirements */
#define NCO_PROB_REAL_DATA 1u    /* not data.source = synthetic (the networks) */
#define NCO_PROB_SPHERE 2u       /* parameters on the unit sphere: what rgd needs */
#define NCO_PROB_NO_RESIDUALS 4u /* not least squares (no residuals): no lm, invex, Jacobian probes */
#define NCO_PROB_IMAGES 8u       /* needs images (n, H, W): no CSV */

typedef struct nco_prob_info {
  const char *name;
  const char *help;  /* one line, with the paper it follows */
  nco_prob_kind kind;
  const char *npy;   /* data keys that data.source = npy must set ("features targets") */
  unsigned needs;    /* NCO_PROB_* */
  /* zoo problems: data (synthetic from rng, or the npy keys) and the
   * problem; NULL for networks (build.c builds them from the data) */
  int (*build)(const nco_config *cfg, nco_rng *rng, nco_problem **out);
} nco_prob_info;

NCO_HIDDEN const nco_prob_info *nco_prob_table(size_t *n);
/* The registered problem of that name, NULL if none. */
NCO_HIDDEN const nco_prob_info *nco_prob_find(const char *name);
/* The configured problem (cfg->problem_type is validated by config). */
NCO_HIDDEN const nco_prob_info *nco_prob_of(const nco_config *cfg);

/* the builders (build.c) */
NCO_HIDDEN int nco_build_linear_ls(const nco_config *cfg, nco_rng *rng, nco_problem **out);
NCO_HIDDEN int nco_build_glm(const nco_config *cfg, nco_rng *rng, nco_problem **out);
NCO_HIDDEN int nco_build_lowrank(const nco_config *cfg, nco_rng *rng, nco_problem **out);
NCO_HIDDEN int nco_build_pca(const nco_config *cfg, nco_rng *rng, nco_problem **out);
NCO_HIDDEN int nco_build_matcomp(const nco_config *cfg, nco_rng *rng, nco_problem **out);
NCO_HIDDEN int nco_build_matcomp_asym(const nco_config *cfg, nco_rng *rng, nco_problem **out);
NCO_HIDDEN int nco_build_tensor(const nco_config *cfg, nco_rng *rng, nco_problem **out);
NCO_HIDDEN int nco_build_shallow(const nco_config *cfg, nco_rng *rng, nco_problem **out);

#endif
