/* src/run/run_internal.h — shared by the run loop, plots and the CLI. */
#ifndef NCO_RUN_INTERNAL_H
#define NCO_RUN_INTERNAL_H

/* The mode of a new output file: 0666 less the user's umask. */
unsigned nco_output_mode(void);
/* dir/name ← text, atomically. */
int nco_write_file_atomic_in(const char *dir, const char *name, const char *text);
/* An exclusive advisory lock (flock) on dir/.ncopt.lock: NCO_ERR_STATE
 * with a clear message when another process holds it. The lock goes with
 * the process (a killed run leaves no stale lock). */
int nco_dir_lock(const char *dir, int *fd);
void nco_dir_unlock(int fd);
/* 1 if dir holds an earlier run's or sweep's outputs (what train would
 * replace); *what names the first one found. */
int nco_run_dir_has_outputs(const char *dir, const char **what);
/* mkdir -p */
int nco_mkdirs(const char *dir);
/* Writes the resolved spec of cfg to dir/spec.ini. */
#include "ncopt/config.h"
int nco_run_write_spec(const nco_config *cfg, const char *dir);
/* Removes the files an earlier run or sweep left in dir (before a new
 * one writes there): checkpoints, trace, summary, parameters, plots,
 * points.txt, temporary files. */
void nco_run_remove_outputs(const char *dir);
/* Removes "NAME.tmp.XXXXXX" files left in dir by a killed process. */
void nco_run_clean_tmp(const char *dir);
/* Draws the plots of a finished run folder from its trace.csv:
 * loss.png/.svg (log scale), probes.png/.svg, and when recorded
 * misfit_distance (with Oymak & Soltanolkotabi's bounds when
 * certificate.json holds α and β), layers, test, regularity. */
int nco_plot_run(const char *dir);
/* A spectral density (grid, density) as out_noext.{png,svg}. */
#include <stddef.h>
int nco_plot_density(const char *out_noext, const double *grid, const double *density, size_t n, const char *title);
/* openblas_get_config() or "unknown". */
const char *nco_openblas_config(void);

/* Overlays column `col` of several runs' traces (log scale). */
#include <stddef.h>
int nco_plot_overlay(const char *out_noext, const char *const *dirs, const char *const *labels, size_t n,
                     const char *col, const char *title);

#endif
