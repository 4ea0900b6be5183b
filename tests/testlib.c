/* tests/testlib.c — test runner bookkeeping, and the reference computations
 * shared by the tests (see testlib.h: independent of the library). */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700 /* nftw */
#include "testlib.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdlib.h>

int nco_test_failed_checks = 0;
int nco_test_current_failed = 0;
static int n_pass = 0, n_fail = 0, n_skip = 0;
static int current_skipped = 0;

void nco_test_run(const char *name, void (*fn)(void)) {
  nco_test_current_failed = 0;
  current_skipped = 0;
  fn();
  if (nco_test_current_failed) {
    n_fail++;
    fprintf(stderr, "FAIL %s\n", name);
  } else if (current_skipped) {
    n_skip++;
    fprintf(stderr, "skip %s\n", name);
  } else {
    n_pass++;
    fprintf(stderr, "ok   %s\n", name);
  }
}

void nco_test_skip(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s:%d: SKIP: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  current_skipped = 1;
}

int nco_test_summary(void) {
  printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
  return n_fail ? 1 : 0;
}

const char *nco_fixture(const char *name) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "%s/%s", NCO_FIXTURES, name);
  return buf;
}

int nco_test_load_fixture(const char *dir, const char *prefix, const char *name, const char *what, nco_dtype dt, size_t n,
                          nco_array *a) {
  char rel[512];
  snprintf(rel, sizeof rel, "%s/%s_%s_%s.npy", dir, prefix, name, what);
  int st = nco_npy_read(nco_fixture(rel), a);
  if (st) return st;
  if (a->dtype != dt || a->size != n)
    return nco_error(NCO_ERR_SHAPE, "%s: dtype %s, %zu entries, expected %s, %zu", a->origin, nco_dtype_name(a->dtype),
                     a->size, nco_dtype_name(dt), n);
  return NCO_OK;
}

/* Sanitizer builds: a run draws its plots with PLplot, whose cairo driver
 * keeps font caches and its driver module for the process lifetime (the
 * suppressions of tests/lsan.supp, which the shell tests load); every C
 * test that runs a run gets them from here. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
  return "leak:libfontconfig.so\nleak:libpango-1.0.so\nleak:libpangoft2-1.0.so\nleak:libpangocairo-1.0.so\n"
         "leak:libglib-2.0.so\nleak:libltdl.so\nleak:libcairo.so\n";
}

static char tmpdir[512];

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb, (void)type, (void)ftw;
  if (remove(path)) perror(path);
  return 0; /* keep going: remove as much as possible */
}

/* atexit: the directory and everything in it, depth first, links not
 * followed (FTW_PHYS: a symlink is removed, not its target). */
static void remove_tmpdir(void) {
  if (tmpdir[0]) nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *nco_test_tmpdir(void) {
  if (!tmpdir[0]) {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/ncotest.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
      perror("mkdtemp");
      exit(2);
    }
    if (atexit(remove_tmpdir)) fprintf(stderr, "atexit failed: %s will not be removed\n", tmpdir);
  }
  return tmpdir;
}

const char *nco_test_tmp_path(const char *name) {
  static char bufs[8][1024];
  static int k = 0;
  char *b = bufs[k++ & 7];
  snprintf(b, sizeof bufs[0], "%s/%s", nco_test_tmpdir(), name);
  return b;
}

/* Test-side allocation: out of memory ends the test program. */
static void *xmalloc(size_t count, size_t size) {
  void *p = NULL;
  if (!size || count <= (size_t)-1 / size) p = malloc(count && size ? count * size : 1);
  if (!p) {
    fprintf(stderr, "testlib: out of memory (%zu × %zu bytes)\n", count, size);
    exit(2);
  }
  return p;
}

#define FAIL_CHECK(...)                 \
  do {                                  \
    fprintf(stderr, __VA_ARGS__);       \
    fputc('\n', stderr);                \
    nco_test_failed_checks++;           \
    nco_test_current_failed = 1;        \
  } while (0)

