/* Spec files: libinih drives the parsing; this file keeps the entries with
 * their file and line. Debian's libinih is built without
 * INI_HANDLER_LINENO, so the line number is counted in our own reader
 * (ini_parse_stream calls it once per physical line). */
#include "ncopt/spec.h"

#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/status.h"

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

int nco_spec_new(nco_spec **out) {
  nco_spec *s = calloc(1, sizeof *s);
  if (!s || !(s->path = dupstr("")) || !(s->dir = dupstr("."))) {
    nco_spec_free(s);
    *out = NULL;
    return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  }
  *out = s;
  return NCO_OK;
}

static void entry_free(nco_spec_entry *e) {
  free(e->section), free(e->key), free(e->value), free(e->file);
}

void nco_spec_free(nco_spec *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n; i++) entry_free(&s->e[i]);
  free(s->e), free(s->path), free(s->dir), free(s);
}

nco_spec_entry *nco_spec_find(const nco_spec *s, const char *section, const char *key) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->e[i].section, section) && !strcmp(s->e[i].key, key)) return &s->e[i];
  return NULL;
}

const char *nco_spec_where(const nco_spec_entry *e, char *buf, size_t len) {
  if (e->line > 0)
    snprintf(buf, len, "%s:%d", e->file, e->line);
  else
    snprintf(buf, len, "%s", e->file);
  return buf;
}

int nco_spec_put(nco_spec *s, const char *section, const char *key, const char *value,
                 const char *file, int line) {
  nco_spec_entry *e = nco_spec_find(s, section, key);
  if (e) {
    char *v = dupstr(value), *f = dupstr(file);
    if (!v || !f) {
      free(v), free(f);
      return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
    }
    free(e->value), free(e->file);
    e->value = v, e->file = f, e->line = line;
    return NCO_OK;
  }
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 32;
    nco_spec_entry *ne = realloc(s->e, cap * sizeof *ne);
    if (!ne) return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
    s->e = ne, s->cap = cap;
  }
  e = &s->e[s->n];
  memset(e, 0, sizeof *e);
  e->section = dupstr(section), e->key = dupstr(key), e->value = dupstr(value), e->file = dupstr(file);
  e->line = line;
  if (!e->section || !e->key || !e->value || !e->file) {
    entry_free(e);
    return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  }
  s->n++;
  return NCO_OK;
}

typedef struct {
  nco_spec *s;
  const char *name;
  const char *text; /* string source */
  FILE *fp;         /* file source */
  int line;
  int status;       /* first error of our own */
} parse_ctx;

static char *reader(char *str, int num, void *stream) {
  parse_ctx *c = stream;
  if (c->status) return NULL;
  if (c->fp) {
    if (!fgets(str, num, c->fp)) return NULL;
  } else {
    if (!*c->text) return NULL;
    const char *nl = strchr(c->text, '\n');
    size_t len = nl ? (size_t)(nl - c->text) + 1 : strlen(c->text);
    if (len >= (size_t)num) len = (size_t)num - 1;
    memcpy(str, c->text, len);
    str[len] = '\0';
    c->text += len;
  }
  c->line++;
  size_t L = strlen(str);
  if (L == (size_t)num - 1 && str[L - 1] != '\n' && (c->fp ? !feof(c->fp) : *c->text != '\0')) {
    c->status = nco_error(NCO_ERR_FORMAT, "%s:%d: line longer than %d bytes", c->name, c->line,
                          num - 2);
    return NULL;
  }
  return str;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
  parse_ctx *c = user;
  if (c->status) return 0;
  nco_spec_entry *old = nco_spec_find(c->s, section, name);
  if (old) {
    c->status = nco_error(NCO_ERR_FORMAT, "%s:%d: %s%s%s: duplicate key (first set at line %d)", c->name,
                          c->line, section, *section ? "." : "", name, old->line);
    return 0;
  }
  if (!*section) {
    c->status = nco_error(NCO_ERR_FORMAT, "%s:%d: %s: key outside any [section]", c->name, c->line, name);
    return 0;
  }
  int st = nco_spec_put(c->s, section, name, value, c->name, c->line);
  if (st) c->status = st;
  return st == NCO_OK;
}

static int set_path(nco_spec *s, const char *name, const char *dir) {
  free(s->path), free(s->dir);
  s->path = dupstr(name);
  s->dir = dupstr(dir);
  if (!s->path || !s->dir) return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  return NCO_OK;
}

