/* [sweep]: grids (or zipped lists) of runs. */
#include "ncopt/sweep.h"

#include <stdlib.h>
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
  nco_sweep_point *pts = calloc(count, sizeof *pts);
  if (!pts) return nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  for (size_t k = 0; k < count; k++) {
    nco_sweep_point *pt = &pts[k];
    if ((st = nco_spec_clone(spec, &pt->spec))) goto fail;
    nco_spec_drop_section(pt->spec, "sweep");
    size_t rem = k;
    pt->name[0] = '\0';
    for (size_t i = 0; i < na; i++) {
      size_t vi = zip ? k : rem % ax[i].nv;
      if (!zip) rem /= ax[i].nv;
      /* the point's value keeps the [sweep] line for error messages */
      if ((st = nco_spec_put(pt->spec, ax[i].section, ax[i].key, ax[i].values[vi], ax[i].e->file, ax[i].e->line)))
        goto fail;
      size_t L = strlen(pt->name);
      snprintf(pt->name + L, sizeof pt->name - L, "%s%s.%s=%s", L ? "," : "", ax[i].section, ax[i].key, ax[i].values[vi]);
    }
    if (!na) snprintf(pt->name, sizeof pt->name, "run");
    for (char *c = pt->name; *c; c++)
      if (*c == '/' || *c == ' ') *c = '_';
    if ((st = nco_config_from_spec(pt->spec, &pt->cfg))) goto fail;
  }
  *points_out = pts;
  *count_out = count;
  return NCO_OK;
fail:
  nco_sweep_free(pts, count);
  return st;
}

int nco_sweep_run(nco_sweep_point *points, size_t count, int is_sweep, const char *out_dir, const nco_run_hooks *hooks,
                  nco_run_result *last) {
  int st = NCO_OK;
  if (!is_sweep) return nco_run_train(&points[0].cfg, out_dir, hooks, last);
  if ((st = nco_mkdirs(out_dir))) return st;
  const char **dirs = calloc(count, sizeof *dirs);
  const char **labels = calloc(count, sizeof *labels);
  char (*paths)[4400] = calloc(count, sizeof *paths);
  if (!dirs || !labels || !paths) {
    free(dirs), free(labels), free(paths);
    return nco_error(NCO_ERR_NOMEM, "sweep: out of memory");
  }
  size_t done = 0;
  for (size_t k = 0; k < count; k++) {
    snprintf(paths[k], sizeof paths[k], "%s/%s", out_dir, points[k].name);
    st = nco_run_train(&points[k].cfg, paths[k], hooks, last);
    dirs[done] = paths[k], labels[done] = points[k].name, done++;
    if (st < 0 || st == NCO_CANCELLED) break;
  }
  if (done) {
    char out[4300];
    snprintf(out, sizeof out, "%s/sweep_loss", out_dir);
    int pst = nco_plot_overlay(out, dirs, labels, done, "loss", "loss of every run");
    if (pst == NCO_OK) {
      snprintf(out, sizeof out, "%s/sweep_loss_unreg", out_dir);
      pst = nco_plot_overlay(out, dirs, labels, done, "loss_unreg", "non-regularised loss of every run");
    }
    if (st >= 0 && pst) st = pst;
  }
  free(dirs), free(labels), free(paths);
  return st;
}