int nco_test_npy_roundtrip(const nco_array *a, const char *name, nco_array *out) {
  const char *path = nco_test_tmp_path(name);
  int st = nco_npy_write(path, a);
  if (!st) st = nco_npy_read(path, out);
  if (st) {
    FAIL_CHECK("nco_test_npy_roundtrip: %s: %s: %s", path, nco_status_name(st), nco_last_error());
    return st;
  }
  if (strcmp(out->origin, path) != 0 || out->dtype != a->dtype || out->ndim != a->ndim ||
      memcmp(out->shape, a->shape, a->ndim * sizeof *a->shape) != 0 || out->size != a->size ||
      memcmp(out->data, a->data, a->size * nco_dtype_size(a->dtype)) != 0)
    FAIL_CHECK("nco_test_npy_roundtrip: %s: read back is not the array written", path);
  return NCO_OK;
}

void nco_test_check_same_problem(nco_problem *p1, nco_problem *p2, uint64_t seed) {
  if (!p1 || !p2) return;
  if (p1->dim != p2->dim || p1->n != p2->n) {
    FAIL_CHECK("nco_test_check_same_problem: %s vs %s: different sizes", p1->label, p2->label);
    return;
  }
  float *x = xmalloc(p1->dim, sizeof *x), *g1 = xmalloc(p1->dim, sizeof *g1),
        *g2 = xmalloc(p1->dim, sizeof *g2);
  nco_rng rng;
  nco_rng_seed(&rng, seed);
  double l1, l2;
  int st = nco_problem_init(p2, &rng, x);
  if (!st) st = nco_problem_eval(p1, x, NULL, p1->n, &l1, g1);
  if (!st) st = nco_problem_eval(p2, x, NULL, p2->n, &l2, g2);
  if (st)
    FAIL_CHECK("nco_test_check_same_problem: %s: %s: %s", p1->label, nco_status_name(st),
               nco_last_error());
  else if (memcmp(&l1, &l2, sizeof l1) != 0 || memcmp(g1, g2, p1->dim * sizeof *g1) != 0)
    FAIL_CHECK("nco_test_check_same_problem: %s: loss %.17g vs %.17g, or gradients differ",
               p1->label, l1, l2);
  free(x), free(g1), free(g2);
}

/* ---- derivative checks ------------------------------------------------- */

void nco_test_check_derivatives(nco_problem *pb, const float *x, const size_t *mb, size_t nmb) {
  nco_reduction red0 = pb->reduction;
  int ls = nco_problem_is_least_squares(pb), exact = nco_problem_has_exact_hvp(pb);
  for (int red = 0; red < 2; red++) {
    nco_problem_set_reduction(pb, red ? NCO_REDUCE_MEAN : NCO_REDUCE_SUM);
    for (int b = 0; b < 2; b++) {
      const size_t *idx = b ? mb : NULL;
      size_t nb = b ? nmb : pb->n;
      const char *what[3] = {"gradient", "jvp_vjp", "hvp"};
      int st[3] = {nco_check_gradient(pb, x, idx, nb, NULL, NULL), NCO_OK, NCO_OK};
      if (ls) st[1] = nco_check_jvp_vjp(pb, x, idx, nb, NULL, NULL);
      if (exact) st[2] = nco_check_hvp(pb, x, idx, nb, NULL, NULL);
      for (int k = 0; k < 3; k++)
        if (st[k] != NCO_OK)
          FAIL_CHECK("nco_check_%s: %s, %s, %s batch: %s: %s", what[k], pb->label,
                     red ? "MEAN" : "SUM", b ? "mini" : "full", nco_status_name(st[k]),
                     nco_last_error());
    }
  }
  nco_problem_set_reduction(pb, red0);
}

/* ---- plain gradient descent ---------------------------------------------- */

size_t nco_test_gd(nco_problem *pb, float *x, double eta, size_t maxit, nco_test_gd_watch watch,
                   void *ctx) {
  float *g = xmalloc(pb->dim, sizeof *g);
  double loss;
  size_t t;
  for (t = 0;; t++) {
    int st = nco_problem_eval(pb, x, NULL, pb->n, &loss, g);
    if (st) {
      FAIL_CHECK("nco_test_gd: %s at step %zu: %s: %s", pb->label, t, nco_status_name(st),
                 nco_last_error());
      break;
    }
    if (watch && watch(ctx, t, loss, x, g)) break;
    if (t >= maxit) break;
    nco_axpy(pb->dim, (float)-eta, g, x);
  }
  free(g);
  return t;
}

