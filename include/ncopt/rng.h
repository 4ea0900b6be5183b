/* ncopt/rng.h — explicit, seedable random-number generator states.
 *
 * All randomness in ncopt flows from an nco_rng passed in by the caller;
 * there is no global generator and nothing reads the clock. The generator is
 * xoshiro256** (Blackman & Vigna 2018) seeded through splitmix64, and every
 * derived distribution uses only IEEE-exact operations (+ - * / sqrt) and a
 * portable logarithm, so the same seed gives the same bits on any IEEE-754
 * machine and compiler (the build sets -ffp-contract=off).
 *
 * The struct is plain data: saving a generator is copying it
 * (checkpoints store it verbatim, see nco_rng_state_bytes).
 */
#ifndef NCOPT_RNG_H
#define NCOPT_RNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nco_rng {
  uint64_t s[4];     /* xoshiro256** state; never all zero */
  double spare;      /* second normal deviate of the polar method */
  int has_spare;     /* 1 if `spare` is valid */
  int pad_;
} nco_rng;

/* Seeds `r` from a 64-bit seed (any value, 0 included). */
void nco_rng_seed(nco_rng *r, uint64_t seed);

/* Seeds `child` as an independent stream derived from `r` and `stream`
 * (e.g. one stream for data, one for minibatches, one for noise) without
 * advancing `r`. Different stream ids give unrelated sequences. */
void nco_rng_derive(const nco_rng *r, uint64_t stream, nco_rng *child);

/* NCO_OK if r is a state nco_rng_seed/derive could have produced (not all
 * zero, has_spare 0 or 1, a finite spare), else NCO_ERR_FORMAT with a
 * message: for states read from files (an all-zero xoshiro state repeats
 * 0 forever, and nco_rng_below would never return). */
int nco_rng_check(const nco_rng *r);

/* Next raw 64-bit output. */
uint64_t nco_rng_u64(nco_rng *r);

/* Uniform double in [0, 1) with 53 random bits. */
double nco_rng_uniform(nco_rng *r);

/* Uniform integer in [0, n), unbiased (Lemire's method); n ≥ 1. */
uint64_t nco_rng_below(nco_rng *r, uint64_t n);

/* Standard normal deviate (Marsaglia's polar method). */
double nco_rng_normal(nco_rng *r);

/* Fills v[n] with i.i.d. N(mean, sd²) values, rounded to float. */
void nco_rng_normal_fill(nco_rng *r, float *v, size_t n, double mean, double sd);

/* Fills v[n] with i.i.d. U[lo, hi) values, rounded to float. */
void nco_rng_uniform_fill(nco_rng *r, float *v, size_t n, double lo, double hi);

/* v[n] ← a point uniform on the unit sphere S^{n-1} (normalised Gaussian);
 * n ≥ 1. */
void nco_rng_sphere(nco_rng *r, float *v, size_t n);

/* perm[n] ← a uniformly random permutation of 0..n-1 (Fisher–Yates). */
void nco_rng_permutation(nco_rng *r, size_t *perm, size_t n);

/* Shuffles perm[n] in place (Fisher–Yates). */
void nco_rng_shuffle(nco_rng *r, size_t *perm, size_t n);

/* Natural logarithm computed with + - * / only, so that it returns the same
 * bits on every IEEE-754 machine (libm's log may differ in the last ulp
 * between implementations). Accurate to ~1 ulp for finite x > 0. */
double nco_log_portable(double x);

#ifdef __cplusplus
}
#endif
#endif
