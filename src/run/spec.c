/* Spec files: libinih drives the parsing; this file keeps the entries with
 * their file and line. Debian's libinih is built without
 * INI_HANDLER_LINENO, so the line number is counted in our own reader
 * (ini_parse_stream calls it once per physical line). */
#include "ncopt/spec.h"

#include <errno.h>
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
  for (size_t i = 0; i < s->nsec; i++) free(s->sec[i].name);
  free(s->sec), free(s->e), free(s->path), free(s->dir), free(s);
}

static int add_section(nco_spec *s, const char *name, int line) {
  for (size_t i = 0; i < s->nsec; i++)
    if (!strcmp(s->sec[i].name, name)) return NCO_OK; /* first header wins */
  struct nco_spec_section *ns = realloc(s->sec, (s->nsec + 1) * sizeof *ns);
  if (!ns) return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  s->sec = ns;
  if (!(ns[s->nsec].name = dupstr(name))) return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  ns[s->nsec++].line = line;
  return NCO_OK;
}

nco_spec_entry *nco_spec_find(const nco_spec *s, const char *section, const char *key) {
  for (size_t i = 0; i < s->n; i++)
    if (!strcmp(s->e[i].section, section) && !strcmp(s->e[i].key, key)) return &s->e[i];
  return NULL;
}

const char *nco_spec_where(const nco_spec_entry *e, char *buf, size_t len) {
  snprintf(buf, len, "%s:%d", e->file, e->line > 0 ? e->line : 1);
  return buf;
}

const char *nco_spec_locate(const nco_spec *s, const char *section, const char *key, char *buf, size_t len) {
  const nco_spec_entry *e = key ? nco_spec_find(s, section, key) : NULL;
  if (e) return nco_spec_where(e, buf, len);
  const char *file = s->path && *s->path ? s->path : "spec";
  for (size_t i = 0; i < s->nsec; i++)
    if (!strcmp(s->sec[i].name, section)) {
      snprintf(buf, len, "%s:%d", file, s->sec[i].line);
      return buf;
    }
  snprintf(buf, len, "%s:%d", file, s->nlines > 0 ? s->nlines : 1);
  return buf;
}

int nco_spec_write(const nco_spec *s, FILE *fp) {
  /* sections in order of first appearance */
  for (size_t i = 0; i < s->n; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(s->e[j].section, s->e[i].section);
    if (seen) continue;
    fprintf(fp, "%s[%s]\n", i ? "\n" : "", s->e[i].section);
    for (size_t j = i; j < s->n; j++)
      if (!strcmp(s->e[j].section, s->e[i].section)) fprintf(fp, "%s = %s\n", s->e[j].key, s->e[j].value);
  }
  return ferror(fp) ? nco_error(NCO_ERR_IO, "spec: cannot write") : NCO_OK;
}

/* A value must read back from spec.ini as it was given: no control bytes
 * but tab (a newline would start another line) and no ';' after white
 * space or at its start (inih cuts an inline comment there: spec.ini
 * writes "key = value"). Values from a file cannot hold them; --set and
 * sweep values can. */
static int value_ok(const char *value, const char *file, int line, const char *section, const char *key) {
  for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
    const char *why = NULL;
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f) why = "a control character";
    else if (*p == ';' && (p == (const unsigned char *)value || p[-1] == ' ' || p[-1] == '\t'))
      why = "' ;' (where spec.ini would start an inline comment)";
    if (why)
      return nco_error(NCO_ERR_INVALID, "%s:%d: %s.%s: the value holds %s, which a spec file cannot hold", file, line,
                       section, key, why);
  }
  return NCO_OK;
}

int nco_spec_put(nco_spec *s, const char *section, const char *key, const char *value,
                 const char *file, int line) {
  int st = value_ok(value, file, line, section, key);
  if (st) return st;
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
  if (s->n >= NCO_SPEC_MAX_ENTRIES)
    return nco_error(NCO_ERR_RANGE, "%s:%d: %s.%s: more than %d keys in one spec", file, line, section, key,
                     NCO_SPEC_MAX_ENTRIES);
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
  const char *text; /* what is left to read */
  int line;         /* physical line last handed to inih */
  const char *cur;  /* start of that line in the text */
  size_t curlen;
  char section[128];/* section of the current line */
  int status;       /* first error of our own */
} parse_ctx;

