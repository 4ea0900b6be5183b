/* The resolution of a spec into an nco_config: types first, defaults,
 * every key, probes, [network], unknown keys, then the combinations; every
 * independent error in one report. The key table is config_keys.c. */
#define _XOPEN_SOURCE 700
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
#include "run/problems.h"
#include <sys/stat.h>
#include <unistd.h>

/* ---- every error of a spec in one pass ------------------------------- */

#define MAX_ERRS 24
typedef struct err1 { int st, set, line; char text[400]; } err1;
typedef struct errs {
  int n;
  size_t more;
  err1 e[MAX_ERRS];
} errs;

/* Records the last error ("FILE:LINE: ..." or "--set:K: ...") with its
 * position, for the file-order report. */
NCO_HIDDEN int cfg_note(errs *el, int st) {
  if (el->n == MAX_ERRS) return el->more++, st;
  const char *m = nco_last_error(), *sep = strstr(m, ": ");
  int set = !strncmp(m, "--set:", 6), line = 0;
  if (sep) {
    const char *c = sep;
    while (c > m && c[-1] != ':') c--;
    line = atoi(c);
  }
  el->e[el->n].st = st, el->e[el->n].set = set, el->e[el->n].line = line;
  snprintf(el->e[el->n].text, sizeof el->e[el->n].text, "%s", m);
  el->n++;
  return st;
}

/* [network]: kept line by line in cfg (the run rebuilds the graph from
 * them, with the data's shape) and checked now as a graph without data. */
static void network_lines(const nco_spec *spec, nco_config *cfg, errs *el) {
  int net = nco_prob_of(cfg)->kind == NCO_PROB_NET_GRAPH;
  cfg->nnet = 0;
  for (size_t i = 0; i < spec->n; i++) {
    nco_spec_entry *e = &spec->e[i];
    if (strcmp(e->section, "network")) continue;
    e->used = 1;
    if (!net) {
      char where[1200];
      nco_spec_where(e, where, sizeof where);
      cfg_note(el, nco_error(NCO_ERR_INVALID, "%s: network.%s: a [network] section needs problem.type = network", where, e->key));
      return;
    }
    if (cfg->nnet == NCO_NET_MAX_LINES || strlen(e->key) >= sizeof cfg->net[0].key ||
        strlen(e->value) >= sizeof cfg->net[0].value) {
      char where[1200];
      nco_spec_where(e, where, sizeof where);
      cfg_note(el, nco_error(NCO_ERR_RANGE, "%s: network.%s: at most %d nodes, names of %zu bytes", where, e->key,
                         NCO_NET_MAX_LINES, sizeof cfg->net[0].key - 1));
      return;
    }
    nco_net_line *l = &cfg->net[cfg->nnet++];
    snprintf(l->key, sizeof l->key, "%s", e->key);
    snprintf(l->value, sizeof l->value, "%s", e->value);
    l->line = e->line;
  }
  if (!net) return;
  nco_nn_model *m = NULL;
  int st = nco_nn_graph_from_spec(spec, 0, NULL, &m);
  nco_nn_model_free(m);
  if (st) cfg_note(el, st);
}

/* One status whose message holds every error, one a line, in file order
 * (the file's lines, then the --set overrides); the first one's status. */
static int cfg_report(errs *el) {
  for (int i = 1; i < el->n; i++)
    for (int j = i; j > 0; j--) {
      int later = el->e[j - 1].set != el->e[j].set ? el->e[j - 1].set > el->e[j].set : el->e[j - 1].line > el->e[j].line;
      if (!later) break;
      err1 t = el->e[j];
      el->e[j] = el->e[j - 1], el->e[j - 1] = t;
    }
  char msg[1000];
  size_t n = 0, left = el->more;
  msg[0] = '\0';
  for (int i = 0; i < el->n; i++) {
    size_t L = strlen(el->e[i].text);
    if (n + L + 40 >= sizeof msg) {
      left += (size_t)(el->n - i);
      break;
    }
    n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s", i ? "\n" : "", el->e[i].text);
  }
  if (left) snprintf(msg + n, sizeof msg - n, "\n(and %zu more errors)", left);
  return nco_error(el->e[0].st, "%s", msg);
}

