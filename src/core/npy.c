/* A safe reader and writer of NumPy .npy files.
 *
 * Format (numpy.lib.format, NEP 1): the magic "\x93NUMPY", a major and a
 * minor version byte, the header length (uint16 LE for 1.0, uint32 LE for
 * 2.0 and 3.0), then the header: a Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and a final '\n' (latin1 for 1.0/2.0, utf8 for 3.0),
 * then the raw data filling the rest of the file: C order, or Fortran order
 * if 'fortran_order' is True (what np.save writes for a transposed array),
 * which is reordered to C order on read. Types other than the five an
 * nco_array holds are widened exactly (float16 → float32, bool → uint8 0/1,
 * int8/int16/uint16 → int32, uint32/uint64 → int64).
 *
 * Everything read from the file is untrusted: the header length is capped,
 * the dict is parsed by a strict hand-written scanner (no eval), every
 * dimension and the byte count go through nco_mul_size, and the data size is
 * compared with what the file actually holds before anything is allocated.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "ncopt/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ncopt/status.h"
#include "ncopt/vec.h"

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
#define NPY_HEADER_CAP 65536u /* largest header length accepted on read (64 KiB) */
#define NPY_ALIGN 64          /* numpy's ARRAY_ALIGN: preamble + header is a multiple of it */
#define NPY_SUPPORTED                                                                                  \
  "float16/32/64, int8/16/32/64, uint8/16/32/64, bool ('f2' 'f4' 'f8' 'i1' 'i2' 'i4' 'i8' 'u1' 'u2' "  \
  "'u4' 'u8' 'b1', either byte order)"

/* The element types a file may hold, and what each is read as. */
typedef enum npy_kind {
  K_F2, K_F4, K_F8, K_I1, K_I2, K_I4, K_I8, K_U1, K_U2, K_U4, K_U8, K_B1
} npy_kind;

static const struct npy_type {
  const char *code;  /* descr without the byte-order character */
  npy_kind kind;
  size_t size;       /* bytes per element in the file */
  nco_dtype dtype;   /* what it is read as: exact for every value (u8: if ≤ INT64_MAX) */
  const char *name;  /* numpy's name, for messages */
} npy_types[] = {
    {"f2", K_F2, 2, NCO_DTYPE_F32, "float16"}, {"f4", K_F4, 4, NCO_DTYPE_F32, "float32"},
    {"f8", K_F8, 8, NCO_DTYPE_F64, "float64"}, {"i1", K_I1, 1, NCO_DTYPE_I32, "int8"},
    {"i2", K_I2, 2, NCO_DTYPE_I32, "int16"},   {"i4", K_I4, 4, NCO_DTYPE_I32, "int32"},
    {"i8", K_I8, 8, NCO_DTYPE_I64, "int64"},   {"u1", K_U1, 1, NCO_DTYPE_U8, "uint8"},
    {"u2", K_U2, 2, NCO_DTYPE_I32, "uint16"},  {"u4", K_U4, 4, NCO_DTYPE_I64, "uint32"},
    {"u8", K_U8, 8, NCO_DTYPE_I64, "uint64"},  {"b1", K_B1, 1, NCO_DTYPE_U8, "bool"},
};

typedef struct npy_header {
  unsigned major, minor;
  size_t prelen;      /* magic + version + length field: 10 or 12 bytes */
  size_t hlen;        /* header length as stored */
  size_t data_offset; /* prelen + hlen */
  const struct npy_type *type; /* the file's element type */
  nco_dtype dtype;    /* what it is read as (type->dtype) */
  int swap;           /* 1 if the data's byte order is not this machine's */
  int fortran;        /* 1 if the data is in Fortran (column-major) order and ndim ≥ 2 */
  size_t ndim;
  size_t shape[NCO_ARRAY_MAX_DIMS];
  size_t size;        /* Π shape */
  size_t bytes;       /* size · file element size: the data's length in the file */
} npy_header;

static int host_little_endian(void) {
  const uint16_t one = 1;
  unsigned char c;
  memcpy(&c, &one, 1);
  return c == 1;
}

