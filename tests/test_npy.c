/* tests/test_npy.c — nco_array and the .npy reader/writer.
 *
 * Reference values: the fixtures in tests/fixtures/npy/ were written by
 * NumPy (tests/fixtures/make_npy_fixtures.py); their contents are
 * hard-coded below from that script's closed forms. Malformed files are
 * built byte by byte here, in nco_test_tmpdir(). Every comparison is exact
 * (bytes or values that are representable), so there are no tolerances.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* ------------------------------------------------------------------ helpers */

static int write_file(const char *path, const void *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = n ? fwrite(buf, 1, n, f) : 0;
  return (fclose(f) == 0 && w == n) ? 0 : -1;
}

/* Whole file into a malloc'd buffer (NULL on error). */
static unsigned char *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, len = 0;
  unsigned char *b = malloc(cap);
  size_t k;
  while (b && (k = fread(b + len, 1, cap - len, f)) > 0) {
    len += k;
    if (len == cap) {
      unsigned char *q = realloc(b, cap *= 2);
      if (!q) free(b);
      b = q;
    }
  }
  fclose(f);
  *n = len;
  return b;
}

/* A .npy image: magic, version major.minor, header length (2 bytes for 1.x,
 * 4 otherwise; `hlen_field` ≥ 0 overrides it), the dict padded like numpy
 * (spaces + '\n' up to a multiple of 64) unless `nopad`, then `datalen`
 * bytes of a fixed pattern. */
static unsigned char *build_npy(int major, int minor, const char *dict, int nopad, long hlen_field,
                                size_t datalen, size_t *len) {
  size_t prelen = major == 1 ? 10 : 12, dl = strlen(dict);
  size_t hlen = nopad ? dl : dl + 1 + (64 - (prelen + dl + 1) % 64) % 64;
  size_t total = prelen + hlen + datalen;
  unsigned char *b = malloc(total ? total : 1);
  if (!b) return NULL;
  memcpy(b, "\x93NUMPY", 6);
  b[6] = (unsigned char)major;
  b[7] = (unsigned char)minor;
  size_t hf = hlen_field >= 0 ? (size_t)hlen_field : hlen;
  for (size_t k = 0; k < prelen - 8; k++) b[8 + k] = (unsigned char)(hf >> (8 * k));
  memcpy(b + prelen, dict, dl);
  if (!nopad) {
    memset(b + prelen + dl, ' ', hlen - dl - 1);
    b[prelen + hlen - 1] = '\n';
  }
  for (size_t i = 0; i < datalen; i++) b[prelen + hlen + i] = (unsigned char)(i * 37 + 11);
  *len = total;
  return b;
}

static int array_is_zeroed(const nco_array *a) {
  nco_array z;
  memset(&z, 0, sizeof z);
  return memcmp(a, &z, sizeof z) == 0;
}

/* Number of entries of `dir` whose name contains `needle`. */
static int count_entries(const char *dir, const char *needle) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, needle)) n++;
  closedir(d);
  return n;
}

/* --------------------------------------------------------------- nco_array */

static void test_dtype_and_shape_str(void) {
  CHECK(nco_dtype_size(NCO_DTYPE_F32) == 4 && nco_dtype_size(NCO_DTYPE_F64) == 8);
  CHECK(nco_dtype_size(NCO_DTYPE_I32) == 4 && nco_dtype_size(NCO_DTYPE_I64) == 8);
  CHECK(nco_dtype_size(NCO_DTYPE_U8) == 1 && nco_dtype_size((nco_dtype)42) == 0);
  CHECK(!strcmp(nco_dtype_name(NCO_DTYPE_F32), "float32") && !strcmp(nco_dtype_name(NCO_DTYPE_F64), "float64"));
  CHECK(!strcmp(nco_dtype_name(NCO_DTYPE_I32), "int32") && !strcmp(nco_dtype_name(NCO_DTYPE_I64), "int64"));
  CHECK(!strcmp(nco_dtype_name(NCO_DTYPE_U8), "uint8"));

  nco_array a;
  char buf[64];
  size_t s2[2] = {3, 4}, s1[1] = {5};
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F32, 2, s2, "x.npy"));
  CHECK(!strcmp(nco_array_shape_str(&a, buf, sizeof buf), "(3, 4)"));
  CHECK(!strcmp(nco_array_shape_str(&a, buf, 4), "(3,")); /* truncated, still terminated */
  nco_array_free(&a);
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F32, 1, s1, NULL));
  CHECK(!strcmp(nco_array_shape_str(&a, buf, sizeof buf), "(5,)"));
  nco_array_free(&a);
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F32, 0, NULL, NULL));
  CHECK(!strcmp(nco_array_shape_str(&a, buf, sizeof buf), "()"));
  nco_array_free(&a);
}

static void test_array_alloc(void) {
  nco_array a;
  size_t shape[3] = {2, 3, 4};
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F64, 3, shape, "gen:test"));
  CHECK(a.dtype == NCO_DTYPE_F64 && a.ndim == 3 && a.size == 24);
  CHECK(a.shape[0] == 2 && a.shape[1] == 3 && a.shape[2] == 4);
  CHECK(!strcmp(a.origin, "gen:test"));
  int zero = 1;
  for (size_t i = 0; i < a.size; i++) zero &= ((double *)a.data)[i] == 0.0;
  CHECK(zero);
  nco_array_free(&a);
  CHECK(array_is_zeroed(&a));
  nco_array_free(&a); /* safe on a zeroed struct */

  /* 0-d: one element. */
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_I32, 0, NULL, NULL));
  CHECK(a.size == 1 && a.data != NULL && a.origin[0] == '\0');
  nco_array_free(&a);
  /* Zero-size. */
  size_t z[2] = {0, 7};
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_U8, 2, z, NULL));
  CHECK(a.size == 0);
  nco_array_free(&a);

  /* Element count overflow: 2^62 · 2^62. */
  size_t big[2] = {(size_t)1 << 62, (size_t)1 << 62};
  CHECK_ERR(nco_array_alloc(&a, NCO_DTYPE_F32, 2, big, "big.npy"), NCO_ERR_OVERFLOW, "big.npy: shape (");
  CHECK(array_is_zeroed(&a));
  /* Byte count overflow: 2^62 elements of 8 bytes. */
  size_t big1[1] = {(size_t)1 << 62};
  CHECK_ERR(nco_array_alloc(&a, NCO_DTYPE_F64, 1, big1, "big.npy"), NCO_ERR_OVERFLOW, "bytes");
  CHECK(array_is_zeroed(&a));
  size_t nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK_ERR(nco_array_alloc(&a, NCO_DTYPE_F32, 9, nine, "nine"), NCO_ERR_UNSUPPORTED, "nine: 9 dimensions");
  CHECK_ERR(nco_array_alloc(&a, (nco_dtype)9, 1, shape, "bad"), NCO_ERR_INVALID, "invalid dtype");

  /* origin and shape may point into the array itself. */
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F32, 2, shape, "self.npy"));
  void *old = a.data;
  nco_array b = a;
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_U8, b.ndim, b.shape, b.origin));
  CHECK(!strcmp(a.origin, "self.npy") && a.ndim == 2 && a.shape[1] == 3);
  free(old);
  nco_array_free(&a);
}

