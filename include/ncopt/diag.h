/* ncopt/diag.h — landscape and trajectory diagnostics: every quantity the
 * seeds argue with, as library calls that probes and commands wrap.
 *
 *   landscape at a point   PL ratio, weak quasi-convexity, RSI (Ma §2.2,
 *                          eqs. 2.1–2.3); critical-point classification
 *                          from the Hessian's extreme eigenvalues (Ma
 *                          Definition 2.1; Cevher lecture 9); a spectral
 *                          density by stochastic Lanczos quadrature
 *   trajectory             misfit ‖r_t‖/‖r_0‖ and distance ‖θ_t − θ_0‖/‖θ_0‖,
 *                          whole or per slice (per layer) (Oymak &
 *                          Soltanolkotabi §5, Fig. 2)
 *   Jacobian               Lipschitz constant L of θ ↦ J(θ) on a ball, by
 *                          sampling (Oymak & Soltanolkotabi Assumption 1)
 *   certificates           Oymak & Soltanolkotabi Theorems 2.1 and 2.2 at
 *                          θ_0 and their predictions against a finished
 *                          run; the invex lifting's PL constant and path
 *                          bound (Crane & Roosta Theorem 2(ii), Assumption 1,
 *                          Corollary 1)
 *   regularity principle   Chen, Yang & Zhou Definition 2: an accumulator fed
 *                          step by step (the replay pass), no trajectory kept
 *
 * Conventions. Option structs: start from the nco_*_defaults() function
 * and change fields (a zero-initialised struct has invalid tolerances).
 * Every call returns a status (status.h). Invalid input (NULL,
 * sizes, a non-finite value, f below the given f*) is an error with a
 * message; a ratio that is mathematically undefined at the given point
 * (0/0, e.g. the PL ratio at a minimiser) is returned as NAN with NCO_OK,
 * and x/0 with x > 0 as +INFINITY, so a probe can write the value to its
 * trace column as is. All sums are accumulated in double.
 *
 * Reductions. Losses, gradients and Hessians carry the problem's reduction
 * factor c (1 for SUM, 1/nb for MEAN; problem.h); residuals and Jacobians
 * never do. So under MEAN the PL ratio of ½‖r‖² is c times that of the
 * papers' SUM form; the certificate converts step sizes with c (an lr η on
 * a MEAN loss is a step c·η on ½‖r‖²).
 *
 * Costs. The scalar landscape and trajectory quantities cost one loss +
 * gradient (or residual) evaluation and O(d). Spectral calls cost one HVP
 * (or JVP + VJP) per Lanczos iteration and allocate O(max_iter·d) doubles
 * per call (spectra.h).
 */
#ifndef NCOPT_DIAG_H
#define NCOPT_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ncopt/problem.h"
#include "ncopt/spectra.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== 1. Landscape at a point (Ma §2.2) ================================== */

/* From values the caller already has (e.g. the loss and gradient of the
 * step just taken). f: loss at x; fstar: a lower bound f* (0 for
 * interpolating least-squares problems); grad[d]: ∇f(x) (Riemannian on the
 * sphere).
 *
 *   pl_ratio         ‖∇f‖² / (2(f − f*))           (Ma eq. 2.1 with μ = 2·ratio;
 *                                                   Crane & Roosta Thm 2(ii): ≥ λ²)
 *   quasi_convexity  ⟨∇f, x − x*⟩ / (f − f*)        (Ma eq. 2.2, τ; = 2 for a
 *                                                   quadratic around x*)
 *   rsi              ⟨∇f, x − x*⟩ / ‖x − x*‖²       (Ma eq. 2.3)
 *
 * f = f* gives NAN for a zero numerator, +INF otherwise (−INF for a
 * negative ⟨∇f, x − x*⟩); x = x* gives NAN for the RSI. f < f* is
 * NCO_ERR_RANGE ("f* is not a lower bound"), with *out = NAN. */