/* Copies `s` (n bytes, untrusted) into buf as printable ASCII for a message. */
static const char *printable(const char *s, size_t n, char *buf, size_t len) {
  if (len == 0) return "";
  size_t j = 0;
  for (; j < n && j + 1 < len; j++) {
    unsigned char c = (unsigned char)s[j];
    buf[j] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  buf[j] = '\0';
  if (j < n && j >= 3) memcpy(buf + j - 3, "...", 3); /* cut short */
  return buf;
}

static const char *shape_str(size_t ndim, const size_t *shape, char *buf, size_t len) {
  nco_array tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.ndim = ndim;
  for (size_t i = 0; i < ndim && i < NCO_ARRAY_MAX_DIMS; i++) tmp.shape[i] = shape[i];
  return nco_array_shape_str(&tmp, buf, len);
}

/* ---------------------------------------------------------------- preamble */

/* p: the first `have` bytes of the file (at most 12 are looked at). */
static int parse_preamble(const unsigned char *p, size_t have, const char *name, npy_header *h) {
  if (have == 0) return nco_error(NCO_ERR_FORMAT, "%s: empty file, not a .npy file", name);
  size_t m = have < NPY_MAGIC_LEN ? have : NPY_MAGIC_LEN;
  if (memcmp(p, NPY_MAGIC, m) != 0) {
    char got[32];
    size_t pos = 0;
    for (size_t i = 0; i < m && pos + 5 < sizeof got; i++) {
      unsigned char c = p[i];
      if (c >= 0x20 && c < 0x7f && c != '\\')
        got[pos++] = (char)c;
      else
        pos += (size_t)snprintf(got + pos, sizeof got - pos, "\\x%02x", c);
    }
    got[pos] = '\0';
    return nco_error(NCO_ERR_FORMAT, "%s: not a .npy file: bad magic \"%s\" (expected \"\\x93NUMPY\")",
                     name, got);
  }
  if (have < 8)
    return nco_error(NCO_ERR_FORMAT, "%s: truncated header: file holds %zu bytes, a .npy preamble needs 10",
                     name, have);
  h->major = p[6];
  h->minor = p[7];
  if (h->minor == 0 && h->major == 1)
    h->prelen = 10;
  else if (h->minor == 0 && (h->major == 2 || h->major == 3))
    h->prelen = 12;
  else
    return nco_error(NCO_ERR_UNSUPPORTED,
                     "%s: unsupported .npy format version %u.%u (supported: 1.0, 2.0, 3.0)", name,
                     h->major, h->minor);
  if (have < h->prelen)
    return nco_error(NCO_ERR_FORMAT,
                     "%s: truncated header: file holds %zu bytes, a version %u.0 preamble needs %zu", name,
                     have, h->major, h->prelen);
  if (h->prelen == 10)
    h->hlen = (size_t)p[8] | (size_t)p[9] << 8;
  else
    h->hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
  if (h->hlen > NPY_HEADER_CAP)
    return nco_error(NCO_ERR_FORMAT, "%s: header length %zu exceeds the limit of %u bytes", name, h->hlen,
                     NPY_HEADER_CAP);
  h->data_offset = h->prelen + h->hlen;
  return NCO_OK;
}

/* ------------------------------------------------------------- dict parser */

typedef struct cursor {
  const char *s;
  size_t n, i;
  const char *name;
} cursor;

static int at_end(const cursor *c) { return c->i >= c->n; }

static void skip_ws(cursor *c) {
  while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t' || c->s[c->i] == '\n' ||
                         c->s[c->i] == '\r'))
    c->i++;
}

/* Describes the character at the cursor for a message. */
static const char *found(const cursor *c, char *buf, size_t len) {
  if (at_end(c)) return "end of header";
  unsigned char ch = (unsigned char)c->s[c->i];
  if (ch >= 0x20 && ch < 0x7f)
    snprintf(buf, len, "'%c'", ch);
  else
    snprintf(buf, len, "byte 0x%02x", ch);
  return buf;
}

static int garbage(const cursor *c, const char *expected) {
  char fb[32];
  return nco_error(NCO_ERR_FORMAT, "%s: malformed header dict: expected %s at byte %zu, found %s", c->name,
                   expected, c->i, found(c, fb, sizeof fb));
}

/* A quoted string without escapes; copies at most len-1 bytes into out and
 * sets *full to its length. */
static int parse_string(cursor *c, char *out, size_t len, size_t *full) {
  if (at_end(c) || (c->s[c->i] != '\'' && c->s[c->i] != '"')) return garbage(c, "a quoted string");
  char q = c->s[c->i++];
  size_t start = c->i;
  while (c->i < c->n && c->s[c->i] != q) {
    char ch = c->s[c->i];
    if (ch == '\\') return garbage(c, "a string without escape sequences");
    if (ch == '\n' || ch == '\0') return garbage(c, "the end of the string");
    c->i++;
  }
  if (at_end(c)) return garbage(c, "the end of the string");
  size_t l = c->i - start;
  size_t k = l < len - 1 ? l : len - 1;
  memcpy(out, c->s + start, k);
  out[k] = '\0';
  *full = l;
  c->i++; /* closing quote */
  return NCO_OK;
}