/* Section of a header line "[name]" (else NULL). */
static const char *header_name(const char *line, size_t len, char *out, size_t cap) {
  size_t i = 0;
  while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
  if (i >= len || line[i] != '[') return NULL;
  const char *close = memchr(line + i, ']', len - i);
  if (!close) return NULL;
  size_t n = (size_t)(close - line) - i - 1;
  if (n >= cap) n = cap - 1;
  memcpy(out, line + i + 1, n);
  out[n] = '\0';
  return out;
}

/* inih calls this once per physical line. */
static char *reader(char *str, int num, void *stream) {
  parse_ctx *c = stream;
  if (c->status || !*c->text) return NULL;
  const char *nl = strchr(c->text, '\n');
  size_t len = nl ? (size_t)(nl - c->text) + 1 : strlen(c->text);
  c->line++;
  c->cur = c->text, c->curlen = len;
  size_t body = len - (nl ? 1 : 0);
  if (body && c->text[body - 1] == '\r') body--;
  if (len >= (size_t)num) {
    c->status = nco_error(NCO_ERR_FORMAT, "%s:%d: %s: line longer than %d bytes", c->name, c->line,
                          c->section[0] ? c->section : "spec", num - 2);
    return NULL;
  }
  char hdr[128];
  if (header_name(c->text, body, hdr, sizeof hdr)) {
    snprintf(c->section, sizeof c->section, "%s", hdr);
    if ((c->status = add_section(c->s, hdr, c->line))) return NULL;
  }
  memcpy(str, c->text, len);
  str[len] = '\0';
  c->text += len;
  return str;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
  parse_ctx *c = user;
  if (c->status) return 0;
  nco_spec_entry *old = nco_spec_find(c->s, section, name);
  if (old && c->curlen && (c->cur[0] == ' ' || c->cur[0] == '\t')) {
    /* inih reads an indented line as a continuation of the previous value:
     * the pieces are joined without a separator (spec.ini writes long
     * values, e.g. absolute paths, that way: spec.h) */
    const char *q = value;
    while (*q == '_' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (q > value && *q >= '0' && *q <= '9')) q++;
    if (q > value && (*q == ' ' || *q == '\t') && q[strspn(q, " \t")] == '=') {
      /* "  seed = 4": a key indented by mistake, not a continued value */
      c->status = nco_error(NCO_ERR_FORMAT, "%s:%d: %s%s%s: indented line '%.60s' (an indented line continues the value "
                            "above it; remove the leading spaces)", c->name, c->line, section, *section ? "." : "", name,
                            value);
      return 0;
    }
    if (old != &c->s->e[c->s->n - 1]) {
      c->status = nco_error(NCO_ERR_FORMAT, "%s:%d: %s%s%s: an indented line continues the key above it, not this one",
                            c->name, c->line, section, *section ? "." : "", name);
      return 0;
    }
    size_t a = strlen(old->value), b = strlen(value);
    char *v = realloc(old->value, a + b + 1);
    if (!v) {
      c->status = nco_error(NCO_ERR_NOMEM, "spec: out of memory");
      return 0;
    }
    memcpy(v + a, value, b + 1);
    old->value = v;
    return 1;
  }
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

/* The text of physical line k (1-based) of text, trimmed, into out. */
static void line_text(const char *text, int k, char *out, size_t cap, char *section, size_t scap) {
  const char *p = text;
  section[0] = '\0';
  for (int i = 1; i < k && *p; i++) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    header_name(p, len, section, scap);
    p = nl ? nl + 1 : p + len;
  }
  const char *nl = strchr(p, '\n');
  size_t len = nl ? (size_t)(nl - p) : strlen(p);
  while (len && (*p == ' ' || *p == '\t')) p++, len--;
  while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r')) len--;
  if (len >= cap) len = cap - 1;
  memcpy(out, p, len);
  out[len] = '\0';
}

