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

void nco_sweep_free(nco_sweep_point *points, size_t count) {
  if (!points) return;
  for (size_t i = 0; i < count; i++) nco_spec_free(points[i].spec);
  free(points);
}

int nco_sweep_expand(const nco_spec *spec, nco_sweep_point **points_out, size_t *count_out) {
  axis ax[MAX_KEYS];
  size_t na = 0;
  int zip = 0, st = NCO_OK;
  char where[1200];
  *points_out = NULL;
  *count_out = 0;
  for (size_t i = 0; i < spec->n; i++) {
    const nco_spec_entry *e = &spec->e[i];
    if (strcmp(e->section, "sweep")) continue;
    nco_spec_where(e, where, sizeof where);
    if (!strcmp(e->key, "zip")) {
      if (!strcmp(e->value, "true")) zip = 1;
      else if (strcmp(e->value, "false"))
        return nco_error(NCO_ERR_INVALID, "%s: sweep.zip: '%s' is not true or false", where, e->value);
      continue;
    }
    const char *dot = strchr(e->key, '.');
    if (!dot || dot == e->key || !dot[1])
      return nco_error(NCO_ERR_INVALID, "%s: sweep.%s: a sweep key names section.key (e.g. regularizer.lambda)", where, e->key);
    if (na == MAX_KEYS) return nco_error(NCO_ERR_RANGE, "%s: sweep: at most %d keys", where, MAX_KEYS);
    axis *a = &ax[na++];
    memset(a, 0, sizeof *a);
    a->e = e;
    snprintf(a->section, sizeof a->section, "%.*s", (int)(dot - e->key), e->key);
    snprintf(a->key, sizeof a->key, "%s", dot + 1);
    const char *p = e->value;
    while (*p) {
      const char *c = strchr(p, ',');
      size_t len = c ? (size_t)(c - p) : strlen(p);
      if (a->nv == MAX_VALUES) return nco_error(NCO_ERR_RANGE, "%s: sweep.%s: at most %d values", where, e->key, MAX_VALUES);
      if (len >= sizeof a->values[0]) return nco_error(NCO_ERR_INVALID, "%s: sweep.%s: value too long", where, e->key);
      memcpy(a->values[a->nv], p, len);
      a->values[a->nv][len] = '\0';
      trim(a->values[a->nv]);
      if (!a->values[a->nv][0]) return nco_error(NCO_ERR_INVALID, "%s: sweep.%s: empty value in the list", where, e->key);
      a->nv++;
      p = c ? c + 1 : p + len;
    }
    if (!a->nv) return nco_error(NCO_ERR_INVALID, "%s: sweep.%s: no values", where, e->key);
  }
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
      if (count > 4096) return nco_error(NCO_ERR_RANGE, "%s: sweep: more than 4096 runs", spec->path);
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
      /* the point's value keeps the [sweep] line for error messages */
      if ((st = nco_spec_put(pt->spec, ax[i].section, ax[i].key, ax[i].values[vi], ax[i].e->file, ax[i].e->line)))
        goto fail;
      char item[300];
      if (short_name[i]) snprintf(item, sizeof item, "%.63s=%.127s", ax[i].key, ax[i].values[vi]);
      else snprintf(item, sizeof item, "%.63s.%.63s=%.127s", ax[i].section, ax[i].key, ax[i].values[vi]);
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
    if ((st = nco_config_from_spec(pt->spec, &pt->cfg))) goto fail;
  }
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

/* Runs (or, resuming, continues) the points; mode per point: 0 train,
 * 1 resume, 2 finished (skip). A point that diverges does not stop the
 * sweep (learning-rate sweeps expect some to); the sweep then ends with
 * NCO_ERR_NONFINITE naming them. */
static int run_points(const nco_config *cfgs, const char *const *names, const char *const *labels, const int *mode,
                      size_t count, const char *out_dir, const nco_run_hooks *hooks, nco_run_result *last) {
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
    if (mode[k] == 2) continue;
    st = mode[k] == 1 ? nco_run_resume(paths[k], hooks, &res) : nco_run_train(&cfgs[k], paths[k], hooks, &res);
    if (st == NCO_ERR_NONFINITE) {
      nonfinite++;
      size_t L = strlen(bad);
      snprintf(bad + L, sizeof bad - L, "%s%s", L ? ", " : "", names[k]);
      continue;
    }
    if (st < 0 || st == NCO_CANCELLED) break;
  }
  if (last) *last = res;
  size_t done = k < count ? k + 1 : count;
  int pst = overlay(out_dir, dirs, labels, done);
  if (st >= 0 && st != NCO_CANCELLED && nonfinite) {
    st = nco_error(NCO_ERR_NONFINITE, "%zu of %zu sweep points diverged (non-finite loss): %s", (size_t)nonfinite, count, bad);
    if (last) {
      last->stop = st;
      snprintf(last->message, sizeof last->message, "%s", nco_last_error());
    }
  } else if (st >= 0 && st != NCO_CANCELLED && pst) {
    st = pst;
  }
  free(dirs), free(paths);
  return st;
}

int nco_sweep_run(nco_sweep_point *points, size_t count, int is_sweep, const char *out_dir, const nco_run_hooks *hooks,
                  nco_run_result *last) {
  int st = NCO_OK;
  if (!is_sweep) return nco_run_train(&points[0].cfg, out_dir, hooks, last);
  /* every point's data, batch and init are checked before anything runs */
  for (size_t k = 0; k < count; k++)
    if ((st = nco_run_check(&points[k].cfg, last)) < 0) return st;
  if ((st = nco_mkdirs(out_dir))) return st;
  nco_run_remove_outputs(out_dir);
  if ((st = write_index(points, count, out_dir))) return st;
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
  st = run_points(cfgs, names, labels, mode, count, out_dir, hooks, last);
done:
  free(cfgs), free(names), free(labels), free(mode);
  return st;
}

/* "stop" of a finished point's summary.json ("" if none). */
static void summary_stop(const char *dir, char *out, size_t len) {
  char path[4500], text[8192];
  out[0] = '\0';
  snprintf(path, sizeof path, "%s/summary.json", dir);
  FILE *fp = fopen(path, "r");
  if (!fp) return;
  size_t n = fread(text, 1, sizeof text - 1, fp);
  fclose(fp);
  text[n] = '\0';
  const char *p = strstr(text, "\"stop\": \"");
  if (!p) return;
  p += 9;
  size_t l = strcspn(p, "\"");
  snprintf(out, len, "%.*s", (int)l, p);
}

int nco_sweep_is_folder(const char *dir) {
  char path[4400];
  snprintf(path, sizeof path, "%s/points.txt", dir);
  return access(path, R_OK) == 0;
}

int nco_sweep_resume(const char *dir, const nco_run_hooks *hooks, nco_run_result *last) {
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
  nco_config *cfgs = NULL;
  int *mode = NULL;
  if (!st && !count) st = nco_error(NCO_ERR_FORMAT, "%s: no points", path);
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
  if (!st) st = run_points(cfgs, (const char *const *)names, (const char *const *)labels, mode, count, dir, hooks, last);
  for (size_t k = 0; k < count; k++) free(names[k]), free(labels[k]);
  free(names), free(labels), free(cfgs), free(mode);
  return st;
}
