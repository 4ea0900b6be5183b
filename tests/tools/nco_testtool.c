/* nco_testtool — small helpers for the shell tests (tests/test_*.sh), so
 * that they need nothing beyond bash, awk and coreutils (no Python at test
 * time). Not part of ncopt: it reads .npy through libncopt's reader (itself
 * tested against numpy-written fixtures in test_npy) and JSON through a
 * minimal parser of its own.
 *
 *   nco_testtool json FILE KEY[.KEY...]    print a value (numbers %.17g; true/false; null; strings raw)
 *   nco_testtool npy-shape FILE            "<f4 (8,)" / "<f8 (3, 2)"
 *   nco_testtool npy-values FILE           every value, one per line (%.17g)
 *   nco_testtool npy-write FILE f4|f8 SHAPE V...   write a C-order array ("4,3"; "" for a scalar)
 *   nco_testtool csv-col FILE NAME         one column of a CSV with a header, one value per line
 *   nco_testtool complete-rows FILE        exit 0 iff every line ends in \n, has the header's field
 *                                          count, and the first field strictly increases
 *   nco_testtool ckpt-set FILE FIELD V     forge a checkpoint (version 3) as an attacker would: set
 *                                          sl (the spec's length) | t | samples | pos | n | perm0 |
 *                                          best_iter | flags | win_n to the
 *                                          integer V, path (the path length) to the number V,
 *                                          theta0 (its first value) to the float V,
 *                                          integer V, rng to "zero", or tailK (the double K bytes
 *                                          before the end: the optimiser's last state doubles) to
 *                                          the number V, and fix the CRC-32 so that only ncopt's
 *                                          field validation can catch it
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "ncopt/ncopt.h"
#include "testlib.h"


/* ---- minimal JSON: skip or descend ---- */
static const char *ws(const char *p) {
  while (*p && isspace((unsigned char)*p)) p++;
  return p;
}
static const char *skip_value(const char *p);
static const char *skip_string(const char *p) {
  p++;
  while (*p && *p != '"') p += (*p == '\\' && p[1]) ? 2 : 1;
  return *p ? p + 1 : p;
}
static const char *skip_value(const char *p) {
  p = ws(p);
  if (*p == '"') return skip_string(p);
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = ws(p + 1);
    while (*p && *p != close) {
      p = skip_value(p);
      p = ws(p);
      if (*p == ':' || *p == ',') p = ws(p + 1);
    }
    return *p ? p + 1 : p;
  }
  while (*p && *p != ',' && *p != '}' && *p != ']' && !isspace((unsigned char)*p)) p++;
  return p;
}
/* value of key (len k) in the object at p, or NULL */
static const char *find_key(const char *p, const char *key, size_t k) {
  p = ws(p);
  if (*p != '{') return NULL;
  p = ws(p + 1);
  while (*p == '"') {
    const char *ks = p + 1, *ke = skip_string(p) - 1;
    p = ws(skip_string(p));
    if (*p != ':') return NULL;
    p = ws(p + 1);
    if ((size_t)(ke - ks) == k && !strncmp(ks, key, k)) return p;
    p = ws(skip_value(p));
    if (*p == ',') p = ws(p + 1);
  }
  return NULL;
}

static int cmd_json(const char *file, const char *path) {
  char *b = nco_test_slurp(file, NULL);
  if (!b) return fprintf(stderr, "json: cannot read %s\n", file), 2;
  const char *p = b;
  while (p && *path) {
    const char *dot = strchr(path, '.');
    size_t k = dot ? (size_t)(dot - path) : strlen(path);
    p = find_key(p, path, k);
    path += k + (dot ? 1 : 0);
  }
  if (!p) {
    free(b);
    return fprintf(stderr, "json: no such key in %s\n", file), 1;
  }
  p = ws(p);
  if (*p == '"') {
    const char *e = skip_string(p) - 1;
    printf("%.*s\n", (int)(e - p - 1), p + 1);
  } else if (!strncmp(p, "true", 4) || !strncmp(p, "false", 5) || !strncmp(p, "null", 4)) {
    printf("%s\n", !strncmp(p, "true", 4) ? "true" : !strncmp(p, "false", 5) ? "false" : "null");
  } else if (*p == '{' || *p == '[') {
    const char *e = skip_value(p);
    printf("%.*s\n", (int)(e - p), p);
  } else {
    printf("%.17g\n", strtod(p, NULL));
  }
  free(b);
  return 0;
}

static int read_npy(const char *file, nco_array *a) {
  if (nco_npy_read(file, a)) return fprintf(stderr, "npy: %s\n", nco_last_error()), 1;
  return 0;
}