static int parse(parse_ctx *c, nco_spec **out) {
  const char *text = c->text;
  /* inih's line buffer is INI_MAX_LINE (200) bytes in Debian's build; a
   * longer line would be split silently, so the reader refuses it. */
  int r = ini_parse_stream(reader, c, handler, c);
  c->s->nlines = c->line;
  if (c->status) return c->status;
  if (r > 0) {
    char bad[160], sec[128];
    line_text(text, r, bad, sizeof bad, sec, sizeof sec);
    return nco_error(NCO_ERR_FORMAT, "%s:%d: %s: cannot parse '%s' (expected [section] or key = value)", c->name, r,
                     sec[0] ? sec : "spec", bad);
  }
  if (r < 0) return nco_error(NCO_ERR_IO, "%s:1: spec: cannot read", c->name);
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
  *out = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp) return nco_error(NCO_ERR_IO, "%s:1: spec: cannot open the spec file: %s", path, strerror(errno));
  /* specs are small: read the whole file, refuse NUL bytes and huge files */
  size_t cap = 1 << 16, n = 0;
  char *text = malloc(cap + 1);
  if (!text) {
    fclose(fp);
    return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  }
  for (size_t got; (got = fread(text + n, 1, cap - n, fp)) > 0;) {
    n += got;
    if (n == cap) {
      if (cap >= NCO_SPEC_MAX_BYTES) {
        free(text), fclose(fp);
        return nco_error(NCO_ERR_FORMAT, "%s:1: spec: file of %d bytes or more; a spec is at most %d", path,
                         NCO_SPEC_MAX_BYTES, NCO_SPEC_MAX_BYTES - 1);
      }
      char *t = realloc(text, 2 * cap + 1);
      if (!t) {
        free(text), fclose(fp);
        return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
      }
      text = t, cap *= 2;
    }
  }
  int rerr = ferror(fp);
  fclose(fp);
  if (rerr) {
    free(text);
    return nco_error(NCO_ERR_IO, "%s:1: spec: cannot read", path);
  }
  text[n] = '\0';
  if (strlen(text) != n) {
    free(text);
    return nco_error(NCO_ERR_FORMAT, "%s:1: spec: contains NUL bytes; not a text file", path);
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash)
    slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
  else
    snprintf(dir, sizeof dir, ".");
  st = nco_spec_parse_string(text, path, dir, out);
  free(text);
  return st;
}

const char *nco_spec_key_dot(const char *q, const char *end) {
  const char *dot = strchr(q, '.');
  if (!dot || (end && dot > end)) return NULL;
  /* a parameter group's key: group.NAME.KEY (the section is "group.NAME") */
  const char *second = !strncmp(q, "group.", 6) ? strchr(q + 6, '.') : NULL;
  return second && (!end || second < end) ? second : dot;
}

int nco_spec_set(nco_spec *s, const char *assignment) {
  int k = ++s->nsets;
  const char *eq = strchr(assignment, '='), *dot = nco_spec_key_dot(assignment, eq);
  if (!eq || !dot || dot > eq || dot == assignment || dot + 1 == eq) {
    size_t L = eq ? (size_t)(eq - assignment) : strlen(assignment);
    return nco_error(NCO_ERR_INVALID, "--set:%d: %.*s: expected --set section.key=value (got '%s')", k,
                     (int)(L ? L : 1), L ? assignment : "?", assignment);
  }
  char section[128], key[128], value[1024];
  size_t ls = (size_t)(dot - assignment), lk = (size_t)(eq - dot - 1);
  if (ls >= sizeof section || lk >= sizeof key || strlen(eq + 1) >= sizeof value)
    return nco_error(NCO_ERR_INVALID, "--set:%d: %.*s: too long", k, (int)(eq - assignment), assignment);
  memcpy(section, assignment, ls), section[ls] = '\0';
  memcpy(key, dot + 1, lk), key[lk] = '\0';
  /* trim spaces around key and value, as inih does for files */
  char *v = (char *)eq + 1;
  while (*v == ' ' || *v == '\t') v++;
  snprintf(value, sizeof value, "%s", v);
  for (size_t L = strlen(value); L && (value[L - 1] == ' ' || value[L - 1] == '\t');) value[--L] = '\0';
  for (size_t L = strlen(key); L && key[L - 1] == ' ';) key[--L] = '\0';
  return nco_spec_put(s, section, key, value, "--set", k);
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

void nco_spec_unset(nco_spec *s, const char *section, const char *key) {
  size_t w = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (!strcmp(s->e[i].section, section) && !strcmp(s->e[i].key, key)) {
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
  c->nlines = s->nlines, c->nsets = s->nsets;
  for (size_t i = 0; i < s->nsec; i++)
    if ((st = add_section(c, s->sec[i].name, s->sec[i].line))) goto fail;
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
