/* src/run/run_internal.h — shared by the run loop, the plots and the
 * sweeps (the CLI uses only the public headers: outputs.h, run.h, ...). */
#ifndef NCO_RUN_INTERNAL_H
#define NCO_RUN_INTERNAL_H

#include "ncopt/config.h"
#include "ncopt/outputs.h"

/* The mode of a new output file: 0666 less the user's umask. */
unsigned nco_output_mode(void);
/* dir/name ← text, atomically. */
int nco_write_file_atomic_in(const char *dir, const char *name, const char *text);
/* Writes the resolved spec of cfg to dir/spec.ini. */
int nco_run_write_spec(const nco_config *cfg, const char *dir);
/* Removes the files an earlier run or sweep left in dir (before a new
 * one writes there): checkpoints, trace, summary, parameters, plots,
 * points.txt, temporary files. */
void nco_run_remove_outputs(const char *dir);
/* Removes "NAME.tmp.XXXXXX" files left in dir by a killed process. */
void nco_run_clean_tmp(const char *dir);
/* openblas_get_config() or "unknown". */
const char *nco_openblas_config(void);

#endif
