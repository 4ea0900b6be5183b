/* ncopt/spec.h — experiment specs: INI text (parsed by libinih) as a list
 * of located key/value entries, with command-line overrides.
 *
 * A spec is only text here; nco_config (config.h) turns it into typed,
 * validated settings. Every entry remembers its file and line so that
 * every later error reads "FILE:LINE: section.key: what is wrong".
 */
#ifndef NCOPT_SPEC_H
#define NCOPT_SPEC_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nco_spec_entry {
  char *section;   /* "" for keys before any [section] */
  char *key;
  char *value;
  char *file;      /* spec file path, or "--set" for overrides */
  int line;        /* 1-based line in file; for overrides, the position of
                      the --set among the overrides (1, 2, ...) */
  int used;        /* set by config when the key is consumed */
} nco_spec_entry;

typedef struct nco_spec {
  nco_spec_entry *e;
  size_t n, cap;
  char *path;      /* the spec file ("" for specs built in memory) */
  char *dir;       /* its directory, for relative data paths ("." if none) */
  int nlines;      /* physical lines in the file */
  int nsets;       /* overrides applied so far (numbers the next --set) */
  struct nco_spec_section { char *name; int line; } *sec; /* [section] headers */
  size_t nsec;
} nco_spec;

/* Limits of a spec: lines of at most 198 bytes (Debian's libinih is built
 * with a 200-byte line buffer; a longer value continues on the following
 * lines, indented, joined without a separator — spec.ini writes absolute
 * paths that way), at most NCO_SPEC_MAX_ENTRIES keys (lookups
 * are linear: a cap keeps resolution fast), files of at most
 * NCO_SPEC_MAX_BYTES. Every limit is an error naming the line. */
#define NCO_SPEC_MAX_ENTRIES 2048
#define NCO_SPEC_MAX_BYTES (1 << 20)

/* Reads and parses an INI file. Errors (cannot open, a line inih cannot
 * parse, a line longer than 198 bytes, more than NCO_SPEC_MAX_ENTRIES keys,
 * a duplicate key) are reported as "FILE:LINE: ...". On error *out is
 * NULL. */
int nco_spec_load(const char *path, nco_spec **out);

/* Parses INI text held in memory; `name` stands for the file in messages
 * and `dir` is the base for relative paths. */
int nco_spec_parse_string(const char *text, const char *name, const char *dir, nco_spec **out);

/* An empty spec. */
int nco_spec_new(nco_spec **out);

void nco_spec_free(nco_spec *s);

/* Applies an override "section.key=value" (from --set); replaces an
 * existing entry or adds one. The entry's origin reads "--set:K" (the K-th
 * override), and so do its errors. */
int nco_spec_set(nco_spec *s, const char *assignment);
/* The dot of "SECTION.KEY" that ends the section (in "group.NAME.KEY",
 * a parameter group's key, the second), or NULL. end: where the name ends
 * (the '=' of an assignment), or NULL for the whole string. */
const char *nco_spec_key_dot(const char *qualified, const char *end);

/* Sets section.key = value directly (origin `file`:`line`). */
int nco_spec_put(nco_spec *s, const char *section, const char *key, const char *value,
                 const char *file, int line);

/* The entry for section.key, or NULL. */
nco_spec_entry *nco_spec_find(const nco_spec *s, const char *section, const char *key);

/* Removes section.key (nothing if it is not set): the key's default applies. */
void nco_spec_unset(nco_spec *s, const char *section, const char *key);

/* Removes every entry of a section (e.g. [sweep] once expanded). */
void nco_spec_drop_section(nco_spec *s, const char *section);

/* Deep copy. */
int nco_spec_clone(const nco_spec *s, nco_spec **out);

/* "FILE:LINE" for an entry ("--set:K" for overrides), into buf. */
const char *nco_spec_where(const nco_spec_entry *e, char *buf, size_t len);

/* "FILE:LINE" for section.key whether or not it is set: the entry's
 * origin, else the line of the [section] header, else the file's last
 * line (where a missing key would be added). */
const char *nco_spec_locate(const nco_spec *s, const char *section, const char *key, char *buf, size_t len);

/* Writes the entries as INI text, grouped by section (for a sweep's
 * spec.ini, which keeps its [sweep] section). */
int nco_spec_write(const nco_spec *s, FILE *fp);

/* Levenshtein distance (for "did you mean"). */
size_t nco_edit_distance(const char *a, const char *b);

#ifdef __cplusplus
}
#endif
#endif
