/* CSV files of numbers: a header of column names, one sample per line.
 *
 * The whole file is read into memory and parsed in two passes over it:
 * the first validates the header and counts the data rows, the second
 * checks each row's cell count and parses its numbers straight into the
 * float32 outputs. Commas inside quotes are not supported (no numeric CSV
 * needs them); a cell or name wrapped in double quotes has them removed.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/data.h"
#include "ncopt/status.h"
#include "ncopt/vec.h"

/* Smallest magnitude that rounds to ±inf in float32 (as in array.c). */
#define CSV_F32_OVERFLOW_LIMIT ((double)FLT_MAX + 0x1p103)

typedef struct span {
  const char *s; /* first character */
  size_t n;      /* length */
} span;

/* Whole file into a NUL-terminated buffer. */
static int slurp(const char *path, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  errno = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0, k;
  char *b = malloc(cap);
  int st = NCO_OK;
  if (!b) {
    st = nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, cap);
    goto done;
  }
  while ((k = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += k;
    if (n == cap - 1) {
      size_t nc;
      if (nco_mul_size(cap, 2, &nc)) {
        st = nco_error(NCO_ERR_OVERFLOW, "%s: file too large", path);
        goto done;
      }
      char *q = realloc(b, nc);
      if (!q) {
        st = nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, nc);
        goto done;
      }
      b = q;
      cap = nc;
    }
  }
  if (ferror(f)) {
    st = nco_error(NCO_ERR_IO, "%s: read error: %s", path, strerror(errno));
    goto done;
  }
  b[n] = '\0';
  *out = b;
  *len = n;
  b = NULL;
done:
  free(b);
  fclose(f);
  return st;
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Trims blanks and one pair of surrounding double quotes. */
static span trim(span c) {
  while (c.n && is_blank(c.s[0])) c.s++, c.n--;
  while (c.n && is_blank(c.s[c.n - 1])) c.n--;
  if (c.n >= 2 && c.s[0] == '"' && c.s[c.n - 1] == '"') c.s++, c.n -= 2;
  return c;
}

/* Next line starting at *pos: without its '\n' and a final '\r'. Returns 0
 * at the end of the buffer. */
static int next_line(const char *buf, size_t len, size_t *pos, span *line) {
  if (*pos >= len) return 0;
  const char *s = buf + *pos;
  const char *nl = memchr(s, '\n', len - *pos);
  size_t n = nl ? (size_t)(nl - s) : len - *pos;
  *pos += n + (nl ? 1 : 0);
  if (n && s[n - 1] == '\r') n--;
  line->s = s;
  line->n = n;
  return 1;
}

static int line_blank(span l) {
  for (size_t i = 0; i < l.n; i++)
    if (!is_blank(l.s[i])) return 0;
  return 1;
}

static size_t count_cells(span l) {
  size_t c = 1;
  for (size_t i = 0; i < l.n; i++) c += l.s[i] == ',';
  return c;
}

/* A cell's text for a message: printable ASCII, cut at 40 characters. */
static const char *show(span c, char *buf, size_t len) {
  size_t j = 0;
  for (; j < c.n && j + 1 < len && j < 40; j++) {
    unsigned char ch = (unsigned char)c.s[j];
    buf[j] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
  }
  buf[j] = '\0';
  if (j < c.n && j >= 3) memcpy(buf + j - 3, "...", 3);
  return buf;
}