static void test_array_expect(void) {
  nco_array a;
  size_t shape[2] = {3, 4};
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F32, 2, shape, "data/A.npy"));
  size_t ok[2] = {3, 4}, wild[2] = {(size_t)-1, 4}, bad[2] = {3, 5}, wbad[2] = {(size_t)-1, 5};
  CHECK_OK(nco_array_expect(&a, "features", 2, ok));
  CHECK_OK(nco_array_expect(&a, "features", 2, wild));
  CHECK_ERR(nco_array_expect(&a, "features", 2, bad), NCO_ERR_SHAPE,
            "data/A.npy: features has shape (3, 4), expected (3, 5)");
  CHECK_ERR(nco_array_expect(&a, "features", 2, wbad), NCO_ERR_SHAPE,
            "data/A.npy: features has shape (3, 4), expected (*, 5)");
  size_t one[1] = {12};
  CHECK_ERR(nco_array_expect(&a, "targets", 1, one), NCO_ERR_SHAPE,
            "data/A.npy: targets has shape (3, 4), expected (12,)");
  CHECK_ERR(nco_array_expect(&a, "targets", 0, NULL), NCO_ERR_SHAPE, "expected ()");
  nco_array_free(&a);
}

static void test_array_check_finite(void) {
  nco_array a;
  size_t shape[2] = {2, 3};
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F32, 2, shape, "w.npy"));
  CHECK_OK(nco_array_check_finite(&a, "weights"));
  ((float *)a.data)[5] = INFINITY;
  ((float *)a.data)[4] = NAN; /* first bad one: flat 4 = (1, 1) */
  CHECK_ERR(nco_array_check_finite(&a, "weights"), NCO_ERR_NONFINITE, "w.npy: weights");
  CHECK_ERR(nco_array_check_finite(&a, "weights"), NCO_ERR_NONFINITE, "at index (1, 1)");
  nco_array_free(&a);
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F64, 1, shape, "d.npy"));
  ((double *)a.data)[1] = -INFINITY;
  CHECK_ERR(nco_array_check_finite(&a, "x"), NCO_ERR_NONFINITE, "d.npy: x has a non-finite value (-inf) at index (1,)");
  nco_array_free(&a);
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_I64, 1, shape, "i.npy"));
  CHECK_OK(nco_array_check_finite(&a, "labels"));
  nco_array_free(&a);
}

static void test_array_to_f32(void) {
  nco_array a;
  size_t n4[1] = {4};
  /* float64: exactly representable values convert exactly; FLT_MAX itself
   * and a value just below FLT_MAX + ulp/2 (2^103 at FLT_MAX) round to
   * FLT_MAX under round-to-nearest. */
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F64, 1, n4, "d.npy"));
  double *d = a.data;
  d[0] = -1.5;
  d[1] = (double)FLT_MAX;
  d[2] = -((double)FLT_MAX + 0x1p102);
  d[3] = 0.1;
  REQUIRE_OK(nco_array_to_f32(&a));
  CHECK(a.dtype == NCO_DTYPE_F32 && a.size == 4 && a.ndim == 1);
  float *f = a.data;
  CHECK(f[0] == -1.5f && f[1] == FLT_MAX && f[2] == -FLT_MAX && f[3] == 0.1f);
  CHECK_OK(nco_array_to_f32(&a)); /* no-op on float32 */
  CHECK(a.dtype == NCO_DTYPE_F32 && ((float *)a.data)[0] == -1.5f);
  nco_array_free(&a);

  /* Overflow: 1e300 and FLT_MAX + ulp/2 (ties to even → inf) are errors
   * naming the origin and the index; the array is left unchanged. */
  size_t s23[2] = {2, 3};
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_F64, 2, s23, "data/big.npy"));
  d = a.data;
  d[4] = 1e300;
  CHECK_ERR(nco_array_to_f32(&a), NCO_ERR_RANGE, "data/big.npy: float64 value 1e+300 at index (1, 1) overflows float32");
  CHECK(a.dtype == NCO_DTYPE_F64 && d[4] == 1e300 && d[0] == 0.0);
  d[4] = 0;
  d[2] = (double)FLT_MAX + 0x1p103;
  CHECK_ERR(nco_array_to_f32(&a), NCO_ERR_RANGE, "at index (0, 2) overflows float32");
  d[2] = NAN;
  CHECK_ERR(nco_array_to_f32(&a), NCO_ERR_NONFINITE, "data/big.npy: non-finite float64 value nan at index (0, 2)");
  d[2] = -INFINITY;
  CHECK_ERR(nco_array_to_f32(&a), NCO_ERR_NONFINITE, "-inf");
  CHECK(a.dtype == NCO_DTYPE_F64);
  nco_array_free(&a);

  /* Integers: int32 2^31 − 1 rounds to 2^31; int64 ±2^62, 2^40 exact. */
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_I32, 1, n4, NULL));
  int32_t *i32 = a.data;
  i32[0] = INT32_MIN;
  i32[1] = -7;
  i32[2] = 16777217; /* 2^24 + 1 → 2^24 (ties to even) */
  i32[3] = INT32_MAX;
  REQUIRE_OK(nco_array_to_f32(&a));
  f = a.data;
  CHECK(f[0] == -2147483648.0f && f[1] == -7.0f && f[2] == 16777216.0f && f[3] == 2147483648.0f);
  nco_array_free(&a);

  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_I64, 1, n4, NULL));
  int64_t *i64 = a.data;
  i64[0] = -((int64_t)1 << 62);
  i64[1] = (int64_t)1 << 40;
  i64[2] = 3;
  i64[3] = INT64_MAX; /* → 2^63 */
  REQUIRE_OK(nco_array_to_f32(&a));
  f = a.data;
  CHECK(f[0] == -0x1p62f && f[1] == 0x1p40f && f[2] == 3.0f && f[3] == 0x1p63f);
  nco_array_free(&a);

  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_U8, 1, n4, NULL));
  uint8_t *u8 = a.data;
  u8[0] = 0;
  u8[1] = 1;
  u8[2] = 128;
  u8[3] = 255;
  REQUIRE_OK(nco_array_to_f32(&a));
  f = a.data;
  CHECK(a.dtype == NCO_DTYPE_F32 && f[0] == 0.0f && f[1] == 1.0f && f[2] == 128.0f && f[3] == 255.0f);
  nco_array_free(&a);

  /* Empty arrays of every dtype convert. */
  size_t z[1] = {0};
  for (int t = 0; t <= NCO_DTYPE_U8; t++) {
    REQUIRE_OK(nco_array_alloc(&a, (nco_dtype)t, 1, z, NULL));
    CHECK_OK(nco_array_to_f32(&a));
    CHECK(a.dtype == NCO_DTYPE_F32 && a.size == 0);
    nco_array_free(&a);
  }
}