static void note_ignored(nco_config *cfg, const char *section, const char *name) {
  size_t L = strlen(cfg->ignored);
  snprintf(cfg->ignored + L, sizeof cfg->ignored - L, "%s%s.%s", L ? ", " : "", section, name);
}

/* 0 if k applies to the configured types; else an error, or 1 (with the
 * names of e.. noted in cfg->ignored) under NCO_CONFIG_LENIENT_TYPES. */
static int check_applies(const nco_spec *spec, nco_config *cfg, const key *k, nco_spec_entry *const *set, size_t nset,
                         unsigned flags) {
  char m[400];
  if (k->sources && !cfg_word_in(cfg->data_source, k->sources))
    snprintf(m, sizeof m, "does not apply to data.source = %s (used with: %s)", cfg->data_source, k->sources);
  else if (!cfg_applies(cfg, k) && !strcmp(k->section, "schedule"))
    snprintf(m, sizeof m, "does not apply to this schedule (used by: %s)", k->applies);
  else if (!cfg_applies(cfg, k))
    snprintf(m, sizeof m, "does not apply here (used by: %s) — remove it or change the %s type", k->applies,
             !strcmp(k->section, "optimizer") ? "optimizer" : "problem");
  else
    return 0;
  /* lenient for the spec's own keys; a key given on the command line with
   * the new type must apply to it */
  int from_set = 0;
  for (size_t i = 0; i < nset; i++) from_set |= set[i]->file && !strcmp(set[i]->file, "--set");
  if ((flags & NCO_CONFIG_LENIENT_TYPES) && !from_set) {
    for (size_t i = 0; i < nset; i++) note_ignored(cfg, k->section, set[i]->key);
    return 1;
  }
  return cfg_kerr(spec, set[0], k->section, set[0]->key, NCO_ERR_INVALID, "%s", m, NULL);
}

/* The entries that set k: under its own name first, then its aliases
 * (T_ALIAS rows); *ak their rows (k itself for the own name). */
static size_t cfg_key_entries(const nco_spec *spec, const key *k, nco_spec_entry **set, const key **ak, size_t cap) {
  size_t n = 0;
  if ((set[n] = nco_spec_find(spec, k->section, k->name))) ak[n++] = k;
  for (size_t i = 0; i < NKEYS && n < cap; i++)
    if (keys[i].type == T_ALIAS && !strcmp(keys[i].section, k->section) && !strcmp(keys[i].alias_of, k->name) &&
        (set[n] = nco_spec_find(spec, k->section, keys[i].name)))
      ak[n++] = &keys[i];
  return n;
}

/* Sets key k from the spec (its own name or an alias; both is an error). */
static int resolve_key(nco_spec *spec, nco_config *cfg, const key *k, unsigned flags) {
  nco_spec_entry *set[4];
  const key *ak[4];
  size_t n = cfg_key_entries(spec, k, set, ak, 4);
  if (!n) return 0;
  for (size_t i = 0; i < n; i++) set[i]->used = 1;
  int st = check_applies(spec, cfg, k, set, n, flags);
  if (st) return st > 0 ? 0 : st;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < i; j++)
      if (ak[j] == k || ak[j]->off == 0 || ak[i]->off == 0 || ak[i]->off == ak[j]->off) {
        char m[200];
        snprintf(m, sizeof m, "set either %s or %s, not both (%s is another name of %s)", ak[j]->name, ak[i]->name,
                 ak[i] == k ? ak[j]->name : ak[i]->name, k->name);
        return cfg_kerr(spec, set[i], k->section, set[i]->key, NCO_ERR_INVALID, "%s", m, NULL);
      }
    if (ak[i] == k || ak[i]->off == 0) {
      if ((st = cfg_set_value(spec, cfg, k, set[i], set[i]->value))) return st;
    } else { /* a component of a pair: beta1 = betas[0] */
      key c = *k;
      c.type = T_DOUBLE;
      c.off += (ak[i]->off - 1) * sizeof(double);
      if ((st = cfg_set_value(spec, cfg, &c, set[i], set[i]->value))) return st;
    }
  }
  return 0;
}