static int cmd_npy_shape(const char *file) {
  nco_array a = {0};
  if (read_npy(file, &a)) return 1;
  const char *d = a.dtype == NCO_DTYPE_F32 ? "<f4" : a.dtype == NCO_DTYPE_F64 ? "<f8" : nco_dtype_name(a.dtype);
  printf("%s (", d);
  for (size_t i = 0; i < a.ndim; i++) printf("%s%zu", i ? ", " : "", a.shape[i]);
  printf("%s)\n", a.ndim == 1 ? "," : "");
  nco_array_free(&a);
  return 0;
}

static int cmd_npy_values(const char *file) {
  nco_array a = {0};
  if (read_npy(file, &a)) return 1;
  for (size_t i = 0; i < a.size; i++) {
    double v = a.dtype == NCO_DTYPE_F32   ? ((float *)a.data)[i]
               : a.dtype == NCO_DTYPE_F64 ? ((double *)a.data)[i]
               : a.dtype == NCO_DTYPE_I32 ? ((int *)a.data)[i]
               : a.dtype == NCO_DTYPE_I64 ? (double)((long long *)a.data)[i]
                                          : ((unsigned char *)a.data)[i];
    printf("%.17g\n", v);
  }
  nco_array_free(&a);
  return 0;
}

static int cmd_npy_write(int argc, char **argv) {
  if (argc < 3) return fprintf(stderr, "npy-write FILE f4|f8 SHAPE V...\n"), 2;
  nco_array a = {0};
  size_t shape[NCO_ARRAY_MAX_DIMS], nd = 0;
  for (const char *s = argv[2]; *s;) {
    if (nd == NCO_ARRAY_MAX_DIMS) return 2;
    shape[nd++] = strtoul(s, (char **)&s, 10);
    if (*s == ',') s++;
  }
  nco_dtype t = !strcmp(argv[1], "f8") ? NCO_DTYPE_F64 : NCO_DTYPE_F32;
  if (nco_array_alloc(&a, t, nd, shape, NULL)) return fprintf(stderr, "npy-write: %s\n", nco_last_error()), 1;
  if ((size_t)(argc - 3) != a.size) {
    nco_array_free(&a);
    return fprintf(stderr, "npy-write: %d values for %zu entries\n", argc - 3, a.size), 2;
  }
  for (size_t i = 0; i < a.size; i++) {
    double v = strtod(argv[3 + i], NULL);
    if (t == NCO_DTYPE_F64) ((double *)a.data)[i] = v;
    else ((float *)a.data)[i] = (float)v;
  }
  int st = nco_npy_write(argv[0], &a);
  nco_array_free(&a);
  if (st) return fprintf(stderr, "npy-write: %s\n", nco_last_error()), 1;
  return 0;
}

static int cmd_csv_col(const char *file, const char *name) {
  FILE *fp = fopen(file, "r");
  if (!fp) return fprintf(stderr, "csv-col: cannot read %s\n", file), 2;
  char *line = NULL;
  size_t cap = 0;
  long col = -1;
  if (getline(&line, &cap, fp) > 0) {
    long i = 0;
    for (char *s = line;; i++) {
      size_t L = strcspn(s, ",\n");
      if (L == strlen(name) && !strncmp(s, name, L)) col = i;
      if (s[L] != ',') break;
      s += L + 1;
    }
  }
  if (col < 0) {
    free(line), fclose(fp);
    return fprintf(stderr, "csv-col: no column %s in %s\n", name, file), 1;
  }
  while (getline(&line, &cap, fp) > 0) {
    char *s = line;
    for (long i = 0; i < col && s; i++) s = strchr(s, ',') ? strchr(s, ',') + 1 : NULL;
    if (!s) continue;
    printf("%.*s\n", (int)strcspn(s, ",\n"), s);
  }
  free(line);
  fclose(fp);
  return 0;
}

static int cmd_complete_rows(const char *file) {
  size_t n;
  char *b = nco_test_slurp(file, &n);
  if (!b) return fprintf(stderr, "complete-rows: cannot read %s\n", file), 2;
  int rc = 0;
  if (!n || b[n - 1] != '\n') {
    fprintf(stderr, "complete-rows: last line is incomplete\n");
    rc = 1;
  }
  long nf = -1;
  double last = -INFINITY;
  int first = 1;
  for (char *s = b; rc == 0 && *s;) {
    char *e = strchr(s, '\n');
    if (!e) break;
    long f = 0;
    for (char *c = s; c < e; c++) f += *c == ',';
    if (nf < 0) nf = f;
    else if (f != nf) {
      fprintf(stderr, "complete-rows: a row has %ld fields, the header %ld\n", f + 1, nf + 1);
      rc = 1;
    }
    if (!first) {
      double it = strtod(s, NULL);
      if (!(it > last)) {
        fprintf(stderr, "complete-rows: iteration %g does not increase\n", it);
        rc = 1;
      }
      last = it;
    }
    first = 0;
    s = e + 1;
  }
  free(b);
  return rc;
}