static int is_ident(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

static int parse_bool(cursor *c, int *v) {
  static const char *const words[2] = {"False", "True"};
  for (int b = 0; b < 2; b++) {
    size_t l = strlen(words[b]);
    if (c->n - c->i >= l && memcmp(c->s + c->i, words[b], l) == 0 &&
        (c->i + l == c->n || !is_ident(c->s[c->i + l]))) {
      c->i += l;
      *v = b;
      return NCO_OK;
    }
  }
  return garbage(c, "True or False for 'fortran_order'");
}

/* A shape tuple: (), (3,), (2, 3), (2, 3,); Python 2's "3L" suffix allowed. */
static int parse_shape(cursor *c, npy_header *h) {
  if (at_end(c) || c->s[c->i] != '(') return garbage(c, "a tuple '(' for 'shape'");
  c->i++;
  skip_ws(c);
  size_t ndim = 0;
  int comma_after_last = 0;
  while (!at_end(c) && c->s[c->i] != ')') {
    size_t start = c->i;
    if (c->s[c->i] == '-') {
      size_t j = c->i + 1;
      while (j < c->n && c->s[j] >= '0' && c->s[j] <= '9') j++;
      if (j > c->i + 1) {
        char nb[48];
        return nco_error(NCO_ERR_FORMAT, "%s: negative dimension %s in 'shape'", c->name,
                         printable(c->s + start, j - start, nb, sizeof nb));
      }
      return garbage(c, "a dimension (non-negative integer)");
    }
    if (c->s[c->i] < '0' || c->s[c->i] > '9') return garbage(c, "a dimension (non-negative integer)");
    size_t v = 0;
    int overflow = 0;
    while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
      size_t d = (size_t)(c->s[c->i] - '0');
      if (!overflow && (v > (SIZE_MAX - d) / 10)) overflow = 1;
      if (!overflow) v = v * 10 + d;
      c->i++;
    }
    if (c->i - start > 1 && c->s[start] == '0') {
      c->i = start;
      return garbage(c, "a dimension without leading zeros");
    }
    if (overflow) {
      char nb[48];
      return nco_error(NCO_ERR_OVERFLOW, "%s: dimension %s in 'shape' does not fit in size_t", c->name,
                       printable(c->s + start, c->i - start, nb, sizeof nb));
    }
    if (c->i < c->n && (c->s[c->i] == 'L' || c->s[c->i] == 'l')) c->i++;
    if (ndim == NCO_ARRAY_MAX_DIMS)
      return nco_error(NCO_ERR_UNSUPPORTED, "%s: 'shape' has more than %d dimensions", c->name,
                       NCO_ARRAY_MAX_DIMS);
    h->shape[ndim++] = v;
    skip_ws(c);
    comma_after_last = 0;
    if (!at_end(c) && c->s[c->i] == ',') {
      c->i++;
      comma_after_last = 1;
      skip_ws(c);
    } else if (at_end(c) || c->s[c->i] != ')') {
      return garbage(c, "',' or ')' in 'shape'");
    }
  }
  if (at_end(c)) return garbage(c, "')' closing 'shape'");
  if (ndim == 1 && !comma_after_last)
    return garbage(c, "',' (a 1-tuple is written (n,); (n) is not a tuple)");
  c->i++; /* ')' */
  h->ndim = ndim;
  return NCO_OK;
}

/* Maps a descr string to a file type, dtype and byte order, or refuses it
 * by name, saying what it is and how to save it so that it can be read. */
static int parse_descr(const char *d, size_t full, const char *name, npy_header *h) {
  char pd[80];
  printable(d, strlen(d), pd, sizeof pd);
  if (full >= 64) {
    size_t l = strlen(pd);
    if (l + 4 < sizeof pd) memcpy(pd + l, "...", 4);
  }
  char order = 0;
  const char *t = d;
  if (*t == '<' || *t == '>' || *t == '|' || *t == '=') order = *t++;
  if (full < 64)
    for (size_t k = 0; k < sizeof npy_types / sizeof npy_types[0]; k++)
      if (strcmp(t, npy_types[k].code) == 0) {
        int file_le = order == '<' ? 1 : order == '>' ? 0 : host_little_endian();
        h->type = &npy_types[k];
        h->dtype = npy_types[k].dtype;
        h->swap = npy_types[k].size > 1 && file_le != host_little_endian();
        return NCO_OK;
      }
  const char *what, *fix;
  switch (*t) {
    case 'O':
      what = "object dtype: pickled Python objects are refused";
      fix = "save a numeric array: np.asarray(a, dtype=np.float32)";
      break;
    case 'U':
      what = "unicode string dtype";
      fix = "save numbers: a.astype(np.float32), or category codes: np.unique(a, return_inverse=True)[1]";
      break;
    case 'S': case 'a':
      what = "byte string dtype";
      fix = "save numbers: a.astype(np.float32), or category codes: np.unique(a, return_inverse=True)[1]";
      break;
    case 'V':
      what = "void/structured dtype";
      fix = "save each field as its own array: a['field'].astype(np.float32)";
      break;
    case 'c':
      what = "complex dtype";
      fix = "save the real and imaginary parts separately: a.real.astype(np.float32), a.imag.astype(np.float32)";
      break;
    case 'M': case 'm':
      what = "datetime/timedelta dtype";
      fix = "save as integers: a.astype(np.int64)";
      break;
    case 'f': case 'g':
      what = "floating-point size that is not supported (long double?)";
      fix = "save as float64: a.astype(np.float64)";
      break;
    case 'i': case 'u':
      what = "integer size that is not supported";
      fix = "save as int64: a.astype(np.int64)";
      break;
    case 'b':
      what = "bool of a size that is not supported";
      fix = "save as uint8: a.astype(np.uint8)";
      break;
    default:
      what = "unknown dtype";
      fix = "save as float32: a.astype(np.float32)";
      break;
  }
  return nco_error(NCO_ERR_UNSUPPORTED, "%s: unsupported dtype '%s' (%s); %s; supported: " NPY_SUPPORTED, name,
                   pd, what, fix);
}