static int parse(parse_ctx *c, nco_spec **out) {
  /* inih's line buffer is INI_MAX_LINE (200) bytes in Debian's build; a
   * longer line would be split silently, so the reader refuses it. */
  int r = ini_parse_stream(reader, c, handler, c);
  if (c->status) return c->status;
  if (r > 0) return nco_error(NCO_ERR_FORMAT, "%s:%d: cannot parse this line (expected [section] or key = value)", c->name, r);
  if (r < 0) return nco_error(NCO_ERR_IO, "%s: cannot read", c->name);
  *out = c->s;
  return NCO_OK;
}

int nco_spec_parse_string(const char *text, const char *name, const char *dir, nco_spec **out) {
  int st;
  nco_spec *s;
  *out = NULL;
  if ((st = nco_spec_new(&s))) return st;
  if ((st = set_path(s, name, dir ? dir : "."))) goto fail;
  parse_ctx c = {.s = s, .name = s->path, .text = text};
  if ((st = parse(&c, out))) goto fail;
  return NCO_OK;
fail:
  nco_spec_free(s);
  *out = NULL;
  return st;
}

int nco_spec_load(const char *path, nco_spec **out) {
  int st;
  nco_spec *s = NULL;
  FILE *fp = NULL;
  *out = NULL;
  fp = fopen(path, "r");
  if (!fp) return nco_error(NCO_ERR_IO, "%s: cannot open spec file", path);
  if ((st = nco_spec_new(&s))) goto done;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash)
    slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
  else
    snprintf(dir, sizeof dir, ".");
  if ((st = set_path(s, path, dir))) goto done;
  parse_ctx c = {.s = s, .name = s->path, .fp = fp};
  st = parse(&c, out);
done:
  if (fp) fclose(fp);
  if (st) nco_spec_free(s);
  return st;
}

int nco_spec_set(nco_spec *s, const char *assignment) {
  const char *eq = strchr(assignment, '='), *dot = strchr(assignment, '.');
  if (!eq || !dot || dot > eq || dot == assignment || dot + 1 == eq)
    return nco_error(NCO_ERR_INVALID, "--set %s: expected section.key=value", assignment);
  char section[128], key[128], value[1024];
  size_t ls = (size_t)(dot - assignment), lk = (size_t)(eq - dot - 1);
  if (ls >= sizeof section || lk >= sizeof key || strlen(eq + 1) >= sizeof value)
    return nco_error(NCO_ERR_INVALID, "--set %s: too long", assignment);
  memcpy(section, assignment, ls), section[ls] = '\0';
  memcpy(key, dot + 1, lk), key[lk] = '\0';
  /* trim spaces around key and value, as inih does for files */
  char *v = (char *)eq + 1;
  while (*v == ' ' || *v == '\t') v++;
  snprintf(value, sizeof value, "%s", v);
  for (size_t L = strlen(value); L && (value[L - 1] == ' ' || value[L - 1] == '\t');) value[--L] = '\0';
  for (size_t L = strlen(key); L && key[L - 1] == ' ';) key[--L] = '\0';
  return nco_spec_put(s, section, key, value, "--set", 0);
}

void nco_spec_drop_section(nco_spec *s, const char *section) {
  size_t w = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (!strcmp(s->e[i].section, section)) {
      entry_free(&s->e[i]);
      continue;
    }
    s->e[w++] = s->e[i];
  }
  s->n = w;
}

int nco_spec_clone(const nco_spec *s, nco_spec **out) {
  int st;
  nco_spec *c;
  *out = NULL;
  if ((st = nco_spec_new(&c))) return st;
  if ((st = set_path(c, s->path, s->dir))) goto fail;
  for (size_t i = 0; i < s->n; i++)
    if ((st = nco_spec_put(c, s->e[i].section, s->e[i].key, s->e[i].value, s->e[i].file, s->e[i].line)))
      goto fail;
  *out = c;
  return NCO_OK;
fail:
  nco_spec_free(c);
  return st;
}

size_t nco_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 63 || lb > 63) return (size_t)-1;
  size_t prev[64], cur[64];
  for (size_t j = 0; j <= lb; j++) prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
      size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
      cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
    }
    memcpy(prev, cur, (lb + 1) * sizeof *prev);
  }
  return prev[lb];
}