int nco_pl_ratio(double f, double fstar, size_t d, const float *grad, double *out);
int nco_quasi_convexity(double f, double fstar, size_t d, const float *grad, const float *x,
                        const float *xstar, double *out);
int nco_rsi(size_t d, const float *grad, const float *x, const float *xstar, double *out);

/* All three at x on batch (idx, nb), evaluating the loss and gradient
 * (Riemannian gradient on the sphere) into grad[dim] (caller's buffer, so
 * nothing is allocated). xstar may be NULL (then quasi_convexity and rsi
 * are NAN). */
typedef struct nco_landscape_point {
  double loss;             /* f(x) on the batch */
  double grad_norm;        /* ‖∇f(x)‖ */
  double pl_ratio;
  double quasi_convexity;
  double rsi;
  double dist_to_star;     /* ‖x − x*‖ (NAN without x*) */
} nco_landscape_point;

int nco_landscape_eval(nco_problem *pb, const float *x, const size_t *idx, size_t nb, double fstar,
                       const float *xstar, float *grad, nco_landscape_point *out);

/* ==== 2. Critical points (Ma Definition 2.1; Cevher lecture 9) ========== */

typedef enum nco_point_kind {
  NCO_POINT_NONCRITICAL = 0, /* ‖∇f‖ > grad_tol (Ma's condition 1 holds) */
  NCO_POINT_MINIMUM,         /* λ_min ≥ τ: strict local minimum */
  NCO_POINT_STRICT_SADDLE,   /* λ_min ≤ −β and λ_max > −τ (Ma's condition 2) */
  NCO_POINT_MAXIMUM,         /* λ_max ≤ −τ: strict local maximum */
  NCO_POINT_DEGENERATE       /* −β < λ_min < τ: the second-order test is
                                inconclusive (a zero eigenvalue, e.g. a
                                manifold of minima, or curvature above −β) */
} nco_point_kind;

const char *nco_point_kind_name(nco_point_kind k); /* "minimum", "strict_saddle", ... */

#define NCO_DIAG_MAXK 64

typedef struct nco_classify_opts {
  size_t k;              /* extreme eigenvalues from each end, 1 ≤ k ≤ NCO_DIAG_MAXK; default 1 */
  double grad_tol;       /* critical if ‖∇f‖ ≤ grad_tol (absolute: set it for your problem's
                            scale); default 1e-4 */
  double eig_rtol;       /* τ = max(eig_atol, eig_rtol·max(|λ_min|, |λ_max|)); default 1e-5, or
                            1e-3 when the problem's HVP is finite-difference (≤ 0: default) */
  double eig_atol;       /* default 0 */
  double beta;           /* strict-saddle threshold β > 0; ≤ 0: β = τ (default) */
  nco_lanczos_opts lanczos;
} nco_classify_opts;

nco_classify_opts nco_classify_defaults(void);

typedef struct nco_classification {
  nco_point_kind kind;     /* the verdict (noncritical takes precedence) */
  nco_point_kind curvature;/* the Hessian's verdict alone (never NONCRITICAL) */
  double loss, grad_norm;  /* Riemannian gradient on the sphere */
  double lam_min, lam_max; /* = lo[0], hi[0] */
  double tau, beta;        /* the thresholds used */
  size_t k;
  double hi[NCO_DIAG_MAXK];/* k largest, descending */
  double lo[NCO_DIAG_MAXK];/* k smallest, ascending */
  int exact_hvp;           /* 1 if the Hessian-vector products were exact */
  nco_lanczos_info info;
} nco_classification;

/* Classifies x on batch (idx, nb): the gradient norm, then the k extreme
 * eigenvalues of the Hessian (Riemannian on the sphere, nco_hessian_extremes).
 * If Lanczos did not converge, the verdict stands on the values reached
 * (info.converged = 0 tells). */
int nco_classify_point(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                       const nco_classify_opts *opts, nco_classification *out);