/* -------------------------------------------------------------- round trip */

/* Fills a with distinct values per element (exercising sign and all bytes). */
static void fill_pattern(nco_array *a) {
  for (size_t i = 0; i < a->size; i++) {
    switch (a->dtype) {
      case NCO_DTYPE_F32: ((float *)a->data)[i] = (float)i * 0.25f - 3.0f + (i == 1 ? 1e-30f : 0.0f); break;
      case NCO_DTYPE_F64: ((double *)a->data)[i] = (double)i / 3.0 - 1e200 * (double)(i & 1); break;
      case NCO_DTYPE_I32: ((int32_t *)a->data)[i] = (int32_t)(i * 2654435761u); break;
      case NCO_DTYPE_I64: ((int64_t *)a->data)[i] = (int64_t)(i * 0x9E3779B97F4A7C15ull); break;
      case NCO_DTYPE_U8: ((uint8_t *)a->data)[i] = (uint8_t)(i * 37 + 200); break;
    }
  }
}

static void test_roundtrip_all_dtypes(void) {
  static const size_t shapes[5][3] = {{0}, {5}, {3, 4}, {2, 3, 4}, {0, 3}};
  static const size_t ndims[5] = {0, 1, 2, 3, 2};
  static const char *descr[5] = {"<f4", "<f8", "<i4", "<i8", "|u1"};
  for (int t = 0; t <= NCO_DTYPE_U8; t++) {
    for (int s = 0; s < 5; s++) {
      nco_array a, b, c;
      char name[64], shp[64], dict[160];
      snprintf(name, sizeof name, "rt_%s_%d.npy", nco_dtype_name((nco_dtype)t), s);
      const char *path = nco_test_tmp_path(name);
      REQUIRE_OK(nco_array_alloc(&a, (nco_dtype)t, ndims[s], shapes[s], "gen"));
      fill_pattern(&a);
      CHECK_OK(nco_npy_write(path, &a));
      memset(&b, 0xAB, sizeof b); /* read zeroes it */
      CHECK_OK(nco_npy_read(path, &b));
      CHECK(b.dtype == a.dtype && b.ndim == a.ndim && b.size == a.size);
      CHECK(!memcmp(b.shape, a.shape, sizeof a.shape[0] * a.ndim));
      CHECK(!strcmp(b.origin, path));
      CHECK(b.data && !memcmp(a.data, b.data, a.size * nco_dtype_size(a.dtype)));

      /* The file itself: numpy's layout, byte for byte in the header. */
      size_t len = 0;
      unsigned char *img = read_all(path, &len);
      REQUIRE(img);
      size_t hlen = (size_t)img[8] | (size_t)img[9] << 8;
      size_t data_bytes = a.size * nco_dtype_size(a.dtype);
      CHECK(!memcmp(img, "\x93NUMPY\x01\x00", 8));
      CHECK(len == 10 + hlen + data_bytes);
      CHECK((10 + hlen) % 64 == 0);
      CHECK(img[10 + hlen - 1] == '\n');
      snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr[t],
               nco_array_shape_str(&a, shp, sizeof shp));
      CHECK(hlen >= strlen(dict) + 1 && !memcmp(img + 10, dict, strlen(dict)));
      int spaces = 1;
      for (size_t k = 10 + strlen(dict); k < 10 + hlen - 1; k++) spaces &= img[k] == ' ';
      CHECK(spaces);
      /* In-memory parse of the same bytes. */
      CHECK_OK(nco_npy_parse(img, len, "mem", &c));
      CHECK(c.size == a.size && !memcmp(a.data, c.data, data_bytes) && !strcmp(c.origin, "mem"));
      free(img);
      nco_array_free(&a);
      nco_array_free(&b);
      nco_array_free(&c);
    }
  }
  /* No temporary files left behind. */
  CHECK(count_entries(nco_test_tmpdir(), ".tmp.") == 0);
}

