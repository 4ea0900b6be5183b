/* src/problems/common.h — helpers shared by the problem zoo (private: not
 * installed, not part of the API).
 *
 * Every zoo constructor takes nco_arrays, checks their shapes and values,
 * copies them to float32 and names the array's origin (file) and role
 * ("features") in every error; these are the pieces they have in common.
 * Dot products of float32 data use nco_dot (vec.h: four double
 * accumulators in a fixed order), or nco_zoo_dot_seq below where a single
 * accumulator in index order is wanted (short rank-r rows).
 */
#ifndef NCO_PROBLEMS_COMMON_H
#define NCO_PROBLEMS_COMMON_H

#include <stddef.h>

#include "ncopt/array.h"
#include "ncopt/problems.h"

/* The name an array goes by in messages: its origin, or "(unnamed array)". */
static inline const char *nco_zoo_origin(const nco_array *a) {
  return a->origin[0] ? a->origin : "(unnamed array)";
}

/* Σ_k a_k b_k over k < r, one double accumulator in index order. */
static inline double nco_zoo_dot_seq(const float *a, const float *b, size_t r) {
  double s = 0;
  for (size_t k = 0; k < r; k++) s += (double)a[k] * b[k];
  return s;
}

/* Element k (flat, C order) of `a` as a double, whatever its dtype (exact
 * for every dtype but int64 beyond 2⁵³); NAN for an invalid dtype. The
 * caller checks k < a->size and that a->data is set. */
double nco_zoo_elem(const nco_array *a, size_t k);

/* A float32 copy of `src` (any numeric dtype) in a new buffer *out (freed
 * with free()), after checking every value is finite and fits float32
 * (errors name the origin and `role`). The caller's array is not touched:
 * the check and conversion run on a copy. *out is NULL on error. */
int nco_zoo_copy_f32(const nco_array *src, const char *role, float **out);

/* Features A (n, d) with n, d ≥ 1 and targets b (n,) or (n, 1): the data of
 * the regression problems (linear_ls, glm, shallow). NCO_ERR_SHAPE naming
 * the arrays' origins otherwise. */
int nco_zoo_check_features_targets(const nco_array *A, const nco_array *b);

/* A square (n, n) matrix, non-empty, finite, float32-representable and
 * symmetric to 1e-6 relative to max |M_ij| (pca, matcomp); *n_out = n.
 * `who` names the problem in the message for an empty matrix. */
int nco_zoo_check_sym_matrix(const nco_array *M, const char *who, size_t *n_out);

/* The activation as it appears in a problem label: "tanh",
 * "leaky_relu slope=0.1", "softplus mix=0.2", ... (truncated to len). */
void nco_zoo_act_desc(const nco_act *a, char *buf, size_t len);

#endif