/* ==== 3. Spectral density: stochastic Lanczos quadrature ================ */
/* Ubaru, Chen & Saad (2017), "Fast estimation of tr(f(A)) via stochastic
 * Lanczos quadrature"; PyHessian's density (Yao et al. 2020). For each of
 * n_probes Rademacher vectors v, m Lanczos steps from v/‖v‖ (full
 * reorthogonalisation) give T_m = SΘSᵀ; the Gauss quadrature nodes θ_j and
 * weights τ_j = S_1j² (Σ_j τ_j = 1) satisfy Σ_j τ_j g(θ_j) ≈ vᵀg(A)v/‖v‖²,
 * exactly for polynomials g of degree ≤ 2m − 1, and E[vᵀg(A)v]/n = tr g(A)/n.
 * The density is φ(t) = (1/n_probes) Σ_probes Σ_j τ_j 𝒩(t; θ_j, σ²): it
 * integrates to 1 over R. On the sphere the probes are projected onto T_x
 * (an estimate of the tangent spectrum, not exactly unbiased).
 * A breakdown ends a probe early (its quadrature is then exact). */
typedef struct nco_slq_opts {
  size_t n_probes;  /* ≥ 1; default 10 */
  size_t n_iter;    /* Lanczos steps per probe, ≥ 1 (capped at the dimension); default 80 */
  size_t n_grid;    /* grid points ≥ 2; default 1000 */
  double sigma;     /* Gaussian width; ≤ 0: 0.01·(θ_max − θ_min) (or 0.01·max|θ|, or 1) */
  double grid_lo, grid_hi; /* grid range; equal: [θ_min − pad, θ_max + pad], pad = max(3σ, 1% range) */
  uint64_t seed;    /* probes; default 1 */
} nco_slq_opts;

nco_slq_opts nco_slq_defaults(void);

typedef struct nco_slq_result {
  size_t n_probes, n_iter;  /* as run (n_iter after capping) */
  size_t *n_nodes;          /* [n_probes]: nodes of each probe (≤ n_iter; fewer after a breakdown) */
  double *nodes;            /* [n_probes·n_iter], row p: probe p's θ_j ascending (unused = 0) */
  double *weights;          /* [n_probes·n_iter]: τ_j (unused = 0) */
  size_t n_grid;
  double *grid, *density;   /* [n_grid] each */
  double sigma;             /* width used */
  double lam_min, lam_max;  /* extreme nodes over all probes */
  size_t matvecs;
} nco_slq_result;

/* Density of the symmetric operator A on R^n. out is filled (arrays
 * allocated here; free with nco_slq_free, also after an error). */
int nco_slq(size_t n, nco_linop A, void *ctx, const nco_slq_opts *opts, nco_slq_result *out);
/* Density of pb's Hessian (Riemannian on the sphere) at x on (idx, nb). */
int nco_hessian_density(nco_problem *pb, const float *x, const size_t *idx, size_t nb,
                        const nco_slq_opts *opts, nco_slq_result *out);
void nco_slq_free(nco_slq_result *r);

/* ==== 3b. Trace: Hutchinson's estimator ================================== */
/* tr ∇²f(x) on (idx, nb) by m Rademacher probes drawn from rng (Hutchinson
 * 1990; PyHessian's trace): *trace the mean of zᵀHz, *se (may be NULL; NAN
 * for m = 1) its standard error. Riemannian on the sphere (the trace over
 * the tangent space). Cost: m Hessian-vector products. */
int nco_hessian_trace(nco_problem *pb, const float *x, const size_t *idx, size_t nb, size_t m, nco_rng *rng,
                      double *trace, double *se);

/* ==== 4. Trajectory: misfit and distance (Oymak & Soltanolkotabi) ======= */

/* ‖r_t‖/‖r_0‖ = ‖y − f(θ_t)‖/‖y − f(θ_0)‖ of a least-squares problem on a
 * fixed batch. Created once (allocates the residual buffer), evaluated at
 * every probe step without allocation. unreg = 1 evaluates the innermost
 * wrapped problem (nco_problem_root) on the first root->dim parameters, so
 * an ℓ2 or invex run reports the misfit of the data term g(x) alone. */