static void test_write_f32_and_overwrite(void) {
  const char *path = nco_test_tmp_path("w32.npy");
  float x[6] = {1, 2, 3, 4, 5, 6};
  size_t shape[2] = {2, 3};
  REQUIRE_OK(nco_npy_write_f32(path, x, 2, shape));
  nco_array a;
  REQUIRE_OK(nco_npy_read(path, &a));
  CHECK(a.dtype == NCO_DTYPE_F32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3);
  CHECK(!memcmp(a.data, x, sizeof x));
  nco_array_free(&a);

  /* Overwrite with a different shape; the mode of the old file is kept. */
  REQUIRE(chmod(path, 0640) == 0);
  float y[1] = {-9.5f};
  REQUIRE_OK(nco_npy_write_f32(path, y, 0, NULL));
  REQUIRE_OK(nco_npy_read(path, &a));
  CHECK(a.ndim == 0 && a.size == 1 && ((float *)a.data)[0] == -9.5f);
  nco_array_free(&a);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640);

  /* A new file gets 0666 minus the umask, as fopen would give it. */
  mode_t old = umask(027);
  const char *p2 = nco_test_tmp_path("w32_new.npy");
  CHECK_OK(nco_npy_write_f32(p2, x, 1, shape));
  umask(old);
  CHECK(stat(p2, &st) == 0 && (st.st_mode & 0777) == 0640);

  /* Bad arguments. */
  size_t huge[2] = {SIZE_MAX, 2};
  CHECK_ERR(nco_npy_write_f32(path, x, 2, huge), NCO_ERR_OVERFLOW, "w32.npy");
  CHECK_ERR(nco_npy_write_f32(path, NULL, 2, shape), NCO_ERR_INVALID, "no data");
  CHECK_ERR(nco_npy_write_f32(path, x, 9, shape), NCO_ERR_INVALID, "dimensions");
  CHECK_OK(nco_npy_write_f32(nco_test_tmp_path("w32_empty.npy"), NULL, 1, (size_t[]){0}));
  nco_array bad;
  memset(&bad, 0, sizeof bad);
  bad.dtype = NCO_DTYPE_F32;
  bad.ndim = 1;
  bad.shape[0] = 3;
  bad.size = 4;
  bad.data = x;
  CHECK_ERR(nco_npy_write(path, &bad), NCO_ERR_INVALID, "does not match its shape");
  /* The failed calls did not touch the file. */
  REQUIRE_OK(nco_npy_read(path, &a));
  CHECK(a.ndim == 0 && ((float *)a.data)[0] == -9.5f);
  nco_array_free(&a);
}

/* ---------------------------------------------------------- numpy fixtures */

static void test_numpy_fixtures(void) {
  nco_array a;
  /* float32 (3, 4): 0.5 (4i + j) − 1 */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/f4_3x4.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_F32 && a.ndim == 2 && a.shape[0] == 3 && a.shape[1] == 4 && a.size == 12);
  CHECK(strstr(a.origin, "f4_3x4.npy") != NULL);
  for (size_t i = 0; i < 3; i++)
    for (size_t j = 0; j < 4; j++) CHECK(((float *)a.data)[4 * i + j] == 0.5f * (float)(4 * i + j) - 1.0f);
  nco_array_free(&a);

  /* float64 (5,) */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/f8_5.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_F64 && a.ndim == 1 && a.shape[0] == 5);
  double *d = a.data;
  CHECK(d[0] == 0.1 && d[1] == -2.5 && d[2] == 1e300 && d[3] == 0.0 && signbit(d[3]) && d[4] == 3.0);
  /* 1e300 does not fit float32: the error names the file and the index. */
  CHECK_ERR(nco_array_to_f32(&a), NCO_ERR_RANGE, "f8_5.npy: float64 value 1e+300 at index (2,)");
  nco_array_free(&a);

  /* int64 (2, 2) */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/i8_2x2.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_I64 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 2);
  int64_t *i64 = a.data;
  CHECK(i64[0] == -3 && i64[1] == (int64_t)1 << 40 && i64[2] == 7 && i64[3] == -((int64_t)1 << 62));
  nco_array_free(&a);

  /* int32 (2, 3) */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/i4_2x3.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_I32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3);
  int32_t *i32 = a.data;
  CHECK(i32[0] == INT32_MIN && i32[1] == -1 && i32[2] == 0 && i32[3] == 1 && i32[4] == 65536 &&
        i32[5] == INT32_MAX);
  nco_array_free(&a);

  /* uint8 (4,) */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/u1_4.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_U8 && a.ndim == 1 && a.shape[0] == 4);
  uint8_t *u = a.data;
  CHECK(u[0] == 0 && u[1] == 1 && u[2] == 128 && u[3] == 255);
  nco_array_free(&a);

  /* big-endian '>f8' (3,) and '>i4' (2,): swapped on read */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/be_f8_3.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_F64 && a.ndim == 1 && a.shape[0] == 3);
  d = a.data;
  CHECK(d[0] == 1.5 && d[1] == -2.25 && d[2] == 1e-300);
  nco_array_free(&a);
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/be_i4_2.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_I32 && a.shape[0] == 2);
  CHECK(((int32_t *)a.data)[0] == -2 && ((int32_t *)a.data)[1] == 0x12345678);
  nco_array_free(&a);

  /* versions 2.0 and 3.0: float32 (2, 2) = [[1, 2], [3, 4]] */
  const char *vers[2] = {"npy/v20_f4_2x2.npy", "npy/v30_f4_2x2.npy"};
  for (int v = 0; v < 2; v++) {
    REQUIRE_OK(nco_npy_read(nco_fixture(vers[v]), &a));
    CHECK(a.dtype == NCO_DTYPE_F32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 2);
    float *f = a.data;
    CHECK(f[0] == 1.0f && f[1] == 2.0f && f[2] == 3.0f && f[3] == 4.0f);
    nco_array_free(&a);
  }

  /* 0-d scalar 2.5 */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/scalar_f8.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_F64 && a.ndim == 0 && a.size == 1 && ((double *)a.data)[0] == 2.5);
  nco_array_free(&a);

  /* empty (0, 3) */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/empty_f4_0x3.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_F32 && a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 3 && a.size == 0);
  nco_array_free(&a);
}

