/* xoshiro256** generator and portable derived distributions. */
#include "ncopt/rng.h"

#include "ncopt/status.h"

#include <math.h>
#include <string.h>

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void nco_rng_seed(nco_rng *r, uint64_t seed) {
  uint64_t x = seed;
  memset(r, 0, sizeof *r);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; /* unreachable in practice */
}

void nco_rng_derive(const nco_rng *r, uint64_t stream, nco_rng *child) {
  /* Hash the parent state with the stream id: a child's seed depends on
   * every parent bit, and distinct ids land far apart. */
  uint64_t x = stream * 0xd1342543de82ef95ULL + 0x632be59bd9b4e019ULL;
  for (int i = 0; i < 4; i++) {
    x ^= r->s[i];
    (void)splitmix64(&x);
  }
  nco_rng_seed(child, splitmix64(&x));
}

uint64_t nco_rng_u64(nco_rng *r) {
  uint64_t *s = r->s;
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double nco_rng_uniform(nco_rng *r) { return (double)(nco_rng_u64(r) >> 11) * 0x1.0p-53; }

int nco_rng_check(const nco_rng *r) {
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
    return nco_error(NCO_ERR_FORMAT, "generator state: all zero (xoshiro256** would return 0 forever)");
  if (r->has_spare != 0 && r->has_spare != 1) return nco_error(NCO_ERR_FORMAT, "generator state: has_spare = %d", r->has_spare);
  if (r->has_spare && !isfinite(r->spare)) return nco_error(NCO_ERR_FORMAT, "generator state: a non-finite spare deviate");
  return NCO_OK;
}

uint64_t nco_rng_below(nco_rng *r, uint64_t n) {
  if (n <= 1) return 0;
  /* Lemire (2019), "Fast random integer generation in an interval". */
  unsigned __int128 m = (unsigned __int128)nco_rng_u64(r) * n;
  uint64_t l = (uint64_t)m;
  if (l < n) {
    uint64_t t = (0 - n) % n;
    while (l < t) {
      m = (unsigned __int128)nco_rng_u64(r) * n;
      l = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

double nco_log_portable(double x) {
  if (!(x > 0)) return x == 0 ? -INFINITY : NAN;
  if (isinf(x)) return x;
  int e;
  double m = frexp(x, &e); /* x = m·2^e, m ∈ [0.5, 1): exact */
  if (m < 0.70710678118654752440) {
    m *= 2;
    e -= 1;
  }
  /* fdlibm's reduction (e_log.c): with f = m − 1 (exact), s = f/(2+f),
   * log(1+f) = f − (hfsq − s·(hfsq + R)), hfsq = f²/2, R = Σ_k 2z^k/(2k+1),
   * z = s² ≤ 0.0295; fdlibm uses a minimax R, we use its Taylor series to
   * z^14 (truncation < 1e-22) so that no table of constants is needed. */
  double f = m - 1, s = f / (2 + f), z = s * s, R = 0;
  for (int k = 14; k >= 1; k--) R = z * (2.0 / (2 * k + 1) + R);
  double hfsq = 0.5 * f * f;
  const double ln2_hi = 6.93147180369123816490e-01; /* exact in 32 bits */
  const double ln2_lo = 1.90821492927058770002e-10;
  double dk = e;
  return dk * ln2_hi - ((hfsq - (s * (hfsq + R) + dk * ln2_lo)) - f);
}

double nco_rng_normal(nco_rng *r) {
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double u, v, s;
  do {
    u = 2 * nco_rng_uniform(r) - 1;
    v = 2 * nco_rng_uniform(r) - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double f = sqrt(-2 * nco_log_portable(s) / s);
  r->spare = v * f;
  r->has_spare = 1;
  return u * f;
}

void nco_rng_normal_fill(nco_rng *r, float *v, size_t n, double mean, double sd) {
  for (size_t i = 0; i < n; i++) v[i] = (float)(mean + sd * nco_rng_normal(r));
}

void nco_rng_uniform_fill(nco_rng *r, float *v, size_t n, double lo, double hi) {
  for (size_t i = 0; i < n; i++) v[i] = (float)(lo + (hi - lo) * nco_rng_uniform(r));
}

void nco_rng_sphere(nco_rng *r, float *v, size_t n) {
  double ss;
  do {
    ss = 0;
    for (size_t i = 0; i < n; i++) {
      double z = nco_rng_normal(r);
      v[i] = (float)z;
      ss += (double)v[i] * v[i];
    }
  } while (!(ss > 1e-30));
  double inv = 1 / sqrt(ss);
  for (size_t i = 0; i < n; i++) v[i] = (float)(v[i] * inv);
}

void nco_rng_shuffle(nco_rng *r, size_t *perm, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)nco_rng_below(r, i);
    size_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
}

void nco_rng_permutation(nco_rng *r, size_t *perm, size_t n) {
  for (size_t i = 0; i < n; i++) perm[i] = i;
  nco_rng_shuffle(r, perm, n);
}
