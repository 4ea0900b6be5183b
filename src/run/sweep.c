/* [sweep]: grids (or zipped lists) of runs. */
#include "ncopt/sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "ncopt/status.h"
#include "run_internal.h"

#define MAX_KEYS 8
#define MAX_VALUES 64

typedef struct {
  char section[64], key[64];
  char values[MAX_VALUES][128];
  size_t nv;
  const nco_spec_entry *e;
} axis;

static void trim(char *s) {
  char *p = s;
  while (*p == ' ' || *p == '\t') p++;
  memmove(s, p, strlen(p) + 1);
  for (size_t L = strlen(s); L && (s[L - 1] == ' ' || s[L - 1] == '\t');) s[--L] = '\0';
}

/* The comma-separated values of a sweep key; commas inside (...) or [...]
 * do not split (`optimizer.betas = (0.9, 0.999), (0.5, 0.9)`). A blank
 * entry stands for the key's default (`optimizer.lr = , 0.01`). */
static int split_values(axis *a, const char *value, const char *where, const char *name) {
  const char *p = value;
  int any = 0;
  for (const char *q = value; *q; q++) any |= *q != ' ' && *q != '\t' && *q != ',';
  if (!any) return nco_error(NCO_ERR_INVALID, "%s: sweep.%s: no values", where, name);
  for (;;) {
    int depth = 0;
    const char *c = p;
    for (; *c && (depth || *c != ','); c++) depth += (*c == '(' || *c == '[') - (*c == ')' || *c == ']');
    size_t len = (size_t)(c - p);
    if (a->nv == MAX_VALUES) return nco_error(NCO_ERR_RANGE, "%s: sweep.%s: at most %d values", where, name, MAX_VALUES);
    if (len >= sizeof a->values[0]) return nco_error(NCO_ERR_INVALID, "%s: sweep.%s: value too long", where, name);
    memcpy(a->values[a->nv], p, len);
    a->values[a->nv][len] = '\0';
    trim(a->values[a->nv]);
    a->nv++;
    if (!*c) break;
    p = c + 1;
  }
  return NCO_OK;
}

/* 1 if "section.key" is one of the comma-separated names in list */
static int in_list(const char *list, const char *section, const char *key) {
  char name[200];
  snprintf(name, sizeof name, "%s.%s", section, key);
  size_t L = strlen(name);
  for (const char *p = list; (p = strstr(p, name)); p += L)
    if ((p == list || p[-1] == ' ') && (!p[L] || p[L] == ',')) return 1;
  return 0;
}

/* A key set in the sweep (or its base spec) that applies to none of the
 * points is an error even when the type varies. */
static int check_applies_somewhere(const nco_spec *spec, const nco_sweep_point *pts, size_t count) {
  for (size_t i = 0; i < spec->n; i++) {
    const nco_spec_entry *e = &spec->e[i];
    char section[64], key[128], where[1200];
    int sweep = !strcmp(e->section, "sweep");
    const char *dot = nco_spec_key_dot(e->key, NULL);
    if (sweep && !dot) continue;
    snprintf(section, sizeof section, "%.*s", sweep ? (int)(dot - e->key) : 63, sweep ? e->key : e->section);
    snprintf(key, sizeof key, "%s", sweep ? dot + 1 : e->key);
    size_t set = 0, ignored = 0;
    for (size_t k = 0; k < count; k++)
      if (nco_spec_find(pts[k].spec, section, key)) set++, ignored += (size_t)in_list(pts[k].cfg.ignored, section, key);
    if (!set || ignored < set) continue;
    nco_spec_where(e, where, sizeof where);
    return nco_error(NCO_ERR_INVALID, "%s: %s%s.%s: does not apply to any point of the sweep (to none of the swept types)",
                     where, sweep ? "sweep." : "", section, key);
  }
  return NCO_OK;
}

void nco_sweep_free(nco_sweep_point *points, size_t count) {
  if (!points) return;
  for (size_t i = 0; i < count; i++) nco_spec_free(points[i].spec);
  free(points);
}

