/* src/nn/twice.h — includes the template NN_TEMPLATE twice, for float and
 * for double: the kernels are written once (nn.h, "Precision"). In the
 * template, REAL is the type, FN(name) the suffixed name (name_f32,
 * name_f64), GEMM the BLAS product, IS_F64 0 or 1. An op file reads
 *     #ifndef REAL
 *     ... headers ...
 *     #define NN_TEMPLATE "nn/op_x.c"
 *     #include "nn/twice.h"
 *     ... the vtable, naming FN-suffixed passes ...
 *     #else
 *     ... the template ...
 *     #endif
 * No include guard: each op file includes it once. */
#include <cblas.h>

#define NN_CAT_(a, b) a##_##b
#define NN_CAT(a, b) NN_CAT_(a, b)
#define FN(name) NN_CAT(name, SFX)

#define REAL float
#define SFX f32
#define GEMM cblas_sgemm
#define IS_F64 0
#include NN_TEMPLATE
#undef REAL
#undef SFX
#undef GEMM
#undef IS_F64

#define REAL double
#define SFX f64
#define GEMM cblas_dgemm
#define IS_F64 1
#include NN_TEMPLATE
#undef REAL
#undef SFX
#undef GEMM
#undef IS_F64

/* Both instances of a pass, for the vtables: {name_f32, name_f64}. */
#define NN_BOTH(name) {name##_f32, name##_f64}
