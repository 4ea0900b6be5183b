/* Parsing a spec value into its field of nco_config: the small parsers
 * (numbers, booleans, choices), range checks of the non-optimizer keys,
 * and the messages "FILE:LINE: section.key ...". */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ncopt/data.h"
#include "ncopt/nn.h"
#include "ncopt/status.h"
#include "run/config_int.h"

/* ---- small parsers -------------------------------------------------- */

NCO_HIDDEN int cfg_word_in(const char *word, const char *list) {
  size_t L = strlen(word);
  for (const char *p = list; p && *p;) {
    const char *e = strchr(p, ' ');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == L && !strncmp(p, word, L)) return 1;
    p = e ? e + 1 : p + n;
  }
  return 0;
}

NCO_HIDDEN int cfg_enum_index(const char *word, const char *list) {
  int i = 0;
  size_t L = strlen(word);
  for (const char *p = list; *p; i++) {
    const char *e = strchr(p, ' ');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == L && !strncmp(p, word, L)) return i;
    if (!e) break;
    p = e + 1;
  }
  return -1;
}

NCO_HIDDEN const char *cfg_enum_name(const char *list, int idx, char *buf, size_t len) {
  const char *p = list;
  for (int i = 0; i < idx && p; i++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return "?";
  const char *e = strchr(p, ' ');
  size_t n = e ? (size_t)(e - p) : strlen(p);
  if (n >= len) n = len - 1;
  memcpy(buf, p, n);
  buf[n] = '\0';
  return buf;
}

NCO_HIDDEN int cfg_parse_double(const char *s, double *out) {
  char *end;
  errno = 0;
  if (!strcmp(s, "inf") || !strcmp(s, "+inf")) return *out = INFINITY, 0;
  if (!strcmp(s, "-inf")) return *out = -INFINITY, 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno == ERANGE || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

NCO_HIDDEN int cfg_parse_u64(const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!*s || *s == '-' || *s == '+' || *s == ' ') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || errno == ERANGE) {
    /* accept exact integers written like 1e4 */
    double d;
    if (cfg_parse_double(s, &d) || d < 0 || d > 1.8e19 || d != floor(d)) return -1;
    *out = (uint64_t)d;
    return 0;
  }
  *out = v;
  return 0;
}