static void test_numpy_fixtures_refused(void) {
  nco_array a;
  memset(&a, 0x5A, sizeof a);
  CHECK_ERR(nco_npy_read(nco_fixture("npy/fortran_2x3.npy"), &a), NCO_ERR_UNSUPPORTED,
            "fortran_2x3.npy: fortran_order is True");
  CHECK(array_is_zeroed(&a));
  CHECK_ERR(nco_npy_read(nco_fixture("npy/object.npy"), &a), NCO_ERR_UNSUPPORTED,
            "object.npy: unsupported dtype '|O' (object dtype");
  CHECK(array_is_zeroed(&a));
  CHECK_ERR(nco_npy_read(nco_fixture("npy/c8_2.npy"), &a), NCO_ERR_UNSUPPORTED,
            "c8_2.npy: unsupported dtype '<c8' (complex dtype)");
  CHECK_ERR(nco_npy_read(nco_fixture("npy/no_such_file.npy"), &a), NCO_ERR_IO,
            "no_such_file.npy: cannot open: No such file or directory");
  CHECK_ERR(nco_npy_read(nco_test_tmpdir(), &a), NCO_ERR_IO, "is a directory");
  CHECK(array_is_zeroed(&a));
}

/* ------------------------------------------------------------ bad inputs */

typedef struct npy_case {
  const char *label;  /* becomes the file name "<label>.npy" */
  int major, minor;   /* version (major 0 means 1) */
  const char *dict;
  size_t datalen;
  int nopad;          /* header without numpy's padding and '\n' */
  long hlen_field;    /* ≥ 1: header-length field value instead of the real one */
  int cut_set;        /* truncate the image to `cut` bytes */
  size_t cut;
  long poke_at;       /* ≥ 1: set byte poke_at (from the file start) to poke_val */
  int poke_val;
  int status;
  const char *needle, *needle2;
} npy_case;

#define D3F4 "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"

