/* ncopt/sweep.h — grids of runs from a spec's [sweep] section.
 *
 *   [sweep]
 *   regularizer.lambda = 0.1, 0.01, 0.001     ; a grid over every listed key
 *   zip = true                                ; or: lists zipped, equal lengths
 *
 * Each point is a full spec (the base spec with the point's values
 * set; a blank list entry is the key's default: `optimizer.lr = , 0.01`;
 * commas inside parentheses do not split: `optimizer.betas = (0.9, 0.999),
 * (0.5, 0.9)`), validated before any run starts. A sweep over a *.type key
 * resolves the points with NCO_CONFIG_LENIENT_TYPES: a key applies where
 * it applies (a key that applies to no point is an error), run into DIR/<point name>; an
 * overlay plot of every run's loss goes to DIR/sweep_loss.{png,svg}.
 */
#ifndef NCOPT_SWEEP_H
#define NCOPT_SWEEP_H

#include <stdio.h>

#include "ncopt/run.h"
#include "ncopt/spec.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nco_sweep_point {
  char name[256];      /* folder name, e.g. "type=invex,lambda=0.1" (the section
                          only where two swept keys share a name) */
  char label[256];     /* legend label, e.g. "type=invex lambda=0.1" */
  nco_spec *spec;      /* the point's spec (no [sweep]) */
  nco_config cfg;      /* resolved */
} nco_sweep_point;

/* Expands spec into points (count 1 and the spec itself if it has no
 * [sweep]); every point is resolved, so every error is reported before
 * anything runs. */
int nco_sweep_expand(const nco_spec *spec, nco_sweep_point **points, size_t *count);
void nco_sweep_free(nco_sweep_point *points, size_t count);

/* Runs every point into out_dir/<name> (or out_dir itself when there is a
 * single point and no [sweep]) and draws the overlay. The sweep folder gets
 * points.txt (the points in order) first. Stops at the first error or
 * cancellation; a point with a non-finite loss does not stop the others,
 * the sweep then returns NCO_ERR_NONFINITE naming the diverged points. */
int nco_sweep_run(nco_sweep_point *points, size_t count, int is_sweep, const char *out_dir,
                  const nco_run_hooks *hooks, nco_run_result *last);

/* nco_sweep_run, and at the end (also after a diverged or cancelled
 * point) the sweep table: out_dir/sweep.csv (point, the swept keys,
 * final_loss, test_acc where there is one, seconds, stop) and the same as
 * a text table into table (may be NULL). While a point runs, the hooks'
 * nco_progress has label, point (1-based) and npoints set. */
int nco_sweep_run_table(nco_sweep_point *points, size_t count, int is_sweep, const char *out_dir,
                        const nco_run_hooks *hooks, nco_run_result *last, FILE *table);

/* Rewrites dir/sweep.csv of a sweep folder from its points' summary.json
 * files and prints the text table into fp (may be NULL). */
int nco_sweep_table(const char *dir, FILE *fp);

/* 1 if dir is a sweep folder (has points.txt). */
int nco_sweep_is_folder(const char *dir);

/* Finishes an interrupted sweep: skips finished points, resumes interrupted
 * ones from their checkpoints, runs the rest from the spec.ini in their
 * folders, then redraws the overlay. */
int nco_sweep_resume(const char *dir, const nco_run_hooks *hooks, nco_run_result *last);
/* nco_sweep_resume with the table of nco_sweep_run_table. */
int nco_sweep_resume_table(const char *dir, const nco_run_hooks *hooks, nco_run_result *last, FILE *table);

#ifdef __cplusplus
}
#endif
#endif
