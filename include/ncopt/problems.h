/* ncopt/problems.h — the problem zoo: constructors and seeded generators.
 *
 * Every constructor takes its data as nco_arrays (from nco_npy_read or from
 * the matching generator), validates shapes, finiteness and ranks, and on
 * error names the array's origin (file), its role ("features") and what is
 * wrong. Arrays are converted to float32 and copied: the caller keeps and
 * frees its arrays. Parameters are laid out as stated per problem; all
 * least-squares problems default to NCO_REDUCE_SUM (the papers' ½‖g(x)‖²).
 *
 * Generators fill zeroed nco_arrays (freed by the caller with
 * nco_array_free) from an explicit rng, with origin "synthetic:<name>".
 */
#ifndef NCOPT_PROBLEMS_H
#define NCOPT_PROBLEMS_H

#include <stddef.h>

#include "ncopt/array.h"
#include "ncopt/problem.h"
#include "ncopt/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- activations ------------------------------------------------------ */

typedef enum nco_activation {
  NCO_ACT_IDENTITY = 0,
  NCO_ACT_SIGMOID,
  NCO_ACT_TANH,
  NCO_ACT_SOFTPLUS,
  NCO_ACT_RELU,
  NCO_ACT_LEAKY_RELU,
  NCO_ACT_ELU
} nco_activation;

/* φ̃(z) = (1 − mix)·φ(z) + mix·z  (Oymak & Soltanolkotabi §4.3; mix = 0
 * gives φ itself). `slope` is leaky ReLU's negative slope (default 0.01)
 * and ELU's α (default 1). */
typedef struct nco_act {
  nco_activation kind;  /* default NCO_ACT_IDENTITY */
  double slope;         /* default 0.01 for leaky ReLU, 1 for ELU; ≥ 0 */
  double mix;           /* default 0; in [0, 1] */
} nco_act;

nco_act nco_act_make(nco_activation kind);            /* kind with its default slope, mix 0 */
int nco_act_validate(const nco_act *a);                /* NCO_ERR_RANGE for slope < 0, mix ∉ [0,1] */
const char *nco_act_name(nco_activation kind);         /* "sigmoid", "leaky_relu", ... */
int nco_act_parse(const char *name, nco_activation *kind); /* inverse of nco_act_name */
double nco_act_f(const nco_act *a, double z);          /* φ̃(z) */
double nco_act_df(const nco_act *a, double z);         /* φ̃'(z) (ReLU: 0 at z ≤ 0) */
double nco_act_d2f(const nco_act *a, double z);        /* φ̃''(z) (0 for piecewise-linear) */
/* z with φ̃(z) = y, for strictly increasing φ̃; NCO_ERR_RANGE if y is not in
 * its range (e.g. y ∉ (0,1) for the sigmoid) or φ̃ is not invertible. */
int nco_act_inverse(const nco_act *a, double y, double *z);

/* ---- 1. linear least squares: g(x) = Ax − b ---------------------------- */
/* A: features (n, d); b: targets (n). Parameters x[d]. m = 1. Exact HVP. */
int nco_linear_ls_create(const nco_array *A, const nco_array *b, nco_problem **out);
/* A ~ N(0,1) entries, x* ~ N(0, 1/d), b = A x* + noise·N(0,1). */
int nco_linear_ls_generate(size_t n, size_t d, double noise, nco_rng *rng, nco_array *A,
                           nco_array *b);

/* ---- 2. generalised linear model: g(x) = φ̃(Ax) − b --------------------- */
/* A: features (n, d); b: targets (n). Parameters x[d]. m = 1. Exact HVP. */
int nco_glm_create(const nco_array *A, const nco_array *b, const nco_act *act, nco_problem **out);
/* A ~ N(0,1), x* ~ N(0, 1/d). binary = 0: b = φ̃(A x*) + noise·N(0,1);
 * binary = 1: b_i ∈ {0,1} Bernoulli(sigmoid(a_iᵀx*)) (invex paper Fig. 1). */
int nco_glm_generate(size_t n, size_t d, const nco_act *act, double noise, int binary,
                     nco_rng *rng, nco_array *A, nco_array *b);

/* ---- 3. low-rank regression: y_i = ⟨X_i, ΘΘᵀ⟩ (Oymak §4.2) ---------------- */
/* X: features (n, d, d); y: targets (n). Parameters Θ (d, r) row-major.
 * m = 1, residual g_i = ⟨X_i, ΘΘᵀ⟩ − y_i. Default init: Θ₀ with i.i.d.
 * Gaussian entries scaled so its spectral norm is about √‖y‖/(rn)^{1/4}
 * (Oymak Theorem 4.2). NCO_ERR_RANGE if r > d or r = 0. Exact HVP. */
