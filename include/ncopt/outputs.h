/* ncopt/outputs.h — reading and drawing what a run wrote: the one CSV
 * reader of ncopt's own tables (trace.csv, regularity.csv, sweep.csv) and
 * the one JSON lookup of its small JSON files (summary.json,
 * certificate.json, params.json), used by the plots, the sweeps and the
 * CLI alike; the plots of a run folder; the run folder's housekeeping.
 *
 * The readers are for files ncopt wrote (a header row, numeric cells, an
 * empty cell for "not recorded"; JSON objects, arrays, strings, numbers,
 * literals) but they are safe on any input: a malformed file is an error,
 * never a crash. */
#ifndef NCOPT_OUTPUTS_H
#define NCOPT_OUTPUTS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A CSV table by columns: names[c] (NUL-terminated), cols[c][r] (NAN for an
 * empty or non-numeric cell). A row cut short by a kill (no final newline)
 * is left out. */
typedef struct nco_table {
  size_t ncol, nrow;
  char **names;
  double **cols;
  size_t cap_;
} nco_table;

/* Reads path into t (zeroed on entry; freed on error). */
int nco_table_read(const char *path, nco_table *t);
/* The column named name, or NULL. */
const double *nco_table_col(const nco_table *t, const char *name);
void nco_table_free(nco_table *t);

/* The value at a dotted key path ("versions.openblas", "params.0.name":
 * a number indexes an array) of the JSON text: strings unquoted (escapes
 * \" \\ \/ \n \t kept simple: \uXXXX is left as written), numbers and
 * literals (true, false, null) as written, objects and arrays as their
 * raw text. NCO_OK, or NCO_ERR_INVALID if the key is absent or the text is
 * not JSON (out[0] = 0 then; no error message is set: an absent key is an
 * answer, and the last error stays what it was). */
int nco_json_get(const char *text, const char *key, char *out, size_t len);
/* The number at key of the JSON file path; NAN if the file, the key or a
 * number there is missing (null included). */
double nco_json_number(const char *path, const char *key);

/* Plots of a finished run folder from its trace.csv: loss.png/.svg (log
 * scale), probes, misfit_distance (with Oymak & Soltanolkotabi's bounds
 * when certificate.json holds α and β), layers, test, regularity. */
int nco_plot_run(const char *dir);
/* A spectral density (grid, density) as out_noext.{png,svg}. */
int nco_plot_density(const char *out_noext, const double *grid, const double *density, size_t n, const char *title);
/* Column col of several runs' traces overlaid (log scale). */
int nco_plot_overlay(const char *out_noext, const char *const *dirs, const char *const *labels, size_t n,
                     const char *col, const char *title);

/* mkdir -p. */
int nco_mkdirs(const char *dir);
/* An exclusive advisory lock (flock) on dir/.ncopt.lock: NCO_ERR_STATE
 * with a clear message when another process holds it; *fd for
 * nco_dir_unlock. The lock goes with the process (a killed run leaves no
 * stale lock). */
int nco_dir_lock(const char *dir, int *fd);
void nco_dir_unlock(int fd);
/* 1 if dir holds an earlier run's or sweep's outputs (what a new run
 * there would replace); *what (may be NULL) names the first one found. */
int nco_run_dir_has_outputs(const char *dir, const char **what);

#ifdef __cplusplus
}
#endif
#endif