/* Parses the header dict (n bytes at s) into h, then checks the sizes. */
static int parse_dict(const char *s, size_t n, const char *name, npy_header *h) {
  cursor c = {s, n, 0, name};
  int have_descr = 0, have_fortran = 0, have_shape = 0, fortran = 0;
  char descr[64] = "";
  size_t descr_full = 0;
  skip_ws(&c);
  if (at_end(&c) || c.s[c.i] != '{') return garbage(&c, "a Python dict literal '{'");
  c.i++;
  skip_ws(&c);
  while (!at_end(&c) && c.s[c.i] != '}') {
    char key[32];
    size_t key_full = 0;
    size_t key_at = c.i;
    int st = parse_string(&c, key, sizeof key, &key_full);
    if (st) return st;
    int which = key_full >= sizeof key ? -1
                : strcmp(key, "descr") == 0 ? 0
                : strcmp(key, "fortran_order") == 0 ? 1
                : strcmp(key, "shape") == 0 ? 2 : -1;
    if (which < 0) {
      char kb[48];
      return nco_error(NCO_ERR_FORMAT,
                       "%s: malformed header dict: unexpected key '%s' at byte %zu (allowed: 'descr', "
                       "'fortran_order', 'shape')",
                       name, printable(key, strlen(key), kb, sizeof kb), key_at);
    }
    int *seen = which == 0 ? &have_descr : which == 1 ? &have_fortran : &have_shape;
    if (*seen)
      return nco_error(NCO_ERR_FORMAT, "%s: malformed header dict: duplicate key '%s' at byte %zu", name, key,
                       key_at);
    *seen = 1;
    skip_ws(&c);
    if (at_end(&c) || c.s[c.i] != ':') return garbage(&c, "':' after the key");
    c.i++;
    skip_ws(&c);
    if (which == 0) {
      if (!at_end(&c) && c.s[c.i] == '[')
        return nco_error(NCO_ERR_UNSUPPORTED,
                         "%s: unsupported dtype: structured dtype (descr is a list of fields); save each "
                         "field as its own array: a['field'].astype(np.float32); supported: " NPY_SUPPORTED,
                         name);
      st = parse_string(&c, descr, sizeof descr, &descr_full);
    } else if (which == 1) {
      st = parse_bool(&c, &fortran);
    } else {
      st = parse_shape(&c, h);
    }
    if (st) return st;
    skip_ws(&c);
    if (!at_end(&c) && c.s[c.i] == ',') {
      c.i++;
      skip_ws(&c);
    } else if (at_end(&c) || c.s[c.i] != '}') {
      return garbage(&c, "',' or '}' after a value");
    }
  }
  if (at_end(&c)) return garbage(&c, "'}' closing the header dict");
  c.i++;
  skip_ws(&c);
  if (!at_end(&c)) return garbage(&c, "only padding after the header dict");
  const char *missing = !have_descr ? "descr" : !have_fortran ? "fortran_order" : !have_shape ? "shape" : NULL;
  if (missing) return nco_error(NCO_ERR_FORMAT, "%s: malformed header dict: no '%s' key", name, missing);

  int st = parse_descr(descr, descr_full, name, h);
  if (st) return st;
  /* Fortran order is read and reordered to C order; with fewer than two
   * dimensions the two orders are the same bytes. */
  h->fortran = fortran && h->ndim >= 2;
  char sb[256];
  h->size = 1;
  for (size_t i = 0; i < h->ndim; i++)
    if (nco_mul_size(h->size, h->shape[i], &h->size))
      return nco_error(NCO_ERR_OVERFLOW, "%s: shape %s has more elements than fit in size_t", name,
                       shape_str(h->ndim, h->shape, sb, sizeof sb));
  if (nco_mul_size(h->size, h->type->size, &h->bytes))
    return nco_error(NCO_ERR_OVERFLOW, "%s: shape %s %s needs more bytes than fit in size_t", name,
                     shape_str(h->ndim, h->shape, sb, sizeof sb), h->type->name);
  /* What it is read as must fit too (float16 → float32 doubles the size). */
  size_t out_bytes;
  if (nco_mul_size(h->size, nco_dtype_size(h->dtype), &out_bytes))
    return nco_error(NCO_ERR_OVERFLOW, "%s: shape %s %s read as %s needs more bytes than fit in size_t", name,
                     shape_str(h->ndim, h->shape, sb, sizeof sb), h->type->name, nco_dtype_name(h->dtype));
  return NCO_OK;
}

/* Compares the header's byte count with the `avail` bytes after the header
 * (`at_least`: avail is a lower bound, the true size is unknown). */
static int check_data_size(const npy_header *h, size_t avail, int at_least, const char *name) {
  if (avail == h->bytes && !at_least) return NCO_OK;
  char sb[256];
  shape_str(h->ndim, h->shape, sb, sizeof sb);
  if (avail < h->bytes)
    return nco_error(NCO_ERR_FORMAT,
                     "%s: truncated: header says shape %s %s = %zu bytes, file holds %zu (after the %zu-byte "
                     "header)",
                     name, sb, h->type->name, h->bytes, avail, h->data_offset);
  return nco_error(NCO_ERR_FORMAT,
                   "%s: trailing data: header says shape %s %s = %zu bytes, file holds %s%zu (%s%zu extra bytes "
                   "after the data)",
                   name, sb, h->type->name, h->bytes, at_least ? "at least " : "", avail,
                   at_least ? "at least " : "", avail - h->bytes);
}