/* ---- independent references -------------------------------------------- */

/* φ (mix = 0) and its derivatives from the textbook formulas. */
static double ref_base(const nco_act *a, double z, int order) {
  double s = 1 / (1 + exp(-z)), t = tanh(z);
  switch (a->kind) {
    case NCO_ACT_IDENTITY: return order == 0 ? z : order == 1 ? 1 : 0;
    case NCO_ACT_SIGMOID:
      return order == 0 ? s : order == 1 ? s * (1 - s) : s * (1 - s) * (1 - 2 * s);
    case NCO_ACT_TANH: return order == 0 ? t : order == 1 ? 1 - t * t : -2 * t * (1 - t * t);
    case NCO_ACT_SOFTPLUS: return order == 0 ? log(1 + exp(z)) : order == 1 ? s : s * (1 - s);
    case NCO_ACT_RELU: return order == 0 ? (z > 0 ? z : 0) : order == 1 ? (z > 0) : 0;
    case NCO_ACT_LEAKY_RELU:
      return order == 0 ? (z > 0 ? z : a->slope * z) : order == 1 ? (z > 0 ? 1 : a->slope) : 0;
    case NCO_ACT_ELU:
      return z > 0 ? (order == 0 ? z : order == 1 ? 1 : 0)
                   : (order == 0 ? a->slope * (exp(z) - 1) : a->slope * exp(z));
  }
  return NAN;
}

double nco_test_ref_act(const nco_act *a, double z, int order) {
  double lin = order == 0 ? z : order == 1 ? 1 : 0;
  return (1 - a->mix) * ref_base(a, z, order) + a->mix * lin;
}

nco_act nco_test_act_case(size_t i, double elu_slope) {
  static const nco_activation kinds[] = {NCO_ACT_IDENTITY, NCO_ACT_SIGMOID,    NCO_ACT_TANH,
                                         NCO_ACT_SOFTPLUS, NCO_ACT_RELU,       NCO_ACT_LEAKY_RELU,
                                         NCO_ACT_ELU};
  nco_act a = nco_act_make(kinds[i % 7]);
  if (a.kind == NCO_ACT_LEAKY_RELU) a.slope = 0.1;
  if (a.kind == NCO_ACT_ELU) a.slope = elu_slope;
  a.mix = i < 7 ? 0 : 0.3;
  return a;
}

int nco_test_act_has_kink(const nco_act *a) {
  return a->kind == NCO_ACT_RELU || a->kind == NCO_ACT_LEAKY_RELU || a->kind == NCO_ACT_ELU;
}

void nco_test_gram(size_t n, size_t d, const float *X, double *G) {
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < n; k++) {
      double s = 0;
      for (size_t j = 0; j < d; j++) s += (double)X[i * d + j] * X[k * d + j];
      G[i * n + k] = s;
    }
}

void nco_test_gram_t(size_t n, size_t d, const float *X, double *G) {
  for (size_t j = 0; j < d; j++)
    for (size_t k = 0; k < d; k++) {
      double s = 0;
      for (size_t i = 0; i < n; i++) s += (double)X[i * d + j] * X[i * d + k];
      G[j * d + k] = s;
    }
}

double nco_test_norm(size_t n, const double *v) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += v[i] * v[i];
  return sqrt(s);
}

int nco_test_cholesky(size_t n, double *M) {
  for (size_t j = 0; j < n; j++) {
    double s = M[j * n + j];
    for (size_t k = 0; k < j; k++) s -= M[j * n + k] * M[j * n + k];
    if (!(s > 0)) return -1;
    M[j * n + j] = sqrt(s);
    for (size_t i = j + 1; i < n; i++) {
      double t = M[i * n + j];
      for (size_t k = 0; k < j; k++) t -= M[i * n + k] * M[j * n + k];
      M[i * n + j] = t / M[j * n + j];
    }
  }
  return 0;
}

