/* tests/test_npy.c — nco_array and the .npy reader/writer.
 *
 * Reference values: the fixtures in tests/fixtures/npy/ were written by
 * NumPy (tests/fixtures/make_npy_fixtures.py: contents hard-coded below
 * from that script's closed forms; scripts/make_npy_fixtures.py: the np_*
 * files, each with numpy's own reading of it in a .want.npy, C-order '<f8'
 * or '<i8', and for float16 the float32 bit patterns in a .bits.npy).
 * Malformed and unusual files are built byte by byte here, in
 * nco_test_tmpdir(), with the expected values computed independently in
 * the test (Fortran index arithmetic, ldexp for float16). Every comparison
 * is exact (bytes or values that are representable), so there are no
 * tolerances.
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

  /* np.asfortranarray(arange(6).reshape(2, 3)), fortran_order True: read
   * back in C order, a[i, j] = 3 i + j. */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/fortran_2x3.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_F32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3);
  for (int k = 0; k < 6; k++) CHECK(((float *)a.data)[k] == (float)k);
  nco_array_free(&a);

  /* empty (0, 3) */
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/empty_f4_0x3.npy"), &a));
  CHECK(a.dtype == NCO_DTYPE_F32 && a.ndim == 2 && a.shape[0] == 0 && a.shape[1] == 3 && a.size == 0);
  nco_array_free(&a);
}

