/* fuzz/fuzz_npy.c — libFuzzer harness for the .npy reader (src/core/npy.c).
 *
 * Each input is a whole .npy image. It is read three ways, which must
 * agree (same status; on success the same dtype, shape and bytes):
 *   1. nco_npy_parse on the bytes in memory;
 *   2. nco_npy_read on a regular file holding them (fuzz_common.h), the
 *      path that reads the data in place and converts it backwards;
 *   3. nco_npy_read on a pipe holding them (inputs ≤ 64 KiB), the
 *      path for streams of unknown size.
 * A successful read is then written with nco_npy_write (to /dev/shm, else
 * $TMPDIR or /tmp) and read back: the same dtype, shape and bytes.
 * On success the array must be consistent (size = Π shape, ndim ≤ max,
 * data non-NULL) and origin the name or path given. Every array is freed;
 * the thread's last error is cleared before each call. ASan/UBSan catch
 * out-of-bounds access, leaks and undefined arithmetic.
 */
#include "fuzz_common.h"

#include <fcntl.h>

#include "ncopt/npy.h"
#include "ncopt/status.h"

#define PIPE_MAX 65536 /* Linux's default pipe buffer: the write cannot block */

static void check_array(const nco_array *a) {
  FUZZ_CHECK(a->ndim <= NCO_ARRAY_MAX_DIMS);
  size_t size = 1;
  for (size_t i = 0; i < a->ndim; i++) size *= a->shape[i];
  FUZZ_CHECK(size == a->size);
  FUZZ_CHECK(a->data != NULL);
  FUZZ_CHECK(nco_dtype_size(a->dtype) > 0);
  /* Touch every byte so that ASan sees a short buffer. */
  const unsigned char *p = a->data;
  unsigned acc = 0;
  for (size_t i = 0; i < a->size * nco_dtype_size(a->dtype); i++) acc += p[i];
  (void)acc;
}

static void check_same(int st0, const nco_array *a, int st1, const nco_array *b) {
  FUZZ_CHECK(st0 == st1);
  if (st0) {
    FUZZ_CHECK(b->data == NULL && b->size == 0);
    return;
  }
  FUZZ_CHECK(a->dtype == b->dtype && a->ndim == b->ndim && a->size == b->size);
  for (size_t i = 0; i < a->ndim; i++) FUZZ_CHECK(a->shape[i] == b->shape[i]);
  FUZZ_CHECK(memcmp(a->data, b->data, a->size * nco_dtype_size(a->dtype)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  nco_array a, b, c;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  memset(&c, 0, sizeof c);

  nco_clear_error();
  int st0 = nco_npy_parse(data, size, "fuzz.npy", &a);
  if (st0 == NCO_OK) {
    check_array(&a);
    FUZZ_CHECK(strcmp(a.origin, "fuzz.npy") == 0);
  } else {
    FUZZ_CHECK(a.data == NULL && a.size == 0);
    FUZZ_CHECK(nco_last_error()[0] != '\0');
  }

  const char *path = fuzz_file(data, size);
  nco_clear_error();
  int st1 = nco_npy_read(path, &b);
  if (st1 == NCO_OK) check_array(&b);
  check_same(st0, &a, st1, &b);
  nco_array_free(&b);

  if (size <= PIPE_MAX) {
    int pfd[2];
    if (pipe(pfd) == 0) {
      size_t off = 0;
      while (off < size) {
        ssize_t w = write(pfd[1], data + off, size - off);
        if (w <= 0) break;
        off += (size_t)w;
      }
      close(pfd[1]);
      if (off == size) {
        char pp[64];
        snprintf(pp, sizeof pp, "/proc/self/fd/%d", pfd[0]);
        nco_clear_error();
        int st2 = nco_npy_read(pp, &c);
        if (st2 == NCO_OK) check_array(&c);
        check_same(st0, &a, st2, &c);
        nco_array_free(&c);
      }
      close(pfd[0]);
    }
  }

  /* Writer round trip: what was read, written and read again, is the same. */
  if (st0 == NCO_OK) {
    static char wpath[4096];
    if (!wpath[0]) {
      const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
      snprintf(wpath, sizeof wpath, "%s/ncopt-fuzz-%ld.npy", dir && *dir ? dir : "/tmp", (long)getpid());
    }
    nco_clear_error();
    int stw = nco_npy_write(wpath, &a);
    if (stw) fprintf(stderr, "fuzz_npy: nco_npy_write: %s\n", nco_last_error());
    FUZZ_CHECK(stw == NCO_OK);
    nco_clear_error();
    int st3 = nco_npy_read(wpath, &c);
    if (st3) fprintf(stderr, "fuzz_npy: reading back: %s\n", nco_last_error());
    check_same(st0, &a, st3, &c);
    nco_array_free(&c);
    unlink(wpath);
  }

  nco_array_free(&a);
  return 0;
}
