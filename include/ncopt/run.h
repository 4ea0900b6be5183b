/* ncopt/run.h — the run loop: the only part of the library that knows about
 * time, files and progress.
 *
 * nco_run_train() takes a resolved config and an output folder and runs
 * the experiment: draws minibatches (seeded; reshuffle, replacement or
 * cyclic), sets the scheduled step size, steps the optimiser, records the
 * probes that are due, writes trace.csv, checkpoints atomically and stops
 * on the spec's rules. nco_run_resume() continues from the last good
 * checkpoint and produces bit-for-bit the same trace (timing column aside)
 * and parameters as an uninterrupted run at the same thread count.
 *
 * Cost: for full-batch first-order methods that evaluate at their iterate
 * (sgd, adam, ... with batch = 0), the step's own evaluation is the
 * full-batch loss and gradient that a row and the stopping rules need, so
 * a run costs one evaluation per step whatever log_every is. Other
 * methods pay one more full-batch evaluation per logged row.
 *
 * Errors found while building a run (before anything is written) that
 * concern the spec's values — a batch larger than the data, an init of the
 * wrong size — read "FILE:LINE: section.key: ..." and set
 * nco_run_result.spec_error.
 *
 * Files in the output folder (all written atomically):
 *   spec.ini       the resolved spec
 *   trace.csv      iter,epoch,seconds,loss,lr,batch_loss,<probes...>: one row
 *                  every log_every steps (and every K steps for a probe
 *                  `name = K`), at step 0 and at the last step; loss is the
 *                  full-batch loss at the row's point, batch_loss the loss
 *                  the previous step evaluated
 *   summary.json   versions, stop reason and message, iterations, epochs,
 *                  train_seconds (the loop's time: data loading excluded),
 *                  final loss / non-regularised loss / gradient norm, best
 *                  loss and its step, path length, distance from the start,
 *                  evaluation counts
 *   params.npy     final parameters (x part for the invex lifting)
 *   params.json    what each slice of params.npy is (networks: PyTorch names, shapes)
 *   aux.npy        the invex lifting's p
 *   checkpoint.bin (and checkpoint.prev.bin) for resume: magic, version,
 *                  CRC-32; the new one is complete on disk before the
 *                  previous one becomes checkpoint.prev.bin
 *   regularity.csv γ_k of the regularity probe (Chen, Yang & Zhou), from a
 *                  replay of the finished run
 *   loss.png/.svg, probes.png/.svg   plots (PLplot, cairo); also
 *                  misfit_distance, layers (per-layer distances), test
 *                  (test_loss, test_acc) and regularity when recorded
 */
#ifndef NCOPT_RUN_H
#define NCOPT_RUN_H

#include <stdint.h>

#include "ncopt/config.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nco_progress {
  uint64_t iter, total;      /* steps done, steps planned */
  uint64_t epoch;
  double loss;               /* the current loss: the mean minibatch loss of the steps since
                                the last trace row (minibatch runs), else the latest
                                full-batch loss; NAN before the first step */
  double seconds;            /* training time so far */
  int done;                  /* 1 for the last call, after the outputs are written */
  int replay;                /* 1 during the regularity probe's replay of the finished run
                                (iter counts the replayed steps) */
  const char *label;         /* the sweep point being run ("optimizer.lr=0.1"), or NULL */
  size_t point, npoints;     /* a sweep's point (1-based) and count; 0, 0 outside a sweep */
} nco_progress;

typedef struct nco_run_hooks {
  /* Called before every step (and once more with done = 1 at the end);
   * return non-zero to stop cleanly: the checkpoint and outputs are
   * written and the run returns NCO_CANCELLED. */
  int (*progress)(void *ctx, const nco_progress *p);
  void *ctx;
} nco_run_hooks;

typedef struct nco_run_result {
  int stop;                  /* NCO_MAX_ITER, NCO_TARGET_REACHED, NCO_CONVERGED, NCO_TIME_LIMIT, NCO_CANCELLED, or an error */
  uint64_t iterations;
  double final_loss, best_loss, train_seconds;
  char message[768];         /* why it stopped, in words */
  int spec_error;            /* the error is in the spec's values (found while building the run) */
  char notice[1024];         /* something the user should know (resume fell back to the previous checkpoint) */
} nco_run_result;

/* Runs cfg into out_dir (created if missing). The status is the stop
 * reason (positive) or an error; res (may be NULL) is filled either way.
 * A non-finite loss or gradient ends the run with NCO_ERR_NONFINITE and a
 * message naming the step; the last good checkpoint is kept. */
int nco_run_train(const nco_config *cfg, const char *out_dir, const nco_run_hooks *hooks,
                  nco_run_result *res);

/* Builds the run cfg describes (data, problem, optimiser, init) without
 * running it or writing anything: finds the errors nco_run_train would find
 * before its first step. res->spec_error tells errors in the spec's values. */
int nco_run_check(const nco_config *cfg, nco_run_result *res);

/* Continues the run in dir from its last good checkpoint (falling back to
 * the previous one if the last is truncated or corrupted). */
int nco_run_resume(const char *dir, const nco_run_hooks *hooks, nco_run_result *res);

/* The same, with `section.key=value` overrides of the run's length,
 * stopping rules, logging and checkpoints (run.iterations, run.epochs,
 * run.max_seconds, run.target_loss, run.grad_tol, run.log_every,
 * run.full_loss_every, run.checkpoint_every, run.checkpoint_seconds; any
 * other key is refused): `--set run.epochs=20` extends a finished run. A
 * schedule whose horizon is the run's length then follows the new length
 * from the current step on. */
int nco_run_resume_with(const char *dir, const char *const *sets, size_t nsets, const nco_run_hooks *hooks,
                        nco_run_result *res);

/* Writes `len` bytes to path atomically: temporary file in the same folder,
 * fsync, rename. */
int nco_write_file_atomic(const char *path, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