/* true/false, also Python's True/False (torch configs), yes/no, on/off, 1/0 */
NCO_HIDDEN int cfg_parse_bool(const char *s, int *out) {
  if (!strcmp(s, "True")) return *out = 1, 0;
  if (!strcmp(s, "False")) return *out = 0, 0;
  if (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on") || !strcmp(s, "1")) return *out = 1, 0;
  if (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off") || !strcmp(s, "0")) return *out = 0, 0;
  return -1;
}

/* ---- resolution ------------------------------------------------------ */

NCO_HIDDEN int cfg_kerr(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, int st, const char *fmt,
                const char *a, const char *b) {
  char where[1200], msg[600];
  snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
  if (e)
    nco_spec_where(e, where, sizeof where);
  else
    nco_spec_locate(spec, section, name, where, sizeof where);
  return nco_error(st, "%s: %s.%s: %s", where, section, name, msg);
}

NCO_HIDDEN void *cfg_field(nco_config *cfg, const key *k) {
  switch (k->base) {
    case IN_HP: return (char *)&cfg->hp + k->off;
    case IN_SCHED: return (char *)&cfg->sched + k->off;
    default: return (char *)cfg + k->off;
  }
}

static const char *type_for(const nco_config *cfg, const key *k) {
  if (!strcmp(k->section, "optimizer")) return nco_optim_type_name(cfg->optim);
  if (!strcmp(k->section, "schedule")) return nco_schedule_name(cfg->sched.kind);
  return cfg->problem_type;
}

NCO_HIDDEN int cfg_applies(const nco_config *cfg, const key *k) {
  if (k->sources && !cfg_word_in(cfg->data_source, k->sources)) return 0;
  if (!k->applies) return 1;
  return cfg_word_in(type_for(cfg, k), k->applies);
}


/* capacity of a string field */
static size_t str_cap(const key *k) {
  if (k->off == offsetof(nco_config, problem_type) || k->off == offsetof(nco_config, data_source)) return 32;
  if (k->off == offsetof(nco_config, widths_text)) return sizeof ((nco_config *)0)->widths_text;
  if (k->off == offsetof(nco_config, channels_text) || k->off == offsetof(nco_config, blocks_text) ||
      k->off == offsetof(nco_config, convs_text))
    return sizeof ((nco_config *)0)->channels_text;
  if (k->off == offsetof(nco_config, skips_text)) return sizeof ((nco_config *)0)->skips_text;
  if (k->off == offsetof(nco_config, bn_text)) return sizeof ((nco_config *)0)->bn_text;
  if (k->off == offsetof(nco_config, data_label)) return sizeof ((nco_config *)0)->data_label;
  return NCO_PATH_MAX;
}

NCO_HIDDEN int cfg_check_choice(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, const char *v,
                        const char *list);

NCO_HIDDEN int cfg_in_range(const key *k, double d) {
  int lo_ok = k->open & LO_OPEN ? d > k->lo : d >= k->lo;
  int hi_ok = k->open & HI_OPEN ? d < k->hi : d <= k->hi;
  return lo_ok && hi_ok;
}

/* "[0, 1)", "(0, inf)": the key's range in one style for every message */
NCO_HIDDEN const char *cfg_range_text(const key *k, char *buf, size_t len) {
  char lo[32], hi[32];
  if (isinf(k->lo)) snprintf(lo, sizeof lo, "%sinf", k->lo < 0 ? "-" : "");
  else snprintf(lo, sizeof lo, "%g", k->lo);
  if (isinf(k->hi)) snprintf(hi, sizeof hi, "%sinf", k->hi < 0 ? "-" : "");
  else snprintf(hi, sizeof hi, "%g", k->hi);
  snprintf(buf, len, "%c%s, %s%c", k->open & LO_OPEN ? '(' : '[', lo, hi, k->open & HI_OPEN ? ')' : ']');
  return buf;
}

/* "FILE:LINE: section.key = VALUE: must be in [lo, hi)", the one message
 * of a value out of range (the optimizer's table words it the same way) */
static int range_error(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name,
                       const char *text, const char *range) {
  char where[1200];
  if (e) nco_spec_where(e, where, sizeof where);
  else nco_spec_locate(spec, section, name, where, sizeof where);
  return nco_error(NCO_ERR_RANGE, "%s: %s.%s = %s: must be in %s", where, section, name, text, range);
}

/* An [optimizer] hyper-parameter against its range in the optimizer's
 * table (nco_optim_param_check), located at the spec's line. */
static int hp_check(const nco_spec *spec, const nco_config *cfg, const key *k, const nco_spec_entry *e) {
  int st = nco_optim_param_check(nco_optim_param_find(k->name), &cfg->hp);
  if (!st) return NCO_OK;
  char where[1200], msg[600];
  snprintf(msg, sizeof msg, "%s", nco_last_error());
  if (e) nco_spec_where(e, where, sizeof where);
  else nco_spec_locate(spec, k->section, k->name, where, sizeof where);
  return nco_error(st, "%s: %s", where, msg);
}

static int set_double(const nco_spec *spec, const key *k, const nco_spec_entry *e, const char *nm, const char *text,
                      double *f) {
  double d;
  char r[96];
  if (cfg_parse_double(text, &d)) return cfg_kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "'%s' is not a number", text, NULL);
  /* the optimizer's keys: their table's check, after the assignment */
  if (k->base != IN_HP && !cfg_in_range(k, d)) return range_error(spec, e, k->section, nm, text, cfg_range_text(k, r, sizeof r));
  *f = d;
  return 0;
}

/* "a, b" or "(a, b)" into f[0], f[1] */
static int set_pair(const nco_spec *spec, const key *k, const nco_spec_entry *e, const char *nm, const char *text, double *f) {
  char buf[256], *a = buf;
  snprintf(buf, sizeof buf, "%s", text);
  while (*a == ' ' || *a == '(' || *a == '[') a++;
  for (size_t L = strlen(a); L && (a[L - 1] == ' ' || a[L - 1] == ')' || a[L - 1] == ']');) a[--L] = '\0';
  char *c = strchr(a, ',');
  if (!c || strchr(c + 1, ','))
    return cfg_kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "'%s' is not two numbers (e.g. 0.9, 0.999)", text, NULL);
  *c = '\0';
  char *b = c + 1;
  while (*b == ' ') b++;
  for (size_t L = strlen(a); L && a[L - 1] == ' ';) a[--L] = '\0';
  double v[2];
  int st;
  if ((st = set_double(spec, k, e, nm, a, &v[0])) || (st = set_double(spec, k, e, nm, b, &v[1]))) return st;
  f[0] = v[0], f[1] = v[1];
  return 0;
}

static void lower(const char *s, char *out, size_t len) {
  size_t i = 0;
  for (; s[i] && i + 1 < len; i++) out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
  out[i] = '\0';
}