/* The payload layout of src/run/run.c checkpoint_write (version 3). */
static int cmd_ckpt_set(const char *path, const char *field, const char *val) {
  size_t len;
  unsigned char *b = (unsigned char *)nco_test_slurp(path, &len);
  if (!b || len < 32) return fprintf(stderr, "ckpt-set: cannot read %s\n", path), 1;
  uint64_t sl, n;
  size_t o = 24;
  memcpy(&sl, b + o, 8);
  if (sl > len) return fprintf(stderr, "ckpt-set: bad spec length\n"), 1;
  size_t at_t = o + 8 + sl, at_n = at_t + 24;
  memcpy(&n, b + at_n, 8);
  size_t at_perm = at_n + 8, at_rng = at_perm + 8 * n, at_best_iter = at_rng + sizeof(nco_rng) + 32;
  size_t off = 0;
  if (!strcmp(field, "sl")) off = 24;
  else if (!strcmp(field, "t")) off = at_t;
  else if (!strcmp(field, "samples")) off = at_t + 8;
  else if (!strcmp(field, "pos")) off = at_t + 16;
  else if (!strcmp(field, "n")) off = at_n;
  else if (!strcmp(field, "perm0")) off = at_perm;
  else if (!strcmp(field, "best_iter")) off = at_best_iter;
  else if (!strcmp(field, "flags")) off = at_best_iter + 8;
  else if (!strcmp(field, "rng")) off = at_rng;
  else if (!strcmp(field, "win_n")) off = at_best_iter + 32;
  else if (!strcmp(field, "path")) off = at_rng + sizeof(nco_rng);
  else if (!strcmp(field, "theta0")) off = at_best_iter + 112;
  else if (!strncmp(field, "tail", 4) && strtoul(field + 4, NULL, 10) >= 8 && strtoul(field + 4, NULL, 10) < len)
    off = len - strtoul(field + 4, NULL, 10);
  else return fprintf(stderr, "ckpt-set: unknown field %s\n", field), 2;
  if (off + (strncmp(field, "tail", 4) ? sizeof(nco_rng) : 8) > len)
    return fprintf(stderr, "ckpt-set: %s is past the end\n", field), 1;
  if (!strcmp(field, "rng")) {
    memset(b + off, 0, 32); /* the four xoshiro words */
  } else if (!strncmp(field, "tail", 4) || !strcmp(field, "path")) {
    double v = strtod(val, NULL);
    memcpy(b + off, &v, 8);
  } else if (!strcmp(field, "theta0")) {
    float v = strtof(val, NULL);
    memcpy(b + off, &v, 4);
  } else {
    uint64_t v = strtoull(val, NULL, 10);
    memcpy(b + off, &v, 8);
  }
  uint32_t crc = (uint32_t)crc32(crc32(0L, NULL, 0), b + 24, (uInt)(len - 24));
  memcpy(b + 12, &crc, 4);
  FILE *fp = fopen(path, "wb");
  int rc = !fp || fwrite(b, 1, len, fp) != len;
  if (fp) rc |= fclose(fp) != 0;
  free(b);
  return rc;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "json")) return cmd_json(argv[2], argv[3]);
  if (argc == 3 && !strcmp(argv[1], "npy-shape")) return cmd_npy_shape(argv[2]);
  if (argc == 3 && !strcmp(argv[1], "npy-values")) return cmd_npy_values(argv[2]);
  if (argc >= 4 && !strcmp(argv[1], "npy-write")) return cmd_npy_write(argc - 2, argv + 2);
  if (argc == 4 && !strcmp(argv[1], "csv-col")) return cmd_csv_col(argv[2], argv[3]);
  if (argc == 3 && !strcmp(argv[1], "complete-rows")) return cmd_complete_rows(argv[2]);
  if (argc == 5 && !strcmp(argv[1], "ckpt-set")) return cmd_ckpt_set(argv[2], argv[3], argv[4]);
  fprintf(stderr, "usage: see the comment at the top of tests/tools/nco_testtool.c\n");
  return 2;
}