void nco_test_chol_solve(size_t n, const double *L, const double *b, double *x) {
  for (size_t i = 0; i < n; i++) { /* L y = b */
    double s = b[i];
    for (size_t k = 0; k < i; k++) s -= L[i * n + k] * x[k];
    x[i] = s / L[i * n + i];
  }
  for (size_t i = n; i-- > 0;) { /* Lᵀ x = y */
    double s = x[i];
    for (size_t k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
}

void nco_test_eig_sym(size_t n, const double *A_in, double *lam, double *V) {
  double *A = xmalloc(n * n, sizeof *A);
  memcpy(A, A_in, n * n * sizeof *A);
  if (V)
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) V[i * n + j] = i == j;
  for (int sweep = 0; sweep < 100; sweep++) {
    double off = 0, tot = 0;
    for (size_t p = 0; p < n; p++)
      for (size_t q = 0; q < n; q++) {
        tot += A[p * n + q] * A[p * n + q];
        if (p != q) off += A[p * n + q] * A[p * n + q];
      }
    if (off <= 1e-30 * tot) break;
    for (size_t p = 0; p + 1 < n; p++)
      for (size_t q = p + 1; q < n; q++) {
        /* the rotation J in the (p, q) plane that zeroes A_pq: A ← JᵀAJ */
        double apq = A[p * n + q];
        if (apq == 0) continue;
        double th = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        double t = (th >= 0 ? 1.0 : -1.0) / (fabs(th) + sqrt(th * th + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; k++) { /* columns p, q: A ← AJ */
          double akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (size_t k = 0; k < n; k++) { /* rows p, q: A ← JᵀA */
          double apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        if (V)
          for (size_t k = 0; k < n; k++) { /* V ← VJ */
            double vkp = V[k * n + p], vkq = V[k * n + q];
            V[k * n + p] = c * vkp - s * vkq;
            V[k * n + q] = s * vkp + c * vkq;
          }
      }
  }
  /* selection sort, descending, columns of V along */
  for (size_t i = 0; i < n; i++) lam[i] = A[i * n + i];
  for (size_t i = 0; i < n; i++) {
    size_t best = i;
    for (size_t j = i + 1; j < n; j++)
      if (lam[j] > lam[best]) best = j;
    if (best == i) continue;
    double t = lam[i];
    lam[i] = lam[best], lam[best] = t;
    if (V)
      for (size_t k = 0; k < n; k++) {
        t = V[k * n + i];
        V[k * n + i] = V[k * n + best], V[k * n + best] = t;
      }
  }
  free(A);
}

double nco_test_eig_max(size_t n, const double *M) {
  double *v = xmalloc(n, sizeof *v), *w = xmalloc(n, sizeof *w), lam = 0;
  for (size_t i = 0; i < n; i++) v[i] = 1.0 + 0.01 * (double)i;
  for (int it = 0; it < 2000; it++) {
    double nv = nco_test_norm(n, v);
    for (size_t i = 0; i < n; i++) v[i] /= nv;
    for (size_t i = 0; i < n; i++) {
      double s = 0;
      for (size_t k = 0; k < n; k++) s += M[i * n + k] * v[k];
      w[i] = s;
    }
    lam = 0;
    for (size_t i = 0; i < n; i++) lam += v[i] * w[i];
    memcpy(v, w, n * sizeof *v);
  }
  free(v), free(w);
  return lam;
}

uint64_t nco_test_hash_u64(uint64_t seed, uint64_t j) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + (j + 1) * 0xBF58476D1CE4E5B9ull;
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ull;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBull;
  z ^= z >> 31;
  return z;
}

void nco_test_gen(uint64_t seed, size_t n, double bound, float *out) {
  for (size_t j = 0; j < n; j++) {
    double u = (double)(nco_test_hash_u64(seed, j) >> 11) * 0x1p-53;
    out[j] = (float)((2.0 * u - 1.0) * bound);
  }
}

char *nco_test_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 14, n = 0, r;
  char *b = malloc(cap + 1);
  while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      char *nb = realloc(b, 2 * cap + 1);
      if (!nb) {
        free(b);
        b = NULL;
        break;
      }
      b = nb, cap *= 2;
    }
  }
  fclose(f);
  if (b) b[n] = '\0';
  if (b && len) *len = n;
  return b;
}