static void test_numpy_fixtures_refused(void) {
  nco_array a;
  memset(&a, 0x5A, sizeof a);
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

/* ------------------------------------------- files as np.save writes them */

/* Reads `rel` by path and (its bytes) by nco_npy_parse; both must agree. */
static int read_both(const char *rel, nco_array *a) {
  const char *path = nco_fixture(rel);
  int st = nco_npy_read(path, a);
  if (st) return st;
  size_t len;
  unsigned char *img = read_all(path, &len);
  nco_array b;
  int same = img && nco_npy_parse(img, len, "mem", &b) == NCO_OK && b.dtype == a->dtype && b.size == a->size &&
             b.ndim == a->ndim && !memcmp(b.shape, a->shape, sizeof b.shape) &&
             !memcmp(b.data, a->data, a->size * nco_dtype_size(a->dtype));
  CHECKF(same, "%s: nco_npy_parse disagrees with nco_npy_read", rel);
  if (img) nco_array_free(&b);
  free(img);
  return NCO_OK;
}

static double as_double(const nco_array *a, size_t i) {
  switch (a->dtype) {
    case NCO_DTYPE_F32: return ((const float *)a->data)[i];
    case NCO_DTYPE_F64: return ((const double *)a->data)[i];
    case NCO_DTYPE_I32: return ((const int32_t *)a->data)[i];
    case NCO_DTYPE_I64: return (double)((const int64_t *)a->data)[i];
    case NCO_DTYPE_U8: return ((const uint8_t *)a->data)[i];
  }
  return NAN;
}

static int64_t as_int64(const nco_array *a, size_t i) {
  switch (a->dtype) {
    case NCO_DTYPE_I32: return ((const int32_t *)a->data)[i];
    case NCO_DTYPE_I64: return ((const int64_t *)a->data)[i];
    case NCO_DTYPE_U8: return ((const uint8_t *)a->data)[i];
    default: return INT64_MIN;
  }
}

/* Each np_<case>.npy against numpy's reading of it (np_<case>.want.npy). */
static void test_numpy_written(void) {
  static const struct {
    const char *name;
    nco_dtype dtype; /* what ncopt reads it as */
    int bits;        /* float16: also compare np_<case>.bits.npy */
  } cases[] = {
      {"f4_T_4x3", NCO_DTYPE_F32, 0},     {"f8_F_2x3x4", NCO_DTYPE_F64, 0},  {"i4_F_2x1x3x2", NCO_DTYPE_I32, 0},
      {"be_f4_2x3", NCO_DTYPE_F32, 0},    {"be_f8_F_3x2", NCO_DTYPE_F64, 0}, {"be_i4_F_2x2x2", NCO_DTYPE_I32, 0},
      {"be_i8_4", NCO_DTYPE_I64, 0},      {"be_u2_5", NCO_DTYPE_I32, 0},     {"be_i2_T_3x2", NCO_DTYPE_I32, 0},
      {"be_u4_3", NCO_DTYPE_I64, 0},      {"be_u8_3", NCO_DTYPE_I64, 0},     {"b1_2x3", NCO_DTYPE_U8, 0},
      {"b1_T_3x2", NCO_DTYPE_U8, 0},      {"f2_16", NCO_DTYPE_F32, 1},       {"be_f2_16", NCO_DTYPE_F32, 1},
      {"f2_T_4x4", NCO_DTYPE_F32, 1},     {"i1_5", NCO_DTYPE_I32, 0},        {"u1_F_2x3x2", NCO_DTYPE_U8, 0},
      {"i2_2x3", NCO_DTYPE_I32, 0},       {"u2_4", NCO_DTYPE_I32, 0},        {"u4_4", NCO_DTYPE_I64, 0},
      {"u8_4", NCO_DTYPE_I64, 0},         {"i8_T_2x3", NCO_DTYPE_I64, 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char rel[128], wrel[128], brel[128];
    snprintf(rel, sizeof rel, "npy/np_%s.npy", cases[c].name);
    snprintf(wrel, sizeof wrel, "npy/np_%s.want.npy", cases[c].name);
    snprintf(brel, sizeof brel, "npy/np_%s.bits.npy", cases[c].name);
    nco_array a, w;
    REQUIRE_OK(read_both(rel, &a));
    REQUIRE_OK(nco_npy_read(nco_fixture(wrel), &w));
    int isint = w.dtype == NCO_DTYPE_I64;
    CHECKF(a.dtype == cases[c].dtype && a.ndim == w.ndim && a.size == w.size &&
               !memcmp(a.shape, w.shape, sizeof a.shape[0] * a.ndim) && strstr(a.origin, rel + 4),
           "%s: got %s %zu-d, size %zu", rel, nco_dtype_name(a.dtype), a.ndim, a.size);
    int bad = 0;
    for (size_t i = 0; i < a.size && i < w.size; i++) {
      if (isint) {
        bad += as_int64(&a, i) != ((const int64_t *)w.data)[i];
      } else {
        double x = as_double(&a, i), y = ((const double *)w.data)[i];
        bad += isnan(y) ? !isnan(x) : (x != y || signbit(x) != signbit(y));
      }
    }
    CHECKF(bad == 0, "%s: %d of %zu values differ from numpy's", rel, bad, a.size);
    nco_array_free(&w);
    if (cases[c].bits) {
      REQUIRE_OK(nco_npy_read(nco_fixture(brel), &w));
      CHECK(w.dtype == NCO_DTYPE_I32 && w.size == a.size && a.dtype == NCO_DTYPE_F32);
      CHECKF(w.size == a.size && !memcmp(w.data, a.data, 4 * a.size), "%s: float32 bits differ from numpy's",
             rel);
      nco_array_free(&w);
    }
    nco_array_free(&a);
  }
  /* Spot checks against the script's literals (not only its .want files). */
  nco_array a;
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/np_f4_T_4x3.npy"), &a));
  /* a = (0.5 (4 i + j) − 1)ᵀ: a[r, c] = 0.5 (4 c + r) − 1 */
  for (size_t r = 0; r < 4; r++)
    for (size_t c = 0; c < 3; c++) CHECK(((float *)a.data)[3 * r + c] == 0.5f * (float)(4 * c + r) - 1.0f);
  nco_array_free(&a);
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/np_be_u8_3.npy"), &a));
  CHECK(((int64_t *)a.data)[1] == 0x0102030405060708LL && ((int64_t *)a.data)[2] == INT64_MAX);
  nco_array_free(&a);
  REQUIRE_OK(nco_npy_read(nco_fixture("npy/np_f2_16.npy"), &a));
  float *f = a.data;
  CHECK(f[0] == 0x1p-24f && f[1] == 0x3ffp-24f && f[4] == 0x1p-14f && f[5] == 65504.0f && f[6] == -65504.0f);
  CHECK(isinf(f[9]) && f[9] > 0 && isinf(f[10]) && f[10] < 0 && isnan(f[11]) && isnan(f[12]));
  CHECK(f[8] == 0.0f && signbit(f[8]) && f[14] == 1.0f && f[15] == -2.0f);
  nco_array_free(&a);
}

/* Files numpy writes that ncopt refuses, each with a message naming the
 * file and the dtype and saying how to save it instead. */
static void test_numpy_written_refused(void) {
  static const struct {
    const char *name;
    int status;
    const char *needle, *needle2;
  } cases[] = {
      {"u8_big", NCO_ERR_RANGE, "np_refuse_u8_big.npy: uint64 value 9223372036854775808 at index (1,) does not fit int64",
       "a.astype(np.float64)"},
      {"c16", NCO_ERR_UNSUPPORTED, "np_refuse_c16.npy: unsupported dtype '<c16' (complex dtype)", "a.imag"},
      {"f16", NCO_ERR_UNSUPPORTED, "np_refuse_f16.npy: unsupported dtype '<f16'", "save as float64"},
      {"U3", NCO_ERR_UNSUPPORTED, "np_refuse_U3.npy: unsupported dtype '<U3' (unicode", "return_inverse"},
      {"S2", NCO_ERR_UNSUPPORTED, "np_refuse_S2.npy: unsupported dtype '|S2' (byte string", "a.astype"},
      {"M8", NCO_ERR_UNSUPPORTED, "np_refuse_M8.npy: unsupported dtype '<M8[D]' (datetime", "np.int64"},
      {"m8", NCO_ERR_UNSUPPORTED, "np_refuse_m8.npy: unsupported dtype '<m8[s]' (datetime", "np.int64"},
      {"struct", NCO_ERR_UNSUPPORTED, "np_refuse_struct.npy: unsupported dtype: structured", "a['field']"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char rel[128];
    snprintf(rel, sizeof rel, "npy/np_refuse_%s.npy", cases[c].name);
    nco_array a;
    memset(&a, 0x33, sizeof a);
    nco_clear_error();
    int st = nco_npy_read(nco_fixture(rel), &a);
    const char *msg = nco_last_error();
    CHECKF(st == cases[c].status && strstr(msg, cases[c].needle) && strstr(msg, cases[c].needle2) &&
               array_is_zeroed(&a),
           "%s: got %s: %s", rel, nco_status_name(st), msg);
  }
}

/* Writes img to a temporary file and reads it with both entry points. */
static int read_img(const unsigned char *img, size_t len, const char *label, nco_array *a) {
  const char *path = nco_test_tmp_path(label);
  if (write_file(path, img, len) != 0) return NCO_ERR_IO;
  int st = nco_npy_read(path, a);
  nco_array b;
  int st2 = nco_npy_parse(img, len, label, &b);
  int same = st == st2 && (st != NCO_OK || (b.dtype == a->dtype && b.size == a->size && b.ndim == a->ndim &&
                                            !memcmp(b.data, a->data, a->size * nco_dtype_size(a->dtype))));
  CHECKF(same, "%s: read gave %s, parse gave %s", label, nco_status_name(st), nco_status_name(st2));
  if (st2 == NCO_OK) nco_array_free(&b);
  return st;
}

/* A .npy image whose data bytes are given. */
static unsigned char *build_with(const char *dict, const void *data, size_t n, size_t *len) {
  unsigned char *img = build_npy(1, 0, dict, 0, -1, n, len);
  if (img && n) memcpy(img + *len - n, data, n);
  return img;
}

/* fortran_order True for every ndim 0..8, built byte by byte: file element
 * k (Fortran order) holds k, so C-order element (i_0, .., i_{d-1}) must be
 * Σ_j i_j Π_{l<j} d_l, computed here from the multi-index directly. Done for
 * '<i4', '>i8' (swapped), '>f2' (converted: k < 2048 is exact in float16)
 * and '|b1' (k mod 2). */
static void test_fortran_built(void) {
  static const size_t shapes[9][8] = {{0},          {5},          {3, 4},          {2, 3, 4},
                                      {2, 1, 3, 2}, {3, 2, 1, 2, 2}, {1, 2, 2, 1, 3, 2}, {2, 2, 1, 2, 1, 2, 2},
                                      {2, 1, 2, 3, 1, 2, 1, 2}};
  static const char *descr[4] = {"<i4", ">i8", ">f2", "|b1"};
  static const size_t esize[4] = {4, 8, 2, 1};
  for (size_t nd = 0; nd <= 8; nd++) {
    size_t size = 1;
    for (size_t j = 0; j < nd; j++) size *= shapes[nd][j];
    for (int t = 0; t < 4; t++) {
      char sb[128], dict[256];
      size_t pos = 0;
      pos += (size_t)snprintf(sb + pos, sizeof sb - pos, "(");
      for (size_t j = 0; j < nd; j++) pos += (size_t)snprintf(sb + pos, sizeof sb - pos, "%zu, ", shapes[nd][j]);
      snprintf(sb + pos, sizeof sb - pos, ")");
      snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': True, 'shape': %s, }", descr[t], sb);
      unsigned char *data = calloc(size, esize[t]);
      REQUIRE(data);
      for (size_t k = 0; k < size; k++) {
        unsigned char *p = data + k * esize[t];
        if (t == 0) {
          int32_t v = (int32_t)k - 7;
          for (int b = 0; b < 4; b++) p[b] = (unsigned char)((uint32_t)v >> (8 * b));
        } else if (t == 1) {
          int64_t v = -(int64_t)k * 1000003 - ((int64_t)1 << 40);
          for (int b = 0; b < 8; b++) p[7 - b] = (unsigned char)((uint64_t)v >> (8 * b));
        } else if (t == 2) {
          /* float16 of the integer k (< 2048): exponent e with 2^e ≤ k. */
          unsigned bits = 0;
          if (k) {
            unsigned e = 0;
            while ((k >> (e + 1)) != 0) e++;
            bits = (e + 15) << 10 | (unsigned)((k << (10 - e)) & 0x3ff);
          }
          p[0] = (unsigned char)(bits >> 8);
          p[1] = (unsigned char)bits;
        } else {
          p[0] = (unsigned char)(k % 2 ? 1 + k % 200 : 0); /* any non-zero byte is True */
        }
      }
      size_t len;
      unsigned char *img = build_with(dict, data, size * esize[t], &len);
      REQUIRE(img);
      char label[64];
      snprintf(label, sizeof label, "fortran_%zud_%d.npy", nd, t);
      nco_array a;
      int st = read_img(img, len, label, &a);
      CHECKF(st == NCO_OK, "%s: %s", dict, nco_last_error());
      if (st == NCO_OK) {
        static const nco_dtype want_t[4] = {NCO_DTYPE_I32, NCO_DTYPE_I64, NCO_DTYPE_F32, NCO_DTYPE_U8};
        CHECK(a.dtype == want_t[t] && a.ndim == nd && a.size == size);
        int bad = 0;
        for (size_t c = 0; c < size; c++) {
          /* C-order multi-index of c, then its Fortran-order position. */
          size_t idx[8], rem = c, k = 0, mul = 1;
          for (size_t j = nd; j-- > 0;) {
            idx[j] = rem % shapes[nd][j];
            rem /= shapes[nd][j];
          }
          for (size_t j = 0; j < nd; j++) {
            k += idx[j] * mul;
            mul *= shapes[nd][j];
          }
          if (t == 0) bad += ((int32_t *)a.data)[c] != (int32_t)k - 7;
          if (t == 1) bad += ((int64_t *)a.data)[c] != -(int64_t)k * 1000003 - ((int64_t)1 << 40);
          if (t == 2) bad += ((float *)a.data)[c] != (float)k;
          if (t == 3) bad += ((uint8_t *)a.data)[c] != (k % 2);
        }
        CHECKF(bad == 0, "%s: %d of %zu elements misplaced", dict, bad, size);
        nco_array_free(&a);
      }
      free(img);
      free(data);
    }
  }

  /* Zero-size Fortran arrays, including huge dimensions next to a zero
   * (numpy's product is 0, so it is a valid empty array). */
  static const char *empty[3] = {
      "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 0, 2), }",
      "{'descr': '>f2', 'fortran_order': True, 'shape': (0, 4611686018427387904, 4611686018427387904), }",
      "{'descr': '|b1', 'fortran_order': True, 'shape': (18446744073709551615, 0), }"};
  for (int e = 0; e < 3; e++) {
    size_t len;
    unsigned char *img = build_with(empty[e], NULL, 0, &len);
    REQUIRE(img);
    nco_array a;
    CHECK_OK(read_img(img, len, "fortran_empty.npy", &a));
    CHECKF(a.size == 0 && a.ndim >= 2 && a.data != NULL, "%s", empty[e]);
    nco_array_free(&a);
    free(img);
  }
}

/* Every float16 bit pattern, little- and big-endian, against an
 * independent decoding (ldexp on the fields); NaN bits as numpy gives them
 * (checked against numpy in test_numpy_written: sign, all-ones exponent,
 * payload shifted up 13 bits, not quieted). */
static void test_f2_all_patterns(void) {
  unsigned char *data = malloc(2 * 65536);
  REQUIRE(data);
  for (int order = 0; order < 2; order++) {
    for (unsigned h = 0; h < 65536; h++) {
      data[2 * h + (order ? 1 : 0)] = (unsigned char)(h & 0xff);
      data[2 * h + (order ? 0 : 1)] = (unsigned char)(h >> 8);
    }
    size_t len;
    unsigned char *img = build_with(order ? "{'descr': '>f2', 'fortran_order': False, 'shape': (65536,), }"
                                          : "{'descr': '<f2', 'fortran_order': False, 'shape': (65536,), }",
                                    data, 2 * 65536, &len);
    REQUIRE(img);
    nco_array a;
    int st = read_img(img, len, "f2_all.npy", &a);
    free(img);
    REQUIRE_OK(st);
    REQUIRE(a.dtype == NCO_DTYPE_F32 && a.size == 65536);
    int bad = 0;
    for (unsigned h = 0; h < 65536; h++) {
      float x = ((float *)a.data)[h];
      unsigned e = (h >> 10) & 0x1f, m = h & 0x3ff;
      int neg = (h >> 15) != 0;
      if (e == 31) {
        uint32_t xb;
        memcpy(&xb, &x, 4);
        if (m == 0)
          bad += !(isinf(x) && (signbit(x) != 0) == neg);
        else
          bad += xb != ((uint32_t)neg << 31 | 0x7f800000u | (uint32_t)m << 13);
      } else {
        double v = e == 0 ? ldexp((double)m, -24) : ldexp((double)(1024 + m), (int)e - 25);
        if (neg) v = -v;
        bad += (double)x != v || (signbit(x) != 0) != neg;
      }
    }
    CHECKF(bad == 0, "%d of 65536 float16 patterns (%s) decoded wrongly", bad, order ? "big" : "little");
    nco_array_free(&a);
  }
  free(data);
}

/* Small and unsigned integer types and bool, built byte by byte in both
 * byte orders; uint64 above INT64_MAX is refused with numpy's index. */
static void test_int_types_built(void) {
  static const struct {
    const char *descr;
    unsigned char bytes[16];
    size_t n; /* bytes used: 2 elements */
    nco_dtype dtype;
    int64_t v0, v1;
  } cases[] = {
      {"|i1", {0x80, 0x7f}, 2, NCO_DTYPE_I32, -128, 127},
      {">i1", {0xff, 0x01}, 2, NCO_DTYPE_I32, -1, 1},
      {"|u1", {0xff, 0x00}, 2, NCO_DTYPE_U8, 255, 0},
      {"<i2", {0x00, 0x80, 0xfe, 0xff}, 4, NCO_DTYPE_I32, -32768, -2},
      {">i2", {0x80, 0x00, 0x01, 0x02}, 4, NCO_DTYPE_I32, -32768, 0x0102},
      {"<u2", {0xff, 0xff, 0x34, 0x12}, 4, NCO_DTYPE_I32, 65535, 0x1234},
      {">u2", {0xff, 0xfe, 0x12, 0x34}, 4, NCO_DTYPE_I32, 65534, 0x1234},
      {"<u4", {0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, 8, NCO_DTYPE_I64, 4294967295LL, 0x04030201},
      {">u4", {0x80, 0, 0, 0, 1, 2, 3, 4}, 8, NCO_DTYPE_I64, 2147483648LL, 0x01020304},
      {">i4", {0xff, 0xff, 0xff, 0xfe, 0x7f, 0xff, 0xff, 0xff}, 8, NCO_DTYPE_I32, -2, INT32_MAX},
      {"<u8", {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 8, 7, 6, 5, 4, 3, 2, 1}, 16, NCO_DTYPE_I64, INT64_MAX,
       0x0102030405060708LL},
      {">u8", {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}, 16, NCO_DTYPE_I64, 0, 0x0102030405060708LL},
      {">i8", {0x80, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe}, 16, NCO_DTYPE_I64, INT64_MIN,
       -2},
      {"|b1", {0x00, 0x02}, 2, NCO_DTYPE_U8, 0, 1},
      {"<b1", {0xff, 0x01}, 2, NCO_DTYPE_U8, 1, 1},
      {"=b1", {0x00, 0x00}, 2, NCO_DTYPE_U8, 0, 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char dict[128];
    snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (2,), }", cases[c].descr);
    size_t len;
    unsigned char *img = build_with(dict, cases[c].bytes, cases[c].n, &len);
    REQUIRE(img);
    nco_array a;
    int st = read_img(img, len, "ints.npy", &a);
    CHECKF(st == NCO_OK, "%s: %s", cases[c].descr, nco_last_error());
    if (st == NCO_OK) {
      CHECKF(a.dtype == cases[c].dtype && as_int64(&a, 0) == cases[c].v0 && as_int64(&a, 1) == cases[c].v1,
             "%s: got %s %lld %lld", cases[c].descr, nco_dtype_name(a.dtype), (long long)as_int64(&a, 0),
             (long long)as_int64(&a, 1));
      nco_array_free(&a);
    }
    free(img);
  }

  /* uint64 2^63 at Fortran position 2 of a (2, 2) array = C index (0, 1):
   * the message names numpy's index, not the file position. */
  unsigned char u8[32] = {0};
  u8[8] = 1;
  u8[16 + 7] = 0x80;
  u8[24] = 3;
  size_t len;
  unsigned char *img = build_with("{'descr': '<u8', 'fortran_order': True, 'shape': (2, 2), }", u8, 32, &len);
  REQUIRE(img);
  const char *path = nco_test_tmp_path("u8_big.npy");
  REQUIRE(write_file(path, img, len) == 0);
  nco_array a;
  memset(&a, 0x11, sizeof a);
  CHECK_ERR(nco_npy_read(path, &a), NCO_ERR_RANGE,
            "u8_big.npy: uint64 value 9223372036854775808 at index (0, 1) does not fit int64");
  CHECK(array_is_zeroed(&a));
  CHECK_ERR(nco_npy_parse(img, len, "mem_u8", &a), NCO_ERR_RANGE, "mem_u8: uint64 value 9223372036854775808 at index (0, 1)");
  CHECK(array_is_zeroed(&a));
  /* Without the bad value the same file reads: [[0, 2^63 → 2], [1, 3]]. */
  u8[16 + 7] = 0;
  u8[16] = 2;
  free(img);
  img = build_with("{'descr': '<u8', 'fortran_order': True, 'shape': (2, 2), }", u8, 32, &len);
  REQUIRE(img);
  REQUIRE_OK(read_img(img, len, "u8_ok.npy", &a));
  CHECK(a.dtype == NCO_DTYPE_I64 && as_int64(&a, 0) == 0 && as_int64(&a, 1) == 2 && as_int64(&a, 2) == 1 &&
        as_int64(&a, 3) == 3);
  nco_array_free(&a);
  free(img);

  /* 0-d and 1-d with fortran_order True are the C-order bytes. */
  unsigned char f2[6] = {0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00}; /* 1, −2, 2^-24 little-endian */
  img = build_with("{'descr': '<f2', 'fortran_order': True, 'shape': (3,), }", f2, 6, &len);
  REQUIRE(img);
  REQUIRE_OK(read_img(img, len, "f2_1d.npy", &a));
  CHECK(a.ndim == 1 && ((float *)a.data)[0] == 1.0f && ((float *)a.data)[1] == -2.0f &&
        ((float *)a.data)[2] == 0x1p-24f);
  nco_array_free(&a);
  free(img);
  img = build_with("{'descr': '>f2', 'fortran_order': True, 'shape': (), }", "\x7b\xff", 2, &len);
  REQUIRE(img);
  REQUIRE_OK(read_img(img, len, "f2_0d.npy", &a));
  CHECK(a.ndim == 0 && a.size == 1 && ((float *)a.data)[0] == 65504.0f);
  nco_array_free(&a);
  free(img);
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
    /* float16 and bool with byte counts that do not match the shape. */
    {.label = "f2_short", .dict = "{'descr': '<f2', 'fortran_order': False, 'shape': (3,), }", .datalen = 5,
     .status = NCO_ERR_FORMAT, .needle = "truncated: header says shape (3,) float16 = 6 bytes, file holds 5"},
    {.label = "f2_as_f4_bytes", .dict = "{'descr': '>f2', 'fortran_order': True, 'shape': (2, 3), }",
     .datalen = 24, .status = NCO_ERR_FORMAT,
     .needle = "trailing data: header says shape (2, 3) float16 = 12 bytes, file holds 24"},
    {.label = "b1_long", .dict = "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", .datalen = 4,
     .status = NCO_ERR_FORMAT, .needle = "trailing data: header says shape (3,) bool = 3 bytes, file holds 4"},
    {.label = "b1_short_fortran", .dict = "{'descr': '|b1', 'fortran_order': True, 'shape': (4, 5), }",
     .datalen = 19, .status = NCO_ERR_FORMAT, .needle = "truncated: header says shape (4, 5) bool = 20 bytes"},
    {.label = "i2_odd", .dict = "{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }", .datalen = 3,
     .status = NCO_ERR_FORMAT, .needle = "shape (2,) int16 = 4 bytes, file holds 3"},
    {.label = "u8_short", .dict = "{'descr': '>u8', 'fortran_order': True, 'shape': (1, 2), }", .datalen = 15,
     .status = NCO_ERR_FORMAT, .needle = "shape (1, 2) uint64 = 16 bytes, file holds 15"},
    /* float16 whose file bytes fit size_t but whose float32 result does not. */
    {.label = "f2_out_overflow", .dict = "{'descr': '<f2', 'fortran_order': False, 'shape': (2305843009213693952, 2), }",
     .datalen = 16, .status = NCO_ERR_OVERFLOW, .needle = "float16 read as float32 needs more bytes than fit"},
    {.label = "i1_out_overflow", .dict = "{'descr': '|i1', 'fortran_order': True, 'shape': (4611686018427387904, 2), }",
     .datalen = 16, .status = NCO_ERR_OVERFLOW, .needle = "int8 read as int32 needs more bytes"},
    /* Refused dtypes: the message says what it is and how to save it. */
    {.label = "dtype_f16", .dict = "{'descr': '<f16', 'fortran_order': False, 'shape': (1,), }", .datalen = 16,
     .status = NCO_ERR_UNSUPPORTED, .needle = "unsupported dtype '<f16' (floating-point size",
     .needle2 = "save as float64: a.astype(np.float64)"},
    {.label = "dtype_c16", .dict = "{'descr': '<c16', 'fortran_order': True, 'shape': (1, 2), }", .datalen = 32,
     .status = NCO_ERR_UNSUPPORTED, .needle = "'<c16' (complex dtype)", .needle2 = "a.real.astype(np.float32)"},
    {.label = "dtype_b2", .dict = "{'descr': '|b2', 'fortran_order': False, 'shape': (1,), }", .datalen = 2,
     .status = NCO_ERR_UNSUPPORTED, .needle = "'|b2' (bool of a size"},
    {.label = "dtype_i16", .dict = "{'descr': '<i16', 'fortran_order': False, 'shape': (1,), }", .datalen = 16,
     .status = NCO_ERR_UNSUPPORTED, .needle = "'<i16' (integer size", .needle2 = "a.astype(np.int64)"},
    {.label = "dtype_datetime", .dict = "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,), }",
     .datalen = 8, .status = NCO_ERR_UNSUPPORTED, .needle = "'<M8[ns]' (datetime/timedelta dtype)",
     .needle2 = "a.astype(np.int64)"},
    {.label = "dtype_void", .dict = "{'descr': '|V8', 'fortran_order': False, 'shape': (1,), }", .datalen = 8,
     .status = NCO_ERR_UNSUPPORTED, .needle = "'|V8' (void/structured dtype)"},
    {.label = "dtype_f2_suffix", .dict = "{'descr': '<f2x', 'fortran_order': False, 'shape': (1,), }",
     .datalen = 2, .status = NCO_ERR_UNSUPPORTED, .needle = "'<f2x'"},
    {.label = "dtype_empty", .dict = "{'descr': '', 'fortran_order': False, 'shape': (1,), }", .datalen = 2,
     .status = NCO_ERR_UNSUPPORTED, .needle = "unsupported dtype '' (unknown dtype)"},
    {.label = "dtype_structured",
     .dict = "{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }", .datalen = 24,
     .status = NCO_ERR_UNSUPPORTED, .needle = "structured dtype"},
    {.label = "dtype_long",
     .dict = "{'descr': '<f4xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', "
             "'fortran_order': False, 'shape': (3,), }",
     .datalen = 12, .status = NCO_ERR_UNSUPPORTED, .needle = "unsupported dtype '<f4xxx"},
    /* fortran_order True: the same size checks as C order. */
    {.label = "fortran_short", .dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
     .datalen = 23, .status = NCO_ERR_FORMAT, .needle = "truncated: header says shape (2, 3) float32 = 24 bytes"},
    {.label = "fortran_lying", .dict = "{'descr': '>f8', 'fortran_order': True, 'shape': (1000000, 1000000), }",
     .datalen = 64, .status = NCO_ERR_FORMAT,
     .needle = "truncated: header says shape (1000000, 1000000) float64 = 8000000000000 bytes, file holds 64"},
    {.label = "fortran_overflow",
     .dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (4611686018427387904, 4611686018427387904), }",
     .datalen = 16, .status = NCO_ERR_OVERFLOW, .needle = "more elements than fit in size_t"},
    {.label = "fortran_zero_trailing", .dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 0, 2), }",
     .datalen = 1, .status = NCO_ERR_FORMAT, .needle = "shape (3, 0, 2) float32 = 0 bytes, file holds 1"},
    {.label = "fortran_9d",
     .dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
     .datalen = 4, .status = NCO_ERR_UNSUPPORTED, .needle = "more than 8 dimensions"},
    {.label = "fortran_lower", .dict = "{'descr': '<f4', 'fortran_order': true, 'shape': (2, 3), }",
     .datalen = 24, .status = NCO_ERR_FORMAT, .needle = "True or False for 'fortran_order'"},
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

/* Every prefix and many byte mutations of valid images (C and Fortran
 * order, swapped, converted dtypes): never crash, and either succeed or fail
 * with a message that starts with the name. Mutations hit the preamble, the
 * dict and the first data bytes (flipping '<' to '>', True to False, a
 * dimension digit, 'f2' to 'f4' changes the byte count or layout). */
static void test_never_crash(void) {
  static const struct {
    const char *dict;
    size_t datalen;
  } bases[] = {
      {"{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", 48},
      {"{'descr': '>f2', 'fortran_order': True, 'shape': (2, 3, 2), }", 24},
      {"{'descr': '|b1', 'fortran_order': True, 'shape': (3, 4), }", 12},
      {"{'descr': '<u8', 'fortran_order': True, 'shape': (2, 3), }", 48},
      {"{'descr': '>i2', 'fortran_order': True, 'shape': (1, 2, 1, 3), }", 12},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (0, 5), }", 0},
  };
  nco_rng rng;
  nco_rng_seed(&rng, 12345);
  int bad_msgs = 0, runs = 0, oks = 0;
  for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
    size_t len;
    unsigned char *img = build_npy(1, 0, bases[b].dict, 0, -1, bases[b].datalen, &len);
    REQUIRE(img);
    unsigned char *work = malloc(len);
    REQUIRE(work);
    const size_t span = 10 + strlen(bases[b].dict) + 2; /* preamble + dict + a little padding */
    int base_ok = 0;
    for (int pass = 0; pass < 3; pass++) {
      size_t ncases = pass == 0 ? len + 1 : pass == 1 ? span * 12 : 3000;
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
          for (int f = 0; f < flips; f++) {
            size_t at = (size_t)nco_rng_below(&rng, nco_rng_below(&rng, 8) == 0 ? len : span);
            static const unsigned char swaps[10] = {'<', '>', '|', '2', '4', '8', 'T', 'F', '0', '1'};
            work[at] = nco_rng_below(&rng, 2) ? (unsigned char)nco_rng_u64(&rng) : swaps[nco_rng_below(&rng, 10)];
          }
          if (nco_rng_below(&rng, 4) == 0) n = (size_t)nco_rng_below(&rng, len + 1);
        }
        nco_array a;
        nco_clear_error();
        int st = nco_npy_parse(work, n, "fuzz", &a);
        runs++;
        if (st == NCO_OK) {
          oks++;
          if (pass == 0 && n == len) base_ok = 1;
          CHECK(a.data != NULL);
          nco_array_free(&a);
        } else {
          if (strncmp(nco_last_error(), "fuzz: ", 6) != 0 || !array_is_zeroed(&a)) bad_msgs++;
        }
      }
    }
    /* The unmutated image parses, except '<u8' whose pattern bytes may
     * exceed INT64_MAX (then it is a RANGE error, also fine). */
    CHECKF(base_ok || strstr(bases[b].dict, "u8"), "base image %zu (%s) did not parse", b, bases[b].dict);
    free(work);
    free(img);
  }
  CHECKF(bad_msgs == 0, "%d of %d failures lacked the name or left data", bad_msgs, runs);
  CHECK(oks > 0);
}