typedef struct nco_misfit nco_misfit;

/* NCO_ERR_UNSUPPORTED if the (root) problem has no residual; NCO_ERR_RANGE
 * if ‖r_0‖ = 0 (θ_0 already interpolates: the ratio is undefined). The
 * batch idx (nb entries) is copied; idx NULL = full batch (nb = n). */
int nco_misfit_create(nco_problem *pb, int unreg, const float *theta0, const size_t *idx, size_t nb,
                      nco_misfit **out);
/* *misfit = ‖r(θ)‖/‖r_0‖; *res_norm (may be NULL) = ‖r(θ)‖. */
int nco_misfit_eval(nco_misfit *m, const float *theta, double *misfit, double *res_norm);
double nco_misfit_r0(const nco_misfit *m); /* ‖r_0‖ */
void nco_misfit_free(nco_misfit *m);

/* ‖θ − θ_0‖ (*dist, may be NULL) and ‖θ − θ_0‖/‖θ_0‖ (*rel, may be NULL;
 * NAN when θ_0 = 0 — use *dist then). */
int nco_distance(size_t d, const float *theta, const float *theta0, double *dist, double *rel);

/* A named block of parameters (a layer's weights): [offset, offset + length). */
typedef struct nco_slice {
  const char *name;   /* e.g. "conv1" (for messages; may be NULL) */
  size_t offset, length;
} nco_slice;

/* Per-slice ‖θ_s − θ_{0,s}‖ into dist[ns] and ‖θ_s − θ_{0,s}‖/‖θ_{0,s}‖ into
 * rel[ns] (either may be NULL), Oymak & Soltanolkotabi §5's per-layer
 * normalised distances. NCO_ERR_RANGE for an empty slice or one that ends
 * past d (named in the message). */
int nco_distance_slices(size_t d, const float *theta, const float *theta0, const nco_slice *s,
                        size_t ns, double *dist, double *rel);

/* ==== 5. Jacobian Lipschitz constant on a ball (Assumption 1) ============ */
/* L ≈ max over sampled pairs (a, b) in the ball B(θ, R) of
 * ‖J(a) − J(b)‖/‖a − b‖, the spectral norm of J(a) − J(b) estimated by
 * Golub–Kahan–Lanczos through JVP/VJP at a and b (faster than the power
 * iteration on (J(a)−J(b))ᵀ(J(a)−J(b)) for the same products). Pair p
 * draws, by k = p mod 8: k = 0 both points uniform in the ball (global
 * variation); k = 1..3 a uniform in B(θ, R − t), t = R/16, R/256, R/4096;
 * k = 4..7 a = θ, t = R/4, R/64, R/1024, R/16384 (the local derivative at
 * the centre, which matters when the ball is large compared with the
 * scale on which J varies, e.g. a saturating activation); b = a + t·u, u
 * uniform on the sphere. A sampled maximum is a LOWER bound of the true L
 * (it can miss the worst pair): use n_pairs a multiple of 8.
 * Rounding: J(a)v − J(b)v is formed from float32 products, so a pair's
 * ratio carries noise up to its floor 4u·‖J‖/‖a − b‖ (u = 2⁻²⁴; ‖J‖
 * estimated from the products seen). Pairs whose ratio is ≤ 8× their floor
 * are not counted, unless no pair is above it (then L is the largest ratio
 * and L ≤ 8·floor says "L is at rounding level", e.g. 0 for a linear map). */
typedef struct nco_jaclip_opts {
  size_t n_pairs;     /* ≥ 1; default 16 */
  size_t max_iter;    /* GKL iterations per pair; default 30 */
  double tol;         /* GKL tolerance; default 1e-4 */
  uint64_t seed;      /* default 1 */
} nco_jaclip_opts;

