/* ncopt/npy.h — a safe reader and writer of NumPy .npy files.
 *
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 * Supported: versions 1.0, 2.0, 3.0; C order and Fortran order
 * (fortran_order True, what np.save writes for a transposed array: reordered
 * on read, so the array has numpy's shape and the same element at every
 * index); either byte order ('<', '>', '|', '='; swapped to this machine's
 * on read). Dtypes, and the nco_dtype each is read as (always exactly):
 *   f4 → float32   f8 → float64   i4 → int32   i8 → int64   u1 → uint8
 *   f2 (float16) → float32, bit for bit: subnormals, ±0, ±inf, NaN payloads
 *   b1 (bool)    → uint8 0/1 (any non-zero byte is 1, as numpy's truth)
 *   i1, i2, u2   → int32       u4 → int64
 *   u8           → int64; a value above INT64_MAX is an NCO_ERR_RANGE error
 *                  naming the file and the index.
 * Refused with NCO_ERR_UNSUPPORTED, naming the file and the dtype and saying
 * how to save it instead: complex, object (pickled), structured, unicode and
 * byte strings, datetime/timedelta, long double ('<f16') and other sizes.
 * The header is parsed strictly (a Python dict literal with exactly the keys
 * descr, fortran_order, shape), its length is capped at 64 KiB, every
 * dimension and the byte count are checked for overflow before allocating,
 * and the data must fill the rest of the file exactly. Errors name the file
 * and what is wrong. The writer always writes C order, little-endian, in
 * one of the five nco_dtypes.
 */
#ifndef NCOPT_NPY_H
#define NCOPT_NPY_H

#include "ncopt/array.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads `path` into `out` (which must be zeroed or freed); on success
 * out->origin is the path. On error `out` is left zeroed. */
int nco_npy_read(const char *path, nco_array *out);

/* Parses an in-memory .npy image of `len` bytes; `name` is used in errors. */
int nco_npy_parse(const void *buf, size_t len, const char *name, nco_array *out);

/* Writes `a` to `path` as version 1.0 (2.0 if the header needs it),
 * little-endian, atomically: a temporary file in the same folder, fsync,
 * then rename, so an interrupted write never leaves a partial `path`. */
int nco_npy_write(const char *path, const nco_array *a);

/* Convenience: writes a float32 buffer of the given shape. */
int nco_npy_write_f32(const char *path, const float *data, size_t ndim, const size_t *shape);

#ifdef __cplusplus
}
#endif
#endif