int nco_sweep_expand(const nco_spec *spec, nco_sweep_point **points_out, size_t *count_out) {
  axis ax[MAX_KEYS];
  size_t na = 0;
  int zip = 0, st = NCO_OK, lenient = 0;
  char where[1200];
  *points_out = NULL;
  *count_out = 0;
  for (size_t i = 0; i < spec->n; i++) {
    const nco_spec_entry *e = &spec->e[i];
    if (strcmp(e->section, "sweep")) continue;
    nco_spec_where(e, where, sizeof where);
    if (!strcmp(e->key, "zip")) {
      if (!strcmp(e->value, "true") || !strcmp(e->value, "True")) zip = 1;
      else if (strcmp(e->value, "false") && strcmp(e->value, "False"))
        return nco_error(NCO_ERR_INVALID, "%s: sweep.zip: '%s' is not true or false", where, e->value);
      continue;
    }
    const char *dot = nco_spec_key_dot(e->key, NULL);
    if (!dot || dot == e->key || !dot[1])
      return nco_error(NCO_ERR_INVALID, "%s: sweep.%s: a sweep key names section.key (e.g. regularizer.lambda)", where, e->key);
    if (na == MAX_KEYS) return nco_error(NCO_ERR_RANGE, "%s: sweep: at most %d keys", where, MAX_KEYS);
    axis *a = &ax[na++];
    memset(a, 0, sizeof *a);
    a->e = e;
    snprintf(a->section, sizeof a->section, "%.*s", (int)(dot - e->key), e->key);
    snprintf(a->key, sizeof a->key, "%s", dot + 1);
    if ((st = split_values(a, e->value, where, e->key))) return st;
    lenient |= !strcmp(a->key, "type");
  }
  /* `--set optimizer.type=sgd` on an Adam spec: the spec's Adam keys are
   * dropped (cfg.ignored says which), not errors */
  int swept_type = lenient;
  for (size_t i = 0; i < spec->n; i++)
    lenient |= !strcmp(spec->e[i].key, "type") && spec->e[i].file && !strcmp(spec->e[i].file, "--set");
  size_t count = 1;
  if (zip) {
    for (size_t i = 0; i < na; i++)
      if (ax[i].nv != ax[0].nv) {
        nco_spec_where(ax[i].e, where, sizeof where);
        return nco_error(NCO_ERR_SHAPE, "%s: sweep.%s.%s: zip needs lists of equal length (%zu vs %zu)", where,
                         ax[i].section, ax[i].key, ax[i].nv, ax[0].nv);
      }
    count = na ? ax[0].nv : 1;
  } else {
    for (size_t i = 0; i < na; i++) {
      count *= ax[i].nv;
      if (count > 4096) {
        nco_spec_where(ax[i].e, where, sizeof where);
        return nco_error(NCO_ERR_RANGE, "%s: sweep.%s.%s: the grid has more than 4096 runs (split it, or zip = true)",
                         where, ax[i].section, ax[i].key);
      }
    }
  }
  /* names drop the section when the key name alone is unambiguous */
  int short_name[MAX_KEYS];
  for (size_t i = 0; i < na; i++) {
    short_name[i] = 1;
    for (size_t j = 0; j < na; j++)
      if (j != i && !strcmp(ax[i].key, ax[j].key)) short_name[i] = 0;
  }
  nco_sweep_point *pts = calloc(count, sizeof *pts);
  if (!pts) return nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  for (size_t k = 0; k < count; k++) {
    nco_sweep_point *pt = &pts[k];
    if ((st = nco_spec_clone(spec, &pt->spec))) goto fail;
    nco_spec_drop_section(pt->spec, "sweep");
    size_t rem = k;
    pt->name[0] = pt->label[0] = '\0';
    for (size_t i = 0; i < na; i++) {
      size_t vi = zip ? k : rem % ax[i].nv;
      if (!zip) rem /= ax[i].nv;
      /* the point's value keeps the [sweep] line for error messages; a
       * blank value is the key's default */
      const char *val = ax[i].values[vi];
      if (!*val) nco_spec_unset(pt->spec, ax[i].section, ax[i].key);
      else if ((st = nco_spec_put(pt->spec, ax[i].section, ax[i].key, val, ax[i].e->file, ax[i].e->line)))
        goto fail;
      char item[300];
      if (!*val) val = "default";
      if (short_name[i]) snprintf(item, sizeof item, "%.63s=%.127s", ax[i].key, val);
      else snprintf(item, sizeof item, "%.63s.%.63s=%.127s", ax[i].section, ax[i].key, val);
      size_t L = strlen(pt->name);
      snprintf(pt->name + L, sizeof pt->name - L, "%s%s", L ? "," : "", item);
      L = strlen(pt->label);
      snprintf(pt->label + L, sizeof pt->label - L, "%s%s", L ? " " : "", item);
    }
    if (!na) snprintf(pt->name, sizeof pt->name, "run"), snprintf(pt->label, sizeof pt->label, "run");
    for (char *c = pt->name; *c; c++)
      if (*c == '/' || *c == ' ' || *c == '\t' || *c == '\n') *c = '_';
    for (size_t j = 0; j < k; j++)
      if (!strcmp(pts[j].name, pt->name)) {
        nco_spec_where(ax[0].e, where, sizeof where);
        st = nco_error(NCO_ERR_INVALID, "%s: sweep: points %zu and %zu have the same folder name %s (repeated values?)",
                       where, j + 1, k + 1, pt->name);
        goto fail;
      }
    /* a sweep over a *.type key applies every key where it applies */
    if ((st = nco_config_from_spec_flags(pt->spec, &pt->cfg, lenient ? NCO_CONFIG_LENIENT_TYPES : 0))) goto fail;
  }
  if (swept_type && (st = check_applies_somewhere(spec, pts, count))) goto fail;
  *points_out = pts;
  *count_out = count;
  return NCO_OK;
fail:
  nco_sweep_free(pts, count);
  return st;
}