/* The entry that sets k under any of its names, or NULL. */
static nco_spec_entry *cfg_find_any(const nco_spec *spec, const key *k) {
  nco_spec_entry *set[4];
  const key *ak[4];
  return cfg_key_entries(spec, k, set, ak, 4) ? set[0] : NULL;
}

/* Entries no key consumed: unknown sections and keys ("did you mean"). */
static void unknown_entries(const nco_spec *spec, errs *el) {
  for (size_t i = 0; i < spec->n; i++) {
    nco_spec_entry *u = &spec->e[i];
    if (u->used || !strcmp(u->section, "sweep")) continue; /* [sweep]: expanded by the caller */
    int known_section = 0;
    for (size_t s = 0; s < NSECTIONS; s++) known_section |= !strcmp(u->section, sections[s]);
    char where[1200], m[400];
    nco_spec_where(u, where, sizeof where);
    const char *best = NULL;
    size_t bd = 3;
    if (!known_section) {
      for (size_t s = 0; s < NSECTIONS; s++) {
        size_t dd = nco_edit_distance(u->section, sections[s]);
        if (dd < bd && dd < strlen(sections[s])) bd = dd, best = sections[s];
      }
      if (best) snprintf(m, sizeof m, " (did you mean [%s]?)", best);
      else snprintf(m, sizeof m, " (sections: data problem regularizer optimizer schedule run lanczos probes sweep network)");
      cfg_note(el, nco_error(NCO_ERR_INVALID, "%s: %s.%s: unknown section [%s]%s", where, u->section, u->key, u->section, m));
      continue;
    }
    for (size_t k = 0; k < NKEYS; k++) {
      if (strcmp(keys[k].section, u->section)) continue;
      size_t dd = nco_edit_distance(u->key, keys[k].name);
      if (dd < bd && dd < strlen(keys[k].name)) bd = dd, best = keys[k].name;
    }
    if (!strcmp(u->section, "probes"))
      for (int p = 0; p < NCO_PROBE_COUNT; p++) {
        size_t dd = nco_edit_distance(u->key, nco_probe_name(p));
        if (dd < bd && dd < strlen(nco_probe_name(p))) bd = dd, best = nco_probe_name(p);
      }
    if (best) snprintf(m, sizeof m, " (did you mean '%s'?)", best);
    else m[0] = '\0';
    cfg_note(el, nco_error(NCO_ERR_INVALID, "%s: %s.%s: unknown key%s", where, u->section, u->key, m));
  }
}

/* A spec's schedule defaults: the library's, with the cosine horizon T =
 * auto (the run's planned length, nco_config_resolve_schedule). */
NCO_HIDDEN nco_schedule cfg_sched_defaults(nco_schedule_kind kind, double c) {
  nco_schedule s = nco_schedule_defaults(kind, c);
  s.T = 0;
  return s;
}


/* run.init = default | zeros are words, not files */
static int cfg_is_init_word(const key *k, const char *v) {
  return !strcmp(k->section, "run") && !strcmp(k->name, "init") && (!strcmp(v, "default") || !strcmp(v, "zeros"));
}

/* 7. file paths: relative to the spec's folder, made absolute (so that
 * the resolved spec works from any folder), readable, regular */
static void check_paths(const nco_spec *spec, nco_config *cfg, errs *el) {
  int st;
  struct stat sb;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (k->type != T_PATH) continue;
    char *f = cfg_field(cfg, k);
    if (!*f || cfg_is_init_word(k, f)) continue;
    if ((st = cfg_absolute_path(spec, k, cfg->spec_dir, f))) {
      cfg_note(el, st);
    } else if (access(f, R_OK)) {
      int en = errno;
      cfg_note(el, cfg_kerr(spec, cfg_find_any(spec, k), k->section, k->name, NCO_ERR_IO, "%s: %s", f, strerror(en)));
    } else if (stat(f, &sb) || !S_ISREG(sb.st_mode)) {
      /* a FIFO without a writer would block open() forever; a folder or a
       * device is no data file either */
      cfg_note(el, cfg_kerr(spec, cfg_find_any(spec, k), k->section, k->name, NCO_ERR_IO, "%s: not a regular file", f, NULL));
    }
}
}