static void swap_bytes(void *data, size_t n, size_t elsize) {
  unsigned char *p = data;
  for (size_t i = 0; i < n; i++, p += elsize)
    for (size_t a = 0, b = elsize - 1; a < b; a++, b--) {
      unsigned char t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

/* ---------------------------------------------------------- conversion */

/* IEEE 754 binary16 → binary32 bit pattern, exactly (every half is a
 * float): 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. */
static uint32_t half_to_float_bits(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (uint32_t)(h >> 10) & 0x1fu, man = (uint32_t)h & 0x3ffu;
  if (exp == 0x1f) return sign | 0x7f800000u | man << 13; /* ±inf; NaN keeps its payload, as numpy's does */
  if (exp != 0) return sign | (exp + (127 - 15)) << 23 | man << 13; /* normal: rebias */
  if (man == 0) return sign;                                         /* ±0 */
  /* Subnormal man · 2^-24: shift the leading 1 up to bit 10 (the implicit
   * bit), lowering the exponent once per shift; 2^-24 becomes 2^(103-127). */
  uint32_t e = 127 - 15 + 1;
  while (!(man & 0x400u)) {
    man <<= 1;
    e--;
  }
  return sign | e << 23 | (man & 0x3ffu) << 13;
}

/* 1 if the file's bytes are already what the array holds (up to byte order). */
static int passthrough(const npy_header *h) {
  switch (h->type->kind) {
    case K_F4: case K_F8: case K_I4: case K_I8: case K_U1: return !h->fortran;
    default: return 0;
  }
}

/* Converts one element at src (the file's type and byte order) to h->dtype
 * at dst. Returns 0, or -1 (nothing written, the value in *big) for a
 * uint64 above INT64_MAX. src is copied before dst is written. */
static int decode_one(const npy_header *h, const unsigned char *src, unsigned char *dst, uint64_t *big) {
  unsigned char b[8];
  size_t n = h->type->size;
  memcpy(b, src, n);
  if (h->swap)
    for (size_t x = 0, y = n - 1; x < y; x++, y--) {
      unsigned char t = b[x];
      b[x] = b[y];
      b[y] = t;
    }
  switch (h->type->kind) {
    case K_F4: case K_F8: case K_I4: case K_I8: case K_U1: memcpy(dst, b, n); break;
    case K_F2: {
      uint16_t v;
      memcpy(&v, b, 2);
      uint32_t f = half_to_float_bits(v);
      memcpy(dst, &f, 4);
      break;
    }
    case K_I1: { int8_t v; memcpy(&v, b, 1); int32_t o = v; memcpy(dst, &o, 4); break; }
    case K_I2: { int16_t v; memcpy(&v, b, 2); int32_t o = v; memcpy(dst, &o, 4); break; }
    case K_U2: { uint16_t v; memcpy(&v, b, 2); int32_t o = v; memcpy(dst, &o, 4); break; }
    case K_U4: { uint32_t v; memcpy(&v, b, 4); int64_t o = v; memcpy(dst, &o, 8); break; }
    case K_U8: {
      uint64_t v;
      memcpy(&v, b, 8);
      if (v > (uint64_t)INT64_MAX) {
        *big = v;
        return -1;
      }
      int64_t o = (int64_t)v;
      memcpy(dst, &o, 8);
      break;
    }
    case K_B1: dst[0] = b[0] != 0; break; /* numpy: any non-zero byte is True */
  }
  return 0;
}

static int too_big(const npy_header *h, size_t flat, uint64_t v, const char *name) {
  size_t idx[NCO_ARRAY_MAX_DIMS] = {0};
  for (size_t k = h->ndim; k-- > 0;) {
    idx[k] = flat % h->shape[k]; /* size > 0 here, so every dimension is ≥ 1 */
    flat /= h->shape[k];
  }
  char ib[256];
  return nco_error(NCO_ERR_RANGE,
                   "%s: uint64 value %llu at index %s does not fit int64, which uint64 is read as; save as "
                   "float64 (a.astype(np.float64)) or, if the values are labels or counts, as int64",
                   name, (unsigned long long)v, shape_str(h->ndim, idx, ib, sizeof ib));
}

/* Converts the h->size elements of file data `src` into out->data (h->dtype,
 * C order). Without Fortran order, src may be the last h->bytes bytes of
 * out->data: output elements are at least as wide as the file's, so output
 * element i ends at or before the start of file element i + 1. */
static int decode_data(const npy_header *h, const unsigned char *src, nco_array *out, const char *name) {
  unsigned char *dst = out->data;
  const size_t ss = h->type->size, ds = nco_dtype_size(h->dtype);
  uint64_t big = 0;
  if (ds < ss) return nco_error(NCO_ERR_INVALID, "%s: internal error: narrowing %s", name, h->type->name);
  if (!h->fortran) {
    for (size_t i = 0; i < h->size; i++)
      if (decode_one(h, src + i * ss, dst + i * ds, &big)) return too_big(h, i, big, name);
    return NCO_OK;
  }
  if (h->size == 0) return NCO_OK;
  /* Fortran order: element (i_0, .., i_{k-1}) is file element
   * Σ_j i_j·s_j with s_0 = 1, s_j = s_{j-1}·d_{j-1} (≤ size: no overflow).
   * Walk the output in C order (last index fastest), stepping the file
   * position as the multi-index counts up. */
  size_t stride[NCO_ARRAY_MAX_DIMS], idx[NCO_ARRAY_MAX_DIMS] = {0}, at = 0;
  stride[0] = 1;
  for (size_t j = 1; j < h->ndim; j++) stride[j] = stride[j - 1] * h->shape[j - 1];
  for (size_t i = 0; i < h->size; i++) {
    if (decode_one(h, src + at * ss, dst + i * ds, &big)) return too_big(h, i, big, name);
    for (size_t j = h->ndim; j-- > 0;) {
      if (++idx[j] < h->shape[j]) {
        at += stride[j];
        break;
      }
      idx[j] = 0;
      at -= stride[j] * (h->shape[j] - 1);
    }
  }
  return NCO_OK;
}

/* Fills out->data (allocated for h) from the file's data bytes at src. */
static int fill_from(const npy_header *h, const unsigned char *src, nco_array *out, const char *name) {
  if (!passthrough(h)) return decode_data(h, src, out, name);
  if (h->bytes) memcpy(out->data, src, h->bytes);
  if (h->swap) swap_bytes(out->data, h->size, h->type->size);
  return NCO_OK;
}

/* ------------------------------------------------------------------ reading */

int nco_npy_parse(const void *buf, size_t len, const char *name, nco_array *out) {
  const char *nm = name && *name ? name : "(memory)";
  if (!out) return nco_error(NCO_ERR_INVALID, "%s: nco_npy_parse: NULL output array", nm);
  memset(out, 0, sizeof *out);
  if (!buf && len) return nco_error(NCO_ERR_INVALID, "%s: nco_npy_parse: NULL buffer", nm);
  const unsigned char *p = buf;
  npy_header h;
  memset(&h, 0, sizeof h);
  int st = parse_preamble(p, len < 12 ? len : 12, nm, &h);
  if (st) return st;
  if (len < h.data_offset)
    return nco_error(NCO_ERR_FORMAT, "%s: truncated header: header length says %zu bytes, file holds %zu", nm,
                     h.hlen, len - h.prelen);
  st = parse_dict((const char *)p + h.prelen, h.hlen, nm, &h);
  if (st) return st;
  st = check_data_size(&h, len - h.data_offset, 0, nm);
  if (st) return st;
  st = nco_array_alloc(out, h.dtype, h.ndim, h.shape, name);
  if (st) return st;
  st = fill_from(&h, p + h.data_offset, out, nm);
  if (st) nco_array_free(out);
  return st;
}

int nco_npy_read(const char *path, nco_array *out) {
  if (!out) return nco_error(NCO_ERR_INVALID, "nco_npy_read: NULL output array");
  memset(out, 0, sizeof *out);
  if (!path || !*path) return nco_error(NCO_ERR_INVALID, "nco_npy_read: empty path");
  int st = NCO_OK;
  char *hbuf = NULL, *stream = NULL;
  unsigned char *fbuf = NULL;
  npy_header h;
  memset(&h, 0, sizeof h);
  FILE *f = fopen(path, "rb");
  if (!f) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    goto done;
  }
  if (S_ISDIR(sb.st_mode)) {
    st = nco_error(NCO_ERR_IO, "%s: is a directory, not a .npy file", path);
    goto done;
  }
  const int regular = S_ISREG(sb.st_mode);

  unsigned char pre[12];
  size_t have = fread(pre, 1, sizeof pre, f);
  if (ferror(f)) {
    st = nco_error(NCO_ERR_IO, "%s: read error: %s", path, strerror(errno));
    goto done;
  }
  st = parse_preamble(pre, have, path, &h);
  if (st) goto done;
  /* The header: what came with the preamble read, then the rest. */
  hbuf = malloc(h.hlen ? h.hlen : 1);
  if (!hbuf) {
    st = nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu bytes for the header", path, h.hlen);
    goto done;
  }
  /* `pre` may hold past the header only if hlen < 2 (1.0 preamble is 10
   * bytes); no such header parses, so the data always starts in the file. */
  size_t got = have - h.prelen;
  if (got > h.hlen) got = h.hlen;
  memcpy(hbuf, pre + h.prelen, got);
  if (got < h.hlen) got += fread(hbuf + got, 1, h.hlen - got, f);
  if (ferror(f)) {
    st = nco_error(NCO_ERR_IO, "%s: read error: %s", path, strerror(errno));
    goto done;
  }
  if (got < h.hlen) {
    st = nco_error(NCO_ERR_FORMAT, "%s: truncated header: header length says %zu bytes, file holds %zu", path,
                   h.hlen, got);
    goto done;
  }
  st = parse_dict(hbuf, h.hlen, path, &h);
  if (st) goto done;

  if (regular) {
    /* Size check against the file before allocating anything. */
    uintmax_t fs = sb.st_size > 0 ? (uintmax_t)sb.st_size : 0;
    size_t fsize = fs > SIZE_MAX ? SIZE_MAX : (size_t)fs;
    st = check_data_size(&h, fsize > h.data_offset ? fsize - h.data_offset : 0, 0, path);
    if (st) goto done;
    st = nco_array_alloc(out, h.dtype, h.ndim, h.shape, path);
    if (st) goto done;
    /* The file's bytes go straight into the array, at its end if they are
     * narrower (converted in place, see decode_data); Fortran order needs
     * a separate buffer to reorder from. */
    unsigned char *raw;
    if (h.fortran) {
      fbuf = malloc(h.bytes ? h.bytes : 1);
      if (!fbuf) {
        st = nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu bytes to reorder Fortran-order data", path,
                       h.bytes);
        goto done;
      }
      raw = fbuf;
    } else {
      raw = (unsigned char *)out->data + (out->size * nco_dtype_size(out->dtype) - h.bytes);
    }
    size_t n = fread(raw, 1, h.bytes, f);
    if (ferror(f)) {
      st = nco_error(NCO_ERR_IO, "%s: read error: %s", path, strerror(errno));
      goto done;
    }
    /* The file may have changed since fstat. */
    if (n < h.bytes) {
      st = check_data_size(&h, n, 0, path);
      goto done;
    }
    if (fgetc(f) != EOF) {
      st = check_data_size(&h, h.bytes + 1, 1, path);
      goto done;
    }
    if (passthrough(&h)) {
      if (h.swap) swap_bytes(out->data, h.size, h.type->size);
    } else {
      st = decode_data(&h, raw, out, path);
    }
  } else {
    /* A pipe or device: read what is there (at most bytes + 1), then check. */
    size_t cap = 0, n = 0, limit;
    if (nco_add_size(h.bytes, 1, &limit)) limit = h.bytes;
    for (;;) {
      if (n == cap) {
        if (cap == limit) break;
        size_t ncap = cap ? (cap > limit / 2 ? limit : 2 * cap) : (limit < 65536 ? limit : 65536);
        char *q = realloc(stream, ncap);
        if (!q) {
          st = nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu bytes while reading", path, ncap);
          goto done;
        }
        stream = q;
        cap = ncap;
      }
      size_t k = fread(stream + n, 1, cap - n, f);
      if (k == 0) break;
      n += k;
    }
    if (ferror(f)) {
      st = nco_error(NCO_ERR_IO, "%s: read error: %s", path, strerror(errno));
      goto done;
    }
    st = check_data_size(&h, n, n > h.bytes, path);
    if (st) goto done;
    st = nco_array_alloc(out, h.dtype, h.ndim, h.shape, path);
    if (st) goto done;
    st = fill_from(&h, (const unsigned char *)stream, out, path);
  }

done:
  free(hbuf);
  free(stream);
  free(fbuf);
  if (f) fclose(f);
  if (st) nco_array_free(out);
  return st;
}

