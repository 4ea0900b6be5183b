/* Plots of runs, drawn with PLplot's cairo devices (pngcairo, svgcairo).
 * PLplot's defaults (black background, red axes) are replaced by a white
 * background and a readable palette (DESIGN.md, outputs). */
#include <cblas.h>
#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ncopt/outputs.h"
#include "ncopt/status.h"
#include "run_internal.h"

const char *nco_openblas_config(void) {
  const char *c = openblas_get_config();
  return c ? c : "unknown";
}

#define MAX_COLS 160 /* lines of one figure */

static double *column(const nco_table *t, const char *name) { return (double *)nco_table_col(t, name); }

/* palette: white background, black axes, then distinguishable colours */
static void palette(void) {
  plscolbg(255, 255, 255);
  plscol0(0, 255, 255, 255);
  plscol0(1, 0, 0, 0);        /* axes, labels */
  plscol0(2, 31, 119, 180);   /* blue */
  plscol0(3, 214, 39, 40);    /* red */
  plscol0(4, 44, 160, 44);    /* green */
  plscol0(5, 255, 127, 14);   /* orange */
  plscol0(6, 148, 103, 189);  /* purple */
  plscol0(7, 140, 86, 75);    /* brown */
  plscol0(8, 227, 119, 194);  /* pink */
  plscol0(9, 127, 127, 127);  /* grey */
  plscol0(10, 188, 189, 34);  /* olive */
  plscol0(11, 23, 190, 207);  /* cyan */
}

typedef struct line {
  const double *x, *y;
  size_t n;
  const char *label;
} line;

