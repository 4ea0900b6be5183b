/* The problem registry (problems.h): the one list of problem types. */
#include "run/problems.h"

#include <string.h>

#define LS_ARRAYS "features targets"

static const nco_prob_info problems[] = {
    {"linear_ls", "g(x) = Ax − b", NCO_PROB_ZOO, LS_ARRAYS, 0, nco_build_linear_ls},
    {"glm", "g(x) = φ̃(Ax) − b (Oymak §4.1; invex paper Fig. 1)", NCO_PROB_ZOO, LS_ARRAYS, 0, nco_build_glm},
    {"lowrank", "y_i = ⟨X_i, ΘΘᵀ⟩ (Oymak §4.2)", NCO_PROB_ZOO, LS_ARRAYS, 0, nco_build_lowrank},
    {"pca", "½‖M − XXᵀ‖²_F (Ma §4.1)", NCO_PROB_ZOO, "matrix", 0, nco_build_pca},
    {"matcomp", "½‖P_Ω(M − XXᵀ)‖²_F (Ma §4.2)", NCO_PROB_ZOO, "matrix", 0, nco_build_matcomp},
    {"matcomp_asym", "½Σ_Ω(⟨u_i, v_j⟩ − M_ij)²", NCO_PROB_ZOO, "entries", 0, nco_build_matcomp_asym},
    {"tensor", "max ⟨T, x^⊗4⟩ on the sphere (Ma §5); loss = −f", NCO_PROB_ZOO, "components",
     NCO_PROB_SPHERE | NCO_PROB_NO_RESIDUALS, nco_build_tensor},
    {"shallow", "x ↦ vᵀφ̃(Wx), v fixed (Oymak §4.3)", NCO_PROB_ZOO, LS_ARRAYS, 0, nco_build_shallow},
    {"mlp", "dense network in → widths → classes, activation after each hidden layer", NCO_PROB_NET_BUILDER, LS_ARRAYS,
     NCO_PROB_REAL_DATA, NULL},
    {"lenet", "LeNet-5: conv 6@5×5 pad 2, pool, conv 16@5×5, pool, dense 120, 84, classes (Oymak §5.1)",
     NCO_PROB_NET_BUILDER, LS_ARRAYS, NCO_PROB_REAL_DATA | NCO_PROB_IMAGES, NULL},
    {"resnet", "ResNet (He et al. 2016): stem, stages of BasicBlocks with skips, BN; Chen, Yang & Zhou §IV-C",
     NCO_PROB_NET_BUILDER, LS_ARRAYS, NCO_PROB_REAL_DATA | NCO_PROB_IMAGES, NULL},
    {"vgg", "VGG (Simonyan & Zisserman 2015): blocks of 3×3 convs and max-pools, BN all | first | none (Chen §IV-B)",
     NCO_PROB_NET_BUILDER, LS_ARRAYS, NCO_PROB_REAL_DATA | NCO_PROB_IMAGES, NULL},
    {"unet", "U-Net (Ronneberger et al. 2015): conv-BN-act down and up, concatenated skips; an image out (Chen §IV-C)",
     NCO_PROB_NET_BUILDER, LS_ARRAYS, NCO_PROB_REAL_DATA | NCO_PROB_IMAGES, NULL},
    {"network", "the graph of the [network] section, one node a line (torch.nn names: docs/SPEC.md)", NCO_PROB_NET_GRAPH,
     LS_ARRAYS, NCO_PROB_REAL_DATA, NULL},
};
#define NPROBLEMS (sizeof problems / sizeof *problems)

const nco_prob_info *nco_prob_table(size_t *n) {
  if (n) *n = NPROBLEMS;
  return problems;
}

const nco_prob_info *nco_prob_find(const char *name) {
  for (size_t i = 0; name && i < NPROBLEMS; i++)
    if (!strcmp(problems[i].name, name)) return &problems[i];
  return NULL;
}

const nco_prob_info *nco_prob_of(const nco_config *cfg) { return nco_prob_find(cfg->problem_type); }
