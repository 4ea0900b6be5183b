/* ncopt/array.h — n-dimensional arrays as read from and written to files.
 *
 * An nco_array owns a C-order buffer with a dtype and a shape, and remembers
 * where it came from (`origin`, e.g. "data/A.npy") so that every later error
 * about it — a wrong shape, a NaN — can name the file. Problems take float32
 * arrays; nco_array_to_f32 converts the other numeric dtypes.
 */
#ifndef NCOPT_ARRAY_H
#define NCOPT_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NCO_ARRAY_MAX_DIMS 8

typedef enum nco_dtype {
  NCO_DTYPE_F32 = 0,
  NCO_DTYPE_F64,
  NCO_DTYPE_I32,
  NCO_DTYPE_I64,
  NCO_DTYPE_U8
} nco_dtype;

typedef struct nco_array {
  nco_dtype dtype;
  size_t ndim;                        /* 0 ≤ ndim ≤ NCO_ARRAY_MAX_DIMS */
  size_t shape[NCO_ARRAY_MAX_DIMS];   /* shape[0..ndim) */
  size_t size;                        /* Π shape (1 for ndim = 0) */
  void *data;                         /* size · nco_dtype_size(dtype) bytes, C order */
  char origin[256];                   /* file or generator it came from ("" if none) */
} nco_array;

/* Bytes per element of a dtype (0 for an invalid dtype). */
size_t nco_dtype_size(nco_dtype t);
/* "float32", "float64", "int32", "int64", "uint8". */
const char *nco_dtype_name(nco_dtype t);

/* Allocates a zero-filled array of the given shape. Checks the element and
 * byte counts for overflow. `origin` may be NULL. */
int nco_array_alloc(nco_array *a, nco_dtype t, size_t ndim, const size_t *shape,
                    const char *origin);

/* Frees the buffer and zeroes the struct (safe on a zeroed struct). */
void nco_array_free(nco_array *a);

/* Converts `a` in place to float32 (no-op if it already is). Values that
 * are not finite after conversion, or overflow float, are an error naming
 * `a->origin`. */
int nco_array_to_f32(nco_array *a);

/* Checks that `a` has exactly `ndim` dimensions and that each shape[i]
 * equals want[i] (want[i] == (size_t)-1 matches anything); on mismatch
 * returns NCO_ERR_SHAPE with a message "ORIGIN: NAME has shape (..), expected
 * (..)". `name` is the array's role, e.g. "features". */
int nco_array_expect(const nco_array *a, const char *name, size_t ndim, const size_t *want);

/* Checks that every float32 entry is finite; else NCO_ERR_NONFINITE naming
 * origin, name and the first bad index. */
int nco_array_check_finite(const nco_array *a, const char *name);

/* Formats the shape as "(3, 4)" into buf. */
const char *nco_array_shape_str(const nco_array *a, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