static const npy_case bad_cases[] = {
    {.label = "empty", .dict = D3F4, .datalen = 12, .cut_set = 1, .cut = 0, .status = NCO_ERR_FORMAT,
     .needle = "empty file"},
    {.label = "magic", .dict = D3F4, .datalen = 12, .poke_at = 5, .poke_val = 'Z', .status = NCO_ERR_FORMAT,
     .needle = "not a .npy file: bad magic \"\\x93NUMPZ\""},
    {.label = "zipfile", .dict = D3F4, .datalen = 12, .poke_at = 0, .poke_val = 'P', .status = NCO_ERR_FORMAT,
     .needle = "bad magic"},
    {.label = "short_magic", .dict = D3F4, .datalen = 12, .cut_set = 1, .cut = 4, .status = NCO_ERR_FORMAT,
     .needle = "truncated header: file holds 4 bytes"},
    {.label = "short_preamble", .dict = D3F4, .datalen = 12, .cut_set = 1, .cut = 9, .status = NCO_ERR_FORMAT,
     .needle = "truncated header"},
    {.label = "version4", .major = 4, .dict = D3F4, .datalen = 12, .status = NCO_ERR_UNSUPPORTED,
     .needle = "unsupported .npy format version 4.0"},
    {.label = "version11", .major = 1, .minor = 1, .dict = D3F4, .datalen = 12, .status = NCO_ERR_UNSUPPORTED,
     .needle = "version 1.1"},
    {.label = "trunc_header", .dict = D3F4, .datalen = 12, .cut_set = 1, .cut = 40, .status = NCO_ERR_FORMAT,
     .needle = "truncated header: header length says 118 bytes, file holds 30"},
    {.label = "header_cap", .major = 2, .dict = D3F4, .datalen = 12, .hlen_field = 65537,
     .status = NCO_ERR_FORMAT, .needle = "header length 65537 exceeds the limit of 65536 bytes"},
    {.label = "header_huge", .major = 3, .dict = D3F4, .datalen = 12, .hlen_field = 0xFFFFFFFFL,
     .status = NCO_ERR_FORMAT, .needle = "header length 4294967295 exceeds"},
    {.label = "trunc_data", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (64, 8), }",
     .datalen = 1000, .status = NCO_ERR_FORMAT,
     .needle = "truncated: header says shape (64, 8) float32 = 2048 bytes, file holds 1000"},
    {.label = "lying_shape", .dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }",
     .datalen = 16, .status = NCO_ERR_FORMAT,
     .needle = "truncated: header says shape (1000000000000,) float64 = 8000000000000 bytes, file holds 16"},
    {.label = "overflow_elems",
     .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4611686018427387904), }",
     .datalen = 16, .status = NCO_ERR_OVERFLOW, .needle = "more elements than fit in size_t"},
    {.label = "overflow_bytes", .dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,), }",
     .datalen = 16, .status = NCO_ERR_OVERFLOW, .needle = "float64 needs more bytes than fit in size_t"},
    {.label = "overflow_dim",
     .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999, 1), }",
     .datalen = 16, .status = NCO_ERR_OVERFLOW, .needle = "dimension 99999999999999999999999 in 'shape' does not fit"},
    {.label = "negative_dim", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }",
     .datalen = 12, .status = NCO_ERR_FORMAT, .needle = "negative dimension -1 in 'shape'"},
    {.label = "too_many_dims",
     .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
     .datalen = 4, .status = NCO_ERR_UNSUPPORTED, .needle = "more than 8 dimensions"},
    {.label = "dtype_c8", .dict = "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", .datalen = 24,
     .status = NCO_ERR_UNSUPPORTED, .needle = "unsupported dtype '<c8'"},
    {.label = "dtype_object", .dict = "{'descr': '|O', 'fortran_order': False, 'shape': (3,), }", .datalen = 24,
     .status = NCO_ERR_UNSUPPORTED, .needle = "unsupported dtype '|O' (object dtype: pickled"},
    {.label = "dtype_unicode", .dict = "{'descr': '<U5', 'fortran_order': False, 'shape': (3,), }",
     .datalen = 60, .status = NCO_ERR_UNSUPPORTED, .needle = "'<U5' (unicode"},
    {.label = "dtype_f2", .dict = "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", .datalen = 6,
     .status = NCO_ERR_UNSUPPORTED, .needle = "unsupported dtype '<f2'"},
    {.label = "dtype_bool", .dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", .datalen = 3,
     .status = NCO_ERR_UNSUPPORTED, .needle = "'|b1' (bool"},
    {.label = "dtype_structured",
     .dict = "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }", .datalen = 24,
     .status = NCO_ERR_UNSUPPORTED, .needle = "structured dtype"},
    {.label = "dtype_long",
     .dict = "{'descr': '<f4xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', "
             "'fortran_order': False, 'shape': (3,), }",
     .datalen = 12, .status = NCO_ERR_UNSUPPORTED, .needle = "unsupported dtype '<f4xxx"},
    {.label = "fortran", .dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", .datalen = 24,
     .status = NCO_ERR_UNSUPPORTED, .needle = "fortran_order is True"},
    {.label = "garbage_after", .dict = D3F4 " junk", .datalen = 12, .status = NCO_ERR_FORMAT,
     .needle = "expected only padding after the header dict", .needle2 = "found 'j'"},
    {.label = "missing_comma", .dict = "{'descr': '<f4' 'fortran_order': False, 'shape': (3,), }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "malformed header dict: expected ',' or '}' after a value at byte 16"},
    {.label = "not_dict", .dict = "[('descr', '<f4')]", .datalen = 12, .status = NCO_ERR_FORMAT,
     .needle = "expected a Python dict literal '{'"},
    {.label = "unclosed", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), ", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "'}' closing the header dict"},
    {.label = "bool_int", .dict = "{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "True or False for 'fortran_order'"},
    {.label = "bool_prefix", .dict = "{'descr': '<f4', 'fortran_order': Falsey, 'shape': (3,), }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "True or False"},
    {.label = "shape_int", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "1-tuple"},
    {.label = "shape_list", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': [3], }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "a tuple '(' for 'shape'"},
    {.label = "shape_float", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3.0,), }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "',' or ')' in 'shape'"},
    {.label = "shape_leading0", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (03,), }",
     .datalen = 12, .status = NCO_ERR_FORMAT, .needle = "without leading zeros"},
    {.label = "shape_empty_comma", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (,), }",
     .datalen = 12, .status = NCO_ERR_FORMAT, .needle = "a dimension"},
    {.label = "shape_unclosed", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "')' closing 'shape'"},
    {.label = "unknown_key", .dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'foo': 1, }",
     .datalen = 12, .status = NCO_ERR_FORMAT, .needle = "unexpected key 'foo'"},
    {.label = "duplicate_key", .dict = "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (3,)}",
     .datalen = 12, .status = NCO_ERR_FORMAT, .needle = "duplicate key 'descr'"},
    {.label = "missing_shape", .dict = "{'descr': '<f4', 'fortran_order': False, }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "no 'shape' key"},
    {.label = "missing_descr", .dict = "{'fortran_order': False, 'shape': (3,)}", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "no 'descr' key"},
    {.label = "empty_dict", .dict = "{}", .datalen = 12, .status = NCO_ERR_FORMAT, .needle = "no 'descr' key"},
    {.label = "escape", .dict = "{'descr': '<f4\\x', 'fortran_order': False, 'shape': (3,), }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "without escape sequences"},
    {.label = "unquoted_key", .dict = "{descr: '<f4', 'fortran_order': False, 'shape': (3,), }", .datalen = 12,
     .status = NCO_ERR_FORMAT, .needle = "expected a quoted string at byte 1, found 'd'"},
    {.label = "nul_in_dict", .dict = D3F4, .datalen = 12, .poke_at = 10 + 9, .poke_val = 0,
     .status = NCO_ERR_FORMAT, .needle = "found byte 0x00"},
    {.label = "nul_in_padding", .dict = D3F4, .datalen = 12, .poke_at = 10 + 70, .poke_val = 0,
     .status = NCO_ERR_FORMAT, .needle = "only padding"},
    {.label = "latin1_in_dict", .dict = D3F4, .datalen = 12, .poke_at = 10 + 3, .poke_val = 0xE9,
     .status = NCO_ERR_FORMAT, .needle = "unexpected key 'd?scr'"},
    {.label = "empty_header", .dict = "", .nopad = 1, .datalen = 12, .status = NCO_ERR_FORMAT,
     .needle = "found end of header"},
    {.label = "trailing", .dict = D3F4, .datalen = 17, .status = NCO_ERR_FORMAT,
     .needle = "trailing data: header says shape (3,) float32 = 12 bytes, file holds 17 (5 extra bytes"},
    {.label = "trailing_0d", .dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", .datalen = 9,
     .status = NCO_ERR_FORMAT, .needle = "trailing data: header says shape () float64 = 8 bytes"},
    {.label = "trailing_empty", .dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }",
     .datalen = 1, .status = NCO_ERR_FORMAT, .needle = "(0, 4) float64 = 0 bytes, file holds 1"},
};

/* Builds the image of a case (caller frees). */
static unsigned char *case_image(const npy_case *c, size_t *len) {
  unsigned char *img = build_npy(c->major ? c->major : 1, c->minor, c->dict, c->nopad,
                                 c->hlen_field > 0 ? c->hlen_field : -1, c->datalen, len);
  if (!img) return NULL;
  if (c->poke_at > 0 || (c->poke_at == 0 && c->poke_val)) img[c->poke_at] = (unsigned char)c->poke_val;
  if (c->cut_set && c->cut < *len) *len = c->cut;
  return img;
}

static void test_bad_inputs(void) {
  for (size_t k = 0; k < sizeof bad_cases / sizeof bad_cases[0]; k++) {
    const npy_case *c = &bad_cases[k];
    char fname[128], mname[128];
    snprintf(fname, sizeof fname, "bad_%s.npy", c->label);
    snprintf(mname, sizeof mname, "mem:%s", c->label);
    const char *path = nco_test_tmp_path(fname);
    size_t len;
    unsigned char *img = case_image(c, &len);
    REQUIRE(img);
    REQUIRE(write_file(path, img, len) == 0);
    const char *names[2] = {path, mname};
    for (int via = 0; via < 2; via++) {
      nco_array a;
      memset(&a, 0x77, sizeof a);
      nco_clear_error();
      int st = via == 0 ? nco_npy_read(path, &a) : nco_npy_parse(img, len, mname, &a);
      const char *msg = nco_last_error();
      size_t nl = strlen(names[via]);
      int ok = st == c->status && !strncmp(msg, names[via], nl) && msg[nl] == ':' && strstr(msg, c->needle) &&
               (!c->needle2 || strstr(msg, c->needle2)) && array_is_zeroed(&a);
      CHECKF(ok, "case %s via %s: expected %s with \"%s\", got %s: \"%s\"", c->label, via ? "parse" : "read",
             nco_status_name(c->status), c->needle, nco_status_name(st), msg);
    }
    free(img);
  }
}