/* Reading from a FIFO (not a regular file: size unknown up front). */
/* On success the array must hold the `want_n` bytes at want_data (NULL:
 * the 12 data bytes at the end of img, a '<f4' (3,) image). */
static void fifo_case(const char *label, const unsigned char *img, size_t len, int want, const char *needle,
                      const void *want_data, size_t want_n) {
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
    if (!want_data) {
      want_data = img + len - 12;
      want_n = 12;
    }
    CHECKF(a.size * nco_dtype_size(a.dtype) == want_n && !memcmp(a.data, want_data, want_n), "FIFO %s: wrong data",
           label);
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
  fifo_case("fifo_ok.npy", img, len - 3, NCO_OK, "", NULL, 0);
  fifo_case("fifo_trunc.npy", img, len - 5, NCO_ERR_FORMAT,
            "truncated: header says shape (3,) float32 = 12 bytes, file holds 10", NULL, 0);
  fifo_case("fifo_trailing.npy", img, len, NCO_ERR_FORMAT, "trailing data", NULL, 0);
  free(img);
  /* Converted and reordered through the stream path: '>f2' Fortran (2, 2)
   * holding 1, 2, −0.5, 65504 in file order = [[1, −0.5], [2, 65504]]. */
  static const unsigned char f2[8] = {0x3c, 0x00, 0x40, 0x00, 0xb8, 0x00, 0x7b, 0xff};
  const float want[4] = {1.0f, -0.5f, 2.0f, 65504.0f};
  img = build_with("{'descr': '>f2', 'fortran_order': True, 'shape': (2, 2), }", f2, sizeof f2, &len);
  REQUIRE(img);
  fifo_case("fifo_f2.npy", img, len, NCO_OK, "", want, sizeof want);
  fifo_case("fifo_f2_short.npy", img, len - 1, NCO_ERR_FORMAT, "shape (2, 2) float16 = 8 bytes, file holds 7", NULL,
            0);
  free(img);
  /* '<u8' with 2^64 − 1 through the stream path: refused by index. */
  unsigned char u8[16];
  memset(u8, 0xff, sizeof u8);
  u8[7] = 0x7f; /* element 0 = INT64_MAX, element 1 = 2^64 − 1 */
  img = build_with("{'descr': '<u8', 'fortran_order': False, 'shape': (2,), }", u8, sizeof u8, &len);
  REQUIRE(img);
  fifo_case("fifo_u8.npy", img, len, NCO_ERR_RANGE, "uint64 value 18446744073709551615 at index (1,)", NULL, 0);
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

/* nco_npy_write refuses arrays it cannot describe: more dimensions than
 * an nco_array holds, and element or byte counts past size_t (found
 * untested by scripts/coverage). Nothing is written. */
static void test_write_refusals(void) {
  float v[1] = {0};
  nco_array a = {0};
  a.dtype = NCO_DTYPE_F32, a.data = v, a.size = 1;
  const char *path = nco_test_tmp_path("refused.npy");
  a.ndim = NCO_ARRAY_MAX_DIMS + 1;
  CHECK_ERR(nco_npy_write(path, &a), NCO_ERR_INVALID, "invalid ndim");
  a.ndim = 2, a.shape[0] = (size_t)-1 / 2, a.shape[1] = 3;
  CHECK_ERR(nco_npy_write(path, &a), NCO_ERR_OVERFLOW, "element count overflows");
  a.dtype = NCO_DTYPE_F64, a.ndim = 1, a.shape[0] = a.size = (size_t)-1 / 4;
  CHECK_ERR(nco_npy_write(path, &a), NCO_ERR_OVERFLOW, "byte count overflows");
  CHECK_ERR(nco_npy_write("", &a), NCO_ERR_INVALID, "empty path");
  CHECK(access(path, F_OK) != 0);
  nco_array r = {0};
  CHECK_ERR(nco_npy_read(nco_test_tmp_path(""), &r), NCO_ERR_IO, ""); /* a folder is not a file */
  CHECK(r.data == NULL);
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
  RUN(test_numpy_written);
  RUN(test_numpy_written_refused);
  RUN(test_fortran_built);
  RUN(test_f2_all_patterns);
  RUN(test_int_types_built);
  RUN(test_bad_inputs);
  RUN(test_header_variants_accepted);
  RUN(test_never_crash);
  RUN(test_read_fifo);
  RUN(test_write_refusals);
  RUN(test_write_failures);
  return nco_test_summary();
}