nco_jaclip_opts nco_jaclip_defaults(void);

typedef struct nco_jaclip_result {
  double L;           /* max ratio over the resolved pairs (NAN if no pair) */
  double dist_at_max; /* ‖a − b‖ of the maximising pair */
  double jnorm;       /* ‖J‖ estimate at that pair (max ‖J(·)v‖/‖v‖ over the products) */
  double floor;       /* that pair's rounding floor 4u·jnorm/dist_at_max */
  size_t pairs;       /* pairs evaluated */
  size_t resolved;    /* pairs above 8× their floor */
  size_t matvecs;
} nco_jaclip_result;

int nco_jacobian_lipschitz(nco_problem *pb, const float *theta, const size_t *idx, size_t nb,
                           double radius, const nco_jaclip_opts *opts, nco_jaclip_result *out);

/* ==== 6. Certificates (Oymak & Soltanolkotabi §2; Crane & Roosta §2) ====== */
/* At θ_0, for the least-squares loss ½‖g(θ)‖², g = f(θ) − y, on the batch:
 *
 * Theorem 2.1. Assumption 2 (α ≤ σ_min(J) ≤ ‖J‖ ≤ β) over the ball D of
 *   radius R = 4‖r_0‖/α and Assumption 1 (L) over D; then GD with
 *   η ≤ (1/(2β²))·min(1, α²/(L‖r_0‖)) obeys (2.3) ‖r_τ‖² ≤ (1 − ηα²/2)^τ‖r_0‖²,
 *   (2.4) α/4·‖θ_τ − θ_0‖ + ‖r_τ‖ ≤ ‖r_0‖ and (2.5) path length ≤ 4‖r_0‖/α.
 *   σ_min is σ_N (N residuals): for N > d it is 0 and the theorem cannot
 *   apply. α and β are estimated by sampling: α = min σ_min, β = max σ_max
 *   over θ_0 and n_points uniform points of the ball, whose radius 4‖r_0‖/α
 *   is refined (it grows as α shrinks) for up to `rounds` rounds. Sampling
 *   is optimistic: the true min over D can be smaller, the true max larger.
 * Theorem 2.2. With α₂ = σ_min(J(θ_0))/2 and β₂ = 2‖J(θ_0)‖ (only θ_0 is
 *   needed), L over the ball of radius 4‖r_0‖/α₂, and (2.6)
 *   α₂² ≥ 4L‖r_0‖, the conclusions of 2.1 hold with η ≤ 1/(2β₂²).
 *   margin = α₂²/(4L‖r_0‖) (holds iff ≥ 1; +INF when L = 0).
 * L is estimated once, on the larger of the two radii (a sup over a larger
 * ball bounds both; sampled, so a lower bound of that sup).
 *
 * Invex runs (an nco_invex_wrap problem): Theorem 2(ii) gives PL with
 * constant λ² (c·λ² under MEAN): every PL ratio ≥ λ²; Corollary 1 bounds
 * the GD path length in (x, p) by R(x_0, λ) = 2√(2Δ₀)/λ (Assumption 1),
 * Δ₀ = f(x_0) − min f with f the unregularised loss; by default
 * Δ₀ = f(x_0) (min f = 0 for interpolating problems; since min f ≥ 0 this
 * over-estimates Δ₀ and so gives a valid, looser R). */
typedef struct nco_cert_opts {
  double lr;          /* the run's step size η (as given to the optimiser); ≤ 0 or NAN: unknown */
  size_t n_points;    /* sampled points per round for α, β (besides θ_0); default 4 */
  size_t rounds;      /* radius refinement rounds; default 3 */
  size_t n_pairs;     /* pairs for L; default 8 */
  double delta0;      /* invex: Δ₀ in the loss's units; NAN (default): f(x_0) */
  nco_lanczos_opts lanczos; /* for σ_min, σ_max (default tol 1e-6) */
  nco_jaclip_opts jaclip;   /* n_pairs above overrides jaclip.n_pairs */
  uint64_t seed;      /* sampling; default 1 */
} nco_cert_opts;