int nco_lowrank_create(const nco_array *X, const nco_array *y, size_t r, nco_problem **out);
/* X_i with N(0,1) entries, Θ* ~ N(0,1)/√d (d, r), y_i = ⟨X_i, Θ*Θ*ᵀ⟩ + noise·N(0,1). */
int nco_lowrank_generate(size_t n, size_t d, size_t r, double noise, nco_rng *rng, nco_array *X,
                         nco_array *y);

/* ---- 4. PCA: ½‖M − XXᵀ‖²_F, M symmetric (Ma §4.1) ---------------------- */
/* M: matrix (n, n) symmetric (checked to 1e-6 relative). Parameters X (n, r)
 * row-major. Samples are the rows of M: m = n, residual row i = (XXᵀ − M)_i·.
 * NCO_ERR_RANGE if r > n or r = 0. Exact HVP. */
int nco_pca_create(const nco_array *M, size_t r, nco_problem **out);
/* M = Σ_k λ_k v_k v_kᵀ with orthonormal v_k (QR of a Gaussian matrix),
 * λ_k = 1 + (r_sig − k)·gap for k < r_sig, then `noise`·N(0,1) symmetrised.
 * (Ma §4.1's setting: top eigenvalue with a gap.) */
int nco_pca_generate(size_t n, size_t r_sig, double gap, double noise, nco_rng *rng,
                     nco_array *M);

/* ---- 5a. symmetric matrix completion: ½‖P_Ω(M − XXᵀ)‖²_F (Ma §4.2) ------- */
/* M: matrix (n, n) symmetric; Ω is drawn from rng with every pair {i, j}
 * (i ≤ j) observed with probability p, both (i,j) and (j,i) kept. Samples
 * are the observed entries (m = 1). Parameters X (n, r). NCO_ERR_RANGE
 * for p ∉ (0, 1], r > n, or an empty Ω. Exact HVP. */
int nco_matcomp_create(const nco_array *M, size_t r, double p, nco_rng *rng, nco_problem **out);
/* M = U Uᵀ with U ~ N(0,1)/√… (n, r): a rank-r PSD matrix (incoherent
 * with high probability). */
int nco_matcomp_generate(size_t n, size_t r, nco_rng *rng, nco_array *M);

/* ---- 5b. asymmetric matrix completion: ½Σ_Ω(⟨u_i, v_j⟩ − M_ij)² --------- */
/* entries (k, 3): rows (i, j, value) with integer-valued i < n1, j < n2
 * (checked). Parameters [U (n1, r); V (n2, r)] row-major, U first.
 * Samples are the entries (m = 1). Exact HVP. */
int nco_matcomp_asym_create(const nco_array *entries, size_t n1, size_t n2, size_t r,
                            nco_problem **out);
/* U*, V* ~ N(0,1) (n1, r), (n2, r); each (i, j) observed with probability
 * p; value = ⟨u*_i, v*_j⟩ + noise·N(0,1). */
int nco_matcomp_asym_generate(size_t n1, size_t n2, size_t r, double p, double noise,
                              nco_rng *rng, nco_array *entries);

/* ---- 6. orthogonal 4th-order tensor on the sphere (Ma §5) -------------- */
/* components: (k, d), rows a_i. The objective is f(x) = ⟨T, x^{⊗4}⟩ =
 * Σ_i ⟨a_i, x⟩⁴, computed from the components without forming T; ncopt
 * minimises, so the problem's loss is −f(x) (Riemannian gradient *ascent*
 * on f = descent on the loss). Samples are the components (m = 0: not
 * least-squares). Manifold: the unit sphere. Exact HVP. */
int nco_tensor_create(const nco_array *components, nco_problem **out);
/* k ≤ d orthonormal components (rows of a Haar-random orthogonal matrix). */
int nco_tensor_generate(size_t k, size_t d, nco_rng *rng, nco_array *components);

/* ---- 7. one-hidden-layer network x ↦ vᵀφ̃(Wx) (Oymak §4.3) -------------- */
/* X: features (n, d); y: targets (n); v: fixed output weights (k) with
 * ‖v‖ = 1 (checked), or NULL for v_j = ±1/√k alternating. Parameters W
 * (k, d) row-major. m = 1. Exact HVP. */
int nco_shallow_create(const nco_array *X, const nco_array *y, size_t k, const nco_act *act,
                       const nco_array *v, nco_problem **out);
/* X rows uniform on the unit sphere, W* ~ N(0,1), y = v*ᵀφ̃(W* x) + noise. */
int nco_shallow_generate(size_t n, size_t d, size_t k, const nco_act *act, double noise,
                         nco_rng *rng, nco_array *X, nco_array *y);

#ifdef __cplusplus
}
#endif
#endif
