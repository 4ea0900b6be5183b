/* IDX files (the MNIST format), plain or gzip-compressed, read through zlib.
 *
 * Layout (LeCun et al., http://yann.lecun.com/exdb/mnist/): bytes 0 and 1
 * are zero, byte 2 is the element type (0x08 unsigned byte, 0x09 signed
 * byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), byte 3 the
 * number of dimensions; then one big-endian uint32 per dimension; then the
 * elements in C order. MNIST labels: 0x00000801, (n); images: 0x00000803,
 * (n, 28, 28).
 *
 * The file is untrusted. The element count is checked for overflow, and the
 * data buffer grows with what the stream actually delivers (doubling, capped
 * at the size the header announces), so a header announcing terabytes costs
 * at most one chunk before the "truncated" error. gzread reads plain files
 * unchanged (zlib's transparent mode), so .gz and uncompressed files take the
 * same path.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ncopt/data.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"

#define IDX_U8 0x08u
#define IDX_MAGIC_LABELS 0x00000801u
#define IDX_MAGIC_IMAGES 0x00000803u
#define IDX_CHUNK ((size_t)1 << 20) /* one gzread call and the first buffer size */

static const char *idx_type_name(unsigned t) {
  switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
  }
  return "not an IDX type";
}

/* After gzread returned fewer bytes than asked (or -1): turns zlib's error
 * state into a status. Returns NCO_OK for a clean end of file. `what` says
 * what was being read ("the header", "the data"). */
static int gz_check(gzFile f, const char *path, const char *what) {
  int errnum = Z_OK;
  const char *msg = gzerror(f, &errnum);
  switch (errnum) {
    case Z_OK:
      return NCO_OK;
    case Z_BUF_ERROR: /* zlib: "unexpected end of file" inside a gzip member */
      return nco_error(NCO_ERR_FORMAT,
                       "%s: truncated: the gzip stream ends early (%s) while reading %s", path,
                       msg, what);
    case Z_ERRNO:
      return nco_error(NCO_ERR_IO, "%s: read error while reading %s: %s", path, what,
                       strerror(errno));
    case Z_MEM_ERROR:
      return nco_error(NCO_ERR_NOMEM, "%s: zlib is out of memory", path);
    default:
      return nco_error(NCO_ERR_FORMAT, "%s: corrupt gzip data while reading %s: %s", path, what,
                       msg);
  }
}

/* Reads up to n bytes; *got < n only at the end of the stream. */
static int gz_fill(gzFile f, const char *path, const char *what, unsigned char *buf, size_t n,
                   size_t *got) {
  size_t have = 0;
  while (have < n) {
    size_t want = n - have < IDX_CHUNK ? n - have : IDX_CHUNK;
    int r = gzread(f, buf + have, (unsigned)want);
    if (r <= 0) break;
    have += (size_t)r;
  }
  *got = have;
  return have < n ? gz_check(f, path, what) : NCO_OK;
}