/* points.txt in a sweep folder: one "name<TAB>label" line per point, in
 * order; written before the first run so that `ncopt resume` can finish an
 * interrupted sweep. */
static int write_index(const nco_sweep_point *points, size_t count, const char *out_dir) {
  size_t cap = count * 520 + 1, n = 0;
  char *text = malloc(cap);
  if (!text) return nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  for (size_t k = 0; k < count; k++) n += (size_t)snprintf(text + n, cap - n, "%s\t%s\n", points[k].name, points[k].label);
  char path[4300];
  snprintf(path, sizeof path, "%s/points.txt", out_dir);
  int st = nco_write_file_atomic(path, text, n);
  free(text);
  return st;
}

static int overlay(const char *out_dir, const char *const *dirs, const char *const *labels, size_t done) {
  char out[4300];
  snprintf(out, sizeof out, "%s/sweep_loss", out_dir);
  int st = nco_plot_overlay(out, dirs, labels, done, "loss", "loss of every run");
  if (st == NCO_OK) {
    snprintf(out, sizeof out, "%s/sweep_loss_unreg", out_dir);
    st = nco_plot_overlay(out, dirs, labels, done, "loss_unreg", "non-regularised loss of every run");
  }
  return st;
}

/* The caller's hooks, told which point is running. */
typedef struct point_hooks {
  const nco_run_hooks *user;
  const char *label;
  size_t point, npoints;
} point_hooks;

static int point_progress(void *ctx, const nco_progress *p) {
  const point_hooks *h = ctx;
  nco_progress q = *p;
  q.label = h->label, q.point = h->point, q.npoints = h->npoints;
  return h->user->progress(h->user->ctx, &q);
}

/* ---- the sweep table ------------------------------------------------- */

/* summary.json's top-level key as text, 1 if found (ncopt/outputs.h) */
static int json_lookup(const char *text, const char *key, char *out, size_t len) {
  return !nco_json_get(text, key, out, len);
}