static int resolve(nco_spec *spec, nco_config *cfg, unsigned flags, errs *el);

int nco_config_from_spec(nco_spec *spec, nco_config *cfg) { return nco_config_from_spec_flags(spec, cfg, 0); }

int nco_config_from_spec_flags(nco_spec *spec, nco_config *cfg, unsigned flags) {
  int st;
  errs *el = calloc(1, sizeof *el);
  if (!el) return nco_error(NCO_ERR_NOMEM, "spec: out of memory");
  st = resolve(spec, cfg, flags, el);
  free(el);
  return st;
}

static int resolve(nco_spec *spec, nco_config *cfg, unsigned flags, errs *el) {
  int st;
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->spec_dir, sizeof cfg->spec_dir, "%s", spec->dir);
  for (size_t i = 0; i < spec->n; i++) spec->e[i].used = 0;

  /* 1. types first: they decide the defaults and which keys apply (an
   * error here stops the pass: every later check depends on them) */
  nco_spec_entry *e;
  const char *v;
  e = nco_spec_find(spec, "problem", "type");
  v = e ? e->value : "glm";
  if (e && (st = cfg_check_choice(spec, e, "problem", "type", v, cfg_problem_types()))) return st;
  snprintf(cfg->problem_type, sizeof cfg->problem_type, "%s", v);
  e = nco_spec_find(spec, "optimizer", "type");
  v = e ? e->value : "sgd";
  cfg->optim = nco_optim_find(v);
  if (!cfg->optim) {
    char names[512];
    return cfg_check_choice(spec, e, "optimizer", "type", v, cfg_optim_names(names, sizeof names));
  }
  cfg->hp = nco_optim_defaults(cfg->optim);
  e = nco_spec_find(spec, "schedule", "type");
  v = e ? e->value : "constant";
  nco_schedule_kind sk;
  if (nco_schedule_parse(v, &sk))
    return cfg_check_choice(spec, e, "schedule", "type", v, "constant inv inv_sqrt step cosine cooldown");
  e = nco_spec_find(spec, "data", "source");
  v = e ? e->value : "synthetic";
  if ((st = cfg_check_choice(spec, e, "data", "source", v, DATA_SOURCES))) return st;

  /* 2. defaults of every key, then the spec's values (problem.type and
   * data.source were set in 1: every key's applicability depends on them);
   * every independent error is collected */
  snprintf(cfg->data_source, sizeof cfg->data_source, "%s", v);
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (cfg_is_type_key(k) || !k->def || k->type == T_ALIAS) continue;
    if ((st = cfg_set_value(spec, cfg, k, NULL, k->def))) return st;
  }
  int net = nco_config_is_network(cfg), bad_length = 0;
  cfg->act = nco_act_make(net ? NCO_ACT_RELU : NCO_ACT_SIGMOID);
  for (int pass = 0; pass < 2; pass++) {
    /* pass 1: the schedule keys, once the schedule's defaults know the lr */
    if (pass == 1) cfg->sched = cfg_sched_defaults(sk, cfg->hp.lr);
    for (size_t i = 0; i < NKEYS; i++) {
      const key *k = &keys[i];
      if (k->type == T_ALIAS || (pass == 1) != !strcmp(k->section, "schedule")) continue;
      if (cfg_is_type_key(k)) {
        if ((e = nco_spec_find(spec, k->section, k->name))) e->used = 1;
        continue;
      }
      if ((st = resolve_key(spec, cfg, k, flags))) {
        cfg_note(el, st);
        bad_length |= !strcmp(k->section, "run") && (!strcmp(k->name, "iterations") || !strcmp(k->name, "epochs"));
      }
    }
  }

  /* 3. probes: name = true | false | K (config_probes.c) */
  cfg_probe_parse(spec, cfg, el);

  /* 3b. the graph of problem.type = network */
  network_lines(spec, cfg, el);

  /* 3c. parameter groups (config_groups.c) */
  cfg_groups_parse(spec, cfg, el);

  /* 4. anything left is unknown */
  unknown_entries(spec, el);

  /* 5. the length (independent of the other errors) */
  e = cfg_find_any(spec, &keys[cfg_key_index("run", "iterations")]);
  nco_spec_entry *ep = cfg_find_any(spec, &keys[cfg_key_index("run", "epochs")]);
  if (!bad_length && cfg->iterations && cfg->epochs)
    cfg_note(el, cfg_kerr(spec, ep, "run", "epochs", NCO_ERR_INVALID, "set either run.iterations or run.epochs, not both", NULL, NULL));
  if (!bad_length && !cfg->iterations && !cfg->epochs && !(flags & NCO_CONFIG_NO_LENGTH))
    cfg_note(el, cfg_kerr(spec, e ? e : ep, "run", "iterations", NCO_ERR_INVALID, "missing: set run.iterations or run.epochs (> 0)",
                  NULL, NULL));
  if (el->n || el->more) return cfg_report(el);

  /* 6. combinations (each depends on the values above; config_check.c) */
  if ((st = cfg_check_all(spec, cfg))) return st;
  check_paths(spec, cfg, el);
  if (el->n) return cfg_report(el);
  /* 8. where every key came from, for errors found later (data, init) */
  snprintf(cfg->spec_path, sizeof cfg->spec_path, "%s", spec->path && *spec->path ? spec->path : "spec");
  cfg->spec_nlines = spec->nlines;
  for (size_t i = 0; i < NKEYS && i < NCO_CONFIG_MAX_KEYS; i++) {
    e = cfg_find_any(spec, &keys[i]);
    cfg->key_line[i] = !e ? 0 : !strcmp(e->file, "--set") ? -(e->line > 0 ? e->line : 1) : (e->line > 0 ? e->line : 1);
  }
  for (size_t s = 0; s < NSECTIONS; s++) {
    cfg->section_line[s] = 0;
    for (size_t j = 0; j < spec->nsec; j++)
      if (!strcmp(spec->sec[j].name, sections[s])) cfg->section_line[s] = spec->sec[j].line;
  }
  return NCO_OK;
}

