/* Reading ncopt's own output files (ncopt/outputs.h): one CSV table reader
 * and one JSON lookup for the plots, the sweeps and the CLI. */
#include "ncopt/outputs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "ncopt/status.h"

/* ---- CSV --------------------------------------------------------------- */

void nco_table_free(nco_table *t) {
  for (size_t c = 0; c < t->ncol; c++) {
    if (t->names) free(t->names[c]);
    if (t->cols) free(t->cols[c]);
  }
  free(t->names), free(t->cols);
  memset(t, 0, sizeof *t);
}

/* The next comma-separated field of *s (a quoted field may hold commas:
 * sweep.csv's point names), NUL-terminated in place; NULL at the end. */
static char *field(char **s) {
  char *tok = *s;
  if (!tok) return NULL;
  char *e;
  if (*tok == '"') {
    tok++;
    e = strchr(tok, '"');
    if (!e) e = tok + strlen(tok);
    *e = '\0';
    e++;
    e += strcspn(e, ",\n");
  } else {
    e = tok + strcspn(tok, ",\n");
  }
  if (*e == ',') *e = '\0', *s = e + 1;
  else *e = '\0', *s = NULL;
  return tok;
}

static int header(nco_table *t, char *line, const char *path) {
  size_t n = 1;
  for (const char *p = line; *p; p++) n += *p == ',';
  t->names = calloc(n, sizeof *t->names);
  t->cols = calloc(n, sizeof *t->cols);
  if (!t->names || !t->cols) return nco_error(NCO_ERR_NOMEM, "%s: out of memory", path);
  for (char *s = line, *tok; (tok = field(&s));) {
    if (!(t->names[t->ncol] = strdup(tok))) return nco_error(NCO_ERR_NOMEM, "%s: out of memory", path);
    t->ncol++;
  }
  return NCO_OK;
}

static int add_row(nco_table *t, char *line, const char *path) {
  if (t->nrow == t->cap_) {
    size_t nc = t->cap_ ? 2 * t->cap_ : 256;
    for (size_t c = 0; c < t->ncol; c++) {
      double *v = realloc(t->cols[c], nc * sizeof *v);
      if (!v) return nco_error(NCO_ERR_NOMEM, "%s: out of memory", path);
      t->cols[c] = v;
    }
    t->cap_ = nc;
  }
  char *s = line;
  for (size_t c = 0; c < t->ncol; c++) {
    char *tok = field(&s), *e;
    double v = NAN;
    if (tok && *tok) {
      v = strtod(tok, &e);
      if (e == tok) v = NAN; /* a text cell (a sweep's point name, its stop) */
    }
    if (t->cols[c]) t->cols[c][t->nrow] = v;
  }
  t->nrow++;
  return NCO_OK;
}

int nco_table_read(const char *path, nco_table *t) {
  memset(t, 0, sizeof *t);
  FILE *fp = fopen(path, "r");
  if (!fp) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int st = NCO_OK, first = 1;
  while ((errno = 0, n = getline(&line, &cap, fp)) > 0) {
    if (line[n - 1] != '\n') break; /* cut by a kill */
    st = first ? header(t, line, path) : add_row(t, line, path);
    first = 0;
    if (st) break;
  }
  /* getline's −1 is the end of the file or an error: a table must not be
   * read short for want of memory */
  int e = !st && n < 0 && errno && !feof(fp) ? errno : 0;
  free(line);
  fclose(fp);
  if (!st && e) st = (e == ENOMEM ? nco_error(NCO_ERR_NOMEM, "%s: out of memory while reading it", path) : nco_error(NCO_ERR_IO, "%s: cannot read: %s", path, strerror(e)));
  if (!st && first) st = nco_error(NCO_ERR_FORMAT, "%s: empty (no header line)", path);
  if (st) nco_table_free(t);
  return st;
}

const double *nco_table_col(const nco_table *t, const char *name) {
  for (size_t c = 0; c < t->ncol; c++)
    if (!strcmp(t->names[c], name)) return t->cols[c];
  return NULL;
}

/* ---- JSON --------------------------------------------------------------- */

static const char *ws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
  return p;
}

/* The end of the JSON value at p, or NULL if it is not one (depth-capped). */
static const char *skip_value(const char *p, int depth) {
  p = ws(p);
  if (depth > 64) return NULL;
  if (*p == '"') {
    for (p++; *p && *p != '"'; p++)
      if (*p == '\\' && !*++p) return NULL;
    return *p ? p + 1 : NULL;
  }
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
      if (close == '}') {
        if (*p != '"' || !(p = skip_value(p, depth + 1))) return NULL;
        p = ws(p);
        if (*p++ != ':') return NULL;
      }
      if (!(p = skip_value(p, depth + 1))) return NULL;
      p = ws(p);
      if (*p == close) return p + 1;
      if (*p++ != ',') return NULL;
      p = ws(p);
    }
  }
  const char *q = p;
  while (*q && !strchr(",}] \n\t\r", *q)) q++;
  return q > p ? q : NULL;
}

/* The member (object) or element (array) named by the key segment seg of
 * length L inside the value at p; NULL if absent. */
static const char *member(const char *p, const char *seg, size_t L) {
  p = ws(p);
  if (*p == '{') {
    for (p = ws(p + 1); *p == '"';) {
      const char *k = p + 1, *ke = skip_value(p, 0);
      if (!ke) return NULL;
      p = ws(ke);
      if (*p++ != ':') return NULL;
      if ((size_t)(ke - 1 - k) == L && !strncmp(k, seg, L)) return ws(p);
      if (!(p = skip_value(p, 0))) return NULL;
      p = ws(p);
      if (*p == ',') p = ws(p + 1);
    }
    return NULL;
  }
  if (*p == '[') {
    char *e;
    unsigned long idx = strtoul(seg, &e, 10);
    if ((size_t)(e - seg) != L) return NULL;
    p = ws(p + 1);
    for (unsigned long i = 0; *p && *p != ']'; i++) {
      if (i == idx) return p;
      if (!(p = skip_value(p, 0))) return NULL;
      p = ws(p);
      if (*p == ',') p = ws(p + 1);
    }
  }
  return NULL;
}

int nco_json_get(const char *text, const char *key, char *out, size_t len) {
  if (len) out[0] = '\0';
  const char *p = text;
  for (const char *seg = key; p;) {
    size_t L = strcspn(seg, ".");
    p = member(p, seg, L);
    if (!seg[L]) break;
    seg += L + 1;
  }
  const char *e = p ? skip_value(p, 0) : NULL;
  if (!e) return NCO_ERR_INVALID; /* an answer, not a failure: no message (the caller's stays) */
  if (*p == '"') p++, e--; /* a string: its text */
  size_t n = (size_t)(e - p);
  if (n >= len) n = len ? len - 1 : 0;
  if (len) memcpy(out, p, n), out[n] = '\0';
  return NCO_OK;
}

double nco_json_number(const char *path, const char *key) {
  FILE *fp = fopen(path, "r");
  if (!fp) return NAN;
  char *text = NULL;
  size_t cap = 0;
  ssize_t n = getdelim(&text, &cap, '\0', fp);
  fclose(fp);
  double v = NAN;
  char buf[64], *e;
  if (n > 0 && !nco_json_get(text, key, buf, sizeof buf)) {
    double d = strtod(buf, &e);
    if (e != buf && !*e) v = d;
  }
  free(text);
  return v;
}