/* Headers numpy does not write but that are valid Python dict literals of
 * the same content; plus the 64 KiB boundary. */
static void test_header_variants_accepted(void) {
  static const struct {
    const char *dict;
    int major, nopad;
    nco_dtype dtype;
    size_t ndim, d0, d1;
  } ok[] = {
      {"{'shape': (2, 3), 'fortran_order': False, 'descr': '<f4'}", 1, 0, NCO_DTYPE_F32, 2, 2, 3},
      {"{\"descr\": \"<i8\", \"fortran_order\": False, \"shape\": (2,3,)}", 1, 1, NCO_DTYPE_I64, 2, 2, 3},
      {"  {  'descr'  :  '=f8' ,'fortran_order':False,'shape':( 6 , ) ,  }  ", 2, 0, NCO_DTYPE_F64, 1, 6, 0},
      {"{'descr': '|u1', 'fortran_order': False, 'shape': (3L, 2L), }", 1, 0, NCO_DTYPE_U8, 2, 3, 2},
      {"{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }", 3, 0, NCO_DTYPE_I32, 1, 6, 0},
      {"{'descr': 'f4', 'fortran_order': False, 'shape': (1, 6), }\t\r\n", 1, 1, NCO_DTYPE_F32, 2, 1, 6},
  };
  for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
    size_t len, bytes = 6 * nco_dtype_size(ok[k].dtype);
    unsigned char *img = build_npy(ok[k].major, 0, ok[k].dict, ok[k].nopad, -1, bytes, &len);
    REQUIRE(img);
    nco_array a;
    CHECK_OK(nco_npy_parse(img, len, "variant", &a));
    CHECKF(a.dtype == ok[k].dtype && a.ndim == ok[k].ndim && a.shape[0] == ok[k].d0 &&
               (a.ndim < 2 || a.shape[1] == ok[k].d1) && a.size == 6,
           "variant %zu: %s", k, ok[k].dict);
    CHECK(a.data && !memcmp(a.data, img + len - bytes, bytes));
    nco_array_free(&a);
    free(img);
  }

  /* Header of exactly 65536 bytes (the cap) in version 2.0: accepted. */
  size_t prelen = 12, hlen = 65536, total = prelen + hlen + 12;
  unsigned char *img = malloc(total);
  REQUIRE(img);
  memcpy(img, "\x93NUMPY\x02\x00", 8);
  for (int k = 0; k < 4; k++) img[8 + k] = (unsigned char)(hlen >> (8 * k));
  memset(img + prelen, ' ', hlen);
  memcpy(img + prelen, D3F4, strlen(D3F4));
  img[prelen + hlen - 1] = '\n';
  float three[3] = {1.0f, -2.0f, 0.5f};
  memcpy(img + prelen + hlen, three, sizeof three);
  nco_array a;
  const char *path = nco_test_tmp_path("cap_exact.npy");
  REQUIRE(write_file(path, img, total) == 0);
  CHECK_OK(nco_npy_read(path, &a));
  CHECK(a.size == 3 && !memcmp(a.data, three, sizeof three));
  nco_array_free(&a);
  CHECK_OK(nco_npy_parse(img, total, "cap", &a));
  nco_array_free(&a);
  /* One more byte of header is over the cap. */
  img[8] = 1; /* 65537 = 0x00010001 */
  CHECK_ERR(nco_npy_parse(img, total, "cap", &a), NCO_ERR_FORMAT, "cap: header length 65537 exceeds");
  free(img);
}

/* Every prefix and many byte mutations of a valid image: never crash, and
 * either succeed or fail with a message that starts with the name. */
static void test_never_crash(void) {
  size_t len;
  unsigned char *img = build_npy(1, 0, "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", 0, -1, 48,
                                 &len);
  REQUIRE(img);
  unsigned char *work = malloc(len);
  REQUIRE(work);
  nco_rng rng;
  nco_rng_seed(&rng, 12345);
  int bad_msgs = 0, runs = 0, oks = 0;
  for (int pass = 0; pass < 3; pass++) {
    size_t ncases = pass == 0 ? len + 1 : pass == 1 ? (10 + 64) * 12 : 4000;
    for (size_t k = 0; k < ncases; k++) {
      memcpy(work, img, len);
      size_t n = len;
      if (pass == 0) {
        n = k; /* every prefix */
      } else if (pass == 1) {
        static const unsigned char vals[12] = {0, 0xff, '(', ')', ',', '-', '9', '\'', '}', ' ', '[', 'L'};
        work[k / 12] = vals[k % 12];
      } else {
        int flips = 1 + (int)nco_rng_below(&rng, 4);
        for (int f = 0; f < flips; f++) work[nco_rng_below(&rng, 74)] = (unsigned char)nco_rng_u64(&rng);
        if (nco_rng_below(&rng, 4) == 0) n = (size_t)nco_rng_below(&rng, len + 1);
      }
      nco_array a;
      nco_clear_error();
      int st = nco_npy_parse(work, n, "fuzz", &a);
      runs++;
      if (st == NCO_OK) {
        oks++;
        CHECK(a.data != NULL);
        nco_array_free(&a);
      } else {
        if (strncmp(nco_last_error(), "fuzz: ", 6) != 0 || !array_is_zeroed(&a)) bad_msgs++;
      }
    }
  }
  CHECKF(bad_msgs == 0, "%d of %d failures lacked the name or left data", bad_msgs, runs);
  CHECK(oks > 0); /* the unmutated-equivalent cases (e.g. full prefix) parse */
  free(work);
  free(img);
}