/* A CSV field: quoted when it holds a comma or a quote. */
static void csv_field(FILE *fp, const char *v, int first) {
  if (!first) fputc(',', fp);
  if (!strpbrk(v, ",\"\n")) {
    fputs(v, fp);
    return;
  }
  fputc('"', fp);
  for (; *v; v++) fputs(*v == '"' ? "\"\"" : (char[2]){*v, 0}, fp);
  fputc('"', fp);
}

/* The label's "key=value" items (values may hold spaces: an item starts
 * at a word holding '='). */
static size_t label_items(const char *label, char keys[][128], char vals[][160], size_t cap) {
  size_t n = 0;
  char buf[512];
  snprintf(buf, sizeof buf, "%s", label);
  for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
    char *eq = strchr(w, '=');
    if (eq && n < cap) {
      *eq = '\0';
      snprintf(keys[n], 128, "%s", w);
      snprintf(vals[n], 160, "%s", eq + 1);
      n++;
    } else if (n) {
      size_t L = strlen(vals[n - 1]);
      snprintf(vals[n - 1] + L, 160 - L, " %s", w);
    }
  }
  return n;
}

typedef struct row {
  char vals[MAX_KEYS][160];
  char loss[48], acc[48], secs[48], stop[48];
} row;

static void read_row(const char *dir, const char *name, const char *label, row *r, char keys[][128], size_t *nk) {
  char path[4600], text[16384];
  char k2[MAX_KEYS][128];
  size_t n = label_items(label, keys ? keys : k2, r->vals, MAX_KEYS);
  if (nk) *nk = n;
  snprintf(r->loss, sizeof r->loss, "%s", "");
  r->acc[0] = r->secs[0] = '\0';
  snprintf(r->stop, sizeof r->stop, "not run");
  snprintf(path, sizeof path, "%.4000s/%.500s/summary.json", dir, name);
  FILE *fp = fopen(path, "r");
  if (!fp) return;
  size_t len = fread(text, 1, sizeof text - 1, fp);
  fclose(fp);
  text[len] = '\0';
  json_lookup(text, "final_loss", r->loss, sizeof r->loss);
  json_lookup(text, "final_test_acc", r->acc, sizeof r->acc);
  json_lookup(text, "train_seconds", r->secs, sizeof r->secs);
  json_lookup(text, "stop", r->stop, sizeof r->stop);
  /* JSON's null (not computed: a diverged point) is an empty cell */
  char *cells[3] = {r->loss, r->acc, r->secs};
  for (int c = 0; c < 3; c++)
    if (!strcmp(cells[c], "null")) cells[c][0] = '\0';
}

/* A JSON number's text with `digits` significant digits ("-" if none). */
static const char *num_text(const char *v, int digits, char *buf, size_t len) {
  char *end;
  double d = strtod(v, &end);
  if (!*v || *end) snprintf(buf, len, "%s", *v ? v : "-");
  else snprintf(buf, len, "%.*g", digits, d);
  return buf;
}