nco_cert_opts nco_cert_defaults(void);

/* What a finished run observed, for nco_certificate_compare. Arrays of n
 * trace rows (NULL if not recorded); scalars NAN if unknown. */
typedef struct nco_cert_observed {
  size_t n;
  const double *step;      /* τ of each row (GD iterations since θ_0) */
  const double *misfit;    /* ‖r_τ‖/‖r_0‖ (the `misfit` probe) */
  const double *dist;      /* ‖θ_τ − θ_0‖, ABSOLUTE (the `distance` probe × ‖θ_0‖) */
  double path_length;      /* Σ_τ ‖θ_{τ+1} − θ_τ‖ over the whole run */
  double min_pl_ratio;     /* smallest `pl_ratio` recorded (invex comparison) */
} nco_cert_observed;

typedef struct nco_certificate {
  char label[128];          /* the problem's label */
  size_t n_res, dim;        /* N, d */
  double scale;             /* reduction factor c */
  double r0;                /* ‖f(θ_0) − y‖ */
  double smin0, smax0;      /* σ_min (σ_N; 0 if N > d), σ_max of J(θ_0) */
  double smin0_d;           /* smallest of min(N, d) singular values (σ_d when N > d) */
  /* Theorem 2.1 */
  double alpha, beta;       /* sampled over the ball */
  double radius;            /* R = 4‖r_0‖/α (INF if α = 0) */
  size_t points;            /* points evaluated (θ_0 included) */
  double L, L_radius, L_floor; /* Lipschitz estimate, the radius it was sampled on, rounding floor */
  size_t L_pairs;
  double eta_max21;         /* (1/(2β²))·min(1, α²/(L‖r_0‖)), in units of ½‖r‖² */
  double lr, eta;           /* the run's lr and η = c·lr (NAN if unknown) */
  int applies21;            /* α > 0 (and finite R): the assumptions hold with these estimates */
  int step_ok21;            /* −1 unknown (no lr), 0/1 */
  double margin21;          /* eta_max21/η (≥ 1 holds; NAN without lr) */
  /* Theorem 2.2 */
  double alpha22, beta22, radius22, eta_max22;
  double lhs22, rhs22;      /* α₂², 4L‖r_0‖ */
  int holds22;              /* (2.6) holds (0 also when α₂ = 0) */
  double margin22;          /* lhs/rhs */
  int step_ok22;            /* −1 unknown, 0/1 for η ≤ eta_max22 */
  /* after a run (nco_certificate_compare); have_run = 0 before */
  int have_run;
  double tau_last;          /* last step compared */
  double rate;              /* 1 − ηα²/2 */
  double misfit_pred_last, misfit_obs_last; /* (1 − ηα²/2)^{τ/2} and observed, at tau_last */
  double rate_worst;        /* max_τ observed/predicted misfit (≤ 1: (2.3) held) */
  double eq24_worst;        /* max_τ (α/4·dist + ‖r_τ‖)/‖r_0‖ (≤ 1: (2.4) held) */
  double eq210_worst;       /* max_τ (α·dist + ‖r_τ‖)/‖r_0‖ ((2.10), Thm 9.3 of the supplement) */
  double eq213_worst;       /* min_τ (‖r_τ‖ + β·dist)/‖r_0‖ (≥ 1: Thm 2.4's (2.13) held) */
  double dist_max;          /* max observed ‖θ_τ − θ_0‖ vs radius */
  double path_obs, path_bound; /* observed path vs 4‖r_0‖/α (2.5) */
  int rate_ok, eq24_ok, radius_ok, path_ok; /* −1 not compared, 0/1 */
  /* invex (Crane & Roosta) */
  int invex;                /* 1 if the problem is an invex wrapper */
  double lambda, pl_const;  /* λ, c·λ² */
  double delta0, R_invex;   /* Δ₀ used, 2√(2Δ₀)/λ */
  double pl_min_obs;        /* from compare (NAN before) */
  int pl_ok, path_invex_ok; /* −1 not compared, 0/1 */
  char note[512];           /* caveats, e.g. "N > d: σ_N(J) = 0" */
} nco_certificate;

