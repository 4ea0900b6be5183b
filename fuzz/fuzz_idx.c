/* fuzz/fuzz_idx.c — libFuzzer harness for the IDX reader (src/data/idx.c).
 *
 * Each input is a whole IDX file, plain or gzip-compressed (the reader
 * goes through zlib's gzread either way). The reader takes only a path, so
 * the input is written to an in-memory file first (memfd, fuzz_common.h).
 * Properties: nco_idx_read(path, 0) either fails with the output zeroed
 * and an error message set, or returns a uint8 array with 1..8 dimensions,
 * size = Π shape, origin = path; reading it again with that ndim gives the
 * same array, and with any other ndim fails with NCO_ERR_FORMAT (the magic
 * names the dimension count). ASan/UBSan catch the rest; every array is
 * freed.
 */
#include "fuzz_common.h"

#include "ncopt/data.h"
#include "ncopt/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size);
  nco_array a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);

  nco_clear_error();
  int st = nco_idx_read(path, 0, &a);
  if (st != NCO_OK) {
    FUZZ_CHECK(a.data == NULL && a.size == 0 && a.ndim == 0);
    FUZZ_CHECK(nco_last_error()[0] != '\0');
    return 0;
  }
  FUZZ_CHECK(a.dtype == NCO_DTYPE_U8);
  FUZZ_CHECK(a.ndim >= 1 && a.ndim <= NCO_ARRAY_MAX_DIMS);
  size_t n = 1;
  for (size_t i = 0; i < a.ndim; i++) n *= a.shape[i];
  FUZZ_CHECK(n == a.size && a.data != NULL);
  FUZZ_CHECK(strcmp(a.origin, path) == 0);
  unsigned acc = 0;
  for (size_t i = 0; i < a.size; i++) acc += ((const unsigned char *)a.data)[i];
  (void)acc;

  /* The same file with its own dimension count: the same array. */
  nco_clear_error();
  st = nco_idx_read(path, a.ndim, &b);
  FUZZ_CHECK(st == NCO_OK);
  FUZZ_CHECK(b.ndim == a.ndim && b.size == a.size);
  for (size_t i = 0; i < a.ndim; i++) FUZZ_CHECK(a.shape[i] == b.shape[i]);
  FUZZ_CHECK(memcmp(a.data, b.data, a.size) == 0);
  nco_array_free(&b);

  /* Another dimension count: refused. */
  nco_clear_error();
  st = nco_idx_read(path, a.ndim % NCO_ARRAY_MAX_DIMS + 1, &b);
  FUZZ_CHECK(st == NCO_ERR_FORMAT);
  FUZZ_CHECK(b.data == NULL);

  nco_array_free(&a);
  return 0;
}