int nco_config_resolve_schedule(nco_config *cfg, uint64_t planned_steps, uint64_t steps_per_epoch) {
  nco_schedule *s = &cfg->sched;
  s->steps_per_epoch = steps_per_epoch ? steps_per_epoch : 1;
  if (s->kind == NCO_SCHED_COSINE && !s->T) {
    uint64_t T = s->unit == NCO_SCHED_UNIT_EPOCH ? (planned_steps + s->steps_per_epoch - 1) / s->steps_per_epoch
                                                 : planned_steps;
    s->T = T ? (size_t)T : 1;
  }
  int st = nco_schedule_validate(s);
  if (st) {
    char where[1200];
    nco_config_where(cfg, "schedule", "type", where, sizeof where);
    return nco_error_context(st, "%s: schedule.type", where);
  }
  return NCO_OK;
}

const char *nco_config_where(const nco_config *cfg, const char *section, const char *name, char *buf, size_t len) {
  for (size_t i = 0; i < NKEYS && i < NCO_CONFIG_MAX_KEYS; i++) {
    if (strcmp(keys[i].section, section) || strcmp(keys[i].name, name)) continue;
    int l = cfg->key_line[i];
    if (l > 0) snprintf(buf, len, "%s:%d", cfg->spec_path, l);
    else if (l < 0) snprintf(buf, len, "--set:%d", -l);
    else break;
    return buf;
  }
  for (size_t s = 0; s < NSECTIONS; s++)
    if (!strcmp(sections[s], section) && cfg->section_line[s] > 0) {
      snprintf(buf, len, "%s:%d", cfg->spec_path, cfg->section_line[s]);
      return buf;
    }
  snprintf(buf, len, "%s:%d", cfg->spec_path, cfg->spec_nlines > 0 ? cfg->spec_nlines : 1);
  return buf;
}