/* Reading from a FIFO (not a regular file: size unknown up front). */
static void fifo_case(const char *label, const unsigned char *img, size_t len, int want, const char *needle) {
  const char *path = nco_test_tmp_path(label);
  unlink(path);
  if (mkfifo(path, 0600) != 0) {
    fprintf(stderr, "  (mkfifo failed: %s; FIFO case %s skipped)\n", strerror(errno), label);
    return;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "  (fork failed; FIFO case %s skipped)\n", label);
    unlink(path);
    return;
  }
  if (pid == 0) {
    signal(SIGPIPE, SIG_DFL);
    int fd = open(path, O_WRONLY);
    size_t off = 0;
    while (fd >= 0 && off < len) {
      ssize_t w = write(fd, img + off, len - off);
      if (w <= 0) break;
      off += (size_t)w;
    }
    _exit(0);
  }
  nco_array a;
  nco_clear_error();
  int st = nco_npy_read(path, &a);
  CHECKF(st == want && (want == NCO_OK || strstr(nco_last_error(), needle)), "FIFO %s: got %s: %s", label,
         nco_status_name(st), nco_last_error());
  if (st == NCO_OK) {
    CHECK(a.size == 3 && !memcmp(a.data, img + len - 12, 12));
    nco_array_free(&a);
  }
  int status;
  waitpid(pid, &status, 0);
  unlink(path);
}

static void test_read_fifo(void) {
  size_t len;
  unsigned char *img = build_npy(1, 0, D3F4, 0, -1, 12 + 3, &len);
  REQUIRE(img);
  fifo_case("fifo_ok.npy", img, len - 3, NCO_OK, "");
  fifo_case("fifo_trunc.npy", img, len - 5, NCO_ERR_FORMAT, "truncated: header says shape (3,) float32 = 12 bytes, file holds 10");
  fifo_case("fifo_trailing.npy", img, len, NCO_ERR_FORMAT, "trailing data");
  free(img);
}

/* ------------------------------------------------------------ write errors */

/* The old file's bytes, to check that a failed write left it alone. */
static int same_bytes(const char *path, const unsigned char *want, size_t n) {
  size_t len;
  unsigned char *b = read_all(path, &len);
  int same = b && len == n && !memcmp(b, want, n);
  free(b);
  return same;
}

static void test_write_failures(void) {
  float x[4] = {1, 2, 3, 4}, y[2] = {7, 8};
  size_t s4[1] = {4}, s2[1] = {2};

  /* 1. Directory without write permission (not enforceable as root). */
  const char *dir = nco_test_tmp_path("ro");
  REQUIRE(mkdir(dir, 0755) == 0);
  char path[1024], probe[1024];
  snprintf(path, sizeof path, "%s/old.npy", dir);
  snprintf(probe, sizeof probe, "%s/probe", dir);
  REQUIRE_OK(nco_npy_write_f32(path, x, 1, s4));
  size_t oldlen;
  unsigned char *oldb = read_all(path, &oldlen);
  REQUIRE(oldb);
  REQUIRE(chmod(dir, 0555) == 0);
  int pfd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (pfd >= 0) {
    close(pfd);
    unlink(probe);
    fprintf(stderr, "  (running with privileges that ignore directory permissions: read-only dir case skipped)\n");
  } else {
    CHECK_ERR(nco_npy_write_f32(path, y, 1, s2), NCO_ERR_IO, "old.npy: cannot create temporary file");
    CHECK_ERR(nco_npy_write_f32(path, y, 1, s2), NCO_ERR_IO, "Permission denied");
    CHECK(same_bytes(path, oldb, oldlen));
  }
  chmod(dir, 0755);
  CHECK(count_entries(dir, ".tmp.") == 0);

  /* 2. Temporary name too long for the file system (works as root too):
   * a 250-character name is valid, name + ".tmp.XXXXXX" is not. */
  char longname[251];
  memset(longname, 'n', 246);
  memcpy(longname + 246, ".npy", 5);
  snprintf(path, sizeof path, "%s/%s", dir, longname);
  REQUIRE(write_file(path, oldb, oldlen) == 0);
  CHECK_ERR(nco_npy_write_f32(path, y, 1, s2), NCO_ERR_IO, "cannot create temporary file");
  CHECK(strstr(nco_last_error(), longname) == nco_last_error() + strlen(dir) + 1);
  CHECK(same_bytes(path, oldb, oldlen));

  /* 3. Rename fails (the target is a non-empty directory): the temporary
   * file is removed and the directory is untouched. */
  snprintf(path, sizeof path, "%s/isdir.npy", dir);
  REQUIRE(mkdir(path, 0755) == 0);
  snprintf(probe, sizeof probe, "%s/isdir.npy/keep", dir);
  REQUIRE(write_file(probe, "k", 1) == 0);
  CHECK_ERR(nco_npy_write_f32(path, y, 1, s2), NCO_ERR_IO, "isdir.npy: cannot rename");
  CHECK(count_entries(dir, ".tmp.") == 0);
  struct stat st;
  CHECK(stat(probe, &st) == 0);

  /* 4. Missing directory. */
  snprintf(path, sizeof path, "%s/no/such/dir/x.npy", dir);
  CHECK_ERR(nco_npy_write_f32(path, y, 1, s2), NCO_ERR_IO, "x.npy: cannot create temporary file");
  CHECK_ERR(nco_npy_write_f32("", y, 1, s2), NCO_ERR_INVALID, "empty path");
  free(oldb);
}

int main(void) {
  RUN(test_dtype_and_shape_str);
  RUN(test_array_alloc);
  RUN(test_array_expect);
  RUN(test_array_check_finite);
  RUN(test_array_to_f32);
  RUN(test_roundtrip_all_dtypes);
  RUN(test_write_f32_and_overwrite);
  RUN(test_numpy_fixtures);
  RUN(test_numpy_fixtures_refused);
  RUN(test_bad_inputs);
  RUN(test_header_variants_accepted);
  RUN(test_never_crash);
  RUN(test_read_fifo);
  RUN(test_write_failures);
  return nco_test_summary();
}