static int write_table(const char *dir, const char *const *names, const char *const *labels, size_t count, FILE *out) {
  row *rows = calloc(count ? count : 1, sizeof *rows);
  char keys[MAX_KEYS][128];
  size_t nk = 0;
  int any_acc = 0;
  if (!rows) return nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  for (size_t k = 0; k < count; k++) {
    read_row(dir, names[k], labels[k], &rows[k], k ? NULL : keys, k ? NULL : &nk);
    any_acc |= rows[k].acc[0] != '\0';
  }
  char path[4400];
  snprintf(path, sizeof path, "%s/sweep.csv", dir);
  char *text = NULL;
  size_t tn = 0;
  FILE *fp = open_memstream(&text, &tn);
  if (!fp) {
    free(rows);
    return nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  }
  csv_field(fp, "point", 1);
  for (size_t i = 0; i < nk; i++) csv_field(fp, keys[i], 0);
  fputs(any_acc ? ",final_loss,test_acc,seconds,stop\n" : ",final_loss,seconds,stop\n", fp);
  for (size_t k = 0; k < count; k++) {
    csv_field(fp, names[k], 1);
    for (size_t i = 0; i < nk; i++) csv_field(fp, rows[k].vals[i], 0);
    csv_field(fp, rows[k].loss, 0);
    if (any_acc) csv_field(fp, rows[k].acc, 0);
    csv_field(fp, rows[k].secs, 0);
    csv_field(fp, rows[k].stop, 0);
    fputc('\n', fp);
  }
  fclose(fp);
  int st = text ? nco_write_file_atomic(path, text, tn) : nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  free(text);
  if (!st && out) {
    /* the same as a text table, columns padded */
    for (size_t i = 0; i < nk; i++) fprintf(out, "%-14s ", keys[i]);
    fprintf(out, "%-14s %s%-9s %s\n", "final_loss", any_acc ? "test_acc  " : "", "seconds", "stop");
    for (size_t k = 0; k < count; k++) {
      char loss[32], acc[32], secs[32];
      for (size_t i = 0; i < nk; i++) fprintf(out, "%-14s ", rows[k].vals[i]);
      fprintf(out, "%-14s ", num_text(rows[k].loss, 7, loss, sizeof loss));
      if (any_acc) fprintf(out, "%-9s ", num_text(rows[k].acc, 4, acc, sizeof acc));
      fprintf(out, "%-9s %s\n", num_text(rows[k].secs, 3, secs, sizeof secs), rows[k].stop);
    }
    if (ferror(out)) st = nco_error(NCO_ERR_IO, "sweep: cannot write the table");
  }
  free(rows);
  return st;
}

/* Runs (or, resuming, continues) the points; mode per point: 0 train,
 * 1 resume, 2 finished (skip). A point that diverges does not stop the
 * sweep (learning-rate sweeps expect some to); the sweep then ends with
 * NCO_ERR_NONFINITE naming them. */
static int run_points(const nco_config *cfgs, const char *const *names, const char *const *labels, const int *mode,
                      size_t count, const char *out_dir, const nco_run_hooks *hooks, nco_run_result *last, FILE *table) {
  int st = NCO_OK, nonfinite = 0;
  const char **dirs = calloc(count, sizeof *dirs);
  char (*paths)[4400] = calloc(count, sizeof *paths);
  char bad[512] = "";
  if (!dirs || !paths) {
    free(dirs), free(paths);
    return nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  }
  nco_run_result res;
  memset(&res, 0, sizeof res);
  size_t k;
  for (k = 0; k < count; k++) {
    snprintf(paths[k], sizeof paths[k], "%s/%s", out_dir, names[k]);
    dirs[k] = paths[k];
    if (mode[k] == 2) {
      /* finished: but a kill while it drew its plots leaves them missing
       * (and temporary files): redraw from its trace */
      nco_run_clean_tmp(paths[k]);
      if ((st = nco_plot_run(paths[k]))) break;
      continue;
    }
    point_hooks ph = {hooks, labels[k], k + 1, count};
    nco_run_hooks wrapped = {point_progress, &ph};
    const nco_run_hooks *hk = hooks && hooks->progress ? &wrapped : hooks;
    st = mode[k] == 1 ? nco_run_resume(paths[k], hk, &res) : nco_run_train(&cfgs[k], paths[k], hk, &res);
    if (st == NCO_ERR_NONFINITE) {
      nonfinite++;
      size_t L = strlen(bad);
      snprintf(bad + L, sizeof bad - L, "%s%s", L ? ", " : "", names[k]);
      st = NCO_OK; /* the other points run; reported below */
      continue;
    }
    if (st < 0 || st == NCO_CANCELLED) break;
  }
  if (last) *last = res;
  size_t done = k < count ? k + 1 : count;
  /* after a point's error its message is the one to report: no overlay
   * and no table (whose own failures would replace it) */
  int pst = NCO_OK;
  if (st >= 0) {
    nco_run_clean_tmp(out_dir);
    pst = overlay(out_dir, dirs, labels, done);
    int tst = write_table(out_dir, names, labels, count, table);
    if (!pst) pst = tst;
  }
  if (st >= 0 && st != NCO_CANCELLED && nonfinite) {
    st = nco_error(NCO_ERR_NONFINITE, "%zu of %zu sweep points diverged (non-finite loss): %s", (size_t)nonfinite, count, bad);
    if (last) {
      last->stop = st;
      snprintf(last->message, sizeof last->message, "%s", nco_last_error());
    }
  } else if (st >= 0 && st != NCO_CANCELLED && pst) {
    st = pst;
    if (last) {
      last->stop = st;
      snprintf(last->message, sizeof last->message, "%s", nco_last_error());
    }
  }
  free(dirs), free(paths);
  return st;
}