/* Code points in a UTF-8 string. */
static size_t u8len(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

/* One figure with k lines, to path.png and path.svg (each written to a
 * temporary file and renamed: atomic like every output). The y axis is
 * logarithmic when every value is positive and they span at least a
 * decade (wantlog), linear otherwise; the axis title says which. The legend
 * sits right of the plot, which shrinks to make room for the longest label. */
/* A PNG ends with its IEND chunk; an SVG with </svg> (and white space). */
static int plot_complete(const char *tmp, int png, const char *file) {
  int fd = open(tmp, O_RDONLY);
  if (fd < 0) return nco_error(NCO_ERR_IO, "%s: cannot reopen the plot: %s", file, strerror(errno));
  struct stat sb;
  unsigned char tail[64] = {0};
  int ok = !fstat(fd, &sb) && sb.st_size >= 16;
  off_t at = ok ? sb.st_size - (off_t)sizeof tail : 0;
  if (ok && at < 0) at = 0;
  ssize_t n = ok ? pread(fd, tail, sizeof tail, at) : -1;
  static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
  if (ok && png) ok = n >= 12 && !memcmp(tail + n - 12, iend, 12);
  if (ok && !png) {
    ssize_t e = n;
    while (e > 0 && (tail[e - 1] == '\n' || tail[e - 1] == ' ' || tail[e - 1] == '\r')) e--;
    ok = e >= 6 && !memcmp(tail + e - 6, "</svg>", 6);
  }
  int sync_err = ok && fsync(fd) ? errno : 0;
  close(fd);
  if (!ok) return nco_error(NCO_ERR_IO, "%s: the plot was not written completely (disk full?)", file);
  if (sync_err) return nco_error(NCO_ERR_IO, "%s: fsync failed: %s", file, strerror(sync_err));
  return NCO_OK;
}

static int figure(const char *path_noext, const char *title, const char *xlabel, const char *ylabel, int wantlog,
                  const line *ls, size_t k) {
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  int nonpos = 0;
  for (size_t i = 0; i < k; i++)
    for (size_t j = 0; j < ls[i].n; j++) {
      double x = ls[i].x[j], y = ls[i].y[j];
      if (!isfinite(x) || !isfinite(y)) continue;
      nonpos |= !(y > 0);
      xmin = fmin(xmin, x), xmax = fmax(xmax, x), ymin = fmin(ymin, y), ymax = fmax(ymax, y);
    }
  if (!(xmin <= xmax)) return NCO_OK; /* nothing to draw */
  int st;
  /* wantlog = 2: log scale over the positive values, others left out */
  if (wantlog == 2 && nonpos) {
    ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < k; i++)
      for (size_t j = 0; j < ls[i].n; j++) {
        double x = ls[i].x[j], y = ls[i].y[j];
        if (isfinite(x) && isfinite(y) && y > 0) ymin = fmin(ymin, y), ymax = fmax(ymax, y);
      }
    if (!(ymin <= ymax)) return NCO_OK;
    nonpos = 0;
  }
  int logy = wantlog && !nonpos && ymax >= 10 * ymin;
  if (logy) ymin = log10(ymin), ymax = log10(ymax);
  if (xmax == xmin) xmax = xmin + 1;
  if (ymax - ymin < 1e-12 * fmax(1, fabs(ymax))) ymin -= 0.5, ymax += 0.5;
  double pad = 0.04 * (ymax - ymin);
  ymin -= pad, ymax += pad;
  char ylab[160];
  snprintf(ylab, sizeof ylab, "%s%s", ylabel, logy ? " (log scale)" : "");
  size_t maxc = 0;
  for (size_t i = 0; i < k; i++) maxc = u8len(ls[i].label) > maxc ? u8len(ls[i].label) : maxc;
  const char *devs[2] = {"pngcairo", "svgcairo"}, *exts[2] = {"png", "svg"};
  for (int d = 0; d < 2; d++) {
    char file[4300], tmp[4400];
    snprintf(file, sizeof file, "%s.%s", path_noext, exts[d]);
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", file);
    int fd = mkstemp(tmp);
    if (fd < 0) return nco_error(NCO_ERR_IO, "%s: cannot create a temporary file", file);
    (void)fchmod(fd, nco_output_mode()); /* mkstemp's 0600 → the user's umask */
    close(fd);
    plsstrm(0);
    plsdev(devs[d]);
    plsfnam(tmp);
    plspage(0, 0, 900, 600, 0, 0);
    palette();
    plinit();
    plfont(1);
    plschr(0, 0.9);
    pladv(0);
    /* legend width from the longest label (proportional font: about 0.8
     * character heights per character), plus the line sample and gaps */
    PLFLT def, ht, sx0, sx1, sy0, sy1;
    plgchr(&def, &ht);
    plgspa(&sx0, &sx1, &sy0, &sy1);
    double page = sx1 - sx0 > 0 ? sx1 - sx0 : 1;
    double legend_mm = ((double)maxc * 0.78 + 4.0) * ht;
    double right = 0.98 - legend_mm / page - 0.02;
    if (right < 0.45) right = 0.45;
    if (right > 0.9) right = 0.9;
    plvpor(0.1, right, 0.12, 0.9);
    plwind(xmin, xmax, ymin, ymax);
    plcol0(1);
    plbox("bcnst", 0, 0, logy ? "bcnstvl" : "bcnstv", 0, 0);
    pllab(xlabel, ylab, title);
    for (size_t i = 0; i < k; i++) {
      double *xx = malloc((ls[i].n ? ls[i].n : 1) * sizeof *xx), *yy = malloc((ls[i].n ? ls[i].n : 1) * sizeof *yy);
      if (!xx || !yy) {
        free(xx), free(yy);
        plend();
        unlink(tmp);
        return nco_error(NCO_ERR_NOMEM, "plot: out of memory");
      }
      size_t m = 0;
      for (size_t j = 0; j < ls[i].n; j++) {
        double x = ls[i].x[j], y = ls[i].y[j];
        if (!isfinite(x) || !isfinite(y) || (logy && !(y > 0))) continue;
        xx[m] = x, yy[m] = logy ? log10(y) : y, m++;
      }
      plcol0(2 + (int)(i % 10));
      plwidth(2);
      if (m > 1) plline((PLINT)m, xx, yy);
      else if (m == 1) plpoin(1, xx, yy, 17);
      free(xx), free(yy);
      /* legend entry right of the plot, in millimetres */
      double ly = 0.97 - 0.055 * (double)i;
      plvpor(right + 0.01, 0.99, 0.12, 0.9);
      plwind(0, (0.99 - right - 0.01) * page, 0, 1);
      double lx[2] = {0.3 * ht, 2.3 * ht}, lyv[2] = {ly, ly};
      plline(2, lx, lyv);
      plwidth(1);
      plcol0(1);
      plptex(3.0 * ht, ly, 1, 0, 0, ls[i].label);
      plvpor(0.1, right, 0.12, 0.9);
      plwind(xmin, xmax, ymin, ymax);
    }
    plend();
    /* PLplot and cairo report no write errors (disk full leaves an empty
     * or cut file): the file must end as its format ends, and reach the
     * disk, before it replaces anything */
    if ((st = plot_complete(tmp, d == 0, file))) {
      unlink(tmp);
      return st;
    }
    if (rename(tmp, file)) {
      int e = errno;
      unlink(tmp);
      return nco_error(NCO_ERR_IO, "%s: cannot rename the plot into place: %s", file, strerror(e));
    }
  }
  return NCO_OK;
}


static const char *probe_label(const char *col) {
  static const char *const map[][2] = {
      {"grad_norm", "‖∇f‖"},         {"dist_init", "‖θ-θ₀‖"},        {"path_length", "path length"},
      {"pl_ratio", "PL ratio"},      {"quasi_convexity", "quasi-convexity τ"}, {"rsi", "RSI"},
      {"hess_max", "λ_max(∇²f)"},    {"hess_min", "λ_min(∇²f)"},     {"jac_smax", "σ_max(J)"},
      {"jac_smin", "σ_min(J)"},      {"misfit", "misfit ‖r‖/‖r₀‖"}, {"distance", "distance ‖θ-θ₀‖/‖θ₀‖"}};
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (!strcmp(map[i][0], col)) return map[i][1];
  return col;
}

