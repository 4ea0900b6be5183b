/* The network passes in float (run.inc compiled with REAL = float). */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "ncopt/rng.h"
#include "ncopt/status.h"
#include "nn/internal.h"

#define REAL float
#define SFX f32
#define GEMM cblas_sgemm
#define IS_F64 0
#include "nn/run.inc"