/* Evaluates the certificate at θ_0 on batch (idx, nb). NCO_ERR_UNSUPPORTED
 * for problems without a residual interface. */
int nco_certify(nco_problem *pb, const float *theta0, const size_t *idx, size_t nb,
                const nco_cert_opts *opts, nco_certificate *out);

/* Compares a finished run with the certificate's predictions (fills the
 * "after a run" and invex fields). Needs the run's lr (opts.lr) for the
 * rate; rows with a NAN are skipped. */
int nco_certificate_compare(nco_certificate *c, const nco_cert_observed *obs);

/* A short report: text (one fact per line) or one JSON object (NAN/INF as
 * null). NCO_ERR_IO if the stream fails. */
int nco_certificate_write_text(const nco_certificate *c, FILE *f);
int nco_certificate_write_json(const nco_certificate *c, FILE *f);

/* ==== 7. Regularity principle (Chen, Yang & Zhou, Definition 2) ========== */
/* For a stochastic run θ_{k+1} = θ_k − η_k U_k and the final θ_T, step k
 * allows every γ ≤ γ_k with
 *     γ_k = (⟨θ_k − θ_T, U_k⟩ − (η_k/2)‖U_k‖²) / (ℓ(θ_k; z_ξk) − inf ℓ)
 * (their eq. 2 solved for γ; η_k = η for a constant step; inf ℓ is the
 * per-sample infimum of the proof of Theorem 1, 0 for interpolating
 * models). The trajectory satisfies the principle with γ = min_k γ_k if
 * that is > 0, and Theorem 1's rate is governed by γ/‖θ_0 − θ_T‖².
 * A loss gap of 0 gives γ_k = +INF (numerator ≥ 0: no constraint) or −INF
 * (violated for every γ); a loss below inf ℓ is NCO_ERR_RANGE.
 *
 * The accumulator keeps a copy of θ_T and running scalars only (the replay
 * pass feeds it step by step). Plain data: copy the scalars to checkpoint. */
typedef struct nco_regularity {
  size_t d;
  float *theta_T;       /* owned copy */
  double inf_loss;
  size_t steps;         /* steps added */
  double gamma;         /* min_k γ_k (+INF before any step) */
  size_t argmin;        /* k of the minimum */
  double gamma_last;    /* γ of the last step added */
  size_t n_violations;  /* steps with γ_k ≤ 0 */
  size_t n_zero_gap;    /* steps with ℓ = inf ℓ */
  double dist0_T;       /* ‖θ_0 − θ_T‖ (from the first step added) */
} nco_regularity;

int nco_regularity_init(nco_regularity *r, size_t d, const float *theta_T, double inf_loss);
/* Step k with its update U_k (θ_{k+1} = θ_k − η_k U_k), step size η_k > 0
 * and sample loss ℓ(θ_k; z_ξk); *gamma_k (may be NULL) receives γ_k. The
 * first call must be step 0 (it records ‖θ_0 − θ_T‖). */
int nco_regularity_add(nco_regularity *r, const float *theta_k, const float *U_k, double eta_k,
                       double loss_k, double *gamma_k);
/* The same from the iterates: U_k = (θ_k − θ_{k+1})/η_k, formed in double
 * (no buffer needed). */
int nco_regularity_add_step(nco_regularity *r, const float *theta_k, const float *theta_k1,
                            double eta_k, double loss_k, double *gamma_k);
/* γ/‖θ_0 − θ_T‖² (NAN before any step or if θ_0 = θ_T). */
double nco_regularity_factor(const nco_regularity *r);
void nco_regularity_free(nco_regularity *r);

#ifdef __cplusplus
}
#endif
#endif
