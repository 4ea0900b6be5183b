/* ncopt/npy.h — a safe reader and writer of NumPy .npy files.
 *
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 * Supported: versions 1.0, 2.0, 3.0; dtypes <f4 <f8 <i4 <i8 |u1 (and the
 * big-endian variants, converted on read); C order (fortran_order False).
 * The header is parsed strictly (a Python dict literal with exactly the keys
 * descr, fortran_order, shape), its length is capped at 64 KiB, every
 * dimension and the byte count are checked for overflow before allocating,
 * and the data must fill the rest of the file exactly. Object and other
 * pickled dtypes are refused. Errors name the file and what is wrong.
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