/* ------------------------------------------------------------------ writing */

/* The process umask without changing it (Linux /proc); 022 if unknown. */
static mode_t current_umask(void) {
  mode_t m = 022;
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return m;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "Umask:", 6) == 0) {
      char *end;
      unsigned long v = strtoul(line + 6, &end, 8);
      if (end != line + 6) m = (mode_t)(v & 0777);
      break;
    }
  }
  fclose(f);
  return m;
}

/* Writes n elements of elsize bytes in little-endian order. */
static int write_le(FILE *f, const void *data, size_t n, size_t elsize) {
  if (n == 0) return 0;
  if (elsize == 1 || host_little_endian()) return fwrite(data, elsize, n, f) == n ? 0 : -1;
  unsigned char tmp[65536];
  const unsigned char *p = data;
  size_t per = sizeof tmp / elsize;
  while (n) {
    size_t k = n < per ? n : per;
    memcpy(tmp, p, k * elsize);
    swap_bytes(tmp, k, elsize);
    if (fwrite(tmp, elsize, k, f) != k) return -1;
    p += k * elsize;
    n -= k;
  }
  return 0;
}

/* Best effort: make the rename durable by syncing the directory. */
static void sync_parent_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = NULL;
  if (!slash) {
    dir = malloc(2);
    if (dir) memcpy(dir, ".", 2);
  } else {
    size_t l = slash == path ? 1 : (size_t)(slash - path);
    dir = malloc(l + 1);
    if (dir) {
      memcpy(dir, path, l);
      dir[l] = '\0';
    }
  }
  if (!dir) return;
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  free(dir);
}