/* nm: the name the spec used (an alias's), for messages */
static int set_value_raw(const nco_spec *spec, nco_config *cfg, const key *k, const nco_spec_entry *e, const char *nm,
                        const char *text) {
  void *f = cfg_field(cfg, k);
  uint64_t u;
  int b, i;
  char r[96], low[64];
  switch (k->type) {
    case T_DOUBLE: return set_double(spec, k, e, nm, text, (double *)f);
    case T_PAIR: return set_pair(spec, k, e, nm, text, (double *)f);
    case T_SIZE:
    case T_U64:
      if (k->enums && cfg_word_in(text, k->enums)) u = 0; /* `auto`, resolved later */
      else if (cfg_parse_u64(text, &u))
        return cfg_kerr(spec, e, k->section, nm, NCO_ERR_INVALID, k->enums ? "'%s' is not a non-negative integer or %s"
                                                                        : "'%s' is not a non-negative integer",
                    text, k->enums);
      else if (k->base != IN_HP && k->hi > 0 && ((double)u < k->lo || (double)u > k->hi)) {
        snprintf(r, sizeof r, "[%.0f, %.0f]", k->lo, k->hi);
        return range_error(spec, e, k->section, nm, text, r);
      }
      if (k->type == T_SIZE)
        *(size_t *)f = (size_t)u;
      else
        *(uint64_t *)f = u;
      return 0;
    case T_EVERY:
      /* K steps, `epoch`, `auto` (resolved by the run, which knows its
       * length), or 0 where lo = 0 allows it */
      if (!strcmp(text, "auto")) return *(uint64_t *)f = NCO_EVERY_AUTO, 0;
      if (!strcmp(text, "epoch")) return *(uint64_t *)f = NCO_EVERY_EPOCH, 0;
      if (cfg_parse_u64(text, &u) || (double)u < k->lo || (double)u > k->hi) {
        char m[128];
        snprintf(m, sizeof m, "'%s' is not %s, epoch or auto", text, k->lo > 0 ? "a step count K ≥ 1" : "0, a step count K");
        return cfg_kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "%s", m, NULL);
      }
      *(uint64_t *)f = u;
      return 0;
    case T_BOOL:
      if (cfg_parse_bool(text, &b)) return cfg_kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "'%s' is not true or false", text, NULL);
      *(int *)f = b;
      return 0;
    case T_NOOP:
      lower(text, low, sizeof low);
      if (!strcmp(low, "0") || !strcmp(low, "no") || !strcmp(low, "off")) snprintf(low, sizeof low, "false");
      if (!strcmp(low, "1") || !strcmp(low, "yes") || !strcmp(low, "on")) snprintf(low, sizeof low, "true");
      if (cfg_word_in(low, k->enums)) return 0;
      return cfg_kerr(spec, e, k->section, nm, NCO_ERR_UNSUPPORTED, "'%s' is not accepted: %s", text, k->help);
    case T_STR:
    case T_PATH:
      if (strlen(text) >= str_cap(k))
        return cfg_kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "value too long", NULL, NULL);
      strcpy((char *)f, text);
      return 0;
    case T_ENUM:
      i = cfg_enum_index(text, k->enums);
      if (i < 0 && !strcmp(text, "None")) i = cfg_enum_index("none", k->enums); /* Python's None */
      if (i < 0) return cfg_check_choice(spec, e, k->section, nm, text, k->enums);
      *(int *)f = i;
      return 0;
    case T_ACT: {
      nco_activation a;
      if (nco_act_parse(text, &a))
        return cfg_kerr(spec, e, k->section, nm, NCO_ERR_INVALID, "'%s' is not an activation (%s)", text,
                    "identity sigmoid tanh softplus relu leaky_relu elu");
      double mix = cfg->act.mix;
      cfg->act = nco_act_make(a);
      cfg->act.mix = mix;
      return 0;
    }
    default: return 0;
  }
}

static int set_value_as(const nco_spec *spec, nco_config *cfg, const key *k, const nco_spec_entry *e, const char *nm,
                        const char *text) {
  int st = set_value_raw(spec, cfg, k, e, nm, text);
  return st || k->base != IN_HP ? st : hp_check(spec, cfg, k, e);
}

NCO_HIDDEN int cfg_set_value(const nco_spec *spec, nco_config *cfg, const key *k, const nco_spec_entry *e, const char *text) {
  return set_value_as(spec, cfg, k, e, e ? e->key : k->name, text);
}

NCO_HIDDEN int cfg_check_choice(const nco_spec *spec, const nco_spec_entry *e, const char *section, const char *name, const char *v,
                        const char *list) {
  if (cfg_word_in(v, list)) return 0;
  /* did you mean */
  const char *best = NULL;
  size_t bd = 3;
  char buf[64], bestbuf[64];
  for (int i = 0;; i++) {
    const char *w = cfg_enum_name(list, i, buf, sizeof buf);
    if (!strcmp(w, "?")) break;
    size_t dd = nco_edit_distance(v, w);
    /* a near miss: at most 2 edits and fewer than half the letters */
    if (dd < bd && dd < strlen(w)) bd = dd, best = strcpy(bestbuf, w);
    if (!strchr(list, ' ') || i > 64) break;
  }
  if (best) {
    char m[160];
    snprintf(m, sizeof m, "unknown value '%s' (did you mean '%s'?)", v, best);
    return cfg_kerr(spec, e, section, name, NCO_ERR_INVALID, "%s", m, NULL);
  }
  return cfg_kerr(spec, e, section, name, NCO_ERR_INVALID, "unknown value '%s' (one of: %s)", v, list);
}