int nco_sweep_run(nco_sweep_point *points, size_t count, int is_sweep, const char *out_dir, const nco_run_hooks *hooks,
                  nco_run_result *last) {
  return nco_sweep_run_table(points, count, is_sweep, out_dir, hooks, last, NULL);
}

int nco_sweep_run_table(nco_sweep_point *points, size_t count, int is_sweep, const char *out_dir,
                        const nco_run_hooks *hooks, nco_run_result *last, FILE *table) {
  int st = NCO_OK;
  if (!is_sweep) return nco_run_train(&points[0].cfg, out_dir, hooks, last);
  /* every point's data, batch and init are checked before anything runs */
  for (size_t k = 0; k < count; k++)
    if ((st = nco_run_check(&points[k].cfg, last)) < 0) return st;
  if ((st = nco_mkdirs(out_dir))) return st;
  nco_run_remove_outputs(out_dir);
  if ((st = write_index(points, count, out_dir))) return st;
  {
    char csv[4400];
    snprintf(csv, sizeof csv, "%s/sweep.csv", out_dir);
    unlink(csv); /* an earlier sweep's table */
  }
  for (size_t k = 0; k < count; k++) {
    char pdir[4400];
    snprintf(pdir, sizeof pdir, "%s/%s", out_dir, points[k].name);
    if ((st = nco_mkdirs(pdir)) || (st = nco_run_write_spec(&points[k].cfg, pdir))) return st;
  }
  nco_config *cfgs = malloc(count * sizeof *cfgs);
  const char **names = calloc(count, sizeof *names), **labels = calloc(count, sizeof *labels);
  int *mode = calloc(count, sizeof *mode);
  if (!cfgs || !names || !labels || !mode) {
    st = nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
    goto done;
  }
  for (size_t k = 0; k < count; k++) cfgs[k] = points[k].cfg, names[k] = points[k].name, labels[k] = points[k].label;
  st = run_points(cfgs, names, labels, mode, count, out_dir, hooks, last, table);
done:
  free(cfgs), free(names), free(labels), free(mode);
  return st;
}

/* "stop" of a finished point's summary.json ("" if none). */
static void summary_stop(const char *dir, char *out, size_t len) {
  char path[4500], text[16384];
  out[0] = '\0';
  snprintf(path, sizeof path, "%s/summary.json", dir);
  FILE *fp = fopen(path, "r");
  if (!fp) return;
  size_t n = fread(text, 1, sizeof text - 1, fp);
  fclose(fp);
  text[n] = '\0';
  if (!json_lookup(text, "stop", out, len)) out[0] = '\0';
}

int nco_sweep_is_folder(const char *dir) {
  char path[4400];
  snprintf(path, sizeof path, "%s/points.txt", dir);
  return access(path, R_OK) == 0;
}

int nco_sweep_resume(const char *dir, const nco_run_hooks *hooks, nco_run_result *last) {
  return nco_sweep_resume_table(dir, hooks, last, NULL);
}

/* points.txt's names and labels (*count of each, to free). */
static int read_index(const char *dir, char ***names_out, char ***labels_out, size_t *count_out);

int nco_sweep_table(const char *dir, FILE *fp) {
  char **names = NULL, **labels = NULL;
  size_t count = 0;
  int st = read_index(dir, &names, &labels, &count);
  if (!st) st = write_table(dir, (const char *const *)names, (const char *const *)labels, count, fp);
  for (size_t k = 0; k < count; k++) free(names[k]), free(labels[k]);
  free(names), free(labels);
  return st;
}