static const char *descr_of(nco_dtype t) {
  switch (t) {
    case NCO_DTYPE_F32: return "<f4";
    case NCO_DTYPE_F64: return "<f8";
    case NCO_DTYPE_I32: return "<i4";
    case NCO_DTYPE_I64: return "<i8";
    case NCO_DTYPE_U8: return "|u1";
  }
  return NULL;
}

int nco_npy_write(const char *path, const nco_array *a) {
  if (!path || !*path) return nco_error(NCO_ERR_INVALID, "nco_npy_write: empty path");
  if (!a) return nco_error(NCO_ERR_INVALID, "%s: nco_npy_write: NULL array", path);
  const char *descr = descr_of(a->dtype);
  if (!descr) return nco_error(NCO_ERR_INVALID, "%s: cannot write: invalid dtype %d", path, (int)a->dtype);
  if (a->ndim > NCO_ARRAY_MAX_DIMS)
    return nco_error(NCO_ERR_INVALID, "%s: cannot write: invalid ndim %zu", path, a->ndim);
  size_t size = 1, bytes;
  for (size_t i = 0; i < a->ndim; i++)
    if (nco_mul_size(size, a->shape[i], &size))
      return nco_error(NCO_ERR_OVERFLOW, "%s: cannot write: element count overflows size_t", path);
  if (size != a->size)
    return nco_error(NCO_ERR_INVALID, "%s: cannot write: array size %zu does not match its shape (%zu elements)",
                     path, a->size, size);
  if (nco_mul_size(size, nco_dtype_size(a->dtype), &bytes))
    return nco_error(NCO_ERR_OVERFLOW, "%s: cannot write: byte count overflows size_t", path);
  if (bytes && !a->data) return nco_error(NCO_ERR_INVALID, "%s: cannot write: array has no data", path);

  /* Header dict exactly as numpy writes it (keys sorted, trailing ", "). */
  char sb[256], dict[512];
  nco_array_shape_str(a, sb, sizeof sb);
  int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sb);
  if (dl < 0 || (size_t)dl >= sizeof dict)
    return nco_error(NCO_ERR_INVALID, "%s: cannot write: header too long", path);
  /* numpy's _wrap_header: dict + spaces + '\n' so that magic + version +
   * length field + header is a multiple of 64 bytes; version 2.0 (4-byte
   * length) only if the header does not fit in 65535 bytes. */
  size_t prelen = 10;
  size_t hlen = (size_t)dl + 1;
  hlen += (NPY_ALIGN - (prelen + hlen) % NPY_ALIGN) % NPY_ALIGN;
  if (hlen > 65535) {
    prelen = 12;
    hlen = (size_t)dl + 1;
    hlen += (NPY_ALIGN - (prelen + hlen) % NPY_ALIGN) % NPY_ALIGN;
  }
  unsigned char pre[12];
  memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
  pre[6] = prelen == 10 ? 1 : 2;
  pre[7] = 0;
  for (size_t k = 0; k < prelen - 8; k++) pre[8 + k] = (unsigned char)(hlen >> (8 * k));

  int st = NCO_OK;
  size_t plen = strlen(path);
  static const char suffix[] = ".tmp.XXXXXX";
  char *tmp = malloc(plen + sizeof suffix);
  FILE *f = NULL;
  int fd = -1, created = 0;
  if (!tmp) return nco_error(NCO_ERR_NOMEM, "%s: cannot allocate the temporary file name", path);
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, suffix, sizeof suffix);
  fd = mkstemp(tmp);
  if (fd < 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot create temporary file %s: %s", path, tmp, strerror(errno));
    goto fail;
  }
  created = 1;
  /* mkstemp makes the file 0600: give it the mode of the file it replaces,
   * or the one a plain fopen would (0666 minus the umask). */
  struct stat old;
  mode_t mode = (stat(path, &old) == 0 && S_ISREG(old.st_mode)) ? (old.st_mode & 07777)
                                                                : (0666 & ~current_umask());
  (void)fchmod(fd, mode);
  f = fdopen(fd, "wb");
  if (!f) {
    st = nco_error(NCO_ERR_IO, "%s: cannot open temporary file %s: %s", path, tmp, strerror(errno));
    goto fail;
  }
  fd = -1; /* owned by f now */
  int werr = fwrite(pre, 1, prelen, f) != prelen || fwrite(dict, 1, (size_t)dl, f) != (size_t)dl;
  for (size_t k = (size_t)dl + 1; !werr && k < hlen; k++) werr = fputc(' ', f) == EOF;
  if (!werr) werr = fputc('\n', f) == EOF;
  if (!werr) werr = write_le(f, a->data, size, nco_dtype_size(a->dtype)) != 0;
  if (werr || fflush(f) != 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot write temporary file %s: %s", path, tmp, strerror(errno));
    goto fail;
  }
  if (fsync(fileno(f)) != 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot fsync temporary file %s: %s", path, tmp, strerror(errno));
    goto fail;
  }
  int cerr = fclose(f);
  f = NULL;
  if (cerr != 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot close temporary file %s: %s", path, tmp, strerror(errno));
    goto fail;
  }
  if (rename(tmp, path) != 0) {
    st = nco_error(NCO_ERR_IO, "%s: cannot rename %s to it: %s", path, tmp, strerror(errno));
    goto fail;
  }
  sync_parent_dir(path);
  free(tmp);
  return NCO_OK;