static uint32_t be32(const unsigned char *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static const char *dims_str(size_t nd, const size_t *dims, char *buf, size_t len) {
  nco_array tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.ndim = nd;
  for (size_t i = 0; i < nd && i < NCO_ARRAY_MAX_DIMS; i++) tmp.shape[i] = dims[i];
  return nco_array_shape_str(&tmp, buf, len);
}

/* Checks the 4-byte magic against what the caller expects. */
static int check_magic(const char *path, const unsigned char *m, size_t want_ndim) {
  uint32_t magic = be32(m);
  const char *expect = want_ndim == 1   ? "0x00000801 (uint8 labels)"
                       : want_ndim == 3 ? "0x00000803 (uint8 images)"
                                        : "0x000008NN (uint8, NN dimensions)";
  if (m[0] != 0 || m[1] != 0)
    return nco_error(NCO_ERR_FORMAT,
                     "%s: wrong magic number 0x%08x: not an IDX file (expected %s)", path,
                     (unsigned)magic, expect);
  if (m[2] != IDX_U8)
    return nco_error(NCO_ERR_FORMAT,
                     "%s: wrong IDX dtype byte 0x%02x (%s) in magic 0x%08x: only 0x08 (unsigned "
                     "byte) is supported",
                     path, m[2], idx_type_name(m[2]), (unsigned)magic);
  if (m[3] == 0)
    return nco_error(NCO_ERR_FORMAT, "%s: wrong magic number 0x%08x: 0 dimensions (expected %s)",
                     path, (unsigned)magic, expect);
  if (want_ndim && m[3] != want_ndim)
    return nco_error(NCO_ERR_FORMAT,
                     "%s: wrong magic number 0x%08x (%u dimension%s), expected %s", path,
                     (unsigned)magic, m[3], m[3] == 1 ? "" : "s", expect);
  if (m[3] > NCO_ARRAY_MAX_DIMS)
    return nco_error(NCO_ERR_UNSUPPORTED, "%s: IDX file with %u dimensions, at most %d are supported",
                     path, m[3], NCO_ARRAY_MAX_DIMS);
  return NCO_OK;
}

int nco_idx_read(const char *path, size_t ndim, nco_array *out) {
  if (!out) return nco_error(NCO_ERR_INVALID, "nco_idx_read: NULL output array");
  memset(out, 0, sizeof *out);
  if (!path || !*path) return nco_error(NCO_ERR_INVALID, "nco_idx_read: empty path");
  if (ndim > NCO_ARRAY_MAX_DIMS)
    return nco_error(NCO_ERR_INVALID, "%s: nco_idx_read: %zu dimensions requested, at most %d",
                     path, ndim, NCO_ARRAY_MAX_DIMS);

  int st = NCO_OK;
  unsigned char *data = NULL;
  errno = 0;
  gzFile f = gzopen(path, "rb");
  if (!f)
    return nco_error(errno == ENOMEM ? NCO_ERR_NOMEM : NCO_ERR_IO, "%s: cannot open: %s", path,
                     errno ? strerror(errno) : "zlib could not open it");
  gzbuffer(f, 128 * 1024);

  /* Magic and dimensions. */
  unsigned char head[4 + 4 * NCO_ARRAY_MAX_DIMS];
  size_t got = 0;
  if ((st = gz_fill(f, path, "the magic number", head, 4, &got))) goto done;
  if (got < 4) {
    st = nco_error(NCO_ERR_FORMAT,
                   "%s: truncated: the file has %zu bytes, an IDX file starts with a 4-byte magic "
                   "number",
                   path, got);
    goto done;
  }
  if ((st = check_magic(path, head, ndim))) goto done;
  size_t nd = head[3], hbytes = 4 * nd;
  if ((st = gz_fill(f, path, "the dimensions", head + 4, hbytes, &got))) goto done;
  if (got < hbytes) {
    st = nco_error(NCO_ERR_FORMAT,
                   "%s: truncated: the header announces %zu dimensions (%zu bytes) but the file "
                   "ends after %zu of them",
                   path, nd, hbytes, got);
    goto done;
  }
  size_t dims[NCO_ARRAY_MAX_DIMS], count = 1;
  char db[256];
  for (size_t i = 0; i < nd; i++) dims[i] = be32(head + 4 + 4 * i);
  for (size_t i = 0; i < nd; i++) {
    if (nco_mul_size(count, dims[i], &count)) {
      st = nco_error(NCO_ERR_OVERFLOW,
                     "%s: the dimensions %s have more elements than fit in size_t", path,
                     dims_str(nd, dims, db, sizeof db));
      goto done;
    }
  }

  /* Data: the buffer grows with what arrives, never beyond `count` bytes. */
  size_t cap = count < IDX_CHUNK ? count : IDX_CHUNK, have = 0;
  data = malloc(cap ? cap : 1);
  if (!data) {
    st = nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, cap);
    goto done;
  }
  for (;;) {
    size_t n = 0;
    if ((st = gz_fill(f, path, "the data", data + have, cap - have, &n))) goto done;
    have += n;
    if (have < cap || cap == count) break; /* end of file, or everything read */
    size_t next = cap > count / 2 ? count : 2 * cap;
    unsigned char *q = realloc(data, next);
    if (!q) {
      st = nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu bytes for the data", path, next);
      goto done;
    }
    data = q;
    cap = next;
  }
  if (have < count) {
    st = nco_error(NCO_ERR_FORMAT,
                   "%s: truncated: the header %s needs %zu bytes of data, the file has %zu", path,
                   dims_str(nd, dims, db, sizeof db), count, have);
    goto done;
  }

  /* Nothing may follow the last element. */
  {
    unsigned char scratch[4096];
    size_t extra = 0, n;
    do {
      if ((st = gz_fill(f, path, "past the data", scratch, sizeof scratch, &n))) goto done;
      extra += n;
    } while (n == sizeof scratch);
    if (extra) {
      st = nco_error(NCO_ERR_FORMAT,
                     "%s: %zu bytes of trailing data after the %zu bytes that the header %s "
                     "describes",
                     path, extra, count, dims_str(nd, dims, db, sizeof db));
      goto done;
    }
  }

  /* Hand the buffer to `out` (nco_array_free releases it with free()). */
  out->dtype = NCO_DTYPE_U8;
  out->ndim = nd;
  for (size_t i = 0; i < nd; i++) out->shape[i] = dims[i];
  out->size = count;
  out->data = data;
  data = NULL;
  snprintf(out->origin, sizeof out->origin, "%s", path);

done:
  free(data);
  if (gzclose(f) != Z_OK && st == NCO_OK) {
    nco_array_free(out);
    st = nco_error(NCO_ERR_IO, "%s: error on closing", path);
  }
  return st;
}

int nco_idx_read_pair(const char *images_path, const char *labels_path, size_t num_classes,
                      nco_array *images, nco_array *labels) {
  if (!images || !labels) return nco_error(NCO_ERR_INVALID, "nco_idx_read_pair: NULL output array");
  memset(labels, 0, sizeof *labels);
  int st = nco_idx_read(images_path, 3, images);
  if (st) return st;
  if ((st = nco_idx_read(labels_path, 1, labels))) goto fail;
  if (labels->shape[0] != images->shape[0]) {
    st = nco_error(NCO_ERR_SHAPE, "%s has %zu labels but %s has %zu images", labels_path,
                   labels->shape[0], images_path, images->shape[0]);
    goto fail;
  }
  if (num_classes > 0) {
    const unsigned char *y = labels->data;
    for (size_t i = 0; i < labels->size; i++) {
      if (y[i] >= num_classes) {
        st = nco_error(NCO_ERR_RANGE,
                       "%s: label %u at index %zu is out of range for %zu classes (0..%zu)",
                       labels_path, y[i], i, num_classes, num_classes - 1);
        goto fail;
      }
    }
  }
  return NCO_OK;
fail:
  nco_array_free(images);
  nco_array_free(labels);
  return st;
}
