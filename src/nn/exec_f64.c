/* The network passes in double (run.inc compiled with REAL = double). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "nn/internal.h"

#define REAL double
#define SFX f64
#define GEMM cblas_dgemm
#define IS_F64 1
#include "nn/run.inc"