/* The misfit–distance trajectory (Oymak & Soltanolkotabi §5, Fig. 2), with
 * the bounds of Theorem 2.1 / eq. (2.10), α·‖θ−θ₀‖ + ‖r‖ ≤ ‖r₀‖, and of
 * Theorem 2.4, eq. (2.13), ‖r‖ + β·‖θ−θ₀‖ ≥ ‖r₀‖, when `ncopt certify
 * --run DIR` has written α and β to certificate.json. In the plot's
 * normalised units (x = ‖θ−θ₀‖/‖θ₀‖, y = ‖r‖/‖r₀‖) the bounds are the lines
 * y = 1 − (α‖θ₀‖/‖r₀‖)·x and y = 1 − (β‖θ₀‖/‖r₀‖)·x. */
static int plot_misfit_distance(const char *dir, const nco_table *t) {
  double *mis = column(t, "misfit"), *dis = column(t, "distance");
  if (!mis || !dis) return NCO_OK;
  line ls[MAX_COLS + 3];
  size_t k = 0;
  ls[k++] = (line){dis, mis, t->nrow, "whole network"};
  /* per layer, as Oymak & Soltanolkotabi's Fig. 2 */
  for (size_t c = 0; c < t->ncol && k < MAX_COLS; c++)
    if (!strncmp(t->names[c], "distance.", 9)) ls[k++] = (line){t->cols[c], mis, t->nrow, t->names[c] + 9};
  if (k == 1) ls[0].label = "trajectory";
  char path[4200];
  snprintf(path, sizeof path, "%s/certificate.json", dir);
  double alpha = nco_json_number(path, "theorem_2_1.alpha"), beta = nco_json_number(path, "theorem_2_1.beta");
  double r0 = nco_json_number(path, "r0");
  snprintf(path, sizeof path, "%s/summary.json", dir);
  double th0 = nco_json_number(path, "theta0_norm");
  double xmax = 0;
  for (size_t i = 0; i < t->nrow; i++)
    if (isfinite(dis[i]) && isfinite(mis[i])) xmax = fmax(xmax, dis[i]);
  double bx[2][2], by[2][2];
  const double slopes[2] = {alpha * th0 / r0, beta * th0 / r0};
  const char *labels[2] = {"Thm 2.1 (2.10), α: upper", "Thm 2.4 (2.13), β: lower"};
  for (int j = 0; j < 2; j++) {
    double sl = slopes[j];
    if (!(sl > 0) || !isfinite(sl) || !(xmax > 0)) continue;
    double xe = fmin(xmax, 1 / sl); /* where the line reaches misfit 0 */
    bx[j][0] = 0, by[j][0] = 1, bx[j][1] = xe, by[j][1] = 1 - sl * xe;
    ls[k++] = (line){bx[j], by[j], 2, labels[j]};
  }
  snprintf(path, sizeof path, "%s/misfit_distance", dir);
  return figure(path, "misfit vs distance", "distance ‖θ-θ₀‖/‖θ₀‖", "misfit ‖r‖/‖r₀‖", 0, ls, k);
}

