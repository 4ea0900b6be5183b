/* ncopt/ncopt.h — the whole public API of ncopt in one include.
 *
 * ncopt is a C library for non-convex optimisation in machine learning:
 * objectives with residual/JVP/VJP/Hessian-vector interfaces (problem.h),
 * regularising wrappers (reg.h), derivative checks (check.h), explicit
 * random-number states (rng.h), float32 vectors with double accumulation
 * (vec.h), n-dimensional arrays (array.h) and .npy files (npy.h), the
 * problem zoo (problems.h), optimisers (optim.h), data sets (data.h),
 * Lanczos spectra (spectra.h), landscape diagnostics (diag.h), neural
 * networks (nn.h), and experiments: INI specs (spec.h), validated configs
 * (config.h), the run loop and its output folder (run.h) and sweeps
 * (sweep.h), reading and plotting what a run wrote (outputs.h), and how
 * its threads wait on a shared machine (threads.h).
 * version.h (generated) gives NCO_VERSION_STRING. Every call
 * returns a status (status.h).
 */
#ifndef NCOPT_NCOPT_H
#define NCOPT_NCOPT_H

#include "ncopt/status.h"
#include "ncopt/version.h"
#include "ncopt/rng.h"
#include "ncopt/vec.h"
#include "ncopt/array.h"
#include "ncopt/npy.h"
#include "ncopt/problem.h"
#include "ncopt/check.h"
#include "ncopt/problems.h"
#include "ncopt/reg.h"
#include "ncopt/optim.h"
#include "ncopt/data.h"
#include "ncopt/spectra.h"
#include "ncopt/diag.h"
#include "ncopt/nn.h"
#include "ncopt/spec.h"
#include "ncopt/config.h"
#include "ncopt/run.h"
#include "ncopt/sweep.h"
#include "ncopt/threads.h"
#include "ncopt/outputs.h"

#endif
