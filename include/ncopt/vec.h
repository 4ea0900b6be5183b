/* ncopt/vec.h — float32 vectors with double accumulation.
 *
 * Parameters, gradients and data are float32; every reduction (dot product,
 * norm, sum) accumulates in double (cblas_dsdot), so that a loss of 10⁷
 * terms is not dominated by rounding. Element-wise updates go through
 * OpenBLAS where it has the kernel.
 */
#ifndef NCOPT_VEC_H
#define NCOPT_VEC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Σ x_i y_i accumulated in double. */
double nco_dot(size_t n, const float *x, const float *y);
/* ‖x‖₂ accumulated in double. */
double nco_nrm2(size_t n, const float *x);
/* ‖x − y‖₂ accumulated in double. */
double nco_dist2(size_t n, const float *x, const float *y);
/* Σ x_i in double. */
double nco_sum(size_t n, const float *x);
/* max_i |x_i| (0 for n = 0). */
double nco_amax(size_t n, const float *x);
/* y ← a·x + y. */
void nco_axpy(size_t n, float a, const float *x, float *y);
/* x ← a·x. */
void nco_scal(size_t n, float a, float *x);
/* y ← x. */
void nco_copy(size_t n, const float *x, float *y);
/* x ← value. */
void nco_fill(size_t n, float value, float *x);
/* 1 if every x_i is finite, else 0. */
int nco_all_finite(size_t n, const float *x);
/* Index of the first non-finite entry, or n if none. */
size_t nco_first_nonfinite(size_t n, const float *x);

/* Checked size arithmetic: *out = a·b (resp. a + b); returns 0, or -1 on
 * overflow (then *out is unspecified). */
int nco_mul_size(size_t a, size_t b, size_t *out);
int nco_add_size(size_t a, size_t b, size_t *out);

/* Allocation that fails cleanly: count·size bytes, zeroed, NULL on
 * overflow or exhaustion (never aborts). */
void *nco_calloc(size_t count, size_t size);

#ifdef __cplusplus
}
#endif
#endif