static int read_index(const char *dir, char ***names_out, char ***labels_out, size_t *count_out) {
  char path[4500];
  snprintf(path, sizeof path, "%s/points.txt", dir);
  FILE *fp = fopen(path, "r");
  if (!fp) return nco_error(NCO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  size_t count = 0, cap = 0;
  char **names = NULL, **labels = NULL, line[1100];
  int st = NCO_OK;
  while (fgets(line, sizeof line, fp)) {
    char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
    if (!tab || !nl) {
      st = nco_error(NCO_ERR_FORMAT, "%s:%zu: expected NAME<TAB>LABEL", path, count + 1);
      break;
    }
    *tab = *nl = '\0';
    /* a point is a folder inside the sweep's: a name from the file must
     * not lead elsewhere (points.txt is input like any other) */
    if (!line[0] || strchr(line, '/') || !strcmp(line, ".") || !strcmp(line, "..")) {
      st = nco_error(NCO_ERR_FORMAT, "%s:%zu: '%.200s' is not a point's folder name", path, count + 1, line);
      break;
    }
    if (count == cap) {
      cap = cap ? 2 * cap : 16;
      char **a = realloc(names, cap * sizeof *a), **b = a ? realloc(labels, cap * sizeof *b) : NULL;
      if (a) names = a;
      if (b) labels = b;
      if (!a || !b) {
        st = nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
        break;
      }
    }
    names[count] = strdup(line), labels[count] = strdup(tab + 1);
    count++;
    if (!names[count - 1] || !labels[count - 1]) {
      st = nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
      break;
    }
  }
  fclose(fp);
  if (!st && !count) st = nco_error(NCO_ERR_FORMAT, "%s: no points", path);
  *names_out = names, *labels_out = labels, *count_out = count;
  return st;
}

int nco_sweep_resume_table(const char *dir, const nco_run_hooks *hooks, nco_run_result *last, FILE *table) {
  char path[4500];
  char **names = NULL, **labels = NULL;
  size_t count = 0;
  int st = read_index(dir, &names, &labels, &count);
  nco_config *cfgs = NULL;
  int *mode = NULL;
  if (!st && (!(cfgs = calloc(count, sizeof *cfgs)) || !(mode = calloc(count, sizeof *mode))))
    st = nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  /* what is left of each point: finished, interrupted (checkpoint) or not started */
  for (size_t k = 0; !st && k < count; k++) {
    char pdir[4300], stop[64];
    snprintf(pdir, sizeof pdir, "%.4000s/%.250s", dir, names[k]);
    summary_stop(pdir, stop, sizeof stop);
    snprintf(path, sizeof path, "%s/checkpoint.bin", pdir);
    char prev[4500];
    snprintf(prev, sizeof prev, "%s/checkpoint.prev.bin", pdir);
    if (stop[0] && strcmp(stop, "cancelled")) {
      mode[k] = 2;
    } else if (!access(path, F_OK) || !access(prev, F_OK)) {
      mode[k] = 1;
    } else {
      /* not started, or killed before its first checkpoint: run it afresh
       * from the resolved spec the sweep wrote into its folder */
      snprintf(path, sizeof path, "%s/spec.ini", pdir);
      nco_spec *spec = NULL;
      if (access(path, R_OK)) {
        st = nco_error(NCO_ERR_IO, "%s: point %s was never started and has no spec.ini; run the sweep again", dir,
                       names[k]);
        break;
      }
      if ((st = nco_spec_load(path, &spec))) break;
      st = nco_config_from_spec(spec, &cfgs[k]);
      nco_spec_free(spec);
      mode[k] = 0;
    }
  }
  if (!st)
    st = run_points(cfgs, (const char *const *)names, (const char *const *)labels, mode, count, dir, hooks, last, table);
  for (size_t k = 0; k < count; k++) free(names[k]), free(labels[k]);
  free(names), free(labels), free(cfgs), free(mode);
  return st;
}