int nco_csv_read(const char *path, const char *label, nco_array *features, nco_array *labels) {
  if (!features) return nco_error(NCO_ERR_INVALID, "nco_csv_read: NULL features array");
  memset(features, 0, sizeof *features);
  if (labels) memset(labels, 0, sizeof *labels);
  if (!path || !*path) return nco_error(NCO_ERR_INVALID, "nco_csv_read: empty path");
  if (label && !labels)
    return nco_error(NCO_ERR_INVALID, "%s: label column \"%s\" requested but no labels array",
                     path, label);

  char *buf = NULL;
  size_t len = 0;
  span *names = NULL;
  size_t *seen = NULL;
  int st = slurp(path, &buf, &len);
  if (st) return st;

  size_t pos = 0, lineno = 0, header_line = 0;
  if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) pos = 3; /* UTF-8 byte order mark */

  /* Header: the first non-blank line. */
  span line = {0};
  int found = 0;
  while (next_line(buf, len, &pos, &line)) {
    lineno++;
    if (!line_blank(line)) {
      found = 1;
      break;
    }
  }
  if (!found) {
    st = nco_error(NCO_ERR_FORMAT, "%s:1:1: empty file: expected a header line of column names",
                   path);
    goto done;
  }
  header_line = lineno;
  size_t ncols = count_cells(line), label_col = (size_t)-1;
  names = calloc(ncols, sizeof *names);
  /* duplicate names by an open-addressing hash set of column indices (a
   * pairwise check is O(columns²): 80 000 columns took 3 s) */
  size_t hcap = 16;
  while (hcap < 2 * ncols) hcap *= 2;
  seen = malloc(hcap * sizeof *seen);
  if (!names || !seen) {
    st = nco_error(NCO_ERR_NOMEM, "%s: cannot allocate %zu column names", path, ncols);
    goto done;
  }
  memset(seen, 0xff, hcap * sizeof *seen);
  {
    const char *s = line.s, *end = line.s + line.n;
    for (size_t j = 0; j < ncols; j++) {
      const char *e = memchr(s, ',', (size_t)(end - s));
      if (!e) e = end;
      span c = trim((span){s, (size_t)(e - s)});
      size_t col = (size_t)(s - line.s) + 1;
      char nb[64];
      if (c.n == 0) {
        st = nco_error(NCO_ERR_FORMAT, "%s:%zu:%zu: header: column %zu has an empty name", path,
                       lineno, col, j + 1);
        goto done;
      }
      uint64_t h = 1469598103934665603ull; /* FNV-1a */
      for (size_t b = 0; b < c.n; b++) h = (h ^ (unsigned char)c.s[b]) * 1099511628211ull;
      size_t slot = (size_t)h & (hcap - 1);
      for (; seen[slot] != (size_t)-1; slot = (slot + 1) & (hcap - 1)) {
        size_t k = seen[slot];
        if (names[k].n == c.n && memcmp(names[k].s, c.s, c.n) == 0) {
          st = nco_error(NCO_ERR_FORMAT,
                         "%s:%zu:%zu: header: duplicate column name \"%s\" (columns %zu and %zu)",
                         path, lineno, col, show(c, nb, sizeof nb), k + 1, j + 1);
          goto done;
        }
      }
      seen[slot] = j;
      names[j] = c;
      if (label && strlen(label) == c.n && memcmp(label, c.s, c.n) == 0) label_col = j;
      s = e + 1;
    }
  }
  if (label && label_col == (size_t)-1) {
    char list[512];
    size_t lp = 0;
    list[0] = '\0';
    for (size_t j = 0; j < ncols && lp + 1 < sizeof list; j++) {
      char nb[64];
      int w = snprintf(list + lp, sizeof list - lp, "%s\"%s\"", j ? ", " : "",
                       show(names[j], nb, sizeof nb));
      if (w < 0) break;
      lp = (size_t)w >= sizeof list - lp ? sizeof list - 1 : lp + (size_t)w;
    }
    st = nco_error(NCO_ERR_FORMAT, "%s:%zu:1: no label column named \"%s\"; the columns are %s",
                   path, lineno, label, list);
    goto done;
  }
  size_t d = ncols - (label ? 1 : 0);
  if (d == 0) {
    st = nco_error(NCO_ERR_FORMAT, "%s:%zu:1: no feature columns: the only column is the label",
                   path, lineno);
    goto done;
  }

  /* Pass 1: count the data rows. */
  size_t data_start = pos, n = 0;
  while (next_line(buf, len, &pos, &line))
    if (!line_blank(line)) n++;
  if (n == 0) {
    st = nco_error(NCO_ERR_FORMAT, "%s:%zu:1: no data rows after the header", path, lineno + 1);
    goto done;
  }
  size_t xshape[2] = {n, d};
  if ((st = nco_array_alloc(features, NCO_DTYPE_F32, 2, xshape, path))) goto done;
  if (label && (st = nco_array_alloc(labels, NCO_DTYPE_F32, 1, &n, path))) goto done;

  /* Pass 2: parse. */
  float *x = features->data, *y = label ? labels->data : NULL;
  pos = data_start;
  lineno = header_line;
  size_t i = 0;
  while (next_line(buf, len, &pos, &line)) {
    lineno++;
    if (line_blank(line)) continue;
    size_t cells = count_cells(line);
    if (cells != ncols) {
      /* Point at the first extra cell, or at the end of a short row. */
      size_t col = line.n + 1;
      if (cells > ncols) {
        size_t commas = 0;
        for (size_t k = 0; k < line.n; k++)
          if (line.s[k] == ',' && ++commas == ncols) {
            col = k + 2;
            break;
          }
      }
      st = nco_error(NCO_ERR_FORMAT, "%s:%zu:%zu: row has %zu cells, the header (line %zu) has %zu",
                     path, lineno, col, cells, header_line, ncols);
      goto done;
    }
    const char *s = line.s, *end = line.s + line.n;
    size_t jx = 0;
    for (size_t j = 0; j < ncols; j++) {
      const char *e = memchr(s, ',', (size_t)(end - s));
      if (!e) e = end;
      span c = trim((span){s, (size_t)(e - s)});
      size_t col = (size_t)(c.s - line.s) + 1;
      char nb[64], cb[64];
      if (c.n == 0) {
        st = nco_error(NCO_ERR_FORMAT, "%s:%zu:%zu: column \"%s\": empty cell", path, lineno,
                       (size_t)(s - line.s) + 1, show(names[j], nb, sizeof nb));
        goto done;
      }
      /* strtod stops at the cell's end: ',', '"', '\r', '\n' and blanks
       * cannot continue a number, and c.s does not start with a blank. */
      char *stop = NULL;
      errno = 0;
      double v = strtod(c.s, &stop);
      if (stop != c.s + c.n) {
        st = nco_error(NCO_ERR_FORMAT, "%s:%zu:%zu: column \"%s\": \"%s\" is not a number", path,
                       lineno, col, show(names[j], nb, sizeof nb), show(c, cb, sizeof cb));
        goto done;
      }
      if (!isfinite(v) || !(fabs(v) < CSV_F32_OVERFLOW_LIMIT)) {
        st = nco_error(NCO_ERR_RANGE,
                       "%s:%zu:%zu: column \"%s\": \"%s\" is not a finite float32 value", path,
                       lineno, col, show(names[j], nb, sizeof nb), show(c, cb, sizeof cb));
        goto done;
      }
      if (j == label_col)
        y[i] = (float)v;
      else
        x[i * d + jx++] = (float)v;
      s = e + 1;
    }
    i++;
  }

done:
  if (st) {
    nco_array_free(features);
    if (labels) nco_array_free(labels);
  }
  free(names), free(seen);
  free(buf);
  return st;
}