fail:
  if (f) fclose(f);
  if (fd >= 0) close(fd);
  if (created) unlink(tmp);
  free(tmp);
  return st;
}

int nco_npy_write_f32(const char *path, const float *data, size_t ndim, const size_t *shape) {
  const char *nm = path && *path ? path : "nco_npy_write_f32";
  if (ndim > NCO_ARRAY_MAX_DIMS)
    return nco_error(NCO_ERR_INVALID, "%s: cannot write: %zu dimensions, at most %d", nm, ndim,
                     NCO_ARRAY_MAX_DIMS);
  if (ndim && !shape) return nco_error(NCO_ERR_INVALID, "%s: cannot write: NULL shape", nm);
  /* A view of the caller's buffer; nco_npy_write only reads it. */
  nco_array v;
  memset(&v, 0, sizeof v);
  v.dtype = NCO_DTYPE_F32;
  v.ndim = ndim;
  v.size = 1;
  for (size_t i = 0; i < ndim; i++) {
    v.shape[i] = shape[i];
    if (nco_mul_size(v.size, shape[i], &v.size))
      return nco_error(NCO_ERR_OVERFLOW, "%s: cannot write: element count overflows size_t", nm);
  }
  v.data = (void *)data;
  return nco_npy_write(path, &v);
}
