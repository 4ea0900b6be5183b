/* fuzz/fuzz_csv.c — libFuzzer harness for the CSV reader (src/data/csv.c).
 *
 * Each input is a whole CSV file, written to an in-memory file first (the
 * reader takes only a path; fuzz_common.h). It is read twice: with no label
 * column (every column a feature) and with the label column "label".
 * Properties: on failure the outputs are zeroed and an error message set;
 * on success features are float32 (n, d), n ≥ 1, d ≥ 1, every value
 * finite, labels float32 (n); a file that reads with the label column also
 * reads without it, with one more feature column and the same rows, one of
 * its columns being the labels and the others the features. Every array is
 * freed.
 */
#include "fuzz_common.h"

#include <math.h>

#include "ncopt/data.h"
#include "ncopt/status.h"

static void check_f32(const nco_array *a) {
  FUZZ_CHECK(a->dtype == NCO_DTYPE_F32 && a->data != NULL);
  const float *v = a->data;
  for (size_t i = 0; i < a->size; i++) FUZZ_CHECK(isfinite(v[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file(data, size);
  nco_array x0, x1, y1;
  memset(&x0, 0, sizeof x0);
  memset(&x1, 0, sizeof x1);
  memset(&y1, 0, sizeof y1);

  nco_clear_error();
  int st0 = nco_csv_read(path, NULL, &x0, NULL);
  if (st0 == NCO_OK) {
    check_f32(&x0);
    FUZZ_CHECK(x0.ndim == 2 && x0.shape[0] >= 1 && x0.shape[1] >= 1);
    FUZZ_CHECK(x0.size == x0.shape[0] * x0.shape[1]);
    FUZZ_CHECK(strcmp(x0.origin, path) == 0);
  } else {
    FUZZ_CHECK(x0.data == NULL && x0.size == 0);
    FUZZ_CHECK(nco_last_error()[0] != '\0');
  }

  nco_clear_error();
  int st1 = nco_csv_read(path, "label", &x1, &y1);
  if (st1 == NCO_OK) {
    check_f32(&x1);
    check_f32(&y1);
    FUZZ_CHECK(x1.ndim == 2 && y1.ndim == 1 && y1.shape[0] == x1.shape[0]);
    FUZZ_CHECK(st0 == NCO_OK);
    FUZZ_CHECK(x0.shape[0] == x1.shape[0] && x0.shape[1] == x1.shape[1] + 1);
    /* Some column j of the unlabelled read is the labels, and the others,
     * in order, are the labelled read's features (bit for bit). */
    size_t n = x0.shape[0], d = x1.shape[1], found = 0;
    const float *a = x0.data, *f = x1.data, *l = y1.data;
    for (size_t j = 0; j <= d && !found; j++) {
      int ok = 1;
      for (size_t i = 0; i < n && ok; i++) {
        if (memcmp(&a[i * (d + 1) + j], &l[i], sizeof(float))) ok = 0;
        for (size_t k = 0; k < d && ok; k++)
          if (memcmp(&a[i * (d + 1) + k + (k >= j)], &f[i * d + k], sizeof(float))) ok = 0;
      }
      found = (size_t)ok;
    }
    FUZZ_CHECK(found);
  } else {
    FUZZ_CHECK(x1.data == NULL && y1.data == NULL);
    FUZZ_CHECK(nco_last_error()[0] != '\0');
  }

  nco_array_free(&x0);
  nco_array_free(&x1);
  nco_array_free(&y1);
  return 0;
}