int nco_plot_run(const char *dir) {
  char path[4200];
  nco_table t;
  snprintf(path, sizeof path, "%s/trace.csv", dir);
  int st = nco_table_read(path, &t);
  if (st) return st;
  double *it = column(&t, "iter");
  line ls[MAX_COLS];
  size_t k = 0;
  const char *loss_cols[] = {"loss", "loss_unreg", "batch_loss", "full_loss"};
  const char *loss_labels[] = {"loss", "loss (unreg.)", "batch loss", "full-data loss"};
  /* full batch (epoch = iter on every row): the batch loss is the previous
   * row's loss, not worth a curve of its own */
  double *ep = column(&t, "epoch");
  int full = it && ep;
  for (size_t j = 0; full && j < t.nrow; j++) full = ep[j] == it[j];
  /* minibatch runs: loss is the mean step loss between rows, full_loss the
   * full-data loss where it was computed */
  if (column(&t, "full_loss")) loss_labels[0] = "mean minibatch loss";
  for (size_t i = 0; i < 4; i++) {
    double *v = column(&t, loss_cols[i]);
    if (v && !(full && i == 2)) ls[k++] = (line){it, v, t.nrow, loss_labels[i]};
  }
  snprintf(path, sizeof path, "%s/loss", dir);
  if (it && k) st = figure(path, "training loss", "iteration", "loss", 1, ls, k);
  /* every probe column (the per-layer distances and the test metrics have
   * figures of their own) */
  /* probes: the non-negative ones on a log scale (a 0, e.g. a distance at
   * step 0, left out), the signed ones (λ_min, RSI, ...) on a linear one */
  k = 0;
  size_t ks = 0;
  line sg[MAX_COLS];
  for (size_t c = 6; c < t.ncol && k < MAX_COLS && ks < MAX_COLS; c++) {
    const char *nm = t.names[c];
    if (!strncmp(nm, "distance.", 9) || !strncmp(nm, "test_", 5) || !strcmp(nm, "loss_unreg") || !strcmp(nm, "full_loss"))
      continue;
    int neg = 0;
    for (size_t j = 0; j < t.nrow; j++) neg |= t.cols[c][j] < 0;
    if (neg) sg[ks++] = (line){it, t.cols[c], t.nrow, probe_label(nm)};
    else ls[k++] = (line){it, t.cols[c], t.nrow, probe_label(nm)};
  }
  snprintf(path, sizeof path, "%s/probes", dir);
  if (!st && it && k) st = figure(path, "probes", "iteration", "value", 2, ls, k);
  snprintf(path, sizeof path, "%s/probes_signed", dir);
  if (!st && it && ks) st = figure(path, "probes (signed)", "iteration", "value", 0, sg, ks);
  k = 0;
  for (size_t c = 6; c < t.ncol && k < MAX_COLS; c++)
    if (!strncmp(t.names[c], "distance.", 9)) ls[k++] = (line){it, t.cols[c], t.nrow, t.names[c] + 9};
  snprintf(path, sizeof path, "%s/layers", dir);
  if (!st && it && k) st = figure(path, "per-layer distance ‖θ_l-θ_l,0‖/‖θ_l,0‖", "iteration", "distance", 1, ls, k);
  k = 0;
  double *tl = column(&t, "test_loss"), *ta = column(&t, "test_acc");
  if (tl) ls[k++] = (line){it, tl, t.nrow, "test loss (mean)"};
  if (ta) ls[k++] = (line){it, ta, t.nrow, "test accuracy"};
  snprintf(path, sizeof path, "%s/test", dir);
  if (!st && it && k) st = figure(path, "held-out set", "iteration", "value", 0, ls, k);
  if (!st) st = plot_misfit_distance(dir, &t);
  nco_table_free(&t);
  /* the regularity principle's γ_k (Chen, Yang & Zhou, Definition 2) */
  snprintf(path, sizeof path, "%s/regularity.csv", dir);
  if (!st && access(path, R_OK) == 0 && !(st = nco_table_read(path, &t))) {
    double *kk = column(&t, "iter"), *g = column(&t, "gamma");
    if (kk && g) {
      ls[0] = (line){kk, g, t.nrow, "γ_k"};
      snprintf(path, sizeof path, "%s/regularity", dir);
      st = figure(path, "regularity principle: largest γ allowed at step k", "step k", "γ_k", 1, ls, 1);
    }
    nco_table_free(&t);
  }
  return st;
}

int nco_plot_density(const char *out_noext, const double *grid, const double *density, size_t n, const char *title) {
  /* log scale down to 1e-6 of the peak (as PyHessian's plots): lower
   * values are drawn at that floor */
  double *y = malloc((n ? n : 1) * sizeof *y), peak = 0;
  if (!y) return nco_error(NCO_ERR_NOMEM, "plot: out of memory");
  for (size_t i = 0; i < n; i++) peak = fmax(peak, density[i]);
  for (size_t i = 0; i < n; i++) y[i] = fmax(density[i], 1e-6 * peak);
  line l = {grid, y, n, "density"};
  int st = figure(out_noext, title, "eigenvalue", "density", 1, &l, 1);
  free(y);
  return st;
}

int nco_plot_overlay(const char *out_noext, const char *const *dirs, const char *const *labels, size_t n,
                     const char *col, const char *title) {
  nco_table *ts = calloc(n ? n : 1, sizeof *ts);
  line *ls = calloc(n ? n : 1, sizeof *ls);
  int st = NCO_OK;
  size_t k = 0;
  if (!ts || !ls) {
    free(ts), free(ls);
    return nco_error(NCO_ERR_NOMEM, "plot: out of memory");
  }
  for (size_t i = 0; i < n && !st; i++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/trace.csv", dirs[i]);
    if ((st = nco_table_read(path, &ts[i]))) break;
    double *it = column(&ts[i], "iter"), *v = column(&ts[i], col);
    if (it && v) ls[k++] = (line){it, v, ts[i].nrow, labels[i]};
  }
  if (!st && k) st = figure(out_noext, title, "iteration", col, 1, ls, k);
  for (size_t i = 0; i < n; i++) nco_table_free(&ts[i]);
  free(ts), free(ls);
  return st;
}
